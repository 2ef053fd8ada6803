"""``simulate``: the urban heat island simulation on a surface grid (TARGET-family energy balance).

The orchestration: validate the surface and the forcing, derive the per-cell geometry and
albedos and the local-scale (``local_scale_m`` disc mean) inputs of the canyon-air balance,
run the rural reference (:func:`twin.kernels.heat.rural_reference`), the per-cell
kernel (:func:`twin.kernels.heat.urban_cells`) and the UTCI (:func:`twin.kernels.utci.utci`),
and return an xarray Dataset on ``(time, y, x)``. The equations are documented in
``docs/simulations/heat.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import rioxarray  # registers the .rio accessor
import xarray as xr

from twin.errors import InputError, message
from twin.kernels import heat as hk
from twin.sims import sun
from twin.sims.heat import spinup
from twin.sims.heat.forcing import check_forcing
from twin.sims.heat.params import COLUMNS, REFERENCE_SURFACES, TARGET_ALIASES, surface_table

#: Fraction variables of the surface, in the order of :data:`twin.kernels.heat.FRACTIONS`.
FRACTIONS = hk.FRACTIONS
_ALIASES = {
    "building_height": ("building_height", "building_height_m"),
    "street_width": ("street_width", "street_width_m"),
}
WHERE = "surface"
#: Default radius [m] of the local scale of the canyon air (the 25 m radius of the land
#: cover around each station in the TARGET validation, Broadbent et al., 2019).
LOCAL_SCALE_M = 25.0
#: Factor from the canyon (pedestrian-level) wind to the 10 m wind of the UTCI: log law
#: ln(10/0.01)/ln(1.1/0.01) with z0 = 0.01 m (Bröde et al., 2012).
WIND_10M_FACTOR = math.log(10.0 / 0.01) / math.log(1.1 / 0.01)


def _cells(mask: np.ndarray, ds: xr.Dataset, k: int = 5) -> str:
    ii, jj = np.nonzero(mask)
    ys, xs = ds["y"].to_numpy(), ds["x"].to_numpy()
    items = [f"(y={ys[i]:g}, x={xs[j]:g})" for i, j in zip(ii[:k], jj[:k], strict=False)]
    more = f" and {len(ii) - k} more" if len(ii) > k else ""
    return ", ".join(items) + more


def _local_scale(surface: xr.Dataset, local_scale_m: float | None) -> tuple[float, float]:
    """Radius of the canyon-air neighbourhood: ``(radius [m], radius [cells])``, 0 if off."""
    if local_scale_m is None or local_scale_m <= 0 or "local_scale_m" in surface.attrs:
        return 0.0, 0.0
    cell = surface.attrs.get("resolution_m")
    if cell is None:
        crs = _crs_of(surface)
        xs = surface["x"].to_numpy().astype(float)
        ys = surface["y"].to_numpy().astype(float)
        steps = np.abs(np.concatenate([np.diff(xs), np.diff(ys)]))
        if steps.size == 0:  # one cell: its neighbourhood is itself
            return 0.0, 0.0
        regular = steps.size > 0 and np.allclose(steps, steps[0], rtol=1e-6)
        if crs is None or not crs.is_projected or not regular:
            msg = message(
                "the canyon air is averaged over a neighbourhood of "
                f"local_scale_m = {local_scale_m:g} m, but the cell size is unknown "
                "(no projected CRS or irregular x/y)",
                where=WHERE,
                fix="write a projected CRS (ds.rio.write_crs(...)) or attrs['resolution_m']; "
                "pass local_scale_m=None when each cell's fractions already are local-scale "
                "(e.g. land cover around stations)",
            )
            raise InputError(msg)
        cell = steps[0]
    return float(local_scale_m), float(local_scale_m) / float(cell)


def _crs_of(ds: xr.Dataset) -> Any:
    """The CRS rioxarray reads on ``ds``, or None (no CRS, or inconsistent ones)."""
    try:
        return ds.rio.crs
    except rioxarray.exceptions.RioXarrayError:
        return None


def _focal_mean(a: np.ndarray, weight: np.ndarray, radius_cells: float) -> np.ndarray:
    """Weighted disc mean of ``a`` (``sum(w a) / sum(w)``), edges repeated ('nearest')."""
    from scipy import ndimage

    r = math.floor(radius_cells + 1e-9)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = ((yy**2 + xx**2) <= radius_cells**2 + 1e-9).astype(float)
    num = ndimage.correlate(weight * a, disc, mode="nearest")
    den = ndimage.correlate(weight, disc, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, num / den, np.nan)


def _air_inputs(
    frac3: np.ndarray,
    green: np.ndarray,
    height: np.ndarray,
    width: np.ndarray,
    valid: np.ndarray,
    built: np.ndarray,
    scale: tuple[float, float],
) -> np.ndarray:
    """Local-scale inputs of the canyon-air balance, ``(y, x, 10)`` (see ``hk.urban_cells``).

    Fractions: disc mean over the valid cells; green-roof share: over the roof area;
    building height: roof-weighted over built cells; street width: canyon-weighted over
    built cells (the mean width of all cells where the neighbourhood has no building).
    """
    own = np.concatenate([frac3, green[..., None], height[..., None], width[..., None]], axis=-1)
    if scale[1] <= 0.0:
        return own
    r = scale[1]
    everywhere = bool(valid.all())
    vw = valid.astype(float)
    f0 = frac3 if everywhere else np.where(valid[..., None], frac3, 0.0)
    out = np.empty_like(own)
    for k in range(frac3.shape[-1]):
        out[..., k] = _focal_mean(f0[..., k], vw, r)
    roof = np.where(built, f0[..., 0], 0.0)
    g = _focal_mean(green, f0[..., 0], r)
    out[..., 7] = np.nan_to_num(g, nan=0.0)
    hm = _focal_mean(height, roof, r)
    out[..., 8] = np.nan_to_num(hm, nan=0.0)
    canyon = np.where(built, np.maximum(1.0 - f0[..., 0], 0.05), 0.0)
    wm = _focal_mean(width, canyon, r)
    wo = _focal_mean(width, vw, r)  # neighbourhoods without buildings: the open widths
    out[..., 9] = np.where(np.isfinite(wm), wm, wo)
    # exact sum 1 of the averaged fractions (rounding)
    tot = out[..., :7].sum(axis=-1, keepdims=True)
    out[..., :7] = out[..., :7] / np.where(tot > 0, tot, 1.0)
    return out if everywhere else np.where(valid[..., None], out, own)


def _prepare_surface(surface: xr.Dataset) -> tuple[xr.Dataset, dict[str, str]]:
    if not isinstance(surface, xr.Dataset):
        msg = message(
            f"surface must be an xarray Dataset, got {type(surface).__name__}", where=WHERE
        )
        raise InputError(msg)
    if "y" not in surface.dims or "x" not in surface.dims:
        msg = message(
            f"surface has dims {tuple(surface.dims)}, expected 'y' and 'x'",
            where=WHERE,
            fix="rename the spatial dims to y and x (ds.rename({'lat': 'y', 'lon': 'x'}))",
        )
        raise InputError(msg)
    names: dict[str, str] = {}
    for key, alts in _ALIASES.items():
        found = [a for a in alts if a in surface.data_vars]
        if not found:
            msg = message(
                f"missing variable {key!r} (or {alts[1]!r})",
                where=WHERE,
                fix=f"add {key} [m] on (y, x); 0 for open cells",
            )
            raise InputError(msg)
        names[key] = found[0]
    missing = [f for f in FRACTIONS if f not in surface.data_vars]
    if missing:
        msg = message(
            f"missing fraction variable(s): {', '.join(missing)}",
            where=WHERE,
            fix="provide all of " + ", ".join(FRACTIONS) + " on (y, x) (0 where absent)",
        )
        raise InputError(msg)
    shape = (surface.sizes["y"], surface.sizes["x"])
    for name, var in surface.data_vars.items():
        if not ({"y", "x"} <= set(var.dims)):
            continue
        if set(var.dims) != {"y", "x"}:
            msg = message(
                f"variable {name!r} has dims {var.dims}, expected (y, x)",
                where=f"{WHERE}[{name!r}]",
                fix="select one layer of the extra dims before simulating",
            )
            raise InputError(msg)
    used = [*FRACTIONS, *names.values()]
    used += [
        v
        for v in ("sky_view_factor", "roof_albedo", "green_roof_fraction")
        if v in surface.data_vars
    ]
    used += [str(v) for v in surface.data_vars if str(v).startswith("albedo_")]
    for name in used:
        var = surface[name]
        if set(var.dims) != {"y", "x"}:
            msg = message(
                f"variable {name!r} has dims {var.dims}, not the (y, x) grid of the others",
                where=f"{WHERE}[{name!r}]",
                fix="put every surface variable on the same (y, x) grid",
            )
            raise InputError(msg)
    ds = surface.transpose("y", "x", ...)
    del shape
    return ds, names


def _solar(
    index: pd.DatetimeIndex, lat: float, lon: float, utc_offset_hours: float | None
) -> dict[str, np.ndarray]:
    """Sun geometry per time step (:mod:`twin.sims.sun`).

    Returns ``cosz``, the cosine of the solar zenith angle [-], and ``e0``, the eccentricity
    correction factor of the Earth's orbit [-], at the times of ``index`` (tz-aware, or naive
    local times ``utc_offset_hours`` [h] ahead of UTC; default ``lon / 15``).
    """
    utc = sun.utc_times(index, utc_offset_hours, lon)
    return {"cosz": sun.cos_zenith(utc, lat, lon), "e0": sun.earth_sun_factor(utc)}


def _sun_arrays(kd: np.ndarray, cosz: np.ndarray, e0: np.ndarray) -> np.ndarray:
    """Rows: tan(zenith), projected-area factor, direct normal, diffuse horizontal."""
    day = cosz > 0.05
    cz = np.where(day, cosz, 1.0)
    kt = np.clip(np.where(day, kd / (1367.0 * e0 * cz), 0.0), 0.0, 1.0)
    fd = np.where(
        kt <= 0.22,
        1.0 - 0.09 * kt,
        np.where(
            kt <= 0.8, 0.9511 - 0.1604 * kt + 4.388 * kt**2 - 16.638 * kt**3 + 12.336 * kt**4, 0.165
        ),
    )
    fd = np.where(day, fd, 1.0)
    dni = np.clip(kd * (1.0 - fd) / cz, 0.0, 1100.0)
    diff = kd - dni * cz * day
    tanz = np.where(day, np.sqrt(1.0 - cz**2) / cz, 20.0)
    beta = np.degrees(np.arcsin(np.clip(cosz, 0.0, 1.0)))
    fp = 0.308 * np.cos(np.radians(beta * (1.0 - beta**2 / 48402.0)))
    return np.vstack([tanz, fp, np.where(day, dni, 0.0), np.maximum(diff, 0.0)]).astype(float)


def _latlon(
    surface: xr.Dataset, latitude: float | None, longitude: float | None
) -> tuple[float, float]:
    if latitude is not None and longitude is not None:
        return float(latitude), float(longitude)
    crs = _crs_of(surface)
    if crs is None:
        msg = message(
            "cannot place the grid on Earth for the sun position: the surface has no CRS",
            where=WHERE,
            fix="write its CRS (ds.rio.write_crs(...)) or pass latitude= and longitude= [degrees]",
        )
        raise InputError(msg)
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(float(surface["x"].mean()), float(surface["y"].mean()))
    return float(latitude if latitude is not None else lat), float(
        longitude if longitude is not None else lon
    )


def simulate(
    surface: xr.Dataset,
    forcing: pd.DataFrame,
    *,
    z_uref: float = 10.0,
    z_taref: float = 2.0,
    z_avg: float | None = None,
    spinup_hours: float = 24.0,
    drop_spinup: bool = True,
    reference_surface: str = "grass",
    rural_roughness: float = 0.45,
    roof_albedo: float | None = None,
    surface_params: Mapping[str, Mapping[str, float]] | None = None,
    deep_temperature: float | None = None,
    spinup_cycles: int = 0,
    latitude: float | None = None,
    longitude: float | None = None,
    utc_offset_hours: float | None = None,
    max_gap_hours: float = 2.0,
    open_height: float = 0.5,
    open_street_width: float = 50.0,
    water_depth: float = 0.3,
    water_transfer: float = 1.4e-3,
    tree_transmissivity: float = 0.05,
    diagnostics: bool = False,
    engine: Literal["numba", "numpy"] = "numba",
    local_scale_m: float | None = LOCAL_SCALE_M,
    z_top: float | None = None,
) -> xr.Dataset:
    """Simulate urban air, surface and mean radiant temperatures and UTCI on a grid.

    Parameters
    ----------
    surface : Dataset
        On dims ``(y, x)``: plan-area fractions ``roof, road, concrete, water, trees, grass,
        irrigated_grass`` [-] summing to 1 per cell (cells where all are NaN are outside the
        domain and give NaN), ``building_height`` [m] and ``street_width`` [m] (or
        ``building_height_m``/``street_width_m``); optional ``sky_view_factor`` [-],
        ``roof_albedo`` [-], ``green_roof_fraction`` [-] (share of the roof area) and
        ``albedo_<surface>`` [-] per-cell overrides.
    forcing : DataFrame
        Regular time index; columns ``air_temperature`` [°C], ``relative_humidity`` [%],
        ``wind_speed`` [m s-1], ``shortwave_down`` [W m-2], ``longwave_down`` [W m-2],
        ``pressure`` [hPa], measured at a rural/reference site.
    z_uref, z_taref : float
        Heights of the wind and air temperature measurements [m].
    z_avg : float, optional
        Mean building height of the neighbourhood [m] (roughness of open cells and of the
        above-canyon layer); default: roof-weighted mean height of the built cells of
        ``surface``, at least 2 m. Pass it (with ``z_top``, ``latitude``, ``longitude``)
        when ``surface`` is a tile of a larger grid, so that every tile uses the same value.
    spinup_hours : float
        Spin-up [h] from ``forcing.index[0]``; those steps are dropped if ``drop_spinup``.
    drop_spinup : bool
        Drop the spin-up steps from the output (default) or keep them.
    reference_surface : str
        Surface of the rural reference site: ``grass`` (dry grass, default), ``irrigated_grass``,
        ``concrete``, ``road`` or ``roof`` (TARGET names ``dry``, ``irr``, ``conc`` accepted).
    rural_roughness : float
        Roughness length for momentum of the rural reference site [m].
    roof_albedo : float, optional
        Albedo of every roof [-] (a per-cell ``roof_albedo`` variable takes precedence).
    surface_params : mapping, optional
        Overrides of the parameter table ``{surface: {column: value}}``
        (see :mod:`twin.sims.heat.params`).
    deep_temperature : float, optional
        Initial deep (restore) temperature of every surface [°C], the surfaces starting at
        the first air temperature. Default: the deep temperature of the rural reference
        surface after two spin-up cycles of the first 24 h of forcing
        (:mod:`twin.sims.heat.spinup`).
    spinup_cycles : int
        With the default deep temperature: cycles of the first day run before the simulation
        (surface energy balances only), each setting the deep temperature of every surface
        to its diurnal-mean surface temperature, the surfaces starting from the state at the
        end of the last cycle. Default 0 (see :mod:`twin.sims.heat.spinup` for why).
    latitude, longitude : float, optional
        Location [degrees] for the sun position; default: the grid centre, from its CRS.
    utc_offset_hours : float, optional
        Offset of the naive forcing timestamps from UTC [h]; default: local mean solar time
        (longitude / 15). Ignored for tz-aware indexes.
    max_gap_hours : float
        Longest forcing gap [h] filled by linear interpolation.
    open_height : float
        Cells lower than this [m] are open (no canyon).
    open_street_width : float
        Street width [m] used for open cells whose width is missing.
    water_depth, water_transfer : float
        Depth [m] and bulk transfer coefficient [-] of the water slab.
    tree_transmissivity : float
        Share of the direct sun that passes through tree crowns [-] (mean radiant temperature).
    diagnostics : bool
        Also return the energy-balance terms per surface type.
    engine : {"numba", "numpy"}
        The numba kernel (default) or the pure-numpy reference.
    local_scale_m : float or None
        Radius [m] of the neighbourhood over which the land-cover fractions and the
        morphology (building height, street width) that feed the canyon-air balance are
        averaged (a disc focal mean, edges repeated). Default 25 m: the radius of the land
        cover around each station of the TARGET validation (Broadbent et al., 2019). The
        surface temperatures stay per cell. ``None`` or ``0`` turns it off; it is off for a
        ``surface`` whose ``attrs["local_scale_m"]`` says its fractions already are
        local-scale (e.g. the land cover around stations,
        :func:`twin.sims.heat.datasets.read_surface`). Needs a regular grid in a projected
        CRS (or ``attrs["resolution_m"]``).
    z_top : float, optional
        Height [m] of the top of the urban roughness layer, where the rural air temperature
        is carried up to (``Tb``); default twice the tallest building of ``surface``
        (and at least ``2 z_avg``).

    Returns
    -------
    Dataset
        Dims ``(time, y, x)``: ``air_temperature`` [°C] (canyon / street level),
        ``surface_temperature`` [°C] (plan-area weighted), ``mean_radiant_temperature`` [°C],
        ``utci`` [°C], ``wind_speed`` [m s-1] (canyon); ``rural_air_temperature`` (time) [°C]
        (the forcing) and ``above_canyon_temperature`` (time) [°C]. With ``diagnostics``:
        ``net_radiation``, ``sensible_heat_flux``, ``latent_heat_flux``,
        ``storage_heat_flux`` [W m-2] on ``(time, y, x, surface)`` (NaN where a surface is
        absent). The surface's x/y coordinates and CRS are kept; ``attrs`` hold the units and
        every parameter used.

    Raises
    ------
    InputError
        Inconsistent surface or forcing; the message says what, where and how to fix it.

    References
    ----------
    Broadbent, A. M., et al. (2019). The Air-temperature Response to Green/blue-infrastructure
    Evaluation Tool (TARGET v1.0). *Geosci. Model Dev.* 12, 785–803.
    """
    ds, names = _prepare_surface(surface)
    met, filled = check_forcing(forcing, max_gap_hours=max_gap_hours)
    ny, nx = ds.sizes["y"], ds.sizes["x"]
    frac3 = np.stack([ds[f].to_numpy().astype(float) for f in FRACTIONS], axis=-1)  # (y, x, 7)
    allnan = np.isnan(frac3).all(axis=-1)
    somenan = np.isnan(frac3).any(axis=-1) & ~allnan
    if somenan.any():
        msg = message(
            f"some land-cover fractions are NaN in {int(somenan.sum())} cell(s): "
            f"{_cells(somenan, ds)}",
            where=f"{WHERE}[{', '.join(FRACTIONS)}]",
            fix="set absent covers to 0 (all fractions NaN marks a cell outside the domain)",
        )
        raise InputError(msg)
    neg = (frac3 < 0).any(axis=-1) & ~allnan
    if neg.any():
        msg = message(
            f"negative land-cover fractions in {int(neg.sum())} cell(s): {_cells(neg, ds)}",
            where=f"{WHERE}[{', '.join(FRACTIONS)}]",
            fix="fractions must be in 0..1",
        )
        raise InputError(msg)
    total = np.nansum(frac3, axis=-1)
    bad = (np.abs(total - 1.0) > 1e-3) & ~allnan
    if bad.any():
        i, j = np.argwhere(bad)[0]
        msg = message(
            f"land-cover fractions do not sum to 1 (tolerance 1e-3) in {int(bad.sum())} cell(s): "
            f"{_cells(bad, ds)}; e.g. sum = {total[i, j]:.4f}",
            where=f"{WHERE}[{', '.join(FRACTIONS)}]",
            fix="normalise the fractions per cell (divide by their sum) or add the missing cover",
        )
        raise InputError(msg)
    valid = ~allnan
    height = ds[names["building_height"]].to_numpy().astype(float)
    width = ds[names["street_width"]].to_numpy().astype(float)
    if (height[valid] < 0).any():
        m = valid & (height < 0)
        msg = message(
            f"negative building height in {_cells(m, ds)}",
            where=f"{WHERE}[{names['building_height']!r}]",
            fix="heights are >= 0 m",
        )
        raise InputError(msg)
    height = np.where(np.isnan(height), 0.0, height)
    built = valid & (height >= open_height)
    badw = built & ~(width > 0)
    if badw.any():
        msg = message(
            f"street width missing or <= 0 in {int(badw.sum())} built cell(s): {_cells(badw, ds)}",
            where=f"{WHERE}[{names['street_width']!r}]",
            fix="give the mean street width [m] of every cell with buildings",
        )
        raise InputError(msg)
    width = np.where(width > 0, width, open_street_width)
    svf = np.full((ny, nx), np.nan)
    if "sky_view_factor" in ds:
        svf = ds["sky_view_factor"].to_numpy().astype(float)
        out = valid & ((svf < 0) | (svf > 1))
        if out.any():
            msg = message(
                f"sky view factor outside 0..1 in {_cells(out, ds)}",
                where=f"{WHERE}['sky_view_factor']",
                fix="clip it to 0..1",
            )
            raise InputError(msg)
    green = np.zeros((ny, nx))
    if "green_roof_fraction" in ds:
        green = np.nan_to_num(ds["green_roof_fraction"].to_numpy().astype(float), nan=0.0)
        out = valid & ((green < 0) | (green > 1))
        if out.any():
            msg = message(
                f"green_roof_fraction outside 0..1 in {_cells(out, ds)}",
                where=f"{WHERE}['green_roof_fraction']",
                fix="it is the vegetated share of the roof area, 0..1",
            )
            raise InputError(msg)
    table = surface_table(surface_params)
    overrides = dict(surface_params or {})
    if roof_albedo is not None:
        table[hk.ROOF, 0] = float(roof_albedo)
    albedo = np.broadcast_to(table[:, 0], (ny, nx, hk.NS)).copy()
    per_cell = {f"albedo_{s}": k for k, s in enumerate(hk.SURFACES)}
    per_cell["roof_albedo"] = hk.ROOF
    for var, k in per_cell.items():
        if var in ds:
            a = ds[var].to_numpy().astype(float)
            out = valid & ((a < 0) | (a > 1))
            if out.any():
                msg = message(
                    f"albedo outside 0..1 in {_cells(out, ds)}",
                    where=f"{WHERE}[{var!r}]",
                    fix="albedo is in 0..1",
                )
                raise InputError(msg)
            albedo[..., k] = np.where(np.isfinite(a), a, albedo[..., k])
    ref_name = TARGET_ALIASES.get(reference_surface, reference_surface)
    if ref_name not in REFERENCE_SURFACES:
        msg = message(
            f"unknown reference surface {reference_surface!r}",
            where="simulate(reference_surface=...)",
            fix=f"use one of {', '.join(REFERENCE_SURFACES)}",
        )
        raise InputError(msg)
    index = met.index
    dt = (index[1] - index[0]).total_seconds()
    nt = len(index)
    if z_avg is None:
        w = ds["roof"].to_numpy().astype(float)
        wb = np.where(built, w, 0.0)
        z_avg = float((wb * height).sum() / wb.sum()) if wb.sum() > 0 else 2.0
        z_avg = max(z_avg, 2.0)
    z_avg = float(z_avg)
    if z_uref <= 0.1 * z_avg or z_uref <= rural_roughness or z_taref <= rural_roughness:
        msg = message(
            f"measurement heights z_uref={z_uref} m / z_taref={z_taref} m are not above "
            "the roughness lengths",
            where="simulate(z_uref=..., z_taref=...)",
            fix="give the heights of the reference wind and temperature sensors [m]",
        )
        raise InputError(msg)
    ta = met["air_temperature"].to_numpy()
    first_day = np.asarray(index < index[0] + pd.Timedelta(hours=24))
    tm_first = float(ta[first_day].mean())
    lat, lon = _latlon(ds, latitude, longitude)
    sol = _solar(index, lat, lon, utc_offset_hours)
    kd = met["shortwave_down"].to_numpy()
    sun = _sun_arrays(kd, sol["cosz"], sol["e0"])
    # rural reference
    if z_top is None:
        z_top = 2.0 * max(float(height[valid].max()) if valid.any() else 0.0, z_avg)
    z_top = float(z_top)
    if z_top <= z_taref:
        msg = message(
            f"z_top = {z_top:g} m is not above the air temperature sensor "
            f"(z_taref = {z_taref:g} m)",
            where="simulate(z_top=...)",
            fix="give the top of the urban roughness layer, about twice the tallest building [m]",
        )
        raise InputError(msg)
    rk = hk.SURFACES.index(ref_name)
    ref = np.array([table[rk, 0], *table[rk, 1:7]], dtype=float)
    ws = met["wind_speed"].to_numpy()
    pr = met["pressure"].to_numpy()
    ld = met["longwave_down"].to_numpy()
    rh = met["relative_humidity"].to_numpy()
    rural: Any = hk.rural_reference if engine == "numba" else hk.rural_reference_numpy
    zs = (float(z_taref), float(z_uref), float(rural_roughness), z_top)
    met_cols = (ta, ws, pr, kd, ld)
    if deep_temperature is None:
        day_cols = tuple(np.ascontiguousarray(c[first_day]) for c in met_cols)
        tm_ref = spinup.rural_spinup(rural, day_cols, dt, ref, zs, tm_first)
    else:
        tm_ref = float(deep_temperature)
    tb, ts_ref = rural(*met_cols, dt, ref, *zs, tm_ref)
    forcing_arr = np.vstack([ta, rh, ws, pr, kd, ld, tb]).astype(float)
    scalars = np.array(
        [
            dt,
            z_uref,
            z_avg,
            tm_ref,
            water_depth,
            water_transfer,
            open_height,
            tree_transmissivity,
            0.70,
            0.97,
            0.1,
        ],
        dtype=float,
    )
    sp = np.ascontiguousarray(table[:, 1:])
    scale = _local_scale(surface, local_scale_m)
    air = _air_inputs(frac3, green, height, width, valid, built, scale)
    flat = valid.ravel()
    ncell = int(flat.sum())
    cells = (
        np.ascontiguousarray(frac3.reshape(-1, 7)[flat]),
        np.ascontiguousarray(green.ravel()[flat]),
        np.ascontiguousarray(height.ravel()[flat]),
        np.ascontiguousarray(width.ravel()[flat]),
        np.ascontiguousarray(svf.ravel()[flat]),
        np.ascontiguousarray(albedo.reshape(-1, hk.NS)[flat]),
        sp,
    )
    air_cells = np.ascontiguousarray(air.reshape(-1, air.shape[-1])[flat])
    if engine == "numba":
        kernel = hk.urban_cells
    elif engine == "numpy":
        kernel = hk.urban_cells_numpy
    else:
        msg = message(
            f"unknown engine {engine!r}", where="simulate(engine=...)", fix="use 'numba' or 'numpy'"
        )
        raise InputError(msg)
    if spinup_cycles < 0:
        msg = message(
            f"spinup_cycles = {spinup_cycles} is negative",
            where="simulate(spinup_cycles=...)",
            fix="give 0 (default) or a positive number of cycles",
        )
        raise InputError(msg)
    if deep_temperature is None:
        tm0, ts0 = spinup.relax_deep(
            kernel,
            cells,
            np.ascontiguousarray(forcing_arr[:, first_day]),
            np.ascontiguousarray(sun[:, first_day]),
            scalars,
            air_cells,
            tm_ref,
            spinup_cycles,
        )
    else:
        tm0 = np.full((ncell, hk.NS), float(deep_temperature))
        ts0 = np.full((ncell, hk.NS), np.nan)
    res, eb, _ = kernel(
        *cells,
        forcing_arr,
        np.ascontiguousarray(sun),
        scalars,
        tm0,
        bool(diagnostics),
        False,
        air_cells,
        ts0,
    )
    # UTCI
    ta_rep = res[0].ravel()
    rh_rep = np.broadcast_to(rh[:, None], (nt, ncell)).reshape(-1)  # one copy, no repeat
    va10 = res[2].ravel() * WIND_10M_FACTOR
    try:
        from twin.kernels.utci import utci as _utci
        from twin.kernels.utci import utci_numpy as _utci_numpy

        fn = _utci if engine == "numba" else _utci_numpy
        utci_vals = fn(ta_rep, res[3].ravel(), va10, rh_rep).reshape(nt, ncell)
    except ImportError:  # pragma: no cover - the UTCI kernel ships with twin
        utci_vals = np.full((nt, ncell), np.nan)

    keep = np.ones(nt, bool)
    spin_end = index[0] + pd.Timedelta(hours=float(spinup_hours))
    if drop_spinup:
        keep = index >= spin_end
    times = index[keep]

    all_valid = bool(flat.all())
    cell_index = np.flatnonzero(flat)

    def grid(a: np.ndarray) -> np.ndarray:
        a = a if keep.all() else a[keep]
        if all_valid:
            return a.reshape(-1, ny, nx)
        full = np.full((a.shape[0], ny * nx), np.nan)
        full[:, cell_index] = a
        return full.reshape(-1, ny, nx)

    coords = {"time": times}
    for name, c in ds.coords.items():
        if set(c.dims) <= {"y", "x"}:
            coords[str(name)] = c
    out = xr.Dataset(coords=coords)
    dims = ("time", "y", "x")
    out["air_temperature"] = (
        dims,
        grid(res[0]),
        {"units": "degC", "long_name": "canyon (street-level) air temperature"},
    )
    out["surface_temperature"] = (
        dims,
        grid(res[1]),
        {"units": "degC", "long_name": "plan-area weighted surface temperature"},
    )
    out["mean_radiant_temperature"] = (
        dims,
        grid(res[3]),
        {"units": "degC", "long_name": "mean radiant temperature of a standing person"},
    )
    out["utci"] = (
        dims,
        grid(utci_vals),
        {"units": "degC", "long_name": "Universal Thermal Climate Index"},
    )
    out["wind_speed"] = (dims, grid(res[2]), {"units": "m s-1", "long_name": "canyon wind speed"})
    out["rural_air_temperature"] = (
        "time",
        ta[keep],
        {"units": "degC", "long_name": "reference (rural) air temperature (forcing)"},
    )
    out["above_canyon_temperature"] = (
        "time",
        tb[keep],
        {"units": "degC", "long_name": "air temperature above the canyon, Tb"},
    )
    out["reference_surface_temperature"] = (
        "time",
        ts_ref[keep],
        {"units": "degC", "long_name": f"surface temperature of the rural {ref_name}"},
    )
    if diagnostics:
        out = out.assign_coords(surface=list(hk.SURFACES))
        for k, (name, long) in enumerate(
            (
                ("net_radiation", "net all-wave radiation Q*"),
                ("sensible_heat_flux", "sensible heat flux QH"),
                ("latent_heat_flux", "latent heat flux QE"),
                ("storage_heat_flux", "storage heat flux dQS"),
            )
        ):
            full = np.full((int(keep.sum()), ny * nx, hk.NS), np.nan)
            full[:, cell_index, :] = eb[keep, :, :, k]
            out[name] = (
                (*dims, "surface"),
                full.reshape(-1, ny, nx, hk.NS),
                {
                    "units": "W m-2",
                    "long_name": f"{long} per surface type (per unit area of that surface)",
                },
            )
    attrs = {
        "model": "twin.heat (TARGET-family urban energy balance; Broadbent et al., 2019)",
        "time_step_s": dt,
        "spinup_hours": float(spinup_hours),
        "spinup_dropped": int(bool(drop_spinup)),
        "z_uref_m": float(z_uref),
        "z_taref_m": float(z_taref),
        "z_avg_m": z_avg,
        "z_top_m": z_top,
        "local_scale_m": scale[0],
        "local_scale_cells": scale[1],
        "reference_surface": ref_name,
        "rural_roughness_m": float(rural_roughness),
        "deep_temperature_c": float("nan") if deep_temperature is None else float(deep_temperature),
        "reference_deep_temperature_c": tm_ref,
        "spinup_cycles": int(spinup_cycles) if deep_temperature is None else 0,
        "latitude": lat,
        "longitude": lon,
        "utc_offset_hours": float("nan") if utc_offset_hours is None else float(utc_offset_hours),
        "open_height_m": float(open_height),
        "water_depth_m": float(water_depth),
        "water_transfer": float(water_transfer),
        "tree_transmissivity": float(tree_transmissivity),
        "max_gap_hours": float(max_gap_hours),
        "engine": engine,
        "surface_types": ",".join(hk.SURFACES),
        "parameter_columns": ",".join(COLUMNS),
    }
    for k, s in enumerate(hk.SURFACES):
        attrs[f"params_{s}"] = ",".join(f"{v:g}" for v in table[k])
    for col, nfill in filled.items():
        attrs[f"forcing_filled_{col}"] = nfill
    if overrides:
        attrs["surface_params_overrides"] = repr(overrides)
    out.attrs.update(attrs)
    crs = _crs_of(surface)
    if crs is not None:
        out.rio.write_crs(crs, inplace=True)  # no deep copy of the output
    return out
