"""Time one training step of the 784-128-10 ReLU network (softmax cross-entropy, SGD).

Columns, per dtype and batch size. Each implementation is timed as the median of
``--repeat`` steps after a warm-up; the four implementations are timed in turn, and
that is done ``--rounds`` times: the table shows the median over the rounds, so that
a burst of load on a shared machine hits all columns alike and is voted out. The
ratios are paired: nnlib's time divided by the other column's time *of the same
round*, then the median (and the quartiles, for the bound) over the rounds. Every
round builds each implementation anew, with newly allocated arrays: where an array
lands in memory has been seen to change a product's time by 10 % and more on a
shared machine, and one allocation kept for all rounds would carry its luck into
the whole column.

* ``nnlib``: ``zero_grad``, ``forward``, loss, ``backward``, ``step`` through nnlib's API,
  as :func:`nnlib.fit` runs them for each batch (the backward skips dL/dX, which
  training never uses, as PyTorch does for an input that does not require a
  gradient; ``fit`` also gathers each batch ``X[idx]`` and adds up the losses, which
  is left out here, as it is for the other columns);
* ``numpy``: the same step hand-fused in plain numpy below (no checks, no modules);
* ``torch``: PyTorch on the CPU with the same number of threads as numpy's BLAS,
  if ``torch`` is installed (it is not a requirement: ``pip install torch==2.13.0``, or
  the CPU build from PyTorch's own wheel index, adds the column);
* ``bound``: the six matrix products alone (two forward, four backward, including
  dL/dX of the first layer), as the design's speed target defines it. Since nnlib,
  numpy and PyTorch compute only five of them, a ratio to the bound below 1 is
  possible.

The thread count is numpy's: OpenBLAS reads ``OPENBLAS_NUM_THREADS`` (else
``OMP_NUM_THREADS``, else it uses every core) when numpy is imported, and PyTorch is
given the same number. Set the variable to change both, e.g.
``OPENBLAS_NUM_THREADS=1 python benchmarks/train_step.py``.

The nnlib column gets a read-only batch, as :func:`nnlib.fit` gives its model; with
``--writeable-x`` it gets a writeable one, of which the first ``Linear`` keeps a
fingerprint (two matrix-vector products a step) to catch in-place edits.

Usage: ``python benchmarks/train_step.py [--repeat N] [--rounds R]
[--batch M ...] [--dtype float32|float64 ...] [--writeable-x]``
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _common import digits_network, machine_header, median_time

import nnlib

N_IN, N_HIDDEN, N_OUT = 784, 128, 10
LR = 0.1


def make_data(m: int, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((m, N_IN)).astype(dtype)  # (m, 784), pixels in [0, 1)
    y = rng.integers(0, N_OUT, m)  # (m,) labels
    return X, y


def nnlib_setup(m: int, dtype, *, read_only: bool = True):
    """The nnlib network, loss, optimiser and one batch: ``(model, loss, opt, X, y)``.

    The batch is read-only, as the batches :func:`nnlib.fit` gathers are: the first
    ``Linear`` then keeps it without the fingerprint it takes of a caller's writeable
    ``X`` to catch in-place edits (two matrix-vector products per step).
    """
    model = digits_network(dtype, seed=1)
    loss = nnlib.SoftmaxCrossEntropyLoss()
    opt = nnlib.SGD(model.parameters(), lr=LR)
    X, y = make_data(m, dtype)
    X.flags.writeable = not read_only
    return model, loss, opt, X, y


def nnlib_step(m: int, dtype, *, read_only: bool = True):
    model, loss, opt, X, y = nnlib_setup(m, dtype, read_only=read_only)

    def step():
        opt.zero_grad()
        loss.forward(model.forward(X), y)
        model.backward(loss.backward(), input_grad=False)  # as nnlib.fit does
        opt.step()

    return step


def numpy_step(m: int, dtype):
    """The whole step written out by hand: the reference nnlib should be close to."""
    rng = np.random.default_rng(1)
    W1 = (rng.standard_normal((N_IN, N_HIDDEN)) * np.sqrt(2 / N_IN)).astype(dtype)
    b1 = np.zeros(N_HIDDEN, dtype)
    W2 = (rng.standard_normal((N_HIDDEN, N_OUT)) * np.sqrt(2 / N_HIDDEN)).astype(dtype)
    b2 = np.zeros(N_OUT, dtype)
    X, y = make_data(m, dtype)
    rows = np.arange(m)

    def step():
        nonlocal W1, b1, W2, b2  # updated in place below
        Z1 = X @ W1  # (m, 128)
        Z1 += b1
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ W2  # (m, 10)
        Z2 += b2
        P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[rows, y] -= 1
        P /= m  # dZ2
        dW2 = A1.T @ P  # (128, 10)
        db2 = P.sum(axis=0)
        dA1 = P @ W2.T  # (m, 128)
        dA1 *= A1 > 0  # dZ1
        dW1 = X.T @ dA1  # (784, 128)
        db1 = dA1.sum(axis=0)
        W1 -= LR * dW1
        b1 -= LR * db1
        W2 -= LR * dW2
        b2 -= LR * db2

    return step


def bound_step(m: int, dtype):
    """Only the six matrix products of the step (the same shapes as above)."""
    rng = np.random.default_rng(2)
    X, _ = make_data(m, dtype)
    W1 = rng.standard_normal((N_IN, N_HIDDEN)).astype(dtype)
    W2 = rng.standard_normal((N_HIDDEN, N_OUT)).astype(dtype)
    A1 = rng.standard_normal((m, N_HIDDEN)).astype(dtype)
    dZ2 = rng.standard_normal((m, N_OUT)).astype(dtype)
    dZ1 = rng.standard_normal((m, N_HIDDEN)).astype(dtype)

    def step():
        X @ W1  # forward, layer 1
        A1 @ W2  # forward, layer 2
        A1.T @ dZ2  # dW2
        dZ2 @ W2.T  # dA1
        X.T @ dZ1  # dW1
        dZ1 @ W1.T  # dX

    return step


def torch_step(m: int, dtype, threads: int):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(N_IN, N_HIDDEN), torch.nn.ReLU(), torch.nn.Linear(N_HIDDEN, N_OUT)
    ).to(tdtype)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y = make_data(m, dtype)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss_fn(model(Xt), yt).backward()
        opt.step()

    return step


def threads_in_use() -> int:
    """The BLAS threads numpy runs with, read as OpenBLAS reads them at import."""
    for var in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var):
            return int(os.environ[var])
    return os.cpu_count() or 1


def paired(times: dict[str, list[float]], num: str, den: str) -> np.ndarray:
    """One ratio per round: ``num``'s time over ``den``'s time measured in that round."""
    return np.array(times[num]) / np.array(times[den])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed steps per cell")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per cell")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128, 512], help="batch sizes")
    parser.add_argument(
        "--dtype", nargs="+", choices=("float32", "float64"), default=["float32", "float64"]
    )
    parser.add_argument(
        "--writeable-x", action="store_true",
        help="give nnlib a writeable X (a caller's own array) instead of fit's read-only batch",
    )
    args = parser.parse_args()
    threads = threads_in_use()

    print(machine_header())
    print(f"{threads} BLAS thread(s) (OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else cores)")
    try:
        import torch

        print(f"torch {torch.__version__}, {threads} thread(s)")
        has_torch = True
    except ImportError:
        print("torch not installed: the torch column is skipped (pip install torch==2.13.0)")
        has_torch = False
    print()
    print(
        f"time per training step, milliseconds: median of {args.repeat} steps after a "
        f"warm-up, then median over {args.rounds} interleaved rounds"
    )
    print(
        "ratios: one per round (both times from the same round), median over the rounds; "
        "[quartiles] for nnlib/bound"
    )
    header = (
        f"{'dtype':8} {'batch':>5} {'nnlib':>7} {'numpy':>7} {'torch':>7} {'bound':>7} "
        f"{'nnlib/torch':>11} {'numpy/bound':>11} {'nnlib/bound':>18}"
    )
    print(header)
    print("-" * len(header))
    for dtype in (np.dtype(name).type for name in args.dtype):
        for m in args.batch:
            builders = {
                "nnlib": lambda m, dtype: nnlib_step(m, dtype, read_only=not args.writeable_x),
                "numpy": numpy_step,
                "bound": bound_step,
            }
            if has_torch:
                builders["torch"] = lambda m, dtype: torch_step(m, dtype, threads)
            times = {name: [] for name in builders}
            for _ in range(args.rounds):
                for name, build in builders.items():
                    step = build(m, dtype)  # new arrays every round: see the docstring
                    times[name].append(median_time(step, repeat=args.repeat, warmup=10))
            t = {name: float(np.median(v)) * 1e3 for name, v in times.items()}
            t.setdefault("torch", float("nan"))
            vs_torch = (
                float(np.median(paired(times, "nnlib", "torch"))) if has_torch else float("nan")
            )
            numpy_vs_bound = float(np.median(paired(times, "numpy", "bound")))
            low, mid, high = np.percentile(paired(times, "nnlib", "bound"), [25, 50, 75])
            print(
                f"{np.dtype(dtype).name:8} {m:5d} {t['nnlib']:7.3f} {t['numpy']:7.3f} "
                f"{t['torch']:7.3f} {t['bound']:7.3f} {vs_torch:11.2f} {numpy_vs_bound:11.2f} "
                f"{f'{mid:.2f} [{low:.2f}-{high:.2f}]':>18}"
            )


if __name__ == "__main__":
    main()
