"""Land-cover KPIs are the area-weighted sums of the grid (checked by hand on the demo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.sims.landcover import LandCover, LandCoverParams
from twin.store.twinstore import open_twin


def test_kpis_are_area_sums(demo_dir: Path) -> None:
    t = open_twin(demo_dir)
    g = t["landcover"]
    res = LandCover().run(t, LandCoverParams(), {}, np.random.default_rng(0))
    k = {x.name: x.value for x in res.kpis}
    cell = 10.0 * 10.0
    area = g.sizes["x"] * g.sizes["y"] * cell
    assert k["canopy_area_m2"] == float(g["trees"].sum()) * cell
    green = float((g["trees"] + g["grass"] + g["irrigated_grass"]).sum()) * cell / area
    assert abs(k["green_share"] - green) < 1e-6
    assert abs(k["green_share"] + k["sealed_share"] + k["water_area_m2"] / area - 1) < 1e-4
    assert abs(k["mean_roof_albedo"] - 0.15) < 1e-6  # assumed conventional roofs
