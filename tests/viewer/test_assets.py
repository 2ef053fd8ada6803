"""The viewer serves its own deck.gl bundle (no CDN), byte-identical to the npm release."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "app" / "assets" / "vendor" / "deck.gl.min.js"


def test_vendored_bundle_matches_recorded_hash() -> None:
    digest = hashlib.sha256(BUNDLE.read_bytes()).hexdigest()
    assert digest in (BUNDLE.parent / "README.md").read_text()


def test_no_remote_urls_in_our_assets() -> None:
    for p in (ROOT / "app" / "assets").glob("*.*"):
        text = p.read_text()
        assert "http://" not in text and "https://" not in text, p
