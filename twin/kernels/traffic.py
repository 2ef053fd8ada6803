"""Traffic assignment kernels: shortest-path trees, all-or-nothing loading, link costs.

Links cost ``t(v) = a + b·vᵖ`` [s or any time unit] at flow ``v`` [veh/h]. The BPR function
``t0·(1 + α·(v/c)^β)`` is the case ``a = t0``, ``b = t0·α/c^β``, ``p = β``; the Beckmann
integral of a link is ``a·v + b·v^(p+1)/(p+1)``.

The network is in CSR form over node positions: links leaving node ``i`` are
``indptr[i]:indptr[i + 1]``, ``heads`` is the head node and ``clink`` the link position of each
CSR entry. Nodes flagged in ``barred`` (zone centroids when through traffic is forbidden) are
reached but never expanded, except the origin of the tree.

Demand is grouped by origin: the OD pairs of origin ``origins[k]`` are
``od_ptr[k]:od_ptr[k + 1]`` in ``od_dest`` (destination node positions) and ``od_trips``.

Each kernel has a pure-numpy/pure-Python reference (``*_ref``) used as its test oracle.

References
----------
Dijkstra, E. W. (1959). A note on two problems in connexion with graphs. *Numerische
Mathematik* 1, 269–271.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from twin.kernels.heap import heap_pop, heap_push
from twin.kernels.traffic_types import Demand, Network


@njit(cache=True, inline="always")
def fpow(v: float, p: float) -> float:
    """``v**p``, by multiplication for the whole exponents of BPR costs (1 to 4, within an
    ulp or two of ``pow``), else ``pow``."""
    if p == 4.0:
        v2 = v * v
        return v2 * v2
    if p == 1.0:
        return v
    if p == 2.0:
        return v * v
    if p == 3.0:
        return v * v * v
    return v**p


@njit(cache=True)
def csr_order(tails: np.ndarray, live: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR form of the open links: ``indptr`` (``n + 1`` offsets by tail node) and the link
    positions grouped by tail node, in link order within a node (a counting sort).

    Reference: ``np.argsort(tails[live], kind="stable")`` over the open links' positions.
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(tails.shape[0]):
        if live[e]:
            indptr[tails[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    order = np.empty(indptr[n], dtype=np.int64)
    for e in range(tails.shape[0]):
        if live[e]:
            order[fill[tails[e]]] = e
            fill[tails[e]] += 1
    return indptr, order


@njit(cache=True)
def dot(u: np.ndarray, v: np.ndarray) -> float:
    """``Σ u·v`` of two 1-D float arrays, without BLAS.

    numpy's ``u @ v`` on vectors of more than a few thousand entries wakes OpenBLAS's
    threads, which then busy-wait on the other cores for a while and hold off the threads of
    the next parallel numba kernel (the slowdown measured is in docs/benchmarks.md).
    """
    s = 0.0
    for i in range(u.shape[0]):
        s += u[i] * v[i]
    return s


@njit(cache=True)
def link_cost(v: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Link travel times ``a + b·vᵖ`` at flows ``v``."""
    out = np.empty(v.shape[0])
    for i in range(v.shape[0]):
        out[i] = a[i] + (b[i] * fpow(v[i], p[i]) if b[i] != 0.0 else 0.0)
    return out


@njit(cache=True)
def link_cost_derivative(v: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Derivative ``b·p·v^(p-1)`` of the link times (0 at v = 0 when p < 1)."""
    out = np.zeros(v.shape[0])
    for i in range(v.shape[0]):
        if b[i] != 0.0 and p[i] != 0.0:
            if v[i] > 0.0:
                out[i] = b[i] * p[i] * fpow(v[i], p[i] - 1.0)
            elif p[i] == 1.0:
                out[i] = b[i]
    return out


@njit(cache=True)
def beckmann(v: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray) -> float:
    """Beckmann objective ``Σ a·v + b·v^(p+1)/(p+1)``."""
    s = 0.0
    for i in range(v.shape[0]):
        s += a[i] * v[i]
        if b[i] != 0.0:
            s += b[i] * v[i] ** (p[i] + 1.0) / (p[i] + 1.0)
    return s


def link_cost_ref(v: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Reference of :func:`link_cost`."""
    return a + b * np.power(v, p)


def beckmann_ref(v: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray) -> float:
    """Reference of :func:`beckmann` (numerical quadrature, Simpson on 2001 points)."""
    s = np.linspace(0.0, 1.0, 2001)
    vals = link_cost_ref(v[None, :] * s[:, None], a, b, p) * v[None, :]
    h = s[1] - s[0]
    w = np.ones(len(s))
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return float((w[:, None] * vals).sum() * h / 3.0)


@njit(cache=True)
def sp_tree(
    indptr: np.ndarray,
    heads: np.ndarray,
    clink: np.ndarray,
    cost: np.ndarray,
    barred: np.ndarray,
    origin: int,
    dist: np.ndarray,
    pred: np.ndarray,
    order: np.ndarray,
    hk: np.ndarray,
    hv: np.ndarray,
) -> int:
    """Shortest-path tree from ``origin`` (Dijkstra with a 4-ary heap, lazy deletion:
    :mod:`twin.kernels.heap`).

    Fills ``dist`` (inf: unreached), ``pred`` (link position reaching each node, -1 for the
    origin and unreached nodes) and ``order`` (nodes in the order they were settled).
    ``hk``/``hv`` are heap buffers of length ``n_links + 1``. Returns the number of settled
    nodes.
    """
    n = dist.shape[0]
    for i in range(n):
        dist[i] = np.inf
        pred[i] = -1
    dist[origin] = 0.0
    size = heap_push(hk, hv, 0, 0.0, origin)
    settled = 0
    done = np.zeros(n, dtype=np.bool_)
    while size > 0:
        d = hk[0]
        u = hv[0]
        size = heap_pop(hk, hv, size)
        if done[u]:
            continue
        done[u] = True
        order[settled] = u
        settled += 1
        if barred[u] and u != origin:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            w = heads[e]
            nd = d + cost[clink[e]]
            if nd < dist[w]:
                dist[w] = nd
                pred[w] = clink[e]
                size = heap_push(hk, hv, size, nd, w)
    return settled


@njit(cache=True)
def load_tree(
    k: int,
    dem: Demand,
    dist: np.ndarray,
    pred: np.ndarray,
    order: np.ndarray,
    used: int,
    tails: np.ndarray,
    od_cost: np.ndarray,
    load: np.ndarray,
    flows: np.ndarray,
) -> None:
    """Push the trips of origin ``k``'s pairs [veh/h] down its shortest-path tree (``dist``,
    ``pred``, ``order[:used]`` with parents first) onto the link flows ``flows``; fills
    ``od_cost`` [time unit] (inf: no path). ``load`` is a zeroed node buffer, left zeroed."""
    od_ptr, od_dest, od_trips = dem.od_ptr, dem.od_dest, dem.od_trips
    for j in range(od_ptr[k], od_ptr[k + 1]):
        dj = od_dest[j]
        od_cost[j] = dist[dj]
        if dist[dj] < np.inf:
            load[dj] += od_trips[j]
    for s in range(used - 1, 0, -1):
        u = order[s]
        if load[u] != 0.0:
            e = pred[u]
            flows[e] += load[u]
            load[tails[e]] += load[u]
            load[u] = 0.0
    load[dem.origins[k]] = 0.0


@njit(cache=True, parallel=True)
def aon(
    net: Network, cost: np.ndarray, dem: Demand, od_cost: np.ndarray, n_blocks: int
) -> np.ndarray:
    """All-or-nothing loading of the demand on shortest paths at link costs ``cost``.

    One shortest-path tree per origin, origins in parallel (one flow buffer per block of
    ``n_blocks`` blocks of origins). Fills ``od_cost`` with each pair's shortest cost [time
    unit]; unreachable pairs get inf and load nothing.

    Returns
    -------
    ndarray, shape (n_links,)
        Link flows [veh/h].
    """
    indptr, heads, clink, tails, barred = net.indptr, net.heads, net.clink, net.tails, net.barred
    origins = dem.origins
    n = indptr.shape[0] - 1
    m = cost.shape[0]
    n_orig = origins.shape[0]
    n_blocks = max(1, min(n_blocks, n_orig))
    flows = np.zeros((n_blocks, m))
    for blk in prange(n_blocks):
        dist = np.empty(n)
        pred = np.empty(n, dtype=np.int64)
        order = np.empty(n, dtype=np.int64)
        load = np.zeros(n)
        hk = np.empty(heads.shape[0] + 1)
        hv = np.empty(heads.shape[0] + 1, dtype=np.int64)
        for k in range(blk, n_orig, n_blocks):
            settled = sp_tree(
                indptr, heads, clink, cost, barred, origins[k], dist, pred, order, hk, hv
            )
            load_tree(k, dem, dist, pred, order, settled, tails, od_cost, load, flows[blk])
    return flows.sum(axis=0)


def sp_tree_ref(
    tails: np.ndarray, heads: np.ndarray, cost: np.ndarray, barred: np.ndarray, origin: int, n: int
) -> np.ndarray:
    """Reference shortest distances from ``origin`` (O(n²) Dijkstra on dense arrays, no heap)."""
    dist = np.full(n, np.inf)
    dist[origin] = 0.0
    done = np.zeros(n, dtype=bool)
    for _ in range(n):
        cand = np.where(done, np.inf, dist)
        u = int(np.argmin(cand))
        if not np.isfinite(cand[u]):
            break
        done[u] = True
        if barred[u] and u != origin:
            continue
        out = tails == u
        np.minimum.at(dist, heads[out], dist[u] + cost[out])
    return dist


def aon_ref(
    tails: np.ndarray,
    heads: np.ndarray,
    cost: np.ndarray,
    barred: np.ndarray,
    n: int,
    od: list[tuple[int, int, float]],
) -> tuple[np.ndarray, np.ndarray]:
    """Reference AON: each OD pair walks its own predecessor chain (no tree accumulation).

    Returns link flows and the cost of each OD pair (inf: unreachable).
    """
    flows = np.zeros(len(cost))
    costs = np.full(len(od), np.inf)
    for i, (o, d, trips) in enumerate(od):
        dist = sp_tree_ref(tails, heads, cost, barred, o, n)
        costs[i] = dist[d]
        if not np.isfinite(dist[d]):
            continue
        node = d
        while node != o:  # a tight incoming link from a settled, expandable node
            cand = np.flatnonzero(
                (heads == node)
                & np.isclose(dist[tails] + cost, dist[node], rtol=1e-12, atol=1e-12)
                & (~barred[tails] | (tails == o))
            )
            e = int(cand[0])
            flows[e] += trips
            node = int(tails[e])
    return flows, costs


@njit(cache=True)
def line_search(
    x: np.ndarray, d: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray, tol: float = 1e-12
) -> float:
    """Step ``λ ∈ [0, 1]`` minimising the Beckmann objective along ``x + λ·(d − x)``.

    The directional derivative ``g(λ) = Σ t(x + λ·(d − x))·(d − x)`` is non-decreasing;
    its root is found by bisection to ``tol``.
    """
    m = x.shape[0]
    dirn = d - x
    y = np.empty(m)

    def g(lam: float) -> float:
        for i in range(m):
            y[i] = x[i] + lam * dirn[i]
            if y[i] < 0.0:
                y[i] = 0.0
        t = link_cost(y, a, b, p)
        s = 0.0
        for i in range(m):
            s += t[i] * dirn[i]
        return s

    if g(1.0) <= 0.0:
        return 1.0
    if g(0.0) >= 0.0:
        return 0.0
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if g(mid) > 0.0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def line_search_ref(
    x: np.ndarray, d: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray
) -> float:
    """Reference of :func:`line_search`: golden-section search on the Beckmann objective."""

    def z(lam: float) -> float:
        v = x + lam * (d - x)
        return float(np.sum(a * v + b * v ** (p + 1) / (p + 1)))

    inv_phi = (5**0.5 - 1) / 2
    lo, hi = 0.0, 1.0
    c, e = hi - inv_phi * (hi - lo), lo + inv_phi * (hi - lo)
    while hi - lo > 1e-10:
        if z(c) < z(e):
            hi = e
        else:
            lo = c
        c, e = hi - inv_phi * (hi - lo), lo + inv_phi * (hi - lo)
    return 0.5 * (lo + hi)
