"""Sweeps: sample generation, validation, and real batches on Dask LocalClusters."""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from twin.batch import Sweep, batch, make_samples, parse_path, sample_values, set_path
from twin.errors import SchemaError
from twin.scenario.runner import run
from twin.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
KPIS = [  # the closure scenario's KPIs, in the order its simulations run
    "vehicle_km",
    "vehicle_hours",
    "delay_h",
    "co2_kg",
    "relative_gap",
    "mean_travel_time_s",
    "unreachable_pair_share",
    "open_network_km",
    "shop_mean_access_time_s",
    "shops_slow_share",
]


def sweep_dict(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": "t",
        "scenario": "../closure.yaml",
        "method": "grid",
        "parameters": {
            "seed": {"values": [1, 2]},
            "interventions[0].capacity_factor": {"values": [0.0, 0.5]},
            "parameters.accessibility.n_origins": {"values": [50]},
        },
    }
    d.update(over)
    return d


def make(**over: Any) -> Sweep:
    return Sweep.from_dict(sweep_dict(**over), base=SCENARIOS / "sweeps")


# -- sample generation -----------------------------------------------------------------------
def test_grid_is_the_exact_cartesian_product() -> None:
    sw = make(
        parameters={
            "seed": {"values": [1, 2, 3]},
            "interventions[0].capacity_factor": {"values": [0.0, 0.25, 0.5]},
            "parameters.shop_access.threshold_s": {"values": [120, 600]},
        }
    )
    vals = sample_values(sw)
    expected = list(itertools.product([1, 2, 3], [0.0, 0.25, 0.5], [120, 600]))
    assert [tuple(v.values()) for v in vals] == expected
    samples = make_samples(sw)
    assert len(samples) == 18
    s = samples[7]  # (2, 0.0, 600)
    assert s.scenario.name == "closure-s007"
    assert s.scenario.seed == 2
    assert s.scenario.interventions[0].capacity_factor == 0.0  # type: ignore[union-attr]
    assert s.scenario.parameters["shop_access"]["threshold_s"] == 600
    # untouched fields come from the base scenario
    base = Scenario.from_yaml(SCENARIOS / "closure.yaml")
    assert s.scenario.parameters["accessibility"] == base.parameters["accessibility"]
    assert s.scenario.parent == "baseline"
    assert {x.scenario.name for x in samples} == {f"closure-s{i:03d}" for i in range(18)}


def test_random_draws_are_reproducible_and_within_bounds() -> None:
    params = {
        "parameters.shop_access.threshold_s": {"low": 60, "high": 900},
        "parameters.accessibility.n_origins": {
            "low": 10,
            "high": 1000,
            "log": True,
            "integer": True,
        },
        "interventions[0].capacity_factor": {"values": [0.0, 0.3, 0.6]},
    }
    a = sample_values(make(method="random", n=200, seed=3, parameters=params))
    b = sample_values(make(method="random", n=200, seed=3, parameters=params))
    c = sample_values(make(method="random", n=200, seed=4, parameters=params))
    assert a == b
    assert a != c
    thr = np.array([v["parameters.shop_access.threshold_s"] for v in a])
    org = [v["parameters.accessibility.n_origins"] for v in a]
    cap = [v["interventions[0].capacity_factor"] for v in a]
    assert thr.min() >= 60 and thr.max() <= 900 and len(set(thr)) == 200
    assert all(isinstance(o, int) and 10 <= o <= 1000 for o in org)
    # log-uniform: about half the draws below the geometric mean (100)
    assert 0.35 < np.mean(np.array(org) < 100) < 0.65
    assert set(cap) == {0.0, 0.3, 0.6}


def test_lhs_hits_each_stratum_once_per_dimension() -> None:
    n = 20
    sw = make(
        method="lhs",
        n=n,
        seed=11,
        parameters={
            "parameters.shop_access.threshold_s": {"low": 100, "high": 300},
            "parameters.accessibility.n_origins": {"low": 1, "high": 1000, "log": True},
            "seed": {"low": 0, "high": n - 1, "integer": True},
        },
    )
    vals = sample_values(sw)
    assert vals == sample_values(sw)  # reproducible with the sweep seed
    thr = np.array([v["parameters.shop_access.threshold_s"] for v in vals])
    org = np.array([v["parameters.accessibility.n_origins"] for v in vals])
    seeds = [v["seed"] for v in vals]
    assert sorted(np.floor((thr - 100) / 200 * n).astype(int)) == list(range(n))
    assert sorted(np.floor(np.log(org) / math.log(1000) * n).astype(int)) == list(range(n))
    assert sorted(seeds) == list(range(n))  # integers 0..19: each exactly once
    other = sample_values(
        make(method="lhs", n=n, seed=12, parameters=sw.model_dump()["parameters"])
    )
    assert other != vals


def test_twin_batch_is_callable() -> None:
    import twin
    import twin.batch as pkg

    assert callable(twin.batch) and callable(pkg)


def test_paths() -> None:
    assert parse_path("interventions[0].target.where.name") == [
        "interventions",
        0,
        "target",
        "where",
        "name",
    ]
    d: dict[str, Any] = {"interventions": [{"capacity_factor": 0}], "parameters": {}}
    set_path(d, "parameters.accessibility.n_origins", 5)
    set_path(d, "interventions[0].capacity_factor", 0.5)
    assert d == {
        "interventions": [{"capacity_factor": 0.5}],
        "parameters": {"accessibility": {"n_origins": 5}},
    }
    with pytest.raises(ValueError, match=r"has 1 item\(s\), so \[3\] does not exist"):
        set_path(d, "interventions[3].capacity_factor", 1)
    with pytest.raises(ValueError, match="not a parameter path"):
        parse_path("parameters..x")


# -- validation ------------------------------------------------------------------------------
def test_invalid_sweep_file_lists_every_problem(tmp_path: Path) -> None:
    bad = {
        "name": "bad name!",
        "scenario": "../closure.yaml",
        "method": "grid",
        "n": 0,
        "colour": "red",
        "parameters": {
            "seed": {"values": []},
            "parameters.shop_access.threshold_s": {"low": 500, "high": 100},
            "interventions[0].capacity_factor": {"values": [0.1], "low": 0.0},
            "parameters.accessibility.n_origins": {"low": 0, "high": 100, "log": True},
            "name": {"values": ["x"]},
        },
    }
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad))
    with pytest.raises(SchemaError) as exc:
        Sweep.from_yaml(f)
    text = str(exc.value)
    assert str(f) in text
    for expected in (
        "name: String should match pattern",
        "n: Input should be greater than or equal to 1",
        "colour: unknown field",
        "parameters[seed].values: List should have at least 1 item",
        "parameters[parameters.shop_access.threshold_s]: low (500) must be less than high (100)",
        "parameters[interventions[0].capacity_factor]: give either values or low/high",
        "parameters[parameters.accessibility.n_origins]: log: true needs low > 0",
        "Fix:",
    ):
        assert expected in text, (expected, text)
    assert "parameters[name]: the name is set per sample and cannot be swept" in text
    assert "8 problem(s) in the sweep" in text
    # method-level rules once the fields are valid
    with pytest.raises(SchemaError, match="method lhs needs n"):
        make(method="lhs")
    with pytest.raises(SchemaError, match="a grid needs values for every parameter"):
        make(parameters={"seed": {"low": 0, "high": 3}})


def test_invalid_samples_are_reported_before_anything_runs(tmp_path: Path) -> None:
    sw = make(
        parameters={
            "interventions[0].capacity_factor": {"values": [0.5, 2.0]},
            "interventions[4].capacity_factor": {"values": [0.5]},
            "seed": {"values": [1, 2]},
        }
    )
    with pytest.raises(SchemaError) as exc:
        make_samples(sw)
    text = str(exc.value)
    assert (
        "all 4 samples: parameters.interventions[4].capacity_factor: 'interventions' has 1 "
        "item(s), so [4] does not exist in scenario 'closure'" in text
    )
    # once the path is fixed, the out-of-range values are listed per sample
    sw = make(
        parameters={
            "interventions[0].capacity_factor": {"values": [0.5, 2.0]},
            "seed": {"values": [1, 2]},
        }
    )
    with pytest.raises(SchemaError) as exc:
        make_samples(sw)
    assert (
        "samples 2–3: interventions[0].capacity_factor: Input should be less than or "
        "equal to 1" in str(exc.value)
    )


# -- real batches ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from twin.build import build

    out = tmp_path_factory.mktemp("batch") / "demo"
    build(ROOT / "layers" / "demo.yaml", out)
    return out


@pytest.fixture(scope="module")
def cluster() -> Any:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


def test_batch_runs_resumes_and_matches_direct_runs(demo: Path, tmp_path: Path) -> None:
    sw = make(name="four")
    out = tmp_path / "runs"
    table = batch(sw, demo, out=out, workers=2, progress=False)
    info = table.attrs["batch"]
    assert info["samples"] == 4 and info["submitted"] == 4 and info["skipped"] == 0
    assert info["ok"] == 4 and info["errors"] == 0
    assert list(table.columns) == [
        "sample",
        "run_id",
        "seed",
        "interventions[0].capacity_factor",
        "parameters.accessibility.n_origins",
        "kpi",
        "value",
        "unit",
        "simulation",
        "status",
        "error",
    ]
    assert len(table) == 4 * len(KPIS)
    assert (table["status"] == "ok").all()
    assert list(table["kpi"][: len(KPIS)]) == KPIS
    # the same scenarios run directly give the same run ids and KPI values
    for s in make_samples(sw):
        direct = run(demo, s.scenario, compare_parent=False)
        rows = table[table["sample"] == s.index].set_index("kpi")
        assert (rows["run_id"] == direct.run_id).all()
        assert rows["seed"].iloc[0] == s.values["seed"]
        np.testing.assert_array_equal(
            rows.loc[KPIS, "value"].to_numpy(), direct.kpis.loc[KPIS, "value"].to_numpy()
        )
        assert (out / direct.run_id / "run.json").is_file()
    # closing half the capacity keeps more network open than closing the street
    km = (
        table[table["kpi"] == "open_network_km"]
        .groupby("interventions[0].capacity_factor")["value"]
        .mean()
    )
    assert km[0.5] > km[0.0]
    # the table is written atomically as Parquet and CSV
    saved = pd.read_parquet(out / "four.parquet")
    pd.testing.assert_frame_equal(saved, table)
    assert len(pd.read_csv(out / "four.csv")) == len(table)
    assert not list(out.glob(".four.*tmp*"))

    # resume: nothing is resubmitted, the table is identical
    again = batch(sw, demo, out=out, workers=2, progress=False)
    assert again.attrs["batch"]["submitted"] == 0
    assert again.attrs["batch"]["skipped"] == 4
    pd.testing.assert_frame_equal(again, table)

    # a partly finished sweep reruns only the missing run
    gone = table["run_id"][table["sample"] == 2].iloc[0]
    shutil.rmtree(out / gone)
    third = batch(sw, demo, out=out, workers=2, progress=False)
    assert third.attrs["batch"]["submitted"] == 1
    assert third.attrs["batch"]["skipped"] == 3
    assert (out / gone / "run.json").is_file()
    pd.testing.assert_frame_equal(third, table)


def test_failing_sample_does_not_stop_the_batch(
    demo: Path, tmp_path: Path, cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    sw = make(
        name="fail",
        parameters={
            "interventions[0].target.where.name": {"values": ["Mannerheimintie", "Nowhere"]},
            "parameters.accessibility.n_origins": {"values": [50]},
        },
    )
    table = batch(sw, demo, out=tmp_path, scheduler=cluster.scheduler_address, progress=True)
    info = table.attrs["batch"]
    assert info["ok"] == 1 and info["errors"] == 1 and info["submitted"] == 2
    bad = table[table["status"] == "error"]
    assert len(bad) == 1 and bad["sample"].iloc[0] == 1
    assert "selects no feature of layer 'roads'" in bad["error"].iloc[0]
    assert bad["kpi"].isna().all() and bad["value"].isna().all()
    assert len(table[table["status"] == "ok"]) == len(KPIS)
    err = capsys.readouterr().err
    assert "sample 1 (closure-s001)" in err and "selects no feature" in err
    assert "Traceback" not in err  # twin errors are reported without a traceback
    assert "2 sample(s), 0 finished run(s) reused, 2 to run" in err
    # the failed sample was not cached: a rerun submits it again, and only it
    again = batch(sw, demo, out=tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert again.attrs["batch"]["submitted"] == 1 and again.attrs["batch"]["skipped"] == 1


def test_unexpected_exception_is_reported_with_the_sample(
    demo: Path,
    tmp_path: Path,
    cluster: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import twin.batch.engine as engine

    def broken(twin_dir: str, scenario: dict[str, Any], library: Any, out: str) -> Any:
        raise ZeroDivisionError(f"bug in {scenario['name']}")

    monkeypatch.setattr(engine, "run_sample", broken)
    sw = make(name="bug", parameters={"seed": {"values": [5]}})
    table = batch(sw, demo, out=tmp_path, scheduler=cluster.scheduler_address, progress=True)
    assert table.attrs["batch"]["failed"] == 1
    assert table["status"].tolist() == ["failed"]
    assert table["error"].iloc[0] == "ZeroDivisionError: bug in closure-s000"
    err = capsys.readouterr().err
    assert "sample 0 (closure-s000) failed unexpectedly" in err
    assert "Traceback" in err and "ZeroDivisionError" in err


def test_batch_rejects_invalid_samples_before_starting_a_cluster(
    demo: Path, tmp_path: Path
) -> None:
    sw = make(
        name="badparam",
        parameters={
            "parameters.accessibility.n_origins": {"values": [0, 10]},
            "parameters.accessibility.network_layer": {"values": ["roads", "tramways"]},
        },
    )
    with pytest.raises(SchemaError) as exc:
        batch(sw, demo, out=tmp_path / "runs", workers=2, progress=False)
    text = str(exc.value)
    assert (
        "samples 0–1: parameters.accessibility.n_origins: Input should be greater than or "
        "equal to 1" in text
    )
    assert "sample 3: accessibility: needs a network layer 'tramways'" in text
    assert not (tmp_path / "runs").exists()


def test_a_script_without_main_guard_fails_at_once(demo_dir: Path, tmp_path: Path) -> None:
    """Workers re-import the calling script: at its top level, twin.batch says what to add."""
    import subprocess
    import sys

    script = tmp_path / "sweep.py"
    script.write_text(
        "import twin\n"
        f"twin.batch({str(ROOT / 'scenarios/sweeps/closure_sweep.yaml')!r}, "
        f"{str(demo_dir)!r}, out={str(tmp_path / 'runs')!r}, workers=2, progress=False)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr and "sweep.py, line 2" in done.stderr
    assert "Nanny" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_the_guarded_script_of_the_docs_runs(demo_dir: Path, tmp_path: Path) -> None:
    """The form docs/batch.md shows (the call at module level, under the __main__ guard)
    starts its workers and runs: the guard check reads the script, it does not refuse every
    module-level call."""
    import subprocess
    import sys

    script = tmp_path / "sweep.py"
    script.write_text(
        "import twin\n"
        'if __name__ == "__main__":\n'
        f"    t = twin.batch({str(ROOT / 'scenarios/sweeps/closure_sweep.yaml')!r}, "
        f"{str(demo_dir)!r}, out={str(tmp_path / 'runs')!r}, workers=2, progress=False)\n"
        "    print('ok', t.attrs['batch']['ok'], t.attrs['batch']['errors'])\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=900, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ok, errors = done.stdout.split()[-2:]
    assert int(ok) > 0 and int(errors) == 0
