"""Status changes of water and energy network elements, shared by their interventions."""

from __future__ import annotations

from typing import Any

from twin.errors import SchemaError, message
from twin.model.twin import Twin
from twin.sims.interventions import Target
from twin.sims.targets import select


def set_status(twin: Twin, target: Target, where: str, table: str, col: str, value: Any) -> int:
    """Set ``col`` to ``value`` on the targeted ``table`` (links or nodes) of a network layer.

    Nodes are targeted by id (``target.ids``); links by any target. Returns how many elements
    changed.
    """
    lay = twin.layer(target.layer) if target.layer in twin else None
    if lay is None or lay.kind != "network":
        msg = message(
            f"'{target.layer}' is not a network layer",
            where=f"{where}.target",
            fix="target a water or energy network layer",
        )
        raise SchemaError(msg)
    frame = getattr(lay.data, table)
    if table == "nodes":
        wanted = [str(i) for i in (target.ids or [])]
        ids = frame.index[frame.index.astype(str).isin(wanted)]
        if not wanted or len(ids) != len(wanted):
            msg = message(
                "give existing node ids under target.ids",
                where=f"{where}.target",
                fix=f"use ids such as {frame.index[:3].astype(str).tolist()}",
            )
            raise SchemaError(msg)
    else:
        ids = select(twin, target, f"{where}.target")
    frame[col] = frame[col] if col in frame else (True if value is False else "Open")
    frame.loc[ids, col] = value
    return len(ids)
