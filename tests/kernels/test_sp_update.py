"""Shortest-path tree updates against the dense Dijkstra reference after cost changes."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.sp_update import empty_trees, heap_size, sp_update, store_trees, work_size
from twin.kernels.traffic import sp_tree, sp_tree_ref
from twin.kernels.traffic_types import Demand, Network, TreeSource, TreeStore


def _net(csr, tails: np.ndarray, live: np.ndarray, barred: np.ndarray) -> Network:
    """A kernel network over the CSR ``csr`` (link costs unused: zeros)."""
    zero = np.zeros(len(tails))
    return Network(*csr, tails, zero, zero, zero + 1, live, barred)


NO_SOURCE = TreeSource(
    np.empty((0, 0), dtype=np.int32), np.empty((0, 0), dtype=np.int32), np.zeros(0, dtype=bool)
)


def _csr(n: int, tails: np.ndarray, heads: np.ndarray, live: np.ndarray):
    pos = np.flatnonzero(live)
    order = pos[np.argsort(tails[pos], kind="stable")]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails[pos], minlength=n), out=indptr[1:])
    return indptr, heads[order], order.astype(np.int64)


def _graph(seed: int, n: int = 60, m: int = 260):
    rng = np.random.default_rng(seed)
    tails = rng.integers(0, n, m).astype(np.int64)
    heads = rng.integers(0, n, m).astype(np.int64)
    keep = tails != heads
    return rng, n, tails[keep], heads[keep]


def _check(n, tails, heads, cost, live, barred, o, dist, pred, order, used) -> None:
    ref = sp_tree_ref(tails[live], heads[live], cost[live], barred, o, n)
    fin = np.isfinite(ref)
    assert np.array_equal(np.isfinite(dist), fin)
    assert np.allclose(dist[fin], ref[fin], rtol=1e-12)
    others = np.flatnonzero(fin & (np.arange(n) != o))
    e = pred[others]
    assert live[e].all()
    assert np.allclose(dist[tails[e]] + cost[e], dist[others], rtol=1e-12)  # tight tree links
    assert (pred[~fin] == -1).all() and pred[o] == -1
    # the order holds every reached node once (it may keep nodes no longer reached), each
    # after its parent
    assert len(set(order[:used].tolist())) == used
    rank = np.full(n, n)
    rank[order[:used]] = np.arange(used)
    assert order[0] == o and (rank[fin] < n).all()
    assert (rank[tails[e]] < rank[others]).all()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("bar", [False, True])
def test_update_matches_a_fresh_tree(seed: int, bar: bool) -> None:
    """Costs up and down on a random third of the links, some links closed, others reopened:
    the updated tree has the reference distances and is a valid tree."""
    rng, n, tails, heads = _graph(seed)
    m = len(tails)
    barred = rng.random(n) < 0.2 if bar else np.zeros(n, dtype=bool)
    live0 = rng.random(m) > 0.1
    cost0 = rng.uniform(0.5, 10.0, m)
    size = heap_size(m)
    hk, hv = np.empty(size), np.empty(size, dtype=np.int64)
    work = np.empty(work_size(n, len(tails)), dtype=np.int64)
    for o in range(0, n, 11):
        dist, pred = np.empty(n), np.empty(n, dtype=np.int32)
        order = np.empty(n, dtype=np.int32)
        used = sp_tree(*_csr(n, tails, heads, live0), cost0, barred, o, dist, pred, order, hk, hv)
        cost, live = cost0, live0
        for step in range(8):  # successive updates from the previous updated tree
            if step % 2:  # large changes, links closed and reopened
                cost = np.where(rng.random(m) < 0.3, cost * rng.uniform(0.3, 3.0, m), cost)
                live = live ^ (rng.random(m) < 0.05)
            else:  # small changes: most parents stay, the order is mostly kept
                cost = cost * (1 + 1e-3 * rng.standard_normal(m) * (rng.random(m) < 0.2))
            csr = _csr(n, tails, heads, live)
            used = sp_update(
                *csr, tails, tails[csr[2]], cost, cost[csr[2]], live, barred, o, dist, pred, order,
                used, hk, hv, work,
            )  # fmt: skip
            _check(n, tails, heads, cost, live, barred, o, dist, pred, order, used)


def test_unchanged_costs_keep_the_tree() -> None:
    rng, n, tails, heads = _graph(3)
    live = np.ones(len(tails), dtype=bool)
    cost = rng.uniform(1.0, 5.0, len(tails))
    csr = _csr(n, tails, heads, live)
    barred = np.zeros(n, dtype=bool)
    size = heap_size(len(tails))
    hk, hv = np.empty(size), np.empty(size, dtype=np.int64)
    dist, pred, order = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    reached = sp_tree(*csr, cost, barred, 0, dist, pred, order, hk, hv)
    d0, p0, o0 = dist.copy(), pred.copy(), order.copy()
    again = sp_update(
        *csr, tails, tails[csr[2]], cost, cost[csr[2]], live, barred, 0, dist, pred, order,
        reached, hk, hv, np.empty(work_size(n, len(tails)), dtype=np.int64),
    )  # fmt: skip
    assert again == reached and np.array_equal(dist, d0) and np.array_equal(pred, p0)
    assert np.array_equal(order, o0)  # nothing moved: the order is kept


def test_store_trees_builds_then_updates() -> None:
    """Rows without a tree are built, rows with one are updated: both give the OD costs."""
    rng, n, tails, heads = _graph(5)
    m = len(tails)
    live = np.ones(m, dtype=bool)
    csr = _csr(n, tails, heads, live)
    barred = np.zeros(n, dtype=bool)
    origins = np.array([0, 7, 19, 33], dtype=np.int64)
    od_ptr = np.arange(0, 4 * n + 1, n, dtype=np.int64)
    od_dest = np.tile(np.arange(n, dtype=np.int64), 4)
    k = len(origins)
    store = empty_trees(k, n)
    out = np.empty(len(od_dest))
    for step in range(3):
        cost = rng.uniform(0.5, 10.0, m)
        out[:] = np.nan
        rows = np.arange(k)
        dem = Demand(origins, od_ptr, od_dest, np.ones(len(od_dest)))
        store_trees(_net(csr, tails, live, barred), cost, dem, rows, store, NO_SOURCE, out, 3)
        assert store.have.all()
        for i, o in enumerate(origins):
            ref = sp_tree_ref(tails, heads, cost, barred, int(o), n)
            got = out[i * n : (i + 1) * n]
            assert np.array_equal(np.isfinite(got), np.isfinite(ref)), step
            assert np.allclose(got[np.isfinite(ref)], ref[np.isfinite(ref)], rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_store_aon_matches_aon(seed: int) -> None:
    """Loading down updated trees gives the flows and OD costs of loading down fresh ones,
    over successive cost changes (as in Frank–Wolfe iterations)."""
    from twin.kernels.sp_update import store_aon
    from twin.kernels.traffic import aon

    rng, n, tails, heads = _graph(seed)
    m = len(tails)
    live = np.ones(m, dtype=bool)
    csr = _csr(n, tails, heads, live)
    barred = np.zeros(n, dtype=bool)
    barred[:3] = True
    origins = np.array([0, 1, 2, 9, 30], dtype=np.int64)
    dests = [rng.choice(n, 12, replace=False) for _ in origins]
    od_ptr = np.zeros(len(origins) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in dests], out=od_ptr[1:])
    od_dest = np.concatenate(dests).astype(np.int64)
    trips = rng.uniform(1, 10, len(od_dest))
    k = len(origins)
    store = empty_trees(k, n)
    cost = rng.uniform(0.5, 10.0, m)
    for _ in range(5):
        cost = cost * (1 + 0.2 * rng.standard_normal(m) * (rng.random(m) < 0.3)).clip(0.2)
        c1, c2 = np.empty(len(od_dest)), np.empty(len(od_dest))
        net, dem = _net(csr, tails, live, barred), Demand(origins, od_ptr, od_dest, trips)
        ref = aon(net, cost, dem, c1, 2)
        got = store_aon(net, cost, dem, c2, 2, store)
        assert np.allclose(c2, c1, rtol=1e-12) and np.array_equal(np.isinf(c2), np.isinf(c1))
        assert np.allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_sp_update_refuses_short_buffers() -> None:
    """Steps 2 and 3 may each queue a node per link: buffers shorter than ``heap_size`` (or a
    work buffer shorter than ``work_size``) would be overrun (numba does not check bounds), so
    the update refuses them."""
    rng, n, tails, heads = _graph(4)
    live = np.ones(len(tails), dtype=bool)
    cost = rng.uniform(1.0, 5.0, len(tails))
    csr = _csr(n, tails, heads, live)
    barred = np.zeros(n, dtype=bool)
    dist, pred, order = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    size = heap_size(len(tails))
    hk, hv = np.empty(size), np.empty(size, dtype=np.int64)
    reached = sp_tree(*csr, cost, barred, 0, dist, pred, order, hk, hv)
    work = np.empty(work_size(n, len(tails)), dtype=np.int64)
    short = len(tails) + 1  # enough for a fresh Dijkstra, not for an update
    with pytest.raises(ValueError, match="heap_size"):
        sp_update(
            *csr, tails, tails[csr[2]], cost, cost[csr[2]], live, barred, 0, dist, pred, order,
            reached, np.empty(short), np.empty(short, dtype=np.int64), work,
        )  # fmt: skip
    # step 2 lists up to one candidate per link after two slots per node
    with pytest.raises(ValueError, match="work_size"):
        sp_update(
            *csr, tails, tails[csr[2]], cost, cost[csr[2]], live, barred, 0, dist, pred, order,
            reached, hk, hv, np.empty(2 * n, dtype=np.int64),
        )  # fmt: skip


def test_store_trees_take_rows_from_a_source_once() -> None:
    """Rows flagged to copy start from the source trees (then updated); the source is left
    as it was and each row is copied once."""
    rng, n, tails, heads = _graph(6)
    m = len(tails)
    live = np.ones(m, dtype=bool)
    csr = _csr(n, tails, heads, live)
    barred = np.zeros(n, dtype=bool)
    origins = np.array([0, 5, 12], dtype=np.int64)
    od_ptr = np.arange(0, 3 * n + 1, n, dtype=np.int64)
    od_dest = np.tile(np.arange(n, dtype=np.int64), 3)
    out = np.empty(len(od_dest))
    src = empty_trees(3, n)
    cost = rng.uniform(0.5, 10.0, m)
    rows = np.arange(3)
    net = _net(csr, tails, live, barred)
    dem = Demand(origins, od_ptr, od_dest, np.ones(len(od_dest)))
    store_trees(net, cost, dem, rows, src, NO_SOURCE, out, 2)
    kept = (src[0].copy(), src[1].copy())
    pred, order = np.full_like(src[0], -7), np.full_like(src[1], -7)
    store = TreeStore(pred, order, src[2].copy(), np.ones(3, dtype=bool))
    to_copy = np.ones(3, dtype=bool)
    cost2 = cost * rng.uniform(0.8, 1.25, m)
    store_trees(net, cost2, dem, rows[:2], store, TreeSource(src[0], src[1], to_copy), out, 2)
    assert np.array_equal(to_copy, [False, False, True])  # row 2 not used yet
    assert np.array_equal(src[0], kept[0]) and np.array_equal(src[1], kept[1])
    assert (pred[2] == -7).all()
    for i in range(2):  # updated from the copied trees: the reference distances
        ref = sp_tree_ref(tails, heads, cost2, barred, int(origins[i]), n)
        got = out[i * n : (i + 1) * n]
        fin = np.isfinite(ref)
        assert np.allclose(got[fin], ref[fin], rtol=1e-12) and np.isinf(got[~fin]).all()
