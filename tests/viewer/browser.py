"""Shared helpers of the browser tests: Debian's Chromium, `twin serve` as a subprocess,
screenshots and the scenario picker as a person uses it."""

from __future__ import annotations

import contextlib
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


def wait_http(url: str, timeout: float = 60, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status); fail at once if ``proc`` exits."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        assert proc is None or proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@contextlib.contextmanager
def serving(twin_dir: Path, runs: Path, log_path: Path) -> Iterator[str]:
    """``twin serve`` of a twin and its run store (in English), as a subprocess: its URL."""
    port = free_port()
    log = open(log_path, "wb")
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


def canvas_pixels(pg: object, index: int = 0) -> np.ndarray:
    from PIL import Image

    png = pg.locator("canvas").nth(index).screenshot()  # type: ignore[attr-defined]
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def select(pg: object, run_prefix: str, mode: str) -> None:
    pg.click("#run")  # type: ignore[attr-defined]
    pg.locator(f"[role=option] .run-id:text-matches('^{run_prefix}-')").first.click()  # type: ignore[attr-defined]
    pg.click(f"#mode >> text=/{mode}/")  # type: ignore[attr-defined]
    pg.wait_for_function(  # type: ignore[attr-defined]
        f"document.body.dataset.rendered.startsWith('{run_prefix}-')"
    )
    pg.wait_for_timeout(2500)  # type: ignore[attr-defined]


def open_file_page(browser: object, path: Path, requests: list[str], errors: list[str]) -> object:
    """A new page showing ``path`` from ``file://`` (an offline export): any other request
    is refused and noted in ``requests``, page errors in ``errors``."""
    pg = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    pg.set_default_timeout(60_000)
    pg.on("pageerror", lambda e: errors.append(str(e)))

    def guard(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith("file://"):
            route.continue_()  # type: ignore[attr-defined]
        else:
            requests.append(url)
            route.abort()  # type: ignore[attr-defined]

    pg.route("**/*", guard)
    pg.goto(path.as_uri())
    pg.wait_for_function("document.body.dataset.rendered")
    pg.wait_for_timeout(2000)
    return pg


def read_image(path: Path) -> str:
    """The text on an image, read by Tesseract (scaled ×2 first: its text is screen-sized)."""
    from PIL import Image

    big = path.with_suffix(".x2.png")
    im = Image.open(path).convert("RGB")
    im.resize((im.width * 2, im.height * 2), Image.Resampling.LANCZOS).save(big)
    out = subprocess.run(
        ["tesseract", str(big), "stdout", "--psm", "3"], capture_output=True, text=True, check=True
    )
    return " ".join(out.stdout.split())
