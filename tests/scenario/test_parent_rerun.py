"""A child that needs a simulation its parent did not run compares with its parent run again
with that simulation: the parent as chosen (its interventions, its parent), not a flattened
parentless copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from twin.scenario.runner import Run, run
from twin.scenario.schema import Scenario

DIM = {
    "type": "dimming_schedule",
    "target": {"layer": "street_lamps"},
    "schedule": [{"start": "22:00", "level": 0.5}, {"start": "05:30", "level": 1.0}],
}
LED = {"type": "led_retrofit", "target": {"layer": "street_lamps"}, "power_factor": 0.4}
CLOSE = {
    "type": "close_links",
    "target": {"layer": "roads", "where": {"name": "Mannerheimintie"}},
}
LIGHTING = {"lighting": {"timezone": "Europe/Helsinki"}}


def _sc(name: str, parent: str | None, ivs: list[dict[str, Any]], sims: list[str]) -> Scenario:
    return Scenario.from_dict(
        {
            "name": name,
            "title": name.capitalize(),
            "parent": parent,
            "interventions": ivs,
            "simulations": sims,
            "parameters": LIGHTING,
        }
    )


@pytest.fixture(scope="module")
def chain(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """A two-level chain (dim ← led ← closed): ``closed`` adds accessibility to what its
    parent ran. The run of ``closed`` (with its parent run again) and the run store."""
    lib = {
        "dim": _sc("dim", "baseline", [DIM], ["lighting"]),
        "led": _sc("led", "dim", [LED], ["lighting"]),
        "closed": _sc("closed", "led", [CLOSE], ["lighting", "accessibility"]),
    }
    out = tmp_path_factory.mktemp("rerun")
    run(demo_dir, lib["led"], out=out, library=lib)  # the parent as chosen (lighting only)
    return out, run(demo_dir, lib["closed"], out=out, library=lib)


def test_rerun_parent_keeps_its_parent_and_says_what_was_added(chain: tuple[Path, Run]) -> None:
    out, child = chain
    parent = Run.open(out / child.manifest["parent_run"])
    m = parent.manifest
    # the parent keeps its own interventions and its own parent
    assert m["scenario"]["parent"] == "dim" and m["parent"] == "dim"
    assert [iv["type"] for iv in m["scenario"]["interventions"]] == ["led_retrofit"]
    assert m["scenario"]["simulations"] == ["lighting", "accessibility"]
    # the dimming of its own parent still applies (before the retrofit)
    assert len(m["interventions_applied"]) == 2
    # named apart from the parent as chosen, which is still in the store
    assert m["scenario"]["title"] == "Led (+ Network accessibility)"
    assert m["rerun"] == {
        "title": "Led",
        "added": ["accessibility"],
        "added_titles": {"en": ["Network accessibility"], "fr": ["Accessibilité du réseau"]},
    }
    chosen = [
        json.loads((p / "run.json").read_text())
        for p in out.iterdir()
        if p.name.startswith("led-") and p.name != parent.run_id
    ]
    assert [c["scenario"]["title"] for c in chosen] == ["Led"] and "rerun" not in chosen[0]
    # it was only run to compare with: its notice does not claim a comparison
    assert "Automatic comparison" not in (parent.path / "notice.en.md").read_text()  # type: ignore[operator]
    assert "Automatic comparison" in (child.path / "notice.en.md").read_text()  # type: ignore[operator]


def test_rerun_parent_results_unchanged(demo_dir: Path, chain: tuple[Path, Run]) -> None:
    """The same results as the parentless copy the runner used to build (all the ancestors'
    interventions merged): resolving the chain through the library changes no number."""
    out, child = chain
    parent = Run.open(out / child.manifest["parent_run"])
    flat = _sc("led", None, [DIM, LED], ["lighting", "accessibility"])
    before = run(demo_dir, flat, compare_parent=False)
    pd.testing.assert_series_equal(
        parent.kpis["value"], before.kpis["value"], check_dtype=False, check_exact=False, rtol=1e-12
    )
    assert parent.manifest["interventions_applied"] == before.manifest["interventions_applied"]
    # and the comparison the child shows is against those numbers
    comp = pd.read_csv(child.path / "compare" / "kpis.csv", index_col="kpi")  # type: ignore[operator]
    assert comp.loc["open_network_km", "diff"] < 0
    assert comp.loc["open_network_km", "a"] == pytest.approx(
        before.kpis.loc["open_network_km", "value"]
    )


def test_parent_with_the_same_simulations_is_reused(
    demo_dir: Path, chain: tuple[Path, Run]
) -> None:
    """A child running its parent's simulations compares with the parent run as chosen (from
    the cache), titled as it was."""
    out, _ = chain
    lib = {
        "dim": _sc("dim", "baseline", [DIM], ["lighting"]),
        "led": _sc("led", "dim", [LED], ["lighting"]),
        "half": _sc(
            "half", "led", [{**DIM, "schedule": [{"start": "21:00", "level": 0.3}]}], ["lighting"]
        ),
    }
    chosen = run(demo_dir, lib["led"], out=out, library=lib)
    child = run(demo_dir, lib["half"], out=out, library=lib)
    assert child.manifest["parent_run"] == chosen.run_id
    assert chosen.manifest["scenario"]["title"] == "Led" and "rerun" not in chosen.manifest


def test_rerun_parent_with_other_settings_is_named_apart(
    demo_dir: Path, chain: tuple[Path, Run]
) -> None:
    """A child with the parent's simulations but another seed compares with its parent run
    again, whose title says whose settings it ran with (two runs named "Led" computing the
    same simulations with other numbers read the same in the picker)."""
    out, _ = chain
    led = _sc("led", "dim", [LED], ["lighting", "accessibility"])
    seeded = Scenario.from_dict(
        {**led.model_dump(mode="json"), "name": "other", "title": "Other", "parent": "led"}
        | {"seed": 7, "interventions": [CLOSE]}
    )
    # fewer: the parent also ran lighting, which reads none of the interventions
    closed = _sc("closed0", "baseline", [CLOSE], ["lighting", "accessibility"])
    other_street = {**CLOSE, "target": {"layer": "roads", "where": {"name": "Unioninkatu"}}}
    fewer = Scenario.from_dict(
        {"name": "fewer", "parent": "closed0", "interventions": [other_street]}
        | {"simulations": ["accessibility"]}
    )
    lib = {"dim": _sc("dim", "baseline", [DIM], ["lighting"]), "led": led, "closed0": closed}
    titles = {}
    for child_sc in (seeded, fewer):
        child = run(demo_dir, child_sc, out=out, library={**lib, child_sc.name: child_sc})
        parent = Run.open(out / child.manifest["parent_run"])
        m = parent.manifest
        titles[child_sc.name] = (m["scenario"]["title"], m.get("rerun"))
    assert titles["other"][0] == "Led (settings of “Other”)"
    # fewer simulations, same settings: a part of the parent's numbers, under its title (the
    # picker lists what each run computed)
    assert titles["fewer"] == ("Closed0", None)
    from twin.viewer.catalogue import manifest_title

    m = {"scenario": {"name": "other"}, "rerun": titles["other"][1]}
    assert manifest_title(m, "fr") == "Led (réglages de « Other »)"
