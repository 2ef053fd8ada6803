"""The observatory workflow on a twin directory, through the ``twin observatory`` command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from twin.cli import main
from twin.model.twin import Twin


@pytest.fixture()
def twin_copy(demo_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "twin"
    shutil.copytree(demo_dir, out)
    return out


def _survey(twin_dir: Path, path: Path, date: str, vacant_every: int) -> list[str]:
    """A synthetic survey of 40 real demo shops (their ids and positions), some vacant."""
    shops = Twin.open(twin_dir)["shops"].to_crs(4326).iloc[:40]
    status = ["vide" if i % vacant_every == 0 else "occupé" for i in range(len(shops))]
    pd.DataFrame(
        {
            "identifiant": shops.index.astype(str),
            "statut": status,
            "date relevé": date,
            "longitude": shops.geometry.x.round(7),
            "latitude": shops.geometry.y.round(7),
            "téléphone": "0600000000",  # personal column: dropped on import
        }
    ).to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return status


def test_surveys_imported_twice_give_a_time_series(
    twin_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "releve_2024.csv", tmp_path / "releve_2025.csv"
    sa = _survey(twin_copy, a, "15/03/2024", 10)  # 4 vacant of 40
    sb = _survey(twin_copy, b, "14/03/2025", 5)  # 8 vacant of 40
    assert main(["observatory", "import", str(twin_copy), str(a), str(b)]) == 0
    assert main(["observatory", "import", str(twin_copy), str(b)]) == 0  # idempotent
    out = capsys.readouterr().out
    assert "history now 80 records" in out

    t = Twin.open(twin_copy)
    assert len(t["retail_history"]) == 80
    assert "téléphone" not in t["retail_history"].columns
    assert int(t["retail_units"]["vacant"].sum()) == sb.count("vide") == 8

    report = tmp_path / "report.csv"
    assert main(["observatory", "report", str(twin_copy), "--out", str(report)]) == 0
    table = pd.read_csv(report, sep=";", decimal=",", encoding="utf-8-sig")
    overall = table[table["zone"] == "all"].sort_values("date")
    assert list(overall["date"].str[:10]) == ["2024-03-15", "2025-03-14"]
    assert overall["vacancy_rate"].round(4).tolist() == [
        round(sa.count("vide") / 40, 4),
        round(sb.count("vide") / 40, 4),
    ]

    out_dir = tmp_path / "field"
    assert main(["observatory", "export", str(twin_copy), "--out", str(out_dir)]) == 0
    assert sorted(p.suffix for p in out_dir.iterdir()) == [".csv", ".csv", ".gpkg"]


def test_bad_survey_is_refused_and_twin_untouched(
    twin_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "identifiant;statut;date relevé;longitude;latitude\n"
        "a;occupé;15/03/2024;24.94;60.17\n"
        "b;fermé;15/03/2024;24.94;60.17\n"
        "a;vide;15/03/2024;;60.17\n",
        encoding="utf-8",
    )
    before = (twin_copy / "twin.json").read_text()
    assert main(["observatory", "import", str(twin_copy), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and ":3:" in err and ":4:" in err
    assert (twin_copy / "twin.json").read_text() == before


def test_report_without_units_says_what_to_do(
    twin_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["observatory", "report", str(twin_copy)]) == 2
    assert "twin observatory import" in capsys.readouterr().err


def test_local_units_file_through_the_cli(
    twin_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A local inventory (GeoPackage of the demo shops, some vacant) merged by id, twice."""
    import geopandas as gpd

    shops = Twin.open(twin_copy)["shops"].iloc[:25]
    inv = gpd.GeoDataFrame(
        {
            "code_local": shops.index.astype(str),
            "etat": ["vacant" if i % 5 == 0 else "occupé" for i in range(len(shops))],
            "proprietaire": "M. Dupont",  # personal column: never imported
        },
        geometry=shops.geometry.to_numpy(),
        crs=shops.crs,
    )
    path = tmp_path / "locaux.gpkg"
    inv.to_file(path, driver="GPKG")
    args = ["observatory", "import", str(twin_copy), "--units", str(path),
            "--units-option", "id=code_local", "--units-option", "status=etat",
            "--units-option", "as_of=2025-06-30"]  # fmt: skip
    assert main(args) == 0
    assert main(args) == 0  # idempotent
    out = capsys.readouterr().out
    assert "locaux.gpkg: 25 units, matched 25 by id, 0 by address, 0 by position, 0 new" in out
    t = Twin.open(twin_copy)
    units, hist = t["retail_units"], t["retail_history"]
    assert int(units.loc[inv["code_local"], "vacant"].sum()) == 5
    assert len(hist) == 25 and "proprietaire" not in hist.columns
    # an unknown option is refused before anything is written
    before = (twin_copy / "twin.json").read_text()
    bad = ["observatory", "import", str(twin_copy), "--units", str(path),
           "--units-option", "identifiant=code_local"]  # fmt: skip
    assert main(bad) == 2
    assert "identifiant" in capsys.readouterr().err
    assert (twin_copy / "twin.json").read_text() == before
