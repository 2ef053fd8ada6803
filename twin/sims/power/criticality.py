"""N-1 criticality of an electricity network by connectivity: what each single failure cuts off.

Every conducting link (line, transformer, closed switch) and every in-service source node
(substation, external grid) fails in turn, alone, from the network's current state (a
scenario's outages and switchings included); the nodes that lose their connection to every
source, and their load, are what the failure cuts off
(:func:`twin.kernels.connectivity.single_failures`). An element whose failure cuts load off
has no back-up path: it is *critical*. The rank orders elements by load cut off, then by
nodes. The power-flow consequences of each failure (overloads on the back-up path) are
another sweep, run on the Dask batch engine (:mod:`twin.batch.criticality`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.kernels.connectivity import (
    FailureLoss,
    Failures,
    SupplyState,
    single_failures,
    symmetric_adjacency,
)
from twin.model.network import Network
from twin.sims.power.flow import ADDED_LOADS, _flag, source_nodes


def node_load_mw(nodes: pd.DataFrame) -> np.ndarray:
    """Active load of each node [MW]: ``load_mw`` plus the loads a scenario adds
    (:data:`~twin.sims.power.flow.ADDED_LOADS`; 0 where absent)."""
    out = np.zeros(len(nodes))
    for col in ("load_mw", *ADDED_LOADS):
        if col in nodes:
            out += pd.to_numeric(nodes[col], errors="coerce").fillna(0.0).to_numpy(float)
    return out


def _sweep(net: Network, failures: Failures) -> FailureLoss:
    pos = pd.Index(net.nodes.index)
    a = pos.get_indexer(net.links["a_node"]).astype(np.int64)
    b = pos.get_indexer(net.links["b_node"]).astype(np.int64)
    link_ok = _flag(net.links, "in_service") & _flag(net.links, "closed")
    state = SupplyState(link_ok, _flag(net.nodes, "in_service"), source_nodes(net.nodes))
    adj = symmetric_adjacency(a, b, len(pos))
    return single_failures(adj, state, failures, node_load_mw(net.nodes))


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``critical`` (1 when the failure cuts load or nodes off) and ``rank`` (1 = worst)."""
    frame["critical"] = (frame["nodes_cut"] > 0).astype(np.int8)
    order = frame.sort_values(["load_cut_mw", "nodes_cut"], ascending=False, kind="stable")
    frame.loc[order.index, "rank"] = np.arange(1, len(frame) + 1)
    frame["rank"] = frame["rank"].astype(np.int64)
    return frame


def link_criticality(net: Network) -> gpd.GeoDataFrame:
    """Each conducting link failing alone: ``element`` (link type), ``nodes_cut``,
    ``load_cut_mw`` [MW], ``critical`` and ``rank``, on the link's geometry."""
    links = net.links
    ok = np.flatnonzero(_flag(links, "in_service") & _flag(links, "closed"))
    failures = Failures(
        np.arange(len(ok) + 1, dtype=np.int64),
        ok.astype(np.int64),
        np.zeros(len(ok) + 1, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
    )
    loss = _sweep(net, failures)
    kind = links["link_type"] if "link_type" in links else pd.Series("line", index=links.index)
    frame = pd.DataFrame(
        {
            "element": kind.iloc[ok].astype(str).to_numpy(),
            "nodes_cut": loss.nodes_lost,
            "load_cut_mw": loss.weight_lost,
        },
        index=links.index[ok].astype(str),
    )
    return gpd.GeoDataFrame(_ranked(frame), geometry=links.geometry.iloc[ok].to_numpy(),
                            crs=links.crs)  # fmt: skip


def source_criticality(net: Network) -> gpd.GeoDataFrame:
    """Each in-service source node failing alone (its node out of service), as
    :func:`link_criticality`, on the node's point."""
    nodes = net.nodes
    src = np.flatnonzero(source_nodes(nodes) & _flag(nodes, "in_service"))
    failures = Failures(
        np.zeros(len(src) + 1, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.arange(len(src) + 1, dtype=np.int64),
        src.astype(np.int64),
    )
    loss = _sweep(net, failures)
    name = nodes["substation"] if "substation" in nodes else nodes.get("name")
    frame = pd.DataFrame(
        {
            "element": "source",
            "name": None if name is None else name.iloc[src].astype(object).to_numpy(),
            "nodes_cut": loss.nodes_lost,
            "load_cut_mw": loss.weight_lost,
        },
        index=nodes.index[src].astype(str),
    )
    return gpd.GeoDataFrame(_ranked(frame), geometry=nodes.geometry.iloc[src].to_numpy(),
                            crs=nodes.crs)  # fmt: skip
