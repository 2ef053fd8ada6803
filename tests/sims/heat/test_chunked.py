"""Tiled runs of the heat model: no seams, lazy output, halo checks."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from tests.sims.heat._synth import synthetic_grid
from twin.errors import InputError
from twin.sims.heat.chunked import simulate_chunked
from twin.sims.heat.design_day import design_day
from twin.sims.heat.model import simulate
from twin.sims.heat.surface import surface_from_grid


@pytest.fixture(scope="module")
def case():
    grid = synthetic_grid(50, 60)
    forcing = design_day(60.17, 24.94, "2025-07-15", timezone="Europe/Helsinki", spinup_days=1)
    surface = surface_from_grid(grid, max_radius_m=100.0)
    full = simulate(surface, forcing, utc_offset_hours=3.0)
    return grid, surface, forcing, full


def test_tiled_equals_untiled(case) -> None:
    _grid, surface, forcing, full = case
    roof = surface["roof"].to_numpy()
    # buildings straddle the tile borders (rows/columns 16, 32, 48)
    assert (roof[:, 15] * roof[:, 16]).sum() > 0 and (roof[15] * roof[16]).sum() > 0
    tiled = simulate_chunked(
        surface.drop_vars("sky_view_factor"), forcing, tile=16, utc_offset_hours=3.0
    )
    assert "4 × 4 tiles" in tiled.attrs["tiles"]
    for v in ("air_temperature", "surface_temperature", "mean_radiant_temperature", "utci"):
        assert full[v].dims == tiled[v].dims == ("time", "y", "x")
        np.testing.assert_allclose(tiled[v].to_numpy(), full[v].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(
        tiled["rural_air_temperature"].to_numpy(), full["rural_air_temperature"].to_numpy()
    )
    assert tiled.rio.crs.to_epsg() == 32635
    # the result is not trivially flat: buildings and trees make a pattern
    assert float(full["air_temperature"].max("time").std()) > 0.2


def test_halo_too_small_shows_seams_and_is_refused(case) -> None:
    _, surface, forcing, _full = case
    s0 = surface.drop_vars("sky_view_factor")
    with pytest.raises(InputError, match=r"halo_m = 30 m is narrower than .* 100 m"):
        simulate_chunked(s0, forcing, tile=16, halo_m=30.0)
    with pytest.raises(InputError, match="tile >= 1"):
        simulate_chunked(s0, forcing, tile=0)


def test_lazy_result_and_given_svf(case) -> None:
    _, surface, forcing, full = case
    lazy = simulate_chunked(surface, forcing, tile=25, compute=False, utc_offset_hours=3.0)
    # SVF given: the halo is only the 25 m (2 cells) of the local-scale canyon air
    assert "halo 2 cells (2 for the local-scale canyon air)" in lazy.attrs["tiles"]
    assert isinstance(lazy["air_temperature"].data, da.Array)
    assert lazy["air_temperature"].data.numblocks == (1, 2, 3)
    got = lazy["utci"].isel(time=14).compute().to_numpy()
    np.testing.assert_allclose(got, full["utci"].isel(time=14).to_numpy(), atol=1e-6)
