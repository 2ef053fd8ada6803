"""Path-based user-equilibrium assignment: gradient projection (GP) with Newton steps.

Every OD pair keeps a set of used paths. An iteration takes origins in turn: it brings
the shortest-path tree of the origin up to the current link costs, adds each destination's
shortest path to that pair's set if it is not there yet, and moves flow from every other
path ``p`` of the pair onto the cheapest path ``b`` by the projected Newton step

    Δ = min(f_p, (c_p − c_b) / Σ_{links in p ⊕ b} t'(x))

(links common to both paths cancel), updating link flows and costs after each move
(Gauss–Seidel). Paths whose flow falls to zero are dropped. ``inner`` extra sweeps over the
same origins' pairs re-balance the existing path sets without new trees (they are cheap
and converge the "easy" part of the problem).

Link costs and the network's CSR form are those of :mod:`twin.kernels.traffic`.

The path store (input and output) is the linked form of :mod:`twin.kernels.path_store`.
Trips of a pair not carried by its paths (``pending``) are loaded on the pair's shortest path
before the first iteration; a cold start is an empty store with everything pending. The
loaded origins' trees are first brought to the costs before loading, in parallel; the loads
then follow one another, or, for a warm start with many pairs to re-load (``LOAD_TOGETHER``),
all load together at those costs (:mod:`twin.kernels.path_loads`). A warm start (a closure:
the trips of the cut paths are pending) re-balances the pairs it loaded, on the origins where
they gained the most cost, before its first gap check.

Each origin's shortest-path tree is kept (when memory allows) and brought up to date after
costs change rather than rebuilt (:mod:`twin.kernels.sp_update`). Each iteration measures the
exact gap, then sweeps only the origins holding most of the excess cost
``Σ f·(c_path − c_shortest)`` (``sweep_share`` of it, largest first): after a local change
such as a closure, most origins are already at equilibrium. When that share of the excess
sits in a few OD pairs (at most ``pair_share`` of them), the iteration sweeps those pairs
alone instead (:mod:`twin.kernels.gp_pairs`): on the trees the gap measurement has just
brought to the current costs, then once more, those of them holding most of the excess,
after updating their origins' trees together.

References
----------
Jayakrishnan, R., Tsai, W. K., Prashker, J. N., Rajadhyaksha, S. (1994). A faster path-based
algorithm for traffic assignment. *Transportation Research Record* 1443, 75–83.

Chen, A., Lee, D.-H., Jayakrishnan, R. (2002). Computational study of state-of-the-art
path-based traffic assignment algorithms. *Mathematics and Computers in Simulation* 59,
509–518.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from twin.kernels.gp_pairs import largest_first, pair_excess, pair_sweep
from twin.kernels.path_loads import load_pending
from twin.kernels.path_moves import (
    add_tree_path,
    cheapest,
    cost1,
    dcost1,
    equilibrate,
    path_cost,
    rebalance_pair,
    set_costs,
)
from twin.kernels.sp_update import store_tree, store_trees, take_row, work_size
from twin.kernels.traffic import dot, sp_tree

#: The second pass of a pair sweep takes the pairs holding this share of the excess of the
#: first (largest first): fewer trees to bring up to date, the same gaps (tuned on Montpellier
#: closures and Sioux Falls).
REFRESH_SHARE = 0.85
#: A warm start with at least this many OD pairs to re-load loads them all together, in
#: parallel, at the costs before loading (:mod:`twin.kernels.path_loads`: each pair carries
#: little, and the gaps after the repair are those of loading them in turn on Montpellier's
#: closures, 961–2,765 pairs); with fewer (Sioux Falls: some 30 pairs carrying 23,000 veh/h
#: on a congested network), pair after pair, costs raised as they load.
LOAD_TOGETHER = 256
#: A cold start loads its origins in at least this many blocks (see :func:`gp_solve`).
COLD_BLOCKS = 16
#: Modes of a sweep over an origin's pairs: every pair; the pairs with pending trips, loading
#: them first; the pairs that had pending trips (loaded before), without loading.
ALL_PAIRS, LOAD_PENDING, PENDING_PAIRS = 0, 1, 2


@njit(cache=True, parallel=True)
def od_costs(
    indptr: np.ndarray,
    heads: np.ndarray,
    clink: np.ndarray,
    cost: np.ndarray,
    barred: np.ndarray,
    origins: np.ndarray,
    od_ptr: np.ndarray,
    od_dest: np.ndarray,
    out: np.ndarray,
) -> None:
    """Shortest-path cost of every OD pair at link costs ``cost`` (inf: no path), origins in
    parallel; written to ``out``."""
    n = indptr.shape[0] - 1
    n_orig = origins.shape[0]
    for k in prange(n_orig):
        dist = np.empty(n)
        pred = np.empty(n, dtype=np.int64)
        order = np.empty(n, dtype=np.int64)
        hk = np.empty(heads.shape[0] + 1)
        hv = np.empty(heads.shape[0] + 1, dtype=np.int64)
        sp_tree(indptr, heads, clink, cost, barred, origins[k], dist, pred, order, hk, hv)
        for j in range(od_ptr[k], od_ptr[k + 1]):
            out[j] = dist[od_dest[j]]


@njit(cache=True, parallel=True)
def path_flows(
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    x: np.ndarray,
    n_blocks: int,
    t: np.ndarray,
    fc: np.ndarray,
    fs: np.ndarray,
) -> None:
    """Link flows of the stored paths [veh/h], written to ``x``: the pairs in ``n_blocks``
    contiguous blocks summed in parallel, one flow buffer per block. In the same pass, each
    pair's flow-weighted path cost ``Σ f·c_path`` at link costs ``t`` into ``fc``
    [veh/h × time unit] and its flow ``Σ f`` into ``fs`` [veh/h] (with the shortest costs, its
    excess cost: :func:`excess_of`)."""
    n_od = head.shape[0]
    m = x.shape[0]
    n_blocks = max(1, min(n_blocks, n_od))
    part = np.zeros((n_blocks, m))
    for blk in prange(n_blocks):
        acc = part[blk]
        for j in range(blk * n_od // n_blocks, (blk + 1) * n_od // n_blocks):
            q = head[j]
            cost = 0.0
            flow = 0.0
            while q >= 0:
                f = pf[q]
                c = 0.0
                for i in range(ps[q], ps[q] + pn[q]):
                    e = pl[i]
                    acc[e] += f
                    c += t[e]
                cost += f * c
                flow += f
                q = nxt[q]
            fc[j] = cost
            fs[j] = flow
    for e in range(m):
        s = 0.0
        for blk in range(n_blocks):
            s += part[blk, e]
        x[e] = s


@njit(cache=True)
def excess_of(fc: np.ndarray, fs: np.ndarray, ref: np.ndarray, out: np.ndarray) -> None:
    """Excess cost ``Σ f·c_path − ref·Σ f`` of each pair [veh/h × time unit] from the sums of
    :func:`path_flows`, written to ``out`` (0 where ``ref`` is inf: no path)."""
    for j in range(fc.shape[0]):
        out[j] = fc[j] - ref[j] * fs[j] if ref[j] < np.inf else 0.0


@njit(cache=True)
def _by_excess(
    cand: np.ndarray,
    od_ptr: np.ndarray,
    ex: np.ndarray,
    share: float,
    allow: float,
) -> np.ndarray:
    """Origins of ``cand`` holding the largest excess, given the excess ``ex`` of every pair
    of theirs (:func:`twin.kernels.gp_pairs.pair_excess`), largest first, until what the
    others hold is at most ``1 − share`` of the total or ``allow`` (at least one origin)."""
    n_c = cand.shape[0]
    per = np.zeros(n_c)
    for i in range(n_c):
        k = cand[i]
        for j in range(od_ptr[k], od_ptr[k + 1]):
            per[i] += ex[j]
    take = largest_first(per, share, allow)
    if take.shape[0] == 0:  # no excess: the origin with the most (or the first)
        top = np.argmax(per)
        return cand[top : top + 1]
    return cand[take]


@njit(cache=True)
def _rebalance(
    sel: np.ndarray,
    rounds: int,
    mode: int,
    pending: np.ndarray,
    od_ptr: np.ndarray,
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
    """``rounds`` sweeps over the pairs of origins ``sel`` (all, or with PENDING_PAIRS only
    those with pending trips) shifting flow onto each pair's cheapest stored path (no new
    paths); returns the stamp."""
    for _ in range(rounds):
        for k in sel:
            for j in range(od_ptr[k], od_ptr[k + 1]):
                if mode == ALL_PAIRS or pending[j] > 0.0:
                    stamp = rebalance_pair(
                        j, head, nxt, ps, pn, pf, pl, x, t, dt, a, b, p, mark, stamp
                    )
    return stamp


@njit(cache=True)
def _sweep(
    sel: np.ndarray,
    mode: int,
    keep_trees: bool,
    indptr: np.ndarray,
    heads: np.ndarray,
    clink: np.ndarray,
    tails: np.ndarray,
    live: np.ndarray,
    barred: np.ndarray,
    origins: np.ndarray,
    od_ptr: np.ndarray,
    od_dest: np.ndarray,
    od_trips: np.ndarray,
    pending: np.ndarray,
    c_load: np.ndarray,
    t_pred: np.ndarray,
    t_order: np.ndarray,
    t_reached: np.ndarray,
    have: np.ndarray,
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    n_paths: int,
    n_links: int,
    x: np.ndarray,
    t: np.ndarray,
    dt: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    mark: np.ndarray,
    stamp: int,
    hk: np.ndarray,
    hv: np.ndarray,
    work: np.ndarray,
    ccost: np.ndarray,
    dist: np.ndarray,
    spc: np.ndarray,
    n_blocks: int,
    rounds: int,
    src_pred: np.ndarray,
    src_order: np.ndarray,
    to_copy: np.ndarray,
    stale: bool,
) -> tuple:
    """One Gauss–Seidel sweep over the origins ``sel``: each origin's tree at the current
    costs (updated in the store, or rebuilt in its scratch row; distances in the scratch
    ``dist``, the pairs' shortest costs in ``spc``), then its pairs equilibrated
    (:func:`_origin_sweep`); then ``rounds`` re-balancing sweeps over the same pairs
    (:func:`_rebalance`). With ``stale`` (costs moved since the trees were last brought up to
    date), the bulk of the tree updates is first done in parallel."""
    ctails = tails[clink]
    if stale and keep_trees and sel.shape[0] > 1:
        store_trees(
            indptr, heads, clink, tails, t, live, barred, origins, sel, t_pred, t_order,
            t_reached, have, od_ptr, od_dest, spc, n_blocks, src_pred, src_order, to_copy,
        )  # fmt: skip
    for k in sel:
        row = k if keep_trees else 0
        have[row] = have[row] and keep_trees
        if keep_trees:
            take_row(k, t_pred, t_order, t_reached, src_pred, src_order, to_copy)
        for c in range(clink.shape[0]):
            ccost[c] = t[clink[c]]
        store_tree(
            indptr, heads, clink, tails, ctails, t, ccost, live, barred, origins[k], row, t_pred,
            t_order, t_reached, have, dist, hk, hv, work,
        )  # fmt: skip
        for j in range(od_ptr[k], od_ptr[k + 1]):
            spc[j] = dist[od_dest[j]]
        ps, pn, pf, nxt, pl, n_paths, n_links, stamp = _origin_sweep(
            k, mode, pending, c_load, origins, od_ptr, od_dest, od_trips, tails, spc,
            t_pred[row], head, nxt, ps, pn, pf, pl, n_paths, n_links, x, t, dt, a, b, p, mark,
            stamp,
        )  # fmt: skip
    stamp = _rebalance(
        sel, rounds, mode, pending, od_ptr, head, nxt, ps, pn, pf, pl, x, t, dt, a, b, p, mark,
        stamp,
    )  # fmt: skip
    return ps, pn, pf, nxt, pl, n_paths, n_links, stamp


@njit(cache=True)
def _origin_sweep(
    k: int,
    mode: int,
    pending: np.ndarray,
    c_load: np.ndarray,
    origins: np.ndarray,
    od_ptr: np.ndarray,
    od_dest: np.ndarray,
    od_trips: np.ndarray,
    tails: np.ndarray,
    spc: np.ndarray,
    pred: np.ndarray,
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    n_paths: int,
    n_links: int,
    x: np.ndarray,
    t: np.ndarray,
    dt: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    mark: np.ndarray,
    stamp: int,
) -> tuple:
    """Equilibrate the OD pairs of origin ``k`` given its shortest-path tree (``pred``) and
    the tree's cost to each pair's destination (``spc``, by pair).

    Adds each pair's tree path if it is cheaper than its stored paths and shifts flow onto
    the cheapest path. ``mode`` is ALL_PAIRS, or PENDING_PAIRS (only the pairs with pending
    trips) or LOAD_PENDING (those pairs, their pending trips first loaded on the tree path,
    whose cost is kept in ``c_load``). Returns the (possibly grown) store, counters and the
    stamp.
    """
    o = origins[k]
    for j in range(od_ptr[k], od_ptr[k + 1]):
        d = od_dest[j]
        if spc[j] == np.inf or od_trips[j] <= 0.0 or (mode != ALL_PAIRS and pending[j] <= 0.0):
            continue
        best = cheapest(j, head, nxt, ps, pn, pl, t)
        cbest = path_cost(ps[best], pn[best], pl, t) if best >= 0 else np.inf
        if best < 0 or spc[j] < cbest * (1.0 - 1e-14):
            ps, pn, pf, nxt, pl, n_paths, n_links = add_tree_path(
                j, o, d, pred, tails, head, nxt, ps, pn, pf, pl, n_paths, n_links
            )
            best = n_paths - 1
        if mode == LOAD_PENDING and pending[j] > 0.0:
            c_load[j] = spc[j]
            pf[best] += pending[j]
            for i in range(ps[best], ps[best] + pn[best]):
                e = pl[i]
                x[e] += pending[j]
                t[e] = cost1(x[e], a[e], b[e], p[e])
                dt[e] = dcost1(x[e], b[e], p[e])
            best = cheapest(j, head, nxt, ps, pn, pl, t)
        stamp = equilibrate(j, best, head, nxt, ps, pn, pf, pl, x, t, dt, a, b, p, mark, stamp)
    return ps, pn, pf, nxt, pl, n_paths, n_links, stamp


@njit(cache=True)
def gp_solve(
    indptr: np.ndarray,
    heads: np.ndarray,
    clink: np.ndarray,
    tails: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    barred: np.ndarray,
    origins: np.ndarray,
    od_ptr: np.ndarray,
    od_dest: np.ndarray,
    od_trips: np.ndarray,
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    n_paths: int,
    n_links: int,
    pending: np.ndarray,
    x: np.ndarray,
    rgap: float,
    max_iter: int,
    inner: int,
    gaps: np.ndarray,
    sweep_share: float,
    pair_share: float,
    repair_share: float,
    live: np.ndarray,
    keep_trees: bool,
    t_pred: np.ndarray,
    t_order: np.ndarray,
    t_reached: np.ndarray,
    have: np.ndarray,
    n_blocks: int,
    src_pred: np.ndarray,
    src_order: np.ndarray,
    to_copy: np.ndarray,
) -> tuple:
    """Gradient projection from a path store to the target relative gap.

    Parameters
    ----------
    indptr, heads, clink, tails, barred
        CSR network over open links (see :mod:`twin.kernels.traffic`).
    a, b, p
        Link cost ``a + b·vᵖ`` coefficients.
    origins, od_ptr, od_dest, od_trips
        Demand grouped by origin [veh/h].
    head, nxt, ps, pn, pf, pl, n_paths, n_links
        Initial path store (see :mod:`twin.kernels.path_store`; may be empty), taken over
        and grown as needed.
    pending : ndarray
        Trips of each OD pair not on a stored path [veh/h].
    x : ndarray
        Link flows of the stored paths [veh/h] (zeros for an empty store); updated in place
        to the final flows.
    rgap : float
        Target relative gap.
    max_iter : int
        Maximum number of iterations (tree sweeps).
    inner : int
        Extra re-balancing sweeps over the stored paths per iteration.
    gaps : ndarray, shape (max_iter + 1,)
        Filled with the relative gap measured at the start of each iteration.
    sweep_share : float
        Each iteration sweeps the origins holding the largest excess cost (see the module
        notes) until the others hold at most ``1 − sweep_share`` of the total, or half the
        excess the target gap allows (``rgap·TSTT/2``), whichever is larger.
    pair_share : float
        When the pairs that hold that share of the excess, counted the same way pair by pair,
        are at most ``pair_share`` of all pairs, the iteration sweeps these pairs alone
        (:func:`twin.kernels.gp_pairs.pair_sweep`; only with ``keep_trees``).
    repair_share : float
        A warm start re-balances, before its first gap check, the origins holding this share
        of the excess cost bound of the pairs it loaded (largest first; at least those that
        leave at most half the excess the target gap allows).
    live : ndarray of bool
        Whether each link is open.
    keep_trees : bool
        Keep one shortest-path tree per origin (``t_*`` have a row per origin) and update it
        (:func:`twin.kernels.sp_update.sp_update`) rather than rebuild it each time; if False
        the store has one scratch row.
    t_pred, t_order, t_reached, have
        Tree store (:mod:`twin.kernels.sp_update`): reaching links, node order and number of
        reached nodes of each origin's tree, and whether the row holds a tree of this network
        (rows with ``have`` set, e.g. the trees of a previous solve, are updated, not
        rebuilt). Updated in place: on return (``keep_trees``) they are the trees at the
        final costs.
    n_blocks : int
        Blocks of origins (trees) and of OD pairs (link flows) run in parallel (a few per
        thread).
    src_pred, src_order, to_copy
        Trees of a previous solve (read only) that rows flagged in ``to_copy`` start from,
        copied into the store when first used (:func:`twin.kernels.sp_update.take_row`);
        ``to_copy`` empty: none.

    Returns
    -------
    tuple
        ``od_cost`` shortest cost per pair (inf: no path), ``iterations``,
        ``gap``, ``sptt``, and the final store ``head, nxt, ps, pn, pf, pl, n_paths,
        n_links``.
    """
    n = indptr.shape[0] - 1
    m = a.shape[0]
    n_od = od_trips.shape[0]
    n_orig = origins.shape[0]
    t = np.empty(m)
    dt = np.empty(m)
    set_costs(x, a, b, p, t, dt)
    hk = np.empty(2 * heads.shape[0] + 1)  # heap_size: sp_tree needs less
    hv = np.empty(2 * heads.shape[0] + 1, dtype=np.int64)
    work = np.empty(work_size(n, heads.shape[0]), dtype=np.int64)
    ccost = np.empty(clink.shape[0])
    mark = np.full(m, -1, dtype=np.int64)
    stamp = 0
    od_cost = np.full(n_od, np.inf)
    dist = np.empty(n)  # distances of the tree at hand
    spc = np.empty(n_od)  # the trees' cost of each pair
    ex = np.zeros(n_od)  # excess cost of each pair
    fc = np.empty(n_od)  # flow-weighted path cost of each pair
    fs = np.empty(n_od)  # flow of each pair
    pair_origin = np.empty(n_od, dtype=np.int64)
    for k in range(n_orig):
        pair_origin[od_ptr[k] : od_ptr[k + 1]] = k
    # 1. load the pending trips (all trips on a cold start) on shortest paths
    touched = np.zeros(n_orig, dtype=np.bool_)
    n_pending = 0
    for k in range(n_orig):
        for j in range(od_ptr[k], od_ptr[k + 1]):
            if pending[j] > 0.0:
                touched[k] = True
                n_pending += 1
    sel_touched = np.flatnonzero(touched)
    all_origins = np.arange(n_orig)
    warm = n_paths > 0
    c_load = np.zeros(n_od)
    if keep_trees and warm and n_pending >= LOAD_TOGETHER:
        # a warm start's trips spread over many pairs, each carrying little: the trees of its
        # origins absorb the change (a closure cuts whole subtrees) and the pending trips load
        # on them, all origins in parallel, at the costs before loading
        # (twin.kernels.path_loads)
        store_trees(
            indptr, heads, clink, tails, t, live, barred, origins, sel_touched, t_pred, t_order,
            t_reached, have, od_ptr, od_dest, spc, n_blocks, src_pred, src_order, to_copy,
        )  # fmt: skip
        ps, pn, pf, nxt, pl, n_paths, n_links = load_pending(
            sel_touched, origins, od_ptr, od_dest, od_trips, tails, t_pred, spc, pending, head,
            nxt, ps, pn, pf, pl, n_paths, n_links, t, x, c_load, n_blocks,
        )  # fmt: skip
        set_costs(x, a, b, p, t, dt)
    elif keep_trees:
        # origins in blocks: the block's trees at the current costs, in parallel (built on a
        # cold start; on a warm start they absorb the change), then each origin's pending
        # trips down its tree, one origin after another, costs raised as they load (the next
        # sweeps correct the block's later origins for it). A warm start with few pending
        # pairs takes all its origins as one block; a cold start takes two trees per thread
        # at a time, in at least COLD_BLOCKS blocks, so that later blocks see the congestion
        # the earlier ones loaded (a small network is loaded origin by origin)
        n_t = sel_touched.shape[0]
        size = max(1, n_t if warm else min(n_blocks // 2, n_t // COLD_BLOCKS))
        for start in range(0, n_t, size):
            block = sel_touched[start : start + size]
            store_trees(
                indptr, heads, clink, tails, t, live, barred, origins, block, t_pred, t_order,
                t_reached, have, od_ptr, od_dest, spc, n_blocks, src_pred, src_order, to_copy,
            )  # fmt: skip
            for k in block:
                ps, pn, pf, nxt, pl, n_paths, n_links, stamp = _origin_sweep(
                    k, LOAD_PENDING, pending, c_load, origins, od_ptr, od_dest, od_trips, tails,
                    spc, t_pred[k], head, nxt, ps, pn, pf, pl, n_paths, n_links, x, t, dt, a, b,
                    p, mark, stamp,
                )  # fmt: skip
    else:  # origin by origin, each tree at the costs left by the origins loaded before
        ps, pn, pf, nxt, pl, n_paths, n_links, stamp = _sweep(
            sel_touched, LOAD_PENDING, keep_trees, indptr, heads, clink, tails, live, barred,
            origins, od_ptr, od_dest, od_trips, pending, c_load, t_pred, t_order,
            t_reached, have, head, nxt, ps, pn, pf, pl, n_paths, n_links, x, t, dt, a, b, p,
            mark, stamp, hk, hv, work, ccost, dist, spc, n_blocks, 0, src_pred,
            src_order, to_copy, True,
        )  # fmt: skip
    if warm and sel_touched.shape[0] > 0:
        # a warm start then re-balances the loaded pairs of the origins where these pairs'
        # paths gained the most cost since they were loaded (a bound of the excess cost they
        # hold, as loading raised costs), without a gap check first; each of these few
        # origins' trees is brought to the costs of the moment as its turn comes (updating
        # them all first, in parallel, then each again for the moves of the origins before
        # it, took 1-1.5 ms more on Montpellier's closures)
        tstt = dot(t, x)
        pair_excess(sel_touched, od_ptr, c_load, True, pending, head, nxt, ps, pn, pf, pl, t, ex)
        sel = _by_excess(sel_touched, od_ptr, ex, repair_share, 0.5 * rgap * tstt)
        ps, pn, pf, nxt, pl, n_paths, n_links, stamp = _sweep(
            sel, PENDING_PAIRS, keep_trees, indptr, heads, clink, tails, live, barred,
            origins, od_ptr, od_dest, od_trips, pending, c_load, t_pred, t_order,
            t_reached, have, head, nxt, ps, pn, pf, pl, n_paths, n_links, x, t, dt, a, b, p,
            mark, stamp, hk, hv, work, ccost, dist, spc, n_blocks, inner, src_pred,
            src_order, to_copy, False,
        )  # fmt: skip
    # 2. iterations: exact flows and gap, then a sweep over the origins that hold most of the
    # excess cost
    it = 0
    gap = np.inf
    sptt = 0.0
    while True:
        # exact link flows from the paths (no drift), then the gap at these flows; each pair's
        # path costs at the costs of the last moves (the same but for rounding) in the same pass
        path_flows(head, nxt, ps, pn, pf, pl, x, n_blocks, t, fc, fs)
        tstt = set_costs(x, a, b, p, t, dt)
        if keep_trees:
            store_trees(
                indptr, heads, clink, tails, t, live, barred, origins, all_origins, t_pred,
                t_order, t_reached, have, od_ptr, od_dest, od_cost, n_blocks, src_pred,
                src_order, to_copy,
            )  # fmt: skip
        else:
            od_costs(indptr, heads, clink, t, barred, origins, od_ptr, od_dest, od_cost)
        sptt = 0.0
        for j in range(n_od):
            if od_cost[j] < np.inf:
                sptt += od_trips[j] * od_cost[j]
        gap = (tstt - sptt) / tstt if tstt > 0.0 else 0.0
        gaps[it] = gap
        if gap <= rgap or it >= max_iter:
            break
        # the certificate has just brought every tree to these costs: the sweep starts from them
        excess_of(fc, fs, od_cost, ex)
        pairs = largest_first(ex, sweep_share, 0.5 * rgap * tstt)
        if keep_trees and pairs.shape[0] <= pair_share * n_od:
            # the excess sits in a few pairs: sweep those alone, on the certificate's trees,
            # then once more those holding most of it (REFRESH_SHARE), on their origins' trees
            # brought to the new costs (in parallel)
            for again in range(2):
                if again:
                    pairs = pairs[largest_first(ex[pairs], REFRESH_SHARE, 0.0)]
                    store_trees(
                        indptr, heads, clink, tails, t, live, barred, origins,
                        np.unique(pair_origin[pairs]), t_pred, t_order, t_reached, have,
                        od_ptr, od_dest, spc, n_blocks, src_pred, src_order, to_copy,
                    )  # fmt: skip
                ps, pn, pf, nxt, pl, n_paths, n_links, stamp = pair_sweep(
                    pairs, pair_origin, origins, od_dest, od_trips, tails, t_pred, head, nxt,
                    ps, pn, pf, pl, n_paths, n_links, x, t, dt, a, b, p, mark, stamp, inner,
                )  # fmt: skip
        else:
            sel = _by_excess(all_origins, od_ptr, ex, sweep_share, 0.5 * rgap * tstt)
            ps, pn, pf, nxt, pl, n_paths, n_links, stamp = _sweep(
                sel, ALL_PAIRS, keep_trees, indptr, heads, clink, tails, live, barred,
                origins, od_ptr, od_dest, od_trips, pending, c_load, t_pred, t_order,
                t_reached, have, head, nxt, ps, pn, pf, pl, n_paths, n_links, x, t, dt, a, b,
                p, mark, stamp, hk, hv, work, ccost, dist, spc, n_blocks, inner, src_pred,
                src_order, to_copy, False,
            )  # fmt: skip
        it += 1
    return od_cost, it, gap, sptt, head, nxt, ps, pn, pf, pl, n_paths, n_links


def gp_ref(
    tails: np.ndarray,
    heads: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    n: int,
    od: list[tuple[int, int, float]],
    iterations: int = 500,
) -> np.ndarray:
    """Reference of :func:`gp_solve`: plain-Python gradient projection (Jacobi per OD pair).

    Bellman–Ford shortest paths, paths as tuples of link positions, one Newton step per
    non-shortest path and OD pair per iteration. Returns the link flows [veh/h] (no barred
    nodes, every pair connected).
    """
    m = len(tails)

    def costs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = a + b * np.power(x, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            dt = np.where(x > 0, b * p * np.power(x, p - 1), np.where(p == 1, b, 0.0))
        return t, dt

    def shortest(o: int, d: int, t: np.ndarray) -> tuple[int, ...]:
        dist = np.full(n, np.inf)
        pred = np.full(n, -1)
        dist[o] = 0.0
        for _ in range(n):
            cand = dist[tails] + t
            better = cand < dist[heads] - 1e-15
            if not better.any():
                break
            for e in np.flatnonzero(better):
                if dist[tails[e]] + t[e] < dist[heads[e]]:
                    dist[heads[e]] = dist[tails[e]] + t[e]
                    pred[heads[e]] = e
        path = []
        node = d
        while node != o:
            path.append(int(pred[node]))
            node = int(tails[pred[node]])
        return tuple(path)

    paths: list[dict[tuple[int, ...], float]] = [{} for _ in od]
    x = np.zeros(m)
    for k, (o, d, trips) in enumerate(od):
        t, _ = costs(x)
        sp = shortest(o, d, t)
        paths[k][sp] = trips
        x[list(sp)] += trips
    for _ in range(iterations):
        for k, (o, d, _trips) in enumerate(od):
            t, dt = costs(x)
            sp = shortest(o, d, t)
            paths[k].setdefault(sp, 0.0)
            for path in list(paths[k]):
                if path == sp:
                    continue
                t, dt = costs(x)
                diff = list(set(path) ^ set(sp))
                dc = t[list(path)].sum() - t[list(sp)].sum()
                if dc <= 0:
                    continue
                h = dt[diff].sum()
                step = paths[k][path] if h <= 0 else min(paths[k][path], dc / h)
                paths[k][path] -= step
                paths[k][sp] += step
                x[list(path)] -= step
                x[list(sp)] += step
                if paths[k][path] <= 0:
                    del paths[k][path]
    return x
