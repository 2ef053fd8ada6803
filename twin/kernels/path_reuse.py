"""Warm start of path-based assignment: carry a previous solve's paths over to a new one.

Each stored path ``i`` (links ``links[ptr[i]:ptr[i + 1]]``, flow ``flow[i]`` [veh/h]) belongs
to OD pair ``pair[i]`` of the new demand (-1: the pair is gone). A path is kept when its pair
is still there, it carries flow and every link is still in the network (position ≥ 0) and
open. The kept paths of a pair are scaled so that the pair's old total (of all its paths,
kept or not) maps onto its new trips; what they do not carry is *pending*, to be loaded on
the current shortest paths.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def reuse_paths(
    ptr: np.ndarray,
    links: np.ndarray,
    flow: np.ndarray,
    pair: np.ndarray,
    live: np.ndarray,
    od_trips: np.ndarray,
) -> tuple:
    """Kept paths, scaled, and the pending trips of each pair.

    Parameters
    ----------
    ptr, links, flow : ndarray
        Stored paths: offsets, link positions in the new network (-1: gone), flows [veh/h].
    pair : ndarray of int64
        OD pair of each path in the new demand (-1: gone).
    live : ndarray of bool
        Whether each link of the new network is open.
    od_trips : ndarray
        Trips of each pair of the new demand [veh/h].

    Returns
    -------
    tuple
        ``od, ptr, links, flow`` of the kept paths (compact form) and ``pending`` [veh/h]
        per pair.
    """
    n_p = flow.shape[0]
    n_od = od_trips.shape[0]
    old_total = np.zeros(n_od)
    keep = np.zeros(n_p, dtype=np.bool_)
    n_keep = 0
    n_links = 0
    for i in range(n_p):
        j = pair[i]
        if j < 0:
            continue
        old_total[j] += flow[i]
        if flow[i] <= 0.0:
            continue
        ok = True
        for s in range(ptr[i], ptr[i + 1]):
            e = links[s]
            if e < 0 or not live[e]:
                ok = False
                break
        if ok:
            keep[i] = True
            n_keep += 1
            n_links += ptr[i + 1] - ptr[i]
    out_od = np.empty(n_keep, dtype=np.int64)
    out_ptr = np.zeros(n_keep + 1, dtype=np.int64)
    out_links = np.empty(n_links, dtype=np.int64)
    out_flow = np.empty(n_keep)
    carried = np.zeros(n_od)
    c = 0
    w = 0
    for i in range(n_p):
        if not keep[i]:
            continue
        j = pair[i]
        f = flow[i] * (od_trips[j] / old_total[j])
        out_od[c] = j
        out_flow[c] = f
        carried[j] += f
        for s in range(ptr[i], ptr[i + 1]):
            out_links[w] = links[s]
            w += 1
        c += 1
        out_ptr[c] = w
    pending = np.empty(n_od)
    for j in range(n_od):
        rest = od_trips[j] - carried[j]
        pending[j] = rest if rest > 1e-12 * max(od_trips[j], 1.0) else 0.0
    return out_od, out_ptr, out_links, out_flow, pending


def reuse_paths_ref(
    ptr: np.ndarray,
    links: np.ndarray,
    flow: np.ndarray,
    pair: np.ndarray,
    live: np.ndarray,
    od_trips: np.ndarray,
) -> tuple:
    """Reference of :func:`reuse_paths` in vectorised numpy."""
    n_p, n_od = len(flow), len(od_trips)
    seg = np.repeat(np.arange(n_p), np.diff(ptr))
    bad_link = (links < 0) | ~live[np.maximum(links, 0)]
    path_bad = np.bincount(seg, weights=bad_link.astype(float), minlength=n_p) > 0
    known = pair >= 0
    old_total = np.bincount(pair[known], weights=flow[known], minlength=n_od)
    keep = known & ~path_bad & (flow > 0)
    factor = np.divide(od_trips, old_total, out=np.zeros(n_od), where=old_total > 0)
    out_flow = flow[keep] * factor[pair[keep]]
    kept = np.flatnonzero(keep)
    lens = np.diff(ptr)[kept]
    out_ptr = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(lens, out=out_ptr[1:])
    take = np.repeat(ptr[kept] - out_ptr[:-1], lens) + np.arange(out_ptr[-1])
    carried = np.bincount(pair[keep], weights=out_flow, minlength=n_od)
    pending = np.maximum(od_trips - carried, 0.0)
    pending[pending < 1e-12 * np.maximum(od_trips, 1.0)] = 0.0
    return pair[keep].astype(np.int64), out_ptr, links[take].astype(np.int64), out_flow, pending
