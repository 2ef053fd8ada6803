"""The N-1 power-flow sweep on a real Dask cluster equals pandapower called serially.

pandapower's real ``mv_oberrhein`` (181 lines, 2 transformers): every in-service branch out
alone, the power flow run on 2 Dask workers through twin; the peer is the plain loop a
pandapower user writes (take the branch out, ``runpp``, read the results, put it back).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from pandapower.powerflow import LoadflowNotConverged

from twin.batch.criticality import chunked, power_flow_sweep
from twin.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pandapower")


def serial_peer(net: Any, branches: list[tuple[str, int]]) -> list[tuple[float, float]]:
    """(min vm_pu, max line loading %) per branch out, by pandapower alone."""
    out = []
    for table, i in branches:
        net[table].at[i, "in_service"] = False
        try:
            pp.runpp(net, algorithm="nr", max_iteration=30, tolerance_mva=1e-8)
            out.append((float(net.res_bus.vm_pu.min()), float(net.res_line.loading_percent.max())))
        except LoadflowNotConverged:
            out.append((np.nan, np.nan))
        net[table].at[i, "in_service"] = True
    return out


def test_power_flow_sweep_equals_the_serial_pandapower_loop(oberrhein_dir: Path) -> None:
    table = power_flow_sweep(oberrhein_dir, "energy", workers=2)
    assert len(table) == 183 and table["converged"].all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_net = copy.deepcopy(pn.mv_oberrhein())
    from twin.model.twin import Twin

    links = Twin.open(oberrhein_dir).layer("energy").data.links
    branches = [
        ("line" if links.at[i, "link_type"] == "line" else "trafo", int(links.at[i, "pp_index"]))
        for i in table.index
    ]
    ref = np.array(serial_peer(ref_net, branches))
    np.testing.assert_allclose(table["min_vm_pu"].to_numpy(), ref[:, 0], rtol=1e-9)
    np.testing.assert_allclose(table["max_loading_pct"].to_numpy(), ref[:, 1], rtol=1e-7)
    assert table.crs is not None and table.geometry.notna().all()


def test_chunks_and_bad_layers(oberrhein_dir: Path) -> None:
    assert chunked(list("abcdefg"), 3) == [["a", "b", "c"], ["d", "e"], ["f", "g"]]
    assert chunked(["a"], 6) == [["a"]]
    with pytest.raises(InputError, match="no network layer 'water'"):
        power_flow_sweep(oberrhein_dir, "water")
