"""Street-lighting interventions, read by the lighting simulation.

Lamps: ``schedule`` holds a JSON list of ``[HH:MM, level]`` steps, ``switch_off`` a JSON
``[start, end]`` window; an LED retrofit rewrites ``power_w`` (the old value kept in
``power_w_before``), ``lamp_technology`` and ``retrofit_cost_eur``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from twin.errors import SchemaError, message
from twin.model.twin import Twin
from twin.sims.interventions import Done, Intervention, InterventionSpec, Strict, Target
from twin.sims.targets import select

#: Share of the old power an LED retrofit draws when neither power_w nor power_factor is given.
ASSUMED_LED_POWER_FACTOR = 0.4


class ScheduleStep(Strict):
    """From ``start`` (HH:MM, local time) the lamps run at ``level`` of full power."""

    start: dt.time
    level: float = Field(ge=0, le=1, description="must be between 0 and 1")

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not 0 <= v <= 1:
            raise ValueError("must be between 0 and 1")
        return v


class DimmingSchedule(Intervention):
    """A night dimming schedule for selected lamps."""

    type: Literal["dimming_schedule"]
    target: Target
    schedule: list[ScheduleStep] = Field(min_length=1, max_length=96)

    @field_validator("schedule")
    @classmethod
    def _one_level_per_time(cls, v: list[ScheduleStep]) -> list[ScheduleStep]:
        starts = [s.start for s in v]
        twice = sorted({t.strftime("%H:%M") for t in starts if starts.count(t) > 1})
        if twice:
            msg = f"the start times {twice} appear more than once; give one level per time"
            raise ValueError(msg)
        return v


class SwitchOff(Intervention):
    """Switch lamps off between two times of night."""

    type: Literal["switch_off"]
    target: Target
    start: dt.time
    end: dt.time


class LedRetrofit(Intervention):
    """Replace lamps by LED luminaires."""

    type: Literal["led_retrofit"]
    target: Target
    power_w: float | None = Field(None, gt=0, le=2000)
    power_factor: float | None = Field(None, gt=0, le=1, description="new power / old power")
    cost_eur_per_lamp: float = Field(600.0, ge=0, le=100_000)


def _lamps(twin: Twin, target: Target, where: str) -> tuple[Any, Any]:
    frame = twin.layer(target.layer).data if target.layer in twin else None
    ids = select(twin, target, f"{where}.target")
    if frame is None or "power_w" not in frame:
        msg = message(
            f"'{target.layer}' is not a street-lighting inventory",
            where=f"{where}.target.layer",
            fix="target a layer loaded with lighting.inventory or osm.street_lamps",
        )
        raise SchemaError(msg)
    return frame, ids


def dimming_schedule(twin: Twin, iv: DimmingSchedule, where: str) -> Done:
    """Write the schedule into the target lamps' ``schedule`` column."""
    lamps, ids = _lamps(twin, iv.target, where)
    steps = [[st.start.strftime("%H:%M"), st.level] for st in iv.schedule]
    lamps.loc[ids, "schedule"] = json.dumps(steps)
    return Done(
        f"dimming schedule {steps} on {len(ids)} lamps",
        f"programme de gradation {steps} sur {len(ids)} points lumineux",
    )


def switch_off(twin: Twin, iv: SwitchOff, where: str) -> Done:
    """Write the switch-off window into the target lamps' ``switch_off`` column."""
    lamps, ids = _lamps(twin, iv.target, where)
    if "switch_off" not in lamps:
        lamps["switch_off"] = None
    window = [iv.start.strftime("%H:%M"), iv.end.strftime("%H:%M")]
    lamps.loc[ids, "switch_off"] = json.dumps(window)
    return Done(
        f"switched off {len(ids)} lamps from {window[0]} to {window[1]}",
        f"{len(ids)} points lumineux éteints de {window[0]} à {window[1]}",
    )


def led_retrofit(twin: Twin, iv: LedRetrofit, where: str) -> Done:
    """Give the target lamps their LED power, technology and retrofit cost."""
    lamps, ids = _lamps(twin, iv.target, where)
    old = lamps.loc[ids, "power_w"].astype(float)
    if iv.power_factor is not None:
        new: Any = old * iv.power_factor
    else:
        new = iv.power_w if iv.power_w is not None else old * ASSUMED_LED_POWER_FACTOR
    if "power_w_before" not in lamps:
        lamps["power_w_before"] = lamps["power_w"].astype(float)
    lamps.loc[ids, "power_w"] = new
    lamps.loc[ids, "lamp_technology"] = "led"
    if "retrofit_cost_eur" not in lamps:
        lamps["retrofit_cost_eur"] = 0.0
    lamps.loc[ids, "retrofit_cost_eur"] = iv.cost_eur_per_lamp
    given = bool(iv.power_factor or iv.power_w)
    share = f"{100 * ASSUMED_LED_POWER_FACTOR:.0f} %"
    rule = "" if given else f" (ASSUMED {share} of old power)"
    rule_fr = "" if given else f" (HYPOTHÈSE : {share} de l'ancienne puissance)"
    kw = f"{old.sum() / 1e3:,.1f} kW → {float(np.sum(new)) / 1e3:,.1f} kW"
    return Done(
        f"LED retrofit of {len(ids)} lamps: {kw}{rule}",
        f"passage en LED de {len(ids)} points lumineux : {kw}{rule_fr}",
    )


INTERVENTIONS = (
    InterventionSpec(DimmingSchedule, dimming_schedule),
    InterventionSpec(SwitchOff, switch_off),
    InterventionSpec(LedRetrofit, led_retrofit),
)

#: The intervention types of this module, read by the lighting simulation.
LIGHTING_INTERVENTIONS = tuple(spec.type for spec in INTERVENTIONS)
