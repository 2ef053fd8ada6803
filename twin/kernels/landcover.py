"""Block aggregation of fine land-cover rasters into coarse grid cells.

A fine raster of ``(Ny, Nx)`` pixels is cut into blocks of ``factor × factor`` pixels; block
``(i, j)`` covers fine rows ``i*factor : (i+1)*factor`` and columns ``j*factor : (j+1)*factor``.
The coarse grid has ``ceil(Ny / factor) × ceil(Nx / factor)`` cells.

Shapes that are not a multiple of ``factor`` behave as if the fine raster were padded at the
bottom and right with nodata pixels (code 255 / mask ``False``): the last row and column of
blocks only count the pixels that exist.

Each kernel has a pure-numpy reference (``*_ref``, reshape based) used as its test oracle.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NODATA = 255


@njit(cache=True, parallel=True)
def class_fractions(fine: np.ndarray, factor: int, n_classes: int) -> np.ndarray:
    """Per-cell fraction of each class in a fine categorical raster.

    Parameters
    ----------
    fine : ndarray of uint8, shape (Ny, Nx)
        Class codes ``0 .. n_classes - 1``. Code 255 is nodata; every code
        ``>= n_classes`` is treated as nodata too.
    factor : int
        Block size [fine pixels per coarse cell side], ``>= 1``.
    n_classes : int
        Number of classes, ``1 .. 255``.

    Returns
    -------
    ndarray of float32, shape (n_classes, ceil(Ny / factor), ceil(Nx / factor))
        Fraction [0–1] of the valid (non-nodata) pixels of each block that hold each class.
        Fractions of a block sum to 1, or are all NaN when the block has no valid pixel.
    """
    ny_f, nx_f = fine.shape
    ny = (ny_f + factor - 1) // factor
    nx = (nx_f + factor - 1) // factor
    out = np.empty((n_classes, ny, nx), dtype=np.float32)
    for i in prange(ny):
        counts = np.zeros(n_classes, dtype=np.int64)
        r0 = i * factor
        r1 = min(r0 + factor, ny_f)
        for j in range(nx):
            c0 = j * factor
            c1 = min(c0 + factor, nx_f)
            counts[:] = 0
            valid = 0
            for r in range(r0, r1):
                for c in range(c0, c1):
                    k = fine[r, c]
                    if k < n_classes:
                        counts[k] += 1
                        valid += 1
            for k in range(n_classes):
                if valid > 0:
                    out[k, i, j] = np.float32(counts[k] / valid)
                else:
                    out[k, i, j] = np.float32(np.nan)
    return out


@njit(cache=True, parallel=True)
def masked_block_mean(values: np.ndarray, mask: np.ndarray, factor: int) -> np.ndarray:
    """Per-cell mean of ``values`` over the pixels where ``mask`` is true.

    Used for the mean building height over roof pixels and the mean street width over
    road-centre pixels.

    Parameters
    ----------
    values : ndarray of float32, shape (Ny, Nx)
        Fine values [any unit]. NaN values are skipped (as if unmasked).
    mask : ndarray of bool, shape (Ny, Nx)
        Pixels that count.
    factor : int
        Block size [fine pixels per coarse cell side], ``>= 1``.

    Returns
    -------
    ndarray of float32, shape (ceil(Ny / factor), ceil(Nx / factor))
        Mean [unit of ``values``] over the masked pixels of each block (accumulated in
        float64); NaN where a block has no masked pixel.
    """
    ny_f, nx_f = values.shape
    ny = (ny_f + factor - 1) // factor
    nx = (nx_f + factor - 1) // factor
    out = np.empty((ny, nx), dtype=np.float32)
    for i in prange(ny):
        r0 = i * factor
        r1 = min(r0 + factor, ny_f)
        for j in range(nx):
            c0 = j * factor
            c1 = min(c0 + factor, nx_f)
            total = 0.0
            n = 0
            for r in range(r0, r1):
                for c in range(c0, c1):
                    v = values[r, c]
                    if mask[r, c] and not np.isnan(v):
                        total += v
                        n += 1
            out[i, j] = np.float32(total / n) if n > 0 else np.float32(np.nan)
    return out


def _pad(a: np.ndarray, factor: int, fill: float | bool) -> np.ndarray:
    ny, nx = a.shape
    py, px = (-ny) % factor, (-nx) % factor
    return np.pad(a, ((0, py), (0, px)), constant_values=fill)


def class_fractions_ref(fine: np.ndarray, factor: int, n_classes: int) -> np.ndarray:
    """Pure-numpy reference of :func:`class_fractions` (reshape and one-hot)."""
    f = _pad(np.asarray(fine, dtype=np.uint8), factor, NODATA)
    ny, nx = f.shape[0] // factor, f.shape[1] // factor
    blocks = f.reshape(ny, factor, nx, factor)
    counts = np.stack([(blocks == k).sum(axis=(1, 3)) for k in range(n_classes)])
    valid = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = counts / valid
    return frac.astype(np.float32)


def masked_block_mean_ref(values: np.ndarray, mask: np.ndarray, factor: int) -> np.ndarray:
    """Pure-numpy reference of :func:`masked_block_mean` (reshape)."""
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(mask, dtype=bool) & ~np.isnan(v)
    v = _pad(np.where(m, v, 0.0), factor, 0.0)
    m = _pad(m, factor, False)
    ny, nx = v.shape[0] // factor, v.shape[1] // factor
    total = v.reshape(ny, factor, nx, factor).sum(axis=(1, 3))
    n = m.reshape(ny, factor, nx, factor).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    return mean.astype(np.float32)
