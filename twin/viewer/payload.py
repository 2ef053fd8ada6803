"""Layer payloads for deck.gl, in binary form.

Geometry and attributes travel as base64-encoded typed arrays (``Float32Array`` positions,
``Uint8Array`` colours, ``Uint32Array`` start indices) that the browser hands to deck.gl as
binary attributes, with no GeoJSON parsing: tens of thousands of extruded buildings stay
smooth. Coordinates are longitude/latitude (EPSG:4326 only at the map boundary); float32
keeps them to about 0.1 m.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

#: What a layer's colours say, which picks its ramp: the twin's own layers (context), a
#: simulation's results, sensor observations, differences (centred on 0), categories.
Palette = Literal["context", "result", "sensor", "diverging", "categorical"]

#: Colour ramps by role, RGB 0–255. The twin's own layers are quiet blue-greys (light: low),
#: so that results, in a distinct perceptually ordered ramp (plasma), stand out above them;
#: sensor observations use viridis; differences run blue (less) – light grey – red (more).
RAMPS: dict[str, np.ndarray] = {
    "context": np.array(
        [[206, 212, 218], [160, 170, 181], [115, 128, 142], [72, 86, 101], [36, 46, 58]], float
    ),
    "result": np.array(
        [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]], float
    ),
    "sensor": np.array(
        [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float
    ),
    "diverging": np.array(
        [[33, 102, 172], [146, 197, 222], [230, 230, 230], [244, 165, 130], [178, 24, 43]], float
    ),
}
#: Colours of categories (Okabe & Ito's colour-blind-safe set); a yes/no value is drawn
#: vermillion (0, no) and blue (1, yes).
CATEGORY_COLOURS = np.array(
    [
        [213, 94, 0],
        [0, 114, 178],
        [0, 158, 115],
        [230, 159, 0],
        [204, 121, 167],
        [86, 180, 233],
        [240, 228, 66],
        [0, 0, 0],
    ],
    float,
)


def b64(a: np.ndarray) -> str:
    """Base64 of an array's bytes (little-endian, C order)."""
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def colours(
    values: np.ndarray,
    *,
    palette: Palette = "result",
    alpha: int = 230,
    vmin: float | None = None,
    vmax: float | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """RGBA uint8 colours for values, and the legend (range and ramp stops).

    NaN values are grey. A diverging ramp is centred on 0. When every value is the same
    (``flat`` in the legend), ``min`` and ``max`` are that value. Categorical values (at
    most as many as :data:`CATEGORY_COLOURS`) get one colour each, listed in the legend's
    ``categories``; more distinct values than that are drawn as a result ramp.
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if palette == "categorical":
        cats = np.unique(v[ok])
        if len(cats) <= len(CATEGORY_COLOURS):
            return _categories(v, ok, cats, alpha)
        palette = "result"
    ramp = RAMPS[palette]
    if palette == "diverging":
        m = float(np.nanmax(np.abs(v[ok]))) if ok.any() else 1.0
        lo, hi = -(m or 1.0), (m or 1.0)
    else:
        lo = vmin if vmin is not None else (float(np.nanmin(v[ok])) if ok.any() else 0.0)
        hi = vmax if vmax is not None else (float(np.nanmax(v[ok])) if ok.any() else 1.0)
    flat = not hi > lo  # one value everywhere: a legend of that value, not a made-up range
    if flat:
        hi = lo + 1.0
    t = np.clip((np.where(ok, v, lo) - lo) / (hi - lo), 0, 1) * (len(ramp) - 1)
    i = np.minimum(t.astype(int), len(ramp) - 2)
    f = (t - i)[:, None]
    rgb = ramp[i] * (1 - f) + ramp[i + 1] * f
    rgba = _rgba(rgb, ok, alpha)
    legend = {"min": lo, "max": lo if flat else hi, "stops": ramp.astype(int).tolist()}
    if flat:
        legend["flat"] = True
    return rgba, legend


def _rgba(rgb: np.ndarray, ok: np.ndarray, alpha: int) -> np.ndarray:
    """RGBA uint8 of RGB colours, grey where a value is missing."""
    rgba = np.empty((len(ok), 4), dtype=np.uint8)
    rgba[:, :3] = np.where(ok[:, None], rgb, 160).astype(np.uint8)
    rgba[:, 3] = alpha
    return rgba


def _categories(
    v: np.ndarray, ok: np.ndarray, cats: np.ndarray, alpha: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """One colour per category; the legend lists the categories and their colours."""
    yes_no = set(cats.tolist()) <= {0.0, 1.0}
    table = CATEGORY_COLOURS[[0, 1]] if yes_no else CATEGORY_COLOURS[: len(cats)]
    values = np.array([0.0, 1.0]) if yes_no else cats
    k = np.searchsorted(values, np.where(ok, v, values[0]))
    rgba = _rgba(table[np.minimum(k, len(table) - 1)], ok, alpha)
    lo, hi = (float(values[0]), float(values[-1])) if len(values) else (0.0, 0.0)
    legend = {
        "min": lo,
        "max": hi,
        "stops": table.astype(int).tolist(),
        "categories": values.tolist(),
    }
    return rgba, legend


def _lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf


def polygons(
    gdf: gpd.GeoDataFrame,
    height: np.ndarray,
    values: np.ndarray,
    *,
    label: str,
    unit: str,
    palette: Palette = "result",
    vrange: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Extruded polygons (outer rings of every part) as binary deck.gl data."""
    g = _lonlat(gdf)
    parts = g.geometry.explode(index_parts=False)
    owner = np.repeat(np.arange(len(g)), g.geometry.count_geometries().to_numpy())
    oriented = shapely.orient_polygons(parts.to_numpy(), exterior_cw=True)
    rings = shapely.get_exterior_ring(oriented)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(ring_idx, minlength=len(rings))
    starts = np.zeros(len(rings), dtype=np.uint32)
    starts[1:] = np.cumsum(counts)[:-1]
    lo, hi = vrange if vrange is not None else (None, None)
    rgba, legend = colours(np.asarray(values, float)[owner], palette=palette, vmin=lo, vmax=hi)
    # binary attributes of polygon layers are per vertex
    return {
        "length": len(rings),
        "startIndices": b64(starts),
        "positions": b64(coords.astype(np.float32)),
        "elevation": b64(np.repeat(np.asarray(height, np.float32)[owner], counts)),
        "colors": b64(np.repeat(rgba, counts, axis=0)),
        "value": b64(np.asarray(values, np.float32)[owner]),
        "owner": b64(owner.astype(np.uint32)),
        "legend": {**legend, "label": label, "unit": unit},
        "count": len(g),
    }


def paths(
    gdf: gpd.GeoDataFrame,
    values: np.ndarray,
    *,
    label: str,
    unit: str,
    palette: Palette = "result",
    width: float = 3.0,
    vrange: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Lines as binary deck.gl paths."""
    g = _lonlat(gdf)
    lines = g.geometry.to_numpy()
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(idx, minlength=len(lines))
    starts = np.zeros(len(lines), dtype=np.uint32)
    starts[1:] = np.cumsum(counts)[:-1]
    lo, hi = vrange if vrange is not None else (None, None)
    rgba, legend = colours(values, palette=palette, vmin=lo, vmax=hi)
    return {
        "length": len(lines),
        "startIndices": b64(starts),
        "positions": b64(coords.astype(np.float32)),
        "colors": b64(np.repeat(rgba, counts, axis=0)),  # per vertex
        "value": b64(np.asarray(values, np.float32)),
        "width": width,
        "legend": {**legend, "label": label, "unit": unit},
        "count": len(g),
    }


def points(
    gdf: gpd.GeoDataFrame,
    values: np.ndarray,
    *,
    label: str,
    unit: str,
    palette: Palette = "result",
    radius: float = 4.0,
    vrange: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Points as binary deck.gl scatter data."""
    g = _lonlat(gdf)
    pts = g.geometry.representative_point() if not (g.geom_type == "Point").all() else g.geometry
    xy = shapely.get_coordinates(pts.to_numpy()).astype(np.float32)
    lo, hi = vrange if vrange is not None else (None, None)
    rgba, legend = colours(values, palette=palette, vmin=lo, vmax=hi)
    return {
        "length": len(xy),
        "positions": b64(xy),
        "colors": b64(rgba),
        "value": b64(np.asarray(values, np.float32)),
        "radius": radius,
        "legend": {**legend, "label": label, "unit": unit},
        "count": len(g),
    }


#: ``first``/``last`` of a sensor without any observation [minutes since 1970-01-01].
NO_TIME = np.iinfo(np.int32).min


def series_variable(data: xr.Dataset) -> str | None:
    """The first numeric (non-boolean) variable of a sensor series on ``(sensor, time)``."""
    for name, da in data.data_vars.items():
        if (
            {"sensor", "time"} <= set(da.dims)
            and np.issubdtype(da.dtype, np.number)
            and not np.issubdtype(da.dtype, np.bool_)
        ):
            return str(name)
    return None


def series_summary(data: xr.Dataset, var: str) -> dict[str, np.ndarray]:
    """Per-sensor summary of one variable of a sensor series over its time axis.

    Parameters
    ----------
    data : xarray.Dataset
        Sensor series on dims ``(sensor, time)``; ``time`` holds datetimes.
    var : str
        The variable (a numeric one; missing values are NaN).

    Returns
    -------
    dict
        Arrays aligned to ``data["sensor"]``: ``mean`` (time mean of the observed values, in
        the variable's unit; NaN without observation), ``count`` (observations), ``first`` and
        ``last`` (times of the first and last observation, int64 minutes since 1970-01-01 UTC;
        :data:`NO_TIME` without observation).
    """
    da = data[var]
    extra = [d for d in da.dims if d not in ("sensor", "time")]
    if extra:  # e.g. a height dimension: the first level
        da = da.isel(dict.fromkeys(extra, 0))
    times = pd.DatetimeIndex(np.asarray(data["time"].to_numpy()))
    order = np.argsort(times.to_numpy(), kind="stable")
    v = da.transpose("sensor", "time").to_numpy().astype(float)[:, order]
    minutes = times.to_numpy()[order].astype("datetime64[m]").astype(np.int64)
    ok = np.isfinite(v)
    count = ok.sum(axis=1)
    seen = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(seen, np.where(ok, v, 0.0).sum(axis=1) / count, np.nan)
    nt = v.shape[1]
    first = np.full(len(v), NO_TIME, dtype=np.int64)
    last = first.copy()
    if nt:
        first[seen] = minutes[ok.argmax(axis=1)[seen]]
        last[seen] = minutes[nt - 1 - ok[:, ::-1].argmax(axis=1)[seen]]
    return {"mean": mean, "count": count, "first": first, "last": last}


def sensor_points(
    positions: gpd.GeoDataFrame,
    data: xr.Dataset,
    var: str,
    *,
    layer: str,
    unit: str,
    radius: float = 8.0,
) -> dict[str, Any]:
    """The sensors of one sensor series as binary deck.gl scatter data, coloured by the time
    mean of ``var``.

    Parameters
    ----------
    positions : GeoDataFrame
        Sensor positions indexed by sensor id (the series' ``points``).
    data : xarray.Dataset
        The series on ``(sensor, time)``; it is joined to ``positions`` by id.
    var : str
        The variable shown (see :func:`series_variable`).
    layer : str
        The twin layer's name (shown in the tooltip and legend).
    unit : str
        Unit of ``var``, for the legend and tooltip.
    radius : float
        Radius of a point [m].

    Returns
    -------
    dict
        :func:`points` data plus, per sensor, compact arrays for the tooltip: ``ids`` (list of
        str), ``nobs`` (uint32 observations), ``first`` and ``last`` (int32 minutes since
        1970-01-01 UTC, :data:`NO_TIME` without observation); ``layer``, ``variable`` and
        ``stat`` (``"mean"``). Sensors without a position are left out.
    """
    ids = np.asarray(data["sensor"].to_numpy()).astype(str)
    pos = positions.set_axis(positions.index.astype(str)).reindex(ids)
    geom = pos.geometry
    placed = (geom.notna() & ~geom.is_empty).to_numpy()
    s = {k: v[placed] for k, v in series_summary(data, var).items()}
    return {
        **points(pos.loc[placed], s["mean"], label=var, unit=unit, radius=radius, palette="sensor"),
        "layer": layer,
        "variable": var,
        "stat": "mean",
        "ids": ids[placed].tolist(),
        "nobs": b64(s["count"].astype(np.uint32)),
        "first": b64(s["first"].astype(np.int32)),
        "last": b64(s["last"].astype(np.int32)),
    }


def grid_image(
    da: xr.DataArray,
    *,
    label: str,
    unit: str,
    palette: Palette = "result",
    vrange: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """A grid variable as an RGBA image with its WGS 84 bounds (deck.gl BitmapLayer)."""
    v = da.to_numpy().astype(float)
    lo, hi = vrange if vrange is not None else (None, None)
    rgba, legend = colours(v.ravel(), palette=palette, alpha=170, vmin=lo, vmax=hi)
    rgba = rgba.reshape(v.shape[0], v.shape[1], 4)
    if palette == "diverging":
        rgba[..., 3] = np.where(np.abs(v) > 1e-6, 200, 0).astype(np.uint8)
    else:  # empty cells stay transparent, so the ground and roads show through
        rgba[..., 3] = np.where(np.isfinite(v) & (v > 1e-3), 170, 0).astype(np.uint8)
    w, s, e, n = da.rio.transform_bounds("EPSG:4326")
    return {
        "width": int(v.shape[1]),
        "height": int(v.shape[0]),
        "rgba": b64(rgba),
        "value": b64(v.astype(np.float32)),  # row-major, north first as the image: hover
        "bounds": [w, s, e, n],
        "legend": {**legend, "label": label, "unit": unit},
        "count": int(v.size),
    }
