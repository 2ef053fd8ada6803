"""Validation of the link and demand tables given to :func:`twin.traffic.assign`, and their
conversion to kernel arrays (:class:`~twin.sims.traffic.problem.LinkArrays`,
:class:`~twin.sims.traffic.problem.DemandArrays`).

Every rejected input raises :class:`twin.errors.InputError` naming the offending links, rows
or ids, the field and the fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.kernels.traffic import csr_order
from twin.sims.traffic.problem import (
    LINK_COLUMNS,
    OD_COLUMNS,
    POLY_COLUMNS,
    DemandArrays,
    LinkArrays,
    closed_links,
)


def ids_of(values: pd.Index | pd.Series, limit: int = 5) -> list[object]:
    """The first ``limit`` ids of ``values`` as Python scalars (for error messages)."""
    return [v.item() if hasattr(v, "item") else v for v in list(values)[:limit]]


def _bad(mask: np.ndarray, index: pd.Index, what: str, field_: str, fix: str) -> None:
    """Raise an InputError naming the links flagged in ``mask``, if any."""
    if mask.any():
        bad = ids_of(index[mask])
        msg = message(
            f"{int(mask.sum())} links {what} (links {bad})",
            where=f"links, field {field_}",
            fix=fix,
        )
        raise InputError(msg)


def _numeric(links: pd.DataFrame, col: str, rows: np.ndarray) -> np.ndarray:
    """Column ``col`` as floats (NaN where missing), required on the links flagged in
    ``rows``."""
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


def _check_table(links: pd.DataFrame) -> None:
    """Check that ``links`` is a non-empty DataFrame with unique ids and both end nodes."""
    if not isinstance(links, pd.DataFrame):
        msg = message(
            f"links must be a DataFrame, not {type(links).__name__}",
            where="links",
            fix="pass a DataFrame with a_node, b_node, capacity, free_flow_time",
        )
        raise InputError(msg)
    idx = links.index
    if not idx.is_unique:
        dup = ids_of(idx[idx.duplicated()].unique())
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


def _poly_links(links: pd.DataFrame) -> np.ndarray:
    """Whether each link has a polynomial cost (all of ``cost_a``, ``cost_b``, ``cost_p``)."""
    if not any(c in links.columns for c in POLY_COLUMNS):
        return np.zeros(len(links), dtype=bool)
    missing = [c for c in POLY_COLUMNS if c not in links.columns]
    if missing:
        msg = message(
            f"polynomial costs need columns {list(POLY_COLUMNS)}, missing {missing}",
            where="links",
            fix="give cost_a, cost_b and cost_p, or none of them",
        )
        raise InputError(msg)
    return links[list(POLY_COLUMNS)].notna().all(axis=1).to_numpy()


def _bpr_costs(
    links: pd.DataFrame, bpr: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray
) -> None:
    """Write the BPR cost ``t0·(1 + α·(v/c)^β)`` of the links flagged in ``bpr`` as
    ``a + b·vᵖ`` into ``a``, ``b``, ``p`` (``a = t0``, ``b = t0·α/c^β``, ``p = β``)."""
    n, idx = len(links), links.index
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
    none = np.zeros(n, bool)
    alpha = (
        np.nan_to_num(_numeric(links, "alpha", none), nan=0.15)
        if "alpha" in links
        else np.full(n, 0.15)
    )
    beta = (
        np.nan_to_num(_numeric(links, "beta", none), nan=4.0)
        if "beta" in links
        else np.full(n, 4.0)
    )
    _bad(bpr & (alpha < 0), idx, "have a negative alpha", "alpha", "use alpha ≥ 0 (e.g. 0.15)")
    _bad(bpr & (beta < 0), idx, "have a negative beta", "beta", "use beta ≥ 0 (default 4)")
    a[bpr] = t0[bpr]
    b[bpr] = t0[bpr] * alpha[bpr] / cap[bpr] ** beta[bpr]
    p[bpr] = beta[bpr]


def _poly_costs(
    links: pd.DataFrame,
    poly: np.ndarray,
    live: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
) -> None:
    """Write the polynomial costs of the links flagged in ``poly`` into ``a``, ``b``, ``p``,
    checked on the open ones (``live``)."""
    idx = links.index
    pa, pb, pp = (_numeric(links, c, live) for c in POLY_COLUMNS)
    for col, s in zip(POLY_COLUMNS, (pa, pb, pp), strict=True):
        _bad(live & (s < 0), idx, f"have a negative {col}", col, f"use {col} ≥ 0")
    _bad(
        live & (pa == 0) & (pb == 0),
        idx,
        "cost nothing at any flow",
        "cost_a, cost_b",
        "give a positive cost_a or cost_b",
    )
    a[poly], b[poly], p[poly] = pa[poly], pb[poly], pp[poly]


def _barred(node_ids: pd.Index, first_thru_node: int | None) -> np.ndarray:
    """Whether each node is a zone that paths may not pass through (id below
    ``first_thru_node``)."""
    if first_thru_node is None:
        return np.zeros(len(node_ids), dtype=np.bool_)
    try:
        return np.asarray(pd.to_numeric(pd.Series(node_ids)) < first_thru_node)
    except (TypeError, ValueError):
        msg = message(
            "first_thru_node needs numeric node ids",
            where="links, a_node/b_node",
            fix="number the nodes, or pass first_thru_node=None",
        )
        raise InputError(msg) from None


def prepare_links(links: pd.DataFrame, first_thru_node: int | None = None) -> LinkArrays:
    """Validate a link table and convert it to kernel arrays.

    Parameters
    ----------
    links : DataFrame
        The link table of :func:`twin.traffic.assign`.
    first_thru_node : int, optional
        Nodes with a numeric id below it are zones, never passed through.

    Returns
    -------
    LinkArrays
        Link costs ``a + b·vᵖ`` [time unit of ``free_flow_time``, flows in veh/h] (closed
        BPR links cost nothing), the node numbering and the CSR form over the open links.

    Raises
    ------
    InputError
        Naming the offending links, field and fix.
    """
    _check_table(links)
    n = len(links)
    is_open = ~closed_links(links)
    poly = _poly_links(links)
    a, b, p = np.zeros(n), np.zeros(n), np.ones(n)
    bpr = is_open & ~poly
    if bpr.any():
        _bpr_costs(links, bpr, a, b, p)
    if poly.any():
        _poly_costs(links, poly, poly & is_open, a, b, p)
    an, bn = links["a_node"].to_numpy(), links["b_node"].to_numpy()
    node_ids = pd.Index(pd.unique(np.concatenate([an, bn])))
    tails = node_ids.get_indexer(an).astype(np.int64)
    heads = node_ids.get_indexer(bn).astype(np.int64)
    indptr, order = csr_order(tails, is_open, len(node_ids))
    return LinkArrays(
        index=links.index,
        node_ids=node_ids.to_numpy(),
        tails=tails,
        heads=heads,
        a=a,
        b=b,
        p=p,
        open=is_open,
        indptr=indptr,
        csr_heads=heads[order],
        csr_link=order,
        barred=_barred(node_ids, first_thru_node),
        raw={c: links[c].to_numpy().copy() for c in LINK_COLUMNS if c in links.columns},
        first_thru_node=first_thru_node,
        poly=poly,
    )


def parse_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Demand as a table ``origin, destination, trips`` (pairs summed, zeros and o = d dropped).

    Parameters
    ----------
    demand : DataFrame
        Either a table with columns ``origin``, ``destination``, ``trips`` [veh/h] (node ids),
        or a square matrix whose index (origins) and columns (destinations) are node ids.

    Returns
    -------
    DataFrame
        One row per OD pair with trips [veh/h] > 0, sorted by origin then destination.

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
    if set(OD_COLUMNS) <= set(demand.columns):
        od = demand[list(OD_COLUMNS)].copy()
    elif demand.shape[0] == demand.shape[1] and set(demand.index) == set(demand.columns):
        return _matrix_od(demand)
    else:
        msg = message(
            "demand is neither an OD table nor a square matrix",
            where="demand",
            fix="give columns origin, destination, trips, or a square DataFrame with "
            "the same zone ids as index and columns",
        )
        raise InputError(msg)
    od["trips"] = _checked_trips(od)
    od = od[(od["trips"] > 0) & (od["origin"] != od["destination"])]
    if _sorted_unique(od["origin"].to_numpy(), od["destination"].to_numpy()):
        return od.reset_index(drop=True)  # already one row per pair, in order
    return od.groupby(["origin", "destination"], as_index=False, sort=True)["trips"].sum()


def _matrix_od(demand: pd.DataFrame) -> pd.DataFrame:
    """The OD table of a square demand matrix [veh/h]: its positive off-diagonal cells, sorted
    by origin then destination."""
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
            f"(e.g. origin {ids_of([demand.index[i]])[0]}, "
            f"destination {ids_of([demand.columns[j]])[0]})",
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


def _checked_trips(od: pd.DataFrame) -> pd.Series:
    """The ``trips`` column of an OD table as floats [veh/h], checked finite and ≥ 0."""
    trips = pd.to_numeric(od["trips"], errors="coerce")
    for mask, what, fix in (
        (trips.isna(), "missing or non-numeric trips", "give a number of trips on every row"),
        (trips < 0, "negative trips", "trips must be ≥ 0 [veh/h]"),
        (~np.isfinite(trips.fillna(0)), "infinite trips", "give finite trips"),
    ):
        if mask.any():
            rows = ids_of(od.index[mask.to_numpy()])
            msg = message(
                f"{int(mask.sum())} OD rows have {what} (rows {rows})",
                where="demand, field trips",
                fix=fix,
            )
            raise InputError(msg)
    return trips.astype(float)


def _sorted_unique(o: np.ndarray, d: np.ndarray) -> bool:
    """Whether numeric pairs ``(o, d)`` are strictly increasing (sorted, no duplicate)."""
    if o.dtype.kind not in "iuf" or d.dtype.kind not in "iuf":
        return False
    if len(o) < 2:
        return True
    o0, o1, d0, d1 = o[:-1], o[1:], d[:-1], d[1:]
    return bool(np.all((o0 < o1) | ((o0 == o1) & (d0 < d1))))


def demand_arrays(od: pd.DataFrame, net: LinkArrays) -> DemandArrays:
    """The pairs of a parsed OD table (:func:`parse_demand`) over the nodes of ``net``,
    grouped by origin.

    Raises
    ------
    InputError
        When an origin or destination is not a node of the links.
    """
    idx = pd.Index(net.node_ids)
    o = idx.get_indexer(od["origin"])
    d = idx.get_indexer(od["destination"])
    for col, pos in (("origin", o), ("destination", d)):
        if (pos < 0).any():
            bad = ids_of(pd.unique(od[col].to_numpy()[pos < 0]))
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
    return DemandArrays(origins.astype(np.int64), od_ptr, d.astype(np.int64), t, order)


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
