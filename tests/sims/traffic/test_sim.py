"""The traffic plugin on the demo twin: demand from buildings, a closure reroutes flows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.scenario.runner import run
from twin.sims.traffic.sim import TrafficParams, zone_demand
from twin.store.twinstore import open_twin

ROOT = Path(__file__).resolve().parents[3]


def test_demand_is_balanced_and_plausible(demo_dir: Path) -> None:
    t = open_twin(demo_dir)
    od, info = zone_demand(t["roads"], t["buildings"], t["shops"], TrafficParams())
    assert info["zones"] >= 20 and 1000 < info["trips"] < 50_000
    assert (od["trips"] > 0).all() and (od["origin"] != od["destination"]).all()
    nodes = set(t["roads"].nodes.index)
    assert set(od["origin"]) <= nodes and set(od["destination"]) <= nodes


def test_closure_reroutes_flows(demo_dir: Path, tmp_path: Path) -> None:
    r = run(demo_dir, ROOT / "scenarios" / "closure.yaml", out=tmp_path)
    assert r.manifest["simulations_order"][0] == "traffic"
    assert r.kpis.loc["relative_gap", "value"] <= 1e-4
    diff = pd.read_parquet(r.path / "compare" / "link_flows.parquet")
    flows = r.outputs["link_flows"].data
    closed = flows["closed"].to_numpy()
    assert closed.sum() == 96 and (flows.loc[closed, "flow_veh_h"] == 0).all()
    d = diff["flow_veh_h_diff"]
    assert d[closed].sum() < -100  # traffic leaves the closed artery…
    assert (d[~closed] > 1).sum() > 20  # …and is found on other streets
    # the closure warm-started from the baseline's paths, solved in the same process
    prov = r.outputs["link_flows"].provenance
    assert prov.counts["warm_started"] == 1 and prov.counts["warm_reused_paths"] > 100
    assert prov.counts["iterations_saved"] == (
        prov.counts["parent_iterations"] - prov.counts["assignment_iterations"]
    )
    assert any("warm-started from the parent run's equilibrium (gp" in s for s in prov.steps)
    # a parent run read back from disk (a new process) has no paths: gp solves cold, says so
    shutil.rmtree(r.path)
    again = run(demo_dir, ROOT / "scenarios" / "closure.yaml", out=tmp_path)
    prov = again.outputs["link_flows"].provenance
    assert prov.counts["warm_started"] == 0
    assert any("not warm-started: the parent's paths are not in memory" in s for s in prov.steps)
    assert again.kpis.loc["vehicle_km", "value"] == pytest.approx(
        r.kpis.loc["vehicle_km", "value"], rel=1e-3
    )
    comp = pd.read_csv(r.path / "compare" / "kpis.csv", index_col="kpi")
    assert np.isfinite(comp.loc["vehicle_km", "diff"])
    assert comp.loc["vehicle_hours", "b"] > 0


@pytest.mark.parametrize("bad", [{"zone_size_m": 0}, {"rgap": 2}, {"colour": 1}])
def test_bad_parameters(bad: dict) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        TrafficParams.model_validate(bad)


def test_adaptive_lighting_driven_by_modelled_flows(demo_dir: Path) -> None:
    """Coupling: traffic flows of the same run drive EN 13201 adaptive dimming."""
    from twin.scenario.schema import Scenario

    def scenario(adaptive: bool) -> Scenario:
        return Scenario.from_dict(
            {
                "name": f"adaptive-{adaptive}",
                "parent": None,
                "simulations": ["traffic", "lighting"],
                "parameters": {
                    "lighting": {
                        "timezone": "Europe/Helsinki",
                        "adaptive": adaptive,
                        "roads_layer": "roads",
                    }
                },
            }
        )

    on = run(demo_dir, scenario(True), compare_parent=False)
    off = run(demo_dir, scenario(False), compare_parent=False)
    assert on.manifest["simulations_order"] == ["traffic", "lighting"]
    steps = on.outputs["lamp_energy"].provenance.steps
    assert any("traffic simulation's link flows" in s for s in steps)
    saved = off.kpis.loc["energy_kwh_year", "value"] - on.kpis.loc["energy_kwh_year", "value"]
    assert saved > 0.05 * off.kpis.loc["energy_kwh_year", "value"]
