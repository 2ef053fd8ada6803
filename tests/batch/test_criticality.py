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


def serial_wntr(
    inp: Path, sets: dict[str, list[str]], service_m: float, work: Path
) -> dict[str, tuple]:
    """Peer: WNTR alone, each segment shut for 24 h (PDD), one after the other."""
    import wntr
    from wntr.network import LinkStatus

    wn = wntr.network.WaterNetworkModel(str(inp))
    o = wn.options
    o.time.duration, o.time.hydraulic_timestep, o.time.report_timestep = 24 * 3600, 900, 900
    o.hydraulic.demand_model = "PDD"
    o.hydraulic.required_pressure, o.hydraulic.minimum_pressure = 20.0, 0.0
    o.hydraulic.pressure_exponent = 0.5
    out = {}
    for pipe, links in sets.items():
        before = {n: wn.get_link(n).initial_status for n in links}
        for n in links:
            wn.get_link(n).initial_status = LinkStatus.Closed
        res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(work / "peer"))
        exp = wntr.metrics.expected_demand(wn)[wn.junction_name_list].to_numpy()[:-1]
        dem = res.node["demand"][wn.junction_name_list].to_numpy()[:-1]
        p = res.node["pressure"][wn.junction_name_list].to_numpy()[:-1]
        lost = float(np.clip(np.clip(exp, 0, None) - np.clip(dem, 0, None), 0, None).sum() * 900)
        below = int(((p < service_m) & (exp > 0)).any(axis=0).sum())
        out[pipe] = (lost, below)
        for n, s in before.items():
            wn.get_link(n).initial_status = s
    return out


def test_hydraulic_sweep_equals_the_serial_wntr_loop(tmp_path: Path) -> None:
    """ky10 (WNTR's Kentucky network), 16 pipes' valve segments shut for 24 h on 2 Dask
    workers: the volumes not delivered and junctions below service pressure are those of
    WNTR called serially on the same segments."""
    import wntr

    from twin.batch.criticality import hydraulic_sweep
    from twin.io.epanet import read_epanet
    from twin.model.layer import Layer
    from twin.model.twin import Twin
    from twin.sims.water.hydraulics import open_model
    from twin.sims.water.segments import ValvePolicy, isolation_sets, valve_layer

    inp = Path(wntr.__file__).parent / "library" / "networks" / "ky10.inp"
    net, prov = read_epanet(inp, crs="EPSG:3089")
    t = Twin("ky10", net.links.crs)
    t.add(Layer("water", "network", net, prov))
    pipes = [f"P-{k}" for k in range(100, 1043, 60)]
    table = hydraulic_sweep(t, "water", pipes=pipes, workers=2)
    wn = open_model(net.model.text)
    sets = isolation_sets(wn, valve_layer(wn, None, ValvePolicy("strategic", 2, 0)), pipes)
    ref = serial_wntr(inp, {p: sets[p] for p in pipes}, 14.0, tmp_path)
    got = table[["not_delivered_m3", "junctions_below_service"]]
    np.testing.assert_allclose(got["not_delivered_m3"], [ref[p][0] for p in pipes], rtol=1e-9)
    assert got["junctions_below_service"].tolist() == [ref[p][1] for p in pipes]
    assert (got["not_delivered_m3"] > 0).sum() >= 8  # most breaks leave someone dry
