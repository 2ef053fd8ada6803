"""The offline comparison as an official uses it in a council meeting: the exported French
file opened from disk in headless Chromium, with every network request refused; the legend
read, the difference shown with a button, the KPI table's change column read."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from twin.scenario.runner import Run
from twin.viewer.i18n import unit_label
from twin.viewer.kpis import judge, kpi_groups, parent_value

from .browser import canvas_pixels, open_file_page

#: A French change: signed, grouped by narrow no-break spaces, a decimal comma, a unit, and
#: the relative change with a no-break space before % (or percentage points for a share).
FRENCH_CHANGE = re.compile(
    r"^(0 pts|[+-]\d{1,3}(\u202f\d{3})*(,\d+)?"
    r"( pts| \S+( \([+-]\d+(\u202f\d{3})*,\d\u00a0%\)| \(≈ 0 %\))?))$"
)


def reddish(a: np.ndarray) -> int:
    """How many pixels of an RGB image are the diverging ramp's red (the results' own ramp,
    plasma, has no colour this red: where it is this low in green, it is purple)."""
    return int(((a[..., 0] > 140) & (a[..., 1] < 60) & (a[..., 2] < 80)).sum())


@pytest.fixture(scope="module")
def closure(runs: Path) -> Run:
    return Run.open(next(p for p in runs.iterdir() if p.name.startswith("closure-")))


@pytest.fixture(scope="module")
def exported(demo_dir: Path, runs: Path, closure: Run, tmp_path_factory: pytest.TempPathFactory):
    """The closure scenario's comparison with its parent, exported in French."""
    from twin.viewer.offline import export_comparison

    out = tmp_path_factory.mktemp("offline") / "comparaison.html"
    return export_comparison(demo_dir, closure.run_id, out, runs_dir=runs, lang="fr")


def _declared_titles(r: Run) -> list[str]:
    """The French legend titles of the run's result layers, from their display hints."""
    from twin.viewer.layers import result_slots

    out = []
    for slot, (*_, hint) in result_slots(r).items():
        layer = "Grille" if slot == "grid" else "Résultats"
        unit = f" [{unit_label('fr', hint['unit'])}]" if hint["unit"] not in ("", "1") else ""
        out.append(f"{layer} — {hint['label']['fr']}{unit}")
    return out


def test_french_offline_legend_difference_and_changes(
    chromium: object, exported: Path, closure: Run, runs: Path, tmp_path: Path
) -> None:
    requests: list[str] = []
    errors: list[str] = []
    pg = open_file_page(chromium, exported, requests, errors)
    try:
        # the legend of the side-by-side view: every layer drawn, its title and unit in French
        legend = pg.inner_text("#legend")  # type: ignore[attr-defined]
        assert "Bâtiments (3D) — Hauteur [m]" in legend, legend
        titles = _declared_titles(closure)
        assert titles and all(t in legend for t in titles), (titles, legend)
        assert "Δ" not in legend
        assert pg.locator("canvas:visible").count() == 2  # type: ignore[attr-defined]
        side = canvas_pixels(pg, 0)
        pg.screenshot(path=str(tmp_path / "side.png"))  # type: ignore[attr-defined]

        # the official clicks the difference button
        pg.click("text=Différence (scénario − parent)")  # type: ignore[attr-defined]
        pg.wait_for_function("document.body.dataset.rendered.endsWith(':diff')")  # type: ignore[attr-defined]
        pg.wait_for_timeout(2500)  # type: ignore[attr-defined]
        pg.screenshot(path=str(tmp_path / "diff.png"))  # type: ignore[attr-defined]
        assert pg.locator("canvas:visible").count() == 1  # type: ignore[attr-defined]  # one map
        diff = canvas_pixels(pg, 0)
        legend_diff = pg.inner_text("#legend")  # type: ignore[attr-defined]
        caption = pg.inner_text(".caption:not([hidden])")  # type: ignore[attr-defined]

        # and back to the parent and the scenario side by side
        pg.click("text=Côte à côte (parent | scénario)")  # type: ignore[attr-defined]
        pg.wait_for_function("document.body.dataset.rendered.endsWith(':side')")  # type: ignore[attr-defined]
        assert pg.locator("canvas:visible").count() == 2  # type: ignore[attr-defined]
        assert pg.inner_text("#legend") == legend  # type: ignore[attr-defined]

        rows = pg.locator("table.kpitable tr").all_inner_texts()  # type: ignore[attr-defined]
        footer = pg.inner_text("footer")  # type: ignore[attr-defined]
    finally:
        pg.close()  # type: ignore[attr-defined]
    assert requests == [] and errors == [], (requests, errors)

    # the difference: another picture, in the diverging ramp's colours, and said so
    assert caption.strip() == "Différence (scénario − parent)"
    assert reddish(diff) > 50 and reddish(side) < 10, (reddish(diff), reddish(side))
    h, w = min(side.shape[0], diff.shape[0]), min(side.shape[1], diff.shape[1])
    assert (np.abs(side[:h, :w] - diff[:h, :w]).sum(axis=2) > 40).mean() > 0.02
    for t in titles:
        layer, _, rest = t.partition(" — ")
        assert f"{layer} — Δ {rest}" in legend_diff, (t, legend_diff)
    # the difference's range is symmetric around zero, in French numbers
    block = legend_diff.split(f"Δ {titles[0].partition(' — ')[2]}")[1].split("\n")
    low, high = block[1].strip(), block[2].strip()
    assert low.startswith("-") and low[1:] == high, block

    # the KPI table: headline results, then the diagnostics; every change in French
    assert rows[0].split("\t") == ["Indicateur", "Parent", "Scénario", "Écart", "Appréciation"]
    headline, diagnostics = kpi_groups(closure)
    parent = Run.open(runs / str(closure.manifest["parent_run"]))
    body = [r.split("\t") for r in rows[1:] if "\t" in r]
    assert len(body) == len(headline) + len(diagnostics)
    heading = next(i for i, r in enumerate(rows) if r.startswith("Diagnostics des calculs"))
    assert heading == len(headline) + 1  # after the header and every headline result
    for cells, (name, row) in zip(body, headline + diagnostics, strict=True):
        assert FRENCH_CHANGE.match(cells[3]), cells
        delta = float(row["value"]) - parent_value(parent, name)
        if abs(delta) > 1e-9 and cells[3] != "0 pts":
            assert cells[3][0] == ("+" if delta > 0 else "-"), (cells, delta)
        verdict = judge(delta, str(row["better"]))
        assert cells[4] == {"good": "mieux", "bad": "moins bien", "neutral": "–"}[verdict]
    # a change with a decimal comma is shown (the closure moves the traffic)
    assert any("," in c[3] and "." not in c[3] for c in body), body
    assert "OpenStreetMap" in footer  # the ODbL attribution stays


def test_english_offline_export_words_and_escaping(
    demo_dir: Path, runs: Path, closure: Run, tmp_path: Path
) -> None:
    """The export in English: its buttons, legend and table in English (decimal points),
    the scenario's own text escaped."""
    import json

    from twin.store.twinstore import open_twin
    from twin.viewer.catalogue import Catalogue
    from twin.viewer.offline import comparison_html

    cat = Catalogue(demo_dir, runs, open_twin(demo_dir))
    cat.refresh()
    r = cat.run(closure.run_id)  # read once: the page is built from this one
    r.scenario = r.scenario.model_copy(update={"title": "<b>Closing</b> & co"})
    page = comparison_html(cat, closure.run_id, "en")
    assert "&lt;b&gt;Closing&lt;/b&gt; &amp; co" in page and "<b>Closing" not in page
    assert ">Difference (scenario − parent)</button>" in page
    assert ">Side by side (parent | scenario)</button>" in page
    assert "<th>Indicator</th>" in page and "<th>Better or worse</th>" in page
    assert "Buildings (3D) — Height [m]" in page and "Results — Δ " in page
    data = re.search(r'<script id="twin-data" type="application/json">(.*?)</script>', page, re.S)
    assert data is not None
    views = json.loads(data.group(1))["views"]
    assert set(views) == {"side", "diff"} and "right" not in views["diff"]
    assert views["side"]["labels"]["lang"] == "en"
    # relative changes with a decimal point and the % sign stuck to the number
    changes = re.findall(r"<td class='num chg'>([^<]*)</td>", page)
    relative = [c.partition(" (")[2] for c in changes if " (" in c]
    assert relative and all(re.fullmatch(r"([+-][\d,]+\.\d%|≈ 0%)\)", c) for c in relative)
