"""Compiled hazard kernels: Horn slope, footprint plane fits, line of sight from the lander."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def horn_slope_deg(z, res):
    """Horn slope in degrees (as gdaldem); NaN on the edge and where the 3x3 window has NaN."""
    rows, cols = z.shape
    out = np.full((rows, cols), np.nan, dtype=np.float32)
    k = 1.0 / (8.0 * res)
    for i in prange(1, rows - 1):
        for j in range(1, cols - 1):
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
            if s == s:  # NaN anywhere in the window propagates here
                out[i, j] = np.degrees(np.arctan(s))
    return out


@njit(cache=True, parallel=True)
def footprint_fit(z, res, half):
    """Plane fit over a (2*half+1)^2 footprint at every cell (GESTALT-style).

    Returns slope of the plane (deg), RMS residual (m) and step (m): the peak-to-trough of the
    residuals, i.e. the largest height step a wheel meets inside the footprint once the
    footprint's own tilt is removed. Windows that touch NaN or the grid edge give NaN.
    """
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


@njit(cache=True)
def _los_ray(z, res, r0, c0, h_obs, h_tgt, r1, c1, inv_2r, vis, rng):
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
        rng[i, j] = d
        t_ground = (zg - drop - zo) / d
        if t_ground > best:
            best = t_ground


@njit(cache=True, parallel=True)
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
    rng = np.zeros((rows, cols), dtype=np.float32)
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
        _los_ray(z, res, r0, c0, h_obs, h_tgt, r1, c1, inv_2r, vis, rng)
    vis[r0, c0] = 1
    for i in prange(rows):
        for j in range(cols):
            rng[i, j] = res * np.sqrt((i - r0) ** 2 + (j - c0) ** 2)
    return vis, rng
