"""Electricity networks: supply connectivity and power flow (issue J), and the interventions
on energy networks."""

from twin.sims.power.sim import Power, PowerParams

__all__ = ["Power", "PowerParams"]
