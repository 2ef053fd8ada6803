"""Basemap tile archives read from a local file: MBTiles (SQLite) and PMTiles version 3.

A basemap is optional background for the viewer's maps. It is one file named in the layer
manifest (``basemap:``), never a remote service: the viewer serves its tiles itself
(:mod:`twin.viewer.basemap`). Two formats are read:

- **MBTiles** 1.3 (an SQLite database with a ``metadata`` table of name/value pairs and a
  ``tiles`` table, or view, of ``zoom_level``, ``tile_column``, ``tile_row``,
  ``tile_data``), read with the standard library's :mod:`sqlite3`. Rows are numbered in the
  TMS scheme, from the south: the web map tile ``(z, x, y)`` (rows from the north) is the
  row ``2**z - 1 - y``.
- **PMTiles** version 3 (one file: a header, gzip-compressed directories of tile ids along a
  Hilbert curve, then the tile data), read with the ``pmtiles`` package's header and
  directory functions.

Tiles are raster images (PNG, JPEG, WebP) or Mapbox vector tiles (MVT, ``pbf``, usually
gzip-compressed). :func:`open_archive` opens either format, checks it (a tile archive, a
tile type the viewer draws, zoom levels, bounds, at least one tile) and returns a
:class:`TileArchive` whose :meth:`~TileArchive.tile` may be called from many threads at once.

References
----------
MBTiles specification 1.3, https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md
PMTiles version 3 specification, https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md
"""

from __future__ import annotations

import functools
import io
import math
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from twin.errors import BasemapError, message

__all__ = [
    "MEDIA_TYPES",
    "MBTiles",
    "PMTiles",
    "Tile",
    "TileArchive",
    "TileSet",
    "open_archive",
    "tile_bounds",
    "tile_kind",
]

#: Media type of each tile type the viewer draws (``pbf``: Mapbox vector tiles).
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "pbf": "application/x-protobuf",
}
#: Names of tile types in MBTiles metadata (``format``) and their canonical name.
FORMAT_NAMES = {
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "webp": "webp",
    "pbf": "pbf",
    "mvt": "pbf",
}
#: Deepest zoom level of a web map tile (tile ids of PMTiles fit in 64 bits up to it).
MAX_ZOOM = 30
#: Latitude limit of Web Mercator [degrees].
MERCATOR_LAT = 85.0511287798066
#: The whole Web Mercator world, ``(west, south, east, north)`` [degrees].
WORLD = (-180.0, -MERCATOR_LAT, 180.0, MERCATOR_LAT)

_HOW_TO = "see docs/viewer.md, 'Basemap', for how to make one offline"


@dataclass(frozen=True)
class TileSet:
    """What a tile archive holds.

    Attributes
    ----------
    format : {"mbtiles", "pmtiles"}
        The archive's format.
    tile_type : {"png", "jpg", "webp", "pbf"}
        The tiles' type (``pbf``: Mapbox vector tiles).
    minzoom, maxzoom : int
        The zoom levels of its tiles.
    bounds : tuple of float
        ``(west, south, east, north)`` of its tiles [degrees, WGS 84].
    tile_size : int or None
        Width of a raster tile [px] (read from the first tile); None for vector tiles.
    derived : dict of str to str
        Fields the archive's metadata does not give, with the rule that gave them (ASSUMED).
    """

    format: Literal["mbtiles", "pmtiles"]
    tile_type: str
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]
    tile_size: int | None
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> Literal["raster", "vector"]:
        """``vector`` for Mapbox vector tiles, else ``raster``."""
        return "vector" if self.tile_type == "pbf" else "raster"


@dataclass(frozen=True)
class Tile:
    """One tile as stored: its bytes and their HTTP content encoding (``gzip`` or None)."""

    data: bytes
    encoding: str | None


def tile_kind(data: bytes) -> str | None:
    """The tile type of stored tile bytes, from their signature.

    Returns
    -------
    str or None
        ``png``, ``jpg``, ``webp``, ``pbf`` (gzip-compressed bytes, or a protocol buffer
        opening with a layer, field 3), or None when none of these.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\x1f\x8b") or data[:1] == b"\x1a":
        return "pbf"
    return None


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of the web map tile ``(z, x, y)`` [degrees].

    Rows ``y`` count from the north (XYZ); the Web Mercator latitude of a row edge ``t`` (in
    tiles) is ``atan(sinh(π (1 − 2 t / 2**z)))``.
    """
    n = 2**z

    def lat(t: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n))))

    return (x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))


def tiles_over(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    """The web map tiles ``(x, y)`` (rows from the north) at zoom ``z`` that meet ``bounds``
    (``(west, south, east, north)`` [degrees, WGS 84], within Web Mercator's ±85.05°)."""
    n = 2**z
    w, s, e, north = bounds

    def col(lon: float) -> int:
        return min(max(int((lon + 180.0) / 360.0 * n), 0), n - 1)

    def row(lat: float) -> int:
        t = math.radians(min(max(lat, -85.0511), 85.0511))
        return min(max(int((1 - math.asinh(math.tan(t)) / math.pi) / 2 * n), 0), n - 1)

    return [(x, y) for x in range(col(w), col(e) + 1) for y in range(row(north), row(s) + 1)]


def _gzip_encoding(data: bytes) -> str | None:
    return "gzip" if data.startswith(b"\x1f\x8b") else None


class TileArchive(ABC):
    """A tile archive open for reading, from any number of threads.

    Attributes
    ----------
    path : Path
        The file.
    tileset : TileSet
        What it holds.
    """

    path: Path
    tileset: TileSet

    @abstractmethod
    def tile(self, z: int, x: int, y: int) -> Tile | None:
        """The stored tile ``(z, x, y)`` (XYZ rows, from the north), or None when absent.

        Parameters
        ----------
        z, x, y : int
            Zoom level, column and row; ``0 <= x, y < 2**z`` (checked by the caller).
        """

    @abstractmethod
    def close(self) -> None:
        """Release the file."""

    def _fail(self, what: str, fix: str) -> BasemapError:
        return BasemapError(message(what, where=self.path, fix=fix))


def _checked_tileset(a: TileArchive, ts: TileSet) -> TileSet:
    """``ts`` when its zoom levels and bounds make sense, else a :class:`BasemapError`."""
    if not 0 <= ts.minzoom <= ts.maxzoom <= MAX_ZOOM:
        raise a._fail(
            f"zoom levels {ts.minzoom}–{ts.maxzoom} are not within 0–{MAX_ZOOM} in order",
            "fix minzoom and maxzoom in the archive's metadata",
        )
    w, s, e, n = ts.bounds
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise a._fail(
            f"bounds {list(ts.bounds)} are not west, south, east, north in degrees",
            "fix the bounds in the archive's metadata (west,south,east,north, WGS 84)",
        )
    return ts


def _raster_size(a: TileArchive, data: bytes, where: str) -> int:
    """Width of the raster tile ``data`` [px], checked square and readable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError) as exc:
        what = f"tile {where} is not a readable image ({exc})"
        raise a._fail(what, "re-create the archive") from None
    if w != h or w < 1:
        raise a._fail(f"tile {where} is {w}×{h} px, not square", "re-create it with square tiles")
    return int(w)


def _type_of(a: TileArchive, declared: str | None, first: bytes, where: str) -> tuple[str, bool]:
    """The tile type: the declared one, checked against the first tile's signature; else
    the signature's (second value True: derived)."""
    sniffed = tile_kind(first)
    if declared is None:
        if sniffed is None:
            raise a._fail(
                f"the tile type is not declared and tile {where} is none of PNG, JPEG, WebP or "
                "vector tiles",
                "declare format (png, jpg, webp or pbf) in the archive's metadata",
            )
        return sniffed, True
    if sniffed is not None and sniffed != declared:
        raise a._fail(
            f"the archive declares {declared} tiles but tile {where} is {sniffed}",
            "correct the declared tile type, or re-create the archive",
        )
    return declared, False


class MBTiles(TileArchive):
    """An MBTiles file (SQLite), one read-only connection per thread.

    Parameters
    ----------
    path : path
        The ``.mbtiles`` file.

    Raises
    ------
    BasemapError
        When it is not an MBTiles database, declares a tile type the viewer does not draw,
        holds no tile or gives impossible zoom levels or bounds.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.tileset = _checked_tileset(self, self._read_tileset())
        except sqlite3.Error as exc:
            self.close()
            raise self._fail(
                f"is not a readable MBTiles database ({exc})", f"re-create it ({_HOW_TO})"
            ) from None
        except BasemapError:
            self.close()
            raise

    def _con(self) -> sqlite3.Connection:
        """This thread's connection (opened read-only the first time)."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            # each thread uses only its own connection; close() may close them all
            con = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def _read_tileset(self) -> TileSet:
        con = self._con()
        names = {
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        }
        missing = sorted({"metadata", "tiles"} - names)
        if missing:
            raise self._fail(
                f"is an SQLite database without the MBTiles table(s) {missing}",
                f"name an MBTiles file (metadata and tiles tables; {_HOW_TO})",
            )
        meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
        first = con.execute(
            "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1"
        ).fetchone()
        if first is None or first[3] is None:
            raise self._fail("holds no tile (its tiles table is empty)", "re-create the archive")
        z, x, row, data = first
        where = f"{z}/{x}/{(1 << z) - 1 - row}"
        declared = meta.get("format")
        if declared is not None and str(declared).lower() not in FORMAT_NAMES:
            raise self._fail(
                f"its tiles are '{declared}', which the viewer cannot draw",
                "use PNG, JPEG or WebP images, or Mapbox vector tiles (pbf)",
            )
        norm = FORMAT_NAMES[str(declared).lower()] if declared is not None else None
        tile_type, sniffed = _type_of(self, norm, bytes(data), where)
        derived = {"tile_type": "ASSUMED: from the first tile's signature"} if sniffed else {}
        zooms = self._zooms(meta, derived)
        bounds = self._bounds(meta, zooms[1], derived)
        size = _raster_size(self, bytes(data), where) if tile_type != "pbf" else None
        return TileSet("mbtiles", tile_type, *zooms, bounds, size, derived)

    def _zooms(self, meta: dict[str, Any], derived: dict[str, str]) -> tuple[int, int]:
        """Zoom levels from the metadata, else from the tiles table (recorded ASSUMED)."""
        try:
            return int(meta["minzoom"]), int(meta["maxzoom"])
        except (KeyError, TypeError, ValueError):
            lo, hi = (
                self._con().execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
            )
            derived["zooms"] = "ASSUMED: the lowest and highest zoom levels of the tiles table"
            return int(lo), int(hi)

    def _bounds(
        self, meta: dict[str, Any], zmax: int, derived: dict[str, str]
    ) -> tuple[float, float, float, float]:
        """Bounds from the metadata, else the box of the deepest tiles (recorded ASSUMED)."""
        try:
            w, s, e, n = (float(v) for v in str(meta["bounds"]).split(","))
            return (w, s, e, n)
        except (KeyError, ValueError):
            pass
        x0, x1, r0, r1 = (
            self._con()
            .execute(
                "SELECT MIN(tile_column), MAX(tile_column), MIN(tile_row), MAX(tile_row) "
                "FROM tiles WHERE zoom_level = ?",
                (zmax,),
            )
            .fetchone()
        )
        top = (1 << zmax) - 1
        derived["bounds"] = f"ASSUMED: the box of the tiles of zoom level {zmax}"
        w, _, _, n = tile_bounds(zmax, int(x0), top - int(r1))
        _, s, e, _ = tile_bounds(zmax, int(x1), top - int(r0))
        return (w, s, e, n)

    def tile(self, z: int, x: int, y: int) -> Tile | None:
        """See :meth:`TileArchive.tile` (the row is flipped to TMS)."""
        row = (
            self._con()
            .execute(
                "SELECT tile_data FROM tiles "
                "WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            )
            .fetchone()
        )
        if row is None or row[0] is None:
            return None
        data = bytes(row[0])
        return Tile(data, _gzip_encoding(data) if self.tileset.tile_type == "pbf" else None)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()


class PMTiles(TileArchive):
    """A PMTiles version 3 file: one file handle, read under a lock (reads are short), and
    the directories last read kept decoded.

    Parameters
    ----------
    path : path
        The ``.pmtiles`` file.

    Raises
    ------
    BasemapError
        When it is not a PMTiles v3 file, its tiles are of a type the viewer does not draw
        or compressed other than with gzip, or it holds no tile.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = open(self.path, "rb")  # closed by close()
        self._lock = threading.Lock()
        # decoded directories by (offset, length); lru_cache is thread-safe
        self._directory = functools.lru_cache(maxsize=128)(self._read_directory)
        try:
            self.tileset = _checked_tileset(self, self._read_tileset())
        except BasemapError:
            self.close()
            raise

    def _bytes(self, offset: int, length: int) -> bytes:
        with self._lock:
            self._file.seek(offset)
            return self._file.read(length)

    def _read_directory(self, offset: int, length: int) -> list[Any]:
        from pmtiles.tile import deserialize_directory

        return deserialize_directory(self._bytes(offset, length))

    def _header(self) -> dict[str, Any]:
        from pmtiles.tile import MagicNumberNotFound, SpecVersionUnsupported, deserialize_header

        raw = self._bytes(0, 127)
        try:
            return dict(deserialize_header(raw))
        except MagicNumberNotFound:
            what = "is not a PMTiles file (no PMTiles signature)"
        except SpecVersionUnsupported:
            what = f"is a PMTiles file of version {raw[7]}, not 3"
        except (ValueError, IndexError, UnicodeDecodeError) as exc:
            what = f"has an unreadable PMTiles header ({exc})"
        raise self._fail(what, "convert it to PMTiles v3 with `pmtiles convert`")

    def _read_tileset(self) -> TileSet:
        from pmtiles.tile import Compression, TileType

        h = self._h = self._header()
        types = {
            TileType.MVT: "pbf",
            TileType.PNG: "png",
            TileType.JPEG: "jpg",
            TileType.WEBP: "webp",
        }
        gzip_or_none = (Compression.GZIP, Compression.NONE, Compression.UNKNOWN)
        if (
            h["internal_compression"] != Compression.GZIP
            or h["tile_compression"] not in gzip_or_none
        ):
            raise self._fail(
                f"its directories or tiles are compressed with {h['internal_compression'].name} / "
                f"{h['tile_compression'].name}; the viewer reads gzip only",
                "re-create it with gzip compression (the default of `pmtiles convert` and GDAL)",
            )
        first = self._first_tile(h)
        if first is None:
            raise self._fail("holds no tile (its directory is empty)", "re-create the archive")
        declared = types.get(h["tile_type"])
        if declared is None and h["tile_type"] != TileType.UNKNOWN:
            raise self._fail(
                f"its tiles are {h['tile_type'].name}, which the viewer cannot draw",
                "use PNG, JPEG or WebP images, or Mapbox vector tiles (MVT)",
            )
        (z, x, y), data = first
        tile_type, sniffed = _type_of(self, declared, data, f"{z}/{x}/{y}")
        derived = {"tile_type": "ASSUMED: from the first tile's signature"} if sniffed else {}
        bounds = tuple(h[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
        if bounds[0] == bounds[2] or bounds[1] == bounds[3]:  # not given
            bounds = WORLD
            derived["bounds"] = "ASSUMED: the whole world (the header gives no bounds)"
        size = _raster_size(self, data, f"{z}/{x}/{y}") if tile_type != "pbf" else None
        zooms = (int(h["min_zoom"]), int(h["max_zoom"]))
        return TileSet("pmtiles", tile_type, *zooms, bounds, size, derived)  # type: ignore[arg-type]

    def _first_tile(self, h: dict[str, Any]) -> tuple[tuple[int, int, int], bytes] | None:
        """The first tile of the archive (the first of the root directory, or of the first
        leaf), with its ``(z, x, y)``."""
        from pmtiles.tile import tileid_to_zxy

        offset, length = h["root_offset"], h["root_length"]
        for _ in range(4):  # the specification allows at most 3 levels of leaves
            try:
                entries = self._directory(offset, length)
            except (OSError, EOFError, IndexError) as exc:
                what = f"has an unreadable directory ({exc})"
                raise self._fail(what, "re-create the archive") from None
            if not entries:
                return None
            e = entries[0]
            if e.run_length > 0:
                data = self._bytes(h["tile_data_offset"] + e.offset, e.length)
                return tileid_to_zxy(e.tile_id), data
            offset, length = h["leaf_directory_offset"] + e.offset, e.length
        return None

    def tile(self, z: int, x: int, y: int) -> Tile | None:
        """See :meth:`TileArchive.tile` (the tile id along the Hilbert curve, then the root
        directory and at most three levels of leaves)."""
        from pmtiles.tile import find_tile, zxy_to_tileid

        h = self._h
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = h["root_offset"], h["root_length"]
        for _ in range(4):
            e = find_tile(self._directory(offset, length), tile_id)
            if e is None:
                return None
            if e.run_length > 0:
                data = self._bytes(h["tile_data_offset"] + e.offset, e.length)
                return Tile(data, self._encoding(data))
            offset, length = h["leaf_directory_offset"] + e.offset, e.length
        return None

    def _encoding(self, data: bytes) -> str | None:
        from pmtiles.tile import Compression

        if self._h["tile_compression"] == Compression.GZIP:
            return "gzip"
        if self._h["tile_compression"] == Compression.UNKNOWN:
            return _gzip_encoding(data)
        return None

    def close(self) -> None:
        """Close the file."""
        self._file.close()


#: The first bytes of each format.
_SIGNATURES = {b"SQLite format 3\x00": "mbtiles", b"PMTiles": "pmtiles"}


def open_archive(path: str | Path) -> TileArchive:
    """Open and check a basemap tile archive, MBTiles or PMTiles (told by its first bytes).

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    TileArchive
        Open for reading; its ``tileset`` says what it holds. Close it when done.

    Raises
    ------
    BasemapError
        Naming the file, what is wrong (missing, a directory, empty, not a tile archive, a
        tile type the viewer cannot draw, no tile, impossible zooms or bounds) and the fix.
    """
    p = Path(path)
    fix = "check basemap.source in the layer manifest"
    if not p.exists():
        raise BasemapError(message("basemap file not found", where=p, fix=fix))
    if not p.is_file():
        raise BasemapError(message("is not a file", where=p, fix=fix))
    with open(p, "rb") as f:
        head = f.read(16)
    kind = next((k for sig, k in _SIGNATURES.items() if head.startswith(sig)), None)
    if kind is None:
        what = "is empty (0 bytes)" if not head else "is neither an MBTiles nor a PMTiles file"
        msg = message(what, where=p, fix=f"name an .mbtiles or .pmtiles file ({_HOW_TO})")
        raise BasemapError(msg)
    return MBTiles(p) if kind == "mbtiles" else PMTiles(p)
