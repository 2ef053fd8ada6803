"""UTCI kernel: numpy oracle, peer (pythermalcomfort), check values, range handling."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.utci import (
    UTCI_COEFFICIENTS,
    UTCI_EXPONENTS,
    saturation_vapour_pressure_hpa,
    saturation_vapour_pressure_hpa_numpy,
    utci,
    utci_numpy,
)


def _valid_inputs(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Random points spanning the whole validity range (wind 0.5..17 m/s, rh 0..100 %)."""
    rng = np.random.default_rng(seed)
    ta = rng.uniform(-50.0, 50.0, n)
    tmrt = ta + rng.uniform(-30.0, 70.0, n)
    va = rng.uniform(0.5, 17.0, n)
    rh = rng.uniform(0.0, 100.0, n)
    return ta, tmrt, va, rh


def test_coefficient_table_shape() -> None:
    assert UTCI_COEFFICIENTS.shape == (210,)
    assert UTCI_EXPONENTS.shape == (210, 4)
    assert UTCI_EXPONENTS.sum(axis=1).max() == 6
    # first terms of the published list: constant, ta, …; last term pa^6
    assert UTCI_COEFFICIENTS[0] == 6.07562052e-01
    assert tuple(UTCI_EXPONENTS[7]) == (0, 1, 0, 0)  # va
    assert UTCI_COEFFICIENTS[7] == -2.25836520
    assert tuple(UTCI_EXPONENTS[-1]) == (0, 0, 0, 6)
    assert UTCI_COEFFICIENTS[-1] == 1.48348065e-03


def test_numba_matches_numpy_reference() -> None:
    ta, tmrt, va, rh = _valid_inputs(20_003, seed=1)  # not a multiple of the block size
    # a tenth of the points outside the range or with wind to clip
    rng = np.random.default_rng(2)
    k = rng.choice(ta.size, 5000, replace=False)
    tmrt[k[:2000]] = ta[k[:2000]] + rng.uniform(-60.0, 100.0, 2000)
    ta[k[2000:3000]] = rng.uniform(-70.0, 70.0, 1000)
    va[k[3000:]] = rng.uniform(0.0, 30.0, 2000)
    got = utci(ta, tmrt, va, rh)
    ref = utci_numpy(ta, tmrt, va, rh)
    assert got.dtype == np.float64 and got.shape == ta.shape
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    assert np.isnan(got).sum() > 500  # the out-of-range points are there
    assert np.nanmax(np.abs(got - ref)) <= 1e-9


def test_saturation_vapour_pressure_numba_numpy_and_hardy() -> None:
    ta = np.linspace(-50.0, 100.0, 301)
    es = saturation_vapour_pressure_hpa(ta)
    assert np.allclose(es, saturation_vapour_pressure_hpa_numpy(ta), rtol=1e-13, atol=0)
    # Hardy (1998) ITS-90: 611.213 Pa at 0 °C, 101 418 Pa at 100 °C
    assert es[100] == pytest.approx(6.11213, abs=1e-4)
    assert es[-1] == pytest.approx(1014.18, abs=0.01)


def test_agrees_with_pythermalcomfort() -> None:
    from pythermalcomfort.models import utci as ptc_utci

    ta, tmrt, va, rh = _valid_inputs(2000, seed=3)
    ours = utci(ta, tmrt, va, rh)
    # unlimited: the raw polynomial on every point (pythermalcomfort masks pa > 5 kPa)
    peer = ptc_utci(ta, tmrt, va, rh, limit_inputs=False, round_output=False).utci
    assert np.all(np.isfinite(ours))
    assert np.max(np.abs(ours - peer)) <= 1e-6
    # limited: pythermalcomfort only drops extra points (vapour pressure above 5 kPa)
    with pytest.warns(UserWarning, match="pa"):
        peer_lim = ptc_utci(ta, tmrt, va, rh, round_output=False).utci
    ok = np.isfinite(peer_lim)
    pa_kpa = saturation_vapour_pressure_hpa_numpy(ta) * rh / 1000.0
    assert np.array_equal(ok, pa_kpa <= 5.0)
    assert ok.sum() > 1500
    assert np.max(np.abs(ours[ok] - peer_lim[ok])) <= 1e-6


# (ta °C, tmrt °C, va10 m/s, rh %, UTCI °C)
CHECK_VALUES = [
    # check values of the pythermalcomfort / jsthermalcomfort test suites (1 decimal)
    (25.0, 27.0, 1.0, 50.0, 25.2),
    (19.0, 24.0, 1.0, 50.0, 20.0),
    (19.0, 14.0, 1.0, 50.0, 16.8),
    (27.0, 22.0, 10.0, 50.0, 20.0),
    (27.0, 22.0, 16.0, 50.0, 15.8),
    # pythermalcomfort documentation example
    (25.0, 25.0, 1.0, 50.0, 24.6),
    # climateforcing test suite (inputs given in K there)
    (295.0 - 273.15, 303.0 - 273.15, 6.0, 100.0, 19.62569676),
    (296.0 - 273.15, 304.0 - 273.15, 6.0, 100.0, 21.23458492),
]


@pytest.mark.parametrize("kernel", [utci, utci_numpy], ids=["numba", "numpy"])
def test_check_values(kernel) -> None:
    ta, tmrt, va, rh, expected = (
        np.array(c, dtype=np.float64) for c in zip(*CHECK_VALUES, strict=True)
    )
    got = kernel(ta, tmrt, va, rh)
    np.testing.assert_allclose(got, expected, atol=0.05 + 1e-9, rtol=0)
    # the two climateforcing values are given to 8 decimals
    np.testing.assert_allclose(got[-2:], expected[-2:], atol=1e-7, rtol=0)


@pytest.mark.parametrize("kernel", [utci, utci_numpy], ids=["numba", "numpy"])
def test_out_of_range_gives_nan(kernel) -> None:
    ta = np.array([-50.0, 50.0, -50.01, 50.01, 20.0, 20.0, 20.0, 20.0, np.nan, 20.0, 20.0])
    tmrt = np.array([-50.0, 50.0, -50.01, 50.01, -10.0, 90.0, -10.01, 90.01, 20.0, np.nan, 20.0])
    va = np.full(ta.size, 2.0)
    rh = np.full(ta.size, 50.0)
    rh[-1] = np.nan
    got = kernel(ta, tmrt, va, rh)
    # bounds are inclusive: ta = ±50, tmrt − ta = −30 and +70 are valid
    assert np.all(np.isfinite(got[[0, 1, 4, 5]]))
    assert np.all(np.isnan(got[[2, 3, 6, 7, 8, 9, 10]]))


@pytest.mark.parametrize("kernel", [utci, utci_numpy], ids=["numba", "numpy"])
def test_wind_is_clipped(kernel) -> None:
    va = np.array([0.0, 0.2, 0.5, 17.0, 25.0, 40.0, 3.0])
    n = va.size
    ta, tmrt, rh = np.full(n, 28.0), np.full(n, 45.0), np.full(n, 60.0)
    got = kernel(ta, tmrt, va, rh)
    assert np.all(np.isfinite(got))
    assert got[0] == got[1] == got[2]
    assert got[3] == got[4] == got[5]
    assert len({got[2], got[3], got[6]}) == 3  # inside the range the wind matters


def test_length_mismatch_raises() -> None:
    a = np.zeros(4)
    with pytest.raises(ValueError, match="same length"):
        utci(a, a, a, np.zeros(3))


def test_empty_input() -> None:
    e = np.zeros(0)
    assert utci(e, e, e, e).shape == (0,)
