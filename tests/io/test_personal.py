"""Personal data is dropped on load by one documented list (twin.io.personal).

Montpellier's street trees, given the columns a careless export would add (names, phone,
e-mail, address, birth date, social-security number in French spellings, with accents and
upper case), are loaded with the generic vector loader: those columns are gone and named in
the provenance; ids such as momepy's ``uID`` and place names (``NOM`` without a first name)
are kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.io.personal import personal_columns
from twin.io.vector import load_vector, read_vector

PERSONAL = ["Nom", "Prénom", "TÉLÉPHONE", "courriel", "Adresse", "date_de_naissance", "N° Sécu"]


def test_columns_matched_without_case_or_accents() -> None:
    got = personal_columns(["uID", "IDARC", "nom", "prenom", "Téléphone", "E-mail", "x"])
    assert got == ["nom", "prenom", "Téléphone", "E-mail"]
    assert personal_columns(["contact:phone", "addr:street"]) == ["contact:phone"]
    # a name alone names a street or a place, not a person
    assert personal_columns(["NOM", "IDARC", "uID", "id_proprio_x"]) == []
    # shapefile fields cut to 10 characters
    assert personal_columns(["PROPRIETAI", "TELEPHONE"]) == ["PROPRIETAI", "TELEPHONE"]
    assert personal_columns(["telephone"], keep=["telephone"]) == []


@pytest.mark.parametrize("suffix", [".gpkg", ".csv"])
def test_vector_loader_drops_them(montpellier: Path, tmp_path: Path, suffix: str) -> None:
    src = montpellier / "VilleMTP_MTP_ArbresAlign" / "VilleMTP_MTP_ArbresAlign.zip"
    trees, _ = read_vector(src, encoding="latin-1")
    trees = trees.head(50).reset_index(drop=True)
    for c in PERSONAL:
        trees[c] = "x"
    trees["uID"] = range(len(trees))
    path = tmp_path / f"trees{suffix}"
    if suffix == ".csv":
        trees.assign(wkt=trees.geometry.to_wkt()).drop(columns="geometry").to_csv(path, index=False)
        layer = load_vector(path, crs="EPSG:2154", wkt="wkt")
    else:
        trees.to_file(path)
        layer = load_vector(path)
    cols = set(layer.data.columns)
    assert not cols & set(PERSONAL), cols & set(PERSONAL)
    assert "uID" in cols
    assert any("dropped personal-data columns" in s for s in layer.provenance.steps)
    assert layer.provenance.personal_data is False
