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
