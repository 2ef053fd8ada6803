"""Sensor time series: CSV tables (long or wide) and OGC SensorThings API JSON exports.

A sensor series is a :class:`~twin.model.SensorSeries`: an xarray Dataset on dims
``(sensor, time)`` with one variable per measured quantity (units in the name, e.g.
``temp_c``, ``flow_veh_h``), joined by id to a GeoDataFrame of sensor positions.

Sensor positions come from, in order of preference:

* coordinate columns of a long CSV (``x``/``y`` with a ``crs``, or ``lon``/``lat``);
* a separate file given as ``sensors``: a CSV with coordinate columns, or any vector file
  (GeoPackage, GeoJSON, zipped Shapefile…). Points are used as they are; a **line** is
  reduced to its midpoint along its length and a polygon to a point inside it (both recorded
  as *derived* in provenance). Counts reported per street arc are placed this way.

Times are read as given, or converted to UTC and made naive when they carry a time zone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from twin.errors import CRSError, InputError, SchemaError, message
from twin.io._common import check_file, check_plausible_coordinates, check_text_encoding
from twin.io.registry import loader
from twin.io.vector import read_csv_table, read_vector
from twin.model.crs import WGS84, parse_crs
from twin.model.layer import Layer, SensorSeries
from twin.model.provenance import Provenance

Layout = Literal["long", "wide"]
Duplicates = Literal["error", "mean", "sum", "first", "last", "max", "min"]
_DUPLICATES = ("error", "mean", "sum", "first", "last", "max", "min")

#: Unit symbols (SensorThings ``unitOfMeasurement.symbol``) → suffix of variable names.
UNIT_SUFFIXES: dict[str, str] = {
    "°c": "c",
    "degc": "c",
    "cel": "c",
    "k": "k",
    "%": "pct",
    "percent": "pct",
    "µg/m³": "ug_m3",
    "ug/m3": "ug_m3",
    "µg/m3": "ug_m3",
    "mg/m³": "mg_m3",
    "mg/m3": "mg_m3",
    "ppm": "ppm",
    "ppb": "ppb",
    "hpa": "hpa",
    "pa": "pa",
    "m/s": "m_s",
    "km/h": "kph",
    "mm": "mm",
    "m": "m",
    "db": "db",
    "db(a)": "dba",
    "dba": "dba",
    "lx": "lux",
    "lux": "lux",
    "w/m²": "w_m2",
    "w/m2": "w_m2",
    "w": "w",
    "kw": "kw",
    "kwh": "kwh",
    "m³/h": "m3_h",
    "m3/h": "m3_h",
    "l/s": "l_s",
    "veh/h": "veh_h",
    "veh/d": "veh_day",
    "veh/day": "veh_day",
    "1/h": "per_h",
    "count": "count",
}


# -- helpers ----------------------------------------------------------------------------------
def _require_columns(df: pd.DataFrame, cols: Sequence[str], path: Path, role: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        msg = message(
            f"{role} column(s) {missing} not found; the file has {list(df.columns)}",
            where=path,
            fix=f"set the {role} option to one of the columns present",
        )
        raise SchemaError(msg)


def _rows(mask: np.ndarray | pd.Series, limit: int = 10) -> list[int]:
    """1-based file line numbers of the flagged rows (line 1 is the header)."""
    return (np.flatnonzero(np.asarray(mask))[:limit] + 2).tolist()


def parse_times(
    values: pd.Series, *, time_format: str | None, path: Path | str, column: str
) -> pd.DatetimeIndex:
    """Parse a text column of times, naming the rows that do not parse.

    Parameters
    ----------
    values : Series of str
        Raw text.
    time_format : str, optional
        :func:`~datetime.datetime.strptime` format (e.g. ``"%d/%m/%y"``); ISO 8601 when omitted.
    path, column : for messages.

    Returns
    -------
    DatetimeIndex
        Naive times; times with a time zone are converted to UTC first.

    Raises
    ------
    InputError
        Naming the rows (file line numbers) and the field.
    """
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    try:
        t = pd.to_datetime(text, format=time_format or "ISO8601", errors="coerce", utc=True)
    except (ValueError, TypeError) as exc:
        msg = message(
            f"time format {time_format!r} is invalid ({exc})",
            where=f"{path}: field {column}",
            fix="give a strptime format such as '%d/%m/%Y %H:%M'",
        )
        raise SchemaError(msg) from None
    bad = t.isna() | empty
    if bad.any():
        first = text[bad].iloc[0]
        msg = message(
            f"{int(bad.sum())} unparseable or empty times in field '{column}' "
            f"(rows {_rows(bad)}, e.g. {first!r}; row 1 is the header)",
            where=path,
            fix="give time_format (e.g. '%d/%m/%y' for 08/01/11) or correct those rows",
        )
        raise InputError(msg)
    return pd.DatetimeIndex(t).tz_convert(None)


def _numeric(values: pd.Series, path: Path, column: str) -> pd.Series:
    text = values.astype("string").str.strip().str.replace(",", ".", regex=False)
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() & text.notna() & (text != "")
    if bad.any():
        msg = message(
            f"{int(bad.sum())} non-numeric values in field '{column}' "
            f"(rows {_rows(bad)}, e.g. {text[bad].iloc[0]!r}; row 1 is the header)",
            where=path,
            fix="correct those values or leave them empty (missing)",
        )
        raise InputError(msg)
    return out.astype("float64")


def _value_mapping(
    value_columns: Sequence[str] | Mapping[str, str] | None,
    df: pd.DataFrame,
    used: Sequence[str],
    path: Path,
) -> dict[str, str]:
    """``{variable: source column}``; by default every other column that is fully numeric."""
    if value_columns is None:
        out = {}
        for c in df.columns:
            if c in used:
                continue
            s = df[c].astype("string").str.strip().str.replace(",", ".", regex=False)
            if s.notna().any() and pd.to_numeric(s, errors="coerce").notna().eq(s.notna()).all():
                out[str(c)] = str(c)
        if not out:
            msg = message(
                f"no numeric value column found; the file has {list(df.columns)}",
                where=path,
                fix="name the value columns with value_columns: {flow_veh_h: COUNT}",
            )
            raise SchemaError(msg)
        return out
    mapping = (
        dict(value_columns)
        if isinstance(value_columns, Mapping)
        else {str(c): str(c) for c in value_columns}
    )
    _require_columns(df, list(mapping.values()), path, "value_columns")
    return mapping


def _to_points(gdf: gpd.GeoDataFrame, prov: Provenance) -> gpd.GeoDataFrame:
    """Reduce lines to their midpoint and polygons to an inner point (recorded as derived)."""
    types = gdf.geom_type
    lines = types.isin(["LineString", "MultiLineString", "LinearRing"]).to_numpy()
    polys = types.isin(["Polygon", "MultiPolygon"]).to_numpy()
    geoms = gdf.geometry.to_numpy().copy()
    if lines.any():
        merged = shapely.line_merge(geoms[lines])
        geoms[lines] = shapely.line_interpolate_point(merged, 0.5, normalized=True)
        prov.derived["geometry"] = "sensor position = midpoint (half the length) of its line"
        prov.counts["positions_from_lines"] = int(lines.sum())
    if polys.any():
        geoms[polys] = shapely.point_on_surface(geoms[polys])
        prov.derived["geometry"] = (
            prov.derived.get("geometry", "") + "; polygon sensors placed at a point inside"
        ).lstrip("; ")
        prov.counts["positions_from_polygons"] = int(polys.sum())
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def _read_positions(
    sensors: Path,
    *,
    layer: str | None,
    id_column: str,
    x: str | None,
    y: str | None,
    lon: str | None,
    lat: str | None,
    crs: str | int | None,
    encoding: str | None,
    prov: Provenance,
) -> gpd.GeoDataFrame:
    """Read the sensors' position file, indexed by id."""
    if sensors.suffix.lower() in (".csv", ".txt", ".tsv"):
        if lon is not None or lat is not None:
            x, y, crs = lon, lat, crs or "EPSG:4326"
        pts, p2 = read_vector(sensors, encoding=encoding, x=x, y=y, crs=crs, id=id_column)
    else:
        pts, p2 = read_vector(sensors, layer=layer, encoding=encoding, crs=crs, id=id_column)
    prov.steps.extend(f"positions: {s}" for s in p2.steps)
    prov.counts.update({f"positions_{k}": v for k, v in p2.counts.items()})
    return _to_points(pts, prov)


def _positions_from_columns(
    df: pd.DataFrame,
    sensor: pd.Series,
    path: Path,
    *,
    x: str | None,
    y: str | None,
    lon: str | None,
    lat: str | None,
    crs: str | int | None,
    prov: Provenance,
) -> gpd.GeoDataFrame:
    """One point per sensor from coordinate columns of a long table (first row per sensor)."""
    if lon is not None or lat is not None:
        cx, cy, the_crs = lon, lat, WGS84
    else:
        if crs is None:
            msg = message(
                "x/y coordinate columns have no coordinate reference system",
                where=path,
                fix="declare crs: (e.g. EPSG:2154), or use lon:/lat: for degrees",
            )
            raise CRSError(msg)
        cx, cy, the_crs = x, y, parse_crs(crs, where=f"{path}: crs")
    if cx is None or cy is None:
        msg = message(
            "both coordinate columns are needed",
            where=path,
            fix="give x: and y: (or lon: and lat:) together",
        )
        raise SchemaError(msg)
    _require_columns(df, [cx, cy], path, "coordinate")
    xs, ys = _numeric(df[cx], path, cx), _numeric(df[cy], path, cy)
    bad = xs.isna() | ys.isna()
    if bad.any():
        msg = message(
            f"{int(bad.sum())} rows have no coordinates in {cx}/{cy} "
            f"(rows {_rows(bad)}; row 1 is the header)",
            where=path,
            fix="fill the coordinates or give positions in a separate sensors: file",
        )
        raise InputError(msg)
    xy = pd.DataFrame({"sensor": sensor.to_numpy(), "x": xs.to_numpy(), "y": ys.to_numpy()})
    first = xy.groupby("sensor", sort=False).first()
    spread = xy.groupby("sensor", sort=False)[["x", "y"]].agg(lambda s: s.max() - s.min())
    moved = int((spread.max(axis=1) > 1e-9).sum())
    if moved:
        prov.counts["sensors_with_varying_position"] = moved
        prov.step(f"{moved} sensors have several positions; the first one is used")
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(first["x"], first["y"]),
        index=pd.Index(first.index.astype(str), name="sensor"),
        crs=the_crs,
    )
    check_plausible_coordinates(pts, path)
    prov.step(f"sensor positions from columns {cx}/{cy}")
    return pts


def _assemble(
    long: pd.DataFrame,
    variables: Sequence[str],
    points: gpd.GeoDataFrame,
    *,
    path: Path,
    duplicates: str,
    unplaced: str,
    prov: Provenance,
) -> SensorSeries:
    """Long table ``sensor, time, <variables>`` + positions → :class:`SensorSeries`."""
    if duplicates not in _DUPLICATES:
        msg = message(
            f"duplicates must be one of {list(_DUPLICATES)}, not {duplicates!r}",
            where=path,
            fix="choose how repeated (sensor, time) rows are combined",
        )
        raise SchemaError(msg)
    known = long["sensor"].isin(points.index)
    if not known.all():
        ids = list(dict.fromkeys(long.loc[~known, "sensor"]))
        if unplaced != "drop":
            msg = message(
                f"{len(ids)} sensors have no position (ids {ids[:10]})",
                where=path,
                fix="add them to the sensors' position file, or set unplaced: drop to leave "
                "them out (they are counted in provenance)",
            )
            raise InputError(msg)
        prov.counts["unplaced_rows"] = int((~known).sum())
        prov.counts["unplaced_sensors"] = len(ids)
        prov.step(f"dropped {int((~known).sum())} rows of {len(ids)} sensors without position")
        long = long.loc[known]
    if len(long) == 0:
        msg = message(
            "no row is left after matching sensors to positions",
            where=path,
            fix="check that the sensor ids match the position file's ids",
        )
        raise InputError(msg)
    key = ["sensor", "time"]
    dup = long.duplicated(key, keep=False)
    if dup.any():
        if duplicates == "error":
            first = long.loc[dup].iloc[0]
            msg = message(
                f"{int(dup.sum())} rows repeat a (sensor, time) pair, e.g. sensor "
                f"{first['sensor']!r} at {first['time']} (rows {_rows(dup.to_numpy())})",
                where=path,
                fix="remove the repeats, or set duplicates: mean (or sum, first, last, max, min)",
            )
            raise InputError(msg)
        n_extra = int(long.duplicated(key).sum())
        prov.counts["duplicate_rows_combined"] = n_extra
        prov.step(f"combined {n_extra} repeated (sensor, time) rows with '{duplicates}'")
        for v in variables:
            prov.derived[v] = f"{duplicates} of the rows sharing a (sensor, time) pair"
        long = long.groupby(key, sort=True)[list(variables)].agg(duplicates).reset_index()
    frame = long.set_index(key)[list(variables)].sort_index()
    ds = xr.Dataset.from_dataframe(frame)
    ds["sensor"] = ds["sensor"].astype(str)
    pts = points.loc[ds["sensor"].to_numpy()].copy()
    pts.index.name = "sensor"
    prov.counts.update(
        {"rows": len(long), "sensors": int(ds.sizes["sensor"]), "times": int(ds.sizes["time"])}
    )
    return SensorSeries(points=pts, data=ds)


# -- CSV --------------------------------------------------------------------------------------
def read_sensor_csv(
    path: str | Path,
    *,
    layout: str = "long",
    sensors: str | Path | None = None,
    sensors_layer: str | None = None,
    sensors_id: str | None = None,
    sensors_encoding: str | None = None,
    time_column: str = "time",
    sensor_column: str | Sequence[str] = "sensor",
    position_column: str | None = None,
    value_columns: Sequence[str] | Mapping[str, str] | None = None,
    variable: str = "value",
    attributes: Sequence[str] | None = None,
    x: str | None = None,
    y: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | int | None = None,
    encoding: str = "utf-8",
    time_format: str | None = None,
    delimiter: str | None = None,
    duplicates: str = "error",
    unplaced: str = "error",
) -> tuple[SensorSeries, Provenance]:
    """Read sensor time series from a CSV table.

    Parameters
    ----------
    path : str or Path
        The CSV file. dBASE-style headers (``"TJM,N,19,8"``) are cleaned to the field name.
    layout : {"long", "wide"}
        ``long``: one row per sensor and time, with one column per measured quantity.
        ``wide``: a time column and one column per sensor (column name = sensor id).
    sensors : str or Path, optional
        File of sensor positions (CSV with coordinate columns, or a vector file); a relative
        path is taken from the folder of ``path``. Required unless a long table has
        coordinate columns.
    sensors_layer : str, optional
        Layer of ``sensors`` inside a GeoPackage.
    sensors_id : str, optional
        Id field of the positions file; defaults to the position key's name (long layout)
        or ``"id"`` (wide layout).
    sensors_encoding : str, optional
        Text encoding of the positions file.
    time_column : str
        Time field.
    sensor_column : str or list of str
        Sensor id field (long layout). With several fields, the sensor id is their values
        joined with ``"/"`` (e.g. a count site and a direction).
    position_column : str, optional
        Field whose value is looked up in the positions file; defaults to ``sensor_column``
        (or its first field).
    value_columns : list of str or dict, optional
        Long layout: quantity columns, as a list (names kept) or ``{variable: column}``
        (e.g. ``{"flow_veh_day": "TJM"}``); by default every other fully numeric column.
    variable : str
        Wide layout: name of the one variable (e.g. ``"flow_veh_h"``).
    attributes : list of str, optional
        Long layout: text fields copied to the sensors' points (first value per sensor).
    x, y : str, optional
        Coordinate fields [CRS units], in the long table or the positions CSV; need ``crs``.
    lon, lat : str, optional
        Coordinate fields [degrees, WGS 84].
    crs : str or int, optional
        CRS of ``x``/``y``, or of a positions file that has none.
    encoding : str
        Text encoding of the CSV (e.g. ``"latin-1"``).
    time_format : str, optional
        strptime format of times (e.g. ``"%d/%m/%y"``); ISO 8601 when omitted.
    delimiter : str, optional
        CSV delimiter; sniffed when omitted.
    duplicates : {"error", "mean", "sum", "first", "last", "max", "min"}
        How rows repeating a (sensor, time) pair are combined.
    unplaced : {"error", "drop"}
        What to do with sensors that have no position.

    Returns
    -------
    series : SensorSeries
        ``data`` on dims ``(sensor, time)`` with one float variable per quantity (missing
        values are NaN); ``points`` indexed by the same sensor ids.
    provenance : Provenance

    Raises
    ------
    SchemaError
        Unknown layout, missing fields (listing those present).
    InputError
        Wrong encoding (with the line), unparseable times or values (with the rows), sensors
        without position (with their ids).
    """
    p = check_file(path)
    prov = Provenance(source=str(p))
    if layout not in ("long", "wide"):
        msg = message(
            f"unknown layout {layout!r}",
            where=p,
            fix="use layout: long (one row per sensor and time) or layout: wide "
            "(one column per sensor)",
        )
        raise SchemaError(msg)
    df = read_csv_table(p, encoding=encoding, delimiter=delimiter)
    prov.step(f"read {layout} CSV ({encoding})")
    _require_columns(df, [time_column], p, "time_column")
    sens_path = None
    if sensors is not None:
        sens_path = Path(sensors)
        if not sens_path.is_absolute():
            sens_path = p.parent / sens_path
    if layout == "wide":
        if sens_path is None:
            msg = message(
                "a wide table has no coordinates, so sensor positions are unknown",
                where=p,
                fix="give sensors: a file of sensor positions with their ids",
            )
            raise SchemaError(msg)
        times = parse_times(df[time_column], time_format=time_format, path=p, column=time_column)
        cols = [c for c in df.columns if c != time_column]
        vals = {c: _numeric(df[c], p, c).to_numpy() for c in cols}
        long = pd.DataFrame(
            {
                "sensor": np.repeat(np.array(cols, dtype=object), len(df)),
                "time": np.tile(times.to_numpy(), len(cols)),
                variable: np.concatenate([vals[c] for c in cols]) if cols else [],
            }
        )
        variables = [variable]
        vmap: dict[str, str] = {}
        pos_key = long["sensor"]
        key_name = sensors_id or "id"
    else:
        scols = [sensor_column] if isinstance(sensor_column, str) else list(sensor_column)
        _require_columns(df, scols, p, "sensor_column")
        missing_id = df[scols].isna().any(axis=1)
        if missing_id.any():
            msg = message(
                f"{int(missing_id.sum())} rows have no sensor id in {scols} "
                f"(rows {_rows(missing_id)}; row 1 is the header)",
                where=p,
                fix="fill the sensor ids or remove those rows",
            )
            raise InputError(msg)
        sid = df[scols].astype(str).agg(lambda r: "/".join(s.strip() for s in r), axis=1)
        key_name = position_column or scols[0]
        _require_columns(df, [key_name], p, "position_column")
        pos_key = df[key_name].astype(str).str.strip()
        times = parse_times(df[time_column], time_format=time_format, path=p, column=time_column)
        coords = [c for c in (x, y, lon, lat) if c is not None]
        vmap = _value_mapping(
            value_columns, df, [time_column, *scols, key_name, *coords, *(attributes or [])], p
        )
        long = pd.DataFrame({"sensor": sid.to_numpy(), "time": times.to_numpy()})
        for var, src in vmap.items():
            long[var] = _numeric(df[src], p, src).to_numpy()
        variables = list(vmap)
        prov.step(f"values {vmap} ({'/'.join(scols)} = sensor, {time_column} = time)")
    # positions
    if sens_path is not None:
        pts = _read_positions(
            check_file(sens_path),
            layer=sensors_layer,
            id_column=sensors_id or key_name,
            x=x,
            y=y,
            lon=lon,
            lat=lat,
            crs=crs,
            encoding=sensors_encoding,
            prov=prov,
        )
        site = pd.Series(pos_key.to_numpy(), index=long["sensor"].to_numpy())
        site = site[~site.index.duplicated()]
        placed = site[site.isin(pts.index)]
        points = gpd.GeoDataFrame(
            pts.loc[placed.to_numpy()].reset_index(drop=True),
            geometry=pts.geometry.name,
            crs=pts.crs,
        )
        points.insert(0, "site", placed.to_numpy())
        points.index = pd.Index(placed.index.astype(str), name="sensor")
        prov.step(f"sensor positions from {sens_path.name} joined on {sensors_id or key_name}")
    elif layout == "long" and any(c is not None for c in (x, y, lon, lat)):
        points = _positions_from_columns(
            df, long["sensor"], p, x=x, y=y, lon=lon, lat=lat, crs=crs, prov=prov
        )
    else:
        msg = message(
            "sensor positions are unknown",
            where=p,
            fix="give coordinate columns (x:/y: with crs:, or lon:/lat:) or a sensors: file",
        )
        raise SchemaError(msg)
    if layout == "long" and attributes:
        _require_columns(df, list(attributes), p, "attributes")
        att = df[list(attributes)].set_axis(long["sensor"].to_numpy()).groupby(level=0).first()
        points = points.join(att.rename(columns=lambda c: c if c not in points else f"{c}_csv"))
    series = _assemble(
        long, variables, points, path=p, duplicates=duplicates, unplaced=unplaced, prov=prov
    )
    for var in variables:
        series.data[var].attrs["source_column"] = (
            "wide columns" if layout == "wide" else dict(vmap)[var]
        )
    return series, prov


@loader("sensors.csv", kind="series")
def load_sensor_csv(
    source: Path,
    *,
    layout: Literal["long", "wide"] = "long",
    sensors: str | None = None,
    sensors_layer: str | None = None,
    sensors_id: str | None = None,
    sensors_encoding: str | None = None,
    time_column: str = "time",
    sensor_column: str | list[str] = "sensor",
    position_column: str | None = None,
    value_columns: list[str] | dict[str, str] | None = None,
    variable: str = "value",
    attributes: list[str] | None = None,
    x: str | None = None,
    y: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | int | None = None,
    encoding: str = "utf-8",
    time_format: str | None = None,
    delimiter: str | None = None,
    duplicates: Duplicates = "error",
    unplaced: Literal["error", "drop"] = "error",
) -> Layer:
    """Sensor time series from a long or wide CSV (see :func:`read_sensor_csv`)."""
    series, prov = read_sensor_csv(
        source,
        layout=layout,
        sensors=sensors,
        sensors_layer=sensors_layer,
        sensors_id=sensors_id,
        sensors_encoding=sensors_encoding,
        time_column=time_column,
        sensor_column=sensor_column,
        position_column=position_column,
        value_columns=value_columns,
        variable=variable,
        attributes=attributes,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        crs=crs,
        encoding=encoding,
        time_format=time_format,
        delimiter=delimiter,
        duplicates=duplicates,
        unplaced=unplaced,
    )
    return Layer(source.stem, "series", series, prov)


# -- OGC SensorThings API -----------------------------------------------------------------------
def _slug(text: str) -> str:
    s = re.sub(r"[^0-9a-zA-Z]+", "_", text.strip().lower()).strip("_")
    return s or "value"


def variable_name(observed_property: str, unit_symbol: str | None) -> str:
    """Variable name from an observed property and a unit symbol.

    ``("Temperature", "°C")`` → ``"temperature_c"``.
    """
    base = _slug(observed_property)
    if not unit_symbol:
        return base
    sym = unit_symbol.strip()
    suffix = UNIT_SUFFIXES.get(sym.lower()) or _slug(
        sym.replace("µ", "u").replace("³", "3").replace("²", "2").replace("/", "_")
    )
    return base if base.endswith("_" + suffix) else f"{base}_{suffix}"


def _location_point(thing: Mapping[str, Any], where: str) -> shapely.Geometry | None:
    for loc in thing.get("Locations") or []:
        geo = loc.get("location") if isinstance(loc, Mapping) else None
        if isinstance(geo, Mapping) and geo.get("type") == "Feature":
            geo = geo.get("geometry")
        if not isinstance(geo, Mapping) or "type" not in geo:
            continue
        try:
            g = shapely.geometry.shape(geo)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            msg = message(
                f"Location {loc.get('name', '')!r} is not valid GeoJSON ({str(geo)[:80]})",
                where=where,
                fix="give the location as a GeoJSON Point [longitude, latitude]",
            )
            raise InputError(msg) from None
        return g if g.geom_type == "Point" else g.representative_point()
    return None


def _thing_list(doc: Any, path: Path) -> list[Mapping[str, Any]]:
    if isinstance(doc, Mapping) and isinstance(doc.get("value"), list):
        return list(doc["value"])
    if isinstance(doc, list):
        return doc
    if isinstance(doc, Mapping) and "Datastreams" in doc:
        return [doc]
    msg = message(
        'not a SensorThings export: expected {"value": [Things]} with expanded '
        "Locations and Datastreams/Observations",
        where=path,
        fix="export with $expand=Locations,Datastreams($expand=ObservedProperty,Observations)",
    )
    raise InputError(msg)


def read_sensorthings(
    path: str | Path,
    *,
    observed_property: str | Sequence[str] | None = None,
    duplicates: str = "error",
    unplaced: str = "error",
) -> tuple[SensorSeries, Provenance]:
    """Read an OGC SensorThings API (1.0/1.1) JSON export of Things with their observations.

    The file holds Things (``{"value": [...]}`` as returned by
    ``/Things?$expand=Locations,Datastreams($expand=ObservedProperty,Observations)``, or a list
    of Things, or one Thing). Each Thing is one sensor (id ``@iot.id``, else ``name``) placed at
    its first Location (GeoJSON, WGS 84). Each Datastream gives one variable named from its
    ObservedProperty ``name`` and ``unitOfMeasurement.symbol`` (``Temperature`` in ``°C`` →
    ``temperature_c``; the unit is also in the variable's ``units`` attribute). Observation
    times are ``phenomenonTime``: an instant, or the start of an interval
    (``start/end``), converted to UTC. Non-numeric results are rejected.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    observed_property : str or list of str, optional
        Keep only the datastreams observing these properties (by ObservedProperty name).
    duplicates : {"error", "mean", "sum", "first", "last", "max", "min"}
        How observations repeating a (sensor, time) pair for one variable are combined.
    unplaced : {"error", "drop"}
        What to do with Things that have no Location.

    Returns
    -------
    series : SensorSeries
    provenance : Provenance

    References
    ----------
    OGC SensorThings API Part 1: Sensing, version 1.1 (OGC 18-088), 2021.
    """
    p = check_file(path)
    check_text_encoding(p, "utf-8")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = message(
            f"invalid JSON ({exc.msg}, line {exc.lineno}, column {exc.colno})",
            where=p,
            fix="check the file is a complete SensorThings JSON export",
        )
        raise InputError(msg) from None
    prov = Provenance(source=str(p))
    prov.step("read SensorThings JSON (Things, Locations, Datastreams, Observations)")
    things = _thing_list(doc, p)
    wanted = None
    if observed_property is not None:
        wanted = (
            {observed_property} if isinstance(observed_property, str) else set(observed_property)
        )
    rows: list[tuple[str, str, Any, Any]] = []
    units: dict[str, dict[str, str]] = {}
    geoms: dict[str, shapely.Geometry | None] = {}
    names: dict[str, str] = {}
    seen_props: set[str] = set()
    paged = 0
    for i, thing in enumerate(things):
        where = f"{p}: value[{i}]"
        if not isinstance(thing, Mapping):
            msg = message("a Thing is not a JSON object", where=where, fix="check the export")
            raise InputError(msg)
        tid = str(thing.get("@iot.id", thing.get("name", i)))
        names[tid] = str(thing.get("name", tid))
        geoms[tid] = _location_point(thing, where)
        for j, stream in enumerate(thing.get("Datastreams") or []):
            prop = (stream.get("ObservedProperty") or {}).get("name") or stream.get("name")
            if prop is None:
                msg = message(
                    "Datastream has no ObservedProperty",
                    where=f"{where}.Datastreams[{j}]",
                    fix="export with $expand=Datastreams($expand=ObservedProperty)",
                )
                raise InputError(msg)
            seen_props.add(prop)
            if wanted is not None and prop not in wanted:
                continue
            uom = stream.get("unitOfMeasurement") or {}
            var = variable_name(prop, uom.get("symbol") or uom.get("name"))
            units[var] = {
                "units": str(uom.get("symbol") or ""),
                "long_name": str(prop),
                "definition": str(uom.get("definition") or ""),
            }
            if "Observations@iot.nextLink" in stream:
                paged += 1
            for k, obs in enumerate(stream.get("Observations") or []):
                t = obs.get("phenomenonTime")
                if isinstance(t, str) and "/" in t:
                    t = t.split("/")[0]
                    prov.derived["time"] = "start of the phenomenonTime interval"
                rows.append((tid, var, t, obs.get("result", None)))
                if t is None:
                    msg = message(
                        "Observation has no phenomenonTime",
                        where=f"{where}.Datastreams[{j}].Observations[{k}]",
                        fix="export the phenomenonTime of every observation",
                    )
                    raise InputError(msg)
    if wanted is not None and not wanted & seen_props:
        msg = message(
            f"no datastream observes {sorted(wanted)}",
            where=p,
            fix=f"use observed_property: one of {sorted(seen_props)}",
        )
        raise SchemaError(msg)
    if not rows:
        msg = message("holds no observations", where=p, fix="expand Observations in the export")
        raise InputError(msg)
    if paged:
        prov.counts["datastreams_truncated_by_paging"] = paged
        prov.step(f"{paged} datastreams have more observations on the server (nextLink)")
    obs_df = pd.DataFrame(rows, columns=["sensor", "var", "time", "result"])
    t = pd.to_datetime(obs_df["time"], format="ISO8601", errors="coerce", utc=True)
    if t.isna().any():
        bad = obs_df.loc[t.isna()].iloc[0]
        msg = message(
            f"{int(t.isna().sum())} unparseable phenomenonTime values "
            f"(e.g. {bad['time']!r} of Thing {bad['sensor']!r}, {bad['var']})",
            where=p,
            fix="use ISO 8601 times such as 2024-05-01T12:00:00Z",
        )
        raise InputError(msg)
    obs_df["time"] = pd.DatetimeIndex(t).tz_convert(None)
    val = pd.to_numeric(obs_df["result"], errors="coerce")
    bad = val.isna() & obs_df["result"].notna()
    if bad.any():
        b = obs_df.loc[bad].iloc[0]
        msg = message(
            f"{int(bad.sum())} non-numeric results (e.g. {b['result']!r} of Thing "
            f"{b['sensor']!r}, {b['var']})",
            where=p,
            fix="keep numeric datastreams only, with observed_property:",
        )
        raise InputError(msg)
    obs_df["result"] = val.astype("float64")
    if duplicates == "error" and obs_df.duplicated(["sensor", "var", "time"]).any():
        b = obs_df.loc[obs_df.duplicated(["sensor", "var", "time"])].iloc[0]
        msg = message(
            f"Thing {b['sensor']!r} has several {b['var']} observations at {b['time']}",
            where=p,
            fix="set duplicates: mean (or first, last…) to combine them",
        )
        raise InputError(msg)
    agg = "first" if duplicates == "error" else duplicates
    wide = obs_df.pivot_table(
        index=["sensor", "time"], columns="var", values="result", aggfunc=agg, dropna=False
    )
    wide = wide.dropna(how="all").reset_index()
    wide.columns.name = None
    placed = {k: g for k, g in geoms.items() if g is not None}
    points = gpd.GeoDataFrame(
        {"name": [names[k] for k in placed]},
        geometry=list(placed.values()),
        index=pd.Index(list(placed), name="sensor"),
        crs=WGS84,
    )
    variables = sorted(units)
    series = _assemble(
        wide, variables, points, path=p, duplicates="first", unplaced=unplaced, prov=prov
    )
    for var in variables:
        series.data[var].attrs.update(units[var])
    prov.counts["observations"] = len(obs_df)
    return series, prov


@loader("sensors.sensorthings", kind="series")
def load_sensorthings(
    source: Path,
    *,
    observed_property: str | list[str] | None = None,
    duplicates: Duplicates = "error",
    unplaced: Literal["error", "drop"] = "error",
) -> Layer:
    """OGC SensorThings API JSON export (see :func:`read_sensorthings`)."""
    series, prov = read_sensorthings(
        source, observed_property=observed_property, duplicates=duplicates, unplaced=unplaced
    )
    return Layer(source.stem, "series", series, prov)
