"""Loss functions: the batch mean of a per-sample loss, and its gradient.

Every loss has the same protocol:

* ``forward(pred, target)`` returns the loss, a Python ``float``: the **mean over
  the m rows** of the batch (the sum over a row's outputs, where there are several);
* ``backward()`` returns dL/d(pred), with the shape and dtype of ``pred``. Because
  the loss is a mean, every gradient carries the factor ``1/m``.

Targets are never reshaped or broadcast: a target of shape ``(m,)`` for a prediction
of shape ``(m, 1)`` is an error, because ``pred - target`` would silently become
``(m, m)``. Non-finite inputs are refused, and so is an empty batch (``pred`` with 0
rows or 0 columns): the mean over no rows is undefined. A loss too large for float64
(an MSE of 1e200) raises ``ValueError`` rather than return ``inf``; the loss itself is
summed in float64 whatever the dtype, so any finite logits give a finite
:class:`BCEWithLogitsLoss` and :class:`SoftmaxCrossEntropyLoss`.

What ``forward`` keeps: ``pred`` and ``target`` as given (references, not copies), and,
for ``backward``, only arrays of the loss's own (a difference, a softmax, copies of
small inputs), so editing the caller's arrays in place after ``forward`` never changes
the gradient. A ``forward`` that refuses its input forgets the previous batch first:
``backward`` then raises instead of returning a stale gradient.

Chapters: *ReLU and mean squared error* (``MSELoss``), *The sigmoid and the logistic
loss* (``BCELoss``, ``BCEWithLogitsLoss``), *Softmax and cross-entropy*
(``SoftmaxCrossEntropyLoss``).
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    float_array,
    is_frozen,
    require_forward,
    require_rows,
    same_dtype,
    same_shape,
)
from .activations import _sigmoid


def _own(x: np.ndarray) -> np.ndarray:
    """``x`` itself if nothing can edit it in place, else a copy (for ``backward``)."""
    return x if is_frozen(x) else x.copy()


class Loss:
    """Base class: ``forward(pred, target) -> float`` and ``backward() -> dpred``.

    Shapes: pred (m, k); target as each loss documents; backward -> (m, k), pred's
    shape and dtype.
    """

    #: Every attribute ``forward`` fills; all are reset when a ``forward`` starts.
    kept_names: tuple[str, ...] = ("pred", "target")

    def __init__(self) -> None:
        self.pred: np.ndarray | None = None
        self.target: np.ndarray | None = None
        self._forget()

    def _forget(self) -> None:
        """Drop the previous batch, so a refused ``forward`` leaves nothing stale."""
        for name in self.kept_names:
            setattr(self, name, None)

    def _check_pred(self, pred: np.ndarray) -> np.ndarray:
        """Forget the last batch, then check ``pred``: float, 2-D, finite, not empty."""
        self._forget()
        float_array(pred, "pred", ndim=2, finite=True)
        require_rows(pred, "pred", f"{type(self).__name__}")
        if pred.shape[1] == 0:
            raise ValueError(f"pred must have at least one column, got shape {pred.shape}")
        return pred

    def _value(self, total: float, m: int) -> float:
        """``total / m`` as a Python float; an overflow raises instead of giving ``inf``."""
        value = float(total) / m
        if not np.isfinite(value):
            error = ValueError(
                f"{type(self).__name__} of pred against target overflows float64: "
                f"pred is too far from target for the loss to be represented"
            )
            error.overflow = True  # fit reports it as a divergence
            raise error
        return value

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.forward(pred, target)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:  # pragma: no cover
        """Return the loss, the mean over the m rows, as a Python float; keep the inputs.

        Shapes: pred (m, k), target as the class documents -> float.
        """
        raise NotImplementedError

    def backward(self) -> np.ndarray:  # pragma: no cover - abstract
        """Return dL/d(pred) for the last ``forward`` (it carries the 1/m of the mean).

        Shapes: -> (m, k), the shape and dtype of ``pred``. Raises ``RuntimeError``
        if ``forward`` has not run.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _float_target(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Check a real-valued target: the exact shape and dtype of ``pred``, finite."""
        float_array(target, "target", finite=True)
        same_shape(target, "target", pred, "pred")
        same_dtype(target, "target", pred, "pred")
        return target

    def _binary_target(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Check a target in [0, 1]; 0/1 labels given as int or bool become pred's dtype."""
        if isinstance(target, np.ndarray) and (
            target.dtype == np.bool_ or np.issubdtype(target.dtype, np.integer)
        ):
            same_shape(target, "target", pred, "pred")
            target = target.astype(pred.dtype)
        else:
            self._float_target(pred, target)
        if ((target < 0) | (target > 1)).any():
            raise ValueError("target must lie in [0, 1] (labels 0 and 1, or probabilities)")
        return target


class MSELoss(Loss):
    r"""Mean squared error with the ½ of the source notes.

    .. math:: L = \frac{1}{m}\sum_{i=1}^{m} \tfrac12 \lVert \hat y_i - y_i \rVert^2,
              \qquad \frac{\partial L}{\partial \hat Y} = \frac{\hat Y - Y}{m}

    The ½ cancels the 2 of the derivative; it halves the loss (and so the gradient)
    compared with PyTorch's ``MSELoss``, which also divides by the number of outputs.

    Shapes: pred (m, k), target (m, k) -> float; backward -> (m, k).
    """

    kept_names = ("pred", "target", "diff")

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        self._check_pred(pred)
        self._float_target(pred, target)
        with np.errstate(over="ignore"):  # an overflow is refused by _value below
            diff = pred - target  # (m, k), the loss's own array: backward uses it
            squares = (  # summed in float64: a float32 loss may exceed float32's range
                np.vdot(diff, diff) if diff.dtype == np.float64
                else np.square(diff, dtype=np.float64).sum()
            )
            value = self._value(0.5 * squares, pred.shape[0])
        self.pred, self.target, self.diff = pred, target, diff
        return value

    def backward(self) -> np.ndarray:
        diff = require_forward(self, "diff")
        return diff / diff.shape[0]  # (m, k)


class BCELoss(Loss):
    r"""Logistic (binary cross-entropy) loss on probabilities ``a`` in [0, 1].

    .. math:: L = -\frac{1}{m}\sum_{i}\bigl[y_i \log a_i + (1 - y_i)\log(1 - a_i)\bigr],
              \qquad \frac{\partial L}{\partial a} = \frac{a - y}{a(1 - a)}\,\frac{1}{m}

    Probabilities of exactly 0 or 1 are allowed: each log is clamped at −100 (as in
    PyTorch; in float32 at −87.3, the log of the smallest normal float32, so that
    the gradient stays representable), so the result is large but never ``nan`` or
    ``inf``. ``backward`` is the exact derivative of that clamped loss: where a log
    was clamped, its term is flat and contributes 0 (so a confidently wrong
    prediction of exactly 0 or 1 gets no gradient at all). Prefer
    :class:`BCEWithLogitsLoss`, which needs no clamp.

    Shapes: pred (m, k) in [0, 1], target (m, k) in [0, 1] -> float; backward -> (m, k).
    """

    kept_names = ("pred", "target", "_a", "_y")

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        self._check_pred(pred)
        if ((pred < 0) | (pred > 1)).any():
            raise ValueError(
                "pred must hold probabilities in [0, 1]; for logits use BCEWithLogitsLoss"
            )
        target = self._binary_target(pred, target)
        floor = _log_floor(pred.dtype)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped on the next line
            log_a = np.maximum(np.log(pred), floor)
            log_1ma = np.maximum(np.log1p(-pred), floor)
        per_entry = -(target * log_a + (1 - target) * log_1ma)  # (m, k)
        value = self._value(per_entry.sum(dtype=np.float64), pred.shape[0])
        self.pred, self.target = pred, target
        self._a, self._y = _own(pred), _own(target)
        return value

    def backward(self) -> np.ndarray:
        require_forward(self, "pred")
        a, y = self._a, self._y
        floor = _log_floor(a.dtype)
        with np.errstate(divide="ignore"):
            live_a = np.log(a) > floor  # where y log a was not clamped
            live_1ma = np.log1p(-a) > floor  # where (1 − y) log(1 − a) was not
        # d/da of −[y log a + (1 − y) log(1 − a)] = −y/a + (1 − y)/(1 − a), term by term
        dA = np.divide(-y, a, out=np.zeros_like(a), where=live_a)  # (m, k)
        dA += np.divide(1 - y, 1 - a, out=np.zeros_like(a), where=live_1ma)
        dA /= a.shape[0]
        return dA


class BCEWithLogitsLoss(Loss):
    r"""Logistic loss computed from logits ``z`` (the sigmoid is inside the loss).

    With :math:`a = \sigma(z)` the per-entry loss simplifies to a form with no
    overflow for any finite ``z``:

    .. math:: \ell(z, y) = \max(z, 0) - z y + \log\bigl(1 + e^{-|z|}\bigr),
              \qquad \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{m}

    Shapes: pred (m, k) logits, target (m, k) in [0, 1] -> float; backward -> (m, k).
    """

    kept_names = ("pred", "target", "_z", "_y")

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = self._check_pred(pred)
        target = self._binary_target(pred, target)
        per_entry = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
        value = self._value(per_entry.sum(dtype=np.float64), z.shape[0])
        self.pred, self.target = pred, target
        self._z, self._y = _own(z), _own(target)
        return value

    def backward(self) -> np.ndarray:
        require_forward(self, "pred")
        z = self._z
        return (_sigmoid(z) - self._y) / z.shape[0]  # (m, k)


class SoftmaxCrossEntropyLoss(Loss):
    r"""Softmax followed by cross-entropy, fused, from logits ``z`` of shape (m, K).

    .. math:: L = -\frac{1}{m}\sum_{i}\sum_{j} y_{ij}\,\log\operatorname{softmax}(z_i)_j,
              \qquad \frac{\partial L}{\partial Z} = \frac{\operatorname{softmax}(Z) - Y}{m}

    The targets are either integer labels of shape ``(m,)`` in ``[0, K)`` or rows
    of shape ``(m, K)`` that are probability vectors (one-hot or soft, non-negative,
    summing to 1). The simple gradient ``p − y`` uses Σ_j y_j = 1, so rows that do
    not sum to 1 are refused. ``log softmax`` is computed by the log-sum-exp shift,
    so any finite logits (±1e4 and beyond) give a finite loss.

    Shapes: pred (m, K), target (m,) int or (m, K) float -> float; backward -> (m, K).
    """

    kept_names = ("pred", "target", "labels", "P")

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = self._check_pred(pred)
        m, K = z.shape
        labels, target = self._check_target(z, target)
        with np.errstate(over="ignore"):  # a row spanning > 1.8e308: refused by _value
            shifted = z - z.max(axis=1, keepdims=True)  # (m, K), every entry <= 0
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)  # (m, 1), in [1, K]
        log_total = np.log(total)  # log p_ij = shifted_ij − log_total_i (log-sum-exp)
        e /= total
        if labels is not None:  # −log p at each row's label, without forming all of log p
            picked = shifted[np.arange(m), labels]  # (m,)
            value = log_total.sum(dtype=np.float64) - picked.sum(dtype=np.float64)
        else:
            with np.errstate(invalid="ignore"):  # 0 · (−inf) where a row overflowed
                value = -(target * (shifted - log_total)).sum(dtype=np.float64)
        value = self._value(value, m)
        self.P = e  # softmax(z), kept: backward reuses it
        self.pred = z
        self.labels = None if labels is None else _own(labels)
        self.target = None if target is None else _own(target)
        return value

    def _check_target(self, z: np.ndarray, target) -> tuple:
        """Return ``(labels, None)`` or ``(None, rows)`` after checking ``target``."""
        m, K = z.shape
        if (
            isinstance(target, np.ndarray)
            and np.issubdtype(target.dtype, np.integer)
            and target.shape == (m, K)
        ):
            target = target.astype(z.dtype)  # integer one-hot rows: checked as rows below
        if isinstance(target, np.ndarray) and np.issubdtype(target.dtype, np.integer):
            if target.shape != (m,):
                raise ValueError(
                    f"integer labels target must have shape ({m},) to match pred {z.shape}, "
                    f"got {target.shape}"
                )
            if target.min() < 0 or target.max() >= K:
                raise ValueError(
                    f"labels in target must lie in [0, {K}) for pred with K={K} classes, "
                    f"got values from {target.min()} to {target.max()}"
                )
            return target, None
        if isinstance(target, np.ndarray) and target.ndim == 1:
            raise TypeError(
                f"target of shape {target.shape} must hold integer labels, got dtype "
                f"{target.dtype}; convert with .astype(np.int64) or pass one-hot rows (m, K)"
            )
        self._float_target(z, target)
        if (target < 0).any():
            raise ValueError("target rows must be probability vectors: found negative entries")
        sums = target.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-6 if z.dtype == np.float64 else 1e-4):
            worst = int(np.argmax(np.abs(sums - 1)))
            raise ValueError(
                f"target rows must sum to 1 (one-hot or probabilities); "
                f"row {worst} sums to {sums[worst]:.6g}"
            )
        return None, target

    def backward(self) -> np.ndarray:
        require_forward(self, "P")
        m = self.P.shape[0]
        dZ = self.P.copy()  # softmax(z) from forward, (m, K)
        if self.labels is not None:
            dZ[np.arange(m), self.labels] -= 1  # softmax − one_hot(labels)
        else:
            dZ -= self.target
        dZ /= m
        return dZ


def _log_floor(dtype: np.dtype) -> float:
    """Where :class:`BCELoss` clamps each log: −100, or the log of the smallest normal
    number of ``dtype`` if that is higher (float32: −87.3), so 1/a stays finite."""
    return max(-100.0, float(np.log(np.finfo(dtype).tiny)))
