"""Static user-equilibrium traffic assignment (Frank–Wolfe family) on a link table.

Each link costs ``t(v) = a + b·vᵖ`` at flow ``v``: by default the BPR function
``t0·(1 + α·(v/c)^β)`` (``a = t0``, ``b = t0·α/c^β``, ``p = β``), or, on links where the
columns ``cost_a``, ``cost_b``, ``cost_p`` are all given, that polynomial directly (this
covers textbook networks such as Braess's, whose costs ``10·v`` or ``50 + v`` are not BPR).

The user equilibrium minimises the Beckmann objective ``Σ ∫₀^v t(u) du``. Each iteration
loads the demand all-or-nothing on the shortest paths at current costs (``y``), builds a
search direction — ``y`` (Frank–Wolfe), a conjugate of ``y`` and the previous direction
(CFW) or of ``y`` and the two previous directions (bi-conjugate, BFW) — and takes the step
minimising the objective along it. The relative gap

    rgap = (Σ t(x)·x − Σ_od trips·shortest cost) / Σ t(x)·x

is measured before each step with the costs of the current flows; the run stops when it is
at most ``rgap``.

References
----------
Beckmann, M., McGuire, C. B., Winsten, C. B. (1956). *Studies in the Economics of
Transportation*. Yale University Press.

Mitradjieva, M., Lindberg, P. O. (2013). The stiff is moving — conjugate direction
Frank–Wolfe methods with applications to traffic assignment. *Transportation Science* 47(2),
280–293.

Braess, D. (1968). Über ein Paradoxon aus der Verkehrsplanung. *Unternehmensforschung* 12,
258–268.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.kernels.path_store import compact_paths
from twin.kernels.sp_update import empty_trees, store_aon
from twin.kernels.traffic import (
    aon,
    beckmann,
    csr_order,
    dot,
    line_search,
    link_cost,
    link_cost_derivative,
    sp_tree,
)

ALGORITHMS = ("fw", "cfw", "bfw", "gp")
#: Largest store of shortest-path trees kept during a solve (origins × nodes; 8 bytes each,
#: i.e. 128 MB): one tree per origin, updated rather than rebuilt as costs change
#: (:mod:`twin.kernels.sp_update`); ``gp`` also hands it to the next warm start.
TREE_STORE_MAX = 16_000_000
#: Largest conjugate weight (a weight of 1 would repeat the previous direction).
_CONJ_MAX = 0.99999
_POLY = ("cost_a", "cost_b", "cost_p")
#: The columns of a link table its kernel arrays are made of.
LINK_COLUMNS = ("a_node", "b_node", "capacity", "free_flow_time", "alpha", "beta", *_POLY)


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

    store: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    link_index: pd.Index
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    #: Paths and links of the store's buffers in use (``n_paths, n_links``), if known.
    used: tuple[int, int] | None = None
    _listing: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )

    def _listed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._listing is None:
            self._listing = compact_paths(*self.store)
        return self._listing

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

    def same_pairs(self, node_ids: np.ndarray, dem: _Demand) -> bool:
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
    """Outcome of :func:`assign`.

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
    algorithm: str = "bfw"
    notes: list[str] = field(default_factory=list)
    paths: PathSet | None = None
    warm_reused_paths: int = 0
    trees: TreeSet | None = None
    _parsed: _Parsed | None = field(default=None, repr=False, compare=False)
    _net: _Links | None = field(default=None, repr=False, compare=False)

    @property
    def n_disconnected(self) -> int:
        """Number of OD pairs with no path."""
        return len(self.disconnected)

    @property
    def unassigned_trips(self) -> float:
        """Trips of the OD pairs with no path [veh/h]."""
        return float(self.disconnected["trips"].sum())


#: Columns of an OD table (the other demand form is a square matrix).
_OD_COLUMNS = ("origin", "destination", "trips")


@dataclass
class _Links:
    """Link table in kernel form."""

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


@dataclass
class _Demand:
    origins: np.ndarray
    od_ptr: np.ndarray
    od_dest: np.ndarray
    od_trips: np.ndarray
    order: np.ndarray  # OD row of each pair in kernel order


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
class _Parsed:
    """A solve's demand as validated: its OD table and kernel arrays over ``node_ids``.

    Kept on the result so that a warm start given the same demand (the same table, or the
    same matrix: ``matrix`` holds its ids and values) takes them as they are instead of
    validating and indexing it again (all read only).
    """

    od: pd.DataFrame
    node_ids: np.ndarray
    dem: _Demand
    matrix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(
        cls, demand: pd.DataFrame, od: pd.DataFrame, node_ids: np.ndarray, dem: _Demand
    ) -> _Parsed:
        """The parsed ``od``/``dem`` of ``demand`` (as given to :func:`assign`)."""
        if set(_OD_COLUMNS) <= set(demand.columns):
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
        cols = _OD_COLUMNS
        return (
            len(demand) == len(self.od)
            and all(c in demand.columns for c in cols)
            and all(_equal(demand[c].to_numpy(), self.od[c].to_numpy()) for c in cols)
        )


def _equal(new: np.ndarray, old: np.ndarray) -> bool:
    """Value equality of two columns (bit for bit when their types agree)."""
    return same_values(new, old) if new.dtype == old.dtype else bool(np.array_equal(new, old))


def unserved(od: pd.DataFrame, dem: _Demand, od_cost: np.ndarray) -> pd.DataFrame:
    """The rows of ``od`` whose pair has no path (``od_cost`` inf, in the order of ``dem``),
    renumbered from 0."""
    lost = ~np.isfinite(od_cost)
    if not lost.any():  # the usual case: no row to take
        return od.iloc[:0].reset_index(drop=True)
    return od.iloc[np.sort(dem.order[lost])].reset_index(drop=True)


def _ids(values: pd.Index | pd.Series, limit: int = 5) -> list[object]:
    return [v.item() if hasattr(v, "item") else v for v in list(values)[:limit]]


def _bad(mask: np.ndarray, index: pd.Index, what: str, field_: str, fix: str) -> None:
    if mask.any():
        bad = _ids(index[mask])
        msg = message(
            f"{int(mask.sum())} links {what} (links {bad})",
            where=f"links, field {field_}",
            fix=fix,
        )
        raise InputError(msg)


def _numeric(links: pd.DataFrame, col: str, rows: np.ndarray) -> np.ndarray:
    try:
        s = pd.to_numeric(links[col], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        msg = message(
            f"column '{col}' is not numeric",
            where=f"links, field {col}",
            fix=f"give a number in '{col}' on every link",
        )
        raise InputError(msg) from None
    _bad(
        rows & np.isnan(s),
        links.index,
        f"have no '{col}'",
        col,
        f"fill '{col}' or mark the link closed=True",
    )
    return s


def prepare_links(links: pd.DataFrame, first_thru_node: int | None = None) -> _Links:
    """Validate a link table and convert it to kernel arrays.

    Raises
    ------
    InputError
        Naming the offending links, field and fix.
    """
    if not isinstance(links, pd.DataFrame):
        msg = message(
            f"links must be a DataFrame, not {type(links).__name__}",
            where="links",
            fix="pass a DataFrame with a_node, b_node, capacity, free_flow_time",
        )
        raise InputError(msg)
    idx = links.index
    if not idx.is_unique:
        dup = _ids(idx[idx.duplicated()].unique())
        msg = message(
            f"link ids are not unique (e.g. {dup})",
            where="links index",
            fix="give each link its own id (e.g. links.reset_index(drop=True))",
        )
        raise InputError(msg)
    if len(links) == 0:
        msg = message("the link table is empty", where="links", fix="pass at least one link")
        raise InputError(msg)
    for col in ("a_node", "b_node"):
        if col not in links.columns:
            msg = message(
                f"links have no '{col}' column",
                where="links",
                fix="give the tail (a_node) and head (b_node) node id of every link",
            )
            raise InputError(msg)
        _bad(
            links[col].isna().to_numpy(),
            idx,
            f"have no {col}",
            col,
            "give every link both end node ids",
        )
    n = len(links)
    is_open = ~closed_links(links)
    poly = np.zeros(n, dtype=bool)
    if any(c in links.columns for c in _POLY):
        missing = [c for c in _POLY if c not in links.columns]
        if missing:
            msg = message(
                f"polynomial costs need columns {list(_POLY)}, missing {missing}",
                where="links",
                fix="give cost_a, cost_b and cost_p, or none of them",
            )
            raise InputError(msg)
        poly = links[list(_POLY)].notna().all(axis=1).to_numpy()
    bpr = is_open & ~poly
    a = np.zeros(n)
    b = np.zeros(n)
    p = np.ones(n)
    if bpr.any():
        for col in ("capacity", "free_flow_time"):
            if col not in links.columns:
                msg = message(
                    f"links have no '{col}' column",
                    where="links",
                    fix=f"add '{col}' (BPR cost), or cost_a/cost_b/cost_p on every link",
                )
                raise InputError(msg)
        cap = _numeric(links, "capacity", bpr)
        t0 = _numeric(links, "free_flow_time", bpr)
        _bad(
            bpr & (cap <= 0),
            idx,
            "have a zero or negative capacity",
            "capacity",
            "give a positive capacity [veh/h], or mark the link closed=True",
        )
        _bad(
            bpr & (t0 <= 0),
            idx,
            "have a zero or negative free-flow time",
            "free_flow_time",
            "give a positive free-flow time (e.g. length / speed limit)",
        )
        alpha = (
            np.nan_to_num(_numeric(links, "alpha", np.zeros(n, bool)), nan=0.15)
            if "alpha" in links
            else np.full(n, 0.15)
        )
        beta = (
            np.nan_to_num(_numeric(links, "beta", np.zeros(n, bool)), nan=4.0)
            if "beta" in links
            else np.full(n, 4.0)
        )
        _bad(bpr & (alpha < 0), idx, "have a negative alpha", "alpha", "use alpha ≥ 0 (e.g. 0.15)")
        _bad(bpr & (beta < 0), idx, "have a negative beta", "beta", "use beta ≥ 0 (default 4)")
        m = bpr
        a[m] = t0[m]
        b[m] = t0[m] * alpha[m] / cap[m] ** beta[m]
        p[m] = beta[m]
    if poly.any():
        live = poly & is_open
        pa, pb, pp = (_numeric(links, c, live) for c in _POLY)
        for col, s in zip(_POLY, (pa, pb, pp), strict=True):
            _bad(live & (s < 0), idx, f"have a negative {col}", col, f"use {col} ≥ 0")
        _bad(
            live & (pa == 0) & (pb == 0),
            idx,
            "cost nothing at any flow",
            "cost_a, cost_b",
            "give a positive cost_a or cost_b",
        )
        m = poly
        a[m], b[m], p[m] = pa[m], pb[m], pp[m]
    an, bn = links["a_node"].to_numpy(), links["b_node"].to_numpy()
    node_ids = pd.Index(pd.unique(np.concatenate([an, bn])))
    tails = node_ids.get_indexer(an).astype(np.int64)
    heads = node_ids.get_indexer(bn).astype(np.int64)
    opn = is_open
    indptr, order = csr_order(tails, opn, len(node_ids))
    barred = np.zeros(len(node_ids), dtype=np.bool_)
    if first_thru_node is not None:
        try:
            barred = np.asarray(pd.to_numeric(pd.Series(node_ids)) < first_thru_node)
        except (TypeError, ValueError):
            msg = message(
                "first_thru_node needs numeric node ids",
                where="links, a_node/b_node",
                fix="number the nodes, or pass first_thru_node=None",
            )
            raise InputError(msg) from None
    return _Links(
        index=links.index,
        node_ids=node_ids.to_numpy(),
        tails=tails,
        heads=heads,
        a=a,
        b=b,
        p=p,
        open=opn,
        indptr=indptr,
        csr_heads=heads[order],
        csr_link=order,
        barred=barred,
        raw={c: links[c].to_numpy().copy() for c in LINK_COLUMNS if c in links.columns},
        first_thru_node=first_thru_node,
        poly=poly,
    )


def closed_links(links: pd.DataFrame) -> np.ndarray:
    """Whether each link is closed (its ``closed`` column, missing values open; none without
    one)."""
    if "closed" not in links.columns:
        return np.zeros(len(links), dtype=bool)
    col = links["closed"]
    if col.dtype == bool:  # the usual case: no missing value to fill
        return col.to_numpy()
    return col.fillna(False).astype(bool).to_numpy()


def parse_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Demand as a table ``origin, destination, trips`` (pairs summed, zeros and o = d dropped).

    Parameters
    ----------
    demand : DataFrame
        Either a table with columns ``origin``, ``destination``, ``trips`` [veh/h] (node ids),
        or a square matrix whose index (origins) and columns (destinations) are node ids.

    Raises
    ------
    InputError
        On other shapes, missing, negative or non-numeric trips.
    """
    if not isinstance(demand, pd.DataFrame):
        msg = message(
            f"demand must be a DataFrame, not {type(demand).__name__}",
            where="demand",
            fix="pass a table (origin, destination, trips) or a DataFrame matrix "
            "whose index and columns are the zone node ids",
        )
        raise InputError(msg)
    if set(_OD_COLUMNS) <= set(demand.columns):
        od = demand[list(_OD_COLUMNS)].copy()
    elif demand.shape[0] == demand.shape[1] and set(demand.index) == set(demand.columns):
        try:
            mat = demand.to_numpy(dtype=float)
        except (TypeError, ValueError):
            msg = message(
                "the demand matrix has non-numeric cells",
                where="demand",
                fix="give a number of trips [veh/h] in every cell",
            )
            raise InputError(msg) from None
        if np.isnan(mat).any() or (mat < 0).any() or not np.isfinite(mat).all():
            i, j = np.argwhere(~(mat >= 0) | ~np.isfinite(mat))[0]
            msg = message(
                "the demand matrix has missing, negative or infinite trips "
                f"(e.g. origin {_ids([demand.index[i]])[0]}, "
                f"destination {_ids([demand.columns[j]])[0]})",
                where="demand, field trips",
                fix="trips must be finite numbers ≥ 0 [veh/h]",
            )
            raise InputError(msg)
        i, j = np.nonzero(mat > 0)
        o, d = demand.index.to_numpy()[i], demand.columns.to_numpy()[j]
        inner = o != d
        od = pd.DataFrame({"origin": o[inner], "destination": d[inner], "trips": mat[i, j][inner]})
        if demand.index.is_monotonic_increasing and demand.columns.is_monotonic_increasing:
            return od  # row by row: already sorted by origin, then destination
        return od.sort_values(["origin", "destination"], kind="stable").reset_index(drop=True)
    else:
        msg = message(
            "demand is neither an OD table nor a square matrix",
            where="demand",
            fix="give columns origin, destination, trips, or a square DataFrame with "
            "the same zone ids as index and columns",
        )
        raise InputError(msg)
    trips = pd.to_numeric(od["trips"], errors="coerce")
    for mask, what, fix in (
        (trips.isna(), "missing or non-numeric trips", "give a number of trips on every row"),
        (trips < 0, "negative trips", "trips must be ≥ 0 [veh/h]"),
        (~np.isfinite(trips.fillna(0)), "infinite trips", "give finite trips"),
    ):
        if mask.any():
            rows = _ids(od.index[mask.to_numpy()])
            msg = message(
                f"{int(mask.sum())} OD rows have {what} (rows {rows})",
                where="demand, field trips",
                fix=fix,
            )
            raise InputError(msg)
    od["trips"] = trips.astype(float)
    od = od[(od["trips"] > 0) & (od["origin"] != od["destination"])]
    if _sorted_unique(od["origin"].to_numpy(), od["destination"].to_numpy()):
        return od.reset_index(drop=True)  # already one row per pair, in order
    return od.groupby(["origin", "destination"], as_index=False, sort=True)["trips"].sum()


def _sorted_unique(o: np.ndarray, d: np.ndarray) -> bool:
    """Whether numeric pairs ``(o, d)`` are strictly increasing (sorted, no duplicate)."""
    if o.dtype.kind not in "iuf" or d.dtype.kind not in "iuf":
        return False
    if len(o) < 2:
        return True
    o0, o1, d0, d1 = o[:-1], o[1:], d[:-1], d[1:]
    return bool(np.all((o0 < o1) | ((o0 == o1) & (d0 < d1))))


def _demand_arrays(od: pd.DataFrame, net: _Links) -> _Demand:
    idx = pd.Index(net.node_ids)
    o = idx.get_indexer(od["origin"])
    d = idx.get_indexer(od["destination"])
    for col, pos in (("origin", o), ("destination", d)):
        if (pos < 0).any():
            bad = _ids(pd.unique(od[col].to_numpy()[pos < 0]))
            msg = message(
                f"{int((pos < 0).sum())} OD pairs have an unknown {col} (node ids {bad})",
                where=f"demand, field {col}",
                fix="use node ids that are an a_node or b_node of the links",
            )
            raise InputError(msg)
    order = np.argsort(o, kind="stable")
    o, d, t = o[order], d[order], od["trips"].to_numpy(float)[order]
    origins, counts = np.unique(o, return_counts=True)
    od_ptr = np.zeros(len(origins) + 1, dtype=np.int64)
    np.cumsum(counts, out=od_ptr[1:])
    return _Demand(origins.astype(np.int64), od_ptr, d.astype(np.int64), t, order)


def node_balance(links: pd.DataFrame, flow: pd.Series, demand: pd.DataFrame) -> pd.Series:
    """Flow conservation residual of each node [veh/h]: out − in − (produced − attracted).

    Zero everywhere for a feasible assignment of ``demand`` (an OD table of connected pairs).
    """
    out = flow.groupby(links["a_node"]).sum()
    inn = flow.groupby(links["b_node"]).sum()
    prod = demand.groupby("origin")["trips"].sum()
    attr = demand.groupby("destination")["trips"].sum()
    nodes = out.index.union(inn.index).union(prod.index).union(attr.index)

    def r(s: pd.Series) -> pd.Series:
        return s.reindex(nodes, fill_value=0.0)

    return r(out) - r(inn) - r(prod) + r(attr)


def _repair(x: np.ndarray, net: _Links, cost: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Move initial flow off closed links onto the shortest open detour (None: no detour)."""
    n = len(net.node_ids)
    dist = np.empty(n)
    pred = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    hk = np.empty(len(net.csr_heads) + 1)
    hv = np.empty(len(net.csr_heads) + 1, dtype=np.int64)
    x = x.copy()
    moved = 0
    for e in np.flatnonzero(~net.open & (x > 0)):
        src, dst = int(net.tails[e]), int(net.heads[e])
        sp_tree(
            net.indptr,
            net.csr_heads,
            net.csr_link,
            cost,
            net.barred,
            src,
            dist,
            pred,
            order,
            hk,
            hv,
        )
        if not np.isfinite(dist[dst]):
            return None
        node = dst
        while node != src:
            k = pred[node]
            x[k] += x[e]
            node = int(net.tails[k])
        x[e] = 0.0
        moved += 1
    return x, moved


def assign(
    links: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    rgap: float = 1e-4,
    max_iter: int = 1000,
    algorithm: str = "bfw",
    first_thru_node: int | None = None,
    initial: pd.Series | AssignmentResult | None = None,
    inner: int = 2,
) -> AssignmentResult:
    """Static user-equilibrium assignment of an OD demand on a road network.

    Parameters
    ----------
    links : DataFrame
        One row per directed link, indexed by link id: ``a_node``, ``b_node`` (node ids),
        ``capacity`` [veh/h], ``free_flow_time`` [any time unit], optional ``alpha``
        (default 0.15) and ``beta`` (default 4) of the BPR cost; optional ``cost_a``,
        ``cost_b``, ``cost_p``: where all three are given, the link costs
        ``cost_a + cost_b·vᵖ`` instead; optional ``closed`` (bool): closed links carry nothing.
    demand : DataFrame
        OD table ``origin``, ``destination``, ``trips`` [veh/h] or a square matrix indexed
        by node ids on both axes.
    rgap : float
        Target relative gap [-].
    max_iter : int
        Maximum number of iterations.
    algorithm : {"bfw", "cfw", "fw", "gp"}
        Bi-conjugate, conjugate or plain Frank–Wolfe (link-based), or path-based gradient
        projection (``gp``: slower per iteration on large networks, but reaches gaps of 1e-8
        and below, and warm-starts from the paths of a previous ``gp`` result).
    first_thru_node : int, optional
        Nodes with a (numeric) id below it are zones: paths may start or end there but not
        pass through (the TNTP benchmark convention).
    initial : Series or AssignmentResult, optional
        Link flows [veh/h] on the links' index to start from, typically the equilibrium
        before a change (closure, capacity), or that previous result itself. With a
        Series, or with Frank–Wolfe algorithms, the flows must carry the same demand; flow
        on links now closed is first moved onto the shortest detour at the initial costs.
        With ``algorithm="gp"`` and a ``gp`` result, its paths are reused: paths over
        links now closed or gone are dropped and their trips (and trips of OD pairs whose
        demand changed, pro rata) are loaded on the current shortest paths.
    inner : int
        ``gp`` only: extra re-balancing sweeps over the stored paths per iteration.

    Returns
    -------
    AssignmentResult

    Raises
    ------
    InputError
        Bad links, demand or options, naming the links, rows or ids and the fix.
    """
    start = time.perf_counter()
    if algorithm not in ALGORITHMS:
        msg = message(
            f"unknown algorithm '{algorithm}'",
            where="assign(algorithm=...)",
            fix=f"use one of {list(ALGORITHMS)}",
        )
        raise InputError(msg)
    if not (rgap >= 0 and np.isfinite(rgap)) or max_iter < 0 or inner < 0:
        msg = message(
            f"rgap={rgap}, max_iter={max_iter}, inner={inner}",
            where="assign options",
            fix="use rgap ≥ 0, max_iter ≥ 0 and inner ≥ 0",
        )
        raise InputError(msg)
    from twin.sims.traffic.warm_inputs import more_closed

    parent = initial if isinstance(initial, AssignmentResult) else None
    net = (
        more_closed(links, first_thru_node, parent._net) if parent and parent._net else None
    ) or prepare_links(links, first_thru_node)
    prior = parent._parsed if parent is not None else None
    if prior is not None and prior.same(demand, net.node_ids):
        od, dem = prior.od, prior.dem  # a warm start on its parent's demand
    else:
        od = parse_demand(demand)
        dem = _demand_arrays(od, net)
    parsed = _Parsed.of(demand, od, net.node_ids, dem)
    m = len(net.index)
    od_cost = np.empty(len(dem.od_trips))
    blocks = 4 * numba.get_num_threads()
    n_nodes, n_orig = len(net.node_ids), len(dem.origins)
    trees = (  # one tree per origin, updated from one loading to the next
        empty_trees(n_orig, n_nodes)
        if 0 < n_orig * n_nodes <= TREE_STORE_MAX and algorithm != "gp"
        else None
    )

    def load(cost: np.ndarray) -> tuple[np.ndarray, float]:
        if trees is None:
            y = aon(
                net.indptr, net.csr_heads, net.csr_link, net.tails, cost, net.barred,
                dem.origins, dem.od_ptr, dem.od_dest, dem.od_trips, od_cost, blocks,
            )  # fmt: skip
        else:
            y = store_aon(
                net.indptr, net.csr_heads, net.csr_link, net.tails, cost, net.open, net.barred,
                dem.origins, dem.od_ptr, dem.od_dest, dem.od_trips, od_cost, blocks, *trees,
            )  # fmt: skip
        ok = np.isfinite(od_cost)
        return y, dot(dem.od_trips[ok], od_cost[ok])

    notes: list[str] = []
    warm = False
    moved = 0
    if algorithm == "gp":
        from twin.sims.traffic.gp import assign_gp

        return assign_gp(net, parsed, initial, rgap, max_iter, inner, start)
    x = np.zeros(m)
    y, _ = load(link_cost(x, net.a, net.b, net.p))
    disconnected = unserved(od, dem, od_cost)
    connected = np.ones(len(od), dtype=bool)
    connected[dem.order[~np.isfinite(od_cost)]] = False
    if isinstance(initial, AssignmentResult):
        initial = initial.flow
    if initial is not None:
        x0 = _initial(initial, net)
        fixed = _repair(x0, net, link_cost(x0, net.a, net.b, net.p))
        if fixed is None:
            notes.append("initial flows could not be moved off closed links: cold start")
        else:
            x, moved = fixed
            warm = True
            bal = node_balance(
                pd.DataFrame(
                    {"a_node": net.node_ids[net.tails], "b_node": net.node_ids[net.heads]}
                ),
                pd.Series(x),
                od[connected],
            )
            if bal.abs().max() > 1e-6 * max(1.0, float(od["trips"].sum())):
                worst = bal.abs().sort_values(ascending=False).index[:5].tolist()
                msg = message(
                    "initial flows do not carry this demand (flow is not conserved at "
                    f"nodes {worst})",
                    where="assign(initial=...)",
                    fix="start from flows assigned with the same demand, or omit initial",
                )
                raise InputError(msg)
    if not warm:
        x = y
    history: list[float] = []
    s_prev = s_prev2 = None
    tau = 1.0
    mode = "fw"
    it = 0
    gap = np.inf
    sptt = 0.0
    while True:
        t = link_cost(x, net.a, net.b, net.p)
        y, sptt = load(t)
        tstt = dot(t, x)
        gap = (tstt - sptt) / tstt if tstt > 0 else 0.0
        history.append(gap)
        if gap <= rgap or it >= max_iter:
            break
        s = y
        if mode == "cfw" and s_prev is not None:
            h = link_cost_derivative(x, net.b, net.p)
            u = s_prev - x
            den = float(np.sum(h * u * (y - s_prev)))
            ac = float(np.sum(h * u * (y - x))) / den if den != 0 else 0.0
            ac = min(max(ac, 0.0), _CONJ_MAX)
            s = ac * s_prev + (1 - ac) * y
        elif mode == "bfw" and s_prev is not None and s_prev2 is not None:
            h = link_cost_derivative(x, net.b, net.p)
            xx = tau * s_prev + (1 - tau) * s_prev2 - x
            yy = y - x
            zz = s_prev - x
            ww = s_prev2 - s_prev
            mden = float(np.sum(h * xx * ww))
            mu = max(0.0, -float(np.sum(h * xx * yy)) / mden) if mden != 0 else 0.0
            nden = float(np.sum(h * zz * zz))
            nu = (
                max(0.0, -float(np.sum(h * zz * yy)) / nden + mu * tau / (1 - tau))
                if nden != 0
                else 0.0
            )
            b0 = 1.0 / (1.0 + mu + nu)
            s = b0 * y + nu * b0 * s_prev + mu * b0 * s_prev2
        if s is not y and dot(t, s - x) >= 0:  # not a descent direction: restart
            s = y
            mode = "fw"
        lam = line_search(x, s, net.a, net.b, net.p, 1e-12)
        x = np.maximum(x + lam * (s - x), 0.0)
        it += 1
        s_prev2, s_prev, tau = s_prev, s, lam
        if algorithm == "fw" or lam >= 1.0 - 1e-12:  # a full step: x is the direction
            mode, s_prev, s_prev2 = "fw", None, None
        elif mode == "fw":
            mode = "cfw"
        elif mode == "cfw" and algorithm == "bfw":
            mode = "bfw"
    t = link_cost(x, net.a, net.b, net.p)
    x_s = pd.Series(x, index=net.index, name="flow")
    return AssignmentResult(
        flow=x_s,
        cost=pd.Series(t, index=net.index, name="cost"),
        rgap=float(gap),
        iterations=it,
        tstt=dot(t, x),
        objective=float(beckmann(x, net.a, net.b, net.p)),
        sptt=sptt,
        converged=bool(gap <= rgap),
        gap_history=np.asarray(history),
        disconnected=disconnected,
        warm_started=warm,
        rerouted_closed=moved,
        seconds=time.perf_counter() - start,
        algorithm=algorithm,
        notes=notes,
        _parsed=parsed,
        _net=net,
    )


def _initial(initial: pd.Series, net: _Links) -> np.ndarray:
    if not isinstance(initial, pd.Series):
        msg = message(
            f"initial must be a Series, not {type(initial).__name__}",
            where="assign(initial=...)",
            fix="pass result.flow of a previous assign()",
        )
        raise InputError(msg)
    extra = initial.index.difference(net.index)
    if len(extra):
        msg = message(
            f"initial flows on {len(extra)} links that are not in links (links {_ids(extra)})",
            where="assign(initial=...)",
            fix="keep closed links in the table with closed=True instead of dropping them",
        )
        raise InputError(msg)
    x = initial.reindex(net.index).fillna(0.0).to_numpy(float)
    if (x < 0).any() or not np.isfinite(x).all():
        msg = message(
            "initial flows are negative or not finite",
            where="assign(initial=...)",
            fix="pass non-negative link flows [veh/h]",
        )
        raise InputError(msg)
    return x
