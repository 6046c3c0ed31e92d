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

from ._validate import float_array
from .activations import ReLU, Sigmoid, Softmax, Tanh
from .layers import Linear, Module

#: Modules whose output has the width and dtype of their input.
_WIDTH_PRESERVING = (ReLU, Sigmoid, Softmax, Tanh)


class Sequential(Module):
    """A chain of modules: ``Sequential(Linear(2, 4, rng=rng), ReLU(), Linear(4, 1, rng=rng))``.

    Shapes: X (m, n_in of the first module) -> output of the last module.

    Each module object may appear once, nested Sequentials included: a module keeps
    the values of one forward pass, so a reused one raises ``ValueError`` (build
    ``ReLU()`` twice rather than reusing one).

    The chain is checked when it is built: each ``Linear``'s ``n_in`` must equal the
    width that reaches it (through the activations, which keep widths) and every
    ``Linear`` must have the same dtype. A module that fails during ``forward`` or
    ``backward`` is named in the error, e.g. ``modules[2] Linear(5, 1, dtype=float64):
    X must have shape (m, 5) ...``.
    """

    def __init__(self, *modules: Module) -> None:
        if not modules:
            raise ValueError("Sequential needs at least one module")
        for i, module in enumerate(modules):
            if isinstance(module, type) and issubclass(module, Module):
                raise TypeError(
                    f"modules[{i}] is the class {module.__name__}, not a module: "
                    f"create one, e.g. {module.__name__}(...)"
                )
            if isinstance(module, list | tuple):
                raise TypeError(
                    f"modules[{i}] must be an nnlib Module, got {type(module).__name__}; "
                    f"pass the modules one by one: Sequential(*modules)"
                )
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
        _check_chain(modules)
        self.modules = list(modules)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run every module in order; each keeps what its backward needs.

        Shapes: X (m, n_in) -> the last module's output, (m, n_out).
        """
        for i, module in enumerate(self.modules):
            try:
                X = module.forward(X)
            except (ValueError, TypeError, RuntimeError) as error:
                raise _named(error, i, module) from error
        return X

    def backward(self, dY: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Run every module's backward in reverse order; return dL/dX.

        With ``input_grad=False``, ``None`` is returned, and a first module that is a
        :class:`Linear` skips its product ``dX = dZ Wᵀ``: every parameter gradient is
        the same, one matrix product fewer (training never needs dL/dX).

        Shapes: dY (m, n_out), the shape of the last output -> dX (m, n_in).
        """
        if not isinstance(input_grad, bool):
            raise TypeError(f"input_grad must be True or False, got {input_grad!r}")
        last = len(self.modules) - 1
        for i in range(last, 0, -1):
            try:
                dY = self.modules[i].backward(dY)
            except (ValueError, TypeError, RuntimeError) as error:
                raise _named(error, i, self.modules[i]) from error
        first = self.modules[0]
        try:
            if input_grad:
                return first.backward(dY)
            if isinstance(first, Linear | Sequential):
                first.backward(dY, input_grad=False)
            else:
                first.backward(dY)
        except (ValueError, TypeError, RuntimeError) as error:
            raise _named(error, 0, first) from error
        return None

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The network's output for ``X`` (the forward pass, for inference).

        Shapes: X (m, n_in) -> (m, n_out). Unlike ``forward``, it refuses ``nan`` and
        ``inf`` in ``X`` (``ValueError``), and always returns an array the caller may
        edit (a copy when the last module keeps its output read-only).
        """
        float_array(X, "X", finite=True)
        out = self.forward(X)
        return out if out.flags.writeable else out.copy()

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


def _named(error: Exception, i: int, module: Module) -> Exception:
    """The same kind of error, its message prefixed with the failing module's position.

    Only nnlib's plain ``ValueError``/``TypeError``/``RuntimeError`` are renamed; a
    subclass (numpy's own, or a user's) is passed on as it is.
    """
    if type(error) not in (ValueError, TypeError, RuntimeError):
        return error
    return type(error)(f"modules[{i}] {_label(module)}: {error}")


def _widths(modules) -> tuple:
    """``(n_in, n_out, dtype)`` of a chain, ``None`` where unknown; raise if broken."""
    n_in = width = dtype = None
    dtype_at = ""
    for i, module in enumerate(modules):
        if isinstance(module, Sequential):
            sub_in, sub_out, sub_dtype = _widths(module.modules)
        elif isinstance(module, Linear):
            sub_in, sub_out, sub_dtype = module.n_in, module.n_out, module.dtype
        elif isinstance(module, _WIDTH_PRESERVING):
            continue
        else:  # a module nnlib does not know: its widths are unknown
            width = dtype = None
            if n_in is None:
                n_in = False  # the chain's input width is unknown, not merely unset
            continue
        if width is not None and sub_in is not None and sub_in != width:
            raise ValueError(
                f"modules[{i}] {_label(module)} expects inputs of width {sub_in}, but the "
                f"modules before it give width {width}: the widths must chain"
            )
        if dtype is not None and sub_dtype is not None and sub_dtype != dtype:
            raise TypeError(
                f"modules[{i}] {_label(module)} has dtype {sub_dtype} but {dtype_at} has "
                f"dtype {dtype}: every layer of a Sequential needs the same dtype"
            )
        if n_in is None:
            n_in = sub_in
        width = sub_out
        if sub_dtype is not None:
            dtype, dtype_at = sub_dtype, f"modules[{i}] {_label(module)}"
    return (n_in or None), width, dtype


def _label(module: Module) -> str:
    return "Sequential" if isinstance(module, Sequential) else repr(module)


def _check_chain(modules) -> None:
    """Refuse, when a Sequential is built, widths or dtypes that cannot chain."""
    _widths(modules)


def _positions(modules, prefix: str = "modules") -> Iterator[tuple[str, Module]]:
    """Yield ``("modules[1].modules[0]", module)`` for every module, nested ones included."""
    for i, module in enumerate(modules):
        where = f"{prefix}[{i}]"
        yield where, module
        if isinstance(module, Sequential):
            yield from _positions(module.modules, f"{where}.modules")
