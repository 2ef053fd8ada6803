"""Pedestrian footfall per street segment: gravity-weighted betweenness on the walk network.

Model (see :mod:`twin.kernels.footfall` for the kernel):

* **Origins** are buildings; their mass is an estimate of residents, from floor area
  (footprint × storeys, storeys = ``levels`` or height / 3 m) divided by
  ``m2_per_resident`` (ASSUMED 40 m² per resident) for housing; untyped buildings
  (``building=yes``) count ``mixed_housing_share`` of their floor as housing (ASSUMED). Each
  resident makes ``trips_per_resident`` walking trips a day (ASSUMED 2: one round trip).
* **Attractors** are shops (mass = floor area / 100 m², a shop of unknown size counts 1),
  amenities and transit stops (masses per feature ASSUMED, parameters).
* Each origin's trips are shared between the attractors within ``cutoff_min`` of walking in
  proportion to ``mass·exp(−β·t)``, and loaded on the shortest walking paths. A street
  segment's footfall [pedestrians/day] is the sum of both directions.
* **Calibration**: when the twin has pedestrian counters (a series layer), the mean count of
  each counter is matched to the footfall of the nearest segment and the model is scaled by
  the least-squares factor ``k = Σ m·c / Σ m²``; its R², RMSE and n are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import InputError, message
from twin.kernels.footfall import gravity_flows
from twin.model.buildings import floor_area_m2
from twin.model.layer import SensorSeries
from twin.model.network import Network
from twin.sims.building_use import RESIDENTIAL


def residents(
    buildings: gpd.GeoDataFrame, *, m2_per_resident: float = 40.0, mixed_housing_share: float = 0.5
) -> pd.Series:
    """Residents of each building estimated from its housing floor area (ASSUMED proxy).

    Parameters
    ----------
    buildings : GeoDataFrame
        Building footprints (``building``, ``levels``/``height_m`` optional).
    m2_per_resident : float
        Housing floor area per resident [m²].
    mixed_housing_share : float
        Share of the floor of untyped buildings (``building=yes`` or missing) that is housing.

    Returns
    -------
    Series
        Residents [persons], aligned with ``buildings``.
    """
    kind = (
        buildings["building"].astype(object).fillna("yes").astype(str)
        if "building" in buildings
        else pd.Series("yes", index=buildings.index)
    )
    share = np.where(kind.isin(RESIDENTIAL), 1.0, np.where(kind == "yes", mixed_housing_share, 0))
    return floor_area_m2(buildings) * share / m2_per_resident


def snap_nodes(nodes: gpd.GeoDataFrame, geoms: gpd.GeoSeries, max_distance_m: float) -> np.ndarray:
    """Position of the nearest node of each geometry (−1 when farther than ``max_distance_m``)."""
    pts = geoms.representative_point().to_numpy()
    tree = shapely.STRtree(nodes.geometry.to_numpy())
    gi, ni = tree.query_nearest(pts, max_distance=max_distance_m, all_matches=False)
    out = np.full(len(pts), -1, dtype=np.int64)
    out[gi] = ni
    return out


def walk_open(net: Network) -> np.ndarray:
    """Links a pedestrian may use: not closed, or closed to cars only (pedestrianised)."""
    links = net.links
    ok = np.ones(len(links), dtype=bool)
    if "closed" in links:
        closed = links["closed"].fillna(False).astype(bool).to_numpy()
        if "pedestrian" in links:
            closed = closed & ~links["pedestrian"].fillna(False).astype(bool).to_numpy()
        ok &= ~closed
    return ok


@dataclass
class Footfall:
    """Footfall of a run.

    Attributes
    ----------
    link_flow : ndarray
        Trips per day on each directed link (network link order).
    node_attracted : ndarray
        Trips per day ending at each node.
    trips : float
        Trips sent [trips/day].
    lost : float
        Trips of origins that reach no attractor within the cut-off.
    """

    link_flow: np.ndarray
    node_attracted: np.ndarray
    trips: float
    lost: float
    counts: dict[str, int] = field(default_factory=dict)


def footfall(
    net: Network,
    origin_nodes: np.ndarray,
    origin_trips: np.ndarray,
    attraction: np.ndarray,
    *,
    beta_per_min: float = 0.2,
    cutoff_min: float = 15.0,
    n_blocks: int = 8,
) -> Footfall:
    """Gravity-weighted trips loaded on the shortest walking paths.

    Parameters
    ----------
    net : Network
        Walk network with ``free_flow_time_s``; closed links (not pedestrianised) are skipped.
    origin_nodes : ndarray of int
        Node position of each origin (−1 = not on the network, ignored).
    origin_trips : ndarray of float
        Trips per day sent by each origin [trips/day].
    attraction : ndarray of float, shape (n_nodes,)
        Attractor mass at each node.
    beta_per_min : float
        Distance decay [1/min].
    cutoff_min : float
        Longest walk [min].
    n_blocks : int
        Parallel blocks of origins.
    """
    if "free_flow_time_s" not in net.links:
        msg = message(
            "the walk network has no 'free_flow_time_s' column",
            where="walk network links",
            fix="load it with osm.network (network_type: walk), which derives the times",
        )
        raise InputError(msg)
    csr = net.csr
    cost = net.links["free_flow_time_s"].to_numpy(float).copy()
    cost[~walk_open(net)] = np.inf
    cost = np.where(np.isnan(cost), np.inf, np.maximum(cost, 1e-6))
    pos = pd.Index(net.nodes.index)
    tails = pos.get_indexer(net.links["a_node"]).astype(np.int64)
    ok = (origin_nodes >= 0) & (origin_trips > 0)
    agg = pd.Series(origin_trips[ok]).groupby(origin_nodes[ok]).sum()
    o = agg.index.to_numpy(np.int64)
    w = agg.to_numpy(float)
    flows, att, produced = gravity_flows(
        csr.indptr,
        csr.heads,
        csr.link,
        tails,
        cost,
        o,
        w,
        np.ascontiguousarray(attraction, dtype=float),
        beta_per_min / 60.0,
        cutoff_min * 60.0,
        n_blocks,
    )
    return Footfall(
        flows,
        att,
        float(produced.sum()),
        float(w.sum() - produced.sum()),
        counts={"origin_nodes": len(o), "origins_without_attractor": int((produced == 0).sum())},
    )


def segments(net: Network) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Street segments (one per two-way pair of links) and the segment of each link.

    Two directed links are one segment when they join the same two nodes with the same
    length (to 0.1 m). The segment takes the id and geometry of its first link.
    """
    links = net.links
    a = links["a_node"].astype(str).to_numpy()
    b = links["b_node"].astype(str).to_numpy()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    ln = np.round(links.geometry.length.to_numpy(), 1)
    key = pd.Series([f"{x}|{y}|{z}" for x, y, z in zip(lo, hi, ln, strict=True)])
    codes, _ = pd.factorize(key)
    first = pd.Series(np.arange(len(links))).groupby(codes).min().to_numpy()
    seg = links.iloc[first]
    cols = [c for c in ("highway", "name", "osm_way", "length_m") if c in seg]
    out = gpd.GeoDataFrame(seg[cols].copy(), geometry=seg.geometry.to_numpy(), crs=links.crs)
    if "osm_way" in out:
        out["osm_way"] = out["osm_way"].astype(str)  # an id, not a quantity
    out.index = seg.index.astype(str)
    out.index.name = "id"
    return out, codes


def segment_flow(link_flow: np.ndarray, codes: np.ndarray, n_segments: int) -> np.ndarray:
    """Footfall of each segment: sum of its links' flows (both directions)."""
    return np.bincount(codes, weights=link_flow, minlength=n_segments)


def links_near(
    walk: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, mask: np.ndarray, buffer_m: float
) -> np.ndarray:
    """Walk links on the same OSM way as, or within ``buffer_m`` of, the masked road links."""
    hit = np.zeros(len(walk), dtype=bool)
    if not mask.any():
        return hit
    sel = roads[mask]
    if "osm_way" in walk and "osm_way" in sel:
        hit |= walk["osm_way"].isin(set(sel["osm_way"].dropna())).to_numpy()
    mid = shapely.line_interpolate_point(walk.geometry.to_numpy(), 0.5, normalized=True)
    tree = shapely.STRtree(sel.geometry.to_numpy())
    wi, _ = tree.query(mid, predicate="dwithin", distance=buffer_m)
    hit[np.unique(wi)] = True
    return hit


@dataclass
class Calibration:
    """Least-squares scaling of modelled footfall on counter means.

    ``scale`` multiplies the model; ``r2`` and ``rmse`` [counter unit] are of the scaled model.
    """

    scale: float
    r2: float
    rmse: float
    n: int
    sensors: list[str] = field(default_factory=list)


def fit_scale(model: np.ndarray, observed: np.ndarray) -> Calibration:
    """Scale factor ``k`` minimising ``Σ (c − k·m)²``: ``k = Σ m·c / Σ m²``.

    Raises
    ------
    InputError
        With fewer than 2 usable pairs, or a model of zero footfall at every counter.
    """
    m = np.asarray(model, float)
    c = np.asarray(observed, float)
    ok = np.isfinite(m) & np.isfinite(c)
    m, c = m[ok], c[ok]
    if len(m) < 2 or not (m > 0).any():
        msg = message(
            f"only {len(m)} counter(s) with a count and modelled footfall > 0",
            where="pedestrian-counter calibration",
            fix="place counters on streets of the walk network, or drop counters_layer",
        )
        raise InputError(msg)
    k = float((m * c).sum() / (m * m).sum())
    res = c - k * m
    ss_tot = float(((c - c.mean()) ** 2).sum())
    r2 = 1.0 - float((res**2).sum()) / ss_tot if ss_tot > 0 else float("nan")
    return Calibration(k, r2, float(np.sqrt((res**2).mean())), len(m))


def counter_means(series: SensorSeries, variable: str | None, where: str) -> pd.Series:
    """Mean count of each sensor over its time series (NaNs skipped)."""
    ds = series.data
    names = list(ds.data_vars)
    var = variable or (names[0] if names else None)
    if var is None or var not in ds:
        msg = message(
            f"no variable {variable!r} in the counter series",
            where=where,
            fix=f"set parameters.commerce.counts_variable to one of {names}",
        )
        raise InputError(msg)
    da = ds[var]
    other = [d for d in da.dims if d != "sensor"]
    mean = da.mean(dim=other, skipna=True) if other else da
    return pd.Series(mean.to_numpy().astype(float), index=[str(s) for s in ds["sensor"].to_numpy()])


def calibrate_on_counters(
    segs: gpd.GeoDataFrame,
    seg_flow: np.ndarray,
    series: SensorSeries,
    *,
    variable: str | None = None,
    max_distance_m: float = 30.0,
    where: str = "counters",
) -> Calibration:
    """Fit the footfall scale on the mean counts of counters snapped to their nearest segment."""
    means = counter_means(series, variable, where)
    pts = series.points.copy()
    pts.index = pts.index.astype(str)
    pts = pts.loc[pts.index.intersection(means.index)]
    if pts.crs is not None and segs.crs is not None and pts.crs != segs.crs:
        pts = pts.to_crs(segs.crs)
    tree = shapely.STRtree(segs.geometry.to_numpy())
    pi, si = tree.query_nearest(
        pts.geometry.to_numpy(), max_distance=max_distance_m, all_matches=False
    )
    cal = fit_scale(seg_flow[si], means.loc[pts.index[pi]].to_numpy())
    cal.sensors = [str(s) for s in pts.index[pi]]
    return cal
