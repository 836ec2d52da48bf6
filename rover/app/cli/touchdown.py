"""``frigoris touchdown``: Monte Carlo touchdowns, outcome table, safety GeoTIFF and map."""

from __future__ import annotations

import pathlib
import time

import click
from rich.table import Table

from ...specs import LanderSpec
from ...touchdown import OUTCOMES, SCENARIOS, TouchdownResult
from ..jobs.landing import touchdown_job
from .console import print_json, print_summary, progress_bar, stdout_console
from .options import (
    json_option,
    lander_spec_option,
    out_dir_option,
    overwrite_option,
    position_option,
    quiet_option,
    seed_option,
)

MAX_RUNS = 100_000

dem_argument = click.argument("dem", required=False, type=click.Path(path_type=pathlib.Path))
target_option = position_option(
    "--target",
    default=None,
    help="Aim point: xy:X,Y (map m) or latlon:LAT,LON. Default: the DEM centre.",
)


def print_outcomes(results: list[TouchdownResult]) -> None:
    """Print a table of outcome shares, one column per scenario, on stdout."""
    table = Table(title="touchdown outcomes (share of runs)", title_justify="left")
    table.add_column("")
    for r in results:
        table.add_column(r.scenario, justify="right")
    rows = [
        ("runs", "runs", "{:d}"),
        *((o, o, "{:.3f}") for o in OUTCOMES),
        ("p success (stands)", "p_success", "{:.3f}"),
        ("p deployable", "p_deployable", "{:.3f}"),
        ("median v vertical (m/s)", "median_v_vertical_m_s", "{:.1f}"),
        ("95th pct v vertical (m/s)", "p95_v_vertical_m_s", "{:.1f}"),
    ]
    summaries = [r.summary() for r in results]
    for label, key, fmt in rows:
        table.add_row(label, *(fmt.format(s[key]) for s in summaries))
    stdout_console.print(table)


@click.command("touchdown")
@dem_argument
@out_dir_option(default="touchdown-out")
@click.option(
    "--runs",
    type=click.IntRange(1, MAX_RUNS),
    default=500,
    show_default=True,
    help="Monte Carlo touchdowns per scenario.",
)
@click.option(
    "--scenario",
    type=click.Choice([*SCENARIOS, "all"]),
    default="all",
    show_default=True,
    help="Descent scenario, or all of them.",
)
@seed_option
@target_option
@lander_spec_option
@click.option(
    "--safety-extent",
    type=click.Choice(["ellipse", "full"]),
    default="ellipse",
    show_default=True,
    help="Safety raster over the 3-sigma dispersion box, or the whole DEM (slower).",
)
@overwrite_option
@quiet_option
@json_option
def touchdown(
    dem,
    out_dir,
    runs,
    scenario,
    seed,
    target,
    lander_spec,
    safety_extent,
    overwrite,
    quiet,
    as_json,
) -> None:
    """Monte Carlo touchdowns: outcome table, safety GeoTIFF, runs GeoJSON and a map.

    Without DEM, the default synthetic Mare Frigoris site is used.

    Example: frigoris touchdown -o td --runs 500
    """
    t0 = time.perf_counter()
    with progress_bar("touchdown", enabled=not quiet) as progress:
        result, results = touchdown_job(
            dem,
            out_dir,
            runs=runs,
            scenarios=list(SCENARIOS) if scenario == "all" else [scenario],
            seed=seed,
            target=target,
            lander=LanderSpec.load(lander_spec),
            safety_extent=safety_extent,
            overwrite=overwrite,
            progress=progress,
        )
    wall = round(time.perf_counter() - t0, 2)
    if as_json:
        print_json(
            {
                **result.summary,
                "scenarios": [r.summary() for r in results],
                "wall_time_s": wall,
                "outputs": {k: str(v) for k, v in result.outputs.items()},
            }
        )
        return
    print_outcomes(results)
    print_summary("touchdown run", {**result.summary, "wall_time_s": wall}, outputs=result.outputs)
