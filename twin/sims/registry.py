"""The registry of simulations: the built-in ones and the ``twin.simulations`` entry points.

A plugin that fails to load, or names a simulation already registered, is skipped with a
:class:`~twin.errors.TwinWarning` naming it, so that one broken package does not stop twin.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

from twin.errors import SchemaError, TwinWarning, message
from twin.sims.base import Simulation
from twin.sims.plugins import load_entry_points


def _builtin() -> dict[str, type[Simulation]]:
    from twin.sims.accessibility import Accessibility
    from twin.sims.commerce.sim import Commerce
    from twin.sims.heat.sim import Heat
    from twin.sims.landcover import LandCover
    from twin.sims.lighting import Lighting
    from twin.sims.power import Power
    from twin.sims.shop_access import ShopAccess
    from twin.sims.traffic.sim import Traffic
    from twin.sims.water.sim import Water

    return {
        c.name: c
        for c in (
            Accessibility,
            Commerce,
            Heat,
            LandCover,
            Lighting,
            Power,
            ShopAccess,
            Traffic,
            Water,
        )
    }


@lru_cache(maxsize=1)
def registry() -> dict[str, type[Simulation]]:
    """All simulations: built-in ones and the ``twin.simulations`` entry points.

    A plugin named like a simulation already registered is warned about and skipped.
    """
    reg = _builtin()
    for name, cls in load_entry_points("twin.simulations"):
        if name in reg:
            warnings.warn(
                f"simulation plugin '{name}' duplicates a registered simulation and is skipped",
                TwinWarning,
                stacklevel=2,
            )
            continue
        reg[name] = cls
    return reg


def refresh_registries() -> None:
    """Forget the cached registries (after installing a plugin in a running process)."""
    from twin.sims.interventions import intervention_registry

    registry.cache_clear()
    intervention_registry.cache_clear()


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
