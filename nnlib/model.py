"""``Sequential``: modules applied one after the other, backpropagated in reverse.

Chapter: *ReLU and mean squared error* states the algorithm this class runs:

1. forward, from the input to the output, each module keeping what its backward
   pass needs;
2. backward, from the output to the input, each module turning dL/d(its output)
   into dL/d(its input) and adding its parameter gradients.

The backward pass must run in reverse because each module's upstream gradient is
the result of the module after it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .layers import Linear, Module


class Sequential(Module):
    """A chain of modules: ``Sequential(Linear(2, 4, rng=rng), ReLU(), Linear(4, 1, rng=rng))``.

    Shapes: X (m, n_in of the first module) -> output of the last module.

    Each module object may appear once, nested Sequentials included: a module keeps
    the values of one forward pass, so a reused one raises ``ValueError`` (build
    ``ReLU()`` twice rather than reusing one).
    """

    def __init__(self, *modules: Module) -> None:
        if not modules:
            raise ValueError("Sequential needs at least one module")
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"modules[{i}] must be an nnlib Module, got {type(module).__name__}"
                )
        # A module keeps what *one* forward pass needs (its input or output); a second
        # use would overwrite it before the first backward, and its parameters would be
        # stepped twice. So every module may appear once, nested Sequentials included.
        first_seen: dict[int, str] = {}
        for where, module in _positions(modules):
            if id(module) in first_seen:
                raise ValueError(
                    f"{where} is the same object as {first_seen[id(module)]}: each position "
                    f"needs its own instance, e.g. ReLU() twice rather than one ReLU reused"
                )
            first_seen[id(module)] = where
        self.modules = list(modules)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run every module in order; each keeps what its backward needs."""
        for module in self.modules:
            X = module.forward(X)
        return X

    def backward(self, dY: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Run every module's backward in reverse order; return dL/dX.

        With ``input_grad=False``, ``None`` is returned, and a first module that is a
        :class:`Linear` skips its product ``dX = dZ Wᵀ``: every parameter gradient is
        the same, one matrix product fewer (training never needs dL/dX).
        """
        for module in reversed(self.modules[1:]):
            dY = module.backward(dY)
        first = self.modules[0]
        if input_grad:
            return first.backward(dY)
        if isinstance(first, Linear):
            first.backward(dY, input_grad=False)
        else:
            first.backward(dY)
        return None

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The network's output for ``X`` (the forward pass, for inference)."""
        return self.forward(X)

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Yield ``("<index>.<name>", param, grad)``, e.g. ``"0.W"``, ``"0.b"``, ``"2.W"``."""
        for i, module in enumerate(self.modules):
            for name, param, grad in module.named_parameters():
                yield f"{i}.{name}", param, grad

    def saved_for_backward(self) -> dict[str, np.ndarray]:
        """Everything the modules kept, keyed ``"<index>.<name>"``.

        Arrays kept by two modules (a layer's output is the next layer's input) are
        listed under both names; count them once with ``id()`` when adding bytes.
        """
        saved = {}
        for i, module in enumerate(self.modules):
            for name, value in module.saved_for_backward().items():
                saved[f"{i}.{name}"] = value
        return saved

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(m) for m in self.modules)
        return f"Sequential(\n  {inner}\n)"


def _positions(modules, prefix: str = "modules") -> Iterator[tuple[str, Module]]:
    """Yield ``("modules[1].modules[0]", module)`` for every module, nested ones included."""
    for i, module in enumerate(modules):
        where = f"{prefix}[{i}]"
        yield where, module
        if isinstance(module, Sequential):
            yield from _positions(module.modules, f"{where}.modules")
