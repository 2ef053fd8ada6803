"""Exports for commerce observatories and field teams.

* :func:`export_for_field` writes the units (and their history) as a GeoPackage for QGIS /
  QField and as CSV files for spreadsheets. The units CSV **is a survey sheet**: it follows
  the survey format (``docs/survey-format.md``), so a field team fills in ``status`` and
  ``survey_date`` and the file is imported back with :func:`twin.io.retail.read_survey`.
  CSV files are ``;``-separated, UTF-8 with a byte-order mark and decimal commas, which is
  what French Excel opens correctly with a double click.
* :func:`vacancy_report` gives the vacancy time series as a tidy table (overall and per
  zone), with the change since the previous date.

Every file is written atomically (temporary file, then :func:`os.replace`).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from twin.errors import SchemaError, message
from twin.sims.commerce.units import (
    check_units,
    empty_history,
    vacancy_timeseries,
    zone_of,
)
from twin.store.atomic import atomic_write
from twin.store.export import gpkg_safe

#: CRS of the exports: WGS 84 (phones, web maps, lon/lat columns) or Lambert-93 (x/y).
FieldCRS = Literal["EPSG:4326", "EPSG:2154"]


def _csv_frame(gdf: gpd.GeoDataFrame, crs: str, *, survey_sheet: bool) -> pd.DataFrame:
    g = gdf.to_crs(crs)
    df = pd.DataFrame(g.drop(columns=g.geometry.name))
    df.insert(0, df.index.name or "id", df.index.astype(str))
    lonlat = g.crs.is_geographic
    df[("lon" if lonlat else "x")] = g.geometry.x.round(7 if lonlat else 2).to_numpy()
    df[("lat" if lonlat else "y")] = g.geometry.y.round(7 if lonlat else 2).to_numpy()
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = df[c].dt.strftime("%Y-%m-%d")
    if survey_sheet:
        df = df.rename(columns={"last_surveyed": "survey_date"}).drop(columns=["vacant"])
        first = ["unit_id", "address", "status", "since", "activity", "floor_area_m2"]
        df = df[
            [*first, "survey_date", *[c for c in df.columns if c not in {*first, "survey_date"}]]
        ]
    return df.reset_index(drop=True)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` atomically as a French-Excel CSV (``;``, decimal comma, UTF-8 with BOM)."""

    def write(tmp: Path) -> None:
        df.to_csv(tmp, sep=";", index=False, encoding="utf-8-sig", decimal=",")

    atomic_write(path, write)


def export_for_field(
    units: gpd.GeoDataFrame,
    out_dir: str | PathLike[str],
    *,
    history: gpd.GeoDataFrame | None = None,
    crs: FieldCRS = "EPSG:4326",
    stem: str = "retail_units",
) -> list[Path]:
    """Write the units (and history) for field teams: a GeoPackage and CSV files.

    Parameters
    ----------
    units : GeoDataFrame
        Units table (:data:`twin.sims.commerce.units.UNIT_COLUMNS`).
    out_dir : path-like
        Folder (created if needed).
    history : GeoDataFrame, optional
        History table; written as a second GeoPackage layer and CSV.
    crs : {"EPSG:4326", "EPSG:2154"}
        CRS of the exports [default WGS 84: what phones, QField and web maps use; CSV
        positions are then ``lon``/``lat``]. Lambert-93 gives ``x``/``y`` in metres.
    stem : str
        File name stem.

    Returns
    -------
    list of Path
        ``<stem>.gpkg`` (layers ``units`` and ``history``), ``<stem>.csv`` (a survey sheet in
        the survey format, ``survey_date`` = last survey) and ``<stem>_history.csv``.
    """
    check_units(units)
    if crs not in ("EPSG:4326", "EPSG:2154"):
        msg = message(
            f"unsupported export CRS {crs!r}",
            where="export_for_field: crs",
            fix="use 'EPSG:4326' (WGS 84) or 'EPSG:2154' (Lambert-93)",
        )
        raise SchemaError(msg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hist = empty_history(units.crs) if history is None else history
    gpkg = out / f"{stem}.gpkg"
    frames = {"units": units, "history": hist}

    def write_gpkg(tmp: Path) -> None:
        for name, gdf in frames.items():
            g = gpkg_safe(gdf.to_crs(crs))
            g.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")

    atomic_write(gpkg, write_gpkg)
    files = [gpkg]
    ucsv = out / f"{stem}.csv"
    write_csv(_csv_frame(units, crs, survey_sheet=True), ucsv)
    files.append(ucsv)
    if history is not None:
        hcsv = out / f"{stem}_history.csv"
        write_csv(_csv_frame(hist, crs, survey_sheet=False), hcsv)
        files.append(hcsv)
    return files


def vacancy_report(
    history: gpd.GeoDataFrame,
    *,
    units: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_column: str | None = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """Vacancy time series as a tidy table: overall and per zone, with changes.

    Parameters
    ----------
    history : GeoDataFrame
        History table.
    units : GeoDataFrame, optional
        Units table; zones are assigned from the units' positions when given, else from the
        history records' points.
    zones : GeoDataFrame, optional
        Zone polygons (districts, town-centre perimeter).
    zone_column : str, optional
        Zone name column (the zones' index otherwise).
    freq : str, optional
        Period alias (``"Q"``, ``"Y"``…), see
        :func:`~twin.sims.commerce.units.vacancy_timeseries`.

    Returns
    -------
    DataFrame
        Columns ``date``, ``zone`` (``"all"`` for the whole territory), ``units``,
        ``occupied``, ``vacant``, ``unknown``, ``vacant_floor_area_m2`` [m²],
        ``vacancy_rate`` and ``change_pts`` (change of the rate since the zone's previous
        date [percentage points]; NaN on its first date), sorted by zone then date.
    """
    parts = [vacancy_timeseries(history, freq=freq).assign(zone="all")]
    if zones is not None:
        if units is not None:
            by = zone_of(units, zones, column=zone_column)
        else:
            z = zone_of(history, zones, column=zone_column)
            by = pd.Series(z.to_numpy(), index=history["unit_id"].to_numpy())
            by = by[~by.index.duplicated(keep="last")]
        ts = vacancy_timeseries(history, freq=freq, by=by).rename(columns={"group": "zone"})
        parts.append(ts)
    out = pd.concat(parts, ignore_index=True)
    cols = ["date", "zone", "units", "occupied", "vacant", "unknown"]
    out = out[[*cols, "vacant_floor_area_m2", "vacancy_rate"]]
    out = out.sort_values(["zone", "date"], kind="stable").reset_index(drop=True)
    out["change_pts"] = 100.0 * out.groupby("zone")["vacancy_rate"].diff()
    return out
