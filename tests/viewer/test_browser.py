"""The real viewer in headless Chromium: a 3D city on screen, scenarios that differ, the notice.

The server is started as a subprocess (`twin serve`), Chromium is Debian's (driven by
Playwright with ``executable_path``), WebGL runs on SwiftShader. Screenshots are saved under
the test's temporary directory.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from twin.scenario.runner import run

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
assert CHROMIUM is not None, "the viewer tests need Debian's chromium (make test installs it)"
ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def runs(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    for name in ("closure", "trees"):
        run(demo_dir, ROOT / "scenarios" / f"{name}.yaml", out=out)
    return out


@pytest.fixture(scope="module")
def server(demo_dir: Path, runs: Path) -> Iterator[str]:
    port = free_port()
    log = open(runs / "server.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twin.cli",
            "serve",
            str(demo_dir),
            "--runs",
            str(runs),
            "--port",
            str(port),
            "--lang",
            "en",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        pg.set_default_timeout(60_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        # fail any request leaving this machine: the viewer must work offline
        pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
        pg.goto(server)
        pg.wait_for_function(
            "document.body.dataset.rendered && document.body.dataset.rendered !== 'none'"
        )
        pg.wait_for_timeout(2000)
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def canvas_pixels(pg: object, index: int = 0) -> np.ndarray:
    from PIL import Image

    png = pg.locator("canvas").nth(index).screenshot()  # type: ignore[attr-defined]
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def select(pg: object, run_prefix: str, mode: str) -> None:
    pg.click("#run")  # type: ignore[attr-defined]
    pg.click(f"text=/^{run_prefix}-/")  # type: ignore[attr-defined]
    pg.click(f"#mode >> text=/{mode}/")  # type: ignore[attr-defined]
    pg.wait_for_function(  # type: ignore[attr-defined]
        f"document.body.dataset.rendered.startsWith('{run_prefix}-')"
    )
    pg.wait_for_timeout(2500)  # type: ignore[attr-defined]


def test_city_renders_in_3d(page: object, tmp_path: Path) -> None:
    page.screenshot(path=str(tmp_path / "viewer.png"))  # type: ignore[attr-defined]
    px = canvas_pixels(page)
    background = np.array([240, 242, 245])
    drawn = np.abs(px - background).sum(axis=2) > 30
    assert drawn.mean() > 0.15, "the canvas is (nearly) blank"
    colours = {tuple(c) for c in px[::7, ::7].reshape(-1, 3)}
    assert len(colours) > 200  # shaded extruded buildings give many tones
    assert page.errors == []  # type: ignore[attr-defined]
    assert page.locator(".kpi").count() >= 3  # type: ignore[attr-defined]


def test_two_scenarios_render_differently(page: object) -> None:
    select(page, "closure", "Difference")
    a = canvas_pixels(page)
    select(page, "trees", "Difference")
    b = canvas_pixels(page)
    changed = np.abs(a - b).sum(axis=2) > 40
    assert changed.mean() > 0.01


def test_side_by_side_views(page: object) -> None:
    select(page, "closure", "Side by side")
    assert page.locator("canvas").count() == 2  # type: ignore[attr-defined]
    left, right = canvas_pixels(page, 0), canvas_pixels(page, 1)
    h, w = min(left.shape[0], right.shape[0]), min(left.shape[1], right.shape[1])
    left, right = left[:h, :w], right[:h, :w]
    assert (np.abs(left - right).sum(axis=2) > 40).mean() > 0.001  # parent vs scenario differ


def test_notice_one_click_away(page: object, server: str) -> None:
    href = page.get_attribute("#notice", "href")  # type: ignore[attr-defined]
    html = urllib.request.urlopen(server.rstrip("/") + href).read().decode()
    assert "Algorithm notice" in html and "decision support" in html
    # run ids are looked up in the run store, never used as paths
    try:
        body = urllib.request.urlopen(server + "notice/..%2F..%2Fetc%2Fpasswd/en").read()
    except urllib.error.HTTPError as err:
        assert err.code == 404
    else:
        assert b"root:" not in body and b"Algorithm notice" not in body


def test_token_required_off_loopback(demo_dir: Path, runs: Path) -> None:
    from twin.errors import TwinError
    from twin.viewer.server import make_app

    with pytest.raises(TwinError, match="without a token"):
        make_app(demo_dir, runs, host="0.0.0.0")
    app = make_app(demo_dir, runs, host="0.0.0.0", token="s3cret")
    client = app.server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    ok = client.get("/?token=s3cret")
    assert ok.status_code == 200 and "twin_token" in ok.headers.get("Set-Cookie", "")
    assert client.get("/").status_code == 200  # the cookie now carries the token


def test_offline_html_comparison_from_file(
    page: object, demo_dir: Path, runs: Path, tmp_path: Path
) -> None:
    """The exported comparison opens from file:// with every network request refused."""
    from twin.viewer.offline import export_comparison

    rid = next(p.name for p in runs.iterdir() if p.name.startswith("closure-"))
    out = export_comparison(demo_dir, rid, tmp_path / "comparison.html", runs_dir=runs, lang="en")
    text = out.read_text()
    assert "http://" not in text.split("<script>")[0] and "Mean travel time" in text
    browser = page.context.browser  # type: ignore[attr-defined]
    pg = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        requests: list[str] = []

        def guard(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith("file://"):
                route.continue_()  # type: ignore[attr-defined]
            else:
                requests.append(url)
                route.abort()  # type: ignore[attr-defined]

        pg.route("**/*", guard)
        pg.goto(out.as_uri())
        pg.wait_for_function("document.body.dataset.rendered", timeout=60_000)
        pg.wait_for_timeout(2000)
        pg.screenshot(path=str(tmp_path / "offline.png"))
        assert pg.locator("canvas").count() == 2
        left, right = canvas_pixels(pg, 0), canvas_pixels(pg, 1)
    finally:
        pg.close()
    assert requests == []
    drawn = np.abs(right - np.array([240, 242, 245])).sum(axis=2) > 30
    assert drawn.mean() > 0.15
    h, w = min(left.shape[0], right.shape[0]), min(left.shape[1], right.shape[1])
    assert (np.abs(left[:h, :w] - right[:h, :w]).sum(axis=2) > 40).mean() > 0.001


def test_png_snapshot_and_presentation_mode(page: object, tmp_path: Path) -> None:
    from PIL import Image

    select(page, "trees", "Scenario")
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#png")  # type: ignore[attr-defined]
    path = tmp_path / "snapshot.png"
    dl.value.save_as(path)
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert img.shape[0] > 300 and (np.abs(img - [240, 242, 245]).sum(axis=2) > 30).mean() > 0.15
    before = page.evaluate("document.body.dataset.rendered")  # type: ignore[attr-defined]
    page.click("#present")  # type: ignore[attr-defined]
    page.wait_for_function("document.body.classList.contains('presenting')")  # type: ignore[attr-defined]
    assert not page.locator("aside").is_visible()  # type: ignore[attr-defined]
    page.click("#next")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.body.dataset.rendered !== {before!r}"
    )
    page.click("#present")  # type: ignore[attr-defined]
    page.wait_for_function("!document.body.classList.contains('presenting')")  # type: ignore[attr-defined]
