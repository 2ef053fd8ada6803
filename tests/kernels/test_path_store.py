"""The path store: carrying paths over to a new solve and listing them, against references."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.path_store import (
    compact_paths,
    compact_paths_ref,
    reuse_paths,
    reuse_paths_ref,
)


def _store(rng: np.random.Generator, n_od: int, n_p: int, n_links: int):
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
    return head, nxt, ps, pn, pf, pl


@pytest.mark.parametrize("seed", range(6))
def test_compact_matches_reference(seed: int) -> None:
    store = _store(np.random.default_rng(seed), 30, 120, 50)
    for g, r in zip(compact_paths(*store), compact_paths_ref(*store), strict=True):
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
    *new, pending, x = reuse_paths(*store, pair_map, link_map, live, trips, 100)
    n_paths, n_used = new[6], new[7]
    assert len(new[5]) >= n_used + 100  # spare room for paths added later
    got = compact_paths(*new[:6])
    ref = reuse_paths_ref(*compact_paths(*store), pair_map, link_map, live, trips)
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
    same = reuse_paths(*store, pair_map, np.zeros(0, np.int64), live[:n_links], trips, 0)
    ident = reuse_paths(*store, pair_map, np.arange(n_links), live[:n_links], trips, 0)
    assert rows(*compact_paths(*same[:6])) == rows(*compact_paths(*ident[:6]))
    assert np.array_equal(same[8], ident[8])
