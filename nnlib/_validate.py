"""Input checks shared by nnlib's modules.

Every public entry point of nnlib checks what it is given and fails with a message
that names the argument, the shape (or dtype) it expected and the one it received.
These helpers keep those messages uniform. They are private: chapters never call them.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_array(x, name: str, *, ndim: int | None = None, finite: bool = False) -> np.ndarray:
    """Return ``x`` if it is a float32/float64 ndarray of the given rank, else raise.

    No conversion happens: a list, an integer array or a float16 array is refused,
    so that nothing is silently copied or upcast on the hot path.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array of float32 or float64, got {type(x).__name__}"
        )
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D with rows as samples, got shape {x.shape} ({x.ndim}-D)"
        )
    if finite and not np.isfinite(x).all():
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        raise ValueError(f"{name} contains {bad} non-finite value(s) (nan or inf)")
    return x


def number_or_float_array(x, name: str) -> np.ndarray:
    """A Python number becomes a float64 array (``sigmoid(0.0)`` works); arrays are checked."""
    if isinstance(x, int | float) and not isinstance(x, bool):
        return np.asarray(x, dtype=np.float64)
    return float_array(x, name)


def same_dtype(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Refuse to mix float32 and float64 (nnlib never upcasts silently)."""
    if a.dtype != b.dtype:
        raise TypeError(
            f"{a_name} has dtype {a.dtype} but {b_name} has dtype {b.dtype}; "
            f"nnlib does not mix dtypes: convert one with .astype(np.{b.dtype})"
        )


def same_shape(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Refuse silent broadcasting between two arrays that must match exactly."""
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} must have the shape of {b_name}, {b.shape}, got {a.shape}"
        )


def require_forward(owner: object, attr: str) -> np.ndarray:
    """Return what ``forward`` kept in ``owner.attr``, or explain that it never ran."""
    value = getattr(owner, attr, None)
    if value is None:
        raise RuntimeError(
            f"{type(owner).__name__}.backward called before forward: "
            f"nothing is kept in .{attr} yet"
        )
    return value
