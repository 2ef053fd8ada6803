"""A twin's basemap: a local tile archive named in the layer manifest, recorded by reference.

The archive (possibly several gigabytes) is not copied into the twin directory: the twin
records its resolved path, its size and modification time, what it holds (tile type, zoom
levels, bounds) and its provenance, in the twin's metadata (``twin.meta["basemap"]``, written
to ``twin.json``). :meth:`Basemap.check` tells whether the file is still the one recorded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from twin.model.provenance import Provenance

#: The key of the basemap in :attr:`twin.model.twin.Twin.meta`.
META_KEY = "basemap"


@dataclass
class Basemap:
    """A basemap tile archive, by reference.

    Attributes
    ----------
    path : str
        The file's resolved absolute path.
    size_bytes : int
        Its size when the twin was built [bytes].
    mtime_ns : int
        Its modification time when the twin was built [ns since 1970-01-01 UTC].
    format : {"mbtiles", "pmtiles"}
        The archive's format.
    tile_type : {"png", "jpg", "webp", "pbf"}
        The tiles' type (``pbf``: Mapbox vector tiles).
    minzoom, maxzoom : int
        Its zoom levels.
    bounds : list of float
        ``[west, south, east, north]`` of its tiles [degrees, WGS 84].
    tile_size : int or None
        Width of a raster tile [px]; None for vector tiles.
    provenance : Provenance
        Source (as the manifest names it), producer, licence, retrieval date, attribution,
        and the fields derived rather than read (``derived``, ASSUMED).
    description : str or None
        What it shows, as the manifest says.
    """

    path: str
    size_bytes: int
    mtime_ns: int
    format: Literal["mbtiles", "pmtiles"]
    tile_type: str
    minzoom: int
    maxzoom: int
    bounds: list[float]
    tile_size: int | None
    provenance: Provenance
    description: str | None = None

    @property
    def kind(self) -> Literal["raster", "vector"]:
        """``vector`` for Mapbox vector tiles, else ``raster``."""
        return "vector" if self.tile_type == "pbf" else "raster"

    @property
    def attribution(self) -> str:
        """The text every map drawn on it must show (the manifest requires it)."""
        return self.provenance.attribution or self.provenance.producer

    def check(self) -> str | None:
        """Whether the file is still the one recorded.

        Returns
        -------
        str or None
            None when it is; else ``"missing"`` (gone, or not a file) or ``"changed"``
            (another size or modification time).
        """
        try:
            st = os.stat(self.path)
        except OSError:
            return "missing"
        if not Path(self.path).is_file():
            return "missing"
        if st.st_size != self.size_bytes or st.st_mtime_ns != self.mtime_ns:
            return "changed"
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (what :meth:`from_dict` reads)."""
        return {
            "path": self.path,
            "size_bytes": self.size_bytes,
            "mtime_ns": self.mtime_ns,
            "format": self.format,
            "tile_type": self.tile_type,
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "bounds": list(self.bounds),
            "tile_size": self.tile_size,
            "provenance": self.provenance.to_dict(),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Basemap:
        """Build from :meth:`to_dict` output."""
        fields = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        fields["provenance"] = Provenance.from_dict(d["provenance"])
        return cls(**fields)


def twin_basemap(meta: dict[str, Any]) -> Basemap | None:
    """The basemap recorded in a twin's metadata (``twin.meta``), or None."""
    d = meta.get(META_KEY)
    return Basemap.from_dict(d) if isinstance(d, dict) else None
