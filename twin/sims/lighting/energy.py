"""Street-lighting energy: an astronomical clock, operating schedules, kWh, €, CO₂, peak kW.

**Astronomical clock.** Lamps burn from sunset to sunrise. Sunrise and sunset come from the
NOAA general solar position equations (NOAA Global Monitoring Laboratory, *General Solar
Position Calculations*, after Spencer 1971): with the fractional year
``y = 2π/N · (doy − 1 + (hour − 12)/24)`` (N = 365 or 366),

    eqtime = 229.18 (0.000075 + 0.001868 cos y − 0.032077 sin y − 0.014615 cos 2y
             − 0.040849 sin 2y)                                              [min]
    decl   = 0.006918 − 0.399912 cos y + 0.070257 sin y − 0.006758 cos 2y
             + 0.000907 sin 2y − 0.002697 cos 3y + 0.00148 sin 3y            [rad]
    ha     = arccos(cos 90.833° / (cos φ cos decl) − tan φ tan decl)          [°]
    sunrise = 720 − 4 (λ + ha) − eqtime,  sunset = 720 − 4 (λ − ha) − eqtime  [min UTC]

(φ latitude, λ longitude east-positive; 90.833° allows for refraction and the solar disc).
Each event is computed twice, the second time with ``y`` at the first estimate's hour.
Checked against published Paris times within 2 minutes (tests).

**Schedules.** A lamp's ``schedule`` is ``dusk_to_dawn`` (full power all night) or a JSON
list of ``[HH:MM, level]`` steps in local time: from each step's time the lamp runs at
``level`` (0–1) of its power until the next step (cyclic over 24 h; the level before the
first step is the last step's). ``switch_off`` is a JSON ``[start, end]`` local window with
the lamp off (it may span midnight). The level applies only at night; the light output is
taken proportional to the power level (ASSUMED, near-linear LED drivers).

**Energy.** ``kWh = power_w × Σ_night level × Δt / 1000`` per lamp over a year, at a
one-minute step in the territory's time zone (summer time included). Cost and CO₂ multiply
by the tariff and the emission factor; the peak is the largest simultaneous ``Σ power ×
level`` of a cabinet's lamps.

References
----------
NOAA Global Monitoring Laboratory, General Solar Position Calculations,
https://gml.noaa.gov/grad/solcalc/solareqns.PDF
Spencer, J. W. (1971). Fourier series representation of the position of the sun. *Search*
2(5), 172.
ADEME, Base Empreinte® (ex Base Carbone®), electricity emission factors for France.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from twin.errors import InputError, SchemaError, message
from twin.sims.sun import declination_and_eot

#: Electricity price for a commune [€/kWh, taxes included] (ASSUMED order of magnitude of
#: 2023–2025 public-lighting supply contracts in France; use the commune's own bill).
DEFAULT_TARIFF_EUR_KWH = 0.20

#: Emission factor of French grid electricity [kgCO₂e/kWh] (ASSUMED: ADEME Base Empreinte,
#: "Électricité – 2022 – mix moyen – consommation", France continentale; check the current
#: value for the year studied).
DEFAULT_EMISSION_KG_KWH = 0.052

#: Sun zenith at sunrise and sunset [°] (refraction and the solar disc).
ZENITH_DEG = 90.833

_ALWAYS_ON = {"dusk_to_dawn", "all_night", "toute_la_nuit", "permanent", ""}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _noaa(doy: np.ndarray, hour: np.ndarray, ndays: int) -> tuple[np.ndarray, np.ndarray]:
    decl, eqt = declination_and_eot(doy, hour, ndays)
    return eqt, decl


def _event(doy: np.ndarray, lat: float, lon: float, ndays: int, sign: float) -> np.ndarray:
    phi = np.radians(lat)
    hour = np.full(doy.shape, 12.0 - sign * 6.0)
    out = np.zeros(doy.shape)
    for _ in range(2):
        eqt, decl = _noaa(doy, hour, ndays)
        cos_ha = np.cos(np.radians(ZENITH_DEG)) / (np.cos(phi) * np.cos(decl)) - np.tan(
            phi
        ) * np.tan(decl)
        ha = np.degrees(np.arccos(np.clip(cos_ha, -1.0, 1.0)))
        out = 720.0 - 4.0 * (lon + sign * ha) - eqt
        hour = out / 60.0
    # polar night (cos_ha > 1): no day at all; midnight sun (< -1): no night
    out = np.where(cos_ha > 1, 720.0 - 4.0 * lon - eqt, out)
    return out


def sun_times(dates: Any, lat: float, lon: float) -> pd.DataFrame:
    """Sunrise and sunset [minutes after 00:00 UTC] of each date (NOAA equations).

    Parameters
    ----------
    dates : array-like of dates
        Calendar dates (UTC).
    lat, lon : float
        Latitude and longitude [°, north and east positive].

    Returns
    -------
    DataFrame
        ``sunrise_utc_min`` and ``sunset_utc_min``, indexed by date; equal at polar night,
        0 and 1440 at midnight sun.
    """
    d = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    doy = d.day_of_year.to_numpy().astype(float)
    ndays = np.where(d.is_leap_year, 366, 365)
    rise = np.empty(len(d))
    sset = np.empty(len(d))
    for nd in np.unique(ndays):
        m = ndays == nd
        rise[m] = _event(doy[m], lat, lon, int(nd), 1.0)
        sset[m] = _event(doy[m], lat, lon, int(nd), -1.0)
    return pd.DataFrame({"sunrise_utc_min": rise, "sunset_utc_min": sset}, index=d)


@dataclass
class NightClock:
    """Minute-by-minute night mask of a year at a place.

    Attributes
    ----------
    minute_of_day : ndarray of int16
        Local clock minute (0–1439) of each UTC minute of the year.
    night : ndarray of bool
        True between sunset and sunrise.
    """

    year: int
    lat: float
    lon: float
    tz: str
    minute_of_day: np.ndarray
    night: np.ndarray

    @property
    def night_hours(self) -> float:
        """Hours of night in the year [h]."""
        return float(self.night.sum() / 60.0)

    def state_counts(self) -> np.ndarray:
        """Night minutes per local minute of day, shape (1440,)."""
        return np.bincount(self.minute_of_day[self.night], minlength=1440).astype(float)


@lru_cache(maxsize=16)
def night_clock(year: int, lat: float, lon: float, tz: str = "Europe/Paris") -> NightClock:
    """The night mask of ``year`` at ``(lat, lon)``, with local clock minutes in ``tz``.

    Night is decided in local mean solar time (UTC + 4 λ minutes), so the day boundary is
    always at solar midnight, whatever the longitude.
    """
    t = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="min", tz="UTC", inclusive="left")
    try:
        local = t.tz_convert(tz)
    except Exception:
        msg = message(f"unknown time zone {tz!r}", where="timezone", fix="use e.g. Europe/Paris")
        raise SchemaError(msg) from None
    mod = (local.hour * 60 + local.minute).to_numpy().astype(np.int16)
    solar = t + pd.to_timedelta(4.0 * lon, unit="min")
    days = solar.normalize().tz_localize(None)
    uniq, inv = np.unique(days.to_numpy(), return_inverse=True)
    st = sun_times(uniq, lat, lon)
    minute_solar = (solar.hour * 60 + solar.minute).to_numpy() + solar.second.to_numpy() / 60.0
    rise = st["sunrise_utc_min"].to_numpy()[inv] + 4.0 * lon
    sset = st["sunset_utc_min"].to_numpy()[inv] + 4.0 * lon
    night = (minute_solar < rise) | (minute_solar >= sset)
    return NightClock(year, lat, lon, tz, mod, night)


def _minutes(text: str) -> int:
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(text)
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_schedule(value: Any, *, where: str = "schedule") -> np.ndarray:
    """Level (0–1) of each local minute of the day from a schedule.

    Parameters
    ----------
    value : str, list or None
        ``dusk_to_dawn`` (or empty) → 1 all night; a list (or its JSON text) of
        ``[HH:MM, level]`` steps.
    where : str
        For messages.

    Returns
    -------
    ndarray of float64, shape (1440,)

    Raises
    ------
    SchemaError
        Unknown format, bad time or level out of [0, 1].
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.ones(1440)
    steps = value
    if isinstance(value, str):
        if value.strip().lower() in _ALWAYS_ON:
            return np.ones(1440)
        try:
            steps = json.loads(value)
        except json.JSONDecodeError:
            steps = None
    fix = (
        'use "dusk_to_dawn" or a JSON list of [HH:MM, level] steps, '
        'e.g. [["22:00", 0.5], ["06:00", 1.0]]'
    )
    if not isinstance(steps, list) or not steps:
        msg = message(f"unknown schedule format {value!r}", where=where, fix=fix)
        raise SchemaError(msg)
    starts, levels = [], []
    for k, st in enumerate(steps):
        try:
            t, lv = st
            starts.append(_minutes(str(t)))
            levels.append(float(lv))
        except (TypeError, ValueError):
            msg = message(f"step {k} {st!r} is not [HH:MM, level]", where=where, fix=fix)
            raise SchemaError(msg) from None
        if not 0.0 <= levels[-1] <= 1.0:
            msg = message(f"step {k} level {levels[-1]:g} is outside [0, 1]", where=where, fix=fix)
            raise SchemaError(msg)
    order = np.argsort(starts, kind="stable")
    s = np.array(starts)[order]
    lv = np.array(levels)[order]
    idx = np.searchsorted(s, np.arange(1440), side="right") - 1
    return np.where(idx >= 0, lv[idx], lv[-1])


def parse_switch_off(value: Any, *, where: str = "switch_off") -> np.ndarray:
    """1 where a ``[start, end]`` switch-off window (local time) leaves the lamp on, else 0."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return np.ones(1440)
    win = json.loads(value) if isinstance(value, str) and value.strip().startswith("[") else value
    fix = 'give a JSON [start, end] window, e.g. ["01:00", "05:00"]'
    try:
        a, b = (_minutes(str(v)) for v in win)
    except (TypeError, ValueError):
        msg = message(f"unknown switch-off format {value!r}", where=where, fix=fix)
        raise SchemaError(msg) from None
    m = np.arange(1440)
    off = (m >= a) & (m < b) if a <= b else (m >= a) | (m < b)
    return np.where(off, 0.0, 1.0)


def _key(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return v if isinstance(v, str) else json.dumps(v)


def lamp_profiles(lamps: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Distinct daily level profiles of the lamps, and each lamp's profile number.

    Returns
    -------
    profiles : ndarray, shape (k, 1440)
    which : ndarray of int64, shape (n,)
    """
    sched = lamps["schedule"] if "schedule" in lamps else pd.Series("", index=lamps.index)
    off = lamps["switch_off"] if "switch_off" in lamps else pd.Series("", index=lamps.index)
    keys = pd.Series(
        [f"{_key(a)}|{_key(b)}" for a, b in zip(sched, off, strict=True)], index=lamps.index
    )
    codes, uniq = pd.factorize(keys)
    profiles = np.empty((len(uniq), 1440))
    for k, key in enumerate(uniq):
        ids = lamps.index[codes == k]
        where = f"lamps {ids[:5].tolist()}{' …' if len(ids) > 5 else ''}"
        s, o = key.split("|", 1)
        profiles[k] = parse_schedule(s or None, where=f"{where}, field 'schedule'")
        profiles[k] *= parse_switch_off(o or None, where=f"{where}, field 'switch_off'")
    return profiles, codes.astype(np.int64)


def check_power(lamps: pd.DataFrame, where: str = "lamps") -> np.ndarray:
    """``power_w`` as floats, refusing negative or missing values (naming the rows)."""
    if "power_w" not in lamps:
        msg = message("no 'power_w' column", where=where, fix="load the layer as an inventory")
        raise InputError(msg)
    p = pd.to_numeric(lamps["power_w"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(p) | (p < 0)
    if bad.any():
        rows = np.flatnonzero(bad)[:10]
        msg = message(
            f"{int(bad.sum())} lamps have a negative or missing power_w (rows "
            f"{(rows + 1).tolist()}, ids {lamps.index[rows][:5].tolist()}, values "
            f"{lamps['power_w'].iloc[rows[:3]].tolist()})",
            where=f"{where}, field 'power_w'",
            fix="power_w must be a number ≥ 0 [W]; correct those lamps",
        )
        raise InputError(msg)
    return p


def lamp_energy(
    lamps: pd.DataFrame,
    clock: NightClock,
    *,
    tariff: float = DEFAULT_TARIFF_EUR_KWH,
    emission_factor: float = DEFAULT_EMISSION_KG_KWH,
    where: str = "lamps",
) -> pd.DataFrame:
    """Annual operation of each lamp.

    Returns
    -------
    DataFrame
        Aligned with ``lamps``: ``burning_hours_h`` (night hours with level > 0),
        ``full_load_hours_h`` (Σ level × hours), ``mean_level``, ``energy_kwh``,
        ``cost_eur``, ``co2_kg``.
    """
    p = check_power(lamps, where)
    profiles, which = lamp_profiles(lamps)
    counts = clock.state_counts() / 60.0  # night hours per minute-of-day
    full = profiles @ counts
    on = (profiles > 0) @ counts
    f, o = full[which], on[which]
    kwh = p * f / 1000.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(o > 0, f / o, 0.0)
    return pd.DataFrame(
        {
            "burning_hours_h": o,
            "full_load_hours_h": f,
            "mean_level": mean,
            "energy_kwh": kwh,
            "cost_eur": kwh * tariff,
            "co2_kg": kwh * emission_factor,
        },
        index=lamps.index,
    )


def cabinet_peaks(lamps: pd.DataFrame, clock: NightClock, cabinets: pd.Series) -> pd.Series:
    """Largest simultaneous power of each cabinet's lamps over the year [kW]."""
    p = check_power(lamps)
    profiles, which = lamp_profiles(lamps)
    present = clock.state_counts() > 0  # local minutes of day that occur at night
    cab_codes, cab_names = pd.factorize(cabinets, use_na_sentinel=False)
    mat = np.zeros((len(cab_names), len(profiles)))
    np.add.at(mat, (cab_codes, which), p / 1000.0)
    load = mat @ profiles[:, present] if present.any() else np.zeros((len(cab_names), 1))
    return pd.Series(load.max(axis=1), index=pd.Index(cab_names, name="cabinet"))


def energy(
    inventory: pd.DataFrame,
    schedule: Any = None,
    *,
    tariff: float = DEFAULT_TARIFF_EUR_KWH,
    emission_factor: float = DEFAULT_EMISSION_KG_KWH,
    lat: float = 43.61,
    lon: float = 3.88,
    year: int = 2025,
    tz: str = "Europe/Paris",
) -> pd.DataFrame:
    """Annual energy, cost, CO₂ and peak power per cabinet.

    Parameters
    ----------
    inventory : DataFrame
        Lamps with ``power_w`` [W] and optionally ``schedule``, ``switch_off``, ``cabinet``
        (missing cabinet → ``"unknown"``).
    schedule : str or list, optional
        A schedule for every lamp, overriding the ``schedule`` column.
    tariff : float
        Electricity price [€/kWh].
    emission_factor : float
        [kgCO₂e/kWh].
    lat, lon : float
        Place of the astronomical clock [°] (default Montpellier).
    year : int
        Calendar year.
    tz : str
        Time zone of the schedules.

    Returns
    -------
    DataFrame
        Indexed by cabinet: ``n_lamps``, ``installed_kw``, ``energy_kwh``, ``cost_eur``,
        ``co2_kg``, ``peak_kw``, plus a ``total`` row.
    """
    for name, v in (("tariff", tariff), ("emission_factor", emission_factor)):
        if not (np.isfinite(v) and v >= 0):
            msg = message(f"{name} = {v}", where=name, fix="give a number ≥ 0")
            raise InputError(msg)
    lamps = inventory.copy()
    if schedule is not None:
        lamps["schedule"] = schedule if isinstance(schedule, str) else json.dumps(schedule)
    clock = night_clock(int(year), float(lat), float(lon), tz)
    per = lamp_energy(lamps, clock, tariff=tariff, emission_factor=emission_factor)
    cab = (
        lamps["cabinet"].astype(object).where(lamps["cabinet"].notna(), "unknown")
        if "cabinet" in lamps
        else pd.Series("unknown", index=lamps.index)
    ).astype(str)
    per["power_kw"] = check_power(lamps) / 1000.0
    g = per.groupby(cab.to_numpy())
    out = pd.DataFrame(
        {
            "n_lamps": g.size(),
            "installed_kw": g["power_kw"].sum(),
            "energy_kwh": g["energy_kwh"].sum(),
            "cost_eur": g["cost_eur"].sum(),
            "co2_kg": g["co2_kg"].sum(),
        }
    )
    out["peak_kw"] = cabinet_peaks(lamps, clock, cab)
    out.index.name = "cabinet"
    tot = out.sum().to_frame("total").T
    tot["peak_kw"] = float(
        cabinet_peaks(lamps, clock, pd.Series("total", index=lamps.index)).iloc[0]
    )
    return pd.concat([out, tot])
