"""Energy-network interventions, read by the ``power`` simulation.

Each writes onto the scenario's copy of the network's tables; the simulation reads the tables
(and applies them to the pandapower net when there is one):

* ``substation_outage`` — targeted **nodes** out of service (``in_service = False``); target
  them by id, by attribute (``where: {substation: "HV/MV Transformer 0"}``,
  ``where: {name: "Bus 39"}``) or by area;
* ``line_outage`` — targeted **links** (lines, transformers, switches) out of service;
* ``switch_open`` / ``switch_close`` — ``closed = False`` / ``True`` on switch links, or on
  lines and transformers that carry switches (all their switches);
* ``ev_charging`` — ``power_mw`` of electric-vehicle charging load spread evenly over the
  targeted nodes (``ev_load_mw``, added to what is there).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from twin.errors import SchemaError, message
from twin.model.twin import Twin
from twin.sims.interventions import Done, Intervention, InterventionSpec, Target
from twin.sims.networks_status import network_of, select_elements, set_status


class SubstationOutage(Intervention):
    """Take substations (network nodes) out of service."""

    title = {"en": "Substation outage", "fr": "Panne de poste"}
    type: Literal["substation_outage"]
    target: Target = Field(description="Nodes of an energy network: ids, where or area.")


class LineOutage(Intervention):
    """Take lines (or any network link: transformer, switch) out of service."""

    title = {"en": "Line outage", "fr": "Panne de ligne"}
    type: Literal["line_outage"]
    target: Target = Field(description="Links of an energy network: ids, where or area.")


class SwitchOpen(Intervention):
    """Open switches (switch links, or all the switches of the targeted lines)."""

    title = {"en": "Open switches", "fr": "Ouverture d'organes de coupure"}
    type: Literal["switch_open"]
    target: Target = Field(description="Switch links, or lines carrying switches.")


class SwitchClose(Intervention):
    """Close switches (e.g. a normally open sectioning point, to back-feed a feeder)."""

    title = {"en": "Close switches", "fr": "Fermeture d'organes de coupure"}
    type: Literal["switch_close"]
    target: Target = Field(description="Switch links, or lines carrying switches.")


class EvCharging(Intervention):
    """Electric-vehicle charging load added at network nodes."""

    title = {"en": "EV charging", "fr": "Recharge de véhicules électriques"}
    type: Literal["ev_charging"]
    target: Target = Field(description="Nodes receiving the load: ids, where or area.")
    power_mw: float = Field(
        gt=0, le=500, description="Charging load [MW], spread evenly over the targeted nodes."
    )


def substation_outage(twin: Twin, iv: SubstationOutage, where: str) -> Done:
    """Set ``in_service = False`` on the targeted nodes."""
    n = set_status(twin, iv.target, where, "nodes", "in_service", False)
    layer = iv.target.layer
    return Done(
        f"substation outage: {n} nodes out of service in '{layer}'",
        f"panne de poste : {n} nœuds hors service dans « {layer} »",
    )


def line_outage(twin: Twin, iv: LineOutage, where: str) -> Done:
    """Set ``in_service = False`` on the targeted links."""
    n = set_status(twin, iv.target, where, "links", "in_service", False)
    layer = iv.target.layer
    return Done(
        f"line outage: {n} links out of service in '{layer}'",
        f"panne de ligne : {n} tronçons hors service dans « {layer} »",
    )


def _switches(twin: Twin, target: Target, where: str, closed: bool) -> int:
    """Set ``closed`` on targeted links that are or carry switches."""
    links = network_of(twin, target, where).links
    ids = select_elements(twin, target, where, "links")
    if "switch_ids" in links:
        bare = [i for i in ids if not str(links.at[i, "switch_ids"] or "")]
        if bare:
            msg = message(
                f"{len(bare)} targeted links have no switch (e.g. {bare[:5]})",
                where=f"{where}.target",
                fix="target switch links or lines with switches (non-empty switch_ids), or "
                "use line_outage",
            )
            raise SchemaError(msg)
    if "closed" not in links:
        links["closed"] = np.ones(len(links), dtype=bool)
    links.loc[ids, "closed"] = closed
    return len(ids)


def switch_open(twin: Twin, iv: SwitchOpen, where: str) -> Done:
    """Set ``closed = False`` on the targeted switch links or switched lines."""
    n = _switches(twin, iv.target, where, False)
    return Done(
        f"switches opened on {n} links of '{iv.target.layer}'",
        f"organes de coupure ouverts sur {n} tronçons de « {iv.target.layer} »",
    )


def switch_close(twin: Twin, iv: SwitchClose, where: str) -> Done:
    """Set ``closed = True`` on the targeted switch links or switched lines."""
    n = _switches(twin, iv.target, where, True)
    return Done(
        f"switches closed on {n} links of '{iv.target.layer}'",
        f"organes de coupure fermés sur {n} tronçons de « {iv.target.layer} »",
    )


def ev_charging(twin: Twin, iv: EvCharging, where: str) -> Done:
    """Add ``power_mw / n`` to ``ev_load_mw`` of each of the ``n`` targeted nodes."""
    nodes = network_of(twin, iv.target, where).nodes
    ids = select_elements(twin, iv.target, where, "nodes")
    if "ev_load_mw" not in nodes:
        nodes["ev_load_mw"] = 0.0
    nodes.loc[ids, "ev_load_mw"] = nodes.loc[ids, "ev_load_mw"] + iv.power_mw / len(ids)
    return Done(
        f"EV charging: {iv.power_mw:g} MW added over {len(ids)} nodes of '{iv.target.layer}'",
        f"recharge de VE : {iv.power_mw:g} MW ajoutés sur {len(ids)} nœuds de "
        f"« {iv.target.layer} »",
    )


INTERVENTIONS = (
    InterventionSpec(SubstationOutage, substation_outage),
    InterventionSpec(LineOutage, line_outage),
    InterventionSpec(SwitchOpen, switch_open),
    InterventionSpec(SwitchClose, switch_close),
    InterventionSpec(EvCharging, ev_charging),
)

#: Intervention types the power simulation reads (declared once, here).
POWER_INTERVENTIONS = tuple(s.type for s in INTERVENTIONS)
