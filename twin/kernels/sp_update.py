"""Shortest-path trees brought up to date after link costs changed (reoptimisation).

An iterative assignment computes the tree of every origin again and again while link costs
move a little between two computations. Rather than rebuilding each tree from the origin
(Dijkstra), :func:`sp_update` starts from the origin's previous tree:

1. every node's label becomes the cost of its previous tree path at the new costs (a real
   path, so an upper bound of its distance; nodes whose tree path uses a link now closed, or
   nodes the old tree did not reach, get ∞);
2. a pass over the links finds those whose head label can be lowered through them
   (``d[u] + t(u, v) < d[v]``); a second pass over these few lowers the labels and queues
   the heads (the first pass has no branch and no store but one, so the compiler
   vectorises it: it is most of the work when costs moved a little);
3. a Dijkstra-ordered propagation from the queued nodes settles the labels that change.

When no link violates ``d[v] ≤ d[u] + t(u, v)`` any more and every label is the length of a
real path, the labels are the shortest distances (Bellman's conditions), so the result is
exact: the same distances as :func:`twin.kernels.traffic.sp_tree` (tested), at a cost that
grows with the part of the tree that changed rather than with the network. The previous
tree's node order (parents before children) drives step 1; the updated order keeps the nodes
whose label did not change where they were and puts those settled again after them, in the
order step 3 settled them.

A *tree store* keeps one tree per origin (``pred`` and ``order`` rows and the used length
of ``order``), valid for one network (same link positions, CSR and barred nodes). Distances
are not kept: step 1 recomputes all of them, so they live in a scratch row while a tree is
updated and used (the store is half as large and the scratch row stays in cache).

References
----------
Gallo, G., Pallottino, S. (1982). A new algorithm to find the shortest paths between all
pairs of nodes. *Discrete Applied Mathematics* 4(1), 23–35 (reoptimisation of a shortest-path
tree after a change of root or costs).

Ramalingam, G., Reps, T. (1996). An incremental algorithm for a generalization of the
shortest-path problem. *Journal of Algorithms* 21(2), 267–305.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from twin.kernels.heap import heap_pop, heap_push
from twin.kernels.traffic import load_tree, sp_tree
from twin.kernels.traffic_types import Demand, Network, TreeSource, TreeStore


def empty_trees(rows: int, n: int) -> TreeStore:
    """An empty tree store of ``rows`` trees over ``n`` nodes: ``pred``, ``order``, ``reached``
    and ``have`` (no tree yet). Distances are not stored: an update recomputes them all from
    the tree (:func:`sp_update`), in a scratch row."""
    return TreeStore(
        np.empty((rows, n), dtype=np.int32),
        np.empty((rows, n), dtype=np.int32),
        np.zeros(rows, dtype=np.int64),
        np.zeros(rows, dtype=np.bool_),
    )


def heap_size(n_links: int) -> int:
    """Length of the heap buffers of :func:`sp_update` over a CSR of ``n_links`` links: step 2
    may queue a node per link and step 3 another per link, before any is taken out."""
    return 2 * n_links + 1


@njit(cache=True)
def work_size(n_nodes: int, n_links: int) -> int:
    """Length of the integer work buffer of :func:`sp_update`: a flag and a settled-node slot
    per node, and a slot per link of the CSR (plus one) for step 2's candidate links."""
    return 2 * n_nodes + n_links + 1


@njit(cache=True)
def sp_update(
    indptr: np.ndarray,
    heads: np.ndarray,
    clink: np.ndarray,
    tails: np.ndarray,
    ctails: np.ndarray,
    cost: np.ndarray,
    ccost: np.ndarray,
    live: np.ndarray,
    barred: np.ndarray,
    origin: int,
    dist: np.ndarray,
    pred: np.ndarray,
    order: np.ndarray,
    used: int,
    hk: np.ndarray,
    hv: np.ndarray,
    work: np.ndarray,
) -> int:
    """Update the shortest-path tree of ``origin`` in place to the link costs ``cost``.

    Parameters
    ----------
    indptr, heads, clink, barred
        CSR network over the open links (see :mod:`twin.kernels.traffic`).
    tails : ndarray
        Tail node position of every link.
    ctails : ndarray
        The same in CSR order (``tails[clink]``: step 2 reads it in order).
    cost : ndarray
        New link costs [time unit], by link position.
    ccost : ndarray
        The same costs in CSR order (``cost[clink]``).
    live : ndarray of bool
        Whether each link is open (a previous tree link now closed cuts its subtree).
    origin : int
        Root node position (the same as the previous tree's).
    dist, pred : ndarray
        The previous tree (as filled by :func:`twin.kernels.traffic.sp_tree` or this
        function; unreached nodes have ``pred`` -1), overwritten with the updated one:
        distances [time unit] and reaching link of each node (-1: root or unreached).
    order : ndarray
        ``order[:used]``: nodes with every parent before its children, every reached node
        among them (it may keep nodes no longer reached). Updated: the nodes whose label
        changed move to the end, in the order they were settled.
    used : int
        Used length of ``order``.
    hk, hv : ndarray
        Heap buffers of length at least :func:`heap_size` ``(len(heads))``.
    work : ndarray of int64
        Work buffer of length at least :func:`work_size` ``(n_nodes, len(heads))``.

    Returns
    -------
    int
        The used length of ``order`` after the update.

    Notes
    -----
    The order stays valid: a node that is not settled again kept its parent, and that
    parent was not settled again either (and kept its place before the node), or was, in
    which case its children are settled again after it, even those whose label it lowers by
    less than their last digit (a child left in place would precede its parent and be cut off
    by the next update's first step).
    """
    n = dist.shape[0]
    m = heads.shape[0]
    if hk.shape[0] < 2 * m + 1 or hv.shape[0] < 2 * m + 1:
        raise ValueError("sp_update: heap buffers shorter than heap_size(len(heads))")
    if work.shape[0] < 2 * n + m + 1:
        raise ValueError("sp_update: work buffer shorter than work_size(n_nodes, len(heads))")
    # 1. labels along the previous tree at the new costs
    for i in range(n):
        dist[i] = np.inf
        work[i] = 0  # 1: settled again below
    dist[origin] = 0.0
    for i in range(1, used):
        v = order[i]
        e = pred[v]
        if e < 0:
            continue
        du = dist[tails[e]]
        if live[e] and du < np.inf:
            dist[v] = du + cost[e]
        else:
            pred[v] = -1
    # 2. links whose head can be lowered: candidates listed in work[2n:] (a link from an
    # unreached node never is one: inf + t < d is false), then heads lowered and queued, in
    # CSR order as a single pass would (a tail lowered meanwhile lowers its candidate heads
    # further; its other links are scanned in step 3, as it is queued)
    cand = 2 * n
    n_cand = 0
    for c in range(m):
        work[cand + n_cand] = c
        n_cand += dist[ctails[c]] + ccost[c] < dist[heads[c]]
    size = 0
    for i in range(n_cand):
        c = work[cand + i]
        u = ctails[c]
        if barred[u] and u != origin:
            continue
        nd = dist[u] + ccost[c]
        w = heads[c]
        if nd < dist[w]:
            dist[w] = nd
            pred[w] = clink[c]
            size = heap_push(hk, hv, size, nd, w)
    # 3. propagate in increasing label order (stale heap entries are skipped); the nodes
    # settled here are listed in work[n:] in that order
    n_set = 0
    while size > 0:
        d = hk[0]
        u = hv[0]
        size = heap_pop(hk, hv, size)
        if d > dist[u] or work[u] == 1:
            continue
        d = dist[u]
        work[u] = 1
        work[n + n_set] = u
        n_set += 1
        if barred[u] and u != origin:
            continue
        for c in range(indptr[u], indptr[u + 1]):
            nd = d + ccost[c]
            w = heads[c]
            e = clink[c]
            # a child of u in the tree is settled again too, even where rounding leaves its
            # label as it was: it must follow u in the order
            if nd < dist[w] or (pred[w] == e and work[w] == 0):
                dist[w] = nd
                pred[w] = e
                size = heap_push(hk, hv, size, nd, w)
    if n_set == 0:
        return used
    # 4. order: the nodes not settled again, as they were, then those settled again
    k = 0
    for i in range(used):
        v = order[i]
        if work[v] == 0:
            order[k] = v
            k += 1
    for i in range(n_set):
        order[k] = work[n + i]
        k += 1
    return k


@njit(cache=True)
def store_tree(
    net: Network,
    ctails: np.ndarray,
    cost: np.ndarray,
    ccost: np.ndarray,
    origin: int,
    row: int,
    trees: TreeStore,
    dist: np.ndarray,
    hk: np.ndarray,
    hv: np.ndarray,
    work: np.ndarray,
) -> None:
    """Tree of ``origin`` at link costs ``cost`` [time unit] (``ccost``, ``ctails``: the costs
    and tails in CSR order) into row ``row`` of a tree store, its distances into ``dist``:
    updated from the stored tree when ``trees.have[row]``, else built from scratch (and
    ``have[row]`` set). ``work`` is a buffer of :func:`work_size` integers."""
    if trees.have[row]:
        trees.reached[row] = sp_update(
            net.indptr, net.heads, net.clink, net.tails, ctails, cost, ccost, net.live,
            net.barred, origin, dist, trees.pred[row], trees.order[row], trees.reached[row],
            hk, hv, work,
        )  # fmt: skip
    else:
        trees.reached[row] = sp_tree(
            net.indptr, net.heads, net.clink, cost, net.barred, origin, dist, trees.pred[row],
            trees.order[row], hk, hv,
        )  # fmt: skip
        trees.have[row] = True


@njit(cache=True)
def take_row(k: int, trees: TreeStore, src: TreeSource) -> None:
    """Copy row ``k`` of a source tree store (the trees of a previous solve, left as they
    are) into the store if ``src.to_copy[k]``, the first time the row is used: the copy is
    spread over the parallel updates and the row is in cache for its own. ``src.to_copy``
    may be empty (nothing to copy)."""
    to_copy = src.to_copy
    if to_copy.shape[0] == 0 or not to_copy[k]:
        return
    trees.pred[k, :] = src.pred[k, :]
    r = trees.reached[k]
    trees.order[k, :r] = src.order[k, :r]
    to_copy[k] = False


@njit(cache=True, parallel=True)
def store_trees(
    net: Network,
    cost: np.ndarray,
    dem: Demand,
    rows: np.ndarray,
    trees: TreeStore,
    src: TreeSource,
    out: np.ndarray,
    n_blocks: int,
) -> None:
    """Bring the stored trees of origins ``dem.origins[rows]`` up to date with link costs
    ``cost`` [time unit] (built where the store has none) and write the shortest cost of each
    of their OD pairs to ``out`` (inf: no path); ``trees`` has a row per origin, whose rows
    flagged in ``src.to_copy`` are first taken from ``src`` (:func:`take_row`).

    Rows are dealt to ``n_blocks`` interleaved blocks run in parallel, each with its own
    scratch buffers (distances included), allocated once per block.
    """
    n = net.indptr.shape[0] - 1
    size = 2 * net.heads.shape[0] + 1  # heap_size
    ccost = cost[net.clink]
    ctails = net.tails[net.clink]
    origins, od_ptr, od_dest = dem.origins, dem.od_ptr, dem.od_dest
    n_rows = rows.shape[0]
    n_blocks = max(1, min(n_rows, n_blocks))
    for blk in prange(n_blocks):
        dist = np.empty(n)
        hk = np.empty(size)
        hv = np.empty(size, dtype=np.int64)
        work = np.empty(work_size(n, net.heads.shape[0]), dtype=np.int64)
        for i in range(blk, n_rows, n_blocks):
            k = rows[i]
            take_row(k, trees, src)
            store_tree(net, ctails, cost, ccost, origins[k], k, trees, dist, hk, hv, work)
            for j in range(od_ptr[k], od_ptr[k + 1]):
                out[j] = dist[od_dest[j]]


@njit(cache=True, parallel=True)
def store_aon(
    net: Network,
    cost: np.ndarray,
    dem: Demand,
    od_cost: np.ndarray,
    n_blocks: int,
    trees: TreeStore,
) -> np.ndarray:
    """All-or-nothing loading at link costs ``cost`` (as :func:`twin.kernels.traffic.aon`)
    from the tree store ``trees``: each origin's tree is brought up to date (or built) in
    place, then the origin's trips are loaded down it. Origins in ``n_blocks`` parallel
    blocks; returns link flows [veh/h] and fills ``od_cost`` [time unit] (inf: no path)."""
    n = net.indptr.shape[0] - 1
    m = cost.shape[0]
    origins = dem.origins
    n_orig = origins.shape[0]
    n_blocks = max(1, min(n_blocks, n_orig))
    size = 2 * net.heads.shape[0] + 1  # heap_size
    ccost = cost[net.clink]
    ctails = net.tails[net.clink]
    flows = np.zeros((n_blocks, m))
    for blk in prange(n_blocks):
        dist = np.empty(n)
        hk = np.empty(size)
        hv = np.empty(size, dtype=np.int64)
        work = np.empty(work_size(n, net.heads.shape[0]), dtype=np.int64)
        load = np.zeros(n)
        for k in range(blk, n_orig, n_blocks):
            store_tree(net, ctails, cost, ccost, origins[k], k, trees, dist, hk, hv, work)
            load_tree(
                k, dem, dist, trees.pred[k], trees.order[k], trees.reached[k], net.tails,
                od_cost, load, flows[blk],
            )  # fmt: skip
    return flows.sum(axis=0)
