"""Tests of nnlib.model.Sequential: the chain of modules and backpropagation through it.

* finite differences of a whole 2-hidden-layer network plus its loss, every
  parameter and the input, on random widths (hypothesis);
* two hand-worked networks from the book, every intermediate value written out;
* the protocol: forward in order, backward in reverse, parameter names, zero_grad,
  what each module keeps, the container methods, and the refusals.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnlib import (
    BCELoss,
    BCEWithLogitsLoss,
    Linear,
    Module,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropyLoss,
    Tanh,
    gradcheck,
    gradient_errors,
)

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
widths = st.integers(min_value=1, max_value=5)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
TOL = 1e-7


def two_hidden_layers(n_in, h1, h2, n_out, activation, rng):
    """Linear → act → Linear → act → Linear, biases non-zero so that they matter."""
    net = Sequential(
        Linear(n_in, h1, rng=rng),
        activation(),
        Linear(h1, h2, rng=rng),
        activation(),
        Linear(h2, n_out, rng=rng),
    )
    for layer in net[::2]:
        layer.b[:] = 0.5 * rng.standard_normal(layer.b.shape)
    return net


def min_distance_to_kink(net, X):
    """The smallest |pre-activation| entering a ReLU (ReLU is not smooth at 0)."""
    out, distances = X, [np.inf]
    for module in net:
        if isinstance(module, ReLU):
            distances.append(np.abs(out).min())
        out = module.forward(out)
    return min(distances)


# --- finite differences of a whole network -----------------------------------------


@FAST
@given(
    m=widths, n_in=widths, h1=widths, h2=widths, seed=seeds,
    activation=st.sampled_from([Sigmoid, Tanh, ReLU]),
    loss=st.sampled_from(["mse", "bce-logits", "softmax-ce"]),
)
def test_network_and_loss_match_finite_differences(m, n_in, h1, h2, seed, activation, loss):
    """dX and every parameter gradient of loss(net(X), y) within 1e-7 of the differences."""
    rng = np.random.default_rng(seed)
    n_out = {"mse": 2, "bce-logits": 1, "softmax-ce": 3}[loss]
    net = two_hidden_layers(n_in, h1, h2, n_out, activation, rng)
    X = rng.standard_normal((m, n_in))
    if activation is ReLU:
        # eps = 1e-6 moves a pre-activation by ~1e-6: stay clear of the kink.
        assume(min_distance_to_kink(net, X) > 1e-4)
    if loss == "mse":
        criterion, y = MSELoss(), rng.standard_normal((m, n_out))
    elif loss == "bce-logits":
        criterion, y = BCEWithLogitsLoss(), rng.integers(0, 2, size=(m, 1)).astype(float)
    else:
        criterion, y = SoftmaxCrossEntropyLoss(), rng.integers(0, n_out, size=m)
    errors = gradient_errors(net, X, y, loss=criterion)
    assert set(errors) == {"X", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert max(errors.values()) < TOL, errors


@FAST
@given(m=widths, n_in=widths, h=widths, n_out=widths, seed=seeds)
def test_network_vector_jacobian_product_matches_finite_differences(m, n_in, h, n_out, seed):
    """Without a loss: the scalar is Σ dY ⊙ net(X) for a random upstream dY."""
    rng = np.random.default_rng(seed)
    net = Sequential(Linear(n_in, h, rng=rng), Tanh(), Linear(h, n_out, rng=rng), Sigmoid())
    assert gradcheck(net, rng.standard_normal((m, n_in)), rng=rng) < TOL


# --- hand-worked examples ----------------------------------------------------------


def test_hand_worked_relu_mse_network():
    """Linear(2, 2) → ReLU → Linear(2, 1) → MSE on two samples, exact in float64.

    Forward
        X  = [[1, 2], [−1, 1]]       W1 = [[1, −1], [0.5, 1]]   b1 = [0, 0.5]
        Z1 = X W1 + b1:
             row 1: [1·1 + 2·0.5,    1·(−1) + 2·1] + [0, 0.5] = [2, 1.5]
             row 2: [−1·1 + 1·0.5, (−1)(−1) + 1·1] + [0, 0.5] = [−0.5, 2.5]
        A1 = max(Z1, 0)            = [[2, 1.5], [0, 2.5]]
        W2 = [[1], [−2]]   b2 = [0.5]
        Z2 = A1 W2 + b2:  row 1: 2 − 3 + 0.5 = −0.5;  row 2: 0 − 5 + 0.5 = −4.5
        y  = [[1], [−4]]   Z2 − y = [[−1.5], [−0.5]]
        L  = (1/2)(½·1.5² + ½·0.5²) = (1/2)(1.125 + 0.125) = 0.625

    Backward
        dZ2 = (Z2 − y)/m           = [[−0.75], [−0.25]]
        dW2 = A1ᵀ dZ2              = [[2·(−0.75) + 0·(−0.25)], [1.5·(−0.75) + 2.5·(−0.25)]]
                                   = [[−1.5], [−1.75]]
        db2 = 1ᵀ dZ2               = [−1]
        dA1 = dZ2 W2ᵀ              = [[−0.75, 1.5], [−0.25, 0.5]]
        dZ1 = dA1 ⊙ [Z1 > 0]       = [[−0.75, 1.5], [0, 0.5]]     (Z1[2, 1] = −0.5 < 0)
        dW1 = Xᵀ dZ1               = [[1·(−0.75) + (−1)·0, 1·1.5 + (−1)·0.5],
                                      [2·(−0.75) + 1·0,    2·1.5 + 1·0.5]]
                                   = [[−0.75, 1], [−1.5, 3.5]]
        db1 = 1ᵀ dZ1               = [−0.75, 2]
        dX  = dZ1 W1ᵀ              = [[−0.75 − 1.5, −0.375 + 1.5], [0 − 0.5, 0 + 0.5]]
                                   = [[−2.25, 1.125], [−0.5, 0.5]]

    Every value is a dyadic fraction: float64 computes all of them exactly.
    """
    rng = np.random.default_rng(0)
    net = Sequential(Linear(2, 2, rng=rng), ReLU(), Linear(2, 1, rng=rng))
    net[0].W[:] = [[1.0, -1.0], [0.5, 1.0]]
    net[0].b[:] = [0.0, 0.5]
    net[2].W[:] = [[1.0], [-2.0]]
    net[2].b[:] = [0.5]
    X = np.array([[1.0, 2.0], [-1.0, 1.0]])
    y = np.array([[1.0], [-4.0]])
    loss = MSELoss()

    Z2 = net.forward(X)
    np.testing.assert_array_equal(net[1].A, [[2.0, 1.5], [0.0, 2.5]])
    np.testing.assert_array_equal(Z2, [[-0.5], [-4.5]])
    assert loss(Z2, y) == 0.625

    dZ2 = loss.backward()
    np.testing.assert_array_equal(dZ2, [[-0.75], [-0.25]])
    dX = net.backward(dZ2)
    np.testing.assert_array_equal(net[2].dW, [[-1.5], [-1.75]])
    np.testing.assert_array_equal(net[2].db, [-1.0])
    np.testing.assert_array_equal(net[0].dW, [[-0.75, 1.0], [-1.5, 3.5]])
    np.testing.assert_array_equal(net[0].db, [-0.75, 2.0])
    np.testing.assert_array_equal(dX, [[-2.25, 1.125], [-0.5, 0.5]])
    # ... and the numbers written out above are the true derivatives.
    assert gradcheck(net, X, y, loss=loss) < TOL


def sigmoid_network():
    """The 2-2-1 sigmoid network of the logistic chapter's worked example."""
    rng = np.random.default_rng(0)
    net = Sequential(Linear(2, 2, rng=rng), Sigmoid(), Linear(2, 1, rng=rng), Sigmoid())
    net[0].W[:] = np.eye(2)
    net[0].b[:] = 0.0
    net[2].W[:] = [[2.0], [-2.0]]
    net[2].b[:] = [-0.5]
    return net


def test_hand_worked_sigmoid_bce_network():
    """2 samples, 2 inputs, 2 sigmoid hidden units, 1 sigmoid output, BCE loss.

    The inputs are ±ln 3 and 0 because σ(ln 3) = 1/(1 + 1/3) = 3/4, σ(0) = 1/2 and
    σ(−ln 3) = 1/4: every value below is a simple fraction (times ln 3).

    Forward
        X  = [[ln 3, 0], [0, −ln 3]]    W1 = I    b1 = 0     so Z1 = X
        A1 = σ(Z1)                      = [[3/4, 1/2], [1/2, 1/4]]
        W2 = [[2], [−2]]   b2 = [−1/2]
        Z2 = A1 W2 + b2:  row 1: 3/2 − 1 − 1/2 = 0;   row 2: 1 − 1/2 − 1/2 = 0
        A2 = σ(0)                       = [[1/2], [1/2]]
        y  = [[1], [0]]
        L  = −(1/2)[1·ln(1/2) + 1·ln(1 − 1/2)] = ln 2

    Backward
        dA2 = (A2 − y)/(A2(1 − A2))/m   = [[(−1/2)/(1/4)/2], [(1/2)/(1/4)/2]] = [[−1], [1]]
        dZ2 = dA2 ⊙ A2(1 − A2)          = [[−1/4], [1/4]]      (= (A2 − y)/m: σ′ cancels)
        dW2 = A1ᵀ dZ2                   = [[3/4·(−1/4) + 1/2·(1/4)], [1/2·(−1/4) + 1/4·(1/4)]]
                                        = [[−1/16], [−1/16]]
        db2 = 1ᵀ dZ2                    = [−1/4 + 1/4] = [0]
        dA1 = dZ2 W2ᵀ                   = [[−1/2, 1/2], [1/2, −1/2]]
        σ′(Z1) = A1(1 − A1)             = [[3/16, 1/4], [1/4, 3/16]]
        dZ1 = dA1 ⊙ σ′(Z1)              = [[−3/32, 1/8], [1/8, −3/32]]
        dW1 = Xᵀ dZ1                    = ln 3 · [[−3/32, 1/8], [−1/8, 3/32]]
        db1 = 1ᵀ dZ1                    = [1/32, 1/32]
        dX  = dZ1 W1ᵀ = dZ1             = [[−3/32, 1/8], [1/8, −3/32]]

    σ(ln 3) is 3/4 only up to rounding, hence rtol 1e-12 (and atol 1e-15 for the zeros).
    """
    net, loss = sigmoid_network(), BCELoss()
    X = np.array([[np.log(3.0), 0.0], [0.0, -np.log(3.0)]])
    y = np.array([[1.0], [0.0]])

    def close(actual, desired):
        np.testing.assert_allclose(actual, desired, rtol=1e-12, atol=1e-15)

    A2 = net.forward(X)
    close(net[1].A, [[0.75, 0.5], [0.5, 0.25]])
    close(A2, [[0.5], [0.5]])
    assert loss(A2, y) == pytest.approx(np.log(2.0), rel=1e-12)

    dA2 = loss.backward()
    close(dA2, [[-1.0], [1.0]])
    dX = net.backward(dA2)
    close(net[2].dW, [[-1 / 16], [-1 / 16]])
    close(net[2].db, [0.0])
    close(net[0].dW, np.log(3.0) * np.array([[-3 / 32, 1 / 8], [-1 / 8, 3 / 32]]))
    close(net[0].db, [1 / 32, 1 / 32])
    close(dX, [[-3 / 32, 1 / 8], [1 / 8, -3 / 32]])
    assert gradcheck(net, X, y, loss=loss) < TOL


def test_hand_worked_network_from_logits_gives_the_same_gradients():
    """Drop the output sigmoid and use BCEWithLogitsLoss: dZ2 = (σ(Z2) − y)/m directly,
    and every parameter gradient is the one worked out above."""
    net, loss = sigmoid_network(), BCEWithLogitsLoss()
    logits_net = Sequential(*net.modules[:3])
    X = np.array([[np.log(3.0), 0.0], [0.0, -np.log(3.0)]])
    Z2 = logits_net.forward(X)
    assert loss(Z2, np.array([[1.0], [0.0]])) == pytest.approx(np.log(2.0), rel=1e-12)
    dZ2 = loss.backward()
    np.testing.assert_allclose(dZ2, [[-0.25], [0.25]], rtol=1e-12)
    logits_net.backward(dZ2)
    np.testing.assert_allclose(net[2].dW, [[-1 / 16], [-1 / 16]], rtol=1e-12)
    np.testing.assert_allclose(
        net[0].dW, np.log(3.0) * np.array([[-3 / 32, 1 / 8], [-1 / 8, 3 / 32]]), rtol=1e-12
    )


# --- the protocol ------------------------------------------------------------------


class Scale(Module):
    """Multiplies by a constant and records every call in a shared log."""

    saved_names = ("X",)

    def __init__(self, name, factor, log):
        self.name, self.factor, self.log, self.X = name, factor, log, None

    def forward(self, X):
        self.log.append(("forward", self.name))
        self.X = X
        return self.factor * X

    def backward(self, dY):
        self.log.append(("backward", self.name))
        return self.factor * dY


def test_forward_in_order_backward_in_reverse():
    log = []
    net = Sequential(Scale("a", 2.0, log), Scale("b", 3.0, log), Scale("c", 5.0, log))
    out = net.forward(np.ones((1, 1)))
    dX = net.backward(np.ones((1, 1)))
    assert log == [
        ("forward", "a"), ("forward", "b"), ("forward", "c"),
        ("backward", "c"), ("backward", "b"), ("backward", "a"),
    ]
    assert out[0, 0] == 30.0 and dX[0, 0] == 30.0  # each module got its neighbour's result
    # Each module kept its own input: a the network's, b a's output, c b's output.
    assert [m.X[0, 0] for m in net] == [1.0, 2.0, 6.0]


def make_net(dtype=np.float64):
    rng = np.random.default_rng(0)
    return Sequential(
        Linear(3, 4, rng=rng, dtype=dtype), ReLU(), Linear(4, 2, rng=rng, dtype=dtype)
    )


def test_named_parameters_are_the_layers_own_arrays():
    net = make_net()
    named = list(net.named_parameters())
    assert [name for name, _, _ in named] == ["0.W", "0.b", "2.W", "2.b"]
    assert named[0][1] is net[0].W and named[0][2] is net[0].dW
    assert named[3][1] is net[2].b and named[3][2] is net[2].db
    pairs = list(net.parameters())
    assert len(pairs) == 4 and pairs[2][0] is net[2].W and pairs[2][1] is net[2].dW


def test_zero_grad_resets_every_layer_in_place():
    net = make_net()
    rng = np.random.default_rng(1)
    net.backward(np.ones_like(net.forward(rng.standard_normal((5, 3)))))
    grads = [grad for _, grad in net.parameters()]
    assert all(grad.any() for grad in grads)
    net.zero_grad()
    assert all(not grad.any() for grad in grads)
    assert [grad for _, grad in net.parameters()] == grads  # same objects


def test_backward_accumulates_across_calls():
    """Two backward passes of the same batch without zero_grad give twice the gradient."""
    net = make_net()
    X = np.random.default_rng(2).standard_normal((5, 3))
    net.backward(np.ones_like(net.forward(X)))
    once = [grad.copy() for _, grad in net.parameters()]
    net.forward(X)
    net.backward(np.ones((5, 2)))
    for (_, grad), g1 in zip(net.parameters(), once, strict=True):
        np.testing.assert_allclose(grad, 2 * g1, rtol=1e-15)


def test_saved_for_backward_lists_what_each_module_keeps():
    """Linear keeps its input X, ReLU its output A: the memory cost of backpropagation.

    The ReLU's output is the next layer's input, the same array listed twice.
    """
    net = make_net()
    assert net.saved_for_backward() == {}
    X = np.random.default_rng(3).standard_normal((5, 3))
    net.forward(X)
    saved = net.saved_for_backward()
    assert list(saved) == ["0.X", "1.A", "2.X"]
    assert saved["0.X"] is X
    assert saved["1.A"] is saved["2.X"] is net[1].A
    assert saved["1.A"].shape == (5, 4)
    unique = {id(a): a for a in saved.values()}
    assert sum(a.nbytes for a in unique.values()) == 8 * 5 * (3 + 4)


def test_container_methods_and_predict():
    net = make_net()
    assert len(net) == 3
    assert isinstance(net[0], Linear) and isinstance(net[1], ReLU) and net[-1] is net.modules[2]
    assert list(net) == net.modules
    X = np.random.default_rng(4).standard_normal((6, 3))
    np.testing.assert_array_equal(net.predict(X), net.forward(X))
    np.testing.assert_array_equal(net(X), net.forward(X))
    assert repr(net) == (
        "Sequential(\n  Linear(3, 4, dtype=float64),\n  ReLU(),\n  Linear(4, 2, dtype=float64)\n)"
    )


def test_nested_sequential_names_its_parameters_by_path():
    rng = np.random.default_rng(5)
    inner = Sequential(Linear(2, 3, rng=rng), Tanh())
    net = Sequential(inner, Linear(3, 1, rng=rng))
    assert [name for name, _, _ in net.named_parameters()] == ["0.0.W", "0.0.b", "1.W", "1.b"]
    assert gradcheck(net, rng.standard_normal((4, 2)), rng=rng) < TOL


def test_float32_network_stays_float32():
    net = make_net(np.float32)
    X = np.random.default_rng(6).standard_normal((5, 3)).astype(np.float32)
    loss = SoftmaxCrossEntropyLoss()
    out = net.forward(X)
    loss(out, np.array([0, 1, 1, 0, 1]))
    dX = net.backward(loss.backward())
    assert out.dtype == dX.dtype == np.float32
    assert all(p.dtype == g.dtype == np.float32 for p, g in net.parameters())


# --- bad input ---------------------------------------------------------------------


def test_empty_sequential_is_refused():
    with pytest.raises(ValueError, match=r"Sequential needs at least one module"):
        Sequential()


@pytest.mark.parametrize("thing", [np.tanh, "relu"])
def test_non_module_is_refused(thing):
    with pytest.raises(TypeError, match=r"modules\[1\] must be an nnlib Module, got"):
        Sequential(Linear(2, 2, rng=np.random.default_rng(0)), thing)


def test_module_class_instead_of_instance_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"modules\[1\] is the class ReLU, not a module: .*ReLU\("):
        Sequential(Linear(2, 2, rng=np.random.default_rng(0)), ReLU)


def test_one_module_in_two_places_is_refused():
    """A module keeps one forward's values: reused, its first backward would read the
    second forward's (silently wrong gradients) and SGD would step its weights twice."""
    relu = ReLU()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"modules\[3\] is the same object as modules\[1\]"):
        Sequential(Linear(2, 2, rng=rng), relu, Linear(2, 2, rng=rng), relu)


def test_one_module_shared_with_a_nested_sequential_is_refused():
    """The same check reaches into nested Sequentials, where the reuse is easier to miss."""
    relu = ReLU()
    rng = np.random.default_rng(0)
    inner = Sequential(Linear(2, 2, rng=rng), relu)
    with pytest.raises(
        ValueError, match=r"modules\[1\] is the same object as modules\[0\]\.modules\[1\]"
    ):
        Sequential(inner, relu)
    with pytest.raises(ValueError, match=r"modules\[1\] is the same object as modules\[0\]"):
        Sequential(inner, inner)


def test_nested_sequentials_of_distinct_modules_are_accepted():
    rng = np.random.default_rng(0)
    inner = Sequential(Linear(2, 3, rng=rng), ReLU())
    net = Sequential(inner, Sequential(Linear(3, 1, rng=rng)))
    assert net.forward(np.ones((4, 2))).shape == (4, 1)
    assert len(list(net.parameters())) == 4


def test_wrong_input_width_names_the_layer_shapes():
    with pytest.raises(
        ValueError, match=r"X must have shape \(m, 3\) to match W of shape \(3, 4\)"
    ):
        make_net().forward(np.ones((2, 5)))


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match=r"Linear.backward called before forward"):
        make_net().backward(np.ones((2, 2)))


@pytest.mark.parametrize("first", ["linear", "activation"])
def test_sequential_backward_without_the_input_gradient(first):
    """Same parameter gradients, None returned, whatever the first module is."""
    def build():
        rng = np.random.default_rng(0)
        layers = [Linear(3, 4, rng=rng), ReLU(), Linear(4, 2, rng=rng)]
        return Sequential(*([Tanh()] + layers if first == "activation" else layers))

    X = np.random.default_rng(1).standard_normal((5, 3))
    dY = np.random.default_rng(2).standard_normal((5, 2))
    full, skip = build(), build()
    full.forward(X)
    skip.forward(X)
    assert full.backward(dY).shape == X.shape
    assert skip.backward(dY, input_grad=False) is None
    for (_, g_full), (_, g_skip) in zip(full.parameters(), skip.parameters(), strict=True):
        np.testing.assert_array_equal(g_skip, g_full)
