"""Commerce observatory end to end on Montpellier: OSM shops → units → two surveys → rates."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from twin.io.retail import read_survey
from twin.io.vector import read_vector
from twin.model.provenance import Provenance
from twin.sims.commerce import units as U
from twin.sims.commerce.observatory import export_for_field, vacancy_report

N_SAMPLE = 200


@pytest.fixture(scope="module")
def mtp(montpellier: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    shops, prov = read_vector(
        montpellier / "OSM_MTP_Commerces" / "OSM_MTP_Commerces.geojson", id="osm_id"
    )
    prov.retrieved = "2014-05-20"  # date of the 2014 OSM extract (publisher's sheet)
    units = U.units_from_osm(shops, retrieved=prov.retrieved, prov=prov)
    zones = gpd.read_file(montpellier / "VilleMTP_MTP_Quartiers" / "VilleMTP_MTP_Quartiers.geojson")
    # SYNTHETIC surveys: a random sample of the real shop ids with invented statuses.
    rng = np.random.default_rng(42)
    ids = rng.choice(units.index.to_numpy(), N_SAMPLE, replace=False)
    s = units.loc[ids]
    st1 = np.where(np.arange(N_SAMPLE) < 20, "vide", "Occupé")  # 20 vacant (10 %)
    st2 = st1.copy()
    st2[:5] = "occupé"  # 5 re-let
    st2[20:35] = "VACANT"  # 15 newly vacant → 30 vacant (15 %)
    folder = tmp_path_factory.mktemp("surveys")
    files = []
    for k, (date, st) in enumerate([("15/03/2024", st1), ("2025-03-14", st2)]):
        df = pd.DataFrame(
            {
                "identifiant": ids,
                "adresse": s["address"].fillna("").to_numpy(),
                "statut": st,
                "date_releve": date,
                "longitude": [f"{v:.7f}".replace(".", ",") for v in s.geometry.x],
                "latitude": [f"{v:.7f}".replace(".", ",") for v in s.geometry.y],
                "telephone": "0400000000",  # must be dropped
            }
        )
        f = folder / f"releve_{k}.csv"
        df.to_csv(f, sep=";", index=False, encoding="utf-8-sig")
        files.append(f)
    hist = None
    reports = []
    for f in [files[0], files[1], files[1]]:  # the second survey twice
        survey, sprov = read_survey(f)
        assert "telephone" not in survey.columns and sprov.counts["dropped_personal_columns"] == 1
        units, hist, rep = U.add_survey(units, hist, survey, prov=prov)
        reports.append(rep)
    return {
        "units": units,
        "hist": hist,
        "zones": zones,
        "ids": ids,
        "prov": prov,
        "reports": reports,
        "n_shops": len(shops),
    }


def test_montpellier_time_series(mtp: dict) -> None:
    units, hist = mtp["units"], mtp["hist"]
    assert mtp["n_shops"] == 953 and len(units) == 953  # no new unit: all matched by id
    assert [r.counts["matched_id"] for r in mtp["reports"]] == [N_SAMPLE] * 3
    assert len(hist) == 2 * N_SAMPLE  # the repeated import added nothing
    assert mtp["prov"].counts["survey_records_replaced"] == N_SAMPLE
    ts = U.vacancy_timeseries(hist)
    assert ts["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-15", "2025-03-14"]
    assert ts["vacant"].tolist() == [20, 30] and ts["units"].tolist() == [200, 200]
    assert ts["vacancy_rate"].tolist() == pytest.approx([0.10, 0.15])
    # current state: 30 vacant units among the 953 (the OSM 2014 extract had none)
    assert int(units["vacant"].sum()) == 30
    assert units["status"].value_counts().to_dict() == {"occupied": 923, "vacant": 30}
    re_let = mtp["ids"][0]
    assert units.loc[re_let, "status"] == "occupied"
    assert units.loc[re_let, "since"] == pd.Timestamp("2025-03-14")
    assert units.loc[mtp["ids"][10], "since"] == pd.Timestamp("2024-03-15")


def test_montpellier_rates_by_district(mtp: dict) -> None:
    units, zones = mtp["units"], mtp["zones"]
    r = U.vacancy_rates(units, zones, zone_column="LIBQUART")
    z = r[r["level"] == "zone"].set_index("name")
    assert len(z) == 7 and "MONTPELLIER CENTRE" in z.index
    # oracle: count by hand with a spatial join
    j = gpd.sjoin(units.to_crs(zones.crs), zones[["LIBQUART", "geometry"]], predicate="within")
    exp = j.groupby("LIBQUART")["vacant"].agg(["size", "sum"])
    assert z["units"].sort_index().tolist() == exp["size"].sort_index().tolist()
    assert z["vacant"].sum() == exp["sum"].sum()
    assert z.loc["MONTPELLIER CENTRE", "vacancy_rate"] == pytest.approx(
        exp.loc["MONTPELLIER CENTRE", "sum"] / exp.loc["MONTPELLIER CENTRE", "size"]
    )
    assert r.loc[r["level"] == "all", "vacancy_rate"].item() == pytest.approx(30 / 953)
    rep = vacancy_report(mtp["hist"], units=units, zones=zones, zone_column="LIBQUART")
    allz = rep[rep["zone"] == "all"]
    assert allz["vacancy_rate"].tolist() == pytest.approx([0.10, 0.15])
    assert np.isnan(allz["change_pts"].iloc[0]) and allz["change_pts"].iloc[1] == pytest.approx(5)
    per = rep[rep["zone"] != "all"].groupby("date")["vacant"].sum()
    assert per.tolist() == [20, 30]


def test_export_for_field_round_trip(mtp: dict, tmp_path: Path) -> None:
    units, hist = mtp["units"], mtp["hist"]
    files = export_for_field(units, tmp_path / "out", history=hist)
    assert [f.name for f in files] == [
        "retail_units.gpkg",
        "retail_units.csv",
        "retail_units_history.csv",
    ]
    assert not list((tmp_path / "out").glob(".*tmp*"))  # atomic: no temporary left
    g = gpd.read_file(files[0], layer="units")
    h = gpd.read_file(files[0], layer="history")
    assert len(g) == 953 and len(h) == 400 and g.crs.to_epsg() == 4326
    raw = files[1].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for French Excel
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("unit_id;address;status;since;activity;floor_area_m2;survey_date")
    assert "," in raw.decode("utf-8-sig").splitlines()[1]  # decimal comma
    # the units CSV is a survey sheet: it imports back, and re-importing changes nothing
    back, _ = read_survey(files[1])
    assert len(back) == 953 and int(back["vacant"].sum()) == 30
    surveyed = back[back["survey_date"] > pd.Timestamp("2020-01-01")]
    u2, h2, rep = U.add_survey(units, hist, surveyed)
    assert rep.counts["matched_id"] == N_SAMPLE and len(h2) == 400
    pd.testing.assert_series_equal(u2["status"], units["status"])
    l93 = export_for_field(units, tmp_path / "l93", crs="EPSG:2154")
    assert "x;y" in l93[1].read_text(encoding="utf-8-sig").splitlines()[0]


def test_provenance_recorded(mtp: dict) -> None:
    prov: Provenance = mtp["prov"]
    assert prov.counts["units_osm"] == 953
    assert prov.counts["survey_matched_id"] == N_SAMPLE
    assert any("survey records" in s for s in prov.steps)
    assert "since" in prov.derived
