"""Etalab cadastre on the real Épinay-sur-Orge parcels, and BD TOPO buildings."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from twin.errors import SchemaError
from twin.io.cadastre import read_bdtopo_buildings, read_etalab_cadastre

PARCELS = "cadastre/cadastre-91216-parcelles.json"


@pytest.fixture(scope="module")
def parcels(shared_data: Path):
    return read_etalab_cadastre(shared_data / PARCELS)


def test_parcels_counts_and_ids(parcels) -> None:
    gdf, prov = parcels
    assert len(gdf) == 4241
    assert gdf.index[0] == "91216000AB0037" and gdf.index.is_unique
    assert prov.licence == "etalab-2.0"


def test_parcel_areas_against_legal_contenance(parcels) -> None:
    """Areas measured in Lambert-93 against the legal area (contenance).

    Measured on this file: the total is within 0.15 %, the median parcel within 0.5 %;
    43.8 % of parcels are within 1 %, 88.8 % within 5 % and 95.7 % within 10 %. The
    1 %-for-95 % criterion does not hold for this commune's data: legal areas come from
    survey documents, not from the digitised plan (see the note on the issue).
    """
    gdf, _ = parcels
    ok = gdf["legal_area_m2"].notna()
    assert int((~ok).sum()) == 1
    ratio = gdf.loc[ok, "area_m2"] / gdf.loc[ok, "legal_area_m2"]
    assert ratio.median() == pytest.approx(1.0, abs=0.005)
    assert gdf.loc[ok, "area_m2"].sum() / gdf.loc[ok, "legal_area_m2"].sum() == pytest.approx(
        1.0, abs=0.0015
    )
    rel = (ratio - 1).abs()
    assert (rel < 0.01).mean() == pytest.approx(0.438, abs=0.002)
    assert (rel < 0.10).mean() >= 0.95


def test_parcels_gzip(shared_data: Path, tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "cadastre-91216-parcelles.json.gz"
    gz.write_bytes(gzip.compress((shared_data / PARCELS).read_bytes()))
    gdf, _ = read_etalab_cadastre(gz)
    assert len(gdf) == 4241


def test_not_a_parcels_file(montpellier: Path) -> None:
    with pytest.raises(SchemaError, match="contenance"):
        read_etalab_cadastre(
            montpellier / "OSM_MTP_Commerces/OSM_MTP_Commerces.geojson", kind="parcelles"
        )


def test_bdtopo_heights(tmp_path: Path, montpellier: Path) -> None:
    """BD TOPO layout on real Montpellier footprints (heights synthetic: BD TOPO is not shipped)."""
    src = gpd.read_file(
        f"/vsizip/{montpellier}/VilleMTP_MTP_Batiments/VilleMTP_MTP_Batiments.zip",
        encoding="latin1",
    ).iloc[:30]
    src["geometry"] = shapely.make_valid(src.geometry.to_numpy())
    hauteur = np.where(np.arange(30) % 3 == 0, np.nan, 6.0 + np.arange(30))
    etages = np.where(np.arange(30) % 2 == 0, 4, np.nan)
    bd = gpd.GeoDataFrame(
        {
            "cleabs": [f"BATIMENT{i:016d}" for i in range(30)],
            "hauteur": hauteur,
            "nombre_d_etages": etages,
        },
        geometry=src.geometry.to_numpy(),
        crs=2154,
    )
    bd.to_file(tmp_path / "bdtopo.gpkg", layer="batiment")
    gdf, prov = read_bdtopo_buildings(tmp_path / "bdtopo.gpkg")
    assert gdf.index[0] == "BATIMENT0000000000000000"
    assert gdf.loc["BATIMENT0000000000000001", "height_m"] == 7.0
    assert gdf.loc["BATIMENT0000000000000000", "height_m"] == 12.0  # 4 storeys × 3 m
    assert gdf.loc["BATIMENT0000000000000003", "height_m"] == 9.0  # default
    assert prov.counts == {
        "height_from_height": 20,
        "height_from_levels": 5,
        "height_from_default": 5,
    }
    # an extract without the height field: storeys, else the default, said in provenance
    gdf, prov = read_bdtopo_buildings(tmp_path / "bdtopo.gpkg", height_field="h")
    assert prov.counts == {"height_from_levels": 15, "height_from_default": 15}
    assert any("no height field 'h'" in s for s in prov.steps)
    assert gdf.loc["BATIMENT0000000000000000", "height_m"] == 12.0


def test_buildings_without_heights_get_assumed_ones(shared_data: Path, tmp_path: Path) -> None:
    """Etalab-like footprints with no height: the vector loader's default_height_m option."""
    from twin.io.vector import load_vector

    src = shared_data / "montpellier" / "VilleMTP_MTP_Batiments"
    zips = sorted(src.glob("*.zip"))
    layer = load_vector(zips[0], encoding="latin-1", default_height_m=9.0)
    b = layer.data
    assert (b["height_m"] == 9.0).all()
    assert layer.provenance.derived["height_m"].startswith("ASSUMED")
    assert layer.provenance.counts["height_default"] == len(b)
