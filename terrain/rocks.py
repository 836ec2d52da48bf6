"""Rocks: resolved rocks found in the DEM, and the risk from rocks too small for it to show.

Orbital (or any) DEMs never show every rock. Rocks of about two pixels and more appear as
steep local bumps and are detected; the smaller ones are carried as a probability, from the
Golombek & Rapp (1997) model with a rock abundance k (per cell or one value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _hazard_kernels as _hk
from . import _rock_kernels as _rk

ROCK_ASPECT_MIN = 0.38
"""Detected bumps must be at least this tall for their width: rocks stand ~0.5 D tall, while the
residue the opening leaves on crater rims and fractal texture measured 0.2-0.38 (95th pct)."""

ROCK_ROUNDNESS_MIN = 0.5
"""Rocks are compact; the residue along crater rims is arc-shaped (minor/major axis < 0.5)."""

RESOLVED_PX = 2.0
"""A rock is resolved, found in the DEM, from this many pixels across: smaller ones are noise
to the DEM (one pixel can be a single bad height) and are carried as a probability instead."""


@dataclass(frozen=True)
class RockCells:
    """The cells resolved rocks cover (sparse: rocks cover a small share of a DEM).

    ``index`` are flat indices into an array of ``shape``; ``height_m`` the height of the rock
    each cell belongs to.
    """

    index: np.ndarray
    height_m: np.ndarray
    shape: tuple[int, int]

    def __len__(self) -> int:
        return int(self.index.size)

    def dense(self, fill: float = 0.0) -> np.ndarray:
        """Heights on the grid (float32), ``fill`` where no rock is."""
        out = np.full(self.shape, np.float32(fill), dtype=np.float32)
        out.flat[self.index] = self.height_m
        return out

    @classmethod
    def from_dense(cls, height_m: np.ndarray) -> RockCells:
        """The cells of a dense height layer that hold a rock (height > 0)."""
        h = np.asarray(height_m, dtype=np.float32)
        index = np.flatnonzero(np.nan_to_num(h) > 0)
        return cls(index, h.flat[index].copy(), tuple(h.shape))

    def window(self, r0: int, r1: int, c0: int, c1: int) -> RockCells:
        """The cells within rows r0:r1, columns c0:c1, indexed in that window."""
        rows, cols = np.divmod(self.index, self.shape[1])
        keep = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
        index = (rows[keep] - r0) * (c1 - c0) + (cols[keep] - c0)
        return RockCells(index, self.height_m[keep], (r1 - r0, c1 - c0))


@dataclass(frozen=True)
class DetectedRocks:
    """Resolved rocks found in a DEM: centres in map metres, diameter, height above ground."""

    x: np.ndarray
    y: np.ndarray
    diameter_m: np.ndarray
    height_m: np.ndarray

    def __len__(self) -> int:
        return int(np.size(self.x))

    @classmethod
    def empty(cls) -> DetectedRocks:
        """No rocks."""
        e = np.zeros(0)
        return cls(e, e, e, e)


def detect_rocks(
    elevation: np.ndarray,
    res_m: float,
    *,
    min_height_m: float,
    max_diameter_m: float = 8.0,
    transform=None,
    finite: bool = False,
) -> tuple[DetectedRocks, np.ndarray]:
    """Find resolved rocks: compact bumps standing more than ``min_height_m`` above the ground.

    The ground is the morphological opening of the DEM with a square wider than the largest
    rock (planes and bowls pass through it unchanged); the top-hat residue above it is split
    into connected bumps. Beyond the grid's edge the opening continues the ground by point
    reflection, so a tilted plane stays a plane there and makes no rock. A bump counts as a
    rock when it is taller than ``min_height_m``, at least ``RESOLVED_PX`` pixels across, and
    steep (height / width at half height >= ``ROCK_ASPECT_MIN``), which rejects the broad, low
    residue that the opening leaves on crater rims and ridges and single-pixel spikes of DEM
    noise.

    Parameters
    ----------
    elevation : ndarray of shape (M, N)
        Heights in metres, NaN for nodata (NaN cells never hold rocks).
    res_m : float
        Pixel size.
    min_height_m : float
        Rocks lower than this are ignored (the height a wheel or the body cannot pass).
    max_diameter_m : float
        Largest rock expected; sets the opening window.
    transform : affine.Affine, optional
        Grid transform; when given, centres are map coordinates, else (col, row) pixel centres.
    finite : bool
        The caller knows every height is finite (skips the scan for nodata).

    Returns
    -------
    rocks : DetectedRocks
    cells : RockCells
        The cells of each rock's upper half (at or above half its height), with its height.
    """
    z = np.ascontiguousarray(elevation, dtype=np.float32)
    size = max(3, int(np.ceil(max_diameter_m / res_m)) + 2) | 1
    # nodata is filled with the lowest height for the opening, then holds no rock
    none = RockCells(np.zeros(0, np.int64), np.zeros(0, np.float32), z.shape)
    has_nodata = not finite and bool(_hk.has_nonfinite(z))
    zmin = _hk.lowest_finite(z) if has_nodata or z.size == 0 else 0.0  # (no fill without nodata)
    if zmin != zmin:  # all nodata
        return DetectedRocks.empty(), none
    tophat = _rk.grey_opening(_rk.fill_nodata(z, zmin) if has_nodata else z, size)
    _rk.top_hat(z, tophat)
    # Peaks: cells that top their 5x5 neighbourhood and stand above the height limit.
    pr, pc = _rk.find_peaks(tophat, np.float32(min_height_m), 2)
    if pr.size == 0:
        return DetectedRocks.empty(), none
    # tallest first, ties in raster order: the peaks come in raster order and the sort is stable
    order = np.argsort(-tophat[pr, pc], kind="stable")
    pr, pc = pr[order], pc[order]
    labels = np.zeros(z.shape, dtype=np.int32)
    stats = _rk.grow_rocks(tophat, pr, pc, size // 2, labels)
    grown = stats[:, 0] > 0
    height = tophat[pr, pc].astype(np.float64)
    area_px = np.maximum(stats[:, 1], 1.0)
    # A half-ellipsoid of diameter D is sqrt(3)/2 D wide at half its height.
    diameter = 2.0 * np.sqrt(area_px * res_m**2 / np.pi) / (np.sqrt(3.0) / 2.0)
    cy = stats[:, 3] / np.maximum(stats[:, 2], 1e-12)
    cx = stats[:, 4] / np.maximum(stats[:, 2], 1e-12)
    mr, mc = stats[:, 5] / area_px, stats[:, 6] / area_px
    vrr = stats[:, 7] / area_px - mr * mr + 1.0 / 12
    vcc = stats[:, 8] / area_px - mc * mc + 1.0 / 12
    vrc = stats[:, 9] / area_px - mr * mc
    tr, det = vrr + vcc, vrr * vcc - vrc * vrc
    disc = np.sqrt(np.maximum(tr * tr / 4 - det, 0.0))
    roundness = np.sqrt(np.maximum(tr / 2 - disc, 0.0) / np.maximum(tr / 2 + disc, 1e-12))
    keep = (
        grown
        & (height > min_height_m)
        & (diameter >= RESOLVED_PX * res_m)
        & (height / np.maximum(diameter, res_m) >= ROCK_ASPECT_MIN)
        & (roundness >= ROCK_ROUNDNESS_MIN)
    )
    del tophat
    n_cells = int(stats[keep, 1].sum())
    index, cell_height = _rk.kept_cells(labels, keep, height, pr, pc, size // 2, n_cells)
    del labels
    cells = RockCells(index, cell_height, z.shape)
    if transform is not None:
        x, y = transform @ (cx[keep] + 0.5, cy[keep] + 0.5)
    else:
        x, y = cx[keep] + 0.5, cy[keep] + 0.5
    rocks = DetectedRocks(np.asarray(x), np.asarray(y), diameter[keep], height[keep])
    return rocks, cells


def unresolved_rock_risk(
    rock_abundance: float | np.ndarray,
    *,
    height_m: float,
    resolved_diameter_m: float,
    footprint_area_m2: float,
) -> np.ndarray:
    """Probability that a rover footprint meets an unresolved rock taller than ``height_m``.

    ``height_m`` is the height the rover cannot pass: its step limit or its body clearance,
    whichever is lower. Rocks are taken as 0.5 D tall, so a rock is a hazard when
    D > 2 x height; rocks of ``resolved_diameter_m`` and more are in the DEM and handled there.
    With rock counts a Poisson process of density n = N(>2h) - N(>D_res) (Golombek & Rapp) per
    m^2, the chance of at least one under a footprint of area A is 1 - exp(-n A).

    Examples
    --------
    A mare with 1 % of its area under rocks, a 0.17 m^2 rover that cannot pass 6 cm, a 0.5 m
    DEM that shows rocks from 1 m:

    >>> p = unresolved_rock_risk(0.01, height_m=0.06, resolved_diameter_m=1.0,
    ...                          footprint_area_m2=0.17)
    >>> round(float(p), 4)
    0.0109
    """
    d_hazard = 2.0 * height_m
    k = np.asarray(rock_abundance, dtype=np.float64)
    if d_hazard >= resolved_diameter_m:
        return np.zeros(np.shape(k), dtype=np.float32)
    # compiled, cells side by side: scipy's exp1 alone cost 0.5 us a call, two per cell
    return _rk.rock_risk(k, d_hazard, resolved_diameter_m, footprint_area_m2)


__all__ = [
    "RESOLVED_PX",
    "ROCK_ASPECT_MIN",
    "ROCK_ROUNDNESS_MIN",
    "DetectedRocks",
    "RockCells",
    "detect_rocks",
    "unresolved_rock_risk",
]
