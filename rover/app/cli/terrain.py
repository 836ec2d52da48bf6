"""``frigoris terrain ...``: synthesise a site, describe a DEM."""

from __future__ import annotations

import pathlib

import click

from frigoris.terrain.synth import SynthParams

from ..jobs.site import dem_info, synth_job
from .console import print_summary, progress_bar
from .options import (
    FiniteFloat,
    json_option,
    out_dir_option,
    overwrite_option,
    position_option,
    quiet_option,
    seed_option,
)

_D = SynthParams()


@click.group()
def terrain() -> None:
    """Terrain utilities: synthetic sites and DEM summaries."""


@terrain.command("synth")
@out_dir_option(required=True)
@click.option(
    "--size-m",
    type=FiniteFloat(0.0, 16384.0, lo_open=True),
    default=_D.size_m,
    show_default=True,
    help="Side of the square site (m).",
)
@click.option(
    "--res-m",
    type=FiniteFloat(0.0, 100.0, lo_open=True),
    default=_D.res_m,
    show_default=True,
    help="Pixel size (m).",
)
@position_option(
    "--center",
    default=f"latlon:{_D.center[0]},{_D.center[1]}",
    show_default=True,
    help="Site centre, latlon:LAT,LON (degrees, east positive).",
)
@click.option(
    "--rock-abundance",
    type=FiniteFloat(0.0, 0.4),
    default=_D.rock_abundance,
    show_default=True,
    help="Golombek k: fraction of area covered by rocks (mare 0.005-0.02).",
)
@click.option(
    "--rock-law",
    type=click.Choice(["viper", "viper-high", "golombek"]),
    default=_D.rock_law,
    show_default=True,
    help="Size-frequency law of drawn rocks.",
)
@click.option(
    "--crater-density",
    type=FiniteFloat(0.0, 10.0),
    default=_D.crater_density,
    show_default=True,
    help="Multiple of the equilibrium crater density.",
)
@click.option(
    "--fresh-fraction",
    type=FiniteFloat(0.0, 1.0),
    default=_D.fresh_fraction,
    show_default=True,
    help="Fraction of craters with fresh (deep, rimmed) profiles.",
)
@seed_option
@overwrite_option
@quiet_option
@json_option
def synth(
    out_dir,
    size_m,
    res_m,
    center,
    rock_abundance,
    rock_law,
    crater_density,
    fresh_fraction,
    seed,
    overwrite,
    quiet,
    as_json,
) -> None:
    """Synthesise a mare site: DEM, rock abundance, truth catalogues, hillshade.

    Example: frigoris terrain synth -o site --size-m 512 --seed 7
    """
    if center.kind != "latlon":
        raise click.BadParameter(
            f"{center.text}: a site centre is a place on the Moon; write latlon:LAT,LON",
            param_hint="--center",
        )
    params = SynthParams(
        size_m=size_m,
        res_m=res_m,
        center=(center.a, center.b),
        seed=seed,
        rock_abundance=rock_abundance,
        rock_law=rock_law,
        crater_density=crater_density,
        fresh_fraction=fresh_fraction,
    )
    params.validate()
    with progress_bar("synth", enabled=not quiet) as progress:
        result = synth_job(params, out_dir, overwrite=overwrite, progress=progress)
    print_summary("synthetic site", result.summary, as_json=as_json, outputs=result.outputs)


@terrain.command("info")
@click.argument("dem", type=click.Path(path_type=pathlib.Path))
@click.option(
    "--crs", default=None, help="CRS to assume when the file has none, e.g. IAU_2015:30100."
)
@json_option
def info(dem: pathlib.Path, crs: str | None, as_json: bool) -> None:
    """Describe a DEM as frigoris reads it: CRS, size, resolution, elevation range, nodata.

    Example: frigoris terrain info examples/data/shoemaker_5mpp_south_pole.tif
    """
    print_summary(f"DEM {dem}", dem_info(dem, crs=crs), as_json=as_json)
