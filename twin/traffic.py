"""Public traffic API: ``twin.traffic.assign`` (see :mod:`twin.sims.traffic.assign`)."""

from twin.sims.traffic.assign import AssignmentResult, assign, node_balance

__all__ = ["AssignmentResult", "assign", "node_balance"]
