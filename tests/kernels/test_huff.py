"""Huff kernels: a hand-computed case, and numba against the pure-numpy oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.kernels.huff import (
    huff_demand,
    huff_demand_ref,
    huff_loglik,
    huff_loglik_ref,
    huff_probabilities,
    huff_probabilities_into,
    huff_probabilities_ref,
)

# 2 origins × 3 stores, attractiveness A = (1, 2, 4).
A = np.array([1.0, 2.0, 4.0])
COST = np.array([[1.0, 2.0, 4.0], [2.0, 1.0, 2.0]])


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def test_hand_computed_power() -> None:
    # α = 1, β = 2: U_ij = A_j / c_ij²
    # origin 1: 1/1 = 1, 2/4 = 0.5, 4/16 = 0.25; Σ = 1.75 → (4/7, 2/7, 1/7)
    # origin 2: 1/4 = 0.25, 2/1 = 2, 4/4 = 1;   Σ = 3.25 → (1/13, 8/13, 4/13)
    want = np.array([[4 / 7, 2 / 7, 1 / 7], [1 / 13, 8 / 13, 4 / 13]])
    p = huff_probabilities(np.log(A), COST, 1.0, 2.0)
    np.testing.assert_allclose(p, want, rtol=0, atol=1e-12)
    # α = 2, β = 1: U_1j = A_j² / c_1j = 1/1, 4/2, 16/4 = 1, 2, 4 → (1/7, 2/7, 4/7)
    p = huff_probabilities(np.log(A), COST, 2.0, 1.0)
    np.testing.assert_allclose(p[0], [1 / 7, 2 / 7, 4 / 7], rtol=0, atol=1e-12)
    # β = 1.5 (half-integer: the sqrt fast path): origin 2, U = 1/2^1.5, 2/1, 4/2^1.5
    u = np.array([1 / 2**1.5, 2.0, 4 / 2**1.5])
    p = huff_probabilities(np.log(A), COST, 1.0, 1.5)
    np.testing.assert_allclose(p[1], u / u.sum(), rtol=0, atol=1e-12)


def test_hand_computed_exponential() -> None:
    # β = ln 2 so exp(−β·c) = 2^(−c)
    # origin 1: 1·½ = 0.5, 2·¼ = 0.5, 4/16 = 0.25; Σ = 1.25 → (0.4, 0.4, 0.2)
    # origin 2: 1·¼ = 0.25, 2·½ = 1, 4·¼ = 1;     Σ = 2.25 → (1/9, 4/9, 4/9)
    want = np.array([[0.4, 0.4, 0.2], [1 / 9, 4 / 9, 4 / 9]])
    p = huff_probabilities(np.log(A), COST, 1.0, math.log(2.0), True)
    np.testing.assert_allclose(p, want, rtol=0, atol=1e-12)


def test_hand_computed_demand() -> None:
    # weights (70, 130): store 1 gets 70·4/7 + 130·1/13 = 40 + 10 = 50, store 2 70·2/7 + 130·8/13
    # = 20 + 80 = 100, store 3 70/7 + 130·4/13 = 10 + 40 = 50
    d = huff_demand(np.log(A), COST, 1.0, 2.0, np.array([70.0, 130.0]))
    np.testing.assert_allclose(d, [50.0, 100.0, 50.0], rtol=1e-13)


def test_unreachable_and_empty_rows() -> None:
    c = np.array([[1.0, np.inf, 2.0], [np.inf, np.inf, np.inf]])
    for beta in (2.0, 1.3):
        p = huff_probabilities(np.log(A), c, 1.0, beta)
        assert p[0, 1] == 0.0
        assert p[0].sum() == pytest.approx(1.0, abs=1e-15)
        assert (p[1] == 0.0).all()
    d = huff_demand(np.log(A), c, 1.0, 2.0, np.array([1.0, 5.0]))
    assert d.sum() == pytest.approx(1.0, abs=1e-14)  # the stranded origin's demand is lost


def test_zero_attractiveness_store_is_never_chosen() -> None:
    la = np.array([-np.inf, np.log(2.0), np.log(4.0)])  # A = (0, 2, 4)
    p = huff_probabilities(la, COST, 1.0, 2.0)
    assert (p[:, 0] == 0.0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-15)
    # α = 0 gives A^0 = 1 for every store, even A = 0
    p0 = huff_probabilities(la, COST, 0.0, 2.0)
    np.testing.assert_allclose(p0[0], np.array([1, 1 / 4, 1 / 16]) / (1 + 1 / 4 + 1 / 16))


def _bound(la: np.ndarray, alpha: float, beta: float, c: np.ndarray, exponential: bool) -> float:
    """Relative tolerance numba vs numpy: ``2^-52·(8 + 4·M)``.

    ``M = max|α·ln A_j| + |β|·max|d_ij|`` (``d = ln c`` or ``c``, finite entries) bounds the
    log-utilities both sides round to double: each rounding of a log-utility ``u`` costs up to
    ``|u|·2^-53`` relative in ``exp(u)`` (the kernel rounds ``x = (u − max α ln A)·log2 e``,
    the oracle ``u`` and ``u − max_j u``), plus a few ulps for log, exp, the sum and the
    division.
    """
    a = alpha * la[np.isfinite(la)]
    cf = np.asarray(c, np.float64)
    cf = cf[np.isfinite(cf)]
    d = cf if exponential else np.log(cf)
    m = (np.abs(a).max() if a.size else 0.0) + abs(beta) * (np.abs(d).max() if d.size else 0.0)
    return 2.0**-52 * (8.0 + 4.0 * m)


CASES = [(2.0, False), (1.7, False), (0.45, False), (3.3, False), (0.08, True), (1.0, True)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("beta", "exponential"), CASES)
def test_numba_matches_numpy_oracle(dtype: type, beta: float, exponential: bool) -> None:
    # 1,100 stores: rows span three blocks of the vectorised path, the last one ragged
    rng = np.random.default_rng(7)
    n_o, n_s = 200, 1100
    la = np.log(rng.uniform(50.0, 5000.0, n_s))
    la[[5, 700]] = -np.inf  # attractiveness 0: never chosen
    c = rng.uniform(0.2, 45.0, (n_o, n_s)).astype(dtype)
    c[rng.random((n_o, n_s)) < 0.05] = np.inf
    c[3] = np.inf
    c[4, 9] = np.nan  # treated as unreachable, as in the oracle
    p = huff_probabilities(la, c, 0.9, beta, exponential)
    ref = huff_probabilities_ref(la, c, 0.9, beta, exponential)
    tol = _bound(la, 0.9, beta, c, exponential)
    assert tol < 1e-13
    assert p.dtype == np.float64
    assert _rel(p[ref > 0], ref[ref > 0]) <= tol
    assert ((p == 0) == (ref == 0)).all()
    assert (p[:, [5, 700]] == 0).all()
    assert (p[3] == 0).all()
    np.testing.assert_allclose(p[p.sum(axis=1) > 0].sum(axis=1), 1.0, rtol=0, atol=1e-14)
    w = rng.uniform(0.0, 300.0, n_o)
    d = huff_demand(la, c, 0.9, beta, w, exponential)
    d_ref = huff_demand_ref(la, c, 0.9, beta, w, exponential)
    assert _rel(d[d_ref > 0], d_ref[d_ref > 0]) <= tol
    assert ((d == 0) == (d_ref == 0)).all()


def test_oracle_agreement_on_benchmark_like_data() -> None:
    # Travel times [0.5, 60] min as float32 and sales areas as in benchmarks/bench_huff.py:
    # the kernel agrees with numpy to a few ulps (measured 3.5e-15 at β = 1.632) — inside
    # the bound of _bound (1.5e-14) and below 2e-14.
    rng = np.random.default_rng(42)
    la = np.log(rng.uniform(50.0, 5000.0, 2000))
    c = rng.random((100, 2000), dtype=np.float32) * np.float32(59.5) + np.float32(0.5)
    for beta, exponential in [(1.632, False), (0.1, True)]:
        p = huff_probabilities(la, c, 1.0, beta, exponential)
        ref = huff_probabilities_ref(la, c, 1.0, beta, exponential)
        assert _rel(p, ref) <= min(_bound(la, 1.0, beta, c, exponential), 2e-14)


def test_non_contiguous_cost_and_existing_output() -> None:
    rng = np.random.default_rng(5)
    la = np.log(rng.uniform(1.0, 10.0, 700))
    base = rng.uniform(0.5, 30.0, (40, 1400)).astype(np.float32)
    for c in (base[:, ::2], base[::2, :700]):  # strided rows; strided origins
        for beta, e in [(1.3, False), (0.2, True), (2.0, False)]:
            ref = huff_probabilities_ref(la, c, 1.0, beta, e)
            assert _rel(huff_probabilities(la, c, 1.0, beta, e), ref) <= 1e-14
    out = np.full((40, 700), np.nan)
    c = np.ascontiguousarray(base[:, :700])
    assert huff_probabilities_into(la, c, 1.0, 1.3, False, out) is out
    assert _rel(out, huff_probabilities_ref(la, c, 1.0, 1.3)) <= 1e-14


def test_extreme_values_do_not_overflow() -> None:
    # Costs whose powers over/underflow float64 and huge attractiveness ranges: the fast
    # paths (integer β; the vectorised log2/exp2, limited to |x| ≤ 500) must hand such rows
    # to log-sum-exp.
    la = np.array([0.0, 700.0, -700.0])
    c = np.array([[1e-200, 1e-180, 1.0], [1e200, 1e180, 1e190], [1.0, 2.0, 3.0]])
    for beta in (2.0, 3.0, 2.5, 1.7, 0.3):
        p = huff_probabilities(la, c, 1.0, beta)
        ref = huff_probabilities_ref(la, c, 1.0, beta)
        assert np.isfinite(p).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-15)
        np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-300)
    # exponential: utilities beyond 2^±500 relative to the best store
    ce = np.array([[0.0, 1.0, 2.0], [1e3, 2e3, 5.0], [1.0, 2.0, 3.0]])
    p = huff_probabilities(la, ce, 1.0, 0.7, True)
    np.testing.assert_allclose(p, huff_probabilities_ref(la, ce, 1.0, 0.7, True), rtol=1e-12)


def test_rows_the_vectorised_path_refuses() -> None:
    # A subnormal or a huge cost (float64), and utilities spanning more than 2^±500 (huge β):
    # such rows take the scalar log-sum-exp path, the others stay vectorised; both agree with
    # the oracle.
    rng = np.random.default_rng(9)
    la = np.log(rng.uniform(1.0, 100.0, 600))
    c = rng.uniform(1.0, 20.0, (6, 600))
    c[1, 17] = 1e-310  # subnormal
    c[2, 400] = 1e300  # x < −500 for β = 1.7
    c[3, :] = np.inf  # reaches no store
    c[4, 1:] = np.inf  # reaches one store only
    c[5, 9] = 1.5e308  # beyond the exact range of the bit split (x = −307 for β = 0.3)
    for beta in (1.7, 40.0, 0.3):
        p = huff_probabilities(la, c, 1.0, beta)
        ref = huff_probabilities_ref(la, c, 1.0, beta)
        assert _rel(p[ref > 0], ref[ref > 0]) <= 1e-12
        assert ((p == 0) == (ref == 0)).all()
        assert (p[3] == 0).all()
        assert p[4, 0] == 1.0
    d = huff_demand(la, c, 1.0, 1.7, np.ones(6))
    assert d.sum() == pytest.approx(5.0, rel=1e-14)  # the stranded origin's demand is lost
    np.testing.assert_allclose(d, huff_demand_ref(la, c, 1.0, 1.7, np.ones(6)), rtol=1e-12)
    # float32: a subnormal cost (the 32-bit split needs normal numbers)
    c32 = rng.uniform(1.0, 20.0, (2, 600)).astype(np.float32)
    c32[1, 3] = np.float32(1e-40)
    p = huff_probabilities(la, c32, 1.0, 1.7)
    assert _rel(p, huff_probabilities_ref(la, c32, 1.0, 1.7)) <= 1e-12
    assert p[1, 3] > 0.999


def _fit_problem(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_o, n_s, h = 40, 9, 2
    x = np.log(rng.uniform(1.0, 50.0, (n_s, h)))
    d = np.log(rng.uniform(0.5, 30.0, (n_o, n_s)))
    d[rng.random((n_o, n_s)) < 0.05] = np.inf
    flows = rng.integers(0, 40, (n_o, n_s)).astype(float)
    flows[~np.isfinite(d)] = 0.0
    theta = np.array([0.8, 0.3, -1.6])
    return x, d, theta, flows


def test_loglik_matches_oracle_and_finite_differences() -> None:
    x, d, theta, flows = _fit_problem()
    ll, g, info = huff_loglik(x, d, theta, flows, True)
    ll_r, g_r, info_r = huff_loglik_ref(x, d, theta, flows, True)
    assert ll == pytest.approx(ll_r, rel=1e-12)
    assert _rel(g, g_r) <= 1e-10
    assert _rel(info, info_r) <= 1e-10
    eps = 1e-6
    for k in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += eps
        tm[k] -= eps
        fd = (huff_loglik(x, d, tp, flows)[0] - huff_loglik(x, d, tm, flows)[0]) / (2 * eps)
        assert g[k] == pytest.approx(fd, rel=1e-6, abs=1e-6)
    # information = −Hessian: finite differences of the gradient
    for k in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += eps
        tm[k] -= eps
        col = -(huff_loglik(x, d, tp, flows)[1] - huff_loglik(x, d, tm, flows)[1]) / (2 * eps)
        np.testing.assert_allclose(info[:, k], col, rtol=1e-5, atol=1e-5)


def test_loglik_positive_flow_to_unreachable_store_is_minus_inf() -> None:
    x, d, theta, flows = _fit_problem()
    i, j = np.argwhere(~np.isfinite(d))[0]
    flows[i, j] = 1.0
    assert huff_loglik(x, d, theta, flows)[0] == -np.inf
