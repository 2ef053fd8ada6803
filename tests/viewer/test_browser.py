"""The real viewer in headless Chromium: a 3D city on screen, scenarios that differ, the notice.

The server is started as a subprocess (`twin serve`), Chromium is Debian's (driven by
Playwright with ``executable_path``), WebGL runs on SwiftShader. Screenshots are saved under
the test's temporary directory.
"""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from ._synthetic import sensor_layer
from .browser import canvas_pixels, open_file_page, read_image, select, serving


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
    # the KPI chart (plotly, loaded once the map is on screen): one bar per KPI
    page.wait_for_selector("#chart .bars .point path", timeout=30_000)  # type: ignore[attr-defined]
    assert page.locator("#chart .bars .point").count() >= 3  # type: ignore[attr-defined]
    # the first view was drawn while the page loaded (started before Dash rendered it), once
    marks = page.evaluate("performance.getEntriesByType('mark').map(m => m.name)")  # type: ignore[attr-defined]
    first = page.evaluate("document.body.dataset.rendered")  # type: ignore[attr-defined]
    assert marks.index("twin:prewarm") < marks.index("twin:render left")
    assert marks.count(f"twin:painted {first}") == 1
    assert page.evaluate("document.body.dataset.painted") == first  # type: ignore[attr-defined]
    # in one frame: not small then resized, not again for an unchanged size or overlay
    assert page.evaluate("window.twinDecks['map-left']._twinFrames") == 1  # type: ignore[attr-defined]
    # roofs and walls give the building's tooltip (in English, the language served)
    tips = page.evaluate(BUILDING_TIPS)  # type: ignore[attr-defined]
    assert {"walls-left", "buildings-left"} <= set(tips), tips
    assert all(
        t.startswith("Building\nHeight: ") and " m\nColour scale: " in t for t in tips.values()
    ), tips


def test_hover_shows_the_tooltip_on_the_main_map(page: object) -> None:
    """A person moves the mouse over a building of the first map shown: deck.gl's tooltip
    appears over the map, in view, naming the building (the first map is drawn before Dash
    builds the page; its tooltip used to stay behind in the hidden placeholder)."""
    at = page.evaluate(FIND_BUILDING)  # type: ignore[attr-defined]
    box = page.locator("#map-left canvas").bounding_box()  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + at[0] - 30, box["y"] + at[1] - 30)  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + at[0], box["y"] + at[1], steps=5)  # type: ignore[attr-defined]
    tip = page.locator("#map-left .deck-tooltip")  # type: ignore[attr-defined]
    tip.wait_for(state="visible", timeout=10_000)
    assert tip.inner_text().startswith("Building\n"), tip.inner_text()
    tb = tip.bounding_box()
    assert box["x"] <= tb["x"] <= box["x"] + box["width"], (tb, box)  # on the map, not off-page
    assert box["y"] <= tb["y"] <= box["y"] + box["height"], (tb, box)
    assert page.locator(".twin-ghost").count() == 0  # type: ignore[attr-defined]
    page.mouse.move(2, 2)  # type: ignore[attr-defined]


#: A point of the left map where the pointer would pick the result grid (nothing above it):
#: [x, y, lon, lat].
FIND_GRID_CELL = """() => {
  const d = window.twinDecks['map-left']; const vp = d.getViewports()[0];
  for (let y = 80; y < vp.height - 40; y += 23) {
    for (let x = 60; x < vp.width - 60; x += 23) {
      const hit = d.pickObject({x: x, y: y, radius: 0});
      if (hit && hit.layer.id.startsWith('grid') && hit.bitmap) {
        const ll = vp.unproject([x, y]);
        return [x, y, ll[0], ll[1]];
      }
    }
  }
  return null;
}"""


def test_hover_on_the_result_grid_gives_the_cell_value(page: object, runs: Path) -> None:
    """A person hovers over the heat grid of a run: the tooltip says it is a grid cell and
    gives the value of the cell under the pointer (checked against the run's own grid, at the
    point the pointer is over, reprojected independently)."""
    from pyproj import Transformer

    from twin.scenario.runner import Run
    from twin.viewer.layers import result_slots

    select(page, "trees", "Scenario")
    at = page.evaluate(FIND_GRID_CELL)  # type: ignore[attr-defined]
    assert at is not None, "no grid cell free of buildings and roads on the map"
    box = page.locator("#map-left canvas").bounding_box()  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + at[0] - 20, box["y"] + at[1] - 20)  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + at[0], box["y"] + at[1], steps=4)  # type: ignore[attr-defined]
    tip = page.locator("#map-left .deck-tooltip")  # type: ignore[attr-defined]
    tip.wait_for(state="visible", timeout=10_000)
    lines = tip.inner_text().split("\n")
    page.mouse.move(2, 2)  # type: ignore[attr-defined]
    assert lines[0] == "Grid cell", lines
    name, value = lines[1].split(": ")
    run_id = page.evaluate("document.body.dataset.rendered").split(":")[0]  # type: ignore[attr-defined]
    grid, _, _, hint = result_slots(Run.open(runs / run_id))["grid"]
    assert name == hint["label"]["en"], lines
    x, y = Transformer.from_crs(4326, grid.rio.crs, always_xy=True).transform(at[2], at[3])
    expected = float(grid.sel(x=x, y=y, method="nearest"))
    shown = float(value.split()[0].replace(",", ""))
    assert shown == pytest.approx(expected, rel=6e-3, abs=1e-3), (lines, expected)


def test_page_fits_the_window_and_says_its_language(page: object) -> None:
    """The page is exactly the window's height (the header never scrolls away) and its
    ``<html lang>`` is the interface language (it follows the FR/EN switch: see
    :func:`test_tooltips_follow_the_interface_language`)."""
    fits = "document.documentElement.scrollHeight <= window.innerHeight"
    assert page.evaluate("document.documentElement.lang") == "en"  # type: ignore[attr-defined]
    assert page.evaluate(fits), page.evaluate("document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    assert page.evaluate("window.scrollY") == 0  # type: ignore[attr-defined]


#: Tooltips of the first wall and the first roof found on a grid of points over the map.
BUILDING_TIPS = """() => {
  const d = window.twinDecks['map-left'], out = {};
  for (let y = 40; y < d.height - 40; y += 23) for (let x = 40; x < d.width - 40; x += 23) {
    const hit = d.pickObject({x: x, y: y, radius: 0, layerIds: ['walls-left', 'buildings-left']});
    if (hit && !(hit.layer.id in out)) out[hit.layer.id] = d.props.getTooltip(hit).text;
  }
  return out;
}"""


#: The screen position [CSS px] of the first roof found on a grid of points over the map.
FIND_BUILDING = """() => {
  const d = window.twinDecks['map-left'];
  for (let y = 40; y < d.height - 40; y += 23) for (let x = 40; x < d.width - 40; x += 23) {
    if (d.pickObject({x: x, y: y, radius: 0, layerIds: ['buildings-left']})) return [x, y];
  }
  return null;
}"""

#: The tooltips of the roof and of the road link at two screen positions [CSS px].
TIPS_AT = """(at) => {
  const d = window.twinDecks['map-left'];
  const tip = (p, id) => {
    const hit = d.pickObject({x: p[0], y: p[1], radius: 0, layerIds: [id]});
    return hit ? d.props.getTooltip(hit).text : null;
  };
  return [tip(at[0], 'buildings-left'), tip(at[1], 'roads-left')];
}"""


def test_tooltips_follow_the_interface_language(page: object) -> None:
    """The same building's and road's tooltips, in French once *FR* is clicked and in English
    again after *EN* (no reload): the words and the names of the values change (declared
    names, not column names), the numbers are written the language's way, units stay."""
    at = [page.evaluate(FIND_BUILDING), page.evaluate(FIND_ROAD)[:2]]  # type: ignore[attr-defined]
    en = page.evaluate(TIPS_AT, at)  # type: ignore[attr-defined]
    # English (served so): what it is, value with unit, colour scale
    building, road = (t.split("\n") for t in en)
    assert building[0] == "Building" and road[0] == "Road section", en
    assert building[1].startswith("Height: ") and building[1].endswith(" m"), en
    assert road[1].startswith("Free-flow speed: ") and road[1].endswith(" km/h"), en
    assert building[2].startswith("Colour scale: ") and road[2].startswith("Colour scale: "), en
    assert len(building) == len(road) == 3, en

    def switched(lang: str, first_line: str) -> list[str]:
        page.click(f'#lang >> text="{lang}"')  # type: ignore[attr-defined]
        page.wait_for_function(  # type: ignore[attr-defined]
            f"(at) => ({TIPS_AT})(at)[0].split('\\n')[0] === {first_line!r}", arg=at
        )
        return page.evaluate(TIPS_AT, at)  # type: ignore[attr-defined]

    fr = switched("FR", "Bâtiment")

    def french(text: str) -> str:  # the same numbers, as French writes them
        return text.replace(",", "\u202f").replace(".", ",")

    value_b, scale_b = (french(x.split(": ")[1]) for x in building[1:3])
    value_r, scale_r = (french(x.split(": ")[1]) for x in road[1:3])
    assert fr == [
        f"Bâtiment\nHauteur : {value_b}\nÉchelle de couleurs : {scale_b}",
        f"Tronçon de voirie\nVitesse à vide : {value_r}\nÉchelle de couleurs : {scale_r}",
    ]
    assert page.inner_text("#layers-label") == "Couches"  # type: ignore[attr-defined]
    assert page.evaluate("document.documentElement.lang") == "fr"  # type: ignore[attr-defined]
    # the dropdowns' own words too (Dash's default to English)
    page.click("#run")  # type: ignore[attr-defined]
    page.get_by_placeholder("Rechercher").wait_for(timeout=10_000)  # type: ignore[attr-defined]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    # French numbers in the KPI cards and the legend: groups by narrow no-break spaces,
    # decimal commas, never "22,011" (which a French reader reads as 22; "0,091" is a
    # decimal, an English thousands group never starts with 0)
    page.wait_for_function(
        "document.getElementById('kpis').innerText.includes('mieux') || "
        "document.getElementById('kpis').innerText.includes('moins bien')"
    )
    shown = page.inner_text("#kpis") + page.inner_text("#legend")  # type: ignore[attr-defined]
    assert not re.search(r"(?<![\d,])[1-9]\d{0,2},\d{3}\b", shown), shown
    assert re.search(r"\d\u202f\d{3}", shown) and re.search(r"\d,\d", shown), shown
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")  # type: ignore[attr-defined]
    assert switched("EN", "Building") == en
    assert page.evaluate("document.documentElement.lang") == "en"  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


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
    secret = "s3cret-long-enough-token"
    app = make_app(demo_dir, runs, host="0.0.0.0", token=secret)
    client = app.server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    ok = client.get(f"/?token={secret}")
    # the token leaves the address bar; the cookie holds a session value, not the token
    assert ok.status_code == 303 and ok.headers["Location"] == "/"
    cookie = ok.headers.get("Set-Cookie", "")
    assert "twin_session=" in cookie and secret not in cookie and "Max-Age" in cookie
    assert client.get("/").status_code == 200  # the cookie now opens the page


def test_offline_html_comparison_from_file(
    page: object, demo_dir: Path, runs: Path, tmp_path: Path
) -> None:
    """The exported comparison opens from file:// with every network request refused."""
    from twin.viewer.offline import export_comparison

    rid = next(p.name for p in runs.iterdir() if p.name.startswith("closure-"))
    out = export_comparison(demo_dir, rid, tmp_path / "comparison.html", runs_dir=runs, lang="fr")
    text = out.read_text()
    assert "http://" not in text.split("<script>")[0] and "Temps moyen de parcours" in text
    requests: list[str] = []
    pg = open_file_page(page.context.browser, out, requests, [])  # type: ignore[attr-defined]
    try:
        pg.screenshot(path=str(tmp_path / "offline.png"))
        assert pg.locator("canvas").count() == 2
        left, right = canvas_pixels(pg, 0), canvas_pixels(pg, 1)
        tips = pg.evaluate(BUILDING_TIPS)  # in the language of the export
    finally:
        pg.close()
    assert requests == []
    assert tips and all(
        t.startswith("Bâtiment\nHauteur : ") and " m\nÉchelle de couleurs : " in t
        for t in tips.values()
    ), tips
    drawn = np.abs(right - np.array([240, 242, 245])).sum(axis=2) > 30
    assert drawn.mean() > 0.15
    h, w = min(left.shape[0], right.shape[0]), min(left.shape[1], right.shape[1])
    assert (np.abs(left[:h, :w] - right[:h, :w]).sum(axis=2) > 40).mean() > 0.001


def test_png_sheet_has_title_captions_legend_kpis_and_attribution(
    page: object, tmp_path: Path
) -> None:
    """The PNG a person downloads for a meeting shows the maps with what each one is, the
    legend with its unit and colours, the headline results and the attribution (read off the
    image by OCR; the colours checked on its pixels)."""
    from PIL import Image

    select(page, "trees", "Side by side")
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#png")  # type: ignore[attr-defined]
    path = tmp_path / "snapshot.png"
    dl.value.save_as(path)
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    maps_w = page.evaluate(  # type: ignore[attr-defined]
        "Array.from(document.querySelectorAll('.map canvas')).filter(c => c.offsetParent)"
        ".reduce((s, c) => s + c.width, 0)"
    )
    assert img.shape[1] > maps_w + 200  # a legend column beside the two maps
    text = read_image(path)
    assert "OpenStreetMap" in text, text
    assert "Reference:" in text and "Trees on the Esplanadi" in text, text
    assert "Baseline" in text, text
    heads = page.locator("#legend .legend-item > div:first-child").all_inner_texts()  # type: ignore[attr-defined]
    assert any("[m]" in h for h in heads), heads
    assert "Height [m]" in text, text
    kpi = page.locator("#kpis > .kpi .kpi-label").first.inner_text()  # type: ignore[attr-defined]
    assert kpi.split()[0] in text, (kpi, text)
    # the first legend ramp's end colours are in the legend column
    ramp = page.locator("#legend .ramp").first.evaluate("e => e.style.background")  # type: ignore[attr-defined]
    stops = [list(map(int, c)) for c in re.findall(r"rgb\((\d+), (\d+), (\d+)\)", ramp)]
    column = img[:, maps_w:]
    for c in (stops[0], stops[-1]):
        assert (np.abs(column - c).sum(axis=2) < 12).sum() > 50, c
    # the maps are drawn (not blank) under the title band
    drawn = np.abs(img[60:, :maps_w] - [240, 242, 245]).sum(axis=2) > 30
    assert drawn.mean() > 0.15


def test_presentation_mode_keeps_legend_and_titles(page: object) -> None:
    """Presentation mode hides the side panel but keeps the legend (with its unit) and writes
    what each map shows on it; the next comparison updates them."""
    select(page, "trees", "Side by side")
    page.click("#present")  # type: ignore[attr-defined]
    page.wait_for_function("document.body.classList.contains('presenting')")  # type: ignore[attr-defined]
    try:
        assert not page.locator("#run").is_visible()  # type: ignore[attr-defined]
        assert not page.locator(".whatif").is_visible()  # type: ignore[attr-defined]
        legend = page.locator("#legend")  # type: ignore[attr-defined]
        assert legend.is_visible() and "[m]" in legend.inner_text()
        caps = page.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
        assert caps[0].startswith("Reference: Baseline"), caps
        assert caps[1] == "Scenario: Trees on the Esplanadi", caps
        box = legend.bounding_box()
        mapbox = page.locator("#map-right").bounding_box()  # type: ignore[attr-defined]
        assert box["x"] > mapbox["x"] and box["y"] < mapbox["y"] + mapbox["height"]  # over it
        before = page.evaluate("document.body.dataset.rendered")  # type: ignore[attr-defined]
        page.click("#next")  # type: ignore[attr-defined]
        page.wait_for_function(  # type: ignore[attr-defined]
            f"document.body.dataset.rendered !== {before!r}"
        )
        page.wait_for_timeout(500)  # type: ignore[attr-defined]
        after = page.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
        assert after and after != caps, after
    finally:
        page.click("#present")  # type: ignore[attr-defined]
        page.wait_for_function("!document.body.classList.contains('presenting')")  # type: ignore[attr-defined]


#: Finds a road link whose middle is on screen and picks to itself: [x, y, index].
FIND_ROAD = """() => {
  const d = window.twinDecks['map-left']; const vp = d.getViewports()[0];
  const r = window.twinBase.roads;
  const dec = (s, T) => { const b = atob(s); const u = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return new T(u.buffer); };
  const pos = dec(r.positions, Float32Array), st = dec(r.startIndices, Uint32Array);
  const n = pos.length / 2;
  for (let i = 0; i < r.length; i += 3) {
    const a = st[i], b = i + 1 < r.length ? st[i + 1] : n;
    if (b - a < 2) continue;
    const k = a + Math.floor((b - a) / 2) - 1;
    const [px, py] = vp.project([(pos[2*k] + pos[2*k+2]) / 2, (pos[2*k+1] + pos[2*k+3]) / 2]);
    if (px < 60 || py < 60 || px > vp.width - 60 || py > vp.height - 60) continue;
    if (window.twinRoadAt(px, py, 0) === i) return [px, py, i];  // the viewer's own picking
  }
  return null;
}"""


def kpi_texts(pg: object) -> list[str]:
    return pg.locator(".kpi").all_inner_texts()  # type: ignore[attr-defined]


def test_whatif_flow_from_clicks(page: object, tmp_path: Path) -> None:
    """Click a street on the canvas, draw an area, see errors, launch, get the comparison."""
    select(page, "closure", "Difference")
    page.click("#whatif summary")  # type: ignore[attr-defined]
    # the editor starts from the run on screen
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('wi-parent').textContent.includes('closure-')"
    )
    page.fill("#wi-name", "whatif_e2e")  # type: ignore[attr-defined]
    page.press("#wi-name", "Enter")  # type: ignore[attr-defined]
    box = page.locator("#map-left canvas").bounding_box()  # type: ignore[attr-defined]

    # draw a tree area (3 clicks), check the editor counted the vertices, then clear it
    page.click("#wi-tool >> text=/Draw an area/")  # type: ignore[attr-defined]
    page.wait_for_function("window.twinTool === 'draw'")  # type: ignore[attr-defined]
    for dx, dy in ((200, 150), (420, 160), (330, 330)):
        page.mouse.click(box["x"] + dx, box["y"] + dy)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('wi-area').textContent.startsWith('3 ')"
    )
    page.screenshot(path=str(tmp_path / "whatif-area.png"))  # type: ignore[attr-defined]
    page.click("#wi-clear")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('wi-area').textContent.startsWith('0 ')"
    )

    # invalid form: the problem is shown under the list of changes, nothing is launched
    page.click("#wi-launch")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('wi-err-changes').textContent.includes('add at least one')"
    )

    # close a street by clicking it on the canvas
    page.click("#wi-tool >> text=/Close a street/")  # type: ignore[attr-defined]
    page.wait_for_function("window.twinTool === 'close'")  # type: ignore[attr-defined]
    xy = page.evaluate(FIND_ROAD)  # type: ignore[attr-defined]
    assert xy is not None, "no road link visible on the canvas"
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])  # type: ignore[attr-defined]
    page.wait_for_function("document.body.dataset.picked !== undefined")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('wi-links').textContent.includes(':')"
    )
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "whatif-picked.png"))  # type: ignore[attr-defined]
    before_px = canvas_pixels(page)
    before_kpis = kpi_texts(page)

    page.click("#wi-launch")  # type: ignore[attr-defined]
    page.wait_for_selector(".job.running, .job.queued, .job.done")  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "whatif-progress.png"))  # type: ignore[attr-defined]
    page.wait_for_selector(".job.done, .job.failed", timeout=240_000)  # type: ignore[attr-defined]
    assert page.locator(".job.failed").count() == 0, page.inner_text("#jobs-list")  # type: ignore[attr-defined]
    # the new run is in the picker and shown, as a difference against its parent
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.body.dataset.rendered.startsWith('whatif_e2e-')", timeout=60_000
    )
    page.wait_for_timeout(2500)  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "whatif-done.png"))  # type: ignore[attr-defined]
    after_px = canvas_pixels(page)
    after_kpis = kpi_texts(page)
    assert page.inner_text("#run").strip() == "whatif_e2e"  # type: ignore[attr-defined]  # its title
    assert page.evaluate("document.body.dataset.rendered").startswith("whatif_e2e-")  # type: ignore[attr-defined]
    changed = np.abs(before_px - after_px).sum(axis=2) > 40
    assert changed.mean() > 0.01, changed.mean()
    assert after_kpis != before_kpis
    # the closed link shortens the open network: that KPI moved against the parent
    net = next(t for t in after_kpis if t.startswith("Open network"))
    assert "-" in net.splitlines()[-1] and not net.splitlines()[-1].startswith("+0")
    # the next what-if starts empty from the new run: the closure is not carried over
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('wi-parent').textContent.includes('whatif_e2e-')"
    )
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('wi-overlay-done').textContent === '0:0'"
    )
    assert ":" not in page.inner_text("#wi-links")  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def test_time_slider_steps_time_varying_layers(page: object, tmp_path: Path) -> None:
    """A run with an hourly grid shows the slider; stepping it changes the picture."""
    select(page, "heatwave", "Scenario")
    assert page.locator("#time-box").is_visible()  # type: ignore[attr-defined]
    assert "12:00" in page.inner_text("#time-box")  # type: ignore[attr-defined]
    first = page.evaluate("document.body.dataset.rendered")  # type: ignore[attr-defined]
    a = canvas_pixels(page)
    page.screenshot(path=str(tmp_path / "time-first.png"))  # type: ignore[attr-defined]
    page.click("#time-box .rc-slider-handle, #time-box [role=slider]")  # type: ignore[attr-defined]
    page.keyboard.press("End")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.body.dataset.rendered !== {first!r}"
    )
    page.wait_for_timeout(2000)  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "time-last.png"))  # type: ignore[attr-defined]
    assert page.evaluate("document.body.dataset.rendered").endswith("T14:00")  # type: ignore[attr-defined]
    b = canvas_pixels(page)
    assert (np.abs(a - b).sum(axis=2) > 40).mean() > 0.02
    # other runs have no time axis: the slider hides
    select(page, "closure", "Scenario")
    assert not page.locator("#time-box").is_visible()  # type: ignore[attr-defined]


def test_pick_the_result_drawn(page: object) -> None:
    """A planner picks another result of the run (the volume/capacity ratio of the links
    instead of their flow): the map and its legend follow, in the interface language."""
    select(page, "closure", "Scenario")
    legend = page.inner_text("#legend")  # type: ignore[attr-defined]
    assert "Traffic flow" in legend and "[veh/h]" in legend, legend
    before = canvas_pixels(page)
    page.click("#result")  # type: ignore[attr-defined]
    page.get_by_text("Volume / capacity (link_flows)").click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.body.dataset.rendered.endsWith(':link_flows/v_c')"
    )
    page.wait_for_timeout(2500)  # type: ignore[attr-defined]
    legend = page.inner_text("#legend")  # type: ignore[attr-defined]
    assert "Volume / capacity" in legend and "Traffic flow" not in legend, legend
    assert (np.abs(canvas_pixels(page) - before).sum(axis=2) > 40).mean() > 0.002
    assert page.errors == []  # type: ignore[attr-defined]


def test_whole_street_closure_from_the_search(page: object, demo_dir: Path) -> None:
    """A planner types a street's name in the editor's search and picks "Whole street": every
    directed link of the street is selected and highlighted (the search lists 50 links and
    says how many more there are; it used to close 50 of them silently)."""
    from twin.store.twinstore import open_twin

    links = open_twin(demo_dir)["roads"].links
    n = int((links["name"] == "Mannerheimintie").sum())
    if not page.locator("#wi-links").is_visible():  # type: ignore[attr-defined]
        page.click("#whatif summary")  # type: ignore[attr-defined]
    page.click("#wi-links")  # type: ignore[attr-defined]
    page.get_by_placeholder("Search").click()  # type: ignore[attr-defined]
    page.keyboard.type("Mannerheim", delay=120)  # type: ignore[attr-defined]
    whole = page.get_by_text(f"Whole street: Mannerheimintie ({n} links)")  # type: ignore[attr-defined]
    whole.wait_for(timeout=30_000)
    assert page.get_by_text(f"… {n - 50} more links").count() == 1  # type: ignore[attr-defined]
    whole.click()
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.getElementById('wi-overlay-done').textContent.startsWith('{n}:')",
        timeout=30_000,
    )
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def sensor_twin(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo twin plus the synthetic counters of :func:`sensor_layer` near its centre."""
    from twin.store.twinstore import open_twin

    t = open_twin(demo_dir)
    x0, y0, x1, y1 = t.extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    t.add(sensor_layer(cx - 60, cy - 60, t.crs.to_epsg(), name="counts"))
    out = tmp_path_factory.mktemp("sensors") / "twin"
    t.save(out)
    return out


#: Tooltips of the sensors found on a grid of points over the map, by layer id, and the
#: screen positions of the sensors [CSS px].
SENSOR_TIPS = """() => {
  const d = window.twinDecks['map-left'], vp = d.getViewports()[0], tips = {};
  const ids = d.props.layers.map(l => l.id).filter(i => i.startsWith('sensors-'));
  for (let y = 20; y < d.height - 20; y += 12) for (let x = 20; x < d.width - 20; x += 12) {
    const hit = d.pickObject({x: x, y: y, radius: 6, layerIds: ids});
    if (hit) tips[d.props.getTooltip(hit).text] = hit.layer.id;
  }
  const p = window.twinBase.sensors[0];
  const b = atob(p.positions), u = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
  const xy = new Float32Array(u.buffer), at = [];
  for (let i = 0; i < p.length; i++) at.push(vp.project([xy[2 * i], xy[2 * i + 1], 2]));
  return {ids: ids, tips: tips, at: at};
}"""

#: Whether the left map shows a frame with (@ON@ true) or without sensors, drawn by the GPU.
SENSORS_DRAWN = """() => {
  const d = window.twinDecks['map-left'];
  return d.props.layers.some(l => l.id.startsWith('sensors-')) === @ON@ &&
    d._twinDrawnSeq === d._twinSeq;
}"""


def test_sensors_tooltip_and_toggle(page: object, sensor_twin: Path, tmp_path: Path) -> None:
    """A twin with sensors: each sensor's tooltip (layer, id, time mean with unit,
    observations, first and last times; the two counters sharing a place together), and
    unchecking *Sensors* takes exactly them off the picture."""
    runs = tmp_path / "runs"  # no run: the twin's own layers only
    with serving(sensor_twin, runs, tmp_path / "server.log") as url:
        browser = page.context.browser  # type: ignore[attr-defined]
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        pg.set_default_timeout(60_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        try:
            pg.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort()
            )
            pg.goto(url)
            pg.wait_for_function("document.body.dataset.painted")
            pg.wait_for_timeout(1000)
            assert pg.locator("#layers >> text=Sensors").count() == 1
            legend = pg.inner_text("#legend")
            assert "Sensors (counts) — flow_veh_h, time mean [veh/h]" in legend
            found = pg.evaluate(SENSOR_TIPS)
            pg.click("#layers >> text=Sensors")
            pg.wait_for_function(SENSORS_DRAWN.replace("@ON@", "false"))
            pg.wait_for_timeout(500)
            pg.screenshot(path=str(tmp_path / "sensors-off.png"))
            off = canvas_pixels(pg)
            # checked again: compared with a frame drawn like it (the page's first frame,
            # drawn while the page loads, blends the translucent roofs a little differently)
            pg.click("#layers >> text=Sensors")
            pg.wait_for_function(SENSORS_DRAWN.replace("@ON@", "true"))
            pg.wait_for_timeout(500)
            pg.screenshot(path=str(tmp_path / "sensors-on.png"))
            on = canvas_pixels(pg)
            # in French: the tooltips' words follow, with French plurals (0 is singular)
            pg.evaluate(
                "() => { window.tipBefore = window.twinDecks['map-left'].props.getTooltip; }"
            )
            pg.click('#lang >> text="FR"')
            pg.wait_for_function(
                "window.twinDecks['map-left'].props.getTooltip !== window.tipBefore"
            )
            found_fr = pg.evaluate(SENSOR_TIPS)
        finally:
            pg.close()
    assert errors == []
    assert found["ids"] == ["sensors-0-left"]
    s1 = (
        "Sensor S1 (counts)\nflow_veh_h, time mean: 200 veh/h\n"
        "3 observations: 2026-07-15 08:00 → 2026-07-15 11:00"
    )
    s2 = (
        "Sensor S2 (counts)\nflow_veh_h, time mean: 60 veh/h\n"
        "2 observations: 2026-07-15 09:00 → 2026-07-15 10:00"
    )
    s3 = "Sensor S3 (counts)\nflow_veh_h, time mean: 400 veh/h\n1 observation: 2026-07-15 08:00"
    s4 = "Sensor S4 (counts)\nflow_veh_h, time mean: –\n0 observations"
    tips = set(found["tips"])
    assert s1 in tips and s4 in tips, tips
    # S2 and S3 share a place: whichever is picked, the tooltip shows both
    assert tips & {f"{s2}\n\n{s3}", f"{s3}\n\n{s2}"} and len(tips) == 3, tips
    fr = set(found_fr["tips"])
    assert (
        "Capteur S1 (counts)\nflow_veh_h, moyenne dans le temps : 200 véh/h\n"
        "3 observations : 2026-07-15 08:00 → 2026-07-15 11:00"
    ) in fr, fr
    assert "Capteur S4 (counts)\nflow_veh_h, moyenne dans le temps : –\n0 observation" in fr
    assert any("1 observation : 2026-07-15 08:00" in t for t in fr) and len(fr) == 3, fr
    # the sensors are what changed, around their positions (3 places, over the buildings)
    changed = np.abs(on - off).sum(axis=2) > 40
    assert changed.sum() > 3 * 50, changed.sum()
    yy, xx = np.nonzero(changed)
    near = np.zeros(len(xx), dtype=bool)
    for x, y, _ in found["at"]:
        here = np.hypot(xx - x, yy - y) < 20
        assert here.sum() > 30, (x, y)  # each place is drawn
        near |= here
    assert near.mean() > 0.95


#: The projected box [x0, y0, x1, y1] (CSS px in the left map) of lon/lat bounds.
PROJECT_BOX = """(b) => {
  const vp = window.twinDecks['map-left'].getViewports()[0];
  const pts = [[b[0], b[1]], [b[2], b[1]], [b[0], b[3]], [b[2], b[3]]].map(p => vp.project(p));
  const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys), vp.width, vp.height];
}"""

#: The two lon/lat ends of a horizontal segment of ``px`` CSS pixels at the map's centre.
CENTRE_SEGMENT = """(px) => {
  const vp = window.twinDecks['map-left'].getViewports()[0];
  const cx = vp.width / 2, cy = vp.height / 2;
  return [vp.unproject([cx - px / 2, cy]), vp.unproject([cx + px / 2, cy])];
}"""


def scale_is_true(page: object) -> float:
    """The scale bar's length [m], checked against the geodesic length of as many pixels
    across the map's centre (pyproj, not the page's arithmetic)."""
    from pyproj import Geod

    bar = page.locator("#map-left .scale-bar")  # type: ignore[attr-defined]
    metres = float(bar.get_attribute("data-metres"))
    px = page.locator("#map-left .scale-line").evaluate("e => e.getBoundingClientRect().width")  # type: ignore[attr-defined]
    a, b = page.evaluate(CENTRE_SEGMENT, px)  # type: ignore[attr-defined]
    true = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]
    assert true == pytest.approx(metres, rel=0.03), (true, metres, px)
    text = bar.inner_text()
    assert text in (f"{metres:g} m", f"{metres / 1000:g} km"), (text, metres)
    return metres


def test_camera_tools_scale_bar_and_north_arrow(page: object, demo_dir: Path) -> None:
    """With the mouse and the keyboard: *fit to the intervention* frames the closed street
    whole and large, north up turns a rotated map back, *whole territory* returns to the
    first view; the scale bar tells the true length of its pixels at every step."""
    from twin.store.twinstore import open_twin

    select(page, "closure", "Scenario")
    links = open_twin(demo_dir)["roads"].links
    street = links[links["name"] == "Mannerheimintie"].to_crs(4326).total_bounds.tolist()
    home = page.evaluate("window.twinBase.view")  # type: ignore[attr-defined]
    wide = scale_is_true(page)
    page.locator("#camera-focus").click()  # type: ignore[attr-defined]
    page.wait_for_timeout(800)  # type: ignore[attr-defined]
    x0, y0, x1, y1, w, h = page.evaluate(PROJECT_BOX, street)  # type: ignore[attr-defined]
    assert 0 <= x0 and 0 <= y0 and x1 <= w and y1 <= h, (x0, y0, x1, y1, w, h)  # all of it
    assert max((x1 - x0) / w, (y1 - y0) / h) > 0.5  # and large
    scale_is_true(page)  # true at the new zoom too
    # a person turns the map (shift + drag), then puts north up again from the keyboard
    box = page.locator("#map-left canvas").bounding_box()  # type: ignore[attr-defined]
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.keyboard.down("Shift")  # type: ignore[attr-defined]
    page.mouse.move(cx, cy)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    page.mouse.move(cx + 150, cy, steps=8)  # type: ignore[attr-defined]
    page.mouse.up()  # type: ignore[attr-defined]
    page.keyboard.up("Shift")  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    turned = page.evaluate("window.twinDecks['map-left'].getViewports()[0].bearing")  # type: ignore[attr-defined]
    assert abs(turned - home.get("bearing", 0)) > 5, turned
    arrow = page.locator("#camera-north svg").evaluate("e => e.style.transform")  # type: ignore[attr-defined]
    angle = float(re.fullmatch(r"rotate\((-?[\d.e-]+)deg\)", arrow).group(1))  # type: ignore[union-attr]
    assert angle == pytest.approx(-turned, abs=1e-4), (arrow, turned)  # the arrow turned too
    page.focus("#camera-north")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    assert page.evaluate("window.twinDecks['map-left'].getViewports()[0].bearing") == 0  # type: ignore[attr-defined]
    assert page.get_attribute("#camera-north", "aria-label") == "North up"  # type: ignore[attr-defined]
    page.locator("#camera-home").click()  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    vp = page.evaluate(  # type: ignore[attr-defined]
        "(() => { const v = window.twinDecks['map-left'].getViewports()[0];"
        " return [v.longitude, v.latitude, v.zoom, v.pitch]; })()"
    )
    assert vp == pytest.approx(
        [home["longitude"], home["latitude"], home["zoom"], home.get("pitch", 0)], abs=1e-6
    )
    assert scale_is_true(page) == wide
    # a run without intervention has nothing to frame: the tool says so by being disabled
    select(page, "baseline", "Scenario")
    assert page.locator("#camera-focus").is_disabled()  # type: ignore[attr-defined]


def test_scenario_picker_is_a_tree_of_titles(page: object) -> None:
    """The picker a person opens lists the runs by their titles, each what-if under the run it
    was compared with, indented, with what it computed (so two baselines differ) and its run
    id in small type; typing part of a title finds it."""
    page.click("#run")  # type: ignore[attr-defined]
    rows = page.locator("[role=option] .run-option")  # type: ignore[attr-defined]
    rows.first.wait_for(timeout=10_000)
    texts = [t.strip() for t in rows.all_inner_texts()]
    pads = [float(x) for x in rows.evaluate_all("rs => rs.map(r => parseFloat(r.dataset.depth))")]
    titles = [rows.nth(i).locator(".run-title").inner_text() for i in range(rows.count())]
    assert titles[0].startswith("Baseline"), (titles, pads)
    k = titles.index("Trees on the Esplanadi")
    assert pads[k] > 0 and titles[k - 1].startswith(("Baseline", "Roadworks", "Trees")), titles
    parent = max(i for i in range(k) if pads[i] < pads[k])
    assert titles[parent].startswith("Baseline"), (titles, pads)  # under its parent
    baselines = [texts[i] for i, t in enumerate(titles) if t.startswith("Baseline")]
    assert len(baselines) >= 2 and len(set(baselines)) == len(baselines), baselines
    sims = rows.nth(k).locator(".run-sims").inner_text()
    assert "heat" in sims.lower() or "chaleur" in sims.lower(), sims
    page.get_by_placeholder("Search").fill("Esplanadi")  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    found = page.locator("[role=option] .run-option .run-title").all_inner_texts()  # type: ignore[attr-defined]
    assert [t.strip() for t in found] == ["Trees on the Esplanadi"], found
    page.keyboard.press("Escape")  # type: ignore[attr-defined]


def pick_against(pg: object, run_prefix: str | None) -> None:
    """Choose the run to compare with in the *Compare with* picker (None: clear it)."""
    if run_prefix is None:
        pg.locator("#against .dash-dropdown-clear, #against [aria-label*=lear]").first.click()  # type: ignore[attr-defined]
    else:
        pg.click("#against")  # type: ignore[attr-defined]
        pg.locator(f"[role=option] .run-id:text-matches('^{run_prefix}-')").first.click()  # type: ignore[attr-defined]
        pg.keyboard.press("Escape")  # type: ignore[attr-defined]
    pg.wait_for_timeout(2500)  # type: ignore[attr-defined]


def test_compare_any_two_runs(page: object) -> None:
    """A person compares a what-if with another what-if (not its parent): both maps, their
    captions and the difference follow; clearing the choice goes back to the parent."""
    select(page, "closure", "Side by side")
    default = page.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
    assert default[0].startswith("Reference: Baseline"), default
    before = canvas_pixels(page, 0)
    pick_against(page, "trees")
    caps = page.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
    assert caps == [
        "Reference: Trees on the Esplanadi",
        "Scenario: Roadworks closing Mannerheimintie",
    ]
    after = canvas_pixels(page, 0)
    assert (np.abs(before - after).sum(axis=2) > 40).mean() > 0.01  # the left map changed
    page.click("#mode >> text=/Difference/")  # type: ignore[attr-defined]
    page.wait_for_timeout(2500)  # type: ignore[attr-defined]
    caps = page.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
    assert caps == ["Difference: Roadworks closing Mannerheimintie − Trees on the Esplanadi"], caps
    pick_against(page, None)
    caps = page.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
    assert caps[0].startswith("Difference: Roadworks closing Mannerheimintie − Baseline"), caps
    assert page.errors == []  # type: ignore[attr-defined]


def test_swipe_view_splits_one_map_where_the_person_drags(page: object) -> None:
    """Swipe: one map, the parent left of the split line and the scenario right of it; the
    person drags the slider with the mouse, then moves it with the arrow keys: what the screen
    shows on each side of the line is each run's own picture."""
    from PIL import Image

    select(page, "trees", "Swipe")
    left_box = page.locator("#map-left").bounding_box()  # type: ignore[attr-defined]
    right_box = page.locator("#map-right").bounding_box()  # type: ignore[attr-defined]
    assert right_box == left_box  # one map's place: the two are laid on each other
    handle = page.locator("#swipe")  # type: ignore[attr-defined]
    hb = handle.bounding_box()
    page.mouse.move(hb["x"] + hb["width"] * 0.5, hb["y"] + hb["height"] / 2)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    page.mouse.move(hb["x"] + hb["width"] * 0.3, hb["y"] + hb["height"] / 2, steps=6)  # type: ignore[attr-defined]
    page.mouse.up()  # type: ignore[attr-defined]
    split = float(handle.input_value())
    assert 25 <= split <= 35, split
    handle.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")  # type: ignore[attr-defined]
    assert float(handle.input_value()) == pytest.approx(split + 2.0)
    split += 2.0
    page.wait_for_timeout(300)  # type: ignore[attr-defined]

    def shot() -> np.ndarray:
        png = page.screenshot(clip=left_box)  # type: ignore[attr-defined]
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)

    screen = shot()
    # the slider's ends show one run whole: End the parent (nothing right of the line),
    # Home the scenario
    page.keyboard.press("End")  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    parent = shot()
    page.keyboard.press("Home")  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    scenario = shot()
    h, w = screen.shape[:2]
    cut = int(w * split / 100)
    band = slice(int(h * 0.25), int(h * 0.75))  # away from captions, tools and the slider

    def close(a: np.ndarray, b: np.ndarray) -> float:
        return float((np.abs(a - b).sum(axis=2) < 30).mean())

    lhs, rhs = (slice(10, cut - 10), slice(cut + 10, w - 60))
    assert close(screen[band, lhs], parent[band, lhs]) > 0.97
    assert close(screen[band, rhs], scenario[band, rhs]) > 0.97
    assert close(parent[band, rhs], scenario[band, rhs]) < 0.995  # the runs do differ there
    caps = page.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
    assert caps == [
        "Reference: Baseline — central Helsinki today",
        "Scenario: Trees on the Esplanadi",
    ]
    page.click("#mode >> text=/Side by side/")  # type: ignore[attr-defined]
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    assert page.locator("#swipe").count() == 0  # type: ignore[attr-defined]
    assert page.locator("#map-right").bounding_box()["x"] > left_box["x"] + 100  # type: ignore[attr-defined]


def _luminance(css: str) -> float:
    """Relative luminance (WCAG 2) of a CSS ``rgb(…)``/``rgba(…)`` colour."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


#: The colour of an element's text and of the first opaque background behind it.
COLOURS = """(e) => {
  const fg = getComputedStyle(e).color;
  let n = e, bg = 'rgba(0, 0, 0, 0)';
  const clear = (c) => /rgba\\(.*, 0\\)$/.test(c);
  while (n && clear(bg = getComputedStyle(n).backgroundColor)) n = n.parentElement;
  return [fg, bg];
}"""


def test_keyboard_reaches_the_tools_and_the_language_switch_reads_clearly(page: object) -> None:
    """With the keyboard only: Tab goes through the header's tools with a visible focus ring,
    and the arrow keys switch the language; both FR/EN segments read at a contrast of at
    least 4.5:1 (WCAG AA) in either state."""
    page.locator("#title").click()  # type: ignore[attr-defined]
    seen = []
    for _ in range(8):
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        el = page.evaluate(  # type: ignore[attr-defined]
            "(() => { const e = document.activeElement;"
            " return [e.id || e.value || e.tagName, getComputedStyle(e).outlineStyle,"
            " e.closest('label') ? getComputedStyle(e.closest('label')).outlineStyle : ''] })()"
        )
        seen.append(el)
        if el[0] in ("fr", "en"):
            break
    tools = [s for s in seen if s[0] in ("prev", "next", "present", "png")]
    assert len(tools) == 4 and all(s[1] == "solid" for s in tools), seen
    assert seen[-1][0] in ("fr", "en") and seen[-1][2] == "solid", seen  # the switch's ring
    page.keyboard.press("ArrowRight" if seen[-1][0] == "en" else "ArrowLeft")  # type: ignore[attr-defined]
    page.wait_for_function("document.documentElement.lang === 'fr'")  # type: ignore[attr-defined]
    for label in page.locator(".lang label").all():  # type: ignore[attr-defined]
        fg, bg = label.evaluate(COLOURS)
        assert _contrast(fg, bg) >= 4.5, (label.inner_text(), fg, bg)
    page.click('#lang >> text="EN"')  # type: ignore[attr-defined]
    page.wait_for_function("document.documentElement.lang === 'en'")  # type: ignore[attr-defined]


FRAMES = "Object.values(window.twinDecks).map(d => d._twinFrames)"


def switch_page(page: object, server: str) -> tuple[object, list[str]]:
    """A page of its own on the server, its first view drawn, and the ``/view`` requests it
    makes."""
    pg = page.context.browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    pg.set_default_timeout(60_000)
    views: list[str] = []
    pg.on("request", lambda r: views.append(r.url) if "/view/" in r.url else None)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors  # type: ignore[attr-defined]
    pg.goto(server)
    pg.wait_for_function("document.body.dataset.painted")
    pg.wait_for_timeout(1000)
    return pg, views


def pick(pg: object, run_prefix: str) -> None:
    """Choose a run in the scenario picker with the mouse, the picker left open a moment as a
    person reads it, and wait for its view on screen."""
    pg.click("#run")  # type: ignore[attr-defined]
    pg.wait_for_timeout(300)  # type: ignore[attr-defined]
    pg.locator(f"[role=option] .run-id:text-matches('^{run_prefix}-')").first.click()  # type: ignore[attr-defined]
    pg.wait_for_function(f"(document.body.dataset.painted || '').startsWith('{run_prefix}-')")  # type: ignore[attr-defined]
    pg.wait_for_timeout(1500)  # type: ignore[attr-defined]


def test_a_picked_run_is_drawn_once_from_the_early_payload(page: object, server: str) -> None:
    """A run clicked in the picker is fetched from ``/view`` when the option is pressed and
    drawn once: Dash's answer, the same payload, is not drawn again. Views that compare (side by
    side) too; the *Compare with* picker (whose options are runs too) asks for nothing early."""
    pg, views = switch_page(page, server)
    try:
        frames = pg.evaluate(FRAMES)  # type: ignore[attr-defined]
        pick(pg, "trees")
        assert [v.split("/view/")[1][:6] for v in views] == ["trees-"]
        assert pg.evaluate(FRAMES) == [f + 1 for f in frames]  # type: ignore[attr-defined]
        assert pg.evaluate("document.body.dataset.rendered").startswith("trees-")  # type: ignore[attr-defined]
        pg.click("#mode >> text=/Side/")  # type: ignore[attr-defined]
        pg.wait_for_function("document.body.dataset.painted.includes(':side')")  # type: ignore[attr-defined]
        pg.wait_for_timeout(1500)  # type: ignore[attr-defined]
        frames = pg.evaluate(FRAMES)  # type: ignore[attr-defined]
        assert len(frames) == 2
        pick(pg, "closure")
        assert pg.evaluate(FRAMES) == [f + 1 for f in frames]  # type: ignore[attr-defined]
        caps = pg.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
        assert caps[1].endswith("Roadworks closing Mannerheimintie"), caps
        assert len(views) == 2
        pick_against(pg, "trees")
        assert len(views) == 2
        assert pg.errors == []  # type: ignore[attr-defined]
    finally:
        pg.close()  # type: ignore[attr-defined]


def test_dash_answer_stays_the_reference_of_an_early_draw(page: object, server: str) -> None:
    """While Dash's answer is on its way, the early payload is on the map but the view is
    neither ``rendered`` nor ``painted``; when that answer differs from the early payload (the
    page changed meanwhile), the map shows Dash's answer."""
    pg, views = switch_page(page, server)
    held: list[object] = []

    def stale(route: object) -> None:
        answer = route.fetch()  # type: ignore[attr-defined]
        body = answer.json()
        body["captions"] = ["stale caption"]
        route.fulfill(response=answer, json=body)  # type: ignore[attr-defined]

    try:
        shown = pg.evaluate("document.body.dataset.painted")  # type: ignore[attr-defined]
        frames = pg.evaluate(FRAMES)  # type: ignore[attr-defined]
        pg.route("**/view/**", stale)  # type: ignore[attr-defined]
        dash_answers = re.compile(r".*/_dash-update-component\b.*")
        pg.route(dash_answers, lambda r: held.append(r))  # type: ignore[attr-defined]
        pg.click("#run")  # type: ignore[attr-defined]
        pg.wait_for_timeout(300)  # type: ignore[attr-defined]
        pg.locator("[role=option] .run-id:text-matches('^trees-')").first.click()  # type: ignore[attr-defined]
        pg.wait_for_function(  # type: ignore[attr-defined]
            "[...document.querySelectorAll('.map-caption')]"
            ".some(c => c.textContent === 'stale caption')"
        )
        pg.wait_for_timeout(1000)  # type: ignore[attr-defined]
        assert pg.evaluate("document.body.dataset.painted") == shown  # type: ignore[attr-defined]
        assert pg.evaluate("document.body.dataset.rendered") == shown  # type: ignore[attr-defined]
        assert held
        for route in held:
            route.continue_()  # type: ignore[attr-defined]
        pg.unroute(dash_answers)  # type: ignore[attr-defined]
        pg.wait_for_function("(document.body.dataset.painted || '').startsWith('trees-')")  # type: ignore[attr-defined]
        pg.wait_for_timeout(1000)  # type: ignore[attr-defined]
        assert views and pg.evaluate(FRAMES) == [f + 2 for f in frames]  # type: ignore[attr-defined]
        caps = pg.locator(".map-caption").all_inner_texts()  # type: ignore[attr-defined]
        assert caps == ["Scenario: Trees on the Esplanadi"], caps
        assert pg.errors == []  # type: ignore[attr-defined]
    finally:
        pg.close()  # type: ignore[attr-defined]


def test_an_option_pressed_but_not_clicked_changes_nothing(page: object, server: str) -> None:
    """A person presses a run in the picker, thinks better of it and releases the button
    elsewhere: the map keeps the run it showed."""
    pg, views = switch_page(page, server)
    try:
        shown = pg.evaluate("document.body.dataset.rendered")  # type: ignore[attr-defined]
        frames = pg.evaluate(FRAMES)  # type: ignore[attr-defined]
        pg.click("#run")  # type: ignore[attr-defined]
        pg.wait_for_timeout(300)  # type: ignore[attr-defined]
        pg.locator("[role=option] .run-id:text-matches('^trees-')").first.hover()  # type: ignore[attr-defined]
        title = pg.locator("#title").bounding_box()  # type: ignore[attr-defined]
        pg.mouse.down()  # type: ignore[attr-defined]
        pg.mouse.move(title["x"] + 5, title["y"] + 5, steps=5)  # type: ignore[attr-defined]
        pg.mouse.up()  # type: ignore[attr-defined]
        pg.wait_for_timeout(2000)  # type: ignore[attr-defined]
        assert views  # asked for, in case it was clicked
        assert pg.evaluate("document.body.dataset.rendered") == shown  # type: ignore[attr-defined]
        assert pg.evaluate("document.body.dataset.painted") == shown  # type: ignore[attr-defined]
        assert pg.evaluate(FRAMES) == frames  # type: ignore[attr-defined]
        pg.keyboard.press("Escape")  # type: ignore[attr-defined]
    finally:
        pg.close()  # type: ignore[attr-defined]


#: The least width on screen [px] of the roads' ribbons and the lamps' discs' radius at the
#: centre of the left map (from their mesh and deck.gl's own viewport), and the map's zoom.
WIDTHS = """() => {
  const d = window.twinDecks['map-left'], vp = d.getViewports()[0];
  const pxPerM = vp.distanceScales.unitsPerMeter[0] * vp.scale;
  const mesh = prefix => d.props.layers.find(l => l.id.startsWith(prefix)).props.data;
  const metres = (v, a, b) => {
    const kx = Math.cos(v[1] * Math.PI / 180);
    return Math.hypot((v[a] - v[b]) * kx, v[a + 1] - v[b + 1]) * 111320;
  };
  const road = mesh('roads-').attributes.getPolygon.value;
  const lamp = mesh('lamps-').attributes.getPolygon.value;
  return {road: metres(road, 0, 9) * pxPerM, lamp: metres(lamp, 0, 3) * pxPerM, zoom: vp.zoom};
}"""


def test_lines_and_points_keep_their_width_when_zoomed_out(page: object, server: str) -> None:
    """A person zooms the map out with the mouse wheel to see the whole territory: once the
    camera settles, roads stay at least 1.5 px wide and lamps 2 px in radius (they used to thin
    with the map, to a fraction of a pixel); zoomed back in, they are as at first."""
    pg, _ = switch_page(page, server)
    try:
        first = pg.evaluate(WIDTHS)  # type: ignore[attr-defined]
        assert first["road"] >= 1.5 and first["lamp"] >= 2.0, first
        box = pg.locator("#map-left canvas").first.bounding_box()  # type: ignore[attr-defined]
        pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
        for _ in range(40):
            pg.mouse.wheel(0, 240)  # type: ignore[attr-defined]
            pg.wait_for_timeout(60)  # type: ignore[attr-defined]
            if pg.evaluate(WIDTHS)["zoom"] < first["zoom"] - 2.2:  # type: ignore[attr-defined]
                break
        pg.wait_for_timeout(1500)  # type: ignore[attr-defined]
        out = pg.evaluate(WIDTHS)  # type: ignore[attr-defined]
        assert out["zoom"] < first["zoom"] - 2, (first, out)
        assert out["road"] >= 1.5 and out["lamp"] >= 2.0, (first, out)
        assert out["road"] < 2 * first["road"], (first, out)  # not wider than at first
        for _ in range(40):
            pg.mouse.wheel(0, -240)  # type: ignore[attr-defined]
            pg.wait_for_timeout(60)  # type: ignore[attr-defined]
            if pg.evaluate(WIDTHS)["zoom"] >= first["zoom"]:  # type: ignore[attr-defined]
                break
        pg.wait_for_timeout(1500)  # type: ignore[attr-defined]
        back = pg.evaluate(WIDTHS)  # type: ignore[attr-defined]
        k = 2 ** (back["zoom"] - first["zoom"])  # widths in metres: pixels grow with the zoom
        assert back["road"] == pytest.approx(first["road"] * k, rel=0.02), (first, back)
        assert pg.errors == []  # type: ignore[attr-defined]
    finally:
        pg.close()  # type: ignore[attr-defined]
