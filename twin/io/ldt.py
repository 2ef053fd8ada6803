"""EULUMDAT (``.ldt``) photometric files: read, parse and write.

EULUMDAT (Stockmar 1990, 1998) is the European exchange format of luminous intensity
distributions. It is a line-oriented ASCII file:

=====  ======================================================================================
line   content
=====  ======================================================================================
1      company / data bank / version
2      type indicator ``Ityp`` (0 no symmetry point source, 1 rotational symmetry, 2 linear,
       3 other symmetry)
3      symmetry indicator ``Isym``: 0 none, 1 about the vertical axis, 2 plane C0–C180,
       3 plane C90–C270, 4 planes C0–C180 and C90–C270
4, 5   ``Mc`` number of C planes in [0°, 360°), ``Dc`` their spacing (0: not equidistant)
6, 7   ``Ng`` number of γ angles per plane, ``Dg`` their spacing (0: not equidistant)
8–12   measurement report, luminaire name, luminaire number, file name, date/user
13–21  luminaire and luminous-area dimensions [mm]
22     downward flux fraction DFF [%]
23     light output ratio of the luminaire LORL [%]
24     conversion factor of the intensities
25     tilt during measurement [°]
26     ``n`` number of standard lamp sets, then per set (26a–26f): number of lamps, lamp type,
       total luminous flux [lm], colour temperature, colour rendering, wattage incl. ballast [W]
27     direct ratios for room indices k = 0.6 … 5 (10 lines)
28     the ``Mc`` C angles [°]
29     the ``Ng`` γ angles [°]
30     intensities [cd/klm], plane by plane; how many planes depends on ``Isym``:
       0 → Mc, 1 → 1, 2 and 3 → Mc/2 + 1, 4 → Mc/4 + 1
=====  ======================================================================================

Intensities are per 1000 lm of *lamp* flux: the luminaire emits ``LORL × lamp flux``.
:class:`Photometry` holds the table expanded to all C planes.

References
----------
Stockmar, A. W. (1990). EULUMDAT — ein Leuchtendatenformat für den europäischen
Beleuchtungsplaner. *Tagungsband Licht '90*, 641–644.
Stockmar, A. W. (1998). EULUMDAT/2 — Extended version of a well established luminaire data
format. *CIBSE National Lighting Conference*, 353–362.
Format description as published by Helios32 (http://www.helios32.com/Eulumdat.htm) and
Lighting Analysts (https://docs.agi32.com/PhotometricToolbox/Content/Open_Tool/eulumdat_file_format.htm).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin.errors import InputError, message

#: Intensity planes stored in the file for each symmetry indicator (as a function of Mc).
_STORED_PLANES = {0: lambda mc: mc, 1: lambda mc: 1, 2: lambda mc: mc // 2 + 1,
                  3: lambda mc: mc // 2 + 1, 4: lambda mc: mc // 4 + 1}  # fmt: skip


@dataclass
class LampSet:
    """One standard set of lamps of a luminaire (EULUMDAT lines 26a–26f)."""

    count: int
    lamp_type: str
    flux_lm: float
    colour_temperature: str
    colour_rendering: str
    power_w: float


@dataclass
class Photometry:
    """A luminous intensity distribution I(C, γ).

    Attributes
    ----------
    c_angles : ndarray, shape (Mc,)
        C-plane angles [°] in [0, 360), increasing.
    g_angles : ndarray, shape (Ng,)
        γ angles [°] in [0, 180], increasing (0 = straight down, the nadir).
    intensity : ndarray, shape (Mc, Ng)
        Luminous intensity [cd/klm] per 1000 lm of lamp flux, for every C plane (the file's
        symmetry already expanded).
    lamp_flux_lm : float
        Declared total flux of the lamps [lm] (sum over lamp sets).
    lorl : float
        Light output ratio of the luminaire [0–1].
    """

    c_angles: np.ndarray
    g_angles: np.ndarray
    intensity: np.ndarray
    lamp_flux_lm: float
    lorl: float = 1.0
    name: str = ""
    company: str = ""
    type_indicator: int = 1
    symmetry: int = 0
    dff: float = 100.0
    conversion_factor: float = 1.0
    tilt_deg: float = 0.0
    lamps: list[LampSet] = field(default_factory=list)
    direct_ratios: list[float] = field(default_factory=list)
    source: str = ""

    @property
    def luminaire_flux_lm(self) -> float:
        """Declared flux leaving the luminaire [lm] (``LORL × lamp flux``)."""
        return self.lorl * self.lamp_flux_lm

    @property
    def power_w(self) -> float:
        """Declared power of the lamp sets including ballast [W] (NaN if not given)."""
        return float(sum(s.power_w for s in self.lamps)) if self.lamps else float("nan")

    def intensity_cd(self, flux_lm: float | None = None) -> np.ndarray:
        """Intensities [cd] for a lamp flux [lm] (default: the declared lamp flux)."""
        f = self.lamp_flux_lm if flux_lm is None else flux_lm
        return self.intensity * (f / 1000.0)

    def flux_integral_lm(self) -> float:
        """Flux [lm] obtained by integrating the table over the sphere, per declared lamp flux.

        ``Φ = ∫∫ I(C, γ) sin γ dγ dC``, trapezoidal in γ and periodic trapezoidal in C (each
        C plane weighted by half the angular gap to its neighbours). Equals
        :attr:`luminaire_flux_lm` for a consistent file, up to the discretisation.
        """
        g = np.radians(self.g_angles)
        per_plane = np.trapezoid(self.intensity * np.sin(g)[None, :], g, axis=1)
        c = np.radians(self.c_angles)
        if len(c) == 1:
            w = np.array([2 * np.pi])
        else:
            nxt = np.append(c[1:], c[0] + 2 * np.pi)
            gaps = nxt - c
            w = 0.5 * (gaps + np.roll(gaps, 1))
        return float((per_plane * w).sum() * self.lamp_flux_lm / 1000.0)

    def regular(self, dc: float = 5.0, dg: float = 2.5) -> np.ndarray:
        """The table resampled on a regular grid, for the kernels.

        Parameters
        ----------
        dc, dg : float
            C and γ steps [°]; 360 / dc and 180 / dg must be integers.

        Returns
        -------
        ndarray, shape (360 / dc + 1, 180 / dg + 1)
            Intensities [cd/klm] at C = 0, dc, …, 360 (the last row repeats C = 0) and
            γ = 0, dg, …, 180; bilinear in the source table, zero beyond its last γ.
        """
        cs = np.arange(0.0, 360.0 + dc / 2, dc)
        gs = np.arange(0.0, 180.0 + dg / 2, dg)
        # interpolate in γ for each stored plane
        by_g = np.empty((len(self.c_angles), len(gs)))
        for k in range(len(self.c_angles)):
            by_g[k] = np.interp(gs, self.g_angles, self.intensity[k], left=0.0, right=0.0)
            inside = (gs >= self.g_angles[0]) & (gs <= self.g_angles[-1])
            by_g[k, ~inside] = 0.0
            if self.g_angles[0] > 0:  # no nadir value: hold the first one
                by_g[k, gs < self.g_angles[0]] = self.intensity[k, 0]
        if len(self.c_angles) == 1:
            return np.repeat(by_g, len(cs), axis=0)
        # periodic interpolation in C
        cc = np.append(self.c_angles, self.c_angles[0] + 360.0)
        tab = np.vstack([by_g, by_g[:1]])
        out = np.empty((len(cs), len(gs)))
        for j in range(len(gs)):
            out[:, j] = np.interp(cs, cc, tab[:, j], period=None)
            below = cs < cc[0]
            if below.any():  # first stored plane above 0: wrap from the last one
                out[below, j] = np.interp(cs[below] + 360.0, cc, tab[:, j])
        return out


def _fail(where: str, line: int, what: str, fix: str) -> InputError:
    return InputError(message(what, where=f"{where}, line {line}", fix=fix))


def _number(lines: list[str], i: int, where: str, label: str, *, integer: bool = False) -> float:
    """Value of line ``i`` (0-based) as a number, with a message naming the line."""
    if i >= len(lines):
        raise _fail(
            where,
            i + 1,
            f"the file ends before {label}",
            "the file is truncated; export it again from the photometric software",
        )
    text = lines[i].strip().replace(",", ".")
    try:
        v = float(text)
    except ValueError:
        raise _fail(
            where,
            i + 1,
            f"{label} must be a number, found {lines[i].strip()!r}",
            "check the file follows the EULUMDAT line layout (one value per line)",
        ) from None
    if integer and v != int(v):
        raise _fail(where, i + 1, f"{label} must be an integer, found {v:g}", "fix the header")
    return v


def parse_ldt(text: str, *, where: str = "EULUMDAT text") -> Photometry:
    """Parse the text of an EULUMDAT file.

    Parameters
    ----------
    text : str
        File content (CR LF or LF line ends).
    where : str
        Name used in error messages (the file path).

    Returns
    -------
    Photometry

    Raises
    ------
    InputError
        Naming the line that is missing, not a number or inconsistent.
    """
    lines = text.splitlines()
    n = lambda i, label, **kw: _number(lines, i, where, label, **kw)  # noqa: E731
    ityp = int(n(1, "the type indicator Ityp", integer=True))
    isym = int(n(2, "the symmetry indicator Isym", integer=True))
    if isym not in _STORED_PLANES:
        raise _fail(where, 3, f"unknown symmetry indicator Isym = {isym}", "use 0, 1, 2, 3 or 4")
    mc = int(n(3, "the number of C planes Mc", integer=True))
    n(4, "the C-plane spacing Dc")
    ng = int(n(5, "the number of γ angles Ng", integer=True))
    n(6, "the γ spacing Dg")
    if mc < 1 or ng < 2:
        raise _fail(
            where,
            4 if mc < 1 else 6,
            f"Mc = {mc} C planes and Ng = {ng} γ angles: need Mc ≥ 1 and Ng ≥ 2",
            "fix the header counts",
        )
    if (isym in (2, 3) and mc % 2) or (isym == 4 and mc % 4):
        raise _fail(
            where,
            4,
            f"Mc = {mc} is not compatible with symmetry Isym = {isym}",
            "Mc must be even for Isym 2–3 and a multiple of 4 for Isym 4",
        )
    name = lines[8].strip() if len(lines) > 8 else ""
    dff = n(21, "the downward flux fraction DFF [%]")
    lorl = n(22, "the light output ratio LORL [%]")
    conv = n(23, "the conversion factor")
    tilt = n(24, "the tilt during measurement")
    nsets = int(n(25, "the number of lamp sets n", integer=True))
    if nsets < 1:
        raise _fail(where, 26, f"{nsets} lamp sets", "give at least one standard set of lamps")
    i = 26
    sets = []
    for s in range(nsets):
        count = int(n(i + s, f"the number of lamps of set {s + 1}"))
        ltype = lines[i + nsets + s].strip() if len(lines) > i + nsets + s else ""
        flux = n(i + 2 * nsets + s, f"the total luminous flux of lamp set {s + 1} [lm]")
        cct = lines[i + 3 * nsets + s].strip() if len(lines) > i + 3 * nsets + s else ""
        cri = lines[i + 4 * nsets + s].strip() if len(lines) > i + 4 * nsets + s else ""
        watt = n(i + 5 * nsets + s, f"the wattage of lamp set {s + 1} [W]")
        sets.append(LampSet(count, ltype, flux, cct, cri, watt))
    i += 6 * nsets
    ratios = [n(i + k, f"direct ratio {k + 1} of 10") for k in range(10)]
    i += 10
    c = np.array([n(i + k, f"C angle {k + 1} of {mc} [°]") for k in range(mc)])
    i += mc
    g = np.array([n(i + k, f"γ angle {k + 1} of {ng} [°]") for k in range(ng)])
    i += ng
    if np.any(np.diff(g) <= 0) or g[0] < 0 or g[-1] > 180:
        raise _fail(
            where,
            i - ng + 1,
            "γ angles must increase within [0°, 180°]",
            "check the γ angle block",
        )
    if mc > 1 and (np.any(np.diff(c) <= 0) or c[0] < 0 or c[-1] >= 360):
        raise _fail(
            where, i - ng - mc + 1, "C angles must increase within [0°, 360°)", "check the C block"
        )
    stored = _STORED_PLANES[isym](mc)
    need = stored * ng
    values = []
    for k in range(need):
        values.append(n(i + k, f"intensity value {k + 1} of {need} [cd/klm]"))
    vals = np.array(values).reshape(stored, ng) * conv
    if np.any(vals < 0):
        bad = int(np.flatnonzero(vals.ravel() < 0)[0])
        raise _fail(where, i + bad + 1, "negative luminous intensity", "intensities must be ≥ 0")
    full = _expand(vals, c, isym)
    lamp_flux = float(sum(s.flux_lm for s in sets))
    if lamp_flux <= 0:
        raise _fail(
            where,
            26 + 2 * nsets + 1,
            f"total lamp flux {lamp_flux:g} lm",
            "give the lamp flux [lm] of the lamp sets (it scales the cd/klm table)",
        )
    if mc == 1 or isym == 1:
        c = c[:1] if len(c) else np.zeros(1)
    return Photometry(
        c_angles=c.astype(float),
        g_angles=g.astype(float),
        intensity=full,
        lamp_flux_lm=lamp_flux,
        lorl=lorl / 100.0,
        name=name,
        company=lines[0].strip() if lines else "",
        type_indicator=ityp,
        symmetry=isym,
        dff=dff,
        conversion_factor=conv,
        tilt_deg=tilt,
        lamps=sets,
        direct_ratios=ratios,
        source=where,
    )


def _expand(vals: np.ndarray, c: np.ndarray, isym: int) -> np.ndarray:
    """All C planes from the stored ones, using the symmetry indicator."""
    mc = len(c)
    if isym == 0:
        return vals
    if isym == 1:
        return vals[:1]

    def plane(angle: float) -> int:
        k = int(np.argmin(np.abs(((c - angle + 180.0) % 360.0) - 180.0)))
        return k

    out = np.empty((mc, vals.shape[1]))
    for k, ck in enumerate(c):
        if isym == 2:  # stored C0 … C180; I(C) = I(360 − C)
            a = ck if ck <= 180 else 360 - ck
            src = plane(a)
        elif isym == 3:  # stored C90 … C270; I(C) = I(180 − C)
            a = ck if 90 <= ck <= 270 else (180 - ck) % 360
            src = plane(a) - plane(90.0)
        else:  # stored C0 … C90; mirror in both planes
            a = ck % 180
            a = a if a <= 90 else 180 - a
            src = plane(a)
        out[k] = vals[src]
    return out


def read_ldt(path: str | Path) -> Photometry:
    """Read an EULUMDAT (``.ldt``) file.

    Parameters
    ----------
    path : str or Path
        The file; Latin-1 text (the format predates UTF-8), CR LF or LF line ends.

    Returns
    -------
    Photometry

    Raises
    ------
    InputError
        Missing file, or malformed content (naming the line).
    """
    p = Path(path)
    if not p.is_file():
        msg = message("EULUMDAT file not found", where=p, fix="check the photometry path")
        raise InputError(msg)
    return parse_ldt(p.read_bytes().decode("latin-1"), where=str(p))


def write_ldt(phot: Photometry, path: str | Path | None = None, *, isym: int = 0) -> str:
    """Write a photometry as EULUMDAT text (all C planes stored unless ``isym`` says).

    Parameters
    ----------
    phot : Photometry
    path : str or Path, optional
        File to write (CR LF line ends); the text is returned either way.
    isym : int
        Symmetry indicator to declare; the stored planes follow it (``1`` stores C0 only,
        ``2`` C0–C180, ``3`` C90–C270, ``4`` C0–C90).
    """
    c = phot.c_angles
    mc, ng = len(c), len(phot.g_angles)
    dc = float(np.diff(c)[0]) if mc > 1 and np.allclose(np.diff(c), np.diff(c)[0]) else 0.0
    dgs = np.diff(phot.g_angles)
    dg = float(dgs[0]) if np.allclose(dgs, dgs[0]) else 0.0
    lamps = phot.lamps or [LampSet(1, "lamp", phot.lamp_flux_lm, "3000", "80", float("nan"))]
    fmt = lambda v: f"{v:g}"  # noqa: E731
    out = [
        phot.company or "twin",
        str(phot.type_indicator),
        str(isym),
        str(mc),
        fmt(dc),
        str(ng),
        fmt(dg),
        "",
        phot.name or "luminaire",
        "",
        "",
        "",
        *["0"] * 9,
        fmt(phot.dff),
        fmt(phot.lorl * 100.0),
        "1",
        fmt(phot.tilt_deg),
        str(len(lamps)),
        *[str(s.count) for s in lamps],
        *[s.lamp_type for s in lamps],
        *[fmt(s.flux_lm) for s in lamps],
        *[s.colour_temperature for s in lamps],
        *[s.colour_rendering for s in lamps],
        *[fmt(0.0 if np.isnan(s.power_w) else s.power_w) for s in lamps],
        *[fmt(r) for r in (phot.direct_ratios or [0.0] * 10)],
        *[fmt(v) for v in c],
        *[fmt(v) for v in phot.g_angles],
    ]
    if isym == 0:
        planes = list(range(mc))
    elif isym == 1:
        planes = [0]
    elif isym == 2:
        planes = [k for k in range(mc) if c[k] <= 180]
    elif isym == 3:
        planes = [k for k in range(mc) if 90 <= c[k] <= 270]
    else:
        planes = [k for k in range(mc) if c[k] <= 90]
    for k in planes:
        out += [f"{v:.6g}" for v in phot.intensity[k]]
    text = "\r\n".join(out) + "\r\n"
    if path is not None:
        Path(path).write_bytes(text.encode("latin-1"))
    return text
