"""Synthetic runs whose outputs vary in time, in memory or written as a run directory, and a
synthetic sensor series."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from twin.model.layer import Layer, SensorSeries
from twin.model.provenance import Provenance
from twin.scenario.runner import Run
from twin.scenario.schema import Scenario

HOURS = pd.date_range("2026-07-15T12:00", periods=3, freq="h")


def synthetic_run(
    name: str = "heatwave",
    offset: float = 0.0,
    *,
    x0: float = 385000.0,
    y0: float = 6672000.0,
    shape: tuple[int, int] = (4, 5),
    res: float = 10.0,
) -> Run:
    """A run with an hourly (time, y, x) air temperature grid, monthly vacancy points and
    hourly traffic lines (``<metric>@<time>`` columns)."""
    ny, nx = shape
    x = x0 + res * np.arange(nx) + res / 2
    y = y0 - res * np.arange(ny) - res / 2
    temp = 20 + offset + np.arange(3)[:, None, None] * 5 + np.zeros((3, ny, nx))
    temp[:, 0, 0] += np.array([0.0, 1.0, 2.0])
    grid = xr.Dataset(
        {"air_temperature_c": (("time", "y", "x"), temp)},
        coords={"time": HOURS, "y": y, "x": x},
    ).rio.write_crs(32635)
    pts = gpd.GeoDataFrame(
        {
            "vacancy_risk@2026-01": [0.1, 0.2, 0.3],
            "vacancy_risk@2026-02": [0.4, 0.5, 0.6],
            "floor_m2": [50.0, 60.0, 70.0],
        },
        geometry=shapely.points([385001, 385011, 385021], [6671990] * 3),
        crs=32635,
        index=pd.Index(["u1", "u2", "u3"], name="id"),
    )
    lines = gpd.GeoDataFrame(
        {f"flow_veh_h@{h:%H:%M}": [100.0 * (k + 1), 50.0] for k, h in enumerate(HOURS)},
        geometry=[
            shapely.LineString([(385000, 6671980), (385040, 6671980)]),
            shapely.LineString([(385000, 6671970), (385040, 6671970)]),
        ],
        crs=32635,
        index=pd.Index(["l1", "l2"], name="id"),
    )
    prov = Provenance("synthetic", producer="test")

    def hint(var: str, unit: str) -> list[dict]:  # what a simulation declares
        return [{"variable": var, "unit": unit, "label": {"en": var, "fr": var}}]

    outputs = {
        "air": Layer("air", "grid", grid, prov, hint("air_temperature_c", "°C")),
        "units": Layer("units", "vector", pts, prov, hint("vacancy_risk", "1")),
        "flows": Layer("flows", "vector", lines, prov, hint("flow_veh_h", "veh/h")),
    }
    kpis = pd.DataFrame(
        {
            "simulation": ["heat"],
            "value": [1.0],
            "unit": ["K"],
            "description": ["x"],
            "better": ["lower"],
        },
        index=pd.Index(["uhi_k"], name="kpi"),
    )
    return Run(Scenario(name=name), f"{name}-0", kpis, outputs, {"run_id": f"{name}-0"})


def write_run(r: Run, store: Path) -> Path:
    """Write a synthetic run as a run directory of ``store`` (what ``Run.open`` reads)."""
    from twin.store.twinstore import netcdf_safe, write_geoparquet

    d = store / r.run_id
    (d / "outputs").mkdir(parents=True)
    outs = {}
    for name, lay in r.outputs.items():
        f = f"{name}.nc" if lay.kind == "grid" else f"{name}.parquet"
        if lay.kind == "grid":
            netcdf_safe(lay.data).to_netcdf(d / "outputs" / f, engine="netcdf4")
        else:
            write_geoparquet(lay.data, d / "outputs" / f)
        outs[name] = {
            "file": f,
            "kind": lay.kind,
            "provenance": lay.provenance.to_dict(),
            "display": lay.display,
        }
    r.kpis.reset_index().to_csv(d / "kpis.csv", index=False)
    manifest = {**r.manifest, "scenario": r.scenario.model_dump(mode="json"), "outputs": outs}
    (d / "run.json").write_text(json.dumps(manifest, default=str))
    return d


#: Hourly times of :func:`sensor_layer`.
SENSOR_TIMES = pd.date_range("2026-07-15T08:00", periods=4, freq="h")


def sensor_layer(x0: float, y0: float, crs: int | str, name: str = "counts") -> Layer:
    """A sensor series of five traffic counters around ``(x0, y0)`` [m, ``crs``].

    ``S1`` at ``(x0, y0)``: flows 100, 200, –, 300 (mean 200 veh/h, 3 observations, 08:00 to
    11:00); ``S2`` and ``S3`` share ``(x0 + 120, y0)`` (two directions of one street): 60 veh/h
    from 2 observations (09:00, 10:00) and 400 veh/h from one (08:00); ``S4`` at
    ``(x0, y0 + 120)`` has no observation; ``S5`` has data but no position. A text variable
    comes first, the flow second, a speed third.
    """
    nan = np.nan
    flow = np.array(
        [
            [100.0, 200.0, nan, 300.0],
            [nan, 50.0, 70.0, nan],
            [400.0, nan, nan, nan],
            [nan, nan, nan, nan],
            [1.0, 1.0, 1.0, 1.0],
        ]
    )
    ids = ["S1", "S2", "S3", "S4", "S5"]
    data = xr.Dataset(
        {
            "quality": (("sensor", "time"), np.full((5, 4), "ok")),
            "flow_veh_h": (("sensor", "time"), flow),
            "speed_kph": (("sensor", "time"), np.full((5, 4), 30.0)),
        },
        coords={"sensor": ids, "time": SENSOR_TIMES},
    )
    points = gpd.GeoDataFrame(
        {"name": ["north-west", "east (in)", "east (out)", "north"]},
        geometry=shapely.points([x0, x0 + 120, x0 + 120, x0], [y0, y0, y0, y0 + 120]),
        crs=crs,
        index=pd.Index(ids[:4], name="sensor"),
    )
    prov = Provenance("synthetic", producer="test")
    return Layer(name, "series", SensorSeries(points=points, data=data), prov)
