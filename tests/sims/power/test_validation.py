"""Validation on pandapower's real ``mv_oberrhein`` network (20 kV, 179 buses).

* Connectivity: for **each** single line, switch and transformer outage, the nodes the kernel
  finds de-energised are exactly ``pandapower.topology.unsupplied_buses`` on the same
  modified net.
* Power flow: after an outage, a switching operation and EV load, the simulation's voltages
  and loadings are pandapower's own ``runpp`` on the net modified through pandapower's API.
* A run of a substation outage through the runner, compared with its parent.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandapower.topology as top
import pandas as pd
import pytest

from twin.model.twin import Twin
from twin.scenario.runner import Run, run
from twin.scenario.schema import Scenario
from twin.sims.interventions import apply_interventions, intervention_registry
from twin.sims.power import Power, PowerParams
from twin.sims.power.flow import supply

#: pandapower's own calls below warn that its shipped net predates its tap_dependency_table
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pandapower")


@pytest.fixture(scope="module")
def pp_net() -> Any:
    return pn.mv_oberrhein()


def _deenergised(twin: Twin) -> set[int]:
    nodes = twin.layer("energy").data.nodes
    on, _ = supply(twin.layer("energy").data)
    off = ~on & nodes["in_service"].to_numpy()
    return set(nodes.loc[off, "pp_index"].astype(int))


def _outage(twin: Twin, link: str, kind: str) -> Twin:
    work = twin.copy()
    model = intervention_registry()[kind].model
    target = {"layer": "energy", "ids": [link]}
    apply_interventions(work, [model.model_validate({"type": kind, "target": target})])
    return work


def test_every_single_branch_outage_matches_pandapower_topology(
    oberrhein_twin: Twin, pp_net: Any
) -> None:
    """All 181 lines and 2 transformers taken out one at a time, and each of the 316 closed
    line switches opened one at a time: de-energised buses == unsupplied_buses."""
    links = oberrhein_twin.layer("energy").data.links
    checked, nonempty = 0, 0
    for link, row in links.iterrows():
        ref = copy.deepcopy(pp_net)
        table = "line" if row["link_type"] == "line" else "trafo"
        ref[table].loc[row["pp_index"], "in_service"] = False
        expected = top.unsupplied_buses(ref)
        got = _deenergised(_outage(oberrhein_twin, str(link), "line_outage"))
        assert got == expected, link
        checked += 1
        nonempty += bool(expected)
    sw = pp_net.switch
    for i in sw.index[sw["closed"].astype(bool)]:
        ref = copy.deepcopy(pp_net)
        ref.switch.loc[i, "closed"] = False
        expected = top.unsupplied_buses(ref)
        line = f"line{int(sw.at[i, 'element'])}"
        work = oberrhein_twin.copy()
        # one switch of a line: the line is open (its 'closed' column), like pandapower's graph
        work.layer("energy").data.links.loc[line, "closed"] = False
        assert _deenergised(work) == expected, i
        checked += 1
    assert checked == 181 + 2 + 316
    assert nonempty > 100  # most outages of a radial network cut buses off: the test can fail


def test_closing_a_sectioning_point_restores_supply(oberrhein_twin: Twin, pp_net: Any) -> None:
    """An outage cuts a feeder end; closing the open sectioning point next to it back-feeds
    it, in pandapower's topology as in ours."""
    opened = pp_net.switch.index[~pp_net.switch["closed"].astype(bool)]
    line = int(pp_net.switch.at[opened[0], "element"])
    ref = copy.deepcopy(pp_net)
    ref.switch.loc[opened[0], "closed"] = True
    cut = None
    for other in ref.line.index:
        r2 = copy.deepcopy(ref)
        r2.line.loc[other, "in_service"] = False
        base = copy.deepcopy(pp_net)
        base.line.loc[other, "in_service"] = False
        if top.unsupplied_buses(base) and not top.unsupplied_buses(r2):
            cut = other
            break
    assert cut is not None
    work = _outage(oberrhein_twin, f"line{cut}", "line_outage")
    assert _deenergised(work)
    model = intervention_registry()["switch_close"].model
    iv = model.model_validate(
        {"type": "switch_close", "target": {"layer": "energy", "ids": [f"line{line}"]}}
    )
    apply_interventions(work, [iv])
    assert _deenergised(work) == set()


def test_power_flow_equals_pandapower_runpp(oberrhein_twin: Twin, pp_net: Any) -> None:
    """Line 40 out, the sectioning point on line 23 closed, 2 MW of EV charging on buses 80
    and 81: our voltages and loadings == pandapower's runpp of the same net."""
    work = oberrhein_twin.copy()
    reg = intervention_registry()
    ivs = [
        {"type": "line_outage", "target": {"layer": "energy", "ids": ["line40"]}},
        {"type": "switch_close", "target": {"layer": "energy", "ids": ["line23"]}},
        {"type": "ev_charging", "target": {"layer": "energy", "ids": ["80", "81"]},
         "power_mw": 2.0},
    ]  # fmt: skip
    apply_interventions(work, [reg[d["type"]].model.model_validate(d) for d in ivs])
    r = Power().run(work, PowerParams(), {}, np.random.default_rng(0))
    ref = copy.deepcopy(pp_net)
    ref.line.loc[40, "in_service"] = False
    ref.switch.loc[
        ref.switch.index[(ref.switch.et == "l") & (ref.switch.element == 23)], "closed"
    ] = True
    for bus in (80, 81):
        pp.create_load(ref, bus, p_mw=1.0, q_mvar=0.0)
    pp.runpp(ref)
    nodes = r.outputs["power_nodes"].data
    vm = pd.Series(nodes["vm_pu"].to_numpy(), index=nodes.index.astype(int))
    np.testing.assert_allclose(vm.sort_index(), ref.res_bus["vm_pu"].sort_index(), rtol=1e-10)
    links = r.outputs["power_links"].data
    lines = links[links["link_type"] == "line"]
    ours = pd.Series(lines["loading_percent"].to_numpy(), index=[int(i[4:]) for i in lines.index])
    np.testing.assert_allclose(
        ours.sort_index(), ref.res_line["loading_percent"].sort_index(), rtol=1e-9, atol=1e-9
    )
    k = {x.name: x.value for x in r.kpis}
    assert k["min_voltage_pu"] == pytest.approx(ref.res_bus["vm_pu"].min())
    assert k["max_line_loading_pct"] == pytest.approx(ref.res_line["loading_percent"].max())
    unsupplied = top.unsupplied_buses(ref)
    assert k["buses_deenergised"] == len(unsupplied)


def test_substation_outage_run_against_its_parent(oberrhein_dir: Path, tmp_path: Path) -> None:
    """HV/MV transformer 0's station out, targeted by name: its whole side of the network
    is de-energised; KPIs compared with the parent; notices in both languages."""
    sc = Scenario.from_dict(
        {
            "name": "station_out",
            "parent": "baseline",
            "interventions": [
                {
                    "type": "substation_outage",
                    "target": {"layer": "energy", "where": {"substation": "HV/MV Transformer 0"}},
                    "label": "poste source 0",
                }
            ],
            "simulations": ["power"],
        }
    )
    r = run(oberrhein_dir, sc, out=tmp_path)
    net = pn.mv_oberrhein()
    trafo = net.trafo.index[net.trafo["name"] == "HV/MV Transformer 0"][0]
    net.bus.loc[[net.trafo.at[trafo, "hv_bus"], net.trafo.at[trafo, "lv_bus"]], "in_service"] = (
        False
    )
    lost = top.unsupplied_buses(net) | set(net.bus.index[~net.bus["in_service"]])
    k = r.parent_comparison.kpis
    assert k.loc["buses_deenergised", "a"] == 0
    assert k.loc["buses_deenergised", "b"] == len(lost) > 50
    load = (net.load["p_mw"] * net.load["scaling"])[net.load["bus"].isin(lost)].sum()
    assert k.loc["load_not_supplied_mw", "b"] == pytest.approx(load)
    assert k.loc["load_not_supplied_mw", "a"] == 0
    assert k.loc["power_flow_converged", "b"] == 1
    en = (r.path / "notice.en.md").read_text(encoding="utf-8")
    fr = (r.path / "notice.fr.md").read_text(encoding="utf-8")
    assert "breadth-first search" in en and "Thurner" in en
    assert "parcours en largeur" in fr and "Nœuds hors tension" in fr
    nodes = r.outputs["power_nodes"].data
    assert int((nodes["energised"] == 0).sum()) == len(lost)


def test_power_flow_after_each_single_outage_equals_runpp(
    oberrhein_twin: Twin, pp_net: Any
) -> None:
    """Each of the 181 lines and 2 transformers out, one at a time (islands included):
    the simulation's flow == pandapower's runpp on the same net, bus by bus, line by line."""
    from twin.sims.power.flow import power_flow

    links = oberrhein_twin.layer("energy").data.links
    chosen = links.index
    for link in chosen:
        work = _outage(oberrhein_twin, str(link), "line_outage")
        ours = power_flow(work.layer("energy").data, max_iteration=30, tolerance_mva=1e-8)
        ref = copy.deepcopy(pp_net)
        row = links.loc[link]
        ref["line" if row["link_type"] == "line" else "trafo"].loc[
            row["pp_index"], "in_service"
        ] = False
        pp.runpp(ref)
        assert ours.converged, link
        vm = pd.Series(ours.vm_pu.to_numpy(), index=ours.vm_pu.index.astype(int)).sort_index()
        np.testing.assert_allclose(vm, ref.res_bus["vm_pu"].sort_index(), rtol=1e-10)
        lines = ours.loading_percent[links["link_type"] == "line"]
        got = pd.Series(lines.to_numpy(), index=[int(i[4:]) for i in lines.index]).sort_index()
        np.testing.assert_allclose(got, ref.res_line["loading_percent"].sort_index(), atol=1e-9)
    assert len(chosen) == 183


def test_twin_run_from_the_command_line(oberrhein_dir: Path, tmp_path: Path) -> None:
    """``twin run`` of a line outage scenario file on the saved twin: KPIs and notices."""
    import subprocess
    import sys

    sc = tmp_path / "line_out.yaml"
    sc.write_text(
        "name: line_out\nparent: baseline\nsimulations: [power]\n"
        "interventions:\n"
        "  - {type: line_outage, target: {layer: energy, ids: [line40]}, label: câble 40}\n",
        encoding="utf-8",
    )
    root = Path(__file__).resolve().parents[3]
    cmd = [sys.executable, "-m", "twin.cli", "run", str(sc), "--twin", str(oberrhein_dir)]
    r = subprocess.run(
        [*cmd, "--out", str(tmp_path / "runs")],
        capture_output=True, text=True, cwd=root, timeout=600, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (run_dir,) = [d for d in (tmp_path / "runs").iterdir() if d.name.startswith("line_out-")]
    kpis = pd.read_csv(run_dir / "kpis.csv").set_index("kpi")
    ref = pn.mv_oberrhein()
    ref.line.loc[40, "in_service"] = False
    assert kpis.loc["buses_deenergised", "value"] == len(top.unsupplied_buses(ref)) > 0
    assert (run_dir / "notice.fr.md").is_file() and (run_dir / "notice.en.md").is_file()


def test_n1_sweep_equals_pandapower_topology_for_every_branch(
    oberrhein_twin: Twin, pp_net: Any
) -> None:
    """The N-1 connectivity sweep (one numba call) gives, for every line and transformer,
    the number and the load of the buses ``unsupplied_buses`` finds when it is out."""
    from twin.sims.power.criticality import link_criticality

    net = oberrhein_twin.layer("energy").data
    crit = link_criticality(net)
    links = net.links
    assert len(crit) == int((links["in_service"] & links["closed"]).sum())
    ld = pp_net.load[pp_net.load["in_service"].astype(bool)]
    load = (ld["p_mw"] * ld["scaling"]).groupby(ld["bus"]).sum()
    for link, row in crit.iterrows():
        ref = copy.deepcopy(pp_net)
        i = links.at[link, "pp_index"]
        ref["line" if links.at[link, "link_type"] == "line" else "trafo"].loc[i, "in_service"] = (
            False
        )
        cut = top.unsupplied_buses(ref)
        assert row["nodes_cut"] == len(cut), link
        assert row["load_cut_mw"] == pytest.approx(float(load.reindex(list(cut)).sum()), abs=1e-9)
    assert crit["critical"].sum() > 10 and crit["rank"].min() == 1
    worst = crit.sort_values("rank").iloc[0]
    assert worst["load_cut_mw"] == crit["load_cut_mw"].max()


def test_outage_area_and_its_drawing(oberrhein_dir: Path, tmp_path: Path) -> None:
    """Transformer 0 out: the outage area holds exactly the de-energised buses and their
    load; the viewer draws it as its area layer (flat polygons, legend with the unit)."""
    from twin.sims.power.sim import OUTAGE_BUFFER_M
    from twin.viewer.layers import result_slots, run_layers

    root = Path(__file__).resolve().parents[3]
    r = run(oberrhein_dir, root / "scenarios" / "oberrhein" / "transformer_outage.yaml",
            out=tmp_path)  # fmt: skip
    k = r.kpis["value"]
    area = r.outputs["power_outage_area"].data
    assert len(area) >= 1 and area.geom_type.isin(["Polygon"]).all()
    assert area["buses_off"].sum() == k["buses_deenergised"] > 0
    assert area["load_off_mw"].sum() == pytest.approx(k["load_not_supplied_mw"])
    nodes = r.outputs["power_nodes"].data
    off = nodes[nodes["energised"] == 0]
    assert area.union_all().buffer(1e-6).contains(off.geometry).all()
    assert area.area.sum() >= np.pi * OUTAGE_BUFFER_M**2
    slots = result_slots(r)
    assert set(slots) == {"points", "paths", "areas"}
    assert slots["areas"][1] == "load_off_mw"
    side = run_layers(r)
    assert side["areas"]["legend"]["unit"] == "MW"
    assert side["areas"]["legend"]["title"]["fr"].startswith("Zone privée d'électricité")
    parent = Run.open(next(d for d in tmp_path.iterdir() if d.name.startswith("baseline-")))
    assert len(parent.outputs["power_outage_area"].data) == 0


def test_the_criticality_layer_can_be_picked_in_the_viewer(
    oberrhein_dir: Path, tmp_path: Path
) -> None:
    """Every declared result of a power run is offered to the viewer's picker; picking the
    N-1 criticality draws it in the line slot instead of the loadings."""
    from twin.viewer.layers import result_choices, result_slots

    root = Path(__file__).resolve().parents[3]
    r = run(oberrhein_dir, root / "scenarios" / "oberrhein" / "transformer_outage.yaml",
            out=tmp_path)  # fmt: skip
    values = [c["value"] for c in result_choices(r, "fr")]
    assert "power_criticality/load_cut_mw" in values and "power_links/loading_percent" in values
    label = next(c["label"] for c in result_choices(r, "fr") if c["value"].startswith("power_cri"))
    assert label == "Charge coupée par sa défaillance (power_criticality)"
    assert result_slots(r)["paths"][1] == "loading_percent"
    picked = result_slots(r, prefer="power_criticality/load_cut_mw")
    assert picked["paths"][1] == "load_cut_mw" and picked["points"][1] == "energised"
