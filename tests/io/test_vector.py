"""Generic vector loader: real Montpellier files plus every bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import shapely.affinity

from twin.errors import CRSError, InputError, SchemaError
from twin.io.vector import clean_header, read_vector

MTP = "VilleMTP_MTP_{0}/VilleMTP_MTP_{0}.zip"


@pytest.mark.parametrize(
    ("name", "count", "geom"),
    [
        ("EclairagePublic", 29969, "Point"),
        ("FilaireVoies", 8011, "LineString"),
        ("Batiments", 3356, "Polygon"),
        ("ArbresAlign", 23972, "Point"),
    ],
)
def test_montpellier_shapefiles(montpellier: Path, name: str, count: int, geom: str) -> None:
    gdf, prov = read_vector(montpellier / MTP.format(name), encoding="latin-1")
    assert len(gdf) == count
    assert gdf.crs.to_epsg() == 2154  # IGNF "RGF93 Lambert 93" normalised to EPSG:2154
    assert set(gdf.geom_type) <= {geom, "Multi" + geom}
    assert gdf.index.is_unique and gdf.geometry.is_valid.all()
    assert "latin-1" in prov.steps[0]


def test_montpellier_accents_and_fields(montpellier: Path) -> None:
    roads, _ = read_vector(
        montpellier / MTP.format("FilaireVoies"),
        encoding="latin-1",
        mapping={"direction": "SENS_CIRCU", "street": "LIB_OFF"},
        id="IDARC",
    )
    assert roads.loc["293", "street"] == "Place de la Célette"
    counts = roads["direction"].value_counts().to_dict()
    assert counts["DOUBLE SENS"] > counts["SENS UNIQUE"] > 1000
    trees, _ = read_vector(montpellier / MTP.format("ArbresAlign"), encoding="latin-1")
    assert trees["HAUTEUR_M"].max() > 20 and trees["HAUTEUR_M"].median() == pytest.approx(10, abs=3)


def test_montpellier_building_repaired(montpellier: Path) -> None:
    _, prov = read_vector(montpellier / MTP.format("Batiments"), encoding="latin-1")
    assert prov.counts["repaired_geometries"] == 1
    assert any("make_valid" in s for s in prov.steps)


def test_montpellier_shops_geojson_drops_contacts(montpellier: Path) -> None:
    gdf, prov = read_vector(
        montpellier / "OSM_MTP_Commerces/OSM_MTP_Commerces.geojson", id="osm_id"
    )
    assert len(gdf) == 953 and gdf.crs.to_epsg() == 4326
    assert not {"phone", "email", "contact:phone"} & set(gdf.columns)
    assert any("personal" in s for s in prov.steps)


def test_counts_csv_dbase_headers(montpellier: Path, tmp_path: Path) -> None:
    assert clean_header("OBJECTID,N,10,0") == "OBJECTID" and clean_header("DDEBUT,D") == "DDEBUT"
    from twin.io.vector import read_csv_table

    df = read_csv_table(
        montpellier / "VilleMTP_MTP_Comptage/VilleMTP_MTP_Comptage.csv", encoding="latin-1"
    )
    assert len(df) == 3314 and {"TJM", "PHJM", "SENS", "DDEBUT"} <= set(df.columns)


@pytest.fixture()
def points_csv(tmp_path: Path) -> Path:
    p = tmp_path / "lamps.csv"
    p.write_text("id;x;y;type\nA;770999.8;6278801.5;LED\nB;771588.5;6276534.7;Sodium\n")
    return p


def test_csv_xy_and_wkt(points_csv: Path, tmp_path: Path) -> None:
    gdf, _ = read_vector(points_csv, x="x", y="y", crs="EPSG:2154", id="id", delimiter=";")
    assert list(gdf.index) == ["A", "B"] and gdf.loc["A"].geometry.x == pytest.approx(770999.8)
    w = tmp_path / "w.csv"
    w.write_text(
        'name,wkt\nsq,"POLYGON((770000 6278000,770001 6278000,770001 6278001,'
        '770000 6278001,770000 6278000))"\n'
    )
    gdf, _ = read_vector(w, wkt="wkt", crs=2154)
    assert gdf.geometry.iloc[0].area == 1.0


def test_formats_round_trip(montpellier: Path, tmp_path: Path) -> None:
    gdf, _ = read_vector(montpellier / MTP.format("Batiments"), encoding="latin-1")
    sub = gdf.iloc[:50]
    sub.to_file(tmp_path / "b.gpkg", layer="bat")
    sub.to_parquet(tmp_path / "b.parquet")
    sub.to_file(tmp_path / "b.geojson")
    sub.to_file(tmp_path / "b.shp")
    for p, kw in (
        (tmp_path / "b.gpkg", {"layer": "bat"}),
        (tmp_path / "b.parquet", {}),
        (tmp_path / "b.geojson", {}),
        (tmp_path / "b.shp", {}),
    ):
        back, _ = read_vector(p, **kw)
        assert len(back) == 50
        assert back.geometry.area.sum() == pytest.approx(sub.geometry.area.sum(), rel=1e-6)


# --- bad input ----------------------------------------------------------------------------
def test_missing_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_vector(tmp_path / "nope.gpkg")
    (tmp_path / "e.geojson").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_vector(tmp_path / "e.geojson")


def test_corrupt_file(tmp_path: Path) -> None:
    p = tmp_path / "c.gpkg"
    p.write_bytes(b"SQLite format 3\x00" + b"\x13" * 500)
    with pytest.raises(InputError) as err:
        read_vector(p)
    assert "cannot be read" in str(err.value) and "Fix:" in str(err.value)
    z = tmp_path / "c.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("readme.txt", "no shapefile here")
    with pytest.raises(InputError, match=r"c\.zip"):
        read_vector(z)


def test_wrong_encoding(montpellier: Path) -> None:
    with pytest.raises(InputError) as err:
        read_vector(montpellier / MTP.format("FilaireVoies"), encoding="utf-8")
    assert "latin-1" in str(err.value)
    with pytest.raises(SchemaError, match="unknown text encoding"):
        read_vector(montpellier / MTP.format("FilaireVoies"), encoding="klingon")


def test_utf8_declared_latin1(tmp_path: Path) -> None:
    p = tmp_path / "u.csv"
    p.write_text("nom,x,y\nCélette,1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_vector(p, x="x", y="y", crs=2154, encoding="latin-1")
    assert "line 2" in str(err.value) and "utf-8" in str(err.value)


def test_latin1_declared_utf8_names_line(tmp_path: Path) -> None:
    p = tmp_path / "l.csv"
    p.write_bytes("nom,x,y\nA,1,2\nCélette,1,2\n".encode("latin-1"))
    with pytest.raises(InputError, match="line 3"):
        read_vector(p, x="x", y="y", crs=2154)


def test_missing_or_wrong_crs(points_csv: Path, tmp_path: Path) -> None:
    with pytest.raises(CRSError, match="crs: in the layer options"):
        read_vector(points_csv, x="x", y="y", delimiter=";")
    with pytest.raises(CRSError, match="not degrees"):
        read_vector(points_csv, x="x", y="y", crs="EPSG:4326", delimiter=";")
    with pytest.raises(CRSError, match="not a coordinate reference system"):
        read_vector(points_csv, x="x", y="y", crs="EPSG:999999", delimiter=";")
    g = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(3.87, 43.61)], crs=None)
    with pytest.warns(UserWarning, match="crs"):
        g.to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_vector(tmp_path / "nocrs.shp")
    gdf, _ = read_vector(tmp_path / "nocrs.shp", crs=4326)
    assert gdf.crs.to_epsg() == 4326
    g.set_crs(2154).to_file(tmp_path / "deg.gpkg")
    with pytest.raises(CRSError, match="look like degrees"):
        read_vector(tmp_path / "deg.gpkg")


def test_bad_coordinates_rows(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_text("id,x,y\na,770000,6278000\nb,,6278000\nc,x,6278000\n")
    with pytest.raises(InputError) as err:
        read_vector(p, x="x", y="y", crs=2154)
    assert "rows [3, 4]" in str(err.value)


def test_invalid_geometry_repaired_and_counted(tmp_path: Path) -> None:
    bowtie = shapely.affinity.translate(
        shapely.from_wkt("POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))"), 770000, 6278000
    )
    ok = shapely.box(770020, 6278020, 770030, 6278030)
    gpd.GeoDataFrame({"n": [1, 2]}, geometry=[bowtie, ok], crs=2154).to_file(tmp_path / "i.gpkg")
    gdf, prov = read_vector(tmp_path / "i.gpkg")
    assert prov.counts["repaired_geometries"] == 1
    assert gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[0].area == pytest.approx(50.0)


def test_missing_mapped_column_and_duplicate_ids(points_csv: Path) -> None:
    with pytest.raises(SchemaError) as err:
        read_vector(
            points_csv, x="x", y="y", crs=2154, delimiter=";", mapping={"power_w": "puissance"}
        )
    assert "puissance" in str(err.value) and "'type'" in str(err.value)
    dup = points_csv.with_name("dup.csv")
    dup.write_text("id,x,y\nA,770000,6278000\nA,770001,6278001\n")
    with pytest.raises(InputError, match=r"rows \[1, 2\]"):
        read_vector(dup, x="x", y="y", crs=2154, id="id")
