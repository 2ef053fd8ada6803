"""Simulations: one module or subpackage per domain, each a plugin (see :mod:`twin.sims.base`)."""

from twin.sims.base import KPI, NoticeText, SimResult, Simulation
from twin.sims.registry import get_simulation, registry

__all__ = ["KPI", "NoticeText", "SimResult", "Simulation", "get_simulation", "registry"]
