"""Footfall on a small synthetic street grid against a networkx computation; calibration."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

from twin.errors import InputError
from twin.model.layer import SensorSeries
from twin.model.network import Network
from twin.sims.commerce import footfall as ff

CRS = "EPSG:32635"


def grid_network(n: int = 5, step: float = 80.0, seed: int = 0) -> Network:
    """An n × n street grid, two directed links per street, random walking speeds."""
    rng = np.random.default_rng(seed)
    ids = [f"n{i}_{j}" for i in range(n) for j in range(n)]
    xy = {f"n{i}_{j}": (i * step, j * step) for i in range(n) for j in range(n)}
    nodes = gpd.GeoDataFrame(
        geometry=[shapely.Point(xy[k]) for k in ids], index=pd.Index(ids), crs=CRS
    )
    rows = []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = f"n{i}_{j}", f"n{i + di}_{j + dj}"
                    t = step / rng.uniform(1.0, 1.6)  # [s], distinct times: unique paths
                    for u, v in ((a, b), (b, a)):
                        rows.append(
                            dict(id=f"{u}-{v}", a_node=u, b_node=v, free_flow_time_s=t,
                                 length_m=step, osm_way=f"w{i}{j}{di}",
                                 geometry=shapely.LineString([xy[u], xy[v]]))
                        )  # fmt: skip
    links = gpd.GeoDataFrame(rows, crs=CRS).set_index("id")
    return Network(nodes, links)


def nx_flows(
    net: Network, origins: dict[str, float], attraction: dict[str, float], beta: float, cut: float
) -> pd.Series:
    """Peer computation with networkx: bounded Dijkstra paths, gravity split, path loading."""
    g = nx.DiGraph()
    open_ = ff.walk_open(net)
    for (lid, r), ok in zip(net.links.iterrows(), open_, strict=True):
        if ok:
            g.add_edge(r.a_node, r.b_node, t=r.free_flow_time_s, id=lid)
    flows = pd.Series(0.0, index=net.links.index)
    for o, w in origins.items():
        dist, paths = nx.single_source_dijkstra(g, o, cutoff=cut, weight="t")
        dest = [d for d in dist if d != o and attraction.get(d, 0) > 0]
        wt = np.array([attraction[d] * np.exp(-beta * dist[d]) for d in dest])
        for d, tr in zip(dest, w * wt / wt.sum(), strict=True):
            p = paths[d]
            for u, v in itertools.pairwise(p):
                flows[g.edges[u, v]["id"]] += tr
    return flows


def test_footfall_matches_networkx() -> None:
    net = grid_network()
    pos = pd.Index(net.nodes.index)
    origins = {"n0_0": 120.0, "n4_1": 60.0, "n2_2": 30.0, "n1_3": 80.0}
    attraction = {"n2_2": 3.0, "n4_4": 1.0, "n0_4": 2.0, "n3_0": 1.5}
    net.links.loc["n2_0-n2_1", "closed"] = True  # a closure reroutes
    net.links.loc["n2_1-n2_0", "closed"] = False
    att = np.zeros(len(pos))
    att[pos.get_indexer(list(attraction))] = list(attraction.values())
    res = ff.footfall(
        net, pos.get_indexer(list(origins)), np.array(list(origins.values())), att,
        beta_per_min=0.3, cutoff_min=4.0,
    )  # fmt: skip
    peer = nx_flows(net, origins, attraction, 0.3 / 60, 240.0)
    np.testing.assert_allclose(res.link_flow, peer.to_numpy(), rtol=1e-10, atol=1e-9)
    assert res.link_flow[net.links.index.get_loc("n2_0-n2_1")] == 0.0
    assert res.trips == pytest.approx(290.0)
    assert res.node_attracted.sum() == pytest.approx(290.0)
    assert peer.sum() > 500  # real loading happened


def test_pedestrianised_walk_links_stay_open() -> None:
    net = grid_network(3)
    net.links["closed"] = True
    net.links["pedestrian"] = True  # closed to cars only
    assert ff.walk_open(net).all()
    net.links.loc[net.links.index[0], "pedestrian"] = False
    assert ff.walk_open(net).sum() == len(net.links) - 1


def test_segments_sum_both_directions() -> None:
    net = grid_network(3)
    seg, codes = ff.segments(net)
    assert len(seg) == len(net.links) // 2 == 12
    flow = np.arange(len(net.links), dtype=float)
    s = ff.segment_flow(flow, codes, len(seg))
    assert s.sum() == flow.sum()
    first = net.links.index[0]  # n0_0-n1_0 and its reverse
    rev = net.links.index.get_loc("n1_0-n0_0")
    assert s[seg.index.get_loc(first)] == flow[0] + flow[rev]


def test_residents_proxy() -> None:
    sq = shapely.box(0, 0, 10, 10)  # 100 m² footprint
    b = gpd.GeoDataFrame(
        {"building": ["apartments", "yes", "office", None], "height_m": [12.0, 6.0, 30.0, 3.0],
         "levels": [np.nan, 4, np.nan, np.nan]},
        geometry=[sq] * 4, crs=CRS,
    )  # fmt: skip
    r = ff.residents(b, m2_per_resident=40.0, mixed_housing_share=0.5)
    # 4 storeys × 100 m² / 40; levels win over height; offices house nobody; missing = yes
    np.testing.assert_allclose(r, [10.0, 5.0, 0.0, 1.25])


def test_links_near_roads() -> None:
    walk = grid_network(3).links
    roads = walk.iloc[[0]].copy()
    roads["osm_way"] = "other"
    hit = ff.links_near(walk, roads, np.array([True]), buffer_m=5.0)
    assert hit.sum() == 2  # the link itself and its reverse (same midpoint)
    assert not ff.links_near(walk, roads, np.array([False]), buffer_m=5.0).any()


def test_calibration_on_synthetic_counts() -> None:
    net = grid_network()
    seg, _ = ff.segments(net)
    rng = np.random.default_rng(1)
    model = rng.uniform(50, 500, len(seg))
    at = [1, 4, 7, 10, 15, 22, 30]
    true = 3.7 * model[at] * (1 + rng.normal(0, 0.05, len(at)))
    pts = seg.geometry.iloc[at].interpolate(0.5, normalized=True).translate(3, 3)
    sensors = [f"c{i}" for i in range(len(at))]
    points = gpd.GeoDataFrame(geometry=pts.to_numpy(), index=pd.Index(sensors), crs=CRS)
    times = pd.date_range("2025-01-01", periods=4, freq="D")
    data = xr.Dataset(
        {"pedestrians": (("sensor", "time"), np.repeat(true[:, None], 4, axis=1))},
        coords={"sensor": sensors, "time": times},
    )
    cal = ff.calibrate_on_counters(seg, model, SensorSeries(points, data))
    k = float((model[at] * true).sum() / (model[at] ** 2).sum())
    assert cal.scale == pytest.approx(k, rel=1e-12)
    assert cal.scale == pytest.approx(3.7, rel=0.05)
    assert cal.n == 7 and cal.r2 > 0.95
    assert cal.rmse == pytest.approx(np.sqrt(((true - k * model[at]) ** 2).mean()))
    with pytest.raises(InputError, match="counts_variable"):
        ff.calibrate_on_counters(seg, model, SensorSeries(points, data), variable="cars")


def test_fit_scale_needs_two_counters() -> None:
    with pytest.raises(InputError, match="only 1 counter"):
        ff.fit_scale(np.array([1.0, np.nan]), np.array([2.0, 3.0]))


def test_network_without_times() -> None:
    net = grid_network(2)
    net.links = net.links.drop(columns="free_flow_time_s")
    with pytest.raises(InputError, match="free_flow_time_s"):
        ff.footfall(net, np.array([0]), np.array([1.0]), np.ones(4))
