"""A self-contained offline HTML comparison: one file, no server, no network.

It inlines the deck.gl bundle, the renderer, the styles, the twin's layers and the run's
result layers (binary, base64) and its KPI table, and shows the parent and the scenario side
by side with synchronised cameras. It opens from a ``file://`` path on a laptop.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from twin.viewer.catalogue import Catalogue, parent_of
from twin.viewer.i18n import kpi_label, tooltip_labels
from twin.viewer.kpis import parent_value, show
from twin.viewer.layers import attribution, base_payload, run_layers, shared_ranges
from twin.viewer.layout import ASSETS


def _kpi_table(cat: Catalogue, run_id: str, lang: str) -> str:
    r = cat.run(run_id)
    parent = parent_of(cat, r)
    rows = []
    for k, row in r.kpis.iterrows():
        unit = str(row["unit"])
        rows.append(
            f"<tr><td>{html.escape(kpi_label(lang, str(k), row))}</td>"
            f"<td>{html.escape(show(parent_value(parent, k), unit, lang))}</td>"
            f"<td>{html.escape(show(row['value'], unit, lang))}</td></tr>"
        )
    head = {"fr": ("Indicateur", "Parent", "Scénario"), "en": ("Indicator", "Parent", "Scenario")}
    h = "".join(f"<th>{x}</th>" for x in head[lang])
    return f"<table class='kpitable'><tr>{h}</tr>{''.join(rows)}</table>"


def comparison_html(cat: Catalogue, run_id: str, lang: str = "fr") -> str:
    """The offline comparison page of a run against its parent, as one HTML string."""
    r = cat.run(run_id)
    parent = parent_of(cat, r)
    ranges = shared_ranges(*([parent] if parent is not None else []), r)
    scenario: dict[str, Any] = {
        "visible": {
            "buildings": True,
            "roads": True,
            "lamps": True,
            "sensors": True,
            "results": True,
        },
        "key": f"{run_id}:offline",
        "labels": tooltip_labels(lang),  # the tooltips in the language of the export
        "left": run_layers(parent, ranges=ranges) if parent is not None else {},
        "right": run_layers(r, ranges=ranges),
    }
    base = base_payload(cat.twin)
    deck_js = (ASSETS / "vendor" / "deck.gl.min.js").read_text(encoding="utf-8")
    viewer_js = (ASSETS / "twin_viewer.js").read_text(encoding="utf-8")
    css = (ASSETS / "twin.css").read_text(encoding="utf-8")
    title = f"{r.scenario.title or r.scenario.name}"
    labels = {"fr": ("Parent", "Scénario"), "en": ("Parent", "Scenario")}[lang]
    data = json.dumps({"base": base, "scenario": scenario}).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>twin — {html.escape(title)}</title>
<style>{css}
.offline .maps {{ height: 70vh; }} .offline h2 {{ margin: .4rem 1rem; font-size: 1rem; }}
.caption {{ display: flex; }} .caption div {{ flex: 1; padding: .2rem 1rem; font-weight: 600; }}
.kpitable {{ border-collapse: collapse; margin: .6rem 1rem; }}
.kpitable td, .kpitable th {{ border: 1px solid #ccd; padding: .2rem .6rem; }}
</style></head>
<body class="offline"><header><h1>twin — {html.escape(cat.twin.name)} — {html.escape(title)}</h1>
</header>
<div class="caption"><div>{labels[0]}</div><div>{labels[1]}</div></div>
<div class="maps"><div id="map-left" class="map"></div><div id="map-right" class="map"></div></div>
{_kpi_table(cat, run_id, lang)}
<footer>{html.escape(attribution(cat.twin))}</footer>
<script>{deck_js}</script>
<script>{viewer_js}</script>
<script id="twin-data" type="application/json">{data}</script>
<script>
const d = JSON.parse(document.getElementById("twin-data").textContent);
window.dash_clientside.twin.render(d.base, d.scenario);
</script>
</body></html>
"""


def export_comparison(
    twin_dir: str | Path,
    run_id: str,
    out: str | Path,
    *,
    runs_dir: str | Path | None = None,
    lang: str = "fr",
) -> Path:
    """Write the offline comparison of ``run_id`` to ``out`` (atomically)."""
    from twin.store.atomic import atomic_write
    from twin.store.twinstore import open_twin

    tdir = Path(twin_dir)
    cat = Catalogue(
        tdir, Path(runs_dir) if runs_dir else tdir.resolve().parent / "runs", open_twin(tdir)
    )
    cat.refresh()
    text = comparison_html(cat, run_id, lang)
    atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return Path(out)
