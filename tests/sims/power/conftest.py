"""pandapower's real ``mv_oberrhein`` network, read through the loader, as a twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.build import resolve_source
from twin.io.registry import get_loader
from twin.model.layer import Layer
from twin.model.twin import Twin

OBERRHEIN = "pkg://pandapower/networks/mv_oberrhein.json"


def oberrhein_layer(name: str = "energy") -> Layer:
    """The ``mv_oberrhein`` network (pandapower's 'load' case) as a twin network layer."""
    ld = get_loader("pandapower")
    src = resolve_source(OBERRHEIN, Path("."))
    layer = ld.func(src, **ld.validate_options({"network": "mv_oberrhein"}, "layers.energy"))
    layer.name = name
    return layer


@pytest.fixture(scope="session")
def oberrhein_twin() -> Twin:
    """A twin holding only the network (do not modify: copy it)."""
    layer = oberrhein_layer()
    t = Twin("oberrhein", layer.crs)
    t.add(layer)
    return t


@pytest.fixture(scope="session")
def oberrhein_dir(oberrhein_twin: Twin, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The twin saved to disk (for runs through the runner)."""
    out = tmp_path_factory.mktemp("oberrhein") / "twin"
    oberrhein_twin.save(out)
    return out
