"""The real 5 m LOLA DEM near Shoemaker crater, DEM to checked plan with `frigoris plan`."""

from __future__ import annotations

import csv
import json
import math
import pathlib

import pytest
from click.testing import CliRunner

from frigoris.rover.app.cli.group import main

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"
DEM = EXAMPLES / "data/shoemaker_5mpp_south_pole.tif"
TARGETS = EXAMPLES / "shoemaker_targets.geojson"
POLAR = ["--rover", str(EXAMPLES / "polar_rover.toml"), "--operations"]
POLAR += [str(EXAMPLES / "polar_operations.toml"), "--time", "2025-11-25T00:00Z"]


@pytest.fixture(scope="module")
def shoemaker_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("shoemaker") / "plan"
    args = ["plan", str(DEM), "-o", str(out), "--lander", "xy:76000,39000", "--targets"]
    args += [str(TARGETS), *POLAR, "--time-limit", "5", "-q", "--json"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout)


def test_the_shoemaker_dem_ends_in_a_checked_plan(shoemaker_plan):
    out, summary = shoemaker_plan
    assert summary["checked"] == "passed check_plan and the flight rules"
    # southern summer, the polar variant (vertical panel) and grazing-light operations: the
    # Moonhouse beside the lander and two of the three user targets
    assert summary["stops"] >= 3 and summary["distance_m"] > 50.0
    assert summary["stops_by_kind"] == "moonhouse 1, target 2"
    with open(out / "timeline.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # moves on the 2.5 m lattice of the 5 m map: no move longer than one 5 m command
    moves = [
        math.hypot(float(b["x_m"]) - float(a["x_m"]), float(b["y_m"]) - float(a["y_m"]))
        for a, b in zip(rows, rows[1:], strict=False)
        if b["activity"] == "drive"
    ]
    assert moves and max(moves) == pytest.approx(2.5 * math.sqrt(2.0))
    # the Sun never more than a few degrees up, all ten days
    assert max(float(r["sun_elevation_deg"]) for r in rows) < 5.0
