"""Benchmark networks that installed packages ship (a small dataset registry).

* :func:`sioux_falls` — the Sioux Falls network and demand (LeBlanc et al., 1975) as shipped in
  AequilibraE's wheel (``aequilibrae/reference_files/sioux_falls.zip``): read with sqlite3 and
  openmatrix, without AequilibraE's project API.
"""

from __future__ import annotations

import sqlite3
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd


def sioux_falls() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sioux Falls links (BPR parameters) and its 24-zone demand matrix.

    Returns
    -------
    links : DataFrame
        Indexed by ``link_id``: ``a_node``, ``b_node``, ``capacity`` [veh/h],
        ``free_flow_time`` [min], ``alpha``, ``beta``.
    demand : DataFrame
        Square matrix of trips, index and columns the zone ids.
    """
    import aequilibrae
    import openmatrix as omx

    ref = Path(aequilibrae.__file__).parent / "reference_files" / "sioux_falls.zip"
    with tempfile.TemporaryDirectory() as d, zipfile.ZipFile(ref) as z:
        z.extract("project_database.sqlite", d)
        z.extract("matrices/demand.omx", d)
        with sqlite3.connect(f"{d}/project_database.sqlite") as con:
            raw = pd.read_sql(
                "select link_id, a_node, b_node, capacity_ab, free_flow_time, b, power "
                "from links order by link_id",
                con,
            )
        f = omx.open_file(f"{d}/matrices/demand.omx")
        try:
            m = np.array(f["matrix"])
            zones = np.array(list(f.mapping("taz").keys()))
        finally:
            f.close()
    links = pd.DataFrame(
        {
            "a_node": raw["a_node"].to_numpy(),
            "b_node": raw["b_node"].to_numpy(),
            "capacity": raw["capacity_ab"].to_numpy(float),
            "free_flow_time": raw["free_flow_time"].to_numpy(float),
            "alpha": raw["b"].to_numpy(float),
            "beta": raw["power"].to_numpy(float),
        },
        index=pd.Index(raw["link_id"].to_numpy(), name="link_id"),
    )
    return links, pd.DataFrame(m, index=zones, columns=zones)
