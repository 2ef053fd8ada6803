"""Derivation rules: how a column a simulation needs is provided when the twin lacks it.

A simulation declares each column it reads (:class:`twin.sims.base.Column`) as required, or
derived by a named rule of :data:`RULES`. At planning, a missing required column, or a
missing derived one whose rule cannot apply, is an error naming the layer, the column and
how to provide it; otherwise the runner applies the rule to the scenario's copy of the twin,
before the interventions, and records it as ASSUMED in the layer's provenance (so the notice
lists it). Rules never overwrite a column the data has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.io.osm import ROAD_CLASSES
from twin.model.buildings import STOREY_M
from twin.model.layer import Layer
from twin.sims.roads.supply import centreline_supply


@dataclass(frozen=True)
class Rule:
    """A derivation rule.

    Attributes
    ----------
    produces : tuple of str
        Columns it provides.
    needs : tuple of str
        Columns it reads (all must exist); empty when it can always apply.
    text : str
        The rule in one sentence (for errors, provenance and docs).
    apply : callable
        ``apply(frame) -> frame`` with the produced columns filled where missing.
    """

    produces: tuple[str, ...]
    needs: tuple[str, ...]
    text: str
    apply: Callable[[pd.DataFrame], pd.DataFrame]


def _road_supply(links: pd.DataFrame) -> pd.DataFrame:
    """Speed, capacity, lanes and free-flow time of road links that lack them."""
    out = links.copy()
    if "highway" in out:
        cls = out["highway"].astype(str).str.replace("_link", "", regex=False)
        cls = cls.where(cls.isin(list(ROAD_CLASSES)), "road")
        speed = cls.map(lambda c: ROAD_CLASSES[c][0]).astype(float)
        lanes = cls.map(lambda c: ROAD_CLASSES[c][2]).astype(float)
        cap = cls.map(lambda c: ROAD_CLASSES[c][1]).astype(float) * lanes
    else:
        supply, _ = centreline_supply(out)
        speed, cap = supply["speed_kmh"], supply["capacity_veh_h"]
        lanes = pd.Series(1.0, index=out.index)
    given = out["speed_kph"] if "speed_kph" in out else out.get("maxspeed_kph")
    if given is not None:
        g = pd.to_numeric(given, errors="coerce")
        speed = g.where(g > 0, speed)
    for col, v in (("speed_kph", speed), ("lanes", lanes), ("capacity_veh_h", cap)):
        if col not in out:
            out[col] = np.asarray(v, dtype=float)
    if "free_flow_time_s" not in out:
        length = np.maximum(out["length_m"].to_numpy(float), 1.0)
        out["free_flow_time_s"] = length / (out["speed_kph"].to_numpy(float) / 3.6)
    return out


def _height_from_levels(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    levels = pd.to_numeric(out["levels"], errors="coerce")
    out["height_m"] = (levels.where(levels > 0, 1.0) * STOREY_M).to_numpy(float)
    return out


ROAD_RULE = (
    "by road class: OSM `highway` (speed, capacity per lane and lanes of "
    "twin.io.osm.ROAD_CLASSES), else street type and owner of a centre-line database "
    "(twin.sims.roads.supply), else a local street (30 km/h, 600 veh/h); a speed the data "
    "gives is kept; free-flow time = length / speed"
)

RULES: dict[str, Rule] = {
    "road_supply": Rule(
        ("speed_kph", "lanes", "capacity_veh_h", "free_flow_time_s"),
        ("length_m",),
        ROAD_RULE,
        _road_supply,
    ),
    "height_from_levels": Rule(
        ("height_m",),
        ("levels",),
        f"levels × {STOREY_M:g} m (a building without levels counts one storey)",
        _height_from_levels,
    ),
}


def table_of(layer: Layer, table: str) -> pd.DataFrame:
    """The frame a column lives in: a vector layer's features, a network's links or nodes."""
    if layer.kind == "network":
        return layer.data.links if table in ("features", "links") else layer.data.nodes
    return layer.data


def apply_rule(layer: Layer, table: str, name: str) -> None:
    """Apply rule ``name`` to ``layer`` (in place) and record it as ASSUMED."""
    rule = RULES[name]
    frame = table_of(layer, table)
    missing = [c for c in rule.produces if c not in frame]
    if not missing:
        return
    new = rule.apply(frame)
    if layer.kind == "network":
        if table in ("features", "links"):
            layer.data.links = new
        else:
            layer.data.nodes = new
    else:
        layer.data = new
    for c in missing:
        layer.provenance.derived[c] = f"ASSUMED ({name}): {rule.text}"
    layer.provenance.step(f"derived {missing} by the rule '{name}' (ASSUMED)")


def plan_columns(
    twin: object, sim: object, params: object
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Check the columns a planned simulation reads.

    Parameters
    ----------
    twin : Twin
        The twin the scenario runs on.
    sim : Simulation
        The planned simulation (its ``columns`` declarations).
    params : Params
        Its validated parameters (they name its layers).

    Returns
    -------
    problems : list of str
        One sentence per column that is missing and cannot be derived, saying how to
        provide it.
    derivations : list of (layer, table, rule)
        The rules to apply to the scenario's copy of the twin, in order, without repeats.
    """
    problems: list[str] = []
    todo: list[tuple[str, str, str]] = []
    layers = sim.layer_names(params)  # type: ignore[attr-defined]
    for col in sim.columns:  # type: ignore[attr-defined]
        lname = layers.get(col.role)
        if lname is None or lname not in twin:  # type: ignore[operator]
            continue  # a missing layer is reported by Simulation.check
        frame = table_of(twin.layer(lname), col.table)  # type: ignore[attr-defined]
        if col.name in frame:
            continue
        where = f"{sim.name}: layer '{lname}'" + (  # type: ignore[attr-defined]
            f" ({col.table})" if col.table != "features" else ""
        )
        rule = RULES.get(col.derive) if col.derive else None
        lacking = [c for c in (rule.needs if rule else ()) if c not in frame]
        if rule is None or lacking:
            how = (
                f"it would be derived {rule.text}, which needs the column(s) {lacking}"
                if rule
                else "map a source field to it with the loader's mapping option"
            )
            problems.append(f"{where} has no column '{col.name}' [{col.unit}]; {how}")
        elif (lname, col.table, str(col.derive)) not in todo:
            todo.append((lname, col.table, str(col.derive)))
    return problems, todo
