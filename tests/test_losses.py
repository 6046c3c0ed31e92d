"""Tests of nnlib.losses: MSE, BCE on probabilities, BCE from logits, softmax cross-entropy.

* finite differences of every ``backward`` against the ``forward`` it differentiates,
  on random shapes and every target form (hypothesis);
* worked values: each loss on numbers whose logs and quotients are known by heart;
* the fused gradients: σ′ and the softmax Jacobian cancel into ``(p − y)/m``;
* negative controls: a missing 1/m, and σ′ multiplied in once more, fail the check;
* stability under warnings-as-errors: logits of ±1e4, probabilities of exactly 0 and 1;
* dtype rules, and each bad input, one test per case.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import (
    BCELoss,
    BCEWithLogitsLoss,
    Loss,
    MSELoss,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropyLoss,
    gradcheck,
    gradient_errors,
    sigmoid,
    softmax,
)

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
dims = st.integers(min_value=1, max_value=5)
classes = st.integers(min_value=2, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
TOL = 1e-7

ALL_LOSSES = [MSELoss, BCELoss, BCEWithLogitsLoss, SoftmaxCrossEntropyLoss]


def binary_target(rng, shape, form):
    """A target for the two logistic losses: float labels, int labels or probabilities."""
    if form == "float labels":
        return rng.integers(0, 2, size=shape).astype(np.float64)
    if form == "int labels":
        return rng.integers(0, 2, size=shape)
    return rng.random(shape)  # probabilities (soft targets)


def class_target(rng, m, K, form):
    """A target for softmax cross-entropy: int labels (m,), one-hot or soft rows (m, K)."""
    labels = rng.integers(0, K, size=m)
    if form == "labels":
        return labels
    if form == "one-hot":
        return np.eye(K)[labels]
    return softmax(rng.standard_normal((m, K)))  # soft rows, each summing to 1


# --- finite differences ------------------------------------------------------------


@FAST
@given(m=dims, k=dims, seed=seeds)
def test_mse_backward_matches_finite_differences(m, k, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.standard_normal((m, k)), rng.standard_normal((m, k))
    errors = gradient_errors(MSELoss(), pred, target)
    assert list(errors) == ["pred"] and errors["pred"] < TOL


@FAST
@given(
    m=dims, k=dims, seed=seeds, form=st.sampled_from(["float labels", "int labels", "probs"])
)
def test_bce_backward_matches_finite_differences(m, k, seed, form):
    """On probabilities in (0.05, 0.95), away from the clamps at 0 and 1."""
    rng = np.random.default_rng(seed)
    pred = 0.05 + 0.9 * rng.random((m, k))
    assert gradcheck(BCELoss(), pred, binary_target(rng, (m, k), form)) < TOL


@FAST
@given(
    m=dims, k=dims, seed=seeds, form=st.sampled_from(["float labels", "int labels", "probs"])
)
def test_bce_with_logits_backward_matches_finite_differences(m, k, seed, form):
    rng = np.random.default_rng(seed)
    logits = 3 * rng.standard_normal((m, k))
    assert gradcheck(BCEWithLogitsLoss(), logits, binary_target(rng, (m, k), form)) < TOL


@FAST
@given(m=dims, K=classes, seed=seeds, form=st.sampled_from(["labels", "one-hot", "soft"]))
def test_softmax_cross_entropy_backward_matches_finite_differences(m, K, seed, form):
    rng = np.random.default_rng(seed)
    logits = 2 * rng.standard_normal((m, K))
    assert gradcheck(SoftmaxCrossEntropyLoss(), logits, class_target(rng, m, K, form)) < TOL


# --- worked values -----------------------------------------------------------------


def test_mse_worked_example():
    """pred = [[1, 2], [3, 0]], target = 0, m = 2.

    L = (1/m) Σᵢ ½‖ŷᵢ − yᵢ‖² = (1/2)(½(1 + 4) + ½(9 + 0)) = (1/2)(2.5 + 4.5) = 3.5
    dL/dŷ = (ŷ − y)/m = [[0.5, 1], [1.5, 0]]
    The ½ of the source notes cancels the 2 of the derivative.
    """
    loss = MSELoss()
    pred = np.array([[1.0, 2.0], [3.0, 0.0]])
    value = loss(pred, np.zeros((2, 2)))
    assert value == 3.5 and type(value) is float
    np.testing.assert_array_equal(loss.backward(), [[0.5, 1.0], [1.5, 0.0]])


def test_bce_worked_example():
    """a = [[3/4], [1/2]], y = [[1], [0]], m = 2.

    L = −(1/2)[ln(3/4) + ln(1 − 1/2)] = (1/2)(ln(4/3) + ln 2) = (1/2) ln(8/3)
    dL/da = (a − y)/(a(1 − a))/m:
        row 1: (3/4 − 1)/(3/16)/2 = (−1/4)(16/3)/2 = −2/3
        row 2: (1/2 − 0)/(1/4)/2 = 1
    """
    loss = BCELoss()
    value = loss(np.array([[0.75], [0.5]]), np.array([[1.0], [0.0]]))
    assert value == pytest.approx(0.5 * np.log(8 / 3), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[-2 / 3], [1.0]], rtol=1e-14)


def test_bce_with_logits_worked_example():
    """z = [[ln 3], [0]], y = [[1], [0]]: σ(z) = [[3/4], [1/2]], the BCE example above.

    L = (1/2) ln(8/3) again; dL/dz = (σ(z) − y)/m = [[(3/4 − 1)/2], [(1/2 − 0)/2]]
                                                  = [[−1/8], [1/4]]
    """
    loss = BCEWithLogitsLoss()
    value = loss(np.array([[np.log(3.0)], [0.0]]), np.array([[1.0], [0.0]]))
    assert value == pytest.approx(0.5 * np.log(8 / 3), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[-0.125], [0.25]], rtol=1e-14)


def test_softmax_cross_entropy_worked_example():
    """z = [[0, ln 3], [0, 0]], labels [1, 0], m = 2.

    softmax(z) = [[1/4, 3/4], [1/2, 1/2]]
    L = −(1/2)[ln(3/4) + ln(1/2)] = (1/2) ln(8/3)
    dL/dz = (softmax(z) − onehot)/m = [[1/4, 3/4 − 1], [1/2 − 1, 1/2]]/2
          = [[1/8, −1/8], [−1/4, 1/4]]
    """
    z = np.array([[0.0, np.log(3.0)], [0.0, 0.0]])
    for target in (np.array([1, 0]), np.array([[0.0, 1.0], [1.0, 0.0]])):
        loss = SoftmaxCrossEntropyLoss()
        assert loss(z, target) == pytest.approx(0.5 * np.log(8 / 3), rel=1e-14)
        np.testing.assert_allclose(
            loss.backward(), [[0.125, -0.125], [-0.25, 0.25]], rtol=1e-14
        )


def test_integer_labels_and_one_hot_rows_agree():
    rng = np.random.default_rng(0)
    z, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    a, b = SoftmaxCrossEntropyLoss(), SoftmaxCrossEntropyLoss()
    assert a(z, labels) == pytest.approx(b(z, np.eye(4)[labels]), rel=1e-15)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-15)


def test_bce_from_logits_equals_bce_of_the_sigmoid():
    rng = np.random.default_rng(1)
    z, y = 2 * rng.standard_normal((5, 3)), rng.random((5, 3))
    probs, logits = BCELoss(), BCEWithLogitsLoss()
    assert logits(z, y) == pytest.approx(probs(sigmoid(z), y), rel=1e-13)


def test_sigmoid_derivative_cancels_in_the_logistic_loss():
    """BCE(σ(z)) backpropagated through Sigmoid gives the fused (σ(z) − y)/m:
    dL/da = (a − y)/(a(1 − a))/m, times σ′ = a(1 − a), leaves (a − y)/m."""
    rng = np.random.default_rng(2)
    z, y = rng.standard_normal((4, 2)), rng.integers(0, 2, size=(4, 2)).astype(float)
    act, bce, fused = Sigmoid(), BCELoss(), BCEWithLogitsLoss()
    bce(act.forward(z), y)
    fused(z, y)
    np.testing.assert_allclose(act.backward(bce.backward()), fused.backward(), rtol=1e-13)


def test_softmax_jacobian_cancels_in_cross_entropy():
    """Softmax, then cross-entropy on the probabilities (dL/dp = −y/p/m), then the
    softmax Jacobian gives the fused (softmax(z) − y)/m."""
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((4, 3)), class_target(rng, 4, 3, "soft")
    layer, fused = Softmax(), SoftmaxCrossEntropyLoss()
    P = layer.forward(z)
    fused(z, y)
    np.testing.assert_allclose(layer.backward(-y / P / 4), fused.backward(), rtol=1e-12)


@pytest.mark.parametrize("target", [np.array([[1], [0]]), np.array([[True], [False]])])
def test_bce_accepts_int_and_bool_labels_as_pred_dtype(target):
    for loss in (BCELoss(), BCEWithLogitsLoss()):
        as_float = type(loss)()
        pred = np.array([[0.7], [0.2]])
        assert loss(pred, target) == as_float(pred, target.astype(np.float64))
        np.testing.assert_array_equal(loss.backward(), as_float.backward())


def test_loss_call_is_forward_and_repr():
    loss = MSELoss()
    assert loss(np.ones((2, 1)), np.zeros((2, 1))) == 0.5
    assert repr(loss) == "MSELoss()"
    assert repr(SoftmaxCrossEntropyLoss()) == "SoftmaxCrossEntropyLoss()"
    assert all(issubclass(cls, Loss) for cls in ALL_LOSSES)


# --- negative controls -------------------------------------------------------------


class MSEMissingMean(MSELoss):
    """A deliberate slip: the loss is a mean, but the gradient forgets the 1/m."""

    def backward(self):
        return self.pred - self.target  # wrong: should be divided by m


class SoftmaxCrossEntropyMissingMean(SoftmaxCrossEntropyLoss):
    def backward(self):
        return super().backward() * self.pred.shape[0]  # wrong: undoes the 1/m


class BCEWithLogitsExtraSigmoidDerivative(BCEWithLogitsLoss):
    """A deliberate slip: σ′ multiplied into the fused delta, (a − y) a (1 − a)/m.

    The σ′ of the output unit already cancelled against the 1/(a(1 − a)) of the loss;
    multiplying it in again is the classic mistake of backpropagating through a
    sigmoid that the loss already contains.
    """

    def backward(self):
        a = sigmoid(self.pred)
        return (a - self.target) * a * (1 - a) / self.pred.shape[0]


def test_gradcheck_catches_a_missing_one_over_m():
    """With m = 4 the wrong gradient is m times too large: relative error (m−1)/(m+1) = 0.6."""
    rng = np.random.default_rng(4)
    pred, target = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    assert gradcheck(MSELoss(), pred, target) < TOL
    assert gradcheck(MSEMissingMean(), pred, target) == pytest.approx(0.6, rel=1e-6)
    labels = rng.integers(0, 2, size=4)
    assert gradcheck(SoftmaxCrossEntropyLoss(), pred, labels) < TOL
    assert gradcheck(SoftmaxCrossEntropyMissingMean(), pred, labels) > 1e-3


def test_gradcheck_catches_sigmoid_derivative_added_to_the_cross_entropy_delta():
    rng = np.random.default_rng(5)
    z, y = rng.standard_normal((5, 1)), rng.integers(0, 2, size=(5, 1)).astype(float)
    assert gradcheck(BCEWithLogitsLoss(), z, y) < TOL
    assert gradcheck(BCEWithLogitsExtraSigmoidDerivative(), z, y) > 1e-3


# --- stability under warnings-as-errors --------------------------------------------


@pytest.mark.filterwarnings("error")
def test_bce_with_logits_extreme_logits():
    """ℓ(z, y) = max(z, 0) − z y + log(1 + e^(−|z|)): finite for any finite z.

    Confidently right (z = +1e4 for y = 1, −1e4 for y = 0): loss 0, gradient 0.
    Confidently wrong: loss |z| = 1e4 per row, gradient ±1/m (σ saturates at 0 or 1).
    """
    loss = BCEWithLogitsLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        right = loss(np.array([[1e4], [-1e4]]), np.array([[1.0], [0.0]]))
        d_right = loss.backward()
        wrong = loss(np.array([[-1e4], [1e4]]), np.array([[1.0], [0.0]]))
        d_wrong = loss.backward()
        huge = loss(np.array([[1e300], [-1e300]]), np.array([[0.0], [1.0]]))
    assert right == 0.0
    np.testing.assert_array_equal(d_right, [[0.0], [0.0]])
    assert wrong == 1e4
    np.testing.assert_array_equal(d_wrong, [[-0.5], [0.5]])
    assert huge == 1e300


@pytest.mark.filterwarnings("error")
def test_softmax_cross_entropy_extreme_logits():
    """log softmax by the max shift: −log p = log Σ e^(z_j − max) − (z_y − max).

    Right: z = [1e4, −1e4, 0], label 0: loss 0.  Wrong: label 1: loss 2e4 = z_0 − z_1.
    """
    z = np.array([[1e4, -1e4, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = SoftmaxCrossEntropyLoss()
        right = loss(z, np.array([0]))
        d_right = loss.backward()
        wrong = loss(z, np.array([1]))
        d_wrong = loss.backward()
        soft = loss(z, np.array([[0.5, 0.5, 0.0]]))
    assert right == 0.0 and wrong == 2e4 and soft == 1e4
    np.testing.assert_array_equal(d_right, [[0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(d_wrong, [[1.0, -1.0, 0.0]])


@pytest.mark.filterwarnings("error")
def test_bce_with_probabilities_exactly_zero_and_one():
    """log 0 is clamped at −100 (as in PyTorch): no nan, no inf; backward is the
    derivative of that clamped loss, term by term, −y/a + (1 − y)/(1 − a), where a
    clamped log contributes 0 (it is flat there). Here m = 2.

    Right (a = y): loss 0. Row 1 (a = 0, y = 0): only (1 − y)/(1 − a) = 1 is left, the
    slope of −log(1 − a) at the edge, 1/m = 0.5. Row 2 (a = 1, y = 1): −y/a = −1, −0.5.
    Wrong (a = 1 − y): 100 per row, and 0: each row's only term is clamped, flat.
    """
    loss = BCELoss()
    right = loss(np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]]))
    d_right = loss.backward()
    wrong = loss(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    d_wrong = loss.backward()
    assert right == 0.0
    np.testing.assert_array_equal(d_right, [[0.5], [-0.5]])
    assert wrong == 100.0
    np.testing.assert_array_equal(d_wrong, [[0.0], [0.0]])


# --- dtype -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "pred", "target"),
    [
        (MSELoss(), np.array([[0.5, -1.0]]), np.array([[0.0, 1.0]])),
        (BCELoss(), np.array([[0.25, 0.5]]), np.array([[1.0, 0.0]])),
        (BCEWithLogitsLoss(), np.array([[2.0, -1.0]]), np.array([[1.0, 0.0]])),
        (SoftmaxCrossEntropyLoss(), np.array([[2.0, -1.0]]), np.array([[1.0, 0.0]])),
        (SoftmaxCrossEntropyLoss(), np.array([[2.0, -1.0]]), np.array([1])),
    ],
)
def test_float32_in_float32_gradient_out(loss, pred, target):
    """The loss value is a Python float either way; the gradient keeps pred's dtype."""
    if target.dtype == np.float64:
        target32 = target.astype(np.float32)
    else:
        target32 = target
    value32 = loss(pred.astype(np.float32), target32)
    grad32 = loss.backward()
    value64 = loss(pred, target)
    grad64 = loss.backward()
    assert type(value32) is float and type(value64) is float
    assert grad32.dtype == np.float32 and grad64.dtype == np.float64
    assert value32 == pytest.approx(value64, rel=1e-6)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-6)


@pytest.mark.parametrize("cls", [MSELoss, BCELoss, BCEWithLogitsLoss, SoftmaxCrossEntropyLoss])
def test_mixed_float32_and_float64_is_refused(cls):
    pred = np.array([[0.25, 0.75]], dtype=np.float32)
    with pytest.raises(TypeError, match=r"target has dtype float64 but pred has dtype float32"):
        cls()(pred, np.array([[0.0, 1.0]]))


# --- bad input: one test per case --------------------------------------------------


@pytest.mark.parametrize("cls", ALL_LOSSES)
def test_backward_before_forward_raises(cls):
    with pytest.raises(RuntimeError, match=rf"{cls.__name__}.backward called before forward"):
        cls().backward()


@pytest.mark.parametrize("cls", ALL_LOSSES)
def test_wrong_rank_prediction_is_refused(cls):
    with pytest.raises(ValueError, match=r"pred must be 2-D .*got shape \(3,\)"):
        cls()(np.full(3, 0.5), np.zeros(3))


@pytest.mark.parametrize("cls", [MSELoss, BCELoss, BCEWithLogitsLoss])
def test_mismatched_batch_sizes_are_refused(cls):
    with pytest.raises(
        ValueError, match=r"target must have the shape of pred, \(3, 1\), got \(4, 1\)"
    ):
        cls()(np.full((3, 1), 0.5), np.zeros((4, 1)))


@pytest.mark.parametrize("cls", [MSELoss, BCELoss, BCEWithLogitsLoss])
def test_target_is_never_broadcast(cls):
    """(m,) against (m, 1) would broadcast to (m, m) in ``pred − target``: refused."""
    with pytest.raises(
        ValueError, match=r"target must have the shape of pred, \(3, 1\), got \(3,\)"
    ):
        cls()(np.full((3, 1), 0.5), np.zeros(3))


def test_mismatched_batch_sizes_with_labels_are_refused():
    with pytest.raises(
        ValueError,
        match=r"integer labels target must have shape \(3,\) to match pred \(3, 4\), got \(5,\)",
    ):
        SoftmaxCrossEntropyLoss()(np.zeros((3, 4)), np.zeros(5, dtype=np.int64))


def test_integer_one_hot_rows_are_read_as_one_hot_rows():
    """An int array of shape (m, K) is one-hot rows: same loss and gradient as float rows."""
    z = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    as_int, as_float = SoftmaxCrossEntropyLoss(), SoftmaxCrossEntropyLoss()
    assert as_int(z, np.eye(3, dtype=np.int64)[[2, 0]]) == as_float(z, np.eye(3)[[2, 0]])
    np.testing.assert_array_equal(as_int.backward(), as_float.backward())


def test_integer_rows_that_do_not_sum_to_one_are_refused():
    with pytest.raises(ValueError, match=r"target rows must sum to 1.*row 0 sums to 2"):
        SoftmaxCrossEntropyLoss()(np.zeros((2, 3)), np.array([[1, 1, 0], [0, 1, 0]]))


def test_one_hot_rows_of_the_wrong_width_are_refused():
    with pytest.raises(
        ValueError, match=r"target must have the shape of pred, \(2, 3\), got \(2, 4\)"
    ):
        SoftmaxCrossEntropyLoss()(np.zeros((2, 3)), np.eye(4)[:2])


@pytest.mark.parametrize(("bad", "shown"), [(3, "0 to 3"), (-1, "-1 to 2")])
def test_labels_out_of_range_are_refused(bad, shown):
    labels = np.array([0, 2, bad])
    with pytest.raises(
        ValueError, match=rf"labels in target must lie in \[0, 3\) .*K=3 .*got values from {shown}"
    ):
        SoftmaxCrossEntropyLoss()(np.zeros((3, 3)), labels)


def test_float_labels_are_refused():
    with pytest.raises(
        TypeError, match=r"target of shape \(3,\) must hold integer labels, got dtype float64"
    ):
        SoftmaxCrossEntropyLoss()(np.zeros((3, 4)), np.array([0.0, 1.0, 3.0]))


def test_one_hot_rows_not_summing_to_one_are_refused():
    target = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match=r"target rows must sum to 1 .*row 1 sums to 2"):
        SoftmaxCrossEntropyLoss()(np.zeros((2, 3)), target)


def test_negative_target_rows_are_refused():
    target = np.array([[1.5, -0.5, 0.0]])  # sums to 1, but is not a probability vector
    with pytest.raises(ValueError, match=r"target rows must be probability vectors"):
        SoftmaxCrossEntropyLoss()(np.zeros((1, 3)), target)


@pytest.mark.parametrize("cls", ALL_LOSSES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_prediction_is_refused(cls, bad):
    pred = np.full((2, 2), 0.5)
    pred[1, 0] = bad
    with pytest.raises(ValueError, match=r"pred contains 1 non-finite value\(s\)"):
        cls()(pred, np.array([[0.0, 1.0], [1.0, 0.0]]))


@pytest.mark.parametrize("cls", ALL_LOSSES)
def test_non_finite_target_is_refused(cls):
    target = np.array([[0.0, 1.0], [np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"target contains 1 non-finite value\(s\)"):
        cls()(np.full((2, 2), 0.5), target)


def test_bce_refuses_probabilities_outside_zero_one():
    with pytest.raises(
        ValueError, match=r"pred must hold probabilities in \[0, 1\].*BCEWithLogitsLoss"
    ):
        BCELoss()(np.array([[1.5]]), np.array([[1.0]]))


@pytest.mark.parametrize("cls", [BCELoss, BCEWithLogitsLoss])
@pytest.mark.parametrize("target", [np.array([[2.0]]), np.array([[-1]])])
def test_logistic_losses_refuse_targets_outside_zero_one(cls, target):
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\]"):
        cls()(np.array([[0.5]]), target)


def test_mse_refuses_integer_targets():
    with pytest.raises(TypeError, match=r"target must have dtype float32 or float64, got int64"):
        MSELoss()(np.zeros((2, 1)), np.zeros((2, 1), dtype=np.int64))


@pytest.mark.parametrize(
    ("cls", "target"),
    [
        (MSELoss, np.zeros((3, 2))),
        (BCELoss, np.full((2, 2), 2.0)),
        (BCEWithLogitsLoss, np.zeros((2,))),
        (SoftmaxCrossEntropyLoss, np.array([0, 5])),
        (SoftmaxCrossEntropyLoss, np.array([[1.0, 1.0], [0.0, 1.0]])),
    ],
)
def test_a_refused_forward_keeps_nothing_for_backward(cls, target):
    """After a forward that raised, backward must not run on half-stored state (the new
    pred with the previous call's labels, say): on a fresh loss it still refuses."""
    loss = cls()
    with pytest.raises((ValueError, TypeError)):
        loss(np.full((2, 2), 0.5), target)
    with pytest.raises(RuntimeError, match=r"backward called before forward"):
        loss.backward()
