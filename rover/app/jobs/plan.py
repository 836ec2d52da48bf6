"""The job behind ``frigoris plan``: stops and a checked traverse on a hazard map or a DEM."""

from __future__ import annotations

import math
import pathlib
from datetime import datetime, timedelta

from frigoris.terrain import read_dem, read_tags
from frigoris.terrain.hazard import hazard_map

from ...errors import RoverError
from ...planning import command_lattice, plan_on_hazard
from ...progress import ProgressCallback, no_progress
from ...specs import (
    OPERATIONS,
    RESILIENCE,
    TENACIOUS,
    LanderSpec,
    OpsSpec,
    RoverSpec,
    hazard_limits,
    lander_site,
)
from ...touchdown import PLANNED_TOUCHDOWN_UTC
from ..products.hazard_files import load_hazard
from ..products.plan_files import PLAN_FILES, plan_summary, write_plan
from ..results import JobResult
from .inputs import Position, read_targets, resolve_sun
from .output_folder import staged_output

__all__ = ["plan_job"]

MAX_DAYS = 30.0
"""A plan covers at most one lunar day and a half: the rover does not survive the night."""


def plan_job(
    src: pathlib.Path,
    out_dir: pathlib.Path,
    *,
    rover: RoverSpec = TENACIOUS,
    lander_spec: LanderSpec = RESILIENCE,
    start_time: datetime | None = None,
    start: Position | None = None,
    start_soc_wh: float | None = None,
    lander: Position | None = None,
    days: float = 10.0,
    targets: pathlib.Path | None = None,
    seed: int = 0,
    time_limit_s: float = 10.0,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
    ops: OpsSpec | None = OPERATIONS,
    waivers: tuple[tuple[str, str], ...] = (),
) -> JobResult:
    """Plan a traverse on a hazard map (``hazard.tif``) or on a DEM (hazard computed first).

    ``start_time`` defaults to the planned touchdown plus the lander's checkout (the rover is
    lowered only then). ``start`` defaults to the free, linked cell nearest the lander's
    deployment distance; ``start_soc_wh`` to a full battery. ``ops`` is the operations spec
    (command cycle, flight rules); ``waivers`` flight rules waived by name, with a reason. A
    plan made on a ``hazard.tif`` can be replanned (``frigoris replan``).
    """
    if not (math.isfinite(days) and 0.0 < days <= MAX_DAYS):
        raise RoverError(f"--days {days} is outside (0, {MAX_DAYS:g}]; give the mission length")
    if start_soc_wh is not None and not (
        math.isfinite(start_soc_wh) and 0.0 <= start_soc_wh <= rover.battery_wh
    ):
        raise RoverError(
            f"--battery-wh {start_soc_wh} is outside [0, {rover.battery_wh:g}] "
            f"({rover.name}'s battery); give the charge at the start"
        )
    if start_time is None:
        start_time = PLANNED_TOUCHDOWN_UTC + timedelta(hours=lander_spec.checkout_h)
    with staged_output(out_dir, owned=PLAN_FILES, overwrite=overwrite) as stage:
        tags = read_tags(src)
        hazard_path = None
        if tags.get("frigoris_product") == "hazard map":
            hm = load_hazard(src)
            hazard_path = pathlib.Path(src)
            if lander is not None:
                raise RoverError("the hazard map fixes the lander position; drop --lander")
        else:
            dem = read_dem(src)
            if lander is None:
                raise RoverError(
                    f"{src} is a DEM: planning on it needs the lander position; give "
                    "--lander xy:X,Y or latlon:LAT,LON (or plan on a hazard.tif)"
                )
            hm = hazard_map(
                dem,
                hazard_limits(rover, lander_spec),
                sun=resolve_sun(dem, when=start_time),
                lander=lander_site(lander_spec, *lander.on(dem, "--lander")),
                progress=lambda f, s="": progress(0.4 * f, s),
            )
        if hm.lander is None:
            raise RoverError(
                f"{src} was mapped without a lander; rerun `frigoris hazard` with --lander"
            )
        hm, _ = command_lattice(hm, rover)  # a 5 m DEM: 2.5 m moves, each within one command
        start_cell = None
        if start is not None:
            start_cell = hm.grid.rowcol(*start.on(hm.grid, "--start"))
            if hm.keepout[start_cell]:
                raise RoverError(
                    f"--start {start.text} is in keep-out; start the rover on a passable cell"
                )
        tg = read_targets(targets, hm.grid) if targets is not None else None
        result = plan_on_hazard(
            hm,
            rover=rover,
            lander=lander_spec,
            start_time=start_time,
            start_cell=start_cell,
            start_soc_wh=start_soc_wh,
            mission_days=days,
            targets=tg,
            seed=seed,
            time_limit_s=time_limit_s,
            progress=lambda f, s="": progress(0.4 + 0.55 * f, s),
            ops=ops,
            waivers=tuple(waivers),
            start_xy=None if start is None else start.on(hm.grid, "--start"),
        )
        outputs = write_plan(
            result, hm, stage.path, hazard_path=hazard_path, final_dir=pathlib.Path(out_dir)
        )
    progress(1.0, "done")
    return JobResult(out_dir, stage.final(outputs), plan_summary(result))
