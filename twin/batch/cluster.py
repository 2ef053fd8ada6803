"""The Dask side of batch runs: a client on a local or remote cluster, and the worker task.

Workers receive paths and plain dicts (never live objects): each worker process opens the
twin from its directory once and keeps it for the following samples. The twin directory and
the run store must therefore be readable (and the store writable) at the same path from the
client and from every worker — always true for a LocalCluster; use a shared file system on a
real cluster.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from twin.errors import InputError, TwinError, message
from twin.model.twin import Twin
from twin.runtime import keep_freed_memory

#: Columns of a run's ``kpis.parquet`` kept in the batch table.
KPI_COLUMNS = ("kpi", "value", "unit", "simulation")

_TWINS: dict[tuple[str, int], tuple[Twin, dict[str, str]]] = {}
_LOCK = threading.Lock()


def open_twin_for_runs(twin_dir: str | Path) -> Twin:
    """Open a twin directory the way :func:`twin.scenario.runner.run` does (same run keys)."""
    from twin.scenario.runner import load_twin

    return load_twin(Path(twin_dir))


def _worker_twin(twin_dir: str) -> tuple[Twin, dict[str, str]]:
    """The twin at ``twin_dir`` and its content hashes, opened and hashed once per worker
    process (again if rebuilt). Runs never modify it: they work on copies."""
    from twin.scenario.runner import twin_fingerprint

    stamp = (Path(twin_dir) / "twin.json").stat().st_mtime_ns
    key = (twin_dir, stamp)
    with _LOCK:
        if key not in _TWINS:
            _TWINS.clear()  # keep one twin in memory per worker
            t = open_twin_for_runs(twin_dir)
            _TWINS[key] = (t, twin_fingerprint(t))
        return _TWINS[key]


def kpi_records(run_dir: str | Path) -> list[dict[str, Any]]:
    """The KPIs of a finished run directory as records (kpi, value, unit, simulation)."""
    frame = pd.read_parquet(Path(run_dir) / "kpis.parquet")
    return frame[list(KPI_COLUMNS)].to_dict("records")  # type: ignore[return-value]


def run_sample(
    twin_dir: str,
    scenario: dict[str, Any],
    library: dict[str, dict[str, Any]],
    out: str,
) -> dict[str, Any]:
    """Run one sample in a worker; a :class:`~twin.errors.TwinError` is returned, not raised.

    Parameters
    ----------
    twin_dir : str
        Twin directory.
    scenario : dict
        The sample's scenario (``Scenario.model_dump(mode="json")``).
    library : dict
        Scenarios parents are looked up in, by name, as dicts.
    out : str
        Run store.

    Returns
    -------
    dict
        ``status`` ("ok" or "error"), ``error`` (message or None), ``run_id``, ``kpis``
        (records), ``from_cache``, ``seconds`` (wall time in the worker [s]).
    """
    from twin.scenario.runner import run
    from twin.scenario.schema import Scenario

    keep_freed_memory()  # the worker's solves reuse freed memory (twin.runtime)
    t0 = time.perf_counter()
    try:
        sc = Scenario.from_dict(scenario, where=f"sample '{scenario.get('name')}'")
        lib = {n: Scenario.from_dict(d, where=f"scenario '{n}'") for n, d in library.items()}
        t, fingerprint = _worker_twin(twin_dir)
        r = run(t, sc, out=out, library=lib, compare_parent=False, fingerprint=fingerprint)
    except TwinError as exc:  # an input problem: report it, no traceback
        return {
            "status": "error",
            "error": str(exc),
            "run_id": None,
            "kpis": [],
            "from_cache": False,
            "seconds": time.perf_counter() - t0,
        }
    assert r.path is not None
    return {
        "status": "ok",
        "error": None,
        "run_id": r.run_id,
        "kpis": kpi_records(r.path),
        "from_cache": r.from_cache,
        "seconds": time.perf_counter() - t0,
    }


def _guarded_lines(script: str) -> list[tuple[int, int]]:
    """Line ranges of the ``if __name__ == "__main__":`` blocks of a script (empty when it
    cannot be read or parsed)."""
    import ast

    try:
        tree = ast.parse(Path(script).read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    out = []
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
            and any(
                isinstance(c, ast.Constant) and c.value == "__main__" for c in node.test.comparators
            )
        ):
            out.append((node.body[0].lineno, node.end_lineno or node.body[-1].lineno))
    return out


def check_main_guard() -> None:
    """Refuse, at once and clearly, to start worker processes from the top level of a script.

    Dask starts its workers with ``spawn``: each worker imports the script that started the
    cluster as ``__mp_main__``. A script calling ``twin.batch`` at its top level (not under
    ``if __name__ == "__main__":``) would start clusters again in every worker, and Dask
    reports only that the nanny failed to start. This check finds that case by the calling
    frames: a module-level frame of ``__main__`` (the script) whose line is outside the
    script's ``__main__`` guard, or any frame of ``__mp_main__`` (the script re-imported by a
    worker).

    Raises
    ------
    InputError
        Saying what to add to the script.
    """
    import inspect
    import multiprocessing

    method = multiprocessing.get_start_method(allow_none=True) or "spawn"
    frames = inspect.stack(context=0)
    for f in frames[1:]:
        name = f.frame.f_globals.get("__name__")
        script = f.frame.f_globals.get("__file__")
        top = f.function == "<module>" and script is not None
        if name == "__main__" and top and method != "fork":
            guarded = any(a <= f.lineno <= b for a, b in _guarded_lines(str(script)))
            top = not guarded
        if name == "__mp_main__" or (name == "__main__" and top and method != "fork"):
            msg = message(
                "twin.batch starts worker processes, which import the calling script again: "
                "called at the top level of a script, every worker would start a new batch",
                where=f"{script}, line {f.lineno}",
                fix='put the call under `if __name__ == "__main__":` (see docs/batch.md)',
            )
            raise InputError(msg)


@contextlib.contextmanager
def dask_client(workers: int = 2, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: on a new LocalCluster of ``workers`` processes, or on ``scheduler``.

    The LocalCluster has one thread per worker process, no dashboard, and is closed on exit.
    ``scheduler`` is an address (``tcp://host:8786``) or a scheduler file (JSON) of an
    existing cluster, which is left running.

    Raises
    ------
    InputError
        On a bad number of workers or an unreachable scheduler.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        msg = message(
            "twin batch needs Dask's distributed scheduler, which is not installed",
            fix="pip install 'dask[distributed]'",
        )
        raise InputError(msg) from None
    if scheduler is not None:
        target: dict[str, Any] = (
            {"scheduler_file": scheduler}
            if scheduler.endswith(".json") and Path(scheduler).is_file()
            else {"address": scheduler}
        )
        try:
            client = Client(**target, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            msg = message(
                f"cannot connect to the Dask scheduler ({exc})",
                where=f"--scheduler {scheduler}",
                fix="start it with `dask scheduler` (and workers with `dask worker ADDRESS`), "
                "or check the address",
            )
            raise InputError(msg) from None
        with client:
            yield client
        return
    if workers < 1:
        msg = message(
            f"needs at least one worker (got {workers})", where="--workers", fix="use 1 or more"
        )
        raise InputError(msg)
    check_main_guard()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
