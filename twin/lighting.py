"""Street lighting, the public facade: photometry files, illuminance, compliance, energy.

>>> from twin import lighting
>>> phot = lighting.default_photometry("road")
>>> round(phot.flux_integral_lm())
1000

Functions
---------
read_ldt, parse_ldt, write_ldt
    EULUMDAT photometric files (:mod:`twin.io.ldt`).
default_photometry
    ASSUMED analytic photometries per lamp family.
illuminance
    Horizontal illuminance [lx] at ground points (numba, cut-off radius, spatial index).
road_grid, en13201_grid
    Calculation points on streets (regular, or EN 13201-3).
compliance, CLASSES
    Per-segment EN 13201-2 compliance and the class table.
energy, sun_times, night_clock, lamp_energy, parse_schedule
    Astronomical clock, schedules, annual kWh, €, CO₂ and peak kW per cabinet.
"""

from __future__ import annotations

from twin.io.ldt import Photometry, parse_ldt, read_ldt, write_ldt
from twin.sims.lighting.compliance import CLASSES, LightingClass, compliance, step_down
from twin.sims.lighting.energy import (
    DEFAULT_EMISSION_KG_KWH,
    DEFAULT_TARIFF_EUR_KWH,
    energy,
    lamp_energy,
    night_clock,
    parse_schedule,
    parse_switch_off,
    sun_times,
)
from twin.sims.lighting.grid import RoadPoints, en13201_grid, road_grid
from twin.sims.lighting.photometry import FAMILIES, default_photometry, illuminance
from twin.sims.lighting.sim import Lighting, orient_lamps

__all__ = [
    "CLASSES",
    "DEFAULT_EMISSION_KG_KWH",
    "DEFAULT_TARIFF_EUR_KWH",
    "FAMILIES",
    "Lighting",
    "LightingClass",
    "Photometry",
    "RoadPoints",
    "compliance",
    "default_photometry",
    "en13201_grid",
    "energy",
    "illuminance",
    "lamp_energy",
    "night_clock",
    "orient_lamps",
    "parse_ldt",
    "parse_schedule",
    "parse_switch_off",
    "read_ldt",
    "road_grid",
    "step_down",
    "sun_times",
    "write_ldt",
]
