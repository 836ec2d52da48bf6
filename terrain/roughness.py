"""Roughness against baseline: the DEM's own scaling, and the tilt a rover meets below a pixel.

A DEM measures slope over its own smallest baseline (Horn's 3 x 3 window: two pixels), a rover
tilts over its wheelbase. When the wheelbase is shorter, the rover meets the measured slope plus
relief the DEM cannot show. How much relief hides there follows from how the DEM's relief grows
with baseline: for a self-affine surface the variogram (mean squared height difference over a
baseline b, the square of the deviogram LOLA's roughness maps use, Rosenburg et al. 2011) is
V(b) = V(res) (b / res)^(2H), H the Hurst exponent.

Measured here from height differences at lags of 1, 2 and 4 pixels along rows and columns,
detrended block by block: within each block of 64 x 64 cells the mean difference (the block's
regional slope) is removed, so a tilted plane has no roughness, and the pooled variance of the
differences is V(b). H is half the slope of log V against log b over the whole DEM. The
amplitude V(res) is taken block by block and robustly: the median of the squared one-pixel
differences (each direction less its median) over 0.455, the median of a chi-square with one
degree of freedom, so that a crater wall, a scarp or a rock, resolved and judged by slope and
obstacle already, does not make the plain around it rough. The blocks sit on a fixed lattice
(differences never leave their block) and are added in raster order, so a tiled run gets
exactly the numbers of the whole grid.

The rover's tilt along a heading u, t = (z(p + u L/2) - z(p - u L/2)) / L over its wheelbase L,
differs from the DEM's fitted slope g (Horn's, or a plane over the footprint when the DEM
resolves it) by a zero-mean error whose variance, for the fitted self-affine surface, is exact:
for weights c summing to zero, Var(sum c z) = -1/2 sum sum c_a c_b V(|x_a - x_b|). Averaged over
positions in the cell and headings, that gives sigma per slope component; the rover's tilt is
then g + e with e ~ N(0, sigma^2 I), and the chance that it exceeds a limit a is the Rice tail
P(|g + e| > a) = Q1(|g| / sigma, a / sigma) (Marcum's Q function), tabulated once by
quadrature of the Rice density in normalised units (:func:`rice_tail_table`).

DEM noise counts as roughness here (white noise has H = 0 and adds to V at every lag): the
extrapolation is conservative for noisy DEMs, and a plane with 3 cm of noise at 0.5 m still
gives a tilt spread of a few degrees only.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import special

from ._hazard_kernels import rice_lookup
from .kernel_calls import readonly, split_range

BLOCK_PX = 64
"""Side of the blocks the second-difference sums run over (a multiple divides every tile)."""
LAGS_PX = (1, 2, 4)
"""Lags of the second differences (pixels)."""
HURST_MAX = 0.98
"""Largest Hurst exponent used (1 is a smooth surface, where the extrapolation has no spread)."""
RICE_STEP = 0.05
"""Step of the normalised Rice tail table (in units of the tilt spread)."""
RICE_MAX = 20.0
"""Extent of the Rice tail table; beyond it the tail is Gaussian (see ``rice_tail``)."""


@njit(cache=True, nogil=True)
def _block_moments(z, block, lags, out, lo, hi):
    """Blocks ``lo:hi`` (row-major) of :func:`block_moments`, into ``out``.

    One pass over each block's cells feeds every lag and direction: each sum still takes its
    terms in raster order, so the numbers are those of one pass per lag and direction. The
    three lags' eighteen sums are scalars (registers, not an array in memory): ``lags`` holds
    three lags (:func:`block_moments` checks).
    """
    rows, cols = z.shape
    nbc = out.shape[1]
    l0 = lags[0]
    l1 = lags[1]
    l2 = lags[2]
    buf = np.empty(block * block)
    tmp = np.empty(block * block)
    for b in range(lo, hi):
        bi = b // nbc
        bj = b - bi * nbc
        r0 = bi * block
        r1 = min(r0 + block, rows)
        c0 = bj * block
        c1 = min(c0 + block, cols)
        n0 = s0 = q0 = m0 = t0 = p0 = 0.0  # lag 0: along rows (n, sum, sum of squares), columns
        n1 = s1 = q1 = m1 = t1 = p1 = 0.0
        n2 = s2 = q2 = m2 = t2 = p2 = 0.0
        for i in range(r0, r1):
            for j in range(c0, c1):
                z0 = np.float64(z[i, j])
                if j + l0 < c1:
                    d = np.float64(z[i, j + l0]) - z0
                    if d == d:
                        n0 += 1.0
                        s0 += d
                        q0 += d * d
                if i + l0 < r1:
                    d = np.float64(z[i + l0, j]) - z0
                    if d == d:
                        m0 += 1.0
                        t0 += d
                        p0 += d * d
                if j + l1 < c1:
                    d = np.float64(z[i, j + l1]) - z0
                    if d == d:
                        n1 += 1.0
                        s1 += d
                        q1 += d * d
                if i + l1 < r1:
                    d = np.float64(z[i + l1, j]) - z0
                    if d == d:
                        m1 += 1.0
                        t1 += d
                        p1 += d * d
                if j + l2 < c1:
                    d = np.float64(z[i, j + l2]) - z0
                    if d == d:
                        n2 += 1.0
                        s2 += d
                        q2 += d * d
                if i + l2 < r1:
                    d = np.float64(z[i + l2, j]) - z0
                    if d == d:
                        m2 += 1.0
                        t2 += d
                        p2 += d * d
        sums = (n0, s0, q0, m0, t0, p0, n1, s1, q1, m1, t1, p1, n2, s2, q2, m2, t2, p2)
        for k in range(18):
            out[bi, bj, k] = sums[k]
        out[bi, bj, 18] = _robust_v1(z, r0, r1, c0, c1, buf, tmp)


CHI2_1_MEDIAN = 0.454936
"""Median of a chi-square with one degree of freedom: median(x^2) / sigma^2 for x ~ N(0, s^2)."""
MEDIAN_SAMPLE = 256
"""Values sampled to bracket a block's median (see :func:`_kth_pair`)."""
MEDIAN_BRACKET = 20
"""Sample ranks on each side of the median's rank that bound the bracket: 2.5 standard
deviations of the rank of the median in a sample of 256 (sqrt(256) / 2 = 8), so the bracket
holds a fifth of a block's values and misses the median in a few selections in a thousand
(201 of 65,536 on the 8192^2 benchmark DEM), which then select over all their values. The
answer is exact either way; against 128 and 18 ranks (a quarter of the values inside) this
took 17 % less time on that DEM."""


@njit(cache=True, nogil=True)
def _select(a, k, lo, hi):
    """Put the k-th smallest of ``a[lo:hi + 1]`` at ``a[k]`` (quickselect, median of three)."""
    while hi > lo:
        mid = (lo + hi) >> 1
        if a[mid] < a[lo]:
            a[lo], a[mid] = a[mid], a[lo]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
            if a[mid] < a[lo]:
                a[lo], a[mid] = a[mid], a[lo]
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while pivot < a[j]:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        # now a[lo:j + 1] <= pivot <= a[i:hi + 1], and a[j + 1:i] == pivot
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(cache=True, nogil=True)
def _kth_pair(a, n, k, tmp):
    """The k-th and (k + 1)-th smallest of ``a[:n]`` (0-based), exactly; ``a`` is reordered.

    A sample of ``MEDIAN_SAMPLE`` values (at scattered positions) gives two values that
    bracket rank k with near certainty; one pass counts the values below the bracket and
    gathers those inside into ``tmp``, and the selection runs over the bracket only. When the
    bracket misses (counted, not assumed), the selection runs over all ``n``.
    """
    s = MEDIAN_SAMPLE
    if n >= 4 * s:
        samp = np.empty(s)
        for t in range(s):
            samp[t] = a[(t * 2654435761) % n]  # Knuth's multiplicative hash: scattered
        centre = (k * s) // n
        lo_r = centre - MEDIAN_BRACKET
        hi_r = centre + MEDIAN_BRACKET + 1
        # the two sample ranks by selection, not a sort: numba's sort costs seconds to compile
        lo_v = -np.inf
        hi_v = np.inf
        start = 0
        if lo_r > 0:
            _select(samp, lo_r, 0, s - 1)
            lo_v = samp[lo_r]
            start = lo_r + 1
        if hi_r < s - 1:
            _select(samp, hi_r, start, s - 1)
            hi_v = samp[hi_r]
        below = 0
        c = 0
        for t in range(n):
            x = a[t]
            below += x < lo_v
            tmp[c] = x
            c += (x >= lo_v) & (x <= hi_v)
        if below <= k and below + c >= k + 2:
            if lo_v > -np.inf and hi_v < np.inf:
                return _kth_pair_binned(tmp, c, k - below, lo_v, hi_v)
            _select(tmp, k - below, 0, c - 1)
            return tmp[k - below], _min_from(tmp, k - below + 1, c)
    _select(a, k, 0, n - 1)
    if k + 1 < n:
        return a[k], _min_from(a, k + 1, n)
    return a[k], a[k]


BRACKET_BINS = 32
"""Bins the bracket's values are counted into before the selection (see _kth_pair_binned)."""


@njit(cache=True, inline="always")
def _bin_of(x, lo_v, scale):
    """Bin of x in the bracket.

    A non-decreasing function of x (each operation rounds monotonically), so the bins hold the
    values in order whatever the rounding.
    """
    b = int((x - lo_v) * scale)
    return min(max(b, 0), BRACKET_BINS - 1)


@njit(cache=True, nogil=True)
def _kth_pair_binned(a, c, k, lo_v, hi_v):
    """The k-th and (k + 1)-th smallest of ``a[:c]``, all within [lo_v, hi_v]; ``a`` reordered.

    One pass counts the values per bin of the bracket, a second moves those of the bin holding
    rank k to the front (and keeps the smallest value of the bins above it), and the selection
    runs over that bin only: a few dozen values instead of the bracket's hundreds. Exact: the
    bins are ordered (:func:`_bin_of`), so rank k is the (k - values in lower bins)-th of its
    bin, and rank k + 1 the next one there or the smallest above the bin.
    """
    width = hi_v - lo_v
    if not (width > 0.0 and width < np.inf):
        _select(a, k, 0, c - 1)
        return a[k], _min_from(a, k + 1, c)
    scale = BRACKET_BINS / width
    counts = np.zeros(BRACKET_BINS, np.int64)
    for t in range(c):
        counts[_bin_of(a[t], lo_v, scale)] += 1
    target = 0
    before = 0
    while before + counts[target] <= k:
        before += counts[target]
        target += 1
    w = 0
    above = np.inf
    for t in range(c):
        x = a[t]
        b = _bin_of(x, lo_v, scale)
        if b == target:
            a[w] = x  # w <= t: the values not yet read are never overwritten
            w += 1
        elif b > target and x < above:
            above = x
    r = k - before
    _select(a, r, 0, w - 1)
    if r + 1 < w:
        return a[r], _min_from(a, r + 1, w)
    return a[r], above


@njit(cache=True, nogil=True, inline="always")
def _min_from(a, lo, hi):
    """The smallest of ``a[lo:hi]`` (lo < hi).

    After a selection of rank lo - 1 the values above it sit there, and the next rank is their
    minimum: one pass, not a second selection.
    """
    v = a[lo]
    for t in range(lo + 1, hi):
        if a[t] < v:
            v = a[t]
    return v


@njit(cache=True, nogil=True)
def _median(a, n, tmp):
    """Median of ``a[:n]`` (n >= 1), exactly as ``np.median``; ``a`` is reordered."""
    if n & 1:
        return _kth_pair(a, n, n >> 1, tmp)[0]
    lo, hi = _kth_pair(a, n, (n >> 1) - 1, tmp)
    return (lo + hi) / 2


@njit(cache=True, nogil=True)
def _robust_v1(z, r0, r1, c0, c1, buf, tmp):
    """Robust one-pixel variogram of a block (NaN: too few differences).

    The median squared deviation of the differences from their median, over the chi-square
    median, averaged over the two directions. ``buf`` and ``tmp`` are scratch of the block's
    size.
    """
    total = 0.0
    for direction in range(2):
        n = 0
        for i in range(r0, r1 - direction):
            for j in range(c0, c1 - 1 + direction):
                if direction == 0:
                    d = np.float64(z[i, j + 1]) - np.float64(z[i, j])
                else:
                    d = np.float64(z[i + 1, j]) - np.float64(z[i, j])
                if d == d:
                    buf[n] = d
                    n += 1
        if n < 8:
            return np.nan
        m = _median(buf, n, tmp)
        for k in range(n):
            buf[k] = (buf[k] - m) ** 2
        total += _median(buf, n, tmp)
    return 0.5 * total / CHI2_1_MEDIAN


def block_moments(z: np.ndarray) -> np.ndarray:
    """Counts, sums and sums of squares of height differences per block and lag.

    Shape (block rows, block cols, 6 x lags + 1): for each lag of ``LAGS_PX``, along rows then
    along columns; the last channel is the block's robust one-pixel variogram. Blocks are
    ``BLOCK_PX`` square from the array's corner; differences touching nodata are skipped.
    """
    rows, cols = z.shape
    nbr = (rows + BLOCK_PX - 1) // BLOCK_PX
    nbc = (cols + BLOCK_PX - 1) // BLOCK_PX
    lags = readonly(np.array(LAGS_PX, dtype=np.int64))
    assert lags.size == 3, "the moment kernel sums three lags (LAGS_PX)"
    out = np.zeros((nbr, nbc, 6 * lags.size + 1))
    z = readonly(np.ascontiguousarray(z))
    split_range(functools.partial(_block_moments, z, BLOCK_PX, lags, out), nbr * nbc)
    return out


@dataclass(frozen=True)
class RoughnessScaling:
    """How a DEM's relief grows with baseline: V(b) = v1 (b / res)^(2H).

    Attributes
    ----------
    res_m : float
        Pixel size.
    hurst : float
        Hurst exponent: half the slope of log V against log b at lags of 1, 2 and 4 pixels
        (clipped to [0, 0.98]).
    v1_m2 : float
        Variogram at one pixel (m^2), detrended.
    variogram_px_m2 : tuple of float
        Detrended variogram at each lag of ``LAGS_PX`` (m^2).
    samples : int
        Height differences behind the one-pixel value.
    """

    res_m: float
    hurst: float
    v1_m2: float
    variogram_px_m2: tuple[float, ...]
    samples: int

    def variogram_m2(self, baseline_m) -> np.ndarray:
        """Mean squared height difference over a baseline (m^2), from the fitted power law."""
        b = np.asarray(baseline_m, dtype=np.float64)
        return self.v1_m2 * (b / self.res_m) ** (2.0 * self.hurst)

    def rms_slope_deg(self, baseline_m) -> np.ndarray:
        """RMS slope along one direction over a baseline (degrees)."""
        b = np.asarray(baseline_m, dtype=np.float64)
        return np.degrees(np.arctan(np.sqrt(self.variogram_m2(b)) / b))


def scaling_from_moments(moments: np.ndarray, res_m: float) -> RoughnessScaling:
    """Fit the scaling to block moments from :func:`block_moments` (added in raster order)."""
    m = moments.reshape(-1, moments.shape[-1])[:, : 6 * len(LAGS_PX)]
    n, s1, s2 = m[:, 0::3], m[:, 1::3], m[:, 2::3]  # (blocks, lag x direction)
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(n > 0, s2 - s1 * s1 / np.maximum(n, 1.0), 0.0)
    n_lag = n.sum(axis=0).reshape(-1, 2).sum(axis=1)
    ss_lag = within.sum(axis=0).reshape(-1, 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(n_lag > 0, np.maximum(ss_lag, 0.0) / np.maximum(n_lag, 1.0), np.nan)
    lags = np.array(LAGS_PX, dtype=np.float64)
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() >= 2:
        slope = np.polyfit(np.log(lags[ok]), np.log(v[ok]), 1)[0]
        hurst = float(np.clip(0.5 * slope, 0.0, HURST_MAX))
    else:
        hurst = HURST_MAX
    v1 = float(v[0]) if ok[0] else 0.0
    return RoughnessScaling(float(res_m), hurst, v1, tuple(float(x) for x in v), int(n_lag[0]))


def block_variogram(moments: np.ndarray) -> np.ndarray:
    """Each block's robust one-pixel variogram (m^2), NaN where it holds too few differences."""
    return moments[..., 6 * len(LAGS_PX)]


def roughness_scaling(z: np.ndarray, res_m: float) -> RoughnessScaling:
    """The scaling of a whole DEM (NaN for nodata), from detrended height differences.

    Examples
    --------
    White noise has no scaling (H = 0) and a variogram of twice its variance at every lag:

    >>> z = np.random.default_rng(0).normal(0.0, 0.03, (256, 256)).astype(np.float32)
    >>> s = roughness_scaling(z, 0.5)
    >>> round(s.hurst, 2), round(s.v1_m2 / (2 * 0.03**2), 2)
    (0.0, 1.0)
    """
    return scaling_from_moments(block_moments(z), res_m)


# --------------------------------------------------------------------------------------------
# the rover's tilt against the DEM's slope


def horn_weights(res_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets (x east, y north, m) and x/y gradient weights of Horn's 3 x 3 slope."""
    x = np.array([-1.0, 0.0, 1.0] * 3) * res_m
    y = np.repeat([1.0, 0.0, -1.0], 3) * res_m
    k = 1.0 / (8.0 * res_m)
    wx = np.array([-1, 0, 1, -2, 0, 2, -1, 0, 1], dtype=np.float64) * k
    wy = np.array([1, 2, 1, 0, 0, 0, -1, -2, -1], dtype=np.float64) * k
    return np.column_stack([x, y]), wx, wy


def footprint_weights(res_m: float, diameter_m: float, supersample: int = 8):
    """Cell offsets and plane-fit weights of a disc footprint of ``diameter_m``.

    Each cell counts by the share of its area inside the disc (sampled ``supersample``^2 times),
    so the footprint is the true metric disc, not a rounded window. Returns the (row, col)
    offsets, the (x, y) positions (m) and the x and y gradient weights of the weighted
    least-squares plane (the disc is symmetric, so each gradient is one weighted sum).
    """
    radius = 0.5 * diameter_m
    k = int(math.ceil(radius / res_m + 0.5))
    u = (np.arange(supersample) + 0.5) / supersample - 0.5
    rows, cols, area = [], [], []
    for di in range(-k, k + 1):
        for dj in range(-k, k + 1):
            sx = (dj + u[None, :]) * res_m
            sy = (di + u[:, None]) * res_m
            a = float(np.mean(sx**2 + sy**2 <= radius**2))
            if a > 0:
                rows.append(di)
                cols.append(dj)
                area.append(a)
    rows = np.array(rows, dtype=np.int64)
    cols = np.array(cols, dtype=np.int64)
    w = np.array(area)
    x = cols * res_m
    y = -rows * res_m  # rows grow south
    sxx = float(np.sum(w * x * x))
    return rows, cols, np.column_stack([x, y]), w * x / sxx, w * y / sxx


def _pair_variance(points: np.ndarray, coef: np.ndarray, hurst: float, res_m: float) -> float:
    """Var(sum coef z(points)) / V(res) for a self-affine surface (coef sums to zero)."""
    diff = points[:, None, :] - points[None, :, :]
    dist = np.sqrt(np.sum(diff**2, axis=-1)) / res_m
    vario = np.where(dist > 0, dist ** (2.0 * hurst), 0.0)  # V(0) = 0, also for H = 0
    return float(-0.5 * coef @ vario @ coef)


def tilt_sigma(
    scaling: RoughnessScaling,
    wheelbase_m: float,
    fit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    *,
    positions: int = 4,
    headings: int = 8,
) -> float:
    """Spread (tan units, one component) of the rover's tilt around the DEM's fitted slope.

    Parameters
    ----------
    scaling : RoughnessScaling
    wheelbase_m : float
        Baseline of the rover's tilt.
    fit : (points, wx, wy), optional
        Positions (m, relative to the cell centre) and gradient weights of the DEM's slope
        estimate; default Horn's 3 x 3.
    positions, headings : int
        Rover positions per cell side and headings over 180 degrees averaged over.
    """
    return tilt_sigma_unit(scaling, wheelbase_m, fit, positions=positions, headings=headings) * (
        math.sqrt(max(scaling.v1_m2, 0.0))
    )


def tilt_sigma_unit(
    scaling: RoughnessScaling,
    wheelbase_m: float,
    fit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    *,
    positions: int = 4,
    headings: int = 8,
) -> float:
    """:func:`tilt_sigma` per square root of the one-pixel variogram (1 / m).

    The spread of a block is this times the square root of its own V(res).
    """
    pts, wx, wy = fit if fit is not None else horn_weights(scaling.res_m)
    h = min(scaling.hurst, HURST_MAX)
    offs = ((np.arange(positions) + 0.5) / positions - 0.5) * scaling.res_m
    total, n = 0.0, 0
    for ang in np.arange(headings) * math.pi / headings:
        ux, uy = math.cos(ang), math.sin(ang)
        w_fit = ux * wx + uy * wy
        for ox in offs:
            for oy in offs:
                half = 0.5 * wheelbase_m
                ends = np.array(
                    [[ox + half * ux, oy + half * uy], [ox - half * ux, oy - half * uy]]
                )
                points = np.vstack([ends, pts])
                coef = np.concatenate([[1.0 / wheelbase_m, -1.0 / wheelbase_m], -w_fit])
                total += _pair_variance(points, coef, h, scaling.res_m)
                n += 1
    return float(math.sqrt(max(total / n, 0.0)))


@functools.lru_cache(maxsize=1)
def rice_tail_table() -> np.ndarray:
    """Q1(u, w): the chance that |g + e| > a for e ~ N(0, I_2), |g| = u, a = w (normalised).

    Rows are u, columns w, both at ``RICE_STEP`` from 0 to ``RICE_MAX``. By quadrature of the
    Rice density r exp(-(r - u)^2 / 2) i0e(r u) over r (trapezoids of ``RICE_STEP`` / 4), summed
    from 12 beyond the table inwards: within 3e-4 of the noncentral chi-square's tail
    (tests). Computed once per process (a fraction of a second).
    """
    n = int(round(RICE_MAX / RICE_STEP)) + 1
    fine = 4
    r = np.arange((n - 1) * fine + 1 + 240 * fine) * (RICE_STEP / fine)  # past RICE_MAX by 12
    out = np.empty((n, n), dtype=np.float32)
    for i in range(n):
        u = i * RICE_STEP
        f = r * np.exp(-0.5 * (r - u) ** 2) * special.i0e(r * u)
        seg = 0.5 * (f[1:] + f[:-1]) * (RICE_STEP / fine)
        tail = np.concatenate([np.cumsum(seg[::-1])[::-1], [0.0]])  # integral from r_k outwards
        out[i] = np.clip(tail[::fine][:n], 0.0, 1.0)
    return out


def rice_tail(u, w) -> np.ndarray:
    """Q1(u, w) from :func:`rice_tail_table` (bilinear), Gaussian beyond it (vectorised)."""
    u = np.asarray(u, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    t = rice_tail_table()
    out = np.empty(np.broadcast(u, w).shape)
    flat_u, flat_w = np.broadcast_arrays(u, w)
    for k, (a, b) in enumerate(zip(flat_u.ravel(), flat_w.ravel(), strict=True)):
        out.flat[k] = rice_lookup(t, RICE_STEP, a, b)
    return out


__all__ = [
    "BLOCK_PX",
    "LAGS_PX",
    "RoughnessScaling",
    "block_moments",
    "block_variogram",
    "footprint_weights",
    "horn_weights",
    "rice_tail",
    "rice_tail_table",
    "roughness_scaling",
    "scaling_from_moments",
    "tilt_sigma",
    "tilt_sigma_unit",
]
