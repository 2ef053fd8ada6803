"""Every number a scenario file can set has a physical lower and upper bound.

A scenario file is input from anyone: values such as ``heat.spinup_hours: 1e9``,
``lighting.grid_step_m: 0.01`` or ``traffic.max_iter: 1e9`` used to exhaust the machine's
memory in seconds. Each simulation parameter and intervention field that is a number now
declares its range in its model (the JSON Schema printed by ``twin schema scenario`` shows
it); these tests walk the models' schemas, so a new parameter without bounds fails here, and
the hostile values are refused at planning, fast, naming the field.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twin.errors import SchemaError
from twin.model.twin import Twin
from twin.scenario.runner import plan
from twin.scenario.schema import Scenario
from twin.sims.interventions import intervention_registry
from twin.sims.registry import registry

#: Intervention fields that are selections, not quantities (filter values, coordinates).
SELECTIONS = {"where", "geometry", "ids"}


def numbers(schema: dict[str, Any], defs: dict[str, Any], path: str) -> Iterator[tuple]:
    """Every numeric leaf of a JSON Schema: ``(path, schema)``, through references, unions,
    arrays, tuples and maps."""
    if "$ref" in schema:
        yield from numbers(defs[schema["$ref"].split("/")[-1]], defs, path)
        return
    if schema.get("type") in ("number", "integer"):
        yield path, schema
    for key, sub in schema.get("properties", {}).items():
        if key not in SELECTIONS:
            yield from numbers(sub, defs, f"{path}.{key}")
    for sub in schema.get("anyOf", []) + schema.get("prefixItems", []):
        yield from numbers(sub, defs, path)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from numbers(schema[key], defs, f"{path}[]")


def models() -> Iterator[tuple[str, Any]]:
    for name, cls in registry().items():
        yield f"parameters.{name}", cls.params_model
    for kind, spec in intervention_registry().items():
        yield f"interventions[{kind}]", spec.model


@pytest.mark.parametrize(("where", "model"), list(models()), ids=lambda x: str(x)[:40])
def test_every_number_is_bounded(where: str, model: Any) -> None:
    schema = model.model_json_schema()
    found = list(numbers(schema, schema.get("$defs", {}), where))
    for path, leaf in found:
        low = {"minimum", "exclusiveMinimum"} & set(leaf)
        high = {"maximum", "exclusiveMaximum"} & set(leaf)
        assert low and high, f"{path} has no {'lower' if not low else 'upper'} bound: {leaf}"


def test_the_walk_sees_nested_numbers() -> None:
    """The walk reaches numbers in unions, tuples and maps (else the test above is empty)."""
    paths = {
        p
        for w, m in models()
        for p, _ in numbers(m.model_json_schema(), m.model_json_schema().get("$defs", {}), w)
    }
    for p in (
        "parameters.lighting.road_width_m",
        "parameters.lighting.adaptive_thresholds_veh_h",
        "parameters.commerce.coefficients[]",
        "interventions[dimming_schedule].schedule[].level",
        "parameters.heat.spinup_hours",
    ):
        assert p in paths, p


HOSTILE = [
    ("heat", {"spinup_hours": 1e9}, "spinup_hours"),
    ("lighting", {"grid_step_m": 0.01}, "grid_step_m"),
    ("lighting", {"spill_sample_m": 0.001}, "spill_sample_m"),
    ("lighting", {"adaptive_thresholds_veh_h": [1e12, 5]}, "adaptive_thresholds_veh_h"),
    ("traffic", {"max_iter": 1e9}, "max_iter"),
    ("traffic", {"zone_size_m": 0.01}, "zone_size_m"),
    ("heat", {"tile": 1_000_000}, "tile"),
    ("commerce", {"coefficients": {"const": 1e300}}, "coefficients"),
]


@pytest.mark.parametrize(("sim", "values", "field"), HOSTILE)
def test_hostile_values_refused_at_planning(
    demo_dir: Path, sim: str, values: dict[str, Any], field: str
) -> None:
    twin = Twin.open(demo_dir)
    sc = Scenario.from_dict({"name": "x", "simulations": [sim], "parameters": {sim: values}})
    t0 = time.perf_counter()
    with pytest.raises(SchemaError, match=rf"parameters\.{sim}\.{field}"):
        plan(twin, sc, {})
    assert time.perf_counter() - t0 < 5.0
