"""Shared types of traffic assignment: the validated inputs in kernel form and the results.

:mod:`twin.sims.traffic.inputs` builds :class:`LinkArrays` and :class:`DemandArrays` from
tables, :mod:`twin.sims.traffic.assign` (Frank–Wolfe family) and
:mod:`twin.sims.traffic.gp` (gradient projection) solve on them and return an
:class:`AssignmentResult`, which :mod:`twin.sims.traffic.warm_inputs` and the next warm start
read back. This module imports none of them, so that none imports another in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.kernels.path_store import compact_paths
from twin.kernels.traffic_types import Demand, Network, PathStore

#: Largest store of shortest-path trees kept during a solve (origins × nodes; 8 bytes each,
#: i.e. 128 MB): one tree per origin, updated rather than rebuilt as costs change
#: (:mod:`twin.kernels.sp_update`); ``gp`` also hands it to the next warm start.
TREE_STORE_MAX = 16_000_000
#: Columns of the polynomial link cost ``cost_a + cost_b·vᵖ``.
POLY_COLUMNS = ("cost_a", "cost_b", "cost_p")
#: The columns of a link table its kernel arrays are made of.
LINK_COLUMNS = ("a_node", "b_node", "capacity", "free_flow_time", "alpha", "beta", *POLY_COLUMNS)
#: Columns of an OD table (the other demand form is a square matrix).
OD_COLUMNS = ("origin", "destination", "trips")


@dataclass
class PathSet:
    """Paths used at equilibrium (``algorithm="gp"``).

    Held as the solver's store (``store``: a linked list of paths per OD pair, see
    :mod:`twin.kernels.path_store`), so that a warm start takes it over without conversion.
    Pair ``j`` goes from node ``pair_origin[j]`` to node ``pair_destination[j]``; link
    positions refer to ``link_index``; ``pairs`` are the solve's demand arrays (node ids,
    origins, pair offsets, destinations), so that a warm start on the same demand takes the
    pairs as they are.

    Listed path by path on first use: path ``i`` goes from node ``origin[i]`` to node
    ``destination[i]`` over the links ``link_index[links[ptr[i]:ptr[i + 1]]]`` (in reverse
    order), carries ``flow[i]`` [veh/h] and belongs to pair ``od[i]``.
    """

    store: PathStore
    link_index: pd.Index
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    _listing: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )

    def _listed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._listing is None:
            self._listing = compact_paths(self.store)
        return self._listing

    @property
    def used(self) -> tuple[int, int]:
        """Paths and links of the store's buffers in use (``n_paths, n_links``)."""
        return int(self.store.n_paths), int(self.store.n_links)

    @property
    def pair_origin(self) -> np.ndarray:
        """Origin node id of each pair."""
        nodes, origins, od_ptr, _ = self.pairs
        return nodes[np.repeat(origins, np.diff(od_ptr))]

    @property
    def pair_destination(self) -> np.ndarray:
        """Destination node id of each pair."""
        return self.pairs[0][self.pairs[3]]

    @property
    def od(self) -> np.ndarray:
        """Pair of each path (position in the solve's demand arrays)."""
        return self._listed()[0]

    @property
    def ptr(self) -> np.ndarray:
        """Offsets of each path's links in :attr:`links`."""
        return self._listed()[1]

    @property
    def links(self) -> np.ndarray:
        """Link positions of the paths, each from its destination back to its origin."""
        return self._listed()[2]

    @property
    def flow(self) -> np.ndarray:
        """Flow of each path [veh/h]."""
        return self._listed()[3]

    @property
    def origin(self) -> np.ndarray:
        """Origin node id of each path."""
        return self.pair_origin[self.od]

    @property
    def destination(self) -> np.ndarray:
        """Destination node id of each path."""
        return self.pair_destination[self.od]

    def __len__(self) -> int:
        return len(self.flow)

    def same_pairs(self, node_ids: np.ndarray, dem: DemandArrays) -> bool:
        """Whether the pairs are those of this node numbering and demand."""
        nodes, origins, od_ptr, od_dest = self.pairs
        return (
            np.array_equal(nodes, node_ids)
            and np.array_equal(origins, dem.origins)
            and np.array_equal(od_ptr, dem.od_ptr)
            and np.array_equal(od_dest, dem.od_dest)
        )


@dataclass
class TreeSet:
    """Shortest-path tree of every origin at the final link costs of a ``gp`` solve.

    A warm start on the same network layout (node ids, link index, origins and barred nodes)
    updates these trees rather than rebuilding them (:mod:`twin.kernels.sp_update`). Row ``k``
    is the tree of node position ``origins[k]``: reaching link position ``pred`` (-1: root or
    unreached), nodes in tree order ``order[:reached]`` (every parent before its children).
    The distances are the sums of the final link costs along the tree.
    """

    node_ids: np.ndarray
    link_index: pd.Index
    origins: np.ndarray
    barred: np.ndarray
    pred: np.ndarray
    order: np.ndarray
    reached: np.ndarray

    def fits(
        self, node_ids: np.ndarray, link_index: pd.Index, origins: np.ndarray, barred: np.ndarray
    ) -> bool:
        """Whether these trees belong to a network of this layout and these origins."""
        return (
            self.link_index.equals(link_index)
            and np.array_equal(self.node_ids, node_ids)
            and np.array_equal(self.origins, origins)
            and np.array_equal(self.barred, barred)
        )


@dataclass
class AssignmentResult:
    """Outcome of :func:`twin.traffic.assign`.

    Attributes
    ----------
    flow : pandas.Series
        Equilibrium flow of each link [veh/h], on the links' index (0 on closed links).
    cost : pandas.Series
        Link travel time at those flows [time unit of ``free_flow_time``].
    rgap : float
        Relative gap of the returned flows [-].
    iterations : int
        Line-search steps taken (all-or-nothing loadings after the start).
    tstt : float
        Total system travel time ``Σ t(x)·x`` [veh·time unit/h].
    objective : float
        Beckmann objective ``Σ ∫₀^x t`` [veh·time unit/h].
    sptt : float
        Total shortest-path travel time at the final costs [veh·time unit/h].
    converged : bool
        Whether ``rgap`` reached the target.
    gap_history : ndarray
        Relative gap measured at each iteration.
    disconnected : pandas.DataFrame
        OD pairs with no path (``origin``, ``destination``, ``trips``); their trips are not
        assigned.
    warm_started : bool
        Whether ``initial`` flows were used (False if none were given or they could not
        be repaired around closed links).
    rerouted_closed : int
        Closed links whose initial flow was moved onto a detour before starting.
    seconds : float
        Wall-clock time of the solve [s].
    algorithm : str
        Algorithm used.
    notes : list of str
        Remarks on the solve (e.g. why a warm start fell back to a cold one).
    paths : PathSet or None
        Used paths and their flows (``algorithm="gp"`` only); passing this result as
        ``initial`` to the next :func:`assign` reuses them.
    warm_reused_paths : int
        Paths taken over from ``initial`` (``gp`` warm starts).
    trees : TreeSet or None
        Shortest-path trees of the origins at the final costs (``gp``, when the network and
        origins are small enough to keep them), updated rather than rebuilt by a warm start.
    """

    flow: pd.Series
    cost: pd.Series
    rgap: float
    iterations: int
    tstt: float
    objective: float
    sptt: float
    converged: bool
    gap_history: np.ndarray
    disconnected: pd.DataFrame
    warm_started: bool = False
    rerouted_closed: int = 0
    seconds: float = 0.0
    algorithm: str = "gp"
    notes: list[str] = field(default_factory=list)
    paths: PathSet | None = None
    warm_reused_paths: int = 0
    trees: TreeSet | None = None
    _parsed: ParsedDemand | None = field(default=None, repr=False, compare=False)
    _net: LinkArrays | None = field(default=None, repr=False, compare=False)

    @property
    def n_disconnected(self) -> int:
        """Number of OD pairs with no path."""
        return len(self.disconnected)

    @property
    def unassigned_trips(self) -> float:
        """Trips of the OD pairs with no path [veh/h]."""
        return float(self.disconnected["trips"].sum())


@dataclass
class LinkArrays:
    """A validated link table in kernel form (:func:`twin.sims.traffic.inputs.prepare_links`).

    Link ``e`` (position in ``index``) goes from node position ``tails[e]`` to ``heads[e]``
    (positions in ``node_ids``) and costs ``a[e] + b[e]·vᵖ⁽ᵉ⁾`` [time unit of
    ``free_flow_time``] at flow ``v`` [veh/h]; closed links (``open`` False) are left out of
    the CSR form ``indptr``, ``csr_heads``, ``csr_link`` (see :mod:`twin.kernels.traffic`).
    ``barred`` nodes (zones below ``first_thru_node``) are never passed through.
    """

    index: pd.Index
    node_ids: np.ndarray
    tails: np.ndarray
    heads: np.ndarray
    a: np.ndarray
    b: np.ndarray
    p: np.ndarray
    open: np.ndarray
    indptr: np.ndarray
    csr_heads: np.ndarray
    csr_link: np.ndarray
    barred: np.ndarray
    #: Cost and end columns as given (copies), the options and the polynomial-cost links: what
    #: a warm start compares to take these arrays over (twin.sims.traffic.warm_inputs).
    raw: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    first_thru_node: int | None = None
    poly: np.ndarray | None = field(default=None, repr=False)

    def kernel(self) -> Network:
        """The arrays the kernels take (:class:`twin.kernels.traffic_types.Network`)."""
        return Network(
            self.indptr, self.csr_heads, self.csr_link, self.tails, self.a, self.b, self.p,
            self.open, self.barred,
        )  # fmt: skip


@dataclass
class DemandArrays:
    """A validated OD table in kernel form, grouped by origin
    (:func:`twin.sims.traffic.inputs.demand_arrays`).

    The pairs of origin node position ``origins[k]`` are ``od_ptr[k]:od_ptr[k + 1]``, going to
    node positions ``od_dest`` with ``od_trips`` [veh/h]; ``order`` is the OD table row of each
    pair.
    """

    origins: np.ndarray
    od_ptr: np.ndarray
    od_dest: np.ndarray
    od_trips: np.ndarray
    order: np.ndarray

    def kernel(self) -> Demand:
        """The arrays the kernels take (:class:`twin.kernels.traffic_types.Demand`)."""
        return Demand(self.origins, self.od_ptr, self.od_dest, self.od_trips)


def same_values(new: np.ndarray, old: np.ndarray) -> bool:
    """Whether two columns hold the same values, bit for bit (NaN equal to NaN; -0.0 and 0.0
    differ, which only sends the table to a fresh validation). Object columns compare by
    value."""
    if new.dtype != old.dtype or new.shape != old.shape:
        return False
    if new.dtype.kind in "biuf" and new.dtype.itemsize in (1, 2, 4, 8):
        bits = np.dtype(f"u{new.dtype.itemsize}")
        return bool((np.ascontiguousarray(new).view(bits) == old.view(bits)).all())
    return bool(np.array_equal(new, old))


@dataclass
class ParsedDemand:
    """A solve's demand as validated: its OD table and kernel arrays over ``node_ids``.

    Kept on the result so that a warm start given the same demand (the same table, or the
    same matrix: ``matrix`` holds its ids and values) takes them as they are instead of
    validating and indexing it again (all read only).
    """

    od: pd.DataFrame
    node_ids: np.ndarray
    dem: DemandArrays
    matrix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(
        cls, demand: pd.DataFrame, od: pd.DataFrame, node_ids: np.ndarray, dem: DemandArrays
    ) -> ParsedDemand:
        """The parsed ``od``/``dem`` of ``demand`` (as given to :func:`assign`)."""
        if set(OD_COLUMNS) <= set(demand.columns):
            return cls(od, node_ids, dem)
        ids, cols = demand.index.to_numpy().copy(), demand.columns.to_numpy().copy()
        return cls(od, node_ids, dem, (ids, cols, demand.to_numpy(dtype=float).copy()))

    def same(self, demand: object, node_ids: np.ndarray) -> bool:
        """Whether ``demand`` holds the same values as the parsed demand, on the same nodes."""
        if not isinstance(demand, pd.DataFrame) or not np.array_equal(node_ids, self.node_ids):
            return False
        if self.matrix is not None:
            ids, names, values = self.matrix
            return (
                demand.shape == values.shape
                and np.array_equal(demand.index.to_numpy(), ids)
                and np.array_equal(demand.columns.to_numpy(), names)
                and _equal(demand.to_numpy(dtype=float), values)
            )
        cols = OD_COLUMNS
        return (
            len(demand) == len(self.od)
            and all(c in demand.columns for c in cols)
            and all(_equal(demand[c].to_numpy(), self.od[c].to_numpy()) for c in cols)
        )


def _equal(new: np.ndarray, old: np.ndarray) -> bool:
    """Value equality of two columns (bit for bit when their types agree)."""
    return same_values(new, old) if new.dtype == old.dtype else bool(np.array_equal(new, old))


def unserved(od: pd.DataFrame, dem: DemandArrays, od_cost: np.ndarray) -> pd.DataFrame:
    """The rows of ``od`` whose pair has no path (``od_cost`` inf, in the order of ``dem``),
    renumbered from 0."""
    lost = ~np.isfinite(od_cost)
    if not lost.any():  # the usual case: no row to take
        return od.iloc[:0].reset_index(drop=True)
    return od.iloc[np.sort(dem.order[lost])].reset_index(drop=True)


def closed_links(links: pd.DataFrame) -> np.ndarray:
    """Whether each link is closed (its ``closed`` column, missing values open; none without
    one)."""
    if "closed" not in links.columns:
        return np.zeros(len(links), dtype=bool)
    col = links["closed"]
    if col.dtype == bool:  # the usual case: no missing value to fill
        return col.to_numpy()
    return col.fillna(False).astype(bool).to_numpy()
