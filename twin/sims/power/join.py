"""Which network node supplies each building, shop, street lamp or lighting cabinet.

The rule (ASSUMED: twin knows no service connections): each feature is supplied by the
**nearest network node** (straight-line distance from a point on the feature, its
representative point, to the node) when that node lies within ``max_join_m``; a farther
feature is *not joined* and counted apart, never taken as powered or not. Street lamps with
a ``cabinet`` column are supplied through their cabinet: a cabinet is placed at the centroid
of its lamps, joined as above, and its lamps share its supply.
"""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree


class Join(NamedTuple):
    """Features joined to nodes.

    Attributes
    ----------
    node : ndarray of int64
        Node position supplying each feature (-1 when not joined).
    distance_m : ndarray of float
        Distance to that node [m].
    """

    node: np.ndarray
    distance_m: np.ndarray


def nearest_nodes(points: np.ndarray, nodes_xy: np.ndarray, max_join_m: float) -> Join:
    """Join points to their nearest node within ``max_join_m``.

    Parameters
    ----------
    points : ndarray, shape (n, 2)
        Feature points [m, working CRS].
    nodes_xy : ndarray, shape (m, 2)
        Node positions [m].
    max_join_m : float
        Largest distance of a join [m].

    Returns
    -------
    Join
    """
    if not len(points):
        return Join(np.zeros(0, dtype=np.int64), np.zeros(0))
    dist, near = cKDTree(nodes_xy).query(points)
    node = np.where(dist <= max_join_m, near, -1).astype(np.int64)
    return Join(node, np.asarray(dist, dtype=float))


def feature_points(frame: gpd.GeoDataFrame) -> np.ndarray:
    """A point on each feature [m] (its representative point; the point itself for points)."""
    geoms = frame.geometry.to_numpy()
    pts = shapely.point_on_surface(geoms)
    return shapely.get_coordinates(pts)


def cabinet_points(lamps: gpd.GeoDataFrame) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Cabinets of a lamp layer at the centroid of their lamps.

    Returns
    -------
    cabinets : Index
        Cabinet names.
    xy : ndarray, shape (n_cabinets, 2)
        Their positions [m].
    lamp_cabinet : ndarray of int64
        Cabinet position of each lamp (-1 for a lamp without a cabinet).
    """
    xy = feature_points(lamps)
    cab = lamps["cabinet"].astype("string")
    has = cab.notna() & (cab.str.strip() != "")
    codes, names = pd.factorize(cab[has])
    lamp_cabinet = np.full(len(lamps), -1, dtype=np.int64)
    lamp_cabinet[has.to_numpy()] = codes
    centre = np.zeros((len(names), 2))
    if len(names):
        df = pd.DataFrame(xy[has.to_numpy()], columns=["x", "y"]).groupby(codes).mean()
        centre = df[["x", "y"]].to_numpy()
    return pd.Index(names, name="cabinet"), centre, lamp_cabinet
