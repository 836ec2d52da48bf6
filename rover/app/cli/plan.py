"""``frigoris plan``: choose and order stops, lay out the checked traverse timeline."""

from __future__ import annotations

import pathlib

import click

from ...specs import LanderSpec, OpsSpec, RoverSpec
from ..jobs.plan import MAX_DAYS, plan_job
from .console import print_summary, progress_bar
from .options import (
    FiniteFloat,
    json_option,
    lander_spec_option,
    out_dir_option,
    overwrite_option,
    position_option,
    quiet_option,
    rover_spec_option,
    seed_option,
    time_option,
)


@click.command("plan")
@click.argument("src", type=click.Path(path_type=pathlib.Path))
@out_dir_option(required=True)
@position_option("--lander", default=None, help="Lander position when SRC is a DEM.")
@position_option("--start", default=None, help="Rover start (default: beside the lander).")
@time_option(
    "--time",
    "start_time",
    help="Plan start, UTC (default: the planned touchdown 2025-06-05T19:17Z plus the "
    "lander's checkout).",
)
@click.option(
    "--days",
    type=FiniteFloat(0.0, MAX_DAYS, lo_open=True),
    default=10.0,
    show_default=True,
    help="Mission length (days).",
)
@click.option(
    "--battery-wh",
    type=FiniteFloat(0.0),
    default=None,
    help="Charge at the start, Wh (default full).",
)
@click.option(
    "--targets",
    type=click.Path(path_type=pathlib.Path),
    default=None,
    help="GeoJSON of Point targets with `priority` (>= 1) and `name` properties.",
)
@rover_spec_option
@lander_spec_option
@click.option(
    "--time-limit",
    type=FiniteFloat(0.0, 3600.0, lo_open=True),
    default=10.0,
    show_default=True,
    help="Solver time cap (s); the search also stops at a deterministic work limit.",
)
@click.option(
    "--operations",
    "ops_spec",
    default="hakuto-r-m2",
    show_default=True,
    help="Operations spec (command cycle, flight rules): built-in name or a TOML file with an "
    "[operations] table.",
)
@seed_option
@overwrite_option
@quiet_option
@json_option
def plan(
    src,
    out_dir,
    lander,
    start,
    start_time,
    days,
    battery_wh,
    targets,
    rover_spec,
    lander_spec,
    time_limit,
    ops_spec,
    seed,
    overwrite,
    quiet,
    as_json,
) -> None:
    """Plan sampling and imaging stops and the traverse between them.

    SRC is a hazard.tif from `frigoris hazard` (mapped with --lander) or a DEM (then give
    --lander). Example: frigoris plan hz/hazard.tif -o plan --days 10
    """
    with progress_bar("plan", enabled=not quiet) as progress:
        result = plan_job(
            src,
            out_dir,
            rover=RoverSpec.load(rover_spec),
            lander_spec=LanderSpec.load(lander_spec),
            start_time=start_time,
            start=start,
            start_soc_wh=battery_wh,
            lander=lander,
            days=days,
            targets=targets,
            seed=seed,
            time_limit_s=time_limit,
            overwrite=overwrite,
            progress=progress,
            ops=OpsSpec.load(ops_spec),
        )
    print_summary(
        f"traverse plan on {src}", result.summary, as_json=as_json, outputs=result.outputs
    )
