"""Where a scenario acts (the viewer frames it): the extent of its own interventions' targets,
on the demo's real scenarios and on pandapower's mv_oberrhein."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.model.twin import Twin
from twin.scenario.extent import intervention_bounds
from twin.scenario.schema import Scenario
from twin.store.twinstore import open_twin

ROOT = Path(__file__).resolve().parents[2]


def test_street_closure_is_framed_by_the_closed_street(demo_dir: Path) -> None:
    t = open_twin(demo_dir)
    sc = Scenario.from_yaml(ROOT / "scenarios" / "closure.yaml")
    links = t["roads"].links
    street = links[links["name"] == "Mannerheimintie"].to_crs(4326)
    got = intervention_bounds(t, sc)
    assert got is not None
    assert np.allclose(got, street.total_bounds, atol=2e-5), (got, street.total_bounds)
    # the street is a small part of the territory
    w, s, e, n = t.extent_lonlat
    assert (got[2] - got[0]) * (got[3] - got[1]) < 0.5 * (e - w) * (n - s)


def test_planted_area_is_framed_by_its_polygon(demo_dir: Path) -> None:
    got = intervention_bounds(
        open_twin(demo_dir), Scenario.from_yaml(ROOT / "scenarios" / "trees.yaml")
    )
    want = (24.9440, 60.1666, 24.9533, 60.1684)  # the polygon's own bounds
    # (through the twin's UTM CRS: the box holds the polygon, a few metres larger at most)
    assert got is not None and got == pytest.approx(want, abs=2e-4)
    assert got[0] <= want[0] and got[1] <= want[1] and got[2] >= want[2] and got[3] >= want[3]


def test_no_intervention_no_frame_and_parent_interventions_left_out(demo_dir: Path) -> None:
    t = open_twin(demo_dir)
    assert intervention_bounds(t, Scenario.from_yaml(ROOT / "scenarios" / "baseline.yaml")) is None
    child = Scenario.from_dict({"name": "child", "parent": "trees", "interventions": []})
    assert intervention_bounds(t, child) is None


def test_network_elements_by_attribute_and_node_ids(oberrhein_twin: Any) -> None:
    t: Twin = oberrhein_twin
    sc = Scenario.from_yaml(ROOT / "scenarios" / "oberrhein" / "transformer_outage.yaml")
    links = t["energy"].links
    trafo = links[links["name"] == "HV/MV Transformer 0"].to_crs(4326)
    got = intervention_bounds(t, sc)
    assert got is not None and np.allclose(got, trafo.total_bounds, atol=2e-5)
    # a substation outage names nodes: they are found among the network's nodes
    nodes = t["energy"].nodes
    ids = [str(i) for i in nodes.index[:2]]
    sub = Scenario.from_dict(
        {
            "name": "sub",
            "interventions": [
                {"type": "substation_outage", "target": {"layer": "energy", "ids": ids}}
            ],
            "simulations": ["power"],
        }
    )
    got = intervention_bounds(t, sub)
    want = nodes.loc[nodes.index[:2]].to_crs(4326).total_bounds
    assert got is not None and np.allclose(got, want, atol=2e-5), (got, want)
