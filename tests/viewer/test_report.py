"""The printable comparison report: KPI table, map snapshots, notice; A4 print CSS."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import ClassVar

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


def test_report_words_in_french(
    runs: tuple[Path, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A French report speaks French: map captions from the outputs' declared labels and
    units the French way, panels named Parent | Scénario | Différence, the KPI table with
    its change and verdict in words, the parameters' meanings and simulations' titles."""
    from twin.scenario.runner import Run
    from twin.viewer import report
    from twin.viewer.i18n import unit_label
    from twin.viewer.layers import result_slots

    store, rid, pid = runs
    r = Run.open(store / rid)
    text = write_report(store / rid, tmp_path / "rapport.html", lang="fr").read_text()
    # one caption per result slot: the declared French label and unit, then the panels
    words = "Parent | Scénario | Différence (scénario − parent)"
    captions = [html.unescape(c) for c in re.findall(r"<figcaption>([^<]*)</figcaption>", text)]
    expected = []
    for _, _, _, hint in result_slots(r).values():
        unit = str(hint["unit"])
        shown = f" [{unit_label('fr', unit)}]" if unit not in ("", "1") else ""
        expected.append(f"{hint['label']['fr']}{shown} — {words}")
    assert captions == expected, captions
    # the panels' own titles and colour bars (drawn in the PNG), read off the figures
    monkeypatch.setattr(report, "_png", lambda fig: [ax.get_title() for ax in fig.axes])
    parent = Run.open(store / pid)
    (titles, *_), _ = zip(*report.map_figures(r, parent, None, "fr"), strict=True)
    label = next(iter(result_slots(r).values()))[3]["label"]["fr"]
    assert [t for t in titles if t] == [
        f"Parent\n{label}",
        f"Scénario\n{label}",
        f"Différence (scénario − parent)\nΔ {label}",
    ]
    # the KPI table: the canopy's change signed, its verdict in words
    row = re.search(r"<tr class='good'><td>Canopée</td>(.*?)</tr>", text)
    assert row is not None and "<td class='verdict'>mieux</td>" in row.group(1)
    assert "<th>Appréciation</th>" in text and "<th>Écart</th>" in text
    # the notice's parameters: each simulation by its French title, meanings in French
    assert "<td>Accessibilité du réseau</td><td><code>n_origins</code></td>" in text
    assert "Nombre d&#x27;origines tirées au sort" in text, text[text.find("Paramètre") :][:800]
    assert "Origins sampled" not in text and "<td>accessibility</td>" not in text
    english = write_report(store / rid, tmp_path / "report.html", lang="en").read_text()
    assert "Origins sampled (seeded)." in english and "Nombre d" not in english


def test_declared_french_meanings_of_parameters() -> None:
    """Each French meaning names a real parameter; the built-in simulations describe every
    parameter in French; a parameter without one reads in English."""
    from twin.sims.registry import registry
    from twin.sims.traffic.sim import TrafficParams

    for name, sim in registry().items():
        model = sim.params_model
        assert set(model.meanings_fr) <= set(model.model_fields), name
        assert "meanings_fr" not in model.model_fields  # a declaration, not a parameter
    builtin = "traffic accessibility shop_access heat landcover lighting commerce power water"
    for name in builtin.split():
        model = registry()[name].params_model
        assert set(model.meanings_fr) == set(model.model_fields), name
    assert TrafficParams.meaning("rgap", "fr") == "Écart relatif à l'équilibre visé."
    assert TrafficParams.meaning("rgap", "en") == "Target relative gap."
    assert TrafficParams.meaning("no_such", "fr") == ""

    class Partial(TrafficParams):
        meanings_fr: ClassVar[dict[str, str]] = {}

    assert Partial.meaning("rgap", "fr") == "Target relative gap."
