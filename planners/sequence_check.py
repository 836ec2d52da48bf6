"""The flight rules of a command sequence, checked before anything is uplinked or written.

:func:`check_sequence` reads a sequence *document* (the plain dict that becomes
``sequence.json``) and judges it against the rasters (keep-out, risk, link margin), the grid
transform, the Sun, the solar power model and the :class:`FlightRules` of the mission. It
shares no code with the planner or with the module that builds sequences: it has its own cell
lookup, window arithmetic, cycle bookkeeping and battery integration, and it takes the limits
from the caller, never from the document (a document could state any limits it likes).

Rules (each violation names one; the first of each rule is reported, with the count):

- ``clock``: commands follow one another without gaps or overlaps from time 0, none runs
  backwards, the last ends within the mission;
- ``continuity``: each command starts where the previous one ended (the first drive in the cell
  of the start pose), parked commands do not move, a drive's segments retrace its path;
- ``speed``: no drive is faster than the rover;
- ``cycle_distance``: the drive between two uplinks is at most ``max_drive_per_cycle_m``;
- ``keepout``: every point of every drive, and every parked position, is on the map and outside
  keep-out;
- ``risk``: between two uplinks, the chance of meeting a hazard the DEM cannot show (each drive
  step a trial per footprint length at the risk of the cell it ends in) is at most
  ``max_cycle_risk``;
- ``link``: every drive point and every downlink position has at least ``min_link_margin_db``;
- ``battery``: the battery re-integrated command by command (drive power while driving, idle
  power otherwise, solar power at each interval's midpoint at the rover's cell; parked
  intervals split at every multiple of ``energy_step_s`` of plan time, drive intervals at every
  path point; capped at capacity) matches what each command states and never falls below the
  reserve (or below the start, when the sequence starts under it);
- ``data``: every downlink carries at most the link's rate for its duration, inside the relay
  window, never more than the images waiting, and the images of a cycle are all on the ground
  before the ground's work on them starts;
- ``turnaround``: before every uplink the ground has had ``ground_s + uplink_s`` of commanding
  window since the images reached it, and the rover does nothing but wait meanwhile;
- ``window``: drives, the ground's work and uplinks happen inside the commanding window;
- ``sun``: no drive, stop activity or image with the Sun below ``min_sun_elevation_deg``.

A rule can be waived by name (``waived``): its violations are still returned, marked waived,
and :func:`blocking` leaves them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import PlanningError

__all__ = ["RULES", "FlightRules", "Violation", "blocking", "check_sequence"]

RULES = (
    "clock",
    "continuity",
    "speed",
    "cycle_distance",
    "keepout",
    "risk",
    "link",
    "battery",
    "data",
    "turnaround",
    "window",
    "sun",
)
"""Every rule :func:`check_sequence` enforces, by name (the names a waiver may use)."""

SEQ_TIME_TOL_S = 1e-6
"""Slack on times: sums of thousands of float steps (about 1e-9 s off), never a real margin."""
SEQ_POS_TOL_M = 1e-6
"""Slack on positions (float rounding of map coordinates)."""
SEQ_REL_TOL = 1e-9
"""Relative slack on distances, rates and probabilities (float rounding)."""
SEQ_SOC_TOL = 1e-6
"""Slack on the battery, as a fraction of its capacity (float rounding of the integration)."""
SEQ_BITS_TOL = 1e-6
"""Relative slack on data volumes (float rounding of rate times duration)."""

_DAY_S = 86400.0
_PARKED_ACTIVITY = ("scoop", "place_moonhouse", "observe")


@dataclass(frozen=True)
class FlightRules:
    """The limits a sequence must meet (from the rover, lander and operations specs).

    Window starts are hours after plan time 0 (each window repeats every 24 h).
    """

    max_drive_per_cycle_m: float
    speed_m_s: float
    battery_wh: float
    reserve_wh: float
    drive_power_w: float
    idle_power_w: float
    max_cycle_risk: float
    footprint_m: float
    min_link_margin_db: float
    min_sun_elevation_deg: float
    link_bit_s: float
    ground_s: float
    uplink_s: float
    window_start_h: float
    window_length_h: float
    relay_start_h: float
    relay_length_h: float
    mission_s: float
    energy_step_s: float = 300.0


@dataclass(frozen=True)
class Violation:
    """One broken rule: its name, what broke, where, how often, and whether it is waived."""

    rule: str
    message: str
    count: int = 1
    waived: bool = False

    def __str__(self) -> str:
        more = f" (and {self.count - 1} more)" if self.count > 1 else ""
        return f"{self.rule}: {self.message}{more}" + (" [waived]" if self.waived else "")


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    """The violations no waiver covers: a sequence with any is never uplinked nor written."""
    return [v for v in violations if not v.waived]


class _Found:
    """The first violation of each rule, and how many there were."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}
        self.count: dict[str, int] = {}

    def add(self, rule: str, message: str) -> None:
        self.first.setdefault(rule, message)
        self.count[rule] = self.count.get(rule, 0) + 1

    def result(self, waived: set[str]) -> list[Violation]:
        return [
            Violation(r, self.first[r], self.count[r], r in waived)
            for r in RULES
            if r in self.first
        ]


def _inverse(transform) -> Callable[[float, float], tuple[int, int]]:
    a, b, c, d, e, f = (
        transform.a,
        transform.b,
        transform.c,
        transform.d,
        transform.e,
        transform.f,
    )
    det = a * e - b * d

    def cell(x: float, y: float) -> tuple[int, int]:
        u = (e * (x - c) - b * (y - f)) / det
        v = (-d * (x - c) + a * (y - f)) / det
        return int(math.floor(v)), int(math.floor(u))

    return cell


def _window_time(t0: float, t1: float, start_h: float, length_h: float) -> float:
    """Seconds of [t0, t1] inside windows opening every 24 h at ``start_h`` for ``length_h``."""
    if t1 <= t0:
        return 0.0
    length = length_h * 3600.0
    if length >= _DAY_S:
        return t1 - t0
    first = start_h * 3600.0
    k = math.floor((t0 - first) / _DAY_S)
    total = 0.0
    while True:
        lo = first + k * _DAY_S
        if lo >= t1:
            return total
        total += max(0.0, min(t1, lo + length) - max(t0, lo))
        k += 1


def _where(cmd: dict[str, Any]) -> str:
    return f"command {cmd.get('id', '?')} ({cmd.get('type', '?')})"


def check_sequence(
    doc: dict[str, Any],
    *,
    rules: FlightRules,
    keepout: np.ndarray,
    risk: np.ndarray,
    link_margin_db: np.ndarray,
    transform,
    solar_w: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    sun_elevation_deg: Callable[[float], float],
    waived: Iterable[str] = (),
) -> list[Violation]:
    """Every flight rule a sequence document breaks (empty when it may be uplinked).

    Parameters
    ----------
    doc : dict
        A sequence document (``sequence.json`` as read, or as built).
    rules : FlightRules
    keepout : ndarray of bool, shape (M, N)
        Keep-out in configuration space (the rover as a point), new hazards included.
    risk : ndarray of shape (M, N)
        Chance per footprint of meeting a hazard the DEM cannot show.
    link_margin_db : ndarray of shape (M, N)
        Radio margin of the link to the lander (``-inf`` where there is none).
    transform : affine.Affine
        The grid's transform (map metres).
    solar_w : callable(t_s, rows, cols) -> watts
        Solar power into the battery at plan times and cells.
    sun_elevation_deg : callable(t_s) -> deg
        Sun elevation at plan time.
    waived : iterable of str
        Rules waived by name: their violations come back with ``waived=True``.

    Returns
    -------
    list of Violation
        In the order of :data:`RULES`.

    Raises
    ------
    PlanningError
        The rasters are not of one grid, a waiver names no rule, or the document is not a
        sequence (missing ``start`` or ``cycles``).
    """
    keepout = np.asarray(keepout, dtype=bool)
    risk = np.asarray(risk)
    margin = np.asarray(link_margin_db)
    if keepout.ndim != 2 or risk.shape != keepout.shape or margin.shape != keepout.shape:
        raise PlanningError(
            f"keepout {keepout.shape}, risk {risk.shape} and link margin {margin.shape} must be "
            "layers of one grid"
        )
    waived = set(waived)
    unknown = sorted(waived - set(RULES))
    if unknown:
        raise PlanningError(f"no flight rule named {unknown[0]!r}; waive one of {list(RULES)}")
    try:
        start = doc["start"]
        commands = [cmd for cyc in doc["cycles"] for cmd in cyc["commands"]]
    except (KeyError, TypeError) as err:
        raise PlanningError(f"not a command sequence: {err!r} is missing") from None
    found = _Found()
    cell_of = _inverse(transform)
    nrows, ncols = keepout.shape

    def on_map(rc: tuple[int, int]) -> bool:
        return 0 <= rc[0] < nrows and 0 <= rc[1] < ncols

    def place_ok(x: float, y: float, what: str) -> tuple[int, int] | None:
        rc = cell_of(x, y)
        if not on_map(rc):
            found.add("keepout", f"{what} at ({x:.3f}, {y:.3f}) is off the map")
            return None
        if keepout[rc]:
            found.add("keepout", f"{what} at ({x:.3f}, {y:.3f}) is in keep-out, cell {rc}")
        return rc

    cap = rules.battery_wh
    soc = float(start["battery_wh"])
    floor_wh = min(rules.reserve_wh, soc)
    soc_tol = SEQ_SOC_TOL * cap
    if soc > cap + soc_tol:
        found.add(
            "battery", f"the sequence starts with {soc:.6f} Wh, above the {cap:g} Wh capacity"
        )
    x, y = float(start["x_m"]), float(start["y_m"])
    here = place_ok(x, y, "the start")
    t_prev = float(start.get("t_s", 0.0))
    if abs(t_prev) > SEQ_TIME_TOL_S:
        found.add("clock", f"the sequence starts at {t_prev:.6f} s, not at 0")
    first_move = True
    cycle_m, cycle_keep = 0.0, 1.0
    queue_bits, produced_bits = 0.0, 0.0
    delivered_at: float | None = None  # when the last images of the cycle reached the ground
    active_since_images = False

    def integrate(t0: float, t1: float, rc: tuple[int, int], draw_w: float, soc0: float) -> float:
        """Battery after parking in cell ``rc`` from t0 to t1 (grid-split intervals)."""
        g = rules.energy_step_s
        cuts = [t0]
        k = math.floor(t0 / g) + 1
        while k * g < t1 - 1e-9:
            if k * g > t0 + 1e-9:
                cuts.append(k * g)
            k += 1
        cuts.append(t1)
        a = np.asarray(cuts[:-1])
        b = np.asarray(cuts[1:])
        rr = np.full(a.shape, rc[0])
        cc = np.full(a.shape, rc[1])
        p = np.asarray(solar_w(0.5 * (a + b), rr, cc), dtype=np.float64)
        s = soc0
        for pi, dt in zip(p, b - a, strict=True):
            s = min(cap, s + (pi - draw_w) * dt / 3600.0)
        return s

    for cmd in commands:
        kind = cmd.get("type")
        where = _where(cmd)
        t0, t1 = float(cmd["t_start_s"]), float(cmd["t_end_s"])
        if abs(t0 - t_prev) > SEQ_TIME_TOL_S:
            found.add(
                "clock", f"{where} starts at {t0:.6f} s, the previous ended at {t_prev:.6f} s"
            )
        if t1 < t0 - SEQ_TIME_TOL_S:
            found.add("clock", f"{where} ends at {t1:.6f} s, before it starts at {t0:.6f} s")
        if t1 > rules.mission_s + SEQ_TIME_TOL_S:
            found.add(
                "clock", f"{where} ends at {t1:.6f} s, after the mission's {rules.mission_s:.6f} s"
            )
        t_prev = t1
        ex, ey = float(cmd["x_m"]), float(cmd["y_m"])
        sun_needed = kind == "drive" or kind == "image" or kind in _PARKED_ACTIVITY
        if sun_needed:
            lo = min(sun_elevation_deg(t0), sun_elevation_deg(t1))
            if lo < rules.min_sun_elevation_deg:
                found.add(
                    "sun",
                    f"{where} with the Sun at {lo:.2f} deg, below "
                    f"{rules.min_sun_elevation_deg:g} deg",
                )
        if kind == "drive":
            path = [(float(p[0]), float(p[1])) for p in cmd["path_xy"]]
            if len(path) < 2:
                found.add("continuity", f"{where} has a path of {len(path)} point")
                continue
            p0 = path[0]
            if first_move:
                if here is not None and cell_of(*p0) != here:
                    found.add(
                        "continuity",
                        f"{where} starts at ({p0[0]:.3f}, {p0[1]:.3f}), not in the cell of the "
                        f"rover at ({x:.3f}, {y:.3f})",
                    )
            elif math.hypot(p0[0] - x, p0[1] - y) > SEQ_POS_TOL_M:
                found.add(
                    "continuity",
                    f"{where} starts at ({p0[0]:.3f}, {p0[1]:.3f}), the rover is at "
                    f"({x:.3f}, {y:.3f})",
                )
            first_move = False
            steps = [
                math.hypot(q[0] - p[0], q[1] - p[1])
                for p, q in zip(path[:-1], path[1:], strict=True)
            ]
            length = sum(steps)
            # the segments retrace the path: each starts where the last ended and, run along
            # its heading for its distance, ends on its stated point, which is on the path
            sx, sy = p0
            on_path = {(round(p[0], 6), round(p[1], 6)) for p in path}
            seg_len = 0.0
            for g in cmd.get("segments", []):
                h = math.radians(float(g["heading_deg"]))
                d = float(g["distance_m"])
                tx, ty = sx + d * math.sin(h), sy + d * math.cos(h)
                gx, gy = (float(v) for v in g["to_xy"])
                if math.hypot(tx - gx, ty - gy) > 1e-6 * max(1.0, d) or (
                    (round(gx, 6), round(gy, 6)) not in on_path
                ):
                    found.add(
                        "continuity",
                        f"{where}: the segment heading {float(g['heading_deg']):.3f} deg for "
                        f"{d:.3f} m does not end on the path at ({gx:.3f}, {gy:.3f})",
                    )
                    break
                sx, sy = gx, gy
                seg_len += d
            else:
                if (
                    abs(seg_len - length) > 1e-6 * max(1.0, length)
                    or math.hypot(sx - path[-1][0], sy - path[-1][1]) > SEQ_POS_TOL_M
                ):
                    found.add(
                        "continuity",
                        f"{where}: its segments run {seg_len:.6f} m to ({sx:.3f}, {sy:.3f}), its "
                        f"path {length:.6f} m to ({path[-1][0]:.3f}, {path[-1][1]:.3f})",
                    )
            if math.hypot(ex - path[-1][0], ey - path[-1][1]) > SEQ_POS_TOL_M:
                found.add("continuity", f"{where} ends at ({ex:.3f}, {ey:.3f}), off its path's end")
            duration = t1 - t0
            if length > rules.speed_m_s * max(duration, 0.0) * (1 + SEQ_REL_TOL) + 1e-9:
                found.add(
                    "speed",
                    f"{where} drives {length:.3f} m in {duration:.3f} s, faster than "
                    f"{rules.speed_m_s:g} m/s",
                )
            if _window_time(t0, t1, rules.window_start_h, rules.window_length_h) < (
                duration - SEQ_TIME_TOL_S
            ):
                found.add(
                    "window",
                    f"{where} from {t0:.0f} s to {t1:.0f} s is outside the commanding window",
                )
            cells = []
            for px, py in path:
                rc = cell_of(px, py)
                if not on_map(rc):
                    found.add("keepout", f"{where} leaves the map at ({px:.3f}, {py:.3f})")
                    cells = []
                    break
                if keepout[rc]:
                    found.add(
                        "keepout", f"{where} enters keep-out at ({px:.3f}, {py:.3f}), cell {rc}"
                    )
                if not margin[rc] >= rules.min_link_margin_db:
                    found.add(
                        "link",
                        f"{where} at ({px:.3f}, {py:.3f}) has a link margin of "
                        f"{float(margin[rc]):.2f} dB, below {rules.min_link_margin_db:g} dB",
                    )
                cells.append(rc)
            # energy and risk, step by step along the path (time in proportion to distance)
            if cells:
                scale = duration / length if length > 0 else 0.0
                tk = t0
                for k in range(1, len(path)):
                    dt = steps[k - 1] * scale
                    rc = cells[k]
                    p = float(
                        np.asarray(
                            solar_w(np.array([tk + 0.5 * dt]), np.array([rc[0]]), np.array([rc[1]]))
                        )[0]
                    )
                    soc = min(cap, soc + (p - rules.drive_power_w) * dt / 3600.0)
                    if soc < floor_wh - soc_tol:
                        found.add(
                            "battery",
                            f"{where}: the battery falls to {soc:.6f} Wh at {tk + dt:.0f} s, "
                            f"below the {rules.reserve_wh:g} Wh reserve",
                        )
                    tk += dt
                    r = float(risk[rc])
                    r = 1.0 if not math.isfinite(r) else min(max(r, 0.0), 1.0)
                    cycle_keep *= (1.0 - r) ** (steps[k - 1] / rules.footprint_m)
            cycle_m += length
            if cycle_m > rules.max_drive_per_cycle_m * (1 + SEQ_REL_TOL) + 1e-9:
                found.add(
                    "cycle_distance",
                    f"the command cycle of {where} drives {cycle_m:.3f} m, more than "
                    f"{rules.max_drive_per_cycle_m:g} m",
                )
            if 1.0 - cycle_keep > rules.max_cycle_risk * (1 + SEQ_REL_TOL) + 1e-12:
                found.add(
                    "risk",
                    f"the command cycle of {where} has a {1.0 - cycle_keep:.4f} chance of meeting "
                    f"a hazard the DEM cannot show, above {rules.max_cycle_risk:g}",
                )
            x, y = ex, ey
            here = cell_of(x, y)
            active_since_images = True
        else:
            if math.hypot(ex - x, ey - y) > SEQ_POS_TOL_M:
                found.add(
                    "continuity",
                    f"{where} is parked but ends at ({ex:.3f}, {ey:.3f}), the rover was at "
                    f"({x:.3f}, {y:.3f})",
                )
                x, y = ex, ey
                here = cell_of(x, y)
            rc = place_ok(x, y, where) if kind != "image" else here
            if rc is not None and not on_map(rc):
                rc = None
            if rc is not None and t1 > t0:
                soc = integrate(t0, t1, rc, rules.idle_power_w, soc)
                if soc < floor_wh - soc_tol:
                    found.add(
                        "battery",
                        f"{where}: the battery falls to {soc:.6f} Wh by {t1:.0f} s, below the "
                        f"{rules.reserve_wh:g} Wh reserve",
                    )
            if kind in _PARKED_ACTIVITY:
                active_since_images = True
            elif kind == "image":
                bits = float(cmd.get("bits", 0.0))
                if bits < 0:
                    found.add("data", f"{where} takes {bits:g} bits")
                queue_bits += bits
                produced_bits += bits
                delivered_at = None
                active_since_images = False
            elif kind == "downlink":
                bits = float(cmd.get("bits", 0.0))
                tol = SEQ_BITS_TOL * max(bits, 1.0)
                if rc is not None and not margin[rc] >= rules.min_link_margin_db:
                    found.add(
                        "link",
                        f"{where} sends from a link margin of {float(margin[rc]):.2f} dB, below "
                        f"{rules.min_link_margin_db:g} dB",
                    )
                if bits > rules.link_bit_s * (t1 - t0) + tol:
                    found.add(
                        "data",
                        f"{where} sends {bits:.0f} bits in {t1 - t0:.3f} s, more than "
                        f"{rules.link_bit_s:g} bit/s allows",
                    )
                if _window_time(t0, t1, rules.relay_start_h, rules.relay_length_h) < (
                    t1 - t0 - SEQ_TIME_TOL_S
                ):
                    found.add("data", f"{where} sends outside the lander's relay window")
                if bits > queue_bits + tol:
                    found.add(
                        "data",
                        f"{where} sends {bits:.0f} bits, only {queue_bits:.0f} are waiting",
                    )
                queue_bits = max(0.0, queue_bits - bits)
                delivered_at = t1  # whether all went down is the data rule's business
            elif kind == "wait" and cmd.get("reason") in ("ground", "uplink"):
                if queue_bits > SEQ_BITS_TOL * max(produced_bits, 1.0):
                    found.add(
                        "data",
                        f"{where}: the ground works while {queue_bits:.0f} bits of the cycle's "
                        "images are still on the rover",
                    )
                if _window_time(t0, t1, rules.window_start_h, rules.window_length_h) < (
                    t1 - t0 - SEQ_TIME_TOL_S
                ):
                    found.add(
                        "window",
                        f"{where} from {t0:.0f} s to {t1:.0f} s is outside the commanding window",
                    )
                if cmd.get("reason") == "uplink":
                    need = rules.ground_s + rules.uplink_s
                    got = (
                        -1.0
                        if delivered_at is None
                        else _window_time(
                            delivered_at, t1, rules.window_start_h, rules.window_length_h
                        )
                    )
                    if active_since_images or got < need - SEQ_TIME_TOL_S:
                        why = (
                            "the rover acts before its images are seen"
                            if active_since_images
                            else "no images reached the ground"
                            if delivered_at is None
                            else f"{got:.1f} s of window since its images reached the ground"
                        )
                        found.add(
                            "turnaround",
                            f"{where} at {t1:.0f} s: {why}, the ground needs {need:.1f} s",
                        )
                    cycle_m, cycle_keep = 0.0, 1.0
                    produced_bits = 0.0
            elif kind not in ("wait", "charge"):
                found.add("continuity", f"{where}: no such command type")
        stated = float(cmd["battery_wh"])
        if abs(stated - soc) > soc_tol:
            found.add(
                "battery",
                f"{where} states {stated:.6f} Wh at its end, the re-integrated battery is "
                f"{soc:.6f} Wh",
            )
            soc = stated  # judge the rest from what is stated, so one slip is one violation
    return found.result(waived)
