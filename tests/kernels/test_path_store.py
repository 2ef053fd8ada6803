"""The path store: carrying paths over to a new solve and listing them, against references."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.path_store import (
    compact_paths,
    compact_paths_ref,
    reuse_closed,
    reuse_paths,
    reuse_paths_ref,
)
from twin.kernels.traffic_types import PathStore


def _store(rng: np.random.Generator, n_od: int, n_p: int, n_links: int) -> PathStore:
    """A random linked store with spare capacity and a gap in the link buffer."""
    cap = n_p + 7
    head = np.full(n_od, -1, dtype=np.int64)
    nxt = np.full(cap, -9, dtype=np.int64)
    ps = np.full(cap, -9, dtype=np.int64)
    pn = np.full(cap, -9, dtype=np.int64)
    pf = np.full(cap, np.nan)
    pl = np.full(8 * n_p + 50, -9, dtype=np.int64)
    w = 3  # the buffer need not start at 0
    for q in range(n_p):
        j = rng.integers(0, n_od)
        length = rng.integers(1, 8)
        ps[q], pn[q] = w, length
        pl[w : w + length] = rng.integers(0, n_links, length)
        w += length + rng.integers(0, 2)
        pf[q] = rng.uniform(0, 10) * (rng.random() > 0.1)
        nxt[q] = head[j]
        head[j] = q
    return PathStore(head, nxt, ps, pn, pf, pl, n_p, w)


@pytest.mark.parametrize("seed", range(6))
def test_compact_matches_reference(seed: int) -> None:
    store = _store(np.random.default_rng(seed), 30, 120, 50)
    for g, r in zip(compact_paths(store), compact_paths_ref(*store[:6]), strict=True):
        assert np.array_equal(g, r)


@pytest.mark.parametrize("seed", range(6))
def test_reuse_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_links, n_od, n_p = 50, 30, 120
    store = _store(rng, n_od, n_p, n_links)
    n_new_links, n_new_od = 55, 34
    link_map = rng.permutation(n_new_links)[:n_links].astype(np.int64)
    link_map[rng.random(n_links) < 0.03] = -1  # links no longer in the network
    pair_map = rng.permutation(n_new_od)[:n_od].astype(np.int64)
    pair_map[rng.random(n_od) < 0.1] = -1  # pairs no longer in the demand
    live = rng.random(n_new_links) > 0.1
    trips = rng.uniform(0, 40, n_new_od)
    new, pending, x = reuse_paths(store, pair_map, link_map, live, trips, 100)
    n_paths, n_used = new.n_paths, new.n_links
    assert len(new.pl) >= n_used + 100  # spare room for paths added later
    got = compact_paths(new)
    ref = reuse_paths_ref(*compact_paths(store), pair_map, link_map, live, trips)
    assert np.allclose(pending, ref[4], rtol=1e-12, atol=1e-12)
    assert np.allclose(x, ref[5], rtol=1e-12, atol=1e-9)  # link flows of the kept paths
    assert len(got[3]) == n_paths == len(ref[3]) and got[1][-1] == n_used

    def rows(od, ptr, links, flow):
        return sorted(
            (int(od[i]), tuple(links[ptr[i] : ptr[i + 1]]), round(float(flow[i]), 9))
            for i in range(len(flow))
        )

    assert rows(*got) == rows(*ref[:4])  # the same paths, pairs and flows
    od, _, links, flow = got
    assert (links >= 0).all() and live[links].all()  # nothing over closed or gone links
    carried = np.bincount(od, flow, n_new_od)
    known = np.isin(np.arange(n_new_od), pair_map)
    assert np.allclose((carried + pending)[known], trips[known])  # carried or pending
    assert np.allclose(pending[~known], trips[~known])  # new pairs: all pending
    assert 0 < n_paths < n_p
    # positions unchanged (empty link map): the same as the identity map
    same = reuse_paths(store, pair_map, np.zeros(0, np.int64), live[:n_links], trips, 0)
    ident = reuse_paths(store, pair_map, np.arange(n_links), live[:n_links], trips, 0)
    assert rows(*compact_paths(same[0])) == rows(*compact_paths(ident[0]))
    assert np.array_equal(same[1], ident[1])


def _pairs_paths(store: PathStore, n_od: int) -> list[list[tuple[tuple[int, ...], float]]]:
    head, nxt, ps, pn, pf, pl = store[:6]
    out = []
    for j in range(n_od):
        pair, q = [], head[j]
        while q >= 0:
            pair.append((tuple(pl[ps[q] : ps[q] + pn[q]].tolist()), float(pf[q])))
            q = nxt[q]
        out.append(pair)  # in list order
    return out


@pytest.mark.parametrize("seed", range(6))
def test_reuse_closed_matches_reuse_paths(seed: int) -> None:
    """Closing a few links of the same network and demand: the copied store holds the paths,
    pending trips and flows that rebuilding it path by path gives."""
    rng = np.random.default_rng(seed)
    n_od, n_links = 30, 50
    store = _store(rng, n_od, 120, n_links)
    p_od, ptr, links, flow = compact_paths(store)
    trips = np.bincount(p_od, flow, n_od)  # the demand the paths carry
    trips[trips == 0] = 4.0  # pairs with no path (disconnected before): all pending
    x = np.bincount(links, np.repeat(flow, np.diff(ptr)), n_links)
    shut = rng.choice(n_links, 1 + seed % 3, replace=False)
    live = np.ones(n_links, dtype=bool)
    live[shut] = False
    n_paths = 120
    n_used = int(max(store[2][:n_paths] + store[3][:n_paths]))
    store = store._replace(n_paths=n_paths, n_links=n_used)
    got = reuse_closed(store, shut, trips, x, 10)
    assert got is not None
    want = reuse_paths(store, np.arange(n_od), np.zeros(0, dtype=np.int64), live, trips, 10)
    for a, b in zip(_pairs_paths(got[0], n_od), _pairs_paths(want[0], n_od), strict=True):
        assert [p[0] for p in a] == [p[0] for p in b]
        assert np.allclose([p[1] for p in a], [p[1] for p in b], rtol=1e-12)
    assert np.allclose(got[1], want[1], atol=1e-9)  # pending
    assert np.allclose(got[2], want[2], atol=1e-9)  # link flows
    assert (got[1] > 0).any()  # some paths were cut
    assert got[0].n_paths == n_paths and got[0].n_links == n_used  # places kept: nothing moved
    assert got[3] == want[0].n_paths  # the paths kept
    # paths out of buffer order: not this fast case
    head, nxt, ps, pn, pf, pl = (a.copy() for a in store[:6])
    ps[[3, 4]], pn[[3, 4]] = ps[[4, 3]], pn[[4, 3]]
    swapped = PathStore(head, nxt, ps, pn, pf, pl, n_paths, n_used)
    assert reuse_closed(swapped, shut, trips, x, 10) is None


@pytest.mark.parametrize("k", [1, 3])
def test_hits_lists_the_closed_links_places(k: int) -> None:
    """Every place of the closed links in the buffer, in order, also when a block holds more
    hits than its row (scanned again); the used part of the buffer is copied on the way, the
    rest of the copy left as it was."""
    from twin.kernels.path_store import _hits

    rng = np.random.default_rng(k)
    pl = rng.integers(0, 40, 20_000).astype(np.int32)
    shut = rng.choice(40, k, replace=False).astype(np.int32)
    want = np.flatnonzero(np.isin(pl[:19_000], shut))
    for n_blocks in (1, 5):
        dst = np.full(20_500, -7, dtype=np.int32)
        assert np.array_equal(_hits(pl, 19_000, shut, 40, n_blocks, dst), want)
        assert np.array_equal(dst[:19_000], pl[:19_000]) and (dst[19_000:] == -7).all()
    dense = np.full(3_000, shut[0], dtype=np.int32)  # every entry a hit: rows overflow
    dst = np.empty(3_000, dtype=np.int32)
    assert np.array_equal(_hits(dense, 3_000, shut, 40, 3, dst), np.arange(3_000))
    assert (dst == shut[0]).all()
