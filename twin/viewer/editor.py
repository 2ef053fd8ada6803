"""The what-if editor panel of the viewer: forms and map tools, launch, progress.

Map tools (``app/assets/twin_viewer.js``): with *close a street* on, a click on a road sends
its index in the drawn road layer (mapped to a link id here); with *draw an area* on, each
click adds a vertex of a polygon, which carries the intervention picked under it (trees, cool
roofs, green roofs, water, de-sealing) with its main parameter. The launch callback validates
the form into a scenario (:mod:`twin.viewer.whatif`) and queues it in the
:class:`~twin.viewer.jobs.JobTable`, or shows each of its problems under its field in the
interface language (:mod:`twin.viewer.problems`); before the launch, the changes the form will
launch are listed in plain words, each with an undo. A ``dcc.Interval`` polls the job table
and shows one progress bar per job of this browser tab.
When a job finishes, its run is added to the scenario picker and selected.
"""

from __future__ import annotations

import json
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from twin.errors import FormError, InputError
from twin.viewer import whatif as wi
from twin.viewer.catalogue import Catalogue, run_options
from twin.viewer.i18n import tr
from twin.viewer.jobs import STARTUP_S, JobTable
from twin.viewer.layout import on_language, preset
from twin.viewer.problems import FIELDS, Problem, by_field

#: Texts of the panel, set by language: element id → text key.
LABELS = {
    "wi-title": "wi.title",
    "wi-parent-label": "wi.parent",
    "wi-name-label": "wi.name",
    "wi-tool-label": "wi.tool",
    "wi-links-label": "wi.links",
    "wi-area-label": "wi.area",
    "wi-kind-label": "wi.kind",
    "wi-lamps-label": "wi.lamps",
    "wi-sched-label": "wi.schedule",
    "wi-clear": "wi.clear",
    "wi-pending-label": "wi.pending",
    "wi-launch": "wi.launch",
}


def _error(name: str) -> html.Div:
    """The place of a field's problems, under it (filled by :func:`register_problems`)."""
    return html.Div(id=f"wi-err-{name}", className="wi-field-error")


def first_area() -> str:
    """The area intervention the editor offers first (the first its domains declare)."""
    return next(iter(wi.area_interventions()))


def panel(cat: Catalogue) -> html.Details:
    """The editor's controls (in the side panel)."""
    groups = wi.lamp_groups(cat.twin)
    first = wi.area_parameter(first_area())
    return html.Details(
        id="whatif",
        className="whatif",
        children=[
            html.Summary(id="wi-title"),
            html.Label(id="wi-parent-label", htmlFor="wi-parent"),
            dcc.Dropdown(id="wi-parent", options=run_options(cat), clearable=False),
            html.Label(id="wi-name-label", htmlFor="wi-name"),
            dcc.Input(id="wi-name", type="text", value="whatif", debounce=True),
            _error("name"),
            html.Label(id="wi-tool-label"),
            dcc.RadioItems(id="wi-tool", value="none"),
            html.Label(id="wi-links-label", htmlFor="wi-links"),
            dcc.Dropdown(id="wi-links", multi=True, options=[], value=[]),
            _error("links"),
            html.Label(id="wi-area-label"),
            html.Div(id="wi-area", className="wi-note"),
            _error("area"),
            html.Button(id="wi-clear", n_clicks=0),
            html.Label(id="wi-kind-label", htmlFor="wi-kind"),
            dcc.Dropdown(id="wi-kind", value=first_area(), clearable=False),
            _error("kind"),
            html.Label(id="wi-amount-label", htmlFor="wi-amount"),
            html.Div(  # room under the slider for its value
                dcc.Slider(
                    id="wi-amount",
                    min=first.low,
                    max=first.high,
                    step=0.05,
                    value=first.default,
                    marks=None,
                    tooltip={"placement": "bottom", "always_visible": True},
                ),
                style={"paddingBottom": "1.6rem"},
            ),
            _error("amount"),
            html.Label(id="wi-lamps-label", htmlFor="wi-lamps"),
            dcc.Dropdown(id="wi-lamps", options=lamp_options(groups, "en"), value=None),
            html.Label(id="wi-sched-label"),
            html.Div(
                className="wi-sched",
                children=[
                    dcc.Input(id="wi-dim-start", type="text", value="22:00", size="5"),
                    dcc.Input(id="wi-dim-end", type="text", value="05:30", size="5"),
                    dcc.Input(id="wi-dim-level", type="number", value=0.5, min=0, max=1, step=0.05),
                ],
            ),
            *(_error(f) for f in ("dim_start", "dim_end", "dim_level")),
            # the changes the form will launch, each with its undo
            html.Label(id="wi-pending-label"),
            html.Ul(id="wi-pending", className="wi-pending"),
            _error("changes"),
            html.Button(id="wi-launch", n_clicks=0, className="launch"),
            html.Div(id="wi-errors", className="wi-errors"),
            dcc.Store(id="wi-problems", data=[]),
            html.Div(id="jobs-list"),
            dcc.Store(id="wi-click"),
            dcc.Store(id="wi-poly", data=[]),
            dcc.Store(id="wi-highlight", data=[]),
            dcc.Store(id="jobs", data={"ids": [], "shown": []}),
            dcc.Interval(id="jobs-poll", interval=1000, disabled=True),
            html.Div(id="wi-tool-done", style={"display": "none"}),
            html.Div(id="wi-overlay-done", style={"display": "none"}),
        ],
    )


def _num(v: Any, default: float) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    return x


def register(
    app: dash.Dash, cat: Catalogue, jobs: JobTable, lang: str = "fr", run: str | None = None
) -> None:
    """The editor's callbacks (``lang`` and ``run``: what the page shows first)."""
    register_labels(app, lang, wi.lamp_groups(cat.twin))
    # the editor starts from the run on screen; runs are named in the page's language
    preset(
        app.layout, {("wi-parent", "value"): run, ("wi-parent", "options"): run_options(cat, lang)}
    )
    register_map_tools(app, cat)
    register_pending(app, cat)
    register_answered(app)
    register_launch(app, cat, jobs)
    register_problems(app)
    register_poll(app, cat, jobs)


def lamp_options(groups: list[tuple[str, str, str]], lang: str) -> list[dict[str, str]]:
    """The lamp groups to dim (:func:`twin.viewer.whatif.lamp_groups`) as dropdown options:
    every lamp in words of ``lang``, a group as ``<column> = <value>`` (data, not words)."""
    return [
        {"label": tr(lang, "wi.lamps.all") if v == "all" else f"{col} = {val}", "value": v}
        for v, col, val in groups
    ]


def register_labels(app: dash.Dash, lang: str, groups: list[tuple[str, str, str]]) -> None:
    """The panel's words in the language picked, and the area intervention's parameter
    (``groups``: the lamp groups offered)."""

    def labels(lg: str, poly: list | None, kind: str | None) -> list[Any]:
        tools = [{"label": tr(lg, f"wi.tool.{k}"), "value": k} for k in ("none", "close", "draw")]
        area = tr(lg, "wi.points").format(n=len(poly or []))
        areas = wi.area_interventions()
        kinds = [{"label": m.title[lg], "value": k} for k, m in areas.items()]
        amount = areas[kind if kind in areas else first_area()].amount.label[lg]
        lamps = lamp_options(groups, lg)
        return [tr(lg, v) for v in LABELS.values()] + [tools, area, kinds, amount, lamps]

    on_language(
        app,
        lang,
        labels,
        [
            *((k, "children") for k in LABELS),
            ("wi-tool", "options"),
            ("wi-area", "children"),
            ("wi-kind", "options"),
            ("wi-amount-label", "children"),
            ("wi-lamps", "options"),
        ],
        Input("wi-poly", "data"),
        Input("wi-kind", "value"),
    )

    @app.callback(
        Output("wi-amount", "min"),
        Output("wi-amount", "max"),
        Output("wi-amount", "value"),
        Input("wi-kind", "value"),
        prevent_initial_call=True,
    )
    def amount(kind: str | None) -> tuple[float, float, float]:
        """The parameter of the area's intervention: its range and default (the schema's)."""
        par = wi.area_parameter(kind if kind in wi.area_interventions() else first_area())
        return par.low, par.high, par.default


def register_map_tools(app: dash.Dash, cat: Catalogue) -> None:
    """Streets closed (picked in the list or clicked on the map) and highlighted, the area
    drawn, the map tool on, and the parent run following the scenario picker."""

    @app.callback(
        Output("wi-links", "options"),
        Output("wi-links", "value"),
        Input("wi-links", "search_value"),
        Input("wi-click", "data"),
        Input("wi-links", "value"),
        State("lang", "value"),
        prevent_initial_call=True,
    )
    def links(search: str | None, click: dict | None, value: list[str] | None, lg: str) -> tuple:
        value = wi.expand_streets(cat.twin, [str(v) for v in value or []])
        if dash.ctx.triggered_id == "wi-click" and click:
            idx = click.get("index")
            picked = [idx] if isinstance(idx, int) else []
            for lid in wi.link_ids_from_indices(cat.twin, picked):
                if lid in value:
                    value.remove(lid)  # a second click reopens the street
                else:
                    value.append(lid)
        chosen = wi.link_options_for(cat.twin, value)
        found = wi.link_options(cat.twin, search or "", lang=lg) if search else []
        seen = {o["value"] for o in chosen}
        options = chosen + [o for o in found if o["value"] not in seen]
        # typing in the search leaves the selection alone (re-sending it would redraw the box)
        typing = dash.ctx.triggered_id == "wi-links" and not any(
            str(t["prop_id"]).endswith(".value") for t in dash.ctx.triggered
        )
        return options, dash.no_update if typing else value

    # The editor starts from the run on screen (another can be picked). In the page: a
    # switch of run must not wait for a round trip of the editor's.
    app.clientside_callback(
        "function (run) { return run; }",
        Output("wi-parent", "value"),
        Input("run", "value"),
        prevent_initial_call=True,
    )
    # A new base run starts an empty what-if: closures, area and dimming chosen for another
    # run are not carried over (they were launched with the next what-if). A part already
    # empty is left alone, so that nothing that follows it (the highlight on the map, the
    # pending list) is computed again for nothing.
    app.clientside_callback(
        dash.ClientsideFunction(namespace="twin", function_name="resetForm"),
        Output("wi-links", "value", allow_duplicate=True),
        Output("wi-poly", "data", allow_duplicate=True),
        Output("wi-lamps", "value"),
        Input("wi-parent", "value"),
        State("wi-links", "value"),
        State("wi-poly", "data"),
        State("wi-lamps", "value"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("wi-highlight", "data"), Input("wi-links", "value"), prevent_initial_call=True
    )
    def highlight(value: list[str] | None) -> list[int]:
        return wi.link_indices(cat.twin, list(value or []))

    @app.callback(
        Output("wi-poly", "data", allow_duplicate=True),
        Input("wi-clear", "n_clicks"),
        prevent_initial_call=True,
    )
    def clear(_n: int) -> list:
        return []

    app.clientside_callback(
        "function (t) { window.twinTool = t; return t; }",
        Output("wi-tool-done", "children"),
        Input("wi-tool", "value"),
    )
    app.clientside_callback(
        dash.ClientsideFunction(namespace="twin", function_name="overlay"),
        Output("wi-overlay-done", "children"),
        Input("wi-highlight", "data"),
        Input("wi-poly", "data"),
    )


#: The editor's form fields, in the order :func:`register_launch` receives them.
FORM = [
    ("wi-parent", "value"),
    ("wi-name", "value"),
    ("wi-links", "value"),
    ("wi-poly", "data"),
    ("wi-kind", "value"),
    ("wi-amount", "value"),
    ("wi-lamps", "value"),
    ("wi-dim-start", "value"),
    ("wi-dim-end", "value"),
    ("wi-dim-level", "value"),
]


def read_form(cat: Catalogue, values: list[Any]) -> wi.Form:
    """The editor's form from the values of :data:`FORM`, as received from the browser."""
    parent, name, links, poly, kind, amount, lamps, start, end, level = values
    return wi.Form(
        parent=str(parent),
        name=str(name or ""),
        links=wi.expand_streets(cat.twin, [str(x) for x in (links or [])]),
        polygon=[[float(p[0]), float(p[1])] for p in (poly or []) if len(p) == 2],
        area_type=str(kind or first_area()),
        area_value=_num(amount, float("nan")),  # an emptied value is reported
        lamp_group=lamps if lamps in {g[0] for g in wi.lamp_groups(cat.twin)} else None,
        dim_start=str(start or ""),
        dim_end=str(end or ""),
        dim_level=_num(level, -1.0),
    )


def submit(cat: Catalogue, jobs: JobTable, parent: str, form: wi.Form) -> str:
    """Queue the scenario of ``form`` on run ``parent`` (its chain of scenarios as library);
    the job id.

    Raises
    ------
    FormError
        When the form is not a valid scenario (its problems by field of the form).
    SchemaError
        When the parent run is unknown.
    """
    chain = wi.parent_chain({r: cat.manifest(r) for r in cat.runs}, parent)
    sc, lib = wi.build_scenario(cat.twin, chain[_scenario_name(cat, parent)], chain, form)
    total = float(cat.manifest(parent).get("timings", {}).get("total_s", 2.0))
    return jobs.submit(
        json.loads(sc.model_dump_json()),
        {n: json.loads(s.model_dump_json()) for n, s in lib.items() if n != sc.name},
        expected_s=STARTUP_S + 3 * total,
        client=_client(),
    )


def _client() -> str:
    """The address of the browser asking (what-if launches are rate-limited per client)."""
    from flask import has_request_context, request

    return str(request.remote_addr or "") if has_request_context() else ""


def register_launch(app: dash.Dash, cat: Catalogue, jobs: JobTable) -> None:
    """The launch button: the form validated into a scenario and queued, or its problems
    (stored for :func:`register_problems` to show under their fields)."""

    @app.callback(
        Output("wi-problems", "data"),
        Output("jobs", "data"),
        Output("jobs-poll", "disabled"),
        Input("wi-launch", "n_clicks"),
        *(State(i, p) for i, p in FORM),
        State("jobs", "data"),
        prevent_initial_call=True,
    )
    def launch(_n: int, *args: Any) -> tuple:
        *values, store = args
        store = store or {"ids": [], "shown": []}
        cat.refresh()
        parent = values[0]
        if not parent or parent not in cat.runs:
            return [Problem("form", "wi.noparent").to_dict()], store, not store["ids"]
        try:
            job = submit(cat, jobs, parent, read_form(cat, values))
        except FormError as exc:  # the form's problems, each under its field
            return [p.to_dict() for p in exc.problems], store, not store["ids"]
        except InputError as exc:  # too many runs waiting, or launched a moment ago
            text = str(exc)
            return [Problem("form", "wi.err.other", {"text": text}, text).to_dict()], store, False
        return [], {"ids": [*store["ids"], job], "shown": store["shown"]}, False


#: Where the problems of each field of the form are shown (the general ones under the
#: launch button).
ERROR_IDS = {f: ("wi-errors" if f == "form" else f"wi-err-{f}") for f in FIELDS}


def register_problems(app: dash.Dash) -> None:
    """The problems of the last launch, each under its field, in the language picked."""

    @app.callback(
        *(Output(i, "children") for i in ERROR_IDS.values()),
        Input("wi-problems", "data"),
        Input("lang", "value"),
        prevent_initial_call=True,
    )
    def show(stored: list[dict[str, Any]] | None, lg: str) -> list[list[html.Div]]:
        found = by_field(list(stored or []), lg)
        return [[html.Div(text) for text in found[f]] for f in ERROR_IDS]


#: The problems a change of each field of the form answers (a new base run starts afresh).
ANSWERS = {
    "wi-parent": list(FIELDS),
    "wi-name": ["name"],
    "wi-links": ["links", "changes"],
    "wi-poly": ["area", "changes"],
    "wi-kind": ["kind"],
    "wi-amount": ["amount"],
    "wi-lamps": ["changes"],
    "wi-dim-start": ["dim_start"],
    "wi-dim-end": ["dim_end"],
    "wi-dim-level": ["dim_level"],
}


def register_answered(app: dash.Dash) -> None:
    """A field's problem goes as soon as the field is changed (it stayed until the next
    launch); the others stay. In the page: no round trip, nothing sent when no problem is
    shown."""
    app.clientside_callback(
        """function () {
          const stored = arguments[arguments.length - 1] || [], answers = @ANSWERS@;
          const nu = window.dash_clientside.no_update;
          if (!stored.length) return nu;
          const drop = new Set();
          (window.dash_clientside.callback_context.triggered || []).forEach(function (t) {
            (answers[t.prop_id.split(".")[0]] || []).forEach(function (f) { drop.add(f); });
          });
          const kept = stored.filter(function (p) { return !drop.has(p.field); });
          return kept.length === stored.length ? nu : kept;
        }""".replace("@ANSWERS@", json.dumps(ANSWERS)),
        Output("wi-problems", "data", allow_duplicate=True),
        *(Input(i, p) for i, p in FORM),
        State("wi-problems", "data"),
        prevent_initial_call=True,
    )


def register_pending(app: dash.Dash, cat: Catalogue) -> None:
    """The changes the form will launch, listed as the user edits it (from the same
    interventions the launch sends, :func:`twin.viewer.whatif.pending`); each one's undo
    (×) clears its part of the form."""

    # the parent run is read, not listened to: a new base run empties the form (whose parts
    # are listened to), so a switch of run costs no round trip for an empty list
    @app.callback(
        Output("wi-pending", "children"),
        *(Input(i, p) for i, p in FORM[1:]),
        Input("lang", "value"),
        State(*FORM[0]),
    )
    def pending(*args: Any) -> list[html.Li]:
        *rest, lg, parent = args
        values = [parent, *rest]
        changes = wi.pending(cat.twin, read_form(cat, values), lg)
        items = [
            html.Li(
                [
                    html.Span(c.text),
                    html.Button(
                        "×",
                        id={"type": "wi-undo", "part": c.part},
                        n_clicks=0,
                        title=tr(lg, "wi.undo"),
                        className="wi-undo",
                    ),
                ],
                className="wi-change",
            )
            for c in changes
        ]
        return items or [html.Li(tr(lg, "wi.pending.none"), className="wi-note")]

    @app.callback(
        Output("wi-links", "value", allow_duplicate=True),
        Output("wi-poly", "data", allow_duplicate=True),
        Output("wi-lamps", "value", allow_duplicate=True),
        Input({"type": "wi-undo", "part": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def undo(_clicks: list[int | None]) -> tuple:
        """Clear the part of the form of the change whose × was clicked (a list drawn
        again gives new buttons, not clicked: nothing is cleared then)."""
        hit = dash.ctx.triggered_id
        if not isinstance(hit, dict) or not any(t.get("value") for t in dash.ctx.triggered):
            return dash.no_update, dash.no_update, dash.no_update
        part = hit.get("part")
        return (
            [] if part == "links" else dash.no_update,
            [] if part == "area" else dash.no_update,
            None if part == "lamps" else dash.no_update,
        )


def register_poll(app: dash.Dash, cat: Catalogue, jobs: JobTable) -> None:
    """The jobs' progress bars; a finished run joins the pickers and is shown."""

    @app.callback(
        Output("jobs-list", "children"),
        Output("jobs-poll", "disabled", allow_duplicate=True),
        Output("run", "options"),
        Output("wi-parent", "options"),
        Output("run", "value", allow_duplicate=True),
        Output("jobs", "data", allow_duplicate=True),
        Input("jobs-poll", "n_intervals"),
        Input("lang", "value"),  # the pickers name runs in the language picked
        State("jobs", "data"),
        prevent_initial_call=True,
    )
    def poll(_n: int, lg: str, store: dict | None) -> tuple:
        store = store or {"ids": [], "shown": []}
        rows, active, newly = [], False, None
        for jid in store["ids"]:
            j = jobs.get(jid)
            if j is None:
                continue
            active |= j.status in ("queued", "running")
            if j.status == "done" and jid not in store["shown"]:
                newly = j.run_id
                store = {"ids": store["ids"], "shown": [*store["shown"], jid]}
            rows.append(job_row(j, lg))
        if newly is not None:
            cat.refresh()
        opts = run_options(cat, lg)
        return (
            rows,
            not active,
            opts,
            opts,
            newly if newly is not None else dash.no_update,
            store,
        )


def _scenario_name(cat: Catalogue, run_id: str) -> str:
    return str(cat.manifest(run_id)["scenario"]["name"])


def job_row(j: Any, lg: str) -> html.Div:
    """One job: name, status, progress bar, and the error text of a failed run."""
    pct = round(100 * j.progress())
    children: list[Any] = [
        html.Div(
            className="job-head",
            children=[html.Span(j.name), html.Span(f"{tr(lg, 'job.' + j.status)} · {pct} %")],
        ),
        html.Div(
            className="bar",
            children=html.Div(className=f"fill {j.status}", style={"width": f"{pct}%"}),
        ),
    ]
    if j.status == "failed":
        # what went wrong in the interface language; the library's own text (English) folded
        children.append(html.P(tr(lg, f"job.fail.{j.failure or 'crash'}"), className="wi-errors"))
        detail = [html.Summary(tr(lg, "job.detail")), html.Pre(j.error)]
        children.append(html.Details(detail, className="wi-detail"))
    if j.status == "done":
        children.append(html.Div(j.run_id, className="wi-note"))
    return html.Div(className=f"job {j.status}", children=children)
