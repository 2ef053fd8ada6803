"""Street lighting: photometry, illuminance, EN 13201 compliance, energy and the plugin.

See :mod:`twin.lighting` for the public functions and :class:`~twin.sims.lighting.sim.Lighting`
for the simulation (name ``lighting``).
"""

from __future__ import annotations

from twin.sims.lighting.sim import Lighting, LightingParams

__all__ = ["Lighting", "LightingParams"]
