"""Model error against air-temperature sensors: real Mawson Lakes stations, edge cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import Point

from twin.errors import InputError
from twin.model.layer import SensorSeries
from twin.sims.heat import datasets as ml
from twin.sims.heat.model import simulate
from twin.sims.heat.sensors import (
    air_temperature_variable,
    bias_offset,
    correct_bias,
    paired_series,
    station_errors,
)


@pytest.fixture(scope="module")
def mawson():
    """TARGET's Mawson Lakes example (real stations, Feb 2011) laid on a regular 1 × 27 grid."""
    surf = ml.read_surface()
    ids = list(surf["station"].to_numpy())
    surf = surf.drop_vars("station").assign_coords(x=10.0 * np.arange(len(ids)) + 5, y=[5.0])
    forcing = ml.read_forcing().loc[ml.SPINUP_START : ml.PERIOD_END]
    res = simulate(
        surf,
        forcing,
        z_avg=ml.Z_AVG,
        latitude=ml.LATITUDE,
        longitude=ml.LONGITUDE,
        utc_offset_hours=ml.UTC_OFFSET_HOURS,
    )
    obs = ml.read_observations()
    pts = gpd.GeoDataFrame(
        geometry=[Point(10.0 * k + 5 + 2.0, 5.0 - 3.0) for k in range(len(ids))],
        index=pd.Index(ids, name="sensor"),
        crs="EPSG:32754",
    )
    data = xr.Dataset(
        {"temp_c": (("sensor", "time"), obs[ids].T.to_numpy())},
        coords={"sensor": ids, "time": obs.index.to_numpy()},
    )
    return res, SensorSeries(pts, data), obs, ids


def test_station_errors_on_real_stations(mawson) -> None:
    res, series, obs, ids = mawson
    pairs = paired_series(res["air_temperature"], series)
    errs = station_errors(pairs)
    # peer: the dataset module's own per-station errors on the same model columns
    model = pd.DataFrame(
        res["air_temperature"].isel(y=0).to_numpy(), index=res["time"].to_numpy(), columns=ids
    )
    peer = ml.station_errors(model, obs)
    common = errs.index.intersection(peer.index)
    assert len(common) >= 20
    np.testing.assert_allclose(errs.loc[common, "rmse_c"], peer.loc[common, "rmse"], rtol=1e-9)
    np.testing.assert_allclose(errs.loc[common, "bias_c"], peer.loc[common, "bias"], atol=1e-9)
    assert (errs.loc[common, "n"] == peer.loc[common, "n"]).all()
    # TARGET-family accuracy on this heat wave: RMSE of 1–3 K, strong correlation
    assert 0.5 < float(errs["rmse_c"].median()) < 3.5
    assert float(errs["r"].median()) > 0.9
    # bias correction: removes the mean bias, in-sample RMSE never gets worse on average
    off = bias_offset(pairs)
    corrected = correct_bias(res, off)
    errs2 = station_errors(paired_series(corrected["air_temperature"], series))
    assert float(errs2["bias_c"].mean()) == pytest.approx(
        float(errs["bias_c"].mean()) - off, abs=1e-9
    )
    assert abs(float((errs2["bias_c"] * errs2["n"]).sum() / errs2["n"].sum())) < 1e-9
    assert corrected.attrs["bias_correction_c"] == pytest.approx(off)
    # the honest (leave-one-station-out) figure is reported too, and is no better in-sample
    assert (errs["rmse_loso_corrected_c"] >= errs2["rmse_c"] - 1e-9).mean() > 0.9


def test_edge_cases() -> None:
    grid = xr.Dataset(
        {"air_temperature": (("time", "y", "x"), np.full((3, 2, 2), 25.0))},
        coords={
            "time": pd.date_range("2025-07-15 12:00", periods=3, freq="h"),
            "y": [15.0, 5.0],
            "x": [5.0, 15.0],
        },
    )
    pts = gpd.GeoDataFrame(
        geometry=[Point(4, 14), Point(500, 500)], index=["in", "out"], crs="EPSG:2154"
    )
    # 30-min observations are averaged onto the hourly model steps
    times = pd.date_range("2025-07-15 12:00", periods=6, freq="30min")
    data = xr.Dataset(
        {"ta_c": (("sensor", "time"), np.array([[24, 26, 25, 25, 27, 27.0], [1, 1, 1, 1, 1, 1]]))},
        coords={"sensor": ["in", "out"], "time": times},
    )
    s = SensorSeries(pts, data)
    pairs = paired_series(grid["air_temperature"], s)
    assert pairs.attrs["outside"] == ["out"] and set(pairs["sensor"]) == {"in"}
    np.testing.assert_allclose(pairs["observed_c"], [25.0, 25.0, 27.0])
    e = station_errors(pairs).loc["in"]
    assert e["bias_c"] == pytest.approx(-2 / 3) and e["rmse_c"] == pytest.approx(np.sqrt(4 / 3))
    assert np.isnan(e["rmse_loso_corrected_c"])  # a single station: no other to learn from
    with pytest.raises(InputError, match=r"sensors: no air-temperature variable \(has \['no2'\]\)"
                       r".*temp_c"):  # fmt: skip
        air_temperature_variable(xr.Dataset({"no2": (("sensor",), [1.0])}))
    with pytest.raises(InputError, match="no variable 'pm10'"):
        paired_series(grid["air_temperature"], s, "pm10")
