"""Retail units kept inside a twin: import field surveys, export for field teams, report.

The observatory workflow on a twin directory (what ``twin observatory`` runs):

1. ``import_surveys`` — the first time, the units layer is started from the twin's OSM shops;
   each survey CSV is matched to the units (id, address, position) and appended to the
   history; the twin is saved atomically (an interrupted import leaves the twin as it was).
2. ``export_units`` — GeoPackage + ``;``-separated CSV files for field teams.
3. ``units_report`` — the vacancy time series (overall and per zone) and current rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import pandas as pd

from twin.errors import SchemaError, message
from twin.io.retail import read_survey
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.commerce.observatory import export_for_field, vacancy_report
from twin.sims.commerce.units import (
    MergeReport,
    add_survey,
    empty_history,
    from_layers,
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
