"""Accessibility against networkx's Dijkstra (a peer implementation) on the real demo network."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from twin.sims.accessibility import Accessibility, AccessibilityParams, travel_times
from twin.store.twinstore import open_twin


@pytest.fixture(scope="module")
def demo(demo_dir: Path):
    return open_twin(demo_dir)


def test_travel_times_match_networkx(demo) -> None:
    net = demo["roads"]
    g = nx.DiGraph()
    for a, b, t in zip(net.links.a_node, net.links.b_node, net.links.free_flow_time_s, strict=True):
        if not g.has_edge(a, b) or g[a][b]["t"] > t:
            g.add_edge(a, b, t=t)
    origins = np.array([0, 17, 400, 1000])
    ours = travel_times(net, origins)
    ids = net.nodes.index.to_numpy()
    for row, o in zip(ours, origins, strict=True):
        ref = nx.single_source_dijkstra_path_length(g, ids[o], weight="t")
        expect = np.array([ref.get(n, np.inf) for n in ids])
        np.testing.assert_allclose(row, expect, rtol=1e-9, atol=1e-5)


def test_seeded_and_kpis(demo) -> None:
    sim = Accessibility()
    p = AccessibilityParams(n_origins=50)
    a = sim.run(demo, p, {}, np.random.default_rng(1))
    b = sim.run(demo, p, {}, np.random.default_rng(1))
    c = sim.run(demo, p, {}, np.random.default_rng(2))
    assert [k.value for k in a.kpis] == [k.value for k in b.kpis]
    assert a.kpis[0].value != c.kpis[0].value
    nodes = a.outputs["node_access"].data
    assert nodes.index.equals(demo["roads"].nodes.index)
    assert ((nodes["reach_share"] >= 0) & (nodes["reach_share"] <= 1)).all()
