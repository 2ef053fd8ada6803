"""Background scenario runs for the what-if editor.

The viewer owns a small pool of threads; each job runs the scenario in a child process
(``python -m twin.viewer.jobs``) through :func:`twin.scenario.runner.run`, so a run never
holds the server's interpreter lock and a crashing simulation cannot take the viewer down.
Dash callbacks only submit jobs and read the job table: they return at once, and several users
do not block each other (jobs are keyed by a random id; up to ``workers`` run at a time, the
others wait in the queue).

The child gets everything on its standard input as JSON built by the server: the twin and run
store directories come from the viewer's own configuration, never from the browser.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import FormError, message
from twin.viewer.problems import Problem

#: Seconds a child process needs to start and import twin, added to the expected run time.
STARTUP_S = 6.0


@dataclass
class Job:
    """One background run.

    Attributes
    ----------
    job_id : str
    name : str
        Scenario name.
    status : str
        ``queued``, ``running``, ``done`` or ``failed``.
    expected_s : float
        Expected duration [s] (from the parent run's timings), for the progress bar.
    run_id : str or None
        The finished run's id.
    error : str
        The error text of a failed run (the library's, in English).
    failure : str
        What kind of failure, said to the user in the interface language (the
        ``job.fail.<failure>`` words of :mod:`twin.viewer.i18n`): ``input`` (a datum the run
        needs is missing or unreadable), ``schema`` (the what-if is not valid), ``store`` (the
        run could not be written) or ``crash`` (the run stopped or could not start).
    """

    job_id: str
    name: str
    status: str = "queued"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    expected_s: float = 10.0
    run_id: str | None = None
    error: str = ""
    failure: str = ""

    def progress(self, now: float | None = None) -> float:
        """Estimated fraction done, 0–1 (0.95 at most until the run has finished)."""
        if self.status == "done":
            return 1.0
        if self.status != "running" or self.started is None:
            return 0.0
        t = (now or time.time()) - self.started
        return min(0.95, 0.05 + 0.9 * t / max(self.expected_s, 1.0))


class JobTable:
    """Jobs by id, run by a pool of ``workers`` threads each driving one child process."""

    def __init__(self, twin_dir: Path, runs_dir: Path, *, workers: int = 2) -> None:
        self.twin_dir = Path(twin_dir).resolve()
        self.runs_dir = Path(runs_dir).resolve()
        self._jobs: dict[str, Job] = {}
        self._launched: dict[str, float] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="twin-job")
        self.on_done: list[Any] = []

    #: Jobs queued or running at most; beyond, a launch is refused until one ends.
    MAX_PENDING = 4
    #: Shortest time between two launches of one client [s].
    CLIENT_INTERVAL_S = 5.0

    def submit(
        self,
        scenario: dict[str, Any],
        library: dict[str, Any],
        expected_s: float,
        client: str = "",
    ) -> str:
        """Queue a run of a validated scenario (as a dict); return the job id at once.

        Raises
        ------
        FormError
            When :attr:`MAX_PENDING` jobs are already queued or running, or ``client`` (its
            address) launched one less than :attr:`CLIENT_INTERVAL_S` ago (its problem is
            said in the reader's language under the launch button).
        """
        job = Job(secrets.token_hex(8), str(scenario["name"]), expected_s=expected_s)
        with self._lock:
            now = time.monotonic()
            if client and now - self._launched.get(client, -1e9) < self.CLIENT_INTERVAL_S:
                msg = message(
                    "a what-if run was launched from here a moment ago",
                    where="what-if editor",
                    fix=f"wait {self.CLIENT_INTERVAL_S:g} seconds between two launches",
                )
                wait = Problem("form", "wi.err.wait", {"s": int(self.CLIENT_INTERVAL_S)}, msg)
                raise FormError(msg, [wait])
            self._launched[client] = now
            pending = sum(j.status in ("queued", "running") for j in self._jobs.values())
            if pending >= self.MAX_PENDING:
                msg = message(
                    f"{pending} what-if runs are already waiting or running",
                    where="what-if editor",
                    fix="wait for one to finish before launching another",
                )
                raise FormError(msg, [Problem("form", "wi.err.busy", {"n": pending}, msg)])
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job.job_id, scenario, library)
        return job.job_id

    def get(self, job_id: str) -> Job | None:
        """A copy of a job's state (``None`` for an unknown id)."""
        with self._lock:
            j = self._jobs.get(job_id)
            return Job(**asdict(j)) if j is not None else None

    def _set(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._jobs[job_id], k, v)

    def _run(self, job_id: str, scenario: dict[str, Any], library: dict[str, Any]) -> None:
        self._set(job_id, status="running", started=time.time())
        request = {
            "twin_dir": str(self.twin_dir),
            "runs_dir": str(self.runs_dir),
            "scenario": scenario,
            "library": library,
        }
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "twin.viewer.jobs"],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=3600,
            )
            lines = proc.stdout.strip().splitlines()
            answer = json.loads(lines[-1]) if lines else {}
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            answer = {"error": f"the run could not be started: {exc}", "failure": "crash"}
            proc = None
        if proc is not None and proc.returncode != 0 and "error" not in answer:
            tail = (proc.stderr or "").strip().splitlines()[-5:]
            answer = {"error": "the run failed:\n" + "\n".join(tail), "failure": "crash"}
        if "error" in answer:
            self._set(
                job_id,
                status="failed",
                error=answer["error"],
                failure=str(answer.get("failure", "crash")),
                finished=time.time(),
            )
            return
        self._set(job_id, status="done", run_id=answer["run_id"], finished=time.time())
        for cb in self.on_done:
            cb(answer["run_id"])

    def shutdown(self) -> None:
        """Stop accepting jobs (running children finish)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _child() -> int:
    """Child process: read a request on stdin, run it, print one JSON line."""
    from twin.errors import SchemaError, StoreError, TwinError
    from twin.scenario.runner import run
    from twin.scenario.schema import Scenario

    req = json.loads(sys.stdin.read())
    try:
        lib = {n: Scenario.from_dict(d, where=f"scenario '{n}'") for n, d in req["library"].items()}
        sc = Scenario.from_dict(req["scenario"], where="what-if editor")
        lib[sc.name] = sc
        r = run(req["twin_dir"], sc, out=req["runs_dir"], library=lib)
    except TwinError as exc:
        kind = (
            "schema"
            if isinstance(exc, SchemaError)
            else "store"
            if isinstance(exc, StoreError)
            else "input"
        )
        print(json.dumps({"error": str(exc), "failure": kind}), flush=True)
        return 1
    print(json.dumps({"run_id": r.run_id, "parent_run": r.manifest.get("parent_run")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_child())
