"""Pair-by-pair gradient projection kernels against their plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.test_traffic_paths import _network, _solve
from twin.kernels.gp_pairs import (
    largest_first,
    largest_first_ref,
    pair_excess,
    pair_sweep,
    pair_sweep_ref,
)
from twin.kernels.traffic import link_cost, sp_tree
from twin.kernels.traffic_types import LinkState, PathStore


@pytest.mark.parametrize("seed", range(4))
def test_largest_first_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=200) * rng.choice([0.0, 1.0, 10.0], 200)  # zeros, negatives
    for share, allow in ((0.9, 0.0), (0.5, 0.0), (0.9, 50.0), (1.0, 0.0), (0.0, 0.0)):
        got = largest_first(values, share, allow)
        assert got.tolist() == largest_first_ref(values, share, allow).tolist()
        assert (values[got] > 0).all()
    assert largest_first(-np.abs(values), 0.9, 0.0).size == 0  # nothing positive: none
    # excesses as a solve sees them: a few large, most tiny (of either sign);
    # with share 1 - 1e-9 the prefix runs into the tiny ones
    noise = rng.normal(size=5_000) * 1e-9
    noise[rng.choice(5_000, 40, replace=False)] = rng.uniform(1.0, 9.0, 40)
    for share, allow in ((0.9, 0.0), (0.99, 0.0), (1 - 1e-9, 0.0), (0.9, 1e-10), (0.0, 0.0)):
        got = largest_first(noise, share, allow)
        assert got.tolist() == largest_first_ref(noise, share, allow).tolist()
    assert len(largest_first(noise, 1 - 1e-9, 0.0)) > 40


def _paths_of(store: tuple, n_od: int) -> list[list[list]]:
    """A store's paths per pair in store order, each [links, flow] (plain Python)."""
    head, nxt, ps, pn, pf, pl = store[:6]
    out: list[list[list]] = []
    for j in range(n_od):
        pair, q = [], head[j]
        while q >= 0:
            pair.append([pl[ps[q] : ps[q] + pn[q]].tolist(), float(pf[q])])
            q = nxt[q]
        out.append(pair)
    return out


def _converging(seed: int):
    """A gp solve stopped early (excess left), its store, costs and pairs' origins."""
    links, od = _network(seed)
    net, dem, out = _solve(links, od, 3e-2)
    assert out[3] > 1e-3  # not converged: there is excess to move
    x = out[0]
    store = PathStore(*out[5:13])
    pair_origin = np.repeat(np.arange(len(dem.origins)), np.diff(dem.od_ptr))
    return net, dem, x, store, pair_origin


def trees_at(net, dem, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Every origin's shortest-path tree at link costs ``t`` (reaching links, a row per
    origin) and each pair's shortest cost."""
    n, n_od = len(net.node_ids), len(dem.od_trips)
    t_pred = np.empty((len(dem.origins), n), dtype=np.int32)
    dist, pred, order = np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64)
    hk, hv = np.empty(2 * len(net.csr_heads) + 1), np.empty(2 * len(net.csr_heads) + 1, np.int64)
    od_cost = np.empty(n_od)
    for k, o in enumerate(dem.origins):
        sp_tree(
            net.indptr, net.csr_heads, net.csr_link, t, net.barred, o, dist, pred, order, hk, hv
        )
        t_pred[k] = pred
        sl = slice(dem.od_ptr[k], dem.od_ptr[k + 1])
        od_cost[sl] = dist[dem.od_dest[sl]]
    return t_pred, od_cost


@pytest.mark.parametrize("seed", range(3))
def test_pair_excess_matches_reference(seed: int) -> None:
    net, dem, x, store, pair_origin = _converging(seed)
    t = link_cost(x, net.a, net.b, net.p)
    rng = np.random.default_rng(seed)
    n_od = len(dem.od_trips)
    ref = rng.uniform(0, 5, n_od)
    ref[rng.random(n_od) < 0.1] = np.inf  # no path: no excess
    pending = np.where(rng.random(n_od) < 0.5, 1.0, 0.0)
    cand = np.arange(0, len(dem.origins), 2)  # every other origin
    paths = _paths_of(store, n_od)
    for only_pending in (False, True):
        out = np.full(n_od, -7.0)
        pair_excess(cand, dem.od_ptr, ref, only_pending, pending, store, t, out)
        for j in range(n_od):
            if pair_origin[j] not in cand:
                assert out[j] == -7.0  # left as it was
                continue
            want = 0.0
            if np.isfinite(ref[j]) and not (only_pending and pending[j] <= 0):
                want = sum(f * (t[links].sum() - ref[j]) for links, f in paths[j])
            assert out[j] == pytest.approx(want, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_pair_sweep_matches_reference(seed: int) -> None:
    """The kernel's moves, with trees a few moves old, are the reference's, move by move."""
    net, dem, x, store, pair_origin = _converging(seed)
    n_od = len(dem.od_trips)
    t = link_cost(x, net.a, net.b, net.p)
    # every origin's tree at the current costs, as the gap measurement leaves them
    t_pred, od_cost = trees_at(net, dem, t)
    ex = np.zeros(n_od)
    pair_excess(np.arange(len(dem.origins)), dem.od_ptr, od_cost, False, od_cost, store, t, ex)
    pairs = largest_first(ex, 1.0, 0.0)  # every pair holding excess, largest first
    assert len(pairs) > 1
    # the tree path of each pair (destination back to origin, as the store keeps links)
    tree_paths: list[list[int] | None] = []
    for j in range(n_od):
        k, node, links = pair_origin[j], dem.od_dest[j], []
        while node != dem.origins[pair_origin[j]]:
            links.append(int(t_pred[k, node]))
            node = net.tails[t_pred[k, node]]
        tree_paths.append(links)
    ref_paths = _paths_of(store, n_od)
    ref_x = x.copy()
    pair_sweep_ref(ref_paths, pairs.tolist(), tree_paths, ref_x, net.a, net.b, net.p, 2)
    # the kernel on copies of the store
    copy = PathStore(*(s.copy() if isinstance(s, np.ndarray) else s for s in store))
    xk = x.copy()
    tk = link_cost(xk, net.a, net.b, net.p)
    with np.errstate(divide="ignore", invalid="ignore"):
        dt = np.where(xk > 0, net.b * net.p * xk ** (net.p - 1), np.where(net.p == 1, net.b, 0))
    dt[(net.b == 0) | (net.p == 0)] = 0.0
    mark = np.full(len(xk), -1, np.int64)
    ls = LinkState(xk, tk, dt, mark)
    grown, _ = pair_sweep(pairs, pair_origin, net.kernel(), dem.kernel(), t_pred, copy, ls, 0, 2)
    got = _paths_of(grown, n_od)
    assert np.allclose(xk, ref_x, rtol=1e-9, atol=1e-9)
    moved = 0
    for j in range(n_od):
        assert [p[0] for p in got[j]] == [p[0] for p in ref_paths[j]]
        assert [p[1] for p in got[j]] == pytest.approx([p[1] for p in ref_paths[j]], abs=1e-9)
        moved += got[j] != _paths_of(store, n_od)[j]
    assert moved > 0  # the sweep did move flow
    # the swept pairs hold less excess than before
    ex_after = np.zeros(n_od)
    pair_excess(
        np.arange(len(dem.origins)), dem.od_ptr, od_cost, False, od_cost, grown, tk, ex_after
    )
    assert ex_after[pairs].sum() < ex[pairs].sum()
