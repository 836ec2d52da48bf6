"""``frigoris view``: open a run's ``map.html`` in the default web browser."""

from __future__ import annotations

import pathlib
import webbrowser

import click

from ..products.webmap import find_map
from .console import stderr_console


@click.command("view")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(path_type=pathlib.Path))
@click.option(
    "--print-path",
    "print_only",
    is_flag=True,
    help="Only print the map's file:// URL (for a browser on another machine or a script).",
)
def view(run_dir: pathlib.Path, print_only: bool) -> None:
    """Open the interactive map of a run folder (RUN_DIR/map.html) in the default browser.

    The page works offline from the folder. Without a browser (a server, an SSH session) the
    map's file:// URL is printed instead; copy the folder to open it elsewhere.

    Example: frigoris view demo-out
    """
    url = find_map(run_dir).as_uri()
    if not print_only:
        try:
            opened = webbrowser.open(url)
        except webbrowser.Error:
            opened = False
        if opened:
            stderr_console.print(f"opened {url}")
            return
        stderr_console.print("no web browser found; open this URL in one:")
    click.echo(url)
