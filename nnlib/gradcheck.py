r"""Finite-difference gradient checks: measure a derivative instead of trusting it.

The central difference

.. math::
    \frac{\partial f}{\partial x_k}
    \approx \frac{f(x + \varepsilon e_k) - f(x - \varepsilon e_k)}{2\varepsilon}

has an error of order ε² (the first-order terms of the two Taylor expansions
cancel), against order ε for the one-sided difference. With ε = 1e-6 in float64 the
truncation error (~ε²) and the rounding error (~1e-16/ε) are both around 1e-10 to
1e-12, so an analytic gradient that is right agrees to a relative error far below
1e-7, and one with a slip (a missing transpose, a missing 1/m) is off by order 1.
In float32 the rounding error alone is ~1e-7/ε: the check would be meaningless, so
it is refused.

Chapters: every chapter; *The chain rule* introduces it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validate import is_number, positive_finite, require_finite
from .layers import Module
from .losses import Loss


def _require_float64(x: np.ndarray, name: str) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype != np.float64:
        raise TypeError(
            f"{name} has dtype {x.dtype}: finite differences need float64 (in float32 the "
            f"rounding error of f(x ± eps) swamps the difference); use .astype(np.float64)"
        )


def _scalar(value, what: str) -> float:
    """``value`` as a float if it is one finite real number (a 0-d array counts), else raise."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if not is_number(value):
        got = (f"an array of shape {value.shape}" if isinstance(value, np.ndarray)
               else type(value).__name__)
        raise TypeError(
            f"f must return a scalar (a number or a 0-d array), but {what} gave {got}; "
            f"for a function with an array output pass upstream= (a vector–Jacobian product)"
        )
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{what} is {value}: f must be finite near x to be differentiated")
    return value


def numerical_gradient(
    f: Callable, x, eps: float = 1e-6, *, upstream: np.ndarray | None = None
):
    """Central-difference gradient of ``f`` at ``x``.

    Shapes:
        * ``x`` a number (Python or numpy): ``f(x)`` returns a number; the result is
          a float.
        * ``x`` a float64 array of any shape: ``f(x)`` returns a number, computed
          from the array ``x`` itself, which is perturbed **in place** one entry at
          a time and restored (also when ``f`` raises); the result has the shape of ``x``.
        * with ``upstream``: ``f(x)`` returns an array of the shape of ``upstream``
          and the result is the vector–Jacobian product ``∂(Σ upstream ⊙ f(x))/∂x``.

    float32 arrays are refused (see the module docstring), and so are: an ``eps``
    that is not a finite number > 0, a non-finite or read-only ``x``, and an ``f``
    whose value is not one finite number (``TypeError``/``ValueError`` naming them).
    """
    if not callable(f):
        raise TypeError(f"f must be a function of x, got {type(f).__name__}")
    eps = positive_finite(eps, "eps")
    if is_number(x):
        if upstream is not None:
            raise ValueError("upstream needs an array x; for a Python float x, f(x) is a number")
        x = float(x)
        if not np.isfinite(x):
            raise ValueError(f"x must be finite, got {x}")
        f_plus = _scalar(f(x + eps), "f(x + eps)")
        f_minus = _scalar(f(x - eps), "f(x - eps)")
        return (f_plus - f_minus) / (2 * eps)
    _require_float64(x, "x")
    require_finite(x, "x")
    if not x.flags.writeable:
        raise ValueError("x is read-only, but numerical_gradient perturbs it in place")
    if upstream is None:

        def scalar(arr, what):
            return _scalar(f(arr), what)

    else:
        _require_float64(upstream, "upstream")
        require_finite(upstream, "upstream")

        def scalar(arr, what):
            out = f(arr)
            if not (isinstance(out, np.ndarray) or is_number(out)):
                raise TypeError(f"f(x) must return an array, got {type(out).__name__}")
            out = np.asarray(out)
            if out.shape != upstream.shape:
                raise ValueError(
                    f"f(x) must have the shape of upstream, {upstream.shape}, got {out.shape}"
                )
            return _scalar(np.vdot(upstream, out), f"Σ upstream ⊙ {what}")

    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        saved = x[k]
        where = f"[{', '.join(map(str, k))}]"
        try:
            x[k] = saved + eps
            f_plus = scalar(x, f"f(x) with x{where} + eps")
            x[k] = saved - eps
            f_minus = scalar(x, f"f(x) with x{where} - eps")
        finally:
            x[k] = saved  # restored even if f raised
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``‖a − n‖ / (‖a‖ + ‖n‖)``: 0 when equal, about 1 when unrelated, 0 if both are 0.

    The norm-based form stays meaningful where single entries are (near) zero.
    Shapes: two arrays of the same shape -> float.
    """
    a = _real_array(analytic, "analytic")
    n = _real_array(numeric, "numeric")
    if a.shape != n.shape:
        raise ValueError(f"analytic has shape {a.shape} but numeric has shape {n.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - n) / denom)


def _real_array(x, name: str) -> np.ndarray:
    """``x`` (an array or a number) as a finite float64 array, or raise naming it."""
    if not (isinstance(x, np.ndarray | list | tuple) or is_number(x)):
        raise TypeError(f"{name} must be a numpy array or a number, got {type(x).__name__}")
    try:
        x = np.asarray(x)
    except ValueError as error:  # a ragged list
        raise ValueError(f"{name} must be a rectangular array: {error}") from None
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64)
    require_finite(x, name)
    return x


def gradient_errors(
    obj: Module | Loss,
    X: np.ndarray,
    target: np.ndarray | None = None,
    *,
    loss: Loss | None = None,
    dY: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Relative error of every analytic gradient against central differences.

    Three forms:

    * ``gradient_errors(module, X, dY=dY)``: the scalar is ``Σ dY ⊙ module(X)``
      (``dY`` drawn from ``rng``, or seed 0, when not given). Checks ``module.backward``.
    * ``gradient_errors(module, X, target, loss=loss)``: the scalar is
      ``loss(module(X), target)``. Checks the whole chain.
    * ``gradient_errors(loss, pred, target)``: the scalar is ``loss(pred, target)``.

    Shapes: X (m, n_in) float64 (or pred (m, k) for a loss); dY of the module's
    output shape; target as the loss expects -> dict of floats.

    Returns ``{"X": err, "<param name>": err, ...}`` (parameters named as in
    ``named_parameters``; the input is called ``"X"``, or ``"pred"`` for a loss).
    The module's gradients are reset with ``zero_grad()`` first, and again on exit
    (also when a check raises). ``eps`` must be a finite number > 0, ``rng`` a numpy
    ``Generator`` (or ``None``), ``X`` finite; an argument the chosen form does not use
    (``target`` without ``loss=``, ``dY`` with ``loss=``) is refused, not ignored.
    """
    if isinstance(obj, type):
        raise TypeError(f"obj must be an instance, got the class {obj.__name__}")
    if not isinstance(obj, Module | Loss):
        raise TypeError(f"obj must be an nnlib Module or Loss, got {type(obj).__name__}")
    _require_float64(X, "X")
    require_finite(X, "X")
    eps = positive_finite(eps, "eps")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)) or None, "
            f"got {type(rng).__name__}"
        )
    if loss is not None and not isinstance(loss, Loss):
        raise TypeError(f"loss must be an nnlib Loss instance, got {type(loss).__name__}")
    if isinstance(obj, Loss):
        if target is None:
            raise ValueError(
                "checking a loss needs its target: gradient_errors(loss, pred, target)"
            )
        if loss is not None or dY is not None:
            raise ValueError(
                "checking a loss takes no loss= or dY=: gradient_errors(loss, pred, target)"
            )
        obj.forward(X, target)
        analytic = obj.backward()
        numeric = numerical_gradient(lambda p: obj.forward(p, target), X, eps)
        return {"pred": relative_error(analytic, numeric)}
    if target is not None and loss is None:
        raise ValueError(
            "target was given without loss=: gradient_errors(model, X, target, loss=loss) "
            "(without a loss, the scalar is Σ dY ⊙ model(X) and has no target)"
        )
    if loss is not None and dY is not None:
        raise ValueError("dY is not used with loss= (the loss gives the upstream gradient)")
    try:
        return _module_errors(obj, X, target, loss, dY, rng, eps)
    finally:
        obj.zero_grad()


def _module_errors(obj, X, target, loss, dY, rng, eps) -> dict[str, float]:
    """The two module forms of :func:`gradient_errors`, checks done."""
    if loss is not None:
        if target is None:
            raise ValueError("loss= needs the target: gradient_errors(model, X, target, loss=loss)")

        def scalar() -> float:
            return loss.forward(obj.forward(X), target)

        obj.zero_grad()
        scalar()
        dX = obj.backward(loss.backward())
    else:
        out = obj.forward(X)
        if dY is None:
            dY = (rng or np.random.default_rng(0)).standard_normal(out.shape)
        _require_float64(dY, "dY")
        require_finite(dY, "dY")
        if dY.shape != out.shape:
            raise ValueError(f"dY must have the shape of the module's output, {out.shape}, "
                             f"got {dY.shape}")

        def scalar() -> float:
            return float(np.vdot(dY, obj.forward(X)))

        obj.zero_grad()
        dX = obj.backward(dY)

    errors = {"X": relative_error(dX, numerical_gradient(lambda _: scalar(), X, eps))}
    for name, param, grad in obj.named_parameters():
        _require_float64(param, name)
        errors[name] = relative_error(grad, numerical_gradient(lambda _: scalar(), param, eps))
    return errors


def gradcheck(
    obj: Module | Loss,
    X: np.ndarray,
    target: np.ndarray | None = None,
    *,
    loss: Loss | None = None,
    dY: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    eps: float = 1e-6,
) -> float:
    """The largest relative error of :func:`gradient_errors` (same arguments).

    Shapes: as :func:`gradient_errors` -> float.

    Use it as ``assert gradcheck(layer, X) < 1e-7``. It returns instead of printing,
    so a test or a chapter can assert on it.
    """
    errors = gradient_errors(obj, X, target, loss=loss, dY=dY, rng=rng, eps=eps)
    return max(errors.values())
