"""Retail units kept inside a twin: import field surveys, export for field teams, report.

The observatory workflow on a twin directory (what ``twin observatory`` runs):

1. ``import_surveys`` — the first time, the units layer is started from the twin's OSM shops;
   each survey CSV is matched to the units (id, address, position) and appended to the
   history; the twin is saved atomically (an interrupted import leaves the twin as it was).
   ``import_units`` merges a local inventory of units (a GIS file or CSV read by
   :func:`twin.io.retail_units.read_units`) the same way (:func:`merge_local_units`).
2. ``export_units`` — GeoPackage + ``;``-separated CSV files for field teams.
3. ``units_report`` — the vacancy time series (overall and per zone) and current rates.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from twin.errors import SchemaError, message
from twin.io.retail import read_survey
from twin.io.retail_units import read_units
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.commerce.observatory import export_for_field, vacancy_report
from twin.sims.commerce.units import (
    MATCH_KINDS,
    MergeReport,
    add_survey,
    empty_history,
    from_layers,
    merge_units,
    to_layers,
    units_from_osm,
)

UNITS_LAYER = "retail_units"
HISTORY_LAYER = "retail_history"


@dataclass
class ImportSummary:
    """What one survey import did."""

    path: Path
    rows: int
    matched: dict[str, int]
    history_records: int


def _units_of(twin: Twin, shops_layer: str, units_layer: str, history_layer: str):  # type: ignore[no-untyped-def]
    """Units, history and provenance of the twin, started from its shops if needed."""
    if units_layer in twin:
        hist = twin.layer(history_layer) if history_layer in twin else None
        units, history = from_layers(twin.layer(units_layer), hist)
        return units, history, twin.layer(units_layer).provenance
    if shops_layer not in twin:
        msg = message(
            f"the twin has neither a '{units_layer}' nor a '{shops_layer}' layer",
            where=f"layers {sorted(twin.layers)}",
            fix="give --shops-layer (a layer of shop points) or build the twin with shops",
        )
        raise SchemaError(msg)
    shops = twin.layer(shops_layer)
    prov = Provenance(
        source=shops.provenance.source,
        producer=shops.provenance.producer,
        licence=shops.provenance.licence,
        retrieved=shops.provenance.retrieved,
    )
    prov.step(f"retail units started from the '{shops_layer}' layer")
    units = units_from_osm(shops, prov=prov)
    return units, empty_history(units.crs), prov


def import_surveys(
    twin_dir: str | PathLike[str],
    surveys: Sequence[str | PathLike[str]],
    *,
    shops_layer: str = "shops",
    units_layer: str = UNITS_LAYER,
    history_layer: str = HISTORY_LAYER,
    encoding: str | None = None,
    delimiter: str | None = None,
    crs: str | None = None,
    survey_date: str | None = None,
    by: Sequence[str] = ("id", "address", "position"),
    max_distance_m: float = 15.0,
) -> list[ImportSummary]:
    """Import field-survey CSV files into the twin's retail units and save the twin.

    Parameters
    ----------
    twin_dir : path
        Twin directory (rewritten atomically once every survey has been read and merged).
    surveys : sequence of paths
        Survey CSV files (format in ``docs/survey-format.md``), imported in order.
    shops_layer : str
        Shops layer the units start from when the twin has no units layer yet.
    units_layer, history_layer : str
        Names of the units and history layers.
    encoding, delimiter, crs, survey_date
        Passed to :func:`twin.io.retail.read_survey`.
    by, max_distance_m
        Matching rules and tolerance [m] (:func:`twin.sims.commerce.units.merge_units`).

    Returns
    -------
    list of ImportSummary
        One per survey file: rows, how they matched, history size after the import.
    """
    twin = Twin.open(twin_dir)
    units, history, prov = _units_of(twin, shops_layer, units_layer, history_layer)
    done: list[ImportSummary] = []
    for path in surveys:
        survey, sprov = read_survey(
            Path(path),
            encoding=encoding,
            delimiter=delimiter,
            crs=crs,
            survey_date=survey_date,
        )
        units, history, report = add_survey(
            units, history, survey, by=by, max_distance_m=max_distance_m, prov=prov
        )
        prov.derived.update(sprov.derived)
        prov.step(f"survey {Path(path).name} imported ({len(survey)} rows): {report.counts}")
        done.append(ImportSummary(Path(path), len(survey), _counts(report), len(history)))
    ulayer, hlayer = to_layers(units, history, prov, names=(units_layer, history_layer))
    for lay in (ulayer, hlayer):
        twin.layers.pop(lay.name, None)  # replaced by the updated layer
        twin.add(lay)
    twin.save(twin_dir)
    return done


def _counts(report: MergeReport) -> dict[str, int]:
    return {k: int(v) for k, v in report.counts.items()}


def merge_local_units(
    units: gpd.GeoDataFrame,
    history: gpd.GeoDataFrame | None,
    local: gpd.GeoDataFrame,
    *,
    by: Sequence[str] = MATCH_KINDS,
    max_distance_m: float = 15.0,
    prov: Provenance | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, MergeReport]:
    """Merge a local units table into units and history, as a survey is merged.

    Local units are matched to the units by id, else normalised address, else position
    (:func:`~twin.sims.commerce.units.merge_units`): matched units keep their id, position and
    source and get their missing address, activity and floor area; unmatched ones are added
    (with their observation date as ``last_surveyed``). Each local unit with a known status
    becomes a history record dated by its observation date
    (:func:`~twin.sims.commerce.units.add_survey`, keyed by unit and date, so merging the
    same file twice changes nothing), and statuses, ``since``, activity and floor area are
    recomputed from the history, unless the unit holds a later observation (e.g. a newer OSM
    extract). A local unit of unknown status changes no status.

    Parameters
    ----------
    units : GeoDataFrame
        Units table (:data:`~twin.sims.commerce.units.UNIT_COLUMNS`).
    history : GeoDataFrame or None
        History table; None or empty to start one.
    local : GeoDataFrame
        As read by :func:`twin.io.retail_units.read_units`.
    by, max_distance_m
        Match keys and position tolerance [m], as in
        :func:`~twin.sims.commerce.units.merge_units`.
    prov : Provenance, optional
        Updated in place (steps, ``local_*`` match counts, derived rules).

    Returns
    -------
    units, history : GeoDataFrame
    report : MergeReport
        How the local units were matched (``surveyed_id`` in the history keeps their own ids).

    Raises
    ------
    SchemaError
        When units have a status but no observation date (it could not be placed in the
        history).
    """
    known = local["status"].isin(["occupied", "vacant"])
    undated = known & local["last_surveyed"].isna()
    if undated.any():
        msg = message(
            f"{int(undated.sum())} local units have a status but no observation date "
            f"(units {local.index[undated][:10].tolist()})",
            where=f"{local['source'].iloc[0]}: date",
            fix="give the inventory's date (as_of='YYYY-MM-DD') or its date column (date=)",
        )
        raise SchemaError(msg)
    if history is None or len(history) == 0:
        history = empty_history(units.crs)
    quiet = local.copy()  # an unknown status says nothing: it must not replace a known one
    quiet.loc[~known, "last_surveyed"] = pd.NaT
    merged, report = merge_units(units, quiet, by=by, max_distance_m=max_distance_m)
    new = report.matches.index[report.matches["how"] == "new"]
    merged.loc[new, "last_surveyed"] = local.loc[new, "last_surveyed"].to_numpy()
    obs = local[known]
    if len(obs):
        uid = report.matches.loc[obs.index, "unit_id"].astype(str).to_numpy()
        days = obs["last_surveyed"].dt.strftime("%Y-%m-%d").to_numpy()
        records = pd.Index([f"{u}@{d}" for u, d in zip(uid, days, strict=True)])
        survey = gpd.GeoDataFrame(  # indexed by its history record ids, as add_survey aligns
            {
                "unit_id": uid,
                "status": obs["status"].to_numpy(),
                "since": obs["since"].to_numpy(),
                "activity": obs["activity"].to_numpy(),
                "floor_area_m2": obs["floor_area_m2"].to_numpy(),
                "survey_date": obs["last_surveyed"].to_numpy(),
                "address": obs["address"].to_numpy(),
                "source": obs["source"].to_numpy(),
            },
            geometry=obs.geometry.to_numpy(),
            index=records,
            crs=local.crs,
        )
        merged, history, _ = add_survey(merged, history, survey, by=("id",))
        history.loc[records, "surveyed_id"] = obs.index.to_numpy()
    if prov is not None:
        report.record(prov, prefix="local_")
        prov.counts["local_records"] = len(obs)
        prov.step(
            f"merged {len(local)} local units ({len(obs)} with a dated status added to the "
            "history); statuses recomputed from the history"
        )
        prov.derived["since"] = (
            "the source's 'since' when given, else the first observation date of the current "
            "run of the same status"
        )
    return merged, history, report


def units_options(pairs: Sequence[str]) -> dict[str, Any]:
    """Options of :func:`~twin.io.retail_units.read_units` from ``KEY=VALUE`` texts (CLI).

    ``address=a,b`` gives a list of columns, ``status_values=fermé:vacant,1:occupied`` a dict.

    Raises
    ------
    SchemaError
        On a text without ``=`` or an unknown option (listing the accepted ones).
    """
    accepted = _read_options()
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in accepted:
            msg = message(
                f"{pair!r} is not a KEY=VALUE read option",
                where="--units-option",
                fix=f"use one of {accepted}, e.g. --units-option id=code_local",
            )
            raise SchemaError(msg)
        if key == "address":
            out[key] = [v.strip() for v in value.split(",")]
        elif key == "status_values":
            out[key] = dict(kv.split(":", 1) for kv in value.split(",") if ":" in kv)
        else:
            out[key] = value
    return out


def _read_options() -> list[str]:
    """Names of the keyword options of :func:`~twin.io.retail_units.read_units`."""
    params = inspect.signature(read_units).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY]


def import_units(
    twin_dir: str | PathLike[str],
    files: Sequence[str | PathLike[str]],
    *,
    options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    crs: str | None = None,
    shops_layer: str = "shops",
    units_layer: str = UNITS_LAYER,
    history_layer: str = HISTORY_LAYER,
    by: Sequence[str] = MATCH_KINDS,
    max_distance_m: float = 15.0,
) -> list[ImportSummary]:
    """Merge local retail-unit files into the twin's units and history, and save the twin.

    Parameters
    ----------
    twin_dir : path
        Twin directory (rewritten atomically once every file has been read and merged).
    files : sequence of paths
        GeoPackage, GeoJSON, Shapefile or CSV files of units, merged in order.
    options : mapping, optional
        Read options of :func:`twin.io.retail_units.read_units` (column names, ``as_of``,
        ``default_status``…), the same for every file; they take precedence over
        ``encoding``, ``delimiter`` and ``crs``.
    encoding, delimiter, crs : str, optional
        Text encoding, CSV delimiter and CRS of the files.
    shops_layer, units_layer, history_layer, by, max_distance_m
        As in :func:`import_surveys`.

    Returns
    -------
    list of ImportSummary
        One per file: units read, how they matched, history size after the merge.
    """
    opts = {"encoding": encoding, "delimiter": delimiter, "crs": crs} | dict(options or {})
    unknown = sorted(set(opts) - set(_read_options()))
    if unknown:
        msg = message(
            f"unknown read option(s) {unknown}",
            where="options",
            fix=f"use options of twin.io.retail_units.read_units: {_read_options()}",
        )
        raise SchemaError(msg)
    twin = Twin.open(twin_dir)
    units, history, prov = _units_of(twin, shops_layer, units_layer, history_layer)
    done: list[ImportSummary] = []
    for path in files:
        local, lprov = read_units(Path(path), **opts)
        units, history, report = merge_local_units(
            units, history, local, by=by, max_distance_m=max_distance_m, prov=prov
        )
        prov.derived.update({f"local {k}": v for k, v in lprov.derived.items()})
        prov.step(f"units file {Path(path).name} merged ({len(local)} units): {report.counts}")
        done.append(ImportSummary(Path(path), len(local), _counts(report), len(history)))
    ulayer, hlayer = to_layers(units, history, prov, names=(units_layer, history_layer))
    for lay in (ulayer, hlayer):
        twin.layers.pop(lay.name, None)  # replaced by the updated layer
        twin.add(lay)
    twin.save(twin_dir)
    return done


def export_units(
    twin_dir: str | PathLike[str],
    out_dir: str | PathLike[str],
    *,
    crs: str = "EPSG:4326",
    units_layer: str = UNITS_LAYER,
    history_layer: str = HISTORY_LAYER,
) -> list[Path]:
    """Write the twin's retail units and history for field teams (GeoPackage + CSV)."""
    twin = Twin.open(twin_dir)
    _need(twin, units_layer)
    hist = twin.layer(history_layer) if history_layer in twin else None
    units, history = from_layers(twin.layer(units_layer), hist)
    return export_for_field(units, out_dir, history=history, crs=crs)  # type: ignore[arg-type]


def units_report(
    twin_dir: str | PathLike[str],
    *,
    zones_layer: str | None = None,
    zone_column: str | None = None,
    freq: str | None = None,
    units_layer: str = UNITS_LAYER,
    history_layer: str = HISTORY_LAYER,
) -> pd.DataFrame:
    """Vacancy time series of the twin's units (overall and per zone of ``zones_layer``)."""
    twin = Twin.open(twin_dir)
    _need(twin, units_layer)
    hist = twin.layer(history_layer) if history_layer in twin else None
    units, history = from_layers(twin.layer(units_layer), hist)
    zones = None
    if zones_layer is not None:
        _need(twin, zones_layer)
        zones = twin[zones_layer]
    return vacancy_report(history, units=units, zones=zones, zone_column=zone_column, freq=freq)


def _need(twin: Twin, name: str) -> None:
    if name not in twin:
        msg = message(
            f"the twin has no '{name}' layer",
            where=f"layers {sorted(twin.layers)}",
            fix="import a survey first: twin observatory import TWIN SURVEY.csv",
        )
        raise SchemaError(msg)
