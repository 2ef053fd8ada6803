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
from dataclasses import dataclass
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
    opts = _Options(**{k: v for k, v in locals().items() if k not in ("surface", "forcing")})
    inp = _validate(surface, forcing, opts)
    run = _physics(inp, opts)
    return _assemble(surface, inp, run, opts)


@dataclass(frozen=True)
class _Options:
    """The keyword arguments of :func:`simulate`, as passed (units there)."""

    z_uref: float
    z_taref: float
    z_avg: float | None
    spinup_hours: float
    drop_spinup: bool
    reference_surface: str
    rural_roughness: float
    roof_albedo: float | None
    surface_params: Mapping[str, Mapping[str, float]] | None
    deep_temperature: float | None
    spinup_cycles: int
    latitude: float | None
    longitude: float | None
    utc_offset_hours: float | None
    max_gap_hours: float
    open_height: float
    open_street_width: float
    water_depth: float
    water_transfer: float
    tree_transmissivity: float
    diagnostics: bool
    engine: Literal["numba", "numpy"]
    local_scale_m: float | None
    z_top: float | None


@dataclass
class _Inputs:
    """Checked inputs of :func:`simulate`: the grid ``(y, x)``, the forcing and the settings.

    Attributes
    ----------
    ds : Dataset
        The surface, dims ordered ``(y, x)``.
    frac3 : ndarray, shape (y, x, 7)
        Plan-area fractions [-] of :data:`FRACTIONS` (NaN outside the domain).
    valid, built : ndarray of bool, shape (y, x)
        Cells in the domain; cells with buildings (``height >= open_height``).
    height, width : ndarray, shape (y, x)
        Building height [m] (0 where NaN) and street width [m] (``open_street_width`` where
        missing).
    svf : ndarray, shape (y, x)
        Ground sky view factor [-]; NaN: from H/W in the kernel.
    green : ndarray, shape (y, x)
        Green-roof share of the roof area [-].
    albedo : ndarray, shape (y, x, 8)
        Albedo [-] of each surface of :data:`twin.kernels.heat.SURFACES`.
    table : ndarray, shape (8, 9)
        Parameter table (:mod:`twin.sims.heat.params`), roof albedo applied.
    met : DataFrame
        Checked forcing (gaps filled); ``filled`` counts the filled values per column.
    ref_name : str
        Rural reference surface (twin name).
    dt : float
        Time step [s].
    z_avg, z_top : float
        Mean building height and top of the roughness layer [m].
    lat, lon : float
        Site of the sun position [°].
    scale : tuple of float
        Radius of the canyon-air neighbourhood [m] and [cells] (0 if off).
    """

    ds: xr.Dataset
    frac3: np.ndarray
    valid: np.ndarray
    built: np.ndarray
    height: np.ndarray
    width: np.ndarray
    svf: np.ndarray
    green: np.ndarray
    albedo: np.ndarray
    table: np.ndarray
    met: pd.DataFrame
    filled: dict[str, int]
    ref_name: str
    dt: float
    z_avg: float
    z_top: float
    lat: float
    lon: float
    scale: tuple[float, float]


@dataclass
class _Run:
    """Results of the physics of :func:`simulate` on the valid cells (``ncell``).

    Attributes
    ----------
    res : ndarray, shape (4, nt, ncell)
        Canyon air temperature [°C], plan-area surface temperature [°C], canyon wind speed
        [m s-1], mean radiant temperature [°C] (:func:`twin.kernels.heat.urban_cells`).
    eb : ndarray, shape (nt, ncell, 8, 4) or (0, 0, 0, 0)
        Energy-balance terms [W m-2] (with ``diagnostics``).
    utci : ndarray, shape (nt, ncell)
        UTCI [°C].
    tb, ts_ref : ndarray, shape (nt,)
        Air temperature above the canyon and surface temperature of the rural reference [°C].
    tm_ref : float
        Deep temperature of the rural reference [°C].
    """

    res: np.ndarray
    eb: np.ndarray
    utci: np.ndarray
    tb: np.ndarray
    ts_ref: np.ndarray
    tm_ref: float


def _fractions(ds: xr.Dataset) -> np.ndarray:
    """Checked plan-area fractions [-], shape ``(y, x, 7)``; all NaN outside the domain."""
    frac3 = np.stack([ds[f].to_numpy().astype(float) for f in FRACTIONS], axis=-1)
    where = f"{WHERE}[{', '.join(FRACTIONS)}]"
    allnan = np.isnan(frac3).all(axis=-1)
    somenan = np.isnan(frac3).any(axis=-1) & ~allnan
    if somenan.any():
        msg = message(
            f"some land-cover fractions are NaN in {int(somenan.sum())} cell(s): "
            f"{_cells(somenan, ds)}",
            where=where,
            fix="set absent covers to 0 (all fractions NaN marks a cell outside the domain)",
        )
        raise InputError(msg)
    neg = (frac3 < 0).any(axis=-1) & ~allnan
    if neg.any():
        msg = message(
            f"negative land-cover fractions in {int(neg.sum())} cell(s): {_cells(neg, ds)}",
            where=where,
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
            where=where,
            fix="normalise the fractions per cell (divide by their sum) or add the missing cover",
        )
        raise InputError(msg)
    return frac3


def _unit_interval(ds: xr.Dataset, var: str, valid: np.ndarray, what: str, fix: str) -> np.ndarray:
    """Variable ``var`` as floats; InputError if a valid cell is outside 0..1 (NaN passes)."""
    a = ds[var].to_numpy().astype(float)
    out = valid & ((a < 0) | (a > 1))
    if out.any():
        msg = message(
            f"{what} outside 0..1 in {_cells(out, ds)}", where=f"{WHERE}[{var!r}]", fix=fix
        )
        raise InputError(msg)
    return a


def _morphology(
    ds: xr.Dataset, names: dict[str, str], valid: np.ndarray, opts: _Options
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked building height [m], street width [m], built mask, sky view factor [-] and
    green-roof share [-] on ``(y, x)`` (see :class:`_Inputs`)."""
    height = ds[names["building_height"]].to_numpy().astype(float)
    width = ds[names["street_width"]].to_numpy().astype(float)
    if (height[valid] < 0).any():
        msg = message(
            f"negative building height in {_cells(valid & (height < 0), ds)}",
            where=f"{WHERE}[{names['building_height']!r}]",
            fix="heights are >= 0 m",
        )
        raise InputError(msg)
    height = np.where(np.isnan(height), 0.0, height)
    built = valid & (height >= opts.open_height)
    badw = built & ~(width > 0)
    if badw.any():
        msg = message(
            f"street width missing or <= 0 in {int(badw.sum())} built cell(s): {_cells(badw, ds)}",
            where=f"{WHERE}[{names['street_width']!r}]",
            fix="give the mean street width [m] of every cell with buildings",
        )
        raise InputError(msg)
    width = np.where(width > 0, width, opts.open_street_width)
    svf = np.full(valid.shape, np.nan)
    if "sky_view_factor" in ds:
        svf = _unit_interval(ds, "sky_view_factor", valid, "sky view factor", "clip it to 0..1")
    green = np.zeros(valid.shape)
    if "green_roof_fraction" in ds:
        fix = "it is the vegetated share of the roof area, 0..1"
        g = _unit_interval(ds, "green_roof_fraction", valid, "green_roof_fraction", fix)
        green = np.nan_to_num(g, nan=0.0)
    return height, width, built, svf, green


def _albedo(ds: xr.Dataset, table: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Albedo [-] of each surface per cell, ``(y, x, 8)``: the table's, or per-cell variables
    ``albedo_<surface>`` / ``roof_albedo`` where finite."""
    albedo = np.broadcast_to(table[:, 0], (*valid.shape, hk.NS)).copy()
    per_cell = {f"albedo_{s}": k for k, s in enumerate(hk.SURFACES)}
    per_cell["roof_albedo"] = hk.ROOF
    for var, k in per_cell.items():
        if var in ds:
            a = _unit_interval(ds, var, valid, "albedo", "albedo is in 0..1")
            albedo[..., k] = np.where(np.isfinite(a), a, albedo[..., k])
    return albedo


def _check_settings(opts: _Options) -> str:
    """Check the scalar settings of :func:`simulate`; the reference surface's twin name."""
    problems = []
    if opts.engine not in ("numba", "numpy"):
        problems.append(
            (f"unknown engine {opts.engine!r}", "simulate(engine=...)", "use 'numba' or 'numpy'")
        )
    if opts.spinup_cycles < 0:
        problems.append(
            (
                f"spinup_cycles = {opts.spinup_cycles} is negative",
                "simulate(spinup_cycles=...)",
                "give 0 (default) or a positive number of cycles",
            )
        )
    ref_name = TARGET_ALIASES.get(opts.reference_surface, opts.reference_surface)
    if ref_name not in REFERENCE_SURFACES:
        problems.append(
            (
                f"unknown reference surface {opts.reference_surface!r}",
                "simulate(reference_surface=...)",
                f"use one of {', '.join(REFERENCE_SURFACES)}",
            )
        )
    if problems:
        what, where, fix = problems[0]
        raise InputError(message(what, where=where, fix=fix))
    return ref_name


def _heights(
    ds: xr.Dataset, height: np.ndarray, valid: np.ndarray, built: np.ndarray, opts: _Options
) -> tuple[float, float]:
    """Checked ``z_avg`` and ``z_top`` [m] (defaults from the grid) against the sensor heights."""
    z_avg = opts.z_avg
    if z_avg is None:
        wb = np.where(built, ds["roof"].to_numpy().astype(float), 0.0)
        z_avg = float((wb * height).sum() / wb.sum()) if wb.sum() > 0 else 2.0
        z_avg = max(z_avg, 2.0)
    z_avg = float(z_avg)
    z_uref, z_taref, z0 = opts.z_uref, opts.z_taref, opts.rural_roughness
    if z_uref <= 0.1 * z_avg or z_uref <= z0 or z_taref <= z0:
        msg = message(
            f"measurement heights z_uref={z_uref} m / z_taref={z_taref} m are not above "
            "the roughness lengths",
            where="simulate(z_uref=..., z_taref=...)",
            fix="give the heights of the reference wind and temperature sensors [m]",
        )
        raise InputError(msg)
    z_top = opts.z_top
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
    return z_avg, z_top


def _validate(surface: xr.Dataset, forcing: pd.DataFrame, opts: _Options) -> _Inputs:
    """Input validation of :func:`simulate`: every check, every default taken from the grid.

    Parameters
    ----------
    surface : Dataset
        The surface grid of :func:`simulate` (fractions [-], heights and widths [m], optional
        sky view factor, green-roof share and albedos [-]).
    forcing : DataFrame
        The rural forcing of :func:`simulate` (°C, %, m s-1, W m-2, hPa).
    opts : _Options
        The keyword arguments of :func:`simulate`.

    Returns
    -------
    _Inputs
        Checked arrays on ``(y, x)``, the checked forcing (gaps filled), the parameter table
        and the settings derived from the grid: ``z_avg``, ``z_top`` [m], latitude and
        longitude [°], the canyon-air neighbourhood [m, cells].

    Raises
    ------
    InputError
        The first problem found, with where it is and how to fix it.
    """
    ref_name = _check_settings(opts)
    ds, names = _prepare_surface(surface)
    met, filled = check_forcing(forcing, max_gap_hours=opts.max_gap_hours)
    frac3 = _fractions(ds)
    valid = ~np.isnan(frac3).all(axis=-1)
    height, width, built, svf, green = _morphology(ds, names, valid, opts)
    table = surface_table(opts.surface_params)
    if opts.roof_albedo is not None:
        table[hk.ROOF, 0] = float(opts.roof_albedo)
    albedo = _albedo(ds, table, valid)
    z_avg, z_top = _heights(ds, height, valid, built, opts)
    lat, lon = _latlon(ds, opts.latitude, opts.longitude)
    index = met.index
    return _Inputs(
        ds=ds,
        frac3=frac3,
        valid=valid,
        built=built,
        height=height,
        width=width,
        svf=svf,
        green=green,
        albedo=albedo,
        table=table,
        met=met,
        filled=filled,
        ref_name=ref_name,
        dt=(index[1] - index[0]).total_seconds(),
        z_avg=z_avg,
        z_top=z_top,
        lat=lat,
        lon=lon,
        scale=_local_scale(surface, opts.local_scale_m),
    )


def _rural_column(
    inp: _Inputs, opts: _Options, first_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Rural reference (:func:`twin.kernels.heat.rural_reference`) after its spin-up.

    Returns ``Tb`` above the canyon [°C], the reference surface temperature [°C] (both per
    time step) and the reference deep temperature [°C].
    """
    met = inp.met
    rk = hk.SURFACES.index(inp.ref_name)
    ref = np.array([inp.table[rk, 0], *inp.table[rk, 1:7]], dtype=float)
    rural: Any = hk.rural_reference if opts.engine == "numba" else hk.rural_reference_numpy
    zs = (float(opts.z_taref), float(opts.z_uref), float(opts.rural_roughness), inp.z_top)
    cols = ("air_temperature", "wind_speed", "pressure", "shortwave_down", "longwave_down")
    met_cols = tuple(met[c].to_numpy() for c in cols)
    if opts.deep_temperature is None:
        tm_first = float(met_cols[0][first_day].mean())
        day_cols = tuple(np.ascontiguousarray(c[first_day]) for c in met_cols)
        tm_ref = spinup.rural_spinup(rural, day_cols, inp.dt, ref, zs, tm_first)
    else:
        tm_ref = float(opts.deep_temperature)
    tb, ts_ref = rural(*met_cols, inp.dt, ref, *zs, tm_ref)
    return tb, ts_ref, tm_ref


def _cell_arrays(inp: _Inputs) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Kernel inputs of the valid cells: the per-cell arrays of
    :func:`twin.kernels.heat.urban_cells` (``frac`` to ``sp``) and its ``air`` array."""
    air = _air_inputs(inp.frac3, inp.green, inp.height, inp.width, inp.valid, inp.built, inp.scale)
    flat = inp.valid.ravel()
    cells = (
        np.ascontiguousarray(inp.frac3.reshape(-1, 7)[flat]),
        np.ascontiguousarray(inp.green.ravel()[flat]),
        np.ascontiguousarray(inp.height.ravel()[flat]),
        np.ascontiguousarray(inp.width.ravel()[flat]),
        np.ascontiguousarray(inp.svf.ravel()[flat]),
        np.ascontiguousarray(inp.albedo.reshape(-1, hk.NS)[flat]),
        np.ascontiguousarray(inp.table[:, 1:]),
    )
    return cells, np.ascontiguousarray(air.reshape(-1, air.shape[-1])[flat])


def _physics(inp: _Inputs, opts: _Options) -> _Run:
    """Physics of :func:`simulate`: sun, rural reference, urban cells, UTCI.

    Sun geometry and the direct/diffuse split per time step, the rural column (``Tb``), the
    initial deep temperatures (:mod:`twin.sims.heat.spinup`), the kernel
    :func:`twin.kernels.heat.urban_cells` on the valid cells and the UTCI
    (:func:`twin.kernels.utci.utci`, with the canyon wind carried to 10 m).

    Parameters
    ----------
    inp : _Inputs
        Checked inputs (:func:`_validate`).
    opts : _Options
        The keyword arguments of :func:`simulate` (heights [m], water depth [m], deep
        temperature [°C], engine, ...).

    Returns
    -------
    _Run
        Per time step and valid cell: canyon air, surface and mean radiant temperatures [°C],
        canyon wind [m s-1], UTCI [°C], the energy-balance terms [W m-2] with
        ``diagnostics``; per time step: ``Tb`` and the rural surface temperature [°C].
    """
    met, index = inp.met, inp.met.index
    first_day = np.asarray(index < index[0] + pd.Timedelta(hours=24))
    sol = _solar(index, inp.lat, inp.lon, opts.utc_offset_hours)
    kd = met["shortwave_down"].to_numpy()
    sun_rows = np.ascontiguousarray(_sun_arrays(kd, sol["cosz"], sol["e0"]))
    tb, ts_ref, tm_ref = _rural_column(inp, opts, first_day)
    cols = ("air_temperature", "relative_humidity", "wind_speed", "pressure")
    ld = met["longwave_down"].to_numpy()
    forcing_arr = np.vstack([*(met[c].to_numpy() for c in cols), kd, ld, tb]).astype(float)
    scalars = np.array(
        [
            inp.dt,
            opts.z_uref,
            inp.z_avg,
            tm_ref,
            opts.water_depth,
            opts.water_transfer,
            opts.open_height,
            opts.tree_transmissivity,
            0.70,  # absorptivity of a person (shortwave)
            0.97,  # emissivity of a person
            0.1,  # roughness length / building height
        ],
        dtype=float,
    )
    cells, air_cells = _cell_arrays(inp)
    ncell = air_cells.shape[0]
    kernel: Any = hk.urban_cells if opts.engine == "numba" else hk.urban_cells_numpy
    if opts.deep_temperature is None:
        tm0, ts0 = spinup.relax_deep(
            kernel,
            cells,
            np.ascontiguousarray(forcing_arr[:, first_day]),
            np.ascontiguousarray(sun_rows[:, first_day]),
            scalars,
            air_cells,
            tm_ref,
            opts.spinup_cycles,
        )
    else:
        tm0 = np.full((ncell, hk.NS), float(opts.deep_temperature))
        ts0 = np.full((ncell, hk.NS), np.nan)
    res, eb, _ = kernel(
        *cells, forcing_arr, sun_rows, scalars, tm0, bool(opts.diagnostics), False, air_cells, ts0
    )
    rh = met["relative_humidity"].to_numpy()
    return _Run(res, eb, _utci_cells(res, rh, opts.engine), tb, ts_ref, tm_ref)


def _utci_cells(res: np.ndarray, rh: np.ndarray, engine: str) -> np.ndarray:
    """UTCI [°C], ``(nt, ncell)``, from the kernel's air and mean radiant temperatures [°C],
    canyon wind [m s-1] (times :data:`WIND_10M_FACTOR`) and the forcing humidity [%]."""
    nt, ncell = res.shape[1], res.shape[2]
    ta_rep = res[0].ravel()
    rh_rep = np.broadcast_to(rh[:, None], (nt, ncell)).reshape(-1)  # one copy, no repeat
    va10 = res[2].ravel() * WIND_10M_FACTOR
    try:
        from twin.kernels.utci import utci as _utci
        from twin.kernels.utci import utci_numpy as _utci_numpy

        fn = _utci if engine == "numba" else _utci_numpy
        return fn(ta_rep, res[3].ravel(), va10, rh_rep).reshape(nt, ncell)
    except ImportError:  # pragma: no cover - the UTCI kernel ships with twin
        return np.full((nt, ncell), np.nan)


#: Output variables on (time, y, x): name, row of the kernel output (or "utci"), long name.
_GRID_VARS = (
    ("air_temperature", 0, "degC", "canyon (street-level) air temperature"),
    ("surface_temperature", 1, "degC", "plan-area weighted surface temperature"),
    ("mean_radiant_temperature", 3, "degC", "mean radiant temperature of a standing person"),
    ("utci", -1, "degC", "Universal Thermal Climate Index"),
    ("wind_speed", 2, "m s-1", "canyon wind speed"),
)
#: Energy-balance terms of the diagnostics, in the order of :data:`twin.kernels.heat.TERMS`.
_EB_VARS = (
    ("net_radiation", "net all-wave radiation Q*"),
    ("sensible_heat_flux", "sensible heat flux QH"),
    ("latent_heat_flux", "latent heat flux QE"),
    ("storage_heat_flux", "storage heat flux dQS"),
)


def _assemble(surface: xr.Dataset, inp: _Inputs, run: _Run, opts: _Options) -> xr.Dataset:
    """Output Dataset of :func:`simulate`.

    Parameters
    ----------
    surface : Dataset
        The surface as passed (for its CRS).
    inp : _Inputs
        Checked inputs (:func:`_validate`).
    run : _Run
        Physics results on the valid cells (:func:`_physics`).
    opts : _Options
        The keyword arguments of :func:`simulate`.

    Returns
    -------
    Dataset
        See :func:`simulate`: the valid cells back on ``(time, y, x)`` (NaN elsewhere),
        temperatures [°C], wind [m s-1], fluxes [W m-2]; the spin-up dropped if asked; units
        and every parameter in ``attrs``; the surface's coordinates and CRS kept.
    """
    ds, index = inp.ds, inp.met.index
    ny, nx = ds.sizes["y"], ds.sizes["x"]
    keep = np.ones(len(index), bool)
    if opts.drop_spinup:
        keep = index >= index[0] + pd.Timedelta(hours=float(opts.spinup_hours))
    flat = inp.valid.ravel()
    all_valid = bool(flat.all())
    cell_index = np.flatnonzero(flat)

    def grid(a: np.ndarray) -> np.ndarray:
        a = a if keep.all() else a[keep]
        if all_valid:
            return a.reshape(-1, ny, nx)
        full = np.full((a.shape[0], ny * nx), np.nan)
        full[:, cell_index] = a
        return full.reshape(-1, ny, nx)

    coords = {"time": index[keep]}
    for name, c in ds.coords.items():
        if set(c.dims) <= {"y", "x"}:
            coords[str(name)] = c
    out = xr.Dataset(coords=coords)
    dims = ("time", "y", "x")
    for name, row, units, long in _GRID_VARS:
        values = run.utci if row < 0 else run.res[row]
        out[name] = (dims, grid(values), {"units": units, "long_name": long})
    ta = inp.met["air_temperature"].to_numpy()
    per_time = (
        ("rural_air_temperature", ta, "reference (rural) air temperature (forcing)"),
        ("above_canyon_temperature", run.tb, "air temperature above the canyon, Tb"),
        (
            "reference_surface_temperature",
            run.ts_ref,
            f"surface temperature of the rural {inp.ref_name}",
        ),
    )
    for name, values, long in per_time:
        out[name] = ("time", values[keep], {"units": "degC", "long_name": long})
    if opts.diagnostics:
        out = out.assign_coords(surface=list(hk.SURFACES))
        for k, (name, long) in enumerate(_EB_VARS):
            full = np.full((int(keep.sum()), ny * nx, hk.NS), np.nan)
            full[:, cell_index, :] = run.eb[keep, :, :, k]
            out[name] = (
                (*dims, "surface"),
                full.reshape(-1, ny, nx, hk.NS),
                {
                    "units": "W m-2",
                    "long_name": f"{long} per surface type (per unit area of that surface)",
                },
            )
    out.attrs.update(_attrs(inp, run, opts))
    crs = _crs_of(surface)
    if crs is not None:
        out.rio.write_crs(crs, inplace=True)  # no deep copy of the output
    return out


def _attrs(inp: _Inputs, run: _Run, opts: _Options) -> dict[str, Any]:
    """``attrs`` of the output: the model, every parameter used (units in the names)."""
    deep = opts.deep_temperature
    attrs: dict[str, Any] = {
        "model": "twin.heat (TARGET-family urban energy balance; Broadbent et al., 2019)",
        "time_step_s": inp.dt,
        "spinup_hours": float(opts.spinup_hours),
        "spinup_dropped": int(bool(opts.drop_spinup)),
        "z_uref_m": float(opts.z_uref),
        "z_taref_m": float(opts.z_taref),
        "z_avg_m": inp.z_avg,
        "z_top_m": inp.z_top,
        "local_scale_m": inp.scale[0],
        "local_scale_cells": inp.scale[1],
        "reference_surface": inp.ref_name,
        "rural_roughness_m": float(opts.rural_roughness),
        "deep_temperature_c": float("nan") if deep is None else float(deep),
        "reference_deep_temperature_c": run.tm_ref,
        "spinup_cycles": int(opts.spinup_cycles) if deep is None else 0,
        "latitude": inp.lat,
        "longitude": inp.lon,
        "utc_offset_hours": (
            float("nan") if opts.utc_offset_hours is None else float(opts.utc_offset_hours)
        ),
        "open_height_m": float(opts.open_height),
        "water_depth_m": float(opts.water_depth),
        "water_transfer": float(opts.water_transfer),
        "tree_transmissivity": float(opts.tree_transmissivity),
        "max_gap_hours": float(opts.max_gap_hours),
        "engine": opts.engine,
        "surface_types": ",".join(hk.SURFACES),
        "parameter_columns": ",".join(COLUMNS),
    }
    for k, s in enumerate(hk.SURFACES):
        attrs[f"params_{s}"] = ",".join(f"{v:g}" for v in inp.table[k])
    for col, nfill in inp.filled.items():
        attrs[f"forcing_filled_{col}"] = nfill
    if opts.surface_params:
        attrs["surface_params_overrides"] = repr(dict(opts.surface_params))
    return attrs
