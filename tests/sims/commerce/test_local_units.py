"""A local inventory of retail units merged into units built from the Montpellier OSM shops.

Real data: the 953 OSM shops of Montpellier (2014 extract). The local inventory is SYNTHETIC,
built from them: 300 real shop ids, 40 real addresses under new ids, 30 real positions moved
3 m under new ids and no address, and 20 new units outside the city centre.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from twin.errors import SchemaError
from twin.io.retail_units import read_units
from twin.io.vector import read_vector
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.commerce import units as U
from twin.sims.commerce.twin_units import (
    import_units,
    merge_local_units,
    units_options,
)

DATE = pd.Timestamp("2024-06-30")
OSM_DATE = pd.Timestamp("2014-05-20")


@pytest.fixture(scope="module")
def shops(montpellier: Path) -> tuple[gpd.GeoDataFrame, Provenance]:
    gdf, prov = read_vector(
        montpellier / "OSM_MTP_Commerces" / "OSM_MTP_Commerces.geojson", id="osm_id"
    )
    prov.retrieved = OSM_DATE.date().isoformat()
    return gdf, prov


@pytest.fixture(scope="module")
def osm_units(shops: tuple[gpd.GeoDataFrame, Provenance]) -> gpd.GeoDataFrame:
    return U.units_from_osm(shops[0], retrieved=shops[1].retrieved)


@pytest.fixture(scope="module")
def local(osm_units: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The synthetic inventory as a GeoPackage (Lambert-93), with the expected matches."""
    u = osm_units.to_crs(2154)
    xy = np.c_[u.geometry.x, u.geometry.y]
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    norm = u["address"].map(U.normalise_address)
    unique_addr = norm.map(U._has_number) & ~norm.duplicated(keep=False)
    rng = np.random.default_rng(7)
    by_addr = rng.choice(u.index[unique_addr.to_numpy()], 40, replace=False)
    isolated = u.index[(d.min(axis=1) > 30) & ~u.index.isin(by_addr)]
    by_pos = rng.choice(isolated, 30, replace=False)
    rest = u.index[~u.index.isin(by_addr) & ~u.index.isin(by_pos)]
    by_id = rng.choice(rest, 300, replace=False)

    rows = []
    for k, uid in enumerate(by_id):  # 30 vacant, 20 empty statuses, 250 occupied
        st = "vide" if k < 30 else ("" if k < 50 else "occupé")
        g = u.geometry[uid]
        rows.append((uid, u.loc[uid, "address"], st, None, g))
    for k, uid in enumerate(by_addr):  # moved 200 m: only the address can match
        g = u.geometry[uid]
        st = "vacant" if k < 10 else "Occupé"
        rows.append((f"LOC-A{k}", u.loc[uid, "address"], st, str(50 + k), Point(g.x + 200, g.y)))
    for k, uid in enumerate(by_pos):  # 3 m away, no address
        g = u.geometry[uid]
        rows.append((f"LOC-P{k}", None, "à louer" if k < 5 else "actif", None, Point(g.x, g.y + 3)))
    for k in range(20):  # 1.4 km east of the easternmost shop
        st = "vide" if k < 4 else "inconnu"
        rows.append((f"LOC-N{k}", None, st, None, Point(776000 + 30 * k, 6279000)))
    ids, addr, status, area, geom = zip(*rows, strict=True)
    gdf = gpd.GeoDataFrame(
        {
            "code_local": ids,
            "adresse": addr,
            "statut": status,
            "surface": area,
            "date_releve": "30/06/2024",
            "proprietaire": "X",  # personal: dropped
        },
        geometry=list(geom),
        crs=2154,
    )
    path = tmp_path_factory.mktemp("local") / "locaux.gpkg"
    gdf.to_file(path, engine="pyogrio")
    return {"path": path, "by_id": by_id, "by_addr": by_addr, "by_pos": by_pos}


def test_local_file_merged_by_id_address_position(osm_units: gpd.GeoDataFrame, local: dict) -> None:
    loc, lprov = read_units(local["path"])
    assert len(loc) == 390 and "proprietaire" in " ".join(lprov.steps)
    prov = Provenance(source="t")
    units, hist, rep = merge_local_units(osm_units, None, loc, prov=prov)
    assert rep.counts == {
        "matched_id": 300,
        "matched_address": 40,
        "matched_position": 30,
        "new": 20,
    }
    m = rep.matches
    assert (m.loc[[f"LOC-A{k}" for k in range(40)], "unit_id"] == local["by_addr"]).all()
    assert (m.loc[[f"LOC-P{k}" for k in range(30)], "unit_id"] == local["by_pos"]).all()
    assert m.loc["LOC-P0", "distance_m"] == pytest.approx(3.0, abs=0.05)
    assert len(units) == 953 + 20 and units.crs.to_epsg() == 4326
    U.check_units(units)
    # statuses: 30 + 10 + 5 + 4 vacant; 16 new units of unknown status
    assert int(units["vacant"].sum()) == 49
    assert int((units["status"] == "unknown").sum()) == 16
    # an empty status in the file changes nothing: still the OSM state of 2014
    quiet = local["by_id"][30:50]
    assert (units.loc[quiet, "status"] == "occupied").all()
    assert (units.loc[quiet, "last_surveyed"] == OSM_DATE).all()
    # matched by address: keeps its id, position and source; gets the area and the new status
    a0, a20 = local["by_addr"][0], local["by_addr"][20]
    assert units.loc[a0, "status"] == "vacant" and units.loc[a20, "status"] == "occupied"
    assert units.loc[a0, "floor_area_m2"] == 50.0 and units.loc[a0, "source"] == "osm"
    assert units.loc[a0, "last_surveyed"] == DATE and units.loc[a0, "since"] == DATE
    assert units.geometry[a0].equals(osm_units.geometry[a0])
    # new units
    assert units.loc["LOC-N0", "source"] == "local:locaux.gpkg"
    assert units.loc["LOC-N19", "last_surveyed"] == DATE
    # history: one record per dated, known status, with the file's own ids
    assert len(hist) == 280 + 40 + 30 + 4
    assert hist.loc[f"{a0}@2024-06-30", "surveyed_id"] == "LOC-A0"
    assert hist.loc[f"{a0}@2024-06-30", "floor_area_m2"] == 50.0
    assert (hist["source"] == "local:locaux.gpkg").all()
    ts = U.vacancy_timeseries(hist)
    assert ts[["units", "vacant"]].iloc[0].tolist() == [354, 49]
    assert ts["vacancy_rate"].iloc[0] == pytest.approx(49 / 354)
    assert prov.counts["local_matched_address"] == 40 and prov.counts["local_records"] == 354

    # idempotent: the same file again changes nothing (new units now match by id)
    units2, hist2, rep2 = merge_local_units(units, hist, loc)
    assert rep2.counts == {
        "matched_id": 320,
        "matched_address": 40,
        "matched_position": 30,
        "new": 0,
    }
    pd.testing.assert_frame_equal(units2, units)
    pd.testing.assert_frame_equal(hist2, hist)


def test_older_local_file_does_not_override_newer_osm(osm_units: gpd.GeoDataFrame) -> None:
    ids = osm_units.index[:5]
    old = gpd.GeoDataFrame(
        {
            "status": "vacant",
            "vacant": True,
            "activity": None,
            "floor_area_m2": np.nan,
            "since": pd.NaT,
            "last_surveyed": pd.Timestamp("2010-01-01"),
            "address": None,
            "source": "local:old.gpkg",
        },
        geometry=osm_units.geometry[ids].to_numpy(),
        index=pd.Index(ids, name="unit_id"),
        crs=osm_units.crs,
    )
    units, hist, _ = merge_local_units(osm_units, None, old)
    assert (units.loc[ids, "status"] == "occupied").all() and len(hist) == 5
    assert (hist["status"] == "vacant").all()
    with pytest.raises(SchemaError, match=r"5 local units have a status but no observation date"):
        merge_local_units(osm_units, None, old.assign(last_surveyed=pd.NaT))


@pytest.fixture()
def twin_dir(shops: tuple[gpd.GeoDataFrame, Provenance], tmp_path: Path) -> Path:
    from pyproj import CRS

    t = Twin("Montpellier", CRS.from_epsg(2154))
    gdf, prov = shops
    t.add(Layer("shops", "vector", gdf.to_crs(2154), prov))
    out = tmp_path / "twin"
    t.save(out)
    return out


def test_import_units_into_a_twin_twice(twin_dir: Path, local: dict) -> None:
    first = import_units(twin_dir, [local["path"]])
    t = Twin.open(twin_dir)
    units, hist = t["retail_units"], t["retail_history"]
    assert first[0].rows == 390 and first[0].history_records == 354
    assert first[0].matched["matched_address"] == 40 and first[0].matched["new"] == 20
    assert len(units) == 973 and int(units["vacant"].sum()) == 49
    assert units.crs.to_epsg() == 2154
    prov = t.layer("retail_units").provenance
    assert any("locaux.gpkg merged (390 units)" in s for s in prov.steps)
    assert prov.derived["local status"] == "20 empty statuses set to 'unknown' (default_status)"
    again = import_units(twin_dir, [local["path"]])
    assert again[0].matched["new"] == 0 and again[0].history_records == 354
    t2 = Twin.open(twin_dir)
    pd.testing.assert_frame_equal(t2["retail_units"], units)
    pd.testing.assert_frame_equal(t2["retail_history"], hist)


def test_import_units_bad_options_leave_twin_untouched(twin_dir: Path, tmp_path: Path) -> None:
    before = (twin_dir / "twin.json").read_text()
    p = tmp_path / "l.csv"
    p.write_text("id;statut;x;y\na;vide;770000;6279000\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"have a status but no observation date.*as_of="):
        import_units(twin_dir, [p], crs="EPSG:2154")
    with pytest.raises(SchemaError, match=r"unknown read option\(s\) \['colour'\]"):
        import_units(twin_dir, [p], options={"colour": "x"})
    assert (twin_dir / "twin.json").read_text() == before
    done = import_units(twin_dir, [p], options={"as_of": "2024-06-30", "crs": "EPSG:2154"})
    assert done[0].matched["new"] == 1


def test_units_options_from_cli_text() -> None:
    opts = units_options(
        ["id=code", "address=num,voie", "status_values=fermé:vacant,1:occupied", "as-of=2024-01-01"]
    )
    assert opts == {
        "id": "code",
        "address": ["num", "voie"],
        "status_values": {"fermé": "vacant", "1": "occupied"},
        "as_of": "2024-01-01",
    }
    with pytest.raises(SchemaError, match=r"'colour=red' is not a KEY=VALUE read option.*as_of"):
        units_options(["colour=red"])
