"""Public traffic API.

:func:`assign` (:func:`twin.sims.traffic.assign.assign`) computes the static user
equilibrium of an OD demand on a link table, by path-based gradient projection unless told
otherwise; :func:`read_od` reads a demand; :func:`node_balance` checks flow conservation.
"""

from twin.sims.traffic.assign import ALGORITHMS, assign
from twin.sims.traffic.inputs import node_balance
from twin.sims.traffic.od import read_od
from twin.sims.traffic.problem import AssignmentResult, PathSet, TreeSet

__all__ = [
    "ALGORITHMS",
    "AssignmentResult",
    "PathSet",
    "TreeSet",
    "assign",
    "node_balance",
    "read_od",
]
