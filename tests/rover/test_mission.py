"""Mission files and `frigoris mission`: parse, run the example files, reopen every output."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import pathlib
import re
from html.parser import HTMLParser

import pyogrio
import pytest
import rasterio
from click.testing import CliRunner
from pyproj import CRS as PCRS

from frigoris.rover.app.cli.group import FrigorisGroup
from frigoris.rover.app.cli.mission import mission as mission_command
from frigoris.rover.app.jobs import mission as mission_job
from frigoris.rover.app.jobs.mission import run_mission
from frigoris.rover.app.mission_file import builtin_mission, load_mission
from frigoris.rover.app.products.manifest import OUTPUT_DESCRIPTIONS, read_manifest
from frigoris.rover.deploy import Handoff
from frigoris.rover.errors import SpecError
from frigoris.terrain.crs import check_lunar
from frigoris.terrain.vector import read_geopackage_layers
from tests.conftest import REPO, run_gdal

EXAMPLES = REPO / "examples"
HAKUTO = EXAMPLES / "hakuto_r_m2.toml"
IMBRIUM = EXAMPLES / "imbrium_synthetic.toml"
REGIONAL = EXAMPLES / "frigoris_lola_regional.toml"
QUICK = ("--set", "site.synthetic.size_m=256", "--set", "touchdown.runs=50")
"""The HAKUTO-R example at 256 m instead of 1024 m (the full size is what `frigoris demo` runs)."""

DEMO_KEYS = {
    "dem",
    "rock_abundance",
    "craters_truth",
    "rocks_truth",
    "hillshade",
    "touchdown_safety",
    "touchdown_touchdowns",
    "touchdown_map",
    "hazard",
    "hazard_masks",
    "craters",
    "rocks",
    "hazard_png",
    "handoff",
    "deploy_png",
    "traverse",
    "timeline",
    "plan_png",
    "timeline_png",
    "summary",
}
"""The output keys the demo has always written: the mission job must keep them."""


def _cli():
    group = FrigorisGroup("frigoris")
    group.add_command(mission_command)
    return group


def _run_cli(args):
    res = CliRunner().invoke(_cli(), ["mission", *map(str, args)])
    return res


@pytest.fixture(scope="module")
def hakuto_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hakuto")
    res = _run_cli([HAKUTO, "-o", out, "-q", "--json", *QUICK])
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout)


@pytest.fixture(scope="module")
def imbrium_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("imbrium")
    res = _run_cli([IMBRIUM, "-o", out, "-q", "--json"])
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout)


@pytest.fixture(scope="module")
def regional_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("regional")
    res = _run_cli([REGIONAL, "-o", out, "-q", "--json"])
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout)


# --------------------------------------------------------------------------------------------
# mission files


def test_example_files_parse_and_builtin_is_the_hakuto_example():
    hakuto = load_mission(HAKUTO)
    assert hakuto.touchdown_utc.isoformat() == "2025-06-05T19:17:00+00:00"
    assert (hakuto.site.lat_deg, hakuto.site.lon_deg) == (60.5, -4.6)
    assert hakuto.site.synthetic.size_m == 1024 and hakuto.site.synthetic.center == (60.5, -4.6)
    assert hakuto.lander.name == "Resilience" and hakuto.rover.name == "Tenacious"
    assert hakuto.touchdown.scenarios == ("nominal", "mission-2", "mission-1")
    builtin = builtin_mission()
    assert builtin.parameters() == hakuto.parameters()
    from importlib import resources

    packaged = (
        resources.files("frigoris.rover.data").joinpath("mission_hakuto_r_m2.toml").read_bytes()
    )
    assert packaged == HAKUTO.read_bytes(), "examples/hakuto_r_m2.toml and the built-in differ"

    imbrium = load_mission(IMBRIUM)
    assert imbrium.site.synthetic.rock_law == "golombek" and imbrium.seed == 5
    assert [t.name for t in imbrium.targets] == ["fresh crater rim", "boulder field"]
    assert imbrium.lander.checkout_h == 12 and imbrium.lander.sources["checkout_h"].startswith(
        "mission file"
    )
    assert imbrium.planner.stops.boulder_value == 6.0
    assert imbrium.planner.stops.plume_radius_m == 20.0  # default; the run uses the lander's

    regional = load_mission(REGIONAL)
    assert regional.site.dem.name.startswith("LDEM_4") and not regional.site.is_synthetic
    roles = [i.role for i in regional.inputs]
    assert roles == ["mission file", "DEM", "lander spec", "rover spec", "operations spec"]
    dem_input = regional.inputs[1]
    assert dem_input.sha256 == hashlib.sha256(regional.site.dem.read_bytes()).hexdigest()


def test_overrides_change_values_and_are_recorded():
    m = load_mission(
        HAKUTO,
        overrides=[
            "site.synthetic.size_m=256",
            "touchdown.runs=50",
            "rover.max_slope_deg=12",
            'touchdown.follow="mission-1"',
        ],
    )
    assert m.site.synthetic.size_m == 256 and m.touchdown.runs == 50
    assert m.rover.max_slope_deg == 12 and m.touchdown.follow == "mission-1"
    assert m.parameters()["overrides"] == list(m.overrides)
    # Bare words are strings.
    assert load_mission(HAKUTO, overrides=["mission.name=short"]).name == "short"


def _write(tmp_path, text, name="m.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


BASE = """
[mission]
name = "t"
touchdown_utc = 2025-06-05T19:17:00Z
[site]
lat = 60.5
lon = -4.6
"""


@pytest.mark.parametrize(
    "text, message",
    [
        ("[site]\nlat = 1\nlon = 2\n", r"no \[mission\] table"),
        (
            BASE.replace("lat = 60.5", "lat = 95"),
            r"\[site\] lat = 95 is outside \[-90, 90\]; give a value in \[-90, 90\] degrees north",
        ),
        (BASE.replace("lat = 60.5", 'lat = "north"'), r"\[site\] lat = 'north' is not a number"),
        (BASE.replace("lat = 60.5\n", ""), r"\[site\] lat is missing"),
        (BASE + "elevation = 3\n", r"\[site\] 'elevation' is not a known key"),
        (BASE + "[weather]\nx = 1\n", r"\[weather\] is not a mission table"),
        (
            BASE.replace("19:17:00Z", "19:17:00"),
            r"touchdown_utc = .* has no time zone; end it with Z",
        ),
        (BASE + 'dem = "dem.tif"\n[site.synthetic]\nsize_m = 64\n', "are both given"),
        (BASE + 'dem = "nowhere.tif"\n', r"\[site\] dem = 'nowhere.tif' does not exist"),
        (BASE + "[site.synthetic]\nsize_m = 64\nseed = 3\n", r"\[site.synthetic\] seed is set by"),
        (
            BASE + "[site.synthetic]\nsize_m = -4\n",
            r"\[site.synthetic\]: size_m must be > 0, got -4; fix it under \[site.synthetic\]",
        ),
        (BASE + '[lander]\nspec = "apollo"\n', r"\[lander\] spec = 'apollo' is neither a built-in"),
        (BASE + "[lander]\nwings = 2\n", r"\[lander\] 'wings' is not a LanderSpec field"),
        (BASE + "[rover]\nmax_slope_deg = 70\n", r"\[rover\] overrides: max_slope_deg 70"),
        (
            BASE + '[touchdown]\nscenarios = ["nominal"]\nfollow = "mission-1"\n',
            r"\[touchdown\] follow = 'mission-1' is not one of the scenarios run",
        ),
        (BASE + '[touchdown]\nscenarios = ["bumpy"]\n', r"\[touchdown\] scenarios = \['bumpy'\]"),
        (BASE + "[touchdown]\nruns = 10\nrun = 10\n", r"\[touchdown\] run = 10 is outside"),
        (
            BASE + '[touchdown]\nruns = 10\nrun = "first"\n',
            r"\[touchdown\] run = 'first' is not a run number; .* or \"first-deployable\"",
        ),
        (
            BASE + "[touchdown.dispersion]\nsigma_major_m = 5\nsigma_minor_m = 9\n",
            "sigma_minor_m 9.* exceeds sigma_major_m",
        ),
        (BASE + "[planner.stops]\nplume_radius_m = 5\n", r"plume_radius_m is the lander's"),
        (BASE + "[planner.stops]\nscoop_flavour = 5\n", r"'scoop_flavour' is not a known key"),
        (BASE + '[[targets]]\nname = "x"\nlat = 60.5\n', r"\[targets #1\] lon is missing"),
        (
            BASE + "[[targets]]\nlat = 60.5\nlon = -4.6\npriority = 0.5\n",
            r"\[targets #1\] priority = 0.5 is outside",
        ),
        ("[mission\n", "is not valid TOML"),
        (BASE + '[lander]\nat = "centre"\n', r"\[lander\] at = 'centre' is not an inline table"),
        (
            BASE + "[lander]\nat = {lat = 60.5, lon = -4.6, x = 3.0, y = 4.0}\n",
            r"needs either lat and lon or x and y",
        ),
        (BASE + "[lander]\nat = {lat = 60.5}\n", r"needs either lat and lon or x and y"),
        (BASE + "[lander]\nat = {x = 1.0, lon = 2.0}\n", r"needs either lat and lon or x and y"),
        (BASE + "[lander]\nat = {lat = 91.0, lon = 2.0}\n", r"\[lander.at\] lat = 91.0 is outside"),
        (BASE + "[lander]\nat = {x = 0, y = 0, heading = 3}\n", r"'heading' is not a known key"),
        (
            BASE + "[lander]\nat = {x = 0.0, y = 0.0}\n[touchdown]\nruns = 5\n",
            r"\[touchdown\] is given with \[lander\] at.*drop one",
        ),
    ],
)
def test_bad_mission_files_give_one_line_naming_key_and_fix(tmp_path, text, message):
    p = _write(tmp_path, text)
    with pytest.raises(SpecError, match=message) as err:
        load_mission(p)
    line = str(err.value)
    assert "\n" not in line and line.startswith(str(p))
    assert ";" in line or "TOML" in line  # a fix follows the problem


@pytest.mark.parametrize(
    "override, message",
    [
        ("site.synthetic.size_m", "is not KEY=VALUE"),
        ("weather.x=1", "must start with one of"),
        ("mission.name.first=1", "is not a table"),
    ],
)
def test_bad_overrides(override, message):
    with pytest.raises(SpecError, match=message):
        load_mission(HAKUTO, overrides=[override])


def test_missing_file_and_cli_errors_exit_1_with_one_line(tmp_path):
    res = _run_cli([tmp_path / "none.toml", "-o", tmp_path / "o"])
    assert res.exit_code == 1
    assert "does not exist" in res.output and len(res.output.strip().splitlines()) == 1
    bad = _write(tmp_path, BASE.replace("lat = 60.5", "lat = 95"))
    res = _run_cli([bad, "--check"])
    assert res.exit_code == 1 and "[site] lat = 95" in res.output
    res = _run_cli([HAKUTO])
    assert res.exit_code == 2 and "-o DIR" in res.output


def test_check_prints_resolved_parameters():
    res = _run_cli([IMBRIUM, "--check", "--json"])
    assert res.exit_code == 0, res.output
    params = json.loads(res.stdout)
    assert params["seed"] == 5 and params["site"]["synthetic"]["rock_law"] == "golombek"
    assert params["lander"]["checkout_h"] == 12 and params["deploy_utc"] == "2025-06-06T12:00:00Z"


# --------------------------------------------------------------------------------------------
# reopening the outputs


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("img", "a") and (a.get("src") or a.get("href")):
            self.refs.append(a.get("src") or a.get("href"))
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)
            self._in_h2 = False


def check_outputs(out: pathlib.Path) -> dict:
    """Open every file the manifest lists; return the manifest."""
    manifest = read_manifest(out / "manifest.json")
    files = {p.name for p in out.iterdir() if p.is_file()}
    listed = {e["file"] for e in manifest["outputs"]}
    assert files == listed | {"manifest.json"}, "manifest must list every file of the folder"
    mission_sha = manifest["inputs"][0]["sha256"]
    assert manifest["inputs"][0]["role"] == "mission file"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created_utc"])
    assert manifest["software"]["frigoris"] and manifest["seed"] == manifest["parameters"]["seed"]
    for e in manifest["outputs"]:
        p = out / e["file"]
        data = p.read_bytes()
        assert e["bytes"] == len(data) > 0 and e["sha256"] == hashlib.sha256(data).hexdigest()
        assert e["what"] == OUTPUT_DESCRIPTIONS[e["file"]]
        if p.suffix == ".tif":
            with rasterio.open(p) as src:
                check_lunar(src.crs)
                assert math.isclose(
                    PCRS.from_wkt(src.crs.to_wkt()).ellipsoid.semi_major_metre, 1_737_400.0
                )
                tags = src.tags()
                assert tags["frigoris_mission_sha256"] == mission_sha
                assert tags["frigoris_version"] == manifest["software"]["frigoris"]
                assert all(d for d in src.descriptions)
                src.read(1, window=((0, 2), (0, 2)))
        elif p.suffix == ".geojson":
            doc = json.loads(data)
            assert "Moon (2015)" in doc["crs"]["properties"]["name"]
            assert doc["properties"]["frigoris_mission_sha256"] == mission_sha
            assert doc["properties"]["frigoris_seed"] == manifest["seed"]
        elif p.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
        elif p.suffix == ".gpkg":
            for layer in read_geopackage_layers(p):
                info = pyogrio.read_info(p, layer=layer)
                assert math.isclose(
                    PCRS.from_user_input(info["crs"]).ellipsoid.semi_major_metre, 1_737_400.0
                ), layer
                assert info["features"] > 0
        elif p.name == "map.html":  # self-contained: the browser tests are in test_webmap.py
            assert b'<script id="frigoris-data" type="application/json">' in data
        elif p.suffix == ".html":
            parser = _Links()
            parser.feed(data.decode())
            for ref in parser.refs:
                assert (out / ref).exists(), f"report links missing {ref}"
            assert "Files" in parser.headings and "The chain" in parser.headings
        elif p.name == "handoff.json":
            assert Handoff.read(p).lander_name == manifest["parameters"]["lander"]["name"]
        elif p.name == "timeline.csv":
            rows = list(csv.DictReader(io.StringIO(data.decode())))
            assert rows and {"t_utc", "soc_wh", "sun_elevation_deg", "budget"} <= set(rows[0])
        elif p.name == "sequence.csv":
            reader = csv.DictReader(io.StringIO(data.decode()))
            rows = list(reader)
            assert {"cycle", "id", "type", "start_utc", "battery_wh", "rules"} <= set(
                reader.fieldnames or ()
            )
            seq = json.loads((out / "sequence.json").read_text())
            assert len(rows) == sum(len(c["commands"]) for c in seq["cycles"])
            assert seq["flight_rules"]["checked"] is True
    return manifest


def test_hakuto_mission_runs_the_whole_chain(hakuto_run):
    out, summary = hakuto_run
    manifest = check_outputs(out)
    assert [s["status"] for s in manifest["steps"]] == ["done"] * 5
    assert manifest["stopped"] is None and summary["deployed"] is True
    ops = {"sequence", "sequence_csv", "plan_state", "horizons"}
    assert DEMO_KEYS | ops | {"geopackage", "webmap", "report", "manifest"} == set(
        summary["outputs"]
    )
    assert manifest["parameters"]["site"]["synthetic"]["size_m"] == 256
    assert manifest["parameters"]["overrides"] == ["site.synthetic.size_m=256", "touchdown.runs=50"]
    # GeoPackage layers agree with the GeoJSON plan.
    layers = read_geopackage_layers(out / "mission.gpkg")
    traverse = json.loads((out / "traverse.geojson").read_text())["features"]
    n_points = sum(f["geometry"]["type"] == "Point" for f in traverse)
    assert layers["stops"] == n_points == summary["plan_stops"] + 1
    assert layers["traverse_legs"] == len(traverse) - n_points
    # three descent scenarios (nominal, mission-2, mission-1), 50 runs each
    assert layers["touchdowns"] == 3 * 50 and layers["touchdown_ellipse"] == 3
    assert layers["lander"] == layers["egress"] == layers["plume_zone"] == layers["aim_point"] == 1
    assert layers["deployment_sides"] == 2
    sides = pyogrio.raw.read(out / "mission.gpkg", layer="deployment_sides")
    names = list(sides[0]["fields"])
    verdicts = list(sides[3][names.index("verdict")])
    assert verdicts.count("chosen") == 1
    # Every layer has a QGIS style stored as its default.
    import sqlite3

    styled = {
        r[0]
        for r in sqlite3.connect(out / "mission.gpkg").execute(
            "select f_table_name from layer_styles where useAsDefault = 1"
        )
    }
    assert styled == set(layers)
    # GDAL's own ogrinfo sees the Moon CRS on the layers.
    text = run_gdal("ogrinfo", "-ro", "-so", str(out / "mission.gpkg"), "stops")
    assert "Moon (2015) - Sphere" in text and "Feature Count: " + str(n_points) in text
    report = (out / "report.html").read_text()
    for section in (
        "Touchdown",
        "Deployment",
        "Hazard map",
        "Traverse plan",
        "Stop by stop",
        "Timeline",
        "published and assumed",
    ):
        assert section in report
    assert f"lowered on side {summary['deploy_side_deg']:g}" in report
    # what 0.5 m pixels resolve and what they give only as a chance, in words
    assert "What these pixels show" in report and "Slope is partly statistical" in report


def test_imbrium_mission_accounts_for_its_targets_on_ground_too_risky_to_drive(imbrium_run):
    # With the simulated descent the followed touchdown (seed 5, run 1) deploys. On this
    # blockier mare (k = 2 %) the unresolved-hazard risk is 4 % per footprint at the median
    # cell (15 % at the upper quartile): under the operations' 10 % per command cycle, every way
    # out of the deployment point needs a step riskier than a whole cycle may be. The plan is
    # empty and says so, and each user target carries that reason.
    out, summary = imbrium_run
    manifest = check_outputs(out)
    assert summary["deployed"] is True and summary["plan_stops"] == 0
    assert "riskier in one step than a command cycle" in summary["plan_empty_reason"]
    params = manifest["parameters"]
    assert params["rover"]["battery_reserve_fraction"] == 0.4
    assert params["planner"]["stops"]["boulder_value"] == 6.0
    assert params["touchdown"]["scenarios"] == ["nominal", "mission-2"]
    layers = read_geopackage_layers(out / "mission.gpkg")
    assert layers["targets"] == 2
    plan = (out / "plan.txt").read_text()
    unplanned = plan.split("User targets not in the plan:")[1]
    for name in ("fresh crater rim", "boulder field"):
        assert f"{name}: the plan has no stop: no candidate stop is reachable" in unplanned


def test_regional_mission_stops_cleanly_with_the_reason(regional_run):
    out, summary = regional_run
    manifest = check_outputs(out)
    steps = {s["name"]: s["status"] for s in manifest["steps"]}
    assert steps == {
        "site": "done",
        "touchdown": "stopped",
        "hazard": "done",
        "deployment": "skipped",
        "plan": "skipped",
    }
    assert re.search(
        r"DEM's 40\d\d m pixels cannot resolve Resilience's 1.25 m pad circle", manifest["stopped"]
    )
    assert summary["chain_stopped"] == manifest["stopped"]
    assert not (out / "handoff.json").exists() and not (out / "traverse.geojson").exists()
    assert (out / "context.png").exists()
    assert manifest["inputs"][1]["role"] == "DEM"
    with rasterio.open(out / "dem.tif") as src:
        assert 3000 < src.res[0] < 5000
    assert "The chain stopped" in (out / "report.html").read_text()


def test_crash_stops_before_deployment_and_runs_are_reproducible(tmp_path):
    overrides = [
        "site.synthetic.size_m=128",
        "touchdown.runs=20",
        'touchdown.follow="mission-1"',
    ]
    a = run_mission(load_mission(HAKUTO, overrides=overrides), tmp_path / "a")
    assert a.touchdown.outcome == "crash" and a.handoff is not None
    assert not a.handoff.deployed and a.plan is None
    assert a.stopped.startswith("lander crash: hit the ground at")
    assert [s.status for s in a.steps] == ["done", "stopped", "done", "stopped", "skipped"]
    ma = check_outputs(tmp_path / "a")
    assert not Handoff.read(tmp_path / "a" / "handoff.json").deployed
    assert "No deployment." in (tmp_path / "a" / "report.html").read_text()
    # Same mission, same bytes (only the manifest's creation time may differ).
    run_mission(load_mission(HAKUTO, overrides=overrides), tmp_path / "b")
    mb = read_manifest(tmp_path / "b" / "manifest.json")
    assert [(e["file"], e["sha256"]) for e in ma["outputs"]] == [
        (e["file"], e["sha256"]) for e in mb["outputs"]
    ]
    ma.pop("created_utc")
    mb.pop("created_utc")
    assert ma == mb


def test_rerun_replaces_outputs_and_keeps_foreign_files(tmp_path):
    out = tmp_path / "o"
    overrides = [
        "site.synthetic.size_m=128",
        "touchdown.runs=10",
        'touchdown.follow="mission-1"',
    ]
    out.mkdir()
    (out / "plan.png").write_bytes(b"stale")  # from an earlier run that had a plan
    (out / "notes.txt").write_text("mine")
    run_mission(load_mission(HAKUTO, overrides=overrides), out, overwrite=True)
    assert not (out / "plan.png").exists() and (out / "notes.txt").read_text() == "mine"
    res = _run_cli([HAKUTO, "-o", out, "-q", *[x for o in overrides for x in ("--set", o)]])
    assert res.exit_code == 1 and "--overwrite" in res.output


def test_target_off_the_site_is_a_user_error(tmp_path):
    p = _write(
        tmp_path,
        BASE + '[site.synthetic]\nsize_m = 64\n[[targets]]\nname = "far"\nlat = 61.5\nlon = -4.6\n',
    )
    res = _run_cli([p, "-o", tmp_path / "o", "-q"])
    assert res.exit_code == 1 and "target 'far' (61.5, -4.6) is off the DEM" in res.output


def test_first_nominal_follows_the_first_run_at_rest_nominal():
    from types import SimpleNamespace

    from frigoris.rover.app.mission_file import TouchdownPlan

    def result(*outcomes):
        return SimpleNamespace(runs=[SimpleNamespace(outcome=o) for o in outcomes])

    rule = TouchdownPlan(run=None)
    i, run, why = rule.followed(result("degraded", "tip-over", "nominal", "nominal"))
    assert (i, run.outcome, why) == (2, "nominal", "run 2, the first to come to rest nominal")
    i, run, why = rule.followed(result("crash", "degraded"))
    assert (i, run.outcome, why) == (0, "crash", "run 0: no run came to rest nominal")
    i, run, _ = TouchdownPlan(run=1).followed(result("nominal", "degraded"))
    assert (i, run.outcome) == (1, "degraded")
    m = load_mission(HAKUTO)
    assert m.touchdown.run is None and m.parameters()["touchdown"]["run"] == "first-deployable"


def test_horizon_map_starts_with_the_site_only_when_a_lander_will_stand(tmp_path, monkeypatch):
    """The plan's horizons start beside the site files, but not for a DEM too coarse to land on.

    A regional DEM stops before the touchdown: its chain must not spend a core on a horizon map
    no plan will read. On a site the lander can stand on it starts before the site is written.
    """
    events = []
    background, write_site = mission_job._Background, mission_job.write_site

    def spy_background(fn, *args, **kwargs):
        events.append(fn.__name__)
        return background(fn, *args, **kwargs)

    def spy_write_site(*args, **kwargs):
        events.append("write_site")
        return write_site(*args, **kwargs)

    monkeypatch.setattr(mission_job, "_Background", spy_background)
    monkeypatch.setattr(mission_job, "write_site", spy_write_site)
    run_mission(load_mission(REGIONAL), tmp_path / "regional")
    assert "plan_horizons" not in events
    fine = load_mission(
        "hakuto-r-m2",
        overrides=["site.synthetic.size_m=128", "touchdown.runs=5", "mission.days=1"],
    )
    events.clear()
    run_mission(fine, tmp_path / "run")
    assert events[:2] == ["plan_horizons", "write_site"]
