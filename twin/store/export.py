"""Export a twin to formats every GIS opens: one GeoPackage for the vectors and networks, one
GeoTIFF per grid variable. For QGIS versions without GeoParquet, and for sharing.
"""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd
import xarray as xr

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


def _raster_writer(da: xr.DataArray) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        da.rio.to_raster(tmp, driver="GTiff", compress="deflate")

    return write


def export_gpkg(twin: Twin, out: str | PathLike[str]) -> list[Path]:
    """Write every vector, network and sensor layer to one GeoPackage, grids to GeoTIFFs.

    Parameters
    ----------
    twin : Twin
        The twin.
    out : path-like
        The ``.gpkg`` file; grids go next to it as ``<stem>_<layer>_<variable>.tif``.

    Returns
    -------
    list of Path
        The files written (each written atomically).
    """
    target = Path(out)
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name, lay in twin.layers.items():
        if lay.kind == "vector":
            frames[name] = lay.data
        elif lay.kind == "network":
            frames[f"{name}_nodes"] = lay.data.nodes
            frames[f"{name}_links"] = lay.data.links
        elif lay.kind == "series":
            pts = lay.data.points.copy()
            frames[f"{name}_sensors"] = pts

    def write(tmp: Path) -> None:
        for i, (lname, gdf) in enumerate(frames.items()):
            gpkg_safe(gdf).to_file(tmp, layer=lname, driver="GPKG", mode="w" if i == 0 else "a")

    written = []
    if frames:
        atomic_write(target, write)
        written.append(target)
    for name, lay in twin.layers.items():
        if lay.kind != "grid":
            continue
        for var in lay.data.data_vars:
            da = lay.data[var]
            if not pd.api.types.is_numeric_dtype(da.dtype) or set(da.dims) != {"y", "x"}:
                continue
            tif = target.with_name(f"{target.stem}_{name}_{var}.tif")
            atomic_write(tif, _raster_writer(da))
            written.append(tif)
    return written
