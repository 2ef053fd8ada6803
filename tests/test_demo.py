"""The demo command builds the Helsinki twin offline, as the README promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def test_demo_builds_helsinki_offline(demo_build: tuple[Path, Any]) -> None:
    tmp_path, r = demo_build
    out = tmp_path / "demo"
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "twin.cli", "info", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    info = json.loads(r.stdout)
    assert info["crs"] == "EPSG:32635"
    lay = info["layers"]
    assert lay["buildings"]["count"] >= 400
    assert lay["roads"]["kind"] == "network" and lay["roads"]["count"] >= 500
    assert lay["street_lamps"]["count"] >= 500
    assert lay["shops"]["count"] >= 400
    assert lay["landuse"]["count"] > 0 and lay["natural"]["count"] > 0
    assert lay["landcover"]["kind"] == "grid"
    for name, entry in lay.items():
        p = entry["provenance"]
        assert p["licence"] == "ODbL-1.0", name
        assert p["producer"] == "OpenStreetMap contributors", name
        assert p["personal_data"] is False
    assert "height_m" in lay["buildings"]["provenance"]["derived"]

    import twin

    t = twin.Twin.open(out)
    assert (t["buildings"]["height_m"] > 0).all()
    lc = t["landcover"]
    total = sum(
        lc[c] for c in ("roof", "road", "concrete", "water", "trees", "grass", "irrigated_grass")
    )
    np.testing.assert_allclose(total, 1.0, atol=1e-5)
    # rasterised roofs cover the building footprints (±1 %)
    roof_m2 = float(lc["roof"].sum()) * 100.0
    assert abs(roof_m2 / t["buildings"].union_all().area - 1) < 0.01

    # the network demos, built beside it from networks shipped with WNTR and pandapower
    from twin.scenario.runner import Run

    def runs_of(name: str) -> dict[str, Run]:
        found = [Run.open(d) for d in sorted((tmp_path / f"runs-{name}").iterdir())]
        return {r.scenario.name: r for r in found}

    ky10 = runs_of("ky10")
    brk = ky10["ky10_break"]
    assert brk.kpis.loc["volume_not_delivered_m3", "value"] > 0
    assert (brk.path / "notice.fr.md").is_file() and (brk.path / "notice.en.md").is_file()
    grid = runs_of("oberrhein")
    assert grid["transformer_outage"].kpis.loc["buses_deenergised", "value"] > 0
    assert grid["backfeed"].kpis.loc["buses_deenergised", "value"] == 0
    assert grid["backfeed"].kpis.loc["overloaded_lines", "value"] > 0
    assert twin.Twin.open(tmp_path / "oberrhein").layer("energy").data.model is not None
