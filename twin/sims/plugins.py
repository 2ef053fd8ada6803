"""Loading plugins from entry points (simulations, interventions), without breaking on one."""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any

from twin.errors import TwinWarning


def load_entry_points(group: str) -> list[tuple[str, Any]]:
    """The loaded objects of an entry-point group, as ``(name, object)``.

    A plugin that fails to import is skipped with a :class:`TwinWarning` naming it, so that
    one broken package does not stop twin.
    """
    out = []
    for ep in entry_points(group=group):
        try:
            out.append((ep.name, ep.load()))
        except Exception as exc:  # a third-party plugin may fail in any way
            warnings.warn(
                f"plugin '{ep.name}' of {group} ({ep.value}) failed to load and is skipped: "
                f"{type(exc).__name__}: {exc}",
                TwinWarning,
                stacklevel=2,
            )
    return out
