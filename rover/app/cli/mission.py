"""``frigoris mission``: run a whole mission from one TOML file into one folder."""

from __future__ import annotations

import pathlib
import time

import click

from ..jobs.mission import check_mission, run_mission
from ..mission_file import load_mission
from .console import print_json, print_summary, progress_bar, stderr_console
from .options import json_option, out_dir_option, overwrite_option, quiet_option


@click.command("mission")
@click.argument("mission_file", metavar="MISSION")
@out_dir_option(default=None)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a mission-file value, e.g. --set site.synthetic.size_m=256 "
    "--set touchdown.runs=50 (repeatable; VALUE in TOML syntax).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Only read and check the mission file (and its DEM); print its resolved parameters.",
)
@overwrite_option
@quiet_option
@json_option
def mission(
    mission_file: str,
    out_dir: pathlib.Path | None,
    overrides: tuple[str, ...],
    check: bool,
    overwrite: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run the whole chain described by a MISSION file and write everything into one folder.

    MISSION is a TOML mission file (see examples/*.toml) or the built-in name hakuto-r-m2.
    The folder receives the GeoTIFFs, GeoJSON, mission.gpkg (every vector layer, QGIS
    styles), report.html and manifest.json (inputs and outputs with SHA-256, parameters,
    version, seed). A step that cannot happen (crash, no deployment, a DEM too coarse for the
    lander) ends the chain with its reason; that is a result, exit code 0.

    Example: frigoris mission examples/hakuto_r_m2.toml -o m2-out
    """
    spec = load_mission(mission_file, overrides=list(overrides))
    if check:
        check_mission(spec)
        params = spec.parameters()
        if as_json:
            print_json(params)
            return
        print_summary(
            f"mission file {mission_file}: valid",
            {
                "name": spec.name,
                "seed": spec.seed,
                "touchdown_utc": params["touchdown_utc"],
                "days": spec.days,
                "site": "synthetic" if spec.site.is_synthetic else spec.site.dem_as_written,
                "aim_lat_lon": [spec.site.lat_deg, spec.site.lon_deg],
                "lander": spec.lander.name,
                "rover": spec.rover.name,
                "touchdown_runs": spec.touchdown.runs,
                "scenarios": ", ".join(spec.touchdown.scenarios),
                "targets": len(spec.targets),
            },
        )
        return
    if out_dir is None:
        raise click.UsageError("give the output folder with -o DIR (or use --check)")
    t0 = time.perf_counter()
    with progress_bar("mission", enabled=not quiet) as progress:
        result = run_mission(spec, out_dir, overwrite=overwrite, progress=progress)
    summary = {**result.summary, "wall_time_s": round(time.perf_counter() - t0, 2)}
    print_summary(
        f"frigoris mission: {spec.name}", summary, as_json=as_json, outputs=result.outputs
    )
    if result.stopped and not as_json:
        stderr_console.print(f"[bold]chain stopped:[/bold] {result.stopped}")
