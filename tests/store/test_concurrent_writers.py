"""Concurrent builds, runs and readers of one twin or run store never fail because of each
other (issue O, item 3): the swap of a directory is locked, and only dead processes' leftovers
are cleaned."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "tests" / "territories" / "bubenec.yaml"

BUILD = """
import sys
from twin.build import build
for _ in range(3):
    build(sys.argv[1], sys.argv[2])
"""
READ = """
import sys, time
from twin.store.twinstore import open_twin
end = time.time() + float(sys.argv[2])
n = 0
while time.time() < end:
    t = open_twin(sys.argv[1])
    assert len(t["buildings"]) == 144
    n += 1
print(n)
"""
RUN = """
import sys
from twin.scenario.runner import run
from twin.scenario.schema import Scenario
sc = Scenario.from_dict({"name": "lc", "parent": None, "simulations": ["landcover"]})
r = run(sys.argv[1], sc, out=sys.argv[2], cache=False)
assert r.kpis.loc["sealed_share", "value"] > 0
"""


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_builds_runs_and_readers_in_parallel(tmp_path: Path) -> None:
    twin_dir = tmp_path / "twin"
    subprocess.run([sys.executable, "-c", BUILD, str(MANIFEST), str(twin_dir)], check=True)
    t0 = time.time()
    procs = [_start(BUILD, str(MANIFEST), str(twin_dir)) for _ in range(2)]
    procs += [_start(READ, str(twin_dir), "12") for _ in range(2)]
    procs += [_start(RUN, str(twin_dir), str(tmp_path / "runs")) for _ in range(3)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    failed = [(rc, err[-800:]) for rc, _, err in results if rc != 0]
    assert not failed, failed
    reads = [int(out) for rc, out, _ in results[2:4]]
    assert min(reads) > 0, reads
    assert time.time() - t0 < 600
    leftovers = [p.name for p in tmp_path.glob(".*")]
    assert not leftovers, leftovers
    assert len(list((tmp_path / "runs").glob("lc-*"))) == 1
