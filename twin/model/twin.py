"""The :class:`Twin`: named layers of a territory in one working CRS."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd
from pyproj import CRS, Transformer

from twin.errors import InputError, message
from twin.model.layer import Layer


class Twin:
    """A territory's digital twin: layers, a working CRS, an extent and a time axis.

    Parameters
    ----------
    name : str
        Territory name.
    crs : pyproj.CRS
        Working CRS (Lambert-93 in metropolitan France, local UTM elsewhere; see
        :func:`twin.model.crs.working_crs_for`).
    time : pandas.DatetimeIndex, optional
        The twin's time axis. When not given it is the union of the sensor series' times.
    """

    def __init__(self, name: str, crs: CRS, time: pd.DatetimeIndex | None = None) -> None:
        self.name = name
        self.crs = crs
        self._time = time
        self.layers: dict[str, Layer] = {}
        self.meta: dict[str, Any] = {}
        #: The directory the twin was opened from or last saved to (None in memory only).
        self.source: Path | None = None

    # -- layers ---------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Add a layer; it must be in the working CRS.

        Raises
        ------
        InputError
            If a layer of that name exists or its CRS differs from the twin's.
        """
        if layer.name in self.layers:
            msg = message(
                f"a layer named '{layer.name}' already exists",
                where=f"twin '{self.name}'",
                fix="give each layer a unique name",
            )
            raise InputError(msg)
        lcrs = layer.crs
        if lcrs is not None and not CRS(lcrs).equals(self.crs):
            msg = message(
                f"layer '{layer.name}' is in {CRS(lcrs).to_string()}, "
                f"not the working CRS {self.crs.to_string()}",
                where=f"twin '{self.name}'",
                fix="reproject the layer with to_crs(twin.crs) before adding it",
            )
            raise InputError(msg)
        self.layers[layer.name] = layer

    def __getitem__(self, name: str) -> Any:
        return self.layer(name).data

    def __contains__(self, name: object) -> bool:
        return name in self.layers

    def __iter__(self) -> Iterator[str]:
        return iter(self.layers)

    def layer(self, name: str) -> Layer:
        """Return the :class:`Layer` named ``name``."""
        try:
            return self.layers[name]
        except KeyError:
            msg = message(
                f"no layer named '{name}'",
                where=f"twin '{self.name}'",
                fix=f"use one of {sorted(self.layers)}",
            )
            raise InputError(msg) from None

    # -- extent and time ------------------------------------------------------------------
    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of all layers [m, working CRS]."""
        bs = [lay.bounds for lay in self.layers.values() if lay.count]
        if not bs:
            return (0.0, 0.0, 0.0, 0.0)
        return (
            min(b[0] for b in bs),
            min(b[1] for b in bs),
            max(b[2] for b in bs),
            max(b[3] for b in bs),
        )

    @property
    def extent_lonlat(self) -> tuple[float, float, float, float]:
        """Extent in WGS 84 [degrees], for the map boundary."""
        t = Transformer.from_crs(self.crs, 4326, always_xy=True)
        return tuple(float(v) for v in t.transform_bounds(*self.extent))  # type: ignore[return-value]

    @property
    def time(self) -> pd.DatetimeIndex | None:
        """The time axis: explicit, else the union of the sensor series' times."""
        if self._time is not None:
            return self._time
        idx: pd.DatetimeIndex | None = None
        for lay in self.layers.values():
            if lay.kind == "series":
                t = pd.DatetimeIndex(lay.data.data["time"].values)
                idx = t if idx is None else idx.union(t)
        return idx

    # -- copies and persistence -----------------------------------------------------------
    def copy(self) -> Twin:
        """Deep copy, so that a scenario never mutates its parent."""
        out = Twin(self.name, self.crs, None if self._time is None else self._time.copy())
        out.layers = {k: v.copy() for k, v in self.layers.items()}
        out.meta = copy.deepcopy(self.meta)
        out.source = self.source
        return out

    def info(self) -> dict[str, Any]:
        """Summary of the twin: CRS, extent, time axis and each layer with its provenance.

        Returns
        -------
        dict
            ``{"name", "crs", "extent", "time", "layers": {name: {"kind", "count", "crs",
            "bounds", "provenance"}}}``.
        """
        t = self.time
        return {
            "name": self.name,
            "crs": self.crs.to_string(),
            "extent": list(self.extent),
            "extent_lonlat": list(self.extent_lonlat) if self.layers else None,
            "time": None
            if t is None or len(t) == 0
            else {"start": t[0].isoformat(), "end": t[-1].isoformat(), "steps": len(t)},
            "layers": {
                name: {
                    "kind": lay.kind,
                    "count": lay.count,
                    "crs": None if lay.crs is None else CRS(lay.crs).to_string(),
                    "bounds": list(lay.bounds) if lay.count else None,
                    "provenance": lay.provenance.to_dict(),
                }
                for name, lay in self.layers.items()
            },
        }

    def save(self, path: str | PathLike[str]) -> None:
        """Write the twin atomically to a directory (see :mod:`twin.store`)."""
        from twin.store.twinstore import save_twin

        self.source = save_twin(self, path).resolve()

    @classmethod
    def open(cls, path: str | PathLike[str]) -> Twin:
        """Read a twin directory written by :meth:`save` or ``twin build``."""
        from twin.store.twinstore import open_twin

        return open_twin(path)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{k}:{v.kind}" for k, v in self.layers.items())
        return f"<Twin {self.name!r} crs={self.crs.to_string()} layers=[{kinds}]>"
