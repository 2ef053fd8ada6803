"""Networks as node/link tables plus compact CSR arrays for the kernels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from twin.errors import InputError, message


@dataclass(frozen=True)
class CSR:
    """Compressed-sparse-row adjacency of a directed network.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_nodes + 1,)
        Links leaving node position ``i`` are ``indptr[i]:indptr[i+1]``.
    heads : ndarray of int64, shape (n_links,)
        Position of the head node of each link, in CSR order.
    link : ndarray of int64, shape (n_links,)
        Position (row number in ``links``) of each link, in CSR order.
    node_ids : ndarray
        Node id of each node position.
    """

    indptr: NDArray[np.int64]
    heads: NDArray[np.int64]
    link: NDArray[np.int64]
    node_ids: NDArray[np.generic]


@dataclass(frozen=True)
class EngineModel:
    """The file an engine reads a network from, kept whole beside the network's tables.

    A water or power simulation needs what the node and link tables do not hold (EPANET
    patterns, curves, controls and options; a pandapower net's loads, transformers and
    parameters): the loader keeps the source file's text so the twin stays self-contained.

    Attributes
    ----------
    engine : {"epanet", "pandapower"}
        Which engine reads ``text``.
    text : str
        The file's content: an EPANET ``.inp`` file or a pandapower JSON net.
    """

    engine: str
    text: str

    #: File suffix of each engine's model in a twin directory.
    SUFFIX: ClassVar[dict[str, str]] = {"epanet": "inp", "pandapower": "json"}


@dataclass
class Network:
    """A directed network.

    Attributes
    ----------
    nodes : GeoDataFrame
        Point nodes, indexed by a unique node id.
    links : GeoDataFrame
        Directed links indexed by a unique link id, with columns ``a_node`` and ``b_node``
        (node ids). A two-way street is two links.
    model : EngineModel, optional
        The engine file the network was read from (water and power networks).
    """

    nodes: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    model: EngineModel | None = None
    _csr: CSR | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check ids are unique and every link end is a known node.

        Raises
        ------
        InputError
            Naming the first offending links.
        """
        for name, table in (("nodes", self.nodes), ("links", self.links)):
            if not table.index.is_unique:
                dup = table.index[table.index.duplicated()].unique()[:5].tolist()
                msg = message(
                    f"{name} ids are not unique (e.g. {dup})",
                    where=f"network {name}",
                    fix="give each feature its own id",
                )
                raise InputError(msg)
        for col in ("a_node", "b_node"):
            if col not in self.links.columns:
                msg = message(
                    f"links have no '{col}' column",
                    where="network links",
                    fix="provide a_node and b_node (node ids) for every link",
                )
                raise InputError(msg)
            unknown = ~self.links[col].isin(self.nodes.index)
            if unknown.any():
                bad = self.links.index[unknown][:5].tolist()
                msg = message(
                    f"{int(unknown.sum())} links have a {col} that is not a node id (links {bad})",
                    where=f"network links, field {col}",
                    fix="make every link end a node id, or drop those links",
                )
                raise InputError(msg)

    @property
    def csr(self) -> CSR:
        """CSR arrays of the network, computed once."""
        if self._csr is None:
            self._csr = build_csr(self)
        return self._csr

    def __len__(self) -> int:
        return len(self.links)


def build_csr(net: Network) -> CSR:
    """Build CSR adjacency arrays from a network's link table.

    Parameters
    ----------
    net : Network
        The network.

    Returns
    -------
    CSR
        Arrays for the numba kernels.
    """
    node_ids = net.nodes.index.to_numpy()
    pos = {nid: i for i, nid in enumerate(node_ids)}
    a = np.fromiter((pos[v] for v in net.links["a_node"]), dtype=np.int64, count=len(net.links))
    b = np.fromiter((pos[v] for v in net.links["b_node"]), dtype=np.int64, count=len(net.links))
    order = np.argsort(a, kind="stable")
    counts = np.bincount(a, minlength=len(node_ids))
    indptr = np.zeros(len(node_ids) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return CSR(indptr=indptr, heads=b[order], link=order.astype(np.int64), node_ids=node_ids)


def adjacency(net: Network, weight: np.ndarray, ok: np.ndarray) -> Any:
    """The network as a sparse node × node matrix of link weights, for scipy's graph routines.

    Parameters
    ----------
    net : Network
        The network (nodes in the order of ``net.nodes``).
    weight : ndarray
        One weight per link (e.g. free-flow time [s]), in link order.
    ok : ndarray of bool
        Links to keep (open links).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``[a, b]`` holds the smallest weight of the kept links from node ``a`` to ``b``;
        weights are at least 1e-6 (a zero would vanish from a sparse matrix).
    """
    from scipy.sparse import csr_matrix

    pos = pd.Index(net.nodes.index)
    a = pos.get_indexer(net.links["a_node"])[ok]
    b = pos.get_indexer(net.links["b_node"])[ok]
    w = np.maximum(np.asarray(weight, dtype=float)[ok], 1e-6)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    n = len(pos)
    return csr_matrix((w[first], (a[first], b[first])), shape=(n, n))
