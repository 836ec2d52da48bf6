"""Plans with the ground's command cycle (a Cadence): timelines derived by hand.

Every plan here also becomes a command sequence (``build_sequence``) that must pass the
independent checker with flight rules stated from the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from frigoris.planners.errors import PlanningError
from frigoris.planners.sequence import build_sequence
from frigoris.planners.sequence_check import FlightRules, check_sequence
from frigoris.planners.stops import Candidates
from frigoris.planners.traverse import Cadence, Operations, RoverModel, plan_traverse

T = Affine(0.5, 0, 0, 0, -0.5, 50)
SHAPE = (30, 40)
ROVER = RoverModel(
    speed_m_s=0.02,
    drive_power_w=12.0,
    idle_power_w=4.0,
    battery_wh=40.0,
    reserve_wh=12.0,
    max_drive_per_cycle_m=5.0,
    cycle_overhead_s=615.0,
)
CAD = Cadence(
    nav_bits=1000.0,
    link_bit_s=100.0,  # 10 s of downlink per cycle
    ground_s=600.0,
    uplink_s=5.0,
    stop_bits=(("scoop", 2000.0),),  # 20 s
    min_sun_elevation_deg=5.0,
    sun_elevation_deg=lambda t: 20.0,
    max_cycle_risk=1.0,
    footprint_m=0.5,
)


def cands(cells, values, kind="scoop", dwell=1800.0):
    cells = np.asarray(cells)
    x, y = T @ (cells[:, 1] + 0.5, cells[:, 0] + 0.5)
    k = len(cells)
    return Candidates(
        np.asarray(x),
        np.asarray(y),
        cells,
        (kind,) * k,
        np.asarray(values, float),
        np.full(k, dwell),
        tuple(f"c{i}" for i in range(k)),
        ("",) * k,
    )


def sunny(t, r, c):
    return np.full(np.shape(t), 10.0)


def plan(candidates, *, ops=None, cadence=CAD, risk=None, solar=sunny):
    ops = ops or Operations(mission_s=86400.0 * 3, window_length_h=24.0, start_soc_wh=30.0)
    ops = Operations(**{**ops.__dict__, "cadence": cadence})
    return plan_traverse(
        cost=np.ones(SHAPE),
        keepout=np.zeros(SHAPE, bool),
        transform=T,
        start_cell=(10, 10),
        candidates=candidates,
        rover=ROVER,
        solar_w=solar,
        ops=ops,
        risk=risk,
    )


def checked(p, ops, cadence=CAD, risk=None, solar=sunny):
    """The plan's sequence against flight rules stated from the same numbers: no violation."""
    doc = build_sequence(p, cadence=cadence, start_heading_deg=90.0)
    rules = FlightRules(
        max_drive_per_cycle_m=ROVER.max_drive_per_cycle_m,
        speed_m_s=ROVER.speed_m_s,
        battery_wh=ROVER.battery_wh,
        reserve_wh=ROVER.reserve_wh,
        drive_power_w=ROVER.drive_power_w,
        idle_power_w=ROVER.idle_power_w,
        max_cycle_risk=cadence.max_cycle_risk,
        footprint_m=cadence.footprint_m,
        min_link_margin_db=3.0,
        min_sun_elevation_deg=cadence.min_sun_elevation_deg,
        link_bit_s=cadence.link_bit_s,
        ground_s=cadence.ground_s,
        uplink_s=cadence.uplink_s,
        window_start_h=ops.window_start_h,
        window_length_h=ops.window_length_h,
        relay_start_h=0.0,
        relay_length_h=24.0,
        mission_s=ops.mission_s,
        energy_step_s=cadence.energy_step_s,
    )
    v = check_sequence(
        doc,
        rules=rules,
        keepout=np.zeros(SHAPE, bool),
        risk=np.zeros(SHAPE) if risk is None else risk,
        link_margin_db=np.full(SHAPE, 10.0),
        transform=T,
        solar_w=solar,
        sun_elevation_deg=cadence.sun_elevation_deg,
    )
    assert v == [], [str(x) for x in v]
    return doc


def test_one_stop_by_hand():
    """8 cells east (4 m, one cycle): the ground plans (615 s), the drive (200 s) reaches the
    stop at 815 s, the ground confirms it (615 s), the scoop (1800 s), its images go down
    (20 s) and the ground plans on (605 s): the plan ends at 815 + 615 + 1800 + 625 = 3855 s."""
    ops = Operations(mission_s=86400.0 * 3, window_length_h=24.0, start_soc_wh=30.0)
    p = plan(cands([[10, 18]], [5.0]), ops=ops)
    assert p.arrival_s[1] == pytest.approx(815.0)
    assert p.duration_s == pytest.approx(3855.0)
    assert list(p.timeline["activity"]).count("uplink") == 3
    doc = checked(p, Operations(**{**ops.__dict__, "cadence": CAD}))
    drives = [c for cyc in doc["cycles"] for c in cyc["commands"] if c["type"] == "drive"]
    assert len(drives) == 1 and drives[0]["distance_m"] == pytest.approx(4.0)
    assert drives[0]["segments"] == [
        {
            "heading_deg": pytest.approx(90.0),
            "distance_m": pytest.approx(4.0),
            "to_xy": [9.25, 44.75],
        }
    ]


def test_the_turnaround_counts_window_time_only():
    """A 715 s window each day. The first turnaround (615 s) fits; three 25 s steps fit
    before the window closes at 715 s (a step must end strictly inside it), the other five
    run from 86400 s: the stop at 86525 s. Its turnaround gets 10 s of downlink and 580 s of
    ground work before the window closes (87115 s), the other 20 s the next day, then the
    uplink: 172800 + 20 + 5 = 172825 s. The scoop's images (20 s) and the ground's 600 s
    follow: 172825 + 20 + 600 + 5 = 173450 s."""
    ops = Operations(mission_s=86400.0 * 4, window_length_h=715.0 / 3600.0, start_soc_wh=30.0)
    p = plan(cands([[10, 18]], [5.0], dwell=0.0), ops=ops)
    t, act = p.timeline["t_s"], p.timeline["activity"]
    drive = np.flatnonzero(act == "drive")
    assert t[drive] == pytest.approx([640, 665, 690, 86425, 86450, 86475, 86500, 86525])
    assert t[act == "uplink"] == pytest.approx([615.0, 172825.0, 173450.0])
    checked(p, Operations(**{**ops.__dict__, "cadence": CAD}))


def test_an_uplink_is_never_cut_by_the_window_close():
    """A 613 s window each day. The first turnaround's downlink (10 s) and ground work
    (600 s) end at 610 s; the 5 s uplink would end at 615 s, past the close: the whole file
    goes up when the window opens again, 86400-86405 s, and the first drive starts then (a
    file cut at the close would have ended at 86402 s, and the sequence checker refuses a
    turnaround whose uplink is short)."""
    ops = Operations(mission_s=86400.0 * 4, window_length_h=613.0 / 3600.0, start_soc_wh=30.0)
    p = plan(cands([[10, 14]], [5.0], dwell=0.0), ops=ops)
    t, act = p.timeline["t_s"], p.timeline["activity"]
    up = np.flatnonzero(act == "uplink")
    assert t[up[0]] == pytest.approx(86405.0) and t[up[0] - 1] == pytest.approx(86400.0)
    before = [a for a in act[: up[0]] if a != "window"]
    assert act[up[0] - 1] == "window" and before[-1] == "ground"
    assert t[np.flatnonzero(act == "drive")[0]] == pytest.approx(86405.0 + 25.0)
    # every uplink is one stretch of 5 s of window time, never two
    starts = t[up - 1]
    assert t[up] - starts == pytest.approx(np.full(len(up), 5.0))
    checked(p, Operations(**{**ops.__dict__, "cadence": CAD}))


def test_an_uplink_longer_than_the_window_is_refused():
    ops = Operations(mission_s=86400.0 * 4, window_length_h=4.0 / 3600.0, start_soc_wh=30.0)
    with pytest.raises(PlanningError, match="uplink of 5 s does not fit in a 0.00111111 h"):
        plan(cands([[10, 14]], [5.0], dwell=0.0), ops=ops)


def test_diminishing_returns_by_rank_within_a_kind():
    """Three scoops worth 10, 9 and 8 with a factor of 0.1: 10 + 0.9 + 0.08, whatever the
    order of the visits; with one scoop made before: 1 + 0.09 + 0.008."""
    c = cands([[10, 14], [10, 20], [10, 26]], [8.0, 9.0, 10.0], dwell=60.0)
    base = Operations(
        mission_s=86400.0 * 3,
        window_length_h=24.0,
        start_soc_wh=30.0,
        repeat_factor=(("scoop", 0.1),),
    )
    p = plan(c, ops=base)
    assert sorted(p.stops.value[1:]) == pytest.approx([0.08, 0.9, 10.0])
    assert p.value == pytest.approx(10.98)
    done = Operations(**{**base.__dict__, "done_kinds": (("scoop", 1),)})
    q = plan(c, ops=done)
    assert sorted(q.stops.value[1:]) == pytest.approx([0.008, 0.09, 1.0])
    assert "the second scoop of the mission counts 0.1" in " ".join(p.stops.reason)


def test_risk_shortens_the_cycles():
    """Risk 0.01 per 0.5 m cell and at most 0.03 per cycle: three steps a cycle (1 - 0.99**3
    = 0.0297), not four (0.0394): 8 steps east take cycles of 3, 3 and 2 steps, so two
    turnarounds in the leg on top of the first one, the arrival's and the scoop's."""
    cad = Cadence(**{**CAD.__dict__, "max_cycle_risk": 0.03})
    risk = np.full(SHAPE, 0.01)
    ops = Operations(mission_s=86400.0 * 3, window_length_h=24.0, start_soc_wh=30.0)
    p = plan(cands([[10, 18]], [5.0]), ops=ops, cadence=cad, risk=risk)
    assert list(p.timeline["activity"]).count("uplink") == 5
    act = p.timeline["activity"]
    runs = [len(g) for g in "".join("d" if a == "drive" else "." for a in act).split(".") if g]
    assert runs == [3, 3, 2]
    checked(p, Operations(**{**ops.__dict__, "cadence": cad}), cadence=cad, risk=risk)


def test_no_drive_and_no_scoop_with_the_sun_too_low():
    """The Sun is at 2 deg until 5000 s, then at 20: no image before it rises (the rover waits
    in 300 s energy steps, to 5100 s), then the ground's turnaround (615 s): the first drive
    starts at 5715 s."""
    cad = Cadence(**{**CAD.__dict__, "sun_elevation_deg": lambda t: 2.0 if t < 5000.0 else 20.0})
    ops = Operations(mission_s=86400.0 * 3, window_length_h=24.0, start_soc_wh=30.0)
    p = plan(cands([[10, 18]], [5.0]), ops=ops, cadence=cad)
    act, t = p.timeline["activity"], p.timeline["t_s"]
    first = np.flatnonzero(act == "drive")[0]
    assert t[first - 1] == pytest.approx(5715.0)
    assert "sun" in set(act)
    checked(p, Operations(**{**ops.__dict__, "cadence": cad}), cadence=cad)


def test_parked_energy_is_split_at_the_energy_step():
    """Every parked row ends on a multiple of 300 s or where the activity changes."""
    ops = Operations(mission_s=86400.0 * 3, window_length_h=24.0, start_soc_wh=30.0)
    p = plan(cands([[10, 18]], [5.0]), ops=ops)
    t, act = p.timeline["t_s"], p.timeline["activity"]
    for i in range(1, len(t) - 1):
        if act[i] != "drive" and act[i + 1] == act[i]:
            assert t[i] / 300.0 == pytest.approx(round(t[i] / 300.0), abs=1e-9), (i, t[i])


def test_a_stop_worth_less_than_the_minimum_is_not_made():
    """The same three scoops with stops worth at least 0.5: 10 and 0.9, not the 0.08 one; at
    exactly 0.9 the second is still made (a twin just inside the limit)."""
    c = cands([[10, 14], [10, 20], [10, 26]], [8.0, 9.0, 10.0], dwell=60.0)
    ops = Operations(
        mission_s=86400.0 * 3,
        window_length_h=24.0,
        start_soc_wh=30.0,
        repeat_factor=(("scoop", 0.1),),
        min_stop_value=0.5,
    )
    assert sorted(plan(c, ops=ops).stops.value[1:]) == pytest.approx([0.9, 10.0])
    twin = Operations(**{**ops.__dict__, "min_stop_value": 0.9})
    assert sorted(plan(c, ops=twin).stops.value[1:]) == pytest.approx([0.9, 10.0])
    over = Operations(**{**ops.__dict__, "min_stop_value": 0.91})
    assert sorted(plan(c, ops=over).stops.value[1:]) == pytest.approx([10.0])


def test_paths_go_around_a_cell_no_single_step_may_cross():
    # a wall of cells whose one step alone is riskier than a whole cycle may be, with a gap:
    # the simulation refuses such a step, so the path must take the gap (not give up the stop)
    cad = Cadence(**{**CAD.__dict__, "max_cycle_risk": 0.1})
    risk = np.zeros(SHAPE)
    risk[0:25, 14] = 0.3  # one diagonal 0.71 m step: 1 - 0.7 ** 1.41 = 0.40 > 0.1
    p = plan(cands([[10, 18]], [5.0]), cadence=cad, risk=risk)
    assert len(p.stops) == 2 and not p.dropped
    crossed = np.concatenate(p.legs)
    assert (crossed[crossed[:, 1] == 14, 0] >= 25).all()  # through the gap, never the wall
    ops = Operations(mission_s=86400.0 * 3, window_length_h=24.0, start_soc_wh=30.0)
    checked(p, Operations(**{**ops.__dict__, "cadence": cad}), cadence=cad, risk=risk)
    # without the gap the stop cannot be reached, and the plan says so instead of failing later
    risk[:, 14] = 0.3
    p = plan(cands([[10, 18]], [5.0]), cadence=cad, risk=risk)
    assert len(p.stops) == 1 and "riskier in one step" in p.reason


def test_no_first_cycle_is_an_empty_plan_with_its_reason_not_a_crash():
    # the Sun never above the drive limit (a polar site at 1 deg): the ground cannot even plan
    # a first move, so the plan stays at the start and says why
    cad = Cadence(**{**CAD.__dict__, "sun_elevation_deg": lambda t: np.full(np.shape(t), 1.0)})
    p = plan(cands([[10, 18]], [5.0]), cadence=cad)
    assert len(p.stops) == 1 and p.distance_m == 0.0
    assert "first command cycle" in p.reason
