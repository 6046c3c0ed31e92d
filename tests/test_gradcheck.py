"""Tests of nnlib.gradcheck: the instrument every other test relies on.

If the checker were wrong, every "relative error below 1e-7" in the book would be
worthless, so it is tested against derivatives known in closed form: x³, Σ x², the
exponential, and vector–Jacobian products written by hand. Then: it leaves its input
exactly as it found it, refuses float32, and names what it measured.
"""

import numpy as np
import pytest

from nnlib import (
    Linear,
    Module,
    MSELoss,
    Sequential,
    SoftmaxCrossEntropyLoss,
    Tanh,
    gradcheck,
    gradient_errors,
    numerical_gradient,
    relative_error,
)

# --- numerical_gradient ------------------------------------------------------------


def test_derivative_of_x_cubed_at_two_is_twelve():
    """d/dx x³ = 3x² = 12 at x = 2; the central difference is exact up to ε² f‴/6 = 1e-12
    plus rounding (~1e-16 · 8 / 1e-6 ≈ 1e-9)."""
    g = numerical_gradient(lambda x: x**3, 2.0)
    assert type(g) is float
    assert g == pytest.approx(12.0, rel=1e-8)
    assert numerical_gradient(lambda x: x**3, 2) == g  # an int point is taken as a float


def test_central_difference_error_is_of_order_eps_squared():
    """For exp at 0 the central difference is (e^ε − e^(−ε))/(2ε) = sinh(ε)/ε ≈ 1 + ε²/6.

    With ε = 1e-3 the error is 1.6667e-7, where the one-sided difference would be off
    by ε/2 = 5e-4: the reason nnlib uses central differences.
    """
    g = numerical_gradient(np.exp, 0.0, eps=1e-3)
    assert g - 1.0 == pytest.approx(1e-6 / 6, rel=1e-4)
    one_sided = (np.exp(1e-3) - 1.0) / 1e-3
    assert one_sided - 1.0 == pytest.approx(5e-4, rel=1e-2)


def test_gradient_of_a_sum_of_squares():
    """∂/∂x Σ x² = 2x, on a 2-D array, to ~1e-9."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    g = numerical_gradient(lambda a: float(np.sum(a**2)), x)
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8, atol=1e-9)


def test_gradient_of_a_zero_dimensional_array():
    x = np.array(0.5)
    np.testing.assert_allclose(numerical_gradient(lambda a: float(np.sin(a)), x), np.cos(0.5),
                               rtol=1e-9)


def test_the_array_is_perturbed_in_place_and_restored_exactly():
    """f sees the caller's array itself (that is how a layer's W is checked); afterwards
    every entry is bit-for-bit what it was. Restoring by subtracting ε again would not
    be: (1e-7 + 1e-6) − 1e-6 = 1.000000000000001e-07 in floating point."""
    assert (1e-7 + 1e-6) - 1e-6 != 1e-7
    x = np.random.default_rng(1).standard_normal(50)
    x[0] = 1e-7
    before = x.copy()
    seen = []

    def f(a):
        seen.append(a is x)
        return float(np.sum(np.sin(a)))

    numerical_gradient(f, x)
    assert all(seen) and len(seen) == 2 * x.size
    np.testing.assert_array_equal(x, before)


def test_vector_jacobian_product_with_upstream():
    """f(x) = x ⊙ x (an array); with upstream U the result is ∂Σ(U ⊙ f)/∂x = 2 x ⊙ U."""
    rng = np.random.default_rng(2)
    x, U = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    g = numerical_gradient(lambda a: a * a, x, upstream=U)
    np.testing.assert_allclose(g, 2 * x * U, rtol=1e-7, atol=1e-9)


def test_vector_jacobian_product_of_a_matrix_product():
    """f(W) = X W with upstream G: the VJP is Xᵀ G, the dense layer's dW."""
    rng = np.random.default_rng(3)
    X, W, G = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(numerical_gradient(lambda w: X @ w, W, upstream=G), X.T @ G,
                               rtol=1e-7, atol=1e-9)


def test_upstream_of_the_wrong_shape_is_refused():
    with pytest.raises(
        ValueError, match=r"f\(x\) must have the shape of upstream, \(3,\), got \(2,\)"
    ):
        numerical_gradient(lambda a: a, np.zeros(2), upstream=np.zeros(3))


def test_float32_is_refused_and_the_message_says_why():
    with pytest.raises(TypeError, match=r"x has dtype float32: finite differences need float64"):
        numerical_gradient(lambda a: float(a.sum()), np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match=r"upstream has dtype float32: .*float64"):
        numerical_gradient(lambda a: a, np.zeros(3), upstream=np.zeros(3, dtype=np.float32))


@pytest.mark.parametrize("x", [[1.0, 2.0], np.array([1, 2]), True])
def test_non_float64_arrays_are_refused(x):
    with pytest.raises(TypeError, match=r"x (must be a numpy array|has dtype)"):
        numerical_gradient(lambda a: 0.0, x)


# --- relative_error ----------------------------------------------------------------


def test_relative_error_values():
    a = np.array([3.0, 4.0])  # norm 5
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # both zero: agree, not 0/0
    assert relative_error(a, -a) == 1.0  # ‖2a‖/(2‖a‖)
    assert relative_error(a, np.zeros(2)) == 1.0  # one side zero: as wrong as can be
    assert relative_error(a, a / 4) == pytest.approx(0.6)  # a missing 1/m with m = 4
    assert relative_error([1.0], [1.0]) == 0.0  # array-likes are accepted
    assert type(relative_error(a, 2 * a)) is float


def test_relative_error_refuses_different_shapes():
    with pytest.raises(
        ValueError, match=r"analytic has shape \(2,\) but numeric has shape \(2, 1\)"
    ):
        relative_error(np.zeros(2), np.zeros((2, 1)))


# --- gradient_errors and gradcheck -------------------------------------------------


def test_gradient_errors_names_the_input_and_each_parameter():
    rng = np.random.default_rng(4)
    layer = Linear(3, 2, rng=rng)
    X = rng.standard_normal((4, 3))
    assert list(gradient_errors(layer, X)) == ["X", "W", "b"]
    net = Sequential(Linear(3, 2, rng=rng), Tanh(), Linear(2, 2, rng=rng))
    assert list(gradient_errors(net, X)) == ["X", "0.W", "0.b", "2.W", "2.b"]
    assert list(gradient_errors(net, X, np.array([0, 1, 1, 0]), loss=SoftmaxCrossEntropyLoss())) \
        == ["X", "0.W", "0.b", "2.W", "2.b"]
    assert list(gradient_errors(MSELoss(), X, np.zeros((4, 3)))) == ["pred"]


def test_gradcheck_is_the_largest_error():
    rng = np.random.default_rng(5)
    net = Sequential(Linear(3, 2, rng=rng), Tanh())
    X, dY = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    errors = gradient_errors(net, X, dY=dY)
    assert gradcheck(net, X, dY=dY) == max(errors.values())
    assert type(gradcheck(net, X, dY=dY)) is float


def test_default_upstream_is_seeded():
    """Without dY, the upstream gradient comes from rng, or seed 0: repeatable."""
    rng = np.random.default_rng(6)
    layer = Linear(3, 3, rng=rng)
    X = rng.standard_normal((2, 3))
    assert gradient_errors(layer, X) == gradient_errors(layer, X)
    assert gradient_errors(layer, X, rng=np.random.default_rng(0)) == gradient_errors(layer, X)


def test_checking_leaves_parameters_input_and_gradients_clean():
    """Parameters and input restored exactly, gradients zeroed on exit (and ignored on
    entry: a stale gradient must not leak into the measurement)."""
    rng = np.random.default_rng(7)
    net = Sequential(Linear(3, 4, rng=rng), Tanh(), Linear(4, 2, rng=rng))
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    for _, grad in net.parameters():
        grad += 123.0  # stale
    params = [p.copy() for p, _ in net.parameters()]
    X0 = X.copy()
    assert gradcheck(net, X, y, loss=MSELoss()) < 1e-7
    for (p, g), p0 in zip(net.parameters(), params, strict=True):
        np.testing.assert_array_equal(p, p0)
        assert not g.any()
    np.testing.assert_array_equal(X, X0)


def test_a_wrong_derivative_is_measured_as_wrong():
    """A module whose backward claims d tanh = 1 − tanh (not 1 − tanh²)."""

    class WrongTanh(Tanh):
        def backward(self, dA):
            return dA * (1 - self.A)

    X = np.random.default_rng(8).standard_normal((3, 2))
    assert gradcheck(Tanh(), X) < 1e-7
    assert gradcheck(WrongTanh(), X) > 1e-2


def test_gradient_errors_refuses_float32():
    layer = Linear(2, 2, rng=np.random.default_rng(0), dtype=np.float32)
    with pytest.raises(TypeError, match=r"X has dtype float32: finite differences need float64"):
        gradient_errors(layer, np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(TypeError, match=r"dY has dtype float32"):
        gradient_errors(Tanh(), np.zeros((2, 2)), dY=np.zeros((2, 2), dtype=np.float32))


def test_gradient_errors_refuses_float32_parameters():
    """A module that takes float64 input but holds a float32 parameter."""

    class Mixed(Module):
        def __init__(self):
            self.w = np.ones(2, dtype=np.float32)
            self.dw = np.zeros(2, dtype=np.float32)

        def forward(self, X):
            return X * self.w.astype(np.float64)

        def backward(self, dY):
            return dY * self.w.astype(np.float64)

        def named_parameters(self):
            yield "w", self.w, self.dw

    with pytest.raises(TypeError, match=r"w has dtype float32"):
        gradient_errors(Mixed(), np.ones((3, 2)))


def test_a_loss_needs_its_target():
    with pytest.raises(ValueError, match=r"checking a loss needs its target"):
        gradient_errors(MSELoss(), np.zeros((2, 1)))


def test_loss_keyword_needs_the_target():
    net = Sequential(Linear(2, 1, rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"loss= needs the target"):
        gradient_errors(net, np.zeros((2, 2)), loss=MSELoss())


def test_only_modules_and_losses_can_be_checked():
    with pytest.raises(TypeError, match=r"obj must be an nnlib Module or Loss, got function"):
        gradient_errors(lambda X: X, np.zeros((2, 2)))


def test_upstream_with_a_python_float_is_refused():
    with pytest.raises(ValueError, match="upstream needs an array x"):
        numerical_gradient(lambda x: x * 2, 1.0, upstream=np.ones(1))
