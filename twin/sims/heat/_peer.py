"""Run the peer model ``target-py`` (TARGET, Broadbent et al., 2019) on its Mawson Lakes example.

Used by the validation test and the benchmark only: ``target-py`` is a dev dependency.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def run_target_mawson() -> tuple[pd.DataFrame, float]:
    """Run target-py on the Mawson Lakes example (its own control file and parameters).

    Returns
    -------
    air : DataFrame
        Modelled canyon air temperature [°C], indexed by time (the forcing clock), one column
        per station id ``"01"``..``"30"``; TARGET's -999 (roof fraction > 0.75) as NaN.
    seconds : float
        Wall time of ``Target.run_simulation`` [s].
    """
    from target_py import Target, generate_example

    with tempfile.TemporaryDirectory() as tmp:
        generate_example(path=tmp, site_name="mawson", run_name="twin_peer", obs=False, grid=False)
        model = Target(str(Path(tmp) / "mawson" / "config.ini"), progress=False)
        model.load_config()
        t0 = time.perf_counter()
        model.run_simulation(save_csv=False)
        seconds = time.perf_counter() - t0
        res = model.mod_rslts[:, :, 0]
    dates = pd.DatetimeIndex(list(res["date"][:, 0]), name="time")
    ids = [f"{int(i):02d}" for i in res["ID"][0]]
    air = pd.DataFrame(res["Ta"], index=dates, columns=ids).replace(-999.0, np.nan)
    return air, seconds
