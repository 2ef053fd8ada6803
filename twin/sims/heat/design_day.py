"""Meteorological forcing of the heat model: a forcing CSV, or an ASSUMED heat-wave design day.

The heat model needs hourly ``air_temperature`` [°C], ``relative_humidity`` [%],
``wind_speed`` [m/s], ``shortwave_down`` and ``longwave_down`` [W/m²] and ``pressure`` [hPa]
at a rural (or airport) reference site. When the twin has no such observations, a **clear-sky
heat-wave design day** is built from the latitude and a date. It is an ASSUMPTION, not a
measurement, and is labelled as such in the run's provenance:

* **Sun.** :mod:`twin.sims.sun` (Spencer, 1971, in the NOAA equations): the local clock
  minus the time zone's UTC offset gives UTC, hence the declination, the hour angle and
  ``sin h = sin φ sin δ + cos φ cos δ cos ω``.
* **Shortwave.** Clear-sky global horizontal irradiance of Haurwitz (1945),
  ``G = 1098 · cos Z · exp(−0.057 / cos Z)`` [W/m²] (cos Z = sin h > 0), ranked among the best
  one-input clear-sky models by Reno, Hansen & Stein (2012, Sandia SAND2012-2389).
* **Air temperature.** A cosine between ``tmin_c`` at ``hour_min`` and ``tmax_c`` at
  ``hour_max`` (rising), then a cosine back down to ``tmin_c`` at the next ``hour_min``
  (a common two-part diurnal shape, e.g. Reicosky et al., 1989).
* **Humidity.** A constant dew point (a well-mixed day): ``RH = 100 · e_s(T_d) / e_s(T)`` with
  the Magnus formula ``e_s(T) = 6.112 · exp(17.62 T / (243.12 + T))`` [hPa] (WMO-No. 8, 2018).
* **Longwave.** Clear-sky emissivity of Brutsaert (1975), ``ε = 1.24 · (e / T)^(1/7)`` with
  ``e`` [hPa] and ``T`` [K]; ``L↓ = ε σ T⁴``.
* **Wind and pressure.** Constant (``wind_m_s``, ``pressure_hpa``).

Defaults (ASSUMED, :data:`DESIGN_DAY_DEFAULTS`): a 32 °C / 20 °C day with a 16 °C dew point and
a 2 m/s wind, the order of a French *canicule* day (Météo-France's heat-wave thresholds for
Paris are 31 °C / 21 °C for the maxima / minima). The design day is repeated
``1 + spinup_days`` times so that the model's ground temperatures settle; only the last day is
analysed.

References
----------
Brutsaert, W. (1975). On a derivable formula for long-wave radiation from clear skies.
*Water Resour. Res.* 11, 742–744.
Haurwitz, B. (1945). Insolation in relation to cloudiness and cloud density. *J. Meteor.* 2,
154–166.
Spencer, J. W. (1971). Fourier series representation of the position of the sun. *Search*
2, 172.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.sims import sun

#: Columns of a forcing table, their units and plausible ranges.
FORCING_COLUMNS: dict[str, tuple[str, float, float]] = {
    "air_temperature": ("°C", -60.0, 60.0),
    "relative_humidity": ("%", 0.0, 100.0),
    "wind_speed": ("m/s", 0.0, 60.0),
    "shortwave_down": ("W/m²", 0.0, 1500.0),
    "longwave_down": ("W/m²", 50.0, 700.0),
    "pressure": ("hPa", 500.0, 1100.0),
}

#: ASSUMED heat-wave design day (see the module docstring).
DESIGN_DAY_DEFAULTS: dict[str, float] = {
    "tmax_c": 32.0,
    "tmin_c": 20.0,
    "dew_point_c": 16.0,
    "wind_m_s": 2.0,
    "pressure_hpa": 1013.25,
    "hour_min": 5.0,
    "hour_max": 15.0,
}

SIGMA = 5.670374419e-8  # Stefan–Boltzmann constant [W m⁻² K⁻⁴]


def saturation_vapour_pressure(t_c: np.ndarray | float) -> np.ndarray:
    """Saturation vapour pressure over water [hPa] (Magnus, WMO-No. 8 2018 coefficients)."""
    t = np.asarray(t_c, dtype=float)
    return 6.112 * np.exp(17.62 * t / (243.12 + t))


def clear_sky_shortwave(elevation: np.ndarray) -> np.ndarray:
    """Clear-sky global horizontal irradiance [W/m²] of Haurwitz (1945)."""
    cz = np.sin(np.asarray(elevation, dtype=float))
    out = np.zeros_like(cz)
    up = cz > 0.0
    out[up] = 1098.0 * cz[up] * np.exp(-0.057 / cz[up])
    return out


def clear_sky_longwave(t_c: np.ndarray, vapour_hpa: np.ndarray) -> np.ndarray:
    """Clear-sky downward longwave radiation [W/m²] (Brutsaert, 1975)."""
    tk = np.asarray(t_c, dtype=float) + 273.15
    eps = 1.24 * (np.asarray(vapour_hpa, dtype=float) / tk) ** (1.0 / 7.0)
    return eps * SIGMA * tk**4


def diurnal_temperature(
    hours: np.ndarray, tmin: float, tmax: float, hour_min: float, hour_max: float
) -> np.ndarray:
    """Two-part cosine diurnal cycle [°C]: ``tmin`` at ``hour_min``, ``tmax`` at ``hour_max``."""
    h = np.mod(np.asarray(hours, dtype=float) - hour_min, 24.0)
    rise = hour_max - hour_min
    mid, amp = (tmax + tmin) / 2.0, (tmax - tmin) / 2.0
    up = h <= rise
    out = np.empty_like(h)
    out[up] = mid - amp * np.cos(np.pi * h[up] / rise)
    out[~up] = mid + amp * np.cos(np.pi * (h[~up] - rise) / (24.0 - rise))
    return out


def design_day(
    latitude: float,
    longitude: float,
    date: str | pd.Timestamp = "2025-07-15",
    *,
    timezone: str = "UTC",
    tmax_c: float = DESIGN_DAY_DEFAULTS["tmax_c"],
    tmin_c: float = DESIGN_DAY_DEFAULTS["tmin_c"],
    dew_point_c: float = DESIGN_DAY_DEFAULTS["dew_point_c"],
    wind_m_s: float = DESIGN_DAY_DEFAULTS["wind_m_s"],
    pressure_hpa: float = DESIGN_DAY_DEFAULTS["pressure_hpa"],
    hour_min: float = DESIGN_DAY_DEFAULTS["hour_min"],
    hour_max: float = DESIGN_DAY_DEFAULTS["hour_max"],
    spinup_days: int = 2,
    step_minutes: int = 60,
) -> pd.DataFrame:
    """An ASSUMED clear-sky heat-wave design day (see the module docstring).

    Parameters
    ----------
    latitude, longitude : float
        Site [° N, ° E].
    date : str or Timestamp
        The analysed day (local); the ``spinup_days`` before it repeat the same weather.
    timezone : str
        IANA time zone of the local clock (e.g. ``"Europe/Paris"``).
    tmax_c, tmin_c, dew_point_c : float
        Daily maximum and minimum air temperature and dew point [°C].
    wind_m_s : float
        Wind speed [m/s].
    pressure_hpa : float
        Air pressure [hPa].
    hour_min, hour_max : float
        Local hours of the minimum and maximum temperature [h].
    spinup_days : int
        Days repeated before ``date`` [d].
    step_minutes : int
        Time step [min], dividing 60.

    Returns
    -------
    DataFrame
        Indexed by naive local time (``time``), the columns of :data:`FORCING_COLUMNS`;
        ``attrs["assumed"]`` describes the assumption (for provenance).
    """
    problems = []
    if not tmin_c < tmax_c:
        problems.append(f"tmin_c ({tmin_c}) must be below tmax_c ({tmax_c})")
    if dew_point_c > tmin_c:
        problems.append(f"dew_point_c ({dew_point_c}) must not exceed tmin_c ({tmin_c})")
    if not 0 <= hour_min < hour_max < 24:
        problems.append(f"need 0 <= hour_min ({hour_min}) < hour_max ({hour_max}) < 24")
    if not -90 <= latitude <= 90:
        problems.append(f"latitude {latitude} outside [-90, 90]")
    if spinup_days < 0 or step_minutes <= 0 or 60 % step_minutes:
        problems.append("spinup_days must be >= 0 and step_minutes divide 60")
    if problems:
        msg = message(
            "invalid design-day parameters: " + "; ".join(problems),
            where="parameters.heat (design day)",
            fix="correct the values, or give a forcing CSV",
        )
        raise InputError(msg)
    try:
        day = pd.Timestamp(date).normalize()
    except (ValueError, TypeError):
        msg = message(
            f"'{date}' is not a date",
            where="parameters.heat.date",
            fix="write the date as YYYY-MM-DD",
        )
        raise InputError(msg) from None
    start = day - pd.Timedelta(days=spinup_days)
    one = pd.date_range(day, day + pd.Timedelta(days=1), freq=f"{step_minutes}min")[:-1]
    times = pd.date_range(start, day + pd.Timedelta(days=1), freq=f"{step_minutes}min")[:-1]
    offset = _utc_offset_h(one, timezone)
    hours = one.hour.to_numpy() + one.minute.to_numpy() / 60.0
    ta = diurnal_temperature(hours, tmin_c, tmax_c, hour_min, hour_max)
    e = float(saturation_vapour_pressure(dew_point_c))
    rh = np.minimum(100.0 * e / saturation_vapour_pressure(ta), 100.0)
    elev = sun.solar_elevation(sun.utc_times(one, offset, longitude), latitude, longitude)
    n = spinup_days + 1  # the spin-up days repeat the design day exactly
    out = pd.DataFrame(
        {
            "air_temperature": np.tile(ta, n),
            "relative_humidity": np.tile(rh, n),
            "wind_speed": np.full(len(times), float(wind_m_s)),
            "shortwave_down": np.tile(clear_sky_shortwave(elev), n),
            "longwave_down": np.tile(clear_sky_longwave(ta, np.full(len(one), e)), n),
            "pressure": np.full(len(times), float(pressure_hpa)),
        },
        index=pd.DatetimeIndex(times, name="time"),
    )
    out.attrs["assumed"] = (
        f"ASSUMED clear-sky heat-wave design day at {latitude:.4f}° N, {longitude:.4f}° E on "
        f"{day.date()} ({timezone}): air temperature {tmin_c:g}–{tmax_c:g} °C (two-part "
        f"cosine, min {hour_min:g} h, max {hour_max:g} h), dew point {dew_point_c:g} °C, wind "
        f"{wind_m_s:g} m/s, {pressure_hpa:g} hPa; Haurwitz clear-sky shortwave, Brutsaert "
        f"longwave; repeated over {spinup_days} spin-up day(s)"
    )
    out.attrs["analysis_start"] = str(day)
    return out


def _utc_offset_h(times: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    try:
        local = times.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    except Exception:
        msg = message(
            f"unknown time zone '{timezone}'",
            where="parameters.heat.timezone",
            fix="use an IANA name such as Europe/Paris",
        )
        raise InputError(msg) from None
    off = np.array(
        [t.utcoffset().total_seconds() / 3600.0 if t is not pd.NaT else np.nan for t in local]
    )
    return pd.Series(off).ffill().bfill().to_numpy()


def read_forcing_csv(path: str | Path, *, time_column: str = "time") -> pd.DataFrame:
    """Read and check a forcing CSV (one row per time step).

    Parameters
    ----------
    path : path
        CSV with a ``time`` column (ISO 8601, local clock) and the columns of
        :data:`FORCING_COLUMNS`, in their units.
    time_column : str
        Name of the time column.

    Returns
    -------
    DataFrame
        Indexed by ``time`` (naive), the forcing columns as floats, sorted.

    Raises
    ------
    InputError
        On a missing file or column, an unreadable or duplicated time, a non-number, a value
        outside its plausible range, or an irregular time step; the message names the file,
        the row (1-based, the header is row 1) and the column.
    """
    p = Path(path)
    if not p.is_file():
        msg = message("forcing file not found", where=p, fix="give the path of a CSV file")
        raise InputError(msg)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        msg = message(f"cannot read the forcing CSV ({exc})", where=p, fix="save it as UTF-8 CSV")
        raise InputError(msg) from None
    df.columns = [c.strip() for c in df.columns]
    need = [time_column, *FORCING_COLUMNS]
    missing = [c for c in need if c not in df.columns]
    if missing:
        msg = message(
            f"missing column(s) {missing} (found {list(df.columns)})",
            where=p,
            fix="name the columns "
            + ", ".join(f"{c} [{u}]" for c, (u, *_) in FORCING_COLUMNS.items())
            + f" and {time_column}",
        )
        raise InputError(msg)
    if len(df) < 2:
        msg = message("fewer than two time steps", where=p, fix="give at least two rows")
        raise InputError(msg)
    times = pd.to_datetime(df[time_column].str.strip(), errors="coerce", format="ISO8601")
    bad = times.isna().to_numpy()
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        msg = message(
            f"unreadable time '{df[time_column].iloc[r]}' ({int(bad.sum())} row(s))",
            where=f"{p}, row {r + 2}, column {time_column}",
            fix="write times as ISO 8601, e.g. 2025-07-15T14:00",
        )
        raise InputError(msg)
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_localize(None)
    out: dict[str, Any] = {}
    for col, (unit, lo, hi) in FORCING_COLUMNS.items():
        v = pd.to_numeric(df[col].str.strip().str.replace(",", ".", regex=False), errors="coerce")
        nan = v.isna().to_numpy()
        if nan.any():
            r = int(np.flatnonzero(nan)[0])
            msg = message(
                f"'{df[col].iloc[r]}' is not a number ({int(nan.sum())} row(s))",
                where=f"{p}, row {r + 2}, column {col}",
                fix=f"give {col} in {unit} on every row (gaps must be filled before the run)",
            )
            raise InputError(msg)
        out_of = ((v < lo) | (v > hi)).to_numpy()
        if out_of.any():
            r = int(np.flatnonzero(out_of)[0])
            msg = message(
                f"{col} = {v.iloc[r]:g} {unit} is outside [{lo:g}, {hi:g}]",
                where=f"{p}, row {r + 2}, column {col}",
                fix=f"check the unit: {col} must be in {unit}",
            )
            raise InputError(msg)
        out[col] = v.to_numpy(dtype=float)
    frame = pd.DataFrame(out, index=pd.DatetimeIndex(times, name="time"))
    dup = frame.index.duplicated()
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        msg = message(
            f"time {frame.index[r]} appears twice",
            where=f"{p}, row {r + 2}, column {time_column}",
            fix="keep one row per time step",
        )
        raise InputError(msg)
    frame = frame.sort_index()
    steps = np.unique(np.diff(frame.index.to_numpy()).astype("timedelta64[s]").astype(np.int64))
    if len(steps) != 1:
        msg = message(
            f"irregular time step ({sorted(int(s) // 60 for s in steps)[:5]} min)",
            where=f"{p}, column {time_column}",
            fix="resample the forcing to a regular step (e.g. hourly) and fill the gaps",
        )
        raise InputError(msg)
    frame.attrs["source"] = str(p)
    return frame
