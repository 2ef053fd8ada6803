"""Layers: the four kinds of data a twin holds, each with its provenance."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor on grids)
import xarray as xr
from pyproj import CRS

from twin.model.provenance import Provenance

Kind = Literal["vector", "grid", "network", "series"]
KINDS: tuple[Kind, ...] = ("vector", "grid", "network", "series")


@dataclass
class SensorSeries:
    """Sensor time series joined to a point layer.

    Attributes
    ----------
    points : GeoDataFrame
        One point per sensor, indexed by sensor id.
    data : xarray.Dataset
        Variables on dims ``(sensor, time)``; the ``sensor`` coordinate holds the ids of
        ``points``. Units are in variable names or their ``units`` attribute.
    """

    points: gpd.GeoDataFrame
    data: xr.Dataset


@dataclass
class Layer:
    """A named layer of a twin.

    Attributes
    ----------
    name : str
        Layer name, unique in the twin.
    kind : {"vector", "grid", "network", "series"}
        What ``data`` is: a GeoDataFrame, an xarray Dataset on ``(y, x)``, a :class:`Network`
        or a :class:`SensorSeries`.
    data : object
        The data.
    provenance : Provenance
        Where it comes from and what was done to it.
    display : list of dict
        How its variables are drawn (``variable``, ``unit``, ``label`` per language,
        ``palette``), as declared by the simulation that produced it; empty for twin layers.
    """

    name: str
    kind: Kind
    data: Any
    provenance: Provenance
    display: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Feature count: rows, links, cells or sensors."""
        d = self.data
        if self.kind == "vector":
            return len(d)
        if self.kind == "network":
            return len(d.links)
        if self.kind == "series":
            return int(d.data.sizes.get("sensor", 0))
        return int(np.prod([d.sizes[k] for k in ("y", "x") if k in d.sizes]))

    @property
    def crs(self) -> CRS | None:
        """CRS of the layer."""
        d = self.data
        if self.kind == "vector":
            return d.crs
        if self.kind == "network":
            return d.links.crs
        if self.kind == "series":
            return d.points.crs
        wkt = d.attrs.get("crs_wkt") or (d.rio.crs.to_wkt() if d.rio.crs else None)
        return CRS.from_user_input(wkt) if wkt else None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in the layer CRS [m in a projected CRS]."""
        d = self.data
        if self.kind == "vector":
            b = d.total_bounds
        elif self.kind == "network":
            b = d.links.total_bounds
        elif self.kind == "series":
            b = d.points.total_bounds
        else:
            b = d.rio.bounds()
        return tuple(float(v) for v in b)  # type: ignore[return-value]

    def copy(self) -> Layer:
        """Deep copy (data and provenance)."""
        return Layer(
            self.name,
            self.kind,
            copy.deepcopy(self.data),
            copy.deepcopy(self.provenance),
            copy.deepcopy(self.display),
        )
