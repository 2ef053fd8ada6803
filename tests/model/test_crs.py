"""Working CRS rules: Lambert-93 in metropolitan France, local UTM elsewhere."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from pyproj import CRS

from twin.errors import CRSError
from twin.model.crs import normalise_crs, parse_crs, working_crs_for


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (3.877, 43.611, 2154),  # Montpellier
        (2.326, 48.680, 2154),  # Épinay-sur-Orge
        (8.738, 41.919, 2154),  # Ajaccio, Corsica
        (7.75, 48.58, 2154),  # Strasbourg
        (-4.49, 48.39, 2154),  # Brest
        (24.94, 60.17, 32635),  # Helsinki
        (6.14, 46.20, 32632),  # Geneva: outside France
        (4.35, 50.85, 32631),  # Brussels
        (151.2, -33.87, 32756),  # Sydney, southern hemisphere
        (-61.53, 16.24, 32620),  # Guadeloupe: overseas, not metropolitan
    ],
)
def test_working_crs(lon: float, lat: float, epsg: int) -> None:
    assert working_crs_for((lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)).to_epsg() == epsg


def test_ignf_lambert93_is_normalised(montpellier: Path) -> None:
    p = montpellier / "VilleMTP_MTP_Quartiers/VilleMTP_MTP_Quartiers.geojson"
    assert parse_crs("EPSG:2154").to_epsg() == 2154
    zipped = montpellier / "VilleMTP_MTP_EclairagePublic/VilleMTP_MTP_EclairagePublic.zip"
    wkt = pyogrio.read_info(f"/vsizip/{zipped}")["crs"]
    assert normalise_crs(CRS(wkt)).to_epsg() == 2154
    assert p.exists()


def test_bad_crs_message() -> None:
    with pytest.raises(CRSError) as err:
        parse_crs("Lambert 93 please")
    assert "EPSG:2154" in str(err.value)
