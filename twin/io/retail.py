"""Field surveys of retail units (commerce observatories), from CSV files.

A survey file has one row per unit visited: a unit id, its address, its status (occupied or
vacant), the date the status began, the activity, the floor area, the survey date and a
position. Column names are matched case- and accent-insensitively against English names and
French aliases (``statut``, ``adresse``, ``surface``, ``date_releve``…); the full format is
in ``docs/survey-format.md`` and :data:`COLUMN_ALIASES` / :data:`STATUS_VALUES`.

Every problem found in the rows is reported at once, as ``file:line:field: what`` lines in
one :class:`~twin.errors.InputError` (line 1 is the header), so a field team can correct the
whole file in one pass.

Personal data are refused: columns that may name or reach a person (owner, tenant, manager,
phone, e-mail, SIRET of a sole trader, free-text comments) are dropped (recorded in the
provenance) or, with ``personal="error"``, rejected.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import InputError, SchemaError, message
from twin.io._common import (
    check_file,
    check_plausible_coordinates,
    check_text_encoding,
    drop_personal_columns,
    parse_csv,
)
from twin.io.personal import DBF_NAME_LENGTH, normalise_name, personal_columns
from twin.io.registry import loader
from twin.model.crs import WGS84, parse_crs
from twin.model.layer import Layer
from twin.model.provenance import Provenance

#: Canonical column → accepted header spellings (compared after :func:`normalise_name`).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "unit_id": (
        "unit_id",
        "id",
        "unit",
        "id_unit",
        "id_local",
        "local",
        "identifiant",
        "id_cellule",
        "cellule",
        "code_local",
        "ref",
        "reference",
    ),
    "address": ("address", "adresse", "adresse_postale", "addr"),
    "status": ("status", "statut", "etat", "occupation", "situation"),
    "since": (
        "since",
        "status_since",
        "depuis",
        "date_statut",
        "date_debut",
        "debut",
        "date_changement",
    ),
    "activity": (
        "activity",
        "activite",
        "naf",
        "code_naf",
        "ape",
        "code_ape",
        "shop",
        "type",
        "type_commerce",
        "secteur",
        "nature",
    ),
    "floor_area_m2": (
        "floor_area_m2",
        "floor_area",
        "area_m2",
        "surface",
        "surface_m2",
        "surface_vente",
        "surface_vente_m2",
        "surface_totale",
    ),
    "survey_date": (
        "survey_date",
        "date",
        "date_releve",
        "date_enquete",
        "date_visite",
        "date_passage",
    ),
    "name": ("name", "enseigne", "nom_enseigne", "nom_commerce"),
    "x": ("x", "coord_x", "x_l93", "xl93", "easting"),
    "y": ("y", "coord_y", "y_l93", "yl93", "northing"),
    "lon": ("lon", "lng", "long", "longitude"),
    "lat": ("lat", "latitude"),
    "wkt": ("wkt", "geometry", "geometrie", "geom", "the_geom"),
}

#: Status spellings (compared after :func:`normalise_value`) → canonical status.
STATUS_VALUES: dict[str, str] = {
    **dict.fromkeys(
        [
            "occupied",
            "occupe",
            "occupee",
            "o",
            "actif",
            "active",
            "en activite",
            "ouvert",
            "open",
            "exploite",
            "in use",
        ],
        "occupied",
    ),
    **dict.fromkeys(
        [
            "vacant",
            "vacante",
            "vide",
            "v",
            "inoccupe",
            "inoccupee",
            "libre",
            "disponible",
            "a louer",
            "a vendre",
            "a ceder",
            "empty",
        ],
        "vacant",
    ),
    **dict.fromkeys(
        ["unknown", "inconnu", "inconnue", "nc", "n c", "nr", "non renseigne", "indetermine"],
        "unknown",
    ),
}

#: Headers (after :func:`normalise_name`) of a field survey refused as personal data beyond
#: :data:`twin.io.personal.PERSONAL_NAMES`: a name alone (a survey's ``nom`` is the tenant's),
#: sole-trader ids and free-text comments (which often hold names).
SURVEY_PERSONAL_NAMES = frozenset(
    {
        "nom",
        "siret",
        "siren",
        "comment",
        "comments",
        "commentaire",
        "commentaires",
        "remarque",
        "remarques",
        "observation",
        "observations",
        "note",
        "notes",
    }
)


def premises_columns(columns: Iterable[object]) -> list[str]:
    """Columns holding the address of the premises (:data:`COLUMN_ALIASES`): a shop's
    address is not personal data, and the loaders keep it as ``address``."""
    return [str(c) for c in columns if normalise_name(str(c)) in COLUMN_ALIASES["address"]]


def is_personal_column(name: str) -> bool:
    """Whether a survey header names personal data: a column of
    :func:`twin.io.personal.personal_columns`, or one of :data:`SURVEY_PERSONAL_NAMES` (also
    when cut to the 10 characters of a shapefile field: ``"PROPRIETAI"``, ``"commentair"``)."""
    key = normalise_name(name)
    if personal_columns([name]) or key in SURVEY_PERSONAL_NAMES:
        return True
    return len(key) == DBF_NAME_LENGTH and any(w.startswith(key) for w in SURVEY_PERSONAL_NAMES)


_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%m/%Y", "%Y-%m", "%Y")
_DELIMITERS = (";", ",", "\t", "|")
MAX_LISTED = 500


def normalise_value(text: str) -> str:
    """Value to a bare ASCII phrase: ``"Occupé "`` → ``"occupe"``, ``"À louer"`` → ``"a louer"``."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z?]+", " ", s.lower()).strip()


def parse_status(value: object) -> str | None:
    """Canonical status (``'occupied'``, ``'vacant'`` or ``'unknown'``) or None if unknown."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    v = normalise_value(str(value))
    if v == "?":
        return "unknown"
    return STATUS_VALUES.get(v)


def parse_date(text: str, date_format: str | None = None) -> pd.Timestamp | None:
    """Parse one date: ISO 8601, ``dd/mm/yyyy``, ``dd/mm/yy``, ``mm/yyyy``, ``yyyy-mm``, ``yyyy``.

    Returns None when it does not parse. Times of day are dropped (dates only).
    """
    s = str(text).strip()
    formats: Iterable[str] = (date_format,) if date_format else _DATE_FORMATS
    if not date_format:
        try:
            t = pd.Timestamp(dt.date.fromisoformat(s[:10])) if len(s) >= 10 else None
            if t is not None and (len(s) == 10 or s[10] in "T "):
                return t
        except ValueError:
            pass
    for fmt in formats:
        try:
            return pd.Timestamp(dt.datetime.strptime(s, fmt).date())
        except ValueError:
            continue
    return None


# -- reading the text ---------------------------------------------------------------------------
def _decode(path: Path, encoding: str | None, prov: Provenance) -> str:
    raw = path.read_bytes()
    if encoding is None:
        try:
            text = raw.decode("utf-8-sig")
            used = "utf-8"
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
            used = "cp1252"
            prov.derived["encoding"] = "not UTF-8, read as Windows-1252 (French Excel default)"
    else:
        check_text_encoding(path, encoding)
        text = raw.decode(encoding)
        text = text.removeprefix("\ufeff")
        used = encoding
    prov.step(f"read CSV as {used}")
    return text


def _delimiter(text: str, delimiter: str | None, path: Path) -> str:
    if delimiter is not None:
        return delimiter
    header = text.splitlines()[0] if text.strip() else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        msg = message(
            "cannot find the column delimiter in the header line",
            where=f"{path}:1",
            fix="separate columns with ';' (or ',') and keep a header line, "
            "or give delimiter: explicitly",
        )
        raise InputError(msg)
    return best


def _table(text: str, sep: str, path: Path) -> pd.DataFrame:
    import io

    df = parse_csv(io.StringIO(text), path, sep=sep)
    df = df.apply(lambda s: s.str.strip())
    return df.replace({"": np.nan})


def _map_columns(
    df: pd.DataFrame, path: Path, personal: str, prov: Provenance
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop personal columns, then rename recognised ones to canonical names."""
    before = list(df.columns)
    keep = premises_columns(df.columns)
    df = drop_personal_columns(df, prov, keep)
    flagged = [c for c in df.columns if c != "geometry" and c not in keep and is_personal_column(c)]
    gone = [c for c in before if c not in df.columns] + flagged
    if gone and personal == "error":
        msg = message(
            f"columns {gone} may hold personal data (names of people, contacts, comments)",
            where=f"{path}:1",
            fix="remove those columns before importing (an observatory needs none of them)",
        )
        raise InputError(msg)
    if flagged:
        prov.step(f"dropped possibly personal columns {flagged}")
        df = df.drop(columns=flagged)
    if gone:
        prov.personal_data = False
        prov.counts["dropped_personal_columns"] = len(gone)
    lookup = {a: canon for canon, aliases in COLUMN_ALIASES.items() for a in aliases}
    rename: dict[str, str] = {}
    for c in df.columns:
        canon = lookup.get(normalise_name(c))
        if canon is None:
            continue
        if canon in rename.values():
            other = next(k for k, v in rename.items() if v == canon)
            msg = message(
                f"columns {other!r} and {c!r} both mean {canon!r}",
                where=f"{path}:1",
                fix="keep only one of them (see docs/survey-format.md)",
            )
            raise SchemaError(msg)
        rename[c] = canon
    return df.rename(columns=rename), rename


class _Problems:
    """Row-level problems, reported all at once."""

    def __init__(self, path: Path, headers: dict[str, str]) -> None:
        self.path = path
        self.headers = headers  # canonical name -> the file's own header
        self.items: list[tuple[int, str, str]] = []

    def _label(self, field: str) -> str:
        parts = field.split("/")
        own = "/".join(self.headers.get(f, f) for f in parts)
        return field if own == field else f"{own} ({field})"

    def add(self, mask: pd.Series, field: str, what: pd.Series | str) -> None:
        idx = np.flatnonzero(pd.Series(mask).fillna(False).astype(bool).to_numpy())
        for i in idx:
            w = what if isinstance(what, str) else str(what.iloc[i])
            self.items.append((int(i) + 2, field, w))

    def raise_if_any(self, fix: str) -> None:
        if not self.items:
            return
        items = sorted(self.items)
        rows = sorted({r for r, _, _ in items})
        lines = [f"{self.path}:{r}:{self._label(f)}: {w}" for r, f, w in items[:MAX_LISTED]]
        if len(items) > MAX_LISTED:
            lines.append(f"… and {len(items) - MAX_LISTED} more")
        what = (
            f"{len(items)} problem(s) on {len(rows)} row(s) {rows[:50]}"
            f"{'…' if len(rows) > 50 else ''} (line 1 is the header):\n  " + "\n  ".join(lines)
        )
        msg = message(what, where=self.path, fix=fix)
        raise InputError(msg)


def _numbers(s: pd.Series) -> pd.Series:
    return pd.to_numeric(
        s.astype("string").str.replace(" ", "", regex=False).str.replace(",", ".", regex=False),
        errors="coerce",
    )


def _geometry(
    df: pd.DataFrame, path: Path, crs: str | int | None, prob: _Problems, prov: Provenance
) -> tuple[gpd.GeoSeries, object]:
    cols = set(df.columns)
    if {"lon", "lat"} <= cols:
        xs, ys = _numbers(df["lon"]), _numbers(df["lat"])
        bad = xs.isna() | ys.isna() | ~np.isfinite(xs) | ~np.isfinite(ys)
        prob.add(bad, "lon/lat", "missing or non-numeric coordinates")
        out = ~bad & ((xs.abs() > 180) | (ys.abs() > 90))
        prob.add(out, "lon/lat", "longitude/latitude out of range (±180/±90)")
        target = WGS84 if crs is None else parse_crs(crs, where=f"{path}: crs")
        prov.step("positions from lon/lat columns")
        geom = gpd.GeoSeries(gpd.points_from_xy(xs.fillna(0), ys.fillna(0)), index=df.index)
        return geom.where(~bad, None), target
    if {"x", "y"} <= cols:
        xs, ys = _numbers(df["x"]), _numbers(df["y"])
        bad = xs.isna() | ys.isna() | ~np.isfinite(xs) | ~np.isfinite(ys)
        prob.add(bad, "x/y", "missing or non-numeric coordinates")
        if crs is None:
            crs = "EPSG:2154"
            prov.derived["crs"] = "x/y assumed in Lambert-93 (EPSG:2154): no crs option given"
        prov.step("positions from x/y columns")
        geom = gpd.GeoSeries(gpd.points_from_xy(xs.fillna(0), ys.fillna(0)), index=df.index)
        return geom.where(~bad, None), parse_crs(crs, where=f"{path}: crs")
    if "wkt" in cols:
        text = df["wkt"]
        geoms = shapely.from_wkt(text.fillna("").to_numpy(), on_invalid="ignore")
        bad = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=df.index)
        prob.add(bad & text.isna(), "wkt", "missing geometry")
        prob.add(bad & text.notna(), "wkt", "unparseable WKT")
        geoms = np.where(bad.to_numpy(), None, shapely.point_on_surface(np.where(bad, None, geoms)))
        if crs is None:
            crs = "EPSG:2154"
            prov.derived["crs"] = "WKT assumed in Lambert-93 (EPSG:2154): no crs option given"
        prov.step("positions from WKT (lines and polygons reduced to a point on them)")
        return gpd.GeoSeries(geoms, index=df.index), parse_crs(crs, where=f"{path}: crs")
    msg = message(
        f"no position columns; the file has {list(df.columns)}",
        where=f"{path}:1",
        fix="add lon and lat (WGS 84), or x and y (Lambert-93, or give crs:), or a wkt column",
    )
    raise SchemaError(msg)


def _dates(
    df: pd.DataFrame, col: str, date_format: str | None, prob: _Problems, *, required: bool
) -> pd.Series:
    if col not in df.columns:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    text = df[col]
    cache = {v: parse_date(v, date_format) for v in text.dropna().unique()}
    parsed = text.map(lambda v: cache.get(v) if isinstance(v, str) else None)
    bad = text.notna() & parsed.isna()
    prob.add(
        bad,
        col,
        text.map(
            lambda v: (
                f"unparseable date {v!r} (use YYYY-MM-DD or DD/MM/YYYY)"
                if isinstance(v, str)
                else ""
            )
        ),
    )
    if required:
        prob.add(text.isna(), col, "missing date")
    return pd.to_datetime(parsed.where(parsed.notna(), None)).astype("datetime64[ns]")


def read_survey(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    crs: str | int | None = None,
    survey_date: str | dt.date | None = None,
    date_format: str | None = None,
    personal: Literal["drop", "error"] = "drop",
    source: str | None = None,
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read a field-survey CSV of retail units.

    Parameters
    ----------
    path : str or Path
        The CSV file (format in ``docs/survey-format.md``).
    encoding : str, optional
        Text encoding. By default UTF-8 (with or without BOM), else Windows-1252 (the French
        Excel default), recorded in the provenance.
    delimiter : str, optional
        Column delimiter; by default the most frequent of ``; , tab |`` in the header line.
    crs : str or int, optional
        CRS of ``x``/``y`` or ``wkt`` positions [default EPSG:2154, Lambert-93]; ``lon``/``lat``
        are WGS 84 unless given.
    survey_date : str or datetime.date, optional
        Survey date of rows whose ``survey_date`` is empty (or of the whole file when it has
        no such column), e.g. ``"2024-03-15"``.
    date_format : str, optional
        :func:`~datetime.datetime.strptime` format of all dates; by default ISO 8601,
        ``dd/mm/yyyy``, ``dd/mm/yy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``mm/yyyy``, ``yyyy-mm``
        and ``yyyy`` are accepted.
    personal : {"drop", "error"}
        What to do with columns that may hold personal data: drop them (recorded in the
        provenance) or refuse the file.
    source : str, optional
        Label stored in the ``source`` column [default ``"survey:<file name>"``].

    Returns
    -------
    survey : GeoDataFrame
        One row per (unit, survey date), indexed ``"<unit_id>@<YYYY-MM-DD>"``, with columns
        ``unit_id``, ``address``, ``status`` (``'occupied'``, ``'vacant'``, ``'unknown'``),
        ``vacant`` (bool), ``since``, ``activity``, ``floor_area_m2`` [m²], ``survey_date``,
        ``name``, ``source``, any other non-personal columns, and point geometries in the
        file's CRS.
    provenance : Provenance

    Raises
    ------
    InputError
        Listing every offending row as ``file:line:field: what``: unknown or missing status,
        a unit id repeated within one survey date, missing or invalid coordinates,
        unparseable dates, negative or non-numeric floor areas, missing unit ids.
    SchemaError
        When a required column (unit id, status, position) is absent.
    """
    p = check_file(path)
    prov = Provenance(source=str(p), producer="field survey")
    text = _decode(p, encoding, prov)
    sep = _delimiter(text, delimiter, p)
    df = _table(text, sep, p)
    df, renamed = _map_columns(df, p, personal, prov)
    if renamed:
        prov.step(f"columns recognised {renamed}")
    need = ["unit_id", "status"] + ([] if survey_date else ["survey_date"])
    missing = [c for c in need if c not in df.columns]
    if missing:
        aliases = {c: list(COLUMN_ALIASES[c][:4]) for c in missing}
        msg = message(
            f"required column(s) {missing} not found; the file has {list(df.columns)}",
            where=f"{p}:1",
            fix=f"name them as in docs/survey-format.md, e.g. {aliases}"
            + ("" if "survey_date" not in missing else ", or give survey_date: for the file"),
        )
        raise SchemaError(msg)
    prob = _Problems(p, {v: k for k, v in renamed.items()})
    # ids
    prob.add(df["unit_id"].isna(), "unit_id", "missing unit id")
    # status
    status = df["status"].map(parse_status)
    prob.add(df["status"].isna(), "status", "missing status")
    prob.add(
        df["status"].notna() & status.isna(),
        "status",
        df["status"].map(
            lambda v: f"unknown status {v!r} (use occupied/occupé, vacant/vide or unknown/inconnu)"
        ),
    )
    # dates
    if "survey_date" not in df.columns:
        df["survey_date"] = pd.Series(None, index=df.index, dtype=object)
    if survey_date is not None:
        # a manifest's unquoted YAML date arrives as a datetime.date
        default = parse_date(
            str(survey_date), None if isinstance(survey_date, dt.date) else date_format
        )
        if default is None:
            msg = message(
                f"survey_date {survey_date!r} is not a date",
                where=f"{p}: survey_date",
                fix="give it as YYYY-MM-DD",
            )
            raise SchemaError(msg)
        prov.derived["survey_date"] = f"{default.date()} for rows without one (option)"
        df["survey_date"] = df["survey_date"].astype(object).fillna(default.date().isoformat())
    sdate = _dates(df, "survey_date", date_format, prob, required=True)
    since = _dates(df, "since", date_format, prob, required=False)
    later = since.notna() & sdate.notna() & (since > sdate)
    prob.add(later, "since", "status start date is after the survey date")
    # area
    if "floor_area_m2" in df.columns:
        area = _numbers(df["floor_area_m2"])
        prob.add(df["floor_area_m2"].notna() & area.isna(), "floor_area_m2", "non-numeric area")
        prob.add(area < 0, "floor_area_m2", "negative floor area")
    else:
        area = pd.Series(np.nan, index=df.index)
    # positions
    geom, gcrs = _geometry(df, p, crs, prob, prov)
    # duplicates within one survey date
    key = df["unit_id"].astype("string") + "@" + sdate.dt.strftime("%Y-%m-%d").astype("string")
    dup = key.notna() & key.duplicated(keep=False)
    prob.add(
        dup,
        "unit_id",
        df["unit_id"].astype(str).map(lambda v: f"unit id {v!r} appears twice on one survey date"),
    )
    prob.raise_if_any(
        "correct the listed rows (accepted columns and values: docs/survey-format.md) "
        "and import the file again"
    )
    keep = [
        c
        for c in df.columns
        if c
        not in {
            "unit_id",
            "status",
            "since",
            "floor_area_m2",
            "survey_date",
            "x",
            "y",
            "lon",
            "lat",
            "wkt",
        }
    ]
    out = pd.DataFrame(
        {
            "unit_id": df["unit_id"].astype(str).to_numpy(),
            "address": df["address"].to_numpy() if "address" in df else None,
            "status": status.to_numpy(),
            "vacant": (status == "vacant").to_numpy(),
            "since": since.to_numpy(),
            "activity": df["activity"].to_numpy() if "activity" in df else None,
            "floor_area_m2": area.astype("float64").to_numpy(),
            "survey_date": sdate.to_numpy(),
            "name": df["name"].to_numpy() if "name" in df else None,
            "source": source or f"survey:{p.name}",
        }
    )
    for c in keep:
        if c not in out.columns:
            out[c] = df[c].to_numpy()
    for c in ("address", "activity", "name"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom.to_numpy()), crs=gcrs)
    gdf.index = pd.Index(key.to_numpy(), name="id").astype(str)
    check_plausible_coordinates(gdf, p)
    prov.counts.update(
        rows=len(gdf),
        vacant=int(gdf["vacant"].sum()),
        occupied=int((gdf["status"] == "occupied").sum()),
        unknown=int((gdf["status"] == "unknown").sum()),
        survey_dates=int(gdf["survey_date"].nunique()),
    )
    prov.step(f"{len(gdf)} survey records on {prov.counts['survey_dates']} date(s)")
    return gdf, prov


@loader("retail.survey", kind="vector")
def load_survey(
    source: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    crs: str | int | None = None,
    survey_date: str | dt.date | None = None,
    date_format: str | None = None,
    personal: Literal["drop", "error"] = "drop",
) -> Layer:
    """Field survey of retail units: status, activity, area (see :func:`read_survey`)."""
    gdf, prov = read_survey(
        source,
        encoding=encoding,
        delimiter=delimiter,
        crs=crs,
        survey_date=survey_date,
        date_format=date_format,
        personal=personal,
    )
    return Layer("survey", "vector", gdf, prov)
