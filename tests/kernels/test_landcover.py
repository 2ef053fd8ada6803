"""Land-cover block kernels against their pure-numpy references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from twin.kernels.landcover import (
    class_fractions,
    class_fractions_ref,
    masked_block_mean,
    masked_block_mean_ref,
)


@st.composite
def categorical(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    n_classes = draw(st.integers(1, 9))
    factor = draw(st.integers(1, 7))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40))
    codes = st.one_of(st.integers(0, n_classes - 1), st.sampled_from([255, n_classes, 254]))
    fine = draw(hnp.arrays(np.uint8, shape, elements=codes))
    return fine, factor, n_classes


@settings(max_examples=150, deadline=None)
@given(categorical())
def test_class_fractions_matches_reference(case: tuple[np.ndarray, int, int]) -> None:
    fine, factor, n_classes = case
    got = class_fractions(fine, factor, n_classes)
    want = class_fractions_ref(fine, factor, n_classes)
    assert got.dtype == np.float32
    assert got.shape == (n_classes, -(-fine.shape[0] // factor), -(-fine.shape[1] // factor))
    np.testing.assert_array_equal(got, want)
    total = got.sum(axis=0)
    valid = ~np.isnan(total)
    np.testing.assert_allclose(total[valid], 1.0, atol=1e-6)


@st.composite
def masked_values(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    factor = draw(st.integers(1, 7))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40))
    floats = st.one_of(st.floats(-1e4, 1e4, width=32, allow_nan=False), st.just(float("nan")))
    values = draw(hnp.arrays(np.float32, shape, elements=floats))
    mask = draw(hnp.arrays(np.bool_, shape))
    return values, mask, factor


@settings(max_examples=150, deadline=None)
@given(masked_values())
def test_masked_block_mean_matches_reference(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, mask, factor = case
    got = masked_block_mean(values, mask, factor)
    want = masked_block_mean_ref(values, mask, factor)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-3)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_class_fractions_exact_with_partial_blocks() -> None:
    fine = np.array(
        [
            [0, 1, 2],
            [0, 0, 255],
            [2, 9, 255],  # 9 >= n_classes: nodata too
        ],
        dtype=np.uint8,
    )
    got = class_fractions(fine, 2, 3)
    assert got.shape == (3, 2, 2)
    np.testing.assert_array_equal(got[:, 0, 0], [0.75, 0.25, 0.0])
    np.testing.assert_array_equal(got[:, 0, 1], [0.0, 0.0, 1.0])  # 2 and nodata
    np.testing.assert_array_equal(got[:, 1, 0], [0.0, 0.0, 1.0])  # 2 and code 9
    assert np.isnan(got[:, 1, 1]).all()  # only nodata: NaN


def test_class_fractions_factor_one_is_one_hot() -> None:
    rng = np.random.default_rng(3)
    fine = rng.integers(0, 7, (13, 17)).astype(np.uint8)
    got = class_fractions(fine, 1, 7)
    np.testing.assert_array_equal(got.argmax(axis=0), fine)
    np.testing.assert_array_equal(got.sum(axis=0), 1.0)


def test_masked_block_mean_exact() -> None:
    values = np.array([[1, 2, 10], [3, 4, 20], [5, np.nan, 7]], dtype=np.float32)
    mask = np.array([[1, 1, 1], [0, 1, 0], [0, 1, 0]], dtype=bool)
    got = masked_block_mean(values, mask, 2)
    want = np.array([[7 / 3, 10.0], [np.nan, np.nan]], dtype=np.float32)
    np.testing.assert_array_equal(got, want)  # NaN under the mask is skipped


@pytest.mark.parametrize("factor", [4, 10])
def test_large_parallel_run_matches_reference(factor: int) -> None:
    rng = np.random.default_rng(42)
    fine = rng.integers(0, 8, (1003, 757)).astype(np.uint8)
    fine[fine == 7] = 255
    np.testing.assert_array_equal(
        class_fractions(fine, factor, 7), class_fractions_ref(fine, factor, 7)
    )
    values = rng.normal(15.0, 5.0, fine.shape).astype(np.float32)
    mask = fine == 0
    np.testing.assert_allclose(
        masked_block_mean(values, mask, factor),
        masked_block_mean_ref(values, mask, factor),
        rtol=1e-6,
    )
