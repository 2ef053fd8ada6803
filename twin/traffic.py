"""Public traffic API: ``twin.traffic.assign`` (see :mod:`twin.sims.traffic.assign`)."""

from twin.sims.traffic.assign import AssignmentResult, PathSet, assign, node_balance
from twin.sims.traffic.od import read_od

__all__ = ["AssignmentResult", "PathSet", "assign", "node_balance", "read_od"]
