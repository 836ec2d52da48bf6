"""The ``frigoris`` click group: commands load on use, package errors become one line."""

from __future__ import annotations

import errno
import importlib
import logging

import click

__all__ = ["COMMANDS", "FrigorisGroup", "main"]

COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("demo", "demo", "Run the built-in HAKUTO-R Mission 2 on the synthetic site."),
    "mission": ("mission", "mission", "Run a mission file's whole chain into one folder."),
    "terrain": ("terrain", "terrain", "Synthesise a site, describe a DEM."),
    "hazard": ("hazard", "hazard", "Hazard map of a DEM: keep-out, risk, cost, link."),
    "plan": ("plan", "plan", "Stops and a checked traverse timeline on a hazard map."),
    "replan": ("replan", "replan", "A new plan from telemetry and rover-seen hazards."),
    "ops-sim": ("ops_sim", "ops_sim", "Closed-loop operations: orbital plan, execution, replans."),
    "route": ("route", "route", "Least-cost route through waypoints on a hazard map."),
    "sun": ("sun", "sun", "Sun and Earth over the lunar day, panel power, lit fraction."),
    "descent": ("descent", "descent", "Powered descents of one scenario, telemetry, figures."),
    "touchdown": ("touchdown", "touchdown", "Monte Carlo touchdowns of the lander."),
    "deploy": ("deploy", "deploy", "One touchdown, then the rover's deployment handoff."),
    "view": ("view", "view", "Open a run's interactive map (map.html) in the web browser."),
}
"""Command name -> (module in this package, attribute, one-line help for ``frigoris -h``)."""


def _user_errors() -> tuple[type[BaseException], ...]:
    # imported here, not at the top: `frigoris -h` must not load rasterio and the kernels
    import rasterio.errors

    from frigoris.planners.errors import PlanningError
    from frigoris.terrain.errors import TerrainError

    from ...errors import RoverError

    return (TerrainError, PlanningError, RoverError, rasterio.errors.RasterioError)


_DISK_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded"}


class FrigorisGroup(click.Group):
    """Loads a command's module only when it runs; maps package errors to one line, exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Names of the commands, the table's first."""
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """The command ``name``, importing its module now."""
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"{__package__}.{module}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands from the table above, without importing them."""
        rows = [(name, text) for name, (_, _, text) in COMMANDS.items()]
        rows += [(n, c.get_short_help_str()) for n, c in self.commands.items() if n not in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        """Run the command; a package error or a full disk becomes one line and exit code 1."""
        try:
            return super().invoke(ctx)
        except OSError as err:
            if err.errno in _DISK_ERRNOS:
                where = f" writing {err.filename}" if err.filename else ""
                raise click.ClickException(
                    f"{_DISK_ERRNOS[err.errno]}{where}; free some space or choose another "
                    "output folder (nothing of this run was kept)"
                ) from None
            if isinstance(err, _user_errors()):
                raise click.ClickException(_first_line(err)) from None
            raise
        except MemoryError:
            raise click.ClickException(
                "not enough memory for this input; process a large DEM in tiles (frigoris "
                "hazard --tile 2048) or read a window of it"
            ) from None
        except Exception as err:
            if isinstance(err, _user_errors()):
                raise click.ClickException(_first_line(err)) from None
            raise


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


@click.group(cls=FrigorisGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="frigoris")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Frigoris: hazard maps, traverse plans and lander-to-rover handoff for small lunar rovers."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
