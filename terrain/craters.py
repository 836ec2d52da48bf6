"""Craters found in a DEM: bowls with raised rims, sized, measured and checked against truth.

Method (cost about linear in the number of pixels):

1. **Pyramid.** Level k holds 2^k x 2^k block means of the DEM (a block holding any nodata cell
   is nodata). Level k is responsible for crater diameters of 10-20 of its own pixels, that is
   ``[10, 20) * 2^k`` full-resolution pixels, so every crater is fitted with 5-10 px of radius.
2. **Proposals.** On the grid one level coarser (holes filled from coarser levels), the
   scale-normalised Laplacian of Gaussian (a bowl has a positive Laplacian; scikit-image's
   ``blob_log`` idea, computed incrementally in compiled code) is maximised over a few scales
   per octave; its local maxima above a response worth a depth/diameter of
   ``min_depth_ratio`` become candidate centres with a first radius.
3. **Verification.** Around each candidate the elevations are binned into rings (a tilt and a
   saddle of the background are regressed out) and the ring profile is fitted with the simple
   crater model: a parabolic bowl whose floor lies ``d`` below the rim crest, a raised rim with
   r^-3 ejecta (McGetchin et al. 1973), and a curved background (the wall of a larger crater).
   The radius is the one that fits best among fits with a raised rim (rim height at least
   ``MIN_RIM_RATIO`` times the depth: slightly negative is allowed, as the rims of degraded
   craters, 0.18 d, drown in the relief; without the rule small craters are fitted as wide,
   rimless dips). A candidate is a crater when the bowl is deep enough
   (``d / D >= min_depth_ratio``) and stands out of the residual terrain
   (``d / rms >= min_contrast``), and when its rim disc holds no nodata and lies on the grid.
4. **Duplicates** (centres closer than half the larger radius, diameters within a factor 1.5)
   keep the one with the higher contrast.

A nodata hole is neither a crater nor flat ground: it never proposes a crater (it is filled
only to keep the filters defined), and no crater whose rim disc touches a hole or the grid
edge is reported.

Measured on synthetic Mare Frigoris sites (``tests/terrain/test_craters.py``,
``benchmarks/bench_craters.py``), with the evaluation population of
:func:`evaluation_population` (truth craters >= 10 px, d/D >= 0.05, at most half inside one
larger crater): recall 0.68-0.71, precision 0.72-0.75; recall over every truth crater >= 10 px
0.47 (most craters of the steady-state population are shallower than d/D 0.05, as deep as the
relief). The site's relief is the one calibrated to the published mare roughness (4 deg RMS
at 25 m, ``terrain.synth``): on it, crater-free, about 450-510 dips per km^2 pass at d/D 0.05
(3400 at the former 0.035), none deeper than d/D 0.072 (walls under 16 degrees). Craters are
information here (stops, the crater mask): the hazard map judges their walls by slope.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from affine import Affine
from scipy.spatial import cKDTree

from . import _crater_kernels as kern
from . import _hazard_kernels as _hk
from .errors import GridError, TerrainError
from .io import point_features
from .kernel_calls import readonly

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

BAND_PX = 10.0
"""Each pyramid level detects craters 10-20 of its own pixels wide."""
MIN_DIAMETER_PX = 8.0
"""Smallest diameter the profile fit can resolve (4 px of radius)."""
SIGMA_PER_RADIUS = 0.38
"""Scale of the strongest Laplacian-of-Gaussian response to a crater of radius R, in units of R.
0.475 for a continuous model bowl; 0.38 measured on the block-averaged proposal grid."""
LOG_RESPONSE_PER_DEPTH = 0.55
"""sigma^2 * Laplacian at the centre of a model crater, at its best scale, in units of depth."""
SCALES_PER_OCTAVE = 3
PROPOSAL_MARGIN = (0.9, 1.05)
"""Proposal scales span the level's radii times these factors."""
FIT_RADIUS_RANGE = (0.4, 1.4)
"""Trial radii as multiples of the proposal's radius."""
FIT_WINDOW = 2.0
"""Fit window radius in units of the largest trial radius."""
MIN_RIM_RATIO = -0.3
"""Fits whose rim height is below this multiple of the depth are not craters (no raised rim)."""
MIN_VALID_SHARE = 0.5
"""Share of the fit window that must hold data."""
PROPOSAL_SLACK = 0.8
"""Proposals need a Laplacian response worth this share of ``min_depth_ratio`` (the fit decides)."""
DUPLICATE_OFFSET = 0.5
DUPLICATE_SIZE_RATIO = 1.5

PARALLEL_MIN_CELLS = 1 << 24
"""Grids smaller than this run the compiled loops on one thread. On a busy machine starting the
thread team costs tens of milliseconds per loop and spinning threads slow the others down;
only the largest levels (8192 x 8192 and up) gain from threads."""

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class DetectedCraters:
    """Craters found in a DEM: centres in map metres, diameter, depth (rim crest to floor)."""

    x: np.ndarray
    y: np.ndarray
    diameter_m: np.ndarray
    depth_m: np.ndarray

    def __len__(self) -> int:
        return int(np.size(self.x))

    @classmethod
    def empty(cls) -> DetectedCraters:
        """No craters."""
        e = np.zeros(0)
        return cls(e, e, e, e)


def detect_craters(
    elevation: np.ndarray,
    res_m: float,
    *,
    min_diameter_px: float = 10.0,
    max_diameter_px: float | None = None,
    transform: Affine | None = None,
    min_depth_ratio: float = 0.05,
    min_contrast: float = 2.0,
    progress: Progress | None = None,
) -> DetectedCraters:
    """Find bowl-shaped craters with raised rims in a DEM.

    Parameters
    ----------
    elevation : ndarray of shape (M, N)
        Heights in metres on a square-pixel metric grid, NaN for nodata.
    res_m : float
        Pixel size in metres.
    min_diameter_px : float
        Smallest rim-crest diameter reported, in pixels (at least 8).
    max_diameter_px : float, optional
        Largest diameter searched, in pixels; default a quarter of the shorter grid side.
    transform : affine.Affine, optional
        Grid transform (pixel corners, as ``Dem.transform``); centres are then map coordinates.
        Without it ``Affine.scale(res_m, -res_m)``: x east and y north in metres from the
        top-left corner of the grid.
    min_depth_ratio : float
        Smallest depth/diameter ratio reported. Degraded mare craters reach d/D ~ 0.03, but
        below 0.05 dips of mare relief (4 deg RMS at 25 m) outnumber them: relief alone passes
        about 3400 per km^2 at 0.035 and 500 at 0.05.
    min_contrast : float
        Smallest ratio of fitted depth to the RMS of what the crater model leaves unexplained in
        the fit window (2-3 crater radii), a signal-to-clutter ratio.
    progress : callable(fraction, stage), optional
        Progress callback.

    Returns
    -------
    DetectedCraters
        Centres (map metres), rim-crest diameter and depth below the rim crest (metres),
        largest first.

    Raises
    ------
    GridError
        ``elevation`` is not a 2-D array.
    TerrainError
        A parameter is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:128, :128] - 63.5
    >>> q2 = (xx**2 + yy**2) / 15.0**2  # a bowl of radius 15 px, 3 m deep, rim 0.5 m
    >>> z = np.where(q2 <= 1, 0.5 - 3.0 * (1 - q2), 0.5 * np.clip(q2, 1, 9) ** -1.5)
    >>> found = detect_craters(z, 1.0)
    >>> len(found), round(float(found.diameter_m[0])), round(float(found.depth_m[0]), 1)
    (1, 30, 3.0)
    """
    z = np.asarray(elevation, dtype=np.float32)
    if z.ndim != 2:
        raise GridError(f"elevation must be a 2-D array, got shape {z.shape}")
    _check_positive("res_m", res_m)
    if not min_diameter_px >= MIN_DIAMETER_PX:
        raise TerrainError(
            f"min_diameter_px={min_diameter_px}: the profile fit needs at least "
            f"{MIN_DIAMETER_PX:g} px of diameter; use a finer DEM for smaller craters"
        )
    if max_diameter_px is None:  # a grid too small for any crater simply has none
        max_diameter_px = max(min(z.shape) / 4.0, min_diameter_px)
    if not max_diameter_px >= min_diameter_px:
        raise TerrainError(
            f"max_diameter_px={max_diameter_px} is below min_diameter_px={min_diameter_px} "
            f"(the default is a quarter of the grid side, {min(z.shape) / 4.0:g} px)"
        )
    if not 0.0 <= min_depth_ratio < 1.0:
        raise TerrainError(f"min_depth_ratio must be in [0, 1), got {min_depth_ratio}")
    _check_positive("min_contrast", min_contrast)
    if transform is None:
        transform = Affine.scale(res_m, -res_m)
    report = progress or (lambda fraction, stage="": None)

    # a typical height (median of a strided sample), taken off before filtering so that float32
    # sums stay small; the profile fits take each window's own reference in float64
    step = max(1, int(math.sqrt(z.size / 65536)))
    sample = z[::step, ::step]
    if np.isfinite(sample).any():
        ref = float(np.nanmedian(sample))
    elif np.isfinite(z).any():
        ref = float(z[np.isfinite(z)][0])
    else:
        return DetectedCraters(*(np.zeros(0) for _ in range(4)))

    levels = _levels(min_diameter_px, max_diameter_px, z.shape)
    grids = [readonly(z)]  # read-only, as the kernels' inputs always are (one compile each)
    found: list[np.ndarray] = []
    for n_done, (k, d_lo, d_hi) in enumerate(levels):
        report(n_done / max(len(levels), 1), f"craters {d_lo:.0f}-{d_hi:.0f} px")
        while len(grids) < k + 2:
            grids.append(readonly(kern.downsample2(grids[-1])))
        with _threads(grids[k].size):
            found.append(
                _detect_level(
                    grids[k], _filled(grids[k + 1]), ref, k, d_lo, d_hi, res_m, min_depth_ratio
                )
            )
    cand = np.concatenate(found) if found else np.zeros((0, 6))
    row, col, radius, depth, rms, share = cand.T
    diameter = 2.0 * radius
    keep = (
        np.isfinite(radius)
        & (diameter >= min_diameter_px)
        & (diameter <= max_diameter_px)
        & (share >= MIN_VALID_SHARE)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        keep &= (depth >= min_depth_ratio * diameter * res_m) & (depth >= min_contrast * rms)
    idx = np.flatnonzero(keep)
    if _hk.has_nonfinite(z):
        idx = idx[~kern.discs_touch_nodata(z, row[idx], col[idx], radius[idx])]
    else:  # only the grid edge can cut a disc
        r = radius[idx]
        inside = (row[idx] - r >= -0.5) & (col[idx] - r >= -0.5)
        inside &= (row[idx] + r <= z.shape[0] - 0.5) & (col[idx] + r <= z.shape[1] - 0.5)
        idx = idx[inside]
    idx = idx[_suppress_duplicates(row[idx], col[idx], radius[idx], depth[idx] / rms[idx])]
    idx = idx[np.argsort(-radius[idx], kind="stable")]
    x, y = transform @ (col[idx] + 0.5, row[idx] + 0.5)
    report(1.0, "craters done")
    log.info("detected %d craters of %g-%g px", idx.size, min_diameter_px, max_diameter_px)
    return DetectedCraters(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        diameter[idx] * res_m,
        depth[idx].astype(np.float64),
    )


@contextlib.contextmanager
def _threads(n_cells: int) -> Iterator[None]:
    """One numba thread for small grids (the setting is per calling thread; restored after)."""
    before = numba.get_num_threads()
    if n_cells < PARALLEL_MIN_CELLS:
        numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _check_positive(name: str, value: float) -> None:
    if not (np.isfinite(value) and value > 0):
        raise TerrainError(f"{name} must be a positive number, got {value}")


def _levels(d_min: float, d_max: float, shape: tuple[int, int]) -> list[tuple[int, float, float]]:
    """Pyramid levels (k, lowest, highest diameter in full-resolution px) covering [d_min, d_max].

    Level k handles [10, 20) * 2^k px and needs the grid one level coarser, with room for the
    filters (at least 16 px a side).
    """
    out = []
    k = 0
    while BAND_PX * 2 ** (k + 1) <= d_min:
        k += 1
    while BAND_PX * 2**k <= d_max and min(shape) // 2 ** (k + 1) >= 16:
        lo = max(BAND_PX * 2**k, d_min) if out else d_min
        out.append((k, lo, min(BAND_PX * 2 ** (k + 1), d_max)))
        k += 1
    if out:  # the top level also takes anything larger up to d_max
        k, lo, _ = out[-1]
        out[-1] = (k, lo, d_max)
    return out


def _filled(z: np.ndarray) -> np.ndarray:
    """``z`` with NaN holes filled from successively coarser block means (push-pull).

    A copy when there are holes; ``z`` itself (not to be written) when there are none.
    """
    if not np.isnan(z).any():  # nothing to fill: the grid itself (the filters only read it)
        return z
    out = z.copy()
    pyramid = [out]
    while np.isnan(pyramid[-1]).any() and min(pyramid[-1].shape) > 1:
        pyramid.append(kern.nan_block_mean2(pyramid[-1]))
    top = pyramid[-1]
    top[np.isnan(top)] = 0.0 if np.isnan(top).all() else np.nanmean(top)
    for k in range(len(pyramid) - 2, -1, -1):
        kern.fill_from_coarse(pyramid[k], pyramid[k + 1])
    return out


def _detect_level(
    z_fit: np.ndarray,
    z_prop: np.ndarray,
    ref: float,
    k: int,
    d_lo: float,
    d_hi: float,
    res_m: float,
    min_depth_ratio: float,
) -> np.ndarray:
    """Propose on the coarser grid and fit on ``z_fit`` (level k); rows in full-res pixels.

    ``ref`` is a typical height, removed before filtering.

    Returns an (n, 6) array: row, col, radius (px), depth (m), residual RMS (m), valid share.
    """
    scale = 2**k
    step = 2  # z_prop is level k + 1
    res_prop = res_m * step * scale
    # radii of the band on the proposal grid, a little margin below for the size estimate
    r_lo = PROPOSAL_MARGIN[0] * d_lo / (2.0 * step * scale)
    r_hi = PROPOSAL_MARGIN[1] * d_hi / (2.0 * step * scale)
    s_lo = SIGMA_PER_RADIUS * r_lo
    s_hi = max(SIGMA_PER_RADIUS * r_hi, s_lo * 1.01)
    n_sig = int(math.ceil(math.log2(s_hi / s_lo) * SCALES_PER_OCTAVE)) + 1
    sigmas = s_lo * (s_hi / s_lo) ** (np.arange(n_sig) / max(n_sig - 1, 1))
    best = np.full(z_prop.shape, -np.inf, dtype=np.float32)
    best_level = np.zeros(z_prop.shape, dtype=np.int32)
    blurred = z_prop
    done = 0.0
    # each blur starts from the last: two result grids taken in turn and one for the row pass,
    # reused across scales rather than two fresh grids (and their page faults) a scale
    tmp = np.empty(z_prop.shape, dtype=np.float32)
    buffers = [np.empty(z_prop.shape, dtype=np.float32) for _ in range(min(2, n_sig))]
    for i, s in enumerate(sigmas):
        blurred = kern.gaussian_blur(
            blurred,
            math.sqrt(s * s - done * done),
            ref if i == 0 else 0.0,
            out=buffers[i % 2],
            tmp=tmp,
        )
        done = s
        # response in units of depth/diameter of a model crater at its best scale
        diameter_m = 2.0 * s / SIGMA_PER_RADIUS * res_prop
        kern.fold_laplacian(
            blurred, np.float32(s * s / (LOG_RESPONSE_PER_DEPTH * diameter_m)), i, best, best_level
        )
    rows, cols, lev = kern.find_peaks(
        best, best_level, np.float32(PROPOSAL_SLACK * min_depth_ratio)
    )
    if rows.size == 0:
        return np.zeros((0, 6))
    # proposal grid (k + 1) -> fit grid (k): centre of coarse cell i is fine index 2 i + 0.5
    ci = step * rows + (step - 1) / 2.0
    cj = step * cols + (step - 1) / 2.0
    r0 = step * sigmas[lev] / SIGMA_PER_RADIUS
    fit = kern.fit_craters(z_fit, ci, cj, r0, *FIT_RADIUS_RANGE, FIT_WINDOW, MIN_RIM_RATIO)
    # fit grid (k) -> full resolution
    return np.column_stack(
        [
            scale * ci + (scale - 1) / 2.0,
            scale * cj + (scale - 1) / 2.0,
            scale * fit[:, 0],
            fit[:, 1],
            fit[:, 3],
            fit[:, 4],
        ]
    )


def _suppress_duplicates(row, col, radius, score) -> np.ndarray:
    """Return the indices kept by non-maximum suppression (best score first)."""
    n = row.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-score, kind="stable")
    pts = np.column_stack([row, col])
    tree = cKDTree(pts)
    # a duplicate lies within half the larger radius, and the larger is <= 1.5x the smaller
    reach = DUPLICATE_OFFSET * DUPLICATE_SIZE_RATIO * radius
    neighbours = tree.query_ball_point(pts, reach)
    dropped = np.zeros(n, dtype=bool)
    kept = []
    for i in order:
        if dropped[i]:
            continue
        kept.append(i)
        for j in neighbours[i]:
            if j == i or dropped[j]:
                continue
            big = max(radius[i], radius[j])
            small = min(radius[i], radius[j])
            if (
                math.hypot(row[i] - row[j], col[i] - col[j]) < DUPLICATE_OFFSET * big
                and big < DUPLICATE_SIZE_RATIO * small
            ):
                dropped[j] = True
    return np.asarray(kept, dtype=np.int64)


def wall_slope_deg(craters: DetectedCraters) -> np.ndarray:
    """Steepest wall slope of each crater's model bowl (at the rim crest): atan(4 d / D)."""
    d = np.asarray(craters.depth_m, dtype=np.float64)
    diameter = np.asarray(craters.diameter_m, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arctan(np.where(diameter > 0, 4.0 * d / diameter, 0.0)))


def crater_mask(
    craters: DetectedCraters,
    shape: tuple[int, int],
    transform: Affine,
    *,
    min_wall_slope_deg: float = 0.0,
    radius_scale: float = 1.0,
) -> np.ndarray:
    """Cells inside detected craters' rim crests.

    Parameters
    ----------
    craters : DetectedCraters
        Craters in the map coordinates of ``transform``.
    shape : tuple of int
        Grid shape (rows, cols).
    transform : affine.Affine
        Grid transform (pixel corners) with square pixels, as passed to :func:`detect_craters`.
    min_wall_slope_deg : float
        Only craters whose steepest wall (``wall_slope_deg``: atan(4 d/D) for the model bowl)
        reaches this slope are drawn; 0 draws all. A rover may cross shallow degraded craters
        (d/D 0.03 has 7 degree walls) but not fresh ones (d/D 0.15 has 31 degree walls).
    radius_scale : float
        Multiple of the rim-crest radius to mask (1.0: r <= R).

    Returns
    -------
    ndarray of bool, shape (M, N)
        True on cells whose centre lies within ``radius_scale * D / 2`` of a drawn crater.

    Raises
    ------
    GridError
        The transform is rotated or its pixels are not square.
    """
    t = Affine(*tuple(transform)[:6])
    if t.b != 0 or t.d != 0 or not math.isclose(abs(t.a), abs(t.e), rel_tol=1e-6):
        raise GridError(f"crater_mask needs a north-up square-pixel transform, got {tuple(t)[:6]}")
    if radius_scale <= 0:
        raise TerrainError(f"radius_scale must be > 0, got {radius_scale}")
    mask = np.zeros(shape, dtype=bool)
    draw = wall_slope_deg(craters) >= min_wall_slope_deg
    if not draw.any():
        return mask
    col, row = ~t @ (np.asarray(craters.x)[draw], np.asarray(craters.y)[draw])
    radius_px = radius_scale * 0.5 * np.asarray(craters.diameter_m)[draw] / abs(t.a)
    kern.paint_discs(
        mask,
        np.asarray(row, dtype=np.float64) - 0.5,
        np.asarray(col, dtype=np.float64) - 0.5,
        radius_px.astype(np.float64),
    )
    return mask


def crater_features(craters: DetectedCraters, crs) -> list[dict[str, Any]]:
    """GeoJSON Point features (centre) with diameter, depth, depth/diameter and wall slope."""
    diameter = np.asarray(craters.diameter_m, dtype=np.float64)
    depth = np.asarray(craters.depth_m, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(diameter > 0, depth / diameter, 0.0)
    return point_features(
        crs,
        craters.x,
        craters.y,
        diameter_m=np.round(diameter, 3),
        depth_m=np.round(depth, 3),
        depth_ratio=np.round(ratio, 4),
        wall_slope_deg=np.round(wall_slope_deg(craters), 1),
    )


@dataclass(frozen=True)
class CraterMatch:
    """Detections matched one-to-one to truth craters.

    Attributes
    ----------
    recall : float
        Share of the truth population matched by a detection (NaN for an empty population).
    precision : float
        Share of detections matching any truth crater, inside the population or not (NaN when
        nothing was detected).
    n_truth, n_detected, n_found, n_true_detections : int
        Population size, detections, population craters matched, detections matched.
    truth_match : ndarray of int, shape (n_all_truth,)
        Index of the detection matched to each truth crater, -1 for none.
    detection_match : ndarray of int, shape (n_detected,)
        Index of the truth crater matched to each detection, -1 for none.
    """

    recall: float
    precision: float
    n_truth: int
    n_detected: int
    n_found: int
    n_true_detections: int
    truth_match: np.ndarray
    detection_match: np.ndarray

    def as_dict(self) -> dict[str, float | int]:
        """Return the scalar fields, for printing or JSON."""
        return {
            "recall": self.recall,
            "precision": self.precision,
            "n_truth": self.n_truth,
            "n_detected": self.n_detected,
            "n_found": self.n_found,
            "n_true_detections": self.n_true_detections,
        }


def match_craters(
    detected: DetectedCraters,
    truth_x,
    truth_y,
    truth_diameter_m,
    *,
    population=None,
    max_offset: float = 0.5,
    max_size_ratio: float = 1.5,
) -> CraterMatch:
    """Match detections to truth craters and score recall and precision.

    A detection and a truth crater match when their centres are closer than ``max_offset``
    truth radii and their diameters differ by at most a factor ``max_size_ratio``. Pairs are
    taken greedily, closest first (centre offset in truth radii plus the absolute log of the
    diameter ratio), each crater at most once.

    Parameters
    ----------
    detected : DetectedCraters
    truth_x, truth_y, truth_diameter_m : array_like
        Every truth crater, in the same map coordinates as ``detected``.
    population : array_like of bool, optional
        Truth craters that count for recall (default all). Matching uses every truth crater,
        so a detection of a crater outside the population is not a false positive.
    max_offset, max_size_ratio : float
        Matching tolerances.

    Returns
    -------
    CraterMatch
    """
    tx = np.atleast_1d(np.asarray(truth_x, dtype=np.float64))
    ty = np.atleast_1d(np.asarray(truth_y, dtype=np.float64))
    td = np.atleast_1d(np.asarray(truth_diameter_m, dtype=np.float64))
    if not (tx.shape == ty.shape == td.shape):
        raise TerrainError(f"truth arrays differ in shape: {tx.shape}, {ty.shape}, {td.shape}")
    pop = np.ones(tx.shape, dtype=bool) if population is None else np.asarray(population, bool)
    if pop.shape != tx.shape:
        raise TerrainError(f"population has shape {pop.shape}, truth has {tx.shape}")
    if not (max_offset > 0 and max_size_ratio >= 1):
        raise TerrainError("max_offset must be > 0 and max_size_ratio >= 1")
    dx = np.asarray(detected.x, dtype=np.float64)
    dy = np.asarray(detected.y, dtype=np.float64)
    dd = np.asarray(detected.diameter_m, dtype=np.float64)
    truth_match = np.full(tx.size, -1, dtype=np.int64)
    det_match = np.full(dx.size, -1, dtype=np.int64)
    if dx.size and tx.size:
        tree = cKDTree(np.column_stack([tx, ty]))
        # truth radius <= ratio * detection radius, so partners lie within this reach
        reach = max_offset * max_size_ratio * 0.5 * dd
        pairs = []
        for i, near in enumerate(tree.query_ball_point(np.column_stack([dx, dy]), reach)):
            for j in near:
                offset = math.hypot(dx[i] - tx[j], dy[i] - ty[j]) / (0.5 * td[j])
                ratio = dd[i] / td[j]
                if offset < max_offset and 1.0 / max_size_ratio <= ratio <= max_size_ratio:
                    pairs.append((offset + abs(math.log(ratio)), i, j))
        pairs.sort()
        for _, i, j in pairs:
            if det_match[i] < 0 and truth_match[j] < 0:
                det_match[i] = j
                truth_match[j] = i
    n_truth = int(pop.sum())
    n_found = int((truth_match[pop] >= 0).sum())
    n_true = int((det_match >= 0).sum())
    return CraterMatch(
        recall=n_found / n_truth if n_truth else float("nan"),
        precision=n_true / dx.size if dx.size else float("nan"),
        n_truth=n_truth,
        n_detected=int(dx.size),
        n_found=n_found,
        n_true_detections=n_true,
        truth_match=truth_match,
        detection_match=det_match,
    )


def evaluation_population(
    truth_x,
    truth_y,
    truth_diameter_m,
    truth_depth_m,
    *,
    shape: tuple[int, int],
    transform: Affine,
    min_diameter_px: float = 10.0,
    min_depth_ratio: float = 0.05,
    max_overlap: float = 0.5,
) -> np.ndarray:
    """Truth craters a detector can be held to: big enough, deep enough, rim mostly intact.

    A crater belongs when (a) its diameter is at least ``min_diameter_px``, (b) its rim disc
    lies wholly on the grid (the detector never reports craters cut by the grid edge), (c) its
    depth/diameter is at least ``min_depth_ratio`` and (d) no single larger crater covers more
    than ``max_overlap`` of its disc area.

    Why (c) and (d): the synthetic equilibrium population includes degraded craters down to
    d/D 0.03 (rim height 0.18 d), only 1-2 times the background relief at their own scale, and
    craters half inside a larger crater's bowl or rim have lost the rim crest that defines them.
    Report recall over all craters too (``population`` of just (a) and (b)).

    Returns
    -------
    ndarray of bool, shape (n_truth,)
    """
    tx = np.asarray(truth_x, dtype=np.float64)
    ty = np.asarray(truth_y, dtype=np.float64)
    td = np.asarray(truth_diameter_m, dtype=np.float64)
    tdepth = np.asarray(truth_depth_m, dtype=np.float64)
    t = Affine(*tuple(transform)[:6])
    res = math.sqrt(abs(t.determinant))
    col, row = ~t @ (tx, ty)
    row = np.asarray(row) - 0.5
    col = np.asarray(col) - 0.5
    r_px = 0.5 * td / res
    rows, cols = shape
    on_grid = (row - r_px >= -0.5) & (col - r_px >= -0.5)
    on_grid &= (row + r_px <= rows - 0.5) & (col + r_px <= cols - 0.5)
    out = (td / res >= min_diameter_px) & on_grid
    with np.errstate(invalid="ignore", divide="ignore"):
        out &= tdepth / td >= min_depth_ratio
    if max_overlap < 1.0 and tx.size:
        out &= _largest_overlap(tx, ty, 0.5 * td, out) <= max_overlap
    return out


def _largest_overlap(x, y, r, which) -> np.ndarray:
    """For each crater in ``which``: largest share of its disc covered by one larger crater."""
    share = np.zeros(x.size)
    targets = np.flatnonzero(which)
    if targets.size == 0:
        return share
    pts = np.column_stack([x, y])
    # larger craters grouped by octave of radius, so each query reaches only as far as needed
    octave = np.floor(np.log2(np.maximum(r, 1e-9))).astype(np.int64)
    for o in np.unique(octave):
        members = np.flatnonzero(octave == o)
        reach_max = float(r[members].max())
        near = targets[r[targets] < reach_max]
        if near.size == 0:
            continue
        tree = cKDTree(pts[members])
        hits = tree.query_ball_point(pts[near], r[near] + reach_max)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=near.size)
        if counts.sum() == 0:
            continue
        j = np.repeat(near, counts)
        k = members[np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])]
        bigger = r[k] > r[j]
        j, k = j[bigger], k[bigger]
        d = np.hypot(x[k] - x[j], y[k] - y[j])
        frac = _lens_area(d, r[j], r[k]) / (np.pi * r[j] ** 2)
        np.maximum.at(share, j, frac)
    return share


def _lens_area(d, r1, r2):
    """Area shared by discs of radii r1, r2 whose centres are d apart (element-wise)."""
    d, r1, r2 = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (d, r1, r2)))
    out = np.zeros(d.shape)
    inside = d <= np.abs(r1 - r2)
    out[inside] = np.pi * np.minimum(r1, r2)[inside] ** 2
    part = ~inside & (d < r1 + r2)
    dp, a, b = d[part], r1[part], r2[part]
    a1 = a * a * np.arccos(np.clip((dp * dp + a * a - b * b) / (2 * dp * a), -1, 1))
    a2 = b * b * np.arccos(np.clip((dp * dp + b * b - a * a) / (2 * dp * b), -1, 1))
    tri = 0.5 * np.sqrt(np.maximum((-dp + a + b) * (dp + a - b) * (dp - a + b) * (dp + a + b), 0.0))
    out[part] = a1 + a2 - tri
    return out


__all__ = [
    "CraterMatch",
    "DetectedCraters",
    "crater_features",
    "crater_mask",
    "detect_craters",
    "evaluation_population",
    "match_craters",
    "wall_slope_deg",
]
