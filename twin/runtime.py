"""Process settings for long runs: glibc's allocator keeps freed memory for the next solve.

A solve allocates and frees buffers of a few MB each (path and tree stores, scratch space of
the parallel tree updates). By default glibc serves such blocks with fresh ``mmap`` pages and
hands freed heap memory back to the system, and it moves these thresholds as it goes (its
dynamic mmap threshold): the time of a solve then depends on what ran before it, and each
first touch of a fresh page costs a page fault (1.8 µs on the reference machine, a 2-core VM).
On the Montpellier benchmark (``benchmarks/bench_traffic.py``), a warm start right after its
baseline took 42–52 ms and the same warm start after a few cold solves 36–37 ms; with
:func:`keep_freed_memory`, 35–37 ms whatever ran before.

:func:`keep_freed_memory` fixes the thresholds: blocks up to 32 MiB come from the heap and
freed memory stays with the process (the resident size stays at its peak, as it would with
jemalloc or tcmalloc). The CLI, the viewer server and batch workers call it at start; a script
of repeated solves can call it too. It changes nothing elsewhere than glibc (macOS, Windows,
musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: mallopt parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
#: Largest block served from the heap [bytes] (glibc's upper limit on 64-bit).
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap kept rather than returned to the system [bytes].
TRIM_THRESHOLD = 1 << 30
#: Extra room taken when the heap grows [bytes] (fewer, larger growth steps).
TOP_PAD = 64 << 20

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for later allocations (once per process).

    Returns
    -------
    bool
        Whether the settings took: False where the C library is not glibc (nothing changes).
    """
    global _done
    if _done is None:
        _done = _mallopt(
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (_M_TOP_PAD, TOP_PAD),
        )
    return _done


def _mallopt(*settings: tuple[int, int]) -> bool:
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in settings)
