"""Touchdown simulation: stance geometry, descent physics, Monte Carlo, safety raster, CLI."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import astuple
from datetime import datetime

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as hst

from frigoris import terrain
from frigoris.rover.app.cli.group import FrigorisGroup
from frigoris.rover.app.cli.touchdown import touchdown as touchdown_cmd
from frigoris.rover.descent import scenario, simulate_descent
from frigoris.rover.errors import TouchdownError
from frigoris.rover.specs import RESILIENCE, LanderSpec
from frigoris.rover.touchdown import (
    OUTCOMES,
    Dispersion,
    classify,
    safety_bounds,
    simulate_touchdown,
    stance,
    touchdown_at,
    touchdown_safety,
)

R = RESILIENCE.pad_circle_radius_m
BASE_Z = -2430.0


@pytest.fixture
def flat(make_dem):
    """A flat 40 m square at 0.25 m."""
    return make_dem(np.full((160, 160), BASE_Z), res_m=0.25)


def _raise_cells(dem, x, y, height, half_m):
    """A copy of ``dem`` with a square block ``height`` tall centred on map (x, y)."""
    z = np.array(dem.elevation)
    rows, cols = np.indices(z.shape)
    cx, cy = dem.xy(rows, cols)
    z[(np.abs(cx - x) <= half_m) & (np.abs(cy - y) <= half_m)] += height
    return dem.with_elevation(z)


def _h32(height: float) -> float:
    """The height step a float32 DEM at BASE_Z really stores."""
    return float(np.float32(BASE_Z + height)) - BASE_Z


def _pad_xy(lander: LanderSpec, k: int, yaw_deg: float, x0=0.0, y0=0.0):
    az = math.radians(yaw_deg) + 2 * math.pi * (k + 0.5) / lander.legs
    return x0 + lander.pad_circle_radius_m * math.sin(
        az
    ), y0 + lander.pad_circle_radius_m * math.cos(az)


# --------------------------------------------------------------------------------------------
# stance geometry


@pytest.mark.parametrize("yaw", [0.0, 17.0, 45.0, 200.0])
def test_flat_ground_is_nominal_with_zero_tilt(flat, yaw):
    st = stance(flat, RESILIENCE, 0.1, -0.2, yaw)
    assert st.tilt_deg == 0.0
    assert st.clearance_m == pytest.approx(RESILIENCE.body_clearance_m, abs=1e-9)
    run = touchdown_at(flat, RESILIENCE, 0.1, -0.2, yaw)
    assert run.outcome == "nominal"
    assert run.tilt_deg == 0.0


@pytest.mark.parametrize("height", [0.2, 0.5])
@pytest.mark.parametrize("leg, yaw", [(0, 0.0), (2, 0.0), (1, 30.0)])
def test_pad_on_a_rock_tilts_by_the_geometry(flat, height, leg, yaw):
    # A 4-leg lander with one pad raised by h rocks about the diagonal through that pad: the
    # pad plane rises h over the distance from the pad to the line joining its two neighbours,
    # R * sqrt(2), so tilt = atan(h / (sqrt(2) R)).
    px, py = _pad_xy(RESILIENCE, leg, yaw)
    dem = _raise_cells(flat, px, py, height, 0.3)
    st = stance(dem, RESILIENCE, 0.0, 0.0, yaw)
    h = _h32(height)
    assert st.tilt_deg == pytest.approx(math.degrees(math.atan(h / (math.sqrt(2) * R))), abs=1e-9)


def test_three_leg_lander_on_a_rock(flat):
    # Three pads: the plane is exact; the raised pad is 1.5 R from the line of the other two.
    tripod = dataclasses.replace(RESILIENCE, legs=3, deploy_sides_deg=(180.0,))
    px, py = _pad_xy(tripod, 0, 0.0)
    st = stance(_raise_cells(flat, px, py, 0.4, 0.3), tripod, 0.0, 0.0, 0.0)
    assert st.tilt_deg == pytest.approx(math.degrees(math.atan(_h32(0.4) / (1.5 * R))), abs=1e-9)


@pytest.mark.parametrize("slope_deg, yaw", [(5.0, 0.0), (10.0, 33.0), (20.0, 80.0)])
def test_tilt_on_a_plane_equals_its_slope(make_dem, slope_deg, yaw):
    res = 0.25
    x = (np.arange(160) + 0.5) * res
    z = np.tile(x * math.tan(math.radians(slope_deg)), (160, 1))
    dem = make_dem(z, res_m=res)
    st = stance(dem, RESILIENCE, 0.0, 0.0, yaw)
    # bilinear pad heights reproduce a plane; what is left is float32 storage (~1e-6 m)
    assert st.tilt_deg == pytest.approx(slope_deg, abs=1e-4)
    assert st.clearance_m == pytest.approx(RESILIENCE.body_clearance_m, abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    gx=hst.floats(-0.4, 0.4),
    gy=hst.floats(-0.4, 0.4),
    yaw=hst.floats(0.0, 360.0),
    x=hst.floats(-5.0, 5.0),
    y=hst.floats(-5.0, 5.0),
)
def test_any_plane_gives_its_own_slope(site_crs_module, gx, gy, yaw, x, y):
    res = 0.25
    cx = (np.arange(80) + 0.5) * res - 10.0
    z = gx * cx[None, :] + gy * -cx[:, None]  # rows run south
    dem = terrain.Dem.from_array(z.astype(np.float32), res_m=res, crs=site_crs_module)
    s = stance(dem, RESILIENCE, x, y, yaw)
    assert s.tilt_deg == pytest.approx(math.degrees(math.atan(math.hypot(gx, gy))), abs=1e-3)
    assert s.clearance_m == pytest.approx(RESILIENCE.body_clearance_m, abs=1e-4)


def test_rock_under_the_body_is_a_crash(flat):
    dem = _raise_cells(flat, 0.0, 0.0, 0.5, 0.3)
    st = stance(dem, RESILIENCE, 0.0, 0.0, 0.0)
    assert st.tilt_deg == 0.0  # the pads stand on flat ground around it
    assert st.clearance_m == pytest.approx(RESILIENCE.body_clearance_m - _h32(0.5), abs=1e-9)
    run = touchdown_at(dem, RESILIENCE, 0.0, 0.0, 0.0)
    assert run.outcome == "crash"
    assert "into the body" in run.reason


@pytest.mark.parametrize(
    "height, outcome",
    [(0.0, "nominal"), (0.3, "nominal"), (0.5, "degraded"), (1.0, "tip-over")],
)
def test_pad_rock_height_sets_the_outcome(flat, height, outcome):
    # limits: deploy 12 deg (h > 0.376 m), stable 25 deg (h > 0.824 m)
    px, py = _pad_xy(RESILIENCE, 0, 0.0)
    dem = _raise_cells(flat, px, py, height, 0.3) if height else flat
    assert touchdown_at(dem, RESILIENCE, 0.0, 0.0, 0.0).outcome == outcome


def test_classify_order_and_reasons():
    L = RESILIENCE
    assert classify(L, 42.0, 0.0, 2.0, 0.3)[0] == "crash"
    assert "42.0 m/s" in classify(L, 42.0, 0.0, 2.0, 0.3)[1]
    assert classify(L, 1.5, 0.0, math.nan, math.nan)[0] == "off-dem"
    assert classify(L, 1.5, 0.0, 30.0, 0.3)[0] == "tip-over"
    assert classify(L, 1.5, 1.5, 2.0, 0.3)[0] == "tip-over"
    assert classify(L, 1.5, 0.0, 13.0, 0.3)[0] == "degraded"
    assert classify(L, 1.5, 0.0, 3.0, 0.3) == (
        "nominal",
        "standing at 3.0 deg with 0.30 m under the body",
    )


# --------------------------------------------------------------------------------------------
# descent scenarios (the physics is tested in test_descent.py)


def test_scenario_names():
    assert scenario("mission_2") == scenario("mission-2")
    assert scenario("nominal").lrf_power_loss_db == 0.0
    with pytest.raises(TouchdownError, match="unknown descent scenario"):
        scenario("late-altimeter")


# --------------------------------------------------------------------------------------------
# Monte Carlo


@pytest.fixture(scope="module")
def plain(site_crs_module):
    """A 400 m flat plain at 0.5 m with a few 0.6 m boulders: big enough for the 3-sigma box."""
    z = np.full((800, 800), BASE_Z, dtype=np.float32)
    rng = np.random.default_rng(4)
    for r, c in rng.integers(20, 780, size=(300, 2)):
        z[r - 1 : r + 1, c - 1 : c + 1] += 0.6
    return terrain.Dem.from_array(z, res_m=0.5, crs=site_crs_module)


@pytest.fixture(scope="module")
def site_crs_module():
    return terrain.local_metric_crs(60.5, -4.6)


@pytest.fixture(scope="module")
def scenarios(plain):
    return {
        name: simulate_touchdown(plain, RESILIENCE, (0.0, 0.0), runs=500, seed=11, descent=name)
        for name in ("nominal", "mission-2", "mission-1")
    }


def test_the_two_losses_crash_far_more_often_than_nominal(scenarios):
    nominal, m2, m1 = (scenarios[n] for n in ("nominal", "mission-2", "mission-1"))
    # Over 500 runs: nominal loses no lander to its descent (a crash here is a rock under the
    # body); the degraded range finder loses a large share, the rejection gate nearly all.
    assert nominal.counts["crash"] / 500 < 0.02
    assert all(r.v_vertical_m_s <= RESILIENCE.max_vertical_speed_m_s for r in nominal.runs)
    assert 0.25 < m2.counts["crash"] / 500 < 0.75
    assert m1.counts["crash"] / 500 > 0.95
    # nominal's losses are stances (rocks, lateral speed) and contacts off this 400 m DEM (the
    # contacts scatter ~100 m 1-sigma), never the descent (above)
    assert nominal.p_success > 0.85 > 0.75 > m2.p_success > 0.05 > m1.p_success
    assert np.median([r.v_vertical_m_s for r in nominal.runs]) < 2.0
    # Mission 1's crashes follow the range finder being declared failed
    assert m1.summary()["p_sensor_failed"] > 0.95 > 0.0 == nominal.summary()["p_sensor_failed"]


def test_contact_speeds_are_the_descents_replayed_by_seed(scenarios):
    # a touchdown's contact speeds and story are those of the descent flown with its seed
    for r in scenarios["mission-2"].runs[:20]:
        d = simulate_descent("mission-2", seed=r.seed).run
        assert (r.v_vertical_m_s, r.v_horizontal_m_s) == (d.v_vertical_m_s, d.v_horizontal_m_s)
        assert r.descent_reason == d.reason and r.sensor_failed == d.sensor_failed


def test_counts_and_probabilities_agree(scenarios):
    res = scenarios["nominal"]
    assert sum(res.counts.values()) == len(res) == 500
    assert set(res.counts) == set(OUTCOMES)
    safe = sum(r.safe for r in res.runs)
    assert res.p_success == pytest.approx(safe / 500)
    assert res.p_deployable == pytest.approx(res.counts["nominal"] / 500)
    assert res.first("nominal").outcome == "nominal"


def _records(res):
    """Every field of every run, NaN made comparable."""
    return [
        tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in astuple(r))
        for r in res.runs
    ]


def test_same_seed_same_result_and_common_random_numbers(plain, scenarios):
    again = simulate_touchdown(plain, RESILIENCE, (0.0, 0.0), runs=500, seed=11, descent="nominal")
    assert _records(again) == _records(scenarios["nominal"])
    other = simulate_touchdown(plain, RESILIENCE, (0.0, 0.0), runs=500, seed=12)
    assert other.runs != again.runs
    # every scenario flies run i with the same seed (the same navigation errors at the start)
    # and the same yaw: only the descent differs
    a, b = scenarios["nominal"].runs, scenarios["mission-2"].runs
    assert [(r.seed, r.yaw_deg) for r in a] == [(r.seed, r.yaw_deg) for r in b]


def test_contact_scatter_is_the_landing_ellipse(scenarios):
    # map-relative position fixes hold the horizontal knowledge at its start error, and the
    # guidance nulls the *estimated* offset: contacts scatter as the ellipse (major axis, the
    # ground track, north-south by default; 500 draws: +-10 %)
    xy = np.array([(r.x, r.y) for r in scenarios["nominal"].runs])
    d = Dispersion()
    assert np.std(xy[:, 1]) == pytest.approx(d.sigma_major_m, rel=0.12)
    assert np.std(xy[:, 0]) == pytest.approx(d.sigma_minor_m, rel=0.12)
    assert abs(np.mean(xy[:, 0])) < 6.0 and abs(np.mean(xy[:, 1])) < 8.0


def test_runs_off_the_dem_are_results_not_errors(plain):
    b = plain.bounds
    res = simulate_touchdown(plain, RESILIENCE, (b.right - 5.0, 0.0), runs=200, seed=1)
    assert res.counts["off-dem"] > 50
    assert all(r.outcome in OUTCOMES for r in res.runs)


def test_features_round_trip_through_geojson(tmp_path, scenarios, plain):
    path = terrain.write_geojson(
        tmp_path / "runs.geojson", scenarios["mission-2"].to_features(plain.crs), plain.crs
    )
    doc = json.loads(path.read_text())
    assert len(doc["features"]) == 500
    props = [f["properties"] for f in doc["features"]]
    assert sum(p["outcome"] == "crash" for p in props) == scenarios["mission-2"].counts["crash"]
    assert {"lat_deg", "lon_deg", "v_vertical_m_s", "tilt_deg", "reason", "descent"} <= set(
        props[0]
    )
    assert all("first valid range" in p["descent"] for p in props)


# --------------------------------------------------------------------------------------------
# bad input


def test_target_outside_the_dem(flat):
    with pytest.raises(TouchdownError, match="outside the DEM"):
        simulate_touchdown(flat, RESILIENCE, (500.0, 0.0))


def test_legs_that_do_not_fit_the_grid(make_dem):
    coarse = make_dem(np.full((50, 50), BASE_Z), res_m=1.0)
    with pytest.raises(TouchdownError, match="do not fit the grid resolution.*0.625 m or finer"):
        simulate_touchdown(coarse, RESILIENCE, (0.0, 0.0))
    with pytest.raises(TouchdownError, match="do not fit the grid resolution"):
        touchdown_safety(coarse, RESILIENCE)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"runs": 0}, "runs"),
        ({"runs": 2.5}, "runs"),
        ({"time": datetime(2025, 6, 5, 19, 17)}, "time zone"),
        ({"descent": "lucky"}, "unknown descent"),
        ({"descent": 3}, "descent must be a scenario name"),
        ({"dispersion": Dispersion(sigma_major_m=10.0, sigma_minor_m=20.0)}, "sigma_minor_m"),
        ({"dispersion": Dispersion(sigma_major_m=-1.0)}, "sigma_major_m"),
    ],
)
def test_bad_arguments(flat, kwargs, message):
    with pytest.raises(TouchdownError, match=message):
        simulate_touchdown(flat, RESILIENCE, (0.0, 0.0), **kwargs)


def test_nodata_under_a_pad_is_off_dem(flat):
    z = np.array(flat.elevation)
    px, py = _pad_xy(RESILIENCE, 1, 0.0)
    r, c = flat.rowcol(px, py)
    z[r, c] = np.nan
    run = touchdown_at(flat.with_elevation(z), RESILIENCE, 0.0, 0.0, 0.0)
    assert run.outcome == "off-dem"
    assert math.isnan(run.tilt_deg)


# --------------------------------------------------------------------------------------------
# safety raster


def test_safety_raster_matches_the_stance_at_each_cell(flat):
    px, py = _pad_xy(RESILIENCE, 0, 0.0)
    dem = _raise_cells(flat, px, py, 1.0, 0.3)  # a boulder a pad must not stand on
    sm = touchdown_safety(dem, RESILIENCE, bounds=(-4.0, -4.0, 4.0, 4.0), n_yaw=8)
    assert sm.p_safe.shape == dem.shape
    r0, r1, c0, c1 = sm.window
    assert (r1 - r0, c1 - c0) == (32, 32)
    assert np.isnan(sm.p_safe[0, 0])  # outside the window
    assert np.nanmin(sm.p_safe) < 1.0 and np.nanmax(sm.p_safe) == 1.0
    yaws = np.arange(8) * 90.0 / 8
    for r, c in [(r0, c0), (r0 + 9, c0 + 20), ((r0 + r1) // 2, (c0 + c1) // 2)]:
        x, y = dem.xy(r, c)
        sts = [stance(dem, RESILIENCE, x, y, yaw) for yaw in yaws]
        safe = [s.clearance_m >= 0 and s.tilt_deg <= RESILIENCE.max_tilt_stable_deg for s in sts]
        assert sm.p_safe[r, c] == pytest.approx(np.mean(safe))
        assert sm.tilt_max_deg[r, c] == pytest.approx(max(s.tilt_deg for s in sts), abs=1e-4)


def test_safety_on_flat_ground_is_one_except_at_the_edge(flat):
    sm = touchdown_safety(flat, RESILIENCE)
    inner = sm.p_safe[10:-10, 10:-10]
    assert np.all(inner == 1.0) and np.all(sm.p_deploy[10:-10, 10:-10] == 1.0)
    assert np.isnan(sm.p_safe[0, 0])  # pads would stand off the grid
    assert sm.at(0.0, 0.0) == 1.0


def test_safety_bounds_hold_the_three_sigma_ellipse(plain):
    d = Dispersion(sigma_major_m=40.0, sigma_minor_m=10.0, major_azimuth_deg=90.0)
    left, bottom, right, top = safety_bounds(plain, (0.0, 0.0), d, margin_m=0.0)
    assert (left, right) == pytest.approx((-120.0, 120.0))
    assert (bottom, top) == pytest.approx((-30.0, 30.0))


# --------------------------------------------------------------------------------------------
# CLI


@pytest.fixture
def plain_tif(tmp_path, plain):
    return terrain.write_geotiff(tmp_path / "plain.tif", {"elevation": plain.elevation}, plain)


def test_cli_touchdown_writes_raster_runs_and_map(tmp_path, plain_tif):
    out = tmp_path / "td"
    res = CliRunner().invoke(
        touchdown_cmd,
        [str(plain_tif), "-o", str(out), "--runs", "200", "--seed", "3", "-q", "--json"],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    by = {s["scenario"]: s for s in doc["scenarios"]}
    assert (
        by["mission-1"]["crash"]
        > 0.9
        > by["mission-2"]["crash"]
        > 0.2
        > 0.05
        > by["nominal"]["crash"]
    )
    with rasterio.open(out / "touchdown_safety.tif") as src:
        assert src.descriptions[0] == "p_safe"
        p = src.read(1, masked=True)
        assert 0.0 <= p.min() and p.max() == 1.0
        assert src.crs is not None
    runs = json.loads((out / "touchdowns.geojson").read_text())
    assert len(runs["features"]) == 600
    assert (out / "touchdown.png").stat().st_size > 20_000


def test_cli_touchdown_text_table(tmp_path, plain_tif):
    res = CliRunner().invoke(
        touchdown_cmd,
        [
            str(plain_tif),
            "-o",
            str(tmp_path / "t"),
            "--runs",
            "20",
            "--scenario",
            "mission-1",
            "--target",
            "xy:10,-20",
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "mission-1" in res.stdout and "crash" in res.stdout
    crash = re.search(r"│ crash\s+│\s+([01]\.\d{3}) │", res.stdout)  # one column per scenario
    assert crash is not None and float(crash.group(1)) > 0.8
    geo = json.loads((tmp_path / "t" / "touchdowns.geojson").read_text())
    assert geo["properties"]["target_xy"] == [10.0, -20.0]


def test_cli_target_off_the_dem_is_one_line_exit_1(tmp_path, plain_tif):
    group = FrigorisGroup(commands={"touchdown": touchdown_cmd})
    res = CliRunner().invoke(
        group,
        ["touchdown", str(plain_tif), "-o", str(tmp_path / "x"), "--target", "xy:5000,0", "-q"],
    )
    assert res.exit_code == 1
    assert "outside the DEM" in res.output
    assert "Traceback" not in res.output
