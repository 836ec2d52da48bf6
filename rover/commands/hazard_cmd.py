"""``frigoris hazard``: the hazard map of a DEM (layers GeoTIFF, craters/rocks GeoJSON, map PNG)."""

from __future__ import annotations

import pathlib
from datetime import datetime

import click

from frigoris.terrain import read_dem
from frigoris.terrain.crs import lunar_to_crs
from frigoris.terrain.tiled import TILE_ALIGN, open_source

from ..pipeline import hazard_job
from ..progress import progress_bar
from ..specs import LanderSpec, RoverSpec
from .options import (
    json_option,
    lander_spec_option,
    out_dir_option,
    parse_pair,
    quiet_option,
    rover_spec_option,
)
from .report import print_summary


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"--time must be ISO 8601 like 2025-06-05T19:17Z, got {text!r}"
        ) from None
    if when.tzinfo is None:
        raise click.BadParameter(f"--time {text!r} has no time zone; add Z for UTC")
    return when


def _lander_position(
    text: str, dem_path: pathlib.Path, *, tiled: bool = False
) -> tuple[str, tuple[float, float]]:
    """LAT,LON when that position lies on the DEM, otherwise X,Y in the DEM's map metres."""
    a, b = parse_pair(text, "--lander")
    if -90 <= a <= 90:
        # a tiled DEM may not fit in memory: its grid alone answers
        dem = open_source(dem_path)[1] if tiled else read_dem(dem_path)
        x, y = lunar_to_crs(dem.crs, a, b)
        if dem.contains(x, y):
            return "latlon", (a, b)
    return "xy", (a, b)


@click.command("hazard")
@click.argument("dem", type=click.Path(path_type=pathlib.Path))
@out_dir_option(required=True)
@click.option("--sun-az", type=float, default=None, help="Sun azimuth, degrees from grid north.")
@click.option("--sun-el", type=float, default=None, help="Sun elevation, degrees.")
@click.option(
    "--time",
    "time_utc",
    default=None,
    help="UTC time for the Sun from the ephemeris, e.g. 2025-06-05T19:17Z.",
)
@click.option(
    "--lander",
    default=None,
    help="Lander position: LAT,LON (degrees) if that lies on the DEM, else X,Y (map m).",
)
@rover_spec_option
@lander_spec_option
@click.option(
    "--rock-abundance",
    default="0.01",
    show_default=True,
    help="Golombek k for unresolved rocks, or a raster of k on the DEM grid.",
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
@quiet_option
@json_option
def hazard(
    dem,
    out_dir,
    sun_az,
    sun_el,
    time_utc,
    lander,
    rover_spec,
    lander_spec,
    rock_abundance,
    tile,
    scheduler,
    quiet,
    as_json,
) -> None:
    """Hazard map of a DEM: slope, roughness, steps, craters, rocks, shadow, line of sight.

    Example: frigoris hazard demo-out/dem.tif -o hz --time 2025-06-05T19:17Z --lander 0,0
    """
    if (sun_az is None) != (sun_el is None):
        raise click.BadParameter("give --sun-az and --sun-el together")
    if sun_az is not None and time_utc is not None:
        raise click.BadParameter("give either --sun-az/--sun-el or --time, not both")
    if scheduler is not None and tile is None:
        raise click.BadParameter("--scheduler runs tiles: give --tile too (e.g. --tile 2048)")
    when = _parse_time(time_utc)
    try:
        k: float | pathlib.Path = float(rock_abundance)
    except ValueError:
        k = pathlib.Path(rock_abundance)
    kwargs = {}
    if lander is not None:
        kind, pos = _lander_position(lander, dem, tiled=tile is not None)
        kwargs["lander_latlon" if kind == "latlon" else "lander_xy"] = pos
    with progress_bar("hazard", enabled=not quiet) as progress:
        result = hazard_job(
            dem,
            out_dir,
            rover=RoverSpec.load(rover_spec),
            lander_spec=LanderSpec.load(lander_spec),
            sun_az_el=None if sun_az is None else (sun_az, sun_el),
            when=when,
            rock_abundance=k,
            tile=tile,
            scheduler=scheduler,
            progress=progress,
            **kwargs,
        )
    print_summary(f"hazard map of {dem}", result.summary, as_json=as_json, outputs=result.outputs)
