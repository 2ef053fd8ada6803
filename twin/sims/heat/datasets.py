"""The Mawson Lakes example shipped by the installed ``target-py`` package (a dataset reader).

Mawson Lakes is a suburb of Adelaide (South Australia). During the heat wave of February 2011,
automatic weather stations recorded the screen-level air temperature at 27 sites (Broadbent
et al., 2019, *Geosci. Model Dev.* 12, 785–803, section 4). ``target-py`` 0.2.1 ships:

- ``30min_no_grid_met.csv``: reference forcing (Ta, RH, WS, P, Kd, Ld) every 30 min,
  January–February 2011;
- ``25m-no_grid_lc.csv``: the land-cover fractions in a 25 m radius of each station
  (roof, road, watr, conc, Veg, dry, irr) with the mean building height H and street width W;
- ``30min_no_grid_obs.csv``: the observed air temperature ``AirTC_Avg_NN`` of each station;
- the example control file (``example/generate.py``): spin-up from 2011-02-14 00:00,
  period of interest 2011-02-15 00:00 – 2011-02-16 18:00, ``z_URef = 10 m``,
  ``zavg = 4.5 m``, latitude -34.8.

Licence: TARGET and its example data are distributed under CC BY-NC-SA 2.0 (Broadbent et al.).
They are read from the installed package, never copied into the repository.

Clocks: the forcing is in standard time (ACST) and the observations in daylight-saving time
(ACDT), see :data:`OBS_CLOCK_OFFSET`; :func:`read_observations` puts them on the forcing clock.

Station ``FID = n`` is matched to the observation column ``AirTC_Avg_{n:02d}`` (the uncorrected
series; the ``_c`` columns of stations 23–30 are an alternative, about 0.8 °C lower, series that
is not documented in the package and is not used).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

#: Dates of the example control file (local time, as in the files).
SPINUP_START = pd.Timestamp("2011-02-14 00:00")
PERIOD_START = pd.Timestamp("2011-02-15 00:00")
PERIOD_END = pd.Timestamp("2011-02-16 18:00")
#: Radius [m] of the land cover around each station (``radius=25m`` in the control file,
#: file ``25m-no_grid_lc.csv``).
STATION_RADIUS_M = 25.0
#: Example control-file settings.
Z_UREF = 10.0
Z_AVG = 4.5
LATITUDE = -34.80
LONGITUDE = 138.62
#: The forcing file is in Australian Central Standard Time (UTC+9:30): its shortwave peaks at
#: local solar noon (best fit of the solar geometry to K↓ at UTC+9:15..9:30).
UTC_OFFSET_HOURS = 9.5
#: The observation file is one hour later than the forcing (daylight-saving time, UTC+10:30):
#: the stations' own pyranometers (``Slr_W_Avg_NN``) correlate best with the forcing K↓ when
#: shifted back by 1 h (r = 0.972 against 0.904 unshifted).
OBS_CLOCK_OFFSET = pd.Timedelta(hours=1)
DATE_FORMAT = "%d/%m/%Y %H:%M"
_LC_MAP = {
    "roof": "roof",
    "road": "road",
    "conc": "concrete",
    "watr": "water",
    "Veg": "trees",
    "dry": "grass",
    "irr": "irrigated_grass",
}
_MET_MAP = {
    "Ta": "air_temperature",
    "RH": "relative_humidity",
    "WS": "wind_speed",
    "P": "pressure",
    "Kd": "shortwave_down",
    "Ld": "longwave_down",
}


def data_dir() -> Path:
    """Folder of the example data inside the installed ``target_py`` package."""
    import target_py

    return Path(target_py.__file__).parent / "example" / "data"


def read_forcing(*, raw: bool = False) -> pd.DataFrame:
    """The Mawson Lakes reference forcing, renamed to twin's forcing columns.

    Parameters
    ----------
    raw : bool
        Keep the NaNs of the file (default: interpolate them linearly in time, as TARGET
        itself does; the file has 28 missing rows for most variables).

    Returns
    -------
    DataFrame
        Indexed by local time, every 30 min, columns of
        :data:`twin.sims.heat.forcing.COLUMNS`.
    """
    df = pd.read_csv(data_dir() / "30min_no_grid_met.csv")
    df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("datetime"), format=DATE_FORMAT), name="time")
    df = df.rename(columns=_MET_MAP)[list(_MET_MAP.values())].astype(float)
    if not raw:
        df = df.interpolate(method="time")
    return df


def read_surface() -> xr.Dataset:
    """Land cover of the 27 stations as a surface Dataset on a 1 × 27 grid.

    Returns
    -------
    Dataset
        Dims ``(y: 1, x: 27)``; ``x`` holds the station FID, ``station`` is a coordinate along
        ``x`` with the observation column id ``"01"``..``"30"``. Variables: the fractions of
        :data:`twin.kernels.heat.FRACTIONS` [-], ``building_height`` [m] and
        ``street_width`` [m]. ``attrs["local_scale_m"] = 25`` marks the fractions as already
        local-scale, so :func:`twin.sims.heat.model.simulate` does not average neighbours.
    """
    lc = pd.read_csv(data_dir() / "25m-no_grid_lc.csv")
    fids = lc["FID"].to_numpy()
    ds = xr.Dataset(coords={"y": [0.0], "x": fids.astype(float)})
    for src, dst in _LC_MAP.items():
        ds[dst] = (("y", "x"), lc[src].to_numpy(float)[None, :])
    ds["building_height"] = (("y", "x"), lc["H"].to_numpy(float)[None, :])
    ds["street_width"] = (("y", "x"), lc["W"].to_numpy(float)[None, :])
    ds = ds.assign_coords(station=("x", [f"{int(f):02d}" for f in fids]))
    ds.attrs["source"] = str(data_dir() / "25m-no_grid_lc.csv")
    ds.attrs["licence"] = "CC-BY-NC-SA-2.0 (Broadbent et al., 2019, TARGET example data)"
    # the fractions already are local-scale (25 m around each station): the cells are
    # stations, not neighbours, so simulate() must not average them again
    ds.attrs["local_scale_m"] = STATION_RADIUS_M
    return ds


def read_observations(*, align_to_forcing: bool = True) -> pd.DataFrame:
    """Observed screen-level air temperature [°C] of the stations.

    Parameters
    ----------
    align_to_forcing : bool
        Shift the timestamps back by :data:`OBS_CLOCK_OFFSET` (1 h) so that they are on the
        forcing's clock (default). ``False`` keeps the file's timestamps (as TARGET's own
        validation plots do).

    Returns
    -------
    DataFrame
        Indexed by local time (30 min), one column per station id ``"01"``..``"30"``.
    """
    obs = pd.read_csv(data_dir() / "30min_no_grid_obs.csv")
    obs.index = pd.DatetimeIndex(
        pd.to_datetime(obs.pop("TIMESTAMP"), format=DATE_FORMAT), name="time"
    )
    cols = {
        c: c.removeprefix("AirTC_Avg_")
        for c in obs.columns
        if c.startswith("AirTC_Avg_") and len(c) == 12
    }
    obs = obs[list(cols)].rename(columns=cols).astype(float)
    if align_to_forcing:
        obs.index = obs.index - OBS_CLOCK_OFFSET
    return obs


def station_errors(model: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """RMSE, bias (model − observation) and sample count per station.

    Parameters
    ----------
    model, obs : DataFrame
        Indexed by time, one column per station id; compared where both are finite.

    Returns
    -------
    DataFrame
        Indexed by station: ``rmse`` [°C], ``bias`` [°C], ``n``.
    """
    rows = {}
    for st in model.columns:
        if st not in obs.columns:
            continue
        m, o = model[st].align(obs[st], join="inner")
        ok = np.isfinite(m.to_numpy()) & np.isfinite(o.to_numpy())
        d = m.to_numpy()[ok] - o.to_numpy()[ok]
        rows[st] = {
            "rmse": float(np.sqrt(np.mean(d**2))) if d.size else np.nan,
            "bias": float(d.mean()) if d.size else np.nan,
            "n": int(d.size),
        }
    return pd.DataFrame.from_dict(rows, orient="index")
