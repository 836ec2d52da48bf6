"""Bad input, command by command: one line naming the value, the right exit code, nothing
written and nothing of an earlier run destroyed.

Every case runs the real command line (the click group, as a user does) with ``-o`` pointing
at a folder that already holds an earlier run's file; after the failure that file must be
there, byte for byte, and no other file may have appeared.
"""

from __future__ import annotations

import errno
import json
import pathlib
from dataclasses import dataclass

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.crs import CRS
from rasterio.transform import from_origin

from frigoris.rover.app.cli import main
from frigoris.terrain import Dem, local_metric_crs, write_geotiff
from frigoris.terrain.synth import synthesize

OLD = b"an earlier run's file"


@dataclass(frozen=True)
class Files:
    root: pathlib.Path
    dem: pathlib.Path
    hazard: pathlib.Path

    def __truediv__(self, name: str) -> pathlib.Path:
        return self.root / name


def _tif(path, z, *, crs=None, transform=None, **profile):
    z = np.asarray(z, dtype=np.float32)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=z.shape[1],
        height=z.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform or from_origin(0, z.shape[0] * 0.5, 0.5, 0.5),
        **profile,
    ) as ds:
        ds.write(z, 1)
    return path


def _geojson(path, features, crs=None):
    doc = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc))
    return path


def _point(x, y, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [x, y]},
        "properties": props,
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Files:
    """A small site, its hazard map, and a collection of broken inputs."""
    d = tmp_path_factory.mktemp("bad_input")
    crs = local_metric_crs(60.5, -4.6)
    site = synthesize(size_m=48.0, res_m=0.5, seed=4)
    dem = write_geotiff(d / "dem.tif", {"elevation": site.dem.elevation}, site.dem)
    res = CliRunner().invoke(
        main, ["hazard", str(dem), "-o", str(d / "hz"), "--lander", "xy:0,0", "-q"]
    )
    assert res.exit_code == 0, res.output
    hazard = d / "hz" / "hazard.tif"

    (d / "notes.txt").write_text("not a raster")
    (d / "folder.tif").mkdir()
    _tif(d / "earth.tif", np.zeros((16, 16)), crs=CRS.from_epsg(4326),
         transform=from_origin(0, 60, 0.001, 0.001))  # fmt: skip
    _tif(d / "nocrs.tif", np.zeros((16, 16)))
    for name, shape in (("one.tif", (1, 1)), ("two.tif", (2, 2)), ("strip.tif", (1, 256))):
        _tif(d / name, np.zeros(shape), crs=crs)
    _tif(d / "huge_values.tif", np.full((16, 16), 1e30), crs=crs)
    _tif(d / "all_nodata.tif", np.full((16, 16), -9999.0), crs=crs, nodata=-9999.0)
    with rasterio.open(
        d / "giant.tif", "w", driver="GTiff", width=10**6, height=10**6, count=1,
        dtype="float32", crs=crs, transform=from_origin(0, 0, 0.5, 0.5),
        tiled=True, sparse_ok=True,
    ):  # fmt: skip
        pass  # a header claiming 10^12 pixels, no data: a few kilobytes on disk
    no_cost = Dem(site.dem.elevation, site.dem.transform, site.dem.crs)
    write_geotiff(
        d / "no_cost.tif",
        {"elevation": no_cost.elevation, "slope_deg": no_cost.elevation},
        no_cost,
        tags={"frigoris_product": "hazard map"},
    )

    pts = {
        "prio_text.geojson": [_point(0, 0, name="a", priority="high")],
        "no_prio.geojson": [_point(0, 0, name="a")],
        "prio_low.geojson": [_point(0, 0, name="a", priority=0.5)],
        "off_map.geojson": [_point(5000, 0, name="far", priority=2)],
    }
    for name, feats in pts.items():
        _geojson(d / name, feats, crs=crs.to_wkt())
    _geojson(
        d / "line.geojson",
        [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
          "properties": {"name": "l", "priority": 1}}],
        crs=crs.to_wkt(),
    )  # fmt: skip
    _geojson(d / "earth.geojson", [_point(0, 0, name="a", priority=1)], crs="EPSG:4326")
    (d / "broken.geojson").write_text("{not json")

    (d / "sides_text.toml").write_text(
        (pathlib.Path(__file__).parents[2] / "rover/data/resilience.toml")
        .read_text()
        .replace("deploy_sides_deg = [90.0, 270.0]", 'deploy_sides_deg = "east"')
    )
    rover_toml = (pathlib.Path(__file__).parents[2] / "rover/data/tenacious.toml").read_text()
    (d / "inf_link.toml").write_text(
        rover_toml.replace("link_margin_db = 10.0", "link_margin_db = inf")
    )
    (d / "spec_dir").mkdir()
    return Files(d, dem, hazard)


def _case(cmd, args, code, message, *, id):
    return pytest.param(cmd, args, code, message, id=id)


# (command words, further args with {placeholders}, exit code, message fragment)
CASES = [
    # -------------------------------------------------------------- terrain
    _case(["terrain", "info"], ["{missing}"], 1, "does not exist", id="info-missing"),
    _case(["terrain", "info"], ["{notes.txt}"], 1, "GDAL cannot read", id="info-text"),
    _case(["terrain", "info"], ["{folder.tif}"], 1, "is a folder", id="info-folder"),
    _case(["terrain", "info"], ["{earth.tif}"], 1, "Earth CRS", id="info-earth"),
    _case(["terrain", "info"], ["{nocrs.tif}"], 1, "has no CRS", id="info-nocrs"),
    _case(
        ["terrain", "info"],
        ["{nocrs.tif}", "--crs", "garbage"],
        1,
        "not one GDAL/PROJ knows",
        id="info-crs-garbage",
    ),  # fmt: skip
    _case(["terrain", "info"], ["{one.tif}"], 1, "1 x 1 pixels", id="info-1x1"),
    _case(["terrain", "info"], ["{two.tif}"], 1, "2 x 2 pixels", id="info-2x2"),
    _case(["terrain", "info"], ["{strip.tif}"], 1, "256 x 1 pixels", id="info-1x256"),
    _case(["terrain", "info"], ["{huge_values.tif}"], 1, "lunar relief", id="info-1e30"),
    _case(["terrain", "info"], ["{all_nodata.tif}"], 1, "every cell", id="info-nodata"),
    _case(["terrain", "info"], ["{giant.tif}"], 1, "process it in tiles", id="info-giant"),
    _case(["terrain", "synth"], ["--size-m", "nan"], 2, "not a finite number", id="synth-nan"),
    _case(["terrain", "synth"], ["--size-m", "-5"], 2, "is outside", id="synth-negative"),
    _case(["terrain", "synth"], ["--seed", "-1"], 2, "--seed", id="synth-seed"),
    _case(["terrain", "synth"], ["--center", "60,-4"], 2, "does not say which", id="synth-center"),
    _case(["terrain", "synth"], ["--center", "xy:0,0"], 2, "latlon:LAT,LON", id="synth-center-xy"),
    _case(["terrain", "synth"], ["--rock-abundance", "2"], 2, "is outside", id="synth-k"),
    # -------------------------------------------------------------- hazard
    _case(["hazard"], ["{dem}"], 2, "Missing option '-o'", id="hazard-no-out"),
    _case(["hazard"], ["{giant.tif}"], 1, "process it in tiles", id="hazard-giant"),
    _case(
        ["hazard"],
        ["{dem}", "--rock-abundance", "-1"],
        1,
        "outside [0, 0.4]",
        id="hazard-k-negative",
    ),  # fmt: skip
    _case(
        ["hazard"], ["{dem}", "--rock-abundance", "nan"], 1, "outside [0, 0.4]", id="hazard-k-nan"
    ),
    _case(
        ["hazard"],
        ["{dem}", "--rock-abundance", "{notes.txt}"],
        1,
        "GDAL cannot read",
        id="hazard-k-file",
    ),  # fmt: skip
    _case(
        ["hazard"], ["{dem}", "--lander", "xy:5000,0"], 1, "outside the DEM", id="hazard-lander-off"
    ),
    _case(
        ["hazard"], ["{dem}", "--lander", "3,4"], 2, "does not say which", id="hazard-lander-bare"
    ),
    _case(["hazard"], ["{dem}", "--time", "2025-06-05T19:17"], 2, "no time zone", id="hazard-tz"),
    _case(["hazard"], ["{dem}", "--time", "9999-12-31T00:00Z"], 2, "DE421", id="hazard-9999"),
    _case(["hazard"], ["{dem}", "--sun-az", "100"], 2, "together", id="hazard-sun-half"),
    _case(
        ["hazard"],
        ["{dem}", "--sun-az", "inf", "--sun-el", "3"],
        2,
        "not a finite number",
        id="hazard-sun-inf",
    ),  # fmt: skip
    _case(["hazard"], ["{dem}", "--rover", "{spec_dir}"], 1, "is a folder", id="hazard-spec-dir"),
    _case(
        ["hazard"],
        ["{dem}", "--rover", "{inf_link.toml}"],
        1,
        "link_margin_db = inf",
        id="hazard-spec-inf",
    ),  # fmt: skip
    _case(
        ["hazard"],
        ["{dem}", "--lander-spec", "{sides_text.toml}"],
        1,
        "deploy_sides_deg",
        id="hazard-spec-sides",
    ),  # fmt: skip
    # -------------------------------------------------------------- plan
    _case(["plan"], ["{hazard}", "--days", "inf"], 2, "not a finite number", id="plan-days-inf"),
    _case(["plan"], ["{hazard}", "--days", "nan"], 2, "not a finite number", id="plan-days-nan"),
    _case(["plan"], ["{hazard}", "--days", "0"], 2, "is outside", id="plan-days-0"),
    _case(["plan"], ["{hazard}", "--battery-wh", "1e9"], 1, "outside [0, 40]", id="plan-battery"),
    _case(
        ["plan"],
        ["{hazard}", "--targets", "{prio_text.geojson}"],
        1,
        "priority 'high'",
        id="plan-prio-text",
    ),  # fmt: skip
    _case(
        ["plan"],
        ["{hazard}", "--targets", "{no_prio.geojson}"],
        1,
        "has no priority",
        id="plan-no-prio",
    ),  # fmt: skip
    _case(
        ["plan"],
        ["{hazard}", "--targets", "{prio_low.geojson}"],
        1,
        "not a number >= 1",
        id="plan-prio-low",
    ),  # fmt: skip
    _case(["plan"], ["{hazard}", "--targets", "{line.geojson}"], 1, "not a Point", id="plan-line"),
    _case(
        ["plan"],
        ["{hazard}", "--targets", "{off_map.geojson}"],
        1,
        "is off the map",
        id="plan-target-off",
    ),  # fmt: skip
    _case(["plan"], ["{hazard}", "--targets", "{earth.geojson}"], 1, "Earth CRS", id="plan-earth"),
    _case(
        ["plan"],
        ["{hazard}", "--targets", "{broken.geojson}"],
        1,
        "not a GeoJSON",
        id="plan-broken",
    ),  # fmt: skip
    _case(["plan"], ["{hazard}", "--targets", "{missing}"], 1, "does not exist", id="plan-no-file"),
    _case(["plan"], ["{no_cost.tif}"], 1, "has no 'slope_rover_deg'", id="plan-no-bands"),
    _case(["plan"], ["{dem}"], 1, "needs the lander position", id="plan-dem-no-lander"),
    _case(["plan"], ["{hazard}", "--lander", "xy:0,0"], 1, "drop --lander", id="plan-two-landers"),
    _case(
        ["plan"], ["{hazard}", "--start", "xy:9000,0"], 1, "outside the DEM", id="plan-start-off"
    ),
    _case(["plan"], ["{hazard}", "--time", "yesterday"], 2, "not an ISO 8601", id="plan-time"),
    # -------------------------------------------------------------- route
    _case(
        ["route"],
        ["{no_cost.tif}", "--via", "xy:0,0", "--via", "xy:1,1"],
        1,
        "has no 'cost' band",
        id="route-no-cost",
    ),  # fmt: skip
    _case(["route"], ["{hazard}", "--via", "xy:0,0"], 1, "at least 2 waypoints", id="route-one"),
    _case(
        ["route"],
        ["{hazard}", "--via", "latlon:61,-4.6", "--via", "xy:0,0"],
        1,
        "outside the map",
        id="route-latlon-off",
    ),  # fmt: skip
    _case(
        ["route"],
        ["{hazard}", "--via", "xy:0,0", "--via", "xy:1,1", "--uphill-per-m", "-1"],
        2,
        "is outside",
        id="route-uphill",
    ),  # fmt: skip
    # -------------------------------------------------------------- sun
    _case(["sun"], ["--site", "xy:0,0"], 2, "latlon:LAT,LON", id="sun-xy"),
    _case(["sun"], ["--days", "1e9"], 1, "samples", id="sun-many-samples"),
    _case(["sun"], ["--from", "1850-01-01T00:00Z"], 2, "DE421", id="sun-1850"),
    _case(["sun"], ["--days", "1", "--dem", "{huge_values.tif}"], 1, "lunar relief", id="sun-dem"),
    # -------------------------------------------------------------- touchdown and deploy
    _case(["touchdown"], ["--runs", "1000000000"], 2, "--runs", id="touchdown-runs"),
    _case(["touchdown"], ["--seed", "-1"], 2, "--seed", id="touchdown-seed"),
    _case(
        ["touchdown"],
        ["{dem}", "--target", "latlon:0,0"],
        1,
        "outside the DEM",
        id="touchdown-target",
    ),  # fmt: skip
    _case(["touchdown"], ["{notes.txt}"], 1, "GDAL cannot read", id="touchdown-text"),
    _case(
        ["touchdown"],
        ["{dem}", "--lander-spec", "{sides_text.toml}"],
        1,
        "deploy_sides_deg",
        id="touchdown-spec",
    ),  # fmt: skip
    _case(["deploy"], ["{dem}", "--at", "xy:9000,0"], 1, "outside the DEM", id="deploy-at-off"),
    _case(
        ["deploy"],
        ["{dem}", "--yaw", "nan", "--at", "xy:0,0"],
        2,
        "not a finite number",
        id="deploy-yaw",
    ),  # fmt: skip
    # -------------------------------------------------------------- mission and demo
    _case(["mission"], ["{missing}"], 1, "does not exist", id="mission-missing"),
    _case(
        ["mission"],
        ["hakuto-r-m2", "--set", "mission.touchdown_utc=9999-12-31T00:00:00Z"],
        1,
        "DE421",
        id="mission-9999",
    ),  # fmt: skip
    _case(
        ["mission"],
        ["hakuto-r-m2", "--set", "planner.stops.boulder_value=nan"],
        1,
        "boulder_value = nan is not a number",
        id="mission-nan",
    ),  # fmt: skip
    _case(
        ["mission"],
        ["hakuto-r-m2", "--set", "rover.link_margin_db=inf"],
        1,
        "link_margin_db = inf is not a number",
        id="mission-inf-spec",
    ),  # fmt: skip
    _case(
        ["mission"],
        ["hakuto-r-m2", "--set", "rover.rx_sensitivity_dbm=-130"],
        1,
        "rx_sensitivity_dbm = -130 is below the thermal limit of -121.5 dBm",
        id="mission-radio-beyond-physics",
    ),  # fmt: skip
    _case(
        ["mission"],
        ["hakuto-r-m2", "--set", 'lander.deploy_sides_deg="east"'],
        1,
        "deploy_sides_deg",
        id="mission-sides",
    ),  # fmt: skip
    _case(["mission"], ["hakuto-r-m2"], 2, "-o DIR", id="mission-no-out"),
    _case(["demo"], ["--seed", "-3"], 2, "--seed", id="demo-seed"),
]

NO_OUT = {"terrain info", "sun"}  # commands that only write with -o (sun) or never (info)


def _fill(args, files: Files):
    out = []
    for a in args:
        if a.startswith("{") and a.endswith("}"):
            key = a[1:-1]
            a = str({"dem": files.dem, "hazard": files.hazard}.get(key, files / key))
        out.append(a)
    return out


@pytest.mark.parametrize("cmd, args, code, message", CASES)
def test_bad_input(files, tmp_path, cmd, args, code, message):
    out = tmp_path / "run"
    out.mkdir()
    earlier = out / "hazard.tif"
    earlier.write_bytes(OLD)
    argv = [*cmd, *_fill(args, files)]
    name = " ".join(cmd)
    if name not in NO_OUT and "-o DIR" not in message and "Missing option" not in message:
        argv += ["-o", str(out), "--overwrite"]
    res = CliRunner().invoke(main, [*argv, "-q"] if name != "terrain info" else argv)
    assert res.exit_code == code, res.output
    assert message in res.output, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    if code == 1:  # a package error: exactly one line, "Error: ..."
        lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    assert earlier.read_bytes() == OLD
    assert sorted(p.name for p in out.iterdir()) == ["hazard.tif"]
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "hazard.tif")


def test_full_disk_is_one_line_and_keeps_the_earlier_run(files, tmp_path, monkeypatch):
    monkeypatch.setattr("frigoris.terrain.io._publish", _no_space)
    out = tmp_path / "run"
    out.mkdir()
    (out / "hazard.tif").write_bytes(OLD)
    res = CliRunner().invoke(main, ["hazard", str(files.dem), "-o", str(out), "--overwrite", "-q"])
    assert res.exit_code == 1, res.output
    assert "no space left on the device" in res.output and "Traceback" not in res.output
    assert (out / "hazard.tif").read_bytes() == OLD
    assert sorted(p.name for p in out.iterdir()) == ["hazard.tif"]
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_an_earlier_run_is_refused_without_overwrite(files, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "hazard.tif").write_bytes(OLD)
    res = CliRunner().invoke(main, ["hazard", str(files.dem), "-o", str(out), "-q"])
    assert res.exit_code == 1 and "pass --overwrite" in res.output
    assert (out / "hazard.tif").read_bytes() == OLD


def test_overwrite_replaces_only_the_jobs_own_files(files, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "hazard.tif").write_bytes(OLD)
    (out / "my_notes.txt").write_text("mine")
    res = CliRunner().invoke(main, ["hazard", str(files.dem), "-o", str(out), "--overwrite", "-q"])
    assert res.exit_code == 0, res.output
    assert (out / "hazard.tif").read_bytes() != OLD and (out / "my_notes.txt").read_text() == "mine"
    assert {"hazard.tif", "hazard.png", "craters.geojson", "rocks.geojson"} <= {
        p.name for p in out.iterdir()
    }
