"""``frigoris terrain ...``: synthesise a site, describe a DEM."""

from __future__ import annotations

import click


@click.group()
def terrain() -> None:
    """Terrain utilities: synthetic sites and DEM summaries."""
