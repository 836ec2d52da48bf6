"""Daily operations: the command cycle from the specs, checked command sequences, budgets.

:func:`plan_segment` plans the rest of a mission from one known state of the rover (the
deployment handoff, or telemetry) with the cadence of an :class:`~.specs.OpsSpec`: the planner
(:func:`frigoris.planners.plan_traverse` with a :class:`~frigoris.planners.traverse.Cadence`),
the command sequence (:func:`frigoris.planners.sequence.build_sequence`) and its independent
check (:func:`frigoris.planners.sequence_check.check_sequence`) against the flight rules, with
the mission's waivers. :func:`budgets` says which budget binds: battery, data volume, link or
time.

The flight rules read the hazard map through two small accessors, :func:`risk_layer` and
:func:`link_margin_layer`: they use the ``risk`` and ``link_margin_db`` bands when the hazard map
has them, and today's layers otherwise (``rock_risk``; a margin of +inf where ``comm_ok()`` and
-inf elsewhere).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np

from frigoris.planners.sequence import build_sequence
from frigoris.planners.sequence_check import FlightRules, Violation, blocking, check_sequence
from frigoris.planners.stops import Candidates, StopRules
from frigoris.planners.traverse import (
    DAY_S,
    Cadence,
    Operations,
    RoverModel,
    TraversePlan,
    plan_traverse,
)
from frigoris.terrain import Dem
from frigoris.terrain.hazard import HazardMap
from frigoris.terrain.link import LinkBudget, link_field

from .energy import SolarModel
from .errors import RoverError, SequenceError, SpecError
from .progress import ProgressCallback, no_progress
from .specs import LanderSpec, OpsSpec, RoverSpec

__all__ = [
    "STOP_KINDS",
    "OpsContext",
    "PlanLayers",
    "SegmentPlan",
    "budgets",
    "cadence",
    "flight_rules",
    "lander_camera_view",
    "link_margin_layer",
    "ops_rover_model",
    "plan_segment",
    "reach_m",
    "risk_layer",
    "window_in_plan_time",
]

STOP_KINDS = ("scoop", "crater", "boulder", "moonhouse", "target")
"""Stop kinds that take science images."""


# --------------------------------------------------------------------------------------------
# the hazard map, read through accessors (the bands change name when the new hazard model lands)


def risk_layer(hm: HazardMap) -> np.ndarray:
    """Chance per footprint of meeting a hazard the DEM cannot show.

    The hazard map's ``risk`` band when it has one, else its ``rock_risk``.
    """
    band = getattr(hm, "risk", None)
    return np.asarray(band if band is not None else hm.rock_risk)


def link_margin_layer(hm: HazardMap) -> np.ndarray | None:
    """Radio margin (dB) of the link to the lander per cell (None without a lander).

    The hazard map's ``link_margin_db`` band when it has one; else +inf where ``comm_ok()``
    (line of sight within link range) and -inf elsewhere.
    """
    band = getattr(hm, "link_margin_db", None)
    if band is not None:
        return np.asarray(band, dtype=np.float32)
    comm = hm.comm_ok()
    if comm is None:
        return None
    return np.where(comm, np.float32(np.inf), np.float32(-np.inf))


@dataclass(frozen=True, eq=False)
class PlanLayers:
    """The layers a plan and its flight rules read, on one grid (arrays of shape (M, N))."""

    grid: Dem
    cost: np.ndarray
    keepout: np.ndarray
    risk: np.ndarray
    link_margin_db: np.ndarray
    min_link_margin_db: float

    @classmethod
    def from_hazard(cls, hm: HazardMap, ops: OpsSpec) -> PlanLayers:
        """The planning layers of a hazard map (which must have a lander)."""
        margin = link_margin_layer(hm)
        if margin is None:
            raise RoverError("planning operations needs the lander's link: map it with a lander")
        return cls(hm.grid, hm.cost, hm.keepout, risk_layer(hm), margin, ops.min_link_margin_db)

    @property
    def linked(self) -> np.ndarray:
        """Cells with at least the flight rules' link margin."""
        return self.link_margin_db >= self.min_link_margin_db

    def with_keepout(self, extra: np.ndarray | None) -> PlanLayers:
        """The same layers with more keep-out (rover-seen hazards)."""
        if extra is None:
            return self
        return replace(self, keepout=self.keepout | np.asarray(extra, dtype=bool))


# --------------------------------------------------------------------------------------------
# the specs as the planner and the checker want them


def window_in_plan_time(start_utc_h: float, length_h: float, t0: datetime) -> tuple[float, float]:
    """A daily window given in UTC hours, as (hours after plan time 0, length) from ``t0``."""
    t0 = t0.astimezone(timezone.utc)
    into = t0.hour + t0.minute / 60.0 + (t0.second + t0.microsecond * 1e-6) / 3600.0
    return (start_utc_h - into) % 24.0, length_h


def cadence(ops: OpsSpec, solar: SolarModel | None, rover: RoverSpec) -> Cadence:
    """The planner's command cycle from an operations spec (Sun from ``solar``)."""

    def sun_el(t_s: float) -> float:
        return float(solar.sun_at(np.array([t_s]))[1][0])

    return Cadence(
        nav_bits=ops.nav_bits,
        link_bit_s=ops.link_bit_s,
        ground_s=ops.ground_processing_s,
        uplink_s=ops.uplink_s,
        stop_bits=tuple((k, ops.science_bits(k)) for k in STOP_KINDS),
        min_sun_elevation_deg=ops.min_sun_elevation_deg,
        sun_elevation_deg=None if solar is None else sun_el,
        max_cycle_risk=ops.max_cycle_risk,
        footprint_m=rover.length_m,
    )


def ops_rover_model(rover: RoverSpec, ops: OpsSpec) -> RoverModel:
    """The planner's rover; a command cycle ends with the ground's shortest turnaround."""
    return RoverModel(
        speed_m_s=rover.speed_m_s,
        drive_power_w=rover.drive_power_w,
        idle_power_w=rover.idle_power_w,
        battery_wh=rover.battery_wh,
        reserve_wh=rover.battery_reserve_fraction * rover.battery_wh,
        max_drive_per_cycle_m=rover.max_drive_per_command_m,
        cycle_overhead_s=ops.nav_bits / ops.link_bit_s + ops.ground_processing_s + ops.uplink_s,
    )


def flight_rules(ops: OpsSpec, rover: RoverSpec, t0: datetime, mission_s: float) -> FlightRules:
    """The limits a sequence starting at ``t0`` must meet."""
    cw = window_in_plan_time(*ops.commanding_window_utc_h, t0)
    rw = window_in_plan_time(ops.relay_start_utc_h, ops.relay_h, t0)
    return FlightRules(
        max_drive_per_cycle_m=rover.max_drive_per_command_m,
        speed_m_s=rover.speed_m_s,
        battery_wh=rover.battery_wh,
        reserve_wh=rover.battery_reserve_fraction * rover.battery_wh,
        drive_power_w=rover.drive_power_w,
        idle_power_w=rover.idle_power_w,
        max_cycle_risk=ops.max_cycle_risk,
        footprint_m=rover.length_m,
        min_link_margin_db=ops.min_link_margin_db,
        min_sun_elevation_deg=ops.min_sun_elevation_deg,
        link_bit_s=ops.link_bit_s,
        ground_s=ops.ground_processing_s,
        uplink_s=ops.uplink_s,
        window_start_h=cw[0],
        window_length_h=cw[1],
        relay_start_h=rw[0],
        relay_length_h=rw[1],
        mission_s=mission_s,
    )


def reach_m(ops: OpsSpec, rover: RoverSpec, mission_s: float) -> float:
    """How far the rover can possibly drive in ``mission_s`` at the command cadence.

    Each cycle spends at least the ground's turnaround and the drive's own time inside the
    commanding window, and drives at most ``max_drive_per_command_m``: over ``W`` seconds of
    window the distance is at most ``W / (turnaround / max_drive + 1 / speed)``.
    """
    window_s = mission_s * min(ops.commanding_window_utc_h[1], 24.0) / 24.0
    turn = ops.nav_bits / ops.link_bit_s + ops.ground_processing_s + ops.uplink_s
    per_m = turn / rover.max_drive_per_command_m + 1.0 / rover.speed_m_s
    return window_s / per_m + rover.max_drive_per_command_m


def image_counts(ops: OpsSpec) -> dict[str, int]:
    """Images per set, for the sequence document."""
    out = {"navcam": ops.nav_images_per_cycle}
    out.update({k: int(getattr(ops, f"science_images_{k}")) for k in STOP_KINDS})
    return out


def repeat_factors(rules: StopRules) -> tuple[tuple[str, float], ...]:
    """The stop rules' diminishing returns, checked to lie in [0, 1]."""
    out = rules.repeat_factors()
    for kind, f in out:
        if not (math.isfinite(f) and 0.0 <= f <= 1.0):
            raise SpecError(
                f"[planner.stops] {kind}_repeat_factor = {f!r} is outside [0, 1]; a further "
                "stop of a kind cannot be worth more than the one before"
            )
    return out


# --------------------------------------------------------------------------------------------
# the Moonhouse: in the lander camera's view


def lander_camera_view(
    dem: Dem,
    lander_xy: tuple[float, float],
    ops: OpsSpec,
    *,
    azimuth_deg: float | None = None,
    range_m: tuple[float, float] = (6.0, 15.0),
) -> np.ndarray:
    """Cells where the lander's camera sees an object of the Moonhouse's height.

    Line of sight from the camera (``lander_camera_height_m`` above the ground at the lander)
    to the top of the Moonhouse (``moonhouse_height_m``) over the terrain as it is (no radio
    smoothing), within ``range_m`` of the lander and, when ``azimuth_deg`` is given (the
    deployment side, where the camera looks), within ``lander_camera_fov_deg`` around it.

    Returns
    -------
    ndarray of bool, shape of ``dem``
    """
    x, y = float(lander_xy[0]), float(lander_xy[1])
    res = dem.res_m
    out = np.zeros(dem.shape, dtype=bool)
    if not dem.contains(x, y):
        return out
    lr, lc = dem.rowcol(x, y)
    h = int(math.ceil((range_m[1] + 2 * res) / res))
    r0, r1 = max(0, lr - h), min(dem.shape[0], lr + h + 1)
    c0, c1 = max(0, lc - h), min(dem.shape[1], lc + h + 1)
    box = np.ascontiguousarray(dem.elevation[r0:r1, c0:c1], dtype=np.float32)
    # geometric sight over the terrain as it is: the link tracer on a radio grid of one DEM
    # cell, camera and Moonhouse top as the two antennas (its margin is not used)
    sight = link_field(
        box,
        (r0, c0),
        box.shape,
        (lr, lc),
        res,
        1,
        LinkBudget(),
        lander_antenna_m=ops.lander_camera_height_m,
        rover_antenna_m=ops.moonhouse_height_m,
    )
    vis = sight.window(r0, r1, c0, c1)[1]
    rows, cols = np.mgrid[r0:r1, c0:c1]
    cx, cy = dem.xy(rows, cols)
    d = np.hypot(cx - x, cy - y)
    ok = vis & np.isfinite(box) & (d >= range_m[0]) & (d <= range_m[1])
    if azimuth_deg is not None:
        az = np.degrees(np.arctan2(cx - x, cy - y))
        off = np.abs((az - azimuth_deg + 180.0) % 360.0 - 180.0)
        ok &= off <= 0.5 * ops.lander_camera_fov_deg
    out[r0:r1, c0:c1] = ok
    return out


# --------------------------------------------------------------------------------------------
# one segment of operations: from a known state to the end of the mission


@dataclass(frozen=True)
class OpsContext:
    """What stays fixed over a mission's operations."""

    rover: RoverSpec
    lander: LanderSpec
    ops: OpsSpec
    rules: StopRules
    mission_end: datetime
    seed: int = 0
    time_limit_s: float = 10.0
    waivers: tuple[tuple[str, str], ...] = ()
    """Flight rules waived by name, each with its reason (from the mission file)."""


@dataclass(frozen=True, eq=False)
class SegmentPlan:
    """A plan from one known state, its command sequence and what the checker said."""

    plan: TraversePlan
    sequence: dict[str, Any]
    violations: tuple[Violation, ...]
    rules: FlightRules
    operations: Operations
    rover: RoverModel
    start_time: datetime
    budgets: dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        """True when a rule no waiver covers is broken (never uplinked, never written)."""
        return bool(blocking(self.violations))


def plan_segment(
    layers: PlanLayers,
    candidates: Candidates,
    solar: SolarModel,
    ctx: OpsContext,
    *,
    start_time: datetime,
    start_cell: tuple[int, int],
    start_soc_wh: float | None = None,
    start_heading_deg: float = 0.0,
    start_xy: tuple[float, float] | None = None,
    done_kinds: dict[str, int] | None = None,
    refuse: bool = True,
    progress: ProgressCallback = no_progress,
) -> SegmentPlan:
    """Plan from one state of the rover to the mission's end, with its checked sequence.

    Parameters
    ----------
    layers : PlanLayers
    candidates : Candidates
        Stops to choose from (stops already made left out by the caller).
    solar : SolarModel
        Built from ``start_time`` (plan time 0) over the rest of the mission.
    ctx : OpsContext
    start_time : datetime
        When the rover is in this state (aware UTC).
    start_cell : (row, col)
    start_soc_wh, start_heading_deg, start_xy
        The rover's battery (default full), heading and exact position.
    done_kinds : dict, optional
        Stops of each kind already made (diminishing returns).
    refuse : bool
        Raise :class:`SequenceError` when the sequence breaks a rule no waiver covers.

    Raises
    ------
    RoverError
        The mission is already over at ``start_time``.
    SequenceError
        ``refuse`` and the checker refused the sequence.
    """
    mission_s = (ctx.mission_end - start_time).total_seconds()
    if not mission_s > 0:
        raise RoverError(
            f"the mission ends at {ctx.mission_end:%Y-%m-%d %H:%M} UTC, before this state "
            f"({start_time:%Y-%m-%d %H:%M} UTC): nothing left to plan"
        )
    ops = ctx.ops
    cad = cadence(ops, solar, ctx.rover)
    wstart, wlen = window_in_plan_time(*ops.commanding_window_utc_h, start_time)
    operations = Operations(
        mission_s=mission_s,
        window_start_h=wstart,
        window_length_h=wlen,
        start_soc_wh=start_soc_wh,
        solver_time_limit_s=ctx.time_limit_s,
        seed=ctx.seed,
        cadence=cad,
        repeat_factor=repeat_factors(ctx.rules),
        done_kinds=tuple(sorted((done_kinds or {}).items())),
        min_stop_value=float(ctx.rules.min_stop_value),
    )
    model = ops_rover_model(ctx.rover, ops)
    plan = plan_traverse(
        cost=layers.cost,
        keepout=layers.keepout,
        transform=layers.grid.transform,
        start_cell=start_cell,
        candidates=candidates,
        rover=model,
        solar_w=solar,
        ops=operations,
        comm_ok=layers.linked,
        risk=layers.risk,
        progress=lambda f, s="": progress(0.9 * f, s),
    )
    progress(0.92, "command sequence")
    doc = build_sequence(
        plan,
        cadence=cad,
        start_heading_deg=start_heading_deg,
        start_xy=start_xy,
        start_utc=start_time,
        images=image_counts(ops),
    )
    rules = flight_rules(ops, ctx.rover, start_time, mission_s)
    waived = {r for r, _ in ctx.waivers}
    violations = check_sequence(
        doc,
        rules=rules,
        keepout=layers.keepout,
        risk=layers.risk,
        link_margin_db=layers.link_margin_db,
        transform=layers.grid.transform,
        solar_w=solar,
        sun_elevation_deg=cad.sun_elevation_deg,
        waived=waived,
    )
    doc["flight_rules"] = {
        "checked": not blocking(violations),
        "violations": [str(v) for v in violations],
        "waivers": [{"rule": r, "reason": why} for r, why in ctx.waivers],
    }
    seg = SegmentPlan(
        plan,
        doc,
        tuple(violations),
        rules,
        operations,
        model,
        start_time,
        budgets(plan, ops, rules, operations),
    )
    if refuse and seg.refused:
        raise SequenceError(
            "the command sequence breaks flight rules and is not written: "
            + "; ".join(str(v) for v in blocking(violations))
            + ". Fix the inputs, or waive a rule by name with a reason in the mission file "
            '([[operations.waivers]] rule = "...", reason = "...")'
        )
    progress(1.0, "sequence checked")
    return seg


# --------------------------------------------------------------------------------------------
# which budget binds

BUDGET_OF_ACTIVITY = {
    "start": "",
    "drive": "drive",
    "dwell": "stops",
    "navcam": "data",
    "science": "data",
    "downlink": "data",
    "ground": "time",
    "uplink": "time",
    "window": "window",
    "sun": "sun",
    "charge": "battery",
    "cycle": "time",
}
"""What each timeline activity spends (``window`` is the link or the shifts, see
:func:`budgets`)."""


def budgets(
    plan: TraversePlan, ops: OpsSpec, rules: FlightRules, operations: Operations
) -> dict[str, Any]:
    """Where the plan's time goes and which budget binds: battery, data volume, link or time.

    Hours per budget over the plan (driving, at stops, sending images ``data``, the ground's
    work ``time``, waiting outside the commanding window, for the Sun, charging ``battery``),
    the data sent against what the relay could carry, the lowest battery against the reserve.
    Waiting outside the window is the link's when the lander's relay window is what shortens
    the commanding window, else the shifts' (time). The binding budget is the one that holds
    the rover parked longest.
    """
    tl = plan.timeline
    t = np.asarray(tl["t_s"], dtype=np.float64)
    act = np.asarray(tl["activity"])
    dt = np.diff(t, prepend=t[:1])
    hours: dict[str, float] = {}
    for a, d in zip(act, dt, strict=True):
        key = BUDGET_OF_ACTIVITY.get(str(a), str(a))
        if key:
            hours[key] = hours.get(key, 0.0) + float(d) / 3600.0
    ground_h = ops.shifts_per_day * ops.shift_h
    window_is = "link" if ops.relay_h < min(ground_h, 24.0) else "time"
    rover_name = {
        "data": "data volume (images sent through the lander)",
        "time": "time (the ground's work per cycle, and the shifts)",
        "battery": "battery (parked to charge)",
        "link": "link (the lander's relay window)",
        "sun": "Sun (too low to drive or image)",
    }
    parked = {
        "data": hours.get("data", 0.0),
        "time": hours.get("time", 0.0) + (hours.get("window", 0.0) if window_is == "time" else 0.0),
        "link": hours.get("window", 0.0) if window_is == "link" else 0.0,
        "battery": hours.get("battery", 0.0),
        "sun": hours.get("sun", 0.0),
    }
    binding = max(parked, key=lambda k: (parked[k], k))
    sent = float(ops.link_bit_s * hours.get("data", 0.0) * 3600.0)
    span = float(t[-1]) if len(t) else 0.0
    relay_share = min(ops.relay_h, 24.0) / 24.0
    capacity = ops.link_bit_s * span * relay_share
    soc = np.asarray(tl["soc_wh"], dtype=np.float64)
    mission_h = operations.mission_s / 3600.0
    return {
        "hours": {k: round(v, 3) for k, v in sorted(hours.items())},
        "parked_hours_by_budget": {k: round(v, 3) for k, v in parked.items()},
        "binding": binding,
        "binding_text": rover_name[binding],
        "data_sent_mbit": round(sent / 1e6, 3),
        "relay_capacity_mbit": round(capacity / 1e6, 3),
        "lowest_battery_wh": round(float(soc.min()) if soc.size else 0.0, 3),
        "reserve_wh": round(rules.reserve_wh, 3),
        "commanding_window_h_per_day": round(rules.window_length_h, 3),
        "plan_ends_h": round(span / 3600.0, 3),
        "mission_h": round(mission_h, 3),
        "cycles": int(np.count_nonzero(act == "uplink")),
        "window_is": window_is,
    }


def mission_days_left(end: datetime, now: datetime) -> float:
    """Days from ``now`` to ``end``."""
    return (end - now).total_seconds() / DAY_S
