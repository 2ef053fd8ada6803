"""Benchmark: user-equilibrium assignment, twin (numba BFW and GP) against AequilibraE (BFW).

Network and demand: the Sioux Falls example that ships inside the AequilibraE wheel
(``aequilibrae/reference_files/sioux_falls.zip``: 24 nodes, 76 links, 24 zones, 360,600
trips, BPR α = 0.15, β = 4), read with sqlite3 and openmatrix (AequilibraE's project API
needs SQLite extension loading, which this Python lacks), plus an optional synthetic grid
(``--grid N``: N×N nodes, every node a zone, seeded demand) to time a larger case.

Prints the machine, for each target relative gap (1e-4, 1e-5, 1e-8) the wall time of each
solver — twin's path-based gradient projection (``gp``), twin's bi-conjugate Frank–Wolfe and
AequilibraE's (best of ``--repeat``; at 1e-8 a single run, AequilibraE capped at
``--aeq-max-iter`` iterations), kernels compiled beforehand — with iterations, the relative
gap each solution reaches under twin's definition, the Beckmann objectives, and the time
ratios twin / AequilibraE (target ≤ 1). Then, for both of twin's algorithms, the
re-equilibration after closing the busiest link, warm-started from the baseline equilibrium
(``initial=`` the baseline result: flows for BFW, paths for GP), against a cold solve
(target ≤ 25 %). All twin times are ``AssignmentResult.seconds`` (the whole ``assign`` call,
input checks included).

``--montpellier <shared data folder>`` adds a real city network to both comparisons:
Montpellier's 14,198 directed street links (``SENS_CIRCU`` one-ways, ASSUMED class supply of
:mod:`twin.sims.roads.supply`) with the synthetic AM-peak demand of its buildings (500 m
zones, about 184 zones and 12,700 trips), as in tests/sims/traffic/test_calibrate.py; its
closures are those of the busiest, 10th and 100th busiest links.

Run with ``python benchmarks/bench_traffic.py [--repeat 3] [--grid 0] [--aeq-max-iter 3000]
[--montpellier ../shared/data] [--skip-sioux-falls]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

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


def montpellier(data: Path, work: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Montpellier's street centre-lines (SENS_CIRCU one-ways, ASSUMED class supply) and the
    synthetic AM-peak demand from its buildings (500 m zones), as in the calibration test."""
    from twin.build import build
    from twin.model.network import Network
    from twin.sims.roads.supply import centreline_supply
    from twin.sims.traffic.sim import TrafficParams, zone_demand

    d = data.resolve() / "montpellier"
    (work / "twin.yaml").write_text(
        f"""name: mtp-bench
crs: auto
layers:
  streets:
    loader: network.lines
    source: {d / "VilleMTP_MTP_FilaireVoies" / "VilleMTP_MTP_FilaireVoies.zip"}
    options: {{encoding: latin-1, id: IDARC, direction: SENS_CIRCU}}
  buildings:
    loader: vector
    source: {d / "VilleMTP_MTP_Batiments" / "VilleMTP_MTP_Batiments.zip"}
    options: {{encoding: latin-1}}
"""
    )
    t = build(work / "twin.yaml", work / "out")
    net = t["streets"]
    supply, _ = centreline_supply(net.links)
    links = net.links.join(supply)
    b = t["buildings"].assign(height_m=6.0, building="yes")
    od, _ = zone_demand(
        Network(nodes=net.nodes, links=links), b, None, TrafficParams(zone_size_m=500.0)
    )
    table = pd.DataFrame(
        {
            "a_node": links["a_node"],
            "b_node": links["b_node"],
            "capacity": links["capacity_veh_h"],
            "free_flow_time": links["free_flow_time_s"],
            "alpha": 0.15,
            "beta": 4.0,
        }
    )
    return table, od


def aeq_assign(
    links: pd.DataFrame, matrix: pd.DataFrame, rgap: float, max_iter: int = 5000
) -> tuple[pd.Series, float, int]:
    """AequilibraE BFW on an in-memory graph; returns link flows, seconds (execute), iterations."""
    from aequilibrae.matrix import AequilibraeMatrix
    from aequilibrae.paths import Graph, TrafficAssignment, TrafficClass

    zones = matrix.index.to_numpy()
    net = pd.DataFrame(
        {
            "link_id": np.arange(1, len(links) + 1),  # AequilibraE needs integer ids
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
    a.max_iter = max_iter
    a.rgap_target = rgap
    t0 = time.perf_counter()
    a.execute()
    dt = time.perf_counter() - t0
    res = a.results()
    flow = pd.Series(
        res["matrix_ab"].reindex(np.arange(1, len(links) + 1)).to_numpy(float), index=links.index
    )
    return flow, dt, int(a.assignment.iter)


def gap_of(links: pd.DataFrame, matrix: pd.DataFrame, flow: pd.Series) -> tuple[float, float]:
    """twin's relative gap and Beckmann objective of given link flows (one AON, no step)."""
    from twin.traffic import assign

    r = assign(links, matrix, rgap=1.0, max_iter=0, algorithm="bfw", initial=flow)
    return r.rgap, r.objective


def best(fn, repeat: int):  # type: ignore[no-untyped-def]
    out = [fn() for _ in range(repeat)]
    return min(out, key=lambda o: o[1])


def closures(links: pd.DataFrame, mat: pd.DataFrame, repeat: int, ranks=(1,)) -> None:  # type: ignore[no-untyped-def]
    """Warm (from the baseline result) against cold re-equilibration after closing one link
    (the busiest, or the ``ranks``-th busiest), for BFW and GP."""
    from twin.traffic import assign

    for algorithm in ("bfw", "gp"):
        base = assign(links, mat, rgap=1e-5, max_iter=5000, algorithm=algorithm)
        ranked = base.flow.sort_values(ascending=False, kind="stable").index
        for rank in ranks if algorithm == "gp" else ranks[:1]:
            hit = ranked[rank - 1]
            closed = links.assign(closed=links.index == hit)
            for target in (1e-4, 1e-5):
                cold = min(
                    (
                        assign(closed, mat, rgap=target, max_iter=5000, algorithm=algorithm)
                        for _ in range(repeat)
                    ),
                    key=lambda r: r.seconds,
                )
                warm = min(
                    (
                        assign(
                            closed,
                            mat,
                            rgap=target,
                            max_iter=5000,
                            algorithm=algorithm,
                            initial=base,
                        )
                        for _ in range(repeat)
                    ),
                    key=lambda r: r.seconds,
                )
                print(
                    f"  {algorithm}: closure of link {hit} (busiest #{rank}, "
                    f"{base.flow[hit]:.0f} veh/h), rgap {target:g}: cold "
                    f"{cold.seconds * 1e3:.1f} ms ({cold.iterations} it), warm "
                    f"{warm.seconds * 1e3:.1f} ms ({warm.iterations} it, "
                    f"warm_started={warm.warm_started}) | warm/cold "
                    f"{warm.seconds / cold.seconds:.3f}"
                )


def as_matrix(od: pd.DataFrame) -> pd.DataFrame:
    """An OD table as a square zone matrix (the form AequilibraE takes)."""
    zones = np.union1d(od["origin"].unique(), od["destination"].unique())
    return (
        od.pivot_table(index="origin", columns="destination", values="trips", aggfunc="sum")
        .reindex(index=zones, columns=zones)
        .fillna(0.0)
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--grid", type=int, default=0, help="also run an N×N synthetic grid")
    ap.add_argument("--skip-sioux-falls", action="store_true", help="only the other cases")
    ap.add_argument(
        "--montpellier",
        type=Path,
        default=None,
        help="shared data folder: also time closures on Montpellier's street network",
    )
    ap.add_argument(
        "--aeq-max-iter", type=int, default=3000, help="AequilibraE's iteration cap at rgap 1e-8"
    )
    args = ap.parse_args()

    import numba

    from twin.runtime import keep_freed_memory
    from twin.traffic import assign

    allocator = keep_freed_memory()  # as the CLI and batch workers do (twin.runtime)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, "
        f"numba {numba.__version__}, threads {numba.get_num_threads()}, "
        f"freed memory kept (twin.runtime): {allocator}"
    )
    cases = [] if args.skip_sioux_falls else [("Sioux Falls (AequilibraE example)", *sioux_falls())]
    if args.grid:
        cases.append((f"grid {args.grid}x{args.grid}", *grid(args.grid)))
    if args.montpellier is not None:
        with tempfile.TemporaryDirectory() as tmp:
            links, od = montpellier(args.montpellier, Path(tmp))
        cases.append(("Montpellier streets (synthetic AM-peak demand)", links, as_matrix(od)))
    for name, links, mat in cases:
        small = len(links) < 1000
        from importlib.metadata import version

        print(
            f"\n{name}: {len(links)} links, {mat.shape[0]} zones, "
            f"{mat.to_numpy().sum():.0f} trips; "
            f"AequilibraE {version('aequilibrae')}"
        )
        assign(links, mat, rgap=1e-2, algorithm="bfw")  # compile / load the numba cache
        assign(links, mat, rgap=1e-2, algorithm="gp")
        for target in (1e-4, 1e-5, 1e-8) if small else (1e-4, 1e-5):
            repeat = args.repeat if target > 1e-8 else 1
            cap = 5000 if target > 1e-8 else args.aeq_max_iter

            def ours(target: float = target, links=links, mat=mat, algorithm: str = "bfw"):  # type: ignore[no-untyped-def]
                r = assign(links, mat, rgap=target, max_iter=20000, algorithm=algorithm)
                return r, r.seconds

            def theirs(target: float = target, links=links, mat=mat, cap: int = cap):  # type: ignore[no-untyped-def]
                f, dt, it = aeq_assign(links, mat, target, cap)
                return (f, it), dt

            r_gp, t_gp = best(lambda: ours(algorithm="gp"), args.repeat)
            r, t_ours = best(ours, repeat)
            (f_aeq, it_aeq), t_aeq = best(theirs, repeat)
            g_aeq, obj_aeq = gap_of(links, mat, f_aeq)
            print(
                f"  rgap {target:g}: twin gp {t_gp * 1e3:8.1f} ms ({r_gp.iterations} it, gap "
                f"{r_gp.rgap:.2e}, obj {r_gp.objective:.9e}) | twin bfw {t_ours * 1e3:8.1f} ms "
                f"({r.iterations} it, gap {r.rgap:.2e}, obj {r.objective:.9e}) | AequilibraE "
                f"bfw {t_aeq * 1e3:8.1f} ms ({it_aeq} it, gap {g_aeq:.2e}, obj {obj_aeq:.9e}) | "
                f"ratio gp/AequilibraE {t_gp / t_aeq:.3f}, bfw/AequilibraE {t_ours / t_aeq:.3f}"
                + ("" if g_aeq <= target else f" (AequilibraE stopped at {cap} iterations)")
            )
        closures(links, mat, args.repeat, (1,) if small else (1, 10, 100))


if __name__ == "__main__":
    main()
