"""A hazard map's files: ``hazard.tif``, the crater and rock catalogues, ``hazard.png``.

:func:`load_hazard` reads them back into a :class:`~frigoris.terrain.hazard.HazardMap`.
"""

from __future__ import annotations

import json
import pathlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from frigoris.terrain import masks_path, point_features, read_layers, read_tags, write_geojson
from frigoris.terrain.craters import DetectedCraters
from frigoris.terrain.errors import HazardInputError
from frigoris.terrain.hazard import HazardMap
from frigoris.terrain.rocks import DetectedRocks

from ...errors import RoverError
from . import figures

__all__ = ["HAZARD_FILES", "hazard_summary", "load_hazard", "write_catalogues", "write_hazard"]

HAZARD_FILES = (
    "hazard.tif",
    "hazard_masks.tif",
    "craters.geojson",
    "rocks.geojson",
    "hazard.png",
)
"""Every file a hazard map writes."""

REQUIRED_BANDS = (
    "elevation",
    "slope_deg",
    "slope_rover_deg",
    "risk",
    "cost",
    "keepout_reason",
)
"""Bands of ``hazard.tif`` a plan needs (the optional ones: crater mask, shadow, link)."""


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
    """Write hazard.tif and hazard_masks.tif, the craters/rocks GeoJSON and hazard.png.

    ``hazard.tif`` holds the float layers, ``hazard_masks.tif`` the masks as byte bands.

    The GeoTIFF is written on a second thread while this one writes the catalogues and draws
    the picture: GDAL compresses without Python's lock, so on two cores the two overlap (each
    file is whole and the same as written one after the other; an error in either is raised).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        tif = pool.submit(hm.write, out_dir / "hazard.tif", tags=tags)
        try:
            catalogues = write_catalogues(out_dir, hm.grid.crs, hm.craters, hm.rocks)
            png = figures.hazard_figure(hm, out_dir / "hazard.png", title=title)
        finally:
            tif_path = tif.result()  # waits for it, and raises its error first
    return {
        "hazard": tif_path,
        "hazard_masks": masks_path(tif_path),
        **catalogues,
        "hazard_png": png,
    }


def hazard_summary(hm: HazardMap) -> dict[str, Any]:
    """Numbers worth printing about a hazard map (:meth:`HazardMap.summary`, terrain's).

    Examples
    --------
    >>> from frigoris import TENACIOUS, SynthParams, hazard_limits, hazard_map, synthesize
    >>> site = synthesize(SynthParams(size_m=64, seed=1))
    >>> summary = hazard_summary(hazard_map(site.dem, hazard_limits(TENACIOUS)))
    >>> summary["size_px"], summary["res_m"]
    ([128, 128], 0.5)
    """
    return hm.summary()


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
    if tags.get("frigoris_product") != "hazard map":
        raise RoverError(f"{path} is not a frigoris hazard map; run `frigoris hazard` on the DEM")
    missing = [b for b in REQUIRED_BANDS if b not in layers]
    if missing:
        raise RoverError(
            f"{path} has no {', '.join(repr(b) for b in missing)} band; it is not a whole "
            "frigoris hazard map: run `frigoris hazard` on the DEM again"
        )
    cx, cy, cd, cdep = _read_points(path.parent / "craters.geojson", "diameter_m", "depth_m")
    rx, ry, rd, rh = _read_points(path.parent / "rocks.geojson", "diameter_m", "height_m")
    try:
        return HazardMap.from_layers(
            layers,
            grid,
            tags,
            craters=DetectedCraters(cx, cy, cd, cdep),
            rocks=DetectedRocks(rx, ry, rd, rh),
        )
    except (HazardInputError, KeyError, TypeError, ValueError) as err:
        raise RoverError(
            f"{path}: its hazard-map tags are damaged or from another version ({err}); "
            "run `frigoris hazard` on the DEM again"
        ) from None
