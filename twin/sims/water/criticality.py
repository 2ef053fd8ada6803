"""N-1 criticality of a water network by connectivity: what each pipe's break cuts off.

A break is repaired by shutting the valves around the pipe: its whole **valve segment** is
out (:func:`twin.sims.water.segments.isolation_sets`). Every pipe breaks in turn, alone, and
the junctions left with no path to a reservoir or tank (and their base demand, and the
buildings they serve) are what the break cuts off
(:func:`twin.kernels.connectivity.single_failures`). The search treats every open link as
two-way: a pump or check valve that could only feed a junction one way is taken as able to
feed it (an optimistic bound: the hydraulic sweep, :mod:`twin.batch.criticality`, has the
pressures). Pipes closed in the network (status ``Closed``) conduct nothing.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.kernels.connectivity import Failures, SupplyState, single_failures, symmetric_adjacency
from twin.model.network import Network
from twin.sims.water.segments import isolation_sets


def _failures(net: Network, sets: dict[str, list[str]]) -> Failures:
    """One failure per pipe of ``sets``: the links of its isolation set."""
    pos = pd.Index(net.links.index.astype(str))
    groups = [pos.get_indexer(links) for links in sets.values()]
    groups = [g[g >= 0] for g in groups]  # links twin added to the model are not in the table
    ptr = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum([len(g) for g in groups], out=ptr[1:])
    flat = np.concatenate(groups).astype(np.int64) if groups else np.zeros(0, np.int64)
    none = np.zeros(len(groups) + 1, dtype=np.int64)
    return Failures(ptr, flat, none, np.zeros(0, dtype=np.int64))


def pipe_criticality(
    net: Network, wn: Any, valves: pd.DataFrame, served: pd.Series | None = None
) -> gpd.GeoDataFrame:
    """Each pipe's break (its valve segment shut) and what it cuts off.

    Parameters
    ----------
    net : Network
        The water network's tables (``node_type``, ``base_demand_m3s``, ``status``).
    wn : wntr.network.WaterNetworkModel
        Its WNTR model (for the valve segments).
    valves : DataFrame
        The valve layer (``link``, ``node``).
    served : Series, optional
        Buildings served by each junction (index: junction id).

    Returns
    -------
    GeoDataFrame
        One row per pipe: ``segment_links`` (links shut), ``junctions_cut``,
        ``demand_cut_l_s`` [L/s] (base demand), ``buildings_cut`` (when ``served`` is given),
        ``critical`` (1 when something is cut off) and ``rank`` (1 = most demand cut off),
        on the pipe's geometry.
    """
    links, nodes = net.links, net.nodes
    pipes = links.index[links["link_type"] == "pipe"].astype(str).tolist()
    sets = isolation_sets(wn, valves, pipes)
    failures = _failures(net, sets)
    npos = pd.Index(nodes.index.astype(str))
    a = npos.get_indexer(links["a_node"].astype(str)).astype(np.int64)
    b = npos.get_indexer(links["b_node"].astype(str)).astype(np.int64)
    open_ = (links["status"].astype(str) != "Closed").to_numpy() if "status" in links else None
    kind = nodes["node_type"].astype(str)
    state = SupplyState(
        open_ if open_ is not None else np.ones(len(links), dtype=bool),
        np.ones(len(nodes), dtype=bool),
        kind.isin(["tank", "reservoir"]).to_numpy(),
    )
    adj = symmetric_adjacency(a, b, len(nodes))
    demand = pd.to_numeric(nodes["base_demand_m3s"], errors="coerce").fillna(0.0).to_numpy()
    is_junction = (kind == "junction").to_numpy().astype(float)
    cut = single_failures(adj, state, failures, is_junction)
    lost = single_failures(adj, state, failures, demand)
    frame = pd.DataFrame(
        {
            "segment_links": [len(sets[p]) for p in pipes],
            "junctions_cut": cut.weight_lost.round().astype(np.int64),
            "demand_cut_l_s": lost.weight_lost * 1000.0,
        },
        index=pd.Index(pipes, name="id"),
    )
    if served is not None:
        w = served.reindex(npos).fillna(0).to_numpy(dtype=float)
        frame["buildings_cut"] = single_failures(adj, state, failures, w).weight_lost.round()
    frame["critical"] = (frame["junctions_cut"] > 0).astype(np.int8)
    order = frame.sort_values(["demand_cut_l_s", "junctions_cut"], ascending=False, kind="stable")
    frame.loc[order.index, "rank"] = np.arange(1, len(frame) + 1)
    frame["rank"] = frame["rank"].astype(np.int64)
    geom = links.set_axis(links.index.astype(str)).loc[pipes].geometry.to_numpy()
    return gpd.GeoDataFrame(frame, geometry=geom, crs=links.crs)
