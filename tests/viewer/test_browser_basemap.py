"""The local basemap in headless Chromium: a small real twin (Montpellier's buildings around
the Comédie) over vector tiles of the city's districts and streets (PMTiles), served by
`twin serve` itself.

The page asks the viewer for its tiles and nothing else leaves the machine; where no layer of
the twin is drawn, the map shows the basemap's land colour (the style the server declares);
unchecking *Basemap* with the mouse takes it away; it is under every map of every view and
in presentation mode; its attribution is read on the map and on the PNG sheet.
"""

from __future__ import annotations

import gzip
import io
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.io.basemap import open_archive
from twin.model.basemap import twin_basemap
from twin.store.twinstore import open_twin
from twin.viewer.basemap import VECTOR_STYLE

from ..io._tiles import COMEDIE, tile_of
from ._basemap import ATTRIBUTION, basemap_twin
from ._synthetic import synthetic_run, write_run
from .browser import ARGS, CHROMIUM, open_file_page, read_image, select, serving

#: The colours of the style's land and roads, and the map's own background (RGB).
LAND = np.array(next(c for c in VECTOR_STYLE["classes"] if c["name"] == "land")["fill"][:3])
ROAD = np.array(next(c for c in VECTOR_STYLE["classes"] if c["name"] == "road")["line"][:3])
BACKGROUND = np.array([240, 242, 245])  # (a few units lighter as shown: within 15)

#: Whether every map shown draws (@ON@ true) or not the basemap, in a frame the GPU finished
#: with every layer loaded.
BASEMAP_DRAWN = """() => Object.values(window.twinDecks).every(d =>
  d.props.layers.some(l => l.id.startsWith('basemap-')) === @ON@ &&
  d._twinFullSeq === d._twinSeq)"""


@pytest.fixture(scope="module")
def twin_dir(montpellier: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return basemap_twin(tmp_path_factory.mktemp("basemap-browser"), montpellier, "vector")


@pytest.fixture(scope="module")
def runs(twin_dir: Path) -> Path:
    """A run and its child (synthetic outputs, away from Montpellier): the views that compare
    (side by side, swipe, difference) are offered."""
    out = twin_dir.parent / "runs"
    write_run(synthetic_run("ref"), out)
    child = synthetic_run("heat", offset=2.0)
    child.manifest["parent_run"] = "ref-0"
    write_run(child, out)
    return out


@pytest.fixture(scope="module")
def server(twin_dir: Path, runs: Path) -> Iterator[str]:
    with serving(twin_dir, runs, runs / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    """The page, with every request noted (``requests``), every request to another host
    refused and noted (``away``), the tiles' answers (``tiles``) and the console's errors
    (``errors``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        pg.set_default_timeout(60_000)
        pg.requests, pg.away, pg.tiles, pg.errors = [], [], [], []
        pg.on("request", lambda r: pg.requests.append(r.url))
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
        pg.on(
            "response",
            lambda r: (
                pg.tiles.append((r.url, r.status, r.headers.get("content-type")))
                if "/basemap/" in r.url
                else None
            ),
        )

        def guard(route: Any) -> None:
            if route.request.url.startswith(server):
                route.continue_()
            else:
                pg.away.append(route.request.url)
                route.abort()

        pg.route("**/*", guard)
        pg.goto(server)
        pg.wait_for_function("document.body.dataset.painted")
        pg.wait_for_function(BASEMAP_DRAWN.replace("@ON@", "true"))
        yield pg
        browser.close()


def pixels(pg: Any, selector: str) -> np.ndarray:
    """An element's pixels as shown (RGB)."""
    from PIL import Image

    png = pg.locator(selector).screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def near(px: np.ndarray, colour: np.ndarray, tol: int = 6) -> np.ndarray:
    return np.abs(px - colour).sum(axis=-1) <= tol


def middle(px: np.ndarray) -> np.ndarray:
    """The middle of a map's pixels, away from what is written over it (caption, camera
    tools, scale bar, attribution)."""
    h, w = px.shape[:2]
    return px[int(h * 0.12) : int(h * 0.82), int(w * 0.1) : int(w * 0.75)]


def test_basemap_under_the_twin_and_toggled_off_by_a_click(page: Any, server: str) -> None:
    """Where no layer of the twin is drawn (the map's background once the basemap is off),
    the map shows the basemap's land and roads, from tiles the viewer served; the twin's
    buildings are drawn over it, as without it. A click on *Basemap* takes it away,
    attribution included, and a second click brings it back."""
    on = middle(pixels(page, "#map-left canvas"))
    assert page.inner_text("#map-left .basemap-attribution") == ATTRIBUTION

    page.click("#layers >> text=Basemap")
    page.wait_for_function(BASEMAP_DRAWN.replace("@ON@", "false"))
    off = middle(pixels(page, "#map-left canvas"))
    gone = page.locator(".basemap-attribution").count()
    page.click("#layers >> text=Basemap")  # on again (the other tests see it on)
    page.wait_for_function(BASEMAP_DRAWN.replace("@ON@", "true"))
    again = middle(pixels(page, "#map-left canvas"))
    assert page.inner_text("#map-left .basemap-attribution") == ATTRIBUTION

    assert gone == 0
    empty = near(off, BACKGROUND, 15)
    assert 0.5 < empty.mean() < 0.98, empty.mean()  # buildings cover a part of the map
    assert near(off, LAND).sum() == 0
    land, road = near(on[empty], LAND).mean(), near(on[empty], ROAD).mean()
    assert land > 0.6 and land + road > 0.9, (land, road)
    # the buildings, over the basemap, as they are without it (roofs let 10 % through)
    drawn = ~empty & (np.abs(off - BACKGROUND).sum(axis=-1) > 60)
    same = np.abs(on - off).sum(axis=-1)[drawn] < 20
    assert drawn.sum() > 1000 and same.mean() > 0.95, (drawn.sum(), same.mean())

    assert near(again[empty], LAND).mean() > 0.6

    # tiles came from the viewer, as vector tiles; nothing left the machine
    assert page.away == [] and all(u.startswith(server) for u in page.requests)
    ok = [t for t in page.tiles if t[1] == 200]
    assert ok and all(t[2] == "application/x-protobuf" for t in ok), page.tiles
    assert {t[1] for t in page.tiles} <= {200, 204, 304}, page.tiles
    assert page.errors == []


@pytest.mark.parametrize(("mode", "maps"), [("Side by side", 2), ("Swipe", 2), ("Difference", 1)])
def test_basemap_under_every_map_of_every_view(page: Any, mode: str, maps: int) -> None:
    """Side by side, swipe and difference: every map draws the basemap and carries its
    attribution; the maps' area shows its land."""
    select(page, "heat", mode)
    page.wait_for_function(BASEMAP_DRAWN.replace("@ON@", "true"))
    ids = page.evaluate("Object.keys(window.twinDecks)")
    assert len(ids) == maps, ids
    shown = pixels(page, ".maps")  # as a person sees them (the swipe clips the right map)
    box = page.locator(".maps").bounding_box()
    for el in ids:
        m = page.locator(f"#{el}").bounding_box()
        x0, y0 = int(m["x"] - box["x"]), int(m["y"] - box["y"])
        part = middle(shown[y0 : y0 + int(m["height"]), x0 : x0 + int(m["width"])])
        assert near(part, LAND).mean() > 0.4, (el, near(part, LAND).mean())
        assert page.inner_text(f"#{el} .basemap-attribution") == ATTRIBUTION
    assert page.errors == []


def test_basemap_in_presentation_mode_and_on_the_png_sheet(page: Any, tmp_path: Path) -> None:
    """Presentation mode keeps the basemap and its attribution; the PNG sheet's attribution
    line names it (read by OCR) and its maps show its land."""
    from PIL import Image

    select(page, "heat", "Side by side")
    page.click("#present")
    page.wait_for_function("document.body.classList.contains('presenting')")
    try:
        page.wait_for_timeout(500)  # the maps are resized: a new frame
        page.wait_for_function(BASEMAP_DRAWN.replace("@ON@", "true"))
        assert near(middle(pixels(page, "#map-left canvas")), LAND).mean() > 0.4
        assert page.locator("#map-left .basemap-attribution").is_visible()
    finally:
        page.click("#present")
        page.wait_for_function("!document.body.classList.contains('presenting')")
    page.wait_for_function(BASEMAP_DRAWN.replace("@ON@", "true"))
    with page.expect_download() as dl:
        page.click("#png")
    path = tmp_path / "sheet.png"
    dl.value.save_as(path)
    text = read_image(path)
    assert "Licence Ouverte 2.0" in text and "Ville de Montpellier (etalab-2.0)" in text, text
    sheet = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert near(sheet, LAND).mean() > 0.3
    assert page.errors == []


def test_offline_export_shows_the_basemap_from_disk(
    page: Any, twin_dir: Path, runs: Path, tmp_path: Path
) -> None:
    """The offline comparison, opened from disk with every other request refused, draws the
    basemap under both maps from the tiles it carries (vector tiles parsed by the worker it
    carries too), with its attribution on the maps and in the page's footer."""
    from twin.viewer.offline import export_comparison

    out = export_comparison(twin_dir, "heat-0", tmp_path / "comparaison.html", runs_dir=runs)
    requests: list[str] = []
    errors: list[str] = []
    pg = open_file_page(page.context.browser, out, requests, errors)
    try:
        pg.wait_for_function(BASEMAP_DRAWN.replace("@ON@", "true"))
        pg.wait_for_timeout(500)
        for el in ("#map-left", "#map-right"):
            assert near(middle(pixels(pg, f"{el} canvas")), LAND).mean() > 0.4, el
            assert pg.locator(f"{el} .basemap-attribution").inner_text() == ATTRIBUTION
        assert ATTRIBUTION in pg.locator("#attribution").inner_text()
        assert requests == [] and errors == [], (requests, errors)
    finally:
        pg.close()


def test_tiles_from_many_clients_at_once(server: str, twin_dir: Path) -> None:
    """The real server (8 threads) answers 240 tile requests from 8 clients at once, each with
    the archive's own bytes."""
    rec = twin_basemap(open_twin(twin_dir).meta)
    assert rec is not None
    x, y = tile_of(*COMEDIE, 14)
    keys = [(14, x + dx, y + dy) for dx in range(-3, 3) for dy in range(-2, 3)] * 8
    archive = open_archive(rec.path)
    want = {k: archive.tile(*k) for k in set(keys)}
    archive.close()

    def get(k: tuple[int, int, int]) -> tuple[int, bytes]:
        req = urllib.request.Request(
            f"{server}basemap/{k[0]}/{k[1]}/{k[2]}", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(get, keys))
    for k, (status, body) in zip(keys, got, strict=True):
        t = want[k]
        assert (status, body) == ((204, b"") if t is None else (200, t.data)), k
    assert sum(t is not None for t in want.values()) > 10
    assert all(gzip.decompress(b)[:1] == b"\x1a" for s, b in got if s == 200)


#: Features of common vector tile schemas (source layer, ``kind``, ``class``), the accessor
#: that shows them (polygons filled, lines stroked) and the style's class they must take.
SCHEMAS = [
    # OpenMapTiles
    ("water", None, "lake", "getFillColor", "water"),
    ("waterway", None, "river", "getLineColor", "water"),
    ("landcover", None, "grass", "getFillColor", "green"),
    ("landcover", None, "farmland", "getFillColor", "land"),
    ("park", None, "national_park", "getFillColor", "green"),
    ("building", None, None, "getFillColor", "building"),
    ("transportation", None, "primary", "getLineColor", "road"),
    ("boundary", None, None, "getLineColor", "boundary"),
    # Protomaps
    ("earth", "earth", None, "getFillColor", "land"),
    ("landcover", "urban_area", None, "getFillColor", "land"),
    ("landcover", "forest", None, "getFillColor", "green"),
    ("landuse", "park", None, "getFillColor", "green"),
    ("landuse", "golf_course", None, "getFillColor", "land"),
    ("roads", "major_road", None, "getLineColor", "road"),
    ("boundaries", "country", None, "getLineColor", "boundary"),
    # French layer names
    ("cours_d_eau", None, None, "getLineColor", "water"),
    ("plan_d_eau", None, None, "getFillColor", "water"),
    ("hydro_surf", None, None, "getFillColor", "water"),
    ("reseau_routier", None, None, "getLineColor", "road"),
    ("espace_vert", None, None, "getFillColor", "green"),
    ("bati_indifferencie", None, None, "getFillColor", "building"),
]


def test_vector_style_names_the_classes_of_common_schemas(page: Any) -> None:
    """The basemap layer drawn on the map colours features of OpenMapTiles, Protomaps and
    French layer names by what they are: its own accessors, called with such features."""
    got = page.evaluate(
        """cases => {
          const d = window.twinDecks['map-left'];
          const layer = d.props.layers.find(l => l.id.startsWith('basemap-'));
          return cases.map(([layerName, kind, cls, accessor]) => {
            const properties = {layerName: layerName};
            if (kind) properties.kind = kind;
            if (cls) properties.class = cls;
            return Array.from(layer.props[accessor]({properties: properties}));
          });
        }""",
        [list(c[:4]) for c in SCHEMAS],
    )
    classes = {c["name"]: c for c in VECTOR_STYLE["classes"]}
    for case, colour in zip(SCHEMAS, got, strict=True):
        accessor, name = case[3], case[4]
        want = classes[name]["fill" if accessor == "getFillColor" else "line"]
        assert colour == want, (case, colour)
