"""The what-if editor in headless Chromium, as a French planner uses it: the changes listed
before the launch with their undo, the problems of the form under their fields in French, and
a what-if of a what-if compared with its parent as chosen.

The page is switched to French with the FR/EN switch; texts are read off the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from twin.scenario.runner import run

from .browser import ROOT, select

#: What the page must never show a planner: schema paths, the name's pattern, link ids.
INTERNAL = re.compile(r"interventions[.\[]|\^\[|\]\+\$|target\.ids|schedule\[|A-Za-z")


@pytest.fixture(scope="module")
def runs(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run store of this module's server: the demo's dimming (lighting only)."""
    out = tmp_path_factory.mktemp("editor-runs")
    run(demo_dir, ROOT / "scenarios" / "dimming.yaml", out=out)
    return out


def _french(pg: Any) -> None:
    """Switch the page to French (the FR/EN switch), and wait for the editor to follow."""
    pg.click('#lang >> text="FR"')
    pg.wait_for_function("document.getElementById('wi-title').textContent.startsWith('Éditeur')")


def _open_editor_on(pg: Any, prefix: str) -> None:
    """Show the run ``prefix-…`` and open the editor on it."""
    select(pg, prefix, "Scénario")
    if not pg.locator("#wi-name").is_visible():
        pg.click("#whatif summary")
    pg.wait_for_function(f"document.getElementById('wi-parent').textContent.includes('{prefix}-')")


def _name(pg: Any, name: str) -> None:
    pg.fill("#wi-name", name)
    pg.press("#wi-name", "Enter")


def _close_whole_street(pg: Any, street: str, n: int) -> None:
    """Close every link of ``street``: typed in the search, "whole street" picked."""
    pg.click("#wi-links")
    pg.get_by_placeholder("Rechercher").click()
    pg.keyboard.type(street[:10], delay=100)
    whole = pg.get_by_text(f"Toute la rue : {street} ({n} tronçons)")
    whole.wait_for(timeout=30_000)
    whole.click()
    pg.wait_for_function(
        f"document.getElementById('wi-overlay-done').textContent.startsWith('{n}:')",
        timeout=30_000,
    )
    pg.keyboard.press("Escape")


def _dim_all_lamps(pg: Any, end: str = "05:30") -> None:
    pg.click("#wi-lamps")
    pg.get_by_role("option", name="Tous les lampadaires", exact=True).click()
    pg.keyboard.press("Escape")
    pg.fill("#wi-dim-end", end)


def _pending(pg: Any) -> list[str]:
    """The changes listed before the launch, as read on the page."""
    return [t.replace("\u00a0", " ") for t in pg.locator("#wi-pending li span").all_inner_texts()]


def _launch_and_wait(pg: Any, name: str) -> str:
    """Launch, wait for the run to be shown; its run id."""
    pg.click("#wi-launch")
    pg.wait_for_function(
        f"(document.body.dataset.rendered || '').startsWith('{name}-')", timeout=240_000
    )
    assert pg.locator(".job.failed").count() == 0, pg.inner_text("#jobs-list")
    return str(pg.evaluate("document.body.dataset.rendered")).split(":")[0]


def _manifest(runs: Path, run_id: str) -> dict[str, Any]:
    return dict(json.loads((runs / run_id / "run.json").read_text()))


def _mannerheimintie(demo_dir: Path) -> int:
    from twin.store.twinstore import open_twin

    links = open_twin(demo_dir)["roads"].links
    return int((links["name"] == "Mannerheimintie").sum())


def test_pending_changes_and_undo(page: Any, runs: Path, demo_dir: Path, tmp_path: Path) -> None:
    """A closure and a dimming are listed as two changes in French; the × of the closure
    removes it from the form, and the launched scenario holds the dimming only."""
    n = _mannerheimintie(demo_dir)
    _french(page)
    _open_editor_on(page, "dimming")
    assert _pending(page) == []
    assert page.inner_text("#wi-pending") == "Aucune modification pour l'instant"
    _name(page, "undo_e2e")
    _close_whole_street(page, "Mannerheimintie", n)
    _dim_all_lamps(page, end="06:00")
    page.wait_for_function("document.querySelectorAll('#wi-pending li span').length === 2")
    page.wait_for_function("document.getElementById('wi-pending').textContent.includes('06:00')")
    assert _pending(page) == [
        f"Fermer Mannerheimintie ({n} tronçons)",
        "Gradation de l'éclairage à 50 % de 22:00 à 06:00",
    ]
    page.locator("#wi-pending").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "pending.png"))
    # the list follows the form: another end time is read at once
    page.fill("#wi-dim-end", "05:30")
    page.wait_for_function("document.getElementById('wi-pending').textContent.includes('à 05:30')")
    page.locator("#wi-pending li", has_text="Fermer").locator("button").click()
    page.wait_for_function("document.querySelectorAll('#wi-pending li span').length === 1")
    assert _pending(page) == ["Gradation de l'éclairage à 50 % de 22:00 à 05:30"]
    # the closure left the form: no street selected, none highlighted on the map
    page.wait_for_function("document.getElementById('wi-overlay-done').textContent === '0:0'")
    assert "Mannerheimintie" not in page.inner_text("#wi-links")
    rid = _launch_and_wait(page, "undo_e2e")
    ivs = _manifest(runs, rid)["scenario"]["interventions"]
    assert [iv["type"] for iv in ivs] == ["dimming_schedule"]
    assert ivs[0]["schedule"][1]["start"] == "05:30:00"
    assert page.errors == []


def test_form_problems_in_french_under_their_fields(page: Any, tmp_path: Path) -> None:
    """A bad name and an empty form: each message under its field, in French, with no schema
    path, pattern or internal id anywhere on the page; they follow the language switch."""
    _french(page)
    _open_editor_on(page, "dimming")
    page.wait_for_function("document.querySelectorAll('#wi-pending li span').length === 0")
    _name(page, "fermeture été")
    page.click("#wi-launch")
    page.wait_for_function("document.getElementById('wi-err-name').textContent !== ''")
    assert page.inner_text("#wi-err-name") == (
        "Le nom ne peut contenir que des lettres sans accent, des chiffres, « - », « _ » et "
        "« . » (pas d'espace)"
    )
    assert page.inner_text("#wi-err-changes") == (
        "Ajoutez au moins une modification : fermer une rue, dessiner une zone ou graduer "
        "l'éclairage"
    )
    for other in ("links", "area", "amount", "dim_start", "dim_end", "dim_level"):
        assert page.inner_text(f"#wi-err-{other}") == "", other
    assert page.inner_text("#wi-errors") == ""  # nothing left for the general area
    page.locator("#wi-err-name").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "problems.png"))
    assert not INTERNAL.search(page.inner_text("body")), INTERNAL.findall(page.inner_text("body"))
    assert page.locator(".job").count() == 0 or "fermeture" not in page.inner_text("#jobs-list")
    # in English too, in place
    page.click('#lang >> text="EN"')
    page.wait_for_function(
        "document.getElementById('wi-err-name').textContent.startsWith('The name may only')"
    )
    assert page.inner_text("#wi-err-changes").startswith("Nothing to launch yet")
    _french(page)
    # the name corrected: its problem goes at once (before any launch), the other stays
    _name(page, "ok_e2e")
    page.wait_for_function("document.getElementById('wi-err-name').textContent === ''")
    assert page.inner_text("#wi-err-changes") != ""  # still nothing to launch
    page.click("#wi-launch")  # launched again: still nothing to launch, the name is good
    page.wait_for_timeout(1000)
    assert page.inner_text("#wi-err-name") == ""
    assert page.inner_text("#wi-err-changes") != ""
    assert page.errors == []


def test_whatif_of_a_whatif_keeps_the_chosen_parent(page: Any, runs: Path, demo_dir: Path) -> None:
    """A dimming what-if of the demo's dimming, then a closure what-if of it: the closure
    needs accessibility, which its parent did not run; the parent it is compared with is run
    again with it, keeping its own parent (the demo's dimming), and the picker names it
    apart in French."""
    n = _mannerheimintie(demo_dir)
    _french(page)
    _open_editor_on(page, "dimming")
    _name(page, "dim_c")
    _dim_all_lamps(page)
    first = _launch_and_wait(page, "dim_c")
    # the editor now starts from the new run, with an empty form
    page.wait_for_function(f"document.getElementById('wi-parent').textContent.includes('{first}')")
    page.wait_for_function("document.querySelectorAll('#wi-pending li span').length === 0")
    _name(page, "close_c")
    _close_whole_street(page, "Mannerheimintie", n)
    second = _launch_and_wait(page, "close_c")

    child = _manifest(runs, second)
    parent = _manifest(runs, child["parent_run"])
    chosen = _manifest(runs, first)
    assert child["scenario"]["parent"] == "dim_c"
    assert parent["scenario"]["name"] == "dim_c" and child["parent_run"] != first
    # the parent keeps the chosen run's own parent (no parentless copy) and interventions
    assert parent["scenario"]["parent"] == chosen["scenario"]["parent"] == "dimming"
    assert parent["scenario"]["interventions"] == chosen["scenario"]["interventions"]
    assert parent["scenario"]["simulations"] == ["lighting", "accessibility"]
    # the picker tells the two runs of dim_c apart, in French
    page.click("#run")
    rows = page.locator("[role=option] .run-option")
    rows.first.wait_for()
    titles = dict(
        zip(
            rows.locator(".run-id").all_inner_texts(),
            rows.locator(".run-title").all_inner_texts(),
            strict=True,
        )
    )
    page.keyboard.press("Escape")
    assert titles[first] == "dim_c", titles
    assert titles[child["parent_run"]] == "dim_c (+ Accessibilité du réseau)", titles
    assert page.errors == []
