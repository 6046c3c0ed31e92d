"""Tests of nnlib.symbolic: the sympy helpers the chapters use to derive each gradient.

* the building blocks: symbol matrices and vectors (shapes, names, assumptions);
* ``grad`` on expressions whose derivatives are known by heart;
* ``assert_equal``: passes on equal expressions, fails (AssertionError) on unequal
  scalars, unequal matrices and mismatched shapes;
* the dense-layer identities dL/dW = XᵀG, dL/db = 1ᵀG, dL/dX = GWᵀ derived
  symbolically, then evaluated and compared with nnlib's backward (the book's
  three-way check: sympy, nnlib, finite differences);
* ``import nnlib`` alone never imports sympy.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from nnlib import Linear, numerical_gradient
from nnlib.symbolic import (
    assert_equal,
    grad,
    matrix,
    ones,
    substitutions,
    sum_entries,
    to_numpy,
    vector,
)

# --- building blocks ---------------------------------------------------------------


def test_matrix_shape_and_symbol_names():
    """Entries are named as in the text, 1-based: x_{1,1} ... x_{2,3}."""
    X = matrix("x", 2, 3)
    assert isinstance(X, sp.MatrixBase) and X.shape == (2, 3)
    assert X[0, 0] == sp.Symbol("x_{1,1}", real=True)
    assert X[1, 2].name == "x_{2,3}"
    assert [s.name for s in X] == ["x_{1,1}", "x_{1,2}", "x_{1,3}", "x_{2,1}", "x_{2,2}", "x_{2,3}"]
    assert all(s.is_real for s in X)
    assert len(X.free_symbols) == 6  # all distinct


def test_matrix_assumptions_can_be_changed():
    P = matrix("p", 1, 2, positive=True)
    assert all(s.is_positive for s in P)
    assert sp.sqrt(P[0, 0] ** 2) == P[0, 0]  # a positive symbol simplifies


def test_vector_is_a_column():
    b = vector("b", 3)
    assert b.shape == (3, 1)
    assert [s.name for s in b] == ["b_{1}", "b_{2}", "b_{3}"]
    assert all(s.is_real for s in b)


def test_ones_repeats_a_row_and_sum_entries_adds_everything():
    b = vector("b", 2)
    B = ones(3) * b.T  # 1 bᵀ: the bias on each of 3 rows
    assert B.shape == (3, 2) and all(B[i, :] == b.T for i in range(3))
    assert sum_entries(matrix("x", 2, 2)) == sum(matrix("x", 2, 2))
    assert sum_entries(sp.Matrix([[1, 2], [3, 4]])) == 10


@pytest.mark.parametrize(
    ("rows", "cols", "bad"), [(0, 2, "rows"), (2, -1, "cols"), (2.0, 2, "rows")]
)
def test_matrix_refuses_bad_shapes(rows, cols, bad):
    with pytest.raises(ValueError, match=rf"{bad} must be a positive integer"):
        matrix("x", rows, cols)


def test_vector_refuses_bad_length():
    with pytest.raises(ValueError, match=r"n must be a positive integer, got 0"):
        vector("b", 0)


# --- grad --------------------------------------------------------------------------


def test_grad_of_a_known_expression_has_the_shape_of_the_variable():
    """f = x₁₁² x₁₂ + sin x₂₁:  ∂f/∂x = [[2 x₁₁ x₁₂, x₁₁²], [cos x₂₁, 0]]."""
    X = matrix("x", 2, 2)
    f = X[0, 0] ** 2 * X[0, 1] + sp.sin(X[1, 0])
    G = grad(f, X)
    assert G.shape == (2, 2)
    assert G == sp.Matrix([[2 * X[0, 0] * X[0, 1], X[0, 0] ** 2], [sp.cos(X[1, 0]), 0]])


def test_grad_derives_the_sigmoid_derivative():
    """σ′(z) = σ(z)(1 − σ(z)), the identity of the logistic chapter."""
    z = matrix("z", 1, 1)
    sigma = 1 / (1 + sp.exp(-z[0, 0]))
    assert_equal(grad(sigma, z), sp.Matrix([[sigma * (1 - sigma)]]))


def test_grad_derives_the_mse_gradient_with_its_one_over_m():
    """L = (1/m) Σ ½ (ŷ − y)²  ⇒  ∂L/∂ŷ = (ŷ − y)/m, here with m = 3."""
    yhat, y = matrix("yhat", 3, 1), matrix("y", 3, 1)
    L = sum_entries((yhat - y).applyfunc(lambda d: d**2 / 2)) / 3
    assert_equal(grad(L, yhat), (yhat - y) / 3)


def test_grad_refuses_non_symbol_entries():
    X = matrix("x", 2, 1)
    with pytest.raises(TypeError, match=r"every entry of M must be a sympy Symbol"):
        grad(X[0] ** 2, 2 * X)


# --- assert_equal ------------------------------------------------------------------


def test_assert_equal_passes_on_equal_scalars():
    a, b = sp.symbols("a b", real=True)
    assert_equal((a + b) ** 2, a**2 + 2 * a * b + b**2)  # needs expand
    assert_equal(sp.sin(a) ** 2 + sp.cos(a) ** 2, 1)  # needs simplify
    assert_equal(sp.exp(a) / (1 + sp.exp(a)), 1 / (1 + sp.exp(-a)))  # the two sigmoid forms


def test_assert_equal_raises_on_unequal_scalars():
    a = sp.Symbol("a", real=True)
    with pytest.raises(AssertionError, match=r"dsigma: .* simplifies to .*, not 0"):
        assert_equal(a**2, 2 * a, "dsigma:")


def test_assert_equal_passes_on_equal_matrices():
    X, W = matrix("x", 2, 3), matrix("w", 3, 2)
    assert_equal((X * W).T, W.T * X.T)


def test_assert_equal_raises_on_unequal_matrices_and_names_the_entry():
    X = matrix("x", 2, 2)
    wrong = X.copy()
    wrong[1, 0] = 2 * X[1, 0]
    with pytest.raises(AssertionError, match=r"dW: entry \(1, 0\) differs"):
        assert_equal(X, wrong, "dW:")


def test_assert_equal_raises_on_shape_mismatch():
    """The classic transpose slip: XᵀG is (3, 2), GᵀX is (2, 3)."""
    X, G = matrix("x", 2, 3), matrix("g", 2, 2)
    with pytest.raises(AssertionError, match=r"shapes differ: \(3, 2\) vs \(2, 3\)"):
        assert_equal(X.T * G, G.T * X)


def test_assert_equal_compares_a_matrix_with_a_nested_list():
    x = sp.Symbol("x", real=True)
    assert_equal(sp.Matrix([[x, 2 * x]]), [[x, x + x]])


# --- the dense layer, three ways ---------------------------------------------------


@pytest.fixture(scope="module")
def dense():
    """L = Σ G ⊙ (XW + 1bᵀ) with X 2×3, W 3×2, b 2×1 (a column), G 2×2."""
    X, W, b, G = matrix("x", 2, 3), matrix("w", 3, 2), vector("b", 2), matrix("g", 2, 2)
    Z = X * W + ones(2) * b.T  # (2, 2)
    L = sum_entries(G.multiply_elementwise(Z))
    return X, W, b, G, L


def test_dense_layer_identities(dense):
    """The three identities of chapter *Vector derivatives and transposes*."""
    X, W, b, G, L = dense
    assert_equal(grad(L, W), X.T * G)  # dW = Xᵀ G
    assert_equal(grad(L, b).T, ones(2).T * G)  # db = 1ᵀ G (a row; b is a column)
    assert_equal(grad(L, X), G * W.T)  # dX = G Wᵀ


def test_wrong_dense_identities_are_refused(dense):
    """Negative control: dropping the transpose (on square-enough shapes) is caught."""
    X, W, b, G, L = dense
    with pytest.raises(AssertionError):
        assert_equal(grad(L, X), G * W[:2, :])  # G W (2×2) instead of G Wᵀ (2×3)
    with pytest.raises(AssertionError):
        assert_equal(grad(L, b), G * ones(2))  # row sums instead of column sums


def test_sympy_nnlib_and_finite_differences_agree(dense):
    """Evaluate the symbolic dW at numbers, run nnlib's backward on the same numbers,
    and measure with central differences: three independent answers, one value."""
    X, W, b, G, L = dense
    rng = np.random.default_rng(0)
    Xv, Wv, bv, Gv = (rng.standard_normal(s) for s in ((2, 3), (3, 2), (2,), (2, 2)))
    subs = {
        **substitutions(X, Xv), **substitutions(W, Wv),
        **substitutions(b, bv.reshape(2, 1)), **substitutions(G, Gv),
    }
    layer = Linear(3, 2, rng=rng)
    layer.W[:], layer.b[:] = Wv, bv
    layer.forward(Xv)
    dX = layer.backward(Gv)

    for symbolic_grad, analytic in ((grad(L, W), layer.dW), (grad(L, X), dX)):
        np.testing.assert_allclose(to_numpy(symbolic_grad, subs), analytic, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(grad(L, b), subs).ravel(), layer.db, rtol=1e-12)
    numeric = numerical_gradient(lambda w: float(np.vdot(Gv, Xv @ w + bv)), Wv.copy())
    np.testing.assert_allclose(to_numpy(grad(L, W), subs), numeric, rtol=1e-7)
    # The loss itself evaluates too (a 1×1 matrix).
    assert to_numpy(sp.Matrix([[L]]), subs)[0, 0] == pytest.approx(np.vdot(Gv, Xv @ Wv + bv))


def test_to_numpy_and_substitutions():
    X = matrix("x", 2, 2)
    subs = substitutions(X, [[1, 2], [3, 4]])
    assert subs == {X[0, 0]: 1.0, X[0, 1]: 2.0, X[1, 0]: 3.0, X[1, 1]: 4.0}
    out = to_numpy(X.T * X, subs)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, [[10.0, 14.0], [14.0, 20.0]])
    np.testing.assert_allclose(to_numpy(X.applyfunc(sp.exp), subs), np.exp([[1, 2], [3, 4]]),
                               rtol=1e-15)


def test_substitutions_refuses_a_different_shape():
    with pytest.raises(
        ValueError, match=r"values must have the shape of M, \(2, 3\), got \(3, 2\)"
    ):
        substitutions(matrix("x", 2, 3), np.zeros((3, 2)))


def test_import_nnlib_does_not_import_sympy():
    """The numeric path needs numpy alone; sympy comes only with nnlib.symbolic."""
    code = "import sys, nnlib; assert 'sympy' not in sys.modules, 'sympy was imported'"
    root = Path(__file__).resolve().parent.parent  # where nnlib/ is, installed or not
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
