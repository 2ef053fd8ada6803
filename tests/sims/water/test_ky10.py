"""ky10 (1,043 pipes) side by side with a direct WNTR run, and through ``twin run``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wntr
from wntr.network import LinkStatus
from wntr.network.controls import Control, ControlAction

from tests.sims.water.conftest import KY10
from twin.build import build
from twin.model.twin import Twin
from twin.scenario.runner import run as twin_run
from twin.sims.interventions import apply_interventions, intervention_registry
from twin.sims.water.sim import Water, WaterParams

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "ky10" / "pipe_break.yaml"
PIPE = "P-621"  # its N-2 valve segment holds 24 links
BREAK = {
    "type": "pipe_break",
    "target": {"layer": "water", "ids": [PIPE]},
    "mode": "closure",
    "start_h": 3,
    "duration_h": 5,
    "isolate_after_h": 0.5,
}


def direct_wntr() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """The same case written with WNTR alone: pressure, served and expected demand of the
    junctions, and the links shut."""
    wn = wntr.network.WaterNetworkModel(str(KY10))
    wn.options.time.duration = 24 * 3600  # ky10 is a snapshot: 24 h as the twin assumes
    wn.options.time.hydraulic_timestep = wn.options.time.report_timestep = 900
    h = wn.options.hydraulic
    h.demand_model, h.required_pressure, h.minimum_pressure, h.pressure_exponent = (
        "PDD", 20.0, 0.0, 0.5,
    )  # fmt: skip
    valves = wntr.network.generate_valve_layer(wn, "strategic", 2, seed=0)
    node_seg, link_seg, _ = wntr.metrics.valve_segments(wn.to_graph(), valves)
    seg = link_seg[PIPE]
    shut = set(link_seg.index[link_seg == seg])
    for node in node_seg.index[node_seg == seg]:
        shut |= set(wn.get_links_for_node(node))
    assert all(wn.get_link(n).link_type == "Pipe" for n in shut)  # no pump or valve to gate
    for name in sorted(shut):
        t0 = 3 * 3600 if name == PIPE else int(3.5 * 3600)
        for t, status, tag in ((t0, LinkStatus.Closed, "c"), (8 * 3600, LinkStatus.Open, "o")):
            act = ControlAction(wn.get_link(name), "status", status)
            wn.add_control(f"{tag}_{name}", Control._time_control(wn, t, "SIM_TIME", False, act))
    res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path("/tmp") / "ky10_direct"))
    junctions = wn.junction_name_list
    expected = wntr.metrics.expected_demand(wn)[junctions]
    return res.node["pressure"][junctions], res.node["demand"][junctions], expected, sorted(shut)


def test_ky10_matches_a_direct_wntr_run(ky10: Twin) -> None:
    reg = intervention_registry()
    work = ky10.copy()
    apply_interventions(work, [reg["pipe_break"].model.model_validate(BREAK)])
    r = Water().run(work, WaterParams(), {}, np.random.default_rng(0))
    j = r.outputs["water_junctions"].data
    pressure, served, expected, shut = direct_wntr()
    # links shut: the same segment
    flags = r.outputs["water_pipes"].data["shut_by_event"]
    assert sorted(flags.index[flags]) == shut and len(shut) == 24
    # identical hydraulics: lowest pressure of every junction
    assert np.allclose(j["min_pressure_m"], pressure[j.index].iloc[:-1].min(), atol=1e-4)
    assert np.allclose(j["pressure_m@5h"], pressure.loc[5 * 3600, j.index], atol=1e-4)
    # KPIs computed again from the direct run
    base = ky10["water"].nodes["base_demand_m3s"]
    dem = [n for n in j.index if base[n] > 0]
    # EPANET reports tiny negative demands at cut-off junctions: nothing is served there
    got = served[dem].clip(lower=0)
    lost = (expected[dem] - got).clip(lower=0).iloc[:-1].to_numpy().sum() * 900
    k = {x.name: x.value for x in r.kpis}
    assert k["volume_not_delivered_m3"] == pytest.approx(lost, rel=1e-4)
    share = lost / (expected[dem].iloc[:-1].to_numpy().sum() * 900)
    assert k["volume_not_delivered_share"] == pytest.approx(share, rel=1e-4)
    below = int((pressure[dem].iloc[:-1] < 14.0).any().sum())
    assert k["junctions_below_service"] == below
    # the break matters: more water is lost than in the baseline
    b = Water().run(ky10.copy(), WaterParams(), {}, np.random.default_rng(0))
    assert (
        k["volume_not_delivered_m3"]
        > {x.name: x.value for x in b.kpis}["volume_not_delivered_m3"] + 1
    )


def test_twin_run_of_a_break_on_ky10(tmp_path: Path) -> None:
    manifest = tmp_path / "ky10.yaml"
    manifest.write_text(
        "name: ky10\ncrs: EPSG:3089\nlayers:\n  water:\n    loader: epanet\n"
        "    source: pkg://wntr/library/networks/ky10.inp\n    options: {crs: 'EPSG:3089'}\n"
    )
    build(manifest, tmp_path / "twin")
    r = twin_run(tmp_path / "twin", SCENARIO, out=tmp_path / "runs")
    cmp = r.parent_comparison
    assert cmp is not None
    # the baseline goes through the same model: same KPIs, and the break loses more water
    assert set(cmp.kpis.index) >= {"volume_not_delivered_m3", "worst_deficit_h"}
    lost = cmp.kpis.loc["volume_not_delivered_m3"]
    assert lost["b"] == r.kpis.loc["volume_not_delivered_m3", "value"]
    assert lost["b"] > lost["a"] + 1 and lost["diff"] == pytest.approx(lost["b"] - lost["a"])
    assert cmp.kpis.loc["leak_volume_m3", "a"] == 0 < cmp.kpis.loc["leak_volume_m3", "b"]
    assert len(cmp.layers["water_junctions"].data) == 920
    assert r.path is not None
    en = (r.path / "notice.en.md").read_text(encoding="utf-8")
    fr = (r.path / "notice.fr.md").read_text(encoding="utf-8")
    assert "pressure-dependent demand (Wagner et al. 1988)" in en and "Water not delivered" in en
    assert "demande dépendant de la pression" in fr and "Eau non distribuée" in fr
    assert "over 24 h" in en and "sur 24 h" in fr


def _flows(t: Twin, ivs: list[dict[str, object]]) -> pd.DataFrame:
    """Link flows [m³/s] of a run of ``ivs`` on ``t`` (24 h, 15 min)."""
    from twin.sims.water import hydraulics as hy
    from twin.sims.water.sim import apply_plan, build_model, event_plan

    reg = intervention_registry()
    work = t.copy()
    apply_interventions(work, [reg[str(i["type"])].model.model_validate(i) for i in ivs])
    net = work["water"]
    m = build_model(net, WaterParams(), "test")
    plan = event_plan(net, m.wn, lambda: pd.DataFrame(columns=["link", "node"]), m.settings)
    added = apply_plan(m.wn, plan)
    junctions = list(net.nodes.index[net.nodes["node_type"] == "junction"])
    return hy.simulate(m.wn, junctions, list(net.links.index), added).flow


def test_a_pump_outage_holds_against_the_tank_controls(ky10: Twin) -> None:
    # ~@Pump-8 is switched by the level of tank T-13; during the outage the tank empties and
    # its control asks for the pump: the outage must win
    pump = "~@Pump-8"
    out = {"type": "pump_outage", "target": {"layer": "water", "ids": [pump]},
           "start_h": 2, "duration_h": 8}  # fmt: skip
    base, cut = _flows(ky10, []), _flows(ky10, [out])
    window = (base.index >= 2 * 3600) & (base.index < 10 * 3600)
    assert (base.loc[window, pump] > 1e-3).sum() >= 8  # the pump runs in the baseline
    # EPANET gives a closed link a tiny conductance: at most a few 1e-5 m³/s cross it
    assert np.abs(cut.loc[window, pump]).max() < 1e-4 < base.loc[window, pump].max() / 100
    assert (cut.loc[~window, pump] > 1e-3).any()  # and runs again after the outage
