"""Tests of nnlib.datasets: the toy generators and the shipped MNIST digits."""

import hashlib
import shutil

import numpy as np
import pytest

from nnlib import (
    Digits,
    load_digits,
    make_circles,
    make_moons,
    make_regression_curve,
    make_xor,
    regression_curve,
)
from nnlib.datasets import _DIGITS_PATH, DIGITS_SHA256

CLASSIFIERS = [make_xor, make_moons, make_circles]
GENERATORS = [*CLASSIFIERS, make_regression_curve]


# --- load_digits ------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_packaged_file_matches_the_recorded_checksum():
    assert hashlib.sha256(_DIGITS_PATH.read_bytes()).hexdigest() == DIGITS_SHA256


def test_digits_shapes_and_dtypes(digits):
    assert isinstance(digits, Digits)
    X_train, y_train, X_test, y_test = digits
    assert X_train.shape == (4000, 784) and X_train.dtype == np.float64
    assert X_test.shape == (1000, 784) and X_test.dtype == np.float64
    assert y_train.shape == (4000,) and y_train.dtype == np.int64
    assert y_test.shape == (1000,) and y_test.dtype == np.int64


def test_digits_float32_on_request(digits):
    d32 = load_digits(dtype=np.float32)
    assert d32.X_train.dtype == np.float32 and d32.X_test.dtype == np.float32
    assert d32.y_train.dtype == np.int64
    # The same pixels, rounded to float32.
    np.testing.assert_allclose(d32.X_train, digits.X_train, rtol=1e-7)
    np.testing.assert_array_equal(d32.y_test, digits.y_test)


def test_digits_unflattened_are_the_same_images(digits):
    square = load_digits(flatten=False)
    assert square.X_train.shape == (4000, 28, 28) and square.X_test.shape == (1000, 28, 28)
    np.testing.assert_array_equal(square.X_train.reshape(4000, 784), digits.X_train)
    np.testing.assert_array_equal(square.y_train, digits.y_train)


def test_digits_pixels_are_scaled_to_the_unit_interval(digits):
    for X in (digits.X_train, digits.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
        # Scaled from integers 0..255: 255 * X is integral.
        np.testing.assert_allclose(X * 255, np.round(X * 255), atol=1e-9)
    # MNIST is mostly background: about a fifth of the pixels carry ink.
    assert 0.1 < np.mean(digits.X_train > 0) < 0.3


def test_digits_labels_are_stratified(digits):
    assert set(np.unique(digits.y_train)) == set(range(10))
    assert np.bincount(digits.y_train, minlength=10).tolist() == [400] * 10
    assert np.bincount(digits.y_test, minlength=10).tolist() == [100] * 10


def test_digits_are_shuffled_across_classes(digits):
    # The file is sorted by digit; the split must not be (galleries, minibatches).
    assert len(np.unique(digits.y_train[:50])) == 10
    assert len(np.unique(digits.y_test[:50])) == 10


def test_digits_are_deterministic(digits):
    again = load_digits()
    for a, b in zip(digits, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_digits_split_is_pinned(digits):
    # The split must never change silently (every stored notebook output depends on
    # it). These fingerprints were recorded when the split was fixed.
    def fingerprint(a):
        return hashlib.sha256(a.tobytes()).hexdigest()[:16]

    def pixels(X):
        return np.round(X * 255).astype(np.uint8)

    assert digits.y_train[:10].tolist() == [6, 3, 8, 2, 7, 7, 4, 1, 9, 7]
    assert fingerprint(digits.y_train) == "b2e549de27a997de"
    assert fingerprint(digits.y_test) == "3df76b6c194dc7a2"
    assert fingerprint(pixels(digits.X_train)) == "1a2b0ad78cc64793"
    assert fingerprint(pixels(digits.X_test)) == "869d718f9626113f"


def test_digits_train_and_test_are_disjoint(digits):
    def row_hashes(X):
        pixels = np.round(X * 255).astype(np.uint8)
        return {hashlib.sha256(row.tobytes()).hexdigest() for row in pixels}

    train, test = row_hashes(digits.X_train), row_hashes(digits.X_test)
    assert len(train) == 4000 and len(test) == 1000  # no duplicates within either
    assert not train & test


def test_digits_look_like_their_labels(digits):
    # A sanity check that pixels and labels were not misaligned: the mean "1" has far
    # less ink than the mean "0", and the nearest class mean classifies most test images.
    X, y = digits.X_train, digits.y_train
    means = np.stack([X[y == k].mean(axis=0) for k in range(10)])  # (10, 784)
    assert means[1].sum() < 0.6 * means[0].sum()
    distances = ((digits.X_test[:, None, :] - means[None]) ** 2).sum(axis=2)  # (1000, 10)
    assert np.mean(distances.argmin(axis=1) == digits.y_test) > 0.75


def test_digits_corrupted_copy_is_refused(tmp_path):
    copy = tmp_path / "digits.npz"
    shutil.copyfile(_DIGITS_PATH, copy)
    content = bytearray(copy.read_bytes())
    content[len(content) // 2] ^= 0xFF  # flip one byte
    copy.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="sha256 checksum mismatch"):
        load_digits(path=copy)


def test_digits_intact_copy_elsewhere_is_accepted(tmp_path, digits):
    copy = tmp_path / "elsewhere.npz"
    shutil.copyfile(_DIGITS_PATH, copy)
    np.testing.assert_array_equal(load_digits(path=str(copy)).y_test, digits.y_test)


def test_digits_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_digits(path=tmp_path / "nowhere.npz")


@pytest.mark.parametrize("dtype", [np.float16, np.int64, "uint8"])
def test_digits_refuse_other_dtypes(dtype):
    with pytest.raises(TypeError, match="dtype must be np.float32 or np.float64"):
        load_digits(dtype=dtype)


def test_digits_refuse_a_non_dtype():
    with pytest.raises(TypeError, match="dtype must be"):
        load_digits(dtype=object())


def test_digits_flatten_must_be_bool():
    with pytest.raises(TypeError, match="flatten must be True or False"):
        load_digits(flatten=1)


# --- toy generators ---------------------------------------------------------------


@pytest.mark.parametrize("make", CLASSIFIERS)
@pytest.mark.parametrize("m", [1, 2, 7, 200])
def test_classification_shapes_dtypes_labels(make, m):
    X, y = make(m, rng=np.random.default_rng(0))
    assert X.shape == (m, 2) and X.dtype == np.float64
    assert y.shape == (m, 1) and y.dtype == np.float64
    assert set(np.unique(y)) <= {0.0, 1.0}
    assert np.isfinite(X).all()


@pytest.mark.parametrize("make", CLASSIFIERS)
@pytest.mark.parametrize("m", [2, 3, 100, 101])
def test_classification_classes_are_balanced(make, m):
    _, y = make(m, rng=np.random.default_rng(1))
    ones = int(y.sum())
    assert abs(ones - (m - ones)) <= 1


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_are_deterministic_given_the_seed(make):
    first = make(50, rng=np.random.default_rng(7))
    second = make(50, rng=np.random.default_rng(7))
    other = make(50, rng=np.random.default_rng(8))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classification_rows_are_shuffled(make):
    _, y = make(100, rng=np.random.default_rng(2))
    assert 0 < y[:50].sum() < 50  # not all of one class first


def test_xor_without_noise_is_the_truth_table():
    X, y = make_xor(4, rng=np.random.default_rng(0), noise=0)
    table = {tuple(x): float(label) for x, label in zip(X, y[:, 0], strict=True)}
    assert table == {(-1.0, -1.0): 0.0, (-1.0, 1.0): 1.0, (1.0, 1.0): 0.0, (1.0, -1.0): 1.0}


def test_xor_labels_follow_the_quadrant():
    X, y = make_xor(400, rng=np.random.default_rng(3), noise=0.2)
    # With noise 0.2 a point leaves its quadrant with probability ~1e-5 per coordinate.
    np.testing.assert_array_equal(y[:, 0], (X[:, 0] * X[:, 1] < 0).astype(float))


def test_moons_without_noise_lie_on_the_half_circles():
    X, y = make_moons(101, rng=np.random.default_rng(0), noise=0.0)
    upper, lower = X[y[:, 0] == 0], X[y[:, 0] == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_moons_are_not_linearly_separable():
    # Least squares on [x1, x2, 1] is a fair linear classifier: it must fail somewhere.
    X, y = make_moons(200, rng=np.random.default_rng(0), noise=0.0)
    A = np.column_stack([X, np.ones(len(X))])
    w, *_ = np.linalg.lstsq(A, 2 * y - 1, rcond=None)
    assert np.mean((A @ w > 0) == (y > 0.5)) < 0.95


@pytest.mark.parametrize("factor", [0.3, 0.5, 0.8])
def test_circles_without_noise_have_the_two_radii(factor):
    X, y = make_circles(60, rng=np.random.default_rng(0), noise=0.0, factor=factor)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y[:, 0] == 0], 1.0)
    np.testing.assert_allclose(radius[y[:, 0] == 1], factor)


def test_regression_curve_data():
    X, y = make_regression_curve(500, rng=np.random.default_rng(0), noise=0.1)
    assert X.shape == (500, 1) and y.shape == (500, 1)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert X.min() >= -3.0 and X.max() <= 3.0
    residual = y - regression_curve(X)
    assert abs(residual.mean()) < 0.03 and 0.08 < residual.std() < 0.12


def test_regression_curve_without_noise_is_the_curve():
    X, y = make_regression_curve(20, rng=np.random.default_rng(0), noise=0)
    np.testing.assert_array_equal(y, regression_curve(X))


def test_regression_curve_values():
    # f(x) = sin(x) + 0.3 x, worked by hand: f(0) = 0; f(π/2) = 1 + 0.3·π/2 ≈ 1.4712.
    np.testing.assert_allclose(regression_curve([0.0, np.pi / 2]), [0.0, 1 + 0.15 * np.pi])
    assert regression_curve(1.0).shape == ()
    assert regression_curve(np.zeros((3, 4), dtype=np.float32)).dtype == np.float64


def test_regression_curve_refuses_non_numbers():
    with pytest.raises(TypeError, match="x must be real numbers"):
        regression_curve(["a", "b"])


# --- bad arguments name the argument ----------------------------------------------


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("m", [0, -3])
def test_m_must_be_positive(make, m):
    with pytest.raises(ValueError, match=r"m \(the number of samples\) must be positive"):
        make(m, rng=np.random.default_rng(0))


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("m", [2.0, "10", True, None])
def test_m_must_be_an_int(make, m):
    with pytest.raises(TypeError, match=r"m \(the number of samples\) must be an int"):
        make(m, rng=np.random.default_rng(0))


@pytest.mark.parametrize("make", GENERATORS)
def test_m_may_be_a_numpy_integer(make):
    X, _ = make(np.int64(5), rng=np.random.default_rng(0))
    assert X.shape[0] == 5


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0)])
def test_rng_must_be_a_generator(make, rng):
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        make(10, rng=rng)


@pytest.mark.parametrize("make", GENERATORS)
def test_rng_is_keyword_only_and_required(make):
    with pytest.raises(TypeError):
        make(10, np.random.default_rng(0))
    with pytest.raises(TypeError):
        make(10)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("noise", [-0.1, np.inf, np.nan])
def test_noise_must_be_finite_and_nonnegative(make, noise):
    with pytest.raises(ValueError, match="noise must be a finite number >= 0, got"):
        make(10, rng=np.random.default_rng(0), noise=noise)


@pytest.mark.parametrize("make", GENERATORS)
def test_noise_must_be_a_number(make):
    with pytest.raises(TypeError, match="noise must be a real number"):
        make(10, rng=np.random.default_rng(0), noise="0.1")


@pytest.mark.parametrize("factor", [0, 1, 1.5, -0.5])
def test_circles_factor_must_be_inside_the_unit_interval(factor):
    with pytest.raises(ValueError, match=r"factor must be a finite number in \(0, 1\)"):
        make_circles(10, rng=np.random.default_rng(0), factor=factor)
