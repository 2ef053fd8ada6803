"""pandapower's real ``mv_oberrhein`` network as a twin, built from its manifest
(``layers/oberrhein.yaml``) the way a user builds one."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.build import build_twin
from twin.model.twin import Twin

MANIFEST = Path(__file__).resolve().parents[3] / "layers" / "oberrhein.yaml"


@pytest.fixture(scope="session")
def oberrhein_twin() -> Twin:
    """A twin holding only the network (do not modify: copy it)."""
    twin, _ = build_twin(MANIFEST)
    assert twin.layer("energy").data.model is not None  # the build keeps the pandapower net
    return twin


@pytest.fixture(scope="session")
def oberrhein_dir(oberrhein_twin: Twin, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The twin saved to disk (for runs through the runner)."""
    out = tmp_path_factory.mktemp("oberrhein") / "twin"
    oberrhein_twin.save(out)
    return out
