"""Local retail-unit files (retail.units): GIS inventories and CSV, points and polygons."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from twin.errors import CRSError, InputError, SchemaError
from twin.io import retail_units  # noqa: F401  (registers retail.units)
from twin.io.registry import _BUILTIN
from twin.io.retail_units import UNIT_COLUMNS, read_units
from twin.sims.commerce import units as U

X0, Y0 = 770000.0, 6279000.0  # central Montpellier, Lambert-93
ADDRESS = ["addr:housenumber", "addr:street"]


def shops_file(shared_data: Path) -> Path:
    return shared_data / "montpellier" / "OSM_MTP_Commerces" / "OSM_MTP_Commerces.geojson"


def inventory(**overrides: list) -> gpd.GeoDataFrame:
    """SYNTHETIC inventory of five units in Lambert-93, French columns, personal ones too."""
    cols = {
        "code_local": ["L1", "L2", "L3", "L4", "L5"],
        "adresse": ["12 rue de la Loge", "3 bd Sarrail", "5 rue Foch", "7 rue Foch", None],
        "statut": ["Occupé", "vacant", "À louer", "", "inconnu"],
        "activite": ["boulangerie", None, None, "47.11Z", "coiffure"],
        "depuis": pd.to_datetime(["2019-06-01", "2023-01-15", None, None, None]),
        "date_releve": ["15/03/2024", "15/03/2024", "2024-03-16", None, "15/03/2024"],
        "proprietaire": ["M. X", None, None, None, None],
        "siren": ["123456789", None, None, None, None],
        "nom_gerant": ["Y", None, None, None, None],
    }
    cols.update(overrides)
    geoms = [
        box(X0, Y0, X0 + 10, Y0 + 8),  # 80 m²
        box(X0 + 20, Y0, X0 + 25, Y0 + 12),  # 60 m²
        MultiPolygon([box(X0 + 40, Y0, X0 + 45, Y0 + 4), box(X0 + 50, Y0, X0 + 52, Y0 + 2)]),
        Point(X0 + 60, Y0 + 5),
        box(X0 + 70, Y0, X0 + 76, Y0 + 5),  # 30 m²
    ]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=2154)


def write_gpkg(tmp_path: Path, gdf: gpd.GeoDataFrame, name: str = "locaux.gpkg") -> Path:
    p = tmp_path / name
    gdf.to_file(p, engine="pyogrio")
    return p


# -- real data ---------------------------------------------------------------------------------
def test_montpellier_shops_read_as_local_units(shared_data: Path) -> None:
    units, prov = read_units(
        shops_file(shared_data),
        id="osm_id",
        activity="shop",
        address=ADDRESS,
        as_of="2014-05-20",
        default_status="occupied",
    )
    assert len(units) == 953 and units.index.is_unique and units.index.name == "unit_id"
    assert tuple(units.columns) == (*U.UNIT_COLUMNS, "geometry") == (*UNIT_COLUMNS, "geometry")
    U.check_units(units)
    assert units.crs.to_epsg() == 4326 and (units.geom_type == "Point").all()
    first = units.loc["724181538"]
    assert (
        first["activity"] == "confectionery"
        and first["source"] == "local:OSM_MTP_Commerces.geojson"
    )
    assert (first.geometry.x, first.geometry.y) == pytest.approx((3.877437, 43.610672))
    assert units["activity"].notna().sum() == 949  # four shops have no shop=* tag
    assert units["activity"].value_counts().head(3).to_dict() == {
        "hairdresser": 135,
        "clothes": 123,
        "bakery": 114,
    }
    assert units["address"].notna().sum() == 183  # house number or street tagged
    assert units.loc["630662360", "address"] == "4 Rue Fournarié"
    assert (units["status"] == "occupied").all() and not units["vacant"].any()
    assert (units["last_surveyed"] == pd.Timestamp("2014-05-20")).all()
    assert units["since"].isna().all() and units["floor_area_m2"].isna().all()
    # contacts dropped (phone, e-mail, fax, contact:*), and said so
    assert prov.counts["dropped_personal_columns"] == 7
    assert any("contact:phone" in s for s in prov.steps)
    assert "default_status" in prov.derived["status"]
    assert "as_of" in prov.derived["last_surveyed"]
    assert prov.counts["units"] == 953 and prov.counts["occupied"] == 953


def test_montpellier_french_type_labels_and_ambiguity(shared_data: Path) -> None:
    with pytest.raises(SchemaError) as e:
        read_units(shops_file(shared_data), id="osm_id")
    msg = str(e.value)
    assert "OSM_MTP_Commerces.geojson" in msg and "['type', 'shop']" in msg
    assert "Fix: name the one to use, e.g. activity='type'" in msg
    units, prov = read_units(shops_file(shared_data), id="osm_id", activity="type")
    assert prov.derived["status"] == "no status column: every unit 'unknown' (default_status)"
    assert units["activity"].value_counts().head(2).to_dict() == {
        "Salons de Coiffure": 135,
        "Vêtements": 123,
    }
    assert (units["status"] == "unknown").all() and units["last_surveyed"].isna().all()


def test_loader_through_build(shared_data: Path, tmp_path: Path) -> None:
    from twin.build import build
    from twin.io.registry import refresh

    refresh()
    ld = _BUILTIN["retail.units"]
    # as_of unquoted in YAML: a date, not a string
    opts = {"id": "osm_id", "activity": "shop", "address": ADDRESS, "as_of": dt.date(2014, 5, 20)}
    assert ld.validate_options(opts, where="layers.units.options") == opts
    with pytest.raises(SchemaError, match="adress"):
        ld.validate_options({"adress": "x"}, where="layers.units.options")
    manifest = {
        "name": "Montpellier",
        "crs": "auto",
        "layers": {
            "units": {
                "loader": "retail.units",
                "source": str(shops_file(shared_data)),
                "options": opts,
                "licence": "ODbL-1.0",
            }
        },
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    t = build(tmp_path / "m.yaml", tmp_path / "twin")
    u = t["units"]
    assert t.crs.to_epsg() == 2154 and len(u) == 953
    assert 765000 < u.geometry.x.min() and u.geometry.x.max() < 776000
    assert t.layer("units").provenance.licence == "ODbL-1.0"
    assert (u["last_surveyed"] == pd.Timestamp("2014-05-20")).all()


# -- synthetic GIS files -------------------------------------------------------------------------
def test_geopackage_polygons_statuses_and_personal_columns(tmp_path: Path) -> None:
    src = inventory()
    units, prov = read_units(write_gpkg(tmp_path, src))
    assert units.index.tolist() == ["L1", "L2", "L3", "L4", "L5"]
    assert units["status"].tolist() == ["occupied", "vacant", "vacant", "unknown", "unknown"]
    assert units["vacant"].tolist() == [False, True, True, False, False]
    U.check_units(units)
    # polygon areas as floor areas (measured in UTM 31N: within 0.3 % of the Lambert-93 area)
    area = units["floor_area_m2"].to_numpy()
    assert area[[0, 1, 2, 4]] == pytest.approx([80.0, 60.0, 24.0, 30.0], rel=3e-3)
    assert np.isnan(area[3])
    assert "no area column" in prov.derived["floor_area_m2"] and prov.counts["polygons"] == 4
    # a point on each polygon's surface; the point stays
    assert all(units.geometry.iloc[i].within(src.geometry.iloc[i]) for i in (0, 1, 2, 4))
    assert units.geometry.iloc[3].equals(Point(X0 + 60, Y0 + 5))
    assert units.crs.to_epsg() == 2154
    # dates: text (two formats) and a GeoPackage DATE field
    assert units["last_surveyed"].dt.strftime("%Y-%m-%d").fillna("-").tolist() == [
        "2024-03-15",
        "2024-03-15",
        "2024-03-16",
        "-",
        "2024-03-15",
    ]
    assert str(units.loc["L2", "since"].date()) == "2023-01-15"
    assert units["activity"].tolist() == ["boulangerie", None, None, "47.11Z", "coiffure"]
    assert units["address"].tolist()[:2] == ["12 rue de la Loge", "3 bd Sarrail"]
    assert "1 empty statuses set to 'unknown'" in prov.derived["status"]
    # owner, SIREN and manager never reach the table, and the provenance says so
    assert prov.counts["dropped_personal_columns"] == 3
    assert any("proprietaire" in s for s in prov.steps)
    assert any("siren" in s for s in prov.steps) and any("nom_gerant" in s for s in prov.steps)
    assert prov.counts["vacant"] == 2 and not prov.personal_data


@pytest.mark.filterwarnings("ignore:Normalized/laundered field name")
def test_area_column_extra_statuses_and_zipped_shapefile(tmp_path: Path) -> None:
    src = inventory(statut=["1", "0", "fermé", "1", "0"]).assign(
        surface=["45,5", "80", None, "12", "30"]
    )
    src = src.assign(commentaire=["vu M. Z", None, None, None, None])
    keep = ["code_local", "adresse", "statut", "surface", "proprietaire", "commentaire"]
    src = src[[*keep, "geometry"]].drop(index=3)
    with pytest.warns(UserWarning, match="truncated"):  # names cut to 10 characters
        src.to_file(tmp_path / "locaux.shp", engine="pyogrio")  # polygons only in a shapefile
    assert {"proprietai", "commentair"} <= set(gpd.read_file(tmp_path / "locaux.shp").columns)
    z = tmp_path / "locaux.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in tmp_path.glob("locaux.*"):
            if f.suffix != ".zip":
                zf.write(f, f.name)
    units, prov = read_units(
        z,
        floor_area="surface",
        status_values={"1": "occupied", "0": "vacant", "Fermé": "vacant"},
    )
    assert units.index.tolist() == ["L1", "L2", "L3", "L5"] and units.crs.to_epsg() == 2154
    assert units["status"].tolist() == ["occupied", "vacant", "vacant", "vacant"]
    assert units["floor_area_m2"].tolist()[:2] == [45.5, 80.0]
    assert np.isnan(units.loc["L3", "floor_area_m2"])  # the file's own empty area stays empty
    assert "floor_area_m2" not in prov.derived
    assert units["source"].iloc[0] == "local:locaux.zip"
    # personal columns are recognised with their names cut by the shapefile format
    assert not {"proprietai", "commentair"} & set(units.columns)
    assert prov.counts["dropped_personal_columns"] == 2


def test_csv_lambert93_and_lonlat(tmp_path: Path) -> None:
    p = tmp_path / "locaux.csv"
    p.write_bytes(
        (
            "Identifiant;Adresse;Statut;Surface;X;Y;Téléphone\n"
            "C1;2 place de la Comédie;Occupé;45,5;770500,5;6279000;0600000000\n"
            "C2;4 place de la Comédie;vide;;770510;6279010;\n"
        ).encode("cp1252")
    )
    units, prov = read_units(p, crs="EPSG:2154", as_of="2024-06-30")
    assert units.index.tolist() == ["C1", "C2"] and units.crs.to_epsg() == 2154
    assert units["status"].tolist() == ["occupied", "vacant"]
    assert units["floor_area_m2"].iloc[0] == 45.5 and units.geometry.iloc[0].x == 770500.5
    assert "Windows-1252" in prov.derived["encoding"]
    assert prov.counts["dropped_personal_columns"] == 1
    q = tmp_path / "ll.csv"
    q.write_text("ref,statut,longitude,latitude\nA,vacant,3.879,43.61\n", encoding="utf-8")
    ll, _ = read_units(q)
    assert ll.crs.to_epsg() == 4326 and ll.index.tolist() == ["A"] and ll["vacant"].all()
    r = tmp_path / "noid.csv"
    r.write_text("statut;wkt\nvide;POINT (770000 6279000)\n", encoding="utf-8")
    noid, nprov = read_units(r, crs=2154)
    assert noid.index.tolist() == ["noid/0"] and "numbered" in nprov.derived["unit_id"]


# -- bad input -----------------------------------------------------------------------------------
def test_unknown_statuses_listed_with_accepted_values(tmp_path: Path) -> None:
    p = write_gpkg(tmp_path, inventory(statut=["Occupé", "fermé", "vide", "en travaux", "?"]))
    with pytest.raises(InputError) as e:
        read_units(p)
    msg = str(e.value)
    assert "2 problem(s) on 2 feature(s) [2, 4]" in msg
    assert f"{p}: feature 2: statut: unknown status 'fermé'" in msg
    assert f"{p}: feature 4: statut: unknown status 'en travaux'" in msg
    assert "Fix: use an accepted status" in msg and "vacant: vacant, vacante, vide" in msg
    assert "status_values" in msg
    units, _ = read_units(p, status_values={"Fermé": "vacant", "en travaux": "unknown"})
    assert units["status"].tolist() == ["occupied", "vacant", "vacant", "unknown", "unknown"]
    with pytest.raises(SchemaError, match=r"\['closed'\] are not statuses"):
        read_units(p, status_values={"fermé": "closed"})


def test_duplicated_and_missing_ids_listed(tmp_path: Path) -> None:
    p = write_gpkg(tmp_path, inventory(code_local=["L1", "L2", "L1", None, "L2"]))
    with pytest.raises(InputError) as e:
        read_units(p)
    msg = str(e.value)
    assert "feature 1: code_local: duplicated id 'L1' (features [1, 3])" in msg
    assert "feature 5: code_local: duplicated id 'L2' (features [2, 5])" in msg
    assert "feature 4: code_local: missing unit id" in msg
    assert "Fix: give every unit a non-empty, unique id" in msg


def test_missing_empty_and_line_geometries_listed(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "statut": ["vide"] * 4},
        geometry=[box(X0, Y0, X0 + 5, Y0 + 5), None, Polygon(), LineString([(X0, Y0), (X0, 1)])],
        crs=2154,
    )
    p = write_gpkg(tmp_path, gdf)
    with pytest.raises(InputError) as e:
        read_units(p)
    msg = str(e.value)
    assert "3 problem(s) on 3 feature(s) [2, 3, 4]" in msg
    assert f"{p}: feature 2: geometry: missing or empty geometry" in msg
    assert f"{p}: feature 3: geometry: missing or empty geometry" in msg
    assert "feature 4: geometry: a LineString: a unit must be a point or a polygon" in msg
    assert "Fix: give every unit a point or a polygon" in msg


def test_csv_missing_coordinates_and_crs(tmp_path: Path) -> None:
    p = tmp_path / "xy.csv"
    p.write_text(
        "id;statut;x;y\na;vide;770000;6279000\nb;occupé;;6279000\nc;occupé;abc;6279000\n",
        encoding="utf-8",
    )
    with pytest.raises(CRSError) as e:
        read_units(p)
    assert "xy.csv: crs" in str(e.value) and "pass crs=" in str(e.value)
    with pytest.raises(InputError) as e2:
        read_units(p, crs="EPSG:2154")
    msg = str(e2.value)
    assert "(line 1 is the header)" in msg
    assert f"{p}: line 3: x/y: missing or non-numeric coordinates" in msg
    assert f"{p}: line 4: x/y: missing or non-numeric coordinates" in msg
    q = tmp_path / "nopos.csv"
    q.write_text("id;statut\na;vide\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"no usable position columns.*Fix: give x and y"):
        read_units(q, crs=2154)


def test_unknown_column_options(tmp_path: Path) -> None:
    p = write_gpkg(tmp_path, inventory())
    with pytest.raises(SchemaError) as e:
        read_units(p, status="etat_local")
    msg = str(e.value)
    assert f"{p}: status" in msg and "['etat_local'] given as status= not found" in msg
    assert "'code_local', 'adresse', 'statut'" in msg and "Fix: set status to one of" in msg
    with pytest.raises(SchemaError, match=r"\['siren'\] may hold personal data"):
        read_units(p, id="siren")
    with pytest.raises(SchemaError, match=r"\['numero'\] given as address="):
        read_units(p, address=["numero", "adresse"])
    with pytest.raises(SchemaError, match="x, y and wkt apply to CSV files"):
        read_units(p, x="X")
    with pytest.raises(SchemaError, match="as_of 'mars 2024' is not a date"):
        read_units(p, as_of="mars 2024")


def test_bad_dates_and_areas_listed(tmp_path: Path) -> None:
    src = inventory(date_releve=["15/03/2024", "hier", "2024-03-16", None, "2018-01-01"])
    src["surface"] = ["80", "-3", "douze", None, "30"]
    with pytest.raises(InputError) as e:
        read_units(write_gpkg(tmp_path, src), floor_area="surface")
    msg = str(e.value)
    assert "feature 2: date_releve: unparseable date 'hier'" in msg
    assert "feature 2: surface: negative area -3.0" in msg
    assert "feature 3: surface: non-numeric area 'douze'" in msg
    assert "write dates as YYYY-MM-DD" in msg and "non-negative numbers" in msg
    late = inventory(date_releve=["15/03/2018", None, None, None, None])
    with pytest.raises(InputError, match="feature 1: depuis: the status began after"):
        read_units(write_gpkg(tmp_path, late, "late.gpkg"))
