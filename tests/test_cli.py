"""The ``twin`` command line: clear errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twin.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_build_and_info_json(tmp_path: Path, shared_data: Path) -> None:
    r = run("build", "layers/templates/etalab_cadastre.yaml", "--out", str(tmp_path / "t"))
    assert r.returncode == 0, r.stderr
    r = run("info", str(tmp_path / "t"), "--json")
    info = json.loads(r.stdout)
    assert info["crs"] == "EPSG:2154"
    lay = info["layers"]["parcels"]
    assert lay["kind"] == "vector" and lay["count"] == 4241
    assert lay["provenance"]["licence"] == "etalab-2.0"
    assert set(lay["provenance"]) >= {
        "source",
        "producer",
        "licence",
        "retrieved",
        "steps",
        "personal_data",
        "sensitivity",
    }


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("name: x\nlayers:\n  a: {loader: nope, source: x.gpkg}\n")
    r = run("build", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "unknown loader 'nope'" in r.stderr
    assert not (tmp_path / "o").exists()
    r = run("info", str(tmp_path))
    assert r.returncode == 2 and "not a twin directory" in r.stderr and "Traceback" not in r.stderr


def test_output_to_a_closed_pipe_ends_quietly(demo_dir: Path) -> None:
    """``twin info DIR | head -1``: the reader leaves early; no traceback, exit code 0."""
    twin_bin = Path(sys.executable).parent / "twin"
    for attempt in range(3):  # the reader closes before the writer writes
        proc = subprocess.Popen(
            [str(twin_bin), "info", str(demo_dir), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 0, (attempt, err)
        assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_a_scenario_without_simulation_is_refused(demo_dir: Path, tmp_path: Path) -> None:
    """It would make a run with no result (that a later run would find in the cache)."""
    sc = tmp_path / "empty.yaml"
    sc.write_text("name: empty\nparent: baseline\nsimulations: []\n")
    r = run("run", str(sc), "--twin", str(demo_dir), "--out", str(tmp_path / "runs"))
    assert r.returncode == 2 and "runs no simulation" in r.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
