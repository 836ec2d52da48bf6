"""Traverse plans: chosen stops, their raster paths and one timeline with battery state.

``plan_traverse`` (1) builds the least-cost travel matrix between the start and the candidate
stops, (2) chooses and orders stops with :func:`planners.solve_orienteering` on estimated times,
(3) simulates the route cell by cell: drive time at the rover's speed, command cycles of at most
``max_drive_per_cycle_m`` each followed by a ground turnaround, drives only inside commanded
windows, dwell at stops, solar charging from the Sun and shadow at each place and time, and the
battery never below its reserve (the rover waits to charge when it must). A stop the simulation
cannot afford is dropped and the rest re-simulated. (4) ``check_plan`` re-derives every
constraint from the rasters and the rover model; a plan that fails it is never returned.

Energy model (both the planner and the checker use it; the checker recomputes it from the
timeline alone): over an interval ending at a timeline row, the rover draws ``drive_power_w``
when the row's activity is ``drive`` and ``idle_power_w`` otherwise, and receives
``solar_w(t_mid, row, col)`` at the row's cell; the battery is capped at its capacity.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import InfeasiblePlanError, NoPathError, PlanningError
from .orienteering import solve_orienteering
from .paths import travel_matrix
from .stops import Candidates

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

SolarFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``solar_w(t_s, rows, cols) -> watts`` into the battery at plan time t_s (s) and cells."""

DAY_S = 86400.0
_EPS = 1e-9


@dataclass(frozen=True)
class RoverModel:
    """What the planner needs to know about the rover (plain values, from a rover spec)."""

    speed_m_s: float
    drive_power_w: float
    idle_power_w: float
    battery_wh: float
    reserve_wh: float
    max_drive_per_cycle_m: float
    cycle_overhead_s: float = 600.0

    def __post_init__(self) -> None:
        for name in ("speed_m_s", "battery_wh", "max_drive_per_cycle_m"):
            if not getattr(self, name) > 0:
                raise PlanningError(f"rover {name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.reserve_wh < self.battery_wh:
            raise PlanningError(
                f"reserve {self.reserve_wh} Wh must be in [0, battery {self.battery_wh} Wh)"
            )


@dataclass(frozen=True)
class Operations:
    """Mission rhythm: length, commanded drive windows, start state, output spacing.

    Drive windows repeat every 24 h of plan time: ``window_start_h`` hours after each plan
    midnight, lasting ``window_length_h`` hours (ground shifts). Outside them the rover waits.
    """

    mission_s: float = 10 * DAY_S
    window_start_h: float = 0.0
    window_length_h: float = 12.0
    start_soc_wh: float | None = None
    waypoint_spacing_m: float = 2.0
    solver_time_limit_s: float = 10.0
    seed: int = 0

    def in_window(self, t_s: float) -> bool:
        """True when plan time t_s is inside a commanded drive window."""
        into = (t_s - self.window_start_h * 3600.0) % DAY_S
        return into < self.window_length_h * 3600.0 - _EPS

    def next_window(self, t_s: float) -> float:
        """Earliest time >= t_s inside a drive window."""
        if self.in_window(t_s):
            return t_s
        start = self.window_start_h * 3600.0
        k = math.floor((t_s - start) / DAY_S) + 1
        return start + k * DAY_S

    @property
    def duty(self) -> float:
        """Fraction of the day inside drive windows (scales estimated times for the solver)."""
        return min(max(self.window_length_h / 24.0, 1e-3), 1.0)


@dataclass(frozen=True)
class TraversePlan:
    """A checked traverse plan.

    Attributes
    ----------
    stops : Candidates
        Visited stops in order; index 0 is the start.
    arrival_s, departure_s, soc_arrival_wh : ndarray
        Per visited stop.
    legs : tuple of ndarray (K, 2)
        Raster cells of each leg (stop i to stop i+1).
    timeline : dict of name -> ndarray
        One row per event: ``t_s``, ``row``, ``col``, ``x``, ``y``, ``soc_wh``, ``activity``
        (start, drive, cycle, window, charge, dwell), ``leg`` (-1 when parked), ``stop``
        (-1 when not at a stop), ``solar_w``, ``cost``.
    value, distance_m, duration_s : float
    dropped : tuple of str
        Stops the solver chose but the simulation could not afford, with the reason.
    reason : str
        Why the plan is empty, when it is.
    """

    stops: Candidates
    arrival_s: np.ndarray
    departure_s: np.ndarray
    soc_arrival_wh: np.ndarray
    legs: tuple[np.ndarray, ...]
    timeline: dict[str, np.ndarray]
    value: float
    distance_m: float
    duration_s: float
    dropped: tuple[str, ...] = ()
    reason: str = ""
    violations: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when the plan visits no stop."""
        return len(self.stops) <= 1


class _Sim:
    """Cell-by-cell simulation of one ordered route."""

    def __init__(
        self,
        rover: RoverModel,
        ops: Operations,
        solar_w: SolarFn,
        cost: np.ndarray,
        res_m: float,
        transform,
    ):
        self.rover, self.ops, self.solar_w, self.cost = rover, ops, solar_w, cost
        self.res, self.transform = res_m, transform
        self.rows: list[tuple] = []

    def _solar(self, t0: float, t1: float, r: int, c: int) -> float:
        tm = np.array([0.5 * (t0 + t1)])
        return float(self.solar_w(tm, np.array([r]), np.array([c]))[0])

    def _emit(self, t, r, c, soc, activity, leg, stop, solar):
        self.rows.append((t, r, c, soc, activity, leg, stop, solar, float(self.cost[r, c])))

    def _idle(self, t, soc, until, r, c, activity, leg, stop, chunk=1800.0):
        """Stay parked until ``until``, charging or draining; None if the reserve is broken."""
        rv = self.rover
        while t < until - _EPS:
            t1 = min(until, t + chunk)
            p = self._solar(t, t1, r, c)
            soc1 = min(rv.battery_wh, soc + (p - rv.idle_power_w) * (t1 - t) / 3600.0)
            if soc1 < rv.reserve_wh - 1e-9:
                return None
            t, soc = t1, soc1
            self._emit(t, r, c, soc, activity, leg, stop, p)
        return t, soc

    def _charge_until(self, t, soc, need_wh, r, c, leg, stop):
        """Wait parked until soc >= need_wh (charging); None when the Sun cannot do it in time."""
        rv = self.rover
        while soc < need_wh - 1e-9:
            if t >= self.ops.mission_s:
                return None
            t1 = min(t + 900.0, self.ops.mission_s)
            p = self._solar(t, t1, r, c)
            soc1 = min(rv.battery_wh, soc + (p - rv.idle_power_w) * (t1 - t) / 3600.0)
            if soc1 < rv.reserve_wh - 1e-9:
                return None
            t, soc = t1, soc1
            self._emit(t, r, c, soc, "charge", leg, stop, p)
        return t, soc

    def _fit_window(self, t, soc, dt, r, c, leg):
        """Wait parked until a move of ``dt`` seconds lies inside one drive window.

        Returns (t, soc, waited), or None when the wait breaks the battery reserve.
        """
        ops = self.ops
        if ops.in_window(t) and ops.in_window(t + dt):
            return t, soc, False
        start = ops.next_window(t) if not ops.in_window(t) else ops.next_window(t + dt)
        out = self._idle(t, soc, start, r, c, "window", leg, -1)
        return None if out is None else (out[0], out[1], True)

    def _dark_need(self, cells: np.ndarray, step: int, t: float) -> float | None:
        """Energy (Wh, with a 10 % margin) to cross the dark stretch ahead.

        From cell ``step - 1`` to the next cell of the leg where the Sun can charge, including
        the command-cycle pauses on the way (the Sun's motion during the stretch is neglected:
        shadows move slowly).
        """
        rv = self.rover
        need, dist_cycle = 0.0, 0.0
        for s in range(step, len(cells)):
            r0, c0 = cells[s - 1]
            r1, c1 = cells[s]
            d = self.res * math.hypot(r1 - r0, c1 - c0)
            p = self._solar(t, t, int(r1), int(c1))
            if p > rv.idle_power_w:
                return 1.1 * need
            need += (rv.drive_power_w - p) * d / rv.speed_m_s / 3600.0
            dist_cycle += d
            if dist_cycle > rv.max_drive_per_cycle_m:
                need += (rv.idle_power_w - p) * rv.cycle_overhead_s / 3600.0
                dist_cycle = d
        return 1.1 * need

    def run(
        self,
        legs: list[np.ndarray],
        dwell: np.ndarray,
        start_soc: float,
        start_cell: tuple[int, int],
    ):
        """Simulate; returns (ok, fail_stop, arrival, departure, soc_arrival)."""
        rv, ops = self.rover, self.ops
        t, soc = 0.0, start_soc
        r, c = int(start_cell[0]), int(start_cell[1])
        arrival, departure, soc_arr = [0.0], [], [soc]
        self._emit(t, r, c, soc, "start", -1, 0, self._solar(0.0, 0.0, r, c))
        cycle_m = 0.0
        seg_charge = rv.drive_power_w * (rv.max_drive_per_cycle_m / rv.speed_m_s) / 3600.0
        for k, cells in enumerate(legs):
            # Dwell at stop k (the start has no dwell), then drive leg k to stop k + 1.
            if k > 0 and dwell[k] > 0:
                out = self._idle(t, soc, t + dwell[k], r, c, "dwell", -1, k, chunk=300.0)
                if out is None:
                    return False, k, arrival, departure, soc_arr
                t, soc = out
            departure.append(t)
            for step in range(1, len(cells)):
                r1, c1 = int(cells[step, 0]), int(cells[step, 1])
                dist = self.res * math.hypot(r1 - r, c1 - c)
                if cycle_m + dist > rv.max_drive_per_cycle_m + 1e-9:
                    # End of a command cycle: the ground reviews and sends the next move.
                    out = self._idle(t, soc, t + rv.cycle_overhead_s, r, c, "cycle", k, -1)
                    if out is None:
                        return False, k + 1, arrival, departure, soc_arr
                    t, soc = out
                    cycle_m = 0.0
                dt = dist / rv.speed_m_s
                # Charge first if needed: enough for a command cycle above the reserve, or, at the
                # edge of a dark stretch (no charging possible), enough to cross it.
                need = min(seg_charge, rv.battery_wh - rv.reserve_wh)
                here = self._solar(t, t, r, c)
                if here > rv.idle_power_w and self._solar(t, t, r1, c1) <= rv.idle_power_w:
                    dark = self._dark_need(cells, step, t)
                    if rv.reserve_wh + dark > rv.battery_wh:
                        return False, k + 1, arrival, departure, soc_arr
                    need = max(need, dark)
                if soc < rv.reserve_wh + need:
                    out = self._charge_until(t, soc, rv.reserve_wh + need, r, c, k, -1)
                    if out is None:
                        return False, k + 1, arrival, departure, soc_arr
                    t, soc = out
                    cycle_m = 0.0
                # Then wait, parked, until the move fits inside a commanded drive window.
                out = self._fit_window(t, soc, dt, r, c, k)
                if out is None:
                    return False, k + 1, arrival, departure, soc_arr
                t, soc, waited = out
                if waited:
                    cycle_m = 0.0
                p = self._solar(t, t + dt, r1, c1)
                soc1 = min(rv.battery_wh, soc + (p - rv.drive_power_w) * dt / 3600.0)
                if soc1 < rv.reserve_wh - 1e-9:
                    return False, k + 1, arrival, departure, soc_arr
                t, soc, r, c = t + dt, soc1, r1, c1
                cycle_m += dist
                self._emit(t, r, c, soc, "drive", k, -1, p)
                if t > ops.mission_s + 1e-6:
                    return False, k + 1, arrival, departure, soc_arr
            arrival.append(t)
            soc_arr.append(soc)
            self.rows[-1] = self.rows[-1][:6] + (k + 1,) + self.rows[-1][7:]
        if len(legs) + 1 > 1 and dwell[len(legs)] > 0:
            out = self._idle(t, soc, t + dwell[len(legs)], r, c, "dwell", -1, len(legs), 300.0)
            if out is None:
                return False, len(legs), arrival, departure, soc_arr
            t, soc = out
        departure.append(t)
        if t > ops.mission_s + 1e-6:
            return False, len(legs), arrival, departure, soc_arr
        return True, -1, arrival, departure, soc_arr


def _timeline(rows: list[tuple], transform) -> dict[str, np.ndarray]:
    cols = list(zip(*rows, strict=False)) if rows else [[]] * 9
    t, r, c, soc, act, leg, stop, solar, cost = cols
    r = np.asarray(r, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    x, y = transform @ (c + 0.5, r + 0.5)
    return {
        "t_s": np.asarray(t, float),
        "row": r,
        "col": c,
        "x": np.asarray(x),
        "y": np.asarray(y),
        "soc_wh": np.asarray(soc, float),
        "activity": np.asarray(act, dtype=object),
        "leg": np.asarray(leg, np.int64),
        "stop": np.asarray(stop, np.int64),
        "solar_w": np.asarray(solar, float),
        "cost": np.asarray(cost, float),
    }


def plan_traverse(
    *,
    cost: np.ndarray,
    keepout: np.ndarray,
    transform,
    start_cell: tuple[int, int],
    candidates: Candidates,
    rover: RoverModel,
    solar_w: SolarFn,
    ops: Operations | None = None,
    comm_ok: np.ndarray | None = None,
    progress=None,
) -> TraversePlan:
    """Choose stops, order them and lay out the checked timeline of the traverse.

    Parameters
    ----------
    cost, keepout : ndarray of shape (M, N)
        Hazard cost (inf = impassable) and keep-out; keep-out cells are made impassable.
    transform : affine.Affine
        Grid transform (map metres).
    start_cell : (row, col)
        Where the rover stands at plan time 0 (the deployment handoff).
    candidates : Candidates
        Stops to choose from (see :func:`planners.candidate_stops`).
    rover : RoverModel
    solar_w : callable(t_s, rows, cols) -> watts
        Solar power into the battery at plan times and cells (0 in shadow or at night).
    ops : Operations, optional
    comm_ok : ndarray of bool, optional
        Cells in link with the lander (also enforced by the checker).
    progress : callable(fraction, stage), optional

    Returns
    -------
    TraversePlan
        Always checked by :func:`check_plan`; an empty plan carries the reason.

    Raises
    ------
    InfeasiblePlanError
        Only if a plan failed its own check (a bug, never a user error).
    """
    ops = ops or Operations()
    report = progress or (lambda f, s="": None)
    res = abs(transform.a)
    cost = np.asarray(cost, dtype=np.float64).copy()
    keepout = np.asarray(keepout, dtype=bool)
    cost[keepout] = np.inf
    if comm_ok is not None:
        cost[~np.asarray(comm_ok, bool)] = np.inf
    r0, c0 = (int(v) for v in start_cell)
    if not (0 <= r0 < cost.shape[0] and 0 <= c0 < cost.shape[1]):
        raise PlanningError(f"start cell {start_cell} is outside the {cost.shape} grid")
    start_soc = rover.battery_wh if ops.start_soc_wh is None else float(ops.start_soc_wh)
    sx, sy = transform @ (c0 + 0.5, r0 + 0.5)
    start = Candidates(
        np.array([sx]),
        np.array([sy]),
        np.array([[r0, c0]]),
        ("start",),
        np.zeros(1),
        np.zeros(1),
        ("deployment handoff",),
        ("start",),
    )

    def empty(reason: str, dropped=()) -> TraversePlan:
        sim = _Sim(rover, ops, solar_w, np.where(np.isfinite(cost), cost, 0.0), res, transform)
        sim._emit(0.0, r0, c0, start_soc, "start", -1, 0, sim._solar(0.0, 0.0, r0, c0))
        plan = TraversePlan(
            start,
            np.zeros(1),
            np.zeros(1),
            np.array([start_soc]),
            (),
            _timeline(sim.rows, transform),
            0.0,
            0.0,
            0.0,
            tuple(dropped),
            reason,
        )
        return _checked(plan, cost, keepout, comm_ok, rover, ops, solar_w)

    if not np.isfinite(cost[r0, c0]):
        return empty("the start cell is in keep-out or out of link: the rover cannot move")
    if start_soc < rover.reserve_wh:
        return empty(
            f"battery {start_soc:.1f} Wh starts below the reserve {rover.reserve_wh:.1f} Wh"
        )
    usable = [
        i
        for i in range(len(candidates))
        if np.isfinite(cost[candidates.cells[i, 0], candidates.cells[i, 1]])
    ]
    if not usable:
        return empty("no candidate stop lies in drivable, linked terrain")
    cand = candidates.subset(usable)
    report(0.05, "travel matrix")
    points = np.vstack([[r0, c0], cand.cells])
    tm = travel_matrix(cost, points, res_m=res, transform=transform)
    n = len(points)
    length = tm.length_m
    cycles = np.ceil(length / rover.max_drive_per_cycle_m)
    travel_s = (length / rover.speed_m_s + cycles * rover.cycle_overhead_s) / ops.duty
    # A zero-cost dummy end lets the route finish at its last stop.
    big = np.full((n + 1, n + 1), np.inf)
    big[:n, :n] = travel_s
    big[:n, n] = 0.0
    np.fill_diagonal(big, 0.0)
    prizes = np.concatenate([[0.0], cand.value, [0.0]])
    service = np.concatenate([[0.0], cand.dwell_s / ops.duty, [0.0]])
    if not np.isfinite(travel_s[0, 1:]).any():
        return empty("no candidate stop is reachable from the start without crossing keep-out")
    report(0.2, "choosing stops")
    route = solve_orienteering(
        big,
        prizes,
        ops.mission_s,
        start=0,
        end=n,
        service=service,
        time_limit_s=ops.solver_time_limit_s,
        seed=ops.seed,
    )
    order = [i for i in route.nodes if i not in (0, n)]
    report(0.6, "simulating")
    dropped: list[str] = []
    while True:
        seq = [0] + order
        legs = [tm.path(a, b).cells for a, b in zip(seq[:-1], seq[1:], strict=False)]
        dwell = np.concatenate([[0.0], cand.dwell_s[[i - 1 for i in order]]])
        sim = _Sim(rover, ops, solar_w, cost, res, transform)
        ok, fail, arrival, departure, soc_arr = sim.run(legs, dwell, start_soc, (r0, c0))
        if ok:
            break
        # Drop the least valuable stop among those reached up to the failure and try again.
        upto = order[: max(fail, 1)]
        worst = min(upto, key=lambda i: (cand.value[i - 1], -i))
        dropped.append(
            f"{cand.kind[worst - 1]} stop ({cand.reason[worst - 1]}): "
            "not affordable in time or energy once simulated"
        )
        order.remove(worst)
    report(0.9, "checking")
    visited = (
        start
        if not order
        else Candidates(
            np.concatenate([start.x, cand.x[[i - 1 for i in order]]]),
            np.concatenate([start.y, cand.y[[i - 1 for i in order]]]),
            np.vstack([start.cells, cand.cells[[i - 1 for i in order]]]),
            start.kind + tuple(cand.kind[i - 1] for i in order),
            np.concatenate([start.value, cand.value[[i - 1 for i in order]]]),
            np.concatenate([start.dwell_s, cand.dwell_s[[i - 1 for i in order]]]),
            start.reason + tuple(cand.reason[i - 1] for i in order),
            start.names + tuple((cand.names[i - 1] if cand.names else "") for i in order),
        )
    )
    timeline = _timeline(sim.rows, transform)
    distance = float(sum(res * np.hypot(*np.diff(leg, axis=0).T).sum() for leg in legs))
    plan = TraversePlan(
        visited,
        np.asarray(arrival),
        np.asarray(departure),
        np.asarray(soc_arr),
        tuple(legs),
        timeline,
        float(visited.value.sum()),
        distance,
        float(timeline["t_s"][-1]),
        tuple(dropped),
        "" if order else "no stop could be afforded within time and energy",
    )
    report(1.0, "done")
    return _checked(plan, cost, keepout, comm_ok, rover, ops, solar_w)


def _checked(plan, cost, keepout, comm_ok, rover, ops, solar_w) -> TraversePlan:
    problems = check_plan(
        plan, keepout=keepout, comm_ok=comm_ok, rover=rover, ops=ops, solar_w=solar_w
    )
    if problems:
        raise InfeasiblePlanError("plan failed its own check: " + "; ".join(problems[:5]))
    return plan


def check_plan(
    plan: TraversePlan,
    *,
    keepout: np.ndarray,
    rover: RoverModel,
    ops: Operations,
    solar_w: SolarFn,
    comm_ok: np.ndarray | None = None,
) -> list[str]:
    """Every constraint a plan breaks, in plain words (empty when the plan is feasible).

    Recomputes from the rasters and the rover model, not from the planner's bookkeeping:
    every cell of every leg outside keep-out and in link, legs 8-connected and joining the stops,
    speed, drive windows, command-cycle distance, dwell times, mission length, and the battery
    re-integrated from the timeline never below the reserve.
    """
    out: list[str] = []
    keepout = np.asarray(keepout, bool)
    shape = keepout.shape
    tl = plan.timeline
    for k, leg in enumerate(plan.legs):
        leg = np.asarray(leg)
        inside = (
            (leg[:, 0] >= 0) & (leg[:, 0] < shape[0]) & (leg[:, 1] >= 0) & (leg[:, 1] < shape[1])
        )
        if not inside.all():
            out.append(f"leg {k} leaves the grid")
            continue
        if keepout[leg[:, 0], leg[:, 1]].any():
            i = int(np.argmax(keepout[leg[:, 0], leg[:, 1]]))
            out.append(f"leg {k} enters keep-out at cell {tuple(leg[i])}")
        if comm_ok is not None and not np.asarray(comm_ok, bool)[leg[:, 0], leg[:, 1]].all():
            out.append(f"leg {k} leaves the lander's link")
        steps = np.abs(np.diff(leg, axis=0))
        if len(steps) and (steps.max() > 1 or (steps.sum(axis=1) == 0).any()):
            out.append(f"leg {k} is not a chain of neighbouring cells")
        if not np.array_equal(leg[0], plan.stops.cells[k]) or not np.array_equal(
            leg[-1], plan.stops.cells[k + 1]
        ):
            out.append(f"leg {k} does not join stop {k} to stop {k + 1}")
    if len(plan.legs) != len(plan.stops) - 1:
        out.append(f"{len(plan.legs)} legs for {len(plan.stops)} stops")
    t = tl["t_s"]
    if len(t) == 0:
        return out + ["the timeline is empty"]
    if np.any(np.diff(t) < -1e-9):
        out.append("timeline goes back in time")
    if t[-1] > ops.mission_s + 1e-6:
        out.append(
            f"plan ends at {t[-1] / 3600:.1f} h, after the mission's {ops.mission_s / 3600:.1f} h"
        )
    # Battery: re-integrate the timeline.
    soc = rover.battery_wh if ops.start_soc_wh is None else float(ops.start_soc_wh)
    lowest = soc
    dcol = np.diff(tl["col"])
    drow = np.diff(tl["row"])
    act = tl["activity"]
    for i in range(1, len(t)):
        dt = t[i] - t[i - 1]
        p_in = float(
            solar_w(
                np.array([0.5 * (t[i] + t[i - 1])]), tl["row"][i : i + 1], tl["col"][i : i + 1]
            )[0]
        )
        draw = rover.drive_power_w if act[i] == "drive" else rover.idle_power_w
        soc = min(rover.battery_wh, soc + (p_in - draw) * dt / 3600.0)
        lowest = min(lowest, soc)
        if abs(soc - tl["soc_wh"][i]) > 1e-6 * max(1.0, rover.battery_wh):
            out.append(
                f"battery at {t[i]:.0f} s is {soc:.3f} Wh, the plan says {tl['soc_wh'][i]:.3f}"
            )
            break
        if act[i] == "drive":
            moved = math.hypot(drow[i - 1], dcol[i - 1])
            if moved > 1.5:
                out.append(f"drive at {t[i]:.0f} s jumps {moved:.1f} cells")
            if not ops.in_window(t[i - 1] + 1e-6) or not ops.in_window(t[i] - 1e-6):
                out.append(f"drive at {t[i]:.0f} s is outside a commanded window")
                break
        elif moved_cells(drow[i - 1], dcol[i - 1]):
            out.append(f"the rover moves at {t[i]:.0f} s while '{act[i]}'")
    if lowest < rover.reserve_wh - 1e-6:
        out.append(f"battery falls to {lowest:.2f} Wh, below the {rover.reserve_wh:.2f} Wh reserve")
    out += _check_cycles_and_speed(plan, rover)
    out += _check_dwell(plan)
    return out


def moved_cells(dr: int, dc: int) -> bool:
    return dr != 0 or dc != 0


def _check_cycles_and_speed(plan: TraversePlan, rover: RoverModel) -> list[str]:
    tl = plan.timeline
    out = []
    if len(plan.stops) < 2:
        return out
    # Pixel size from the stops' map coordinates and cells (independent of the planner's res).
    xs, cells = plan.stops.x, plan.stops.cells
    res = None
    for i in range(1, len(xs)):
        if cells[i, 1] != cells[0, 1]:
            res = abs((xs[i] - xs[0]) / (cells[i, 1] - cells[0, 1]))
            break
    if res is None:
        return out
    cycle = 0.0
    for i in range(1, len(tl["t_s"])):
        a = tl["activity"][i]
        if a == "drive":
            d = res * math.hypot(tl["row"][i] - tl["row"][i - 1], tl["col"][i] - tl["col"][i - 1])
            dt = tl["t_s"][i] - tl["t_s"][i - 1]
            if dt <= 0 or d / dt > rover.speed_m_s * (1 + 1e-6):
                out.append(f"drive at {tl['t_s'][i]:.0f} s faster than {rover.speed_m_s} m/s")
                break
            cycle += d
            if cycle > rover.max_drive_per_cycle_m + 1e-6:
                out.append(
                    f"a command cycle drives {cycle:.2f} m, more than "
                    f"{rover.max_drive_per_cycle_m} m"
                )
                break
        elif a in ("cycle", "window", "charge") and tl["t_s"][i] > tl["t_s"][i - 1]:
            cycle = 0.0  # a pause on the ground: the next move is a new command
    return out


def _check_dwell(plan: TraversePlan) -> list[str]:
    out = []
    for k in range(1, len(plan.stops)):
        need = plan.stops.dwell_s[k]
        if plan.departure_s[k] - plan.arrival_s[k] < need - 1e-6:
            out.append(
                f"stop {k} ({plan.stops.kind[k]}) gets "
                f"{plan.departure_s[k] - plan.arrival_s[k]:.0f} s of its {need:.0f} s dwell"
            )
    return out


__all__ = ["Operations", "RoverModel", "TraversePlan", "check_plan", "plan_traverse", "NoPathError"]
