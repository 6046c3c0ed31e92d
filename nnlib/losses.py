"""Loss functions: the batch mean of a per-sample loss, and its gradient.

Every loss has the same protocol:

* ``forward(pred, target)`` returns the loss, a Python ``float``: the **mean over
  the m rows** of the batch (the sum over a row's outputs, where there are several);
* ``backward()`` returns dL/d(pred), with the shape and dtype of ``pred``. Because
  the loss is a mean, every gradient carries the factor ``1/m``.

Targets are never reshaped or broadcast: a target of shape ``(m,)`` for a prediction
of shape ``(m, 1)`` is an error, because ``pred - target`` would silently become
``(m, m)``. Non-finite inputs are refused.

Chapters: *ReLU and mean squared error* (``MSELoss``), *The sigmoid and the logistic
loss* (``BCELoss``, ``BCEWithLogitsLoss``), *Softmax and cross-entropy*
(``SoftmaxCrossEntropyLoss``).
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array, require_forward, same_dtype, same_shape
from .activations import sigmoid


class Loss:
    """Base class: ``forward(pred, target) -> float`` and ``backward() -> dpred``.

    Shapes: pred (m, k); target as each loss documents; backward -> (m, k), pred's
    shape and dtype.
    """

    def __init__(self) -> None:
        self.pred: np.ndarray | None = None
        self.target: np.ndarray | None = None

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

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        float_array(pred, "pred", ndim=2, finite=True)
        self._float_target(pred, target)
        self.pred, self.target = pred, target
        diff = pred - target  # (m, k)
        return float(0.5 * np.vdot(diff, diff) / pred.shape[0])

    def backward(self) -> np.ndarray:
        pred = require_forward(self, "pred")
        return (pred - self.target) / pred.shape[0]  # (m, k)


class BCELoss(Loss):
    r"""Logistic (binary cross-entropy) loss on probabilities ``a`` in [0, 1].

    .. math:: L = -\frac{1}{m}\sum_{i}\bigl[y_i \log a_i + (1 - y_i)\log(1 - a_i)\bigr],
              \qquad \frac{\partial L}{\partial a} = \frac{a - y}{a(1 - a)}\,\frac{1}{m}

    Probabilities of exactly 0 or 1 are allowed: each log is clamped at −100 (as in
    PyTorch) and ``a(1 − a)`` at 1e-12, so the result is large but never ``nan``
    or ``inf``. Prefer :class:`BCEWithLogitsLoss`, which never needs either clamp.

    Shapes: pred (m, k) in [0, 1], target (m, k) in [0, 1] -> float; backward -> (m, k).
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        float_array(pred, "pred", ndim=2, finite=True)
        if ((pred < 0) | (pred > 1)).any():
            raise ValueError(
                "pred must hold probabilities in [0, 1]; for logits use BCEWithLogitsLoss"
            )
        target = self._binary_target(pred, target)
        self.pred, self.target = pred, target
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped on the next line
            log_a = np.maximum(np.log(pred), -100)
            log_1ma = np.maximum(np.log1p(-pred), -100)
        per_entry = -(target * log_a + (1 - target) * log_1ma)  # (m, k)
        return float(per_entry.sum() / pred.shape[0])

    def backward(self) -> np.ndarray:
        a = require_forward(self, "pred")
        denom = np.maximum(a * (1 - a), 1e-12)
        return (a - self.target) / denom / a.shape[0]  # (m, k)


class BCEWithLogitsLoss(Loss):
    r"""Logistic loss computed from logits ``z`` (the sigmoid is inside the loss).

    With :math:`a = \sigma(z)` the per-entry loss simplifies to a form with no
    overflow for any finite ``z``:

    .. math:: \ell(z, y) = \max(z, 0) - z y + \log\bigl(1 + e^{-|z|}\bigr),
              \qquad \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{m}

    Shapes: pred (m, k) logits, target (m, k) in [0, 1] -> float; backward -> (m, k).
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        float_array(pred, "pred", ndim=2, finite=True)
        target = self._binary_target(pred, target)
        self.pred, self.target = pred, target
        z = pred
        per_entry = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
        return float(per_entry.sum() / z.shape[0])

    def backward(self) -> np.ndarray:
        z = require_forward(self, "pred")
        return (sigmoid(z) - self.target) / z.shape[0]  # (m, k)


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

    def __init__(self) -> None:
        super().__init__()
        self.labels: np.ndarray | None = None
        self.P: np.ndarray | None = None

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = float_array(pred, "pred", ndim=2, finite=True)
        m, K = z.shape
        labels, target = self._check_target(z, target)
        shifted = z - z.max(axis=1, keepdims=True)  # (m, K), every entry <= 0: no overflow
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)  # (m, 1), in [1, K]
        log_total = np.log(total)  # log p_ij = shifted_ij − log_total_i (log-sum-exp)
        e /= total
        self.P = e  # softmax(z), kept: backward reuses it
        self.pred, self.labels, self.target = z, labels, target
        if labels is not None:  # −log p at each row's label, without forming all of log p
            return float((log_total.sum() - shifted[np.arange(m), labels].sum()) / m)
        return float(-(target * (shifted - log_total)).sum() / m)

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
            if m and (target.min() < 0 or target.max() >= K):
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
        require_forward(self, "pred")
        m = self.P.shape[0]
        dZ = self.P.copy()  # softmax(z) from forward, (m, K)
        if self.labels is not None:
            dZ[np.arange(m), self.labels] -= 1  # softmax − one_hot(labels)
        else:
            dZ -= self.target
        dZ /= m
        return dZ
