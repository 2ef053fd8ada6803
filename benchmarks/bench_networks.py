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
* **water** (when the water simulation is installed): see :func:`water_benchmarks`.

Run with ``python benchmarks/bench_networks.py [--repeat R]``; the twins are built from
``layers/oberrhein.yaml`` (and ``layers/ky10.yaml``) in a temporary folder first.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from twin.build import build

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        power_dir = Path(tmp) / "oberrhein"
        twin = build(ROOT / "layers" / "oberrhein.yaml", power_dir)
        power_connectivity(twin, args.repeat)
        power_flow(power_dir, twin, args.repeat)


if __name__ == "__main__":
    main()
