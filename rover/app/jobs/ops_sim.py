"""The job behind ``frigoris ops-sim``: how far a plan made on orbital data can be trusted.

From a mission file: the site (as the mission builds it), the followed touchdown, the hazard
map at deployment and the handoff, as ``frigoris mission`` makes them; then the shared world of
:func:`frigoris.rover.ops_sim.build_world` (the orbital DTM, the first plan made on it) and
``runs`` simulated missions on Dask (:func:`frigoris.rover.ops_sim.simulate_runs`). Writes the
runs (``ops_runs.csv``), the summary (``ops_summary.json``), the tracks (``ops_tracks.geojson``),
a map and a chart (``ops.png``, ``ops_metrics.png``), ``report.html`` and ``manifest.json``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
from datetime import timedelta
from typing import Any

import numpy as np

from frigoris.terrain import read_dem, write_geojson, write_text
from frigoris.terrain.crs import lunar_to_crs
from frigoris.terrain.hazard import hazard_map
from frigoris.terrain.synth import synthesize

from ...deploy import deploy
from ...errors import RoverError
from ...operations import OpsContext
from ...ops_sim import build_world, simulate_runs, summarise
from ...progress import ProgressCallback, no_progress
from ...specs import hazard_limits, lander_site
from ...touchdown import simulate_touchdown
from ..formats import plain, utc_iso
from ..mission_file import load_mission
from ..products import figures
from ..products.manifest import write_job_manifest
from ..products.ops_report import ops_sim_report_html, write_page
from .inputs import read_rock_abundance, resolve_sun
from .output_folder import staged_output

__all__ = ["OPS_SIM_FILES", "ops_sim_job"]

OPS_SIM_FILES = (
    "ops_runs.csv",
    "ops_summary.json",
    "ops_tracks.geojson",
    "ops.png",
    "ops_metrics.png",
    "report.html",
    "manifest.json",
)
"""Every file an ops simulation writes."""

_DESCRIPTIONS = {
    "ops_runs.csv": "one row per simulated mission: stops achieved, distance, hazards met, ...",
    "ops_summary.json": "over the runs, per run, each run's events; the models and their sources",
    "ops_tracks.geojson": "the first plan (made on the orbital map) and every run's true and "
    "believed tracks",
    "ops.png": "the first plan on the orbital map, and the runs' true tracks over the terrain",
    "ops_metrics.png": "stops achieved, distance, hazards met and time lost, run by run",
    "report.html": "the ops simulation for people",
}


def _site(mission):
    s = mission.site
    if s.is_synthetic:
        site = synthesize(s.synthetic)
        return site.dem, site.rock_abundance
    dem = read_dem(
        s.dem, around=(s.lat_deg, s.lon_deg) if s.window_m else None, size_m=s.window_m, crs=s.crs
    )
    return dem, read_rock_abundance(s.rock_abundance, dem)


def notes(mission, world) -> list[str]:
    """What the simulation models, with the sources of its numbers."""
    sim, ops = mission.sim, mission.operations
    src = sim.sources
    return [
        f"Orbital DTM: the site averaged to {sim.orbital_post_m:g} m posts "
        f"({src.get('orbital_post_m', '')}), "
        f"vertical error {sim.orbital_sigma_m:g} m per post ({src.get('orbital_sigma_m', '')}), "
        f"correlated over {sim.orbital_corr_posts:g} posts; rock abundance one number for the "
        "site. Its hazard map is made on the posts (what they cannot resolve is risk) and each "
        "of the site's cells takes its post's layers. The first plan and every later one are "
        "made on this map as the rover reveals the truth.",
        "The per-cycle risk rule judges imaged terrain: the ground approves each drive on its "
        "navigation images (the next drive is checked again on new ones); beyond them the "
        "orbital risk weighs on the route through the cost.",
        f"Execution: slip {sim.slip_mean:g} +- {sim.slip_sd:g} of each segment plus "
        f"{sim.slip_per_deg:g} per degree of slope; heading error {sim.heading_sd_deg:g} deg per "
        f"segment; odometry does not see slip; daily re-localisation to {sim.relocalise_sd_m:g} m.",
        f"Cameras: the true terrain within {ops.nav_camera_range_m:g} m over "
        f"{ops.nav_camera_fov_deg:g} deg ahead of the rover enters the ground's map with each "
        "set of navigation images, where the ground believes the rover is.",
        f"Hazard met: the rover, centred on a cell, meets terrain it cannot drive (footprint "
        f"slope above {sim.hazard_slope_deg:g} deg or step above {sim.hazard_step_m:g} m, true "
        "values) or strikes a rock the DEM cannot show (drawn at the true risk); it stops and "
        "the rest of its cycle is time lost.",
        "The ground plans again after a hazard, when the next drive crosses a revealed hazard, "
        "and at the first images of each Earth day; every sequence goes through the same "
        "independent flight-rule checker; a refused one costs a turnaround and a back-out.",
        f"First plan on the orbital map: {len(world.first.plan.stops) - 1} stops, "
        f"{world.first.plan.distance_m:.0f} m. Orbital keep-out "
        f"{float(world.orbital.keepout.mean()):.0%} of the site and link predicted on "
        f"{float(world.orbital.linked.mean()):.0%}, against "
        f"{float(world.truth.keepout.mean()):.0%} "
        f"and {float(world.truth.linked.mean()):.0%} on the true terrain.",
    ]


def ops_sim_job(
    mission_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    runs: int = 20,
    chunk: int = 5,
    seed: int | None = None,
    scheduler: str = "processes",
    workers: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
):
    """Simulate ``runs`` missions of a mission file (see the module notes).

    ``seed`` (default: the mission's) seeds the runs; the site, the touchdown and the orbital
    DTM follow the mission's seed, as ``frigoris mission`` does.

    Raises
    ------
    RoverError
        The followed touchdown gives no deployment, or the first plan's sequence is refused.
    """
    from ..results import JobResult

    mission = load_mission(mission_path, overrides=overrides)
    seed = mission.seed if seed is None else int(seed)
    out_dir = pathlib.Path(out_dir)
    with staged_output(out_dir, owned=OPS_SIM_FILES, overwrite=overwrite) as stage:
        progress(0.0, "site")
        dem, rock_k = _site(mission)
        x, y = lunar_to_crs(dem.crs, mission.site.lat_deg, mission.site.lon_deg)
        td = mission.touchdown
        progress(0.05, "touchdown")
        result = simulate_touchdown(
            dem,
            mission.lander,
            (float(x), float(y)),
            runs=td.runs,
            seed=mission.seed,
            dispersion=td.dispersion,
            descent=td.follow,
            time=mission.touchdown_utc,
        )
        # a run number, or "first-deployable": the nominal runs in order until the rover
        # deploys from one (as `frigoris mission` does)
        _, first, which = td.followed(result)
        tries = td.candidates(result) or (first,)
        if not tries[0].safe:
            raise RoverError(
                f"the followed touchdown ({td.follow} {which}) is {first.outcome}: "
                f"{first.reason}; no rover to operate (choose another [touchdown] run)"
            )
        for k, run in enumerate(tries):
            progress(0.1 + 0.05 * k / len(tries), "hazard map at deployment")
            hm = hazard_map(
                dem,
                hazard_limits(mission.rover, mission.lander),
                sun=resolve_sun(dem, when=mission.deploy_time),
                lander=lander_site(mission.lander, run.x, run.y),
                rock_abundance=rock_k,
            )
            h = deploy(
                run, hm, mission.lander, mission.rover, time=mission.touchdown_utc, crs=dem.crs
            )
            if h.deployed:
                break
        if not h.deployed:
            tried = f" (the first {len(tries)} nominal runs)" if len(tries) > 1 else ""
            raise RoverError(
                f"no deployment{tried}: " + "; ".join(h.reasons) + "; no rover to operate"
            )
        side_az = next((s.azimuth_deg for s in h.sides if s.side_deg == h.side_deg), None)
        ctx = OpsContext(
            rover=mission.rover,
            lander=mission.lander,
            ops=mission.operations,
            rules=mission.planner.stops,
            mission_end=h.start_time + timedelta(days=mission.days),
            seed=mission.seed,
            time_limit_s=mission.planner.time_limit_s,
            waivers=tuple((w.rule, w.reason) for w in mission.waivers),
        )
        progress(0.15, "orbital map and first plan")
        world = build_world(
            hm,
            rock_abundance=float(np.nanmean(rock_k)),
            ctx=ctx,
            sim=mission.sim,
            start_time=h.start_time,
            start_cell=h.start_rowcol(dem),
            start_xy=(h.start.x, h.start.y),
            start_heading_deg=h.start.heading_deg,
            start_soc_wh=h.start_battery_wh,
            camera_azimuth_deg=side_az,
            seed=mission.seed,
            progress=lambda f, s="": progress(0.15 + 0.2 * f, s),
        )
        progress(0.35, f"{runs} runs")
        records = simulate_runs(
            world,
            runs=runs,
            seed=seed,
            chunk=chunk,
            scheduler=scheduler,
            workers=workers,
            progress=lambda f, s="": progress(0.35 + 0.55 * f, s),
        )
        progress(0.9, "writing")
        summary = {
            "mission": mission.name,
            "seed": seed,
            "chunk": chunk,
            **summarise(records),
            "mission_start_utc": utc_iso(h.start_time),
            "mission_end_utc": utc_iso(ctx.mission_end),
        }
        why = notes(mission, world)
        rows = [r.row() for r in records]
        outputs = _write(stage.path, dem, world, records, rows, summary, why)
        outputs["report"] = write_page(
            stage.path / "report.html",
            ops_sim_report_html(summary, rows, outputs, notes=why, descriptions=_DESCRIPTIONS),
        )
        outputs["manifest"] = write_job_manifest(
            stage.path / "manifest.json",
            job="ops-sim",
            inputs=[],
            outputs=outputs,
            parameters={
                "mission": mission.parameters(),
                "runs": runs,
                "chunk": chunk,
                "seed": seed,
                "scheduler": scheduler,
            },
            summary=summary,
            descriptions=_DESCRIPTIONS,
        )
    progress(1.0, "done")
    return JobResult(out_dir, stage.final(outputs), summary)


def _write(out, dem, world, records, rows, summary, why) -> dict[str, pathlib.Path]:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    outputs = {"ops_runs": write_text(out / "ops_runs.csv", buf.getvalue())}
    doc = {
        "summary": summary,
        "models": why,
        "runs": [
            {**r.row(), "achieved": list(r.achieved), "events": list(r.events)} for r in records
        ],
    }
    outputs["ops_summary"] = write_text(
        out / "ops_summary.json", json.dumps(plain(doc), indent=1, allow_nan=False) + "\n"
    )
    p = world.first.plan
    feats: list[dict[str, Any]] = []
    for k, cells in enumerate(p.legs):
        xs, ys = dem.xy(cells[:, 0], cells[:, 1])
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": np.c_[xs, ys].round(3).tolist()},
                "properties": {"layer": "first plan", "leg": k},
            }
        )
    for k in range(len(p.stops)):
        feats.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(p.stops.x[k]), float(p.stops.y[k])],
                },
                "properties": {"layer": "first plan stop", "stop": k, "kind": p.stops.kind[k]},
            }
        )
    for r in records:
        for layer, track in (("true track", r.track_xy), ("believed track", r.believed_xy)):
            if len(track) >= 2:
                feats.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": [list(t) for t in track]},
                        "properties": {"layer": layer, "run": r.run, "seed": r.seed},
                    }
                )
    outputs["ops_tracks"] = write_geojson(
        out / "ops_tracks.geojson", feats, dem.crs, properties={"what": "ops simulation tracks"}
    )
    outputs["ops_png"] = figures.ops_figure(world, records, out / "ops.png")
    outputs["ops_metrics_png"] = figures.ops_metrics_figure(records, out / "ops_metrics.png")
    return outputs
