"""``frigoris plan``: choose and order stops, lay out the checked traverse timeline."""

from __future__ import annotations

import pathlib

import click

from ..pipeline import TOUCHDOWN_TIME, plan_job
from ..progress import progress_bar
from ..specs import LanderSpec, RoverSpec
from .hazard_cmd import _parse_time
from .options import (
    json_option,
    lander_spec_option,
    out_dir_option,
    parse_pair,
    quiet_option,
    rover_spec_option,
    seed_option,
)
from .report import print_summary


@click.command("plan")
@click.argument("src", type=click.Path(path_type=pathlib.Path))
@out_dir_option(required=True)
@click.option("--lander", default=None, help="Lander X,Y in map metres (when SRC is a DEM).")
@click.option("--start", default=None, help="Rover start X,Y (default: beside the lander).")
@click.option(
    "--time",
    "time_utc",
    default=None,
    help="Plan start, UTC (default: the planned touchdown 2025-06-05T19:17Z).",
)
@click.option("--days", type=float, default=10.0, show_default=True, help="Mission length.")
@click.option("--battery-wh", type=float, default=None, help="Charge at the start (default full).")
@click.option(
    "--targets",
    type=click.Path(path_type=pathlib.Path),
    default=None,
    help="GeoJSON of Point targets with `priority` and `name` properties.",
)
@rover_spec_option
@lander_spec_option
@click.option(
    "--time-limit",
    type=float,
    default=10.0,
    show_default=True,
    help="Solver time cap (s); the search also stops at a deterministic work limit.",
)
@seed_option
@quiet_option
@json_option
def plan(
    src,
    out_dir,
    lander,
    start,
    time_utc,
    days,
    battery_wh,
    targets,
    rover_spec,
    lander_spec,
    time_limit,
    seed,
    quiet,
    as_json,
) -> None:
    """Plan sampling and imaging stops and the traverse between them.

    SRC is a hazard.tif from `frigoris hazard` (with --lander) or a DEM.
    Example: frigoris plan hz/hazard.tif -o plan --days 10
    """
    if days <= 0:
        raise click.BadParameter(f"--days must be > 0, got {days}")
    with progress_bar("plan", enabled=not quiet) as progress:
        result = plan_job(
            src,
            out_dir,
            rover=RoverSpec.load(rover_spec),
            lander_spec=LanderSpec.load(lander_spec),
            start_time=_parse_time(time_utc) or TOUCHDOWN_TIME,
            start_xy=None if start is None else parse_pair(start, "--start"),
            start_soc_wh=battery_wh,
            lander_xy=None if lander is None else parse_pair(lander, "--lander"),
            days=days,
            targets=targets,
            seed=seed,
            time_limit_s=time_limit,
            progress=progress,
        )
    print_summary(
        f"traverse plan on {src}", result.summary, as_json=as_json, outputs=result.outputs
    )
