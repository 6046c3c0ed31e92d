"""nnlib.autodiff: every VJP against central differences, fan-out, order, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnlib
from nnlib import autodiff as ad
from nnlib.autodiff import Node

TOL = 1e-7


def numeric_grads(build, leaves):
    """Central differences of the scalar build(*values) with respect to every leaf."""
    grads = []
    for leaf in leaves:
        def f(_, leaf=leaf):
            return float(build(*[Node(lf.value.copy()) for lf in leaves]).value)
        grads.append(nnlib.numerical_gradient(f, leaf.value))
    return grads


def check(build, *arrays):
    """backward() of build(*leaves) agrees with central differences for every leaf."""
    leaves = [Node(a.copy()) for a in arrays]
    root = build(*leaves)
    root.backward()
    for leaf, numeric in zip(leaves, numeric_grads(build, leaves), strict=True):
        assert leaf.grad.shape == leaf.value.shape
        assert nnlib.relative_error(leaf.grad, numeric) < TOL, root.op


rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3))
W = rng.standard_normal((3, 2))
b = rng.standard_normal(2)
G = rng.standard_normal((4, 2))
Y2 = rng.standard_normal((4, 2))


def weighted(node, weights=G):
    # Σ G ⊙ node: a scalar whose gradient with respect to node is G (a VJP probe)
    return ad.sum_entries(ad.mul(node, Node(weights)))


@pytest.mark.parametrize(
    ("name", "build", "arrays"),
    [
        ("matmul", lambda x, w: weighted(x @ w), (X, W)),
        ("add_bias", lambda z, c: weighted(ad.add_bias(z, c)), (Y2, b)),
        ("add", lambda p, q: weighted(p + q), (Y2, G)),
        ("sub", lambda p, q: weighted(p - q), (Y2, G * 2)),
        ("mul", lambda p, q: weighted(p * q), (Y2, G + 1)),
        ("scale", lambda p: weighted(2.5 * p), (Y2,)),
        ("relu", lambda p: weighted(ad.relu(p)), (Y2,)),
        ("sigmoid", lambda p: weighted(ad.sigmoid(p)), (Y2,)),
        ("tanh", lambda p: weighted(ad.tanh(p)), (Y2,)),
        ("sum_entries", lambda p: ad.sum_entries(p), (Y2,)),
        ("mean", lambda p: ad.mean(p), (Y2,)),
        ("softmax_ce labels", lambda z: ad.softmax_cross_entropy(z, np.array([0, 1, 1, 0])), (Y2,)),
        ("softmax_ce rows", lambda z: ad.softmax_cross_entropy(z, np.eye(2)[[1, 0, 0, 1]]), (Y2,)),
        ("bce", lambda z: ad.bce_with_logits(z, (G > 0).astype(float)), (Y2,)),
        ("bce node target", lambda z: ad.bce_with_logits(z, Node((G > 0) * 1.0)), (Y2,)),
        ("dense mse", lambda x, w, c: ad.mean(ad.mul(*(2 * [ad.add_bias(x @ w, c) - Node(Y2)]))),
         (X, W, b)),
    ],
)
def test_everyvjp_agrees_with_central_differences(name, build, arrays):
    check(build, *arrays)


def testvjps_are_the_books_formulas():
    x, w, c = Node(X), Node(W), Node(b)
    weighted(ad.add_bias(x @ w, c)).backward()
    np.testing.assert_allclose(w.grad, X.T @ G, rtol=1e-12)   # dW = Xᵀ dZ
    np.testing.assert_allclose(x.grad, G @ W.T, rtol=1e-12)   # dX = dZ Wᵀ
    np.testing.assert_allclose(c.grad, G.sum(axis=0), rtol=1e-12)  # db = 1ᵀ dZ


def test_the_engine_matches_nnlibs_hand_written_network():
    net = nnlib.Sequential(nnlib.Linear(3, 5, rng=np.random.default_rng(1)), nnlib.ReLU(),
                           nnlib.Linear(5, 2, rng=np.random.default_rng(2)))
    loss = nnlib.SoftmaxCrossEntropyLoss()
    labels = np.array([0, 1, 1, 0])
    loss.forward(net.forward(X), labels)
    net.zero_grad()
    net.backward(loss.backward())
    W1, b1, W2, b2 = (Node(p.copy()) for p, _ in net.parameters())
    h = ad.relu(ad.add_bias(Node(X) @ W1, b1))
    L = ad.softmax_cross_entropy(ad.add_bias(h @ W2, b2), labels)
    L.backward()
    for node, (_, grad) in zip((W1, b1, W2, b2), net.parameters(), strict=True):
        np.testing.assert_allclose(node.grad, grad, rtol=1e-10, atol=1e-14)


def test_a_value_used_twice_gets_both_gradients():
    a = Node(np.array([3.0]))
    ad.sum_entries(a * a).backward()     # d(a²)/da = 2a, one a from each use
    np.testing.assert_allclose(a.grad, [6.0])


def test_negative_control_assignment_instead_of_accumulation_is_caught():
    # A broken engine that assigns instead of adding loses one use of a.
    a = Node(np.array([3.0]))
    root = ad.sum_entries(a * a)
    order = ad.topological_order(root)
    for node in order:
        node.grad = np.zeros_like(node.value)
    root.grad = np.ones_like(root.value)
    for node in reversed(order):
        if node.vjp is not None:
            for parent, g in zip(node.parents, node.vjp(node.grad), strict=True):
                parent.grad = g    # the slip: = instead of +=
    assert nnlib.relative_error(a.grad, np.array([6.0])) > 0.1


def test_negative_control_wrong_order_is_caught():
    # Reverse order of creation is not always topological; a fixed wrong order
    # (leaves first) passes on gradients before they are complete.
    x = Node(np.array([[2.0]]))
    y = ad.tanh(x)
    root = ad.sum_entries(y * y + y)
    order = ad.topological_order(root)
    for node in order:
        node.grad = np.zeros_like(node.value)
    root.grad = np.ones_like(root.value)
    for node in order:  # the slip: not reversed
        if node.vjp is not None:
            for parent, g in zip(node.parents, node.vjp(node.grad), strict=True):
                parent.grad += g
    right = (1 - np.tanh(2.0) ** 2) * (2 * np.tanh(2.0) + 1)
    assert abs(x.grad[0, 0] - right) > 0.1


def test_topological_order_puts_inputs_first_and_handles_deep_graphs():
    x = Node(np.array([1.0]), name="x")
    node = x
    for _ in range(2000):          # deeper than Python's recursion limit
        node = ad.tanh(node)
    root = ad.sum_entries(node)
    order = ad.topological_order(root)
    assert order[0] is x and order[-1] is root and len(order) == 2002
    root.backward()
    assert x.grad.shape == (1,)


def test_backward_twice_is_refused_until_zero_grad():
    w = Node(W.copy())
    root = weighted(Node(X) @ w)
    root.backward()
    first = w.grad.copy()
    with pytest.raises(RuntimeError, match="backward already ran"):
        root.backward()
    root.zero_grad()
    assert w.grad is None
    root.backward()
    np.testing.assert_array_equal(w.grad, first)


def test_backward_needs_a_scalar_root():
    with pytest.raises(ValueError, match=r"shape \(\), got a node of shape \(4, 2\)"):
        (Node(X) @ Node(W)).backward()


def test_float32_stays_float32_and_mixing_is_refused():
    x, w = Node(X.astype(np.float32)), Node(W.astype(np.float32))
    c = Node(b.astype(np.float32))
    L = ad.mean(ad.sigmoid(ad.add_bias(x @ w, c)))
    L.backward()
    assert L.value.dtype == np.float32 and w.grad.dtype == np.float32
    with pytest.raises(TypeError, match="mix dtypes"):
        Node(X) @ w


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: Node(X) @ Node(X), ValueError, r"A \(4, 3\) and B \(4, 3\)"),
        (lambda: ad.add_bias(Node(X), Node(b)), ValueError, r"b \(2,\)"),
        (lambda: Node(X) + Node(W), ValueError, "same shape"),
        (lambda: Node(X) - Node(W), ValueError, "same shape"),
        (lambda: Node(X) * Node(W), ValueError, "same shape"),
        (lambda: ad.matmul(X, Node(W)), TypeError, "A must be a Node"),
        (lambda: Node([1.0, 2.0]), TypeError, "value must be a numpy array"),
        (lambda: Node(np.array([1, 2])), TypeError, "dtype float32 or float64"),
        (lambda: Node(np.array([np.nan])), ValueError, "non-finite"),
        (lambda: Node(X, name=3), TypeError, "name must be a str"),
        (lambda: ad.scale(Node(X), "2"), TypeError, "c must be a number"),
        (lambda: ad.scale(Node(X), True), TypeError, "c must be a number"),
        (lambda: ad.scale(Node(X), float("inf")), ValueError, "c must be finite"),
        (lambda: ad.mean(Node(np.zeros((0, 2)))), ValueError, "empty"),
        (lambda: ad.softmax_cross_entropy(Node(b), [0]), ValueError, r"logits Z \(m, K\)"),
        (lambda: ad.softmax_cross_entropy(Node(Y2), np.array([0, 1, 2, 0])), ValueError,
         r"\[0, 2\)"),
        (lambda: ad.softmax_cross_entropy(Node(Y2), np.array([0, 1])), ValueError,
         r"shape \(4,\)"),
        (lambda: ad.softmax_cross_entropy(Node(Y2), np.ones((4, 3))), ValueError,
         "shape of the logits"),
        (lambda: ad.bce_with_logits(Node(Y2), np.ones((4, 2), np.float32)), TypeError, "dtype"),
        (lambda: ad.bce_with_logits(Node(np.zeros((0, 1))), np.zeros((0, 1))), ValueError,
         "at least one"),
        (lambda: ad.topological_order(X), TypeError, "root must be a Node"),
        (lambda: ad.jvp(ad.sum_entries(Node(X)), {}), None, None),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(call, exc, match):
    if exc is None:
        call()
        return
    with pytest.raises(exc, match=match):
        call()


def test_numbers_and_numpy_scalars_are_values():
    assert Node(2).value.dtype == np.float64
    assert Node(np.float32(2.0)).value.dtype == np.float32
    assert "leaf 'x'" in repr(Node(1.0, name="x"))
    assert Node(X).shape == (4, 3)


def test_forward_mode_gives_the_same_directional_derivative():
    x, w, c = Node(X), Node(W), Node(b)
    L = ad.softmax_cross_entropy(ad.tanh(ad.add_bias(x @ w, c)), np.array([0, 1, 1, 0]))
    L.backward()
    direction = np.random.default_rng(3).standard_normal(W.shape)
    forward = ad.jvp(L, {w: direction})
    np.testing.assert_allclose(forward, np.vdot(w.grad, direction), rtol=1e-10)
    L.zero_grad()   # x is used again below: clear its gradient first
    for op in (ad.mean, ad.sum_entries):
        M = op(ad.relu(ad.sub(ad.scale(x, 2.0), x)))
        M.backward()
        t = np.ones_like(X)
        np.testing.assert_allclose(ad.jvp(M, {x: t}), np.vdot(x.grad, t), rtol=1e-12)
        M.zero_grad()
    B = ad.bce_with_logits(ad.sigmoid(x @ w), (G > 0).astype(float))
    B.backward()
    np.testing.assert_allclose(ad.jvp(B, {w: direction}), np.vdot(w.grad, direction),
                               rtol=1e-10)
    B.zero_grad()
    P = ad.sum_entries(ad.mul(x, x) + x)
    P.backward()
    np.testing.assert_allclose(ad.jvp(P, {x: t}), np.vdot(x.grad, t), rtol=1e-12)
    with pytest.raises(ValueError, match="tangent of"):
        ad.jvp(L, {w: np.ones(3)})


def test_kept_bytes_counts_every_value_and_saved_array_once():
    x, w = Node(X), Node(W)
    z = x @ w
    L = ad.sum_entries(z * z)   # z used twice, kept once; sum_entries saves its ones
    assert ad.kept_bytes(L) == X.nbytes + W.nbytes + 3 * z.value.nbytes + L.value.nbytes
    R = ad.mean(ad.relu(z))     # relu saves its mask, mean its shares
    assert ad.kept_bytes(R) == X.nbytes + W.nbytes + 4 * z.value.nbytes + R.value.nbytes


def test_a_constant_gets_no_gradient_and_serves_two_graphs():
    data, w = Node(X, constant=True), Node(W)
    first = weighted(data @ w)
    first.backward()
    assert data.grad is None
    dW = w.grad.copy()
    w.grad = None
    second = weighted(data @ w)      # the same data in a second graph: no refusal
    second.backward()
    np.testing.assert_array_equal(w.grad, dW)
    with pytest.raises(TypeError, match="constant must be True or False"):
        Node(X, constant=1)


def test_a_new_operation_built_with_operation_is_checked_like_the_others():
    def exp(A):
        value = np.exp(A.value)
        return ad.operation("exp", value, (A,), lambda G: (G * value,),
                            lambda t: t[0] * value)

    check(lambda p: weighted(exp(p)), Y2)
    with pytest.raises(TypeError, match="op must be a non-empty str"):
        ad.operation("", X, (), lambda G: (), lambda t: X)
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Node"):
        ad.operation("f", X, (X,), lambda G: (G,), lambda t: t[0])
    with pytest.raises(TypeError, match="vjp and jvp must be callables"):
        ad.operation("f", X, (Node(X),), None, None)
