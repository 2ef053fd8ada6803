"""Heat-wave cooling load on the electricity network, from the heat simulation of the run.

When the ``heat`` simulation runs in the same scenario, its daily maximum air temperature
(``air_temperature_max`` of its ``heat`` grid, °C) at each building sets an air-conditioning
load (ASSUMED, degree-based, per floor area):

    P_cool = share × w_per_m2_k × A_floor × max(0, T_max − T_base)   [W]

with ``A_floor`` the building's floor area [m²] (:func:`twin.model.buildings.floor_area_m2`),
``share`` the air-conditioned share of the floor area, ``w_per_m2_k`` the cooling power per
m² and per kelvin above ``T_base``. Each building's load goes to its supply node (the
nearest node within ``max_join_m``, :mod:`twin.sims.power.join`) as ``cooling_load_mw``,
which the power flow adds as a load at unity power factor.
"""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from twin.model.buildings import floor_area_m2
from twin.sims.power.join import feature_points, nearest_nodes


class CoolingRule(NamedTuple):
    """The ASSUMED cooling-load rule.

    Attributes
    ----------
    base_c : float
        Air temperature above which buildings are cooled [°C].
    w_per_m2_k : float
        Cooling power per m² of cooled floor and per kelvin above ``base_c`` [W/(m²·K)].
    share : float
        Share of the floor area that is air-conditioned [0–1].
    """

    base_c: float
    w_per_m2_k: float
    share: float


def building_tmax(grid: xr.Dataset, pts: np.ndarray) -> np.ndarray:
    """Daily maximum air temperature [°C] of the grid cell under each point (NaN outside)."""
    t = grid["air_temperature_max"]
    x, y = t["x"].to_numpy(), t["y"].to_numpy()
    dx = abs(float(x[1] - x[0])) if len(x) > 1 else np.inf
    dy = abs(float(y[1] - y[0])) if len(y) > 1 else np.inf
    ix = np.abs(x[None, :] - pts[:, :1]).argmin(axis=1)
    iy = np.abs(y[None, :] - pts[:, 1:2]).argmin(axis=1)
    inside = (np.abs(x[ix] - pts[:, 0]) <= dx / 2) & (np.abs(y[iy] - pts[:, 1]) <= dy / 2)
    vals = t.to_numpy()[iy, ix].astype(float)
    return np.where(inside, vals, np.nan)


def cooling_loads(buildings: gpd.GeoDataFrame, grid: xr.Dataset, rule: CoolingRule) -> pd.Series:
    """Cooling load of each building [MW] under the heat grid (0 where no temperature)."""
    pts = feature_points(buildings)
    tmax = building_tmax(grid, pts)
    excess = np.clip(np.nan_to_num(tmax - rule.base_c, nan=0.0), 0.0, None)
    area = floor_area_m2(buildings).to_numpy(float)
    watts = rule.share * rule.w_per_m2_k * area * excess
    return pd.Series(watts / 1e6, index=buildings.index, name="cooling_load_mw")


def node_cooling_mw(
    buildings: gpd.GeoDataFrame, grid: xr.Dataset, rule: CoolingRule, nodes_xy: np.ndarray,
    max_join_m: float,
) -> tuple[np.ndarray, int]:  # fmt: skip
    """Cooling load per network node [MW] (buildings joined to their nearest node), and the
    number of buildings with a load that no node within ``max_join_m`` takes."""
    load = cooling_loads(buildings, grid, rule).to_numpy()
    join = nearest_nodes(feature_points(buildings), nodes_xy, max_join_m)
    ok = join.node >= 0
    per_node = np.bincount(join.node[ok], weights=load[ok], minlength=len(nodes_xy))
    return per_node, int(((load > 0) & ~ok).sum())
