"""The viewer serves its own deck.gl bundle and vector-tile worker (no CDN), byte-identical to
the npm releases."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "app" / "assets" / "vendor" / "deck.gl.min.js"
WORKER = BUNDLE.parent / "mvt-worker.js"


def test_vendored_bundle_matches_recorded_hash() -> None:
    for f in (BUNDLE, WORKER):
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        assert digest in (BUNDLE.parent / "README.md").read_text(), f


def test_no_remote_urls_in_our_assets() -> None:
    for p in (ROOT / "app" / "assets").glob("*.*"):
        text = p.read_text()
        assert "http://" not in text and "https://" not in text, p
