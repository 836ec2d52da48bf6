"""Jobs behind ``frigoris touchdown`` and ``frigoris deploy``.

Where the lander came down, and whether and where the rover can be lowered from it.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from frigoris.terrain import Dem
from frigoris.terrain.crs import crs_to_lunar
from frigoris.terrain.hazard import hazard_map

from ...deploy import Handoff, crop, deploy
from ...progress import ProgressCallback, no_progress
from ...specs import LanderSpec, RoverSpec, hazard_limits, lander_site
from ...touchdown import (
    PLANNED_TOUCHDOWN_UTC,
    SCENARIOS,
    Dispersion,
    TouchdownResult,
    safety_bounds,
    simulate_touchdown,
    touchdown_at,
    touchdown_safety,
)
from ..products import figures
from ..products.touchdown_files import TOUCHDOWN_FILES, write_touchdown
from ..results import JobResult
from .inputs import Position, load_site, resolve_sun
from .output_folder import staged_output

__all__ = ["DEPLOY_FILES", "deploy_job", "run_touchdowns", "touchdown_job"]

HAZARD_WINDOW_MARGIN_M = 15.0
"""The deploy job's hazard map covers the plume radius plus this, around the lander."""

DEPLOY_FILES = ("handoff.json", "deploy.png")
"""Every file the deploy job writes."""


def _aim(dem: Dem, target: Position | None) -> tuple[float, float]:
    """Aim point in map metres: the given position (checked on the DEM), or the DEM centre."""
    if target is not None:
        return target.on(dem, "--target")
    b = dem.bounds
    return 0.5 * (b.left + b.right), 0.5 * (b.bottom + b.top)


def run_touchdowns(
    dem: Dem,
    lander: LanderSpec,
    target_xy: tuple[float, float],
    *,
    runs: int,
    scenarios: Sequence[str],
    seed: int,
    dispersion: Dispersion,
    time: datetime,
    progress: ProgressCallback = no_progress,
) -> list[TouchdownResult]:
    """Monte Carlo touchdowns of every scenario around the aim point (same seed each)."""
    results = []
    for i, name in enumerate(scenarios):

        def sub(f, s="", i=i):
            progress((i + f) / len(scenarios), s)

        results.append(
            simulate_touchdown(
                dem,
                lander,
                target_xy,
                runs=runs,
                seed=seed,
                dispersion=dispersion,
                descent=name,
                time=time,
                progress=sub,
            )
        )
    return results


def touchdown_job(
    dem_path: pathlib.Path | None,
    out_dir: pathlib.Path,
    *,
    runs: int = 500,
    scenarios: Sequence[str] = SCENARIOS,
    seed: int = 0,
    target: Position | None = None,
    lander: LanderSpec | None = None,
    dispersion: Dispersion | None = None,
    safety_extent: str = "ellipse",
    time: datetime = PLANNED_TOUCHDOWN_UTC,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> tuple[JobResult, list[TouchdownResult]]:
    """Monte Carlo touchdowns per scenario; writes the safety GeoTIFF, runs GeoJSON and a map.

    Without ``dem_path`` the default synthetic site of ``seed`` is used.
    """
    lander = lander or LanderSpec.load()
    dispersion = dispersion or Dispersion()
    with staged_output(out_dir, owned=TOUCHDOWN_FILES, overwrite=overwrite) as stage:
        dem, _, label = load_site(
            dem_path, seed=seed, progress=lambda f, s="": progress(0.2 * f, s)
        )
        aim = _aim(dem, target)
        results = run_touchdowns(
            dem,
            lander,
            aim,
            runs=runs,
            scenarios=scenarios,
            seed=seed,
            dispersion=dispersion,
            time=time,
            progress=lambda f, s="": progress(0.2 + 0.2 * f, s),
        )
        bounds = None if safety_extent == "full" else safety_bounds(dem, aim, dispersion)
        safety = touchdown_safety(
            dem, lander, bounds=bounds, progress=lambda f, s="": progress(0.4 + 0.3 * f, s)
        )
        progress(0.7, "writing")
        outputs = write_touchdown(
            stage.path, dem, results, safety, aim, dispersion, lander, seed=seed, label=label
        )
    progress(1.0, "done")
    lat, lon = crs_to_lunar(dem.crs, *aim)
    summary = {
        "dem": label,
        "target_xy_m": [round(aim[0], 2), round(aim[1], 2)],
        "target_lat_lon": [round(lat, 6), round(lon, 6)],
        "runs": runs,
        "seed": seed,
        "safety_mean_p_safe": float(np.nanmean(safety.p_safe)),
    }
    return JobResult(out_dir, stage.final(outputs), summary), results


def deploy_job(
    dem_path: pathlib.Path | None,
    out_dir: pathlib.Path,
    *,
    seed: int = 0,
    run: int = 0,
    scenario: str = "nominal",
    at: Position | None = None,
    yaw_deg: float = 0.0,
    target: Position | None = None,
    lander: LanderSpec | None = None,
    rover: RoverSpec | None = None,
    touchdown_time: datetime = PLANNED_TOUCHDOWN_UTC,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> tuple[JobResult, Handoff]:
    """One touchdown, the hazard map around it, the deployment; writes handoff.json + deploy.png.

    The touchdown is run ``run`` of the Monte Carlo of ``scenario`` with ``seed`` around the
    target (the same lander as run ``run`` of a mission with that seed: each run draws from its
    own stream), or the given position and yaw (``at``, ``yaw_deg``). The hazard map covers
    only the plume radius plus a margin around the lander, with the sun at the deployment time.
    """
    lander = lander or LanderSpec.load()
    rover = rover or RoverSpec.load()
    with staged_output(out_dir, owned=DEPLOY_FILES, overwrite=overwrite) as stage:
        dem, rock_k, label = load_site(
            dem_path, seed=seed, progress=lambda f, s="": progress(0.3 * f, s)
        )
        progress(0.3, "touchdown")
        if at is not None:
            run = touchdown_at(dem, lander, *at.on(dem, "--at"), yaw_deg)
        else:
            run = simulate_touchdown(
                dem,
                lander,
                _aim(dem, target),
                runs=run + 1,
                seed=seed,
                descent=scenario,
                time=touchdown_time,
            ).runs[run]
        hm = None
        if run.outcome == "nominal":
            progress(0.4, "hazard map")
            half = lander.plume_radius_m + HAZARD_WINDOW_MARGIN_M
            local = crop(dem, run.x, run.y, half)
            if np.ndim(rock_k):
                r0, c0 = dem.rowcol(*local.xy(0, 0))
                rock_k = np.asarray(rock_k)[r0 : r0 + local.shape[0], c0 : c0 + local.shape[1]]
            t_deploy = touchdown_time + timedelta(hours=lander.checkout_h)
            hm = hazard_map(
                local,
                hazard_limits(rover, lander),
                sun=resolve_sun(local, when=t_deploy),
                lander=lander_site(lander, run.x, run.y),
                rock_abundance=rock_k,
                progress=lambda f, s="": progress(0.4 + 0.4 * f, s),
            )
        handoff = deploy(run, hm, lander, rover, time=touchdown_time, crs=dem.crs)
        progress(0.85, "handoff.json")
        outputs = {"handoff": handoff.write(stage.path / "handoff.json")}
        outputs["map"] = figures.deploy_figure(
            dem if hm is None else hm.grid,
            handoff,
            lander,
            hm,
            stage.path / "deploy.png",
            title=f"Deployment of {rover.name} from {lander.name}: {label}",
        )
    progress(1.0, "done")
    return JobResult(out_dir, stage.final(outputs), handoff.summary()), handoff
