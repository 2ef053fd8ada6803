"""The 953 Montpellier shops (OSM 2014) through the commerce simulation, end to end.

Real data from ``../shared/data``: the shops, the street centre-lines (walk network), the
public buildings (the only buildings published; origins), the districts (KPIs by zone).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from twin.build import build
from twin.model.twin import Twin
from twin.sims.commerce.sim import Commerce, CommerceParams

MTP = "../../shared/data/montpellier"


@pytest.fixture(scope="module")
def mtp_twin(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Twin:
    root = tmp_path_factory.mktemp("mtp_commerce")
    d = shared_data / "montpellier"
    manifest = {
        "name": "Montpellier commerce",
        "crs": "auto",
        "layers": {
            "streets": {
                "loader": "network.lines",
                "source": str(d / "VilleMTP_MTP_FilaireVoies/VilleMTP_MTP_FilaireVoies.zip"),
                "options": {"encoding": "latin-1", "id": "IDARC", "direction": "SENS_CIRCU"},
                "licence": "etalab-2.0",
            },
            "buildings": {
                "loader": "vector",
                "source": str(d / "VilleMTP_MTP_Batiments/VilleMTP_MTP_Batiments.zip"),
                "options": {"encoding": "latin-1"},
                "licence": "etalab-2.0",
            },
            "shops": {
                "loader": "vector",
                "source": str(d / "OSM_MTP_Commerces/OSM_MTP_Commerces.geojson"),
                "options": {"id": "osm_id"},
                "licence": "ODbL-1.0",
            },
            "districts": {
                "loader": "vector",
                "source": str(d / "VilleMTP_MTP_Quartiers/VilleMTP_MTP_Quartiers.geojson"),
                "licence": "etalab-2.0",
            },
        },
    }
    m = root / "mtp.yaml"
    m.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return build(m, root / "twin")


def test_montpellier_shops_end_to_end(mtp_twin: Twin) -> None:
    params = CommerceParams(
        walk_layer="streets",
        roads_layer="streets",
        mode="walk",
        amenities_layer=None,
        stops_layer=None,
        car_parks_layer=None,
        zones_layer="districts",
        zone_field="LIBQUART",
    )
    res = Commerce().run(mtp_twin, params, {}, np.random.default_rng(0))
    units = res.outputs["retail_units"].data
    assert len(units) == len(mtp_twin["shops"]) == 953
    assert units.crs == mtp_twin.crs  # Lambert-93
    assert mtp_twin.crs.to_epsg() == 2154
    assert units["market_share"].sum() == pytest.approx(1.0)
    # shops beyond max_snap_m of every street centre-line (the street file stops at the
    # commune's boundary) are left out: no risk, no share — never a made-up value
    risk = units["vacancy_risk"]
    assert risk.notna().mean() > 0.95, risk.isna().sum()
    assert risk.dropna().between(0, 1).all()
    assert units.loc[risk.isna(), "market_share"].eq(0).all()
    reached = units["footfall_ped_day"].gt(0).mean()
    assert reached > 0.95, reached
    derived = res.outputs["retail_units"].provenance.derived
    assert "ASSUMED walking speed" in derived["walk_time_s"]
    kpis = {k.name: k.value for k in res.kpis}
    assert kpis["units_at_risk"] == int(units["at_risk"].sum())
    assert 0.0 < kpis["centre_market_share"] < 1.0
    # KPIs by district: the historic centre ("Montpellier Centre") holds most of the shops
    by_zone = {k: v for k, v in kpis.items() if k.startswith("mean_vacancy_risk[")}
    centre = by_zone.get("mean_vacancy_risk[MONTPELLIER CENTRE]")
    assert centre is not None and 0 < centre < 1, sorted(kpis)
    assert kpis["units_at_risk[MONTPELLIER CENTRE]"] == max(
        v for k, v in kpis.items() if k.startswith("units_at_risk[")
    )
    streets = res.outputs["street_footfall"].data
    assert streets["footfall_ped_day"].max() > 0
