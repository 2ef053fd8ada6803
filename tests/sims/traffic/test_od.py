"""OD matrix files: CSV tables and OMX matrices (the Sioux Falls OMX shipped by AequilibraE)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from twin.errors import InputError
from twin.sims.traffic.datasets import sioux_falls
from twin.traffic import assign, read_od


def test_csv_table(tmp_path: Path) -> None:
    p = tmp_path / "od.csv"
    p.write_text("origin;destination;trips;note\n1;2;10.5;x\n1;2;1.5;\n2;1;0;\n3;3;4;\n2;3;7;\n")
    od = read_od(p)
    assert od.to_dict("records") == [
        {"origin": 1, "destination": 2, "trips": 12.0},  # duplicates summed
        {"origin": 2, "destination": 3, "trips": 7.0},  # zeros and o = d dropped
    ]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("origin,destination,trips\n1,2,5\n1,3,abc\n", "line 3, field trips"),
        ("origin,destination,trips\n1,2,-5\n", "line 2, field trips"),
        ("origin,destination,trips\n1,,5\n2,,1\n", "lines 2, 3, field destination"),
        ("from,to,trips\n1,2,5\n", "columns ['origin', 'destination'] are missing"),
    ],
)
def test_csv_row_errors(tmp_path: Path, body: str, needle: str) -> None:
    p = tmp_path / "od.csv"
    p.write_text(body)
    with pytest.raises(InputError) as e:
        read_od(p)
    assert needle in str(e.value) and "od.csv" in str(e.value)


def test_omx_real_sioux_falls_matrix(tmp_path: Path) -> None:
    """The Sioux Falls demand OMX shipped in AequilibraE's wheel, read by read_od."""
    import aequilibrae

    ref = Path(aequilibrae.__file__).parent / "reference_files" / "sioux_falls.zip"
    with zipfile.ZipFile(ref) as z:
        z.extract("matrices/demand.omx", tmp_path)
    od = read_od(tmp_path / "matrices" / "demand.omx")
    links, mat = sioux_falls()
    assert od["trips"].sum() == pytest.approx(360_600.0)
    assert len(od) == 528 and set(od["origin"]) == set(range(1, 25))
    a = assign(links, od, rgap=1e-6, algorithm="gp")
    b = assign(links, mat, rgap=1e-6, algorithm="gp")
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


def test_omx_written_here(tmp_path: Path) -> None:
    import openmatrix as omx

    p = tmp_path / "two.omx"
    m = np.array([[0, 3.0, 0], [1.0, 0, 2.0], [0, 0, 0]])
    with omx.open_file(str(p), "w") as f:
        f["car"] = m
        f["truck"] = m * 0.1
        f.create_mapping("zone", [101, 205, 307])
    with pytest.raises(InputError, match="holds 2 matrices"):
        read_od(p)
    od = read_od(p, matrix="car")
    assert od.to_dict("records") == [
        {"origin": 101, "destination": 205, "trips": 3.0},
        {"origin": 205, "destination": 101, "trips": 1.0},
        {"origin": 205, "destination": 307, "trips": 2.0},
    ]
    with pytest.raises(InputError, match="no matrix 'bus'"):
        read_od(p, matrix="bus")
    with pytest.raises(InputError, match="no mapping 'taz'"):
        read_od(p, matrix="car", mapping="taz")
    q = tmp_path / "neg.omx"
    with omx.open_file(str(q), "w") as f:
        f["m"] = -m
    with pytest.raises(InputError, match="negative or not finite") as e:
        read_od(q)
    assert "zone 1 → 2" in str(e.value)  # no mapping: zones 1…n
    bad = tmp_path / "x.omx"
    bad.write_text("not hdf5")
    with pytest.raises(InputError, match="not a readable OMX file"):
        read_od(bad)


def test_parse_demand_sorts_and_sums_or_keeps_a_clean_table() -> None:
    """Unsorted or repeated pairs are summed and sorted; an already clean table (one row per
    pair, in order) comes back as it is."""
    import pandas as pd

    from twin.sims.traffic.inputs import parse_demand

    messy = pd.DataFrame(
        {"origin": [3, 1, 1, 2, 2], "destination": [1, 2, 2, 2, 1], "trips": [4, 1, 2, 9, 0.5]}
    )
    got = parse_demand(messy)
    assert got.to_dict("records") == [
        {"origin": 1, "destination": 2, "trips": 3.0},
        {"origin": 2, "destination": 1, "trips": 0.5},
        {"origin": 3, "destination": 1, "trips": 4.0},
    ]
    clean = parse_demand(got.iloc[::-1].reset_index(drop=True))
    assert clean.equals(got)
    assert parse_demand(got).equals(got)
    named = messy.assign(  # non-numeric ids
        origin=messy["origin"].map("z{}".format), destination=messy["destination"].map("z{}".format)
    )
    assert parse_demand(named)["origin"].tolist() == ["z1", "z2", "z3"]
