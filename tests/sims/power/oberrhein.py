"""pandapower's real ``mv_oberrhein`` network read through the ``pandapower`` loader."""

from __future__ import annotations

from pathlib import Path

from twin.build import resolve_source
from twin.io.registry import get_loader
from twin.model.layer import Layer

OBERRHEIN = "pkg://pandapower/networks/mv_oberrhein.json"


def oberrhein_layer(name: str = "energy") -> Layer:
    """The ``mv_oberrhein`` network (pandapower's 'load' case) as a twin network layer."""
    ld = get_loader("pandapower")
    src = resolve_source(OBERRHEIN, Path("."))
    layer = ld.func(src, **ld.validate_options({"network": "mv_oberrhein"}, "layers.energy"))
    layer.name = name
    return layer
