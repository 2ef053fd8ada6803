"""The twin and the runs the viewer can show: the run store, read once and cached.

The browser names runs by id, never by file-system path: :class:`Catalogue` only accepts ids
found in its run store.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from dash import html

from twin.errors import StoreError, message
from twin.model.twin import Twin
from twin.scenario.runner import Run, rerun_title, stale_run
from twin.sims.registry import registry
from twin.viewer.layers import run_layers, shared_ranges, time_labels


@dataclass
class Catalogue:
    """The twin and the runs the viewer can show.

    Parameters
    ----------
    twin_dir, runs_dir : Path
        The twin's directory and the run store.
    twin : Twin
        The twin, open.
    runs : dict
        Run id → run directory (see :meth:`refresh`).
    """

    twin_dir: Path
    runs_dir: Path
    twin: Twin
    runs: dict[str, Path] = field(default_factory=dict)
    _cache: dict[str, Run] = field(default_factory=dict, repr=False)
    _manifests: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _comparisons: OrderedDict[str, Any] = field(default_factory=OrderedDict, repr=False)
    _views: OrderedDict[tuple[str, str, str, str, str], dict[str, Any]] = field(
        default_factory=OrderedDict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _checked: dict[tuple[str, int], bool] = field(default_factory=dict, repr=False)
    _vlock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    #: Scenario payloads kept in memory (the most recently used).
    VIEWS = 64

    def refresh(self) -> None:
        """Find finished runs (directories with a run.json); runs are written atomically, so
        a run being written never shows up half-done."""
        runs = {}
        if self.runs_dir.is_dir():
            for p in sorted(self.runs_dir.iterdir()):
                # a hidden ``.<run>.tmp-*`` folder is a run being written: it is renamed
                # into place when whole, and would vanish under a reader
                if not p.name.startswith(".") and (p / "run.json").is_file() and self._usable(p):
                    runs[p.name] = p
        self.runs = runs  # one assignment: readers in other threads see old or new

    def _usable(self, p: Path) -> bool:
        """Whether a run directory is whole (checked once per version of its run.json): a
        damaged or empty run is left out of the viewer, never a reason for it to fail."""
        key = (p.name, (p / "run.json").stat().st_mtime_ns)
        if key not in self._checked:
            self._checked[key] = not stale_run(p)
        return self._checked[key]

    def comparison(self, r: Run, parent: Run) -> Any:
        """``r − parent`` (layers and KPIs), computed once per pair."""
        key = f"{r.run_id}|{parent.run_id}"
        with self._vlock:
            hit = self._comparisons.get(key)
        if hit is None:
            hit = r.compare(parent)
            with self._vlock:  # any two runs can be compared: the most recent pairs are kept
                self._comparisons[key] = hit
                while len(self._comparisons) > self.VIEWS:
                    self._comparisons.popitem(last=False)
        return hit

    def manifest(self, run_id: str) -> dict[str, Any]:
        """The ``run.json`` of a run (by id, from the store), read once."""
        if run_id not in self._manifests:
            self.run_dir(run_id)
            self._manifests[run_id] = json.loads((self.runs[run_id] / "run.json").read_text())
        return self._manifests[run_id]

    def run_dir(self, run_id: str) -> Path:
        """The directory of a run id found in the store (never a path from the browser).

        Raises
        ------
        StoreError
            When the id is not in the store.
        """
        if run_id not in self.runs:
            msg = message(f"unknown run '{run_id}'", where="viewer", fix="pick a run from the list")
            raise StoreError(msg)
        return self.runs[run_id]

    def run(self, run_id: str) -> Run:
        """A run by id (only ids found in the run store are accepted), read once.

        Raises
        ------
        StoreError
            When the id is not in the store.
        """
        path = self.run_dir(run_id)
        if run_id not in self._cache:
            with self._lock:  # two requests for one run open it once
                if run_id not in self._cache:
                    self._cache[run_id] = Run.open(path)
        return self._cache[run_id]

    def reference(self, r: Run, against: str | None = None) -> Run | None:
        """The run ``r`` is compared with: ``against`` when it is another run of the store
        (a person picked it), else its parent run (None without one)."""
        if against and against != r.run_id and against in self.runs:
            return self.run(against)
        return parent_of(self, r)

    def layers(
        self,
        run_id: str,
        mode: str,
        when: str | None,
        prefer: str | None = None,
        against: str | None = None,
    ) -> dict[str, Any]:
        """The result layers of a run drawn in ``mode`` at time label ``when``, computed once.

        Parameters
        ----------
        run_id : str
            A run of the store.
        mode : {"single", "side", "swipe", "diff"}
            The run alone, its parent and the run side by side (or on one map split by a
            slider: the same layers), or ``run − parent`` (``single`` when the run has no
            parent in the store).
        when : str, optional
            A label of the shared time axis.
        prefer : str, optional
            The result picked (``<layer>/<variable>``), drawn first.
        against : str, optional
            The run to compare with instead of the parent (see :meth:`reference`).

        Returns
        -------
        dict
            The payload sent to the browser: ``left``, and ``right`` side by side.
        """
        r = self.run(run_id)
        parent = self.reference(r, against)
        mode = "side" if mode == "swipe" else mode  # one map split in two: the same layers
        key = (run_id, mode, when or "", prefer or "", parent.run_id if parent else "")
        with self._vlock:  # callbacks run in several threads
            hit = self._views.get(key)
            if hit is not None:
                self._views.move_to_end(key)
                return hit
        out: dict[str, Any] = {}
        if mode == "diff" and parent is not None:
            diff = self.comparison(r, parent)
            out["left"] = run_layers(r, diff=diff, when=when, prefer=prefer)
        elif mode == "side" and parent is not None:
            both = shared_ranges(parent, r, prefer=prefer)
            out["left"] = run_layers(parent, ranges=both, when=when, prefer=prefer)
            out["right"] = run_layers(r, ranges=both, when=when, prefer=prefer)
        else:
            timed = shared_ranges(r, prefer=prefer) if time_labels(r, parent) else None
            out["left"] = run_layers(r, ranges=timed, when=when, prefer=prefer)
        with self._vlock:
            self._views[key] = out
            while len(self._views) > self.VIEWS:
                self._views.popitem(last=False)
        return out

    def warm(self, budget_s: float = 10.0) -> int:
        """Open the runs (and read their CRS, KPIs, time axes) and compute their first view
        now, before the first visitor, for at most about ``budget_s`` seconds; the runs left
        are opened when first shown. Returns how many runs were prepared."""
        t0 = time.perf_counter()
        done = 0
        for rid in list(self.runs):
            if time.perf_counter() - t0 > budget_s:
                break
            r = self.run(rid)
            labels = time_labels(r, parent_of(self, r))
            self.layers(rid, "single", labels[0] if labels else None)
            done += 1
        return done


def parent_of(cat: Catalogue, r: Run) -> Run | None:
    """The parent run recorded in the manifest, if it is in the store."""
    pid = r.manifest.get("parent_run")
    return cat.run(pid) if pid in cat.runs else None


def runs_table(cat: Catalogue) -> pd.DataFrame:
    """The runs in the store, with their scenario and parent (for the CLI and tests)."""
    rows = []
    for rid, p in cat.runs.items():
        m = json.loads((p / "run.json").read_text())
        rows.append(
            {"run_id": rid, "scenario": m["scenario"]["name"], "parent_run": m.get("parent_run")}
        )
    return pd.DataFrame(rows)


def run_tree(cat: Catalogue, lang: str = "en") -> list[tuple[str, int]]:
    """The runs of the store in tree order: each run after its parent run, children by title;
    with their depth (0 for a run whose parent is not in the store)."""
    parent = {rid: cat.manifest(rid).get("parent_run") for rid in cat.runs}
    kids: dict[str | None, list[str]] = {}
    for rid, pid in parent.items():
        kids.setdefault(pid if pid in cat.runs and pid != rid else None, []).append(rid)

    def order(ids: list[str]) -> list[str]:
        return sorted(ids, key=lambda r: (run_title(cat, r, lang).casefold(), r), reverse=True)

    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    stack = [(rid, 0) for rid in order(kids.get(None, []))]
    while stack:  # depth first, without recursion (a store's chains can be long)
        rid, depth = stack.pop()
        if rid in seen:
            continue
        seen.add(rid)
        out.append((rid, depth))
        stack.extend((k, depth + 1) for k in order(kids.get(rid, [])))
    out += [(rid, 0) for rid in cat.runs if rid not in seen]  # in a loop of parents
    return out


def run_title(cat: Catalogue, run_id: str, lang: str = "en") -> str:
    """A run's name for people, in ``lang`` (see :func:`manifest_title`)."""
    return manifest_title(cat.manifest(run_id), lang)


def manifest_title(m: dict[str, Any], lang: str = "en") -> str:
    """The name for people of the run whose ``run.json`` is ``m``: its scenario's title (else
    its name); for a parent run again other than as declared (to compare a what-if with it,
    see ``rerun`` in the manifest), its own title and how it differs in ``lang``, e.g. "Night
    dimming (+ Accessibilité du réseau)" (:func:`twin.scenario.runner.rerun_title`)."""
    again = m.get("rerun")
    if isinstance(again, dict):
        return rerun_title(again, lang)
    return str(m["scenario"].get("title") or m["scenario"]["name"])


def _simulations(cat: Catalogue, run_id: str, lang: str) -> str:
    """What a run computed, in ``lang``: its simulations' titles (tells apart baselines)."""
    reg = registry()
    names = cat.manifest(run_id)["scenario"].get("simulations") or []
    return ", ".join(reg[n].title.get(lang, n) if n in reg else n for n in names)


def run_options(cat: Catalogue, lang: str = "fr") -> list[dict[str, Any]]:
    """Runs of the store as dropdown options, as a tree under their parents: the scenario's
    title first, then what it computed and its run id (small); searchable by all three."""
    out = []
    for rid, depth in run_tree(cat, lang):
        title, sims = run_title(cat, rid, lang), _simulations(cat, rid, lang)
        # the branch (indented by depth), what it computed and the id show in the list;
        # the picker's box shows the title alone (see twin.css)
        label = html.Div(
            [
                html.Span(
                    "└" if depth else "",
                    className="run-branch",
                    style={"paddingLeft": f"{1.1 * max(min(depth, 6) - 1, 0)}rem"},
                ),
                html.Span(title, className="run-title"),
                html.Span(sims, className="run-sims"),
                html.Span(rid, className="run-id"),
            ],
            className="run-option",
            **{"data-depth": str(depth)},  # type: ignore[arg-type]  # data-* props
        )
        out.append({"label": label, "value": rid, "search": f"{title} {sims} {rid}"})
    return out
