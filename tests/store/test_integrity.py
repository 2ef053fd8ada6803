"""No poisoned or corrupt cache: damaged twin layers are refused by name, damaged or empty
cached runs are recomputed, and the viewer leaves them out instead of failing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from twin.errors import StoreError
from twin.scenario.runner import Run, run, stale_run
from twin.scenario.schema import Scenario
from twin.store.twinstore import open_twin

SC = {"name": "lc", "parent": None, "simulations": ["landcover"]}


def test_edited_or_truncated_layer_is_refused(demo_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "twin"
    shutil.copytree(demo_dir, copy)
    f = copy / "layers" / "shops.parquet"
    f.write_bytes(f.read_bytes()[:-100])  # truncated
    with pytest.raises(StoreError, match=r"layer 'shops'.*shops.parquet \(changed\)"):
        open_twin(copy)
    f.unlink()
    with pytest.raises(StoreError, match=r"shops.parquet \(missing\)"):
        open_twin(copy)


def test_damaged_cached_run_is_recomputed(demo_dir: Path, tmp_path: Path) -> None:
    sc = Scenario.from_dict(SC)
    first = run(demo_dir, sc, out=tmp_path)
    assert first.path is not None and not stale_run(first.path)
    out = first.path / "outputs" / "landcover.nc"
    out.write_bytes(b"not netcdf")
    assert stale_run(first.path) == ["landcover.nc (changed)"]
    with pytest.raises(StoreError, match="the run directory is damaged"):
        Run.open(first.path)
    again = run(demo_dir, sc, out=tmp_path)  # same key: recomputed, not reused
    assert not again.from_cache and not stale_run(first.path)
    assert again.kpis["value"].equals(first.kpis["value"])
    # an emptied KPI table or a broken manifest is not reused either
    (first.path / "kpis.csv").write_text("kpi,value\n")
    assert stale_run(first.path) == ["kpis.csv holds no KPI"]
    (first.path / "run.json").write_text("{")
    assert stale_run(first.path)[0].startswith("run.json unreadable")
    assert not run(demo_dir, sc, out=tmp_path).from_cache


def test_viewer_leaves_damaged_runs_out(demo_dir: Path, tmp_path: Path) -> None:
    from twin.viewer.catalogue import Catalogue

    good = run(demo_dir, Scenario.from_dict(SC), out=tmp_path / "runs")
    bad = run(demo_dir, Scenario.from_dict({**SC, "name": "lc2", "seed": 1}), out=tmp_path / "runs")
    assert good.path is not None and bad.path is not None
    m = json.loads((bad.path / "run.json").read_text())
    (bad.path / "outputs" / m["outputs"]["landcover"]["file"]).unlink()
    cat = Catalogue(demo_dir, tmp_path / "runs", open_twin(demo_dir))
    cat.refresh()
    assert list(cat.runs) == [good.run_id]
    assert cat.warm() == 1
