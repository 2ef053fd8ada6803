"""Hostile and broken input gives a clear TwinError (exit code 2), never a traceback.

Fixed cases of broken manifests (missing files, wrong encoding, wrong CRS, invalid
geometries, zip entries with ``../`` names, huge numbers) go through ``twin build``; scenario
files are mutated at random with a fixed seed (deleted keys, wrong types, huge and negative
numbers, odd text) and validated and planned on the demo twin: each is accepted or refused
with a TwinError, never another exception.
"""

from __future__ import annotations

import copy
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from twin.cli import main
from twin.errors import TwinError
from twin.scenario.runner import load_library, plan
from twin.scenario.schema import Scenario
from twin.sims.interventions import apply_interventions
from twin.store.twinstore import open_twin

ROOT = Path(__file__).resolve().parents[1]


def _districts(montpellier: Path) -> Path:
    return montpellier / "VilleMTP_MTP_Quartiers" / "VilleMTP_MTP_Quartiers.geojson"


def _cases(tmp: Path, montpellier: Path) -> dict[str, str]:
    """Manifests (YAML text) that must be refused, by what is wrong with them."""
    districts = _districts(montpellier)
    (tmp / "latin1.csv").write_bytes("x;y;nom\n1;2;Pérou\n".encode("latin-1"))
    (tmp / "lonlat.csv").write_text("x;y\n3.87;43.61\n3.88;43.62\n")
    (tmp / "bad_geom.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}}]}'
    )
    with zipfile.ZipFile(tmp / "evil.zip", "w") as z:
        z.writestr("../../escape.geojson", districts.read_text(encoding="utf-8"))
    layer = "layers:\n  x: {{loader: {loader}, source: {source}, options: {options}}}\n"
    return {
        "missing file": "name: t\n"
        + layer.format(loader="vector", source="nope.gpkg", options="{}"),
        "unknown loader": "name: t\n" + layer.format(loader="nope", source=districts, options="{}"),
        "bad option": "name: t\n"
        + layer.format(loader="vector", source=districts, options="{colour: red}"),
        "wrong encoding": "name: t\n"
        + layer.format(
            loader="vector", source="latin1.csv", options="{x: x, y: y, crs: 'EPSG:2154'}"
        ),
        "wrong crs": "name: t\n"
        + layer.format(
            loader="vector", source="lonlat.csv", options="{x: x, y: y, crs: 'EPSG:2154'}"
        ),
        "unknown crs": "name: t\ncrs: EPSG:999999\n"
        + layer.format(loader="vector", source=districts, options="{}"),
        "invalid geometry": "name: t\n"
        + layer.format(loader="vector", source="bad_geom.geojson", options="{}"),
        "zip slip": "name: t\n" + layer.format(loader="vector", source="evil.zip", options="{}"),
        "huge resolution": "name: t\n"
        + layer.format(loader="vector", source=districts, options="{}")
        + "derived:\n  lc: {resolution_m: 1e300, inputs: {buildings: x}}\n",
        "not a mapping": "- just\n- a list\n",
        "empty": "",
        "binary": "\x00\x01\x02",
    }


def test_broken_manifests_are_refused_clearly(
    montpellier: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failures = {}
    for what, text in _cases(tmp_path, montpellier).items():
        m = tmp_path / "m.yaml"
        m.write_text(text, encoding="utf-8")
        capsys.readouterr()
        rc = main(["build", str(m), "--out", str(tmp_path / "out" / what.replace(" ", "_"))])
        err = capsys.readouterr().err
        if rc != 2 or "Traceback" in err or "twin: error:" not in err:
            failures[what] = (rc, err[-300:])
    assert not failures, failures
    assert not (tmp_path.parent / "escape.geojson").exists()


def _mutate(data: Any, rng: random.Random) -> Any:
    """One random change somewhere in a parsed scenario."""
    odd: list[Any] = [None, -1, 0, 1e308, -1e308, float("nan"), "", "é" * 300, [], {}, True,
                      "22:99", "2027-02-30", 10**30, {"type": "Point"}]  # fmt: skip
    if isinstance(data, dict) and data:
        k = rng.choice(sorted(data, key=str))
        r = rng.random()
        if r < 0.2:
            del data[k]
        elif r < 0.6 and isinstance(data[k], (dict, list)):
            data[k] = _mutate(data[k], rng)
        else:
            data[k] = rng.choice(odd)
    elif isinstance(data, list) and data:
        i = rng.randrange(len(data))
        data[i] = _mutate(data[i], rng) if rng.random() < 0.6 else rng.choice(odd)
    return data


def test_mutated_scenarios_are_accepted_or_refused_clearly(demo_dir: Path) -> None:
    twin = open_twin(demo_dir)
    rng = random.Random(20261207)
    originals = {p.name: yaml.safe_load(p.read_text()) for p in (ROOT / "scenarios").glob("*.yaml")}
    lib = load_library(ROOT / "scenarios", Scenario.from_yaml(ROOT / "scenarios" / "closure.yaml"))
    bugs = []
    for i in range(300):
        name = rng.choice(sorted(originals))
        data = copy.deepcopy(originals[name])
        for _ in range(rng.randint(1, 3)):
            data = _mutate(data, rng)
        try:
            sc = Scenario.from_dict(data, where=f"{name} mutant {i}")
            planned = plan(twin, sc, {**lib, sc.name: sc})
            apply_interventions(twin.copy(), planned.interventions)
        except TwinError:
            continue
        except Exception as exc:  # anything else is a bug to report
            bugs.append((name, i, type(exc).__name__, str(exc)[:200], data))
    assert not bugs, bugs[:5]


def test_path_traversal_is_refused(montpellier: Path, tmp_path: Path, demo_dir: Path) -> None:
    """A layer named ``../../X`` or a twin.json naming files outside layers/ writes and reads
    nothing outside the twin directory."""
    import json
    import shutil

    from twin.errors import StoreError

    districts = _districts(montpellier)
    m = tmp_path / "m.yaml"
    m.write_text(f"name: t\nlayers:\n  ../../X: {{loader: vector, source: {districts}}}\n")
    assert main(["build", str(m), "--out", str(tmp_path / "a" / "b" / "twin")]) == 2
    assert not list(tmp_path.rglob("X*"))
    copy = tmp_path / "copy"
    shutil.copytree(demo_dir, copy)
    manifest = json.loads((copy / "twin.json").read_text())
    files = manifest["layers"]["shops"]["files"]
    manifest["layers"]["shops"]["files"] = {"../../../etc/passwd": next(iter(files.values()))}
    (copy / "twin.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="not a plain file name"):
        open_twin(copy)


@pytest.mark.parametrize(
    ("target", "expect"),
    [
        ({"crs": ""}, "unknown CRS"),
        ({"crs": "EPSG:0"}, "unknown CRS"),
        ({"coords": [[500, 60.1], [501, 60.1], [501, 60.2], [500, 60.1]]}, "not longitudes"),
    ],
)
def test_bad_inline_geometries_are_clear(demo_dir: Path, target: dict, expect: str) -> None:
    ring = target.get("coords", [[24.94, 60.168], [24.946, 60.168], [24.946, 60.171],
                                 [24.94, 60.168]])  # fmt: skip
    tgt = {"layer": "landcover", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    if "crs" in target:
        tgt["crs"] = target["crs"]
    sc = Scenario.from_dict(
        {
            "name": "t",
            "parent": None,
            "interventions": [{"type": "plant_trees", "target": tgt}],
            "simulations": ["landcover"],
        }
    )
    twin = open_twin(demo_dir)
    with pytest.raises(TwinError, match=expect):
        apply_interventions(twin.copy(), plan(twin, sc, {"t": sc}).interventions)


def test_one_bad_sibling_does_not_break_its_folder(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("name: good\nparent: null\nsimulations: [landcover]\n")
    (tmp_path / "huge.yaml").write_text("x: 1\n" * 1_100_000)
    (tmp_path / "dup.yaml").write_text("name: a\nname: b\n")
    sc = Scenario.from_yaml(tmp_path / "good.yaml")
    assert set(load_library(None, sc)) == {"good"}


def test_nonsense_is_refused(demo_dir: Path, montpellier: Path, tmp_path: Path) -> None:
    """Silent acceptance of nonsense (issue O, item 9)."""
    twin = open_twin(demo_dir)
    mall = {
        "type": "shopping_centre",
        "location": {"layer": "shops", "geometry": {"type": "Point", "coordinates": [0, 0]}},
        "floor_area_m2": 20000,
    }
    sc = Scenario.from_dict(
        {"name": "m", "parent": None, "interventions": [mall], "simulations": ["commerce"]}
    )
    with pytest.raises(TwinError, match="km outside the layer 'shops'"):
        apply_interventions(twin.copy(), sc.interventions)
    steps = [{"start": "23:00", "level": 0.5}, {"start": "23:00", "level": 0.2}]
    dim = {"type": "dimming_schedule", "target": {"layer": "street_lamps"}, "schedule": steps}
    with pytest.raises(TwinError, match="more than once"):
        Scenario.from_dict({"name": "d", "interventions": [dim], "simulations": ["lighting"]})
    with pytest.raises(TwinError, match="tariff_eur_kwh"):
        plan(
            twin,
            s := Scenario.from_dict(
                {
                    "name": "t",
                    "parent": None,
                    "simulations": ["lighting"],
                    "parameters": {"lighting": {"tariff_eur_kwh": float("inf")}},
                }
            ),
            {"t": s},
        )
    districts = _districts(montpellier)
    m = tmp_path / "m.yaml"
    m.write_text(
        f"name: t\ncrs: EPSG:4326\nlayers:\n  d: {{loader: vector, source: {districts}}}\n"
    )
    assert main(["build", str(m), "--out", str(tmp_path / "o")]) == 2


def test_mutated_store_manifests_are_refused_clearly(demo_dir: Path, tmp_path: Path) -> None:
    """Seeded mutations of twin.json and run.json: opened, or a TwinError; never another
    exception (they are read back by every command and by the viewer)."""
    import json
    import shutil

    from twin.scenario.runner import Run, run

    rng = random.Random(11)
    twin_copy = tmp_path / "twin"
    shutil.copytree(demo_dir, twin_copy)
    sc = Scenario.from_dict({"name": "lc", "parent": None, "simulations": ["landcover"]})
    r = run(twin_copy, sc, out=tmp_path / "runs")
    assert r.path is not None
    targets = [(twin_copy / "twin.json", open_twin), (r.path / "run.json", Run.open)]
    bugs = []
    for path, opener in targets:
        original = json.loads(path.read_text())
        for i in range(60):
            data = _mutate(copy.deepcopy(original), rng)
            text = json.dumps(data) if i % 7 else json.dumps(data)[: rng.randrange(1, 200)]
            path.write_text(text)
            try:
                opener(path.parent)
            except TwinError:
                continue
            except Exception as exc:  # anything else is a bug to report
                bugs.append((path.name, i, type(exc).__name__, str(exc)[:160]))
        path.write_text(json.dumps(original))
    assert not bugs, bugs[:5]
