"""``frigoris hazard``: the hazard map of a DEM (layers GeoTIFF, craters/rocks GeoJSON, map)."""

from __future__ import annotations

import pathlib

import click

from frigoris.terrain.tiled import TILE_ALIGN

from ...specs import LanderSpec, RoverSpec
from ..jobs.hazard import hazard_job
from .console import print_summary, progress_bar
from .options import (
    FiniteFloat,
    json_option,
    lander_spec_option,
    out_dir_option,
    overwrite_option,
    position_option,
    quiet_option,
    rover_spec_option,
    time_option,
)


@click.command("hazard")
@click.argument("dem", type=click.Path(path_type=pathlib.Path))
@out_dir_option(required=True)
@click.option(
    "--sun-az",
    type=FiniteFloat(-360.0, 360.0),
    default=None,
    help="Sun azimuth, degrees from grid north.",
)
@click.option(
    "--sun-el", type=FiniteFloat(-90.0, 90.0), default=None, help="Sun elevation, degrees."
)
@time_option(
    "--time", "when", help="UTC time for the Sun from the ephemeris, e.g. 2025-06-05T19:17Z."
)
@position_option(
    "--lander", default=None, help="Lander position: xy:X,Y (map m) or latlon:LAT,LON."
)
@rover_spec_option
@lander_spec_option
@click.option(
    "--rock-abundance",
    default="0.01",
    show_default=True,
    help="Golombek k for unresolved rocks (0 to 0.4), or a raster of k on the DEM grid.",
)
@click.option(
    "--tile",
    type=click.IntRange(min=TILE_ALIGN),
    default=None,
    help=f"Process the DEM in tiles of this many pixels (a multiple of {TILE_ALIGN}, e.g. 2048) "
    "on Dask, for DEMs larger than memory. Default: the whole DEM in memory.",
)
@click.option(
    "--scheduler",
    default=None,
    help="With --tile: a dask.distributed scheduler address (tcp://host:8786). "
    "Default: local threads.",
)
@overwrite_option
@quiet_option
@json_option
def hazard(
    dem,
    out_dir,
    sun_az,
    sun_el,
    when,
    lander,
    rover_spec,
    lander_spec,
    rock_abundance,
    tile,
    scheduler,
    overwrite,
    quiet,
    as_json,
) -> None:
    """Hazard map of a DEM: keep-out with reasons, risk, cost, shadow, link margin to the lander.

    Example: frigoris hazard demo-out/dem.tif -o hz --time 2025-06-05T19:17Z --lander xy:0,0
    """
    if (sun_az is None) != (sun_el is None):
        raise click.UsageError("give --sun-az and --sun-el together")
    if sun_az is not None and when is not None:
        raise click.UsageError("give either --sun-az/--sun-el or --time, not both")
    if scheduler is not None and tile is None:
        raise click.UsageError("--scheduler runs tiles: give --tile too (e.g. --tile 2048)")
    try:
        k: float | pathlib.Path = float(rock_abundance)
    except ValueError:
        k = pathlib.Path(rock_abundance)
    with progress_bar("hazard", enabled=not quiet) as progress:
        result = hazard_job(
            dem,
            out_dir,
            rover=RoverSpec.load(rover_spec),
            lander_spec=LanderSpec.load(lander_spec),
            sun_az_el=None if sun_az is None else (sun_az, sun_el),
            when=when,
            lander=lander,
            rock_abundance=k,
            tile=tile,
            scheduler=scheduler,
            overwrite=overwrite,
            progress=progress,
        )
    print_summary(f"hazard map of {dem}", result.summary, as_json=as_json, outputs=result.outputs)
