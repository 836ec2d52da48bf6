"""Touchdown and deployment jobs: where the lander came down, and the rover's handoff.

Each job writes its outputs into a folder and returns a :class:`~rover.pipeline.JobResult`;
the commands in ``rover/commands/touchdown_cmd.py`` parse options, call one job and report.
"""

from __future__ import annotations

import pathlib
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from frigoris.terrain import Dem, read_dem, write_geojson, write_geotiff
from frigoris.terrain.crs import crs_to_lunar, lunar_to_crs
from frigoris.terrain.hazard import hazard_map
from frigoris.terrain.synth import SynthParams, synthesize

from .deploy import Handoff, crop, deploy
from .errors import RoverError
from .figures import deploy_figure, touchdown_figure
from .progress import ProgressCallback
from .specs import LanderSpec, RoverSpec, hazard_limits, lander_site
from .touchdown import (
    PLANNED_TOUCHDOWN_UTC,
    SCENARIOS,
    Dispersion,
    TouchdownResult,
    safety_bounds,
    simulate_touchdown,
    touchdown_at,
    touchdown_safety,
)

HAZARD_WINDOW_MARGIN_M = 15.0
"""The deploy job's hazard map covers the plume radius plus this, around the lander."""


def _noop(fraction: float, stage: str = "") -> None:
    return None


# --------------------------------------------------------------------------------------------
# inputs shared by the two jobs


def load_site(
    dem_path: pathlib.Path | None, *, seed: int = 0, progress: ProgressCallback = _noop
) -> tuple[Dem, Any, str]:
    """Load the DEM (read, or the default synthetic site), its rock abundance and a label."""
    if dem_path is None:
        site = synthesize(SynthParams(seed=seed), progress=progress)
        return site.dem, site.rock_abundance, f"synthetic Mare Frigoris site (seed {seed})"
    return read_dem(dem_path), 0.01, pathlib.Path(dem_path).name


def resolve_target(
    dem: Dem, *, latlon: tuple[float, float] | None = None, xy: tuple[float, float] | None = None
) -> tuple[float, float]:
    """Aim point in map metres: given as lat/lon, as x/y, or the DEM centre."""
    if latlon is not None and xy is not None:
        raise RoverError("give the target as --target LAT,LON or --target-xy X,Y, not both")
    if latlon is not None:
        x, y = lunar_to_crs(dem.crs, *latlon)
        return float(x), float(y)
    if xy is not None:
        return float(xy[0]), float(xy[1])
    b = dem.bounds
    return 0.5 * (b.left + b.right), 0.5 * (b.bottom + b.top)


# --------------------------------------------------------------------------------------------
# touchdown job


def touchdown_job(
    dem_path: pathlib.Path | None,
    out_dir: pathlib.Path,
    *,
    runs: int = 500,
    scenarios: list[str] | tuple[str, ...] = SCENARIOS,
    seed: int = 0,
    target_latlon: tuple[float, float] | None = None,
    target_xy: tuple[float, float] | None = None,
    lander: LanderSpec | None = None,
    dispersion: Dispersion | None = None,
    safety_extent: str = "ellipse",
    site: tuple[Dem, Any, str] | None = None,
    time: datetime = PLANNED_TOUCHDOWN_UTC,
    tags: dict[str, Any] | None = None,
    progress: ProgressCallback = _noop,
) -> tuple[Any, list[TouchdownResult]]:
    """Monte Carlo touchdowns per scenario; writes the safety GeoTIFF, runs GeoJSON and a map.

    Outputs: ``touchdown_safety.tif`` (bands p_safe, p_deploy, tilt_max_deg; NaN outside the
    computed window), ``touchdowns.geojson`` (every run of every scenario) and ``touchdown.png``.
    ``time`` is the touchdown time recorded with the runs; ``tags`` are added to the GeoTIFF's
    (provenance).
    """
    lander = lander or LanderSpec.load()
    dispersion = dispersion or Dispersion()
    dem, _, label = site or load_site(
        dem_path, seed=seed, progress=lambda f, s="": progress(0.2 * f, s)
    )
    target = resolve_target(dem, latlon=target_latlon, xy=target_xy)
    results = []
    for i, name in enumerate(scenarios):

        def sub(f, s="", i=i):
            progress(0.2 + 0.2 * (i + f) / len(scenarios), s)

        results.append(
            simulate_touchdown(
                dem,
                lander,
                target,
                runs=runs,
                seed=seed,
                dispersion=dispersion,
                descent=name,
                time=time,
                progress=sub,
            )
        )
    bounds = None if safety_extent == "full" else safety_bounds(dem, target, dispersion)
    safety = touchdown_safety(
        dem, lander, bounds=bounds, progress=lambda f, s="": progress(0.4 + 0.3 * f, s)
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    tags = {
        "frigoris_product": "touchdown safety: fraction of yaws at which the lander stands",
        "frigoris_lander": lander.name,
        "frigoris_n_yaw": safety.n_yaw,
        "frigoris_target_xy": list(target),
        **(tags or {}),
    }
    progress(0.7, "touchdown_safety.tif")
    outputs = {
        "safety": write_geotiff(out_dir / "touchdown_safety.tif", safety.layers(), dem, tags=tags)
    }
    features = [f for r in results for f in r.to_features(dem.crs)]
    outputs["touchdowns"] = write_geojson(
        out_dir / "touchdowns.geojson",
        features,
        dem.crs,
        properties={
            "what": "simulated touchdowns",
            "lander": lander.name,
            "seed": seed,
            "target_xy": list(target),
            "scenarios": [r.scenario for r in results],
        },
    )
    progress(0.8, "touchdown.png")
    outputs["map"] = touchdown_figure(
        dem,
        results,
        safety,
        target,
        dispersion,
        out_dir / "touchdown.png",
        title=f"Touchdowns of {lander.name}: {label}",
    )
    progress(1.0, "done")
    lat, lon = crs_to_lunar(dem.crs, *target)
    summary = {
        "dem": label,
        "target_xy_m": [round(target[0], 2), round(target[1], 2)],
        "target_lat_lon": [round(lat, 6), round(lon, 6)],
        "runs": runs,
        "seed": seed,
        "safety_mean_p_safe": float(np.nanmean(safety.p_safe)),
    }
    from .pipeline import JobResult

    return JobResult(out_dir, outputs, summary), results


# --------------------------------------------------------------------------------------------
# deploy job


def deploy_job(
    dem_path: pathlib.Path | None,
    out_dir: pathlib.Path,
    *,
    seed: int = 0,
    scenario: str = "nominal",
    at_xy: tuple[float, float] | None = None,
    yaw_deg: float = 0.0,
    target_latlon: tuple[float, float] | None = None,
    target_xy: tuple[float, float] | None = None,
    lander: LanderSpec | None = None,
    rover: RoverSpec | None = None,
    touchdown_time: datetime = PLANNED_TOUCHDOWN_UTC,
    progress: ProgressCallback = _noop,
) -> tuple[Any, Handoff]:
    """One touchdown, the hazard map around it, the deployment; writes handoff.json + deploy.png.

    The touchdown is the first run of ``scenario`` with ``seed`` around the target, or the
    given position and yaw (``at_xy``, ``yaw_deg``). The hazard map covers only the plume
    radius plus a margin around the lander, with the sun at the deployment time.
    """
    from .pipeline import resolve_sun

    lander = lander or LanderSpec.load()
    rover = rover or RoverSpec.load()
    dem, rock_k, label = load_site(
        dem_path, seed=seed, progress=lambda f, s="": progress(0.3 * f, s)
    )
    progress(0.3, "touchdown")
    if at_xy is not None:
        run = touchdown_at(dem, lander, at_xy[0], at_xy[1], yaw_deg)
    else:
        target = resolve_target(dem, latlon=target_latlon, xy=target_xy)
        run = simulate_touchdown(
            dem, lander, target, runs=1, seed=seed, descent=scenario, time=touchdown_time
        ).runs[0]
    hm = None
    if run.outcome == "nominal":
        progress(0.4, "hazard map")
        half = lander.plume_radius_m + HAZARD_WINDOW_MARGIN_M
        local = crop(dem, run.x, run.y, half)
        if np.ndim(rock_k):
            r0, c0 = dem.rowcol(*local.xy(0, 0))
            rock_k = np.asarray(rock_k)[r0 : r0 + local.shape[0], c0 : c0 + local.shape[1]]
        t_deploy = touchdown_time + timedelta(hours=lander.checkout_h)
        sun = resolve_sun(local, when=t_deploy)
        hm = hazard_map(
            local,
            hazard_limits(rover),
            sun=sun,
            lander=lander_site(lander, run.x, run.y),
            rock_abundance=rock_k,
            progress=lambda f, s="": progress(0.4 + 0.4 * f, s),
        )
    handoff = deploy(run, hm, lander, rover, time=touchdown_time, crs=dem.crs)
    progress(0.85, "handoff.json")
    outputs = {"handoff": handoff.write(out_dir / "handoff.json")}
    outputs["map"] = deploy_figure(
        dem if hm is None else hm.grid,
        handoff,
        lander,
        hm,
        out_dir / "deploy.png",
        title=f"Deployment of {rover.name} from {lander.name}: {label}",
    )
    progress(1.0, "done")
    from .pipeline import JobResult

    return JobResult(out_dir, outputs, handoff.summary()), handoff
