"""The plan checker, rule by rule: each case breaks exactly one rule, and its twin stays inside.

Plans here are built by hand, not by the planner: a few cells on a 6 x 12 grid of 0.5 m pixels,
a timeline laid out row by row by the small builder below (its own step lengths, battery sums
and bookkeeping), then one thing changed. Every break asserts that the messages it gets all
belong to the rule it breaks (and at least one does); its twin, just inside the same limit,
passes with no message at all.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
from affine import Affine

from frigoris.planners.errors import PlanningError
from frigoris.planners.stops import Candidates
from frigoris.planners.traverse import (
    CHECK_SOC_TOL,
    CHECK_TIME_TOL_S,
    Operations,
    RoverModel,
    TraversePlan,
    check_plan,
)

T = Affine(0.5, 0, 100.0, 0, -0.5, 50.0)  # 0.5 m pixels, origin away from 0
SHAPE = (6, 12)
ROVER = RoverModel(
    speed_m_s=0.02,
    drive_power_w=12.0,
    idle_power_w=4.0,
    battery_wh=40.0,
    reserve_wh=12.0,
    max_drive_per_cycle_m=2.0,
    cycle_overhead_s=600.0,
)
OPS = Operations(mission_s=86400.0, window_start_h=0.0, window_length_h=12.0, start_soc_wh=30.0)


def sun(t, r, c):
    """Varies with time and place, so a checker that integrates at the wrong time or cell fails."""
    return 6.0 + 0.002 * np.asarray(t) + 0.3 * np.asarray(c) + 0.1 * np.asarray(r)


def dark(t, r, c):
    return np.zeros(np.shape(t))


# The base plan: start (2, 1), five steps east to stop 1 (2, 6), two diagonal steps to stop 2.
LEGS = [[(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)], [(2, 6), (3, 7), (4, 8)]]
DWELL = [0.0, 300.0, 200.0]
VALUES = [0.0, 5.0, 3.0]


def step_m(a, b) -> float:
    return 0.5 * math.hypot(b[0] - a[0], b[1] - a[1])


def script(legs=LEGS, dwell=DWELL, *, start=None, pause_s=600.0, reset_after_s=600.0):
    """Timeline rows for the legs: drives at exactly the rover's speed, a ``pause_s`` command
    pause whenever the next step would take the cycle past 2 m (the cycle also restarts after a
    dwell of ``reset_after_s`` or more), and each stop's dwell on arrival."""
    rows = [dict(act="start", cell=tuple(start or legs[0][0]), dt=0.0, stop=0, leg=-1)]
    pos, cycle, parked = rows[0]["cell"], 0.0, 0.0
    for k, leg in enumerate(legs):
        if k > 0 and dwell[k] > 0:
            rows.append(dict(act="dwell", cell=pos, dt=dwell[k], stop=k, leg=-1))
            parked += dwell[k]
        for cell in leg[1:]:
            cell = tuple(cell)
            d = step_m(pos, cell)
            if parked >= reset_after_s:
                cycle = 0.0
            if cycle + d > ROVER.max_drive_per_cycle_m + 1e-9:
                rows.append(dict(act="cycle", cell=pos, dt=pause_s, stop=-1, leg=k))
                cycle = 0.0
            rows.append(dict(act="drive", cell=cell, dt=d / ROVER.speed_m_s, stop=-1, leg=k))
            cycle, pos, parked = cycle + d, cell, 0.0
    if dwell[len(legs)] > 0:
        rows.append(dict(act="dwell", cell=pos, dt=dwell[len(legs)], stop=len(legs), leg=-1))
    return rows


def assemble(rows, legs=LEGS, *, stops=None, dwell=DWELL, values=VALUES, t0=0.0, soc0=30.0,
             solar=sun, transform=T) -> TraversePlan:  # fmt: skip
    """A TraversePlan from timeline rows: times, battery and bookkeeping summed here."""
    stops = [tuple(legs[0][0])] + [tuple(leg[-1]) for leg in legs] if stops is None else stops
    dt = np.array([r["dt"] for r in rows], dtype=float)
    t = t0 + np.cumsum(dt)
    r = np.array([row["cell"][0] for row in rows])
    c = np.array([row["cell"][1] for row in rows])
    act = np.array([row["act"] for row in rows], dtype=object)
    soc = [soc0]
    for i in range(1, len(rows)):
        p = float(solar(np.array([0.5 * (t[i] + t[i - 1])]), r[i : i + 1], c[i : i + 1])[0])
        draw = ROVER.drive_power_w if act[i] == "drive" else ROVER.idle_power_w
        soc.append(min(ROVER.battery_wh, soc[-1] + (p - draw) * dt[i] / 3600.0))
    soc = np.array(soc)
    x, y = transform @ (c + 0.5, r + 0.5)
    timeline = {
        "t_s": t,
        "row": r,
        "col": c,
        "x": np.asarray(x, float),
        "y": np.asarray(y, float),
        "soc_wh": soc,
        "activity": act,
        "leg": np.array([row["leg"] for row in rows]),
        "stop": np.array([row["stop"] for row in rows]),
        "solar_w": np.zeros(len(rows)),
        "cost": np.ones(len(rows)),
    }
    n = len(stops)
    arrive, leave = [0], []
    for k in range(len(legs)):
        mine = [i for i, row in enumerate(rows) if row["act"] == "drive" and row["leg"] == k]
        leave.append(mine[0] - 1 if mine else arrive[k])
        arrive.append(mine[-1] if mine else arrive[k])
    leave.append(len(rows) - 1)
    cells = np.array(stops, dtype=np.int64)
    sx, sy = transform @ (cells[:, 1] + 0.5, cells[:, 0] + 0.5)
    cands = Candidates(
        np.asarray(sx, float),
        np.asarray(sy, float),
        cells,
        ("start",) + ("scoop",) * (n - 1),
        np.asarray(values, float),
        np.asarray(dwell, float),
        tuple(f"stop {k}" for k in range(n)),
        ("",) * n,
    )
    return TraversePlan(
        cands,
        t[arrive],
        t[leave],
        soc[arrive],
        tuple(np.array(leg, dtype=np.int64) for leg in legs),
        timeline,
        float(sum(values)),
        float(sum(step_m(a, b) for leg in legs for a, b in zip(leg[:-1], leg[1:], strict=True))),
        float(t[-1] - t[0]),
    )


def base() -> TraversePlan:
    return assemble(script())


def ok():
    """The base plan, unchanged: the twin of the structural rules."""
    return base(), {}


def check(plan, **kw) -> list[str]:
    args = dict(keepout=np.zeros(SHAPE, bool), transform=T, rover=ROVER, ops=OPS, solar_w=sun)
    return check_plan(plan, **{**args, **kw})


def with_timeline(plan, column, i, delta):
    tl = {k: np.array(v, copy=True) for k, v in plan.timeline.items()}
    tl[column][i] += delta
    return dataclasses.replace(plan, timeline=tl)


def with_stops(plan, **changes):
    return dataclasses.replace(plan, stops=dataclasses.replace(plan.stops, **changes))


def bump(plan, name, k, delta):
    a = np.array(getattr(plan, name), dtype=float, copy=True)
    a[k] += delta
    return dataclasses.replace(plan, **{name: a})


# Every rule's message, one pattern each: a message must match exactly one of them.
RULES = {
    "legs for stops": r"^\d+ legs for \d+ stops$",
    "per-stop arrays": r"^(arrival_s|departure_s|soc_arrival_wh) has \d+ values for \d+ stops$",
    "stop arrays": r"^the stops have \d+ positions",
    "leg cells": r"^leg \d+ is not an array of integer \(row, col\) cells$",
    "timeline column": r"^the timeline has no [a-z_, ]+ column$",
    "timeline lengths": r"^the timeline's columns differ in length",
    "timeline empty": r"^the timeline is empty$",
    "grid": r"leaves the grid at",
    "keep-out": r"^leg \d+ enters keep-out at cell \(\d+, \d+\)$",
    "link": r"^leg \d+ leaves the lander's link at cell \(\d+, \d+\)$",
    "chain": r"^leg \d+ is not a chain of neighbouring cells",
    "join": r"^leg \d+ does not join stop \d+ to stop \d+$",
    "stop place": r"^stop \d+ at \(.*\) is [\d.]+ m from the centre of its cell",
    "timeline place": r"^the timeline row at .* m from the centre of its cell",
    "start time": r"^the timeline starts at -?[\d.]+ s, not at 0$",
    "start cell": r"^the timeline starts at cell \(\d+, \d+\), not at the start stop",
    "back in time": r"^the timeline goes back in time",
    "mission": r"^plan ends at [\d.]+ s, after the mission's [\d.]+ s \([\d.]+ h\)$",
    "parked move": r"^the rover moves at \d+ s while '\w+'$",
    "follow count": r"^the timeline drives \d+ steps, the legs \d+$",
    "follow cell": r"^the drive at \d+ s goes to cell \(\d+, \d+\), the legs to \(\d+, \d+\)$",
    "speed": r"^the drive at \d+ s covers [\d.]+ m in -?[\d.]+ s, faster than [\d.]+ m/s$",
    "window": r"^the drive from -?\d+ s to -?\d+ s is outside a commanded window$",
    "cycle": r"^a command cycle drives [\d.]+ m by \d+ s, more than [\d.]+ m$",
    "battery": r"^battery at \d+ s is [\d.]+ Wh, the plan says [\d.]+$",
    "reserve": r"^battery falls to [\d.]+ Wh, below the [\d.]+ Wh reserve$",
    "dwell place": r"^stop \d+ \(\w+\) dwells at cell \(\d+, \d+\), not at its cell",
    "dwell": r"^stop \d+ \(\w+\) gets [\d.]+ s of its [\d.]+ s dwell$",
    "arrival": r"^stop \d+: the plan says arrival at",
    "departure": r"^stop \d+: the plan says departure at",
    "arrival battery": r"^stop \d+: the plan says [\d.]+ Wh on arrival",
    "value": r"^the plan says value",
    "distance": r"^the plan says [\d.]+ m driven, its legs measure",
    "duration": r"^the plan says it lasts",
}


def rules_of(messages: list[str]) -> set[str]:
    fired = set()
    for m in messages:
        hits = [name for name, pattern in RULES.items() if re.search(pattern, m)]
        assert len(hits) == 1, f"message {m!r} matches rules {hits}"
        fired.add(hits[0])
    return fired


def test_the_base_plan_passes_and_is_what_its_builder_says():
    plan = base()
    assert check(plan) == []
    tl = plan.timeline
    # 5 straight steps of 25 s, one 600 s pause after the 4th, 300 s dwell, 2 diagonal steps of
    # 35.36 s, 200 s dwell.
    assert list(tl["activity"]).count("cycle") == 1
    assert tl["t_s"][-1] == pytest.approx(5 * 25 + 600 + 300 + 2 * 25 * math.sqrt(2) + 200)
    assert plan.distance_m == pytest.approx(2.5 + math.sqrt(2) * 0.5 * 2)


# --------------------------------------------------------------------------------------------
# the cases: (rule, break, twin); each builds (plan, checker keyword overrides)


def _off_grid(edge: str, inside: bool):
    """A one-leg plan whose middle runs along the row or column just past an edge of the grid
    (or, for the twin, along the edge itself)."""
    n_r, n_c = SHAPE
    shift = 0 if not inside else 1
    if edge == "top":  # row -1
        leg = [(0, 1), (-1, 2), (-1, 3), (0, 4)]
        leg = [(r + shift, c) for r, c in leg]
    elif edge == "bottom":  # row n_r
        leg = [(n_r - 1, 1), (n_r, 2), (n_r, 3), (n_r - 1, 4)]
        leg = [(r - shift, c) for r, c in leg]
    elif edge == "left":  # col -1
        leg = [(1, 0), (2, -1), (3, -1), (4, 0)]
        leg = [(r, c + shift) for r, c in leg]
    else:  # col n_c
        leg = [(1, n_c - 1), (2, n_c), (3, n_c), (4, n_c - 1)]
        leg = [(r, c - shift) for r, c in leg]
    legs = [leg]
    return assemble(script(legs, [0.0, 100.0]), legs, dwell=[0.0, 100.0], values=[0.0, 1.0]), {}


def _keepout(cells):
    keep = np.zeros(SHAPE, bool)
    for cell in cells:
        keep[cell] = True
    return base(), {"keepout": keep}


def _link(cells):
    comm = np.ones(SHAPE, bool)
    for cell in cells:
        comm[cell] = False
    return base(), {"comm_ok": comm}


def _legs(legs, dwell=DWELL, **kw):
    stops = kw.pop("stops", None)
    return assemble(script(legs, dwell, **kw), legs, stops=stops, dwell=dwell), {}


JUMP = [[(2, 1), (2, 3), (2, 4), (2, 5), (2, 6)], LEGS[1]]
REPEAT = [[(2, 1), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)], LEGS[1]]
FROM_ELSEWHERE = [[(1, 1)] + LEGS[0][1:], LEGS[1]]
PAST_THE_END = [LEGS[0], LEGS[1] + [(4, 9)]]


def _stop_x(dx):
    plan = base()
    x = np.array(plan.stops.x, copy=True)
    x[1] += dx
    return with_stops(plan, x=x), {}


def _tail(rows_to_add, plan_rows=None):
    rows = script() if plan_rows is None else plan_rows
    last = rows[-1]["cell"]
    for act, cell, dt in rows_to_add:
        rows.append(dict(act=act, cell=cell or last, dt=dt, stop=-1, leg=-1))
    return assemble(rows), {}


def _start_at(t0):
    # windows open an hour before plan time 0, so a plan starting early still drives in one
    return assemble(script(), t0=t0), {"ops": dataclasses.replace(OPS, window_start_h=-1.0)}


def below(value: float, tol: float) -> float:
    """The float m with m + tol == value exactly: a limit whose slack ends exactly at value."""
    m = value - tol
    while m + tol < value:
        m = np.nextafter(m, np.inf)
    while m + tol > value:
        m = np.nextafter(m, -np.inf)
    assert m + tol == value
    return float(m)


def _mission(margin_s):
    plan = base()
    end = float(plan.timeline["t_s"][-1])
    if margin_s is None:  # the mission ends exactly where the slack allows: still inside
        return plan, {"ops": dataclasses.replace(OPS, mission_s=below(end, CHECK_TIME_TOL_S))}
    return plan, {"ops": dataclasses.replace(OPS, mission_s=end - margin_s)}


def _other_drive_cells():
    """The timeline drives (2, 2) -> (3, 3) -> (2, 4): neighbours, but not leg 0's cells."""
    rows = script([[(2, 1), (2, 2), (3, 3), (2, 4), (2, 5), (2, 6)], LEGS[1]])
    return assemble(rows), {}


def _faster(i, factor):
    rows = script()
    assert rows[i]["act"] == "drive"
    rows[i]["dt"] /= factor
    return assemble(rows), {}


def _window(**ops):
    return base(), {"ops": dataclasses.replace(OPS, **ops)}


def _last_drive_end_h():
    plan = base()
    act = plan.timeline["activity"]
    i = max(i for i in range(len(act)) if act[i] == "drive")
    return float(plan.timeline["t_s"][i]) / 3600.0


def _cycle_limit(limit_m):
    return base(), {"rover": dataclasses.replace(ROVER, max_drive_per_cycle_m=limit_m)}


def _dwell_as_pause(dwell_s):
    """Four steps (2 m, one full cycle) to stop 1, a dwell, one more step: the plan counts the
    dwell as the ground's turnaround, which it is only when it lasts the 600 s."""
    legs = [[(2, 1), (2, 2), (2, 3), (2, 4), (2, 5)], [(2, 5), (2, 6)]]
    dwell = [0.0, dwell_s, 0.0]
    rows = script(legs, dwell, reset_after_s=dwell_s)
    assert "cycle" not in [r["act"] for r in rows]
    return assemble(rows, legs, dwell=dwell, values=[0.0, 1.0, 1.0]), {}


def _soc(i, delta):
    plan = with_timeline(base(), "soc_wh", i, delta)
    if i == 0:
        plan = bump(plan, "soc_arrival_wh", 0, delta)
    return plan, {}


def _reserve(margin_wh):
    """In the dark the battery only drains; start just enough (or not) above the reserve."""
    used = 30.0 - assemble(script(), solar=dark).timeline["soc_wh"][-1]
    soc0 = ROVER.reserve_wh + used + margin_wh
    plan = assemble(script(), soc0=soc0, solar=dark)
    return plan, {"solar_w": dark, "ops": dataclasses.replace(OPS, start_soc_wh=soc0)}


def _full(over_wh):
    """Start nearly full in the sun: the battery reaches its capacity and stays there."""
    plan = assemble(script(), soc0=39.99)
    assert plan.timeline["soc_wh"].max() == ROVER.battery_wh
    i = int(np.argmax(plan.timeline["soc_wh"]))
    if over_wh:
        plan = with_timeline(plan, "soc_wh", i, over_wh)
    return plan, {"ops": dataclasses.replace(OPS, start_soc_wh=39.99)}


def _start_soc_from_rover(timeline_soc0):
    plan = assemble(script(), soc0=timeline_soc0)
    return plan, {"ops": dataclasses.replace(OPS, start_soc_wh=None)}


def _dwell_rows_for(stop):
    rows = script()
    rows.append(dict(act="dwell", cell=rows[-1]["cell"], dt=50.0, stop=stop, leg=-1))
    return assemble(rows), {}


def _short_dwell(script_dwell_s):
    rows = script()
    i = next(i for i, r in enumerate(rows) if r["act"] == "dwell" and r["stop"] == 1)
    rows[i]["dt"] = script_dwell_s
    return assemble(rows), {}


def _bump(name, k, delta):
    return bump(base(), name, k, delta), {}


def _without(column):
    plan = base()
    return dataclasses.replace(
        plan, timeline={k: v for k, v in plan.timeline.items() if k != column}
    ), {}


def _empty_timeline(rows: int):
    plan = base()
    start = plan.stops.subset([0])
    tl = {k: np.asarray(v)[:rows] for k, v in plan.timeline.items()}
    return TraversePlan(
        start, np.zeros(1), np.zeros(1), np.array([30.0]), (), tl, 0.0, 0.0, 0.0
    ), {}


def _leg0(leg):
    plan = base()
    return dataclasses.replace(plan, legs=(leg,) + plan.legs[1:]), {}


def _all_faster(factor):
    rows = script()
    for row in rows:
        if row["act"] == "drive":
            row["dt"] /= factor
    return assemble(rows), {}


def _back_at_start(back_s):
    """Up by ``back_s`` and down again before the first drive: time runs back by ``back_s``."""
    rows = script()
    for dt in (-back_s, back_s):
        rows.insert(1, dict(act="charge", cell=rows[0]["cell"], dt=dt, stop=-1, leg=-1))
    return assemble(rows), {"ops": dataclasses.replace(OPS, window_start_h=-1.0)}


def _start_dwell(short_s):
    """A 100 s dwell at the start stop, given ``short_s`` too little (t = 0 to t = dwell)."""
    rows = script()
    rows.insert(1, dict(act="dwell", cell=rows[0]["cell"], dt=100.0 - short_s, stop=0, leg=-1))
    return assemble(rows, dwell=[100.0, 300.0, 200.0]), {}


def _small_values(delta):
    """Values below 1: the slack on value is 1e-9 absolute there."""
    plan = assemble(script(), values=[0.0, 0.25, 0.25])
    return dataclasses.replace(plan, value=plan.value + delta), {}


def _dwell_in_the_stops_row():
    """Dwell rows for stop 1 (row 2, col 6) at the start (row 2, col 1): only the column differs."""
    rows = script()
    rows.insert(1, dict(act="dwell", cell=rows[0]["cell"], dt=10.0, stop=1, leg=-1))
    return assemble(rows), {}


def _parked_at(slack_multiple):
    """A plan that never moves, its battery ``slack_multiple`` times the slack from the reserve."""
    soc0 = ROVER.reserve_wh + slack_multiple * CHECK_SOC_TOL * ROVER.battery_wh
    plan, _ = _empty_timeline(1)
    tl = {k: np.array(v, copy=True) for k, v in plan.timeline.items()}
    tl["soc_wh"][0] = soc0
    plan = dataclasses.replace(plan, timeline=tl, soc_arrival_wh=np.array([soc0]))
    return plan, {"ops": dataclasses.replace(OPS, start_soc_wh=soc0)}


def _empty_soc(delta):
    """An empty battery, allowed with no reserve; the plan states it ``delta`` Wh off."""
    plan, _ = _empty_timeline(1)
    tl = {k: np.array(v, copy=True) for k, v in plan.timeline.items()}
    tl["soc_wh"][0] = 0.0
    plan = dataclasses.replace(plan, timeline=tl, soc_arrival_wh=np.array([delta]))
    rover = dataclasses.replace(ROVER, reserve_wh=0.0)
    return plan, {"rover": rover, "ops": dataclasses.replace(OPS, start_soc_wh=0.0)}


def _empty_duration(delta):
    plan, _ = _empty_timeline(1)
    return dataclasses.replace(plan, duration_s=delta), {}


def _zero_dt_drive():
    rows = script()
    rows[3]["dt"] = 0.0
    return assemble(rows), {}


def _vertical(factor):
    """Every stop in one grid column (the old checker then skipped speed and cycles)."""
    legs = [[(0, 4), (1, 4), (2, 4)], [(2, 4), (3, 4), (4, 4)]]
    rows = script(legs)
    rows[-2]["dt"] /= factor
    return assemble(rows, legs), {}


def _second_cycle(limit_m):
    """The command pause after the first step: the second cycle (0.5 m, pause, four steps and
    one diagonal to stop 2, 2.707 m with stop 1's short dwell) is the long one."""
    legs = [LEGS[0], LEGS[1][:2]]
    rows = script(legs, [0.0, 300.0, 200.0])
    pause = next(i for i, r in enumerate(rows) if r["act"] == "cycle")
    rows.insert(2, dict(rows.pop(pause), cell=rows[1]["cell"]))
    rover = dataclasses.replace(ROVER, max_drive_per_cycle_m=limit_m)
    return assemble(rows, legs), {"rover": rover}


def _planned_in_the_dark():
    """The plan's battery summed without the sun: every row after the start is off."""
    return assemble(script(), solar=dark), {}


def _day_long_window(short_s):
    """A window opening 10 s into the first drive, lasting a day less ``short_s``: the drive
    across its opening is outside it, unless the window is the whole day."""
    return _window(window_start_h=10.0 / 3600, window_length_h=24.0 - short_s / 3600)


def _window_opens_at_slack(late_s):
    """The window opens ``late_s`` past the slack after plan time 0; at 0 (the twin) the first
    drive starts exactly where the slack before the opening ends."""
    h = CHECK_TIME_TOL_S / 3600
    while h * 3600.0 > CHECK_TIME_TOL_S:
        h = np.nextafter(h, -np.inf)
    while h * 3600.0 < CHECK_TIME_TOL_S:
        h = np.nextafter(h, np.inf)
    assert h * 3600.0 - CHECK_TIME_TOL_S == 0.0
    return _window(window_start_h=float(h) + late_s / 3600)


def _empty_distance(distance_m):
    """A plan that never moves, stating ``distance_m``: below 1 m the slack is 1e-6 m absolute."""
    plan, _ = _empty_timeline(1)
    return dataclasses.replace(plan, distance_m=distance_m), {}


def _empty_start_soc(delta):
    """An empty battery, allowed with no reserve; the timeline starts ``delta`` Wh above it (the
    plan's arrival battery agrees with the timeline)."""
    plan, _ = _empty_timeline(1)
    tl = {k: np.array(v, copy=True) for k, v in plan.timeline.items()}
    tl["soc_wh"][0] = delta
    plan = dataclasses.replace(plan, timeline=tl, soc_arrival_wh=np.array([delta]))
    rover = dataclasses.replace(ROVER, reserve_wh=0.0)
    return plan, {"rover": rover, "ops": dataclasses.replace(OPS, start_soc_wh=0.0)}


def _pause_at_slack(short_s):
    """The first command pause ``short_s`` shorter than the turnaround's slack allows; at 0 (the
    twin) the rover waits exactly the turnaround less the slack."""
    pause = ROVER.cycle_overhead_s - CHECK_TIME_TOL_S
    assert (100.0 + pause) - 100.0 == pause  # four 25 s steps, then the pause: exact in floats
    return _legs(LEGS, pause_s=pause - short_s)


CASES = [
    # shape
    ("legs for stops", lambda: (dataclasses.replace(base(), legs=base().legs[:1]), {}), ok),
    *[
        (
            "per-stop arrays",
            lambda n=name: (dataclasses.replace(base(), **{n: getattr(base(), n)[:-1]}), {}),
            ok,
        )
        for name in ("arrival_s", "departure_s", "soc_arrival_wh")
    ],
    ("stop arrays", lambda: (with_stops(base(), cells=base().stops.cells[:2]), {}), ok),
    ("stop arrays", lambda: (with_stops(base(), dwell_s=base().stops.dwell_s[:2]), {}), ok),
    ("leg cells", lambda: _leg0(base().legs[0].astype(float)), ok),
    ("leg cells", lambda: _leg0(np.zeros((0, 2), dtype=np.int64)), ok),
    ("leg cells", lambda: _leg0(np.zeros((6, 3), dtype=np.int64)), ok),
    ("leg cells", lambda: _leg0(np.zeros(6, dtype=np.int64)), ok),
    ("timeline column", lambda: _without("stop"), ok),
    ("timeline lengths", lambda: with_timeline_cut(), ok),
    ("timeline empty", lambda: _empty_timeline(0), lambda: _empty_timeline(1)),
    # legs
    *[
        ("grid", lambda e=edge: _off_grid(e, False), lambda e=edge: _off_grid(e, True))
        for edge in ("top", "bottom", "left", "right")
    ],
    ("keep-out", lambda: _keepout([(2, 3)]), lambda: _keepout([(1, 3), (3, 3), (1, 6)])),
    ("keep-out", lambda: _keepout([(4, 8)]), lambda: _keepout([(4, 9), (5, 8)])),
    ("link", lambda: _link([(3, 7)]), lambda: _link([(2, 7), (3, 8)])),
    ("link", lambda: _link([(2, 1)]), lambda: _link([(1, 1), (3, 1)])),
    ("chain", lambda: _legs(JUMP), ok),
    ("chain", lambda: _legs(REPEAT), ok),
    ("join", lambda: _legs(FROM_ELSEWHERE, start=(2, 1), stops=[(2, 1), (2, 6), (4, 8)]), ok),
    ("join", lambda: _legs(PAST_THE_END, [0.0, 300.0, 0.0], stops=[(2, 1), (2, 6), (4, 8)]), ok),
    ("stop place", lambda: _stop_x(0.006), lambda: _stop_x(0.004)),
    (
        "timeline place",
        lambda: (with_timeline(base(), "x", 3, 0.006), {}),
        lambda: (with_timeline(base(), "x", 3, 0.004), {}),
    ),
    # clock
    ("start time", lambda: _start_at(5.0), lambda: _start_at(CHECK_TIME_TOL_S)),
    ("start time", lambda: _start_at(-5.0), lambda: _start_at(-CHECK_TIME_TOL_S)),
    ("start cell", lambda: _legs(LEGS, start=(1, 1)), ok),
    (
        "back in time",
        lambda: _tail([("charge", None, -10.0), ("charge", None, 10.0)]),
        lambda: _tail([("charge", None, 0.0), ("charge", None, 0.0)]),
    ),
    ("mission", lambda: _mission(2e-6), lambda: _mission(None)),
    # motion
    (
        "parked move",
        lambda: _tail([("window", (5, 8), 60.0), ("window", None, 60.0)]),
        lambda: _tail([("window", None, 60.0), ("window", None, 60.0)]),
    ),
    ("follow count", lambda: _tail([("window", None, 600.0), ("drive", (4, 9), 25.0)]), ok),
    ("follow cell", _other_drive_cells, ok),
    ("speed", lambda: _faster(3, 1.01), lambda: _faster(3, 1.0)),
    ("speed", lambda: _faster(-2, 1.01), lambda: _faster(-2, 1.0)),  # a diagonal step
    ("speed", _zero_dt_drive, ok),
    ("speed", lambda: _vertical(1.01), lambda: _vertical(1.0)),
    (
        "window",  # the window opened the day before, at 23:30, and closes as it ends
        lambda: _window(window_start_h=23.5, window_length_h=0.5 + _last_drive_end_h() - 1e-9),
        lambda: _window(window_start_h=23.5, window_length_h=0.5 + _last_drive_end_h()),
    ),
    (
        "window",
        lambda: _window(window_start_h=1e-3 / 3600),
        lambda: _window(window_start_h=0.5e-6 / 3600),
    ),
    (
        "window",
        lambda: _window(window_start_h=23.5, window_length_h=0.75),
        lambda: _window(window_start_h=23.5, window_length_h=1.0),
    ),
    (
        "window",
        lambda: _window(window_start_h=-24.0 + 1e-3, window_length_h=23.99),
        lambda: _window(window_start_h=12.0, window_length_h=24.0),
    ),
    ("cycle", lambda: _cycle_limit(1.99), lambda: _cycle_limit(2.0)),
    ("cycle", lambda: _legs(LEGS, pause_s=599.0), lambda: _legs(LEGS, pause_s=600.0)),
    ("cycle", lambda: _dwell_as_pause(599.0), lambda: _dwell_as_pause(600.0)),
    # battery
    ("battery", lambda: _soc(3, 1e-4), lambda: _soc(3, 3e-5)),
    ("battery", lambda: _soc(0, 1e-4), lambda: _soc(0, 3e-5)),
    ("battery", lambda: _full(1e-3), lambda: _full(0.0)),
    ("battery", lambda: _start_soc_from_rover(30.0), lambda: _start_soc_from_rover(40.0)),
    ("reserve", lambda: _reserve(-1e-3), lambda: _reserve(0.0)),
    # stops
    ("dwell place", lambda: _dwell_rows_for(1), lambda: _dwell_rows_for(2)),
    ("dwell", lambda: _short_dwell(299.999), lambda: _short_dwell(300.0)),
    ("arrival", lambda: _bump("arrival_s", 1, 2e-6), lambda: _bump("arrival_s", 1, 0.5e-6)),
    (
        "arrival",
        lambda: _bump("arrival_s", 0, -2e-6),
        lambda: _bump("arrival_s", 0, -CHECK_TIME_TOL_S),
    ),
    ("departure", lambda: _bump("departure_s", 1, 2e-6), lambda: _bump("departure_s", 1, 0.5e-6)),
    ("departure", lambda: _bump("departure_s", 2, -2e-6), lambda: _bump("departure_s", 2, -0.5e-6)),
    (
        "arrival battery",
        lambda: _bump("soc_arrival_wh", 2, 2e-6),
        lambda: _bump("soc_arrival_wh", 2, 0.5e-6),
    ),
    # totals
    ("value", lambda: _bump("value", (), 1e-3), lambda: _bump("value", (), 4e-9)),
    ("distance", lambda: _bump("distance_m", (), 1e-5), lambda: _bump("distance_m", (), 2e-6)),
    ("duration", lambda: _bump("duration_s", (), 2e-6), lambda: _bump("duration_s", (), 0.5e-6)),
    # every drive too fast: the rule speaks once
    ("speed", lambda: _all_faster(1.01), lambda: _all_faster(1.0)),
    # exact boundaries: the slack ends exactly at the twin (tolerance mutants die here)
    ("back in time", lambda: _back_at_start(2e-6), lambda: _back_at_start(CHECK_TIME_TOL_S)),
    ("dwell", lambda: _start_dwell(2e-6), lambda: _start_dwell(CHECK_TIME_TOL_S)),
    ("value", lambda: _small_values(1.5e-9), lambda: _small_values(0.5e-9)),
    ("dwell place", _dwell_in_the_stops_row, ok),
    ("reserve", lambda: _parked_at(-2.0), lambda: _parked_at(-1.0)),
    ("arrival battery", lambda: _empty_soc(2e-6), lambda: _empty_soc(CHECK_SOC_TOL)),
    ("duration", lambda: _empty_duration(2e-6), lambda: _empty_duration(CHECK_TIME_TOL_S)),
    # a cycle counted again from zero after a pause (not from less); every row's battery off
    # but one message; a window of a whole day has no edge; the start's departure at exactly
    # the slack
    ("cycle", lambda: _second_cycle(2.0), lambda: _second_cycle(2.71)),
    ("battery", _planned_in_the_dark, ok),
    ("window", lambda: _day_long_window(1e-3), lambda: _day_long_window(0.0)),
    (
        "departure",
        lambda: _bump("departure_s", 0, -2e-6),
        lambda: _bump("departure_s", 0, -CHECK_TIME_TOL_S),
    ),
    # the first drive starts exactly at the slack before a window opens; a plan that never
    # moves and its distance within an absolute slack
    ("window", lambda: _window_opens_at_slack(1e-6), lambda: _window_opens_at_slack(0.0)),
    ("distance", lambda: _empty_distance(1.5e-6), lambda: _empty_distance(0.5e-6)),
    (
        "battery",
        lambda: _empty_start_soc(2 * CHECK_SOC_TOL * ROVER.battery_wh),
        lambda: _empty_start_soc(CHECK_SOC_TOL * ROVER.battery_wh),
    ),
    ("cycle", lambda: _pause_at_slack(1e-6), lambda: _pause_at_slack(0.0)),
]


def with_timeline_cut():
    plan = base()
    tl = dict(plan.timeline)
    tl["soc_wh"] = tl["soc_wh"][:-1]
    return dataclasses.replace(plan, timeline=tl), {}


# The exact messages of every break: each names the rule's own place and numbers (reviewed by
# hand against the case: cells, times, limits).
MESSAGES = {
    "legs for stops-0": ["1 legs for 3 stops"],
    "per-stop arrays-1": ["arrival_s has 2 values for 3 stops"],
    "per-stop arrays-2": ["departure_s has 2 values for 3 stops"],
    "per-stop arrays-3": ["soc_arrival_wh has 2 values for 3 stops"],
    "stop arrays-4": ["the stops have 3 positions, 2 cells and 3 dwell times"],
    "stop arrays-5": ["the stops have 3 positions, 3 cells and 2 dwell times"],
    "leg cells-6": ["leg 0 is not an array of integer (row, col) cells"],
    "leg cells-7": ["leg 0 is not an array of integer (row, col) cells"],
    "leg cells-8": ["leg 0 is not an array of integer (row, col) cells"],
    "leg cells-9": ["leg 0 is not an array of integer (row, col) cells"],
    "timeline column-10": ["the timeline has no stop column"],
    "timeline lengths-11": ["the timeline's columns differ in length: [(10,), (11,)]"],
    "timeline empty-12": ["the timeline is empty"],
    "grid-13": [
        "leg 0 leaves the grid at cell (-1, 2)",
        "the timeline leaves the grid at 35 s, cell (-1, 2)",
    ],
    "grid-14": [
        "leg 0 leaves the grid at cell (6, 2)",
        "the timeline leaves the grid at 35 s, cell (6, 2)",
    ],
    "grid-15": [
        "leg 0 leaves the grid at cell (2, -1)",
        "the timeline leaves the grid at 35 s, cell (2, -1)",
    ],
    "grid-16": [
        "leg 0 leaves the grid at cell (2, 12)",
        "the timeline leaves the grid at 35 s, cell (2, 12)",
    ],
    "keep-out-17": ["leg 0 enters keep-out at cell (2, 3)"],
    "keep-out-18": ["leg 1 enters keep-out at cell (4, 8)"],
    "link-19": ["leg 1 leaves the lander's link at cell (3, 7)"],
    "link-20": ["leg 0 leaves the lander's link at cell (2, 1)"],
    "chain-21": ["leg 0 is not a chain of neighbouring cells: (2, 1) to (2, 3)"],
    "chain-22": ["leg 0 is not a chain of neighbouring cells: (2, 1) to (2, 1)"],
    "join-23": ["leg 0 does not join stop 0 to stop 1"],
    "join-24": ["leg 1 does not join stop 1 to stop 2"],
    "stop place-25": ["stop 1 at (103.256, 48.750) is 0.006 m from the centre of its cell (2, 6)"],
    "timeline place-26": ["the timeline row at 75 s is 0.006 m from the centre of its cell (2, 4)"],
    "start time-27": ["the timeline starts at 5.000000 s, not at 0"],
    "start time-28": ["the timeline starts at -5.000000 s, not at 0"],
    "start cell-29": ["the timeline starts at cell (1, 1), not at the start stop (2, 1)"],
    "back in time-30": ["the timeline goes back in time from 1295.710678 s to 1285.710678 s"],
    "mission-31": ["plan ends at 1295.710678 s, after the mission's 1295.710676 s (0.35992 h)"],
    "parked move-32": ["the rover moves at 1356 s while 'window'"],
    "follow count-33": ["the timeline drives 8 steps, the legs 7"],
    "follow cell-34": ["the drive at 60 s goes to cell (3, 3), the legs to (2, 3)"],
    "speed-35": ["the drive at 75 s covers 0.500 m in 24.752 s, faster than 0.02 m/s"],
    "speed-36": ["the drive at 1095 s covers 0.707 m in 35.005 s, faster than 0.02 m/s"],
    "speed-37": ["the drive at 50 s covers 0.500 m in 0.000 s, faster than 0.02 m/s"],
    "speed-38": ["the drive at 400 s covers 0.500 m in 24.752 s, faster than 0.02 m/s"],
    "window-39": ["the drive from 1060 s to 1096 s is outside a commanded window"],
    "window-40": ["the drive from 0 s to 25 s is outside a commanded window"],
    "window-41": ["the drive from 1025 s to 1060 s is outside a commanded window"],
    "window-42": ["the drive from 0 s to 25 s is outside a commanded window"],
    "cycle-43": ["a command cycle drives 2.000 m by 100 s, more than 1.99 m"],
    "cycle-44": ["a command cycle drives 2.500 m by 724 s, more than 2 m"],
    "cycle-45": ["a command cycle drives 2.500 m by 724 s, more than 2 m"],
    "battery-46": ["battery at 75 s is 29.899479 Wh, the plan says 29.899579"],
    "battery-47": ["battery at 0 s is 30.000000 Wh, the plan says 30.000100"],
    "battery-48": ["battery at 700 s is 40.000000 Wh, the plan says 40.001000"],
    "battery-49": ["battery at 0 s is 40.000000 Wh, the plan says 30.000000"],
    "reserve-50": ["battery falls to 11.999000 Wh, below the 12 Wh reserve"],
    "dwell place-51": ["stop 1 (scoop) dwells at cell (4, 8), not at its cell (2, 6)"],
    "dwell-52": ["stop 1 (scoop) gets 299.999 s of its 300 s dwell"],
    "arrival-53": ["stop 1: the plan says arrival at 725.000002 s, the timeline 725.000000 s"],
    "arrival-54": ["stop 0: the plan says arrival at -0.000002 s, the timeline 0.000000 s"],
    "departure-55": [
        "stop 1: the plan says departure at 1025.000002 s, the timeline 1025.000000 s"
    ],
    "departure-56": [
        "stop 2: the plan says departure at 1295.710676 s, the timeline 1295.710678 s"
    ],
    "arrival battery-57": [
        "stop 2: the plan says 31.056992 Wh on arrival, the timeline 31.056990 Wh"
    ],
    "value-58": ["the plan says value 8.001, its stops add up to 8"],
    "distance-59": ["the plan says 3.914224 m driven, its legs measure 3.914214 m"],
    "duration-60": ["the plan says it lasts 1295.710680 s, the timeline 1295.710678 s"],
    "speed-61": ["the drive at 25 s covers 0.500 m in 24.752 s, faster than 0.02 m/s"],
    "back in time-62": ["the timeline goes back in time from 0.000002 s to 0.000000 s"],
    "dwell-63": ["stop 0 (start) gets 99.999998 s of its 100 s dwell"],
    "value-64": ["the plan says value 0.500000002, its stops add up to 0.5"],
    "dwell place-65": ["stop 1 (scoop) dwells at cell (2, 1), not at its cell (2, 6)"],
    "reserve-66": ["battery falls to 11.999920 Wh, below the 12 Wh reserve"],
    "arrival battery-67": [
        "stop 0: the plan says 0.000002 Wh on arrival, the timeline 0.000000 Wh"
    ],
    "duration-68": ["the plan says it lasts 0.000002 s, the timeline 0.000000 s"],
    "cycle-69": ["a command cycle drives 2.707 m by 1060 s, more than 2 m"],
    "battery-70": ["battery at 25 s is 29.964063 Wh, the plan says 29.916667"],
    "window-71": ["the drive from 0 s to 25 s is outside a commanded window"],
    "departure-72": ["stop 0: the plan says departure at -0.000002 s, the timeline 0.000000 s"],
    "window-73": ["the drive from 0 s to 25 s is outside a commanded window"],
    "distance-74": ["the plan says 0.000002 m driven, its legs measure 0.000000 m"],
    "battery-75": ["battery at 0 s is 0.000000 Wh, the plan says 0.000080"],
    "cycle-76": ["a command cycle drives 2.500 m by 725 s, more than 2 m"],
}


def test_each_break_says_exactly_what_and_where():
    assert set(MESSAGES) == {f"{c[0]}-{i}" for i, c in enumerate(CASES)}
    for i, (rule, broken, _) in enumerate(CASES):
        plan, kw = broken()
        assert check(plan, **kw) == MESSAGES[f"{rule}-{i}"], f"{rule}-{i}"


@pytest.mark.parametrize(
    "field, bad, fine",
    [
        ("speed_m_s", 0.0, 1e-9),
        ("battery_wh", 0.0, 12.0 + 1e-9),
        ("max_drive_per_cycle_m", 0.0, 1e-9),
        ("reserve_wh", -1e-9, 0.0),
        ("reserve_wh", 40.0, 40.0 - 1e-9),
    ],
)
def test_rover_model_limits(field, bad, fine):
    with pytest.raises(PlanningError, match=field.split("_")[0]):
        dataclasses.replace(ROVER, **{field: bad})
    assert getattr(dataclasses.replace(ROVER, **{field: fine}), field) == fine


def test_the_start_rows_label_is_not_read():
    """Row 0 is the state at time 0: no interval ends there, so its activity is never a drive."""
    plan = base()
    tl = dict(plan.timeline)
    tl["activity"] = np.array(tl["activity"], copy=True)
    tl["activity"][0] = "drive"
    assert check(dataclasses.replace(plan, timeline=tl)) == []


@pytest.mark.parametrize(
    "rule, broken, twin", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_rule_fires_alone_and_its_twin_passes(rule, broken, twin):
    plan, kw = broken()
    messages = check(plan, **kw)
    assert messages, f"rule {rule!r} did not fire"
    assert rules_of(messages) == {rule}, messages
    plan, kw = twin()
    assert check(plan, **kw) == []


def test_every_rule_has_a_case():
    assert {c[0] for c in CASES} == set(RULES)


def test_messages_name_the_place_and_the_numbers():
    keep = np.zeros(SHAPE, bool)
    keep[2, 3] = True
    assert check(base(), keepout=keep) == ["leg 0 enters keep-out at cell (2, 3)"]
    plan, kw = _cycle_limit(1.99)
    assert check(plan, **kw) == ["a command cycle drives 2.000 m by 100 s, more than 1.99 m"]
    plan, kw = _short_dwell(250.0)
    assert check(plan, **kw) == ["stop 1 (scoop) gets 250 s of its 300 s dwell"]
    plan, kw = _reserve(-0.5)
    assert check(plan, **kw) == ["battery falls to 11.500000 Wh, below the 12 Wh reserve"]
    plan, kw = _faster(3, 2.0)
    assert check(plan, **kw) == [
        "the drive at 62 s covers 0.500 m in 12.500 s, faster than 0.02 m/s"
    ]


def test_a_leg_without_a_step_two_stops_on_one_cell_passes():
    legs = [LEGS[0], [(2, 6)], LEGS[1]]
    dwell = [0.0, 300.0, 100.0, 200.0]
    plan = assemble(script(legs, dwell), legs, dwell=dwell, values=[0.0, 5.0, 1.0, 3.0])
    assert check(plan) == []
    short = [0.0, 300.0, 100.0, 200.0]
    rows = script(legs, short)
    rows = [r for r in rows if not (r["act"] == "dwell" and r["stop"] == 2)]
    plan = assemble(rows, legs, dwell=short, values=[0.0, 5.0, 1.0, 3.0])
    assert check(plan) == ["stop 2 (scoop) gets 0 s of its 100 s dwell"]


def test_an_empty_plan_at_the_start_passes():
    plan, _ = _empty_timeline(1)
    assert check(plan) == []


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"keepout": np.zeros(12, bool)}, "keepout must be a 2-D array"),
        ({"comm_ok": np.ones((5, 12), bool)}, "comm_ok has shape"),
    ],
)
def test_layers_that_do_not_fit_are_refused(kw, message):
    with pytest.raises(PlanningError, match=message):
        check(base(), **kw)


def test_the_checker_does_not_call_the_planners_helpers(monkeypatch):
    """Independence: breaking the simulation's own window test and timeline builder must not
    change the checker's verdicts."""
    from frigoris.planners import traverse

    def broken(*a, **k):
        raise AssertionError("the checker used the planner's helper")

    monkeypatch.setattr(traverse.Operations, "in_window", broken)
    monkeypatch.setattr(traverse.Operations, "next_window", broken)
    monkeypatch.setattr(traverse, "_timeline", broken)
    monkeypatch.setattr(traverse, "_Sim", broken)
    assert check(base()) == []
    plan, kw = _window(window_start_h=23.5, window_length_h=0.75)
    assert rules_of(check(plan, **kw)) == {"window"}


@pytest.mark.parametrize("angle_deg", [30.0, -70.0])
def test_a_rotated_grid_measures_steps_in_metres(angle_deg):
    """Step lengths come from the transform: on a rotated grid of 0.5 m pixels the same plan
    passes, and a drive 1 % too fast is still caught."""
    rotated = T @ Affine.rotation(angle_deg)
    plan = assemble(script(), transform=rotated)
    assert check(plan, transform=rotated) == []
    rows = script()
    rows[-2]["dt"] /= 1.01
    plan = assemble(rows, transform=rotated)
    assert rules_of(check(plan, transform=rotated)) == {"speed"}


def test_a_zero_length_drive_backwards_in_time_is_not_called_fast():
    """A repeated leg cell driven with time running backwards breaks the chain and the clock;
    a step of no length is no speeding."""
    rows = script(REPEAT)
    rows[1]["dt"] = -1.0
    plan = assemble(rows, REPEAT)
    ops = dataclasses.replace(OPS, window_start_h=-1.0)
    assert rules_of(check(plan, ops=ops)) == {"chain", "back in time"}


def test_a_fast_rover_is_held_to_its_speed_below_a_second_a_step():
    """At 2 m/s a 0.5 m step takes 0.25 s: 1 % faster is caught as on a slow rover."""
    fast = dataclasses.replace(ROVER, speed_m_s=2.0)
    rows = script()
    for row in rows:
        if row["act"] == "drive":
            row["dt"] *= ROVER.speed_m_s / fast.speed_m_s
    assert check(assemble(rows), rover=fast) == []
    rows[3]["dt"] /= 1.01
    assert rules_of(check(assemble(rows), rover=fast)) == {"speed"}


def test_the_layers_are_named_never_positional():
    """``check_plan(plan, *, ...)``: the plan by position or name, every layer by name only (a
    keep-out map and a link map, both boolean grids, cannot be swapped by their order)."""
    args = dict(keepout=np.zeros(SHAPE, bool), transform=T, rover=ROVER, ops=OPS, solar_w=sun)
    assert check_plan(plan=base(), **args) == []
    with pytest.raises(TypeError):
        check_plan(base(), *args.values())


def test_a_two_row_timeline_is_integrated():
    """The start and one parked row: the battery is re-integrated over that one interval."""
    rows = [
        dict(act="start", cell=(2, 1), dt=0.0, stop=0, leg=-1),
        dict(act="charge", cell=(2, 1), dt=600.0, stop=-1, leg=-1),
    ]
    plan = assemble(rows, [], stops=[(2, 1)], dwell=[0.0], values=[0.0])
    assert check(plan) == []
    wrong = with_timeline(plan, "soc_wh", 1, 1e-3)
    assert rules_of(check(wrong)) == {"battery"}
