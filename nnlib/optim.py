"""Gradient descent: ``W := W − α ∂L/∂W``, optionally with momentum.

Chapter: *The chain rule* introduces the update rule and the learning rate α.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ._validate import FLOAT_DTYPES, is_number


class SGD:
    r"""Stochastic gradient descent on ``(param, grad)`` pairs, updated in place.

    Without momentum: :math:`\theta \leftarrow \theta - \alpha\,g`.
    With momentum μ (PyTorch's form): :math:`v \leftarrow \mu v + g,\;
    \theta \leftarrow \theta - \alpha v`.

    Shapes: every ``grad`` has the shape of its ``param``.

    Parameters
    ----------
    params:
        An iterable of ``(param, grad)`` pairs, usually ``model.parameters()``.
    lr:
        The learning rate α > 0.
    momentum:
        μ in [0, 1); 0 gives plain gradient descent.

    Every parameter must appear once (one used twice would be stepped twice), own
    its memory apart from the others, be writeable, and have the dtype (float32 or
    float64) and shape of its gradient: anything else raises when the optimizer is
    built, not silently at ``step()``.
    """

    def __init__(
        self, params: Iterable[tuple[np.ndarray, np.ndarray]], lr: float, momentum: float = 0.0
    ) -> None:
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(
                f"params must be (param, grad) pairs, got a {type(params).__name__}: "
                f"pass its parameters, SGD(model.parameters(), lr=...)"
            )
        if isinstance(params, np.ndarray | dict | str | bytes) or not isinstance(
            params, Iterable
        ):
            raise TypeError(
                f"params must be an iterable of (param, grad) pairs such as "
                f"model.parameters(), got {type(params).__name__}"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError(
                "params is empty: nothing to optimise (model.parameters() is a generator, "
                "used up by a first SGD or list(); call it again)"
            )
        for i, pair in enumerate(self.params):
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(
                    f"params[{i}] must be a (param, grad) pair, got {type(pair).__name__}"
                )
            param, grad = pair
            if not (isinstance(param, np.ndarray) and isinstance(grad, np.ndarray)):
                raise TypeError(f"params[{i}] must hold two numpy arrays")
            if param.shape != grad.shape:
                raise ValueError(
                    f"params[{i}]: grad must have the shape of param, {param.shape}, "
                    f"got {grad.shape}"
                )
            if param.dtype not in FLOAT_DTYPES or grad.dtype != param.dtype:
                raise TypeError(
                    f"params[{i}]: param and grad must have one dtype, float32 or float64, "
                    f"got param {param.dtype} and grad {grad.dtype}"
                )
            if not param.flags.writeable:
                raise ValueError(f"params[{i}]: param is read-only, so it cannot be updated")
        _refuse_shared_memory(self.params)
        for name, value in (("lr", lr), ("momentum", momentum)):
            if not is_number(value):
                raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p) for p, _ in self.params] if momentum else None

    def step(self) -> None:
        """Update every parameter in place from its current gradient."""
        if self.velocity is None:
            for param, grad in self.params:
                param -= self.lr * grad
        else:
            for (param, grad), v in zip(self.params, self.velocity, strict=True):
                v *= self.momentum
                v += grad
                param -= self.lr * v

    def zero_grad(self) -> None:
        """Reset every gradient to zero (gradients accumulate across backward calls)."""
        for _, grad in self.params:
            grad.fill(0)


def _refuse_shared_memory(params: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Refuse a parameter listed twice, or any two of the arrays that overlap in memory.

    A parameter given twice would be stepped twice per ``step()``; a gradient that
    shares memory with a parameter or another gradient would be overwritten by them.
    """
    arrays = [(f"params[{i}][{j}]", a) for i, pair in enumerate(params) for j, a in enumerate(pair)]
    for k, (name, a) in enumerate(arrays):
        for other, b in arrays[:k]:
            if np.may_share_memory(a, b):
                raise ValueError(
                    f"{name} shares memory with {other} (the same array, or views of one): "
                    f"each parameter and each gradient must appear once"
                )
