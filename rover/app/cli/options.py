"""Options shared by the commands, defined once: one way to say a position, a time, a number.

- a position is ``xy:X,Y`` (map metres in the DEM's CRS) or ``latlon:LAT,LON`` (degrees, east
  positive), always said explicitly (:class:`~frigoris.rover.app.jobs.inputs.Position`);
- a time is ISO 8601 with a time zone (``2025-06-05T19:17Z``), within the ephemeris' span;
- numbers are finite and inside their stated range;
- ``--overwrite`` is off by default everywhere: a folder holding an earlier run is refused.
"""

from __future__ import annotations

import math
import pathlib
from datetime import datetime, timezone

import click

from ...errors import RoverError
from ..jobs.inputs import Position
from ..mission_file import EPHEMERIS_SPAN

__all__ = [
    "FiniteFloat",
    "PositionType",
    "UtcTime",
    "json_option",
    "lander_spec_option",
    "out_dir_option",
    "overwrite_option",
    "position_option",
    "quiet_option",
    "rover_spec_option",
    "seed_option",
    "time_option",
]

MAX_SEED = 2**63 - 1


class PositionType(click.ParamType):
    """``xy:X,Y`` or ``latlon:LAT,LON``."""

    name = "position"

    def convert(self, value, param, ctx) -> Position:
        """Text to :class:`Position`, or a usage error naming the option."""
        if isinstance(value, Position):
            return value
        try:
            return Position.parse(value, what=param.opts[0] if param and param.opts else "position")
        except RoverError as err:
            self.fail(str(err), param, ctx)

    def get_metavar(self, param, ctx=None) -> str:  # click >= 8.2 passes ctx
        """The form shown in ``--help``."""
        return "xy:X,Y|latlon:LAT,LON"


class UtcTime(click.ParamType):
    """An ISO 8601 time with a time zone, as an aware UTC datetime within the ephemeris' span."""

    name = "time"

    def convert(self, value, param, ctx) -> datetime:
        """Text to an aware UTC datetime, or a usage error naming the option."""
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            self.fail(f"{text!r} is not an ISO 8601 time; write e.g. 2025-06-05T19:17Z", param, ctx)
        if when.tzinfo is None or when.utcoffset() is None:
            self.fail(f"{text!r} has no time zone; add Z for UTC (e.g. {text}Z)", param, ctx)
        when = when.astimezone(timezone.utc)
        lo, hi = EPHEMERIS_SPAN
        if not lo <= when < hi:
            self.fail(
                f"{text} is outside the DE421 ephemeris frigoris ships ({lo.year}-{hi.year - 1}); "
                "give a time in that span",
                param,
                ctx,
            )
        return when


class FiniteFloat(click.ParamType):
    """A finite number within ``[lo, hi]`` (``lo_open``: strictly above ``lo``)."""

    name = "float"

    def __init__(self, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False):
        self.lo, self.hi, self.lo_open = lo, hi, lo_open

    def convert(self, value, param, ctx) -> float:
        """Text to a finite float in range, or a usage error naming the option."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(v):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        below = self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo)
        if below or (self.hi is not None and v > self.hi):
            lo = "" if self.lo is None else ("(" if self.lo_open else "[") + f"{self.lo:g}"
            hi = "" if self.hi is None else f"{self.hi:g}]"
            span = f"{lo or '(-inf'}, {hi or 'inf)'}"
            self.fail(f"{v:g} is outside {span}", param, ctx)
        return v


POSITION = PositionType()
UTC_TIME = UtcTime()


def position_option(*names: str, help: str, **kwargs):
    """A position option (``xy:X,Y`` or ``latlon:LAT,LON``)."""
    return click.option(*names, type=POSITION, help=help, **kwargs)


def time_option(*names: str, help: str, default: str | None = None, **kwargs):
    """A UTC time option (ISO 8601 with a time zone)."""
    return click.option(
        *names,
        type=UTC_TIME,
        default=default,
        show_default=default is not None,
        help=help,
        **kwargs,
    )


overwrite_option = click.option(
    "--overwrite",
    is_flag=True,
    default=False,
    help="Replace an earlier run's files in the output folder (refused without it).",
)
seed_option = click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=0,
    show_default=True,
    help="Random seed (same seed, same outputs).",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bars on stderr.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout.")
rover_spec_option = click.option(
    "--rover",
    "rover_spec",
    default="tenacious",
    show_default=True,
    help="Rover spec: built-in name or a TOML file with a [rover] table.",
)
lander_spec_option = click.option(
    "--lander-spec",
    "lander_spec",
    default="resilience",
    show_default=True,
    help="Lander spec: built-in name or a TOML file with a [lander] table.",
)


def out_dir_option(default: str | None = None, required: bool = False):
    """``-o/--out DIR``: the folder that receives every output file."""
    # click >= 8.2 takes an explicit default=None as a value, which would defeat `required`
    extra = {"default": default, "show_default": True} if default is not None else {}
    return click.option(
        "-o",
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=pathlib.Path),
        required=required,
        help="Output folder (created when missing; written only if the whole job succeeds).",
        **extra,
    )
