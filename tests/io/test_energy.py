"""Energy networks: exact synthetic topologies, real Montpellier street geometry as a stand-in
for feeders (no French energy network is in the fixtures), and bad inputs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from twin.errors import InputError, SchemaError
from twin.io.energy import energy_network, read_energy_network
from twin.io.registry import get_loader
from twin.io.vector import read_vector

X0, Y0 = 770000.0, 6280000.0  # Montpellier, Lambert-93


def _lines(coords: list[list[tuple[float, float]]], **cols) -> gpd.GeoDataFrame:
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords]
    return gpd.GeoDataFrame(
        cols, geometry=geoms, crs=2154, index=[f"L{i}" for i in range(len(geoms))]
    )


def test_star_with_snapping_and_substation(tmp_path: Path) -> None:
    # three feeders meeting at (100, 0), drawn with ends 0.3 m apart, plus one far away
    lines = _lines(
        [
            [(0, 0), (100, 0)],
            [(100.3, 0), (200, 0)],
            [(100, 0.2), (100, 50), (130, 90)],
        ],
        tension_kv=[20, 20, 0.4],
        name=["a", "b", "c"],
    )
    lines.to_file(tmp_path / "grid.gpkg", layer="feeders")
    subs = gpd.GeoDataFrame(
        {"nom": ["Poste source"]}, geometry=[shapely.Point(X0 - 3, Y0 + 4)], crs=2154
    )
    subs.to_file(tmp_path / "grid.gpkg", layer="postes")
    net, prov = read_energy_network(
        tmp_path / "grid.gpkg",
        lines_layer="feeders",
        substations="grid.gpkg",
        substations_layer="postes",
        mapping={"voltage_kv": "tension_kv"},
        id="name",
    )
    assert len(net.nodes) == 4 and len(net.links) == 3
    hub = net.links.loc["a", "b_node"]
    assert net.links.loc["b", "a_node"] == hub and net.links.loc["c", "a_node"] == hub
    assert net.nodes.loc[hub, "degree"] == 3 and net.nodes.loc[hub, "node_type"] == "junction"
    # merged node at the mean of the three ends
    assert net.nodes.loc[hub].geometry.x == pytest.approx(X0 + 100.1)
    assert net.nodes.loc[hub].geometry.y == pytest.approx(Y0 + 0.2 / 3)
    assert net.links["length_m"].to_dict() == pytest.approx({"a": 100, "b": 99.7, "c": 99.8})
    assert net.links["voltage_kv"].to_dict() == {"a": 20.0, "b": 20.0, "c": 0.4}
    assert net.links["bidirectional"].all()
    src = net.links.loc["a", "a_node"]
    assert net.nodes.loc[src, "node_type"] == "substation"
    assert net.nodes.loc[src, "substation"] == "grid/0"
    assert net.nodes.loc[src, "substation_distance_m"] == pytest.approx(5.0)
    assert prov.counts["components"] == 1 and prov.counts["end_nodes"] == 3
    assert (
        "nearest" in prov.derived["substation"] and "merged within 1.0 m" in prov.derived["nodes"]
    )
    # with a tolerance below 0.2 m the three ends stay apart: a disconnected network
    net2, prov2 = read_energy_network(
        tmp_path / "grid.gpkg", lines_layer="feeders", snap_tolerance_m=0.1
    )
    assert len(net2.nodes) == 6 and prov2.counts["components"] == 3


def test_loops_and_multilines_and_geographic(tmp_path: Path) -> None:
    ring = [(0, 0), (10, 0), (10, 10), (0, 0.5)]  # ends 0.5 m apart → one node → dropped
    multi = shapely.MultiLineString(
        [[(X0, Y0), (X0 + 50, Y0)], [(X0 + 50, Y0), (X0 + 50, Y0 + 50)]]
    )  # merges into one line
    split = shapely.MultiLineString(
        [[(X0 + 500, Y0), (X0 + 600, Y0)], [(X0 + 700, Y0), (X0 + 800, Y0)]]
    )  # disjoint parts → two links
    gdf = gpd.GeoDataFrame(
        {"voltage_v": ["20000", "400;230", "20000"]},
        geometry=[shapely.LineString([(X0 + x, Y0 + y) for x, y in ring]), multi, split],
        crs=2154,
    ).to_crs(4326)
    gdf.to_file(tmp_path / "lines.geojson")
    net, prov = read_energy_network(tmp_path / "lines.geojson")
    assert net.links.crs.to_epsg() == 2154  # projected to the working CRS
    assert prov.counts["dropped_loops"] == 1 and prov.counts["split_multilines"] == 1
    assert sorted(net.links.index) == ["lines/1", "lines/2:0", "lines/2:1"]
    assert net.links.loc["lines/1", "length_m"] == pytest.approx(100.0, abs=1e-3)
    assert net.links.loc["lines/1", "voltage_kv"] == 0.4
    assert "voltage_v / 1000" in prov.derived["voltage_kv"]
    assert len(net.nodes) == 6


def test_real_streets_as_feeders(montpellier: Path, tmp_path: Path) -> None:
    """1,095 real centre-line arcs of central Montpellier stand in for feeder sections."""
    arcs, _ = read_vector(
        montpellier / "VilleMTP_MTP_FilaireVoies/VilleMTP_MTP_FilaireVoies.zip",
        encoding="latin-1",
        id="IDARC",
    )
    sub = arcs[arcs.within(shapely.box(770000, 6279000, 771500, 6280500))].copy()
    assert len(sub) == 1095
    sub["tension_kv"] = np.where(sub["DOMANIALIT"] == "Publique", 20.0, 0.4)  # made up
    sub = sub[["LIB_OFF", "tension_kv", "geometry"]].rename_axis("IDARC").reset_index()
    gpkg = tmp_path / "feeders.gpkg"
    sub.to_file(gpkg, layer="feeders")
    postes = gpd.GeoDataFrame(
        {"nom": ["A", "B"]},
        geometry=[shapely.Point(770500, 6279500), shapely.Point(771200, 6280200)],
        crs=2154,
    )
    postes.to_file(gpkg, layer="postes")
    ld = get_loader("energy.lines")
    opts = ld.validate_options(
        {
            "lines_layer": "feeders",
            "substations": str(gpkg),
            "substations_layer": "postes",
            "mapping": {"voltage_kv": "tension_kv"},
            "id": "IDARC",
            "substations_id": "nom",
        },
        "layers.grid",
    )
    layer = ld.func(gpkg, **opts)
    net, prov = layer.data, layer.provenance
    assert layer.kind == "network" and len(net.links) == 1095
    assert len(net.nodes) == 761 and prov.counts["components"] == 5
    assert prov.counts["end_nodes"] == 118
    assert net.nodes["node_type"].value_counts().to_dict() == {
        "junction": 595,
        "end": 118,
        "node": 46,
        "substation": 2,
    }
    assert net.links["voltage_kv"].value_counts().to_dict() == {20.0: 1055, 0.4: 40}
    assert net.links["length_m"].sum() == pytest.approx(58849.09, abs=0.01)
    assert set(net.nodes["substation"].dropna()) == {"A", "B"}
    assert prov.counts["substation_max_distance_m"] == 37
    assert net.links.loc["3", "LIB_OFF"] == "Place de la Comédie"
    # with no snapping two arc ends 0.x m apart stay distinct
    net0, _ = read_energy_network(gpkg, lines_layer="feeders", snap_tolerance_m=0.0)
    assert len(net0.nodes) == 762
    assert net.csr.indptr[-1] == 1095


def test_bad_inputs(tmp_path: Path) -> None:
    lines = _lines([[(0, 0), (10, 0)], [(10, 0), (20, 0)]], kv=["20", "vingt"])
    lines.to_file(tmp_path / "l.gpkg")
    with pytest.raises(SchemaError) as exc:
        read_energy_network(tmp_path / "l.gpkg", mapping={"voltage_kv": "tension"})
    assert "['tension'] not found" in str(exc.value) and "'kv'" in str(exc.value)
    with pytest.raises(InputError, match=r"field 'voltage_kv' \(features \['l/1'\].*'vingt'"):
        read_energy_network(tmp_path / "l.gpkg", mapping={"voltage_kv": "kv"})
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=2154)
    pts.to_file(tmp_path / "p.gpkg")
    with pytest.raises(InputError, match=r"not lines \(\['Point'\].*lines_layer"):
        read_energy_network(tmp_path / "p.gpkg")
    neg = _lines([[(0, 0), (10, 0)]], kv=[-20.0])
    neg.to_file(tmp_path / "n.gpkg")
    with pytest.raises(InputError, match=r"negative voltage_kv on features \['n/0'\]"):
        read_energy_network(tmp_path / "n.gpkg", mapping={"voltage_kv": "kv"})
    # lines in degrees are reprojected before lengths are measured (not refused)
    geo = energy_network(lines.to_crs(4326))
    np.testing.assert_allclose(
        geo.links["length_m"].sum(), energy_network(lines).links["length_m"].sum(), rtol=5e-3
    )
    with pytest.raises(InputError, match="file not found"):
        read_energy_network(tmp_path / "missing.gpkg")


def test_substation_attributes_and_switches(tmp_path: Path) -> None:
    """Substations keep their attributes on their node; a line field maps to 'closed'."""
    lines = _lines(
        [[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(200, 0), (300, 0)]],
        etat=["fermé", "ouvert", ""],
    )
    subs = gpd.GeoDataFrame(
        {"nom": ["Poste Nord"], "tension_kv": [63.0], "puissance_mva": [36.0]},
        geometry=[shapely.Point(X0, Y0 + 2)],
        crs=2154,
    )
    lines.to_file(tmp_path / "l.gpkg")
    subs.to_file(tmp_path / "s.gpkg")
    net, _ = read_energy_network(
        tmp_path / "l.gpkg",
        substations="s.gpkg",
        mapping={"closed": "etat"},
        substations_mapping={"voltage_kv": "tension_kv", "rated_mva": "puissance_mva"},
        substations_id="nom",
    )
    node = net.nodes.loc[net.nodes["node_type"] == "substation"].iloc[0]
    assert node["substation"] == "Poste Nord"
    assert node["substation_voltage_kv"] == 63.0 and node["substation_rated_mva"] == 36.0
    assert net.links["closed"].tolist() == [True, False, True]
    assert net.nodes["in_service"].all() and net.links["in_service"].all()
    lines.assign(etat=["fermé", "peut-être", ""]).to_file(tmp_path / "bad.gpkg")
    with pytest.raises(InputError, match="'peut-être'"):
        read_energy_network(tmp_path / "bad.gpkg", mapping={"closed": "etat"})
