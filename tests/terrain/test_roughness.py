"""Roughness against baseline: white noise, planes, a self-affine surface, the rover's tilt by
Monte Carlo, the Rice tail against the noncentral chi-square, tiles against the whole grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from frigoris.terrain.roughness import (
    BLOCK_PX,
    LAGS_PX,
    MEDIAN_SAMPLE,
    _median,
    block_moments,
    block_variogram,
    horn_weights,
    rice_tail,
    roughness_scaling,
    scaling_from_moments,
    tilt_sigma,
)
from frigoris.terrain.synth import fractal_surface


def test_white_noise_has_no_scaling_and_twice_its_variance():
    z = np.random.default_rng(0).normal(0.0, 0.03, (256, 256)).astype(np.float32)
    s = roughness_scaling(z, 0.5)
    assert s.hurst < 0.03
    assert s.v1_m2 == pytest.approx(2 * 0.03**2, rel=0.03)


def test_a_tilted_plane_has_no_roughness_and_noise_on_it_keeps_its_own():
    rows, cols = np.indices((256, 256))
    plane = (0.3 * cols - 0.2 * rows).astype(np.float64)
    assert roughness_scaling(plane, 0.5).v1_m2 < 1e-12  # float rounding only
    noisy = plane + np.random.default_rng(1).normal(0.0, 0.02, plane.shape)
    assert roughness_scaling(noisy, 0.5).v1_m2 == pytest.approx(2 * 0.02**2, rel=0.03)


def test_self_affine_surface_gives_back_its_hurst_exponent():
    z = fractal_surface((1024, 1024), 0.7, np.random.default_rng(2))
    assert roughness_scaling(z, 1.0).hurst == pytest.approx(0.7, abs=0.08)


def test_block_amplitude_is_local():
    z = np.zeros((128, 192))
    z[:, 128:] = np.random.default_rng(3).normal(0.0, 0.05, (128, 64))
    v = block_variogram(block_moments(z))
    assert v.shape == (2, 3)
    assert np.all(v[:, :2] == 0.0) and np.all(v[:, 2] == pytest.approx(2 * 0.05**2, rel=0.1))


def test_blocks_cut_from_tiles_sum_to_the_whole_grid():
    z = fractal_surface((320, 256), 0.8, np.random.default_rng(4)).astype(np.float32)
    whole = block_moments(z)
    parts = np.zeros_like(whole)
    for r0 in range(0, 320, 128):
        for c0 in range(0, 256, 128):
            m = block_moments(z[r0 : r0 + 128, c0 : c0 + 128])
            i, j = r0 // BLOCK_PX, c0 // BLOCK_PX
            parts[i : i + m.shape[0], j : j + m.shape[1]] = m
    np.testing.assert_array_equal(parts, whole)
    assert scaling_from_moments(parts, 0.5) == scaling_from_moments(whole, 0.5)


def test_rover_tilt_spread_matches_monte_carlo_on_a_self_affine_surface():
    """A self-affine surface at 5 cm, and the DEM that samples it every 0.5 m: the spread of the
    rover's tilt over 0.4 m (two points on the fine surface) around the DEM's Horn slope equals
    the spread :func:`tilt_sigma` extrapolates from the DEM alone."""
    fine_res, step, wheelbase = 0.05, 10, 0.4
    z = fractal_surface((2560, 2560), 0.75, np.random.default_rng(5))
    dem = z[::step, ::step]
    coarse = fine_res * step
    scaling = roughness_scaling(dem, coarse)
    predicted = tilt_sigma(scaling, wheelbase)
    _, wx, wy = horn_weights(coarse)
    half = int(round(0.5 * wheelbase / fine_res))
    err = []
    for i in range(2, dem.shape[0] - 2):
        for j in range(2, dem.shape[1] - 2, 3):
            window = dem[i - 1 : i + 2, j - 1 : j + 2].ravel()
            gx, gy = wx @ window, wy @ window
            fi, fj = i * step, j * step
            tx = (z[fi, fj + half] - z[fi, fj - half]) / wheelbase  # east
            ty = (z[fi - half, fj] - z[fi + half, fj]) / wheelbase  # north
            err += [tx - gx, ty - gy]
    measured = float(np.std(err))
    assert predicted == pytest.approx(measured, rel=0.15), (predicted, measured)


def test_rice_tail_against_the_noncentral_chi_square():
    rng = np.random.default_rng(6)
    u = rng.uniform(0, 30, 2000)
    w = np.abs(u + rng.uniform(-6, 6, 2000))
    exact = 1.0 - special.chndtr(w * w, 2.0, u * u)
    assert np.max(np.abs(rice_tail(u, w) - exact)) < 3e-4
    assert float(rice_tail(0.0, 1.0)) == pytest.approx(math.exp(-0.5), abs=1e-4)  # Rayleigh


@pytest.mark.parametrize("kind", ["normal", "ties", "heavy", "sorted", "constant", "missed"])
def test_block_median_is_numpys_median_exactly(kind):
    # The bracketed selection behind the robust variogram returns np.median's value bit for
    # bit, for every length (odd, even, below and above the sampling threshold), on tied,
    # heavy-tailed and sorted values, and when the sample misses the median (fallback).
    rng = np.random.default_rng(7)
    tmp = np.empty(5000)
    for n in [1, 2, 3, 8, 9, 4 * MEDIAN_SAMPLE - 1, 4 * MEDIAN_SAMPLE, 1001, 4032, 4033]:
        if kind == "ties":
            x = rng.integers(0, 4, n).astype(float)
        elif kind == "heavy":
            x = np.round(rng.standard_cauchy(n), 2)
        elif kind == "sorted":
            x = np.sort(rng.normal(size=n))
        elif kind == "constant":
            x = np.full(n, 0.25)
        else:
            x = rng.normal(size=n)
        if kind == "missed" and n >= 4 * MEDIAN_SAMPLE:
            # every sampled position holds a huge value: the bracket misses the median
            x[(np.arange(MEDIAN_SAMPLE) * 2654435761) % n] = 1e9
        assert _median(x.copy(), n, tmp) == np.median(x)


def test_block_moments_sums_match_numpy_per_lag_and_direction():
    # The one-pass moments equal the counts, sums and sums of squares of each lag's
    # differences, taken block by block with numpy (nodata skipped).
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 1.0, (150, 130)).astype(np.float32)
    z[10:20, 40:45] = np.nan
    m = block_moments(z)
    for bi in range(m.shape[0]):
        for bj in range(m.shape[1]):
            blk = z[bi * BLOCK_PX : (bi + 1) * BLOCK_PX, bj * BLOCK_PX : (bj + 1) * BLOCK_PX]
            blk = blk.astype(np.float64)
            for li, lag in enumerate(LAGS_PX):
                for k, d in enumerate([blk[:, lag:] - blk[:, :-lag], blk[lag:] - blk[:-lag]]):
                    d = d[np.isfinite(d)]
                    got = m[bi, bj, 6 * li + 3 * k : 6 * li + 3 * k + 3]
                    assert got[0] == d.size
                    assert got[1] == pytest.approx(d.sum(), abs=1e-9)
                    assert got[2] == pytest.approx((d * d).sum(), rel=1e-12)
