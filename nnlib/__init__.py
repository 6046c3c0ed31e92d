"""nnlib: the small numpy library of *Backpropagation, checked*.

Rows are samples everywhere: ``X`` has shape ``(m, n_in)`` and a dense layer computes
``Z = X @ W + b``. ``dX`` is ∂L/∂X with the shape of ``X``. Each module's docstring
gives its formula, its shapes and the chapter that derives it.

``import nnlib`` needs only numpy; the sympy helpers live in :mod:`nnlib.symbolic`
and are imported only when asked for.

Bad input gets a ``ValueError`` or ``TypeError`` whose message names the argument
(``RuntimeError`` for a call out of order, e.g. ``backward`` before ``forward``). The
policy for the rest:

* **nan and inf** are refused (``ValueError``) where data enter: :func:`fit`,
  ``Sequential.predict``, every loss, the activation functions, the gradient checks,
  :func:`load`. A module's ``forward``/``backward`` runs at every step and does not look
  for them: they propagate, the loss refuses them, and :func:`fit` reports a divergence
  with its epoch and batch.
* **Empty batches**: a forward pass of 0 rows gives 0 rows; a mean over 0 rows (a
  loss, :func:`accuracy`, :func:`fit`) is refused.
* **In-place edits**: ``Linear`` keeps a reference to its input ``X`` (not a copy) and
  its ``backward`` raises if ``X`` was edited since ``forward``; an activation's
  ``forward`` returns the array it keeps read-only; a loss's ``backward`` uses only
  arrays of its own. :func:`save` is atomic.
"""

from .activations import ReLU, Sigmoid, Softmax, Tanh, log_softmax, relu, sigmoid, softmax
from .datasets import (
    Digits,
    load_digits,
    make_circles,
    make_moons,
    make_regression_curve,
    make_xor,
    regression_curve,
)
from .gradcheck import gradcheck, gradient_errors, numerical_gradient, relative_error
from .io import load, save
from .layers import Linear, Module
from .losses import BCELoss, BCEWithLogitsLoss, Loss, MSELoss, SoftmaxCrossEntropyLoss
from .model import Sequential
from .optim import SGD
from .train import accuracy, fit

__version__ = "0.1.0"

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "Digits",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "ReLU",
    "SGD",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropyLoss",
    "Tanh",
    "accuracy",
    "fit",
    "gradcheck",
    "gradient_errors",
    "load",
    "load_digits",
    "log_softmax",
    "make_circles",
    "make_moons",
    "make_regression_curve",
    "make_xor",
    "numerical_gradient",
    "regression_curve",
    "relative_error",
    "relu",
    "save",
    "sigmoid",
    "softmax",
]
