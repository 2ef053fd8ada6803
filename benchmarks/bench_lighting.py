"""Benchmark: illuminance over Montpellier's 1 m road grid from all 29,969 light supports.

The streets (8,011 centre-lines, 749 km) get a regular 1 m × 1 m grid over an ASSUMED
7 m width; every support is a luminaire with its family's default photometry, turned to
face its street, cut-off radius 60 m. Prints the number of points, luminaire·point pairs
inside the cut-off, the numba kernel's time and pairs per second, and the ratio against the
pure-numpy reference (all luminaire·point pairs, no spatial index, chunked) run on a random
sample of the points, plus the
machine. Target: the whole city in under 30 s on 2 cores.

Run with ``python benchmarks/bench_lighting.py [--step 1.0] [--cutoff 60] [--sample 20000]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "montpellier"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", type=float, default=1.0, help="grid step [m]")
    ap.add_argument("--width", type=float, default=7.0, help="street width [m]")
    ap.add_argument("--cutoff", type=float, default=60.0, help="cut-off radius [m]")
    ap.add_argument("--sample", type=int, default=2000, help="points for the numpy reference")
    a = ap.parse_args()

    import numba

    from twin.io.lighting import read_lighting_inventory
    from twin.io.vector import read_vector
    from twin.kernels.lighting import illuminance_points, illuminance_ref
    from twin.sims.lighting.grid import road_grid
    from twin.sims.lighting.photometry import DC, DG, photometry_tables
    from twin.sims.lighting.sim import orient_lamps

    t0 = time.perf_counter()
    lamps, _ = read_lighting_inventory(
        DATA / "VilleMTP_MTP_EclairagePublic" / "VilleMTP_MTP_EclairagePublic.zip",
        encoding="latin-1",
        mapping={"lamp_type": "type_lante"},
    )
    streets, _ = read_vector(
        DATA / "VilleMTP_MTP_FilaireVoies" / "VilleMTP_MTP_FilaireVoies.zip", encoding="latin-1"
    )
    t_read = time.perf_counter() - t0

    t0 = time.perf_counter()
    pts = road_grid(streets, step_m=a.step, width_m=a.width)
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    att = orient_lamps(lamps, streets)
    t_orient = time.perf_counter() - t0

    xy = shapely.get_coordinates(lamps.geometry.to_numpy())
    tables, which, _ = photometry_tables(lamps["photometry"])
    lx, ly = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    lh = lamps["mounting_height_m"].to_numpy(float)
    rot = np.radians(att["azimuth_deg"].to_numpy(float))
    scale = lamps["flux_lm"].to_numpy(float) / 1000.0 * 0.8
    args = (lx, ly, lh, rot, scale, which, tables, DC, DG, a.cutoff)

    # warm-up (compile or load the cache) on a few points
    illuminance_points(pts.x[:100], pts.y[:100], *args)
    t0 = time.perf_counter()
    e = illuminance_points(pts.x, pts.y, *args)
    t_kernel = time.perf_counter() - t0

    # pairs inside the cut-off (counted on the sample, scaled to all points)
    rng = np.random.default_rng(0)
    s = rng.choice(len(pts), size=min(a.sample, len(pts)), replace=False)
    sx, sy = pts.x[s], pts.y[s]
    t0 = time.perf_counter()
    e_ref = illuminance_ref(sx, sy, *args, chunk=64)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    e_s = illuminance_points(sx, sy, *args)
    t_ks = time.perf_counter() - t0
    lit = lh > 0
    tree = shapely.STRtree(shapely.points(lx[lit], ly[lit]))
    pairs_s = len(tree.query(shapely.points(sx, sy), predicate="dwithin", distance=a.cutoff)[0])
    pairs = pairs_s * len(pts) / len(s)
    err = float(np.max(np.abs(e_s - e_ref) / np.maximum(e_ref, 1e-9)))

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numba {numba.__version__} ({numba.get_num_threads()} threads), "
        f"Python {platform.python_version()}"
    )
    print(
        f"data: {len(lamps):,} supports, {len(streets):,} streets "
        f"({streets.geometry.length.sum() / 1000:,.0f} km), read in {t_read:.1f} s"
    )
    print(
        f"grid: {len(pts):,} points ({a.step:g} m, width {a.width:g} m) in {t_grid:.2f} s; "
        f"lamp orientation {t_orient:.2f} s"
    )
    print(
        f"kernel: {t_kernel:.2f} s for the whole city, cut-off {a.cutoff:g} m, "
        f"~{pairs:,.0f} luminaire·point pairs → {pairs / t_kernel / 1e6:,.1f} M pairs/s"
    )
    print(
        f"mean E on the road grid {e.mean():.1f} lx, share of points ≥ 2 lx {(e >= 2).mean():.1%}"
    )
    print(
        f"numpy reference on {len(s):,} sampled points: {t_ref:.2f} s vs kernel "
        f"{t_ks:.3f} s → ratio {t_ref / max(t_ks, 1e-9):,.0f}× (max rel. diff {err:.1e})"
    )
    whole_ref = t_ref * len(pts) / len(s)
    print(
        f"numpy reference extrapolated to the city: {whole_ref:,.0f} s → "
        f"ratio {whole_ref / t_kernel:,.0f}×"
    )
    print(f"target < 30 s on 2 cores: {'met' if t_kernel < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
