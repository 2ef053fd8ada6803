"""What every simulation declares is complete, and what the engine makes of it is true.

The notice names the parameters actually used (each simulation with non-default values, in
both languages); every KPI and output has its unit and labels in both languages; every
intervention is read by some simulation (pipe breaks by the water one, substation outages by
the power one) and one that no planned simulation reads is refused at planning.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import CRS

from twin.errors import SchemaError
from twin.model.twin import Twin
from twin.scenario.runner import plan, run
from twin.scenario.schema import Scenario
from twin.sims.interventions import intervention_registry
from twin.sims.registry import registry

#: For each simulation: non-default parameters and what its notice must then say (en, fr).
NON_DEFAULT = {
    "traffic": (
        {"algorithm": "bfw", "zone_size_m": 400, "rgap": 1e-5},
        ("bi-conjugate Frank–Wolfe", "400 m zones", "1e-05"),
        ("Frank–Wolfe biconjugué", "zones de 400 m", "1e-05"),
    ),
    "accessibility": ({"n_origins": 37}, ("up to 37 origin",), ("au plus 37 carrefours",)),
    "shop_access": (
        {"threshold_s": 600, "max_snap_m": 80},
        ("600 s", "within 80 m"),
        ("600 s", "moins de 80 m"),
    ),
    "heat": (
        {"svf_directions": 8, "tmax_c": 35, "tmin_c": 22},
        ("8 directions", "35 °C / 22 °C"),
        ("8 directions", "35 °C / 22 °C"),
    ),
    "lighting": ({"cutoff_m": 80, "maintenance_factor": 0.7}, ("80 m", "0.7"), ("80 m", "0.7")),
    "water": (
        {"required_pressure_m": 25, "service_pressure_m": 18, "valve_n": 1},
        ("above 25 m", "Service pressure: 18 m", "n = 1"),
        ("au-dessus de 25 m", "Pression de service : 18 m", "n = 1"),
    ),
    "power": (
        {"max_join_m": 150, "max_loading_pct": 80, "power_flow": "off"},
        ("within 150 m", "above 80 %", "power flow: not run"),
        ("moins de 150 m", "plus de 80 %", "calcul : non effectué"),
    ),
    "commerce": (
        {"huff_beta": 1.5, "mode": "walk"},
        ("time exponent 1.5", "on foot"),
        ("exposant de temps 1.5", "à pied"),
    ),
}


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_notice_names_the_parameters_used(name: str) -> None:
    sim = registry()[name]()
    values, en, fr = NON_DEFAULT[name]
    params = sim.params_model.model_validate(values)
    for lang, wanted in (("en", en), ("fr", fr)):
        t = sim.notice_text(params, lang)
        text = f"{t.purpose} {t.method} {t.limits}"
        for w in wanted:
            assert w in text, (name, lang, w)
        assert "{" not in text, (name, lang)  # every placeholder filled


def test_traffic_notice_follows_the_algorithm() -> None:
    sim = registry()["traffic"]()
    gp = sim.notice_text(sim.params_model.model_validate({"algorithm": "gp"}), "en")
    assert "gradient projection" in gp.method and "Frank" not in gp.method


@pytest.mark.parametrize("name", sorted(registry()))
def test_declarations_are_complete(name: str) -> None:
    cls = registry()[name]
    assert set(cls.title) == {"en", "fr"} and set(cls.notice) == {"en", "fr"}
    assert cls.kpis, name
    for k in cls.kpis:
        assert k.unit and k.better in ("lower", "higher", "neutral"), k
        assert all(k.label[g] and k.description[g] for g in ("en", "fr")), k
    for out, hints in cls.displays.items():
        assert out in cls.outputs, (name, out)
        for h in hints:
            assert h.unit and all(h.label[g] for g in ("en", "fr")), h
    assert set(cls.consumes) <= set(intervention_registry()), name
    default = cls.params_model()
    for lang in ("en", "fr"):
        cls().notice_text(default, lang)  # formats with the defaults


def test_every_intervention_has_a_reader() -> None:
    read = {t for c in registry().values() for t in c.consumes}
    assert set(intervention_registry()) <= read


def test_a_substation_outage_needs_the_power_simulation() -> None:
    """Read when ``power`` is planned; refused when it is not."""
    from tests.sims.power.oberrhein import oberrhein_layer
    from twin.sims.power.interventions import POWER_INTERVENTIONS

    assert "substation_outage" in POWER_INTERVENTIONS
    layer = oberrhein_layer()
    t = Twin("o", layer.crs)
    t.add(layer)
    ivs = [{"type": "substation_outage", "target": {"layer": "energy", "ids": ["39"]}}]
    ok = Scenario.from_dict({"name": "s", "interventions": ivs, "simulations": ["power"]})
    assert [s.name for s, _ in plan(t, ok, {"s": ok}).sims] == ["power"]
    no = Scenario.from_dict({"name": "s", "interventions": ivs, "simulations": ["landcover"]})
    with pytest.raises(SchemaError, match="substation_outage"):
        plan(t, no, {"s": no})


def test_an_unread_intervention_is_refused_at_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = Scenario.from_dict(
        {
            "name": "outage",
            "interventions": [
                {"type": "substation_outage", "target": {"layer": "grid", "ids": ["S1"]}}
            ],
            "simulations": ["landcover"],
        }
    )
    with pytest.raises(SchemaError) as err:
        plan(Twin("t", CRS.from_epsg(2154)), sc, {"outage": sc})
    text = str(err.value)
    assert "interventions[0] (substation_outage): no planned simulation reads its effect" in text
    assert "add one of ['power'] to simulations" in text
    # without an installed reader, the fix says to remove the intervention
    from importlib import import_module

    sims = import_module("twin.sims.registry")  # the module (the package exports the function)
    every = sims.registry()
    monkeypatch.setattr(sims, "registry", lambda: {k: v for k, v in every.items() if k != "power"})
    with pytest.raises(SchemaError, match="no installed simulation reads it yet"):
        plan(Twin("t", CRS.from_epsg(2154)), sc, {"outage": sc})


def test_a_pipe_break_is_read_by_the_water_simulation_only() -> None:
    import wntr

    from twin.io.epanet import read_epanet
    from twin.model.layer import Layer

    ky10 = Path(wntr.__file__).parent / "library" / "networks" / "ky10.inp"
    net, prov = read_epanet(ky10, crs="EPSG:3089")
    t = Twin("ky10", net.links.crs)
    t.add(Layer("water", "network", net, prov))
    brk = {"type": "pipe_break", "target": {"layer": "water", "ids": ["P-621"]}}
    for sims, refused in ((["landcover"], True), (["water"], False)):
        sc = Scenario.from_dict({"name": "break", "interventions": [brk], "simulations": sims})
        if refused:
            with pytest.raises(SchemaError, match=r"add one of \['water'\] to simulations"):
                plan(t, sc, {"break": sc})
        else:
            assert [s.name for s, _ in plan(t, sc, {"break": sc}).sims] == ["water"]


def test_a_run_writes_the_notice_of_its_parameters(demo_dir: Path, tmp_path: Path) -> None:
    sc = Scenario.from_dict(
        {
            "name": "access",
            "parent": None,
            "simulations": ["accessibility"],
            "parameters": {"accessibility": {"n_origins": 37}},
        }
    )
    r = run(demo_dir, sc, out=tmp_path)
    assert r.path is not None
    assert "up to 37 origin junctions" in (r.path / "notice.en.md").read_text(encoding="utf-8")
    fr = (r.path / "notice.fr.md").read_text(encoding="utf-8")
    assert "au plus 37 carrefours" in fr and "**Temps moyen de parcours**" in fr
    kpis = r.kpis
    assert kpis.loc["mean_travel_time_s", "label_fr"] == "Temps moyen de parcours"
    assert bool(kpis.loc["mean_travel_time_s", "headline"])
