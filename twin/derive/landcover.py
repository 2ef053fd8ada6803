"""Land-cover fractions and canyon geometry on a regular grid, for the urban heat model.

Vector layers (buildings, roads, OSM land use / natural areas, trees, water) are painted onto a
fine ``uint8`` raster (``resolution_m / supersample`` pixels), then aggregated per grid cell by
the numba kernels of :mod:`twin.kernels.landcover`.

Classes (codes are the positions in :data:`CLASSES`), the surface types of TARGET
(Broadbent et al., 2019, *Geosci. Model Dev.* 12, 785–803)::

    0 roof   1 road   2 concrete   3 water   4 trees   5 grass   6 irrigated_grass

Paint order (what ends on top wins the pixel)
---------------------------------------------
The raster is a plan view, what the sky sees, as in land-cover maps from aerial imagery.

1. **Area features** (land-use / natural polygons, water polygons and buffered waterways,
   woods): painted **largest first, so the smallest polygon wins** where polygons overlap.
   OSM nests small features in large ones (a car park in a park, a lawn on a square, a pond in a
   wood, a pitch in a recreation ground) without cutting holes, and the nested feature is the
   more specific description of the ground.
2. **Paved paths** (footway, pedestrian, steps…: class ``concrete``) then **road surfaces**
   (centre-lines buffered to their carriageway width): a road crossing a park, a wood or a river
   (bridge deck) is road, and the carriageway wins over the pavement lines drawn along it.
3. **Tree crowns** (tree points buffered by their crown radius, tree rows, canopy polygons of the
   ``trees`` layer): a crown overhanging a road or a car park hides it from the sky and shades
   it, which is what the heat model needs.
4. **Roofs** last: buildings occlude the ground, and street-tree crowns rarely overhang roofs
   (estimated crown radii are too crude to decide otherwise), so the roof area equals the
   footprint area.

Pixels no rule paints become the ``unclassified`` class (``"concrete"`` by default —
ASSUMPTION: in a city, unmapped ground is mostly sealed: yards, pavements, plots); the share of
such pixels is recorded.

Canyon geometry
---------------
* ``building_height_m``: mean building height over the roof pixels of a cell (0 without roof);
  where buildings overlap, the taller one is used.
* ``street_width_m``: along the road centre-lines, ``2 × (d − p/2)`` where ``d`` is the distance
  from a centre-line pixel to the nearest roof pixel centre (exact Euclidean distance transform,
  :func:`scipy.ndimage.distance_transform_edt`) and ``p`` the fine pixel size (the wall lies half
  a pixel before the roof pixel centre); capped at ``max_street_width_m`` (an open space is not a
  canyon) and averaged per cell. Cells without a road centre-line get the median of the cells
  that have one (or :data:`DEFAULT_STREET_WIDTH_M` when no cell has one), recorded as derived.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from pyproj import CRS
from rasterio.features import rasterize
from rasterio.transform import from_origin
from scipy import ndimage

from twin.errors import CRSError, InputError, SchemaError, message
from twin.kernels.landcover import class_fractions, masked_block_mean
from twin.model.layer import Layer
from twin.model.provenance import Provenance

__all__ = [
    "AREA_RULES",
    "CLASSES",
    "DEFAULT_STREET_WIDTH_M",
    "ROAD_WIDTHS_M",
    "derive_landcover",
    "landcover_grid",
]

#: Land-cover classes; a class code is its position in this tuple.
CLASSES: tuple[str, ...] = (
    "roof",
    "road",
    "concrete",
    "water",
    "trees",
    "grass",
    "irrigated_grass",
)
_CODE = {name: i for i, name in enumerate(CLASSES)}
_UNPAINTED = 255

#: Default carriageway width [m] and class by OSM ``highway`` value. ASSUMPTION: typical
#: European urban cross-sections (lanes of about 3 m; dual carriageways with a median for
#: motorway/trunk). Used when a road has neither ``width`` nor ``lanes``. Values not listed
#: here (path, track, bridleway — mostly unpaved —, proposed, construction, platform…) are
#: not painted.
ROAD_WIDTHS_M: dict[str, tuple[float, str]] = {
    "motorway": (22.0, "road"),
    "trunk": (16.0, "road"),
    "primary": (12.0, "road"),
    "secondary": (10.0, "road"),
    "tertiary": (8.0, "road"),
    "motorway_link": (6.0, "road"),
    "trunk_link": (6.0, "road"),
    "primary_link": (6.0, "road"),
    "secondary_link": (6.0, "road"),
    "tertiary_link": (6.0, "road"),
    "unclassified": (6.0, "road"),
    "residential": (6.0, "road"),
    "road": (6.0, "road"),
    "busway": (7.0, "road"),
    "living_street": (5.0, "road"),
    "service": (4.0, "road"),
    "cycleway": (2.0, "road"),
    "pedestrian": (6.0, "concrete"),
    "footway": (2.0, "concrete"),
    "steps": (2.0, "concrete"),
    "corridor": (2.0, "concrete"),
}
#: Width [m] of a road line when the roads layer has no ``highway`` column.
DEFAULT_ROAD_WIDTH_M = 6.0
#: Width [m] of one lane, for roads with a ``lanes`` count but no ``width``.
LANE_WIDTH_M = 3.0
#: Width [m] of waterway lines (``waterway`` column of the water layer) without ``width``.
WATERWAY_WIDTHS_M: dict[str, float] = {
    "river": 20.0,
    "canal": 12.0,
    "stream": 3.0,
    "ditch": 1.5,
    "drain": 1.5,
}
DEFAULT_WATERWAY_WIDTH_M = 3.0
#: Crown radius per metre of tree height (crown diameter ≈ half the height, a common ratio
#: for urban broadleaves, cf. the USDA Urban Tree Database, McPherson et al., 2016), clipped
#: to [1, 8] m.
CROWN_RADIUS_PER_HEIGHT = 0.25
CROWN_RADIUS_RANGE_M = (1.0, 8.0)
#: Street width [m] used everywhere when no cell holds a road centre-line.
DEFAULT_STREET_WIDTH_M = 20.0
#: Default height [m] of buildings whose ``height_m`` is missing or not positive.
DEFAULT_BUILDING_HEIGHT_M = 9.0
#: Largest fine raster accepted [pixels] (about 20 bytes per pixel are needed).
MAX_FINE_PIXELS = 200_000_000

_PAVED_SURFACES = frozenset(
    {
        "artificial_turf",
        "asphalt",
        "concrete",
        "paved",
        "tartan",
        "clay",
        "acrylic",
        "paving_stones",
        "sett",
        "compacted",
        "sand",
        "gravel",
        "fine_gravel",
    }
)
_GRASS_LANDUSE = frozenset(
    {
        "grass", "meadow", "recreation_ground", "village_green", "greenfield", "allotments",
        "farmland", "vineyard", "plant_nursery",
    }
)  # fmt: skip

#: Tag rules for area features: ``(key, values, class, condition)``; the first rule that
#: matches a feature wins; ``condition`` is ``None`` or ``(key, values)`` that must also hold.
#: ``"*"`` as values matches any non-empty value.
AREA_RULES: tuple[tuple[str, frozenset[str] | str, str, tuple[str, frozenset[str]] | None], ...] = (
    # water
    ("natural", frozenset({"water", "bay"}), "water", None),
    ("waterway", frozenset({"riverbank", "dock", "canal", "river", "basin"}), "water", None),
    ("landuse", frozenset({"reservoir", "basin", "salt_pond", "pond"}), "water", None),
    ("water", "*", "water", None),
    ("leisure", frozenset({"swimming_pool"}), "water", None),
    ("amenity", frozenset({"fountain"}), "water", None),
    # trees
    ("natural", frozenset({"wood", "tree_row", "tree"}), "trees", None),
    ("landuse", frozenset({"forest", "orchard"}), "trees", None),
    # sports grounds: paved or synthetic surfaces first, then natural turf (watered)
    ("leisure", frozenset({"pitch", "golf_course"}), "concrete", ("surface", _PAVED_SURFACES)),
    ("leisure", frozenset({"pitch", "golf_course"}), "irrigated_grass", None),
    ("landuse", frozenset({"flowerbed"}), "irrigated_grass", None),
    ("natural", frozenset({"wetland"}), "irrigated_grass", None),
    # grass (not irrigated)
    ("landuse", _GRASS_LANDUSE, "grass", None),
    ("leisure", frozenset({"park", "garden", "dog_park"}), "grass", None),
    ("natural", frozenset({"grassland", "scrub", "heath", "fell"}), "grass", None),
    # paved areas
    ("area:highway", "*", "road", None),
    ("amenity", frozenset({"parking", "marketplace", "fuel", "bus_station"}), "concrete", None),
    ("place", frozenset({"square"}), "concrete", None),
    ("highway", frozenset({"pedestrian", "footway", "service", "platform"}), "concrete", None),
    ("landuse", frozenset({"railway", "garages"}), "concrete", None),
    ("railway", frozenset({"platform"}), "concrete", None),
    ("man_made", frozenset({"pier", "bridge", "breakwater", "quay"}), "concrete", None),
    ("aeroway", frozenset({"apron", "runway", "taxiway", "helipad"}), "concrete", None),
    ("leisure", frozenset({"track"}), "concrete", None),
)

_NOT_SURFACE = frozenset({"yes", "building_passage", "culvert", "covered"})
_ROLES = ("buildings", "roads", "landuse", "natural", "trees", "water")


def landcover_grid(
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None,
    landuse: gpd.GeoDataFrame | None = None,
    natural: gpd.GeoDataFrame | None = None,
    trees: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    *,
    resolution_m: float = 10.0,
    supersample: int = 10,
    bounds: tuple[float, float, float, float] | None = None,
    road_width_m: float | Mapping[str, float] | None = None,
    tree_crown_radius_m: float = 3.0,
    unclassified: str = "concrete",
    max_street_width_m: float = 100.0,
    default_building_height_m: float = DEFAULT_BUILDING_HEIGHT_M,
) -> xr.Dataset:
    """Land-cover fractions, building height and street width on a regular grid.

    All layers must be in the same projected CRS in metres (the twin's working CRS).

    Parameters
    ----------
    buildings : GeoDataFrame
        Building footprints (polygons) with ``height_m`` [m]; missing or non-positive heights
        get ``default_building_height_m``.
    roads : GeoDataFrame or None
        Road centre-lines with ``highway`` (OSM class) and optional ``width`` [m] and
        ``lanes``; width is ``width``, else ``lanes × 3.0 m``, else :data:`ROAD_WIDTHS_M`.
        Lines with ``tunnel`` in {yes, building_passage, culvert, covered} are not painted.
        Polygons (road areas) are painted as they are.
    landuse, natural : GeoDataFrame, optional
        OSM land-use / natural features with tag columns (``landuse``, ``natural``,
        ``leisure``, ``amenity``, ``surface``…), classified by :data:`AREA_RULES`; rows no rule
        matches are ignored. ``natural=tree`` points and ``natural=tree_row`` lines are tree
        crowns.
    trees : GeoDataFrame, optional
        Trees: points buffered by their crown radius (``crown_radius_m`` [m] column, else
        ``0.25 × height_m`` clipped to [1, 8] m, else ``tree_crown_radius_m``), tree-row lines
        buffered likewise, canopy polygons as they are.
    water : GeoDataFrame, optional
        Water polygons; ``waterway`` lines are buffered by ``width`` [m] or
        :data:`WATERWAY_WIDTHS_M`. Rows no rule matches are water anyway.
    resolution_m : float
        Grid cell size [m].
    supersample : int
        Fine pixels per cell side; the fine raster has ``resolution_m / supersample`` pixels.
    bounds : tuple of float, optional
        ``(xmin, ymin, xmax, ymax)`` [m]. Default: the extent of buildings, roads and trees
        snapped outwards to multiples of ``resolution_m``. Given bounds keep their lower-left
        corner and are extended up/right to whole cells.
    road_width_m : float or mapping, optional
        A width [m] for every road, or ``{highway: width}`` overriding :data:`ROAD_WIDTHS_M`.
    tree_crown_radius_m : float
        Crown radius [m] of trees without ``crown_radius_m`` or ``height_m``.
    unclassified : str
        Class of the pixels nothing paints (ASSUMPTION: ``"concrete"``).
    max_street_width_m : float
        Cap on the street width [m].
    default_building_height_m : float
        Height [m] of buildings without a usable ``height_m``.

    Returns
    -------
    xarray.Dataset
        On ``(y, x)`` (cell centres, ``y`` descending), CRS and transform written with
        rioxarray. Variables (float32): the fractions [0–1] ``roof, road, concrete, water,
        trees, grass, irrigated_grass`` (summing to 1 in every cell), ``building_height_m``
        [m] and ``street_width_m`` [m]. ``attrs``: ``resolution_m``, ``fine_resolution_m``,
        ``classes``, ``assumptions`` (dict, rule by field) and ``counts`` (dict).

    Raises
    ------
    CRSError
        When a layer has no CRS, a geographic CRS, or a CRS differing from the buildings'.
    SchemaError
        When ``buildings`` has no ``height_m`` column.
    InputError
        On bad options or an empty or too large extent.
    """
    _check_options(resolution_m, supersample, unclassified, tree_crown_radius_m)
    supersample = int(supersample)
    frames = {
        "buildings": buildings,
        "roads": roads,
        "landuse": landuse,
        "natural": natural,
        "trees": trees,
        "water": water,
    }
    crs = _check_crs(frames)
    if "height_m" not in buildings.columns:
        have = [c for c in buildings.columns if c != buildings.geometry.name]
        msg = message(
            f"buildings have no 'height_m' column (columns: {have[:15]})",
            where="landcover_grid: buildings",
            fix="derive height_m [m] first, e.g. from height or building:levels × 3 m",
        )
        raise SchemaError(msg)
    fine_res = float(resolution_m) / int(supersample)
    x0, y0, nx, ny = _grid(frames, bounds, float(resolution_m))
    nyf, nxf = ny * supersample, nx * supersample
    if nyf * nxf > MAX_FINE_PIXELS:
        msg = message(
            f"the fine raster would have {nyf * nxf:,} pixels ({nxf}×{nyf} of {fine_res:g} m)",
            where="landcover_grid: bounds",
            fix=f"give smaller bounds, a coarser resolution_m or a smaller supersample "
            f"(limit {MAX_FINE_PIXELS:,} pixels)",
        )
        raise InputError(msg)
    y1 = y0 + ny * resolution_m
    fine_tf = from_origin(x0, y1, fine_res, fine_res)
    box = shapely.box(x0, y0, x0 + nx * resolution_m, y1)
    counts: dict[str, int] = {}
    assumptions: dict[str, str] = {}
    frames = {k: _clip(v, box) for k, v in frames.items()}

    areas, crowns = _area_features(frames, tree_crown_radius_m, counts, assumptions)
    paths, road_surf, centre_lines = _road_features(
        frames["roads"], road_width_m, counts, assumptions
    )
    bld = frames["buildings"]
    bld = bld[bld.geom_type.isin(["Polygon", "MultiPolygon"])]
    heights = pd.to_numeric(bld["height_m"], errors="coerce").to_numpy(dtype=float)
    bad_h = ~(heights > 0)
    if bad_h.any():
        heights = np.where(bad_h, default_building_height_m, heights)
        counts["buildings_default_height"] = int(bad_h.sum())
        assumptions["building_height_m"] = (
            f"{int(bad_h.sum())} buildings without a positive height_m: "
            f"{default_building_height_m:g} m"
        )

    fine = np.full((nyf, nxf), _UNPAINTED, dtype=np.uint8)
    order = np.argsort(-np.array([a for _, _, a in areas]), kind="stable")
    _burn(fine, ((areas[i][0], areas[i][1]) for i in order), fine_tf)
    _burn(fine, paths, fine_tf)
    _burn(fine, road_surf, fine_tf)
    _burn(fine, crowns, fine_tf)
    _burn(fine, ((g, _CODE["roof"]) for g in bld.geometry), fine_tf)

    unpainted = fine == _UNPAINTED
    counts["unclassified_pixels"] = int(unpainted.sum())
    share = unpainted.mean() if unpainted.size else 0.0
    fine[unpainted] = _CODE[unclassified]
    assumptions["unclassified"] = (
        f"pixels no layer paints are {unclassified} (ASSUMPTION; {100 * share:.1f} % of the area)"
    )
    fractions = class_fractions(fine, int(supersample), len(CLASSES))

    roof = fine == _CODE["roof"]
    hfine = np.zeros((nyf, nxf), dtype=np.float32)
    h_order = np.argsort(heights, kind="stable")
    geoms = bld.geometry.to_numpy()
    _burn(hfine, ((geoms[i], float(heights[i])) for i in h_order), fine_tf)
    height = masked_block_mean(hfine, roof, int(supersample))
    height = np.where(np.isnan(height), np.float32(0.0), height).astype(np.float32)

    width, w_rule = _street_width(
        roof, centre_lines, fine_tf, fine_res, int(supersample), max_street_width_m, counts
    )
    assumptions["street_width_m"] = w_rule

    xs = x0 + (np.arange(nx) + 0.5) * resolution_m
    ys = y1 - (np.arange(ny) + 0.5) * resolution_m
    data_vars: dict[str, Any] = {}
    for k, name in enumerate(CLASSES):
        data_vars[name] = (
            ("y", "x"),
            fractions[k],
            {"units": "1", "long_name": f"{name} fraction"},
        )
    data_vars["building_height_m"] = (
        ("y", "x"),
        height,
        {"units": "m", "long_name": "mean building height over roof area"},
    )
    data_vars["street_width_m"] = (
        ("y", "x"),
        width,
        {"units": "m", "long_name": "street (canyon) width"},
    )
    ds = xr.Dataset(data_vars, coords={"y": ys, "x": xs})
    ds = ds.rio.write_crs(crs)
    ds = ds.rio.write_transform(from_origin(x0, y1, resolution_m, resolution_m))
    ds.attrs = {
        "resolution_m": float(resolution_m),
        "fine_resolution_m": fine_res,
        "classes": list(CLASSES),
        "assumptions": assumptions,
        "counts": counts,
    }
    return ds


# -- checks and grid ----------------------------------------------------------------------
def _check_options(resolution_m: float, supersample: int, unclassified: str, crown: float) -> None:
    if not (resolution_m > 0 and math.isfinite(resolution_m)):
        msg = message(
            f"resolution_m must be a positive number of metres, not {resolution_m!r}",
            where="landcover_grid: resolution_m",
            fix="use e.g. resolution_m=10",
        )
        raise InputError(msg)
    if int(supersample) != supersample or supersample < 1:
        msg = message(
            f"supersample must be a positive integer, not {supersample!r}",
            where="landcover_grid: supersample",
            fix="use e.g. supersample=10 (10 × 10 fine pixels per cell)",
        )
        raise InputError(msg)
    if unclassified not in _CODE:
        msg = message(
            f"unknown class {unclassified!r}",
            where="landcover_grid: unclassified",
            fix=f"use one of {list(CLASSES)}",
        )
        raise InputError(msg)
    if not crown > 0:
        msg = message(
            f"tree_crown_radius_m must be positive, not {crown!r}",
            where="landcover_grid: tree_crown_radius_m",
            fix="use e.g. tree_crown_radius_m=3",
        )
        raise InputError(msg)


def _check_crs(frames: Mapping[str, gpd.GeoDataFrame | None]) -> CRS:
    ref: CRS | None = None
    for role, gdf in frames.items():
        if gdf is None:
            continue
        if not isinstance(gdf, gpd.GeoDataFrame):
            msg = message(
                f"{role} is a {type(gdf).__name__}, not a GeoDataFrame",
                where=f"landcover_grid: {role}",
                fix="pass a GeoDataFrame (or None)",
            )
            raise InputError(msg)
        if gdf.crs is None or not CRS(gdf.crs).is_projected:
            what = "no CRS" if gdf.crs is None else f"the geographic CRS {CRS(gdf.crs).to_string()}"
            msg = message(
                f"{role} has {what}; land cover is computed in metres",
                where=f"landcover_grid: {role}",
                fix="project every layer to the working CRS first, e.g. gdf.to_crs(twin.crs)",
            )
            raise CRSError(msg)
        crs = CRS(gdf.crs)
        if ref is None:
            ref = crs
        elif not crs.equals(ref):
            msg = message(
                f"{role} is in {crs.to_string()} but buildings are in {ref.to_string()}",
                where=f"landcover_grid: {role}",
                fix="project every layer to the same working CRS",
            )
            raise CRSError(msg)
    assert ref is not None  # buildings is required
    return ref


def _grid(
    frames: Mapping[str, gpd.GeoDataFrame | None],
    bounds: tuple[float, float, float, float] | None,
    res: float,
) -> tuple[float, float, int, int]:
    """Lower-left corner [m] and size [cells] of the grid."""
    if bounds is None:
        parts = [
            f.total_bounds
            for k in ("buildings", "roads", "trees")
            if (f := frames[k]) is not None and len(f)
        ]
        if not parts:
            msg = message(
                "buildings, roads and trees are all empty, so the grid has no extent",
                where="landcover_grid: bounds",
                fix="give bounds=(xmin, ymin, xmax, ymax) in metres",
            )
            raise InputError(msg)
        b = np.array(parts)
        xmin, ymin = b[:, 0].min(), b[:, 1].min()
        xmax, ymax = b[:, 2].max(), b[:, 3].max()
        x0, y0 = math.floor(xmin / res) * res, math.floor(ymin / res) * res
    else:
        xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        x0, y0 = xmin, ymin
    nx = max(1, math.ceil((xmax - x0) / res - 1e-9))
    ny = max(1, math.ceil((ymax - y0) / res - 1e-9))
    if not (xmax > xmin and ymax > ymin):
        msg = message(
            f"empty extent ({xmin}, {ymin}, {xmax}, {ymax})",
            where="landcover_grid: bounds",
            fix="give bounds with xmax > xmin and ymax > ymin [m]",
        )
        raise InputError(msg)
    return x0, y0, nx, ny


def _clip(gdf: gpd.GeoDataFrame | None, box: shapely.Polygon) -> gpd.GeoDataFrame | None:
    """Rows whose geometry intersects the grid, without null or empty geometries."""
    if gdf is None or len(gdf) == 0:
        return gdf
    g = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    idx = g.sindex.query(box, predicate="intersects")
    return g.iloc[np.sort(idx)]


def _burn(out: np.ndarray, shapes: Iterable[tuple[Any, float]], transform: Any) -> None:
    """Paint shapes in order (the last one wins) into ``out`` in place."""
    items = [(g, v) for g, v in shapes if g is not None and not g.is_empty]
    if items:
        rasterize(items, out=out, transform=transform)


# -- classification -----------------------------------------------------------------------
def _classify(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Class name of each row by :data:`AREA_RULES` (None where no rule matches)."""
    out = pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
    for key, values, cls, cond in AREA_RULES:
        if key not in gdf.columns:
            continue
        col = gdf[key]
        todo = out.isna()
        hit = col.notna() & (col.astype(str) != "") if values == "*" else col.isin(values)
        if cond is not None:
            ckey, cvalues = cond
            if ckey not in gdf.columns:
                continue
            hit &= gdf[ckey].isin(cvalues)
        out[todo & hit] = cls
    return out


def _first_number(values: pd.Series) -> np.ndarray:
    """First number in each value (``"12.13 m"`` → 12.13, ``"2;3"`` → 2), NaN otherwise."""
    s = values.astype("string").str.extract(r"(\d+(?:[.,]\d+)?)", expand=False)
    return pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce").to_numpy(
        dtype=float
    )


def _crown_radius(gdf: gpd.GeoDataFrame, default: float) -> tuple[np.ndarray, dict[str, int]]:
    n = len(gdf)
    radius = np.full(n, np.nan)
    used = {"crown_radius_m": 0, "height_m": 0, "default": 0}
    if "crown_radius_m" in gdf.columns:
        r = pd.to_numeric(gdf["crown_radius_m"], errors="coerce").to_numpy(dtype=float)
        ok = r > 0
        radius[ok] = r[ok]
        used["crown_radius_m"] = int(ok.sum())
    if "height_m" in gdf.columns:
        h = pd.to_numeric(gdf["height_m"], errors="coerce").to_numpy(dtype=float)
        ok = np.isnan(radius) & (h > 0)
        radius[ok] = np.clip(CROWN_RADIUS_PER_HEIGHT * h[ok], *CROWN_RADIUS_RANGE_M)
        used["height_m"] = int(ok.sum())
    rest = np.isnan(radius)
    radius[rest] = default
    used["default"] = int(rest.sum())
    return radius, used


def _area_features(
    frames: Mapping[str, gpd.GeoDataFrame | None],
    crown_default: float,
    counts: dict[str, int],
    assumptions: dict[str, str],
) -> tuple[list[tuple[Any, int, float]], list[tuple[Any, int]]]:
    """Area features ``(geometry, code, area)`` and tree crowns ``(geometry, code)``."""
    areas: list[tuple[Any, int, float]] = []
    crowns: list[tuple[Any, int]] = []
    tree = _CODE["trees"]
    crown_use = {"crown_radius_m": 0, "height_m": 0, "default": 0}

    def add_crowns(gdf: gpd.GeoDataFrame) -> None:
        pts = gdf[gdf.geom_type.isin(["Point", "MultiPoint", "LineString", "MultiLineString"])]
        if len(pts):
            r, used = _crown_radius(pts, crown_default)
            for k, v in used.items():
                crown_use[k] += v
            buf = shapely.buffer(pts.geometry.to_numpy(), r, quad_segs=16)
            crowns.extend((g, tree) for g in buf)
        polys = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
        crowns.extend((g, tree) for g in polys.geometry)

    for role in ("landuse", "natural", "water"):
        gdf = frames[role]
        if gdf is None or len(gdf) == 0:
            continue
        cls = _classify(gdf)
        if role == "water":
            cls = cls.fillna("water")
        counts[f"{role}_unclassified_features"] = int(cls.isna().sum())
        poly = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        for name in set(cls.dropna()):
            sel = (cls == name).to_numpy()
            if name == "trees":
                add_crowns(gdf[sel & ~poly])
            elif name == "water" and role == "water":
                lines = gdf[sel & ~poly & gdf.geom_type.str.contains("LineString").to_numpy()]
                areas.extend((g, _CODE["water"], g.area) for g in _waterways(lines, assumptions))
            g_sel = gdf.geometry[sel & poly]
            areas.extend((g, _CODE[name], g.area) for g in g_sel)
        counts[f"{role}_painted_features"] = int(cls.notna().sum())
    if frames["trees"] is not None and len(frames["trees"]):
        add_crowns(frames["trees"])
        counts["trees"] = len(frames["trees"])
    if any(crown_use.values()):
        counts.update({f"tree_crown_radius_from_{k}": v for k, v in crown_use.items()})
        assumptions["tree_crowns"] = (
            "tree points and rows buffered by crown_radius_m, else "
            f"{CROWN_RADIUS_PER_HEIGHT:g} × height_m clipped to {list(CROWN_RADIUS_RANGE_M)} m, "
            f"else {crown_default:g} m (ASSUMPTION; {crown_use['default']} trees)"
        )
    assumptions["area_features"] = (
        "land use / natural / water polygons classified by OSM tags (AREA_RULES), painted "
        "largest first so the smallest overlapping polygon wins"
    )
    return areas, crowns


def _waterways(lines: gpd.GeoDataFrame, assumptions: dict[str, str]) -> list[Any]:
    if len(lines) == 0:
        return []
    width = (
        _first_number(lines["width"]) if "width" in lines.columns else np.full(len(lines), np.nan)
    )
    kind = (
        lines["waterway"].astype(str).to_numpy()
        if "waterway" in lines.columns
        else np.full(len(lines), "")
    )
    default = np.array([WATERWAY_WIDTHS_M.get(k, DEFAULT_WATERWAY_WIDTH_M) for k in kind])
    w = np.where(width > 0, width, default)
    assumptions["waterways"] = (
        f"waterway lines buffered by width, else {WATERWAY_WIDTHS_M} m "
        f"(else {DEFAULT_WATERWAY_WIDTH_M:g} m)"
    )
    return list(shapely.buffer(lines.geometry.to_numpy(), w / 2.0, quad_segs=16))


def _road_features(
    roads: gpd.GeoDataFrame | None,
    road_width_m: float | Mapping[str, float] | None,
    counts: dict[str, int],
    assumptions: dict[str, str],
) -> tuple[list[tuple[Any, int]], list[tuple[Any, int]], list[Any]]:
    """Paved paths, road surfaces (geometry, code) and road centre-lines."""
    if roads is None or len(roads) == 0:
        return [], [], []
    r = roads
    if "tunnel" in r.columns:
        under = r["tunnel"].isin(_NOT_SURFACE).to_numpy()
        if under.any():
            counts["roads_in_tunnel"] = int(under.sum())
            r = r[~under]
    if "covered" in r.columns:
        under = r["covered"].isin(_NOT_SURFACE).to_numpy()
        r = r[~under]
    table = {k: w for k, (w, _) in ROAD_WIDTHS_M.items()}
    classes = {k: c for k, (_, c) in ROAD_WIDTHS_M.items()}
    if isinstance(road_width_m, Mapping):
        table.update({str(k): float(v) for k, v in road_width_m.items()})
        for k in road_width_m:
            classes.setdefault(str(k), "road")
    if "highway" in r.columns:
        hw = r["highway"].astype(str).to_numpy()
        known = np.isin(hw, list(table))
        if (~known).any():
            counts["roads_not_painted"] = int((~known).sum())
        r, hw = r[known], hw[known]
        default_w = np.array([table[h] for h in hw], dtype=float)
        cls = np.array([classes[h] for h in hw])
    else:
        hw = np.full(len(r), "road")
        default_w = np.full(len(r), DEFAULT_ROAD_WIDTH_M)
        cls = np.full(len(r), "road")
    if isinstance(road_width_m, int | float):
        w = np.full(len(r), float(road_width_m))
        assumptions["road_width_m"] = f"every road {float(road_width_m):g} m wide (given)"
    else:
        width = _first_number(r["width"]) if "width" in r.columns else np.full(len(r), np.nan)
        lanes = _first_number(r["lanes"]) if "lanes" in r.columns else np.full(len(r), np.nan)
        w = np.where(
            (width > 0) & (width < 100),
            width,
            np.where((lanes > 0) & (lanes < 20), lanes * LANE_WIDTH_M, default_w),
        )
        counts["road_width_from_width_tag"] = int(((width > 0) & (width < 100)).sum())
        counts["road_width_from_lanes"] = int(
            (~((width > 0) & (width < 100)) & (lanes > 0) & (lanes < 20)).sum()
        )
        assumptions["road_width_m"] = (
            f"width tag, else lanes × {LANE_WIDTH_M:g} m, else by highway class "
            f"{ {k: table[k] for k in sorted(set(hw))} } m (ASSUMPTION)"
        )
    geoms = r.geometry.to_numpy()
    is_line = np.asarray(shapely.get_dimensions(geoms) == 1)
    surf = np.where(is_line, shapely.buffer(geoms, w / 2.0, quad_segs=16), geoms)
    codes = np.array([_CODE[c] for c in cls], dtype=int)
    paths = [(g, int(c)) for g, c in zip(surf, codes, strict=True) if c != _CODE["road"]]
    road = [(g, int(c)) for g, c in zip(surf, codes, strict=True) if c == _CODE["road"]]
    centre = [
        g for g, c, ln in zip(geoms, codes, is_line, strict=True) if ln and c == _CODE["road"]
    ]
    counts["roads_painted"] = len(road) + len(paths)
    return paths, road, centre


# -- canyon width -------------------------------------------------------------------------
def _street_width(
    roof: np.ndarray,
    centre_lines: list[Any],
    transform: Any,
    fine_res: float,
    factor: int,
    cap: float,
    counts: dict[str, int],
) -> tuple[np.ndarray, str]:
    ny, nx = roof.shape[0] // factor, roof.shape[1] // factor
    centre = np.zeros(roof.shape, dtype=np.uint8)
    _burn(centre, ((g, 1) for g in centre_lines), transform)
    mask = (centre == 1) & ~roof
    if not mask.any():
        counts["street_width_fallback_cells"] = ny * nx
        rule = f"no road centre-line in the grid: {DEFAULT_STREET_WIDTH_M:g} m everywhere"
        return np.full((ny, nx), DEFAULT_STREET_WIDTH_M, dtype=np.float32), rule
    if roof.any():
        dist = ndimage.distance_transform_edt(~roof, sampling=fine_res)
        wfine = np.minimum(2.0 * (dist - fine_res / 2.0), cap).astype(np.float32)
        del dist
    else:
        wfine = np.full(roof.shape, cap, dtype=np.float32)
    width = masked_block_mean(wfine, mask, factor)
    missing = np.isnan(width)
    fallback = float(np.median(width[~missing])) if (~missing).any() else DEFAULT_STREET_WIDTH_M
    width[missing] = np.float32(fallback)
    counts["street_width_fallback_cells"] = int(missing.sum())
    rule = (
        "2 × (distance from road centre-line pixels to the nearest roof pixel centre − half a "
        f"pixel), capped at {cap:g} m, averaged per cell; {int(missing.sum())} cells without a "
        f"road centre-line get the median of the others, {fallback:.2f} m"
    )
    return width, rule


# -- builder entry ------------------------------------------------------------------------
def derive_landcover(
    twin_layers: Mapping[str, gpd.GeoDataFrame | Layer | None],
    *,
    resolution_m: float = 10.0,
    supersample: int = 10,
    bounds: tuple[float, float, float, float] | None = None,
    road_width_m: float | Mapping[str, float] | None = None,
    tree_crown_radius_m: float = 3.0,
    unclassified: str = "concrete",
    max_street_width_m: float = 100.0,
    default_building_height_m: float = DEFAULT_BUILDING_HEIGHT_M,
    licences: Mapping[str, str] | None = None,
    producers: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
) -> Layer:
    """Derive the land-cover grid layer of a twin from its vector layers.

    Parameters
    ----------
    twin_layers : mapping of str to GeoDataFrame or Layer
        Layers by role: ``buildings`` (required), ``roads``, ``landuse``, ``natural``,
        ``trees``, ``water``. A :class:`Layer` brings its provenance (source, producer,
        licence) along.
    resolution_m, supersample, bounds, road_width_m, tree_crown_radius_m, unclassified, \
max_street_width_m, default_building_height_m
        See :func:`landcover_grid`.
    licences, producers, sources : mapping of str to str, optional
        Licence (SPDX id), producer and source of each role, overriding the layers'
        provenance.

    Returns
    -------
    Layer
        A ``"grid"`` layer named ``"landcover"``; its provenance lists the layers used,
        combines their licences (SPDX ``AND``), and records the steps, the derived rules
        (``derived``) and counters.

    Raises
    ------
    SchemaError
        On an unknown role or a missing ``buildings`` layer.
    """
    unknown = [k for k in twin_layers if k not in _ROLES]
    if unknown or twin_layers.get("buildings") is None:
        what = f"unknown layer role(s) {unknown}" if unknown else "no 'buildings' layer"
        msg = message(
            what,
            where="derive_landcover: twin_layers",
            fix=f"pass layers under the roles {list(_ROLES)} (buildings is required)",
        )
        raise SchemaError(msg)
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    lic: dict[str, str] = {}
    prod: dict[str, str] = {}
    src: dict[str, str] = {}
    for role, item in twin_layers.items():
        if item is None:
            continue
        if isinstance(item, Layer):
            frames[role] = item.data
            lic[role], prod[role] = item.provenance.licence, item.provenance.producer
            src[role] = f"{item.name} ({item.provenance.source})"
        else:
            frames[role] = item
            lic[role], prod[role], src[role] = "unknown", "unknown", role
    lic.update({k: v for k, v in (licences or {}).items() if k in frames})
    prod.update({k: v for k, v in (producers or {}).items() if k in frames})
    src.update({k: v for k, v in (sources or {}).items() if k in frames})

    ds = landcover_grid(
        frames["buildings"],
        frames.get("roads"),
        frames.get("landuse"),
        frames.get("natural"),
        frames.get("trees"),
        frames.get("water"),
        resolution_m=resolution_m,
        supersample=supersample,
        bounds=bounds,
        road_width_m=road_width_m,
        tree_crown_radius_m=tree_crown_radius_m,
        unclassified=unclassified,
        max_street_width_m=max_street_width_m,
        default_building_height_m=default_building_height_m,
    )
    assumptions = ds.attrs.pop("assumptions")
    counts = ds.attrs.pop("counts")
    prov = Provenance(
        source="derived from " + "; ".join(f"{k}: {v}" for k, v in src.items()),
        producer=" + ".join(dict.fromkeys(prod.values())),
        licence=" AND ".join(dict.fromkeys(lic.values())),
        derived={"landcover": "fractions of " + ", ".join(CLASSES), **assumptions},
        counts=counts,
    )
    fine = ds.attrs["fine_resolution_m"]
    prov.step(f"painted the layers {sorted(frames)} on a {fine:g} m raster (rasterio)")
    prov.step(
        "paint order: area features largest first, paved paths, roads, tree crowns, roofs; "
        f"unpainted pixels are {unclassified}"
    )
    prov.step(f"aggregated to {resolution_m:g} m cells: class fractions, mean roof height")
    prov.step("street width from the Euclidean distance transform of the roof mask")
    return Layer(name="landcover", kind="grid", data=ds, provenance=prov)
