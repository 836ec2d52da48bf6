"""Every rule of the hazard limits' validation, at its limit, and the keep-out shares by hand.

Each rule has a value on its limit (or just inside an open end), which passes, and one just
outside, which is refused with its own message.
"""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest
from affine import Affine

from frigoris.terrain.errors import HazardInputError
from frigoris.terrain.hazard import REASONS, HazardLimits, HazardStats, LanderSite, _in_range
from frigoris.terrain.link import LinkBudget

POSITIVE = (
    "max_slope_deg",
    "max_step_m",
    "clearance_m",
    "wheelbase_m",
    "footprint_area_m2",
    "rover_radius_m",
    "max_risk",
    "radio_cell_m",
)
NON_NEGATIVE = ("rover_antenna_height_m", "slope_weight", "risk_weight", "shadow_weight")


def refusal(**kw) -> str:
    with pytest.raises(HazardInputError) as err:
        HazardLimits(**kw).validate()
    return str(err.value)


def test_the_default_limits_pass():
    HazardLimits().validate()


@pytest.mark.parametrize("name", POSITIVE)
@pytest.mark.parametrize("bad", [0.0, -0.5, float("nan"), float("inf"), "1", None])
def test_a_limit_that_is_not_a_positive_number_is_refused(name, bad):
    assert refusal(**{name: bad}) == (f"hazard limit {name} must be a positive number, got {bad!r}")


@pytest.mark.parametrize("name", POSITIVE)
def test_a_small_positive_limit_passes(name):
    HazardLimits(**{name: 1e-3}).validate()
    if name != "max_risk":  # an int passes too
        HazardLimits(**{name: 1}).validate()


def test_the_slope_limit_is_below_90_deg():
    assert refusal(max_slope_deg=90.0) == "max_slope_deg must be below 90, got 90.0"
    assert refusal(max_slope_deg=90.5) == "max_slope_deg must be below 90, got 90.5"
    HazardLimits(max_slope_deg=89.5).validate()


def test_the_risk_limit_is_a_probability_below_1():
    assert refusal(max_risk=1.0) == "max_risk is a probability below 1, got 1.0"
    assert refusal(max_risk=1.5) == "max_risk is a probability below 1, got 1.5"
    HazardLimits(max_risk=0.5).validate()
    HazardLimits(max_risk=0.999).validate()


@pytest.mark.parametrize("name", NON_NEGATIVE)
@pytest.mark.parametrize("bad", [-0.5, -1e-9, float("nan"), float("inf"), "0", None])
def test_a_weight_or_height_below_zero_or_not_a_number_is_refused(name, bad):
    assert refusal(**{name: bad}) == f"hazard limit {name} must be >= 0, got {bad!r}"


@pytest.mark.parametrize("name", NON_NEGATIVE)
@pytest.mark.parametrize("ok", [0.0, 0, 0.5, 3])
def test_a_weight_or_height_of_zero_or_more_passes(name, ok):
    HazardLimits(**{name: ok}).validate()


def test_the_link_budget_is_checked_with_the_limits():
    bad = LinkBudget(required_margin_db=-1.0)
    want = "link required_margin_db must be >= 0 dB, got -1.0"
    assert refusal(link=bad) == want


def test_the_first_impossible_value_is_named():
    # the positive rules run in their order, before the slope, risk and weight rules
    assert "max_step_m" in refusal(max_step_m=0.0, radio_cell_m=0.0, slope_weight=-1.0)
    assert "radio_cell_m" in refusal(radio_cell_m=0.0, max_slope_deg=95.0)
    assert "max_slope_deg must be below 90" in refusal(max_slope_deg=95.0, max_risk=2.0)
    assert "max_risk is a probability" in refusal(max_risk=2.0, slope_weight=-1.0)
    link = dataclasses.replace(LinkBudget(), required_margin_db=-1.0)
    assert "shadow_weight" in refusal(shadow_weight=-1.0, link=link)


def _stats(counts: dict[int, int], in_range: dict[int, int] | None = None) -> HazardStats:
    """Counts of valid cells by reason byte (``in_range`` the same within link range)."""
    h = np.zeros(256, np.int64)
    for byte, n in counts.items():
        h[byte] = n
    r = np.zeros(256, np.int64)
    for byte, n in (in_range or {}).items():
        r[byte] = n
    return HazardStats(h, r, np.zeros(9001, np.int64), np.zeros(4))


def bit(*reasons: str) -> int:
    return sum(1 << REASONS.index(x) for x in reasons)


def test_the_share_of_a_reason_counts_every_cell_that_carries_it():
    # 10 valid cells: 5 clear, 2 slope only, 1 slope and obstacle, 2 risk only
    s = _stats({0: 5, bit("slope"): 2, bit("slope", "obstacle"): 1, bit("risk"): 2})
    assert s.valid == 10
    assert s.share("slope") == pytest.approx(0.3)
    assert s.share("obstacle") == pytest.approx(0.1)
    assert s.share("risk") == pytest.approx(0.2)
    assert s.share("nodata") == 0.0
    assert s.share("link") == 0.0
    # the first and the last reason bits
    t = _stats({bit("nodata"): 1, bit("link"): 3, 0: 4})
    assert t.share("nodata") == pytest.approx(1 / 8) and t.share("link") == pytest.approx(3 / 8)


def test_the_share_in_link_range_reads_the_in_range_counts():
    s = _stats({0: 9, bit("slope"): 1}, in_range={0: 1, bit("slope"): 3})
    assert s.share("slope") == pytest.approx(0.1)
    assert s.share("slope", in_range=True) == pytest.approx(0.75)


def test_the_share_of_no_cells_is_zero():
    assert _stats({}).share("slope") == 0.0
    assert _stats({}).share("slope", in_range=True) == 0.0
    # one cell carrying the reason: the whole of it (the floor of 1 cell is not added)
    assert _stats({bit("slope"): 1}).share("slope") == 1.0


def test_the_cells_in_link_range_by_hand():
    # 0.5 m cells from (0, 5); the lander at (1.2, 3.9) stands in cell (row 2, col 2); a range of
    # 1 m is two cells: distances between cell centres, the limit included
    t = Affine(0.5, 0.0, 0.0, 0.0, -0.5, 5.0)
    lander = LanderSite(1.2, 3.9)
    limits = types.SimpleNamespace(link_range_m=1.0)
    want = np.zeros((5, 6), bool)
    for dr, dc in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (2, 0), (-2, 0), (0, 2), (0, -2)]:
        want[2 + dr, 2 + dc] = True
    for dr in (-1, 1):
        for dc in (-1, 1):
            want[2 + dr, 2 + dc] = True
    assert np.array_equal(_in_range(t, (0, 0), (5, 6), lander, limits), want)
    # a window from (row 2, col 3): offsets 0..2 down, 1..3 across
    got = _in_range(t, (2, 3), (3, 3), lander, limits)
    assert np.array_equal(got, [[True, True, False], [True, False, False], [False] * 3])
    # just under 1 m: the cells exactly two away drop out
    short = types.SimpleNamespace(link_range_m=1.0 - 1e-9)
    got = _in_range(t, (0, 0), (5, 6), lander, short)
    assert got.sum() == 9 and not got[0, 2] and not got[2, 4] and got[1, 1]
