"""Energy-network interventions (read by a power simulation; none is built in yet)."""

from __future__ import annotations

from typing import Literal

from twin.model.twin import Twin
from twin.sims.interventions import Done, Intervention, InterventionSpec, Target
from twin.sims.networks_status import set_status


class SubstationOutage(Intervention):
    """Take substations out of service."""

    type: Literal["substation_outage"]
    target: Target


def substation_outage(twin: Twin, iv: SubstationOutage, where: str) -> Done:
    """Set ``in_service = False`` on the target nodes."""
    n = set_status(twin, iv.target, where, "nodes", "in_service", False)
    layer = iv.target.layer
    return Done(
        f"substation outage: {n} nodes out of service in '{layer}'",
        f"panne de poste : {n} nœuds hors service dans « {layer} »",
    )


INTERVENTIONS = (InterventionSpec(SubstationOutage, substation_outage),)
