"""Input checks shared by nnlib's modules.

Every public entry point of nnlib checks what it is given and fails with a message
that names the argument, the shape (or dtype) it expected and the one it received.
These helpers keep those messages uniform. They are private: chapters never call them.

The policy they implement, stated once (the package docstring repeats it):

* **Non-finite values** (``nan``, ``±inf``) are refused with ``ValueError`` where data
  enter nnlib: :func:`~nnlib.fit` (``X``, ``y``, ``validation_data``), ``predict``, every
  loss, the activation functions, the gradient checks and :func:`~nnlib.load`. A
  module's ``forward`` and ``backward`` do not look for them (they run at every
  training step): there ``nan`` and ``inf`` propagate as IEEE arithmetic says, and the
  loss refuses them at the end of the forward pass, which ``fit`` reports as a
  divergence with its epoch and batch.
* **Empty batches**: a forward pass of 0 rows gives 0 rows; a mean over 0 rows (a
  loss, :func:`~nnlib.accuracy`, ``fit``) is undefined and refused with ``ValueError``.
"""

from __future__ import annotations

import numbers

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
    if finite:
        require_finite(x, name)
    return x


def require_finite(x: np.ndarray, name: str) -> None:
    """Refuse ``nan`` and ``±inf`` in the array ``x``, saying how many there are."""
    if not np.isfinite(x).all():
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        raise ValueError(f"{name} contains {bad} non-finite value(s) (nan or inf)")


def require_rows(x: np.ndarray, name: str, what: str) -> None:
    """Refuse an empty batch where a mean over the rows is taken."""
    if x.shape[0] == 0:
        raise ValueError(
            f"{name} has 0 rows (shape {x.shape}): {what} is a mean over the rows, "
            f"and the mean of an empty batch is undefined"
        )


def is_number(x) -> bool:
    """A real number: Python int/float or a numpy integer/floating scalar, not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def positive_int(x, name: str) -> int:
    """Return ``x`` as an int if it is a positive integer (numpy integers too), else raise."""
    if isinstance(x, bool | np.bool_) or not isinstance(x, int | np.integer) or x < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return int(x)


def positive_finite(x, name: str) -> float:
    """Return ``x`` as a float if it is a finite number > 0, else raise."""
    if not is_number(x):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    value = float(x)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return value


def number_or_float_array(x, name: str, *, finite: bool = False) -> np.ndarray:
    """A number becomes a 0-d array (``sigmoid(0.0)`` works); arrays are checked.

    Python numbers and numpy integers become float64; a numpy float32 or float64
    scalar keeps its dtype (float32 in, float32 out).
    """
    if isinstance(x, np.floating) and not isinstance(x, float):
        x = np.asarray(x)  # np.float32(1.5) -> 0-d float32; float16 is refused below
    elif is_number(x):
        try:
            x = np.asarray(float(x), dtype=np.float64)
        except OverflowError:
            raise ValueError(f"{name} = {x!r} is too large for float64") from None
    return float_array(x, name, finite=finite)


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


def frozen(x: np.ndarray) -> np.ndarray:
    """Mark an array that nnlib made and keeps read-only, and return it.

    A module that keeps its own output (an activation's ``A``) hands that same array to
    its caller; an in-place edit of it would silently change the gradient, so numpy
    refuses the edit instead ("assignment destination is read-only").
    """
    x.flags.writeable = False
    return x


def is_frozen(x: np.ndarray) -> bool:
    """True for a read-only array that owns its memory: nothing can edit it in place.

    nnlib's own kept outputs (see :func:`frozen`) and the batches :func:`~nnlib.fit`
    gathers are such arrays; a read-only *view* is not, since its base may be writeable.
    """
    return not x.flags.writeable and x.base is None
