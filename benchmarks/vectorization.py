"""One example at a time versus the whole batch in matrix form.

The same 784-128-10 ReLU network and the same 512 digits; the per-example loop runs
forward and backward on (1, 784) slices and lets nnlib *accumulate* the parameter
gradients (each backward adds into dW), then divides by m; the batch version does one
forward and one backward on (512, 784). The two gradients are asserted equal before
anything is timed.

Usage: ``python benchmarks/vectorization.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import functools

import numpy as np
from _common import digits_network, machine_header, median_time

import nnlib

M = 512


def build(dtype):
    model = digits_network(dtype, seed=0)
    digits = nnlib.load_digits(dtype=dtype)
    return model, digits.X_train[:M], digits.y_train[:M]


def batch_gradients(model, loss, X, y):
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())


def loop_gradients(model, loss, X, y):
    model.zero_grad()
    for i in range(X.shape[0]):
        loss.forward(model.forward(X[i : i + 1]), y[i : i + 1])  # (1, 784) -> (1, 10)
        model.backward(loss.backward())  # adds this example's gradient
    for _, grad in model.parameters():
        grad /= X.shape[0]  # sum of per-example gradients -> mean gradient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    print(machine_header())
    print(f"\ngradient of the mean loss over {M} digits, 784-128-10 ReLU network")
    print(f"{'dtype':8} {'loop (ms)':>10} {'batch (ms)':>11} {'speed-up':>9}")
    for dtype in (np.float32, np.float64):
        model, X, y = build(dtype)
        loss = nnlib.SoftmaxCrossEntropyLoss()
        loop_gradients(model, loss, X, y)
        looped = [g.copy() for _, g in model.parameters()]
        batch_gradients(model, loss, X, y)
        tol = 1e-4 if dtype == np.float32 else 1e-10
        for (_, g), g_loop in zip(model.parameters(), looped, strict=True):
            np.testing.assert_allclose(g_loop, g, rtol=tol, atol=tol)
        loop = functools.partial(loop_gradients, model, loss, X, y)
        batch = functools.partial(batch_gradients, model, loss, X, y)
        t_loop = median_time(loop, repeat=args.repeat)
        t_batch = median_time(batch, repeat=args.repeat)
        print(
            f"{np.dtype(dtype).name:8} {t_loop * 1e3:10.2f} {t_batch * 1e3:11.3f} "
            f"{t_loop / t_batch:8.0f}x"
        )


if __name__ == "__main__":
    main()
