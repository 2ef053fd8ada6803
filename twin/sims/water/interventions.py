"""Water-network interventions (read by a water simulation; none is built in yet)."""

from __future__ import annotations

from typing import Literal

from twin.model.twin import Twin
from twin.sims.interventions import Done, Intervention, InterventionSpec, Target
from twin.sims.networks_status import set_status


class PipeBreak(Intervention):
    """Break water pipes (closed until repaired)."""

    type: Literal["pipe_break"]
    target: Target


def pipe_break(twin: Twin, iv: PipeBreak, where: str) -> Done:
    """Close the target pipes (``status = "Closed"``)."""
    n = set_status(twin, iv.target, where, "links", "status", "Closed")
    layer = iv.target.layer
    return Done(
        f"pipe break: {n} pipes closed in '{layer}'",
        f"casse de canalisation : {n} conduites fermées dans « {layer} »",
    )


INTERVENTIONS = (InterventionSpec(PipeBreak, pipe_break),)
