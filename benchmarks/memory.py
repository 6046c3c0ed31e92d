"""Peak memory of a digits training step against the kept-arrays formula.

Chapter *ReLU and mean squared error* derives what the forward pass must keep for the
backward pass: each Linear keeps its input and each ReLU its output, and a ReLU's
output *is* the next Linear's input, so for widths n_0, ..., n_L the bytes kept are

    itemsize · m · (n_0 + n_1 + ... + n_{L-1})

(plus what the loss keeps: the logits and their softmax, 2 · m · n_L). This script
trains the 784-128-10 network on the digits for a few steps and reports, per batch
size: the formula, the bytes nnlib actually keeps (unique arrays from
``saved_for_backward()``), the peak of numpy allocations during one step above the
resting state, as measured by ``tracemalloc`` (the new kept arrays plus the
temporaries: pre-activations and gradients), and the bytes of the parameters.

Usage: ``python benchmarks/memory.py``
"""

from __future__ import annotations

import tracemalloc

import numpy as np
from _common import digits_network, machine_header

import nnlib

WIDTHS = (784, 128, 10)


def kept_formula(m: int, itemsize: int) -> int:
    return itemsize * m * (sum(WIDTHS[:-1]) + 2 * WIDTHS[-1])  # + the loss's logits and P


def training_step(model, loss, opt, X, y) -> None:
    opt.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    opt.step()


def main() -> None:
    print(machine_header())
    digits = nnlib.load_digits(dtype=np.float32)
    print("\none training step of the 784-128-10 ReLU network, float32, bytes in KiB")
    print(f"{'batch':>6} {'formula':>9} {'kept':>9} {'step peak':>10} {'parameters':>11}")
    for m in (32, 128, 512, 2048):
        model = digits_network(np.float32, seed=0)
        loss = nnlib.SoftmaxCrossEntropyLoss()
        opt = nnlib.SGD(model.parameters(), lr=0.1)
        X = digits.X_train[:m].copy()
        y = digits.y_train[:m]
        training_step(model, loss, opt, X, y)  # warm-up: after it, every kept array exists
        unique = {id(a): a for a in model.saved_for_backward().values()}
        unique[id(loss.pred)] = loss.pred
        unique[id(loss.P)] = loss.P
        kept = sum(a.nbytes for a in unique.values())
        assert kept == kept_formula(m, 4), (kept, kept_formula(m, 4))
        params = sum(p.nbytes for p, _ in model.parameters())
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        training_step(model, loss, opt, X, y)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        print(
            f"{m:6d} {kept_formula(m, 4) / 1024:9.1f} {kept / 1024:9.1f} "
            f"{peak / 1024:10.1f} {params / 1024:11.1f}"
        )


if __name__ == "__main__":
    main()
