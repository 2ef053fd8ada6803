"""Path-based assignment (``assign(..., algorithm="gp")``): warm start from a path store.

The solve itself is :func:`twin.kernels.traffic_paths.gp_solve`; this module maps a previous
result's paths onto the current links and demand.
"""

from __future__ import annotations

import time

import numba
import numpy as np
import pandas as pd

from twin.kernels.path_store import reuse_closed, reuse_paths
from twin.kernels.sp_update import empty_trees
from twin.kernels.traffic import beckmann, dot, link_cost
from twin.kernels.traffic_paths import gp_solve
from twin.kernels.traffic_types import GpOptions, PathStore, TreeSource, TreeStore
from twin.sims.traffic.problem import (
    TREE_STORE_MAX,
    AssignmentResult,
    DemandArrays,
    LinkArrays,
    ParsedDemand,
    PathSet,
    TreeSet,
    unserved,
)

#: Each iteration sweeps the origins that hold this share of the excess cost (largest first).
SWEEP_SHARE = 0.9
#: ... unless the OD pairs holding that share are at most this share of all pairs: then it
#: sweeps these pairs alone (twin.kernels.gp_pairs). Tuned on Montpellier (closures, cold
#: solves) and Sioux Falls (where the excess is spread and origin sweeps converge faster).
PAIR_SHARE = 0.03
#: A warm start re-balances, before its first gap check, the origins holding this share of
#: the excess cost bound of the pairs it loaded (twin.kernels.traffic_paths.gp_solve).
REPAIR_SHARE = 0.7
#: Spare room in the link buffer of a store, per OD pair (links of paths added later).
SPARE_LINKS = 8


def _positions(nodes: pd.Index, ids: np.ndarray) -> np.ndarray:
    """Positions of node ``ids`` in ``nodes`` (-1: absent), looking each distinct id up once."""
    codes, uniques = pd.factorize(ids)
    return nodes.get_indexer(uniques)[codes]


#: A warm start copies its parent's store as it is when at most this many links closed and
#: nothing else changed (twin.kernels.path_store.reuse_closed) ...
CLOSED_FAST = 8
#: ... and the store is large (links in its buffer): smaller ones are rebuilt path by path,
#: as before, which costs little on them. The two differ by rounding only, but the
#: iterations of a small congested network such as Sioux Falls follow such differences, so
#: small stores keep the rebuild.
LARGE_STORE = 1 << 18


def _closures_only(
    parent: AssignmentResult, net: LinkArrays, dem: DemandArrays
) -> np.ndarray | None:
    """Positions of the links closed since ``parent`` if nothing else changed (same links,
    pairs and validated demand, no link reopened, at most CLOSED_FAST closed), else None."""
    before = parent._net
    if (
        before is None
        or parent._parsed is None
        or parent._parsed.dem is not dem
        or parent.paths is None
        or len(before.open) != len(net.open)
        or not parent.paths.link_index.equals(pd.Index(net.index))
    ):
        return None
    if (net.open & ~before.open).any():
        return None
    shut = np.flatnonzero(before.open & ~net.open)
    return shut if 0 < len(shut) <= CLOSED_FAST else None


def _reuse(
    paths: PathSet, net: LinkArrays, dem: DemandArrays, parent: AssignmentResult | None = None
) -> tuple[PathStore, np.ndarray, np.ndarray, int]:
    """A store for this network and demand from stored paths (see :func:`reuse_paths`).

    Paths over links that are now closed or absent, or of OD pairs no longer in the demand,
    are dropped. The kept paths of a pair are scaled so that the pair's old total maps onto
    its new trips; what they do not carry is pending. When the network's links and the
    demand's pairs are those of the stored solve, positions are taken as they are. Returns
    the store, the pending trips [veh/h] per pair, the link flows of the kept paths [veh/h]
    and the number of paths kept. When ``parent`` (the result holding ``paths``) differs only
    by a few closures, its store is copied as it is (:func:`reuse_closed`).
    """
    n_od = len(dem.od_trips)
    large = paths.used[1] >= LARGE_STORE
    shut = _closures_only(parent, net, dem) if parent is not None and large else None
    if shut is not None and parent is not None:
        flow = parent.flow.to_numpy()
        fast = reuse_closed(paths.store, shut, dem.od_trips, flow, SPARE_LINKS * n_od)
        if fast is not None:
            return fast
    if paths.link_index.equals(pd.Index(net.index)):
        link_map = np.zeros(0, dtype=np.int64)  # positions unchanged
    else:  # map old link positions to new ones through the link ids
        link_map = pd.Index(net.index).get_indexer(paths.link_index).astype(np.int64)
    if paths.same_pairs(net.node_ids, dem):
        pair_map = np.arange(n_od, dtype=np.int64)
    else:
        nodes = pd.Index(net.node_ids)
        n_nodes = len(nodes)
        o_pos = np.repeat(dem.origins, np.diff(dem.od_ptr))
        key = o_pos * n_nodes + dem.od_dest  # OD pairs as integers
        sorter = np.argsort(key)
        po, pd_ = (_positions(nodes, ids) for ids in (paths.pair_origin, paths.pair_destination))
        pkey = np.where((po >= 0) & (pd_ >= 0), po * n_nodes + pd_, -1)
        at = np.minimum(np.searchsorted(key, pkey, sorter=sorter), len(key) - 1)
        pair_map = np.where(key[sorter[at]] == pkey, sorter[at], -1).astype(np.int64)
    store, pending, x = reuse_paths(
        paths.store, pair_map, link_map, net.open, dem.od_trips, SPARE_LINKS * n_od
    )
    return store, pending, x, int(store.n_paths)


def _empty_store(n_od: int) -> PathStore:
    """An empty store (cold start) sized for a first path per pair."""
    cap = max(16, 2 * n_od)
    return PathStore(
        np.full(n_od, -1, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty(cap),
        np.empty(max(64, 4 * SPARE_LINKS * n_od), dtype=np.int32),  # link positions
        0,
        0,
    )


def _tree_store(
    net: LinkArrays, dem: DemandArrays, initial: object
) -> tuple[bool, TreeStore, TreeSource]:
    """Tree store for :func:`gp_solve` and the trees its rows start from.

    A row per origin, or one scratch row when the store would exceed TREE_STORE_MAX. When
    ``initial.trees`` fit this network, the rows start from them: the source lets the solve
    copy each row when it first uses it (the trees of ``initial`` stay as they are);
    otherwise nothing is to be copied (``to_copy`` empty).
    """
    n, k = len(net.node_ids), len(dem.origins)
    keep = 0 < k * n <= TREE_STORE_MAX
    rows = k if keep else 1
    prior = initial.trees if isinstance(initial, AssignmentResult) else None
    if keep and prior is not None and prior.fits(net.node_ids, net.index, dem.origins, net.barred):
        store = TreeStore(
            np.empty_like(prior.pred),
            np.empty_like(prior.order),
            prior.reached.copy(),
            np.ones(rows, dtype=np.bool_),
        )
        return True, store, TreeSource(prior.pred, prior.order, np.ones(rows, dtype=np.bool_))
    none = np.empty((0, 0), dtype=np.int32)
    return keep, empty_trees(rows, n), TreeSource(none, none, np.zeros(0, dtype=np.bool_))


def assign_gp(
    net: LinkArrays,
    parsed: ParsedDemand,
    initial: pd.Series | AssignmentResult | None,
    rgap: float,
    max_iter: int,
    inner: int,
    start: float,
) -> AssignmentResult:
    """Gradient projection, cold or warm from ``initial.paths`` (see :func:`assign`), on the
    validated demand ``parsed``."""
    od, dem = parsed.od, parsed.dem
    notes: list[str] = []
    reused = 0
    if isinstance(initial, AssignmentResult) and initial.paths is not None:
        store, pending, x, reused = _reuse(initial.paths, net, dem, initial)
        if not reused:
            notes.append("no path of initial could be reused: cold start")
    elif initial is not None:
        notes.append(
            "gp warm-starts from the paths of a previous gp result (initial=result), not "
            "from link flows: cold start"
        )
    if not reused:  # cold start: an empty store, every trip pending
        store = _empty_store(len(dem.od_trips))
        pending = dem.od_trips.copy()
        x = np.zeros(len(net.a))
    gaps = np.full(max_iter + 1, np.nan)
    keep, trees, source = _tree_store(net, dem, initial)
    opts = GpOptions(
        rgap=float(rgap),
        max_iter=int(max_iter),
        inner=int(inner),
        sweep_share=SWEEP_SHARE,
        pair_share=PAIR_SHARE,
        repair_share=REPAIR_SHARE,
        keep_trees=keep,
        n_blocks=4 * numba.get_num_threads(),
    )
    od_cost, it, gap, sptt, out = gp_solve(
        net.kernel(), dem.kernel(), store, pending, x, gaps, opts, trees, source
    )
    paths = PathSet(
        store=out,
        link_index=net.index,
        pairs=(net.node_ids, dem.origins, dem.od_ptr, dem.od_dest),
    )
    t = link_cost(x, net.a, net.b, net.p)
    return AssignmentResult(
        flow=pd.Series(x, index=net.index, name="flow"),
        cost=pd.Series(t, index=net.index, name="cost"),
        rgap=float(gap),
        iterations=int(it),
        tstt=dot(t, x),
        objective=float(beckmann(x, net.a, net.b, net.p)),
        sptt=float(sptt),
        converged=bool(gap <= rgap),
        gap_history=gaps[: it + 1],
        disconnected=unserved(od, dem, od_cost),
        warm_started=reused > 0,
        rerouted_closed=0,
        seconds=time.perf_counter() - start,
        algorithm="gp",
        notes=notes,
        paths=paths,
        warm_reused_paths=reused,
        trees=TreeSet(
            node_ids=net.node_ids,
            link_index=net.index,
            origins=dem.origins,
            barred=net.barred,
            pred=trees.pred,
            order=trees.order,
            reached=trees.reached,
        )
        if keep
        else None,
        _parsed=parsed,
        _net=net,
    )
