"""Path-based assignment (``assign(..., algorithm="gp")``): warm start from a path store.

The solve itself is :func:`twin.kernels.traffic_paths.gp_solve`; this module maps a previous
result's paths onto the current links and demand.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from twin.kernels.traffic import beckmann, link_cost
from twin.kernels.traffic_paths import gp_solve
from twin.sims.traffic.assign import AssignmentResult, PathSet, _Demand, _Links

#: Warm start: re-balancing rounds over the origins whose paths were cut, before the first
#: global iteration (at most).
LOCAL_ROUNDS = 2


def _positions(nodes: pd.Index, ids: np.ndarray) -> np.ndarray:
    """Positions of node ``ids`` in ``nodes`` (-1: absent), looking each distinct id up once."""
    codes, uniques = pd.factorize(ids)
    return nodes.get_indexer(uniques)[codes]


def _reuse(
    paths: PathSet, net: _Links, dem: _Demand
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Map stored paths onto this network and demand.

    Paths over links that are now closed or absent, or of OD pairs no longer in the demand,
    are dropped. The kept paths of a pair are scaled so that the pair's old total maps onto
    its new trips; what they do not carry is pending.
    """
    n_od = len(dem.od_trips)
    n_p = len(paths)
    seg = np.repeat(np.arange(n_p), np.diff(paths.ptr))
    if paths.link_index.equals(pd.Index(net.index)):
        pos = paths.links
    else:  # map old link positions to new ones through the link ids
        pos = pd.Index(net.index).get_indexer(paths.link_index)[paths.links]
    bad_link = (pos < 0) | ~net.open[np.maximum(pos, 0)]
    path_bad = np.bincount(seg, weights=bad_link.astype(float), minlength=n_p) > 0
    nodes = pd.Index(net.node_ids)
    n_nodes = len(nodes)
    o_pos = np.repeat(dem.origins, np.diff(dem.od_ptr))
    key = o_pos * n_nodes + dem.od_dest  # OD pairs as integers
    sorter = np.argsort(key)
    po, pd_ = (_positions(nodes, ids) for ids in (paths.origin, paths.destination))
    pkey = np.where((po >= 0) & (pd_ >= 0), po * n_nodes + pd_, -1)
    at = np.minimum(np.searchsorted(key, pkey, sorter=sorter), len(key) - 1)
    j = np.where(key[sorter[at]] == pkey, sorter[at], -1)
    known = j >= 0
    old_total = np.bincount(j[known], weights=paths.flow[known], minlength=n_od)
    keep = known & ~path_bad & (paths.flow > 0)
    factor = np.divide(dem.od_trips, old_total, out=np.zeros(n_od), where=old_total > 0)
    flow = paths.flow[keep] * factor[j[keep]]
    kept_idx = np.flatnonzero(keep)
    lens = np.diff(paths.ptr)[kept_idx]
    ptr = np.zeros(len(kept_idx) + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    take = np.repeat(paths.ptr[kept_idx] - ptr[:-1], lens) + np.arange(ptr[-1])
    links = pos[take].astype(np.int64)
    carried = np.bincount(j[keep], weights=flow, minlength=n_od)
    pending = np.maximum(dem.od_trips - carried, 0.0)
    pending[pending < 1e-12 * np.maximum(dem.od_trips, 1.0)] = 0.0
    return j[keep].astype(np.int64), ptr, links, flow, pending


def assign_gp(
    net: _Links,
    od: pd.DataFrame,
    dem: _Demand,
    initial: pd.Series | AssignmentResult | None,
    rgap: float,
    max_iter: int,
    inner: int,
    start: float,
) -> AssignmentResult:
    """Gradient projection, cold or warm from ``initial.paths`` (see :func:`assign`)."""
    notes: list[str] = []
    warm = False
    empty_i = np.zeros(0, dtype=np.int64)
    in_od, in_ptr, in_links, in_flow = empty_i, np.zeros(1, np.int64), empty_i, np.zeros(0)
    pending = dem.od_trips.copy()
    if isinstance(initial, AssignmentResult) and initial.paths is not None:
        in_od, in_ptr, in_links, in_flow, pending = _reuse(initial.paths, net, dem)
        warm = len(in_flow) > 0
        if not warm:
            notes.append("no path of initial could be reused: cold start")
    elif initial is not None:
        notes.append(
            "gp warm-starts from the paths of a previous gp result (initial=result), not "
            "from link flows: cold start"
        )
    gaps = np.full(max_iter + 1, np.nan)
    x, od_cost, it, gap, sptt, p_od, p_ptr, p_links, p_flow = gp_solve(
        net.indptr,
        net.csr_heads,
        net.csr_link,
        net.tails,
        net.a,
        net.b,
        net.p,
        net.barred,
        dem.origins,
        dem.od_ptr,
        dem.od_dest,
        dem.od_trips,
        in_od,
        in_ptr,
        in_links,
        in_flow,
        pending,
        float(rgap),
        int(max_iter),
        int(inner),
        gaps,
        LOCAL_ROUNDS,
    )
    connected = np.empty(len(od), dtype=bool)
    connected[dem.order] = np.isfinite(od_cost)
    disconnected = od[~connected].reset_index(drop=True)
    o_pos = np.repeat(dem.origins, np.diff(dem.od_ptr))
    store = PathSet(
        origin=net.node_ids[o_pos[p_od]],
        destination=net.node_ids[dem.od_dest[p_od]],
        ptr=p_ptr,
        links=p_links,
        flow=p_flow,
        link_index=pd.Index(net.index),
    )
    t = link_cost(x, net.a, net.b, net.p)
    return AssignmentResult(
        flow=pd.Series(x, index=net.index, name="flow"),
        cost=pd.Series(t, index=net.index, name="cost"),
        rgap=float(gap),
        iterations=int(it),
        tstt=float(t @ x),
        objective=float(beckmann(x, net.a, net.b, net.p)),
        sptt=float(sptt),
        converged=bool(gap <= rgap),
        gap_history=gaps[: it + 1],
        disconnected=disconnected,
        warm_started=warm,
        rerouted_closed=0,
        seconds=time.perf_counter() - start,
        algorithm="gp",
        notes=notes,
        paths=store,
        warm_reused_paths=len(in_flow),
    )
