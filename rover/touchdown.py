"""Monte Carlo touchdowns of a legged lander on a DEM, and where a touchdown would be safe.

Both HAKUTO-R landers were lost in the last minutes of descent, so the planner first asks where
(and whether) the lander came down. One run of :func:`simulate_touchdown`:

1. flies the powered descent (:mod:`rover.descent`): dynamics, inertial navigation, laser range
   finder and rejection gate of a named scenario (``nominal``, ``mission-2``, ``mission-1``);
   that gives the contact point (the horizontal navigation error at the start is the landing
   ellipse, :class:`Dispersion`), the vertical and lateral contact speeds, and why;
2. draws the lander's yaw (:class:`Dispersion`);
3. settles the pads on the DEM (rocks included, they are bumps in it): the lander rests on the
   support triangle of pads whose plane has every pad on or above the ground; that gives the
   tilt and the clearance under the body (:func:`stance`);
4. classifies the run (:func:`classify`): ``nominal``, ``degraded`` (standing, but tilted past
   the deployment limit), ``tip-over``, ``crash`` or ``off-dem`` (no terrain data there).

:func:`touchdown_safety` evaluates the stance at every cell centre for several yaws: the
probability of a safe touchdown per cell, given a good descent.

Assumptions (all named here, in :mod:`rover.descent` or in the lander TOML, none elsewhere)
-----------------------------------------------------------------------------------------
Dispersion (:class:`Dispersion`)
    Resilience's landing ellipse is not published. Default 1-sigma semi-axes 50 m along the
    ground track x 30 m across (3-sigma ellipse 300 m x 180 m), major axis north-south. That is
    a lander that navigates on its inertial unit and the altimeter with map-relative position
    fixes, without the hazard-avoidance divert of the later CLPS landers; a 1-2 km ellipse of a
    purely inertial lander would not fit a rover-scale DEM, and a SLIM-class 100 m pinpoint is
    better than anything ispace has claimed. The descent simulation takes these as its
    horizontal position knowledge, held there by the fixes through the descent (the guidance
    nulls the *estimated* offset, so the true contact point lies off by the navigation error).
    The lander flies along the major axis towards ``major_azimuth_deg + 180`` (southbound by
    default, a polar orbit: assumed). The real Mission 2 impact (LRO, about 282 m south and
    236 m east, ~370 m from the target) lies beyond this ellipse's 3-sigma boundary. The yaw
    is uniform (unknown) unless a planned yaw is given.
Descent (:mod:`rover.descent`)
    Every number and its source is in that module's notes. The Mission 2 fault is a degraded
    range finder (first valid range at ~900 m instead of ~3 km); Mission 1's is the rejection
    gate over the cliff at Atlas crater's rim. Neither is a tuned contact speed: the contact
    speeds come from the simulated descent.
Stance (:func:`stance`)
    Pads at ``pad_circle_radius_m`` on the lander's legs (for 4 legs at yaw + 45, 135, 225,
    315 deg, so the deployment sides at yaw + 90/270 lie between legs). The ground under a pad
    is the highest ground over the pad disc (a maximum filter of the DEM over the disc, a no-op
    for pads smaller than a pixel), interpolated bilinearly at the pad centre, so a plane gives
    its own slope and a rock shows its height under a pad that stands on it. The body
    underside is ``body_clearance_m`` above the pad plane over a disc of
    ``body_radius_m``. When two support triangles are possible (the lander rocks on a diagonal)
    the more tilted one is taken: the worst case of the rocking.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from typing import Any, Literal

import numpy as np
from numba import njit
from rasterio.crs import CRS
from scipy import ndimage

from frigoris.terrain import Dem
from frigoris.terrain.io import point_features
from frigoris.terrain.kernel_calls import readonly, split_range

from .descent import (
    SCENARIO_NAMES,
    DescentBatch,
    DescentScenario,
    check_descent_lander,
    scenario,
    simulate_descents,
    track_to_east_north,
)
from .errors import TouchdownError
from .progress import ProgressCallback
from .specs import LanderSpec

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

Outcome = Literal["nominal", "degraded", "tip-over", "crash", "off-dem"]
OUTCOMES: tuple[str, ...] = ("nominal", "degraded", "tip-over", "crash", "off-dem")
SAFE_OUTCOMES: tuple[str, ...] = ("nominal", "degraded")
"""The lander stands: nominal (rover deployable) or degraded (tilted past the deployment limit)."""

ScenarioName = Literal["nominal", "mission-2", "mission-1"]
SCENARIOS: tuple[str, ...] = SCENARIO_NAMES
"""Descent scenarios by name (:func:`rover.descent.scenario`)."""

PLANNED_TOUCHDOWN_UTC = datetime(2025, 6, 5, 19, 17, tzinfo=timezone.utc)
"""Planned touchdown of HAKUTO-R Mission 2 (published: 2025-06-05 19:17 UTC)."""

MISSION2_IMPACT_OFFSET_M = (236.0, -282.0)
"""Where Resilience hit, east and north of the target in metres (LRO image, published)."""

MIN_PAD_CIRCLE_PX = 2.0
"""The pad circle radius must span at least this many pixels for the DEM to resolve a stance."""


# --------------------------------------------------------------------------------------------
# models


@dataclass(frozen=True)
class Dispersion:
    """Horizontal navigation knowledge during the descent (the landing ellipse), and yaw.

    The descent simulation draws its horizontal position error from this ellipse and holds it
    there (map-relative fixes), so contacts scatter as the ellipse (:mod:`rover.descent`).

    Parameters
    ----------
    sigma_major_m, sigma_minor_m : float
        1-sigma semi-axes of the normal ellipse (along and across the ground track, which runs
        along the major axis).
    major_azimuth_deg : float
        Direction of the major axis, degrees clockwise from grid north.
    yaw_deg : float or None
        Planned lander yaw (azimuth of its body +x axis); None: yaw uniform in [0, 360).
    yaw_sigma_deg : float
        1-sigma yaw error about ``yaw_deg`` when it is given.
    """

    sigma_major_m: float = 50.0
    sigma_minor_m: float = 30.0
    major_azimuth_deg: float = 0.0
    yaw_deg: float | None = None
    yaw_sigma_deg: float = 10.0

    def validate(self) -> None:
        """Raise TouchdownError naming the first bad value."""
        for name in ("sigma_major_m", "sigma_minor_m", "yaw_sigma_deg"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise TouchdownError(f"dispersion {name} must be a number >= 0, got {v!r}")
        if self.sigma_minor_m > self.sigma_major_m:
            raise TouchdownError(
                f"dispersion sigma_minor_m {self.sigma_minor_m} exceeds sigma_major_m "
                f"{self.sigma_major_m}; swap them and turn major_azimuth_deg by 90"
            )

    def half_extent_m(self, n_sigma: float = 3.0) -> tuple[float, float]:
        """Half width (x) and half height (y) of the box holding the n-sigma ellipse."""
        a, b = n_sigma * self.sigma_major_m, n_sigma * self.sigma_minor_m
        t = math.radians(self.major_azimuth_deg)
        # Major axis direction in map (x east, y north): (sin t, cos t).
        hx = math.hypot(a * math.sin(t), b * math.cos(t))
        hy = math.hypot(a * math.cos(t), b * math.sin(t))
        return hx, hy

    def sample_yaw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw n yaws (deg): run ``i``'s yaw is the ``i``-th draw, whatever ``n``."""
        if self.yaw_deg is None:
            return rng.uniform(0.0, 360.0, n)
        return (self.yaw_deg + self.yaw_sigma_deg * rng.standard_normal(n)) % 360.0

    def sample(self, target: tuple[float, float], n: int, rng: np.random.Generator):
        """Draw n landing points (x, y) and yaws (deg) in a fixed order (deterministic)."""
        u = rng.standard_normal((n, 2))
        t = math.radians(self.major_azimuth_deg)
        major = np.array([math.sin(t), math.cos(t)])
        minor = np.array([math.cos(t), -math.sin(t)])
        d = (u[:, :1] * self.sigma_major_m) * major + (u[:, 1:] * self.sigma_minor_m) * minor
        x = target[0] + d[:, 0]
        y = target[1] + d[:, 1]
        if self.yaw_deg is None:
            yaw = rng.uniform(0.0, 360.0, n)
        else:
            yaw = (self.yaw_deg + self.yaw_sigma_deg * rng.standard_normal(n)) % 360.0
        return x, y, yaw


# --------------------------------------------------------------------------------------------
# stance kernels


@njit(cache=True, nogil=True)
def _bilinear(a, fc, fr):
    """Bilinear value of ``a`` at fractional (col, row) grid coordinates; NaN off the grid.

    Cell centres are at +0.5; within the outer half cell the edge values are used.
    """
    nrows, ncols = a.shape
    if fc < 0.0 or fr < 0.0 or fc > ncols or fr > nrows:
        return np.nan
    u = min(max(fc - 0.5, 0.0), ncols - 1.0)
    v = min(max(fr - 0.5, 0.0), nrows - 1.0)
    c0 = min(int(np.floor(u)), max(ncols - 2, 0))
    r0 = min(int(np.floor(v)), max(nrows - 2, 0))
    c1 = min(c0 + 1, ncols - 1)
    r1 = min(r0 + 1, nrows - 1)
    tu = u - c0
    tv = v - r0
    return (1.0 - tv) * ((1.0 - tu) * a[r0, c0] + tu * a[r0, c1]) + tv * (
        (1.0 - tu) * a[r1, c0] + tu * a[r1, c1]
    )


@njit(cache=True, nogil=True)
def _stance_point(zpad, z, res, left, top, x, y, yaw, radius, legs, body_r, body_clear, out):
    """Tilt (deg) and body clearance (m) of a lander centred at map (x, y); NaN off the data."""
    nrows, ncols = z.shape
    px = np.empty(legs)
    py = np.empty(legs)
    pz = np.empty(legs)
    for k in range(legs):
        az = yaw + 2.0 * np.pi * (k + 0.5) / legs
        dx = radius * np.sin(az)
        dy = radius * np.cos(az)
        h = _bilinear(zpad, (x + dx - left) / res, (top - y - dy) / res)
        if not np.isfinite(h):
            out[0] = np.nan
            out[1] = np.nan
            return
        px[k] = dx
        py[k] = dy
        pz[k] = h
    best_tilt = -1.0
    bnx = 0.0
    bny = 0.0
    bnz = 1.0
    bz0 = 0.0
    fallback_tilt = -1.0
    fnx = 0.0
    fny = 0.0
    fnz = 1.0
    fz0 = 0.0
    for i in range(legs):
        for j in range(i + 1, legs):
            for m in range(j + 1, legs):
                ax = px[j] - px[i]
                ay = py[j] - py[i]
                az_ = pz[j] - pz[i]
                bx = px[m] - px[i]
                by = py[m] - py[i]
                bz = pz[m] - pz[i]
                nx = ay * bz - az_ * by
                ny = az_ * bx - ax * bz
                nz = ax * by - ay * bx
                if nz < 0.0:
                    nx = -nx
                    ny = -ny
                    nz = -nz
                if nz < 1e-12:
                    continue  # pads in a line seen from above: no support plane
                ok = True
                for q in range(legs):
                    if q == i or q == j or q == m:
                        continue
                    zq = pz[i] - (nx * (px[q] - px[i]) + ny * (py[q] - py[i])) / nz
                    if zq < pz[q] - 1e-9:
                        ok = False
                        break
                if not ok:
                    continue
                # plane height at the lander centre (0, 0)
                z0 = pz[i] - (nx * (0.0 - px[i]) + ny * (0.0 - py[i])) / nz
                tilt = np.degrees(np.arccos(min(1.0, nz / np.sqrt(nx * nx + ny * ny + nz * nz))))
                if tilt > fallback_tilt:
                    fallback_tilt = tilt
                    fnx, fny, fnz, fz0 = nx, ny, nz, z0
                # the centre must project inside the support triangle (on an edge counts)
                d1 = (px[j] - px[i]) * (0.0 - py[i]) - (py[j] - py[i]) * (0.0 - px[i])
                d2 = (px[m] - px[j]) * (0.0 - py[j]) - (py[m] - py[j]) * (0.0 - px[j])
                d3 = (px[i] - px[m]) * (0.0 - py[m]) - (py[i] - py[m]) * (0.0 - px[m])
                eps = 1e-9 * radius * radius
                has_neg = d1 < -eps or d2 < -eps or d3 < -eps
                has_pos = d1 > eps or d2 > eps or d3 > eps
                if has_neg and has_pos:
                    continue
                if tilt > best_tilt:
                    best_tilt = tilt
                    bnx, bny, bnz, bz0 = nx, ny, nz, z0
    if best_tilt < 0.0:
        best_tilt = fallback_tilt
        bnx, bny, bnz, bz0 = fnx, fny, fnz, fz0
    if best_tilt < 0.0:
        out[0] = np.nan
        out[1] = np.nan
        return
    # body underside: body_clear above the pad plane, over a disc of body_r
    c0 = (x - left) / res
    r0 = (top - y) / res
    span = int(np.ceil(body_r / res)) + 1
    rc = int(np.floor(r0))
    cc = int(np.floor(c0))
    clearance = np.inf
    for r in range(rc - span, rc + span + 1):
        for c in range(cc - span, cc + span + 1):
            dx = (c + 0.5 - c0) * res
            dy = (r0 - r - 0.5) * res
            if dx * dx + dy * dy > body_r * body_r:
                continue
            if r < 0 or r >= nrows or c < 0 or c >= ncols:
                out[0] = np.nan
                out[1] = np.nan
                return
            g = z[r, c]
            if not np.isfinite(g):
                out[0] = np.nan
                out[1] = np.nan
                return
            under = bz0 - (bnx * dx + bny * dy) / bnz + body_clear
            if under - g < clearance:
                clearance = under - g
    if not np.isfinite(clearance):
        # body disc smaller than a pixel and between centres: use the centre cell
        if rc < 0 or rc >= nrows or cc < 0 or cc >= ncols or not np.isfinite(z[rc, cc]):
            out[0] = np.nan
            out[1] = np.nan
            return
        clearance = bz0 + body_clear - z[rc, cc]
    out[0] = best_tilt
    out[1] = clearance


@njit(cache=True, nogil=True)
def _stance_many(
    zpad, z, res, left, top, xs, ys, yaws, radius, legs, body_r, body_clear, tilt, clearance, lo, hi
):
    """Stances ``lo:hi`` (tilt and clearance) of the points ``xs``, ``ys``, ``yaws``."""
    for i in range(lo, hi):
        out = np.empty(2)
        _stance_point(
            zpad, z, res, left, top, xs[i], ys[i], yaws[i], radius, legs, body_r, body_clear, out
        )
        tilt[i] = out[0]
        clearance[i] = out[1]


@njit(cache=True, nogil=True)
def _safety_window(
    zpad,
    z,
    res,
    left,
    top,
    r0,
    c0,
    c1,
    yaws,
    radius,
    legs,
    body_r,
    body_clear,
    max_stable,
    max_deploy,
    p_safe,
    p_deploy,
    tilt_max,
    lo,
    hi,
):
    """Rows ``r0 + lo`` to ``r0 + hi`` (columns ``c0:c1``) of the safety raster."""
    ny = yaws.size
    for r in range(r0 + lo, r0 + hi):
        out = np.empty(2)
        y = top - (r + 0.5) * res
        for c in range(c0, c1):
            x = left + (c + 0.5) * res
            n_safe = 0
            n_dep = 0
            worst = 0.0
            unknown = False
            for k in range(ny):
                _stance_point(
                    zpad, z, res, left, top, x, y, yaws[k], radius, legs, body_r, body_clear, out
                )
                if not np.isfinite(out[0]):
                    unknown = True
                    break
                if out[1] >= 0.0 and out[0] <= max_stable:
                    n_safe += 1
                    if out[0] <= max_deploy:
                        n_dep += 1
                if out[0] > worst:
                    worst = out[0]
            if unknown:
                continue
            p_safe[r, c] = n_safe / ny
            p_deploy[r, c] = n_dep / ny
            tilt_max[r, c] = worst


# --------------------------------------------------------------------------------------------
# stance on a DEM


def check_grid(dem: Dem, lander: LanderSpec) -> None:
    """Raise TouchdownError when the DEM is too coarse to resolve the lander's stance.

    The pads span ``2 * pad_circle_radius_m``; with fewer than ``MIN_PAD_CIRCLE_PX`` pixels
    across the pad circle radius every pad reads the same few cells and tilt is noise.
    """
    res = dem.res_m
    if lander.pad_circle_radius_m < MIN_PAD_CIRCLE_PX * res:
        raise TouchdownError(
            f"the legs of {lander.name} do not fit the grid resolution: pad circle radius "
            f"{lander.pad_circle_radius_m:g} m is under {MIN_PAD_CIRCLE_PX:g} pixels of "
            f"{res:g} m; use a DEM of {lander.pad_circle_radius_m / MIN_PAD_CIRCLE_PX:g} m or "
            "finer (resample it, or synthesise the site at a finer res_m)"
        )


def _check_lander(lander: LanderSpec) -> None:
    if not isinstance(lander, LanderSpec):
        raise TouchdownError(f"lander must be a LanderSpec, got {type(lander).__name__}")
    lander.validate()


@dataclass(frozen=True, eq=False)
class _Ground:
    """DEM arrays prepared for the stance kernels (float64, pad-disc maximum)."""

    z: np.ndarray
    zpad: np.ndarray
    res: float
    left: float
    top: float


def _ground(dem: Dem, lander: LanderSpec) -> _Ground:
    z = np.ascontiguousarray(dem.elevation, dtype=np.float64)
    res = dem.res_m
    rad_px = lander.pad_radius_m / res
    k = int(math.floor(rad_px))
    if k >= 1:
        yy, xx = np.mgrid[-k : k + 1, -k : k + 1]
        disc = (xx**2 + yy**2) <= rad_px**2
        # NaN (nodata) under any part of a pad makes that pad unknown
        filled = np.where(np.isfinite(z), z, np.inf)
        zpad = ndimage.maximum_filter(filled, footprint=disc, mode="constant", cval=np.inf)
        zpad[np.isinf(zpad)] = np.nan
    else:
        zpad = z  # pad smaller than a pixel: the cell under its centre
    b = dem.bounds
    return _Ground(z, np.ascontiguousarray(zpad), res, float(b.left), float(b.top))


@dataclass(frozen=True)
class Stance:
    """How a lander rests at one place and yaw."""

    x: float
    y: float
    yaw_deg: float
    tilt_deg: float
    clearance_m: float

    @property
    def on_data(self) -> bool:
        """False when a pad or the body lies off the DEM or on nodata."""
        return math.isfinite(self.tilt_deg)


def stance(dem: Dem, lander: LanderSpec, x: float, y: float, yaw_deg: float) -> Stance:
    """Settle the lander's pads on the DEM at map (x, y) and yaw; tilt and body clearance.

    Parameters
    ----------
    dem : Dem
        Terrain, rocks included (they are bumps in the DEM).
    lander : LanderSpec
        Leg count, pad circle and pad radius, body radius and clearance.
    x, y : float
        Lander centre in map metres.
    yaw_deg : float
        Azimuth of the lander's body +x axis, degrees clockwise from grid north.

    Returns
    -------
    Stance
        ``tilt_deg`` is the angle of the pad plane from horizontal, ``clearance_m`` the smallest
        gap between the body underside and the ground (negative: the terrain hits the body).
        Both NaN when the lander is off the data.

    Raises
    ------
    TouchdownError
        The DEM is too coarse for the lander's legs.

    Examples
    --------
    A pad on a 0.5 m rock tilts a lander with a 1.25 m pad circle by
    ``atan(0.5 / (sqrt(2) * 1.25))`` = 15.8 deg.
    """
    _check_lander(lander)
    check_grid(dem, lander)
    g = _ground(dem, lander)
    tilt, clear = _stance_arrays(
        g, lander, np.array([x], float), np.array([y], float), np.array([yaw_deg], float)
    )
    return Stance(float(x), float(y), float(yaw_deg), float(tilt[0]), float(clear[0]))


def _stance_arrays(g: _Ground, lander: LanderSpec, xs, ys, yaws_deg):
    tilt = np.empty(xs.size)
    clear = np.empty(xs.size)
    run = partial(
        _stance_many,
        readonly(g.zpad),
        readonly(g.z),
        g.res,
        g.left,
        g.top,
        readonly(np.ascontiguousarray(xs, dtype=np.float64)),
        readonly(np.ascontiguousarray(ys, dtype=np.float64)),
        readonly(np.radians(np.ascontiguousarray(yaws_deg, dtype=np.float64))),
        float(lander.pad_circle_radius_m),
        int(lander.legs),
        float(lander.body_radius_m),
        float(lander.body_clearance_m),
        tilt,
        clear,
    )
    split_range(run, xs.size)  # points side by side
    return tilt, clear


# --------------------------------------------------------------------------------------------
# classification and results


def classify(
    lander: LanderSpec,
    v_vertical_m_s: float,
    v_horizontal_m_s: float,
    tilt_deg: float,
    clearance_m: float,
) -> tuple[str, str]:
    """Outcome and a one-line reason for one touchdown.

    Checked in this order: vertical speed above what the legs absorb (crash); no terrain data
    (off-dem); terrain into the body (crash); tilt above the stability limit or lateral speed
    above the design value (tip-over); tilt above the deployment limit (degraded); else nominal.
    """
    L = lander
    if not v_vertical_m_s <= L.max_vertical_speed_m_s:
        return "crash", (
            f"hit the ground at {v_vertical_m_s:.1f} m/s, above the "
            f"{L.max_vertical_speed_m_s:g} m/s the legs absorb"
        )
    if not (math.isfinite(tilt_deg) and math.isfinite(clearance_m)):
        return "off-dem", "came down where the DEM has no data: the stance is unknown"
    if clearance_m < 0:
        return "crash", (
            f"the ground reaches {-clearance_m:.2f} m into the body "
            "(a rock or ridge under the lander)"
        )
    if tilt_deg > L.max_tilt_stable_deg:
        return "tip-over", (
            f"tilt {tilt_deg:.1f} deg above the {L.max_tilt_stable_deg:g} deg stability limit"
        )
    if v_horizontal_m_s > L.max_horizontal_speed_m_s:
        return "tip-over", (
            f"lateral speed {v_horizontal_m_s:.2f} m/s above "
            f"{L.max_horizontal_speed_m_s:g} m/s: a pad digs in and it rolls over"
        )
    if tilt_deg > L.max_tilt_deploy_deg:
        return "degraded", (
            f"standing at {tilt_deg:.1f} deg, above the "
            f"{L.max_tilt_deploy_deg:g} deg the rover can be deployed at"
        )
    return "nominal", f"standing at {tilt_deg:.1f} deg with {clearance_m:.2f} m under the body"


@dataclass(frozen=True)
class TouchdownRun:
    """One simulated touchdown.

    Attributes
    ----------
    index : int
        Run number within its simulation.
    x, y : float
        Lander centre, map metres.
    yaw_deg : float
        Azimuth of the lander's body +x axis (deployment sides are relative to it).
    v_vertical_m_s, v_horizontal_m_s : float
        Speeds at contact.
    altimeter_altitude_m : float
        True height above ground of the range finder's first valid return (NaN: none).
    nav_bias_m : float
        Estimated minus true altitude at that moment (NaN: none).
    tilt_deg, clearance_m : float
        Stance on the DEM (NaN when off the data).
    outcome : str
        One of :data:`OUTCOMES`.
    reason : str
        Why, in one line.
    descent_reason : str
        What happened during the descent, in order (:attr:`rover.descent.DescentRun.reason`).
    sensor_failed : bool
        The navigation declared the range finder failed.
    propellant_kg : float
        Propellant left at contact.
    seed : int
        The descent's seed (:func:`rover.descent.simulate_descent` replays it with telemetry).
    """

    index: int
    x: float
    y: float
    yaw_deg: float
    v_vertical_m_s: float
    v_horizontal_m_s: float
    altimeter_altitude_m: float
    nav_bias_m: float
    tilt_deg: float
    clearance_m: float
    outcome: str
    reason: str
    descent_reason: str = ""
    sensor_failed: bool = False
    propellant_kg: float = math.nan
    seed: int = -1

    @property
    def safe(self) -> bool:
        """The lander stands (nominal or degraded)."""
        return self.outcome in SAFE_OUTCOMES


def touchdown_at(
    dem: Dem,
    lander: LanderSpec,
    x: float,
    y: float,
    yaw_deg: float,
    *,
    v_vertical_m_s: float | None = None,
    v_horizontal_m_s: float = 0.0,
) -> TouchdownRun:
    """One deterministic touchdown at a given place and yaw (default: a guided nominal descent).

    Parameters
    ----------
    dem : Dem
    lander : LanderSpec
    x, y : float
        Lander centre in map metres; must be on the DEM.
    yaw_deg : float
        Azimuth of the lander's body +x axis.
    v_vertical_m_s : float, optional
        Contact speed (default: the nominal descent's guided final speed).
    v_horizontal_m_s : float
        Lateral contact speed.

    Returns
    -------
    TouchdownRun

    Examples
    --------
    On flat ground the lander stands level, with its whole clearance under the body:

    >>> import numpy as np
    >>> from frigoris import RESILIENCE
    >>> from frigoris.terrain import Dem, local_metric_crs
    >>> flat = Dem.from_array(np.zeros((64, 64)), res_m=0.5, crs=local_metric_crs(60.5, -4.6))
    >>> run = touchdown_at(flat, RESILIENCE, 0.0, 0.0, 30.0)
    >>> run.outcome, run.tilt_deg, run.clearance_m == RESILIENCE.body_clearance_m
    ('nominal', 0.0, True)
    """
    _check_lander(lander)
    _check_target(dem, (x, y), "touchdown point")
    st = stance(dem, lander, x, y, yaw_deg)
    vv = scenario("nominal").final_speed_m_s if v_vertical_m_s is None else float(v_vertical_m_s)
    outcome, reason = classify(lander, vv, v_horizontal_m_s, st.tilt_deg, st.clearance_m)
    return TouchdownRun(
        0,
        float(x),
        float(y),
        float(yaw_deg) % 360.0,
        vv,
        float(v_horizontal_m_s),
        math.nan,
        0.0,
        st.tilt_deg,
        st.clearance_m,
        outcome,
        reason,
    )


def placed_at(dem: Dem, lander: LanderSpec, x: float, y: float, yaw_deg: float) -> TouchdownRun:
    """A lander placed by hand where it is known to stand (a mission's ``[lander] at``).

    When the DEM resolves the pads this is :func:`touchdown_at` (the stance on the DEM, a
    nominal contact). On a DEM too coarse for the pad circle (:func:`check_grid`), the stance
    cannot be computed: the tilt is the slope of the plane fitted to the 3 x 3 pixels around
    the lander, a baseline of three pixels, and the body clearance is unknown (NaN). Relief
    finer than the pixel can only add to that tilt, and the reason says so.

    Parameters
    ----------
    dem : Dem
    lander : LanderSpec
    x, y : float
        Lander centre in map metres; must be on the DEM's data.
    yaw_deg : float
        Azimuth of the lander's body +x axis.

    Returns
    -------
    TouchdownRun
        Outcome ``nominal`` (deployable), ``degraded`` (tilt above the deployment limit) or
        ``tip-over`` (above the stability limit); the reason starts with "placed by hand".

    Examples
    --------
    On a 5 m grid tilted 3 deg, Resilience's 1.25 m pad circle is not resolved; the plane is:

    >>> import numpy as np
    >>> from frigoris import RESILIENCE
    >>> from frigoris.terrain import Dem, local_metric_crs
    >>> ramp = np.tan(np.radians(3.0)) * 5.0 * np.arange(16.0)[None, :].repeat(16, axis=0)
    >>> dem = Dem.from_array(ramp, res_m=5.0, crs=local_metric_crs(-87.2, 63.0))
    >>> run = placed_at(dem, RESILIENCE, 0.0, 0.0, 0.0)
    >>> run.outcome, round(run.tilt_deg, 6), run.clearance_m
    ('nominal', 3.0, nan)
    """
    _check_lander(lander)
    _check_target(dem, (x, y), "lander position")
    try:
        check_grid(dem, lander)
    except TouchdownError:
        pass
    else:
        run = touchdown_at(dem, lander, x, y, yaw_deg)
        return replace(run, reason=f"placed by hand; {run.reason}")
    res = dem.res_m
    r, c = dem.rowcol(x, y)
    rows, cols = dem.shape
    r0, r1 = max(r - 1, 0), min(r + 2, rows)
    c0, c1 = max(c - 1, 0), min(c + 2, cols)
    z = np.asarray(dem.elevation[r0:r1, c0:c1], dtype=np.float64)
    rr, cc = np.mgrid[r0:r1, c0:c1]
    ok = np.isfinite(z)
    if ok.sum() < 3 or np.unique(rr[ok]).size < 2 or np.unique(cc[ok]).size < 2:
        raise TouchdownError(
            f"lander position ({x:.1f}, {y:.1f}) has too little DEM data around it to know the "
            "ground's tilt; place the lander on valid data"
        )
    a = np.column_stack([cc[ok] * res, rr[ok] * res, np.ones(ok.sum())])
    (gx, gy, _), *_ = np.linalg.lstsq(a, z[ok], rcond=None)
    tilt = math.degrees(math.atan(math.hypot(gx, gy)))
    base = f"{3 * res:g} m"
    if tilt > lander.max_tilt_stable_deg:
        outcome = "tip-over"
        why = (
            f"the ground tilts {tilt:.1f} deg, above the {lander.max_tilt_stable_deg:g} deg "
            "stability limit"
        )
    elif tilt > lander.max_tilt_deploy_deg:
        outcome = "degraded"
        why = (
            f"the ground tilts {tilt:.1f} deg, above the {lander.max_tilt_deploy_deg:g} deg "
            "the rover can be deployed at"
        )
    else:
        outcome, why = "nominal", f"the ground tilts {tilt:.1f} deg"
    reason = (
        f"placed by hand; {why} over a {base} baseline: the DEM's {res:g} m pixels cannot "
        f"resolve the {2 * lander.pad_circle_radius_m:g} m pad circle, so the tilt under the "
        "pads may be larger and the clearance under the body is unknown"
    )
    return TouchdownRun(
        0,
        float(x),
        float(y),
        float(yaw_deg) % 360.0,
        scenario("nominal").final_speed_m_s,
        0.0,
        math.nan,
        0.0,
        tilt,
        math.nan,
        outcome,
        reason,
    )


@dataclass(frozen=True)
class TouchdownResult:
    """Monte Carlo touchdowns of one descent scenario.

    Attributes
    ----------
    scenario : str
        The descent scenario's name.
    descent : DescentScenario
    dispersion : Dispersion
    lander : str
        Lander name.
    target : (float, float)
        Target in map metres.
    seed : int
    runs : tuple of TouchdownRun
    time : datetime
        Touchdown time (aware, UTC).
    """

    scenario: str
    descent: DescentScenario
    dispersion: Dispersion
    lander: str
    target: tuple[float, float]
    seed: int
    runs: tuple[TouchdownRun, ...]
    time: datetime = PLANNED_TOUCHDOWN_UTC

    def __len__(self) -> int:
        return len(self.runs)

    @property
    def counts(self) -> dict[str, int]:
        """Runs per outcome, every outcome listed."""
        out = dict.fromkeys(OUTCOMES, 0)
        for r in self.runs:
            out[r.outcome] += 1
        return out

    @property
    def fractions(self) -> dict[str, float]:
        """Share of runs per outcome."""
        n = max(len(self.runs), 1)
        return {k: v / n for k, v in self.counts.items()}

    @property
    def p_success(self) -> float:
        """Share of runs where the lander stands (nominal or degraded)."""
        c = self.counts
        return (c["nominal"] + c["degraded"]) / max(len(self.runs), 1)

    @property
    def p_deployable(self) -> float:
        """Share of runs that end nominal: standing within the rover's deployment tilt."""
        return self.counts["nominal"] / max(len(self.runs), 1)

    def first(self, outcome: str | None = None) -> TouchdownRun | None:
        """Return the first run (with the given outcome, if any)."""
        for r in self.runs:
            if outcome is None or r.outcome == outcome:
                return r
        return None

    def summary(self) -> dict[str, Any]:
        """Plain numbers: outcome shares, success probability, contact speeds."""
        v = np.array([r.v_vertical_m_s for r in self.runs])
        s: dict[str, Any] = {"scenario": self.scenario, "runs": len(self.runs)}
        s.update({k: round(f, 4) for k, f in self.fractions.items()})
        s["p_success"] = round(self.p_success, 4)
        s["p_deployable"] = round(self.p_deployable, 4)
        s["median_v_vertical_m_s"] = round(float(np.median(v)), 2) if v.size else math.nan
        s["p95_v_vertical_m_s"] = round(float(np.percentile(v, 95)), 2) if v.size else math.nan
        s["p_sensor_failed"] = round(
            sum(r.sensor_failed for r in self.runs) / max(len(self.runs), 1), 4
        )
        return s

    def to_features(self, crs: CRS) -> list[dict[str, Any]]:
        """GeoJSON Point features, one per run, with every record field as a property."""
        if not self.runs:
            return []
        cols: dict[str, list] = {
            "scenario": [self.scenario] * len(self.runs),
            "run": [r.index for r in self.runs],
            "yaw_deg": [round(r.yaw_deg, 2) for r in self.runs],
            "v_vertical_m_s": [round(r.v_vertical_m_s, 3) for r in self.runs],
            "v_horizontal_m_s": [round(r.v_horizontal_m_s, 3) for r in self.runs],
            "altimeter_altitude_m": [_json_num(r.altimeter_altitude_m, 1) for r in self.runs],
            "nav_bias_m": [_json_num(r.nav_bias_m, 1) for r in self.runs],
            "tilt_deg": [_json_num(r.tilt_deg, 3) for r in self.runs],
            "clearance_m": [_json_num(r.clearance_m, 3) for r in self.runs],
            "outcome": [r.outcome for r in self.runs],
            "reason": [r.reason for r in self.runs],
            "descent": [r.descent_reason for r in self.runs],
            "sensor_failed": [bool(r.sensor_failed) for r in self.runs],
            "propellant_kg": [_json_num(r.propellant_kg, 2) for r in self.runs],
        }
        return point_features(crs, [r.x for r in self.runs], [r.y for r in self.runs], **cols)


def _json_num(v: float, nd: int) -> float | None:
    return round(float(v), nd) if math.isfinite(v) else None


def _check_target(dem: Dem, target: tuple[float, float], what: str = "target") -> None:
    try:
        x, y = (float(v) for v in target)
    except (TypeError, ValueError) as err:
        raise TouchdownError(f"{what} must be map coordinates (x, y), got {target!r}") from err
    b = dem.bounds
    if not (math.isfinite(x) and math.isfinite(y) and dem.contains(x, y)):
        raise TouchdownError(
            f"{what} ({x:.1f}, {y:.1f}) is outside the DEM (x {b.left:.0f}..{b.right:.0f}, "
            f"y {b.bottom:.0f}..{b.top:.0f}); choose a point on it or give a DEM that covers it"
        )
    r, c = dem.rowcol(x, y)
    if not np.isfinite(dem.elevation[r, c]):
        raise TouchdownError(f"{what} ({x:.1f}, {y:.1f}) lies on a nodata cell of the DEM")


def contact_points(
    target: tuple[float, float], dispersion: Dispersion, batch: DescentBatch
) -> tuple[np.ndarray, np.ndarray]:
    """Map (x, y) of the descents' contact points.

    The ground track runs along the ellipse's major axis, flown towards
    ``major_azimuth_deg + 180``; ``along_m`` is past the target along it, ``cross_m`` to its
    right.
    """
    east, north = track_to_east_north(
        batch.column("along_m"), batch.column("cross_m"), dispersion.major_azimuth_deg + 180.0
    )
    x = target[0] + east
    y = target[1] + north
    return x, y


def _resolve_descent(descent) -> DescentScenario:
    if descent is None:
        return scenario("nominal")
    if isinstance(descent, DescentScenario | str):
        return scenario(descent)
    raise TouchdownError(
        f"descent must be a scenario name {list(SCENARIOS)} or a DescentScenario, "
        f"got {type(descent).__name__}"
    )


def simulate_touchdown(
    dem: Dem,
    lander: LanderSpec,
    target: tuple[float, float],
    *,
    runs: int = 1,
    seed: int = 0,
    dispersion: Dispersion | None = None,
    descent: DescentScenario | str | None = None,
    time: datetime = PLANNED_TOUCHDOWN_UTC,
    progress: ProgressCallback | None = None,
) -> TouchdownResult:
    """Monte Carlo touchdowns of a lander around a target: descent, then stance on the DEM.

    Parameters
    ----------
    dem : Dem
        Terrain with rocks drawn in; the pad circle must span at least two pixels.
    lander : LanderSpec
        Must give the descent fields (propellant budget, terminal thrusters).
    target : (x, y)
        Aim point in map metres, on the DEM.
    runs : int
        Number of touchdowns.
    seed : int
        Random seed. The yaws come from one stream and the descents from another, and every
        descent draws its navigation errors first, so two scenarios with the same seed start
        from the same errors (common random numbers): only the descent logic differs.
    dispersion : Dispersion, optional
        Default :class:`Dispersion()` (1-sigma 50 m x 30 m, yaw uniform): the horizontal
        navigation error at the start of the descent, and the yaw.
    descent : DescentScenario or "nominal" or "mission-2" or "mission-1", optional
        Default nominal.
    time : datetime
        Touchdown time, aware (default: the planned Mission 2 touchdown).
    progress : callable(fraction, stage), optional

    Returns
    -------
    TouchdownResult

    Raises
    ------
    TouchdownError
        Target off the DEM or on nodata, the legs do not fit the grid resolution, bad runs,
        naive time, bad dispersion or descent scenario, a lander without descent fields.

    Examples
    --------
    >>> res = simulate_touchdown(dem, RESILIENCE, (0.0, 0.0), runs=500, descent="mission-2")
    ... # doctest: +SKIP
    >>> res.counts["crash"]  # doctest: +SKIP
    """
    _check_lander(lander)
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise TouchdownError(f"runs must be a whole number >= 1, got {runs!r}")
    if time.tzinfo is None or time.utcoffset() is None:
        raise TouchdownError(f"time {time.isoformat()} has no time zone; give an aware UTC time")
    _check_target(dem, target)
    check_grid(dem, lander)
    dispersion = dispersion or Dispersion()
    dispersion.validate()
    descent = _resolve_descent(descent)
    check_descent_lander(lander)
    report = progress or (lambda fraction, stage="": None)
    target = (float(target[0]), float(target[1]))

    yaw_seq, desc_seq = np.random.SeedSequence(int(seed)).spawn(2)
    yaw = dispersion.sample_yaw(int(runs), np.random.default_rng(yaw_seq))
    report(0.05, f"{descent.name}: descents")
    batch = _descend(descent, lander, desc_seq, int(runs), dispersion)
    x, y = contact_points(target, dispersion, batch)
    report(0.5, f"{descent.name}: stances")
    g = _ground(dem, lander)
    tilt, clear = _stance_arrays(g, lander, x, y, yaw)
    report(0.8, f"{descent.name}: classify")
    records = []
    vv_all = batch.column("v_vertical_m_s")
    vh_all = batch.column("v_horizontal_m_s")
    for i in range(int(runs)):
        d = batch.run(i)
        vv = float(vv_all[i])
        vh = float(vh_all[i])
        if not math.isfinite(vv):  # still flying at the time limit: no contact to judge
            outcome, reason = "crash", "no touchdown within the descent's time limit"
        else:
            outcome, reason = classify(lander, vv, vh, float(tilt[i]), float(clear[i]))
        records.append(
            TouchdownRun(
                i,
                float(x[i]),
                float(y[i]),
                float(yaw[i]),
                vv,
                vh,
                d.first_valid_altitude_m,
                d.first_valid_nav_error_m,
                float(tilt[i]),
                float(clear[i]),
                outcome,
                reason,
                d.reason,
                d.sensor_failed,
                d.propellant_kg,
                d.seed,
            )
        )
    result = TouchdownResult(
        descent.name,
        descent,
        dispersion,
        lander.name,
        target,
        int(seed),
        tuple(records),
        time.astimezone(timezone.utc),
    )
    log.info("touchdown %s: %d runs, %s", descent.name, runs, result.counts)
    report(1.0, f"{descent.name}: done")
    return result


def _descend(descent, lander, seq, runs, dispersion) -> DescentBatch:
    """The descents of a touchdown Monte Carlo (run seeds from the descent stream)."""
    return simulate_descents(
        descent,
        lander,
        runs=runs,
        seed=int(seq.generate_state(1, dtype=np.uint32)[0]),
        sigma_along_m=dispersion.sigma_major_m,
        sigma_cross_m=dispersion.sigma_minor_m,
    )


# --------------------------------------------------------------------------------------------
# safety raster


@dataclass(frozen=True, eq=False)
class SafetyMap:
    """Where a touchdown would be safe, given a good descent (arrays of shape (M, N), float32).

    Attributes
    ----------
    grid : Dem
        The DEM the stances were computed on.
    p_safe : ndarray
        Fraction of the ``n_yaw`` yaws at which the lander stands (tilt within the stability
        limit, nothing into the body). NaN outside the computed window and off the data.
    p_deploy : ndarray
        Fraction of yaws at which it also stands within the deployment tilt.
    tilt_max_deg : ndarray
        Largest tilt over the yaws.
    window : (row0, row1, col0, col1)
        The computed block of the grid (half-open).
    n_yaw : int
    """

    grid: Dem
    p_safe: np.ndarray
    p_deploy: np.ndarray
    tilt_max_deg: np.ndarray
    window: tuple[int, int, int, int]
    n_yaw: int

    def layers(self) -> dict[str, np.ndarray]:
        """Named bands for ``write_geotiff``: p_safe first."""
        return {"p_safe": self.p_safe, "p_deploy": self.p_deploy, "tilt_max_deg": self.tilt_max_deg}

    def at(self, x: float, y: float) -> float:
        """p_safe at a map point (NaN off the window)."""
        r, c = self.grid.rowcol(x, y)
        if not (0 <= r < self.grid.shape[0] and 0 <= c < self.grid.shape[1]):
            return math.nan
        return float(self.p_safe[r, c])


def safety_bounds(
    dem: Dem,
    target: tuple[float, float],
    dispersion: Dispersion | None = None,
    *,
    n_sigma: float = 3.0,
    margin_m: float = 5.0,
) -> tuple[float, float, float, float]:
    """Map box (left, bottom, right, top) holding the n-sigma ellipse plus a margin, on the DEM."""
    d = dispersion or Dispersion()
    hx, hy = d.half_extent_m(n_sigma)
    b = dem.bounds
    x, y = float(target[0]), float(target[1])
    return (
        max(b.left, x - hx - margin_m),
        max(b.bottom, y - hy - margin_m),
        min(b.right, x + hx + margin_m),
        min(b.top, y + hy + margin_m),
    )


def touchdown_safety(
    dem: Dem,
    lander: LanderSpec,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    n_yaw: int = 8,
    progress: ProgressCallback | None = None,
) -> SafetyMap:
    """Probability of a safe touchdown per cell: the stance at every cell centre for n yaws.

    Parameters
    ----------
    dem : Dem
    lander : LanderSpec
    bounds : (left, bottom, right, top), optional
        Compute only cells whose centre lies in this map box (e.g. :func:`safety_bounds` of the
        dispersion ellipse); None: the whole grid. A 2048 x 2048 grid with 8 yaws takes about ten
        seconds on two cores.
    n_yaw : int
        Yaws evenly spaced over 360 / legs degrees (the stance repeats after that).
    progress : callable(fraction, stage), optional

    Returns
    -------
    SafetyMap
        Cells outside ``bounds`` or whose stance touches nodata are NaN.

    Raises
    ------
    TouchdownError
        The DEM is too coarse for the lander's legs, ``n_yaw`` < 1, empty bounds.
    """
    _check_lander(lander)
    check_grid(dem, lander)
    if isinstance(n_yaw, bool) or not isinstance(n_yaw, int | np.integer) or n_yaw < 1:
        raise TouchdownError(f"n_yaw must be a whole number >= 1, got {n_yaw!r}")
    report = progress or (lambda fraction, stage="": None)
    rows, cols = dem.shape
    if bounds is None:
        r0, r1, c0, c1 = 0, rows, 0, cols
    else:
        left, bottom, right, top = (float(v) for v in bounds)
        t = dem.transform
        c0 = max(0, math.ceil((left - t.c) / t.a - 0.5))
        c1 = min(cols, math.floor((right - t.c) / t.a - 0.5) + 1)
        r0 = max(0, math.ceil((t.f - top) / -t.e - 0.5))
        r1 = min(rows, math.floor((t.f - bottom) / -t.e - 0.5) + 1)
        if r1 <= r0 or c1 <= c0:
            raise TouchdownError(f"safety bounds {bounds} hold no cell centre of the DEM")
    report(0.05, "safety raster")
    g = _ground(dem, lander)
    period = 360.0 / lander.legs
    yaws = np.radians(np.arange(n_yaw) * period / n_yaw)
    p_safe = np.full(dem.shape, np.nan, dtype=np.float32)
    p_dep = np.full(dem.shape, np.nan, dtype=np.float32)
    tmax = np.full(dem.shape, np.nan, dtype=np.float32)
    run = partial(
        _safety_window,
        readonly(g.zpad),
        readonly(g.z),
        g.res,
        g.left,
        g.top,
        r0,
        c0,
        c1,
        readonly(yaws),
        float(lander.pad_circle_radius_m),
        int(lander.legs),
        float(lander.body_radius_m),
        float(lander.body_clearance_m),
        float(lander.max_tilt_stable_deg),
        float(lander.max_tilt_deploy_deg),
        p_safe,
        p_dep,
        tmax,
    )
    split_range(run, r1 - r0)  # rows side by side
    report(1.0, "safety raster")
    return SafetyMap(dem, p_safe, p_dep, tmax, (r0, r1, c0, c1), int(n_yaw))


# --------------------------------------------------------------------------------------------
# many runs on Dask


def simulate_touchdown_distributed(
    dem: Dem,
    lander: LanderSpec,
    target: tuple[float, float],
    *,
    runs: int,
    seed: int = 0,
    chunk: int = 1000,
    scheduler=None,
    dispersion: Dispersion | None = None,
    descent: DescentScenario | str | None = None,
    time: datetime = PLANNED_TOUCHDOWN_UTC,
    progress: ProgressCallback | None = None,
) -> TouchdownResult:
    """Monte Carlo touchdowns in chunks of ``chunk`` runs, on local threads or a Dask cluster.

    Chunk ``i`` runs :func:`simulate_touchdown` with a seed drawn from the ``i``-th child of
    ``numpy.random.SeedSequence(seed)``, so the records depend on ``seed`` and ``chunk`` only:
    the same on any scheduler and any number of workers. (They differ from one
    ``simulate_touchdown`` call with the same seed, which draws every run from one stream.)

    Parameters
    ----------
    dem, lander, target, dispersion, descent, time
        As :func:`simulate_touchdown`.
    runs : int
        Total number of touchdowns.
    seed : int
        Master seed.
    chunk : int
        Runs per task.
    scheduler : None, "threads", "synchronous", address or distributed.Client
        Where the chunks run (default local threads); see :func:`terrain.tiled.compute_tasks`.
    progress : callable(fraction, stage), optional
        Called as chunks finish.

    Returns
    -------
    TouchdownResult
        Runs numbered 0 .. runs - 1 in chunk order; ``seed`` is the master seed.

    Raises
    ------
    TouchdownError
        As :func:`simulate_touchdown`, or a bad ``chunk``.
    """
    import dask

    from frigoris.terrain.tiled import compute_tasks, dask_client, share

    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise TouchdownError(f"runs must be a whole number >= 1, got {runs!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise TouchdownError(f"chunk must be a whole number >= 1, got {chunk!r}")
    # fail here, not in a worker: the same checks simulate_touchdown makes
    _check_lander(lander)
    _check_target(dem, target)
    check_grid(dem, lander)
    if time.tzinfo is None or time.utcoffset() is None:
        raise TouchdownError(f"time {time.isoformat()} has no time zone; give an aware UTC time")
    dispersion = dispersion or Dispersion()
    dispersion.validate()
    descent = _resolve_descent(descent)
    check_descent_lander(lander)
    report = progress or (lambda fraction, stage="": None)
    sizes = [min(chunk, runs - a) for a in range(0, int(runs), int(chunk))]
    children = np.random.SeedSequence(int(seed)).spawn(len(sizes))
    seeds = [
        int(c.generate_state(2, dtype=np.uint32).astype(np.uint64) @ [1 << 32, 1]) for c in children
    ]
    done = [0]

    def tick(i, _):
        done[0] += 1
        report(done[0] / len(sizes), f"{descent.name}: {done[0]}/{len(sizes)} chunks")

    with dask_client(scheduler) as client:
        shared = share(dem, client)
        tasks = [
            dask.delayed(simulate_touchdown, pure=False)(
                shared,
                lander,
                target,
                runs=n,
                seed=s,
                dispersion=dispersion,
                descent=descent,
                time=time,
            )
            for n, s in zip(sizes, seeds, strict=True)
        ]
        parts = compute_tasks(tasks, client if client is not None else scheduler, on_result=tick)
    records = []
    for part in parts:
        offset = len(records)
        records.extend(replace(r, index=offset + r.index) for r in part.runs)
    log.info("distributed touchdown %s: %d runs in %d chunks", descent.name, runs, len(tasks))
    return TouchdownResult(
        descent.name,
        descent,
        dispersion,
        lander.name,
        (float(target[0]), float(target[1])),
        int(seed),
        tuple(records),
        time.astimezone(timezone.utc),
    )


__all__ = [
    "MISSION2_IMPACT_OFFSET_M",
    "OUTCOMES",
    "PLANNED_TOUCHDOWN_UTC",
    "SAFE_OUTCOMES",
    "SCENARIOS",
    "Dispersion",
    "SafetyMap",
    "Stance",
    "TouchdownResult",
    "TouchdownRun",
    "check_grid",
    "classify",
    "contact_points",
    "placed_at",
    "safety_bounds",
    "simulate_touchdown",
    "simulate_touchdown_distributed",
    "stance",
    "touchdown_at",
    "touchdown_safety",
]
