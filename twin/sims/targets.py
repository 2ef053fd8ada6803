"""Resolve intervention targets: layer ids, attribute filters, or inline GeoJSON areas."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from rasterio.features import rasterize
from rasterio.transform import from_origin

from twin.errors import SchemaError, message
from twin.kernels.landcover import class_fractions
from twin.model.twin import Twin
from twin.sims.interventions import Target


def layer_frame(twin: Twin, layer: str, where: str) -> gpd.GeoDataFrame:
    """Features a target can select: a vector layer, a network's links, a series' sensors."""
    if layer not in twin:
        msg = message(
            f"target layer '{layer}' is not in the twin",
            where=where,
            fix=f"use one of {sorted(twin.layers)}",
        )
        raise SchemaError(msg)
    lay = twin.layer(layer)
    if lay.kind == "vector":
        return lay.data
    if lay.kind == "network":
        return lay.data.links
    if lay.kind == "series":
        return lay.data.points
    msg = message(
        f"layer '{layer}' is a grid: select cells with an inline geometry",
        where=where,
        fix="give target.geometry (GeoJSON) instead of ids or where",
    )
    raise SchemaError(msg)


def target_geometry(target: Target, crs: object, where: str) -> shapely.Geometry:
    """The inline GeoJSON of a target as one shapely geometry in ``crs``."""
    g = target.geometry
    assert g is not None
    feats = g["features"] if g["type"] == "FeatureCollection" else [g]
    try:
        geoms = [shapely.from_geojson(json.dumps(f.get("geometry", f))) for f in feats]
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        msg = message(
            f"invalid GeoJSON ({exc})",
            where=f"{where}.geometry",
            fix="give a valid GeoJSON geometry",
        )
        raise SchemaError(msg) from None
    src = _target_crs(target.crs, where)
    if src.is_geographic:
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            msg = message(
                f"coordinates ({x0:g}, {y0:g}) – ({x1:g}, {y1:g}) are not longitudes and "
                f"latitudes, but the geometry's crs is {src.to_string()}",
                where=f"{where}.geometry",
                fix="give lon/lat in degrees, or set target.crs to the coordinates' CRS",
            )
            raise SchemaError(msg)
    s = gpd.GeoSeries(geoms, crs=src).to_crs(crs)
    out = shapely.make_valid(s.union_all())
    if out.is_empty or not np.isfinite(shapely.total_bounds(out)).all():
        msg = message(
            "the geometry is empty or cannot be placed in the twin's CRS",
            where=f"{where}.geometry",
            fix="check the coordinates and target.crs",
        )
        raise SchemaError(msg)
    return out


def _target_crs(value: str, where: str) -> Any:
    """The CRS a target's inline geometry is given in (``target.crs``)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    try:
        return CRS.from_user_input(value)
    except (ProjCRSError, TypeError, ValueError):
        msg = message(
            f"unknown CRS {value!r}",
            where=f"{where}.crs",
            fix="give an EPSG code such as 'EPSG:4326' (the default) or 'EPSG:2154'",
        )
        raise SchemaError(msg) from None


def select(twin: Twin, target: Target, where: str) -> pd.Index:
    """Ids of the features a target selects.

    Raises
    ------
    SchemaError
        On an unknown layer, unknown ids (listed), a missing filter field, or an empty
        selection.
    """
    return select_in(layer_frame(twin, target.layer, where), target, where)


def select_in(frame: gpd.GeoDataFrame, target: Target, where: str) -> pd.Index:
    """Ids of the features of ``frame`` a target selects (see :func:`select`)."""
    if target.ids is not None:
        ids = pd.Index([str(i) for i in target.ids])
        have = pd.Index(frame.index.astype(str))
        unknown = ids.difference(have)
        if len(unknown):
            msg = message(
                f"{len(unknown)} ids are not in layer '{target.layer}' "
                f"(e.g. {unknown[:5].tolist()})",
                where=f"{where}.ids",
                fix=f"use ids of that layer, e.g. {have[:3].tolist()}",
            )
            raise SchemaError(msg)
        mask = have.isin(ids)
    elif target.where is not None:
        mask = np.ones(len(frame), dtype=bool)
        for field, value in target.where.items():
            if field not in frame.columns:
                msg = message(
                    f"field '{field}' is not in layer '{target.layer}'",
                    where=f"{where}.where",
                    fix=f"filter on one of {[c for c in frame.columns if c != 'geometry']}",
                )
                raise SchemaError(msg)
            values = value if isinstance(value, list) else [value]
            col = frame[field]
            mask &= (
                col.isin(values).to_numpy()
                | col.astype(str).isin([str(v) for v in values]).to_numpy()
            )
    elif target.geometry is not None:
        area = target_geometry(target, frame.crs, where)
        mask = frame.geometry.intersects(area).to_numpy()
    else:
        mask = np.ones(len(frame), dtype=bool)
    if not mask.any():
        msg = message(
            f"the target selects no feature of layer '{target.layer}'",
            where=where,
            fix="check the ids, the filter values or the area",
        )
        raise SchemaError(msg)
    return frame.index[mask]


def grid_coverage(grid: xr.Dataset, area: shapely.Geometry, supersample: int = 10) -> np.ndarray:
    """Fraction [0–1] of each grid cell covered by ``area`` (same CRS as the grid).

    The area is rasterised at ``resolution / supersample`` and averaged per cell with the
    numba block kernel.
    """
    x = grid["x"].to_numpy()
    y = grid["y"].to_numpy()
    res = float(abs(x[1] - x[0])) if len(x) > 1 else float(grid.attrs["resolution_m"])
    fine = res / supersample
    transform = from_origin(x[0] - res / 2, y[0] + res / 2, fine, fine)
    shape = (len(y) * supersample, len(x) * supersample)
    burnt = rasterize([(area, 1)], out_shape=shape, transform=transform, fill=0, dtype="uint8")
    return np.asarray(class_fractions(burnt, supersample, 2)[1], dtype=np.float64)


def area_of(twin: Twin, target: Target, where: str) -> shapely.Geometry:
    """The area of a target: its inline geometry, or the union of the selected polygons."""
    if target.geometry is not None:
        return target_geometry(target, twin.crs, where)
    frame = layer_frame(twin, target.layer, where)
    ids = select(twin, target, where)
    geoms = frame.loc[ids].geometry
    if not geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        msg = message(
            f"layer '{target.layer}' holds no areas",
            where=where,
            fix="target a polygon layer, or give an inline GeoJSON polygon",
        )
        raise SchemaError(msg)
    return geoms.union_all()


Bounds = tuple[float, float, float, float]


def target_bounds(twin: Twin, target: Target, where: str) -> Bounds | None:
    """``(xmin, ymin, xmax, ymax)`` [twin CRS] of what a target selects: its inline area, the
    features it selects (a network's links, else its nodes), or a grid layer's extent; None
    when it selects nothing that can be placed.

    Raises
    ------
    SchemaError
        On an invalid inline geometry (see :func:`target_geometry`).
    """
    if target.geometry is not None:
        return tuple(target_geometry(target, twin.crs, where).bounds)  # type: ignore[return-value]
    if target.layer not in twin:
        return None
    lay = twin.layer(target.layer)
    if lay.kind == "grid":
        return lay.bounds
    frames = (
        [lay.data.links, lay.data.nodes]
        if lay.kind == "network"
        else [layer_frame(twin, target.layer, where)]
    )
    for frame in frames:
        try:
            ids = select_in(frame, target, where)
        except SchemaError:
            continue  # e.g. node ids of a network: looked for in its nodes next
        b = frame.loc[ids].geometry.total_bounds
        if np.isfinite(b).all():
            return tuple(float(v) for v in b)  # type: ignore[return-value]
    return None
