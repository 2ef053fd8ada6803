"""EN 13201-2 lighting classes and per-segment compliance of computed illuminances.

EN 13201-2:2015 (*Road lighting — Part 2: Performance requirements*) sets, per class, the
maintained average illuminance ``Ē`` [lx] (a minimum), and either the overall uniformity
``U0 = Emin / Ē`` (C classes) or the minimum illuminance ``Emin`` [lx] (P classes):

=====  =======  ======  =====  =======  ======
class  Ē [lx]   U0      class  Ē [lx]   Emin
=====  =======  ======  =====  =======  ======
C0     50       0.40    P1     15.0     3.00
C1     30       0.40    P2     10.0     2.00
C2     20.0     0.40    P3     7.50     1.50
C3     15.0     0.40    P4     5.00     1.00
C4     10.0     0.40    P5     3.00     0.60
C5     7.50     0.40    P6     2.00     0.40
=====  =======  ======  =====  =======  ======

M classes (motorised traffic) are specified in road *luminance* ``L̄`` [cd/m²] with ``U0``
(M1 2.0, M2 1.5, M3 1.0, M4 0.75, M5 0.50, M6 0.30 cd/m²; U0 0.40 for M1–M4, 0.35 for M5–M6).
twin computes illuminance only, so an M class is checked against the illuminance that gives
its luminance on a standard dry road: ``Ē = L̄ / q0`` with ``q0 = 0.07 sr⁻¹`` (the average
luminance coefficient of the CIE R3 surface, ASSUMED) and the same U0. Every value is data:
pass your own ``classes`` table.

A segment complies when its average over the calculation points is at least ``Ē``, and its
minimum is at least ``Emin`` (P classes) or ``U0 · average`` (C and M classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.errors import SchemaError, message


@dataclass(frozen=True)
class LightingClass:
    """Targets of one lighting class (maintained values)."""

    em_lx: float
    emin_lx: float = 0.0
    u0: float = 0.0
    note: str = ""


#: Average luminance coefficient of the R3 road surface [1/sr] (ASSUMED for M classes).
Q0_R3 = 0.07

_M_LUMINANCE = {"M1": (2.0, 0.40), "M2": (1.5, 0.40), "M3": (1.0, 0.40), "M4": (0.75, 0.40),
                "M5": (0.50, 0.35), "M6": (0.30, 0.35)}  # fmt: skip

#: EN 13201-2:2015 classes as illuminance targets (see the module docstring).
CLASSES: dict[str, LightingClass] = {
    **{
        f"C{i}": LightingClass(em, u0=0.40)
        for i, em in enumerate((50.0, 30.0, 20.0, 15.0, 10.0, 7.5))
    },
    **{
        f"P{i + 1}": LightingClass(em, emin_lx=emin)
        for i, (em, emin) in enumerate(
            ((15.0, 3.0), (10.0, 2.0), (7.5, 1.5), (5.0, 1.0), (3.0, 0.6), (2.0, 0.4))
        )
    },
    **{
        k: LightingClass(lum / Q0_R3, u0=u0, note=f"L̄ {lum} cd/m² / q0 {Q0_R3} (ASSUMED R3)")
        for k, (lum, u0) in _M_LUMINANCE.items()
    },
}

#: Classes in decreasing lighting level within each series (for adaptive steps down).
SERIES = {
    "M": [f"M{i}" for i in range(1, 7)],
    "C": [f"C{i}" for i in range(0, 6)],
    "P": [f"P{i}" for i in range(1, 7)],
}


def get_class(name: str, classes: dict[str, LightingClass] | None = None) -> LightingClass:
    """Targets of a class, with a clear error for unknown names."""
    table = CLASSES if classes is None else classes
    if name not in table:
        msg = message(
            f"unknown lighting class {name!r}",
            where="lighting class",
            fix=f"use one of {sorted(table)} (EN 13201-2) or add it to the classes table",
        )
        raise SchemaError(msg)
    return table[name]


def step_down(name: str, steps: int) -> str:
    """The class ``steps`` levels lower in the same series (bounded by the lowest)."""
    series = SERIES.get(name[:1])
    if series is None or name not in series or steps <= 0:
        return name
    return series[min(series.index(name) + steps, len(series) - 1)]


def segment_stats(values: np.ndarray, seg: np.ndarray, n_segments: int) -> pd.DataFrame:
    """Average, minimum, maximum and point count of ``values`` per segment position."""
    cnt = np.bincount(seg, minlength=n_segments).astype(float)
    tot = np.bincount(seg, weights=values, minlength=n_segments)
    mn = np.full(n_segments, np.inf)
    mx = np.full(n_segments, -np.inf)
    np.minimum.at(mn, seg, values)
    np.maximum.at(mx, seg, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = tot / cnt
    none = cnt == 0
    mn[none], mx[none], avg[none] = np.nan, np.nan, np.nan
    return pd.DataFrame({"em_lx": avg, "emin_lx": mn, "emax_lx": mx, "n_points": cnt})


def compliance(
    values: np.ndarray,
    seg: np.ndarray,
    segment_ids: pd.Index,
    classes: pd.Series | str,
    *,
    table: dict[str, LightingClass] | None = None,
) -> pd.DataFrame:
    """Per-segment illuminance statistics and compliance with their lighting class.

    Parameters
    ----------
    values : ndarray
        Maintained illuminance [lx] at calculation points.
    seg : ndarray of int
        Segment position of each point.
    segment_ids : pandas.Index
        Segment ids (the result's index).
    classes : Series or str
        Class of each segment (aligned with ``segment_ids``) or one class for all.
    table : dict, optional
        Class targets (default :data:`CLASSES`).

    Returns
    -------
    DataFrame
        ``em_lx``, ``emin_lx``, ``emax_lx``, ``u0`` (Emin / Ē), ``n_points``,
        ``lighting_class``, ``target_em_lx``, ``target_emin_lx`` (the effective minimum) and
        ``compliant`` (False where a segment has no point).
    """
    out = segment_stats(np.asarray(values, float), np.asarray(seg), len(segment_ids))
    out.index = segment_ids
    cls = (
        pd.Series(classes, index=segment_ids)
        if isinstance(classes, str)
        else classes.reindex(segment_ids)
    )
    tab = CLASSES if table is None else table
    for name in cls.dropna().unique():
        get_class(name, tab)
    em_t = cls.map(lambda c: tab[c].em_lx if isinstance(c, str) else np.nan).to_numpy(float)
    u0_t = cls.map(lambda c: tab[c].u0 if isinstance(c, str) else np.nan).to_numpy(float)
    emin_t = cls.map(lambda c: tab[c].emin_lx if isinstance(c, str) else np.nan).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["u0"] = out["emin_lx"] / out["em_lx"]
    eff_min = np.fmax(emin_t, u0_t * out["em_lx"].to_numpy())
    out["lighting_class"] = cls.to_numpy()
    out["target_em_lx"] = em_t
    out["target_emin_lx"] = eff_min
    ok = (out["em_lx"].to_numpy() >= em_t) & (out["emin_lx"].to_numpy() >= eff_min - 1e-12)
    out["compliant"] = ok & (out["n_points"].to_numpy() > 0)
    return out
