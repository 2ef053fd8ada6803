"""Electricity networks read from pandapower: a pandapower JSON net, or a named network
pandapower ships (``network: mv_oberrhein``).

What a layer holds (the whole net is also kept, as :class:`~twin.model.network.EngineModel`
``("pandapower", pandapower.to_json(net))``, for the power flow):

* **nodes** = buses, indexed by the bus index as text (``"58"``): ``name``, ``vn_kv`` [kV],
  ``in_service``, ``load_mw`` [MW] (sum of ``p_mw × scaling`` of the bus's in-service
  loads), ``sgen_mw`` [MW] (the same for static generators), ``is_source`` (an in-service
  external grid or slack generator on the bus), ``substation`` (names of the transformers
  the bus is a terminal of, ``;``-joined, or None), ``node_type`` (``"source"``,
  ``"substation"``, ``"bus"``), ``pp_index``;
* **links**, one per branch, indexed ``line<i>``, ``trafo<i>``, ``switch<i>``:
  ``link_type`` (``"line"``, ``"trafo"``, ``"switch"``), ``a_node``/``b_node`` (from/to bus;
  hv/lv bus), ``in_service``, ``closed``, ``length_m`` [m] (``length_km × 1000``; 0 for
  transformers and switches), ``max_i_ka`` [kA], ``sn_mva`` [MVA], ``vn_hv_kv``/``vn_lv_kv``
  [kV], ``switch_ids``, ``pp_index``, ``bidirectional = True``.

**Switches.** A bus–bus switch is a link of its own (``link_type = "switch"``, ``closed``).
A switch on a line or a transformer (pandapower ``et = "l"`` / ``"t"``) is not a link: it is
recorded on its branch, ``switch_ids`` (``;``-joined pandapower switch indices) and
``closed`` (False when any of them is open: an open line switch disconnects the line, as in
``pandapower.topology.create_nxgraph``). Opening or closing a line then acts on all of its
switches.

**Geometry.** pandapower 3 stores GeoJSON in ``bus.geo`` and ``line.geo``; GeoJSON
coordinates are longitude/latitude on WGS 84 (RFC 7946), so ``crs`` defaults to EPSG:4326
(give another when a net carries projected coordinates). Lines without ``geo`` are drawn
straight between their buses, as are transformers and bus–bus switches (often zero length:
both buses sit in the same substation). Everything is projected to a metric CRS (local UTM).
The shipped ``mv_oberrhein`` net holds lon/lat (pandapower converted it from Gauss–Krüger
zone 3, EPSG:31467, the CRS named in ``pandapower/networks/mv_oberrhein.py``), near
Offenburg; :func:`twin.model.crs.metric_crs_for` projects it to Lambert-93
(EPSG:2154), whose domain reaches across the Rhine there.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import InputError, message
from twin.io._common import check_file, check_plausible_coordinates, to_metric_crs
from twin.io.registry import loader
from twin.model.crs import parse_crs
from twin.model.layer import Layer
from twin.model.network import EngineModel, Network
from twin.model.provenance import Provenance

#: Named networks shipped with pandapower: the file pandapower builds them from.
NAMED_NETWORKS = {"mv_oberrhein": "mv_oberrhein.json"}

LICENCE = "BSD-3-Clause"
PRODUCER = "pandapower (University of Kassel and Fraunhofer IEE)"


def _read_net(path: Path, network: str | None, scenario: str | None) -> Any:
    """The pandapower net of ``path`` (through pandapower's function for a named network)."""
    import pandapower as pp

    if scenario is not None and network is None:
        msg = message(
            f"scenario: {scenario} applies to a named network only",
            where=path,
            fix="add network: mv_oberrhein (with its shipped file as source), or drop scenario",
        )
        raise InputError(msg)

    if network is not None:
        import pandapower.networks as pn

        wanted = NAMED_NETWORKS[network]
        if path.name != wanted or path.parent.name != "networks":
            msg = message(
                f"network: {network} is built from pandapower's own '{wanted}', not {path}",
                where=path,
                fix=f"set source: pkg://pandapower/networks/{wanted}, or drop the network option "
                "to read the file as it is",
            )
            raise InputError(msg)
        with warnings.catch_warnings():
            # the shipped nets predate pandapower 3's tap_dependency_table, and it says so
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="pandapower")
            return getattr(pn, network)(scenario=scenario or "load")
    try:
        net = pp.from_json(str(path))
    except Exception as exc:  # pandapower raises many types; each means "not a net"
        msg = message(
            f"not a pandapower network file ({type(exc).__name__}: {str(exc)[:200]})",
            where=path,
            fix="save the net with pandapower.to_json(net, path), or use another loader",
        )
        raise InputError(msg) from None
    if not isinstance(net, pp.pandapowerNet) or "bus" not in net:
        msg = message(
            "not a pandapower network file (no bus table)",
            where=path,
            fix="save the net with pandapower.to_json(net, path)",
        )
        raise InputError(msg)
    return net


def _geojson(value: Any) -> shapely.Geometry | None:
    """A shapely geometry from a pandapower ``geo`` cell (GeoJSON text), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return shapely.from_geojson(value)


def _bus_points(net: Any, crs: Any, path: Path) -> gpd.GeoSeries:
    """Bus positions in ``crs``; every bus must have one."""
    geo = net.bus["geo"] if "geo" in net.bus else pd.Series(None, index=net.bus.index)
    geoms = [_geojson(v) for v in geo]
    missing = [int(i) for i, g in zip(net.bus.index, geoms, strict=True) if g is None]
    if missing:
        msg = message(
            f"{len(missing)} of {len(net.bus)} buses have no geodata (e.g. buses {missing[:10]})",
            where=path,
            fix="give every bus a position in net.bus.geo (GeoJSON Point), e.g. with "
            "pandapower.plotting.create_generic_coordinates for a schematic layout",
        )
        raise InputError(msg)
    first = [shapely.Point(g.coords[0]) for g in geoms if g is not None]
    pts = gpd.GeoSeries(first, index=net.bus.index, crs=crs)
    check_plausible_coordinates(gpd.GeoDataFrame(geometry=pts), path)
    return pts


def _sum_by_bus(table: pd.DataFrame, index: pd.Index) -> np.ndarray:
    """Sum of ``p_mw × scaling`` of the in-service elements of ``table`` per bus [MW]."""
    if table is None or not len(table):
        return np.zeros(len(index))
    t = table[table["in_service"].astype(bool)]
    p = t["p_mw"].astype(float) * t.get("scaling", pd.Series(1.0, index=t.index)).astype(float)
    return p.groupby(t["bus"]).sum().reindex(index, fill_value=0.0).to_numpy()


def _sources(net: Any) -> set[int]:
    """Buses of in-service external grids and slack generators."""
    out = set(net.ext_grid.loc[net.ext_grid["in_service"].astype(bool), "bus"].astype(int))
    if "gen" in net and len(net.gen) and "slack" in net.gen:
        g = net.gen[net.gen["in_service"].astype(bool) & net.gen["slack"].astype(bool)]
        out |= set(g["bus"].astype(int))
    return out


def _nodes(net: Any, pts: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """The node table (see the module docstring)."""
    bus = net.bus
    subs: dict[int, list[str]] = {}
    for _, t in net.trafo.iterrows():
        for b in (int(t["hv_bus"]), int(t["lv_bus"])):
            subs.setdefault(b, []).append(str(t["name"]))
    src = _sources(net)
    is_source = bus.index.isin(list(src))
    substation = [";".join(subs[i]) if i in subs else None for i in bus.index]
    node_type = np.where(
        is_source, "source", np.where([s is not None for s in substation], "substation", "bus")
    )
    nodes = gpd.GeoDataFrame(
        {
            "name": bus["name"].astype(object).to_numpy(),
            "vn_kv": bus["vn_kv"].astype(float).to_numpy(),
            "in_service": bus["in_service"].astype(bool).to_numpy(),
            "load_mw": _sum_by_bus(net.load, bus.index),
            "sgen_mw": _sum_by_bus(net.sgen, bus.index),
            "is_source": is_source,
            "substation": pd.Series(substation, dtype=object).to_numpy(),
            "node_type": node_type.astype(object),
            "pp_index": bus.index.to_numpy(dtype=np.int64),
        },
        geometry=pts.to_numpy(),
        index=pd.Index(bus.index.astype(str), name="id"),
        crs=pts.crs,
    )
    return nodes


def _branch_switches(net: Any, et: str) -> dict[int, list[int]]:
    """pandapower switch indices on each line (``et="l"``) or transformer (``"t"``)."""
    sw = net.switch[net.switch["et"] == et]
    out: dict[int, list[int]] = {}
    for i, el in zip(sw.index, sw["element"], strict=True):
        out.setdefault(int(el), []).append(int(i))
    return out


def _link_rows(net: Any) -> list[dict[str, Any]]:
    """One row per line, transformer and bus–bus switch (geometry added later)."""
    closed = net.switch["closed"].astype(bool)
    rows: list[dict[str, Any]] = []
    for kind, table, a, b in (
        ("line", net.line, "from_bus", "to_bus"),
        ("trafo", net.trafo, "hv_bus", "lv_bus"),
    ):
        on_branch = _branch_switches(net, kind[0])
        for i, r in table.iterrows():
            sws = on_branch.get(int(i), [])
            rows.append(
                {
                    "id": f"{kind}{i}",
                    "link_type": kind,
                    "name": r.get("name"),
                    "a_node": str(int(r[a])),
                    "b_node": str(int(r[b])),
                    "in_service": bool(r["in_service"]),
                    "closed": bool(closed.loc[sws].all()) if sws else True,
                    "switch_ids": ";".join(map(str, sws)),
                    "length_m": float(r["length_km"]) * 1000.0 if kind == "line" else 0.0,
                    "max_i_ka": float(r["max_i_ka"]) if kind == "line" else np.nan,
                    "sn_mva": float(r["sn_mva"]) if kind == "trafo" else np.nan,
                    "vn_hv_kv": float(r["vn_hv_kv"]) if kind == "trafo" else np.nan,
                    "vn_lv_kv": float(r["vn_lv_kv"]) if kind == "trafo" else np.nan,
                    "pp_index": int(i),
                    "geo": r.get("geo") if kind == "line" else None,
                }
            )
    for i, r in net.switch[net.switch["et"] == "b"].iterrows():
        rows.append(
            {
                "id": f"switch{i}", "link_type": "switch", "name": r.get("name"),
                "a_node": str(int(r["bus"])), "b_node": str(int(r["element"])),
                "in_service": True, "closed": bool(r["closed"]), "switch_ids": str(i),
                "length_m": 0.0, "max_i_ka": np.nan, "sn_mva": np.nan,
                "vn_hv_kv": np.nan, "vn_lv_kv": np.nan, "pp_index": int(i), "geo": None,
            }
        )  # fmt: skip
    return rows


def _links(net: Any, pts: gpd.GeoSeries, crs: Any) -> tuple[gpd.GeoDataFrame, int]:
    """The link table, and how many lines were drawn straight (no ``geo``)."""
    df = pd.DataFrame(_link_rows(net)).set_index("id")
    straight = 0
    geoms = []
    for row in df.itertuples():
        g = _geojson(row.geo)
        if g is None:
            straight += row.link_type == "line"
            a, b = pts.loc[int(row.a_node)], pts.loc[int(row.b_node)]
            g = shapely.LineString([a, b])
        geoms.append(g)
    df = df.drop(columns="geo")
    df["bidirectional"] = True
    links = gpd.GeoDataFrame(df, geometry=geoms, crs=crs)
    links.index.name = "id"
    return links, straight


def read_pandapower(
    path: str | Path,
    *,
    network: Literal["mv_oberrhein"] | None = None,
    scenario: Literal["load", "generation"] | None = None,
    crs: str | int = "EPSG:4326",
) -> tuple[Network, Provenance]:
    """Read a pandapower net into a :class:`~twin.model.Network` that keeps the net.

    Parameters
    ----------
    path : str or Path
        A pandapower JSON file, or the shipped file of a named network.
    network : {"mv_oberrhein"}, optional
        Build the net with pandapower's function of that name (which sets the load and
        generation scaling, reactive power and tap positions of its ``scenario``); ``path``
        must then be that network's file in pandapower (``pkg://pandapower/networks/…``).
    scenario : {"load", "generation"}, optional
        The named network's worst case (pandapower's ``scenario`` argument; ``"load"`` when
        not given); an error without ``network``.
    crs : str or int
        CRS of the net's geodata (GeoJSON: EPSG:4326).

    Returns
    -------
    network : Network
        Nodes (buses) and links (lines, transformers, bus–bus switches) in a metric CRS,
        with ``model = EngineModel("pandapower", pandapower.to_json(net))``.
    provenance : Provenance

    Raises
    ------
    InputError
        A file that is not a pandapower net, buses without geodata, or coordinates that
        cannot be in ``crs``.

    References
    ----------
    Thurner, L. et al. (2018). pandapower — an open-source Python tool for convenient
    modeling, analysis, and optimization of electric power systems. *IEEE Transactions on
    Power Systems* 33(6), 6510–6521.
    """
    import pandapower as pp

    p = check_file(path)
    net = _read_net(p, network, scenario)
    the_crs = parse_crs(crs, where=f"{p}: crs")
    pts = _bus_points(net, the_crs, p)
    prov = Provenance(source=str(p), producer=PRODUCER, licence=LICENCE)
    case = scenario or "load"
    what = f"pandapower.networks.{network}(scenario={case!r})" if network else "from_json"
    prov.step(f"read a pandapower net with pandapower {pp.__version__} ({what})")
    nodes = _nodes(net, pts)
    links, straight = _links(net, pts, the_crs)
    nodes = to_metric_crs(nodes, prov)
    links = links.to_crs(nodes.crs)
    prov.derived.update(_DERIVED)
    if straight:
        prov.counts["lines_drawn_straight"] = straight
        prov.derived["geometry"] = "lines without geodata drawn straight between their buses"
    prov.counts.update(
        {
            "nodes": len(nodes),
            "links": len(links),
            "sources": int(nodes["is_source"].sum()),
            **{f"links_{t}": int(n) for t, n in links["link_type"].value_counts().items()},
            "open_switches": int((~net.switch["closed"].astype(bool)).sum()),
        }
    )
    text = pp.to_json(net)
    return Network(nodes=nodes, links=links, model=EngineModel("pandapower", text)), prov


_DERIVED = {
    "load_mw": "sum of p_mw × scaling of the in-service loads of the bus",
    "sgen_mw": "sum of p_mw × scaling of the in-service static generators of the bus",
    "is_source": "bus of an in-service external grid or slack generator",
    "substation": "names of the transformers the bus is a terminal of",
    "closed": "a line or transformer is open when any of its switches is open",
    "length_m": "pandapower length_km × 1000 (transformers and switches: 0)",
    "bidirectional": "every branch carries power both ways (ASSUMED)",
}


@loader("pandapower", kind="network")
def load_pandapower(
    source: Path,
    *,
    network: Literal["mv_oberrhein"] | None = None,
    scenario: Literal["load", "generation"] | None = None,
    crs: str | int = "EPSG:4326",
) -> Layer:
    """pandapower electricity network, kept whole for the power flow (see
    :func:`read_pandapower`)."""
    net, prov = read_pandapower(source, network=network, scenario=scenario, crs=crs)
    name = network or source.stem
    if network:
        prov.derived["data"] = (
            f"{network}: pandapower's generic 20 kV network (two 25 MVA HV/MV stations, "
            "141 MV/LV substations, four feeders, operated radially with 6 open sectioning "
            "points); its geodata ship with pandapower (BSD-3-Clause), which documents no "
            "further source"
        )
    return Layer(name, "network", net, prov)
