"""Export a twin, or a run, to formats every GIS opens: one GeoPackage for the vectors,
networks and sensor series, one GeoTIFF per grid variable. For QGIS versions without
GeoParquet, and for sharing.

Provenance travels with the data: each GeoPackage layer's description (``gpkg_contents``)
states its source, producer, licence and date, and a ``twin_provenance`` table holds every
field (steps, ASSUMED values, personal-data flag); each GeoTIFF carries the same as tags.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd
import xarray as xr

from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.store.atomic import atomic_write


def gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy GeoPackage can hold: the id index kept as a column, non-scalar values as text,
    and field names unique without regard to case (GeoPackage compares them so: an ``ID``
    column beside the ``id`` index becomes ``ID_2``; ``fid`` is GDAL's own key)."""
    out = gdf.reset_index()
    seen = {"fid"}
    names = []
    for c in map(str, out.columns):
        name, k = c, 1
        while name.lower() in seen and c != out.geometry.name:
            k += 1
            name = f"{c}_{k}"
        seen.add(name.lower())
        names.append(name)
    out.columns = names
    out = out.set_geometry(names[list(gdf.reset_index().columns).index(gdf.geometry.name)])
    for c in out.columns:
        if c != out.geometry.name and out[c].dtype == object:
            out[c] = out[c].map(
                lambda v: v if v is None or isinstance(v, (str, int, float, bool)) else str(v)
            )
    return out


def provenance_tags(prov: Provenance) -> dict[str, str]:
    """A layer's provenance as flat text tags (GeoTIFF tags, NetCDF attributes)."""
    return {
        "source": prov.source,
        "producer": prov.producer,
        "licence": prov.licence,
        "attribution": getattr(prov, "attribution", "") or "",
        "retrieved": prov.retrieved,
        "personal_data": "yes" if prov.personal_data else "no",
        "steps": " | ".join(prov.steps),
        "assumed": json.dumps(prov.derived, ensure_ascii=False),
    }


def _description(prov: Provenance) -> str:
    t = provenance_tags(prov)
    return (
        f"Source: {t['source']}; producer: {t['producer']}; licence: {t['licence']}; "
        f"retrieved: {t['retrieved']}"
        + (f"; {t['attribution']}" if t["attribution"] else "")
        + ("; has ASSUMED values (see twin_provenance)" if prov.derived else "")
    )


def _raster_writer(da: xr.DataArray, prov: Provenance) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        import rasterio

        da.rio.to_raster(tmp, driver="GTiff", compress="deflate")
        with rasterio.open(tmp, "r+") as dst:
            dst.update_tags(**provenance_tags(prov))

    return write


def layer_frames(name: str, lay: Layer) -> dict[str, pd.DataFrame]:
    """The tables a layer exports as: features, nodes and links, or sensors and their series
    (long format: ``sensor``, ``time``, one column per variable)."""
    if lay.kind == "vector":
        return {name: lay.data}
    if lay.kind == "network":
        return {f"{name}_nodes": lay.data.nodes, f"{name}_links": lay.data.links}
    if lay.kind == "series":
        series = lay.data.data.to_dataframe().reset_index()
        series["time"] = series["time"].astype(str)
        return {f"{name}_sensors": lay.data.points, f"{name}_series": series}
    return {}


def write_gpkg(frames: dict[str, tuple[pd.DataFrame, Provenance]], target: Path) -> None:
    """Write tables (spatial or not) into one GeoPackage, atomically, with their provenance
    (layer descriptions and a ``twin_provenance`` table)."""

    def write(tmp: Path) -> None:
        for i, (lname, (frame, _)) in enumerate(frames.items()):
            mode = "w" if i == 0 else "a"
            if isinstance(frame, gpd.GeoDataFrame):
                gpkg_safe(frame).to_file(tmp, layer=lname, driver="GPKG", mode=mode)
            else:
                gpd.GeoDataFrame(frame).to_file(tmp, layer=lname, driver="GPKG", mode=mode)
        _write_provenance(tmp, [(n, p) for n, (_, p) in frames.items()])

    atomic_write(target, write)


def _write_provenance(path: Path, layers: list[tuple[str, Provenance]]) -> None:
    rows = [(n, *provenance_tags(p).values()) for n, p in layers]
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE twin_provenance (layer TEXT PRIMARY KEY, source TEXT, producer TEXT, "
            "licence TEXT, attribution TEXT, retrieved TEXT, personal_data TEXT, steps TEXT, "
            "assumed TEXT)"
        )
        db.executemany("INSERT INTO twin_provenance VALUES (?,?,?,?,?,?,?,?,?)", rows)
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
            "VALUES ('twin_provenance', 'attributes', 'twin_provenance', "
            "'Provenance and licence of every layer of this file (twin)')"
        )
        for name, prov in layers:
            db.execute(
                "UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                (_description(prov), name),
            )


def export_layers(layers: dict[str, Layer], out: str | PathLike[str]) -> list[Path]:
    """Write layers to one GeoPackage (vectors, networks, sensors and series) and one
    GeoTIFF per grid variable (``<stem>_<layer>_<variable>.tif``), with their provenance.

    Returns
    -------
    list of Path
        The files written (each written atomically).
    """
    target = Path(out)
    frames: dict[str, tuple[pd.DataFrame, Provenance]] = {}
    for name, lay in layers.items():
        for table, frame in layer_frames(name, lay).items():
            frames[table] = (frame, lay.provenance)
    written = []
    if frames:
        write_gpkg(frames, target)
        written.append(target)
    for name, lay in layers.items():
        if lay.kind != "grid":
            continue
        for var in lay.data.data_vars:
            da = lay.data[var]
            if not pd.api.types.is_numeric_dtype(da.dtype) or set(da.dims) != {"y", "x"}:
                continue
            tif = target.with_name(f"{target.stem}_{name}_{var}.tif")
            atomic_write(tif, _raster_writer(da, lay.provenance))
            written.append(tif)
    return written


def export_gpkg(twin: Twin, out: str | PathLike[str]) -> list[Path]:
    """Export every layer of a twin (see :func:`export_layers`)."""
    return export_layers(twin.layers, out)
