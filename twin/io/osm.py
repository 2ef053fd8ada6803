"""OpenStreetMap, offline, from ``.osm.pbf`` extracts and ``.osm`` / ``.osm.bz2`` XML.

PBF files are parsed by pyrosm. XML files are first converted to PBF with pyosmium (libosmium)
in a temporary file, so both formats go through one code path and give identical layers.

What is extracted, and the documented defaults (each recorded in the layer provenance as
*derived* when used):

* **buildings** — ``height_m`` from ``height`` (``"12 m"``, ``"40'"`` …), else
  ``building:levels`` × ``storey_height_m`` (3.0 m by default) plus ``roof:levels`` × half a
  storey, else ``default_height_m`` (9.0 m, a three-storey building);
* **road networks** (``driving`` or ``walking``) as directed :class:`~twin.model.Network` links
  with one-ways, lanes per direction, ``speed_kph``, ``capacity_veh_h`` and ``free_flow_time_s``
  from :data:`ROAD_CLASSES`;
* **shops** (``shop=*`` and ``disused:shop=*``), with ``vacant`` true for ``shop=vacant`` or a
  ``disused:shop`` tag;
* **amenities**, **land use**, **natural** features (trees, water, wood…) and **street lamps**.

Online download by place name is optional (:mod:`twin.io._osm_online`) and never used in tests.
"""

from __future__ import annotations

import math
import re
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.io._common import check_file, drop_personal_columns, repair_geometries
from twin.io.registry import loader
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance

OSM_LICENCE = "ODbL-1.0"
OSM_PRODUCER = "OpenStreetMap contributors"
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

#: Per road class: (free-flow speed [km/h], capacity per lane [veh/h], default lanes per
#: direction). Values are common planning defaults for European urban roads (speeds from
#: typical urban limits; capacities after the HCM's per-lane saturation flows, reduced for
#: urban intersections). They are assumptions, recorded as such in provenance.
ROAD_CLASSES: dict[str, tuple[float, float, int]] = {
    "motorway": (110.0, 2000.0, 2),
    "trunk": (80.0, 1800.0, 2),
    "primary": (50.0, 1200.0, 1),
    "secondary": (50.0, 1000.0, 1),
    "tertiary": (40.0, 800.0, 1),
    "unclassified": (30.0, 600.0, 1),
    "residential": (30.0, 600.0, 1),
    "living_street": (10.0, 300.0, 1),
    "service": (20.0, 300.0, 1),
    "road": (30.0, 600.0, 1),
}
WALK_SPEED_KPH = 4.8

_NUM = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(m|meters?|metres?|ft|feet|'|mph|km/h|kph)?\s*$")


def parse_number(value: Any, *, unit: Literal["m", "kph"] = "m") -> float:
    """Parse an OSM numeric tag (``"12"``, ``"12.5 m"``, ``"40'"``, ``"30 mph"``).

    Parameters
    ----------
    value : object
        Tag value.
    unit : {"m", "kph"}
        Output unit: metres for lengths, km/h for speeds.

    Returns
    -------
    float
        The value in ``unit``, or NaN if it cannot be parsed.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    m = _NUM.match(str(value).split(";")[0])
    if m is None:
        return math.nan
    x = float(m.group(1).replace(",", "."))
    u = m.group(2)
    if u in ("ft", "feet", "'"):
        x *= 0.3048
    elif u == "mph":
        x *= 1.609344
    return x


def _pbf_path(path: Path) -> Path:
    """Return a PBF path for ``path``, converting ``.osm``/``.osm.bz2`` XML with pyosmium."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return path
    if not (name.endswith(".osm") or name.endswith(".osm.bz2") or name.endswith(".osm.gz")):
        msg = message(
            "is not an OpenStreetMap file",
            where=path,
            fix="give a .osm.pbf extract or .osm / .osm.bz2 XML",
        )
        raise InputError(msg)
    return _xml_to_pbf(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _xml_to_pbf(path: Path, _mtime: int) -> Path:
    import osmium

    out = Path(tempfile.mkdtemp(prefix="twin-osm-")) / (path.name.split(".")[0] + ".osm.pbf")
    try:
        with osmium.SimpleWriter(str(out)) as writer:
            for obj in osmium.FileProcessor(str(path)):
                writer.add(obj)
    except RuntimeError as exc:
        msg = message(
            f"cannot be parsed as OSM XML ({exc})",
            where=path,
            fix="check that the file is complete (re-export or re-download it)",
        )
        raise InputError(msg) from None
    return out


@lru_cache(maxsize=8)
def _open(path: Path, _mtime: int) -> Any:
    import pyrosm

    pbf = _pbf_path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyrosm.OSM(str(pbf))
    except Exception as exc:  # pyrosm raises bare exceptions on corrupt blobs
        msg = message(
            f"cannot be read as an OSM extract ({type(exc).__name__}: {exc})",
            where=path,
            fix="check that the file is a complete .osm.pbf (re-download it)",
        )
        raise InputError(msg) from None


def _call(path: Path, what: str, fn_name: str, *args: Any, **kwargs: Any) -> gpd.GeoDataFrame:
    osm = _open(path, path.stat().st_mtime_ns)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = getattr(osm, fn_name)(*args, **kwargs)
    except Exception as exc:
        msg = message(
            f"reading {what} failed ({type(exc).__name__}: {exc})",
            where=path,
            fix="check that the file is a complete, sorted OSM extract",
        )
        raise InputError(msg) from None
    if out is None:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=4326)
    return out


def _clean(gdf: gpd.GeoDataFrame, prov: Provenance, keep: list[str]) -> gpd.GeoDataFrame:
    """Keep useful columns, drop personal/metadata ones, index by ``<osm_type>/<id>``."""
    kind = gdf["osm_type"].astype(str) if "osm_type" in gdf else pd.Series("node", index=gdf.index)
    ids = kind.str.cat(gdf["id"].astype("int64").astype(str), sep="/")
    cols = [c for c in keep if c in gdf.columns]
    out = gpd.GeoDataFrame(gdf[cols].copy(), geometry=gdf.geometry.values, crs=4326)
    out.index = pd.Index(ids.to_numpy(), name="id")
    out = out[~out.index.duplicated()]
    if "timestamp" in gdf.columns and len(gdf):
        ts = pd.to_numeric(gdf["timestamp"], errors="coerce").max()
        if np.isfinite(ts) and ts > 0:
            prov.retrieved = pd.Timestamp(int(ts), unit="s").date().isoformat()
            prov.step(f"retrieved = date of the latest OSM edit in the layer ({prov.retrieved})")
    out = repair_geometries(out, "OSM extract", prov) if len(out) else out
    return drop_personal_columns(out, prov)


def _provenance(path: Path, what: str) -> Provenance:
    prov = Provenance(
        source=str(path),
        producer=OSM_PRODUCER,
        licence=OSM_LICENCE,
        attribution=OSM_ATTRIBUTION,
    )
    return prov.step(f"read {what} from {path.name} with pyrosm")


def _tag(gdf: gpd.GeoDataFrame, key: str) -> pd.Series:
    """A tag as a column, from its own column or the JSON ``tags`` column."""
    if key in gdf.columns:
        return gdf[key]
    if "tags" not in gdf.columns:
        return pd.Series(np.nan, index=gdf.index, dtype=object)
    import json

    def get(t: Any) -> Any:
        if not isinstance(t, str):
            return np.nan
        return json.loads(t).get(key, np.nan)

    return gdf["tags"].map(get)


# --------------------------------------------------------------------------------------------
# buildings
def read_osm_buildings(
    path: str | Path, *, storey_height_m: float = 3.0, default_height_m: float = 9.0
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read buildings with a height for each.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    storey_height_m : float
        Height of one storey [m], used with ``building:levels``.
    default_height_m : float
        Height [m] of buildings with neither ``height`` nor ``building:levels``.

    Returns
    -------
    buildings : GeoDataFrame
        Polygons in EPSG:4326 with ``building``, ``height_m``, ``levels``, ``height_source``
        (``"height"``, ``"levels"`` or ``"default"``) and a few descriptive tags.
    provenance : Provenance
    """
    p = check_file(path)
    prov = _provenance(p, "buildings")
    raw = _call(p, "buildings", "get_buildings")
    gdf = _clean(
        raw,
        prov,
        [
            "building",
            "name",
            "amenity",
            "shop",
            "office",
            "building:levels",
            "height",
            "roof:levels",
            "addr:street",
            "addr:housenumber",
            "start_date",
        ],
    )
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    h = gdf["height"].map(parse_number) if "height" in gdf else pd.Series(np.nan, gdf.index)
    lv = gdf["building:levels"].map(parse_number) if "building:levels" in gdf else h * np.nan
    roof = gdf["roof:levels"].map(parse_number).fillna(0.0) if "roof:levels" in gdf else 0.0
    from_levels = (lv + 0.5 * roof) * storey_height_m
    src = np.where(h.gt(0), "height", np.where(lv.gt(0), "levels", "default"))
    gdf = gdf.assign(
        height_m=np.where(h.gt(0), h, np.where(lv.gt(0), from_levels, default_height_m)),
        levels=lv,
        height_source=src,
    ).drop(columns=[c for c in ("height", "building:levels", "roof:levels") if c in gdf])
    n = pd.Series(src).value_counts().to_dict()
    prov.counts.update({f"height_from_{k}": int(v) for k, v in n.items()})
    prov.derived["height_m"] = (
        f"OSM height tag; else (building:levels + roof:levels/2) × {storey_height_m} m; "
        f"else default {default_height_m} m (ASSUMED) — see column height_source"
    )
    return gdf, prov


@loader("osm.buildings", kind="vector")
def load_osm_buildings(
    source: Path, *, storey_height_m: float = 3.0, default_height_m: float = 9.0
) -> Layer:
    """OSM buildings with heights (see :func:`read_osm_buildings`)."""
    gdf, prov = read_osm_buildings(
        source, storey_height_m=storey_height_m, default_height_m=default_height_m
    )
    return Layer("buildings", "vector", gdf, prov)


# --------------------------------------------------------------------------------------------
# road networks
def read_osm_network(
    path: str | Path, *, network_type: Literal["driving", "walking"] = "driving"
) -> tuple[Network, Provenance]:
    """Read a directed road network.

    Two-way ways become two links (``<way>:<u>-<v>`` and its reverse); ``oneway=yes`` keeps
    the drawn direction and ``oneway=-1`` reverses it. Lanes per direction are half the
    ``lanes`` tag on two-way roads (at least 1). Speeds come from ``maxspeed`` where it is a
    number, else :data:`ROAD_CLASSES`; capacities are lanes × per-lane capacity by class.
    For walking networks, one-ways are ignored and speed is 4.8 km/h.

    Returns
    -------
    network : Network
        Nodes (OSM node ids) and links with ``highway``, ``name``, ``oneway``, ``lanes``,
        ``length_m``, ``speed_kph``, ``capacity_veh_h``, ``free_flow_time_s``, ``osm_way``.
    provenance : Provenance
    """
    p = check_file(path)
    prov = _provenance(p, f"{network_type} network")
    nodes_raw, edges = _call(p, "the road network", "get_network", network_type, nodes=True)
    if len(edges) == 0:
        msg = message(
            f"holds no {network_type} roads", where=p, fix="check the extract covers a town"
        )
        raise InputError(msg)
    highway = edges["highway"].astype(str)
    ow = edges["oneway"].astype(str).str.lower() if "oneway" in edges else highway * 0
    walking = network_type == "walking"
    fwd = ~ow.isin(["-1", "reverse"]) | walking
    bwd = ~ow.isin(["yes", "true", "1"]) | walking
    bwd |= ow.isin(["-1", "reverse"]) & ~walking
    base = pd.DataFrame(
        {
            "highway": highway.to_numpy(),
            "name": edges["name"].to_numpy() if "name" in edges else None,
            "lanes_tag": edges["lanes"].map(parse_number).to_numpy()
            if "lanes" in edges
            else np.nan,
            "maxspeed_kph": edges["maxspeed"].map(lambda v: parse_number(v, unit="kph")).to_numpy()
            if "maxspeed" in edges
            else np.nan,
            "length_m": edges["length"].astype(float).to_numpy(),
            "osm_way": edges["id"].astype("int64").to_numpy(),
            "u": edges["u"].astype("int64").to_numpy(),
            "v": edges["v"].astype("int64").to_numpy(),
        }
    )
    geoms = edges.geometry.to_numpy()
    two_way = (fwd & bwd).to_numpy()
    parts = []
    f = fwd.to_numpy()
    parts.append(
        base[f].assign(a_node=base.u[f], b_node=base.v[f], oneway=~two_way[f], geometry=geoms[f])
    )
    b = bwd.to_numpy()
    rev = gpd.GeoSeries(geoms[b], crs=4326).reverse().to_numpy()
    parts.append(
        base[b].assign(a_node=base.v[b], b_node=base.u[b], oneway=~two_way[b], geometry=rev)
    )
    links = pd.concat(parts, ignore_index=True)
    cls = links["highway"].str.replace("_link", "", regex=False)
    table = pd.DataFrame.from_dict(ROAD_CLASSES, orient="index", columns=["v", "cap", "lanes"])
    known = cls.isin(table.index)
    cls = cls.where(known, "road")
    speed_default = table.loc[cls, "v"].to_numpy()
    lanes_dir = np.where(links["oneway"], links["lanes_tag"], np.floor(links["lanes_tag"] / 2.0))
    lanes_default = table.loc[cls, "lanes"].to_numpy()
    lanes = np.where(np.isfinite(lanes_dir) & (lanes_dir >= 1), lanes_dir, lanes_default)
    speed = links["maxspeed_kph"].to_numpy()
    speed = np.where(np.isfinite(speed) & (speed > 0), speed, speed_default)
    if walking:
        speed = np.full(len(links), WALK_SPEED_KPH)
    links = links.assign(
        lanes=lanes.astype(float),
        speed_kph=speed,
        capacity_veh_h=lanes * table.loc[cls, "cap"].to_numpy(),
        free_flow_time_s=links["length_m"].to_numpy() / (speed / 3.6),
    )
    links.index = pd.Index(
        [
            f"{w}:{a}-{b_}"
            for w, a, b_ in zip(links.osm_way, links.a_node, links.b_node, strict=True)
        ],
        name="id",
    )
    links = links[~links.index.duplicated()]
    links = gpd.GeoDataFrame(
        links.drop(columns=["u", "v", "lanes_tag"]), geometry="geometry", crs=4326
    )
    nodes = gpd.GeoDataFrame(
        {"osm_node": nodes_raw["id"].astype("int64").to_numpy()},
        geometry=nodes_raw.geometry.to_numpy(),
        crs=4326,
        index=pd.Index(nodes_raw["id"].astype("int64").to_numpy(), name="id"),
    )
    nodes = nodes[~nodes.index.duplicated()]
    used = pd.Index(links["a_node"]).union(pd.Index(links["b_node"]))
    nodes = nodes.loc[nodes.index.intersection(used)]
    links = links[links["a_node"].isin(nodes.index) & links["b_node"].isin(nodes.index)]
    ts = pd.to_numeric(edges.get("timestamp"), errors="coerce").max() if "timestamp" in edges else 0
    if np.isfinite(ts) and ts > 0:
        prov.retrieved = pd.Timestamp(int(ts), unit="s").date().isoformat()
        prov.step(f"retrieved = date of the latest OSM edit in the layer ({prov.retrieved})")
    prov.step("split ways at intersections; two-way ways became two directed links")
    prov.counts.update(
        {"links": len(links), "nodes": len(nodes), "unknown_road_class": int((~known).sum())}
    )
    prov.derived.update(
        {
            "speed_kph": "maxspeed tag, else default by road class "
            "(ASSUMED, twin.io.osm.ROAD_CLASSES)"
            if not walking
            else f"walking speed {WALK_SPEED_KPH} km/h (ASSUMED)",
            "lanes": "lanes tag per direction (half on two-way roads), "
            "else default by class (ASSUMED)",
            "capacity_veh_h": "lanes × per-lane capacity by road class (ASSUMED)",
            "free_flow_time_s": "length_m / speed",
        }
    )
    return Network(nodes=nodes, links=links), prov


@loader("osm.network", kind="network")
def load_osm_network(
    source: Path, *, network_type: Literal["driving", "walking"] = "driving"
) -> Layer:
    """Directed OSM road network (see :func:`read_osm_network`)."""
    net, prov = read_osm_network(source, network_type=network_type)
    return Layer("roads", "network", net, prov)


# --------------------------------------------------------------------------------------------
# points of interest and areas
def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons to a representative point (shops mapped as building outlines)."""
    poly = ~gdf.geom_type.isin(["Point"])
    if poly.any():
        gdf = gdf.copy()
        gdf.loc[poly, "geometry"] = gdf.geometry[poly].representative_point()
    return gdf


def read_osm_shops(path: str | Path) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read shops, including vacant (``shop=vacant``) and disused (``disused:shop``) units.

    Returns
    -------
    shops : GeoDataFrame
        Points with ``shop`` (the ``disused:shop`` value for disused units), ``name``,
        ``vacant`` (bool), address tags and ``opening_hours``.
    provenance : Provenance
    """
    p = check_file(path)
    prov = _provenance(p, "shops")
    raw = _call(p, "shops", "get_pois", custom_filter={"shop": True, "disused:shop": True})
    raw = raw.assign(**{"disused:shop": _tag(raw, "disused:shop")})
    gdf = _clean(
        raw,
        prov,
        [
            "shop",
            "disused:shop",
            "name",
            "brand",
            "opening_hours",
            "addr:street",
            "addr:housenumber",
            "addr:postcode",
            "addr:city",
        ],
    )
    disused = gdf["disused:shop"].notna()
    shop = gdf["shop"].astype(object) if "shop" in gdf else pd.Series(None, index=gdf.index)
    gdf = gdf.assign(
        shop=shop.where(shop.notna(), gdf["disused:shop"]),
        vacant=(shop.astype(str) == "vacant") | disused,
    )
    prov.counts["vacant"] = int(gdf["vacant"].sum())
    prov.step("polygons reduced to a representative point")
    return _points(gdf), prov


@loader("osm.shops", kind="vector")
def load_osm_shops(source: Path) -> Layer:
    """OSM shops, vacant ones flagged (see :func:`read_osm_shops`)."""
    gdf, prov = read_osm_shops(source)
    return Layer("shops", "vector", gdf, prov)


_AREA_KEYS = {
    "amenities": ("amenity", ["amenity", "name", "healthcare", "social_facility", "building"]),
    "landuse": ("landuse", ["landuse", "leisure", "name"]),
    "natural": (
        "natural",
        [
            "natural",
            "water",
            "waterway",
            "wood",
            "leaf_type",
            "height",
            "circumference",
            "species",
            "name",
        ],
    ),
}


def read_osm_features(
    path: str | Path, *, what: Literal["amenities", "landuse", "natural"]
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read amenities, land use (with leisure areas) or natural features (trees, water, wood).

    Returns
    -------
    features : GeoDataFrame
        Points, lines and polygons in EPSG:4326 with their main tags.
    provenance : Provenance
    """
    p = check_file(path)
    prov = _provenance(p, what)
    _, keep = _AREA_KEYS[what]
    if what == "landuse":
        a = _call(p, "land use", "get_landuse")
        b = _call(p, "leisure areas", "get_pois", custom_filter={"leisure": True})
        raw = pd.concat([a, b[b.geom_type.isin(["Polygon", "MultiPolygon"])]], ignore_index=True)
    elif what == "natural":
        a = _call(p, "natural features", "get_natural")
        b = _call(
            p,
            "water",
            "get_data_by_custom_criteria",
            custom_filter={"waterway": True, "water": True},
            filter_type="keep",
        )
        raw = pd.concat([a, b], ignore_index=True)
        for k in ("waterway", "water"):
            raw[k] = _tag(raw, k)
    else:
        raw = _call(p, "amenities", "get_pois", custom_filter={"amenity": True})
    for k in keep:
        raw[k] = _tag(raw, k)
    gdf = _clean(gpd.GeoDataFrame(raw, geometry="geometry", crs=4326), prov, keep)
    if "height" in gdf:
        gdf = gdf.assign(height_m=gdf["height"].map(parse_number)).drop(columns="height")
    return gdf, prov


@loader("osm.features", kind="vector")
def load_osm_features(source: Path, *, what: Literal["amenities", "landuse", "natural"]) -> Layer:
    """OSM amenities, land use or natural features (see :func:`read_osm_features`)."""
    gdf, prov = read_osm_features(source, what=what)
    return Layer(what, "vector", gdf, prov)


def read_osm_street_lamps(path: str | Path) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read street lamps (``highway=street_lamp``) with their lighting tags.

    Returns
    -------
    lamps : GeoDataFrame
        Points with ``lamp_type``, ``light:method``, ``light:count``, ``lamp_mount``,
        ``height`` and ``ref`` where tagged.
    provenance : Provenance
    """
    p = check_file(path)
    prov = _provenance(p, "street lamps")
    raw = _call(
        p,
        "street lamps",
        "get_data_by_custom_criteria",
        custom_filter={"highway": ["street_lamp"]},
        filter_type="keep",
        keep_nodes=True,
        keep_ways=False,
        keep_relations=False,
    )
    keep = [
        "ref",
        "lamp_type",
        "light:method",
        "light:count",
        "light:colour",
        "lamp_mount",
        "height",
        "operator",
        "support",
    ]
    for k in keep:
        raw[k] = _tag(raw, k)
    gdf = _clean(gpd.GeoDataFrame(raw, geometry="geometry", crs=4326), prov, keep)
    return gdf, prov


@loader("osm.street_lamps", kind="vector")
def load_osm_street_lamps(source: Path, *, inventory: bool = True) -> Layer:
    """OSM street lamps, as a lighting inventory (see :func:`twin.io.lighting.lamps_from_osm`).

    With ``inventory=False`` the raw tags are kept (see :func:`read_osm_street_lamps`).
    """
    from twin.io.lighting import lamps_from_osm

    gdf, prov = read_osm_street_lamps(source)
    if inventory:
        gdf = lamps_from_osm(gdf, prov)
    return Layer("street_lamps", "vector", gdf, prov)
