"""A corpus of territories twin was not written for, built, run and exported as a new user
would (issue I): momepy's Bubeneč (Prague, Web Mercator, buildings without heights, streets
without attributes), WNTR's ky10 water network (Kentucky feet), the Épinay-sur-Orge Etalab
cadastre, and Montpellier's own open data.

For each: ``twin build``, every applicable built-in scenario, ``twin export`` (twin and runs),
``twin info --json``; no traceback (every command exits 0), finite headline KPIs, network
lengths within 0.5 % of geodesic, provenance in the exports.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from twin.cli import main
from twin.scenario.runner import run
from twin.scenario.schema import Scenario
from twin.store.twinstore import open_twin

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: Territory → (manifest, scenarios to run as {name: (simulations, parameters)}).
CORPUS = {
    "bubenec": (
        HERE / "bubenec.yaml",
        {
            "access": (["accessibility"], {"accessibility": {"network_layer": "streets"}}),
            "traffic": (
                ["traffic"],
                {"traffic": {"network_layer": "streets", "shops_layer": None, "zone_size_m": 150}},
            ),
            "heat": (["landcover", "heat"], {"heat": {"spinup_hours": 6, "svf_directions": 8}}),
        },
    ),
    "ky10": (HERE / "ky10.yaml", {}),
    "epinay": (HERE / "epinay.yaml", {}),
    "montpellier": (
        ROOT / "layers" / "montpellier.yaml",
        {
            "closure": (
                ["traffic", "accessibility"],
                {
                    "traffic": {"network_layer": "streets", "shops_layer": "shops"},
                    "accessibility": {"network_layer": "streets"},
                },
            ),
        },
    ),
}


@pytest.fixture(scope="module", params=sorted(CORPUS))
def territory(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.param
    out = tmp_path_factory.mktemp(name) / "twin"
    assert main(["build", str(CORPUS[name][0]), "--out", str(out)]) == 0
    return name, out


def test_info_json(territory, capsys: pytest.CaptureFixture[str]) -> None:
    _, d = territory
    capsys.readouterr()
    assert main(["info", str(d), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["layers"] and all(v["provenance"]["licence"] for v in info["layers"].values())


def test_lengths_are_geodesic(territory) -> None:
    name, d = territory
    t = open_twin(d)
    geod = Geod(ellps="WGS84")
    for lname, lay in t.layers.items():
        if lay.kind != "network" or "line_id" not in lay.data.links:
            continue  # EPANET pipes carry their declared lengths, not drawn ones
        links = lay.data.links.sample(min(300, len(lay.data.links)), random_state=0)
        truth = np.array([geod.geometry_length(g) for g in links.geometry.to_crs(4326)])
        rel = np.abs(links["length_m"].to_numpy() / truth - 1.0)
        assert rel.max() < 0.005, (name, lname, rel.max())


def test_scenarios_run_and_export(territory, tmp_path: Path) -> None:
    name, d = territory
    for sname, (sims, params) in CORPUS[name][1].items():
        sc = Scenario.from_dict(
            {"name": sname, "parent": None, "simulations": sims, "parameters": params}
        )
        r = run(d, sc, out=tmp_path / "runs")
        head = r.kpis[r.kpis["headline"].astype(bool)]["value"].astype(float)
        assert len(head) and np.isfinite(head).all(), (name, sname, head[~np.isfinite(head)])
        assert r.path is not None
        gpkg = tmp_path / f"{sname}.gpkg"
        assert main(["export", str(r.path), "--out", str(gpkg)]) == 0
        _assert_provenance(gpkg)


def test_twin_export_has_provenance(territory, tmp_path: Path) -> None:
    _, d = territory
    gpkg = tmp_path / "twin.gpkg"
    assert main(["export", str(d), "--out", str(gpkg)]) == 0
    _assert_provenance(gpkg)


def _assert_provenance(gpkg: Path) -> None:
    with sqlite3.connect(gpkg) as db:
        rows = list(db.execute("SELECT layer, licence, producer FROM twin_provenance"))
    assert rows and all(lic and lic != "unknown" for _, lic, _ in rows), rows
