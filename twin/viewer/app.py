"""The Dash application: a 3D map (deck.gl, local bundle), a scenario picker, side-by-side and
difference views, KPI cards and a chart, and the algorithm notice one click away.

Everything is served by the app itself (Dash's own JavaScript, plotly.js and the deck.gl bundle
in ``app/assets``); no CDN, no basemap. Runs are only read through :mod:`twin.scenario`; the
browser names runs by id, never by file-system path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dash
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from twin.errors import StoreError, message
from twin.model.twin import Twin
from twin.scenario.runner import Run
from twin.store.twinstore import open_twin
from twin.viewer import payload as pl
from twin.viewer.i18n import tr

ASSETS = Path(__file__).resolve().parents[2] / "app" / "assets"


@dataclass
class Catalogue:
    """The twin and the runs the viewer can show."""

    twin_dir: Path
    runs_dir: Path
    twin: Twin
    runs: dict[str, Path] = field(default_factory=dict)
    _cache: dict[str, Run] = field(default_factory=dict, repr=False)

    def refresh(self) -> None:
        """Find finished runs (directories with a run.json)."""
        self.runs = {}
        if self.runs_dir.is_dir():
            for p in sorted(self.runs_dir.iterdir()):
                if (p / "run.json").is_file():
                    self.runs[p.name] = p

    def run(self, run_id: str) -> Run:
        """A run by id (only ids found in the run store are accepted), read once."""
        if run_id not in self.runs:
            msg = message(f"unknown run '{run_id}'", where="viewer", fix="pick a run from the list")
            raise StoreError(msg)
        if run_id not in self._cache:
            self._cache[run_id] = Run.open(self.runs[run_id])
        return self._cache[run_id]


def base_payload(t: Twin, metric: str = "height_m") -> dict[str, Any]:
    """Static layers of the twin: buildings, roads, lamps, and the initial view."""
    out: dict[str, Any] = {}
    if "buildings" in t:
        b = t["buildings"]
        h = b["height_m"].to_numpy(float) if "height_m" in b else np.full(len(b), 9.0)
        val = b[metric].to_numpy(float) if metric in b else h
        out["buildings"] = pl.polygons(b, h, val, label=metric, unit="m")
    for name in ("roads", "streets"):
        if name in t and t.layer(name).kind == "network":
            links = t[name].links
            v = links["speed_kph"].to_numpy(float) if "speed_kph" in links else np.zeros(len(links))
            out["roads"] = pl.paths(links, v, label="speed_kph", unit="km/h", width=2.5)
            break
    for name in ("street_lamps", "street_lights"):
        if name in t:
            lamps = t[name]
            v = lamps["power_w"].to_numpy(float) if "power_w" in lamps else np.zeros(len(lamps))
            out["lamps"] = pl.points(lamps, v, label="power_w", unit="W", radius=3)
            break
    w, s, e, n = t.extent_lonlat
    out["view"] = {
        "longitude": (w + e) / 2,
        "latitude": (s + n) / 2,
        "zoom": 14.6,
        "pitch": 50,
        "bearing": -20,
    }
    out["name"] = t.name
    return out


#: Preferred column to colour a result layer by, first match wins.
PREFERRED = ("flow_veh_h", "access_time_s", "energy_kwh", "em_lx", "value")
UNITS = {"flow_veh_h": "veh/h", "access_time_s": "s", "energy_kwh": "kWh", "em_lx": "lx"}


def _value_column(d: Any, diff: bool) -> str | None:
    cols = [c for c in d.columns if c != "geometry"]
    if diff:
        for pref in PREFERRED:
            if f"{pref}_diff" in cols:
                return f"{pref}_diff"
        return next((c for c in cols if c.endswith("_diff")), None)
    for pref in PREFERRED:
        if pref in cols:
            return pref
    return next(
        (
            c
            for c in cols
            if pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c])
        ),
        None,
    )


def _slots(r: Run, diff: Any = None) -> dict[str, tuple[Any, str, np.ndarray, str]]:
    """Result layers to draw: slot (points, paths, grid) → (data, column, values, unit)."""
    out: dict[str, tuple[Any, str, np.ndarray, str]] = {}
    src = diff.layers if diff is not None else r.outputs
    for lay in src.values():
        d = lay.data
        if lay.kind == "grid":
            var = "trees" if "trees" in d else next(iter(d.data_vars))
            out.setdefault("grid", (d[var], var, d[var].to_numpy().astype(float), ""))
            continue
        col = _value_column(d, diff is not None)
        if col is None or len(d) == 0:
            continue
        lines = bool(d.geom_type.isin(["LineString", "MultiLineString"]).all())
        if lines and (d.geom_type == "MultiLineString").any():
            d = d.explode(index_parts=False)
        unit = UNITS.get(col.removesuffix("_diff"), "")
        out.setdefault("paths" if lines else "points", (d, col, d[col].to_numpy(float), unit))
    return out


def shared_ranges(*runs: Run) -> dict[str, tuple[float, float]]:
    """Common colour ranges of each result slot over several runs (side-by-side views)."""
    acc: dict[str, list[float]] = {}
    for r in runs:
        for slot, (_, _, v, _) in _slots(r).items():
            ok = v[np.isfinite(v)]
            if len(ok):
                acc.setdefault(slot, []).extend([float(ok.min()), float(ok.max())])
    return {k: (min(v), max(v)) for k, v in acc.items()}


def run_layers(
    r: Run, diff: Any = None, ranges: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    """The result layers of a run (or of a comparison when ``diff`` is given): at most one
    point layer, one line layer and one grid, coloured by their main value (on ``ranges``
    when given, so that two views share one scale)."""
    side: dict[str, Any] = {}
    div = diff is not None
    for slot, (d, col, v, unit) in _slots(r, diff).items():
        rng = (ranges or {}).get(slot)
        if slot == "grid":
            side["grid"] = pl.grid_image(d, label=col, unit=unit, diverging=div, vrange=rng)
        elif slot == "paths":
            side["paths"] = pl.paths(d, v, label=col, unit=unit, diverging=div, width=6, vrange=rng)
        else:
            side["points"] = pl.points(
                d, v, label=col, unit=unit, diverging=div, radius=6, vrange=rng
            )
    return side


def parent_of(cat: Catalogue, r: Run) -> Run | None:
    """The parent run recorded in the manifest, if it is in the store."""
    pid = r.manifest.get("parent_run")
    return cat.run(pid) if pid in cat.runs else None


def _judge(delta: float, better: str) -> str:
    """``good``, ``bad`` or ``neutral`` for a change, given which direction is better."""
    if not np.isfinite(delta) or abs(delta) < 1e-12 or better not in ("lower", "higher"):
        return "neutral"
    return "good" if (delta < 0) == (better == "lower") else "bad"


def show(value: float, unit: str) -> str:
    """A KPI value for people: shares as percentages, large numbers with separators."""
    v = float(value)
    if not np.isfinite(v):
        return "–"
    if unit == "1":
        return f"{100 * v:.1f} %"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return f"{text} {unit}"


def kpi_cards(r: Run, parent: Run | None, lang: str) -> list[Any]:
    """One card per KPI: value, unit, change against the parent (coloured by `better`)."""
    cards = []
    for k, row in r.kpis.iterrows():
        change = ""
        good = "neutral"
        if parent is not None and k in parent.kpis.index:
            a, b = float(parent.kpis.loc[k, "value"]), float(row["value"])
            delta = b - a
            if np.isfinite(delta):
                good = _judge(delta, str(row.get("better", "neutral")))
                pct = f" ({100 * delta / abs(a):+.1f} %)" if a else ""
                change = (
                    f"{100 * delta:+.1f} pts"
                    if row["unit"] == "1"
                    else f"{delta:+,.3g} {row['unit']}"
                ) + ("" if row["unit"] == "1" else pct)
        cards.append(
            html.Div(
                className=f"kpi {good}",
                children=[
                    html.Div(
                        tr(lang, f"kpi.{k}", default=str(row["description"])), className="kpi-label"
                    ),
                    html.Div(show(row["value"], str(row["unit"])), className="kpi-value"),
                    html.Div(change, className="kpi-delta"),
                ],
            )
        )
    return cards


def pl_format(v: float) -> str:
    """Short format of a legend bound."""
    v = float(v)
    if not np.isfinite(v):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def kpi_chart(r: Run, parent: Run | None, lang: str) -> go.Figure:
    """Bar chart of the % change of each KPI against the parent (green better, red worse)."""
    fig = go.Figure()
    if parent is not None:
        idx = [k for k in r.kpis.index if k in parent.kpis.index]
        a = parent.kpis.loc[idx, "value"].astype(float)
        b = r.kpis.loc[idx, "value"].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(a.abs() > 0, 100 * (b - a) / a.abs(), 0.0)
        pct = np.nan_to_num(pct)
        palette = {"good": "#1a9850", "bad": "#d73027", "neutral": "#9aa5ae"}
        colours = [palette[_judge(float(b[k] - a[k]), str(r.kpis.loc[k, "better"]))] for k in idx]
        fig.add_bar(
            x=pct,
            y=[tr(lang, f"kpi.{k}", default=k) for k in idx],
            orientation="h",
            marker_color=colours,
        )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=200,
        title=tr(lang, "chart.title"),
        xaxis_title="%",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def create_app(
    twin_dir: str | Path, runs_dir: str | Path | None = None, *, lang: str = "fr"
) -> dash.Dash:
    """Build the viewer for a twin directory and its run store."""
    tdir = Path(twin_dir)
    rdir = Path(runs_dir) if runs_dir is not None else tdir.resolve().parent / "runs"
    cat = Catalogue(tdir, rdir, open_twin(tdir))
    cat.refresh()
    base = base_payload(cat.twin)
    app = dash.Dash(
        __name__, assets_folder=str(ASSETS), title="twin", serve_locally=True, update_title=""
    )
    app.server.config["TWIN_CATALOGUE"] = cat

    options = [{"label": rid, "value": rid} for rid in cat.runs]
    first = next((r for r in cat.runs if not r.startswith("baseline")), None) or (
        options[0]["value"] if options else None
    )
    app.layout = html.Div(
        className="twin",
        children=[
            dcc.Store(id="base", data=base),
            dcc.Store(id="scenario"),
            html.Header(
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
            ),
            html.Div(
                className="body",
                children=[
                    html.Aside(
                        children=[
                            html.Label(id="run-label", htmlFor="run"),
                            dcc.Dropdown(id="run", options=options, value=first, clearable=False),
                            html.Label(id="mode-label"),
                            dcc.RadioItems(id="mode", value="single"),
                            html.Label(id="layers-label"),
                            dcc.Checklist(
                                id="layers", value=["buildings", "roads", "lamps", "results"]
                            ),
                            html.Div(id="legend", className="legend"),
                            html.A(id="notice", target="_blank", className="notice"),
                            html.A(id="export", className="notice"),
                        ]
                    ),
                    html.Main(
                        children=[
                            html.Div(
                                className="maps",
                                children=[
                                    html.Div(id="map-left", className="map"),
                                    html.Div(id="map-right", className="map"),
                                ],
                            ),
                            html.Div(id="kpis", className="kpis"),
                            dcc.Graph(id="chart", config={"displayModeBar": False}),
                            html.Div(id="rendered", style={"display": "none"}),
                            html.Div(id="png-done", style={"display": "none"}),
                            html.Div(id="present-done", style={"display": "none"}),
                        ]
                    ),
                ],
            ),
            html.Footer(id="attribution"),
        ],
    )

    @app.callback(
        Output("title", "children"),
        Output("run-label", "children"),
        Output("mode-label", "children"),
        Output("mode", "options"),
        Output("layers-label", "children"),
        Output("layers", "options"),
        Output("attribution", "children"),
        Input("lang", "value"),
    )
    def labels(lg: str) -> tuple[Any, ...]:
        return (
            f"twin — {cat.twin.name}",
            tr(lg, "scenario"),
            tr(lg, "view"),
            [{"label": tr(lg, f"mode.{m}"), "value": m} for m in ("single", "side", "diff")],
            tr(lg, "layers"),
            [
                {"label": tr(lg, f"layer.{k}"), "value": k}
                for k in ("buildings", "roads", "lamps", "results")
            ],
            attribution(cat.twin),
        )

    @app.callback(
        Output("scenario", "data"),
        Output("kpis", "children"),
        Output("chart", "figure"),
        Output("legend", "children"),
        Output("notice", "href"),
        Output("notice", "children"),
        Output("map-right", "style"),
        Output("export", "href"),
        Output("export", "children"),
        Input("run", "value"),
        Input("mode", "value"),
        Input("layers", "value"),
        Input("lang", "value"),
    )
    def select(run_id: str | None, mode: str, layers: list[str], lg: str) -> tuple[Any, ...]:
        visible = {k: k in (layers or []) for k in ("buildings", "roads", "lamps", "results")}
        if not run_id:
            return (
                {"visible": visible, "key": "none"},
                [],
                go.Figure(),
                [],
                None,
                "",
                {"display": "none"},
                None,
                "",
            )
        r = cat.run(run_id)
        parent = parent_of(cat, r)
        data: dict[str, Any] = {"visible": visible, "key": f"{run_id}:{mode}"}
        if mode == "diff" and parent is not None:
            data["left"] = run_layers(r, diff=r.compare(parent))
        else:
            data["left"] = run_layers(r)
        if mode == "side" and parent is not None:
            ranges = shared_ranges(parent, r)
            data["left"] = run_layers(parent, ranges=ranges)
            data["right"] = run_layers(r, ranges=ranges)
        legends = legend_items(base, data, lg)
        href = f"/notice/{run_id}/{lg}"
        style = {} if "right" in data else {"display": "none"}
        return (
            data,
            kpi_cards(r, parent, lg),
            kpi_chart(r, parent, lg),
            legends,
            href,
            tr(lg, "notice"),
            style,
            f"/export/{run_id}/{lg}",
            tr(lg, "export.html"),
        )

    @app.callback(
        Output("run", "value"),
        Input("prev", "n_clicks"),
        Input("next", "n_clicks"),
        State("run", "value"),
        prevent_initial_call=True,
    )
    def step(_p: int | None, _n: int | None, current: str | None) -> str | None:
        """Step through the comparisons (every run but the baselines), in order."""
        ids = [o["value"] for o in options if not o["value"].startswith("baseline")]
        ids = ids or [o["value"] for o in options]
        if not ids:
            return current
        k = ids.index(current) if current in ids else -1
        delta = -1 if dash.ctx.triggered_id == "prev" else 1
        return ids[(k + delta) % len(ids)]

    @app.callback(Output("present", "children"), Input("lang", "value"))
    def present_label(lg: str) -> str:
        return tr(lg, "present")

    app.clientside_callback(
        dash.ClientsideFunction(namespace="twin", function_name="png"),
        Output("png-done", "children"),
        Input("png", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        dash.ClientsideFunction(namespace="twin", function_name="present"),
        Output("present-done", "children"),
        Input("present", "n_clicks"),
        prevent_initial_call=True,
    )

    app.clientside_callback(
        dash.ClientsideFunction(namespace="twin", function_name="render"),
        Output("rendered", "children"),
        Input("base", "data"),
        Input("scenario", "data"),
        State("map-left", "id"),
    )

    @app.server.route("/export/<run_id>/<lg>")
    def offline(run_id: str, lg: str) -> Any:
        from flask import Response, abort

        from twin.viewer.offline import comparison_html

        if run_id not in cat.runs or lg not in ("fr", "en"):
            abort(404)
        return Response(
            comparison_html(cat, run_id, lg),
            mimetype="text/html",
            headers={"Content-Disposition": f'attachment; filename="twin-{run_id}.html"'},
        )

    @app.server.route("/notice/<run_id>/<lg>")
    def notice(run_id: str, lg: str) -> Any:
        from flask import abort, send_file

        if run_id not in cat.runs or lg not in ("fr", "en"):
            abort(404)
        return send_file(cat.runs[run_id] / f"notice.{lg}.html", mimetype="text/html")

    return app


def legend_items(base: dict[str, Any], data: dict[str, Any], lg: str) -> list[Any]:
    """Legend blocks for the visible layers."""
    items = []
    blocks = [
        (tr(lg, "layer.buildings"), base.get("buildings")),
        (tr(lg, "layer.roads"), base.get("roads")),
        (tr(lg, "layer.lamps"), base.get("lamps")),
    ]
    left = data.get("left") or {}
    blocks += [
        (tr(lg, "layer.results"), left.get("points")),
        (tr(lg, "layer.grid"), left.get("grid")),
    ]
    for title, p in blocks:
        if not p:
            continue
        lg_ = p["legend"]
        stops = ", ".join(f"rgb({r},{g},{b})" for r, g, b in lg_["stops"])
        items.append(
            html.Div(
                className="legend-item",
                children=[
                    html.Div(f"{title} — {lg_['label']} [{lg_['unit']}]".replace(" []", "")),
                    html.Div(
                        className="ramp", style={"background": f"linear-gradient(90deg, {stops})"}
                    ),
                    html.Div(
                        className="range",
                        children=[
                            html.Span(pl_format(lg_["min"])),
                            html.Span(pl_format(lg_["max"])),
                        ],
                    ),
                ],
            )
        )
    return items


def attribution(t: Twin) -> str:
    """Attribution line from every layer's provenance."""
    seen: dict[str, str] = {}
    for lay in t.layers.values():
        p = lay.provenance
        seen.setdefault(p.producer, p.attribution or f"{p.producer} ({p.licence})")
    return " · ".join(seen.values())


def runs_table(cat: Catalogue) -> pd.DataFrame:
    """The runs in the store, with their scenario and parent (for the CLI and tests)."""
    rows = []
    for rid, p in cat.runs.items():
        m = json.loads((p / "run.json").read_text())
        rows.append(
            {"run_id": rid, "scenario": m["scenario"]["name"], "parent_run": m.get("parent_run")}
        )
    return pd.DataFrame(rows)
