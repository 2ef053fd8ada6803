"""The footfall kernel against its pure-numpy oracle and hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.footfall import gravity_flows, gravity_flows_ref


def _csr(tails: np.ndarray, heads: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=indptr[1:])
    return indptr, heads[order].astype(np.int64), order.astype(np.int64)


def _random_network(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, ...]:
    tails = rng.integers(0, n, m)
    heads = rng.integers(0, n, m)
    keep = tails != heads
    tails, heads = tails[keep], heads[keep]
    # a ring both ways keeps it connected
    ring = np.arange(n)
    tails = np.concatenate([tails, ring, (ring + 1) % n]).astype(np.int64)
    heads = np.concatenate([heads, (ring + 1) % n, ring]).astype(np.int64)
    cost = rng.uniform(5.0, 60.0, len(tails))
    return tails, heads, cost


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_matches_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    tails, heads, cost = _random_network(rng, n, 120)
    cost[rng.choice(len(cost), 10, replace=False)] = np.inf  # closed links
    origins = rng.choice(n, 15, replace=False).astype(np.int64)
    mass = rng.uniform(1, 100, 15)
    attraction = np.where(rng.random(n) < 0.3, rng.uniform(1, 5, n), 0.0)
    indptr, h, clink = _csr(tails, heads, n)
    for cutoff in (60.0, 150.0, np.inf):
        f, a, p = gravity_flows(
            indptr, h, clink, tails, cost, origins, mass, attraction, 1 / 60, cutoff, 3
        )
        fr, ar, pr = gravity_flows_ref(
            tails, heads, cost, origins, mass, attraction, 1 / 60, cutoff
        )
        np.testing.assert_allclose(f, fr, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(a, ar, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(p, pr)
        assert f[~np.isfinite(cost)].sum() == 0
        # every produced trip ends at an attractor
        assert a.sum() == pytest.approx(p.sum())
    assert f.sum() > 0


def test_hand_line() -> None:
    """A line 0—1—2—3 (both ways, 60 s links); 100 trips from 0; attractors at 2 and 3."""
    tails = np.array([0, 1, 1, 2, 2, 3], dtype=np.int64)
    heads = np.array([1, 0, 2, 1, 3, 2], dtype=np.int64)
    cost = np.full(6, 60.0)
    attraction = np.array([0.0, 0.0, 1.0, 2.0])
    indptr, h, clink = _csr(tails, heads, 4)
    beta = np.log(2) / 60  # weight halves every minute
    f, a, p = gravity_flows(
        indptr, h, clink, tails, cost, np.array([0]), np.array([100.0]), attraction, beta, 1e9, 1
    )
    assert p[0] == 100.0
    # weights: node 2: 1·2^-2 = 0.25, node 3: 2·2^-3 = 0.25 → 50 trips each
    np.testing.assert_allclose(a, [0, 0, 50, 50])
    np.testing.assert_allclose(f, [100, 0, 100, 0, 50, 0])
    # cut-off of 150 s: node 3 (180 s) out of reach, all trips go to node 2
    f, a, _ = gravity_flows(
        indptr, h, clink, tails, cost, np.array([0]), np.array([100.0]), attraction, beta, 150.0, 1
    )
    np.testing.assert_allclose(a, [0, 0, 100, 0])
    np.testing.assert_allclose(f, [100, 0, 100, 0, 0, 0])


def test_no_attractor_in_reach() -> None:
    tails = np.array([0, 1], dtype=np.int64)
    heads = np.array([1, 0], dtype=np.int64)
    indptr, h, clink = _csr(tails, heads, 3)
    f, a, p = gravity_flows(
        indptr, h, clink, tails, np.array([10.0, 10.0]), np.array([0, 2]),
        np.array([5.0, 5.0]), np.array([0.0, 1.0, 0.0]), 0.01, 100.0, 2,
    )  # fmt: skip
    np.testing.assert_allclose(p, [5.0, 0.0])  # node 2 is isolated: it sends nothing
    np.testing.assert_allclose(f, [5.0, 0.0])
    np.testing.assert_allclose(a, [0.0, 5.0, 0.0])
