"""twin — an open-source geospatial digital twin and simulation engine for territories."""

from importlib.metadata import PackageNotFoundError, version

from twin.errors import TwinError
from twin.model import Layer, Network, Provenance, SensorSeries, Twin

try:
    __version__ = version("twin")
except PackageNotFoundError:  # pragma: no cover - source checkout without install
    __version__ = "0+unknown"

__all__ = ["Layer", "Network", "Provenance", "SensorSeries", "Twin", "TwinError", "__version__"]
