"""Huff market-share kernels: choice probabilities, expected demand, multinomial log-likelihood.

Origin ``i`` (a residential zone) chooses store ``j`` with probability

    P_ij = U_ij / Σ_k U_ik,   U_ij = exp(α·ln A_j − β·ln c_ij) = A_j^α · c_ij^(−β)

(power distance decay, Huff 1963), or ``U_ij = A_j^α · exp(−β·c_ij)`` (exponential decay) when
``exponential=True``. ``ln A_j`` is the log attractiveness, ``c_ij`` the travel cost (> 0;
``inf`` = unreachable, ``U = 0``). An origin that reaches no store gets a row of zeros.

A row is evaluated on one of three paths, all scaled so that nothing overflows:

- β a multiple of ½ up to 8 (power decay; the default β = 2): ``U_ij = w_j/c_ij^β`` with
  ``w_j = exp(α ln A_j − max_k α ln A_k) ≤ 1`` and ``c^β`` from products and a ``sqrt``;
- any other β, and the exponential decay: ``U_ij = 2^x_ij``, ``x_ij = (α ln A_j −
  max_k α ln A_k)·log2 e − β·log2 c_ij`` (or ``− β·log2(e)·c_ij``), with the vectorisable
  ``log2``/``exp2`` of :mod:`twin.kernels.vecmath` (this llvmlite has no SVML, so ``math.log``
  and ``math.exp`` would cost a scalar libm call per pair) while every ``|x| ≤ 500``;
- otherwise (extreme costs or attractiveness ranges, non-positive or subnormal costs) a
  log-sum-exp: the row maximum of the log-utility is subtracted before ``exp``.

The paths agree with the numpy reference to a few ulps: relative differences stay below
``2^-52·(8 + 4·M)`` with ``M = max|α ln A| + |β|·max|ln c|`` (or ``max c``), the magnitude of
the log-utilities both sides round (asserted in ``tests/kernels/test_huff.py``; measured
3.5e-15 for travel times of 0.5–60 min and β = 1.632).

For fitting, the log-utility is written with several store variables and one cost term,

    V_ij = Σ_h θ_h·X_jh + θ_H·D_ij,

(``X`` = logs of the attractiveness variables, ``D = ln c`` or ``c``, ``θ_H = −β``) and
:func:`huff_loglik` returns the multinomial log-likelihood of observed flows ``F_ij``,
``Σ_ij F_ij ln P_ij``, its gradient and the Fisher information.

Probabilities and demand run origins in parallel. Each kernel has a pure-numpy reference
(``*_ref``) used as its test oracle.

References
----------
Huff, D. L. (1963). A probabilistic analysis of shopping center trade areas. *Land Economics*
39(1), 81–90.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from twin.kernels.vecmath import (
    BLOCK,
    EXP_BIAS_F,
    LOG2E,
    SHIFTER,
    TINY,
    TINY32,
    combine_pass,
    exp2_shift,
    ln_reduced,
    split_pass,
    split_pass32,
)

_XMAX = 500.0  # |log2 U| bound of the vectorised path: 2^x and 2^x/Σ stay normal
_ROWS = 64  # origins per parallel chunk of huff_probabilities_into


@njit(cache=True, error_model="numpy")
def _store_terms(log_attr: np.ndarray, alpha: float) -> np.ndarray:
    """``α·ln A_j`` with ``A^0 = 1`` even for ``A = 0``."""
    n = log_attr.shape[0]
    a = np.empty(n)
    for j in range(n):
        a[j] = 0.0 if alpha == 0.0 else alpha * log_attr[j]
    return a


@njit(cache=True, error_model="numpy")
def _row_lse(
    a: np.ndarray, c_row: np.ndarray, beta: float, exponential: bool, out: np.ndarray
) -> bool:
    """Probabilities of one origin by log-sum-exp; False when it reaches no store.

    The scalar path (one libm ``log`` and ``exp`` per store), for rows that the vectorised
    path :func:`_row_vec` does not take: non-positive, subnormal or huge costs, or a
    log-utility range beyond ±500·ln 2.
    """
    n = a.shape[0]
    m = -np.inf
    for j in range(n):
        c = np.float64(c_row[j])
        if c < np.inf:
            if exponential:
                u = a[j] - beta * c
            else:
                u = a[j] - beta * math.log(c)
        else:
            u = -np.inf
        out[j] = u
        if u > m:
            m = u
    if m == -np.inf:
        for j in range(n):
            out[j] = 0.0
        return False
    s = 0.0
    for j in range(n):
        e = math.exp(out[j] - m)
        out[j] = e
        s += e
    inv = 1.0 / s
    for j in range(n):
        out[j] *= inv
    return True


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _sum(x: np.ndarray, n: int) -> float:
    """``Σ x[:n]`` in vector lanes (``reassoc`` lets LLVM split the sum)."""
    s = 0.0
    for j in range(n):
        s += x[j]
    return s


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _row_vec(
    a2: np.ndarray,
    c_row: np.ndarray,
    beta: float,
    exponential: bool,
    out: np.ndarray,
    buf: np.ndarray,
    tbuf: np.ndarray,
) -> float:
    """Scaled utilities ``2^x_ij`` of one origin into ``out``; returns their sum.

    ``x_ij = a2_j − β·log2 c_ij`` (power) or ``a2_j − β·log2(e)·c_ij`` (exponential), with
    ``a2_j = (a_j − max a)·log2(e)``, by the vectorisable ``log2``/``exp2`` of
    :mod:`twin.kernels.vecmath` in blocks (``buf``, ``tbuf``: scratch of ``BLOCK`` floats).
    An unreachable store (``c = inf`` or NaN) or one of attractiveness 0 (``a2 = −inf``) gets
    exactly 0. Returns −1 when some ``x`` falls outside ``[−500, 500]`` or is NaN, or a power
    cost is not a positive normal number below 1e308: then ``out`` is meaningless and the
    caller takes the log-sum-exp path. Within that range every ``2^x`` and every ratio
    ``2^x/Σ`` is a normal number, so ``P = 2^x/Σ`` keeps full relative precision.
    """
    n = a2.shape[0]
    bits = buf.view(np.int64)
    tbits = tbuf.view(np.int64)
    obits = out.view(np.int64)
    bl = beta * LOG2E
    f32 = c_row.itemsize == 4
    cbits = c_row.view(np.int32)
    m32 = buf.view(np.float32)
    mbits32 = buf.view(np.int32)
    k32 = tbuf.view(np.int32)
    ngood = 0
    for j0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - j0)
        cb = c_row[j0 : j0 + nb]  # block views: indices from 0 are provably ≥ 0, so LLVM
        ab = a2[j0 : j0 + nb]  # vectorises (``j0 + q`` would keep negative-index wrapping)
        xb = out[j0 : j0 + nb]  # x first, then 2^x
        # x_j, −inf for U = 0 (unreachable, A = 0), NaN for a cost the power law cannot take
        if exponential:
            for q in range(nb):
                c = np.float64(cb[q])
                x = ab[q] - bl * c
                xb[q] = x if c < np.inf else -np.inf
        elif f32:  # float32 costs: split the float32 bits directly, 8 lanes per vector
            split_pass32(cbits[j0 : j0 + nb], mbits32, k32, nb)
            for q in range(nb):
                c = np.float64(cb[q])
                lg = np.float64(k32[q]) + ln_reduced(np.float64(m32[q])) * LOG2E
                x = ab[q] - beta * lg
                x = x if c >= TINY32 else np.nan
                xb[q] = x if c < np.inf else -np.inf
        else:
            for q in range(nb):
                buf[q] = cb[q]
            split_pass(bits, tbits, nb)
            for q in range(nb):
                c = np.float64(cb[q])
                x = ab[q] - beta * ((tbuf[q] - EXP_BIAS_F) + ln_reduced(buf[q]) * LOG2E)
                x = x if (c >= TINY) & (c < 1e308) else np.nan  # where split_pass is exact
                xb[q] = x if c < np.inf else -np.inf
        # 2^x in two halves (float, then integer); count the x the fast exp2 takes (bitwise
        # & | keep the loop branch-free, so it vectorises)
        for q in range(nb):
            x = xb[q]
            live = x > -np.inf
            ngood += ((x >= -_XMAX) & (x <= _XMAX)) | (x == -np.inf)
            p, t = exp2_shift(x if live else 0.0)
            buf[q] = p if live else 0.0
            tbuf[q] = t if live else SHIFTER
        combine_pass(bits, tbits, obits[j0 : j0 + nb], nb)
    if ngood < n:
        return -1.0
    return _sum(out, n)


@njit(cache=True, error_model="numpy")
def _row_int(w: np.ndarray, c_row: np.ndarray, k2: int, out: np.ndarray) -> float:
    """Scaled utilities ``w_j·c_ij^(−k2/2)`` of one origin into ``out``; returns their sum.

    ``w_j = exp(a_j − max a) ≤ 1``; ``c^β`` from products and one ``sqrt``, no ``log``/``exp``.
    """
    n = w.shape[0]
    if k2 == 4:  # β = 2, the default
        for j in range(n):
            c = np.float64(c_row[j])
            out[j] = w[j] / (c * c)
    elif k2 == 2:  # β = 1
        for j in range(n):
            out[j] = w[j] / np.float64(c_row[j])
    else:
        half = k2 % 2 == 1
        ik = k2 // 2
        for j in range(n):
            c = np.float64(c_row[j])
            r = math.sqrt(c) if half else 1.0
            for _ in range(ik):
                r *= c
            out[j] = w[j] / r if c < np.inf else 0.0
    return _sum(out, n)


@njit(cache=True, error_model="numpy")
def _row(
    a: np.ndarray,
    w: np.ndarray,
    a2: np.ndarray,
    c_row: np.ndarray,
    beta: float,
    k2: int,
    exponential: bool,
    out: np.ndarray,
    buf: np.ndarray,
    tbuf: np.ndarray,
) -> float:
    """Utilities of one origin into ``out``, to be divided by the returned sum.

    ``P_ij = out_j / s``; ``s = 0`` when the origin reaches no store (``out`` is then 0).
    Power decay with β a multiple of ½ up to 8 (``k2 = 2β`` ≥ 0) takes :func:`_row_int`;
    other β and the exponential decay take :func:`_row_vec`. A row that either path cannot
    represent as normal numbers (extreme costs or attractiveness) is recomputed by log-sum-exp
    (:func:`_row_lse`, already normalised: ``s = 1``).
    """
    if exponential or k2 < 0:
        s = _row_vec(a2, c_row, beta, exponential, out, buf, tbuf)
        if s >= 0.0:
            return s
    else:
        s = _row_int(w, c_row, k2, out)
        if s > 1e-280 and s < 1e280:
            return s
    return 1.0 if _row_lse(a, c_row, beta, exponential, out) else 0.0


@njit(cache=True, error_model="numpy")
def _int_beta(beta: float) -> int:
    """``2β`` when β is a multiple of ½ in [0, 8], else -1."""
    b2 = 2.0 * beta
    if beta >= 0.0 and beta <= 8.0 and b2 == math.floor(b2):
        return int(b2)
    return -1


@njit(cache=True, error_model="numpy")
def _scaled_weights(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``w_j = exp(a_j − max a)`` and ``a2_j = (a_j − max a)·log2 e`` (0 and −inf without stores).

    An ``a_j`` of +inf or NaN makes ``a2_j`` NaN, and every row then takes log-sum-exp.
    """
    m = -np.inf
    for j in range(a.shape[0]):
        if a[j] > m:
            m = a[j]
    w = np.zeros(a.shape[0])
    a2 = np.full(a.shape[0], -np.inf)
    if m > -np.inf:
        for j in range(a.shape[0]):
            w[j] = math.exp(a[j] - m)
            a2[j] = (a[j] - m) * LOG2E
    return w, a2


@njit(cache=True, parallel=True, error_model="numpy")
def huff_probabilities_into(
    log_attr: np.ndarray,
    cost: np.ndarray,
    alpha: float,
    beta: float,
    exponential: bool,
    out: np.ndarray,
) -> np.ndarray:
    """:func:`huff_probabilities` written into ``out`` (float64, shape of ``cost``); returns it.

    Callable from other numba code.
    """
    n_o, n_s = cost.shape
    a = _store_terms(log_attr, alpha)
    w, a2 = _scaled_weights(a)
    ib = _int_beta(beta)
    n_chunks = (n_o + _ROWS - 1) // _ROWS
    for k in prange(n_chunks):
        buf = np.empty(BLOCK)
        tbuf = np.empty(BLOCK)
        for i in range(k * _ROWS, min((k + 1) * _ROWS, n_o)):
            row = out[i]
            s = _row(a, w, a2, cost[i], beta, ib, exponential, row, buf, tbuf)
            if s > 0.0 and s != 1.0:
                inv = 1.0 / s
                for j in range(n_s):
                    row[j] *= inv
    return out


def huff_probabilities(
    log_attr: np.ndarray, cost: np.ndarray, alpha: float, beta: float, exponential: bool = False
) -> np.ndarray:
    """Huff choice probabilities of every origin for every store.

    Parameters
    ----------
    log_attr : ndarray of float64, shape (n_s,)
        Log attractiveness ``ln A_j`` (``-inf`` for a store of attractiveness 0).
    cost : ndarray of float32 or float64, shape (n_o, n_s)
        Travel cost ``c_ij`` [any unit] (> 0; ``inf`` = unreachable).
    alpha : float
        Attractiveness exponent α [-].
    beta : float
        Distance-decay parameter β [-] (power) or [1/cost unit] (exponential).
    exponential : bool, default False
        Use ``exp(−β·c)`` instead of ``c^(−β)``.

    Returns
    -------
    ndarray of float64, shape (n_o, n_s)
        ``P_ij``; rows sum to 1, or are 0 for an origin that reaches no store.

    Notes
    -----
    A thin Python wrapper: the output is allocated by numpy (which asks the kernel for huge
    pages on large arrays — a third of the run time on 100,000 × 2,000 with 4 KiB pages) and
    filled by the numba kernel :func:`huff_probabilities_into`.
    """
    out = np.empty(cost.shape, dtype=np.float64)
    return huff_probabilities_into(
        log_attr, cost, float(alpha), float(beta), bool(exponential), out
    )


@njit(cache=True, parallel=True, error_model="numpy")
def huff_demand(
    log_attr: np.ndarray,
    cost: np.ndarray,
    alpha: float,
    beta: float,
    weights: np.ndarray,
    exponential: bool = False,
) -> np.ndarray:
    """Expected demand of each store, ``D_j = Σ_i w_i·P_ij``, without storing ``P``.

    Parameters
    ----------
    log_attr, cost, alpha, beta, exponential
        As in :func:`huff_probabilities`.
    weights : ndarray of float64, shape (n_o,)
        Demand of each origin ``w_i`` [customers, €, trips…].

    Returns
    -------
    ndarray of float64, shape (n_s,)
        Expected demand [unit of ``weights``]; demand of origins that reach no store is lost.
    """
    n_o, n_s = cost.shape
    a = _store_terms(log_attr, alpha)
    w, a2 = _scaled_weights(a)
    ib = _int_beta(beta)
    n_chunks = min(64, max(n_o, 1))
    size = (n_o + n_chunks - 1) // n_chunks
    part = np.zeros((n_chunks, n_s))
    for k in prange(n_chunks):
        row = np.empty(n_s)
        buf = np.empty(BLOCK)
        tbuf = np.empty(BLOCK)
        acc = part[k]
        for i in range(k * size, min((k + 1) * size, n_o)):
            wi = weights[i]
            if wi == 0.0:
                continue
            s = _row(a, w, a2, cost[i], beta, ib, exponential, row, buf, tbuf)
            if s > 0.0:
                f = wi / s
                for j in range(n_s):
                    acc[j] += f * row[j]
    out = np.zeros(n_s)
    for k in range(n_chunks):
        for j in range(n_s):
            out[j] += part[k, j]
    return out


@njit(cache=True, error_model="numpy")
def huff_loglik(
    x: np.ndarray, d: np.ndarray, theta: np.ndarray, flows: np.ndarray, want_info: bool = False
) -> tuple[float, np.ndarray, np.ndarray]:
    """Multinomial log-likelihood of observed flows under ``V_ij = X_j·θ[:H] + θ[H]·D_ij``.

    Serial: fitting problems are small (zones × stores) and evaluated many times.

    Parameters
    ----------
    x : ndarray of float64, shape (n_s, H)
        Store variables (logs of the attractiveness variables).
    d : ndarray of float64, shape (n_o, n_s)
        Cost term (``ln c`` for power decay, ``c`` for exponential; ``inf`` = unreachable).
    theta : ndarray of float64, shape (H + 1,)
        Coefficients; the last one multiplies ``d`` (it is ``−β``).
    flows : ndarray of float64, shape (n_o, n_s)
        Observed flows ``F_ij ≥ 0`` [trips, customers, or shares × origin weight].
    want_info : bool, default False
        Also compute the Fisher information (expected negative Hessian).

    Returns
    -------
    ll : float
        ``Σ_ij F_ij·ln P_ij`` (``-inf`` when a positive flow goes to an unreachable store).
    grad : ndarray of float64, shape (H + 1,)
        Gradient of ``ll`` with respect to ``θ``.
    info : ndarray of float64, shape (H + 1, H + 1)
        ``Σ_i F_i·Cov_{P_i}(z_ij)`` with ``z_ij = (X_j, D_ij)`` (zeros unless ``want_info``).
    """
    n_o, n_s = d.shape
    h = x.shape[1]
    k = h + 1
    ll = 0.0
    grad = np.zeros(k)
    info = np.zeros((k, k))
    v = np.empty(n_s)
    p = np.empty(n_s)
    zbar = np.empty(k)
    z = np.empty(k)
    for i in range(n_o):
        fi = 0.0
        for j in range(n_s):
            fi += flows[i, j]
        if fi == 0.0:
            continue
        m = -np.inf
        for j in range(n_s):
            dj = d[i, j]
            if dj < np.inf:
                u = theta[h] * dj
                for q in range(h):
                    u += theta[q] * x[j, q]
            else:
                u = -np.inf
            v[j] = u
            if u > m:
                m = u
        if m == -np.inf:
            return -np.inf, grad, info
        s = 0.0
        for j in range(n_s):
            s += math.exp(v[j] - m)
        lse = m + math.log(s)
        for q in range(k):
            zbar[q] = 0.0
        for j in range(n_s):
            p[j] = math.exp(v[j] - lse)
            f = flows[i, j]
            if f > 0.0:
                if v[j] == -np.inf:
                    return -np.inf, grad, info
                ll += f * (v[j] - lse)
            if p[j] > 0.0:
                for q in range(h):
                    zbar[q] += p[j] * x[j, q]
                zbar[h] += p[j] * d[i, j]
        # ∂ll/∂θ = Σ_j F_ij·z_ij − F_i·Σ_j P_ij·z_ij
        for j in range(n_s):
            f = flows[i, j]
            if f > 0.0:
                for q in range(h):
                    grad[q] += f * x[j, q]
                grad[h] += f * d[i, j]
        for q in range(k):
            grad[q] -= fi * zbar[q]
        if want_info:
            for j in range(n_s):
                if p[j] == 0.0:
                    continue
                for q in range(h):
                    z[q] = x[j, q] - zbar[q]
                z[h] = d[i, j] - zbar[h]
                for q in range(k):
                    for r in range(k):
                        info[q, r] += fi * p[j] * z[q] * z[r]
    return ll, grad, info


# ---------------------------------------------------------------- numpy references (oracles)


def huff_probabilities_ref(
    log_attr: np.ndarray, cost: np.ndarray, alpha: float, beta: float, exponential: bool = False
) -> np.ndarray:
    """Pure-numpy :func:`huff_probabilities` (the test oracle)."""
    c = np.asarray(cost, dtype=np.float64)
    a = np.zeros(len(log_attr)) if alpha == 0.0 else alpha * np.asarray(log_attr, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        dterm = c if exponential else np.log(c)
        u = np.where(np.isfinite(c), a[None, :] - beta * dterm, -np.inf)
        m = u.max(axis=1, keepdims=True)
        e = np.exp(u - np.where(np.isfinite(m), m, 0.0))
        s = e.sum(axis=1, keepdims=True)
        p = np.where(s > 0, e / np.where(s > 0, s, 1.0), 0.0)
    return p


def huff_demand_ref(
    log_attr: np.ndarray,
    cost: np.ndarray,
    alpha: float,
    beta: float,
    weights: np.ndarray,
    exponential: bool = False,
) -> np.ndarray:
    """Pure-numpy :func:`huff_demand` (the test oracle)."""
    p = huff_probabilities_ref(log_attr, cost, alpha, beta, exponential)
    return np.asarray(weights, np.float64) @ p


def huff_loglik_ref(
    x: np.ndarray, d: np.ndarray, theta: np.ndarray, flows: np.ndarray, want_info: bool = False
) -> tuple[float, np.ndarray, np.ndarray]:
    """Pure-numpy :func:`huff_loglik` (the test oracle)."""
    n_o, n_s = d.shape
    h = x.shape[1]
    reach = np.isfinite(d)
    z = np.concatenate([np.broadcast_to(x[None], (n_o, n_s, h)), d[..., None]], axis=2)
    z = np.where(reach[..., None], z, 0.0)
    with np.errstate(invalid="ignore"):
        v = np.where(reach, z @ theta, -np.inf)
    m = v.max(axis=1, keepdims=True)
    ok = np.isfinite(m[:, 0]) & (flows.sum(axis=1) > 0)
    m = np.where(np.isfinite(m), m, 0.0)
    lse = m + np.log(np.exp(v - m).sum(axis=1, keepdims=True))
    logp = v - lse
    p = np.exp(logp)
    f = np.where(ok[:, None], flows, 0.0)
    with np.errstate(invalid="ignore"):
        ll = float(np.where(f > 0, f * logp, 0.0).sum())
    fi = f.sum(axis=1)
    grad = np.einsum("ij,ijk->k", f - fi[:, None] * p, z)
    info = np.zeros((h + 1, h + 1))
    if want_info:
        zbar = np.einsum("ij,ijk->ik", p, z)
        zc = z - zbar[:, None, :]
        info = np.einsum("i,ij,ijk,ijl->kl", fi, p, zc, zc)
    return ll, grad, info
