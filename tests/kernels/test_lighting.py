"""Illuminance kernel: analytic single luminaire, numpy reference, spatial index."""

from __future__ import annotations

import numpy as np
import pytest

from twin.kernels.lighting import build_cells, illuminance_points, illuminance_ref

DC, DG = 5.0, 2.5
NC, NG = 73, 73


def _one(table: np.ndarray, px, py, h=8.0, rot=0.0, scale=1.0, cutoff=1e4):
    z = np.zeros(1)
    return illuminance_points(
        np.asarray(px, float), np.asarray(py, float), z, z.copy(), np.array([h]),
        np.array([rot]), np.array([scale]), np.zeros(1, dtype=np.int64), table[None], DC, DG,
        cutoff,
    )  # fmt: skip


def test_isotropic_luminaire_matches_inverse_square_cosine_law() -> None:
    i0, h = 1234.5, 8.0
    table = np.full((NC, NG), i0)
    r = np.array([0.0, 1.0, 5.0, 8.0, 20.0, 45.0])
    e = _one(table, r, np.zeros_like(r), h=h)
    gamma = np.arctan2(r, h)
    expected = i0 * np.cos(gamma) ** 3 / h**2
    assert np.allclose(e, expected, rtol=1e-6)
    assert e[0] == pytest.approx(i0 / h**2, rel=1e-12)


def test_known_distribution_in_c_and_gamma() -> None:
    """I(C, γ) = 100 + 2 γ[°] + 0.5 C[°] is bilinear, so interpolation is exact."""
    cs = np.arange(NC) * DC
    gs = np.arange(NG) * DG
    table = 100 + 2 * gs[None, :] + 0.5 * np.where(cs == 360, 0, cs)[:, None]
    # C wraps: the last row (360°) equals C = 0; keep points away from the wrap
    rng = np.random.default_rng(1)
    h, rot = 6.0, np.radians(30.0)
    r = rng.uniform(0.5, 40, 50)
    c = rng.uniform(1, 350, 50)  # C in the luminaire frame [°]
    ang = np.radians(c) + rot
    e = _one(table, r * np.cos(ang), r * np.sin(ang), h=h, rot=rot, scale=3.0)
    g = np.degrees(np.arctan2(r, h))
    expected = 3.0 * (100 + 2 * g + 0.5 * c) * np.cos(np.radians(g)) ** 3 / h**2
    assert np.allclose(e, expected, rtol=1e-6)


def test_cutoff_and_zero_height() -> None:
    table = np.full((NC, NG), 1000.0)
    e = _one(table, [59.0, 61.0], [0.0, 0.0], cutoff=60.0)
    assert e[0] > 0 and e[1] == 0
    assert _one(table, [0.0], [0.0], h=0.0)[0] == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_kernel_matches_numpy_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, p = int(rng.integers(1, 300)), 2000, 3
    lx, ly = rng.uniform(0, 500, n), rng.uniform(0, 300, n)
    lh = rng.choice([0.0, 4.0, 8.0, 12.0], n)
    rot = rng.uniform(-np.pi, np.pi, n)
    scale = rng.uniform(0.1, 20, n)
    phot = rng.integers(0, p, n).astype(np.int64)
    tables = rng.uniform(0, 500, (p, NC, NG))
    tables[:, -1] = tables[:, 0]
    px, py = rng.uniform(-50, 550, m), rng.uniform(-50, 350, m)
    cutoff = float(rng.uniform(10, 120))
    args = (px, py, lx, ly, lh, rot, scale, phot, tables, DC, DG, cutoff)
    got = illuminance_points(*args, cells_per_radius=int(rng.integers(1, 4)))
    ref = illuminance_ref(*args)
    assert np.allclose(got, ref, rtol=1e-9, atol=1e-12)
    assert (ref > 0).mean() > 0.05  # the case is not trivially dark


def test_build_cells_is_a_partition() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 100, 500), rng.uniform(0, 50, 500)
    start, items = build_cells(x, y, 0.0, 0.0, 10.0, 10, 5)
    assert sorted(items.tolist()) == list(range(500))
    for c in range(50):
        for k in items[start[c] : start[c + 1]]:
            assert int(y[k] // 10) * 10 + int(x[k] // 10) == c
