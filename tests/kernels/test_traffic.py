"""Traffic kernels against their pure-numpy references on random graphs."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.traffic import (
    aon,
    aon_ref,
    beckmann,
    beckmann_ref,
    line_search,
    line_search_ref,
    link_cost,
    link_cost_ref,
    sp_tree,
    sp_tree_ref,
)
from twin.kernels.traffic_types import Demand, Network


def _graph(seed: int, n: int = 40, m: int = 160):
    """Random multigraph; node n - 1 has no incoming link (unreachable)."""
    rng = np.random.default_rng(seed)
    tails = rng.integers(0, n, m).astype(np.int64)
    heads = rng.integers(0, n, m).astype(np.int64)
    keep = (tails != heads) & (heads != n - 1)
    tails, heads = tails[keep], heads[keep]
    cost = rng.uniform(0.5, 10.0, len(tails))
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=indptr[1:])
    return rng, n, tails, heads, cost, indptr, heads[order], order.astype(np.int64)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("bar", [False, True])
def test_sp_tree_matches_reference(seed: int, bar: bool) -> None:
    rng, n, tails, heads, cost, indptr, ch, cl = _graph(seed)
    barred = rng.random(n) < 0.3 if bar else np.zeros(n, dtype=bool)
    dist = np.empty(n)
    pred = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    hk, hv = np.empty(len(ch) + 1), np.empty(len(ch) + 1, dtype=np.int64)
    for o in range(0, n, 7):
        settled = sp_tree(indptr, ch, cl, cost, barred, o, dist, pred, order, hk, hv)
        ref = sp_tree_ref(tails, heads, cost, barred, o, n)
        assert np.array_equal(np.isfinite(dist), np.isfinite(ref))
        assert np.allclose(dist[np.isfinite(ref)], ref[np.isfinite(ref)], rtol=1e-12)
        assert settled == np.isfinite(ref).sum()
        reached = np.flatnonzero(np.isfinite(dist) & (np.arange(n) != o))
        e = pred[reached]
        assert np.allclose(dist[tails[e]] + cost[e], dist[reached])  # tree links are tight


@pytest.mark.parametrize("seed", range(4))
def test_aon_matches_reference(seed: int) -> None:
    rng, n, tails, heads, cost, indptr, ch, cl = _graph(seed)
    barred = np.zeros(n, dtype=bool)
    barred[:5] = True
    pairs = [
        (int(o), int(d), float(rng.uniform(1, 9)))
        for o in range(8)
        for d in range(n)
        if o != d and (rng.random() < 0.5 or d == n - 1)
    ]
    origins = np.unique([p[0] for p in pairs]).astype(np.int64)
    od_ptr = np.searchsorted([p[0] for p in pairs], np.r_[origins, n]).astype(np.int64)
    od_dest = np.array([p[1] for p in pairs], dtype=np.int64)
    trips = np.array([p[2] for p in pairs])
    od_cost = np.empty(len(pairs))
    net = Network(
        indptr, ch, cl, tails, cost, cost * 0, cost * 0 + 1, np.ones(len(cost), bool), barred
    )
    flows = aon(net, cost, Demand(origins, od_ptr, od_dest, trips), od_cost, 3)
    ref_flows, ref_cost = aon_ref(tails, heads, cost, barred, n, pairs)
    assert np.array_equal(np.isinf(od_cost), np.isinf(ref_cost))
    assert np.isinf(od_cost).any() and np.isfinite(od_cost).any()
    assert np.allclose(od_cost[np.isfinite(od_cost)], ref_cost[np.isfinite(ref_cost)])
    # random real-valued costs: shortest paths are unique, so loadings agree exactly
    assert np.allclose(flows, ref_flows, rtol=1e-12, atol=1e-9)
    ok = np.isfinite(od_cost)
    assert flows @ cost == pytest.approx(trips[ok] @ od_cost[ok], rel=1e-12)


def test_costs_objective_and_line_search_match_references() -> None:
    rng = np.random.default_rng(3)
    m = 50
    a, b, p = rng.uniform(0, 5, m), rng.uniform(0, 1e-3, m), rng.choice([1.0, 2.0, 4.0, 2.5], m)
    x, d = rng.uniform(0, 100, m), rng.uniform(0, 100, m)
    assert np.allclose(link_cost(x, a, b, p), link_cost_ref(x, a, b, p), rtol=1e-13)
    assert beckmann(x, a, b, p) == pytest.approx(beckmann_ref(x, a, b, p), rel=1e-9)
    lam = line_search(x, d, a, b, p, 1e-12)
    assert 0 < lam < 1
    assert lam == pytest.approx(line_search_ref(x, d, a, b, p), abs=1e-7)
    # a direction that only lowers the objective is taken whole
    assert line_search(x, x * 0.5, a, np.zeros(m), p, 1e-12) == 1.0


def test_fpow_matches_pow() -> None:
    from twin.kernels.traffic import fpow

    v = np.random.default_rng(0).uniform(0, 50, 2000)
    for p in (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5):
        got = np.array([fpow(x, p) for x in v])
        assert np.allclose(got, v**p, rtol=4e-16 * 4, atol=0), p


@pytest.mark.parametrize("seed", range(4))
def test_csr_order_matches_stable_argsort(seed: int) -> None:
    """The counting sort groups the open links by tail node in link order, as numpy's stable
    argsort does; closed links and nodes without links are handled."""
    from twin.kernels.traffic import csr_order

    rng = np.random.default_rng(seed)
    n, m = 30, 200
    tails = rng.integers(0, n - 3, m).astype(np.int64)  # the last nodes have no link out
    live = rng.random(m) > 0.2
    indptr, order = csr_order(tails, live, n)
    pos = np.flatnonzero(live)
    assert np.array_equal(order, pos[np.argsort(tails[pos], kind="stable")])
    assert np.array_equal(np.diff(indptr), np.bincount(tails[pos], minlength=n))
    assert indptr[0] == 0 and indptr[-1] == live.sum()
