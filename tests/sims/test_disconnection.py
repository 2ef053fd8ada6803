"""Cutting places off never lowers the mean travel time (issue I).

On Montpellier's real street centre-lines (no speed or capacity in the source: both derived
by road class, ASSUMED), closing the only way into a dead-end street makes its junctions
unreachable; the mean free-flow travel time must rise, not fall because those pairs leave
the mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.io.linenet import load_line_network
from twin.model.twin import Twin
from twin.scenario.runner import run
from twin.scenario.schema import Scenario


@pytest.fixture(scope="module")
def streets_twin(montpellier: Path) -> Twin:
    src = montpellier / "VilleMTP_MTP_FilaireVoies" / "VilleMTP_MTP_FilaireVoies.zip"
    layer = load_line_network(src, encoding="latin-1", id="IDARC")
    layer.name = "streets"
    t = Twin("Montpellier streets", layer.crs)
    t.add(layer)
    return t


def _dead_end_links(t: Twin) -> list[str]:
    """Links that are the only way into a node of degree 1 (a dead end)."""
    links = t["streets"].links
    into = links.groupby("b_node").size()
    outof = links.groupby("a_node").size()
    ends = [n for n in into.index if into[n] == 1 and outof.get(n, 0) == 1]
    return links.index[links["b_node"].isin(ends[:40])].astype(str).tolist()


def test_closing_dead_ends_raises_the_mean(streets_twin: Twin) -> None:
    ids = _dead_end_links(streets_twin)
    assert len(ids) >= 20
    base = {"simulations": ["accessibility"], "seed": 3}
    base["parameters"] = {"accessibility": {"network_layer": "streets", "n_origins": 60}}
    a = run(streets_twin, Scenario.from_dict({"name": "a", "parent": None, **base}))
    close = [{"type": "close_links", "target": {"layer": "streets", "ids": ids}}]
    b = run(
        streets_twin,
        Scenario.from_dict({"name": "b", "parent": None, "interventions": close, **base}),
    )
    ka, kb = a.kpis["value"], b.kpis["value"]
    assert kb["unreachable_pair_share"] > ka["unreachable_pair_share"]
    assert kb["mean_travel_time_s"] > ka["mean_travel_time_s"]
    assert np.isfinite(kb["mean_travel_time_s"])
    # the speeds were derived, and said so
    prov = a.manifest["data"]["streets"]["provenance"]["derived"]
    assert prov["free_flow_time_s"].startswith("ASSUMED (road_supply)")
