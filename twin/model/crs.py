"""Working coordinate reference system of a twin.

Rules (see the design guide, §3):

* Lambert-93 (EPSG:2154) when the territory lies in metropolitan France (mainland or Corsica);
* otherwise the WGS 84 / UTM zone of the territory's centre (EPSG:326xx north, 327xx south);
* EPSG:4326 only at the map boundary.

The test "in metropolitan France" uses a coarse outline (about 40 km accuracy) drawn by hand
from the national borders; a territory near a border can always override the choice.
"""

from __future__ import annotations

from typing import Any

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _ProjCRSError

from twin.errors import CRSError, message

LAMBERT93 = CRS.from_epsg(2154)
WGS84 = CRS.from_epsg(4326)

# Coarse outline of mainland France, (lon, lat) degrees; Corsica as a box.
_FRANCE_MAINLAND = shapely.Polygon(
    [
        (2.55, 51.09),
        (3.0, 50.8),
        (4.15, 50.0),
        (4.8, 50.15),
        (5.8, 49.55),
        (6.4, 49.46),
        (8.2, 48.97),
        (7.6, 47.6),
        (6.8, 47.3),
        (6.1, 46.15),
        (7.0, 45.9),
        (6.6, 45.1),
        (7.0, 44.2),
        (7.5, 43.78),
        (6.6, 43.1),
        (4.8, 43.35),
        (3.0, 42.6),
        (3.17, 42.43),
        (1.7, 42.5),
        (-0.7, 42.85),
        (-1.78, 43.37),
        (-1.25, 44.6),
        (-1.2, 46.1),
        (-2.3, 47.1),
        (-4.8, 47.8),
        (-4.8, 48.5),
        (-3.0, 48.85),
        (-1.6, 48.7),
        (-1.9, 49.7),
        (0.2, 49.5),
        (1.6, 50.2),
    ]
)
_CORSICA = shapely.box(8.5, 41.3, 9.6, 43.05)
_METRO_FRANCE = shapely.union(_FRANCE_MAINLAND, _CORSICA)


def utm_crs(lon: float, lat: float) -> CRS:
    """Return the WGS 84 / UTM CRS of the zone holding a point.

    Parameters
    ----------
    lon, lat : float
        Longitude and latitude [degrees, WGS 84].

    Returns
    -------
    pyproj.CRS
        EPSG:326zz in the northern hemisphere, EPSG:327zz in the southern one.
    """
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def in_metropolitan_france(lon: float, lat: float) -> bool:
    """Whether a point [degrees] lies in metropolitan France (coarse outline)."""
    return bool(_METRO_FRANCE.contains(shapely.Point(lon, lat)))


def working_crs_for(bounds_lonlat: tuple[float, float, float, float]) -> CRS:
    """Choose the working CRS for a territory.

    Parameters
    ----------
    bounds_lonlat : tuple of float
        ``(west, south, east, north)`` [degrees, WGS 84].

    Returns
    -------
    pyproj.CRS
        Lambert-93 in metropolitan France, else the UTM zone of the centre.
    """
    w, s, e, n = bounds_lonlat
    lon, lat = (w + e) / 2.0, (s + n) / 2.0
    if in_metropolitan_france(lon, lat):
        return LAMBERT93
    return utm_crs(lon, lat)


def parse_crs(value: Any, *, where: str = "crs") -> CRS:
    """Parse a user CRS (``"EPSG:2154"``, ``2154``, WKT, PROJ string) into a :class:`pyproj.CRS`.

    Raises
    ------
    CRSError
        If the value is not a CRS PROJ understands.
    """
    try:
        crs = CRS.from_user_input(value)
    except (_ProjCRSError, TypeError, ValueError) as exc:
        msg = message(
            f"{value!r} is not a coordinate reference system ({exc})",
            where=where,
            fix="give an EPSG code such as 'EPSG:2154' (Lambert-93) or 'EPSG:4326'",
        )
        raise CRSError(msg) from None
    return normalise_crs(crs)


def normalise_crs(crs: CRS) -> CRS:
    """Replace a CRS by its EPSG equivalent when there is one.

    French open data often carries an ESRI/IGNF flavour of Lambert-93 (``RGF93 Lambert 93``);
    it is the same projection as EPSG:2154 and is normalised to it.
    """
    epsg = crs.to_epsg(min_confidence=70)
    if epsg is not None:
        return CRS.from_epsg(epsg)
    if crs.is_projected and "lambert" in crs.name.lower() and "93" in crs.name:
        cand = LAMBERT93
        params = crs.to_dict()
        if (
            abs(float(params.get("lat_1", 0)) - 49) < 1e-6
            or abs(float(params.get("lat_2", 0)) - 49) < 1e-6
        ) and abs(float(params.get("x_0", 0)) - 700000) < 1e-3:
            return cand
    return crs


#: Largest scale error a CRS may have at a layer's centre for lengths and areas to be measured
#: in it (0.4 %: UTM zones stay within 0.1 % and Lambert-93 within 0.3 % over their areas of
#: use; Web Mercator is 56 % off at 50° N).
MAX_SCALE_ERROR = 4e-3


def scale_error(crs: CRS, lon: float, lat: float) -> float:
    """The relative length error of ``crs`` at ``(lon, lat)`` [-] (0 for a true-scale point;
    ``inf`` for a geographic CRS, whose units are degrees).

    The larger of the meridional and parallel scale errors, from PROJ's projection factors.
    """
    if not crs.is_projected:
        return float("inf")
    from pyproj import Proj

    f = Proj(crs).get_factors(lon, lat)
    return float(max(abs(f.meridional_scale - 1.0), abs(f.parallel_scale - 1.0)))


def metric_crs_for(crs: CRS, bounds_lonlat: tuple[float, float, float, float]) -> CRS | None:
    """A CRS to measure lengths and areas in, when ``crs`` is not fit for it (else None).

    Parameters
    ----------
    crs : pyproj.CRS
        The data's CRS.
    bounds_lonlat : tuple of float
        The data's ``(west, south, east, north)`` [degrees].

    Returns
    -------
    pyproj.CRS or None
        :func:`working_crs_for` the data when ``crs`` is geographic or its scale error at the
        data's centre exceeds :data:`MAX_SCALE_ERROR` (e.g. Web Mercator); None otherwise.
    """
    w, s, e, n = bounds_lonlat
    if scale_error(crs, (w + e) / 2.0, (s + n) / 2.0) <= MAX_SCALE_ERROR:
        return None
    return working_crs_for(bounds_lonlat)
