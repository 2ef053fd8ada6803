"""Vectorisable ``log2`` and ``exp2`` in plain arithmetic, for numba builds without SVML.

llvmlite wheels are built without Intel's short-vector math library, so a numba loop that
calls ``math.log`` or ``math.exp`` costs one scalar libm call per element and LLVM cannot
vectorise it. The functions here are written only with ``+ − × ÷``, integer shifts and
selects, so LLVM turns the loops that use them into AVX2/AVX-512 code. The bit tricks work on
blocks: a loop writes floats to a small buffer, the next loop reads the same buffer through an
``int64`` view (``buf.view(np.int64)``) — each loop stays a straight vectorisable pass over
L1-resident memory.

``log2(x)`` for a positive normal ``x``
    ``x = 2^k·m`` with ``m ∈ [√½, √2)`` (the exponent bits, shifted so that the mantissa lands
    in that interval: :func:`split_pass`); ``ln m = 2·atanh(s)``, ``s = (m − 1)/(m + 1)``,
    ``|s| ≤ 3 − 2√2``, written as ``ln m = f − s·(f − z·Q(z))`` with ``f = m − 1`` (exact),
    ``z = s²`` and ``Q`` a degree-6 weighted-minimax polynomial for
    ``(2·atanh(s) − 2s)/(s·z)`` on ``z ∈ [0, (3 − 2√2)²]`` (weight ``z^1.5``, i.e. the absolute
    error of ``ln m``; 2.4e-19 before rounding the coefficients to double). Then
    ``log2 x = k + ln m·log2(e)``.
``exp2(x)`` for ``|x| ≤ 1000``
    ``k = round(x)`` by the ``1.5·2^52`` shifter (round-to-nearest, no float→int conversion),
    ``r = x − k ∈ [−½, ½]`` (exact), ``2^r`` by a degree-11 relative-minimax polynomial
    (relative error 3.1e-18 before rounding), and ``2^k`` added to the exponent bits
    (:func:`combine_pass`).

The coefficients were computed for this module by the Remez exchange algorithm at 60 digits
(mpmath) and rounded to the nearest double. Measured errors (3·10⁵–6·10⁶ random arguments):
``log2`` ≤ 1.6 ulp of the result against 80-bit long double, ≤ 1 ulp against ``np.log2``,
absolute error ≤ 1.2e-16 on ``[0.5, 2]``; ``exp2`` ≤ 0.7 ulp against long double, ≤ 1 ulp
against ``np.exp2`` (``tests/kernels/test_vecmath.py`` asserts 2 ulp and 1.5 ulp against
numpy). No fast-math flag other than ``contract`` (fused multiply-add) is used: the shifter
relies on IEEE round-to-nearest and would be folded away by ``reassoc``.

The array functions :func:`log2` and :func:`exp2` are total (they fall back to libm outside
the fast domain) and serve as tests and examples; kernels use the per-element helpers and the
two passes directly (see ``twin.kernels.huff``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BLOCK = 512
"""Elements per block of the buffered passes (3 × 4 KiB buffers stay in L1)."""

LOG2E = 1.4426950408889634  # log2(e)
SHIFTER = 6755399441055744.0  # 1.5·2^52: x + SHIFTER rounds x to an integer in the low bits
EXP_BIAS_F = 4503599627371519.0  # 2^52 + 1023: float value of the bits 0x433…<biased exp>
EXP_BIAS_BITS = 0x4330000000000000  # bits of 2^52
MANT_SHIFT = 0x3FF0000000000000 - 0x3FE6A09E667F3BCD  # maps m = √½ to exponent 1023
TINY = 2.2250738585072014e-308  # smallest normal double
TINY32 = 1.1754943508222875e-38  # smallest normal float32
MANT_SHIFT32 = np.int32(0x3F800000 - 0x3F3504F3)  # maps the float32 m = √½ to exponent 127
EXP2_MAX = 1000.0  # |x| bound of the fast exp2 (2^x stays normal)

# ln m = f − s·(f − z·Q(z)),  Q(z) ≈ (2·atanh(s) − 2s)/(s·z), z = s², z ≤ (3 − 2√2)².
_Q0 = 0.666666666666681
_Q1 = 0.39999999999014707
_Q2 = 0.2857142881840513
_Q3 = 0.22222191654169537
_Q4 = 0.18183890877053488
_Q5 = 0.1530633973948129
_Q6 = 0.1486799679808483

# 2^r ≈ Σ P_k r^k on r ∈ [−½, ½] (P_0 = 1, P_1 = ln 2).
_P1 = 0.6931471805599453
_P2 = 0.24022650695910155
_P3 = 0.055504108664819925
_P4 = 0.009618129107588335
_P5 = 0.0013333558146789949
_P6 = 0.00015403530462514752
_P7 = 1.5252733489962941e-05
_P8 = 1.321543308953003e-06
_P9 = 1.0178198032461428e-07
_P10 = 7.0741056367583306e-09
_P11 = 4.435281070624733e-10


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def ln_reduced(m: float) -> float:
    """``ln m`` for ``m ∈ [√½, √2)`` (the mantissa left by :func:`split_pass`)."""
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    q = _Q0 + z * (_Q1 + z * (_Q2 + z * (_Q3 + z * (_Q4 + z * (_Q5 + z * _Q6)))))
    return f - s * (f - z * q)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def exp2_reduced(r: float) -> float:
    """``2^r`` for ``r ∈ [−½, ½]``."""
    p = _P10 + r * _P11
    p = _P9 + r * p
    p = _P8 + r * p
    p = _P7 + r * p
    p = _P6 + r * p
    p = _P5 + r * p
    p = _P4 + r * p
    p = _P3 + r * p
    p = _P2 + r * p
    p = _P1 + r * p
    return 1.0 + r * p


@njit(cache=True, error_model="numpy")
def split_pass(bits: np.ndarray, kbits: np.ndarray, n: int) -> None:
    """Split ``n`` positive normal doubles (given as ``int64`` bits) into ``2^k·m``.

    On return ``bits[q]`` holds the bits of ``m ∈ [√½, √2)`` and ``kbits[q]`` those of the
    double ``2^52 + k + 1023``, so ``k = kbits.view(float64)[q] − EXP_BIAS_F`` exactly. Other
    inputs (0, subnormal, negative, inf, NaN, ≥ 1.2e308) give meaningless values: the caller
    screens them.
    """
    for q in range(n):
        b = bits[q]
        kb = (b + MANT_SHIFT) >> 52
        bits[q] = b - ((kb - 1023) << 52)
        kbits[q] = kb + EXP_BIAS_BITS


@njit(cache=True, error_model="numpy")
def split_pass32(bits: np.ndarray, mbits: np.ndarray, k: np.ndarray, n: int) -> None:
    """:func:`split_pass` for float32 inputs, in 32-bit lanes (twice as many per vector).

    ``bits`` (int32 view of positive normal float32 values) is read; ``mbits`` gets the bits of
    the float32 ``m ∈ [0.70710677, √2)`` (the float32 just below √½ included) and ``k`` the
    int32 exponent, ``x = 2^k·m`` exactly.
    """
    for q in range(n):
        b = bits[q]
        kb = (b + MANT_SHIFT32) >> 23
        mbits[q] = b - ((kb - 127) << 23)
        k[q] = kb - 127


@njit(cache=True, error_model="numpy")
def combine_pass(pbits: np.ndarray, tbits: np.ndarray, out_bits: np.ndarray, n: int) -> None:
    """``2^k·p`` for ``n`` elements: ``p`` (bits) times ``2^k``, ``k`` the low bits of ``t``.

    ``t`` is ``r + SHIFTER`` as produced by :func:`exp2_shift`. Exact as long as the result is
    normal (``|k| ≤ 1000`` and ``p ∈ [½, 2]``), or ``p = 0`` with ``k = 0`` (gives 0).
    """
    for q in range(n):
        out_bits[q] = pbits[q] + (tbits[q] << 52)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def exp2_shift(x: float) -> tuple[float, float]:
    """``(2^r, x + SHIFTER)`` with ``r = x − round(x)``: the float half of ``2^x``."""
    t = x + SHIFTER
    r = x - (t - SHIFTER)
    return exp2_reduced(r), t


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def log2(x: np.ndarray) -> np.ndarray:
    """``log2`` of a 1-D float array, vectorised; libm outside the positive normals.

    Parameters
    ----------
    x : ndarray of float32 or float64, shape (n,)
        Values [-].

    Returns
    -------
    ndarray of float64, shape (n,)
        ``log2 x`` (as ``np.log2``: ``-inf`` at 0, NaN below, ``inf`` at ``inf``).
    """
    n = x.shape[0]
    out = np.empty(n)
    buf = np.empty(BLOCK)
    kbuf = np.empty(BLOCK)
    bits = buf.view(np.int64)
    kbits = kbuf.view(np.int64)
    nbad = 0
    for j0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - j0)
        xb = x[j0 : j0 + nb]  # a block view indexed from 0 (``j0 + q`` would not vectorise)
        ob = out[j0 : j0 + nb]
        for q in range(nb):
            buf[q] = xb[q]
        split_pass(bits, kbits, nb)
        for q in range(nb):
            v = np.float64(xb[q])
            ob[q] = (kbuf[q] - EXP_BIAS_F) + ln_reduced(buf[q]) * LOG2E
            nbad += (v < TINY) | (v >= 1e308) | (v != v)  # bitwise: the loop stays branch-free
    if nbad > 0:
        for j in range(n):
            v = np.float64(x[j])
            if not (v >= TINY and v < 1e308):
                out[j] = math.log2(v) if v >= 0.0 else np.nan
    return out


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def exp2(x: np.ndarray) -> np.ndarray:
    """``2^x`` of a 1-D float array, vectorised; libm outside ``|x| ≤ 1000``.

    Parameters
    ----------
    x : ndarray of float32 or float64, shape (n,)
        Exponents [-].

    Returns
    -------
    ndarray of float64, shape (n,)
        ``2^x`` (as ``np.exp2``, including over/underflow, subnormals, ±inf and NaN).
    """
    n = x.shape[0]
    out = np.empty(n)
    buf = np.empty(BLOCK)
    tbuf = np.empty(BLOCK)
    bits = buf.view(np.int64)
    tbits = tbuf.view(np.int64)
    obits = out.view(np.int64)
    nbad = 0
    for j0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - j0)
        xb = x[j0 : j0 + nb]  # a block view indexed from 0 (``j0 + q`` would not vectorise)
        for q in range(nb):
            v = np.float64(xb[q])
            ok = (v >= -EXP2_MAX) & (v <= EXP2_MAX)  # bitwise: the loop stays branch-free
            p, t = exp2_shift(v if ok else 0.0)
            buf[q] = p
            tbuf[q] = t
            nbad += not ok
        combine_pass(bits, tbits, obits[j0 : j0 + nb], nb)
    if nbad > 0:
        for j in range(n):
            v = np.float64(x[j])
            if not (v >= -EXP2_MAX and v <= EXP2_MAX):
                out[j] = 2.0**v
    return out
