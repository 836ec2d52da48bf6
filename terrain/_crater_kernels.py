"""Compiled loops behind :mod:`terrain.craters`: pyramid, scale space, peaks, profile fits, discs.

Kernels take float32 arrays with NaN for nodata. Pixel coordinates are (row, col) indices of
pixel centres, fractional where a position falls between centres.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numba import njit

from .kernel_calls import readonly, split_range

EJECTA_REACH = 3.0
"""The crater model's ejecta blanket fades to zero at 3 crater radii (as in the synthetic site)."""
FIT_COLUMNS = 6
"""Columns of :func:`fit_craters`: radius, depth, rim height, residual RMS, valid share, centre."""
FIT_FASTMATH = {"reassoc", "contract", "arcp", "nsz"}
"""LLVM fast-math flags of the profile fit. Its helpers carry them explicitly: numba compiles a
callee without flags of its own with its first caller's, so their code (and last bits) would
otherwise depend on whether a test or the fit compiled them first."""


@njit(cache=True, nogil=True)
def downsample2(z):
    """2x2 block means; a block holding any NaN becomes NaN (a trailing odd row/col is dropped)."""
    rows, cols = z.shape
    out = np.empty((rows // 2, cols // 2), dtype=np.float32)
    for i in range(rows // 2):
        for j in range(cols // 2):
            out[i, j] = 0.25 * (
                z[2 * i, 2 * j]
                + z[2 * i, 2 * j + 1]
                + z[2 * i + 1, 2 * j]
                + z[2 * i + 1, 2 * j + 1]
            )
    return out


@njit(cache=True, nogil=True)
def nan_block_mean2(z):
    """2x2 block means over the valid cells only (NaN where the whole block is nodata)."""
    rows, cols = z.shape
    out = np.empty(((rows + 1) // 2, (cols + 1) // 2), dtype=np.float32)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            s = 0.0
            n = 0
            for a in range(2 * i, min(2 * i + 2, rows)):
                for b in range(2 * j, min(2 * j + 2, cols)):
                    if not np.isnan(z[a, b]):
                        s += z[a, b]
                        n += 1
            out[i, j] = s / n if n > 0 else np.nan
    return out


@njit(cache=True, nogil=True)
def fill_from_coarse(z, coarse):
    """Replace the NaN cells of ``z`` in place by the coarse cell (half resolution) above them."""
    rows, cols = z.shape
    for i in range(rows):
        for j in range(cols):
            if np.isnan(z[i, j]):
                z[i, j] = coarse[i // 2, j // 2]


@njit(cache=True, nogil=True)
def _gaussian_taps(sigma):
    """The normalised float32 taps of :func:`gaussian_blur`, 3 sigma each side."""
    half = max(1, int(np.ceil(3.0 * sigma)))
    taps = np.empty(2 * half + 1, dtype=np.float32)
    for k in range(-half, half + 1):
        taps[k + half] = np.exp(-0.5 * (k / sigma) ** 2)
    taps /= taps.sum()
    return taps


def gaussian_blur(
    z: np.ndarray,
    sigma: float,
    offset: float,
    out: np.ndarray | None = None,
    tmp: np.ndarray | None = None,
) -> np.ndarray:
    """Separable Gaussian blur of ``z - offset`` truncated at 3 sigma; edges extend the border.

    Rows first (contiguous), then columns as weighted sums of whole rows, so both passes walk
    memory in order; each pass runs its rows side by side. ``out`` and ``tmp`` (float32, the
    shape of ``z``, neither being ``z``) may be given to reuse buffers across calls: a fresh
    grid costs a page fault per 4 KiB page, a reused one none. Every cell is overwritten.
    """
    rows, cols = z.shape
    taps = readonly(_gaussian_taps(float(sigma)))
    if tmp is None:
        tmp = np.empty((rows, cols), dtype=np.float32)
    if out is None:
        out = np.empty((rows, cols), dtype=np.float32)
    split_range(partial(_blur_rows, readonly(z), taps, np.float32(offset), tmp), rows)
    split_range(partial(_blur_cols, readonly(tmp), taps, out), rows)
    return out


@njit(cache=True, nogil=True)
def _blur_rows(z, taps, off, tmp, lo, hi):
    """Rows ``lo:hi`` of the row pass of :func:`gaussian_blur`, minus ``off``, into ``tmp``."""
    cols = z.shape[1]
    half = taps.size // 2
    # the row with its border cells repeated, so the inner loop reads row[j + k + half]: an
    # index the compiler can check for overlap and vectorise (a clamped index it cannot)
    row = np.empty(cols + 2 * half, dtype=z.dtype)
    acc = np.empty(cols, dtype=np.float32)
    for i in range(lo, hi):
        for j in range(cols + 2 * half):
            row[j] = z[i, min(max(j - half, 0), cols - 1)]
        # taps outermost so the inner loop runs along the row; each cell still sums its taps in
        # the same order, so the numbers are those of a cell-by-cell loop
        for j in range(cols):
            acc[j] = 0.0
        for k in range(-half, half + 1):
            w = taps[k + half]
            for j in range(cols):
                acc[j] += w * row[j + k + half]
        for j in range(cols):
            tmp[i, j] = acc[j] - off


@njit(cache=True, nogil=True)
def _blur_cols(tmp, taps, out, lo, hi):
    """Rows ``lo:hi`` of the column pass of :func:`gaussian_blur`."""
    rows, cols = tmp.shape
    half = taps.size // 2
    # a local row (float32, as ``out``) that the compiler knows aliases nothing: vectorised
    acc = np.empty(cols, dtype=np.float32)
    for i in range(lo, hi):
        for j in range(cols):
            acc[j] = 0.0
        for k in range(-half, half + 1):
            w = taps[k + half]
            src = min(max(i + k, 0), rows - 1)
            for j in range(cols):
                acc[j] += w * tmp[src, j]
        for j in range(cols):
            out[i, j] = acc[j]


def fold_laplacian(
    blurred: np.ndarray,
    scale: np.float32,
    level: int,
    best: np.ndarray,
    best_level: np.ndarray,
) -> None:
    """Fold ``scale * laplacian(blurred)`` into the running maximum over scales, in place."""
    rows = blurred.shape[0]
    run = partial(_fold_rows, readonly(blurred), scale, level, best, best_level)
    split_range(run, max(rows - 2, 0))


@njit(cache=True, nogil=True)
def _fold_rows(blurred, scale, level, best, best_level, lo, hi):
    """Rows ``1 + lo`` to ``1 + hi`` of :func:`fold_laplacian`."""
    cols = blurred.shape[1]
    for i in range(1 + lo, 1 + hi):
        for j in range(1, cols - 1):
            v = scale * (
                blurred[i - 1, j]
                + blurred[i + 1, j]
                + blurred[i, j - 1]
                + blurred[i, j + 1]
                - 4.0 * blurred[i, j]
            )
            # stores without a branch, which the compiler vectorises
            take = v > best[i, j]
            best[i, j] = v if take else best[i, j]
            best_level[i, j] = level if take else best_level[i, j]


@njit(cache=True, nogil=True)
def find_peaks(resp, level, threshold):
    """Strict 3x3 local maxima of ``resp`` at or above ``threshold``, two cells from the border.

    (The Laplacian is undefined on the outermost cells, so their neighbours are skipped too.)

    Returns rows and columns refined to sub-pixel by a parabola through the 3x3 neighbourhood
    along each axis, and the scale index at each peak. Ties go to the first cell in raster
    order, so a plateau gives one peak.
    """
    rows, cols = resp.shape
    cap = 1024
    out_r = np.empty(cap)
    out_c = np.empty(cap)
    out_l = np.empty(cap, dtype=np.int32)
    n = 0
    for i in range(2, rows - 2):
        for j in range(2, cols - 2):
            v = resp[i, j]
            if not (v >= threshold):
                continue
            is_max = True
            for a in range(-1, 2):
                for c in range(-1, 2):
                    w = resp[i + a, j + c]
                    if (a != 0 or c != 0) and (w > v or (w == v and (a < 0 or (a == 0 and c < 0)))):
                        is_max = False
            if not is_max:
                continue
            if n == cap:
                cap *= 2
                out_r = np.concatenate((out_r, np.empty(n)))
                out_c = np.concatenate((out_c, np.empty(n)))
                out_l = np.concatenate((out_l, np.empty(n, dtype=np.int32)))
            dr = 0.0
            den = resp[i - 1, j] - 2.0 * v + resp[i + 1, j]
            if den < 0.0:
                dr = 0.5 * (resp[i - 1, j] - resp[i + 1, j]) / den
            dc = 0.0
            den = resp[i, j - 1] - 2.0 * v + resp[i, j + 1]
            if den < 0.0:
                dc = 0.5 * (resp[i, j - 1] - resp[i, j + 1]) / den
            out_r[n] = i + min(max(dr, -0.5), 0.5)
            out_c[n] = j + min(max(dc, -0.5), 0.5)
            out_l[n] = level[i, j]
            n += 1
    return out_r[:n], out_c[:n], out_l[:n]


@njit(cache=True, nogil=True, fastmath=FIT_FASTMATH)
def _solve(a, b):
    """Solve a small linear system by Gaussian elimination with partial pivoting.

    Returns NaNs when the system is numerically singular; ``a`` and ``b`` are overwritten.
    """
    n = b.size
    x = np.full(n, np.nan)
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(a[i, i]))
    if scale == 0.0:
        return x
    for c in range(n):
        p = c
        for r in range(c + 1, n):
            if abs(a[r, c]) > abs(a[p, c]):
                p = r
        if abs(a[p, c]) < 1e-12 * scale:
            return x
        if p != c:
            for k in range(n):
                a[c, k], a[p, k] = a[p, k], a[c, k]
            b[c], b[p] = b[p], b[c]
        for r in range(c + 1, n):
            f = a[r, c] / a[c, c]
            for k in range(c, n):
                a[r, k] -= f * a[c, k]
            b[r] -= f * b[c]
    for c in range(n - 1, -1, -1):
        s = b[c]
        for k in range(c + 1, n):
            s -= a[c, k] * x[k]
        x[c] = s / a[c, c]
    return x


@njit(cache=True, nogil=True, fastmath=FIT_FASTMATH)
def _solve_into(a, b, x):
    """:func:`_solve` into ``x`` (NaNs when singular), allocating nothing."""
    n = b.size
    x[:] = np.nan
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(a[i, i]))
    if scale == 0.0:
        return
    for c in range(n):
        p = c
        for r in range(c + 1, n):
            if abs(a[r, c]) > abs(a[p, c]):
                p = r
        if abs(a[p, c]) < 1e-12 * scale:
            return
        if p != c:
            for k in range(n):
                a[c, k], a[p, k] = a[p, k], a[c, k]
            b[c], b[p] = b[p], b[c]
        for r in range(c + 1, n):
            f = a[r, c] / a[c, c]
            for k in range(c, n):
                a[r, k] -= f * a[c, k]
            b[r] -= f * b[c]
    for c in range(n - 1, -1, -1):
        s = b[c]
        for k in range(c + 1, n):
            s -= a[c, k] * x[k]
        x[c] = s / a[c, c]


@njit(cache=True, nogil=True)
def _basis(q, r, f):
    """Radial basis at r (q = r / R) into f: constant, bowl, rim, r^2 background."""
    f[0] = 1.0
    f[1] = -(1.0 - q * q) if q < 1.0 else 0.0
    if q <= 1.0:
        f[2] = 1.0
    elif q < EJECTA_REACH:
        tail = 1.0 / (EJECTA_REACH * EJECTA_REACH * EJECTA_REACH)
        f[2] = (1.0 / (q * q * q) - tail) / (1.0 - tail)
    else:
        f[2] = 0.0
    f[3] = r * r


@njit(cache=True, nogil=True, fastmath=FIT_FASTMATH)
def _profile_sse(bn, br, bz, radius, min_rim, base, x, g, b):
    """Least-squares fit of the radial basis at one radius; returns the binned SSE.

    ``base`` holds the radius-free sums (n, n r^2, n r^4, n z, n r^2 z, n z^2) over the bins;
    the amplitudes (a, d, h, c) go to ``x``. Fits with a non-positive depth or a rim lower than
    ``min_rim * d`` return inf. ``g`` (4 x 4) and ``b`` (4) are scratch space, so that the 16
    calls per centre allocate nothing (the allocations cost twice the arithmetic). The right-hand
    side and the solution are read into scalars, as the allocating version's optimised code had
    them: with the fit's fast-math flags the SSE's last bits follow the shape of that code.
    """
    g01 = g02 = g11 = g12 = g22 = g13 = g23 = rz1 = rz2 = 0.0
    inv = 1.0 / radius
    tail = 1.0 / (EJECTA_REACH * EJECTA_REACH * EJECTA_REACH)
    for k in range(bn.size):
        n = bn[k]
        if n == 0.0:
            continue
        r = br[k]
        q = r * inv
        if q >= EJECTA_REACH:
            break  # bins are in order of r; beyond 3 R bowl and rim are zero
        rr = r * r
        if q < 1.0:
            f1 = q * q - 1.0
            f2 = 1.0
        else:
            f1 = 0.0
            f2 = (1.0 / (q * q * q) - tail) / (1.0 - tail)
        g01 += n * f1
        g02 += n * f2
        g11 += n * f1 * f1
        g12 += n * f1 * f2
        g22 += n * f2 * f2
        g13 += n * f1 * rr
        g23 += n * f2 * rr
        rz1 += n * f1 * bz[k]
        rz2 += n * f2 * bz[k]
    g[0, 0], g[0, 1], g[0, 2], g[0, 3] = base[0], g01, g02, base[1]
    g[1, 0], g[1, 1], g[1, 2], g[1, 3] = g01, g11, g12, g13
    g[2, 0], g[2, 1], g[2, 2], g[2, 3] = g02, g12, g22, g23
    g[3, 0], g[3, 1], g[3, 2], g[3, 3] = base[1], g13, g23, base[2]
    rhs0 = base[3]
    rhs3 = base[4]
    zz = base[5]
    b[0], b[1], b[2], b[3] = rhs0, rz1, rz2, rhs3
    _solve_into(g, b, x)
    x0, x1, x2, x3 = x[0], x[1], x[2], x[3]
    if np.isnan(x0) or x1 <= 0.0 or x2 < min_rim * x1:
        return np.inf
    # at the least-squares solution SSE = sum n z^2 - x . rhs
    return max(zz - (x0 * rhs0 + x1 * rz1 + x2 * rz2 + x3 * rhs3), 0.0)


@njit(cache=True, nogil=True, fastmath=FIT_FASTMATH)
def _fit_one(z, ci, cj, r_lo, r_hi, window, min_rim, out):
    """Fit the crater model at one centre; see :func:`fit_craters`."""
    rows, cols = z.shape
    for k in range(FIT_COLUMNS):
        out[k] = np.nan
    rw = window * r_hi
    rw2 = rw * rw
    bin_px = max(0.25, rw / 64.0)
    n_bins = int(rw / bin_px) + 1
    bn = np.zeros(n_bins)
    br = np.zeros(n_bins)
    bz = np.zeros(n_bins)
    bt0 = np.zeros(n_bins)
    bt1 = np.zeros(n_bins)
    bt2 = np.zeros(n_bins)
    bt3 = np.zeros(n_bins)
    inv_bin = 1.0 / bin_px
    # one pass: radial bins, and the sums to regress z on [1, t] with the non-radial trend
    # terms t = (dx, dy, dx^2 - dy^2, 2 dx dy) (a tilt and a saddle of the background). Per row
    # only power sums of dx are kept (dy is constant along it) and expanded after the row;
    # scalar accumulators, as small arrays indexed in the inner loop are several times slower.
    s1 = sx = sy = ss = sc = 0.0
    sxx = sxy = sxs = sxc = syy = sys_ = syc = sss = ssc = scc = 0.0
    sz = sxz = syz = ssz = scz = zz = 0.0
    full = 0
    i0 = min(max(int(round(ci)), 0), rows - 1)
    j0 = min(max(int(round(cj)), 0), cols - 1)
    offset = z[i0, j0] if not np.isnan(z[i0, j0]) else 0.0  # keeps the sums well conditioned
    for i in range(int(np.floor(ci - rw)), int(np.ceil(ci + rw)) + 1):
        dy = i - ci
        half = rw2 - dy * dy
        if half < 0.0:
            continue
        half = np.sqrt(half)
        j_a = int(np.ceil(cj - half))
        j_b = int(np.floor(cj + half))
        full += j_b - j_a + 1
        if i < 0 or i >= rows:
            continue
        dy2 = dy * dy
        p0 = p1 = p2 = p3 = p4 = q0 = q1 = q2 = 0.0
        for j in range(max(j_a, 0), min(j_b, cols - 1) + 1):
            v = z[i, j] - offset
            if np.isnan(v):
                continue
            dx = j - cj
            dx2 = dx * dx
            r = np.sqrt(dx2 + dy2)
            k = min(int(r * inv_bin), n_bins - 1)
            bn[k] += 1.0
            br[k] += r
            bz[k] += v
            bt0[k] += dx
            bt1[k] += dy
            bt2[k] += dx2 - dy2
            bt3[k] += 2.0 * dx * dy
            p0 += 1.0
            p1 += dx
            p2 += dx2
            p3 += dx2 * dx
            p4 += dx2 * dx2
            q0 += v
            q1 += dx * v
            q2 += dx2 * v
            zz += v * v
        # expand the row's power sums into the window sums of u = (1, dx, dy, t_s, t_c)
        s1 += p0
        sx += p1
        sy += dy * p0
        ss += p2 - dy2 * p0
        sc += 2.0 * dy * p1
        sxx += p2
        sxy += dy * p1
        sxs += p3 - dy2 * p1
        sxc += 2.0 * dy * p2
        syy += dy2 * p0
        sys_ += dy * p2 - dy2 * dy * p0
        syc += 2.0 * dy2 * p1
        sss += p4 - 2.0 * dy2 * p2 + dy2 * dy2 * p0
        ssc += 2.0 * dy * (p3 - dy2 * p1)
        scc += 4.0 * dy2 * p2
        sz += q0
        sxz += q1
        syz += dy * q0
        ssz += q2 - dy2 * q0
        scz += 2.0 * dy * q1
    a_m = np.array(
        [
            [s1, sx, sy, ss, sc],
            [sx, sxx, sxy, sxs, sxc],
            [sy, sxy, syy, sys_, syc],
            [ss, sxs, sys_, sss, ssc],
            [sc, sxc, syc, ssc, scc],
        ]
    )
    b_v = np.array([sz, sxz, syz, ssz, scz])
    n_valid = s1
    out[4] = n_valid / max(full, 1)
    if n_valid < 16.0:
        return
    a_t = a_m[1:, 1:].copy()
    b_t = b_v[1:].copy()
    beta = _solve(a_m, b_v)[1:]
    if np.isnan(beta[0]):
        beta[:] = 0.0
    # sum of squares of w = z - beta . t over the window, then ring means of w
    ww = zz
    for p in range(4):
        ww -= 2.0 * beta[p] * b_t[p]
        for q in range(4):
            ww += beta[p] * a_t[p, q] * beta[q]
    between = 0.0
    for k in range(n_bins):
        if bn[k] > 0:
            br[k] /= bn[k]
            w = bz[k] - beta[0] * bt0[k] - beta[1] * bt1[k] - beta[2] * bt2[k] - beta[3] * bt3[k]
            bz[k] = w / bn[k]
            between += bn[k] * bz[k] * bz[k]
    within = max(ww - between, 0.0)
    base = np.zeros(6)
    for k in range(n_bins):
        n = bn[k]
        if n > 0:
            rr = br[k] * br[k]
            base[0] += n
            base[1] += n * rr
            base[2] += n * rr * rr
            base[3] += n * bz[k]
            base[4] += n * rr * bz[k]
            base[5] += n * bz[k] * bz[k]
    x = np.empty(4)
    g = np.empty((4, 4))
    b = np.empty(4)
    best = np.full(4, np.nan)
    best_sse = np.inf
    best_r = np.nan
    # coarse scan over [r_lo, r_hi], then a fine scan around the best coarse radius
    n_coarse = 12
    ratio = (r_hi / r_lo) ** (1.0 / (n_coarse - 1))
    for s in range(n_coarse):
        radius = r_lo * ratio**s
        sse = _profile_sse(bn, br, bz, radius, min_rim, base, x, g, b)
        if sse < best_sse:
            best_sse = sse
            best_r = radius
            best[:] = x
    if np.isnan(best_r):
        return
    centre_r = best_r
    fine = ratio ** (1.0 / 3.0)
    for s in range(-2, 3):
        if s == 0:
            continue
        radius = centre_r * fine**s
        sse = _profile_sse(bn, br, bz, radius, min_rim, base, x, g, b)
        if sse < best_sse:
            best_sse = sse
            best_r = radius
            best[:] = x
    out[0] = best_r
    out[1] = best[1]
    out[2] = best[2]
    out[3] = np.sqrt((best_sse + within) / n_valid)
    out[5] = best[3] * best_r * best_r  # background curvature term at the rim, z units


def fit_craters(
    z: np.ndarray,
    ci: np.ndarray,
    cj: np.ndarray,
    r0: np.ndarray,
    lo_factor: float,
    hi_factor: float,
    window: float,
    min_rim: float,
) -> np.ndarray:
    """Fit the simple-crater model around every candidate centre.

    Within a window of radius ``window * hi_factor * r0`` the elevations are binned by distance
    from the centre (the non-radial trend terms dx, dy, dx^2 - dy^2 and dx dy are regressed out
    of the scatter). The radial profile is fitted, for trial radii R in
    ``[lo_factor, hi_factor] * r0``, by ``a + h rim(r/R) - d bowl(r/R) + c r^2``: a parabolic
    bowl ``bowl = 1 - (r/R)^2`` inside R whose floor lies ``d`` below the rim crest, a raised
    rim of height h with r^-3 ejecta fading to zero at 3 R, and a curved background ``c r^2``
    (the wall or floor of a larger crater). Amplitudes come from least squares weighted by pixel
    counts; the radius with the smallest residual wins.

    Returns an (n, 6) float64 array: R (px), depth d, rim height h, residual RMS over the window
    (z units), share of the window holding data, and the background curvature term at the
    rim crest (c R^2, z units). Rows of failed fits are NaN.
    """
    out = np.empty((ci.size, FIT_COLUMNS))
    centres = (readonly(ci), readonly(cj), readonly(r0))
    factors = (float(lo_factor), float(hi_factor), float(window), float(min_rim))
    split_range(partial(_fit_range, readonly(z), *centres, *factors, out), ci.size)
    return out


@njit(cache=True, nogil=True)
def _fit_range(z, ci, cj, r0, lo_factor, hi_factor, window, min_rim, out, lo, hi):
    """Fits ``lo:hi`` of :func:`fit_craters`, into the rows of ``out``."""
    for k in range(lo, hi):
        row = np.empty(FIT_COLUMNS)
        _fit_one(z, ci[k], cj[k], r0[k] * lo_factor, r0[k] * hi_factor, window, min_rim, row)
        out[k, :] = row


@njit(cache=True, nogil=True)
def discs_touch_nodata(z, ci, cj, radius):
    """Flag each disc (cells with centres within ``radius``) holding nodata or leaving the grid."""
    rows, cols = z.shape
    out = np.zeros(ci.size, dtype=np.bool_)
    for k in range(ci.size):
        r = radius[k]
        if ci[k] - r < -0.5 or cj[k] - r < -0.5 or ci[k] + r > rows - 0.5 or cj[k] + r > cols - 0.5:
            out[k] = True
            continue
        rr = r * r
        for i in range(
            max(int(np.ceil(ci[k] - r)), 0), min(int(np.floor(ci[k] + r)), rows - 1) + 1
        ):
            for j in range(
                max(int(np.ceil(cj[k] - r)), 0), min(int(np.floor(cj[k] + r)), cols - 1) + 1
            ):
                if (i - ci[k]) ** 2 + (j - cj[k]) ** 2 <= rr and np.isnan(z[i, j]):
                    out[k] = True
                    break
            if out[k]:
                break
    return out


@njit(cache=True, nogil=True)
def paint_discs(mask, ci, cj, radius):
    """Set ``mask`` True, in place, on cells whose centre lies within ``radius`` of (ci, cj)."""
    rows, cols = mask.shape
    for k in range(ci.size):
        r = radius[k]
        rr = r * r
        for i in range(
            max(int(np.ceil(ci[k] - r)), 0), min(int(np.floor(ci[k] + r)), rows - 1) + 1
        ):
            for j in range(
                max(int(np.ceil(cj[k] - r)), 0), min(int(np.floor(cj[k] + r)), cols - 1) + 1
            ):
                if (i - ci[k]) ** 2 + (j - cj[k]) ** 2 <= rr:
                    mask[i, j] = True
