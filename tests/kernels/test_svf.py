"""Sky view factor ray casting: numpy oracle, analytic street canyon, flat field, edges."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from twin.kernels.svf import canyon_svf, ray_offsets, sky_view_factor, sky_view_factor_ref


def canyon(h_over_w: float, width: int = 21, cell: float = 1.0) -> tuple[np.ndarray, int]:
    """An infinite (north–south) canyon ``width`` cells wide between two tall blocks."""
    side = 30
    h = np.zeros((161, 2 * side + width))
    h[:, :side] = h_over_w * width * cell
    h[:, side + width :] = h_over_w * width * cell
    return h, side + width // 2


@pytest.mark.parametrize("hw", [0.25, 0.5, 1.0, 2.0])
def test_canyon_centre_matches_oke_formula(hw: float) -> None:
    h, centre = canyon(hw)
    s = sky_view_factor(h, 1.0, n_directions=36, max_radius_m=80.0)
    # Oke (1987): SVF = cos(atan(2H/W)) at the floor centre
    assert s[80, centre] == pytest.approx(canyon_svf(hw), abs=0.01)
    assert canyon_svf(hw) == pytest.approx(math.cos(math.atan(2 * hw)))
    # the default 16 directions stay within 0.015 of the analytic value
    s16 = sky_view_factor(h, 1.0, max_radius_m=80.0)
    assert s16[80, centre] == pytest.approx(canyon_svf(hw), abs=0.015)
    # across the floor: SVF(x) = (cos θ1 + cos θ2) / 2, θ the elevations of the two walls
    side, width, height = 30, 21, hw * 21
    j = np.arange(side, side + width)
    d1, d2 = j + 0.5 - side, side + width - j - 0.5
    expect = (np.cos(np.arctan(height / d1)) + np.cos(np.arctan(height / d2))) / 2
    np.testing.assert_allclose(s[80, j[2:-2]], expect[2:-2], atol=0.02)
    # the cells next to a wall meet it up to half a cell late (documented bias, ≤ +0.03)
    np.testing.assert_allclose(s[80, j[[0, 1, -2, -1]]], expect[[0, 1, -2, -1]], atol=0.035)


def test_canyon_floor_average_matches_masson() -> None:
    hw = 1.0
    h, centre = canyon(hw)
    s = sky_view_factor(h, 1.0, n_directions=36, max_radius_m=80.0)
    floor = s[80, centre - 10 : centre + 11].mean()
    # TEB (Masson 2000): canyon-floor mean SVF = sqrt(1 + (H/W)²) − H/W; cell-centre sampling
    # of 21 floor cells misses the last half cell at each wall, where SVF is lowest
    assert floor == pytest.approx(math.sqrt(1 + hw**2) - hw, abs=0.02)


def test_flat_field_and_no_obstacle_in_radius() -> None:
    flat = np.zeros((40, 50))
    assert np.all(sky_view_factor(flat, 10.0) == 1.0)
    h = np.zeros((60, 60))
    h[5, 5] = 50.0
    s = sky_view_factor(h, 10.0, max_radius_m=100.0)
    assert s[5, 5] == 1.0  # a cell ignores its own roof
    assert s[50, 50] == 1.0  # 636 m away: beyond the 100 m radius
    assert s[5, 6] < 1.0
    # negative and NaN heights are no obstacle
    assert np.all(sky_view_factor(np.full((5, 5), -3.0), 10.0) == 1.0)
    assert np.all(sky_view_factor(np.full((5, 5), np.nan), 10.0) == 1.0)


def test_single_tower_in_a_direction() -> None:
    # one direction out of 4 blocked by an infinitely wide wall at 45°: SVF = 1 − 0.5/4
    h = np.zeros((21, 21))
    h[:10, :] = 10.0  # wall north of row 10, its face 0.5 cells away... sampled at 1 cell
    s = sky_view_factor(h, 10.0, n_directions=4, max_radius_m=50.0, step=1.0)
    assert s[10, 10] == pytest.approx(1 - 0.5 / 4, abs=1e-6)


def test_kernel_matches_numpy_oracle() -> None:
    rng = np.random.default_rng(3)
    h = np.where(rng.random((80, 90)) < 0.35, rng.uniform(3, 45, (80, 90)), 0.0)
    h[rng.random(h.shape) < 0.01] = np.nan
    for nd, r, step in [(16, 100.0, 0.5), (7, 35.0, 1.0), (32, 230.0, 0.3)]:
        fast = sky_view_factor(h, 10.0, n_directions=nd, max_radius_m=r, step=step)
        ref = sky_view_factor_ref(h, 10.0, n_directions=nd, max_radius_m=r, step=step)
        np.testing.assert_allclose(fast, ref, atol=1e-6)
        assert fast.dtype == np.float32 and ((fast > 0) & (fast <= 1)).all()


def test_ray_offsets_are_monotonic() -> None:
    di, dj, dist = ray_offsets(16, 10.0, 0.5)
    assert di.shape == (16, 20) and dist[-1] == pytest.approx(10.0)
    assert (np.abs(np.diff(di, axis=1)) <= 1).all()
    assert (np.diff(np.abs(di), axis=1) >= 0).all() and (np.diff(np.abs(dj), axis=1) >= 0).all()


def test_city_scale_is_fast() -> None:
    rng = np.random.default_rng(0)
    h = np.where(rng.random((1000, 1000)) < 0.3, rng.uniform(5, 40, (1000, 1000)), 0.0)
    sky_view_factor(h[:5, :5], 10.0)
    t = time.perf_counter()
    s = sky_view_factor(h, 10.0, n_directions=16, max_radius_m=100.0)
    assert time.perf_counter() - t < 5.0  # 10 km × 10 km at 10 m (measured ~0.3 s)
    assert 0.3 < float(s.mean()) < 0.95
