"""Provenance travels with exports: GeoPackage layer descriptions and a provenance table,
GeoTIFF tags, sensor series as tables, runs exported with their comparison and KPIs, and
GeoPackage field names that differ only by case (``ID`` beside the ``id`` index)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pyogrio
import rasterio

from twin.scenario.runner import run
from twin.scenario.schema import Scenario
from twin.store.export import export_gpkg
from twin.store.twinstore import open_twin


def test_twin_export_carries_provenance(demo_dir: Path, tmp_path: Path) -> None:
    t = open_twin(demo_dir)
    t["shops"]["ID"] = range(len(t["shops"]))  # GeoPackage names ignore case: id vs ID
    paths = export_gpkg(t, tmp_path / "demo.gpkg")
    gpkg = tmp_path / "demo.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"buildings", "roads_links", "roads_nodes", "shops", "twin_provenance"} <= layers
    shops = gpd.read_file(gpkg, layer="shops")
    assert {"id", "ID_2"} <= set(shops.columns)
    with sqlite3.connect(gpkg) as db:
        desc = dict(db.execute("SELECT table_name, description FROM gpkg_contents"))
        prov = {r[0]: r for r in db.execute("SELECT * FROM twin_provenance")}
    assert "licence: ODbL-1.0" in desc["buildings"] and "OpenStreetMap" in desc["buildings"]
    assert prov["buildings"][3] == "ODbL-1.0"
    assert "speed_kph" in prov["roads_links"][8]  # the ASSUMED rules travel too
    tif = next(p for p in paths if p.suffix == ".tif")
    with rasterio.open(tif) as src:
        tags = src.tags()
    assert tags["licence"] and tags["producer"] and "retrieved" in tags


def test_run_export_has_outputs_comparison_and_kpis(demo_dir: Path, tmp_path: Path) -> None:
    sc = Scenario.from_dict(
        {
            "name": "trees",
            "parent": "baseline",
            "interventions": [
                {
                    "type": "plant_trees",
                    "target": {
                        "layer": "landcover",
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[24.94, 60.168], [24.946, 60.168], [24.946, 60.171],
                                 [24.94, 60.171], [24.94, 60.168]]
                            ],
                        },
                    },
                }
            ],
            "simulations": ["landcover", "accessibility"],
        }
    )  # fmt: skip
    r = run(demo_dir, sc, out=tmp_path / "runs")
    from twin.cli import main

    assert main(["export", str(r.path), "--out", str(tmp_path / "run.gpkg")]) == 0
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "run.gpkg")}
    assert {"node_access", "node_access_diff", "twin_provenance"} <= layers
    kpis = gpd.read_file(tmp_path / "run_kpis.gpkg", layer="kpis")
    assert "canopy_area_m2" in set(kpis["kpi"]) and "label_fr" in kpis.columns
    cmp = gpd.read_file(tmp_path / "run_kpis.gpkg", layer="kpis_compare")
    assert cmp.set_index("kpi").loc["canopy_area_m2", "diff"] > 0
    assert list(tmp_path.glob("run_landcover_*.tif"))


def test_sensor_series_export_as_a_table(tmp_path: Path) -> None:
    """Montpellier's traffic counts: the sensors as points, their series as a table."""
    import yaml

    from twin.build import build_twin

    root = Path(__file__).resolve().parents[2]
    spec = yaml.safe_load((root / "layers" / "montpellier.yaml").read_text(encoding="utf-8"))
    base = root / "layers"
    layer = spec["layers"]["traffic_counts"]
    layer["source"] = str((base / layer["source"]).resolve())
    layer["options"]["sensors"] = str(
        (Path(layer["source"]).parent / layer["options"]["sensors"]).resolve()
    )
    manifest = tmp_path / "counts.yaml"
    manifest.write_text(yaml.safe_dump({"name": "counts", "layers": {"counts": layer}}))
    t, _ = build_twin(manifest)
    export_gpkg(t, tmp_path / "counts.gpkg")
    series = gpd.read_file(tmp_path / "counts.gpkg", layer="counts_series")
    sensors = gpd.read_file(tmp_path / "counts.gpkg", layer="counts_sensors")
    assert {"sensor", "time", "flow_veh_day"} <= set(series.columns)
    assert len(series) > len(sensors) > 100
    key = t.layer("counts").data.points.index.name or "index"
    assert set(series["sensor"].astype(str)) <= set(sensors[key].astype(str))


def test_build_writes_a_geopackage_copy_and_netcdf_provenance(tmp_path: Path) -> None:
    import xarray as xr

    from twin.cli import main

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "twin"
    assert main(["build", str(root / "tests/territories/bubenec.yaml"), "--out", str(out),
                 "--gpkg"]) == 0  # fmt: skip
    layers = {name for name, _ in pyogrio.list_layers(out / "twin.gpkg")}
    assert {"buildings", "streets_links", "twin_provenance"} <= layers
    with xr.open_dataset(out / "layers" / "landcover.nc") as ds:
        assert ds.attrs["twin_licence"].startswith("BSD-3-Clause")
    assert open_twin(out)["buildings"] is not None  # the extra files do not upset the store


def test_geoparquet_carries_provenance_and_unknown_dates_stay_unknown(tmp_path: Path) -> None:
    """The twin's own files say where they come from; a missing date is never 'today'."""
    import json

    import pyarrow.parquet as pq

    from twin.build import build

    root = Path(__file__).resolve().parents[2]
    t = build(root / "tests/territories/epinay.yaml", tmp_path / "t")  # no retrieved date
    meta = pq.read_schema(tmp_path / "t" / "layers" / "parcels.parquet").metadata
    prov = json.loads(meta[b"twin:provenance"])
    assert prov["licence"] == "etalab-2.0" and prov["retrieved"] == "unknown"
    assert any("parcels" in w and "retrieved" in w for w in t.meta["build_warnings"])
    assert gpd.read_parquet(tmp_path / "t" / "layers" / "parcels.parquet").crs is not None
