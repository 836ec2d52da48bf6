"""The hazard stack's faster paths give the numbers of the straightforward expressions.

Each fast path (a test done in a kernel instead of a whole-array temporary, row bands on
threads) is compared with the plain numpy expression it replaces, on cases that reach its edges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from numba import njit
from scipy import ndimage
from scipy.special import exp1

from frigoris.terrain import Dem, local_metric_crs, read_dem
from frigoris.terrain import _crater_kernels as _ck
from frigoris.terrain import _hazard_kernels as hk
from frigoris.terrain import _link_kernels as _lk
from frigoris.terrain import _rock_kernels as _rk
from frigoris.terrain._illumination_kernels import _steps_on_grid, line_of, receiver
from frigoris.terrain.craters import _filled
from frigoris.terrain.hazard import ROCK_SEARCH_M, HazardLimits, widening_offsets, window_rocks
from frigoris.terrain.rocks import detect_rocks, unresolved_rock_risk
from frigoris.terrain.roughness import (
    BRACKET_BINS,
    LAGS_PX,
    RICE_STEP,
    _kth_pair_binned,
    block_moments,
    rice_tail_table,
)
from frigoris.terrain.size_frequency import golombek_cumulative
from frigoris.terrain.synth import synthesize


def counts(in_range, shape=(41, 57), seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=shape).astype(np.float32)
    z[rng.random(shape) < 0.05] = np.nan
    reasons = rng.integers(0, 64, size=shape).astype(np.uint8)
    risk = rng.random(shape).astype(np.float32)
    slope = (rng.random(shape) * 30).astype(np.float32)
    return hk.window_counts(
        z,
        reasons,
        risk,
        np.zeros((1, 1), np.float32),
        True,
        slope,
        np.zeros((1, 1), bool),
        False,
        in_range,
    )


@pytest.mark.parametrize(
    ("offsets", "res_m", "range_m"),
    [
        ((-20, -28), 0.5, 2.5),  # 3-4-5 cells: distances exactly on the range count as in it
        ((-20, -28), 0.5, 10.0),  # (20, 0) and (12, 16) exactly on it
        ((-20, -28), 0.5, 10.0 - 1e-12),  # just short of it: they drop out
        ((-3, 5), 0.1, 1.3),  # 0.1 m is not exact in binary: the edge as the products round
        ((-3, 5), 0.1, 4.7),
        ((7, -60), 5.0, 1e9),  # everything
        ((7, -60), 5.0, 1.0),  # nothing
    ],
)
def test_the_disc_in_the_kernel_counts_what_numpy_hypot_counts(offsets, res_m, range_m):
    rows = np.arange(41) + offsets[0]
    cols = np.arange(57) + offsets[1]
    array = res_m * np.hypot(rows[:, None], cols[None, :]) <= range_m
    want = counts(array)
    got = counts((offsets[0], offsets[1], res_m, range_m))
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g)
    assert 0 < want[1].sum() < want[0].sum() or range_m in (1e9, 1.0)


def test_the_compiled_exponential_integral_is_scipys_to_float64_rounding():
    # both branches and their seam at x = 2, up to where exp(-x) underflows
    x = np.concatenate([np.logspace(-6, np.log10(700.0), 20001), np.linspace(1.9, 2.1, 2001)])
    got = np.array([_rk.exp1(v) for v in x])
    want = exp1(x)
    assert np.all(np.abs(got - want) <= 1e-13 * want)


@pytest.mark.parametrize("shape", [(517, 263), (140003,), (3, 40000), ()])
def test_the_rock_risk_is_the_formula_to_float32_rounding(shape):
    # shapes whose bands end mid-row and mid-vector, abundances from none to boulder fields
    rng = np.random.default_rng(1)
    k = rng.uniform(0.0, 0.3, size=shape)
    if shape:
        k.flat[::97] = 0.0
        k.flat[::101] = 10.0 ** rng.uniform(-6, -2, size=k.flat[::101].shape)
        k.flat[5] = np.nan
    kw = {"height_m": 0.06, "resolved_diameter_m": 1.0, "footprint_area_m2": 0.17}
    got = unresolved_rock_risk(k, **kw)
    # the straightforward formula: numpy and scipy over the whole layer at once
    n = golombek_cumulative(0.12, k) - golombek_cumulative(1.0, k)
    want = (1.0 - np.exp(-np.maximum(n, 0.0) * 0.17)).astype(np.float32)
    assert got.shape == k.shape and got.dtype == np.float32
    # float64 rounding differs (scipy's E1 and numpy's exp against the compiled ones): the
    # float32 results are equal but where the float64 value lies at a float32 rounding edge,
    # and for risks below 1e-9, where 1 - exp(-n A) itself is only good to float64's 1.1e-16
    # near 1 (both ways compute it so)
    tol = np.maximum(np.spacing(want), 2.0**-52)
    assert np.all(np.abs(got.astype(float) - want) <= tol)
    assert np.mean(got == want) >= 0.995
    assert np.all(got[~(k > 0)] == 0) and got.max() > 0.01


def test_the_shadow_sweep_walks_every_step_that_lies_on_the_grid():
    rng = np.random.default_rng(2)
    for _ in range(3000):
        length = int(rng.integers(1, 300))
        width = int(rng.integers(1, 300))
        m = float(rng.choice([0.0, 1e-12, -1e-12, 1.0, -1.0]) or rng.uniform(-1, 1))
        base = float(rng.uniform(-width - length, width + length))
        lo, hi = _steps_on_grid(base, m, width, length)
        on = [k for k in range(length) if -1.0 < base + k * m < width]
        assert 0 <= lo <= hi <= length
        assert all(lo <= k < hi for k in on)


def _grow_by_hand(tophat, peak_r, peak_c, max_radius_px):
    """The region growing of ``_rk.grow_rocks`` in plain Python, every test at every step."""
    rows, cols = tophat.shape
    labels = np.zeros(tophat.shape, np.int32)
    sums = []
    for k, (r0, c0) in enumerate(zip(peak_r, peak_c, strict=True)):
        if labels[r0, c0]:
            sums.append(None)
            continue
        h = tophat[r0, c0]
        labels[r0, c0] = k + 1
        stack, seen = [(r0, c0)], []
        while stack:
            r, c = stack.pop()
            seen.append((r, c))
            w = tophat[r, c]
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr, dc) == (0, 0) or not (0 <= rr < rows and 0 <= cc < cols):
                        continue
                    if max(abs(rr - r0), abs(cc - c0)) > max_radius_px or labels[rr, cc]:
                        continue
                    v = tophat[rr, cc]
                    if 0.5 * h <= v <= h and v <= w + 0.1 * h:
                        labels[rr, cc] = k + 1
                        stack.append((rr, cc))
        sums.append(seen)
    return labels, sums


@pytest.mark.parametrize("radius", [1, 2, 4])
def test_the_rock_regions_grow_as_the_plain_loop_grows_them(radius):
    # bumps touching the grid's edges and each other, tallest first as detect_rocks orders them
    rng = np.random.default_rng(radius)
    tophat = np.abs(rng.normal(size=(23, 31))).astype(np.float32)
    pr, pc = np.nonzero(tophat > 1.0)
    order = np.lexsort((pc, pr, -tophat[pr, pc]))
    pr, pc = pr[order].astype(np.int64), pc[order].astype(np.int64)
    labels = np.zeros(tophat.shape, np.int32)
    stats = _rk.grow_rocks(tophat, pr, pc, radius, labels)
    want, seen = _grow_by_hand(tophat, pr, pc, radius)
    assert np.array_equal(labels, want)
    for k, cells in enumerate(seen):
        if cells is None:
            assert stats[k, 0] == 0
            continue
        r = np.array([p[0] for p in cells], float)
        c = np.array([p[1] for p in cells], float)
        w = tophat[r.astype(int), c.astype(int)].astype(float)
        assert stats[k, 0] == 1 and stats[k, 1] == len(cells)
        assert stats[k, 2] == pytest.approx(w.sum()) and stats[k, 3] == pytest.approx((w * r).sum())
        assert stats[k, 9] == pytest.approx((r * c).sum())
    # regions grew past their peak, and some peaks fell inside a taller rock's region
    assert max(len(c) for c in seen if c) >= 5 and any(c is None for c in seen)


@pytest.mark.parametrize("nodata", [np.nan, -9999.0, None])
def test_a_dem_reads_nodata_where_gdals_mask_says(tmp_path, nodata):
    # NaN nodata is read from the NaN cells (no second decode); other nodata from GDAL's mask
    z = np.linspace(-50.0, 50.0, 40 * 30, dtype=np.float32).reshape(40, 30)
    z[3:7, 4:9] = np.nan
    z[12, 3] = -9999.0
    path = tmp_path / "dem.tif"
    grid = Dem.from_array(z, res_m=1.0, crs=local_metric_crs(60.5, -4.6))
    with rasterio.open(
        path, "w", driver="GTiff", width=30, height=40, count=1, dtype="float32",
        crs=grid.crs, transform=grid.transform, nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(z, 1)
    with rasterio.open(path) as src:
        gdal_valid = src.read_masks(1).astype(bool)
    got = read_dem(path).elevation
    assert np.array_equal(np.isnan(got), ~gdal_valid | np.isnan(z))
    assert np.array_equal(got[gdal_valid & ~np.isnan(z)], z[gdal_valid & ~np.isnan(z)])


def _moment_sums_by_hand(z, block, lags):
    """Counts, sums and sums of squares of each block's differences, in raster order (floats)."""
    rows, cols = z.shape
    out = np.zeros((-(-rows // block), -(-cols // block), 6 * len(lags)))
    for bi in range(out.shape[0]):
        for bj in range(out.shape[1]):
            r0, r1 = bi * block, min(bi * block + block, rows)
            c0, c1 = bj * block, min(bj * block + block, cols)
            acc = [0.0] * (6 * len(lags))
            for i in range(r0, r1):
                for j in range(c0, c1):
                    z0 = float(z[i, j])
                    for li, lag in enumerate(lags):
                        for k, (ii, jj, inside) in enumerate(
                            [(i, j + lag, j + lag < c1), (i + lag, j, i + lag < r1)]
                        ):
                            if not inside:
                                continue
                            d = float(z[ii, jj]) - z0
                            if d == d:
                                acc[6 * li + 3 * k] += 1.0
                                acc[6 * li + 3 * k + 1] += d
                                acc[6 * li + 3 * k + 2] += d * d
            out[bi, bj] = acc
    return out


def test_the_block_moments_are_the_raster_order_sums_bit_for_bit():
    # The kernel keeps its eighteen sums in scalars; each still adds its terms in raster order,
    # so the sums are the plain loop's exactly (a reordered sum differs in the last bits).
    rng = np.random.default_rng(11)
    z = (1500.0 + np.cumsum(rng.normal(0.0, 0.3, (150, 130)), axis=1)).astype(np.float32)
    z[10:20, 40:45] = np.nan
    z[rng.random(z.shape) < 0.01] = np.nan
    got = block_moments(z)[..., : 6 * len(LAGS_PX)]
    want = _moment_sums_by_hand(z, 64, LAGS_PX)
    assert np.array_equal(got, want)


@njit
def _tan_deg(s):
    """tan of a float32 slope in degrees as the kernel takes it (numba keeps float32 there)."""
    return math.tan(math.radians(s))


@pytest.mark.parametrize("sigma_type", [np.float64, np.float32])
def test_the_fusion_reads_the_rice_table_as_the_plain_lookup_does(sigma_type):
    # The fusion interpolates each block's column of the table once; the risk of every cell
    # must be the plain lookup's, bit for bit: a window starting mid-block (its block columns
    # offset from the grid's), blocks without spread, with w beyond the table (Gaussian tail)
    # and inside it, rows crossing block rows within each thread's piece; a float32 spread
    # divides the float32 tangent in float32, as the lookup per cell did.
    rng = np.random.default_rng(5)
    table = rice_tail_table()
    block, shape, row0, col0 = 8, (53, 45), 5, 11
    sigma = rng.choice([0.0, 0.004, 0.03, 0.06, 0.2, 2.0], size=(9, 8)).astype(sigma_type)
    slope = rng.uniform(0.0, 20.0, shape).astype(np.float32)
    slope[rng.random(shape) < 0.03] = np.nan
    z = np.zeros(shape, np.float32)
    bits = np.empty(shape, np.uint8)
    risk = np.empty(shape, np.float32)
    cost = np.empty(shape, np.float32)
    max_slope = 15.0
    limits = np.array([max_slope, 0.4, 2.0, 2.0, 1.0])
    hk.fuse(
        z, slope, np.zeros((1, 1), np.float32), True, sigma, block, table, RICE_STEP,
        np.zeros((1, 1), bool), False, np.zeros((1, 1), np.float32), False, 0, 0, 1, 0.0, 0.0,
        row0, col0, 1.0, np.zeros(3), False, limits, bits, risk, cost,
    )  # fmt: skip
    tan_max = math.tan(math.radians(max_slope))
    one = np.float32(1.0)
    kinds = set()
    for i in range(shape[0]):
        for j in range(shape[1]):
            s = slope[i, j]
            ps = np.float32(0.0)
            sig = sigma[(row0 + i) // block, (col0 + j) // block]
            if s <= max_slope and sig > 0.0:
                u = np.float32(_tan_deg(s)) / sig  # float32 / the spread's type
                w = np.float64(tan_max) / sig  # float64
                ps = np.float32(hk.rice_lookup(table, RICE_STEP, u, w))
                kinds.add("tail" if w >= table.shape[0] * RICE_STEP else "table")
            want = one - (one - ps) * (one - np.float32(0.0))
            assert risk[i, j].tobytes() == np.float32(want).tobytes(), (i, j)
    assert kinds == {"tail", "table"} and (risk > 0).mean() > 0.3


@pytest.mark.parametrize("kind", ["uniform", "ties", "clustered", "one_value", "edges"])
def test_the_binned_bracket_selection_is_the_sorted_order(kind):
    # The bracket's values are counted into bins before the selection: ranks k and k + 1 are
    # those of the sorted values, including rank k + 1 from a bin above rank k's (the last of
    # its bin), ties spread over a bin edge, a bracket of one value (no width: plain selection).
    rng = np.random.default_rng(len(kind))
    seen_above = 0
    for _ in range(300):
        c = int(rng.integers(2, 900))
        if kind == "ties":
            x = rng.integers(0, 7, c).astype(float) * 0.125
        elif kind == "clustered":
            x = np.where(rng.random(c) < 0.9, 0.5, rng.uniform(0.0, 1.0, c))
        elif kind == "one_value":
            x = np.full(c, 0.3)
        elif kind == "edges":  # values on the bins' edges of [0, 1]
            x = rng.integers(0, BRACKET_BINS + 1, c) / BRACKET_BINS
        else:
            x = rng.uniform(-2.0, 3.0, c)
        k = int(rng.integers(0, c - 1))
        lo_v, hi_v = float(x.min()), float(x.max())
        got = _kth_pair_binned(x.copy(), c, k, lo_v, hi_v)
        want = np.sort(x)[[k, k + 1]]
        assert got == (want[0], want[1])
        # rank k + 1 came from a higher bin when k's value is the largest of its bin's values
        if lo_v < hi_v:
            b = np.clip(
                ((x - lo_v) * (BRACKET_BINS / (hi_v - lo_v))).astype(int), 0, BRACKET_BINS - 1
            )
            seen_above += int(
                b[np.argsort(x, kind="stable")][k + 1] != b[np.argsort(x, kind="stable")][k]
            )
    assert kind == "one_value" or seen_above > 0


def _widen_by_hand(bits, z, d_rows, d_cols):
    """The widening rule cell by cell.

    OBSTACLE from any obstacle at an offset, NODATA from any offset without a height or off
    the window, the cell's own bits kept.
    """
    rows, cols = bits.shape
    out = bits.copy()
    for i in range(rows):
        for j in range(cols):
            for dr, dc in zip(d_rows, d_cols, strict=True):
                ii, jj = i + dr, j + dc
                if not (0 <= ii < rows and 0 <= jj < cols):
                    out[i, j] |= hk.NODATA
                    continue
                if not np.isfinite(z[ii, jj]):
                    out[i, j] |= hk.NODATA
                out[i, j] |= bits[ii, jj] & hk.OBSTACLE
    return out


@pytest.mark.parametrize(
    ("shape", "radius_m", "res_m"),
    [((70, 41), 0.31, 0.5), ((150, 9), 0.9, 0.25), ((5, 200), 0.9, 0.25), ((33, 33), 0.1, 0.5)],
)
def test_the_widening_in_row_bands_is_the_rule_cell_by_cell(shape, radius_m, res_m):
    # Cells whose offsets all lie on the window OR one byte per neighbour along whole rows;
    # the rest test every offset. Holes, obstacles and other reasons (kept, never spread) near
    # and away from the edges; windows narrower or shorter than the disc; a disc of one cell;
    # more rows than one band.
    rng = np.random.default_rng(shape[0])
    z = rng.normal(size=shape).astype(np.float32)
    z[rng.random(shape) < 0.02] = np.nan
    bits = np.where(rng.random(shape) < 0.03, hk.OBSTACLE, 0).astype(np.uint8)
    bits |= np.where(rng.random(shape) < 0.05, hk.SLOPE | hk.LINK, 0).astype(np.uint8)
    d_rows, d_cols = widening_offsets(radius_m, res_m)
    out = np.empty(shape, np.uint8)
    cost = np.ones(shape, np.float32)
    hk.widen(bits, z, d_rows, d_cols, out, cost)
    want = _widen_by_hand(bits, z, d_rows, d_cols)
    assert np.array_equal(out, want)
    assert np.array_equal(np.isinf(cost), want != 0) and np.all(cost[want == 0] == 1.0)
    assert (want & hk.OBSTACLE).sum() > (bits & hk.OBSTACLE).sum() or d_rows.size == 1


@pytest.mark.parametrize("radius", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 1), (2, 7), (5, 5), (23, 31), (64, 3)])
def test_the_separable_peak_test_is_the_window_maximum_with_reflected_borders(shape, radius):
    # values on a 0.1 grid: ties inside windows, peaks on every edge and corner, grids narrower
    # than the window (the reflection folds more than once)
    rng = np.random.default_rng(radius * 100 + shape[0])
    t = np.round(np.abs(rng.normal(size=shape)), 1).astype(np.float32)
    rows, cols = _rk.find_peaks(t, np.float32(0.5), radius)
    ref = ndimage.maximum_filter(t, size=2 * radius + 1, mode="reflect")
    want = np.nonzero((t > 0.5) & (t >= ref))
    assert rows.dtype == np.int64 and cols.dtype == np.int64
    assert np.array_equal(rows, want[0]) and np.array_equal(cols, want[1])


@pytest.mark.parametrize("radius", [1, 3])
def test_the_kept_cells_from_the_peaks_boxes_are_the_mask_and_the_gather(radius):
    # regions grown as detect_rocks grows them (touching each other and the grid's edges), a
    # random half kept: the cells found in the kept peaks' boxes, in raster order, are the
    # whole grid's mask of kept labels
    rng = np.random.default_rng(radius)
    tophat = np.abs(rng.normal(size=(37, 53))).astype(np.float32)
    pr, pc = np.nonzero(tophat > 1.0)
    order = np.argsort(-tophat[pr, pc], kind="stable")
    pr, pc = pr[order].astype(np.int64), pc[order].astype(np.int64)
    labels = np.zeros(tophat.shape, np.int32)
    stats = _rk.grow_rocks(tophat, pr, pc, radius, labels)
    keep = (stats[:, 0] > 0) & (rng.random(pr.size) < 0.5)
    height = tophat[pr, pc].astype(np.float64)
    mask = (labels > 0) & keep[np.maximum(labels, 1) - 1]
    n_cells = int(stats[keep, 1].sum())
    index, cell_height = _rk.kept_cells(labels, keep, height, pr, pc, radius, n_cells)
    want = np.flatnonzero(mask)
    assert want.size == n_cells and stats[keep, 1].max() > 1  # regions of several cells
    assert index.dtype == np.int64 and np.array_equal(index, want)
    assert np.array_equal(cell_height, height[labels.ravel()[want] - 1].astype(np.float32))
    with pytest.raises(RuntimeError, match="kept rocks hold"):
        _rk.kept_cells(labels, keep, height, pr, pc, radius, n_cells - 1)


@pytest.mark.parametrize("holes", [False, True])
def test_the_rock_search_without_nodata_scans_finds_what_the_filled_search_finds(holes):
    # window_rocks skips the fill and the validity mask when there is no nodata, and
    # detect_rocks skips the lowest height: the catalogue and cells of the plain path
    site = synthesize(size_m=96.0, seed=4, rock_law="viper-high")
    z = site.dem.elevation.copy()
    if holes:
        z[10:30, 40:47] = np.nan
    limits = HazardLimits()
    zfill = float(np.nanmin(z))
    rocks, cells = window_rocks(z, site.dem.transform, limits, 0.5, zfill)
    valid = np.isfinite(z)
    want, want_cells = detect_rocks(
        np.where(valid, z, np.float32(zfill)).astype(np.float32),
        0.5,
        min_height_m=limits.obstacle_height_m,
        max_diameter_m=ROCK_SEARCH_M,
        transform=site.dem.transform,
    )
    on = valid.ravel()[want_cells.index]
    assert len(rocks) > 0
    for a, b in zip(
        (rocks.x, rocks.y, rocks.diameter_m, rocks.height_m),
        (want.x, want.y, want.diameter_m, want.height_m),
        strict=True,
    ):
        assert np.array_equal(a, b)
    assert np.array_equal(cells.index, want_cells.index[on])
    assert np.array_equal(cells.height_m, want_cells.height_m[on])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_row_by_row_nodata_scan_finds_every_nonfinite_cell(bad):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(9, 13)).astype(np.float32)
    assert not hk.has_nonfinite(z)
    for r, c in [(0, 0), (0, 12), (4, 6), (8, 0), (8, 12)]:
        holed = z.copy()
        holed[r, c] = bad
        assert hk.has_nonfinite(holed)
        assert hk.has_nonfinite(holed.astype(np.float64))
    assert not hk.has_nonfinite(np.zeros((0, 4), np.float32))
    assert not hk.has_nonfinite(np.zeros((4, 0), np.float32))


@njit(cache=False)
def _horn_cell_by_cell(z, k):
    rows, cols = z.shape
    out = np.full((rows, cols), np.nan, np.float32)
    for i in range(1, rows - 1):
        for j in range(1, cols - 1):
            out[i, j] = hk._horn_deg(z, i, j, k)
    return out


@pytest.mark.parametrize("shape", [(0, 0), (2, 9), (9, 2), (3, 3), (17, 23)])
def test_the_horn_slope_without_a_prefilled_grid_is_nan_on_the_edge_and_horn_inside(shape):
    rng = np.random.default_rng(11)
    # a grid that leaves garbage behind where the next one is allocated
    np.full(shape, 12.5, np.float32).sum()
    z = rng.normal(size=shape).astype(np.float32)
    if z.size:
        z.flat[z.size // 2] = np.nan  # its 3x3 windows are NaN in both
    got = hk.horn_slope_deg(z, 0.5)
    want = _horn_cell_by_cell(z, 1.0 / (8.0 * 0.5))
    assert got.shape == shape and np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize(("shape", "lander"), [((61, 83), (30, 41)), ((40, 97), (3, 90))])
def test_the_link_sweep_of_the_winning_samples_only_is_the_full_sweep(shape, lander):
    # The fast sweep finds first which sample each cell takes (its geometry alone) and computes
    # the margin of those only; the plain one computes every sample's and reduces. Rough ground
    # with holes makes neighbouring rays' samples differ, so a wrong winner or tie shows.
    rng = np.random.default_rng(7)
    z = np.cumsum(rng.normal(size=shape), axis=1).astype(np.float32) * 3.0
    z[rng.random(shape) < 0.003] = np.nan
    z[lander] = 1.0
    args = (z, 20.0, lander[0], lander[1], 2.3, 0.25, 1_737_400.0, 0.125, 140.0)
    fast = _lk._link_sweep(*args, winners_only=True)
    plain = _lk._link_sweep(*args, winners_only=False)
    assert np.isfinite(plain[0]).sum() > 0.5 * z.size and (plain[1] == 0).any()
    for a, b in zip(fast, plain, strict=True):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


@njit  # not cached: numba would not see a change to the inlined receiver
def _receivers(width, length, m, subpixel, plain):
    """Every line's receiver at every step: the sweep's test, or every candidate (plain)."""
    u0 = math.floor(min(0.0, -(length - 1) * m)) - 1.0
    n_lines = int(((width - 1) + max(0.0, -(length - 1) * m) - u0) * subpixel) + 3
    out = np.full((n_lines, length), -2, dtype=np.int64)
    for li in range(n_lines):
        base = u0 + li / subpixel
        for k in range(length):
            u = base + k * m
            if plain:
                out[li, k] = -1
                for j in range(int(math.floor(u + 0.5)) - 1, int(math.floor(u + 0.5)) + 2):
                    if 0 <= j < width and line_of(j, k, m, u0, subpixel) == li:
                        out[li, k] = j
            else:
                out[li, k] = receiver(li, k, m, u, u0, subpixel, width)
    return out


@pytest.mark.parametrize("subpixel", [1, 2, 3, 16])
@pytest.mark.parametrize("m", [0.5, -0.5, 1.0, 0.25, 1 / 3, -0.3249196962329063, 0.0, 0.9999])
def test_the_shadow_sweeps_receiver_is_the_one_candidate_whose_line_it_is(subpixel, m):
    # The sweep tests only the nearest cell for lines_per_cell >= 2 (a neighbour's own line is
    # a half cell away); with one line per cell exact half-cell ties go to a neighbour, which
    # the slopes 0.5 and 1 reach: the shortcut there would fail.
    fast = _receivers(37, 211, m, subpixel, False)
    plain = _receivers(37, 211, m, subpixel, True)
    assert (plain >= 0).sum() == 37 * 211  # every cell has its line
    np.testing.assert_array_equal(fast, plain)


@pytest.mark.parametrize("shape", [(1, 1), (7, 300), (64, 33)])
def test_the_blur_into_reused_buffers_is_the_blur_into_fresh_ones(shape):
    # The crater search blurs scale after scale into two result grids taken in turn and one
    # row-pass grid; they hold the last scale's numbers (here NaN first), which must all go.
    z = np.random.default_rng(3).normal(100.0, 5.0, shape).astype(np.float32)
    tmp = np.full(shape, np.nan, dtype=np.float32)
    buffers = [np.full(shape, np.nan, dtype=np.float32) for _ in range(2)]
    fresh = reused = z
    for i, (sigma, offset) in enumerate([(0.9, 100.0), (0.7, 0.0), (1.6, 0.0), (3.1, 0.0)]):
        fresh = _ck.gaussian_blur(fresh, sigma, offset)
        reused = _ck.gaussian_blur(reused, sigma, offset, out=buffers[i % 2], tmp=tmp)
        assert reused is buffers[i % 2]
        np.testing.assert_array_equal(reused.view(np.uint32), fresh.view(np.uint32))


def test_a_grid_without_holes_is_filled_as_itself_and_one_with_holes_as_a_copy():
    z = np.random.default_rng(4).normal(0.0, 1.0, (40, 50)).astype(np.float32)
    assert _filled(z) is z
    holed = z.copy()
    holed[3:9, 10:30] = np.nan
    filled = _filled(holed)
    assert filled is not holed and np.isnan(holed).sum() == 120
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~np.isnan(holed)], z[~np.isnan(holed)])


@pytest.mark.parametrize("shape", [(41, 57), (130, 9), (3, 200)])
def test_the_summary_sums_in_locals_are_the_cell_by_cell_sums_in_raster_order(shape):
    # The counting kernel keeps each chunk's sums in locals; they must be the float64 sums of
    # the chunk's cells in raster order. Magnitudes 1e-8 to 1e8 make any other order (or a
    # float32 sum) round differently.
    rng = np.random.default_rng(7)
    z = rng.normal(size=shape).astype(np.float32)
    z[rng.random(shape) < 0.05] = np.nan
    reasons = rng.integers(0, 64, size=shape).astype(np.uint8)
    magnitude = 10.0 ** rng.integers(-8, 9, size=shape)
    risk = (rng.random(shape) * magnitude).astype(np.float32)
    risk[rng.random(shape) < 0.1] = np.nan
    rock = (rng.random(shape) * magnitude[::-1, ::-1]).astype(np.float32)
    rock[rng.random(shape) < 0.1] = np.nan
    slope = (rng.random(shape) * 30).astype(np.float32)
    shadow = rng.random(shape) < 0.3
    in_range = rng.random(shape) < 0.5
    *_, sums = hk.window_counts(z, reasons, risk, rock, False, slope, shadow, True, in_range)
    n_chunks = min(shape[0], 64)
    want = np.zeros((n_chunks, 4))
    for ch in range(n_chunks):
        for i in range(ch * shape[0] // n_chunks, (ch + 1) * shape[0] // n_chunks):
            for j in range(shape[1]):
                if not np.isfinite(z[i, j]):
                    continue
                want[ch, 0] += 1.0
                want[ch, 1] += 1.0 if shadow[i, j] else 0.0
                if not np.isnan(risk[i, j]):
                    want[ch, 2] += float(risk[i, j])
                if not np.isnan(rock[i, j]):
                    want[ch, 3] += float(rock[i, j])
    np.testing.assert_array_equal(sums.view(np.uint64), want.sum(axis=0).view(np.uint64))


@pytest.mark.parametrize(
    "cells",
    [
        [3.5, np.nan, -2.25, 7.0],
        [np.nan, np.nan],
        [np.inf, 4.0, -np.inf, 9.0],  # -inf is nodata: 4 is the lowest
        [np.inf, np.nan],
        [-np.inf, -np.inf],
        [0.0, -0.0, 1.0],  # the loop keeps the zero it meets first
        [-0.0, 0.0, 1.0],
        [],
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_vectorised_lowest_finite_value_is_the_loops(cells, dtype):
    z = np.asarray(cells, dtype=dtype).reshape(1, -1)
    z = np.tile(z, (3, 1))[:, ::-1].copy()
    got, want = hk.lowest_finite(z), hk.finite_min(z)
    assert isinstance(got, float)
    assert np.array_equal(np.float64(got).view(np.uint64), np.float64(want).view(np.uint64))
