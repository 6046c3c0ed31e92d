"""The training loop: shuffled minibatches, forward, loss, backward, step.

Chapters: every network chapter trains with :func:`fit`; *Softmax and
cross-entropy* uses :func:`accuracy` on the digits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validate import float_array
from .layers import Module
from .losses import Loss
from .model import Sequential
from .optim import SGD

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(scores: np.ndarray, y: np.ndarray, *, threshold: float = 0.5) -> float:
    """Fraction of rows classified correctly.

    Shapes:
        * ``scores`` (m, K) with K ≥ 2 and ``y`` integer labels (m,) or one-hot (m, K):
          the predicted class is the arg-max of each row (logits or probabilities);
        * ``scores`` (m, 1) and ``y`` (m, 1) of 0/1: a row is predicted 1 when
          ``scores >= threshold`` (0.5 for probabilities; pass 0.0 for logits).
    """
    float_array(scores, "scores", ndim=2)
    if not isinstance(y, np.ndarray):
        raise TypeError(f"y must be a numpy array, got {type(y).__name__}")
    m, K = scores.shape
    if y.shape[0] != m:
        raise ValueError(f"y must have {m} rows to match scores {scores.shape}, got {y.shape}")
    if K == 1:
        if y.shape != (m, 1):
            raise ValueError(f"y must have shape ({m}, 1) for scores {scores.shape}, got {y.shape}")
        return float(np.mean((scores >= threshold) == (y >= 0.5)))
    labels = y if y.ndim == 1 else y.argmax(axis=1)
    if y.ndim == 2 and y.shape != (m, K):
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
    :class:`~nnlib.model.Sequential`, and ``model.backward(dY)`` otherwise.

    Shapes: X (m, n_in); y with the rows of X, in the form ``loss`` expects.

    Returns
    -------
    dict
        ``"loss"``: the mean training loss of each epoch (batch losses weighted by
        batch size, so it is the mean over the whole epoch's samples). For each
        ``name`` in ``metrics``: ``name`` on the training set at the end of the
        epoch; with ``validation_data`` also ``"val_loss"`` and ``"val_" + name``.
    """
    float_array(X, "X", ndim=2)
    if not isinstance(y, np.ndarray) or y.shape[:1] != X.shape[:1]:
        got = y.shape if isinstance(y, np.ndarray) else type(y).__name__
        raise ValueError(f"y must have {X.shape[0]} rows to match X {X.shape}, got {got}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    metrics = dict(metrics or {})
    m = X.shape[0]
    history: dict[str, list[float]] = {"loss": []}
    for name in metrics:
        history[name] = []
    if validation_data is not None:
        history["val_loss"] = []
        for name in metrics:
            history["val_" + name] = []

    for _ in range(epochs):
        order = rng.permutation(m)
        total = 0.0
        for start in range(0, m, batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            out = model.forward(X[idx])
            total += loss.forward(out, y[idx]) * len(idx)
            if isinstance(model, Sequential):
                model.backward(loss.backward(), input_grad=False)  # dL/dX is never used
            else:
                model.backward(loss.backward())
            optimizer.step()
        history["loss"].append(total / m)
        if metrics:
            out = model.predict(X)
            for name, fn in metrics.items():
                history[name].append(fn(out, y))
        if validation_data is not None:
            X_val, y_val = validation_data
            out = model.predict(X_val)
            history["val_loss"].append(loss.forward(out, y_val))
            for name, fn in metrics.items():
                history["val_" + name].append(fn(out, y_val))
    return history
