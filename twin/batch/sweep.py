"""Sweep files: which scenario parameters to vary, and the samples they give.

A sweep file (YAML) names a base scenario and, for each swept parameter, a *path* into the
scenario (``seed``, ``parameters.accessibility.n_origins``,
``interventions[0].capacity_factor``) and how to draw it::

    name: closure-sweep
    scenario: ../closure.yaml          # relative to the sweep file
    method: lhs                        # grid | random | lhs
    n: 16                              # samples (random and lhs only)
    seed: 7                            # seed of the draws
    parameters:
      parameters.accessibility.n_origins: {low: 100, high: 1000, integer: true}
      interventions[0].capacity_factor: {values: [0.0, 0.5]}

A spec is either ``{values: [...]}`` (every value for ``grid``; a uniform choice for
``random`` and ``lhs``) or ``{low, high}`` with optional ``log: true`` (uniform in the
logarithm) and ``integer: true`` (whole numbers from ``low`` to ``high`` inclusive), for
``random`` and ``lhs``. Latin hypercube samples come from :class:`scipy.stats.qmc.LatinHypercube`
seeded with the sweep's seed: each of the ``n`` equal strata of every parameter holds exactly
one sample.

Every sample is a full scenario named ``<scenario>-s<number>``, validated like a scenario
file; an invalid sample is reported before anything runs.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from twin.errors import InputError, SchemaError, message, validation_problems
from twin.model.yamlfile import load_yaml
from twin.scenario.schema import Scenario

#: One step of a parameter path: a mapping key followed by optional list indexes.
_STEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)((?:\[\d+\])*)$")
#: Most problems listed in one error message.
_MAX_LISTED = 20


def parse_path(path: str) -> list[str | int]:
    """Split a parameter path into mapping keys (str) and list indexes (int).

    Examples
    --------
    >>> parse_path("interventions[0].target.where.name")
    ['interventions', 0, 'target', 'where', 'name']
    """
    parts: list[str | int] = []
    for step in path.split("."):
        m = _STEP.match(step)
        if m is None:
            msg = (
                f"'{path}' is not a parameter path; write keys separated by dots with list "
                "indexes in brackets, e.g. parameters.accessibility.n_origins or "
                "interventions[0].capacity_factor"
            )
            raise ValueError(msg)
        parts.append(m.group(1))
        parts += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return parts


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterSpec(_Strict):
    """How one parameter is swept: a list of values, or a range."""

    values: list[Any] | None = Field(
        None, min_length=1, description="Values taken (grid) or chosen from (random, lhs)."
    )
    low: float | None = Field(None, description="Lower bound of the range (random, lhs).")
    high: float | None = Field(None, description="Upper bound of the range (random, lhs).")
    log: bool = Field(False, description="Draw uniformly in the logarithm (low > 0).")
    integer: bool = Field(False, description="Whole numbers from low to high inclusive.")

    @model_validator(mode="after")
    def _one_kind(self) -> ParameterSpec:
        ranged = self.low is not None or self.high is not None
        if self.values is not None and ranged:
            raise ValueError("give either values or low/high, not both")
        if self.values is None:
            if self.low is None or self.high is None:
                raise ValueError("give values, or both low and high")
            if not self.low < self.high:
                raise ValueError(f"low ({self.low:g}) must be less than high ({self.high:g})")
            if self.log and self.low <= 0:
                raise ValueError("log: true needs low > 0")
            if self.integer and not (self.low.is_integer() and self.high.is_integer()):
                raise ValueError("integer: true needs whole-number low and high")
        elif self.log or self.integer:
            raise ValueError("log and integer apply to low/high ranges, not to values")
        return self

    @property
    def is_range(self) -> bool:
        """Whether the spec is a ``low``/``high`` range."""
        return self.values is None

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map draws in [0, 1) to parameter values (inverse transform)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, np.nextafter(1.0, 0.0))
        if self.values is not None:
            idx = np.floor(u * len(self.values)).astype(int)
            return [self.values[i] for i in idx]
        assert self.low is not None and self.high is not None
        lo, hi = self.low, self.high + (1.0 if self.integer else 0.0)
        if self.log:
            x = np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:
            x = lo + u * (hi - lo)
        if self.integer:
            return [int(v) for v in np.clip(np.floor(x), self.low, self.high)]
        return [float(v) for v in np.clip(x, self.low, self.high)]


def _check_path(path: str) -> str:
    parts = parse_path(path)
    if parts[0] == "name":
        raise ValueError("the name is set per sample and cannot be swept")
    return path


#: A parameter path, checked for syntax (its fit to the scenario is checked per sample).
ParameterPath = Annotated[str, AfterValidator(_check_path)]


class Sweep(_Strict):
    """A parameter sweep over one scenario."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Identifier (file-name safe).")
    title: str | None = None
    description: str = ""
    scenario: str = Field(description="Base scenario file, relative to the sweep file.")
    method: Literal["grid", "random", "lhs"] = Field(
        "grid",
        description="grid: every combination; random: independent draws; lhs: Latin hypercube.",
    )
    n: int | None = Field(None, ge=1, le=1_000_000, description="Samples (random, lhs).")
    seed: int = Field(0, ge=0, description="Seed of the random and Latin hypercube draws.")
    parameters: dict[ParameterPath, ParameterSpec] = Field(
        min_length=1, description="Parameter path → spec."
    )
    _source: Path | None = PrivateAttr(None)
    _base: Path | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _method(self) -> Sweep:
        problems = []
        if self.method == "grid":
            if self.n is not None:
                problems.append(
                    "n is only for the random and lhs methods (a grid has one "
                    "sample per combination of values)"
                )
            ranged = [p for p, s in self.parameters.items() if s.is_range]
            if ranged:
                problems.append(
                    f"a grid needs values for every parameter; {ranged} give "
                    "low/high (use method: random or lhs)"
                )
        elif self.n is None:
            problems.append(f"method {self.method} needs n, the number of samples")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- I/O ----------------------------------------------------------------------------------
    @property
    def source(self) -> Path | None:
        """The YAML file the sweep was read from, if any."""
        return self._source

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "sweep", base: Path | None = None) -> Sweep:
        """Validate a parsed sweep; one error lists every problem with its path.

        ``base`` is the folder the ``scenario`` path is relative to.
        """
        if not isinstance(data, dict):
            msg = message(
                "a sweep must be a mapping with name, scenario and parameters",
                where=where,
                fix="see scenarios/sweeps/closure_sweep.yaml for an example",
            )
            raise SchemaError(msg)
        try:
            sw = cls.model_validate(data)
        except ValidationError as exc:
            raise SchemaError(_format_errors(exc, where)) from None
        sw._base = base
        return sw

    @classmethod
    def from_yaml(cls, path: str | Path) -> Sweep:
        """Read and validate a sweep YAML file."""
        p = Path(path)
        data = load_yaml(p, what="sweep file")
        sw = cls.from_dict(data, where=str(p), base=p.resolve().parent)
        sw._source = p.resolve()
        return sw

    def scenario_path(self) -> Path:
        """The base scenario file (relative paths are taken from the sweep file's folder)."""
        p = Path(self.scenario)
        if not p.is_absolute() and self._base is not None:
            p = self._base / p
        return p

    def load_scenario(self) -> Scenario:
        """Read the base scenario."""
        p = self.scenario_path()
        if not p.is_file():
            msg = message(
                f"scenario file '{self.scenario}' was not found (looked for {p})",
                where=f"{self._source or self.name}: scenario",
                fix="give the scenario path relative to the sweep file",
            )
            raise InputError(msg)
        return Scenario.from_yaml(p)


@dataclass
class Sample:
    """One sample of a sweep: its number, the swept values and the scenario they give."""

    index: int
    values: dict[str, Any]
    scenario: Scenario


def unit_draws(sweep: Sweep) -> np.ndarray:
    """Draws in [0, 1) of shape (n, parameters) for the random and lhs methods."""
    assert sweep.n is not None
    d = len(sweep.parameters)
    rng = np.random.default_rng(sweep.seed)
    if sweep.method == "lhs":
        from scipy.stats import qmc

        return np.asarray(qmc.LatinHypercube(d=d, rng=rng).random(sweep.n))
    return rng.random((sweep.n, d))


def sample_values(sweep: Sweep) -> list[dict[str, Any]]:
    """The swept values of every sample, in order (parameter path → value)."""
    paths = list(sweep.parameters)
    if sweep.method == "grid":
        lists = [sweep.parameters[p].values or [] for p in paths]
        return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*lists)]
    u = unit_draws(sweep)
    columns = [sweep.parameters[p].from_unit(u[:, j]) for j, p in enumerate(paths)]
    return [dict(zip(paths, row, strict=True)) for row in zip(*columns, strict=True)]


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` in a nested scenario dict (missing mappings are created).

    Raises
    ------
    ValueError
        When a list index is out of range or the path goes through a value that is not a
        mapping or a list.
    """
    parts = parse_path(path)
    cur: Any = data
    walked = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(cur, list):
                msg = f"'{walked}' is not a list, so [{part}] does not apply"
                raise ValueError(msg)
            if part >= len(cur):
                msg = f"'{walked}' has {len(cur)} item(s), so [{part}] does not exist"
                raise ValueError(msg)
            walked += f"[{part}]"
        else:
            if not isinstance(cur, dict):
                msg = f"'{walked}' is a {type(cur).__name__}, not a mapping"
                raise ValueError(msg)
            walked += ("." if walked else "") + part
            if not last and cur.get(part) is None:
                cur[part] = [] if isinstance(parts[i + 1], int) else {}
        if last:
            cur[part] = value
        else:
            cur = cur[part]


def sample_name(sweep_scenario: str, index: int, total: int) -> str:
    """``<scenario>-s<index>`` with the index zero-padded to at least three digits."""
    width = max(3, len(str(max(total - 1, 0))))
    return f"{sweep_scenario}-s{index:0{width}d}"


def make_samples(sweep: Sweep, base: Scenario | None = None) -> list[Sample]:
    """Every sample of a sweep as a validated scenario.

    Parameters
    ----------
    sweep : Sweep
    base : Scenario, optional
        The base scenario (default: read from ``sweep.scenario``).

    Raises
    ------
    SchemaError
        One message listing every path that does not fit the scenario and every invalid
        sample (samples with the same problem are grouped).
    """
    sc = base if base is not None else sweep.load_scenario()
    where = str(sweep.source or f"sweep '{sweep.name}'")
    base_dict = sc.model_dump(mode="json")
    values = sample_values(sweep)
    problems: dict[str, list[int]] = {}
    samples: list[Sample] = []
    for i, vals in enumerate(values):
        d = copy.deepcopy(base_dict)
        name = sample_name(sc.name, i, len(values))
        bad = False
        for path, v in vals.items():
            try:
                set_path(d, path, v)
            except ValueError as exc:
                problems.setdefault(f"parameters.{path}: {exc} in scenario '{sc.name}'", [])
                problems[f"parameters.{path}: {exc} in scenario '{sc.name}'"].append(i)
                bad = True
        if bad:
            continue
        d["name"] = name
        try:
            s = Scenario.from_dict(d, where=f"{where}: sample {i}")
        except SchemaError as exc:
            for line in str(exc).splitlines():
                if line.startswith("  - "):
                    problems.setdefault(line[4:].replace(name, "<sample>"), []).append(i)
            continue
        s._source = sc.source  # parents are looked up next to the base scenario
        samples.append(Sample(i, vals, s))
    if problems:
        raise SchemaError(_problem_message(where, problems, len(values)))
    return samples


def _ranges(ids: list[int], total: int) -> str:
    if len(ids) == total:
        return f"all {total} samples"
    runs: list[str] = []
    start = prev = ids[0]
    for i in [*ids[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        runs.append(str(start) if start == prev else f"{start}–{prev}")
        if i is not None:
            start = prev = i
    return ("sample " if len(ids) == 1 else "samples ") + ", ".join(runs)


def _problem_message(where: str, problems: dict[str, list[int]], total: int) -> str:
    lines = [f"  - {_ranges(ids, total)}: {text}" for text, ids in problems.items()]
    more = len(lines) - _MAX_LISTED
    lines = lines[:_MAX_LISTED] + ([f"  - … and {more} more"] if more > 0 else [])
    return (
        f"{where}: {len(problems)} problem(s) in the sweep's samples:\n"
        + "\n".join(lines)
        + "\nFix: change the parameter paths or their values/ranges so that every sample is "
        "a valid scenario (`twin schema scenario` shows the format)."
    )


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue  # pydantic's marker of an error in a mapping key
        elif i == 1 and loc[0] == "parameters":
            out += f"[{part}]"  # a parameter path: keep its dots readable
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _format_errors(exc: ValidationError, where: str) -> str:
    lines = [f"  - {p}" for p in validation_problems(exc.errors(), loc=_loc)]
    return (
        f"{where}: {len(lines)} problem(s) in the sweep:\n"
        + "\n".join(lines)
        + "\nFix: correct these fields (docs/batch.md describes the sweep format; the JSON "
        "Schema is `twin.batch.sweep_json_schema()`)."
    )


def sweep_json_schema() -> dict[str, Any]:
    """The JSON Schema of sweep files."""
    schema = Sweep.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "twin sweep"
    return schema


def value_label(v: Any) -> Any:
    """A swept value as a table cell: scalars as they are, anything else as JSON."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v, sort_keys=True)


__all__ = [
    "ParameterSpec",
    "Sample",
    "Sweep",
    "make_samples",
    "parse_path",
    "sample_values",
    "set_path",
    "sweep_json_schema",
]
