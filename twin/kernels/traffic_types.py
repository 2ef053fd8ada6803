"""Bundles of arrays the traffic kernels take: named tuples (numba passes them to compiled
functions as they are, field by field, at no cost).

Node and link *positions* index the arrays below; flows are in veh/h and costs in the time
unit of the free-flow times. The forms are those of :mod:`twin.kernels.traffic` (network,
demand), :mod:`twin.kernels.path_store` (paths) and :mod:`twin.kernels.sp_update` (trees).
A kernel that grows a store returns a new tuple over the grown arrays.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Network(NamedTuple):
    """A road network in CSR form over its open links, with link costs ``a + b·vᵖ``.

    The BPR cost ``t0·(1 + α·(v/c)^β)`` is the case ``a = t0``, ``b = t0·α/c^β``, ``p = β``.
    """

    #: Offsets of each node's leaving links in the CSR arrays (n_nodes + 1).
    indptr: np.ndarray
    #: Head node of each CSR entry.
    heads: np.ndarray
    #: Link position of each CSR entry.
    clink: np.ndarray
    #: Tail node of each link.
    tails: np.ndarray
    #: Free-flow cost of each link [time unit].
    a: np.ndarray
    #: Coefficient of the flow term of each link [time unit / (veh/h)ᵖ].
    b: np.ndarray
    #: Exponent of the flow term of each link [-].
    p: np.ndarray
    #: Whether each link is open (bool).
    live: np.ndarray
    #: Nodes reached but never passed through (zones), except as a tree's origin (bool).
    barred: np.ndarray


class Demand(NamedTuple):
    """OD pairs grouped by origin: the pairs of origin ``origins[k]`` are
    ``od_ptr[k]:od_ptr[k + 1]``."""

    #: Node of each origin.
    origins: np.ndarray
    #: Offsets of each origin's pairs (n_origins + 1).
    od_ptr: np.ndarray
    #: Destination node of each pair.
    od_dest: np.ndarray
    #: Trips of each pair [veh/h].
    od_trips: np.ndarray


class PathStore(NamedTuple):
    """Used paths, one linked list per OD pair (:mod:`twin.kernels.path_store`).

    Path ``q`` has ``pn[q]`` links from ``pl[ps[q]]`` (from the destination back to the
    origin) and carries ``pf[q]`` [veh/h]; pair ``j``'s paths are ``head[j]``,
    ``nxt[head[j]]``, … until -1. The arrays may be longer than the ``n_paths`` paths and
    ``n_links`` links in use.
    """

    head: np.ndarray
    nxt: np.ndarray
    ps: np.ndarray
    pn: np.ndarray
    pf: np.ndarray
    pl: np.ndarray
    n_paths: int
    n_links: int


class TreeStore(NamedTuple):
    """Shortest-path trees, one row per origin (:mod:`twin.kernels.sp_update`)."""

    #: Reaching link of each node (-1: root or unreached), (rows, n_nodes).
    pred: np.ndarray
    #: Nodes with every parent before its children, (rows, n_nodes).
    order: np.ndarray
    #: Used length of each row of ``order``.
    reached: np.ndarray
    #: Whether each row holds a tree of this network (bool).
    have: np.ndarray


class TreeSource(NamedTuple):
    """Trees of a previous solve (read only) that rows flagged in ``to_copy`` start from
    (``to_copy`` empty: none; :func:`twin.kernels.sp_update.take_row`)."""

    pred: np.ndarray
    order: np.ndarray
    to_copy: np.ndarray


class LinkState(NamedTuple):
    """Link flows [veh/h], costs [time unit] and cost derivatives [time unit per veh/h], kept
    in step as flow moves, and the link marks of :func:`twin.kernels.path_moves.shift`."""

    x: np.ndarray
    t: np.ndarray
    dt: np.ndarray
    mark: np.ndarray


class GpOptions(NamedTuple):
    """Options of :func:`twin.kernels.traffic_paths.gp_solve`."""

    #: Target relative gap [-].
    rgap: float
    #: Maximum number of iterations (tree sweeps).
    max_iter: int
    #: Extra re-balancing sweeps over the stored paths per iteration.
    inner: int
    #: Each iteration sweeps the origins holding the largest excess cost until the others
    #: hold at most ``1 − sweep_share`` of the total, or half the excess the target gap
    #: allows (``rgap·TSTT/2``), whichever is larger [-].
    sweep_share: float
    #: When the pairs that hold that share of the excess, counted pair by pair, are at most
    #: this share of all pairs, the iteration sweeps these pairs alone
    #: (:func:`twin.kernels.gp_pairs.pair_sweep`; only with ``keep_trees``) [-].
    pair_share: float
    #: A warm start re-balances, before its first gap check, the origins holding this share
    #: of the excess cost bound of the pairs it loaded (largest first; at least those that
    #: leave at most half the excess the target gap allows) [-].
    repair_share: float
    #: Keep one shortest-path tree per origin and update it
    #: (:func:`twin.kernels.sp_update.sp_update`) rather than rebuild it each time (if False,
    #: the tree store has one scratch row).
    keep_trees: bool
    #: Blocks of origins (trees) and of OD pairs (link flows) run in parallel (a few per
    #: thread).
    n_blocks: int
