"""Tests of nnlib.layers: the Module protocol and the dense layer ``Z = X @ W + b``.

The four kinds of test of the house style, for ``Linear``:

* finite differences: ``dX``, ``dW``, ``db`` against central differences, on random
  shapes drawn by hypothesis (relative error below 1e-7 in float64);
* a hand-worked example: the three identities on numbers small enough to check by hand;
* accumulation: a layer (so its ``W``) used twice gets the sum of both gradients;
* negative controls: the same layer with a transpose in the wrong place fails the check.

Plus the dtype rules and every bad input ``Linear`` refuses.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import Linear, Module, gradcheck, gradient_errors, numerical_gradient

# Small shapes keep each finite-difference check at a few hundred function calls;
# derandomize makes the examples the same on every run (no flaky CI), and no database
# is written next to the tests.
FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
dims = st.integers(min_value=1, max_value=5)
seeds = st.integers(min_value=0, max_value=2**32 - 1)

TOL = 1e-7  # relative error of a correct float64 backward (STYLE.md, point 10)


def make_linear(n_in, n_out, seed=0, dtype=np.float64):
    """A Linear layer with a non-zero bias, so that ``b`` matters in every check."""
    rng = np.random.default_rng(seed)
    layer = Linear(n_in, n_out, rng=rng, dtype=dtype)
    layer.b[:] = rng.standard_normal(n_out)
    return layer, rng


# --- finite differences ------------------------------------------------------------


@FAST
@given(m=dims, n_in=dims, n_out=dims, seed=seeds)
def test_linear_backward_matches_finite_differences(m, n_in, n_out, seed):
    """dX = dZ Wᵀ, dW = Xᵀ dZ, db = 1ᵀ dZ, each within 1e-7 of central differences."""
    layer, rng = make_linear(n_in, n_out, seed)
    X = rng.standard_normal((m, n_in))
    dZ = rng.standard_normal((m, n_out))
    errors = gradient_errors(layer, X, dY=dZ)
    assert set(errors) == {"X", "W", "b"}
    assert max(errors.values()) < TOL, errors


def test_gradcheck_leaves_the_layer_as_it_was():
    """The check perturbs W, b and X in place; they must come back bit for bit."""
    layer, rng = make_linear(3, 2, seed=1)
    X = rng.standard_normal((4, 3))
    W, b, X0 = layer.W.copy(), layer.b.copy(), X.copy()
    assert gradcheck(layer, X, rng=rng) < TOL
    np.testing.assert_array_equal(layer.W, W)
    np.testing.assert_array_equal(layer.b, b)
    np.testing.assert_array_equal(X, X0)
    # gradient_errors zeroes the gradients on exit, so the check leaves no trace.
    assert not layer.dW.any() and not layer.db.any()


# --- a hand-worked example ---------------------------------------------------------


def test_linear_hand_worked_example():
    """The three identities of the chapter *Vector derivatives and transposes*.

    X = [[1, 2],      W = [[1, -1],      b = [0, 0.5]
         [-1, 1]]          [0.5, 1]]

    Z = X W + 1bᵀ:
        row 1: [1·1 + 2·0.5,  1·(−1) + 2·1] + [0, 0.5] = [2,    1.5]
        row 2: [−1·1 + 1·0.5, −1·(−1) + 1·1] + [0, 0.5] = [−0.5, 2.5]

    With the upstream gradient dZ = [[1, 0], [2, −1]]:
        dW = Xᵀ dZ = [[1·1 + (−1)·2,  1·0 + (−1)·(−1)],   = [[−1, 1],
                      [2·1 + 1·2,     2·0 + 1·(−1)]]         [4, −1]]
        db = 1ᵀ dZ = [1 + 2, 0 − 1]                        = [3, −1]
        dX = dZ Wᵀ = [[1·1 + 0·(−1),  1·0.5 + 0·1],        = [[1, 0.5],
                      [2·1 + (−1)(−1), 2·0.5 + (−1)·1]]       [3, 0]]

    Every number is a dyadic fraction, so float64 gets them exactly.
    """
    layer = Linear(2, 2, rng=np.random.default_rng(0))
    layer.W[:] = [[1.0, -1.0], [0.5, 1.0]]
    layer.b[:] = [0.0, 0.5]
    X = np.array([[1.0, 2.0], [-1.0, 1.0]])
    Z = layer.forward(X)
    np.testing.assert_array_equal(Z, [[2.0, 1.5], [-0.5, 2.5]])
    dX = layer.backward(np.array([[1.0, 0.0], [2.0, -1.0]]))
    np.testing.assert_array_equal(layer.dW, [[-1.0, 1.0], [4.0, -1.0]])
    np.testing.assert_array_equal(layer.db, [3.0, -1.0])
    np.testing.assert_array_equal(dX, [[1.0, 0.5], [3.0, 0.0]])


# --- accumulation ------------------------------------------------------------------


def test_layer_used_on_two_inputs_accumulates_the_sum():
    """Same layer, two inputs, two backward calls: dW and db are the sums of both."""
    layer, rng = make_linear(3, 2, seed=2)
    X1, X2 = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    G1, G2 = rng.standard_normal((4, 2)), rng.standard_normal((5, 2))

    separate = []
    for X, G in ((X1, G1), (X2, G2)):
        layer.zero_grad()
        layer.forward(X)
        layer.backward(G)
        separate.append((layer.dW.copy(), layer.db.copy()))

    layer.zero_grad()
    layer.forward(X1)
    layer.backward(G1)
    layer.forward(X2)
    layer.backward(G2)
    np.testing.assert_allclose(layer.dW, separate[0][0] + separate[1][0], rtol=1e-14)
    np.testing.assert_allclose(layer.db, separate[0][1] + separate[1][1], rtol=1e-14)


def test_parameter_used_twice_in_one_graph_matches_finite_differences():
    """L(W, b) = Σ G1 ⊙ (X1 W + b) + Σ G2 ⊙ (X2 W + b): W appears twice in one scalar.

    Its true gradient (measured by central differences on the whole scalar) is what
    the two backward calls add up to; a backward that assigned (``dW = ...``) instead
    of adding (``dW += ...``) would keep only the second term.
    """
    layer, rng = make_linear(3, 3, seed=3)
    X1, X2 = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    G1, G2 = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))

    def L(_):
        return np.vdot(G1, layer.forward(X1)) + np.vdot(G2, layer.forward(X2))

    layer.forward(X1)
    layer.backward(G1)
    layer.forward(X2)
    layer.backward(G2)
    np.testing.assert_allclose(layer.dW, numerical_gradient(L, layer.W), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(layer.db, numerical_gradient(L, layer.b), rtol=1e-7, atol=1e-9)
    # ... and the second term alone is not the answer.
    assert not np.allclose(layer.dW, X2.T @ G2)


def test_input_used_by_two_layers_gets_the_sum_of_both_dX():
    """A branch: X feeds two layers; dL/dX = dX from one + dX from the other."""
    a, rng = make_linear(3, 2, seed=4)
    b, _ = make_linear(3, 4, seed=5)
    X = rng.standard_normal((5, 3))
    Ga, Gb = rng.standard_normal((5, 2)), rng.standard_normal((5, 4))
    a.forward(X)
    b.forward(X)
    dX = a.backward(Ga) + b.backward(Gb)

    def L(X_):
        return np.vdot(Ga, a.forward(X_)) + np.vdot(Gb, b.forward(X_))

    np.testing.assert_allclose(dX, numerical_gradient(L, X), rtol=1e-7, atol=1e-9)


def test_zero_grad_resets_in_place():
    layer, rng = make_linear(2, 3)
    dW, db = layer.dW, layer.db
    layer.forward(rng.standard_normal((4, 2)))
    layer.backward(rng.standard_normal((4, 3)))
    assert layer.dW.any()
    layer.zero_grad()
    assert layer.dW is dW and layer.db is db  # the same arrays, an optimizer holds them
    assert not dW.any() and not db.any()


# --- negative controls -------------------------------------------------------------


class LinearMissingTranspose(Linear):
    """A deliberate slip: ``dX = dZ W`` instead of ``dZ Wᵀ`` (shape-valid when W is square)."""

    def backward(self, dZ):
        super().backward(dZ)
        return dZ @ self.W  # wrong: should be dZ @ self.W.T


class LinearTransposedDW(Linear):
    """A deliberate slip: ``dW = (Xᵀ dZ)ᵀ = dZᵀ X`` (shape-valid when W is square)."""

    def backward(self, dZ):
        dX = super().backward(dZ)
        self.dW -= self.X.T @ dZ
        self.dW += dZ.T @ self.X  # wrong: should be X.T @ dZ
        return dX


@pytest.mark.parametrize(
    ("cls", "wrong"), [(LinearMissingTranspose, "X"), (LinearTransposedDW, "W")]
)
def test_gradcheck_catches_a_misplaced_transpose(cls, wrong):
    """A square W lets the wrong formula run; only the finite differences notice."""
    rng = np.random.default_rng(6)
    X, dZ = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    good, bad = Linear(3, 3, rng=np.random.default_rng(7)), cls(3, 3, rng=np.random.default_rng(7))
    assert gradcheck(good, X, dY=dZ) < TOL
    errors = gradient_errors(bad, X, dY=dZ)
    assert errors[wrong] > 1e-3, errors
    assert all(err < TOL for name, err in errors.items() if name != wrong), errors


# --- construction ------------------------------------------------------------------


def test_linear_shapes_and_initial_values():
    layer = Linear(3, 5, rng=np.random.default_rng(0))
    assert layer.W.shape == (3, 5) and layer.b.shape == (5,)
    assert layer.dW.shape == (3, 5) and layer.db.shape == (5,)
    assert layer.W.dtype == np.float64  # the default
    assert not layer.b.any() and not layer.dW.any() and not layer.db.any()
    assert repr(layer) == "Linear(3, 5, dtype=float64)"
    assert layer.saved_for_backward() == {}  # nothing kept before the first forward


def test_same_seed_gives_the_same_weights():
    a = Linear(4, 3, rng=np.random.default_rng(42))
    b = Linear(4, 3, rng=np.random.default_rng(42))
    c = Linear(4, 3, rng=np.random.default_rng(43))
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W, c.W)


@pytest.mark.parametrize(
    ("init", "variance"), [("he", 2 / 400), ("xavier", 2 / (400 + 300))]
)
def test_initialisation_variance(init, variance):
    """He: Var W = 2/n_in; Xavier: Var W = 2/(n_in + n_out); mean 0 (120,000 draws)."""
    W = Linear(400, 300, rng=np.random.default_rng(0), init=init).W
    assert abs(W.mean()) < 4 * np.sqrt(variance / W.size)
    assert W.var() == pytest.approx(variance, rel=0.02)


def test_numpy_integer_widths_are_accepted():
    layer = Linear(np.int64(2), np.int32(3), rng=np.random.default_rng(0))
    assert (layer.n_in, layer.n_out) == (2, 3) and type(layer.n_in) is int


def test_forward_keeps_its_input_and_call_is_forward():
    layer, rng = make_linear(2, 3)
    X = rng.standard_normal((4, 2))
    Z = layer(X)
    np.testing.assert_array_equal(Z, X @ layer.W + layer.b)
    assert layer.X is X  # kept, not copied: backward needs X for dW = Xᵀ dZ
    assert set(layer.saved_for_backward()) == {"X"}
    assert layer.saved_for_backward()["X"] is X


def test_parameters_are_the_arrays_themselves():
    layer, _ = make_linear(2, 3)
    named = list(layer.named_parameters())
    assert [name for name, _, _ in named] == ["W", "b"]
    (W, dW), (b, db) = layer.parameters()
    assert W is layer.W and dW is layer.dW and b is layer.b and db is layer.db


def test_module_base_class_has_no_parameters():
    module = Module()
    assert list(module.parameters()) == []
    module.zero_grad()  # nothing to do, and no error
    assert module.saved_for_backward() == {}
    assert repr(module) == "Module()"


# --- dtype -------------------------------------------------------------------------


def test_float32_layer_keeps_float32_end_to_end():
    layer, rng = make_linear(3, 2, dtype=np.float32)
    assert layer.W.dtype == layer.b.dtype == layer.dW.dtype == np.float32
    X = rng.standard_normal((4, 3)).astype(np.float32)
    Z = layer.forward(X)
    dX = layer.backward(np.ones_like(Z))
    assert Z.dtype == dX.dtype == layer.dW.dtype == layer.db.dtype == np.float32


def test_float64_input_to_float32_layer_is_refused():
    layer, rng = make_linear(3, 2, dtype=np.float32)
    with pytest.raises(TypeError, match=r"X has dtype float64 but W has dtype float32"):
        layer.forward(rng.standard_normal((4, 3)))


def test_float32_upstream_into_float64_layer_is_refused():
    layer, rng = make_linear(3, 2)
    layer.forward(rng.standard_normal((4, 3)))
    with pytest.raises(TypeError, match=r"dZ has dtype float32 but W has dtype float64"):
        layer.backward(np.ones((4, 2), dtype=np.float32))


def test_float32_and_gradcheck_do_not_mix():
    """The check needs float64 (see test_gradcheck); a float32 layer is refused."""
    layer, rng = make_linear(3, 2, dtype=np.float32)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(layer, rng.standard_normal((4, 3)).astype(np.float32))


# --- bad input: one test per case --------------------------------------------------


def test_wrong_rank_input_is_refused():
    layer, _ = make_linear(3, 2)
    with pytest.raises(ValueError, match=r"X must be 2-D .*got shape \(3,\) \(1-D\)"):
        layer.forward(np.ones(3))


def test_input_width_not_matching_W_is_refused():
    layer, _ = make_linear(3, 2)
    with pytest.raises(
        ValueError, match=r"X must have shape \(m, 3\) to match W of shape \(3, 2\), got \(4, 5\)"
    ):
        layer.forward(np.ones((4, 5)))


def test_integer_input_is_refused_not_converted():
    layer, _ = make_linear(3, 2)
    with pytest.raises(TypeError, match=r"X must have dtype float32 or float64, got int64"):
        layer.forward(np.ones((4, 3), dtype=np.int64))


def test_list_input_is_refused():
    layer, _ = make_linear(1, 1)
    with pytest.raises(TypeError, match=r"X must be a numpy array .*got list"):
        layer.forward([[1.0]])


def test_upstream_of_the_wrong_shape_is_refused():
    layer, rng = make_linear(3, 2)
    layer.forward(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"dZ must have the shape .*\(4, 2\), got \(4, 3\)"):
        layer.backward(np.ones((4, 3)))


def test_linear_backward_before_forward_raises():
    layer, _ = make_linear(3, 2)
    with pytest.raises(RuntimeError, match=r"Linear.backward called before forward"):
        layer.backward(np.ones((4, 2)))


@pytest.mark.parametrize("rng", [None, 0, np.random.RandomState(0)])
def test_non_generator_rng_is_refused(rng):
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator"):
        Linear(2, 3, rng=rng)


@pytest.mark.parametrize("n_in", [0, -1, 2.0, True, "2"])
def test_bad_n_in_is_refused(n_in):
    with pytest.raises(ValueError, match=r"n_in must be a positive integer, got"):
        Linear(n_in, 3, rng=np.random.default_rng(0))


def test_bad_n_out_is_refused():
    with pytest.raises(ValueError, match=r"n_out must be a positive integer, got 0"):
        Linear(3, 0, rng=np.random.default_rng(0))


def test_bad_init_is_refused():
    with pytest.raises(ValueError, match=r"init must be 'he' or 'xavier', got 'glorot'"):
        Linear(2, 3, rng=np.random.default_rng(0), init="glorot")


@pytest.mark.parametrize("dtype", [np.float16, np.int64])
def test_bad_dtype_is_refused(dtype):
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64"):
        Linear(2, 3, rng=np.random.default_rng(0), dtype=dtype)


def test_backward_without_the_input_gradient_gives_the_same_parameter_gradients():
    """input_grad=False skips dX = dZ Wᵀ (returns None) and changes nothing else."""
    rng = np.random.default_rng(5)
    X, dZ = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    full = Linear(3, 2, rng=np.random.default_rng(0))
    skip = Linear(3, 2, rng=np.random.default_rng(0))
    full.forward(X)
    skip.forward(X)
    assert full.backward(dZ) is not None
    assert skip.backward(dZ, input_grad=False) is None
    np.testing.assert_array_equal(skip.dW, full.dW)
    np.testing.assert_array_equal(skip.db, full.db)
