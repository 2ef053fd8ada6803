"""Which nodes of an undirected network are connected to a source: breadth-first search.

The network is given as a symmetric CSR adjacency (every undirected link appears twice, once
from each end), with the position of the link behind each half-edge so that a link taken out
(outage, open switch) is skipped in both directions. A node is **energised** when it is in
service and reachable from an in-service source node through usable links and in-service
nodes. This is the rule of ``pandapower.topology.unsupplied_buses`` (connected components of
the graph of in-service buses and closed, in-service branches that hold no slack bus), which
the tests use as an oracle on pandapower's ``mv_oberrhein`` network.

References
----------
Thurner, L. et al. (2018). pandapower — an open-source Python tool for convenient modeling,
analysis, and optimization of electric power systems. *IEEE Transactions on Power Systems*
33(6), 6510–6521.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class Adjacency(NamedTuple):
    """Symmetric CSR adjacency of an undirected network.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_nodes + 1,)
        Half-edges leaving node ``i`` are ``indptr[i]:indptr[i + 1]``.
    heads : ndarray of int64, shape (2 * n_links,)
        Node position at the far end of each half-edge.
    link : ndarray of int64, shape (2 * n_links,)
        Link position of each half-edge (both half-edges of a link share it).
    """

    indptr: np.ndarray
    heads: np.ndarray
    link: np.ndarray


class SupplyState(NamedTuple):
    """What is usable in a supply state.

    Attributes
    ----------
    link_ok : ndarray of bool, shape (n_links,)
        Links that conduct (in service and closed).
    node_ok : ndarray of bool, shape (n_nodes,)
        Nodes in service.
    source : ndarray of bool, shape (n_nodes,)
        Nodes that feed the network (external grids, slack generators, substations).
    """

    link_ok: np.ndarray
    node_ok: np.ndarray
    source: np.ndarray


@njit(cache=True)
def _reach(
    indptr: np.ndarray,
    heads: np.ndarray,
    link: np.ndarray,
    link_ok: np.ndarray,
    node_ok: np.ndarray,
    source: np.ndarray,
) -> np.ndarray:
    """Breadth-first search from every usable source at once (see :func:`energised`)."""
    n = indptr.shape[0] - 1
    seen = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.int64)
    tail = 0
    for i in range(n):
        if source[i] and node_ok[i]:
            seen[i] = True
            queue[tail] = i
            tail += 1
    head = 0
    while head < tail:
        u = queue[head]
        head += 1
        for k in range(indptr[u], indptr[u + 1]):
            v = heads[k]
            if seen[v] or not node_ok[v] or not link_ok[link[k]]:
                continue
            seen[v] = True
            queue[tail] = v
            tail += 1
    return seen


def energised(adj: Adjacency, state: SupplyState) -> np.ndarray:
    """Nodes connected to an in-service source through usable links and nodes.

    Parameters
    ----------
    adj : Adjacency
        Symmetric CSR adjacency (int64 arrays).
    state : SupplyState
        Usable links, in-service nodes and source nodes (bool arrays).

    Returns
    -------
    ndarray of bool, shape (n_nodes,)
        True where the node is energised.
    """
    return np.asarray(
        _reach(adj.indptr, adj.heads, adj.link, state.link_ok, state.node_ok, state.source)
    )


def symmetric_adjacency(a: np.ndarray, b: np.ndarray, n_nodes: int) -> Adjacency:
    """Symmetric CSR adjacency from link end positions.

    Parameters
    ----------
    a, b : ndarray of int64, shape (n_links,)
        Node positions of the two ends of each link.
    n_nodes : int
        Number of nodes.

    Returns
    -------
    Adjacency
        Half-edges sorted by their tail node (stable: link order within a node).
    """
    tails = np.concatenate([a, b]).astype(np.int64)
    heads = np.concatenate([b, a]).astype(np.int64)
    link = np.concatenate([np.arange(len(a)), np.arange(len(a))]).astype(np.int64)
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n_nodes), out=indptr[1:])
    return Adjacency(indptr, heads[order], link[order])


class Failures(NamedTuple):
    """Single failures to test, each a group of links and nodes taken out together (a pipe's
    valve segment, a substation and its transformers…), in CSR form.

    Attributes
    ----------
    link_ptr : ndarray of int64, shape (n_failures + 1,)
        Links of failure ``f`` are ``links[link_ptr[f]:link_ptr[f + 1]]``.
    links : ndarray of int64
        Link positions.
    node_ptr : ndarray of int64, shape (n_failures + 1,)
        Nodes of failure ``f`` are ``nodes[node_ptr[f]:node_ptr[f + 1]]``.
    nodes : ndarray of int64
        Node positions.
    """

    link_ptr: np.ndarray
    links: np.ndarray
    node_ptr: np.ndarray
    nodes: np.ndarray


class FailureLoss(NamedTuple):
    """What each single failure cuts off.

    Attributes
    ----------
    nodes_lost : ndarray of int64, shape (n_failures,)
        Nodes energised before the failure and not after (the failed nodes included).
    weight_lost : ndarray of float64, shape (n_failures,)
        Sum of the nodes' weights (demand, load, customers) over those nodes.
    """

    nodes_lost: np.ndarray
    weight_lost: np.ndarray


@njit(cache=True)
def _sweep(
    adj_parts: tuple[np.ndarray, np.ndarray, np.ndarray],
    state_parts: tuple[np.ndarray, np.ndarray, np.ndarray],
    fail_parts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Every failure in turn: take its links and nodes out, search, compare, put them back."""
    indptr, heads, link = adj_parts
    link_ok, node_ok, source = state_parts
    link_ptr, links, node_ptr, nodes = fail_parts
    lk = link_ok.copy()
    nk = node_ok.copy()
    base = _reach(indptr, heads, link, lk, nk, source)
    n_fail = link_ptr.shape[0] - 1
    lost = np.zeros(n_fail, dtype=np.int64)
    wlost = np.zeros(n_fail, dtype=np.float64)
    for f in range(n_fail):
        for k in range(link_ptr[f], link_ptr[f + 1]):
            lk[links[k]] = False
        for k in range(node_ptr[f], node_ptr[f + 1]):
            nk[nodes[k]] = False
        after = _reach(indptr, heads, link, lk, nk, source)
        for i in range(base.shape[0]):
            if base[i] and not after[i]:
                lost[f] += 1
                wlost[f] += weight[i]
        for k in range(link_ptr[f], link_ptr[f + 1]):
            lk[links[k]] = link_ok[links[k]]
        for k in range(node_ptr[f], node_ptr[f + 1]):
            nk[nodes[k]] = node_ok[nodes[k]]
    return lost, wlost


def single_failures(
    adj: Adjacency, state: SupplyState, failures: Failures, weight: np.ndarray
) -> FailureLoss:
    """What each single failure cuts off from the sources (an N-1 connectivity sweep).

    Parameters
    ----------
    adj : Adjacency
        Symmetric CSR adjacency.
    state : SupplyState
        The network as it is (before any failure).
    failures : Failures
        The failures, each a group of links and nodes.
    weight : ndarray of float64, shape (n_nodes,)
        Weight of each node (e.g. demand [m³/s], load [MW], customers).

    Returns
    -------
    FailureLoss
        Per failure: nodes energised before and not after, and the sum of their weights.
    """
    lost, wlost = _sweep(
        (adj.indptr, adj.heads, adj.link),
        (state.link_ok, state.node_ok, state.source),
        (failures.link_ptr, failures.links, failures.node_ptr, failures.nodes),
        np.asarray(weight, dtype=np.float64),
    )
    return FailureLoss(np.asarray(lost), np.asarray(wlost))


def link_failures(n_links: int) -> Failures:
    """One failure per link (each link alone), no node."""
    return Failures(
        np.arange(n_links + 1, dtype=np.int64),
        np.arange(n_links, dtype=np.int64),
        np.zeros(n_links + 1, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
    )
