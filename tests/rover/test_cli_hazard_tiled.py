"""`frigoris hazard --tile`: run the command, check the exit code, reopen the outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from frigoris import terrain
from frigoris.rover.app.cli import main
from frigoris.terrain.synth import synthesize


@pytest.fixture
def dem_path(tmp_path):
    s = synthesize(size_m=128, res_m=0.5, seed=5, crater_max_m=10.0)
    return terrain.write_geotiff(tmp_path / "dem.tif", s.dem.elevation, s.dem)


def test_tiled_hazard_equals_the_in_memory_command(dem_path, tmp_path):
    runner = CliRunner()
    args = [
        "hazard",
        str(dem_path),
        "--sun-az",
        "108",
        "--sun-el",
        "11.8",
        "--lander",
        "xy:3,-4",
        "-q",
        "--json",
    ]
    tiled = runner.invoke(main, [*args, "-o", str(tmp_path / "t"), "--tile", "128"])
    assert tiled.exit_code == 0, tiled.output
    memory = runner.invoke(main, [*args, "-o", str(tmp_path / "m")])
    assert memory.exit_code == 0, memory.output
    a, _ = terrain.read_layers(tmp_path / "t" / "hazard.tif")
    b, _ = terrain.read_layers(tmp_path / "m" / "hazard.tif")
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    st, sm = json.loads(tiled.stdout), json.loads(memory.stdout)
    assert st["tiles"] == 4 and st["craters_detected"] == sm["craters_detected"]
    assert st["keepout_fraction"] == pytest.approx(sm["keepout_fraction"], abs=1e-12)
    tags = terrain.read_tags(tmp_path / "t" / "hazard.tif")
    assert tags["frigoris_product"] == "hazard map" and json.loads(tags["frigoris_tile_px"]) == 128
    for name in ("craters.geojson", "rocks.geojson", "hazard.png"):
        assert (tmp_path / "t" / name).stat().st_size > 100


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--scheduler", "tcp://127.0.0.1:9"], "give --tile too"),
        (["--tile", "100"], "multiple of 64"),
    ],
)
def test_tiled_user_errors_are_one_line(dem_path, tmp_path, extra, message):
    res = CliRunner().invoke(
        main, ["hazard", str(dem_path), "-o", str(tmp_path / "o"), "-q", *extra]
    )
    assert res.exit_code != 0
    assert message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o" / "hazard.tif").exists()
