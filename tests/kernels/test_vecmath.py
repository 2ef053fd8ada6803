"""Vectorisable log2/exp2: accuracy against numpy, special values, the float32 split."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.vecmath import BLOCK, exp2, log2, split_pass, split_pass32

EPS = 2.0**-52  # ulp of 1


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got − want| in units of the spacing of ``want``."""
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_log2_accuracy() -> None:
    rng = np.random.default_rng(11)
    near1 = rng.uniform(0.5, 2.0, 300_000)
    wide = np.exp(rng.uniform(-700.0, 700.0, 300_000))
    times = rng.uniform(0.1, 90.0, 300_000).astype(np.float32)  # travel times [min]
    for x in (near1, wide, times.astype(np.float64)):
        got, want = log2(x), np.log2(x)
        # numpy's log2 is itself within ½ ulp: 2 ulp of the result, or 2^-52 absolute near 1
        assert (np.abs(got - want) <= np.maximum(2.0 * np.spacing(np.abs(want)), EPS)).all()
    # the absolute error is what matters for c^−β = 2^(−β·log2 c): ≤ 2^-52 on [0.5, 2]
    assert np.abs(log2(near1) - np.log2(near1)).max() <= EPS
    # float32 input gives the same values as its float64 conversion
    np.testing.assert_array_equal(log2(times), log2(times.astype(np.float64)))


def test_log2_exact_on_powers_of_two_and_special_values() -> None:
    k = np.arange(-1022, 1024, dtype=np.float64)
    np.testing.assert_array_equal(log2(2.0**k), k)
    x = np.array([0.0, -1.0, np.inf, np.nan, 5e-324, 1e-310, 1.7e308, -np.inf])
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log2(x)
    np.testing.assert_array_equal(log2(x), want)  # NaN == NaN for assert_array_equal


def test_exp2_accuracy() -> None:
    rng = np.random.default_rng(12)
    for x in (
        rng.uniform(-0.5, 0.5, 300_000),
        rng.uniform(-40.0, 10.0, 300_000),
        rng.uniform(-1000.0, 1000.0, 300_000),
    ):
        got, want = exp2(x), np.exp2(x)
        # polynomial 3e-18 relative, the rest 1 rounding; numpy's exp2 ½ ulp
        assert (np.abs(got - want) / want).max() <= 1.5 * EPS
    np.testing.assert_array_equal(exp2(np.arange(-1000.0, 1001.0)), 2.0 ** np.arange(-1000, 1001))


def test_exp2_outside_the_fast_range_falls_back() -> None:
    x = np.array([-np.inf, np.inf, np.nan, -1074.0, -1075.5, -1030.3, 1023.9, 1024.0, 1000.5])
    with np.errstate(over="ignore"):
        want = np.exp2(x)
    np.testing.assert_array_equal(exp2(x), want)


@pytest.mark.parametrize("n", [1, BLOCK - 1, BLOCK, 3 * BLOCK + 17])
def test_split_reconstructs_the_input(n: int) -> None:
    rng = np.random.default_rng(n)
    x = np.exp(rng.uniform(-80.0, 80.0, n)).astype(np.float32)
    # float64 split: x = 2^k·m exactly, m ∈ [√½, √2)
    bits = x.astype(np.float64).view(np.int64).copy()
    kbits = np.empty(n, np.int64)
    split_pass(bits, kbits, n)
    m = bits.view(np.float64)
    k = kbits.view(np.float64) - (2.0**52 + 1023.0)
    assert ((m >= np.sqrt(0.5)) & (m < np.sqrt(2.0))).all()
    np.testing.assert_array_equal(np.ldexp(m, k.astype(np.int64)), x.astype(np.float64))
    # float32 split in 32-bit lanes: m ∈ [f32(√½) = 0.70710677, √2), x = 2^k·m exactly
    mb32 = np.empty(n, np.int32)
    k32 = np.empty(n, np.int32)
    split_pass32(x.view(np.int32), mb32, k32, n)
    m32 = mb32.view(np.float32).astype(np.float64)
    assert ((m32 >= np.float32(np.sqrt(0.5))) & (m32 < np.sqrt(2.0))).all()
    np.testing.assert_array_equal(np.ldexp(m32, k32), x.astype(np.float64))
    same = m32 >= np.sqrt(0.5)  # all but the one float32 mantissa just below √½
    np.testing.assert_array_equal(k32[same], k[same])
