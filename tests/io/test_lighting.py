"""Street-lighting inventory: the 29,969 Montpellier supports, OSM tags, exact defaults, and
bad inputs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from twin.errors import InputError, SchemaError
from twin.io.lighting import (
    EFFICACY_LM_W,
    LAMP_DEFAULTS,
    lamps_from_osm,
    read_lighting_inventory,
)
from twin.io.registry import get_loader
from twin.model.provenance import Provenance

MTP = "VilleMTP_MTP_EclairagePublic/VilleMTP_MTP_EclairagePublic.zip"


@pytest.fixture(scope="module")
def mtp_lamps(montpellier: Path):
    ld = get_loader("lighting.inventory")
    opts = ld.validate_options(
        {"encoding": "latin-1", "mapping": {"lamp_type": "type_lante"}}, "layers.lights"
    )
    return ld.func(montpellier / MTP, **opts)


def test_montpellier_supports(mtp_lamps) -> None:
    gdf, prov = mtp_lamps.data, mtp_lamps.provenance
    assert mtp_lamps.kind == "vector"
    assert len(gdf) == 29969 and gdf.index.is_unique
    assert gdf.crs.to_epsg() == 2154  # IGNF "RGF93 Lambert 93" normalised
    assert gdf["lamp_type_source"].value_counts(dropna=False).to_dict() == {
        "LANTERNE": 22594,
        "LUMINAIRE AMBIANCE": 3888,
        "PROJECTEUR": 1689,
        "ENCASTRE": 1017,
        "BORNE COLONNE": 750,
        None: 27,
        "Luminaire en applique": 3,
        "Lanterne": 1,
    }
    assert gdf["lamp_type"].value_counts().to_dict() == {
        "lantern": 22595,
        "ambient": 3888,
        "floodlight": 1689,
        "recessed": 1017,
        "bollard": 750,
        "unknown": 27,
        "wall": 3,
    }
    assert prov.counts["lamps_lantern"] == 22595
    # the file has no wattage: every power is filled, and marked as assumed
    assert gdf["power_w"].notna().all() and (gdf["power_w"] > 0).all()
    assert gdf["assumed"].str.split(",").map(lambda a: "power_w" in a).all()
    assert prov.counts["filled_power_w"] == 29969
    assert prov.derived["power_w"].startswith("ASSUMED where missing (29969 lamps)")
    for f in ("flux_lm", "lamp_technology", "mounting_height_m", "photometry", "schedule"):
        assert prov.counts[f"filled_{f}"] == 29969 and "ASSUMED" in prov.derived[f]
    by_type = gdf.groupby("lamp_type")["power_w"].first().to_dict()
    assert by_type == {
        "lantern": 100.0,
        "ambient": 70.0,
        "floodlight": 150.0,
        "recessed": 35.0,
        "bollard": 32.0,
        "wall": 70.0,
        "unknown": 100.0,
    }
    assert gdf["power_w"].sum() == pytest.approx(2_847_515.0)  # ≈ 2.85 MW installed
    assert gdf["circuit"].isna().all() and gdf["cabinet"].isna().all()  # never invented
    assert list(gdf.columns[:4]) == ["lamp_type", "lamp_type_source", "lamp_technology", "power_w"]


def test_defaults_table_is_consistent() -> None:
    for fam, d in LAMP_DEFAULTS.items():
        power = d["flux_lm"] / EFFICACY_LM_W[d["lamp_technology"]]
        assert 20 <= power <= 250, fam
        assert d["mounting_height_m"] >= 0


def test_known_values_kept_and_flux_from_power(tmp_path: Path) -> None:
    p = tmp_path / "lamps.csv"
    p.write_text(
        "num,type,techno,puissance,hauteur,armoire,X,Y\n"
        "1,LANTERNE,LED,40,6,ARM-01,770000,6280000\n"
        "2,PROJECTEUR,,,,ARM-01,770010,6280000\n"
        "3,Lanterne,sodium haute pression,,10,,770020,6280000\n",
        encoding="utf-8",
    )
    gdf, prov = read_lighting_inventory(
        p,
        crs="EPSG:2154",
        x="X",
        y="Y",
        id="num",
        mapping={
            "lamp_type": "type",
            "lamp_technology": "techno",
            "power_w": "puissance",
            "mounting_height_m": "hauteur",
            "cabinet": "armoire",
        },
    )
    assert list(gdf.index) == ["1", "2", "3"]
    one, two, three = gdf.loc["1"], gdf.loc["2"], gdf.loc["3"]
    assert (one["lamp_technology"], one["power_w"], one["mounting_height_m"]) == ("led", 40, 6)
    assert one["flux_lm"] == 40 * 120.0  # power × LED efficacy
    assert one["assumed"] == "light_count,flux_lm,photometry,schedule"
    assert one["cabinet"] == "ARM-01" and one["photometry"] == "road"
    assert (two["lamp_type"], two["lamp_technology"]) == ("floodlight", "metal_halide")
    assert two["power_w"] == 150.0 and two["flux_lm"] == 12750.0
    assert two["mounting_height_m"] == 6.0
    assert (three["lamp_type"], three["lamp_technology"], three["power_w"]) == (
        "lantern",
        "hps",
        100.0,
    )
    assert three["mounting_height_m"] == 10.0
    assert prov.counts["filled_power_w"] == 2 and prov.counts["filled_flux_lm"] == 3
    assert "power_w × efficacy" in prov.derived["flux_lm"]
    assert "flux of the lamp family" in prov.derived["flux_lm"]
    assert "mounting_height_m" in prov.derived and prov.counts["filled_mounting_height_m"] == 1


def test_user_defaults_override(tmp_path: Path) -> None:
    p = tmp_path / "l.geojson"
    gpd.GeoDataFrame(
        {"kind": ["LANTERNE"]}, geometry=[shapely.Point(3.88, 43.61)], crs=4326
    ).to_file(p)
    gdf, _ = read_lighting_inventory(
        p,
        mapping={"lamp_type": "kind"},
        defaults={"lantern": {"lamp_technology": "led", "flux_lm": 6000}},
    )
    assert gdf["power_w"].iloc[0] == 50.0 and gdf["lamp_technology"].iloc[0] == "led"
    with pytest.raises(SchemaError, match="unknown lamp family 'lamppost'"):
        read_lighting_inventory(p, defaults={"lamppost": {"flux_lm": 1}})


def test_lamps_from_osm() -> None:
    tags = gpd.GeoDataFrame(
        {
            "lamp_type": ["electric", "sodium", None, None],
            "light:method": ["LED", None, "mercury", None],
            "light:count": ["2", None, None, None],
            "lamp_mount": ["bent_mast", "wall", None, "straight_mast"],
            "height": ["5 m", None, "4", None],
            "ref": ["E1", "E2", "E3", None],
        },
        geometry=[shapely.Point(24.94 + i / 1000, 60.17) for i in range(4)],
        crs=4326,
        index=["node/1", "node/2", "node/3", "node/4"],
    )
    prov = Provenance(source="osm")
    out = lamps_from_osm(tags, prov)
    assert list(out.index) == list(tags.index)
    assert out["lamp_type"].tolist() == ["lantern", "wall", "unknown", "lantern"]
    assert out["lamp_technology"].tolist() == ["led", "hps", "mercury", "hps"]
    assert out["light_count"].tolist() == [2.0, 1.0, 1.0, 1.0]
    assert out["mounting_height_m"].tolist() == [5.0, 4.0, 4.0, 8.0]
    # two LED lanterns: 2 × 10,000 lm at 120 lm/W
    assert out.loc["node/1", "flux_lm"] == 20000.0
    assert out.loc["node/1", "power_w"] == pytest.approx(20000 / 120)
    assert out.loc["node/3", "power_w"] == 10000 / 50  # mercury at the family's flux
    assert out["ref"].tolist()[:3] == ["E1", "E2", "E3"]
    assert prov.counts["filled_power_w"] == 4 and prov.counts["filled_lamp_technology"] == 1


# -- bad input ------------------------------------------------------------------------------
def test_negative_power_names_rows(tmp_path: Path) -> None:
    p = tmp_path / "neg.csv"
    p.write_text("id,P,x,y\na,70,770000,6280000\nb,-150,770010,6280000\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_lighting_inventory(p, crs=2154, x="x", y="y", id="id", mapping={"power_w": "P"})
    text = str(exc.value)
    assert "negative values of 'power_w' (rows [2], ids ['b'])" in text
    assert str(p) in text and "Fix:" in text


def test_missing_mapped_column(montpellier: Path) -> None:
    with pytest.raises(SchemaError) as exc:
        read_lighting_inventory(
            montpellier / MTP, encoding="latin-1", mapping={"power_w": "PUISSANCE"}
        )
    text = str(exc.value)
    assert "['PUISSANCE'] not found" in text and "['type_lante']" in text


def test_csv_without_crs_or_coordinates(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text("type,x,y\nLANTERNE,770000,6280000\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="needs its geometry columns"):
        read_lighting_inventory(p, crs=2154)
    with pytest.raises(InputError, match="coordinate reference system"):
        read_lighting_inventory(p, x="x", y="y")
    gdf, _ = read_lighting_inventory(p, crs=2154, x="x", y="y", mapping={"lamp_type": "type"})
    assert gdf.geometry.iloc[0].equals(shapely.Point(770000, 6280000))
    assert gdf["lamp_type"].iloc[0] == "lantern"


def test_non_point_and_non_numeric(tmp_path: Path) -> None:
    p = tmp_path / "poly.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(3.8, 43.6, 3.81, 43.61)], crs=4326).to_file(p)
    with pytest.raises(InputError, match=r"light points expected, found \['Polygon'\]"):
        read_lighting_inventory(p)
    q = tmp_path / "nn.csv"
    q.write_text("h,x,y\nhaut,770000,6280000\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'mounting_height_m' are not numbers \(rows \[1\]"):
        read_lighting_inventory(q, crs=2154, x="x", y="y", mapping={"mounting_height_m": "h"})
