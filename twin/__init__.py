"""twin — an open-source geospatial digital twin and simulation engine for territories."""

from twin._version import __version__
from twin.errors import TwinError
from twin.model import Layer, Network, Provenance, SensorSeries, Twin

__all__ = [
    "Layer",
    "Network",
    "Provenance",
    "Run",
    "Scenario",
    "SensorSeries",
    "Twin",
    "TwinError",
    "__version__",
    "batch",
    "run",
]


def __getattr__(name: str) -> object:
    """Import the scenario engine and batch runner lazily (they pull in heavier modules)."""
    if name in ("Scenario", "Run", "run"):
        import twin.scenario as sc

        return getattr(sc, name)
    if name == "batch":
        from twin.batch import batch

        return batch
    msg = f"module 'twin' has no attribute {name!r}"
    raise AttributeError(msg)
