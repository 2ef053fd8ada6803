"""One process-wide lock around every netCDF-C / HDF5 call.

netCDF-C and HDF5 (as built in the netCDF4 wheels) are not thread-safe: two threads reading
or writing NetCDF-4 files at once, even different files, corrupt the library's global state
(``NetCDF: HDF error``, then a segmentation fault). The viewer serves requests from several
threads, and the what-if editor writes runs in worker threads, so every opening, reading and
writing of a NetCDF file in twin goes through :data:`HDF5_LOCK`, and datasets are loaded into
memory before the lock is released (nothing lazy is left to touch HDF5 outside it).
"""

from __future__ import annotations

import threading

#: Held around every netCDF-C / HDF5 call of the process (re-entrant: a writer may read).
HDF5_LOCK = threading.RLock()

__all__ = ["HDF5_LOCK"]
