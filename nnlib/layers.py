"""The module protocol and the dense (fully connected) layer.

Chapter: *Vector derivatives and transposes* derives the three identities that
:meth:`Linear.backward` implements; *Notation* states them.

Conventions used everywhere in nnlib (and in the book):

* rows are samples: ``X`` has shape ``(m, n_in)``;
* a dense layer computes ``Z = X @ W + b`` with ``W`` of shape ``(n_in, n_out)`` and
  ``b`` of shape ``(n_out,)`` broadcast over the rows;
* ``dX`` means dL/dX and has exactly the shape of ``X``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ._validate import FLOAT_DTYPES, float_array, is_frozen, require_forward, same_dtype


class Module:
    """Base class of every layer: ``forward``, ``backward``, ``parameters``.

    The protocol:

    * ``forward(X)`` returns the output and keeps, in named attributes, what
      ``backward`` needs (listed by :meth:`saved_for_backward`).
    * ``backward(dY)`` takes dL/d(output), **adds** the parameter gradients into
      the ``d``-prefixed attributes (so a parameter used twice gets the sum), and
      returns dL/d(input). Calling it before ``forward`` raises ``RuntimeError``.
      (:meth:`Linear.backward` also takes ``input_grad=False``, which skips
      dL/d(input): the first layer of a network never needs it, and
      :func:`nnlib.fit` saves that matrix product, as PyTorch does.)
    * ``parameters()`` yields ``(param, grad)`` pairs; ``zero_grad()`` resets grads.

    Shapes: ``dX`` always has the shape of the module's input ``X``, and each
    gradient the shape of its parameter.
    """

    #: Names of the attributes that ``forward`` fills for ``backward``.
    saved_names: tuple[str, ...] = ()

    def forward(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Return the module's output for ``X`` and keep what ``backward`` needs.

        Shapes: X (m, n_in) -> output (m, n_out), rows as samples.
        """
        raise NotImplementedError

    def backward(self, dY: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Add the parameter gradients for the upstream ``dY`` = dL/d(output); return dL/dX.

        Shapes: dY (m, n_out), the shape of the last output -> dX (m, n_in).
        Raises ``RuntimeError`` if ``forward`` has not run.
        """
        raise NotImplementedError

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Yield ``(name, param, grad)`` triples; a module without parameters yields none."""
        return iter(())

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(param, grad)`` pairs, the arrays themselves (not copies)."""
        for _, param, grad in self.named_parameters():
            yield param, grad

    def zero_grad(self) -> None:
        """Set every gradient to zero, in place."""
        for _, grad in self.parameters():
            grad.fill(0)

    def saved_for_backward(self) -> dict[str, np.ndarray]:
        """The arrays ``forward`` kept for ``backward`` (empty before the first forward).

        Chapter *ReLU and mean squared error* adds up their bytes to measure the
        memory cost of backpropagation.
        """
        saved = {}
        for name in self.saved_names:
            value = getattr(self, name, None)
            if value is not None:
                saved[name] = value
        return saved

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    r"""Dense layer :math:`Z = XW + \mathbf{1}b^\top`.

    Shapes:
        ``X`` (m, n_in) -> ``Z`` (m, n_out); ``W`` (n_in, n_out); ``b`` (n_out,).

    Backward (derived in chapter *Vector derivatives and transposes*), for an
    upstream gradient ``dZ`` of shape (m, n_out)::

        dW = X.T @ dZ        # (n_in, m) @ (m, n_out) -> (n_in, n_out)
        db = dZ.sum(axis=0)  # 1ᵀ dZ                  -> (n_out,)
        dX = dZ @ W.T        # (m, n_out) @ (n_out, n_in) -> (m, n_in)

    Parameters
    ----------
    n_in, n_out:
        Input and output widths.
    rng:
        The random generator that draws the initial weights (keyword-only, required:
        nnlib has no hidden global randomness).
    dtype:
        ``np.float64`` (default) or ``np.float32``; inputs must have the same dtype.
    init:
        ``"he"`` (default; normal with variance 2/n_in, suited to ReLU) or
        ``"xavier"`` (normal with variance 2/(n_in + n_out), suited to sigmoid and tanh).
        The bias starts at zero.

    ``forward`` keeps a reference to ``X`` itself, not a copy (chapter *ReLU and mean
    squared error* counts the memory this saves): **do not modify** ``X`` **in place
    between** ``forward`` **and** ``backward``. ``backward`` checks it: unless ``X`` is a
    read-only array that owns its memory (an activation's output, a batch of
    :func:`nnlib.fit`), ``forward`` also keeps a weighted sum of each row of ``X``, and
    ``backward`` recomputes it and raises ``RuntimeError`` if it changed.
    """

    saved_names = ("X",)

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        rng: np.random.Generator,
        dtype=np.float64,
        init: str = "he",
    ) -> None:
        dtype_arg = dtype
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                f"got {type(rng).__name__}"
            )
        try:
            dtype = np.dtype(dtype)
        except (TypeError, ValueError):  # "garbage", 3.5, a list...
            dtype = None
        if dtype is None or dtype not in FLOAT_DTYPES:  # (np.dtype == None is True!)
            raise TypeError(
                f"dtype must be float32 or float64 (np.float32, np.float64 or their names), "
                f"got {dtype if dtype is not None else repr(dtype_arg)}"
            )
        if init == "he":
            std = np.sqrt(2.0 / n_in)
        elif init == "xavier":
            std = np.sqrt(2.0 / (n_in + n_out))
        else:
            raise ValueError(f"init must be 'he' or 'xavier', got {init!r}")
        self.n_in, self.n_out, self.dtype = int(n_in), int(n_out), dtype
        self.W = (rng.standard_normal((n_in, n_out)) * std).astype(dtype)  # (n_in, n_out)
        self.b = np.zeros(n_out, dtype=dtype)  # (n_out,)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.X: np.ndarray | None = None
        self._row_weights = np.linspace(1.0, 2.0, n_in, dtype=dtype)  # (n_in,)
        self._X_check: np.ndarray | None = None  # X @ _row_weights, (m,), see forward

    def forward(self, X: np.ndarray) -> np.ndarray:
        """``Z = X @ W + b``. Shapes: X (m, n_in) -> Z (m, n_out). Keeps ``X``."""
        float_array(X, "X", ndim=2)
        if X.shape[1] != self.n_in:
            raise ValueError(
                f"X must have shape (m, {self.n_in}) to match W of shape {self.W.shape}, "
                f"got {X.shape}"
            )
        same_dtype(X, "X", self.W, "W")
        self.X = X
        # A caller's writeable X may be edited before backward: keep a fingerprint,
        # one weighted sum per row (a row swap or a swap inside a row changes it).
        self._X_check = None if is_frozen(X) else self._fingerprint(X)
        Z = X @ self.W  # (m, n_in) @ (n_in, n_out) -> (m, n_out)
        Z += self.b  # broadcast (n_out,) over the m rows
        return Z

    def backward(self, dZ: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Accumulate ``dW += Xᵀ dZ``, ``db += 1ᵀ dZ``; return ``dX = dZ Wᵀ``.

        Shapes: dZ (m, n_out) -> dX (m, n_in); ``None`` with ``input_grad=False``.
        """
        X = require_forward(self, "X")
        if not isinstance(input_grad, bool):
            raise TypeError(f"input_grad must be True or False, got {input_grad!r}")
        float_array(dZ, "dZ", ndim=2)
        if dZ.shape != (X.shape[0], self.n_out):
            raise ValueError(
                f"dZ must have the shape of the layer's output, {(X.shape[0], self.n_out)}, "
                f"got {dZ.shape}"
            )
        same_dtype(dZ, "dZ", self.W, "W")
        if self._X_check is not None and not np.array_equal(
            self._fingerprint(X), self._X_check, equal_nan=True
        ):
            raise RuntimeError(
                "X was modified in place between Linear.forward and Linear.backward: the "
                "layer keeps a reference to X, not a copy, so dW would be wrong; pass "
                "X.copy() to forward, or run forward again after changing X"
            )
        self.dW += X.T @ dZ  # (n_in, m) @ (m, n_out) -> (n_in, n_out)
        self.db += dZ.sum(axis=0)  # (m, n_out) -> (n_out,)
        if not input_grad:
            return None
        return dZ @ self.W.T  # (m, n_out) @ (n_out, n_in) -> (m, n_in)

    def _fingerprint(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # huge or non-finite X: compared with equal_nan
            return X @ self._row_weights  # (m, n_in) @ (n_in,) -> (m,)

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        yield "W", self.W, self.dW
        yield "b", self.b, self.db

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, dtype={self.dtype.name})"
