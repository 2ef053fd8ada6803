"""Twin store: round trip, atomicity, corrupt directories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

from twin import Layer, Network, Provenance, SensorSeries, Twin
from twin.errors import StoreError
from twin.model.crs import LAMBERT93
from twin.store.atomic import atomic_directory, atomic_write_bytes, recover_directory
from twin.store.twinstore import open_twin, save_twin


def small_twin() -> Twin:
    t = Twin("test", LAMBERT93)
    b = gpd.GeoDataFrame(
        {"height_m": [9.0, 12.5], "name": ["École", None]},
        geometry=[
            shapely.box(770000, 6278000, 770010, 6278010),
            shapely.box(770020, 6278000, 770030, 6278010),
        ],
        crs=2154,
        index=pd.Index(["b1", "b2"], name="id"),
    )
    t.add(Layer("buildings", "vector", b, Provenance("test", licence="etalab-2.0")))
    nodes = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([770000, 770100], [6278000, 6278000]),
        crs=2154,
        index=pd.Index([1, 2], name="id"),
    )
    links = gpd.GeoDataFrame(
        {"a_node": [1, 2], "b_node": [2, 1], "capacity_veh_h": [600.0, 600.0]},
        geometry=[shapely.LineString([(770000, 6278000), (770100, 6278000)])] * 2,
        crs=2154,
        index=pd.Index(["l1", "l2"], name="id"),
    )
    t.add(Layer("roads", "network", Network(nodes, links), Provenance("test")))
    y = np.arange(6278095.0, 6278000.0, -10.0)
    x = np.arange(770005.0, 770100.0, 10.0)
    g = xr.Dataset(
        {"roof": (("y", "x"), np.full((len(y), len(x)), 0.25, np.float32))},
        coords={"y": y, "x": x},
        attrs={"resolution_m": 10.0, "rules": {"a": 1}},
    )
    g = g.rio.write_crs(2154)
    t.add(Layer("landcover", "grid", g, Provenance("derived")))
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([770050], [6278050]),
        crs=2154,
        index=pd.Index(["s1"], name="sensor"),
    )
    times = pd.date_range("2025-07-01", periods=24, freq="h")
    data = xr.Dataset(
        {"temp_c": (("sensor", "time"), np.linspace(20, 30, 24)[None, :])},
        coords={"sensor": ["s1"], "time": times},
    )
    t.add(Layer("stations", "series", SensorSeries(pts, data), Provenance("test")))
    return t


def test_round_trip(tmp_path: Path) -> None:
    t = small_twin()
    save_twin(t, tmp_path / "tw", inputs={"a.gpkg": "0" * 64})
    back = open_twin(tmp_path / "tw")
    assert set(back.layers) == set(t.layers)
    assert back.crs.equals(LAMBERT93)
    pd.testing.assert_frame_equal(
        pd.DataFrame(back["buildings"].drop(columns="geometry")),
        pd.DataFrame(t["buildings"].drop(columns="geometry")),
        check_dtype=False,
    )
    assert back["roads"].csr.indptr.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(back["landcover"]["roof"], t["landcover"]["roof"])
    assert back["landcover"].attrs["rules"] == {"a": 1}
    assert back["landcover"].rio.crs.to_epsg() == 2154
    assert back["stations"].data.temp_c.shape == (1, 24)
    assert len(back.time) == 24
    m = json.loads((tmp_path / "tw" / "twin.json").read_text())
    assert m["layers"]["buildings"]["provenance"]["licence"] == "etalab-2.0"
    assert len(m["layers"]["roads"]["files"]) == 2 and m["inputs"]["a.gpkg"] == "0" * 64
    # vectors are plain GeoParquet: any GeoParquet reader (QGIS, GDAL) opens them
    g = gpd.read_parquet(tmp_path / "tw" / "layers" / "buildings.parquet")
    assert g.crs.to_epsg() == 2154 and len(g) == 2


def test_refuses_to_overwrite_a_non_twin(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "precious.txt").write_text("keep me")
    with pytest.raises(StoreError, match="refusing to overwrite"):
        save_twin(small_twin(), d)
    assert (d / "precious.txt").read_text() == "keep me"


def test_failed_write_leaves_previous_twin(tmp_path: Path) -> None:
    save_twin(small_twin(), tmp_path / "tw")
    before = (tmp_path / "tw" / "twin.json").read_text()
    bad = small_twin()
    bad.layers["buildings"].data["oops"] = [object(), object()]
    bad.layers["landcover"].data.attrs["bad"] = object()
    with pytest.raises(Exception):  # noqa: B017 - any failure while writing
        save_twin(bad, tmp_path / "tw")
    assert (tmp_path / "tw" / "twin.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["tw"]


def test_kill_during_build_leaves_store_readable(tmp_path: Path) -> None:
    """A process killed with SIGKILL in the middle of a save never leaves a broken twin."""
    save_twin(small_twin(), tmp_path / "tw")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_store import small_twin
        import twin.store.twinstore as ts
        real = ts.write_layer
        def slow(layer, folder):
            out = real(layer, folder)
            if layer.name == "roads":
                os.kill(os.getpid(), signal.SIGKILL)
            return out
        ts.write_layer = slow
        ts.save_twin(small_twin(), {str(tmp_path / "tw")!r})
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert r.returncode == -9
    back = open_twin(tmp_path / "tw")
    assert set(back.layers) == {"buildings", "roads", "landcover", "stations"}
    save_twin(small_twin(), tmp_path / "tw")  # a rerun completes and cleans up
    assert [p.name for p in tmp_path.iterdir()] == ["tw"]


def test_interrupted_swap_is_recovered(tmp_path: Path) -> None:
    save_twin(small_twin(), tmp_path / "tw")
    os.rename(tmp_path / "tw", tmp_path / ".tw.old-deadbeef")
    assert recover_directory(tmp_path / "tw")
    assert open_twin(tmp_path / "tw").name == "test"


def test_atomic_helpers(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "f.bin", b"abc")
    assert (tmp_path / "f.bin").read_bytes() == b"abc"
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "d") as tmp:
        (tmp / "x").write_text("1")
        raise RuntimeError
    assert not (tmp_path / "d").exists() and list(tmp_path.iterdir()) == [tmp_path / "f.bin"]


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a twin directory"):
        open_twin(tmp_path)
    save_twin(small_twin(), tmp_path / "tw")
    (tmp_path / "tw" / "layers" / "roads.links.parquet").unlink()
    with pytest.raises(StoreError, match="missing or not those the build wrote"):
        open_twin(tmp_path / "tw")
    (tmp_path / "tw" / "twin.json").write_text("{not json")
    with pytest.raises(StoreError, match="corrupt"):
        open_twin(tmp_path / "tw")


def test_twin_model_rules() -> None:
    t = small_twin()
    c = t.copy()
    c["buildings"].loc["b1", "height_m"] = 99.0
    assert t["buildings"].loc["b1", "height_m"] == 9.0  # copies never touch the parent
    with pytest.raises(Exception, match="already exists"):
        t.add(t.layer("buildings"))
    wrong = t.layer("buildings").copy()
    wrong.name, wrong.data = "b4326", wrong.data.to_crs(4326)
    with pytest.raises(Exception, match="not the working CRS"):
        t.add(wrong)
    with pytest.raises(Exception, match="no layer named"):
        t.layer("nope")
    assert t.extent[0] == pytest.approx(770000)
    w, s, e, n = t.extent_lonlat
    assert 3.8 < w < e < 3.9 and 43.5 < s < n < 43.7


def test_clean_stale_keeps_live_writers(tmp_path: Path) -> None:
    from twin.store.atomic import clean_stale

    dead = tmp_path / ".run-a.tmp-999999999-deadbeef"
    live = tmp_path / f".run-b.tmp-{os.getpid()}-cafebabe"
    dead.mkdir()
    live.mkdir()
    assert clean_stale(tmp_path) == 1
    assert not dead.exists() and live.exists()
