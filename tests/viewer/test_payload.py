"""Binary layer payloads decode to the right geometry and colours; sensors on the map."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import xarray as xr

from twin.model.layer import Layer
from twin.model.twin import Twin
from twin.viewer import payload as pl

from ._synthetic import sensor_layer

ROOT = Path(__file__).resolve().parents[2]


def dec(s: str, dtype: type) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype=dtype)


def test_polygons_per_vertex_attributes() -> None:
    g = gpd.GeoDataFrame(
        geometry=[
            shapely.box(385000, 6672000, 385010, 6672010),
            shapely.MultiPolygon(
                [
                    shapely.box(385020, 6672000, 385030, 6672010),
                    shapely.box(385040, 6672000, 385050, 6672010),
                ]
            ),
        ],
        crs=32635,
    )
    p = pl.polygons(g, np.array([10.0, 20.0]), np.array([1.0, 2.0]), label="h", unit="m")
    assert p["length"] == 3 and p["count"] == 2
    starts = dec(p["startIndices"], np.uint32)
    pos = dec(p["positions"], np.float32).reshape(-1, 2)
    assert starts.tolist() == [0, 5, 10] and len(pos) == 15
    lon, lat = pos[0]
    assert 24.0 < lon < 25.0 and 60.0 < lat < 60.3  # UTM 35N → WGS 84
    elev = dec(p["elevation"], np.float32)
    assert len(elev) == 15 and elev[:5].tolist() == [10.0] * 5 and elev[5:].tolist() == [20.0] * 10
    rgba = dec(p["colors"], np.uint8).reshape(-1, 4)
    assert len(rgba) == 15 and (rgba[0] != rgba[5]).any()


def test_colours_diverging_centred() -> None:
    rgba, legend = pl.colours(np.array([-2.0, 0.0, 1.0, np.nan]), palette="diverging")
    assert legend["min"] == -2 and legend["max"] == 2
    assert tuple(rgba[1, :3]) == (230, 230, 230)  # zero is neutral grey
    assert tuple(rgba[3, :3]) == (160, 160, 160)  # NaN is grey


def test_results_are_drawn_in_colours_the_context_never_uses() -> None:
    """No colour of a result ramp (or a category) is near a colour of the twin's own layers'
    ramp: a result never reads as a building height or a road speed."""
    v = np.linspace(-1, 1, 201)
    context = pl.colours(v, palette="context")[0][:, :3].astype(int)
    for pal in ("result", "diverging"):
        rgb = pl.colours(v, palette=pal)[0][:, :3].astype(int)
        if pal == "diverging":  # its neutral middle (no change) may be grey; the rest not
            rgb = rgb[np.abs(v) > 0.5]
        gap = np.abs(rgb[:, None, :] - context[None, :, :]).sum(axis=2).min()
        assert gap > 60, (pal, gap)
    cats = pl.colours(np.array([0.0, 1.0]), palette="categorical")[0][:, :3].astype(int)
    assert np.abs(cats[:, None, :] - context[None, :, :]).sum(axis=2).min() > 60


def test_categories_get_one_colour_each_and_a_listed_legend() -> None:
    rgba, legend = pl.colours(np.array([1.0, 0.0, 1.0, np.nan]), palette="categorical")
    assert legend["categories"] == [0.0, 1.0] and len(legend["stops"]) == 2
    assert tuple(rgba[0, :3]) == tuple(rgba[2, :3]) == tuple(legend["stops"][1])
    assert tuple(rgba[1, :3]) == tuple(legend["stops"][0]) != tuple(rgba[0, :3])
    assert tuple(rgba[3, :3]) == (160, 160, 160)
    # a yes/no value that is "yes" everywhere keeps yes's colour (not the first category's)
    only_yes = pl.colours(np.array([1.0, 1.0]), palette="categorical")[0]
    assert tuple(only_yes[0, :3]) == tuple(legend["stops"][1])
    # more values than colours: a sequential ramp, not a recycled palette
    many = pl.colours(np.arange(40.0), palette="categorical")[1]
    assert "categories" not in many and many["min"] == 0 and many["max"] == 39


def test_metric_picker_columns_and_recolour() -> None:
    import pandas as pd

    from twin.viewer.layers import numeric_columns, unit_of

    g = gpd.GeoDataFrame(
        {
            "height_m": [10.0, 20.0],
            "floor_area_m2": [100.0, 900.0],
            "osm_id": [1, 2],
            "a_node": [3, 4],
            "heritage": [True, False],
            "name": ["a", "b"],
        },
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)],
        crs=32635,
        index=pd.Index(["b1", "b2"]),
    )
    assert numeric_columns(g) == ["height_m", "floor_area_m2"]
    assert unit_of("floor_area_m2") == "m²" and unit_of("uhi_max_c") == "°C"
    h = pl.polygons(g, g["height_m"].to_numpy(), g["floor_area_m2"].to_numpy(), label="x", unit="")
    by_height = pl.polygons(
        g, g["height_m"].to_numpy(), g["height_m"].to_numpy(), label="", unit=""
    )
    assert h["legend"]["max"] == 900.0 and by_height["legend"]["max"] == 20.0


# -- sensors ---------------------------------------------------------------------------------
def sensors_twin() -> Twin:
    """A twin of three buildings and the synthetic counters of :func:`sensor_layer`."""
    from twin.model.provenance import Provenance

    t = Twin("sensors", pyproj.CRS.from_epsg(32635))
    b = gpd.GeoDataFrame(
        {"height_m": [9.0, 12.0, 15.0]},
        geometry=[
            shapely.box(385000 + 30 * k, 6671900, 385010 + 30 * k, 6671910) for k in range(3)
        ],
        crs=32635,
        index=pd.Index(["b0", "b1", "b2"], name="id"),
    )
    t.add(Layer("buildings", "vector", b, Provenance("synthetic", producer="test")))
    t.add(sensor_layer(385000.0, 6672000.0, 32635))
    return t


def test_sensors_payload_positions_colours_and_tooltips() -> None:
    from twin.viewer.layers import base_payload
    from twin.viewer.legend import legend_items

    t = sensors_twin()
    (p,) = base_payload(t)["sensors"]  # one payload per series layer
    # S5 has no position: left out; the others in the series' order
    assert p["ids"] == ["S1", "S2", "S3", "S4"] and p["count"] == p["length"] == 4
    assert p["layer"] == "counts" and p["variable"] == "flow_veh_h"  # first numeric variable
    assert p["legend"]["label"] == "flow_veh_h" and p["legend"]["unit"] == "veh/h"
    # positions in lon/lat: UTM 35N → WGS 84, float32 (S2 and S3 share one place)
    lonlat = gpd.GeoSeries(
        shapely.points([385000, 385120, 385120, 385000], [6672000, 6672000, 6672000, 6672120]),
        crs=32635,
    ).to_crs(4326)
    pos = dec(p["positions"], np.float32).reshape(-1, 2)
    assert np.allclose(pos, shapely.get_coordinates(lonlat.to_numpy()), atol=2e-6)
    assert 24.9 < pos[0, 0] < 25.0 and 60.1 < pos[0, 1] < 60.2
    assert (pos[1] == pos[2]).all()
    # colours: the time mean of the flow (NaN skipped) on the ramp from 60 to 400 veh/h
    mean = dec(p["value"], np.float32)
    assert mean[:3].tolist() == [200.0, 60.0, 400.0] and np.isnan(mean[3])
    assert p["legend"]["min"] == 60.0 and p["legend"]["max"] == 400.0
    rgba = dec(p["colors"], np.uint8).reshape(-1, 4)
    assert tuple(rgba[1, :3]) == (68, 1, 84) and tuple(rgba[2, :3]) == (253, 231, 37)
    assert tuple(rgba[3, :3]) == (160, 160, 160)  # no observation: grey
    mid, _ = pl.colours(np.array([200.0]), palette="sensor", vmin=60.0, vmax=400.0)
    assert (rgba[0] == mid[0]).all() and tuple(rgba[0, :3]) not in {(68, 1, 84), (253, 231, 37)}
    # tooltip arrays: observations, first and last times [minutes since 1970]
    assert dec(p["nobs"], np.uint32).tolist() == [3, 2, 1, 0]
    first, last = dec(p["first"], np.int32), dec(p["last"], np.int32)
    at = [str(np.datetime64(int(m), "m")) for m in first[:3]]
    assert at == ["2026-07-15T08:00", "2026-07-15T09:00", "2026-07-15T08:00"]
    at = [str(np.datetime64(int(m), "m")) for m in last[:3]]
    assert at == ["2026-07-15T11:00", "2026-07-15T10:00", "2026-07-15T08:00"]
    assert first[3] == last[3] == pl.NO_TIME
    # the legend names the layer, the variable and that it is averaged over time
    base = base_payload(t)
    en, fr = (legend_items(base, {}, lg)[1].children for lg in ("en", "fr"))
    assert en[0].children == "Sensors (counts) — flow_veh_h, time mean [veh/h]"
    assert fr[0].children == "Capteurs (counts) — flow_veh_h, moyenne dans le temps [véh/h]"
    assert [s.children for s in en[2].children] == ["60", "400"]  # the ramp's range


def test_sensor_summary_ignores_time_order_and_extra_dims() -> None:
    t = pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02"])
    ds = xr.Dataset(
        {"temp_c": (("time", "sensor"), np.array([[3.0, np.nan], [1.0, np.nan], [np.nan, 5.0]]))},
        coords={"time": t, "sensor": ["a", "b"]},
    )
    s = pl.series_summary(ds, "temp_c")
    assert s["mean"].tolist() == [2.0, 5.0] and s["count"].tolist() == [2, 1]
    days = (s["first"] // 1440).tolist(), (s["last"] // 1440).tolist()
    jan1 = int(np.datetime64("2024-01-01", "D").astype(int))
    assert days == ([jan1, jan1 + 1], [jan1 + 2, jan1 + 1])
    # a further dimension (e.g. a measuring height): its first level is shown
    tall = xr.concat([ds["temp_c"], ds["temp_c"] + 10], dim="level").to_dataset()
    assert pl.series_summary(tall, "temp_c")["mean"].tolist() == [2.0, 5.0]
    assert pl.series_variable(ds.assign(flag=(("sensor",), [True, False]))) == "temp_c"
    assert pl.series_variable(ds[[]]) is None


def test_sensors_toggle_legend_and_offline_export(tmp_path: Path) -> None:
    """The layer checklist offers the sensors only for a twin that has some, and the offline
    comparison carries them, visible."""
    from twin.viewer.app import create_app
    from twin.viewer.catalogue import Catalogue
    from twin.viewer.offline import comparison_html

    from ._synthetic import synthetic_run, write_run

    t = sensors_twin()
    t.save(tmp_path / "twin")
    runs = tmp_path / "runs"
    write_run(synthetic_run("ref"), runs)
    client = create_app(tmp_path / "twin", runs, lang="fr").server.test_client()
    layout = client.get("/_dash-layout").get_json()
    text = json.dumps(layout, ensure_ascii=False)
    assert '{"label": "Capteurs", "value": "sensors"}' in text
    assert "Capteurs (counts) — flow_veh_h, moyenne dans le temps [véh/h]" in text
    cat = Catalogue(tmp_path / "twin", runs, t)
    cat.refresh()
    page = comparison_html(cat, "ref-0", "en")
    raw = re.search(r'<script id="twin-data" type="application/json">(.*?)</script>', page, re.S)
    assert raw is not None
    data = json.loads(raw.group(1))
    assert all(v["visible"]["sensors"] for v in data["views"].values())
    assert data["base"]["sensors"][0]["ids"] == ["S1", "S2", "S3", "S4"]
    # a twin without sensors has no such toggle
    t.layers.pop("counts")
    t.save(tmp_path / "plain")
    layout = create_app(tmp_path / "plain", runs).server.test_client().get("/_dash-layout")
    assert '"sensors"' not in json.dumps(layout.get_json())


def test_montpellier_traffic_counts_on_the_map(montpellier: Path) -> None:
    """The real Montpellier counts, loaded as the project's manifest says: one point per
    sensor (an arc and a direction), every one inside the city, with its real mean."""
    from twin.build import load_layer, read_manifest_file
    from twin.viewer.layers import base_payload

    spec, base = read_manifest_file(ROOT / "layers" / "montpellier.yaml")
    layer, _ = load_layer("traffic_counts", spec.layers["traffic_counts"], base)
    t = Twin("Montpellier", layer.crs)
    t.add(layer)
    series = layer.data
    (p,) = base_payload(t)["sensors"]
    assert p["count"] == series.data.sizes["sensor"] == 2527  # every count site, every direction
    pos = dec(p["positions"], np.float32).reshape(-1, 2)
    assert len(pos) == 2527
    assert len({(x, y) for x, y in pos.tolist()}) == series.points["site"].nunique() == 1172
    districts = gpd.read_file(
        montpellier / "VilleMTP_MTP_Quartiers" / "VilleMTP_MTP_Quartiers.geojson"
    )
    w, s, e, n = districts.to_crs(4326).total_bounds
    assert ((pos[:, 0] > w) & (pos[:, 0] < e) & (pos[:, 1] > s) & (pos[:, 1] < n)).all()
    assert p["legend"]["label"] == "flow_veh_day" and p["legend"]["unit"] == "veh/day"
    # Avenue de la Justice de Castelnau, arc 3087: 3246, 3200, 1736 and 1018 vehicles/day
    k = p["ids"].index("3087/Saint Lazare-Ferran")
    assert dec(p["value"], np.float32)[k] == 2300.0
    assert dec(p["nobs"], np.uint32)[k] == 4
    first, last = dec(p["first"], np.int32)[k], dec(p["last"], np.int32)[k]
    assert str(np.datetime64(int(first), "m")) == "2011-03-21T00:00"
    assert str(np.datetime64(int(last), "m")) == "2013-03-18T00:00"
    assert int(dec(p["nobs"], np.uint32).sum()) == 2975  # every kept count


def test_first_view_fits_the_territory() -> None:
    """A city centre keeps the close 3D view; a 30 km network is seen whole (at zoom z a
    pixel spans 156,543 · cos(lat) / 2**z metres: the extent must fit 1,200 × 500 px)."""
    import math

    import pytest

    from twin.viewer.layers import MAX_ZOOM, fit_zoom

    assert fit_zoom((0, 0, 2000, 1500), 60.17) == MAX_ZOOM  # Helsinki's centre
    z = fit_zoom((1051026, 6813748, 1065284, 6830525), 48.5)  # mv_oberrhein, Lambert-93
    m_per_px = 156_543.03 * math.cos(math.radians(48.5)) / 2**z
    assert max(14258 / 1200, 16777 / 500) == pytest.approx(m_per_px)
    assert fit_zoom((0, 0, 4e7, 4e7), 45.0) == 3.0  # never farther than a continent


def test_a_flat_range_is_one_value_not_a_made_up_range() -> None:
    """Every lamp at 100 W: the legend says "100 W everywhere", not "100–101 W"."""
    from twin.viewer.legend import legend_items
    from twin.viewer.payload import colours

    rgba, leg = colours(np.full(5, 100.0))
    assert leg["flat"] and leg["min"] == leg["max"] == 100.0
    assert len({tuple(c) for c in rgba}) == 1
    pts = {"legend": {**leg, "label": "power_w", "unit": "W"}}
    (item,) = legend_items({"lamps": pts}, {}, "fr")
    shown = str(item.children[-1].children)
    assert "100 (partout)" in shown and "101" not in shown


def test_categorical_legend_names_its_categories_in_the_language() -> None:
    from twin.viewer.legend import legend_blocks, legend_html

    g = gpd.GeoDataFrame(
        {"energised": [1.0, 0.0, 1.0]},
        geometry=shapely.points([385000, 385010, 385020], [6672000] * 3),
        crs=32635,
    )
    p = pl.points(g, g["energised"].to_numpy(), label="energised", unit="1", palette="categorical")
    p["legend"]["title"] = {"en": "Energised", "fr": "Sous tension"}
    for lg, names in (("fr", ["non", "oui"]), ("en", ["no", "yes"])):
        (b,) = legend_blocks({}, {"left": {"points": p}}, lg)
        assert [n for n, _ in b.categories] == names
        assert [c for _, c in b.categories] == [tuple(s) for s in p["legend"]["stops"]]
        assert b.unit == ""  # a yes/no value has no unit to show
    out = legend_html([b])
    assert "class='swatch'" in out and ">yes</span>" in out and "class='ramp'" not in out
