"""Run a sweep on Dask and gather its KPIs into one tidy table."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from twin.batch.cluster import dask_client, kpi_records, open_twin_for_runs, run_sample
from twin.batch.sweep import Sample, Sweep, make_samples, value_label
from twin.errors import InputError, SchemaError, message
from twin.model.twin import Twin
from twin.scenario.schema import Scenario
from twin.store.atomic import atomic_write

log = logging.getLogger("twin.batch")

#: Columns of the tidy table besides one column per swept parameter (after ``run_id``).
TABLE_COLUMNS = ("sample", "run_id", "kpi", "value", "unit", "simulation", "status", "error")


def _twin_dir(twin: Twin | str | Path, out: str | Path | None) -> Path:
    """The directory the workers open the twin from.

    A path is used as it is. An opened :class:`Twin` is opened by the workers from its
    directory when its content is still that directory's; an edited or in-memory twin is saved
    once into the run store (``<out>/.twins/<content hash>``), where the workers open it.
    """
    from twin.store.twinstore import content_hashes, open_twin, save_twin

    if not isinstance(twin, Twin):
        return Path(twin).resolve()
    hashes = content_hashes(twin)
    if twin.source is not None and (twin.source / "twin.json").is_file():
        if content_hashes(open_twin(twin.source)) == hashes:
            return twin.source
    if out is None:
        msg = message(
            "an edited or in-memory twin needs a run store to be saved in for the workers",
            where="twin",
            fix="pass out=DIR (or save the twin with twin.save(DIR) and pass the directory)",
        )
        raise InputError(msg)
    key = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:16]
    target = Path(out).resolve() / ".twins" / key
    if not (target / "twin.json").is_file():
        save_twin(twin, target)
    return target


def _plan_samples(
    t: Twin, samples: list[Sample], library: Mapping[str, Scenario], where: str
) -> dict[int, str]:
    """Run id of every sample; one SchemaError lists the samples that cannot run."""
    from twin.batch.sweep import _problem_message
    from twin.scenario.runner import plan, run_key, twin_fingerprint

    fingerprint = twin_fingerprint(t)  # one twin for every sample: hashed once
    run_ids: dict[int, str] = {}
    problems: dict[str, list[int]] = {}
    for s in samples:
        lib = {**library, s.scenario.name: s.scenario}
        try:
            p = plan(t, s.scenario, lib)
        except SchemaError as exc:
            for line in str(exc).splitlines():
                if line.startswith("  - "):
                    problems.setdefault(line[4:].replace(s.scenario.name, "<sample>"), [])
                    problems[line[4:].replace(s.scenario.name, "<sample>")].append(s.index)
            continue
        key, _ = run_key(t, p, fingerprint)
        run_ids[s.index] = f"{s.scenario.name}-{key[:12]}"
    if problems:
        raise SchemaError(_problem_message(where, problems, len(samples)))
    return run_ids


def _say(text: str, progress: bool) -> None:
    log.info(text)
    if progress:
        print(text, file=sys.stderr, flush=True)


def batch(
    sweep: Sweep | str | Path,
    twin: Twin | str | Path,
    *,
    out: str | Path | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    progress: bool = True,
    library: str | Path | Mapping[str, Scenario] | None = None,
) -> pd.DataFrame:
    """Run every sample of a sweep on a Dask cluster and gather the KPIs in one table.

    Finished runs (their directory in ``out`` has a ``run.json``) are not run again, so an
    interrupted sweep resumes where it stopped. A sample that fails does not stop the others:
    its error is kept in the table.

    Parameters
    ----------
    sweep : Sweep or path
        The sweep (or its YAML file).
    twin : path or Twin
        Twin directory, or a Twin (opened, edited or built in memory; see :func:`_twin_dir`).
    out : path, optional
        Run store (default: ``runs/`` next to the twin, like ``twin run``). Each sample is a
        run directory ``<scenario>-s<NNN>-<key>/``; the table is written as
        ``<out>/<sweep name>.parquet`` and ``.csv``.
    workers : int
        Worker processes of the LocalCluster started for the batch (one thread each).
    scheduler : str, optional
        Address (or scheduler file) of an existing Dask cluster to use instead.
    progress : bool
        Show a progress bar and a summary on stderr.
    library : path or mapping, optional
        Where the base scenario's parents are looked up (default: its folder).

    Returns
    -------
    DataFrame
        One row per (sample, KPI): ``sample``, ``run_id``, one column per swept parameter
        (named by its path), ``kpi``, ``value``, ``unit``, ``simulation``, ``status`` ("ok",
        "error" for a twin error, "failed" for an unexpected exception) and ``error``. A sample
        that did not finish has one row with an empty ``kpi``. ``attrs["batch"]`` holds a
        summary: ``samples``, ``skipped`` (finished runs reused), ``submitted``, ``ok``,
        ``errors``, ``failed``, ``seconds`` (whole call), ``run_seconds`` (from the cluster
        being ready to the last result), ``table``.

    Raises
    ------
    SchemaError
        When the sweep file or any of its samples is invalid (nothing is run).
    """
    from twin.scenario.runner import load_library

    t0 = time.perf_counter()
    sw = sweep if isinstance(sweep, Sweep) else Sweep.from_yaml(sweep)
    base = sw.load_scenario()
    samples = make_samples(sw, base)
    lib = load_library(library, base)
    twin_dir = _twin_dir(twin, out)
    store = Path(out) if out is not None else twin_dir.parent / "runs"
    store = store.resolve()
    t = open_twin_for_runs(twin_dir)
    run_ids = _plan_samples(t, samples, lib, str(sw.source or f"sweep '{sw.name}'"))
    del t

    results: dict[int, dict[str, Any]] = {}
    todo: list[Sample] = []
    for s in samples:
        d = store / run_ids[s.index]
        if (d / "run.json").is_file() and (d / "kpis.parquet").is_file():
            results[s.index] = {
                "status": "ok",
                "error": None,
                "run_id": run_ids[s.index],
                "kpis": kpi_records(d),
            }
        else:
            todo.append(s)
    skipped = len(samples) - len(todo)
    where = f"{scheduler}" if scheduler else f"a local cluster of {workers} worker(s)"
    _say(
        f"{sw.name}: {len(samples)} sample(s), {skipped} finished run(s) reused, "
        f"{len(todo)} to run" + (f" on {where}" if todo else ""),
        progress,
    )
    run_seconds = 0.0
    if todo:
        done, run_seconds = _submit(sw, todo, twin_dir, store, lib, workers, scheduler, progress)
        results.update(done)

    table = _table(sw, samples, run_ids, results)
    counts = table.drop_duplicates("sample")["status"].value_counts()
    summary: dict[str, Any] = {
        "sweep": sw.name,
        "samples": len(samples),
        "skipped": skipped,
        "submitted": len(todo),
        "ok": int(counts.get("ok", 0)),
        "errors": int(counts.get("error", 0)),
        "failed": int(counts.get("failed", 0)),
        "seconds": round(time.perf_counter() - t0, 3),
        "run_seconds": round(run_seconds, 3),
        "table": str(store / f"{sw.name}.parquet"),
    }
    store.mkdir(parents=True, exist_ok=True)
    atomic_write(store / f"{sw.name}.parquet", lambda p: table.to_parquet(p, index=False))
    atomic_write(store / f"{sw.name}.csv", lambda p: table.to_csv(p, index=False))
    table.attrs["batch"] = summary
    bad = summary["errors"] + summary["failed"]
    _say(
        f"{sw.name}: {summary['ok']} run(s) ok"
        + (f", {bad} did not finish (see the status and error columns)" if bad else "")
        + f"; table: {summary['table']} (and .csv)",
        progress,
    )
    return table


def _submit(
    sw: Sweep,
    todo: list[Sample],
    twin_dir: Path,
    store: Path,
    library: Mapping[str, Scenario],
    workers: int,
    scheduler: str | None,
    progress: bool,
) -> tuple[dict[int, dict[str, Any]], float]:
    """Run the samples on the cluster: results by sample index, and the wall time [s] from
    the cluster being ready to the last result."""
    import uuid

    from distributed import as_completed
    from tqdm.auto import tqdm

    lib = {n: sc.model_dump(mode="json") for n, sc in library.items()}
    token = uuid.uuid4().hex[:8]
    out: dict[int, dict[str, Any]] = {}
    with dask_client(workers, scheduler) as client:
        t0 = time.perf_counter()
        futures = {
            client.submit(
                run_sample,
                str(twin_dir),
                s.scenario.model_dump(mode="json"),
                lib,
                str(store),
                key=f"twin-batch-{s.scenario.name}-{token}",
                pure=False,
            ): s
            for s in todo
        }
        bar = tqdm(total=len(todo), desc=sw.name, unit="run", file=sys.stderr, disable=not progress)
        with bar:
            for fut in as_completed(futures):
                s = futures[fut]
                if fut.status == "error":
                    exc = fut.exception()
                    tb = "".join(traceback.format_exception(type(exc), exc, fut.traceback()))
                    text = f"sample {s.index} ({s.scenario.name}) failed unexpectedly:\n{tb}"
                    log.error(text)
                    if progress:
                        bar.write(text, file=sys.stderr)
                    res = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                else:
                    res = fut.result()
                    if res["status"] == "error":
                        text = f"sample {s.index} ({s.scenario.name}): {res['error']}"
                        log.warning(text)
                        if progress:
                            bar.write(text, file=sys.stderr)
                out[s.index] = res
                bar.update(1)
        seconds = time.perf_counter() - t0
    return out, seconds


def _table(
    sw: Sweep,
    samples: list[Sample],
    run_ids: dict[int, str],
    results: dict[int, dict[str, Any]],
) -> pd.DataFrame:
    """The tidy table: one row per (sample, KPI); one row for a sample that did not finish."""
    paths = list(sw.parameters)
    rows = []
    for s in samples:
        res = results.get(s.index, {"status": "failed", "error": "no result (interrupted)"})
        head = {"sample": s.index, "run_id": res.get("run_id") or run_ids[s.index]}
        head.update({p: value_label(s.values[p]) for p in paths})
        if res["status"] == "ok":
            for k in res["kpis"]:
                rows.append(
                    {
                        **head,
                        **{c: k[c] for c in ("kpi", "value", "unit", "simulation")},
                        "status": "ok",
                        "error": None,
                    }
                )
        else:
            rows.append(
                {
                    **head,
                    "kpi": None,
                    "value": float("nan"),
                    "unit": None,
                    "simulation": None,
                    "status": res["status"],
                    "error": res["error"],
                }
            )
    columns = ["sample", "run_id", *paths, *TABLE_COLUMNS[2:]]
    table = pd.DataFrame(rows, columns=columns)
    table["value"] = table["value"].astype(float)
    return table
