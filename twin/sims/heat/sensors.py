"""Model error against the twin's air-temperature sensors, and an optional bias correction.

A sensor layer (:class:`~twin.model.layer.SensorSeries`) holds points and a Dataset on
``(sensor, time)``. Its air-temperature variable is found by name (``air_temperature``,
``temp_c``, ``air_temp_c``, ``ta_c``, ``t_air_c``, ``temperature_c``…) or by a ``units``
attribute in °C. Each station is compared with the **cell that contains it** (nearest cell
centre); stations outside the grid are skipped and counted. Model and observations are
matched on identical timestamps (an observation series at a finer step is averaged to the
model step first, labels on the left edge, as pandas' ``resample``).

Per station: number of pairs ``n``, ``bias_c`` = mean(model − observed), ``rmse_c``,
``mae_c`` and Pearson ``r``.

Bias correction (optional, off by default)
------------------------------------------
A single additive offset, the mean bias over all pairs of all stations, is subtracted from
the modelled air temperature of every cell and hour. It corrects a systematic offset of the
forcing or of the model (e.g. a reference station warmer than the city's surroundings), not
the spatial pattern. Its in-sample RMSE is optimistic, so a **leave-one-station-out** RMSE is
also reported: each station is corrected with the offset estimated on the other stations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from twin.errors import InputError, message
from twin.model.layer import SensorSeries

#: Variable names read as air temperature [°C], in order of preference.
AIR_TEMPERATURE_NAMES: tuple[str, ...] = (
    "air_temperature",
    "air_temperature_c",
    "temp_c",
    "air_temp_c",
    "ta_c",
    "t_air_c",
    "temperature_c",
    "tair_c",
)


def air_temperature_variable(data: xr.Dataset, where: str = "sensors") -> str:
    """Name of the air-temperature variable of a sensor Dataset.

    Raises
    ------
    InputError
        When no variable is recognised as air temperature.
    """
    for name in AIR_TEMPERATURE_NAMES:
        if name in data.data_vars:
            return name
    for key, var in data.data_vars.items():
        unit = str(var.attrs.get("units", "")).lower().replace(" ", "")
        if unit in ("°c", "degc", "celsius", "c") and "temp" in str(key).lower():
            return str(key)
    msg = message(
        f"no air-temperature variable (has {list(data.data_vars)})",
        where=where,
        fix=f"name it one of {list(AIR_TEMPERATURE_NAMES)} (in °C), or set "
        "parameters.heat.sensors_variable",
    )
    raise InputError(msg)


def station_cells(
    series: SensorSeries, grid: xr.Dataset | xr.DataArray
) -> tuple[pd.Series, pd.Series]:
    """Row and column of the grid cell of each station (−1 outside the grid)."""
    pts = series.points
    if grid.rio.crs is not None and pts.crs is not None and pts.crs != grid.rio.crs:
        pts = pts.to_crs(grid.rio.crs)
    xs, ys = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    gx, gy = grid["x"].to_numpy(), grid["y"].to_numpy()
    sx = float(gx[1] - gx[0]) if len(gx) > 1 else None
    sy = float(gy[1] - gy[0]) if len(gy) > 1 else None
    sx = sx if sx is not None else (abs(sy) if sy is not None else 1.0)
    sy = sy if sy is not None else -abs(sx)
    dx, dy = abs(sx), abs(sy)
    col = np.rint((xs - gx[0]) / sx).astype(np.int64)
    row = np.rint((ys - gy[0]) / sy).astype(np.int64)
    inside = (col >= 0) & (col < len(gx)) & (row >= 0) & (row < len(gy))
    inside &= np.abs(xs - gx[np.clip(col, 0, len(gx) - 1)]) <= dx / 2 + 1e-6
    inside &= np.abs(ys - gy[np.clip(row, 0, len(gy) - 1)]) <= dy / 2 + 1e-6
    return (
        pd.Series(np.where(inside, row, -1), index=pts.index),
        pd.Series(np.where(inside, col, -1), index=pts.index),
    )


def paired_series(
    model_air: xr.DataArray, series: SensorSeries, variable: str | None = None
) -> pd.DataFrame:
    """Model and observed air temperature at each station, on the model's time steps.

    Parameters
    ----------
    model_air : DataArray
        Modelled air temperature [°C] on ``(time, y, x)``.
    series : SensorSeries
        The sensors.
    variable : str, optional
        Sensor variable; found with :func:`air_temperature_variable` by default.

    Returns
    -------
    DataFrame
        Long table: ``sensor``, ``time``, ``model_c``, ``observed_c`` (pairs where both are
        finite). ``attrs["outside"]`` lists the stations outside the grid.
    """
    var = variable or air_temperature_variable(series.data)
    if var not in series.data:
        msg = message(
            f"no variable '{var}' (has {list(series.data.data_vars)})",
            where="parameters.heat.sensors_variable",
            fix="name an air-temperature variable of the sensor layer",
        )
        raise InputError(msg)
    rows, cols = station_cells(series, model_air)
    times = pd.DatetimeIndex(model_air["time"].to_numpy())
    step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(hours=1)
    obs = series.data[var].to_pandas()  # (sensor, time)
    if not isinstance(obs, pd.DataFrame):
        obs = obs.to_frame().T
    obs = obs.T  # time × sensor
    obs.index = pd.DatetimeIndex(obs.index)
    obs_step = pd.Series(obs.index).diff().median() if len(obs) > 1 else step
    if pd.notna(obs_step) and obs_step < step:
        obs = obs.resample(step, origin=times[0]).mean()
    obs = obs.reindex(times)
    frames = []
    arr = model_air.transpose("time", "y", "x").to_numpy()
    for sid in series.points.index:
        r, c = int(rows[sid]), int(cols[sid])
        if r < 0 or sid not in obs.columns:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "sensor": str(sid),
                    "time": times,
                    "model_c": arr[:, r, c],
                    "observed_c": obs[sid].to_numpy(dtype=float),
                }
            )
        )
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["sensor", "time", "model_c", "observed_c"])
    )
    out = out[
        np.isfinite(out["model_c"].astype(float)) & np.isfinite(out["observed_c"].astype(float))
    ]
    out.attrs["outside"] = [str(s) for s in rows.index[rows.to_numpy() < 0]]
    return out.reset_index(drop=True)


def station_errors(pairs: pd.DataFrame) -> pd.DataFrame:
    """RMSE, bias, MAE and correlation per station from :func:`paired_series`.

    Returns
    -------
    DataFrame
        Index ``sensor``; ``n``, ``bias_c`` (model − observed), ``rmse_c``, ``mae_c``, ``r``;
        and ``rmse_loso_corrected_c``: the RMSE after subtracting the mean bias of the *other*
        stations (NaN with a single station).
    """
    if pairs.empty:
        return pd.DataFrame(
            columns=["n", "bias_c", "rmse_c", "mae_c", "r", "rmse_loso_corrected_c"]
        ).rename_axis("sensor")
    err = pairs["model_c"].astype(float) - pairs["observed_c"].astype(float)
    g = err.groupby(pairs["sensor"])
    out = pd.DataFrame(
        {
            "n": g.size(),
            "bias_c": g.mean(),
            "rmse_c": np.sqrt((err**2).groupby(pairs["sensor"]).mean()),
            "mae_c": err.abs().groupby(pairs["sensor"]).mean(),
        }
    )
    out["r"] = pairs.groupby("sensor")[["model_c", "observed_c"]].apply(
        lambda d: (
            float(np.corrcoef(d["model_c"], d["observed_c"])[0, 1])
            if len(d) > 2 and d["observed_c"].std() > 0 and d["model_c"].std() > 0
            else np.nan
        )
    )
    loso = {}
    for sid in out.index:
        others = err[pairs["sensor"] != sid]
        if len(others):
            e = err[pairs["sensor"] == sid] - others.mean()
            loso[sid] = float(np.sqrt((e**2).mean()))
        else:
            loso[sid] = np.nan
    out["rmse_loso_corrected_c"] = pd.Series(loso)
    out.index.name = "sensor"
    return out


def bias_offset(pairs: pd.DataFrame) -> float:
    """The bias-correction offset [K]: mean(model − observed) over all pairs (0 without)."""
    if pairs.empty:
        return 0.0
    return float((pairs["model_c"].astype(float) - pairs["observed_c"].astype(float)).mean())


def correct_bias(result: xr.Dataset, offset: float) -> xr.Dataset:
    """Subtract ``offset`` [K] from the modelled air temperature (documented above).

    UTCI and the mean radiant temperature are left as modelled (their dependence on air
    temperature is not additive); ``attrs["bias_correction_c"]`` records the offset.
    """
    out = result.copy()
    out["air_temperature"] = result["air_temperature"] - offset
    out["air_temperature"].attrs = dict(result["air_temperature"].attrs)
    out.attrs["bias_correction_c"] = float(offset)
    return out
