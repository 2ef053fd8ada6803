"""A third-party plugin, installed through entry points, runs with twin unchanged.

The worked example of ``docs/plugins.md`` (``docs/examples/twin_cycling``: a simulation, one
intervention, two KPIs with French labels, one output with display hints) is installed with
pip into a temporary site directory; the real ``twin`` CLI runs a scenario with it on the
demo twin in a subprocess that sees that directory, and the run's KPI table, French notice and
the viewer's legend show what the plugin declared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "twin_cycling"
TWIN = Path(sys.executable).parent / "twin"

SCENARIO = """\
name: lanes
title: Cycle lanes on the secondary roads
parent: baseline
interventions:
  - type: bike_lane
    target: {layer: roads, where: {highway: secondary}}
    width_m: 1.5
simulations: [cycling]
parameters:
  cycling: {min_width_m: 1.2}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin installed (with its entry points) into a fresh site directory."""
    target = tmp_path_factory.mktemp("site")
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    cmd += ["--no-build-isolation", "--no-index", "--target", str(target), str(EXAMPLE)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    assert list(target.glob("twin_cycling-*.dist-info/entry_points.txt"))
    return target


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site)}


def test_plugin_runs_from_the_cli(site: Path, demo_dir: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "lanes.yaml"
    scenario.write_text(SCENARIO)
    runs = tmp_path / "runs"
    cmd = [str(TWIN), "run", str(scenario), "--twin", str(demo_dir), "--out", str(runs)]
    done = subprocess.run(cmd, env=_env(site), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (run_dir,) = runs.glob("lanes-*")
    kpis = pd.read_csv(run_dir / "kpis.csv", index_col="kpi")
    assert kpis.loc["bike_lane_km", "value"] > 1.0
    assert kpis.loc["bike_lane_km", "label_fr"] == "Bandes cyclables"
    assert kpis.loc["bike_lane_share", "unit"] == "1"
    # compared with its parent (the baseline, no lanes)
    parent = pd.read_csv(run_dir / "compare" / "kpis.csv", index_col="kpi")
    assert parent.loc["bike_lane_km", "a"] == 0.0
    notice = (run_dir / "notice.fr.md").read_text(encoding="utf-8")
    assert "Aménagements cyclables" in notice and "**Bandes cyclables**" in notice
    assert "bandes cyclables de 1.5 m sur" in notice  # what the intervention did, in French
    assert "au moins 1.2 m" in notice  # the notice formatted with the parameters used
    legend = _viewer_legend(site, run_dir)
    assert "Largeur de bande" in legend and "[m]" in legend, legend


def _viewer_legend(site: Path, run_dir: Path) -> str:
    """The legend the viewer draws for the run's result layers, in French."""
    code = (
        "import json, sys\n"
        "from twin.scenario.runner import Run\n"
        "from twin.viewer.layers import run_layers\n"
        "from twin.viewer.legend import legend_items\n"
        "r = Run.open(sys.argv[1])\n"
        "items = legend_items({}, {'left': run_layers(r)}, 'fr')\n"
        "print(json.dumps([i.to_plotly_json() for i in items], default=str,"
        " ensure_ascii=False))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(run_dir)],
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.dumps(json.loads(done.stdout), ensure_ascii=False)


def test_an_intervention_nothing_reads_is_refused(
    site: Path, demo_dir: Path, tmp_path: Path
) -> None:
    """The plugin's intervention with no simulation reading it fails at planning."""
    scenario = tmp_path / "unread.yaml"
    scenario.write_text(
        SCENARIO.replace("simulations: [cycling]", "simulations: [landcover]").replace(
            "parameters:\n  cycling: {min_width_m: 1.2}\n", ""
        )
    )
    cmd = [str(TWIN), "run", str(scenario), "--twin", str(demo_dir), "--out", str(tmp_path)]
    done = subprocess.run(cmd, env=_env(site), capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr
    assert "interventions[0] (bike_lane): no planned simulation reads its effect" in done.stderr
    assert "add one of ['cycling'] to simulations" in done.stderr
    assert "Traceback" not in done.stderr


def test_docs_show_the_tested_example() -> None:
    """docs/plugins.md holds the example's code as it is installed above."""
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for f in ("pyproject.toml", "twin_cycling/__init__.py"):
        assert (EXAMPLE / f).read_text(encoding="utf-8").strip() in doc, f
