"""A touchdown Monte Carlo's files: the safety GeoTIFF, every run as GeoJSON, the map."""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from typing import Any

from frigoris.terrain import Dem, write_geojson, write_geotiff

from ...specs import LanderSpec
from ...touchdown import Dispersion, SafetyMap, TouchdownResult
from . import figures

__all__ = ["TOUCHDOWN_FILES", "write_touchdown"]

TOUCHDOWN_FILES = ("touchdown_safety.tif", "touchdowns.geojson", "touchdown.png")
"""Every file a touchdown Monte Carlo writes."""


def write_touchdown(
    out_dir: pathlib.Path,
    dem: Dem,
    results: Sequence[TouchdownResult],
    safety: SafetyMap,
    target: tuple[float, float],
    dispersion: Dispersion,
    lander: LanderSpec,
    *,
    seed: int,
    label: str,
    tags: dict[str, Any] | None = None,
) -> dict[str, pathlib.Path]:
    """``touchdown_safety.tif``, ``touchdowns.geojson`` and ``touchdown.png``.

    The safety raster has bands p_safe, p_deploy, tilt_max_deg (NaN outside the computed
    window); the GeoJSON holds every run of every scenario; ``tags`` (provenance) are added to
    the GeoTIFF's.
    """
    tags = {
        "frigoris_product": "touchdown safety: fraction of yaws at which the lander stands",
        "frigoris_lander": lander.name,
        "frigoris_n_yaw": safety.n_yaw,
        "frigoris_target_xy": list(target),
        **(tags or {}),
    }
    outputs = {
        "safety": write_geotiff(out_dir / "touchdown_safety.tif", safety.layers(), dem, tags=tags)
    }
    features = [f for r in results for f in r.to_features(dem.crs)]
    outputs["touchdowns"] = write_geojson(
        out_dir / "touchdowns.geojson",
        features,
        dem.crs,
        properties={
            "what": "simulated touchdowns",
            "lander": lander.name,
            "seed": seed,
            "target_xy": list(target),
            "scenarios": [r.scenario for r in results],
        },
    )
    outputs["map"] = figures.touchdown_figure(
        dem,
        list(results),
        safety,
        target,
        dispersion,
        out_dir / "touchdown.png",
        title=f"Touchdowns of {lander.name}: {label}",
    )
    return outputs
