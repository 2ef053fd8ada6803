"""Heat kernels: numba against the pure-numpy oracle, energy-balance closure, physics signs."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels import heat as hk
from twin.sims.heat.params import surface_table


def _forcing(nt: int = 96, dt: float = 1800.0) -> np.ndarray:
    """A clear-sky-like diurnal cycle (rows of urban_cells' forcing)."""
    h = np.arange(nt) * dt / 3600.0
    day = np.clip(np.sin((h % 24 - 6) / 12 * np.pi), 0, None)
    ta = 22 + 8 * np.sin((h % 24 - 9) / 24 * 2 * np.pi)
    rh = 50 - 20 * day
    ws = 2 + 2 * day
    pr = np.full(nt, 1010.0)
    kd = 900 * day
    ld = 330 + 2 * (ta - 22)
    tb = ta - 1.0 * day + 0.5 * (1 - day)
    return np.vstack([ta, rh, ws, pr, kd, ld, tb])


def _sun(nt: int = 96, dt: float = 1800.0) -> np.ndarray:
    h = np.arange(nt) * dt / 3600.0
    cosz = np.clip(np.sin((h % 24 - 6) / 12 * np.pi), 0, None)
    day = cosz > 0.05
    tanz = np.where(day, np.sqrt(1 - cosz**2) / np.where(day, cosz, 1), 20.0)
    return np.vstack([tanz, np.full(nt, 0.25), np.where(day, 700.0, 0.0), 150 * cosz])


def _cells(n: int = 60, seed: int = 1):
    rng = np.random.default_rng(seed)
    frac = rng.dirichlet(np.ones(7) * 0.7, size=n)
    frac[:5, 0] = 0.0  # no roofs
    frac[5:10, 3] = 0.0  # no water
    frac /= frac.sum(axis=1, keepdims=True)
    green = np.where(rng.random(n) < 0.3, rng.random(n), 0.0)
    height = np.where(rng.random(n) < 0.25, 0.1, rng.uniform(3, 30, n))  # ~25 % open
    width = rng.uniform(5, 40, n)
    svf = np.where(rng.random(n) < 0.3, rng.uniform(0.2, 1.0, n), np.nan)
    table = surface_table()
    albedo = np.broadcast_to(table[:, 0], (n, hk.NS)).copy()
    albedo[:, hk.ROOF] = rng.uniform(0.1, 0.8, n)
    sp = np.ascontiguousarray(table[:, 1:])
    sc = np.array([1800.0, 10.0, 8.0, 24.0, 0.3, 1.4e-3, 0.5, 0.05, 0.7, 0.97, 0.1])
    tm0 = 22.0 + rng.uniform(0, 6, (n, hk.NS))
    return frac, green, height, width, svf, albedo, sp, sc, tm0


def _run(fn, diagnostics=True, n=60):
    frac, green, height, width, svf, albedo, sp, sc, tm0 = _cells(n)
    return fn(
        frac, green, height, width, svf, albedo, sp, _forcing(), _sun(), sc, tm0, diagnostics, False
    )


def test_urban_cells_matches_numpy_reference():
    out, eb, tsm = _run(hk.urban_cells)
    ref_out, ref_eb, ref_tsm = _run(hk.urban_cells_numpy)
    assert out.shape == (4, 96, 60)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-6)
    np.testing.assert_allclose(eb, ref_eb, rtol=0, atol=1e-6, equal_nan=True)
    assert tsm.shape == ref_tsm.shape == (0, hk.NS, 2)  # the spin-up state: surfaces_only
    # the temperatures move (not a trivial constant): a diurnal range of several K
    tac = out[0]
    assert (tac.max(axis=0) - tac.min(axis=0)).min() > 3.0


def test_local_scale_air_inputs_match_numpy_and_default():
    frac, green, height, width, svf, albedo, sp, sc, tm0 = _cells()
    args = (frac, green, height, width, svf, albedo, sp, _forcing(), _sun(), sc, tm0, True, False)
    # the cell's own inputs as `air` = the default
    own = hk.air_inputs(frac, green, height, width)
    assert own.shape == (60, 10)
    a, _, _ = hk.urban_cells(*args)
    b, _, _ = hk.urban_cells(*args, own)
    np.testing.assert_array_equal(a, b)
    # neighbourhood inputs: another cell's (rolled), including open cells among built ones
    air = np.roll(own, 7, axis=0)
    out, eb, _tsm = hk.urban_cells(*args, air)
    ref, ref_eb, _ref_tsm = hk.urban_cells_numpy(*args, air)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(eb, ref_eb, rtol=0, atol=1e-6, equal_nan=True)
    # surfaces absent from a cell but present around it get a temperature (closure holds)
    absent = (frac[:, 3] == 0) & (air[:, 3] > 0)
    assert absent.any() and np.isfinite(eb[:, absent, hk.WATER, 0]).all()
    # the air changed; the surface energy balances of the cell's own surfaces did not
    assert np.abs(out[0] - a[0]).max() > 0.1
    _, eb_own, _ = hk.urban_cells(*args)
    mine = np.zeros((60, hk.NS), bool)
    for s, col in ((hk.ROAD, 1), (hk.CONC, 2), (hk.DRY, 5), (hk.IRR, 6)):
        mine[:, s] = frac[:, col] > 0
    sel = np.broadcast_to(mine[None, :, :, None], eb.shape)
    np.testing.assert_allclose(eb[sel], eb_own[sel], atol=1e-9)


def test_roof_couples_through_the_canyon_opening_only():
    frac, green, height, width, svf, albedo, sp, sc, tm0 = _cells(4)
    frac[:] = [0.98, 0.02, 0, 0, 0, 0, 0]  # almost solid roof
    height[:] = 15.0
    green[:] = 0.0
    albedo[:, hk.ROOF] = 0.1
    out, eb, _ = hk.urban_cells(
        frac, green, height, width, svf, albedo, sp, _forcing(), _sun(), sc, tm0, True, False
    )
    ta = _forcing()[0]
    troof = (eb[:, 0, hk.ROOF, 0] > 0).any()  # the roof is in the sun
    assert troof
    assert out[0].max() < ta.max() + 4.0  # not driven to the roof temperature


def test_urban_cells_without_diagnostics_same_temperatures():
    out, eb, _ = _run(hk.urban_cells, diagnostics=False)
    out_d, _, _ = _run(hk.urban_cells, diagnostics=True)
    assert eb.shape == (0, 0, 0, 0)
    np.testing.assert_array_equal(out, out_d)


def test_energy_balance_closes_every_step_and_surface():
    _, eb, _ = _run(hk.urban_cells)
    rn, qh, qe, qs = (eb[..., k] for k in range(4))
    present = np.isfinite(rn)
    assert present.sum() > 0.5 * rn.size
    resid = rn - (qh + qe + qs)
    assert np.nanmax(np.abs(resid)) < 1e-9
    # absent surfaces are NaN everywhere, present ones finite everywhere
    assert np.array_equal(present, np.isfinite(qh))
    # daytime net radiation positive on roofs, storage positive by day and negative at night
    roof = eb[:, :, hk.ROOF, :]
    noon = 24  # 12:00 at 30 min
    night = 48 + 4  # 02:00 on day 2
    assert np.nanmin(roof[noon, :, 0]) > 50  # albedo up to 0.8
    assert np.nanmin(roof[noon, :, 3]) > 0
    assert np.nanmax(roof[night, :, 3]) < 0


def test_rural_reference_matches_numpy_and_is_sane():
    f = _forcing()
    ta, _rh, ws, pr, kd, ld, _ = f
    table = surface_table()
    ref = np.array([table[hk.DRY, 0], *table[hk.DRY, 1:7]])
    args = (ta, ws, pr, kd, ld, 1800.0, ref, 2.0, 10.0, 0.45, 20.0, 22.0)
    tb, ts = hk.rural_reference(*args)
    tb_np, ts_np = hk.rural_reference_numpy(*args)
    np.testing.assert_allclose(tb, tb_np, atol=1e-9)
    np.testing.assert_allclose(ts, ts_np, atol=1e-9)
    # an initial surface temperature: NaN is the first air temperature, 30 °C differs
    np.testing.assert_array_equal(hk.rural_reference(*args, np.nan)[1], ts)
    ts30 = hk.rural_reference(*args, 30.0)[1]
    np.testing.assert_allclose(ts30, hk.rural_reference_numpy(*args, 30.0)[1], atol=1e-9)
    assert ts30[0] - ts[0] > 2.0
    day = kd > 500
    night = kd == 0
    # sunny: surface hotter than air, unstable, cooler aloft; clear night: the reverse
    assert (ts[day] > ta[day]).all() and (tb[day] < ta[day]).all()
    assert np.median(ts[night][10:] - ta[night][10:]) < 0
    assert np.abs(tb - ta).max() < 20


@pytest.mark.parametrize("albedo", [0.1, 0.7])
def test_cool_roof_is_cooler(albedo):
    frac, green, height, width, svf, alb, sp, sc, tm0 = _cells(8)
    alb_lo = alb.copy()
    alb_lo[:, hk.ROOF] = 0.1
    alb_hi = alb.copy()
    alb_hi[:, hk.ROOF] = albedo
    f, s = _forcing(), _sun()
    _, eb_lo, _ = hk.urban_cells(
        frac, green, height, width, svf, alb_lo, sp, f, s, sc, tm0, True, False
    )
    _, eb_hi, _ = hk.urban_cells(
        frac, green, height, width, svf, alb_hi, sp, f, s, sc, tm0, True, False
    )
    has_roof = frac[:, 0] * (1 - green) > 0
    drn = eb_hi[24, has_roof, hk.ROOF, 0] - eb_lo[24, has_roof, hk.ROOF, 0]
    if albedo > 0.1:
        assert (drn < -100).all()  # 60 % less absorbed at K↓ ≈ 900 W m-2
    else:
        np.testing.assert_allclose(drn, 0.0, atol=1e-9)


def test_surfaces_only_mode_gives_the_same_surface_state():
    frac, green, height, width, svf, albedo, sp, sc, tm0 = _cells(40)
    args = (frac, green, height, width, svf, albedo, sp, _forcing(), _sun(), sc, tm0)
    _, eb_full, _ = hk.urban_cells(*args, True, False)
    out, eb_s, state = hk.urban_cells(*args, True, True)
    _, _, state_np = hk.urban_cells_numpy(*args, False, True)
    assert out.shape == (4, 0, 40) and state.shape == (40, hk.NS, 2)
    has_ground = frac[:, [1, 2, 3, 5, 6]].sum(axis=1) + frac[:, 4] > 0
    np.testing.assert_allclose(
        eb_s[:, has_ground], eb_full[:, has_ground], atol=1e-9, equal_nan=True
    )
    np.testing.assert_allclose(state_np, state, atol=1e-6)
    # the time mean of a roof's surface temperature: plausible for this 30 °C day
    roof = frac[:, 0] * (1 - green) > 0
    assert roof.any()
    assert np.all(state[roof, hk.ROOF, 0] > 15.0) and np.all(state[roof, hk.ROOF, 0] < 60.0)
    # absent surfaces keep the given deep temperature
    no_water = (frac[:, 3] == 0) & ~np.isfinite(eb_s[0, :, hk.WATER, 0])
    assert no_water.any()
    np.testing.assert_array_equal(state[no_water, hk.WATER, 0], tm0[no_water, hk.WATER])


def test_initial_surface_temperature():
    frac, green, height, width, svf, albedo, sp, sc, tm0 = _cells(30)
    args = (frac, green, height, width, svf, albedo, sp, _forcing(), _sun(), sc, tm0, True, False)
    out, _eb, _ = hk.urban_cells(*args)
    # NaN = the first air temperature: identical
    same, _eb_same, _ = hk.urban_cells(*args, None, np.full((30, hk.NS), np.nan))
    np.testing.assert_array_equal(out, same)
    # a warmer start: warmer first steps, numba = numpy, the effect fades over the day
    ts0 = np.full((30, hk.NS), 35.0)
    warm, eb_w, _ = hk.urban_cells(*args, None, ts0)
    ref, eb_ref, _ = hk.urban_cells_numpy(*args, None, ts0)
    np.testing.assert_allclose(warm, ref, atol=1e-6)
    np.testing.assert_allclose(eb_w, eb_ref, atol=1e-6, equal_nan=True)
    d = warm[1] - out[1]  # plan-area surface temperature
    assert d[0].min() > 2.0  # tree crowns take the canyon air, not a surface temperature
    assert np.abs(d[-1]).max() < 0.5 * d[0].min()
