"""The power model: supply connectivity of a network's tables, and the pandapower power flow.

**Connectivity** (:func:`supply`). A node is energised when it is in service and reachable
from an in-service source node through links that are in service and closed
(:func:`twin.kernels.connectivity.energised`). Sources are the nodes flagged ``is_source``
(pandapower: external grids and slack generators), or, in a network without that column
(the ``energy.lines`` loader), its substation nodes (``node_type == "substation"``).

**Power flow** (:func:`power_flow`). The network's pandapower net
(:class:`~twin.model.network.EngineModel`) gets the state of the tables — bus and branch
``in_service``, switch positions, electric-vehicle load — and pandapower's Newton–Raphson
load flow (``pandapower.runpp``) gives bus voltages and branch loadings. A flow that does not
converge is a result (``converged = False``), not an error.
"""

from __future__ import annotations

import copy
import warnings
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from twin.kernels.connectivity import SupplyState, energised, symmetric_adjacency
from twin.model.network import Network

#: Node columns of loads a scenario adds [MW], and the name of their pandapower load (at
#: unity power factor, ASSUMED): electric-vehicle charging, heat-wave cooling.
ADDED_LOADS = {"ev_load_mw": "EV charging", "cooling_load_mw": "cooling (heat wave)"}

#: pandapower table and switch element code of each branch link type.
BRANCHES = {"line": ("line", "l"), "trafo": ("trafo", "t")}


def _flag(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Boolean column ``col`` of ``frame`` (True where the column is absent or empty)."""
    if col not in frame:
        return np.ones(len(frame), dtype=bool)
    return frame[col].fillna(True).astype(bool).to_numpy()


def source_nodes(nodes: pd.DataFrame) -> np.ndarray:
    """Which nodes feed the network (see the module docstring)."""
    if "is_source" in nodes:
        return nodes["is_source"].fillna(False).astype(bool).to_numpy()
    if "node_type" in nodes:
        return (nodes["node_type"] == "substation").to_numpy()
    return np.zeros(len(nodes), dtype=bool)


def supply(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Energised nodes and conducting links of a network in its current state.

    Parameters
    ----------
    net : Network
        Nodes with optional ``in_service``, ``is_source``/``node_type``; links with optional
        ``in_service`` and ``closed``.

    Returns
    -------
    energised : ndarray of bool, shape (n_nodes,)
    link_ok : ndarray of bool, shape (n_links,)
        Links in service and closed.
    """
    pos = pd.Index(net.nodes.index)
    a = pos.get_indexer(net.links["a_node"]).astype(np.int64)
    b = pos.get_indexer(net.links["b_node"]).astype(np.int64)
    link_ok = _flag(net.links, "in_service") & _flag(net.links, "closed")
    state = SupplyState(link_ok, _flag(net.nodes, "in_service"), source_nodes(net.nodes))
    return energised(symmetric_adjacency(a, b, len(pos)), state), link_ok


# -- pandapower ------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _parsed(text: str) -> Any:
    """The pandapower net of a JSON text, parsed once (parsing is most of a flow's time)."""
    import pandapower as pp

    return pp.from_json_string(text)


def engine_net(net: Network) -> Any:
    """A fresh pandapower net (a copy, free to modify) from the network's engine model."""
    assert net.model is not None and net.model.engine == "pandapower"
    return copy.deepcopy(_parsed(net.model.text))


def _set_branch_switches(pp_net: Any, et: str, branches: np.ndarray, closed: np.ndarray) -> None:
    """Set all switches of the branches whose ``closed`` differs from their switches' state
    (all closed) to it; leave the others as they are."""
    sw = pp_net.switch[pp_net.switch["et"] == et]
    if not len(sw):
        return
    want = pd.Series(closed, index=branches)
    now = sw["closed"].astype(bool).groupby(sw["element"]).all()
    target = want.reindex(now.index)
    changed = now.index[target.notna().to_numpy() & (now != target).to_numpy()]
    rows = sw.index[sw["element"].isin(changed)]
    pp_net.switch.loc[rows, "closed"] = sw.loc[rows, "element"].map(want).astype(bool)


def apply_state(pp_net: Any, net: Network) -> Any:
    """Write the tables' state onto ``pp_net`` (in place) and return it.

    Bus ``in_service`` from the nodes; line, transformer ``in_service`` and switch
    positions from the links (a branch whose ``closed`` differs from its switches' state
    gets all its switches set to it; an unchanged branch keeps them as they are); an
    each added load (:data:`ADDED_LOADS`: ``ev_load_mw``, ``cooling_load_mw``) > 0 becomes a
    load of that active power at unity power factor (ASSUMED).
    """
    nodes, links = net.nodes, net.links
    pp_net.bus.loc[nodes["pp_index"].to_numpy(), "in_service"] = _flag(nodes, "in_service")
    kind = links["link_type"].to_numpy()
    idx = links["pp_index"].to_numpy()
    in_service, closed = _flag(links, "in_service"), _flag(links, "closed")
    sw = kind == "switch"
    pp_net.switch.loc[idx[sw], "closed"] = closed[sw]
    for k, (table, et) in BRANCHES.items():
        sel = kind == k
        pp_net[table].loc[idx[sel], "in_service"] = in_service[sel]
        _set_branch_switches(pp_net, et, idx[sel], closed[sel])
    import pandapower as pp

    for col, name in ADDED_LOADS.items():
        if col in nodes:
            extra = nodes.loc[nodes[col].fillna(0) > 0]
            for bus, p in zip(extra["pp_index"], extra[col], strict=True):
                pp.create_load(pp_net, int(bus), p_mw=float(p), q_mvar=0.0, name=name)
    return pp_net


class FlowResult(NamedTuple):
    """A power-flow result on the network's ids.

    Attributes
    ----------
    converged : bool
    vm_pu : Series
        Voltage magnitude per node [p.u.] (NaN where not energised or not converged).
    loading_percent : Series
        Loading per link [%] (lines: current over ``max_i_ka``; transformers: apparent
        power over ``sn_mva``; NaN for switches and when not converged).
    message : str
        pandapower's message when the flow did not converge, else ``""``.
    """

    converged: bool
    vm_pu: pd.Series
    loading_percent: pd.Series
    message: str


def power_flow(net: Network, *, max_iteration: int, tolerance_mva: float) -> FlowResult:
    """Run pandapower's Newton–Raphson power flow on the network in its current state.

    Parameters
    ----------
    net : Network
        A network with a pandapower engine model and ``pp_index`` columns.
    max_iteration : int
        Newton–Raphson iterations before giving up.
    tolerance_mva : float
        Largest power mismatch accepted [MVA].

    Returns
    -------
    FlowResult
    """
    import pandapower as pp
    from pandapower.powerflow import LoadflowNotConverged

    pp_net = apply_state(engine_net(net), net)
    vm = pd.Series(np.nan, index=net.nodes.index, name="vm_pu")
    loading = pd.Series(np.nan, index=net.links.index, name="loading_percent")
    try:
        with warnings.catch_warnings():
            # pandapower 3 warns that nets saved before 3.0 lack its tap_dependency_table
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="pandapower")
            pp.runpp(
                pp_net, algorithm="nr", max_iteration=max_iteration, tolerance_mva=tolerance_mva
            )
    except LoadflowNotConverged as exc:
        return FlowResult(False, vm, loading, str(exc) or "power flow did not converge")
    vm[:] = pp_net.res_bus["vm_pu"].reindex(net.nodes["pp_index"]).to_numpy()
    for kind, (table, _) in BRANCHES.items():
        sel = (net.links["link_type"] == kind).to_numpy()
        res = pp_net[f"res_{table}"]["loading_percent"]
        loading[sel] = res.reindex(net.links.loc[sel, "pp_index"]).to_numpy()
    return FlowResult(True, vm, loading, "")


_LINE_PARAMS = ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka", "length_km")
_TRAFO_PARAMS = ("sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent")


def electrical_problems(net: Network) -> list[str]:
    """What stops a power flow on ``net``: no pandapower model, no slack, missing parameters.

    Returns
    -------
    list of str
        One sentence per problem (empty when a power flow can run).
    """
    if net.model is None or net.model.engine != "pandapower":
        return ["the network has no pandapower model (read it with the 'pandapower' loader)"]
    pp_net = engine_net(net)
    out = []
    slack = "slack" in pp_net.gen and bool(pp_net.gen["slack"].astype(bool).any())
    if not len(pp_net.ext_grid) and not slack:
        out.append("the pandapower net has no external grid nor slack generator")
    if not (np.isfinite(pp_net.bus["vn_kv"].astype(float)) & (pp_net.bus["vn_kv"] > 0)).all():
        out.append("some buses have no rated voltage vn_kv")
    for table, cols in (("line", _LINE_PARAMS), ("trafo", _TRAFO_PARAMS)):
        frame = pp_net[table]
        for c in cols:
            if c not in frame:
                out.append(f"{table}.{c} is missing")
                continue
            values = pd.to_numeric(frame[c], errors="coerce").astype(float)
            bad = frame.index[~np.isfinite(values.to_numpy())]
            if len(bad):
                out.append(f"{table}.{c} is missing on {len(bad)} {table}s ({bad[:5].tolist()})")
    return out
