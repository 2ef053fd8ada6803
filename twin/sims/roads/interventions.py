"""Road interventions, read by the traffic, accessibility, shop-access and commerce simulations.

Road links carry ``closed`` (bool), ``capacity_veh_h``, ``lanes``, ``speed_kph`` and
``free_flow_time_s`` columns; pedestrianised links also ``pedestrian`` (bool), and links under
roadworks ``works_start`` / ``works_end`` (ISO dates).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from twin.errors import SchemaError, message
from twin.model.twin import Twin
from twin.sims.interventions import Done, Intervention, InterventionSpec, Target
from twin.sims.targets import select


class CloseLinks(Intervention):
    """Close road links (no traffic in either drawn direction of the selected links)."""

    type: Literal["close_links"]
    target: Target


class OpenLinks(Intervention):
    """Reopen links closed by a parent scenario."""

    type: Literal["open_links"]
    target: Target


class ChangeLinks(Intervention):
    """Change capacity, lanes or speed of links."""

    type: Literal["change_links"]
    target: Target
    capacity_factor: float | None = Field(None, ge=0, le=10)
    lanes: int | None = Field(None, ge=1, le=10)
    speed_kph: float | None = Field(None, gt=0, le=150)

    @model_validator(mode="after")
    def _something(self) -> ChangeLinks:
        if self.capacity_factor is None and self.lanes is None and self.speed_kph is None:
            raise ValueError("give at least one of capacity_factor, lanes, speed_kph")
        return self


class Roadworks(Intervention):
    """Roadworks between two dates: links closed or with reduced capacity."""

    type: Literal["roadworks"]
    target: Target
    start: dt.date
    end: dt.date
    capacity_factor: float = Field(0.0, ge=0, le=1, description="0 = closed.")

    @model_validator(mode="after")
    def _dates(self) -> Roadworks:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class Pedestrianise(Intervention):
    """Close streets to cars and open them to pedestrians only."""

    type: Literal["pedestrianise"]
    target: Target


def _links(twin: Twin, target: Target, where: str) -> tuple[Any, Any]:
    lay = twin.layer(target.layer) if target.layer in twin else None
    if lay is None or lay.kind != "network":
        msg = message(
            f"'{target.layer}' is not a network layer",
            where=f"{where}.target.layer",
            fix=f"use one of {[n for n, v in twin.layers.items() if v.kind == 'network']}",
        )
        raise SchemaError(msg)
    links = lay.data.links
    if "closed" not in links:
        links["closed"] = False
    return links, select(twin, target, f"{where}.target")


def close_links(twin: Twin, iv: CloseLinks, where: str) -> Done:
    """Mark the target links closed."""
    links, ids = _links(twin, iv.target, where)
    links.loc[ids, "closed"] = True
    layer = iv.target.layer
    return Done(
        f"closed {len(ids)} links of '{layer}'", f"{len(ids)} tronçons de « {layer} » fermés"
    )


def pedestrianise(twin: Twin, iv: Pedestrianise, where: str) -> Done:
    """Close the target links to motor traffic and mark them pedestrian."""
    links, ids = _links(twin, iv.target, where)
    links.loc[ids, "closed"] = True
    if "pedestrian" not in links:
        links["pedestrian"] = False
    links.loc[ids, "pedestrian"] = True
    layer = iv.target.layer
    return Done(
        f"pedestrianised {len(ids)} links of '{layer}' (closed to motor traffic)",
        f"{len(ids)} tronçons de « {layer} » rendus piétons (fermés à la circulation motorisée)",
    )


def open_links(twin: Twin, iv: OpenLinks, where: str) -> Done:
    """Mark the target links open."""
    links, ids = _links(twin, iv.target, where)
    links.loc[ids, "closed"] = False
    layer = iv.target.layer
    return Done(
        f"reopened {len(ids)} links of '{layer}'", f"{len(ids)} tronçons de « {layer} » rouverts"
    )


def change_links(twin: Twin, iv: ChangeLinks, where: str) -> Done:
    """Change lanes (capacity per lane kept), capacity or speed (free-flow time follows)."""
    links, ids = _links(twin, iv.target, where)
    what: list[tuple[str, str]] = []  # (English, French)
    if iv.lanes is not None:
        if "lanes" in links and "capacity_veh_h" in links:
            per_lane = links.loc[ids, "capacity_veh_h"] / links.loc[ids, "lanes"].clip(lower=1)
            links.loc[ids, "capacity_veh_h"] = per_lane * iv.lanes
        links.loc[ids, "lanes"] = float(iv.lanes)
        what.append((f"{iv.lanes} lanes", f"{iv.lanes} voies"))
    if iv.capacity_factor is not None:
        links.loc[ids, "capacity_veh_h"] = links.loc[ids, "capacity_veh_h"] * iv.capacity_factor
        what.append((f"capacity × {iv.capacity_factor:g}", f"capacité × {iv.capacity_factor:g}"))
    if iv.speed_kph is not None:
        links.loc[ids, "speed_kph"] = iv.speed_kph
        links.loc[ids, "free_flow_time_s"] = links.loc[ids, "length_m"] / (iv.speed_kph / 3.6)
        what.append((f"{iv.speed_kph:g} km/h", f"{iv.speed_kph:g} km/h"))
    layer = iv.target.layer
    return Done(
        f"changed {len(ids)} links of '{layer}': {', '.join(w for w, _ in what)}",
        f"{len(ids)} tronçons de « {layer} » modifiés : {', '.join(f for _, f in what)}",
    )


def roadworks(twin: Twin, iv: Roadworks, where: str) -> Done:
    """Close the target links (or cut their capacity) and record the works' dates."""
    links, ids = _links(twin, iv.target, where)
    if iv.capacity_factor == 0:
        links.loc[ids, "closed"] = True
    else:
        links.loc[ids, "capacity_veh_h"] = links.loc[ids, "capacity_veh_h"] * iv.capacity_factor
    for col, v in (("works_start", iv.start.isoformat()), ("works_end", iv.end.isoformat())):
        if col not in links:
            links[col] = None
        links.loc[ids, col] = v
    closed = iv.capacity_factor == 0
    effect = "closed" if closed else f"capacity × {iv.capacity_factor:g}"
    effect_fr = "fermés" if closed else f"capacité × {iv.capacity_factor:g}"
    layer = iv.target.layer
    return Done(
        f"roadworks on {len(ids)} links of '{layer}' from {iv.start} to {iv.end} ({effect})",
        f"travaux sur {len(ids)} tronçons de « {layer} » du {iv.start} au {iv.end} ({effect_fr})",
    )


INTERVENTIONS = (
    InterventionSpec(CloseLinks, close_links),
    InterventionSpec(OpenLinks, open_links),
    InterventionSpec(ChangeLinks, change_links),
    InterventionSpec(Roadworks, roadworks),
    InterventionSpec(Pedestrianise, pedestrianise),
)

#: The intervention types of this module, for the simulations that read road links.
ROAD_INTERVENTIONS = tuple(spec.type for spec in INTERVENTIONS)
