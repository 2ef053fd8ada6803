"""Carrying paths over to a new solve: numba kernel against its numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.path_reuse import reuse_paths, reuse_paths_ref


@pytest.mark.parametrize("seed", range(6))
def test_reuse_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_links, n_od, n_p = 50, 30, 120
    lens = rng.integers(1, 8, n_p)
    ptr = np.zeros(n_p + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    links = rng.integers(0, n_links, ptr[-1]).astype(np.int64)
    links[rng.random(ptr[-1]) < 0.02] = -1  # links no longer in the network
    flow = rng.uniform(0, 10, n_p) * (rng.random(n_p) > 0.1)
    pair = rng.integers(0, n_od, n_p).astype(np.int64)
    pair[rng.random(n_p) < 0.05] = -1  # pairs no longer in the demand
    live = rng.random(n_links) > 0.1
    trips = rng.uniform(0, 40, n_od)
    got = reuse_paths(ptr, links, flow, pair, live, trips)
    ref = reuse_paths_ref(ptr, links, flow, pair, live, trips)
    for g, r in zip(got, ref, strict=True):
        assert g.shape == r.shape
        assert np.allclose(g, r, rtol=1e-12, atol=1e-12)
    od, _, olinks, oflow, pending = got
    assert (olinks >= 0).all() and live[olinks].all()  # nothing over closed or gone links
    carried = np.bincount(od, oflow, n_od)
    assert np.allclose(carried + pending, trips)  # every trip is carried or pending
    assert 0 < len(oflow) < n_p
