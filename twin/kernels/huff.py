"""Huff market-share kernels: choice probabilities, expected demand, multinomial log-likelihood.

Origin ``i`` (a residential zone) chooses store ``j`` with probability

    P_ij = U_ij / Σ_k U_ik,   U_ij = exp(α·ln A_j − β·ln c_ij) = A_j^α · c_ij^(−β)

(power distance decay, Huff 1963), or ``U_ij = A_j^α · exp(−β·c_ij)`` (exponential decay) when
``exponential=True``. ``ln A_j`` is the log attractiveness, ``c_ij`` the travel cost (> 0;
``inf`` = unreachable, ``U = 0``). Each row is evaluated as a log-sum-exp: the row maximum of
the log-utility is subtracted before ``exp``, so no attractiveness or cost range overflows. An
origin that reaches no store gets a row of zeros.

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
    """Probabilities of one origin by log-sum-exp; False when it reaches no store."""
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


@njit(cache=True, error_model="numpy")
def _row(
    a: np.ndarray,
    w: np.ndarray,
    c_row: np.ndarray,
    beta: float,
    k2: int,
    exponential: bool,
    out: np.ndarray,
) -> bool:
    """Probabilities of one origin; False when it reaches no store.

    Power decay with β a multiple of ½ up to 8 (``k2 = 2β`` ≥ 0) takes a fast path without
    ``log``/``exp``: ``U_ij = w_j·c_ij^(−β)`` with ``w_j = exp(a_j − max a) ≤ 1`` and
    ``c^β`` from products and one ``sqrt``. When the row sum is not a safe normal number
    (extreme costs or attractiveness), the row is recomputed by log-sum-exp.
    """
    if exponential or k2 < 0:
        return _row_lse(a, c_row, beta, exponential, out)
    n = a.shape[0]
    s = 0.0
    if k2 == 4:  # β = 2, the default
        for j in range(n):
            c = np.float64(c_row[j])
            u = w[j] / (c * c)
            out[j] = u
            s += u
    elif k2 == 2:  # β = 1
        for j in range(n):
            u = w[j] / np.float64(c_row[j])
            out[j] = u
            s += u
    else:
        half = k2 % 2 == 1
        ik = k2 // 2
        for j in range(n):
            c = np.float64(c_row[j])
            r = math.sqrt(c) if half else 1.0
            for _ in range(ik):
                r *= c
            u = w[j] / r if c < np.inf else 0.0
            out[j] = u
            s += u
    if s > 1e-280 and s < 1e280:
        inv = 1.0 / s
        for j in range(n):
            out[j] *= inv
        return True
    return _row_lse(a, c_row, beta, exponential, out)


@njit(cache=True, error_model="numpy")
def _int_beta(beta: float) -> int:
    """``2β`` when β is a multiple of ½ in [0, 8], else -1."""
    b2 = 2.0 * beta
    if beta >= 0.0 and beta <= 8.0 and b2 == math.floor(b2):
        return int(b2)
    return -1


@njit(cache=True, error_model="numpy")
def _scaled_weights(a: np.ndarray) -> np.ndarray:
    """``exp(a_j − max a)`` (all zeros when no store is attractive)."""
    m = -np.inf
    for j in range(a.shape[0]):
        if a[j] > m:
            m = a[j]
    w = np.zeros(a.shape[0])
    if m > -np.inf:
        for j in range(a.shape[0]):
            w[j] = math.exp(a[j] - m)
    return w


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
    n_o = cost.shape[0]
    a = _store_terms(log_attr, alpha)
    w = _scaled_weights(a)
    ib = _int_beta(beta)
    for i in prange(n_o):
        _row(a, w, cost[i], beta, ib, exponential, out[i])
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
    w = _scaled_weights(a)
    ib = _int_beta(beta)
    n_chunks = min(64, max(n_o, 1))
    size = (n_o + n_chunks - 1) // n_chunks
    part = np.zeros((n_chunks, n_s))
    for k in prange(n_chunks):
        row = np.empty(n_s)
        acc = part[k]
        for i in range(k * size, min((k + 1) * size, n_o)):
            wi = weights[i]
            if wi == 0.0:
                continue
            if _row(a, w, cost[i], beta, ib, exponential, row):
                for j in range(n_s):
                    acc[j] += wi * row[j]
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
