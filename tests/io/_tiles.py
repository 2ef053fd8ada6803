"""Tile archives made from the real Montpellier open data, for the basemap tests.

Vector archives (MVT) are written by GDAL through pyogrio (its MBTiles and PMTiles drivers).
Raster archives are PNG tiles drawn with Pillow and written into an MBTiles file made here by
the MBTiles 1.3 specification (rows numbered from the south, TMS). The tile arithmetic is the
Web Mercator one, written here independently of ``twin.io.basemap``.
"""

from __future__ import annotations

import io
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

#: Montpellier's Place de la Comédie [lon, lat in degrees].
COMEDIE = (3.8800, 43.6086)
#: A point of Paris (Notre-Dame) [lon, lat in degrees], far from Montpellier.
PARIS = (2.3499, 48.8530)


def montpellier_frame(montpellier: Path, what: str) -> gpd.GeoDataFrame:
    """A Montpellier open-data layer in lon/lat: ``buildings``, ``districts`` or ``streets``
    (geometry only)."""
    files = {
        "buildings": "VilleMTP_MTP_Batiments/VilleMTP_MTP_Batiments.zip",
        "districts": "VilleMTP_MTP_Quartiers/VilleMTP_MTP_Quartiers.geojson",
        "streets": "VilleMTP_MTP_FilaireVoies/VilleMTP_MTP_FilaireVoies.zip",
    }
    path = montpellier / files[what]
    target = f"/vsizip/{path}" if path.suffix == ".zip" else str(path)
    # geometry only: no attribute text to decode (the shapefiles are Latin-1)
    return gpd.read_file(target, columns=[], engine="pyogrio").to_crs(4326)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The web map tile ``(x, y)`` (rows from the north) holding a point at zoom ``z``."""
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _pixels(coords: np.ndarray, z: int, x: int, y: int, size: int) -> list[tuple[float, float]]:
    """Lon/lat coordinates as pixel positions in the tile ``(z, x, y)``."""
    n = 2**z
    lon, lat = coords[:, 0], np.radians(coords[:, 1])
    px = ((lon + 180) / 360 * n - x) * size
    py = ((1 - np.arcsinh(np.tan(lat)) / np.pi) / 2 * n - y) * size
    return list(zip(px.tolist(), py.tolist(), strict=True))


def _tiles_over(gdf: gpd.GeoDataFrame, z: int) -> Iterator[tuple[int, int]]:
    """The tiles of zoom ``z`` over the box of ``gdf``."""
    w, s, e, n = gdf.total_bounds
    x0, y0 = tile_of(w, n, z)
    x1, y1 = tile_of(e, s, z)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            yield x, y


def _lonlat_box(z: int, x: int, y: int) -> shapely.Polygon:
    n = 2**z

    def lat(t: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n))))

    return shapely.box(x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def png_tile(
    gdf: gpd.GeoDataFrame, z: int, x: int, y: int, colour: tuple[int, int, int], size: int = 256
) -> bytes | None:
    """The polygons of ``gdf`` over the tile ``(z, x, y)`` drawn in ``colour`` on a
    transparent PNG of ``size`` px, or None when none touches it."""
    from PIL import Image, ImageDraw

    box = _lonlat_box(z, x, y)
    hit = gdf.geometry[gdf.geometry.intersects(box)]
    if hit.empty:
        return None
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    for part in hit.explode(index_parts=False):
        ring = shapely.get_coordinates(part.exterior)
        draw.polygon(_pixels(ring, z, x, y, size), fill=(*colour, 255))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def raster_mbtiles(
    path: Path,
    gdf: gpd.GeoDataFrame,
    zooms: range,
    colour: tuple[int, int, int],
    *,
    metadata: dict[str, str] | None = None,
) -> dict[tuple[int, int, int], bytes]:
    """Write the polygons of ``gdf`` as PNG tiles into a new MBTiles 1.3 file.

    Parameters
    ----------
    path : Path
        The file to create.
    gdf : GeoDataFrame
        Polygons in lon/lat.
    zooms : range
        The zoom levels written.
    colour : tuple of int
        RGB of the polygons (0–255).
    metadata : dict, optional
        The metadata rows (default: name, format png, bounds of ``gdf``, zooms, baselayer).

    Returns
    -------
    dict
        The tiles written, by web map ``(z, x, y)`` (rows from the north).
    """
    w, s, e, n = gdf.total_bounds
    meta = {
        "name": "montpellier",
        "format": "png",
        "bounds": f"{w},{s},{e},{n}",
        "minzoom": str(zooms.start),
        "maxzoom": str(zooms.stop - 1),
        "type": "baselayer",
        "version": "1",
    }
    if metadata is not None:
        meta = metadata
    written: dict[tuple[int, int, int], bytes] = {}
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE metadata (name text, value text)")
        con.execute(
            "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
            "tile_data blob)"
        )
        con.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        con.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
        for z in zooms:
            for x, y in _tiles_over(gdf, z):
                png = png_tile(gdf, z, x, y, colour)
                if png is not None:
                    tms = 2**z - 1 - y  # rows from the south
                    con.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, tms, png))
                    written[(z, x, y)] = png
    con.close()
    return written


def vector_archive(path: Path, frames: list[gpd.GeoDataFrame], zooms: range) -> Path:
    """Write the features of ``frames`` (lon/lat) as Mapbox vector tiles, one layer named
    after the file, with GDAL: an MBTiles or PMTiles file by the suffix of ``path``."""
    import pandas as pd

    driver = {".mbtiles": "MBTiles", ".pmtiles": "PMTiles"}[path.suffix]
    all_ = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    all_.to_file(path, driver=driver, MINZOOM=zooms.start, MAXZOOM=zooms.stop - 1)
    return path
