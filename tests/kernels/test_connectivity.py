"""The connectivity kernel against networkx on random graphs (the oracle)."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.kernels.connectivity import SupplyState, energised, symmetric_adjacency


def energised_ref(a: np.ndarray, b: np.ndarray, state: SupplyState) -> np.ndarray:
    """Reference: connected components (networkx) of the in-service nodes and usable links
    that hold an in-service source."""
    n = len(state.node_ok)
    g = nx.MultiGraph()
    g.add_nodes_from(i for i in range(n) if state.node_ok[i])
    g.add_edges_from(
        (int(x), int(y))
        for x, y, ok in zip(a, b, state.link_ok, strict=True)
        if ok and state.node_ok[x] and state.node_ok[y]
    )
    out = np.zeros(n, dtype=bool)
    for comp in nx.connected_components(g):
        if any(state.source[i] for i in comp):
            out[list(comp)] = True
    return out


@st.composite
def graphs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, SupplyState]:
    n = draw(st.integers(1, 40))
    m = draw(st.integers(0, 80))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, m)
    b = rng.integers(0, n, m)  # self-loops and parallel links included
    state = SupplyState(
        link_ok=rng.random(m) < draw(st.floats(0.0, 1.0)),
        node_ok=rng.random(n) < 0.9,
        source=rng.random(n) < draw(st.floats(0.0, 0.3)),
    )
    return a, b, state


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_kernel_matches_networkx(case: tuple[np.ndarray, np.ndarray, SupplyState]) -> None:
    a, b, state = case
    adj = symmetric_adjacency(a, b, len(state.node_ok))
    np.testing.assert_array_equal(energised(adj, state), energised_ref(a, b, state))


def test_a_chain_cut_in_the_middle() -> None:
    """0 – 1 – 2 – 3 fed at 0: taking link 1 (1–2) out de-energises 2 and 3; a source out of
    service feeds nothing; a node out of service does not conduct."""
    a, b = np.array([0, 1, 2]), np.array([1, 2, 3])
    adj = symmetric_adjacency(a, b, 4)
    src = np.array([True, False, False, False])
    on = np.ones(4, dtype=bool)
    cut = np.array([True, False, True])
    assert energised(adj, SupplyState(cut, on, src)).tolist() == [True, True, False, False]
    off0 = np.array([False, True, True, True])
    assert not energised(adj, SupplyState(np.ones(3, bool), off0, src)).any()
    off1 = np.array([True, False, True, True])
    assert energised(adj, SupplyState(np.ones(3, bool), off1, src)).tolist() == [
        True,
        False,
        False,
        False,
    ]


@settings(max_examples=120, deadline=None)
@given(graphs(), st.integers(0, 2**32 - 1))
def test_single_failures_match_networkx(
    case: tuple[np.ndarray, np.ndarray, SupplyState], seed: int
) -> None:
    """Each failure (random groups of links and nodes) cuts off what networkx finds: the
    nodes energised before and not after, and their weights."""
    from twin.kernels.connectivity import Failures, single_failures

    a, b, state = case
    n, m = len(state.node_ok), len(a)
    rng = np.random.default_rng(seed)
    k = 6
    groups = [
        (
            rng.choice(m, rng.integers(0, min(m, 3) + 1), replace=False) if m else np.zeros(0, int),
            rng.choice(n, rng.integers(0, min(n, 2) + 1), replace=False),
        )
        for _ in range(k)
    ]
    lptr = np.cumsum([0] + [len(g[0]) for g in groups]).astype(np.int64)
    nptr = np.cumsum([0] + [len(g[1]) for g in groups]).astype(np.int64)
    fails = Failures(
        lptr,
        np.concatenate([g[0] for g in groups]).astype(np.int64),
        nptr,
        np.concatenate([g[1] for g in groups]).astype(np.int64),
    )
    weight = rng.random(n)
    got = single_failures(symmetric_adjacency(a, b, n), state, fails, weight)
    before = energised_ref(a, b, state)
    for f, (gl, gn) in enumerate(groups):
        lk, nk = state.link_ok.copy(), state.node_ok.copy()
        lk[gl] = False
        nk[gn] = False
        after = energised_ref(a, b, SupplyState(lk, nk, state.source))
        lost = before & ~after
        assert got.nodes_lost[f] == lost.sum()
        assert np.isclose(got.weight_lost[f], weight[lost].sum())


def test_link_failures_on_a_loop_and_a_spur() -> None:
    """A loop 0-1-2-0 fed at 0 with a spur 2-3: only the spur's link cuts a node off."""
    from twin.kernels.connectivity import link_failures, single_failures

    a, b = np.array([0, 1, 2, 2]), np.array([1, 2, 0, 3])
    state = SupplyState(np.ones(4, bool), np.ones(4, bool), np.array([1, 0, 0, 0], bool))
    got = single_failures(symmetric_adjacency(a, b, 4), state, link_failures(4), np.ones(4))
    assert got.nodes_lost.tolist() == [0, 0, 0, 1]
    assert got.weight_lost.tolist() == [0, 0, 0, 1]
