"""Benchmark: single-failure (N-1) sweeps of real water and electricity networks.

Each line times the public call a user makes against a named peer run in the same process:

* **power, connectivity**: ``twin.sims.power.criticality.link_criticality`` (every line,
  transformer and closed switch of pandapower's ``mv_oberrhein`` out alone; tables in, ranked
  GeoDataFrame out) against networkx (the same failures: remove the edge, the components
  holding a source);
* **power, power flow**: ``twin.batch.criticality.power_flow_sweep`` (every line and
  transformer out alone, pandapower's Newton–Raphson flow, on a 2-worker Dask LocalCluster,
  cluster start included) against pandapower called serially (the plain loop: out,
  ``runpp``, read, back in);
* **water, connectivity**: ``twin.sims.water.criticality.pipe_criticality`` (each of the
  1,043 pipes of WNTR's ``ky10`` broken alone, its valve segment shut, WNTR's strategic
  valves) against networkx (the same segments removed, components holding a tank or
  reservoir); both include the valve segments (WNTR's ``valve_segments``);
* **water, hydraulics**: ``twin.batch.criticality.hydraulic_sweep`` (each pipe's segment shut
  for 24 h, EPANET 2.2 PDD, 2-worker Dask LocalCluster, cluster start included) against WNTR
  called serially on the same segments. Target: ≥ 1.8×.

Run with ``python benchmarks/bench_networks.py [--repeat R] [--pipes N]``; the power twin is
built from ``layers/oberrhein.yaml`` in a temporary folder first, ky10 read with the EPANET
loader.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Shortest wall time of ``repeat`` calls [s], and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def networkx_n1(net: Any, failing: list[int]) -> np.ndarray:
    """Peer: nodes cut off by each link out alone, with networkx (graph built once)."""
    pos = {n: i for i, n in enumerate(net.nodes.index)}
    a = net.links["a_node"].map(pos).to_numpy()
    b = net.links["b_node"].map(pos).to_numpy()
    ok = net.links["in_service"].to_numpy(bool) & net.links["closed"].to_numpy(bool)
    sources = [pos[n] for n in net.nodes.index[net.nodes["is_source"].to_numpy(bool)]]
    g = nx.MultiGraph()
    g.add_nodes_from(range(len(pos)))
    g.add_edges_from((int(a[k]), int(b[k]), k) for k in np.flatnonzero(ok))

    def reached(graph: nx.MultiGraph) -> set[int]:
        out: set[int] = set()
        for s in sources:
            if s not in out:
                out |= nx.node_connected_component(graph, s)
        return out

    base = reached(g)
    lost = []
    for k in failing:
        g.remove_edge(int(a[k]), int(b[k]), key=k)
        lost.append(len(base - reached(g)))
        g.add_edge(int(a[k]), int(b[k]), key=k)
    return np.asarray(lost)


def power_connectivity(twin: Any, repeat: int) -> None:
    from twin.sims.power.criticality import link_criticality

    net = twin.layer("energy").data
    t_twin, crit = best_of(lambda: link_criticality(net), repeat)
    failing = [net.links.index.get_loc(i) for i in crit.index]
    t_nx, lost = best_of(lambda: networkx_n1(net, failing), repeat)
    assert np.array_equal(lost, crit["nodes_cut"].to_numpy()), "twin and networkx disagree"
    print(
        f"power N-1 connectivity, mv_oberrhein ({len(crit)} elements): twin "
        f"{1000 * t_twin:.1f} ms, networkx {1000 * t_nx:.1f} ms → {t_nx / t_twin:.1f}× faster "
        "(same nodes cut off)"
    )


def pandapower_serial(branches: list[tuple[str, int]]) -> np.ndarray:
    """Peer: pandapower alone, one branch out at a time (min vm_pu, max line loading %)."""
    import pandapower as pp
    import pandapower.networks as pn
    from pandapower.powerflow import LoadflowNotConverged

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = copy.deepcopy(pn.mv_oberrhein())
    out = []
    for table, i in branches:
        net[table].at[i, "in_service"] = False
        try:
            pp.runpp(net, algorithm="nr", max_iteration=30, tolerance_mva=1e-8)
            out.append((net.res_bus.vm_pu.min(), net.res_line.loading_percent.max()))
        except LoadflowNotConverged:
            out.append((np.nan, np.nan))
        net[table].at[i, "in_service"] = True
    return np.asarray(out, dtype=float)


def power_flow(twin_dir: Path, twin: Any, repeat: int) -> None:
    from twin.batch.criticality import power_flow_sweep

    t_dask, table = best_of(lambda: power_flow_sweep(twin_dir, "energy", workers=2), repeat)
    links = twin.layer("energy").data.links
    branches = [
        ("line" if links.at[i, "link_type"] == "line" else "trafo", int(links.at[i, "pp_index"]))
        for i in table.index
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_pp, ref = best_of(lambda: pandapower_serial(branches), repeat)
    same = np.allclose(table["max_loading_pct"].to_numpy(), ref[:, 1], rtol=1e-7)
    assert same, "twin and pandapower disagree"
    print(
        f"power N-1 power flows, mv_oberrhein ({len(table)} branches): twin on 2 Dask workers "
        f"{t_dask:.2f} s (cluster start included), pandapower serially {t_pp:.2f} s → "
        f"{t_pp / t_dask:.2f}× (same loadings)"
    )


def ky10() -> tuple[Any, Path]:
    """WNTR's ky10 through twin's EPANET loader (EPSG:3089, Kentucky feet), and its file."""
    import wntr

    from twin.io.epanet import read_epanet
    from twin.model.layer import Layer
    from twin.model.twin import Twin

    inp = Path(wntr.__file__).parent / "library" / "networks" / "ky10.inp"
    net, prov = read_epanet(inp, crs="EPSG:3089")
    t = Twin("ky10", net.links.crs)
    t.add(Layer("water", "network", net, prov))
    return t, inp


def networkx_segments(net: Any, wn: Any, valves: Any) -> np.ndarray:
    """Peer: junctions cut off by each pipe's segment, with networkx (segments by WNTR)."""
    from twin.sims.water.segments import isolation_sets

    pipes = net.links.index[net.links["link_type"] == "pipe"].tolist()
    sets = isolation_sets(wn, valves, pipes)
    g = nx.MultiGraph()
    g.add_nodes_from(net.nodes.index)
    open_ = net.links[net.links["status"] != "Closed"]
    g.add_edges_from(zip(open_["a_node"], open_["b_node"], open_.index, strict=True))
    ends = {
        k: (a, b) for k, a, b in zip(open_.index, open_["a_node"], open_["b_node"], strict=True)
    }
    sources = net.nodes.index[net.nodes["node_type"].isin(["tank", "reservoir"])]
    junctions = set(net.nodes.index[net.nodes["node_type"] == "junction"])
    out = []
    for pipe in pipes:
        gone = [(*ends[k], k) for k in sets[pipe] if k in ends]
        g.remove_edges_from(gone)
        fed = set().union(*(nx.node_connected_component(g, s) for s in sources))
        out.append(len(junctions - fed))
        g.add_edges_from(gone)
    return np.asarray(out)


def water_connectivity(t: Any, repeat: int) -> None:
    from twin.sims.water.criticality import pipe_criticality
    from twin.sims.water.hydraulics import open_model
    from twin.sims.water.segments import ValvePolicy, valve_layer

    net = t.layer("water").data
    wn = open_model(net.model.text)
    valves = valve_layer(wn, None, ValvePolicy("strategic", 2, 0))
    t_twin, crit = best_of(lambda: pipe_criticality(net, wn, valves), repeat)
    t_nx, lost = best_of(lambda: networkx_segments(net, wn, valves), repeat)
    assert np.array_equal(lost, crit["junctions_cut"].to_numpy()), "twin and networkx disagree"
    print(
        f"water N-1 connectivity, ky10 ({len(crit)} pipes, valve segments): twin "
        f"{t_twin:.2f} s, networkx {t_nx:.2f} s → {t_nx / t_twin:.1f}× faster "
        "(same junctions cut off; both include WNTR's valve_segments)"
    )


def water_hydraulics(t: Any, inp: Path, n_pipes: int | None) -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.batch.test_criticality import serial_wntr
    from twin.batch.criticality import hydraulic_sweep
    from twin.sims.water.hydraulics import open_model
    from twin.sims.water.segments import ValvePolicy, isolation_sets, valve_layer

    net = t.layer("water").data
    pipes = net.links.index[net.links["link_type"] == "pipe"].tolist()[:n_pipes]
    t0 = time.perf_counter()
    table = hydraulic_sweep(t, "water", pipes=pipes, workers=2)
    t_dask = time.perf_counter() - t0
    wn = open_model(net.model.text)
    with tempfile.TemporaryDirectory() as work:
        t0 = time.perf_counter()
        sets = isolation_sets(wn, valve_layer(wn, None, ValvePolicy("strategic", 2, 0)), pipes)
        ref = serial_wntr(inp, sets, 14.0, Path(work))
        t_serial = time.perf_counter() - t0
    lost = np.array([ref[p][0] for p in pipes])
    assert np.allclose(table["not_delivered_m3"].to_numpy(), lost, rtol=1e-9), "disagree"
    ratio = t_serial / t_dask
    verdict = "meets" if ratio >= 1.8 else "MISSES"
    print(
        f"water N-1 hydraulics, ky10 ({len(pipes)} pipes, 24 h PDD): twin on 2 Dask workers "
        f"{t_dask:.1f} s (cluster start included), WNTR serially {t_serial:.1f} s → "
        f"{ratio:.2f}× ({verdict} the 1.8× target; same volumes)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--pipes", type=int, default=None, help="pipes of the hydraulic sweep")
    args = ap.parse_args()
    from twin.build import build

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        power_dir = Path(tmp) / "oberrhein"
        twin = build(ROOT / "layers" / "oberrhein.yaml", power_dir)
        power_connectivity(twin, args.repeat)
        power_flow(power_dir, twin, args.repeat)
    water, inp = ky10()
    water_connectivity(water, args.repeat)
    water_hydraulics(water, inp, args.pipes)


if __name__ == "__main__":
    main()
