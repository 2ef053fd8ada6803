"""The basemap readers on tile archives made from the real Montpellier open data: what each
archive holds, tiles found at their web map address (TMS rows flipped in MBTiles), reads from
many threads, fields derived when the metadata lacks them, and every bad archive refused with
the file, what is wrong and the fix."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from twin.errors import BasemapError
from twin.io.basemap import TileArchive, open_archive

from ._tiles import PARIS, montpellier_frame, raster_mbtiles, tile_of, vector_archive

ZOOMS = range(12, 15)
#: Colour of the buildings drawn in the raster archive (RGB).
BROWN = (170, 120, 80)


@pytest.fixture(scope="module")
def buildings(montpellier: Path) -> gpd.GeoDataFrame:
    """Montpellier's 3,356 non-residential buildings, in lon/lat."""
    return montpellier_frame(montpellier, "buildings")


@pytest.fixture(scope="module")
def archives(buildings: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The buildings as vector tiles (MBTiles and PMTiles, GDAL) and as PNG tiles (MBTiles
    written here), zoom levels 12 to 14; with the PNG tiles written, by (z, x, y)."""
    d = tmp_path_factory.mktemp("tiles")
    png = raster_mbtiles(d / "raster.mbtiles", buildings, ZOOMS, BROWN)
    return {
        "vector.mbtiles": vector_archive(d / "vector.mbtiles", [buildings], ZOOMS),
        "vector.pmtiles": vector_archive(d / "vector.pmtiles", [buildings], ZOOMS),
        "raster.mbtiles": d / "raster.mbtiles",
        "png": png,
    }


NAMES = ("vector.mbtiles", "vector.pmtiles", "raster.mbtiles")


def opened(path: Path) -> TileArchive:
    return open_archive(path)


@pytest.mark.parametrize("name", NAMES)
def test_what_each_archive_holds(archives: dict, buildings: gpd.GeoDataFrame, name: str) -> None:
    a = opened(archives[name])
    try:
        ts = a.tileset
    finally:
        a.close()
    assert ts.format == name.split(".")[1]
    assert (ts.tile_type, ts.kind) == (("pbf", "vector") if "vector" in name else ("png", "raster"))
    assert (ts.minzoom, ts.maxzoom) == (12, 14)
    # the metadata's bounds are the buildings' box (GDAL: to 1e-7 degrees)
    assert np.allclose(ts.bounds, buildings.total_bounds, atol=1e-6), ts.bounds
    assert ts.tile_size == (256 if "raster" in name else None)
    assert ts.derived == {}


def building_tile(buildings: gpd.GeoDataFrame, z: int) -> tuple[shapely.Point, int, int]:
    """A point inside the largest building and its web map tile at zoom ``z``."""
    p = buildings.geometry.iloc[int(buildings.to_crs(2154).area.argmax())].representative_point()
    return (p, *tile_of(p.x, p.y, z))


def decoded(data: bytes, z: int, x: int, y: int, tmp: Path) -> gpd.GeoDataFrame:
    """A vector tile's features in lon/lat, read by GDAL's MVT driver at its address."""
    f = tmp / f"{z}-{x}-{y}.pbf"
    f.write_bytes(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return gpd.read_file(f, engine="pyogrio", X=x, Y=y, Z=z).to_crs(4326)


@pytest.mark.parametrize("name", ("vector.mbtiles", "vector.pmtiles"))
def test_vector_tile_at_a_known_building(
    archives: dict, buildings: gpd.GeoDataFrame, name: str, tmp_path: Path
) -> None:
    """The tile holding the largest building, asked by its web map address, holds that
    building (decoded by GDAL); the row counted from the south instead, and a tile over
    Paris, are absent."""
    a = opened(archives[name])
    try:
        for z in ZOOMS:
            p, x, y = building_tile(buildings, z)
            t = a.tile(z, x, y)
            assert t is not None and t.encoding == "gzip", (z, x, y)
            feats = decoded(t.data, z, x, y, tmp_path)
            # within 1 m (the tile's integer grid rounds the outline)
            near = feats.to_crs(2154).buffer(1.0)
            at = gpd.GeoSeries([p], crs=4326).to_crs(2154).iloc[0]
            assert near.contains(at).any(), (z, x, y)
            assert a.tile(z, x, 2**z - 1 - y) is None  # a TMS row read as XYZ: the south
            assert a.tile(z, *tile_of(*PARIS, z)) is None
    finally:
        a.close()


def test_raster_tile_is_the_stored_row_flipped(archives: dict, buildings: gpd.GeoDataFrame) -> None:
    """Each PNG tile asked by its web map address is the bytes written at the TMS row
    ``2**z - 1 - y``; the tile of the largest building shows the buildings' colour."""
    from io import BytesIO

    from PIL import Image

    path, written = archives["raster.mbtiles"], archives["png"]
    a = opened(path)
    con = sqlite3.connect(path)
    try:
        for (z, x, y), png in written.items():
            t = a.tile(z, x, y)
            assert t is not None and t.data == png and t.encoding is None
            row = con.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, 2**z - 1 - y),
            ).fetchone()
            assert row[0] == png
        _, x, y = building_tile(buildings, 14)
        t = a.tile(14, x, y)
        assert t is not None
        px = np.asarray(Image.open(BytesIO(t.data)).convert("RGBA"))
        assert (np.abs(px[..., :3].astype(int) - BROWN).sum(axis=2) < 3).sum() > 100
        assert a.tile(14, *tile_of(*PARIS, 14)) is None
    finally:
        con.close()
        a.close()


@pytest.mark.parametrize("name", NAMES)
def test_reads_from_many_threads(archives: dict, buildings: gpd.GeoDataFrame, name: str) -> None:
    """Every tile read by 8 threads at once is the tile read alone (one SQLite connection per
    thread; the PMTiles file read under a lock)."""
    a = opened(archives[name])
    w, s, e, n = buildings.total_bounds
    x0, y0 = tile_of(w, n, 14)
    x1, y1 = tile_of(e, s, 14)
    keys = [(14, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)] * 4
    try:
        alone = [a.tile(*k) for k in keys]
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(lambda k: a.tile(*k), keys))
    finally:
        a.close()
    assert sum(t is not None for t in alone) > 10
    assert together == alone


def test_fields_missing_from_the_metadata_are_derived_and_assumed(
    archives: dict, buildings: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    """An MBTiles file whose metadata gives no format, zooms or bounds: the tile type comes
    from the tiles' signature, the zooms and bounds from the tiles table, each said ASSUMED."""
    path = tmp_path / "bare.mbtiles"
    shutil.copy(archives["raster.mbtiles"], path)
    with sqlite3.connect(path) as con:
        con.execute("DELETE FROM metadata")
    a = opened(path)
    ts = a.tileset
    a.close()
    assert (ts.tile_type, ts.minzoom, ts.maxzoom) == ("png", 12, 14)
    assert set(ts.derived) == {"tile_type", "zooms", "bounds"}
    assert all(v.startswith("ASSUMED") for v in ts.derived.values())
    # the box of the zoom-14 tiles holds the buildings, and little more (a tile is ~2.4 km)
    w, s, e, n = buildings.total_bounds
    assert ts.bounds[0] <= w and ts.bounds[1] <= s and ts.bounds[2] >= e and ts.bounds[3] >= n
    assert ts.bounds[2] - ts.bounds[0] < (e - w) + 2 * 360 / 2**14


def refused(path: Path, *what: str) -> str:
    """The message of the error opening ``path``: it names the file, says what is wrong
    (each of ``what``) and the fix."""
    with pytest.raises(BasemapError) as err:
        open_archive(path)
    text = str(err.value)
    assert text.startswith(str(path)), text
    assert all(w in text for w in what) and "Fix: " in text, text
    return text


def test_files_that_are_not_tile_archives(
    tmp_path: Path, montpellier: Path, buildings: gpd.GeoDataFrame
) -> None:
    refused(tmp_path / "absent.pmtiles", "basemap file not found", "basemap.source")
    refused(tmp_path, "is not a file")
    (tmp_path / "empty.mbtiles").write_bytes(b"")
    refused(tmp_path / "empty.mbtiles", "is empty")
    # a GeoJSON named as a basemap
    geojson = montpellier / "VilleMTP_MTP_Quartiers" / "VilleMTP_MTP_Quartiers.geojson"
    refused(geojson, "neither an MBTiles nor a PMTiles file")
    # a GeoPackage is SQLite, but not MBTiles
    gpkg = tmp_path / "buildings.gpkg"
    buildings.head(20).to_file(gpkg, driver="GPKG")
    refused(
        gpkg.rename(tmp_path / "buildings.mbtiles"),
        "without the MBTiles table(s) ['metadata', 'tiles']",
    )


def test_mbtiles_of_the_wrong_kind(archives: dict, tmp_path: Path) -> None:
    def copy(name: str, sql: str) -> Path:
        p = tmp_path / name
        shutil.copy(archives["raster.mbtiles"], p)
        with sqlite3.connect(p) as con:
            con.execute(sql)
        return p

    refused(
        copy("tiff.mbtiles", "UPDATE metadata SET value='tiff' WHERE name='format'"),
        "tiles are 'tiff'",
        "PNG, JPEG or WebP",
    )
    refused(copy("none.mbtiles", "DELETE FROM tiles"), "holds no tile")
    refused(
        copy("jpg.mbtiles", "UPDATE metadata SET value='jpg' WHERE name='format'"),
        "declares jpg tiles but tile",
        "is png",
    )
    refused(
        copy("bounds.mbtiles", "UPDATE metadata SET value='3.9,43.6,3.8,43.5' WHERE name='bounds'"),
        "are not west, south, east, north",
    )
    refused(
        copy("zooms.mbtiles", "UPDATE metadata SET value='40' WHERE name='maxzoom'"),
        "zoom levels 12–40",
    )


def test_pmtiles_of_the_wrong_kind(archives: dict, tmp_path: Path) -> None:
    """PMTiles headers changed byte by byte (version, tile type, compression)."""
    raw = archives["vector.pmtiles"].read_bytes()

    def patched(name: str, at: int, value: int) -> Path:
        p = tmp_path / name
        p.write_bytes(raw[:at] + bytes([value]) + raw[at + 1 :])
        return p

    refused(patched("v2.pmtiles", 7, 2), "version 2, not 3", "pmtiles convert")
    refused(patched("avif.pmtiles", 99, 5), "tiles are AVIF", "cannot draw")
    refused(patched("brotli.pmtiles", 98, 3), "BROTLI", "gzip")
    refused(patched("oddtype.pmtiles", 99, 42), "unreadable PMTiles header")
    # the tile type left unknown: told by the first tile's signature, said ASSUMED
    a = opened(patched("unknown.pmtiles", 99, 0))
    assert a.tileset.tile_type == "pbf" and "ASSUMED" in a.tileset.derived["tile_type"]
    a.close()


def test_gdal_raster_mbtiles_of_a_lambert93_grid(
    buildings: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    """The buildings burnt into a Lambert-93 grid (5 m) and written by GDAL's MBTiles driver
    as JPEG tiles (GDAL reprojects to Web Mercator), as an authority does with its own
    orthophoto: the tile of the largest building shows it dark on white."""
    from io import BytesIO

    import rasterio
    import rasterio.shutil
    from PIL import Image
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    l93 = buildings.to_crs(2154)
    p, _, _ = building_tile(buildings, 14)
    c = gpd.GeoSeries([p], crs=4326).to_crs(2154).iloc[0]
    t = from_origin(c.x - 1000, c.y + 1000, 5.0, 5.0)
    dark = rasterize(l93.geometry, out_shape=(400, 400), transform=t, fill=0, default_value=1)
    grey = np.where(dark == 1, 40, 250).astype("uint8")
    tif = tmp_path / "ortho.tif"
    profile = {"driver": "GTiff", "width": 400, "height": 400, "count": 3, "dtype": "uint8"}
    with rasterio.open(tif, "w", crs="EPSG:2154", transform=t, **profile) as dst:
        dst.write(np.stack([grey] * 3))
    rasterio.shutil.copy(tif, tmp_path / "ortho.mbtiles", driver="MBTiles", TILE_FORMAT="JPEG")
    a = opened(tmp_path / "ortho.mbtiles")
    try:
        ts = a.tileset
        assert (ts.tile_type, ts.tile_size, ts.derived) == ("jpg", 256, {})
        _, x, y = building_tile(buildings, ts.maxzoom)
        tile = a.tile(ts.maxzoom, x, y)
        assert tile is not None and tile.data[:3] == b"\xff\xd8\xff"
        px = np.asarray(Image.open(BytesIO(tile.data)).convert("L"))
        assert (px < 80).sum() > 200 and (px > 220).sum() > 200
        assert a.tile(ts.maxzoom, x, 2**ts.maxzoom - 1 - y) is None
    finally:
        a.close()
