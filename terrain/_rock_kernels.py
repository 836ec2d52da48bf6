"""Compiled rock kernels: the morphological top-hat, peak finding and per-peak flood fills.

The opening is van Herk / Gil-Werman's min and max filters (three comparisons per cell whatever
the window), separable along rows and columns. Each pass extends its input beyond the edge by
point reflection through the edge cell (z[-k] = 2 z[0] - z[k]), so a tilted plane continues as
the same plane, its opening is itself, and no rock appears at the grid edge (a mirrored or
repeated border would make a ridge or a ledge there). Min and max are exact: each pass equals
scipy.ndimage's 1-D minimum or maximum filter on the point-reflected input, bit for bit.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from numba import njit

from .kernel_calls import readonly, split_range


@njit(cache=True, inline="always")
def _reflect(j, n):
    """scipy.ndimage's ``reflect`` border (d c b a | a b c d | d c b a), any distance out."""
    while j < 0 or j >= n:
        if j < 0:
            j = -j - 1
        else:
            j = 2 * n - j - 1
    return j


@njit(cache=True, inline="always")
def _odd_row(src, i, j, n):
    """src[i, j] of a row extended by point reflection through its end cells."""
    if j < 0:
        return 2 * src[i, 0] - src[i, min(-j, n - 1)]
    if j >= n:
        return 2 * src[i, n - 1] - src[i, max(2 * (n - 1) - j, 0)]
    return src[i, j]


@njit(cache=True, inline="always")
def _odd_col(src, s, c, n):
    """src[s, c] of a column extended by point reflection through its end cells."""
    if s < 0:
        return 2 * src[0, c] - src[min(-s, n - 1), c]
    if s >= n:
        return 2 * src[n - 1, c] - src[max(2 * (n - 1) - s, 0), c]
    return src[s, c]


@njit(cache=True, inline="always")
def _pick(a, b, use_max):
    if use_max:
        return a if a >= b else b
    return a if a <= b else b


_ROW_BLOCK = 16


@njit(cache=True, nogil=True)
def _filter_rows(src, w, use_max, out, lo, hi):
    """Running min (or max) over ``w`` cells along each row (w odd), row blocks ``lo:hi``.

    Rows go ``_ROW_BLOCK`` at a time through a transposed buffer, so the prefix and suffix
    recurrences run along the buffer's first axis with the rows side by side (vectorised).
    """
    rows, cols = src.shape
    r = w // 2
    n = cols + 2 * r
    p = np.empty((n, _ROW_BLOCK), dtype=src.dtype)
    g = np.empty((n, _ROW_BLOCK), dtype=src.dtype)
    h = np.empty((n, _ROW_BLOCK), dtype=src.dtype)
    for bi in range(lo, hi):
        i0 = bi * _ROW_BLOCK
        m = min(_ROW_BLOCK, rows - i0)
        for q in range(m):
            for k in range(r):
                p[k, q] = _odd_row(src, i0 + q, k - r, cols)
                p[n - 1 - k, q] = _odd_row(src, i0 + q, cols + r - 1 - k, cols)
            for j in range(cols):
                p[r + j, q] = src[i0 + q, j]
        for q in range(m, _ROW_BLOCK):
            for k in range(n):
                p[k, q] = p[k, 0]
        for b0 in range(0, n, w):
            b1 = min(b0 + w, n)
            for q in range(_ROW_BLOCK):
                g[b0, q] = p[b0, q]
            for k in range(b0 + 1, b1):
                for q in range(_ROW_BLOCK):
                    g[k, q] = _pick(g[k - 1, q], p[k, q], use_max)
            for q in range(_ROW_BLOCK):
                h[b1 - 1, q] = p[b1 - 1, q]
            for k in range(b1 - 2, b0 - 1, -1):
                for q in range(_ROW_BLOCK):
                    h[k, q] = _pick(h[k + 1, q], p[k, q], use_max)
        for q in range(m):
            for j in range(cols):
                out[i0 + q, j] = _pick(h[j, q], g[j + w - 1, q], use_max)


@njit(cache=True, nogil=True)
def _filter_cols(src, w, use_max, out, lo, hi):
    """Running min (or max) over ``w`` cells down each column, padded-row blocks ``lo:hi``.

    The padded rows fall in blocks of ``w``; output row j takes the suffix of its block and the
    prefix of the next. Each task builds those two for one block, walking whole rows.
    """
    rows, cols = src.shape
    r = w // 2
    n = rows + 2 * r
    h = np.empty((w, cols), dtype=src.dtype)
    g = np.empty((w, cols), dtype=src.dtype)
    for b in range(lo, hi):
        k0 = b * w
        if k0 >= rows:  # no output row starts in this block
            continue
        last = min(k0 + w, n) - 1
        s = last - r
        for c in range(cols):
            h[last - k0, c] = _odd_col(src, s, c, rows)
        for k in range(last - 1, k0 - 1, -1):
            s = k - r
            if 0 <= s < rows:
                for c in range(cols):
                    h[k - k0, c] = _pick(h[k - k0 + 1, c], src[s, c], use_max)
            else:
                for c in range(cols):
                    h[k - k0, c] = _pick(h[k - k0 + 1, c], _odd_col(src, s, c, rows), use_max)
        k1 = k0 + w
        end = min(k1 + w, n)
        if k1 < n:
            s = k1 - r
            for c in range(cols):
                g[0, c] = _odd_col(src, s, c, rows)
            for k in range(k1 + 1, end):
                s = k - r
                if 0 <= s < rows:
                    for c in range(cols):
                        g[k - k1, c] = _pick(g[k - k1 - 1, c], src[s, c], use_max)
                else:
                    for c in range(cols):
                        g[k - k1, c] = _pick(g[k - k1 - 1, c], _odd_col(src, s, c, rows), use_max)
        for j in range(k0, min(k0 + w, rows)):
            e = j + w - 1  # last padded row of the window, in this block or the next
            if e < k1:
                for c in range(cols):
                    out[j, c] = h[j - k0, c]
            else:
                for c in range(cols):
                    out[j, c] = _pick(h[j - k0, c], g[e - k1, c], use_max)


def grey_opening(z: np.ndarray, w: int) -> np.ndarray:
    """Grey opening of ``z`` with a ``w`` x ``w`` square (w odd), point-reflected borders.

    Erosion then dilation, each a row pass and a column pass (about four passes over ``z``).
    """
    a = np.empty_like(z)
    b = np.empty_like(z)
    rows = z.shape[0]
    row_blocks = (rows + _ROW_BLOCK - 1) // _ROW_BLOCK
    col_blocks = (rows + 2 * (w // 2) + w - 1) // w
    split_range(partial(_filter_rows, readonly(z), w, False, a), row_blocks)
    split_range(partial(_filter_cols, readonly(a), w, False, b), col_blocks)
    split_range(partial(_filter_rows, readonly(b), w, True, a), row_blocks)
    split_range(partial(_filter_cols, readonly(a), w, True, b), col_blocks)
    return b


@njit(cache=True, nogil=True)
def top_hat(z, opened):
    """``z - opened`` in place in ``opened``; non-finite cells of ``z`` (nodata) get 0."""
    rows, cols = z.shape
    for i in range(rows):
        for j in range(cols):
            v = z[i, j]
            opened[i, j] = v - opened[i, j] if v - v == 0 else 0.0


@njit(cache=True, nogil=True)
def fill_nodata(z, value):
    """Copy of ``z`` with NaN and infinite cells replaced by ``value``."""
    rows, cols = z.shape
    out = np.empty((rows, cols), dtype=z.dtype)
    for i in range(rows):
        for j in range(cols):
            v = z[i, j]
            out[i, j] = v if v - v == 0 else value
    return out


@njit(cache=True, nogil=True)
def _peak_rows(tophat, min_height, radius, peak, counts, lo, hi):
    """Rows ``lo:hi`` of :func:`find_peaks`: the window maximum as a column pass, then a row pass.

    The square's maximum is separable (the reflected neighbourhood is the product of a reflected
    row range and a reflected column range), and a maximum is exact: each cell's window maximum
    is the largest of the same values the cell-by-cell test compares with.
    """
    rows, cols = tophat.shape
    colmax = np.empty(cols + 2 * radius, dtype=tophat.dtype)
    winmax = np.empty(cols, dtype=tophat.dtype)
    inner = colmax[radius : radius + cols]
    # row slices, so the loops below vectorise (no aliasing between their arrays to prove)
    for i in range(lo, hi):
        inner[:] = tophat[_reflect(i - radius, rows)]
        for di in range(1 - radius, radius + 1):
            row = tophat[_reflect(i + di, rows)]
            for j in range(cols):
                v = row[j]
                c = inner[j]
                inner[j] = v if v > c else c
        for k in range(radius):
            colmax[k] = inner[_reflect(k - radius, cols)]
            colmax[radius + cols + k] = inner[_reflect(cols + k, cols)]
        winmax[:] = colmax[:cols]
        for dj in range(1, 2 * radius + 1):
            shifted = colmax[dj : dj + cols]
            for j in range(cols):
                v = shifted[j]
                w = winmax[j]
                winmax[j] = v if v > w else w
        found = 0
        row = tophat[i]
        marks = peak[i]
        for j in range(cols):
            v = row[j]
            p = (v > min_height) & (v >= winmax[j])
            marks[j] = p
            found += np.int64(p)
        counts[i] = found


def find_peaks(
    tophat: np.ndarray, min_height: np.float32, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cells above ``min_height`` that top their (2 radius + 1)^2 neighbourhood (ties count).

    Equals ``(t > min_height) & (t >= ndimage.maximum_filter(t, 2 radius + 1))`` with the
    ``reflect`` border for a finite ``tophat`` (the top-hat always is). Returns rows and
    columns (int64) in raster order.
    """
    peak = np.empty(tophat.shape, dtype=np.bool_)
    counts = np.empty(tophat.shape[0], dtype=np.int64)
    run = partial(_peak_rows, readonly(tophat), min_height, radius, peak, counts)
    split_range(run, tophat.shape[0])
    start = np.zeros(tophat.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    pr = np.empty(start[-1], dtype=np.int64)
    pc = np.empty(start[-1], dtype=np.int64)
    split_range(partial(_peak_cells, readonly(peak), readonly(start), pr, pc), tophat.shape[0])
    return pr, pc


@njit(cache=True, nogil=True)
def _peak_cells(peak, start, pr, pc, lo, hi):
    """Rows ``lo:hi`` of the peaks' rows and columns, raster order (row i's from start[i])."""
    cols = peak.shape[1]
    for i in range(lo, hi):
        t = start[i]
        for j in range(cols):
            if peak[i, j]:
                pr[t] = i
                pc[t] = j
                t += 1


def kept_cells(
    labels: np.ndarray,
    keep: np.ndarray,
    height: np.ndarray,
    peak_r: np.ndarray,
    peak_c: np.ndarray,
    max_radius_px: int,
    n_cells: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices (raster order) of the cells whose 1-based label is kept, and their heights.

    ``keep[label - 1]`` says whether a label is kept, ``height[label - 1]`` (float64) is its
    height, given as float32; label k + 1 grew from peak (``peak_r[k]``, ``peak_c[k]``) and
    lies within ``max_radius_px`` of it (see :func:`grow_rocks`); ``n_cells`` is how many
    cells the kept labels hold (their areas' sum). Equals ``np.flatnonzero(mask)`` and
    ``height[labels.flat[index] - 1]`` for the mask of kept labels, but reads only the boxes
    around the kept peaks (a few thousand of the grid's millions of cells): each cell holds one
    label, so each is found once, in its own peak's box, and a sort restores raster order.
    """
    kept = np.flatnonzero(keep)
    index = np.empty(n_cells, dtype=np.int64)
    out = np.empty(n_cells, dtype=np.float32)
    found = _kept_cells(
        readonly(labels),
        readonly(kept),
        readonly(height),
        readonly(peak_r),
        readonly(peak_c),
        max_radius_px,
        index,
        out,
    )
    if found != n_cells:
        raise RuntimeError(f"kept rocks hold {found} cells, their areas {n_cells}")
    order = np.argsort(index)
    return index[order], out[order]


@njit(cache=True, nogil=True)
def _kept_cells(labels, kept, height, peak_r, peak_c, radius, index, out):
    """The loop of :func:`kept_cells`; returns the number of kept cells it met."""
    rows, cols = labels.shape
    n = index.size
    t = 0
    for k in kept:
        lab = k + 1
        h = np.float32(height[k])
        for i in range(max(peak_r[k] - radius, 0), min(peak_r[k] + radius + 1, rows)):
            for j in range(max(peak_c[k] - radius, 0), min(peak_c[k] + radius + 1, cols)):
                if labels[i, j] == lab:
                    if t < n:
                        index[t] = i * cols + j
                        out[t] = h
                    t += 1
    return t


@njit(cache=True, nogil=True)
def grow_rocks(tophat, peak_r, peak_c, max_radius_px, labels):
    """Grow a region from each peak (given tallest first) over cells at or above half its height.

    A region only descends from its peak (so it stops at the saddle to a neighbouring rock),
    never takes cells another rock already claimed, and stays within ``max_radius_px``.
    ``labels`` (int32, zeros) receives 1-based rock ids. Returns per-peak statistics, one row
    each: kept (1/0), area (cells), sum w, sum w*r, sum w*c (w = top-hat height), sum r, sum c,
    sum r*r, sum c*c, sum r*c (unweighted, for the shape).
    """
    rows, cols = tophat.shape
    n = peak_r.shape[0]
    stats = np.zeros((n, 10))
    stack_r = np.empty((2 * max_radius_px + 1) ** 2 + 1, dtype=np.int64)
    stack_c = np.empty_like(stack_r)
    for k in range(n):
        r0 = peak_r[k]
        c0 = peak_c[k]
        if labels[r0, c0] != 0:
            continue
        h = tophat[r0, c0]
        half = 0.5 * h
        tol = 0.1 * h
        lab = k + 1
        top = 0
        stack_r[0] = r0
        stack_c[0] = c0
        labels[r0, c0] = lab
        top = 1
        # scalar sums (numba keeps them in registers; stats[k, :] += would store every time)
        s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = s9 = 0.0
        while top > 0:
            top -= 1
            r = stack_r[top]
            c = stack_c[top]
            w = tophat[r, c]
            s1 += 1.0
            s2 += w
            s3 += w * r
            s4 += w * c
            s5 += r
            s6 += c
            s7 += r * r
            s8 += c * c
            s9 += r * c
            # every neighbour on the grid and within the radius: no edge tests (same order)
            inner = 0 < r < rows - 1 and 0 < c < cols - 1
            inner = inner and abs(r - r0) < max_radius_px and abs(c - c0) < max_radius_px
            for dr in range(-1, 2):
                for dc in range(-1, 2):
                    if dr == 0 and dc == 0:
                        continue
                    rr = r + dr
                    cc = c + dc
                    if not inner:
                        if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
                            continue
                        if abs(rr - r0) > max_radius_px or abs(cc - c0) > max_radius_px:
                            continue
                    if labels[rr, cc] != 0:
                        continue
                    v = tophat[rr, cc]
                    # Only downhill (within a tenth of the peak for surface texture): a
                    # region stops at the saddle to a neighbouring rock, as a watershed does.
                    if v >= half and v <= h and v <= w + tol:
                        labels[rr, cc] = lab
                        stack_r[top] = rr
                        stack_c[top] = cc
                        top += 1
        stats[k, 0] = 1.0
        stats[k, 1] = s1
        stats[k, 2] = s2
        stats[k, 3] = s3
        stats[k, 4] = s4
        stats[k, 5] = s5
        stats[k, 6] = s6
        stats[k, 7] = s7
        stats[k, 8] = s8
        stats[k, 9] = s9
    return stats


_EULER_GAMMA = 0.5772156649015329


@njit(cache=True, inline="always")
def exp1(x):
    """The exponential integral E1(x) for x > 0, to a few units in the last place of float64.

    The power series -gamma - ln x + sum (-1)^(k+1) x^k / (k k!) up to x = 2 (24 terms;
    fewer than the continued fraction needs there), beyond it the continued fraction of
    E1(x) e^x (modified Lentz, as in Numerical Recipes' ``expint``; 53 steps at x = 2).
    """
    if x <= 2.0:
        total = 0.0
        term = 1.0
        for k in range(1, 40):
            term *= -x / k
            step = term / k
            total -= step
            if abs(step) < 1e-17 * abs(total):
                break
        return -_EULER_GAMMA - math.log(x) + total
    tiny = 1e-300
    b = x + 1.0
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -float(i * i)
        b += 2.0
        d = 1.0 / (an * d + b)
        c = b + an / c
        delta = c * d
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h * math.exp(-x)


@njit(cache=True, inline="always")
def _golombek_n(k, d):
    """Golombek & Rapp N(>d) per m^2 at abundance k, 0 for k <= 0 or NaN.

    The expression of ``size_frequency.golombek_cumulative``, term for term.
    """
    if not k > 0.0:
        return 0.0
    q = 1.79 + 0.152 / k
    out = (4.0 / np.pi) * k * q * (math.exp(-q * d) / d - q * exp1(q * d))
    return out if out > 0.0 else 0.0


@njit(cache=True, nogil=True)
def _rock_risk_cells(k, d_hazard, d_resolved, area, out, lo, hi):
    """Cells ``lo:hi`` of :func:`rock_risk` (flat arrays)."""
    for t in range(lo, hi):
        kt = k[t]
        n = _golombek_n(kt, d_hazard) - _golombek_n(kt, d_resolved)
        out[t] = np.float32(1.0 - math.exp(-(n if n > 0.0 else 0.0) * area))


def rock_risk(k: np.ndarray, d_hazard: float, d_resolved: float, area_m2: float) -> np.ndarray:
    """1 - exp(-(N(>d_hazard) - N(>d_resolved)) area) per cell of a float64 abundance array.

    Compiled, cells side by side; the float32 result is the numpy and scipy formula's to within
    one float32 unit in the last place (see tests/terrain/test_fast_paths.py).
    """
    flat = np.ascontiguousarray(k, dtype=np.float64).reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    run = partial(_rock_risk_cells, readonly(flat), float(d_hazard), float(d_resolved))
    split_range(partial(run, float(area_m2), out), flat.size, min_piece=65536)
    return out.reshape(np.shape(k))
