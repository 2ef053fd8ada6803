"""Static user-equilibrium traffic assignment on a link table: :func:`assign`, the solver
behind :func:`twin.traffic.assign`.

Each link costs ``t(v) = a + b·vᵖ`` at flow ``v``: by default the BPR function
``t0·(1 + α·(v/c)^β)`` (``a = t0``, ``b = t0·α/c^β``, ``p = β``), or, on links where the
columns ``cost_a``, ``cost_b``, ``cost_p`` are all given, that polynomial directly (this
covers textbook networks such as Braess's, whose costs ``10·v`` or ``50 + v`` are not BPR).

The user equilibrium minimises the Beckmann objective ``Σ ∫₀^v t(u) du``. The default
algorithm, path-based gradient projection (``gp``), is in :mod:`twin.sims.traffic.gp`; this
module holds the link-based Frank–Wolfe family (``fw``, ``cfw``, ``bfw``). Each iteration
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

import numba
import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.kernels.sp_update import empty_trees, store_aon
from twin.kernels.traffic import (
    aon,
    beckmann,
    dot,
    line_search,
    link_cost,
    link_cost_derivative,
    sp_tree,
)
from twin.sims.traffic.gp import assign_gp
from twin.sims.traffic.inputs import (
    demand_arrays,
    ids_of,
    node_balance,
    parse_demand,
    prepare_links,
)
from twin.sims.traffic.problem import (
    TREE_STORE_MAX,
    AssignmentResult,
    DemandArrays,
    LinkArrays,
    ParsedDemand,
    PathSet,
    unserved,
)
from twin.sims.traffic.warm_inputs import more_closed

__all__ = ["ALGORITHMS", "AssignmentResult", "PathSet", "assign", "node_balance"]

#: Algorithms of :func:`assign`; the first is the default.
ALGORITHMS = ("gp", "bfw", "cfw", "fw")
#: Largest conjugate weight (a weight of 1 would repeat the previous direction).
_CONJ_MAX = 0.99999


def assign(
    links: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    rgap: float = 1e-4,
    max_iter: int = 1000,
    algorithm: str = "gp",
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
    algorithm : {"gp", "bfw", "cfw", "fw"}
        Path-based gradient projection (``gp``, the default: reaches gaps of 1e-8 and below,
        and warm-starts from the paths of a previous ``gp`` result), or bi-conjugate,
        conjugate or plain Frank–Wolfe (link-based: cheaper per iteration on large networks,
        but slow to reach small gaps).
    first_thru_node : int, optional
        Nodes with a (numeric) id below it are zones: paths may start or end there but not
        pass through (the TNTP benchmark convention).
    initial : Series or AssignmentResult, optional
        Link flows [veh/h] on the links' index to start from, typically the equilibrium
        before a change (closure, capacity), or that previous result itself. With
        ``algorithm="gp"`` and a ``gp`` result, its paths are reused: paths over links now
        closed or gone are dropped and their trips (and trips of OD pairs whose demand
        changed, pro rata) are loaded on the current shortest paths (``gp`` does not start
        from link flows alone: a Series gives a cold start, with a note). With Frank–Wolfe
        algorithms, the flows must carry the same demand; flow on links now closed is first
        moved onto the shortest detour at the initial costs.
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
    _check_options(algorithm, rgap, max_iter, inner)
    parent = initial if isinstance(initial, AssignmentResult) else None
    net = (
        more_closed(links, first_thru_node, parent._net) if parent and parent._net else None
    ) or prepare_links(links, first_thru_node)
    prior = parent._parsed if parent is not None else None
    if prior is not None and prior.same(demand, net.node_ids):
        od, dem = prior.od, prior.dem  # a warm start on its parent's demand
    else:
        od = parse_demand(demand)
        dem = demand_arrays(od, net)
    parsed = ParsedDemand.of(demand, od, net.node_ids, dem)
    if algorithm == "gp":
        return assign_gp(net, parsed, initial, rgap, max_iter, inner, start)
    return _frank_wolfe(net, parsed, initial, rgap, max_iter, algorithm, start)


def _check_options(algorithm: str, rgap: float, max_iter: int, inner: int) -> None:
    """Raise an InputError on an unknown algorithm or out-of-range options."""
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


class _Loader:
    """All-or-nothing loading of a demand at given link costs, from a store of one
    shortest-path tree per origin updated from one loading to the next when it fits in
    TREE_STORE_MAX (:mod:`twin.kernels.sp_update`), else from trees built afresh.

    ``od_cost`` holds each pair's shortest cost [time unit] at the last loading (inf: no
    path).
    """

    def __init__(self, net: LinkArrays, dem: DemandArrays) -> None:
        self.net, self.dem = net, dem
        self.knet, self.kdem = net.kernel(), dem.kernel()
        self.od_cost = np.empty(len(dem.od_trips))
        self.blocks = 4 * numba.get_num_threads()
        n_nodes, n_orig = len(net.node_ids), len(dem.origins)
        fits = 0 < n_orig * n_nodes <= TREE_STORE_MAX
        self.trees = empty_trees(n_orig, n_nodes) if fits else None

    def __call__(self, cost: np.ndarray) -> tuple[np.ndarray, float]:
        """Link flows [veh/h] of the loading at link costs ``cost`` and its total shortest
        travel time ``Σ trips·cost`` over the connected pairs [veh·time unit/h]."""
        od_cost = self.od_cost
        if self.trees is None:
            y = aon(self.knet, cost, self.kdem, od_cost, self.blocks)
        else:
            y = store_aon(self.knet, cost, self.kdem, od_cost, self.blocks, self.trees)
        ok = np.isfinite(od_cost)
        return y, dot(self.dem.od_trips[ok], od_cost[ok])


def _frank_wolfe(
    net: LinkArrays,
    parsed: ParsedDemand,
    initial: pd.Series | AssignmentResult | None,
    rgap: float,
    max_iter: int,
    algorithm: str,
    start: float,
) -> AssignmentResult:
    """Frank–Wolfe, conjugate or bi-conjugate Frank–Wolfe (see :func:`assign`) from free flow
    or from ``initial`` link flows [veh/h]; ``start`` is the solve's start time [s]."""
    od, dem = parsed.od, parsed.dem
    load = _Loader(net, dem)
    y, _ = load(link_cost(np.zeros(len(net.index)), net.a, net.b, net.p))
    disconnected = unserved(od, dem, load.od_cost)
    connected = np.ones(len(od), dtype=bool)
    connected[dem.order[~np.isfinite(load.od_cost)]] = False
    notes: list[str] = []
    if isinstance(initial, AssignmentResult):
        initial = initial.flow
    fixed = _warm_flows(initial, net, od[connected]) if initial is not None else None
    x, moved = fixed if fixed is not None else (y, 0)
    warm = fixed is not None
    if initial is not None and not warm:
        notes.append("initial flows could not be moved off closed links: cold start")
    x, it, gap, sptt, history = _fw_iterations(net, load, x, rgap, max_iter, algorithm)
    t = link_cost(x, net.a, net.b, net.p)
    return AssignmentResult(
        flow=pd.Series(x, index=net.index, name="flow"),
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


def _warm_flows(
    initial: pd.Series, net: LinkArrays, od: pd.DataFrame
) -> tuple[np.ndarray, int] | None:
    """Initial link flows [veh/h] moved off closed links onto detours, and the number of
    links moved; None when a closed link has no detour.

    Raises
    ------
    InputError
        When the flows do not carry the connected pairs ``od`` (flow not conserved).
    """
    x0 = _initial(initial, net)
    fixed = _repair(x0, net, link_cost(x0, net.a, net.b, net.p))
    if fixed is None:
        return None
    ends = pd.DataFrame({"a_node": net.node_ids[net.tails], "b_node": net.node_ids[net.heads]})
    bal = node_balance(ends, pd.Series(fixed[0]), od)
    if bal.abs().max() > 1e-6 * max(1.0, float(od["trips"].sum())):
        worst = bal.abs().sort_values(ascending=False).index[:5].tolist()
        msg = message(
            f"initial flows do not carry this demand (flow is not conserved at nodes {worst})",
            where="assign(initial=...)",
            fix="start from flows assigned with the same demand, or omit initial",
        )
        raise InputError(msg)
    return fixed


def _fw_iterations(
    net: LinkArrays, load: _Loader, x: np.ndarray, rgap: float, max_iter: int, algorithm: str
) -> tuple[np.ndarray, int, float, float, list[float]]:
    """Frank–Wolfe-family iterations from link flows ``x`` [veh/h] until the relative gap is
    at most ``rgap`` or ``max_iter`` steps were taken.

    Returns
    -------
    tuple
        Final flows [veh/h], steps taken, final gap [-], total shortest travel time at the
        final costs [veh·time unit/h], and the gap measured before each step.
    """
    history: list[float] = []
    s_prev: np.ndarray | None = None
    s_prev2: np.ndarray | None = None
    tau = 1.0
    mode = "fw"
    it = 0
    while True:
        t = link_cost(x, net.a, net.b, net.p)
        y, sptt = load(t)
        tstt = dot(t, x)
        gap = (tstt - sptt) / tstt if tstt > 0 else 0.0
        history.append(gap)
        if gap <= rgap or it >= max_iter:
            return x, it, gap, sptt, history
        s = _direction(mode, net, x, y, s_prev, s_prev2, tau)
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


def _direction(
    mode: str,
    net: LinkArrays,
    x: np.ndarray,
    y: np.ndarray,
    s_prev: np.ndarray | None,
    s_prev2: np.ndarray | None,
    tau: float,
) -> np.ndarray:
    """Search target of one step [veh/h]: the all-or-nothing flows ``y`` (``fw``), their
    conjugate with the previous target (``cfw``) or bi-conjugate with the two previous
    targets (``bfw``; ``tau`` is the last step length), after Mitradjieva & Lindberg (2013)."""
    if mode == "cfw" and s_prev is not None:
        h = link_cost_derivative(x, net.b, net.p)
        u = s_prev - x
        den = float(np.sum(h * u * (y - s_prev)))
        ac = float(np.sum(h * u * (y - x))) / den if den != 0 else 0.0
        ac = min(max(ac, 0.0), _CONJ_MAX)
        return ac * s_prev + (1 - ac) * y
    if mode == "bfw" and s_prev is not None and s_prev2 is not None:
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
        return b0 * y + nu * b0 * s_prev + mu * b0 * s_prev2
    return y


def _repair(x: np.ndarray, net: LinkArrays, cost: np.ndarray) -> tuple[np.ndarray, int] | None:
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


def _initial(initial: pd.Series, net: LinkArrays) -> np.ndarray:
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
            f"initial flows on {len(extra)} links that are not in links (links {ids_of(extra)})",
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
