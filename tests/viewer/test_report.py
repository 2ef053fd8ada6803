"""The printable comparison report: KPI table, map snapshots, notice; A4 print CSS."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest

from twin.errors import StoreError
from twin.scenario.runner import run
from twin.scenario.schema import Scenario
from twin.viewer.report import write_report

AREA = [[[24.9440, 60.1670], [24.9530, 60.1666], [24.9533, 60.1680], [24.9440, 60.1670]]]


@pytest.fixture(scope="module")
def runs(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("report-runs")
    closure = Scenario.from_dict(
        {
            "name": "closure",
            "title": "Closing Mannerheimintie",
            "interventions": [
                {
                    "type": "close_links",
                    "target": {"layer": "roads", "where": {"name": "Mannerheimintie"}},
                }
            ],
            "simulations": ["accessibility", "landcover"],
        }
    )
    trees = Scenario.from_dict(
        {
            "name": "trees",
            "parent": "closure",
            "interventions": [
                {
                    "type": "plant_trees",
                    "target": {
                        "layer": "landcover",
                        "geometry": {"type": "Polygon", "coordinates": AREA},
                    },
                }
            ],
            "simulations": ["accessibility", "landcover"],
        }
    )
    r = run(demo_dir, trees, out=out, library={"closure": closure})
    return out, r.run_id, r.manifest["parent_run"]


def images(text: str) -> list[np.ndarray]:
    from PIL import Image

    out = []
    for b64 in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text):
        img = Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB")
        out.append(np.asarray(img).astype(int))
    return out


def test_report_kpis_maps_notice(runs: tuple[Path, str, str], tmp_path: Path) -> None:
    store, rid, pid = runs
    out = write_report(store / rid, tmp_path / "report.html", lang="fr")
    text = out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left
    assert "@page { size: A4" in text and "http://" not in text and "https://" not in text
    assert "Rapport de comparaison" in text and pid in text and rid in text
    # KPI table: the trees scenario adds canopy against its parent (the closure)
    row = re.search(r"<tr class='(\w+)'><td>Canopée</td>(.*?)</tr>", text)
    assert row is not None and row.group(1) == "good"
    cells = re.findall(r"<td class='num[^']*'>([^<]*)</td>", row.group(2))
    assert cells[0] != cells[1] and cells[2].startswith("+")
    # maps: one figure per result layer (points of node access, the land-cover grid)
    imgs = images(text)
    assert len(imgs) == 2
    for img in imgs:
        assert img.shape[1] > 600 and (np.abs(img - 255).sum(axis=2) > 30).mean() > 0.05
    # the French algorithm notice is included
    assert "Notice algorithmique" in text and "aide à la décision" in text.lower()


def test_report_english_and_errors(runs: tuple[Path, str, str], tmp_path: Path) -> None:
    store, rid, pid = runs
    text = write_report(store / pid, tmp_path / "parent.html", lang="en").read_text()
    assert "Comparison report" in text and "no parent in the store" in text
    assert "Algorithm notice" in text
    with pytest.raises(StoreError, match="use 'fr' or 'en'"):
        write_report(store / rid, tmp_path / "x.html", lang="de")
    assert not (tmp_path / "x.html").exists()


def test_report_route(demo_dir: Path, runs: tuple[Path, str, str]) -> None:
    from twin.viewer.app import create_app

    store, rid, _ = runs
    client = create_app(demo_dir, store, lang="en").server.test_client()
    ok = client.get(f"/report/{rid}/en")
    assert ok.status_code == 200 and b"Comparison report" in ok.data
    assert client.get("/report/no-such-run/en").status_code == 404
    # run ids are looked up in the store, never used as paths (Dash answers its page here)
    bad = client.get("/report/..%2F..%2Fetc/en")
    assert bad.status_code == 404 or b"Comparison report" not in bad.data
    assert client.get(f"/report/{rid}/de").status_code == 404
