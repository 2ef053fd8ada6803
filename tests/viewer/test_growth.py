"""Clients cannot grow the server without bound (issue O, item 6): colour-by values the page
does not offer share the default payload; what-if launches beyond a few pending are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.errors import InputError
from twin.viewer.context import Viewer


def test_base_payload_cache_is_bounded(demo_dir: Path, tmp_path: Path) -> None:
    ctx = Viewer.open(demo_dir, tmp_path / "runs", lang="fr", workers=1)
    default = ctx.base(None, None)
    for i in range(3000):
        assert ctx.base(f"col{i}", f"x{i}") is default
    assert len(ctx._bases) == 1
    offered = ctx.bmetric.options[-1]["value"] if ctx.bmetric.options else None
    if offered:
        ctx.base(offered, None)
        assert len(ctx._bases) <= 2


def test_job_queue_is_bounded(demo_dir: Path, tmp_path: Path) -> None:
    ctx = Viewer.open(demo_dir, tmp_path / "runs", lang="fr", workers=1)
    sc = {"name": "x", "parent": None, "simulations": ["no_such_sim"]}  # fails in the child
    ids = [ctx.jobs.submit(sc, {}, expected_s=1) for _ in range(ctx.jobs.MAX_PENDING)]
    with pytest.raises(InputError, match="already waiting or running") as busy:
        ctx.jobs.submit(sc, {}, expected_s=1)
    assert len(set(ids)) == ctx.jobs.MAX_PENDING
    # said to the person in the interface language, under the launch button
    (problem,) = busy.value.problems  # type: ignore[attr-defined]
    assert problem.field == "form"
    assert problem.message("fr").startswith(f"{ctx.jobs.MAX_PENDING} calculs sont déjà")


def test_launches_are_rate_limited_per_client(demo_dir: Path, tmp_path: Path) -> None:
    ctx = Viewer.open(demo_dir, tmp_path / "runs", lang="fr", workers=1)
    sc = {"name": "x", "parent": None, "simulations": ["no_such_sim"]}
    ctx.jobs.submit(sc, {}, expected_s=1, client="10.0.0.1")
    with pytest.raises(InputError, match="a moment ago") as soon:
        ctx.jobs.submit(sc, {}, expected_s=1, client="10.0.0.1")
    assert soon.value.problems[0].message("fr").startswith("Un calcul vient d'être lancé")  # type: ignore[attr-defined]
    ctx.jobs.submit(sc, {}, expected_s=1, client="10.0.0.2")  # another person
