"""Fixtures of the browser tests: the demo twin's runs, its real server and one page on it
(per test module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.scenario.runner import run

from ._synthetic import synthetic_run, write_run
from .browser import ARGS, CHROMIUM, ROOT, serving


@pytest.fixture(scope="module")
def runs(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    for name in ("closure", "trees"):
        run(demo_dir, ROOT / "scenarios" / f"{name}.yaml", out=out)
    # an hourly (time, y, x) grid output over the centre, for the time slider
    write_run(synthetic_run("heatwave", x0=385600, y0=6672600, shape=(40, 32), res=20), out)
    return out


@pytest.fixture(scope="module")
def server(demo_dir: Path, runs: Path) -> Iterator[str]:
    with serving(demo_dir, runs, runs / "server.log") as url:
        yield url


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


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Chromium alone, for pages that need no shared server (offline files, other twins)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
