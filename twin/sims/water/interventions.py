"""Water-network interventions, read by the water simulation (:mod:`twin.sims.water.sim`).

Each intervention marks the elements it acts on with an event and its time window (the
columns of :mod:`twin.sims.water.events`); the simulation turns the marks into EPANET time
controls. Times are hours from the start of the simulated period; a window that ends after
the period is refused when the simulation runs (the period is a simulation parameter).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from twin.errors import SchemaError, message
from twin.model.network import Network
from twin.model.twin import Twin
from twin.sims.interventions import Done, Intervention, InterventionSpec, Target
from twin.sims.networks_status import select_elements
from twin.sims.targets import select
from twin.sims.water import events as ev

#: Longest simulated period [h] (one week); event times are bounded by it.
MAX_HOURS = 168.0


class _Timed(Intervention):
    """An event with a start and a duration."""

    start_h: float = Field(
        0.0, ge=0, le=MAX_HOURS, description="Start [h from the simulation start]."
    )
    duration_h: float = Field(8.0, gt=0, le=MAX_HOURS, description="Duration [h].")


class PipeBreak(_Timed):
    """Break water pipes: a leak or a closed pipe until repaired, its valve segment shut for
    the repair when ``isolate``."""

    title = {"en": "Pipe break", "fr": "Casse de canalisation"}

    type: Literal["pipe_break"]
    target: Target
    mode: Literal["leak", "closure"] = Field(
        "closure", description="'leak': water lost through an orifice; 'closure': pipe shut."
    )
    leak_diameter_m: float = Field(
        0.05, gt=0, le=2.0, description="Equivalent orifice diameter of a leak [m]."
    )
    isolate: bool = Field(
        True, description="Shut the valve segment around the pipe for the repair."
    )
    isolate_after_h: float = Field(
        1.0,
        ge=0,
        le=MAX_HOURS,
        description="Time from the break to the segment's shutting [h] (ASSUMED 1 h).",
    )


class ValveClosure(_Timed):
    """Close valves (EPANET valves, or the isolation valve of a pipe, closing the pipe)."""

    title = {"en": "Valve closure", "fr": "Fermeture de vanne"}

    type: Literal["valve_closure"]
    target: Target


class PumpOutage(_Timed):
    """Take pumps out of service (their controls cannot restart them during the window)."""

    title = {"en": "Pump outage", "fr": "Panne de pompe"}

    type: Literal["pump_outage"]
    target: Target


class SourceOutage(_Timed):
    """Take tanks or reservoirs out of service (every link connected to them is shut)."""

    title = {"en": "Source outage", "fr": "Ressource hors service"}

    type: Literal["source_outage"]
    target: Target


class DemandChange(_Timed):
    """Multiply junction demands during a window (e.g. a heat wave, ×1.3)."""

    title = {"en": "Demand change", "fr": "Variation de la demande"}

    type: Literal["demand_change"]
    target: Target = Field(description="Network layer; ids, where or geometry select junctions.")
    factor: float = Field(1.3, ge=0, le=10, description="Demand multiplier [-].")


def _window(iv: _Timed) -> dict[str, float]:
    return {ev.START: iv.start_h, ev.END: iv.start_h + iv.duration_h}


def _links(twin: Twin, target: Target, where: str, kinds: set[str]) -> tuple[Network, pd.Index]:
    """The target links, all of a type in ``kinds``."""
    net = ev.water_network(twin, target.layer, where)
    ids = select(twin, target, f"{where}.target")
    wrong = net.links.loc[ids, "link_type"].astype(str)
    wrong = wrong[~wrong.isin(kinds)]
    if len(wrong):
        msg = message(
            f"{len(wrong)} targets are not {' or '.join(sorted(kinds))}s "
            f"(e.g. {wrong.index[0]} is a {wrong.iloc[0]})",
            where=f"{where}.target",
            fix=f"select only {' or '.join(sorted(kinds))} links",
        )
        raise SchemaError(msg)
    return net, ids


def _nodes(twin: Twin, target: Target, where: str) -> tuple[Network, pd.Index]:
    """The target nodes: by ids, attribute filter or area (all nodes without selector), with
    the rules of every network target (:func:`twin.sims.networks_status.select_elements`)."""
    net = ev.water_network(twin, target.layer, where)
    return net, select_elements(twin, target, where, "nodes")


def _of_type(net: Network, ids: pd.Index, kinds: set[str], where: str) -> pd.Index:
    """``ids`` restricted to nodes of ``kinds``; an error when none is left."""
    keep = ids[net.nodes.loc[ids, "node_type"].astype(str).isin(kinds).to_numpy()]
    if not len(keep):
        msg = message(
            f"the target selects no {' or '.join(sorted(kinds))}",
            where=f"{where}.target",
            fix=f"select {' or '.join(sorted(kinds))} nodes of the network",
        )
        raise SchemaError(msg)
    return keep


def _done(what_en: str, what_fr: str, n: int, iv: _Timed) -> Done:
    end = iv.start_h + iv.duration_h
    en, fr = ("element", "élément") if n == 1 else ("elements", "éléments")
    return Done(
        f"{what_en}: {n} {en}, from {iv.start_h:g} h to {end:g} h",
        f"{what_fr} : {n} {fr}, de {iv.start_h:g} h à {end:g} h",
    )


def pipe_break(twin: Twin, iv: PipeBreak, where: str) -> Done:
    """Mark the target pipes broken (leak or closure) during the window."""
    net, ids = _links(twin, iv.target, where, {"pipe"})
    values: dict[str, Any] = {
        ev.EVENT: "break",
        **_window(iv),
        ev.BREAK_MODE: iv.mode,
        ev.LEAK_D: iv.leak_diameter_m if iv.mode == "leak" else np.nan,
        ev.ISOLATE: iv.isolate,
        ev.ISOLATE_AT: min(iv.start_h + iv.isolate_after_h, iv.start_h + iv.duration_h),
    }
    ev.mark(net.links, ids, values, where)
    seg = " (valve segment isolated for the repair)" if iv.isolate else ""
    seg_fr = " (tronçon entre vannes isolé pour la réparation)" if iv.isolate else ""
    mode_fr = "fuite" if iv.mode == "leak" else "fermeture"
    return _done(
        f"pipe break, {iv.mode}{seg}", f"casse de conduite, {mode_fr}{seg_fr}", len(ids), iv
    )


def valve_closure(twin: Twin, iv: ValveClosure, where: str) -> Done:
    """Mark the target valves (or pipes) closed during the window."""
    net, ids = _links(twin, iv.target, where, {"valve", "pipe"})
    ev.mark(net.links, ids, {ev.EVENT: "valve_closure", **_window(iv)}, where)
    return _done("valve closure", "fermeture de vanne", len(ids), iv)


def pump_outage(twin: Twin, iv: PumpOutage, where: str) -> Done:
    """Mark the target pumps out of service during the window."""
    net, ids = _links(twin, iv.target, where, {"pump"})
    ev.mark(net.links, ids, {ev.EVENT: "pump_outage", **_window(iv)}, where)
    return _done("pump outage", "panne de pompe", len(ids), iv)


def source_outage(twin: Twin, iv: SourceOutage, where: str) -> Done:
    """Mark the target tanks or reservoirs out of service during the window."""
    net, ids = _nodes(twin, iv.target, where)
    ids = _of_type(net, ids, {"tank", "reservoir"}, where)
    ev.mark(net.nodes, ids, {ev.EVENT: "source_outage", **_window(iv)}, where)
    return _done("source outage", "ressource hors service", len(ids), iv)


def demand_change(twin: Twin, iv: DemandChange, where: str) -> Done:
    """Mark the target junctions' demand multiplied by ``factor`` during the window."""
    net, ids = _nodes(twin, iv.target, where)
    ids = _of_type(net, ids, {"junction"}, where)
    ev.mark(net.nodes, ids, {ev.EVENT: "demand_change", **_window(iv), ev.FACTOR: iv.factor}, where)
    return _done(
        f"demand ×{iv.factor:g}", f"demande ×{iv.factor:g}".replace(".", ","), len(ids), iv
    )


INTERVENTIONS = (
    InterventionSpec(PipeBreak, pipe_break),
    InterventionSpec(ValveClosure, valve_closure),
    InterventionSpec(PumpOutage, pump_outage),
    InterventionSpec(SourceOutage, source_outage),
    InterventionSpec(DemandChange, demand_change),
)

#: The intervention types the water simulation reads.
WATER_INTERVENTIONS = tuple(spec.type for spec in INTERVENTIONS)
