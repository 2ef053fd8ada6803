"""twin.heat.simulate: output contract, closure, engines, interventions and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr

from twin.errors import InputError
from twin.heat import FRACTIONS, simulate
from twin.sims.heat import datasets as ml


def _surface(ny: int = 3, nx: int = 4, crs: str | None = "EPSG:32635") -> xr.Dataset:
    rng = np.random.default_rng(0)
    frac = rng.dirichlet(np.ones(7), size=(ny, nx))
    ds = xr.Dataset(
        coords={"y": 6672000.0 - 10 * np.arange(ny), "x": 385000.0 + 10 * np.arange(nx)}
    )
    for k, name in enumerate(FRACTIONS):
        ds[name] = (("y", "x"), frac[..., k])
    h = rng.uniform(5, 20, (ny, nx))
    h[0, 0] = 0.0  # an open cell
    ds["building_height_m"] = (("y", "x"), h)
    ds["street_width_m"] = (("y", "x"), rng.uniform(8, 30, (ny, nx)))
    if crs:
        ds = ds.rio.write_crs(crs)
    return ds


@pytest.fixture(scope="module")
def forcing() -> pd.DataFrame:
    """Real forcing: the Mawson Lakes heat wave, 14–16 Feb 2011, hourly."""
    f = ml.read_forcing().loc[ml.SPINUP_START : ml.PERIOD_END]
    return f.iloc[::2]


def test_output_contract(forcing):
    surf = _surface()
    out = simulate(surf, forcing, diagnostics=True)
    for v in ("air_temperature", "surface_temperature", "mean_radiant_temperature", "utci"):
        assert out[v].dims == ("time", "y", "x")
        assert out[v].attrs["units"] == "degC"
        assert np.isfinite(out[v]).all(), v
    assert out["rural_air_temperature"].dims == ("time",)
    # spin-up dropped: output starts 24 h after the forcing
    assert pd.Timestamp(out.time.values[0]) == forcing.index[0] + pd.Timedelta(hours=24)
    np.testing.assert_array_equal(out.x, surf.x)
    np.testing.assert_array_equal(out.y, surf.y)
    assert out.rio.crs.to_epsg() == 32635
    # the sun position comes from the CRS (Helsinki: ~60.2 N)
    assert 59.5 < out.attrs["latitude"] < 61
    assert out.attrs["time_step_s"] == 3600.0
    full = simulate(surf, forcing, drop_spinup=False)
    assert full.sizes["time"] == len(forcing)


def test_energy_balance_closure_per_surface(forcing):
    out = simulate(_surface(), forcing, diagnostics=True)
    rn = out["net_radiation"]
    resid = rn - (out["sensible_heat_flux"] + out["latent_heat_flux"] + out["storage_heat_flux"])
    assert int(np.isfinite(rn).sum()) > 0
    assert float(np.abs(resid).max()) < 1e-6  # W m-2, every step, cell and surface
    # open cell: no wall of its own; the walls of its neighbourhood (local-scale canyon air)
    # get a temperature there, those of the cell alone do not
    assert np.isfinite(out["net_radiation"].sel(surface="wall").isel(y=0, x=0)).all()
    alone = simulate(_surface(), forcing, diagnostics=True, local_scale_m=None)
    assert np.isnan(alone["net_radiation"].sel(surface="wall").isel(y=0, x=0)).all()


def test_numba_and_numpy_engines_agree(forcing):
    surf = _surface()
    a = simulate(surf, forcing, engine="numba")
    b = simulate(surf, forcing, engine="numpy")
    for v in ("air_temperature", "surface_temperature", "mean_radiant_temperature"):
        np.testing.assert_allclose(a[v], b[v], atol=1e-6, rtol=0)
    np.testing.assert_allclose(a["utci"], b["utci"], atol=1e-3, rtol=0)


def test_interventions_cool_the_cell(forcing):
    surf = _surface(2, 2)
    base = simulate(surf, forcing)
    cool = surf.copy()
    cool["roof_albedo"] = xr.full_like(surf["roof"], 0.7)
    cool_out = simulate(cool, forcing)
    green = surf.copy()
    green["green_roof_fraction"] = xr.full_like(surf["roof"], 1.0)
    green_out = simulate(green, forcing)
    noon = base.time.dt.hour == 13
    for sc in (cool_out, green_out):
        d = (sc["surface_temperature"] - base["surface_temperature"]).where(noon).mean("time")
        assert float(d.max()) < -0.2
        assert float(d.mean()) < -1.0
        dta = (sc["air_temperature"] - base["air_temperature"]).where(noon).mean("time")
        assert float(dta.max()) < 0.0
    # a scalar roof albedo does the same as the per-cell variable
    kw = simulate(surf, forcing, roof_albedo=0.7)
    np.testing.assert_allclose(kw["air_temperature"], cool_out["air_temperature"], atol=1e-9)


def test_outside_cells_are_nan_and_dims_order(forcing):
    surf = _surface(2, 3)
    for name in FRACTIONS:
        surf[name][1, 2] = np.nan
    out = simulate(surf.transpose("x", "y"), forcing)
    assert out["air_temperature"].dims == ("time", "y", "x")
    assert np.isnan(out["air_temperature"][:, 1, 2]).all()
    assert np.isfinite(out["air_temperature"][:, 0, 0]).all()


def test_no_crs_needs_latitude(forcing):
    surf = _surface(crs=None)
    with pytest.raises(InputError, match=r"latitude"):
        simulate(surf, forcing)
    # without a CRS the cell size is unknown: the local-scale averaging says so
    with pytest.raises(InputError, match=r"local_scale_m = 25 m.*cell size is unknown"):
        simulate(surf, forcing, latitude=-34.8, longitude=138.6)
    out = simulate(surf, forcing, latitude=-34.8, longitude=138.6, local_scale_m=None)
    assert out.attrs["latitude"] == -34.8
    out = simulate(surf.assign_attrs(resolution_m=10.0), forcing, latitude=-34.8, longitude=138.6)
    assert out.attrs["local_scale_cells"] == 2.5


def test_fractions_not_summing_to_one(forcing):
    surf = _surface()
    surf["roof"][1, 2] += 0.05
    with pytest.raises(InputError) as e:
        simulate(surf, forcing)
    msg = str(e.value)
    assert "do not sum to 1" in msg
    assert f"y={float(surf.y[1]):g}" in msg and f"x={float(surf.x[2]):g}" in msg
    assert "Fix:" in msg


def test_negative_fraction(forcing):
    surf = _surface()
    surf["trees"][0, 1] = -0.1
    surf["grass"][0, 1] += 0.1
    with pytest.raises(InputError, match=r"negative land-cover fractions.*y="):
        simulate(surf, forcing)


def test_missing_variables(forcing):
    with pytest.raises(InputError, match=r"irrigated_grass"):
        simulate(_surface().drop_vars("irrigated_grass"), forcing)
    with pytest.raises(InputError, match=r"building_height"):
        simulate(_surface().drop_vars("building_height_m"), forcing)
    with pytest.raises(InputError, match=r"'pressure'|pressure"):
        simulate(_surface(), forcing.drop(columns="pressure"))


def test_mismatched_grid(forcing):
    surf = _surface()
    surf["sky_view_factor"] = ("x", np.full(surf.sizes["x"], 0.5))
    with pytest.raises(InputError, match=r"sky_view_factor.*grid"):
        simulate(surf, forcing)


def test_bad_street_width_and_svf(forcing):
    surf = _surface()
    surf["street_width_m"][1, 1] = np.nan
    with pytest.raises(InputError, match=r"street width.*built cell"):
        simulate(surf, forcing)
    surf = _surface()
    surf["sky_view_factor"] = xr.full_like(surf["roof"], 1.5)
    with pytest.raises(InputError, match=r"sky view factor outside"):
        simulate(surf, forcing)


def test_unknown_reference_surface(forcing):
    with pytest.raises(InputError, match=r"reference surface"):
        simulate(_surface(), forcing, reference_surface="lava")
    out = simulate(_surface(1, 1), forcing, reference_surface="dry")  # TARGET alias
    assert out.attrs["reference_surface"] == "grass"


def _block(n: int = 20, side: int = 8) -> xr.Dataset:
    """Open street grid (road, grass, trees) around a solid block of 20 m roofs, 10 m cells."""
    ds = xr.Dataset(coords={"y": 6672000.0 - 10 * np.arange(n), "x": 385000.0 + 10 * np.arange(n)})
    z = np.zeros((n, n))
    block = np.zeros((n, n), bool)
    a = (n - side) // 2
    block[a : a + side, a : a + side] = True
    ds["roof"] = (("y", "x"), np.where(block, 1.0, 0.0))
    ds["road"] = (("y", "x"), np.where(block, 0.0, 0.6))
    ds["grass"] = (("y", "x"), np.where(block, 0.0, 0.3))
    ds["trees"] = (("y", "x"), np.where(block, 0.0, 0.1))
    for v in ("concrete", "water", "irrigated_grass"):
        ds[v] = (("y", "x"), z.copy())
    ds["building_height"] = (("y", "x"), np.where(block, 20.0, 0.0))
    ds["street_width"] = (("y", "x"), np.full((n, n), 15.0))
    return ds.rio.write_crs("EPSG:32635")


def test_canyon_air_is_local_scale_and_bounded(forcing):
    """A block of solid roofs: its cells' canyon air stays close to the forcing.

    Before the local-scale balance, the air of a cell that is all roof was set by the roof
    surface (TARGET's eq. 18 with a canyon fraction of ~0): > 15 K above the forcing.
    """
    surf = _block()
    tmax_forcing = float(forcing["air_temperature"].iloc[24:].max())
    out = simulate(surf, forcing)
    tmax = out["air_temperature"].max("time").to_numpy()
    assert out.attrs["local_scale_m"] == 25.0 and out.attrs["local_scale_cells"] == 2.5
    assert np.nanmax(tmax) <= tmax_forcing + 4.0
    # the roof temperature itself is per cell and hot (the surfaces are not averaged)
    ts = out["surface_temperature"].max("time").to_numpy()
    assert ts[10, 10] > tmax_forcing + 15.0
    # the cell alone (no neighbourhood) but roofs coupled through the canyon opening only:
    # still bounded
    alone = simulate(surf, forcing, local_scale_m=None)["air_temperature"].max("time")
    assert float(alone.max()) <= tmax_forcing + 4.0
    # a cool roof cools the block's air, by a credible amount (not by tens of kelvins)
    cool = simulate(surf.assign(roof_albedo=surf["roof"] * 0 + 0.7), forcing)
    d = tmax - cool["air_temperature"].max("time").to_numpy()
    inside = surf["roof"].to_numpy() > 0.5
    assert 0.3 < float(np.median(d[inside])) < 4.0
    assert float(d.max()) < 5.0


def test_local_scale_keeps_uniform_grids_and_station_sets(forcing):
    # a uniform grid: averaging changes nothing
    surf = _surface(1, 1)
    rows = {v: (("y", "x"), np.broadcast_to(surf[v].to_numpy(), (5, 6)).copy()) for v in surf}
    uni = xr.Dataset(
        rows, coords={"y": 6672000.0 - 10 * np.arange(5), "x": 385000.0 + 10 * np.arange(6)}
    ).rio.write_crs("EPSG:32635")
    a = simulate(uni, forcing)
    b = simulate(uni, forcing, local_scale_m=None)
    np.testing.assert_allclose(a["air_temperature"], b["air_temperature"], atol=1e-9, rtol=0)
    # stations (fractions already at 25 m around each): never averaged across the 1 × N row
    st = ml.read_surface()
    assert st.attrs["local_scale_m"] == 25.0
    kw = {"latitude": ml.LATITUDE, "longitude": ml.LONGITUDE, "z_avg": ml.Z_AVG}
    short = forcing.iloc[:30]
    c = simulate(st, short, **kw)
    d = simulate(st, short, local_scale_m=None, **kw)
    assert c.attrs["local_scale_m"] == 0.0
    np.testing.assert_array_equal(c["air_temperature"], d["air_temperature"])


def test_explicit_grid_settings(forcing):
    surf = _surface()
    out = simulate(surf, forcing)
    h = surf["building_height_m"].to_numpy()
    assert out.attrs["z_top_m"] == pytest.approx(2 * h.max())
    tile = surf.isel(x=slice(0, 2))
    same = simulate(
        tile,
        forcing,
        z_top=out.attrs["z_top_m"],
        z_avg=out.attrs["z_avg_m"],
        latitude=out.attrs["latitude"],
        longitude=out.attrs["longitude"],
        local_scale_m=None,
    )
    ref = simulate(surf, forcing, local_scale_m=None).isel(x=slice(0, 2))
    np.testing.assert_allclose(same["air_temperature"], ref["air_temperature"], atol=1e-9)
    with pytest.raises(InputError, match=r"z_top = 1 m is not above"):
        simulate(surf, forcing, z_top=1.0)
