"""Raster loader: GeoTIFF / COG into (y, x) Datasets, reprojection, and bad inputs."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from pyproj import CRS
from rasterio.errors import NotGeoreferencedWarning
from rasterio.features import MergeAlg, rasterize
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from twin.errors import CRSError, InputError
from twin.io.raster import load_raster, read_raster, to_working_crs
from twin.io.registry import get_loader

RES = 5.0  # canopy raster cell size [m]
NODATA = -9999.0


@dataclass
class TreeCOG:
    path: Path
    transform: Affine
    shape: tuple[int, int]
    max_height: float
    height_cells: int
    tree_cells: int
    count_grid: np.ndarray
    n_trees: int


def _write_cog(path: Path, bands: np.ndarray, transform: Affine, crs: str, nodata: float) -> None:
    """Write bands (count, rows, cols) as a tiled, compressed COG with overviews."""
    profile = {
        "driver": "GTiff",
        "count": bands.shape[0],
        "height": bands.shape[1],
        "width": bands.shape[2],
        "dtype": bands.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(bands)
        with mem.open() as src:
            rasterio.shutil.copy(
                src,
                path,
                driver="COG",
                BLOCKSIZE=256,
                COMPRESS="DEFLATE",
                OVERVIEWS="AUTO",
                OVERVIEW_RESAMPLING="NEAREST",
            )


@pytest.fixture(scope="module")
def tree_cog(montpellier: Path, tmp_path_factory: pytest.TempPathFactory) -> TreeCOG:
    """Canopy height (max HAUTEUR_M per 5 m cell) and tree count of the Montpellier street
    trees, rasterised with rasterio into a COG; expectations computed with numpy."""
    src = montpellier / "VilleMTP_MTP_ArbresAlign/VilleMTP_MTP_ArbresAlign.zip"
    trees = pyogrio.read_dataframe(f"/vsizip/{src}", columns=["HAUTEUR_M"], encoding="ISO-8859-1")
    assert len(trees) == 23_972 and trees.crs.to_epsg() == 2154
    x, y = trees.geometry.x.to_numpy(), trees.geometry.y.to_numpy()
    h = trees["HAUTEUR_M"].to_numpy(dtype=float)
    x0, y1 = math.floor(x.min() / RES) * RES, math.ceil(y.max() / RES) * RES
    nx = math.ceil((x.max() - x0) / RES) + 1
    ny = math.ceil((y1 - y.min()) / RES) + 1
    tf = from_origin(x0, y1, RES, RES)

    # rasterio: canopy height = tallest tree (burn in ascending height, the last one wins),
    # tree count by MergeAlg.add
    has_h = h > 0
    order = np.argsort(h[has_h], kind="stable")
    geoms = trees.geometry.to_numpy()
    height = np.full((ny, nx), NODATA, dtype=np.float32)
    rasterize(((geoms[has_h][i], h[has_h][i]) for i in order), out=height, transform=tf)
    count = np.zeros((ny, nx), dtype=np.float32)
    rasterize(((g, 1.0) for g in geoms), out=count, transform=tf, merge_alg=MergeAlg.add)
    count[count == 0] = NODATA
    path = tmp_path_factory.mktemp("raster") / "canopy_height.tif"
    _write_cog(path, np.stack([height, count]), tf, "EPSG:2154", NODATA)

    # independent numpy expectations
    col = np.floor((x - x0) / RES).astype(int)
    row = np.floor((y1 - y) / RES).astype(int)
    grid = np.zeros((ny, nx), dtype=np.int64)
    np.add.at(grid, (row, col), 1)
    hmax = np.full((ny, nx), -np.inf)
    np.maximum.at(hmax, (row[has_h], col[has_h]), h[has_h])
    return TreeCOG(
        path=path,
        transform=tf,
        shape=(ny, nx),
        max_height=float(h[has_h].max()),
        height_cells=int(np.isfinite(hmax).sum()),
        tree_cells=int((grid > 0).sum()),
        count_grid=grid,
        n_trees=len(trees),
    )


def test_cog_is_tiled_with_overviews(tree_cog: TreeCOG) -> None:
    with rasterio.open(tree_cog.path) as src:
        assert src.profile["tiled"] and src.block_shapes[0] == (256, 256)
        assert len(src.overviews(1)) >= 2
        assert src.count == 2


def test_read_real_canopy_height(tree_cog: TreeCOG) -> None:
    ds = read_raster(tree_cog.path, variable=["canopy_height_m", "tree_count"])
    assert ds.rio.crs.to_epsg() == 2154
    assert ds.rio.transform() == tree_cog.transform
    assert ds["canopy_height_m"].dims == ("y", "x")
    assert (ds.sizes["y"], ds.sizes["x"]) == tree_cog.shape
    assert bool((ds.y.diff("y") < 0).all())  # y descending
    # cell centres
    assert float(ds.x[0]) == tree_cog.transform.c + RES / 2
    assert float(ds.y[0]) == tree_cog.transform.f - RES / 2
    hgt = ds["canopy_height_m"].to_numpy()
    assert float(np.nanmax(hgt)) == tree_cog.max_height == 200.0  # one real outlier
    assert int(np.isfinite(hgt).sum()) == tree_cog.height_cells
    cnt = ds["tree_count"].to_numpy()
    assert int(np.isfinite(cnt).sum()) == tree_cog.tree_cells
    assert int(np.nansum(cnt)) == tree_cog.n_trees == 23_972
    np.testing.assert_array_equal(np.nan_to_num(cnt).astype(np.int64), tree_cog.count_grid)
    assert ds.attrs["nodata"] == NODATA and ds.attrs["crs_from"] == "file"


def test_read_one_band_is_squeezed(tree_cog: TreeCOG) -> None:
    ds = read_raster(tree_cog.path, band=2, variable="tree_count")
    assert list(ds.data_vars) == ["tree_count"] and "band" not in ds.dims
    default = read_raster(tree_cog.path)
    assert list(default.data_vars) == ["value_1", "value_2"]


def test_loader_registered_with_provenance(tree_cog: TreeCOG) -> None:
    ld = get_loader("raster")
    assert ld.kind == "grid" and ld.func is load_raster
    opts = ld.validate_options({"band": 1, "variable": "canopy_height_m"}, "layers.canopy")
    layer = ld.func(tree_cog.path, **opts)
    assert layer.kind == "grid" and layer.crs == CRS.from_epsg(2154)
    assert layer.count == tree_cog.shape[0] * tree_cog.shape[1]
    p = layer.provenance
    assert p.source == str(tree_cog.path)
    assert p.counts["nodata_cells_canopy_height_m"] == layer.count - tree_cog.height_cells
    assert any("COG" in s or "GTiff" in s for s in p.steps)
    assert any("-9999" in s for s in p.steps)


def test_to_working_crs_utm(tree_cog: TreeCOG) -> None:
    ds = read_raster(tree_cog.path, band=2, variable="tree_count")
    out = to_working_crs(ds, "EPSG:32631", resolution=RES)
    assert out.rio.crs.to_epsg() == 32631
    assert out.rio.resolution() == (RES, -RES)
    assert bool((out.y.diff("y") < 0).all())
    # nearest resampling of isolated cells under a ~1° rotation keeps about the same count
    n_in, n_out = int(ds.tree_count.notnull().sum()), int(out.tree_count.notnull().sum())
    assert abs(n_out - n_in) / n_in < 0.05
    # the trees lie in Montpellier: about 3.88° E, 43.61° N
    lon, lat = out.rio.reproject("EPSG:4326").rio.bounds()[0:2]
    assert 3.7 < lon < 3.9 and 43.5 < lat < 43.6
    assert to_working_crs(ds, 2154) is ds


# -- synthetic ------------------------------------------------------------------------------
def _write(path: Path, bands: np.ndarray, **profile: object) -> Path:
    prof = {
        "driver": "GTiff",
        "count": bands.shape[0],
        "height": bands.shape[1],
        "width": bands.shape[2],
        "dtype": bands.dtype.name,
    }
    prof.update(profile)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(bands)
    return path


def test_exact_values_and_nodata(tmp_path: Path) -> None:
    a = np.array([[[1, 2, 3], [4, 255, 6]], [[7, 8, 9], [0, 11, 12]]], dtype=np.uint8)
    p = _write(
        tmp_path / "lc.tif",
        a,
        crs="EPSG:2154",
        transform=from_origin(700_000, 6_600_020, 10, 10),
        nodata=255,
    )
    ds = read_raster(p, variable=["a", "b"], nodata=0)
    np.testing.assert_array_equal(ds.a.to_numpy(), [[1, 2, 3], [4, np.nan, 6]])
    # band 2: 0 masked by the declared nodata, 255 is not present
    np.testing.assert_array_equal(ds.b.to_numpy(), [[7, 8, 9], [np.nan, 11, 12]])
    np.testing.assert_array_equal(ds.x.to_numpy(), [700_005, 700_015, 700_025])
    np.testing.assert_array_equal(ds.y.to_numpy(), [6_600_015, 6_600_005])
    layer = load_raster(p, nodata=0)
    assert layer.provenance.counts == {
        "cells": 6,
        "nodata_cells_value_1": 1,
        "nodata_cells_value_2": 1,
    }
    assert any("255" in s and "declared nodata 0" in s for s in layer.provenance.steps)


def test_single_band_units_in_name(tmp_path: Path) -> None:
    dem = np.array([[[10.5, 11.0], [12.25, -3.0]]], dtype=np.float32)
    p = _write(tmp_path / "dem.tif", dem, crs="EPSG:2154", transform=from_origin(0, 20, 10, 10))
    ds = read_raster(p, variable="elevation_m")
    assert list(ds.data_vars) == ["elevation_m"]
    np.testing.assert_array_equal(ds.elevation_m.to_numpy(), dem[0])
    assert "nodata" not in ds.attrs


def test_south_up_raster_is_flipped(tmp_path: Path) -> None:
    a = np.array([[[1.0, 2.0], [3.0, 4.0]]], dtype=np.float32)  # row 0 is the south row
    p = _write(tmp_path / "southup.tif", a, crs="EPSG:2154", transform=Affine(10, 0, 0, 0, 10, 100))
    ds = read_raster(p)
    np.testing.assert_array_equal(ds.y.to_numpy(), [115.0, 105.0])
    np.testing.assert_array_equal(ds.value.to_numpy(), [[3.0, 4.0], [1.0, 2.0]])
    assert ds.rio.transform() == Affine(10, 0, 0, 0, -10, 120)


def test_declared_crs_for_file_without_one(tmp_path: Path) -> None:
    a = np.ones((1, 2, 2), dtype=np.float32)
    p = _write(tmp_path / "nocrs.tif", a, transform=from_origin(700_000, 6_600_000, 1, 1))
    with pytest.raises(CRSError) as err:
        read_raster(p)
    text = str(err.value)
    assert str(p) in text and "no coordinate reference system" in text
    assert "Fix: declare it in the layer manifest, e.g. crs: EPSG:2154" in text
    ds = read_raster(p, crs="EPSG:2154")
    assert ds.rio.crs.to_epsg() == 2154 and ds.attrs["crs_from"] == "declared"
    assert "crs" in load_raster(p, crs=2154).provenance.derived


def test_declared_crs_contradicting_file(tmp_path: Path) -> None:
    a = np.ones((1, 2, 2), dtype=np.float32)
    p = _write(tmp_path / "l93.tif", a, crs="EPSG:2154", transform=from_origin(0, 2, 1, 1))
    assert read_raster(p, crs="EPSG:2154").rio.crs.to_epsg() == 2154
    with pytest.raises(CRSError, match="contradicts the file's CRS EPSG:2154") as err:
        read_raster(p, crs="EPSG:4326")
    assert f"{p}: crs" in str(err.value) and "Fix:" in str(err.value)


def test_not_georeferenced(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        p = _write(tmp_path / "plain.tif", np.ones((1, 2, 2), dtype=np.uint8))
    with pytest.raises(CRSError, match="is not georeferenced") as err:
        read_raster(p, crs=2154)
    assert str(p) in str(err.value) and "Fix:" in str(err.value)


def test_band_out_of_range(tmp_path: Path) -> None:
    a = np.ones((2, 2, 2), dtype=np.float32)
    p = _write(tmp_path / "two.tif", a, crs="EPSG:2154", transform=from_origin(0, 2, 1, 1))
    with pytest.raises(InputError) as err:
        read_raster(p, band=3)
    text = str(err.value)
    assert f"{p}: band" in text and "band [3] out of range: the raster has 2 band(s)" in text
    assert "Fix: choose bands between 1 and 2" in text
    with pytest.raises(InputError, match="out of range"):
        read_raster(p, band=[1, 0])
    with pytest.raises(InputError, match="one distinct name per band"):
        read_raster(p, variable=["only_one"])


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.tif"
    p.touch()
    with pytest.raises(InputError, match=r"empty\.tif: file is empty \(0 bytes\)"):
        read_raster(p)
    with pytest.raises(InputError, match="file not found"):
        read_raster(tmp_path / "missing.tif")


def test_not_a_raster(tmp_path: Path) -> None:
    p = tmp_path / "notes.tif"
    p.write_text("this is not a GeoTIFF\n")
    with pytest.raises(InputError) as err:
        read_raster(p)
    text = str(err.value)
    assert text.startswith(f"{p}: cannot be read as a raster")
    assert "Fix: check that the file is complete and is a GeoTIFF" in text


def test_truncated_raster(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = rng.random((1, 512, 512), dtype=np.float32)
    p = tmp_path / "cut.tif"
    _write_cog(p, a, from_origin(0, 512, 1, 1), "EPSG:2154", NODATA)
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError) as err:
        read_raster(p)
    assert str(p) in str(err.value) and "Fix:" in str(err.value)


def test_to_working_crs_errors(tmp_path: Path) -> None:
    a = np.arange(4, dtype=np.float32).reshape(1, 2, 2)
    p = _write(
        tmp_path / "g.tif", a, crs="EPSG:2154", transform=from_origin(700_000, 6_600_000, 10, 10)
    )
    ds = read_raster(p)
    with pytest.raises(InputError, match="unknown resampling 'cubicle'"):
        to_working_crs(ds, 2154, 5, resampling="cubicle")
    with pytest.raises(CRSError, match="not a coordinate reference system"):
        to_working_crs(ds, "EPSG:99999999")
    with pytest.raises(CRSError, match="the grid has no CRS"):
        to_working_crs(ds.drop_vars("spatial_ref"), 2154, 5)
    fine = to_working_crs(ds, CRS.from_epsg(2154), 5, resampling="nearest")
    np.testing.assert_array_equal(fine.value.to_numpy()[::2, ::2], a[0])
