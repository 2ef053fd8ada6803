"""The Dash application: a 3D map (deck.gl, local bundle), a scenario picker, side-by-side and
difference views, KPI cards and a chart, and the algorithm notice one click away.

Everything is served by the app itself (Dash's own JavaScript, plotly.js and the deck.gl bundle
in ``app/assets``); no CDN, no basemap. Runs are only read through :mod:`twin.scenario`; the
browser names runs by id, never by file-system path.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc, html

from twin.errors import StoreError, message
from twin.model.layer import SensorSeries
from twin.model.twin import Twin
from twin.model.units import unit_of_column
from twin.scenario.runner import Run
from twin.store.twinstore import open_twin
from twin.viewer import payload as pl
from twin.viewer import timeaxis as tx
from twin.viewer.i18n import tooltip_labels, tr, unit_label
from twin.viewer.kpis import kpi_cards, kpi_chart

ASSETS = Path(__file__).resolve().parents[2] / "app" / "assets"


@dataclass
class Catalogue:
    """The twin and the runs the viewer can show."""

    twin_dir: Path
    runs_dir: Path
    twin: Twin
    runs: dict[str, Path] = field(default_factory=dict)
    _cache: dict[str, Run] = field(default_factory=dict, repr=False)
    _manifests: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _comparisons: dict[str, Any] = field(default_factory=dict, repr=False)
    _views: OrderedDict[tuple[str, str, str], dict[str, Any]] = field(
        default_factory=OrderedDict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _vlock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    #: Scenario payloads kept in memory (the most recently used).
    VIEWS = 64

    def refresh(self) -> None:
        """Find finished runs (directories with a run.json); runs are written atomically, so
        a run being written never shows up half-done."""
        runs = {}
        if self.runs_dir.is_dir():
            for p in sorted(self.runs_dir.iterdir()):
                if (p / "run.json").is_file():
                    runs[p.name] = p
        self.runs = runs  # one assignment: readers in other threads see old or new

    def comparison(self, r: Run, parent: Run) -> Any:
        """``r − parent`` (layers and KPIs), computed once per pair."""
        key = f"{r.run_id}|{parent.run_id}"
        if key not in self._comparisons:
            self._comparisons[key] = r.compare(parent)
        return self._comparisons[key]

    def manifest(self, run_id: str) -> dict[str, Any]:
        """The ``run.json`` of a run (by id, from the store), read once."""
        if run_id not in self._manifests:
            self.run_dir(run_id)
            self._manifests[run_id] = json.loads((self.runs[run_id] / "run.json").read_text())
        return self._manifests[run_id]

    def run_dir(self, run_id: str) -> Path:
        """The directory of a run id found in the store (never a path from the browser)."""
        if run_id not in self.runs:
            msg = message(f"unknown run '{run_id}'", where="viewer", fix="pick a run from the list")
            raise StoreError(msg)
        return self.runs[run_id]

    def run(self, run_id: str) -> Run:
        """A run by id (only ids found in the run store are accepted), read once."""
        if run_id not in self.runs:
            msg = message(f"unknown run '{run_id}'", where="viewer", fix="pick a run from the list")
            raise StoreError(msg)
        if run_id not in self._cache:
            with self._lock:  # two requests for one run open it once
                if run_id not in self._cache:
                    self._cache[run_id] = Run.open(self.runs[run_id])
        return self._cache[run_id]

    def layers(self, run_id: str, mode: str, when: str | None) -> dict[str, Any]:
        """The result layers of a run drawn in ``mode`` at time label ``when`` (the payload
        sent to the browser: ``left``, and ``right`` side by side), computed once."""
        key = (run_id, mode, when or "")
        with self._vlock:  # callbacks run in several threads
            hit = self._views.get(key)
            if hit is not None:
                self._views.move_to_end(key)
                return hit
        r = self.run(run_id)
        parent = parent_of(self, r)
        out: dict[str, Any] = {}
        if mode == "diff" and parent is not None:
            out["left"] = run_layers(r, diff=self.comparison(r, parent), when=when)
        elif mode == "side" and parent is not None:
            ranges = shared_ranges(parent, r)
            out["left"] = run_layers(parent, ranges=ranges, when=when)
            out["right"] = run_layers(r, ranges=ranges, when=when)
        else:
            labels = time_labels(r, parent)
            out["left"] = run_layers(r, ranges=shared_ranges(r) if labels else None, when=when)
        with self._vlock:
            self._views[key] = out
            while len(self._views) > self.VIEWS:
                self._views.popitem(last=False)
        return out

    def warm(self, budget_s: float = 10.0) -> int:
        """Open the runs (and read their CRS, KPIs, time axes) and compute their first view
        now, before the first visitor, for at most about ``budget_s`` seconds; the runs left
        are opened when first shown. Returns how many runs were prepared."""
        t0 = time.perf_counter()
        done = 0
        for rid in list(self.runs):
            if time.perf_counter() - t0 > budget_s:
                break
            r = self.run(rid)
            labels = time_labels(r, parent_of(self, r))
            self.layers(rid, "single", labels[0] if labels else None)
            done += 1
        return done


def _id_like(col: str) -> bool:
    return col in ("id", "a_node", "b_node") or col.startswith("osm") or col.endswith("_id")


def numeric_columns(frame: Any) -> list[str]:
    """Numeric (non-boolean) columns of a table, to colour a layer by."""
    return [
        str(c)
        for c in frame.columns
        if c != "geometry"
        and not _id_like(str(c))
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]


def base_payload(
    t: Twin, metric: str = "height_m", road_metric: str = "speed_kph"
) -> dict[str, Any]:
    """Static layers of the twin: buildings (coloured by ``metric``), roads (by
    ``road_metric``), lamps, sensors (see :func:`sensor_payloads`), and the initial view."""
    out: dict[str, Any] = {}
    if "buildings" in t:
        b = t["buildings"]
        h = b["height_m"].to_numpy(float) if "height_m" in b else np.full(len(b), 9.0)
        if metric not in numeric_columns(b):
            metric = "height_m"
        val = b[metric].to_numpy(float) if metric in b else h
        out["buildings"] = pl.polygons(b, h, val, label=metric, unit=unit_of(metric))
    for name in ("roads", "streets"):
        if name in t and t.layer(name).kind == "network":
            links = t[name].links
            col = road_metric if road_metric in numeric_columns(links) else "speed_kph"
            v = links[col].to_numpy(float) if col in links else np.zeros(len(links))
            unit = "km/h" if col.endswith("_kph") else unit_of(col)
            out["roads"] = pl.paths(links, v, label=col, unit=unit, width=2.5)
            break
    for name in ("street_lamps", "street_lights"):
        if name in t:
            lamps = t[name]
            v = lamps["power_w"].to_numpy(float) if "power_w" in lamps else np.zeros(len(lamps))
            out["lamps"] = pl.points(lamps, v, label="power_w", unit="W", radius=3)
            break
    sensors = sensor_payloads(t)
    if sensors:
        out["sensors"] = sensors
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


def sensor_payloads(t: Twin) -> list[dict[str, Any]]:
    """The sensors of every sensor series layer of the twin, one point payload per layer.

    Each layer's sensors are coloured by the time mean of its first numeric variable (see
    :func:`twin.viewer.payload.series_variable`); the unit comes from the variable's name
    suffix, else from its ``units`` attribute. Layers without a numeric variable or a placed
    sensor are left out.
    """
    out = []
    for name, lay in t.layers.items():
        if lay.kind != "series":
            continue
        series: SensorSeries = lay.data
        var = pl.series_variable(series.data)
        if var is None:
            continue
        unit = unit_of(var) or str(series.data[var].attrs.get("units", ""))
        p = pl.sensor_points(series.points, series.data, var, layer=name, unit=unit)
        if p["count"]:
            out.append(p)
    return out


def unit_of(col: str) -> str:
    """The unit of a twin column from its name (``_diff`` and ``@time`` ignored), by the
    data model's unit-suffix convention (:func:`twin.model.units.unit_of_column`)."""
    return unit_of_column(tx.split_column(col)[0].removesuffix("_diff"))


def _columns_by_metric(d: Any, when: str | None) -> dict[str, str]:
    """Columns of a frame by metric name: a metric varying in time (``<metric>@<time>``
    columns) counts as one, at the frame picked for ``when``."""
    names: dict[str, str] = {}
    timed: dict[str, list[tuple[str, str]]] = {}
    for c in d.columns:
        if c == "geometry":
            continue
        metric, t = tx.split_column(c)
        if t is None:
            names[str(c)] = str(c)
        else:
            timed.setdefault(metric, []).append((t, str(c)))
    for metric, frames in timed.items():
        frames.sort()
        names[metric] = frames[tx.pick([f[0] for f in frames], when)][1]
    return names


def _declared(lay: Any, present: Any, diff: bool) -> tuple[str, dict[str, Any]] | None:
    """The first variable the layer's display hints declare that is present (its
    ``<variable>_diff`` in a vector comparison), with its hint."""
    for hint in lay.display:
        var = str(hint["variable"])
        key = f"{var}_diff" if diff and lay.kind != "grid" else var
        if key in present:
            return key, hint
    return None


def result_slots(
    r: Run, diff: Any = None, when: str | None = None
) -> dict[str, tuple[Any, str, np.ndarray, dict[str, Any]]]:
    """Result layers to draw: slot (points, paths, grid) → (data, column, values, hint).

    Only variables declared in the layers' display hints are drawn (the simulations declare
    them; the viewer guesses nothing); ``when`` is a label of the shared time axis: layers
    varying in time show that frame.
    """
    out: dict[str, tuple[Any, str, np.ndarray, dict[str, Any]]] = {}
    src = diff.layers if diff is not None else r.outputs
    for lay in src.values():
        d = lay.data
        if lay.kind == "grid":
            found = _declared(lay, d.data_vars, diff is not None)
            if found is None or "grid" in out:
                continue
            var, hint = found
            da, label = d[var], str(var)
            labels = tx.grid_labels(da)
            if labels:
                k = tx.pick(labels, when)
                da, label = da.isel(time=k), f"{var}@{labels[k]}"
            out["grid"] = (da, label, da.to_numpy().astype(float), hint)
            continue
        if lay.kind != "vector" or len(d) == 0:
            continue
        names = _columns_by_metric(d, when)
        found = _declared(lay, names, diff is not None)
        if found is None:
            continue
        col = names[found[0]]
        lines = bool(d.geom_type.isin(["LineString", "MultiLineString"]).all())
        if lines and (d.geom_type == "MultiLineString").any():
            d = d.explode(index_parts=False)
        out.setdefault("paths" if lines else "points", (d, col, d[col].to_numpy(float), found[1]))
    return out


def time_labels(*runs: Run | None) -> list[str]:
    """The shared time axis: every time label of the runs' result layers, sorted."""
    out: set[str] = set()
    for r in runs:
        if r is not None:
            for lay in r.outputs.values():
                out.update(tx.layer_labels(lay.kind, lay.data))
    return sorted(out)


def shared_ranges(*runs: Run) -> dict[str, tuple[float, float]]:
    """Common colour ranges of each result slot over several runs (side-by-side views) and
    over every time frame (so a colour means the same value at every step of the slider)."""
    acc: dict[str, list[float]] = {}
    frames: list[str | None] = list(time_labels(*runs)) or [None]
    for r in runs:
        for when in frames:
            for slot, (_, _, v, _) in result_slots(r, when=when).items():
                ok = v[np.isfinite(v)]
                if len(ok):
                    acc.setdefault(slot, []).extend([float(ok.min()), float(ok.max())])
    return {k: (min(v), max(v)) for k, v in acc.items()}


def run_layers(
    r: Run,
    diff: Any = None,
    ranges: dict[str, tuple[float, float]] | None = None,
    when: str | None = None,
) -> dict[str, Any]:
    """The result layers of a run (or of a comparison when ``diff`` is given): at most one
    point layer, one line layer and one grid, coloured by their main value (on ``ranges``
    when given, so that two views share one scale)."""
    side: dict[str, Any] = {}
    for slot, (d, col, v, hint) in result_slots(r, diff, when).items():
        rng = (ranges or {}).get(slot)
        unit = str(hint["unit"])
        div = diff is not None or hint.get("palette") == "diverging"
        if slot == "grid":
            p = pl.grid_image(d, label=col, unit=unit, diverging=div, vrange=rng)
        elif slot == "paths":
            p = pl.paths(d, v, label=col, unit=unit, diverging=div, width=6, vrange=rng)
        else:
            p = pl.points(d, v, label=col, unit=unit, diverging=div, radius=6, vrange=rng)
        p["legend"]["title"] = dict(hint["label"])
        side[slot] = p
    return side


def parent_of(cat: Catalogue, r: Run) -> Run | None:
    """The parent run recorded in the manifest, if it is in the store."""
    pid = r.manifest.get("parent_run")
    return cat.run(pid) if pid in cat.runs else None


def pl_format(v: float) -> str:
    """Short format of a legend bound."""
    v = float(v)
    if not np.isfinite(v):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def create_app(
    twin_dir: str | Path,
    runs_dir: str | Path | None = None,
    *,
    lang: str = "fr",
    workers: int = 2,
) -> dash.Dash:
    """Build the viewer for a twin directory and its run store.

    Parameters
    ----------
    twin_dir, runs_dir : path
        The twin, and the run store (default: ``runs`` next to the twin).
    lang : str
        ``fr`` or ``en``.
    workers : int
        Runs of the what-if editor computed at the same time (others wait in a queue).
    """
    from twin.viewer import editor
    from twin.viewer.jobs import JobTable

    tdir = Path(twin_dir)
    rdir = Path(runs_dir) if runs_dir is not None else tdir.resolve().parent / "runs"
    cat = Catalogue(tdir, rdir, open_twin(tdir))
    cat.refresh()
    bases: dict[tuple[str, str], dict[str, Any]] = {}

    def base_for(bmetric: str | None, rmetric: str | None) -> dict[str, Any]:
        """The static layers coloured by the given metrics (computed once per pair)."""
        key = (str(bmetric or "height_m"), str(rmetric or "speed_kph"))
        if key not in bases:
            bases[key] = base_payload(cat.twin, *key)
        return bases[key]

    base = base_for(None, None)
    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="twin",
        serve_locally=True,
        update_title="",
        assets_ignore=HEAD_ASSETS,  # loaded first, from the page's head (see `index`)
    )
    app.server.config["TWIN_CATALOGUE"] = cat
    jobs = JobTable(tdir, rdir, workers=workers)
    app.server.config["TWIN_JOBS"] = jobs

    options = editor.run_options(cat)
    first = next((r for r in cat.runs if not r.startswith("baseline")), None) or (
        options[0]["value"] if options else None
    )
    # the sensors toggle only when the twin has sensors
    all_layers = ["buildings", "roads", "lamps", *(["sensors"] if "sensors" in base else [])]
    all_layers.append("results")

    def view(
        run_id: str | None,
        mode: str,
        layers: list[str] | None,
        lg: str,
        step: int | None,
        bmetric: str | None,
        rmetric: str | None,
    ) -> dict[str, Any]:
        """Everything the page shows for a run: the scenario payload drawn by the map (with
        its tooltips' words in ``lg``), KPI cards, legend, links and the time slider (its
        state and marks); the KPI chart follows the map's first frame (``chart``)."""
        visible = {k: k in (layers or []) for k in all_layers}
        if not run_id or run_id not in cat.runs:
            return {
                "scenario": {"visible": visible, "key": "none", "labels": tooltip_labels(lg)},
                "kpis": [],
                "legend": legend_items(base_for(bmetric, rmetric), {}, lg),  # twin layers
                "notice": (None, ""),
                "right": {"display": "none"},
                "export": (None, ""),
                "report": (None, ""),
                "time": (0, {}, 0, {"display": "none"}),
            }
        r = cat.run(run_id)
        parent = parent_of(cat, r)
        labels = time_labels(r, parent)
        k = min(max(int(step or 0), 0), len(labels) - 1) if labels else 0
        when = labels[k] if labels else None
        mode = mode if mode in ("side", "diff") and parent is not None else "single"
        data: dict[str, Any] = {
            "visible": visible,
            "key": f"{run_id}:{mode}:{when or ''}",
            "labels": tooltip_labels(lg),  # the tooltips' words, in the interface language
            **cat.layers(run_id, mode, when),
        }
        return {
            "scenario": data,
            "kpis": kpi_cards(r, parent, lg),
            "legend": legend_items(base_for(bmetric, rmetric), data, lg),
            "notice": (f"/notice/{run_id}/{lg}", tr(lg, "notice")),
            "right": {} if "right" in data else {"display": "none"},
            "export": (f"/export/{run_id}/{lg}", tr(lg, "export.html")),
            "report": (f"/report/{run_id}/{lg}", tr(lg, "export.report")),
            "time": (
                max(len(labels) - 1, 0),
                tx.marks(labels),
                k,
                {} if labels else {"display": "none"},
            ),
        }

    # the first view is in the page itself: the map is drawn with no callback round trip
    # a value missing from its options would be cleared by the dropdown in the browser, a
    # change that would send the static layers again and draw the city twice
    b_opts, r_opts = metric_options(cat.twin, "buildings"), metric_options(cat.twin, "roads")
    b_val = "height_m" if {"value": "height_m", "label": "height_m"} in b_opts else None
    r_val = "speed_kph" if {"value": "speed_kph", "label": "speed_kph"} in r_opts else None
    init = view(first, "single", all_layers, lang, 0, b_val, r_val)
    app.layout = html.Div(
        className="twin",
        children=[
            # empty until a callback fills them: the first view is served apart (below)
            dcc.Store(id="base"),
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
                            dcc.Checklist(id="layers", value=all_layers),
                            html.Label(id="bmetric-label", htmlFor="bmetric"),
                            dcc.Dropdown(
                                id="bmetric", options=b_opts, value=b_val, clearable=False
                            ),
                            html.Label(id="rmetric-label", htmlFor="rmetric"),
                            dcc.Dropdown(
                                id="rmetric", options=r_opts, value=r_val, clearable=False
                            ),
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
                            editor.panel(cat),
                        ]
                    ),
                    html.Main(
                        children=[
                            html.Div(
                                id="time-box",
                                className="timebar",
                                style=init["time"][3],
                                children=dcc.Slider(
                                    id="time",
                                    min=0,
                                    max=init["time"][0],
                                    step=1,
                                    value=init["time"][2],
                                    marks=init["time"][1],
                                ),
                            ),
                            html.Div(
                                className="maps",
                                children=[
                                    html.Div(id="map-left", className="map"),
                                    html.Div(id="map-right", className="map", style=init["right"]),
                                ],
                            ),
                            html.Div(init["kpis"], id="kpis", className="kpis"),
                            # filled after the map's first frame: plotly.js (4.8 MB) is only fetched
                            # once the map is on screen
                            html.Div(id="chart-box", className="chart"),
                            html.Div(id="rendered", style={"display": "none"}),
                            html.Div(id="painted", style={"display": "none"}),
                            html.Div(id="png-done", style={"display": "none"}),
                            html.Div(id="present-done", style={"display": "none"}),
                        ]
                    ),
                ],
            ),
            html.Footer(id="attribution"),
        ],
    )

    def labels(lg: str) -> tuple[Any, ...]:
        return (
            f"twin — {cat.twin.name}",
            tr(lg, "scenario"),
            tr(lg, "view"),
            [{"label": tr(lg, f"mode.{m}"), "value": m} for m in ("single", "side", "diff")],
            tr(lg, "layers"),
            [{"label": tr(lg, f"layer.{k}"), "value": k} for k in all_layers],
            attribution(cat.twin),
            tr(lg, "colour.buildings"),
            tr(lg, "colour.roads"),
            tr(lg, "present"),
        )

    on_language(
        app,
        lang,
        labels,
        [
            ("title", "children"),
            ("run-label", "children"),
            ("mode-label", "children"),
            ("mode", "options"),
            ("layers-label", "children"),
            ("layers", "options"),
            ("attribution", "children"),
            ("bmetric-label", "children"),
            ("rmetric-label", "children"),
            ("present", "children"),
        ],
    )

    @app.callback(
        Output("scenario", "data"),
        Output("kpis", "children"),
        Output("legend", "children"),
        Output("notice", "href"),
        Output("notice", "children"),
        Output("map-right", "style"),
        Output("export", "href"),
        Output("export", "children"),
        Output("report", "href"),
        Output("report", "children"),
        Output("time", "max"),
        Output("time", "marks"),
        Output("time", "value"),
        Output("time-box", "style"),
        Input("run", "value"),
        Input("mode", "value"),
        Input("layers", "value"),
        Input("lang", "value"),
        Input("time", "value"),
        Input("bmetric", "value"),
        Input("rmetric", "value"),
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
    ) -> tuple[Any, ...]:
        """One round trip per change: the view, and the time slider fitted to the run (one
        slider for every layer varying in time, hidden when none does)."""
        v = view(run_id, mode, layers, lg, step, bmetric, rmetric)
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
        )

    @app.callback(
        Output("chart-box", "children"),
        Input("painted", "children"),
        Input("lang", "value"),
        State("run", "value"),
        prevent_initial_call=True,
    )
    def chart(_key: str | None, lg: str, run_id: str | None) -> Any:
        """The KPI chart, drawn once the map is on screen (lazy: plotly.js loads then)."""
        if not run_id or run_id not in cat.runs:
            return []
        r = cat.run(run_id)
        parent = parent_of(cat, r)
        if parent is None:
            return []
        return dcc.Graph(
            id="chart", figure=kpi_chart(r, parent, lg), config={"displayModeBar": False}
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
        ids = [r for r in cat.runs if not r.startswith("baseline")] or list(cat.runs)
        if not ids:
            return current
        k = ids.index(current) if current in ids else -1
        delta = -1 if dash.ctx.triggered_id == "prev" else 1
        return ids[(k + delta) % len(ids)]

    editor.register(app, cat, jobs, lang, first)

    @app.callback(
        Output("base", "data"),
        Input("bmetric", "value"),
        Input("rmetric", "value"),
        prevent_initial_call=True,
    )
    def recolour(bmetric: str | None, rmetric: str | None) -> dict[str, Any]:
        """Colour buildings and roads by another of their numeric columns."""
        return base_for(bmetric, rmetric)

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

    app.index_string = index(app, {"base": base, "scenario": init["scenario"]})

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

    @app.server.route("/report/<run_id>/<lg>")
    def report(run_id: str, lg: str) -> Any:
        from flask import Response, abort

        from twin.viewer.report import report_page

        cat.refresh()
        if run_id not in cat.runs or lg not in ("fr", "en"):
            abort(404)
        # the twin and the runs already in memory: nothing is read again from disk
        r = cat.run(run_id)
        parent = parent_of(cat, r)
        diff = cat.comparison(r, parent) if parent is not None else None
        return Response(report_page(r, parent, cat.twin, lg, diff), mimetype="text/html")

    @app.server.route("/notice/<run_id>/<lg>")
    def notice(run_id: str, lg: str) -> Any:
        from flask import abort, send_file

        if run_id not in cat.runs or lg not in ("fr", "en"):
            abort(404)
        return send_file(cat.runs[run_id] / f"notice.{lg}.html", mimetype="text/html")

    return app


#: Scripts of ``app/assets`` loaded from the page's head rather than by Dash after its own.
HEAD_ASSETS = r"(twin_viewer|deck\.gl\.min)\.js$"

INDEX = """<!DOCTYPE html>
<html>
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
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def index(app: dash.Dash, first: dict[str, Any]) -> str:
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
    app: dash.Dash, lang: str, fn: Any, outputs: list[tuple[str, str]], *inputs: Any
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


def metric_options(t: Twin, which: str) -> list[dict[str, str]]:
    """Numeric columns of the buildings or of the road links, as dropdown options."""
    if which == "buildings":
        frame = t["buildings"] if "buildings" in t else None
    else:
        name = next((n for n in ("roads", "streets") if n in t), None)
        frame = t[name].links if name is not None and t.layer(name).kind == "network" else None
    if frame is None:
        return []
    return [{"label": c, "value": c} for c in numeric_columns(frame)]


def legend_items(base: dict[str, Any], data: dict[str, Any], lg: str) -> list[Any]:
    """Legend blocks for the visible layers."""
    items = []
    blocks = [
        (tr(lg, "layer.buildings"), base.get("buildings"), ""),
        (tr(lg, "layer.roads"), base.get("roads"), ""),
        (tr(lg, "layer.lamps"), base.get("lamps"), ""),
    ]
    # one block per sensor layer: its variable, averaged over time
    blocks += [
        (f"{tr(lg, 'layer.sensors')} ({p['layer']})", p, f", {tr(lg, 'sensors.mean')}")
        for p in base.get("sensors") or []
    ]
    left = data.get("left") or {}
    blocks += [
        (tr(lg, "layer.results"), left.get("points"), ""),
        (tr(lg, "layer.grid"), left.get("grid"), ""),
    ]
    for title, p, stat in blocks:
        if not p:
            continue
        lg_ = p["legend"]
        stops = ", ".join(f"rgb({r},{g},{b})" for r, g, b in lg_["stops"])
        items.append(
            html.Div(
                className="legend-item",
                children=[
                    html.Div(
                        f"{title} — {lg_.get('title', {}).get(lg, lg_['label'])}{stat} "
                        f"[{unit_label(lg, lg_['unit'])}]".replace(" []", "")
                    ),
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
