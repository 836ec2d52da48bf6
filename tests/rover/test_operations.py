"""Operations specs, the lander camera's view, the hazard-band accessors and waivers."""

from __future__ import annotations

import dataclasses
import json
import types

import numpy as np
import pytest

from frigoris.planners.sequence_check import Violation
from frigoris.rover.app.mission_file import load_mission
from frigoris.rover.errors import SequenceError, SpecError
from frigoris.rover.operations import (
    lander_camera_view,
    link_margin_layer,
    reach_m,
    risk_layer,
    window_in_plan_time,
)
from frigoris.rover.specs import OPERATIONS, TENACIOUS, OpsSpec, SimSpec


def ops(**kw) -> OpsSpec:
    spec = dataclasses.replace(OPERATIONS, **kw)
    spec.validate()
    return spec


@pytest.mark.parametrize(
    ("shift", "n", "h", "relay", "relay_h", "want"),
    [
        (15.0, 2, 8.0, 0.0, 24.0, (15.0, 16.0)),  # the relay never limits: the shifts
        (15.0, 2, 8.0, 18.0, 6.0, (18.0, 6.0)),  # the relay inside the shifts
        (15.0, 2, 8.0, 5.0, 6.0, (5.0, 2.0)),  # overlap across midnight: 05:00-07:00
        (22.0, 1, 8.0, 20.0, 4.0, (22.0, 2.0)),  # the shift starts inside the relay window
        (0.0, 3, 8.0, 7.0, 3.0, (7.0, 3.0)),  # shifts around the clock: the relay
    ],
)
def test_the_commanding_window_is_where_shifts_and_relay_meet(shift, n, h, relay, relay_h, want):
    spec = ops(
        first_shift_utc_h=shift,
        shifts_per_day=n,
        shift_h=h,
        relay_start_utc_h=relay,
        relay_h=relay_h,
    )
    assert spec.commanding_window_utc_h == pytest.approx(want)


def test_shifts_and_relay_that_never_meet_are_refused():
    with pytest.raises(SpecError, match="never overlap"):
        ops(
            first_shift_utc_h=0.0,
            shifts_per_day=1,
            shift_h=8.0,
            relay_start_utc_h=10.0,
            relay_h=4.0,
        )


def test_shifts_and_relay_meeting_twice_a_day_are_refused():
    with pytest.raises(SpecError, match="overlap twice a day"):
        ops(
            first_shift_utc_h=0.0,
            shifts_per_day=2,
            shift_h=10.0,
            relay_start_utc_h=18.0,
            relay_h=10.0,
        )


def test_more_shifts_than_a_day_holds_are_refused():
    with pytest.raises(SpecError, match="do not fit in an Earth day"):
        ops(shifts_per_day=4, shift_h=8.0)


def test_every_operations_value_says_where_it_comes_from():
    for spec in (OPERATIONS, SimSpec.load()):
        names = {f.name for f in dataclasses.fields(spec)} - {"sources", "name"}
        assert names <= set(spec.sources), names - set(spec.sources)
        assert all(v.startswith(("published", "assumed")) for v in spec.sources.values())


def test_the_built_in_cycle_by_hand():
    # 4 x 1280 x 720 px at 2 bit/px = 7.3728 Mbit at 64 kbit/s: 115.2 s; 16 kbit at 2 kbit/s
    # plus 1.28 s of light: 9.28 s
    assert OPERATIONS.nav_bits == pytest.approx(7_372_800.0)
    assert OPERATIONS.link_bit_s == 64_000.0
    assert OPERATIONS.uplink_s == pytest.approx(9.28)
    assert OPERATIONS.science_bits("scoop") == pytest.approx(6 * 1920 * 1080 * 4.0)


def test_reach_by_hand():
    # 10 days of a 16 h window: 576000 s; a cycle of 5 m costs (115.2 + 7200 + 9.28) s of
    # ground and 250 s of driving: 576000 / (7324.48 / 5 + 50) + 5 m
    want = 576000.0 / (7324.48 / 5.0 + 50.0) + 5.0
    assert reach_m(OPERATIONS, TENACIOUS, 10 * 86400.0) == pytest.approx(want)


def test_a_utc_window_in_plan_time():
    from datetime import datetime, timezone

    t0 = datetime(2025, 6, 6, 19, 30, tzinfo=timezone.utc)
    assert window_in_plan_time(15.0, 16.0, t0) == pytest.approx((19.5, 16.0))


def test_the_lander_camera_sees_the_moonhouse_over_flat_ground_but_not_behind_a_ridge(make_dem):
    z = np.zeros((80, 80))
    dem = make_dem(z)  # 40 m, centred on (0, 0)
    view = lander_camera_view(dem, (0.0, 0.0), OPERATIONS, range_m=(6.0, 15.0))
    x, y = dem.xy(*np.indices(dem.shape))
    d = np.hypot(x, y)
    assert view[(d >= 6.5) & (d <= 14.5)].all() and not view[(d < 5.5) | (d > 15.5)].any()
    z2 = z.copy()
    r, c = dem.rowcol(0.0, 3.0)  # a 1.8 m wall 3 m north of the camera (2 m up): rays to
    z2[r, :] = 1.8  # the Moonhouse's top beyond 6 m pass it below 1.61 m
    blocked = lander_camera_view(make_dem(z2), (0.0, 0.0), OPERATIONS, range_m=(6.0, 15.0))
    north = (y > 7.0) & (y < 14.5) & (np.abs(x) < 2.0)
    assert view[north].all() and not blocked[north].any()
    east = lander_camera_view(dem, (0.0, 0.0), OPERATIONS, azimuth_deg=90.0)
    az = np.degrees(np.arctan2(x, y)) % 360
    assert not east[(d >= 6.5) & (d <= 14.5) & (np.abs(az - 270.0) < 40)].any()
    assert east[(d >= 6.5) & (d <= 14.5) & (np.abs(az - 90.0) < 40)].all()


def test_the_accessors_read_the_new_bands_when_the_map_has_them():
    rock = np.full((2, 2), 0.01)
    comm = np.array([[True, False], [True, True]])
    old = types.SimpleNamespace(rock_risk=rock, comm_ok=lambda: comm)
    assert risk_layer(old) is rock or np.array_equal(risk_layer(old), rock)
    m = link_margin_layer(old)
    assert np.isposinf(m[comm]).all() and np.isneginf(m[~comm]).all()
    new = types.SimpleNamespace(
        rock_risk=rock,
        risk=np.full((2, 2), 0.2),
        link_margin_db=np.full((2, 2), 7.5),
        comm_ok=lambda: comm,
    )
    assert (risk_layer(new) == 0.2).all() and (link_margin_layer(new) == 7.5).all()


def test_a_waiver_names_a_rule_and_gives_a_reason(tmp_path):
    good = tmp_path / "m.toml"
    text = (
        '[mission]\nname = "w"\ntouchdown_utc = 2025-06-05T19:17:00Z\n[site]\nlat = 60.5\n'
        'lon = -4.6\n[[operations.waivers]]\nrule = "sun"\nreason = "dawn drive"\n'
    )
    good.write_text(text)
    m = load_mission(good)
    assert [(w.rule, w.reason) for w in m.waivers] == [("sun", "dawn drive")]
    assert m.parameters()["waivers"] == [{"rule": "sun", "reason": "dawn drive"}]
    bad = tmp_path / "b.toml"
    bad.write_text(text.replace('rule = "sun"', 'rule = "sunshine"'))
    with pytest.raises(SpecError, match="'sunshine' is not a flight rule; waive one of"):
        load_mission(bad)
    bare = tmp_path / "c.toml"
    bare.write_text(text.replace('reason = "dawn drive"\n', ""))
    with pytest.raises(SpecError, match="reason is missing"):
        load_mission(bare)


def test_a_sequence_that_breaks_a_rule_is_never_written_unless_waived(tmp_path, monkeypatch):
    """A violation planted into the checker's verdict: the plan job writes nothing; the same
    plan with the rule waived is written, and the waiver shows in plan.txt and the sequence."""
    from frigoris import terrain
    from frigoris.rover import operations
    from frigoris.rover.app.jobs.plan import plan_job

    real = operations.check_sequence

    def planted(doc, **kw):
        out = real(doc, **kw)
        return out + [Violation("sun", "planted for the test", 1, "sun" in set(kw["waived"]))]

    monkeypatch.setattr(operations, "check_sequence", planted)
    site = terrain.synthesize(terrain.SynthParams(size_m=64, seed=2))
    dem_path = terrain.write_geotiff(
        tmp_path / "dem.tif", {"elevation": site.dem.elevation}, site.dem
    )
    with pytest.raises(SequenceError, match="sun: planted for the test"):
        plan_job(dem_path, tmp_path / "plan", lander=_origin(), days=0.5, time_limit_s=1.0)
    assert not (tmp_path / "plan").exists()
    plan_job(
        dem_path,
        tmp_path / "plan",
        lander=_origin(),
        days=0.5,
        time_limit_s=1.0,
        waivers=(("sun", "the team accepts it for the test"),),
    )
    text = (tmp_path / "plan" / "plan.txt").read_text()
    assert "Waived: sun (the team accepts it for the test): sun: planted for the test" in text
    doc = json.loads((tmp_path / "plan" / "sequence.json").read_text())
    assert doc["flight_rules"]["checked"] is True
    assert doc["flight_rules"]["violations"] == ["sun: planted for the test [waived]"]
    assert doc["flight_rules"]["waivers"] == [
        {"rule": "sun", "reason": "the team accepts it for the test"}
    ]


def _origin():
    from frigoris.rover.app.jobs.inputs import Position

    return Position("xy", 0.0, 0.0)
