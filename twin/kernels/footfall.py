"""Footfall kernel: gravity-weighted trips from origins to attractors loaded on shortest paths.

From every origin node ``o`` (mass ``w_o``, e.g. residents) a Dijkstra search bounded by
``cutoff`` finds the walking time ``t_od`` to every attractor node ``d`` (mass ``A_d``, e.g.
shops, amenities, transit stops). The origin's trips are shared between the attractors it
reaches in time, in proportion to ``A_d·exp(−β·t_od)`` (an origin-constrained gravity model,
the spatial-interaction form of Huff's model):

    T_od = w_o · A_d·exp(−β·t_od) / Σ_d' A_d'·exp(−β·t_od')      (t_od ≤ cutoff, d ≠ o)

Each ``T_od`` walks the shortest path from ``o`` to ``d``; the flow of a link is the sum of
the trips whose path uses it. The kernel loads all destinations of one origin at once by
back-propagating node loads along the shortest-path tree in reverse settling order (as in
an all-or-nothing assignment). The result is a gravity-weighted betweenness centrality
(Sevtsuk & Mekonnen 2012, "Urban network analysis", *Revue internationale de géomatique*
22(2), 287–305).

The network is in CSR form over node positions (``indptr``, ``heads``, ``clink`` = link
position of each CSR entry, ``tails`` = tail node of each link position). Links of infinite
``cost`` are closed. Times are in any unit consistent with ``cutoff`` and ``beta``.

Each kernel has a pure-numpy reference (``*_ref``) used as its test oracle.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from twin.kernels.heap import heap_pop as _pop
from twin.kernels.heap import heap_push as _push


@njit(cache=True)
def bounded_tree(
    indptr: np.ndarray,
    heads: np.ndarray,
    clink: np.ndarray,
    cost: np.ndarray,
    origin: int,
    cutoff: float,
    dist: np.ndarray,
    pred: np.ndarray,
    order: np.ndarray,
    done: np.ndarray,
    hk: np.ndarray,
    hv: np.ndarray,
) -> int:
    """Shortest-path tree from ``origin`` limited to nodes within ``cutoff`` (Dijkstra).

    ``dist`` must be all ``inf``, ``pred`` all −1 and ``done`` all False on entry; only the
    settled nodes (``order[:k]``, ``k`` returned) are written, so a caller resets just them.
    ``pred`` holds the link position reaching each settled node (−1 at the origin).
    """
    dist[origin] = 0.0
    size = _push(hk, hv, 0, 0.0, origin)
    settled = 0
    while size > 0:
        d = hk[0]
        u = hv[0]
        size = _pop(hk, hv, size)
        if done[u]:
            continue
        done[u] = True
        order[settled] = u
        settled += 1
        for e in range(indptr[u], indptr[u + 1]):
            c = cost[clink[e]]
            if not c < np.inf:
                continue
            w = heads[e]
            nd = d + c
            if nd <= cutoff and nd < dist[w]:
                dist[w] = nd
                pred[w] = clink[e]
                size = _push(hk, hv, size, nd, w)
    return settled


@njit(cache=True, parallel=True)
def gravity_flows(
    indptr: np.ndarray,
    heads: np.ndarray,
    clink: np.ndarray,
    tails: np.ndarray,
    cost: np.ndarray,
    origins: np.ndarray,
    origin_mass: np.ndarray,
    attraction: np.ndarray,
    beta: float,
    cutoff: float,
    n_blocks: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Link flows of gravity-distributed trips on bounded shortest paths.

    Parameters
    ----------
    indptr, heads, clink : ndarray of int64
        CSR adjacency over node positions (see the module docstring).
    tails : ndarray of int64, shape (n_links,)
        Tail node position of each link.
    cost : ndarray of float64, shape (n_links,)
        Link times [s]; ``inf`` = closed.
    origins : ndarray of int64, shape (n_o,)
        Origin node positions (repeats allowed).
    origin_mass : ndarray of float64, shape (n_o,)
        Trips produced by each origin [trips].
    attraction : ndarray of float64, shape (n_nodes,)
        Attractor mass at each node (0 where none).
    beta : float
        Decay rate [1/s].
    cutoff : float
        Longest trip [s].
    n_blocks : int
        Origins are split in this many blocks run in parallel.

    Returns
    -------
    flows : ndarray, shape (n_links,)
        Trips using each link.
    attracted : ndarray, shape (n_nodes,)
        Trips ending at each node.
    produced : ndarray, shape (n_o,)
        Trips each origin sends (0 when no attractor is within the cut-off).
    """
    n = indptr.shape[0] - 1
    m = cost.shape[0]
    n_orig = origins.shape[0]
    n_blocks = max(1, min(n_blocks, n_orig))
    flows = np.zeros((n_blocks, m))
    attracted = np.zeros((n_blocks, n))
    produced = np.zeros(n_orig)
    for blk in prange(n_blocks):
        dist = np.full(n, np.inf)
        pred = np.full(n, -1, dtype=np.int64)
        order = np.empty(n, dtype=np.int64)
        done = np.zeros(n, dtype=np.bool_)
        load = np.zeros(n)
        hk = np.empty(heads.shape[0] + 1)
        hv = np.empty(heads.shape[0] + 1, dtype=np.int64)
        for k in range(blk, n_orig, n_blocks):
            o = origins[k]
            settled = bounded_tree(
                indptr, heads, clink, cost, o, cutoff, dist, pred, order, done, hk, hv
            )
            total = 0.0
            for s in range(1, settled):
                u = order[s]
                if attraction[u] > 0.0:
                    total += attraction[u] * math.exp(-beta * dist[u])
            if total > 0.0 and origin_mass[k] != 0.0:
                scale = origin_mass[k] / total
                produced[k] = origin_mass[k]
                for s in range(1, settled):
                    u = order[s]
                    if attraction[u] > 0.0:
                        t = scale * attraction[u] * math.exp(-beta * dist[u])
                        load[u] += t
                        attracted[blk, u] += t
                for s in range(settled - 1, 0, -1):
                    u = order[s]
                    if load[u] != 0.0:
                        e = pred[u]
                        flows[blk, e] += load[u]
                        load[tails[e]] += load[u]
                        load[u] = 0.0
                load[o] = 0.0
            for s in range(settled):
                u = order[s]
                dist[u] = np.inf
                pred[u] = -1
                done[u] = False
    out = np.zeros(m)
    att = np.zeros(n)
    for blk in range(n_blocks):
        for e in range(m):
            out[e] += flows[blk, e]
        for i in range(n):
            att[i] += attracted[blk, i]
    return out, att, produced


def gravity_flows_ref(
    tails: np.ndarray,
    heads: np.ndarray,
    cost: np.ndarray,
    origins: np.ndarray,
    origin_mass: np.ndarray,
    attraction: np.ndarray,
    beta: float,
    cutoff: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference of :func:`gravity_flows`: dense O(n²) Dijkstra and one path walk per OD pair."""
    n = attraction.shape[0]
    flows = np.zeros(len(cost))
    att = np.zeros(n)
    produced = np.zeros(len(origins))
    open_ = np.isfinite(cost)
    for k, o in enumerate(origins):
        dist = np.full(n, np.inf)
        dist[o] = 0.0
        done = np.zeros(n, dtype=bool)
        for _ in range(n):
            cand = np.where(done, np.inf, dist)
            u = int(np.argmin(cand))
            if not np.isfinite(cand[u]):
                break
            done[u] = True
            sel = open_ & (tails == u)
            nd = dist[u] + cost[sel]
            nd = np.where(nd <= cutoff, nd, np.inf)
            np.minimum.at(dist, heads[sel], nd)
        dest = np.flatnonzero((attraction > 0) & np.isfinite(dist) & (np.arange(n) != o))
        if len(dest) == 0 or origin_mass[k] == 0:
            continue
        w = attraction[dest] * np.exp(-beta * dist[dest])
        trips = origin_mass[k] * w / w.sum()
        produced[k] = origin_mass[k]
        att[dest] += trips
        for d, tr in zip(dest, trips, strict=True):
            node = int(d)
            while node != o:
                cand = np.flatnonzero(
                    open_
                    & (heads == node)
                    & np.isclose(dist[tails] + cost, dist[node], rtol=1e-12, atol=1e-9)
                )
                e = int(cand[0])
                flows[e] += tr
                node = int(tails[e])
    return flows, att, produced
