"""From the twin's land-cover grid to the heat model's surface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS

from tests.sims.heat._synth import synthetic_grid
from twin.errors import InputError
from twin.kernels.svf import sky_view_factor
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.heat.surface import FRACTIONS, obstacle_height, surface_from_grid, surface_from_twin


def _twin(grid, name: str = "landcover") -> Twin:
    t = Twin("synthetic", CRS.from_epsg(32635))
    t.add(Layer(name, "grid", grid, Provenance(source="synthetic", producer="test")))
    return t


def test_demo_twin_surface(demo_dir: Path) -> None:
    t = Twin.open(demo_dir)
    lc = t["landcover"]
    s = surface_from_twin(t)
    assert set(FRACTIONS) <= set(s.data_vars)
    assert {"building_height", "street_width", "sky_view_factor"} <= set(s.data_vars)
    assert "building_height_m" not in s and s.rio.crs.to_epsg() == 32635
    np.testing.assert_array_equal(s["building_height"], lc["building_height_m"])
    svf = s["sky_view_factor"].to_numpy()
    assert ((svf > 0) & (svf <= 1)).all()
    roof = s["roof"].to_numpy()
    street = (roof < 0.05) & (s["road"].to_numpy() > 0.5)
    # central Helsinki: streets between 5–8 storey blocks see 0.6–0.95 of the sky, open
    # squares and the harbour ~1; the ground between walls much less
    assert 0.6 < float(np.median(svf[street])) < 0.95
    assert float(svf.max()) == 1.0 and float(svf.min()) < 0.3
    # tall built-up cells are obstacles: SVF drops next to them
    h = obstacle_height(s)
    assert (h > 0).sum() == ((roof >= 0.5) & (s["building_height"].to_numpy() > 0)).sum()


def test_cool_and_green_roofs_are_carried() -> None:
    g = synthetic_grid(20, 25)
    g["roof_albedo"] = g["roof"] * 0 + 0.6
    g["green_roof_fraction"] = g["roof"] * 0.3
    s = surface_from_twin(_twin(g), svf=False)
    assert "sky_view_factor" not in s
    assert float(s["roof_albedo"].max()) == pytest.approx(0.6)
    assert float(s["green_roof_fraction"].sum()) == pytest.approx(float(g["roof"].sum()) * 0.3)


def test_svf_matches_kernel_on_obstacles() -> None:
    g = synthetic_grid(30, 30)
    s = surface_from_grid(g, n_directions=8, max_radius_m=60.0, roof_threshold=0.5)
    h = np.where(g["roof"].to_numpy() >= 0.5, g["building_height_m"].to_numpy(), 0.0)
    np.testing.assert_array_equal(
        s["sky_view_factor"].to_numpy(),
        sky_view_factor(h, 10.0, n_directions=8, max_radius_m=60.0),
    )


def test_svf_layer_must_match_the_grid() -> None:
    g = synthetic_grid(20, 25)
    t = _twin(g)
    other = g[["roof"]].rename(roof="sky_view_factor").isel(x=slice(0, 24))
    t.add(Layer("svf", "grid", other, Provenance(source="lidar", producer="test")))
    with pytest.raises(InputError, match=r"layer 'svf': the grid does not match.*25 vs 24 cells "
                       r"along x.*reproject_match"):  # fmt: skip
        surface_from_twin(t, svf_layer="svf")
    good = (g[["roof"]] * 0 + 0.5).rename(roof="sky_view_factor")
    t.add(Layer("svf2", "grid", good, Provenance(source="lidar", producer="test")))
    assert float(surface_from_twin(t, svf_layer="svf2")["sky_view_factor"].mean()) == 0.5


def test_bad_grids() -> None:
    g = synthetic_grid(10, 12)
    with pytest.raises(InputError, match=r"parameters.heat.landcover_layer: no grid layer "
                       r"'lc'.*use one of \['landcover'\]"):  # fmt: skip
        surface_from_twin(_twin(g), "lc")
    bad = g.copy()
    bad["trees"] = bad["trees"] + 0.2
    with pytest.raises(InputError, match=r"layer 'landcover': \d+ cell\(s\) whose fractions do "
                       r"not sum to 1 \(first: row 0, column \d+, sum 1.200\)"):  # fmt: skip
        surface_from_twin(_twin(bad))
    with pytest.raises(InputError, match=r"missing variable\(s\) \['street_width_m'\]"):
        surface_from_grid(g.drop_vars("street_width_m"))
    neg = g.copy()
    neg["building_height_m"] = neg["building_height_m"] - 100
    with pytest.raises(InputError, match="negative building_height"):
        surface_from_grid(neg)
