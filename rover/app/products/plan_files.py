"""A traverse plan's files: ``traverse.geojson``, ``timeline.csv``, ``plan.txt`` and the maps."""

from __future__ import annotations

import csv
import io
import pathlib
from typing import Any

import numpy as np

from frigoris.planners.traverse import too_risky_to_enter
from frigoris.terrain import point_features, write_geojson, write_text
from frigoris.terrain.crs import crs_to_lunar
from frigoris.terrain.hazard import HazardMap

from ...operations import BUDGET_OF_ACTIVITY, risk_layer
from ...planning import PlanResult
from ..formats import utc_at
from . import figures
from .ops_files import OPS_FILES, write_ops_files

__all__ = ["PLAN_FILES", "ops_lines", "plan_summary", "plan_text", "write_plan"]

PLAN_FILES = (
    "traverse.geojson",
    "timeline.csv",
    "plan.png",
    "timeline.png",
    "plan.txt",
    *OPS_FILES,
)
"""Every file a traverse plan writes (the operations files with an operations spec)."""


def _budget_of(result: PlanResult, *, shifts: str = "time"):
    """What each timeline activity spends.

    ``window`` is the link's, or the shifts' (named ``shifts``).
    """
    if result.segment is None:
        return None
    window = result.segment.budgets.get("window_is", "time")
    window = shifts if window == "time" else window
    return {k: (window if v == "window" else v) for k, v in BUDGET_OF_ACTIVITY.items()}


def _waypoint_rows(tl: dict[str, np.ndarray], spacing_m: float, res_m: float) -> np.ndarray:
    """Timeline rows to keep: every event that is not a drive step, and drives every few metres."""
    keep = np.zeros(len(tl["t_s"]), dtype=bool)
    since = 0.0
    for i, act in enumerate(tl["activity"]):
        if act != "drive" or tl["stop"][i] >= 0:
            keep[i] = True
            since = 0.0
            continue
        since += res_m * np.hypot(tl["row"][i] - tl["row"][i - 1], tl["col"][i] - tl["col"][i - 1])
        if since >= spacing_m - 1e-9:
            keep[i] = True
            since = 0.0
    return np.nonzero(keep)[0]


def write_plan(
    result: PlanResult,
    hm: HazardMap,
    out_dir: pathlib.Path,
    *,
    spacing_m: float = 2.0,
    hazard_path: pathlib.Path | None = None,
    final_dir: pathlib.Path | None = None,
    horizons_path: pathlib.Path | None = None,
    previous: dict[str, Any] | None = None,
    changes: list[str] | None = None,
) -> dict[str, pathlib.Path]:
    """traverse.geojson, timeline.csv, plan.png, timeline.png and plan.txt.

    A plan made with an operations spec also writes its command sequence (``sequence.json``,
    ``sequence.csv``) and what a replan needs (``plan_state.json``, ``horizons.npy`` unless
    ``horizons_path`` names an existing one): see :func:`.ops_files.write_ops_files` for
    ``hazard_path``, ``final_dir`` and ``previous``. ``changes`` (a replan against its previous
    plan) go into ``plan.txt``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plan, start, dem = result.plan, result.start_time, hm.grid
    tl = plan.timeline
    crs = dem.crs
    comm = hm.comm_ok()
    features: list[dict[str, Any]] = []
    for k, cells in enumerate(plan.legs):
        rows_k = np.nonzero(tl["leg"] == k)[0]
        sel = cells[:: max(1, int(round(spacing_m / dem.res_m)))]
        if not np.array_equal(sel[-1], cells[-1]):
            sel = np.vstack([sel, cells[-1]])
        x, y = dem.xy(sel[:, 0], sel[:, 1])
        # a leg of zero length (a stop on the start cell) has no timeline rows
        soc = tl["soc_wh"][rows_k] if rows_k.size else plan.soc_arrival_wh[k + 1 : k + 2]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": np.c_[x, y].round(3).tolist()},
                "properties": {
                    "kind": "leg",
                    "leg": k,
                    "from_stop": k,
                    "to_stop": k + 1,
                    "depart_utc": utc_at(start, plan.departure_s[k]),
                    "arrive_utc": utc_at(start, plan.arrival_s[k + 1]),
                    "length_m": round(
                        float(dem.res_m * np.hypot(*np.diff(cells, axis=0).T).sum()), 2
                    ),
                    "energy_wh": round(
                        float(plan.soc_arrival_wh[k + 1] - soc[0]) if rows_k.size else 0.0, 3
                    ),
                    "soc_min_wh": round(float(np.min(soc)), 3),
                    "max_hazard_cost": round(float(np.max(hm.cost[cells[:, 0], cells[:, 1]])), 3),
                },
            }
        )
    s = plan.stops
    features += point_features(
        crs,
        s.x,
        s.y,
        kind=list(s.kind),
        stop=list(range(len(s))),
        value=np.round(s.value, 3),
        reason=list(s.reason),
        arrival_utc=[utc_at(start, t) for t in plan.arrival_s],
        departure_utc=[utc_at(start, t) for t in plan.departure_s],
        soc_arrival_wh=np.round(plan.soc_arrival_wh, 3),
        dwell_s=s.dwell_s,
    )
    outputs = {
        "traverse": write_geojson(
            out_dir / "traverse.geojson",
            features,
            crs,
            properties={
                "start_utc": utc_at(start, 0.0),
                "value": plan.value,
                "distance_m": plan.distance_m,
                "reason": plan.reason,
            },
        )
    }
    idx = _waypoint_rows(tl, spacing_m, dem.res_m)
    lat, lon = crs_to_lunar(crs, tl["x"][idx], tl["y"][idx])
    az, el, _ = result.solar.sun_at(tl["t_s"][idx])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "t_utc",
            "t_s",
            "day",
            "x_m",
            "y_m",
            "lat_deg",
            "lon_deg",
            "activity",
            "leg",
            "stop",
            "soc_wh",
            "sun_elevation_deg",
            "solar_w",
            "comm_ok",
            "hazard_cost",
            "budget",
        ]
    )
    budget_of = _budget_of(result) or {}
    for n, i in enumerate(idx):
        r, c = tl["row"][i], tl["col"][i]
        w.writerow(
            [
                utc_at(start, tl["t_s"][i]),
                round(float(tl["t_s"][i]), 1),
                int(tl["t_s"][i] // 86400) + 1,
                round(float(tl["x"][i]), 3),
                round(float(tl["y"][i]), 3),
                round(float(np.atleast_1d(lat)[n]), 7),
                round(float(np.atleast_1d(lon)[n]), 7),
                tl["activity"][i],
                int(tl["leg"][i]),
                int(tl["stop"][i]),
                round(float(tl["soc_wh"][i]), 4),
                round(float(np.atleast_1d(el)[n]), 3),
                round(float(tl["solar_w"][i]), 3),
                int(bool(comm[r, c])) if comm is not None else "",
                round(float(tl["cost"][i]), 4),
                budget_of.get(str(tl["activity"][i]), ""),
            ]
        )
    outputs["timeline"] = write_text(out_dir / "timeline.csv", buf.getvalue())
    outputs["plan_png"] = figures.plan_figure(
        hm,
        plan,
        out_dir / "plan.png",
        title=(
            f"Traverse plan from {utc_at(start, 0)}: {len(plan.stops) - 1} stops, "
            f"{plan.distance_m:.0f} m in {plan.duration_s / 86400.0:.1f} days"
        ),
        unplanned=result.unplanned_targets,
        seen=result.hazards,
        closed=_closed_by_cycle_risk(hm, result),
    )
    outputs["timeline_png"] = figures.timeline_figure(
        plan,
        result.solar,
        start,
        out_dir / "timeline.png",
        rover=result.rover,
        budget_of=_budget_of(result, shifts="shift"),
    )
    outputs["summary"] = write_text(out_dir / "plan.txt", plan_text(result, changes=changes))
    if result.segment is not None:
        outputs.update(
            write_ops_files(
                result,
                out_dir,
                crs,
                hazard_path=hazard_path,
                final_dir=final_dir,
                horizons_path=horizons_path,
                previous=previous,
            )
        )
    return outputs


def plan_summary(result: PlanResult) -> dict[str, Any]:
    """Numbers worth printing about a plan."""
    p = result.plan
    kinds: dict[str, int] = {}
    for k in p.stops.kind[1:]:
        kinds[k] = kinds.get(k, 0) + 1
    return {
        "candidates": len(result.candidates),
        "stops": len(p.stops) - 1,
        "stops_by_kind": ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none",
        "plan_value": round(p.value, 2),
        "distance_m": round(p.distance_m, 1),
        "duration_h": round(p.duration_s / 3600.0, 2),
        "end_utc": utc_at(result.start_time, p.duration_s),
        "lowest_soc_wh": round(float(np.min(p.timeline["soc_wh"])), 2),
        "dropped_after_simulation": len(p.dropped),
        "checked": "passed check_plan"
        + (" and the flight rules" if result.segment is not None else ""),
        **(_ops_summary(result) if result.segment is not None else {}),
        **({"empty_reason": p.reason} if p.reason else {}),
        **(
            {
                "targets_not_planned": "; ".join(
                    f"{name}: {why}" for name, why, _, _ in result.unplanned_targets
                )
            }
            if result.unplanned_targets
            else {}
        ),
    }


def _ops_summary(result: PlanResult) -> dict[str, Any]:
    seg = result.segment
    b = seg.budgets
    waived = [str(v) for v in seg.violations if v.waived]
    return {
        "command_cycles": b["cycles"],
        "commanding_window_h_per_day": b["commanding_window_h_per_day"],
        "binding_budget": b["binding_text"],
        "hours_parked_by_budget": b["parked_hours_by_budget"],
        "data_sent_mbit": b["data_sent_mbit"],
        **({"waived_violations": "; ".join(waived)} if waived else {}),
    }


def _hours(h: float) -> str:
    return f"{h:.1f} h"


def ops_lines(result: PlanResult) -> list[str]:
    """The cadence, the budgets and the flight rules' verdict, as lines of text."""
    seg, ctx = result.segment, result.context
    if seg is None:
        return []
    b, o = seg.budgets, ctx.ops
    hrs = b["hours"]
    lines = [
        f"Command cycles: {b['cycles']} (at most {ctx.rover.max_drive_per_command_m:g} m each; "
        f"images {o.nav_bits / 1e6:.1f} Mbit at {o.link_bit_s / 1e3:g} kbit/s, ground "
        f"{o.ground_processing_s / 3600:g} h, uplink {o.uplink_s:.0f} s; commanding window "
        f"{b['commanding_window_h_per_day']:g} h per Earth day)",
        "Time: "
        + ", ".join(
            f"{name} {_hours(hrs.get(key, 0.0))}"
            for name, key in (
                ("driving", "drive"),
                ("at stops", "stops"),
                ("sending images", "data"),
                ("ground work and uplink", "time"),
                ("outside the commanding window", "window"),
                ("waiting for the Sun", "sun"),
                ("charging", "battery"),
            )
        ),
        f"Binding budget: {b['binding_text']}. Data sent {b['data_sent_mbit']:.0f} Mbit of "
        f"{b['relay_capacity_mbit']:.0f} Mbit the relay could carry; lowest battery "
        f"{b['lowest_battery_wh']:.1f} Wh (reserve {b['reserve_wh']:g} Wh); the plan ends "
        f"{b['plan_ends_h']:.0f} h into the {b['mission_h']:.0f} h left.",
    ]
    broken = [v for v in seg.violations if not v.waived]
    lines.append(
        "Command sequence: "
        + ("REFUSED: " + "; ".join(map(str, broken)) if broken else "passed every flight rule")
        + f" ({sum(seg.sequence['counts'].values())} commands in sequence.json)"
    )
    for r, why in ctx.waivers:
        hit = [str(v) for v in seg.violations if v.rule == r]
        lines.append(
            f"Waived: {r} ({why})" + (f": {hit[0]}" if hit else ": not broken by this plan")
        )
    return lines


def plan_text(result: PlanResult, *, changes: list[str] | None = None) -> str:
    """A short human-readable account of the plan, stop by stop."""
    p, start = result.plan, result.start_time
    lines = [
        f"Traverse plan from {utc_at(start, 0)}: {len(p.stops) - 1} stops, "
        f"{p.distance_m:.0f} m, value {p.value:.1f}, ends {utc_at(start, p.duration_s)}"
    ]
    lines += ops_lines(result)
    if changes:
        lines.append("What changed against the previous plan:")
        lines += [f"  {c}" for c in changes]
    if p.reason:
        lines.append(f"Empty plan: {p.reason}")
    for k in range(1, len(p.stops)):
        lines.append(
            f"{k:3d}. {utc_at(start, p.arrival_s[k])}  {p.stops.kind[k]:9s} "
            f"value {p.stops.value[k]:5.1f}  battery {p.soc_arrival_wh[k]:5.1f} Wh  "
            f"{p.stops.reason[k]}"
        )
    for d in p.dropped:
        lines.append(f"dropped: {d}")
    if result.unplanned_targets:
        lines.append("User targets not in the plan:")
        lines += [f"  {name}: {why}" for name, why, _, _ in result.unplanned_targets]
    return "\n".join(lines) + "\n"


def _closed_by_cycle_risk(hm: HazardMap, result: PlanResult) -> tuple[np.ndarray, float] | None:
    """Cells outside keep-out that no path enters, and the per-cycle risk limit that closes them.

    The planner's own rule (one step riskier than a command cycle may be); None without a
    cadence.
    """
    if result.segment is None:
        return None
    rules = result.segment.rules
    closed = too_risky_to_enter(
        risk_layer(hm), hm.grid.res_m, rules.footprint_m, rules.max_cycle_risk
    )
    return closed & ~hm.keepout, rules.max_cycle_risk
