"""Every range rule of the operations and simulation specs, at its limits, and the daily
commanding window in each of its cases, worked by hand.

Each limit has a value on it (or just inside an open end), which passes, and one just outside,
which is refused with its own message. The values outside lie half a unit past the limit, so
that a limit moved by one (the smallest change a typo or a mutation makes) is noticed too.
"""

from __future__ import annotations

import dataclasses

import pytest

from frigoris.rover.errors import SpecError
from frigoris.rover.specs import OPERATIONS, SimSpec

SIM = SimSpec.load()

# (field, low, high, low end open)
OPS_RANGES = [
    ("nav_images_per_cycle", 0, 1e9, False),
    ("science_images_scoop", 0, 1e9, False),
    ("science_images_crater", 0, 1e9, False),
    ("science_images_boulder", 0, 1e9, False),
    ("science_images_moonhouse", 0, 1e9, False),
    ("science_images_target", 0, 1e9, False),
    ("light_time_s", 0, 1e9, False),
    ("ground_processing_s", 0, 1e9, False),
    ("first_shift_utc_h", 0, 24, False),
    ("relay_start_utc_h", 0, 24, False),
    ("relay_h", 0, 24, True),
    ("min_sun_elevation_deg", -10, 60, False),
    ("max_cycle_risk", 0, 1, True),
    ("min_link_margin_db", -100, 100, False),
    ("nav_camera_fov_deg", 0, 360, True),
    ("lander_camera_fov_deg", 0, 360, True),
]
SIM_RANGES = [
    ("hazard_slope_deg", 0, 90, True),
    ("orbital_sigma_m", 0, 100, False),
    ("slip_mean", 0, 0.9, False),
    ("slip_sd", 0, 1, False),
    ("slip_per_deg", 0, 0.1, False),
    ("heading_sd_deg", 0, 45, False),
    ("relocalise_sd_m", 0, 100, False),
]
# also in the "must be > 0" rule, which runs first: its message names a value <= 0
POSITIVE = {"relay_h"}
INTEGERS = {n for n, *_ in OPS_RANGES if n.startswith(("nav_images", "science_images"))}


def _cases(ranges):
    """(field, value, refused) at both ends of every range."""
    out = []
    for name, lo, hi, lo_open in ranges:
        step = 1 if name in INTEGERS else 0.5 * min(1.0, hi - lo)
        if lo_open:
            out += [(name, lo, True), (name, lo + step, False)]
        else:
            out += [(name, lo, False), (name, lo - step, True)]
        out += [(name, hi, False), (name, hi + step, True)]
    return out


def _refusal(spec, name, value, lo, hi, lo_open):
    span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
    kind = type(spec).__name__
    if name in POSITIVE and value <= 0:
        return f"{kind} {spec.name}: {name} must be > 0, got {value!r}"
    return f"{kind} {spec.name}: {name} = {value!r} is outside {span}"


def _check(base, ranges, name, value, refused):
    lo, hi, lo_open = next(r[1:] for r in ranges if r[0] == name)
    if name in INTEGERS:
        value = int(value)
    spec = dataclasses.replace(base, **{name: value})
    if refused:
        with pytest.raises(SpecError) as err:
            spec.validate()
        assert str(err.value) == _refusal(spec, name, value, lo, hi, lo_open)
    else:
        spec.validate()


@pytest.mark.parametrize(("name", "value", "refused"), _cases(OPS_RANGES))
def test_an_operations_value_on_its_limit_passes_and_past_it_is_refused(name, value, refused):
    _check(OPERATIONS, OPS_RANGES, name, value, refused)


@pytest.mark.parametrize(("name", "value", "refused"), _cases(SIM_RANGES))
def test_a_simulation_value_on_its_limit_passes_and_past_it_is_refused(name, value, refused):
    _check(SIM, SIM_RANGES, name, value, refused)


@pytest.mark.parametrize(("n", "refused"), [(0, True), (1, False), (24, False), (25, True)])
def test_shifts_per_day_from_1_to_24(n, refused):
    # one-hour shifts, so that 24 of them fit in a day and the fit rule stays quiet
    spec = dataclasses.replace(OPERATIONS, shifts_per_day=n, shift_h=1.0)
    if refused:
        with pytest.raises(SpecError) as err:
            spec.validate()
        want = f"OpsSpec {OPERATIONS.name}: shifts_per_day = {n} is outside [1, 24]"
        assert str(err.value) == want
    else:
        spec.validate()


@pytest.mark.parametrize(("n", "h", "fits"), [(3, 8.0, True), (2, 12.0, True), (2, 12.25, False)])
def test_shifts_fit_in_an_earth_day_up_to_24_h(n, h, fits):
    spec = dataclasses.replace(OPERATIONS, shifts_per_day=n, shift_h=h, first_shift_utc_h=0.0)
    if fits:
        spec.validate()
        assert spec.commanding_window_utc_h == (0.0, 24.0)  # both fill the day
    else:
        with pytest.raises(SpecError) as err:
            spec.validate()
        assert str(err.value) == (
            f"OpsSpec {OPERATIONS.name}: 2 shifts of 12.25 h do not fit in an Earth day; lower "
            "shifts_per_day or shift_h"
        )


def window(shift, n, h, relay, relay_h):
    spec = dataclasses.replace(
        OPERATIONS,
        first_shift_utc_h=shift,
        shifts_per_day=n,
        shift_h=h,
        relay_start_utc_h=relay,
        relay_h=relay_h,
    )
    spec.validate()
    return spec.commanding_window_utc_h


@pytest.mark.parametrize(
    ("shift", "n", "h", "relay", "relay_h", "want"),
    [
        # relay and shifts around the clock: the whole day, from midnight
        (7.0, 3, 8.0, 3.0, 24.0, (0.0, 24.0)),
        # the shifts start at 24 h UTC, which is midnight
        (24.0, 1, 8.0, 0.0, 24.0, (0.0, 8.0)),
        # the relay starts at 24 h UTC, midnight, and runs 6 h: inside shifts 22:00-06:00
        (22.0, 1, 8.0, 24.0, 6.0, (0.0, 6.0)),
        # shifts for 23.5 h of the day, the relay around the clock: the shifts
        (1.0, 1, 23.5, 0.0, 24.0, (1.0, 23.5)),
        # shifts around the clock, a relay across midnight: the relay, in one piece
        (0.0, 3, 8.0, 22.0, 4.0, (22.0, 4.0)),
        # the relay starts before the shift and outlasts it: the shift, 22:00-23:00
        (22.0, 1, 1.0, 20.0, 10.0, (22.0, 1.0)),
        # the shift 10:00-18:00, the relay 06:00-12:00 reaches into it: 10:00-12:00
        (10.0, 1, 8.0, 6.0, 6.0, (10.0, 2.0)),
        # the relay starts half an hour into the shifts, 15:30-16:00
        (15.0, 2, 8.0, 15.5, 0.5, (15.5, 0.5)),
    ],
)
def test_the_commanding_window_by_hand(shift, n, h, relay, relay_h, want):
    assert window(shift, n, h, relay, relay_h) == pytest.approx(want, abs=1e-12)


def test_a_relay_that_starts_as_the_shifts_end_never_meets_them():
    with pytest.raises(SpecError) as err:
        window(0.0, 1, 8.0, 8.0, 4.0)
    assert str(err.value) == (
        f"OpsSpec {OPERATIONS.name}: the ground shifts (0 h UTC, 8 h) and the lander's relay "
        "window (8 h UTC, 4 h) never overlap: no command could ever be sent; move "
        "first_shift_utc_h or relay_start_utc_h"
    )


def test_the_window_is_named_in_hours_of_a_day():
    # the relay starts at 24 h UTC: named as 0 h (midnight), 00:00-04:00, before the shift
    with pytest.raises(SpecError) as err:
        window(8.0, 1, 8.0, 24.0, 4.0)
    assert "(8 h UTC, 8 h) and the lander's relay window (0 h UTC, 4 h) never" in str(err.value)


@pytest.mark.parametrize(
    ("shift", "n", "h", "relay", "relay_h"),
    [
        # shifts 15:00-07:00, relay 16:00-15:30: 15:00-15:30 and 16:00-07:00
        (15.0, 2, 8.0, 16.0, 23.5),
        # shifts 00:00-23:30, relay 22:00-02:00: 22:00-23:30 and 00:00-02:00
        (0.0, 1, 23.5, 22.0, 4.0),
    ],
)
def test_nearly_a_day_of_relay_or_shifts_can_meet_twice(shift, n, h, relay, relay_h):
    with pytest.raises(SpecError, match="overlap twice a day"):
        window(shift, n, h, relay, relay_h)


def test_a_relay_that_ends_as_the_shifts_begin_never_meets_them():
    with pytest.raises(SpecError) as err:
        window(10.0, 1, 8.0, 6.0, 4.0)
    assert "(10 h UTC, 8 h) and the lander's relay window (6 h UTC, 4 h) never" in str(err.value)
    window(10.0, 1, 8.0, 6.0, 4.5)  # half an hour more of relay: 10:00-10:30


def test_meeting_twice_a_day_has_its_own_message():
    with pytest.raises(SpecError) as err:
        window(0.0, 2, 10.0, 18.0, 10.0)
    assert str(err.value) == (
        f"OpsSpec {OPERATIONS.name}: the ground shifts and the lander's relay window overlap "
        "twice a day; frigoris plans one commanding window a day: align them"
    )


def test_the_start_of_a_cycle_takes_no_science_images():
    assert OPERATIONS.science_bits("start") == 0.0
    assert OPERATIONS.science_bits("crater") == pytest.approx(
        OPERATIONS.science_images_crater * OPERATIONS.science_image_px * 4.0
    )


def test_the_link_is_the_slower_of_its_two_hops():
    slow_lander = dataclasses.replace(OPERATIONS, lander_to_earth_bit_s=1000.0)
    assert slow_lander.link_bit_s == 1000.0
    slow_rover = dataclasses.replace(OPERATIONS, rover_to_lander_bit_s=500.0)
    assert slow_rover.link_bit_s == 500.0
