"""Water distribution networks from EPANET ``.inp`` files, read with WNTR.

WNTR (the Water Network Tool for Resilience, an EPANET 2.2 implementation) parses the file and
converts every quantity to SI units, whatever the file's flow units (GPM, LPS…):

* nodes — junctions, tanks and reservoirs, with ``node_type``, ``elevation_m`` (tank bottom
  for tanks; NaN for reservoirs, which have ``head_m``), ``base_demand_m3s`` (sum of the
  base values of all demand categories of a junction; 0 elsewhere) and, for tanks, the levels
  and diameter;
* links — pipes, pumps and valves, with ``link_type``, ``a_node``/``b_node`` (EPANET start
  and end node: the positive flow direction), ``length_m``, ``diameter_m``, ``roughness``
  (Hazen-Williams C, unitless, or Darcy-Weisbach ε or Chezy-Manning n, as the file's
  ``HEADLOSS`` option says; recorded in provenance), ``minor_loss``, ``status`` (initial
  status: Open, Closed, Active, CV), and ``pump_type``/``valve_type``/``setting`` where they
  apply. Pumps have no length or diameter (NaN).

The file itself is kept with the network (:class:`~twin.model.network.EngineModel`): the
water simulation runs WNTR on it (patterns, curves, controls and options are in no table).

Each EPANET link is **one** link of the network whatever its status. Pipes carry flow both
ways (``bidirectional = True``; ``a_node``/``b_node`` is then only the sign convention of the
flow); pumps, pipes with a check valve and PRV/PSV/FCV valves only from ``a_node`` to
``b_node`` (``bidirectional = False``). Kernels that need a strictly directed graph add the
reverse of the bidirectional links. Link geometries are the
straight line between the end nodes through the file's ``[VERTICES]``.

EPANET coordinates have no coordinate reference system: the ``crs`` option is required.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import CRSError, InputError, message
from twin.io._common import check_file, check_plausible_coordinates
from twin.io.registry import loader
from twin.model.crs import parse_crs
from twin.model.layer import Layer
from twin.model.network import EngineModel, Network
from twin.model.provenance import Provenance

_ROUGHNESS = {
    "H-W": "Hazen-Williams C coefficient [-]",
    "D-W": "Darcy-Weisbach roughness height epsilon [m]",
    "C-M": "Chezy-Manning n [s/m^(1/3)]",
}


def _wntr_error(exc: BaseException, path: Path) -> str:
    """A message naming the file and, when WNTR or the text tells it, the line."""
    texts: list[str] = []
    e: BaseException | None = exc
    while e is not None and len(texts) < 5:
        texts.append(str(e))
        e = e.__cause__ or e.__context__
    detail = next((t for t in texts if "line" in t), texts[0]).replace("(%s)", "").strip()
    detail = " ".join(detail.split())
    m = re.search(r"at line (\d+)", detail)
    line = f", line {m.group(1)}" if m else ""
    if not m:
        tok = re.search(r"could not convert string to \w+: '([^']*)'", detail)
        if tok:
            for n, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if tok.group(1) in text.split(";")[0].split():
                    line = f", line {n}"
                    break
    msg = message(
        f"not a readable EPANET input file ({type(exc).__name__}: {detail})",
        where=f"{path}{line}",
        fix="open the file in EPANET to find the error, or re-export it from the modelling tool",
    )
    return msg


def read_epanet(
    path: str | Path,
    *,
    crs: str | int | None = None,
    georeference: dict[str, float] | None = None,
    schematic: bool = False,
) -> tuple[Network, Provenance]:
    """Read an EPANET ``.inp`` file into a :class:`~twin.model.Network`.

    Parameters
    ----------
    path : str or Path
        The ``.inp`` file.
    crs : str or int
        CRS of the file's ``[COORDINATES]`` (EPANET stores none), e.g. ``"EPSG:2154"``.
    georeference : dict, optional
        For a map drawn in its own units: ``offset_x``, ``offset_y`` [CRS units], ``scale``
        [CRS units per drawing unit], ``rotation_deg`` [°, counter-clockwise], applied to
        every coordinate (``x' = offset_x + scale·(x cos r − y sin r)``, same for ``y``).
    schematic : bool
        Accept a map that is not to scale (a diagram), recorded in provenance. Without it, or
        a georeference, a diagram is refused: its pipes drawn are not their lengths.

    Returns
    -------
    network : Network
        Nodes indexed by node name, links by link name (see the module docstring for the
        columns and units).
    provenance : Provenance

    Raises
    ------
    CRSError
        When ``crs`` is not given, or the coordinates cannot be in it.
    InputError
        When WNTR cannot read the file (naming the file and, when known, the line).

    References
    ----------
    Rossman, L. et al. (2020). EPANET 2.2 User Manual. US EPA, EPA/600/R-20/133.
    Klise, K. A. et al. (2018). An overview of the Water Network Tool for Resilience (WNTR).
    Proc. 1st International WDSA/CCWI Joint Conference, Kingston, Canada.
    """
    p = check_file(path)
    if crs is None:
        msg = message(
            "EPANET coordinates have no coordinate reference system",
            where=p,
            fix="declare the CRS of the [COORDINATES] in the layer options, e.g. crs: EPSG:2154",
        )
        raise CRSError(msg)
    the_crs = parse_crs(crs, where=f"{p}: crs")
    import wntr  # imported lazily: it is slow to import

    try:
        wn = wntr.network.WaterNetworkModel(str(p))
    except Exception as exc:  # WNTR raises many types; each means the file is unreadable
        raise InputError(_wntr_error(exc, p)) from None
    if wn.num_nodes == 0:
        msg = message("holds no nodes", where=p, fix="check the [JUNCTIONS] section")
        raise InputError(msg)
    prov = Provenance(source=str(p))
    headloss = str(wn.options.hydraulic.headloss)
    prov.step(
        f"read EPANET file with WNTR {wntr.__version__} (flow units "
        f"{wn.options.hydraulic.inpfile_units}, converted to SI)"
    )
    prov.derived["roughness"] = _ROUGHNESS.get(headloss, f"roughness for headloss {headloss}")
    prov.derived["base_demand_m3s"] = "sum of the base demands of all demand categories"

    node_rows: list[dict[str, Any]] = []
    xy: dict[str, tuple[float, float]] = {}
    no_xy = []
    for name, node in wn.nodes():
        kind = type(node).__name__
        if node.coordinates is None:
            no_xy.append(name)
            continue
        xy[name] = _place(node.coordinates, georeference)
        row: dict[str, Any] = {
            "id": str(name),
            "node_type": kind.lower(),
            "elevation_m": np.nan,
            "base_demand_m3s": 0.0,
            "head_m": np.nan,
        }
        if kind == "Junction":
            row["elevation_m"] = float(node.elevation)
            row["base_demand_m3s"] = float(sum(d.base_value for d in node.demand_timeseries_list))
        elif kind == "Tank":
            row.update(
                elevation_m=float(node.elevation),
                init_level_m=float(node.init_level),
                min_level_m=float(node.min_level),
                max_level_m=float(node.max_level),
                tank_diameter_m=float(node.diameter),
            )
        elif kind == "Reservoir":
            row["head_m"] = float(node.base_head)
        node_rows.append(row)
    if no_xy:
        msg = message(
            f"{len(no_xy)} nodes have no coordinates (e.g. {no_xy[:10]})",
            where=f"{p}: [COORDINATES]",
            fix="give every node coordinates (EPANET's map), or remove those nodes",
        )
        raise InputError(msg)
    ndf = pd.DataFrame(node_rows).set_index("id")
    nodes = gpd.GeoDataFrame(
        ndf,
        geometry=gpd.points_from_xy([xy[i][0] for i in ndf.index], [xy[i][1] for i in ndf.index]),
        crs=the_crs,
    )
    check_plausible_coordinates(nodes, p)

    link_rows: list[dict[str, Any]] = []
    geoms = []
    for name, link in wn.links():
        kind = type(link).__name__
        a, b = str(link.start_node_name), str(link.end_node_name)
        row = {
            "id": str(name),
            "link_type": "pipe" if kind == "Pipe" else "pump" if "Pump" in kind else "valve",
            "a_node": a,
            "b_node": b,
            "length_m": np.nan,
            "diameter_m": np.nan,
            "roughness": np.nan,
            "minor_loss": np.nan,
            "status": getattr(link.initial_status, "name", str(link.initial_status)),
            "pump_type": None,
            "valve_type": None,
            "setting": np.nan,
        }
        if kind == "Pipe":
            row.update(
                length_m=float(link.length),
                diameter_m=float(link.diameter),
                roughness=float(link.roughness),
                minor_loss=float(link.minor_loss),
            )
            if link.check_valve:
                row["status"] = "CV"
        elif "Pump" in kind:
            row["pump_type"] = str(link.pump_type)
            row["setting"] = float(link.initial_setting or 1.0)
        else:
            row.update(
                valve_type=str(link.valve_type),
                diameter_m=float(link.diameter),
                minor_loss=float(link.minor_loss),
                setting=float(link.initial_setting),
            )
        link_rows.append(row)
        pts = [xy[a], *[_place(v, georeference) for v in (link.vertices or [])], xy[b]]
        geoms.append(shapely.LineString(pts))
    ldf = pd.DataFrame(link_rows).set_index("id")
    one_way = (
        (ldf["link_type"] == "pump")
        | (ldf["status"] == "CV")
        | ldf["valve_type"].isin(["PRV", "PSV", "FCV"])
    )
    ldf["bidirectional"] = ~one_way
    prov.derived["bidirectional"] = (
        "pipes and TCV/PBV/GPV valves carry flow both ways; pumps, check-valve pipes and "
        "PRV/PSV/FCV valves one way (a_node → b_node)"
    )
    links = gpd.GeoDataFrame(ldf, geometry=geoms, crs=the_crs)
    links.index.name = "id"
    _check_scale(links, p, schematic, georeference, prov)
    nodes.index.name = "id"
    zero = int((links.length == 0).sum())
    if zero:
        prov.counts["zero_length_geometries"] = zero
    prov.counts.update(
        {
            "nodes": len(nodes),
            "links": len(links),
            **{f"nodes_{t}": int(n) for t, n in nodes["node_type"].value_counts().items()},
            **{f"links_{t}": int(n) for t, n in links["link_type"].value_counts().items()},
        }
    )
    prov.step(f"coordinates declared in {the_crs.to_string()}")
    text = p.read_text(encoding="utf-8", errors="replace")
    return Network(nodes=nodes, links=links, model=EngineModel("epanet", text)), prov


def _place(xy: Any, g: dict[str, float] | None) -> tuple[float, float]:
    """A map coordinate, georeferenced by ``g`` when given."""
    x, y = float(xy[0]), float(xy[1])
    if not g:
        return x, y
    r = math.radians(float(g.get("rotation_deg", 0.0)))
    k = float(g.get("scale", 1.0))
    return (
        float(g.get("offset_x", 0.0)) + k * (x * math.cos(r) - y * math.sin(r)),
        float(g.get("offset_y", 0.0)) + k * (x * math.sin(r) + y * math.cos(r)),
    )


#: Range of (drawn length / declared length) of pipes for a map to be taken as to scale.
SCALE_RANGE = (0.2, 5.0)


def _check_scale(
    links: gpd.GeoDataFrame,
    path: Path,
    schematic: bool,
    georeference: dict[str, float] | None,
    prov: Provenance,
) -> None:
    """Refuse a diagram taken as a map: compare the pipes as drawn with their lengths."""
    pipes = links[(links["link_type"] == "pipe") & (links["length_m"] > 0)]
    if not len(pipes):
        return
    unit = links.crs.axis_info[0].unit_conversion_factor if links.crs.is_projected else None
    drawn = pipes.geometry.length.to_numpy() * (unit or 1.0)
    ratio = float(np.median(drawn / pipes["length_m"].to_numpy()))
    prov.counts["drawn_to_declared_length_pct"] = round(100 * ratio)
    if schematic:
        prov.derived["geometry"] = "schematic map (not to scale): positions are a diagram"
        return
    if unit is None or not SCALE_RANGE[0] <= ratio <= SCALE_RANGE[1]:
        msg = message(
            f"the [COORDINATES] are not a map in {links.crs.to_string()}: pipes are drawn "
            f"{ratio:.3g} times their declared length (median)",
            where=path,
            fix="give the CRS they are in, georeference them (options georeference: "
            "{offset_x, offset_y, scale, rotation_deg}), or declare schematic: true",
        )
        raise CRSError(msg)
    if georeference:
        prov.step(f"coordinates georeferenced by {dict(georeference)}")


@loader("epanet", kind="network")
def load_epanet(
    source: Path,
    *,
    crs: str | int | None = None,
    georeference: dict[str, float] | None = None,
    schematic: bool = False,
) -> Layer:
    """EPANET ``.inp`` water network via WNTR (see :func:`read_epanet`)."""
    net, prov = read_epanet(source, crs=crs, georeference=georeference, schematic=schematic)
    return Layer(source.stem, "network", net, prov)
