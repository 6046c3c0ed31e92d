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
    """
    z = number_or_float_array(z, "z")
    e = np.exp(-np.abs(z))  # in (0, 1]: cannot overflow
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def relu(z: np.ndarray) -> np.ndarray:
    """Rectified linear unit ``max(z, 0)``, element-wise. Shapes: any -> same."""
    z = number_or_float_array(z, "z")
    return np.maximum(z, 0)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""``log softmax(z)`` by the log-sum-exp shift, stable for any finite logits.

    Shapes: (m, K) -> (m, K), along ``axis`` (the last, the classes, by default)::

        log p_i = z_i − max(z) − log Σ_j exp(z_j − max(z))

    Subtracting the row maximum leaves the result unchanged (softmax is invariant
    to adding a constant to every logit) and makes every ``exp`` at most 1.
    """
    z = number_or_float_array(z, "z")
    with np.errstate(over="ignore"):  # only a row spanning more than ~1.8e308 overflows
        shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Softmax :math:`p_i = e^{z_i} / \sum_j e^{z_j}` along ``axis``, stable for any finite z.

    Shapes: (m, K) -> (m, K); each row of the result is a probability vector.
    """
    z = number_or_float_array(z, "z")
    with np.errstate(over="ignore"):  # only a row spanning more than ~1.8e308 overflows
        e = np.exp(z - z.max(axis=axis, keepdims=True))  # every entry in (0, 1]
    e /= e.sum(axis=axis, keepdims=True)
    return e


class _Elementwise(Module):
    """Shared checks of the element-wise activations (no parameters)."""

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
        self.A = sigmoid(float_array(Z, "Z"))
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
        self.A = relu(float_array(Z, "Z"))
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._check_upstream(dA)
        return dA * (A > 0)  # dA ⊙ [Z > 0]; the bool mask keeps dA's dtype


class Tanh(_Elementwise):
    """Module ``A = tanh(Z)``; backward ``dZ = dA ⊙ (1 − A²)``. Keeps ``A``.

    Shapes: Z (m, n) -> A (m, n).
    """

    def forward(self, Z: np.ndarray) -> np.ndarray:
        float_array(Z, "Z")
        self.A = np.tanh(Z)
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
    """

    saved_names = ("P",)

    def __init__(self) -> None:
        self.P: np.ndarray | None = None

    def forward(self, Z: np.ndarray) -> np.ndarray:
        float_array(Z, "Z", ndim=2)
        self.P = softmax(Z)
        return self.P

    def backward(self, dP: np.ndarray) -> np.ndarray:
        P = require_forward(self, "P")
        float_array(dP, "dP", ndim=2)
        same_shape(dP, "dP", P, "the forward output")
        same_dtype(dP, "dP", P, "the forward output")
        return P * (dP - (dP * P).sum(axis=1, keepdims=True))  # (m, K)
