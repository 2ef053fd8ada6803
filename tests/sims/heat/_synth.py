"""A synthetic land-cover grid with blocks of buildings (shared by the heat tests)."""

from __future__ import annotations

import numpy as np
import xarray as xr


def synthetic_grid(ny: int = 50, nx: int = 60, seed: int = 1) -> xr.Dataset:
    """Land-cover grid of ``ny × nx`` 10 m cells (EPSG:32635, central Helsinki)."""
    rng = np.random.default_rng(seed)
    roof = np.zeros((ny, nx))
    h = np.zeros((ny, nx))
    for _ in range(ny * nx // 120):
        y0, x0 = rng.integers(0, ny - 5), rng.integers(0, nx - 5)
        dy, dx = rng.integers(2, 8, 2)
        roof[y0 : y0 + dy, x0 : x0 + dx] = 1.0
        h[y0 : y0 + dy, x0 : x0 + dx] = rng.uniform(8, 40)
    open_ = roof == 0
    trees = np.where(open_, rng.uniform(0, 0.3, (ny, nx)), 0.0)
    road = np.where(open_, rng.uniform(0, 0.3, (ny, nx)), 0.0)
    water = np.zeros((ny, nx))
    water[-5:, :8] = np.where(open_[-5:, :8], 0.2, 0.0)
    grass = np.where(open_, 0.1, 0.0)
    conc = 1 - roof - trees - road - water - grass
    x = 385000 + 5 + 10 * np.arange(nx)
    y = 6672000 - 5 - 10 * np.arange(ny)
    data = {
        "roof": roof,
        "road": road,
        "concrete": conc,
        "water": water,
        "trees": trees,
        "grass": grass,
        "irrigated_grass": np.zeros((ny, nx)),
        "building_height_m": h,
        "street_width_m": np.full((ny, nx), 15.0),
    }
    ds = xr.Dataset(
        {k: (("y", "x"), v.astype(np.float32)) for k, v in data.items()},
        coords={"y": y, "x": x},
    )
    ds.attrs["resolution_m"] = 10.0
    return ds.rio.write_crs(32635)
