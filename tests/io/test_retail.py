"""Field-survey CSV loader (retail.survey)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from twin.errors import InputError, SchemaError
from twin.io import retail  # noqa: F401  (registers retail.survey)
from twin.io.registry import _BUILTIN
from twin.io.retail import parse_date, parse_status, read_survey

GOOD = (
    "Identifiant;Adresse;Statut;Depuis;Activité;Surface;Date relevé;Longitude;Latitude;"
    "Propriétaire;Téléphone;Commentaire\n"
    "A1;12 rue de la Loge;Occupé;;boulangerie;45,5;15/03/2024;3,8790;43,6100;M. X;0600;vu\n"
    "A2;3 bd Sarrail;VIDE;01/2023;;80;15/03/2024;3,8800;43,6110;;;\n"
    "A3;5 rue Foch;à louer;2023-11-02;;;2024-03-15;3,8810;43,6120;;;\n"
    "A4;7 rue Foch;inconnu;;47.11Z;;2024-03-15;3,8811;43,6121;;;\n"
)


def write(tmp_path: Path, text: str, name: str = "s.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_read_survey_french_excel(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD, encoding="cp1252")
    gdf, prov = read_survey(p)
    assert gdf.index.tolist() == [f"A{i}@2024-03-15" for i in range(1, 5)]
    assert gdf["status"].tolist() == ["occupied", "vacant", "vacant", "unknown"]
    assert gdf["vacant"].tolist() == [False, True, True, False]
    assert gdf["floor_area_m2"].iloc[0] == 45.5 and gdf["floor_area_m2"].iloc[1] == 80.0
    assert str(gdf["since"].iloc[1].date()) == "2023-01-01"
    assert gdf["activity"].iloc[3] == "47.11Z"
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].x == pytest.approx(3.879)
    # personal data dropped and recorded
    for c in ("Propriétaire", "Téléphone", "Commentaire"):
        assert c not in gdf.columns
    assert prov.counts["dropped_personal_columns"] == 3
    assert any("personal" in s for s in prov.steps)
    assert "Windows-1252" in prov.derived["encoding"]
    assert prov.counts["vacant"] == 2


def test_utf8_bom_comma_xy_lambert93(tmp_path: Path) -> None:
    text = (
        "unit_id,address,status,survey_date,x,y\n"
        "u1,1 place de la Comédie,occupied,2024-01-10,770500.5,6279000\n"
        "u2,2 place de la Comédie,vacant,2024-01-10,770510,6279010\n"
    )
    p = write(tmp_path, "\ufeff" + text)
    gdf, prov = read_survey(p)
    assert gdf.crs.to_epsg() == 2154 and "Lambert-93" in prov.derived["crs"]
    assert gdf.loc["u2@2024-01-10", "status"] == "vacant"
    assert gdf["address"].iloc[0] == "1 place de la Comédie"


def test_wkt_and_file_survey_date(tmp_path: Path) -> None:
    text = "ref;etat;wkt\nB1;occupe;POINT (770500 6279000)\nB2;vacante;POINT (770600 6279000)\n"
    gdf, prov = read_survey(write(tmp_path, text), survey_date="2023-06-30", crs="EPSG:2154")
    assert gdf.index.tolist() == ["B1@2023-06-30", "B2@2023-06-30"]
    assert "survey_date" in prov.derived
    # an unquoted date in a YAML manifest arrives as a datetime.date
    import datetime

    same, _ = read_survey(
        write(tmp_path, text), survey_date=datetime.date(2023, 6, 30), crs="EPSG:2154"
    )
    assert same.index.tolist() == gdf.index.tolist()


def test_all_bad_rows_listed(tmp_path: Path) -> None:
    text = (
        "id;statut;date_releve;lon;lat;surface\n"
        "A1;occupé;2024-03-15;3.87;43.61;10\n"  # line 2
        "A2;fermé;2024-03-15;3.87;43.61;10\n"  # 3 unknown status
        "A3;vide;2024-02-30;3.87;43.61;10\n"  # 4 bad date
        "A4;vide;2024-03-15;;43.61;10\n"  # 5 missing coordinate
        "A5;vide;2024-03-15;3.87;43.61;-5\n"  # 6 negative area
        "A1;vide;2024-03-15;3.87;43.61;10\n"  # 7 duplicate of line 2
        "A6;;2024-03-15;abc;43.61;10\n"  # 8 missing status, bad coordinate
        "A1;vide;2024-04-15;3.87;43.61;10\n"  # 9 fine: another date
    )
    p = write(tmp_path, text)
    with pytest.raises(InputError) as e:
        read_survey(p)
    m = str(e.value)
    assert f"{p}:3:statut (status): unknown status 'fermé'" in m
    assert f"{p}:4:date_releve (survey_date): unparseable date '2024-02-30'" in m
    assert f"{p}:5:lon/lat: missing or non-numeric coordinates" in m
    assert f"{p}:6:surface (floor_area_m2): negative floor area" in m
    assert f"{p}:2:id (unit_id): unit id 'A1' appears twice" in m
    assert f"{p}:7:id (unit_id): unit id 'A1' appears twice" in m
    assert f"{p}:8:statut (status): missing status" in m
    assert f"{p}:8:lon/lat: missing or non-numeric coordinates" in m
    assert ":9:" not in m
    assert "8 problem(s) on 7 row(s) [2, 3, 4, 5, 6, 7, 8]" in m
    assert "Fix: correct the listed rows" in m and "docs/survey-format.md" in m


def test_missing_columns_and_personal_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "adresse;statut;lon;lat\n1 rue A;vide;3.8;43.6\n")
    with pytest.raises(SchemaError, match=r"required column\(s\) \['unit_id', 'survey_date'\]"):
        read_survey(p)
    p = write(tmp_path, "id;statut;date;x;y;locataire\nA;vide;2024-01-01;770500;6279000;Mme Y\n")
    with pytest.raises(InputError, match=r"\['locataire'\] may hold personal data.*Fix: remove"):
        read_survey(p, personal="error")
    gdf, _ = read_survey(p)
    assert "locataire" not in gdf.columns
    p = write(tmp_path, "id;statut;date\nA;vide;2024-01-01\n")
    with pytest.raises(SchemaError, match=r"no position columns.*Fix: add lon and lat"):
        read_survey(p)


def test_wrong_encoding_declared(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD, encoding="cp1252")
    with pytest.raises(InputError, match=r"not valid utf-8.*line 1.*encoding: latin-1"):
        read_survey(p, encoding="utf-8")


def test_vocabulary() -> None:
    assert parse_status(" Occupée ") == "occupied" and parse_status("À LOUER") == "vacant"
    assert parse_status("?") == "unknown" and parse_status("fermé") is None
    assert str(parse_date("03/04/2024").date()) == "2024-04-03"
    assert str(parse_date("2024-04-03T10:00").date()) == "2024-04-03"
    assert parse_date("31/02/2024") is None


def test_loader_registered_and_template(tmp_path: Path) -> None:
    from twin.build import read_manifest_file

    ld = _BUILTIN["retail.survey"]
    root = Path(__file__).resolve().parents[2]
    spec, _ = read_manifest_file(root / "layers" / "templates" / "retail_survey.yaml")
    checked = set()
    for name, layer in spec.layers.items():
        if layer.loader in ("retail.survey", "retail.units"):
            _BUILTIN[layer.loader].validate_options(layer.options, where=f"layers.{name}.options")
            checked.add(layer.loader)
    assert checked == {"retail.survey", "retail.units"}
    lay = ld.func(write(tmp_path, GOOD), delimiter=";")
    assert lay.kind == "vector" and isinstance(lay.data, gpd.GeoDataFrame) and lay.count == 4


def test_survey_layer_through_build(tmp_path: Path) -> None:
    from twin.build import build
    from twin.io.registry import refresh

    refresh()
    write(tmp_path, GOOD, name="releve.csv", encoding="cp1252")
    (tmp_path / "m.yaml").write_text(
        "name: t\ncrs: EPSG:2154\nlayers:\n"
        "  survey: {loader: retail.survey, source: releve.csv, licence: etalab-2.0}\n"
    )
    t = build(tmp_path / "m.yaml", tmp_path / "twin")
    s = t["survey"]
    assert t.crs.to_epsg() == 2154 and s.crs.to_epsg() == 2154 and len(s) == 4
    assert s["status"].tolist() == ["occupied", "vacant", "vacant", "unknown"]
    assert 770000 < s.geometry.x.iloc[0] < 771000  # 3.879 E → Lambert-93
    assert t.layer("survey").provenance.licence == "etalab-2.0"
