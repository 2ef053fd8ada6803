"""Lengths of line networks are true to the ground whatever the source CRS.

Montpellier's street centre-lines are written in Web Mercator (EPSG:3857, as many web portals
serve them), in WGS 84 and in Lambert-93; loaded as networks, every link's ``length_m`` must
match the geodesic length of its line (WGS 84 ellipsoid) within 0.5 %. Before the fix, Web
Mercator lengths were measured in Web Mercator: 38 % too long at Montpellier's latitude.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod

from twin.io.energy import energy_network
from twin.io.linenet import load_line_network
from twin.io.vector import read_vector


def geodesic_m(lines: gpd.GeoSeries) -> np.ndarray:
    """Geodesic length of each line on the WGS 84 ellipsoid [m]."""
    geod = Geod(ellps="WGS84")
    return np.array([geod.geometry_length(g) for g in lines.to_crs(4326)])


@pytest.fixture(scope="module")
def streets(montpellier: Path) -> gpd.GeoDataFrame:
    src = montpellier / "VilleMTP_MTP_FilaireVoies" / "VilleMTP_MTP_FilaireVoies.zip"
    gdf, _ = read_vector(src, encoding="latin-1", id="IDARC")
    return gdf[gdf.geom_type == "LineString"].head(400)


@pytest.mark.parametrize("epsg", [3857, 4326, 2154])
def test_network_lines_lengths_are_geodesic(
    streets: gpd.GeoDataFrame, tmp_path: Path, epsg: int
) -> None:
    path = tmp_path / f"streets_{epsg}.gpkg"
    streets.to_crs(epsg).rename_axis("IDARC").reset_index().to_file(path)
    layer = load_line_network(path, id="IDARC")
    links = layer.data.links
    truth = geodesic_m(links.geometry.set_crs(links.crs, allow_override=True))
    rel = np.abs(links["length_m"].to_numpy() / truth - 1.0)
    assert rel.max() < 0.005, (epsg, rel.max())
    if epsg == 3857:
        assert any("before measuring lengths" in s for s in layer.provenance.steps)


def test_energy_lines_lengths_are_geodesic(streets: gpd.GeoDataFrame) -> None:
    lines = streets.to_crs(3857)[["geometry"]].copy()
    net = energy_network(lines)
    links = net.links
    truth = geodesic_m(links.geometry)
    rel = np.abs(links["length_m"].to_numpy() / truth - 1.0)
    assert rel.max() < 0.005, rel.max()


def test_missing_direction_is_assumed_two_way(streets: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "streets.gpkg"
    streets.rename_axis("IDARC").reset_index().to_file(path)
    layer = load_line_network(path, id="IDARC")
    assert "ASSUMED open both ways" in layer.provenance.derived["direction"]
    assert len(layer.data.links) == 2 * len(streets)
