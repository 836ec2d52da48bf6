"""``frigoris demo``: the whole chain on the built-in synthetic Mare Frigoris site."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Run the chain on the built-in synthetic Mare Frigoris site."""
    raise click.ClickException("not yet available")
