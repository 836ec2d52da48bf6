"""The end-to-end jobs behind the CLI: each writes its outputs into a folder and returns a summary.

A tool is the guts of a command line program minus the option parsing (rasterio's design note):
commands in ``rover/commands`` parse options, call one function here and report.
"""

from __future__ import annotations

import json
import logging
import pathlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from frigoris.terrain import (
    Dem,
    point_features,
    read_dem,
    read_layers,
    read_tags,
    write_geojson,
    write_geotiff,
)
from frigoris.terrain.crs import lunar_to_crs
from frigoris.terrain.hazard import (
    DetectedCraters,
    DetectedRocks,
    HazardLimits,
    HazardMap,
    LanderSite,
    hazard_map,
)
from frigoris.terrain.synth import SyntheticSite, SynthParams, synthesize

from . import figures
from .errors import RoverError
from .planning import plan_on_hazard, plan_summary, write_plan
from .progress import ProgressCallback
from .specs import RESILIENCE, TENACIOUS, LanderSpec, RoverSpec, hazard_limits, lander_site
from .touchdown import PLANNED_TOUCHDOWN_UTC

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


def write_site(
    site: SyntheticSite,
    out_dir: pathlib.Path,
    *,
    progress: ProgressCallback = _noop,
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


def synth_job(
    params: SynthParams, out_dir: pathlib.Path, *, progress: ProgressCallback = _noop
) -> JobResult:
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


TOUCHDOWN_TIME = PLANNED_TOUCHDOWN_UTC
"""Planned touchdown of HAKUTO-R Mission 2 (published: 2025-06-05 19:17 UTC)."""


def write_catalogues(out_dir: pathlib.Path, crs, craters, rocks) -> dict[str, pathlib.Path]:
    """craters.geojson and rocks.geojson of detected craters and resolved rocks."""
    c, r = craters, rocks
    return {
        "craters": write_geojson(
            out_dir / "craters.geojson",
            point_features(
                crs, c.x, c.y, diameter_m=np.round(c.diameter_m, 3), depth_m=np.round(c.depth_m, 3)
            ),
            crs,
            properties={"what": "craters detected in the DEM"},
        ),
        "rocks": write_geojson(
            out_dir / "rocks.geojson",
            point_features(
                crs,
                r.x,
                r.y,
                diameter_m=np.round(r.diameter_m, 3),
                height_m=np.round(r.height_m, 3),
            ),
            crs,
            properties={"what": "resolved rocks detected in the DEM"},
        ),
    }


def write_hazard(
    hm: HazardMap, out_dir: pathlib.Path, *, title: str, tags: dict[str, Any] | None = None
) -> dict[str, pathlib.Path]:
    """Write hazard.tif (one named band per layer), craters/rocks GeoJSON and hazard.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    crs = hm.grid.crs
    tags = {
        "frigoris_product": "hazard map",
        "frigoris_limits": hm.limits.__dict__,
        "frigoris_sun_az_el": hm.sun,
        "frigoris_lander": None if hm.lander is None else hm.lander.__dict__,
        **(tags or {}),
    }
    outputs = {"hazard": write_geotiff(out_dir / "hazard.tif", hm.layers(), hm.grid, tags=tags)}
    outputs.update(write_catalogues(out_dir, crs, hm.craters, hm.rocks))
    outputs["hazard_png"] = figures.hazard_figure(hm, out_dir / "hazard.png", title=title)
    return outputs


def hazard_summary(hm: HazardMap) -> dict[str, Any]:
    """Numbers worth printing about a hazard map."""
    valid = np.isfinite(hm.grid.elevation)
    s: dict[str, Any] = {
        "size_px": list(hm.grid.shape),
        "res_m": hm.grid.res_m,
        "keepout_fraction": float(hm.keepout[valid].mean()),
        "median_slope_rover_deg": float(np.nanmedian(hm.slope_rover_deg)),
        "craters_detected": len(hm.craters),
        "rocks_detected": len(hm.rocks),
        "mean_rock_risk": float(np.nanmean(hm.rock_risk)),
    }
    for k, v in hm.keepout_share.items():
        s[f"excluded_by_{k}"] = round(v, 4)
    if hm.sun is not None:
        s["sun_az_el_deg"] = [round(hm.sun[0], 2), round(hm.sun[1], 2)]
        s["shadow_fraction"] = float(hm.shadow[valid].mean())
    if hm.lander is not None:
        s["comm_ok_fraction"] = float(hm.comm_ok()[valid].mean())
    for i, w in enumerate(hm.warnings):
        s[f"warning_{i + 1}"] = w
    return s


def resolve_sun(
    dem: Dem, *, sun_az_el: tuple[float, float] | None = None, when: datetime | None = None
) -> tuple[float, float] | None:
    """Sun direction over the DEM: given directly, or from the ephemeris at a UTC time."""
    if sun_az_el is not None:
        return sun_az_el
    if when is None:
        return None
    from frigoris.terrain.illumination import sun_over_dem

    sun = sun_over_dem(dem, when)
    return float(sun.azimuth_deg), float(sun.elevation_deg)


def hazard_job(
    dem_path: pathlib.Path | None,
    out_dir: pathlib.Path,
    *,
    rover: RoverSpec = TENACIOUS,
    lander_spec: LanderSpec = RESILIENCE,
    sun_az_el: tuple[float, float] | None = None,
    when: datetime | None = None,
    lander_xy: tuple[float, float] | None = None,
    lander_latlon: tuple[float, float] | None = None,
    rock_abundance: float | pathlib.Path = 0.01,
    tile: int | None = None,
    scheduler: str | None = None,
    progress: ProgressCallback = _noop,
) -> JobResult:
    """Read a DEM, compute its hazard map and write it.

    With ``tile`` the DEM is processed tile by tile on Dask (``scheduler``: None for local
    threads, or a dask.distributed address) and never read whole; see :mod:`terrain.tiled`.
    """
    if tile is not None:
        return _hazard_job_tiled(
            dem_path,
            out_dir,
            rover=rover,
            lander_spec=lander_spec,
            sun_az_el=sun_az_el,
            when=when,
            lander_xy=lander_xy,
            lander_latlon=lander_latlon,
            rock_abundance=rock_abundance,
            tile=tile,
            scheduler=scheduler,
            progress=progress,
        )
    dem = read_dem(dem_path)
    k: float | np.ndarray
    if isinstance(rock_abundance, pathlib.Path):
        layers, grid = read_layers(rock_abundance)
        if grid.shape != dem.shape or grid.transform != dem.transform:
            raise RoverError(f"rock-abundance raster {rock_abundance} is not on the DEM's grid")
        k = next(iter(layers.values()))
    else:
        k = float(rock_abundance)
    site = None
    if lander_latlon is not None:
        lander_xy = lunar_to_crs(dem.crs, *lander_latlon)
    if lander_xy is not None:
        site = lander_site(lander_spec, *lander_xy)
    sun = resolve_sun(dem, sun_az_el=sun_az_el, when=when)
    hm = hazard_map(
        dem,
        hazard_limits(rover),
        sun=sun,
        lander=site,
        rock_abundance=k,
        progress=lambda f, s="": progress(0.8 * f, s),
    )
    progress(0.8, "writing")
    outputs = write_hazard(
        hm,
        out_dir,
        title=f"Hazard map: {dem_path.name} ({rover.name})",
        tags={"frigoris_dem": str(dem_path)},
    )
    progress(1.0, "done")
    return JobResult(out_dir, outputs, hazard_summary(hm))


def _hazard_job_tiled(
    dem_path: pathlib.Path,
    out_dir: pathlib.Path,
    *,
    rover: RoverSpec,
    lander_spec: LanderSpec,
    sun_az_el,
    when,
    lander_xy,
    lander_latlon,
    rock_abundance: float | pathlib.Path,
    tile: int,
    scheduler: str | None,
    progress: ProgressCallback,
) -> JobResult:
    """``hazard_job`` for DEMs larger than memory: the same outputs, written tile by tile."""
    from frigoris.terrain.tiled import open_source, read_layers_decimated, tiled_hazard

    _, grid = open_source(dem_path)  # the grid only: no data is read here
    site = None
    if lander_latlon is not None:
        lander_xy = lunar_to_crs(grid.crs, *lander_latlon)
    if lander_xy is not None:
        site = lander_site(lander_spec, *lander_xy)
    sun = resolve_sun(grid, sun_az_el=sun_az_el, when=when)
    limits = hazard_limits(rover)
    tags = {
        "frigoris_product": "hazard map",
        "frigoris_limits": limits.__dict__,
        "frigoris_sun_az_el": sun,
        "frigoris_lander": None if site is None else site.__dict__,
        "frigoris_dem": str(dem_path),
        "frigoris_tile_px": tile,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    th = tiled_hazard(
        dem_path,
        out_dir / "hazard.tif",
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
    outputs = {"hazard": th.path}
    outputs.update(write_catalogues(out_dir, grid.crs, th.craters, th.rocks))
    # the picture from the overviews: a whole-resolution map would not fit in memory
    layers, small = read_layers_decimated(th.path, max_px=2048)

    def flag(name):
        return None if name not in layers else layers[name] > 0.5

    preview = HazardMap(
        grid=small,
        limits=limits,
        slope_deg=layers["slope_deg"],
        slope_rover_deg=layers["slope_rover_deg"],
        roughness_m=layers["roughness_m"],
        step_m=layers["step_m"],
        crater_mask=flag("crater_mask"),
        rock_risk=layers["rock_risk"],
        cost=layers["cost"],
        keepout=flag("keepout"),
        craters=th.craters,
        rocks=th.rocks,
        shadow=flag("shadow"),
        los_lander=flag("los_lander"),
        sun=sun,
        lander=site,
    )
    outputs["hazard_png"] = figures.hazard_figure(
        preview,
        out_dir / "hazard.png",
        title=f"Hazard map: {dem_path.name} ({rover.name}, {th.n_tiles} tiles)",
    )
    progress(1.0, "done")
    return JobResult(out_dir, outputs, th.summary())


def _read_points(path: pathlib.Path, *names: str) -> tuple[np.ndarray, ...]:
    """x, y and named properties of the Point features of a frigoris GeoJSON file."""
    if not path.exists():
        return tuple(np.zeros(0) for _ in range(2 + len(names)))
    feats = [
        f for f in json.loads(path.read_text())["features"] if f["geometry"]["type"] == "Point"
    ]
    xy = np.array([f["geometry"]["coordinates"] for f in feats], dtype=float).reshape(-1, 2)
    props = [np.array([f["properties"].get(n, np.nan) for f in feats], dtype=float) for n in names]
    return (xy[:, 0], xy[:, 1], *props)


def load_hazard(path: pathlib.Path) -> HazardMap:
    """Rebuild a HazardMap from a ``hazard.tif`` written by :func:`write_hazard`.

    The craters and rocks GeoJSON files beside it supply the catalogues.
    """
    layers, grid = read_layers(path)
    tags = read_tags(path)
    if tags.get("frigoris_product") != "hazard map" or "elevation" not in layers:
        raise RoverError(f"{path} is not a frigoris hazard map; run `frigoris hazard` on the DEM")
    dem = Dem(layers["elevation"], grid.transform, grid.crs)
    limits = HazardLimits(**json.loads(tags["frigoris_limits"]))
    lander_tag = json.loads(tags.get("frigoris_lander", "null"))
    sun_tag = json.loads(tags.get("frigoris_sun_az_el", "null"))
    cx, cy, cd, cdep = _read_points(path.parent / "craters.geojson", "diameter_m", "depth_m")
    rx, ry, rd, rh = _read_points(path.parent / "rocks.geojson", "diameter_m", "height_m")

    def flag(name):
        return None if name not in layers else layers[name] > 0.5

    return HazardMap(
        grid=dem,
        limits=limits,
        slope_deg=layers["slope_deg"],
        slope_rover_deg=layers["slope_rover_deg"],
        roughness_m=layers["roughness_m"],
        step_m=layers["step_m"],
        crater_mask=flag("crater_mask"),
        rock_risk=layers["rock_risk"],
        cost=layers["cost"],
        keepout=flag("keepout"),
        craters=DetectedCraters(cx, cy, cd, cdep),
        rocks=DetectedRocks(rx, ry, rd, rh),
        shadow=flag("shadow"),
        los_lander=flag("los_lander"),
        sun=None if sun_tag is None else tuple(sun_tag),
        lander=None if lander_tag is None else LanderSite(**lander_tag),
    )


def read_targets(path: pathlib.Path, crs) -> tuple:
    """User targets from a GeoJSON of Points with ``priority`` (and ``name``) properties.

    Coordinates are taken in the DEM's CRS when the file names one (frigoris writes it so), or
    as longitude/latitude on the Moon when it names none (plain RFC 7946 files).
    """
    if not path.exists():
        raise RoverError(f"targets file {path} does not exist")
    try:
        doc = json.loads(path.read_text())
        feats = [f for f in doc["features"] if f["geometry"]["type"] == "Point"]
        xy = np.array([f["geometry"]["coordinates"][:2] for f in feats], dtype=float).reshape(-1, 2)
    except (ValueError, KeyError, TypeError) as err:
        raise RoverError(f"{path} is not a GeoJSON FeatureCollection of Points ({err})") from err
    prio = np.array([float(f["properties"].get("priority", 1)) for f in feats])
    if (prio <= 0).any():
        raise RoverError(f"{path}: every target priority must be > 0")
    names = [str(f["properties"].get("name", f"target {i + 1}")) for i, f in enumerate(feats)]
    if "crs" not in doc:
        x, y = lunar_to_crs(crs, xy[:, 1], xy[:, 0])
        xy = np.c_[np.atleast_1d(x), np.atleast_1d(y)]
    return xy[:, 0], xy[:, 1], prio, names


def plan_job(
    src: pathlib.Path,
    out_dir: pathlib.Path,
    *,
    rover: RoverSpec = TENACIOUS,
    lander_spec: LanderSpec = RESILIENCE,
    start_time: datetime = TOUCHDOWN_TIME,
    start_xy: tuple[float, float] | None = None,
    start_soc_wh: float | None = None,
    lander_xy: tuple[float, float] | None = None,
    days: float = 10.0,
    targets: pathlib.Path | None = None,
    seed: int = 0,
    time_limit_s: float = 10.0,
    progress: ProgressCallback = _noop,
) -> JobResult:
    """Plan a traverse on a hazard map (``hazard.tif``) or on a DEM (hazard computed first)."""
    tags = read_tags(src)
    if tags.get("frigoris_product") == "hazard map":
        hm = load_hazard(src)
        if lander_xy is not None:
            raise RoverError("the hazard map fixes the lander position; drop --lander")
    else:
        dem = read_dem(src)
        if lander_xy is None:
            raise RoverError("planning on a DEM needs the lander position: give --lander X,Y")
        hm = hazard_map(
            dem,
            hazard_limits(rover),
            sun=resolve_sun(dem, when=start_time),
            lander=lander_site(lander_spec, *lander_xy),
            progress=lambda f, s="": progress(0.4 * f, s),
        )
    if hm.lander is None:
        raise RoverError(f"{src} was mapped without a lander; rerun `frigoris hazard --lander`")
    start_cell = None
    if start_xy is not None:
        if not hm.grid.contains(*start_xy):
            raise RoverError(f"start {start_xy} is outside the map; give X,Y on it")
        start_cell = hm.grid.rowcol(*start_xy)
    tg = read_targets(targets, hm.grid.crs) if targets is not None else None
    result = plan_on_hazard(
        hm,
        rover=rover,
        lander=lander_spec,
        start_time=start_time,
        start_cell=start_cell,
        start_soc_wh=start_soc_wh,
        mission_days=days,
        targets=tg,
        seed=seed,
        time_limit_s=time_limit_s,
        progress=lambda f, s="": progress(0.4 + 0.55 * f, s),
    )
    outputs = write_plan(result, hm, out_dir)
    progress(1.0, "done")
    return JobResult(out_dir, outputs, plan_summary(result))
