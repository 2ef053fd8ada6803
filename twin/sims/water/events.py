"""The event columns water interventions write on a network's tables, declared once.

An intervention does not run WNTR: it marks the elements it acts on in the scenario's copy of
the network (links or nodes table) with an event and its time window, and the water
simulation turns every marked element into EPANET time controls when it builds the model.
One element carries at most one event (a second one on the same element is refused).

Links (pipes, pumps, valves)
    ``water_event`` — ``"break"`` (pipe), ``"valve_closure"``, ``"pump_outage"`` or ``""``;
    ``water_start_h`` / ``water_end_h`` — window [h from the simulation start];
    ``water_break_mode`` — ``"leak"`` or ``"closure"`` (breaks);
    ``water_leak_diameter_m`` — equivalent orifice diameter of a leak [m];
    ``water_isolate`` — whether the break's valve segment is shut for the repair;
    ``water_isolate_h`` — when the segment is shut [h from the simulation start].
Nodes (junctions, tanks, reservoirs)
    ``water_event`` — ``"source_outage"``, ``"demand_change"`` or ``""``;
    ``water_start_h`` / ``water_end_h`` — window [h];
    ``water_demand_factor`` — demand multiplier during the window [-].
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from twin.errors import SchemaError, message
from twin.model.network import Network
from twin.model.twin import Twin

EVENT = "water_event"
START = "water_start_h"
END = "water_end_h"
BREAK_MODE = "water_break_mode"
LEAK_D = "water_leak_diameter_m"
ISOLATE = "water_isolate"
ISOLATE_AT = "water_isolate_h"
FACTOR = "water_demand_factor"

#: Default value of each event column (an element without an event).
LINK_COLUMNS: dict[str, Any] = {
    EVENT: "",
    START: np.nan,
    END: np.nan,
    BREAK_MODE: "",
    LEAK_D: np.nan,
    ISOLATE: False,
    ISOLATE_AT: np.nan,
}
NODE_COLUMNS: dict[str, Any] = {EVENT: "", START: np.nan, END: np.nan, FACTOR: np.nan}


class Window(NamedTuple):
    """The time window of an event [h from the simulation start]."""

    start_h: float
    end_h: float


def water_network(twin: Twin, layer: str, where: str) -> Network:
    """The EPANET network of layer ``layer``.

    Raises
    ------
    SchemaError
        When the layer is missing, not a network, or has no EPANET model.
    """
    lay = twin.layer(layer) if layer in twin else None
    if lay is None or lay.kind != "network":
        msg = message(
            f"'{layer}' is not a network layer of the twin",
            where=f"{where}.target.layer",
            fix=f"target the water network layer (network layers: {_networks(twin)})",
        )
        raise SchemaError(msg)
    net: Network = lay.data
    if net.model is None or net.model.engine != "epanet":
        engine = net.model.engine if net.model is not None else "none"
        msg = message(
            f"layer '{layer}' is not an EPANET water network (engine model: {engine})",
            where=f"{where}.target.layer",
            fix="target a network loaded with the epanet loader",
        )
        raise SchemaError(msg)
    return net


def _networks(twin: Twin) -> list[str]:
    return sorted(n for n, lay in twin.layers.items() if lay.kind == "network")


def _ensure(frame: pd.DataFrame, columns: dict[str, Any]) -> None:
    for col, default in columns.items():
        if col not in frame.columns:
            frame[col] = pd.Series(default, index=frame.index, dtype=type(default))


def mark(frame: pd.DataFrame, ids: pd.Index, values: dict[str, Any], where: str) -> None:
    """Write an event (``values`` of the event columns) on rows ``ids`` of ``frame`` (a links
    table when ``values`` names a link column, a nodes table otherwise).

    Raises
    ------
    SchemaError
        When one of the rows already carries an event.
    """
    _ensure(frame, NODE_COLUMNS if "link_type" not in frame.columns else LINK_COLUMNS)
    taken = frame.loc[ids, EVENT].astype(str) != ""
    if taken.any():
        msg = message(
            f"{int(taken.sum())} elements already have a water event "
            f"(e.g. {taken.index[taken][:5].tolist()}: {frame.loc[ids[taken][:1], EVENT].iloc[0]})",
            where=f"{where}.target",
            fix="give each pipe, pump, valve or node one event per scenario",
        )
        raise SchemaError(msg)
    for col, value in values.items():
        frame.loc[ids, col] = value


def events(frame: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """Rows of ``frame`` that carry an event (of ``kind`` when given), with every event
    column."""
    cols = LINK_COLUMNS if "link_type" in frame.columns else NODE_COLUMNS
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name, errors="ignore"))
    if EVENT not in out.columns:
        out = out.iloc[0:0]
    _ensure(out, cols)
    ev = out[EVENT].fillna("").astype(str)
    return out[ev == kind] if kind is not None else out[ev != ""]
