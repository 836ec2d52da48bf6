"""Jobs behind ``frigoris terrain``: synthesise a site, describe a DEM."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from frigoris.terrain import Dem, read_dem
from frigoris.terrain.synth import SynthParams, synthesize

from ...progress import ProgressCallback, no_progress
from ..products.site_files import SITE_FILES, write_site
from ..results import JobResult
from .output_folder import staged_output

__all__ = ["dem_info", "synth_job"]


def synth_job(
    params: SynthParams,
    out_dir: pathlib.Path,
    *,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> JobResult:
    """Synthesise a site and write it (DEM, rock abundance, truth catalogues, hillshade)."""
    with staged_output(out_dir, owned=SITE_FILES, overwrite=overwrite) as stage:
        site = synthesize(params, progress=lambda f, s="": progress(0.6 * f, s))
        outputs = write_site(site, stage.path, progress=lambda f, s="": progress(0.6 + 0.4 * f, s))
    return JobResult(out_dir, stage.final(outputs), site.summary())


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
        "size_px_columns_rows": [int(z.shape[1]), int(z.shape[0])],
        "res_m": round(dem.res_m, 6),
        "extent_m_east_north": [round(b.right - b.left, 3), round(b.top - b.bottom, 3)],
        "elevation_min_m": float(np.nanmin(z)),
        "elevation_max_m": float(np.nanmax(z)),
        "elevation_mean_m": float(np.nanmean(z)),
        "nodata_fraction": float(1.0 - finite.mean()),
    }
