"""``frigoris deploy``: one touchdown, then lower the rover: ``handoff.json`` and ``deploy.png``.

Exit codes: 0 when the rover was deployed, 3 when there is no handoff (crash, tip-over, lander
too tilted, every side blocked, no way out of the plume zone). That is a result, not an error:
``handoff.json`` is written with ``deployed: false`` and the reasons, which are printed. 1 is a
user error (bad file, target off the DEM), as for every command.
"""

from __future__ import annotations

import click

from ...specs import LanderSpec, RoverSpec
from ...touchdown import SCENARIOS
from ..jobs.landing import deploy_job
from .console import print_summary, progress_bar, stderr_console
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
)
from .touchdown import dem_argument, target_option

NO_HANDOFF_EXIT = 3
"""Exit code of ``frigoris deploy`` when the rover could not be deployed (a result)."""


@click.command("deploy")
@dem_argument
@out_dir_option(default="deploy-out")
@seed_option
@click.option(
    "--run",
    "run",
    type=click.IntRange(0, 9999),
    default=0,
    show_default=True,
    help="Which run of the seeded touchdown Monte Carlo to follow (the demo follows run 2 of "
    "seed 0: --seed 0 --run 2 gives its lander).",
)
@click.option(
    "--scenario",
    type=click.Choice(list(SCENARIOS)),
    default="nominal",
    show_default=True,
    help="Descent scenario of the simulated touchdown.",
)
@position_option(
    "--at",
    default=None,
    help="Put the lander here (xy:X,Y or latlon:LAT,LON) instead of simulating the touchdown.",
)
@click.option(
    "--yaw",
    "yaw_deg",
    type=FiniteFloat(-360.0, 360.0),
    default=0.0,
    show_default=True,
    help="Lander yaw with --at, degrees clockwise from grid north.",
)
@target_option
@lander_spec_option
@rover_spec_option
@overwrite_option
@quiet_option
@json_option
@click.pass_context
def deploy(
    ctx,
    dem,
    out_dir,
    seed,
    run,
    scenario,
    at,
    yaw_deg,
    target,
    lander_spec,
    rover_spec,
    overwrite,
    quiet,
    as_json,
) -> None:
    """One touchdown, then lower the rover: handoff.json (the planner's start) and deploy.png.

    Exits 3 when there is no handoff (crash, tilt, every side blocked, no egress): the JSON
    then says deployed=false and why.

    Example: frigoris deploy -o dep --seed 0 --run 2 (the demo's touchdown)
    """
    with progress_bar("deploy", enabled=not quiet) as progress:
        result, handoff = deploy_job(
            dem,
            out_dir,
            seed=seed,
            run=run,
            scenario=scenario,
            at=at,
            yaw_deg=yaw_deg,
            target=target,
            lander=LanderSpec.load(lander_spec),
            rover=RoverSpec.load(rover_spec),
            overwrite=overwrite,
            progress=progress,
        )
    title = "handoff: rover deployed" if handoff.deployed else "NO HANDOFF"
    print_summary(title, result.summary, as_json=as_json, outputs=result.outputs)
    if not handoff.deployed:
        stderr_console.print(f"no handoff: {'; '.join(handoff.reasons)}")
        ctx.exit(NO_HANDOFF_EXIT)
