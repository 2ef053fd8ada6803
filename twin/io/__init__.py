"""Loaders: one module per source or format. Importing this package registers them."""

from twin.io import cadastre, linenet, osm, raster, vector  # noqa: F401
from twin.io.registry import get_loader, loaders, refresh

__all__ = ["get_loader", "loaders", "refresh"]
