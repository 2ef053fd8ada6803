"""Status changes of water and energy network elements, shared by their interventions.

Targets select **links** or **nodes** of a network layer with the same rules as any target
(:func:`twin.sims.targets.select`): ids, an attribute filter (``where: {substation: "HV/MV
Transformer 0"}``, ``where: {name: ...}``) or an inline GeoJSON area.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from twin.errors import SchemaError, message
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.interventions import Target
from twin.sims.targets import select

Table = Literal["links", "nodes"]


def network_of(twin: Twin, target: Target, where: str) -> Network:
    """The network a target points to.

    Raises
    ------
    SchemaError
        When ``target.layer`` is not a network layer of the twin.
    """
    lay = twin.layer(target.layer) if target.layer in twin else None
    if lay is None or lay.kind != "network":
        msg = message(
            f"'{target.layer}' is not a network layer",
            where=f"{where}.target",
            fix="target a water or energy network layer",
        )
        raise SchemaError(msg)
    net: Network = lay.data
    return net


def select_elements(twin: Twin, target: Target, where: str, table: Table) -> pd.Index:
    """Ids of the links or nodes of a network layer that ``target`` selects.

    Nodes are selected with :func:`twin.sims.targets.select` on a view of the node table as
    a vector layer of the same name, so ids, filters and areas mean the same as elsewhere.
    """
    net = network_of(twin, target, where)
    if table == "links":
        return select(twin, target, f"{where}.target")
    view = Twin(twin.name, net.nodes.crs)
    view.add(Layer(target.layer, "vector", net.nodes, Provenance(source="nodes")))
    return select(view, target, f"{where}.target")


def set_status(twin: Twin, target: Target, where: str, table: Table, col: str, value: Any) -> int:
    """Set ``col`` to ``value`` on the targeted links or nodes of a network layer.

    Returns
    -------
    int
        How many elements were targeted.
    """
    frame = getattr(network_of(twin, target, where), table)
    ids = select_elements(twin, target, where, table)
    if col not in frame:
        frame[col] = True if isinstance(value, bool) else "Open"
    frame.loc[ids, col] = value
    return len(ids)
