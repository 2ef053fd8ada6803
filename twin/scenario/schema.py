"""Scenario files: a pydantic schema, published as JSON Schema (``twin schema scenario``).

A scenario names its parent (``baseline`` or another scenario), typed interventions, the
simulations to run with their parameters, and the KPIs to report. An invalid file gets one
:class:`~twin.errors.SchemaError` listing every problem with its path, e.g.
``interventions[2].schedule[0].level: must be between 0 and 1``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from twin.errors import SchemaError, message
from twin.model.yamlfile import load_yaml

Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- targets ---------------------------------------------------------------------------------
class Target(_Strict):
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
        if v is None:
            return v
        kinds = {
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
        if v.get("type") not in kinds:
            msg = f"geometry must be GeoJSON with a type among {sorted(kinds)}"
            raise ValueError(msg)
        return v


class AreaTarget(Target):
    """A target that must be an area (a polygon) or a layer of polygons."""


# -- interventions ---------------------------------------------------------------------------
class _Intervention(_Strict):
    label: str | None = Field(None, description="Free text shown in reports.")


class CloseLinks(_Intervention):
    """Close road links (no traffic in either drawn direction of the selected links)."""

    type: Literal["close_links"]
    target: Target


class OpenLinks(_Intervention):
    """Reopen links closed by a parent scenario."""

    type: Literal["open_links"]
    target: Target


class ChangeLinks(_Intervention):
    """Change capacity, lanes or speed of links."""

    type: Literal["change_links"]
    target: Target
    capacity_factor: float | None = Field(None, ge=0, le=10)
    lanes: int | None = Field(None, ge=1, le=10)
    speed_kph: float | None = Field(None, gt=0, le=150)

    @model_validator(mode="after")
    def _something(self) -> ChangeLinks:
        if self.capacity_factor is None and self.lanes is None and self.speed_kph is None:
            raise ValueError("give at least one of capacity_factor, lanes, speed_kph")
        return self


class Roadworks(_Intervention):
    """Roadworks between two dates: links closed or with reduced capacity."""

    type: Literal["roadworks"]
    target: Target
    start: dt.date
    end: dt.date
    capacity_factor: float = Field(0.0, ge=0, le=1, description="0 = closed.")

    @model_validator(mode="after")
    def _dates(self) -> Roadworks:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class PlantTrees(_Intervention):
    """Plant trees in an area: tree canopy covers ``canopy_fraction`` of its open ground."""

    type: Literal["plant_trees"]
    target: AreaTarget
    canopy_fraction: float = Field(0.5, ge=0, le=1)


class GreenArea(_Intervention):
    """Turn sealed ground in an area into (irrigated) grass."""

    type: Literal["green_area"]
    target: AreaTarget
    fraction: float = Field(1.0, ge=0, le=1)
    irrigated: bool = False


class CoolRoofs(_Intervention):
    """Raise roof albedo in an area (reflective coatings)."""

    type: Literal["cool_roofs"]
    target: AreaTarget
    albedo: float = Field(0.7, ge=0, le=1)


class GreenRoofs(_Intervention):
    """Vegetate a share of roofs in an area."""

    type: Literal["green_roofs"]
    target: AreaTarget
    fraction: float = Field(0.5, ge=0, le=1)


class WaterSurface(_Intervention):
    """Create a water surface (pond, fountain) in an area."""

    type: Literal["water_surface"]
    target: AreaTarget
    fraction: float = Field(0.2, ge=0, le=1)


class Desealing(_Intervention):
    """Remove paving (other than roads and roofs) in an area, giving grass."""

    type: Literal["desealing"]
    target: AreaTarget
    fraction: float = Field(0.5, ge=0, le=1)


class ScheduleStep(_Strict):
    """From ``start`` (HH:MM, local time) the lamps run at ``level`` of full power."""

    start: dt.time
    level: float = Field(ge=0, le=1, description="must be between 0 and 1")

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not 0 <= v <= 1:
            raise ValueError("must be between 0 and 1")
        return v


class DimmingSchedule(_Intervention):
    """A night dimming schedule for selected lamps."""

    type: Literal["dimming_schedule"]
    target: Target
    schedule: list[ScheduleStep] = Field(min_length=1)


class SwitchOff(_Intervention):
    """Switch lamps off between two times of night."""

    type: Literal["switch_off"]
    target: Target
    start: dt.time
    end: dt.time


class LedRetrofit(_Intervention):
    """Replace lamps by LED luminaires."""

    type: Literal["led_retrofit"]
    target: Target
    power_w: float | None = Field(None, gt=0, le=2000)
    power_factor: float | None = Field(None, gt=0, le=1, description="new power / old power")
    cost_eur_per_lamp: float = Field(600.0, ge=0)


class ShoppingCentre(_Intervention):
    """A new shopping centre."""

    type: Literal["shopping_centre"]
    location: Target
    floor_area_m2: float = Field(gt=0, le=1e6)
    parking_spaces: int = Field(0, ge=0)


class Pedestrianise(_Intervention):
    """Close streets to cars and open them to pedestrians only."""

    type: Literal["pedestrianise"]
    target: Target


class NewParking(_Intervention):
    """A new car park (added to a car-park point layer, created when missing)."""

    type: Literal["new_parking"]
    location: Target = Field(description="Layer of car parks (e.g. car_parks) and a geometry.")
    spaces: int = Field(gt=0, le=100_000, description="Parking spaces.")


class VacancyTax(_Intervention):
    """A tax on vacant retail units in an area (rate = share of the rental value per year).

    Its effect on vacancy risk is an ASSUMED elasticity (``commerce.tax_effect``).
    """

    type: Literal["vacancy_tax"]
    target: Target = Field(description="Retail-unit layer and (optionally) an area or filter.")
    rate: float = Field(gt=0, le=1, description="Tax rate, share of the annual rental value.")


class PipeBreak(_Intervention):
    """Break water pipes (closed until repaired)."""

    type: Literal["pipe_break"]
    target: Target


class SubstationOutage(_Intervention):
    """Take substations out of service."""

    type: Literal["substation_outage"]
    target: Target


Intervention = Annotated[
    CloseLinks
    | OpenLinks
    | ChangeLinks
    | Roadworks
    | PlantTrees
    | GreenArea
    | CoolRoofs
    | GreenRoofs
    | WaterSurface
    | Desealing
    | DimmingSchedule
    | SwitchOff
    | LedRetrofit
    | ShoppingCentre
    | Pedestrianise
    | NewParking
    | VacancyTax
    | PipeBreak
    | SubstationOutage,
    Field(discriminator="type"),
]


class Scenario(_Strict):
    """A what-if scenario."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Identifier (file-name safe).")
    title: str | None = None
    parent: str | None = Field(
        "baseline", description="'baseline', another scenario's name, or null for a root."
    )
    description: str = ""
    seed: int = Field(0, ge=0, description="Seed of every random draw in the run.")
    interventions: list[Intervention] = Field(default_factory=list)
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
            return cls.model_validate(data)
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


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {
            "close_links",
            "open_links",
            "change_links",
            "roadworks",
            "plant_trees",
            "green_area",
            "cool_roofs",
            "green_roofs",
            "water_surface",
            "desealing",
            "dimming_schedule",
            "switch_off",
            "led_retrofit",
            "shopping_centre",
            "pedestrianise",
            "new_parking",
            "vacancy_tax",
            "pipe_break",
            "substation_outage",
        }:
            continue  # the discriminator tag pydantic adds to union paths
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def format_validation_error(exc: ValidationError, where: str) -> str:
    """One message listing every problem of a scenario with its path."""
    lines = []
    for e in exc.errors():
        text = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            text = "unknown field"
        elif e["type"] == "union_tag_invalid":
            ctx = e.get("ctx", {})
            text = (
                f"unknown intervention type {ctx.get('tag')!r}; use one of "
                f"{ctx.get('expected_tags')}"
            )
        lines.append(f"  - {_loc(e['loc'])}: {text}")
    return (
        f"{where}: {len(lines)} problem(s) in the scenario:\n"
        + "\n".join(lines)
        + "\nFix: correct these fields (the JSON Schema is printed by `twin schema scenario`)."
    )


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "twin scenario"
    return schema
