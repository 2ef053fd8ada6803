"""Loaders: one module per source or format. Importing this package registers them."""

from twin.io import (  # noqa: F401  (importing registers the loaders)
    cadastre,
    energy,
    epanet,
    lighting,
    linenet,
    osm,
    pandapower,
    raster,
    retail,
    retail_units,
    sensors,
    vector,
)
from twin.io.registry import get_loader, loaders, refresh

__all__ = ["get_loader", "loaders", "refresh"]
