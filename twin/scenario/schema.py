"""Scenario files: a pydantic schema, published as JSON Schema (``twin schema scenario``).

A scenario names its parent (``baseline`` or another scenario), typed interventions, the
simulations to run with their parameters, and the KPIs to report. An invalid file gets one
:class:`~twin.errors.SchemaError` listing every problem with its path, e.g.
``interventions[2].schedule[0].level: must be between 0 and 1``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from twin.errors import SchemaError, message, validation_problems
from twin.model.yamlfile import load_yaml
from twin.sims.interventions import Strict, intervention_registry


def intervention_union() -> Any:
    """The tagged union of every registered intervention model (``type`` is the tag)."""
    models = tuple(spec.model for spec in intervention_registry().values())
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


class Scenario(Strict):
    """A what-if scenario."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Identifier (file-name safe).")
    title: str | None = None
    parent: str | None = Field(
        "baseline", description="'baseline', another scenario's name, or null for a root."
    )
    description: str = ""
    seed: int = Field(0, ge=0, description="Seed of every random draw in the run.")
    interventions: list[Any] = Field(
        default_factory=list, description="Typed interventions (see `twin schema scenario`)."
    )
    simulations: list[str] = Field(default_factory=list, description="Simulation plugin names.")
    parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per simulation: parameter → value."
    )
    kpis: list[str] = Field(default_factory=list, description="KPIs to report; all when empty.")
    _source: Path | None = PrivateAttr(None)

    @property
    def source(self) -> Path | None:
        """The YAML file the scenario was read from, if any."""
        return self._source

    @model_validator(mode="after")
    def _parent_not_self(self) -> Scenario:
        if self.parent == self.name:
            raise ValueError("a scenario cannot be its own parent")
        return self

    @field_validator("parameters")
    @classmethod
    def _parameters_of_run_sims(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        sims = info.data.get("simulations")
        unknown = sorted(set(v) - set(sims)) if sims is not None else []
        if unknown:
            msg = f"parameters given for simulations not run: {unknown}"
            raise ValueError(msg)
        return v

    # -- I/O ----------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, *, where: str = "scenario") -> Scenario:
        """Validate a parsed scenario; one error lists every problem with its path."""
        if not isinstance(data, dict):
            msg = message(
                "a scenario must be a mapping with at least a name",
                where=where,
                fix="see the scenarios/*.yaml files of twin for examples",
            )
            raise SchemaError(msg)
        try:
            return scenario_model().model_validate(data)
        except ValidationError as exc:
            raise SchemaError(format_validation_error(exc, where)) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario YAML file."""
        p = Path(path)
        data = load_yaml(p, what="scenario file")
        sc = cls.from_dict(data, where=str(p))
        sc._source = p.resolve()
        return sc

    def canonical_json(self) -> str:
        """Stable JSON of the scenario, for hashing."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def field_path(loc: tuple[Any, ...]) -> str:
    """The path of a field in a scenario from a pydantic location, as error messages write
    it (``interventions[2].schedule[0].level``: the intervention's type tag left out)."""
    tags = set(intervention_registry())
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in tags:
            continue  # the discriminator tag pydantic adds to union paths
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def format_validation_error(exc: ValidationError, where: str) -> str:
    """One message listing every problem of a scenario with its path."""
    found = validation_problems(exc.errors(), loc=field_path, tag="intervention type")
    lines = [f"  - {p}" for p in found]
    return (
        f"{where}: {len(lines)} problem(s) in the scenario:\n"
        + "\n".join(lines)
        + "\nFix: correct these fields (the JSON Schema is printed by `twin schema scenario`)."
    )


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, with each installed simulation's parameters (their
    types, defaults, units in the descriptions, and bounds)."""
    schema = scenario_model().model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "twin scenario"
    schema["properties"]["parameters"]["properties"] = _parameter_schemas(schema)
    schema["properties"]["parameters"]["additionalProperties"] = False
    return schema


def _parameter_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """Each simulation's parameter schema; their shared definitions join ``schema``'s."""
    from twin.sims.registry import registry

    out: dict[str, Any] = {}
    for name, cls in sorted(registry().items()):
        sub = cls.params_model.model_json_schema(ref_template="#/$defs/{model}")
        schema.setdefault("$defs", {}).update(sub.pop("$defs", {}))
        out[name] = sub
    return out


@lru_cache(maxsize=4)
def _typed_scenario(tags: tuple[str, ...]) -> type[Scenario]:
    items: Any = list[intervention_union()]  # type: ignore[misc]
    typed: type[Scenario] = create_model(
        "Scenario",
        __base__=Scenario,
        __doc__=Scenario.__doc__,
        interventions=(items, Field(default_factory=list)),
    )
    return typed


def scenario_model() -> type[Scenario]:
    """The scenario model whose interventions are the registered intervention types.

    Built from :func:`twin.sims.interventions.intervention_registry` (cached until the
    registry changes); its instances are :class:`Scenario` instances.
    """
    return _typed_scenario(tuple(intervention_registry()))
