"""Forcing validation and gap filling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.errors import InputError
from twin.sims.heat import datasets as ml
from twin.sims.heat.forcing import COLUMNS, check_forcing


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return ml.read_forcing(raw=True)


def test_real_forcing_control_period_is_clean(real):
    clean, filled = check_forcing(real.loc[ml.SPINUP_START : ml.PERIOD_END])
    assert list(clean.columns) == list(COLUMNS)
    assert len(clean) == 133 and not clean.isna().any().any()
    assert filled == {}


def test_real_forcing_long_gap_is_an_error(real):
    # the file has a 14 h hole on 6 January 2011
    with pytest.raises(InputError) as e:
        check_forcing(real)
    msg = str(e.value)
    assert "forcing['air_temperature']" in msg
    assert "2011-01-06 19:30:00" in msg
    assert "max_gap_hours" in msg


def test_short_gap_is_interpolated_and_counted(real):
    f = real.loc[ml.SPINUP_START : ml.PERIOD_END].copy()
    f.iloc[10:13, 0] = np.nan  # 1.5 h
    clean, filled = check_forcing(f)
    assert filled == {"air_temperature": 3}
    a, b = f.iloc[9, 0], f.iloc[13, 0]
    np.testing.assert_allclose(clean.iloc[10:13, 0], a + (b - a) * np.array([1, 2, 3]) / 4)


def test_leading_nan_is_an_error(real):
    f = real.loc[ml.SPINUP_START : ml.PERIOD_END].copy()
    f.iloc[0, 2] = np.nan
    with pytest.raises(InputError, match=r"wind_speed.*start/end"):
        check_forcing(f)


def test_missing_columns_are_named(real):
    f = real.loc[ml.SPINUP_START : ml.PERIOD_END].drop(columns=["longwave_down", "pressure"])
    with pytest.raises(InputError, match=r"longwave_down, pressure"):
        check_forcing(f)


def test_irregular_unsorted_duplicated(real):
    f = real.loc[ml.SPINUP_START : ml.PERIOD_END]
    with pytest.raises(InputError, match=r"irregular time step.*2011-02-14 02:00"):
        check_forcing(f.drop(f.index[3]))
    with pytest.raises(InputError, match=r"not sorted"):
        check_forcing(f.iloc[::-1])
    with pytest.raises(InputError, match=r"duplicated timestamps"):
        check_forcing(pd.concat([f.iloc[:5], f.iloc[4:]]))
    with pytest.raises(InputError, match=r"timestamps"):
        check_forcing(f.reset_index(drop=True).set_index(pd.Index(["a"] * len(f))))


def test_ranges_and_negative_shortwave(real):
    f = real.loc[ml.SPINUP_START : ml.PERIOD_END].copy()
    f.iloc[5, f.columns.get_loc("shortwave_down")] = -3.0
    clean, filled = check_forcing(f)
    assert clean["shortwave_down"].min() == 0.0 and filled == {"shortwave_down": 1}
    f.iloc[7, f.columns.get_loc("relative_humidity")] = 250.0
    with pytest.raises(InputError, match=r"relative_humidity.*0.0..105.0"):
        check_forcing(f)
