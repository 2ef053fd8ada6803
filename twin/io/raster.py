"""Rasters (GeoTIFF, Cloud-Optimised GeoTIFF): DEM, land cover, canopy height.

Rasters are read with :func:`rioxarray.open_rasterio` into an :class:`xarray.Dataset` on
``(y, x)`` with ``y`` descending, nodata masked as NaN, and the CRS and transform carried by the
``rio`` accessor. :func:`to_working_crs` reprojects a grid to the twin's working CRS.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rioxarray
import xarray as xr
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning

from twin.errors import CRSError, InputError, message
from twin.io._common import check_file
from twin.io.registry import loader
from twin.model.crs import normalise_crs, parse_crs
from twin.model.layer import Layer
from twin.model.provenance import Provenance

__all__ = ["load_raster", "read_raster", "to_working_crs"]

_FORMATS = "GeoTIFF or Cloud-Optimised GeoTIFF (.tif)"


def read_raster(
    path: str | Path,
    *,
    band: int | Sequence[int] | None = None,
    variable: str | Sequence[str] = "value",
    nodata: float | None = None,
    crs: str | int | None = None,
) -> xr.Dataset:
    """Read a georeferenced raster into a Dataset on ``(y, x)``.

    Parameters
    ----------
    path : str or Path
        GeoTIFF / COG file (any raster format GDAL reads).
    band : int or sequence of int, optional
        Band number(s), 1-based as in GDAL. Default: every band.
    variable : str or sequence of str
        Name of the data variable; put the units in it (``"elevation_m"``,
        ``"canopy_height_m"``). With several bands, either one name per band, or a single
        name that becomes ``<name>_<band>`` (``"value_1"``, ``"value_2"``…).
    nodata : float, optional
        Nodata value to mask, in addition to the one the file declares (if any).
    crs : str or int, optional
        CRS of the file when it declares none (``"EPSG:2154"``). When the file has a CRS,
        the declared one must match it.

    Returns
    -------
    xarray.Dataset
        One float variable per band, on ``(y, x)`` with ``y`` descending; nodata cells are
        NaN (integer rasters become floating point). CRS and transform are written with
        ``ds.rio.write_crs`` / ``write_transform``. ``attrs`` hold ``source``, ``bands``,
        ``crs_from`` (``"file"`` or ``"declared"``) and, when the file declares one,
        ``nodata``.

    Raises
    ------
    InputError
        Missing, empty, corrupt or non-raster file; band out of range; bad variable names.
    CRSError
        No CRS in the file and none declared, or a declared CRS contradicting the file's.
    """
    p = check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            opened = rioxarray.open_rasterio(p, masked=True, cache=False)
    except Exception as exc:  # rasterio raises several types; each means unreadable
        msg = message(
            f"cannot be read as a raster ({type(exc).__name__}: {exc})",
            where=p,
            fix=f"check that the file is complete and is a {_FORMATS}",
        )
        raise InputError(msg) from None
    if not isinstance(opened, xr.DataArray):
        msg = message(
            "holds several sub-datasets, not a single raster",
            where=p,
            fix=f"export the grid you need to a {_FORMATS}",
        )
        raise InputError(msg)
    try:
        da, bands, names, file_nodata, out_crs, crs_from = _checked_load(
            opened, p, band, variable, crs
        )
    finally:
        opened.close()

    if nodata is not None:
        da = da.where(da != nodata)
    data_vars: dict[str, Any] = {}
    for name, b in zip(names, bands, strict=True):
        v = da.sel(band=b, drop=True)
        v.attrs = {"band": b}
        v.encoding = {}
        data_vars[name] = v
    ds = xr.Dataset(data_vars)
    if "spatial_ref" in ds.coords:
        ds = ds.drop_vars("spatial_ref")
    if ds.sizes["y"] > 1 and float(ds.y[0]) < float(ds.y[-1]):
        ds = ds.isel(y=slice(None, None, -1))
    ds = ds.rio.write_crs(out_crs)
    ds = ds.rio.write_transform(ds.rio.transform(recalc=True))
    ds.attrs = {"source": str(p), "bands": list(bands), "crs_from": crs_from}
    if file_nodata is not None:
        ds.attrs["nodata"] = float(file_nodata)
    return ds


def _checked_load(
    opened: xr.DataArray,
    p: Path,
    band: int | Sequence[int] | None,
    variable: str | Sequence[str],
    crs: str | int | None,
) -> tuple[xr.DataArray, list[int], list[str], float | None, CRS, str]:
    """Check bands, names and CRS of an opened raster, then load the selected bands."""
    da = opened
    n_bands = int(da.sizes.get("band", 1))
    bands = _select_bands(band, n_bands, p)
    names = _variable_names(variable, bands, p)
    file_nodata = da.rio.encoded_nodata
    file_crs = da.rio.crs
    transform = da.rio.transform()
    if transform.b != 0 or transform.d != 0:
        msg = message(
            "the raster is rotated (its geotransform has rotation terms)",
            where=p,
            fix="warp it to a north-up grid first, e.g. gdalwarp in.tif out.tif",
        )
        raise InputError(msg)
    georeferenced = file_crs is not None or not transform.is_identity
    out_crs = _resolve_crs(file_crs, crs, p, georeferenced)
    crs_from = "file" if file_crs is not None else "declared"

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            da = da.sel(band=list(bands)).load()
    except Exception as exc:
        msg = message(
            f"raster data cannot be decoded, the file looks corrupt ({type(exc).__name__}: {exc})",
            where=p,
            fix="re-download or re-export the file",
        )
        raise InputError(msg) from None
    return da, bands, names, file_nodata, out_crs, crs_from


def _select_bands(band: int | Sequence[int] | None, n_bands: int, path: Path) -> list[int]:
    if band is None:
        return list(range(1, n_bands + 1))
    wanted = [band] if isinstance(band, int | np.integer) else list(band)
    bad = [b for b in wanted if not 1 <= int(b) <= n_bands]
    if bad or not wanted:
        msg = message(
            f"band {bad or wanted} out of range: the raster has {n_bands} band(s)",
            where=f"{path}: band",
            fix=f"choose bands between 1 and {n_bands} (1-based, as in GDAL)",
        )
        raise InputError(msg)
    return [int(b) for b in wanted]


def _variable_names(variable: str | Sequence[str], bands: list[int], path: Path) -> list[str]:
    if isinstance(variable, str):
        return [variable] if len(bands) == 1 else [f"{variable}_{b}" for b in bands]
    names = [str(v) for v in variable]
    if len(names) != len(bands) or len(set(names)) != len(names):
        msg = message(
            f"{len(names)} variable name(s) {names} for {len(bands)} band(s) {bands}",
            where=f"{path}: variable",
            fix="give one distinct name per band, or a single name",
        )
        raise InputError(msg)
    return names


def _resolve_crs(file_crs: Any, declared: str | int | None, path: Path, georeferenced: bool) -> CRS:
    if not georeferenced:
        msg = message(
            "is not georeferenced (no CRS and no geotransform)",
            where=path,
            fix="use a GeoTIFF with its georeferencing, e.g. gdal_translate -a_srs EPSG:2154 "
            "-a_ullr <west> <north> <east> <south> in.tif out.tif",
        )
        raise CRSError(msg)
    if file_crs is None:
        if declared is None:
            msg = message(
                "has no coordinate reference system",
                where=path,
                fix="declare it in the layer manifest, e.g. crs: EPSG:2154 (Lambert-93)",
            )
            raise CRSError(msg)
        return parse_crs(declared, where=f"{path}: crs")
    have = normalise_crs(CRS.from_user_input(file_crs.to_wkt()))
    if declared is not None:
        want = parse_crs(declared, where=f"{path}: crs")
        if not want.equals(have, ignore_axis_order=True):
            msg = message(
                f"the declared crs {want.to_string()} contradicts the file's CRS "
                f"{have.to_string()}",
                where=f"{path}: crs",
                fix="remove crs from the layer manifest, or fix the file's georeferencing",
            )
            raise CRSError(msg)
    return have


def to_working_crs(
    ds: xr.Dataset,
    crs: CRS | str | int,
    resolution: float | None = None,
    *,
    resampling: str = "nearest",
) -> xr.Dataset:
    """Reproject a grid to the working CRS with rioxarray.

    Parameters
    ----------
    ds : xarray.Dataset
        Grid on ``(y, x)`` with a CRS (``ds.rio.crs``).
    crs : pyproj.CRS, str or int
        Target CRS.
    resolution : float, optional
        Target cell size [target CRS units, m in a projected CRS]. Default: GDAL's choice
        (about the source resolution).
    resampling : str
        A :class:`rasterio.enums.Resampling` name. ``"nearest"`` (default) keeps categorical
        codes intact; use ``"bilinear"`` for continuous fields such as elevation.

    Returns
    -------
    xarray.Dataset
        The grid in ``crs``, ``y`` descending, NaN outside the source footprint. Returned
        unchanged when already in ``crs`` and no resolution is asked for.

    Raises
    ------
    CRSError
        When ``ds`` has no CRS or ``crs`` is not a CRS.
    InputError
        When ``resampling`` is not a resampling name.
    """
    target = parse_crs(crs, where="to_working_crs: crs")
    if ds.rio.crs is None:
        msg = message(
            "the grid has no CRS",
            where=ds.attrs.get("source", "grid"),
            fix="write one with ds.rio.write_crs(...) before reprojecting",
        )
        raise CRSError(msg)
    try:
        method = Resampling[resampling]
    except KeyError:
        msg = message(
            f"unknown resampling {resampling!r}",
            where="to_working_crs: resampling",
            fix=f"use one of {[r.name for r in Resampling][:12]}",
        )
        raise InputError(msg) from None
    src = normalise_crs(CRS.from_user_input(ds.rio.crs.to_wkt()))
    if src.equals(target) and resolution is None:
        return ds
    attrs = dict(ds.attrs)
    kwargs: dict[str, Any] = {"resampling": method, "nodata": np.nan}
    if resolution is not None:
        kwargs["resolution"] = float(resolution)
    out_vars = {}
    for name, v in ds.data_vars.items():
        v = v.astype(np.float32) if v.dtype.kind != "f" else v
        out_vars[name] = v.rio.write_nodata(np.nan, encoded=False).rio.reproject(
            target.to_wkt(), **kwargs
        )
    out = xr.Dataset(out_vars)
    if "spatial_ref" in out.coords:
        out = out.drop_vars("spatial_ref")
    out = out.rio.write_crs(target)
    out = out.rio.write_transform(out.rio.transform(recalc=True))
    out.attrs = attrs
    return out


@loader("raster", kind="grid")
def load_raster(
    source: Path,
    *,
    band: int | list[int] | None = None,
    variable: str | list[str] = "value",
    nodata: float | None = None,
    crs: str | int | None = None,
) -> Layer:
    """Load a GeoTIFF / COG grid (DEM, land cover, canopy height).

    Parameters
    ----------
    source : Path
        The raster file.
    band, variable, nodata, crs
        See :func:`read_raster`.

    Returns
    -------
    Layer
        A ``"grid"`` layer in the file's CRS, with provenance.
    """
    prov = Provenance(source=str(source))
    ds = read_raster(source, band=band, variable=variable, nodata=nodata, crs=crs)
    with rasterio.open(source) as src:
        driver = src.driver
    res = ds.rio.resolution()
    prov.step(
        f"read band(s) {ds.attrs['bands']} of a {driver} raster "
        f"({ds.sizes['x']}×{ds.sizes['y']} cells of {abs(res[0]):g}×{abs(res[1]):g} "
        "CRS units) with rioxarray"
    )
    masked = [f"file nodata {ds.attrs['nodata']:g}"] if "nodata" in ds.attrs else []
    if nodata is not None:
        masked.append(f"declared nodata {nodata:g}")
    if masked:
        prov.step(f"masked {' and '.join(masked)} as NaN")
    if ds.attrs["crs_from"] == "declared":
        prov.derived["crs"] = f"the file has none; declared in the manifest as {crs}"
    prov.counts["cells"] = int(ds.sizes["x"] * ds.sizes["y"])
    for name, v in ds.data_vars.items():
        prov.counts[f"nodata_cells_{name}"] = int(v.isnull().sum())
    return Layer(name=Path(source).stem, kind="grid", data=ds, provenance=prov)
