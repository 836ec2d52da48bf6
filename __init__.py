"""frigoris: surface-operations planner for small lunar rovers.

This folder installs as the ``frigoris`` package; its sub-folders install beneath it:
``terrain/`` as :mod:`frigoris.terrain` (rasters), ``planners/`` as :mod:`frigoris.planners`
(graphs and schedules) and ``rover/`` as :mod:`frigoris.rover` (the mission and the
application). The names below are the short public API; each loads on first use.

Examples
--------
>>> import frigoris
>>> site = frigoris.synthesize(frigoris.SynthParams(size_m=64, seed=1))
>>> site.dem.shape
(128, 128)
>>> frigoris.TENACIOUS.max_slope_deg
15.0
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["planners", "rover", "terrain"],
    submod_attrs={
        "terrain": [
            "Dem",
            "HazardLimits",
            "SynthParams",
            "cast_shadow",
            "crs_to_lunar",
            "earth_position",
            "hazard_map",
            "hillshade",
            "local_metric_crs",
            "lunar_day",
            "lunar_to_crs",
            "read_dem",
            "slope_deg",
            "sun_over_dem",
            "sun_position",
            "synthesize",
            "write_geotiff",
        ],
        "planners": [
            "check_plan",
            "check_route",
            "plan_route",
            "plan_traverse",
            "shortest_path",
            "solve_orienteering",
            "travel_matrix",
        ],
        "rover": [
            "PLANNED_TOUCHDOWN_UTC",
            "RESILIENCE",
            "TENACIOUS",
            "LanderSpec",
            "RoverSpec",
            "deploy",
            "hazard_limits",
            "lander_site",
            "plan_on_hazard",
            "simulate_touchdown",
            "touchdown_at",
        ],
        "rover.app.mission_file": ["builtin_mission", "load_mission"],
        "rover.app.jobs.mission": ["run_mission"],
        "rover.app.jobs.inputs": ["Position", "resolve_sun"],
        "rover.app.products.hazard_files": ["hazard_summary"],
    },
)
