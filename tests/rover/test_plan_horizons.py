"""The plan's horizon map handed over by a caller that computed it early (the mission job)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from frigoris import (
    PLANNED_TOUCHDOWN_UTC,
    RESILIENCE,
    TENACIOUS,
    SynthParams,
    hazard_limits,
    hazard_map,
    lander_site,
    synthesize,
)
from frigoris.rover.errors import RoverError
from frigoris.rover.planning import (
    HORIZON_SECTORS,
    PlanHorizons,
    command_lattice,
    lattice_factor,
    plan_horizons,
    plan_on_hazard,
)
from frigoris.terrain.illumination import horizon_map


@pytest.fixture(scope="module")
def site_map():
    site = synthesize(SynthParams(size_m=96, seed=3))
    return hazard_map(
        site.dem,
        hazard_limits(TENACIOUS),
        lander=lander_site(RESILIENCE, 0.0, 0.0),
        sun=(108.0, 12.0),
    )


def _plan(hm, **kw):
    return plan_on_hazard(
        hm,
        rover=TENACIOUS,
        lander=RESILIENCE,
        mission_days=2.0,
        time_limit_s=2.0,
        start_time=PLANNED_TOUCHDOWN_UTC + timedelta(hours=24),
        **kw,
    )


def test_a_handed_over_horizon_map_gives_the_plan_computed_in_place(site_map):
    here = _plan(site_map)
    given = plan_horizons(site_map.grid)
    handed = _plan(site_map, horizons=given)
    assert handed.horizons is given.horizons and handed.horizon_codes is given.codes
    np.testing.assert_array_equal(handed.horizon_codes, here.horizon_codes)
    np.testing.assert_array_equal(handed.horizons.horizon_deg, here.horizons.horizon_deg)
    assert handed.plan.stops.kind == here.plan.stops.kind
    np.testing.assert_array_equal(handed.plan.stops.cells, here.plan.stops.cells)
    assert handed.plan.value == here.plan.value
    for key, col in here.plan.timeline.items():
        np.testing.assert_array_equal(handed.plan.timeline[key], col, err_msg=key)


def test_plan_horizons_are_the_rounded_horizon_map(site_map):
    ph = plan_horizons(site_map.grid)
    raw = horizon_map(site_map.grid, HORIZON_SECTORS)
    # rounded to 0.25 deg codes: within half a step of the computed horizon (nodata as 255)
    finite = np.isfinite(raw.horizon_deg)
    assert ph.codes.dtype == np.uint8 and ph.codes.shape == raw.horizon_deg.shape
    clipped = np.clip(raw.horizon_deg[finite], -10.0, 53.75)
    assert np.abs(ph.horizons.horizon_deg[finite] - clipped).max() <= 0.125 + 1e-6
    raw_only = plan_horizons(site_map.grid, quantize=False)
    assert raw_only.codes is None
    np.testing.assert_array_equal(raw_only.horizons.horizon_deg, raw.horizon_deg)


def test_a_horizon_map_of_another_grid_or_rounding_is_refused(site_map):
    dem = site_map.grid
    eight = horizon_map(dem, 8)
    with pytest.raises(RoverError, match="8 sectors"):
        _plan(site_map, horizons=PlanHorizons(eight, None))
    other = horizon_map(dem.elevation[:-1], HORIZON_SECTORS, res_m=dem.res_m)
    with pytest.raises(RoverError, match="is not the plan's"):
        _plan(site_map, horizons=PlanHorizons(other, None))
    unrounded = plan_horizons(dem, quantize=False)
    with pytest.raises(RoverError, match="has no codes"):
        _plan(site_map, horizons=unrounded)


@pytest.mark.parametrize("command_m", [5.0, 0.7, 0.5, 0.3])
def test_lattice_factor_is_command_lattices(site_map, command_m):
    rover = replace(TENACIOUS, max_drive_per_command_m=command_m)
    k = lattice_factor(site_map.grid.res_m, rover)
    assert k == command_lattice(site_map, rover)[1]
    assert k == (1 if command_m >= 0.5 * 2**0.5 else 2 if command_m >= 0.25 * 2**0.5 else 3)
