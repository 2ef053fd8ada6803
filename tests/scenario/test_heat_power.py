"""Coupling: the heat simulation's air temperature sets a cooling load on the electricity
network, in the same run.

The demo twin of central Helsinki (real OpenStreetMap buildings and land cover) with its
real drivable street network standing in for medium-voltage feeders (the topology is made
up, the geometry real; two substations). The heat simulation runs a heat-wave day; the
power simulation of the same run adds to each node the cooling load of the buildings it
supplies. The test recomputes that load from the heat grid and the buildings, independently:
share × W/(m²·K) × floor area × (Tmax − base), summed per nearest node.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy.spatial import cKDTree

from twin.model.buildings import floor_area_m2
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.scenario.runner import run
from twin.scenario.schema import Scenario


@pytest.fixture(scope="module")
def grid_twin(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = Twin.open(demo_dir)
    roads = t.layer("roads").data
    nodes = roads.nodes[["geometry"]].copy()
    nodes["node_type"] = "node"
    nodes.iloc[[0, len(nodes) // 2], nodes.columns.get_loc("node_type")] = "substation"
    links = roads.links[["a_node", "b_node", "geometry"]].copy()
    links["link_type"] = "line"
    prov = Provenance(source="demo roads as feeders (made-up topology, real geometry)")
    t.add(Layer("energy", "network", Network(nodes=nodes, links=links), prov))
    out = tmp_path_factory.mktemp("heat-power") / "twin"
    t.save(out)
    return out


def test_heat_wave_sets_the_cooling_load(grid_twin: Path, tmp_path: Path) -> None:
    sc = Scenario.from_dict(
        {
            "name": "heatwave_grid",
            "parent": None,
            "simulations": ["heat", "power"],
            "parameters": {
                "heat": {"timezone": "Europe/Helsinki", "tmax_c": 33, "tmin_c": 21},
                "power": {"buildings_layer": "buildings", "max_join_m": 200},
            },
        }
    )
    r = run(grid_twin, sc, out=tmp_path)
    t = Twin.open(grid_twin)
    heat = r.outputs["heat"].data["air_temperature_max"]
    b = t["buildings"]
    pts = np.column_stack([b.representative_point().x, b.representative_point().y])
    at = {c: xr.DataArray(pts[:, k], dims="point") for k, c in enumerate(("x", "y"))}
    tmax = heat.sel(at, method="nearest").to_numpy()  # the cell under each building
    watts = 0.25 * 3.0 * floor_area_m2(b).to_numpy() * np.clip(np.nan_to_num(tmax - 24), 0, None)
    nodes = t.layer("energy").data.nodes
    dist, near = cKDTree(np.column_stack([nodes.geometry.x, nodes.geometry.y])).query(pts)
    ok = dist <= 200
    expected = np.bincount(near[ok], weights=watts[ok], minlength=len(nodes)) / 1e6
    got = r.outputs["power_nodes"].data["cooling_load_mw"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    k = r.kpis["value"]
    assert k["cooling_load_mw"] == pytest.approx(expected.sum()) and expected.sum() > 0.1
    assert k["load_not_supplied_mw"] >= 0
    assert "ASSUMED 0.25 × 3 W/(m²·K)" in (r.path / "notice.en.md").read_text()
