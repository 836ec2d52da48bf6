"""Hazard map: every terrain hazard fused into a traversal cost and a keep-out mask.

Slope, roughness, steps, craters, rocks, shadow and lander line of sight, in configuration space.

Every layer is on the DEM's grid. Nodata cells are always keep-out; they never read as flat
ground and never spread NaN into valid neighbours beyond the kernels' own windows.
"""

from __future__ import annotations

import functools
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dem import Dem

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class HazardLimits:
    """Rover limits and cost weights the hazard map applies (from a rover spec).

    Parameters
    ----------
    max_slope_deg : float
        Steepest plane slope over the footprint the rover may drive on.
    max_step_m : float
        Highest step (peak-to-trough residual from the footprint plane) a wheel can climb.
    max_roughness_m : float
        Largest RMS residual of the footprint plane fit.
    clearance_m : float
        Body clearance: resolved rocks taller than this are obstacles; unresolved ones are a risk.
    footprint_m : float
        Side of the square footprint for plane fits (the rover's length).
    wheel_radius_m : float
        Wheel radius (informational; step limit is explicit).
    rover_radius_m : float
        Radius of the circle holding the rover in any heading: keep-out is dilated by it.
    max_rock_risk : float
        Probability of meeting an unresolved rock above clearance per footprint beyond which a
        cell is keep-out.
    rover_antenna_height_m, link_range_m : float
        Rover antenna height for line of sight and the link range to the lander.
    los_smoothing_m : float
        Line of sight is traced over terrain smoothed at this scale (Gaussian sigma): a radio
        link is not cut by bumps much smaller than its Fresnel zone (several metres at 100 m for
        UHF/S-band), while a purely geometric ray at grazing angles is cut by centimetres of
        regolith texture. 0 gives the geometric line of sight.
    slope_weight, roughness_weight, rock_weight, shadow_weight : float
        Cost = 1 + weights x normalised hazards (slope / max slope, roughness / max roughness,
        rock risk / max rock risk, shadowed).
    """

    max_slope_deg: float = 15.0
    max_step_m: float = 0.06
    max_roughness_m: float = 0.03
    clearance_m: float = 0.08
    footprint_m: float = 0.54
    wheel_radius_m: float = 0.06
    rover_radius_m: float = 0.31
    max_rock_risk: float = 0.05
    rover_antenna_height_m: float = 0.25
    link_range_m: float = 1000.0
    los_smoothing_m: float = 2.0
    slope_weight: float = 2.0
    roughness_weight: float = 1.0
    rock_weight: float = 2.0
    shadow_weight: float = 1.0


@dataclass(frozen=True)
class LanderSite:
    """Where the lander stands: map position, keep-out radius and antenna height."""

    x: float
    y: float
    footprint_radius_m: float = 1.6
    antenna_height_m: float = 2.3


@dataclass(frozen=True)
class DetectedCraters:
    """Craters found in a DEM: centres in map metres, diameter, depth (rim crest to floor)."""

    x: np.ndarray
    y: np.ndarray
    diameter_m: np.ndarray
    depth_m: np.ndarray

    def __len__(self) -> int:
        return int(np.size(self.x))


@dataclass(frozen=True)
class DetectedRocks:
    """Resolved rocks found in a DEM: centres in map metres, diameter, height above ground."""

    x: np.ndarray
    y: np.ndarray
    diameter_m: np.ndarray
    height_m: np.ndarray

    def __len__(self) -> int:
        return int(np.size(self.x))


@dataclass(frozen=True)
class HazardMap:
    """All hazard layers on the DEM's grid (arrays of shape (M, N)).

    ``cost`` is float32 with ``inf`` for impassable cells; ``keepout`` is bool and already
    dilated by the rover radius (plan with the rover as a point). ``shadow``, ``los_lander`` and
    ``range_lander_m`` are None when no sun or lander was given.

    Layers that hold no information of their own are not stored: ``range_lander_m`` is the
    distance from the lander's cell, computed when first read, and a uniform ``rock_risk`` on a
    DEM without holes is a read-only broadcast of one value.
    """

    grid: Dem
    limits: HazardLimits
    slope_deg: np.ndarray
    slope_rover_deg: np.ndarray
    roughness_m: np.ndarray
    step_m: np.ndarray
    crater_mask: np.ndarray
    rock_risk: np.ndarray
    cost: np.ndarray
    keepout: np.ndarray
    craters: DetectedCraters
    rocks: DetectedRocks
    shadow: np.ndarray | None = None
    los_lander: np.ndarray | None = None
    sun: tuple[float, float] | None = None
    lander: LanderSite | None = None
    keepout_share: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @functools.cached_property
    def range_lander_m(self) -> np.ndarray | None:
        """Distance (m) from the lander's cell centre to every cell's, float32."""
        if self.lander is None:
            return None
        rc = self.grid.rowcol(self.lander.x, self.lander.y)
        return lander_range(self.grid.res_m, rc, (0, self.grid.shape[0]), (0, self.grid.shape[1]))

    def layers(self) -> dict[str, np.ndarray]:
        """Named bands for ``write_geotiff`` (bools as 0/1).

        The DEM's elevation comes first so the file is self-contained.
        """
        out: dict[str, Any] = {
            "elevation": self.grid.elevation,
            "slope_deg": self.slope_deg,
            "slope_rover_deg": self.slope_rover_deg,
            "roughness_m": self.roughness_m,
            "step_m": self.step_m,
            "crater_mask": self.crater_mask,
            "rock_risk": self.rock_risk,
        }
        if self.shadow is not None:
            out["shadow"] = self.shadow
        if self.los_lander is not None:
            out["los_lander"] = self.los_lander
            out["range_lander_m"] = self.range_lander_m
        out["cost"] = self.cost
        out["keepout"] = self.keepout
        return {k: np.asarray(v, dtype=np.float32) for k, v in out.items()}

    def comm_ok(self) -> np.ndarray | None:
        """Cells in line of sight of the lander and within link range (None without a lander)."""
        if self.los_lander is None:
            return None
        return self.los_lander & (self.range_lander_m <= self.limits.link_range_m)


REASONS = ("nodata", "slope", "step", "roughness", "rock_risk", "rocks", "lander", "comm")
"""Keep-out reasons, in the bit order of the fused reason layer (bit k is ``1 << k``)."""


def _disk(radius_px: int) -> np.ndarray:
    r = np.arange(-radius_px, radius_px + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius_px**2 + 1e-9


def _smooth_nan(z: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian smoothing (truncated at 3 sigma) that ignores NaN cells and keeps them NaN."""
    if sigma_px <= 0:
        return z
    from . import _hazard_kernels as hk
    from ._crater_kernels import gaussian_blur

    if not hk.has_nonfinite(z):
        return gaussian_blur(z, sigma_px, 0.0)
    valid = np.isfinite(z)
    num = gaussian_blur(np.where(valid, z, 0.0).astype(np.float32), sigma_px, 0.0)
    den = gaussian_blur(valid.astype(np.float32), sigma_px, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (num / den).astype(np.float32)
    out[~valid] = np.nan
    return out


def lander_range(
    res_m: float, lander_rc: tuple[int, int], rows: tuple[int, int], cols: tuple[int, int]
) -> np.ndarray:
    """Distance (m, float32) from the lander's cell centre to a window of cells.

    ``rows`` and ``cols`` are ``(start, stop)`` grid indices (the whole grid, or a window).
    """
    dr = np.arange(*rows, dtype=np.float64)[:, None] - lander_rc[0]
    dc = np.arange(*cols, dtype=np.float64)[None, :] - lander_rc[1]
    return (res_m * np.sqrt(dr**2 + dc**2)).astype(np.float32)


def link_box(
    shape: tuple[int, int], lander_rc: tuple[int, int], limits: HazardLimits, res_m: float
) -> tuple[int, int, int, int]:
    """Rows r0:r1, cols c0:c1 of the box that line of sight needs.

    The link range around the lander plus the radio smoothing's reach: beyond the range a cell
    is comm-dead anyway.
    """
    sigma_px = limits.los_smoothing_m / res_m
    reach = math.ceil(limits.link_range_m / res_m) + 2 + math.ceil(4.0 * sigma_px) + 1
    r, c = lander_rc
    return (
        max(0, r - reach),
        min(shape[0], r + reach + 1),
        max(0, c - reach),
        min(shape[1], c + reach + 1),
    )


def lander_visibility(
    z_box: np.ndarray,
    res_m: float,
    lander_rc: tuple[int, int],
    lander: LanderSite,
    limits: HazardLimits,
) -> np.ndarray:
    """Line of sight (uint8) from the lander's antenna over a box of the DEM (at ``res_m``).

    The terrain is smoothed at ``limits.los_smoothing_m`` first (a radio link is not cut by
    bumps well inside its Fresnel zone); rays run from the lander to every edge cell of the box
    on the curved Moon.
    """
    from . import _hazard_kernels as hk
    from .crs import MOON_RADIUS_M

    z_radio = _smooth_nan(z_box, limits.los_smoothing_m / res_m)
    return hk.line_of_sight(
        z_radio,
        res_m,
        lander_rc[0],
        lander_rc[1],
        lander.antenna_height_m,
        limits.rover_antenna_height_m,
        MOON_RADIUS_M,
    )


def _paint_disc(bits: np.ndarray, transform, x: float, y: float, radius_m: float, bit: int):
    """Set ``bit`` on the window's cells whose centres lie within ``radius_m`` of (x, y).

    ``transform`` is the window's own.
    """
    res = transform.a
    col, row = ~transform @ (x, y)
    k = int(np.ceil(radius_m / res)) + 1
    r_lo, r_hi = max(int(math.floor(row)) - k, 0), min(int(math.floor(row)) + k + 1, bits.shape[0])
    c_lo, c_hi = max(int(math.floor(col)) - k, 0), min(int(math.floor(col)) + k + 1, bits.shape[1])
    if r_lo >= r_hi or c_lo >= c_hi:
        return
    rows, cols = np.mgrid[r_lo:r_hi, c_lo:c_hi]
    cx, cy = transform @ (cols + 0.5, rows + 0.5)
    inside = np.hypot(cx - x, cy - y) <= radius_m
    bits[r_lo:r_hi, c_lo:c_hi][inside] |= np.uint8(bit)


def fuse_hazards(
    z: np.ndarray,
    slope_rover: np.ndarray,
    rough: np.ndarray,
    step: np.ndarray,
    risk: float | np.ndarray,
    rock_cells: np.ndarray,
    limits: HazardLimits,
    transform,
    *,
    shadow: np.ndarray | None = None,
    los: np.ndarray | None = None,
    lander: LanderSite | None = None,
    lander_rc: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fuse the hazard layers of a grid (or a window of one) into cost, keep-out and reasons.

    The one fusion both :func:`hazard_map` and the tiled path call. ``transform`` and
    ``lander_rc`` (the lander's row and column) refer to the given window. ``rock_cells`` (bool)
    is consumed: its memory becomes the reason bits.

    Returns
    -------
    cost : float32, inf on keep-out
    keepout : bool, the reasons dilated by the rover radius (configuration space)
    bits : uint8, the undilated reasons (bit k for ``REASONS[k]``)
    """
    from . import _hazard_kernels as hk

    res = transform.a
    shape = z.shape
    if los is not None and lander_rc is None:
        raise ValueError("fuse_hazards: line of sight needs the lander's row and column")
    risk_arr = np.asarray(risk, dtype=np.float32)
    uniform = risk_arr.ndim == 0
    if uniform:
        risk_arr = risk_arr.reshape(1, 1)
    dummy = np.zeros((1, 1), dtype=bool)
    weights = np.array(
        [
            limits.max_slope_deg,
            limits.max_step_m,
            limits.max_roughness_m,
            limits.max_rock_risk,
            limits.slope_weight,
            limits.roughness_weight,
            limits.rock_weight,
            limits.shadow_weight,
        ]
    )
    cost = np.empty(shape, dtype=np.float32)
    bits = np.ascontiguousarray(rock_cells, dtype=bool).view(np.uint8)
    bits *= np.uint8(1 << REASONS.index("rocks"))
    lr, lc = lander_rc if lander_rc is not None else (0, 0)
    hk.fuse(
        z,
        slope_rover,
        rough,
        step,
        risk_arr,
        uniform,
        dummy if shadow is None else shadow,
        shadow is not None,
        dummy if los is None else los,
        los is not None,
        lr,
        lc,
        res,
        limits.link_range_m,
        weights,
        cost,
        bits,
    )
    if lander is not None:
        bit = 1 << REASONS.index("lander")
        _paint_disc(bits, transform, lander.x, lander.y, lander.footprint_radius_m, bit)
    radius_px = int(np.ceil(limits.rover_radius_m / res))
    dr, dc = np.nonzero(_disk(max(radius_px, 0)))
    keepout = np.empty(shape, dtype=bool)
    hk.dilate_keepout(
        bits, (dr - radius_px).astype(np.int64), (dc - radius_px).astype(np.int64), keepout, cost
    )
    return cost, keepout, bits


def reason_counts(bits: np.ndarray, keepout: np.ndarray) -> dict[str, int]:
    """Valid cells per keep-out reason, plus ``valid`` and ``keepout_valid`` counts."""
    from . import _hazard_kernels as hk

    c = hk.count_reasons(bits, keepout)
    out = {name: int(c[k]) for k, name in enumerate(REASONS)}
    out["valid"], out["keepout_valid"] = int(c[8]), int(c[9])
    return out


def _check_limits(limits: HazardLimits) -> None:
    from .errors import HazardInputError

    for name in (
        "max_slope_deg",
        "max_step_m",
        "max_roughness_m",
        "clearance_m",
        "footprint_m",
        "rover_radius_m",
        "max_rock_risk",
        "link_range_m",
    ):
        v = getattr(limits, name)
        if not (np.isfinite(v) and v > 0):
            raise HazardInputError(f"hazard limit {name} must be a positive number, got {v!r}")
    v = limits.los_smoothing_m
    if not (np.isfinite(v) and v >= 0):
        raise HazardInputError(f"hazard limit los_smoothing_m must be >= 0 (0: none), got {v!r}")


def hazard_map(
    dem: Dem,
    limits: HazardLimits | None = None,
    *,
    sun: tuple[float, float] | None = None,
    lander: LanderSite | None = None,
    rock_abundance: float | np.ndarray = 0.01,
    detect: bool = True,
    progress=None,
) -> HazardMap:
    """Compute every hazard layer of a DEM and fuse them into cost and keep-out.

    Parameters
    ----------
    dem : Dem
        Metric DEM (see :func:`terrain.read_dem`).
    limits : HazardLimits, optional
        Rover limits and weights (default: Tenacious-like values of ``HazardLimits()``).
    sun : (azimuth_deg, elevation_deg), optional
        Sun direction, azimuth clockwise from grid north. None: no shadow layer.
    lander : LanderSite, optional
        Lander position (map metres): adds line of sight and range, and its footprint keep-out.
    rock_abundance : float or ndarray of shape (M, N)
        Golombek k for the unresolved-rock risk (one value or a per-cell layer).
    detect : bool
        Run crater and rock detection (off for quick cost maps).
    progress : callable(fraction, stage), optional

    Returns
    -------
    HazardMap

    Raises
    ------
    HazardInputError
        Lander outside the DEM, bad limits, rock-abundance layer of the wrong shape.
    """
    from . import _hazard_kernels as hk
    from .errors import HazardInputError
    from .rocks import detect_rocks, unresolved_rock_risk

    limits = limits or HazardLimits()
    _check_limits(limits)
    report = progress or (lambda fraction, stage="": None)
    z = dem.elevation
    res = dem.res_m
    if not math.isfinite(hk.finite_min(z)):
        raise HazardInputError("the DEM holds no data; nothing to map")
    warnings: list[str] = []
    if lander is not None and not dem.contains(lander.x, lander.y):
        b = dem.bounds
        raise HazardInputError(
            f"lander at ({lander.x:.1f}, {lander.y:.1f}) is outside the DEM "
            f"(x {b.left:.0f}..{b.right:.0f}, y {b.bottom:.0f}..{b.top:.0f}); give a position on it"
        )
    if np.ndim(rock_abundance) and np.shape(rock_abundance) != dem.shape:
        raise HazardInputError(
            f"rock-abundance layer has shape {np.shape(rock_abundance)}, DEM {dem.shape}"
        )
    lander_rc = None
    if lander is not None:
        lander_rc = dem.rowcol(lander.x, lander.y)
        if not np.isfinite(z[lander_rc]):
            raise HazardInputError(
                f"lander at ({lander.x:.1f}, {lander.y:.1f}) stands on a nodata cell; move it"
            )

    # Detection first: its full-size scratch arrays are gone before the layers are allocated.
    # Rocks run in a thread beside the craters: their flood fill is serial, and the two
    # searches together keep both cores busy.
    report(0.0, "rocks and craters")
    empty = np.zeros(0)
    rocks, rock_cells = DetectedRocks(empty, empty, empty, empty), None
    craters, cmask = DetectedCraters(empty, empty, empty, empty), None
    if detect:
        import numba

        from .craters import crater_mask as _crater_mask
        from .craters import detect_craters

        n_threads = numba.get_num_threads()

        def rock_search():
            numba.set_num_threads(n_threads)  # numba's thread count is per calling thread
            return detect_rocks(z, res, min_height_m=limits.clearance_m, transform=dem.transform)

        # numba's fallback "workqueue" layer aborts on concurrent parallel kernels
        side_by_side = numba.threading_layer() != "workqueue"
        with ThreadPoolExecutor(1) as pool:
            found = pool.submit(rock_search) if side_by_side else None
            craters = detect_craters(z, res, transform=dem.transform)
            # Only craters whose bowl walls exceed the rover's slope limit are hazards of
            # their own.
            cmask = _crater_mask(
                craters, dem.shape, dem.transform, min_wall_slope_deg=limits.max_slope_deg
            )
            rocks, rock_cells = found.result() if found is not None else rock_search()
    if rock_cells is None:
        rock_cells = np.zeros(dem.shape, bool)
    if cmask is None:
        cmask = np.zeros(dem.shape, bool)

    report(0.45, "slope and footprint fits")
    half = max(1, int(round(limits.footprint_m / res / 2.0)))
    slope, slope_rover, rough, step = hk.surface_layers(z, res, half)

    # Rocks of about two pixels and more show in the DEM; smaller ones are a probability.
    risk = unresolved_rock_risk(
        rock_abundance,
        clearance_m=limits.clearance_m,
        resolved_diameter_m=2.0 * res,
        footprint_area_m2=limits.footprint_m * 2.0 * limits.rover_radius_m * 0.5,
    )

    shadow = None
    if sun is not None:
        report(0.65, "shadow")
        from .illumination import cast_shadow

        az, el = float(sun[0]), float(sun[1])
        if el <= 0:
            warnings.append(
                f"sun elevation {el:g} deg is at or below the horizon: every cell is in shadow"
            )
        shadow = cast_shadow(z, res, az, el)

    los = None
    if lander is not None:
        report(0.75, "line of sight")
        r0, r1, c0, c1 = link_box(dem.shape, lander_rc, limits, res)
        box = np.ascontiguousarray(z[r0:r1, c0:c1])  # one compiled layout for every box
        los = np.zeros(dem.shape, dtype=bool)
        vis = lander_visibility(box, res, (lander_rc[0] - r0, lander_rc[1] - c0), lander, limits)
        los[r0:r1, c0:c1] = (vis > 0) & np.isfinite(box)
        del vis

    report(0.85, "cost")
    cost, keepout, bits = fuse_hazards(
        z,
        slope_rover,
        rough,
        step,
        risk,
        rock_cells,
        limits,
        dem.transform,
        shadow=shadow,
        los=los,
        lander=lander,
        lander_rc=lander_rc,
    )
    del rock_cells
    counts = reason_counts(bits, keepout)
    del bits
    n_valid = counts["valid"]
    names = REASONS[1:] if lander is not None else REASONS[1:6]
    share = {k: counts[k] / n_valid for k in names}
    if counts["keepout_valid"] == n_valid:
        worst = max(share, key=share.get)
        warnings.append(
            f"every cell is keep-out; the '{worst}' layer alone excludes {share[worst]:.0%} of "
            "the DEM: relax that limit or check the DEM's units"
        )
    if np.ndim(risk) == 0 and n_valid == z.size:
        risk = np.broadcast_to(np.float32(risk), dem.shape)  # one value: no per-cell copy
    else:
        risk = np.where(np.isfinite(z), np.broadcast_to(risk, dem.shape), np.nan).astype(np.float32)
    report(1.0, "done")
    return HazardMap(
        grid=dem,
        limits=limits,
        slope_deg=slope,
        slope_rover_deg=slope_rover,
        roughness_m=rough,
        step_m=step,
        crater_mask=cmask,
        rock_risk=risk,
        cost=cost,
        keepout=keepout,
        craters=craters,
        rocks=rocks,
        shadow=shadow,
        los_lander=los,
        sun=None if sun is None else (float(sun[0]), float(sun[1])),
        lander=lander,
        keepout_share=share,
        warnings=tuple(warnings),
    )
