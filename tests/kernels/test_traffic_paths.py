"""Gradient projection kernel against its plain-Python reference and against BFW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.kernels.gp_pairs import pair_excess
from twin.kernels.path_store import compact_paths
from twin.kernels.sp_update import empty_trees
from twin.kernels.traffic import link_cost
from twin.kernels.traffic_paths import excess_of, gp_ref, gp_solve, path_flows
from twin.kernels.traffic_types import GpOptions, PathStore, TreeSource
from twin.sims.traffic.gp import _empty_store
from twin.sims.traffic.inputs import demand_arrays, parse_demand, prepare_links


def _network(seed: int, n: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random strongly connected network (a ring both ways plus chords), BPR costs."""
    rng = np.random.default_rng(seed)
    ring = np.arange(n)
    a = np.concatenate([ring, (ring + 1) % n])
    b = np.concatenate([(ring + 1) % n, ring])
    extra = rng.integers(0, n, (2, 3 * n))
    keep = extra[0] != extra[1]
    a = np.concatenate([a, extra[0, keep]])
    b = np.concatenate([b, extra[1, keep]])
    links = pd.DataFrame(
        {
            "a_node": a + 1,
            "b_node": b + 1,
            "capacity": rng.uniform(20, 80, len(a)),
            "free_flow_time": rng.uniform(1, 5, len(a)),
            "alpha": 0.15,
            "beta": rng.choice([1.0, 2.0, 4.0], len(a)),
        }
    )
    zones = rng.choice(np.arange(1, n + 1), 5, replace=False)
    od = pd.DataFrame(
        [(o, d, rng.uniform(10, 60)) for o in zones for d in zones if o != d],
        columns=["origin", "destination", "trips"],
    )
    return links, od


#: No trees of a previous solve to start from.
_NO_SOURCE = TreeSource(
    np.empty((0, 0), np.int32), np.empty((0, 0), np.int32), np.zeros(0, np.bool_)
)


def _solve(
    links: pd.DataFrame,
    od: pd.DataFrame,
    rgap: float,
    store=None,
    pending=None,
    keep=True,
    x=None,
    pair_share=0.03,
):
    net = prepare_links(links)
    dem = demand_arrays(parse_demand(od), net)
    store = PathStore(*store) if store else _empty_store(len(dem.od_trips))
    pending = dem.od_trips.copy() if pending is None else pending
    gaps = np.full(501, np.nan)
    rows, n = (len(dem.origins) if keep else 1), len(net.node_ids)
    trees = empty_trees(rows, n)
    x = np.zeros(len(net.a)) if x is None else x.copy()  # flows of the store's paths
    opts = GpOptions(rgap, 500, 2, 0.9, pair_share, 0.7, keep, 3)
    *out, final = gp_solve(
        net.kernel(), dem.kernel(), store, pending, x, gaps, opts, trees, _NO_SOURCE
    )
    # x, od_cost, iterations, gap, sptt, then the store's fields
    return net, dem, (x, *out, *final)


def _listed(out: tuple) -> tuple:
    """The solve's final store, path by path: od, ptr, links, flow."""
    return compact_paths(PathStore(*out[5:13]))


def test_gp_kept_trees_change_nothing() -> None:
    """Updating each origin's kept tree or rebuilding it gives the same solve (origin sweeps:
    without kept trees there are no pair sweeps)."""
    links, od = _network(3)
    links = links.assign(closed=np.arange(len(links)) % 9 == 4)
    *_, kept = _solve(links, od, 1e-9, keep=True, pair_share=0.0)
    *_, rebuilt = _solve(links, od, 1e-9, keep=False)
    assert kept[2] == rebuilt[2]  # iterations
    assert np.allclose(kept[0], rebuilt[0], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("seed", "pair_share"), [(0, 0.0), (1, 0.0), (0, 1.0), (1, 1.0)])
def test_gp_matches_reference(seed: int, pair_share: float) -> None:
    """Origin sweeps only (``pair_share`` 0) or pair sweeps wherever possible (1)."""
    links, od = _network(seed)
    net, dem, out = _solve(links, od, 1e-12, pair_share=pair_share)
    x, od_cost, it, gap = out[:4]
    assert gap <= 1e-12 and it > 1
    o_pos = np.repeat(dem.origins, np.diff(dem.od_ptr))
    pairs = list(zip(o_pos.tolist(), dem.od_dest.tolist(), dem.od_trips.tolist(), strict=True))
    ref = gp_ref(net.tails, net.heads, net.a, net.b, net.p, len(net.node_ids), pairs, 80)
    # equilibrium link flows are unique (strictly increasing costs): both agree
    assert np.abs(x - ref).max() < 1e-5 * od["trips"].sum()
    # path costs of used paths equal the shortest cost of their pair (Wardrop)
    p_od, p_ptr, p_links, p_flow = _listed(out)
    t = net.a + net.b * x**net.p
    for i in range(len(p_flow)):
        c = t[p_links[p_ptr[i] : p_ptr[i + 1]]].sum()
        assert c == pytest.approx(od_cost[p_od[i]], rel=1e-5)
    # path flows add up to the demand of each pair and to the link flows
    assert np.bincount(p_od, p_flow, len(dem.od_trips)) == pytest.approx(dem.od_trips)
    seg = np.repeat(np.arange(len(p_flow)), np.diff(p_ptr))
    assert np.bincount(p_links, p_flow[seg], len(x)) == pytest.approx(x, abs=1e-9)


def test_gp_warm_store_is_already_converged() -> None:
    links, od = _network(7)
    _, dem, out = _solve(links, od, 1e-10)
    store = tuple(out[5:13])
    _, _, again = _solve(
        links, od, 1e-10, store=store, pending=np.zeros(len(dem.od_trips)), x=out[0]
    )
    assert again[2] == 0 and again[3] <= 1e-10
    assert again[0] == pytest.approx(out[0], abs=1e-9)


def test_gp_agrees_with_bfw_and_respects_barred_zones() -> None:
    from twin.traffic import assign

    links, od = _network(3)
    for ftn in (None, 6):
        gp = assign(links, od, rgap=1e-10, algorithm="gp", first_thru_node=ftn)
        bfw = assign(links, od, rgap=1e-6, algorithm="bfw", first_thru_node=ftn, max_iter=5000)
        assert gp.objective == pytest.approx(bfw.objective, rel=1e-6)
        if ftn:  # no used path passes through a zone node
            ps = gp.paths
            nodes = links["a_node"].to_numpy()[ps.links]  # tails of path links
            seg = np.repeat(np.arange(len(ps)), np.diff(ps.ptr))
            inner = nodes != ps.origin[seg]
            assert (nodes[inner] >= ftn).all()


def test_od_costs_match_reference() -> None:
    from twin.kernels.traffic import sp_tree_ref
    from twin.kernels.traffic_paths import od_costs

    links, od = _network(5)
    net = prepare_links(links)
    dem = demand_arrays(parse_demand(od), net)
    cost = net.a * 1.7
    out = np.empty(len(dem.od_trips))
    od_costs(net.kernel(), cost, dem.kernel(), out)
    for k, o in enumerate(dem.origins):
        ref = sp_tree_ref(net.tails, net.heads, cost, net.barred, int(o), len(net.node_ids))
        sl = slice(dem.od_ptr[k], dem.od_ptr[k + 1])
        assert out[sl] == pytest.approx(ref[dem.od_dest[sl]], rel=1e-12)


@pytest.mark.parametrize("n_blocks", [1, 3, 1000])
def test_path_flows_sum_the_store(n_blocks: int) -> None:
    """Parallel link flows of a store equal the numpy sum over its listed paths."""
    links, od = _network(5)
    _, _, out = _solve(links, od, 1e-6)
    store = PathStore(*out[5:13])
    p_od, p_ptr, p_links, p_flow = compact_paths(store)
    ref = np.bincount(p_links, np.repeat(p_flow, np.diff(p_ptr)), len(out[0]))
    x = np.full(len(out[0]), np.nan)
    net = prepare_links(links)
    dem = demand_arrays(parse_demand(od), net)
    t = link_cost(out[0] * 1.3, net.a, net.b, net.p)  # any costs
    n_od = len(store.head)
    fc, fs = np.full(n_od, np.nan), np.full(n_od, np.nan)
    path_flows(store, x, n_blocks, t, fc, fs)
    assert np.allclose(x, ref, rtol=1e-12, atol=1e-9)
    assert np.allclose(x, out[0], rtol=1e-9, atol=1e-9)  # the solve's own final flows
    # the pairs' path costs and flows: their excess is pair_excess's
    pair = np.repeat(np.arange(len(p_flow)), np.diff(p_ptr))
    path_cost = np.bincount(pair, t[p_links], len(p_flow))
    assert np.allclose(fc, np.bincount(p_od, p_flow * path_cost, n_od), rtol=1e-12)
    assert np.allclose(fs, np.bincount(p_od, p_flow, n_od), rtol=1e-12)
    rng = np.random.default_rng(n_blocks)
    sp = np.where(rng.random(n_od) < 0.1, np.inf, rng.uniform(0, 50, n_od))
    got, want = np.empty(n_od), np.empty(n_od)
    excess_of(fc, fs, sp, got)
    every = np.arange(len(dem.origins))
    pair_excess(every, dem.od_ptr, sp, False, sp, store, t, want)
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9)
