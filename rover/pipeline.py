"""The end-to-end jobs behind the CLI: each writes its outputs into a folder and returns a summary.

A tool is the guts of a command line program minus the option parsing (rasterio's design note):
commands in ``rover/commands`` parse options, call one function here and report.
"""

from __future__ import annotations

import logging
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from terrain import Dem, read_dem, write_geojson, write_geotiff
from terrain.synth import SynthParams, SyntheticSite, synthesize

from . import figures
from .progress import ProgressCallback

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class JobResult:
    """What a job wrote and the numbers worth printing."""

    out_dir: pathlib.Path
    outputs: dict[str, pathlib.Path]
    summary: dict[str, Any] = field(default_factory=dict)


def _noop(fraction: float, stage: str = "") -> None:
    return None


def write_site(site: SyntheticSite, out_dir: pathlib.Path, *, progress: ProgressCallback = _noop,
               tags: dict[str, Any] | None = None) -> dict[str, pathlib.Path]:
    """Write a synthetic site: DEM, rock abundance, truth catalogues and a hillshade map."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dem = site.dem
    tags = {"frigoris_source": "synthetic", "frigoris_params": site.params.__dict__, **(tags or {})}
    outputs = {}
    progress(0.0, "dem.tif")
    outputs["dem"] = write_geotiff(out_dir / "dem.tif", {"elevation": dem.elevation}, dem, tags=tags)
    progress(0.3, "rock_abundance.tif")
    outputs["rock_abundance"] = write_geotiff(
        out_dir / "rock_abundance.tif", {"rock_abundance": site.rock_abundance}, dem, tags=tags
    )
    progress(0.5, "catalogues")
    outputs["craters_truth"] = write_geojson(
        out_dir / "craters_truth.geojson", site.craters.to_features(dem.crs), dem.crs,
        properties={"what": "ground-truth craters of the synthetic site", "seed": site.params.seed},
    )
    outputs["rocks_truth"] = write_geojson(
        out_dir / "rocks_truth.geojson", site.rocks.to_features(dem.crs), dem.crs,
        properties={"what": "ground-truth rocks drawn into the synthetic DEM", "seed": site.params.seed},
    )
    progress(0.7, "hillshade.png")
    outputs["hillshade"] = figures.site_map(
        dem, out_dir / "hillshade.png",
        title=f"Synthetic Mare Frigoris site {site.params.center[0]:.2f}N "
              f"{abs(site.params.center[1]):.2f}{'W' if site.params.center[1] < 0 else 'E'} "
              f"(seed {site.params.seed})",
        craters=site.craters, rocks=site.rocks, min_crater_m=10.0,
    )
    progress(1.0, "written")
    return outputs


def synth_job(params: SynthParams, out_dir: pathlib.Path, *,
              progress: ProgressCallback = _noop) -> JobResult:
    """Synthesise a site and write it."""
    site = synthesize(params, progress=lambda f, s="": progress(0.6 * f, s))
    outputs = write_site(site, out_dir, progress=lambda f, s="": progress(0.6 + 0.4 * f, s))
    return JobResult(out_dir, outputs, site.summary())


def dem_info(path: pathlib.Path, *, crs: str | None = None) -> dict[str, Any]:
    """Describe a DEM as frigoris sees it after reading (CRS, size, resolution, range, nodata)."""
    dem: Dem = read_dem(path, crs=crs)
    z = dem.elevation
    finite = np.isfinite(z)
    b = dem.bounds
    return {
        "path": str(path),
        "crs": dem.crs.to_wkt().split('"')[1] if '"' in dem.crs.to_wkt() else dem.crs.to_string(),
        "crs_proj4": dem.crs.to_proj4() if hasattr(dem.crs, "to_proj4") else "",
        "size_px": [int(z.shape[0]), int(z.shape[1])],
        "res_m": round(dem.res_m, 6),
        "extent_m": [round(b.right - b.left, 3), round(b.top - b.bottom, 3)],
        "elevation_min_m": float(np.nanmin(z)),
        "elevation_max_m": float(np.nanmax(z)),
        "elevation_mean_m": float(np.nanmean(z)),
        "nodata_fraction": float(1.0 - finite.mean()),
    }


def demo_job(out_dir: pathlib.Path, *, seed: int = 0,
             progress: ProgressCallback = _noop) -> JobResult:
    """The whole chain on the built-in synthetic Mare Frigoris site."""
    result = synth_job(SynthParams(seed=seed), out_dir, progress=progress)
    return result
