"""What a warm start takes over from its parent's inputs: the link arrays, when only closures
changed.

A scenario's closure re-runs :func:`twin.traffic.assign` on its parent's link table with more
links marked ``closed``. :func:`more_closed` recognises that case, comparing the table's end
and cost columns with the parent's, value for value, and then takes the parent's validated
kernel arrays: the newly closed links get the costs a fresh validation gives closed links, and
the network's CSR is rebuilt over the open ones. Any other change (a capacity, a link
reopened, other columns or options) is validated afresh by
:func:`twin.sims.traffic.inputs.prepare_links`. Taking the arrays over is several times
faster than validating the table again (figures in docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from twin.kernels.traffic import csr_order
from twin.sims.traffic.problem import LINK_COLUMNS, LinkArrays, closed_links, same_values


def more_closed(
    links: pd.DataFrame, first_thru_node: int | None, parent: LinkArrays
) -> LinkArrays | None:
    """The parent's kernel arrays with the links now closed, or None if more changed.

    Parameters
    ----------
    links : DataFrame
        The link table given to :func:`twin.traffic.assign`.
    first_thru_node : int or None
        Its ``first_thru_node``.
    parent : LinkArrays
        The arrays of the parent solve (``AssignmentResult._net``).

    Returns
    -------
    LinkArrays or None
        What :func:`twin.sims.traffic.inputs.prepare_links` would return (tested), or None
        when the table differs from the parent's in more than closures.
    """
    if (
        not isinstance(links, pd.DataFrame)
        or first_thru_node != parent.first_thru_node
        or parent.poly is None
        or not links.index.equals(parent.index)
        or {c for c in LINK_COLUMNS if c in links.columns} != set(parent.raw)
    ):
        return None
    for col, old in parent.raw.items():
        if not same_values(links[col].to_numpy(), old):
            return None
    is_open = ~closed_links(links)
    if (is_open & ~parent.open).any():  # a link reopened: its costs were never validated
        return None
    a, b, p = parent.a.copy(), parent.b.copy(), parent.p.copy()
    shut = parent.open & ~is_open & ~parent.poly  # closed BPR links cost nothing, as validated
    a[shut], b[shut], p[shut] = 0.0, 0.0, 1.0
    indptr, order = csr_order(parent.tails, is_open, len(parent.node_ids))
    return replace(
        parent,
        index=links.index,
        a=a,
        b=b,
        p=p,
        open=is_open,
        indptr=indptr,
        csr_heads=parent.heads[order],
        csr_link=order,
    )
