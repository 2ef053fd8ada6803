"""Directed networks from line layers (street centre-lines, pipes, feeders).

Nodes are the line end points, merged when they fall within ``snap_tolerance_m`` of each other
(clusters of a KD-tree's pairs, so no grid artefacts). Each line becomes one link per allowed
direction; a direction field says which: both ways, the drawn direction only, the reverse
only, or none (closed). French centre-line databases (e.g. Montpellier's ``SENS_CIRCU``)
draw one-way streets in their traffic direction; that convention is the default and is
recorded in provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.cluster.hierarchy import DisjointSet
from scipy.spatial import cKDTree

from twin.errors import InputError, SchemaError, message
from twin.io._common import to_metric_crs
from twin.io.registry import loader
from twin.io.vector import read_vector
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance


def snap_endpoints(
    lines: gpd.GeoSeries, tolerance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge line end points closer than ``tolerance_m`` into nodes.

    Parameters
    ----------
    lines : GeoSeries
        LineStrings in a projected CRS [m].
    tolerance_m : float
        Snapping distance [m].

    Returns
    -------
    a, b : ndarray of int64
        Node number of each line's first and last point.
    xy : ndarray of float64, shape (n_nodes, 2)
        Node coordinates (mean of the merged points) [m].
    """
    first = shapely.get_coordinates(shapely.get_point(lines.values, 0))
    last = shapely.get_coordinates(shapely.get_point(lines.values, -1))
    pts = np.vstack([first, last])
    n = len(pts)
    ds = DisjointSet(range(n))
    for i, j in cKDTree(pts).query_pairs(tolerance_m, output_type="ndarray"):
        ds.merge(int(i), int(j))
    roots = np.fromiter((ds[i] for i in range(n)), dtype=np.int64, count=n)
    _, label = np.unique(roots, return_inverse=True)
    xy = np.zeros((label.max() + 1, 2))
    np.add.at(xy, label, pts)
    xy /= np.bincount(label)[:, None]
    m = len(lines)
    return label[:m].astype(np.int64), label[m:].astype(np.int64), xy


def network_from_lines(
    lines: gpd.GeoDataFrame,
    *,
    direction: str | None = None,
    both: Sequence[str] = ("DOUBLE SENS", "both", "no", "2"),
    forward: Sequence[str] = ("SENS UNIQUE", "forward", "yes", "1"),
    backward: Sequence[str] = ("backward", "-1"),
    closed: Sequence[str] = ("INTERDIT", "closed"),
    missing: str = "both",
    snap_tolerance_m: float = 0.5,
    prov: Provenance | None = None,
) -> Network:
    """Build a directed :class:`~twin.model.Network` from lines.

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings (MultiLineStrings are merged) in a projected CRS, with a unique index.
    direction : str, optional
        Field telling the traffic direction; all lines are two-way without it.
    both, forward, backward, closed : sequence of str
        Values of ``direction`` meaning two-way, drawn direction only, reverse only, and closed.
    missing : {"both", "forward", "closed"}
        Treatment of empty or unknown direction values (recorded as ASSUMED in provenance).
    snap_tolerance_m : float
        End points closer than this [m] are one node.
    prov : Provenance, optional
        Receives the counts and assumptions.

    Returns
    -------
    Network
        Links keep every input column plus ``a_node``, ``b_node``, ``length_m``, ``line_id``.
    """
    if lines.crs is None:
        msg = message(
            "network lines have no CRS",
            where="network",
            fix="declare the file's crs in the layer manifest",
        )
        raise InputError(msg)
    lines = to_metric_crs(lines, prov if prov is not None else Provenance("network lines"))
    geoms = (
        lines.geometry.line_merge()
        if (lines.geom_type == "MultiLineString").any()
        else (lines.geometry)
    )
    ok = geoms.geom_type == "LineString"
    if not ok.all():
        bad = lines.index[~ok][:5].tolist()
        msg = message(
            f"{int((~ok).sum())} features are not single lines (e.g. ids {bad})",
            where="network",
            fix="split multi-part lines or remove non-line features",
        )
        raise InputError(msg)
    lines = lines.set_geometry(geoms)
    a, b, xy = snap_endpoints(lines.geometry, snap_tolerance_m)
    if direction is None:
        code = np.array(["both"] * len(lines))
        if prov is not None:
            prov.derived["direction"] = (
                "no direction field given: every line ASSUMED open both ways (set the "
                "loader's direction option to the field holding one-way information)"
            )
    else:
        if direction not in lines.columns:
            msg = message(
                f"direction field '{direction}' not found",
                where="network",
                fix=f"use one of {[c for c in lines.columns if c != 'geometry']}",
            )
            raise SchemaError(msg)
        v = lines[direction].astype(str).str.strip()
        code = np.select(
            [v.isin(both), v.isin(forward), v.isin(backward), v.isin(closed)],
            ["both", "forward", "backward", "closed"],
            default=missing,
        )
        if prov is not None:
            unknown = ~v.isin([*both, *forward, *backward, *closed])
            prov.counts["direction_assumed"] = int(unknown.sum())
            prov.derived["direction"] = (
                f"'{direction}' values {list(forward)} = drawn direction only (ASSUMED digitising "
                f"convention); empty or other values treated as '{missing}' (ASSUMED)"
            )
    fwd = np.isin(code, ["both", "forward"])
    bwd = np.isin(code, ["both", "backward"])
    base = pd.DataFrame(lines.drop(columns=lines.geometry.name))
    base["line_id"] = lines.index.astype(str)
    base["length_m"] = lines.geometry.length.to_numpy()
    f = base[fwd].assign(a_node=a[fwd], b_node=b[fwd], geometry=lines.geometry.to_numpy()[fwd])
    f.index = f["line_id"] + ":f"
    r = base[bwd].assign(
        a_node=b[bwd], b_node=a[bwd], geometry=lines.geometry.reverse().to_numpy()[bwd]
    )
    r.index = r["line_id"] + ":r"
    links = gpd.GeoDataFrame(pd.concat([f, r]), geometry="geometry", crs=lines.crs)
    links.index.name = "id"
    nodes = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=lines.crs,
        index=pd.Index(np.arange(len(xy)), name="id"),
    )
    if prov is not None:
        prov.counts.update(
            {
                "links": len(links),
                "nodes": len(nodes),
                "closed_lines": int((code == "closed").sum()),
            }
        )
        prov.step(f"built a directed network; end points within {snap_tolerance_m} m merged")
    return Network(nodes=nodes, links=links)


@loader("network.lines", kind="network")
def load_line_network(
    source: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    mapping: dict[str, str] | None = None,
    crs: str | int | None = None,
    id: str | None = None,
    direction: str | None = None,
    both: list[str] = ["DOUBLE SENS", "both", "no", "2"],  # noqa: B006 - read-only defaults
    forward: list[str] = ["SENS UNIQUE", "forward", "yes", "1"],  # noqa: B006
    backward: list[str] = ["backward", "-1"],  # noqa: B006
    closed: list[str] = ["INTERDIT", "closed"],  # noqa: B006
    missing: str = "both",
    snap_tolerance_m: float = 0.5,
) -> Layer:
    """A directed network from a line file (see :func:`network_from_lines`)."""
    gdf, prov = read_vector(source, layer=layer, encoding=encoding, mapping=mapping, crs=crs, id=id)
    gdf = to_metric_crs(gdf, prov)
    net = network_from_lines(
        gdf,
        direction=direction,
        both=both,
        forward=forward,
        backward=backward,
        closed=closed,
        missing=missing,
        snap_tolerance_m=snap_tolerance_m,
        prov=prov,
    )
    return Layer(source.stem, "network", net, prov)
