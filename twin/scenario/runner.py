"""Run scenarios: resolve the parent chain, apply interventions, run coupled simulations,
cache by input hash, write the run atomically, compare with the parent, write the notice.

A run directory ``<out>/<scenario>-<key>/`` holds::

    run.json            manifest: input hashes, parameters, seed, code version, timings,
                        peak memory, CPU time and an energy estimate, output hashes
    kpis.csv, kpis.parquet
    outputs/<name>.parquet | .nc
    compare/            scenario minus parent: kpis.csv, kpis.json, <layer>.parquet | .nc
    notice.fr.md, notice.en.md, notice.fr.html, notice.en.html

``key`` is the SHA-256 of everything that determines the results (twin content, effective
interventions, simulations and validated parameters, seed, code version): the same inputs
give the same directory, which is reused as a cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import resource
import subprocess
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from twin.errors import SchemaError, StoreError, TwinError, message, validation_problems
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.scenario.schema import Scenario
from twin.sims.base import KPI, Params, SimResult, Simulation
from twin.sims.derive import apply_rule, plan_columns
from twin.sims.interventions import apply_interventions
from twin.sims.registry import get_simulation
from twin.store.atomic import (
    atomic_directory,
    changed_files,
    clean_stale,
    file_stamp,
    sha256_file,
)
from twin.store.twinstore import (
    content_hashes,
    open_twin,
    read_layer,
    write_layer,
)

#: Average power drawn by one busy CPU core [W], used to estimate a run's energy
#: (CPU seconds × this / 3600 = Wh). 10 W per core is a middle value for current server and
#: laptop processors (package power of 65–200 W shared by 8–32 cores). It is an estimate for
#: digital-sobriety reporting, not a measurement.
POWER_PER_CORE_W = 10.0
RUN_FORMAT = 1
#: A per-zone KPI name, ``name[zone]``.
_ZONE_KPI = re.compile(r"(\w+)\[(.+)\]")


# -- code version and fingerprints -----------------------------------------------------------
@lru_cache(maxsize=1)
def code_version() -> str:
    """twin's version, plus the git commit (and ``-dirty``) in a source checkout."""
    from twin._version import __version__

    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "twin"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{rev}{'-dirty' if dirty else ''}"


def twin_fingerprint(twin: Twin) -> dict[str, str]:
    """SHA-256 of each layer's content (see :func:`twin.store.twinstore.content_hashes`): an
    opened twin and its directory give the same run key."""
    return content_hashes(twin)


def _stable_seed(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


# -- scenario chains -------------------------------------------------------------------------
def load_library(
    where: str | Path | Mapping[str, Scenario] | None, scenario: Scenario
) -> dict[str, Scenario]:
    """Scenarios by name: a mapping, a directory of YAML files, or the scenario's own folder."""
    if isinstance(where, Mapping):
        return dict(where)
    folder = (
        Path(where)
        if where is not None
        else (scenario.source.parent if scenario.source is not None else None)
    )
    lib: dict[str, Scenario] = {}
    if folder is not None and folder.is_dir():
        for p in sorted(folder.glob("*.y*ml")):
            try:
                sc = Scenario.from_yaml(p)
            except TwinError:
                continue  # a broken sibling is reported when that scenario itself is run
            lib[sc.name] = sc
    lib[scenario.name] = scenario
    return lib


def scenario_chain(scenario: Scenario, library: Mapping[str, Scenario]) -> list[Scenario]:
    """Ancestors from the root down to ``scenario`` (an implicit empty baseline is omitted).

    Raises
    ------
    SchemaError
        On an unknown parent or a cycle.
    """
    chain = [scenario]
    seen = {scenario.name}
    cur = scenario
    while cur.parent is not None:
        if cur.parent not in library:
            if cur.parent == "baseline":
                break
            msg = message(
                f"parent '{cur.parent}' of scenario '{cur.name}' was not found",
                where=str(cur.source or cur.name),
                fix=f"put {cur.parent}.yaml next to it, or use one of {sorted(library)}",
            )
            raise SchemaError(msg)
        cur = library[cur.parent]
        if cur.name in seen:
            msg = message(
                f"scenario parents form a cycle through '{cur.name}'",
                where=str(scenario.source or scenario.name),
                fix="make one scenario of the cycle a child of baseline",
            )
            raise SchemaError(msg)
        seen.add(cur.name)
        chain.append(cur)
    return chain[::-1]


# -- planning --------------------------------------------------------------------------------
@dataclass
class Plan:
    """A validated, ordered run plan."""

    scenario: Scenario
    interventions: list[Any]
    sims: list[tuple[Simulation, Params]]
    parent_name: str | None
    #: derivation rules applied to the scenario's twin before the interventions:
    #: (layer, table, rule) (see :mod:`twin.sims.derive`)
    derivations: list[tuple[str, str, str]] = field(default_factory=list)


def plan(twin: Twin, scenario: Scenario, library: Mapping[str, Scenario]) -> Plan:
    """Validate simulations, parameters, layers and couplings; order the simulations.

    Raises
    ------
    SchemaError
        One message listing every problem.
    """
    problems: list[str] = []
    chain = scenario_chain(scenario, library)
    interventions = [iv for sc in chain for iv in sc.interventions]
    sims: list[tuple[Simulation, Params]] = []
    derivations: list[tuple[str, str, str]] = []
    if not scenario.simulations:
        from twin.sims.registry import registry

        problems.append(
            f"simulations: the scenario runs no simulation, so its run would have no result; "
            f"list at least one of {sorted(registry())}"
        )
    for i, name in enumerate(scenario.simulations):
        try:
            sim = get_simulation(name, where=f"simulations[{i}]")
        except SchemaError as exc:
            problems.append(str(exc))
            continue
        try:
            params = sim.params_model.model_validate(scenario.parameters.get(name, {}))
        except ValidationError as exc:
            problems += validation_problems(exc.errors(), prefix=f"parameters.{name}")
            continue
        problems += sim.check(twin, params)
        missing, todo = plan_columns(twin, sim, params)
        problems += missing
        derivations += [d for d in todo if d not in derivations]
        sims.append((sim, params))
    produced = {o: s.name for s, _ in sims for o in s.outputs}
    for s, _ in sims:
        for need in s.inputs:
            if need not in produced:
                problems.append(
                    f"{s.name} needs the output '{need}' of another simulation; "
                    "add the simulation that produces it"
                )
    problems += _kpi_problems(scenario, [s for s, _ in sims])
    problems += _consumer_problems(chain, [s for s, _ in sims])
    ordered: list[tuple[Simulation, Params]] = []
    pending = list(sims)
    while pending and not problems:
        done = {o.name for o, _ in ordered}
        ready = [
            p
            for p in pending
            if all(produced.get(n) in done for n in p[0].inputs)
            and all(n not in produced or produced[n] in done for n in p[0].optional_inputs)
        ]
        if not ready:
            problems.append(
                f"simulations {[p[0].name for p in pending]} feed each other in a cycle"
            )
            break
        ordered += ready
        pending = [p for p in pending if p not in ready]
    if problems:
        where = str(scenario.source or f"scenario '{scenario.name}'")
        msg = (
            f"{where}: {len(problems)} problem(s) before running:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nFix: correct the scenario; `twin schema scenario` shows the format."
        )
        raise SchemaError(msg)
    parent = (
        chain[-2].name
        if len(chain) > 1
        else ("baseline" if scenario.parent == "baseline" else None)
    )
    return Plan(scenario, interventions, ordered, parent, derivations)


def _kpi_problems(scenario: Scenario, sims: list[Simulation]) -> list[str]:
    """Selected KPIs that no planned simulation declares."""
    known = sorted(k.name for s in sims for k in s.kpis)
    zoned = sorted(f"{k.name}[<zone>]" for s in sims for k in s.kpis if k.per_zone)
    out = []
    for k in scenario.kpis:
        if not any(s.kpi_spec(k) is not None for s in sims):
            per_zone = f"; per zone: {zoned}" if zoned else ""
            out.append(
                f"kpis: '{k}' is not reported by the simulations run (they report "
                f"{known}{per_zone})"
            )
    return out


def _consumer_problems(chain: list[Scenario], sims: list[Simulation]) -> list[str]:
    """Interventions (of the scenario and its ancestors) that no planned simulation reads,
    each with the simulations that would."""
    from twin.sims.registry import registry

    planned = {t for s in sims for t in s.consumes}
    out = []
    for sc, i, iv in ((s, i, iv) for s in chain for i, iv in enumerate(s.interventions)):
        if iv.type in planned:
            continue
        readers = sorted(n for n, c in registry().items() if iv.type in c.consumes)
        fix = (
            f"add one of {readers} to simulations"
            if readers
            else "no installed simulation reads it yet; remove the intervention"
        )
        where = "" if sc is chain[-1] else f"parent '{sc.name}' "
        out.append(
            f"{where}interventions[{i}] ({iv.type}): no planned simulation reads its effect "
            f"(planned: {[s.name for s in sims]}); {fix}"
        )
    return out


def run_key(
    twin: Twin, p: Plan, fingerprint: dict[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """The cache key of a planned run, and the inputs it hashes (``fingerprint``: the twin's
    :func:`twin_fingerprint` when already computed)."""
    inputs = {
        "twin": fingerprint if fingerprint is not None else twin_fingerprint(twin),
        "interventions": [iv.model_dump(mode="json") for iv in p.interventions],
        "simulations": {s.name: prm.model_dump(mode="json") for s, prm in p.sims},
        "derivations": [list(d) for d in p.derivations],
        # the texts the notice prints: an edited title or description makes a new notice
        "texts": [p.scenario.title, p.scenario.description],
        "seed": p.scenario.seed,
        "code_version": code_version(),
    }
    blob = json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest(), inputs


# -- runs ------------------------------------------------------------------------------------
@dataclass
class Run:
    """The result of a scenario run.

    Attributes
    ----------
    scenario : Scenario
    run_id : str
        ``<scenario>-<first 12 hex digits of the key>``.
    kpis : DataFrame
        One row per KPI (index ``kpi``): ``simulation``, ``value``, ``unit``,
        ``description``, ``better``.
    outputs : dict of str to Layer
        Output layers by name.
    manifest : dict
        The content of ``run.json``.
    path : Path or None
        Run directory, when written.
    from_cache : bool
        Whether the run was read back from the cache instead of computed.
    """

    scenario: Scenario
    run_id: str
    kpis: pd.DataFrame
    outputs: dict[str, Layer]
    manifest: dict[str, Any]
    path: Path | None = None
    from_cache: bool = False
    applied: list[str] = field(default_factory=list)
    parent_comparison: Any = None
    #: warm-start state of each simulation (in memory only; a run read from disk has none)
    states: dict[str, Any] = field(default_factory=dict, repr=False)

    def compare(self, other: Run) -> Any:
        """Differences ``self − other`` (KPIs and layers); see :func:`compare_runs`."""
        from twin.scenario.compare import compare_runs

        return compare_runs(other, self)

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """Read a run directory.

        Raises
        ------
        SchemaError
            When it is not a run directory.
        StoreError
            When it is damaged or its run.json malformed.
        """
        try:
            return cls._open(Path(path))
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
            msg = message(
                f"run.json is malformed ({type(exc).__name__}: {exc})",
                where=path,
                fix="run the scenario again (`twin run`), which rewrites it",
            )
            raise StoreError(msg) from None

    @classmethod
    def _open(cls, path: Path) -> Run:
        d = Path(path)
        f = d / "run.json"
        if not f.is_file():
            msg = message(
                "is not a run directory (no run.json)",
                where=d,
                fix="give a directory written by `twin run`",
            )
            raise SchemaError(msg)
        bad = stale_run(d)
        if bad:
            msg = message(
                f"the run directory is damaged: {bad}",
                where=d,
                fix="run the scenario again (`twin run`), which rewrites it",
            )
            raise StoreError(msg)
        m = json.loads(f.read_text(encoding="utf-8"))
        kpis = pd.read_csv(d / "kpis.csv", index_col="kpi")
        outputs: dict[str, Layer] = {}
        for name, entry in m["outputs"].items():
            outputs[name] = read_layer(
                name,
                entry["kind"],
                list(entry.get("files") or [entry["file"]]),
                d / "outputs",
                Provenance.from_dict(entry["provenance"]),
                entry.get("display", []),
            )
        sc = Scenario.from_dict(m["scenario"], where=str(f))
        return cls(
            sc,
            m["run_id"],
            kpis,
            outputs,
            m,
            d,
            from_cache=True,
            applied=m.get("interventions_applied", []),
        )


def stale_run(d: Path) -> list[str]:
    """Why the run directory ``d`` cannot be reused from the cache (empty when it can).

    Its manifest must parse, its KPI table exist and hold at least one KPI, and every output
    file be the one the run wrote (size and modification time, else SHA-256).
    """
    try:
        return _stale_run(d)
    except (KeyError, TypeError, AttributeError, ValueError, OSError) as exc:
        return [f"run.json malformed ({type(exc).__name__})"]


def _stale_run(d: Path) -> list[str]:
    try:
        m = json.loads((d / "run.json").read_text(encoding="utf-8"))
        outputs = dict(m["outputs"])
        if not all(isinstance(e, dict) for e in outputs.values()):
            return ["run.json: malformed outputs"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"run.json unreadable ({type(exc).__name__})"]
    problems = []
    try:
        if len(pd.read_csv(d / "kpis.csv")) == 0:
            problems.append("kpis.csv holds no KPI")
    except (OSError, ValueError) as exc:
        problems.append(f"kpis.csv unreadable ({type(exc).__name__})")
    for entry in outputs.values():
        hashes = entry.get("file_sha256") or (
            {entry["file"]: entry["sha256"]} if "sha256" in entry else {}
        )
        files = list(hashes) or list(entry.get("files") or [entry.get("file", "")])
        if any(not f or f != Path(f).name or f.startswith(".") for f in files):
            return [f"run.json names files outside outputs/: {sorted(files)}"]
        problems += changed_files(d / "outputs", hashes, entry.get("file_stamps"))
        # files written without a hash (older runs) must at least be there
        problems += [
            f"{f} (missing)" for f in files if f not in hashes and not (d / "outputs" / f).is_file()
        ]
    return problems


def load_twin(twin: Twin | str | Path) -> Twin:
    if isinstance(twin, Twin):
        return twin
    return open_twin(twin)


def run(
    twin: Twin | str | Path,
    scenario: Scenario | str | Path,
    *,
    out: str | Path | None = None,
    library: str | Path | Mapping[str, Scenario] | None = None,
    cache: bool = True,
    compare_parent: bool = True,
    fingerprint: dict[str, str] | None = None,
) -> Run:
    """Run a scenario on a twin.

    Parameters
    ----------
    twin : Twin or path
        The twin (or its directory). It is never modified: interventions apply to a copy.
    scenario : Scenario or path
        The scenario (or its YAML file).
    out : path, optional
        Run store. Without it the run stays in memory (no cache, no files).
    library : path or mapping, optional
        Where parents are looked up (default: the scenario file's folder).
    cache : bool
        Reuse a finished run with the same key from ``out``.
    compare_parent : bool
        Also run (or reuse) the parent and store the comparison.
    fingerprint : dict, optional
        The twin's content hashes (:func:`twin_fingerprint`) when already computed (a batch
        worker runs many samples on one twin); computed once per call otherwise.

    Returns
    -------
    Run
    """
    t = load_twin(twin)
    sc = scenario if isinstance(scenario, Scenario) else Scenario.from_yaml(scenario)
    lib = load_library(library, sc)
    fp = fingerprint if fingerprint is not None else twin_fingerprint(t)
    store = Path(out) if out is not None else None
    return _run(t, sc, lib, store, cache=cache, compare_parent=compare_parent, fingerprint=fp)


def _run(
    t: Twin,
    sc: Scenario,
    lib: Mapping[str, Scenario],
    store: Path | None,
    *,
    cache: bool,
    compare_parent: bool,
    fingerprint: dict[str, str],
    rerun: dict[str, Any] | None = None,
) -> Run:
    """:func:`run` on an open twin and a resolved library; ``rerun`` is recorded in the
    manifest of a parent run again with more simulations (see :func:`_parent_scenario`)."""
    p = plan(t, sc, lib)
    key, inputs = run_key(t, p, fingerprint)
    run_id = f"{sc.name}-{key[:12]}"
    if store is not None and cache and (store / run_id / "run.json").is_file():
        if not stale_run(store / run_id):
            return Run.open(store / run_id)
        # a damaged or empty cached run is computed again (the write replaces it)
    if store is not None and store.is_dir():
        clean_stale(store)  # leftovers of runs killed mid-write

    parent_run = None
    if compare_parent and p.parent_name is not None:
        parent_sc, record = _parent_scenario(sc, lib)
        parent_run = _run(
            t,
            parent_sc,
            lib,
            store,
            cache=cache,
            compare_parent=False,
            fingerprint=fingerprint,
            rerun=record,
        )

    result = _execute(t, p, run_id, key, inputs, parent=parent_run)
    if rerun is not None:
        result.manifest["rerun"] = rerun
    if parent_run is not None:
        from twin.scenario.compare import compare_runs

        result.parent_comparison = compare_runs(parent_run, result)
        result.manifest["parent_run"] = parent_run.run_id
    if store is not None:
        _write(result, store / run_id)
        result.path = store / run_id
    return result


def _parent_scenario(
    sc: Scenario, lib: Mapping[str, Scenario]
) -> tuple[Scenario, dict[str, Any] | None]:
    """The parent of ``sc`` to compare it with, and what its manifest records when it is not
    run as declared.

    The parent keeps its own interventions, its own parent (its ancestors are resolved
    through ``lib`` as for any run, so its manifest names them) and its description; it runs
    this scenario's simulations, parameters, seed and KPI selection, so the two runs compare
    like with like. When that adds simulations or changes their settings, its title says so,
    so the runs of the parent as chosen and as run again are told apart in the viewer's
    picker; the record (:func:`_rerun_record`) lets the viewer say it in the interface
    language. Without a
    parent in ``lib`` (an implicit baseline), the twin as it is.
    """
    chain = scenario_chain(sc, lib)
    if len(chain) < 2:  # an implicit empty baseline
        base = Scenario(
            name="baseline",
            title="Baseline",
            parent=None,
            description="The twin as it is, no intervention.",
            seed=sc.seed,
        )
        record = None
    else:
        base = chain[-2]
        record = _rerun_record(base, sc)
    out = Scenario(
        name=base.name,
        title=rerun_title(record, "en") if record else base.title,
        parent=base.parent,
        description=base.description,
        seed=sc.seed,
        interventions=list(base.interventions),
        simulations=list(sc.simulations),
        parameters=dict(sc.parameters),
        kpis=list(sc.kpis),
    )
    return out, record


def _sim_titles(names: list[str], lang: str) -> list[str]:
    """The declared titles of simulations in ``lang`` (their names when they declare none)."""
    from twin.sims.registry import registry

    reg = registry()
    return [getattr(reg.get(n), "title", {}).get(lang, n) for n in names]


def _rerun_record(base: Scenario, sc: Scenario) -> dict[str, Any] | None:
    """The ``rerun`` entry of the manifest of the parent ``base`` run again to compare
    ``sc`` with it, when that run computes what the parent as declared did not: the parent's
    own title; the simulations added, with their titles in English and French (the viewer's
    picker names the run in the interface language); and, when the parameters or the seed of
    the simulations run are ``sc``'s rather than the parent's, whose they are. ``None``
    otherwise: a run of fewer simulations with the same settings computes a part of what the
    parent did, with the same numbers, and keeps its title (the picker lists under each title
    the simulations the run computed)."""
    added = [s for s in sc.simulations if s not in base.simulations]
    # the settings of the simulations both run (the parent has none for those added; those
    # of a simulation left out do not matter)
    other = sc.seed != base.seed or any(
        sc.parameters.get(s) != base.parameters.get(s)
        for s in sc.simulations
        if s in base.simulations
    )
    if not (added or other):
        return None
    out: dict[str, Any] = {"title": base.title or base.name}
    if added:
        out["added"] = list(added)
        out["added_titles"] = {lg: _sim_titles(added, lg) for lg in ("en", "fr")}
    if other:
        out["settings_of"] = sc.title or sc.name
    return out


#: The words of :func:`rerun_title` in each language.
_SETTINGS_OF = {"en": "settings of “{}”", "fr": "réglages de « {} »"}


def rerun_title(record: dict[str, Any], lang: str = "en") -> str:
    """The title of a parent run again (its manifest's ``rerun`` ``record``) in ``lang``: its
    own title and how it differs from the parent as declared, e.g. "Led (+ Network
    accessibility)", "Led (réglages de « Half »)"."""
    lg = lang if lang in _SETTINGS_OF else "en"
    parts = []
    if record.get("added"):
        names = (record.get("added_titles") or {}).get(lg) or record["added"]
        parts.append(f"+ {', '.join(names)}")
    if record.get("settings_of"):
        parts.append(_SETTINGS_OF[lg].format(record["settings_of"]))
    return f"{record.get('title', '')} ({'; '.join(parts)})" if parts else str(record.get("title"))


#: Columns of a run's KPI table (index ``kpi``), from the simulations' declarations.
KPI_COLUMNS = [
    "simulation",
    "value",
    "unit",
    "better",
    "headline",
    "label_en",
    "label_fr",
    "description",
    "description_fr",
]


def _kpi_row(sim: Simulation, k: KPI) -> dict[str, Any]:
    return {
        "kpi": k.name,
        "simulation": sim.name,
        "value": k.value,
        "unit": k.unit,
        "better": k.better,
        "headline": bool(k.headline),
        "label_en": k.label_en or k.name,
        "label_fr": k.label_fr or k.label_en or k.name,
        "description": k.description,
        "description_fr": k.description_fr or k.description,
    }


def _simulate(
    work: Twin, p: Plan, parent: Run | None
) -> tuple[dict[str, Layer], list[dict[str, Any]], dict[str, float], dict[str, Any]]:
    """Run the planned simulations in order on the scenario's twin: outputs (with their
    display hints), KPI rows, timings [s] and warm-start states, by simulation."""
    produced: dict[str, Layer] = {}
    rows: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    states: dict[str, Any] = {}
    for sim, params in p.sims:
        s0 = time.perf_counter()
        wanted = [*sim.inputs, *(k for k in sim.optional_inputs if k in produced)]
        given = {k: produced[k] for k in wanted}
        rng = _stable_seed(p.scenario.seed, sim.name)
        if sim.warm_start:
            # the parent run's outputs of the simulation's own output names, as
            # "parent:<name>", and the state its simulation returned (in memory only)
            if parent is not None:
                given.update(
                    {f"parent:{k}": parent.outputs[k] for k in sim.outputs if k in parent.outputs}
                )
            state = parent.states.get(sim.name) if parent is not None else None
            res: SimResult = (
                sim.run(work, params, given, rng, state=state)  # type: ignore[call-arg]
                if _takes_state(sim)
                else sim.run(work, params, given, rng)
            )
        else:
            res = sim.run(work, params, given, rng)
        timings[f"{sim.name}_s"] = round(time.perf_counter() - s0, 4)
        for name, lay in res.outputs.items():
            lay.display = [d.to_dict() for d in sim.display_hints(name)]
        produced.update(res.outputs)
        rows += [_kpi_row(sim, k) for k in res.kpis]
        states[sim.name] = res.state
    return produced, rows, timings, states


def _takes_state(sim: Simulation) -> bool:
    """Whether the simulation's ``run`` accepts the parent's warm-start ``state``."""
    import inspect

    return "state" in inspect.signature(sim.run).parameters


def _kpi_table(rows: list[dict[str, Any]], p: Plan) -> pd.DataFrame:
    """The run's KPI table, restricted to the scenario's selection when it makes one."""
    kpis = (
        pd.DataFrame(rows).set_index("kpi")
        if rows
        else pd.DataFrame(columns=["kpi", *KPI_COLUMNS]).set_index("kpi")
    )
    if not p.scenario.kpis:
        return kpis
    missing = [k for k in p.scenario.kpis if k not in kpis.index]
    if missing:
        zone_rows = sorted(k for k in kpis.index if _ZONE_KPI.fullmatch(str(k)))
        msg = message(
            f"the KPIs {missing} were selected but not produced by this run "
            f"(per-zone KPIs produced: {zone_rows or 'none'})",
            where=f"scenario {p.scenario.name!r}: kpis",
            fix="check the zone names of the zones layer (parameters.commerce.zones_layer "
            "and zone_field), or remove them from kpis",
        )
        raise SchemaError(msg)
    return kpis.loc[list(p.scenario.kpis)]


def _execute(
    t: Twin, p: Plan, run_id: str, key: str, inputs: dict[str, Any], parent: Run | None = None
) -> Run:
    t0, c0 = time.perf_counter(), time.process_time()
    work = t.copy()
    for lname, table, rule in p.derivations:
        apply_rule(work.layer(lname), table, rule)
    applied = apply_interventions(work, p.interventions)
    timings = {"interventions_s": round(time.perf_counter() - t0, 4)}
    produced, rows, sim_timings, states = _simulate(work, p, parent)
    timings.update(sim_timings)
    kpis = _kpi_table(rows, p)
    cpu = time.process_time() - c0
    wall = time.perf_counter() - t0
    manifest = {
        "format": RUN_FORMAT,
        "run_id": run_id,
        "key": key,
        "scenario": p.scenario.model_dump(mode="json"),
        "parent": p.parent_name,
        "inputs": {
            "twin_layers": inputs["twin"],
            "scenario_sha256": hashlib.sha256(p.scenario.canonical_json().encode()).hexdigest(),
            "twin_path": str(t.source) if t.source is not None else None,
        },
        "parameters": inputs["simulations"],
        "seed": p.scenario.seed,
        "code_version": inputs["code_version"],
        "simulations_order": [s.name for s, _ in p.sims],
        "data": {
            name: {"kind": lay.kind, "count": lay.count, "provenance": lay.provenance.to_dict()}
            for name, lay in work.layers.items()  # with the derivations of this run
        },
        "interventions_applied": [str(a) for a in applied],
        "interventions_applied_fr": [a.fr for a in applied],
        "timings": {**timings, "total_s": round(wall, 4)},
        "cpu_time_s": round(cpu, 4),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "energy_estimate_wh": round(cpu * POWER_PER_CORE_W / 3600.0, 6),
        "energy_method": f"CPU time × {POWER_PER_CORE_W:g} W per busy core (estimate)",
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    out = Run(p.scenario, run_id, kpis, produced, manifest, applied=[str(a) for a in applied])
    out.states = states
    return out


def _write(r: Run, target: Path) -> None:
    from twin.scenario.notice import write_notices

    with atomic_directory(target) as tmp:
        (tmp / "outputs").mkdir()
        outs = {}
        for name, lay in r.outputs.items():
            files = write_layer(lay, tmp / "outputs")
            outs[name] = {
                "file": files[0],
                "files": files,
                "kind": lay.kind,
                "sha256": sha256_file(tmp / "outputs" / files[0]),
                "file_sha256": {f: sha256_file(tmp / "outputs" / f) for f in files},
                "file_stamps": {f: file_stamp(tmp / "outputs" / f) for f in files},
                "provenance": lay.provenance.to_dict(),
                "display": lay.display,
            }
        r.manifest["outputs"] = outs
        r.kpis.reset_index().to_csv(tmp / "kpis.csv", index=False)
        r.kpis.reset_index().to_parquet(tmp / "kpis.parquet", index=False)
        if r.parent_comparison is not None:
            r.parent_comparison.save(tmp / "compare")
        write_notices(r, tmp)
        (tmp / "run.json").write_text(json.dumps(r.manifest, indent=2, default=str))
