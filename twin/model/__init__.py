"""Twin data model: layers, provenance, networks, CRS rules."""

from twin.model.crs import LAMBERT93, WGS84, parse_crs, utm_crs, working_crs_for
from twin.model.layer import KINDS, Kind, Layer, SensorSeries
from twin.model.network import CSR, Network, build_csr
from twin.model.provenance import Provenance
from twin.model.twin import Twin

__all__ = [
    "CSR",
    "KINDS",
    "LAMBERT93",
    "WGS84",
    "Kind",
    "Layer",
    "Network",
    "Provenance",
    "SensorSeries",
    "Twin",
    "build_csr",
    "parse_crs",
    "utm_crs",
    "working_crs_for",
]
