"""Traverse plans: energy with a shadowed stretch, command cycles, windows, checker, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from affine import Affine

from frigoris.planners.errors import PlanningError
from frigoris.planners.stops import Candidates, StopRules, candidate_stops
from frigoris.planners.traverse import (
    Operations,
    RoverModel,
    check_plan,
    plan_traverse,
)

T = Affine(0.5, 0, 0, 0, -0.5, 50)  # 0.5 m cells


def _cands(cells, values, dwell=600.0):
    cells = np.asarray(cells)
    x, y = T @ (cells[:, 1] + 0.5, cells[:, 0] + 0.5)
    k = len(cells)
    return Candidates(
        np.asarray(x),
        np.asarray(y),
        cells,
        ("scoop",) * k,
        np.asarray(values, float),
        np.full(k, dwell),
        tuple(f"c{i}" for i in range(k)),
        ("",) * k,
    )


ROVER = RoverModel(
    speed_m_s=0.02,
    drive_power_w=12.0,
    idle_power_w=4.0,
    battery_wh=40.0,
    reserve_wh=12.0,
    max_drive_per_cycle_m=5.0,
    cycle_overhead_s=600.0,
)


def sunny(watts):
    return lambda t, r, c: np.full(np.shape(t), float(watts))


def test_single_stop_timeline_by_hand():
    """Start (10, 10) to a stop 20 cells east = 10 m on open ground at 2 cm/s.

    Drive time 10 m / 0.02 m/s = 500 s; two command cycles of 5 m with one 600 s turnaround
    between them; then 600 s of dwell: the plan ends at 500 + 600 + 600 = 1700 s.
    Energy with 10 W of sun: driving -2 W for 500 s, idle +6 W for 1200 s (capped at 40 Wh).
    """
    cost = np.ones((30, 40))
    plan = plan_traverse(
        cost=cost,
        keepout=np.zeros((30, 40), bool),
        transform=T,
        start_cell=(10, 10),
        candidates=_cands([[10, 30]], [5.0]),
        rover=ROVER,
        solar_w=sunny(10.0),
        ops=Operations(mission_s=86400, start_soc_wh=30.0),
    )
    assert len(plan.stops) == 2
    assert plan.distance_m == pytest.approx(10.0)
    assert plan.arrival_s[1] == pytest.approx(500 + 600)
    assert plan.duration_s == pytest.approx(1700)
    expected = min(40.0, 30.0 - 2.0 * 500 / 3600 + 6.0 * 1200 / 3600)
    assert plan.timeline["soc_wh"][-1] == pytest.approx(expected)
    assert list(plan.timeline["activity"]).count("cycle") == 1


def test_energy_never_below_reserve_across_a_shadowed_stretch():
    """A band of shadow (no sun) lies across the way: the rover must stop and charge before it,
    and the battery never dips below the reserve."""
    cost = np.ones((20, 400))
    shadow_cols = (150, 300)  # 75 m of shadow

    def solar(t, r, c):
        c = np.asarray(c)
        return np.where((c >= shadow_cols[0]) & (c < shadow_cols[1]), 0.0, 14.0)

    plan = plan_traverse(
        cost=cost,
        keepout=np.zeros(cost.shape, bool),
        transform=T,
        start_cell=(10, 140),
        candidates=_cands([[10, 390]], [5.0]),
        rover=ROVER,
        solar_w=solar,
        ops=Operations(mission_s=3 * 86400, start_soc_wh=20.0),
    )
    tl = plan.timeline
    assert len(plan.stops) == 2
    assert tl["soc_wh"].min() >= ROVER.reserve_wh - 1e-9
    # 75 m in shadow costs 12 W for 3750 s of driving + 4 W for 14 turnarounds: ~21.8 Wh, more
    # than the ~8 Wh above reserve it has 5 m before the shadow: it must charge in the sun first.
    charge = tl["activity"] == "charge"
    assert charge.any()
    assert np.all(tl["col"][charge] < 150)
    in_shadow = (tl["col"] >= 150) & (tl["col"] < 300)
    assert np.all(tl["solar_w"][in_shadow] == 0.0)


def test_drives_only_inside_commanded_windows():
    cost = np.ones((20, 200))
    ops = Operations(mission_s=3 * 86400, window_start_h=0.0, window_length_h=4.0)
    plan = plan_traverse(
        cost=cost,
        keepout=np.zeros(cost.shape, bool),
        transform=T,
        start_cell=(10, 5),
        candidates=_cands([[10, 190]], [5.0]),
        rover=ROVER,
        solar_w=sunny(20.0),
        ops=ops,
    )
    tl = plan.timeline
    drives = tl["activity"] == "drive"
    assert drives.any()
    hour_of_day = (tl["t_s"][drives] % 86400) / 3600
    assert np.all(hour_of_day <= 4.0 + 1e-9)
    assert "window" in set(tl["activity"])


def test_keepout_is_never_crossed_and_unreachable_stops_are_left():
    cost = np.ones((40, 40))
    keep = np.zeros((40, 40), bool)
    keep[:, 20] = True  # a wall: the right half is cut off
    keep[5, 5] = True
    cands = _cands([[10, 30], [10, 10], [5, 5]], [9.0, 1.0, 50.0])
    plan = plan_traverse(
        cost=cost,
        keepout=keep,
        transform=T,
        start_cell=(20, 5),
        candidates=cands,
        rover=ROVER,
        solar_w=sunny(10.0),
    )
    assert [tuple(c) for c in plan.stops.cells[1:]] == [(10, 10)]
    for leg in plan.legs:
        assert not keep[leg[:, 0], leg[:, 1]].any()


def test_empty_plan_with_reason_when_start_is_in_keepout():
    keep = np.zeros((20, 20), bool)
    keep[10, 10] = True
    plan = plan_traverse(
        cost=np.ones((20, 20)),
        keepout=keep,
        transform=T,
        start_cell=(10, 10),
        candidates=_cands([[5, 5]], [1.0]),
        rover=ROVER,
        solar_w=sunny(10),
    )
    assert plan.empty and "keep-out" in plan.reason


def test_empty_plan_when_mission_too_short():
    plan = plan_traverse(
        cost=np.ones((20, 200)),
        keepout=np.zeros((20, 200), bool),
        transform=T,
        start_cell=(10, 5),
        candidates=_cands([[10, 190]], [5.0]),
        rover=ROVER,
        solar_w=sunny(10),
        ops=Operations(mission_s=600.0),
    )
    assert plan.empty and plan.reason


def test_same_seed_same_plan():
    rng = np.random.default_rng(1)
    cost = 1 + rng.random((60, 60)) * 3
    keep = rng.random((60, 60)) < 0.08
    cells = rng.integers(0, 60, (12, 2))
    keep[cells[:, 0], cells[:, 1]] = False
    keep[30, 30] = False
    cands = _cands(cells, rng.integers(1, 10, 12))
    a = plan_traverse(
        cost=cost,
        keepout=keep,
        transform=T,
        start_cell=(30, 30),
        candidates=cands,
        rover=ROVER,
        solar_w=sunny(9),
        ops=Operations(mission_s=86400 / 4),
    )
    b = plan_traverse(
        cost=cost,
        keepout=keep,
        transform=T,
        start_cell=(30, 30),
        candidates=cands,
        rover=ROVER,
        solar_w=sunny(9),
        ops=Operations(mission_s=86400 / 4),
    )
    np.testing.assert_array_equal(a.stops.cells, b.stops.cells)
    np.testing.assert_array_equal(a.timeline["t_s"], b.timeline["t_s"])
    assert len(a.stops) >= 3


def test_planner_output_passes_the_checker_with_stops_on_one_cell():
    """Two candidates on one cell (a leg without a step) and a stop near a window's end: the
    planner's own plans must pass the independent checker (rule-by-rule cases are in
    test_traverse_checker.py)."""
    cost = np.ones((30, 60))
    keep = np.zeros((30, 60), bool)
    ops = Operations(mission_s=2 * 86400, window_length_h=1.0)
    kw = dict(keepout=keep, rover=ROVER, ops=ops, solar_w=sunny(10.0), transform=T)
    plan = plan_traverse(
        cost=cost,
        start_cell=(15, 5),
        candidates=_cands([[15, 50], [15, 50], [5, 30]], [5.0, 4.0, 3.0]),
        **kw,
    )
    assert len(plan.stops) == 4
    assert check_plan(plan, **kw) == []
    same = [k for k in range(1, 4) if tuple(plan.stops.cells[k]) == (15, 50)]
    assert len(same) == 2 and abs(same[0] - same[1]) == 1
    # departure is when the rover starts to move: after the dwell and any wait for a window
    tl = plan.timeline
    first_drive = np.flatnonzero(tl["activity"] == "drive")[0]
    assert plan.departure_s[0] == tl["t_s"][first_drive - 1]
    assert np.all(plan.departure_s - plan.arrival_s >= plan.stops.dwell_s - 1e-9)


@pytest.mark.parametrize("dwell_s", [84200.0, 84207.0, 84214.0, 84221.0])
def test_a_window_gap_shorter_than_a_step_is_waited_out(dwell_s):
    """Windows of 23.995 h leave an 18 s gap, shorter than one 25 s step. A long dwell at the
    first stop puts the drive to the second across the gap (at four phases): no drive may
    straddle it, and the 18 s wait is no command turnaround (the checker knows both)."""
    cost = np.ones((20, 80))
    ops = Operations(mission_s=3 * 86400, window_start_h=0.0, window_length_h=23.995)
    kw = dict(keepout=np.zeros(cost.shape, bool), rover=ROVER, ops=ops, solar_w=sunny(20.0))
    plan = plan_traverse(
        cost=cost,
        transform=T,
        start_cell=(10, 5),
        candidates=_cands([[10, 25], [10, 65]], [5.0, 5.0], dwell=dwell_s),
        **kw,
    )
    assert check_plan(plan, transform=T, **kw) == []
    assert len(plan.stops) == 3
    tl = plan.timeline
    gap = 23.995 * 3600
    assert plan.departure_s[1] < gap < plan.arrival_s[2]
    drives = np.flatnonzero(tl["activity"] == "drive")
    t0, t1 = tl["t_s"][drives - 1], tl["t_s"][drives]
    assert not np.any((t0 < gap) & (t1 > gap))  # no drive across the window's end
    assert "window" in set(tl["activity"][drives.min() :])


def test_candidate_stops_respect_keepout_link_plume_and_spacing():
    n = 200
    rows, cols = np.indices((n, n))
    T1 = Affine(0.5, 0, -50, 0, -0.5, 50)
    x, y = T1 @ (cols + 0.5, rows + 0.5)
    keep = np.hypot(x, y) < 2.0
    keep[:, :20] = True
    comm = np.hypot(x, y) < 40.0
    slope = np.full((n, n), 2.0)
    risk = np.zeros((n, n))
    cands = candidate_stops(
        keepout=keep,
        slope_deg=slope,
        rock_risk=risk,
        transform=T1,
        lander_xy=(0.0, 0.0),
        comm_ok=comm,
        lander_view=comm,
        craters=(np.array([25.0]), np.array([0.0]), np.array([6.0]), np.array([0.9])),
        rocks=(np.array([-25.0]), np.array([10.0]), np.array([1.5])),
        targets=(np.array([10.0]), np.array([-30.0]), np.array([2.0]), ["lava tube"]),
        rules=StopRules(min_spacing_m=8.0),
    )
    r, c = cands.cells.T
    assert not keep[r, c].any() and comm[r, c].all()
    d = np.hypot(cands.x, cands.y)
    scoop = np.array([k == "scoop" for k in cands.kind])
    assert scoop.any() and np.all(d[scoop] >= 20.0)
    assert {"crater", "boulder", "moonhouse", "target", "scoop"} <= set(cands.kind)
    gaps = np.hypot(cands.x[:, None] - cands.x[None], cands.y[:, None] - cands.y[None])
    np.fill_diagonal(gaps, np.inf)
    same = np.array(cands.kind)[:, None] == np.array(cands.kind)[None]
    assert gaps[same].min() >= 8.0  # spacing holds within each kind
    assert all(reason for reason in cands.reason)


def test_bad_rover_model_is_refused():
    with pytest.raises(PlanningError, match="reserve"):
        dataclasses.replace(ROVER, reserve_wh=50.0)
