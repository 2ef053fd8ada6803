"""EN 13201-3 calculation points, the regular grid, default photometries, compliance."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString

from twin.errors import SchemaError
from twin.lighting import (
    CLASSES,
    FAMILIES,
    compliance,
    default_photometry,
    en13201_grid,
    illuminance,
    road_grid,
    step_down,
)


def _streets(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=list(geoms), crs=2154, index=[f"s{i}" for i in range(len(geoms))]
    )


def test_en13201_points_between_luminaires() -> None:
    st = _streets(LineString([(0, 0), (30, 0)]), LineString([(0, 100), (45, 100)]))
    pts = en13201_grid(st, width_m=7.0, spacing_m=np.array([30.0, 45.0]))
    # S = 30 m → N = 10, D = 3 m; S = 45 m → N = 15 (D ≤ 3 m); n = 5 across (d = 1.4 m ≤ 1.5)
    assert np.bincount(pts.seg).tolist() == [50, 75]
    xs = np.unique(pts.x[pts.seg == 0])
    assert np.allclose(xs, 1.5 + 3.0 * np.arange(10))
    ys = np.unique(np.round(pts.y[pts.seg == 0], 9))
    assert np.allclose(ys, -3.5 + 0.7 + 1.4 * np.arange(5))


def test_grid_follows_bends_and_multilines() -> None:
    st = _streets(
        LineString([(0, 0), (10, 0), (10, 10)]),
        MultiLineString([[(0, 50), (4, 50)], [(0, 60), (6, 60)]]),
    )
    g = road_grid(st, step_m=1.0, width_m=2.0)
    assert np.bincount(g.seg).tolist() == [40, 20]
    bend = (g.seg == 0) & (g.y > 0.5)
    assert np.allclose(np.sort(np.unique(np.round(g.x[bend], 6))), [9.5, 10.5])


@pytest.mark.parametrize("family", FAMILIES)
def test_default_photometries_integrate_to_their_flux(family: str) -> None:
    ph = default_photometry(family)
    assert ph.flux_integral_lm() == pytest.approx(1000.0, rel=1e-9)
    assert ph.name.endswith("(ASSUMED analytic distribution)")


def test_ground_receives_the_downward_flux() -> None:
    """∫ E dA over the ground = flux emitted downwards (all of it for the road optic)."""
    lum = gpd.GeoDataFrame(
        {"flux_lm": [10000.0], "mounting_height_m": [8.0], "photometry": ["road"]},
        geometry=gpd.points_from_xy([0.0], [0.0]),
        crs=2154,
    )
    step = 0.5
    xs = np.arange(-400 + step / 2, 400, step)
    gx, gy = np.meshgrid(xs, xs)
    e = illuminance(lum, np.column_stack([gx.ravel(), gy.ravel()]), cutoff_m=400.0)
    # beyond 400 m (γ > 88.9°) the road optic sends almost nothing
    assert e.sum() * step * step == pytest.approx(10000.0, rel=0.01)


def test_compliance_per_segment() -> None:
    values = np.array([12.0, 11.0, 10.0, 3.0, 2.0, 2.5, 30.0, 10.0, 34.0, 6.0])
    seg = np.array([0, 0, 0, 1, 1, 1, 2, 2, 4, 4])
    ids = pd.Index(["a", "b", "c", "d", "e"])
    cls = pd.Series(["P2", "P5", "C2", "P1", "C2"], index=ids)
    out = compliance(values, seg, ids, cls)
    # P2: Ē 11 ≥ 10 and Emin 10 ≥ 2
    assert out.loc["a", "em_lx"] == pytest.approx(11.0) and out.loc["a", "compliant"]
    # P5: Ē 2.5 < 3
    assert out.loc["b", "em_lx"] == pytest.approx(2.5) and not out.loc["b", "compliant"]
    # C2: Ē 20 ≥ 20 and U0 = 10 / 20 = 0.5 ≥ 0.4
    assert out.loc["c", "u0"] == pytest.approx(0.5) and out.loc["c", "compliant"]
    assert not out.loc["d", "compliant"] and out.loc["d", "n_points"] == 0  # no points
    # C2: Ē 20 but U0 = 6 / 20 = 0.3 < 0.4
    assert out.loc["e", "target_emin_lx"] == pytest.approx(8.0) and not out.loc["e", "compliant"]


def test_class_table_and_steps() -> None:
    assert CLASSES["P2"].em_lx == 10.0 and CLASSES["P2"].emin_lx == 2.0
    assert CLASSES["C3"].u0 == 0.4
    assert CLASSES["M3"].em_lx == pytest.approx(1.0 / 0.07)
    assert step_down("M3", 2) == "M5" and step_down("P6", 1) == "P6"
    with pytest.raises(SchemaError, match="unknown lighting class 'Z9'"):
        compliance(np.ones(1), np.zeros(1, dtype=int), pd.Index(["a"]), "Z9")
