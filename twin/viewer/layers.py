"""What the map draws: the twin's static layers and the runs' result layers, as payloads.

Static layers (buildings, roads, lamps, sensors) come from the twin (:func:`base_payload`);
result layers come from a run's outputs and are drawn only for the variables the simulations
declare in their layers' display hints (:func:`result_slots`, :func:`run_layers`). Layers
varying in time share one time axis (:func:`time_labels`) and one colour range over every
frame (:func:`shared_ranges`). Nothing here depends on Dash: the offline export and the
printable report use the same functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from twin.model.layer import SensorSeries
from twin.model.twin import Twin
from twin.model.units import column_labels, unit_of_column
from twin.scenario.runner import Run
from twin.viewer import payload as pl
from twin.viewer import timeaxis as tx

#: A result layer to draw: (data, column or label, values, display hint).
Slot = tuple[Any, str, np.ndarray, dict[str, Any]]


def _id_like(col: str) -> bool:
    """Whether a column holds identifiers (never a colour)."""
    return col in ("id", "a_node", "b_node") or col.startswith("osm") or col.endswith("_id")


def numeric_columns(frame: Any) -> list[str]:
    """Numeric (non-boolean, non-identifier) columns of a table, to colour a layer by.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table (its ``geometry`` column, if any, is skipped).

    Returns
    -------
    list of str
        The column names, in the table's order.
    """
    return [
        str(c)
        for c in frame.columns
        if c != "geometry"
        and not _id_like(str(c))
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]


def metric_options(t: Twin, which: str) -> list[dict[str, str]]:
    """Numeric columns of the buildings (``which="buildings"``) or of the road links (any
    other ``which``), as dropdown options; empty when the twin has no such layer."""
    if which == "buildings":
        frame = t["buildings"] if "buildings" in t else None
    else:
        name = next((n for n in ("roads", "streets") if n in t), None)
        frame = t[name].links if name is not None and t.layer(name).kind == "network" else None
    if frame is None:
        return []
    return [{"label": c, "value": c} for c in numeric_columns(frame)]


def unit_of(col: str) -> str:
    """The unit of a twin column from its name.

    ``_diff`` and ``@time`` are ignored; the unit follows the data model's unit-suffix
    convention (:func:`twin.model.units.unit_of_column`).
    """
    return unit_of_column(tx.split_column(col)[0].removesuffix("_diff"))


def _titled(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its column's name for people as legend title, when it has one."""
    title = column_labels(str(payload["legend"]["label"]))
    if title is not None:
        payload["legend"]["title"] = dict(title)
    return payload


def base_payload(
    t: Twin, metric: str = "height_m", road_metric: str = "speed_kph"
) -> dict[str, Any]:
    """Static layers of the twin and the initial camera.

    Parameters
    ----------
    t : Twin
        The twin.
    metric, road_metric : str
        Columns colouring the buildings and the road links (the defaults when absent).

    Returns
    -------
    dict
        ``buildings``, ``roads``, ``lamps``, ``sensors`` (see :func:`sensor_payloads`), each
        when the twin has it, ``view`` (the camera) and ``name``.
    """
    out: dict[str, Any] = {}
    if "buildings" in t:
        b = t["buildings"]
        h = b["height_m"].to_numpy(float) if "height_m" in b else np.full(len(b), 9.0)
        if metric not in numeric_columns(b):
            metric = "height_m"
        val = b[metric].to_numpy(float) if metric in b else h
        out["buildings"] = _titled(
            pl.polygons(b, h, val, label=metric, unit=unit_of(metric), palette="context")
        )
    for name in ("roads", "streets"):
        if name in t and t.layer(name).kind == "network":
            links = t[name].links
            col = road_metric if road_metric in numeric_columns(links) else "speed_kph"
            v = links[col].to_numpy(float) if col in links else np.zeros(len(links))
            unit = "km/h" if col.endswith("_kph") else unit_of(col)
            out["roads"] = _titled(
                pl.paths(links, v, label=col, unit=unit, width=2.5, palette="context")
            )
            break
    for name in ("street_lamps", "street_lights"):
        if name in t:
            lamps = t[name]
            v = lamps["power_w"].to_numpy(float) if "power_w" in lamps else np.zeros(len(lamps))
            out["lamps"] = _titled(
                pl.points(lamps, v, label="power_w", unit="W", radius=3, palette="context")
            )
            break
    sensors = sensor_payloads(t)
    if sensors:
        out["sensors"] = sensors
    w, s, e, n = t.extent_lonlat
    out["view"] = {
        "longitude": (w + e) / 2,
        "latitude": (s + n) / 2,
        "zoom": fit_zoom(t.extent, (s + n) / 2),
        "pitch": 50,
        "bearing": -20,
    }
    out["name"] = t.name
    return out


#: Height of result areas (outage areas, buildings coloured by a result) above the ground [m].
AREA_HEIGHT_M = 0.5

#: Closest first view (a city centre seen in 3D) and the map's size it fits [CSS px].
MAX_ZOOM = 14.6
MAP_PX = (1200, 500)


def fit_zoom(extent: tuple[float, float, float, float], lat: float) -> float:
    """The Web-Mercator zoom at which a territory of ``extent`` [m, working CRS] fits the map
    (at latitude ``lat`` [°]), never closer than :data:`MAX_ZOOM` nor farther than 3.

    At zoom ``z`` a pixel spans ``156 543.03 · cos(lat) / 2**z`` metres.
    """
    x0, y0, x1, y1 = extent
    span = max((x1 - x0) / MAP_PX[0], (y1 - y0) / MAP_PX[1], 1e-9)  # metres per pixel
    z = math.log2(156_543.03 * math.cos(math.radians(lat)) / span)
    return float(min(MAX_ZOOM, max(3.0, z)))


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


def _declared(
    lay: Any, present: Any, diff: bool, only: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The first variable the layer's display hints declare that is present (its
    ``<variable>_diff`` in a vector comparison), with its hint (``only``: that variable)."""
    for hint in lay.display:
        var = str(hint["variable"])
        if only is not None and var != only:
            continue
        key = f"{var}_diff" if diff and lay.kind != "grid" else var
        if key in present:
            return key, hint
    return None


def _grid_slot(lay: Any, diff: bool, when: str | None, only: str | None = None) -> Slot | None:
    """The declared variable of a grid layer, at the frame picked for ``when``."""
    d = lay.data
    found = _declared(lay, d.data_vars, diff, only)
    if found is None:
        return None
    var, hint = found
    da, label = d[var], str(var)
    labels = tx.grid_labels(da)
    if labels:
        k = tx.pick(labels, when)
        da, label = da.isel(time=k), f"{var}@{labels[k]}"
    return da, label, da.to_numpy().astype(float), hint


def _vector_slot(
    lay: Any, diff: bool, when: str | None, only: str | None = None
) -> tuple[str, Slot] | None:
    """The declared variable of a vector layer (``paths``, ``areas`` or ``points``), at
    ``when``."""
    d = lay.data
    if len(d) == 0:
        return None
    names = _columns_by_metric(d, when)
    found = _declared(lay, names, diff, only)
    if found is None:
        return None
    col = names[found[0]]
    lines = bool(d.geom_type.isin(["LineString", "MultiLineString"]).all())
    if lines and (d.geom_type == "MultiLineString").any():
        d = d.explode(index_parts=False)
    areas = bool(d.geom_type.isin(["Polygon", "MultiPolygon"]).all())
    slot = "paths" if lines else "areas" if areas else "points"
    return slot, (d, col, d[col].to_numpy(float), found[1])


def result_choices(r: Run, lang: str) -> list[dict[str, str]]:
    """The results a person can pick to draw: every declared variable of every output layer,
    as dropdown options (label in ``lang``, value ``<layer>/<variable>``)."""
    out = []
    for name, lay in r.outputs.items():
        for hint in lay.display:
            label = hint["label"].get(lang) or hint["label"].get("en") or hint["variable"]
            out.append({"label": f"{label} ({name})", "value": f"{name}/{hint['variable']}"})
    return out


def result_slots(
    r: Run, diff: Any = None, when: str | None = None, prefer: str | None = None
) -> dict[str, Slot]:
    """Result layers to draw: slot (``points``, ``paths``, ``grid``) → (data, column, values,
    hint).

    Parameters
    ----------
    r : Run
        The run.
    diff : Comparison, optional
        ``r − parent`` (:meth:`twin.scenario.runner.Run.compare`): its layers are drawn
        instead of the run's outputs.
    when : str, optional
        A label of the shared time axis: layers varying in time show that frame.
    prefer : str, optional
        ``<layer>/<variable>`` picked by a person (:func:`result_choices`): drawn in its slot
        before any other layer.

    Returns
    -------
    dict
        At most one layer per slot, the first found. Only variables declared in the layers'
        display hints are drawn (the simulations declare them; the viewer guesses nothing).
    """
    out: dict[str, Slot] = {}
    src = diff.layers if diff is not None else r.outputs
    first, _, only = (prefer or "").partition("/")
    ordered = sorted(src.items(), key=lambda kv: kv[0] != first)  # stable: the rest in order
    for name, lay in ordered:
        var = only if name == first and only else None
        if lay.kind == "grid" and "grid" not in out:
            slot = _grid_slot(lay, diff is not None, when, var)
            if slot is not None:
                out["grid"] = slot
        elif lay.kind == "vector":
            found = _vector_slot(lay, diff is not None, when, var)
            if found is not None:
                out.setdefault(*found)
    return out


def time_labels(*runs: Run | None) -> list[str]:
    """The shared time axis: every time label of the runs' result layers, sorted."""
    out: set[str] = set()
    for r in runs:
        if r is not None:
            for lay in r.outputs.values():
                out.update(tx.layer_labels(lay.kind, lay.data))
    return sorted(out)


def shared_ranges(*runs: Run, prefer: str | None = None) -> dict[str, tuple[float, float]]:
    """Common colour ranges of each result slot over several runs (side-by-side views) and
    over every time frame (so a colour means the same value at every step of the slider)."""
    acc: dict[str, list[float]] = {}
    frames: list[str | None] = list(time_labels(*runs)) or [None]
    for r in runs:
        for when in frames:
            for slot, (_, _, v, _) in result_slots(r, when=when, prefer=prefer).items():
                ok = v[np.isfinite(v)]
                if len(ok):
                    acc.setdefault(slot, []).extend([float(ok.min()), float(ok.max())])
    return {k: (min(v), max(v)) for k, v in acc.items()}


def result_palette(hint: dict[str, Any], difference: bool) -> pl.Palette:
    """The ramp of a result: diverging for a difference or a declared diverging variable,
    categories for a declared categorical one, else the results' sequential ramp."""
    declared = hint.get("palette")
    if difference or declared == "diverging":
        return "diverging"
    return "categorical" if declared == "categorical" else "result"


def run_layers(
    r: Run,
    diff: Any = None,
    ranges: dict[str, tuple[float, float]] | None = None,
    when: str | None = None,
    prefer: str | None = None,
) -> dict[str, Any]:
    """The result layers of a run (or of a comparison when ``diff`` is given) as payloads.

    Parameters
    ----------
    r : Run
        The run.
    diff : Comparison, optional
        ``r − parent``: its differences are drawn, on a diverging ramp.
    ranges : dict, optional
        Colour range by slot (see :func:`shared_ranges`), so that two views share one scale.
    when : str, optional
        A label of the shared time axis.
    prefer : str, optional
        The result picked (see :func:`result_slots`).

    Returns
    -------
    dict
        At most one point layer, one line layer, one area (polygon) layer and one grid,
        coloured by their declared variable; each legend carries the hint's label
        (``legend["title"]``, by language).
    """
    side: dict[str, Any] = {}
    for slot, (d, col, v, hint) in result_slots(r, diff, when, prefer).items():
        rng = (ranges or {}).get(slot)
        unit = str(hint["unit"])
        pal = result_palette(hint, diff is not None)
        if slot == "grid":
            p = pl.grid_image(d, label=col, unit=unit, palette=pal, vrange=rng)
        elif slot == "paths":
            p = pl.paths(d, v, label=col, unit=unit, palette=pal, width=6, vrange=rng)
        elif slot == "areas":  # flat, just above the ground, under the 3D buildings
            flat = np.full(len(d), AREA_HEIGHT_M)
            p = pl.polygons(d, flat, v, label=col, unit=unit, palette=pal, vrange=rng)
        else:
            p = pl.points(d, v, label=col, unit=unit, palette=pal, radius=6, vrange=rng)
        p["legend"]["title"] = dict(hint["label"])
        side[slot] = p
    return side


def attribution(t: Twin) -> str:
    """Attribution line from every layer's provenance (one entry per producer)."""
    seen: dict[str, str] = {}
    for lay in t.layers.values():
        p = lay.provenance
        seen.setdefault(p.producer, p.attribution or f"{p.producer} ({p.licence})")
    return " · ".join(seen.values())
