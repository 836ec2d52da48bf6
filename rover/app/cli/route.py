"""``frigoris route``: the least-cost route through waypoints on a hazard map."""

from __future__ import annotations

import pathlib

import click

from ..jobs.route import route_job
from .console import print_summary, progress_bar
from .options import (
    FiniteFloat,
    json_option,
    out_dir_option,
    overwrite_option,
    position_option,
    quiet_option,
)


@click.command("route")
@click.argument("src", type=click.Path(path_type=pathlib.Path))
@out_dir_option(required=True)
@position_option(
    "--via",
    multiple=True,
    help="Waypoint, xy:X,Y (map metres) or latlon:LAT,LON, in visiting order; give it two or "
    "more times.",
)
@click.option(
    "--smooth/--no-smooth",
    default=True,
    show_default=True,
    help="Replace runs of cells by straight segments (never entering keep-out, never costing "
    "more); waypoints stay vertices.",
)
@click.option(
    "--uphill-per-m",
    type=FiniteFloat(0.0),
    default=0.0,
    show_default=True,
    help="Cost per metre climbed, in the cost band's units (a metre driven on hazard-free "
    "ground costs 1): lifting the rover one metre, potential energy plus drive losses. "
    "Makes costs depend on direction.",
)
@click.option(
    "--downhill-per-m",
    type=FiniteFloat(0.0),
    default=0.0,
    show_default=True,
    help="Cost per metre descended (braking), in the same units.",
)
@click.option(
    "--matrix",
    is_flag=True,
    help="Also solve the N x N travel matrix between the waypoints (one Dijkstra per waypoint) "
    "and write travel_matrix.csv; the legs come from it.",
)
@overwrite_option
@quiet_option
@json_option
def route(
    src, out_dir, via, smooth, uphill_per_m, downhill_per_m, matrix, overwrite, quiet, as_json
) -> None:
    """Least-cost route on a hazard map through the --via waypoints, in order.

    SRC is a hazard.tif from `frigoris hazard`. Writes route.geojson (route, legs, waypoints in
    the map's CRS), legs.csv, route.png and, with --matrix, travel_matrix.csv.

    Example: frigoris route hz/hazard.tif -o rt --via xy:10,-20 --via xy:150,40
    """
    with progress_bar("route", enabled=not quiet) as progress:
        result = route_job(
            src,
            out_dir,
            list(via),
            smooth=smooth,
            uphill_per_m=uphill_per_m,
            downhill_per_m=downhill_per_m,
            matrix=matrix,
            overwrite=overwrite,
            progress=progress,
        )
    print_summary(f"route on {src}", result.summary, as_json=as_json, outputs=result.outputs)
