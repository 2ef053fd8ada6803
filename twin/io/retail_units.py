"""Local inventories of retail units: GeoPackage, GeoJSON, Shapefile (also zipped) or CSV.

A local authority or a commerce observatory often already holds its retail units ("locaux
commerciaux") as a GIS file: points or unit polygons with an id, an address, a status, an
activity and a floor area, from its own inventory, the cadastre or a local business register.
:func:`read_units` turns such a file into a retail-units table (the columns of
:data:`twin.sims.commerce.units.UNIT_COLUMNS`), ready to be merged into a twin's units
(:func:`twin.sims.commerce.twin_units.import_units`).

Columns are named by options, or found by the field-survey header synonyms, French and English
(:data:`twin.io.retail.COLUMN_ALIASES`: ``statut``, ``adresse``, ``surface``, ``activite``…).
Statuses and dates are read as in surveys (:func:`twin.io.retail.parse_status`,
:func:`twin.io.retail.parse_date`). Every problem found in the rows is reported at once, in
one :class:`~twin.errors.InputError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import CRSError, InputError, SchemaError, message
from twin.io._common import (
    check_file,
    drop_personal_columns,
    ensure_crs,
    read_frame,
    repair_geometries,
    unique_index,
)
from twin.io.registry import loader
from twin.io.retail import (
    COLUMN_ALIASES,
    MAX_LISTED,
    STATUS_VALUES,
    _decode,
    _delimiter,
    _numbers,
    _table,
    is_personal_column,
    normalise_name,
    normalise_value,
    parse_date,
    parse_status,
    premises_columns,
)
from twin.io.vector import clean_header
from twin.model.crs import WGS84, parse_crs
from twin.model.layer import Layer
from twin.model.provenance import Provenance

#: Columns of a retail-units table (besides the geometry), in order: what this loader writes
#: and what the commerce simulation reads (:mod:`twin.sims.commerce.units`).
UNIT_COLUMNS = (
    "status",
    "vacant",
    "activity",
    "floor_area_m2",
    "since",
    "last_surveyed",
    "address",
    "source",
)
#: Column options of :func:`read_units` → canonical name in :data:`COLUMN_ALIASES`.
COLUMN_OPTIONS = {
    "id": "unit_id",
    "address": "address",
    "status": "status",
    "activity": "activity",
    "floor_area": "floor_area_m2",
    "since": "since",
    "date": "survey_date",
}
Status = Literal["occupied", "vacant", "unknown"]
_CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_FIXES = {
    "id": "give every unit a non-empty, unique id (or leave id unset to number the units)",
    "status": "use an accepted status (case and accents ignored): {accepted}; leave the cell "
    "empty to apply default_status, or map other spellings with status_values, e.g. "
    "{{'fermé': 'vacant'}}",
    "geometry": "give every unit a point or a polygon (or remove the feature)",
    "coordinates": "fill in numeric coordinates (or remove the row)",
    "date": "write dates as YYYY-MM-DD or DD/MM/YYYY (or give date_format)",
    "floor_area": "give floor areas as non-negative numbers [m²]",
}


def accepted_statuses() -> str:
    """The accepted status spellings, grouped by canonical status (for messages and docs)."""
    groups: dict[str, list[str]] = {}
    for spelling, canon in STATUS_VALUES.items():
        groups.setdefault(canon, []).append(spelling)
    return "; ".join(f"{c}: {', '.join(v)}" for c, v in groups.items())


class _Rows:
    """Row-level problems, reported all at once (CSV lines, or features of a GIS file)."""

    def __init__(self, path: Path, csv: bool) -> None:
        self.path = path
        self.unit, self.first = ("line", 2) if csv else ("feature", 1)
        self.items: list[tuple[int, str, str, str]] = []

    def add(self, mask: object, field: str, kind: str, what: str | pd.Series) -> None:
        """Record ``what`` (text, or a Series of texts by position) for the rows in ``mask``."""
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            w = what if isinstance(what, str) else str(what.iloc[i])
            self.items.append((int(i) + self.first, field, kind, w))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        items = sorted(self.items)
        rows = sorted({r for r, *_ in items})
        lines = [f"{self.path}: {self.unit} {r}: {f}: {w}" for r, f, _, w in items[:MAX_LISTED]]
        if len(items) > MAX_LISTED:
            lines.append(f"… and {len(items) - MAX_LISTED} more")
        note = " (line 1 is the header)" if self.first == 2 else " (features numbered from 1)"
        what = (
            f"{len(items)} problem(s) on {len(rows)} {self.unit}(s) {rows[:50]}"
            f"{'…' if len(rows) > 50 else ''}{note}:\n  " + "\n  ".join(lines)
        )
        kinds = dict.fromkeys(k for *_, k, _ in items)
        fix = "; ".join(_FIXES[k].format(accepted=accepted_statuses()) for k in kinds)
        msg = message(what, where=self.path, fix=fix)
        raise InputError(msg)


# -- reading -------------------------------------------------------------------------------------
def _read_csv(
    path: Path, encoding: str | None, delimiter: str | None, prov: Provenance
) -> pd.DataFrame:
    text = _decode(path, encoding, prov)
    df = _table(text, _delimiter(text, delimiter, path), path)
    df.columns = [clean_header(str(c)) for c in df.columns]
    return df


def _blank_to_na(df: pd.DataFrame) -> pd.DataFrame:
    """Strip text cells; empty ones become missing (GeoJSON exports often write ``""``)."""
    df = df.copy()
    for c in df.columns:
        if c != "geometry" and pd.api.types.is_string_dtype(df[c]):
            s = df[c].str.strip()
            df[c] = s.mask(s == "")
    return df


def _drop_personal(df: pd.DataFrame, prov: Provenance) -> tuple[pd.DataFrame, list[str]]:
    before = [c for c in df.columns if c != "geometry"]
    keep = premises_columns(df.columns)
    df = drop_personal_columns(df, prov, keep)
    flagged = [c for c in df.columns if c != "geometry" and c not in keep and is_personal_column(c)]
    if flagged:
        prov.step(f"dropped possibly personal columns {flagged}")
        df = df.drop(columns=flagged)
    gone = [c for c in before if c not in df.columns]
    if gone:
        prov.counts["dropped_personal_columns"] = len(gone)
    return df, gone


def _columns(
    df: pd.DataFrame,
    path: Path,
    given: Mapping[str, str | Sequence[str] | None],
    personal: list[str],
) -> dict[str, list[str]]:
    """Source column(s) of each option: the given ones (checked), else found by synonyms."""
    have = [c for c in df.columns if c != "geometry"]
    out: dict[str, list[str]] = {}
    for opt, value in given.items():
        if value is not None:
            cols = [value] if isinstance(value, str) else list(value)
            missing = [c for c in cols if c not in have]
            if missing or not cols:
                gone = [c for c in missing if c in personal]
                note = f" ({gone} may hold personal data and are never read)" if gone else ""
                msg = message(
                    f"column(s) {missing or cols} given as {opt}= not found{note}; "
                    f"the file has {have}",
                    where=f"{path}: {opt}",
                    fix=f"set {opt} to one of the file's columns",
                )
                raise SchemaError(msg)
            out[opt] = cols
            continue
        aliases = COLUMN_ALIASES[COLUMN_OPTIONS[opt]]
        found = [c for c in have if normalise_name(c) in aliases]
        if len(found) > 1:
            msg = message(
                f"columns {found} could all be the {opt} column",
                where=f"{path}: {opt}",
                fix=f"name the one to use, e.g. {opt}={found[0]!r}",
            )
            raise SchemaError(msg)
        if found:
            out[opt] = found
    return out


def _text(s: pd.Series) -> pd.Series:
    """Values as stripped text (integral floats without ``.0``), missing or empty as None."""
    if pd.api.types.is_float_dtype(s) and bool((s.dropna() % 1 == 0).all()):
        s = s.astype("Int64")
    t = s.astype("string").str.strip()
    t = t.mask(t == "")
    return t.astype(object).where(t.notna(), None)


def _dates(s: pd.Series, field: str, date_format: str | None, rows: _Rows) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        d = pd.to_datetime(s)
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        return d.dt.normalize().astype("datetime64[ns]")
    text = _text(s)
    cache = {v: parse_date(v, date_format) for v in text.dropna().unique()}
    parsed = text.map(lambda v: cache.get(v) if v is not None else None)
    bad = text.notna() & parsed.isna()
    rows.add(bad, field, "date", text.map(lambda v: f"unparseable date {v!r}"))
    return pd.to_datetime(parsed.where(parsed.notna(), None)).astype("datetime64[ns]")


def _csv_geometry(
    df: pd.DataFrame,
    path: Path,
    x: str | None,
    y: str | None,
    wkt: str | None,
    crs: str | int | None,
    rows: _Rows,
    prov: Provenance,
) -> gpd.GeoSeries:
    have = list(df.columns)
    lonlat = False
    if wkt is None and x is None and y is None:
        find = {
            k: [c for c in have if normalise_name(c) in COLUMN_ALIASES[k]] for k in COLUMN_ALIASES
        }
        if find["lon"] and find["lat"]:
            x, y, lonlat = find["lon"][0], find["lat"][0], True
        elif find["x"] and find["y"]:
            x, y = find["x"][0], find["y"][0]
        elif find["wkt"]:
            wkt = find["wkt"][0]
    elif wkt is None:
        lonlat = normalise_name(str(x)) in COLUMN_ALIASES["lon"]
    named = [c for c in (x, y, wkt) if c is not None]
    if (wkt is None and (x is None or y is None)) or any(c not in have for c in named):
        msg = message(
            f"no usable position columns (x={x!r}, y={y!r}, wkt={wkt!r}); the file has {have}",
            where=f"{path}: x/y",
            fix="give x and y (coordinate columns) or wkt (a WKT geometry column)",
        )
        raise SchemaError(msg)
    if crs is None and not lonlat:
        msg = message(
            f"a CSV file carries no coordinate reference system for its positions {named}",
            where=f"{path}: crs",
            fix="pass crs=, e.g. crs='EPSG:2154' (Lambert-93) or crs='EPSG:4326' (lon/lat)",
        )
        raise CRSError(msg)
    target = parse_crs(crs if crs is not None else WGS84, where=f"{path}: crs")
    if wkt is not None:
        text = df[wkt]
        geoms = shapely.from_wkt(text.fillna("").to_numpy(), on_invalid="ignore")
        bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        rows.add(bad & text.isna().to_numpy(), wkt, "geometry", "missing geometry")
        rows.add(bad & text.notna().to_numpy(), wkt, "geometry", "unparseable WKT")
        prov.step(f"positions from the WKT column {wkt!r}")
        return gpd.GeoSeries(np.where(bad, None, geoms), index=df.index, crs=target)
    xs, ys = _numbers(df[x]), _numbers(df[y])
    bad = (xs.isna() | ys.isna() | ~np.isfinite(xs) | ~np.isfinite(ys)).to_numpy()
    rows.add(bad, f"{x}/{y}", "coordinates", "missing or non-numeric coordinates")
    prov.step(f"positions from the columns {x!r}/{y!r} ({target.to_string()})")
    pts = gpd.points_from_xy(xs.fillna(0), ys.fillna(0))
    return gpd.GeoSeries(np.where(bad, None, pts), index=df.index, crs=target)


def _status(
    df: pd.DataFrame,
    col: str | None,
    default_status: str,
    status_values: Mapping[str, str] | None,
    rows: _Rows,
    prov: Provenance,
) -> pd.Series:
    default = parse_status(default_status)
    extra = {normalise_value(k): parse_status(v) for k, v in (status_values or {}).items()}
    bad_options = [default_status] if default is None else []
    bad_options += [
        v for k, v in (status_values or {}).items() if extra[normalise_value(k)] is None
    ]
    if bad_options:
        msg = message(
            f"{bad_options} are not statuses",
            where="default_status/status_values",
            fix="use occupied, vacant or unknown",
        )
        raise SchemaError(msg)
    if col is None:
        prov.derived["status"] = f"no status column: every unit {default!r} (default_status)"
        return pd.Series(default, index=df.index, dtype=object)
    raw = _text(df[col])
    parsed = raw.map(
        lambda v: None if v is None else extra.get(normalise_value(v)) or parse_status(v)
    )
    bad = raw.notna() & parsed.isna()
    rows.add(bad, col, "status", raw.map(lambda v: f"unknown status {v!r}"))
    empty = raw.isna()
    if empty.any():
        prov.derived["status"] = (
            f"{int(empty.sum())} empty statuses set to {default!r} (default_status)"
        )
    return parsed.where(~empty, default).astype(object)


def read_units(
    path: str | Path,
    *,
    layer: str | None = None,
    id: str | None = None,
    address: str | Sequence[str] | None = None,
    status: str | None = None,
    activity: str | None = None,
    floor_area: str | None = None,
    since: str | None = None,
    date: str | None = None,
    x: str | None = None,
    y: str | None = None,
    wkt: str | None = None,
    crs: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    as_of: str | dt.date | None = None,
    default_status: Status = "unknown",
    status_values: Mapping[str, str] | None = None,
    date_format: str | None = None,
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read a local file of retail units (points or polygons) as a retail-units table.

    Parameters
    ----------
    path : str or Path
        GeoPackage, GeoJSON, Shapefile (``.shp`` or zipped ``.zip``), or CSV with coordinate
        or WKT columns.
    layer : str, optional
        Layer inside a GeoPackage [default: the first].
    id, status, activity, floor_area, since, date : str, optional
        Source columns of the unit id, the status, the activity (shop type, NAF code…), the
        floor area [m²], the date the status began and the observation date. By default the
        one column whose name is a survey synonym (``identifiant``, ``statut``,
        ``activite``, ``surface``, ``depuis``, ``date_releve``… see
        ``docs/survey-format.md``) is used; without one the field is left empty. Units are
        numbered ``"<file stem>/<row>"`` when there is no id column.
    address : str or sequence of str, optional
        Address column, or columns joined with spaces (e.g.
        ``["addr:housenumber", "addr:street"]``).
    x, y, wkt : str, optional
        CSV only: coordinate columns, or a WKT geometry column [default: found by name —
        ``lon``/``lat``, ``x``/``y``, ``wkt``…].
    crs : str or int, optional
        CRS of a CSV's positions (required, except for columns named longitude/latitude,
        which are WGS 84), or of a GIS file that declares none.
    encoding : str, optional
        Text encoding [CSV: UTF-8, else Windows-1252; GIS files: their declaration].
    delimiter : str, optional
        CSV delimiter [guessed among ``; , tab |``].
    as_of : str or datetime.date, optional
        Observation date of units without one (the inventory's date), e.g. ``"2024-06-30"``.
    default_status : {"occupied", "vacant", "unknown"}
        Status of units with an empty status cell, or of all units without a status column
        (e.g. ``"occupied"`` for a register of active businesses).
    status_values : dict, optional
        Extra status spellings, e.g. ``{"fermé": "vacant", "1": "occupied"}``.
    date_format : str, optional
        :func:`~datetime.datetime.strptime` format of the text dates [default: ISO 8601,
        ``dd/mm/yyyy`` and the other survey formats].

    Returns
    -------
    units : GeoDataFrame
        Indexed by unique string ``unit_id``, with exactly the columns :data:`UNIT_COLUMNS`:
        ``status`` (``'occupied'``, ``'vacant'``, ``'unknown'``), ``vacant`` (bool),
        ``activity``, ``floor_area_m2`` [m²] (the polygon's area when the file has no area
        column), ``since``, ``last_surveyed`` (observation date), ``address``, ``source``
        (``"local:<file name>"``), and point geometries (a representative point of each
        polygon) in the file's CRS.
    provenance : Provenance
        Steps, derived fields (status defaults, polygon areas, ids, dates) and counts.

    Raises
    ------
    SchemaError
        An option names a column the file lacks (listing the columns), several columns could
        be the same field, or a CSV has no position columns.
    CRSError
        A CSV (or a GIS file) without a CRS and no ``crs`` option.
    InputError
        Listing every bad row (line of a CSV, feature of a GIS file) with the field and the
        value: unknown statuses (with the accepted ones), missing or duplicated ids, missing
        or empty geometries or coordinates, lines, unparseable dates, negative or non-numeric
        areas.
    """
    p = check_file(path)
    prov = Provenance(source=str(p))
    csv = p.suffix.lower() in _CSV_SUFFIXES
    if csv:
        df = _blank_to_na(_read_csv(p, encoding, delimiter, prov))
    else:
        if any(v is not None for v in (x, y, wkt)):
            msg = message(
                "x, y and wkt apply to CSV files; this file has its own geometry",
                where=f"{p}: x/y/wkt",
                fix="remove the x, y and wkt options",
            )
            raise SchemaError(msg)
        df = _blank_to_na(read_frame(p, layer=layer, encoding=encoding))
        prov.step(f"read {p.suffix.lstrip('.').lower()} with GDAL, layer {layer or 'first'}")
    df, personal = _drop_personal(df, prov)
    given = {"id": id, "address": address, "status": status, "activity": activity}
    given |= {"floor_area": floor_area, "since": since, "date": date}
    cols = _columns(df, p, given, personal)
    col = {k: v[0] for k, v in cols.items()}
    prov.step(f"columns used {cols}")
    rows = _Rows(p, csv)
    if csv:
        geom = _csv_geometry(df, p, x, y, wkt, crs, rows, prov)
    else:
        geom = _gis_geometry(df, rows)
    ids = _ids(df[col["id"]], col["id"], rows) if "id" in col else None
    st = _status(df, col.get("status"), default_status, status_values, rows, prov)
    area = _area(df[col["floor_area"]], col["floor_area"], rows) if "floor_area" in col else None
    since_d, seen = _observed(df, col, as_of, date_format, rows, prov)
    rows.raise_if_any()
    gdf = gpd.GeoDataFrame(
        {
            "_id": ids,
            "status": st.to_numpy(object),
            "vacant": (st == "vacant").to_numpy(bool),
            "activity": _text(df[col["activity"]]) if "activity" in col else None,
            "floor_area_m2": np.nan if area is None else area.to_numpy(),
            "since": since_d.to_numpy(),
            "last_surveyed": seen.to_numpy(),
            "address": _address(df, cols.get("address")),
            "source": f"local:{p.name}",
        },
        geometry=geom,
    )
    gdf = repair_geometries(ensure_crs(gdf, p, crs), p, prov)
    gdf = _points(gdf, area is None, prov)
    if ids is None:
        prov.derived["unit_id"] = f"no id column: units numbered '{p.stem}/<row>' in file order"
    gdf = unique_index(gdf, p, None if ids is None else "_id", prefix=f"{p.stem}/")
    out = gdf[[*UNIT_COLUMNS, gdf.geometry.name]].rename_axis("unit_id")
    for c in ("status", "activity", "address", "source"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    out["floor_area_m2"] = out["floor_area_m2"].astype("float64")
    prov.counts.update(
        units=len(out),
        occupied=int((out["status"] == "occupied").sum()),
        vacant=int(out["vacant"].sum()),
        unknown=int((out["status"] == "unknown").sum()),
    )
    prov.step(f"{len(out)} retail units ({prov.counts['vacant']} vacant)")
    return out, prov


def _gis_geometry(df: gpd.GeoDataFrame, rows: _Rows) -> gpd.GeoSeries:
    geom = df.geometry
    null = (geom.isna() | geom.is_empty).to_numpy()
    rows.add(null, "geometry", "geometry", "missing or empty geometry")
    kind = geom.geom_type.astype(object).to_numpy()
    other = ~null & ~np.isin(kind, ["Point", "Polygon", "MultiPolygon"])
    what = pd.Series([f"a {k}: a unit must be a point or a polygon" for k in kind])
    rows.add(other, "geometry", "geometry", what)
    return geom


def _ids(s: pd.Series, field: str, rows: _Rows) -> pd.Series:
    ids = _text(s)
    rows.add(ids.isna(), field, "id", "missing unit id")
    dup = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    at: dict[str, list[int]] = {}
    for i in np.flatnonzero(dup):
        at.setdefault(ids.iloc[i], []).append(int(i) + rows.first)
    rows.add(dup, field, "id", ids.map(lambda v: f"duplicated id {v!r} ({rows.unit}s {at.get(v)})"))
    return ids


def _area(s: pd.Series, field: str, rows: _Rows) -> pd.Series:
    area = (s if pd.api.types.is_numeric_dtype(s) else _numbers(s)).astype("float64")
    rows.add(
        s.notna() & area.isna(), field, "floor_area", s.map(lambda v: f"non-numeric area {v!r}")
    )
    rows.add(area < 0, field, "floor_area", area.map(lambda v: f"negative area {v}"))
    return area


def _observed(
    df: pd.DataFrame,
    col: dict[str, str],
    as_of: str | dt.date | None,
    date_format: str | None,
    rows: _Rows,
    prov: Provenance,
) -> tuple[pd.Series, pd.Series]:
    """Dates the statuses began (``since``) and observation dates (``date``, else ``as_of``)."""
    nat = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    since = _dates(df[col["since"]], col["since"], date_format, rows) if "since" in col else nat
    seen = _dates(df[col["date"]], col["date"], date_format, rows) if "date" in col else nat
    if as_of is not None:
        default = parse_date(str(as_of), None if isinstance(as_of, dt.date) else date_format)
        if default is None:
            msg = message(
                f"as_of {as_of!r} is not a date", where="as_of", fix="give it as YYYY-MM-DD"
            )
            raise SchemaError(msg)
        n = int(seen.isna().sum())
        if n:
            prov.derived["last_surveyed"] = f"{default.date()} (as_of) for {n} units without a date"
        seen = seen.fillna(default)
    later = since.notna() & seen.notna() & (since > seen)
    if "since" in col:
        rows.add(later, col["since"], "date", "the status began after the observation date")
    return since, seen


def _points(gdf: gpd.GeoDataFrame, area_from_polygons: bool, prov: Provenance) -> gpd.GeoDataFrame:
    """Polygons to a point on them; their area as the floor area when the file has none."""
    poly = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not poly.any():
        return gdf
    gdf = gdf.copy()
    if area_from_polygons:
        utm = gdf.estimate_utm_crs()
        gdf.loc[poly, "floor_area_m2"] = gdf.geometry[poly].to_crs(utm).area.to_numpy()
        prov.derived["floor_area_m2"] = (
            f"area of the unit's polygon (the file has no area column), in {utm.name} [m²]"
        )
    pts = gdf.geometry.to_numpy().copy()
    pts[poly] = shapely.point_on_surface(pts[poly])
    prov.derived["geometry"] = "polygons reduced to a point on their surface"
    prov.counts["polygons"] = int(poly.sum())
    return gdf.set_geometry(gpd.GeoSeries(pts, index=gdf.index, crs=gdf.crs))


def _address(df: pd.DataFrame, cols: list[str] | None) -> pd.Series:
    """The address column, or several columns joined with spaces (empty parts skipped)."""
    if not cols:
        return pd.Series(None, index=df.index, dtype=object)
    joined = pd.Series("", index=df.index, dtype="string")
    for c in cols:
        joined = joined + " " + _text(df[c]).astype("string").fillna("")
    joined = joined.str.replace(r"\s+", " ", regex=True).str.strip()
    return joined.astype(object).where(joined != "", None)


@loader("retail.units", kind="vector")
def load_units(
    source: Path,
    *,
    layer: str | None = None,
    id: str | None = None,
    address: str | list[str] | None = None,
    status: str | None = None,
    activity: str | None = None,
    floor_area: str | None = None,
    since: str | None = None,
    date: str | None = None,
    x: str | None = None,
    y: str | None = None,
    wkt: str | None = None,
    crs: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    as_of: str | dt.date | None = None,
    default_status: Status = "unknown",
    status_values: dict[str, str] | None = None,
    date_format: str | None = None,
) -> Layer:
    """Local retail units (GIS file or CSV): status, activity, area (see :func:`read_units`)."""
    gdf, prov = read_units(
        source,
        layer=layer,
        id=id,
        address=address,
        status=status,
        activity=activity,
        floor_area=floor_area,
        since=since,
        date=date,
        x=x,
        y=y,
        wkt=wkt,
        crs=crs,
        encoding=encoding,
        delimiter=delimiter,
        as_of=as_of,
        default_status=default_status,
        status_values=status_values,
        date_format=date_format,
    )
    return Layer("retail_units", "vector", gdf, prov)
