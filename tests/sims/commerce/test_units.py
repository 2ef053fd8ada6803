"""Retail units with history: OSM units, merging, surveys, vacancy rates."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from twin.errors import InputError, SchemaError
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.commerce import units as U


def osm_shops() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "shop": ["bakery", "vacant", None, "clothes"],
            "disused:shop": [None, None, "butcher", None],
            "addr:housenumber": ["12", "3", None, "5"],
            "addr:street": ["Rue de la Loge", "Boulevard Sarrail", None, "Rue Foch"],
            "addr:postcode": ["34000", None, None, None],
            "addr:city": ["Montpellier", None, None, None],
        },
        geometry=[Point(770000 + 100 * i, 6279000) for i in range(4)],
        index=pd.Index([f"node/{i}" for i in range(4)], name="id"),
        crs=2154,
    )


def survey(rows: list[tuple], date: str) -> gpd.GeoDataFrame:
    ids, status, x, addr = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "unit_id": ids,
            "address": addr,
            "status": status,
            "vacant": [s == "vacant" for s in status],
            "since": pd.NaT,
            "activity": None,
            "floor_area_m2": np.nan,
            "survey_date": pd.Timestamp(date),
            "source": f"survey:{date}",
        },
        geometry=[Point(xx, 6279000) for xx in x],
        index=[f"{i}@{date}" for i in ids],
        crs=2154,
    )


def test_units_from_osm_vacancy_and_date() -> None:
    prov = Provenance(source="x.osm.pbf", retrieved="2014-05-20")
    u = U.units_from_osm(Layer("shops", "vector", osm_shops(), prov), prov=prov)
    assert u.index.name == "unit_id" and u.index.tolist() == [f"node/{i}" for i in range(4)]
    assert u["status"].tolist() == ["occupied", "vacant", "vacant", "occupied"]
    assert u["vacant"].tolist() == [False, True, True, False]
    assert u["activity"].tolist() == ["bakery", None, "butcher", "clothes"]
    assert (u["last_surveyed"] == pd.Timestamp("2014-05-20")).all() and u["since"].isna().all()
    assert u.loc["node/0", "address"] == "12 Rue de la Loge, 34000 Montpellier"
    assert u.loc["node/2", "address"] is None
    assert prov.counts["units_osm_vacant"] == 2 and "status" in prov.derived
    with pytest.raises(InputError, match=r"retrieval date.*Fix: pass the shops Layer"):
        U.units_from_osm(osm_shops())


def test_addresses() -> None:
    assert U.normalise_address("12 Bd. Sarrail, 34000 Montpellier") == "12 boulevard sarrail"
    assert U.normalise_address("12, bd  Sarrail") == "12 boulevard sarrail"
    assert U.normalise_address("7 bis Quai des Tanneurs 34000") == "7 bis quai des tanneurs"
    assert U.street_name("12 bis r. de la Loge") == "rue de la loge"
    assert U.street_name(None) is None and U.normalise_address("  ") is None


def test_merge_by_id_address_position() -> None:
    existing = U.units_from_osm(osm_shops(), retrieved="2014-05-20")
    incoming = U.units_from_osm(
        gpd.GeoDataFrame(
            {
                "shop": ["bakery", "shoes", "books", "toys", "gift"],
                "addr:housenumber": [None, "3", None, None, None],
                "addr:street": [None, "bd Sarrail", None, None, None],
            },
            geometry=[
                Point(770000, 6279000),  # same id as node/0
                Point(770500, 6279500),  # address of node/1, far away
                Point(770208, 6279005),  # 9.4 m from node/2
                Point(770330, 6279000),  # 30 m from node/3: too far
                Point(770000, 6279010),
            ],
            index=["node/0", "cad/1", "cad/2", "cad/3", "cad/4"],
            crs=2154,
        ),
        retrieved="2020-01-01",
    ).to_crs(4326)
    prov = Provenance(source="t")
    merged, rep = U.merge_units(existing, incoming, max_distance_m=15, prov=prov)
    m = rep.matches
    assert m.loc["node/0", "how"] == "id"
    assert m.loc["cad/1", ["unit_id", "how"]].tolist() == ["node/1", "address"]
    assert m.loc["cad/2", ["unit_id", "how"]].tolist() == ["node/2", "position"]
    assert m.loc["cad/2", "distance_m"] == pytest.approx(np.hypot(8, 5), abs=0.05)
    assert m.loc["cad/3", "how"] == "new" and m.loc["cad/4", "how"] == "new"  # node/0 taken
    assert rep.counts == {
        "matched_id": 1,
        "matched_address": 1,
        "matched_position": 1,
        "new": 2,
    }
    assert prov.counts["matched_position"] == 1
    assert len(merged) == 6 and merged.crs.to_epsg() == 2154
    # newer observation replaces the status; missing attributes are filled
    assert merged.loc["node/1", "status"] == "occupied"
    assert merged.loc["node/1", "activity"] == "shoes"
    assert merged.loc["node/1", "geometry"].x == pytest.approx(770100)
    with pytest.raises(SchemaError, match="unknown match keys"):
        U.merge_units(existing, incoming, by=("id", "name"))


def test_add_survey_idempotent_since_and_new_units() -> None:
    units = U.units_from_osm(osm_shops(), retrieved="2014-05-20")
    s1 = survey(
        [
            ("node/0", "occupied", 770000, None),
            ("node/1", "vacant", 770100, None),
            ("X9", "vacant", 770900, "9 rue Neuve"),  # new unit
            ("S3", "occupied", 770303, None),  # matched by position to node/3
        ],
        "2024-03-15",
    )
    s2 = survey(
        [
            ("node/0", "vacant", 770000, None),
            ("node/1", "vacant", 770100, None),
            ("X9", "occupied", 770900, None),
        ],
        "2025-03-14",
    )
    prov = Provenance(source="t")
    u1, h1, r1 = U.add_survey(units, None, s1, prov=prov)
    assert r1.counts == {"matched_id": 2, "matched_address": 0, "matched_position": 1, "new": 1}
    assert len(u1) == 5 and u1.loc["X9", "status"] == "vacant"
    assert h1.loc["node/3@2024-03-15", "surveyed_id"] == "S3"
    u2, h2, _ = U.add_survey(u1, h1, s2, prov=prov)
    u3, h3, _ = U.add_survey(u2, h2, s2, prov=prov)  # the same survey again
    pd.testing.assert_frame_equal(pd.DataFrame(u3), pd.DataFrame(u2))
    pd.testing.assert_frame_equal(pd.DataFrame(h3), pd.DataFrame(h2))
    assert len(h3) == 7 and prov.counts["survey_records_replaced"] == 3
    assert u3.loc["node/0", "status"] == "vacant"
    assert u3.loc["node/0", "since"] == pd.Timestamp("2025-03-14")
    assert u3.loc["node/1", "since"] == pd.Timestamp("2024-03-15")  # vacant on both
    assert u3.loc["node/2", "status"] == "vacant"  # not surveyed: OSM state stands
    assert u3.loc["node/0", "last_surveyed"] == pd.Timestamp("2025-03-14")
    ts = U.vacancy_timeseries(h3)
    assert ts["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-15", "2025-03-14"]
    assert ts["units"].tolist() == [4, 3] and ts["vacant"].tolist() == [2, 2]
    assert ts["vacancy_rate"].tolist() == pytest.approx([0.5, 2 / 3])
    ty = U.vacancy_timeseries(h3, freq="Y", by="source")
    assert ty["date"].dt.year.tolist() == [2024, 2025]
    # an older survey does not override a later observation
    old = survey([("node/2", "occupied", 770200, None)], "2010-01-01")
    u4, h4, _ = U.add_survey(u3, h3, old)
    assert u4.loc["node/2", "status"] == "vacant" and "node/2@2010-01-01" in h4.index


def test_vacancy_rates_by_street_and_zone() -> None:
    units = U.units_from_osm(osm_shops(), retrieved="2014-05-20")
    zones = gpd.GeoDataFrame(
        {"nom": ["west", "east"]},
        geometry=[box(769950, 6278950, 770150, 6279050), box(770150, 6278950, 770400, 6279050)],
        crs=2154,
    )
    r = U.vacancy_rates(units, zones, zone_column="nom")
    z = r[r["level"] == "zone"].set_index("name")
    assert z.loc["west", ["units", "vacant"]].tolist() == [2, 1]
    assert z.loc["east", "vacancy_rate"] == pytest.approx(0.5)
    s = r[r["level"] == "street"].set_index("name")
    assert s.loc["boulevard sarrail", "vacancy_rate"] == 1.0
    assert r.loc[r["level"] == "all", "vacancy_rate"].item() == pytest.approx(0.5)
    streets = gpd.GeoDataFrame(
        {"NOMVOI": ["RUE A", "RUE B"]},
        geometry=[
            LineString([(769900, 6279010), (770150, 6279010)]),
            LineString([(770150, 6279020), (770400, 6279020)]),
        ],
        crs=2154,
    )
    r2 = U.vacancy_rates(units, streets=streets)
    s2 = r2[r2["level"] == "street"].set_index("name")
    assert s2.loc["RUE A", "units"] == 2 and s2.loc["RUE B", "vacant"] == 1


def test_layers_round_trip_through_twin_store(tmp_path: Path) -> None:
    units = U.units_from_osm(osm_shops(), retrieved="2014-05-20")
    s1 = survey([("node/0", "vacant", 770000, None)], "2024-03-15")
    units, hist, _ = U.add_survey(units, None, s1)
    tw = Twin("t", CRS.from_epsg(2154))
    for lay in U.to_layers(units, hist, Provenance(source="t")):
        tw.add(lay)
    tw.save(tmp_path / "twin")
    back = Twin.open(tmp_path / "twin")
    u2, h2 = U.from_layers(back.layer("retail_units"), back.layer("retail_history"))
    pd.testing.assert_frame_equal(pd.DataFrame(u2), pd.DataFrame(units), check_index_type=False)
    pd.testing.assert_frame_equal(pd.DataFrame(h2), pd.DataFrame(hist), check_index_type=False)


def test_units_from_real_osm_extract(helsinki_pbf: Path) -> None:
    from twin.io.osm import load_osm_shops

    layer = load_osm_shops(helsinki_pbf)
    units = U.units_from_osm(layer)  # dated by the layer's provenance
    assert len(units) == 515 and units.index.is_unique
    assert (units["last_surveyed"] == pd.Timestamp(layer.provenance.retrieved)).all()
    assert layer.provenance.retrieved == "2019-04-21"
    assert int(units["vacant"].sum()) == int(layer.data["vacant"].sum())
    assert units["address"].notna().sum() == 393
    U.check_units(units)
