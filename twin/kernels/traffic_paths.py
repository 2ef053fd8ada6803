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

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from twin.kernels.gp_pairs import largest_first, pair_excess, pair_sweep
from twin.kernels.path_loads import load_pending
from twin.kernels.path_moves import (
    add_tree_path,
    cheapest,
    equilibrate,
    move,
    path_cost,
    rebalance_pair,
    set_costs,
)
from twin.kernels.sp_update import store_tree, store_trees, take_row, work_size
from twin.kernels.traffic import dot, sp_tree
from twin.kernels.traffic_types import (
    Demand,
    GpOptions,
    LinkState,
    Network,
    PathStore,
    TreeSource,
    TreeStore,
)

#: The second pass of a pair sweep takes the pairs holding this share of the excess of the
#: first (largest first): fewer trees to bring up to date, the same gaps (tuned on Montpellier
#: closures and Sioux Falls).
REFRESH_SHARE = 0.85
#: A warm start with at least this many OD pairs to re-load loads them all together, in
#: parallel, at the costs before loading (:mod:`twin.kernels.path_loads`: each pair carries
#: little, and on Montpellier's closures, 961–2,765 pairs, the gaps after the repair are
#: those of loading them in turn); with fewer (Sioux Falls: some 30 pairs carrying 23,000
#: veh/h on a congested network), pair after pair, costs raised as they load.
LOAD_TOGETHER = 256
#: A cold start loads its origins in at least this many blocks (see :func:`_load`).
COLD_BLOCKS = 16
#: Modes of a sweep over an origin's pairs: every pair; the pairs with pending trips, loading
#: them first; the pairs that had pending trips (loaded before), without loading.
ALL_PAIRS, LOAD_PENDING, PENDING_PAIRS = 0, 1, 2


class Scratch(NamedTuple):
    """Work buffers of a solve: heap (``hk``, ``hv``) and :func:`work_size` buffer of the tree
    updates, link costs in CSR order (``ccost``), distances of the tree at hand (``dist``)
    [time unit] and the trees' cost of each OD pair (``spc``) [time unit]."""

    hk: np.ndarray
    hv: np.ndarray
    work: np.ndarray
    ccost: np.ndarray
    dist: np.ndarray
    spc: np.ndarray


class PairState(NamedTuple):
    """Per OD pair: trips not on a stored path (``pending``) [veh/h], the tree cost each was
    loaded at (``c_load``) [time unit], its excess cost (``ex``) [veh/h × time unit], its
    flow-weighted path cost (``fc``) [veh/h × time unit] and flow (``fs``) [veh/h], its
    shortest cost (``od_cost``) [time unit] and its origin (``origin``, position)."""

    pending: np.ndarray
    c_load: np.ndarray
    ex: np.ndarray
    fc: np.ndarray
    fs: np.ndarray
    od_cost: np.ndarray
    origin: np.ndarray


@njit(cache=True, parallel=True)
def od_costs(net: Network, cost: np.ndarray, dem: Demand, out: np.ndarray) -> None:
    """Shortest-path cost of every OD pair at link costs ``cost`` [time unit] (inf: no path),
    origins in parallel; written to ``out``."""
    indptr, heads, clink, barred = net.indptr, net.heads, net.clink, net.barred
    origins, od_ptr, od_dest = dem.origins, dem.od_ptr, dem.od_dest
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
    st: PathStore,
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
    head, nxt, ps, pn, pf, pl = st.head, st.nxt, st.ps, st.pn, st.pf, st.pl
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
    st: PathStore,
    net: Network,
    ls: LinkState,
    stamp: int,
) -> int:
    """``rounds`` sweeps over the pairs of origins ``sel`` (all, or with PENDING_PAIRS only
    those with pending trips) shifting flow onto each pair's cheapest stored path (no new
    paths); returns the stamp."""
    for _ in range(rounds):
        for k in sel:
            for j in range(od_ptr[k], od_ptr[k + 1]):
                if mode == ALL_PAIRS or pending[j] > 0.0:
                    stamp = rebalance_pair(j, st, net, ls, stamp)
    return stamp


@njit(cache=True)
def _sweep(
    sel: np.ndarray,
    mode: int,
    rounds: int,
    stale: bool,
    net: Network,
    dem: Demand,
    ps_: PairState,
    trees: TreeStore,
    src: TreeSource,
    st: PathStore,
    ls: LinkState,
    stamp: int,
    scr: Scratch,
    opts: GpOptions,
) -> tuple[PathStore, int]:
    """One Gauss–Seidel sweep over the origins ``sel``: each origin's tree at the current
    costs (updated in the store, or rebuilt in its scratch row; distances in ``scr.dist``,
    the pairs' shortest costs in ``scr.spc``), then its pairs equilibrated
    (:func:`_origin_sweep`); then ``rounds`` re-balancing sweeps over the same pairs
    (:func:`_rebalance`). With ``stale`` (costs moved since the trees were last brought up to
    date), the bulk of the tree updates is first done in parallel. Returns the store and the
    next free stamp."""
    keep_trees = opts.keep_trees
    t = ls.t
    ctails = net.tails[net.clink]
    if stale and keep_trees and sel.shape[0] > 1:
        store_trees(net, t, dem, sel, trees, src, scr.spc, opts.n_blocks)
    for k in sel:
        row = k if keep_trees else 0
        trees.have[row] = trees.have[row] and keep_trees
        if keep_trees:
            take_row(k, trees, src)
        for c in range(net.clink.shape[0]):
            scr.ccost[c] = t[net.clink[c]]
        store_tree(
            net, ctails, t, scr.ccost, dem.origins[k], row, trees, scr.dist, scr.hk, scr.hv,
            scr.work,
        )  # fmt: skip
        for j in range(dem.od_ptr[k], dem.od_ptr[k + 1]):
            scr.spc[j] = scr.dist[dem.od_dest[j]]
        st, stamp = _origin_sweep(
            k, mode, ps_.pending, ps_.c_load, net, dem, scr.spc, trees.pred[row], st, ls, stamp
        )
    stamp = _rebalance(sel, rounds, mode, ps_.pending, dem.od_ptr, st, net, ls, stamp)
    return st, stamp


@njit(cache=True)
def _origin_sweep(
    k: int,
    mode: int,
    pending: np.ndarray,
    c_load: np.ndarray,
    net: Network,
    dem: Demand,
    spc: np.ndarray,
    pred: np.ndarray,
    st: PathStore,
    ls: LinkState,
    stamp: int,
) -> tuple[PathStore, int]:
    """Equilibrate the OD pairs of origin ``k`` given its shortest-path tree (``pred``) and
    the tree's cost to each pair's destination (``spc``, by pair) [time unit].

    Adds each pair's tree path if it is cheaper than its stored paths and shifts flow onto
    the cheapest path. ``mode`` is ALL_PAIRS, or PENDING_PAIRS (only the pairs with pending
    trips) or LOAD_PENDING (those pairs, their pending trips [veh/h] first loaded on the tree
    path, whose cost is kept in ``c_load``). Returns the (possibly grown) store and the next
    free stamp.
    """
    o = dem.origins[k]
    t = ls.t
    for j in range(dem.od_ptr[k], dem.od_ptr[k + 1]):
        d = dem.od_dest[j]
        if spc[j] == np.inf or dem.od_trips[j] <= 0.0 or (mode != ALL_PAIRS and pending[j] <= 0.0):
            continue
        best = cheapest(j, st, t)
        cbest = path_cost(st.ps[best], st.pn[best], st.pl, t) if best >= 0 else np.inf
        if best < 0 or spc[j] < cbest * (1.0 - 1e-14):
            st = add_tree_path(j, o, d, pred, net.tails, st)
            best = st.n_paths - 1
        if mode == LOAD_PENDING and pending[j] > 0.0:
            c_load[j] = spc[j]
            st.pf[best] += pending[j]
            for i in range(st.ps[best], st.ps[best] + st.pn[best]):
                move(net, ls, st.pl[i], pending[j])
            best = cheapest(j, st, t)
        stamp = equilibrate(j, best, st, net, ls, stamp)
    return st, stamp


@njit(cache=True)
def _load(
    net: Network,
    dem: Demand,
    ps_: PairState,
    trees: TreeStore,
    src: TreeSource,
    st: PathStore,
    ls: LinkState,
    stamp: int,
    scr: Scratch,
    opts: GpOptions,
) -> tuple[PathStore, int, np.ndarray]:
    """Load the pending trips (all trips on a cold start) on shortest paths; returns the
    store, the next free stamp and the origins loaded."""
    pending = ps_.pending
    n_orig = dem.origins.shape[0]
    touched = np.zeros(n_orig, dtype=np.bool_)
    n_pending = 0
    for k in range(n_orig):
        for j in range(dem.od_ptr[k], dem.od_ptr[k + 1]):
            if pending[j] > 0.0:
                touched[k] = True
                n_pending += 1
    sel = np.flatnonzero(touched)
    warm = st.n_paths > 0
    if opts.keep_trees and warm and n_pending >= LOAD_TOGETHER:
        # a warm start's trips spread over many pairs, each carrying little: the trees of its
        # origins absorb the change (a closure cuts whole subtrees) and the pending trips load
        # on them, all origins in parallel, at the costs before loading
        # (twin.kernels.path_loads)
        store_trees(net, ls.t, dem, sel, trees, src, scr.spc, opts.n_blocks)
        st = load_pending(
            sel, net, dem, trees.pred, scr.spc, pending, st, ls.t, ls.x, ps_.c_load,
            opts.n_blocks,
        )  # fmt: skip
        set_costs(net, ls)
    elif opts.keep_trees:
        # origins in blocks: the block's trees at the current costs, in parallel (built on a
        # cold start; on a warm start they absorb the change), then each origin's pending
        # trips down its tree, one origin after another, costs raised as they load (the next
        # sweeps correct the block's later origins for it). A warm start with few pending
        # pairs takes all its origins as one block; a cold start takes two trees per thread
        # at a time, in at least COLD_BLOCKS blocks, so that later blocks see the congestion
        # the earlier ones loaded (a small network is loaded origin by origin)
        n_t = sel.shape[0]
        size = max(1, n_t if warm else min(opts.n_blocks // 2, n_t // COLD_BLOCKS))
        for start in range(0, n_t, size):
            block = sel[start : start + size]
            store_trees(net, ls.t, dem, block, trees, src, scr.spc, opts.n_blocks)
            for k in block:
                st, stamp = _origin_sweep(
                    k, LOAD_PENDING, pending, ps_.c_load, net, dem, scr.spc, trees.pred[k], st,
                    ls, stamp,
                )  # fmt: skip
    else:  # origin by origin, each tree at the costs left by the origins loaded before
        st, stamp = _sweep(
            sel, LOAD_PENDING, 0, True, net, dem, ps_, trees, src, st, ls, stamp, scr, opts
        )
    return st, stamp, sel


@njit(cache=True)
def _repair(
    sel: np.ndarray,
    net: Network,
    dem: Demand,
    ps_: PairState,
    trees: TreeStore,
    src: TreeSource,
    st: PathStore,
    ls: LinkState,
    stamp: int,
    scr: Scratch,
    opts: GpOptions,
) -> tuple[PathStore, int]:
    """A warm start's re-balancing of the pairs it loaded (origins ``sel``) before its first
    gap check; returns the store and the next free stamp.

    It takes the origins where these pairs' paths gained the most cost since they were loaded
    (a bound of the excess cost they hold, as loading raised costs); each of these few
    origins' trees is brought to the costs of the moment as its turn comes (updating them all
    first, in parallel, then each again for the moves of the origins before it, was slower:
    docs/benchmarks.md).
    """
    tstt = dot(ls.t, ls.x)
    pair_excess(sel, dem.od_ptr, ps_.c_load, True, ps_.pending, st, ls.t, ps_.ex)
    few = _by_excess(sel, dem.od_ptr, ps_.ex, opts.repair_share, 0.5 * opts.rgap * tstt)
    return _sweep(
        few, PENDING_PAIRS, opts.inner, False, net, dem, ps_, trees, src, st, ls, stamp, scr,
        opts,
    )  # fmt: skip


@njit(cache=True)
def _certify(
    net: Network,
    dem: Demand,
    ps_: PairState,
    trees: TreeStore,
    src: TreeSource,
    st: PathStore,
    ls: LinkState,
    opts: GpOptions,
) -> tuple[float, float]:
    """Exact link flows from the paths (no drift), the costs at these flows and every pair's
    shortest cost at them (into ``ps_.od_cost``; each pair's path costs and flow, at the
    costs of the last moves, into ``ps_.fc``, ``ps_.fs`` in the same pass); returns the total
    travel time and the total shortest-path travel time [veh/h × time unit]."""
    path_flows(st, ls.x, opts.n_blocks, ls.t, ps_.fc, ps_.fs)
    tstt = set_costs(net, ls)
    if opts.keep_trees:
        every = np.arange(dem.origins.shape[0])
        store_trees(net, ls.t, dem, every, trees, src, ps_.od_cost, opts.n_blocks)
    else:
        od_costs(net, ls.t, dem, ps_.od_cost)
    sptt = 0.0
    for j in range(dem.od_trips.shape[0]):
        if ps_.od_cost[j] < np.inf:
            sptt += dem.od_trips[j] * ps_.od_cost[j]
    return tstt, sptt


@njit(cache=True)
def _pair_step(
    pairs: np.ndarray,
    net: Network,
    dem: Demand,
    ps_: PairState,
    trees: TreeStore,
    src: TreeSource,
    st: PathStore,
    ls: LinkState,
    stamp: int,
    scr: Scratch,
    opts: GpOptions,
) -> tuple[PathStore, int]:
    """An iteration whose excess sits in a few pairs ``pairs``: sweep those alone, on the
    trees the gap check has just brought to the current costs, then once more those holding
    most of it (REFRESH_SHARE), on their origins' trees brought to the new costs (in
    parallel). Returns the store and the next free stamp."""
    for again in range(2):
        if again:
            pairs = pairs[largest_first(ps_.ex[pairs], REFRESH_SHARE, 0.0)]
            rows = np.unique(ps_.origin[pairs])
            store_trees(net, ls.t, dem, rows, trees, src, scr.spc, opts.n_blocks)
        st, stamp = pair_sweep(pairs, ps_.origin, net, dem, trees.pred, st, ls, stamp, opts.inner)
    return st, stamp


@njit(cache=True)
def gp_solve(
    net: Network,
    dem: Demand,
    st: PathStore,
    pending: np.ndarray,
    x: np.ndarray,
    gaps: np.ndarray,
    opts: GpOptions,
    trees: TreeStore,
    src: TreeSource,
) -> tuple:
    """Gradient projection from a path store to the target relative gap.

    Parameters
    ----------
    net : Network
        CSR network over the open links and link costs ``a + b·vᵖ`` (see
        :mod:`twin.kernels.traffic`).
    dem : Demand
        Demand grouped by origin [veh/h].
    st : PathStore
        Initial path store (see :mod:`twin.kernels.path_store`; may be empty), taken over
        and grown as needed.
    pending : ndarray
        Trips of each OD pair not on a stored path [veh/h].
    x : ndarray
        Link flows of the stored paths [veh/h] (zeros for an empty store); updated in place
        to the final flows.
    gaps : ndarray, shape (max_iter + 1,)
        Filled with the relative gap measured at the start of each iteration.
    opts : GpOptions
        Target gap, iteration cap, sweep shares, tree keeping and parallel blocks (see
        :class:`twin.kernels.traffic_types.GpOptions`; with ``keep_trees``, ``trees`` has a
        row per origin, else one scratch row).
    trees : TreeStore
        Tree store (:mod:`twin.kernels.sp_update`); rows with ``have`` set (e.g. the trees of
        a previous solve) are updated, not rebuilt. Updated in place: on return
        (``keep_trees``) they are the trees at the final costs.
    src : TreeSource
        Trees of a previous solve (read only) that rows flagged in ``src.to_copy`` start
        from, copied into the store when first used (:func:`twin.kernels.sp_update.take_row`).

    Returns
    -------
    tuple
        ``od_cost`` shortest cost per pair [time unit] (inf: no path), ``iterations``,
        ``gap``, ``sptt`` [veh/h × time unit], and the final store.
    """
    n = net.indptr.shape[0] - 1
    m = net.a.shape[0]
    n_od = dem.od_trips.shape[0]
    n_orig = dem.origins.shape[0]
    n_csr = net.heads.shape[0]
    ls = LinkState(x, np.empty(m), np.empty(m), np.full(m, -1, dtype=np.int64))
    set_costs(net, ls)
    scr = Scratch(
        np.empty(2 * n_csr + 1),  # heap_size: sp_tree needs less
        np.empty(2 * n_csr + 1, dtype=np.int64),
        np.empty(work_size(n, n_csr), dtype=np.int64),
        np.empty(net.clink.shape[0]),
        np.empty(n),
        np.empty(n_od),
    )
    pair_origin = np.empty(n_od, dtype=np.int64)
    for k in range(n_orig):
        pair_origin[dem.od_ptr[k] : dem.od_ptr[k + 1]] = k
    ps_ = PairState(
        pending, np.zeros(n_od), np.zeros(n_od), np.empty(n_od), np.empty(n_od),
        np.full(n_od, np.inf), pair_origin,
    )  # fmt: skip
    warm = st.n_paths > 0
    # 1. the pending trips (all trips on a cold start) on shortest paths; a warm start then
    # re-balances the pairs it loaded
    st, stamp, loaded = _load(net, dem, ps_, trees, src, st, ls, 0, scr, opts)
    if warm and loaded.shape[0] > 0:
        st, stamp = _repair(loaded, net, dem, ps_, trees, src, st, ls, stamp, scr, opts)
    # 2. iterations: exact flows and gap, then a sweep over the origins that hold most of the
    # excess cost, on the trees the gap check has just brought to these costs
    all_origins = np.arange(n_orig)
    it = 0
    gap = np.inf
    sptt = 0.0
    while True:
        tstt, sptt = _certify(net, dem, ps_, trees, src, st, ls, opts)
        gap = (tstt - sptt) / tstt if tstt > 0.0 else 0.0
        gaps[it] = gap
        if gap <= opts.rgap or it >= opts.max_iter:
            break
        allow = 0.5 * opts.rgap * tstt
        excess_of(ps_.fc, ps_.fs, ps_.od_cost, ps_.ex)
        pairs = largest_first(ps_.ex, opts.sweep_share, allow)
        if opts.keep_trees and pairs.shape[0] <= opts.pair_share * n_od:
            st, stamp = _pair_step(pairs, net, dem, ps_, trees, src, st, ls, stamp, scr, opts)
        else:
            sel = _by_excess(all_origins, dem.od_ptr, ps_.ex, opts.sweep_share, allow)
            st, stamp = _sweep(
                sel, ALL_PAIRS, opts.inner, False, net, dem, ps_, trees, src, st, ls, stamp,
                scr, opts,
            )  # fmt: skip
        it += 1
    return ps_.od_cost, it, gap, sptt, st


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
