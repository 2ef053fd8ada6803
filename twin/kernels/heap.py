"""A 4-ary min-heap of (key, value) pairs in two flat arrays, for Dijkstra-type searches.

Keys [any unit] in ``hk`` (float64) and values in ``hv`` (int64) are kept in heap order:
entry ``i``'s children are ``4i + 1 … 4i + 4``. :func:`heap_push` and :func:`heap_pop` move a
*hole* rather than swapping pairs at each level, and a 4-ary tree is half as deep as a binary
one: both make shortest-path trees and the tree updates of :mod:`twin.kernels.sp_update`
faster than a binary heap swapping pairs (figures in docs/benchmarks.md). Searches push a
node again when its label drops and skip the stale entries as they come out ("lazy
deletion"), so the arrays need room for one entry per relaxation.

The smallest entry is ``hk[0], hv[0]`` (read it before :func:`heap_pop`). Entries are ordered
by key, then value: equal keys (ties between paths, common at free-flow costs in whole
minutes) come out in the order of their values, node positions, so that the trees, and the
assignments built on them, do not depend on the heap's shape. (With ties left to the heap's
shape, the iterations BFW needs to reach small gaps depended on the heap's arity: see
docs/benchmarks.md.) The tests' ``heap_order_ref`` is the plain-Python reference (``heapq``, which
orders the same way).

Both functions are inlined into the kernels that call them, and numba's on-disk cache of a
kernel does not notice edits to another module: after editing this one, remove the caches
(``make clean``, or the ``*.nbi``/``*.nbc`` files under ``twin/``) before measuring.

References
----------
Johnson, D. B. (1975). Priority queues with update and finding minimum spanning trees.
*Information Processing Letters* 4(3), 53–57 (d-ary heaps).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def heap_push(hk: np.ndarray, hv: np.ndarray, n: int, key: float, val: int) -> int:
    """Add ``(key, val)`` to the heap of ``n`` entries; returns the new size."""
    i = n
    while i > 0:
        parent = (i - 1) >> 2
        up = hk[parent]
        if up < key or (up == key and hv[parent] <= val):
            break
        hk[i] = up
        hv[i] = hv[parent]
        i = parent
    hk[i] = key
    hv[i] = val
    return n + 1


@njit(cache=True, inline="always")
def heap_pop(hk: np.ndarray, hv: np.ndarray, n: int) -> int:
    """Remove the smallest entry of the heap of ``n > 0`` entries; returns the new size."""
    n -= 1
    key = hk[n]
    val = hv[n]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= n:
            break
        best = first
        low = hk[first]
        low_v = hv[first]
        for c in range(first + 1, min(first + 4, n)):
            if hk[c] < low or (hk[c] == low and hv[c] < low_v):
                best = c
                low = hk[c]
                low_v = hv[c]
        if key < low or (key == low and val <= low_v):
            break
        hk[i] = low
        hv[i] = low_v
        i = best
    hk[i] = key
    hv[i] = val
    return n
