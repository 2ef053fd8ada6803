"""The viewer's page: the Dash layout, the HTML around it and the helpers that fill the
layout with the values callbacks would otherwise compute when the page loads.

Everything is served by the app itself (Dash's own JavaScript, plotly.js and the deck.gl
bundle in ``app/assets``, the optional basemap's tiles); no CDN, no remote basemap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
import numpy as np
from dash import Input, Output, dcc, html

from twin.viewer.catalogue import run_options
from twin.viewer.context import Viewer

#: The viewer's static files: styles, the renderer and the deck.gl bundle.
ASSETS = Path(__file__).resolve().parents[2] / "app" / "assets"

#: Scripts of ``app/assets`` that Dash must not add to the page: the renderer and deck.gl,
#: loaded from the page's head, and the vector-tile parser, run as a web worker.
HEAD_ASSETS = r"(twin_viewer|deck\.gl\.min|mvt-worker)\.js$"

INDEX = """<!DOCTYPE html>
<html lang="@LANG@">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        <script id="twin-first" type="application/json">@FIRST@</script>
        <script src="@DECK@"></script>
        <script src="@VIEWER@"></script>
    </head>
    <body>
        {%app_entry%}
        <div class="dash-scripts">
            {%config%}
            {%scripts%}
            {%renderer%}
        </div>
    </body>
</html>"""


def index(app: dash.Dash, first: dict[str, Any], lang: str) -> str:
    """The page: Dash's own, plus the first view's layers (static layers, first run) and the
    deck.gl bundle and renderer in the head. The renderer starts drawing the first view (in a
    hidden copy of the map's place) while Dash loads and builds the page, instead of waiting
    for Dash's layout and callbacks to bring the data."""

    def url(name: str) -> str:
        return f"{app.get_asset_url(name)}?m={int((ASSETS / name).stat().st_mtime)}"

    # '%' only occurs inside JSON strings: escaped, Dash's {%...%} placeholders stay unique
    data = json.dumps(first, default=_plain).replace("</", "<\\/").replace("%", "\\u0025")
    return (
        INDEX.replace("@DECK@", url("vendor/deck.gl.min.js"))
        .replace("@VIEWER@", url("twin_viewer.js"))
        .replace("@FIRST@", data)
        .replace("@LANG@", lang if lang in ("fr", "en") else "fr")
    )


def _plain(v: Any) -> Any:
    """NumPy scalars and arrays as JSON values."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    msg = f"{type(v).__name__} is not JSON serialisable"
    raise TypeError(msg)


def preset(layout: Any, values: dict[tuple[str, str], Any]) -> None:
    """Set properties of components of a layout by ``(id, property)``: the values that
    callbacks would otherwise compute in extra round trips when the page loads (and that would
    move the map, and draw it again, when they arrive)."""
    by_id = {c.id: c for c in layout._traverse() if getattr(c, "id", None) is not None}
    for (cid, prop), v in values.items():
        setattr(by_id[cid], prop, v)


def on_language(
    app: dash.Dash,
    lang: str,
    fn: Callable[..., Any],
    outputs: list[tuple[str, str]],
    *inputs: Any,
) -> None:
    """Register ``fn`` as the callback of the language picker (and of ``inputs``) filling
    ``outputs``, with its values for the first language already in the layout."""
    first = fn(lang, *[None] * len(inputs))
    preset(app.layout, dict(zip(outputs, first, strict=True)))
    app.callback(
        [Output(i, p) for i, p in outputs],
        Input("lang", "value"),
        *inputs,
        prevent_initial_call=True,
    )(fn)


def _header(lang: str) -> html.Header:
    """Title, tools (previous / next comparison, presentation, PNG) and language picker."""
    return html.Header(
        children=[
            html.H1(id="title"),
            html.Div(
                className="tools",
                children=[
                    html.Button("◀", id="prev", title="previous comparison"),
                    html.Button("▶", id="next", title="next comparison"),
                    html.Button(id="present"),
                    html.Button("PNG", id="png"),
                ],
            ),
            dcc.RadioItems(
                id="lang",
                options=[{"label": "FR", "value": "fr"}, {"label": "EN", "value": "en"}],
                value=lang,
                inline=True,
                className="lang",
            ),
        ]
    )


def _aside(ctx: Viewer, init: dict[str, Any], panel: Any) -> html.Aside:
    """The side panel: run, view, layers, colours, legend, links and the editor's panel."""
    b, r = ctx.bmetric, ctx.rmetric
    return html.Aside(
        children=[
            html.Label(id="run-label", htmlFor="run"),
            dcc.Dropdown(
                id="run", options=run_options(ctx.cat, ctx.lang), value=ctx.first, clearable=False
            ),
            # any other run to compare with (empty: the run's parent)
            html.Label(id="against-label", htmlFor="against"),
            dcc.Dropdown(id="against", options=run_options(ctx.cat, ctx.lang), value=None),
            html.Label(id="mode-label"),
            dcc.RadioItems(id="mode", value="single"),
            html.Label(id="layers-label"),
            dcc.Checklist(id="layers", value=ctx.layer_keys),
            # why the twin's basemap is not drawn (only when it cannot be)
            *([html.Div(id="basemap-note", className="note")] if ctx.basemap.problem else []),
            # a colour picker only for a layer with columns to colour it by
            html.Label(id="bmetric-label", htmlFor="bmetric", hidden=not b.options),
            html.Div(
                dcc.Dropdown(id="bmetric", options=b.options, value=b.value, clearable=False),
                hidden=not b.options,
            ),
            html.Label(id="rmetric-label", htmlFor="rmetric", hidden=not r.options),
            html.Div(
                dcc.Dropdown(id="rmetric", options=r.options, value=r.value, clearable=False),
                hidden=not r.options,
            ),
            html.Label(id="result-label", htmlFor="result"),
            dcc.Dropdown(id="result", options=init["results"], value=None),
            html.Div(init["legend"], id="legend", className="legend"),
            # the notice and the report open in a tab, the export downloads
            *(
                html.A(
                    init[k][1],
                    id=k,
                    href=init[k][0],
                    className="notice",
                    target=None if k == "export" else "_blank",
                )
                for k in ("notice", "export", "report")
            ),
            panel,
        ]
    )


def _main(init: dict[str, Any]) -> html.Main:
    """The time slider, the maps, the KPI cards and the (lazy) KPI chart."""
    t_max, t_marks, k, t_style = init["time"]
    slider = dcc.Slider(id="time", min=0, max=t_max, step=1, value=k, marks=t_marks)
    return html.Main(
        children=[
            html.Div(id="time-box", className="timebar", style=t_style, children=slider),
            html.Div(
                className="maps",
                children=[
                    html.Div(id="map-left", className="map"),
                    html.Div(id="map-right", className="map", style=init["right"]),
                ],
            ),
            html.Div(init["kpis"], id="kpis", className="kpis"),
            # filled after the map's first frame: plotly.js (4.8 MB) is only fetched once
            # the map is on screen
            html.Div(id="chart-box", className="chart"),
            html.Div(id="rendered", style={"display": "none"}),
            html.Div(id="painted", style={"display": "none"}),
            html.Div(id="png-done", style={"display": "none"}),
            html.Div(id="present-done", style={"display": "none"}),
            html.Div(id="lang-done", style={"display": "none"}),
        ]
    )


def page(ctx: Viewer, init: dict[str, Any], panel: Any) -> html.Div:
    """The viewer's layout, showing ``init`` (:meth:`Viewer.first_view`) as it opens.

    Parameters
    ----------
    ctx : Viewer
        The twin, its runs and the page's first choices.
    init : dict
        The first view: legend, KPI cards, links and time slider are set in the layout, so
        that no callback runs before the map's first frame.
    panel : dash component
        The what-if editor's panel (:func:`twin.viewer.editor.panel`).
    """
    return html.Div(
        className="twin",
        children=[
            # empty until a callback fills them: the first view is served in the page's head
            dcc.Store(id="base"),
            dcc.Store(id="scenario"),
            _header(ctx.lang),
            html.Div(className="body", children=[_aside(ctx, init, panel), _main(init)]),
            html.Footer(id="attribution"),
        ],
    )
