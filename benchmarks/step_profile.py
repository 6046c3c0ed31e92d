"""Where the time of one nnlib training step goes: each phase inside the loop and alone.

The training step of ``train_step.py`` (784-128-10 ReLU network, softmax
cross-entropy, SGD, as :func:`nnlib.fit` runs it for each batch) is cut into its ten
phases. Each phase is timed twice:

* **in the loop**: inside a run of whole training steps, so it meets the caches as
  training leaves them (the weights rewritten by the previous SGD update, the
  arrays the phase reads just written by the phase before, some by two BLAS threads);
* **alone**: the same call repeated back to back on unchanged arrays, as the
  ``bound`` column of ``train_step.py`` times the matrix products.

The ratio of the two columns is what a phase pays for meeting its data where
training leaves it, which no count of floating-point operations shows. Both, and
the bound, are measured ``--rounds`` times in turn, each round on newly built
arrays. The times are medians over the rounds; ``loop/alone`` is paired (the two
times of one round divided, then the median over the rounds). The sums add up the
phases' medians: they are not a measured step time (``train_step.py`` measures that).
The thread count is numpy's (set ``OPENBLAS_NUM_THREADS`` to change it).

Usage: ``python benchmarks/step_profile.py [--batch M] [--dtype float32|float64]
[--steps N] [--repeat R] [--rounds K]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import machine_header, median_time
from train_step import bound_step, nnlib_setup, threads_in_use

PHASES = (
    "zero_grad",
    "Linear 1 forward",
    "ReLU forward",
    "Linear 2 forward",
    "loss forward",
    "loss backward",
    "Linear 2 backward",
    "ReLU backward",
    "Linear 1 backward",
    "SGD step",
)


def in_the_loop(m: int, dtype, steps: int) -> dict[str, float]:
    """Median seconds of each phase over ``steps`` whole training steps."""
    model, loss, opt, X, y = nnlib_setup(m, dtype)
    linear1, relu, linear2 = model.modules
    clock = time.perf_counter
    times = {phase: [] for phase in PHASES}
    for step in range(steps + 20):  # the first 20 steps warm up
        t = [clock()]
        opt.zero_grad()
        t.append(clock())
        Z1 = linear1.forward(X)
        t.append(clock())
        A1 = relu.forward(Z1)
        t.append(clock())
        Z2 = linear2.forward(A1)
        t.append(clock())
        loss.forward(Z2, y)
        t.append(clock())
        dZ2 = loss.backward()
        t.append(clock())
        dA1 = linear2.backward(dZ2)
        t.append(clock())
        dZ1 = relu.backward(dA1)
        t.append(clock())
        linear1.backward(dZ1, input_grad=False)  # as Sequential.backward does in fit
        t.append(clock())
        opt.step()
        t.append(clock())
        if step >= 20:
            for i, phase in enumerate(PHASES):
                times[phase].append(t[i + 1] - t[i])
    return {phase: float(np.median(v)) for phase, v in times.items()}


def alone(m: int, dtype, repeat: int) -> dict[str, float]:
    """Median seconds of each phase repeated back to back on unchanged arrays."""
    model, loss, opt, X, y = nnlib_setup(m, dtype)
    linear1, relu, linear2 = model.modules
    Z1 = linear1.forward(X)
    A1 = relu.forward(Z1)
    Z2 = linear2.forward(A1)
    loss.forward(Z2, y)
    dZ2 = loss.backward()
    dA1 = linear2.backward(dZ2)
    dZ1 = relu.backward(dA1)
    calls = (
        opt.zero_grad,
        lambda: linear1.forward(X),
        lambda: relu.forward(Z1),
        lambda: linear2.forward(A1),
        lambda: loss.forward(Z2, y),
        loss.backward,
        lambda: linear2.backward(dZ2),
        lambda: relu.backward(dA1),
        lambda: linear1.backward(dZ1, input_grad=False),
        opt.step,
    )
    return {
        phase: median_time(call, repeat=repeat, warmup=20)
        for phase, call in zip(PHASES, calls, strict=True)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--steps", type=int, default=500, help="timed steps in the loop")
    parser.add_argument("--repeat", type=int, default=300, help="timed calls per phase alone")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    args = parser.parse_args()
    dtype = np.dtype(args.dtype).type

    print(machine_header())
    print(f"{threads_in_use()} BLAS thread(s); batch {args.batch}, {args.dtype}")
    print()
    rounds = {"loop": [], "alone": [], "bound": []}
    for _ in range(args.rounds):
        rounds["loop"].append(in_the_loop(args.batch, dtype, args.steps))
        rounds["alone"].append(alone(args.batch, dtype, args.repeat))
        bound = bound_step(args.batch, dtype)
        rounds["bound"].append(median_time(bound, repeat=args.repeat, warmup=20))
    loop = {p: float(np.median([r[p] for r in rounds["loop"]])) for p in PHASES}
    single = {p: float(np.median([r[p] for r in rounds["alone"]])) for p in PHASES}
    ratio = {
        p: float(
            np.median(
                [lp[p] / al[p] for lp, al in zip(rounds["loop"], rounds["alone"], strict=True)]
            )
        )
        for p in PHASES
    }
    header = f"{'phase':20} {'in the loop':>12} {'alone':>8} {'loop/alone':>10}"
    print(f"microseconds (medians over {args.rounds} interleaved rounds)")
    print(header)
    print("-" * len(header))
    for phase in PHASES:
        print(
            f"{phase:20} {loop[phase] * 1e6:12.1f} {single[phase] * 1e6:8.1f} {ratio[phase]:10.2f}"
        )
    print("-" * len(header))
    total_loop, total_alone = sum(loop.values()), sum(single.values())
    print(f"{'sum of the phases':20} {total_loop * 1e6:12.1f} {total_alone * 1e6:8.1f}")
    print()
    bound = float(np.median(rounds["bound"])) * 1e6
    print(f"the bound, the six matrix products back to back: {bound:.1f} microseconds")


if __name__ == "__main__":
    main()
