"""``frigoris demo``: the built-in HAKUTO-R Mission 2 file, the chain on the synthetic site."""

from __future__ import annotations

import pathlib
import time

import click

from ..jobs.mission import demo_mission_job
from .console import print_summary, progress_bar
from .options import json_option, out_dir_option, overwrite_option, quiet_option, seed_option


@click.command()
@out_dir_option(default="demo-out")
@seed_option
@overwrite_option
@quiet_option
@json_option
def demo(out_dir: pathlib.Path, seed: int, overwrite: bool, quiet: bool, as_json: bool) -> None:
    """Run the built-in HAKUTO-R Mission 2 file on the synthetic site (60.5 N, 4.6 W).

    Site, touchdown Monte Carlo, hazard map, deployment, ten-day plan, GeoPackage and report.

    Example: frigoris demo --out demo-out
    """
    t0 = time.perf_counter()
    with progress_bar("demo", enabled=not quiet) as progress:
        result = demo_mission_job(out_dir, seed=seed, overwrite=overwrite, progress=progress)
    summary = {**result.summary, "wall_time_s": round(time.perf_counter() - t0, 2)}
    print_summary(
        "frigoris demo: synthetic Mare Frigoris site",
        summary,
        as_json=as_json,
        outputs=result.outputs,
    )
