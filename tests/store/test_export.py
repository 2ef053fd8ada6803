"""Export to GeoPackage and GeoTIFF, read back by GDAL (what QGIS uses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import rasterio

from twin.store.export import export_gpkg
from twin.store.twinstore import open_twin


def test_demo_exports_for_any_gis(demo_dir: Path, tmp_path: Path) -> None:
    t = open_twin(demo_dir)
    files = export_gpkg(t, tmp_path / "demo.gpkg")
    layers = dict(pyogrio.list_layers(tmp_path / "demo.gpkg"))
    assert {"buildings", "roads_links", "roads_nodes", "shops", "street_lamps"} <= set(layers)
    info = pyogrio.read_info(tmp_path / "demo.gpkg", layer="buildings")
    assert info["features"] == len(t["buildings"]) and "EPSG" in info["crs"]
    roof = tmp_path / "demo_landcover_roof.tif"
    assert roof in files
    with rasterio.open(roof) as src:
        assert src.crs.to_epsg() == 32635
        np.testing.assert_allclose(src.read(1), t["landcover"]["roof"].to_numpy(), atol=1e-6)
