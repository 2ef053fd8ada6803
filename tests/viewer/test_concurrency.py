"""The served viewer under concurrent use: many clients asking for reports, offline exports and
notices at once never crash the server process nor fail a request.

netCDF-C and HDF5 are not thread-safe: before every access went through one process-wide
lock, 20 clients asking for ``/report`` killed the server (segmentation fault in libhdf5)
within seconds. The server is a real ``twin serve`` (waitress, real HTTP) in a subprocess.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .test_browser import free_port, wait_http
from .test_report import runs  # noqa: F401  (the fixture: a run and its parent, real twin)

CLIENTS = 20
DURATION_S = 12.0


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


def hammer(urls: list[str], clients: int, duration_s: float) -> Counter[str]:
    """Ask for ``urls`` in turn from ``clients`` threads for ``duration_s`` seconds; count
    the outcomes (``200``, other status codes, exception names)."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    end = time.monotonic() + duration_s

    def client(k: int) -> None:
        i, stop = k, end
        while time.monotonic() < stop:
            try:
                with urllib.request.urlopen(urls[i % len(urls)], timeout=120) as resp:
                    resp.read()
                    outcome = str(resp.status)
            except urllib.error.HTTPError as exc:
                outcome = str(exc.code)
            except OSError as exc:  # refused, reset: the server is gone, stop asking
                outcome = type(exc).__name__
                stop = 0.0
            with lock:
                seen[outcome] += 1
            i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


def test_concurrent_reports_exports_notices(
    demo_dir: Path,
    runs: tuple[Path, str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    store, rid, pid = runs
    log = tmp_path / "server.log"
    with serving(demo_dir, store, log) as (url, proc):
        paths = [f"/report/{rid}/en", f"/report/{pid}/fr", f"/export/{rid}/en"]
        paths += [f"/report/{rid}/fr", f"/notice/{rid}/en", f"/export/{pid}/fr"]
        seen = hammer([url + p for p in paths], CLIENTS, DURATION_S)
        alive = proc.poll() is None
    tail = log.read_text(errors="replace")[-3000:]
    assert alive, f"the server died ({proc.returncode}): {dict(seen)}\n{tail}"
    assert set(seen) == {"200"}, f"failed requests: {dict(seen)}\n{tail}"
    assert seen["200"] >= CLIENTS
