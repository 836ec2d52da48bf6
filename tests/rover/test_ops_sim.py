"""The closed-loop ops simulation: the orbital DTM, determinism per seed, the command."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from frigoris.rover.app.cli.group import main
from frigoris.rover.ops_sim import orbital_dem, run_seeds, simulate_runs
from frigoris.rover.specs import SimSpec

SIM = SimSpec.load()


def test_the_orbital_dtm_keeps_a_plane_and_adds_the_stated_error(make_dem):
    rows, cols = np.indices((64, 64))
    plane = 0.05 * cols * 0.5 - 0.02 * rows * 0.5  # metres on a 0.5 m grid
    quiet = SimSpec(**{**SIM.__dict__, "orbital_sigma_m": 0.0})
    flat = orbital_dem(make_dem(plane), quiet, seed=0).elevation
    inner = (slice(4, -4), slice(4, -4))
    assert np.allclose(flat[inner], plane[inner], atol=1e-4)  # block means and bilinear: exact
    noisy = orbital_dem(make_dem(np.zeros((256, 256))), SIM, seed=0).elevation
    posts = noisy[1::4, 1::4]  # near the posts' centres (4 cells a post)
    assert posts.std() == pytest.approx(SIM.orbital_sigma_m, rel=0.15)
    again = orbital_dem(make_dem(np.zeros((256, 256))), SIM, seed=0).elevation
    other = orbital_dem(make_dem(np.zeros((256, 256))), SIM, seed=1).elevation
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)


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
