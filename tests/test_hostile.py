"""nnlib under hostile input: every public name, fed what an attacker or a tired student
would feed it.

The contract (``DESIGN.md``): bad input gets a ``ValueError`` or ``TypeError`` (a
``RuntimeError`` for calls out of order) whose message names the argument; never a
crash deep inside numpy, never a silent wrong answer. The table below holds one line
per case: what is called, the exception type expected, and the name its message must
contain. Then the cases that need more than one line (divergence reported with its
epoch and batch, in-place edits caught, no stale state after a refusal, ``x`` restored
when ``f`` raises), the policy for non-finite values and empty batches, numpy scalars
accepted where numbers are, and three properties checked by hypothesis: any finite
logits give a finite loss and gradient, float32 in gives float32 out, and a save/load
round trip is exact to the bit.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nnlib
from nnlib import (
    SGD,
    BCELoss,
    BCEWithLogitsLoss,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropyLoss,
    Tanh,
    accuracy,
    fit,
    gradcheck,
    gradient_errors,
    load,
    log_softmax,
    numerical_gradient,
    relative_error,
    relu,
    save,
    sigmoid,
    softmax,
)
from nnlib.io import ARCHITECTURE_KEY

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
FEW = settings(max_examples=12, deadline=None, derandomize=True, database=None)


def rng(seed=0):
    return np.random.default_rng(seed)


def net(dtype=np.float64):
    """A 2-3-1 ReLU network with non-zero biases."""
    r = rng()
    model = Sequential(Linear(2, 3, rng=r, dtype=dtype), ReLU(), Linear(3, 1, rng=r, dtype=dtype))
    for layer in (model[0], model[2]):
        layer.b[...] = r.standard_normal(layer.b.shape)
    return model


X6 = np.linspace(-1, 1, 12).reshape(6, 2)  # (6, 2)
Y6 = X6[:, :1] * 2 + 1  # (6, 1)


def fit_call(**changes):
    """fit(...) on a small regression, with some arguments replaced."""
    model = changes.pop("model", None) or net()
    args = {
        "model": model,
        "loss": MSELoss(),
        "optimizer": SGD(model.parameters(), lr=0.1),
        "X": X6,
        "y": Y6,
        "epochs": 1,
        "batch_size": 2,
        "rng": rng(),
    }
    args.update(changes)
    return lambda tmp: fit(
        args.pop("model"), args.pop("loss"), args.pop("optimizer"), args.pop("X"),
        args.pop("y"), **args,
    )


def ce_fit(y):
    model = Sequential(Linear(2, 3, rng=rng()))
    return fit_call(model=model, loss=SoftmaxCrossEntropyLoss(),
                    optimizer=SGD(model.parameters(), lr=0.1), y=y)


def pairs():
    """Two parameter pairs of a Linear(2, 3)."""
    layer = Linear(2, 3, rng=rng())
    return layer.W, layer.dW, layer.b, layer.db


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def after_forward(module, X, then):
    """Run ``module.forward(X)`` and return ``then(module)``'s call."""
    module.forward(X)
    return then(module)


def loss_after(loss, pred, target):
    loss.forward(pred, target)
    return loss


# --- hostile files ------------------------------------------------------------------


def model_arrays(model=None):
    """What save writes for ``model``, as a dict to tamper with."""
    model = model or net()
    arrays = {}
    description = {"format": "nnlib.Sequential", "version": 1, "modules": []}
    for i, module in enumerate(model):
        if isinstance(module, Linear):
            arrays[f"layer{i}.W"], arrays[f"layer{i}.b"] = module.W, module.b
            description["modules"].append(
                {"type": "Linear", "n_in": module.n_in, "n_out": module.n_out,
                 "dtype": module.dtype.name})
        else:
            description["modules"].append({"type": type(module).__name__})
    return arrays, description


def npz(tmp, arrays, description, **kwargs):
    path = tmp / "hostile.npz"
    with open(path, "wb") as file:
        saver = np.savez_compressed if kwargs.get("compressed") else np.savez
        saver(file, **arrays, **{ARCHITECTURE_KEY: np.array(json.dumps(description))})
    return path


def tampered_file(change):
    """A call loading a saved 2-3-1 model after ``change(arrays, description)``."""

    def call(tmp):
        arrays, description = model_arrays()
        arrays = {k: v.copy() for k, v in arrays.items()}
        change(arrays, description)
        return load(npz(tmp, arrays, description))

    return call


def raw_member_file(name, content):
    """A call loading a model file with one more zip member written by hand."""

    def call(tmp):
        path = npz(tmp, *model_arrays())
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(name, content)
        return load(path)

    return call


def huge_header_file(tmp):
    """A member whose header claims 10¹² float64 (8 TB) in a file of a few hundred bytes."""
    path = npz(tmp, *model_arrays())
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    buffer = np.lib.format.magic(1, 0) + b""
    text = repr(header).encode("latin1")
    text += b" " * (63 - (len(buffer) + 2 + len(text)) % 64) + b"\n"
    content = buffer + len(text).to_bytes(2, "little") + text + b"\0" * 64
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("layer9.W.npy", content)
    return load(path)


def duplicate_member_file(tmp):
    path = npz(tmp, *model_arrays())
    with zipfile.ZipFile(path) as archive:
        again = archive.read("layer0.W.npy")
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("layer0.W.npy", again)
    return load(path)


class BytesPath:
    """A PathLike whose path is bytes: open() would take it, nnlib does not."""

    def __fspath__(self):
        return b"model.npz"


def encrypted(path):
    """Set the 'encrypted' flag of every member in the zip's central directory."""
    data = bytearray(path.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        data[start + 8] |= 0x1  # general purpose flag bits, bit 0: encrypted
        start += 4
    path.write_bytes(bytes(data))
    return path


def npy_bytes(array, version):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def set_linear(i, **fields):
    def change(arrays, description):
        description["modules"][i].update(fields)

    return change


def nan_weights(arrays, description):
    arrays["layer0.W"][0, 0] = np.nan


def mixed_dtypes(arrays, description):
    arrays["layer2.W"] = arrays["layer2.W"].astype(np.float32)
    arrays["layer2.b"] = arrays["layer2.b"].astype(np.float32)
    description["modules"][2]["dtype"] = "float32"


def widths_that_do_not_chain(arrays, description):
    arrays["layer2.W"] = np.ones((4, 1))
    description["modules"][2]["n_in"] = 4


def int_weights(arrays, description):
    arrays["layer2.b"] = np.zeros(1, dtype=np.int64)


def true_version(arrays, description):
    description["version"] = True  # == 1 in Python, but not the integer 1


def saved_model_with(change):
    def call(tmp):
        model = net()
        change(model)
        return save(model, tmp / "out.npz")

    return call


# --- the table ------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    call: Callable
    error: type
    names: str  # what the message must name (the argument), as literal text


F = np.ones((2, 3))
LABELS = np.array([0, 2])
CASES = [
    # activation functions
    Case("sigmoid-list", lambda t: sigmoid([1.0]), TypeError, "z"),
    Case("sigmoid-int-array", lambda t: sigmoid(np.array([1, 2])), TypeError, "z"),
    Case("sigmoid-float16", lambda t: sigmoid(np.ones(2, np.float16)), TypeError, "z"),
    Case("sigmoid-complex", lambda t: sigmoid(np.ones(2, complex)), TypeError, "z"),
    Case("sigmoid-nan", lambda t: sigmoid(np.array([0.0, np.nan])), ValueError, "z"),
    Case("sigmoid-inf-number", lambda t: sigmoid(float("inf")), ValueError, "z"),
    Case("sigmoid-bool", lambda t: sigmoid(True), TypeError, "z"),
    Case("sigmoid-str", lambda t: sigmoid("1.0"), TypeError, "z"),
    Case("sigmoid-float16-scalar", lambda t: sigmoid(np.float16(1)), TypeError, "z"),
    Case("relu-nan", lambda t: relu(float("nan")), ValueError, "z"),
    Case("relu-minus-inf", lambda t: relu(np.array([-np.inf])), ValueError, "z"),
    Case("relu-none", lambda t: relu(None), TypeError, "z"),
    Case("relu-huge-int", lambda t: relu(10**400), ValueError, "z"),
    Case("softmax-axis-2", lambda t: softmax(F, axis=2), ValueError, "axis"),
    Case("softmax-axis-float", lambda t: softmax(F, axis=1.0), TypeError, "axis"),
    Case("softmax-axis-bool", lambda t: softmax(F, axis=True), TypeError, "axis"),
    Case("softmax-row-with-inf", lambda t: softmax(np.array([[0.0, np.inf]])), ValueError, "z"),
    Case("softmax-no-classes", lambda t: softmax(np.ones((2, 0))), ValueError, "z"),
    Case("softmax-scalar", lambda t: softmax(1.0), ValueError, "z"),
    Case("softmax-float16", lambda t: softmax(np.ones((2, 2), np.float16)), TypeError, "z"),
    Case("log-softmax-axis-minus-3", lambda t: log_softmax(F, axis=-3), ValueError, "axis"),
    Case("log-softmax-nan", lambda t: log_softmax(np.array([[np.nan, 0]])), ValueError, "z"),
    Case("log-softmax-list", lambda t: log_softmax([[0.0, 1.0]]), TypeError, "z"),
    # activation modules
    Case("Sigmoid-list", lambda t: Sigmoid().forward([[1.0]]), TypeError, "Z"),
    Case("ReLU-int", lambda t: ReLU().forward(np.ones((2, 2), int)), TypeError, "Z"),
    Case("Tanh-none", lambda t: Tanh().forward(None), TypeError, "Z"),
    Case("Softmax-1d", lambda t: Softmax().forward(np.ones(3)), ValueError, "Z"),
    Case("Softmax-no-columns", lambda t: Softmax().forward(np.ones((2, 0))), ValueError, "Z"),
    Case("Sigmoid-backward-first", lambda t: Sigmoid().backward(F), RuntimeError, "forward"),
    Case("ReLU-backward-shape",
         lambda t: after_forward(ReLU(), F, lambda m: m.backward(np.ones((3, 2)))),
         ValueError, "dA"),
    Case("ReLU-backward-dtype",
         lambda t: after_forward(ReLU(), F, lambda m: m.backward(F.astype(np.float32))),
         TypeError, "dA"),
    Case("Tanh-backward-list",
         lambda t: after_forward(Tanh(), F, lambda m: m.backward([[1.0] * 3] * 2)),
         TypeError, "dA"),
    Case("Softmax-backward-shape",
         lambda t: after_forward(Softmax(), F, lambda m: m.backward(np.ones((2, 2)))),
         ValueError, "dP"),
    Case("Softmax-backward-dtype",
         lambda t: after_forward(Softmax(), F, lambda m: m.backward(F.astype(np.float32))),
         TypeError, "dP"),
    # Linear
    Case("Linear-zero-inputs", lambda t: Linear(0, 2, rng=rng()), ValueError, "n_in"),
    Case("Linear-negative-outputs", lambda t: Linear(2, -1, rng=rng()), ValueError, "n_out"),
    Case("Linear-float-width", lambda t: Linear(2.0, 2, rng=rng()), ValueError, "n_in"),
    Case("Linear-bool-width", lambda t: Linear(True, 2, rng=rng()), ValueError, "n_in"),
    Case("Linear-rng-int", lambda t: Linear(2, 2, rng=42), TypeError, "rng"),
    Case("Linear-rng-legacy",
         lambda t: Linear(2, 2, rng=np.random.RandomState(0)), TypeError, "rng"),
    Case("Linear-dtype-garbage",
         lambda t: Linear(2, 2, rng=rng(), dtype="garbage"), TypeError, "dtype"),
    Case("Linear-dtype-int", lambda t: Linear(2, 2, rng=rng(), dtype=np.int32), TypeError, "dtype"),
    Case("Linear-dtype-float16",
         lambda t: Linear(2, 2, rng=rng(), dtype=np.float16), TypeError, "dtype"),
    Case("Linear-dtype-number", lambda t: Linear(2, 2, rng=rng(), dtype=3.5), TypeError, "dtype"),
    Case("Linear-init-unknown",
         lambda t: Linear(2, 2, rng=rng(), init="kaiming"), ValueError, "init"),
    Case("Linear-init-none", lambda t: Linear(2, 2, rng=rng(), init=None), ValueError, "init"),
    Case("Linear-forward-list", lambda t: Linear(2, 2, rng=rng()).forward([[1.0, 2.0]]),
         TypeError, "X"),
    Case("Linear-forward-1d", lambda t: Linear(2, 2, rng=rng()).forward(np.ones(2)),
         ValueError, "X"),
    Case("Linear-forward-width", lambda t: Linear(2, 2, rng=rng()).forward(F), ValueError, "X"),
    Case("Linear-forward-float32",
         lambda t: Linear(3, 2, rng=rng()).forward(F.astype(np.float32)), TypeError, "X"),
    Case("Linear-backward-first", lambda t: Linear(3, 2, rng=rng()).backward(np.ones((2, 2))),
         RuntimeError, "forward"),
    Case("Linear-backward-shape",
         lambda t: after_forward(Linear(3, 2, rng=rng()), F, lambda m: m.backward(F)),
         ValueError, "dZ"),
    Case("Linear-backward-float32",
         lambda t: after_forward(Linear(3, 2, rng=rng()), F,
                                 lambda m: m.backward(np.ones((2, 2), np.float32))),
         TypeError, "dZ"),
    Case("Linear-backward-input-grad-str",
         lambda t: after_forward(Linear(3, 2, rng=rng()), F,
                                 lambda m: m.backward(np.ones((2, 2)), input_grad="no")),
         TypeError, "input_grad"),
    # Sequential
    Case("Sequential-empty", lambda t: Sequential(), ValueError, "module"),
    Case("Sequential-class", lambda t: Sequential(Linear, ReLU()), TypeError, "modules[0]"),
    Case("Sequential-list", lambda t: Sequential([ReLU(), ReLU()]), TypeError, "modules[0]"),
    Case("Sequential-str", lambda t: Sequential(ReLU(), "relu"), TypeError, "modules[1]"),
    Case("Sequential-reused", lambda t: (lambda r: Sequential(r, r))(ReLU()), ValueError,
         "modules[1]"),
    Case("Sequential-widths",
         lambda t: Sequential(Linear(2, 3, rng=rng()), ReLU(), Linear(4, 1, rng=rng())),
         ValueError, "modules[2] Linear(4, 1"),
    Case("Sequential-dtypes",
         lambda t: Sequential(Linear(2, 3, rng=rng()), Linear(3, 1, rng=rng(), dtype="float32")),
         TypeError, "modules[1] Linear(3, 1, dtype=float32)"),
    Case("Sequential-nested-widths",
         lambda t: Sequential(Linear(2, 3, rng=rng()), Sequential(Tanh(), Linear(2, 1, rng=rng()))),
         ValueError, "modules[1] Sequential"),
    Case("Sequential-forward-width", lambda t: net().forward(F), ValueError,
         "modules[0] Linear(2, 3, dtype=float64): X"),
    Case("Sequential-forward-float32", lambda t: net().forward(X6.astype(np.float32)),
         TypeError, "modules[0] Linear(2, 3, dtype=float64): X"),
    Case("Sequential-backward-first", lambda t: net().backward(np.ones((6, 1))), RuntimeError,
         "modules[2]"),
    Case("Sequential-first-backward-first",
         lambda t: Sequential(Linear(2, 1, rng=rng())).backward(np.ones((1, 1))), RuntimeError,
         "modules[0]"),
    Case("Sequential-backward-shape",
         lambda t: after_forward(net(), X6, lambda m: m.backward(np.ones((6, 2)))),
         ValueError, "modules[2] Linear(3, 1, dtype=float64): dZ"),
    Case("Sequential-backward-input-grad",
         lambda t: after_forward(net(), X6, lambda m: m.backward(Y6, input_grad=1)),
         TypeError, "input_grad"),
    Case("predict-nan", lambda t: net().predict(np.array([[0.0, np.nan]])), ValueError, "X"),
    Case("predict-list", lambda t: net().predict([[0.0, 1.0]]), TypeError, "X"),
    # losses
    Case("MSE-pred-list", lambda t: MSELoss()([[1.0]], np.ones((1, 1))), TypeError, "pred"),
    Case("MSE-pred-1d", lambda t: MSELoss()(np.ones(3), np.ones(3)), ValueError, "pred"),
    Case("MSE-pred-nan", lambda t: MSELoss()(np.array([[np.nan]]), np.ones((1, 1))),
         ValueError, "pred"),
    Case("MSE-target-flat", lambda t: MSELoss()(np.ones((3, 1)), np.ones(3)), ValueError,
         "target"),
    Case("MSE-target-float32", lambda t: MSELoss()(F, F.astype(np.float32)), TypeError, "target"),
    Case("MSE-target-inf", lambda t: MSELoss()(np.ones((1, 1)), np.array([[np.inf]])),
         ValueError, "target"),
    Case("MSE-empty-batch", lambda t: MSELoss()(np.ones((0, 1)), np.ones((0, 1))), ValueError,
         "pred"),
    Case("MSE-no-columns", lambda t: MSELoss()(np.ones((3, 0)), np.ones((3, 0))), ValueError,
         "pred"),
    Case("MSE-overflow", lambda t: MSELoss()(np.full((1, 1), 1e200), np.zeros((1, 1))),
         ValueError, "pred"),
    Case("MSE-backward-first", lambda t: MSELoss().backward(), RuntimeError, "forward"),
    Case("BCE-pred-above-one", lambda t: BCELoss()(np.array([[1.5]]), np.ones((1, 1))),
         ValueError, "pred"),
    Case("BCE-target-two", lambda t: BCELoss()(np.array([[0.5]]), np.array([[2.0]])),
         ValueError, "target"),
    Case("BCE-int-target-two", lambda t: BCELoss()(np.array([[0.5]]), np.array([[2]])),
         ValueError, "target"),
    Case("BCE-bool-target-shape", lambda t: BCELoss()(np.full((2, 1), 0.5), np.ones(2, bool)),
         ValueError, "target"),
    Case("BCE-empty-batch", lambda t: BCELoss()(np.ones((0, 1)), np.ones((0, 1))), ValueError,
         "pred"),
    Case("BCE-backward-first", lambda t: BCELoss().backward(), RuntimeError, "forward"),
    Case("BCEWithLogits-target-nan",
         lambda t: BCEWithLogitsLoss()(np.zeros((1, 1)), np.array([[np.nan]])), ValueError,
         "target"),
    Case("BCEWithLogits-target-list", lambda t: BCEWithLogitsLoss()(np.zeros((1, 1)), [[1.0]]),
         TypeError, "target"),
    Case("BCEWithLogits-pred-int",
         lambda t: BCEWithLogitsLoss()(np.zeros((1, 1), int), np.zeros((1, 1))), TypeError,
         "pred"),
    Case("CE-label-too-big", lambda t: SoftmaxCrossEntropyLoss()(F, np.array([0, 3])),
         ValueError, "target"),
    Case("CE-label-negative", lambda t: SoftmaxCrossEntropyLoss()(F, np.array([-1, 0])),
         ValueError, "target"),
    Case("CE-labels-shape", lambda t: SoftmaxCrossEntropyLoss()(F, np.array([[0], [1]])),
         ValueError, "target"),
    Case("CE-float-labels", lambda t: SoftmaxCrossEntropyLoss()(F, np.array([0.0, 1.0])),
         TypeError, "target"),
    Case("CE-object-labels",
         lambda t: SoftmaxCrossEntropyLoss()(F, np.array([0, 1], dtype=object)), TypeError,
         "target"),
    Case("CE-rows-sum-two", lambda t: SoftmaxCrossEntropyLoss()(F, 2 * np.eye(3)[LABELS]),
         ValueError, "target"),
    Case("CE-negative-rows",
         lambda t: SoftmaxCrossEntropyLoss()(F, np.array([[2.0, -1.0, 0], [1, 0, 0]])),
         ValueError, "target"),
    Case("CE-no-classes",
         lambda t: SoftmaxCrossEntropyLoss()(np.ones((2, 0)), np.zeros(2, int)), ValueError,
         "pred"),
    Case("CE-empty-batch",
         lambda t: SoftmaxCrossEntropyLoss()(np.ones((0, 3)), np.zeros(0, int)), ValueError,
         "pred"),
    Case("CE-overflowing-range",
         lambda t: SoftmaxCrossEntropyLoss()(np.array([[-1.7e308, 1.7e308]]), np.array([0])),
         ValueError, "pred"),
    Case("CE-backward-first", lambda t: SoftmaxCrossEntropyLoss().backward(), RuntimeError,
         "forward"),
    # SGD
    Case("SGD-model", lambda t: SGD(net(), lr=0.1), TypeError, "parameters()"),
    Case("SGD-array", lambda t: SGD(np.ones(3), lr=0.1), TypeError, "params"),
    Case("SGD-dict", lambda t: SGD({"W": np.ones(2)}, lr=0.1), TypeError, "params"),
    Case("SGD-int", lambda t: SGD(5, lr=0.1), TypeError, "params"),
    Case("SGD-empty", lambda t: SGD([], lr=0.1), ValueError, "params"),
    Case("SGD-used-generator",
         lambda t: (lambda g: (list(g), SGD(g, lr=0.1)))(net().parameters()), ValueError,
         "params"),
    Case("SGD-one-array", lambda t: SGD([(np.ones(2),)], lr=0.1), TypeError, "params[0]"),
    Case("SGD-list-pair", lambda t: SGD([[np.ones(2), np.ones(2)]], lr=0.1), TypeError,
         "params[0]"),
    Case("SGD-str-grad", lambda t: SGD([(np.ones(2), "g")], lr=0.1), TypeError, "params[0]"),
    Case("SGD-shapes", lambda t: SGD([(np.ones(2), np.ones(3))], lr=0.1), ValueError,
         "params[0]"),
    Case("SGD-dtypes", lambda t: SGD([(np.ones(2), np.ones(2, np.float32))], lr=0.1), TypeError,
         "params[0]"),
    Case("SGD-int-param", lambda t: SGD([(np.ones(2, int), np.ones(2, int))], lr=0.1),
         TypeError, "params[0]"),
    Case("SGD-read-only", lambda t: SGD([(read_only(np.ones(2)), np.ones(2))], lr=0.1),
         ValueError, "params[0]"),
    Case("SGD-duplicate",
         lambda t: (lambda W, dW, b, db: SGD([(W, dW), (W, dW)], lr=0.1))(*pairs()),
         ValueError, "params[1]"),
    Case("SGD-view-of-a-param",
         lambda t: (lambda W, dW, b, db: SGD([(W, dW), (W[0], db[:2])], lr=0.1))(*pairs()),
         ValueError, "params[1]"),
    Case("SGD-grad-is-param", lambda t: (lambda W: SGD([(W, W)], lr=0.1))(np.ones(2)),
         ValueError, "params[0]"),
    Case("SGD-lr-str", lambda t: SGD(net().parameters(), lr="0.1"), TypeError, "lr"),
    Case("SGD-lr-zero", lambda t: SGD(net().parameters(), lr=0), ValueError, "lr"),
    Case("SGD-lr-nan", lambda t: SGD(net().parameters(), lr=float("nan")), ValueError, "lr"),
    Case("SGD-lr-negative", lambda t: SGD(net().parameters(), lr=-1.0), ValueError, "lr"),
    Case("SGD-lr-bool", lambda t: SGD(net().parameters(), lr=True), TypeError, "lr"),
    Case("SGD-lr-array", lambda t: SGD(net().parameters(), lr=np.array(0.1)), TypeError, "lr"),
    Case("SGD-momentum-one", lambda t: SGD(net().parameters(), lr=0.1, momentum=1.0),
         ValueError, "momentum"),
    Case("SGD-momentum-nan", lambda t: SGD(net().parameters(), lr=0.1, momentum=np.nan),
         ValueError, "momentum"),
    Case("SGD-momentum-none", lambda t: SGD(net().parameters(), lr=0.1, momentum=None),
         TypeError, "momentum"),
    # fit
    Case("fit-model-none",
         lambda t: fit(None, MSELoss(), SGD(net().parameters(), lr=0.1), X6, Y6,
                       epochs=1, batch_size=2, rng=rng()), TypeError, "model"),
    Case("fit-model-class",
         lambda t: fit(Sequential, MSELoss(), SGD(net().parameters(), lr=0.1), X6, Y6,
                       epochs=1, batch_size=2, rng=rng()), TypeError, "model"),
    Case("fit-loss-none", fit_call(loss=None), TypeError, "loss"),
    Case("fit-loss-class", fit_call(loss=MSELoss), TypeError, "loss"),
    Case("fit-optimizer-none", fit_call(optimizer=None), TypeError, "optimizer"),
    Case("fit-optimizer-of-another-model",
         fit_call(optimizer=SGD(net().parameters(), lr=0.1)), ValueError, "optimizer"),
    Case("fit-empty-X", fit_call(X=np.ones((0, 2)), y=np.ones((0, 1))), ValueError, "X"),
    Case("fit-nan-X", fit_call(X=np.where(X6 > 0.9, np.nan, X6)), ValueError, "X"),
    Case("fit-list-X", fit_call(X=X6.tolist()), TypeError, "X"),
    Case("fit-list-y", fit_call(y=Y6.tolist()), TypeError, "y"),
    Case("fit-y-rows", fit_call(y=Y6[:5]), ValueError, "y"),
    Case("fit-nan-y", fit_call(y=np.where(Y6 > 2, np.nan, Y6)), ValueError, "y"),
    Case("fit-flat-y", fit_call(y=Y6[:, 0]), ValueError, "y"),
    Case("fit-labels-out-of-range", ce_fit(np.array([0, 1, 2, 3, 0, 1])), ValueError, "y"),
    Case("fit-epochs-zero", fit_call(epochs=0), ValueError, "epochs"),
    Case("fit-epochs-float", fit_call(epochs=1.5), ValueError, "epochs"),
    Case("fit-batch-negative", fit_call(batch_size=-1), ValueError, "batch_size"),
    Case("fit-rng-int", fit_call(rng=42), TypeError, "rng"),
    Case("fit-validation-not-pair", fit_call(validation_data=X6), TypeError, "validation_data"),
    Case("fit-validation-width", fit_call(validation_data=(F, np.ones((2, 1)))), ValueError,
         "validation_data[0]"),
    Case("fit-validation-rows", fit_call(validation_data=(X6, Y6[:4])), ValueError,
         "validation_data[1]"),
    Case("fit-validation-nan-y",
         fit_call(validation_data=(X6, np.full((6, 1), np.nan))), ValueError,
         "validation_data[1]"),
    Case("fit-validation-float32", fit_call(validation_data=(X6.astype(np.float32), Y6)),
         ValueError, "validation_data[0]"),
    Case("fit-validation-nan-X", fit_call(validation_data=(X6 * np.nan, Y6)), ValueError,
         "validation_data[0]"),
    Case("fit-validation-y-list", fit_call(validation_data=(X6, Y6.tolist())), TypeError,
         "validation_data[1]"),
    Case("fit-metrics-list", fit_call(metrics=[accuracy]), TypeError, "metrics"),
    Case("fit-metrics-not-callable", fit_call(metrics={"acc": 0.5}), TypeError, "metrics"),
    Case("fit-nan-weights",
         lambda t: (lambda m: (m[0].W.fill(np.nan), fit_call(model=m,
                    optimizer=SGD(m.parameters(), lr=0.1))(t)))(net()),
         ValueError, "0.W"),
    # accuracy
    Case("accuracy-list", lambda t: accuracy([[0.0, 1.0]], LABELS[:1]), TypeError, "scores"),
    Case("accuracy-nan", lambda t: accuracy(np.array([[np.nan, 0]]), LABELS[:1]), ValueError,
         "scores"),
    Case("accuracy-empty", lambda t: accuracy(np.ones((0, 3)), np.zeros(0, int)), ValueError,
         "scores"),
    Case("accuracy-y-list", lambda t: accuracy(F, [0, 1]), TypeError, "y"),
    Case("accuracy-label-too-big", lambda t: accuracy(F, np.array([0, 3])), ValueError, "y"),
    Case("accuracy-label-negative", lambda t: accuracy(F, np.array([0, -1])), ValueError, "y"),
    Case("accuracy-float-labels", lambda t: accuracy(F, np.array([0.0, 2.7])), TypeError, "y"),
    Case("accuracy-not-one-hot", lambda t: accuracy(F, np.full((2, 3), 1 / 3)), ValueError, "y"),
    Case("accuracy-binary-y", lambda t: accuracy(np.ones((2, 1)), np.array([[0.7], [1]])),
         ValueError, "y"),
    Case("accuracy-threshold-str", lambda t: accuracy(np.ones((1, 1)), np.ones((1, 1)),
                                                      threshold="0.5"), TypeError, "threshold"),
    Case("accuracy-threshold-nan", lambda t: accuracy(np.ones((1, 1)), np.ones((1, 1)),
                                                      threshold=np.nan), TypeError, "threshold"),
    Case("accuracy-y-str", lambda t: accuracy(F, np.array(["0", "1"])), TypeError, "y"),
    Case("accuracy-y-3d", lambda t: accuracy(F, np.zeros((2, 3, 1), int)), ValueError, "y"),
    Case("accuracy-y-scalar", lambda t: accuracy(F, np.array(1)), ValueError, "y"),
    # numerical_gradient, gradcheck, relative_error
    Case("ng-eps-zero", lambda t: numerical_gradient(np.sin, 1.0, eps=0), ValueError, "eps"),
    Case("ng-eps-nan", lambda t: numerical_gradient(np.sin, 1.0, eps=np.nan), ValueError, "eps"),
    Case("ng-eps-negative", lambda t: numerical_gradient(np.sin, np.ones(2), eps=-1e-6),
         ValueError, "eps"),
    Case("ng-eps-inf", lambda t: numerical_gradient(np.sin, 1.0, eps=np.inf), ValueError, "eps"),
    Case("ng-eps-str", lambda t: numerical_gradient(np.sin, 1.0, eps="1e-6"), TypeError, "eps"),
    Case("ng-f-not-callable", lambda t: numerical_gradient(3.0, 1.0), TypeError, "f"),
    Case("ng-f-array-valued", lambda t: numerical_gradient(lambda v: v * 2, np.ones(3)),
         TypeError, "f"),
    Case("ng-f-nan", lambda t: numerical_gradient(lambda v: np.nan, np.ones(2)), ValueError,
         "f(x)"),
    Case("ng-f-str", lambda t: numerical_gradient(lambda v: "1", 1.0), TypeError, "f"),
    Case("ng-f-none", lambda t: numerical_gradient(lambda v: None, np.ones(1)), TypeError, "f"),
    Case("ng-x-float32", lambda t: numerical_gradient(np.sum, np.ones(2, np.float32)),
         TypeError, "x"),
    Case("ng-x-nan", lambda t: numerical_gradient(np.sum, np.array([np.nan])), ValueError, "x"),
    Case("ng-x-inf-number", lambda t: numerical_gradient(np.sin, float("inf")), ValueError, "x"),
    Case("ng-x-read-only", lambda t: numerical_gradient(np.sum, read_only(np.ones(2))),
         ValueError, "x"),
    Case("ng-x-list", lambda t: numerical_gradient(np.sum, [1.0, 2.0]), TypeError, "x"),
    Case("ng-upstream-float32",
         lambda t: numerical_gradient(lambda v: v, np.ones(2), upstream=np.ones(2, np.float32)),
         TypeError, "upstream"),
    Case("ng-upstream-nan",
         lambda t: numerical_gradient(lambda v: v, np.ones(2), upstream=np.array([1, np.nan])),
         ValueError, "upstream"),
    Case("ng-upstream-shape",
         lambda t: numerical_gradient(lambda v: v, np.ones(2), upstream=np.ones(3)),
         ValueError, "upstream"),
    Case("ng-upstream-f-returns-str",
         lambda t: numerical_gradient(lambda v: "a", np.ones(2), upstream=np.ones(2)),
         TypeError, "f(x)"),
    Case("ng-upstream-scalar-x",
         lambda t: numerical_gradient(np.sin, 1.0, upstream=np.ones(1)), ValueError, "upstream"),
    Case("gradcheck-rng-int",
         lambda t: gradcheck(Linear(2, 2, rng=rng()), np.ones((2, 2)), rng=42), TypeError, "rng"),
    Case("gradcheck-eps-zero",
         lambda t: gradcheck(Linear(2, 2, rng=rng()), np.ones((2, 2)), eps=0), ValueError, "eps"),
    Case("gradcheck-obj-function", lambda t: gradcheck(np.tanh, np.ones((2, 2))), TypeError,
         "obj"),
    Case("gradcheck-obj-class", lambda t: gradcheck(ReLU, np.ones((2, 2))), TypeError, "obj"),
    Case("gradcheck-X-float32",
         lambda t: gradcheck(ReLU(), np.ones((2, 2), np.float32)), TypeError, "X"),
    Case("gradcheck-X-nan", lambda t: gradcheck(ReLU(), np.array([[np.nan]])), ValueError, "X"),
    Case("gradcheck-loss-str", lambda t: gradcheck(net(), X6, Y6, loss="mse"), TypeError, "loss"),
    Case("gradcheck-target-without-loss", lambda t: gradcheck(net(), X6, Y6), ValueError,
         "target"),
    Case("gradcheck-dY-with-loss",
         lambda t: gradcheck(net(), X6, Y6, loss=MSELoss(), dY=Y6), ValueError, "dY"),
    Case("gradcheck-loss-without-target", lambda t: gradcheck(MSELoss(), Y6), ValueError,
         "target"),
    Case("gradcheck-loss-with-dY", lambda t: gradcheck(MSELoss(), Y6, Y6, dY=Y6), ValueError,
         "dY"),
    Case("gradcheck-dY-shape", lambda t: gradcheck(net(), X6, dY=np.ones((6, 2))), ValueError,
         "dY"),
    Case("gradcheck-dY-nan", lambda t: gradcheck(net(), X6, dY=np.full((6, 1), np.nan)),
         ValueError, "dY"),
    Case("gradient-errors-rng-legacy",
         lambda t: gradient_errors(ReLU(), F, rng=np.random.RandomState(0)), TypeError, "rng"),
    Case("relative-error-str", lambda t: relative_error("a", 1.0), TypeError, "analytic"),
    Case("relative-error-nan", lambda t: relative_error(np.ones(2), np.array([1, np.nan])),
         ValueError, "numeric"),
    Case("relative-error-complex", lambda t: relative_error(np.ones(2, complex), np.ones(2)),
         TypeError, "analytic"),
    Case("relative-error-shapes", lambda t: relative_error(np.ones(2), np.ones((2, 1))),
         ValueError, "analytic"),
    Case("relative-error-ragged", lambda t: relative_error([[1.0], [1.0, 2.0]], [1.0]),
         ValueError, "analytic"),
    # save and load
    Case("save-model-none", lambda t: save(None, t / "m.npz"), TypeError, "model"),
    Case("save-path-int", lambda t: save(net(), 3), TypeError, "path"),
    Case("save-path-bytes", lambda t: save(net(), b"m.npz"), TypeError, "path"),
    Case("save-path-none", lambda t: save(net(), None), TypeError, "path"),
    Case("save-nan-weights", saved_model_with(lambda m: m[2].b.fill(np.inf)), ValueError,
         "model.modules[2].b"),
    Case("save-widths-changed-after-build",
         saved_model_with(lambda m: setattr(m[2], "W", np.ones((4, 1)))), ValueError,
         "model.modules[2]"),
    Case("load-path-int", lambda t: load(3), TypeError, "path"),
    Case("load-path-like-bytes", lambda t: load(BytesPath()), TypeError, "path"),
    Case("load-encrypted-member", lambda t: load(encrypted(npz(t, *model_arrays()))), ValueError,
         "layer0.W.npy"),
    Case("load-npy-version-3", raw_member_file("layer5.W.npy", npy_bytes(np.ones(2), (3, 0))),
         ValueError, "layer5.W.npy"),
    Case("load-raw-bytes-member", raw_member_file("layer7.W.npy", b"raw bytes, not an array"),
         ValueError, "layer7.W.npy"),
    Case("load-member-not-npy", raw_member_file("layer0.W", b"\x00" * 8), ValueError,
         "'layer0.W'"),
    Case("load-compressed", lambda t: load(npz(t, *model_arrays(), compressed=True)),
         ValueError, "compressed"),
    Case("load-huge-declared-shape", huge_header_file, ValueError, "layer9.W.npy"),
    Case("load-duplicate-member", duplicate_member_file, ValueError, "layer0.W.npy"),
    Case("load-widths-do-not-chain", tampered_file(widths_that_do_not_chain), ValueError,
         "layer2"),
    Case("load-mixed-dtypes", tampered_file(mixed_dtypes), ValueError, "layer2"),
    Case("load-nan-weights", tampered_file(nan_weights), ValueError, "layer0.W"),
    Case("load-int-weights", tampered_file(int_weights), ValueError, "layer2.b.npy"),
    Case("load-version-true", tampered_file(true_version), ValueError, "version"),
    Case("load-width-zero", tampered_file(set_linear(0, n_in=0)), ValueError, "n_in"),
    Case("load-width-float", tampered_file(set_linear(2, n_out=1.0)), ValueError, "n_out"),
]


def names_in(message: str, names: str) -> bool:
    """``names`` appears in ``message`` as a whole name (not inside another word)."""
    return re.search(rf"(?<![\w]){re.escape(names)}(?![\w])", message) is not None


def test_the_table_is_large_and_covers_every_public_name():
    assert len(CASES) >= 100
    assert len({case.id for case in CASES}) == len(CASES)
    called = " ".join(case.id for case in CASES).lower()
    covered = {"sigmoid", "relu", "softmax", "log-softmax", "tanh", "linear", "sequential",
               "predict", "mse", "bce", "bcewithlogits", "ce", "sgd", "fit", "accuracy",
               "ng", "gradcheck", "gradient-errors", "relative-error", "save", "load"}
    assert all(name in called for name in covered)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_is_refused_with_a_message_naming_the_argument(case, tmp_path):
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is asserted exactly below
        case.call(tmp_path)
    assert type(info.value) is case.error, f"{type(info.value).__name__}: {info.value}"
    assert names_in(str(info.value), case.names), str(info.value)


def test_names_in_is_a_real_check():
    assert names_in("X must be 2-D", "X")
    assert not names_in("Xs must be 2-D", "X")
    assert not names_in("max is wrong", "X")


# --- policy: non-finite values and empty batches ---------------------------------------


def test_modules_propagate_non_finite_values_and_the_loss_refuses_them():
    """A module's forward runs at every step and does not look for nan: it propagates,
    and the loss at the end of the forward pass refuses it, naming pred."""
    Z = np.array([[np.nan, 1.0], [np.inf, -np.inf]])
    A = Sigmoid().forward(Z)
    assert np.isnan(A[0, 0]) and A[1, 0] == 1.0 and A[1, 1] == 0.0
    with pytest.raises(ValueError, match="pred contains 1 non-finite value"):
        MSELoss()(A, np.zeros((2, 2)))


def test_empty_batches_pass_forward_but_no_mean_is_taken_of_them():
    model = net()
    out = model.forward(np.ones((0, 2)))
    assert out.shape == (0, 1)
    assert sigmoid(np.ones((0, 3))).shape == (0, 3)
    assert softmax(np.ones((0, 3))).shape == (0, 3)
    for loss in (MSELoss(), BCEWithLogitsLoss()):
        with pytest.raises(ValueError, match=r"pred has 0 rows .* mean"):
            loss(out, np.ones((0, 1)))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # numpy's IEEE reports
def test_divergence_in_fit_names_the_epoch_and_the_batch():
    """lr = 50 on a line fit: the weights blow up within a few batches."""
    X = np.linspace(-3, 3, 40).reshape(-1, 1)
    model = Sequential(Linear(1, 8, rng=rng()), ReLU(), Linear(8, 1, rng=rng(1)))
    with pytest.raises(ValueError, match=r"training diverged in epoch \d+, batch \d+ \(rows") \
            as info:
        fit(model, MSELoss(), SGD(model.parameters(), lr=50.0), X, 5 * X, epochs=50,
            batch_size=10, rng=rng())
    assert "lower the learning rate" in str(info.value)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # numpy's IEEE reports
def test_divergence_after_the_last_step_of_an_epoch_is_reported_too():
    """One batch, one epoch: the output 1e10 and the loss are finite, the step is not
    (W −= 1e300 · 1e10)."""
    model = Sequential(Linear(1, 1, rng=rng()))
    with pytest.raises(ValueError, match=r"epoch 1: after its last step, parameter 0\.W"):
        fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=1e300),
            np.full((2, 1), 1e10), np.zeros((2, 1)), epochs=1, batch_size=2, rng=rng())


def test_a_loss_that_refuses_the_models_output_says_where_in_fit():
    """BCELoss on a Linear output (not a probability): refused at the first batch, named."""
    model = Sequential(Linear(2, 1, rng=rng()))
    model[0].b[...] = 5.0  # outputs far above 1
    with pytest.raises(ValueError, match=r"epoch 1, batch 1 .* pred must hold probabilities"):
        fit(model, BCELoss(), SGD(model.parameters(), lr=0.1), X6, np.ones((6, 1)), epochs=1,
            batch_size=3, rng=rng())


def test_fit_checks_everything_before_the_first_step():
    """A bad validation target is found before any step: the model is unchanged."""
    model = net()
    before = [p.copy() for p, _ in model.parameters()]
    with pytest.raises(ValueError, match=r"validation_data\[1\] does not suit MSELoss"):
        fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), X6, Y6, epochs=3,
            batch_size=2, rng=rng(), validation_data=(X6[:2], np.full((2, 1), np.inf)))
    for original, (param, _) in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(param, original)


def test_a_frozen_subset_of_the_parameters_may_be_trained():
    model = net()
    frozen_W = model[0].W.copy()
    fit(model, MSELoss(), SGD(model[2].parameters(), lr=0.1), X6, Y6, epochs=2, batch_size=3,
        rng=rng())
    np.testing.assert_array_equal(model[0].W, frozen_W)


def test_an_optimizer_built_before_a_weight_was_replaced_is_refused():
    model = net()
    optimizer = SGD(model.parameters(), lr=0.1)
    model[0].W = model[0].W.copy()  # the optimizer still holds the old array
    with pytest.raises(ValueError, match=r"optimizer.params\[0\] is not a \(param, grad\) pair"):
        fit(model, MSELoss(), optimizer, X6, Y6, epochs=1, batch_size=2, rng=rng())


def test_fit_accepts_an_optimizer_of_the_readers_own():
    class Plain:
        def __init__(self, model):
            self.pairs = list(model.parameters())

        def zero_grad(self):
            for _, grad in self.pairs:
                grad.fill(0)

        def step(self):
            for param, grad in self.pairs:
                param -= 0.1 * grad

    model = net()
    history = fit(model, MSELoss(), Plain(model), X6, Y6, epochs=3, batch_size=6, rng=rng())
    assert history["loss"][-1] < history["loss"][0]


def test_fit_on_a_model_of_unknown_modules_finds_the_output_width_by_a_forward_pass():
    class Double(nnlib.Module):
        def forward(self, X):
            return 2 * X

        def backward(self, dY):
            return 2 * dY

    model = Sequential(Linear(2, 1, rng=rng()), Double())
    with pytest.raises(ValueError, match=r"y does not suit MSELoss and the model's output "
                                         r"\(m, 1\)"):
        fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), X6, np.ones((6, 2)), epochs=1,
            batch_size=2, rng=rng())


def test_fit_refuses_a_model_whose_forward_returns_something_else():
    class Flat(nnlib.Module):
        def forward(self, X):
            return X.sum(axis=1)

    with pytest.raises(TypeError, match=r"model.forward must return a 2-D float array"):
        fit(Flat(), MSELoss(), _NoOptimizer(), X6, Y6, epochs=1, batch_size=2, rng=rng())


class _NoOptimizer:
    params = ()

    def step(self):  # pragma: no cover - never reached
        pass

    def zero_grad(self):  # pragma: no cover - never reached
        pass


def test_a_loss_of_the_readers_own_returning_nan_is_divergence():
    class NanLoss(MSELoss):
        def forward(self, pred, target):
            super().forward(pred, target)
            return float("nan")

    model = net()
    with pytest.raises(ValueError, match=r"diverged in epoch 1, batch 1 .* the loss is nan"):
        fit(model, NanLoss(), SGD(model.parameters(), lr=0.1), X6, Y6, epochs=1,
            batch_size=2, rng=rng())


# --- in-place edits and stale state ----------------------------------------------------


@pytest.mark.parametrize("module", [Sigmoid, ReLU, Tanh, Softmax])
def test_an_activations_kept_output_cannot_be_edited_in_place(module):
    layer = module()
    A = layer.forward(np.array([[0.5, -1.0]]))
    with pytest.raises(ValueError, match="read-only"):
        A *= 2
    assert layer.saved_for_backward()[layer.saved_names[0]] is A


def test_predict_returns_an_array_the_caller_may_edit():
    model = Sequential(Linear(2, 1, rng=rng()), Sigmoid())
    out = model.predict(X6)
    out *= 2  # allowed: a copy, not the kept A
    np.testing.assert_allclose(out, 2 * model[1].A)


def test_editing_X_between_forward_and_backward_is_caught():
    layer = Linear(2, 3, rng=rng())
    X = X6.copy()
    layer.forward(X)
    X[[0, 1]] = X[[1, 0]]  # swap two rows: the same numbers, a different dW
    with pytest.raises(RuntimeError, match="X was modified in place between"):
        layer.backward(np.ones((6, 3)))
    X[[0, 1]] = X[[1, 0]]  # swapped back: backward agrees again
    layer.backward(np.ones((6, 3)))


def test_a_swap_inside_a_row_is_caught_too():
    layer = Linear(2, 3, rng=rng())
    X = X6.copy()
    layer.forward(X)
    X[2] = X[2, ::-1].copy()
    with pytest.raises(RuntimeError, match="X was modified in place"):
        layer.backward(np.ones((6, 3)))


def test_the_layer_keeps_X_itself_not_a_copy():
    """The memory chapter counts on it: the kept X is the caller's array."""
    layer = Linear(2, 3, rng=rng())
    layer.forward(X6)
    assert layer.saved_for_backward()["X"] is X6


@pytest.mark.parametrize(
    ("loss", "pred", "target"),
    [
        (MSELoss(), np.array([[0.5, -1.0]]), np.array([[0.0, 1.0]])),
        (BCELoss(), np.array([[0.25, 0.5]]), np.array([[1.0, 0.0]])),
        (BCEWithLogitsLoss(), np.array([[2.0, -1.0]]), np.array([[1.0, 0.0]])),
        (SoftmaxCrossEntropyLoss(), np.array([[2.0, -1.0]]), np.array([[1.0, 0.0]])),
        (SoftmaxCrossEntropyLoss(), np.array([[2.0, -1.0]]), np.array([1])),
    ],
)
def test_a_losss_gradient_ignores_in_place_edits_of_its_inputs(loss, pred, target):
    pred, target = pred.copy(), target.copy()
    loss.forward(pred, target)
    expected = loss.backward()
    pred += 1.0
    target[...] = 0
    np.testing.assert_array_equal(loss.backward(), expected)


@pytest.mark.parametrize("loss_cls", [MSELoss, BCELoss, BCEWithLogitsLoss,
                                      SoftmaxCrossEntropyLoss])
def test_a_refused_forward_leaves_no_stale_gradient(loss_cls):
    loss = loss_cls()
    loss.forward(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]]))
    loss.backward()
    with pytest.raises(ValueError):
        loss.forward(np.array([[0.5, np.nan]]), np.array([[1.0, 0.0]]))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        loss.backward()


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 4:  # x[1] + eps
            raise ZeroDivisionError("f failed")
        return float(v.sum())

    with pytest.raises(ZeroDivisionError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    assert calls[-1][1] != 2.0  # f really saw x perturbed


def test_gradcheck_restores_parameters_and_zeroes_grads_when_the_loss_raises():
    layer = Linear(2, 1, rng=rng())
    W = layer.W.copy()

    class Fussy(MSELoss):
        calls = 0

        def forward(self, pred, target):
            Fussy.calls += 1
            if Fussy.calls > 3:
                raise ArithmeticError("fussy")
            return super().forward(pred, target)

    with pytest.raises(ArithmeticError):
        gradcheck(layer, X6, Y6, loss=Fussy())
    np.testing.assert_array_equal(layer.W, W)
    assert not layer.dW.any() and not layer.db.any()


# --- what used to be silently wrong ----------------------------------------------------


def test_bce_gradient_matches_its_clamped_loss_near_0_and_1():
    """Central differences of the clamped loss that forward returns agree with backward,
    at probabilities so close to 0 and 1 that the old a(1 − a) clamp at 1e-12 applied;
    the old formula fails the same check (negative control)."""
    one_minus = 1 - 2.0**-41  # exact; 1 − a = 4.5e-13, and a ± 2⁻⁵¹ exact too
    for a_val, eps in ((1e-14, 1e-18), (1e-30, 1e-34), (one_minus, 2.0**-51)):
        for y_val in (0.0, 1.0, 0.3):
            a, y = np.array([[a_val]]), np.array([[y_val]])
            loss = BCELoss()
            numeric = numerical_gradient(
                lambda p, loss=loss, y=y: loss.forward(p, y), a.copy(), eps
            )
            loss.forward(a, y)
            assert relative_error(loss.backward(), numeric) < 1e-6, (a_val, y_val)
            old = (a - y) / np.maximum(a * (1 - a), 1e-12)
            if y_val != 0.0 or a_val > 0.5:
                assert relative_error(old, numeric) > 0.3, (a_val, y_val)  # 2× off or worse


def test_bce_in_float32_clamps_where_the_gradient_stays_finite():
    tiny = np.finfo(np.float32).tiny
    a = np.array([[1e-40, 2 * tiny]], dtype=np.float32)  # subnormal: clamped; normal: not
    loss = BCELoss()
    value = loss(a, np.ones((1, 2), np.float32))
    grad = loss.backward()
    assert np.isfinite(value) and np.isfinite(grad).all() and grad.dtype == np.float32
    assert grad[0, 0] == 0.0 and grad[0, 1] < -1e37  # flat where clamped; −1/a where not


def test_duplicate_parameter_would_be_stepped_twice_negative_control():
    """Why SGD refuses duplicates: the same pair listed twice moves W twice as far."""
    W, dW = np.zeros(1), np.ones(1)
    for param, grad in [(W, dW), (W, dW)]:  # what step() did with the pair listed twice
        param -= 0.1 * grad
    assert W[0] == pytest.approx(-0.2)


def test_accuracy_with_float_labels_and_valid_inputs():
    assert accuracy(np.array([[0.2, 0.8], [0.9, 0.1]]), np.array([1, 1], np.uint8)) == 0.5
    assert accuracy(np.array([[0.7], [0.2]]), np.array([[True], [False]])) == 1.0


# --- numpy scalars where Python numbers are accepted -----------------------------------


def test_numpy_scalars_are_accepted_where_numbers_are():
    model = Sequential(Linear(np.int64(2), np.int32(1), rng=rng()))
    opt = SGD(model.parameters(), lr=np.float32(0.1), momentum=np.float64(0.5))
    assert type(opt.lr) is float and type(opt.momentum) is float
    SGD(model.parameters(), lr=np.int64(1))
    fit(model, MSELoss(), opt, X6, Y6, epochs=np.int64(2), batch_size=np.int16(3), rng=rng())
    assert sigmoid(np.float32(0.0)).dtype == np.float32
    assert sigmoid(np.float64(0.0)) == 0.5 and relu(np.int64(-3)) == 0.0
    assert numerical_gradient(np.sin, np.float32(0.0), eps=np.float64(1e-6)) == pytest.approx(1.0)
    assert numerical_gradient(lambda v: v * v, np.int64(3)) == pytest.approx(6.0)
    assert numerical_gradient(lambda v: np.float64(v.sum()), np.ones(2))[0] == pytest.approx(1.0)
    assert numerical_gradient(lambda v: np.array(v.sum()), np.ones(2))[0] == pytest.approx(1.0)
    assert accuracy(np.ones((1, 1)), np.ones((1, 1)), threshold=np.float32(0.5)) == 1.0
    assert softmax(np.ones((1, 3)), axis=np.int64(1)).sum() == pytest.approx(1.0)
    assert gradcheck(Linear(2, 1, rng=rng()), np.ones((2, 2)), eps=np.float64(1e-6)) < 1e-7


def test_linear_dtype_accepts_names_and_none_means_float64():
    assert Linear(2, 2, rng=rng(), dtype="float32").W.dtype == np.float32
    assert Linear(2, 2, rng=rng(), dtype="f8").W.dtype == np.float64
    assert Linear(2, 2, rng=rng(), dtype=None).W.dtype == np.float64  # numpy's default


# --- properties ---------------------------------------------------------------------------


def logits(dtype, bound):
    bound = float(np.dtype(dtype).type(bound))  # exactly representable in dtype
    width = np.dtype(dtype).itemsize * 8
    return st.tuples(st.integers(1, 6), st.integers(1, 5)).flatmap(
        lambda shape: hnp.arrays(dtype, shape, elements=st.floats(
            -bound, bound, allow_nan=False, allow_infinity=False, width=width
        ))
    )


@FAST
@given(z=st.one_of(logits(np.float64, 1e300), logits(np.float32, 1e37)),
       seed=st.integers(0, 2**32 - 1))
def test_any_finite_logits_give_a_finite_loss_and_gradient(z, seed):
    """Up to ±1e300 (float64) and ±1e37 (float32): far beyond where exp overflows."""
    r = np.random.default_rng(seed)
    m, K = z.shape
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow is harmless
        for loss, target in [
            (BCEWithLogitsLoss(), r.integers(0, 2, z.shape).astype(z.dtype)),
            (SoftmaxCrossEntropyLoss(), r.integers(0, K, m)),
            (SoftmaxCrossEntropyLoss(), r.dirichlet(np.ones(K), m).astype(z.dtype)),
        ]:
            if isinstance(loss, SoftmaxCrossEntropyLoss) and target.ndim == 2:
                target = target / target.sum(axis=1, keepdims=True)
            value = loss(z, target)
            grad = loss.backward()
            assert np.isfinite(value) and type(value) is float
            assert np.isfinite(grad).all() and grad.dtype == z.dtype and grad.shape == z.shape
        for fn in (sigmoid, relu, softmax, log_softmax):
            out = fn(z)
            assert np.isfinite(out).all() and out.dtype == z.dtype


@FEW
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 5))
def test_float32_in_gives_float32_out_everywhere(seed, m):
    r = np.random.default_rng(seed)
    f32 = np.float32
    X = r.standard_normal((m, 3)).astype(f32)
    model = Sequential(Linear(3, 4, rng=r, dtype=f32), Tanh(), Linear(4, 4, rng=r, dtype=f32),
                       ReLU(), Linear(4, 2, rng=r, dtype=f32), Sigmoid())
    out = model.forward(X)
    assert out.dtype == f32 and model.predict(X).dtype == f32
    for loss, target in [(MSELoss(), r.random((m, 2)).astype(f32)),
                         (BCELoss(), r.integers(0, 2, (m, 2))),
                         (BCEWithLogitsLoss(), r.random((m, 2)).astype(f32)),
                         (SoftmaxCrossEntropyLoss(), r.integers(0, 2, m))]:
        loss.forward(out, target)
        dY = loss.backward()
        assert dY.dtype == f32
        assert model.backward(dY).dtype == f32
    for _, grad in model.parameters():
        assert grad.dtype == f32
    assert Softmax().forward(X).dtype == f32
    assert log_softmax(X).dtype == f32 and softmax(X).dtype == f32
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.step()
    assert all(p.dtype == f32 for p, _ in model.parameters())


finite_weights = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)


@FEW
@given(
    widths=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    acts=st.lists(st.sampled_from([None, ReLU, Sigmoid, Tanh, Softmax]), min_size=3, max_size=3),
    dtype=st.sampled_from([np.float32, np.float64]),
    data=st.data(),
)
def test_save_load_round_trip_is_exact_to_the_bit(tmp_path_factory, widths, acts, dtype, data):
    r = np.random.default_rng(0)
    modules = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=False)):
        layer = Linear(n_in, n_out, rng=r, dtype=dtype)
        width = 32 if dtype == np.float32 else 64
        for array in (layer.W, layer.b):
            array[...] = data.draw(hnp.arrays(dtype, array.shape, elements=st.floats(
                allow_nan=False, allow_infinity=False, width=width)))
        modules.append(layer)
        if acts[i] is not None:
            modules.append(acts[i]())
    model = Sequential(*modules)
    path = tmp_path_factory.mktemp("round") / "model.npz"
    save(model, path)
    loaded = load(path)
    assert [type(m) for m in loaded] == [type(m) for m in model]
    for a, b in zip(model, loaded, strict=True):
        if isinstance(a, Linear):
            assert a.W.tobytes() == b.W.tobytes() and a.b.tobytes() == b.b.tobytes()
            assert b.W.dtype == dtype


# --- the remaining branches ----------------------------------------------------------


def test_a_member_in_npy_format_2_is_read(tmp_path):
    """Version 2.0 headers (written by numpy for very long headers) are accepted."""
    arrays, description = model_arrays()
    path = tmp_path / "v2.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            archive.writestr(name + ".npy", npy_bytes(array, (2, 0)))
        archive.writestr(ARCHITECTURE_KEY + ".npy",
                         npy_bytes(np.array(json.dumps(description)), (2, 0)))
    np.testing.assert_array_equal(load(path)[0].W, net()[0].W)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # numpy's IEEE reports
def test_a_model_output_that_overflows_is_reported_as_divergence():
    model = Sequential(Linear(1, 1, rng=rng()))
    model[0].W[...] = 1e300
    with pytest.raises(ValueError, match=r"diverged in epoch 1, batch 1 .* 2 non-finite"):
        fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), np.full((2, 1), 1e10),
            np.zeros((2, 1)), epochs=1, batch_size=2, rng=rng())


def test_a_first_module_without_parameters_runs_its_backward_in_training():
    model = Sequential(Tanh(), Linear(2, 1, rng=rng()))
    model.forward(X6)
    assert model.backward(np.ones((6, 1)), input_grad=False) is None
    assert model[0].A is not None and model[1].dW.any()


def test_an_error_of_another_kind_passes_through_sequential_unchanged():
    class Unfinished(nnlib.Module):
        def forward(self, X):
            raise NotImplementedError("not yet")

    with pytest.raises(NotImplementedError, match="^not yet$"):
        Sequential(Unfinished()).forward(X6)
    with pytest.raises(np.exceptions.AxisError):  # a ValueError subclass: numpy's own
        Sequential(_AxisModule()).forward(X6)


class _AxisModule(nnlib.Module):
    def forward(self, X):
        return X.sum(axis=5)
