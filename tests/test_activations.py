"""Tests of nnlib.activations: sigmoid, ReLU, tanh, softmax and log-softmax.

* finite differences of every module's backward on random shapes (hypothesis);
* worked values: σ(0) = 1/2, σ(ln 3) = 3/4, σ′ = σ(1 − σ), softmax of [0, ln 3];
* stability under warnings-as-errors: extreme inputs give finite, correct limits;
* dtype rules and the refusals (backward before forward, mismatched upstream).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import (
    Linear,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    gradcheck,
    gradient_errors,
    log_softmax,
    relu,
    sigmoid,
    softmax,
)

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
dims = st.integers(min_value=1, max_value=5)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
TOL = 1e-7

ELEMENTWISE = [Sigmoid, ReLU, Tanh]


def away_from_kink(Z, margin=1e-3):
    """ReLU has no derivative at 0: move entries within ``margin`` of it to ±0.5.

    Central differences with eps = 1e-6 straddle the kink only for |z| < 1e-6; the
    margin of 1e-3 leaves room to spare.
    """
    Z = Z.copy()
    near = np.abs(Z) < margin
    Z[near] = np.where(Z[near] < 0, -0.5, 0.5)
    return Z


# --- finite differences ------------------------------------------------------------


@FAST
@given(module=st.sampled_from(ELEMENTWISE), m=dims, n=dims, seed=seeds)
def test_elementwise_backward_matches_finite_differences(module, m, n, seed):
    rng = np.random.default_rng(seed)
    Z = away_from_kink(3 * rng.standard_normal((m, n)))
    dA = rng.standard_normal((m, n))
    errors = gradient_errors(module(), Z, dY=dA)
    assert list(errors) == ["X"]  # no parameters
    assert errors["X"] < TOL, errors


@FAST
@given(m=dims, K=st.integers(min_value=1, max_value=6), seed=seeds)
def test_softmax_backward_matches_finite_differences(m, K, seed):
    """The vector–Jacobian product P ⊙ (dP − rowsum(dP ⊙ P)) against differences."""
    rng = np.random.default_rng(seed)
    Z = 2 * rng.standard_normal((m, K))
    assert gradcheck(Softmax(), Z, dY=rng.standard_normal((m, K))) < TOL


def test_relu_derivative_at_zero_is_zero():
    """At z = 0 the derivative is taken as 0 (PyTorch's choice); the mask is [z > 0]."""
    act = ReLU()
    act.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(act.backward(np.array([[5.0, 5.0, 5.0]])), [[0.0, 0.0, 5.0]])


def test_softmax_backward_equals_the_full_jacobian_product():
    """Row by row, dZ = J dP with the Jacobian J_ij = p_i (δ_ij − p_j) built explicitly."""
    rng = np.random.default_rng(0)
    Z, dP = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    layer = Softmax()
    P = layer.forward(Z)
    dZ = layer.backward(dP)
    for i in range(3):
        J = np.diag(P[i]) - np.outer(P[i], P[i])  # (K, K), symmetric
        np.testing.assert_allclose(dZ[i], J @ dP[i], rtol=1e-12, atol=1e-15)


# --- worked values -----------------------------------------------------------------


def test_sigmoid_worked_values():
    """σ(0) = 1/(1 + 1) = 1/2; σ(ln 3) = 1/(1 + 1/3) = 3/4; σ(−ln 3) = 1/4."""
    z = np.array([0.0, np.log(3.0), -np.log(3.0)])
    np.testing.assert_allclose(sigmoid(z), [0.5, 0.75, 0.25], rtol=1e-14)
    # σ′ = σ(1 − σ): 1/4 at 0, 3/16 at ±ln 3.
    act = Sigmoid()
    act.forward(z.reshape(1, 3))
    np.testing.assert_allclose(act.backward(np.ones((1, 3))), [[0.25, 0.1875, 0.1875]], rtol=1e-14)


def test_sigmoid_matches_the_naive_formula_where_that_is_safe():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14)
    # σ(−z) = 1 − σ(z), up to the rounding of the subtraction (one ulp of 1.0).
    np.testing.assert_allclose(sigmoid(-z), 1 - sigmoid(z), rtol=0, atol=np.spacing(1.0))


def test_tanh_worked_values():
    """tanh(ln 2) = (2 − 1/2)/(2 + 1/2) = 3/5 and tanh′ = 1 − tanh² = 16/25."""
    act = Tanh()
    A = act.forward(np.array([[np.log(2.0)]]))
    np.testing.assert_allclose(A, [[0.6]], rtol=1e-14)
    np.testing.assert_allclose(act.backward(np.array([[1.0]])), [[0.64]], rtol=1e-14)


def test_relu_values():
    z = np.array([[-2.0, -0.0, 0.0, 3.5]])
    np.testing.assert_array_equal(relu(z), [[0.0, 0.0, 0.0, 3.5]])
    np.testing.assert_array_equal(ReLU().forward(z), relu(z))


def test_softmax_worked_values_and_log_softmax():
    """softmax([0, ln 3]) = [1, 3]/(1 + 3) = [1/4, 3/4]; log_softmax = [−ln 4, ln 3 − ln 4]."""
    z = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(softmax(z), [[0.25, 0.75]], rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z), np.log([[0.25, 0.75]]), rtol=1e-14)


def test_softmax_is_invariant_to_a_shift_and_rows_sum_to_one():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 4))
    P = softmax(z)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(softmax(z + 100.0), P, rtol=1e-13)
    np.testing.assert_allclose(log_softmax(z), np.log(P), rtol=1e-13)


def test_softmax_along_another_axis():
    z = np.random.default_rng(2).standard_normal((3, 4))
    np.testing.assert_allclose(softmax(z, axis=0), softmax(z.T).T, rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z, axis=0), log_softmax(z.T).T, rtol=1e-14)


def test_modules_keep_their_output_for_backward():
    """Each activation keeps its output (A or P), not its input: σ′, tanh′, the ReLU
    mask and the softmax Jacobian are all functions of the output."""
    Z = np.array([[-1.0, 2.0]])
    for module, name in ((Sigmoid(), "A"), (ReLU(), "A"), (Tanh(), "A"), (Softmax(), "P")):
        assert module.saved_for_backward() == {}
        out = module(Z)
        saved = module.saved_for_backward()
        assert list(saved) == [name] and saved[name] is out
        assert list(module.parameters()) == []
        assert repr(module) == f"{type(module).__name__}()"


# --- stability under warnings-as-errors --------------------------------------------


@pytest.mark.filterwarnings("error")
def test_sigmoid_never_overflows():
    """The naive 1/(1 + e^(−z)) overflows for z < −709; nnlib's form never warns."""
    z = np.array([-1e300, -1e4, -710.0, 0.0, 710.0, 1e4, 1e300])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(z)
    assert np.isfinite(s).all()
    assert s[0] == 0.0 and s[1] == 0.0 and s[-2] == 1.0 and s[-1] == 1.0
    assert s[3] == 0.5
    assert 0 < s[2] < 1e-300  # e^(−710) ≈ 4.5e-309, a subnormal, not yet 0
    # The module and its backward too: the gradient at saturation is exactly 0.
    act = Sigmoid()
    act.forward(z.reshape(1, -1))
    dZ = act.backward(np.ones((1, z.size)))
    assert np.isfinite(dZ).all() and dZ[0, 0] == 0.0 and dZ[0, -1] == 0.0


@pytest.mark.filterwarnings("error")
def test_sigmoid_float32_extremes():
    z = np.array([-1e4, -100.0, 100.0, 1e4], dtype=np.float32)
    s = sigmoid(z)
    assert s.dtype == np.float32
    np.testing.assert_array_equal(s[[0, 3]], [0.0, 1.0])


@pytest.mark.filterwarnings("error")
def test_softmax_and_log_softmax_with_extreme_logits():
    """±1e4 logits: exp(1e4) would overflow; the max-shift keeps every exp ≤ 1."""
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e300, -1e300, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        P = softmax(z)
        logP = log_softmax(z)
        layer = Softmax()
        layer.forward(z)
        dZ = layer.backward(np.ones_like(z))
    assert np.isfinite(P).all() and np.isfinite(logP).all() and np.isfinite(dZ).all()
    np.testing.assert_array_equal(P[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(P[1], [1 / 3] * 3, rtol=1e-14)  # equal logits, however large
    np.testing.assert_array_equal(P[2], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(logP[0], [0.0, -2e4, -1e4])  # exact: log p = z − max
    np.testing.assert_allclose(logP[1], [-np.log(3)] * 3, rtol=1e-14)


@pytest.mark.filterwarnings("error")
def test_tanh_extremes():
    act = Tanh()
    A = act.forward(np.array([[-1e300, 1e300]]))
    np.testing.assert_array_equal(A, [[-1.0, 1.0]])
    np.testing.assert_array_equal(act.backward(np.ones((1, 2))), [[0.0, 0.0]])


# --- dtype -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_keep_the_dtype(dtype):
    Z = np.array([[-1.0, 0.5], [2.0, -3.0]], dtype=dtype)
    for fn in (sigmoid, relu, softmax, log_softmax):
        assert fn(Z).dtype == dtype
    for module in (Sigmoid(), ReLU(), Tanh(), Softmax()):
        A = module.forward(Z)
        assert A.dtype == dtype
        assert module.backward(np.ones_like(A)).dtype == dtype


def test_float32_through_a_layer_and_each_activation():
    """Linear → each activation, forward and backward, never upcasts."""
    rng = np.random.default_rng(0)
    layer = Linear(3, 4, rng=rng, dtype=np.float32)
    X = rng.standard_normal((5, 3)).astype(np.float32)
    for module in (Sigmoid(), ReLU(), Tanh(), Softmax()):
        A = module.forward(layer.forward(X))
        dX = layer.backward(module.backward(np.ones_like(A)))
        assert A.dtype == dX.dtype == np.float32


@pytest.mark.parametrize("module", [Sigmoid, ReLU, Tanh, Softmax])
def test_mixed_dtype_upstream_is_refused(module):
    act = module()
    act.forward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(
        TypeError, match=r"has dtype float64 but the forward output has dtype float32"
    ):
        act.backward(np.ones((2, 3)))


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("module", [Sigmoid, ReLU, Tanh, Softmax])
def test_backward_before_forward_raises(module):
    with pytest.raises(RuntimeError, match=rf"{module.__name__}.backward called before forward"):
        module().backward(np.ones((2, 3)))


@pytest.mark.parametrize("module", [Sigmoid, ReLU, Tanh, Softmax])
def test_upstream_of_the_wrong_shape_is_refused(module):
    act = module()
    act.forward(np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"must have the shape of the forward output, \(2, 3\), got \(3, 2\)"
    ):
        act.backward(np.ones((3, 2)))


def test_softmax_needs_rows():
    with pytest.raises(ValueError, match=r"Z must be 2-D .*got shape \(3,\)"):
        Softmax().forward(np.ones(3))


@pytest.mark.parametrize("fn", [sigmoid, relu, softmax, log_softmax])
def test_functions_refuse_non_float_input(fn):
    with pytest.raises(TypeError, match=r"z must have dtype float32 or float64, got int64"):
        fn(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"z must be a numpy array"):
        fn([1.0, 2.0])


def test_tanh_refuses_non_float_input():
    with pytest.raises(TypeError, match=r"Z must have dtype float32 or float64"):
        Tanh().forward(np.array([[1, 2]]))


def test_no_warning_leaks_from_ordinary_use():
    """A chapter cell must stay warning-free: run a typical batch with warnings as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = np.random.default_rng(3).standard_normal((8, 5)) * 50
        for module in (Sigmoid(), ReLU(), Tanh(), Softmax()):
            module.backward(np.ones_like(module.forward(Z)))


def test_functions_accept_python_numbers():
    """A reader can call sigmoid(0.0) or relu(-2): Python numbers become float64."""
    assert sigmoid(0.0) == 0.5
    assert relu(-2) == 0.0
    assert sigmoid(0.0).dtype == np.float64


def test_softmax_of_a_row_spanning_the_whole_float_range_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(np.array([[1.7e308, -1.7e308]]))
    np.testing.assert_array_equal(p, [[1.0, 0.0]])
