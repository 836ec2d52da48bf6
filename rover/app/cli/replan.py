"""``frigoris replan``: a new plan from telemetry and the hazards the rover saw."""

from __future__ import annotations

import pathlib

import click

from ..jobs.replan import replan_job
from .console import print_summary, progress_bar
from .options import json_option, out_dir_option, overwrite_option, quiet_option


@click.command("replan")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option(
    "--telemetry",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    required=True,
    help="CSV or JSON: time_utc, position (xy:X,Y or latlon:LAT,LON), heading_deg, "
    "battery_wh, stops_done, commands_executed.",
)
@click.option(
    "--hazards",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="GeoJSON of hazards the rover saw: Points with diameter_m, or Polygons.",
)
@out_dir_option(required=True)
@overwrite_option
@quiet_option
@json_option
def replan(run_dir, telemetry, hazards, out_dir, overwrite, quiet, as_json) -> None:
    """Plan the rest of the mission from the rover's actual state.

    RUN_DIR is the folder of a `frigoris mission`, `frigoris plan` or `frigoris replan` run.
    Stops done stay done, new hazards are keep-out, the mission's remaining time and the
    reported battery are the budget. Example:
    frigoris replan run6 --telemetry examples/telemetry_day4.csv
    --hazards examples/seen_hazards.geojson -o day4
    """
    with progress_bar("replan", enabled=not quiet) as progress:
        result = replan_job(
            run_dir, telemetry, out_dir, hazards=hazards, overwrite=overwrite, progress=progress
        )
    print_summary(f"replan of {run_dir}", result.summary, as_json=as_json, outputs=result.outputs)
