"""Gradient descent: ``W := W − α ∂L/∂W``, optionally with momentum.

Chapter: *The chain rule* introduces the update rule and the learning rate α.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


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
    """

    def __init__(
        self, params: Iterable[tuple[np.ndarray, np.ndarray]], lr: float, momentum: float = 0.0
    ) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty: nothing to optimise")
        for i, pair in enumerate(self.params):
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(f"params[{i}] must be a (param, grad) pair")
            param, grad = pair
            if not (isinstance(param, np.ndarray) and isinstance(grad, np.ndarray)):
                raise TypeError(f"params[{i}] must hold two numpy arrays")
            if param.shape != grad.shape:
                raise ValueError(
                    f"params[{i}]: grad must have the shape of param, {param.shape}, "
                    f"got {grad.shape}"
                )
        for name, value in (("lr", lr), ("momentum", momentum)):
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
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
