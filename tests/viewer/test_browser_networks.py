"""The viewer on a network twin nobody prepared for it: pandapower's real mv_oberrhein network
and its transformer-outage demo scenario, in headless Chromium as a person uses it.

Categorical results (a bus energised or not) get one colour per category, a legend of named
swatches and a tooltip that says *yes* / *no*; every other legend block names its unit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from twin.scenario.runner import Run, run

from .browser import ROOT, serving

#: A point of the left map where the pointer picks a result point (a bus) and nothing else
#: (not inside the outage area, whose tooltip it would show): [x, y, index].
FIND_RESULT_POINT = """() => {
  const d = window.twinDecks['map-left']; const vp = d.getViewports()[0];
  for (let y = 60; y < vp.height - 40; y += 7) {
    for (let x = 40; x < vp.width - 40; x += 7) {
      const all = d.pickMultipleObjects({x: x, y: y, radius: 0});
      if (all.length === 1 && all[0].layer.id.startsWith('results-')) return [x, y, all[0].index];
    }
  }
  return null;
}"""


@pytest.fixture(scope="module")
def runs(oberrhein_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("oberrhein-runs")
    run(oberrhein_dir, ROOT / "scenarios" / "oberrhein" / "transformer_outage.yaml", out=out)
    return out


@pytest.fixture(scope="module")
def server(oberrhein_dir: Path, runs: Path) -> Iterator[str]:
    with serving(oberrhein_dir, runs, runs / "server.log") as url:
        yield url


def _outage(runs: Path) -> Run:
    return Run.open(next(p for p in runs.iterdir() if p.name.startswith("transformer_outage-")))


def test_categorical_result_has_named_swatches_and_a_yes_no_tooltip(
    page: object, runs: Path
) -> None:
    page.click("#run")  # type: ignore[attr-defined]
    page.locator("[role=option] .run-id:text-matches('^transformer_outage-')").first.click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.body.dataset.rendered.startsWith('transformer_outage-')"
    )
    page.wait_for_timeout(2500)  # type: ignore[attr-defined]
    items = page.locator("#legend .legend-item")  # type: ignore[attr-defined]
    heads = items.locator("> div:first-child").all_inner_texts()
    k = next(i for i, h in enumerate(heads) if h.endswith("Energised"))
    cats = items.nth(k).locator(".cat").all_inner_texts()
    assert [c.strip() for c in cats] == ["no", "yes"], cats
    assert items.nth(k).locator(".ramp").count() == 0  # no ramp between two categories
    colours = items.nth(k).locator(".swatch").evaluate_all("s => s.map(e => e.style.background)")
    assert len(set(colours)) == 2, colours
    # every other block names its unit
    for i, h in enumerate(heads):
        if i != k:
            assert h.endswith("]"), heads
    # a person hovers over a bus: its state, said in words, is the run's
    at = page.evaluate(FIND_RESULT_POINT)  # type: ignore[attr-defined]
    assert at is not None
    box = page.locator("#map-left canvas").bounding_box()  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + at[0] - 15, box["y"] + at[1] - 15)  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + at[0], box["y"] + at[1], steps=4)  # type: ignore[attr-defined]
    tip = page.locator("#map-left .deck-tooltip")  # type: ignore[attr-defined]
    tip.wait_for(state="visible", timeout=10_000)
    # (the pointer crossed the outage area on its way: wait for the bus's own tooltip)
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.querySelector('#map-left .deck-tooltip').innerText.includes('Energised')",
        timeout=10_000,
    )
    lines = tip.inner_text().split("\n")
    page.mouse.move(2, 2)  # type: ignore[attr-defined]
    nodes = _outage(runs).outputs["power_nodes"].data
    want = "yes" if float(np.asarray(nodes["energised"])[at[2]]) == 1.0 else "no"
    assert lines[:2] == ["Result", f"Energised: {want}"], lines
    # both states are on the map: the outage cut part of the network off
    assert set(np.asarray(nodes["energised"]).tolist()) == {0, 1} or set(
        np.asarray(nodes["energised"]).astype(float).tolist()
    ) == {0.0, 1.0}
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_network_twin_offers_only_the_layers_it_has(page: object) -> None:
    """A power network has no buildings, roads or lamps: no toggle for them, and no colour
    picker for a layer that is not there (they were shown, empty)."""
    toggles = page.locator("#layers label").all_inner_texts()  # type: ignore[attr-defined]
    assert [t.strip() for t in toggles] == ["Results"], toggles
    for picker in ("#bmetric", "#rmetric", "#bmetric-label", "#rmetric-label"):
        assert not page.locator(picker).is_visible(), picker  # type: ignore[attr-defined]
    assert page.locator("#result").is_visible()  # type: ignore[attr-defined]


#: A point of the left map over a bus inside the outage area (both under the pointer): [x, y,
#: index of the bus], or null.
FIND_BUS_IN_AREA = """() => {
  const d = window.twinDecks['map-left']; const vp = d.getViewports()[0];
  for (let y = 60; y < vp.height - 40; y += 5) {
    for (let x = 40; x < vp.width - 40; x += 5) {
      const all = d.pickMultipleObjects({x: x, y: y, radius: 0});
      const bus = all.find(a => a.layer.id.startsWith('results-'));
      if (bus && all.some(a => a.layer.id.startsWith('resultareas-'))) return [x, y, bus.index];
    }
  }
  return null;
}"""


def test_a_bus_inside_the_outage_area_shows_its_own_tooltip(page: object, runs: Path) -> None:
    """The outage area is drawn under the buses: hovering a bus inside it tells the bus's
    state, not the area's."""
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    page.click("#run")  # type: ignore[attr-defined]
    page.locator("[role=option] .run-id:text-matches('^transformer_outage-')").first.click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "(document.body.dataset.painted || '').startsWith('transformer_outage-')", timeout=60_000
    )
    at = page.evaluate(FIND_BUS_IN_AREA)  # type: ignore[attr-defined]
    assert at is not None  # the outage cut buses off inside its area
    box = page.locator("#map-left canvas").bounding_box()  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + at[0], box["y"] + at[1], steps=4)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "(document.querySelector('#map-left .deck-tooltip') || {}).innerText"
        " && document.querySelector('#map-left .deck-tooltip').innerText.includes('Energised')",
        timeout=10_000,
    )
    lines = page.inner_text("#map-left .deck-tooltip").split("\n")  # type: ignore[attr-defined]
    page.mouse.move(2, 2)  # type: ignore[attr-defined]
    nodes = _outage(runs).outputs["power_nodes"].data
    want = "yes" if float(np.asarray(nodes["energised"])[at[2]]) == 1.0 else "no"
    assert lines[:2] == ["Result", f"Energised: {want}"], lines
