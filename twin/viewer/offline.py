"""A self-contained offline HTML comparison: one file, no server, no network.

It inlines the deck.gl bundle, the renderer, the styles, the twin's layers and the run's
result layers (binary, base64), their legends and the KPI table with the change against the
parent, and the twin's basemap when it has one (its tiles around the twin, see
:func:`twin.viewer.basemap.offline_payload`). Two buttons switch between the parent and the
scenario side by side (synchronised cameras) and the difference (scenario − parent); the
legend follows the view. It opens from a ``file://`` path on a laptop, in the language of the
export.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from twin.scenario.runner import Run
from twin.viewer.basemap import offline_payload, open_basemap
from twin.viewer.catalogue import Catalogue, parent_of
from twin.viewer.i18n import tooltip_labels, tr
from twin.viewer.kpis import kpi_table
from twin.viewer.layers import attribution, base_payload, run_layers, shared_ranges
from twin.viewer.layout import ASSETS
from twin.viewer.legend import legend_blocks, legend_html

#: Layers shown in the export (all of them: there is no toggle).
VISIBLE = {
    "buildings": True,
    "roads": True,
    "lamps": True,
    "sensors": True,
    "results": True,
    "basemap": True,
}

#: The styles of the export's own parts, after the viewer's (``app/assets/twin.css``).
CSS = """
[hidden] { display: none !important; }
.offline .body { display: flex; } .offline .body > div { flex: 1; min-width: 0; }
.offline .maps { height: 70vh; } .offline .map { min-height: 70vh; }
.offline aside { width: 17rem; border-left: 1px solid #dde2e6; border-right: none; }
.caption { display: flex; } .caption div { flex: 1; padding: .2rem 1rem; font-weight: 600; }
.tools button[aria-pressed=true] { background: #0b5cad; border-color: #0b5cad; }
.kpitable { border-collapse: collapse; margin: .6rem 1rem; background: #fff; }
.kpitable td, .kpitable th { border: 1px solid #ccd; padding: .2rem .6rem; text-align: left; }
.kpitable td.num { text-align: right; white-space: nowrap; }
.kpitable tr.diag th { background: #eef1f4; font-weight: 500; color: #51606c; }
.kpitable tr.good td.chg, .kpitable tr.good td.verdict { color: #17713a; font-weight: 600; }
.kpitable tr.bad td.chg, .kpitable tr.bad td.verdict { color: #b0211a; font-weight: 600; }
footer { font-size: .75rem; padding: .25rem 1rem; color: #51606c; }
"""

#: Shows a view: the right map only when the view has one, its caption and legend, the
#: pressed button; then draws it with the viewer's own renderer.
SWITCH = """
const d = JSON.parse(document.getElementById("twin-data").textContent);
function show(view) {
  document.getElementById("map-right").style.display = d.views[view].right ? "" : "none";
  document.querySelectorAll("[data-view]").forEach(function (el) {
    el.hidden = el.dataset.view !== view;
  });
  document.querySelectorAll("button[data-show]").forEach(function (b) {
    b.setAttribute("aria-pressed", String(b.dataset.show === view));
  });
  window.dash_clientside.twin.render(d.base, d.views[view]);
}
document.querySelectorAll("button[data-show]").forEach(function (b) {
  b.addEventListener("click", function () { show(b.dataset.show); });
});
show(d.first);
"""


def comparison_views(cat: Catalogue, r: Run, lang: str) -> dict[str, dict[str, Any]]:
    """The scenario payloads of the export's views, by name.

    With a parent in the store: ``side`` (the parent left, the scenario right, on shared
    colour ranges) and ``diff`` (scenario − parent, on a diverging ramp); without one,
    ``single`` (the scenario alone). Each is what the viewer's renderer draws (see
    :meth:`twin.viewer.catalogue.Catalogue.layers`), with the tooltips' words in ``lang``.
    """
    parent = parent_of(cat, r)
    sides: dict[str, dict[str, Any]]
    if parent is None:
        sides = {"single": {"left": run_layers(r)}}
    else:
        ranges = shared_ranges(parent, r)
        sides = {
            "side": {
                "left": run_layers(parent, ranges=ranges),
                "right": run_layers(r, ranges=ranges),
            },
            "diff": {"left": run_layers(r, diff=cat.comparison(r, parent))},
        }
    labels = tooltip_labels(lang)  # the tooltips in the language of the export
    return {
        view: {"visible": VISIBLE, "key": f"{r.run_id}:offline:{view}", "labels": labels, **s}
        for view, s in sides.items()
    }


def _captions(view: str, lang: str) -> str:
    """The words over the maps of ``view``: one per map."""
    if view == "side":
        words = [tr(lang, "kpi.parent"), tr(lang, "kpi.scenario")]
    else:
        words = [tr(lang, f"mode.{view}")]
    cells = "".join(f"<div>{html.escape(w)}</div>" for w in words)
    return f"<div class='caption' data-view='{view}'>{cells}</div>"


def _buttons(views: dict[str, Any], lang: str) -> str:
    """The buttons switching the views (none when there is one view)."""
    if len(views) < 2:
        return ""
    buttons = "".join(
        f"<button type='button' data-show='{v}' aria-pressed='false'>"
        f"{html.escape(tr(lang, f'mode.{v}'))}</button>"
        for v in views
    )
    group = html.escape(tr(lang, "view"))
    return f"<div class='tools' role='group' aria-label='{group}'>{buttons}</div>"


def _legends(base: dict[str, Any], views: dict[str, Any], lang: str) -> str:
    """The legend of each view (the side panel's, :mod:`twin.viewer.legend`), one shown."""
    return "".join(
        f"<div id='legend-{v}' data-view='{v}'>"
        f"{legend_html(legend_blocks(base, data, lang, difference=v == 'diff'))}</div>"
        for v, data in views.items()
    )


def _basemap(cat: Catalogue, base: dict[str, Any]) -> dict[str, Any] | None:
    """The twin's basemap with its tiles inline (None without one); vector tiles with the
    parser's worker inline too (a page opened from disk cannot load it from a file)."""
    view = base.get("view") or {}
    state = open_basemap(cat.twin)
    try:
        bm = offline_payload(state, cat.twin.extent_lonlat, view.get("zoom", 14.0))
    finally:  # opened for this export only
        if state.archive is not None:
            state.archive.close()
    if bm is not None and bm["kind"] == "vector":
        bm["workerSource"] = (ASSETS / "vendor" / "mvt-worker.js").read_text(encoding="utf-8")
    return bm


def comparison_html(cat: Catalogue, run_id: str, lang: str = "fr") -> str:
    """The offline comparison page of a run against its parent, as one HTML string.

    Parameters
    ----------
    cat : Catalogue
        The twin and its runs.
    run_id : str
        A run of the store (compared with its parent when the store holds it).
    lang : str
        ``fr`` or ``en``: every word of the page, its numbers and its units.

    Returns
    -------
    str
        The page: maps, view buttons, legends, KPI table, attribution; scripts and data
        inline.
    """
    r = cat.run(run_id)
    views = comparison_views(cat, r, lang)
    base = base_payload(cat.twin)
    deck_js = (ASSETS / "vendor" / "deck.gl.min.js").read_text(encoding="utf-8")
    viewer_js = (ASSETS / "twin_viewer.js").read_text(encoding="utf-8")
    css = (ASSETS / "twin.css").read_text(encoding="utf-8")
    title = html.escape(f"{r.scenario.title or r.scenario.name}")
    first = next(iter(views))
    data = json.dumps({"base": base, "views": views, "first": first}).replace("</", "<\\/")
    bm = _basemap(cat, base)
    credits = attribution(cat.twin) + (f" · {bm['attribution']}" if bm else "")
    # read by the renderer as it loads, as the viewer's first view is (the basemap only)
    head = json.dumps({"basemap": bm} if bm else {}).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>twin — {title}</title>
<style>{css}{CSS}</style></head>
<body class="offline"><header><h1>twin — {html.escape(cat.twin.name)} — {title}</h1>
{_buttons(views, lang)}</header>
<div class="body"><div>
{"".join(_captions(v, lang) for v in views)}
<div class="maps"><div id="map-left" class="map"></div><div id="map-right" class="map"></div></div>
</div><aside id="legend">{_legends(base, views, lang)}</aside></div>
{kpi_table(r, parent_of(cat, r), lang) if len(r.kpis) else ""}
<footer id="attribution">{html.escape(credits)}</footer>
<script>{deck_js}</script>
<script id="twin-first" type="application/json">{head}</script>
<script>{viewer_js}</script>
<script id="twin-data" type="application/json">{data}</script>
<script>{SWITCH}</script>
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
    """Write the offline comparison of ``run_id`` to ``out`` (atomically).

    Parameters
    ----------
    twin_dir : path
        The twin's directory.
    run_id : str
        A run of the run store.
    out : path
        The HTML file to write.
    runs_dir : path, optional
        The run store (default: ``runs`` next to the twin).
    lang : str
        ``fr`` or ``en``.

    Returns
    -------
    Path
        ``out``.
    """
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
