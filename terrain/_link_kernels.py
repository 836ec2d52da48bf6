"""Compiled radio kernels: block means, and the ray sweep of the link budget over terrain.

Every ray runs from the lander's antenna to one edge cell of the radio grid. Along it heights
are taken in the lander's tangent frame (each sample lowered by d^2 / 2R, so straight lines are
straight radio rays on the curved Moon) and, for every sample as a receiver, the diffraction
loss of the profile behind it comes from the Bullington construction of ITU-R P.526 (the
general-terrain method of its section on paths over irregular terrain): on a path with line of
sight the loss is J of the largest Fresnel-Kirchhoff parameter v of the profile; otherwise the
obstacles are replaced by one knife edge where the steepest ray from the transmitter over the
terrain meets the steepest ray from the receiver, and the loss is J of that edge's v. Knife-edge
loss per ITU-R P.526: J(v) = 6.9 + 20 log10(sqrt((v - 0.1)^2 + 1) + v - 0.1) dB for v > -0.78,
else 0.

Both steepest rays touch the upper convex hull of the profile, which is kept on a stack as the
ray advances (amortised O(1) per sample): the transmitter's is a running maximum, the
receiver's a binary search on the hull (its elevation angle from the receiver rises then falls
along the hull). On a clear path the largest v of the profile is taken over the hull's
vertices. That is exact for any point above the line (v > 0: along a hull segment v = h / r
with h affine and r concave, so its largest value lies at an end, and a point under the hull
has a smaller h at the same distance); for a path that clears everything a point in a dip
under a hull segment can have a larger (negative) v than the segment's ends when those lie
close to the antennas, which underestimates a grazing loss of at most a few dB (measured
against the full profile in the tests). The search starts at the hull vertex highest above
the line and walks outwards only while a vertex below the line could still reach v = -0.78 or
the best v so far (h / r_max with r_max = sqrt(lambda D / 8)).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numba import njit

from .kernel_calls import readonly, split_range

V_MIN = -0.78
"""Below this Fresnel-Kirchhoff parameter a knife edge costs nothing (ITU-R P.526)."""


@njit(cache=True, inline="always")
def knife_edge_db(v):
    """ITU-R P.526 knife-edge loss J(v) in dB (0 for v <= -0.78)."""
    if v <= V_MIN:
        return 0.0
    return 6.9 + 20.0 * np.log10(np.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)


def block_mean(z: np.ndarray, f: int) -> np.ndarray:
    """NaN-aware means over f x f blocks (partial blocks at the far edges); NaN when empty.

    Each block is summed in the same order whatever array it is cut from, so a strip of rows
    (a multiple of f) gives the same means as the whole grid. Block rows run side by side.
    """
    rows, cols = z.shape
    nr = (rows + f - 1) // f
    nc = (cols + f - 1) // f
    out = np.empty((nr, nc), dtype=np.float32)
    split_range(partial(_block_mean_rows, readonly(z), f, out), nr)
    return out


@njit(cache=True, nogil=True)
def _block_mean_rows(z, f, out, lo, hi):
    """Block rows ``lo:hi`` of :func:`block_mean`."""
    rows, cols = z.shape
    nc = out.shape[1]
    for bi in range(lo, hi):
        for bj in range(nc):
            s = 0.0
            n = 0
            for i in range(bi * f, min(bi * f + f, rows)):
                for j in range(bj * f, min(bj * f + f, cols)):
                    v = z[i, j]
                    if v == v:
                        s += v
                        n += 1
            out[bi, bj] = s / n if n > 0 else np.nan


@njit(cache=True, inline="always")
def _v(h, d1, d2, lam):
    return h * np.sqrt(2.0 * (d1 + d2) / (lam * d1 * d2))


@njit(cache=True)
def _max_v(hd, hz, n, za, db, zb, lam):
    """Largest v over hull points 0..n-1 for the line (0, za)-(db, zb) (see the module notes)."""
    m = (zb - za) / db
    # the vertex highest above the line: where the hull's falling slopes cross the line's
    a = 0
    b = n - 1
    while a < b:
        mid = (a + b) // 2
        if (hz[mid + 1] - hz[mid]) / (hd[mid + 1] - hd[mid]) >= m:
            a = mid + 1
        else:
            b = mid
    peak = a
    r_max = np.sqrt(lam * db / 8.0)
    best = -np.inf
    for side in range(2):
        k = peak if side == 0 else peak + 1
        step = -1 if side == 0 else 1
        while 0 <= k < n:
            h = hz[k] - za - m * hd[k]
            v = _v(h, hd[k], db - hd[k], lam)
            if v > best:
                best = v
            if h <= 0.0 and h / r_max < max(best, V_MIN):
                break  # every point further out lies lower still
            k += step
    return best


@njit(cache=True)
def _rx_tangent(hd, hz, n, dr, zr):
    """Largest elevation angle (slope) from the receiver back to the hull points 0..n-1."""
    a = 0
    b = n - 1
    while a < b:  # the angle rises then falls along the hull
        mid = (a + b) // 2
        if (hz[mid + 1] - zr) / (dr - hd[mid + 1]) > (hz[mid] - zr) / (dr - hd[mid]):
            a = mid + 1
        else:
            b = mid
    return (hz[a] - zr) / (dr - hd[a])


@njit(cache=True)
def bullington_db(hd, hz, n, tangent, zt, dr, zr, lam):
    """Bullington diffraction loss (dB) for a receiver at (dr, zr) behind hull points 0..n-1.

    ``tangent`` is the steepest slope from the transmitter (at distance 0, height ``zt``) over
    the terrain before the receiver.
    """
    s_tr = (zr - zt) / dr
    if tangent < s_tr:  # line of sight: the largest v of the profile
        return knife_edge_db(_max_v(hd, hz, n, zt, dr, zr, lam))
    s_rim = _rx_tangent(hd, hz, n, dr, zr)
    den = tangent + s_rim
    if den <= 0.0:  # grazing: the two rays coincide along the line
        return knife_edge_db(0.0)
    db = (zr - zt + s_rim * dr) / den
    db = min(max(db, 1e-9 * dr), dr * (1.0 - 1e-9))
    h = zt + tangent * db - (zt + s_tr * db)
    return knife_edge_db(_v(h, db, dr - db, lam))


@njit(cache=True, nogil=True)
def _ray(
    z, res, r0, c0, r1, c1, zt, h_rx, inv_2r, lam, budget, fspl0, margin, vis, cell, off, want,
):  # fmt: skip
    """One ray from (r0, c0) to (r1, c1): margin, sight, cell and offset of each sample.

    The offset is the squared distance (cells) of the sample from its cell's centre. The
    margin (its diffraction loss and path loss) is computed only where ``want`` is non-zero
    (NaN elsewhere); the hull and the tangent follow every sample all the same.
    """
    rows, cols = z.shape
    dr = r1 - r0
    dc = c1 - c0
    steps = max(abs(dr), abs(dc))
    hd = np.empty(steps + 1)
    hz = np.empty(steps + 1)
    n = np.int64(0)  # typed, not the literal 0: that compiles bullington_db a second time
    tangent = -np.inf  # steepest terrain tangent from the transmitter so far
    blocked = False
    for k in range(1, steps + 1):
        fr = r0 + dr * k / steps
        fc = c0 + dc * k / steps
        i = int(np.floor(fr + 0.5))
        j = int(np.floor(fc + 0.5))
        cell[k - 1] = i * cols + j
        off[k - 1] = (fr - i) ** 2 + (fc - j) ** 2
        d = res * np.sqrt((fr - r0) ** 2 + (fc - c0) ** 2)
        zg = z[i, j]
        if blocked or zg != zg:  # nodata: no link into it or past it
            blocked = True
            margin[k - 1] = -np.inf
            vis[k - 1] = 0
            continue
        drop = d * d * inv_2r
        zg = zg - drop
        zr = zg + h_rx
        vis[k - 1] = 1 if (zr - zt) / d >= tangent else 0
        if want[k - 1]:
            loss = bullington_db(hd, hz, n, tangent, zt, d, zr, lam) if n > 0 else 0.0
            slant = np.sqrt(d * d + (zr - zt) ** 2)
            margin[k - 1] = budget - (fspl0 + 20.0 * np.log10(slant)) - loss
        else:
            margin[k - 1] = np.nan
        t = (zg - zt) / d
        if t > tangent:
            tangent = t
        # push the sample onto the upper hull
        while n >= 2:
            cross = (hd[n - 1] - hd[n - 2]) * (zg - hz[n - 2]) - (hz[n - 1] - hz[n - 2]) * (
                d - hd[n - 2]
            )
            if cross >= 0.0:
                n -= 1
            else:
                break
        hd[n] = d
        hz[n] = zg
        n += 1


def link_sweep(
    z: np.ndarray,
    res: float,
    r0: int,
    c0: int,
    h_tx: float,
    h_rx: float,
    body_radius: float,
    lam: float,
    budget: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Link margin (dB) and line of sight (1/0) of every cell of a radio grid.

    The transmitter stands ``h_tx`` above cell (r0, c0), the receiver ``h_rx`` above each cell;
    the margin is ``budget - 20 log10(4 pi d / lambda) - diffraction``. A cell crossed by
    several rays takes the sample that lies nearest its centre (ties: the first ray). Rays run
    side by side into their own buffers; the cells are then reduced in ray order, so the result
    does not depend on the thread count.
    """
    return _link_sweep(z, res, r0, c0, h_tx, h_rx, body_radius, lam, budget, winners_only=True)


def _link_sweep(z, res, r0, c0, h_tx, h_rx, body_radius, lam, budget, *, winners_only):
    """:func:`link_sweep`; ``winners_only=False`` computes the margin of every sample.

    Which sample a cell takes depends on the rays' geometry alone, so a first pass finds the
    cells and offsets of every sample and the winner of each cell; the sweep then computes the
    diffraction and path loss (most of its work) only for the winners, about half the samples.
    """
    z = readonly(z)
    ends, offsets = _ray_ends(z.shape[0], z.shape[1], r0, c0)
    total = int(offsets[-1])
    m_buf = np.empty(total)
    v_buf = np.empty(total, dtype=np.uint8)
    c_buf = np.empty(total, dtype=np.int64)
    o_buf = np.empty(total)
    ends_r, offsets_r = readonly(ends), readonly(offsets)
    if winners_only:
        rows, cols = z.shape
        split_range(partial(_ray_cells, cols, r0, c0, ends_r, offsets_r, c_buf, o_buf), len(ends))
        first, want = _winners(rows, cols, c_buf, o_buf)
    else:
        want = np.ones(total, dtype=np.uint8)
    consts = (res, r0, c0, h_tx, h_rx, body_radius, lam, budget)
    bufs = (m_buf, v_buf, c_buf, o_buf, readonly(want))
    split_range(partial(_rays, z, *consts, ends_r, offsets_r, *bufs), len(ends))
    if winners_only:
        return _take_winners(z, r0, c0, h_tx, h_rx, lam, budget, m_buf, v_buf, first)
    return _reduce_rays(z, r0, c0, h_tx, h_rx, lam, budget, *bufs[:4])


@njit(cache=True, nogil=True)
def _ray_cells(cols, r0, c0, ends, offsets, c_buf, o_buf, lo, hi):
    """Cell and offset of every sample of rays ``lo:hi`` (the same arithmetic as :func:`_ray`)."""
    for e in range(lo, hi):
        a = offsets[e]
        dr = ends[e, 0] - r0
        dc = ends[e, 1] - c0
        steps = max(abs(dr), abs(dc))
        for k in range(1, steps + 1):
            fr = r0 + dr * k / steps
            fc = c0 + dc * k / steps
            i = int(np.floor(fr + 0.5))
            j = int(np.floor(fc + 0.5))
            c_buf[a + k - 1] = i * cols + j
            o_buf[a + k - 1] = (fr - i) ** 2 + (fc - j) ** 2


@njit(cache=True, nogil=True)
def _winners(rows, cols, c_buf, o_buf):
    """The sample each cell takes, and a flag per sample (1: taken by its cell, else 0).

    A cell takes the sample nearest its centre (ties: the first); -1 where no ray passes.
    """
    best = np.full(rows * cols, np.inf)  # flat: the cell index needs no division
    first = np.full(rows * cols, -1, dtype=np.int64)
    want = np.zeros(c_buf.size, dtype=np.uint8)
    for q in range(c_buf.size):
        c = c_buf[q]
        if o_buf[q] < best[c]:
            best[c] = o_buf[q]
            if first[c] >= 0:
                want[first[c]] = 0
            first[c] = q
            want[q] = 1
    first = first.reshape((rows, cols))
    return first, want


@njit(cache=True, nogil=True)
def _take_winners(z, r0, c0, h_tx, h_rx, lam, budget, m_buf, v_buf, first):
    """Margin and sight of each cell from its sample ``first`` (what :func:`_reduce_rays` keeps)."""
    fspl0 = 20.0 * np.log10(4.0 * np.pi / lam)
    rows, cols = z.shape
    margin = np.full((rows, cols), np.nan, dtype=np.float32)
    vis = np.zeros((rows, cols), dtype=np.uint8)
    for i in range(rows):
        for j in range(cols):
            q = first[i, j]
            if q >= 0:
                margin[i, j] = m_buf[q]
                vis[i, j] = v_buf[q]
    if z[r0, c0] == z[r0, c0]:
        margin[r0, c0] = budget - (fspl0 + 20.0 * np.log10(max(h_tx - h_rx, 1.0)))
        vis[r0, c0] = 1
    return margin, vis


@njit(cache=True, nogil=True)
def _ray_ends(rows, cols, r0, c0):
    """The far cell of every ray (one per edge cell) and where its samples start in the buffers."""
    n_edge = 2 * cols + 2 * rows
    ends = np.empty((n_edge, 2), dtype=np.int64)
    offsets = np.zeros(n_edge + 1, dtype=np.int64)
    for e in range(n_edge):
        if e < cols:
            r1, c1 = 0, e
        elif e < 2 * cols:
            r1, c1 = rows - 1, e - cols
        elif e < 2 * cols + rows:
            r1, c1 = e - 2 * cols, 0
        else:
            r1, c1 = e - 2 * cols - rows, cols - 1
        ends[e, 0] = r1
        ends[e, 1] = c1
        offsets[e + 1] = offsets[e] + max(abs(r1 - r0), abs(c1 - c0))
    return ends, offsets


@njit(cache=True, nogil=True)
def _rays(
    z, res, r0, c0, h_tx, h_rx, body_radius, lam, budget, ends, offsets, m_buf, v_buf, c_buf,
    o_buf, want, lo, hi,
):  # fmt: skip
    """Rays ``lo:hi`` of :func:`link_sweep`, each into its own part of the buffers."""
    inv_2r = 1.0 / (2.0 * body_radius)
    fspl0 = 20.0 * np.log10(4.0 * np.pi / lam)
    zt = z[r0, c0] + h_tx
    for e in range(lo, hi):
        a, b = offsets[e], offsets[e + 1]
        if b > a:
            _ray(
                z, res, r0, c0, ends[e, 0], ends[e, 1], zt, h_rx, inv_2r, lam, budget, fspl0,
                m_buf[a:b], v_buf[a:b], c_buf[a:b], o_buf[a:b], want[a:b],
            )  # fmt: skip


@njit(cache=True, nogil=True)
def _reduce_rays(z, r0, c0, h_tx, h_rx, lam, budget, m_buf, v_buf, c_buf, o_buf):
    """Each cell takes the sample of the rays nearest its centre (ties: the first ray)."""
    fspl0 = 20.0 * np.log10(4.0 * np.pi / lam)
    rows, cols = z.shape
    total = m_buf.size
    margin = np.full((rows, cols), np.nan, dtype=np.float32)
    vis = np.zeros((rows, cols), dtype=np.uint8)
    best = np.full((rows, cols), np.inf)
    for q in range(total):
        c = c_buf[q]
        i = c // cols
        j = c - i * cols
        if o_buf[q] < best[i, j]:
            best[i, j] = o_buf[q]
            margin[i, j] = m_buf[q]
            vis[i, j] = v_buf[q]
    if z[r0, c0] == z[r0, c0]:
        margin[r0, c0] = budget - (fspl0 + 20.0 * np.log10(max(h_tx - h_rx, 1.0)))
        vis[r0, c0] = 1
    return margin, vis
