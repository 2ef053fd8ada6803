"""Validation and gap filling of the meteorological forcing of the heat simulation.

The forcing is a DataFrame indexed by timestamps at a regular step (e.g. 30 min or 1 h) with
the columns of :data:`COLUMNS`. :func:`check_forcing` returns a clean float64 copy:

- the index must be a sorted, duplicate-free DatetimeIndex with one constant step;
- every column of :data:`COLUMNS` must be present and numeric;
- **gap filling**: runs of missing values (NaN) of at most ``max_gap_hours`` are filled by
  linear interpolation in time, per column; leading/trailing NaNs (which cannot be
  interpolated) and longer runs are an error that lists the first timestamps concerned.
  The number of filled values per column is returned, and :func:`twin.heat.simulate`
  records it in the output attributes (``forcing_filled_<column>``);
- small negative shortwave values (night-time sensor offsets, down to -20 W m-2) are set to
  0 and counted; implausible values (relative humidity outside 0–105 %, negative wind,
  pressure outside 500–1100 hPa, air temperature outside -60–60 °C, negative longwave) are
  an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.errors import InputError, message

#: Required forcing columns and their units.
COLUMNS: dict[str, str] = {
    "air_temperature": "°C",
    "relative_humidity": "%",
    "wind_speed": "m s-1",
    "shortwave_down": "W m-2",
    "longwave_down": "W m-2",
    "pressure": "hPa",
}
_RANGES = {
    "air_temperature": (-60.0, 60.0),
    "relative_humidity": (0.0, 105.0),
    "wind_speed": (0.0, 75.0),
    "shortwave_down": (-20.0, 1500.0),
    "longwave_down": (0.0, 700.0),
    "pressure": (500.0, 1100.0),
}
WHERE = "forcing"


def _first(items, k: int = 5) -> str:
    items = list(items)
    more = f" (and {len(items) - k} more)" if len(items) > k else ""
    return ", ".join(str(i) for i in items[:k]) + more


def check_forcing(
    forcing: pd.DataFrame, *, max_gap_hours: float = 2.0
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Validate the forcing and fill its short gaps.

    Parameters
    ----------
    forcing : DataFrame
        Indexed by timestamps, with the columns of :data:`COLUMNS` (extra columns are ignored).
    max_gap_hours : float
        Longest run of missing values [h] filled by linear interpolation.

    Returns
    -------
    clean : DataFrame
        float64 copy with exactly the columns of :data:`COLUMNS`, no NaN.
    filled : dict
        ``{column: number of values filled or clipped}`` (only columns with repairs).

    Raises
    ------
    InputError
        With what was wrong, where (column, timestamps) and how to fix it.
    """
    if not isinstance(forcing, pd.DataFrame):
        msg = message(
            f"forcing must be a pandas DataFrame, got {type(forcing).__name__}", where=WHERE
        )
        raise InputError(msg)
    missing = [c for c in COLUMNS if c not in forcing.columns]
    if missing:
        msg = message(
            f"missing forcing column(s): {', '.join(missing)}",
            where=WHERE,
            fix="provide " + ", ".join(f"{c} [{u}]" for c, u in COLUMNS.items()),
        )
        raise InputError(msg)
    idx = forcing.index
    if not isinstance(idx, pd.DatetimeIndex):
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(idx))
        except (ValueError, TypeError):
            msg = message(
                "the forcing index is not made of timestamps",
                where=WHERE,
                fix="index the DataFrame by a DatetimeIndex (df.set_index(pd.to_datetime(...)))",
            )
            raise InputError(msg) from None
    if len(idx) < 3:
        msg = message(
            f"the forcing has {len(idx)} time steps",
            where=WHERE,
            fix="provide at least 3 time steps",
        )
        raise InputError(msg)
    dup = idx[idx.duplicated()]
    if len(dup):
        msg = message(
            f"duplicated timestamps: {_first(dup)}",
            where=f"{WHERE} index",
            fix="drop or average the duplicates",
        )
        raise InputError(msg)
    steps = np.diff(idx.to_numpy().astype("datetime64[ns]").astype(np.int64))
    if (steps <= 0).any():
        bad = idx[1:][steps <= 0]
        msg = message(
            f"timestamps are not sorted (first out of order: {_first(bad)})",
            where=f"{WHERE} index",
            fix="sort the forcing by time (df.sort_index())",
        )
        raise InputError(msg)
    if (steps != steps[0]).any():
        step0 = pd.Timedelta(int(steps[0]), "ns")
        bad = idx[1:][steps != steps[0]]
        msg = message(
            f"irregular time step: expected {step0} everywhere, different before {_first(bad)}",
            where=f"{WHERE} index",
            fix=(
                "resample to a regular step (df.resample(step).mean()); "
                "missing rows may be NaN, they are gap-filled"
            ),
        )
        raise InputError(msg)
    step_h = steps[0] / 3.6e12
    clean = pd.DataFrame(index=idx)
    filled: dict[str, int] = {}
    max_run = int(np.floor(max_gap_hours / step_h + 1e-9))
    for col in COLUMNS:
        try:
            values = pd.to_numeric(
                pd.Series(np.asarray(forcing[col]), index=idx), errors="raise"
            ).astype(float)
        except (ValueError, TypeError):
            msg = message(
                f"column {col!r} is not numeric",
                where=f"{WHERE}[{col!r}]",
                fix="convert it to numbers",
            )
            raise InputError(msg) from None
        nan = values.isna().to_numpy()
        if nan.any():
            run_id = np.cumsum(~nan)
            runs = pd.Series(nan).groupby(run_id).transform("sum").to_numpy()
            too_long = nan & (runs > max_run)
            edge = nan & ((np.cumsum(~nan) == 0) | (np.cumsum(~nan[::-1])[::-1] == 0))
            bad = too_long | edge
            if bad.any():
                msg = message(
                    f"{int(bad.sum())} missing value(s) that cannot be filled (gap longer than "
                    f"{max_gap_hours} h or at the start/end), first at {_first(idx[bad])}",
                    where=f"{WHERE}[{col!r}]",
                    fix="provide the missing observations, trim the period, or raise max_gap_hours",
                )
                raise InputError(msg)
            values = values.interpolate(method="time")
            filled[col] = int(nan.sum())
        lo, hi = _RANGES[col]
        out = (values < lo) | (values > hi)
        if out.any():
            msg = message(
                f"{int(out.sum())} value(s) outside the plausible range {lo}..{hi} {COLUMNS[col]}, "
                f"first at {_first(idx[out.to_numpy()])}",
                where=f"{WHERE}[{col!r}]",
                fix=f"check the units ({COLUMNS[col]}); set faulty records to NaN",
            )
            raise InputError(msg)
        if col == "shortwave_down":
            neg = values < 0
            if neg.any():
                filled[col] = filled.get(col, 0) + int(neg.sum())
                values = values.clip(lower=0.0)
        clean[col] = values.to_numpy()
    return clean, filled
