"""Benchmark: user-equilibrium assignment, twin (numba BFW) against AequilibraE (BFW).

Network and demand: the Sioux Falls example that ships inside the AequilibraE wheel
(``aequilibrae/reference_files/sioux_falls.zip``: 24 nodes, 76 links, 24 zones, 360,600
trips, BPR α = 0.15, β = 4), read with sqlite3 and openmatrix (AequilibraE's project API
needs SQLite extension loading, which this Python lacks), plus an optional synthetic grid
(``--grid N``: N×N nodes, every node a zone, seeded demand) to time a larger case.

Prints the machine, for each target relative gap (1e-4, 1e-5) the wall time of each tool
(best of ``--repeat``, kernels compiled beforehand), iterations, the relative gap both
solutions reach under twin's definition, their Beckmann objectives, and the time ratio
twin / AequilibraE (target ≤ 1). Then the re-equilibration after closing one link,
warm-started from the baseline equilibrium, against a cold solve (target ≤ 25 %).

Run with ``python benchmarks/bench_traffic.py [--repeat 3] [--grid 0]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("AEQ_SHOW_PROGRESS", "FALSE")  # no progress bars in the timings

import numpy as np
import pandas as pd

from twin.sims.traffic.datasets import sioux_falls


def grid(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic n×n two-way grid, every node a zone, seeded random BPR links and demand."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n * n + 1).reshape(n, n)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:, 1:].ravel(), ids[:-1].ravel(), ids[1:].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[:, :-1].ravel(), ids[1:].ravel(), ids[:-1].ravel()])
    m = len(a)
    links = pd.DataFrame(
        {
            "a_node": a,
            "b_node": b,
            "capacity": rng.uniform(500, 2000, m),
            "free_flow_time": rng.uniform(1, 3, m),
            "alpha": 0.15,
            "beta": 4.0,
        },
        index=pd.RangeIndex(1, m + 1, name="link_id"),
    )
    z = ids.ravel()
    mat = rng.uniform(0, 20, (len(z), len(z))) * (rng.random((len(z), len(z))) < 0.3)
    np.fill_diagonal(mat, 0)
    return links, pd.DataFrame(mat, index=z, columns=z)


def aeq_assign(
    links: pd.DataFrame, matrix: pd.DataFrame, rgap: float
) -> tuple[pd.Series, float, int]:
    """AequilibraE BFW on an in-memory graph; returns link flows, seconds (execute), iterations."""
    from aequilibrae.matrix import AequilibraeMatrix
    from aequilibrae.paths import Graph, TrafficAssignment, TrafficClass

    zones = matrix.index.to_numpy()
    net = pd.DataFrame(
        {
            "link_id": links.index.to_numpy(),
            "a_node": links["a_node"].to_numpy(),
            "b_node": links["b_node"].to_numpy(),
            "direction": 1,
            "capacity": links["capacity"].to_numpy(),
            "free_flow_time": links["free_flow_time"].to_numpy(),
            "alpha": links["alpha"].to_numpy(),
            "beta": links["beta"].to_numpy(),
        }
    )
    net["id"] = np.arange(1, len(net) + 1)
    g = Graph()
    g.network = net
    g.network_ok = True
    g.status = "OK"
    g.prepare_graph(zones)
    g.set_graph("free_flow_time")
    g.set_blocked_centroid_flows(False)
    mat = AequilibraeMatrix()
    mat.create_empty(zones=len(zones), matrix_names=["matrix"], memory_only=True)
    mat.index[:] = zones
    mat.matrices[:, :, 0] = matrix.to_numpy()
    mat.computational_view(["matrix"])
    tc = TrafficClass("car", g, mat)
    a = TrafficAssignment()
    a.set_classes([tc])
    a.set_vdf("BPR")
    a.set_vdf_parameters({"alpha": "alpha", "beta": "beta"})
    a.set_capacity_field("capacity")
    a.set_time_field("free_flow_time")
    a.set_algorithm("bfw")
    a.max_iter = 5000
    a.rgap_target = rgap
    t0 = time.perf_counter()
    a.execute()
    dt = time.perf_counter() - t0
    res = a.results()
    flow = res["matrix_ab"].reindex(links.index).astype(float)
    return flow, dt, int(a.assignment.iter)


def gap_of(links: pd.DataFrame, matrix: pd.DataFrame, flow: pd.Series) -> tuple[float, float]:
    """twin's relative gap and Beckmann objective of given link flows (one AON, no step)."""
    from twin.traffic import assign

    r = assign(links, matrix, rgap=1.0, max_iter=0, initial=flow)
    return r.rgap, r.objective


def best(fn, repeat: int):  # type: ignore[no-untyped-def]
    out = [fn() for _ in range(repeat)]
    return min(out, key=lambda o: o[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--grid", type=int, default=0, help="also run an N×N synthetic grid")
    args = ap.parse_args()

    import numba

    from twin.traffic import assign

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, "
        f"numba {numba.__version__}, threads {numba.get_num_threads()}"
    )
    cases = [("Sioux Falls (AequilibraE example)", *sioux_falls())]
    if args.grid:
        cases.append((f"grid {args.grid}x{args.grid}", *grid(args.grid)))
    for name, links, mat in cases:
        from importlib.metadata import version

        print(
            f"\n{name}: {len(links)} links, {mat.shape[0]} zones, "
            f"{mat.to_numpy().sum():.0f} trips; "
            f"AequilibraE {version('aequilibrae')}"
        )
        assign(links, mat, rgap=1e-2)  # compile / load the numba cache
        for target in (1e-4, 1e-5):

            def ours(target: float = target, links=links, mat=mat):  # type: ignore[no-untyped-def]
                t0 = time.perf_counter()
                r = assign(links, mat, rgap=target, max_iter=5000)
                return r, time.perf_counter() - t0

            def theirs(target: float = target, links=links, mat=mat):  # type: ignore[no-untyped-def]
                f, dt, it = aeq_assign(links, mat, target)
                return (f, it), dt

            r, t_ours = best(ours, args.repeat)
            (f_aeq, it_aeq), t_aeq = best(theirs, args.repeat)
            g_aeq, obj_aeq = gap_of(links, mat, f_aeq)
            print(
                f"  rgap {target:g}: twin {t_ours * 1e3:8.1f} ms "
                f"({r.iterations} it, gap {r.rgap:.2e}, "
                f"obj {r.objective:.6e}) | AequilibraE {t_aeq * 1e3:8.1f} ms ({it_aeq} it, gap "
                f"{g_aeq:.2e}, obj {obj_aeq:.6e}) | ratio {t_ours / t_aeq:.3f}"
            )
        base = assign(links, mat, rgap=1e-5, max_iter=5000)
        hit = base.flow.idxmax()
        closed = links.assign(closed=links.index == hit)
        for target in (1e-4, 1e-5):
            cold = min(
                (assign(closed, mat, rgap=target, max_iter=5000) for _ in range(args.repeat)),
                key=lambda r: r.seconds,
            )
            warm = min(
                (
                    assign(closed, mat, rgap=target, max_iter=5000, initial=base.flow)
                    for _ in range(args.repeat)
                ),
                key=lambda r: r.seconds,
            )
            print(
                f"  closure of link {hit} (busiest), rgap {target:g}: "
                f"cold {cold.seconds * 1e3:.1f} ms "
                f"({cold.iterations} it), warm {warm.seconds * 1e3:.1f} ms ({warm.iterations} it, "
                f"warm_started={warm.warm_started}) | warm/cold {warm.seconds / cold.seconds:.3f}"
            )


if __name__ == "__main__":
    main()
