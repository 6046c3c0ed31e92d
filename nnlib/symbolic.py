"""sympy helpers that let a chapter *derive* a gradient and assert the displayed formula.

Used by the chapters and the tests to check every displayed derivative symbolically;
never used on the numeric path (``import nnlib`` does not import sympy).

Typical use, for a dense layer with an upstream gradient ``G``::

    X, W, G = matrix("x", 2, 3), matrix("w", 3, 2), matrix("g", 2, 2)
    L = sum_entries(G.multiply_elementwise(X * W))      # L = Σ G ⊙ (XW)
    assert_equal(grad(L, W), X.T * G)                   # dL/dW = Xᵀ G
"""

from __future__ import annotations

import numpy as np
import sympy as sp


def matrix(name: str, rows: int, cols: int, **assumptions) -> sp.Matrix:
    """A ``rows × cols`` matrix of symbols ``name_{i,j}`` (1-based, as in the text).

    Shapes: -> sympy Matrix (rows, cols). Symbols are real unless told otherwise.
    """
    for arg, value in (("rows", rows), ("cols", cols)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg} must be a positive integer, got {value!r}")
    assumptions.setdefault("real", True)
    return sp.Matrix(
        rows, cols, lambda i, j: sp.Symbol(f"{name}_{{{i + 1},{j + 1}}}", **assumptions)
    )


def vector(name: str, n: int, **assumptions) -> sp.Matrix:
    """A column vector of symbols ``name_{i}`` (1-based). Shapes: -> (n, 1)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    assumptions.setdefault("real", True)
    return sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"{name}_{{{i + 1}}}", **assumptions))


def ones(m: int) -> sp.Matrix:
    """The column of ones ``1``, so that ``1 * bᵀ`` repeats a row. Shapes: -> (m, 1)."""
    return sp.ones(m, 1)


def sum_entries(M: sp.Matrix) -> sp.Expr:
    """Σ of all entries of a matrix. Shapes: (r, c) -> scalar expression."""
    return sp.Add(*M)


def grad(expr: sp.Expr, M: sp.Matrix) -> sp.Matrix:
    """Gradient of a scalar ``expr`` with respect to every entry of ``M``.

    Shapes: M (r, c) -> (r, c): entry (i, j) is ∂expr/∂M[i, j], so the gradient has
    the shape of the variable, as ``dW`` has the shape of ``W`` in nnlib.
    Every entry of ``M`` must be a symbol.
    """
    M = sp.Matrix(M)
    for entry in M:
        if not isinstance(entry, sp.Symbol):
            raise TypeError(f"every entry of M must be a sympy Symbol, got {entry!r}")
    return M.applyfunc(lambda s: sp.diff(expr, s))


def assert_equal(a, b, msg: str = "") -> None:
    """Assert that two expressions (or matrices of the same shape) are identical.

    Shapes: scalar and scalar, or (r, c) and (r, c).

    The difference is simplified to zero entry by entry; otherwise an
    ``AssertionError`` shows the first entry that does not vanish.
    """
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        a, b = sp.Matrix(a), sp.Matrix(b)
        if a.shape != b.shape:
            raise AssertionError(f"{msg} shapes differ: {a.shape} vs {b.shape}".strip())
        for idx, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = sp.simplify(sp.expand(x - y))
            if diff != 0:
                i, j = divmod(idx, a.shape[1])
                raise AssertionError(
                    f"{msg} entry ({i}, {j}) differs: {x} - ({y}) = {diff}".strip()
                )
        return
    diff = sp.simplify(sp.expand(a - b))
    if diff != 0:
        raise AssertionError(f"{msg} {a} - ({b}) simplifies to {diff}, not 0".strip())


def to_numpy(M: sp.Matrix, subs: dict) -> np.ndarray:
    """Evaluate a symbolic matrix at numeric values ``subs`` (symbol -> number) as float64.

    Shapes: (r, c) -> ndarray (r, c). Lets a chapter compare the sympy formula with
    nnlib's numbers on the same inputs. Every symbol of ``M`` should be in ``subs``
    (``xreplace`` swaps symbols for numbers without re-simplifying, which is fast).
    """
    return np.array(sp.Matrix(M).xreplace(subs).evalf(), dtype=np.float64)


def substitutions(M: sp.Matrix, values) -> dict:
    """``{symbol: value}`` pairing each entry of ``M`` with the entry of ``values``.

    Shapes: M (r, c) and values (r, c) -> dict of r·c entries.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != M.shape:
        raise ValueError(f"values must have the shape of M, {M.shape}, got {values.shape}")
    return {s: float(v) for s, v in zip(M, values.ravel(), strict=True)}
