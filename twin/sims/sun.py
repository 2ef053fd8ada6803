"""Sun position terms shared by the simulations (street-lighting clock, urban heat).

Spencer's (1971) Fourier series, as used in the NOAA "General Solar Position Calculations":
the solar declination and the equation of time, accurate to about a minute of time.
"""

from __future__ import annotations

import numpy as np


def declination_and_eot(
    doy: np.ndarray, hours: np.ndarray, ndays: int | np.ndarray = 365
) -> tuple[np.ndarray, np.ndarray]:
    """Solar declination [rad] and equation of time [min].

    Parameters
    ----------
    doy : ndarray
        Day of the year, 1 on 1 January.
    hours : ndarray
        Hour of the day [h, decimal] (UTC for the NOAA equations).
    ndays : int or ndarray
        Days in the year (365 or 366).

    Returns
    -------
    decl : ndarray
        Declination [rad].
    eot : ndarray
        Equation of time [min] (true minus mean solar time).
    """
    day = np.asarray(doy, float) - 1.0 + (np.asarray(hours, float) - 12.0) / 24.0
    g = 2.0 * np.pi / ndays * day
    decl = (
        0.006918
        - 0.399912 * np.cos(g)
        + 0.070257 * np.sin(g)
        - 0.006758 * np.cos(2 * g)
        + 0.000907 * np.sin(2 * g)
        - 0.002697 * np.cos(3 * g)
        + 0.00148 * np.sin(3 * g)
    )
    eot = 229.18 * (
        0.000075
        + 0.001868 * np.cos(g)
        - 0.032077 * np.sin(g)
        - 0.014615 * np.cos(2 * g)
        - 0.040849 * np.sin(2 * g)
    )
    return decl, eot
