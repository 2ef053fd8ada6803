"""Horizontal illuminance on the ground from point luminaires.

A luminaire ``k`` at ``(lx, ly)``, mounted ``h`` metres above the ground and turned so that
its C = 0 plane points at azimuth ``rot`` (radians, counter-clockwise from the +x axis), gives
a ground point ``(px, py)`` at horizontal distance ``r`` the horizontal illuminance

    E = I(C, γ) · cos³γ / h²,   γ = atan2(r, h),   C = atan2(dy', dx') in the luminaire frame

(EN 13201-3:2015 §7.2.2; the inverse-square cosine law). ``I`` is bilinear in a regular
table of ``(360 / dc + 1) × (180 / dg + 1)`` values [cd per unit of ``scale``]; C is counted
counter-clockwise seen from above. Luminaires with ``h ≤ 0`` (in-ground uplights) add nothing.

Luminaires farther than the cut-off radius ``R`` [m] are ignored. They are found through a
uniform grid of square cells over the luminaires (cell lists in CSR form: ``start`` offsets
and sorted luminaire ids); a point scans the cells within ``R``. Points run in parallel.

Each kernel has a pure-numpy reference (``*_ref``) used as its test oracle.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True)
def interp_intensity(table: np.ndarray, c_deg: float, g_deg: float, dc: float, dg: float) -> float:
    """Bilinear I(C, γ) in a regular table (C wraps at 360°, γ clamps to [0°, 180°])."""
    nc = table.shape[0] - 1
    ng = table.shape[1] - 1
    c = c_deg % 360.0
    fc = c / dc
    i = int(fc)
    if i >= nc:
        i = nc - 1
    tc = fc - i
    g = min(max(g_deg, 0.0), 180.0)
    fg = g / dg
    j = int(fg)
    if j >= ng:
        j = ng - 1
    tg = fg - j
    a = table[i, j] * (1.0 - tg) + table[i, j + 1] * tg
    b = table[i + 1, j] * (1.0 - tg) + table[i + 1, j + 1] * tg
    return a * (1.0 - tc) + b * tc


@njit(cache=True)
def build_cells(
    x: np.ndarray, y: np.ndarray, x0: float, y0: float, cell: float, nx: int, ny: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cell lists of points in a uniform grid (CSR).

    Returns
    -------
    start : ndarray of int64, shape (nx * ny + 1,)
        Items of cell ``iy * nx + ix`` are ``items[start[c]:start[c + 1]]``.
    items : ndarray of int64, shape (n,)
        Point ids sorted by cell (stable).
    """
    n = x.shape[0]
    cid = np.empty(n, dtype=np.int64)
    count = np.zeros(nx * ny + 1, dtype=np.int64)
    for k in range(n):
        ix = min(max(int((x[k] - x0) / cell), 0), nx - 1)
        iy = min(max(int((y[k] - y0) / cell), 0), ny - 1)
        cid[k] = iy * nx + ix
        count[cid[k] + 1] += 1
    for c in range(nx * ny):
        count[c + 1] += count[c]
    fill = count[:-1].copy()
    items = np.empty(n, dtype=np.int64)
    for k in range(n):
        items[fill[cid[k]]] = k
        fill[cid[k]] += 1
    return count, items


@njit(cache=True, parallel=True)
def illuminance_cells(
    px: np.ndarray,
    py: np.ndarray,
    lx: np.ndarray,
    ly: np.ndarray,
    lh: np.ndarray,
    rot: np.ndarray,
    scale: np.ndarray,
    phot: np.ndarray,
    tables: np.ndarray,
    dc: float,
    dg: float,
    cutoff: float,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    start: np.ndarray,
    items: np.ndarray,
) -> np.ndarray:
    """Horizontal illuminance [lx] at ground points from luminaires within ``cutoff`` [m].

    Parameters
    ----------
    px, py : ndarray of float64, shape (m,)
        Points [m].
    lx, ly, lh : ndarray of float64, shape (n,)
        Luminaire positions and mounting heights [m].
    rot : ndarray of float64, shape (n,)
        Azimuth of each luminaire's C = 0 plane [rad, counter-clockwise from +x].
    scale : ndarray of float64, shape (n,)
        Multiplier of the table values (e.g. flux / 1000 × dimming level).
    phot : ndarray of int64, shape (n,)
        Table of each luminaire.
    tables : ndarray of float64, shape (p, 360 / dc + 1, 180 / dg + 1)
        Intensity tables.
    dc, dg : float
        Table steps [°].
    cutoff : float
        Cut-off radius [m].
    x0, y0, cell, nx, ny, start, items
        The luminaire cell index from :func:`build_cells` (origin, cell size [m], shape).

    Returns
    -------
    ndarray of float64, shape (m,)
    """
    m = px.shape[0]
    out = np.zeros(m)
    r2max = cutoff * cutoff
    to_deg = 180.0 / math.pi
    reach = math.ceil(cutoff / cell)
    for p in prange(m):
        ix = math.floor((px[p] - x0) / cell)
        iy = math.floor((py[p] - y0) / cell)
        e = 0.0
        for cy in range(iy - reach, iy + reach + 1):
            if cy < 0 or cy >= ny:
                continue
            for cx in range(ix - reach, ix + reach + 1):
                if cx < 0 or cx >= nx:
                    continue
                c = cy * nx + cx
                for t in range(start[c], start[c + 1]):
                    k = items[t]
                    h = lh[k]
                    if h <= 0.0:
                        continue
                    dx = px[p] - lx[k]
                    dy = py[p] - ly[k]
                    r2 = dx * dx + dy * dy
                    if r2 > r2max:
                        continue
                    d2 = r2 + h * h
                    g = math.atan2(math.sqrt(r2), h) * to_deg
                    cang = (math.atan2(dy, dx) - rot[k]) * to_deg
                    i_cd = interp_intensity(tables[phot[k]], cang, g, dc, dg) * scale[k]
                    e += i_cd * h / (d2 * math.sqrt(d2))
        out[p] = e
    return out


def illuminance_points(
    px: np.ndarray,
    py: np.ndarray,
    lx: np.ndarray,
    ly: np.ndarray,
    lh: np.ndarray,
    rot: np.ndarray,
    scale: np.ndarray,
    phot: np.ndarray,
    tables: np.ndarray,
    dc: float,
    dg: float,
    cutoff: float,
    cells_per_radius: int = 2,
) -> np.ndarray:
    """Build the luminaire cell index and call :func:`illuminance_cells`.

    Same parameters; the index cells are ``cutoff / cells_per_radius`` wide, so a point scans
    ``(2 k + 1)²`` cells (k = ``cells_per_radius``): smaller cells waste fewer distance tests.
    """
    if lx.shape[0] == 0 or px.shape[0] == 0:
        return np.zeros(px.shape[0])
    cell = cutoff / max(int(cells_per_radius), 1)
    x0 = float(lx.min()) - cell
    y0 = float(ly.min()) - cell
    nx = int((float(lx.max()) - x0) / cell) + 2
    ny = int((float(ly.max()) - y0) / cell) + 2
    start, items = build_cells(lx, ly, x0, y0, cell, nx, ny)
    return illuminance_cells(
        px,
        py,
        lx,
        ly,
        lh,
        rot,
        scale,
        phot,
        tables,
        dc,
        dg,
        cutoff,
        x0,
        y0,
        cell,
        nx,
        ny,
        start,
        items,
    )


# -- numpy references ------------------------------------------------------------------------
def interp_intensity_ref(
    table: np.ndarray, c_deg: np.ndarray, g_deg: np.ndarray, dc: float, dg: float
) -> np.ndarray:
    """Numpy reference of :func:`interp_intensity` (vectorised over angles)."""
    nc, ng = table.shape[0] - 1, table.shape[1] - 1
    fc = np.mod(c_deg, 360.0) / dc
    i = np.minimum(fc.astype(np.int64), nc - 1)
    tc = fc - i
    fg = np.clip(g_deg, 0.0, 180.0) / dg
    j = np.minimum(fg.astype(np.int64), ng - 1)
    tg = fg - j
    a = table[i, j] * (1 - tg) + table[i, j + 1] * tg
    b = table[i + 1, j] * (1 - tg) + table[i + 1, j + 1] * tg
    return a * (1 - tc) + b * tc


def illuminance_ref(
    px: np.ndarray,
    py: np.ndarray,
    lx: np.ndarray,
    ly: np.ndarray,
    lh: np.ndarray,
    rot: np.ndarray,
    scale: np.ndarray,
    phot: np.ndarray,
    tables: np.ndarray,
    dc: float,
    dg: float,
    cutoff: float,
    chunk: int = 4096,
) -> np.ndarray:
    """Brute-force numpy reference of :func:`illuminance_points` (all pairs, chunked)."""
    out = np.zeros(px.shape[0])
    lit = lh > 0
    lx, ly, lh, rot, scale, phot = lx[lit], ly[lit], lh[lit], rot[lit], scale[lit], phot[lit]
    for s in range(0, px.shape[0], chunk):
        dx = px[s : s + chunk, None] - lx[None, :]
        dy = py[s : s + chunk, None] - ly[None, :]
        r2 = dx * dx + dy * dy
        d2 = r2 + lh[None, :] ** 2
        g = np.degrees(np.arctan2(np.sqrt(r2), lh[None, :]))
        c = np.degrees(np.arctan2(dy, dx) - rot[None, :])
        val = np.zeros_like(r2)
        for t in np.unique(phot):
            sel = phot == t
            val[:, sel] = interp_intensity_ref(tables[t], c[:, sel], g[:, sel], dc, dg)
        e = val * scale[None, :] * lh[None, :] / (d2 * np.sqrt(d2))
        out[s : s + chunk] = np.where(r2 <= cutoff * cutoff, e, 0.0).sum(axis=1)
    return out
