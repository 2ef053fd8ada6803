"""The path store of path-based assignment: one linked list of paths per OD pair.

Path ``q`` starts at ``ps[q]`` in the link buffer ``pl`` and has ``pn[q]`` links (link
positions, from the destination back to the origin; ``int32`` in the stores built here, half
the memory of the largest array), carries ``pf[q]`` [veh/h]; the paths of
pair ``j`` are ``head[j]``, ``nxt[head[j]]``, … until -1. Arrays may have spare capacity
beyond the ``n_paths`` paths and ``n_links`` links in use.

:func:`reuse_paths` carries a previous solve's store over to a new network and demand (warm
start) and :func:`compact_paths` lists a store path by path ("compact" form: pair, offsets,
links, flows). Each has a pure-numpy reference, used as its test oracle. :func:`reuse_closed`
is the fast case of :func:`reuse_paths` when only a few links closed (same links, pairs and
demand): the store is copied as it is and the paths over the closed links, found by one
vectorised pass over the link buffer, are unlinked (tested against :func:`reuse_paths`).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from twin.kernels.traffic_types import PathStore


def reuse_paths(
    st: PathStore,
    pair_map: np.ndarray,
    link_map: np.ndarray,
    live: np.ndarray,
    od_trips: np.ndarray,
    spare_links: int,
) -> tuple[PathStore, np.ndarray, np.ndarray]:
    """A new store holding the previous paths that still serve, scaled to the new demand.

    A path is kept when its pair is still in the demand (``pair_map[j] ≥ 0``), it carries
    flow and every link is still in the network (``link_map[e] ≥ 0``) and open. The kept
    paths of a pair are scaled so that the pair's old total (of all its paths, kept or not)
    maps onto its new trips; what they do not carry is *pending*, to be loaded on the
    current shortest paths.

    Parameters
    ----------
    st : PathStore
        Previous store (read only).
    pair_map : ndarray of int64
        New pair of each previous pair (-1: gone); no two previous pairs map to the same new
        pair.
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
        The new store (room for twice the kept paths), ``pending`` [veh/h] per new pair and
        ``x``, the link flows of the kept paths [veh/h] by new link position (summed in the
        same pass: a warm start needs them and the store is large).
    """
    head = st.head
    n_old, n_od = head.shape[0], od_trips.shape[0]
    n_blocks = max(1, min(n_old, 4 * numba.get_num_threads()))
    kp = np.zeros(n_old, dtype=np.int64)  # kept paths of each previous pair
    kl = np.zeros(n_old, dtype=np.int64)  # and their links
    keep = np.zeros(st.ps.shape[0], dtype=np.bool_)
    factor = np.zeros(n_old)
    _kept(st, pair_map, link_map, live, od_trips, n_blocks, kp, kl, keep, factor)
    po = np.zeros(n_old + 1, dtype=np.int64)
    lo = np.zeros(n_old + 1, dtype=np.int64)
    np.cumsum(kp, out=po[1:])
    np.cumsum(kl, out=lo[1:])
    n_paths, n_links = int(po[-1]), int(lo[-1])
    # the buffers come from numpy (large blocks on huge pages): numba's own allocation of a
    # buffer this size can cost more in page faults than filling it
    cap = max(16, 2 * n_paths + n_od)
    h2 = np.full(n_od, -1, dtype=np.int64)
    nxt2 = np.empty(cap, dtype=np.int64)
    ps2 = np.empty(cap, dtype=np.int64)
    pn2 = np.empty(cap, dtype=np.int64)
    pf2 = np.empty(cap)
    pl2 = np.empty(max(64, n_links + spare_links), dtype=np.int32)
    pending = od_trips.astype(np.float64)  # a copy; pairs not in the previous demand: all
    part = np.zeros((n_blocks, live.shape[0]))
    new = PathStore(h2, nxt2, ps2, pn2, pf2, pl2, n_paths, n_links)
    _fill(st, pair_map, link_map, od_trips, keep, factor, po, lo, n_blocks, new, pending, part)
    return new, pending, part.sum(axis=0)


@njit(cache=True, parallel=True)
def _kept(
    st: PathStore,
    pair_map: np.ndarray,
    link_map: np.ndarray,
    live: np.ndarray,
    od_trips: np.ndarray,
    n_blocks: int,
    kp: np.ndarray,
    kl: np.ndarray,
    keep: np.ndarray,
    factor: np.ndarray,
) -> None:
    """Which previous paths are kept (``keep``), how many paths and links each previous pair
    keeps (``kp``, ``kl``) and the scale of its flows (``factor``); pairs in parallel
    blocks."""
    head, nxt, ps, pn, pf, pl = st.head, st.nxt, st.ps, st.pn, st.pf, st.pl
    n_old = head.shape[0]
    same = link_map.shape[0] == 0
    for blk in prange(n_blocks):
        for j in range(blk * n_old // n_blocks, (blk + 1) * n_old // n_blocks):
            jn = pair_map[j]
            if jn < 0:
                continue
            total = 0.0
            q = head[j]
            while q >= 0:
                total += pf[q]
                q = nxt[q]
            fac = od_trips[jn] / total if total > 0.0 else 0.0
            factor[j] = fac
            q = head[j]
            while q >= 0:
                ok = pf[q] * fac > 0.0
                if ok:
                    for i in range(ps[q], ps[q] + pn[q]):
                        e = pl[i] if same else link_map[pl[i]]
                        if e < 0 or not live[e]:
                            ok = False
                            break
                keep[q] = ok
                if ok:
                    kp[j] += 1
                    kl[j] += pn[q]
                q = nxt[q]


@njit(cache=True, parallel=True)
def _fill(
    st: PathStore,
    pair_map: np.ndarray,
    link_map: np.ndarray,
    od_trips: np.ndarray,
    keep: np.ndarray,
    factor: np.ndarray,
    po: np.ndarray,
    lo: np.ndarray,
    n_blocks: int,
    new: PathStore,
    pending: np.ndarray,
    part: np.ndarray,
) -> None:
    """Copy the kept paths of each previous pair to their places (paths from ``po[j]``,
    links from ``lo[j]``), scaled, set the pending trips of its new pair and sum link flows
    into ``part[block]``; pairs in parallel blocks (a previous pair maps to its own new
    pair, so no two blocks write the same pair). ``new`` is the new store's arrays."""
    head, nxt, ps, pn, pf, pl = st.head, st.nxt, st.ps, st.pn, st.pf, st.pl
    h2, nxt2, ps2, pn2, pf2, pl2 = new.head, new.nxt, new.ps, new.pn, new.pf, new.pl
    n_old = head.shape[0]
    same = link_map.shape[0] == 0
    for blk in prange(n_blocks):
        acc = part[blk]
        for j in range(blk * n_old // n_blocks, (blk + 1) * n_old // n_blocks):
            jn = pair_map[j]
            if jn < 0:
                continue
            c = po[j]
            w = lo[j]
            carried = 0.0
            q = head[j]
            while q >= 0:
                if keep[q]:
                    f = pf[q] * factor[j]
                    ps2[c] = w
                    pn2[c] = pn[q]
                    pf2[c] = f
                    nxt2[c] = h2[jn]
                    h2[jn] = c
                    for i in range(ps[q], ps[q] + pn[q]):
                        e = pl[i] if same else link_map[pl[i]]
                        pl2[w] = e
                        acc[e] += f
                        w += 1
                    c += 1
                    carried += f
                q = nxt[q]
            rest = od_trips[jn] - carried
            pending[jn] = rest if rest > 1e-12 * max(od_trips[jn], 1.0) else 0.0


@njit(cache=True)
def compact_paths(st: PathStore) -> tuple:
    """The store path by path, pairs in order: ``od`` (pair of each path), ``ptr``
    (offsets), ``links``, ``flow`` [veh/h]."""
    head, nxt, ps, pn, pf, pl = st.head, st.nxt, st.ps, st.pn, st.pf, st.pl
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


def reuse_closed(
    st: PathStore,
    shut: np.ndarray,
    od_trips: np.ndarray,
    x: np.ndarray,
    spare_links: int,
) -> tuple[PathStore, np.ndarray, np.ndarray, int] | None:
    """:func:`reuse_paths` for the same links, pairs and demand with links ``shut`` closed.

    The store is copied as it is (paths keep their places, and the link buffer its unused
    stretches) rather than rebuilt path by path; the paths over a closed link, found by one
    pass over the link buffer comparing each entry with the few closed links, and those with
    no flow are unlinked, and their trips are pending. Each pair's kept paths are listed in
    the order :func:`reuse_paths` gives them (reversed).

    Parameters
    ----------
    st : PathStore
        Previous store (read only); its paths must lie in the link buffer in the order of
        their numbers (as :func:`reuse_paths` and the solver leave them), else None.
    shut : ndarray of int64
        Link positions now closed that were open (a few: the pass compares with each).
    od_trips : ndarray
        Trips of each pair [veh/h], those the previous paths carry.
    x : ndarray
        Link flows of the previous paths [veh/h] (the previous result's flows).
    spare_links : int
        Extra capacity of the new link buffer.

    Returns
    -------
    tuple or None
        As :func:`reuse_paths`: the new store (``n_paths`` and ``n_links``: the buffers' used
        lengths, unlinked paths included), ``pending`` and ``x``, and the number of paths
        kept; None when the paths are not in buffer order.
    """
    ps, pl, n_paths, n_links = st.ps, st.pl, st.n_paths, st.n_links
    n_od = od_trips.shape[0]
    if n_paths > 1 and (np.diff(ps[:n_paths]) < 0).any():
        return None
    pl2 = np.empty(max(64, n_links + spare_links), dtype=pl.dtype)
    hits = _hits(pl, n_links, shut.astype(pl.dtype), x.shape[0], 4 * numba.get_num_threads(), pl2)
    h2, nxt2, ps2, pn2, pf2, pending, x2, kept = _relink(
        st, pl2, max(16, 2 * n_paths + n_od), hits, od_trips, x.astype(np.float64)
    )
    return PathStore(h2, nxt2, ps2, pn2, pf2, pl2, n_paths, n_links), pending, x2, kept


@njit(cache=True)
def _relink(
    st: PathStore,
    pl: np.ndarray,
    cap: int,
    hits: np.ndarray,
    od_trips: np.ndarray,
    x: np.ndarray,
) -> tuple:
    """Copies of the path arrays of ``st`` (``cap`` long), with the paths over the places
    ``hits`` of the link buffer ``pl`` (the copy of ``st.pl``; paths in buffer order) and
    those with no flow unlinked (:func:`_unlink`); returns them, the pending trips, ``x``
    less the unlinked paths' flows (in place) and the number of paths kept."""
    head, nxt, ps, pn, pf, n_paths = st.head, st.nxt, st.ps, st.pn, st.pf, st.n_paths
    cut = np.zeros(n_paths, dtype=np.bool_)
    for i in range(hits.shape[0]):  # the path holding each place: the last starting at or before
        lo, hi = 0, n_paths
        while lo < hi:
            mid = (lo + hi) >> 1
            if ps[mid] <= hits[i]:
                lo = mid + 1
            else:
                hi = mid
        q = lo - 1
        if q >= 0 and hits[i] < ps[q] + pn[q]:
            cut[q] = True
    h2 = head.copy()
    nxt2 = np.empty(cap, dtype=nxt.dtype)
    ps2 = np.empty(cap, dtype=ps.dtype)
    pn2 = np.empty(cap, dtype=pn.dtype)
    pf2 = np.empty(cap, dtype=pf.dtype)
    nxt2[:n_paths] = nxt[:n_paths]
    ps2[:n_paths] = ps[:n_paths]
    pn2[:n_paths] = pn[:n_paths]
    pf2[:n_paths] = pf[:n_paths]
    pending = np.zeros(od_trips.shape[0])
    kept = _unlink(h2, nxt2, ps2, pn2, pf2, pl, cut, od_trips, pending, x)
    return h2, nxt2, ps2, pn2, pf2, pending, x, kept


@njit(cache=True, parallel=True)
def _hits(
    pl: np.ndarray, n_links: int, shut: np.ndarray, m: int, n_blocks: int, dst: np.ndarray
) -> np.ndarray:
    """Positions ``i < n_links`` of the link buffer holding one of the links ``shut`` (of
    ``m`` links), in order, the buffer copied into ``dst[:n_links]`` on the way: blocks of
    the buffer copied and then scanned (from cache) in parallel (one comparison per entry for
    one closed link, a flag look-up for more), each listing its hits in its own row, sized
    for one hit in 64 entries (a block with more is scanned again into a row of its size:
    rare, the closed links being a few of thousands)."""
    n_blocks = max(1, n_blocks)
    k = shut.shape[0]
    flag = np.zeros(m, dtype=np.bool_)
    for s in range(k):
        flag[shut[s]] = True
    room = n_links // n_blocks // 64 + 16
    rows = np.empty((n_blocks, room), dtype=np.int64)
    count = np.zeros(n_blocks, dtype=np.int64)
    for blk in prange(n_blocks):
        lo, hi = blk * n_links // n_blocks, (blk + 1) * n_links // n_blocks
        c = 0
        row = rows[blk]
        dst[lo:hi] = pl[lo:hi]
        if k == 1:
            s0 = shut[0]
            for i in range(lo, hi):
                if dst[i] == s0:
                    if c < room:
                        row[c] = i
                    c += 1
        else:
            for i in range(lo, hi):
                if flag[dst[i]]:
                    if c < room:
                        row[c] = i
                    c += 1
        count[blk] = c
    out = np.empty(count.sum(), dtype=np.int64)
    w = 0
    for blk in range(n_blocks):
        c = count[blk]
        if c <= room:
            out[w : w + c] = rows[blk, :c]
        else:  # more hits than room: this block again
            lo, hi = blk * n_links // n_blocks, (blk + 1) * n_links // n_blocks
            v = w
            for i in range(lo, hi):
                if flag[pl[i]]:
                    out[v] = i
                    v += 1
        w += c
    return out


@njit(cache=True)
def _unlink(
    head: np.ndarray,
    nxt: np.ndarray,
    ps: np.ndarray,
    pn: np.ndarray,
    pf: np.ndarray,
    pl: np.ndarray,
    cut: np.ndarray,
    od_trips: np.ndarray,
    pending: np.ndarray,
    x: np.ndarray,
) -> int:
    """Unlink the paths flagged in ``cut`` and those with no flow, in place; their pairs'
    trips not carried any more are ``pending`` and their flows leave ``x``. Returns the number
    of paths left."""
    kept = 0
    for j in range(head.shape[0]):
        carried = 0.0
        dropped = False
        q = head[j]
        head[j] = -1
        while q >= 0:  # the kept paths relinked in reverse order, as reuse_paths lists them
            following = nxt[q]
            if cut[q] or pf[q] <= 0.0:
                dropped = True
                if pf[q] > 0.0:
                    for i in range(ps[q], ps[q] + pn[q]):
                        e = pl[i]
                        x[e] = max(x[e] - pf[q], 0.0)
            else:
                carried += pf[q]
                kept += 1
                nxt[q] = head[j]
                head[j] = q
            q = following
        if dropped or head[j] < 0:
            rest = od_trips[j] - carried
            pending[j] = rest if rest > 1e-12 * max(od_trips[j], 1.0) else 0.0
    return kept
