"""A warm start takes its parent's link arrays only when closures alone changed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from twin.sims.traffic.inputs import prepare_links
from twin.sims.traffic.warm_inputs import more_closed


def _table(seed: int, poly: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, m = 30, 120
    links = pd.DataFrame(
        {
            "a_node": rng.integers(1, n, m),
            "b_node": rng.integers(1, n, m),
            "capacity": rng.uniform(100, 900, m),
            "free_flow_time": rng.uniform(1, 9, m),
            "alpha": 0.15,
            "beta": rng.choice([1.0, 4.0], m),
        },
        index=[f"l{i}" for i in range(m)],
    )
    if poly:  # a third of the links with polynomial costs instead
        some = rng.random(m) < 0.33
        links["cost_a"] = np.where(some, rng.uniform(1, 5, m), np.nan)
        links["cost_b"] = np.where(some, rng.uniform(0, 1e-3, m), np.nan)
        links["cost_p"] = np.where(some, 2.0, np.nan)
    links["closed"] = rng.random(m) < 0.05
    return links


def _same(got, want) -> None:  # type: ignore[no-untyped-def]
    for f in dataclasses.fields(want):
        g, w = getattr(got, f.name), getattr(want, f.name)
        if isinstance(w, pd.Index):
            assert g.equals(w), f.name
        elif isinstance(w, dict):
            assert w.keys() == g.keys() and all(
                np.array_equal(g[k], w[k], equal_nan=True) for k in w
            )
        elif isinstance(w, np.ndarray):
            assert np.array_equal(g, w, equal_nan=True), f.name
        else:
            assert g == w, f.name


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("poly", [False, True])
@pytest.mark.parametrize("ftn", [None, 4])
def test_more_closures_give_the_arrays_of_a_fresh_validation(seed: int, poly: bool, ftn) -> None:
    links = _table(seed, poly)
    parent = prepare_links(links, ftn)
    rng = np.random.default_rng(100 + seed)
    closed = links.assign(closed=links["closed"] | (rng.random(len(links)) < 0.2))
    got = more_closed(closed, ftn, parent)
    assert got is not None
    _same(got, prepare_links(closed, ftn))
    assert not np.shares_memory(got.a, parent.a)  # the parent's arrays are left as they were
    # and again from the child (a chain of closures)
    again = closed.assign(closed=closed["closed"] | (rng.random(len(links)) < 0.1))
    _same(more_closed(again, ftn, got), prepare_links(again, ftn))


def test_any_other_change_is_validated_afresh() -> None:
    links = _table(0, poly=False)
    parent = prepare_links(links)
    assert more_closed(links, None, parent) is not None  # nothing changed
    changed = [
        links.assign(capacity=links["capacity"] * 1.1),  # a capacity
        links.assign(closed=False),  # links reopened
        links.assign(alpha=links["alpha"].astype(object)),  # another dtype
        links.drop(columns="beta"),  # another cost model
        links.iloc[::-1],  # other link order
        links.rename(index={"l0": "x0"}),  # other ids
    ]
    for table in changed:
        assert more_closed(table, None, parent) is None
    assert more_closed(links, 3, parent) is None  # other option
    edited = links.copy()
    parent2 = prepare_links(edited)
    edited.loc["l1", "capacity"] = -5.0  # edited in place after the parent's solve
    assert more_closed(edited, None, parent2) is None
