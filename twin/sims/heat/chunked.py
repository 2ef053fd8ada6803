"""The heat model on grids larger than memory: tiles with halos, on Dask.

The energy balance of :func:`twin.sims.heat.model.simulate` has two neighbourhood operations:
the ray casting of the sky view factor, which reads obstacles up to ``max_radius_m`` away, and
the local-scale canyon air, whose land cover and morphology are averaged over a disc of
``local_scale_m`` (25 m by default). :func:`simulate_chunked` therefore cuts the grid into
``tile × tile`` cells and gives each tile a **halo** of ``halo_m ≥ max_radius_m`` (plus one
cell for rounding) for the ray casting and of at least ``local_scale_m`` for the averaging;
the model runs on the tile plus the averaging halo and the halo is cropped off. Every ray and
every disc of a tile cell reads exactly the cells it would read on the whole grid, and the
settings the model would otherwise derive from the grid it is given (``z_avg``, ``z_top``,
``latitude``, ``longitude``) are computed once on the whole grid and passed explicitly
(:func:`global_settings`), so the tiled result equals the untiled one (no seams) — the tests
check it to 1e-6.

Each tile is one :func:`dask.delayed` task; the result is a lazy Dataset assembled with
:func:`dask.array.block` (one chunk per tile), so that a 10 km × 10 km grid at 10 m and 24 h
can be written to Zarr tile by tile (``ds.to_zarr(...)``) without ever holding it whole, or
computed on a :class:`distributed.Client` (``client=``; a ``LocalCluster`` or a scheduler
address, see :mod:`twin.batch`). A surface opened lazily (``xr.open_zarr``) is read tile by
tile too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from twin.errors import InputError, message
from twin.kernels.svf import sky_view_factor
from twin.sims.heat.surface import cell_size, obstacle_height

Model = Callable[..., xr.Dataset]


def _default_model() -> Model:
    from twin.sims.heat.model import simulate

    return simulate


def _tile_task(
    piece: xr.Dataset,
    core: tuple[slice, slice],
    local: int,
    forcing: pd.DataFrame,
    svf: dict[str, Any] | None,
    model: Model,
    params: dict[str, Any],
) -> xr.Dataset:
    """Run one tile: SVF on tile + halo, keep ``local`` halo cells for the canyon air, simulate,
    crop to the core."""
    piece = piece.load()
    if svf is not None:
        h = obstacle_height(piece, svf["roof_threshold"])
        s = sky_view_factor(
            h,
            svf["cell"],
            n_directions=svf["n_directions"],
            max_radius_m=svf["max_radius_m"],
        )
        piece = piece.assign(sky_view_factor=(("y", "x"), s))
    (ys, xs), ny, nx = core, piece.sizes["y"], piece.sizes["x"]
    a0, b0 = max(ys.start - local, 0), max(xs.start - local, 0)
    a1, b1 = min(ys.stop + local, ny), min(xs.stop + local, nx)
    sub = piece.isel(y=slice(a0, a1), x=slice(b0, b1))
    out = model(sub, forcing, **params)
    return out.isel(y=slice(ys.start - a0, ys.stop - a0), x=slice(xs.start - b0, xs.stop - b0))


def global_settings(surface: xr.Dataset, params: dict[str, Any]) -> dict[str, Any]:
    """Settings the model would derive from the whole grid, fixed once for every tile.

    ``z_avg`` (roof-weighted mean height of the built cells, at least 2 m), ``z_top`` (twice
    the tallest building, at least ``2 z_avg``) and the sun's ``latitude`` / ``longitude``
    (grid centre) unless given: the model's explicit parameters, so that every tile uses
    the whole grid's values.
    """
    out = dict(params)
    name = "building_height" if "building_height" in surface else "building_height_m"
    hv = np.nan_to_num(np.asarray(surface[name], dtype=float), nan=0.0)
    if out.get("z_avg") is None:
        open_h = float(out.get("open_height", 0.5))
        roof = np.nan_to_num(np.asarray(surface["roof"], dtype=float), nan=0.0)
        w = np.where(hv >= open_h, roof, 0.0)
        out["z_avg"] = max(float((w * hv).sum() / w.sum()), 2.0) if w.sum() > 0 else 2.0
    if out.get("z_top") is None:
        valid = np.isfinite(np.asarray(surface["roof"], dtype=float))
        tallest = float(hv[valid].max()) if valid.any() else 0.0
        out["z_top"] = 2.0 * max(tallest, float(out["z_avg"]))
    if out.get("latitude") is None or out.get("longitude") is None:
        crs = surface.rio.crs
        if crs is not None:
            from pyproj import Transformer

            tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            lon, lat = tr.transform(float(surface["x"].mean()), float(surface["y"].mean()))
            out.setdefault("latitude", lat)
            out.setdefault("longitude", lon)
            out["latitude"] = out["latitude"] if out["latitude"] is not None else lat
            out["longitude"] = out["longitude"] if out["longitude"] is not None else lon
    return out


def simulate_chunked(
    surface: xr.Dataset,
    forcing: pd.DataFrame,
    *,
    tile: int = 256,
    halo_m: float | None = None,
    client: Any = None,
    svf: bool = True,
    n_directions: int = 16,
    max_radius_m: float = 100.0,
    roof_threshold: float = 0.5,
    compute: bool = True,
    model: Model | None = None,
    **params: Any,
) -> xr.Dataset:
    """Run the heat model tile by tile (optionally lazily, or on a Dask cluster).

    Parameters
    ----------
    surface : Dataset
        The model's surface on ``(y, x)`` (see :func:`twin.sims.heat.surface.surface_from_grid`),
        in memory or Dask-backed. When it has no ``sky_view_factor`` and ``svf`` is true, the
        SVF is ray-cast per tile with a halo.
    forcing : DataFrame
        Forcing of :func:`twin.sims.heat.model.simulate`.
    tile : int
        Tile side [cells].
    halo_m : float, optional
        Halo width [m]; default ``max_radius_m`` + one cell. Must be at least ``max_radius_m``
        when the SVF is computed here (a smaller halo would show seams).
    client : distributed.Client, optional
        Compute on this client (otherwise Dask's local threaded scheduler).
    svf, n_directions, max_radius_m, roof_threshold
        Ray casting of the sky view factor (:mod:`twin.kernels.svf`).
    compute : bool
        Return computed (in-memory) data; ``False`` returns the lazy Dataset.
    model : callable, optional
        The model (default :func:`twin.sims.heat.model.simulate`).
    **params
        Passed on to the model.

    Returns
    -------
    Dataset
        As the model's: ``(time, y, x)`` variables and the ``(time,)`` rural reference.

    Raises
    ------
    InputError
        On a tile smaller than 1 cell or a halo narrower than the SVF search radius.
    """
    model = model or _default_model()
    if tile < 1:
        msg = message(f"tile = {tile}", where="simulate_chunked", fix="use tile >= 1 cell")
        raise InputError(msg)
    cell = cell_size(surface)
    if "resolution_m" not in surface.attrs:  # tiles and 1-cell probes keep the cell size
        surface = surface.assign_attrs(resolution_m=cell)
    need_svf = svf and "sky_view_factor" not in surface
    if halo_m is None:
        halo_m = max_radius_m + cell if need_svf else 0.0
    if need_svf and halo_m < max_radius_m:
        msg = message(
            f"halo_m = {halo_m:g} m is narrower than the sky-view search radius "
            f"{max_radius_m:g} m: tiles would show seams",
            where="simulate_chunked",
            fix=f"use halo_m >= {max_radius_m:g}, or leave it unset",
        )
        raise InputError(msg)
    halo = math.ceil(halo_m / cell) if need_svf else 0
    # the canyon air is averaged over a disc of local_scale_m: tiles keep that much halo
    from twin.sims.heat.model import LOCAL_SCALE_M

    scale = params.get("local_scale_m", LOCAL_SCALE_M)
    local = 0
    if scale and "local_scale_m" not in surface.attrs:
        local = math.floor(float(scale) / cell + 1e-9)
    halo = max(halo, local)
    svf_opts = (
        {
            "cell": cell,
            "n_directions": n_directions,
            "max_radius_m": max_radius_m,
            "roof_threshold": roof_threshold,
        }
        if need_svf
        else None
    )
    ny, nx = surface.sizes["y"], surface.sizes["x"]
    params = global_settings(surface, params)

    # structure of the output: the model on a 1-cell piece
    probe = surface.isel(y=slice(0, 1), x=slice(0, 1)).load()
    if need_svf:
        probe = probe.assign(sky_view_factor=(("y", "x"), np.ones((1, 1), np.float32)))
    template = model(probe, forcing, **params)

    task = dask.delayed(_tile_task, pure=True)
    rows: list[list[Any]] = []
    for y0 in range(0, ny, tile):
        y1 = min(y0 + tile, ny)
        row = []
        for x0 in range(0, nx, tile):
            x1 = min(x0 + tile, nx)
            a0, a1 = max(y0 - halo, 0), min(y1 + halo, ny)
            b0, b1 = max(x0 - halo, 0), min(x1 + halo, nx)
            piece = surface.isel(y=slice(a0, a1), x=slice(b0, b1))
            core = (slice(y0 - a0, y1 - a0), slice(x0 - b0, x1 - b0))
            row.append(
                ((y1 - y0, x1 - x0), task(piece, core, local, forcing, svf_opts, model, params))
            )
        rows.append(row)

    out = xr.Dataset(
        coords={k: v for k, v in template.coords.items() if "y" not in v.dims and "x" not in v.dims}
    )
    out = out.assign_coords(y=surface["y"], x=surface["x"])
    for name, var in template.data_vars.items():
        if "y" in var.dims and "x" in var.dims:
            lead = tuple(d for d in var.dims if d not in ("y", "x"))
            if var.dims[-2:] != ("y", "x"):
                msg = message(
                    f"model output '{name}' has dims {var.dims}",
                    where="simulate_chunked",
                    fix="the model must return (..., y, x) variables",
                )
                raise InputError(msg)
            lead_shape = tuple(var.shape[: len(lead)])
            blocks = [
                [
                    da.from_delayed(
                        _pick(t, name),
                        shape=lead_shape + shp,
                        dtype=var.dtype,
                    )
                    for shp, t in row
                ]
                for row in rows
            ]
            arr = da.block(blocks)
            out[name] = xr.DataArray(arr, dims=var.dims, attrs=var.attrs)
        else:  # per-time (rural reference): the same for every tile
            out[name] = var
    out.attrs = dict(template.attrs)
    out.attrs["tiles"] = (
        f"{len(rows)} × {len(rows[0])} tiles of {tile} cells, halo {halo} cells "
        f"({local} for the local-scale canyon air)"
    )
    if surface.rio.crs is not None:
        out = out.rio.write_crs(surface.rio.crs)
    if not compute:
        return out
    if client is not None:
        return client.compute(out).result()
    return out.compute()


def _pick_var(ds: xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(ds[name].to_numpy())


_pick = dask.delayed(_pick_var, pure=True)
