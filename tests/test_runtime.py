"""The allocator setting: freed blocks are served again without fresh pages."""

from __future__ import annotations

import subprocess
import sys

import pytest

# six 2 MiB blocks written then freed, five times over: page faults of each round after the
# first (glibc's default hands the freed blocks back to the system: ~3,000 faults a round)
_ROUNDS = """
import resource, sys
import numpy as np
from twin.runtime import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "kept" else None
faults = []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    blocks = [np.ones((2 << 20) // 8) for _ in range(6)]
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del blocks
print(took, max(faults[1:]))
"""


def _later_faults(mode: str) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", _ROUNDS, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc setting")
def test_freed_blocks_are_reused_without_page_faults() -> None:
    took, kept = _later_faults("kept")
    assert took == "True"
    assert kept < 64, kept  # served from the kept heap
    _, default = _later_faults("default")
    assert default > 10 * max(kept, 64)  # what the setting avoids, on this machine


def test_setting_is_applied_once() -> None:
    from twin.runtime import keep_freed_memory

    assert keep_freed_memory() is keep_freed_memory()
