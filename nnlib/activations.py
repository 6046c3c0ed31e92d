"""Activation functions and their modules: sigmoid, ReLU, tanh, softmax.

Each function is numerically stable for every finite input (no overflow, no
warnings), keeps the dtype it is given, and each module's ``backward`` multiplies
the upstream gradient by the local derivative:

=========  ==============================  ===================================
module     forward                         backward (dA -> dZ)
=========  ==============================  ===================================
Sigmoid    A = σ(Z) = 1 / (1 + e^(−Z))     dZ = dA ⊙ A ⊙ (1 − A)
ReLU       A = max(Z, 0)                   dZ = dA ⊙ [Z > 0]
Tanh       A = tanh(Z)                     dZ = dA ⊙ (1 − A²)
Softmax    P = softmax(Z) over each row    dZ = P ⊙ (dP − rowsum(dP ⊙ P))
=========  ==============================  ===================================

Chapters: *The sigmoid and the logistic loss* (σ′ = σ(1 − σ)), *ReLU and mean
squared error* (the ReLU mask and its value at 0), *Softmax and cross-entropy*
(the softmax Jacobian).
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    float_array,
    frozen,
    number_or_float_array,
    require_forward,
    same_dtype,
    same_shape,
)
from .layers import Module


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(z) = 1/(1 + e^{-z})`, element-wise, never overflowing.

    Shapes: any -> same. The naive formula overflows in ``exp(-z)`` for z < −709
    (float64); here ``exp`` only ever sees ``-|z| <= 0``::

        z >= 0:  1 / (1 + e^(−z))
        z <  0:  e^(z) / (1 + e^(z))      (the same value, rewritten)

    ``z`` is a float32 or float64 array, or a number; ``nan`` and ``±inf`` are refused
    with ``ValueError`` (the :class:`Sigmoid` module, which runs at every training
    step, does not look for them).
    """
    return _sigmoid(number_or_float_array(z, "z", finite=True))


def relu(z: np.ndarray) -> np.ndarray:
    """Rectified linear unit ``max(z, 0)``, element-wise. Shapes: any -> same.

    ``z`` is a float32 or float64 array, or a number; ``nan`` and ``±inf`` are refused.
    """
    return np.maximum(number_or_float_array(z, "z", finite=True), 0)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""``log softmax(z)`` by the log-sum-exp shift, stable for any finite logits.

    Shapes: (m, K) -> (m, K), along ``axis`` (the last, the classes, by default)::

        log p_i = z_i − max(z) − log Σ_j exp(z_j − max(z))

    Subtracting the row maximum leaves the result unchanged (softmax is invariant
    to adding a constant to every logit) and makes every ``exp`` at most 1. ``z``
    needs at least one entry along ``axis``; ``nan`` and ``±inf`` are refused.
    """
    z, axis = _softmax_input(z, axis)
    with np.errstate(over="ignore"):  # only a row spanning more than ~1.8e308 overflows
        shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Softmax :math:`p_i = e^{z_i} / \sum_j e^{z_j}` along ``axis``, stable for any finite z.

    Shapes: (m, K) -> (m, K); each row of the result is a probability vector. ``z``
    needs at least one entry along ``axis``; ``nan`` and ``±inf`` are refused (a row
    holding ``inf`` has no finite softmax to give: ``inf − inf`` is ``nan``).
    """
    z, axis = _softmax_input(z, axis)
    return _softmax(z, axis)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """The stable sigmoid, unchecked (modules call it on every step)."""
    e = np.exp(-np.abs(z))  # in (0, 1]: cannot overflow
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """The stable softmax, unchecked (modules call it on every step)."""
    with np.errstate(over="ignore"):  # only a row spanning more than ~1.8e308 overflows
        e = np.exp(z - z.max(axis=axis, keepdims=True))  # every entry in (0, 1]
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_input(z, axis) -> tuple[np.ndarray, int]:
    """Check ``z`` and ``axis`` for :func:`softmax` and :func:`log_softmax`."""
    z = number_or_float_array(z, "z", finite=True)
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"axis must be an integer, got {type(axis).__name__}")
    if z.ndim == 0:
        raise ValueError("z must have at least one axis (a row of logits), got a scalar")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(
            f"axis must lie in [{-z.ndim}, {z.ndim}) for z of shape {z.shape}, got {axis}"
        )
    if z.shape[axis] == 0:
        raise ValueError(
            f"z has no entries along axis {axis} (shape {z.shape}): softmax needs at "
            f"least one class"
        )
    return z, int(axis)


class _Elementwise(Module):
    """Shared checks of the element-wise activations (no parameters).

    ``forward`` returns the array it keeps for ``backward``, marked read-only: an
    in-place edit of it (``A *= 2``) raises at once instead of silently changing the
    gradient. Copy it (``A.copy()``) to edit it. ``forward`` does not look for ``nan``
    or ``inf`` (it runs at every step): they propagate, and the loss refuses them.
    """

    saved_names = ("A",)

    def __init__(self) -> None:
        self.A: np.ndarray | None = None

    def _check_upstream(self, dA: np.ndarray) -> np.ndarray:
        A = require_forward(self, "A")
        float_array(dA, "dA")
        same_shape(dA, "dA", A, "the forward output")
        same_dtype(dA, "dA", A, "the forward output")
        return A


class Sigmoid(_Elementwise):
    """Module ``A = σ(Z)``; backward ``dZ = dA ⊙ A ⊙ (1 − A)``. Keeps ``A``.

    Shapes: Z (m, n) -> A (m, n). Because σ′ = σ(1 − σ) the output alone suffices.
    """

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.A = frozen(_sigmoid(float_array(Z, "Z")))
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._check_upstream(dA)
        return dA * A * (1 - A)


class ReLU(_Elementwise):
    """Module ``A = max(Z, 0)``; backward ``dZ = dA ⊙ [Z > 0]``. Keeps ``A``.

    Shapes: Z (m, n) -> A (m, n). At ``Z = 0`` the derivative is taken as 0 (the
    same choice as PyTorch); since ``A > 0`` exactly when ``Z > 0``, the output
    alone gives the mask.
    """

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.A = frozen(np.maximum(float_array(Z, "Z"), 0))
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._check_upstream(dA)
        return dA * (A > 0)  # dA ⊙ [Z > 0]; the bool mask keeps dA's dtype


class Tanh(_Elementwise):
    """Module ``A = tanh(Z)``; backward ``dZ = dA ⊙ (1 − A²)``. Keeps ``A``.

    Shapes: Z (m, n) -> A (m, n).
    """

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.A = frozen(np.tanh(float_array(Z, "Z")))
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._check_upstream(dA)
        return dA * (1 - A * A)


class Softmax(Module):
    r"""Module ``P = softmax(Z)`` over each row. Keeps ``P``.

    Shapes: Z (m, K) -> P (m, K).

    The Jacobian of one row is :math:`\partial p_i/\partial z_j = p_i(\delta_{ij} - p_j)`;
    its vector–Jacobian product with an upstream row ``dP`` is::

        dZ = P ⊙ (dP − Σ_j dP_j P_j)      # row by row, (m, K)

    To train a classifier use :class:`nnlib.losses.SoftmaxCrossEntropyLoss` on the
    logits instead: the fused backward ``softmax(Z) − Y`` is simpler and stable.

    Like the element-wise modules, ``forward`` returns the kept ``P`` read-only and
    lets ``nan``/``inf`` propagate (so does ``backward``: ``0 · inf`` is ``nan``).
    """

    saved_names = ("P",)

    def __init__(self) -> None:
        self.P: np.ndarray | None = None

    def forward(self, Z: np.ndarray) -> np.ndarray:
        float_array(Z, "Z", ndim=2)
        if Z.shape[1] == 0:
            raise ValueError(f"Z must have at least one column (class), got shape {Z.shape}")
        self.P = frozen(_softmax(Z, 1))
        return self.P

    def backward(self, dP: np.ndarray) -> np.ndarray:
        P = require_forward(self, "P")
        float_array(dP, "dP", ndim=2)
        same_shape(dP, "dP", P, "the forward output")
        same_dtype(dP, "dP", P, "the forward output")
        return P * (dP - (dP * P).sum(axis=1, keepdims=True))  # (m, K)
