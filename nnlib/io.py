"""Save a trained :class:`~nnlib.model.Sequential` to ``.npz`` and load it back.

The file is an ordinary numpy ``.npz`` archive holding only plain arrays, read and
written with ``allow_pickle=False``, so loading a file can never run code:

* ``__nnlib_architecture__``: a 0-d unicode array with a JSON description, e.g.
  ``{"format": "nnlib.Sequential", "version": 1, "modules": [{"type": "Linear",
  "n_in": 2, "n_out": 8, "dtype": "float64"}, {"type": "ReLU"}, ...]}``;
* ``layer{i}.W`` (n_in, n_out) and ``layer{i}.b`` (n_out,) for each ``Linear`` at
  position ``i`` in ``model.modules``.

:func:`load` rebuilds the model from an explicit registry of known module types
(never by importing or evaluating a name found in the file) and checks every array's
shape and dtype against the description before using it.

Chapter: Softmax and cross-entropy (saving the trained digit classifier).
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib

import numpy as np

from .activations import ReLU, Sigmoid, Softmax, Tanh
from .layers import Linear
from .model import Sequential

ARCHITECTURE_KEY = "__nnlib_architecture__"
FORMAT_NAME = "nnlib.Sequential"
FORMAT_VERSION = 1

#: The parameter-free modules a file may name, by the exact name it uses.
_ACTIVATIONS = {"ReLU": ReLU, "Sigmoid": Sigmoid, "Tanh": Tanh, "Softmax": Softmax}
_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}
# What np.load and zipfile raise on a file that is not a readable .npz of plain arrays.
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
_PLAIN_ARRAYS_ONLY = "it must be an .npz of plain arrays (pickled objects are never loaded)"


def save(model: Sequential, path) -> None:
    """Write ``model``'s architecture and weights to the ``.npz`` file ``path``.

    The file is written at exactly ``path`` (no ``.npz`` is appended). Gradients and
    what ``forward`` kept are not saved: only what :func:`load` needs to predict.

    Shapes: stores ``layer{i}.W`` (n_in, n_out) and ``layer{i}.b`` (n_out,) for each
    ``Linear`` at index ``i``, in the layer's dtype (float32 or float64).

    Chapter: Softmax and cross-entropy.

    Parameters
    ----------
    model : Sequential
        Made only of ``Linear``, ``ReLU``, ``Sigmoid``, ``Tanh`` and ``Softmax``;
        anything else raises ``TypeError`` (the file could not describe it).
    path : str or os.PathLike
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be an nnlib Sequential, got {type(model).__name__}")
    modules, arrays = [], {}
    for i, module in enumerate(model.modules):
        kind = type(module)
        if kind is Linear:
            W, b = module.W, module.b  # (n_in, n_out), (n_out,)
            if (
                W.dtype.name not in _DTYPES
                or b.dtype != W.dtype
                or W.ndim != 2
                or b.shape != (W.shape[1],)
            ):
                raise ValueError(
                    f"model.modules[{i}] is a Linear with W {W.shape} {W.dtype} and "
                    f"b {b.shape} {b.dtype}; expected W (n_in, n_out) and b (n_out,) "
                    f"of one dtype, float32 or float64"
                )
            n_in, n_out = W.shape
            modules.append({"type": "Linear", "n_in": n_in, "n_out": n_out, "dtype": W.dtype.name})
            arrays[f"layer{i}.W"] = W
            arrays[f"layer{i}.b"] = b
        elif _ACTIVATIONS.get(kind.__name__) is kind:
            modules.append({"type": kind.__name__})
        else:
            known = ", ".join(["Linear", *_ACTIVATIONS])
            raise TypeError(
                f"cannot save model.modules[{i}] of type {kind.__name__}: "
                f"the file format knows only {known}"
            )
    description = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "modules": modules}
    arrays[ARCHITECTURE_KEY] = np.array(json.dumps(description))  # 0-d unicode array
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def load(path) -> Sequential:
    """Read a model written by :func:`save` and return it as a new ``Sequential``.

    Every ``Linear`` gets its own copy of the stored ``W`` and ``b`` (zero gradients).
    Anything that is not such a file raises ``ValueError`` naming ``path`` and the
    problem: a pickle or an object array (refused unread), a plain ``.npy``, a missing
    or malformed description, an unknown module type, a missing, extra or misshapen
    array. A missing file raises ``FileNotFoundError`` as usual.

    Shapes: each ``Linear`` i gets W (n_in, n_out) and b (n_out,) as described.

    Chapter: Softmax and cross-entropy.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Sequential
    """
    arrays = _read_arrays(path)
    if ARCHITECTURE_KEY not in arrays:
        raise ValueError(f"{path}: not an nnlib model: no '{ARCHITECTURE_KEY}' entry")
    descriptions = _parse_architecture(path, arrays.pop(ARCHITECTURE_KEY))

    expected = {
        f"layer{i}.{name}"
        for i, d in enumerate(descriptions)
        if d["type"] == "Linear"
        for name in ("W", "b")
    }
    if set(arrays) != expected:
        missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        raise ValueError(
            f"{path}: the arrays do not match the architecture: "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    modules = []
    for i, d in enumerate(descriptions):
        if d["type"] != "Linear":
            modules.append(_ACTIVATIONS[d["type"]]())
            continue
        dtype = _DTYPES[d["dtype"]]
        for name, shape in (("W", (d["n_in"], d["n_out"])), ("b", (d["n_out"],))):
            stored = arrays[f"layer{i}.{name}"]
            if stored.shape != shape or stored.dtype != dtype:
                raise ValueError(
                    f"{path}: layer{i}.{name} must have shape {shape} and dtype {dtype} "
                    f"as described, got shape {stored.shape} and dtype {stored.dtype}"
                )
        # Checked first, built second: the described sizes are those of arrays that
        # exist, so a hostile description cannot make us allocate a huge layer.
        layer = Linear(d["n_in"], d["n_out"], rng=np.random.default_rng(0), dtype=dtype)
        layer.W[...] = arrays[f"layer{i}.W"]  # copy into the layer's own (n_in, n_out)
        layer.b[...] = arrays[f"layer{i}.b"]  # and (n_out,) arrays
        modules.append(layer)
    return Sequential(*modules)


def _read_arrays(path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, refusing pickles and non-archives."""

    def refuse(problem: str) -> ValueError:
        return ValueError(f"{os.fspath(path)}: not an nnlib model file: {problem}")

    with open(path, "rb") as file:  # ours to close, whatever np.load makes of it
        try:
            loaded = np.load(file, allow_pickle=False)  # a pickle raises ValueError here
        except _READ_ERRORS as error:
            raise refuse(f"{_PLAIN_ARRAYS_ONLY}: {error}") from error
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise refuse("it holds a single .npy array, not an .npz archive")
        try:
            with loaded:  # an object array inside raises ValueError when read
                return {name: loaded[name] for name in loaded.files}
        except _READ_ERRORS as error:
            raise refuse(f"{_PLAIN_ARRAYS_ONLY}: {error}") from error


def _parse_architecture(path, stored: np.ndarray) -> list[dict]:
    """Check the JSON description and return its list of module descriptions."""

    def bad(problem: str) -> ValueError:
        return ValueError(f"{path}: invalid '{ARCHITECTURE_KEY}': {problem}")

    if stored.ndim != 0 or stored.dtype.kind != "U":
        raise bad(
            f"expected a 0-d unicode array, got dtype {stored.dtype} and shape {stored.shape}"
        )
    try:
        description = json.loads(str(stored))
    except (json.JSONDecodeError, RecursionError) as error:  # nesting too deep: Recursion
        raise bad(f"not valid JSON ({error})") from error
    if not isinstance(description, dict) or description.get("format") != FORMAT_NAME:
        raise bad(f"'format' must be {FORMAT_NAME!r}")
    if description.get("version") != FORMAT_VERSION:
        raise bad(
            f"unsupported version {description.get('version')!r}; this nnlib "
            f"reads version {FORMAT_VERSION}"
        )
    modules = description.get("modules")
    if not isinstance(modules, list) or not modules:
        raise bad("'modules' must be a non-empty list")
    for i, d in enumerate(modules):
        kind = d.get("type") if isinstance(d, dict) else None
        if not isinstance(kind, str):
            raise bad(f"module {i} must be an object with a string 'type', got {d!r}")
        if kind in _ACTIVATIONS:
            if d != {"type": kind}:
                raise bad(f"module {i} ({kind}) takes no settings, got {d}")
        elif kind == "Linear":
            if set(d) != {"type", "n_in", "n_out", "dtype"}:
                raise bad(f"module {i} (Linear) needs exactly n_in, n_out, dtype; got {d}")
            for key in ("n_in", "n_out"):
                if type(d[key]) is not int or d[key] < 1:
                    raise bad(f"module {i} (Linear) {key} must be a positive int, got {d[key]!r}")
            if not isinstance(d["dtype"], str) or d["dtype"] not in _DTYPES:
                raise bad(
                    f"module {i} (Linear) dtype must be float32 or float64, got {d['dtype']!r}"
                )
        else:
            known = ", ".join(["Linear", *_ACTIVATIONS])
            raise bad(f"module {i} has unknown type {kind!r} (known: {known})")
    return modules
