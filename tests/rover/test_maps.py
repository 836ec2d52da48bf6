"""Map furniture: block decimation of layers for figures against numpy's nan-reductions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from frigoris.rover.app.products.maps import decimate


def _reference(a: np.ndarray, f: int, how: str) -> np.ndarray:
    """numpy's nanmean / nanmax / any over f x f blocks of a padded copy (the old code)."""
    pr, pc = -a.shape[0] % f, -a.shape[1] % f
    fill = False if a.dtype == bool else np.nan
    b = np.pad(a.astype(np.float32) if how == "mean" else a, ((0, pr), (0, pc)),
               constant_values=fill)  # fmt: skip
    b = b.reshape(b.shape[0] // f, f, b.shape[1] // f, f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks
        if how == "mean":
            return np.nanmean(b, axis=(1, 3))
        if how == "any":
            return b.any(axis=(1, 3))
        return np.nanmax(b, axis=(1, 3))


@pytest.mark.parametrize("factor", [2, 3, 5])
@pytest.mark.parametrize("nan_share", [0.0, 0.3, 0.97])
def test_decimate_matches_numpy_nan_reductions(factor, nan_share):
    rng = np.random.default_rng(factor)
    a = rng.normal(size=(37, 52)).astype(np.float32)  # sides not multiples: partial blocks
    a[rng.random(a.shape) < nan_share] = np.nan
    mean = decimate(a, factor)
    ref = _reference(a, factor, "mean")
    assert mean.dtype == np.float32
    assert np.array_equal(np.isnan(mean), np.isnan(ref))  # all-NaN blocks stay NaN
    np.testing.assert_allclose(mean, ref, rtol=1e-6, atol=1e-6)  # float32 sums, other order
    np.testing.assert_array_equal(decimate(a, factor, "max"), _reference(a, factor, "max"))
    mask = a > 0.5
    np.testing.assert_array_equal(decimate(mask, factor, "any"), _reference(mask, factor, "any"))
    codes = rng.integers(0, 7, a.shape).astype(np.uint8)
    got = decimate(codes, factor, "max")
    assert got.dtype == np.uint8
    brute = np.array(
        [[codes[i : i + factor, j : j + factor].max() for j in range(0, 52, factor)]
         for i in range(0, 37, factor)]
    )  # fmt: skip
    np.testing.assert_array_equal(got, brute)
