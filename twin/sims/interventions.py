"""Interventions: what they are made of, and the one registry the scenario engine reads.

An intervention is data (a pydantic model with a ``type`` tag) plus an apply function that
changes the scenario's copy of the twin and says what it did. Each lives in the package of the
domain that reads its effect (``twin/sims/<domain>/interventions.py``, as a tuple
``INTERVENTIONS`` of :class:`InterventionSpec`); third-party packages add theirs through the
``twin.interventions`` entry-point group (an entry point gives an :class:`InterventionSpec` or
a sequence of them). Which simulations read an intervention is declared by the simulations
(``Simulation.consumes``), so the planner can refuse an intervention no planned simulation
reads.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from twin.errors import TwinWarning
from twin.model.twin import Twin
from twin.sims.plugins import load_entry_points

Scalar = str | int | float | bool

#: Built-in domain modules holding an ``INTERVENTIONS`` tuple.
BUILTIN_MODULES = (
    "twin.sims.roads.interventions",
    "twin.sims.landcover.interventions",
    "twin.sims.lighting.interventions",
    "twin.sims.commerce.interventions",
    "twin.sims.water.interventions",
    "twin.sims.power.interventions",
)

GEOJSON_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
        "Feature",
        "FeatureCollection",
    }
)


class Strict(BaseModel):
    """A model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Target(Strict):
    """What an intervention applies to: layer ids, an attribute filter, or a GeoJSON area.

    Exactly one of ``ids``, ``where`` or ``geometry`` is given (or none, meaning the whole
    layer). ``where`` maps a field to a value or a list of accepted values.
    """

    layer: str = Field(description="Layer the target selects from.")
    ids: list[str] | None = Field(None, description="Feature ids in the layer.")
    where: dict[str, Scalar | list[Scalar]] | None = Field(
        None, description="Attribute filter: field → value or list of values."
    )
    geometry: dict[str, Any] | None = Field(
        None, description="Inline GeoJSON geometry (or Feature / FeatureCollection)."
    )
    crs: str = Field("EPSG:4326", description="CRS of the inline geometry.")

    @model_validator(mode="after")
    def _one_selector(self) -> Target:
        given = [k for k in ("ids", "where", "geometry") if getattr(self, k) is not None]
        if len(given) > 1:
            msg = f"give only one of ids, where, geometry (got {', '.join(given)})"
            raise ValueError(msg)
        return self

    @field_validator("geometry")
    @classmethod
    def _geojson(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None and (not isinstance(v.get("type"), str) or v["type"] not in GEOJSON_TYPES):
            msg = f"geometry must be GeoJSON with a type among {sorted(GEOJSON_TYPES)}"
            raise ValueError(msg)
        return v


class AreaTarget(Target):
    """A target that must be an area (a polygon) or a layer of polygons."""


@dataclass(frozen=True)
class Amount:
    """The main parameter of an intervention, for a form that sets it (the what-if editor).

    Attributes
    ----------
    field : str
        Its field in the model (range and default are the field's).
    label : dict
        What it is, per language (``en``, ``fr``), e.g. "Canopy (share of open ground)".
    describe : str
        The intervention in a few English words, ``{v}`` standing for the value, e.g.
        ``"trees planted ({v:.0%} canopy over the open ground)"``.
    """

    field: str
    label: dict[str, str]
    describe: str


class Intervention(Strict):
    """Base of intervention models: each adds ``type: Literal["<name>"]`` and its fields.

    A model may also declare ``title`` (its name per language) and ``amount`` (its main
    parameter, :class:`Amount`): an area intervention with both is offered by the viewer's
    what-if editor.
    """

    title: ClassVar[dict[str, str]] = {}
    amount: ClassVar[Amount | None] = None

    label: str | None = Field(None, description="Free text shown in reports.")


class Done(str):
    """What an intervention did, in English (the string itself) and in French (``.fr``), for
    the run's manifest and its algorithm notice in either language."""

    fr: str

    def __new__(cls, en: str, fr: str) -> Done:
        out = super().__new__(cls, en)
        out.fr = fr
        return out


Apply = Callable[[Twin, Any, str], Done]


@dataclass(frozen=True)
class InterventionSpec:
    """An intervention type: its model and the function giving it effect.

    Attributes
    ----------
    model : type of Intervention
        The pydantic model; its ``type`` field is a one-value ``Literal``.
    apply : callable
        ``apply(twin, intervention, where) -> Done``: changes the scenario's copy of the twin;
        ``where`` is the intervention's path in the scenario, for error messages.
    """

    model: type[Intervention]
    apply: Apply

    @property
    def type(self) -> str:
        """The ``type`` tag of the model."""
        return _literal(self.model)


def _literal(model: type[BaseModel]) -> str:
    field = model.model_fields.get("type")
    args: tuple[Any, ...] = tuple(getattr(field.annotation, "__args__", ())) if field else ()
    if len(args) != 1 or not isinstance(args[0], str):
        msg = f"{model.__name__}.type must be a Literal of one string"
        raise TypeError(msg)
    return str(args[0])


def _specs_of(obj: Any) -> list[InterventionSpec]:
    items = [obj] if isinstance(obj, InterventionSpec) else list(obj)
    if not all(isinstance(i, InterventionSpec) for i in items):
        msg = "an intervention plugin must give an InterventionSpec or a sequence of them"
        raise TypeError(msg)
    return items


@lru_cache(maxsize=1)
def intervention_registry() -> dict[str, InterventionSpec]:
    """Every intervention type: the built-in domains' and the ``twin.interventions`` plugins'.

    A plugin that fails to load, or names a type already registered, is warned about and
    skipped.
    """

    reg: dict[str, InterventionSpec] = {}
    sources: list[tuple[str, Sequence[InterventionSpec]]] = [
        (m, import_module(m).INTERVENTIONS) for m in BUILTIN_MODULES
    ]
    for name, obj in load_entry_points("twin.interventions"):
        try:
            sources.append((name, _specs_of(obj)))
        except TypeError as exc:
            warnings.warn(f"intervention plugin '{name}' skipped: {exc}", TwinWarning, stacklevel=2)
    for origin, specs in sources:
        for spec in specs:
            tag = _literal(spec.model)
            if tag in reg:
                warnings.warn(
                    f"intervention '{tag}' of {origin} duplicates a registered type; skipped",
                    TwinWarning,
                    stacklevel=2,
                )
                continue
            reg[tag] = spec
    return reg


def apply_interventions(
    twin: Twin, interventions: list[Any], where: str = "interventions"
) -> list[Done]:
    """Apply interventions in order to ``twin`` (a copy); return what each did."""
    reg = intervention_registry()
    return [reg[iv.type].apply(twin, iv, f"{where}[{i}]") for i, iv in enumerate(interventions)]
