"""Tests of nnlib.train: ``fit`` (shuffled minibatches from an explicit rng) and ``accuracy``.

* the loop itself: each epoch visits every row once in a fresh permutation drawn
  from ``rng``; gradients are zeroed per batch; the epoch loss is the mean over
  samples; the history has one entry per epoch for each key;
* determinism: the same seed gives the same history and the same weights;
* it learns: the two-moons set to ≥ 97% training accuracy, and a short run on the
  real digits beats 85% test accuracy (a few seconds);
* ``accuracy`` for class scores with labels or one-hot rows, and for one output
  with a threshold; and the refusals.
"""

import numpy as np
import pytest

from nnlib import (
    SGD,
    BCEWithLogitsLoss,
    Linear,
    Module,
    MSELoss,
    ReLU,
    Sequential,
    SoftmaxCrossEntropyLoss,
    Tanh,
    accuracy,
    fit,
    load_digits,
    make_moons,
)


class FrozenSGD(SGD):
    """An optimizer that never moves: the model stays as built, so losses are known."""

    def step(self):
        pass


class Recorder(Module):
    """Identity module that records the rows of every batch it sees."""

    def __init__(self):
        self.batches = []

    def forward(self, X):
        self.batches.append(X[:, 0].copy())
        return X

    def backward(self, dY):
        return dY


def small_regression(m=10):
    rng = np.random.default_rng(0)
    X = np.arange(m, dtype=np.float64).reshape(m, 1)  # row i holds the number i
    y = rng.standard_normal((m, 1))
    return X, y


# --- the loop ----------------------------------------------------------------------


def test_each_epoch_visits_every_row_once_in_the_rngs_order():
    """m = 10, batch_size = 4: batches of 4, 4 and 2 rows, in permutation order."""
    X, y = small_regression(10)
    recorder = Recorder()
    net = Sequential(recorder, Linear(1, 1, rng=np.random.default_rng(1)))
    fit(net, MSELoss(), FrozenSGD(net.parameters(), lr=0.1), X, y,
        epochs=2, batch_size=4, rng=np.random.default_rng(7))
    assert [len(b) for b in recorder.batches] == [4, 4, 2, 4, 4, 2]
    expected = np.random.default_rng(7)
    for epoch in range(2):
        seen = np.concatenate(recorder.batches[3 * epoch : 3 * epoch + 3])
        np.testing.assert_array_equal(seen, expected.permutation(10))


def test_epoch_loss_is_the_mean_over_samples_and_grads_are_zeroed_per_batch():
    """With a frozen model the epoch loss must equal the loss on the whole set, though
    the last batch is smaller (batch losses weighted by batch size); and after fit the
    gradients are those of the last batch alone (zero_grad before each batch)."""
    X, y = small_regression(10)
    net = Sequential(Linear(1, 1, rng=np.random.default_rng(1)))
    net[0].b[:] = 0.5
    loss = MSELoss()
    history = fit(net, loss, FrozenSGD(net.parameters(), lr=0.1), X, y,
                  epochs=3, batch_size=4, rng=np.random.default_rng(3))
    whole = MSELoss()(net.forward(X), y)
    np.testing.assert_allclose(history["loss"], [whole] * 3, rtol=1e-14)

    order = np.random.default_rng(3)
    for _ in range(3):
        last = order.permutation(10)[8:]  # the third epoch's last batch, of 2 rows
    net.zero_grad()
    loss.forward(net.forward(X[last]), y[last])
    net.backward(loss.backward())
    expected_dW = net[0].dW.copy()
    fit(net, loss, FrozenSGD(net.parameters(), lr=0.1), X, y,
        epochs=3, batch_size=4, rng=np.random.default_rng(3))
    np.testing.assert_allclose(net[0].dW, expected_dW, rtol=1e-14)


def test_history_keys_and_lengths():
    X, y = small_regression(12)
    rng = np.random.default_rng(0)
    net = Sequential(Linear(1, 4, rng=rng), Tanh(), Linear(4, 1, rng=rng))
    max_error = {"max_error": lambda out, target: float(np.abs(out - target).max())}

    history = fit(net, MSELoss(), SGD(net.parameters(), lr=0.01), X, y,
                  epochs=3, batch_size=5, rng=rng)
    assert list(history) == ["loss"] and len(history["loss"]) == 3

    history = fit(net, MSELoss(), SGD(net.parameters(), lr=0.01), X, y,
                  epochs=4, batch_size=5, rng=rng, metrics=max_error,
                  validation_data=(X[:3], y[:3]))
    assert set(history) == {"loss", "max_error", "val_loss", "val_max_error"}
    assert all(len(values) == 4 for values in history.values())
    assert all(type(v) is float for values in history.values() for v in values)
    # The last entries describe the model as fit leaves it.
    assert history["val_loss"][-1] == MSELoss()(net.predict(X[:3]), y[:3])
    assert history["max_error"][-1] == max_error["max_error"](net.predict(X), y)


def moons_run(seed):
    rng = np.random.default_rng(seed)
    X, y = make_moons(200, rng=rng, noise=0.1)
    net = Sequential(
        Linear(2, 16, rng=rng), Tanh(), Linear(16, 16, rng=rng), Tanh(), Linear(16, 1, rng=rng)
    )
    history = fit(
        net, BCEWithLogitsLoss(), SGD(net.parameters(), lr=0.3, momentum=0.9), X, y,
        epochs=60, batch_size=20, rng=rng,
        metrics={"accuracy": lambda logits, t: accuracy(logits, t, threshold=0.0)},
    )
    return net, history, X, y


@pytest.fixture(scope="module")
def moons_seed0():
    """One training run on the moons, shared by the two tests that read it."""
    return moons_run(0)


def test_same_seed_same_history_and_weights(moons_seed0):
    net_a, hist_a, _, _ = moons_seed0
    net_b, hist_b, _, _ = moons_run(0)
    assert hist_a == hist_b
    for (a, _), (b, _) in zip(net_a.parameters(), net_b.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    _, hist_c, _, _ = moons_run(1)
    assert hist_c["loss"] != hist_a["loss"]


def test_two_moons_reach_97_percent_training_accuracy(moons_seed0):
    """Not linearly separable (logistic regression stalls near 89%); two tanh layers fit it."""
    net, history, X, y = moons_seed0
    assert history["accuracy"][-1] >= 0.97
    assert accuracy(net.predict(X), y, threshold=0.0) == history["accuracy"][-1]
    assert history["loss"][-1] < history["loss"][0] / 5


def test_short_digits_run_beats_85_percent_test_accuracy():
    """784-64-10 ReLU network, softmax cross-entropy, float32, three epochs of 20
    minibatches: about half a second. (The full result belongs to the softmax chapter.)"""
    digits = load_digits(dtype=np.float32)
    rng = np.random.default_rng(0)
    net = Sequential(
        Linear(784, 64, rng=rng, dtype=np.float32), ReLU(),
        Linear(64, 10, rng=rng, dtype=np.float32),
    )
    history = fit(
        net, SoftmaxCrossEntropyLoss(), SGD(net.parameters(), lr=0.2, momentum=0.9),
        digits.X_train, digits.y_train, epochs=3, batch_size=200, rng=rng,
    )
    assert accuracy(net.predict(digits.X_test), digits.y_test) > 0.85
    assert history["loss"][-1] < history["loss"][0]


# --- accuracy ----------------------------------------------------------------------


def test_accuracy_of_class_scores_with_labels_and_one_hot():
    """Arg-max per row: rows 0, 1, 3 right, row 2 wrong -> 3/4."""
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [5.0, 0.0, 1.0], [0.1, 0.2, 0.3]])
    labels = np.array([0, 1, 2, 2])
    assert accuracy(scores, labels) == 0.75
    assert accuracy(scores, np.eye(3)[labels]) == 0.75


def test_accuracy_of_one_output_with_a_threshold():
    """Probabilities against 0.5 by default; logits against 0.0 when told."""
    probs = np.array([[0.9], [0.4], [0.5], [0.2]])
    y = np.array([[1.0], [1.0], [1.0], [0.0]])
    assert accuracy(probs, y) == 0.75  # 0.5 counts as class 1 (scores >= threshold)
    logits = np.array([[2.0], [-0.1], [0.0], [-3.0]])
    assert accuracy(logits, y, threshold=0.0) == 0.75
    assert accuracy(logits, y.astype(np.int64), threshold=0.0) == 0.75


def test_accuracy_refuses_mismatched_rows():
    with pytest.raises(
        ValueError, match=r"y must have 3 rows to match scores \(3, 2\), got \(4,\)"
    ):
        accuracy(np.zeros((3, 2)), np.zeros(4, dtype=np.int64))


def test_accuracy_refuses_flat_targets_for_one_output():
    with pytest.raises(
        ValueError, match=r"y must have shape \(3, 1\) for scores \(3, 1\), got \(3,\)"
    ):
        accuracy(np.zeros((3, 1)), np.zeros(3))


def test_accuracy_refuses_one_hot_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"y must have shape \(2,\) or \(2, 3\), got \(2, 4\)"):
        accuracy(np.zeros((2, 3)), np.eye(4)[:2])


def test_accuracy_refuses_non_arrays():
    with pytest.raises(TypeError, match=r"y must be a numpy array, got list"):
        accuracy(np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match=r"scores must be 2-D"):
        accuracy(np.zeros(3), np.zeros(3))


# --- fit: bad input ----------------------------------------------------------------


def fit_args():
    X, y = small_regression(6)
    net = Sequential(Linear(1, 1, rng=np.random.default_rng(0)))
    return net, MSELoss(), SGD(net.parameters(), lr=0.1), X, y


def test_fit_refuses_mismatched_rows():
    net, loss, opt, X, y = fit_args()
    with pytest.raises(ValueError, match=r"y must have 6 rows to match X \(6, 1\), got \(5, 1\)"):
        fit(net, loss, opt, X, y[:5], epochs=1, batch_size=2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"y must be a numpy array with 6 rows, got list"):
        fit(net, loss, opt, X, list(y), epochs=1, batch_size=2, rng=np.random.default_rng(0))


def test_fit_refuses_wrong_rank_input():
    net, loss, opt, X, y = fit_args()
    with pytest.raises(ValueError, match=r"X must be 2-D .*got shape \(6,\)"):
        fit(net, loss, opt, X[:, 0], y, epochs=1, batch_size=2, rng=np.random.default_rng(0))


@pytest.mark.parametrize(("name", "value"), [("epochs", 0), ("batch_size", 0), ("epochs", True),
                                             ("batch_size", 2.0)])
def test_fit_refuses_bad_counts(name, value):
    net, loss, opt, X, y = fit_args()
    kwargs = {"epochs": 1, "batch_size": 2, name: value}
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer, got {value!r}"):
        fit(net, loss, opt, X, y, rng=np.random.default_rng(0), **kwargs)


@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0)])
def test_fit_refuses_a_non_generator_rng(rng):
    net, loss, opt, X, y = fit_args()
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator"):
        fit(net, loss, opt, X, y, epochs=1, batch_size=2, rng=rng)


def test_fit_trains_a_bare_module_too():
    """A model need not be a Sequential: a single Linear fits a line (y = 2x + 1)."""
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    layer = Linear(1, 1, rng=np.random.default_rng(0))
    fit(layer, MSELoss(), SGD(layer.parameters(), lr=0.5), x, 2 * x + 1,
        epochs=200, batch_size=20, rng=np.random.default_rng(1))
    np.testing.assert_allclose([layer.W[0, 0], layer.b[0]], [2.0, 1.0], atol=1e-6)
