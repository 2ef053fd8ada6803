"""The served viewer under load: 20 clients for 60 s over the full mix (page, scenario
switches, notices, reports, offline comparisons) against a real ``twin serve`` (waitress).

Prints requests per second, the 50th / 95th / 99th percentile latencies and the server's
resident memory after a 10 s warm-up and at the end (flat memory means no growth per
request). Targets (issue O): p95 < 1 s, memory flat after warm-up, no failed request.

    python benchmarks/bench_viewer_load.py [--clients 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process [MB]."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prepare(work: Path) -> tuple[Path, Path, list[str]]:
    """The demo twin, and its baseline and closure runs."""
    from twin.build import build
    from twin.scenario.runner import run
    from twin.scenario.schema import Scenario

    twin_dir = work / "demo"
    build(ROOT / "layers" / "demo.yaml", twin_dir)
    r = run(twin_dir, Scenario.from_yaml(ROOT / "scenarios" / "closure.yaml"), out=work / "runs")
    return twin_dir, work / "runs", [r.run_id, str(r.manifest["parent_run"])]


def serve(twin_dir: Path, runs: Path) -> tuple[str, subprocess.Popen[bytes]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "twin.cli", "serve", str(twin_dir), "--runs", str(runs)]
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/", timeout=5)
            return url, proc
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def main() -> None:
    from twin.viewer.loadcheck import drive

    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        twin_dir, runs, ids = prepare(Path(tmp))
        url, proc = serve(twin_dir, runs)
        try:
            drive(url, ids, clients=args.clients, duration_s=10.0)  # warm-up
            before = rss_mb(proc.pid)
            stats = drive(url, ids, clients=args.clients, duration_s=args.seconds)
            after = rss_mb(proc.pid)
            alive = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    s = stats.summary()
    print(f"{args.clients} clients, {args.seconds:g} s, full mix: {dict(stats.outcomes)}")
    print(
        f"{s['req_per_s']:.1f} req/s, p50 {s['p50_s'] * 1000:.0f} ms, p95 "
        f"{s['p95_s'] * 1000:.0f} ms, p99 {s['p99_s'] * 1000:.0f} ms"
    )
    print(f"server memory after warm-up {before:.0f} MB, at the end {after:.0f} MB")
    ok = alive and set(stats.outcomes) == {"200"} and s["p95_s"] < 1.0
    print(f"targets (p95 < 1 s, no failure, server alive): {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
