"""``frigoris ops-sim``: plans made on orbital data, executed on the real terrain, replanned."""

from __future__ import annotations

import pathlib

import click

from ..jobs.ops_sim import ops_sim_job
from .console import print_summary, progress_bar
from .options import json_option, out_dir_option, overwrite_option, quiet_option


@click.command("ops-sim")
@click.argument("mission", type=click.Path(path_type=pathlib.Path))
@out_dir_option(required=True)
@click.option(
    "--runs",
    type=click.IntRange(1, 10000),
    default=20,
    show_default=True,
    help="Simulated missions.",
)
@click.option(
    "--chunk",
    type=click.IntRange(1, 10000),
    default=5,
    show_default=True,
    help="Runs per Dask task (the results depend on the seed and this only).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    help="Seed of the runs (default: the mission's).",
)
@click.option(
    "--scheduler",
    default="processes",
    show_default=True,
    help="processes, threads, synchronous, or a dask.distributed address (tcp://HOST:8786).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Local Dask workers (default: the CPUs).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a mission-file value, e.g. --set site.synthetic.size_m=256.",
)
@overwrite_option
@quiet_option
@json_option
def ops_sim(
    mission, out_dir, runs, chunk, seed, scheduler, workers, overrides, overwrite, quiet, as_json
) -> None:
    """Simulate the mission's operations loop RUNS times: how far an orbital plan holds.

    MISSION is a mission file (or "hakuto-r-m2"). The planner sees the site as an orbital DTM
    (resolution and noise of LROC NAC DTMs); execution happens on the full-resolution site
    with slip and localisation drift; the rover's cameras reveal the true hazards; the ground
    replans. Example: frigoris ops-sim examples/hakuto_r_m2.toml -o ops --runs 20
    """
    with progress_bar("ops-sim", enabled=not quiet) as progress:
        result = ops_sim_job(
            mission,
            out_dir,
            runs=runs,
            chunk=chunk,
            seed=seed,
            scheduler=scheduler,
            workers=workers,
            overrides=overrides,
            overwrite=overwrite,
            progress=progress,
        )
    print_summary(
        f"ops simulation of {mission}", result.summary, as_json=as_json, outputs=result.outputs
    )
