"""The ``frigoris`` command line: a click group; every command lives in ``rover/commands/``."""

from __future__ import annotations

import logging

import click
import rasterio.errors

from frigoris.planners.errors import PlanningError
from frigoris.terrain.errors import TerrainError

from .commands import (
    demo,
    hazard_cmd,
    mission_cmd,
    plan_cmd,
    route_cmd,
    sun,
    terrain_cmd,
    touchdown_cmd,
)
from .errors import RoverError

USER_ERRORS = (TerrainError, PlanningError, RoverError, rasterio.errors.RasterioError)


class FrigorisGroup(click.Group):
    """Maps package errors to one line on stderr and exit code 1 (no traceback)."""

    def invoke(self, ctx: click.Context):
        """Run the command; a package error becomes one line and exit code 1."""
        try:
            return super().invoke(ctx)
        except USER_ERRORS as err:
            message = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise click.ClickException(message) from err


@click.group(cls=FrigorisGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="frigoris")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Frigoris: hazard maps, traverse plans and lander-to-rover handoff for small lunar rovers."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


main.add_command(demo.demo)
main.add_command(mission_cmd.mission)
main.add_command(terrain_cmd.terrain)
main.add_command(hazard_cmd.hazard)
main.add_command(plan_cmd.plan)
main.add_command(route_cmd.route)
main.add_command(sun.sun)
main.add_command(touchdown_cmd.touchdown)
main.add_command(touchdown_cmd.deploy_cmd)
