"""Hazard map: every terrain hazard fused into a traversal cost and a keep-out mask.

Slope, roughness, steps, craters, rocks, shadow and lander line of sight, in configuration space.

Every layer is on the DEM's grid. Nodata cells are always keep-out; they never read as flat
ground and never spread NaN into valid neighbours beyond the kernels' own windows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

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
    range_lander_m: np.ndarray | None = None
    sun: tuple[float, float] | None = None
    lander: LanderSite | None = None
    keepout_share: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

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


def _disk(radius_px: int) -> np.ndarray:
    r = np.arange(-radius_px, radius_px + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius_px**2 + 1e-9


def _smooth_nan(z: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian smoothing that ignores NaN cells and keeps them NaN."""
    if sigma_px <= 0:
        return z
    valid = np.isfinite(z)
    num = ndimage.gaussian_filter(np.where(valid, z, 0.0).astype(np.float64), sigma_px)
    den = ndimage.gaussian_filter(valid.astype(np.float64), sigma_px)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (num / den).astype(np.float32)
    out[~valid] = np.nan
    return out


def _disc_mask(dem: Dem, x: float, y: float, radius_m: float) -> np.ndarray:
    """Cells whose centres lie within ``radius_m`` of map point (x, y) (computed in a window)."""
    mask = np.zeros(dem.shape, dtype=bool)
    r0, c0 = dem.rowcol(x, y)
    k = int(np.ceil(radius_m / dem.res_m)) + 1
    r_lo, r_hi = max(r0 - k, 0), min(r0 + k + 1, dem.shape[0])
    c_lo, c_hi = max(c0 - k, 0), min(c0 + k + 1, dem.shape[1])
    if r_lo >= r_hi or c_lo >= c_hi:
        return mask
    rows, cols = np.mgrid[r_lo:r_hi, c_lo:c_hi]
    cx, cy = dem.xy(rows, cols)
    mask[r_lo:r_hi, c_lo:c_hi] = np.hypot(cx - x, cy - y) <= radius_m
    return mask


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
    from .crs import MOON_RADIUS_M
    from .errors import HazardInputError
    from .rocks import detect_rocks, unresolved_rock_risk

    limits = limits or HazardLimits()
    _check_limits(limits)
    report = progress or (lambda fraction, stage="": None)
    z = dem.elevation
    res = dem.res_m
    valid = np.isfinite(z)
    if not valid.any():
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

    report(0.0, "slope")
    slope = hk.horn_slope_deg(z, res)
    half = max(1, int(round(limits.footprint_m / res / 2.0)))
    report(0.1, "footprint fits")
    slope_rover, rough, step = hk.footprint_fit(z, res, half)

    report(0.3, "rocks")
    # Rocks of about two pixels and more show in the DEM; smaller ones are a probability.
    resolved_d = 2.0 * res
    risk = unresolved_rock_risk(
        rock_abundance,
        clearance_m=limits.clearance_m,
        resolved_diameter_m=resolved_d,
        footprint_area_m2=limits.footprint_m * 2.0 * limits.rover_radius_m * 0.5,
    )
    risk = np.broadcast_to(risk, dem.shape).astype(np.float32)
    risk = np.where(valid, risk, np.nan).astype(np.float32)
    if detect:
        rocks, rock_cells = detect_rocks(
            z, res, min_height_m=limits.clearance_m, transform=dem.transform
        )
    else:
        empty = np.zeros(0)
        rocks, rock_cells = DetectedRocks(empty, empty, empty, empty), np.zeros(dem.shape, bool)

    report(0.45, "craters")
    if detect:
        from .craters import crater_mask as _crater_mask
        from .craters import detect_craters

        craters = detect_craters(z, res, transform=dem.transform)
        # Only craters whose bowl walls exceed the rover's slope limit are a hazard of their own.
        cmask = _crater_mask(
            craters, dem.shape, dem.transform, min_wall_slope_deg=limits.max_slope_deg
        )
    else:
        empty = np.zeros(0)
        craters, cmask = DetectedCraters(empty, empty, empty, empty), np.zeros(dem.shape, bool)

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

    los = rng = None
    if lander is not None:
        report(0.75, "line of sight")
        r0, c0 = dem.rowcol(lander.x, lander.y)
        if not valid[r0, c0]:
            raise HazardInputError(
                f"lander at ({lander.x:.1f}, {lander.y:.1f}) stands on a nodata cell; move it"
            )
        z_radio = _smooth_nan(z, limits.los_smoothing_m / res)
        vis, rng = hk.line_of_sight(
            z_radio,
            res,
            r0,
            c0,
            lander.antenna_height_m,
            limits.rover_antenna_height_m,
            MOON_RADIUS_M,
        )
        los = vis.astype(bool) & valid

    report(0.85, "cost")
    with np.errstate(invalid="ignore"):
        reasons = {
            "nodata": ~valid,
            "slope": ~(slope_rover <= limits.max_slope_deg),
            "step": ~(step <= limits.max_step_m),
            "roughness": ~(rough <= limits.max_roughness_m),
            "rock_risk": ~(risk <= limits.max_rock_risk),
            "rocks": rock_cells,
        }
    if lander is not None:
        reasons["lander"] = _disc_mask(dem, lander.x, lander.y, lander.footprint_radius_m)
        reasons["comm"] = ~(los & (rng <= limits.link_range_m))
    raw = np.zeros(dem.shape, dtype=bool)
    for mask in reasons.values():
        raw |= mask
    radius_px = int(np.ceil(limits.rover_radius_m / res))
    keepout = ndimage.binary_dilation(raw, structure=_disk(radius_px)) if radius_px > 0 else raw
    n_valid = int(valid.sum())
    share = {k: float((m & valid).sum() / n_valid) for k, m in reasons.items() if k != "nodata"}
    if (~keepout & valid).sum() == 0:
        worst = max(share, key=share.get)
        warnings.append(
            f"every cell is keep-out; the '{worst}' layer alone excludes {share[worst]:.0%} of "
            "the DEM: relax that limit or check the DEM's units"
        )

    with np.errstate(invalid="ignore"):
        cost = (
            1.0
            + limits.slope_weight * np.nan_to_num(slope_rover / limits.max_slope_deg)
            + limits.roughness_weight * np.nan_to_num(rough / limits.max_roughness_m)
            + limits.rock_weight * np.nan_to_num(risk / limits.max_rock_risk)
        ).astype(np.float32)
    if shadow is not None:
        cost += np.float32(limits.shadow_weight) * shadow.astype(np.float32)
    cost[keepout] = np.inf
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
        range_lander_m=rng,
        sun=None if sun is None else (float(sun[0]), float(sun[1])),
        lander=lander,
        keepout_share=share,
        warnings=tuple(warnings),
    )
