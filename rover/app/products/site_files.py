"""A site's files: the DEM, the rock abundance, the truth catalogues and a hillshade map."""

from __future__ import annotations

import pathlib
from typing import Any

from frigoris.terrain import Dem, write_geojson, write_geotiff
from frigoris.terrain.synth import SyntheticSite

from ...progress import ProgressCallback, no_progress
from . import figures

__all__ = ["SITE_FILES", "write_dem", "write_site"]

SITE_FILES = (
    "dem.tif",
    "rock_abundance.tif",
    "craters_truth.geojson",
    "rocks_truth.geojson",
    "hillshade.png",
)
"""Every file a site may write."""


def write_site(
    site: SyntheticSite,
    out_dir: pathlib.Path,
    *,
    progress: ProgressCallback = no_progress,
    tags: dict[str, Any] | None = None,
    title: str | None = None,
) -> dict[str, pathlib.Path]:
    """Write a synthetic site: DEM, rock abundance, truth catalogues and a hillshade map.

    ``title`` replaces the hillshade map's default title (a Mare Frigoris site).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    dem = site.dem
    tags = {"frigoris_source": "synthetic", "frigoris_params": site.params.__dict__, **(tags or {})}
    outputs = {}
    progress(0.0, "dem.tif")
    outputs["dem"] = write_geotiff(
        out_dir / "dem.tif", {"elevation": dem.elevation}, dem, tags=tags
    )
    progress(0.3, "rock_abundance.tif")
    outputs["rock_abundance"] = write_geotiff(
        out_dir / "rock_abundance.tif", {"rock_abundance": site.rock_abundance}, dem, tags=tags
    )
    progress(0.5, "catalogues")
    outputs["craters_truth"] = write_geojson(
        out_dir / "craters_truth.geojson",
        site.craters.to_features(dem.crs),
        dem.crs,
        properties={"what": "ground-truth craters of the synthetic site", "seed": site.params.seed},
    )
    outputs["rocks_truth"] = write_geojson(
        out_dir / "rocks_truth.geojson",
        site.rocks.to_features(dem.crs),
        dem.crs,
        properties={
            "what": "ground-truth rocks drawn into the synthetic DEM",
            "seed": site.params.seed,
        },
    )
    progress(0.7, "hillshade.png")
    outputs["hillshade"] = figures.site_map(
        dem,
        out_dir / "hillshade.png",
        title=title
        or f"Synthetic Mare Frigoris site {site.params.center[0]:.2f}N "
        f"{abs(site.params.center[1]):.2f}{'W' if site.params.center[1] < 0 else 'E'} "
        f"(seed {site.params.seed})",
        craters=site.craters,
        rocks=site.rocks,
        min_crater_m=10.0,
    )
    progress(1.0, "written")
    return outputs


def write_dem(
    dem: Dem, out_dir: pathlib.Path, *, label: str, tags: dict[str, Any] | None = None
) -> dict[str, pathlib.Path]:
    """A DEM read from a file: ``dem.tif`` on the grid frigoris works on, and its hillshade map."""
    outputs = {
        "dem": write_geotiff(out_dir / "dem.tif", {"elevation": dem.elevation}, dem, tags=tags)
    }
    outputs["hillshade"] = figures.site_map(
        dem, out_dir / "hillshade.png", title=f"{label} ({dem.res_m:.3g} m/px)"
    )
    return outputs
