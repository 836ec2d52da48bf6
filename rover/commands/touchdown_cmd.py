"""``frigoris touchdown`` and ``frigoris deploy``: where the lander came down, and the handoff.

The jobs live in :mod:`rover.landing`; these commands only parse options, call one job and
report.

Exit codes of ``frigoris deploy``: 0 when the rover was deployed, 3 when there is no handoff
(crash, tip-over, lander too tilted, every side blocked, no way out of the plume zone). That
is a result, not an error: ``handoff.json`` is written with ``deployed: false`` and the
reasons, and the reasons are printed. 1 is a user error (bad file, target off the DEM), as for
every command.
"""

from __future__ import annotations

import json
import pathlib
import time

import click

from ..landing import deploy_job, touchdown_job
from ..progress import progress_bar, stderr_console
from ..specs import LanderSpec, RoverSpec
from ..touchdown import OUTCOMES, SCENARIOS, TouchdownResult
from .options import (
    json_option,
    lander_spec_option,
    out_dir_option,
    parse_pair,
    quiet_option,
    rover_spec_option,
    seed_option,
)
from .report import print_summary, stdout_console

NO_HANDOFF_EXIT = 3
"""Exit code of ``frigoris deploy`` when the rover could not be deployed (a result)."""


def _scenarios(choice: str) -> list[str]:
    return list(SCENARIOS) if choice == "both" else [choice]


# --------------------------------------------------------------------------------------------
# commands

dem_argument = click.argument("dem", required=False, type=click.Path(path_type=pathlib.Path))
target_option = click.option(
    "--target",
    default=None,
    help="Aim point LAT,LON (degrees, east positive). Default: DEM centre.",
)
target_xy_option = click.option(
    "--target-xy", default=None, help="Aim point X,Y in the DEM's map metres."
)


def _pairs(target, target_xy):
    return (
        parse_pair(target, "--target") if target else None,
        parse_pair(target_xy, "--target-xy") if target_xy else None,
    )


def print_outcomes(results: list[TouchdownResult]) -> None:
    """Print a table of outcome shares, one column per scenario, on stdout."""
    from rich.table import Table

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
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Monte Carlo touchdowns per scenario.",
)
@click.option(
    "--scenario",
    type=click.Choice([*SCENARIOS, "both"]),
    default="both",
    show_default=True,
    help="Descent: nominal, late-altimeter (the Mission 2 fault) or both.",
)
@seed_option
@target_option
@target_xy_option
@lander_spec_option
@click.option(
    "--safety-extent",
    type=click.Choice(["ellipse", "full"]),
    default="ellipse",
    show_default=True,
    help="Safety raster over the 3-sigma dispersion box, or the whole DEM (slower).",
)
@quiet_option
@json_option
def touchdown(
    dem,
    out_dir,
    runs,
    scenario,
    seed,
    target,
    target_xy,
    lander_spec,
    safety_extent,
    quiet,
    as_json,
) -> None:
    """Monte Carlo touchdowns: outcome table, safety GeoTIFF, runs GeoJSON and a map.

    Without DEM, the default synthetic Mare Frigoris site is used.

    Example: frigoris touchdown -o td --runs 500 --scenario both
    """
    latlon, xy = _pairs(target, target_xy)
    lander = LanderSpec.load(lander_spec)
    t0 = time.perf_counter()
    with progress_bar("touchdown", enabled=not quiet) as progress:
        result, results = touchdown_job(
            dem,
            out_dir,
            runs=runs,
            scenarios=_scenarios(scenario),
            seed=seed,
            target_latlon=latlon,
            target_xy=xy,
            lander=lander,
            safety_extent=safety_extent,
            progress=progress,
        )
    if as_json:
        doc = {
            **result.summary,
            "scenarios": [r.summary() for r in results],
            "wall_time_s": round(time.perf_counter() - t0, 2),
            "outputs": {k: str(v) for k, v in result.outputs.items()},
        }
        print(json.dumps(doc, indent=2))
        return
    print_outcomes(results)
    print_summary(
        "touchdown run",
        {**result.summary, "wall_time_s": round(time.perf_counter() - t0, 2)},
        outputs=result.outputs,
    )


@click.command("deploy")
@dem_argument
@out_dir_option(default="deploy-out")
@seed_option
@click.option(
    "--scenario",
    type=click.Choice(list(SCENARIOS)),
    default="nominal",
    show_default=True,
    help="Descent scenario of the simulated touchdown.",
)
@click.option(
    "--at",
    "at_xy",
    default=None,
    help="Put the lander at X,Y (map metres) instead of simulating the touchdown.",
)
@click.option(
    "--yaw",
    "yaw_deg",
    type=float,
    default=0.0,
    show_default=True,
    help="Lander yaw with --at, degrees clockwise from grid north.",
)
@target_option
@target_xy_option
@lander_spec_option
@rover_spec_option
@quiet_option
@json_option
@click.pass_context
def deploy_cmd(
    ctx,
    dem,
    out_dir,
    seed,
    scenario,
    at_xy,
    yaw_deg,
    target,
    target_xy,
    lander_spec,
    rover_spec,
    quiet,
    as_json,
) -> None:
    """One touchdown, then lower the rover: handoff.json (the planner's start) and deploy.png.

    Exits 3 when there is no handoff (crash, tilt, every side blocked, no egress): the JSON
    then says deployed=false and why.

    Example: frigoris deploy -o dep --seed 1
    """
    latlon, xy = _pairs(target, target_xy)
    at = parse_pair(at_xy, "--at") if at_xy else None
    lander, rover = LanderSpec.load(lander_spec), RoverSpec.load(rover_spec)
    with progress_bar("deploy", enabled=not quiet) as progress:
        result, handoff = deploy_job(
            dem,
            out_dir,
            seed=seed,
            scenario=scenario,
            at_xy=at,
            yaw_deg=yaw_deg,
            target_latlon=latlon,
            target_xy=xy,
            lander=lander,
            rover=rover,
            progress=progress,
        )
    title = "handoff: rover deployed" if handoff.deployed else "NO HANDOFF"
    print_summary(title, result.summary, as_json=as_json, outputs=result.outputs)
    if not handoff.deployed:
        stderr_console.print(f"no handoff: {'; '.join(handoff.reasons)}")
        ctx.exit(NO_HANDOFF_EXIT)
