"""The 4-ary heap against heapq."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from numba import njit

from twin.kernels.heap import heap_pop, heap_push


def heap_order_ref(ops: list[tuple[str, float, int]]) -> list[tuple[float, int]]:
    """Reference: the entries ``("push", key, val)``/``("pop", 0, 0)`` operations take out, in
    order, with :mod:`heapq` (by key, then value)."""
    h: list[tuple[float, int]] = []
    out = []
    for op, key, val in ops:
        if op == "push":
            heapq.heappush(h, (key, val))
        else:
            out.append(heapq.heappop(h))
    return out


@njit(cache=True)
def _run(kinds: np.ndarray, keys: np.ndarray, vals: np.ndarray) -> tuple:
    hk = np.empty(kinds.shape[0] + 1)
    hv = np.empty(kinds.shape[0] + 1, dtype=np.int64)
    out_k = np.empty(kinds.shape[0])
    out_v = np.empty(kinds.shape[0], dtype=np.int64)
    n = 0
    taken = 0
    for i in range(kinds.shape[0]):
        if kinds[i] == 0:
            n = heap_push(hk, hv, n, keys[i], vals[i])
        else:
            out_k[taken] = hk[0]
            out_v[taken] = hv[0]
            n = heap_pop(hk, hv, n)
            taken += 1
    return out_k[:taken], out_v[:taken], n


@pytest.mark.parametrize("seed", range(6))
def test_heap_takes_entries_out_in_key_order(seed: int) -> None:
    """Random pushes and pops (ties included, sizes crossing every level) take out the same
    entries as heapq, in the same order."""
    rng = np.random.default_rng(seed)
    n_ops = 3_000
    kinds = (rng.random(n_ops) < (0.3 if seed % 2 else 0.45)).astype(np.int64)
    size, ops = 0, []
    for i in range(n_ops):  # never pop an empty heap
        if kinds[i] == 1 and size == 0:
            kinds[i] = 0
        size += 1 if kinds[i] == 0 else -1
    keys = np.round(rng.random(n_ops) * (5 if seed < 2 else 1e6)) / 4  # many ties
    vals = rng.integers(0, 50 if seed < 2 else 10**6, n_ops)  # equal entries too
    for i in range(n_ops):
        ops.append(("push", float(keys[i]), int(vals[i])) if kinds[i] == 0 else ("pop", 0.0, 0))
    got_k, got_v, left = _run(kinds, keys, vals)
    want = heap_order_ref(ops)  # ties by value: the same entries in the same order
    assert list(zip(got_k.tolist(), got_v.tolist(), strict=True)) == want
    assert left == size


def test_heap_empties_in_order() -> None:
    keys = np.array([3.0, 1.0, 2.0, 0.5, 9.0, 1.0, 4.0, 0.0, 7.0])
    kinds = np.r_[np.zeros(9, dtype=np.int64), np.ones(9, dtype=np.int64)]
    got_k, got_v, left = _run(kinds, np.r_[keys, keys], np.r_[np.arange(9), np.arange(9)])
    assert got_k.tolist() == sorted(keys.tolist()) and left == 0
    assert sorted(got_v.tolist()) == list(range(9))
