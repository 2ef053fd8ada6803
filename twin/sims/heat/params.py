"""Surface-type parameter table of the urban heat island model.

One row per surface type that carries a prognostic temperature (order of
:data:`twin.kernels.heat.SURFACES`). Trees have no energy balance of their own: their
surface temperature is taken equal to the canyon air temperature (as in TARGET).

Sources
-------
- Albedo, emissivity, volumetric heat capacity ``C`` and thermal diffusivity ``K``:
  Broadbent et al. (2019), *Geosci. Model Dev.* 12, 785–803, Table 2 (the defaults of the
  TARGET model, compiled from Oke (1987) *Boundary Layer Climates*, Table 2.1, and
  Järvi et al. (2011) for the OHM coefficients).
- OHM coefficients ``a1`` [-], ``a2`` [h], ``a3`` [W m-2]: Grimmond & Oke (1999),
  *J. Appl. Meteorol.* 38, 922–940 (via TARGET's table): roofs 0.12/0.24/-4.5, asphalt
  0.50/0.28/-31.45, concrete 0.61/0.28/-23.9, dry grass 0.27/0.33/-21.75, irrigated grass
  0.32/0.54/-27.4.
- LUMPS ``alpha`` [-] and ``beta`` [W m-2]: Grimmond & Oke (2002), *J. Appl. Meteorol.* 41,
  792–810; Loridan et al. (2011): 0 for impervious surfaces, 0.2 for dry and 1.2 for
  irrigated grass, beta = 3 W m-2.
- Water (slab model): C = 4.18e6 J m-3 K-1, emissivity 0.97, albedo 0.10, depth 0.3 m and
  bulk transfer coefficient 1.4e-3 (Martinez et al., 2006, as in TARGET's water scheme).
- Walls take the roof values (TARGET); green roofs the irrigated-grass values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from twin.errors import InputError, message
from twin.kernels.heat import PARAMS, SURFACES

#: name -> (albedo, emissivity, C [J m-3 K-1], K [m2 s-1], a1, a2 [h], a3 [W m-2],
#: alpha, beta [W m-2])
SURFACE_TABLE: dict[str, tuple[float, ...]] = {
    "roof": (0.15, 0.90, 1.25e6, 0.05e-6, 0.12, 0.24, -4.5, 0.0, 3.0),
    "road": (0.08, 0.95, 1.94e6, 0.38e-6, 0.50, 0.28, -31.45, 0.0, 3.0),
    "concrete": (0.20, 0.94, 2.11e6, 0.72e-6, 0.61, 0.28, -23.9, 0.0, 3.0),
    "water": (0.10, 0.97, 4.18e6, 0.14e-6, 0.0, 0.0, 0.0, 0.0, 0.0),
    "grass": (0.19, 0.98, 1.35e6, 0.21e-6, 0.27, 0.33, -21.75, 0.2, 3.0),
    "irrigated_grass": (0.19, 0.98, 2.19e6, 0.42e-6, 0.32, 0.54, -27.4, 1.2, 3.0),
    "wall": (0.15, 0.90, 1.25e6, 0.05e-6, 0.12, 0.24, -4.5, 0.0, 3.0),
    "green_roof": (0.19, 0.98, 2.19e6, 0.42e-6, 0.32, 0.54, -27.4, 1.2, 3.0),
}
COLUMNS = ("albedo", *PARAMS)
#: Reference (rural) surfaces allowed and the row they use.
REFERENCE_SURFACES = ("grass", "irrigated_grass", "concrete", "road", "roof")
#: TARGET's names of the reference surface, accepted as aliases.
TARGET_ALIASES = {"dry": "grass", "irr": "irrigated_grass", "conc": "concrete"}


def surface_table(overrides: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """Parameter table as an array, with optional overrides.

    Parameters
    ----------
    overrides : mapping, optional
        ``{surface: {column: value}}``, e.g. ``{"roof": {"albedo": 0.6}}``.

    Returns
    -------
    ndarray of float64, shape (8, 9)
        Rows :data:`twin.kernels.heat.SURFACES`, columns :data:`COLUMNS`.
    """
    table = np.array([SURFACE_TABLE[s] for s in SURFACES], dtype=float)
    for surf, cols in (overrides or {}).items():
        if surf not in SURFACES:
            msg = message(
                f"unknown surface type {surf!r} in the parameter overrides",
                where="simulate(surface_params=...)",
                fix=f"use one of {', '.join(SURFACES)}",
            )
            raise InputError(msg)
        for col, value in cols.items():
            if col not in COLUMNS:
                msg = message(
                    f"unknown parameter {col!r} for surface {surf!r}",
                    where="simulate(surface_params=...)",
                    fix=f"use one of {', '.join(COLUMNS)}",
                )
                raise InputError(msg)
            table[SURFACES.index(surf), COLUMNS.index(col)] = float(value)
    return table
