"""Local-scale urban energy balance of the TARGET family (numba kernels + numpy oracles).

Two kernels, each with a pure-numpy reference used as its test oracle:

- :func:`rural_reference` (``rural_reference_numpy``): the rural reference site. Surface
  temperature of one open reference surface by force-restore, its Richardson number with
  the observed screen-level air temperature, and the air temperature ``Tb`` at the top of
  the urban roughness layer obtained by carrying that Richardson number up to ``z_top``.
- :func:`urban_cells` (``urban_cells_numpy``): for every cell, the surface temperature of
  each surface type (roof, road, concrete, water, dry grass, irrigated grass, wall, green
  roof), the canyon air temperature, the plan-area surface temperature, the canyon wind
  speed and the mean radiant temperature, time step after time step. The numba kernel runs
  the cells in parallel (``prange``), each cell's time loop being sequential; the numpy
  reference loops over time and is vectorised over cells.

Equations (see ``docs/simulations/heat.md`` for the full derivation and references):

- net all-wave radiation of surface ``s``::

      Q*_s = svf_s (1 - a_s) K↓ + e_s (L_in,s - sigma T_s^4)

  with ``L_in = svf L↓ + (1 - svf) sigma T_env^4`` in the canyon (walls at the previous step);
- storage heat flux by the objective hysteresis model (OHM, Grimmond et al., 1991)::

      dQS_s = a1 Q*_s + a2 dQ*_s/dt + a3      (dQ*/dt in W m-2 h-1, centred on the forcing)

- turbulent fluxes by LUMPS (Grimmond & Oke, 2002)::

      QE = alpha / (1 + gamma/s) (Q* - dQS) + beta,   QH = Q* - dQS - QE

- force-restore surface temperature (Jacobs et al., 2000)::

      dTs/dt = 2 dQS / (C D) - omega (Ts - Tm),   dTm/dt = dQS / (C D sqrt(365)),
      D = sqrt(2 K / omega),  omega = 2 pi / 86400 s

- water: well-mixed slab of depth ``zw``, ``C zw dTw/dt = Q* - QH - QE`` with bulk
  transfer QH, QE (Martinez et al., 2006);
- canyon air temperature: the steady balance of conductances between the surfaces, the
  roofs (in series with the above-canyon layer) and the air above the canyon ``Tb``
  (Broadbent et al., 2019, eq. 18)::

      Tac = (sum_s h_can f_s T_s + c h_rf f_roof T_roof + h_urb f_can Tb)
            / (sum_s h_can f_s + c h_rf f_roof + h_urb f_can)

  with ``h_can = (11.8 + 4.2 U_can) / (rho c_p)`` (Harman et al., 2004),
  ``h_rf = 1 / (1/h_can + 1/h_urb)`` and ``h_urb`` a stability-dependent bulk transfer
  (Louis, 1979; Mascart et al., 1995); the weights ``f`` and the morphology behind the
  conductances are local-scale (the ``air`` inputs: neighbourhood means), the ``T_s`` are
  the cell's own; ``c = min(1, f_can / f_roof)``: roofs couple to the canyon air through the
  canyon opening only (TARGET's equation wherever roof <= canyon);
- mean radiant temperature of a standing person (six-flux idea, two half-spaces).

Every energy term of every surface is returned on request, so that the closure
``Q* = QH + QE + dQS`` can be checked step by step.

Units: temperatures [°C], fluxes [W m-2], wind [m s-1], pressure [hPa], time step [s].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

#: Surface types that carry a prognostic temperature, in the order of the parameter arrays.
SURFACES = ("roof", "road", "concrete", "water", "grass", "irrigated_grass", "wall", "green_roof")
ROOF, ROAD, CONC, WATER, DRY, IRR, WALL, GREEN = range(8)
NS = 8
#: Order of the plan-area fraction columns taken by :func:`urban_cells`.
FRACTIONS = ("roof", "road", "concrete", "water", "trees", "grass", "irrigated_grass")
#: Order of the per-surface parameter table columns (rows are :data:`SURFACES`).
PARAMS = (
    "emissivity",
    "heat_capacity",
    "diffusivity",
    "ohm_a1",
    "ohm_a2",
    "ohm_a3",
    "alpha",
    "beta",
)
#: Order of the scalar parameter vector of :func:`urban_cells`.
SCALARS = (
    "dt",
    "z_uref",
    "z_avg",
    "tm_init",
    "water_depth",
    "water_transfer",
    "open_height",
    "tree_transmissivity",
    "person_absorptivity",
    "person_emissivity",
    "roughness_ratio",
)
#: Energy-balance terms of the diagnostics array (last axis).
TERMS = ("net_radiation", "sensible", "latent", "storage")

SIGMA = 5.67e-8  # Stefan-Boltzmann [W m-2 K-4]
G = 9.806  # gravity [m s-2]
CP = 1004.67  # specific heat of air [J kg-1 K-1]
RD = 287.04  # gas constant of dry air [J kg-1 K-1]
KARMAN = 0.4
LV = 2.43e6  # latent heat of vaporisation [J kg-1]
OMEGA = 2.0 * math.pi / 86400.0  # diurnal angular frequency [s-1]
TK = 273.15
R_LOUIS = 0.74  # ratio of eddy diffusivities heat/momentum (Louis, 1979)


# ---------------------------------------------------------------------------------------------
# Scalar helpers shared by the kernels (branch-free arithmetic, also valid on numpy arrays)
# ---------------------------------------------------------------------------------------------
def _es_kpa_py(t):
    """Saturation vapour pressure over water [kPa] at ``t`` [°C] (Tetens)."""
    return 0.6108 * np.exp(17.27 * t / (t + 237.3))


def _gamma_over_s_py(t, p_hpa):
    """Psychrometric constant over slope of the saturation curve [-] (FAO-56)."""
    es = 0.6108 * np.exp(17.27 * t / (t + 237.3))
    slope = 4098.0 * es / (t + 237.3) ** 2
    lam = 2.501 - 0.002361 * t  # [MJ kg-1]
    gamma = 0.001013 * (p_hpa / 10.0) / (0.622 * lam)
    return gamma / slope


_es_kpa = njit(cache=True)(_es_kpa_py)
_gamma_over_s = njit(cache=True)(_gamma_over_s_py)


@njit(cache=True, inline="always")
def _p4(x: float) -> float:
    x2 = x * x
    return x2 * x2


@njit(cache=True)
def _mascart_h(ri: float, lnzz0m: float, lnzz0h: float, ch: float) -> float:
    """Stability function for heat Fh (Louis, 1979; Mascart et al., 1995)."""
    if ri > 0.0:
        return lnzz0m / lnzz0h / (1.0 + 4.7 * ri) ** 2
    return lnzz0m / lnzz0h * (1.0 - 9.4 * ri / (1.0 + ch * math.sqrt(abs(ri))))


def _mascart_h_numpy(ri, lnzz0m, lnzz0h, ch):
    stable = lnzz0m / lnzz0h / (1.0 + 4.7 * np.maximum(ri, 0.0)) ** 2
    unstable = lnzz0m / lnzz0h * (1.0 - 9.4 * ri / (1.0 + ch * np.sqrt(np.abs(ri))))
    return np.where(ri > 0.0, stable, unstable)


def _mascart_coeffs(mu):
    """Mascart et al. (1995) C* and p for heat and momentum, for mu = ln(z0m/z0h)."""
    csh = 3.2165 + 4.3431 * mu + 0.536 * mu**2 - 0.0781 * mu**3
    ph = 0.5802 - 0.1571 * mu + 0.0327 * mu**2 - 0.0026 * mu**3
    csm = 6.8741 + 2.6933 * mu - 0.3601 * mu**2 + 0.0154 * mu**3
    pm = 0.5233 - 0.0815 * mu + 0.0135 * mu**2 - 0.001 * mu**3
    return csh, ph, csm, pm


_MU_URB = math.log(10.0)  # z0h = z0m / 10
_CSH, _PH, _CSM, _PM = _mascart_coeffs(_MU_URB)


# ---------------------------------------------------------------------------------------------
# Rural reference
# ---------------------------------------------------------------------------------------------
def _rural_reference_py(
    ta, ws, p, kd, ld, dt, ref, z_taref, z_uref, z0m, z_top, tm_init, ts_init=np.nan
):
    nt = ta.shape[0]
    alb, emis, cap, kappa, a1, a2, a3 = ref[0], ref[1], ref[2], ref[3], ref[4], ref[5], ref[6]
    d = math.sqrt(2.0 * kappa / OMEGA)
    dy = d * math.sqrt(365.0)
    z0h = z0m / 10.0
    mu = math.log(z0m / z0h)
    csm = 6.8741 + 2.6933 * mu - 0.3601 * mu**2 + 0.0154 * mu**3
    pm = 0.5233 - 0.0815 * mu + 0.0135 * mu**2 - 0.001 * mu**3
    dz1 = max(z_taref - z0m, 0.1)
    lnz1 = math.log(dz1 / z0m)
    aa = (KARMAN / lnz1) ** 2
    cm = csm * aa * 9.4 * (dz1 / z0m) ** pm
    dz2 = max(z_top - z_taref, 0.01)
    wind_ratio = math.log(z_taref / z0m) / math.log(z_uref / z0m)
    tb = np.empty(nt)
    tsref = np.empty(nt)
    ts = ta[0] if math.isnan(ts_init) else ts_init
    tm = tm_init
    for t in range(nt):
        tp = t - 1 if t > 0 else 0
        tn = t + 1 if t < nt - 1 else nt - 1
        span = max(tn - tp, 1) * dt / 3600.0
        rn = kd[t] * (1.0 - alb) + emis * (ld[t] - SIGMA * (ts + TK) ** 4)
        drn = ((kd[tn] - kd[tp]) * (1.0 - alb) + emis * (ld[tn] - ld[tp])) / span
        qs = a1 * rn + a2 * drn + a3
        ts_new = ts + dt * (2.0 * qs / (cap * d) - OMEGA * (ts - tm))
        tm = tm + dt * qs / (cap * dy)
        ts = ts_new
        tsref[t] = ts
        # Richardson number between the reference surface and the screen-level air
        uref = max(ws[t] * wind_ratio, 0.1)
        tak = ta[t] + TK
        tsk = ts + TK
        ri = G * dz1 * (tak + G / CP * dz1 - tsk) / (0.5 * (tak + tsk)) / uref**2
        if ri > 0.0:
            fm = 1.0 / (1.0 + 4.7 * ri) ** 2
        else:
            fm = 1.0 - 9.4 * ri / (1.0 + cm * math.sqrt(abs(ri)))
        ustar = math.sqrt(aa * fm) * uref
        utop = max(ustar / KARMAN * math.log(z_top / z0m) / math.sqrt(fm), 0.1)
        # same Ri between z_taref and z_top: solve for the upper temperature (closed form)
        k = ri * (utop - uref) ** 2 / (2.0 * G * dz2)
        k = min(max(k, -0.03), 0.03)
        tb[t] = tak * (1.0 + k) / (1.0 - k) - TK - G / CP * dz2
    return tb, tsref


rural_reference = njit(cache=True)(_rural_reference_py)
rural_reference.__doc__ = """Rural reference: force-restore surface and air temperature aloft.

Parameters
----------
ta, ws, p, kd, ld : ndarray of float64, shape (nt,)
    Forcing: air temperature [°C] at ``z_taref``, wind speed [m s-1] at ``z_uref``,
    pressure [hPa], incoming shortwave and longwave radiation [W m-2].
dt : float
    Time step [s].
ref : ndarray of float64, shape (7,)
    Reference surface: albedo [-], emissivity [-], heat capacity [J m-3 K-1],
    thermal diffusivity [m2 s-1], OHM a1 [-], a2 [h], a3 [W m-2].
z_taref, z_uref : float
    Heights of the air temperature and wind measurements [m].
z0m : float
    Rural roughness length for momentum [m].
z_top : float
    Height of the top of the urban roughness layer, 2 x max building height [m].
tm_init : float
    Initial deep-soil temperature [°C].
ts_init : float, optional
    Initial surface temperature [°C]; NaN (default): the first air temperature.

Returns
-------
tb : ndarray, shape (nt,)
    Air temperature [°C] at ``z_top`` (minus the dry-adiabatic lapse over ``z_top - z_taref``).
ts_ref : ndarray, shape (nt,)
    Surface temperature of the reference surface [°C].
"""


def rural_reference_numpy(
    ta, ws, p, kd, ld, dt, ref, z_taref, z_uref, z0m, z_top, tm_init, ts_init=np.nan
):
    """Pure-python/numpy reference of :func:`rural_reference` (same arguments and returns)."""
    return _rural_reference_py(
        np.asarray(ta, float),
        np.asarray(ws, float),
        np.asarray(p, float),
        np.asarray(kd, float),
        np.asarray(ld, float),
        float(dt),
        np.asarray(ref, float),
        float(z_taref),
        float(z_uref),
        float(z0m),
        float(z_top),
        float(tm_init),
        float(ts_init),
    )


# ---------------------------------------------------------------------------------------------
# Urban cells
# ---------------------------------------------------------------------------------------------
def air_inputs(frac, green, height, width):
    """The ``air`` array of :func:`urban_cells` when the canyon air is the cell's own.

    Columns: the 7 fractions of :data:`FRACTIONS`, the green-roof share, height, width.
    """
    return np.ascontiguousarray(
        np.column_stack([np.asarray(frac, float), green, height, width]).astype(np.float64)
    )


def urban_cells(
    frac,
    green,
    height,
    width,
    svf_in,
    albedo,
    sp,
    forcing,
    sun,
    sc,
    tm0,
    diagnostics,
    surfaces_only=False,
    air=None,
    ts0=None,
):
    """Surface, canyon-air and mean radiant temperatures of every cell, every time step.

    Parameters
    ----------
    frac : ndarray of float64, shape (n, 7)
        Plan-area fractions [-] in the order of :data:`FRACTIONS`, summing to 1 per cell.
    green : ndarray of float64, shape (n,)
        Share [-] of the roof area that is a (irrigated) green roof.
    height, width : ndarray of float64, shape (n,)
        Mean building height and street width [m]. ``height < open_height`` means an open
        cell (no canyon, no walls).
    svf_in : ndarray of float64, shape (n,)
        Ground sky view factor [-]; NaN to derive it from H/W (infinite canyon).
    albedo : ndarray of float64, shape (n, 8)
        Albedo [-] of each surface of :data:`SURFACES`, per cell.
    sp : ndarray of float64, shape (8, 8)
        Per-surface parameters: rows :data:`SURFACES`, columns :data:`PARAMS`.
    forcing : ndarray of float64, shape (7, nt)
        Rows: air temperature [°C], relative humidity [%], wind speed [m s-1], pressure [hPa],
        K↓ [W m-2], L↓ [W m-2], air temperature above the canyon Tb [°C]
        (from :func:`rural_reference`).
    sun : ndarray of float64, shape (4, nt)
        Rows: tangent of the solar zenith angle [-], projected-area factor of a standing person
        [-], direct normal irradiance [W m-2], diffuse horizontal irradiance [W m-2].
    sc : ndarray of float64, shape (11,)
        Scalars in the order of :data:`SCALARS` (``tm_init`` is unused: see ``tm0``).
    tm0 : ndarray of float64, shape (n, 8)
        Initial deep (restore) temperature [°C] of each surface of each cell.
    diagnostics : bool
        Fill the energy-balance array (else it has shape (0, 0, 0, 0)).
    surfaces_only : bool
        Only run the surface energy balances, for the spin-up (see ``state``):
        the surface temperatures do not depend on the canyon air, except for cells without
        ground, where the previous canyon air then stays at its initial value. ``out`` then
        has no time step (shape ``(4, 0, n)``).
    air : ndarray of float64, shape (n, 10), optional
        Local-scale inputs of the canyon-air balance: the 7 fractions [-] of
        :data:`FRACTIONS`, the green-roof share [-], building height [m] and street width
        [m] of the neighbourhood of each cell (see :func:`air_inputs`). They set the weights
        of the surfaces and the conductances (canyon wind, roughness) of the canyon-air
        balance, while each surface temperature is the cell's own (computed for every
        surface type present in the cell or its neighbourhood). Default: the cell's own
        inputs (no neighbourhood).
    ts0 : ndarray of float64, shape (n, 8), optional
        Initial surface temperature [°C] of each surface of each cell; NaN or None: the
        first air temperature of the forcing.

    Returns
    -------
    out : ndarray of float64, shape (4, nt, n)
        Canyon air temperature [°C], plan-area surface temperature [°C], canyon wind speed
        [m s-1], mean radiant temperature [°C].
    eb : ndarray of float64, shape (nt, n, 8, 4) or (0, 0, 0, 0)
        Per surface: Q*, QH, QE, dQS [W m-2] (terms :data:`TERMS`), NaN for absent surfaces.
    state : ndarray of float64, shape (n, 8, 2) or (0, 8, 2)
        With ``surfaces_only``, per surface of each cell: the time-mean surface temperature
        over the run ``[..., 0]`` and the last surface temperature ``[..., 1]`` [°C] (for the
        spin-up; absent surfaces: ``tm0`` and their initial temperature). Shape ``(0, 8, 2)``
        otherwise.
    """
    if air is None:
        air = air_inputs(frac, green, height, width)
    if ts0 is None:
        ts0 = np.full((np.shape(frac)[0], NS), np.nan)
    return _urban_cells(
        frac,
        green,
        height,
        width,
        svf_in,
        albedo,
        sp,
        forcing,
        sun,
        sc,
        tm0,
        diagnostics,
        surfaces_only,
        np.ascontiguousarray(air, dtype=np.float64),
        np.ascontiguousarray(ts0, dtype=np.float64),
    )


_BLOCK = 256  # cells per block of the parallel loop


@njit(cache=True, inline="always")
def _geometry(tab, c, green, h, width, z_avg, zr, z_uref, h_open, f):
    """Surface weights and canyon geometry of cell ``c`` (its own or its neighbourhood's).

    Parameters
    ----------
    tab : ndarray of float64, shape (n, >= 7)
        Plan-area fractions [-] in the order of :data:`FRACTIONS` (first 7 columns).
    c : int
        Row of ``tab``.
    green : float
        Green-roof share of the roof area [-].
    h, width : float
        Building height and street width [m].
    z_avg, zr, z_uref, h_open : float
        Scalars of :data:`SCALARS`: mean building height [m], roughness ratio z0m/h [-],
        wind measurement height [m], height below which a cell is open [m].
    f : ndarray of float64, shape (8,)
        Filled with the weights [-] of the surfaces of :data:`SURFACES` (the tree crowns'
        ground share spread over the ground surfaces; walls: wall area per plan area).

    Returns
    -------
    tuple of float
        Roof fraction [-], tree fraction [-], canyon fraction ``1 - roof`` [-], tree cover of
        the canyon [-], street width (>= 1) [m], street width between tree crowns [m],
        displacement height ``max(h, z_avg)`` [m], roughness length [m], canyon wind
        attenuation [-] and the ratio of the wind at ``hz`` to the measured wind [-].
    """
    roof_all = tab[c, 0]
    trees = tab[c, 4]
    f[:] = 0.0
    f[GREEN] = roof_all * green
    f[ROOF] = roof_all - f[GREEN]
    gsum = tab[c, 1] + tab[c, 2] + tab[c, 3] + tab[c, 5] + tab[c, 6]
    if gsum > 0.0:
        f[ROAD] = tab[c, 1] * (1.0 + trees / gsum)
        f[CONC] = tab[c, 2] * (1.0 + trees / gsum)
        f[WATER] = tab[c, 3] * (1.0 + trees / gsum)
        f[DRY] = tab[c, 5] * (1.0 + trees / gsum)
        f[IRR] = tab[c, 6] * (1.0 + trees / gsum)
    else:
        f[CONC] = trees
    canyon = max(1.0 - roof_all, 0.0)
    tc = min(trees / max(canyon, 1e-6), 0.9)
    w = max(width, 1.0)
    wtree = max(w * (1.0 - tc), 1.0)
    hz = max(h, z_avg)
    z0m = zr * hz
    if not h < h_open:  # (a NaN height gives NaN walls, as it always did)
        f[WALL] = 2.0 * h / w * canyon
    att = math.exp(-0.386 * hz / wtree)
    wind_ratio = math.log(hz / z0m) / math.log(max(z_uref, 1.5 * z0m) / z0m)
    return roof_all, trees, canyon, tc, w, wtree, hz, z0m, att, wind_ratio


@njit(cache=True, parallel=True)
def _urban_cells(
    frac,
    green,
    height,
    width,
    svf_in,
    albedo,
    sp,
    forcing,
    sun,
    sc,
    tm0,
    diagnostics,
    surfaces_only,
    air,
    ts0,
):
    n = frac.shape[0]
    nt = forcing.shape[1]
    inv_nt = 1.0 / nt
    if surfaces_only:
        out = np.empty((4, 0, n))
        state = np.empty((n, NS, 2))
    else:
        out = np.empty((4, nt, n))
        state = np.empty((0, NS, 2))
    if diagnostics:
        eb = np.full((nt, n, NS, 4), np.nan)
    else:
        eb = np.empty((0, 0, 0, 0))
    dt = sc[0]
    z_uref = sc[1]
    z_avg = sc[2]
    zw = sc[4]
    hv = sc[5]
    h_open = sc[6]
    tau = sc[7]
    a_k = sc[8]
    e_p = sc[9]
    zr = sc[10]
    # per-surface constants
    dd = np.empty(NS)
    for s in range(NS):
        dd[s] = math.sqrt(2.0 * sp[s, 2] / OMEGA)
    # per-surface rate constants [K per (W m-2) per step] (multiplications in the loop)
    k_force = np.empty(NS)
    k_deep = np.empty(NS)
    for s in range(NS):
        k_force[s] = dt * 2.0 / (sp[s, 1] * dd[s])
        k_deep[s] = dt / (sp[s, 1] * dd[s] * math.sqrt(365.0))
    k_water = dt / (sp[WATER, 1] * zw)
    k_omega = dt * OMEGA
    gs_t = np.empty(nt)  # gamma / s depends on the forcing only
    for t in range(nt):
        gs_t[t] = _gamma_over_s(forcing[0, t], forcing[3, t])
    # cells in blocks: the small work arrays are allocated once per block
    nblock = (n + _BLOCK - 1) // _BLOCK
    for b in prange(nblock):
        f = np.zeros(NS)  # weights of the surfaces in the cell
        fa = np.zeros(NS)  # weights of the surfaces in the canyon-air balance
        svf = np.empty(NS)
        ts = np.empty(NS)
        tm = np.empty(NS)
        ts_sum = np.empty(NS)
        for c in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            # ---------------- geometry of the cell ----------------
            h = height[c]
            _, trees, _, tc, w, wtree, _, _, att, wind_ratio = _geometry(
                frac, c, green[c], h, width[c], z_avg, zr, z_uref, h_open, f
            )
            gtot = f[ROAD] + f[CONC] + f[WATER] + f[DRY] + f[IRR]
            is_open = h < h_open
            if is_open:
                hw = 0.0
                svf_g = 1.0
                svf_w = 0.0
            else:
                hw = h / wtree
                svf_g = math.sqrt(1.0 + hw * hw) - hw
                r = w / h
                svf_w = 0.5 * (1.0 + r - math.sqrt(1.0 + r * r))
            if not math.isnan(svf_in[c]):
                svf_g = svf_in[c]
            # ---------------- local-scale geometry of the canyon-air balance ----------------
            h_a = air[c, 8]
            roof_a, trees_a, canyon_a, _, w_a, _, hz_a, z0m_a, att_a, wind_ratio_a = _geometry(
                air, c, air[c, 7], h_a, air[c, 9], z_avg, zr, z_uref, h_open, fa
            )
            z0h_a = z0m_a / 10.0
            dz_a = max(2.0 * hz_a - h_a - z0m_a, z0m_a + 0.5)
            lnzz0m_a = math.log(dz_a / z0m_a)
            lnzz0h_a = math.log(dz_a / z0h_a)
            aa_a = (KARMAN / lnzz0m_a) ** 2
            chh_a = _CSH * aa_a * 9.4 * (lnzz0m_a / lnzz0h_a) * (dz_a / z0h_a) ** _PH
            plan_can_a = max(canyon_a, 0.05)
            # roof heat reaches the canyon air through the canyon top only: at most the roof
            # area of the canyon opening couples (TARGET's eq. 18 unchanged while roof <= canyon)
            roof_cap = min(1.0, plan_can_a / roof_a) if roof_a > 0.0 else 1.0
            # walls of the neighbourhood seen from an open cell: the neighbourhood's canyon
            svf_ws = svf_w
            if is_open and fa[WALL] > 0.0:
                r_a = w_a / h_a
                svf_ws = 0.5 * (1.0 + r_a - math.sqrt(1.0 + r_a * r_a))
            # ground means for the radiant environment
            alb_g = 0.0
            eps_g = 0.0
            if gtot > 0.0:
                for s in (ROAD, CONC, WATER, DRY, IRR):
                    alb_g += f[s] / gtot * albedo[c, s]
                    eps_g += f[s] / gtot * sp[s, 0]
            else:
                alb_g = albedo[c, CONC]
                eps_g = sp[CONC, 0]
            # sky view factor of each surface and its sky longwave share
            svf[ROOF] = 1.0
            svf[GREEN] = 1.0
            svf[WALL] = svf_ws
            for s in (ROAD, CONC, WATER, DRY, IRR):
                svf[s] = svf_g
            # ---------------- state ----------------
            for s in range(NS):
                ts[s] = forcing[0, 0] if math.isnan(ts0[c, s]) else ts0[c, s]
                tm[s] = tm0[c, s]
                ts_sum[s] = 0.0
            tac_prev = forcing[0, 0]
            tg_prev = forcing[0, 0]
            for t in range(nt):
                ta = forcing[0, t]
                rh = forcing[1, t]
                ws = forcing[2, t]
                pr = forcing[3, t]
                kd = forcing[4, t]
                ld = forcing[5, t]
                tb = forcing[6, t]
                tp = t - 1 if t > 0 else 0
                tn = t + 1 if t < nt - 1 else nt - 1
                inv_span = 3600.0 / (max(tn - tp, 1) * dt)
                dkd = forcing[4, tn] - forcing[4, tp]
                dld = forcing[5, tn] - forcing[5, tp]
                uz = max(ws * wind_ratio, 0.1)
                ucan = uz * att
                uz_a = max(ws * wind_ratio_a, 0.1)
                ucan_a = uz_a * att_a
                a_gs = 1.0 / (1.0 + gs_t[t])
                tg4 = SIGMA * _p4(tg_prev + TK)
                tw4 = SIGMA * _p4(ts[WALL] + TK) if f[WALL] > 0.0 else tg4
                rho = pr * 100.0 / (RD * (ta + TK))
                for s in range(NS):
                    if f[s] <= 0.0 and fa[s] <= 0.0:
                        continue
                    a = albedo[c, s]
                    e = sp[s, 0]
                    if s == ROOF or s == GREEN:
                        lin = ld
                    elif s == WALL:
                        lin = svf_ws * ld + (1.0 - svf_ws) * 0.5 * (sp[WALL, 0] * tw4 + eps_g * tg4)
                    else:
                        lin = svf_g * ld + (1.0 - svf_g) * sp[WALL, 0] * tw4
                    sv = svf[s]
                    rn = sv * (1.0 - a) * kd + e * (lin - SIGMA * _p4(ts[s] + TK))
                    if s == WATER:
                        uw = max(ucan, 0.5)
                        qh = rho * CP * hv * uw * (ts[s] - ta)
                        qsat = 0.622 * _es_kpa(ts[s]) / (pr / 10.0)
                        qa = 0.622 * _es_kpa(ta) * rh / 100.0 / (pr / 10.0)
                        qe = rho * LV * hv * uw * (qsat - qa)
                        qs = rn - qh - qe
                        ts[s] = ts[s] + k_water * qs
                    else:
                        drn = (sv * (1.0 - a) * dkd + e * sv * dld) * inv_span
                        qs = sp[s, 3] * rn + sp[s, 4] * drn + sp[s, 5]
                        qe = sp[s, 6] * a_gs * (rn - qs) + sp[s, 7]
                        qh = rn - qs - qe
                        ts_new = ts[s] + k_force[s] * qs - k_omega * (ts[s] - tm[s])
                        tm[s] = tm[s] + k_deep[s] * qs
                        ts[s] = ts_new
                    ts_sum[s] += ts[s]
                    if diagnostics:
                        eb[t, c, s, 0] = rn
                        eb[t, c, s, 1] = qh
                        eb[t, c, s, 2] = qe
                        eb[t, c, s, 3] = qs
                tg = tac_prev
                if gtot > 0.0:
                    tg = 0.0
                    for s in (ROAD, CONC, WATER, DRY, IRR):
                        tg += f[s] / gtot * ts[s]
                if surfaces_only:
                    tg_prev = tg
                    continue
                # ---------------- canyon air temperature ----------------
                hcan = (11.8 + 4.2 * ucan_a) / (rho * CP)
                roof_plan = fa[ROOF] + fa[GREEN]
                if roof_plan > 0.0:
                    troof_prev = (fa[ROOF] * ts[ROOF] + fa[GREEN] * ts[GREEN]) / roof_plan
                else:
                    troof_prev = tac_prev
                tlow = roof_a * troof_prev + (1.0 - roof_a) * tac_prev
                tlk = tlow + TK
                thk = tb + TK + G / CP * dz_a
                ri = G * dz_a * (thk - tlk) / (0.5 * (thk + tlk)) / uz_a**2
                hurb = uz_a * aa_a / R_LOUIS * _mascart_h(ri, lnzz0m_a, lnzz0h_a, chh_a)
                hrf = 1.0 / (1.0 / hcan + 1.0 / hurb) * roof_cap
                num = hurb * plan_can_a * tb + hcan * trees_a * tac_prev
                den = hurb * plan_can_a + hcan * trees_a
                for s in range(NS):
                    if fa[s] <= 0.0:
                        continue
                    k = hrf if (s == ROOF or s == GREEN) else hcan
                    num += k * fa[s] * ts[s]
                    den += k * fa[s]
                tac = num / den
                # ---------------- plan-area surface temperature ----------------
                tsfc = f[ROOF] * ts[ROOF] + f[GREEN] * ts[GREEN] + trees * tac_prev
                tsfc += frac[c, 1] * ts[ROAD] + frac[c, 2] * ts[CONC] + frac[c, 3] * ts[WATER]
                tsfc += frac[c, 5] * ts[DRY] + frac[c, 6] * ts[IRR]
                # ---------------- mean radiant temperature ----------------
                shade = 1.0 - tc * (1.0 - tau)
                sunlit = min(max(1.0 - hw * sun[0, t] * 2.0 / math.pi, 0.0), 1.0) * shade
                twall = ts[WALL] if f[WALL] > 0.0 else tg
                kdn = svf_g * sun[3, t] + (1.0 - svf_g) * albedo[c, WALL] * svf_w * kd
                kup = alb_g * svf_g * kd
                ldn = svf_g * ld + (1.0 - svf_g) * sp[WALL, 0] * SIGMA * _p4(twall + TK)
                lup = eps_g * SIGMA * _p4(tg + TK)
                absorbed = a_k * (
                    sun[1, t] * sun[2, t] * sunlit + 0.5 * (kdn + kup)
                ) + e_p * 0.5 * (ldn + lup)
                tmrt = math.sqrt(math.sqrt(absorbed / (e_p * SIGMA))) - TK
                out[0, t, c] = tac
                out[1, t, c] = tsfc
                out[2, t, c] = ucan
                out[3, t, c] = tmrt
                tac_prev = tac
                tg_prev = tg
            if surfaces_only:
                for s in range(NS):
                    if f[s] > 0.0 or fa[s] > 0.0:
                        state[c, s, 0] = ts_sum[s] * inv_nt
                        state[c, s, 1] = ts[s]
                    else:
                        state[c, s, 0] = tm0[c, s]
                        state[c, s, 1] = ts[s]
    return out, eb, state


def _geometry_numpy(tab, green, h, width, z_avg, zr, z_uref, h_open):
    """Numpy counterpart of :func:`_geometry`, vectorised over cells.

    Same inputs per cell (``tab`` of shape ``(n, >= 7)``, the others of shape ``(n,)`` or
    scalars); returns the weights ``f`` of shape ``(n, 8)`` followed by the ten arrays of
    :func:`_geometry`.
    """
    n = tab.shape[0]
    roof_all = tab[:, 0]
    trees = tab[:, 4]
    f = np.zeros((n, NS))
    f[:, GREEN] = roof_all * green
    f[:, ROOF] = roof_all - f[:, GREEN]
    gsum = tab[:, [1, 2, 3, 5, 6]].sum(axis=1)
    scale = np.where(gsum > 0.0, 1.0 + trees / np.where(gsum > 0.0, gsum, 1.0), 0.0)
    for s, col in ((ROAD, 1), (CONC, 2), (WATER, 3), (DRY, 5), (IRR, 6)):
        f[:, s] = tab[:, col] * scale
    f[:, CONC] = np.where(gsum > 0.0, f[:, CONC], trees)
    canyon = np.maximum(1.0 - roof_all, 0.0)
    tc = np.minimum(trees / np.maximum(canyon, 1e-6), 0.9)
    w = np.maximum(width, 1.0)
    wtree = np.maximum(w * (1.0 - tc), 1.0)
    hz = np.maximum(h, z_avg)
    z0m = zr * hz
    f[:, WALL] = np.where(h < h_open, 0.0, 2.0 * h / w * canyon)
    att = np.exp(-0.386 * hz / wtree)
    wind_ratio = np.log(hz / z0m) / np.log(np.maximum(z_uref, 1.5 * z0m) / z0m)
    return f, roof_all, trees, canyon, tc, w, wtree, hz, z0m, att, wind_ratio


def urban_cells_numpy(
    frac,
    green,
    height,
    width,
    svf_in,
    albedo,
    sp,
    forcing,
    sun,
    sc,
    tm0,
    diagnostics,
    surfaces_only=False,
    air=None,
    ts0=None,
):
    """Pure-numpy reference of :func:`urban_cells`: loop over time, vectorised over cells.

    Same arguments and returns as :func:`urban_cells`.
    """
    frac = np.asarray(frac, float)
    n = frac.shape[0]
    nt = forcing.shape[1]
    dt, z_uref, z_avg, _tm_init, zw, hv, h_open, tau, a_k, e_p, zr = (float(v) for v in sc)
    out = np.full((4, 0 if surfaces_only else nt, n), np.nan)
    eb = np.full((nt, n, NS, 4), np.nan) if diagnostics else np.empty((0, 0, 0, 0))
    dd = np.sqrt(2.0 * sp[:, 2] / OMEGA)

    h = np.asarray(height, float)
    geo = (z_avg, zr, z_uref, h_open)
    f, _, trees, _, tc, w, wtree, _, _, att, wind_ratio = _geometry_numpy(
        frac, green, h, width, *geo
    )
    ground = [ROAD, CONC, WATER, DRY, IRR]
    gtot = f[:, ground].sum(axis=1)
    is_open = h < h_open
    hsafe = np.where(is_open, 1.0, h)
    hw = np.where(is_open, 0.0, h / wtree)
    svf_g = np.sqrt(1.0 + hw**2) - hw
    r = w / hsafe
    svf_w = np.where(is_open, 0.0, 0.5 * (1.0 + r - np.sqrt(1.0 + r**2)))
    svf_g = np.where(np.isnan(svf_in), svf_g, svf_in)
    # local-scale geometry of the canyon-air balance
    ra = air_inputs(frac, green, height, width) if air is None else np.asarray(air, float)
    h_a = ra[:, 8]
    fa, roof_a, trees_a, canyon_a, _, w_a, _, hz_a, z0m_a, att_a, wind_ratio_a = _geometry_numpy(
        ra, ra[:, 7], h_a, ra[:, 9], *geo
    )
    z0h_a = z0m_a / 10.0
    open_a = h_a < h_open
    dz = np.maximum(2.0 * hz_a - h_a - z0m_a, z0m_a + 0.5)
    lnzz0m = np.log(dz / z0m_a)
    lnzz0h = np.log(dz / z0h_a)
    aa = (KARMAN / lnzz0m) ** 2
    chh = _CSH * aa * 9.4 * (lnzz0m / lnzz0h) * (dz / z0h_a) ** _PH
    plan_can = np.maximum(canyon_a, 0.05)
    roof_cap = np.minimum(1.0, plan_can / np.where(roof_a > 0.0, roof_a, 1.0))
    r_a = w_a / np.where(open_a, 1.0, h_a)
    svf_ws = np.where(
        is_open & (fa[:, WALL] > 0.0), 0.5 * (1.0 + r_a - np.sqrt(1.0 + r_a**2)), svf_w
    )
    gpos = gtot > 0.0
    gw = f[:, ground] / np.where(gpos, gtot, 1.0)[:, None]
    alb_g = np.where(gpos, (gw * albedo[:, ground]).sum(axis=1), albedo[:, CONC])
    eps_g = np.where(gpos, (gw * sp[ground, 0][None, :]).sum(axis=1), sp[CONC, 0])
    svf = np.empty((n, NS))
    svf[:, [ROOF, GREEN]] = 1.0
    svf[:, WALL] = svf_ws
    svf[:, ground] = svf_g[:, None]
    present = (f > 0.0) | (fa > 0.0)
    emis = sp[:, 0][None, :]

    ts = np.full((n, NS), forcing[0, 0])
    if ts0 is not None:
        ts = np.where(np.isnan(ts0), ts, ts0)
    tm = np.array(tm0, dtype=float, copy=True)
    ts_sum = np.zeros((n, NS))
    tac_prev = np.full(n, forcing[0, 0])
    tg_prev = np.full(n, forcing[0, 0])
    is_roof = np.zeros(NS, bool)
    is_roof[[ROOF, GREEN]] = True
    is_ground = np.zeros(NS, bool)
    is_ground[ground] = True
    for t in range(nt):
        ta, rh, ws, pr, kd, ld, tb = forcing[:, t]
        tp = max(t - 1, 0)
        tn = min(t + 1, nt - 1)
        span = max(tn - tp, 1) * dt / 3600.0
        dkd = forcing[4, tn] - forcing[4, tp]
        dld = forcing[5, tn] - forcing[5, tp]
        uz = np.maximum(ws * wind_ratio, 0.1)
        ucan = uz * att
        uz_a = np.maximum(ws * wind_ratio_a, 0.1)
        ucan_a = uz_a * att_a
        gs = _gamma_over_s_py(ta, pr)
        tg4 = SIGMA * (tg_prev + TK) ** 4
        tw4 = np.where(f[:, WALL] > 0.0, SIGMA * (ts[:, WALL] + TK) ** 4, tg4)
        rho = pr * 100.0 / (RD * (ta + TK))
        lin = np.empty((n, NS))
        lin[:, is_roof] = ld
        lin[:, WALL] = svf_ws * ld + (1.0 - svf_ws) * 0.5 * (sp[WALL, 0] * tw4 + eps_g * tg4)
        lin[:, is_ground] = (svf_g * ld + (1.0 - svf_g) * sp[WALL, 0] * tw4)[:, None]
        rn = svf * (1.0 - albedo) * kd + emis * (lin - SIGMA * (ts + TK) ** 4)
        # impervious / vegetated surfaces: OHM + LUMPS + force-restore
        drn = (svf * (1.0 - albedo) * dkd + emis * svf * dld) / span
        qs = sp[:, 3] * rn + sp[:, 4] * drn + sp[:, 5]
        qe = sp[:, 6] / (1.0 + gs) * (rn - qs) + sp[:, 7]
        qh = rn - qs - qe
        cd = sp[:, 1] * dd
        ts_new = ts + dt * (2.0 * qs / cd - OMEGA * (ts - tm))
        tm_new = tm + dt * qs / (cd * np.sqrt(365.0))
        # water slab
        tw_ = ts[:, WATER]
        uw = np.maximum(ucan, 0.5)
        qh_w = rho * CP * hv * uw * (tw_ - ta)
        qsat = 0.622 * _es_kpa_py(tw_) / (pr / 10.0)
        qa = 0.622 * _es_kpa_py(ta) * rh / 100.0 / (pr / 10.0)
        qe_w = rho * LV * hv * uw * (qsat - qa)
        qs_w = rn[:, WATER] - qh_w - qe_w
        qh[:, WATER] = qh_w
        qe[:, WATER] = qe_w
        qs[:, WATER] = qs_w
        ts_new[:, WATER] = tw_ + dt * qs_w / (sp[WATER, 1] * zw)
        tm_new[:, WATER] = tm[:, WATER]
        ts = np.where(present, ts_new, ts)
        tm = np.where(present, tm_new, tm)
        ts_sum += np.where(present, ts, 0.0)
        if diagnostics:
            for k, term in enumerate((rn, qh, qe, qs)):
                eb[t, :, :, k] = np.where(present, term, np.nan)
        tg = np.where(gpos, (gw * ts[:, ground]).sum(axis=1), tac_prev)
        if surfaces_only:
            tg_prev = tg
            continue
        # canyon air temperature
        hcan = (11.8 + 4.2 * ucan_a) / (rho * CP)
        roof_plan = fa[:, ROOF] + fa[:, GREEN]
        troof = np.where(
            roof_plan > 0.0,
            (fa[:, ROOF] * ts[:, ROOF] + fa[:, GREEN] * ts[:, GREEN])
            / np.where(roof_plan > 0, roof_plan, 1.0),
            tac_prev,
        )
        tlow = roof_a * troof + (1.0 - roof_a) * tac_prev
        tlk = tlow + TK
        thk = tb + TK + G / CP * dz
        ri = G * dz * (thk - tlk) / (0.5 * (thk + tlk)) / uz_a**2
        hurb = uz_a * aa / R_LOUIS * _mascart_h_numpy(ri, lnzz0m, lnzz0h, chh)
        hrf = 1.0 / (1.0 / hcan + 1.0 / hurb) * roof_cap
        k = np.where(is_roof[None, :], hrf[:, None], hcan[:, None])
        fk = np.where(fa > 0.0, k * fa, 0.0)
        num = (
            hurb * plan_can * tb
            + hcan * trees_a * tac_prev
            + (fk * np.where(present, ts, 0.0)).sum(axis=1)
        )
        den = hurb * plan_can + hcan * trees_a + fk.sum(axis=1)
        tac = num / den
        tsfc = f[:, ROOF] * ts[:, ROOF] + f[:, GREEN] * ts[:, GREEN] + trees * tac_prev
        tsfc = (
            tsfc + frac[:, 1] * ts[:, ROAD] + frac[:, 2] * ts[:, CONC] + frac[:, 3] * ts[:, WATER]
        )
        tsfc = tsfc + frac[:, 5] * ts[:, DRY] + frac[:, 6] * ts[:, IRR]
        shade = 1.0 - tc * (1.0 - tau)
        sunlit = np.clip(1.0 - hw * sun[0, t] * 2.0 / np.pi, 0.0, 1.0) * shade
        twall = np.where(f[:, WALL] > 0.0, ts[:, WALL], tg)
        kdn = svf_g * sun[3, t] + (1.0 - svf_g) * albedo[:, WALL] * svf_w * kd
        kup = alb_g * svf_g * kd
        ldn = svf_g * ld + (1.0 - svf_g) * sp[WALL, 0] * SIGMA * (twall + TK) ** 4
        lup = eps_g * SIGMA * (tg + TK) ** 4
        absorbed = a_k * (sun[1, t] * sun[2, t] * sunlit + 0.5 * (kdn + kup)) + e_p * 0.5 * (
            ldn + lup
        )
        out[0, t] = tac
        out[1, t] = tsfc
        out[2, t] = ucan
        out[3, t] = (absorbed / (e_p * SIGMA)) ** 0.25 - TK
        tac_prev = tac
        tg_prev = tg
    if not surfaces_only:
        return out, eb, np.empty((0, NS, 2))
    state = np.stack([np.where(present, ts_sum / nt, tm0), ts], axis=-1)
    return out, eb, state
