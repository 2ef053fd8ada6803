"""Generic vector files: GeoPackage, GeoJSON, Shapefile (also zipped), GeoParquet, CSV.

Each layer declares its attribute mapping (``{twin_name: source_column}``) and its text
encoding; many French open-data files are Latin-1. CSV files carry their geometry as x/y
columns or as WKT. CSV headers exported from dBASE (``"OBJECTID,N,10,0"``) are cleaned to the
bare field name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import CRSError, InputError, SchemaError, message
from twin.io._common import (
    apply_mapping,
    check_file,
    check_text_encoding,
    drop_personal_columns,
    ensure_crs,
    parse_csv,
    read_frame,
    repair_geometries,
    unique_index,
)
from twin.io.registry import loader
from twin.model.layer import Layer
from twin.model.provenance import Provenance

_DBF_HEADER = re.compile(r"^(?P<name>[^,]+),[CNDLF](?:,\d+(?:,\d+)?)?$")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".geojson", ".json")


def clean_header(name: str) -> str:
    """Strip a dBASE type suffix from a CSV header (``"IDARC,N,10,0"`` → ``"IDARC"``)."""
    m = _DBF_HEADER.match(name.strip())
    return m.group("name") if m else name.strip()


def read_csv_table(
    path: Path, *, encoding: str = "utf-8", delimiter: str | None = None
) -> pd.DataFrame:
    """Read a CSV file as text columns, checking its encoding and cleaning dBASE headers.

    Raises
    ------
    InputError
        On a wrong encoding (with the line), or a file pandas cannot parse (with the line).
    """
    check_text_encoding(path, encoding)
    df = parse_csv(path, path, sep=delimiter, encoding=encoding)
    df.columns = [clean_header(str(c)) for c in df.columns]
    return df.replace({"": np.nan})


def _csv_geometry(
    df: pd.DataFrame, path: Path, x: str | None, y: str | None, wkt: str | None
) -> gpd.GeoSeries:
    if wkt is not None:
        if wkt not in df.columns:
            msg = message(
                f"WKT column '{wkt}' not found; the file has {list(df.columns)}",
                where=path,
                fix="set wkt: to the geometry column",
            )
            raise SchemaError(msg)
        try:
            geoms = shapely.from_wkt(df[wkt].to_numpy(), on_invalid="raise")
        except shapely.errors.GEOSException:
            bad = [
                i + 2
                for i, v in enumerate(df[wkt])
                if shapely.from_wkt(v, on_invalid="ignore") is None
            ][:10]
            msg = message(
                f"unparseable WKT on rows {bad} (field {wkt}; row 1 is the header)",
                where=path,
                fix="correct those geometries",
            )
            raise InputError(msg) from None
        return gpd.GeoSeries(geoms, index=df.index)
    if x is None or y is None:
        msg = message(
            "a CSV layer needs its geometry columns",
            where=path,
            fix="declare x: and y: (coordinate columns) or wkt: in the layer options",
        )
        raise SchemaError(msg)
    missing = [c for c in (x, y) if c not in df.columns]
    if missing:
        msg = message(
            f"coordinate column(s) {missing} not found; the file has {list(df.columns)}",
            where=path,
            fix="correct x:/y: in the layer options",
        )
        raise SchemaError(msg)
    xs = pd.to_numeric(df[x].str.replace(",", ".", regex=False), errors="coerce")
    ys = pd.to_numeric(df[y].str.replace(",", ".", regex=False), errors="coerce")
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy())[:10] + 2).tolist()
        msg = message(
            f"{int(bad.sum())} rows have missing or non-numeric coordinates in {x}/{y} "
            f"(rows {rows}; row 1 is the header)",
            where=path,
            fix="fill or remove those rows",
        )
        raise InputError(msg)
    return gpd.GeoSeries(gpd.points_from_xy(xs, ys), index=df.index)


def read_vector(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: str | int | None = None,
    id: str | None = None,
    x: str | None = None,
    y: str | None = None,
    wkt: str | None = None,
    delimiter: str | None = None,
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read any supported vector file into a clean GeoDataFrame.

    Parameters
    ----------
    path : str or Path
        ``.gpkg``, ``.geojson``/``.json``, ``.shp``, ``.zip`` (zipped Shapefile),
        ``.parquet``/``.geoparquet`` or ``.csv``.
    layer : str, optional
        Layer inside a GeoPackage.
    encoding : str, optional
        Text encoding of attributes (e.g. ``"latin-1"``); defaults to UTF-8 for text files
        and to the file's declaration (``.cpg``) for Shapefiles.
    mapping : dict, optional
        ``{twin_name: source_column}`` renames; every source column must exist.
    crs : str or int, optional
        CRS to assume when the file has none (required for CSV).
    id : str, optional
        Column holding unique feature ids; rows are numbered otherwise.
    x, y, wkt : str, optional
        CSV geometry columns.
    delimiter : str, optional
        CSV delimiter; sniffed when omitted.

    Returns
    -------
    gdf : GeoDataFrame
        Features with a unique string ``id`` index, CRS set, geometries valid.
    provenance : Provenance
    """
    p = check_file(path)
    prov = Provenance(source=str(p))
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        df = read_csv_table(p, encoding=encoding or "utf-8", delimiter=delimiter)
        geom = _csv_geometry(df, p, x, y, wkt)
        if crs is None:
            msg = message(
                "a CSV file has no coordinate reference system",
                where=p,
                fix="declare crs: in the layer options, e.g. EPSG:2154 or EPSG:4326",
            )
            raise CRSError(msg)
        gdf = gpd.GeoDataFrame(
            df.drop(columns=[c for c in (x, y, wkt) if c is not None]), geometry=geom
        )
        prov.step(f"read CSV ({encoding or 'utf-8'}) with geometry from {wkt or (x, y)}")
    elif suffix in (".parquet", ".geoparquet"):
        try:
            gdf = gpd.read_parquet(p)
        except Exception as exc:
            msg = message(
                f"cannot be read as GeoParquet ({type(exc).__name__}: {exc})",
                where=p,
                fix="check the file is complete GeoParquet (with 'geo' metadata)",
            )
            raise InputError(msg) from None
        prov.step("read GeoParquet")
    else:
        if encoding is not None and suffix in _TEXT_SUFFIXES:
            check_text_encoding(p, encoding)
        gdf = read_frame(p, layer=layer, encoding=encoding)
        if encoding is not None:
            _check_mojibake(gdf, p, encoding)
        prov.step(f"read {suffix.lstrip('.')} with GDAL" + (f" ({encoding})" if encoding else ""))
    gdf = ensure_crs(gdf, p, crs)
    gdf = repair_geometries(gdf, p, prov)
    gdf = apply_mapping(gdf, mapping, p)
    if mapping:
        prov.step(f"renamed columns {dict(mapping)}")
    gdf = drop_personal_columns(gdf, prov)
    gdf = unique_index(gdf, p, id, prefix=f"{p.stem}/")
    return gdf, prov


def _check_mojibake(gdf: pd.DataFrame, path: Path, encoding: str) -> None:
    """Flag attribute text that was decoded with the wrong encoding."""
    texts = [c for c in gdf.columns if c != "geometry" and gdf[c].dtype == object]
    texts += [c for c in gdf.columns if str(gdf[c].dtype) in ("str", "string")]
    enc = encoding.replace("_", "-").lower()
    pattern = (
        "Ã[\u0080-\u00bf]" if enc in ("latin-1", "latin1", "iso-8859-1", "cp1252") else "\ufffd"
    )
    for c in dict.fromkeys(texts):
        s = gdf[c].astype(str)
        hit = s.str.contains(pattern, regex=True, na=False)
        if hit.any():
            row = int(np.flatnonzero(hit.to_numpy())[0]) + 1
            alt = "utf-8" if "Ã" in pattern else "latin-1"
            msg = message(
                f"field '{c}' row {row} looks mis-decoded ({s[hit].iloc[0][:40]!r})",
                where=path,
                fix=f"declare encoding: {alt} for this layer",
            )
            raise InputError(msg)


@loader("vector", kind="vector")
def load_vector(
    source: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    mapping: dict[str, str] | None = None,
    crs: str | int | None = None,
    id: str | None = None,
    x: str | None = None,
    y: str | None = None,
    wkt: str | None = None,
    delimiter: str | None = None,
    default_height_m: float | None = None,
    storey_height_m: float = 3.0,
) -> Layer:
    """Any vector file (see :func:`read_vector`).

    Buildings without heights (Etalab, most cadastres, momepy's data) get ``height_m`` when
    ``default_height_m`` is given [m]: ``levels`` × ``storey_height_m`` [m] where the layer
    has positive levels, else ``default_height_m``; both ASSUMED, counted in provenance. A
    ``height_m`` the data has is kept.
    """
    gdf, prov = read_vector(
        source,
        layer=layer,
        encoding=encoding,
        mapping=mapping,
        crs=crs,
        id=id,
        x=x,
        y=y,
        wkt=wkt,
        delimiter=delimiter,
    )
    if default_height_m is not None and "height_m" not in gdf:
        gdf = _assumed_heights(gdf, prov, default_height_m, storey_height_m)
    return Layer(source.stem, "vector", gdf, prov)


def _assumed_heights(
    gdf: gpd.GeoDataFrame, prov: Provenance, default_m: float, storey_m: float
) -> gpd.GeoDataFrame:
    """``height_m`` from ``levels`` × storey height, else a default (ASSUMED)."""
    if not 0 < default_m <= 1000 or not 0 < storey_m <= 20:
        msg = message(
            f"default_height_m {default_m} / storey_height_m {storey_m} out of range",
            where="options",
            fix="give heights in metres (e.g. default_height_m: 9, storey_height_m: 3)",
        )
        raise SchemaError(msg)
    levels = (
        pd.to_numeric(gdf["levels"], errors="coerce")
        if "levels" in gdf
        else pd.Series(np.nan, index=gdf.index)
    )
    from_levels = levels.gt(0)
    gdf = gdf.copy()
    gdf["height_m"] = np.where(from_levels, levels * storey_m, default_m)
    prov.derived["height_m"] = (
        f"ASSUMED: levels × {storey_m:g} m, else {default_m:g} m (no height in the source)"
    )
    prov.counts["height_from_levels"] = int(from_levels.sum())
    prov.counts["height_default"] = int((~from_levels).sum())
    return gdf
