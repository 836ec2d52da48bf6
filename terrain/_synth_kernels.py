"""Compiled stamping loops for the synthetic terrain (craters, rocks, ejecta block fields)."""

from __future__ import annotations

import numpy as np
from numba import njit

EJECTA_REACH = 3.0  # ejecta blanket drawn out to 3 crater radii


@njit(cache=True)
def _box(x, y, reach, x0, y0, res, rows, cols):
    """Row and column range (inclusive, clipped) of the cells within ``reach`` of map (x, y)."""
    c_lo = max(int(np.floor((x - reach - x0) / res)), 0)
    c_hi = min(int(np.ceil((x + reach - x0) / res)), cols - 1)
    r_lo = max(int(np.floor((y0 - y - reach) / res)), 0)
    r_hi = min(int(np.ceil((y0 - y + reach) / res)), rows - 1)
    return r_lo, r_hi, c_lo, c_hi


@njit(cache=True)
def stamp_craters(z, x0, y0, res, cx, cy, radius, depth, rim):
    """Add crater profiles to ``z`` in place.

    Inside (r = dist / R <= 1) a parabolic bowl ``rim - depth * (1 - r^2)``: the floor lies
    ``depth`` below the rim crest. Outside, an ejecta blanket ``rim * r^-3`` (the r^-3 decay of
    McGetchin et al. 1973), shifted to reach zero at 3 R so craters do not leave steps.
    ``x0, y0`` are the map coordinates of the centre of pixel (0, 0); rows go south.
    """
    rows, cols = z.shape
    tail = EJECTA_REACH**-3
    for k in range(cx.shape[0]):
        R = radius[k]
        reach = EJECTA_REACH * R
        r_lo, r_hi, c_lo, c_hi = _box(cx[k], cy[k], reach, x0, y0, res, rows, cols)
        for i in range(r_lo, r_hi + 1):
            py = y0 - i * res
            for j in range(c_lo, c_hi + 1):
                px = x0 + j * res
                r = np.sqrt((px - cx[k]) ** 2 + (py - cy[k]) ** 2) / R
                if r <= 1.0:
                    z[i, j] += rim[k] - depth[k] * (1.0 - r * r)
                elif r < EJECTA_REACH:
                    z[i, j] += rim[k] * (r**-3 - tail) / (1.0 - tail)


@njit(cache=True)
def stamp_rocks(z, x0, y0, res, cx, cy, diameter, height):
    """Add rocks as half-ellipsoid bumps ``h * sqrt(1 - (r/R)^2)`` of base diameter D."""
    rows, cols = z.shape
    for k in range(cx.shape[0]):
        R = 0.5 * diameter[k]
        r_lo, r_hi, c_lo, c_hi = _box(cx[k], cy[k], R, x0, y0, res, rows, cols)
        for i in range(r_lo, r_hi + 1):
            py = y0 - i * res
            for j in range(c_lo, c_hi + 1):
                px = x0 + j * res
                q = ((px - cx[k]) ** 2 + (py - cy[k]) ** 2) / (R * R)
                if q < 1.0:
                    z[i, j] += height[k] * np.sqrt(1.0 - q)


@njit(cache=True)
def stamp_block_fields(m, x0, y0, res, cx, cy, radius, gain):
    """Multiply ``m`` by ``1 + gain`` on the rim and ejecta of young craters, fading by 2.5 R.

    Young craters excavate blocks onto their rims and near ejecta; the factor rises to
    ``1 + gain`` at the rim and fades linearly to 1 at 2.5 radii, and is ``1 + gain/2`` on
    the floor.
    """
    rows, cols = m.shape
    reach_r = 2.5
    for k in range(cx.shape[0]):
        R = radius[k]
        reach = reach_r * R
        r_lo, r_hi, c_lo, c_hi = _box(cx[k], cy[k], reach, x0, y0, res, rows, cols)
        for i in range(r_lo, r_hi + 1):
            py = y0 - i * res
            for j in range(c_lo, c_hi + 1):
                px = x0 + j * res
                r = np.sqrt((px - cx[k]) ** 2 + (py - cy[k]) ** 2) / R
                if r <= 1.0:
                    m[i, j] *= 1.0 + 0.5 * gain[k] * (1.0 + r)
                elif r < reach_r:
                    m[i, j] *= 1.0 + gain[k] * (reach_r - r) / (reach_r - 1.0)
