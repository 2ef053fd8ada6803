"""The served viewer under concurrent use: many clients doing what people do (page, scenario
switches, notices, reports, offline exports, what-if launches from the editor and their
progress polls) at once never crash the server process nor fail a request.

netCDF-C and HDF5 are not thread-safe: before every access went through one process-wide
lock, 20 clients asking for ``/report`` killed the server (segmentation fault in libhdf5)
within seconds. The server is a real ``twin serve`` (waitress, real HTTP) in a subprocess.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from twin.viewer.loadcheck import drive

from .browser import free_port, wait_http
from .test_report import runs  # noqa: F401  (the fixture: a run and its parent, real twin)

CLIENTS = 20
DURATION_S = 20.0


@contextlib.contextmanager
def serving(
    twin_dir: Path, store: Path, log_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``twin serve`` of a twin and its run store, as a subprocess: its URL and process."""
    port = free_port()
    cmd = [sys.executable, "-m", "twin.cli", "serve", str(twin_dir), "--runs", str(store)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), "--lang", "en"], stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http(url + "/", timeout=120, proc=proc)
            yield url, proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_full_mix_under_load(
    demo_dir: Path,
    runs: tuple[Path, str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """20 clients for 20 s over the full mix (page, scenario switches in the three views,
    notices, reports, offline comparisons, what-if launches and polls): no server death, no
    failed request, and the what-if accepted under load lands in the store as a run."""
    store, rid, pid = runs
    log = tmp_path / "server.log"
    with serving(demo_dir, store, log) as (url, proc):
        stats = drive(url, [rid, pid], clients=CLIENTS, duration_s=DURATION_S)
        landed = wait_for_run(store, "load-check", timeout_s=300)
        alive = proc.poll() is None
    # the server's own errors first (waitress's queue warnings would bury them)
    lines = log.read_text(errors="replace").splitlines()
    tail = "\n".join([ln for ln in lines if "waitress.queue" not in ln][-60:])
    assert alive, f"the server died ({proc.returncode}): {dict(stats.outcomes)}\n{tail}"
    assert set(stats.outcomes) == {"200"}, (
        f"failed requests: {dict(stats.outcomes)}\n" + "\n".join(stats.failures) + f"\n{tail}"
    )
    assert stats.outcomes["200"] >= CLIENTS
    assert landed, f"the what-if launched under load never became a run\n{tail}"


def wait_for_run(store: Path, scenario: str, timeout_s: float) -> bool:
    """Whether a run of ``scenario`` appears in ``store`` within ``timeout_s`` seconds."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for manifest in store.glob("*/run.json"):
            if json.loads(manifest.read_text())["scenario"]["name"] == scenario:
                return True
        time.sleep(1.0)
    return False
