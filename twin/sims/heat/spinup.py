"""Initial surface and deep temperatures of the heat model (spin-up).

Force-restore needs, for every surface, a deep temperature ``Tm`` and an initial surface
temperature ``Ts``. The default is cheap and validated:

1. the rural reference column runs the first 24 h of forcing twice (:data:`RURAL_CYCLES`),
   starting from that day's mean air temperature, each cycle setting its ``Tm`` to the
   diurnal-mean surface temperature (Deardorff, 1978) - one column, negligible cost;
2. every surface of every cell starts from that rural ``Tm``, its ``Ts`` from the first air
   temperature; the simulation's own first day (``spinup_hours``, dropped from the output by
   default) lets the surfaces adjust to their canyons.

Optional cycles in the cells (``spinup_cycles``, :func:`relax_deep`) relax each surface's
``Tm`` towards its own diurnal-mean ``Ts`` in its canyon; each costs a pass over the grid.

Why a spin-up *period* and not the periodic fixed point (a day that repeats itself exactly):
with the OHM storage of TARGET (``dQS = a1 Q* + a2 dQ*/dt + a3``, ``a3 < 0``) a repeating day
needs zero net storage, i.e. a daily-mean net radiation of ``-a3 / a1`` (63 W m-2 for
asphalt, 80 W m-2 for dry grass), which surfaces reach only by moving to their radiative
balance. Measured in development (a Newton solver of the coupled periodic state, not kept):
shaded canyon floors went down to -30 °C under a 30 °C summer day, and the open rural
surface's periodic ``Tm`` is 32.2 °C for a day of 21.4 °C mean air (Mawson Lakes) and 43.4 °C
for the 32/20 °C design day - not physical states. TARGET itself prescribes ``Tm`` per
surface type in its control file; here it comes from a short spin-up of the forcing.

On the Mawson Lakes validation (``docs/simulations/heat.md``) the mean station RMSE is 1.21 /
1.23 / 1.28 / 1.32 °C with 0 / 1 / 2 / 3 cell cycles (bias -0.12 / +0.13 / +0.27 / +0.36 °C).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from twin.kernels import heat as hk

RURAL_CYCLES = 2


def rural_spinup(
    rural: Callable[..., tuple[np.ndarray, np.ndarray]],
    day_cols: tuple[np.ndarray, ...],
    dt: float,
    ref: np.ndarray,
    zs: tuple[float, float, float, float],
    tm_start: float,
    cycles: int = RURAL_CYCLES,
) -> float:
    """Deep temperature [°C] of the rural reference column after its spin-up cycles.

    Each cycle runs the spin-up day from the first air temperature and sets the deep
    temperature to the diurnal-mean surface temperature.

    Parameters
    ----------
    rural : callable
        :func:`twin.kernels.heat.rural_reference` or its numpy twin.
    day_cols : tuple of ndarray
        Air temperature [°C], wind speed [m s-1], pressure [hPa], K↓ and L↓ [W m-2] of the
        spin-up day.
    dt : float
        Time step [s].
    ref : ndarray, shape (7,)
        Reference surface parameters (see ``rural_reference``).
    zs : tuple of float
        ``z_taref``, ``z_uref``, rural roughness, ``z_top`` [m].
    tm_start : float
        Deep temperature before the first cycle [°C] (the spin-up day's mean air temperature).
    cycles : int
        Spin-up cycles.

    Returns
    -------
    float
        The deep temperature [°C].
    """
    tm = float(tm_start)
    for _ in range(cycles):
        _, ts_day = rural(*day_cols, dt, ref, *zs, tm)
        tm = float(ts_day.mean())
    return tm


def relax_deep(
    kernel: Callable[..., Any],
    cells: tuple[np.ndarray, ...],
    forcing_day: np.ndarray,
    sun_day: np.ndarray,
    scalars: np.ndarray,
    air: np.ndarray,
    tm_start: float,
    cycles: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Deep and initial surface temperatures of every surface of every cell.

    ``cycles`` times: run the surface energy balances over the spin-up day and set each
    surface's deep temperature to its diurnal-mean surface temperature; the simulation then
    starts from the surface temperatures at the end of the last cycle.

    Parameters
    ----------
    kernel : callable
        :func:`twin.kernels.heat.urban_cells` or its numpy twin.
    cells : tuple of ndarray
        The first seven arguments of ``urban_cells`` (fractions to parameter table).
    forcing_day, sun_day : ndarray
        Forcing and sun rows of ``urban_cells`` over the spin-up day.
    scalars, air : ndarray
        Scalars and local-scale inputs of ``urban_cells``.
    tm_start : float
        Deep temperature [°C] of every surface before the first cycle.
    cycles : int
        Relaxation cycles (0: every surface keeps ``tm_start`` and starts at the first air
        temperature).

    Returns
    -------
    tm0, ts0 : ndarray, shape (n, 8)
        Deep temperature and initial surface temperature [°C] (NaN: the first air temperature).
    """
    n = cells[0].shape[0]
    tm0 = np.full((n, hk.NS), float(tm_start))
    ts0 = np.full((n, hk.NS), np.nan)
    for _ in range(cycles):
        _, _, state = kernel(*cells, forcing_day, sun_day, scalars, tm0, False, True, air)
        tm0 = np.ascontiguousarray(state[..., 0])
        ts0 = np.ascontiguousarray(state[..., 1])
    return tm0, ts0
