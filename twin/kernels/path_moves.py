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
def set_costs(
    x: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray, t: np.ndarray, dt: np.ndarray
) -> float:
    """Link costs ``t`` and their derivatives ``dt`` at flows ``x`` [veh/h], in place; returns
    the total travel time ``Σ t·x``."""
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
def cheapest(
    j: int,
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pl: np.ndarray,
    t: np.ndarray,
) -> int:
    """The cheapest stored path of OD pair ``j`` at link costs ``t`` (-1: none)."""
    best = -1
    cbest = np.inf
    q = head[j]
    while q >= 0:
        c = path_cost(ps[q], pn[q], pl, t)
        if c < cbest:
            cbest = c
            best = q
        q = nxt[q]
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
def shift(
    x: np.ndarray,
    t: np.ndarray,
    dt: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    pl: np.ndarray,
    s_p: int,
    n_p: int,
    s_b: int,
    n_b: int,
    f_p: float,
    mark: np.ndarray,
    stamp: int,
) -> float:
    """Move flow from path p onto path b by one projected Newton step; return the amount.

    ``mark`` holds, for each link, the stamp of the last path that marked it; ``stamp`` and
    ``stamp + 1`` are used here.
    """
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
        e = pl[i]
        x[e] -= step
        if x[e] < 0.0:
            x[e] = 0.0
        t[e] = cost1(x[e], a[e], b[e], p[e])
        dt[e] = dcost1(x[e], b[e], p[e])
    for i in range(s_b, s_b + n_b):
        e = pl[i]
        x[e] += step
        t[e] = cost1(x[e], a[e], b[e], p[e])
        dt[e] = dcost1(x[e], b[e], p[e])
    return step


@njit(cache=True)
def equilibrate(
    j: int,
    best: int,
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    x: np.ndarray,
    t: np.ndarray,
    dt: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    mark: np.ndarray,
    stamp: int,
) -> int:
    """Shift flow of OD pair ``j`` from each of its paths onto ``best``; drop emptied paths."""
    prev = -1
    q = head[j]
    while q >= 0:
        following = nxt[q]
        if q != best and pf[q] > 0.0:
            step = shift(
                x, t, dt, a, b, p, pl, ps[q], pn[q], ps[best], pn[best], pf[q], mark, stamp
            )
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
def rebalance_pair(
    j: int,
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    x: np.ndarray,
    t: np.ndarray,
    dt: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    mark: np.ndarray,
    stamp: int,
) -> int:
    """Shift flow of OD pair ``j`` onto its cheapest stored path (:func:`equilibrate`); nothing
    to do with a single path. Returns the next free stamp."""
    if head[j] < 0 or nxt[head[j]] < 0:
        return stamp
    best = cheapest(j, head, nxt, ps, pn, pl, t)
    return equilibrate(j, best, head, nxt, ps, pn, pf, pl, x, t, dt, a, b, p, mark, stamp)


@njit(cache=True)
def add_tree_path(
    j: int,
    o: int,
    d: int,
    pred: np.ndarray,
    tails: np.ndarray,
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    n_paths: int,
    n_links: int,
) -> tuple:
    """Add the path from ``o`` to ``d`` of the tree ``pred`` (reaching link of each node) to
    the paths of pair ``j``, with no flow, at the head of its list; the store grows as needed.
    Returns ``ps, pn, pf, nxt, pl, n_paths, n_links`` (the new path is ``n_paths − 1``)."""
    length = tree_length(o, d, pred, tails)
    ps = grow(ps, n_paths + 1)
    pn = grow(pn, n_paths + 1)
    pf = grow(pf, n_paths + 1)
    nxt = grow(nxt, n_paths + 1)
    pl = grow(pl, n_links + length)
    ps[n_paths] = n_links
    pn[n_paths] = length
    pf[n_paths] = 0.0
    n_links = write_tree_path(o, d, pred, tails, pl, n_links)
    nxt[n_paths] = head[j]
    head[j] = n_paths
    return ps, pn, pf, nxt, pl, n_paths + 1, n_links


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
