"""Compiled sweeps for cast shadows and horizon maps (wrapped by :mod:`terrain.illumination`).

Geometry shared by every kernel
-------------------------------
Heights are taken in one frame for the whole grid: the tangent plane at the grid centre, with the
sphere's surface dropping by ``(x^2 + y^2) / 2R`` at map offset (x, y) from the centre. Sun rays
are parallel straight lines in that frame. A direction (azimuth ``a``, clockwise from grid north)
is followed along parallel straight *lines* that advance one cell per step along the dominant grid
axis and ``m`` (|m| <= 1) cells along the other. On each line:

- the terrain that casts shadow is sampled at the line's exact position, interpolating linearly
  between the two cells across the line (the DEM read as a bilinear surface); a sample whose
  nearer cell is nodata or off the grid is skipped;
- every cell belongs to the one line passing within half a cell of its centre, and receives
  shadow from the samples further along that line, towards the Sun.

With ``t = x sin a + y cos a`` the distance towards the Sun and ``Y = z - t^2 / 2R`` (the drop of
the sphere along the line; the sideways part ``u^2 / 2R`` is the same for a cell and the samples
on its own ray, so it is left out rather than let a half-cell sideways step leak into it), a
cell P is shadowed for sun elevation ``e`` (at the grid centre) when a sample Q further along
its line has ``Y_Q - t_Q tan e > Y_P - t_P tan e``: a running maximum, O(1) per cell. The largest
slope ``G`` from P to the samples along its line (the tangent to their upper convex hull,
binary search) gives the horizon elevation seen from P in P's own tangent frame:
``atan(G) + t_P / R``.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from numba import njit, prange

from .kernel_calls import readonly, split_range


@njit(cache=True)
def line_setup(rows, cols, walk_dr, walk_dc, subpixel):
    """Lines walked in direction (walk_dr, walk_dc) (row, col units), ``subpixel`` per cell.

    Returns (rows_dominant, length, width, sign, m, u0, n_lines): line ``i`` lies at minor
    position ``u0 + i / subpixel + k m`` at step ``k``; the step's dominant index is ``k`` (sign
    > 0) or ``length - 1 - k``.
    """
    rows_dominant = abs(walk_dr) >= abs(walk_dc)
    if rows_dominant:
        length, width = rows, cols
        sign = 1 if walk_dr >= 0 else -1
        m = walk_dc / abs(walk_dr)
    else:
        length, width = cols, rows
        sign = 1 if walk_dc >= 0 else -1
        m = walk_dr / abs(walk_dc)
    span = (length - 1) * m
    key_min = min(0.0, -span)
    key_max = (width - 1) + max(0.0, -span)
    u0 = np.floor(key_min) - 1.0
    n_lines = int((key_max - u0) * subpixel) + 3
    return rows_dominant, length, width, sign, m, u0, n_lines


@njit(cache=True, inline="always")
def line_of(j, k, m, u0, subpixel):
    """Index of the line a cell (minor j, step k) belongs to: the nearest one."""
    return int(np.floor((j - k * m - u0) * subpixel + 0.5))


@njit(cache=True, inline="always")
def receiver(li, k, m, u, u0, subpixel, width):
    """Minor index of the cell on line ``li`` at step ``k`` that takes its shadow, or -1."""
    j0 = int(np.floor(u + 0.5))
    # at most one of the three belongs to line li (lines of neighbouring cells are subpixel
    # apart), so testing the nearest first changes nothing but the work
    if 0 <= j0 < width and line_of(j0, k, m, u0, subpixel) == li:
        return j0
    if subpixel >= 2:
        # j0 +- 1 lie at least half a cell from the line, and a cell's own line passes within
        # 0.5 / subpixel <= 0.25 cell of its centre (rounding is ~1e-11 cell): neither is li's
        return -1
    for j in (j0 - 1, j0 + 1):  # one line per cell: a half-cell tie may go to a neighbour
        if 0 <= j < width and line_of(j, k, m, u0, subpixel) == li:
            return j
    return -1


@njit(cache=True, inline="always")
def _cell(rows_dominant, dom, minor):
    if rows_dominant:
        return dom, minor
    return minor, dom


@njit(cache=True, inline="always")
def _sample(z, extra, rows_dominant, dom, u, width):
    """Height (terrain + extra) on a line at minor position ``u``; NaN when not available."""
    lo = int(np.floor(u))
    w = u - lo
    total = 0.0
    weight = 0.0
    for j in range(lo, lo + 2):
        wj = 1.0 - w if j == lo else w
        if wj <= 0.0 or j < 0 or j >= width:
            continue
        r, c = _cell(rows_dominant, dom, j)
        h = z[r, c]
        if np.isnan(h):
            continue
        if extra.shape[0] == z.shape[0] and extra.shape[1] == z.shape[1]:
            h = h + extra[r, c]  # (any other shape means none: no reads of a zero raster)
        total += wj * h
        weight += wj
    if weight < 0.5:
        return np.nan
    return total if weight == 1.0 else total / weight


@njit(cache=True, inline="always")
def _map_xy(rows_dominant, dom, minor, half_r, half_c, res):
    """Map offsets (x east, y north) from the grid centre of a (possibly fractional) position."""
    if rows_dominant:
        r, c = dom, minor
    else:
        r, c = minor, dom
    return (c + 0.5 - half_c) * res, (half_r - r - 0.5) * res


def _n_lines(shape: tuple[int, ...], sin_az: float, cos_az: float, subpixel: int) -> int:
    """Number of sweep lines of a grid for a direction (see :func:`line_setup`)."""
    return int(line_setup(shape[0], shape[1], cos_az, -sin_az, subpixel)[6])


def cast_shadow_sweep(
    z: np.ndarray,
    extra: np.ndarray,
    res: float,
    sin_az: float,
    cos_az: float,
    tan_el: float,
    inv_2r: float,
    subpixel: int,
    out: np.ndarray,
) -> None:
    """Cast shadow for a sun at (azimuth, elevation at grid centre); NaN cells get False.

    Lines run side by side (each cell receives from one line only).
    """
    args = (readonly(z), readonly(extra), res, sin_az, cos_az, tan_el, inv_2r, subpixel, out)
    split_range(partial(_cast_shadow_lines, *args), _n_lines(z.shape, sin_az, cos_az, subpixel))


@njit(cache=True, inline="always")
def _steps_on_grid(base, m, width, length):
    """Steps ``k_lo:k_hi`` of a line that hold every k with -1 < base + k m < width.

    A step outside is skipped by the sweep's own test anyway (it changes nothing); the range,
    two steps wider on each side than the bounds solved in floating point, only saves walking
    the steps of a slanted line that lie off the grid.
    """
    if abs(m) < 1e-9:
        return 0, length
    a = (-1.0 - base) / m
    b = (width - base) / m
    if a > b:
        a, b = b, a
    lo = max(0.0, min(float(length), math.floor(a) - 2.0))
    hi = max(0.0, min(float(length), math.ceil(b) + 3.0))
    return int(lo), int(hi)


@njit(cache=True, nogil=True)
def _cast_shadow_lines(z, extra, res, sin_az, cos_az, tan_el, inv_2r, subpixel, out, lo, hi):
    """Lines ``lo:hi`` of :func:`cast_shadow_sweep`."""
    rows, cols = z.shape
    rows_dominant, length, width, sign, m, u0, n_lines = line_setup(
        rows, cols, cos_az, -sin_az, subpixel
    )
    half_r = 0.5 * rows
    half_c = 0.5 * cols
    for li in range(lo, min(hi, n_lines)):
        base = u0 + li / subpixel
        run = -np.inf
        k_lo, k_hi = _steps_on_grid(base, m, width, length)
        for k in range(k_lo, k_hi):
            u = base + k * m
            if u <= -1.0 or u >= width:
                continue
            dom = k if sign > 0 else length - 1 - k
            near = receiver(li, k, m, u, u0, subpixel, width)
            if near >= 0:
                r, c = _cell(rows_dominant, dom, near)
                zz = z[r, c]
                if np.isnan(zz):
                    out[r, c] = False
                else:
                    x, y = _map_xy(rows_dominant, dom, near, half_r, half_c, res)
                    t = x * sin_az + y * cos_az
                    v = zz - t * t * inv_2r - t * tan_el
                    out[r, c] = run > v
            h = _sample(z, extra, rows_dominant, dom, u, width)
            if not np.isnan(h):
                x, y = _map_xy(rows_dominant, dom, u, half_r, half_c, res)
                t = x * sin_az + y * cos_az
                v = h - t * t * inv_2r - t * tan_el
                if v > run:
                    run = v


@njit(cache=True, inline="always")
def _tangent(ht, hy, n, t, yy):
    """Largest slope from (t, yy) to the upper hull ht/hy[0:n] (index n-1 nearest, t < all)."""
    # Slopes from the point rise then fall along the hull: binary search for the turn.
    lo = 0
    hi = n - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2  # compare hull[mid] with its farther neighbour hull[mid - 1]
        # hull[mid - 1] is farther; going farther helps iff it lies above the line to hull[mid]
        if (hy[mid - 1] - yy) * (ht[mid] - t) > (hy[mid] - yy) * (ht[mid - 1] - t):
            hi = mid - 1
        else:
            lo = mid
    return (hy[lo] - yy) / (ht[lo] - t)


def horizon_sweep(
    z: np.ndarray,
    extra: np.ndarray,
    res: float,
    sin_az: float,
    cos_az: float,
    inv_2r: float,
    inv_r: float,
    subpixel: int,
    out: np.ndarray,
) -> None:
    """Horizon elevation (degrees, local frame) looking towards azimuth; unlimited distance.

    -90 where nothing lies in that direction on the grid, NaN on NaN cells. Lines run side by
    side.
    """
    args = (readonly(z), readonly(extra), res, sin_az, cos_az, inv_2r, inv_r, subpixel, out)
    split_range(partial(_horizon_lines, *args), _n_lines(z.shape, sin_az, cos_az, subpixel))


@njit(cache=True, nogil=True)
def _horizon_lines(z, extra, res, sin_az, cos_az, inv_2r, inv_r, subpixel, out, lo, hi):
    """Lines ``lo:hi`` of :func:`horizon_sweep`."""
    rows, cols = z.shape
    rows_dominant, length, width, sign, m, u0, n_lines = line_setup(
        rows, cols, cos_az, -sin_az, subpixel
    )
    half_r = 0.5 * rows
    half_c = 0.5 * cols
    rad2deg = 180.0 / np.pi
    for li in range(lo, min(hi, n_lines)):
        base = u0 + li / subpixel
        ht = np.empty(length)
        hy = np.empty(length)
        n = 0
        for k in range(length):
            u = base + k * m
            if u <= -1.0 or u >= width:
                continue
            dom = k if sign > 0 else length - 1 - k
            near = receiver(li, k, m, u, u0, subpixel, width)
            if near >= 0:
                r, c = _cell(rows_dominant, dom, near)
                zz = z[r, c]
                if np.isnan(zz):
                    out[r, c] = np.nan
                elif n == 0:
                    out[r, c] = -90.0
                else:
                    x, y = _map_xy(rows_dominant, dom, near, half_r, half_c, res)
                    t = x * sin_az + y * cos_az
                    g = _tangent(ht, hy, n, t, zz - t * t * inv_2r)
                    out[r, c] = (np.arctan(g) + t * inv_r) * rad2deg
            h = _sample(z, extra, rows_dominant, dom, u, width)
            if np.isnan(h):
                continue
            x, y = _map_xy(rows_dominant, dom, u, half_r, half_c, res)
            t = x * sin_az + y * cos_az
            top = h - t * t * inv_2r
            # keep the upper hull: drop points under the segment from the new one
            while n >= 2 and (hy[n - 1] - top) * (ht[n - 2] - t) <= (hy[n - 2] - top) * (
                ht[n - 1] - t
            ):
                n -= 1
            ht[n] = t
            hy[n] = top
            n += 1


def horizon_sweep_limited(
    z: np.ndarray,
    extra: np.ndarray,
    res: float,
    sin_az: float,
    cos_az: float,
    inv_2r: float,
    inv_r: float,
    max_dist: float,
    subpixel: int,
    out: np.ndarray,
) -> None:
    """As :func:`horizon_sweep` but only samples within ``max_dist`` metres along the line count."""
    args = (readonly(z), readonly(extra), res, sin_az, cos_az, inv_2r, inv_r, max_dist, subpixel)
    n_lines = _n_lines(z.shape, sin_az, cos_az, subpixel)
    split_range(partial(_horizon_limited_lines, *args, out), n_lines)


@njit(cache=True, nogil=True)
def _horizon_limited_lines(
    z, extra, res, sin_az, cos_az, inv_2r, inv_r, max_dist, subpixel, out, lo, hi
):
    """Lines ``lo:hi`` of :func:`horizon_sweep_limited`."""
    rows, cols = z.shape
    rows_dominant, length, width, sign, m, u0, n_lines = line_setup(
        rows, cols, cos_az, -sin_az, subpixel
    )
    half_r = 0.5 * rows
    half_c = 0.5 * cols
    rad2deg = 180.0 / np.pi
    for li in range(lo, min(hi, n_lines)):
        base = u0 + li / subpixel
        pt = np.empty(length)
        py = np.empty(length)
        n = 0
        for k in range(length):
            u = base + k * m
            if u <= -1.0 or u >= width:
                continue
            dom = k if sign > 0 else length - 1 - k
            near = receiver(li, k, m, u, u0, subpixel, width)
            if near >= 0:
                r, c = _cell(rows_dominant, dom, near)
                zz = z[r, c]
                if np.isnan(zz):
                    out[r, c] = np.nan
                else:
                    x, y = _map_xy(rows_dominant, dom, near, half_r, half_c, res)
                    t = x * sin_az + y * cos_az
                    yy = zz - t * t * inv_2r
                    best = -np.inf
                    j = n - 1
                    while j >= 0 and pt[j] - t <= max_dist:
                        g = (py[j] - yy) / (pt[j] - t)
                        if g > best:
                            best = g
                        j -= 1
                    if best > -np.inf:
                        out[r, c] = (np.arctan(best) + t * inv_r) * rad2deg
                    else:
                        out[r, c] = -90.0
            h = _sample(z, extra, rows_dominant, dom, u, width)
            if not np.isnan(h):
                x, y = _map_xy(rows_dominant, dom, u, half_r, half_c, res)
                t = x * sin_az + y * cos_az
                pt[n] = t
                py[n] = h - t * t * inv_2r
                n += 1


def horizon_shadow(
    h: np.ndarray,
    i0: int,
    i1: int,
    f: float,
    res: float,
    sin_az: float,
    cos_az: float,
    el_deg: float,
    inv_r_deg: float,
    out: np.ndarray,
) -> None:
    """Shadow from a horizon map for one sun direction (sectors i0, i1 mixed by weight f)."""
    args = (readonly(h), i0, i1, f, res, sin_az, cos_az, el_deg, inv_r_deg, out)
    split_range(partial(_horizon_shadow_rows, *args), h.shape[1])


@njit(cache=True, nogil=True)
def _horizon_shadow_rows(h, i0, i1, f, res, sin_az, cos_az, el_deg, inv_r_deg, out, lo, hi):
    """Rows ``lo:hi`` of :func:`horizon_shadow`."""
    _, rows, cols = h.shape
    half_r = 0.5 * rows
    half_c = 0.5 * cols
    for r in range(lo, hi):
        y = (half_r - r - 0.5) * res
        for c in range(cols):
            a = h[i0, r, c]
            if np.isnan(a):
                out[r, c] = False
                continue
            hh = (1.0 - f) * a + f * h[i1, r, c]
            x = (c + 0.5 - half_c) * res
            out[r, c] = hh > el_deg + (x * sin_az + y * cos_az) * inv_r_deg


def horizon_lit_stats(
    h: np.ndarray,
    i0: np.ndarray,
    i1: np.ndarray,
    f: np.ndarray,
    sin_az: np.ndarray,
    cos_az: np.ndarray,
    el_deg: np.ndarray,
    res: float,
    inv_r_deg: float,
    count: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> None:
    """Count lit samples per cell over T sun directions; first/last lit sample index (-1: never).

    Samples with the sun at or below 0 deg elevation count as dark everywhere. Rows run side by
    side.
    """
    sun = tuple(readonly(a) for a in (i0, i1, f, sin_az, cos_az, el_deg))
    args = (readonly(h), *sun, res, inv_r_deg, count, first, last)
    split_range(partial(_lit_stats_rows, *args), h.shape[1])


@njit(cache=True, nogil=True)
def _lit_stats_rows(
    h, i0, i1, f, sin_az, cos_az, el_deg, res, inv_r_deg, count, first, last, lo, hi
):
    """Rows ``lo:hi`` of :func:`horizon_lit_stats`."""
    _, rows, cols = h.shape
    n_t = el_deg.shape[0]
    half_r = 0.5 * rows
    half_c = 0.5 * cols
    for r in range(lo, hi):
        y = (half_r - r - 0.5) * res
        for ti in range(n_t):
            if el_deg[ti] <= 0.0:
                continue
            a0 = i0[ti]
            a1 = i1[ti]
            w = f[ti]
            sa = sin_az[ti]
            ca = cos_az[ti]
            e = el_deg[ti]
            for c in range(cols):
                a = h[a0, r, c]
                if np.isnan(a):
                    continue
                hh = (1.0 - w) * a + w * h[a1, r, c]
                x = (c + 0.5 - half_c) * res
                if hh <= e + (x * sa + y * ca) * inv_r_deg:
                    count[r, c] += 1
                    if first[r, c] < 0:
                        first[r, c] = ti
                    last[r, c] = ti


@njit(cache=True, inline="always")
def _coarse_sample(zc, f, rows_dominant, dom, u):
    """Bilinear height of the block-mean grid at fine position (dom, u); NaN when no data."""
    if rows_dominant:
        r, c = dom, u
    else:
        r, c = u, dom
    rc = (r + 0.5) / f - 0.5
    cc = (c + 0.5) / f - 0.5
    nr, nc = zc.shape
    i0 = int(np.floor(rc))
    j0 = int(np.floor(cc))
    wr = rc - i0
    wc = cc - j0
    total = 0.0
    weight = 0.0
    for a in range(2):
        i = min(max(i0 + a, 0), nr - 1)
        w_a = wr if a == 1 else 1.0 - wr
        for b in range(2):
            j = min(max(j0 + b, 0), nc - 1)
            w = w_a * (wc if b == 1 else 1.0 - wc)
            h = zc[i, j]
            if w > 0.0 and not np.isnan(h):
                total += w * h
                weight += w
    if weight < 0.5:
        return np.nan
    return total / weight


@njit(parallel=True, cache=True)
def tile_shadow_sweep(
    zw,
    wr0,
    wc0,
    cr0,
    cr1,
    cc0,
    cc1,
    rows,
    cols,
    res,
    sin_az,
    cos_az,
    tan_el,
    inv_2r,
    subpixel,
    zc,
    f,
    out,
):
    """Cast shadow of the core [cr0, cr1) x [cc0, cc1) of a ``rows`` x ``cols`` grid.

    The sweep lines, receivers and samples are those of ``cast_shadow_sweep`` on the whole grid;
    samples whose cells lie in the window ``zw`` (origin wr0, wc0) are read from it, the others
    from the block-mean grid ``zc`` (one per ``f`` steps before the window).
    """
    rows_dominant, length, width, sign, m, u0, n_lines = line_setup(
        rows, cols, cos_az, -sin_az, subpixel
    )
    half_r = 0.5 * rows
    half_c = 0.5 * cols
    wh, ww = zw.shape
    if rows_dominant:
        dw0, dw1, jw0, jw1 = wr0, wr0 + wh, wc0, wc0 + ww
        dc0, dc1, jc0, jc1 = cr0, cr1, cc0, cc1
    else:
        dw0, dw1, jw0, jw1 = wc0, wc0 + ww, wr0, wr0 + wh
        dc0, dc1, jc0, jc1 = cc0, cc1, cr0, cr1
    if sign > 0:
        kw0, kc0, kc1 = dw0, dc0, dc1 - 1
    else:
        kw0, kc0, kc1 = length - dw1, length - dc1, length - 1 - dc0
    lo_li = n_lines
    hi_li = -1
    for k in (kc0, kc1):
        for j in (jc0 - 1, jc1):
            li = line_of(j, k, m, u0, subpixel)
            lo_li = min(lo_li, li)
            hi_li = max(hi_li, li)
    lo_li = max(lo_li - 1, 0)
    hi_li = min(hi_li + 1, n_lines - 1)
    for li in prange(lo_li, hi_li + 1):
        base = u0 + li / subpixel
        run = -np.inf
        for k in range(kw0 - 1, -1, -f):  # far field, towards the Sun from the window
            u = base + k * m
            if u <= -1.0 or u >= width:
                continue
            dom = k if sign > 0 else length - 1 - k
            h = _coarse_sample(zc, f, rows_dominant, dom, u)
            if not np.isnan(h):
                x, y = _map_xy(rows_dominant, dom, u, half_r, half_c, res)
                t = x * sin_az + y * cos_az
                v = h - t * t * inv_2r - t * tan_el
                if v > run:
                    run = v
        for k in range(max(kw0, 0), kc1 + 1):
            u = base + k * m
            if u <= -1.0 or u >= width:
                continue
            dom = k if sign > 0 else length - 1 - k
            if k >= kc0:
                near = receiver(li, k, m, u, u0, subpixel, width)
                if near >= jc0 and near < jc1:
                    r, c = _cell(rows_dominant, dom, near)
                    zz = zw[r - wr0, c - wc0]
                    if np.isnan(zz):
                        out[r - cr0, c - cc0] = False
                    else:
                        x, y = _map_xy(rows_dominant, dom, near, half_r, half_c, res)
                        t = x * sin_az + y * cos_az
                        v = zz - t * t * inv_2r - t * tan_el
                        out[r - cr0, c - cc0] = run > v
            # the sample: from the window when every cell it needs is there (as _sample)
            lo = int(np.floor(u))
            w = u - lo
            inside = dom >= dw0 and dom < dw1
            for j in range(lo, lo + 2):
                wj = 1.0 - w if j == lo else w
                if wj > 0.0 and j >= 0 and j < width and (j < jw0 or j >= jw1):
                    inside = False
            if inside:
                total = 0.0
                weight = 0.0
                for j in range(lo, lo + 2):
                    wj = 1.0 - w if j == lo else w
                    if wj <= 0.0 or j < 0 or j >= width:
                        continue
                    r, c = _cell(rows_dominant, dom, j)
                    hz = zw[r - wr0, c - wc0]
                    if np.isnan(hz):
                        continue
                    total += wj * hz
                    weight += wj
                h = total / weight if weight >= 0.5 else np.nan
            else:
                h = _coarse_sample(zc, f, rows_dominant, dom, u)
            if not np.isnan(h):
                x, y = _map_xy(rows_dominant, dom, u, half_r, half_c, res)
                t = x * sin_az + y * cos_az
                v = h - t * t * inv_2r - t * tan_el
                if v > run:
                    run = v
