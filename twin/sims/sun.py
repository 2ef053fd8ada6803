"""Sun position shared by the simulations (street-lighting clock, urban heat): the one place.

Spencer's (1971) Fourier series, as used in the NOAA "General Solar Position Calculations":
the solar declination, the equation of time and the eccentricity correction factor of the
Earth's orbit, each a function of the fractional year ``γ = 2π / N · (doy − 1 + (h − 12) /
24)`` with ``h`` the UTC hour and ``N`` the days in the year (365 for the sun position here,
also in leap years). The hour angle follows from the true solar time, ``ω = 15° · (h + (4 λ +
EoT) / 60 − 12)`` (``λ`` east longitude [°], ``EoT`` [min]), and the zenith angle from
``cos Z = sin φ sin δ + cos φ cos δ cos ω``. The angles are geometric (no atmospheric
refraction, no parallax).

Accuracy: Spencer's series is a fixed fit of one year. Against the Astronomical Almanac's
approximate solar position (Michalsky, 1988; 0.01°), its declination is off by up to 0.2–0.3°
in 1975–2011 and 0.5° by 2025, its equation of time by up to 0.7–0.9 min (hourly, whole
years); using ``N = 366`` in leap years makes the declination worse (0.49° against 0.20° in
2012). At the worked example of NREL's Solar Position Algorithm (Reda & Andreas, 2004) the
elevation is 0.23° too high and the solar noon 27 s early (the tests). Negligible for the
hourly heat model; a more accurate algorithm would be Michalsky's.

References
----------
NOAA Global Monitoring Laboratory. General Solar Position Calculations.
https://gml.noaa.gov/grad/solcalc/solareqns.PDF
Michalsky, J. J. (1988). The Astronomical Almanac's algorithm for approximate solar position
(1950–2050). *Solar Energy* 40, 227–235.
Reda, I., & Andreas, A. (2004). Solar position algorithm for solar radiation applications.
*Solar Energy* 76, 577–589 (NREL/TP-560-34302, Table A5.1: the worked example).
Spencer, J. W. (1971). Fourier series representation of the position of the sun. *Search*
2, 172.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def declination_and_eot(
    doy: np.ndarray, hours: np.ndarray, ndays: int | np.ndarray = 365
) -> tuple[np.ndarray, np.ndarray]:
    """Solar declination [rad] and equation of time [min] (Spencer, 1971).

    Parameters
    ----------
    doy : ndarray
        Day of the year [-], 1 on 1 January.
    hours : ndarray
        Hour of the day [h, decimal] (UTC for the NOAA equations); values outside 0–24 are
        fine (the fractional year is continuous).
    ndays : int or ndarray
        Days in the year [-] (365 or 366).

    Returns
    -------
    decl : ndarray
        Declination [rad].
    eot : ndarray
        Equation of time [min] (true minus mean solar time).
    """
    g = _fractional_year(doy, hours, ndays)
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


def eccentricity_factor(
    doy: np.ndarray, hours: np.ndarray, ndays: int | np.ndarray = 365
) -> np.ndarray:
    """Eccentricity correction factor ``(r₀ / r)²`` of the Earth's orbit [-] (Spencer, 1971).

    The extraterrestrial irradiance on a plane normal to the sun is ``1367 W/m² × (r₀ / r)²``.

    Parameters
    ----------
    doy, hours, ndays
        As in :func:`declination_and_eot` (day of the year [-], UTC hour [h], days in the year).

    Returns
    -------
    ndarray
        ``(r₀ / r)²`` [-], between about 0.967 (early July) and 1.034 (early January).
    """
    g = _fractional_year(doy, hours, ndays)
    return (
        1.00011
        + 0.034221 * np.cos(g)
        + 0.00128 * np.sin(g)
        + 0.000719 * np.cos(2 * g)
        + 0.000077 * np.sin(2 * g)
    )


def utc_times(
    times: pd.DatetimeIndex, utc_offset_h: float | np.ndarray | None, longitude: float
) -> pd.DatetimeIndex:
    """Naive UTC times of a time index.

    Parameters
    ----------
    times : DatetimeIndex
        Time-zone aware (converted to UTC; ``utc_offset_h`` is ignored), or naive local clock
        times.
    utc_offset_h : float, ndarray or None
        Local clock minus UTC [h] of naive ``times``, one value or one per time (daylight
        saving); None: local mean solar time, ``longitude / 15``.
    longitude : float
        East longitude [°] (for the default offset).

    Returns
    -------
    DatetimeIndex
        Naive times in UTC.
    """
    if times.tz is not None:
        return times.tz_convert("UTC").tz_localize(None)
    off = longitude / 15.0 if utc_offset_h is None else utc_offset_h
    if np.ndim(off) == 0:
        return times - pd.Timedelta(hours=float(off))
    return times - pd.to_timedelta(np.asarray(off, dtype=float), unit="h")


def cos_zenith(times_utc: pd.DatetimeIndex, latitude: float, longitude: float) -> np.ndarray:
    """Cosine of the (geometric) solar zenith angle [-] at UTC times.

    Parameters
    ----------
    times_utc : DatetimeIndex
        Naive UTC times (see :func:`utc_times`); seconds are kept, finer parts dropped.
    latitude, longitude : float
        Site [° N, ° E].

    Returns
    -------
    ndarray
        ``cos Z`` [-] in ``[-1, 1]``; equal to the sine of the solar elevation, negative
        below the horizon.
    """
    doy, hours = _day_hour(times_utc)
    decl, eot = declination_and_eot(doy, hours)
    solar_time = hours + (4.0 * longitude + eot) / 60.0  # true solar time [h]
    ha = np.radians(15.0 * (solar_time - 12.0))
    phi = np.radians(latitude)
    cosz = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(ha)
    return np.clip(cosz, -1.0, 1.0)


def solar_elevation(times_utc: pd.DatetimeIndex, latitude: float, longitude: float) -> np.ndarray:
    """Solar elevation angle [rad] at UTC times: ``arcsin`` of :func:`cos_zenith`.

    Parameters
    ----------
    times_utc : DatetimeIndex
        Naive UTC times (see :func:`utc_times`).
    latitude, longitude : float
        Site [° N, ° E].

    Returns
    -------
    ndarray
        Elevation above the geometric horizon [rad], negative at night.
    """
    return np.arcsin(cos_zenith(times_utc, latitude, longitude))


def earth_sun_factor(times_utc: pd.DatetimeIndex) -> np.ndarray:
    """:func:`eccentricity_factor` ``(r₀ / r)²`` [-] at naive UTC times."""
    doy, hours = _day_hour(times_utc)
    return eccentricity_factor(doy, hours)


def _fractional_year(doy: np.ndarray, hours: np.ndarray, ndays: int | np.ndarray) -> np.ndarray:
    """Fractional year ``γ`` [rad] of the NOAA equations."""
    day = np.asarray(doy, float) - 1.0 + (np.asarray(hours, float) - 12.0) / 24.0
    return 2.0 * np.pi / ndays * day


def _day_hour(times: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Day of the year [-] and decimal hour [h] of each time."""
    doy = times.day_of_year.to_numpy(float)
    hours = (times.hour + times.minute / 60.0 + times.second / 3600.0).to_numpy(float)
    return doy, hours
