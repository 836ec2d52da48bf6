"""``frigoris descent``: Monte Carlo descents of one scenario, one run's telemetry, figures."""

from __future__ import annotations

import time

import click

from ...descent import SCENARIO_NAMES
from ...specs import LanderSpec
from ..jobs.descent import descent_job
from .console import print_json, print_summary, progress_bar
from .options import (
    json_option,
    lander_spec_option,
    out_dir_option,
    overwrite_option,
    quiet_option,
    seed_option,
)

MAX_RUNS = 1_000_000


@click.command("descent")
@out_dir_option(default="descent-out")
@click.option(
    "--scenario",
    type=click.Choice(list(SCENARIO_NAMES)),
    default="nominal",
    show_default=True,
    help="nominal, mission-2 (degraded range finder) or mission-1 (rejection gate over a rim).",
)
@click.option(
    "--runs",
    type=click.IntRange(1, MAX_RUNS),
    default=1000,
    show_default=True,
    help="Monte Carlo descents.",
)
@seed_option
@click.option(
    "--telemetry-run",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Which run to fly again with its telemetry table and profile figure.",
)
@click.option(
    "--chunk",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Runs per seeded task (the records depend on --seed and --chunk only).",
)
@click.option(
    "--scheduler",
    default=None,
    help="A dask.distributed scheduler address (tcp://host:8786). Default: local threads.",
)
@lander_spec_option
@overwrite_option
@quiet_option
@json_option
def descent(
    out_dir,
    scenario,
    runs,
    seed,
    telemetry_run,
    chunk,
    scheduler,
    lander_spec,
    overwrite,
    quiet,
    as_json,
) -> None:
    """Monte Carlo descents: outcomes, every run (CSV), one run's telemetry, figures.

    Example: frigoris descent --scenario mission-2 --runs 1000 -o m2
    """
    t0 = time.perf_counter()
    with progress_bar("descent", enabled=not quiet) as progress:
        result, batch = descent_job(
            out_dir,
            scenario_name=scenario,
            runs=runs,
            seed=seed,
            chunk=chunk,
            scheduler=scheduler,
            telemetry_run=telemetry_run,
            lander=LanderSpec.load(lander_spec),
            overwrite=overwrite,
            progress=progress,
        )
    wall = round(time.perf_counter() - t0, 2)
    if as_json:
        print_json(
            {
                **batch.summary(),
                "wall_time_s": wall,
                "outputs": {k: str(v) for k, v in result.outputs.items()},
            }
        )
        return
    print_summary("descent run", {**result.summary, "wall_time_s": wall}, outputs=result.outputs)
