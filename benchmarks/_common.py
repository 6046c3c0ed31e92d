"""Shared helpers of the benchmark scripts: timing and a description of the machine."""

from __future__ import annotations

import os
import platform
import time

import numpy as np

import nnlib


def blas_name() -> str:
    """The BLAS library numpy is linked against, as numpy reports it."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # numpy too old for mode="dicts": say so rather than guess
        return "unknown"


def machine_header() -> str:
    """One line naming the cores, Python, numpy and its BLAS, for every table."""
    return (
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, numpy {np.__version__} with {blas_name()}"
    )


def median_time(fn, *, repeat: int, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in seconds, over ``repeat`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def digits_network(dtype, *, seed: int) -> nnlib.Sequential:
    """The benchmarks' network: 784-128-10 with a ReLU, He-initialised from ``seed``."""
    rng = np.random.default_rng(seed)
    return nnlib.Sequential(
        nnlib.Linear(784, 128, rng=rng, dtype=dtype),
        nnlib.ReLU(),
        nnlib.Linear(128, 10, rng=rng, dtype=dtype),
    )
