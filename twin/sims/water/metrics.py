"""Service metrics of a hydraulic run: per junction, per pipe, per building, and the KPIs.

Report times ``t_k = k·Δt`` (k = 0…n, ``t_n`` the end of the period); the state at ``t_k``
holds over ``[t_k, t_k + Δt)``, so durations and volumes sum the n first report times.

A junction-time is *without water* when the junction receives less than
:data:`NO_WATER_SHARE` of its expected demand (under PDD: a pressure at or just above the
minimum pressure), or, when nothing is expected then, when its pressure is at or below the
minimum pressure.
"""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.sims.water.hydraulics import Hydraulics

#: Share of the expected demand under which a junction counts as without water (ASSUMED).
NO_WATER_SHARE = 0.01


class Thresholds(NamedTuple):
    """Pressures [m] and time step [s] of the service metrics."""

    service_m: float
    minimum_m: float
    step_s: float


def longest_run(flags: np.ndarray) -> np.ndarray:
    """Longest run of consecutive True along axis 0 of a (time × element) array [steps]."""
    best = np.zeros(flags.shape[1], dtype=np.int64)
    cur = np.zeros(flags.shape[1], dtype=np.int64)
    for row in flags:
        cur = np.where(row, cur + 1, 0)
        best = np.maximum(best, cur)
    return best


def without_water(h: Hydraulics, minimum_m: float) -> np.ndarray:
    """Junction-times without water (time × junction, the n first report times)."""
    exp = h.expected.to_numpy()[:-1]
    served = h.demand.to_numpy()[:-1]
    low = h.pressure.to_numpy()[:-1] <= minimum_m
    return np.where(exp > 0, served < NO_WATER_SHARE * exp, low)


def junction_table(h: Hydraulics, t: Thresholds) -> pd.DataFrame:
    """Per junction: pressure and service over the period (units in the column names)."""
    p = h.pressure.to_numpy()[:-1]
    exp = np.clip(h.expected.to_numpy()[:-1], 0, None)
    served = np.clip(h.demand.to_numpy()[:-1], 0, None)
    hours = t.step_s / 3600.0
    none = without_water(h, t.minimum_m)
    out = pd.DataFrame(index=h.pressure.columns)
    out["min_pressure_m"] = p.min(axis=0)
    out["hours_below_service_h"] = (p < t.service_m).sum(axis=0) * hours
    out["hours_without_water_h"] = none.sum(axis=0) * hours
    out["longest_outage_h"] = longest_run(none) * hours
    out["expected_m3"] = exp.sum(axis=0) * t.step_s
    out["delivered_m3"] = np.minimum(served, exp).sum(axis=0) * t.step_s
    out["not_delivered_m3"] = np.clip(exp - served, 0, None).sum(axis=0) * t.step_s
    with np.errstate(invalid="ignore", divide="ignore"):
        out["served_fraction"] = np.where(
            out["expected_m3"] > 0, out["delivered_m3"] / out["expected_m3"], np.nan
        )
    return pd.concat([out, hourly(h, p, exp, served)], axis=1)


def hourly(h: Hydraulics, p: np.ndarray, exp: np.ndarray, served: np.ndarray) -> pd.DataFrame:
    """Pressure [m] and served share of the demand [-] of each junction at every whole hour
    (columns ``pressure_m@<h>h``, ``served_fraction@<h>h``)."""
    cols: dict[str, np.ndarray] = {}
    for k in np.flatnonzero(h.pressure.index.to_numpy()[:-1] % 3600 == 0):
        label = f"{h.pressure.index[k] / 3600:g}h"
        cols[f"pressure_m@{label}"] = p[k]
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[f"served_fraction@{label}"] = np.where(exp[k] > 0, served[k] / exp[k], np.nan)
    return pd.DataFrame(cols, index=h.pressure.columns)


def link_table(h: Hydraulics, step_s: float, event_closed: pd.Index) -> pd.DataFrame:
    """Per link: largest |flow| [m³/s], hours closed, and whether an event shut it."""
    out = pd.DataFrame(index=h.flow.columns)
    out["max_abs_flow_m3s"] = h.flow.abs().to_numpy()[:-1].max(axis=0)
    out["hours_closed_h"] = h.closed.to_numpy()[:-1].sum(axis=0) * step_s / 3600.0
    out["shut_by_event"] = out.index.isin(event_closed)
    return out


def join_buildings(
    buildings: gpd.GeoDataFrame, junctions: gpd.GeoDataFrame, max_m: float
) -> pd.DataFrame:
    """Nearest junction of ``junctions`` to each building (from its representative point)
    within ``max_m`` [m] (the junctions' CRS must be projected).

    Returns
    -------
    DataFrame
        Aligned with ``buildings``: ``junction`` (id, or None beyond ``max_m``) and
        ``distance_m``.
    """
    pts = buildings.geometry.to_crs(junctions.crs).representative_point().to_numpy()
    crs = junctions.crs
    unit = crs.axis_info[0].unit_conversion_factor if crs.is_projected else 1.0  # m per unit
    tree = shapely.STRtree(junctions.geometry.to_numpy())
    bi, ji = tree.query_nearest(pts, max_distance=max_m / unit, all_matches=False)
    out = pd.DataFrame(index=buildings.index)
    out["junction"] = pd.Series(None, index=buildings.index, dtype=object)
    out["distance_m"] = np.nan
    out.iloc[bi, 0] = junctions.index.to_numpy()[ji].astype(str)
    out.iloc[bi, 1] = shapely.distance(pts[bi], junctions.geometry.to_numpy()[ji]) * unit
    return out
