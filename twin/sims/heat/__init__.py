"""Urban heat island simulation: TARGET-family local-scale urban energy balance."""

from twin.sims.heat.model import simulate

__all__ = ["simulate"]
