"""A lander placed by hand (``[lander] at``): the chain from a real DEM to a checked plan.

The Shoemaker mission file runs on the real 5 m LOLA DEM, too coarse for the touchdown model:
without a hand-placed lander that mission would stop after the regional hazard layers.
"""

from __future__ import annotations

import json
import math
import pathlib
import re

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from frigoris import RESILIENCE
from frigoris.rover.app.cli.group import main
from frigoris.rover.app.jobs.mission import check_mission
from frigoris.rover.app.mission_file import load_mission
from frigoris.rover.errors import SpecError
from frigoris.rover.touchdown import placed_at, touchdown_at
from frigoris.terrain import Dem, local_metric_crs

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"
SHOEMAKER = EXAMPLES / "shoemaker_mission.toml"


@pytest.fixture(scope="module")
def shoemaker_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("shoemaker_mission") / "run"
    res = CliRunner().invoke(main, ["mission", str(SHOEMAKER), "-o", str(out), "-q", "--json"])
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout)


def test_the_shoemaker_mission_file_ends_in_a_checked_plan(shoemaker_run):
    out, summary = shoemaker_run
    assert summary["plan_checked"] == "passed check_plan and the flight rules"
    assert summary["plan_stops"] >= 3 and summary["deployed"] is True
    assert summary["touchdown_outcome"].startswith(
        "nominal at (76000.0, 39000.0) m: placed by hand"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["lander_at"] == {"x_m": 76000.0, "y_m": 39000.0, "yaw_deg": 0.0}
    # no Monte Carlo ran: no touchdown files
    assert not list(out.glob("touchdown*"))


def test_the_report_says_what_5_m_pixels_cannot_show(shoemaker_run):
    out, _ = shoemaker_run
    text = re.sub(r"<[^>]+>", " ", (out / "report.html").read_text())
    assert "placed by hand" in text
    assert "cannot resolve the 2.5 m pad circle" in text
    assert "A 6 cm step is never resolved at 5 m pixels" in text
    assert "Polar Stereographic" in text  # the DEM's CRS has no name; its projection does


def test_a_target_the_paths_cannot_reach_says_why(shoemaker_run):
    """The '8 deg slope' target lies in cells one 2.5 m lattice step of which is riskier than a
    command cycle may be: the reason names that rule, not "not chosen"."""
    out, summary = shoemaker_run
    why = summary["plan_targets_not_planned"]
    assert why.startswith("8 deg slope south-east of the lander: walled off"), why
    assert "max_cycle_risk" in why
    # by hand from the hazard map's risk band: the chance over a diagonal lattice step
    with rasterio.open(out / "hazard.tif") as src:
        names = list(src.descriptions)
        risk = src.read(names.index("risk") + 1)
        r, c = src.index(76021.2, 38981.2)
    rover = load_mission(SHOEMAKER).rover
    step = 2.5 * math.sqrt(2.0)
    chance = 1.0 - (1.0 - float(risk[r, c])) ** (step / rover.length_m)
    assert chance > load_mission(SHOEMAKER).operations.max_cycle_risk


def test_placement_on_a_fine_dem_is_the_touchdown_stance():
    crs = local_metric_crs(60.5, -4.6)
    ramp = np.tan(np.radians(5.0)) * 0.5 * np.arange(64.0)[None, :].repeat(64, axis=0)
    dem = Dem.from_array(ramp, res_m=0.5, crs=crs)
    placed = placed_at(dem, RESILIENCE, 1.0, -2.0, 30.0)
    simulated = touchdown_at(dem, RESILIENCE, 1.0, -2.0, 30.0)
    assert placed.tilt_deg == simulated.tilt_deg and placed.outcome == simulated.outcome
    assert placed.reason == f"placed by hand; {simulated.reason}"
    assert placed.tilt_deg == pytest.approx(5.0, abs=1e-6)


@pytest.mark.parametrize(
    "slope_deg, outcome",
    [
        (RESILIENCE.max_tilt_deploy_deg - 0.5, "nominal"),
        (RESILIENCE.max_tilt_deploy_deg + 0.5, "degraded"),
        (RESILIENCE.max_tilt_stable_deg + 0.5, "tip-over"),
    ],
)
def test_placement_on_a_coarse_dem_reads_the_ground_plane(slope_deg, outcome):
    crs = local_metric_crs(-87.2, 63.0)
    ramp = np.tan(np.radians(slope_deg)) * 5.0 * np.arange(16.0)[:, None].repeat(16, axis=1)
    dem = Dem.from_array(ramp, res_m=5.0, crs=crs)
    run = placed_at(dem, RESILIENCE, 0.0, 0.0, 0.0)
    assert run.outcome == outcome
    assert run.tilt_deg == pytest.approx(slope_deg, abs=1e-4)  # a float32 DEM
    assert math.isnan(run.clearance_m)
    assert "over a 15 m baseline" in run.reason


def test_a_placement_off_the_dem_is_one_line_and_writes_nothing(tmp_path):
    text = SHOEMAKER.read_text().replace("x = 76000.0, y = 39000.0", "x = 99000.0, y = 39000.0")
    bad = tmp_path / "m.toml"
    bad.write_text(
        text.replace('"data/', f'"{EXAMPLES}/data/').replace('"polar_', f'"{EXAMPLES}/polar_')
    )
    with pytest.raises(SpecError, match=r"\[lander\] at \(x 99000 m, y 39000 m\) is off the DEM"):
        check_mission(load_mission(bad))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["mission", str(bad), "-o", str(out), "-q"])
    assert res.exit_code == 1
    assert (
        len(res.output.strip().splitlines()) == 1 and "place the lander on the site" in res.output
    )
    assert not out.exists()
