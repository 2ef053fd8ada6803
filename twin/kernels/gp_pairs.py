"""Gradient projection pair by pair: the excess cost each OD pair holds, the few pairs that
hold most of it, and a sweep over those pairs alone.

After a local change (a closure), the excess cost ``Σ f·(c_path − c_shortest)`` left once
the change's own trips are re-loaded sits in a few hundred pairs out of tens of thousands,
whose paths cross the detour; sweeping whole origins (:func:`twin.kernels.traffic_paths._sweep`)
would walk every pair of every origin concerned and update each origin's tree in turn.
:func:`pair_sweep` instead takes only the pairs that hold the excess, largest first, and adds
each one's path in its origin's stored shortest-path tree, the tree the gap measurement has
just brought to the current costs (no tree update in the sweep: the later pairs see trees a
few moves old, so the new path of a pair is checked against the current costs before it is
used, and the Newton step works at the current costs).

This is the pair-by-pair organisation of gradient projection (Jayakrishnan et al. 1994;
Chen, Lee & Jayakrishnan 2002, see :mod:`twin.kernels.traffic_paths`), restricted to the
pairs farthest from equilibrium.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from twin.kernels.path_moves import (
    add_tree_path,
    cheapest,
    equilibrate,
    path_cost,
    rebalance_pair,
)
from twin.kernels.traffic_types import Demand, LinkState, Network, PathStore


@njit(cache=True, parallel=True)
def pair_excess(
    cand: np.ndarray,
    od_ptr: np.ndarray,
    ref: np.ndarray,
    only_pending: bool,
    pending: np.ndarray,
    st: PathStore,
    t: np.ndarray,
    out: np.ndarray,
) -> None:
    """Excess cost ``Σ f·(c_path − ref[j])`` [veh/h × time unit] of each pair ``j`` of the
    origins ``cand`` over its stored paths (store ``st``) at link costs ``t``, written to
    ``out[j]``: 0 where ``ref[j]`` is inf (no path) or, with ``only_pending``, where the pair
    has no pending trips. Origins in parallel; the other entries of ``out`` are left as they
    are."""
    head, nxt, ps, pn, pf, pl = st.head, st.nxt, st.ps, st.pn, st.pf, st.pl
    for i in prange(cand.shape[0]):
        k = cand[i]
        for j in range(od_ptr[k], od_ptr[k + 1]):
            acc = 0.0
            if ref[j] < np.inf and not (only_pending and pending[j] <= 0.0):
                q = head[j]
                while q >= 0:
                    acc += pf[q] * (path_cost(ps[q], pn[q], pl, t) - ref[j])
                    q = nxt[q]
            out[j] = acc


@njit(cache=True)
def largest_first(values: np.ndarray, share: float, allow: float) -> np.ndarray:
    """Positions of the largest positive ``values``, largest first, taken until what the others
    hold is at most ``1 − share`` of the positive total or ``allow`` (at least one, if any value
    is positive; none otherwise)."""
    pos = np.flatnonzero(values > 0.0)
    if pos.shape[0] == 0:
        return pos
    total = 0.0
    for i in pos:
        total += values[i]
    # only the values above half the limit's share per value are sorted: the others hold at
    # most half the limit together, so the prefix ends before them (most values are
    # rounding-sized, and sorting them all cost a noticeable share of an iteration)
    limit = max((1.0 - share) * total, allow)
    big = pos[values[pos] > 0.5 * limit / pos.shape[0]]
    if big.shape[0] == 0:
        big = pos[np.argmax(values[pos]) : np.argmax(values[pos]) + 1]
    rank = big[np.argsort(-values[big])]
    rest = total
    take = 0
    while take < rank.shape[0] and (take == 0 or rest > limit):
        rest -= values[rank[take]]
        take += 1
    return rank[:take]


@njit(cache=True)
def pair_sweep(
    pairs: np.ndarray,
    pair_origin: np.ndarray,
    net: Network,
    dem: Demand,
    t_pred: np.ndarray,
    st: PathStore,
    ls: LinkState,
    stamp: int,
    rounds: int,
) -> tuple[PathStore, int]:
    """Equilibrate the OD pairs ``pairs`` in turn (Gauss–Seidel), each on its stored paths plus
    its path in the stored tree of its origin.

    Parameters
    ----------
    pairs : ndarray of int64
        OD pairs to sweep, in that order.
    pair_origin : ndarray of int64
        Origin (position in ``dem.origins``, row of ``t_pred``) of every OD pair.
    net : Network
        The network (tails and link costs ``a + b·vᵖ``).
    dem : Demand
        The demand (origin nodes, destination nodes and trips [veh/h]).
    t_pred : ndarray
        Tree store: reaching link of each node in each origin's tree (-1: root, unreached).
    st : PathStore
        Path store (:mod:`twin.kernels.path_store`), grown as needed.
    ls : LinkState
        Link flows [veh/h], costs and cost derivatives, updated after each move.
    stamp : int
        The next free stamp of ``ls.mark`` (:func:`twin.kernels.path_moves.shift`).
    rounds : int
        Extra sweeps over the same pairs re-balancing their stored paths (no new path).

    Returns
    -------
    tuple
        The (possibly grown) store and the next free stamp.

    Notes
    -----
    A pair's tree path is added when it is cheaper, at the current costs, than every stored
    path: the trees may be a few moves old, so its cost is measured again here rather than
    taken from the tree's labels.
    """
    tails, t = net.tails, ls.t
    for j in pairs:
        if dem.od_trips[j] <= 0.0:
            continue
        k = pair_origin[j]
        o, d = dem.origins[k], dem.od_dest[j]
        pred = t_pred[k]
        c_tree = 0.0
        node = d
        while node != o and c_tree < np.inf:
            e = pred[node]
            if e < 0:
                c_tree = np.inf
            else:
                c_tree += t[e]
                node = tails[e]
        best = cheapest(j, st, t)
        c_best = path_cost(st.ps[best], st.pn[best], st.pl, t) if best >= 0 else np.inf
        if c_tree < c_best * (1.0 - 1e-14):
            st = add_tree_path(j, o, d, pred, tails, st)
            best = st.n_paths - 1
        if best >= 0:
            stamp = equilibrate(j, best, st, net, ls, stamp)
    for _ in range(rounds):
        for j in pairs:
            stamp = rebalance_pair(j, st, net, ls, stamp)
    return st, stamp


def largest_first_ref(values: np.ndarray, share: float, allow: float) -> np.ndarray:
    """Reference of :func:`largest_first`: a stable sort, then the shortest prefix leaving at
    most ``max((1 − share)·total, allow)`` outside."""
    pos = np.flatnonzero(values > 0)
    if len(pos) == 0:
        return pos
    rank = pos[np.argsort(-values[pos], kind="stable")]
    total = values[pos].sum()
    outside = total - np.cumsum(values[rank])
    enough = np.flatnonzero(outside <= max((1 - share) * total, allow))
    return rank[: (enough[0] + 1) if len(enough) else len(rank)]


def pair_sweep_ref(
    paths: list[list[list]],
    pairs: list[int],
    tree_paths: list[list[int] | None],
    x: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    rounds: int,
) -> None:
    """Reference of :func:`pair_sweep` in plain Python, on lists: ``paths[j]`` is pair ``j``'s
    paths in store order, each ``[links, flow]`` (links as a list of link positions);
    ``tree_paths[j]`` the links of the pair's tree path (None: no path). Updates ``paths``
    and the link flows ``x`` in place, move by move as the kernel does."""

    def t_of(e: int) -> float:
        return a[e] + (b[e] * x[e] ** p[e] if b[e] != 0 else 0.0)

    def dt_of(e: int) -> float:
        if b[e] == 0 or p[e] == 0:
            return 0.0
        if x[e] > 0:
            return b[e] * p[e] * x[e] ** (p[e] - 1)
        return b[e] if p[e] == 1 else 0.0

    def cost(links: list[int]) -> float:
        return sum(t_of(e) for e in links)

    def cheapest(j: int) -> int:
        costs = [cost(links) for links, _ in paths[j]]
        return int(np.argmin(costs)) if costs else -1

    def equilibrate(j: int, best: int) -> None:
        keep = []
        for i, path in enumerate(paths[j]):
            if i != best and path[1] > 0:
                lp, lb = path[0], paths[j][best][0]
                dc = cost(lp) - cost(lb)
                step = 0.0
                if dc > 0:
                    hess = sum(dt_of(e) for e in set(lp) ^ set(lb))
                    step = path[1] if hess <= 0 else min(path[1], dc / hess)
                for e in lp:
                    x[e] = max(x[e] - step, 0.0)
                for e in lb:
                    x[e] += step
                path[1] -= step
                paths[j][best][1] += step
            if i == best or path[1] > 0:
                keep.append(path)
        paths[j][:] = keep

    for j in pairs:
        best = cheapest(j)
        tp = tree_paths[j]
        if tp is not None and (best < 0 or cost(tp) < cost(paths[j][best][0]) * (1 - 1e-14)):
            paths[j].insert(0, [list(tp), 0.0])
            best = 0
        if best >= 0:
            equilibrate(j, best)
    for _ in range(rounds):
        for j in pairs:
            if len(paths[j]) > 1:
                equilibrate(j, cheapest(j))
