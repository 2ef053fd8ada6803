"""EPANET loader on the networks WNTR ships (Net3, ky10) and on broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wntr

from twin.errors import CRSError, InputError
from twin.io.epanet import read_epanet
from twin.io.registry import get_loader

NETWORKS = Path(wntr.__file__).parent / "library" / "networks"
NET3 = NETWORKS / "Net3.inp"
KY10 = NETWORKS / "ky10.inp"
# Net3's map is schematic (0-45 drawing units); any projected CRS whose area admits it will
# do for the test. ky10's coordinates are Kentucky Single Zone feet (EPSG:3089): they fall on
# eastern Kentucky.
NET3_CRS = "EPSG:32631"


def test_net3_counts_and_units() -> None:
    net, prov = read_epanet(NET3, crs=NET3_CRS, schematic=True)
    assert len(net.nodes) == 97 and len(net.links) == 119
    assert net.nodes["node_type"].value_counts().to_dict() == {
        "junction": 92,
        "tank": 3,
        "reservoir": 2,
    }
    assert net.links["link_type"].value_counts().to_dict() == {"pipe": 117, "pump": 2}
    assert prov.counts["nodes"] == 97 and prov.counts["links_pump"] == 2
    # Junction 10: elevation 147 ft; pipe 20: 99 ft long, 99 in wide, C = 199 (file values)
    assert net.nodes.loc["10", "elevation_m"] == pytest.approx(147 * 0.3048)
    pipe = net.links.loc["20"]
    assert (pipe["a_node"], pipe["b_node"]) == ("3", "20")
    assert pipe["length_m"] == pytest.approx(99 * 0.3048)
    assert pipe["diameter_m"] == pytest.approx(99 * 0.0254)
    assert pipe["roughness"] == 199.0 and pipe["status"] == "Open"
    assert "Hazen-Williams" in prov.derived["roughness"]
    # junction 15 demands 1 GPM
    assert net.nodes.loc["15", "base_demand_m3s"] == pytest.approx(6.30901964e-05)
    assert net.nodes.loc["River", "head_m"] == pytest.approx(220 * 0.3048)
    assert np.isnan(net.nodes.loc["River", "elevation_m"])
    pumps = net.links[net.links["link_type"] == "pump"]
    assert sorted(pumps.index) == ["10", "335"] and set(pumps["pump_type"]) == {"HEAD"}
    assert net.links["bidirectional"].sum() == 117 and not pumps["bidirectional"].any()
    assert net.links.crs.to_string() == NET3_CRS
    assert net.csr.indptr[-1] == 119


def test_ky10_matches_wntr() -> None:
    wn = wntr.network.WaterNetworkModel(str(KY10))
    net, prov = read_epanet(KY10, crs="EPSG:3089")
    assert (len(net.nodes), len(net.links)) == (wn.num_nodes, wn.num_links) == (935, 1061)
    assert prov.counts["nodes_tank"] == 13 and prov.counts["nodes_reservoir"] == 2
    assert prov.counts["links_pipe"] == 1043
    assert prov.counts["links_pump"] == 13 and prov.counts["links_valve"] == 5
    assert net.links.loc["~@RV-1", "valve_type"] == "PRV"
    assert (~net.links["bidirectional"]).sum() == 13 + 5 + 1  # pumps, PRVs, one CV pipe
    assert net.links["length_m"].sum() == pytest.approx(
        sum(wn.get_link(n).length for n in wn.pipe_name_list)
    )
    # ky10 has vertices: pipe geometries follow them
    n_vertices = sum(1 for _, link in wn.links() if link.vertices)
    assert n_vertices == 638
    bent = [n for n, link in wn.links() if link.vertices]
    assert (net.links.loc[bent].geometry.count_coordinates() > 2).all()
    # the network lies in eastern Kentucky
    west, south, east, north = net.nodes.to_crs(4326).total_bounds
    assert -83.1 < west < east < -82.6 and 37.7 < south < north < 38.1


def test_loader_registered_and_requires_crs(tmp_path: Path) -> None:
    ld = get_loader("epanet")
    assert ld.kind == "network"
    layer = ld.func(
        NET3, **ld.validate_options({"crs": NET3_CRS, "schematic": True}, "layers.water")
    )
    assert layer.count == 119
    with pytest.raises(CRSError) as exc:
        ld.func(NET3)
    text = str(exc.value)
    assert "no coordinate reference system" in text and "Net3.inp" in text and "crs:" in text


def test_wrong_crs_is_caught() -> None:
    with pytest.raises(CRSError, match="outside the area where EPSG:2154"):
        read_epanet(KY10, crs="EPSG:2154")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: "hello world\n" + s, r"line 1\b.*syntax error"),
        (
            lambda s: s.replace("[PIPES]\n", "[PIPES]\n 9999 NOPE 10 100 12 100 0 Open ;\n", 1),
            r"line 116\b.*undefined node, 'NOPE'",
        ),
        (
            lambda s: s.replace(" 15              \t32  ", " 15              \txx  ", 1),
            r"line 12\b.*could not convert string to float: 'xx'",
        ),
    ],
)
def test_corrupt_inp_names_file_and_line(tmp_path: Path, edit, expected: str) -> None:
    p = tmp_path / "broken.inp"
    p.write_text(edit(NET3.read_text()))
    with pytest.raises(InputError, match=expected) as exc:
        read_epanet(p, crs=NET3_CRS, schematic=True)
    assert str(p) in str(exc.value) and "Fix:" in str(exc.value)
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_truncated_and_empty_files(tmp_path: Path) -> None:
    p = tmp_path / "cut.inp"
    p.write_text(NET3.read_text()[:3000])
    with pytest.raises(InputError, match=r"cut\.inp: not a readable EPANET input file"):
        read_epanet(p, crs=NET3_CRS, schematic=True)
    e = tmp_path / "empty.inp"
    e.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_epanet(e, crs=NET3_CRS, schematic=True)


def test_a_diagram_is_not_taken_as_a_map(tmp_path: Path) -> None:
    """Net3's map is a diagram: refused unless georeferenced or declared schematic."""
    with pytest.raises(CRSError, match=r"not a map in EPSG:32631.*declare schematic: true"):
        read_epanet(NET3, crs=NET3_CRS)
    net, prov = read_epanet(NET3, crs=NET3_CRS, schematic=True)
    assert "schematic" in prov.derived["geometry"]
    # ky10 is in Kentucky feet: to scale once the CRS's unit is taken into account
    _, prov = read_epanet(KY10, crs="EPSG:3089")
    assert 95 <= prov.counts["drawn_to_declared_length_pct"] <= 105
    # a georeference (drawing units → metres, placed in UTM 31N) makes Net3 a map
    ratio = prov.counts["drawn_to_declared_length_pct"]
    assert ratio
    geo = {"offset_x": 500_000.0, "offset_y": 5_000_000.0, "scale": 1 / 0.00445, "rotation_deg": 0}
    net, prov = read_epanet(NET3, crs=NET3_CRS, georeference=geo)
    assert 80 <= prov.counts["drawn_to_declared_length_pct"] <= 125
    assert net.nodes.total_bounds[0] >= 500_000


def test_engine_file_kept_in_the_twin(tmp_path: Path) -> None:
    """The .inp travels with the network through a saved twin, and is part of its identity:
    the water simulation runs WNTR on it after the source file is gone."""
    from twin.model.twin import Twin
    from twin.store.twinstore import content_hashes

    ld = get_loader("epanet")
    layer = ld.func(KY10, **ld.validate_options({"crs": "EPSG:3089"}, "layers.water"))
    assert layer.data.model.engine == "epanet"
    assert layer.data.model.text == KY10.read_text()
    t = Twin("ky10", layer.crs)
    t.add(layer)
    t.save(tmp_path / "t")
    assert (tmp_path / "t" / "layers" / "ky10.epanet.inp").read_text() == KY10.read_text()
    back = Twin.open(tmp_path / "t")
    assert back.layer("ky10").data.model == layer.data.model
    assert content_hashes(back) == content_hashes(t)
    edited = back.copy()
    net = edited.layer("ky10").data
    net.model = type(net.model)("epanet", net.model.text.replace("[PIPES]", "[PIPES]\n;edit"))
    assert content_hashes(edited) != content_hashes(back)
