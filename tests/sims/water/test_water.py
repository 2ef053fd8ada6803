"""The water simulation: an analytic branched network, events, errors and interventions."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from tests.sims.water.conftest import BRANCHED, DEMANDS, branched_twin
from twin.errors import InputError, SchemaError, TwinError
from twin.model.layer import Layer
from twin.model.network import EngineModel
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import SimResult
from twin.sims.interventions import apply_interventions, intervention_registry
from twin.sims.water.hydraulics import LEAK_DISCHARGE_COEFF
from twin.sims.water.sim import Water, WaterParams


def run(t: Twin, ivs: list[dict[str, Any]] = (), **params: Any) -> SimResult:  # type: ignore[assignment]
    """Apply ``ivs`` to a copy of ``t`` and run the water simulation on it."""
    reg = intervention_registry()
    work = t.copy()
    apply_interventions(work, [reg[iv["type"]].model.model_validate(iv) for iv in ivs])
    return Water().run(work, WaterParams(**params), {}, np.random.default_rng(0))


def kpis(r: SimResult) -> dict[str, float]:
    return {k.name: k.value for k in r.kpis}


def brk(pipe: str, **kw: Any) -> dict[str, Any]:
    return {"type": "pipe_break", "target": {"layer": "water", "ids": [pipe]}, **kw}


def test_baseline_serves_everything(branched: Twin) -> None:
    r = run(branched)
    j = r.outputs["water_junctions"].data
    assert (j["min_pressure_m"] > 50).all()
    assert np.allclose(j["served_fraction"], 1.0)
    # 8 h of constant demand
    assert j["expected_m3"].to_dict() == pytest.approx(
        {k: v * 8 * 3600 for k, v in DEMANDS.items()}
    )
    k = kpis(r)
    assert k["volume_not_delivered_m3"] == pytest.approx(0, abs=1e-6)
    assert k["buildings_without_water"] == 0 and k["worst_deficit_h"] == 0


def test_closure_cuts_the_branch_exactly(branched: Twin) -> None:
    r = run(branched, [brk("P2", mode="closure", isolate=False, start_h=2, duration_h=4)])
    j = r.outputs["water_junctions"].data
    cut = ["J2", "J3"]
    # the junctions beyond P2 get nothing for 4 h, the others everything
    assert j.loc[cut, "hours_without_water_h"].tolist() == [4.0, 4.0]
    assert j.loc[cut, "longest_outage_h"].tolist() == [4.0, 4.0]
    assert j.loc[["J1", "J4"], "hours_without_water_h"].tolist() == [0.0, 0.0]
    lost = (DEMANDS["J2"] + DEMANDS["J3"]) * 4 * 3600  # 72 m³
    k = kpis(r)
    assert k["volume_not_delivered_m3"] == pytest.approx(lost, rel=1e-4)
    assert k["volume_not_delivered_share"] == pytest.approx(lost / (0.010 * 8 * 3600), rel=1e-4)
    assert k["junctions_without_water"] == 2 and k["worst_deficit_h"] == 4
    # one building by J3 is without water 4 h; the far one is joined to no junction
    b = r.outputs["water_buildings"].data
    assert b.loc["b3", "junction"] == "J3" and b.loc["b3", "hours_without_water_h"] == 4
    assert b.loc["b4", "junction"] == "J4" and not b.loc["b4", "without_water"]
    assert pd.isna(b.loc["bx", "junction"]) and np.isnan(b.loc["bx", "distance_m"])
    assert k["buildings_without_water"] == 1 and k["building_hours_without_water"] == 4
    p = r.outputs["water_pipes"].data
    assert p.loc["P2", "hours_closed_h"] == 4 and p.loc["P2", "shut_by_event"]


def test_isolation_shuts_the_valve_segment(branched: Twin) -> None:
    # one valve, on P2 next to J1: the segment of P3 is P2, J2, P3, J3
    valves = gpd.GeoDataFrame({"link": ["P2"], "node": ["J1"]}, geometry=[None], crs=branched.crs)
    branched.add(Layer("valves", "vector", valves, Provenance(source="test")))
    alone = run(
        branched, [brk("P3", isolate=False, start_h=1, duration_h=2)], valves_layer="valves"
    )
    seg = run(
        branched,
        [brk("P3", isolate=True, isolate_after_h=0, start_h=1, duration_h=2)],
        valves_layer="valves",
    )
    ja, js = alone.outputs["water_junctions"].data, seg.outputs["water_junctions"].data
    assert ja.loc["J2", "hours_without_water_h"] == 0 and ja.loc["J3", "hours_without_water_h"] == 2
    assert js.loc[["J2", "J3"], "hours_without_water_h"].tolist() == [2.0, 2.0]
    assert js.loc[["J1", "J4"], "hours_without_water_h"].tolist() == [0.0, 0.0]
    shut = seg.outputs["water_pipes"].data["shut_by_event"]
    assert sorted(shut.index[shut]) == ["P2", "P3"]


def test_leak_loses_water_through_an_orifice(branched: Twin) -> None:
    d = 0.01
    r = run(
        branched,
        [brk("P4", mode="leak", leak_diameter_m=d, isolate=False, start_h=2, duration_h=3)],
    )
    k = kpis(r)
    # the orifice sits at mid-P4, between J1 and J4: its pressure lies between theirs
    j = r.outputs["water_junctions"].data
    c = LEAK_DISCHARGE_COEFF * math.pi * d**2 / 4 * math.sqrt(2 * 9.81)
    lo = c * math.sqrt(j.loc["J4", "min_pressure_m"]) * 3 * 3600
    hi = c * math.sqrt(60.0) * 3 * 3600
    assert lo < k["leak_volume_m3"] < hi
    assert k["volume_not_delivered_m3"] == pytest.approx(0, abs=1e-6)  # pressure stays high


def test_demand_change_scales_the_window(branched: Twin) -> None:
    iv = {"type": "demand_change", "target": {"layer": "water", "ids": ["J4"]}, "factor": 1.5,
          "start_h": 2, "duration_h": 4}  # fmt: skip
    j = run(branched, [iv]).outputs["water_junctions"].data
    assert j.loc["J4", "expected_m3"] == pytest.approx(DEMANDS["J4"] * 3600 * (4 + 4 * 1.5))
    assert j.loc["J1", "expected_m3"] == pytest.approx(DEMANDS["J1"] * 8 * 3600)


def test_source_outage_empties_the_network(branched: Twin) -> None:
    iv = {"type": "source_outage", "target": {"layer": "water", "ids": ["R"]}, "start_h": 6,
          "duration_h": 2}  # fmt: skip
    k = kpis(run(branched, [iv]))
    assert k["volume_not_delivered_m3"] == pytest.approx(0.010 * 2 * 3600, rel=1e-4)
    assert k["junctions_without_water"] == 4


def test_events_beyond_the_period_are_refused(branched: Twin) -> None:
    with pytest.raises(InputError, match="end after the simulated period of 8 h"):
        run(branched, [brk("P2", start_h=6, duration_h=4)])


@pytest.mark.parametrize(
    ("iv", "match"),
    [
        (brk("P9"), "1 ids are not in layer 'water'"),
        ({"type": "pump_outage", "target": {"layer": "water", "ids": ["P1"]}}, "not pumps"),
        ({"type": "source_outage", "target": {"layer": "water", "ids": ["J1"]}}, "no reservoir"),
        ({"type": "pipe_break", "target": {"layer": "buildings", "ids": ["b3"]}}, "not a network"),
    ],
)
def test_bad_targets_are_named(branched: Twin, iv: dict[str, Any], match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        run(branched, [iv])


def test_two_events_on_one_pipe_are_refused(branched: Twin) -> None:
    with pytest.raises(SchemaError, match="already have a water event"):
        run(branched, [brk("P2"), brk("P2", start_h=1)])


def test_network_without_source_or_disconnected(tmp_path: Path) -> None:
    orphan = BRANCHED.replace("P4 J1 J4 100 200 130 0 Open\n", "")
    t = branched_twin(tmp_path, orphan)
    problems = Water().check(t, WaterParams())
    assert len(problems) == 1 and "['J4']" in problems[0] and "no reservoir or tank" in problems[0]
    with pytest.raises(InputError, match="J4"):
        run(t)
    dry = (
        BRANCHED.replace("R 60\n", "")
        .replace("P1 R J1", "P1 J4 J1")
        .replace(f"R {700000.0} {6600000.0}\n", "")
    )
    t2 = branched_twin(tmp_path, dry)
    assert "no source" in Water().check(t2, WaterParams())[0]


def test_a_network_without_an_epanet_model_is_refused(branched: Twin) -> None:
    net = branched["water"]
    net.model = EngineModel("pandapower", "{}")
    problems = Water().check(branched, WaterParams())
    assert "not an EPANET water network (engine model: pandapower)" in problems[0]
    with pytest.raises(TwinError, match="not an EPANET"):
        run(branched, [brk("P2")])


def test_parameters_are_bounded() -> None:
    with pytest.raises(ValueError, match="minimum_pressure_m must be below"):
        WaterParams(required_pressure_m=10, minimum_pressure_m=12)
    for name, f in WaterParams.model_fields.items():
        if f.annotation in (int, float):
            m = {type(x).__name__ for x in f.metadata}
            assert m & {"Ge", "Gt"} and m & {"Le", "Lt"}, name


def test_isolating_a_leak_stops_it(branched: Twin) -> None:
    valves = gpd.GeoDataFrame({"link": ["P2"], "node": ["J1"]}, geometry=[None], crs=branched.crs)
    branched.add(Layer("valves", "vector", valves, Provenance(source="test")))
    leak = {"mode": "leak", "leak_diameter_m": 0.01, "start_h": 2, "duration_h": 3}
    free = kpis(run(branched, [brk("P3", isolate=False, **leak)], valves_layer="valves"))
    shut = kpis(
        run(branched, [brk("P3", isolate=True, isolate_after_h=1, **leak)], valves_layer="valves")
    )
    # steady demands: the leak is the same each hour until its segment is shut, after 1 h of 3
    assert shut["leak_volume_m3"] == pytest.approx(free["leak_volume_m3"] / 3, rel=1e-3)
    assert shut["volume_not_delivered_m3"] == pytest.approx((0.002 + 0.003) * 2 * 3600, rel=1e-4)


def test_a_three_day_period_without_warnings(branched: Twin) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. pandas' fragmented-frame warning
        r = run(branched, [brk("P2", isolate=False, start_h=30, duration_h=2)], duration_h=72)
    j = r.outputs["water_junctions"].data
    assert "pressure_m@71h" in j and "pressure_m@72h" not in j
    assert j.loc["J2", "served_fraction@30h"] < 1e-9 and j.loc[
        "J2", "served_fraction@32h"
    ] == pytest.approx(1, rel=1e-4)
    assert j.loc["J3", "expected_m3"] == pytest.approx(DEMANDS["J3"] * 72 * 3600)


def test_elements_added_for_events_fit_epanet_ids(tmp_path: Path) -> None:
    # EPANET ids have at most 31 characters; a leak splits the pipe and adds three elements
    long = "P2_" + "x" * 28
    t = branched_twin(tmp_path, BRANCHED.replace("P2 J1 J2", f"{long} J1 J2"))
    r = run(t, [brk(long, mode="leak", isolate=False, start_h=1, duration_h=2)])
    assert kpis(r)["leak_volume_m3"] > 0
    assert r.outputs["water_pipes"].data.index.tolist() == ["P1", long, "P3", "P4"]


def test_a_link_closed_in_the_twin_table_is_shut(branched: Twin) -> None:
    work = branched.copy()
    work["water"].links.loc["P2", "status"] = "Closed"  # an edit of the twin, not of the file
    j = run(work).outputs["water_junctions"].data
    assert j.loc[["J2", "J3"], "hours_without_water_h"].tolist() == [8.0, 8.0]
    assert j.loc[["J1", "J4"], "hours_without_water_h"].tolist() == [0.0, 0.0]


def test_leak_matches_wntr_own_leak_model(branched: Twin, tmp_path: Path) -> None:
    """The EPANET emitter leak against WNTR's leak model (WNTRSimulator), which converges on
    this small network: same orifice law, independent solvers."""
    import wntr

    r = run(branched, [brk("P4", mode="leak", leak_diameter_m=0.01, isolate=False,
                           start_h=2, duration_h=3)])  # fmt: skip
    inp = tmp_path / "direct.inp"
    inp.write_text(BRANCHED)
    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.hydraulic_timestep = wn.options.time.report_timestep = 900
    h = wn.options.hydraulic
    h.demand_model, h.required_pressure, h.minimum_pressure, h.pressure_exponent = (
        "PDD", 20.0, 0.0, 0.5,
    )  # fmt: skip
    wntr.morph.split_pipe(wn, "P4", "P4b", "L", return_copy=False)
    area = math.pi * 0.01**2 / 4
    wn.get_node("L").add_leak(wn, area=area, discharge_coeff=0.75, start_time=7200, end_time=18000)
    res = wntr.sim.WNTRSimulator(wn).run_sim()
    direct = res.node["leak_demand"]["L"].to_numpy()[:-1].sum() * 900
    assert kpis(r)["leak_volume_m3"] == pytest.approx(direct, rel=1e-4)  # 21.82 m³
    j = r.outputs["water_junctions"].data
    assert np.allclose(j["pressure_m@3h"], res.node["pressure"].loc[3 * 3600, j.index], atol=1e-4)


def test_n1_criticality_of_the_branched_network(branched: Twin) -> None:
    """Every pipe's break with one valve (on P2 next to J1): P2 or P3 shuts the segment
    {P2, J2, P3, J3} (J2 and J3 cut off: 5 L/s, building b3); P1 or P4 shuts the segment
    {P1, J1, P4, J4} and the valve on P2, which cuts every junction off (10 L/s)."""
    valves = gpd.GeoDataFrame({"link": ["P2"], "node": ["J1"]}, geometry=[None], crs=branched.crs)
    branched.add(Layer("valves", "vector", valves, Provenance(source="test")))
    r = run(branched, valves_layer="valves")
    c = r.outputs["water_criticality"].data
    assert c.loc[["P2", "P3"], "junctions_cut"].tolist() == [2, 2]
    assert c.loc[["P2", "P3"], "demand_cut_l_s"].tolist() == pytest.approx([5.0, 5.0])
    assert c.loc[["P2", "P3"], "buildings_cut"].tolist() == [1, 1]  # b3 by J3
    assert c.loc[["P1", "P4"], "junctions_cut"].tolist() == [4, 4]
    assert c.loc[["P1", "P4"], "demand_cut_l_s"].tolist() == pytest.approx([10.0, 10.0])
    assert c.loc["P1", "rank"] == 1 and c["critical"].all()
    k = kpis(r)
    assert k["pipes_cutting_supply"] == 4 and k["worst_break_demand_l_s"] == pytest.approx(10.0)


def test_n1_criticality_of_ky10_matches_networkx(ky10: Twin) -> None:
    """On ky10 (1,043 pipes, WNTR's strategic valves), each pipe's isolation set taken out:
    the junctions cut off are those networkx finds cut from every reservoir and tank."""
    import networkx as nx

    from twin.sims.water.criticality import pipe_criticality
    from twin.sims.water.hydraulics import open_model
    from twin.sims.water.segments import ValvePolicy, isolation_sets, valve_layer

    net = ky10.layer("water").data
    wn = open_model(net.model.text)
    valves = valve_layer(wn, None, ValvePolicy("strategic", 2, 0))
    crit = pipe_criticality(net, wn, valves)
    assert len(crit) == 1043
    g = nx.MultiGraph()
    g.add_nodes_from(net.nodes.index)
    open_ = net.links[net.links["status"] != "Closed"]
    g.add_edges_from(zip(open_["a_node"], open_["b_node"], open_.index, strict=True))
    sources = net.nodes.index[net.nodes["node_type"].isin(["tank", "reservoir"])]
    junctions = set(net.nodes.index[net.nodes["node_type"] == "junction"])
    sets = isolation_sets(wn, valves, list(crit.index))
    rng = np.random.default_rng(0)
    for pipe in rng.choice(crit.index, 60, replace=False):
        h = g.copy()
        h.remove_edges_from([(u, v, k) for u, v, k in h.edges(keys=True) if k in sets[pipe]])
        fed = set().union(*(nx.node_connected_component(h, s) for s in sources))
        assert crit.loc[pipe, "junctions_cut"] == len(junctions - fed), pipe
