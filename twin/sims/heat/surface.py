"""From the twin's land-cover grid to the surface description of the heat model.

The land-cover grid (:mod:`twin.derive.landcover`) holds, per cell, the fractions ``roof, road,
concrete, water, trees, grass, irrigated_grass``, the mean roof height ``building_height_m``
and the canyon width ``street_width_m``; cool- and green-roof interventions add
``roof_albedo`` and ``green_roof_fraction``. :func:`surface_from_twin` renames them to the
names of :func:`twin.sims.heat.model.simulate` (``building_height``, ``street_width``),
checks them, and adds the ground-level sky view factor.

Sky view factor
---------------
Computed by ray casting (:func:`twin.kernels.svf.sky_view_factor`) on an **obstacle raster**:
a cell is an obstacle of height ``building_height_m`` when its roof fraction is at least
``roof_threshold`` (0.5: at 10 m the wall of a block then falls on the right cell edge on
average), otherwise it is open ground. Trees are not obstacles (their shade is the model's
tree fraction). The value is the SVF of the cell's **open part** (its ground, at the cell
centre, ignoring the cell's own roof), so:

* street and yard cells get the SVF of their canyon;
* roof cells (roof ≥ threshold) get the SVF a ground point at their centre would have among
  their neighbours — it only applies to the small open share of such cells; the roofs
  themselves see the whole sky (SVF 1 for roofs is the model's business, not this field).

Rays stop at the grid edge: the area outside the grid is taken as open (an SVF slightly too
high in the outer ``max_radius_m`` band).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from twin.derive.landcover import CLASSES
from twin.errors import InputError, message
from twin.kernels.svf import sky_view_factor
from twin.model.twin import Twin

FRACTIONS: tuple[str, ...] = CLASSES  # the land-cover classes of the derived grid
#: Land-cover variable → surface variable of the heat model.
RENAME = {"building_height_m": "building_height", "street_width_m": "street_width"}
OPTIONAL = ("roof_albedo", "green_roof_fraction")


def cell_size(grid: xr.Dataset) -> float:
    """Cell side of a regular grid [m]."""
    if "resolution_m" in grid.attrs:
        return float(grid.attrs["resolution_m"])
    return abs(float(grid.x[1] - grid.x[0]))


def check_same_grid(a: xr.Dataset | xr.DataArray, b: xr.Dataset | xr.DataArray, where: str) -> None:
    """Raise :class:`InputError` unless ``b`` lies on the grid of ``a`` (shape, coordinates, CRS).

    Parameters
    ----------
    a, b : Dataset or DataArray
        Grids on ``(y, x)``.
    where : str
        What ``b`` is, for the message (e.g. ``"layer 'population'"``).
    """
    problems = []
    for dim in ("y", "x"):
        if dim not in b.dims or dim not in a.dims:
            problems.append(f"no '{dim}' dimension")
        elif a.sizes[dim] != b.sizes[dim]:
            problems.append(f"{a.sizes[dim]} vs {b.sizes[dim]} cells along {dim}")
        elif not np.allclose(a[dim].to_numpy(), b[dim].to_numpy(), rtol=0, atol=1e-6):
            problems.append(f"{dim} coordinates differ")
    ca, cb = a.rio.crs, b.rio.crs
    if ca is not None and cb is not None and ca != cb:
        problems.append(f"CRS {cb.to_string()} instead of {ca.to_string()}")
    if problems:
        msg = message(
            "the grid does not match the land-cover grid: " + "; ".join(problems),
            where=where,
            fix="resample it onto the land-cover grid (same cells and CRS), e.g. with "
            "rioxarray's reproject_match",
        )
        raise InputError(msg)


def obstacle_height(surface: xr.Dataset, roof_threshold: float = 0.5) -> np.ndarray:
    """Obstacle raster of the ray casting [m]: ``building_height`` where roof ≥ threshold."""
    h = np.nan_to_num(surface["building_height"].to_numpy().astype(np.float64), nan=0.0)
    roof = np.nan_to_num(surface["roof"].to_numpy().astype(np.float64), nan=0.0)
    return np.where(roof >= roof_threshold, h, 0.0)


def surface_from_grid(
    grid: xr.Dataset,
    *,
    svf: bool = True,
    n_directions: int = 16,
    max_radius_m: float = 100.0,
    roof_threshold: float = 0.5,
    where: str = "land-cover grid",
    tolerance: float = 0.01,
) -> xr.Dataset:
    """The heat model's surface from a land-cover grid Dataset.

    Parameters
    ----------
    grid : Dataset
        Land-cover grid on ``(y, x)`` (see the module docstring).
    svf : bool
        Add ``sky_view_factor`` by ray casting (otherwise the model derives it from H/W).
    n_directions : int
        Azimuths of the ray casting.
    max_radius_m : float
        Search radius of the ray casting [m].
    roof_threshold : float
        Roof fraction from which a cell is an obstacle [0–1].
    where : str
        Name of the grid in error messages.
    tolerance : float
        Largest accepted departure of the fractions' sum from 1.

    Returns
    -------
    Dataset
        On ``(y, x)``: the seven fractions, ``building_height`` and ``street_width`` [m],
        ``roof_albedo`` and ``green_roof_fraction`` when the grid has them,
        ``sky_view_factor`` when ``svf``; CRS and attributes of the grid.

    Raises
    ------
    InputError
        On missing variables, fractions out of [0, 1] or not summing to 1, negative heights or
        widths.
    """
    missing = [v for v in (*FRACTIONS, *RENAME) if v not in grid and RENAME.get(v, v) not in grid]
    if missing or "y" not in grid.dims or "x" not in grid.dims:
        what = f"missing variable(s) {missing}" if missing else "not a (y, x) grid"
        msg = message(
            what,
            where=where,
            fix="derive the land-cover grid with twin.derive.landcover (kind: derived, "
            "derive: landcover in the layer manifest)",
        )
        raise InputError(msg)
    g = grid.rename({k: v for k, v in RENAME.items() if k in grid})
    fr = np.stack([g[v].to_numpy().astype(np.float64) for v in FRACTIONS])
    problems = []
    bad = np.isfinite(fr) & ((fr < -1e-6) | (fr > 1 + 1e-6))
    if bad.any():
        problems.append(f"{int(bad.any(axis=0).sum())} cell(s) with a fraction outside [0, 1]")
    total = fr.sum(axis=0)
    off = np.isfinite(total) & (np.abs(total - 1.0) > tolerance)
    if off.any():
        iy, ix = np.argwhere(off)[0]
        problems.append(
            f"{int(off.sum())} cell(s) whose fractions do not sum to 1 (first: row {iy}, "
            f"column {ix}, sum {total[iy, ix]:.3f})"
        )
    for v in ("building_height", "street_width", "roof_albedo", "green_roof_fraction"):
        if v in g and (g[v].to_numpy() < 0).any():
            problems.append(f"negative {v}")
    if problems:
        msg = message(
            "; ".join(problems),
            where=where,
            fix="fractions of " + ", ".join(FRACTIONS) + " must lie in [0, 1] and sum to 1 in "
            "every cell; re-derive the grid or fix the intervention that edited it",
        )
        raise InputError(msg)
    keep = [*FRACTIONS, "building_height", "street_width", *[v for v in OPTIONAL if v in g]]
    out = g[keep].astype(np.float32)
    for v in ("building_height", "street_width"):
        out[v].attrs["units"] = "m"
    if svf:
        h = obstacle_height(out, roof_threshold)
        s = sky_view_factor(
            h, cell_size(grid), n_directions=n_directions, max_radius_m=max_radius_m
        )
        out["sky_view_factor"] = (("y", "x"), s)
        out["sky_view_factor"].attrs.update(
            units="1",
            method=f"ray casting, {n_directions} directions, radius {max_radius_m:g} m, "
            f"obstacles where roof >= {roof_threshold:g}; ground level, open part of the cell",
        )
    out.attrs = {k: v for k, v in grid.attrs.items() if k in ("resolution_m",)}
    out.attrs["resolution_m"] = cell_size(grid)
    if grid.rio.crs is not None:
        out = out.rio.write_crs(grid.rio.crs)
    return out


def surface_from_twin(
    twin: Twin,
    landcover_layer: str = "landcover",
    *,
    svf: bool = True,
    n_directions: int = 16,
    max_radius_m: float = 100.0,
    roof_threshold: float = 0.5,
    svf_layer: str | None = None,
) -> xr.Dataset:
    """The heat model's surface from a twin's land-cover grid layer.

    Parameters
    ----------
    twin : Twin
        The (scenario) twin.
    landcover_layer : str
        Name of its land-cover grid layer.
    svf, n_directions, max_radius_m, roof_threshold
        See :func:`surface_from_grid`.
    svf_layer : str, optional
        A grid layer holding a ``sky_view_factor`` variable computed elsewhere (e.g. from a
        LiDAR surface model); it must lie on the land-cover grid. Replaces the ray casting.

    Raises
    ------
    InputError
        On a missing or non-grid layer, a grid that does not match, or bad fractions.
    """
    lay = _grid_layer(twin, landcover_layer, "landcover_layer")
    out = surface_from_grid(
        lay.data,
        svf=svf and svf_layer is None,
        n_directions=n_directions,
        max_radius_m=max_radius_m,
        roof_threshold=roof_threshold,
        where=f"layer '{landcover_layer}'",
    )
    if lay.crs is not None and out.rio.crs is None:
        out = out.rio.write_crs(lay.crs)
    if svf_layer is not None:
        other = _grid_layer(twin, svf_layer, "svf_layer").data
        if "sky_view_factor" not in other:
            msg = message(
                f"no 'sky_view_factor' variable (has {list(other.data_vars)})",
                where=f"layer '{svf_layer}'",
                fix="name the variable sky_view_factor, or drop svf_layer to compute it",
            )
            raise InputError(msg)
        check_same_grid(out, other, f"layer '{svf_layer}'")
        out["sky_view_factor"] = (
            ("y", "x"),
            np.clip(other["sky_view_factor"].to_numpy().astype(np.float32), 0, 1),
        )
    return out


def _grid_layer(twin: Twin, name: str, param: str) -> Any:
    if name not in twin or twin.layer(name).kind != "grid":
        grids = [n for n, v in twin.layers.items() if v.kind == "grid"]
        what = f"no grid layer '{name}'" if name not in twin else f"'{name}' is not a grid"
        msg = message(what, where=f"parameters.heat.{param}", fix=f"use one of {grids}")
        raise InputError(msg)
    return twin.layer(name)
