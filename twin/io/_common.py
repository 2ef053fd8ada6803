"""Shared checks for loaders: files, encodings, CRS, geometries, attribute mappings."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from twin.errors import CRSError, InputError, SchemaError, message
from twin.io.personal import personal_columns
from twin.model.crs import normalise_crs, parse_crs
from twin.model.provenance import Provenance


def check_file(path: str | Path) -> Path:
    """Check that ``path`` is an existing, non-empty file.

    Raises
    ------
    InputError
        If it is missing, a directory, or empty.
    """
    p = Path(path)
    if not p.exists():
        msg = message("file not found", where=p, fix="check the path in the layer manifest")
        raise InputError(msg)
    if p.is_dir():
        msg = message("is a directory, not a file", where=p, fix="point to the file itself")
        raise InputError(msg)
    if p.stat().st_size == 0:
        msg = message("file is empty (0 bytes)", where=p, fix="re-download or re-export it")
        raise InputError(msg)
    if p.suffix.lower() == ".zip":
        _check_zip_names(p)
    return p


def _check_zip_names(p: Path) -> None:
    """Refuse an archive whose entries climb out of it (``../``) or are absolute paths: twin
    never extracts archives, but such names only come from a forged or broken file."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        msg = message(f"is not a readable zip archive ({exc})", where=p, fix="re-download it")
        raise InputError(msg) from None
    bad = [n for n in names if n.startswith(("/", "\\")) or ".." in Path(n).parts]
    if bad:
        msg = message(
            f"the archive has entries outside itself: {bad[:5]}",
            where=p,
            fix="re-create the archive with relative names inside it",
        )
        raise InputError(msg)


def check_text_encoding(path: Path, encoding: str, *, sample: int | None = None) -> None:
    """Check that a text file decodes with ``encoding``; name the line that does not.

    Also flags UTF-8 text declared as Latin-1 (mojibake such as ``Ã©``).

    Raises
    ------
    InputError
        With the line number and the encoding to declare instead.
    """
    raw = path.read_bytes() if sample is None else path.read_bytes()[:sample]
    gdal_encoding(encoding, path)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        alt = "latin-1" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else "utf-8"
        msg = message(
            f"text is not valid {encoding} (byte {exc.start}, line {line})",
            where=path,
            fix=f"declare the file's encoding in the layer manifest, e.g. encoding: {alt}",
        )
        raise InputError(msg) from None
    if encoding.replace("_", "-").lower() in ("latin-1", "latin1", "iso-8859-1", "cp1252"):
        m = re.search("Ã[\u0080-\u00bf]", text)
        if m is not None:
            line = text[: m.start()].count("\n") + 1
            msg = message(
                f"text looks like UTF-8 read as {encoding} ('{m.group()}' on line {line})",
                where=path,
                fix="declare encoding: utf-8 for this layer",
            )
            raise InputError(msg)


def parse_csv(
    source: Path | Any, where: Path | str, *, sep: str | None, encoding: str | None = None
) -> pd.DataFrame:
    """Parse a CSV (a path or a text buffer) as text columns, empty cells as ``""``.

    Raises
    ------
    InputError
        On a file pandas cannot parse, an empty file, or a header without rows.
    """
    try:
        df = pd.read_csv(
            source, encoding=encoding, sep=sep, engine="python", dtype=str, keep_default_na=False
        )
    except pd.errors.ParserError as exc:
        msg = message(f"malformed CSV ({exc})", where=where, fix="check quoting and delimiters")
        raise InputError(msg) from None
    except pd.errors.EmptyDataError:
        msg = message("CSV has no header or rows", where=where, fix="check the file")
        raise InputError(msg) from None
    if len(df) == 0:
        msg = message("CSV has a header but no rows", where=where, fix="check the file")
        raise InputError(msg)
    return df


def gdal_encoding(encoding: str, where: Path | str = "encoding") -> str:
    """Normalise an encoding name (``"latin-1"``) to the one GDAL/iconv expects (``"ISO-8859-1"``).

    Raises
    ------
    SchemaError
        If Python does not know the encoding.
    """
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        msg = message(
            f"unknown text encoding '{encoding}'",
            where=where,
            fix="use e.g. utf-8, latin-1 (ISO-8859-1) or cp1252",
        )
        raise SchemaError(msg) from None
    m = re.fullmatch(r"iso8859-(\d+)", name)
    if m:
        return f"ISO-8859-{m.group(1)}"
    return name.upper()


def read_frame(
    path: Path, *, layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio, turning GDAL failures into :class:`InputError`."""
    kwargs: dict[str, object] = {"engine": "pyogrio"}
    if layer is not None:
        kwargs["layer"] = layer
    if encoding is not None:
        kwargs["encoding"] = gdal_encoding(encoding, path)
    suffix = path.suffix.lower()
    target = {".zip": f"/vsizip/{path}", ".gz": f"/vsigzip/{path}"}.get(suffix, str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = gpd.read_file(target, **kwargs)
    except UnicodeDecodeError as exc:
        msg = message(
            f"text is not valid {encoding or 'utf-8'} ({exc.reason})",
            where=path,
            fix="declare the right encoding in the layer manifest, e.g. encoding: latin-1",
        )
        raise InputError(msg) from None
    except Exception as exc:  # GDAL raises many types; each means the file is unreadable
        msg = message(
            f"cannot be read as a vector file ({type(exc).__name__}: {exc})",
            where=path,
            fix="check that the file is complete and in a supported format "
            "(GeoPackage, GeoJSON, Shapefile or zipped Shapefile, GeoParquet, CSV)",
        )
        raise InputError(msg) from None
    if len(gdf) == 0:
        msg = message("holds no features", where=path, fix="check the file or the layer name")
        raise InputError(msg)
    return gdf


def ensure_crs(
    gdf: gpd.GeoDataFrame, path: Path | str, declared: str | int | None = None
) -> gpd.GeoDataFrame:
    """Make sure a frame has a plausible CRS.

    Parameters
    ----------
    gdf : GeoDataFrame
        Frame as read.
    path : path or str
        For messages.
    declared : str or int, optional
        CRS declared in the manifest; used when the file has none, checked when it has one.

    Raises
    ------
    CRSError
        If the CRS is missing and not declared, or the coordinates cannot be in it.
    """
    if gdf.crs is None:
        if declared is None:
            msg = message(
                "has no coordinate reference system",
                where=path,
                fix="declare it in the layer manifest, e.g. crs: EPSG:2154 (Lambert-93) "
                "or crs: EPSG:4326 (longitude/latitude)",
            )
            raise CRSError(msg)
        gdf = gdf.set_crs(parse_crs(declared, where=f"{path}: crs"), allow_override=True)
    else:
        gdf = gdf.set_crs(normalise_crs(CRS(gdf.crs)), allow_override=True)
    check_plausible_coordinates(gdf, path)
    return gdf


def check_plausible_coordinates(gdf: gpd.GeoDataFrame, path: Path | str) -> None:
    """Reject coordinates that cannot be in the frame's CRS (a wrong CRS).

    Raises
    ------
    CRSError
        When geographic coordinates fall outside ±180/±90, or projected ones look like degrees.
    """
    geoms = gdf.geometry[~gdf.geometry.isna() & ~gdf.geometry.is_empty]
    if len(geoms) == 0:
        return
    xmin, ymin, xmax, ymax = geoms.total_bounds
    crs = CRS(gdf.crs)
    if crs.is_geographic and (min(xmin, ymin) < -180.5 or xmax > 180.5 or ymax > 90.5):
        msg = message(
            f"coordinates ({xmin:.0f}, {ymin:.0f}) – ({xmax:.0f}, {ymax:.0f}) are not degrees, "
            f"but the CRS is {crs.to_string()}",
            where=path,
            fix="declare the file's real projected CRS in the manifest, e.g. crs: EPSG:2154",
        )
        raise CRSError(msg)
    if crs.is_projected and max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)) <= 180:
        aou = crs.area_of_use
        if aou is not None and aou.west <= xmin <= aou.east and aou.south <= ymin <= aou.north:
            msg = message(
                f"coordinates ({xmin:.4f}, {ymin:.4f}) look like degrees, but the CRS is the "
                f"projected {crs.to_string()}",
                where=path,
                fix="declare crs: EPSG:4326 for longitude/latitude data",
            )
            raise CRSError(msg)
    if crs.area_of_use is not None:
        lon = gpd.GeoSeries(geoms.iloc[:1000], crs=crs).to_crs(4326).total_bounds
        a = crs.area_of_use
        tol = 5.0
        if (
            lon[0] > a.east + tol
            or lon[2] < a.west - tol
            or lon[1] > a.north + tol
            or (lon[3] < a.south - tol)
        ):
            msg = message(
                f"the data lies outside the area where {crs.to_string()} is defined ({a.name})",
                where=path,
                fix="check the CRS declared for this file",
            )
            raise CRSError(msg)
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        msg = message("has non-finite coordinates", where=path, fix="fix the geometries")
        raise CRSError(msg)


def repair_geometries(
    gdf: gpd.GeoDataFrame, path: Path | str, prov: Provenance
) -> gpd.GeoDataFrame:
    """Drop null/empty geometries and repair invalid ones where it is safe.

    Repairs use :func:`shapely.make_valid` and keep only the parts of the original dimension;
    their number is recorded in ``prov.counts``.
    """
    geom = gdf.geometry
    null = geom.isna() | geom.is_empty
    if null.any():
        prov.counts["dropped_empty_geometries"] = int(null.sum())
        prov.step(f"dropped {int(null.sum())} features without geometry")
        gdf = gdf.loc[~null].copy()
        geom = gdf.geometry
    if len(gdf) == 0:
        msg = message("no feature has a geometry", where=path, fix="check the file")
        raise InputError(msg)
    invalid = ~geom.is_valid
    if invalid.any():
        fixed = shapely.make_valid(geom[invalid].to_numpy())
        dims = shapely.get_dimensions(geom[invalid].to_numpy())
        out = []
        for g, d in zip(fixed, dims, strict=True):
            parts = [p for p in shapely.get_parts(g) if shapely.get_dimensions(p) == d]
            out.append(shapely.union_all(parts) if parts else None)
        gdf.loc[invalid, gdf.geometry.name] = out
        n = int(invalid.sum())
        prov.counts["repaired_geometries"] = n
        prov.step(f"repaired {n} invalid geometries with shapely.make_valid")
        gone = gdf.geometry.isna() | gdf.geometry.is_empty
        if gone.any():
            prov.counts["dropped_unrepairable_geometries"] = int(gone.sum())
            gdf = gdf.loc[~gone]
    return gdf


def apply_mapping(
    df: pd.DataFrame, mapping: Mapping[str, str] | None, path: Path | str
) -> pd.DataFrame:
    """Rename source columns to twin's names: ``mapping = {twin_name: source_column}``.

    Raises
    ------
    SchemaError
        Listing every mapped column the source lacks, and the columns it has.
    """
    if not mapping:
        return df
    missing = [src for src in mapping.values() if src not in df.columns]
    if missing:
        have = [c for c in df.columns if c != "geometry"]
        msg = message(
            f"mapped column(s) {missing} not found; the file has {have}",
            where=f"{path}: mapping",
            fix="correct the attribute mapping in the layer manifest",
        )
        raise SchemaError(msg)
    return df.rename(columns={src: dst for dst, src in mapping.items()})


def drop_personal_columns(
    df: pd.DataFrame, prov: Provenance, keep: Iterable[str] = ()
) -> pd.DataFrame:
    """Drop the columns that hold personal data (:mod:`twin.io.personal`), recording which
    in provenance (``dropped_personal_columns``) so that ``twin info`` shows them."""
    cols = personal_columns(df.columns, keep)
    if cols:
        prov.step(f"dropped personal-data columns {cols} (GDPR; docs/loaders.md)")
        df = df.drop(columns=cols)
    return df


def unique_index(
    df: pd.DataFrame, path: Path | str, id_column: str | None, prefix: str
) -> pd.DataFrame:
    """Give a frame a stable, unique string index from ``id_column`` or the row order.

    Raises
    ------
    InputError
        If ``id_column`` is missing or holds duplicates (listing the first rows).
    """
    if id_column is None:
        out = df.reset_index(drop=True)
        out.index = pd.Index([f"{prefix}{i}" for i in range(len(out))], name="id")
        return out
    if id_column not in df.columns:
        msg = message(
            f"id column '{id_column}' not found",
            where=path,
            fix=f"set id to one of {[c for c in df.columns if c != 'geometry']}",
        )
        raise SchemaError(msg)
    ids = df[id_column].astype(str)
    dup = ids.duplicated(keep=False)
    if dup.any():
        rows = (np.flatnonzero(dup.to_numpy())[:10] + 1).tolist()
        msg = message(
            f"{int(dup.sum())} rows share an id in field '{id_column}' (rows {rows})",
            where=path,
            fix="make ids unique, or omit the id option to number rows",
        )
        raise InputError(msg)
    out = df.drop(columns=[id_column])
    out.index = pd.Index(ids.to_numpy(), name="id")
    return out


def to_metric_crs(gdf: gpd.GeoDataFrame, prov: Provenance) -> gpd.GeoDataFrame:
    """``gdf`` in a CRS where lengths and areas can be measured (see
    :func:`twin.model.crs.metric_crs_for`): reprojected, with a provenance step, when its
    own CRS is geographic or distorts lengths there (Web Mercator…); as it is otherwise."""
    from twin.model.crs import metric_crs_for

    if gdf.crs is None or not len(gdf):
        return gdf
    lonlat = (
        tuple(gdf.to_crs(4326).total_bounds) if gdf.crs.is_projected else tuple(gdf.total_bounds)
    )
    target = metric_crs_for(CRS(gdf.crs), lonlat)  # type: ignore[arg-type]
    if target is None:
        return gdf
    prov.step(
        f"reprojected from {CRS(gdf.crs).to_string()} to {target.to_string()} before measuring "
        "lengths (the source CRS is not true to scale there)"
    )
    return gdf.to_crs(target)
