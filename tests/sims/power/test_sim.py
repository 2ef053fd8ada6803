"""The power simulation: planning errors, joins of buildings, shops and lamps, targets of the
interventions, a flow that does not converge."""

from __future__ import annotations

import itertools
from typing import Any

import geopandas as gpd
import numpy as np
import pandapower as pp
import pytest
import shapely
from pyproj import CRS

from twin.errors import SchemaError
from twin.io.energy import energy_network
from twin.model.layer import Layer
from twin.model.network import EngineModel, Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.scenario.runner import plan, run
from twin.scenario.schema import Scenario
from twin.sims.interventions import apply_interventions, intervention_registry
from twin.sims.power import Power, PowerParams

X0, Y0 = 770000.0, 6280000.0  # Montpellier, Lambert-93
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pandapower")


def _apply(t: Twin, *ivs: dict[str, Any]) -> Twin:
    work = t.copy()
    reg = intervention_registry()
    apply_interventions(work, [reg[d["type"]].model.model_validate(d) for d in ivs])
    return work


def _kpis(t: Twin, **params: Any) -> dict[str, float]:
    r = Power().run(t, PowerParams(**params), {}, np.random.default_rng(0))
    return {k.name: k.value for k in r.kpis}


@pytest.fixture()
def feeder() -> Twin:
    """Two substations feeding a 4-section feeder with an open switch in its middle, plus
    buildings, shops and lamps (two cabinets) beside it."""
    pts = [(0, 0), (100, 0), (200, 0), (300, 0), (400, 0)]
    lines = gpd.GeoDataFrame(
        {"closed": [True, False, True, True]},
        geometry=[
            shapely.LineString([(X0 + a[0], Y0), (X0 + b[0], Y0)])
            for a, b in itertools.pairwise(pts)
        ],
        index=["L0", "L1", "L2", "L3"],
        crs=2154,
    )
    subs = gpd.GeoDataFrame(
        {"nom": ["West", "East"], "voltage_kv": [20.0, 20.0]},
        geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 400, Y0)],
        index=["W", "E"],
        crs=2154,
    )
    net = energy_network(lines, subs)
    t = Twin("feeder", CRS.from_epsg(2154))
    t.add(Layer("energy", "network", net, Provenance(source="test")))
    blds = [shapely.box(X0 + x - 5, Y0 + 20, X0 + x + 5, Y0 + 30) for x in (0, 100, 300, 5000)]
    t.add(Layer("buildings", "vector", gpd.GeoDataFrame(geometry=blds, crs=2154), Provenance("b")))
    shops = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 390, Y0 + 10)], crs=2154)
    t.add(Layer("shops", "vector", shops, Provenance("s")))
    lamps = gpd.GeoDataFrame(
        {"cabinet": ["C1", "C1", "C2", None]},
        geometry=[shapely.Point(X0 + x, Y0 + 8) for x in (0, 20, 380, 210)],
        crs=2154,
    )
    t.add(Layer("lamps", "vector", lamps, Provenance("l")))
    return t


def test_joins_and_substation_outage_by_name(feeder: Twin) -> None:
    layers = {"buildings_layer": "buildings", "shops_layer": "shops", "lamps_layer": "lamps"}
    base = _kpis(feeder, **layers)
    assert base["buses_deenergised"] == 0  # each half fed by its own substation
    assert base["features_not_joined"] == 1  # the building 5 km away
    assert "min_voltage_pu" not in base  # no pandapower net: connectivity only
    out = _apply(
        feeder,
        {"type": "substation_outage",
         "target": {"layer": "energy", "where": {"substation_nom": "West"}}},
    )  # fmt: skip
    k = _kpis(out, **layers)
    # West's half: nodes at 0 and 100 m; the open switch on L1 stops East from feeding it
    assert k["buses_deenergised"] == 2
    assert k["buildings_without_power"] == 2 and k["shops_without_power"] == 0
    assert k["cabinets_without_power"] == 1 and k["lamps_without_power"] == 2
    r = Power().run(out, PowerParams(**layers), {}, np.random.default_rng(0))
    cust = r.outputs["power_customers"].data
    assert cust.index.is_unique and cust.loc["lamps:1", "cabinet"] == "C1"
    assert cust.loc["lamps:1", "powered"] == 0 and cust.loc["lamps:2", "powered"] == 1
    assert np.isnan(cust.loc["buildings:3", "powered"])  # 5 km away: not joined
    # closing the switch back-feeds West's half from East
    close = {"type": "switch_close", "target": {"layer": "energy", "ids": ["L1"]}}
    k2 = _kpis(_apply(out, close), **layers)
    assert k2["buses_deenergised"] == 1 and k2["buildings_without_power"] == 1  # West itself


def test_targets_by_area_and_line_outage(feeder: Twin) -> None:
    area = shapely.box(X0 + 250, Y0 - 10, X0 + 350, Y0 + 10)
    gj = shapely.geometry.mapping(gpd.GeoSeries([area], crs=2154).to_crs(4326).iloc[0])
    out = _apply(feeder, {"type": "substation_outage", "target": {"layer": "energy",
                                                                  "geometry": gj}})  # fmt: skip
    nodes = out.layer("energy").data.nodes
    assert (~nodes["in_service"]).sum() == 1
    # the node at 300 m is out, and the one at 200 m hangs on it (L1 is open)
    assert _kpis(out)["buses_deenergised"] == 2
    cut = _apply(feeder, {"type": "line_outage", "target": {"layer": "energy", "ids": ["L2"]}})
    assert _kpis(cut)["buses_deenergised"] == 1  # the node at 200 m, between L1 (open) and L2


def test_planning_refuses_what_cannot_run(feeder: Twin) -> None:
    sc = Scenario.from_dict(
        {"name": "x", "simulations": ["power"],
         "parameters": {"power": {"power_flow": "on", "shops_layer": "boutiques"}}}
    )  # fmt: skip
    with pytest.raises(SchemaError) as err:
        plan(feeder, sc, {"x": sc})
    text = str(err.value)
    assert "shops_layer 'boutiques' is not a vector layer" in text
    sc2 = Scenario.from_dict(
        {"name": "x", "simulations": ["power"], "parameters": {"power": {"power_flow": "on"}}}
    )
    with pytest.raises(SchemaError, match="no pandapower model"):
        plan(feeder, sc2, {"x": sc2})
    with pytest.raises(SchemaError, match="have no switch"):
        _apply(_with_model(feeder), {"type": "switch_open",
                                     "target": {"layer": "energy", "ids": ["line0"]}})  # fmt: skip


def _with_model(feeder: Twin) -> Twin:
    """A twin whose network is a small pandapower net (3 buses, a line without a switch)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, geodata=(3.87 + 0.001 * i, 43.61)) for i in range(3)]
    pp.create_ext_grid(net, b[0])
    pp.create_line(net, b[0], b[1], 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_line(net, b[1], b[2], 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_load(net, b[2], p_mw=1.0)
    from twin.io.pandapower import _bus_points, _links, _nodes

    pts = _bus_points(net, CRS.from_epsg(4326), "test")
    nodes = _nodes(net, pts).to_crs(2154)
    links = _links(net, pts, CRS.from_epsg(4326))[0].to_crs(2154)
    t = Twin("pp", CRS.from_epsg(2154))
    model = EngineModel("pandapower", pp.to_json(net))
    t.add(Layer("energy", "network", Network(nodes, links, model), Provenance("pp")))
    return t


def test_a_net_without_electrical_parameters(feeder: Twin) -> None:
    """Line impedances missing: the power flow is refused at planning, naming the field and
    how to go on; connectivity alone still runs."""
    t = _with_model(feeder)
    net = t.layer("energy").data
    pp_net = pp.from_json_string(net.model.text)
    pp_net.line["r_ohm_per_km"] = np.nan
    net.model = EngineModel("pandapower", pp.to_json(pp_net))
    sc = Scenario.from_dict({"name": "x", "simulations": ["power"]})
    with pytest.raises(SchemaError) as err:
        plan(t, sc, {"x": sc})
    assert "line.r_ohm_per_km is missing on 2 lines ([0, 1])" in str(err.value)
    assert "power_flow: off" in str(err.value)
    off = Scenario.from_dict(
        {"name": "x", "simulations": ["power"], "parameters": {"power": {"power_flow": "off"}}}
    )
    r = run(t, off)
    assert r.kpis.loc["buses_deenergised", "value"] == 0
    # a pandapower network whose net was lost is not silently run without its power flow
    net.model = None
    with pytest.raises(SchemaError, match="was read from a pandapower net but no longer"):
        plan(t, sc, {"x": sc})


def test_a_flow_that_does_not_converge_is_reported(feeder: Twin) -> None:
    t = _with_model(feeder)
    ok = _kpis(t)
    assert ok["power_flow_converged"] == 1 and 0.9 < ok["min_voltage_pu"] < 1.0
    heavy = _apply(t, {"type": "ev_charging", "power_mw": 400,
                       "target": {"layer": "energy", "ids": ["2"]}})  # fmt: skip
    k = _kpis(heavy)
    assert k["power_flow_converged"] == 0
    assert np.isnan(k["min_voltage_pu"]) and np.isnan(k["max_line_loading_pct"])
    assert k["buses_deenergised"] == 0  # connectivity still reported
