"""Benchmark: the UTCI kernel against pythermalcomfort and the numpy reference.

4 million random points across the validity range (air temperature −50…50 °C, mean radiant
temperature −30…+70 K from it, wind 0.5–17 m/s, humidity 0–100 %). Prints evaluations per
second of ``twin.kernels.utci.utci`` (numba, 1 and all threads), of the pure-numpy reference
and of ``pythermalcomfort.models.utci`` (the peer; ``limit_inputs=False``, no rounding, so it
computes the same polynomial), each measured in this run, and the ratios.

Run with ``python benchmarks/bench_utci.py [--points N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import numpy as np


def _best(f: Callable[[], object], repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=4_000_000)
    ap.add_argument("--sample", type=int, default=200_000, help="points for the slow peers")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    import numba
    from pythermalcomfort.models import utci as peer

    from twin.kernels.utci import utci, utci_numpy

    print(
        f"machine: {platform.machine()} cpus={os.cpu_count()} numba={numba.__version__} "
        f"threads={numba.get_num_threads()} python={platform.python_version()}"
    )
    rng = np.random.default_rng(0)
    n, k = a.points, a.sample
    ta = rng.uniform(-50, 50, n)
    tmrt = ta + rng.uniform(-30, 70, n)
    va = rng.uniform(0.5, 17, n)
    rh = rng.uniform(0, 100, n)
    utci(ta[:8], tmrt[:8], va[:8], rh[:8])  # compile / load the cache

    rates = {}
    threads = numba.get_num_threads()
    for nt in sorted({1, threads}):
        numba.set_num_threads(nt)
        t = _best(lambda: utci(ta, tmrt, va, rh), a.repeat)
        rates[f"twin numba, {nt} thread(s)"] = n / t
    numba.set_num_threads(threads)
    t = _best(lambda: utci_numpy(ta[:k], tmrt[:k], va[:k], rh[:k]), 3)
    rates["numpy reference"] = k / t
    t = _best(
        lambda: peer(ta[:k], tmrt[:k], va[:k], rh[:k], limit_inputs=False, round_output=False), 3
    )
    rates["pythermalcomfort"] = k / t

    ours = rates[f"twin numba, {threads} thread(s)"]
    for name, r in rates.items():
        print(f"{name:32s} {r / 1e6:8.2f} M evaluations/s   twin is ×{ours / r:6.1f}")
    theirs = peer(ta[:k], tmrt[:k], va[:k], rh[:k], limit_inputs=False, round_output=False)
    theirs = np.asarray(getattr(theirs, "utci", theirs), float)  # a result object in v3+
    diff = np.nanmax(np.abs(utci(ta[:k], tmrt[:k], va[:k], rh[:k]) - theirs))
    print(f"max |twin − pythermalcomfort| on {k:,} points: {diff:.1e} °C")


if __name__ == "__main__":
    main()
