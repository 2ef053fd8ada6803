"""Electricity distribution networks from line and substation layers.

The inputs are a layer of feeder or line sections (LineStrings, in GeoPackage, GeoJSON,
Shapefile…) and, optionally, a layer of substations (points). What is **read** and what is
**derived**:

* read: the line geometries and their attributes, renamed with ``mapping``
  (``{twin_name: source_column}``, e.g. ``{"voltage_kv": "tension_kv"}``); the substations and
  their attributes;
* derived: the **nodes** — line end points merged when closer than ``snap_tolerance_m``
  (clusters of a KD-tree's neighbour pairs, :func:`twin.io.linenet.snap_endpoints`), placed at
  the mean of the merged points; each link's ``a_node``/``b_node`` (its first and last point's
  node) and ``length_m`` (geometric length in the projected CRS); ``voltage_kv`` from a
  ``voltage_v`` field [V] when only that is given; each substation is attached to the
  **nearest node** (``substation`` and ``substation_distance_m`` on the nodes,
  ``node_type = "substation"``), with the substation's own attributes copied as
  ``substation_<field>`` (e.g. ``substation_voltage_kv``, ``substation_rated_mva``: map the
  source fields with ``substations_mapping``), so that interventions can target substations
  by name or attribute (``where: {substation_nom: "Poste Nord"}``); ``degree`` (number of
  line ends at a node); ``in_service = True`` on nodes and links;
* switches: a line field ``closed`` (map it, e.g. ``{closed: etat}``) says whether the switch
  of a line section is closed — true/false, 1/0, yes/no, closed/open, fermé/ouvert; a line
  without that field, or with an empty value, is closed. An open line conducts nothing.

Lines must be split where they meet (noded): a line ending on the interior of another is not
connected to it. Lines whose two ends merge into one node (loops shorter than the tolerance,
or closed rings) are dropped and counted. Each line is **one link**: power flows both ways,
so links carry ``bidirectional = True``; the ``a_node``/``b_node`` order is the drawing order.
Geographic (longitude/latitude) inputs are projected to the territory's working CRS first.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from twin.errors import InputError, SchemaError, message
from twin.io._common import to_metric_crs
from twin.io.linenet import snap_endpoints
from twin.io.registry import loader
from twin.io.vector import read_vector
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance


def _numeric_field(df: pd.DataFrame, col: str, where: Path) -> pd.Series:
    raw = df[col]
    text = raw.astype("string").str.strip().str.replace(",", ".", regex=False)
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() & text.notna() & (text != "")
    if bad.any():
        ids = df.index[bad][:10].tolist()
        msg = message(
            f"{int(bad.sum())} non-numeric values in field '{col}' (features {ids}, "
            f"e.g. {text[bad].iloc[0]!r})",
            where=where,
            fix="give plain numbers, in the unit of the field name",
        )
        raise InputError(msg)
    return out.astype("float64")


def _single_lines(lines: gpd.GeoDataFrame, path: Path, prov: Provenance) -> gpd.GeoDataFrame:
    """Merge multi-part lines; split what stays multi-part into one feature per part."""
    geoms = lines.geometry
    multi = (geoms.geom_type == "MultiLineString").to_numpy()
    if multi.any():
        merged = shapely.line_merge(geoms.to_numpy()[multi])
        lines = lines.copy()
        lines.loc[multi, lines.geometry.name] = merged
        still = lines.geom_type == "MultiLineString"
        if still.any():
            parts = lines.loc[still].explode(index_parts=True)
            parts.index = [f"{i}:{k}" for i, k in parts.index]
            lines = pd.concat([lines.loc[~still], parts])
            prov.counts["split_multilines"] = int(still.sum())
            prov.step(f"split {int(still.sum())} multi-part lines into their parts")
    ok = (lines.geom_type == "LineString").to_numpy()
    if not ok.all():
        bad = lines.index[~ok][:10].tolist()
        msg = message(
            f"{int((~ok).sum())} features are not lines ({sorted(set(lines.geom_type[~ok]))}, "
            f"ids {bad})",
            where=path,
            fix="give a layer of LineStrings (the feeder sections), or choose lines_layer:",
        )
        raise InputError(msg)
    return lines


def energy_network(
    lines: gpd.GeoDataFrame,
    substations: gpd.GeoDataFrame | None = None,
    *,
    snap_tolerance_m: float = 1.0,
    prov: Provenance | None = None,
    where: str | Path = "energy network",
) -> Network:
    """Build a :class:`~twin.model.Network` from line sections and substation points.

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings with a unique index (the link ids); reprojected to a true-scale CRS
        before lengths are measured when theirs is geographic or distorted (Web Mercator).
    substations : GeoDataFrame, optional
        Points indexed by substation id (reprojected to the lines' CRS).
    snap_tolerance_m : float
        End points closer than this [m] are one node.
    prov : Provenance, optional
        Receives counts, steps and derived rules.
    where : str or Path
        For messages.

    Returns
    -------
    Network
        Nodes ``n0, n1, …`` with ``node_type`` (``"substation"``, ``"junction"`` for three
        or more line ends, ``"end"`` for one, ``"node"`` for two), ``degree``,
        ``substation``, ``substation_distance_m``; links keep the line attributes plus
        ``a_node``, ``b_node``, ``length_m``, ``voltage_kv``, ``bidirectional``.
    """
    prov = prov if prov is not None else Provenance(source=str(where))
    if lines.crs is None:
        msg = message(
            "energy lines have no CRS",
            where=where,
            fix="declare the file's crs in the layer manifest",
        )
        raise InputError(msg)
    lines = to_metric_crs(lines, prov)
    if substations is not None and substations.crs is not None:
        substations = substations.to_crs(lines.crs)
    if not snap_tolerance_m >= 0:
        msg = message(
            f"snap_tolerance_m must be ≥ 0, not {snap_tolerance_m}",
            where=where,
            fix="give a distance in metres such as 1.0",
        )
        raise SchemaError(msg)
    a, b, xy = snap_endpoints(lines.geometry, snap_tolerance_m)
    loop = a == b
    if loop.any():
        prov.counts["dropped_loops"] = int(loop.sum())
        prov.step(f"dropped {int(loop.sum())} lines whose ends merge into one node")
        lines, a, b = lines.loc[~loop], a[~loop], b[~loop]
    if len(lines) == 0:
        msg = message(
            "no line is left once ends closer than the tolerance are merged",
            where=where,
            fix="lower snap_tolerance_m",
        )
        raise InputError(msg)
    used, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    a2, b2 = inv[: len(a)], inv[len(a) :]
    xy = xy[used]
    node_ids = np.array([f"n{i}" for i in range(len(used))], dtype=object)
    degree = np.bincount(np.concatenate([a2, b2]), minlength=len(used))
    node_type = np.where(degree >= 3, "junction", np.where(degree == 1, "end", "node"))
    nodes = gpd.GeoDataFrame(
        {
            "node_type": node_type.astype(object),
            "degree": degree.astype(np.int64),
            "substation": pd.Series([None] * len(used), dtype=object).to_numpy(),
            "substation_distance_m": np.full(len(used), np.nan),
            "in_service": np.ones(len(used), dtype=bool),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        index=pd.Index(node_ids, name="id"),
        crs=lines.crs,
    )
    links = lines.copy()
    links["a_node"] = node_ids[a2]
    links["b_node"] = node_ids[b2]
    links["length_m"] = links.geometry.length.to_numpy()
    links["bidirectional"] = True
    links["in_service"] = True
    links["closed"] = _closed(links, where) if "closed" in links else True
    if "voltage_kv" not in links.columns:
        links["voltage_kv"] = np.nan
    links.index = pd.Index(links.index.astype(str), name="id")
    missing_v = int(links["voltage_kv"].isna().sum())
    if missing_v:
        prov.counts["links_without_voltage"] = missing_v
    if substations is not None and len(substations):
        _attach_substations(nodes, substations, xy, prov)
    prov.derived.update(
        {
            "nodes": f"line end points merged within {snap_tolerance_m} m (KD-tree clusters)",
            "a_node": "node of the line's first point",
            "b_node": "node of the line's last point",
            "length_m": "geometric length of the line in the projected CRS",
            "bidirectional": "every line section carries power both ways (ASSUMED)",
        }
    )
    prov.counts.update(
        {
            "nodes": len(nodes),
            "links": len(links),
            "end_nodes": int((degree == 1).sum()),
            "components": _components(len(nodes), a2, b2),
        }
    )
    prov.step(f"built an energy network of {len(nodes)} nodes and {len(links)} links")
    return Network(nodes=nodes, links=links)


def _attach_substations(
    nodes: gpd.GeoDataFrame, substations: gpd.GeoDataFrame, xy: np.ndarray, prov: Provenance
) -> None:
    """Attach each substation to its nearest node (in place): ``substation`` (its id, or
    ``;``-joined ids when several share a node), ``substation_distance_m`` [m],
    ``node_type = "substation"`` and its attributes as ``substation_<field>``."""
    node_ids = nodes.index.to_numpy()
    not_pt = substations.geom_type != "Point"
    if not_pt.any():
        substations = substations.set_geometry(substations.geometry.representative_point())
        prov.counts["substations_reduced_to_points"] = int(not_pt.sum())
    attrs = [c for c in substations.columns if c != substations.geometry.name]
    for col in attrs:
        nodes[f"substation_{col}"] = pd.Series(None, index=nodes.index, dtype=object)
    sxy = shapely.get_coordinates(substations.geometry.to_numpy())
    dist, near = cKDTree(xy).query(sxy)
    shared = 0
    for k in np.argsort(dist, kind="stable"):
        nid = node_ids[near[k]]
        if pd.notna(nodes.at[nid, "substation"]):
            shared += 1
            nodes.at[nid, "substation"] = f"{nodes.at[nid, 'substation']};{substations.index[k]}"
            continue
        nodes.at[nid, "substation"] = str(substations.index[k])
        nodes.at[nid, "substation_distance_m"] = float(dist[k])
        nodes.at[nid, "node_type"] = "substation"
        for col in attrs:
            nodes.at[nid, f"substation_{col}"] = substations.iloc[k][col]
    prov.counts["substations"] = len(substations)
    if shared:
        prov.counts["substations_sharing_a_node"] = shared
    prov.counts["substation_max_distance_m"] = int(np.ceil(dist.max()))
    prov.derived["substation"] = "each substation attached to the nearest line end node"
    prov.step(
        f"attached {len(substations)} substations to their nearest node (max {dist.max():.1f} m)"
    )


_CLOSED = {"true": True, "1": True, "yes": True, "closed": True, "ferme": True, "fermé": True,
           "false": False, "0": False, "no": False, "open": False, "ouvert": False}  # fmt: skip


def _closed(links: gpd.GeoDataFrame, where: str | Path) -> np.ndarray:
    """The ``closed`` field as booleans (empty → closed); unknown words are an error."""
    text = links["closed"].astype("string").str.strip().str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)
    out = text.map(_CLOSED)
    bad = out.isna() & text.notna() & (text != "")
    if bad.any():
        msg = message(
            f"{int(bad.sum())} values of field 'closed' are not a switch state (features "
            f"{links.index[bad][:10].tolist()}, e.g. {text[bad].iloc[0]!r})",
            where=where,
            fix=f"use one of {sorted(_CLOSED)}",
        )
        raise InputError(msg)
    return np.asarray([True if pd.isna(v) else bool(v) for v in out.astype(object)])


def _components(n: int, a: np.ndarray, b: np.ndarray) -> int:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return int(connected_components(g, directed=False)[0])


def read_energy_network(
    lines_path: str | Path,
    *,
    substations: str | Path | None = None,
    lines_layer: str | None = None,
    substations_layer: str | None = None,
    mapping: Mapping[str, str] | None = None,
    substations_mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    id: str | None = None,
    substations_id: str | None = None,
    snap_tolerance_m: float = 1.0,
) -> tuple[Network, Provenance]:
    """Read feeder lines and substations into a :class:`~twin.model.Network`.

    Parameters
    ----------
    lines_path : str or Path
        Line file (GeoPackage, GeoJSON, Shapefile, zipped Shapefile…).
    substations : str or Path, optional
        Substation points file; a relative path is taken from the folder of ``lines_path``.
    lines_layer, substations_layer : str, optional
        Layers inside GeoPackages (both may be in the same file).
    mapping : dict, optional
        ``{twin_name: source_column}`` for the lines, e.g. ``{"voltage_kv": "tension_kv"}``.
    substations_mapping : dict, optional
        The same for the substations.
    encoding : str, optional
        Text encoding of the attributes.
    crs : str or int, optional
        CRS when the files declare none.
    id, substations_id : str, optional
        Fields holding unique ids; features are numbered otherwise.
    snap_tolerance_m : float
        End points closer than this [m] become one node.

    Returns
    -------
    network : Network
        See :func:`energy_network` (and the module docstring for what is derived).
    provenance : Provenance

    Raises
    ------
    InputError
        Non-line features, non-numeric voltages (naming the features), unreadable files.
    SchemaError
        Mapped columns missing (listing those present).
    """
    lines, prov = read_vector(
        lines_path, layer=lines_layer, encoding=encoding, mapping=mapping, crs=crs, id=id
    )
    p = Path(lines_path)
    lines = _single_lines(lines, p, prov)
    lines = to_metric_crs(lines, prov)
    if "voltage_kv" in lines.columns:
        lines["voltage_kv"] = _numeric_field(lines, "voltage_kv", p)
    elif "voltage_v" in lines.columns:
        v = lines["voltage_v"].astype("string").str.split(";").str[0]
        lines["voltage_kv"] = _numeric_field(lines.assign(voltage_v=v), "voltage_v", p) / 1000.0
        prov.derived["voltage_kv"] = "voltage_v / 1000 (first value when several)"
    if (lines.get("voltage_kv", pd.Series(dtype=float)) < 0).any():
        ids = lines.index[lines["voltage_kv"] < 0][:10].tolist()
        msg = message(
            f"negative voltage_kv on features {ids}",
            where=p,
            fix="give voltages as positive numbers in kV",
        )
        raise InputError(msg)
    subs = None
    if substations is not None:
        sp = Path(substations)
        if not sp.is_absolute():
            sp = p.parent / sp
        subs, sprov = read_vector(
            sp,
            layer=substations_layer,
            encoding=encoding,
            mapping=substations_mapping,
            crs=crs,
            id=substations_id,
        )
        prov.steps.extend(f"substations: {s}" for s in sprov.steps)
    net = energy_network(lines, subs, snap_tolerance_m=snap_tolerance_m, prov=prov, where=p)
    return net, prov


@loader("energy.lines", kind="network")
def load_energy_network(
    source: Path,
    *,
    substations: str | None = None,
    lines_layer: str | None = None,
    substations_layer: str | None = None,
    mapping: dict[str, str] | None = None,
    substations_mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    id: str | None = None,
    substations_id: str | None = None,
    snap_tolerance_m: float = 1.0,
) -> Layer:
    """Electricity feeders and substations as a network (see :func:`read_energy_network`)."""
    net, prov = read_energy_network(
        source,
        substations=substations,
        lines_layer=lines_layer,
        substations_layer=substations_layer,
        mapping=mapping,
        substations_mapping=substations_mapping,
        encoding=encoding,
        crs=crs,
        id=id,
        substations_id=substations_id,
        snap_tolerance_m=snap_tolerance_m,
    )
    return Layer(source.stem, "network", net, prov)
