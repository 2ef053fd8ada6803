"""The path store of path-based assignment: one linked list of paths per OD pair.

Path ``q`` starts at ``ps[q]`` in the link buffer ``pl`` and has ``pn[q]`` links (link
positions, from the destination back to the origin), carries ``pf[q]`` [veh/h]; the paths of
pair ``j`` are ``head[j]``, ``nxt[head[j]]``, … until -1. Arrays may have spare capacity
beyond the ``n_paths`` paths and ``n_links`` links in use.

:func:`reuse_paths` carries a previous solve's store over to a new network and demand (warm
start) and :func:`compact_paths` lists a store path by path ("compact" form: pair, offsets,
links, flows). Each has a pure-numpy reference, used as its test oracle.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def reuse_paths(
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    pair_map: np.ndarray,
    link_map: np.ndarray,
    live: np.ndarray,
    od_trips: np.ndarray,
    spare_links: int,
) -> tuple:
    """A new store holding the previous paths that still serve, scaled to the new demand.

    A path is kept when its pair is still in the demand (``pair_map[j] ≥ 0``), it carries
    flow and every link is still in the network (``link_map[e] ≥ 0``) and open. The kept
    paths of a pair are scaled so that the pair's old total (of all its paths, kept or not)
    maps onto its new trips; what they do not carry is *pending*, to be loaded on the
    current shortest paths.

    Parameters
    ----------
    head, nxt, ps, pn, pf, pl : ndarray
        Previous store (read only).
    pair_map : ndarray of int64
        New pair of each previous pair (-1: gone).
    link_map : ndarray of int64
        New position of each previous link position (-1: gone); empty when positions are
        unchanged.
    live : ndarray of bool
        Whether each new link is open.
    od_trips : ndarray
        Trips of each new pair [veh/h].
    spare_links : int
        Extra capacity of the new link buffer (for paths added later).

    Returns
    -------
    tuple
        New store ``head, nxt, ps, pn, pf, pl, n_paths, n_links`` (room for twice the kept
        paths), ``pending`` [veh/h] per new pair and ``x``, the link flows of the kept paths
        [veh/h] by new link position (summed in the same pass: a warm start needs them and
        the store is large).
    """
    n_old = head.shape[0]
    n_od = od_trips.shape[0]
    same = link_map.shape[0] == 0
    n_listed = 0
    n_ll = 0
    for j in range(n_old):
        if pair_map[j] < 0:
            continue
        q = head[j]
        while q >= 0:
            n_listed += 1
            n_ll += pn[q]
            q = nxt[q]
    cap = max(16, 2 * n_listed + n_od)
    h2 = np.full(n_od, -1, dtype=np.int64)
    nxt2 = np.empty(cap, dtype=np.int64)
    ps2 = np.empty(cap, dtype=np.int64)
    pn2 = np.empty(cap, dtype=np.int64)
    pf2 = np.empty(cap)
    pl2 = np.empty(max(64, n_ll + spare_links), dtype=np.int64)
    pending = od_trips.copy()  # pairs not in the previous demand: everything pending
    x = np.zeros(live.shape[0])
    c = 0
    w = 0
    for j in range(n_old):  # pair by pair: the scale, then each path copied or undone
        jn = pair_map[j]
        if jn < 0:
            continue
        old_total = 0.0
        q = head[j]
        while q >= 0:
            old_total += pf[q]
            q = nxt[q]
        factor = od_trips[jn] / old_total if old_total > 0.0 else 0.0
        carried = 0.0
        q = head[j]
        while q >= 0:
            f = pf[q] * factor
            if f > 0.0:
                start = w
                ok = True
                for i in range(ps[q], ps[q] + pn[q]):
                    e = pl[i] if same else link_map[pl[i]]
                    if e < 0 or not live[e]:
                        ok = False
                        break
                    pl2[w] = e
                    w += 1
                if ok:
                    for i in range(start, w):
                        x[pl2[i]] += f
                    ps2[c] = start
                    pn2[c] = pn[q]
                    pf2[c] = f
                    nxt2[c] = h2[jn]
                    h2[jn] = c
                    c += 1
                    carried += f
                else:
                    w = start
            q = nxt[q]
        rest = od_trips[jn] - carried
        pending[jn] = rest if rest > 1e-12 * max(od_trips[jn], 1.0) else 0.0
    return h2, nxt2, ps2, pn2, pf2, pl2, c, w, pending, x


@njit(cache=True)
def compact_paths(
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
) -> tuple:
    """The store path by path, pairs in order: ``od`` (pair of each path), ``ptr``
    (offsets), ``links``, ``flow`` [veh/h]."""
    n_od = head.shape[0]
    count = 0
    total = 0
    for j in range(n_od):
        q = head[j]
        while q >= 0:
            count += 1
            total += pn[q]
            q = nxt[q]
    p_od = np.empty(count, dtype=np.int64)
    p_ptr = np.zeros(count + 1, dtype=np.int64)
    p_links = np.empty(total, dtype=np.int64)
    p_flow = np.empty(count)
    c = 0
    w = 0
    for j in range(n_od):
        q = head[j]
        while q >= 0:
            p_od[c] = j
            p_flow[c] = pf[q]
            for i in range(ps[q], ps[q] + pn[q]):
                p_links[w] = pl[i]
                w += 1
            c += 1
            p_ptr[c] = w
            q = nxt[q]
    return p_od, p_ptr, p_links, p_flow


def compact_paths_ref(
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
) -> tuple:
    """Reference of :func:`compact_paths` in plain Python."""
    rows = []
    for j in range(len(head)):
        q = int(head[j])
        while q >= 0:
            rows.append((j, pl[ps[q] : ps[q] + pn[q]].tolist(), float(pf[q])))
            q = int(nxt[q])
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r[1]) for r in rows], out=ptr[1:])
    links = np.array([e for r in rows for e in r[1]], dtype=np.int64)
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        ptr,
        links,
        np.array([r[2] for r in rows]),
    )


def reuse_paths_ref(
    p_od: np.ndarray,
    ptr: np.ndarray,
    links: np.ndarray,
    flow: np.ndarray,
    pair_map: np.ndarray,
    link_map: np.ndarray,
    live: np.ndarray,
    od_trips: np.ndarray,
) -> tuple:
    """Reference of :func:`reuse_paths` in vectorised numpy, on a compact store; returns the
    kept paths in compact form (``od, ptr, links, flow``, in input order), ``pending`` and the
    link flows ``x`` over ``len(live)`` links."""
    n_p, n_od = len(flow), len(od_trips)
    pair = pair_map[p_od]
    links = link_map[links] if len(link_map) else links
    seg = np.repeat(np.arange(n_p), np.diff(ptr))
    bad_link = (links < 0) | ~live[np.maximum(links, 0)]
    path_bad = np.bincount(seg, weights=bad_link.astype(float), minlength=n_p) > 0
    known = pair >= 0
    old_total = np.bincount(pair[known], weights=flow[known], minlength=n_od)
    factor = np.divide(od_trips, old_total, out=np.zeros(n_od), where=old_total > 0)
    keep = known & ~path_bad & (flow * factor[np.maximum(pair, 0)] > 0)
    out_flow = flow[keep] * factor[pair[keep]]
    kept = np.flatnonzero(keep)
    lens = np.diff(ptr)[kept]
    out_ptr = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(lens, out=out_ptr[1:])
    take = np.repeat(ptr[kept] - out_ptr[:-1], lens) + np.arange(out_ptr[-1])
    carried = np.bincount(pair[keep], weights=out_flow, minlength=n_od)
    pending = np.maximum(od_trips - carried, 0.0)
    pending[pending < 1e-12 * np.maximum(od_trips, 1.0)] = 0.0
    out_links = links[take].astype(np.int64)
    x = np.bincount(out_links, weights=np.repeat(out_flow, lens), minlength=len(live))
    return pair[keep].astype(np.int64), out_ptr, out_links, out_flow, pending, x
