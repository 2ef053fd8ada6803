"""Traffic: static user-equilibrium assignment and the rerouting simulation."""

from twin.sims.traffic.assign import AssignmentResult, PathSet, assign, node_balance
from twin.sims.traffic.od import read_od

__all__ = ["AssignmentResult", "PathSet", "assign", "node_balance", "read_od"]
