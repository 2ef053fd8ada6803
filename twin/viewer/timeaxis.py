"""The viewer's shared time axis.

A result layer varies in time when it is a grid with a ``time`` dimension (``(time, y, x)``)
or a vector layer with columns named ``<metric>@<time>``, where ``<time>`` is an ISO date or
time (``2026-07-15T14:00``, ``2026-03``) or a clock time (``14:00``). The viewer's single slider
steps through the union of the time labels of every layer shown; each layer shows its frame at
that label, or its last frame before it (a monthly layer keeps its month while an hourly one
steps through the hours).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

_TIMED = re.compile(r"^(?P<metric>[^@]+)@(?P<time>[^@]+?)(?P<diff>_diff)?$")


def split_column(col: str) -> tuple[str, str | None]:
    """``("flow_veh_h", "08:00")`` for ``flow_veh_h@08:00`` (``_diff`` kept on the metric);
    ``(col, None)`` for a column that does not vary in time."""
    m = _TIMED.match(str(col))
    if m is None:
        return str(col), None
    return m["metric"] + (m["diff"] or ""), m["time"]


def label_of(value: Any) -> str:
    """A time coordinate value as a label: ISO, to the minute, without a zero time part."""
    if isinstance(value, str):
        return value
    ts = pd.Timestamp(value)
    if ts.hour == ts.minute == ts.second == 0:
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%dT%H:%M")


def grid_labels(da: Any) -> list[str]:
    """Labels of the ``time`` coordinate of a grid variable (empty when it has none)."""
    if "time" not in getattr(da, "dims", ()):
        return []
    if "time" in da.coords:
        return [label_of(v) for v in da["time"].to_numpy()]
    return [str(i) for i in range(da.sizes["time"])]


def column_labels(columns: Iterable[str]) -> list[str]:
    """Labels of the ``<metric>@<time>`` columns."""
    return sorted({t for c in columns if (t := split_column(c)[1]) is not None})


def layer_labels(kind: str, data: Any) -> list[str]:
    """Time labels of an output layer (grid variables or timed columns)."""
    if kind == "grid":
        out: set[str] = set()
        for v in data.data_vars:
            out.update(grid_labels(data[v]))
        return sorted(out)
    return column_labels(c for c in data.columns if c != "geometry")


def pick(labels: list[str], wanted: str | None) -> int:
    """Index of the frame to show for ``wanted``: equal, else the last before, else 0."""
    if not labels or wanted is None:
        return 0
    if wanted in labels:
        return labels.index(wanted)
    before = [i for i, lab in enumerate(labels) if lab <= wanted]
    return before[-1] if before else 0


def short_labels(labels: list[str]) -> list[str]:
    """Labels for slider marks: the clock time when every label is on the same day."""
    days = {lab[:10] for lab in labels if "T" in lab}
    if len(days) == 1 and all("T" in lab for lab in labels):
        return [lab[11:16] for lab in labels]
    return list(labels)


def marks(labels: list[str], most: int = 13) -> dict[int, str]:
    """Slider marks: at most ``most`` evenly spaced labels."""
    if not labels:
        return {}
    short = short_labels(labels)
    step = max(1, int(np.ceil(len(labels) / most)))
    return {i: short[i] for i in range(0, len(labels), step)}
