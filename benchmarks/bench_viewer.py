"""Benchmark: viewer payload size, time to first render in headless Chromium, scenario switch.

For the demo twin (with its demo runs) and for a synthetic twin of 50,000 extruded buildings.
Prints the machine and absolute figures against the targets (first render < 3 s, switch < 1 s).
The "server" switch time is what the Dash callback computes for a new scenario (result layers,
KPI cards and chart); the "browser" switch time runs from the click to the new frame.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def synthetic_twin(out: Path, n: int = 50_000) -> None:
    from twin import Layer, Provenance, Twin
    from twin.model.crs import utm_crs

    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(n)))
    i, j = np.divmod(np.arange(n), side)
    x0, y0 = 385000 + j * 22.0, 6671000 + i * 22.0
    w = rng.uniform(8, 18, n)
    geoms = shapely.box(x0, y0, x0 + w, y0 + rng.uniform(8, 18, n))
    crs = utm_crs(24.94, 60.17)
    b = gpd.GeoDataFrame(
        {"height_m": rng.uniform(3, 60, n)},
        geometry=geoms,
        crs=crs,
        index=pd.Index([f"b{k}" for k in range(n)], name="id"),
    )
    t = Twin("synthetic 50k buildings", crs)
    t.add(Layer("buildings", "vector", b, Provenance("synthetic", producer="benchmark")))
    t.save(out)


def first_render(twin_dir: Path, runs: Path, switch_to: str | None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twin.cli",
            "serve",
            str(twin_dir),
            "--runs",
            str(runs),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        chromium = shutil.which("chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_function("document.body.dataset.rendered", timeout=120_000)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
            out = {"first_render_s": time.perf_counter() - t0}
            if switch_to:
                page.click("#run")
                t1 = time.perf_counter()
                page.click(f"text=/^{switch_to}-/")
                page.wait_for_function(f"document.body.dataset.rendered.startsWith('{switch_to}-')")
                out["browser_switch_s"] = time.perf_counter() - t1
            browser.close()
        return out
    finally:
        proc.terminate()
        proc.wait()


def server_switch(twin_dir: Path, runs: Path, run_prefix: str) -> float:
    from twin.store.twinstore import open_twin
    from twin.viewer.app import Catalogue, kpi_cards, kpi_chart, parent_of, run_layers

    cat = Catalogue(twin_dir, runs, open_twin(twin_dir))
    cat.refresh()
    rid = next(r for r in cat.runs if r.startswith(run_prefix))
    t0 = time.perf_counter()
    r = cat.run(rid)
    parent = parent_of(cat, r)
    json.dumps(run_layers(r, diff=r.compare(parent)))
    kpi_cards(r, parent, "fr")
    kpi_chart(r, parent, "fr")
    return time.perf_counter() - t0


def payload_bytes(twin_dir: Path) -> int:
    from twin.store.twinstore import open_twin
    from twin.viewer.app import base_payload

    return len(json.dumps(base_payload(open_twin(twin_dir))))


def main() -> None:
    from twin.build import build
    from twin.scenario.runner import run

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; Chromium headless, SwiftShader WebGL (software)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        demo, runs = Path(tmp) / "demo", Path(tmp) / "runs"
        build(ROOT / "layers" / "demo.yaml", demo)
        for name in ("closure", "trees", "dimming"):
            run(demo, ROOT / "scenarios" / f"{name}.yaml", out=runs)
        synth = Path(tmp) / "synth"
        synthetic_twin(synth)
        rows = []
        for label, tdir, switch in (
            ("demo (Helsinki)", demo, "dimming"),
            ("50,000 buildings", synth, None),
        ):
            size = payload_bytes(tdir)
            fr = first_render(tdir, runs if switch else Path(tmp) / "none", switch)
            srv = server_switch(tdir, runs, switch) if switch else float("nan")
            rows.append(
                (label, size, fr["first_render_s"], srv, fr.get("browser_switch_s", float("nan")))
            )
    print(
        f"{'twin':<18} {'payload MB':>10} {'first render s':>14} {'switch server s':>15} "
        f"{'switch browser s':>16}"
    )
    for label, size, first, srv, brw in rows:
        print(f"{label:<18} {size / 1e6:10.2f} {first:14.2f} {srv:15.3f} {brw:16.2f}")
    print("targets: first render < 3 s, scenario switch < 1 s")


if __name__ == "__main__":
    main()
