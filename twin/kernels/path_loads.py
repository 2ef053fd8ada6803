"""Pending trips loaded on shortest-path tree paths, origins in parallel (a warm start's
re-loads).

After a closure, the trips of the paths it cut are *pending*: each such OD pair gets them on
the path of its origin's shortest-path tree (added to the pair's stored paths unless a stored
path is as cheap), or on its cheapest stored path. :func:`load_pending` does this for all the
pairs at once at the costs before loading (Jacobi): the loaded trips are a small share of
the flows, and loading them pair after pair with the costs raised after each one
(Gauss–Seidel, as a cold start does) gave the same gaps after the warm start's repair on
Montpellier's closures (figures in docs/benchmarks.md) while it held the second core idle.
Paths are appended to the store in pair order, as a sequential pass would: the store does
not depend on the number of threads.

The store is the linked form of :mod:`twin.kernels.path_store`; :func:`load_pending_ref` is
the plain-Python reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from twin.kernels.path_moves import cheapest, grown, path_cost, tree_length, write_tree_path
from twin.kernels.traffic_types import Demand, Network, PathStore


@njit(cache=True, parallel=True)
def load_pending(
    cand: np.ndarray,
    net: Network,
    dem: Demand,
    t_pred: np.ndarray,
    spc: np.ndarray,
    pending: np.ndarray,
    st: PathStore,
    t: np.ndarray,
    x: np.ndarray,
    c_load: np.ndarray,
    n_blocks: int,
) -> PathStore:
    """Load the pending trips of the OD pairs of origins ``cand`` at link costs ``t``.

    Parameters
    ----------
    cand : ndarray of int64
        Origins (positions in ``dem.origins``, rows of ``t_pred``) whose pairs are loaded.
    net : Network
        The network (its ``tails``: tail node of every link).
    dem : Demand
        Demand grouped by origin (node positions; trips [veh/h]).
    t_pred : ndarray
        Tree store: reaching link of each node in the tree of each origin, at ``t``.
    spc : ndarray
        Cost of each pair's tree path [time unit] (inf: no path; the pair is skipped).
    pending : ndarray
        Trips of each pair not on a stored path [veh/h]; pairs with none are skipped.
    st : PathStore
        Path store, grown as needed (returned).
    t : ndarray
        Link costs [time unit], left as they are (the caller updates them from ``x``).
    x : ndarray
        Link flows [veh/h], raised in place by the loaded trips.
    c_load : ndarray
        Set to ``spc`` for every loaded pair (the cost it was loaded at) [time unit].
    n_blocks : int
        Blocks of origins run in parallel.

    Returns
    -------
    PathStore
        The store with the new paths.
    """
    origins, od_ptr, od_dest, od_trips = dem.origins, dem.od_ptr, dem.od_dest, dem.od_trips
    tails = net.tails
    head, n_paths, n_links = st.head, st.n_paths, st.n_links
    n_c = cand.shape[0]
    n_od = od_trips.shape[0]
    n_blocks = max(1, min(n_blocks, n_c))
    use = np.full(n_od, -1, dtype=np.int64)  # stored path to load (-1: the tree path)
    need = np.full(n_od, -1, dtype=np.int64)  # links of the tree path to add (-1: none)
    _choose(cand, tails, dem, t_pred, spc, pending, st, t, n_blocks, use, need)  # 1.
    # 2. places of the new paths and their links, in pair order
    slot = np.full(n_od, -1, dtype=np.int64)
    start = np.zeros(n_od, dtype=np.int64)
    n_new, n_new_links = 0, 0
    for i in range(n_c):
        k = cand[i]
        for j in range(od_ptr[k], od_ptr[k + 1]):
            if need[j] >= 0:
                slot[j] = n_paths + n_new
                start[j] = n_links + n_new_links
                n_new += 1
                n_new_links += need[j]
    st = grown(st, n_new, n_new_links)
    nxt, ps, pn, pf, pl = st.nxt, st.ps, st.pn, st.pf, st.pl
    m = x.shape[0]
    part = np.zeros((n_blocks, m))
    for blk in prange(n_blocks):  # 3. new paths written, trips loaded
        acc = part[blk]
        for i in range(blk, n_c, n_blocks):
            k = cand[i]
            pred = t_pred[k]
            o = origins[k]
            for j in range(od_ptr[k], od_ptr[k + 1]):
                q = use[j]
                if need[j] >= 0:
                    q = slot[j]
                    ps[q] = start[j]
                    pn[q] = need[j]
                    pf[q] = 0.0
                    write_tree_path(o, od_dest[j], pred, tails, pl, start[j])
                    nxt[q] = head[j]
                    head[j] = q
                if q < 0:
                    continue
                f = pending[j]
                pf[q] += f
                c_load[j] = spc[j]
                for i2 in range(ps[q], ps[q] + pn[q]):
                    acc[pl[i2]] += f
    for e in prange(m):
        s = 0.0
        for blk in range(n_blocks):
            s += part[blk, e]
        x[e] += s
    return PathStore(head, nxt, ps, pn, pf, pl, n_paths + n_new, n_links + n_new_links)


@njit(cache=True, parallel=True)
def _choose(
    cand: np.ndarray,
    tails: np.ndarray,
    dem: Demand,
    t_pred: np.ndarray,
    spc: np.ndarray,
    pending: np.ndarray,
    st: PathStore,
    t: np.ndarray,
    n_blocks: int,
    use: np.ndarray,
    need: np.ndarray,
) -> None:
    """Which path each pending pair of origins ``cand`` takes (:func:`load_pending`): its
    cheapest stored path (into ``use``) unless its tree path is cheaper, whose number of
    links goes into ``need``; origins in ``n_blocks`` parallel blocks."""
    origins, od_ptr, od_dest, od_trips = dem.origins, dem.od_ptr, dem.od_dest, dem.od_trips
    n_c = cand.shape[0]
    for blk in prange(n_blocks):
        for i in range(blk, n_c, n_blocks):
            k = cand[i]
            for j in range(od_ptr[k], od_ptr[k + 1]):
                if pending[j] <= 0.0 or od_trips[j] <= 0.0 or spc[j] == np.inf:
                    continue
                best = cheapest(j, st, t)
                cbest = path_cost(st.ps[best], st.pn[best], st.pl, t) if best >= 0 else np.inf
                if best < 0 or spc[j] < cbest * (1.0 - 1e-14):
                    need[j] = tree_length(origins[k], od_dest[j], t_pred[k], tails)
                else:
                    use[j] = best


def load_pending_ref(
    cand: np.ndarray,
    origins: np.ndarray,
    od_ptr: np.ndarray,
    od_dest: np.ndarray,
    od_trips: np.ndarray,
    tails: np.ndarray,
    t_pred: np.ndarray,
    spc: np.ndarray,
    pending: np.ndarray,
    store: list[list[tuple[list[int], float]]],
    t: np.ndarray,
) -> tuple[list[list[tuple[list[int], float]]], np.ndarray, dict[int, float]]:
    """Reference of :func:`load_pending` in plain Python on a store given as, per pair, a list
    of ``(links, flow)`` (most recent path first, as the linked store lists them). Returns the
    new store, the added link flows [veh/h] and ``c_load`` of the loaded pairs."""
    store = [[(list(links), f) for links, f in paths] for paths in store]
    dx = np.zeros(len(t))
    c_load: dict[int, float] = {}
    for k in cand:
        for j in range(od_ptr[k], od_ptr[k + 1]):
            if pending[j] <= 0 or od_trips[j] <= 0 or not np.isfinite(spc[j]):
                continue
            costs = [float(sum(t[e] for e in links)) for links, _ in store[j]]
            best = int(np.argmin(costs)) if costs else -1
            if best < 0 or spc[j] < costs[best] * (1.0 - 1e-14):
                path, node = [], int(od_dest[j])
                while node != origins[k]:
                    e = int(t_pred[k][node])
                    path.append(e)
                    node = int(tails[e])
                store[j].insert(0, (path, 0.0))
                best = 0
            links, f = store[j][best]
            store[j][best] = (links, f + pending[j])
            for e in links:
                dx[e] += pending[j]
            c_load[j] = float(spc[j])
    return store, dx, c_load
