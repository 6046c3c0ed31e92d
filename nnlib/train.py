"""The training loop: shuffled minibatches, forward, loss, backward, step.

Chapters: every network chapter trains with :func:`fit`; *Softmax and
cross-entropy* uses :func:`accuracy` on the digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._validate import (
    FLOAT_DTYPES,
    float_array,
    is_number,
    positive_int,
    require_finite,
    require_rows,
)
from .layers import Linear, Module
from .losses import Loss
from .model import Sequential, _widths
from .optim import SGD

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(scores: np.ndarray, y: np.ndarray, *, threshold: float = 0.5) -> float:
    """Fraction of rows classified correctly.

    Shapes:
        * ``scores`` (m, K) with K ≥ 2 and ``y`` integer labels (m,) in [0, K) or
          one-hot rows (m, K): the predicted class is the arg-max of each row (logits
          or probabilities);
        * ``scores`` (m, 1) and ``y`` (m, 1) of 0/1: a row is predicted 1 when
          ``scores >= threshold`` (0.5 for probabilities; pass 0.0 for logits).

    ``scores`` must be finite and have at least one row (the fraction of no rows is
    undefined); labels out of range, rows that are not one-hot and 0/1 targets that
    are neither 0 nor 1 are refused with ``ValueError``.
    """
    float_array(scores, "scores", ndim=2, finite=True)
    if not isinstance(y, np.ndarray):
        raise TypeError(f"y must be a numpy array, got {type(y).__name__}")
    if not is_number(threshold) or not np.isfinite(threshold):
        raise TypeError(f"threshold must be a finite number, got {threshold!r}")
    m, K = scores.shape
    if y.ndim == 0 or y.shape[0] != m:
        raise ValueError(f"y must have {m} rows to match scores {scores.shape}, got {y.shape}")
    require_rows(scores, "scores", "accuracy")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must hold numbers (labels or 0/1), got dtype {y.dtype}")
    if K == 1:
        if y.shape != (m, 1):
            raise ValueError(f"y must have shape ({m}, 1) for scores {scores.shape}, got {y.shape}")
        if not ((y == 0) | (y == 1)).all():
            raise ValueError(f"y for scores of shape {scores.shape} must hold only 0 and 1")
        return float(np.mean((scores >= threshold) == (y == 1)))
    if y.ndim == 2 and y.shape != (m, K):
        raise ValueError(f"y must have shape ({m},) or ({m}, {K}), got {y.shape}")
    if y.ndim == 1:
        if y.dtype.kind not in "iu":
            raise TypeError(
                f"y of shape {y.shape} must hold integer labels, got dtype {y.dtype}; "
                f"convert with .astype(np.int64)"
            )
        if y.min() < 0 or y.max() >= K:
            raise ValueError(
                f"labels in y must lie in [0, {K}) for scores with K={K} columns, "
                f"got values from {y.min()} to {y.max()}"
            )
        labels = y
    elif y.ndim == 2:
        if not (((y == 0) | (y == 1)).all() and (y.sum(axis=1) == 1).all()):
            raise ValueError(f"y of shape {y.shape} must hold one-hot rows (one 1, the rest 0)")
        labels = y.argmax(axis=1)
    else:
        raise ValueError(f"y must have shape ({m},) or ({m}, {K}), got {y.shape}")
    return float(np.mean(scores.argmax(axis=1) == labels))


def fit(
    model: Module,
    loss: Loss,
    optimizer: SGD,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    metrics: dict[str, Metric] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` by minibatch gradient descent and return the history.

    Each epoch draws a new permutation of the rows from ``rng``, then for each
    minibatch: ``zero_grad``, forward, loss, backward, ``optimizer.step()``. The
    backward pass skips the gradient with respect to the data, which training never
    uses: ``fit`` calls ``model.backward(dY, input_grad=False)`` when ``model`` is a
    :class:`~nnlib.model.Sequential`, and ``model.backward(dY)`` otherwise. Each batch
    is a read-only copy of its rows of ``X``, so the first ``Linear`` keeps it as it is.

    Shapes: X (m, n_in); y with the rows of X, in the form ``loss`` expects.

    Everything is checked before the first step, so a bad argument never leaves a
    half-trained model: the types of ``model``, ``loss`` and ``optimizer``; that the
    optimizer's parameters are the model's own (a frozen subset is fine); ``X`` float,
    2-D, finite, with at least one row; ``y`` (and ``validation_data``) against the
    loss; the model's parameters finite. If training diverges (the model's output or
    the loss is no longer finite, or a parameter is not after an epoch), ``ValueError``
    names the epoch and the batch; lower the learning rate.

    Returns
    -------
    dict
        ``"loss"``: the mean training loss of each epoch (batch losses weighted by
        batch size, so it is the mean over the whole epoch's samples). For each
        ``name`` in ``metrics``: ``name`` on the training set at the end of the
        epoch; with ``validation_data`` also ``"val_loss"`` and ``"val_" + name``.
    """
    _check_fit_objects(model, loss, optimizer)
    float_array(X, "X", ndim=2)
    if not isinstance(y, np.ndarray):
        raise TypeError(f"y must be a numpy array with {X.shape[0]} rows, got {type(y).__name__}")
    if y.shape[:1] != X.shape[:1]:
        raise ValueError(f"y must have {X.shape[0]} rows to match X {X.shape}, got {y.shape}")
    require_rows(X, "X", "the training loss")
    require_finite(X, "X")
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if metrics is not None and not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict of name: function, got {type(metrics).__name__}")
    metrics = dict(metrics or {})
    for name, fn in metrics.items():
        if not isinstance(name, str) or not callable(fn):
            raise TypeError(f"metrics[{name!r}] must be a function under a str name, got {fn!r}")
    for name, param, _ in model.named_parameters():
        if not np.isfinite(param).all():
            raise ValueError(f"model parameter {name} contains non-finite values before training")
    out_width = _output_width(model, X)
    _check_targets(loss, y, "y", out_width, X.dtype)
    if validation_data is not None:
        X_val, y_val = _check_validation(validation_data, X, y)
        _check_targets(loss, y_val, "validation_data[1]", out_width, X.dtype)

    m = X.shape[0]
    history: dict[str, list[float]] = {"loss": []}
    for name in metrics:
        history[name] = []
    if validation_data is not None:
        history["val_loss"] = []
        for name in metrics:
            history["val_" + name] = []

    for epoch in range(1, epochs + 1):
        order = rng.permutation(m)
        total = 0.0
        for batch, start in enumerate(range(0, m, batch_size), start=1):
            idx = order[start : start + batch_size]
            Xb = X[idx]  # a copy of the batch's rows, (b, n_in) ...
            Xb.flags.writeable = False  # ... that no one can edit: Linear keeps it as is
            optimizer.zero_grad()
            out = model.forward(Xb)
            try:
                value = loss.forward(out, y[idx])
            except ValueError as error:
                raise _batch_error(error, out, epoch, batch, start, len(idx)) from error
            if not math.isfinite(value):  # a Loss of the reader's own may return nan
                raise ValueError(_diverged(epoch, batch, start, len(idx), f"the loss is {value}"))
            total += value * len(idx)
            if isinstance(model, Sequential):
                model.backward(loss.backward(), input_grad=False)  # dL/dX is never used
            else:
                model.backward(loss.backward())
            optimizer.step()
        for name, param, _ in model.named_parameters():
            if not np.isfinite(param).all():
                raise ValueError(
                    f"training diverged in epoch {epoch}: after its last step, parameter "
                    f"{name} contains non-finite values; lower the learning rate"
                )
        history["loss"].append(total / m)
        if metrics:
            out = model.predict(X)
            for name, fn in metrics.items():
                history[name].append(fn(out, y))
        if validation_data is not None:
            out = model.predict(X_val)
            history["val_loss"].append(loss.forward(out, y_val))
            for name, fn in metrics.items():
                history["val_" + name].append(fn(out, y_val))
    return history


def _check_fit_objects(model, loss, optimizer) -> None:
    """The types of fit's first three arguments, and that they belong together."""
    for name, value, kind in (("model", model, Module), ("loss", loss, Loss)):
        if isinstance(value, type) and issubclass(value, kind):
            raise TypeError(
                f"{name} must be an instance, got the class {value.__name__}: "
                f"write {value.__name__}(...)"
            )
        if not isinstance(value, kind):
            raise TypeError(f"{name} must be an nnlib {kind.__name__}, got {type(value).__name__}")
    if not (callable(getattr(optimizer, "step", None))
            and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(
            f"optimizer must have step() and zero_grad(), like nnlib.SGD, "
            f"got {type(optimizer).__name__}"
        )
    own = {id(param): id(grad) for _, param, grad in model.named_parameters()}
    pairs = getattr(optimizer, "params", None)
    if pairs is None:
        return  # an optimizer of the reader's own: its parameters cannot be listed
    for i, pair in enumerate(pairs):
        param, grad = pair
        if own.get(id(param)) != id(grad):
            raise ValueError(
                f"optimizer.params[{i}] is not a (param, grad) pair of model: the optimizer "
                f"was built on other arrays (another model, or before a layer's W was "
                f"replaced), so fit would train nothing; build it with "
                f"SGD(model.parameters(), ...)"
            )


def _output_width(model: Module, X: np.ndarray) -> int:
    """The width of the model's output: from its layers, else from a forward pass of
    X's first row (a model with a module nnlib does not know)."""
    if isinstance(model, Linear):
        return model.n_out
    if isinstance(model, Sequential):
        width = _widths(model.modules)[1]
        if width is not None:
            return width
    row = X[:1].copy()
    row.flags.writeable = False
    out = model.forward(row)
    if not isinstance(out, np.ndarray) or out.ndim != 2 or out.dtype not in FLOAT_DTYPES:
        got = (f"shape {out.shape}, dtype {out.dtype}" if isinstance(out, np.ndarray)
               else type(out).__name__)
        raise TypeError(f"model.forward must return a 2-D float array, got {got}")
    return out.shape[1]


def _check_targets(loss: Loss, y: np.ndarray, name: str, width: int, dtype) -> None:
    """Let ``loss`` judge every row of ``y`` before training, against a zero output.

    This checks the whole target (shape, dtype, labels in range, rows summing to 1,
    finiteness) in one pass of the loss over an output of zeros: cheap, and no step
    has run yet when it fails.
    """
    try:
        loss.forward(np.zeros((y.shape[0], width), dtype=dtype), y)
    except (ValueError, TypeError) as error:
        raise type(error)(
            f"{name} does not suit {type(loss).__name__} and the model's output "
            f"(m, {width}): {error}"
        ) from error


def _check_validation(validation_data, X: np.ndarray, y: np.ndarray) -> tuple:
    """``(X_val, y_val)``, checked against the training ``X`` and ``y``."""
    if not (isinstance(validation_data, tuple | list) and len(validation_data) == 2):
        raise TypeError(
            f"validation_data must be a pair (X_val, y_val), got {type(validation_data).__name__}"
        )
    X_val, y_val = validation_data
    float_array(X_val, "validation_data[0]", ndim=2, finite=True)
    if X_val.shape[1] != X.shape[1] or X_val.dtype != X.dtype:
        raise ValueError(
            f"validation_data[0] must have shape (m_val, {X.shape[1]}) and dtype {X.dtype} "
            f"like X, got shape {X_val.shape} and dtype {X_val.dtype}"
        )
    require_rows(X_val, "validation_data[0]", "the validation loss")
    if not isinstance(y_val, np.ndarray):
        raise TypeError(f"validation_data[1] must be a numpy array, got {type(y_val).__name__}")
    if y_val.shape[:1] != X_val.shape[:1] or y_val.shape[1:] != y.shape[1:]:
        raise ValueError(
            f"validation_data[1] must have shape {(X_val.shape[0], *y.shape[1:])} "
            f"(the rows of validation_data[0], the columns of y), got {y_val.shape}"
        )
    return X_val, y_val


def _diverged(epoch: int, batch: int, start: int, size: int, what: str) -> str:
    return (
        f"training diverged in epoch {epoch}, batch {batch} (rows {start} to "
        f"{start + size - 1} of the epoch's permutation): {what}; lower the learning rate"
    )


def _batch_error(error: ValueError, out, epoch: int, batch: int, start: int, size: int):
    """Turn a loss's refusal during training into an error that says where it happened."""
    if isinstance(out, np.ndarray) and out.dtype in FLOAT_DTYPES and not np.isfinite(out).all():
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        what = f"the model's output has {bad} non-finite value(s)"
        return ValueError(_diverged(epoch, batch, start, size, what))
    if getattr(error, "overflow", False):  # the loss itself is too large for float64
        return ValueError(_diverged(epoch, batch, start, size, str(error)))
    return ValueError(
        f"epoch {epoch}, batch {batch} (rows {start} to {start + size - 1} of the epoch's "
        f"permutation): the loss refused the model's output: {error}"
    )
