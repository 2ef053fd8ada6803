"""Building quantities every domain reads the same way (floor area)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

#: Storey height used to count storeys from a building height [m] (ASSUMED).
STOREY_M = 3.0

#: How :func:`floor_area_m2` counts storeys, for provenance.
FLOOR_AREA_RULE = (
    "footprint × storeys: `levels` where given, else round(height_m / "
    f"{STOREY_M:g} m) (ASSUMED storey height), else 1 storey (ASSUMED)"
)


def storeys(buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Storeys of each building: ``levels`` where positive, else ``height_m`` / 3 m rounded
    (at least 1), else 1."""
    n = np.ones(len(buildings))
    if "height_m" in buildings:
        h = pd.to_numeric(buildings["height_m"], errors="coerce").to_numpy(float)
        n = np.where(np.isfinite(h), np.maximum(1.0, np.round(h / STOREY_M)), n)
    if "levels" in buildings:
        lv = pd.to_numeric(buildings["levels"], errors="coerce").to_numpy(float)
        n = np.where(np.isfinite(lv) & (lv > 0), lv, n)
    return n


def floor_area_m2(buildings: gpd.GeoDataFrame) -> pd.Series:
    """Floor area of each building [m²] (:data:`FLOOR_AREA_RULE`), aligned to the input.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints in a projected CRS [m]; optional ``levels`` [storeys] and ``height_m`` [m].

    Returns
    -------
    Series
        ``floor_area_m2`` [m²], indexed like ``buildings``.
    """
    foot = buildings.geometry.area.to_numpy(float)
    return pd.Series(foot * storeys(buildings), index=buildings.index, name="floor_area_m2")
