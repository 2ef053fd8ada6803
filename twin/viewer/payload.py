"""Layer payloads for deck.gl, in binary form.

Geometry and attributes travel as base64-encoded typed arrays (``Float32Array`` positions,
``Uint8Array`` colours, ``Uint32Array`` start indices) that the browser hands to deck.gl as
binary attributes, with no GeoJSON parsing: tens of thousands of extruded buildings stay
smooth. Coordinates are longitude/latitude (EPSG:4326 only at the map boundary); float32
keeps them to about 0.1 m.
"""

from __future__ import annotations

import base64
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr

#: A perceptually ordered ramp (viridis stops), RGB 0–255.
RAMP = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float
)
#: A diverging ramp for differences: blue (less) – light grey – red (more).
DIVERGING = np.array(
    [[33, 102, 172], [146, 197, 222], [230, 230, 230], [244, 165, 130], [178, 24, 43]], dtype=float
)


def b64(a: np.ndarray) -> str:
    """Base64 of an array's bytes (little-endian, C order)."""
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def colours(
    values: np.ndarray,
    *,
    diverging: bool = False,
    alpha: int = 230,
    vmin: float | None = None,
    vmax: float | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """RGBA uint8 colours for values, and the legend (range and ramp stops).

    NaN values are grey. A diverging ramp is centred on 0.
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    ramp = DIVERGING if diverging else RAMP
    if diverging:
        m = float(np.nanmax(np.abs(v[ok]))) if ok.any() else 1.0
        lo, hi = -(m or 1.0), (m or 1.0)
    else:
        lo = vmin if vmin is not None else (float(np.nanmin(v[ok])) if ok.any() else 0.0)
        hi = vmax if vmax is not None else (float(np.nanmax(v[ok])) if ok.any() else 1.0)
        if hi <= lo:
            hi = lo + 1.0
    t = np.clip((np.where(ok, v, lo) - lo) / (hi - lo), 0, 1) * (len(ramp) - 1)
    i = np.minimum(t.astype(int), len(ramp) - 2)
    f = (t - i)[:, None]
    rgb = ramp[i] * (1 - f) + ramp[i + 1] * f
    rgba = np.empty((len(v), 4), dtype=np.uint8)
    rgba[:, :3] = np.where(ok[:, None], rgb, 160).astype(np.uint8)
    rgba[:, 3] = alpha
    legend = {"min": lo, "max": hi, "stops": ramp.astype(int).tolist()}
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
    diverging: bool = False,
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
    rgba, legend = colours(np.asarray(values, float)[owner], diverging=diverging)
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
    diverging: bool = False,
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
    rgba, legend = colours(values, diverging=diverging, vmin=lo, vmax=hi)
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
    diverging: bool = False,
    radius: float = 4.0,
    vrange: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Points as binary deck.gl scatter data."""
    g = _lonlat(gdf)
    pts = g.geometry.representative_point() if not (g.geom_type == "Point").all() else g.geometry
    xy = shapely.get_coordinates(pts.to_numpy()).astype(np.float32)
    lo, hi = vrange if vrange is not None else (None, None)
    rgba, legend = colours(values, diverging=diverging, vmin=lo, vmax=hi)
    return {
        "length": len(xy),
        "positions": b64(xy),
        "colors": b64(rgba),
        "value": b64(np.asarray(values, np.float32)),
        "radius": radius,
        "legend": {**legend, "label": label, "unit": unit},
        "count": len(g),
    }


def grid_image(
    da: xr.DataArray,
    *,
    label: str,
    unit: str,
    diverging: bool = False,
    vrange: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """A grid variable as an RGBA image with its WGS 84 bounds (deck.gl BitmapLayer)."""
    v = da.to_numpy().astype(float)
    lo, hi = vrange if vrange is not None else (None, None)
    rgba, legend = colours(v.ravel(), diverging=diverging, alpha=170, vmin=lo, vmax=hi)
    rgba = rgba.reshape(v.shape[0], v.shape[1], 4)
    if diverging:
        rgba[..., 3] = np.where(np.abs(v) > 1e-6, 200, 0).astype(np.uint8)
    else:  # empty cells stay transparent, so the ground and roads show through
        rgba[..., 3] = np.where(np.isfinite(v) & (v > 1e-3), 170, 0).astype(np.uint8)
    w, s, e, n = da.rio.transform_bounds("EPSG:4326")
    return {
        "width": int(v.shape[1]),
        "height": int(v.shape[0]),
        "rgba": b64(rgba),
        "bounds": [w, s, e, n],
        "legend": {**legend, "label": label, "unit": unit},
        "count": int(v.size),
    }
