"""The deployment side checks, rule by rule: each case breaks one rule on one side, its twin
stays just inside the limit.

One flat, clean hazard map around a lander at (0, 0) with yaw 0 (0.25 m cells) is built by hand
once; each case changes one layer in a few cells. Side 90 sets the rover down due east: its
deployment area is the strip 1.4 m <= x <= 2.2 m, |y| <= 0.4 m (``deploy_distance_m`` 1.8 m and
``deploy_footprint_m`` 0.8 m of Resilience; the strip reaches past the lander's 1.9 m keep-out
ring, 1.4 m footprint plus two 0.25 m cells for the rover's 0.31 m radius), whose cell centres
are x in {1.625, 1.875, 2.125} and y in {-0.375, -0.125, 0.125, 0.375}: 12 cells. Keep-out
within the ring does not count (the mechanism places the rover there; it does not drive).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from datetime import datetime, timedelta, tzinfo

import numpy as np
import pytest

from frigoris import terrain
from frigoris.rover.deploy import _lander_ring_m, deploy
from frigoris.rover.errors import DeployError
from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
from frigoris.rover.touchdown import PLANNED_TOUCHDOWN_UTC, touchdown_at
from frigoris.terrain.hazard import REASONS, HazardMap, hazard_tags
from frigoris.terrain.rocks import DetectedRocks, RockCells

L, ROVER = RESILIENCE, TENACIOUS
RES = 0.25
AREA_X = (1.625, 1.875, 2.125)
AREA_Y = (-0.375, -0.125, 0.125, 0.375)
AREA = [(x, y) for x in AREA_X for y in AREA_Y]
"""Side 90's deployment area: every cell centre (x, y)."""
NEAR_EDGES = [(2.125, 0.375), (1.625, -0.375), (2.125, -0.375), (1.625, 0.375)]
"""Area cells at its four corners."""
JUST_OUTSIDE = [(2.375, 0.125), (1.375, 0.125), (1.875, 0.625), (1.875, -0.625)]
"""The nearest cells past each of its four edges (far, near, left, right)."""
BEYOND_RING = (2.125, 0.375)
"""An area cell outside the lander's keep-out ring (2.16 m from the lander)."""
INSIDE_RING = (1.875, 0.125)
"""An area cell inside the ring (1.88 m from the lander, the ring is 1.9 m)."""


@pytest.fixture(scope="module")
def site():
    """A hand-built hazard map of flat, clean ground (no hazard_map call): 60 m at 0.25 m, the
    lander at (0, 0) with yaw 0, keep-out only within 1.9 m of it (its footprint dilated by the
    rover's radius, as the hazard map makes it), every cell in sight of the lander."""
    crs = terrain.local_metric_crs(60.5, -4.6)
    n = 240
    dem = terrain.Dem.from_array(np.full((n, n), -2430.0, dtype=np.float32), res_m=RES, crs=crs)
    x, y = dem.xy(*np.indices(dem.shape))
    zeros = np.zeros(dem.shape, dtype=np.float32)
    lander = lander_site(L, 0.0, 0.0)
    layers = {
        "elevation": dem.elevation,
        "slope_deg": zeros,
        "slope_rover_deg": zeros,
        "step_m": zeros,
        "risk": zeros,
        "rock_risk": zeros,
        "crater_mask": np.zeros(dem.shape, dtype=np.uint8),
        "link_margin_db": np.full(dem.shape, 30.0, dtype=np.float32),
        "los_lander": np.ones(dem.shape, dtype=np.uint8),
        "cost": np.ones(dem.shape, dtype=np.float32),
        "keepout_reason": np.where(np.hypot(x, y) <= 1.9, LANDER_BIT, 0).astype(np.uint8),
    }
    tags = hazard_tags(hazard_limits(ROVER), sun=None, lander=lander)
    tags = {k: v if isinstance(v, str) else json.dumps(v) for k, v in tags.items()}  # as read
    hm = HazardMap.from_layers(layers, dem, tags)
    assert _lander_ring_m(hm, L) == pytest.approx(1.9)
    run = touchdown_at(dem, L, 0.0, 0.0, 0.0)
    return hm, run


LANDER_BIT = 1 << REASONS.index("lander")
OBSTACLE_BIT = 1 << REASONS.index("obstacle")


def replace(hm, **layers):
    """``dataclasses.replace`` that also takes the layers the map derives from others.

    ``keepout`` (bool: sets or clears the obstacle reason), ``step_m`` (the heights of resolved
    obstacles, stored as their cells) and ``los_lander`` (bool: the link margin 30 dB in sight,
    -1 dB out of it; None: no link field).
    """
    if "keepout" in layers:
        ko = np.asarray(layers.pop("keepout"), dtype=bool)
        layers["keepout_reason"] = np.where(ko, OBSTACLE_BIT, 0).astype(np.uint8)
    if "step_m" in layers:
        layers["rock_cells"] = RockCells.from_dense(layers.pop("step_m"))
    if "los_lander" in layers:
        vis = layers.pop("los_lander")
        if vis is None:
            layers["link"] = None
        else:
            margin = np.where(np.asarray(vis, dtype=bool), 30.0, -1.0).astype(np.float32)
            layers["link"] = dataclasses.replace(hm.link, margin_db=margin)
    return dataclasses.replace(hm, **layers)


def with_cells(hm, name, cells, value):
    """The hazard map with layer ``name`` set to ``value`` at the cells with these centres."""
    current = {"los_lander": lambda: hm.comm_ok()}.get(name, lambda: getattr(hm, name))()
    a = np.array(current, copy=True)
    for x, y in cells:
        a[hm.grid.rowcol(x, y)] = value
    return replace(hm, **{name: a})


def sides(handoff):
    return {s.side_deg: s for s in handoff.sides}


def east_blocked_for(handoff, *reasons, side=90.0):
    """``side`` is blocked for exactly these reasons, the other is fine and chosen."""
    s = sides(handoff)
    other = 270.0 if side == 90.0 else 90.0
    assert s[side].reasons == reasons
    assert not s[side].ok and s[other].ok and s[other].reasons == ()
    assert handoff.deployed and handoff.side_deg == other


def both_fine(handoff):
    s = sides(handoff)
    assert s[90.0].ok and s[270.0].ok, (s[90.0].reasons, s[270.0].reasons)
    assert handoff.deployed


def test_the_flat_site_deploys_on_either_side_and_the_area_is_the_strip(site):
    hm, run = site
    both_fine(deploy(run, hm, L, ROVER))
    # the area is exactly the 12 cells: shadow on all of them (and around) is a fraction of 1,
    # on one of them 1/12
    assert hm.shadow is None
    h = deploy(run, replace(hm, shadow=_mask(hm, AREA)), L, ROVER)
    assert sides(h)[90.0].shadow_fraction == 1.0
    h = deploy(run, replace(hm, shadow=_mask(hm, AREA + JUST_OUTSIDE)), L, ROVER)
    assert sides(h)[90.0].shadow_fraction == 1.0
    h = deploy(run, replace(hm, shadow=_mask(hm, [AREA[5]])), L, ROVER)
    assert sides(h)[90.0].shadow_fraction == pytest.approx(1 / 12)
    assert sides(h)[270.0].shadow_fraction == 0.0


def _mask(hm, cells):
    m = np.zeros(hm.grid.shape, dtype=bool)
    for x, y in cells:
        m[hm.grid.rowcol(x, y)] = True
    return m


# --------------------------------------------------------------------------------------------
# terrain limits in the area: slope, step, rock risk


LIMITS = [
    ("slope_rover_deg", ROVER.max_slope_deg, "slope {:.1f} deg above the rover's 15 deg"),
    ("step_m", ROVER.max_step_m, "step {:.3f} m above the rover's 0.06 m"),
    ("rock_risk", hazard_limits(ROVER).max_risk, "rock risk {:.3f} above 0.4"),
]


@pytest.mark.parametrize("layer, limit, message", LIMITS, ids=[c[0] for c in LIMITS])
@pytest.mark.parametrize("cell", NEAR_EDGES, ids=["far-left", "near-right", "far-right", "near"])
def test_a_terrain_limit_broken_in_one_area_cell_blocks_the_side(site, layer, limit, message, cell):
    hm, run = site
    over = float(np.float32(limit * 1.01))
    h = deploy(run, with_cells(hm, layer, [cell], over), L, ROVER)
    east_blocked_for(h, message.format(over))


@pytest.mark.parametrize("layer, limit, message", LIMITS, ids=[c[0] for c in LIMITS])
def test_a_terrain_limit_met_exactly_or_broken_just_outside_passes(site, layer, limit, message):
    hm, run = site
    # at the limit everywhere in the area (the layers are float32: the largest one not above it)
    at = np.float32(limit)
    at = at if float(at) <= limit else np.nextafter(at, np.float32(0))
    hm = with_cells(hm, layer, AREA, at)
    hm = with_cells(hm, layer, JUST_OUTSIDE, 10 * limit)  # far over it next to the area
    both_fine(deploy(run, hm, L, ROVER))


@pytest.mark.parametrize("layer", ["slope_rover_deg", "rock_risk"])
def test_an_unknown_terrain_value_in_the_area_blocks_the_side(site, layer):
    """(The height of resolved obstacles is known wherever the height is: a cell without data
    is the case below.)"""
    hm, run = site
    h = deploy(run, with_cells(hm, layer, [AREA[3]], np.nan), L, ROVER)
    s = sides(h)[90.0]
    assert not s.ok and len(s.reasons) == 1 and "nan" in s.reasons[0]
    assert h.side_deg == 270.0


def test_no_terrain_data_in_the_area_blocks_the_side(site):
    hm, run = site
    z = np.array(hm.grid.elevation, copy=True)
    z[hm.grid.rowcol(*AREA[7])] = np.nan
    h = deploy(run, replace(hm, grid=hm.grid.with_elevation(z)), L, ROVER)
    # without a height the height of what stands there is unknown too (the map's step_m)
    east_blocked_for(
        h, "no terrain data in the deployment area", "step nan m above the rover's 0.06 m"
    )
    z = np.array(hm.grid.elevation, copy=True)
    for cell in JUST_OUTSIDE:
        z[hm.grid.rowcol(*cell)] = np.nan
    both_fine(deploy(run, replace(hm, grid=hm.grid.with_elevation(z)), L, ROVER))


# --------------------------------------------------------------------------------------------
# keep-out and boulders


def test_keepout_cells_in_the_area_block_the_side_outside_the_lander_ring(site):
    hm, run = site
    h = deploy(run, with_cells(hm, "keepout", [BEYOND_RING], True), L, ROVER)
    east_blocked_for(h, "1 keep-out cell(s) in the deployment area")
    assert sides(h)[90.0].keepout_cells == 1
    h = deploy(run, with_cells(hm, "keepout", [BEYOND_RING, (2.125, -0.125)], True), L, ROVER)
    east_blocked_for(h, "2 keep-out cell(s) in the deployment area")
    # twin: keep-out inside the ring (where the mechanism puts the rover) and just outside
    h = deploy(run, with_cells(hm, "keepout", [INSIDE_RING, *JUST_OUTSIDE], True), L, ROVER)
    both_fine(h)
    assert sides(h)[90.0].keepout_cells == 0


RADIUS = 0.6  # a 1.2 m boulder


@pytest.mark.parametrize(
    "x, y",
    [
        ((L.deploy_distance_m + 0.5 * L.deploy_footprint_m) + 0.5 * 1.2, 0.0),  # touches it
        (2.2 + RADIUS - 0.01, 0.0),  # overlaps the far edge
        (1.8, 0.4 + RADIUS - 0.01),  # overlaps the left edge
        (1.8, -0.4 - RADIUS + 0.01),  # overlaps the right edge
        (1.4 - RADIUS + 0.01, 0.0),  # overlaps the near edge
    ],
)
def test_a_detected_boulder_touching_the_area_blocks_the_side(site, x, y):
    hm, run = site
    rocks = DetectedRocks(np.array([x]), np.array([y]), np.array([2 * RADIUS]), np.array([0.6]))
    h = deploy(run, replace(hm, rocks=rocks), L, ROVER)
    east_blocked_for(h, "a 1.2 m boulder (0.60 m tall) in the set-down area")


@pytest.mark.parametrize(
    "x, y",
    [(2.2 + RADIUS + 0.01, 0.0), (1.8, 0.4 + RADIUS + 0.01), (1.8, -0.4 - RADIUS - 0.01)],
)
def test_a_boulder_just_clear_of_the_area_passes(site, x, y):
    hm, run = site
    rocks = DetectedRocks(np.array([x]), np.array([y]), np.array([2 * RADIUS]), np.array([0.6]))
    both_fine(deploy(run, replace(hm, rocks=rocks), L, ROVER))


def test_the_largest_boulder_is_named(site):
    hm, run = site
    rocks = DetectedRocks(
        np.array([1.8, 2.0]), np.array([0.0, 0.2]), np.array([0.5, 0.9]), np.array([0.2, 0.4])
    )
    h = deploy(run, replace(hm, rocks=rocks), L, ROVER)
    east_blocked_for(h, "a 0.9 m boulder (0.40 m tall) in the set-down area")


# --------------------------------------------------------------------------------------------
# the map's edge


@pytest.mark.parametrize(
    "sign, axis", [(1.0, "x"), (-1.0, "x"), (1.0, "y"), (-1.0, "y")], ids=["E", "W", "N", "S"]
)
@pytest.mark.parametrize(
    "x0, reason",
    [
        (28.3, "set-down point is off the hazard map"),  # set-down at x = 30.1, the edge is 30
        (27.9, "the deployment area runs off the hazard map"),  # set-down 29.7, far edge 30.1
        (27.7, None),  # far edge of the area at 29.9: inside
    ],
)
def test_a_side_at_the_edge_of_the_hazard_map(site, x0, reason, sign, axis):
    """The lander ``x0`` m from the centre towards an edge, one side facing it (yaw 0 for the
    east and west edges, 90 for north and south, where side 90 faces south)."""
    hm, run = site
    assert hm.grid.bounds[2] == pytest.approx(30.0)
    # clean layers up to the edge (a real map has no slope or step within the rover's footprint
    # of its edge, and keep-out there), so only the edge itself is tested
    shape = hm.grid.shape
    at = (sign * x0, 0.0) if axis == "x" else (0.0, sign * x0)
    yaw = 0.0 if axis == "x" else 90.0
    facing = 90.0 if (axis == "x") == (sign > 0) else 270.0
    moved = replace(
        hm,
        lander=lander_site(L, *at),
        slope_rover_deg=np.zeros(shape, np.float32),
        step_m=np.zeros(shape, np.float32),
        keepout=np.zeros(shape, bool),
        cost=np.ones(shape, np.float32),
    )
    h = deploy(dataclasses.replace(run, x=at[0], y=at[1], yaw_deg=yaw), moved, L, ROVER)
    if reason is None:
        both_fine(h)
    else:
        east_blocked_for(h, reason, side=facing)


# --------------------------------------------------------------------------------------------
# the way out of the plume zone


def test_no_egress_when_the_first_cell_past_the_ring_is_impassable(site):
    hm, run = site
    first = hm.grid.rowcol(2.125, 0.0)  # the set-down ray crosses the 1.9 m ring here
    cost = np.array(hm.cost, copy=True)
    cost[first] = np.inf
    h = deploy(run, replace(hm, cost=cost), L, ROVER)
    east_blocked_for(h, "no way out of the 20 m plume zone from this side")
    # twin: its neighbours impassable, the cell itself not: the way out goes on from it
    cost = np.array(hm.cost, copy=True)
    cost[first[0] - 1, first[1] + 1] = cost[first[0] + 1, first[1] + 1] = np.inf
    both_fine(deploy(run, replace(hm, cost=cost), L, ROVER))


def _walled(hm, gap_m):
    x, y = hm.grid.xy(*np.indices(hm.grid.shape))
    wall = np.abs(np.hypot(x, y) - 10.0) < 0.4
    wall &= ~((np.abs(x) < gap_m / 2) & (y > 0))
    cost = np.array(hm.cost, copy=True)
    cost[wall] = np.inf
    return replace(hm, cost=cost)


def test_a_wall_around_the_lander_leaves_no_way_out_and_a_gap_in_it_does(site):
    hm, run = site
    h = deploy(run, _walled(hm, 0.0), L, ROVER)
    assert not h.deployed
    assert [s.reasons for s in h.sides] == [
        ("no way out of the 20 m plume zone from this side",)
    ] * 2
    h = deploy(run, _walled(hm, 1.0), L, ROVER)
    assert h.deployed
    # the egress leaves through the gap, due north
    through = [(x, y) for x, y in h.egress.waypoints if abs(math.hypot(x, y) - 10.0) < 0.4]
    assert through and all(abs(x) < 0.5 and y > 0 for x, y in through)
    assert h.egress.end_distance_m >= L.plume_radius_m
    pts = h.egress.waypoints
    length = sum(math.dist(a, b) for a, b in zip(pts[:-1], pts[1:], strict=True))
    assert h.egress.length_m == pytest.approx(length)
    assert h.egress.energy_wh == pytest.approx(length / 0.02 * ROVER.drive_power_w / 3600.0)


# --------------------------------------------------------------------------------------------
# the lander itself


@pytest.mark.parametrize("tilt, ok", [(12.0, True), (12.0 + 1e-6, False), (math.nan, False)])
def test_the_tilt_limit_of_the_mechanism(site, tilt, ok):
    hm, run = site
    h = deploy(dataclasses.replace(run, tilt_deg=tilt), hm, L, ROVER)
    assert h.deployed is ok
    if not ok:
        assert h.reasons == (
            f"lander tilt {tilt:.1f} deg is above the 12 deg the deployment mechanism allows",
        )
        assert h.sides == ()


@pytest.mark.parametrize("outcome", ["degraded", "tip-over", "crash", "off-dem"])
def test_only_a_nominal_touchdown_deploys(site, outcome):
    hm, run = site
    h = deploy(dataclasses.replace(run, outcome=outcome, reason="why"), hm, L, ROVER)
    assert not h.deployed
    assert h.reasons == (f"lander {outcome}: why", "no deployment: the rover stays aboard")


# --------------------------------------------------------------------------------------------
# shadow and link: recorded and weighed, never blockers


def test_shadow_in_the_area_is_a_penalty_on_the_score(site):
    hm, run = site
    base = deploy(run, hm, L, ROVER)
    cost90 = sides(base)[90.0].egress_cost
    shaded = _mask(hm, AREA[:3])  # 3 of 12 cells
    h = deploy(run, replace(hm, shadow=shaded), L, ROVER)
    s = sides(h)
    assert s[90.0].ok and s[90.0].shadow_fraction == 0.25
    assert s[90.0].score == pytest.approx(cost90 + L.plume_radius_m * 0.25)
    assert s[270.0].score == pytest.approx(sides(base)[270.0].egress_cost)
    assert h.side_deg == 270.0 and h.reasons == ()
    # twin: shadow just outside the area costs nothing
    h = deploy(run, replace(hm, shadow=_mask(hm, JUST_OUTSIDE)), L, ROVER)
    assert sides(h)[90.0].shadow_fraction == 0.0
    assert sides(h)[90.0].score == pytest.approx(cost90)


def test_the_lesser_shadow_wins_and_is_noted(site):
    hm, run = site
    west = [(-x, y) for x, y in AREA]
    h = deploy(run, replace(hm, shadow=_mask(hm, AREA[:3] + west)), L, ROVER)
    assert h.side_deg == 90.0
    assert h.reasons == ("set-down area 25% in shadow at the planning sun",)


def test_equal_scores_keep_the_specs_order(site):
    hm, run = site
    # mirror the map east-west so both sides see the same terrain
    mirrored = replace(hm, cost=np.ones(hm.grid.shape, dtype=np.float32))
    h = deploy(run, mirrored, L, ROVER)
    s = sides(h)
    assert s[90.0].score == pytest.approx(s[270.0].score)
    assert h.side_deg == L.deploy_sides_deg[0]


def test_link_is_read_at_the_set_down_cell(site):
    hm, run = site
    set_down = (1.8, 0.0)
    h = deploy(run, with_cells(hm, "los_lander", [set_down], False), L, ROVER)
    s = sides(h)
    assert s[90.0].ok and s[90.0].link_ok is False and s[270.0].link_ok is True
    # twin: every area cell but the set-down one out of sight
    others = [c for c in AREA if hm.grid.rowcol(*c) != hm.grid.rowcol(*set_down)]
    h = deploy(run, with_cells(hm, "los_lander", others, False), L, ROVER)
    assert sides(h)[90.0].link_ok is True


def test_link_lost_on_the_chosen_side_is_noted(site):
    hm, run = site
    blind = replace(hm, los_lander=np.zeros(hm.grid.shape, dtype=bool))
    h = deploy(run, blind, L, ROVER)
    assert h.deployed and h.link_ok is False
    assert h.reasons == ("set-down point out of the lander's line of sight or link range",)


@pytest.mark.parametrize("link_range_m, ok", [(1.8 * (1 + 1e-9), True), (1.79, False)])
def test_without_a_link_layer_link_is_the_free_space_range(site, link_range_m, ok):
    hm, run = site
    budget = hm.limits.link
    # the required margin that leaves free space exactly this range
    fspl = 20.0 * math.log10(4.0 * math.pi * link_range_m / budget.wavelength_m)
    extra = budget.budget_db() - fspl
    link = dataclasses.replace(budget, required_margin_db=budget.required_margin_db + extra)
    limits = dataclasses.replace(hm.limits, link=link)
    assert limits.link_range_m == pytest.approx(link_range_m, rel=1e-9)
    h = deploy(run, replace(hm, los_lander=None, limits=limits), L, ROVER)
    assert [s.link_ok for s in h.sides] == [ok, ok]


def test_a_set_down_point_exactly_at_the_free_space_range_has_the_link(site):
    """The range derived from the link budget is no round number: a lander that sets the rover
    down exactly that far has the link (at most the range), one a hair farther has not."""
    hm, run = site
    budget = hm.limits.link  # the margin that leaves about 1.8 m of free space, as above
    fspl = 20.0 * math.log10(4.0 * math.pi * 1.8 / budget.wavelength_m)
    link = dataclasses.replace(
        budget, required_margin_db=budget.required_margin_db + budget.budget_db() - fspl
    )
    hm = replace(hm, los_lander=None, limits=dataclasses.replace(hm.limits, link=link))
    reach = hm.limits.link_range_m
    assert reach == pytest.approx(1.8, rel=1e-9)
    lander = dataclasses.replace(L, deploy_distance_m=reach)
    assert [s.link_ok for s in deploy(run, hm, lander, ROVER).sides] == [True, True]
    lander = dataclasses.replace(L, deploy_distance_m=float(np.nextafter(reach, 2 * reach)))
    assert [s.link_ok for s in deploy(run, hm, lander, ROVER).sides] == [False, False]


@pytest.mark.parametrize("yaw", [30.0, 135.0, 250.0])
def test_the_set_down_point_and_the_egress_follow_the_yaw(site, yaw):
    hm, run = site
    h = deploy(dataclasses.replace(run, yaw_deg=yaw), hm, L, ROVER)
    assert h.deployed
    az = math.radians(yaw + h.side_deg)
    want = (1.8 * math.sin(az), 1.8 * math.cos(az))
    assert (h.pose.x, h.pose.y) == pytest.approx(want, abs=1e-12)
    assert h.egress.waypoints[0] == pytest.approx(want, abs=1e-12)
    assert h.pose.heading_deg == pytest.approx((yaw + h.side_deg) % 360.0)
    # the egress leaves the lander's ring on the side's azimuth and ends past the plume radius
    x1, y1 = h.egress.waypoints[1]
    assert math.hypot(x1, y1) > 1.9
    assert (x1 * math.sin(az) + y1 * math.cos(az)) > 1.9
    assert h.egress.end_distance_m >= L.plume_radius_m


@pytest.mark.parametrize(
    "along, across, hit",
    [
        (1.8, 0.95, True),
        (1.8, 1.01, False),
        (1.8, -0.95, True),
        (2.75, 0.0, True),
        (0.75, 0.0, False),
    ],
)
def test_boulders_are_judged_in_the_sides_own_frame(site, along, across, hit):
    """At yaw 30 side 90 points to azimuth 120: a 1.2 m boulder ``along`` it and ``across`` to
    its left touches the 0.8 m wide strip from 1.4 m to 2.2 m when |across| < 0.4 + 0.6 and
    0.8 m < along < 2.8 m."""
    hm, run = site
    az = math.radians(120.0)
    ux, uy = math.sin(az), math.cos(az)
    x, y = along * ux - across * uy, along * uy + across * ux
    rocks = DetectedRocks(np.array([x]), np.array([y]), np.array([1.2]), np.array([0.6]))
    h = deploy(dataclasses.replace(run, yaw_deg=30.0), replace(hm, rocks=rocks), L, ROVER)
    if hit:
        east_blocked_for(h, "a 1.2 m boulder (0.60 m tall) in the set-down area")
    else:
        both_fine(h)


@pytest.mark.parametrize("gap_m, hit", [(0.0, True), (1e-9, False)])
def test_a_boulder_exactly_touching_the_strips_side_blocks_it(site, gap_m, hit):
    """At yaw 270 side 90 points due north (azimuth 0: sin 0 and cos 0 are exact), so a 1.2 m
    boulder 1.8 m north and 1.0 m west lies exactly 0.4 + 0.6 m across: touching the strip."""
    hm, run = site
    rocks = DetectedRocks(
        np.array([-1.0 - gap_m]), np.array([1.8]), np.array([1.2]), np.array([0.6])
    )
    h = deploy(dataclasses.replace(run, yaw_deg=270.0), replace(hm, rocks=rocks), L, ROVER)
    if hit:
        east_blocked_for(h, "a 1.2 m boulder (0.60 m tall) in the set-down area")
    else:
        both_fine(h)


def test_the_egress_ends_at_the_first_cell_at_the_plume_radius(site):
    """With the lander at (0.125, 0.125) the cell centre (20.125, 0.125) lies exactly 20 m
    away: the plume radius is reached there (at least 20 m, not more than 20 m)."""
    hm, run = site
    moved = replace(hm, lander=lander_site(L, 0.125, 0.125))
    h = deploy(dataclasses.replace(run, x=0.125, y=0.125), moved, L, ROVER)
    eg = {s.side_deg: s for s in h.sides}
    assert eg[90.0].ok
    east = deploy(dataclasses.replace(run, x=0.125, y=0.125), _only_east(moved), L, ROVER)
    assert east.side_deg == 90.0
    assert east.egress.waypoints[-1] == pytest.approx((20.125, 0.125))
    assert east.egress.end_distance_m == 20.0


@pytest.mark.parametrize("short_m, hit", [(0.0, True), (1e-9, False)])
def test_a_boulder_exactly_touching_the_strips_near_end_blocks_it(site, short_m, hit):
    """At yaw 270 side 90 points due north, where a boulder's distance along it is its y: a 1.2
    m boulder whose edge reaches exactly the strip's near end touches it."""
    hm, run = site
    near = L.deploy_distance_m - 0.5 * L.deploy_footprint_m
    y = near - 0.5 * 1.2 - short_m
    rocks = DetectedRocks(np.array([0.0]), np.array([y]), np.array([1.2]), np.array([0.6]))
    h = deploy(dataclasses.replace(run, yaw_deg=270.0), replace(hm, rocks=rocks), L, ROVER)
    if hit:
        east_blocked_for(h, "a 1.2 m boulder (0.60 m tall) in the set-down area")
    else:
        both_fine(h)


def test_the_way_out_starts_at_the_first_cell_past_the_ring(site):
    """With the lander at (0.175, 0.125) the cell centres east of it lie 1.7 m and 1.95 m away:
    the way out starts at the one at 1.95 m, the first past the 1.9 m ring (the walk along the
    ray from the set-down point at 1.8 m takes quarter cells, so it skips none)."""
    hm, run = site
    x0, y0 = 0.175, 0.125
    x, y = hm.grid.xy(*np.indices(hm.grid.shape))
    moved = replace(hm, lander=lander_site(L, x0, y0), keepout=np.hypot(x - x0, y - y0) <= 1.9)
    h = deploy(dataclasses.replace(run, x=x0, y=y0), _only_east(moved), L, ROVER)
    assert h.side_deg == 90.0
    assert h.egress.waypoints[1] == (2.125, 0.125)


def test_a_cost_layer_the_path_search_refuses_leaves_no_way_out(site):
    """A negative cost (which no hazard map makes) is refused by the path search: neither side
    has a way out, and the handoff says so instead of failing."""
    hm, run = site
    h = deploy(run, with_cells(hm, "cost", [(10.125, 10.125)], -1.0), L, ROVER)
    assert not h.deployed
    assert [s.reasons for s in h.sides] == [
        (f"no way out of the {L.plume_radius_m:g} m plume zone from this side",)
    ] * 2


def _only_east(hm):
    """Block the west side's set-down area so that the east side is chosen."""
    return with_cells(hm, "slope_rover_deg", [(-1.625, 0.125)], 90.0)


def _area_probes(yaw):
    """At ``yaw``, side 90's area cell nearest its left or right edge, and the nearest cell
    past that edge (by the strip's definition: 1.4 <= along <= 2.2, |across| <= 0.4)."""
    az = math.radians(yaw + 90.0)
    ux, uy = math.sin(az), math.cos(az)
    c = (np.arange(-16, 16) + 0.5) * RES
    x, y = np.meshgrid(c, c)
    along, across = x * ux + y * uy, -x * uy + y * ux
    middle = (along >= 1.5) & (along <= 2.1)
    inside = middle & (np.abs(across) <= 0.4)
    outside = middle & (np.abs(across) > 0.4)
    i = np.argmax(np.where(inside, np.abs(across), -1))
    o = np.argmin(np.where(outside, np.abs(across), 9))
    return (float(x.flat[i]), float(y.flat[i])), (float(x.flat[o]), float(y.flat[o]))


@pytest.mark.parametrize("yaw", [30.0, 200.0])
def test_the_area_is_the_strip_at_any_yaw(site, yaw):
    hm, run = site
    run = dataclasses.replace(run, yaw_deg=yaw)
    inside, outside = _area_probes(yaw)
    h = deploy(run, with_cells(hm, "slope_rover_deg", [inside], 20.0), L, ROVER)
    east_blocked_for(h, "slope 20.0 deg above the rover's 15 deg")
    both_fine(deploy(run, with_cells(hm, "slope_rover_deg", [outside], 20.0), L, ROVER))


@pytest.mark.parametrize(
    "case, message",
    [
        ("naive time", "time 2025-06-05T19:17:00 has no time zone; give an aware UTC time"),
        ("no hazard", "the lander stands: deploy() needs a hazard map around it"),
        ("other lander", "the hazard map was built for a lander at (0.3, 0.0), 0.3 m from this"),
        ("off the map", "does not cover the lander at (31.0, 0.0); build it around the touchdown"),
        ("not a run", "touchdown must be a TouchdownRun, got dict"),
        ("not specs", "lander must be a LanderSpec and rover a RoverSpec"),
    ],
)
def test_inputs_that_do_not_belong_together_are_refused(site, case, message):
    hm, run = site
    args = [run, hm, L, ROVER]
    kw = {}
    if case == "naive time":
        kw["time"] = datetime(2025, 6, 5, 19, 17)
    elif case == "no hazard":
        args[1] = None
    elif case == "other lander":  # more than one 0.25 m cell away
        args[1] = replace(hm, lander=lander_site(L, 0.26, 0.0))
    elif case == "off the map":
        args[0] = dataclasses.replace(run, x=31.0)
    elif case == "not a run":
        args[0] = {}
    else:
        args[3] = L
    with pytest.raises(DeployError, match=re.escape(message)):
        deploy(*args, **kw)
    # twin: a lander site within one cell of the touchdown is the same lander
    if case == "other lander":
        both_fine(deploy(run, replace(hm, lander=lander_site(L, 0.25, 0.0)), L, ROVER))


def test_rock_risk_exactly_at_the_limit_passes(site):
    """A uniform rock risk is kept as one float64 value: exactly the limit is allowed."""
    hm, run = site
    risk = np.zeros(hm.grid.shape)  # float64
    risk[hm.grid.rowcol(*AREA[4])] = hm.limits.max_risk
    both_fine(deploy(run, replace(hm, rock_risk=risk), L, ROVER))


def test_a_step_exactly_at_a_limit_a_float32_layer_can_hold_passes(site):
    """The step layer is float32: for a rover whose limit is a float32 value, a step of exactly
    that height in every area cell is allowed, and the next float32 above it is not."""
    hm, run = site
    limit = np.float32(ROVER.max_step_m)
    rover = dataclasses.replace(ROVER, max_step_m=float(limit))
    both_fine(deploy(run, with_cells(hm, "step_m", AREA, limit), L, rover))
    over = np.nextafter(limit, np.float32(1))
    h = deploy(run, with_cells(hm, "step_m", [AREA[5]], over), L, rover)
    east_blocked_for(h, f"step {float(over):.3f} m above the rover's {float(limit):g} m")


def test_a_narrow_footprint_reaches_one_cell_past_the_lander_ring(site):
    """With a 0.3 m footprint the strip ends at 1.95 m, inside the 1.9 m ring plus a cell: the
    area reaches on to the first cell centre past the ring plus half a cell (2.15 m), so the
    cell at 2.125 m is in it."""
    hm, run = site
    narrow = dataclasses.replace(L, deploy_footprint_m=0.3)
    h = deploy(run, with_cells(hm, "slope_rover_deg", [(2.125, 0.125)], 20.0), narrow, ROVER)
    east_blocked_for(h, "slope 20.0 deg above the rover's 15 deg")
    both_fine(deploy(run, with_cells(hm, "slope_rover_deg", [(2.375, 0.125)], 20.0), narrow, ROVER))


@pytest.mark.parametrize("yaw", [30.0, 200.0])
def test_the_area_follows_a_lander_away_from_the_origin(site, yaw):
    hm, run = site
    x0, y0 = 8.0, -5.25  # whole cells away: the same cell centres relative to the lander
    run = dataclasses.replace(run, x=x0, y=y0, yaw_deg=yaw)
    hm = replace(hm, lander=lander_site(L, x0, y0))
    inside, outside = _area_probes(yaw)
    inside, outside = (inside[0] + x0, inside[1] + y0), (outside[0] + x0, outside[1] + y0)
    h = deploy(run, with_cells(hm, "slope_rover_deg", [inside], 20.0), L, ROVER)
    east_blocked_for(h, "slope 20.0 deg above the rover's 15 deg")
    both_fine(deploy(run, with_cells(hm, "slope_rover_deg", [outside], 20.0), L, ROVER))
    az = math.radians(yaw + 90.0)
    bx, by = (
        x0 + 1.8 * math.sin(az) - 0.95 * math.cos(az),
        y0 + 1.8 * math.cos(az) + 0.95 * math.sin(az),
    )
    rocks = DetectedRocks(np.array([bx]), np.array([by]), np.array([1.2]), np.array([0.6]))
    h = deploy(run, replace(hm, rocks=rocks), L, ROVER)
    east_blocked_for(h, "a 1.2 m boulder (0.60 m tall) in the set-down area")


def test_a_strip_along_the_edge_runs_off_on_its_side(site):
    """The lander 0.3 m from the south edge, yaw 0: both strips run east and west along the
    edge, 0.4 m to each side of their axis, so their south corners are off the map."""
    hm, run = site
    shape = hm.grid.shape
    y0 = -29.7
    moved = replace(
        hm,
        lander=lander_site(L, 0.0, y0),
        slope_rover_deg=np.zeros(shape, np.float32),
        step_m=np.zeros(shape, np.float32),
        keepout=np.zeros(shape, bool),
        cost=np.ones(shape, np.float32),
    )
    h = deploy(dataclasses.replace(run, x=0.0, y=y0), moved, L, ROVER)
    assert not h.deployed
    assert [s.reasons for s in h.sides] == [("the deployment area runs off the hazard map",)] * 2


class _NoOffset(tzinfo):
    """A time zone object that knows no offset: a time carrying it is still naive."""

    def utcoffset(self, dt):
        return None

    def dst(self, dt):
        return None

    def tzname(self, dt):
        return None


def test_a_time_whose_zone_has_no_offset_is_refused(site):
    hm, run = site
    when = datetime(2025, 6, 5, 19, 17, tzinfo=_NoOffset())
    assert when.tzinfo is not None and when.utcoffset() is None
    with pytest.raises(DeployError, match="has no time zone; give an aware UTC time"):
        deploy(run, hm, L, ROVER, time=when)


def test_time_and_crs_are_keyword_only_and_the_handoff_keeps_its_clock(site):
    hm, run = site
    with pytest.raises(TypeError):
        deploy(run, hm, L, ROVER, PLANNED_TOUCHDOWN_UTC)  # positional: refused
    h = deploy(run, hm, L, ROVER)
    assert h.touchdown_time == PLANNED_TOUCHDOWN_UTC
    assert h.time == PLANNED_TOUCHDOWN_UTC + timedelta(hours=L.checkout_h)
    assert h.lander.lat_deg == pytest.approx(60.5, abs=1e-3)
    assert h.lander.lon_deg == pytest.approx(-4.6, abs=1e-3)


@pytest.mark.parametrize("yaw", [30.1234567, 135.0, 300.0])
def test_each_sides_azimuth_is_the_yaw_plus_the_side(site, yaw):
    hm, run = site
    h = deploy(dataclasses.replace(run, yaw_deg=yaw), hm, L, ROVER)
    assert {s.side_deg: s.azimuth_deg for s in h.sides} == {
        side: round((yaw + side) % 360.0, 6) for side in L.deploy_sides_deg
    }


@pytest.mark.parametrize("axis, sign", [("x", 1.0), ("x", -1.0), ("y", 1.0), ("y", -1.0)])
def test_the_area_reaches_the_last_row_or_column_of_the_map(site, axis, sign):
    """27.7 m from the centre the strip ends 0.1 m inside the map: the edge cell (0.125 m from
    the edge) is in the area, and a slope there blocks the side facing the edge."""
    hm, run = site
    shape = hm.grid.shape
    at = (sign * 27.7, 0.0) if axis == "x" else (0.0, sign * 27.7)
    edge = (sign * 29.875, 0.125) if axis == "x" else (0.125, sign * 29.875)
    yaw = 0.0 if axis == "x" else 90.0
    facing = 90.0 if (axis == "x") == (sign > 0) else 270.0
    slope = np.zeros(shape, np.float32)
    slope[hm.grid.rowcol(*edge)] = 20.0
    moved = replace(
        hm,
        lander=lander_site(L, *at),
        slope_rover_deg=slope,
        step_m=np.zeros(shape, np.float32),
        keepout=np.zeros(shape, bool),
        cost=np.ones(shape, np.float32),
    )
    h = deploy(dataclasses.replace(run, x=at[0], y=at[1], yaw_deg=yaw), moved, L, ROVER)
    east_blocked_for(h, "slope 20.0 deg above the rover's 15 deg", side=facing)


def test_keepout_and_the_way_out_are_measured_from_an_off_origin_lander(site):
    hm, run = site
    x0, y0 = 8.0, -5.25
    x, y = hm.grid.xy(*np.indices(hm.grid.shape))
    ring = np.hypot(x - x0, y - y0) <= 1.9
    moved = replace(hm, lander=lander_site(L, x0, y0), keepout=ring)
    run = dataclasses.replace(run, x=x0, y=y0)
    h = deploy(run, moved, L, ROVER)
    both_fine(h)  # the ring around this lander is exempt
    assert h.egress.end_distance_m >= L.plume_radius_m
    assert math.dist(h.egress.waypoints[-1], (x0, y0)) == pytest.approx(h.egress.end_distance_m)
    assert math.dist(h.egress.waypoints[1], (x0, y0)) > 1.9
    # the way out starts at the set-down point and goes on from cell to neighbouring cell (the
    # lander sits 21 rows and 32 columns into the map: the path's window starts there)
    w = h.egress.waypoints
    chosen = sides(h)[h.side_deg]
    assert w[0] == (chosen.set_down_x, chosen.set_down_y)
    assert math.dist(w[0], w[1]) <= 2 * RES
    assert all(
        math.dist(a, b) <= RES * math.sqrt(2) + 1e-9 for a, b in zip(w[1:-1], w[2:], strict=True)
    )
    h = deploy(run, with_cells(moved, "keepout", [(x0 + 2.125, y0 + 0.375)], True), L, ROVER)
    east_blocked_for(h, "1 keep-out cell(s) in the deployment area")
