"""Default photometries per lamp family, for inventories without ``.ldt`` files (ASSUMED).

Each family of :data:`twin.io.lighting.LAMP_DEFAULTS` (``photometry`` field) gets an analytic
intensity distribution, tabulated every 5° in C and 2.5° in γ and normalised so that it
emits 1000 lm (the table is in cd/klm of *luminaire* flux: the inventory's ``flux_lm`` is read
as the flux leaving the luminaire, LORL = 1). Shapes, with ``A`` the normalisation constant:

``road``
    Full cut-off road optic (nothing above the horizontal), wide along the road and thrown
    towards the carriageway: ``I = A · cos γ · (1 + 4 sin²γ cos²C) · (1 + 0.5 sin γ sin C)``
    for γ < 90°. The C = 0 plane runs along the road, C = 90° points across it (the luminaire
    is turned towards its street by :func:`twin.sims.lighting.sim.orient_lamps`). Peak near
    γ ≈ 65° along the road, the usual "batwing".
``ambient``
    Decorative lantern or globe with a large upward share: ``I = A · (1 + 0.5 cos γ)`` over the
    whole sphere (25 % of the flux goes up).
``floodlight``
    A Gaussian beam of 20° standard deviation aimed 60° from the nadir in the C = 0 plane.
``uplight``
    In-ground uplighter: ``I = A · cos²(180° − γ)`` for γ > 90°, nothing downwards.
``bollard``
    Low lateral light: ``I = A · sin γ`` for γ ≤ 100°.

These are plausible orders of magnitude, not any manufacturer's data: give real ``.ldt``
files (``photometry`` column naming the file) for design-grade results.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import InputError, SchemaError, message
from twin.io.ldt import Photometry, read_ldt

#: C and γ steps of the default tables [°].
DC, DG = 5.0, 2.5


def _shape(family: str, c: np.ndarray, g: np.ndarray) -> np.ndarray:
    cr, gr = np.radians(c)[:, None], np.radians(g)[None, :]
    if family == "road":
        v = (
            np.cos(gr)
            * (1 + 4 * np.sin(gr) ** 2 * np.cos(cr) ** 2)
            * (1 + 0.5 * np.sin(gr) * np.sin(cr))
        )
        return np.where(gr < np.pi / 2, np.maximum(v, 0.0), 0.0)
    if family == "ambient":
        return (1 + 0.5 * np.cos(gr)) * np.ones_like(cr)
    if family == "floodlight":
        # angle between direction (C, γ) and the beam axis (C = 0, γ = 60°)
        ax = np.radians(60.0)
        cosang = np.cos(gr) * np.cos(ax) + np.sin(gr) * np.sin(ax) * np.cos(cr)
        ang = np.degrees(np.arccos(np.clip(cosang, -1, 1)))
        return np.exp(-0.5 * (ang / 20.0) ** 2)
    if family == "uplight":
        return np.where(gr > np.pi / 2, np.cos(np.pi - gr) ** 2, 0.0) * np.ones_like(cr)
    if family == "bollard":
        return np.where(g[None, :] <= 100.0, np.sin(gr), 0.0) * np.ones_like(cr)
    msg = message(
        f"no default photometry for family {family!r}",
        where="photometry",
        fix=f"use one of {sorted(FAMILIES)} or give an .ldt file",
    )
    raise SchemaError(msg)


FAMILIES = ("road", "ambient", "floodlight", "uplight", "bollard")


def _sphere_integral(table: np.ndarray, c: np.ndarray, g: np.ndarray) -> float:
    """∫∫ I sin γ dγ dC [lm] of a table on regular C in [0, 360) and γ in [0, 180]."""
    gr = np.radians(g)
    per_plane = np.trapezoid(table * np.sin(gr)[None, :], gr, axis=1)
    return float(per_plane.sum() * np.radians(c[1] - c[0]))


@cache
def default_photometry(family: str) -> Photometry:
    """The ASSUMED default photometry of a family, normalised to 1000 lm.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.

    Returns
    -------
    Photometry
        ``lamp_flux_lm = 1000``, ``lorl = 1``; its :meth:`Photometry.flux_integral_lm` is
        1000 lm.
    """
    c = np.arange(0.0, 360.0, DC)
    g = np.arange(0.0, 180.0 + DG / 2, DG)
    shape = _shape(family, c, g)
    table = shape * (1000.0 / _sphere_integral(shape, c, g))
    return Photometry(
        c_angles=c,
        g_angles=g,
        intensity=table,
        lamp_flux_lm=1000.0,
        lorl=1.0,
        name=f"twin default '{family}' (ASSUMED analytic distribution)",
        company="twin",
        type_indicator=1 if family in ("ambient", "uplight", "bollard") else 3,
        symmetry=0,
        dff=float(100.0 * _sphere_integral(np.where(g <= 90, table, 0.0), c, g) / 1000.0),
        source=f"twin.sims.lighting.photometry:{family}",
    )


# -- luminaire tables and illuminance ----------------------------------------------------------
def photometry_tables(
    names: pd.Series,
    photometry: Photometry | dict[str, Photometry] | None = None,
    *,
    base_dir: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regular intensity tables for the luminaires' ``photometry`` values.

    Parameters
    ----------
    names : Series
        Photometry of each luminaire: a family of :data:`FAMILIES` or an ``.ldt`` file name.
    photometry : Photometry or dict, optional
        One photometry for all luminaires, or overrides by name.
    base_dir : path, optional
        Folder of relative ``.ldt`` names.

    Returns
    -------
    tables : ndarray, shape (p, 73, 73)
        Tables on the :data:`DC` × :data:`DG` grid [cd/klm of luminaire flux, i.e. cd/klm
        divided by LORL so that ``flux_lm`` is the flux leaving the luminaire].
    which : ndarray of int64
        Table of each luminaire.
    lorl : ndarray
        LORL of each table.
    """
    if isinstance(photometry, Photometry):
        t = photometry.regular(DC, DG) / max(photometry.lorl, 1e-9)
        return t[None], np.zeros(len(names), dtype=np.int64), np.array([photometry.lorl])
    overrides = photometry or {}
    keys = names.astype(object).where(names.notna(), "road").astype(str)
    codes, uniq = pd.factorize(keys)
    tabs, lorls = [], []
    for name in uniq:
        if name in overrides:
            ph = overrides[name]
        elif name.lower().endswith(".ldt"):
            p = Path(name)
            ph = read_ldt(p if p.is_absolute() or base_dir is None else Path(base_dir) / p)
        else:
            ph = default_photometry(name)
        tabs.append(ph.regular(DC, DG) / max(ph.lorl, 1e-9))
        lorls.append(ph.lorl)
    return np.stack(tabs), codes.astype(np.int64), np.array(lorls)


def _xy(points: Any) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(points, "x") and isinstance(getattr(points, "x", None), np.ndarray):
        return np.ascontiguousarray(points.x, float), np.ascontiguousarray(points.y, float)
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        xy = shapely.get_coordinates(points.geometry if hasattr(points, "geometry") else points)
        return np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        msg = message(
            f"points of shape {arr.shape}",
            where="illuminance points",
            fix="give RoadPoints, a point GeoDataFrame or an (m, 2) array of x, y [m]",
        )
        raise InputError(msg)
    return np.ascontiguousarray(arr[:, 0]), np.ascontiguousarray(arr[:, 1])


def illuminance(
    luminaires: gpd.GeoDataFrame,
    points: Any,
    *,
    photometry: Photometry | dict[str, Photometry] | None = None,
    level: np.ndarray | float = 1.0,
    maintenance_factor: float = 1.0,
    cutoff_m: float = 60.0,
    base_dir: str | Path | None = None,
) -> np.ndarray:
    """Horizontal illuminance [lx] at ground points from luminaires.

    ``E = Σ I(C, γ) cos³γ / h²`` over the luminaires closer than ``cutoff_m`` (numba kernel
    :func:`twin.kernels.lighting.illuminance_cells`, parallel over points, uniform-grid
    spatial index).

    Parameters
    ----------
    luminaires : GeoDataFrame
        Points with ``flux_lm`` [lm, luminaire output], ``mounting_height_m`` [m], and
        optionally ``photometry`` (family or ``.ldt`` file; default ``road``) and
        ``azimuth_deg`` (direction of the C = 0 plane, counter-clockwise from east [°];
        default 0).
    points : RoadPoints, GeoDataFrame of points or ndarray (m, 2)
        Calculation points [m, same CRS].
    photometry : Photometry or dict, optional
        One photometry for all, or overrides by ``photometry`` value.
    level : float or ndarray
        Dimming level of each luminaire (0–1).
    maintenance_factor : float
        Multiplier for maintained values (EN 13201: depreciation of flux and dirt).
    cutoff_m : float
        Cut-off radius [m].
    base_dir : path, optional
        Folder of relative ``.ldt`` names.

    Returns
    -------
    ndarray of float64, shape (m,)
    """
    from twin.kernels.lighting import illuminance_points

    if not cutoff_m > 0:
        msg = message(f"cut-off radius {cutoff_m} m", where="cutoff_m", fix="give a radius > 0")
        raise InputError(msg)
    px, py = _xy(points)
    lum = luminaires
    xy = shapely.get_coordinates(lum.geometry.to_numpy())
    names = lum["photometry"] if "photometry" in lum else pd.Series("road", index=lum.index)
    tables, which, _ = photometry_tables(names, photometry, base_dir=base_dir)
    flux = pd.to_numeric(lum["flux_lm"], errors="coerce").to_numpy(dtype=float)
    h = pd.to_numeric(lum["mounting_height_m"], errors="coerce").to_numpy(dtype=float)
    az = (
        np.radians(pd.to_numeric(lum["azimuth_deg"], errors="coerce").fillna(0.0).to_numpy(float))
        if "azimuth_deg" in lum
        else np.zeros(len(lum))
    )
    scale = np.nan_to_num(flux) / 1000.0 * np.broadcast_to(level, flux.shape) * maintenance_factor
    return illuminance_points(
        px,
        py,
        np.ascontiguousarray(xy[:, 0]),
        np.ascontiguousarray(xy[:, 1]),
        np.nan_to_num(h),
        np.ascontiguousarray(az),
        np.ascontiguousarray(scale, dtype=float),
        which,
        np.ascontiguousarray(tables),
        DC,
        DG,
        float(cutoff_m),
    )
