"""Runner: coupling, cache, reproducibility, atomic run store, comparison, notice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from twin.errors import SchemaError
from twin.scenario.runner import Run, run, twin_fingerprint
from twin.scenario.schema import Scenario
from twin.store.twinstore import open_twin

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


def test_closure_reroutes_and_compares(demo_dir: Path, tmp_path: Path) -> None:
    r = run(demo_dir, SCEN / "closure.yaml", out=tmp_path)
    assert not r.from_cache and r.path is not None and r.path.parent == tmp_path
    assert r.manifest["simulations_order"] == ["traffic", "accessibility", "shop_access"]
    assert r.manifest["parent"] == "baseline"
    comp = pd.read_csv(r.path / "compare" / "kpis.csv", index_col="kpi")
    assert comp.loc["mean_travel_time_s", "diff"] > 0  # closing the artery slows the centre
    assert comp.loc["unreachable_pair_share", "diff"] > 0
    assert comp.loc["shop_mean_access_time_s", "diff"] > 0
    diff = pd.read_parquet(r.path / "compare" / "node_access.parquet")
    assert (diff["access_time_s_diff"].dropna() != 0).sum() > 100
    m = json.loads((r.path / "run.json").read_text())
    for key in (
        "inputs",
        "parameters",
        "code_version",
        "timings",
        "peak_memory_mb",
        "energy_estimate_wh",
        "cpu_time_s",
        "seed",
    ):
        assert key in m
    assert m["energy_estimate_wh"] == pytest.approx(m["cpu_time_s"] * 10 / 3600, abs=1e-6)
    assert set(m["inputs"]["twin_layers"]) >= {"roads", "shops", "landcover"}


def test_same_scenario_same_hashes_and_cache(demo_dir: Path, tmp_path: Path) -> None:
    a = run(demo_dir, SCEN / "closure.yaml", out=tmp_path / "a", compare_parent=False)
    b = run(demo_dir, SCEN / "closure.yaml", out=tmp_path / "b", compare_parent=False)
    assert a.run_id == b.run_id
    ha = {k: v["sha256"] for k, v in a.manifest["outputs"].items()}
    hb = {k: v["sha256"] for k, v in b.manifest["outputs"].items()}
    assert ha == hb
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    c = run(demo_dir, SCEN / "closure.yaml", out=tmp_path / "a", compare_parent=False)
    assert c.from_cache and c.path == a.path
    pd.testing.assert_frame_equal(c.kpis, a.kpis, check_dtype=False)
    # another seed samples other origins: another key, other numbers
    sc = Scenario.from_yaml(SCEN / "closure.yaml").model_copy(update={"seed": 7})
    d = run(demo_dir, sc, out=tmp_path / "a", compare_parent=False, library={})
    assert d.run_id != a.run_id
    assert d.kpis.loc["mean_travel_time_s", "value"] != a.kpis.loc["mean_travel_time_s", "value"]


def test_kill_during_run_leaves_store_readable(demo_dir: Path, tmp_path: Path) -> None:
    first = run(demo_dir, SCEN / "trees.yaml", out=tmp_path)
    script = textwrap.dedent(f"""
        import os, signal
        import twin.scenario.runner as rr
        import twin.scenario.notice as nt
        def die(r, folder):
            os.kill(os.getpid(), signal.SIGKILL)
        nt.write_notices = die
        rr.run({str(demo_dir)!r}, {str(SCEN / "closure.yaml")!r}, out={str(tmp_path)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert proc.returncode == -9
    assert not any(p.name.startswith("closure-") for p in tmp_path.iterdir())
    pd.testing.assert_frame_equal(Run.open(first.path).kpis, first.kpis, check_dtype=False)
    again = run(demo_dir, SCEN / "closure.yaml", out=tmp_path)
    assert not again.from_cache and (again.path / "run.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_parent_twin_never_mutated(demo_dir: Path) -> None:
    t = open_twin(demo_dir)
    before = twin_fingerprint(t)
    r = run(t, SCEN / "trees.yaml")
    assert r.path is None and r.kpis.loc["canopy_area_m2", "value"] > 0
    assert twin_fingerprint(t) == before


def test_notice_lists_every_licence_and_parameter(demo_dir: Path, tmp_path: Path) -> None:
    r = run(demo_dir, SCEN / "closure.yaml", out=tmp_path)
    for lang in ("fr", "en"):
        md = (r.path / f"notice.{lang}.md").read_text()
        html = (r.path / f"notice.{lang}.html").read_text()
        assert "<table>" in html and "http" not in html.split("<body>")[0]
        for name, d in r.manifest["data"].items():
            assert f"| {name} |" in md and d["provenance"]["licence"] in md
        from twin.sims.registry import get_simulation

        for sim, params in r.manifest["parameters"].items():
            title = get_simulation(sim).title[lang]  # the simulation by its title
            for k in params:
                assert f"| {title} | `{k}` |" in md, (sim, k)
        assert "Mannerheimintie" in md
    assert "aide à la décision" in (r.path / "notice.fr.md").read_text()
    assert "temps moyen de parcours" in (r.path / "notice.fr.md").read_text()
    assert "decision support" in (r.path / "notice.en.md").read_text()
    # what the interventions did, in each notice's language (closure.yaml: roadworks)
    en, fr = r.manifest["interventions_applied"], r.manifest["interventions_applied_fr"]
    assert len(en) == len(fr) == len(r.applied) and en == r.applied
    assert en[0].startswith("roadworks on ") and fr[0].startswith("travaux sur ")
    assert fr[0] in (r.path / "notice.fr.md").read_text()
    assert en[0] in (r.path / "notice.en.md").read_text()
    assert en[0] not in (r.path / "notice.fr.md").read_text()


def test_coupling_order_and_plan_errors(demo_dir: Path) -> None:
    sc = Scenario.from_dict({"name": "x", "simulations": ["shop_access", "accessibility"]})
    r = run(demo_dir, sc, compare_parent=False)
    assert r.manifest["simulations_order"] == ["accessibility", "shop_access"]
    bad = Scenario.from_dict(
        {
            "name": "bad",
            "simulations": ["shop_access", "heat_wave", "accessibility"],
            "parameters": {
                "accessibility": {"n_origins": 0, "colour": 1, "network_layer": "tramways"}
            },
            "kpis": ["happiness"],
        }
    )
    with pytest.raises(SchemaError) as err:
        run(demo_dir, bad)
    text = str(err.value)
    for part in (
        "unknown simulation 'heat_wave'",
        "parameters.accessibility.n_origins",
        "parameters.accessibility.colour: unknown field",
        "kpis: 'happiness'",
    ):
        assert part in text, part
    alone = Scenario.from_dict({"name": "alone", "simulations": ["shop_access"]})
    with pytest.raises(SchemaError, match="needs the output 'node_access'"):
        run(demo_dir, alone)
    tram = Scenario.from_dict(
        {
            "name": "t",
            "simulations": ["accessibility"],
            "parameters": {"accessibility": {"network_layer": "tramways"}},
        }
    )
    with pytest.raises(SchemaError, match="needs a network layer 'tramways'"):
        run(demo_dir, tram)


def test_parent_chains(demo_dir: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(SCEN / "closure.yaml", lib)
    (lib / "more.yaml").write_text(
        textwrap.dedent("""
        name: more
        parent: closure
        interventions:
          - type: close_links
            target: {layer: roads, where: {name: Pohjoisesplanadi}}
        simulations: [accessibility]
    """)
    )
    r = run(demo_dir, lib / "more.yaml", out=tmp_path / "runs")
    assert len(r.applied) == 2 and r.manifest["parent"] == "closure"
    comp = pd.read_csv(r.path / "compare" / "kpis.csv", index_col="kpi")
    assert comp.loc["open_network_km", "diff"] < 0  # more closed than its parent
    (lib / "loop_a.yaml").write_text("name: loop_a\nparent: loop_b\n")
    (lib / "loop_b.yaml").write_text("name: loop_b\nparent: loop_a\n")
    with pytest.raises(SchemaError, match="cycle"):
        run(demo_dir, lib / "loop_a.yaml")
    (lib / "orphan.yaml").write_text("name: orphan\nparent: nowhere\n")
    with pytest.raises(SchemaError, match="parent 'nowhere'"):
        run(demo_dir, lib / "orphan.yaml")


def test_cli_run_and_compare(demo_dir: Path, tmp_path: Path) -> None:
    def cli(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "twin.cli", *a], capture_output=True, text=True, timeout=600
        )

    r = cli("run", str(SCEN / "trees.yaml"), "--twin", str(demo_dir), "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "canopy_area_m2" in r.stdout and "compared with its parent" in r.stdout
    runs = sorted(tmp_path.iterdir())
    base = next(p for p in runs if p.name.startswith("baseline-"))
    trees = next(p for p in runs if p.name.startswith("trees-"))
    r = cli("compare", str(base), str(trees), "--json")
    out = json.loads(r.stdout)
    kpis = {k["kpi"]: k for k in out["kpis"]}
    assert kpis["canopy_area_m2"]["diff"] > 10_000
    assert out["layers"]["landcover"]["trees"]["changed"] > 50
    r = cli("compare", str(base), str(trees))
    assert "canopy_area_m2" in r.stdout and "layer landcover" in r.stdout
    r = cli("run", str(tmp_path / "none.yaml"), "--twin", str(demo_dir))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cli("schema", "scenario")
    assert json.loads(r.stdout)["title"] == "twin scenario"
