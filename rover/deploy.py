"""Lander-to-rover handoff: which side to lower the rover on, the way out, the starting state.

:func:`deploy` takes one touchdown (:class:`~rover.touchdown.TouchdownRun`) and a hazard map
built with the lander at that place, and returns a :class:`Handoff`: either the rover's initial
state for the traverse planner, or ``deployed=False`` with the reasons. A crash, a tip-over, a
lander tilted past the mechanism's limit, every side blocked, or no way out of the plume zone
are results, not exceptions: the pipeline stops there and says why.

How a side is judged
--------------------
The mechanism sets the rover down ``deploy_distance_m`` from the lander centre on the side's
azimuth (lander yaw + side angle), facing away. The *deployment area* is a strip
``deploy_footprint_m`` wide along that azimuth, from ``deploy_footprint_m / 2`` before the
set-down point to the first cell beyond the lander's own keep-out ring (or the far edge of the
set-down square, whichever is further). In it:

- slope over the rover footprint (``slope_rover_deg``) <= the rover's limit;
- steps <= the rover's step limit, unresolved-rock risk <= the hazard limit, no detected boulder;
- no keep-out cell, except the ring the hazard map puts around the lander itself (the rover is
  placed there by the mechanism, not driven; the terrain layers above still cover those cells);
- shadow (when the hazard map has a sun) is not a blocker but a penalty: a rover lowered into
  shadow, often the lander's own at low sun, starts on its battery;
- an egress path exists: the cheapest path on ``hazard.cost`` from the first cell past the
  lander ring to any cell at least ``plume_radius_m`` from the lander (an exact cost-distance
  search in a window of plume radius + 10 m, not a guess of goal cells).

Among the sides that pass, the lowest score wins: egress cost (cost-weighted metres) plus
``plume_radius_m`` times the shadowed share of the deployment area. Ties keep the spec's order.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pathlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from frigoris.terrain import Dem, write_text
from frigoris.terrain.crs import crs_to_lunar
from frigoris.terrain.hazard import HazardMap

from .errors import DeployError
from .specs import LanderSpec, RoverSpec
from .touchdown import PLANNED_TOUCHDOWN_UTC, TouchdownRun

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

HANDOFF_VERSION = 1
EGRESS_WINDOW_MARGIN_M = 10.0
"""The egress search looks this far beyond the plume radius (a window, so it stays fast)."""


# --------------------------------------------------------------------------------------------
# value types


@dataclass(frozen=True)
class RoverPose:
    """Rover position (map metres, and selenographic when a CRS is known) and heading."""

    x: float
    y: float
    heading_deg: float
    lat_deg: float | None = None
    lon_deg: float | None = None


@dataclass(frozen=True)
class LanderState:
    """Where and how the lander stands (from the touchdown record)."""

    x: float
    y: float
    yaw_deg: float
    tilt_deg: float | None
    clearance_m: float | None
    outcome: str
    reason: str
    lat_deg: float | None = None
    lon_deg: float | None = None


@dataclass(frozen=True)
class Egress:
    """The drive out of the plume-disturbed zone.

    Attributes
    ----------
    waypoints : tuple of (x, y)
        Map coordinates from the set-down point to the first point beyond the plume radius.
    length_m : float
        Length of the polyline.
    cost : float
        Hazard-cost-weighted metres of the cost-raster part (from the first cell past the
        lander ring).
    end_distance_m : float
        Distance of the last waypoint from the lander centre.
    energy_wh : float
        Drive energy at the rover's speed and drive power.
    speed_m_s : float
        The rover speed the energy and duration assume.
    """

    waypoints: tuple[tuple[float, float], ...]
    length_m: float
    cost: float
    end_distance_m: float
    energy_wh: float
    speed_m_s: float


@dataclass(frozen=True)
class SideCheck:
    """The verdict on one deployment side (``None``: not evaluated or no data)."""

    side_deg: float
    azimuth_deg: float
    ok: bool
    reasons: tuple[str, ...]
    set_down_x: float
    set_down_y: float
    max_slope_deg: float | None = None
    max_step_m: float | None = None
    max_rock_risk: float | None = None
    keepout_cells: int = 0
    shadow_fraction: float | None = None
    link_ok: bool | None = None
    egress_length_m: float | None = None
    egress_cost: float | None = None
    score: float | None = None


@dataclass(frozen=True)
class Handoff:
    """The traverse planner's starting state, or why there is none.

    Attributes
    ----------
    deployed : bool
        True when the rover stands on the ground with a way out of the plume zone.
    reasons : tuple of str
        Why not (empty when deployed), or notes worth reading when deployed.
    lander_name, rover_name : str
    lander : LanderState
    touchdown_time, time : datetime
        Touchdown and rover deployment (touchdown + ``lander.checkout_h``), aware UTC.
    side_deg : float or None
        Chosen side, relative to the lander yaw.
    pose : RoverPose or None
        The rover at the set-down point, facing away from the lander.
    battery_wh : float or None
        Battery at deployment (full: the lander charges it until it is lowered).
    link_ok : bool or None
        The set-down point sees the lander's antenna within link range (None: not computed).
    egress : Egress or None
    sides : tuple of SideCheck
        Every allowed side, in the spec's order.
    crs_wkt : str or None
        The map CRS of every coordinate here.
    """

    deployed: bool
    reasons: tuple[str, ...]
    lander_name: str
    rover_name: str
    lander: LanderState
    touchdown_time: datetime
    time: datetime
    side_deg: float | None = None
    pose: RoverPose | None = None
    battery_wh: float | None = None
    link_ok: bool | None = None
    egress: Egress | None = None
    sides: tuple[SideCheck, ...] = ()
    crs_wkt: str | None = field(default=None, repr=False)

    # -- the planner's view ---------------------------------------------------------------

    @property
    def start(self) -> RoverPose | None:
        """Where the traverse starts: the end of the egress, heading along its last segment."""
        if not self.deployed or self.pose is None:
            return None
        if self.egress is None or len(self.egress.waypoints) < 2:
            return self.pose
        (x0, y0), (x1, y1) = self.egress.waypoints[-2], self.egress.waypoints[-1]
        heading = math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360.0
        return RoverPose(x1, y1, heading)

    @property
    def start_battery_wh(self) -> float | None:
        """Battery at the start of the traverse (after the egress drive)."""
        if self.battery_wh is None:
            return None
        used = self.egress.energy_wh if self.egress is not None else 0.0
        return self.battery_wh - used

    @property
    def start_time(self) -> datetime | None:
        """When the traverse starts: deployment time plus the egress drive at the rover's speed."""
        if not self.deployed:
            return None
        if self.egress is None or self.egress_duration_s is None:
            return self.time
        return self.time + timedelta(seconds=self.egress_duration_s)

    @property
    def egress_duration_s(self) -> float | None:
        """Driving time of the egress (None without one)."""
        if self.egress is None or not self.egress.speed_m_s:
            return None
        return self.egress.length_m / self.egress.speed_m_s

    def start_rowcol(self, grid: Dem) -> tuple[int, int]:
        """Return the traverse's start cell (row, col) on ``grid``.

        Raises
        ------
        DeployError
            The rover was not deployed, or the start lies off ``grid``.
        """
        start = self.start
        if start is None:
            raise DeployError(
                "no handoff: the rover was never deployed (" + "; ".join(self.reasons) + ")"
            )
        if not grid.contains(start.x, start.y):
            raise DeployError(f"handoff start ({start.x:.1f}, {start.y:.1f}) is off the grid")
        return grid.rowcol(start.x, start.y)

    # -- serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (datetimes as ISO 8601 UTC, NaN as None)."""
        d = asdict(self)
        d["touchdown_time"] = self.touchdown_time.isoformat()
        d["time"] = self.time.isoformat()
        return {"frigoris_handoff": HANDOFF_VERSION, **_clean(d)}

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text; :meth:`from_json` reads it back to an equal Handoff."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Handoff:
        """Inverse of :meth:`to_dict`."""
        try:
            version = d.get("frigoris_handoff")
            if version != HANDOFF_VERSION:
                raise DeployError(
                    f"not a frigoris handoff of version {HANDOFF_VERSION} (got {version!r})"
                )
            eg = d.get("egress")
            return cls(
                deployed=bool(d["deployed"]),
                reasons=tuple(d["reasons"]),
                lander_name=d["lander_name"],
                rover_name=d["rover_name"],
                lander=LanderState(**d["lander"]),
                touchdown_time=_parse_time(d["touchdown_time"]),
                time=_parse_time(d["time"]),
                side_deg=d.get("side_deg"),
                pose=RoverPose(**d["pose"]) if d.get("pose") else None,
                battery_wh=d.get("battery_wh"),
                link_ok=d.get("link_ok"),
                egress=None
                if not eg
                else Egress(
                    waypoints=tuple(tuple(float(v) for v in p) for p in eg["waypoints"]),
                    length_m=eg["length_m"],
                    cost=eg["cost"],
                    end_distance_m=eg["end_distance_m"],
                    energy_wh=eg["energy_wh"],
                    speed_m_s=eg["speed_m_s"],
                ),
                sides=tuple(
                    SideCheck(**{**s, "reasons": tuple(s["reasons"])}) for s in d.get("sides", ())
                ),
                crs_wkt=d.get("crs_wkt"),
            )
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, DeployError):
                raise
            raise DeployError(f"malformed handoff JSON ({type(err).__name__}: {err})") from err

    @classmethod
    def from_json(cls, text: str) -> Handoff:
        """Read a Handoff written by :meth:`to_json`."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as err:
            raise DeployError(f"handoff is not valid JSON ({err})") from err
        if not isinstance(d, dict):
            raise DeployError("handoff JSON must be an object")
        return cls.from_dict(d)

    def write(self, path: str | os.PathLike) -> pathlib.Path:
        """Write JSON atomically (temporary file, then move into place)."""
        return write_text(path, self.to_json() + "\n")

    @classmethod
    def read(cls, path: str | os.PathLike) -> Handoff:
        """Read a handoff JSON file."""
        p = pathlib.Path(path)
        if not p.exists():
            raise DeployError(f"handoff file {str(p)!r} does not exist")
        return cls.from_json(p.read_text())

    def summary(self) -> dict[str, Any]:
        """Plain numbers worth printing."""
        s: dict[str, Any] = {
            "deployed": self.deployed,
            "touchdown": self.lander.outcome,
            "lander_xy_m": [round(self.lander.x, 2), round(self.lander.y, 2)],
            "lander_yaw_deg": round(self.lander.yaw_deg, 1),
        }
        if self.lander.tilt_deg is not None and self.lander.outcome != "crash":
            s["lander_tilt_deg"] = round(self.lander.tilt_deg, 2)
        for i, r in enumerate(self.reasons):
            s[f"reason_{i + 1}" if len(self.reasons) > 1 else "reason"] = r
        if self.deployed and self.pose is not None:
            s["side_deg"] = self.side_deg
            s["rover_xy_m"] = [round(self.pose.x, 2), round(self.pose.y, 2)]
            s["rover_heading_deg"] = round(self.pose.heading_deg, 1)
            if self.pose.lat_deg is not None:
                s["rover_lat_lon"] = [round(self.pose.lat_deg, 6), round(self.pose.lon_deg, 6)]
            s["time_utc"] = self.time.isoformat()
            s["battery_wh"] = self.battery_wh
            s["link_ok"] = self.link_ok
            if self.egress is not None:
                s["egress_length_m"] = round(self.egress.length_m, 2)
                s["egress_energy_wh"] = round(self.egress.energy_wh, 3)
        for c in self.sides:
            state = "ok" if c.ok else "blocked: " + "; ".join(c.reasons)
            score = f" (score {c.score:.1f})" if c.score is not None else ""
            s[f"side_{c.side_deg:g}"] = state + score
        return s


def _clean(v: Any) -> Any:
    """Tuples to lists, numpy scalars to Python, NaN/inf to None (strict JSON)."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise DeployError(f"handoff time {text!r} has no time zone")
    return t.astimezone(timezone.utc)


def _num(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


# --------------------------------------------------------------------------------------------
# helpers


def crop(dem: Dem, x: float, y: float, half_m: float) -> Dem:
    """Cut the part of ``dem`` within ``half_m`` of map (x, y) (whole pixels, clipped).

    Used to compute a hazard map only around the lander before deployment.
    """
    rows, cols = dem.shape
    r, c = dem.rowcol(x, y)
    h = int(math.ceil(half_m / dem.res_m))
    r0, r1 = max(0, r - h), min(rows, r + h + 1)
    c0, c1 = max(0, c - h), min(cols, c + h + 1)
    if r1 <= r0 or c1 <= c0:
        raise DeployError(f"({x:.1f}, {y:.1f}) is off the DEM; nothing to crop")
    t = dem.transform @ Affine.translation(c0, r0)
    return Dem(np.array(dem.elevation[r0:r1, c0:c1]), t, dem.crs)


def _cell_centres(grid: Dem, r0: int, r1: int, c0: int, c1: int):
    rows, cols = np.mgrid[r0:r1, c0:c1]
    x, y = grid.xy(rows, cols)
    return rows, cols, np.asarray(x), np.asarray(y)


def _lander_ring_m(hazard: HazardMap, lander: LanderSpec) -> float:
    """Radius around the lander inside which the hazard map is keep-out because of the lander."""
    res = hazard.grid.res_m
    if hazard.lander is not None:
        radius_px = math.ceil(hazard.limits.rover_radius_m / res)
        return hazard.lander.footprint_radius_m + radius_px * res + 1e-6
    return lander.pad_circle_radius_m + lander.pad_radius_m


def _latlon(crs, x: float, y: float) -> tuple[float | None, float | None]:
    if crs is None:
        return None, None
    lat, lon = crs_to_lunar(crs, x, y)
    return round(float(lat), 7), round(float(lon), 7)


# --------------------------------------------------------------------------------------------
# deploy


def deploy(
    touchdown: TouchdownRun,
    hazard: HazardMap | None,
    lander: LanderSpec,
    rover: RoverSpec,
    *,
    time: datetime = PLANNED_TOUCHDOWN_UTC,
    crs: CRS | None = None,
) -> Handoff:
    """Choose the deployment side, plan the egress and record the rover's starting state.

    Parameters
    ----------
    touchdown : TouchdownRun
        Where and how the lander came down (``outcome`` and stance).
    hazard : HazardMap or None
        Hazard layers around the lander, built with ``lander=lander_site(lander, x, y)`` of this
        touchdown so that the link layer is right. May be None when the touchdown already rules
        deployment out (crash, tip-over, degraded, off the DEM).
    lander : LanderSpec
        Deployment sides, distance and footprint, tilt limit, plume radius, checkout time.
    rover : RoverSpec
        Slope and step limits, battery, speed and drive power.
    time : datetime
        Touchdown time, aware; the rover is deployed ``lander.checkout_h`` later.
    crs : CRS, optional
        Map CRS of the touchdown, for latitude/longitude when there is no hazard map (the
        hazard map's CRS is used otherwise).

    Returns
    -------
    Handoff
        ``deployed=True`` with side, pose, battery, link and egress; or ``deployed=False`` and
        the reasons (lander lost or tilted, every side blocked, no way out of the plume zone).

    Raises
    ------
    DeployError
        Inputs that do not belong together: a naive time, no hazard map for a standing
        lander, a hazard map that does not cover the lander or was built for another lander
        position.

    Examples
    --------
    A lander that crashed deploys nothing, and says why:

    >>> import dataclasses
    >>> import numpy as np
    >>> from frigoris import RESILIENCE, TENACIOUS, touchdown_at
    >>> from frigoris.terrain import Dem, local_metric_crs
    >>> crs = local_metric_crs(60.5, -4.6)
    >>> flat = Dem.from_array(np.zeros((64, 64)), res_m=0.5, crs=crs)
    >>> crash = dataclasses.replace(touchdown_at(flat, RESILIENCE, 0.0, 0.0, 0.0),
    ...                             outcome="crash", reason="hit at 42 m/s")
    >>> handoff = deploy(crash, None, RESILIENCE, TENACIOUS, crs=crs)
    >>> handoff.deployed, handoff.reasons
    (False, ('lander crash: hit at 42 m/s', 'no deployment: the rover stays aboard'))
    """
    if not isinstance(touchdown, TouchdownRun):
        raise DeployError(f"touchdown must be a TouchdownRun, got {type(touchdown).__name__}")
    if not isinstance(lander, LanderSpec) or not isinstance(rover, RoverSpec):
        raise DeployError("lander must be a LanderSpec and rover a RoverSpec")
    if time.tzinfo is None or time.utcoffset() is None:
        raise DeployError(f"time {time.isoformat()} has no time zone; give an aware UTC time")
    t_touch = time.astimezone(timezone.utc)
    t_deploy = t_touch + timedelta(hours=lander.checkout_h)
    crs = hazard.grid.crs if hazard is not None else crs
    lat, lon = _latlon(crs, touchdown.x, touchdown.y) if crs is not None else (None, None)
    state = LanderState(
        touchdown.x,
        touchdown.y,
        touchdown.yaw_deg,
        _num(touchdown.tilt_deg),
        _num(touchdown.clearance_m),
        touchdown.outcome,
        touchdown.reason,
        lat,
        lon,
    )
    base = dict(
        lander_name=lander.name,
        rover_name=rover.name,
        lander=state,
        touchdown_time=t_touch,
        time=t_deploy,
        crs_wkt=crs.to_wkt() if crs is not None else None,
    )

    # The lander must stand, within the mechanism's tilt.
    if touchdown.outcome != "nominal":
        why = f"lander {touchdown.outcome}: {touchdown.reason}"
        return Handoff(
            deployed=False, reasons=(why, "no deployment: the rover stays aboard"), **base
        )
    if not (math.isfinite(touchdown.tilt_deg) and touchdown.tilt_deg <= lander.max_tilt_deploy_deg):
        return Handoff(
            deployed=False,
            reasons=(
                f"lander tilt {touchdown.tilt_deg:.1f} deg is above the "
                f"{lander.max_tilt_deploy_deg:g} deg the deployment mechanism allows",
            ),
            **base,
        )
    if hazard is None:
        raise DeployError("the lander stands: deploy() needs a hazard map around it")
    grid = hazard.grid
    if not grid.contains(touchdown.x, touchdown.y):
        raise DeployError(
            f"the hazard map ({grid.bounds}) does not cover the lander at "
            f"({touchdown.x:.1f}, {touchdown.y:.1f}); build it around the touchdown"
        )
    if hazard.lander is not None:
        off = math.hypot(hazard.lander.x - touchdown.x, hazard.lander.y - touchdown.y)
        if off > grid.res_m:
            raise DeployError(
                f"the hazard map was built for a lander at ({hazard.lander.x:.1f}, "
                f"{hazard.lander.y:.1f}), {off:.1f} m from this touchdown; rebuild it with "
                "lander=lander_site(lander, x, y) of the touchdown"
            )

    evaluated = [
        _check_side(hazard, lander, rover, touchdown, side) for side in lander.deploy_sides_deg
    ]
    checks = tuple(c for c, _ in evaluated)
    egresses = {c.side_deg: e for c, e in evaluated}
    ok = [c for c in checks if c.ok]
    if not ok:
        reasons = tuple(
            f"side {c.side_deg:g} deg (azimuth {c.azimuth_deg:.0f}): " + "; ".join(c.reasons)
            for c in checks
        )
        return Handoff(
            deployed=False,
            reasons=("no deployment possible: every side is blocked", *reasons),
            sides=checks,
            **base,
        )
    best = min(ok, key=lambda c: c.score)
    egress = egresses[best.side_deg]
    plat, plon = _latlon(crs, best.set_down_x, best.set_down_y)
    pose = RoverPose(best.set_down_x, best.set_down_y, best.azimuth_deg, plat, plon)
    notes = []
    if best.shadow_fraction:
        notes.append(f"set-down area {best.shadow_fraction:.0%} in shadow at the planning sun")
    if best.link_ok is False:
        notes.append("set-down point out of the lander's line of sight or link range")
    return Handoff(
        deployed=True,
        reasons=tuple(notes),
        side_deg=best.side_deg,
        pose=pose,
        battery_wh=float(rover.battery_wh),
        link_ok=best.link_ok,
        egress=egress,
        sides=checks,
        **base,
    )


def _strip(lander: LanderSpec, ring_m: float, res: float) -> tuple[float, float]:
    """Along-azimuth extent of the deployment area and the egress start distance."""
    d = lander.deploy_distance_m
    half = 0.5 * lander.deploy_footprint_m
    exit_m = max(d, ring_m + 0.5 * res)
    return d - half, max(d + half, exit_m + 0.5 * res)


def _first_cell_past(
    grid: Dem, x0: float, y0: float, az: float, start_m: float, ring_m: float
) -> tuple[int, int, float] | None:
    """First cell along the ray whose centre lies beyond ``ring_m`` (row, col, distance)."""
    ux, uy = math.sin(az), math.cos(az)
    res = grid.res_m
    d = start_m
    while d <= ring_m + 4.0 * res:
        x, y = x0 + d * ux, y0 + d * uy
        if not grid.contains(x, y):
            return None
        r, c = grid.rowcol(x, y)
        cx, cy = grid.xy(r, c)
        if math.hypot(cx - x0, cy - y0) > ring_m:
            return r, c, d
        d += 0.25 * res
    return None


def _check_side(
    hazard: HazardMap, lander: LanderSpec, rover: RoverSpec, touchdown: TouchdownRun, side: float
) -> tuple[SideCheck, Egress | None]:
    grid = hazard.grid
    res = grid.res_m
    az_deg = (touchdown.yaw_deg + side) % 360.0
    az = math.radians(az_deg)
    ux, uy = math.sin(az), math.cos(az)
    x0, y0 = touchdown.x, touchdown.y
    sx, sy = x0 + lander.deploy_distance_m * ux, y0 + lander.deploy_distance_m * uy
    reasons: list[str] = []
    base = dict(side_deg=float(side), azimuth_deg=round(az_deg, 6), set_down_x=sx, set_down_y=sy)
    if not grid.contains(sx, sy):
        return SideCheck(ok=False, reasons=("set-down point is off the hazard map",), **base), None

    ring = _lander_ring_m(hazard, lander)
    near, far = _strip(lander, ring, res)
    half_w = 0.5 * lander.deploy_footprint_m
    reach = math.hypot(far, half_w) + res
    rows, cols = grid.shape
    rc, cc = grid.rowcol(x0, y0)
    k = int(math.ceil(reach / res))
    r0, r1, c0, c1 = max(0, rc - k), min(rows, rc + k + 1), max(0, cc - k), min(cols, cc + k + 1)
    rr, ccs, xs, ys = _cell_centres(grid, r0, r1, c0, c1)
    along = (xs - x0) * ux + (ys - y0) * uy
    across = -(xs - x0) * uy + (ys - y0) * ux
    area = (along >= near) & (along <= far) & (np.abs(across) <= half_w)
    sr, sc = grid.rowcol(sx, sy)
    area |= (rr == sr) & (ccs == sc)
    corners = [
        (x0 + a * ux - b * uy, y0 + a * uy + b * ux) for a in (near, far) for b in (-half_w, half_w)
    ]
    if not all(grid.contains(cx, cy) for cx, cy in corners):
        reasons.append("the deployment area runs off the hazard map")
    ar, ac = rr[area], ccs[area]
    z = grid.elevation[ar, ac]
    if not np.isfinite(z).all():
        reasons.append("no terrain data in the deployment area")

    # np.max, not nanmax: a cell whose slope, step or risk is unknown blocks the side.
    slope = float(np.max(hazard.slope_rover_deg[ar, ac])) if ar.size else math.nan
    step = float(np.max(hazard.step_m[ar, ac])) if ar.size else math.nan
    risk = float(np.max(hazard.rock_risk[ar, ac])) if ar.size else math.nan
    if not slope <= rover.max_slope_deg:
        reasons.append(f"slope {slope:.1f} deg above the rover's {rover.max_slope_deg:g} deg")
    if not step <= rover.max_step_m:
        reasons.append(f"step {step:.3f} m above the rover's {rover.max_step_m:g} m")
    if not risk <= hazard.limits.max_risk:
        reasons.append(f"rock risk {risk:.3f} above {hazard.limits.max_risk:g}")
    boulders = _boulders_in(hazard, x0, y0, ux, uy, near, far, half_w)
    if boulders:
        d, h = boulders[0]
        reasons.append(f"a {d:.1f} m boulder ({h:.2f} m tall) in the set-down area")

    dist = np.hypot(xs[area] - x0, ys[area] - y0)
    ko = hazard.keepout[ar, ac] & (dist > ring)
    n_ko = int(ko.sum())
    if n_ko:
        reasons.append(f"{n_ko} keep-out cell(s) in the deployment area")

    shadow = None
    if hazard.shadow is not None and ar.size:
        shadow = float(np.mean(hazard.shadow[ar, ac]))
    comm = hazard.comm_ok()
    link = None if comm is None else bool(comm[sr, sc])
    if link is None:
        link = lander.deploy_distance_m <= hazard.limits.link_range_m

    common = dict(
        max_slope_deg=_num(slope),
        max_step_m=_num(step),
        max_rock_risk=_num(risk),
        keepout_cells=n_ko,
        shadow_fraction=shadow,
        link_ok=link,
    )
    if reasons:
        return SideCheck(ok=False, reasons=tuple(reasons), **common, **base), None
    egress = _egress(hazard, lander, rover, touchdown, az_deg)
    if egress is None:
        return SideCheck(
            ok=False,
            reasons=(f"no way out of the {lander.plume_radius_m:g} m plume zone from this side",),
            **common,
            **base,
        ), None
    score = egress.cost + lander.plume_radius_m * (shadow or 0.0)
    return SideCheck(
        ok=True,
        reasons=(),
        egress_length_m=egress.length_m,
        egress_cost=egress.cost,
        score=score,
        **common,
        **base,
    ), egress


def _boulders_in(hazard: HazardMap, x0, y0, ux, uy, near, far, half_w) -> list[tuple[float, float]]:
    rocks = hazard.rocks
    if len(rocks) == 0:
        return []
    rx = np.asarray(rocks.x, dtype=float)
    ry = np.asarray(rocks.y, dtype=float)
    rad = 0.5 * np.asarray(rocks.diameter_m, dtype=float)
    along = (rx - x0) * ux + (ry - y0) * uy
    across = -(rx - x0) * uy + (ry - y0) * ux
    hit = (along >= near - rad) & (along <= far + rad) & (np.abs(across) <= half_w + rad)
    idx = np.flatnonzero(hit)
    order = idx[np.argsort(-np.asarray(rocks.diameter_m)[idx])]
    return [(float(rocks.diameter_m[i]), float(rocks.height_m[i])) for i in order]


def _egress(
    hazard: HazardMap, lander: LanderSpec, rover: RoverSpec, touchdown: TouchdownRun, az_deg: float
) -> Egress | None:
    """Cheapest path from the set-down point to beyond the plume radius (None: no way out)."""
    from frigoris.planners import cost_distance
    from frigoris.planners.errors import PlanningError

    grid = hazard.grid
    res = grid.res_m
    x0, y0 = touchdown.x, touchdown.y
    az = math.radians(az_deg)
    ux, uy = math.sin(az), math.cos(az)
    d = lander.deploy_distance_m
    sx, sy = x0 + d * ux, y0 + d * uy
    ring = _lander_ring_m(hazard, lander)
    first = _first_cell_past(grid, x0, y0, az, d, ring)
    if first is None:
        return None
    fr, fc, _ = first
    if not np.isfinite(hazard.cost[fr, fc]):
        return None

    rows, cols = grid.shape
    rc, cc = grid.rowcol(x0, y0)
    k = int(math.ceil((lander.plume_radius_m + EGRESS_WINDOW_MARGIN_M) / res))
    r0, r1, c0, c1 = max(0, rc - k), min(rows, rc + k + 1), max(0, cc - k), min(cols, cc + k + 1)
    cost = np.array(hazard.cost[r0:r1, c0:c1], dtype=np.float64)
    _, _, xs, ys = _cell_centres(grid, r0, r1, c0, c1)
    dist = np.hypot(xs - x0, ys - y0)
    cost[dist <= ring] = np.inf  # never drive back under the lander
    cost[~np.isfinite(cost)] = np.inf
    transform = grid.transform @ Affine.translation(c0, r0)
    try:
        field_ = cost_distance(cost, [(fr - r0, fc - c0)], res_m=res, transform=transform)
    except PlanningError:
        return None
    acc = np.where(dist >= lander.plume_radius_m, field_.cost, np.inf)
    if not np.isfinite(acc).any():
        return None
    goal = np.unravel_index(int(np.argmin(acc)), acc.shape)
    path = field_.path_to((int(goal[0]), int(goal[1])))
    gx, gy = grid.xy(path.cells[:, 0] + r0, path.cells[:, 1] + c0)
    pts = [(float(sx), float(sy))] + [
        (float(a), float(b)) for a, b in zip(np.atleast_1d(gx), np.atleast_1d(gy), strict=True)
    ]
    length = float(
        sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(pts[:-1], pts[1:], strict=True))
    )
    energy = length / rover.speed_m_s * rover.drive_power_w / 3600.0
    end = pts[-1]
    return Egress(
        tuple(pts),
        length,
        float(path.cost),
        math.hypot(end[0] - x0, end[1] - y0),
        energy,
        float(rover.speed_m_s),
    )


__all__ = [
    "Egress",
    "Handoff",
    "LanderState",
    "RoverPose",
    "SideCheck",
    "crop",
    "deploy",
]
