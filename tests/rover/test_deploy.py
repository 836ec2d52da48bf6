"""Deployment handoff: side choice, no-deployment results, egress, JSON, the planner's start."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner

from frigoris import terrain
from frigoris.planners import shortest_path
from frigoris.rover.app.cli.deploy import NO_HANDOFF_EXIT
from frigoris.rover.app.cli.deploy import deploy as deploy_cmd
from frigoris.rover.deploy import Handoff, crop, deploy
from frigoris.rover.errors import DeployError
from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
from frigoris.rover.touchdown import PLANNED_TOUCHDOWN_UTC, simulate_touchdown, touchdown_at
from frigoris.terrain.hazard import DetectedRocks, hazard_map

BASE_Z = -2430.0
RES = 0.25
L, ROVER = RESILIENCE, TENACIOUS


@pytest.fixture(scope="module")
def crs():
    return terrain.local_metric_crs(60.5, -4.6)


def _dem(crs, z=None, n=240):
    """A 60 m square at 0.25 m centred on (0, 0), faintly rough so paths are unique."""
    if z is None:
        z = np.full((n, n), BASE_Z, dtype=np.float32)
        z += np.random.default_rng(0).normal(0.0, 0.003, z.shape).astype(np.float32)
    return terrain.Dem.from_array(np.asarray(z, dtype=np.float32), res_m=RES, crs=crs)


def _with_block(dem, x, y, height, half_m):
    z = np.array(dem.elevation)
    rows, cols = np.indices(z.shape)
    cx, cy = dem.xy(rows, cols)
    z[(np.abs(cx - x) <= half_m) & (np.abs(cy - y) <= half_m)] += height
    return dem.with_elevation(z)


def _hazard(dem, x=0.0, y=0.0, **kw):
    return hazard_map(dem, hazard_limits(ROVER), lander=lander_site(L, x, y), detect=False, **kw)


def _set_down(yaw_deg, side_deg, x0=0.0, y0=0.0):
    az = math.radians(yaw_deg + side_deg)
    d = L.deploy_distance_m
    return x0 + d * math.sin(az), y0 + d * math.cos(az)


@pytest.fixture(scope="module")
def flat(crs):
    return _dem(crs)


@pytest.fixture(scope="module")
def flat_handoff(flat):
    hm = _hazard(flat)
    run = touchdown_at(flat, L, 0.0, 0.0, 0.0)
    return deploy(run, hm, L, ROVER), hm


# --------------------------------------------------------------------------------------------
# a good deployment


def test_flat_ground_deploys_with_an_egress_out_of_the_plume_zone(flat_handoff):
    h, hm = flat_handoff
    assert h.deployed and h.reasons == ()
    assert h.side_deg in L.deploy_sides_deg
    assert all(s.ok for s in h.sides) and len(h.sides) == 2
    sx, sy = _set_down(0.0, h.side_deg)
    assert (h.pose.x, h.pose.y) == pytest.approx((sx, sy))
    assert h.pose.heading_deg == pytest.approx(h.side_deg % 360)
    assert h.pose.lat_deg == pytest.approx(60.5, abs=1e-3)
    # the egress starts at the set-down point and ends past the plume radius
    eg = h.egress
    assert eg.waypoints[0] == pytest.approx((sx, sy))
    assert eg.end_distance_m >= L.plume_radius_m
    assert L.plume_radius_m - L.deploy_distance_m <= eg.length_m < L.plume_radius_m + 2.0
    # every waypoint after the set-down point is a passable cell outside the lander
    for x, y in eg.waypoints[1:]:
        r, c = hm.grid.rowcol(x, y)
        assert np.isfinite(hm.cost[r, c]) and not hm.keepout[r, c]
    assert eg.energy_wh == pytest.approx(eg.length_m / ROVER.speed_m_s * ROVER.drive_power_w / 3600)
    # time, battery, link
    assert h.touchdown_time == PLANNED_TOUCHDOWN_UTC
    assert h.time - h.touchdown_time == timedelta(hours=L.checkout_h)
    assert h.battery_wh == ROVER.battery_wh
    assert h.start_battery_wh == pytest.approx(ROVER.battery_wh - eg.energy_wh)
    assert h.start_time == h.time + timedelta(seconds=eg.length_m / ROVER.speed_m_s)
    assert h.link_ok is True
    assert (h.start.x, h.start.y) == eg.waypoints[-1]


def test_sides_follow_the_lander_yaw(flat):
    hm = _hazard(flat)
    h = deploy(touchdown_at(flat, L, 0.0, 0.0, 30.0), hm, L, ROVER)
    az = {s.side_deg: s.azimuth_deg for s in h.sides}
    assert az == {90.0: pytest.approx(120.0), 270.0: pytest.approx(300.0)}


# --------------------------------------------------------------------------------------------
# blocked sides


@pytest.mark.parametrize("yaw", [0.0, 30.0])
def test_a_boulder_blocking_a_side_means_that_side_is_not_chosen(flat, yaw):
    bx, by = _set_down(yaw, 90.0)
    dem = _with_block(flat, bx, by, 0.4, 0.3)  # a 0.6 m wide, 0.4 m tall boulder
    h = deploy(touchdown_at(dem, L, 0.0, 0.0, yaw), _hazard(dem), L, ROVER)
    side = {s.side_deg: s for s in h.sides}
    assert not side[90.0].ok
    assert any("step" in r for r in side[90.0].reasons)
    assert side[90.0].max_step_m > ROVER.max_step_m
    assert side[270.0].ok
    assert h.deployed and h.side_deg == 270.0


def test_every_side_blocked_is_a_clear_no_deployment_result(flat):
    dem = flat
    for side in L.deploy_sides_deg:
        dem = _with_block(dem, *_set_down(0.0, side), 0.4, 0.3)
    h = deploy(touchdown_at(dem, L, 0.0, 0.0, 0.0), _hazard(dem), L, ROVER)
    assert not h.deployed
    assert h.reasons[0] == "no deployment possible: every side is blocked"
    assert [r.split(" (")[0] for r in h.reasons[1:]] == ["side 90 deg", "side 270 deg"]
    assert all("step" in r for r in h.reasons[1:])
    assert h.pose is None and h.egress is None and h.start is None
    with pytest.raises(DeployError, match="never deployed.*every side is blocked"):
        h.start_rowcol(dem)
    assert Handoff.from_json(h.to_json()) == h


def test_no_way_out_of_the_plume_zone(crs):
    # a 1 m wall all around the lander at 10 m: both set-down areas are fine, no egress exists
    dem = _dem(crs)
    rows, cols = np.indices(dem.shape)
    x, y = dem.xy(rows, cols)
    z = np.array(dem.elevation)
    z[np.abs(np.hypot(x, y) - 10.0) < 0.6] += 1.0
    dem = dem.with_elevation(z)
    h = deploy(touchdown_at(dem, L, 0.0, 0.0, 0.0), _hazard(dem), L, ROVER)
    assert not h.deployed
    assert all(
        r.endswith("no way out of the 20 m plume zone from this side") for r in h.reasons[1:]
    )


def test_detected_boulder_is_named(flat):
    hm = _hazard(flat)
    bx, by = _set_down(0.0, 270.0)
    rocks = DetectedRocks(np.array([bx + 0.3]), np.array([by]), np.array([1.2]), np.array([0.6]))
    h = deploy(touchdown_at(flat, L, 0.0, 0.0, 0.0), dataclasses.replace(hm, rocks=rocks), L, ROVER)
    side = {s.side_deg: s for s in h.sides}
    assert "a 1.2 m boulder (0.60 m tall) in the set-down area" in side[270.0].reasons
    assert h.side_deg == 90.0


def test_shadow_is_a_penalty_not_a_blocker(flat):
    hm = _hazard(flat)
    rows, cols = np.indices(flat.shape)
    x, _ = flat.xy(rows, cols)
    shadow = x > 0  # the east half, where side 90 sets down at yaw 0
    h = deploy(
        touchdown_at(flat, L, 0.0, 0.0, 0.0), dataclasses.replace(hm, shadow=shadow), L, ROVER
    )
    side = {s.side_deg: s for s in h.sides}
    assert side[90.0].ok and side[90.0].shadow_fraction == 1.0
    assert side[270.0].shadow_fraction == 0.0
    assert side[90.0].score > side[270.0].score
    assert h.side_deg == 270.0


def test_link_loss_at_the_set_down_point_is_recorded(flat_handoff):
    _, hm = flat_handoff
    dead = dataclasses.replace(hm.link, margin_db=np.full_like(hm.link.margin_db, -10.0))
    blind = dataclasses.replace(hm, link=dead)
    h = deploy(touchdown_at(hm.grid, L, 0.0, 0.0, 0.0), blind, L, ROVER)
    assert h.link_ok is False
    assert any("line of sight" in r for r in h.reasons)


# --------------------------------------------------------------------------------------------
# the lander did not come down well


def test_crash_is_a_result_not_an_exception(flat):
    run = touchdown_at(flat, L, 0.0, 0.0, 0.0, v_vertical_m_s=42.0)
    assert run.outcome == "crash"
    h = deploy(run, None, L, ROVER)
    assert not h.deployed
    assert "42.0 m/s" in h.reasons[0] and "crash" in h.reasons[0]
    assert h.start is None and h.start_time is None
    assert Handoff.from_json(h.to_json()) == h


def test_degraded_or_too_tilted_lander_does_not_deploy(flat):
    px = L.pad_circle_radius_m * math.sin(math.radians(45))
    dem = _with_block(flat, px, px, 0.5, 0.3)
    run = touchdown_at(dem, L, 0.0, 0.0, 0.0)
    assert run.outcome == "degraded"
    h = deploy(run, None, L, ROVER)
    assert not h.deployed and "degraded" in h.reasons[0]
    tilted = dataclasses.replace(touchdown_at(flat, L, 0.0, 0.0, 0.0), tilt_deg=13.0)
    h = deploy(tilted, _hazard(flat), L, ROVER)
    assert not h.deployed
    assert h.reasons == (
        "lander tilt 13.0 deg is above the 12 deg the deployment mechanism allows",
    )


@pytest.mark.parametrize(
    "case, message",
    [
        ("naive time", "time zone"),
        ("no hazard", "needs a hazard map"),
        ("other lander", "built for a lander at"),
        ("off the map", "does not cover the lander"),
    ],
)
def test_inputs_that_do_not_belong_together(flat, case, message):
    run = touchdown_at(flat, L, 0.0, 0.0, 0.0)
    hm = _hazard(flat)
    kwargs = {}
    if case == "naive time":
        kwargs["time"] = datetime(2025, 6, 5, 19, 17)
    elif case == "no hazard":
        hm = None
    elif case == "other lander":
        hm = _hazard(flat, 5.0, 5.0)
    else:
        hm = _hazard(crop(flat, 20.0, 20.0, 8.0), 20.0, 20.0)
    with pytest.raises(DeployError, match=message):
        deploy(run, hm, L, ROVER, **kwargs)


# --------------------------------------------------------------------------------------------
# JSON and the planner


def test_handoff_round_trips_through_json_and_a_file(tmp_path, flat_handoff):
    h, _ = flat_handoff
    text = h.to_json()
    doc = json.loads(text)
    assert doc["frigoris_handoff"] == 1 and doc["time"] == "2025-06-06T19:17:00+00:00"
    assert "Moon" in doc["crs_wkt"]
    back = Handoff.from_json(text)
    assert back == h
    assert back.start == h.start and back.start_time == h.start_time
    path = h.write(tmp_path / "out" / "handoff.json")
    assert Handoff.read(path) == h


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be an object"),
        ('{"frigoris_handoff": 99}', "version"),
        ('{"frigoris_handoff": 1, "deployed": true}', "malformed"),
    ],
)
def test_bad_handoff_json(text, message):
    with pytest.raises(DeployError, match=message):
        Handoff.from_json(text)


def test_timezones_normalise_to_utc(flat_handoff):
    _, hm = flat_handoff
    jst = timezone(timedelta(hours=9))  # the planned touchdown in Japan: 06-06 04:17 JST
    run = touchdown_at(hm.grid, L, 0.0, 0.0, 0.0)
    h = deploy(run, hm, L, ROVER, time=datetime(2025, 6, 6, 4, 17, tzinfo=jst))
    assert h.touchdown_time == PLANNED_TOUCHDOWN_UTC
    assert h.touchdown_time.utcoffset() == timedelta(0)


def test_the_planner_starts_from_the_handoff(flat_handoff):
    h, hm = flat_handoff
    back = Handoff.from_json(h.to_json())
    start = back.start_rowcol(hm.grid)
    assert start == hm.grid.rowcol(h.egress.waypoints[-1][0], h.egress.waypoints[-1][1])
    goal = hm.grid.rowcol(-22.0, 15.0)
    path = shortest_path(hm.cost, start, goal, res_m=hm.grid.res_m)
    assert tuple(path.cells[0]) == start and tuple(path.cells[-1]) == goal

    from frigoris.rover.planning import plan_on_hazard

    plan = plan_on_hazard(
        hm,
        rover=ROVER,
        lander=L,
        start_time=back.start_time,
        start_cell=start,
        start_soc_wh=back.start_battery_wh,
        mission_days=0.25,
        time_limit_s=1.0,
    ).plan
    assert tuple(plan.stops.cells[0]) == start
    assert plan.timeline["soc_wh"][0] == pytest.approx(back.start_battery_wh)


# --------------------------------------------------------------------------------------------
# CLI


@pytest.fixture
def flat_tif(tmp_path, crs):
    dem = _dem(crs, n=400)  # 100 m: room for the plume zone and the hazard window
    return terrain.write_geotiff(tmp_path / "flat.tif", {"elevation": dem.elevation}, dem)


def test_cli_deploy_writes_the_handoff(tmp_path, flat_tif):
    out = tmp_path / "dep"
    res = CliRunner().invoke(
        deploy_cmd,
        [str(flat_tif), "-o", str(out), "--at", "xy:1,-2", "--yaw", "10", "-q", "--json"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["deployed"] is True
    h = Handoff.read(out / "handoff.json")
    assert h.deployed and (h.lander.x, h.lander.y, h.lander.yaw_deg) == (1.0, -2.0, 10.0)
    assert h.egress.end_distance_m >= L.plume_radius_m
    assert (out / "deploy.png").stat().st_size > 20_000


def test_cli_deploy_crash_exits_3_and_says_why(tmp_path, flat_tif):
    out = tmp_path / "crash"
    res = CliRunner().invoke(
        deploy_cmd, [str(flat_tif), "-o", str(out), "--scenario", "mission-1", "-q"]
    )
    assert res.exit_code == NO_HANDOFF_EXIT == 3
    assert "no handoff: lander crash" in res.output
    h = Handoff.read(out / "handoff.json")
    assert not h.deployed and h.lander.outcome == "crash"
    assert (out / "deploy.png").exists()


def test_cli_deploy_run_follows_that_run_of_the_seeded_monte_carlo(tmp_path, flat_tif):
    # --run k is run k of the touchdown Monte Carlo a mission with the same seed draws (how
    # `frigoris deploy --seed 0 --run 2` gives the demo's lander)
    out = tmp_path / "run2"
    res = CliRunner().invoke(
        deploy_cmd, [str(flat_tif), "-o", str(out), "--seed", "3", "--run", "2", "-q"]
    )
    assert res.exit_code in (0, NO_HANDOFF_EXIT), res.output
    dem = terrain.read_dem(flat_tif)
    runs = simulate_touchdown(dem, L, (0.0, 0.0), runs=4, seed=3).runs
    h = Handoff.read(out / "handoff.json")
    assert (h.lander.x, h.lander.y) == pytest.approx((runs[2].x, runs[2].y), abs=1e-6)
    assert h.lander.yaw_deg == pytest.approx(runs[2].yaw_deg, abs=1e-6)
    assert (runs[0].x, runs[0].y) != pytest.approx((runs[2].x, runs[2].y), abs=1e-3)
