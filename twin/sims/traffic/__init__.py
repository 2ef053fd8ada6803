"""Traffic: static user-equilibrium assignment and the rerouting simulation."""

from twin.sims.traffic.assign import AssignmentResult, assign, node_balance

__all__ = ["AssignmentResult", "assign", "node_balance"]
