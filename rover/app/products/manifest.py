"""``manifest.json``: a run's inputs and outputs with checksums, parameters, versions, steps."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from datetime import datetime, timezone
from typing import Any

from frigoris.terrain import write_text

from ...errors import SpecError
from ..formats import plain
from ..provenance import sha256_file, software_versions
from ..results import MissionResult

__all__ = [
    "OUTPUT_DESCRIPTIONS",
    "read_manifest",
    "stamp_geojson",
    "write_job_manifest",
    "write_manifest",
]


MANIFEST_VERSION = 1


OUTPUT_DESCRIPTIONS: dict[str, str] = {
    "dem.tif": "elevation (m above the 1,737,400 m Moon sphere) on the site's metric grid",
    "rock_abundance.tif": "per-cell fractional rock area k of rocks too small to draw (Golombek)",
    "craters_truth.geojson": "ground-truth craters of the synthetic site (centre, size, depth)",
    "rocks_truth.geojson": "ground-truth rocks drawn into the synthetic DEM",
    "hillshade.png": "map of the site: hillshade and elevation",
    "touchdown_safety.tif": "touchdown safety: share of yaws at which the lander stands per cell",
    "touchdowns.geojson": "every simulated touchdown of every descent scenario, with its outcome",
    "touchdown.png": "map of the touchdown Monte Carlo: outcomes, dispersion ellipses, safety",
    "hazard.tif": "hazard layers: elevation, slopes, obstacle heights, risk, link margin, cost",
    "hazard_masks.tif": "byte bands of hazard.tif: keep-out and its reasons, craters, shadow, view",
    "craters.geojson": "craters detected in the DEM",
    "rocks.geojson": "resolved rocks detected in the DEM",
    "hazard.png": "map of the hazard layers",
    "context.png": "regional map: slope, cast shadow at touchdown time and the aim point",
    "handoff.json": "deployment handoff: side, rover pose, battery, egress, or why none",
    "deploy.png": "map of the deployment: sides, set-down points, egress, plume zone",
    "traverse.geojson": "the traverse plan: stops (points) and legs (lines) with times",
    "timeline.csv": "the plan's timeline: time, position, activity, battery, sun, link",
    "plan.png": "map of the traverse plan",
    "timeline.png": "battery, sun elevation, solar power and distance driven over the plan",
    "plan.txt": "the plan stop by stop, as text",
    "sequence.json": "the checked command sequence, cycle by cycle: drives, images, scoop, "
    "Moonhouse, downlinks, waits; start, end, expected state and flight rules of each",
    "sequence.csv": "the command sequence, one row per command",
    "plan_state.json": "what `frigoris replan` needs: specs, candidates, stops made, hazards",
    "horizons.npy": "horizon elevation per azimuth sector as 8-bit codes (shadows for replans)",
    "mission.gpkg": "every vector layer in one GeoPackage (QGIS styles included)",
    "map.html": "interactive map of the run for a browser, offline: layers, stops, time slider",
    "report.html": "the mission report for people (links the PNGs in this folder)",
}
"""Every file a mission may write, and what it is (the manifest repeats it per output)."""


def stamp_geojson(path: pathlib.Path, prov: dict[str, Any]) -> None:
    """Add the provenance to a GeoJSON file's collection ``properties`` (atomic rewrite)."""
    doc = json.loads(path.read_text())
    doc["properties"] = {**doc.get("properties", {}), **prov}
    write_text(path, json.dumps(doc, allow_nan=False))


def write_manifest(result: MissionResult, path: pathlib.Path) -> pathlib.Path:
    """``manifest.json``: inputs and outputs with SHA-256, parameters, version, seed, steps.

    Everything in it is deterministic for the same inputs and software except
    ``created_utc``.
    """
    mission = result.mission
    entries = []
    for key, p in sorted(result.outputs.items(), key=lambda kv: kv[1].name):
        if key == "manifest":
            continue
        entries.append(
            {
                "file": p.name,
                "key": key,
                "what": OUTPUT_DESCRIPTIONS.get(p.name, key),
                "bytes": p.stat().st_size,
                "sha256": sha256_file(p),
            }
        )
    doc = {
        "frigoris_manifest": MANIFEST_VERSION,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": software_versions(),
        "mission": mission.name,
        "mission_file": mission.inputs[0].path if mission.inputs else mission.source,
        "seed": mission.seed,
        "crs_wkt": result.dem.crs.to_wkt(),
        "steps": [dataclasses.asdict(s) for s in result.steps],
        "stopped": result.stopped,
        "inputs": [dataclasses.asdict(i) for i in mission.inputs],
        "parameters": mission.parameters(),
        "waivers": [dataclasses.asdict(w) for w in mission.waivers],
        "summary": plain(result.summary),
        "outputs": entries,
    }
    return write_text(path, json.dumps(doc, indent=2, allow_nan=False, default=str) + "\n")


def write_job_manifest(
    path: pathlib.Path,
    *,
    job: str,
    inputs: list[tuple[str, pathlib.Path]],
    outputs: dict[str, pathlib.Path],
    parameters: dict[str, Any],
    summary: dict[str, Any],
    descriptions: dict[str, str] | None = None,
) -> pathlib.Path:
    """``manifest.json`` of a job that is not a whole mission (replan, ops simulation).

    Inputs and outputs with SHA-256 and size, the parameters, the summary and the software.
    """
    what = {**OUTPUT_DESCRIPTIONS, **(descriptions or {})}
    doc = {
        "frigoris_manifest": MANIFEST_VERSION,
        "job": job,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": software_versions(),
        "inputs": [
            {
                "role": role,
                "path": str(p),
                "sha256": sha256_file(p),
                "size_bytes": pathlib.Path(p).stat().st_size,
            }
            for role, p in inputs
        ],
        "parameters": plain(parameters),
        "summary": plain(summary),
        "outputs": [
            {
                "file": p.name,
                "key": key,
                "what": what.get(p.name, key),
                "bytes": p.stat().st_size,
                "sha256": sha256_file(p),
            }
            for key, p in sorted(outputs.items(), key=lambda kv: kv[1].name)
            if key != "manifest"
        ],
    }
    return write_text(path, json.dumps(doc, indent=2, allow_nan=False, default=str) + "\n")


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read ``manifest.json`` back (a plain dict)."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise SpecError(f"{p} does not exist; run `frigoris mission` first")
    return json.loads(p.read_text())
