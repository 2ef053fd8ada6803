"""Pending trips loaded on tree paths in parallel, against the plain-Python reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.test_gp_pairs import _converging, _paths_of, trees_at
from twin.kernels.path_loads import load_pending, load_pending_ref
from twin.kernels.traffic import link_cost
from twin.kernels.traffic_types import PathStore


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_blocks", [1, 3])
def test_load_pending_matches_reference(seed: int, n_blocks: int) -> None:
    net, dem, x, store, _ = _converging(seed)
    n_od = len(dem.od_trips)
    t = link_cost(x, net.a, net.b, net.p)
    t_pred, spc = trees_at(net, dem, t)
    rng = np.random.default_rng(seed)
    pending = np.where(rng.random(n_od) < 0.6, rng.uniform(1, 20, n_od), 0.0)
    spc[rng.random(n_od) < 0.1] = np.inf  # no path: not loaded
    dearer = rng.random(n_od) < 0.3  # a stored path is as cheap: loaded there, no new path
    spc[dearer] += 1e3
    cand = np.arange(0, len(dem.origins), 2)
    store = PathStore(*(s.copy() if isinstance(s, np.ndarray) else s for s in store))
    cut = (pending > 0) & (rng.random(n_od) < 0.5)
    store[0][cut] = -1  # pairs whose paths a closure cut: the tree path is new
    paths = _paths_of(store, n_od)
    want, dx, c_ref = load_pending_ref(
        cand, dem.origins, dem.od_ptr, dem.od_dest, dem.od_trips, net.tails, t_pred, spc,
        pending, [[(p[0], p[1]) for p in pair] for pair in paths], t,
    )  # fmt: skip
    copy = PathStore(*(s.copy() if isinstance(s, np.ndarray) else s for s in store))
    n_paths, n_links = copy.n_paths, copy.n_links
    xk, c_load = x.copy(), np.zeros(n_od)
    new = load_pending(
        cand, net.kernel(), dem.kernel(), t_pred, spc, pending, copy, t, xk, c_load, n_blocks
    )
    n_paths2, n_links2 = new.n_paths, new.n_links
    got = _paths_of(new, n_od)
    added = 0
    for j in range(n_od):
        assert [p[0] for p in got[j]] == [list(p[0]) for p in want[j]]
        assert [p[1] for p in got[j]] == pytest.approx([p[1] for p in want[j]], abs=1e-12)
        added += len(got[j]) - len(paths[j])
    assert n_paths2 - n_paths == added > 0  # new tree paths were added...
    assert any(dearer[j] and pending[j] > 0 and np.isfinite(spc[j]) for j in c_ref)  # ...not all
    assert np.allclose(xk - x, dx, atol=1e-9)
    assert sorted(c_ref) == np.flatnonzero(c_load).tolist()
    assert all(c_load[j] == c for j, c in c_ref.items())
    new_links = sum(len(got[j][0][0]) for j in range(n_od) if len(got[j]) > len(paths[j]))
    assert n_links2 - n_links == new_links
