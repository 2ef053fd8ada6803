"""Sensor series: Montpellier traffic counts placed on street arcs, synthetic CSV and
SensorThings files with exact values, and bad inputs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from twin.errors import CRSError, InputError, SchemaError
from twin.io.registry import get_loader
from twin.io.sensors import read_sensor_csv, read_sensorthings, variable_name
from twin.io.vector import read_csv_table

COUNTS = "VilleMTP_MTP_Comptage/VilleMTP_MTP_Comptage.csv"
LINKS = "VilleMTP_MTP_Comptage/VilleMTP_MTP_FilaireComptage.xls"
ARCS = "VilleMTP_MTP_FilaireVoies/VilleMTP_MTP_FilaireVoies.zip"

# Montpellier counts: each row is one week-long count in one direction. Its IDENT is
# "<street code>TR<IDENTSIG>" and IDENTSIG is the IDARC of the counted street arc. A sensor is
# a (arc, direction) pair, placed at the arc's midpoint; repeated counts of one arc and
# direction in the same week (several counters) are averaged.
MTP_OPTIONS: dict[str, Any] = dict(
    encoding="latin-1",
    sensors_id="IDARC",
    sensors_encoding="latin-1",
    sensor_column=["IDENTSIG", "SENS"],
    time_column="DDEBUT",
    time_format="%d/%m/%y",
    value_columns={"flow_veh_day": "TJM"},
    attributes=["NOM"],
    duplicates="mean",
    unplaced="drop",
)


@pytest.fixture(scope="module")
def mtp_counts(montpellier: Path):
    return read_sensor_csv(montpellier / COUNTS, sensors=montpellier / ARCS, **MTP_OPTIONS)


def test_montpellier_join_is_defensible(montpellier: Path) -> None:
    """IDENTSIG is the arc id: the street code in IDENT agrees with the arc's CODE_VOIE."""
    counts = read_csv_table(montpellier / COUNTS, encoding="latin-1")
    assert len(counts) == 3314
    assert "IDENTSIG" in counts.columns and "OBJECTID" in counts.columns  # dBASE suffix gone
    ident = counts["IDENT"].str.extract(r"^(\d+)TR(\d*)$")
    assert ident[0].notna().all()
    assert (ident[1] == counts["IDENTSIG"]).sum() == 3290
    arcs = gpd.read_file(f"/vsizip/{montpellier / ARCS}", encoding="ISO-8859-1")
    code = dict(zip(arcs["IDARC"].astype(str), arcs["CODE_VOIE"].astype(int), strict=True))
    on_arc = counts["IDENTSIG"].isin(code.keys())
    assert on_arc.sum() == 3159
    agree = counts.loc[on_arc, "IDENTSIG"].map(code) == ident.loc[on_arc, 0].astype(int)
    assert agree.sum() == 3132  # 99.1 %: the other 27 arcs were renamed/renumbered since
    # The publisher's link table lists the counted arcs; 9 more ids are arcs no longer in
    # the centre-line file, and placeholders (0, 9999, 99999) are in neither.
    with warnings.catch_warnings():  # pandas 3 deprecates xlrd; it still reads .xls
        warnings.simplefilter("ignore")
        links = pd.read_excel(montpellier / LINKS, engine="xlrd")
    links.columns = [c.split(",")[0] for c in links.columns]
    assert len(links) == 7644
    assert counts["IDENTSIG"].isin(links["IDARC"].astype(str)).sum() == 3168


def test_montpellier_counts_series(mtp_counts, montpellier: Path) -> None:
    series, prov = mtp_counts
    ds, pts = series.data, series.points
    assert set(ds.dims) == {"sensor", "time"}
    assert list(ds.data_vars) == ["flow_veh_day"]
    assert ds.sizes["sensor"] == 2527 and ds.sizes["time"] == 698
    assert pts.index.equals(pd.Index(ds["sensor"].values))
    assert pts["site"].nunique() == 1172  # street arcs carrying a count
    assert pts.crs.to_epsg() == 2154
    # rows: 3,314 = 2,975 kept + 184 averaged into others + 155 on no known arc
    assert prov.counts["rows"] == 2975
    assert prov.counts["duplicate_rows_combined"] == 184
    assert prov.counts["unplaced_rows"] == 155 and prov.counts["unplaced_sensors"] == 126
    assert 2975 + 184 + 155 == 3314
    assert int(ds["flow_veh_day"].count()) == 2975
    # the publisher says 1997-2013, but 89 counts started in 1996
    assert str(ds["time"].values.min())[:10] == "1996-01-16"
    assert str(ds["time"].values.max())[:10] == "2013-10-14"
    assert prov.derived["geometry"].startswith("sensor position = midpoint")
    # one sensor followed over time: Avenue de la Justice de Castelnau, arc 3087
    s = ds["flow_veh_day"].sel(sensor="3087/Saint Lazare-Ferran").dropna("time")
    assert s.values.tolist() == [3246.0, 3200.0, 1736.0, 1018.0]
    assert str(s["time"].values[0])[:10] == "2011-03-21"
    assert pts.loc["3087/Saint Lazare-Ferran", "NOM"] == "Avenue de la Justice de Castelnau"
    # its position is the arc's midpoint along the line
    arcs = gpd.read_file(f"/vsizip/{montpellier / ARCS}", encoding="ISO-8859-1")
    line = arcs.loc[arcs["IDARC"] == 3087].geometry.iloc[0]
    mid = line.interpolate(line.length / 2)
    assert pts.loc["3087/Saint Lazare-Ferran"].geometry.distance(mid) < 1e-6
    # the same count recorded twice (2941 vehicles/day) stays 2941 after averaging
    assert float(
        ds["flow_veh_day"].sel(sensor="2596/Badie-Poitiers", time="2013-03-18")
    ) == pytest.approx(2941.0)


def test_montpellier_through_registry(montpellier: Path) -> None:
    ld = get_loader("sensors.csv")
    opts = ld.validate_options(
        {**MTP_OPTIONS, "layout": "long", "sensors": str(montpellier / ARCS)}, "layers.counts"
    )
    layer = ld.func(montpellier / COUNTS, **opts)
    assert layer.kind == "series" and layer.count == 2527
    assert layer.crs is not None and layer.crs.to_epsg() == 2154


# -- synthetic ------------------------------------------------------------------------------
def test_long_csv_with_coordinates(tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    p.write_text(
        "sensor;time;temp_c;flow_veh_h;x;y\n"
        "A;2024-05-01T10:00:00;20,5;100;770000;6280000\n"
        "A;2024-05-01T11:00:00;21.0;;770000;6280000\n"
        "B;2024-05-01T10:00:00;19.0;50;771000;6281000\n",
        encoding="utf-8",
    )
    series, prov = read_sensor_csv(p, x="x", y="y", crs="EPSG:2154")
    ds = series.data
    assert list(ds["sensor"].values) == ["A", "B"]
    assert ds.sizes["time"] == 2
    assert set(ds.data_vars) == {"temp_c", "flow_veh_h"}
    assert ds["temp_c"].sel(sensor="A").values.tolist() == [20.5, 21.0]
    assert ds["flow_veh_h"].sel(sensor="A").values[0] == 100.0
    assert np.isnan(ds["flow_veh_h"].sel(sensor="A").values[1])
    assert np.isnan(ds["temp_c"].sel(sensor="B").values[1])  # B has no 11:00 reading
    assert series.points.loc["B"].geometry.equals(shapely.Point(771000, 6281000))
    assert series.points.crs.to_epsg() == 2154
    assert prov.counts == {"rows": 3, "sensors": 2, "times": 2}


def test_long_csv_lonlat_and_timezones(tmp_path: Path) -> None:
    p = tmp_path / "tz.csv"
    p.write_text(
        "id,when,no2_ug_m3,lon,lat\n"
        "s1,2024-01-01T01:00:00+01:00,12,3.87,43.61\n"
        "s1,2024-01-01T01:00:00Z,14,3.87,43.61\n",
        encoding="utf-8",
    )
    series, _ = read_sensor_csv(p, sensor_column="id", time_column="when", lon="lon", lat="lat")
    times = [str(t)[:19] for t in series.data["time"].values]
    assert times == ["2024-01-01T00:00:00", "2024-01-01T01:00:00"]  # converted to UTC
    assert series.points.crs.to_epsg() == 4326
    assert series.data["no2_ug_m3"].values.tolist() == [[12.0, 14.0]]


def test_wide_csv_with_points_file(tmp_path: Path) -> None:
    (tmp_path / "pts.csv").write_text(
        "code,X,Y\nC1,770001.0,6280002.0\nC2,770003.0,6280004.0\n", encoding="utf-8"
    )
    p = tmp_path / "wide.csv"
    p.write_text("date,C1,C2\n01/02/2024,5,7\n02/02/2024,6,\n03/02/2024,,9\n", encoding="utf-8")
    series, prov = read_sensor_csv(
        p,
        layout="wide",
        sensors="pts.csv",
        sensors_id="code",
        x="X",
        y="Y",
        crs=2154,
        time_column="date",
        time_format="%d/%m/%Y",
        variable="flow_veh_h",
    )
    da = series.data["flow_veh_h"]
    assert da.dims == ("sensor", "time")
    assert np.array_equal(
        da.values, np.array([[5.0, 6.0, np.nan], [7.0, np.nan, 9.0]]), equal_nan=True
    )
    assert str(series.data["time"].values[2])[:10] == "2024-02-03"
    assert series.points.loc["C2"].geometry.equals(shapely.Point(770003.0, 6280004.0))
    assert prov.counts["sensors"] == 2


def test_duplicates_combined_or_refused(tmp_path: Path) -> None:
    p = tmp_path / "dup.csv"
    p.write_text(
        "sensor,time,v,x,y\nA,2024-01-01,1,770000,6280000\nA,2024-01-01,3,770000,6280000\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        read_sensor_csv(p, x="x", y="y", crs=2154)
    assert "(sensor, time)" in str(exc.value) and "'A'" in str(exc.value)
    assert "rows [2, 3]" in str(exc.value) and "duplicates: mean" in str(exc.value)
    s, prov = read_sensor_csv(p, x="x", y="y", crs=2154, duplicates="sum")
    assert float(s.data["v"].squeeze()) == 4.0
    assert prov.counts["duplicate_rows_combined"] == 1 and "sum" in prov.derived["v"]


def _sensorthings_doc() -> dict:
    def obs(t: str, v: object) -> dict:
        return {"@iot.id": t, "phenomenonTime": t, "resultTime": t, "result": v}

    return {
        "@iot.count": 2,
        "value": [
            {
                "@iot.id": 1,
                "name": "Station Comédie",
                "description": "air quality",
                "Locations": [
                    {
                        "name": "Comédie",
                        "encodingType": "application/geo+json",
                        "location": {"type": "Point", "coordinates": [3.8797, 43.6086]},
                    }
                ],
                "Datastreams": [
                    {
                        "@iot.id": 11,
                        "name": "Air temperature",
                        "unitOfMeasurement": {
                            "name": "degree Celsius",
                            "symbol": "°C",
                            "definition": "http://unitsofmeasure.org/ucum.html#para-30",
                        },
                        "observationType": "http://www.opengis.net/def/observationType/"
                        "OGC-OM/2.0/OM_Measurement",
                        "ObservedProperty": {"name": "Temperature", "definition": "x"},
                        "Observations": [
                            obs("2024-07-01T12:00:00Z", 31.5),
                            obs("2024-07-01T13:00:00Z", 32.25),
                        ],
                    },
                    {
                        "@iot.id": 12,
                        "name": "NO2",
                        "unitOfMeasurement": {"name": "microgram per m3", "symbol": "µg/m³"},
                        "ObservedProperty": {"name": "NO2"},
                        "Observations": [
                            {
                                "phenomenonTime": "2024-07-01T12:00:00Z/2024-07-01T13:00:00Z",
                                "result": 18,
                            }
                        ],
                    },
                ],
            },
            {
                "@iot.id": "thing-2",
                "name": "Station Antigone",
                "Locations": [
                    {
                        "encodingType": "application/vnd.geo+json",
                        "location": {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [3.8900, 43.6080]},
                        },
                    }
                ],
                "Datastreams": [
                    {
                        "unitOfMeasurement": {"symbol": "°C"},
                        "ObservedProperty": {"name": "Temperature"},
                        "Observations": [obs("2024-07-01T13:00:00+02:00", 29.0)],
                    }
                ],
            },
        ],
    }


def test_sensorthings(tmp_path: Path) -> None:
    p = tmp_path / "sta.json"
    p.write_text(json.dumps(_sensorthings_doc()), encoding="utf-8")
    series, prov = read_sensorthings(p)
    ds = series.data
    assert list(ds["sensor"].values) == ["1", "thing-2"]
    assert sorted(str(v) for v in ds.data_vars) == ["no2_ug_m3", "temperature_c"]
    assert ds["temperature_c"].attrs["units"] == "°C"
    t = ds["temperature_c"].sel(sensor="1").dropna("time")
    assert t.values.tolist() == [31.5, 32.25]
    # 13:00+02:00 is 11:00 UTC
    t2 = ds["temperature_c"].sel(sensor="thing-2").dropna("time")
    assert [str(v)[:16] for v in t2["time"].values] == ["2024-07-01T11:00"]
    assert float(ds["no2_ug_m3"].sel(sensor="1", time="2024-07-01T12:00")) == 18.0
    assert prov.derived["time"].startswith("start of the phenomenonTime")
    assert prov.counts["observations"] == 4
    assert series.points.crs.to_epsg() == 4326
    assert series.points.loc["thing-2"].geometry.equals(shapely.Point(3.89, 43.608))
    only, _ = read_sensorthings(p, observed_property="NO2")
    assert list(only.data.data_vars) == ["no2_ug_m3"]
    layer = get_loader("sensors.sensorthings").func(p)
    assert layer.kind == "series" and layer.count == 2


def test_variable_names() -> None:
    assert variable_name("Temperature", "°C") == "temperature_c"
    assert variable_name("PM10", "µg/m³") == "pm10_ug_m3"
    assert variable_name("Traffic flow", "veh/h") == "traffic_flow_veh_h"
    assert variable_name("Noise level", None) == "noise_level"


# -- bad input ------------------------------------------------------------------------------
@pytest.fixture
def simple_csv(tmp_path: Path) -> Path:
    p = tmp_path / "c.csv"
    p.write_text(
        "sensor,time,v,x,y\nA,2024-01-01,1,770000,6280000\nB,2024-01-02,2,770100,6280100\n",
        encoding="utf-8",
    )
    return p


def test_unknown_layout(simple_csv: Path) -> None:
    with pytest.raises(SchemaError, match=r"unknown layout 'tall'.*layout: long"):
        read_sensor_csv(simple_csv, layout="tall")
    with pytest.raises(SchemaError, match="layout"):
        get_loader("sensors.csv").validate_options({"layout": "tall"}, "layers.x.options")


@pytest.mark.parametrize(
    ("option", "col", "role"),
    [("time_column", "date", "time_column"), ("sensor_column", "station", "sensor_column")],
)
def test_missing_columns(simple_csv: Path, option: str, col: str, role: str) -> None:
    with pytest.raises(SchemaError) as exc:
        read_sensor_csv(simple_csv, x="x", y="y", crs=2154, **{option: col})
    text = str(exc.value)
    assert f"['{col}'] not found" in text and str(simple_csv) in text
    assert "['sensor', 'time', 'v', 'x', 'y']" in text and role in text


def test_unparseable_dates(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text(
        "sensor,time,v,x,y\nA,2024-01-01,1,770000,6280000\nA,31/31/2024,2,770000,6280000\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        read_sensor_csv(p, x="x", y="y", crs=2154)
    text = str(exc.value)
    assert "rows [3]" in text and "'31/31/2024'" in text and "field 'time'" in text
    assert "time_format" in text


def test_sensor_without_position(tmp_path: Path, simple_csv: Path) -> None:
    (tmp_path / "pts.csv").write_text("sensor,x,y\nA,770000,6280000\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_sensor_csv(simple_csv, sensors=tmp_path / "pts.csv", x="x", y="y", crs=2154)
    assert "1 sensors have no position (ids ['B'])" in str(exc.value)
    assert "unplaced: drop" in str(exc.value)
    s, prov = read_sensor_csv(
        simple_csv, sensors=tmp_path / "pts.csv", x="x", y="y", crs=2154, unplaced="drop"
    )
    assert list(s.data["sensor"].values) == ["A"] and prov.counts["unplaced_sensors"] == 1


def test_no_positions_at_all(simple_csv: Path) -> None:
    with pytest.raises(SchemaError, match=r"positions are unknown.*sensors: file"):
        read_sensor_csv(simple_csv)
    with pytest.raises(CRSError, match="crs:"):
        read_sensor_csv(simple_csv, x="x", y="y")


def test_wrong_encoding(montpellier: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_sensor_csv(
            montpellier / COUNTS,
            sensor_column="IDENTSIG",
            time_column="DDEBUT",
            sensors=montpellier / ARCS,
            sensors_id="IDARC",
        )
    text = str(exc.value)
    assert "not valid utf-8" in text and "line 2" in text and "encoding: latin-1" in text


def test_non_numeric_value(tmp_path: Path) -> None:
    p = tmp_path / "n.csv"
    p.write_text("sensor,time,v,x,y\nA,2024-01-01,abc,770000,6280000\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"non-numeric values in field 'v' \(rows \[2\]"):
        read_sensor_csv(p, x="x", y="y", crs=2154, value_columns=["v"])


def test_sensorthings_bad_inputs(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{"value": [', encoding="utf-8")
    with pytest.raises(InputError, match=r"invalid JSON.*line 1"):
        read_sensorthings(p)
    doc = _sensorthings_doc()
    doc["value"][1]["Locations"] = []
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match=r"ids \['thing-2'\]"):
        read_sensorthings(p)
    with pytest.raises(SchemaError, match=r"no datastream observes \['PM10'\].*'NO2'"):
        read_sensorthings(p, observed_property="PM10")
    doc["value"][0]["Datastreams"][0]["Observations"][0]["result"] = "high"
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match=r"non-numeric results.*'high'.*Thing '1'"):
        read_sensorthings(p, unplaced="drop")
