"""Building twins from manifests: the real Montpellier layers, and bad manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.build import build, build_twin, read_manifest_file
from twin.errors import InputError, LoaderNotFoundError, SchemaError
from twin.store.twinstore import open_twin

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def montpellier_twin(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("mtp") / "twin"
    build(ROOT / "layers" / "montpellier.yaml", out)
    return open_twin(out)


def test_montpellier_layers(montpellier_twin) -> None:
    t = montpellier_twin
    assert t.crs.to_epsg() == 2154
    assert len(t["street_lights"]) == 29969
    lights = t["street_lights"]
    assert lights["lamp_type"].value_counts()["lantern"] == 22595
    assert (
        lights["power_w"].notna().all()
        and "ASSUMED" in t.layer("street_lights").provenance.derived["power_w"]
    )
    counts = t["traffic_counts"]
    assert counts.data.sizes["sensor"] == 2527 and len(counts.points) == 2527
    assert str(t.time[0].date()) == "1996-01-16" and str(t.time[-1].date()) == "2013-10-14"
    assert float(counts.data["flow_veh_day"].max()) > 20000
    assert len(t["buildings"]) == 3356 and len(t["trees"]) == 23972
    assert t["trees"]["height_m"].max() > 20
    assert len(t["shops"]) == 953 and len(t["districts"]) == 7
    for name in t:
        p = t.layer(name).provenance
        assert p.licence in ("etalab-2.0", "ODbL-1.0") and p.producer


def test_montpellier_street_directions(montpellier_twin) -> None:
    net = montpellier_twin["streets"]
    links = net.links
    assert links["line_id"].nunique() == 8011 - 41  # INTERDIT streets have no link
    direction = links.groupby("line_id")["SENS_CIRCU"].first().value_counts()
    assert direction["DOUBLE SENS"] == 5995 and direction["SENS UNIQUE"] == 1742
    per_line = links.groupby("line_id").size()
    one_way = links.loc[links.SENS_CIRCU == "SENS UNIQUE", "line_id"].unique()
    assert (per_line[one_way] == 1).all()
    assert len(links) == 2 * 5995 + 1742 + 2 * (215 + 18)
    prov = montpellier_twin.layer("streets").provenance
    assert prov.counts["closed_lines"] == 41 and "ASSUMED" in prov.derived["direction"]
    # with the drawn-direction convention nearly every junction reaches every other
    import networkx as nx

    g = nx.DiGraph(zip(links.a_node, links.b_node, strict=True))
    largest = max(nx.strongly_connected_components(g), key=len)
    assert len(largest) / g.number_of_nodes() > 0.98


def test_epinay_template_builds(shared_data: Path, tmp_path: Path) -> None:
    t = build(ROOT / "layers" / "templates" / "etalab_cadastre.yaml", tmp_path / "cad")
    assert len(t["parcels"]) == 4241 and t.crs.to_epsg() == 2154


@pytest.mark.parametrize("manifest", sorted((ROOT / "layers").rglob("*.yaml")), ids=str)
def test_shipped_manifests_are_valid(manifest: Path) -> None:
    from twin.io.registry import get_loader

    spec, _ = read_manifest_file(manifest)
    for name, layer in spec.layers.items():
        get_loader(layer.loader).validate_options(layer.options, where=f"layers.{name}.options")


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return p


def test_manifest_lists_every_problem(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
name: x
colour: blue
layers:
  a: {loader: vector}
  b: {loader: vector, source: f.gpkg, sensitivity: secret}
derived:
  g: {resolution_m: -5, inputs: {}}
""",
    )
    with pytest.raises(SchemaError) as err:
        read_manifest_file(p)
    text = str(err.value)
    assert "4 problem(s)" in text
    for path in ("colour", "layers.a.source", "layers.b.sensitivity", "derived.g.resolution_m"):
        assert path in text


def test_unknown_loader_and_bad_options(tmp_path: Path, montpellier: Path) -> None:
    src = montpellier / "VilleMTP_MTP_Quartiers/VilleMTP_MTP_Quartiers.geojson"
    p = write(tmp_path, f"name: x\nlayers:\n  a: {{loader: shapefile, source: {src}}}\n")
    with pytest.raises(LoaderNotFoundError) as err:
        build_twin(p)
    assert "layers.a.loader" in str(err.value) and "osm.buildings" in str(err.value)
    p = write(
        tmp_path,
        f"name: x\nlayers:\n  a: {{loader: vector, source: {src}, "
        "options: {encodin: latin-1, crs: [1, 2]}}\n",
    )
    with pytest.raises(SchemaError) as err:
        build_twin(p)
    assert "layers.a.options.encodin" in str(err.value)
    assert "layers.a.options.crs" in str(err.value)


def test_missing_source_and_bad_yaml(tmp_path: Path) -> None:
    p = write(tmp_path, "name: x\nlayers:\n  a: {loader: vector, source: nope.gpkg}\n")
    with pytest.raises(InputError, match=r"nope\.gpkg: file not found"):
        build_twin(p)
    with pytest.raises(SchemaError, match="not valid YAML"):
        read_manifest_file(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(InputError, match="manifest not found"):
        read_manifest_file(tmp_path / "absent.yaml")
    with pytest.raises(InputError, match="not installed"):
        build_twin(
            write(
                tmp_path,
                "name: x\nlayers:\n  a: {loader: vector, source: 'pkg://no_such_pkg/x.gpkg'}\n",
            )
        )


def test_montpellier_dimming_scenario_saves_energy(montpellier_twin, tmp_path: Path) -> None:
    """The Montpellier dimming what-if reports kWh, €, CO₂ and compliance, and its
    comparison with the baseline shows the savings."""
    import pandas as pd

    from twin.scenario.runner import run

    r = run(montpellier_twin, ROOT / "scenarios" / "montpellier" / "dimming.yaml", out=tmp_path)
    comp = pd.read_csv(r.path / "compare" / "kpis.csv", index_col="kpi")
    for k in ("energy_kwh_year", "cost_eur_year", "co2_kg_year", "compliance_share"):
        assert k in comp.index
    assert comp.loc["energy_kwh_year", "a"] > 5e6  # the whole city, dusk to dawn [kWh]
    assert -40 < comp.loc["energy_kwh_year", "pct_change"] < -10
    assert comp.loc["cost_eur_year", "diff"] < 0 and comp.loc["co2_kg_year", "diff"] < 0
    md = (r.path / "notice.fr.md").read_text()
    assert "Ville de Montpellier" in md and "etalab-2.0" in md


def test_layers_far_apart_are_refused(tmp_path: Path, montpellier: Path) -> None:
    """A manifest mixing two territories (or a layer in a wrong CRS) is not one twin."""
    import geopandas as gpd
    from shapely.geometry import Point

    from twin.build import build_twin
    from twin.errors import InputError

    far = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[Point(-84.5, 38.0), Point(-84.4, 38.1)])
    far.set_crs(4326).to_file(tmp_path / "kentucky.gpkg")
    districts = montpellier / "VilleMTP_MTP_Quartiers" / "VilleMTP_MTP_Quartiers.geojson"
    (tmp_path / "m.yaml").write_text(
        "name: mixed\nlayers:\n"
        f"  districts: {{loader: vector, source: {districts}, licence: etalab-2.0}}\n"
        "  stray: {loader: vector, source: kentucky.gpkg, licence: x}\n"
    )
    with pytest.raises(InputError, match=r"layer 'stray' lies apart.*layers.stray"):
        build_twin(tmp_path / "m.yaml")


# -- the optional basemap --------------------------------------------------------------------


@pytest.fixture(scope="module")
def districts_pmtiles(montpellier: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Montpellier's districts and streets as vector tiles (PMTiles, GDAL), zooms 11 to 13."""
    from .io._tiles import montpellier_frame, vector_archive

    frames = [montpellier_frame(montpellier, w) for w in ("districts", "streets")]
    return vector_archive(tmp_path_factory.mktemp("bm") / "fond.pmtiles", frames, range(11, 14))


def basemap_manifest(tmp_path: Path, montpellier: Path, basemap: str) -> Path:
    """A manifest of Montpellier's districts with the given ``basemap:`` entry (YAML)."""
    src = montpellier / "VilleMTP_MTP_Quartiers/VilleMTP_MTP_Quartiers.geojson"
    return write(
        tmp_path,
        f"name: Montpellier\nlayers:\n  districts: {{loader: vector, source: {src}}}\n{basemap}",
    )


BASEMAP = """basemap:
  source: {source}
  attribution: "Ville de Montpellier, Licence Ouverte 2.0"
  licence: etalab-2.0
  producer: Ville de Montpellier
  retrieved: 2014-05-20
  description: districts and streets
"""


def test_basemap_recorded_by_reference(
    tmp_path: Path, montpellier: Path, districts_pmtiles: Path, capsys: pytest.CaptureFixture
) -> None:
    """The basemap's file is checked at build and recorded by its resolved path, size and
    modification time, not copied; the record survives the twin's directory and tells when
    the file changes or goes."""
    import os
    import shutil

    import numpy as np

    from twin.cli import main
    from twin.model.basemap import twin_basemap

    from .io._tiles import montpellier_frame

    local = shutil.copy(districts_pmtiles, tmp_path / "fond.pmtiles")  # beside the manifest
    m = basemap_manifest(tmp_path, montpellier, BASEMAP.format(source="fond.pmtiles"))
    build(m, tmp_path / "twin")
    t = open_twin(tmp_path / "twin")
    b = twin_basemap(t.meta)
    assert b is not None and b.check() is None
    st = os.stat(local)
    assert (b.path, b.size_bytes, b.mtime_ns) == (
        str(Path(local).resolve()),
        st.st_size,
        st.st_mtime_ns,
    )
    assert (b.format, b.tile_type, b.kind, b.minzoom, b.maxzoom) == (
        "pmtiles",
        "pbf",
        "vector",
        11,
        13,
    )
    # the box of what the tiles were made from (GDAL writes it to 1e-7 degrees)
    frames = [montpellier_frame(montpellier, w) for w in ("districts", "streets")]
    box = np.array([f.total_bounds for f in frames])
    want = [*box[:, :2].min(axis=0), *box[:, 2:].max(axis=0)]
    assert np.allclose(b.bounds, want, atol=1e-6), (b.bounds, want)
    p = b.provenance
    assert (p.source, p.licence, p.producer, p.retrieved) == (
        "fond.pmtiles",
        "etalab-2.0",
        "Ville de Montpellier",
        "2014-05-20",
    )
    assert b.attribution == "Ville de Montpellier, Licence Ouverte 2.0" and p.derived == {}
    assert b.description == "districts and streets"
    # not copied: the twin directory holds no file of the archive's size
    sizes = [f.stat().st_size for f in (tmp_path / "twin").rglob("*") if f.is_file()]
    assert st.st_size not in sizes
    # `twin info` says where it is and under which licence
    assert main(["info", str(tmp_path / "twin")]) == 0
    out = capsys.readouterr().out
    assert "basemap        pmtiles pbf, zoom 11–13  etalab-2.0" in out and b.path in out
    # the file touched, then gone
    os.utime(local, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert b.check() == "changed"
    os.remove(local)
    assert b.check() == "missing"


def test_bad_basemaps_are_refused_at_build(
    tmp_path: Path, montpellier: Path, shared_data: Path, districts_pmtiles: Path
) -> None:
    """A missing file, a file that is no tile archive and tiles of another territory are
    refused at build, naming the file and the fix; a basemap without attribution or with an
    unknown field is a manifest problem."""
    from twin.errors import BasemapError

    from .io._tiles import raster_mbtiles

    def refused(entry: str, *what: str) -> None:
        with pytest.raises(BasemapError) as err:
            build_twin(basemap_manifest(tmp_path, montpellier, entry))
        text = str(err.value)
        assert all(w in text for w in what) and "Fix: " in text, text

    refused(BASEMAP.format(source="absent.pmtiles"), str(tmp_path / "absent.pmtiles"), "not found")
    geojson = montpellier / "VilleMTP_MTP_Quartiers/VilleMTP_MTP_Quartiers.geojson"
    refused(BASEMAP.format(source=geojson), str(geojson), "neither an MBTiles nor a PMTiles")
    # tiles of Épinay-sur-Orge (Essonne), 600 km from Montpellier
    import geopandas as gpd

    parcels = gpd.read_file(shared_data / "cadastre" / "cadastre-91216-parcelles.json")
    raster_mbtiles(tmp_path / "epinay.mbtiles", parcels.head(200), range(13, 15), (90, 90, 90))
    refused(
        BASEMAP.format(source="epinay.mbtiles"),
        str(tmp_path / "epinay.mbtiles"),
        "away from the twin",
        "basemap of this territory",
    )
    with pytest.raises(SchemaError) as err:
        read_manifest_file(
            basemap_manifest(
                tmp_path,
                montpellier,
                f"basemap: {{source: {districts_pmtiles}, licence: x, producer: y, "
                "retrieved: 2020-01-01, url: 'https://tiles.example/{z}/{x}/{y}.png'}\n",
            )
        )
    assert "basemap.attribution: Field required" in str(err.value)
    assert "basemap.url: unknown field" in str(err.value)
    with pytest.raises(InputError, match="not installed"):
        build_twin(
            basemap_manifest(
                tmp_path, montpellier, BASEMAP.format(source="pkg://no_such_pkg/x.pmtiles")
            )
        )
