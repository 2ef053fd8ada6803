"""N-1 power-flow sweep: each branch out alone, pandapower's power flow, what it overloads.

The connectivity sweep (:mod:`twin.sims.power.criticality`) says what a failure cuts off;
this one says what the back-up paths then carry. One call evaluates a list of links on one
pandapower net (parsed once, each element taken out and put back in place), so that a batch
engine can give each worker a share of the links (:mod:`twin.batch.criticality`).
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from twin.model.network import Network
from twin.sims.power.flow import BRANCHES, apply_state, engine_net


class FlowLimits(NamedTuple):
    """Settings of each power flow of a sweep.

    Attributes
    ----------
    max_iteration : int
        Newton–Raphson iterations.
    tolerance_mva : float
        Largest power mismatch accepted [MVA].
    max_loading_pct : float
        Loading above which a line is overloaded [%].
    """

    max_iteration: int = 30
    tolerance_mva: float = 1e-8
    max_loading_pct: float = 100.0


#: Columns of a sweep's result, one row per link taken out.
SWEEP_COLUMNS = ("converged", "min_vm_pu", "max_loading_pct", "overloaded_lines")


def _element(link_type: str) -> tuple[str, str]:
    """The pandapower table and column that take the link out of service."""
    if link_type == "switch":
        return "switch", "closed"
    return BRANCHES[link_type][0], "in_service"


def _one_flow(pp_net: Any, limits: FlowLimits) -> tuple[bool, float, float, int]:
    import pandapower as pp
    from pandapower.powerflow import LoadflowNotConverged

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="pandapower")
            pp.runpp(
                pp_net,
                algorithm="nr",
                max_iteration=limits.max_iteration,
                tolerance_mva=limits.tolerance_mva,
            )
    except LoadflowNotConverged:
        return False, np.nan, np.nan, 0
    loading = pp_net.res_line["loading_percent"]
    return (
        True,
        float(pp_net.res_bus["vm_pu"].min()),
        float(loading.max()),
        int((loading > limits.max_loading_pct).sum()),
    )


def outage_flows(net: Network, limits: FlowLimits, links: list[str]) -> pd.DataFrame:
    """The power flow with each of ``links`` out alone, from the network's current state.

    Parameters
    ----------
    net : Network
        A network with a pandapower engine model (``pp_index`` and ``link_type`` columns).
    limits : FlowLimits
    links : list of str
        Link ids to take out one at a time (lines, transformers, switches).

    Returns
    -------
    DataFrame
        Indexed by link id: ``converged`` (bool), ``min_vm_pu`` [p.u.], ``max_loading_pct``
        [%] of the lines, ``overloaded_lines``; NaN values when the flow did not converge.
    """
    pp_net = apply_state(engine_net(net), net)
    rows = []
    for link in links:
        table, col = _element(str(net.links.at[link, "link_type"]))
        i = int(net.links.at[link, "pp_index"])
        before = pp_net[table].at[i, col]
        pp_net[table].at[i, col] = False
        rows.append(_one_flow(pp_net, limits))
        pp_net[table].at[i, col] = before
    return pd.DataFrame(rows, columns=list(SWEEP_COLUMNS), index=pd.Index(links, name="id"))
