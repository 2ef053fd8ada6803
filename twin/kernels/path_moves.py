"""Moves on a path store: path costs, the cheapest path of a pair, a new tree path, and the
projected Newton step that shifts flow between two paths (gradient projection).

The path store is the linked form of :mod:`twin.kernels.path_store`; link costs are
``a + b·vᵖ`` (:mod:`twin.kernels.traffic`). These are the building blocks of
:mod:`twin.kernels.traffic_paths` (origin by origin) and :mod:`twin.kernels.gp_pairs` (pair by
pair); their results are tested through the solver against its plain-Python reference
(``gp_ref``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from twin.kernels.traffic import fpow
from twin.kernels.traffic_types import LinkState, Network, PathStore


@njit(cache=True)
def cost1(v: float, a: float, b: float, p: float) -> float:
    """Travel time ``a + b·vᵖ`` of one link at flow ``v`` [veh/h]."""
    return a + (b * fpow(v, p) if b != 0.0 else 0.0)


@njit(cache=True)
def dcost1(v: float, b: float, p: float) -> float:
    """Derivative ``b·p·vᵖ⁻¹`` of one link's travel time at flow ``v`` [time unit per veh/h]
    (its right limit at 0)."""
    if b == 0.0 or p == 0.0:
        return 0.0
    if v > 0.0:
        return b * p * fpow(v, p - 1.0)
    return b if p == 1.0 else 0.0


@njit(cache=True)
def set_costs(net: Network, ls: LinkState) -> float:
    """Link costs ``ls.t`` and their derivatives ``ls.dt`` at flows ``ls.x`` [veh/h], in
    place; returns the total travel time ``Σ t·x`` [veh/h × time unit]."""
    x, t, dt, a, b, p = ls.x, ls.t, ls.dt, net.a, net.b, net.p
    total = 0.0
    for e in range(x.shape[0]):
        t[e] = cost1(x[e], a[e], b[e], p[e])
        dt[e] = dcost1(x[e], b[e], p[e])
        total += t[e] * x[e]
    return total


@njit(cache=True)
def path_cost(s: int, n: int, pl: np.ndarray, t: np.ndarray) -> float:
    """Cost of the path of ``n`` links starting at ``pl[s]`` at link costs ``t``."""
    c = 0.0
    for i in range(s, s + n):
        c += t[pl[i]]
    return c


@njit(cache=True)
def cheapest(j: int, st: PathStore, t: np.ndarray) -> int:
    """The cheapest stored path of OD pair ``j`` at link costs ``t`` (-1: none)."""
    best = -1
    cbest = np.inf
    q = st.head[j]
    while q >= 0:
        c = path_cost(st.ps[q], st.pn[q], st.pl, t)
        if c < cbest:
            cbest = c
            best = q
        q = st.nxt[q]
    return best


@njit(cache=True)
def grow(arr: np.ndarray, need: int) -> np.ndarray:
    """``arr`` if it holds ``need`` entries, else a copy at least twice as long (any dtype)."""
    if need <= arr.shape[0]:
        return arr
    out = np.empty(max(need, 2 * arr.shape[0]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True)
def grown(st: PathStore, paths: int, links: int) -> PathStore:
    """The store with room for ``paths`` more paths and ``links`` more links (arrays copied
    only when too short; the counts unchanged)."""
    return PathStore(
        st.head,
        grow(st.nxt, st.n_paths + paths),
        grow(st.ps, st.n_paths + paths),
        grow(st.pn, st.n_paths + paths),
        grow(st.pf, st.n_paths + paths),
        grow(st.pl, st.n_links + links),
        st.n_paths,
        st.n_links,
    )


@njit(cache=True)
def move(net: Network, ls: LinkState, e: int, dv: float) -> None:
    """Add ``dv`` [veh/h] to the flow of link ``e`` (not below 0) and update its cost and
    derivative."""
    v = ls.x[e] + dv
    if v < 0.0:
        v = 0.0
    ls.x[e] = v
    ls.t[e] = cost1(v, net.a[e], net.b[e], net.p[e])
    ls.dt[e] = dcost1(v, net.b[e], net.p[e])


@njit(cache=True)
def shift(
    net: Network,
    ls: LinkState,
    pl: np.ndarray,
    s_p: int,
    n_p: int,
    s_b: int,
    n_b: int,
    f_p: float,
    stamp: int,
) -> float:
    """Move flow from path p (``n_p`` links from ``pl[s_p]``, carrying ``f_p`` [veh/h]) onto
    path b by one projected Newton step; return the amount [veh/h].

    ``ls.mark`` holds, for each link, the stamp of the last path that marked it; ``stamp``
    and ``stamp + 1`` are used here.
    """
    t, dt, mark = ls.t, ls.dt, ls.mark
    cp = 0.0
    for i in range(s_p, s_p + n_p):
        cp += t[pl[i]]
        mark[pl[i]] = stamp
    cb = 0.0
    hess = 0.0
    for i in range(s_b, s_b + n_b):
        e = pl[i]
        cb += t[e]
        if mark[e] != stamp:
            hess += dt[e]
        mark[e] = stamp + 1
    dc = cp - cb
    if dc <= 0.0:
        return 0.0
    for i in range(s_p, s_p + n_p):
        e = pl[i]
        if mark[e] != stamp + 1:
            hess += dt[e]
    step = f_p if hess <= 0.0 else min(f_p, dc / hess)
    if step <= 0.0:
        return 0.0
    for i in range(s_p, s_p + n_p):
        move(net, ls, pl[i], -step)
    for i in range(s_b, s_b + n_b):
        move(net, ls, pl[i], step)
    return step


@njit(cache=True)
def equilibrate(j: int, best: int, st: PathStore, net: Network, ls: LinkState, stamp: int) -> int:
    """Shift flow of OD pair ``j`` from each of its paths onto ``best``; drop emptied paths.
    Returns the next free stamp."""
    head, nxt, ps, pn, pf = st.head, st.nxt, st.ps, st.pn, st.pf
    prev = -1
    q = head[j]
    while q >= 0:
        following = nxt[q]
        if q != best and pf[q] > 0.0:
            step = shift(net, ls, st.pl, ps[q], pn[q], ps[best], pn[best], pf[q], stamp)
            stamp += 2
            pf[q] -= step
            pf[best] += step
        if q != best and pf[q] <= 0.0:
            if prev < 0:
                head[j] = following
            else:
                nxt[prev] = following
        else:
            prev = q
        q = following
    return stamp


@njit(cache=True)
def rebalance_pair(j: int, st: PathStore, net: Network, ls: LinkState, stamp: int) -> int:
    """Shift flow of OD pair ``j`` onto its cheapest stored path (:func:`equilibrate`); nothing
    to do with a single path. Returns the next free stamp."""
    if st.head[j] < 0 or st.nxt[st.head[j]] < 0:
        return stamp
    best = cheapest(j, st, ls.t)
    return equilibrate(j, best, st, net, ls, stamp)


@njit(cache=True)
def add_tree_path(
    j: int, o: int, d: int, pred: np.ndarray, tails: np.ndarray, st: PathStore
) -> PathStore:
    """Add the path from ``o`` to ``d`` of the tree ``pred`` (reaching link of each node) to
    the paths of pair ``j``, with no flow, at the head of its list; the store grows as needed.
    Returns the store (the new path is ``n_paths − 1``)."""
    length = tree_length(o, d, pred, tails)
    st = grown(st, 1, length)
    q = st.n_paths
    st.ps[q] = st.n_links
    st.pn[q] = length
    st.pf[q] = 0.0
    n_links = write_tree_path(o, d, pred, tails, st.pl, st.n_links)
    st.nxt[q] = st.head[j]
    st.head[j] = q
    return PathStore(st.head, st.nxt, st.ps, st.pn, st.pf, st.pl, q + 1, n_links)


@njit(cache=True)
def tree_length(o: int, d: int, pred: np.ndarray, tails: np.ndarray) -> int:
    """Number of links of the path from ``o`` to ``d`` in the tree ``pred`` (reaching link of
    each node)."""
    length = 0
    node = d
    while node != o:
        length += 1
        node = tails[pred[node]]
    return length


@njit(cache=True)
def write_tree_path(
    o: int, d: int, pred: np.ndarray, tails: np.ndarray, pl: np.ndarray, w: int
) -> int:
    """Write the links of the tree path from ``o`` to ``d`` (destination first) into ``pl``
    from ``w``; returns the place after the last one."""
    node = d
    while node != o:
        e = pred[node]
        pl[w] = e
        w += 1
        node = tails[e]
    return w
