"""The optional basemap in the viewer: its tiles served from the local file named in the
twin's manifest, what the renderer needs to draw it, and what the page says when it cannot.

The tiles are served by the viewer itself at ``/basemap/<z>/<x>/<y>`` (web map rows, from the
north), never from a remote service; ``/basemap.json`` describes them. The renderer draws
them under every other layer of every map (raster images as bitmaps, vector tiles in the
quiet style :data:`VECTOR_STYLE`), with the basemap's attribution on the map and on the PNG
sheet, and a *Fond de carte* / *Basemap* toggle among the layers.

When the file recorded at build is gone, has changed, or cannot be read when the viewer
starts, the viewer runs without it and says so: on the server's console and in the page,
in the interface language (:func:`note`).
"""

from __future__ import annotations

import base64
import gzip
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.errors import BasemapError
from twin.io.basemap import MAX_ZOOM, MEDIA_TYPES, Tile, TileArchive, open_archive, tiles_over
from twin.model.basemap import Basemap, twin_basemap
from twin.model.twin import Twin
from twin.viewer.i18n import tr

#: Where the page asks for tiles (deck.gl fills in ``{z}``, ``{x}``, ``{y}``).
TILE_URL = "/basemap/{z}/{x}/{y}"
#: How long a browser may reuse a tile before asking again [s] (an ETag follows the file).
CACHE_S = 24 * 3600
#: Size of a vector tile on screen [px] (vector tiles are drawn at any size; 512 is the
#: convention of vector basemaps).
VECTOR_TILE_PX = 512

#: The quiet style of a vector basemap: light greys under the twin's blue-grey layers and the
#: results' ramps, water blue-grey, roads light. A feature takes the first class whose
#: ``match`` (a case-insensitive pattern) finds its source layer's name or its ``kind`` or
#: ``class`` property (the names of OpenMapTiles, Protomaps and most schemas); otherwise the
#: ``default`` class of its geometry (a polygon is land, a line a road). A whole layer of land
#: cover is not green (Protomaps' ``landcover`` holds urban areas and farmland too); *eau* is
#: water as a word of a name (``cours_d_eau``, ``plan_d_eau``), not inside one (``reseau``),
#: and so is *sea*.
#: Polygons are filled (no outline), lines stroked; points are not drawn. Colours are RGBA
#: 0–255, widths [CSS px].
_CLASSES: list[list[Any]] = [
    # name, pattern (None: what no pattern finds), fill, line (RGBA), line width [px]
    ["water", "water|ocean|lake|river|stream|canal|reservoir|hydro|(^|[|_ ])(sea|eau)",
     [186, 200, 213, 255], [186, 200, 213, 255], 1.5],
    ["green", "park|green|grass|wood|forest|vegetation|garden|meadow|scrub|vert|bois",
     [218, 223, 212, 255], [218, 223, 212, 255], 1.0],
    ["building", "building|bati", [214, 211, 206, 255], [214, 211, 206, 255], 1.0],
    ["boundary", "boundar|admin|limite", [0, 0, 0, 0], [186, 186, 190, 255], 1.0],
    ["road", "road|street|transport|highway|motorway|rail|path|voie|rout|troncon", [0, 0, 0, 0],
     [252, 252, 250, 255], 2.0],
    ["land", None, [229, 227, 221, 255], [229, 227, 221, 255], 1.0],
]  # fmt: skip
VECTOR_STYLE: dict[str, Any] = {
    "classes": [
        dict(zip(("name", "match", "fill", "line", "width"), c, strict=True)) for c in _CLASSES
    ],
    # the class of a feature no pattern finds, by geometry
    "default": {"polygon": "land", "line": "road"},
}


@dataclass
class BasemapState:
    """The twin's basemap as the viewer found it when it started.

    Attributes
    ----------
    record : Basemap or None
        The basemap the twin recorded (None: the twin has none).
    archive : TileArchive or None
        The file, open, when it can be drawn.
    problem : str or None
        Why it cannot: ``missing``, ``changed`` or ``unreadable`` (None: it can, or there is
        none).
    """

    record: Basemap | None = None
    archive: TileArchive | None = None
    problem: str | None = None


def open_basemap(t: Twin) -> BasemapState:
    """Open the twin's basemap, checked against what the build recorded.

    A problem (the file gone, changed since the build, or unreadable) is printed on the
    console in one sentence saying what to do; the viewer then runs without the basemap.
    """
    rec = twin_basemap(t.meta)
    if rec is None:
        return BasemapState()
    problem = rec.check()
    archive = None
    reason = ""
    if problem is None:
        try:
            archive = open_archive(rec.path)
        except BasemapError as exc:
            problem, reason = "unreadable", f" ({exc})"
    if problem is not None:
        say = {
            "missing": "is missing",
            "changed": "has changed since the twin was built (size or modification time)",
            "unreadable": "cannot be read",
        }[problem]
        print(
            f"twin: the basemap is not drawn: {rec.path} {say}{reason}. Fix: put the file "
            "back, or rebuild the twin with `twin build` to record the file as it is now",
            file=sys.stderr,
            flush=True,
        )
    return BasemapState(rec, archive, problem)


def note(state: BasemapState, lg: str) -> str:
    """The page's sentence, in ``lg``, saying why the basemap is not drawn ('' when it is,
    or when there is none). The file is named without its folders."""
    if state.record is None or state.problem is None:
        return ""
    return tr(lg, f"basemap.{state.problem}").format(file=Path(state.record.path).name)


def renderer_payload(state: BasemapState, worker: str | None = None) -> dict[str, Any] | None:
    """What the renderer needs to draw the basemap (None when it cannot be drawn).

    Parameters
    ----------
    state : BasemapState
        The basemap as the viewer found it.
    worker : str, optional
        URL of the vector-tile parser's worker served by the viewer (loaders.gl's
        ``mvt-worker.js`` in ``app/assets/vendor``).

    Returns
    -------
    dict or None
        ``url`` (tile template), ``kind`` (``raster`` or ``vector``), ``type`` (``png``,
        ``jpg``, ``webp`` or ``pbf``), ``minzoom``, ``maxzoom``, ``bounds`` (``[west, south,
        east, north]`` [degrees]), ``tileSize`` [px], ``attribution`` and, for vector tiles,
        ``style`` (:data:`VECTOR_STYLE`) and ``worker`` (when given).
    """
    rec = state.record
    if rec is None or state.archive is None:
        return None
    out: dict[str, Any] = {
        "url": TILE_URL,
        "kind": rec.kind,
        "type": rec.tile_type,
        "minzoom": rec.minzoom,
        "maxzoom": rec.maxzoom,
        "bounds": list(rec.bounds),
        "tileSize": rec.tile_size or VECTOR_TILE_PX,
        "attribution": rec.attribution,
    }
    if rec.kind == "vector":
        out["style"] = VECTOR_STYLE
        if worker is not None:
            out["worker"] = worker
    return out


#: Most bytes of basemap tiles an offline export carries (base64 adds a third): whole zoom
#: levels around the twin's first view, from the widest, while they fit.
OFFLINE_BYTES = 6_000_000
#: Zoom levels an offline export offers below and above the twin's first view.
OFFLINE_BELOW, OFFLINE_ABOVE = 3, 2


def _offline_extent(
    extent: tuple[float, float, float, float], archive: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """The twin's extent [degrees] with a margin of half its size each side (the
    surroundings, when a person moves the map), within the archive's bounds."""
    w, s, e, n = extent
    dx, dy = (e - w) / 2, (n - s) / 2
    aw, as_, ae, an = archive
    return (max(w - dx, aw), max(s - dy, as_), min(e + dx, ae), min(n + dy, an))


def _level(
    archive: TileArchive, bounds: tuple[float, float, float, float], z: int, budget: int
) -> dict[str, bytes] | None:
    """The tiles of zoom ``z`` over ``bounds`` as stored, uncompressed, by ``z/x/y``; None
    as soon as they pass ``budget`` bytes (a deep level of a large territory is not read
    whole)."""
    out: dict[str, bytes] = {}
    for x, y in tiles_over(bounds, z):
        t = archive.tile(z, x, y)
        if t is not None:
            data = gzip.decompress(t.data) if t.encoding == "gzip" else t.data
            budget -= len(data)
            if budget < 0:
                return None
            out[f"{z}/{x}/{y}"] = data
    return out


def offline_payload(
    state: BasemapState, extent: tuple[float, float, float, float], zoom: float
) -> dict[str, Any] | None:
    """The basemap of an offline export (one HTML file opened from disk): its tiles inline.

    Parameters
    ----------
    state : BasemapState
        The twin's basemap, opened.
    extent : tuple of float
        ``(west, south, east, north)`` of the twin [degrees].
    zoom : float
        The zoom of the twin's first view.

    Returns
    -------
    dict or None
        :func:`renderer_payload`'s fields, with ``media`` (the tiles' media type) and
        ``tiles`` (``{"z/x/y": base64}``, vector tiles uncompressed) over the twin's extent
        and half its size around it, from
        :data:`OFFLINE_BELOW` levels below the first view to :data:`OFFLINE_ABOVE` above, as
        many whole levels as fit in :data:`OFFLINE_BYTES` (deeper, the map enlarges the
        deepest); ``minzoom``, ``maxzoom`` and ``bounds`` are what is carried. None when the
        twin has no basemap, it cannot be drawn, or no level fits.
    """
    out = renderer_payload(state)
    if out is None or state.archive is None:
        return None
    bounds = _offline_extent(extent, tuple(out["bounds"]))
    lo = max(out["minzoom"], min(math.floor(zoom) - OFFLINE_BELOW, out["maxzoom"]))
    hi = min(out["maxzoom"], math.ceil(zoom) + OFFLINE_ABOVE)
    tiles: dict[str, bytes] = {}
    deepest = None
    for z in range(lo, hi + 1):
        level = _level(state.archive, bounds, z, OFFLINE_BYTES - sum(map(len, tiles.values())))
        if level is None:
            break
        tiles.update(level)
        deepest = z
    if deepest is None or not tiles:
        return None
    out.update(
        url="{z}/{x}/{y}",
        minzoom=lo,
        maxzoom=deepest,
        bounds=list(bounds),
        tiles={k: base64.b64encode(v).decode("ascii") for k, v in tiles.items()},
        media=MEDIA_TYPES[out["type"]],  # the tiles' media type, for their data URLs
    )
    return out


_INT = re.compile(r"\d{1,10}")


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int] | None:
    """``(z, x, y)`` from the request's path parts, or None unless they are integers with
    ``0 <= z <= 30`` and ``0 <= x, y < 2**z``."""
    if not all(_INT.fullmatch(v) for v in (z, x, y)):
        return None
    zi, xi, yi = int(z), int(x), int(y)
    if zi > MAX_ZOOM or xi >= 1 << zi or yi >= 1 << zi:
        return None
    return zi, xi, yi


def _tile_response(
    archive: TileArchive, rec: Basemap, zxy: tuple[int, int, int], accepts_gzip: bool
) -> Any:
    """The HTTP response of a tile: its bytes with their media type and encoding, or 204
    (no content) when the archive has no tile there."""
    from flask import Response

    ts = archive.tileset
    z = zxy[0]
    tile: Tile | None = archive.tile(*zxy) if ts.minzoom <= z <= ts.maxzoom else None
    encoding = None
    if tile is None:
        resp = Response(status=204)
    else:
        data, encoding = tile.data, tile.encoding
        if encoding == "gzip" and not accepts_gzip:  # a client that cannot inflate
            data, encoding = gzip.decompress(data), None
        resp = Response(data, mimetype=MEDIA_TYPES[ts.tile_type])
        if encoding:
            resp.headers["Content-Encoding"] = encoding
        if tile.encoding:  # what is sent depends on what the client accepts
            resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Cache-Control"] = f"private, max-age={CACHE_S}"
    # the file as recorded, the tile, and its encoding: one tag per representation
    tag = f"{rec.size_bytes}-{rec.mtime_ns}-{'-'.join(map(str, zxy))}-{encoding or 'identity'}"
    resp.set_etag(tag)
    return resp


def serve_tiles(server: Any, state: BasemapState) -> None:
    """Add ``/basemap/<z>/<x>/<y>`` and ``/basemap.json`` to a Flask server.

    A tile is answered with its bytes (``image/png``, ``image/jpeg``, ``image/webp`` or
    ``application/x-protobuf``, with ``Content-Encoding: gzip`` when stored gzipped), 204
    when the archive has none there, 400 for coordinates that are not integers within the
    zoom level, and 404 when the twin has no basemap that can be drawn. Tiles are read from
    any of the server's threads (see :class:`twin.io.basemap.TileArchive`).
    """
    from flask import Response, abort, jsonify, request

    @server.route("/basemap/<z>/<x>/<y>")
    def basemap_tile(z: str, x: str, y: str) -> Any:
        if state.archive is None or state.record is None:
            abort(404)
        zxy = parse_tile(z, x, y)
        if zxy is None:
            text = "twin: a tile is /basemap/<z>/<x>/<y>, integers with 0 <= x, y < 2**z <= 2**30"
            return Response(text, status=400, mimetype="text/plain")
        gz = "gzip" in request.accept_encodings
        return _tile_response(state.archive, state.record, zxy, gz).make_conditional(request)

    @server.route("/basemap.json")
    def basemap_info() -> Any:
        payload = renderer_payload(state)
        if payload is None:
            abort(404)
        return jsonify(payload)
