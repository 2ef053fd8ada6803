"""The viewer's callbacks, registered by small functions taking the app and the
:class:`~twin.viewer.context.Viewer` they share."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc

from twin.viewer import editor
from twin.viewer.basemap import note as basemap_note
from twin.viewer.context import Viewer
from twin.viewer.i18n import dropdown_labels, tr
from twin.viewer.kpis import kpi_chart
from twin.viewer.layers import attribution
from twin.viewer.layout import on_language

#: Every dropdown of the page (their search boxes and buttons speak the interface language).
DROPDOWNS = (
    "run",
    "against",
    "bmetric",
    "rmetric",
    "result",
    "wi-parent",
    "wi-links",
    "wi-kind",
    "wi-lamps",
)

#: The views of a comparison (see :meth:`twin.viewer.context.Viewer.view`).
MODES = ("single", "side", "swipe", "diff")

#: What the language picker fills: (component id, property).
LABELLED = [
    ("title", "children"),
    ("run-label", "children"),
    ("against-label", "children"),
    ("against", "placeholder"),
    ("mode-label", "children"),
    ("mode", "options"),
    ("layers-label", "children"),
    ("layers", "options"),
    ("attribution", "children"),
    ("bmetric-label", "children"),
    ("rmetric-label", "children"),
    ("result-label", "children"),
    ("result", "placeholder"),
    ("present", "children"),
    *((d, "labels") for d in DROPDOWNS),
]

#: What a change of run, view, layers, language, time or colours updates.
SELECTED = [
    ("scenario", "data"),
    ("kpis", "children"),
    ("legend", "children"),
    ("notice", "href"),
    ("notice", "children"),
    ("map-right", "style"),
    ("export", "href"),
    ("export", "children"),
    ("report", "href"),
    ("report", "children"),
    ("time", "max"),
    ("time", "marks"),
    ("time", "value"),
    ("time-box", "style"),
    ("result", "options"),
]


def register(app: dash.Dash, ctx: Viewer) -> None:
    """Every callback of the viewer (the layout must be set)."""
    register_labels(app, ctx)
    register_select(app, ctx)
    register_chart(app, ctx)
    register_step(app, ctx)
    editor.register(app, ctx.cat, ctx.jobs, ctx.lang, ctx.first)
    register_recolour(app, ctx)
    register_against(app)
    register_clientside(app)
    register_basemap_note(app, ctx)


def register_labels(app: dash.Dash, ctx: Viewer) -> None:
    """The page's words in the language picked (the first language's set in the layout)."""
    cat = ctx.cat

    def labels(lg: str) -> tuple[Any, ...]:
        return (
            f"twin — {cat.twin.name}",
            tr(lg, "scenario"),
            tr(lg, "against"),
            tr(lg, "against.parent"),
            tr(lg, "view"),
            [{"label": tr(lg, f"mode.{m}"), "value": m} for m in MODES],
            tr(lg, "layers"),
            [{"label": tr(lg, f"layer.{k}"), "value": k} for k in ctx.layer_keys],
            attribution(cat.twin),
            tr(lg, "colour.buildings"),
            tr(lg, "colour.roads"),
            tr(lg, "result.pick"),
            tr(lg, "result.auto"),
            tr(lg, "present"),
            *(dropdown_labels(lg) for _ in DROPDOWNS),
        )

    on_language(app, ctx.lang, labels, LABELLED)


def register_basemap_note(app: dash.Dash, ctx: Viewer) -> None:
    """Why the twin's basemap is not drawn, in the language picked (only when it is not)."""
    if ctx.basemap.problem is None:
        return

    def words(lg: str) -> tuple[str]:
        return (basemap_note(ctx.basemap, lg),)

    on_language(app, ctx.lang, words, [("basemap-note", "children")])


def register_select(app: dash.Dash, ctx: Viewer) -> None:
    """One round trip per change of run, view, layers, language, time step or colours."""

    @app.callback(
        *(Output(i, p) for i, p in SELECTED),
        Input("run", "value"),
        Input("mode", "value"),
        Input("layers", "value"),
        Input("lang", "value"),
        Input("time", "value"),
        Input("bmetric", "value"),
        Input("rmetric", "value"),
        Input("result", "value"),
        Input("against", "value"),
        prevent_initial_call=True,  # the first view is in the layout
    )
    def select(
        run_id: str | None,
        mode: str,
        layers: list[str],
        lg: str,
        step: int | None,
        bmetric: str | None,
        rmetric: str | None,
        result: str | None,
        against: str | None,
    ) -> tuple[Any, ...]:
        """The view, and the time slider fitted to the run (one slider for every layer
        varying in time, hidden when none does)."""
        v = ctx.view(run_id, mode, layers, lg, step, bmetric, rmetric, result, against)
        t_max, t_marks, k, t_style = v["time"]
        return (
            v["scenario"],
            v["kpis"],
            v["legend"],
            *v["notice"],
            v["right"],
            *v["export"],
            *v["report"],
            t_max,
            t_marks,
            # the slider's value is an input: set it only when it must change
            dash.no_update if k == (step or 0) else k,
            t_style,
            v["results"],
        )


def register_chart(app: dash.Dash, ctx: Viewer) -> None:
    """The KPI chart, drawn once the map is on screen (lazy: plotly.js loads then)."""
    cat = ctx.cat

    @app.callback(
        Output("chart-box", "children"),
        Input("painted", "children"),
        Input("lang", "value"),
        State("run", "value"),
        State("against", "value"),
        prevent_initial_call=True,
    )
    def chart(_key: str | None, lg: str, run_id: str | None, against: str | None) -> Any:
        if not run_id or run_id not in cat.runs:
            return []
        r = cat.run(run_id)
        parent = cat.reference(r, against)
        if parent is None:
            return []
        return dcc.Graph(
            id="chart", figure=kpi_chart(r, parent, lg), config={"displayModeBar": False}
        )


def register_step(app: dash.Dash, ctx: Viewer) -> None:
    """The ◀ ▶ buttons: step through the comparisons (every run but the baselines)."""
    cat = ctx.cat

    @app.callback(
        Output("run", "value"),
        Input("prev", "n_clicks"),
        Input("next", "n_clicks"),
        State("run", "value"),
        prevent_initial_call=True,
    )
    def step(_p: int | None, _n: int | None, current: str | None) -> str | None:
        ids = [r for r in cat.runs if not r.startswith("baseline")] or list(cat.runs)
        if not ids:
            return current
        k = ids.index(current) if current in ids else -1
        delta = -1 if dash.ctx.triggered_id == "prev" else 1
        return ids[(k + delta) % len(ids)]


def register_against(app: dash.Dash) -> None:
    """The runs one can compare with are the runs of the picker (new what-ifs included)."""
    app.clientside_callback(
        "function (opts) { return opts; }",
        Output("against", "options"),
        Input("run", "options"),
        prevent_initial_call=True,
    )


def register_recolour(app: dash.Dash, ctx: Viewer) -> None:
    """Colour buildings and roads by another of their numeric columns."""

    @app.callback(
        Output("base", "data"),
        Input("bmetric", "value"),
        Input("rmetric", "value"),
        prevent_initial_call=True,
    )
    def recolour(bmetric: str | None, rmetric: str | None) -> dict[str, Any]:
        return ctx.base(bmetric, rmetric)


def register_clientside(app: dash.Dash) -> None:
    """The browser's own callbacks (``app/assets/twin_viewer.js``): PNG export,
    presentation mode and the map's rendering."""
    for fn, out, inputs in (
        ("png", "png-done", [Input("png", "n_clicks")]),
        ("present", "present-done", [Input("present", "n_clicks")]),
    ):
        app.clientside_callback(
            dash.ClientsideFunction(namespace="twin", function_name=fn),
            Output(out, "children"),
            *inputs,
            prevent_initial_call=True,
        )
    # the page's language follows the switch (screen readers, hyphenation, spell checkers)
    app.clientside_callback(
        "function (lg) { document.documentElement.lang = lg || 'fr'; return ''; }",
        Output("lang-done", "children"),
        Input("lang", "value"),
    )
    app.clientside_callback(
        dash.ClientsideFunction(namespace="twin", function_name="render"),
        Output("rendered", "children"),
        Input("base", "data"),
        Input("scenario", "data"),
        State("map-left", "id"),
    )
