"""Benchmark: viewer payload size, time to first render in headless Chromium, scenario switch.

For the demo twin (with its demo runs) and for a synthetic twin of 50,000 extruded buildings.
Prints the machine, its load and absolute figures against the targets (first render ≤ 3 s,
switch ≤ 0.5 s), each measurement repeated ``--repeat`` times (min and median).

* **first render**: from navigation to the first frame of the map that shows the whole first
  view (buildings and every other layer loaded, drawn at the map's size, the GPU done: the
  viewer then sets ``body[data-painted]``), plus two animation frames, so that the page with
  that frame has been composited. In page time (``performance.now()``, whose origin is the
  navigation).
* **switch (browser)**: from the click on another run in the picker (its ``pointerdown``
  event, in page time) to that run's painted frame plus two animation frames. The picker is
  opened half a second before the click, as a person reads it before picking (clicked at once,
  the page is still drawing the opened list: that adds about 0.1 s with software WebGL).
  *wall*: the same end, timed from Python just before Playwright's click on the option (as the
  first version of this benchmark did): it adds Playwright's own checks before it clicks.
* **switch (server)**: what the server computes for a switch: the run's result layers (as
  JSON), KPI cards and bars. *cold*: the run opened for the first time (reading its layers
  parses their CRS); *warm*: after ``twin serve`` has opened the runs (it does before serving).
* **frame (orbit)**: the mean time of a camera step once the first view is on screen: the left
  map turned by 3° of bearing 30 times, each step waiting for deck.gl's frame and for the GPU
  to finish it (a one-pixel read back). Whether the map stays smooth to navigate.
* **peer**: pydeck (the deck.gl binding for Python) rendering the same 50,000 buildings from its
  standalone HTML (``to_html(offline=True)``), opened from a file in the same Chromium: HTML
  size, first render (its deck created, layers loaded, nothing left to redraw, the GPU done)
  and frame (orbit); then the ratios twin / pydeck.
* **server start**: from starting ``twin serve`` to its first HTTP answer (it opens the runs
  and prepares their first view before answering).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
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
#: Page time [ms] after two more animation frames: the painted frame has been composited.
TWO_FRAMES = """() => new Promise(r => requestAnimationFrame(
    () => requestAnimationFrame(() => r(performance.now()))))"""
#: Mean time [ms] of a camera step: the left map turned by 3° of bearing, 30 times, each
#: step waiting for deck.gl's frame and for the GPU to finish it (a 1-pixel read back).
ORBIT = """async () => {
  const d = @DECK@, frames = @FRAMES@, gl = d.canvas.getContext('webgl2');
  const vs = d.props.viewState || d.props.initialViewState, px = new Uint8Array(4), n = 30;
  const t0 = performance.now();
  for (let k = 1; k <= n; k++) {
    const f0 = frames();
    d.setProps({viewState: Object.assign({}, vs, {bearing: (vs.bearing || 0) + 3 * k})});
    await new Promise(r => { (function w() {
      if (frames() > f0) r(); else requestAnimationFrame(w); })(); });
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  }
  return (performance.now() - t0) / n;
}"""
TWIN_ORBIT = ORBIT.replace("@DECK@", "window.twinDecks['map-left']").replace(
    "@FRAMES@", "() => window.twinDecks['map-left']._twinFrames"
)
#: pydeck's page: its deck (``deckInstance``) with a frame counter added.
PYDECK_ORBIT = ORBIT.replace("@DECK@", "deckInstance").replace("@FRAMES@", "() => window.__frames")
#: pydeck's first frame: its deck created, every layer loaded, nothing left to redraw, the GPU
#: done (a 1-pixel read back); the page time then [ms].
PYDECK_DRAWN = """() => {
  if (typeof deckInstance === 'undefined' || !deckInstance.isInitialized) return false;
  const d = deckInstance, layers = d.layerManager.getLayers();
  if (!layers.length || !layers.every(l => l.isLoaded) || d.needsRedraw({clearRedrawFlags: false}))
    return false;
  const gl = d.canvas.getContext('webgl2');
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  return performance.now();
}"""
#: Notes the page time of the next pointerdown (the click on the picked run).
ON_CLICK = """() => { window.__click = null; document.addEventListener('pointerdown',
    () => { window.__click = performance.now(); }, {capture: true, once: true}); }"""


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


def browser(twin_dir: Path, runs: Path, switch_to: str | None) -> dict[str, float]:
    """Serve the twin, open the viewer in headless Chromium, time the first render and a
    switch to the run whose id starts with ``switch_to``."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    t_start = time.perf_counter()
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
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        out = {"server_start_s": time.perf_counter() - t_start}
        chromium = shutil.which("chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_function("document.body.dataset.painted", timeout=120_000, polling=20)
            out["first_render_s"] = page.evaluate(TWO_FRAMES) / 1000
            out["orbit_frame_s"] = page.evaluate(TWIN_ORBIT) / 1000
            if switch_to:
                page.click("#run")
                page.wait_for_timeout(500)  # a person reads the list before picking
                page.evaluate(ON_CLICK)
                t1 = time.perf_counter()
                page.locator(f"[role=option] .run-id:text-matches('^{switch_to}-')").first.click()
                page.wait_for_function(
                    f"(document.body.dataset.painted || '').startsWith('{switch_to}-')",
                    timeout=60_000,
                    polling=20,
                )
                end = page.evaluate(TWO_FRAMES)
                out["browser_switch_wall_s"] = time.perf_counter() - t1
                out["browser_switch_s"] = (end - page.evaluate("window.__click")) / 1000
            browser.close()
        return out
    finally:
        proc.terminate()
        proc.wait()


def pydeck_peer(twin_dir: Path, work: Path) -> dict[str, float]:
    """The peer: the same buildings in pydeck's standalone HTML (``offline=True``: deck.gl
    embedded; its CDN stylesheets and basemap script are refused, as with no network), as a
    pydeck user would write it: an extruded ``PolygonLayer`` of lon/lat rings with heights,
    the same view as twin's first view. Opened from a ``file://`` path in the same Chromium:
    HTML size, first render and frame (orbit), measured as for twin."""
    import pydeck as pdk
    from playwright.sync_api import sync_playwright

    from twin.store.twinstore import open_twin
    from twin.viewer.layers import base_payload

    t = open_twin(twin_dir)
    b = t["buildings"].to_crs(4326)
    rings = [np.round(np.asarray(g.exterior.coords)[:, :2], 7).tolist() for g in b.geometry]
    data = [{"polygon": r, "height": float(z)} for r, z in zip(rings, b["height_m"], strict=True)]
    v = base_payload(t)["view"]
    layer = pdk.Layer(
        "PolygonLayer",
        data,
        get_polygon="polygon",
        get_elevation="height",
        extruded=True,
        get_fill_color=[70, 90, 160, 230],
        pickable=True,
    )
    view = pdk.ViewState(**{k: v[k] for k in ("longitude", "latitude", "zoom", "pitch", "bearing")})
    deck = pdk.Deck(layers=[layer], initial_view_state=view, map_style=None, map_provider=None)
    html = work / "pydeck.html"
    html.write_text(deck.to_html(as_string=True, offline=True), encoding="utf-8")
    out = {"bytes": float(html.stat().st_size)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort(),
        )
        page.add_init_script("window.__frames = 0;")
        page.goto(html.as_uri())
        page.wait_for_function(PYDECK_DRAWN, timeout=300_000, polling=20)
        out["first_render_s"] = page.evaluate(TWO_FRAMES) / 1000
        page.evaluate("deckInstance.setProps({onAfterRender: () => { window.__frames += 1; }})")
        out["orbit_frame_s"] = page.evaluate(PYDECK_ORBIT) / 1000
        browser.close()
    return out


def server_switch(twin_dir: Path, runs: Path, run_prefix: str) -> tuple[float, float]:
    """Seconds the server spends on a switch to a run: (cold, warm)."""
    from twin.store.twinstore import open_twin
    from twin.viewer.catalogue import Catalogue, parent_of
    from twin.viewer.kpis import kpi_cards, kpi_chart
    from twin.viewer.layers import time_labels

    cat = Catalogue(twin_dir, runs, open_twin(twin_dir))
    cat.refresh()
    rid = next(r for r in cat.runs if r.startswith(run_prefix))

    def switch() -> float:
        t0 = time.perf_counter()
        r = cat.run(rid)
        parent = parent_of(cat, r)
        labels = time_labels(r, parent)
        json.dumps(cat.layers(rid, "single", labels[0] if labels else None))
        kpi_cards(r, parent, "fr")
        kpi_chart(r, parent, "fr")
        return time.perf_counter() - t0

    cold = switch()
    cat._views.clear()  # warm: runs open (as after `twin serve`), the view computed again
    return cold, switch()


def payload_bytes(twin_dir: Path) -> int:
    from twin.store.twinstore import open_twin
    from twin.viewer.layers import base_payload

    return len(json.dumps(base_payload(open_twin(twin_dir))))


def stats(xs: list[float]) -> str:
    if not xs:
        return "–"
    return f"{min(xs):.2f} / {statistics.median(xs):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="measurements of each twin [3]")
    ap.add_argument("--only", choices=["demo", "50k"], default=None, help="measure one twin only")
    args = ap.parse_args()

    from twin.build import build
    from twin.scenario.runner import run

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; Chromium headless, SwiftShader WebGL (software); "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        demo, runs = Path(tmp) / "demo", Path(tmp) / "runs"
        synth = Path(tmp) / "synth"
        cases = []
        if args.only in (None, "demo"):
            build(ROOT / "layers" / "demo.yaml", demo)
            for name in ("closure", "trees", "dimming"):
                run(demo, ROOT / "scenarios" / f"{name}.yaml", out=runs)
            cases.append(("demo (Helsinki)", demo, runs, "dimming"))
        if args.only in (None, "50k"):
            synthetic_twin(synth)
            cases.append(("50,000 buildings", synth, Path(tmp) / "none", None))
        rows = []
        for label, tdir, rdir, switch in cases:
            res = [browser(tdir, rdir, switch) for _ in range(args.repeat)]
            cold, warm = server_switch(tdir, rdir, switch) if switch else (np.nan, np.nan)
            rows.append((label, payload_bytes(tdir), res, cold, warm))
        peer = (
            [pydeck_peer(synth, Path(tmp)) for _ in range(args.repeat)]
            if args.only in (None, "50k")
            else []
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}; times in s, min / median")
    print(
        f"{'twin':<17} {'payload MB':>10} {'server start':>13} {'first render':>13} "
        f"{'frame (orbit)':>13} {'switch server cold/warm':>24} {'switch browser':>15} "
        f"{'(wall)':>12}"
    )
    for label, size, res, cold, warm in rows:
        sw = [r["browser_switch_s"] for r in res if "browser_switch_s" in r]
        wall = [r["browser_switch_wall_s"] for r in res if "browser_switch_wall_s" in r]
        print(
            f"{label:<17} {size / 1e6:10.2f} "
            f"{stats([r['server_start_s'] for r in res]):>13} "
            f"{stats([r['first_render_s'] for r in res]):>13} "
            f"{stats([r['orbit_frame_s'] for r in res]):>13} "
            f"{f'{cold:.3f} / {warm:.3f}':>24} {stats(sw):>15} {stats(wall):>12}"
        )
    if peer:
        import pydeck

        print(
            f"{'pydeck ' + pydeck.__version__:<17} {peer[0]['bytes'] / 1e6:10.2f} {'–':>13} "
            f"{stats([r['first_render_s'] for r in peer]):>13} "
            f"{stats([r['orbit_frame_s'] for r in peer]):>13}   (the same 50,000 buildings, "
            "standalone HTML from a file)"
        )
        ours = next(r for label, _, r, _, _ in rows if label.startswith("50,000"))
        for key, what in (("first_render_s", "first render"), ("orbit_frame_s", "frame")):
            a = min(r[key] for r in ours)
            b = min(r[key] for r in peer)
            print(f"ratio twin / pydeck, 50,000 buildings, {what}: {a / b:.2f} (best of each)")
    print(
        "targets: first render ≤ 3 s, scenario switch ≤ 0.5 s; frame (orbit): mean time of a "
        "camera step drawn and finished by the GPU (0.033 s = 30 frames/s)"
    )


if __name__ == "__main__":
    main()
