"""Astronomical clock against published times; energy against hand-computed schedules."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from twin.errors import InputError, SchemaError
from twin.lighting import energy, lamp_energy, night_clock, parse_schedule, sun_times

PARIS = (48.8566, 2.3522)
MTP = (43.61, 3.88)


@pytest.mark.parametrize(
    ("date", "rise", "sset", "source"),
    [
        # RTL, « Qu'est-ce que le solstice d'hiver, qui a lieu ce mardi 21 décembre » (2021):
        # Paris sunrise 8 h 41, sunset 16 h 56 (CET, UTC+1)
        ("2021-12-21", "08:41", "16:56", "rtl.fr 2021-12-21"),
        # pratique.fr, « Les journées continuent de raccourcir… » (2014): Thursday
        # 18 December 2014, Paris sunset 16 h 54, sunrise 8 h 40 (CET)
        ("2014-12-18", "08:40", "16:54", "pratique.fr 2014-12-18"),
    ],
)
def test_sunrise_sunset_match_published_paris_times(date, rise, sset, source) -> None:
    st = sun_times([date], *PARIS).iloc[0]

    def minutes(hhmm: str) -> int:
        return int(hhmm[:2]) * 60 + int(hhmm[3:]) - 60  # CET → UTC

    assert abs(st["sunrise_utc_min"] - minutes(rise)) <= 2.0, source
    assert abs(st["sunset_utc_min"] - minutes(sset)) <= 2.0, source


def test_night_hours_equal_the_sum_of_daily_nights() -> None:
    clock = night_clock(2025, *MTP)
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D")
    st = sun_times(days, *MTP)
    by_hand = float((1440 - (st["sunset_utc_min"] - st["sunrise_utc_min"])).sum() / 60)
    assert clock.night_hours == pytest.approx(by_hand, abs=3.0)
    assert 4250 < clock.night_hours < 4400  # about 11.8 h a night at 43.6° N


def _lamps(n: int = 3, power: float = 100.0, **cols) -> pd.DataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"power_w": [power] * n, **cols},
        geometry=[Point(i, 0) for i in range(n)],
        crs=2154,
        index=pd.Index([f"L{i}" for i in range(n)]),
    )


def test_energy_matches_hand_computed_schedule() -> None:
    """23:00–05:00 local is always night at 43.6° N: 6 h × 365 nights = 2190 h, except one
    hour less on the spring-forward night and one more on the fall-back night."""
    clock = night_clock(2025, *MTP)
    base = lamp_energy(_lamps(), clock)
    full_h = clock.night_hours
    assert base["energy_kwh"].iloc[0] == pytest.approx(0.1 * full_h, rel=1e-12)
    dim = json.dumps([["23:00", 0.5], ["05:00", 1.0]])
    half = lamp_energy(_lamps(schedule=[dim] * 3), clock)
    assert half["energy_kwh"].iloc[0] == pytest.approx(0.1 * (full_h - 0.5 * 2190), abs=1e-6)
    off = lamp_energy(_lamps(switch_off=['["01:00", "05:00"]'] * 3), clock)
    assert off["burning_hours_h"].iloc[0] == pytest.approx(full_h - 4 * 365, abs=1e-6)
    assert off["cost_eur"].iloc[0] == pytest.approx(off["energy_kwh"].iloc[0] * 0.20)


def test_energy_per_cabinet_with_peak_and_unknown() -> None:
    lamps = _lamps(4, 150.0, cabinet=["A", "A", None, "B"])
    lamps.loc["L3", "schedule"] = json.dumps([["00:00", 0.3]])
    out = energy(lamps, tariff=0.25, emission_factor=0.05, year=2025)
    assert list(out.index) == ["A", "B", "unknown", "total"]
    assert out.loc["A", "n_lamps"] == 2 and out.loc["unknown", "n_lamps"] == 1
    assert out.loc["A", "peak_kw"] == pytest.approx(0.3)
    assert out.loc["B", "peak_kw"] == pytest.approx(0.045)
    assert out.loc["total", "peak_kw"] == pytest.approx(0.3 + 0.15 + 0.045)
    assert out.loc["total", "cost_eur"] == pytest.approx(out.loc["total", "energy_kwh"] * 0.25)
    assert out.loc["B", "energy_kwh"] == pytest.approx(0.3 * out.loc["unknown", "energy_kwh"])


def test_negative_power_names_rows() -> None:
    lamps = _lamps(3)
    lamps.loc["L1", "power_w"] = -70.0
    with pytest.raises(InputError, match=r"rows \[2\], ids \['L1'\].*power_w must be"):
        energy(lamps)


def test_unknown_schedule_format_is_explained() -> None:
    lamps = _lamps(2, schedule=["dusk_to_dawn", "every other night"])
    with pytest.raises(SchemaError, match=r"lamps \['L1'\].*unknown schedule format.*HH:MM"):
        energy(lamps)
    with pytest.raises(SchemaError, match="outside"):
        parse_schedule([["22:00", 1.5]])
    with pytest.raises(SchemaError, match="not \\[HH:MM, level\\]"):
        parse_schedule('[["25:00", 0.5]]')


def test_schedule_levels_wrap_around_midnight() -> None:
    prof = parse_schedule([["22:00", 0.5], ["06:00", 1.0]])
    assert prof[0] == 0.5 and prof[22 * 60] == 0.5 and prof[6 * 60] == 1.0 and prof[12 * 60] == 1
    assert np.all(parse_schedule("dusk_to_dawn") == 1.0)
