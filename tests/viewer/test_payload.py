"""Binary layer payloads decode to the right geometry and colours."""

from __future__ import annotations

import base64

import geopandas as gpd
import numpy as np
import shapely

from twin.viewer import payload as pl


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
    rgba, legend = pl.colours(np.array([-2.0, 0.0, 1.0, np.nan]), diverging=True)
    assert legend["min"] == -2 and legend["max"] == 2
    assert tuple(rgba[1, :3]) == (230, 230, 230)  # zero is neutral grey
    assert tuple(rgba[3, :3]) == (160, 160, 160)  # NaN is grey


def test_metric_picker_columns_and_recolour() -> None:
    import pandas as pd

    from twin.viewer.app import numeric_columns, unit_of

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
