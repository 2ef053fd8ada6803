"""EULUMDAT parser: a realistic file built from the format description, round trips, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.errors import InputError
from twin.io.ldt import parse_ldt, read_ldt, write_ldt


def road_shape(c_deg: np.ndarray, g_deg: np.ndarray) -> np.ndarray:
    """A smooth road-like distribution, thrown towards C90 and symmetric about the C90–C270
    plane, I(C) = I(180° − C) (cd, relative)."""
    c, g = np.radians(c_deg), np.radians(g_deg)
    v = np.cos(g) * (1 + 3 * np.sin(g) ** 2 * np.cos(c) ** 2) * (1 + 0.4 * np.sin(g) * np.sin(c))
    return np.where(g_deg < 90, np.maximum(v, 0), 0.0)


def sphere_flux(f, n: int = 1441) -> float:
    """Reference ∫∫ f sin γ dγ dC by a fine midpoint rule [same unit × sr]."""
    c = (np.arange(n) + 0.5) * 360.0 / n
    g = (np.arange(n) + 0.5) * 180.0 / n
    val = f(c[:, None], g[None, :]) * np.sin(np.radians(g))[None, :]
    return float(val.sum() * np.radians(360.0 / n) * np.radians(180.0 / n))


def build_ldt(isym: int = 3, lorl: float = 80.0, lamp_flux: float = 10000.0) -> str:
    """An EULUMDAT file written line by line from the published format description.

    Isym = 3 (symmetric to the C90–C270 plane) stores the planes C90 … C270.
    """
    mc, dc, ng, dg = 24, 15.0, 37, 5.0
    c = np.arange(mc) * dc
    g = np.arange(ng) * dg

    shape = road_shape
    k = 1000.0 * lorl / 100.0 / sphere_flux(shape)  # cd/klm so that LORL × 1000 lm leave
    lines = [
        "twin test photometry / EULUMDAT",
        "3",  # Ityp
        str(isym),
        str(mc),
        f"{dc:g}",
        str(ng),
        f"{dg:g}",
        "TEST-001",
        "Road luminaire LED 10 klm",
        "LUM-42",
        "road.ldt",
        "2026-01-01 twin",
        "600",
        "250",
        "90",
        "500",
        "200",
        "0",
        "0",
        "0",
        "0",
        "100",  # DFF
        f"{lorl:g}",  # LORL
        "1.0",  # conversion factor
        "0",  # tilt
        "1",  # number of lamp sets
        "1",  # lamps in set 1
        "LED module",
        f"{lamp_flux:g}",
        "3000",
        "80",
        "85",  # W including the driver
        *["0.5"] * 10,  # direct ratios
        *[f"{v:g}" for v in c],
        *[f"{v:g}" for v in g],
    ]
    stored = [v for v in c if 90 <= v <= 270] if isym == 3 else list(c)
    for cv in stored:
        lines += [f"{v:.4f}" for v in k * shape(np.array([[cv]]), g[None, :])[0]]
    return "\r\n".join(lines) + "\r\n"


def test_realistic_file_flux_integral_matches_declared_flux(tmp_path: Path) -> None:
    p = tmp_path / "road.ldt"
    p.write_bytes(build_ldt().encode("latin-1"))
    ph = read_ldt(p)
    assert ph.symmetry == 3 and ph.intensity.shape == (24, 37)
    assert ph.lamp_flux_lm == 10000.0 and ph.lorl == pytest.approx(0.8)
    assert ph.power_w == 85.0 and ph.name == "Road luminaire LED 10 klm"
    # the expanded planes respect the symmetry I(C) = I(180 − C)
    c = list(ph.c_angles)
    assert np.allclose(ph.intensity[c.index(0.0)], ph.intensity[c.index(180.0)])
    assert np.allclose(ph.intensity[c.index(30.0)], ph.intensity[c.index(150.0)])
    assert np.allclose(ph.intensity[c.index(345.0)], ph.intensity[c.index(195.0)])
    # flux of the table (15° × 5° steps) against the declared luminaire flux (8000 lm)
    assert ph.luminaire_flux_lm == pytest.approx(8000.0)
    assert ph.flux_integral_lm() == pytest.approx(8000.0, rel=0.01)


@pytest.mark.parametrize("isym", [0, 1, 2, 3, 4])
def test_write_parse_round_trip(isym: int) -> None:
    mc, ng = 24, 19
    c = np.arange(mc) * 15.0
    g = np.arange(ng) * 10.0
    cc = c[:, None]
    if isym == 1:
        tab = np.repeat((100 + 50 * np.cos(np.radians(g)))[None, :], mc, axis=0)
    else:  # symmetric in both planes, so valid for every Isym
        tab = 100 + 40 * np.cos(np.radians(2 * cc)) * np.sin(np.radians(g))[None, :]
    ph0 = parse_ldt(build_ldt(isym=0))
    ph0.c_angles, ph0.g_angles, ph0.intensity = c, g, tab
    ph = parse_ldt(write_ldt(ph0, isym=isym))
    full = ph.intensity if ph.intensity.shape[0] == mc else np.repeat(ph.intensity, mc, axis=0)
    assert np.allclose(full, tab, rtol=1e-5)
    assert ph.lamp_flux_lm == ph0.lamp_flux_lm


def test_malformed_value_names_the_line() -> None:
    lines = build_ldt().split("\r\n")
    lines[5] = "thirty-seven"  # Ng, line 6
    with pytest.raises(InputError, match=r"line 6.*number of γ angles Ng.*'thirty-seven'"):
        parse_ldt("\r\n".join(lines), where="bad.ldt")


def test_truncated_file_names_the_missing_line() -> None:
    text = "\r\n".join(build_ldt().split("\r\n")[:-100])
    with pytest.raises(InputError, match=r"bad\.ldt, line \d+: the file ends before intensity"):
        parse_ldt(text, where="bad.ldt")


def test_bad_symmetry_and_counts() -> None:
    lines = build_ldt().split("\r\n")
    lines[2] = "7"
    with pytest.raises(InputError, match=r"line 3: unknown symmetry indicator Isym = 7"):
        parse_ldt("\r\n".join(lines))
    lines = build_ldt().split("\r\n")
    lines[3] = "23"  # odd Mc with Isym 3
    with pytest.raises(InputError, match=r"line 4: Mc = 23 is not compatible"):
        parse_ldt("\r\n".join(lines))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_ldt(tmp_path / "nope.ldt")
