"""The job behind ``frigoris hazard``: a DEM's hazard map, in memory or tile by tile."""

from __future__ import annotations

import pathlib
from datetime import datetime

from frigoris.terrain import masks_path, read_dem
from frigoris.terrain.hazard import HazardMap, hazard_map, hazard_tags
from frigoris.terrain.io import open_source, read_layers_decimated, read_tags
from frigoris.terrain.tiled import tiled_hazard

from ...progress import ProgressCallback, no_progress
from ...specs import RESILIENCE, TENACIOUS, LanderSpec, RoverSpec, hazard_limits, lander_site
from ..products import figures
from ..products.hazard_files import HAZARD_FILES, hazard_summary, write_catalogues, write_hazard
from ..results import JobResult
from .inputs import Position, read_rock_abundance, resolve_sun
from .output_folder import staged_output

__all__ = ["hazard_job"]


def hazard_job(
    dem_path: pathlib.Path,
    out_dir: pathlib.Path,
    *,
    rover: RoverSpec = TENACIOUS,
    lander_spec: LanderSpec = RESILIENCE,
    sun_az_el: tuple[float, float] | None = None,
    when: datetime | None = None,
    lander: Position | None = None,
    rock_abundance: float | pathlib.Path = 0.01,
    tile: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> JobResult:
    """Read a DEM, compute its hazard map and write it.

    With ``tile`` the DEM is processed tile by tile on Dask (``scheduler``: None for local
    threads, or a dask.distributed address) and never read whole; see
    :mod:`frigoris.terrain.tiled`.
    """
    if tile is not None:
        return _hazard_job_tiled(
            dem_path,
            out_dir,
            rover=rover,
            lander_spec=lander_spec,
            sun_az_el=sun_az_el,
            when=when,
            lander=lander,
            rock_abundance=rock_abundance,
            tile=tile,
            scheduler=scheduler,
            overwrite=overwrite,
            progress=progress,
        )
    with staged_output(out_dir, owned=HAZARD_FILES, overwrite=overwrite) as stage:
        dem = read_dem(dem_path)
        k = read_rock_abundance(rock_abundance, dem)
        site = None
        if lander is not None:
            site = lander_site(lander_spec, *lander.on(dem, "--lander"))
        sun = resolve_sun(dem, sun_az_el=sun_az_el, when=when)
        hm = hazard_map(
            dem,
            hazard_limits(rover, lander_spec),
            sun=sun,
            lander=site,
            rock_abundance=k,
            progress=lambda f, s="": progress(0.8 * f, s),
        )
        progress(0.8, "writing")
        outputs = write_hazard(
            hm,
            stage.path,
            title=f"Hazard map: {dem_path.name} ({rover.name})",
            tags={"frigoris_dem": str(dem_path)},
        )
    progress(1.0, "done")
    return JobResult(out_dir, stage.final(outputs), hazard_summary(hm))


def _hazard_job_tiled(
    dem_path: pathlib.Path,
    out_dir: pathlib.Path,
    *,
    rover: RoverSpec,
    lander_spec: LanderSpec,
    sun_az_el,
    when,
    lander: Position | None,
    rock_abundance: float | pathlib.Path,
    tile: int,
    scheduler: str | None,
    overwrite: bool,
    progress: ProgressCallback,
) -> JobResult:
    """``hazard_job`` for DEMs larger than memory: the same outputs, written tile by tile."""
    with staged_output(out_dir, owned=HAZARD_FILES, overwrite=overwrite) as stage:
        _, grid = open_source(dem_path)  # the grid only: no data is read here
        if not isinstance(rock_abundance, pathlib.Path):
            read_rock_abundance(rock_abundance, grid)  # a number: check its range now
        site = None
        if lander is not None:
            site = lander_site(lander_spec, *lander.on(grid, "--lander"))
        sun = resolve_sun(grid, sun_az_el=sun_az_el, when=when)
        limits = hazard_limits(rover, lander_spec)
        tags = {
            **hazard_tags(limits, sun=sun, lander=site),
            "frigoris_dem": str(dem_path),
            "frigoris_tile_px": tile,
        }
        th = tiled_hazard(
            dem_path,
            stage.path / "hazard.tif",
            limits,
            sun=sun,
            lander=site,
            rock_abundance=rock_abundance,
            tile_px=tile,
            scheduler=scheduler,
            tags=tags,
            progress=lambda f, s="": progress(0.9 * f, s),
        )
        progress(0.9, "catalogues and picture")
        outputs = {"hazard": th.path, "hazard_masks": masks_path(th.path)}
        outputs.update(write_catalogues(stage.path, grid.crs, th.craters, th.rocks))
        # the picture from the overviews: a whole-resolution map would not fit in memory
        layers, small = read_layers_decimated(th.path, max_px=2048)
        preview = HazardMap.from_layers(
            layers, small, read_tags(th.path), craters=th.craters, rocks=th.rocks
        )
        outputs["hazard_png"] = figures.hazard_figure(
            preview,
            stage.path / "hazard.png",
            title=f"Hazard map: {dem_path.name} ({rover.name}, {th.n_tiles} tiles)",
        )
    progress(1.0, "done")
    return JobResult(out_dir, stage.final(outputs), th.summary())
