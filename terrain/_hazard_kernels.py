"""Compiled hazard kernels: Horn slope, footprint fits, line of sight, cost and keep-out."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


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


@njit(cache=True, parallel=True, nogil=True)
def horn_slope_deg(z, res):
    """Horn slope in degrees (as gdaldem); NaN on the edge and where the 3x3 window has NaN."""
    rows, cols = z.shape
    out = np.full((rows, cols), np.nan, dtype=np.float32)
    k = 1.0 / (8.0 * res)
    for i in prange(1, rows - 1):
        for j in range(1, cols - 1):
            out[i, j] = _horn_deg(z, i, j, k)
    return out


def surface_layers(z, res, half):
    """Horn slope (deg) and the footprint fit's slope, roughness and step, in one call.

    For the 3 x 3 footprint one fused pass reads each window once; the numbers equal
    :func:`horn_slope_deg` and :func:`footprint_fit`.
    """
    if half == 1:
        return _surface_3x3(z, res)
    return (horn_slope_deg(z, res), *footprint_fit(z, res, half))


def footprint_fit(z, res, half):
    """Plane fit over a (2*half+1)^2 footprint at every cell (GESTALT-style).

    Returns slope of the plane (deg), RMS residual (m) and step (m): the peak-to-trough of the
    residuals, i.e. the largest height step a wheel meets inside the footprint once the
    footprint's own tilt is removed. Windows that touch NaN or the grid edge give NaN.
    """
    if half == 1:
        return _surface_3x3(z, res)[1:]
    return _footprint_fit(z, res, half)


@njit(cache=True, parallel=True, nogil=True)
def _footprint_fit(z, res, half):
    """:func:`footprint_fit` for any half-width."""
    rows, cols = z.shape
    slope = np.full((rows, cols), np.nan, dtype=np.float32)
    rough = np.full((rows, cols), np.nan, dtype=np.float32)
    step = np.full((rows, cols), np.nan, dtype=np.float32)
    n = (2 * half + 1) ** 2
    sxx = 0.0
    for u in range(-half, half + 1):
        sxx += (2 * half + 1) * (u * res) ** 2
    for i in prange(half, rows - half):
        for j in range(half, cols - half):
            z0 = z[i, j]
            s = 0.0
            sx = 0.0
            sy = 0.0
            ok = True
            for di in range(-half, half + 1):
                for dj in range(-half, half + 1):
                    v = z[i + di, j + dj] - z0
                    if v != v:
                        ok = False
                    s += v
                    sx += v * (dj * res)
                    sy += v * (-di * res)  # y grows north, rows grow south
            if not ok:
                continue
            a = s / n
            bx = sx / sxx
            by = sy / sxx
            ss = 0.0
            lo = 1e30
            hi = -1e30
            for di in range(-half, half + 1):
                for dj in range(-half, half + 1):
                    r = z[i + di, j + dj] - z0 - a - bx * (dj * res) - by * (-di * res)
                    ss += r * r
                    if r < lo:
                        lo = r
                    if r > hi:
                        hi = r
            slope[i, j] = np.degrees(np.arctan(np.sqrt(bx * bx + by * by)))
            rough[i, j] = np.sqrt(ss / n)
            step[i, j] = hi - lo
    return slope, rough, step


@njit(cache=True, inline="always")
def _resid(v, a, bx, by, x, y):
    return v - a - bx * x - by * y


@njit(cache=True, parallel=True, nogil=True)
def _surface_3x3(z, res):
    """Horn slope and the 3 x 3 footprint fit, unrolled (the rover at DEM resolution).

    Same sums in the same order as the general kernels, so the same numbers.
    """
    rows, cols = z.shape
    horn = np.empty((rows, cols), dtype=np.float32)
    slope = np.empty((rows, cols), dtype=np.float32)
    rough = np.empty((rows, cols), dtype=np.float32)
    step = np.empty((rows, cols), dtype=np.float32)
    nan = np.float32(np.nan)
    k = 1.0 / (8.0 * res)
    for i in prange(rows):
        if i == 0 or i == rows - 1:
            for j in range(cols):
                horn[i, j] = nan
                slope[i, j] = nan
                rough[i, j] = nan
                step[i, j] = nan
            continue
        horn[i, 0] = slope[i, 0] = rough[i, 0] = step[i, 0] = nan
        horn[i, cols - 1] = slope[i, cols - 1] = rough[i, cols - 1] = step[i, cols - 1] = nan
        for j in range(1, cols - 1):
            z0 = z[i, j]
            v00 = z[i - 1, j - 1] - z0
            v01 = z[i - 1, j] - z0
            v02 = z[i - 1, j + 1] - z0
            v10 = z[i, j - 1] - z0
            v11 = z[i, j] - z0
            v12 = z[i, j + 1] - z0
            v20 = z[i + 1, j - 1] - z0
            v21 = z[i + 1, j] - z0
            v22 = z[i + 1, j + 1] - z0
            s = 0.0
            s += v00
            s += v01
            s += v02
            s += v10
            s += v11
            s += v12
            s += v20
            s += v21
            s += v22
            # Horn ignores the centre cell, so it can exist where the fit cannot
            horn[i, j] = _horn_deg(z, i, j, k)
            if s != s:
                slope[i, j] = rough[i, j] = step[i, j] = nan
                continue
            sx = 0.0
            sx += v00 * -res
            sx += v01 * 0.0
            sx += v02 * res
            sx += v10 * -res
            sx += v11 * 0.0
            sx += v12 * res
            sx += v20 * -res
            sx += v21 * 0.0
            sx += v22 * res
            sy = 0.0
            sy += v00 * res
            sy += v01 * res
            sy += v02 * res
            sy += v10 * 0.0
            sy += v11 * 0.0
            sy += v12 * 0.0
            sy += v20 * -res
            sy += v21 * -res
            sy += v22 * -res
            sxx = 6.0 * res * res
            a = s / 9.0
            bx = sx / sxx
            by = sy / sxx
            r00 = _resid(v00, a, bx, by, -res, res)
            r01 = _resid(v01, a, bx, by, 0.0, res)
            r02 = _resid(v02, a, bx, by, res, res)
            r10 = _resid(v10, a, bx, by, -res, 0.0)
            r11 = _resid(v11, a, bx, by, 0.0, 0.0)
            r12 = _resid(v12, a, bx, by, res, 0.0)
            r20 = _resid(v20, a, bx, by, -res, -res)
            r21 = _resid(v21, a, bx, by, 0.0, -res)
            r22 = _resid(v22, a, bx, by, res, -res)
            ss = 0.0
            ss += r00 * r00
            ss += r01 * r01
            ss += r02 * r02
            ss += r10 * r10
            ss += r11 * r11
            ss += r12 * r12
            ss += r20 * r20
            ss += r21 * r21
            ss += r22 * r22
            lo = min(r00, r01, r02, r10, r11, r12, r20, r21, r22)
            hi = max(r00, r01, r02, r10, r11, r12, r20, r21, r22)
            slope[i, j] = np.degrees(np.arctan(np.sqrt(bx * bx + by * by)))
            rough[i, j] = np.sqrt(ss / 9.0)
            step[i, j] = hi - lo
    return horn, slope, rough, step


@njit(cache=True, nogil=True)
def _los_ray(z, res, r0, c0, h_obs, h_tgt, r1, c1, inv_2r, vis):
    """Walk one ray from the observer to boundary cell (r1, c1), marking visibility (min)."""
    dr = r1 - r0
    dc = c1 - c0
    steps = max(abs(dr), abs(dc))
    if steps == 0:
        return
    zo = z[r0, c0] + h_obs
    best = -1e30  # steepest terrain tangent seen so far along the ray
    for k in range(1, steps + 1):
        fr = r0 + dr * k / steps
        fc = c0 + dc * k / steps
        i = int(np.floor(fr + 0.5))
        j = int(np.floor(fc + 0.5))
        d = res * np.sqrt((fr - r0) ** 2 + (fc - c0) ** 2)
        zg = z[i, j]
        drop = d * d * inv_2r
        if zg != zg:  # nodata: cannot see past or into it
            vis[i, j] = 0
            best = 1e30
            continue
        t_target = (zg + h_tgt - drop - zo) / d
        seen = 1 if t_target >= best else 0
        if seen < vis[i, j]:
            vis[i, j] = seen
        t_ground = (zg - drop - zo) / d
        if t_ground > best:
            best = t_ground


@njit(cache=True, parallel=True, nogil=True)
def line_of_sight(z, res, r0, c0, h_obs, h_tgt, body_radius):
    """Visibility (1/0) of a target h_tgt above every cell, seen from h_obs above (r0, c0).

    Rays run from the observer to every boundary cell, on a sphere of ``body_radius``.

    A cell crossed by several rays is visible only if every ray sees it (conservative: a plan
    never relies on a link that one of the rays doubts). Rays run in parallel: they only ever
    lower a cell's visibility to 0 and write the same distance, so the order does not matter.
    Returns (visible uint8, distance m).
    """
    rows, cols = z.shape
    vis = np.ones((rows, cols), dtype=np.uint8)
    inv_2r = 1.0 / (2.0 * body_radius)
    n_edge = 2 * cols + 2 * rows
    for e in prange(n_edge):
        if e < cols:
            r1, c1 = 0, e
        elif e < 2 * cols:
            r1, c1 = rows - 1, e - cols
        elif e < 2 * cols + rows:
            r1, c1 = e - 2 * cols, 0
        else:
            r1, c1 = e - 2 * cols - rows, cols - 1
        _los_ray(z, res, r0, c0, h_obs, h_tgt, r1, c1, inv_2r, vis)
    vis[r0, c0] = 1
    return vis


# Keep-out reasons as bits of one uint8 per cell (order of terrain.hazard.REASONS).
NODATA, SLOPE, STEP, ROUGHNESS, ROCK_RISK, ROCKS, LANDER, COMM = (1 << k for k in range(8))


@njit(cache=True, parallel=True, nogil=True)
def fuse(
    z,
    slope_rover,
    rough,
    step,
    risk,
    risk_uniform,
    shadow,
    use_shadow,
    los,
    use_los,
    lander_r,
    lander_c,
    res,
    link_m,
    limits,
    cost,
    bits,
):
    """Keep-out reasons (bits) and the undilated cost of every cell, in one pass.

    ``bits`` comes in holding the ROCKS bit where rocks were detected; the other reasons are
    added to it.

    ``limits`` holds max slope, step, roughness, rock risk and the weights of slope, roughness,
    rock risk and shadow. ``risk`` is one value (``risk_uniform``, read at [0, 0]) or a layer.
    With ``use_los`` a cell is comm-dead unless ``los`` sees it and its distance from
    (``lander_r``, ``lander_c``), as float32 metres exactly as ``hazard.lander_range`` gives it,
    is within ``link_m``. Non-finite heights are nodata. Cost is float32 arithmetic:
    ``1 + w_s s / s_max + w_r r / r_max + w_k k / k_max (+ w_sh)``, NaN terms counting 0.
    """
    rows, cols = z.shape
    max_slope = np.float32(limits[0])
    max_step = np.float32(limits[1])
    max_rough = np.float32(limits[2])
    max_risk = np.float32(limits[3])
    w_slope = np.float32(limits[4])
    w_rough = np.float32(limits[5])
    w_risk = np.float32(limits[6])
    w_shadow = np.float32(limits[7])
    one = np.float32(1.0)
    zero = np.float32(0.0)
    k_one = risk[0, 0]
    link = np.float32(link_m)
    for i in prange(rows):
        # branch-free (selects), so the row loop vectorises
        for j in range(cols):
            s = slope_rover[i, j]
            r = rough[i, j]
            k = k_one if risk_uniform else risk[i, j]
            b = bits[i, j]
            zv = z[i, j]
            b |= 0 if zv - zv == 0 else NODATA  # NaN or inf
            b |= 0 if s <= max_slope else SLOPE
            b |= 0 if step[i, j] <= max_step else STEP
            b |= 0 if r <= max_rough else ROUGHNESS
            b |= 0 if k <= max_risk else ROCK_RISK
            if use_los:
                d = np.float32(res * np.sqrt(np.float64((i - lander_r) ** 2 + (j - lander_c) ** 2)))
                b |= 0 if (los[i, j] and d <= link) else COMM
            bits[i, j] = b
            ts = s / max_slope
            tr = r / max_rough
            tk = k / max_risk
            c = one + w_slope * (ts if ts == ts else zero)
            c = c + w_rough * (tr if tr == tr else zero)
            c = c + w_risk * (tk if tk == tk else zero)
            if use_shadow:
                c = c + (w_shadow if shadow[i, j] else zero)
            cost[i, j] = c


@njit(cache=True, parallel=True, nogil=True)
def dilate_keepout(bits, d_rows, d_cols, keepout, cost):
    """Keep-out = any reason within the structuring offsets (outside the grid counts as none).

    Sets ``cost`` to inf on keep-out cells, in place; ``d_rows``/``d_cols`` list the offsets.
    """
    rows, cols = bits.shape
    n = d_rows.size
    for i in prange(rows):
        for j in range(cols):
            out = False
            for k in range(n):
                ii = i + d_rows[k]
                jj = j + d_cols[k]
                if 0 <= ii < rows and 0 <= jj < cols and bits[ii, jj] != 0:
                    out = True
                    break
            keepout[i, j] = out
            if out:
                cost[i, j] = np.inf


@njit(cache=True, parallel=True, nogil=True)
def count_reasons(bits, keepout):
    """Cells per reason bit among valid cells, then valid cells, then valid keep-out cells.

    Each chunk of rows histograms its 256 possible reason bytes (keep-out adds 256); the bits are
    decoded from the histogram at the end.
    """
    rows, cols = bits.shape
    n_chunks = min(rows, 64)
    hist = np.zeros((max(n_chunks, 1), 512), dtype=np.int64)
    for ch in prange(n_chunks):
        for i in range(ch * rows // n_chunks, (ch + 1) * rows // n_chunks):
            for j in range(cols):
                hist[ch, bits[i, j] + (256 if keepout[i, j] else 0)] += 1
    total = hist.sum(axis=0)
    out = np.zeros(10, dtype=np.int64)
    for v in range(512):
        b = v & 255
        if b & NODATA or total[v] == 0:
            continue
        for k in range(8):
            if b & (1 << k):
                out[k] += total[v]
        out[8] += total[v]
        if v >= 256:
            out[9] += total[v]
    return out


@njit(cache=True, parallel=True, nogil=True)
def has_nonfinite(z):
    """True when any cell is NaN or infinite (nodata)."""
    rows, cols = z.shape
    found = np.zeros(rows, dtype=np.bool_)
    for i in prange(rows):
        for j in range(cols):
            v = z[i, j]
            if not v - v == 0:
                found[i] = True
                break
    return found.any()


@njit(cache=True, parallel=True, nogil=True)
def finite_min(z):
    """Smallest finite value (NaN when there is none)."""
    rows, cols = z.shape
    lo = np.full(rows, np.inf)
    for i in prange(rows):
        m = np.inf
        for j in range(cols):
            v = z[i, j]
            if v < m and v - v == 0:
                m = v
        lo[i] = m
    m = lo.min() if rows else np.inf
    return m if m < np.inf else np.nan
