"""The closed-loop ops simulation: the orbital DTM, determinism per seed, the command."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from frigoris.rover.app.cli.group import main
from frigoris.rover.ops_sim import (
    onto_site_grid,
    orbital_dem,
    orbital_hazard_map,
    post_factor,
    run_seeds,
    simulate_runs,
)
from frigoris.rover.specs import SimSpec
from frigoris.terrain.hazard import REASONS

SIM = SimSpec.load()


def test_the_orbital_dtm_is_block_means_at_its_posts_plus_the_stated_error(make_dem):
    rows, cols = np.indices((64, 64))
    plane = 0.05 * cols * 0.5 - 0.02 * rows * 0.5  # metres on a 0.5 m grid
    quiet = SimSpec(**{**SIM.__dict__, "orbital_sigma_m": 0.0})
    truth = make_dem(plane)
    posts = orbital_dem(truth, quiet, seed=0)
    f = post_factor(truth, quiet)
    assert f == 4 and posts.res_m == pytest.approx(SIM.orbital_post_m)
    assert posts.shape == (16, 16) and posts.transform.c == truth.transform.c
    # a post's height is the mean of its 4 x 4 cells: the plane at the post's centre
    x, y = posts.xy(*np.indices(posts.shape))
    expected = 0.05 * (x + 15.75) + 0.02 * (y - 15.75)
    assert np.allclose(posts.elevation, expected, atol=1e-4)
    back = onto_site_grid(posts, truth).elevation  # bilinear back on the cells: exact inside
    inner = (slice(4, -4), slice(4, -4))
    assert np.allclose(back[inner], plane[inner], atol=1e-4)
    noisy = orbital_dem(make_dem(np.zeros((256, 256))), SIM, seed=0).elevation
    assert noisy.shape == (64, 64)
    assert noisy.std() == pytest.approx(SIM.orbital_sigma_m, rel=1e-3)
    again = orbital_dem(make_dem(np.zeros((256, 256))), SIM, seed=0).elevation
    other = orbital_dem(make_dem(np.zeros((256, 256))), SIM, seed=1).elevation
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)


@pytest.fixture
def plane_maps(site_crs):
    """A 5 deg plane at 0.5 m with the lander in the middle: the true map and the orbital one."""
    from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
    from frigoris.terrain import Dem
    from frigoris.terrain.hazard import hazard_map

    rows, cols = np.indices((320, 320))
    z = np.tan(np.radians(5.0)) * 0.5 * cols
    truth = Dem.from_array(z.astype(np.float32), res_m=0.5, crs=site_crs)
    limits = hazard_limits(TENACIOUS)
    lander = lander_site(RESILIENCE, 0.0, 0.0)
    k = 0.003  # a mare's rock abundance (Golombek k): the rock risk stays small
    thm = hazard_map(truth, limits, lander=lander, rock_abundance=k)
    ohm = orbital_hazard_map(thm, SIM, seed=0, rock_abundance=k)
    # the resolution bug this replaces: the DTM's posts interpolated to the 0.5 m cells and
    # judged there, its error read as slopes and steps at the rover's scale
    posts = orbital_dem(truth, SIM, seed=0)
    bug = hazard_map(onto_site_grid(posts, truth), limits, lander=lander, rock_abundance=k)
    return thm, ohm, bug, posts


def test_the_orbital_map_judged_at_its_posts_is_not_keep_out_everywhere(plane_maps):
    thm, ohm, bug, posts = plane_maps
    link_bit = 1 << REASONS.index("link")
    terrain = (ohm.keepout_reason & ~np.uint8(link_bit)) != 0  # every reason but the radio's
    inner = (slice(16, -16), slice(16, -16))  # away from the map's edge (nodata widening)
    # a 5 deg plane with the stated error at 2 m posts: most of it is drivable from orbit
    assert terrain[inner].mean() < 0.2, terrain[inner].mean()
    assert np.nanmedian(ohm.slope_rover_deg[inner]) == pytest.approx(5.0, abs=1.5)
    # what the posts cannot resolve (the tilt over the rover's 0.42 m wheelbase, below their
    # 4 m baseline) is risk: more than the same DTM interpolated to the 0.5 m cells shows there,
    # where the interpolation's smoothness reads as smooth ground (the resolution bug)
    risk, risk_bug = np.nanmedian(ohm.risk[inner]), np.nanmedian(bug.risk[inner])
    assert risk > 2.0 * risk_bug
    # each of the site's cells has its post's layers
    f = post_factor(thm.grid, SIM)
    r, c = 123, 201
    block = (slice(r // f * f, r // f * f + f), slice(c // f * f, c // f * f + f))
    assert np.all(ohm.risk[block] == ohm.risk[r, c])
    assert np.all(ohm.keepout_reason[block] == ohm.keepout_reason[r, c])
    assert ohm.grid.shape == thm.grid.shape and ohm.grid.transform == thm.grid.transform
    assert ohm.link_margin_db.shape == thm.grid.shape


def test_chunks_draw_their_seeds_from_the_seed_and_the_chunk_only():
    assert run_seeds(7, 5, 2) == run_seeds(7, 5, 2)
    assert [len(c) for c in run_seeds(7, 5, 2)] == [2, 2, 1]
    assert run_seeds(7, 5, 2) != run_seeds(8, 5, 2)


@pytest.fixture(scope="module")
def world():
    from datetime import timedelta

    from frigoris.rover.app.jobs.inputs import resolve_sun
    from frigoris.rover.app.mission_file import builtin_mission
    from frigoris.rover.deploy import deploy
    from frigoris.rover.operations import OpsContext
    from frigoris.rover.ops_sim import build_world
    from frigoris.rover.specs import hazard_limits, lander_site
    from frigoris.rover.touchdown import simulate_touchdown
    from frigoris.terrain.crs import lunar_to_crs
    from frigoris.terrain.hazard import hazard_map
    from frigoris.terrain.synth import synthesize

    m = builtin_mission(
        overrides=["site.synthetic.size_m=256", "mission.days=2.5", "planner.time_limit_s=2"]
    )
    site = synthesize(m.site.synthetic)
    dem = site.dem
    x, y = lunar_to_crs(dem.crs, m.site.lat_deg, m.site.lon_deg)
    runs = simulate_touchdown(
        dem,
        m.lander,
        (float(x), float(y)),
        runs=8,
        seed=0,
        dispersion=m.touchdown.dispersion,
        time=m.touchdown_utc,
    ).runs
    for run in runs:  # the first touchdown from which the rover deploys
        hm = hazard_map(
            dem,
            hazard_limits(m.rover),
            sun=resolve_sun(dem, when=m.deploy_time),
            lander=lander_site(m.lander, run.x, run.y),
            rock_abundance=site.rock_abundance,
        )
        h = deploy(run, hm, m.lander, m.rover, time=m.touchdown_utc, crs=dem.crs)
        if h.deployed:
            break
    assert h.deployed, "no touchdown of the first 8 deploys on the test site"
    ctx = OpsContext(
        m.rover,
        m.lander,
        m.operations,
        m.planner.stops,
        h.start_time + timedelta(days=m.days),
        0,
        2.0,
    )
    return build_world(
        hm,
        rock_abundance=float(np.nanmean(site.rock_abundance)),
        ctx=ctx,
        sim=m.sim,
        start_time=h.start_time,
        start_cell=h.start_rowcol(dem),
        start_xy=(h.start.x, h.start.y),
        start_heading_deg=h.start.heading_deg,
        start_soc_wh=h.start_battery_wh,
        camera_azimuth_deg=None,
    )


def test_runs_are_deterministic_per_seed_whatever_the_scheduler(world):
    a = simulate_runs(world, runs=3, seed=11, chunk=2, scheduler="synchronous")
    b = simulate_runs(world, runs=3, seed=11, chunk=2, scheduler="threads", workers=2)
    assert [r.row() for r in a] == [r.row() for r in b]
    assert [r.track_xy for r in a] == [r.track_xy for r in b]
    assert [r.events for r in a] == [r.events for r in b]
    d = simulate_runs(world, runs=3, seed=11, chunk=2, scheduler="processes", workers=2)
    assert [r.row() for r in a] == [r.row() for r in d]
    assert all(r.distance_m > 0 for r in a), "runs that never drive cannot differ by seed"
    c = simulate_runs(world, runs=3, seed=12, chunk=2, scheduler="synchronous")
    assert [r.track_xy for r in a] != [r.track_xy for r in c]
    for r in a:  # what a run reports holds together
        assert r.stops_achieved <= len(world.candidates)
        assert r.hazards_met >= r.rock_strikes >= 0 and r.time_lost_h >= 0
        assert r.distance_m >= 0 and r.lowest_battery_wh <= world.ctx.rover.battery_wh
        assert r.track_xy[0] == tuple(round(v, 3) for v in world.start_xy)


def test_the_command_writes_the_runs_and_the_report(tmp_path):
    out = tmp_path / "ops"
    res = CliRunner().invoke(
        main,
        [
            "ops-sim",
            "hakuto-r-m2",
            "-o",
            str(out),
            "--runs",
            "2",
            "--chunk",
            "1",
            "--scheduler",
            "synchronous",
            "-q",
            "--json",
            "--set",
            "site.synthetic.size_m=256",
            "--set",
            "mission.days=1",
            "--set",
            "touchdown.runs=3",
            "--set",
            "planner.time_limit_s=1",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["runs"] == 2 and summary["stops_first_planned"] >= 0
    rows = list(csv.DictReader(io.StringIO((out / "ops_runs.csv").read_text())))
    assert [r["run"] for r in rows] == ["0", "1"]
    doc = json.loads((out / "ops_summary.json").read_text())
    assert len(doc["runs"]) == 2 and any("Orbital DTM" in n for n in doc["models"])
    html = (out / "report.html").read_text()
    assert 'src="ops.png"' in html and "Run by run" in html
    for name in ("ops.png", "ops_metrics.png", "manifest.json"):
        assert (out / name).stat().st_size > 1000, name
    tracks = json.loads((out / "ops_tracks.geojson").read_text())
    layers = {f["properties"]["layer"] for f in tracks["features"]}
    assert "first plan stop" in layers and "Moon (2015)" in tracks["crs"]["properties"]["name"]


def test_the_next_drive_is_judged_for_risk_on_what_the_images_showed(make_dem):
    from frigoris.rover.ops_sim import _next_drive_blocked, imaged_risk

    grid = make_dem(np.zeros((40, 40)))  # 0.5 m cells, x and y from -10 to 10 m
    keep = np.zeros(grid.shape, bool)
    risk = np.full(grid.shape, 0.02, np.float32)
    path = [[-2.0 + 0.5 * k, 0.1] for k in range(5)]  # 2 m east in four 0.5 m steps
    cmds = [{"type": "image"}, {"type": "wait", "reason": "uplink"}]
    cmds.append({"type": "drive", "path_xy": path})
    # by hand: four steps of one footprint (0.5 m) at 2 % each: 1 - 0.98 ** 4 = 0.0776
    kw = {"footprint_m": 0.5}
    assert not _next_drive_blocked(cmds, 0, keep, grid, risk=risk, max_cycle_risk=0.08, **kw)
    assert _next_drive_blocked(cmds, 0, keep, grid, risk=risk, max_cycle_risk=0.077, **kw)
    # not imaged: the rule has nothing to judge there (the route's cost carries the risk)
    unseen = imaged_risk(risk, np.zeros(grid.shape, bool))
    assert not _next_drive_blocked(cmds, 0, keep, grid, risk=unseen, max_cycle_risk=0.01, **kw)
    keep[grid.rowcol(-1.0, 0.1)] = True  # and keep-out the ground now knows blocks it
    assert _next_drive_blocked(cmds, 0, keep, grid, risk=unseen, max_cycle_risk=0.5, **kw)
