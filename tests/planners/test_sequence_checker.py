"""The sequence checker, rule by rule: each case breaks exactly one rule, its twin stays inside.

Sequences here are built by hand, not by the planner or the sequence builder: a few cells on a
6 x 12 grid of 0.5 m pixels, commands laid out by the small builder below (its own step
lengths, its own battery sums split at multiples of the energy step, its own bookkeeping),
then one thing changed. Every break asserts that the violations it gets all belong to the rule
it breaks (and that there is one); its twin, just inside the same limit, passes with no
violation at all.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib

import numpy as np
import pytest
from affine import Affine

from frigoris.planners.errors import PlanningError
from frigoris.planners.sequence_check import (
    RULES,
    SEQ_SOC_TOL,
    SEQ_TIME_TOL_S,
    FlightRules,
    Violation,
    _inverse,
    blocking,
    check_sequence,
)

T = Affine(0.5, 0, 100.0, 0, -0.5, 50.0)  # 0.5 m pixels, origin away from 0
SHAPE = (6, 12)
RULES_ = FlightRules(
    max_drive_per_cycle_m=2.0,
    speed_m_s=0.02,
    battery_wh=40.0,
    reserve_wh=12.0,
    drive_power_w=12.0,
    idle_power_w=4.0,
    max_cycle_risk=0.05,
    footprint_m=0.5,
    min_link_margin_db=3.0,
    min_sun_elevation_deg=5.0,
    link_bit_s=1000.0,
    ground_s=600.0,
    uplink_s=10.0,
    window_start_h=0.0,
    window_length_h=12.0,
    relay_start_h=0.0,
    relay_length_h=24.0,
    mission_s=86400.0,
    energy_step_s=300.0,
)
NAV_BITS = 50_000.0
SCI_BITS = 80_000.0


def sun(t, r, c):
    """Varies with time and place: a checker integrating at the wrong time or cell fails."""
    return 6.0 + 0.002 * np.asarray(t) + 0.3 * np.asarray(c) + 0.1 * np.asarray(r)


def sun_el(t):
    return 20.0 + 0.001 * float(t)


def centre(cell):
    x, y = T @ (cell[1] + 0.5, cell[0] + 0.5)
    return float(x), float(y)


# the base: ground plans; drive 2 m east; drive 1.207 m to the scoop; scoop; its images go down
LEG1 = [(2, 1), (2, 2), (2, 3), (2, 4), (2, 5)]
LEG2 = [(2, 5), (3, 6), (4, 6)]


def turnaround(bits, *, ground=600.0, uplink=10.0, purpose="navigation", stop=None):
    out = [dict(type="image", dt=0.0, bits=bits, purpose=purpose, stop=stop)]
    out.append(dict(type="downlink", dt=bits / RULES_.link_bit_s, bits=bits))
    out.append(dict(type="wait", reason="ground", dt=ground))
    out.append(dict(type="wait", reason="uplink", dt=uplink))
    return out


def plan(**kw):
    """The base command list (dicts the builder lays out); ``kw`` replace its parts."""
    return [
        *turnaround(NAV_BITS),
        dict(type="drive", cells=kw.get("leg1", LEG1), speed=kw.get("speed", RULES_.speed_m_s)),
        *turnaround(NAV_BITS, ground=kw.get("ground", 600.0)),
        dict(type="drive", cells=LEG2, speed=RULES_.speed_m_s),
        *turnaround(NAV_BITS),
        dict(type="scoop", dt=300.0, stop=1),
        *turnaround(SCI_BITS, purpose="science", stop=1),
    ]


def build(commands, *, start=(2, 1), soc0=30.0, t0=0.0, solar=sun):
    """A sequence document from command dicts: times, positions and battery summed here."""
    g = RULES_.energy_step_s
    x, y = centre(start)
    doc = {"start": {"t_s": t0, "x_m": x, "y_m": y, "heading_deg": 90.0, "battery_wh": soc0}}
    cycles = [{"cycle": 0, "commands": []}]
    t, soc, cell = t0, soc0, start
    for n, spec in enumerate(commands):
        c = dict(spec)
        kind = c["type"]
        c["t_start_s"] = t
        c["id"] = f"{cycles[-1]['cycle']:03d}.{n:02d}"
        c["rules"] = []
        if kind == "drive":
            cells = c.pop("cells")
            speed = c.pop("speed")
            path = [centre(p) for p in cells]
            for p0, p1, cl in zip(path[:-1], path[1:], cells[1:], strict=True):
                d = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
                dt = d / speed
                p = float(solar(np.array([t + dt / 2]), np.array([cl[0]]), np.array([cl[1]]))[0])
                soc = min(RULES_.battery_wh, soc + (p - RULES_.drive_power_w) * dt / 3600)
                t += dt
            c["path_xy"] = [list(p) for p in path]
            dx, dy = path[-1][0] - path[0][0], path[-1][1] - path[0][1]
            segs, (sx, sy) = [], path[0]
            for p0, p1 in zip(path[:-1], path[1:], strict=True):
                h = math.degrees(math.atan2(p1[0] - p0[0], p1[1] - p0[1])) % 360
                d = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
                if segs and abs(segs[-1]["heading_deg"] - h) < 1e-9:
                    segs[-1]["distance_m"] += d
                    segs[-1]["to_xy"] = list(p1)
                else:
                    segs.append({"heading_deg": h, "distance_m": d, "to_xy": list(p1)})
            del dx, dy, sx, sy
            c["segments"] = segs
            c["distance_m"] = sum(s["distance_m"] for s in segs)
            cell = cells[-1]
        else:
            dt = c.pop("dt")
            cuts = [t]
            k = math.floor(t / g) + 1
            while k * g < t + dt - 1e-9:
                if k * g > t + 1e-9:
                    cuts.append(k * g)
                k += 1
            cuts.append(t + dt)
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                p = float(
                    solar(np.array([(a + b) / 2]), np.array([cell[0]]), np.array([cell[1]]))[0]
                )
                soc = min(RULES_.battery_wh, soc + (p - RULES_.idle_power_w) * (b - a) / 3600)
            t += dt
        c["t_end_s"] = t
        c["x_m"], c["y_m"] = centre(cell)
        c["battery_wh"] = soc
        cycles[-1]["commands"].append(c)
        if kind == "wait" and c.get("reason") == "uplink":
            cycles.append({"cycle": cycles[-1]["cycle"] + 1, "commands": []})
    doc["cycles"] = [c for c in cycles if c["commands"]]
    return doc


def check(
    doc, *, rules=RULES_, keepout=None, risk=None, margin=None, solar=sun, el=sun_el, waived=()
):
    return check_sequence(
        doc,
        rules=rules,
        keepout=np.zeros(SHAPE, bool) if keepout is None else keepout,
        risk=np.zeros(SHAPE) if risk is None else risk,
        link_margin_db=np.full(SHAPE, 10.0) if margin is None else margin,
        transform=T,
        solar_w=solar,
        sun_elevation_deg=el,
        waived=waived,
    )


def only(violations, rule):
    assert violations, f"nothing broke; expected {rule}"
    assert {v.rule for v in violations} == {rule}, [str(v) for v in violations]
    return violations[0].message


def commands(doc):
    return [c for cyc in doc["cycles"] for c in cyc["commands"]]


def test_the_hand_built_base_passes():
    assert check(build(plan())) == []


def test_every_rule_has_its_tests():
    here = pathlib.Path(__file__).read_text()
    for rule in RULES:
        assert f"def test_{rule}_" in here, rule


# -- clock -----------------------------------------------------------------------------------


def test_clock_a_gap_between_commands():
    doc = build(plan())
    for c in commands(doc)[5:]:
        c["t_start_s"] += 1e-3
        c["t_end_s"] += 1e-3
    assert "starts at" in only(check(doc), "clock")


def test_clock_twin_a_gap_inside_the_float_slack():
    doc = build(plan())
    for c in commands(doc)[5:]:
        c["t_start_s"] += 0.5 * SEQ_TIME_TOL_S
        c["t_end_s"] += 0.5 * SEQ_TIME_TOL_S
    assert check(doc) == []


def test_clock_ends_after_the_mission():
    doc = build(plan())
    end = commands(doc)[-1]["t_end_s"]
    assert "after the mission" in only(
        check(doc, rules=dataclasses.replace(RULES_, mission_s=end - 1e-3)), "clock"
    )
    assert check(doc, rules=dataclasses.replace(RULES_, mission_s=end)) == []


# -- continuity ------------------------------------------------------------------------------


def test_continuity_a_parked_command_moves():
    doc = build(plan())
    commands(doc)[2]["x_m"] += 0.01
    assert "is parked but ends" in only(check(doc), "continuity")


def test_continuity_twin_within_float_slack():
    doc = build(plan())
    commands(doc)[2]["x_m"] += 5e-7
    assert check(doc) == []


def test_continuity_segments_that_leave_the_path():
    doc = build(plan())
    drive = commands(doc)[4]
    drive["segments"][0]["heading_deg"] += 1.0
    assert "does not end on the path" in only(check(doc), "continuity")


def test_continuity_first_drive_outside_the_rovers_cell():
    # the rover is known to stand 0.2 m off its cell's centre: the drive may start at the
    # centre of that cell (twin), not one cell over (break); the Sun is the same everywhere,
    # so only the place is wrong, not the battery
    def even(t, r, c):
        return 6.0 + 0.002 * np.asarray(t)

    doc = build(plan(), solar=even)
    doc["start"]["x_m"] += 0.2
    for c in commands(doc)[:4]:
        c["x_m"] += 0.2
    assert check(doc, solar=even) == []
    doc["start"]["x_m"] += 0.2
    for c in commands(doc)[:4]:
        c["x_m"] += 0.2
    assert only(check(doc, solar=even), "continuity") == (
        "command 001.04 (drive) starts at (100.750, 48.750), not in the cell of the rover at "
        "(101.150, 48.750)"
    )


# -- speed -----------------------------------------------------------------------------------


def test_speed_a_drive_faster_than_the_rover():
    doc = build(plan())
    cmds = commands(doc)
    drive = cmds[4]
    length = drive["distance_m"]
    fast = length / (RULES_.speed_m_s * 1.01)
    shift = (drive["t_end_s"] - drive["t_start_s"]) - fast
    drive["t_end_s"] -= shift
    for c in cmds[5:]:
        c["t_start_s"] -= shift
        c["t_end_s"] -= shift
    v = check(doc)
    assert "faster than" in v[[x.rule for x in v].index("speed")].message
    # a faster drive also changes the battery: the checker says so under its own rule
    assert {x.rule for x in v} <= {"speed", "battery"}


def test_speed_twin_exactly_at_the_rovers_speed():
    doc = build(plan(speed=RULES_.speed_m_s))
    assert check(doc) == []


# -- cycle distance --------------------------------------------------------------------------


def test_cycle_distance_over_the_limit():
    doc = build(plan(leg1=[(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)]), start=(2, 1))
    # leg 2 must start where leg 1 now ends: shift the second drive's path by hand
    doc2 = build(
        [
            *turnaround(NAV_BITS),
            dict(type="drive", cells=[(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)], speed=0.02),
            *turnaround(NAV_BITS),
        ]
    )
    del doc
    assert "more than 2 m" in only(check(doc2), "cycle_distance")


def test_cycle_distance_twin_exactly_at_the_limit():
    doc = build(
        [
            *turnaround(NAV_BITS),
            dict(type="drive", cells=LEG1, speed=0.02),  # 4 x 0.5 m = 2.0 m
            *turnaround(NAV_BITS),
        ]
    )
    assert check(doc) == []


# -- keep-out --------------------------------------------------------------------------------


def test_keepout_a_drive_through_keep_out():
    ko = np.zeros(SHAPE, bool)
    ko[2, 3] = True
    assert "enters keep-out" in only(check(build(plan()), keepout=ko), "keepout")


def test_keepout_twin_keep_out_beside_the_path():
    ko = np.zeros(SHAPE, bool)
    ko[3, 5] = True  # the diagonal (2,5) -> (3,6) passes its corner, never its inside
    ko[1, :] = True
    assert check(build(plan()), keepout=ko) == []


def test_keepout_parked_in_keep_out():
    ko = np.zeros(SHAPE, bool)
    ko[4, 6] = True  # the scoop's cell, reached by the last drive
    v = check(build(plan()), keepout=ko)
    assert only(v, "keepout")


# -- risk ------------------------------------------------------------------------------------


def _risk_at_limit():
    # the first cycle drives 4 steps of 0.5 m = 4 footprints: 1 - (1 - r)^4 = max
    return 1.0 - (1.0 - RULES_.max_cycle_risk) ** 0.25


def test_risk_a_cycle_too_likely_to_meet_a_hazard():
    risk = np.full(SHAPE, _risk_at_limit() * 1.001)
    risk[3:, :] = 0.0
    # 1 - (1 - 1.001 r)^4 with 1 - (1 - r)^4 = 0.05: 0.05005, printed to 4 places
    assert only(check(build(plan()), risk=risk), "risk") == (
        "the command cycle of command 001.04 (drive) has a 0.0500 chance of meeting a hazard "
        "the DEM cannot show, above 0.05"
    )


def test_risk_twin_just_at_the_limit():
    risk = np.full(SHAPE, _risk_at_limit() * (1 - 1e-6))
    risk[3:, :] = 0.0
    assert check(build(plan()), risk=risk) == []


# -- link ------------------------------------------------------------------------------------


def test_link_a_drive_below_the_margin():
    margin = np.full(SHAPE, 10.0)
    margin[2, 4] = 2.99
    assert "link margin" in only(check(build(plan()), margin=margin), "link")


def test_link_twin_exactly_the_margin():
    margin = np.full(SHAPE, 10.0)
    margin[2, 4] = 3.0
    margin[0, :] = -np.inf  # off the path: no link there is fine
    assert check(build(plan()), margin=margin) == []


def test_link_a_downlink_without_link():
    margin = np.full(SHAPE, 10.0)
    margin[2, 1] = -np.inf  # the start cell: the first downlink is sent from there
    v = check(build(plan()), margin=margin)
    assert "sends from a link margin" in only(v, "link")


# -- battery ---------------------------------------------------------------------------------


def test_battery_below_the_reserve():
    # in the dark the idle draw runs the battery down: start just high enough (twin) or not
    def dark(t, r, c):
        return np.zeros(np.shape(t))

    need = None
    doc = build(plan(), soc0=40.0, solar=dark)
    low = min(c["battery_wh"] for c in commands(doc))
    need = 40.0 - low  # what the sequence uses
    doc = build(plan(), soc0=RULES_.reserve_wh + need - 1e-3, solar=dark)
    assert "below the 12 Wh reserve" in only(check(doc, solar=dark), "battery")


def test_battery_twin_just_above_the_reserve():
    def dark(t, r, c):
        return np.zeros(np.shape(t))

    doc = build(plan(), soc0=40.0, solar=dark)
    need = 40.0 - min(c["battery_wh"] for c in commands(doc))
    doc = build(plan(), soc0=RULES_.reserve_wh + need + 1e-9, solar=dark)
    assert check(doc, solar=dark) == []


def test_battery_a_command_states_the_wrong_charge():
    doc = build(plan())
    commands(doc)[6]["battery_wh"] += 1e-3
    assert "re-integrated battery" in only(check(doc), "battery")


def test_battery_twin_stated_within_the_float_slack():
    doc = build(plan())
    commands(doc)[6]["battery_wh"] += 0.5 * SEQ_SOC_TOL * RULES_.battery_wh
    assert check(doc) == []


def test_battery_solar_at_the_wrong_cell_is_noticed():
    # the builder's sums at the right cells pass; a sun that differs by place changes them
    doc = build(plan())

    def shifted(t, r, c):
        return sun(t, r, np.asarray(c) + 1)

    assert only(check(doc, solar=shifted), "battery")


# -- data ------------------------------------------------------------------------------------


def test_data_a_downlink_faster_than_the_link():
    doc = build(plan())
    assert check(doc, rules=dataclasses.replace(RULES_, link_bit_s=1000.0)) == []
    v = check(doc, rules=dataclasses.replace(RULES_, link_bit_s=999.0))
    assert "bit/s allows" in only(v, "data")


def test_data_images_still_on_the_rover_when_the_ground_works():
    doc = build(plan())
    commands(doc)[1]["bits"] = NAV_BITS / 2  # half the images left behind
    assert "still on the rover" in only(check(doc), "data")


def test_data_twin_images_all_down_within_the_slack():
    doc = build(plan())
    commands(doc)[1]["bits"] = NAV_BITS * (1 - 1e-7)
    assert check(doc) == []


def test_data_a_downlink_outside_the_relay_window():
    rules = dataclasses.replace(RULES_, relay_start_h=0.0, relay_length_h=60.0 / 3600)
    v = check(build(plan()), rules=rules)
    assert "outside the lander's relay window" in only(v, "data")


# -- turnaround ------------------------------------------------------------------------------


def test_turnaround_the_ground_too_quick():
    # images down at 810 s, ground 810-1409 s, uplink ends at 1419 s: 609 s of the 610 s
    assert only(check(build(plan(ground=599.0))), "turnaround") == (
        "command 001.08 (wait) at 1419 s: 609.0 s of window since its images reached the "
        "ground, the ground needs 610.0 s"
    )


def test_turnaround_twin_exactly_the_grounds_time():
    assert check(build(plan(ground=600.0))) == []


def test_turnaround_the_rover_acts_before_its_images_are_seen():
    # the scoop runs after its images went down: the ground plans on images it has not seen
    late = plan()
    i = [c["type"] for c in late].index("scoop")
    scoop = late.pop(i)
    late.insert(i + 2, scoop)  # image, downlink, scoop, ground, uplink
    v = check(build(late))
    assert "acts before its images are seen" in only(v, "turnaround")


# -- window ----------------------------------------------------------------------------------


def test_window_a_drive_after_the_window_closes():
    doc = build([*turnaround(NAV_BITS), dict(type="drive", cells=LEG1, speed=0.02)])
    drive = commands(doc)[-1]
    rules = dataclasses.replace(RULES_, window_length_h=(drive["t_end_s"] - 1.0) / 3600)
    assert "outside the commanding window" in only(check(doc, rules=rules), "window")


def test_window_twin_a_drive_ending_as_the_window_closes():
    doc = build([*turnaround(NAV_BITS), dict(type="drive", cells=LEG1, speed=0.02)])
    drive = commands(doc)[-1]
    rules = dataclasses.replace(RULES_, window_length_h=drive["t_end_s"] / 3600)
    assert check(doc, rules=rules) == []


def test_window_the_ground_works_off_shift():
    # the window closes 1 s into the ground's work of the first cycle; the ground's 600 s
    # then fall partly outside it (the turnaround's own time counts window time only, so the
    # uplink at 660 s is also too early: both rules speak, the window first)
    doc = build(plan())
    rules = dataclasses.replace(RULES_, window_length_h=(50.0 + 1.0) / 3600)
    v = check(doc, rules=rules)
    assert {x.rule for x in v} >= {"window"}
    assert "outside the commanding window" in next(x for x in v if x.rule == "window").message


# -- sun -------------------------------------------------------------------------------------


def test_sun_a_drive_with_the_sun_too_low():
    doc = build(plan())
    el = sun_el(commands(doc)[4]["t_start_s"])
    rules = dataclasses.replace(RULES_, min_sun_elevation_deg=el + 1e-6)
    assert "with the Sun at" in only(check(doc, rules=rules), "sun")


def test_sun_twin_exactly_the_lowest_sun():
    doc = build(plan())
    el = sun_el(0.0)  # the first image, at time 0, sees the lowest Sun of the sequence
    rules = dataclasses.replace(RULES_, min_sun_elevation_deg=el)
    assert check(doc, rules=rules) == []


# -- waivers and inputs ----------------------------------------------------------------------


def test_a_waived_rule_is_reported_but_does_not_block():
    margin = np.full(SHAPE, 10.0)
    margin[2, 4] = 2.99
    v = check(build(plan()), margin=margin, waived=("link",))
    assert [x.rule for x in v] == ["link"] and v[0].waived and blocking(v) == []
    assert str(v[0]).endswith("[waived]")


def test_a_waiver_must_name_a_rule():
    with pytest.raises(PlanningError, match="no flight rule named 'links'"):
        check(build(plan()), waived=("links",))


def test_layers_of_different_grids_are_refused():
    with pytest.raises(PlanningError, match="layers of one grid"):
        check(build(plan()), risk=np.zeros((3, 3)))


def test_a_document_that_is_not_a_sequence_is_refused():
    with pytest.raises(PlanningError, match="not a command sequence"):
        check({"cycles": []})


# -- each recorded violation on its own (every one is noticed when deleted) ------------------


def messages(violations, rule):
    return [v.message for v in violations if v.rule == rule]


def test_keepout_a_start_off_the_map():
    doc = build([*turnaround(NAV_BITS)])
    doc["start"]["x_m"] = 90.0
    for c in commands(doc):
        c["x_m"] = 90.0
    # off the map there is no Sun to integrate: the battery goes unjudged and says so
    assert "the start at (90.000" in messages(check(doc), "keepout")[0]


def test_keepout_the_rover_parked_in_keep_out_and_its_twin():
    doc = build([*turnaround(NAV_BITS)])
    ko = np.zeros(SHAPE, bool)
    ko[2, 2] = True  # the next cell east: fine
    assert check(doc, keepout=ko) == []
    ko[2, 1] = True  # the start cell: the rover waits for the ground there
    # the start, the downlink and the two waits are parked there (an image is taken where
    # the rover stands and is not judged again): four
    assert check(doc, keepout=ko) == [
        Violation("keepout", "the start at (100.750, 48.750) is in keep-out, cell (2, 1)", 4)
    ]


def test_battery_a_start_above_capacity_and_its_twin():
    assert check(build([*turnaround(NAV_BITS)], soc0=RULES_.battery_wh)) == []
    doc = build([*turnaround(NAV_BITS)], soc0=RULES_.battery_wh)
    doc["start"]["battery_wh"] = RULES_.battery_wh + 0.01
    assert "above the 40 Wh capacity" in check(doc)[0].message


def test_clock_a_sequence_that_does_not_start_at_zero_and_its_twin():
    doc = build(plan())
    doc["start"]["t_s"] = 0.5 * SEQ_TIME_TOL_S
    assert check(doc) == []
    doc["start"]["t_s"] = 1.0
    v = check(doc)
    assert messages(v, "clock")[0] == "the sequence starts at 1.000000 s, not at 0"


def test_clock_a_command_that_ends_before_it_starts():
    doc = build(plan())
    img = commands(doc)[5]
    assert img["type"] == "image"
    img["t_end_s"] = img["t_start_s"] - 1.0
    assert "before it starts" in only(check(doc), "clock")


def test_continuity_a_drive_of_one_point():
    doc = build(plan())
    commands(doc)[4]["path_xy"] = commands(doc)[4]["path_xy"][:1]
    assert "has a path of 1 point" in messages(check(doc), "continuity")[0]


def test_continuity_a_later_drive_away_from_the_rover():
    doc = build(plan())
    drive = commands(doc)[9]
    assert drive["type"] == "drive"
    drive["path_xy"] = [[x + 0.01, y] for x, y in drive["path_xy"]]
    # the start is off, so are the segments' points and the end: three, the first named
    assert [v for v in check(doc) if v.rule == "continuity"] == [
        Violation(
            "continuity",
            "command 002.09 (drive) starts at (102.760, 48.750), the rover is at (102.750, 48.750)",
            3,
        )
    ]


def test_continuity_segments_that_stop_short_of_the_path():
    doc = build(plan())
    drive = commands(doc)[9]
    assert len(drive["segments"]) == 2
    drive["segments"] = drive["segments"][:1]
    assert check(doc) == [
        Violation(
            "continuity",
            "command 002.09 (drive): its segments run 0.707107 m to (103.250, 48.250), its "
            "path 1.207107 m to (103.250, 47.750)",
        )
    ]


def test_continuity_a_drive_that_ends_off_its_path():
    doc = build(plan())
    commands(doc)[4]["x_m"] += 0.01
    assert "off its path's end" in messages(check(doc), "continuity")[0]


def test_keepout_a_drive_that_leaves_the_map():
    doc = build(plan())
    drive = commands(doc)[4]
    drive["path_xy"][-1] = [200.0, 48.75]
    assert any("leaves the map" in m for m in messages(check(doc), "keepout"))


def test_battery_a_drive_that_falls_below_the_reserve_and_its_twin():
    def dark(t, r, c):
        return np.zeros(np.shape(t))

    drive = [dict(type="drive", cells=LEG1, speed=0.02)]
    use = 40.0 - build(drive, soc0=40.0, solar=dark)["cycles"][0]["commands"][0]["battery_wh"]
    assert check(build(drive, soc0=RULES_.reserve_wh + use + 1e-9, solar=dark), solar=dark) == []
    v = check(build(drive, soc0=RULES_.reserve_wh + use - 1e-3, solar=dark), solar=dark)
    assert "falls to" in only(v, "battery") and " at 100 s" in v[0].message


def test_data_an_image_of_negative_size():
    doc = build(plan())
    commands(doc)[0]["bits"] = -1.0
    assert messages(check(doc), "data")[0].endswith("takes -1 bits")


def test_data_a_downlink_of_more_than_is_waiting_and_its_twin():
    rules = dataclasses.replace(RULES_, link_bit_s=2000.0)
    doc = build(plan())
    commands(doc)[1]["bits"] = NAV_BITS
    assert check(doc, rules=rules) == []
    commands(doc)[1]["bits"] = 1.5 * NAV_BITS
    # nothing is owed after it: the next cycles' downlinks send exactly their own images
    assert check(doc, rules=rules) == [
        Violation("data", "command 000.01 (downlink) sends 75000 bits, only 50000 are waiting")
    ]


def test_window_the_ground_waits_off_shift():
    doc = build([*turnaround(NAV_BITS)])
    rules = dataclasses.replace(RULES_, window_length_h=51.0 / 3600)
    v = check(doc, rules=rules)
    assert "(wait) from 50 s to 650 s is outside the commanding window" in messages(v, "window")[0]


def test_continuity_a_command_of_no_known_type():
    doc = build(plan())
    commands(doc)[2]["type"] = "dance"
    assert "no such command type" in only(check(doc), "continuity")


# -- what `make mutate` found untested: each test pins a branch no test above reached ---------


def test_the_cell_lookup_inverts_a_rotated_grid():
    # the checker's own inverse of the transform against affine's, off a north-up grid
    rotated = Affine.translation(100.0, 50.0) @ Affine.rotation(30.0) @ Affine.scale(0.5, -0.5)
    cell_of = _inverse(rotated)
    for r, c in [(0, 0), (2, 5), (5, 11), (-3, 7), (4, -2)]:
        x, y = rotated @ (c + 0.5, r + 0.5)
        assert cell_of(x, y) == (r, c)


def test_clock_a_start_without_a_time_starts_at_zero():
    doc = build(plan())
    del doc["start"]["t_s"]
    assert check(doc) == []


def test_link_twin_a_downlink_exactly_at_the_margin():
    margin = np.full(SHAPE, 10.0)
    margin[2, 1] = 3.0  # the start cell, where the first downlink is sent from
    assert check(build(plan()), margin=margin) == []


def test_continuity_a_segment_just_past_its_slack_and_its_twin():
    # the last segment of the second drive, 0.5 m south: run 1.5e-6 m too far it misses its
    # point (slack 1e-6 m for segments up to 1 m); 0.75e-6 m too far it is still on it
    doc = build(plan())
    commands(doc)[9]["segments"][1]["distance_m"] += 1.5e-6
    assert check(doc) == [
        Violation(
            "continuity",
            "command 002.09 (drive): the segment heading 180.000 deg for 0.500 m does not end "
            "on the path at (103.250, 47.750)",
        )
    ]
    doc = build(plan())
    commands(doc)[9]["segments"][1]["distance_m"] += 0.75e-6
    assert check(doc) == []


def test_continuity_the_first_segment_off_the_path_is_the_only_one_judged():
    # both segments of the second drive turned by 1 deg: one violation, the first segment's
    doc = build(plan())
    for g in commands(doc)[9]["segments"]:
        g["heading_deg"] += 1.0
    assert check(doc) == [
        Violation(
            "continuity",
            "command 002.09 (drive): the segment heading 136.000 deg for 0.707 m does not end "
            "on the path at (103.250, 48.250)",
        )
    ]


def _short_drive(cells):
    return [*turnaround(NAV_BITS), dict(type="drive", cells=cells, speed=0.02)]


def test_continuity_segments_longer_than_the_path_by_more_than_the_slack():
    # east 0.5 m then south 0.5 m, each segment 0.9e-6 m long: each ends on its point within
    # its slack, together they run 1.8e-6 m past the 1 m path (slack 1e-6 m up to 1 m)
    doc = build(_short_drive([(2, 1), (2, 2), (3, 2)]))
    for g in commands(doc)[4]["segments"]:
        g["distance_m"] += 0.9e-6
    assert check(doc) == [
        Violation(
            "continuity",
            "command 001.04 (drive): its segments run 1.000002 m to (101.250, 48.250), its path "
            "1.000000 m to (101.250, 48.250)",
        )
    ]
    doc = build(_short_drive([(2, 1), (2, 2), (3, 2)]))
    for g in commands(doc)[4]["segments"]:
        g["distance_m"] += 0.4e-6
    assert check(doc) == []


def test_continuity_twin_a_short_drive_keeps_the_absolute_slack():
    # a 0.5 m drive whose one segment is 0.75e-6 m long: inside the 1e-6 m slack (absolute
    # below 1 m, not relative to the 0.5 m)
    doc = build(_short_drive([(2, 1), (2, 2)]))
    commands(doc)[4]["segments"][0]["distance_m"] += 0.75e-6
    assert check(doc) == []


def test_battery_parked_energy_is_integrated_in_energy_steps():
    # a Sun that curves in time (1e-6 W/s^2 x t^2): the midpoint rule over 600 s in one piece
    # and in two 300 s pieces differs by 1e-6 x (600^3 - 2 x 300^3) / 12 W s, about 4e-3 Wh,
    # 100 x the 4e-5 Wh slack. The builder cuts at multiples of 300 s; judged without cuts the
    # battery disagrees.
    def curved(t, r, c):
        return sun(t, r, c) + 1e-6 * np.asarray(t) ** 2

    doc = build(plan(), solar=curved, soc0=20.0)
    assert check(doc, solar=curved) == []
    uncut = dataclasses.replace(RULES_, energy_step_s=1e9)
    assert "re-integrated battery" in only(check(doc, rules=uncut, solar=curved), "battery")


def test_risk_a_drive_before_the_first_uplink_counts_from_a_clean_cycle():
    # the sequence opens with a drive: its cycle's risk counts from zero too
    doc = build([dict(type="drive", cells=LEG1, speed=0.02), *turnaround(NAV_BITS)])
    risk = np.full(SHAPE, _risk_at_limit() * 1.001)
    risk[3:, :] = 0.0
    assert only(check(doc, risk=risk), "risk") == (
        "the command cycle of command 000.00 (drive) has a 0.0500 chance of meeting a hazard "
        "the DEM cannot show, above 0.05"
    )
    risk = np.full(SHAPE, _risk_at_limit() * (1 - 1e-6))
    risk[3:, :] = 0.0
    assert check(doc, risk=risk) == []


def test_keepout_a_drive_one_column_past_the_east_edge():
    doc = build(plan())
    commands(doc)[4]["path_xy"][-1] = [106.25, 48.75]  # the centre of column 12 of 12
    assert messages(check(doc), "keepout") == [
        "command 001.04 (drive) leaves the map at (106.250, 48.750)"
    ]


def test_keepout_a_drive_that_leaves_the_map_and_comes_back():
    # the first point off the map ends the walk along the path: one keep-out violation
    doc = build(plan())
    commands(doc)[4]["path_xy"][2] = [200.0, 48.75]
    v = [x for x in check(doc) if x.rule == "keepout"]
    assert v == [Violation("keepout", "command 001.04 (drive) leaves the map at (200.000, 48.750)")]


def test_data_the_images_left_behind_count_from_the_cycles_own_images():
    # after an uplink the cycle's images start from none: of the second cycle's 50000 bits,
    # 0.0500005 left on the rover is over the 1e-6 slack (0.05 bits), 0.0499995 is not
    # (the first cycle likewise, from no images at the start)
    for down, ground in ((6, "001.07"), (1, "000.02")):
        doc = build(plan())
        commands(doc)[down]["bits"] = NAV_BITS - 0.0500005
        assert only(check(doc), "data") == (
            f"command {ground} (wait): the ground works while 0 bits of the cycle's images are "
            "still on the rover"
        )
        commands(doc)[down]["bits"] = NAV_BITS - 0.0499995
        assert check(doc) == []


def test_turnaround_an_uplink_without_images():
    doc = build(
        [dict(type="wait", reason="ground", dt=600.0), dict(type="wait", reason="uplink", dt=10.0)]
    )
    assert check(doc) == [
        Violation(
            "turnaround",
            "command 000.01 (wait) at 610 s: no images reached the ground, the ground needs "
            "610.0 s",
        )
    ]


def test_cycle_distance_the_absolute_slack_of_1e_9_m():
    # 2 m driven against a limit a few 1e-9 m shorter: 1.5e-9 m over is float rounding (the
    # slack is 1e-9 relative plus 1e-9 m), 4e-9 m over is a violation
    doc = build(_short_drive(LEG1))
    inside = dataclasses.replace(RULES_, max_drive_per_cycle_m=2.0 - 1.5e-9)
    assert check(doc, rules=inside) == []
    # a limit of 1.999999997 m puts limit plus slack at 2.0 exactly: 2 m driven passes
    edge = dataclasses.replace(RULES_, max_drive_per_cycle_m=1.999999997)
    assert edge.max_drive_per_cycle_m * (1 + 1e-9) + 1e-9 == 2.0
    assert check(doc, rules=edge) == []
    over = dataclasses.replace(RULES_, max_drive_per_cycle_m=2.0 - 4e-9)
    assert check(doc, rules=over) == [
        Violation(
            "cycle_distance",
            "the command cycle of command 001.04 (drive) drives 2.000 m, more than 2 m",
        )
    ]


def test_data_a_later_downlink_faster_than_the_link():
    # the second cycle's images are 60000 bits, sent in its 50 s downlink (760 s to 810 s):
    # 1200 bit/s against 1000
    doc = build(plan())
    commands(doc)[5]["bits"] = commands(doc)[6]["bits"] = 60_000.0
    assert check(doc) == [
        Violation(
            "data",
            "command 001.06 (downlink) sends 60000 bits in 50.000 s, more than 1000 bit/s allows",
        )
    ]


def _one_downlink(bits, seconds):
    return [
        dict(type="image", dt=0.0, bits=bits, purpose="navigation", stop=None),
        dict(type="downlink", dt=seconds, bits=bits),
        dict(type="wait", reason="ground", dt=600.0),
        dict(type="wait", reason="uplink", dt=10.0),
    ]


def test_data_a_downlink_at_the_exact_edge_of_the_links_rate():
    # 1000 bit/s x 999.999 s is 999999 bits, plus the slack of 1e-6 x 1e6 bits: 1e6 bits, all
    # exact in floats, may go down; one bit more may not
    assert check(build(_one_downlink(1e6, 999.999))) == []
    assert check(build(_one_downlink(1e6 + 1, 999.999))) == [
        Violation(
            "data",
            "command 000.01 (downlink) sends 1000001 bits in 999.999 s, more than 1000 bit/s "
            "allows",
        )
    ]


def test_data_images_and_downlinks_without_a_size_carry_no_bits():
    doc = build(plan())
    del commands(doc)[0]["bits"], commands(doc)[1]["bits"]
    assert check(doc) == []


def test_data_twin_an_image_of_no_bits():
    doc = build(plan())
    commands(doc)[0]["bits"] = commands(doc)[1]["bits"] = 0.0
    assert check(doc) == []


def test_turnaround_a_day_long_commanding_window_still_counts_the_grounds_time():
    # a window open all day: the ground's 609 s are still short of 610 s
    rules = dataclasses.replace(RULES_, window_length_h=24.0)
    assert check(build(plan(ground=599.0)), rules=rules) == [
        Violation(
            "turnaround",
            "command 001.08 (wait) at 1419 s: 609.0 s of window since its images reached the "
            "ground, the ground needs 610.0 s",
        )
    ]


def test_window_a_commanding_window_that_opens_late():
    # the window opens at 60 s (it is hours after plan time 0): the first ground wait, 50 s
    # to 650 s, starts outside it, and the uplink at 660 s has had 600 s of it; opening at
    # 50 s (twin) both fit
    late = dataclasses.replace(RULES_, window_start_h=60.0 / 3600)
    assert check(build(plan()), rules=late) == [
        Violation("turnaround", "command 000.03 (wait) at 660 s: 600.0 s of window since its "
                  "images reached the ground, the ground needs 610.0 s"),
        Violation("window", "command 000.02 (wait) from 50 s to 650 s is outside the "
                  "commanding window"),
    ]  # fmt: skip
    on_time = dataclasses.replace(RULES_, window_start_h=50.0 / 3600)
    assert check(build(plan()), rules=on_time) == []


def test_clock_a_command_ending_exactly_the_slack_before_it_starts_and_one_more():
    # the image at 760 s ends 1e-6 s (the slack) before it starts, and the rest of the
    # sequence with it: rounding, no violation; 2e-6 s before is one
    for back, expected in (
        (SEQ_TIME_TOL_S, []),
        (
            2 * SEQ_TIME_TOL_S,
            [
                Violation(
                    "clock", "command 001.05 (image) ends at 759.999998 s, before it starts at "
                    "760.000000 s"
                )
            ],
        ),
    ):  # fmt: skip
        doc = build(plan())
        cmds = commands(doc)
        assert cmds[5]["type"] == "image" and cmds[5]["t_start_s"] == 760.0
        cmds[5]["t_end_s"] = 760.0 - back
        for c in cmds[6:]:
            c["t_start_s"] -= back
            c["t_end_s"] -= back
        assert check(doc) == expected


def test_battery_a_parked_command_ending_just_before_an_energy_step():
    # a wait from 660 s to 899.5 s, half a second short of the cut at 900 s: one piece, no cut
    # past its end. Under a strongly curved Sun a piece to 900 s and back would change the sum
    # by about 2e-4 Wh (1e-4 W/s^2 x (240^3 - 239.5^3) / 12 W s), 5 x the slack.
    def curved(t, r, c):
        return sun(t, r, c) + 1e-4 * (np.asarray(t) - 780.0) ** 2

    doc = build([*turnaround(NAV_BITS), dict(type="wait", dt=239.5)], solar=curved, soc0=15.0)
    assert commands(doc)[-1]["t_end_s"] == 899.5
    assert check(doc, solar=curved) == []
    # and a wait from 899.5 s to 1199.5 s is cut at 900 s, half a second after its start
    # (one piece instead of two: about 3e-4 Wh off under this Sun)
    waits = [dict(type="wait", dt=239.5), dict(type="wait", dt=300.0)]
    doc = build([*turnaround(NAV_BITS), *waits], solar=curved, soc0=15.0)
    assert check(doc, solar=curved) == []
    # and a wait from 660 s to 900.5 s is cut at 900 s, half a second before its end
    doc = build([*turnaround(NAV_BITS), dict(type="wait", dt=240.5)], solar=curved, soc0=15.0)
    assert check(doc, solar=curved) == []


def test_battery_a_power_model_returning_too_few_values_is_not_cut_short():
    # one value for the several pieces of a parked interval: an error, not a shorter sum
    def one_value(t, r, c):
        return np.array([6.0])

    with pytest.raises(ValueError, match="zip"):
        check(build(plan()), solar=one_value)


def test_turnaround_an_uplink_without_images_even_when_the_ground_needs_no_time():
    rules = dataclasses.replace(RULES_, ground_s=0.0, uplink_s=0.0)
    doc = build(
        [dict(type="wait", reason="ground", dt=0.0), dict(type="wait", reason="uplink", dt=0.0)]
    )
    assert check(doc, rules=rules) == [
        Violation(
            "turnaround",
            "command 000.01 (wait) at 0 s: no images reached the ground, the ground needs 0.0 s",
        )
    ]


def _tiny_images(image_bits, down_bits):
    return [
        dict(type="image", dt=0.0, bits=image_bits, purpose="navigation", stop=None),
        dict(type="downlink", dt=1.0, bits=down_bits),
        dict(type="wait", reason="ground", dt=600.0),
        dict(type="wait", reason="uplink", dt=10.0),
    ]


def test_data_the_slack_on_a_few_bits_is_1e_6_bits():
    # below one bit the slack on bits is absolute (1e-6 bits): of 1 bit, 1.5e-6 bits left on
    # the rover are images not sent; of half a bit, 0.75e-6 left are rounding
    # (the ground's wait and the uplink's: two)
    assert check(build(_tiny_images(1.0, 1.0 - 1.5e-6))) == [
        Violation(
            "data",
            "command 000.02 (wait): the ground works while 0 bits of the cycle's images are "
            "still on the rover",
            2,
        )
    ]
    assert check(build(_tiny_images(0.5, 0.5 - 0.75e-6))) == []
    # sending 1.5e-6 bits more than the 1 bit waiting is a violation; 0.75e-6 more than half
    # a bit waiting is rounding
    doc = build(_tiny_images(1.0 - 1.5e-6, 1.0))
    assert check(doc) == [
        Violation("data", "command 000.01 (downlink) sends 1 bits, only 1 are waiting")
    ]
    assert check(build(_tiny_images(0.5 - 0.75e-6, 0.5))) == []


def test_cycle_distance_a_drive_before_the_first_uplink_counts_from_zero():
    leg = [(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)]  # 2.5 m
    doc = build([dict(type="drive", cells=leg, speed=0.02), *turnaround(NAV_BITS)])
    assert check(doc) == [
        Violation(
            "cycle_distance",
            "the command cycle of command 000.00 (drive) drives 2.500 m, more than 2 m",
        )
    ]


def test_continuity_segments_matched_to_the_path_at_a_micrometre():
    # the first drive's path and segment ends stated 0.3e-6 m or 4e-6 m off the cell
    # centres (and the drive's end with them): a segment ends on the path when its end
    # rounds to a path point at 1e-6 m; both pass
    for off in (0.3e-6, 4e-6):
        doc = build(_short_drive(LEG1))
        drive = commands(doc)[4]
        drive["path_xy"] = [[x + off, y + off] for x, y in drive["path_xy"]]
        for g in drive["segments"]:
            g["to_xy"] = [g["to_xy"][0] + off, g["to_xy"][1] + off]
        drive["x_m"] += off
        drive["y_m"] += off
        assert check(doc) == [], off


def test_continuity_a_segment_end_a_third_of_a_micrometre_off_still_ends_on_the_path():
    doc = build(plan())
    g = commands(doc)[4]["segments"][0]
    g["to_xy"] = [g["to_xy"][0] + 0.3e-6, g["to_xy"][1] - 0.3e-6]
    assert check(doc) == []


def test_clock_a_sequence_starting_exactly_the_slack_late():
    # every command 1e-6 s late (the slack, exact in floats from 0): rounding, no violation
    doc = build(plan())
    for c in commands(doc):
        c["t_start_s"] += SEQ_TIME_TOL_S
        c["t_end_s"] += SEQ_TIME_TOL_S
    assert commands(doc)[0]["t_start_s"] - doc["start"]["t_s"] == SEQ_TIME_TOL_S
    assert check(doc) == []
    doc["start"]["t_s"] = SEQ_TIME_TOL_S  # the start itself that late, and the rest in step
    assert check(doc) == []


def test_clock_twin_ending_exactly_the_slack_after_the_mission():
    doc = build(plan())
    end = commands(doc)[-1]["t_end_s"]
    rules = dataclasses.replace(RULES_, mission_s=end - SEQ_TIME_TOL_S)
    assert rules.mission_s + SEQ_TIME_TOL_S == end  # exact in floats here
    assert check(doc, rules=rules) == []


def test_battery_a_start_exactly_the_slack_above_capacity_and_one_slack_more():
    cap = RULES_.battery_wh
    top = cap + SEQ_SOC_TOL * cap
    assert check(build([*turnaround(NAV_BITS)], soc0=top)) == []
    doc = build([*turnaround(NAV_BITS)], soc0=cap)
    doc["start"]["battery_wh"] = cap + 2 * SEQ_SOC_TOL * cap
    assert messages(check(doc), "battery")[0] == (
        "the sequence starts with 40.000080 Wh, above the 40 Wh capacity"
    )


def test_risk_counts_one_trial_per_footprint_length():
    # a 0.25 m footprint: each 0.5 m step is two trials, eight in the first cycle
    rules = dataclasses.replace(RULES_, footprint_m=0.25)
    r = 1.0 - (1.0 - RULES_.max_cycle_risk) ** (1 / 8)
    risk = np.full(SHAPE, r * 1.001)
    risk[3:, :] = 0.0
    assert only(check(build(plan()), rules=rules, risk=risk), "risk") == (
        "the command cycle of command 001.04 (drive) has a 0.0500 chance of meeting a hazard "
        "the DEM cannot show, above 0.05"
    )
    risk = np.full(SHAPE, r * (1 - 1e-6))
    risk[3:, :] = 0.0
    assert check(build(plan()), rules=rules, risk=risk) == []


def test_risk_an_unknown_risk_is_a_certain_hazard():
    risk = np.zeros(SHAPE)
    risk[2, 3] = np.nan
    assert only(check(build(plan()), risk=risk), "risk") == (
        "the command cycle of command 001.04 (drive) has a 1.0000 chance of meeting a hazard "
        "the DEM cannot show, above 0.05"
    )


def test_a_waiver_naming_two_unknown_rules_names_the_first():
    with pytest.raises(PlanningError) as info:
        check(build(plan()), waived=("links", "zzz"))
    assert str(info.value).startswith("no flight rule named 'links'; waive one of")


def test_check_sequence_takes_every_argument_by_name():
    doc = build(plan())
    assert (
        check_sequence(
            doc=doc,
            rules=RULES_,
            keepout=np.zeros(SHAPE, bool),
            risk=np.zeros(SHAPE),
            link_margin_db=np.full(SHAPE, 10.0),
            transform=T,
            solar_w=sun,
            sun_elevation_deg=sun_el,
        )
        == []
    )


def test_continuity_a_drive_of_no_length_and_no_time_passes():
    doc = build([*turnaround(NAV_BITS), dict(type="drive", cells=[(2, 1), (2, 1)], speed=0.02)])
    assert check(doc) == []


def test_continuity_segments_short_of_the_first_drives_end():
    # one segment of 1.5 m, ending on the path's fourth point: the path runs 2 m to its end
    doc = build(plan())
    g = commands(doc)[4]["segments"][0]
    g["distance_m"], g["to_xy"] = 1.5, [102.25, 48.75]
    assert check(doc) == [
        Violation(
            "continuity",
            "command 001.04 (drive): its segments run 1.500000 m to (102.250, 48.750), its path "
            "2.000000 m to (102.750, 48.750)",
        )
    ]


def test_keepout_the_map_starts_at_row_0_and_column_0():
    # a drive west into column 0 is on the map; a point in row -1 is not
    assert check(build(_short_drive([(2, 1), (2, 0)]))) == []
    assert check(build(_short_drive([(2, 1), (1, 1), (0, 1)]))) == []
    doc = build(plan())
    commands(doc)[4]["path_xy"][-1] = [99.75, 48.75]  # the centre of row 2, column -1
    assert messages(check(doc), "keepout") == [
        "command 001.04 (drive) leaves the map at (99.750, 48.750)"
    ]
    doc = build(plan())
    commands(doc)[4]["path_xy"][-1] = [102.75, 46.75]  # the centre of row 6 of 6, column 5
    assert messages(check(doc), "keepout") == [
        "command 001.04 (drive) leaves the map at (102.750, 46.750)"
    ]
    doc = build(plan())
    commands(doc)[4]["path_xy"][-1] = [102.75, 50.25]  # the centre of row -1, column 5
    assert messages(check(doc), "keepout") == [
        "command 001.04 (drive) leaves the map at (102.750, 50.250)"
    ]


def test_data_a_downlink_of_nothing_in_no_time():
    doc = build(
        [
            dict(type="image", dt=0.0, bits=0.0, purpose="navigation", stop=None),
            dict(type="downlink", dt=0.0, bits=0.0),
            dict(type="wait", reason="ground", dt=600.0),
            dict(type="wait", reason="uplink", dt=10.0),
        ]
    )
    assert check(doc) == []


def test_data_a_half_second_downlink_after_the_relay_window():
    # the relay is up from 0 s to 60 s; a 0.5 s downlink at 660 s is outside it
    rules = dataclasses.replace(RULES_, relay_length_h=60.0 / 3600)
    doc = build([*turnaround(NAV_BITS), *_tiny_images(500.0, 500.0)])
    for c in commands(doc)[5:]:
        if c["type"] == "downlink":
            c["t_end_s"] = c["t_start_s"] + 0.5
    # (the shortened downlink leaves a 0.5 s gap before the ground's wait; move it up)
    cmds = commands(doc)
    shift = cmds[5]["t_end_s"] - cmds[6]["t_start_s"]
    for c in cmds[6:]:
        c["t_start_s"] += shift
        c["t_end_s"] += shift
    v = check(doc, rules=rules)
    assert messages(v, "data") == [
        "command 001.05 (downlink) sends outside the lander's relay window"
    ]


def test_window_a_ground_wait_half_a_second_before_a_window_opening_at_one_hour():
    rules = dataclasses.replace(RULES_, window_start_h=1.0)
    down = [
        dict(type="image", dt=0.0, bits=NAV_BITS, purpose="navigation", stop=None),
        dict(type="downlink", dt=3600.0, bits=NAV_BITS),
        dict(type="wait", reason="ground", dt=600.0),
        dict(type="wait", reason="uplink", dt=10.0),
    ]
    assert check(build(down), rules=rules) == []
    down[1]["dt"] = 3599.5
    assert check(build(down), rules=rules) == [
        Violation(
            "turnaround",
            "command 000.03 (wait) at 4210 s: 609.5 s of window since its images reached the "
            "ground, the ground needs 610.0 s",
        ),
        Violation(
            "window", "command 000.02 (wait) from 3600 s to 4200 s is outside the commanding window"
        ),
    ]


def test_clock_a_drive_of_no_length_that_ends_before_it_starts_is_not_too_fast():
    doc = build(_short_drive([(2, 1), (2, 1)]))
    drive = commands(doc)[4]
    drive["t_end_s"] = drive["t_start_s"] - 0.5
    assert check(doc) == [
        Violation(
            "clock", "command 001.04 (drive) ends at 659.500000 s, before it starts at 660.000000 s"
        )
    ]


def _one_step_risk(r, max_risk=RULES_.max_cycle_risk):
    # one 0.5 m step of one footprint: the cycle's chance is 1 - (1 - r), r itself in floats
    rules = dataclasses.replace(RULES_, max_cycle_risk=max_risk)
    return check(build(_short_drive([(2, 1), (2, 2)])), rules=rules, risk=np.full(SHAPE, r))


def test_risk_at_the_limit_and_inside_the_slack_passes_one_step_over_it_does_not():
    assert _one_step_risk(0.05) == []
    # the slack: 1e-9 relative plus 1e-12; half of the absolute part over the limit passes
    assert _one_step_risk(0.05 * (1 + 1e-9) + 0.5e-12) == []
    # a limit of 0.5 makes the limit plus slack a float 1 - (1 - r) meets exactly: it passes
    top = 0.5 * (1 + 1e-9) + 1e-12
    assert 1.0 - (1.0 - top) == top
    assert _one_step_risk(top, max_risk=0.5) == []
    assert _one_step_risk(0.0501) == [
        Violation(
            "risk",
            "the command cycle of command 001.04 (drive) has a 0.0501 chance of meeting a "
            "hazard the DEM cannot show, above 0.05",
        )
    ]


def test_battery_a_command_of_no_duration_leaves_the_battery_as_it_is():
    # a start 2e-5 Wh above capacity (inside the slack) stays so through the image at 0 s,
    # which states 3e-5 Wh more (inside the slack); the downlink then charges to capacity
    doc = build([*turnaround(NAV_BITS)], soc0=RULES_.battery_wh)
    doc["start"]["battery_wh"] = RULES_.battery_wh + 2e-5
    commands(doc)[0]["battery_wh"] = RULES_.battery_wh + 5e-5
    assert check(doc) == []


def test_continuity_a_long_segment_has_a_relative_slack():
    # the first drive's one 2 m segment stated 1e-6 m long: inside 1e-6 x 2 m
    doc = build(plan())
    commands(doc)[4]["segments"][0]["distance_m"] += 1e-6
    assert check(doc) == []


def _images(image_bits, down_bits, seconds):
    return [
        dict(type="image", dt=0.0, bits=image_bits, purpose="navigation", stop=None),
        dict(type="downlink", dt=seconds, bits=down_bits),
        dict(type="wait", reason="ground", dt=600.0),
        dict(type="wait", reason="uplink", dt=10.0),
    ]


def test_data_exact_edges_of_the_bits_slack():
    # 1e6 bits sent of 999999 waiting: 1 bit over, exactly the slack of 1e-6 x 1e6: passes
    assert check(build(_images(999_999.0, 1e6, 1000.0))) == []
    # 1 bit of 1e6 left on the rover: exactly the slack, passes; 2 bits do not
    assert check(build(_images(1e6, 1e6 - 1.0, 1000.0))) == []
    assert messages(check(build(_images(1e6, 1e6 - 2.0, 1000.0))), "data") == [
        "command 000.02 (wait): the ground works while 2 bits of the cycle's images are still "
        "on the rover"
    ]


def test_window_an_uplink_half_a_second_after_a_one_hour_window_closes():
    rules = dataclasses.replace(RULES_, window_length_h=1.0)
    assert check(build(_images(NAV_BITS, NAV_BITS, 2990.0)), rules=rules) == []
    assert check(build(_images(NAV_BITS, NAV_BITS, 2990.5)), rules=rules) == [
        Violation(
            "turnaround",
            "command 000.03 (wait) at 3600 s: 609.5 s of window since its images reached the "
            "ground, the ground needs 610.0 s",
        ),
        Violation(
            "window", "command 000.03 (wait) from 3590 s to 3600 s is outside the commanding window"
        ),
    ]


def test_risk_a_risk_above_one_counts_as_certain():
    risk = np.zeros(SHAPE)
    risk[2, 3] = 1.5
    assert only(check(build(plan()), risk=risk), "risk") == (
        "the command cycle of command 001.04 (drive) has a 1.0000 chance of meeting a hazard "
        "the DEM cannot show, above 0.05"
    )


def test_continuity_a_drive_of_one_point_does_not_end_the_check():
    # the rest of the sequence is still judged: the next drive into keep-out is found
    doc = build(plan())
    commands(doc)[4]["path_xy"] = commands(doc)[4]["path_xy"][:1]
    ko = np.zeros(SHAPE, bool)
    ko[4, 6] = True
    assert messages(check(doc, keepout=ko), "keepout") == [
        "command 002.09 (drive) enters keep-out at (103.250, 47.750), cell (4, 6)"
    ]


def test_window_a_window_past_midnight_covers_the_next_days_morning():
    # opening at 20 h for 12 h: the window of the day before covers 0 h to 8 h
    rules = dataclasses.replace(RULES_, window_start_h=20.0, window_length_h=12.0)
    assert check(build(plan()), rules=rules) == []


def test_sun_a_scoop_with_the_sun_too_low():
    doc = build(plan())
    scoop = commands(doc)[14]
    assert scoop["type"] == "scoop"

    def low_at_the_scoop(t):
        return 2.0 if t == scoop["t_start_s"] else 30.0

    assert check(doc, el=low_at_the_scoop) == [
        Violation("sun", "command 003.14 (scoop) with the Sun at 2.00 deg, below 5 deg")
    ]


def test_speed_a_step_driven_in_under_a_second():
    # at 1 m/s the rover needs 0.5 s for a 0.5 m step: in 0.25 s it is too fast
    rules = dataclasses.replace(RULES_, speed_m_s=1.0)
    slow = [*turnaround(NAV_BITS), dict(type="drive", cells=[(2, 1), (2, 2)], speed=1.0)]
    assert check(build(slow), rules=rules) == []
    fast = [*turnaround(NAV_BITS), dict(type="drive", cells=[(2, 1), (2, 2)], speed=2.0)]
    assert check(build(fast), rules=rules) == [
        Violation("speed", "command 001.04 (drive) drives 0.500 m in 0.250 s, faster than 1 m/s")
    ]


def test_turnaround_the_rover_drives_before_its_images_are_seen():
    doc = build(
        [
            dict(type="image", dt=0.0, bits=NAV_BITS, purpose="navigation", stop=None),
            dict(type="downlink", dt=50.0, bits=NAV_BITS),
            dict(type="drive", cells=LEG1, speed=0.02),
            dict(type="wait", reason="ground", dt=600.0),
            dict(type="wait", reason="uplink", dt=10.0),
        ]
    )
    assert check(doc) == [
        Violation(
            "turnaround",
            "command 000.04 (wait) at 760 s: the rover acts before its images are seen, the "
            "ground needs 610.0 s",
        )
    ]


def test_turnaround_a_ground_of_no_time_has_no_window_time():
    # the ground needs 0.5 s; it gets none (waits of 0 s right after the downlink)
    rules = dataclasses.replace(RULES_, ground_s=0.5, uplink_s=0.0)
    doc = build(
        [
            dict(type="image", dt=0.0, bits=NAV_BITS, purpose="navigation", stop=None),
            dict(type="downlink", dt=50.0, bits=NAV_BITS),
            dict(type="wait", reason="ground", dt=0.0),
            dict(type="wait", reason="uplink", dt=0.0),
        ]
    )
    assert check(doc, rules=rules) == [
        Violation(
            "turnaround",
            "command 000.03 (wait) at 50 s: 0.0 s of window since its images reached the "
            "ground, the ground needs 0.5 s",
        )
    ]


def test_risk_a_negative_risk_counts_as_none():
    # 0.02 per footprint on the first drive but -0.5 on one cell: three trials, 1 - 0.98^3
    risk = np.zeros(SHAPE)
    risk[2, :] = 0.02
    risk[2, 3] = -0.5
    assert only(check(build(plan()), risk=risk), "risk") == (
        "the command cycle of command 001.04 (drive) has a 0.0588 chance of meeting a hazard "
        "the DEM cannot show, above 0.05"
    )


def test_risk_each_step_counts_its_own_length():
    # the second drive's diagonal step (0.707 m, 1.414 footprints) ends in the one risky
    # cell: its trials are its own length's, not the next step's 0.5 m
    r = 1.0 - (1.0 - RULES_.max_cycle_risk) ** (0.5 / math.hypot(0.5, 0.5))
    risk = np.zeros(SHAPE)
    risk[3, 6] = r * 1.001
    assert only(check(build(plan()), risk=risk), "risk") == (
        "the command cycle of command 002.09 (drive) has a 0.0500 chance of meeting a hazard "
        "the DEM cannot show, above 0.05"
    )
    risk[3, 6] = r * (1 - 1e-6)
    assert check(build(plan()), risk=risk) == []
