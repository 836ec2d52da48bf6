"""CLI: run the command, check the exit code, reopen the outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.crs import CRS

from frigoris import terrain
from frigoris.rover.app.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_terrain_synth_writes_dem_catalogues_and_map(runner, tmp_path):
    out = tmp_path / "site"
    res = runner.invoke(
        main, ["terrain", "synth", "-o", str(out), "--size-m", "128", "--seed", "5", "-q", "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    dem = terrain.read_dem(out / "dem.tif")
    assert dem.shape == (256, 256) and dem.res_m == 0.5
    craters = json.loads((out / "craters_truth.geojson").read_text())
    assert len(craters["features"]) == summary["craters"] > 0
    assert "Moon (2015)" in craters["crs"]["properties"]["name"]
    assert (out / "hillshade.png").stat().st_size > 10_000
    # Same seed through the library gives the same heights.
    from frigoris.terrain.synth import synthesize

    np.testing.assert_array_equal(dem.elevation, synthesize(size_m=128.0, seed=5).dem.elevation)


def test_terrain_info_on_lola(runner, lola_path):
    res = runner.invoke(main, ["terrain", "info", str(lola_path), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["nodata_fraction"] > 0.1  # the curved region inside its TM rectangle
    assert -4900 < info["elevation_min_m"] < info["elevation_max_m"] < 900


def test_out_of_range_number_is_a_usage_error(runner, tmp_path):
    res = runner.invoke(main, ["terrain", "synth", "-o", str(tmp_path / "x"), "--res-m", "-1"])
    assert res.exit_code == 2 and "--res-m" in res.output and "-1 is outside" in res.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["terrain", "info", "missing.tif"], "does not exist"),
        (["terrain", "info", "notes.txt"], "GDAL cannot read"),
        (["terrain", "info", "earth.tif"], "Earth CRS"),
    ],
)
def test_user_errors_are_one_line_and_non_zero(runner, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a raster")
    with rasterio.open(
        tmp_path / "earth.tif",
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        crs=CRS.from_epsg(4326),
        transform=rasterio.transform.from_origin(0, 60, 0.1, 0.1),
    ) as ds:
        ds.write(np.zeros((1, 4, 4), np.float32))
    res = runner.invoke(main, args)
    assert res.exit_code == 1
    assert message in res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_bad_center_is_a_usage_error(runner, tmp_path):
    res = runner.invoke(main, ["terrain", "synth", "-o", str(tmp_path / "s"), "--center", "north"])
    assert res.exit_code == 2
    assert "--center" in res.output
