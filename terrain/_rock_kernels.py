"""Compiled rock growing: one flood fill per peak, tallest first, inside a bounded window."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
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
        while top > 0:
            top -= 1
            r = stack_r[top]
            c = stack_c[top]
            w = tophat[r, c]
            stats[k, 1] += 1.0
            stats[k, 2] += w
            stats[k, 3] += w * r
            stats[k, 4] += w * c
            stats[k, 5] += r
            stats[k, 6] += c
            stats[k, 7] += r * r
            stats[k, 8] += c * c
            stats[k, 9] += r * c
            for dr in range(-1, 2):
                for dc in range(-1, 2):
                    if dr == 0 and dc == 0:
                        continue
                    rr = r + dr
                    cc = c + dc
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
    return stats
