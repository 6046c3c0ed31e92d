"""Tests of nnlib.optim.SGD: ``θ ← θ − α g``, and with momentum ``v ← μ v + g, θ ← θ − α v``.

The updates are checked on numbers worked by hand (dyadic fractions, so exact), the
in-place contract (an optimizer holds the model's own arrays), and the refusals.
"""

import numpy as np
import pytest

from nnlib import SGD, Linear, MSELoss, ReLU, Sequential


def test_step_on_a_known_gradient_is_exact():
    """θ = [1, 2], g = [0.5, −0.25], α = 0.5:  θ − α g = [1 − 0.25, 2 + 0.125] = [0.75, 2.125]."""
    param, grad = np.array([1.0, 2.0]), np.array([0.5, -0.25])
    SGD([(param, grad)], lr=0.5).step()
    np.testing.assert_array_equal(param, [0.75, 2.125])
    np.testing.assert_array_equal(grad, [0.5, -0.25])  # the gradient is left alone


def test_momentum_matches_a_hand_computation_over_three_steps():
    """μ = 0.5, α = 0.5, θ₀ = 1, gradients 1, 2, 3 at the three steps (v₀ = 0):

        v₁ = 0.5·0    + 1 = 1       θ₁ = 1     − 0.5·1    = 0.5
        v₂ = 0.5·1    + 2 = 2.5     θ₂ = 0.5   − 0.5·2.5  = −0.75
        v₃ = 0.5·2.5  + 3 = 4.25    θ₃ = −0.75 − 0.5·4.25 = −2.875
    """
    param, grad = np.array([1.0]), np.zeros(1)
    opt = SGD([(param, grad)], lr=0.5, momentum=0.5)
    thetas = []
    for g in (1.0, 2.0, 3.0):
        grad[:] = g  # as a backward pass would write it, into the same array
        opt.step()
        thetas.append(param[0])
    assert thetas == [0.5, -0.75, -2.875]
    np.testing.assert_array_equal(opt.velocity[0], [4.25])


def test_zero_momentum_is_plain_gradient_descent():
    a, ga = np.array([3.0, -1.0]), np.array([1.0, 1.0])
    b, gb = a.copy(), ga.copy()
    plain, zero = SGD([(a, ga)], lr=0.25), SGD([(b, gb)], lr=0.25, momentum=0.0)
    assert plain.velocity is None and zero.velocity is None
    for _ in range(3):
        plain.step()
        zero.step()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, [2.25, -1.75])


def test_parameters_are_updated_in_place():
    """The optimizer must change the model's arrays themselves, not copies."""
    rng = np.random.default_rng(0)
    net = Sequential(Linear(2, 3, rng=rng), ReLU(), Linear(3, 1, rng=rng))
    W0, W0_before = net[0].W, net[0].W.copy()
    opt = SGD(net.parameters(), lr=0.1, momentum=0.9)
    net.backward(np.ones_like(net.forward(rng.standard_normal((4, 2)))))
    expected = W0_before - 0.1 * net[0].dW
    opt.step()
    assert net[0].W is W0
    np.testing.assert_allclose(net[0].W, expected, rtol=1e-15)


def test_zero_grad_resets_the_models_gradients():
    rng = np.random.default_rng(1)
    net = Sequential(Linear(2, 3, rng=rng), ReLU(), Linear(3, 1, rng=rng))
    opt = SGD(net.parameters(), lr=0.1)
    net.backward(np.ones_like(net.forward(rng.standard_normal((4, 2)))))
    assert net[0].dW.any()
    opt.zero_grad()
    assert all(not grad.any() for _, grad in net.parameters())


def test_a_small_step_decreases_the_loss():
    """Gradient descent goes downhill: one step of α = 0.01 lowers a smooth loss."""
    rng = np.random.default_rng(2)
    net = Sequential(Linear(3, 5, rng=rng), ReLU(), Linear(5, 2, rng=rng))
    X, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    loss, opt = MSELoss(), SGD(net.parameters(), lr=0.01)
    before = loss(net.forward(X), y)
    net.backward(loss.backward())
    opt.step()
    assert loss(net.forward(X), y) < before


def test_float32_parameters_stay_float32():
    param, grad = np.ones(3, dtype=np.float32), np.full(3, 0.5, dtype=np.float32)
    opt = SGD([(param, grad)], lr=0.1, momentum=0.9)
    opt.step()
    assert param.dtype == np.float32 and opt.velocity[0].dtype == np.float32


# --- bad input ---------------------------------------------------------------------


def pair():
    return [(np.zeros(2), np.zeros(2))]


@pytest.mark.parametrize("lr", [0, -0.1, np.nan, np.inf])
def test_bad_learning_rate_is_refused(lr):
    with pytest.raises(ValueError, match=r"lr must be a positive finite number, got"):
        SGD(pair(), lr=lr)


@pytest.mark.parametrize("momentum", [-0.1, 1.0, 1.5, np.nan])
def test_bad_momentum_is_refused(momentum):
    with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\), got"):
        SGD(pair(), lr=0.1, momentum=momentum)


def test_empty_parameters_are_refused():
    with pytest.raises(ValueError, match=r"params is empty"):
        SGD([], lr=0.1)


def test_parameters_consumed_twice_are_refused():
    """``model.parameters()`` is a generator: a second optimizer on it would get nothing."""
    net = Sequential(Linear(2, 2, rng=np.random.default_rng(0)))
    params = net.parameters()
    SGD(params, lr=0.1)
    with pytest.raises(ValueError, match=r"params is empty"):
        SGD(params, lr=0.1)


def test_non_pairs_are_refused():
    with pytest.raises(TypeError, match=r"params\[0\] must be a \(param, grad\) pair"):
        SGD([np.zeros(2)], lr=0.1)


def test_non_arrays_are_refused():
    with pytest.raises(TypeError, match=r"params\[0\] must hold two numpy arrays"):
        SGD([([0.0], [0.0])], lr=0.1)


def test_gradient_of_another_shape_is_refused():
    with pytest.raises(
        ValueError, match=r"params\[1\]: grad must have the shape of param, \(2, 3\), got \(3, 2\)"
    ):
        SGD([(np.zeros(1), np.zeros(1)), (np.zeros((2, 3)), np.zeros((3, 2)))], lr=0.1)


@pytest.mark.parametrize("name", ["lr", "momentum"])
def test_non_numeric_hyperparameters_are_refused_by_name(name):
    W = np.zeros((2, 2))
    kwargs = {"lr": 0.1, "momentum": 0.0, name: "a"}
    with pytest.raises(TypeError, match=f"{name} must be a number, got str"):
        SGD([(W, np.zeros_like(W))], **kwargs)
