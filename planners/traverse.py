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

With a :class:`Cadence` (``Operations.cadence``) the command cycle is what operations cost in
practice: every cycle ends with a turnaround, in three phases that advance only inside the
commanding window (``Operations`` windows): the images of the cycle go down at the link's rate
(``downlink``), the ground builds a local DEM and plans (``ground``), the next command goes up
(``uplink``); outside the window the rover waits (``window``). A plan starts with one (the
ground plans the first move), a cycle also ends on reaching a stop (the ground confirms the
place) and after each stop's activity (its images go down), and it ends early when the chance
of meeting a hazard the DEM cannot show would exceed ``max_cycle_risk``. No drive and no stop
activity happens with the Sun below ``min_sun_elevation_deg`` (the rover waits, ``sun``).
Parked energy is integrated over the intervals between consecutive multiples of
``energy_step_s`` of plan time (and each wait's own ends), so any grouping of the timeline into
commands integrates to the same battery (the sequence checker relies on this contract).

Stop values have diminishing returns per kind (``Operations.repeat_factor``): the best stop of a
kind in a plan counts in full, the next ``f`` times its value, the next ``f**2`` ..., after the
``done`` stops of that kind already made (``Operations.done_kinds``). The solver takes additive
prizes, so it is given each candidate at its rank within its kind (a lower bound on the plan's
value), then once more with the kinds' chosen stops ranked first; the better route is kept.
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
class Cadence:
    """The ground's command cycle (see the module notes), in plain values.

    Attributes
    ----------
    nav_bits : float
        Navigation images taken at the end of each cycle (bits).
    link_bit_s : float
        Rate at which images reach the ground (bit/s).
    ground_s : float
        Ground processing and planning per cycle (s of commanding-window time).
    uplink_s : float
        Sending the next command, light time included (s of window time).
    stop_bits : tuple of (kind, bits)
        Images taken at a stop of each kind (downlinked after the stop's activity).
    min_sun_elevation_deg : float
        No drive and no stop activity with the Sun lower.
    sun_elevation_deg : callable(t_s) -> deg, optional
        Sun elevation at plan time ``t_s`` (needed for ``min_sun_elevation_deg``).
    max_cycle_risk : float
        Largest chance, per command cycle, of meeting a hazard the DEM cannot show.
    footprint_m : float
        Length over which the per-cell ``risk`` is one trial (the rover's length).
    energy_step_s : float
        Parked energy is integrated between consecutive multiples of this many seconds.
    """

    nav_bits: float
    link_bit_s: float
    ground_s: float
    uplink_s: float
    stop_bits: tuple[tuple[str, float], ...] = ()
    min_sun_elevation_deg: float = -90.0
    sun_elevation_deg: Callable[[float], float] | None = field(default=None, compare=False)
    max_cycle_risk: float = 1.0
    footprint_m: float = 0.54
    energy_step_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("link_bit_s", "uplink_s", "footprint_m", "energy_step_s"):
            if not getattr(self, name) > 0:
                raise PlanningError(f"cadence {name} must be > 0, got {getattr(self, name)!r}")
        for name in ("nav_bits", "ground_s"):
            if not getattr(self, name) >= 0:
                raise PlanningError(f"cadence {name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 < self.max_cycle_risk <= 1:
            raise PlanningError(
                f"cadence max_cycle_risk must be in (0, 1], got {self.max_cycle_risk}"
            )

    def bits_at(self, kind: str) -> float:
        """Bits of images taken at a stop of ``kind``."""
        return float(dict(self.stop_bits).get(kind, 0.0))

    def turnaround_s(self, bits: float) -> float:
        """Window time of a turnaround that sends ``bits`` down."""
        return bits / self.link_bit_s + self.ground_s + self.uplink_s


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
    cadence: Cadence | None = None
    repeat_factor: tuple[tuple[str, float], ...] = ()
    """Diminishing returns per stop kind: the n-th stop of a kind counts ``f**n`` of its value
    (a kind not listed: every stop counts in full)."""
    done_kinds: tuple[tuple[str, int], ...] = ()
    """Stops of each kind already made before this plan (they count for the diminishing
    returns)."""
    min_stop_value: float = 0.0
    """A stop whose value in the plan (after diminishing returns) is below this is not made."""

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

    def window_span(self, t_s: float) -> tuple[float, float]:
        """(opens, closes) of the window holding ``t_s`` or, when none does, the next one.

        Within ``_EPS`` of a window's close counts as after it (inf when windows fill the day).
        """
        length = self.window_length_h * 3600.0
        if length >= DAY_S:
            return -math.inf, math.inf
        first = self.window_start_h * 3600.0
        opens = first + math.floor((t_s - first + _EPS) / DAY_S) * DAY_S
        if t_s >= opens + length - _EPS:
            opens += DAY_S
        return opens, opens + length


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
        risk: np.ndarray | None = None,
        memo: dict | None = None,
    ):
        self.rover, self.ops, self.solar_w, self.cost = rover, ops, solar_w, cost
        self.res, self.transform, self.risk = res_m, transform, risk
        self.rows: list[tuple] = []
        self.grid_s = ops.cadence.energy_step_s if ops.cadence is not None else None
        # solar_w per (time, row, col): the routes simulated in turn share most of their
        # parked intervals, and each call costs far more than a look-up (half the calls of the
        # demo's plan asked again what an earlier route had asked)
        self._memo = {} if memo is None else memo

    def _chunk_end(self, t: float, until: float, chunk: float) -> float:
        """End of the next parked interval: ``chunk`` later, or the next grid multiple."""
        if self.grid_s is None:
            return min(until, t + chunk)
        g = self.grid_s
        nxt = (math.floor(t / g) + 1) * g
        if nxt - t < _EPS:
            nxt += g
        return min(until, nxt)

    def _solar(self, t0: float, t1: float, r: int, c: int) -> float:
        key = (0.5 * (t0 + t1), r, c)
        p = self._memo.get(key)
        if p is None:
            p = float(self.solar_w(np.array([key[0]]), np.array([r]), np.array([c]))[0])
            self._memo[key] = p
        return p

    def _emit(self, t, r, c, soc, activity, leg, stop, solar):
        self.rows.append((t, r, c, soc, activity, leg, stop, solar, float(self.cost[r, c])))

    def _idle(self, t, soc, until, r, c, activity, leg, stop, chunk=1800.0):
        """Stay parked until ``until``, charging or draining; None if the reserve is broken."""
        rv = self.rover
        while t < until - _EPS:
            t1 = self._chunk_end(t, until, chunk)
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
            t1 = self._chunk_end(t, self.ops.mission_s, 900.0)
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
        first = ops.window_start_h * 3600.0
        same_day = math.floor((t - first) / DAY_S) == math.floor((t + dt - first) / DAY_S)
        if ops.in_window(t) and ops.in_window(t + dt) and same_day:
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

    # -- the command cycle of a Cadence -------------------------------------------------------

    def _turnaround(self, t, soc, bits, r, c, leg, stop, image="navcam"):
        """Downlink ``bits``, the ground's work and the uplink, in commanding-window time.

        The images it sends (``navcam`` or ``science``) are taken first: a row of no duration.
        The downlink and the ground's work may pause over the hours outside the window; the
        uplink may not: a command file goes up whole inside one window (cut by the window's
        close, the rover would act on half a file), so when too little of the window is left
        it waits for the next one.

        Returns (t, soc), or None when the mission ends first or the reserve breaks.
        """
        cad, ops = self.ops.cadence, self.ops
        out = self._wait_sun(t, soc, 0.0, r, c, leg, stop)  # no image with the Sun too low
        if out is None:
            return None
        t, soc = out
        self._emit(t, r, c, soc, image, leg, stop, self._solar(t, t, r, c))
        phases = (
            ("downlink", bits / cad.link_bit_s),
            ("ground", cad.ground_s),
            ("uplink", cad.uplink_s),
        )
        for name, need in phases:
            while need > _EPS:
                if t >= ops.mission_s - _EPS:
                    return None
                opens, closes = ops.window_span(t)
                if name == "uplink" and max(t, opens) + need > closes + _EPS:
                    opens, closes = ops.window_span(closes)  # the whole file in the next one
                if t < opens - _EPS:
                    out = self._idle(t, soc, opens, r, c, "window", leg, stop)
                    if out is None:
                        return None
                    t, soc = out
                t = max(t, opens)
                take = min(need, closes - t)
                out = self._idle(t, soc, t + take, r, c, name, leg, stop)
                if out is None:
                    return None
                t, soc = out
                need -= take
        return t, soc

    def _sun_ok(self, t0: float, t1: float) -> bool:
        cad = self.ops.cadence
        if cad.sun_elevation_deg is None:
            return True
        lo = cad.min_sun_elevation_deg
        return cad.sun_elevation_deg(t0) >= lo and cad.sun_elevation_deg(t1) >= lo

    def _wait_sun(self, t, soc, dt, r, c, leg, stop):
        """Wait parked (``sun``) until the Sun is high enough over [t, t + dt].

        Returns (t, soc), or None when the mission ends first or the reserve breaks.
        """
        g = self.ops.cadence.energy_step_s
        while not self._sun_ok(t, t + dt):
            if t >= self.ops.mission_s - _EPS:
                return None
            until = min((math.floor(t / g) + 1) * g, self.ops.mission_s)
            out = self._idle(t, soc, until, r, c, "sun", leg, stop)
            if out is None:
                return None
            t, soc = out
        return t, soc

    def _stop_activity(self, t, soc, dwell_s, kind, r, c, k):
        """Stop k's activity (dwell with the Sun up), then its images down before the next move.

        The new (t, soc), or None when it does not fit.
        """
        if dwell_s > 0:
            out = self._wait_sun(t, soc, dwell_s, r, c, -1, k)
            if out is None:
                return None
            t, soc = out
            out = self._idle(t, soc, t + dwell_s, r, c, "dwell", -1, k)
            if out is None:
                return None
            t, soc = out
        return self._turnaround(t, soc, self.ops.cadence.bits_at(kind), r, c, -1, k, "science")

    def run_cadence(
        self,
        legs: list[np.ndarray],
        dwell: np.ndarray,
        kinds: tuple[str, ...],
        start_soc: float,
        start_cell: tuple[int, int],
    ):
        """Simulate with the command cycle of ``ops.cadence``; same returns as :meth:`run`."""
        rv, ops, cad = self.rover, self.ops, self.ops.cadence
        t, soc = 0.0, start_soc
        r, c = int(start_cell[0]), int(start_cell[1])
        arrival, departure, soc_arr = [0.0], [], [soc]
        self._emit(t, r, c, soc, "start", -1, 0, self._solar(0.0, 0.0, r, c))
        fail = (False, 1, arrival, departure, soc_arr)
        # the ground plans the first move from the rover's navigation images
        out = self._turnaround(t, soc, cad.nav_bits, r, c, -1, 0)
        if out is None:
            return fail
        t, soc = out
        seg_charge = rv.drive_power_w * (rv.max_drive_per_cycle_m / rv.speed_m_s) / 3600.0
        for k, cells in enumerate(legs):
            if k > 0:
                out = self._stop_activity(t, soc, dwell[k], kinds[k], r, c, k)
                if out is None:
                    return False, k, arrival, departure, soc_arr
                t, soc = out
            fail = (False, k + 1, arrival, departure, soc_arr)
            cycle_m, cycle_keep = 0.0, 1.0
            left = False
            for step in range(1, len(cells)):
                r1, c1 = int(cells[step, 0]), int(cells[step, 1])
                dist = self.res * math.hypot(r1 - r, c1 - c)
                dt = dist / rv.speed_m_s
                keep = 1.0
                if self.risk is not None:
                    keep = (1.0 - float(self.risk[r1, c1])) ** (dist / cad.footprint_m)
                if 1.0 - keep > cad.max_cycle_risk:
                    return fail  # one step alone is riskier than a whole cycle may be
                if (
                    cycle_m + dist > rv.max_drive_per_cycle_m + 1e-9
                    or 1.0 - cycle_keep * keep > cad.max_cycle_risk
                ):
                    out = self._turnaround(t, soc, cad.nav_bits, r, c, k, -1)
                    if out is None:
                        return fail
                    t, soc = out
                    cycle_m, cycle_keep = 0.0, 1.0
                need = min(seg_charge, rv.battery_wh - rv.reserve_wh)
                here = self._solar(t, t, r, c)
                if here > rv.idle_power_w and self._solar(t, t, r1, c1) <= rv.idle_power_w:
                    dark = self._dark_need(cells, step, t)
                    if rv.reserve_wh + dark > rv.battery_wh:
                        return fail
                    need = max(need, dark)
                if soc < rv.reserve_wh + need:
                    out = self._charge_until(t, soc, rv.reserve_wh + need, r, c, k, -1)
                    if out is None:
                        return fail
                    t, soc = out
                # inside one commanding window, with the Sun up at both ends of the move
                while True:
                    out = self._fit_window(t, soc, dt, r, c, k)
                    if out is None:
                        return fail
                    t, soc, _ = out
                    if self._sun_ok(t, t + dt):
                        break
                    out = self._wait_sun(t, soc, dt, r, c, k, -1)
                    if out is None:
                        return fail
                    t, soc = out
                if not left:
                    departure.append(t)
                    left = True
                p = self._solar(t, t + dt, r1, c1)
                soc1 = min(rv.battery_wh, soc + (p - rv.drive_power_w) * dt / 3600.0)
                if soc1 < rv.reserve_wh - 1e-9:
                    return fail
                t, soc, r, c = t + dt, soc1, r1, c1
                cycle_m += dist
                cycle_keep *= keep
                self._emit(t, r, c, soc, "drive", k, -1, p)
                if t > ops.mission_s + 1e-6:
                    return fail
            arrival.append(t)
            soc_arr.append(soc)
            if not left:
                departure.append(t)
            else:
                self.rows[-1] = self.rows[-1][:6] + (k + 1,) + self.rows[-1][7:]
                # reaching a stop ends the cycle: the ground confirms the place
                out = self._turnaround(t, soc, cad.nav_bits, r, c, -1, k + 1)
                if out is None:
                    return fail
                t, soc = out
        n = len(legs)
        if n > 0:
            out = self._stop_activity(t, soc, dwell[n], kinds[n], r, c, n)
            if out is None:
                return False, n, arrival, departure, soc_arr
            t, soc = out
        departure.append(t)
        if t > ops.mission_s + 1e-6:
            return False, max(n, 1), arrival, departure, soc_arr
        return True, -1, arrival, departure, soc_arr

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
        cycle_m, moved_s = 0.0, 0.0
        seg_charge = rv.drive_power_w * (rv.max_drive_per_cycle_m / rv.speed_m_s) / 3600.0
        for k, cells in enumerate(legs):
            # Dwell at stop k (the start has no dwell), then drive leg k to stop k + 1.
            if k > 0 and dwell[k] > 0:
                out = self._idle(t, soc, t + dwell[k], r, c, "dwell", -1, k, chunk=300.0)
                if out is None:
                    return False, k, arrival, departure, soc_arr
                t, soc = out
            left = False
            for step in range(1, len(cells)):
                r1, c1 = int(cells[step, 0]), int(cells[step, 1])
                dist = self.res * math.hypot(r1 - r, c1 - c)
                if t - moved_s >= rv.cycle_overhead_s - 1e-9:
                    cycle_m = 0.0  # a dwell long enough for the ground to send a new command
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
                # Then wait, parked, until the move fits inside a commanded drive window.
                out = self._fit_window(t, soc, dt, r, c, k)
                if out is None:
                    return False, k + 1, arrival, departure, soc_arr
                t, soc, _ = out
                if t - moved_s >= rv.cycle_overhead_s - 1e-9:
                    cycle_m = 0.0  # parked long enough for the ground to send a new command
                if not left:
                    departure.append(t)  # the rover leaves the stop with its first move
                    left = True
                p = self._solar(t, t + dt, r1, c1)
                soc1 = min(rv.battery_wh, soc + (p - rv.drive_power_w) * dt / 3600.0)
                if soc1 < rv.reserve_wh - 1e-9:
                    return False, k + 1, arrival, departure, soc_arr
                t, soc, r, c = t + dt, soc1, r1, c1
                moved_s = t
                cycle_m += dist
                self._emit(t, r, c, soc, "drive", k, -1, p)
                if t > ops.mission_s + 1e-6:
                    return False, k + 1, arrival, departure, soc_arr
            if not left:
                departure.append(t)  # a leg without a step: the next stop is this cell
            else:
                self.rows[-1] = self.rows[-1][:6] + (k + 1,) + self.rows[-1][7:]
            arrival.append(t)
            soc_arr.append(soc)
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


def too_risky_to_enter(
    risk: np.ndarray, res_m: float, footprint_m: float, max_cycle_risk: float
) -> np.ndarray:
    """Cells riskier over one step than a whole command cycle may be: no path may enter them.

    A diagonal step, the longest (``res_m * sqrt(2)``), judges each cell: the chance of meeting
    an unresolved hazard over that step is ``1 - (1 - risk) ** (step / footprint_m)``.

    Examples
    --------
    >>> import numpy as np
    >>> too_risky_to_enter(np.array([0.01, 0.2]), 0.5, 0.5, 0.1).tolist()
    [False, True]
    """
    risk = np.clip(np.nan_to_num(np.asarray(risk, dtype=np.float64), nan=1.0), 0.0, 1.0)
    step = 1.0 - (1.0 - risk) ** (res_m * math.sqrt(2.0) / footprint_m)
    return step > max_cycle_risk


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
    risk: np.ndarray | None = None,
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
        Solar power into the battery at plan times and cells (0 in shadow or at night); a
        function of its arguments only (the planner asks each time and cell once).
    ops : Operations, optional
    comm_ok : ndarray of bool, optional
        Cells in link with the lander (also enforced by the checker).
    risk : ndarray of shape (M, N), optional
        Chance per footprint of meeting a hazard the DEM cannot show; with a cadence, a
        command cycle ends before its chance would exceed ``cadence.max_cycle_risk``.
    progress : callable(fraction, stage), optional

    Returns
    -------
    TraversePlan
        Always checked by :func:`check_plan`; an empty plan carries the reason.

    Raises
    ------
    InfeasiblePlanError
        Only if a plan failed its own check (a bug, never a user error).

    Examples
    --------
    One scoop 10 m east of the rover on open ground of 0.5 m cells, 2 cm/s, with a 10-minute
    turnaround between the two 5 m command cycles and 10 minutes at the stop:

    >>> import numpy as np
    >>> from affine import Affine
    >>> from frigoris.planners.stops import Candidates
    >>> grid = Affine(0.5, 0, 0, 0, -0.5, 50)
    >>> scoop = Candidates(np.array([15.25]), np.array([44.75]), np.array([[10, 30]]),
    ...                    ("scoop",), np.array([5.0]), np.array([600.0]), ("c0",), ("",))
    >>> rover = RoverModel(speed_m_s=0.02, drive_power_w=12.0, idle_power_w=4.0,
    ...                    battery_wh=40.0, reserve_wh=12.0, max_drive_per_cycle_m=5.0,
    ...                    cycle_overhead_s=600.0)
    >>> plan = plan_traverse(cost=np.ones((30, 40)), keepout=np.zeros((30, 40), bool),
    ...                      transform=grid, start_cell=(10, 10), candidates=scoop, rover=rover,
    ...                      solar_w=lambda t, r, c: np.full(np.shape(t), 10.0),
    ...                      ops=Operations(mission_s=86400, start_soc_wh=30.0))
    >>> plan.stops.kind, plan.distance_m, plan.duration_s
    (('start', 'scoop'), 10.0, 1700.0)
    """
    ops = ops or Operations()
    report = progress or (lambda f, s="": None)
    res = abs(transform.a)
    cost = np.asarray(cost, dtype=np.float64).copy()
    keepout = np.asarray(keepout, dtype=bool)
    cost[keepout] = np.inf
    if comm_ok is not None:
        cost[~np.asarray(comm_ok, bool)] = np.inf
    if risk is not None:
        if np.shape(risk) != cost.shape:
            raise PlanningError(
                f"risk has shape {np.shape(risk)} but cost {cost.shape}; pass layers of one grid"
            )
        risk = np.clip(np.nan_to_num(np.asarray(risk, dtype=np.float64), nan=1.0), 0.0, 1.0)
    r0, c0 = (int(v) for v in start_cell)
    if not (0 <= r0 < cost.shape[0] and 0 <= c0 < cost.shape[1]):
        raise PlanningError(f"start cell {start_cell} is outside the {cost.shape} grid")
    if ops.cadence is not None and ops.cadence.uplink_s > ops.window_length_h * 3600.0:
        raise PlanningError(
            f"an uplink of {ops.cadence.uplink_s:g} s does not fit in a "
            f"{ops.window_length_h:g} h commanding window; lengthen the window or shorten "
            "the uplink"
        )
    if risk is not None and ops.cadence is not None:
        # the simulation refuses a single step into a cell riskier than a whole cycle may be:
        # the paths must not need one (a diagonal step, the longest, judges the cell; the
        # start cell is never stepped into)
        cad = ops.cadence
        too_risky = too_risky_to_enter(risk, res, cad.footprint_m, cad.max_cycle_risk)
        too_risky[r0, c0] = False
        cost[too_risky] = np.inf
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
        return _checked(plan, cost, keepout, comm_ok, rover, ops, solar_w, transform)

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
    cad = ops.cadence
    budget = ops.mission_s
    if cad is None:
        cycles = np.ceil(length / rover.max_drive_per_cycle_m)
        travel_s = (length / rover.speed_m_s + cycles * rover.cycle_overhead_s) / ops.duty
        service = np.concatenate([[0.0], cand.dwell_s / ops.duty, [0.0]])
    else:
        # window time of the turnarounds between cycles, in wall time at the window's duty
        turn = cad.turnaround_s(cad.nav_bits)
        # whole cells: a cycle stops short of the limit by about a step
        per_cycle = max(rover.max_drive_per_cycle_m - res, 0.5 * rover.max_drive_per_cycle_m)
        cycles = np.maximum(np.ceil(length / per_cycle) - 1.0, 0.0)
        travel_s = (length / rover.speed_m_s + cycles * turn) / ops.duty
        stop_turn = np.array([turn + cad.turnaround_s(cad.bits_at(k)) for k in cand.kind])
        service = np.concatenate([[0.0], (cand.dwell_s + stop_turn) / ops.duty, [0.0]])
        budget = max(ops.mission_s - turn / ops.duty, 0.0)  # the first turnaround
    # A zero-cost dummy end lets the route finish at its last stop.
    big = np.full((n + 1, n + 1), np.inf)
    big[:n, :n] = travel_s
    big[:n, n] = 0.0
    np.fill_diagonal(big, 0.0)
    if not np.isfinite(travel_s[0, 1:]).any():
        why = "no candidate stop is reachable from the start without crossing keep-out"
        if risk is not None and ops.cadence is not None:
            why += " or a cell riskier in one step than a command cycle may be (max_cycle_risk)"
        return empty(why)
    report(0.2, "choosing stops")
    repeats = any(f != 1.0 for _, f in ops.repeat_factor)
    rounds = 2 if repeats else 1
    solves = rounds * (1 + (_CALIBRATIONS if cad is not None else 0))

    def choose(scale: float, keep: list[int]) -> list[int]:
        """The solver's stops (1-based), its estimated times scaled by ``scale``."""
        order: list[int] = []
        best = -1.0
        last = None
        for round_ in range(rounds):
            first = set(order or keep)
            prizes = _ranked_values(
                cand.kind, cand.value, ops, first={i - 1 for i in first}, near=travel_s[0, 1:]
            )
            prizes = np.where(prizes < ops.min_stop_value, 0.0, prizes)
            if last is not None and np.array_equal(prizes, last):
                break  # the same problem as the last round's: the solver gives the same route
            last = prizes
            route = solve_orienteering(
                big * scale,
                np.concatenate([[0.0], prizes, [0.0]]),
                budget,
                start=0,
                end=n,
                service=service * scale,
                time_limit_s=ops.solver_time_limit_s / solves,
                seed=ops.seed,
            )
            got = _worth_it(cand, [i for i in route.nodes if i not in (0, n)], ops)
            value = _set_value(cand, got, ops)
            if value > best + 1e-12:
                order, best = got, value
            if round_ == 0 and not got:
                break
        return order

    solar_memo: dict = {}  # solar_w per (time, row, col), shared by the routes simulated

    def simulate(order: list[int]):
        seq = [0] + order
        legs = [tm.path(a, b).cells for a, b in zip(seq[:-1], seq[1:], strict=False)]
        dwell = np.concatenate([[0.0], cand.dwell_s[[i - 1 for i in order]]])
        sim = _Sim(rover, ops, solar_w, cost, res, transform, risk=risk, memo=solar_memo)
        if cad is None:
            out = sim.run(legs, dwell, start_soc, (r0, c0))
        else:
            kinds = ("start",) + tuple(cand.kind[i - 1] for i in order)
            out = sim.run_cadence(legs, dwell, kinds, start_soc, (r0, c0))
        return out, sim, legs

    scale = 1.0
    order = choose(scale, [])
    report(0.6, "simulating")
    (ok, fail, arrival, departure, soc_arr), sim, legs = simulate(order)
    # With a cadence, the solver's times are estimates (whole cycles, windows, risk-shortened
    # cycles): when the simulation runs out of mission, scale them by how far they fell short
    # and choose again, a few times, before dropping stops one by one.
    for _ in range(_CALIBRATIONS if cad is not None else 0):
        if ok or not order:
            break
        seq = [0] + order
        est = cad.turnaround_s(cad.nav_bits) / ops.duty
        for a, b in zip(seq[:fail], seq[1 : fail + 1], strict=False):
            est += (service[a] + big[a, b]) * scale
        ratio = float(sim.rows[-1][0]) / max(est, 1.0)
        if not ratio > 1.0 + 1e-3:
            break  # not a matter of time (energy, risk): drop stops instead
        scale *= 1.02 * ratio
        order = choose(scale, order)
        (ok, fail, arrival, departure, soc_arr), sim, legs = simulate(order)
    dropped: list[str] = []
    while not ok:
        if not order:
            # not even the rover's first command cycle fits the mission
            return empty(
                "not even the first command cycle fits: no commanding window, Sun or energy "
                "for the ground to plan a move within the mission",
                dropped,
            )
        # Drop the least valuable stop among those reached up to the failure and try again.
        upto = order[: max(fail, 1)]
        marginal = dict(zip(order, _visit_values(cand, order, ops)[0], strict=True))
        worst = min(upto, key=lambda i: (marginal[i], -i))
        dropped.append(
            f"{cand.kind[worst - 1]} stop ({cand.reason[worst - 1]}): "
            "not affordable in time or energy once simulated"
        )
        order.remove(worst)
        (ok, fail, arrival, departure, soc_arr), sim, legs = simulate(order)
    report(0.9, "checking")
    values, notes = _visit_values(cand, order, ops)
    visited = (
        start
        if not order
        else Candidates(
            np.concatenate([start.x, cand.x[[i - 1 for i in order]]]),
            np.concatenate([start.y, cand.y[[i - 1 for i in order]]]),
            np.vstack([start.cells, cand.cells[[i - 1 for i in order]]]),
            start.kind + tuple(cand.kind[i - 1] for i in order),
            np.concatenate([start.value, values]),
            np.concatenate([start.dwell_s, cand.dwell_s[[i - 1 for i in order]]]),
            start.reason
            + tuple(cand.reason[i - 1] + note for i, note in zip(order, notes, strict=True)),
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
    return _checked(plan, cost, keepout, comm_ok, rover, ops, solar_w, transform)


_ORDINALS = {1: "first", 2: "second", 3: "third"}
_CALIBRATIONS = 3
"""With a cadence: how many times the solver chooses again with its times scaled to what the
simulation found, before stops are dropped one by one."""


def _ranked_values(
    kinds: tuple[str, ...],
    values: np.ndarray,
    ops: Operations,
    first: set[int] = frozenset(),
    near: np.ndarray | None = None,
) -> np.ndarray:
    """Each candidate's value at its rank within its kind: ``value * f ** (done + rank)``.

    ``first`` are ranked ahead, then by value, equal values by ``near`` (the travel from the
    start: the nearest of equals counts first); ``done`` stops of the kind were made before.
    """
    factor, done = dict(ops.repeat_factor), dict(ops.done_kinds)
    values = np.asarray(values, dtype=np.float64)
    near = np.zeros(len(values)) if near is None else np.nan_to_num(near, posinf=np.inf)
    out = values.copy()
    by_kind: dict[str, list[int]] = {}
    for i, k in enumerate(kinds):
        by_kind.setdefault(k, []).append(i)
    for k, idx in by_kind.items():
        if k not in factor:
            continue
        idx.sort(key=lambda i: (i not in first, -values[i], near[i], i))
        for rank, i in enumerate(idx):
            out[i] = values[i] * float(factor[k]) ** (done.get(k, 0) + rank)
    return out


def _visit_values(cand: Candidates, order: list[int], ops: Operations):
    """Marginal values of the visited candidates (1-based indices) and a note for each."""
    if not order:
        return np.zeros(0), []
    kinds = tuple(cand.kind[i - 1] for i in order)
    base = cand.value[[i - 1 for i in order]]
    values = _ranked_values(kinds, base, ops)
    factor, done = dict(ops.repeat_factor), dict(ops.done_kinds)
    notes = []
    for j, k in enumerate(kinds):
        if k not in factor or np.isclose(values[j], base[j]):
            notes.append("")
            continue
        nth = (
            done.get(k, 0)
            + 1
            + sum(1 for m, km in enumerate(kinds) if km == k and (-base[m], m) < (-base[j], j))
        )
        word = _ORDINALS.get(nth, f"{nth}th")
        notes.append(
            f"; the {word} {k} of the mission counts {values[j] / base[j]:.3g} of its value"
        )
    return values, notes


def _worth_it(cand: Candidates, order: list[int], ops: Operations) -> list[int]:
    """``order`` without the stops worth less than ``ops.min_stop_value`` (least first)."""
    order = list(order)
    while order:
        values = _visit_values(cand, order, ops)[0]
        j = int(np.argmin(values))
        if values[j] >= ops.min_stop_value:
            break
        order.pop(j)
    return order


def _set_value(cand: Candidates, order: list[int], ops: Operations) -> float:
    """The value of visiting ``order`` (1-based candidate indices) with diminishing returns."""
    return float(_visit_values(cand, order, ops)[0].sum())


def _checked(plan, cost, keepout, comm_ok, rover, ops, solar_w, transform) -> TraversePlan:
    problems = check_plan(
        plan,
        keepout=keepout,
        transform=transform,
        comm_ok=comm_ok,
        rover=rover,
        ops=ops,
        solar_w=solar_w,
    )
    if problems:
        raise InfeasiblePlanError("plan failed its own check: " + "; ".join(problems[:5]))
    return plan


# --------------------------------------------------------------------------------------------
# The checker. It shares no code with the simulation above: it reads the plan's raw arrays
# (stops, legs, timeline rows) and judges them against the rasters, the grid transform, the rover
# model and the mission rhythm, with its own geometry, window arithmetic and battery integration.

TIMELINE_COLUMNS = ("t_s", "row", "col", "x", "y", "soc_wh", "activity", "stop")
"""Timeline columns the checker reads (the planner writes more, for people)."""

CHECK_TIME_TOL_S = 1e-6
"""Slack on times: timeline times are sums of thousands of float steps (about 1e-10 s off)."""
CHECK_SOC_TOL = 1e-6
"""Slack on the battery, as a fraction of its capacity (float rounding of the integration)."""
CHECK_SPEED_TOL = 1e-6
"""Relative slack on speed and command-cycle distance (float rounding, never a real margin)."""
CHECK_POSITION_TOL = 0.01
"""Slack on map coordinates, as a fraction of the pixel: a stop is at its cell's centre."""


def check_plan(
    plan: TraversePlan,
    *,
    keepout: np.ndarray,
    transform,
    rover: RoverModel,
    ops: Operations,
    solar_w: SolarFn,
    comm_ok: np.ndarray | None = None,
) -> list[str]:
    """Every constraint a plan breaks, in plain words (empty when the plan is feasible).

    Independent of the planner: it recomputes from the rasters, the grid transform, the rover
    model, the mission rhythm and the plan's raw arrays, never through the code that built the
    plan. Each rule has its own message:

    - shape: as many legs as stops minus one, per-stop arrays as long as the stops, every
      timeline column present and of one length, a non-empty timeline, legs of (row, col) cells;
    - legs: inside the grid, outside keep-out, in link (``comm_ok``), a chain of neighbouring
      cells, joining stop k to stop k + 1; map coordinates of stops and timeline rows at the
      centre of their cells;
    - clock: the timeline starts at time 0 at the start stop, never goes back in time and ends
      within the mission;
    - motion: the timeline drives exactly the legs' cells in order, and never moves while parked;
      every drive at most the rover's speed, inside one commanded window, and within a command
      cycle (the drive between two parked stretches of at least ``cycle_overhead_s``) of at
      most ``max_drive_per_cycle_m``;
    - battery: re-integrated from the timeline (drive power on drive rows, idle power otherwise,
      ``solar_w`` at the midpoint and the row's cell, capped at capacity), equal to the timeline's
      and never below the reserve;
    - stops: each gets its dwell (timeline rows labelled ``dwell`` for it, at its cell); arrival,
      departure and arrival battery as the plan states them are those of the timeline;
    - totals: the plan's value, distance and duration are those of its stops, legs and timeline.

    Parameters
    ----------
    plan : TraversePlan
    keepout : ndarray of bool, shape (M, N)
    transform : affine.Affine
        The grid's transform (map metres); step lengths come from it.
    rover : RoverModel
    ops : Operations
    solar_w : callable(t_s, rows, cols) -> watts
    comm_ok : ndarray of bool, shape (M, N), optional

    Returns
    -------
    list of str

    Raises
    ------
    PlanningError
        ``comm_ok`` and ``keepout`` are not on the same grid.

    Examples
    --------
    The plan of :func:`plan_traverse`'s example passes; the same plan against a keep-out wall
    across its leg does not:

    >>> import numpy as np
    >>> from affine import Affine
    >>> from frigoris.planners.stops import Candidates
    >>> grid = Affine(0.5, 0, 0, 0, -0.5, 50)
    >>> scoop = Candidates(np.array([15.25]), np.array([44.75]), np.array([[10, 30]]),
    ...                    ("scoop",), np.array([5.0]), np.array([600.0]), ("c0",), ("",))
    >>> rover = RoverModel(speed_m_s=0.02, drive_power_w=12.0, idle_power_w=4.0,
    ...                    battery_wh=40.0, reserve_wh=12.0, max_drive_per_cycle_m=5.0,
    ...                    cycle_overhead_s=600.0)
    >>> ops, sun = Operations(mission_s=86400, start_soc_wh=30.0), lambda t, r, c: 10.0 + 0 * t
    >>> free = np.zeros((30, 40), bool)
    >>> plan = plan_traverse(cost=np.ones((30, 40)), keepout=free, transform=grid,
    ...                      start_cell=(10, 10), candidates=scoop, rover=rover, solar_w=sun,
    ...                      ops=ops)
    >>> check_plan(plan, keepout=free, transform=grid, rover=rover, ops=ops, solar_w=sun)
    []
    >>> wall = free.copy()
    >>> wall[:, 20] = True
    >>> check_plan(plan, keepout=wall, transform=grid, rover=rover, ops=ops, solar_w=sun)
    ['leg 0 enters keep-out at ...']
    """
    keepout = np.asarray(keepout, dtype=bool)
    comm = None if comm_ok is None else np.asarray(comm_ok, dtype=bool)
    if keepout.ndim != 2:
        raise PlanningError(f"keepout must be a 2-D array, got shape {keepout.shape}")
    if comm is not None and comm.shape != keepout.shape:
        raise PlanningError(
            f"comm_ok has shape {comm.shape} but keepout {keepout.shape}; pass layers of one grid"
        )
    out = _check_shape(plan)
    if out:
        return out  # the arrays do not fit together: nothing else can be read safely
    tl = {k: np.asarray(plan.timeline[k]) for k in TIMELINE_COLUMNS}
    out += _check_legs(plan, keepout, comm)
    off_grid = _check_timeline_on_grid(tl, keepout.shape)
    out += off_grid
    out += _check_places(plan, tl, transform)
    out += _check_clock(plan, tl, ops)
    follows, motion = _check_follows_legs(plan, tl)
    out += motion
    if off_grid:
        return out  # no sun, no geometry off the grid
    out += _check_drives(tl, transform, rover, ops)
    out += _check_battery(tl, rover, ops, solar_w)
    out += _check_dwell(plan, tl)
    if follows is not None:
        out += _check_stop_times(plan, tl, follows)
    out += _check_totals(plan, tl, transform)
    return out


def _check_shape(plan: TraversePlan) -> list[str]:
    n = len(plan.stops)
    out = []
    if len(plan.legs) != n - 1:
        out.append(f"{len(plan.legs)} legs for {n} stops")
    for name in ("arrival_s", "departure_s", "soc_arrival_wh"):
        m = np.asarray(getattr(plan, name)).size
        if m != n:
            out.append(f"{name} has {m} values for {n} stops")
    if len(plan.stops.cells) != n or len(plan.stops.dwell_s) != n:
        out.append(
            f"the stops have {n} positions, {len(plan.stops.cells)} cells and "
            f"{len(plan.stops.dwell_s)} dwell times"
        )
    for k, leg in enumerate(plan.legs):
        leg = np.asarray(leg)
        if leg.ndim != 2 or leg.shape[1] != 2 or len(leg) == 0 or leg.dtype.kind not in "iu":
            out.append(f"leg {k} is not an array of integer (row, col) cells")
    missing = [k for k in TIMELINE_COLUMNS if k not in plan.timeline]
    if missing:
        return out + [f"the timeline has no {', '.join(missing)} column"]
    lengths = {np.asarray(plan.timeline[k]).shape for k in TIMELINE_COLUMNS}
    if len(lengths) != 1:
        return out + [f"the timeline's columns differ in length: {sorted(lengths)}"]
    if np.asarray(plan.timeline["t_s"]).size == 0:
        out.append("the timeline is empty")
    return out


def _cells_text(cell) -> str:
    return f"({int(cell[0])}, {int(cell[1])})"


def _check_legs(plan: TraversePlan, keepout: np.ndarray, comm: np.ndarray | None) -> list[str]:
    out = []
    nrows, ncols = keepout.shape
    for k, leg in enumerate(plan.legs):
        leg = np.asarray(leg)
        r, c = leg[:, 0], leg[:, 1]
        outside = (r < 0) | (r >= nrows) | (c < 0) | (c >= ncols)
        if outside.any():
            out.append(f"leg {k} leaves the grid at cell {_cells_text(leg[np.argmax(outside)])}")
        else:
            ko = keepout[r, c]
            if ko.any():
                out.append(f"leg {k} enters keep-out at cell {_cells_text(leg[np.argmax(ko)])}")
            if comm is not None and not comm[r, c].all():
                i = int(np.argmin(comm[r, c]))
                out.append(f"leg {k} leaves the lander's link at cell {_cells_text(leg[i])}")
        step = np.abs(np.diff(leg, axis=0)).max(axis=1)
        bad = (step == 0) | (step > 1)
        if bad.any():
            i = int(np.argmax(bad))
            out.append(
                f"leg {k} is not a chain of neighbouring cells: {_cells_text(leg[i])} to "
                f"{_cells_text(leg[i + 1])}"
            )
        if not (
            np.array_equal(leg[0], plan.stops.cells[k])
            and np.array_equal(leg[-1], plan.stops.cells[k + 1])
        ):
            out.append(f"leg {k} does not join stop {k} to stop {k + 1}")
    return out


def _check_timeline_on_grid(tl: dict, shape: tuple[int, int]) -> list[str]:
    r, c = tl["row"], tl["col"]
    outside = (r < 0) | (r >= shape[0]) | (c < 0) | (c >= shape[1])
    if not outside.any():
        return []
    i = int(np.argmax(outside))
    return [f"the timeline leaves the grid at {tl['t_s'][i]:.0f} s, cell ({r[i]}, {c[i]})"]


def _pixel_m(transform) -> float:
    return min(math.hypot(transform.a, transform.d), math.hypot(transform.b, transform.e))


def _centres(transform, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b, c, d, e, f = (
        transform.a,
        transform.b,
        transform.c,
        transform.d,
        transform.e,
        transform.f,
    )
    u, v = np.asarray(cols, float) + 0.5, np.asarray(rows, float) + 0.5
    return a * u + b * v + c, d * u + e * v + f


def _check_places(plan: TraversePlan, tl: dict, transform) -> list[str]:
    out = []
    tol = CHECK_POSITION_TOL * _pixel_m(transform)
    cells = np.asarray(plan.stops.cells)
    x, y = _centres(transform, cells[:, 0], cells[:, 1])
    off = np.hypot(np.asarray(plan.stops.x) - x, np.asarray(plan.stops.y) - y)
    if (off > tol).any():
        k = int(np.argmax(off > tol))
        out.append(
            f"stop {k} at ({plan.stops.x[k]:.3f}, {plan.stops.y[k]:.3f}) is {off[k]:.3f} m "
            f"from the centre of its cell {_cells_text(cells[k])}"
        )
    x, y = _centres(transform, tl["row"], tl["col"])
    off = np.hypot(tl["x"] - x, tl["y"] - y)
    if (off > tol).any():
        i = int(np.argmax(off > tol))
        out.append(
            f"the timeline row at {tl['t_s'][i]:.0f} s is {off[i]:.3f} m from the centre of "
            f"its cell ({tl['row'][i]}, {tl['col'][i]})"
        )
    return out


def _check_clock(plan: TraversePlan, tl: dict, ops: Operations) -> list[str]:
    out = []
    t = tl["t_s"]
    if abs(t[0]) > CHECK_TIME_TOL_S:
        out.append(f"the timeline starts at {t[0]:.6f} s, not at 0")
    first = (int(tl["row"][0]), int(tl["col"][0]))
    if first != tuple(int(v) for v in plan.stops.cells[0]):
        out.append(
            f"the timeline starts at cell {_cells_text(first)}, not at the start stop "
            f"{_cells_text(plan.stops.cells[0])}"
        )
    back = np.diff(t) < -CHECK_TIME_TOL_S
    if back.any():
        i = int(np.argmax(back))
        out.append(f"the timeline goes back in time from {t[i]:.6f} s to {t[i + 1]:.6f} s")
    if t.max() > ops.mission_s + CHECK_TIME_TOL_S:
        out.append(
            f"plan ends at {t.max():.6f} s, after the mission's {ops.mission_s:.6f} s "
            f"({ops.mission_s / 3600:g} h)"
        )
    return out


def _check_follows_legs(plan: TraversePlan, tl: dict) -> tuple[list[np.ndarray] | None, list[str]]:
    """Drives follow the legs, cell by cell, and the rover never moves while parked.

    Returns the timeline rows of each leg's drives (None when the drives do not follow the
    legs) and the violations.
    """
    out = []
    r, c, act, t = tl["row"], tl["col"], tl["activity"], tl["t_s"]
    drive = np.zeros(len(t), dtype=bool)
    drive[1:] = act[1:] == "drive"  # row 0 is the start: it comes from nowhere
    moved = np.zeros(len(t), dtype=bool)
    moved[1:] = (np.diff(r) != 0) | (np.diff(c) != 0)
    parked_move = moved & ~drive
    if parked_move.any():
        i = int(np.argmax(parked_move))
        out.append(f"the rover moves at {t[i]:.0f} s while '{act[i]}'")
    rows = np.flatnonzero(drive)
    legs = [np.asarray(leg)[1:] for leg in plan.legs]
    want = np.concatenate(legs) if legs else np.zeros((0, 2), dtype=np.int64)
    if len(rows) != len(want):
        out.append(f"the timeline drives {len(rows)} steps, the legs {len(want)}")
        return None, out
    got = np.stack([r[rows], c[rows]], axis=1)
    wrong = (got != want).any(axis=1)
    if wrong.any():
        j = int(np.argmax(wrong))
        out.append(
            f"the drive at {t[rows[j]]:.0f} s goes to cell {_cells_text(got[j])}, "
            f"the legs to {_cells_text(want[j])}"
        )
        return None, out
    bounds = np.cumsum([0] + [len(leg) for leg in legs])
    return [rows[bounds[k] : bounds[k + 1]] for k in range(len(legs))], out


def _step_m(transform, r0, c0, r1, c1) -> float:
    dc, dr = c1 - c0, r1 - r0
    return math.hypot(transform.a * dc + transform.b * dr, transform.d * dc + transform.e * dr)


def _in_one_window(t0: float, t1: float, ops: Operations) -> bool:
    """True when [t0, t1] lies inside one commanded drive window (own arithmetic)."""
    length = ops.window_length_h * 3600.0
    if length >= DAY_S:
        return True
    first = ops.window_start_h * 3600.0
    k = math.floor((t0 - first + CHECK_TIME_TOL_S) / DAY_S)
    opens = first + k * DAY_S
    return t0 >= opens - CHECK_TIME_TOL_S and t1 <= opens + length + CHECK_TIME_TOL_S


def _check_drives(tl: dict, transform, rover: RoverModel, ops: Operations) -> list[str]:
    """Speed, windows and command cycles of every drive row."""
    out: list[str] = []
    r, c, act, t = tl["row"], tl["col"], tl["activity"], tl["t_s"]
    fast = window = cycle_seen = False
    cycle_m, last_move_s = 0.0, float(t[0])
    limit_m = rover.max_drive_per_cycle_m * (1 + CHECK_SPEED_TOL)
    for i in range(1, len(t)):
        if act[i] != "drive":
            continue
        d = _step_m(transform, r[i - 1], c[i - 1], r[i], c[i])
        dt = float(t[i] - t[i - 1])
        if not fast and d > rover.speed_m_s * max(dt, 0.0) * (1 + CHECK_SPEED_TOL):
            fast = True
            out.append(
                f"the drive at {t[i]:.0f} s covers {d:.3f} m in {dt:.3f} s, faster than "
                f"{rover.speed_m_s:g} m/s"
            )
        if not window and not _in_one_window(float(t[i - 1]), float(t[i]), ops):
            window = True
            out.append(
                f"the drive from {t[i - 1]:.0f} s to {t[i]:.0f} s is outside a commanded window"
            )
        if t[i - 1] - last_move_s >= rover.cycle_overhead_s - CHECK_TIME_TOL_S:
            cycle_m = 0.0  # parked long enough for the ground to send a new command
        cycle_m += d
        last_move_s = float(t[i])
        if not cycle_seen and cycle_m > limit_m:
            cycle_seen = True
            out.append(
                f"a command cycle drives {cycle_m:.3f} m by {t[i]:.0f} s, more than "
                f"{rover.max_drive_per_cycle_m:g} m"
            )
    return out


def _check_battery(tl: dict, rover: RoverModel, ops: Operations, solar_w: SolarFn) -> list[str]:
    """Re-integrate the battery from the timeline alone."""
    out = []
    t, soc_plan, act = tl["t_s"], tl["soc_wh"], tl["activity"]
    tol = CHECK_SOC_TOL * rover.battery_wh
    soc = rover.battery_wh if ops.start_soc_wh is None else float(ops.start_soc_wh)
    lowest = soc
    mismatch = abs(soc - soc_plan[0]) > tol
    if mismatch:
        out.append(f"battery at {t[0]:.0f} s is {soc:.6f} Wh, the plan says {soc_plan[0]:.6f}")
    if len(t) > 1:
        mid = 0.5 * (t[1:] + t[:-1])
        p_in = np.asarray(solar_w(mid, tl["row"][1:], tl["col"][1:]), dtype=float)
        for i in range(1, len(t)):
            draw = rover.drive_power_w if act[i] == "drive" else rover.idle_power_w
            soc = min(rover.battery_wh, soc + (p_in[i - 1] - draw) * (t[i] - t[i - 1]) / 3600.0)
            lowest = min(lowest, soc)
            if not mismatch and abs(soc - soc_plan[i]) > tol:
                mismatch = True
                out.append(
                    f"battery at {t[i]:.0f} s is {soc:.6f} Wh, the plan says {soc_plan[i]:.6f}"
                )
    if lowest < rover.reserve_wh - tol:
        out.append(f"battery falls to {lowest:.6f} Wh, below the {rover.reserve_wh:g} Wh reserve")
    return out


def _check_dwell(plan: TraversePlan, tl: dict) -> list[str]:
    """Each stop's dwell: rows labelled ``dwell`` for it, spent at its cell."""
    out = []
    t, act, stop = tl["t_s"], tl["activity"], tl["stop"]
    dwell = np.zeros(len(t), dtype=bool)
    dwell[1:] = act[1:] == "dwell"
    spent = np.zeros(len(t))
    spent[1:] = np.diff(t)
    for k in range(len(plan.stops)):
        mine = dwell & (stop == k)
        cell = plan.stops.cells[k]
        away = mine & ((tl["row"] != cell[0]) | (tl["col"] != cell[1]))
        if away.any():
            i = int(np.argmax(away))
            out.append(
                f"stop {k} ({plan.stops.kind[k]}) dwells at cell ({tl['row'][i]}, "
                f"{tl['col'][i]}), not at its cell {_cells_text(cell)}"
            )
        got, need = float(spent[mine].sum()), float(plan.stops.dwell_s[k])
        if got < need - CHECK_TIME_TOL_S:
            out.append(
                f"stop {k} ({plan.stops.kind[k]}) gets {got:.9g} s of its {need:.9g} s dwell"
            )
    return out


def _check_stop_times(plan: TraversePlan, tl: dict, leg_rows: list[np.ndarray]) -> list[str]:
    """Arrival, departure and arrival battery as the plan states them, from the timeline."""
    out = []
    t, soc = tl["t_s"], tl["soc_wh"]
    n = len(plan.stops)
    arrive = [0] + [int(rows[-1]) if len(rows) else None for rows in leg_rows]
    leave = [int(rows[0]) - 1 if len(rows) else None for rows in leg_rows] + [len(t) - 1]
    for k in range(n):
        if arrive[k] is not None:
            i = arrive[k]
            if abs(plan.arrival_s[k] - t[i]) > CHECK_TIME_TOL_S:
                out.append(
                    f"stop {k}: the plan says arrival at {plan.arrival_s[k]:.6f} s, "
                    f"the timeline {t[i]:.6f} s"
                )
            if abs(plan.soc_arrival_wh[k] - soc[i]) > CHECK_SOC_TOL:
                out.append(
                    f"stop {k}: the plan says {plan.soc_arrival_wh[k]:.6f} Wh on arrival, "
                    f"the timeline {soc[i]:.6f} Wh"
                )
        if leave[k] is not None and abs(plan.departure_s[k] - t[leave[k]]) > CHECK_TIME_TOL_S:
            out.append(
                f"stop {k}: the plan says departure at {plan.departure_s[k]:.6f} s, "
                f"the timeline {t[leave[k]]:.6f} s"
            )
    return out


def _check_totals(plan: TraversePlan, tl: dict, transform) -> list[str]:
    out = []
    value = float(np.sum(plan.stops.value))
    if abs(plan.value - value) > 1e-9 * max(1.0, abs(value)):
        out.append(f"the plan says value {plan.value:.9g}, its stops add up to {value:.9g}")
    dist = 0.0
    for leg in plan.legs:
        leg = np.asarray(leg)
        for (r0, c0), (r1, c1) in zip(leg[:-1], leg[1:], strict=True):
            dist += _step_m(transform, r0, c0, r1, c1)
    if abs(plan.distance_m - dist) > 1e-6 * max(1.0, dist):
        out.append(f"the plan says {plan.distance_m:.6f} m driven, its legs measure {dist:.6f} m")
    duration = float(tl["t_s"][-1] - tl["t_s"][0])
    if abs(plan.duration_s - duration) > CHECK_TIME_TOL_S:
        out.append(f"the plan says it lasts {plan.duration_s:.6f} s, the timeline {duration:.6f} s")
    return out


__all__ = [
    "NoPathError",
    "Operations",
    "RoverModel",
    "TraversePlan",
    "check_plan",
    "plan_traverse",
    "too_risky_to_enter",
]
