"""Interventions change a copy of the twin, and only what they target."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import wntr

from twin import Layer, Twin
from twin.errors import SchemaError
from twin.io.epanet import read_epanet
from twin.scenario.schema import Scenario
from twin.sims.interventions import apply_interventions
from twin.store.twinstore import open_twin

FRACTIONS = ("roof", "road", "concrete", "water", "trees", "grass", "irrigated_grass")
ESPLANADI = {
    "type": "Polygon",
    "coordinates": [
        [
            [24.9440, 60.1670],
            [24.9530, 60.1666],
            [24.9533, 60.1680],
            [24.9443, 60.1684],
            [24.9440, 60.1670],
        ]
    ],
}


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> Twin:
    return open_twin(demo_dir)


def apply(twin: Twin, *ivs: dict) -> tuple[Twin, list[str]]:
    sc = Scenario.from_dict({"name": "t", "interventions": list(ivs)})
    work = twin.copy()
    return work, apply_interventions(work, sc.interventions)


def test_close_by_attribute_never_touches_parent(demo: Twin) -> None:
    work, done = apply(
        demo,
        {"type": "close_links", "target": {"layer": "roads", "where": {"name": "Mannerheimintie"}}},
    )
    links = work["roads"].links
    hit = links["name"] == "Mannerheimintie"
    assert (
        hit.sum() == 96 and links.loc[hit, "closed"].all() and not links.loc[~hit, "closed"].any()
    )
    assert "closed" not in demo["roads"].links  # the parent is untouched
    assert done == ["closed 96 links of 'roads'"]


def test_targets_by_ids_and_geometry(demo: Twin) -> None:
    ids = demo["roads"].links.index[:3].tolist()
    work, _ = apply(
        demo, {"type": "change_links", "target": {"layer": "roads", "ids": ids}, "speed_kph": 20}
    )
    links = work["roads"].links
    np.testing.assert_allclose(
        links.loc[ids, "free_flow_time_s"], links.loc[ids, "length_m"] / (20 / 3.6)
    )
    work, _ = apply(
        demo, {"type": "pedestrianise", "target": {"layer": "roads", "geometry": ESPLANADI}}
    )
    sel = work["roads"].links["pedestrian"].fillna(False).astype(bool)
    assert 0 < sel.sum() < len(sel)
    with pytest.raises(SchemaError, match="ids are not in layer"):
        apply(demo, {"type": "close_links", "target": {"layer": "roads", "ids": ["nope"]}})
    with pytest.raises(SchemaError, match="field 'colour'"):
        apply(
            demo, {"type": "close_links", "target": {"layer": "roads", "where": {"colour": "red"}}}
        )
    with pytest.raises(SchemaError, match="selects no feature"):
        apply(
            demo,
            {
                "type": "close_links",
                "target": {"layer": "roads", "where": {"name": "Champs-Élysées"}},
            },
        )


def test_roadworks_and_capacity(demo: Twin) -> None:
    t = {"layer": "roads", "where": {"name": "Mannerheimintie"}}
    work, done = apply(
        demo,
        {
            "type": "roadworks",
            "target": t,
            "start": "2027-04-01",
            "end": "2027-06-30",
            "capacity_factor": 0.5,
        },
    )
    a, b = demo["roads"].links, work["roads"].links
    hit = a["name"] == "Mannerheimintie"
    np.testing.assert_allclose(b.loc[hit, "capacity_veh_h"], a.loc[hit, "capacity_veh_h"] * 0.5)
    assert (b.loc[hit, "works_end"] == "2027-06-30").all() and "capacity × 0.5" in done[0]


def test_tree_planting_inside_the_area_only(demo: Twin) -> None:
    work, done = apply(
        demo,
        {
            "type": "plant_trees",
            "target": {"layer": "landcover", "geometry": ESPLANADI},
            "canopy_fraction": 0.5,
        },
    )
    g0, g1 = demo["landcover"], work["landcover"]
    total = sum(g1[c] for c in FRACTIONS)
    np.testing.assert_allclose(total, 1.0, atol=1e-5)
    d = (g1["trees"] - g0["trees"]).to_numpy()
    assert d.min() >= -1e-6 and d.sum() * 100 > 10_000  # > 1 ha of canopy added
    changed = np.argwhere(d > 1e-6)
    xs = g1.x.to_numpy()[changed[:, 1]]
    ys = g1.y.to_numpy()[changed[:, 0]]
    import geopandas as gpd
    import shapely

    area = gpd.GeoSeries([shapely.geometry.shape(ESPLANADI)], crs=4326).to_crs(demo.crs)
    inside = area.buffer(10).iloc[0]  # cells touching the area (10 m cells)
    assert all(inside.contains(shapely.Point(x, y)) for x, y in zip(xs, ys, strict=True))
    np.testing.assert_allclose(g1["roof"], g0["roof"])  # roofs are not planted
    assert "m² of canopy" in done[0]


@pytest.mark.parametrize(
    ("iv", "var", "sign"),
    [
        ({"type": "green_area", "fraction": 1.0}, "grass", 1),
        ({"type": "green_area", "fraction": 1.0, "irrigated": True}, "irrigated_grass", 1),
        ({"type": "desealing", "fraction": 0.5}, "concrete", -1),
        ({"type": "water_surface", "fraction": 0.2}, "water", 1),
        ({"type": "cool_roofs", "albedo": 0.7}, "roof_albedo", 1),
        ({"type": "green_roofs", "fraction": 0.5}, "green_roof_fraction", 1),
    ],
)
def test_heat_interventions(demo: Twin, iv: dict, var: str, sign: int) -> None:
    work, (done,) = apply(demo, {**iv, "target": {"layer": "landcover", "geometry": ESPLANADI}})
    # what it did, in English and French, with the same area [m²]
    area = re.search(r"([\d,]+) m²", done)
    assert area is not None and f"{area.group(1)} m²" in done.fr and done.fr != str(done)
    g1 = work["landcover"]
    before = (
        demo["landcover"][var]
        if var in demo["landcover"]
        else (0.15 if var == "roof_albedo" else 0.0)
    )
    delta = float((g1[var] - before).sum())
    assert sign * delta > 0
    np.testing.assert_allclose(sum(g1[c] for c in FRACTIONS), 1.0, atol=1e-5)


def test_lighting_interventions(demo: Twin) -> None:
    t = {"layer": "street_lamps"}
    work, done = apply(
        demo,
        {
            "type": "dimming_schedule",
            "target": t,
            "schedule": [{"start": "22:00", "level": 0.5}, {"start": "05:30", "level": 1.0}],
        },
        {"type": "switch_off", "target": t, "start": "01:00", "end": "05:00"},
        {"type": "led_retrofit", "target": t, "power_factor": 0.4, "cost_eur_per_lamp": 500},
    )
    lamps = work["street_lamps"]
    assert json.loads(lamps["schedule"].iloc[0]) == [["22:00", 0.5], ["05:30", 1.0]]
    assert json.loads(lamps["switch_off"].iloc[0]) == ["01:00", "05:00"]
    np.testing.assert_allclose(lamps["power_w"], demo["street_lamps"]["power_w"] * 0.4)
    assert (lamps["lamp_technology"] == "led").all() and len(done) == 3
    assert [d.fr.split(" ")[0] for d in done] == ["programme", str(len(lamps)), "passage"]


def test_shopping_centre(demo: Twin) -> None:
    work, done = apply(
        demo,
        {
            "type": "shopping_centre",
            "floor_area_m2": 40000,
            "location": {
                "layer": "shops",
                "geometry": {"type": "Point", "coordinates": [24.94, 60.175]},
            },
        },
    )
    assert len(work["shops"]) == len(demo["shops"]) + 1
    assert work["shops"].iloc[-1]["floor_area_m2"] == 40000 and "40,000 m²" in done[0]


def test_pipe_break_and_substation_outage() -> None:
    inp = Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"
    net, prov = read_epanet(inp, crs="EPSG:32631", schematic=True)
    t = Twin("water", net.links.crs)
    t.add(Layer("water", "network", net, prov))
    pipe = net.links.index[net.links["link_type"] == "pipe"][0]
    work, _ = apply(t, {"type": "pipe_break", "target": {"layer": "water", "ids": [pipe]}})
    assert work["water"].links.loc[pipe, "water_event"] == "break"  # read by the water sim
    assert "water_event" not in t["water"].links
    node = str(net.nodes.index[0])
    work, _ = apply(t, {"type": "substation_outage", "target": {"layer": "water", "ids": [node]}})
    assert not work["water"].nodes.loc[node, "in_service"]
