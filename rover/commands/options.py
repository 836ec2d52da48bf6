"""Options shared by several commands, defined once."""

from __future__ import annotations

import pathlib

import click

overwrite_option = click.option(
    "--overwrite/--no-overwrite",
    default=True,
    show_default=True,
    help="Replace existing output files.",
)
seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same outputs)."
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
    return click.option(
        "-o",
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=pathlib.Path),
        default=default,
        required=required,
        show_default=default is not None,
        help="Output folder (created when missing).",
    )


def parse_pair(text: str, what: str) -> tuple[float, float]:
    """Parse ``"A,B"`` into two floats, or fail with a one-line message naming the value."""
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(
            f"{what} must be two numbers like 60.5,-4.6, got {text!r}"
        ) from None
    return a, b
