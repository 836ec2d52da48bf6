"""Replanning from telemetry: the rest of the mission from where the rover actually is.

A ground team gets telemetry (time, position, heading, battery, the stops made, the last command
executed) and the hazards the rover's cameras saw. :func:`replan` plans again from that state:

- it starts exactly at the telemetry pose (in the cell that holds it), time and battery;
- stops made stay made: never proposed again, and they count for the diminishing returns of
  their kind;
- every rover-seen hazard is keep-out, widened by the rover's half-diagonal (configuration
  space, as the hazard map's own keep-out); candidate stops inside one are dropped;
- the budget is the rest of the mission's time and the battery as reported;
- the plan has the same cadence, flight rules and waivers as the one it replaces, and its
  command sequence passes the same independent checker.

Telemetry that cannot be right (a position off the map or in keep-out, a time before the plan
it updates or after the mission, a battery above capacity) is refused with one line naming the
value (:class:`~.errors.TelemetryError`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import shapely

from frigoris.planners.stops import Candidates, StopRules
from frigoris.terrain import Dem
from frigoris.terrain.hazard import HazardMap
from frigoris.terrain.illumination import HorizonMap

from .energy import SolarModel
from .errors import SpecError, TelemetryError
from .operations import OpsContext, PlanLayers, plan_segment
from .planning import PlanResult, _unplanned_targets
from .progress import ProgressCallback, no_progress
from .specs import LanderSpec, OpsSpec, RoverSpec

__all__ = [
    "ReplanResult",
    "SeenHazard",
    "Telemetry",
    "candidates_from_state",
    "context_from_state",
    "hazard_keepout",
    "replan",
]


@dataclass(frozen=True)
class Telemetry:
    """The rover's state as the ground knows it.

    Attributes
    ----------
    time : datetime
        When the state holds (aware UTC).
    x_m, y_m : float
        Position in the map's CRS (a ``latlon:`` position is converted on reading).
    heading_deg : float
        Degrees clockwise from grid north.
    battery_wh : float
    stops_done : tuple of int
        Stops of the plan being updated that the rover has made (their numbers in it).
    commands_executed : str or None
        The last command of that plan's sequence the rover executed (its id), if reported.
    position_text : str
        The position as written (``xy:X,Y`` or ``latlon:LAT,LON``).
    """

    time: datetime
    x_m: float
    y_m: float
    heading_deg: float
    battery_wh: float
    stops_done: tuple[int, ...] = ()
    commands_executed: str | None = None
    position_text: str = ""


@dataclass(frozen=True)
class SeenHazard:
    """A hazard the rover's cameras saw: its outline in map metres, its size, its name."""

    geometry: Any
    size_m: float
    name: str

    def feature(self) -> dict[str, Any]:
        """A GeoJSON feature in map coordinates."""
        return {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(self.geometry),
            "properties": {"name": self.name, "size_m": round(self.size_m, 3)},
        }

    @classmethod
    def from_feature(cls, f: dict[str, Any]) -> SeenHazard:
        """Inverse of :meth:`feature`."""
        props = f.get("properties") or {}
        return cls(
            shapely.geometry.shape(f["geometry"]),
            float(props.get("size_m", 0.0)),
            str(props.get("name", "")),
        )


@dataclass(frozen=True, eq=False)
class ReplanResult:
    """The new plan and what changed against the one it replaces."""

    result: PlanResult
    changes: tuple[str, ...]
    telemetry: Telemetry
    new_hazards: tuple[SeenHazard, ...]


def hazard_keepout(hazards, grid: Dem, margin_m: float) -> np.ndarray:
    """Cells within ``margin_m`` of any hazard (points with their size, or outlines).

    A point hazard of size ``D`` keeps out a disc of ``D / 2 + margin_m``; an outline is
    widened by ``margin_m``. ``margin_m`` is the rover's half-diagonal: the planner then moves
    the rover as a point (configuration space), as with the hazard map's own keep-out.
    """
    out = np.zeros(grid.shape, dtype=bool)
    for h in hazards:
        g = h.geometry
        if g.geom_type == "Point":
            shape = g.buffer(0.5 * h.size_m + margin_m, quad_segs=16)
        else:
            shape = g.buffer(margin_m, quad_segs=16)
        x0, y0, x1, y1 = shape.bounds
        r_a, c_a = grid.rowcol(x0, y1)
        r_b, c_b = grid.rowcol(x1, y0)
        r0, r1 = max(min(r_a, r_b), 0), min(max(r_a, r_b) + 1, grid.shape[0])
        c0, c1 = max(min(c_a, c_b), 0), min(max(c_a, c_b) + 1, grid.shape[1])
        if r0 >= r1 or c0 >= c1:
            continue
        rows, cols = np.mgrid[r0:r1, c0:c1]
        cx, cy = grid.xy(rows, cols)
        out[r0:r1, c0:c1] |= shapely.contains_xy(shape, cx, cy) | shapely.intersects_xy(
            shape, cx, cy
        )
    return out


def _spec(cls, d: dict[str, Any]):
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        spec = cls(**{k: v for k, v in d.items() if k in names})
        spec.validate()
    except (TypeError, SpecError) as err:
        raise SpecError(f"plan_state.json: its {cls.__name__} is damaged ({err})") from None
    return spec


def context_from_state(state: dict[str, Any]) -> OpsContext:
    """The specs, stop rules, mission end, seed and waivers a plan state recorded."""
    rules_d = dict(state["stop_rules"])
    rules_d["moonhouse_range_m"] = tuple(rules_d["moonhouse_range_m"])
    names = {f.name for f in dataclasses.fields(StopRules)}
    return OpsContext(
        rover=_spec(RoverSpec, state["rover"]),
        lander=_spec(LanderSpec, state["lander"]),
        ops=_spec(OpsSpec, state["operations"]),
        rules=StopRules(**{k: v for k, v in rules_d.items() if k in names}),
        mission_end=_utc(state["mission_end_utc"]),
        seed=int(state["seed"]),
        time_limit_s=float(state["time_limit_s"]),
        waivers=tuple((w["rule"], w["reason"]) for w in state.get("waivers", [])),
    )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def candidates_from_state(state: dict[str, Any], grid: Dem) -> Candidates:
    """The candidate stops a plan state recorded, on ``grid``."""
    c = state["candidates"]
    x = np.asarray(c["x_m"], dtype=np.float64)
    y = np.asarray(c["y_m"], dtype=np.float64)
    rows, cols = grid.rowcol(x, y) if x.size else (np.zeros(0, int), np.zeros(0, int))
    return Candidates(
        x,
        y,
        np.c_[np.atleast_1d(rows), np.atleast_1d(cols)].astype(np.int64),
        tuple(c["kind"]),
        np.asarray(c["value"], dtype=np.float64),
        np.asarray(c["dwell_s"], dtype=np.float64),
        tuple(c["reason"]),
        tuple(c["names"]),
    )


def _same(a: dict[str, Any], kind: str, x: float, y: float) -> bool:
    return a["kind"] == kind and math.hypot(a["x_m"] - x, a["y_m"] - y) < 1e-3


def replan(
    state: dict[str, Any],
    hm: HazardMap,
    horizons: HorizonMap,
    telemetry: Telemetry,
    hazards: tuple[SeenHazard, ...] = (),
    *,
    progress: ProgressCallback = no_progress,
) -> ReplanResult:
    """Plan the rest of the mission from telemetry (see the module notes).

    Parameters
    ----------
    state : dict
        The ``plan_state.json`` of the plan being updated.
    hm : HazardMap
        The hazard map that plan was made on.
    horizons : HorizonMap
        Its horizon map (``horizons.npy``).
    telemetry : Telemetry
    hazards : tuple of SeenHazard
        New rover-seen hazards (the state's earlier ones are kept out too).

    Raises
    ------
    TelemetryError
        The telemetry cannot be right (see the module notes), or a stop it says is done is not
        a stop of the plan.
    SequenceError
        The new sequence breaks a flight rule no waiver covers.
    """
    ctx = context_from_state(state)
    grid = hm.grid
    prev_start = _utc(state["plan_start_utc"])
    t = telemetry.time
    if t < prev_start:
        raise TelemetryError(
            f"telemetry time {t:%Y-%m-%dT%H:%M:%SZ} is before the plan it updates starts "
            f"({state['plan_start_utc']}): time cannot go backwards"
        )
    if t >= ctx.mission_end:
        raise TelemetryError(
            f"telemetry time {t:%Y-%m-%dT%H:%M:%SZ} is at or after the mission's end "
            f"({state['mission_end_utc']}): nothing is left to plan"
        )
    cap = ctx.rover.battery_wh
    if not (math.isfinite(telemetry.battery_wh) and 0.0 <= telemetry.battery_wh <= cap):
        raise TelemetryError(
            f"telemetry battery {telemetry.battery_wh:g} Wh is outside [0, {cap:g}] "
            f"({ctx.rover.name}'s capacity); report the battery's charge in Wh"
        )
    if not math.isfinite(telemetry.heading_deg):
        raise TelemetryError(f"telemetry heading {telemetry.heading_deg!r} is not a number")
    x, y = telemetry.x_m, telemetry.y_m
    where = telemetry.position_text or f"xy:{x:g},{y:g}"
    if not grid.contains(x, y):
        b = grid.bounds
        raise TelemetryError(
            f"telemetry position {where} is off the map (x {b.left:.6g} to {b.right:.6g}, y "
            f"{b.bottom:.6g} to {b.top:.6g} m): check its coordinates"
        )
    old = tuple(SeenHazard.from_feature(f) for f in state.get("hazards", []))
    all_hazards = old + tuple(hazards)
    layers = PlanLayers.from_hazard(hm, ctx.ops)
    extra = hazard_keepout(all_hazards, grid, ctx.rover.half_diagonal_m) if all_hazards else None
    layers = layers.with_keepout(extra)
    cell = grid.rowcol(x, y)
    if layers.keepout[cell]:
        why = "a hazard the rover saw" if extra is not None and extra[cell] else "keep-out"
        raise TelemetryError(
            f"telemetry position {where} is in {why}: the rover cannot be there as a point of "
            "the plan; check the position or the hazards"
        )
    prev_stops = state["stops"]
    done = list(state.get("done", []))
    for k in telemetry.stops_done:
        if not (isinstance(k, int) and 1 <= k < len(prev_stops)):
            raise TelemetryError(
                f"telemetry says stop {k!r} is done, but the plan it updates has stops 1 to "
                f"{len(prev_stops) - 1}; give their numbers from plan.txt or traverse.geojson"
            )
        s = prev_stops[k]
        if not any(_same(d, s["kind"], s["x_m"], s["y_m"]) for d in done):
            done.append(
                {
                    "kind": s["kind"],
                    "name": s.get("name", ""),
                    "x_m": s["x_m"],
                    "y_m": s["y_m"],
                    "reported_utc": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
    cand_all = candidates_from_state(state, grid)
    keep = [
        i
        for i in range(len(cand_all))
        if not any(_same(d, cand_all.kind[i], cand_all.x[i], cand_all.y[i]) for d in done)
        and (extra is None or not extra[tuple(cand_all.cells[i])])
    ]
    removed_by_hazards = sum(
        1 for i in range(len(cand_all)) if extra is not None and extra[tuple(cand_all.cells[i])]
    )
    cand = cand_all.subset(keep)
    done_kinds: dict[str, int] = {}
    for d in done:
        done_kinds[d["kind"]] = done_kinds.get(d["kind"], 0) + 1
    progress(0.05, "solar power")
    rest = (ctx.mission_end - t).total_seconds()
    solar = SolarModel.build(grid, horizons, ctx.rover, t, rest)
    seg = plan_segment(
        layers,
        cand,
        solar,
        ctx,
        start_time=t,
        start_cell=cell,
        start_soc_wh=telemetry.battery_wh,
        start_heading_deg=telemetry.heading_deg % 360.0,
        start_xy=(x, y),
        done_kinds=done_kinds,
        progress=lambda f, s="": progress(0.1 + 0.85 * f, s),
    )
    result = PlanResult(
        seg.plan,
        cand,
        solar,
        t,
        _unplanned_targets(hm, cand, seg.plan, cell),
        seg.rover,
        segment=seg,
        context=ctx,
        horizons=horizons,
        start_heading_deg=telemetry.heading_deg % 360.0,
        start_xy=(x, y),
        camera_azimuth_deg=state.get("camera_azimuth_deg"),
        done=tuple(done),
        hazards=tuple(h.feature() for h in all_hazards),
    )
    changes = _changes(state, result, telemetry, hazards, removed_by_hazards)
    progress(1.0, "replanned")
    return ReplanResult(result, tuple(changes), telemetry, tuple(hazards))


def _changes(state, result: PlanResult, tel: Telemetry, hazards, removed: int) -> list[str]:
    """What changed against the previous plan, line by line."""
    p = result.plan
    prev = state["stops"]
    done_now = set(tel.stops_done)
    lines = [
        f"telemetry {tel.time:%Y-%m-%dT%H:%M:%SZ}: rover at ({tel.x_m:.2f}, {tel.y_m:.2f}) m "
        f"({tel.position_text or 'map'}), heading {tel.heading_deg % 360:.0f} deg, battery "
        f"{tel.battery_wh:.1f} Wh"
        + (f", after command {tel.commands_executed}" if tel.commands_executed else "")
    ]
    if done_now:
        lines.append(
            "done since the previous plan: "
            + ", ".join(f"{k} ({prev[k]['kind']})" for k in sorted(done_now))
        )
    new = [
        (p.stops.kind[k], float(p.stops.x[k]), float(p.stops.y[k])) for k in range(1, len(p.stops))
    ]
    old = [s for s in prev[1:] if s["stop"] not in done_now]
    kept = [s for s in old if any(_same(s, *n) for n in new)]
    dropped = [s for s in old if not any(_same(s, *n) for n in new)]
    added = [n for n in new if not any(_same(s, *n) for s in old)]
    lines.append(f"stops kept: {len(kept)} of the {len(old)} not yet made")
    for s in dropped:
        lines.append(f"dropped: stop {s['stop']} ({s['kind']} at {s['x_m']:.1f}, {s['y_m']:.1f})")
    for kind, x, y in added:
        lines.append(f"added: {kind} at {x:.1f}, {y:.1f}")
    lines.append(
        f"distance: {state['distance_m']:.0f} m in the previous plan (from its start), "
        f"{p.distance_m:.0f} m now from the telemetry pose"
    )
    end = result.start_time + timedelta(seconds=float(p.duration_s))
    lines.append(f"end: {state['end_utc']} before, {end:%Y-%m-%dT%H:%M:%SZ} now")
    if hazards:
        lines.append(
            f"new hazards kept out: {len(hazards)} ({removed} candidate stop(s) inside them "
            "removed)"
        )
    return lines
