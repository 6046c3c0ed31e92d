"""nnlib: the small numpy library of *Backpropagation, checked*.

Rows are samples everywhere: ``X`` has shape ``(m, n_in)`` and a dense layer computes
``Z = X @ W + b``. ``dX`` is ∂L/∂X with the shape of ``X``. Each module's docstring
gives its formula, its shapes and the chapter that derives it.

``import nnlib`` needs only numpy; the sympy helpers live in :mod:`nnlib.symbolic`
and are imported only when asked for.
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
