"""Universal Thermal Climate Index (UTCI) by the operational polynomial approximation.

The UTCI [°C] is the air temperature of a reference environment that causes the same
physiological strain, in the UTCI-Fiala model of an average person, as the actual
environment. Operationally it is computed as

    UTCI = ta + P(ta, va, Δ, pa),   Δ = tmrt − ta,

where ``P`` is the 6th-order polynomial (210 terms, all monomials ta^i va^j Δ^k pa^l with
i + j + k + l ≤ 6) fitted by Bröde et al. (2012), as in the reference program of utci.org
(``UTCI_a002.f90``, version a 0.002, October 2009). Variables and units:

- ``ta``  air temperature [°C],
- ``va``  wind speed at 10 m [m/s], clipped to the fitted range 0.5..17 m/s,
- ``Δ``   mean radiant temperature minus air temperature [K],
- ``pa``  water vapour pressure [kPa] = rh/100 · es(ta), with es the saturation vapour
  pressure over water of Hardy (1998, ITS-90).

Validity range (Bröde et al., 2012): −50 ≤ ta ≤ 50 °C, −30 ≤ Δ ≤ 70 K, 0.5 ≤ va ≤ 17 m/s.
Points with ``ta`` or ``Δ`` outside it (or NaN inputs) give NaN. Wind outside 0.5..17 m/s is
clipped, not rejected. Relative humidity is not range-checked: the caller must pass
0..100 %. Note that the regression was fitted for pa ≤ 5 kPa; hotter, very humid air
(e.g. ta > 33 °C at 100 %) is an extrapolation, returned as computed (``pythermalcomfort``
returns NaN there).

Evaluation. The coefficients are stored in the published order, i.e. lexicographic in the
exponents (l, k, j, i) of (pa, Δ, va, ta), so that reading them backwards is a nested Horner
scheme: ta innermost, then va, Δ and pa (210 + 84 + 28 + 7 multiply-adds). The numba kernel
runs this scheme on blocks of 256 points at once: each row (one (l, k, j), a polynomial in ta
of known degree) is one SIMD pass over the block with its Horner chain unrolled in registers,
so that the latency of the chain is hidden across points. Blocks run in parallel. Fused
multiply-adds are allowed (``fastmath={"contract"}`` only); the result agrees with the
oracle to ~1e-10 °C.
``utci_numpy`` is the pure-numpy test oracle: it sums the 210 monomials term by term from
tables of powers, an independent evaluation order.

References
----------
Bröde P, Fiala D, Błażejczyk K, Holmér I, Jendritzky G, Kampmann B, Tinz B, Havenith G
(2012) Deriving the operational procedure for the Universal Thermal Climate Index (UTCI).
Int J Biometeorol 56:481–494. https://doi.org/10.1007/s00484-011-0454-1

Hardy R (1998) ITS-90 formulations for vapor pressure, frostpoint temperature, dewpoint
temperature, and enhancement factors in the range −100 to +100 °C. Proc. 3rd International
Symposium on Humidity & Moisture, NPL, London, 214–221.

UTCI reference program (Fortran, version a 0.002, 2009), https://utci.org/resources.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

#: Validity range of the approximation: air temperature [°C].
TA_RANGE = (-50.0, 50.0)
#: Validity range: mean radiant minus air temperature [K].
DTMRT_RANGE = (-30.0, 70.0)
#: Wind speed at 10 m [m/s]; inputs are clipped to this range.
VA_RANGE = (0.5, 17.0)

#: Hardy (1998) ITS-90 saturation vapour pressure over water: ln(es [Pa]) =
#: sum_{i=0..6} g_i T^(i-2) + g_7 ln T, with T [K].
HARDY_G = np.array(
    [
        -2.8365744e3,
        -6.028076559e3,
        1.954263612e1,
        -2.737830188e-2,
        1.6261698e-5,
        7.0229056e-10,
        -1.8680009e-13,
        2.7150305,
    ]
)

_DEGREE = 6

# Bröde et al. (2012) coefficients of P = UTCI − ta, in the published order. Each row holds
# the coefficients of ta^0, ta^1, … for one (pa^l, Δ^k, va^j); rows run over j, then k,
# then l, all ascending.
# fmt: off
UTCI_COEFFICIENTS = np.array([
    # l = 0, k = 0 (va^0 … va^6)
    6.07562052e-01, -2.27712343e-02, 8.06470249e-04, -1.54271372e-04, -3.24651735e-06,
    7.32602852e-08, 1.35959073e-09,
    -2.25836520e+00, 8.80326035e-02, 2.16844454e-03, -1.53347087e-05, -5.72983704e-07,
    -2.55090145e-09,
    -7.51269505e-01, -4.08350271e-03, -5.21670675e-05, 1.94544667e-06, 1.14099531e-08,
    1.58137256e-01, -6.57263143e-05, 2.22697524e-07, -4.16117031e-08,
    -1.27762753e-02, 9.66891875e-06, 2.52785852e-09,
    4.56306672e-04, -1.74202546e-07,
    -5.91491269e-06,
    # l = 0, k = 1
    3.98374029e-01, 1.83945314e-04, -1.73754510e-04, -7.60781159e-07, 3.77830287e-08,
    5.43079673e-10,
    -2.00518269e-02, 8.92859837e-04, 3.45433048e-06, -3.77925774e-07, -1.69699377e-09,
    1.69992415e-04, -4.99204314e-05, 2.47417178e-07, 1.07596466e-08,
    8.49242932e-05, 1.35191328e-06, -6.21531254e-09,
    -4.99410301e-06, -1.89489258e-08,
    8.15300114e-08,
    # l = 0, k = 2
    7.55043090e-04, -5.65095215e-05, -4.52166564e-07, 2.46688878e-08, 2.42674348e-10,
    1.54547250e-04, 5.24110970e-06, -8.75874982e-08, -1.50743064e-09,
    -1.56236307e-05, -1.33895614e-07, 2.49709824e-09,
    6.51711721e-07, 1.94960053e-09,
    -1.00361113e-08,
    # l = 0, k = 3
    -1.21206673e-05, -2.18203660e-07, 7.51269482e-09, 9.79063848e-11,
    1.25006734e-06, -1.81584736e-09, -3.52197671e-10,
    -3.36514630e-08, 1.35908359e-10,
    4.17032620e-10,
    # l = 0, k = 4
    -1.30369025e-09, 4.13908461e-10, 9.22652254e-12,
    -5.08220384e-09, -2.24730961e-11,
    1.17139133e-10,
    # l = 0, k = 5
    6.62154879e-10, 4.03863260e-13,
    1.95087203e-12,
    # l = 0, k = 6
    -4.73602469e-12,
    # l = 1, k = 0
    5.12733497e+00, -3.12788561e-01, -1.96701861e-02, 9.99690870e-04, 9.51738512e-06,
    -4.66426341e-07,
    5.48050612e-01, -3.30552823e-03, -1.64119440e-03, -5.16670694e-06, 9.52692432e-07,
    -4.29223622e-02, 5.00845667e-03, 1.00601257e-06, -1.81748644e-06,
    -1.25813502e-03, -1.79330391e-04, 2.34994441e-06,
    1.29735808e-04, 1.29064870e-06,
    -2.28558686e-06,
    # l = 1, k = 1
    -3.69476348e-02, 1.62325322e-03, -3.14279680e-05, 2.59835559e-06, -4.77136523e-08,
    8.64203390e-03, -6.87405181e-04, -9.13863872e-06, 5.15916806e-07,
    -3.59217476e-05, 3.28696511e-05, -7.10542454e-07,
    -1.24382300e-05, -7.38584400e-09,
    2.20609296e-07,
    # l = 1, k = 2
    -7.32469180e-04, -1.87381964e-05, 4.80925239e-06, -8.75492040e-08,
    2.77862930e-05, -5.06004592e-06, 1.14325367e-07,
    2.53016723e-06, -1.72857035e-08,
    -3.95079398e-08,
    # l = 1, k = 3
    -3.59413173e-07, 7.04388046e-07, -1.89309167e-08,
    -4.79768731e-07, 7.96079978e-09,
    1.62897058e-09,
    # l = 1, k = 4
    3.94367674e-08, -1.18566247e-09,
    3.34678041e-10,
    # l = 1, k = 5
    -1.15606447e-10,
    # l = 2, k = 0
    -2.80626406e+00, 5.48712484e-01, -3.99428410e-03, -9.54009191e-04, 1.93090978e-05,
    -3.08806365e-01, 1.16952364e-02, 4.95271903e-04, -1.90710882e-05,
    2.10787756e-03, -6.98445738e-04, 2.30109073e-05,
    4.17856590e-04, -1.27043871e-05,
    -3.04620472e-06,
    # l = 2, k = 1
    5.14507424e-02, -4.32510997e-03, 8.99281156e-05, -7.14663943e-07,
    -2.66016305e-04, 2.63789586e-04, -7.01199003e-06,
    -1.06823306e-04, 3.61341136e-06,
    2.29748967e-07,
    # l = 2, k = 2
    3.04788893e-04, -6.42070836e-05, 1.16257971e-06,
    7.68023384e-06, -5.47446896e-07,
    -3.59937910e-08,
    # l = 2, k = 3
    -4.36497725e-06, 1.68737969e-07,
    2.67489271e-08,
    # l = 2, k = 4
    3.23926897e-09,
    # l = 3, k = 0
    -3.53874123e-02, -2.21201190e-01, 1.55126038e-02, -2.63917279e-04,
    4.53433455e-02, -4.32943862e-03, 1.45389826e-04,
    2.17508610e-04, -6.66724702e-05,
    3.33217140e-05,
    # l = 3, k = 1
    -2.26921615e-03, 3.80261982e-04, -5.45314314e-09,
    -7.96355448e-04, 2.53458034e-05,
    -6.31223658e-06,
    # l = 3, k = 2
    3.02122035e-04, -4.77403547e-06,
    1.73825715e-06,
    # l = 3, k = 3
    -4.09087898e-07,
    # l = 4, k = 0
    6.14155345e-01, -6.16755931e-02, 1.33374846e-03,
    3.55375387e-03, -5.13027851e-04,
    1.02449757e-04,
    # l = 4, k = 1
    -1.48526421e-03, -4.11469183e-05,
    -6.80434415e-06,
    # l = 4, k = 2
    -9.77675906e-06,
    # l = 5, k = 0
    8.82773108e-02, -3.01859306e-03,
    1.04452989e-03,
    # l = 5, k = 1
    2.47090539e-04,
    # l = 6, k = 0
    1.48348065e-03,
])
# fmt: on


def monomial_exponents(degree: int = _DEGREE) -> np.ndarray:
    """Exponents ``(i, j, k, l)`` of ``ta, va, Δ, pa`` for each coefficient, published order.

    Returns
    -------
    ndarray of int64, shape (n_terms, 4)
        ``n_terms = C(degree + 4, 4)`` (210 for degree 6).
    """
    rows = [
        (i, j, k, l)
        for l in range(degree + 1)  # noqa: E741
        for k in range(degree + 1 - l)
        for j in range(degree + 1 - l - k)
        for i in range(degree + 1 - l - k - j)
    ]
    return np.array(rows, dtype=np.int64)


UTCI_EXPONENTS = monomial_exponents()
assert UTCI_EXPONENTS.shape[0] == UTCI_COEFFICIENTS.shape[0] == 210

_BLOCK = 256  # points per SIMD block (scratch 7 × 2 KiB, fits in L1)
_CHUNK = 16 * _BLOCK  # points per parallel task


# --------------------------------------------------------------------------- numba


@njit(cache=True)
def _es_hpa(ta: float) -> float:
    """Saturation vapour pressure over water [hPa] at ``ta`` [°C] (Hardy, 1998)."""
    g = HARDY_G
    tk = ta + 273.15
    poly = g[6]
    for m in range(5, -1, -1):
        poly = poly * tk + g[m]
    return math.exp(poly / (tk * tk) + g[7] * math.log(tk)) * 0.01


@njit(cache=True, parallel=True)
def saturation_vapour_pressure_hpa(ta: np.ndarray) -> np.ndarray:
    """Saturation vapour pressure over water, Hardy (1998) ITS-90 formula.

    Parameters
    ----------
    ta : ndarray of float64, shape (n,)
        Air temperature [°C].

    Returns
    -------
    ndarray of float64, shape (n,)
        Saturation vapour pressure [hPa].
    """
    out = np.empty(ta.shape[0])
    for p in prange(ta.shape[0]):
        out[p] = _es_hpa(ta[p])
    return out


@njit(cache=True, fastmath={"contract"})
def _row(c: np.ndarray, p: int, deg: int, t: np.ndarray, v: np.ndarray, acc: np.ndarray) -> None:
    """``acc ← acc · v + Σ_{i ≤ deg} c[p + i] · t^i`` over a block (Horner in ``t``).

    One branch per degree, so that the Horner chain is unrolled and stays in registers while
    the loop over the block is vectorised.
    """
    m = acc.shape[0]
    if deg == 0:
        c0 = c[p]
        for b in range(m):
            acc[b] = acc[b] * v[b] + c0
        return
    c0, c1 = c[p], c[p + 1]
    if deg == 1:
        for b in range(m):
            acc[b] = acc[b] * v[b] + (c1 * t[b] + c0)
        return
    c2 = c[p + 2]
    if deg == 2:
        for b in range(m):
            x = t[b]
            acc[b] = acc[b] * v[b] + ((c2 * x + c1) * x + c0)
        return
    c3 = c[p + 3]
    if deg == 3:
        for b in range(m):
            x = t[b]
            acc[b] = acc[b] * v[b] + (((c3 * x + c2) * x + c1) * x + c0)
        return
    c4 = c[p + 4]
    if deg == 4:
        for b in range(m):
            x = t[b]
            acc[b] = acc[b] * v[b] + ((((c4 * x + c3) * x + c2) * x + c1) * x + c0)
        return
    c5 = c[p + 5]
    if deg == 5:
        for b in range(m):
            x = t[b]
            acc[b] = acc[b] * v[b] + (((((c5 * x + c4) * x + c3) * x + c2) * x + c1) * x + c0)
        return
    c6 = c[p + 6]
    for b in range(m):
        x = t[b]
        h = (((((c6 * x + c5) * x + c4) * x + c3) * x + c2) * x + c1) * x + c0
        acc[b] = acc[b] * v[b] + h


@njit(cache=True, fastmath={"contract"})
def _axpy(acc: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """``acc ← acc · x + y`` over a block."""
    for b in range(acc.shape[0]):
        acc[b] = acc[b] * x[b] + y[b]


@njit(cache=True)
def _utci_block(
    ta: np.ndarray,
    tmrt: np.ndarray,
    va10: np.ndarray,
    rh: np.ndarray,
    out: np.ndarray,
    start: int,
    stop: int,
    x: np.ndarray,
) -> None:
    """UTCI of points ``start:stop`` (at most ``_BLOCK``) into ``out``; ``x`` is scratch."""
    c = UTCI_COEFFICIENTS
    m = stop - start
    t = x[0, :m]
    v = x[1, :m]
    d = x[2, :m]
    pa = x[3, :m]
    acc_j = x[4, :m]
    acc_k = x[5, :m]
    acc_l = x[6, :m]
    for b in range(m):
        tb = ta[start + b]
        vb = va10[start + b]
        if vb < VA_RANGE[0]:
            vb = VA_RANGE[0]
        elif vb > VA_RANGE[1]:
            vb = VA_RANGE[1]
        t[b] = tb
        v[b] = vb
        d[b] = tmrt[start + b] - tb
        pa[b] = _es_hpa(tb) * rh[start + b] * 0.001  # hPa · % → kPa
        acc_l[b] = 0.0
    # walk the coefficient rows backwards: Horner in pa, Δ, va (ta inside _row)
    end = c.shape[0]
    for l in range(_DEGREE, -1, -1):  # noqa: E741
        acc_k[:] = 0.0
        for k in range(_DEGREE - l, -1, -1):
            acc_j[:] = 0.0
            for j in range(_DEGREE - l - k, -1, -1):
                deg = _DEGREE - l - k - j
                end -= deg + 1
                _row(c, end, deg, t, v, acc_j)
            _axpy(acc_k, d, acc_j)
        _axpy(acc_l, pa, acc_k)
    for b in range(m):
        tb = t[b]
        db = d[b]
        ok = TA_RANGE[0] <= tb <= TA_RANGE[1] and DTMRT_RANGE[0] <= db <= DTMRT_RANGE[1]
        out[start + b] = tb + acc_l[b] if ok else np.nan


@njit(cache=True, parallel=True)
def utci(ta: np.ndarray, tmrt: np.ndarray, va10: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Universal Thermal Climate Index (Bröde et al., 2012 operational polynomial).

    Parameters
    ----------
    ta : ndarray of float64, shape (n,)
        Air temperature [°C], valid −50..50.
    tmrt : ndarray of float64, shape (n,)
        Mean radiant temperature [°C], valid ``ta − 30 .. ta + 70``.
    va10 : ndarray of float64, shape (n,)
        Wind speed 10 m above ground [m/s]; clipped to 0.5..17.
    rh : ndarray of float64, shape (n,)
        Relative humidity [%], 0..100 (not checked).

    Returns
    -------
    ndarray of float64, shape (n,)
        UTCI [°C]; NaN where ``ta`` or ``tmrt − ta`` is outside the validity range or an
        input is NaN.
    """
    n = ta.shape[0]
    if tmrt.shape[0] != n or va10.shape[0] != n or rh.shape[0] != n:
        raise ValueError("utci: ta, tmrt, va10 and rh must have the same length")
    out = np.empty(n)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for ch in prange(n_chunks):
        x = np.empty((7, _BLOCK))
        lo = ch * _CHUNK
        hi = min(lo + _CHUNK, n)
        for start in range(lo, hi, _BLOCK):
            _utci_block(ta, tmrt, va10, rh, out, start, min(start + _BLOCK, hi), x)
    return out


# --------------------------------------------------------------------------- numpy


def saturation_vapour_pressure_hpa_numpy(ta: np.ndarray) -> np.ndarray:
    """Pure-numpy reference of :func:`saturation_vapour_pressure_hpa` [hPa] (``ta`` [°C])."""
    tk = np.asarray(ta, dtype=np.float64) + 273.15
    ln_es = HARDY_G[7] * np.log(tk)
    for m in range(7):
        ln_es = ln_es + HARDY_G[m] * tk ** float(m - 2)
    return np.exp(ln_es) * 0.01


def utci_numpy(ta: np.ndarray, tmrt: np.ndarray, va10: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Pure-numpy reference of :func:`utci` (term-by-term sum of the 210 monomials).

    Parameters and return value as :func:`utci` (UTCI [°C], NaN outside the validity range).
    """
    ta = np.asarray(ta, dtype=np.float64)
    tmrt = np.asarray(tmrt, dtype=np.float64)
    va = np.clip(np.asarray(va10, dtype=np.float64), *VA_RANGE)
    rh = np.asarray(rh, dtype=np.float64)
    d = tmrt - ta
    pa = saturation_vapour_pressure_hpa_numpy(ta) * rh / 1000.0  # [kPa]
    powers = np.arange(_DEGREE + 1, dtype=np.float64)[:, None]
    tables = [x[None, :] ** powers for x in (ta, va, d, pa)]  # each (7, n)
    p = np.zeros_like(ta)
    for coef, (i, j, k, l) in zip(UTCI_COEFFICIENTS, UTCI_EXPONENTS, strict=True):  # noqa: E741
        p += coef * tables[0][i] * tables[1][j] * tables[2][k] * tables[3][l]
    ok = (ta >= TA_RANGE[0]) & (ta <= TA_RANGE[1]) & (d >= DTMRT_RANGE[0]) & (d <= DTMRT_RANGE[1])
    return np.where(ok, ta + p, np.nan)
