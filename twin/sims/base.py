"""Simulation plugins: what every simulation declares, and the registry.

A simulation is a class with:

* ``name`` — the name scenario files use;
* ``requires`` — twin layers it reads, as ``{role: kind}``; the layer names are parameters
  (``<role>_layer``) so a twin may call its roads ``streets``;
* ``inputs`` / ``outputs`` — names of outputs it consumes from / offers to other
  simulations in the same run (the runner orders simulations from these);
  ``optional_inputs`` are consumed only when a simulation of the run offers them;
* ``params_model`` — a pydantic model of its parameters (validated before anything runs);
* ``notice`` — plain-language text for the algorithm notice, in French and English;
* ``run(twin, params, inputs, rng)`` → :class:`SimResult`.

Built-in simulations are registered in :data:`BUILTIN`; others come from the
``twin.simulations`` entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from twin.errors import SchemaError, message
from twin.model.layer import Layer
from twin.model.twin import Twin


@dataclass
class KPI:
    """A key performance indicator."""

    name: str
    value: float
    unit: str
    description: str
    better: str = "neutral"  # "lower", "higher" or "neutral"


@dataclass
class SimResult:
    """What a simulation returns: output layers (by output name) and KPIs."""

    outputs: dict[str, Layer] = field(default_factory=dict)
    kpis: list[KPI] = field(default_factory=list)


class Params(BaseModel):
    """Base of simulation parameter models (unknown parameters are errors)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class NoticeText:
    """Plain-language description of a simulation for the algorithm notice."""

    purpose: str
    method: str
    limits: str


class Simulation:
    """Base class of simulation plugins."""

    name: ClassVar[str]
    title: ClassVar[dict[str, str]]
    requires: ClassVar[dict[str, str]] = {}
    inputs: ClassVar[tuple[str, ...]] = ()
    optional_inputs: ClassVar[tuple[str, ...]] = ()  # used when another simulation offers them
    outputs: ClassVar[tuple[str, ...]] = ()
    kpi_names: ClassVar[tuple[str, ...]] = ()
    #: KPIs also reported per zone as ``name[zone]`` (zone names are known at run time only)
    zone_kpis: ClassVar[tuple[str, ...]] = ()
    kpi_fr: ClassVar[dict[str, str]] = {}  # French KPI descriptions for the notice
    params_model: ClassVar[type[Params]] = Params
    #: when True, a scenario run also passes the parent run's outputs of the simulation's own
    #: output names as ``inputs["parent:<name>"]`` (warm starts, models fitted on the parent)
    warm_start: ClassVar[bool] = False
    notice: ClassVar[dict[str, NoticeText]]

    def layer_names(self, params: Params) -> dict[str, str]:
        """Twin layer name of each required role (parameter ``<role>_layer``)."""
        return {role: getattr(params, f"{role}_layer", role) for role in self.requires}

    def check(self, twin: Twin, params: Params) -> list[str]:
        """Problems that would stop the run (missing or wrong-kind layers)."""
        problems = []
        for role, lname in self.layer_names(params).items():
            kind = self.requires[role]
            if lname not in twin:
                problems.append(
                    f"{self.name}: needs a {kind} layer '{lname}' ({role}); the twin has "
                    f"{sorted(twin.layers)} — set parameters.{self.name}.{role}_layer"
                )
            elif twin.layer(lname).kind != kind:
                problems.append(
                    f"{self.name}: layer '{lname}' is a {twin.layer(lname).kind}, not a {kind}"
                )
        return problems

    def run(
        self, twin: Twin, params: Any, inputs: dict[str, Layer], rng: np.random.Generator
    ) -> SimResult:
        """Run the simulation on a (scenario) twin."""
        raise NotImplementedError


def _builtin() -> dict[str, type[Simulation]]:
    from twin.sims.accessibility import Accessibility
    from twin.sims.commerce.sim import Commerce
    from twin.sims.heat.sim import Heat
    from twin.sims.landcover import LandCover
    from twin.sims.lighting import Lighting
    from twin.sims.shop_access import ShopAccess
    from twin.sims.traffic.sim import Traffic

    return {
        c.name: c for c in (Accessibility, Commerce, Heat, LandCover, Lighting, ShopAccess, Traffic)
    }


@lru_cache(maxsize=1)
def registry() -> dict[str, type[Simulation]]:
    """All simulations: built-in ones and the ``twin.simulations`` entry points."""
    reg = _builtin()
    for ep in entry_points(group="twin.simulations"):
        reg[ep.name] = ep.load()
    return reg


def get_simulation(name: str, where: str = "simulations") -> Simulation:
    """Instantiate the simulation ``name``.

    Raises
    ------
    SchemaError
        Listing the known simulations.
    """
    reg = registry()
    if name not in reg:
        msg = message(f"unknown simulation '{name}'", where=where, fix=f"use one of {sorted(reg)}")
        raise SchemaError(msg)
    return reg[name]()
