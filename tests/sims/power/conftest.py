"""pandapower's real ``mv_oberrhein`` network, read through the loader, as a twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sims.power.oberrhein import oberrhein_layer
from twin.model.twin import Twin


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
