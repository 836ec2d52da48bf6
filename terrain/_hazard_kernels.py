"""Compiled hazard kernels: Horn slope, the footprint plane, fusion, widening and counts.

Keep-out reasons are bits of one uint8 per cell, in the order of ``terrain.hazard.REASONS``.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
from numba import njit

from .kernel_calls import readonly, split_range

NODATA, SLOPE, OBSTACLE, RISK, LANDER, LINK = (1 << k for k in range(6))
N_REASONS = 6
SLOPE_BINS = 9001
"""Bins of the slope histogram: 0.01 deg from 0 to 90 deg."""


@njit(cache=True, inline="always")
def _horn_deg(z, i, j, k):
    """Horn slope (deg) at interior cell (i, j) with k = 1 / (8 res); NaN if the 3x3 has NaN."""
    a = z[i - 1, j - 1]
    b = z[i - 1, j]
    c = z[i - 1, j + 1]
    d = z[i, j - 1]
    f = z[i, j + 1]
    g = z[i + 1, j - 1]
    h = z[i + 1, j]
    q = z[i + 1, j + 1]
    gx = ((c + 2.0 * f + q) - (a + 2.0 * d + g)) * k
    gy = ((a + 2.0 * b + c) - (g + 2.0 * h + q)) * k
    s = np.sqrt(gx * gx + gy * gy)
    return np.degrees(np.arctan(s))  # NaN anywhere in the window propagates here


@njit(cache=True, nogil=True)
def _horn_rows(z, k, out, lo, hi):
    """Rows ``1 + lo`` to ``1 + hi`` of :func:`horn_slope_deg`."""
    cols = z.shape[1]
    for i in range(1 + lo, 1 + hi):
        for j in range(1, cols - 1):
            out[i, j] = _horn_deg(z, i, j, k)


def horn_slope_deg(z: np.ndarray, res: float) -> np.ndarray:
    """Horn slope in degrees (as gdaldem); NaN on the edge and where the 3x3 window has NaN."""
    rows, cols = z.shape
    if min(rows, cols) < 3:  # no inner cell
        return np.full((rows, cols), np.nan, dtype=np.float32)
    out = np.empty((rows, cols), dtype=np.float32)  # the kernel writes every inner cell
    out[[0, -1], :] = np.nan
    out[:, [0, -1]] = np.nan
    k = 1.0 / (8.0 * res)
    split_range(partial(_horn_rows, readonly(z), k, out), max(rows - 2, 0))
    return out


def footprint_slope_deg(
    z: np.ndarray, d_rows: np.ndarray, d_cols: np.ndarray, wx: np.ndarray, wy: np.ndarray
) -> np.ndarray:
    """Slope (deg) of the weighted plane over a footprint at every cell.

    The footprint is the cells at offsets (``d_rows``, ``d_cols``) with gradient weights ``wx``,
    ``wy`` (a symmetric weighted least-squares plane: each gradient component is one weighted
    sum). NaN where the footprint touches nodata or leaves the grid.
    """
    rows, cols = z.shape
    out = np.full((rows, cols), np.nan, dtype=np.float32)
    reach = int(max(np.abs(d_rows).max(initial=0), np.abs(d_cols).max(initial=0)))
    args = (readonly(z), readonly(d_rows), readonly(d_cols), readonly(wx), readonly(wy))
    split_range(partial(_footprint_rows, *args, reach, out), max(rows - 2 * reach, 0))
    return out


@njit(cache=True, nogil=True)
def _footprint_rows(z, d_rows, d_cols, wx, wy, reach, out, lo, hi):
    """Rows ``reach + lo`` to ``reach + hi`` of :func:`footprint_slope_deg`."""
    cols = z.shape[1]
    for i in range(reach + lo, reach + hi):
        for j in range(reach, cols - reach):
            z0 = np.float64(z[i, j])
            gx = 0.0
            gy = 0.0
            for k in range(d_rows.size):
                v = z[i + d_rows[k], j + d_cols[k]] - z0
                gx += wx[k] * v
                gy += wy[k] * v
            out[i, j] = np.degrees(np.arctan(np.sqrt(gx * gx + gy * gy)))


@njit(cache=True, inline="always")
def rice_lookup(table, step, u, w):
    """Q1(u, w) from the normalised Rice tail table (bilinear); Gaussian where it ends.

    Beyond the table |g + e| is u plus a standard normal along g plus the sideways part,
    1 / (2 u) on average (a few 1e-4 off at u = 20).
    """
    if w - u > 8.0:
        return 0.0
    if u - w > 8.0:
        return 1.0
    n = table.shape[0]
    x = u / step
    y = w / step
    if x >= n - 1 or y >= n - 1:
        return 0.5 * math.erfc((w - u - 0.5 / max(u, 1.0)) / math.sqrt(2.0))
    i = int(x)
    j = int(y)
    fx = x - i
    fy = y - j
    a = table[i, j] * (1.0 - fy) + table[i, j + 1] * fy
    b = table[i + 1, j] * (1.0 - fy) + table[i + 1, j + 1] * fy
    return a * (1.0 - fx) + b * fx


@njit(cache=True, inline="always")
def rice_column(table, step, w, column):
    """The table's column at w, interpolated along w: ``column[i]`` is the ``a`` of row i.

    ``rice_lookup(table, step, u, w)`` then equals ``rice_from_column(column, ...)`` bit for
    bit (the same operations on the same numbers); False when w lies beyond the table (no
    column: the lookup never reads one there).
    """
    n = table.shape[0]
    y = w / step
    if y >= n - 1:
        return False
    j = int(y)
    fy = y - j
    for i in range(n):
        column[i] = table[i, j] * (1.0 - fy) + table[i, j + 1] * fy
    return True


@njit(cache=True, inline="always")
def rice_from_column(column, n, step, u, w, has_column):
    """:func:`rice_lookup` at (u, w) from w's interpolated column (:func:`rice_column`).

    The fusion's lookup: one sigma per block fixes w, and the column's values lie side by side
    where the table's rows are 1.6 kB apart (each lookup read four scattered table entries).
    """
    if w - u > 8.0:
        return 0.0
    if u - w > 8.0:
        return 1.0
    x = u / step
    if x >= n - 1 or not has_column:
        return 0.5 * math.erfc((w - u - 0.5 / max(u, 1.0)) / math.sqrt(2.0))
    i = int(x)
    fx = x - i
    return column[i] * (1.0 - fx) + column[i + 1] * fx


def fuse(*args: Any) -> None:
    """Keep-out reasons, risk and cost of every row, side by side; see :func:`_fuse_rows`."""
    split_range(partial(_fuse_rows, *args), args[0].shape[0])


@njit(cache=True, nogil=True)
def _fuse_rows(
    z,
    slope,
    rock_risk,
    rock_uniform,
    sigma_blocks,
    block,
    rice,
    rice_step,
    shadow,
    use_shadow,
    margin,
    use_link,
    link_r0,
    link_c0,
    link_f,
    x0,
    y0,
    row0,
    col0,
    res,
    lander_xyr,
    use_lander,
    limits,
    bits,
    risk,
    cost,
    lo,
    hi,
):
    """Keep-out reasons (before widening and obstacles), risk and cost (before keep-out).

    Rows ``lo:hi``; :func:`fuse` runs them side by side.

    ``limits`` holds max slope (deg), max risk, and the weights of slope, risk and shadow.
    ``rock_risk`` is one value (``rock_uniform``, read at [0, 0]) or a layer.
    The slope risk of a cell whose slope is within the limit is the Rice tail Q1(tan s / sigma,
    tan s_max / sigma) (``rice``, the table of ``rice_lookup``) with sigma the tilt spread of its
    block of ``block`` cells on the grid's lattice (``sigma_blocks``); a slope beyond the limit
    is certain, not a risk. With ``use_link`` the link margin of cell (i, j) is
    ``margin[(i - link_r0) // link_f, (j - link_c0) // link_f]`` (NaN or outside: no link).
    With ``use_lander`` cells whose centre lies within ``lander_xyr[2]`` of the lander
    (``lander_xyr[:2]``, map metres) are the lander's; the grid's top-left corner is at ``x0``,
    ``y0`` and the window starts at grid row ``row0``, column ``col0`` (centres are computed from
    the grid's corner, so every window gets the same numbers). Cost is float32:
    ``1 + w_s s / s_max + w_k risk / risk_max (+ w_sh)``.
    """
    rows, cols = z.shape
    max_slope = np.float32(limits[0])
    max_risk = np.float32(limits[1])
    w_slope = np.float32(limits[2])
    w_risk = np.float32(limits[3])
    w_shadow = np.float32(limits[4])
    one = np.float32(1.0)
    zero = np.float32(0.0)
    k_one = rock_risk[0, 0]
    tan_max = math.tan(math.radians(limits[0]))
    mr, mc = margin.shape
    lx, ly, lrad2 = lander_xyr[0], lander_xyr[1], lander_xyr[2] ** 2
    # Block and link-cell columns of every column, once: an integer division per cell and
    # lookup was the fusion's largest cost.
    block_col = np.empty(cols, np.int64)
    link_col = np.full(cols, -1, np.int64)
    for j in range(cols):
        block_col[j] = (col0 + j) // block
        jj = j - link_c0
        if jj >= 0 and jj // link_f < mc:
            link_col[j] = jj // link_f
    # Each block's sigma, w = tan s_max / sigma and the Rice table's column at w, per row of
    # blocks (recomputed when the rows cross into the next one): the same numbers the lookup
    # per cell computed, once per block.
    n_tab = rice.shape[0]
    bc0 = block_col[0] if cols else 0
    nb = (block_col[cols - 1] - bc0 + 1) if cols else 0
    sig_b = np.zeros(nb, sigma_blocks.dtype)  # nu / sig in the spread's own type, as before
    w_b = np.zeros(nb)
    has_col = np.zeros(nb, np.bool_)
    columns = np.empty((nb, n_tab))
    for j in range(cols):
        block_col[j] -= bc0
    current = -1
    for i in range(lo, hi):
        yc = y0 - (row0 + i + 0.5) * res
        block_row = (row0 + i) // block
        if block_row != current:
            current = block_row
            for t in range(nb):
                sig = sigma_blocks[block_row, bc0 + t]
                sig_b[t] = sig
                if sig > 0.0:
                    w_b[t] = tan_max / sig
                    has_col[t] = rice_column(rice, rice_step, w_b[t], columns[t])
        ii = i - link_r0
        link_row = ii // link_f if ii >= 0 and ii // link_f < mr else -1
        for j in range(cols):
            s = slope[i, j]
            zv = z[i, j]
            b = 0
            if not (zv - zv == 0 and s == s):  # no height, or no full slope window
                b |= NODATA
            if s > max_slope:
                b |= SLOPE
            # slope risk from the table, rock risk, combined as independent
            ps = zero
            if s <= max_slope:
                t = block_col[j]
                sig = sig_b[t]
                if sig > 0.0:
                    nu = math.tan(math.radians(s))
                    ps = np.float32(
                        rice_from_column(columns[t], n_tab, rice_step, nu / sig, w_b[t], has_col[t])
                    )
            pk = k_one if rock_uniform else rock_risk[i, j]
            if pk != pk:
                pk = zero
            r = one - (one - ps) * (one - pk)
            if zv - zv != 0:
                r = np.float32(np.nan)
            risk[i, j] = r
            if r > max_risk:
                b |= RISK
            if use_lander:
                xc = x0 + (col0 + j + 0.5) * res
                if (xc - lx) ** 2 + (yc - ly) ** 2 <= lrad2:
                    b |= LANDER
            if use_link:
                lc = link_col[j]
                if link_row < 0 or lc < 0 or not margin[link_row, lc] >= 0.0:
                    b |= LINK
            bits[i, j] = b
            ts = s / max_slope
            c = one + w_slope * (ts if ts == ts else zero)
            c = c + w_risk * (r / max_risk if r == r else zero)
            if use_shadow:
                c = c + (w_shadow if shadow[i, j] else zero)
            cost[i, j] = c


def widen(
    bits: np.ndarray,
    z: np.ndarray,
    d_rows: np.ndarray,
    d_cols: np.ndarray,
    out: np.ndarray,
    cost: np.ndarray,
) -> None:
    """Widen resolved hazards by the rover's footprint (rows side by side; see ``_widen_rows``)."""
    args = (readonly(bits), readonly(z), readonly(d_rows), readonly(d_cols), out, cost)
    split_range(partial(_widen_rows, *args), bits.shape[0])


@njit(cache=True, inline="always")
def _widened_cell(bits, z, d_rows, d_cols, i, j):
    """The reasons of cell (i, j) after widening, every offset tested against the window."""
    rows, cols = bits.shape
    b = bits[i, j]
    for k in range(d_rows.size):
        ii = i + d_rows[k]
        jj = j + d_cols[k]
        if ii < 0 or ii >= rows or jj < 0 or jj >= cols:
            b |= NODATA
        else:
            v = z[ii, jj]
            if not v - v == 0:
                b |= NODATA
            b |= bits[ii, jj] & OBSTACLE
    return b


_WIDEN_BAND = 64


@njit(cache=True, nogil=True)
def _widen_rows(bits, z, d_rows, d_cols, out, cost, lo, hi):
    """Widen resolved hazards by the rover's footprint: the reasons of the rover's centre.

    A cell takes the OBSTACLE bit of any obstacle cell, and the NODATA bit of any cell without
    a height (or off the window), at the offsets (``d_rows``, ``d_cols``): the cells a disc of
    the rover's radius around its centre touches. The other reasons are the cell's own (they
    already describe the rover standing there). Sets ``cost`` to inf where any reason is set.

    Cells whose offsets all lie on the window take the OR of one byte per neighbour (its
    OBSTACLE bit, and NODATA where it has no height), made once per band of rows and ORed
    offset by offset along whole rows (vectorised); the cells near the window's edge test
    every offset (:func:`_widened_cell`). The bits are the same either way.
    """
    rows, cols = bits.shape
    n = d_rows.size
    reach_r = 0
    reach_c = 0
    for k in range(n):
        reach_r = max(reach_r, abs(d_rows[k]))
        reach_c = max(reach_c, abs(d_cols[k]))
    hazard = np.empty((_WIDEN_BAND + 2 * reach_r, cols), dtype=np.uint8)
    acc = np.empty(cols, dtype=np.uint8)
    for b0 in range(lo, hi, _WIDEN_BAND):
        b1 = min(b0 + _WIDEN_BAND, hi)
        h0 = max(b0 - reach_r, 0)
        h1 = min(b1 + reach_r, rows)
        for r in range(h0, h1):
            for j in range(cols):
                v = z[r, j]
                hazard[r - h0, j] = (bits[r, j] & OBSTACLE) | (NODATA if not v - v == 0 else 0)
        for i in range(b0, b1):
            if i < reach_r or i >= rows - reach_r or cols <= 2 * reach_c:
                for j in range(cols):
                    b = _widened_cell(bits, z, d_rows, d_cols, i, j)
                    out[i, j] = b
                    if b != 0:
                        cost[i, j] = np.inf
                continue
            for j in range(cols):
                acc[j] = bits[i, j]
            for k in range(n):
                rr = i + d_rows[k] - h0
                dc = d_cols[k]
                for j in range(reach_c, cols - reach_c):
                    acc[j] |= hazard[rr, j + dc]
            for j in range(cols):
                if j < reach_c or j >= cols - reach_c:
                    b = _widened_cell(bits, z, d_rows, d_cols, i, j)
                else:
                    b = acc[j]
                out[i, j] = b
                if b != 0:
                    cost[i, j] = np.inf


def window_counts(
    z: np.ndarray,
    reasons: np.ndarray,
    risk: np.ndarray,
    rock_risk: np.ndarray,
    rock_uniform: bool,
    slope: np.ndarray,
    shadow: np.ndarray,
    use_shadow: bool,
    in_range: np.ndarray | tuple[int, int, float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counts behind the summary, over the valid cells (finite height) of a window.

    Returns (hist, hist_in_range, slope_hist, sums): the cells per reason byte, the same for
    cells in range, a histogram of slopes in 0.01 deg bins, and [valid, shadowed, risk sum,
    rock risk sum]. ``in_range`` is a bool array (one value at [0, 0] when it has size 1, else
    a layer) or a disc ``(row_offset, col_offset, res_m, range_m)``: cell (i, j) is in range
    when ``res_m * hypot(i + row_offset, j + col_offset) <= range_m``, the numbers numpy's
    ``res_m * np.hypot(rows, cols) <= range_m`` gives, without the whole-window float64 array
    (see :func:`_in_disc`). The rows go in 64 chunks (chunks side by side), summed in chunk
    order.
    """
    rows = z.shape[0]
    n_chunks = max(min(rows, 64), 1)
    hist = np.zeros((n_chunks, 256), dtype=np.int64)
    hist_r = np.zeros((n_chunks, 256), dtype=np.int64)
    shist = np.zeros((n_chunks, SLOPE_BINS), dtype=np.int64)
    sums = np.zeros((n_chunks, 4))
    use_disc = not isinstance(in_range, np.ndarray)
    disc = np.zeros(6)
    if use_disc:
        r_off, c_off, res_m, range_m = in_range
        t = range_m / res_m
        # squared distances (px^2, exact integers) surely inside and surely outside the disc
        disc[:] = (r_off, c_off, res_m, range_m, (t * (1 - 1e-9)) ** 2, (t * (1 + 1e-9)) ** 2)
        in_range = np.zeros((1, 1), dtype=bool)
    layers = (z, reasons, risk, rock_risk, rock_uniform, slope, shadow, use_shadow, in_range)
    layers = tuple(readonly(a) if isinstance(a, np.ndarray) else a for a in layers)
    args = (*layers, readonly(disc), use_disc, hist, hist_r, shist, sums)
    split_range(partial(_count_chunks, *args), n_chunks)
    return hist.sum(axis=0), hist_r.sum(axis=0), shist.sum(axis=0), sums.sum(axis=0)


@njit(cache=True, inline="always")
def _in_disc(disc, i, j):
    """Whether ``disc[2] * hypot(i + disc[0], j + disc[1]) <= disc[3]`` (see window_counts).

    The squared distance in pixels is an exact integer; only cells within a relative 1e-9 of
    the edge (``disc[4]`` to ``disc[5]``) need the expression itself, which is libm's hypot as
    in numpy, whose error (below an ulp) is far inside that margin.
    """
    a = i + disc[0]
    b = j + disc[1]
    d2 = a * a + b * b
    if d2 <= disc[4]:
        return True
    if d2 >= disc[5]:
        return False
    return disc[2] * math.hypot(a, b) <= disc[3]


@njit(cache=True, nogil=True)
def _count_chunks(
    z,
    reasons,
    risk,
    rock_risk,
    rock_uniform,
    slope,
    shadow,
    use_shadow,
    in_range,
    disc,
    use_disc,
    hist,
    hist_r,
    shist,
    sums,
    lo,
    hi,
):
    """Chunks ``lo:hi`` of :func:`window_counts`, into row ``ch`` of each count array."""
    rows, cols = z.shape
    n_chunks = hist.shape[0]
    one_range = in_range.size == 1
    k_one = rock_risk[0, 0]
    for ch in range(lo, hi):
        # the chunk's sums in locals (registers), not re-read and re-stored in ``sums`` at
        # every cell; the same additions in the same order, from the same zero
        n_valid = 0.0
        n_shadow = 0.0
        risk_sum = 0.0
        rock_sum = 0.0
        for i in range(ch * rows // n_chunks, (ch + 1) * rows // n_chunks):
            for j in range(cols):
                v = z[i, j]
                if not v - v == 0:
                    continue
                b = reasons[i, j]
                hist[ch, b] += 1
                if use_disc:
                    inside = _in_disc(disc, i, j)
                else:
                    inside = in_range[0, 0] if one_range else in_range[i, j]
                if inside:
                    hist_r[ch, b] += 1
                s = slope[i, j]
                if s == s:
                    shist[ch, min(int(s * 100.0), SLOPE_BINS - 1)] += 1
                n_valid += 1.0
                if use_shadow and shadow[i, j]:
                    n_shadow += 1.0
                r = risk[i, j]
                if r == r:
                    risk_sum += r
                k = k_one if rock_uniform else rock_risk[i, j]
                if k == k:
                    rock_sum += k
        sums[ch, 0] += n_valid
        sums[ch, 1] += n_shadow
        sums[ch, 2] += risk_sum
        sums[ch, 3] += rock_sum


@njit(cache=True, nogil=True)
def has_nonfinite(z):
    """True when any cell is NaN or infinite (nodata).

    Each row is ORed whole (a loop without an exit vectorises) and the scan stops after the
    first row that has one.
    """
    rows, cols = z.shape
    for i in range(rows):
        row = z[i]
        bad = 0
        for j in range(cols):
            v = row[j]
            bad |= np.int32(not v - v == 0)
        if bad:
            return True
    return False


def lowest_finite(z: np.ndarray) -> float:
    """Smallest finite value (NaN when there is none): :func:`finite_min`'s number, faster.

    numpy's ``fmin`` reduction (vectorised, NaN skipped) gives it when its result is finite and
    not zero: then no -inf was met and no finite value is lower. Otherwise (infinities, no
    data, or a zero whose sign the loop's first-met rule decides) the loop answers.
    """
    if z.size:
        m = float(np.fmin.reduce(z, axis=None))
        if math.isfinite(m) and m != 0.0:
            return m
    return float(finite_min(z))


@njit(cache=True, nogil=True)
def finite_min(z):
    """Smallest finite value (NaN when there is none)."""
    rows, cols = z.shape
    lo = np.full(rows, np.inf)
    for i in range(rows):
        m = np.inf
        for j in range(cols):
            v = z[i, j]
            if v < m and v - v == 0:
                m = v
        lo[i] = m
    m = lo.min() if rows else np.inf
    return m if m < np.inf else np.nan
