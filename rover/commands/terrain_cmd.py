"""``frigoris terrain ...``: synthesise a site, describe a DEM."""

from __future__ import annotations

import pathlib

import click

from frigoris.terrain.synth import SynthParams

from ..pipeline import dem_info, synth_job
from ..progress import progress_bar
from .options import json_option, out_dir_option, parse_pair, quiet_option, seed_option
from .report import print_summary

_D = SynthParams()


@click.group()
def terrain() -> None:
    """Terrain utilities: synthetic sites and DEM summaries."""


@terrain.command("synth")
@out_dir_option(required=True)
@click.option(
    "--size-m",
    type=float,
    default=_D.size_m,
    show_default=True,
    help="Side of the square site (m).",
)
@click.option("--res-m", type=float, default=_D.res_m, show_default=True, help="Pixel size (m).")
@click.option(
    "--center",
    default=f"{_D.center[0]},{_D.center[1]}",
    show_default=True,
    help="Site centre LAT,LON (degrees, east positive).",
)
@click.option(
    "--rock-abundance",
    type=float,
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
    type=float,
    default=_D.crater_density,
    show_default=True,
    help="Multiple of the equilibrium crater density.",
)
@click.option(
    "--fresh-fraction",
    type=float,
    default=_D.fresh_fraction,
    show_default=True,
    help="Fraction of craters with fresh (deep, rimmed) profiles.",
)
@seed_option
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
    quiet,
    as_json,
) -> None:
    """Synthesise a mare site: DEM, rock abundance, truth catalogues, hillshade.

    Example: frigoris terrain synth -o site --size-m 512 --seed 7
    """
    params = SynthParams(
        size_m=size_m,
        res_m=res_m,
        center=parse_pair(center, "--center"),
        seed=seed,
        rock_abundance=rock_abundance,
        rock_law=rock_law,
        crater_density=crater_density,
        fresh_fraction=fresh_fraction,
    )
    params.validate()
    with progress_bar("synth", enabled=not quiet) as progress:
        result = synth_job(params, out_dir, progress=progress)
    print_summary("synthetic site", result.summary, as_json=as_json, outputs=result.outputs)


@terrain.command("info")
@click.argument("dem", type=click.Path(path_type=pathlib.Path))
@click.option(
    "--crs", default=None, help="CRS to assume when the file has none, e.g. IAU_2015:30100."
)
@json_option
def info(dem: pathlib.Path, crs: str | None, as_json: bool) -> None:
    """Describe a DEM as frigoris reads it: CRS, size, resolution, elevation range, nodata.

    Example: frigoris terrain info demo-out/dem.tif
    """
    print_summary(f"DEM {dem}", dem_info(dem, crs=crs), as_json=as_json)
