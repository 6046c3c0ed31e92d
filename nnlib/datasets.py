"""Data sets for the chapters: seeded toy problems and real handwritten digits.

Every generator takes an explicit ``rng`` (``np.random.default_rng(seed)``), so a
chapter that passes the same seed draws the same points on every machine. Rows are
samples: ``X`` has shape ``(m, n_features)``, float64.

* :func:`make_xor`, :func:`make_moons`, :func:`make_circles`: two classes in the
  plane that no straight line separates; labels are a column ``y`` of shape
  ``(m, 1)`` holding 0.0 or 1.0, the shape of a sigmoid network's output.
* :func:`make_regression_curve`: noisy samples of the smooth curve
  :func:`regression_curve`.
* :func:`load_digits`: 5,000 real MNIST digits shipped in ``nnlib/data/digits.npz``
  (see ``nnlib/data/README.md`` for source and licence), split 4,000 / 1,000.
"""

from __future__ import annotations

import hashlib
import io
import numbers
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: sha256 of ``nnlib/data/digits.npz``; :func:`load_digits` refuses any other file.
DIGITS_SHA256 = "63818dc867dd7ee1181196c2588842f34debadc19cc80dc16b1dc1401cbb62c4"

_DIGITS_PATH = Path(__file__).with_name("data") / "digits.npz"
_SPLIT_SEED = 20240601  # fixes the train/test split of the digits once and for all
_TEST_PER_CLASS = 100  # of the 500 images of each digit; the other 400 are for training
_CURVE_RANGE = (-3.0, 3.0)  # where make_regression_curve draws x


# --- argument checks --------------------------------------------------------------


def _check_m(m) -> int:
    if isinstance(m, bool) or not isinstance(m, numbers.Integral):
        raise TypeError(f"m (the number of samples) must be an int, got {type(m).__name__}")
    if m < 1:
        raise ValueError(f"m (the number of samples) must be positive, got {m}")
    return int(m)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng


def _check_real(
    value,
    name: str,
    *,
    low: float,
    high: float = np.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a real number in the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not np.isfinite(value) or too_low or too_high:
        if np.isinf(high):
            allowed = f"{'>' if low_open else '>='} {low:g}"
        else:
            allowed = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a finite number {allowed}, got {value}")
    return value


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray):
    order = rng.permutation(len(X))
    return X[order], y[order]


# --- two-class toy problems in the plane ------------------------------------------


def make_xor(m: int, *, rng: np.random.Generator, noise: float = 0.2):
    """XOR: points around the four corners (±1, ±1), class 1 where the signs differ.

    The four corners take turns (so the classes differ in size by at most one), each
    point is its corner plus Gaussian noise of standard deviation ``noise``, and the
    rows are shuffled. The label is the corner's, even if the noise carries a point
    across an axis. With ``m=4, noise=0`` the result is the XOR truth table on ±1.

    Shapes: X (m, 2) float64; y (m, 1) float64 in {0.0, 1.0}.

    Chapter: The sigmoid and the logistic loss.

    Parameters
    ----------
    m : int
        Number of samples, positive.
    rng : numpy.random.Generator
        Source of the noise and of the shuffle (keyword-only, required).
    noise : float
        Standard deviation of the Gaussian noise, finite and >= 0.

    Returns
    -------
    X, y : numpy.ndarray
    """
    m, rng = _check_m(m), _check_rng(rng)
    noise = _check_real(noise, "noise", low=0.0)
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [1.0, -1.0]])  # (4, 2)
    corner_labels = np.array([0.0, 1.0, 0.0, 1.0])  # 1 where the two signs differ
    which = np.arange(m) % 4  # (m,) the corners take turns
    X = corners[which] + noise * rng.standard_normal((m, 2))  # (m, 2)
    y = corner_labels[which].reshape(m, 1)  # (m, 1)
    return _shuffled(rng, X, y)


def make_moons(m: int, *, rng: np.random.Generator, noise: float = 0.1):
    """Two interleaving half circles: no straight line separates the classes.

    Class 0 lies on the upper half of the unit circle, (cos t, sin t) for t in
    [0, π]; class 1 on the lower half circle (1 − cos t, 0.5 − sin t), shifted so
    that each moon reaches into the other. The angles are evenly spaced, Gaussian
    noise of standard deviation ``noise`` is added to both coordinates, and the rows
    are shuffled. Class 0 gets ``ceil(m/2)`` points, class 1 ``floor(m/2)``.

    Shapes: X (m, 2) float64; y (m, 1) float64 in {0.0, 1.0}.

    Chapter: The sigmoid and the logistic loss.

    Parameters
    ----------
    m : int
        Number of samples, positive.
    rng : numpy.random.Generator
        Source of the noise and of the shuffle (keyword-only, required).
    noise : float
        Standard deviation of the Gaussian noise, finite and >= 0.

    Returns
    -------
    X, y : numpy.ndarray
    """
    m, rng = _check_m(m), _check_rng(rng)
    noise = _check_real(noise, "noise", low=0.0)
    m0, m1 = m - m // 2, m // 2
    t0 = np.linspace(0.0, np.pi, m0)  # (m0,)
    t1 = np.linspace(0.0, np.pi, m1)  # (m1,)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])  # (m0, 2)
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])  # (m1, 2)
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((m, 2))  # (m, 2)
    y = np.concatenate([np.zeros(m0), np.ones(m1)]).reshape(m, 1)  # (m, 1)
    return _shuffled(rng, X, y)


def make_circles(m: int, *, rng: np.random.Generator, noise: float = 0.1, factor: float = 0.5):
    """A small circle inside a large one: class 0 outside, class 1 inside.

    Class 0 lies on the unit circle, class 1 on the circle of radius ``factor``; the
    angles are evenly spaced, Gaussian noise of standard deviation ``noise`` is added
    to both coordinates, and the rows are shuffled. Class 0 gets ``ceil(m/2)`` points,
    class 1 ``floor(m/2)``.

    Shapes: X (m, 2) float64; y (m, 1) float64 in {0.0, 1.0}.

    Chapter: The sigmoid and the logistic loss.

    Parameters
    ----------
    m : int
        Number of samples, positive.
    rng : numpy.random.Generator
        Source of the noise and of the shuffle (keyword-only, required).
    noise : float
        Standard deviation of the Gaussian noise, finite and >= 0.
    factor : float
        Radius of the inner circle relative to the outer one, strictly between 0 and 1.

    Returns
    -------
    X, y : numpy.ndarray
    """
    m, rng = _check_m(m), _check_rng(rng)
    noise = _check_real(noise, "noise", low=0.0)
    factor = _check_real(factor, "factor", low=0.0, high=1.0, low_open=True, high_open=True)
    m0, m1 = m - m // 2, m // 2
    t0 = np.linspace(0.0, 2 * np.pi, m0, endpoint=False)  # (m0,)
    t1 = np.linspace(0.0, 2 * np.pi, m1, endpoint=False)  # (m1,)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])  # (m0, 2)
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])  # (m1, 2)
    X = np.vstack([outer, inner]) + noise * rng.standard_normal((m, 2))  # (m, 2)
    y = np.concatenate([np.zeros(m0), np.ones(m1)]).reshape(m, 1)  # (m, 1)
    return _shuffled(rng, X, y)


# --- a 1-D regression problem -------------------------------------------------------


def regression_curve(x):
    """The noiseless curve ``f(x) = sin(x) + 0.3 x`` that the regression data samples.

    Smooth, nonlinear and not monotonic, so a straight line fits it badly and a small
    ReLU network fits it well. Use it to plot the truth beside a fitted model.

    Shapes: any shape -> the same shape, float64 (a scalar gives a 0-d array).

    Chapter: ReLU and mean squared error.

    Parameters
    ----------
    x : array_like of real numbers

    Returns
    -------
    numpy.ndarray
    """
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x must be real numbers (array-like), got {type(x).__name__}") from error
    return np.sin(x) + 0.3 * x


def make_regression_curve(m: int, *, rng: np.random.Generator, noise: float = 0.1):
    """Noisy samples of :func:`regression_curve` at ``x`` drawn uniformly in [-3, 3].

    ``y = sin(x) + 0.3 x + noise * ε`` with ε standard normal, one independent draw
    per sample. The rows are in the order drawn (not sorted by x).

    Shapes: X (m, 1) float64; y (m, 1) float64.

    Chapter: ReLU and mean squared error.

    Parameters
    ----------
    m : int
        Number of samples, positive.
    rng : numpy.random.Generator
        Source of x and of the noise (keyword-only, required).
    noise : float
        Standard deviation of the Gaussian noise on y, finite and >= 0.

    Returns
    -------
    X, y : numpy.ndarray
    """
    m, rng = _check_m(m), _check_rng(rng)
    noise = _check_real(noise, "noise", low=0.0)
    X = rng.uniform(*_CURVE_RANGE, size=(m, 1))  # (m, 1)
    y = regression_curve(X) + noise * rng.standard_normal((m, 1))  # (m, 1)
    return X, y


# --- real handwritten digits --------------------------------------------------------


class Digits(NamedTuple):
    """The digits split in two, as returned by :func:`load_digits`.

    Shapes: X_train (4000, 784), y_train (4000,), X_test (1000, 784), y_test (1000,);
    with ``flatten=False`` the images are (n, 28, 28) instead. X is float (pixels in
    [0, 1], 0 = background, 1 = ink); y is int64 in 0..9.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _stratified_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a fixed split: 100 test images of each digit, the rest for training."""
    rng = np.random.default_rng(_SPLIT_SEED)
    train, test = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test.append(members[:_TEST_PER_CLASS])
        train.append(members[_TEST_PER_CLASS:])
    # Shuffle across digits too: the file is sorted by digit, a gallery should not be.
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_digits(*, dtype=np.float64, flatten: bool = True, path=None) -> Digits:
    """5,000 real MNIST handwritten digits, split 4,000 for training and 1,000 for test.

    The images ship inside nnlib (``nnlib/data/digits.npz``, 500 of each digit; source
    and licence in ``nnlib/data/README.md``), so nothing is downloaded. The file's
    sha256 is checked first; a corrupted copy raises ``ValueError``. Pixels are scaled
    from 0..255 to [0, 1]. The split is stratified (400 training and 100 test images
    of each digit) and fixed: every call, on every machine, returns the same arrays
    in the same order.

    Shapes: X_train (4000, 784), y_train (4000,), X_test (1000, 784), y_test (1000,);
    with ``flatten=False``, X_train (4000, 28, 28) and X_test (1000, 28, 28).
    Row ``X[i]`` reshaped to (28, 28) is the image, first pixel row first.

    Chapter: Softmax and cross-entropy.

    Parameters
    ----------
    dtype : numpy float dtype
        ``np.float64`` (default) or ``np.float32`` (for speed) for X.
    flatten : bool
        True (default): each image is a row of 784 pixels; False: a 28×28 array.
    path : str or os.PathLike, optional
        The ``.npz`` file to read; default, the one shipped with nnlib. Whatever the
        path, its sha256 must be :data:`DIGITS_SHA256`.

    Returns
    -------
    Digits
        Named tuple ``(X_train, y_train, X_test, y_test)``; y is int64 in 0..9.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}") from error
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype}")
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be True or False, got {type(flatten).__name__}")
    path = _DIGITS_PATH if path is None else Path(path)

    content = path.read_bytes()  # hash and parse the same bytes
    digest = hashlib.sha256(content).hexdigest()
    if digest != DIGITS_SHA256:
        raise ValueError(
            f"{path}: sha256 checksum mismatch (expected {DIGITS_SHA256}, got {digest}); "
            f"the digits file is corrupted or is not nnlib's digits.npz: reinstall nnlib"
        )
    with np.load(io.BytesIO(content), allow_pickle=False) as archive:
        images = archive["images"]  # (5000, 28, 28) uint8
        labels = archive["labels"]  # (5000,) uint8

    train, test = _stratified_split(labels)
    if flatten:
        images = images.reshape(len(images), 28 * 28)  # (5000, 784)
    scale = dtype.type(255)
    return Digits(
        X_train=images[train].astype(dtype) / scale,  # (4000, 784) in [0, 1]
        y_train=labels[train].astype(np.int64),  # (4000,)
        X_test=images[test].astype(dtype) / scale,  # (1000, 784) in [0, 1]
        y_test=labels[test].astype(np.int64),  # (1000,)
    )
