"""Where a scenario acts: the extent of what its own interventions target, for a camera that
frames them (the viewer's *fit to the intervention*)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pyproj import Transformer

from twin.errors import SchemaError
from twin.model.twin import Twin
from twin.scenario.schema import Scenario
from twin.sims.interventions import Target
from twin.sims.targets import Bounds, target_bounds


def _targets(value: Any) -> Iterator[Target]:
    """Every target inside an intervention (its fields, lists and nested models)."""
    if isinstance(value, Target):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _targets(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _targets(v)


def intervention_bounds(twin: Twin, scenario: Scenario) -> Bounds | None:
    """``(west, south, east, north)`` [degrees, WGS 84] of everything the scenario's own
    interventions (not its parent's) target, or None when none can be placed (no
    intervention, or targets that select nothing of this twin).

    Parameters
    ----------
    twin : Twin
        The twin the scenario runs on.
    scenario : Scenario
        The scenario.
    """
    boxes: list[Bounds] = []
    for k, iv in enumerate(scenario.interventions):
        for target in _targets(iv):
            try:
                b = target_bounds(twin, target, f"interventions[{k}].target")
            except SchemaError:
                continue  # a target the run refused would have failed it: nothing to frame
            if b is not None:
                boxes.append(b)
    if not boxes:
        return None
    box = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    t = Transformer.from_crs(twin.crs, 4326, always_xy=True)
    return tuple(float(v) for v in t.transform_bounds(*box))  # type: ignore[return-value]
