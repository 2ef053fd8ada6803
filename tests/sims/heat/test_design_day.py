"""The ASSUMED heat-wave design day and the forcing CSV reader."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.errors import InputError
from twin.sims.heat.design_day import (
    SIGMA,
    clear_sky_longwave,
    clear_sky_shortwave,
    design_day,
    read_forcing_csv,
    saturation_vapour_pressure,
)
from twin.sims.heat.forcing import check_forcing


def test_design_day_shape_and_labels() -> None:
    f = design_day(48.85, 2.35, "2025-07-15", timezone="Europe/Paris", spinup_days=2)
    assert len(f) == 72 and f.index[0] == pd.Timestamp("2025-07-13")
    assert f.index[-1] == pd.Timestamp("2025-07-15 23:00")
    assert "ASSUMED" in f.attrs["assumed"] and "Europe/Paris" in f.attrs["assumed"]
    day = f.loc["2025-07-15"]
    # identical spin-up days
    np.testing.assert_allclose(f.iloc[:24].to_numpy(), day.to_numpy(), rtol=1e-12)
    ta = day["air_temperature"]
    assert ta.max() == pytest.approx(32.0) and ta.idxmax().hour == 15
    assert ta.min() == pytest.approx(20.0) and ta.idxmin().hour == 5
    # constant dew point 16 °C: RH = 100 e_s(16) / e_s(T)
    rh = 100 * saturation_vapour_pressure(16.0) / saturation_vapour_pressure(ta.to_numpy())
    np.testing.assert_allclose(day["relative_humidity"], rh)
    assert day["relative_humidity"].max() == pytest.approx(77.8, abs=0.1)  # at 20 °C
    # the forcing passes the model's own forcing checks without repairs
    clean, filled = check_forcing(f)
    assert filled == {} and len(clean) == 72


def test_clear_sky_radiation() -> None:
    # Haurwitz at the zenith and at night
    sw = clear_sky_shortwave(np.array([math.pi / 2, -0.1, 0.0]))
    assert sw[0] == pytest.approx(1098 * math.exp(-0.057)) and sw[1] == sw[2] == 0.0
    # Brutsaert: ε = 1.24 (e/T)^(1/7), e.g. 20 °C, 18.2 hPa → ε ≈ 0.834, L ≈ 349 W/m²
    lw = clear_sky_longwave(np.array([20.0]), np.array([18.17]))[0]
    eps = 1.24 * (18.17 / 293.15) ** (1 / 7)
    assert lw == pytest.approx(eps * SIGMA * 293.15**4) and 340 < lw < 360


def test_design_day_bad_parameters() -> None:
    with pytest.raises(InputError, match=r"tmin_c \(35.0\) must be below tmax_c \(30.0\)"):
        design_day(45.0, 5.0, tmin_c=35.0, tmax_c=30.0, dew_point_c=10.0)
    with pytest.raises(InputError, match="dew_point_c"):
        design_day(45.0, 5.0, dew_point_c=25.0)
    with pytest.raises(InputError, match=r"unknown time zone 'Mars/Olympus'.*IANA"):
        design_day(45.0, 5.0, timezone="Mars/Olympus")
    with pytest.raises(InputError, match=r"'15/07' is not a date.*YYYY-MM-DD"):
        design_day(45.0, 5.0, "15/07")


def _write(tmp_path: Path, f: pd.DataFrame, name: str = "f.csv") -> Path:
    p = tmp_path / name
    f.reset_index().to_csv(p, index=False)
    return p


def test_forcing_csv_round_trip(tmp_path: Path) -> None:
    f = design_day(43.6, 3.88, "2025-08-01", timezone="Europe/Paris", spinup_days=1)
    got = read_forcing_csv(_write(tmp_path, f))
    pd.testing.assert_frame_equal(got, f, check_freq=False, check_index_type=False, rtol=1e-9)
    # shuffled rows are sorted back
    shuffled = _write(tmp_path, f.sample(frac=1.0, random_state=0), "s.csv")
    assert read_forcing_csv(shuffled).index.is_monotonic_increasing


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda d: d.drop(columns="pressure"),
         r"f.csv: missing column\(s\) \['pressure'\].*Fix: name the columns"),
        (lambda d: d.assign(wind_speed=d["wind_speed"].astype(object).where(d.index != 1, "calm")),
         r"f.csv, row 3, column wind_speed: 'calm' is not a number"),
        (lambda d: d.assign(air_temperature=d["air_temperature"] + 273.15),
         r"row 2, column air_temperature: air_temperature = 29\d\.\d+ °C is outside "
         r"\[-60, 60\].*check the unit"),
        (lambda d: d.assign(time=d["time"].astype(str).where(d.index != 4, "yesterday")),
         r"row 6, column time: unreadable time 'yesterday'.*ISO 8601"),
        (lambda d: d.drop(index=[5, 6]), r"irregular time step.*resample"),
        (lambda d: d.assign(time=d["time"].where(d.index != 3, d["time"][2])),
         r"appears twice.*keep one row"),
    ],
)  # fmt: skip
def test_forcing_csv_bad_input(tmp_path: Path, edit, pattern: str) -> None:
    f = design_day(43.6, 3.88, "2025-08-01", timezone="Europe/Paris", spinup_days=0)
    d = edit(f.reset_index())
    p = tmp_path / "f.csv"
    d.to_csv(p, index=False)
    with pytest.raises(InputError, match=pattern):
        read_forcing_csv(p)


def test_forcing_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope.csv: forcing file not found"):
        read_forcing_csv(tmp_path / "nope.csv")
