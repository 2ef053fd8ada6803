"""Every run of the README's demo (the Helsinki twin and the two network twins), opened in the
viewer as a person picks it: each legend block names its unit (or lists its categories, or is
a declared share), and the page raises no error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .browser import serving

#: Each legend block: its title line, what kind it is and its declared unit.
LEGEND = """() => Array.from(document.querySelectorAll('#legend .legend-item')).map(e =>
  [e.firstChild.textContent, e.dataset.kind, e.dataset.unit])"""


@pytest.mark.parametrize("name", ["demo", "ky10", "oberrhein"])
def test_every_demo_run_has_legends_with_units(
    demo_build: tuple[Path, Any], chromium: Any, name: str
) -> None:
    root, done = demo_build
    assert done.returncode == 0, done.stderr
    runs = root / ("runs" if name == "demo" else f"runs-{name}")
    ids = sorted(p.name for p in runs.iterdir() if (p / "run.json").is_file())
    assert ids
    with serving(root / name, runs, root / f"{name}-server.log") as url:
        pg = chromium.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
        try:
            pg.goto(url)
            pg.wait_for_function("document.body.dataset.rendered")
            for rid in ids:
                pg.keyboard.press("Escape")  # no menu left open
                pg.click("#run")
                option = pg.locator(f"[role=option] .run-id:text-is('{rid}')")
                option.wait_for()
                option.click()
                pg.wait_for_function(f"document.body.dataset.rendered.startsWith('{rid}:')")
                pg.wait_for_timeout(300)
                blocks = pg.evaluate(LEGEND)
                assert blocks, rid
                for head, kind, unit in blocks:
                    ok = kind == "categories" or unit == "1" or head.endswith("]")
                    assert ok, (rid, head, kind, unit)
        finally:
            pg.close()
    assert errors == [], errors
