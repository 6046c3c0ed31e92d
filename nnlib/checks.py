"""Two checks every chapter uses: independent results agree, and a slip fails.

``agree`` compares two arrays computed independently (a formula and central
differences, a formula and nnlib's backward pass, sympy's expression evaluated at
numbers and nnlib) and raises ``AssertionError`` unless their relative error is below
``tol``. ``fails`` runs a check on a deliberately slipped formula (a dropped ``1/m``, a
missing transpose, a flipped sign) and returns the check's message, raising if the
check *passed*: a check that cannot fail proves nothing, and ``fails`` is how the book
shows that each check has teeth.

Chapters: every chapter; *Notation* introduces them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .gradcheck import relative_error


def agree(computed, reference, *, tol: float = 1e-7, name: str = "") -> float:
    r"""Assert ``relative_error(computed, reference) < tol``; return the error.

    The relative error is :math:`\lVert a - r \rVert / (\lVert a \rVert + \lVert r \rVert)`
    (see :func:`nnlib.relative_error`): about 1 for unrelated arrays, about ``1/3``
    for a gradient off by a factor 2, and far below ``1e-7`` for a correct float64
    formula against central differences.

    Shapes: two arrays (or numbers) of the same shape -> float. A shape mismatch is an
    ``AssertionError`` too (a slip such as ``G @ X.T`` in place of ``X.T @ G`` often
    shows first as a wrong shape).
    """
    a = np.asarray(computed, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    label = f"{name}: " if name else ""
    if a.shape != r.shape:
        raise AssertionError(f"{label}shape {a.shape} differs from the reference {r.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(r))):
        raise AssertionError(f"{label}non-finite values")
    err = relative_error(a, r)
    if not err < tol:
        raise AssertionError(f"{label}relative error {err:.2g}, not below {tol:.0e}")
    return err


def fails(check: Callable[[], object]) -> str:
    """Run ``check()`` expecting an ``AssertionError``; return its message.

    Shapes: none (``check`` takes no arguments).

    Use it on a slipped formula, for example
    ``fails(lambda: agree(X @ dZ.T, numeric))``. If the check passes, the slip went
    unnoticed and ``fails`` itself raises ``AssertionError``; any other exception is
    passed through unchanged.
    """
    if not callable(check):
        raise TypeError(f"check must be a callable taking no arguments, got {type(check).__name__}")
    try:
        check()
    except AssertionError as exc:
        return str(exc) or type(exc).__name__
    raise AssertionError("the check passed on the slipped formula: it cannot catch this slip")
