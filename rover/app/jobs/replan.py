"""The job behind ``frigoris replan``: a new plan from telemetry and rover-seen hazards.

Reads the run folder's ``plan_state.json`` (and the hazard map and horizons it names, checked
against their SHA-256), the telemetry and the hazards; plans the rest of the mission from the
rover's actual state (:func:`frigoris.rover.replan.replan`) and writes the same files as a plan
(``sequence.json`` checked by the flight rules), ``hazards.geojson`` (every rover-seen hazard
kept out), ``report.html`` (what changed) and ``manifest.json``. Bad telemetry is refused with
one line and nothing is written.
"""

from __future__ import annotations

import pathlib

import numpy as np

from frigoris.terrain import write_geojson

from ...energy import horizons_from_codes
from ...errors import RoverError
from ...progress import ProgressCallback, no_progress
from ...replan import replan
from ..formats import utc_at
from ..products.hazard_files import load_hazard
from ..products.manifest import write_job_manifest
from ..products.ops_files import read_plan_state
from ..products.ops_report import replan_report_html, write_page
from ..products.plan_files import PLAN_FILES, plan_summary, write_plan
from ..provenance import sha256_file
from ..results import JobResult
from .output_folder import staged_output
from .telemetry import read_seen_hazards, read_telemetry

__all__ = ["REPLAN_FILES", "replan_job"]

REPLAN_FILES = (
    *(f for f in PLAN_FILES if f != "horizons.npy"),
    "hazards.geojson",
    "report.html",
    "manifest.json",
)
"""Every file a replan writes (it names the first plan's horizons, it does not copy them)."""

_DESCRIPTIONS = {
    "hazards.geojson": "every hazard the rover saw, kept out of this plan (map coordinates)",
    "report.html": "the replan for people: the telemetry, what changed, the new plan",
}


def _referenced(run_dir: pathlib.Path, ref: dict | None, what: str) -> pathlib.Path:
    if ref is None:
        raise RoverError(
            f"{run_dir}'s plan was made on a DEM without a hazard.tif: nothing to replan on; "
            "plan on a hazard map (`frigoris hazard`, then `frigoris plan hz/hazard.tif`)"
        )
    path = (run_dir / ref["path"]).resolve()
    if not path.is_file():
        raise RoverError(
            f"{run_dir}/plan_state.json names {what} {ref['path']}, which does not exist; keep "
            "the run folders together"
        )
    if path.stat().st_size != ref["bytes"] or sha256_file(path) != ref["sha256"]:
        raise RoverError(
            f"{path} is not the {what} the plan in {run_dir} was made on (its SHA-256 differs)"
        )
    return path


def replan_job(
    run_dir: pathlib.Path,
    telemetry: pathlib.Path,
    out_dir: pathlib.Path,
    *,
    hazards: pathlib.Path | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> JobResult:
    """Plan again from telemetry (see the module notes).

    Raises
    ------
    TelemetryError
        Telemetry or hazards that cannot be right.
    RoverError
        A run folder without a plan state, or whose hazard map or horizons changed.
    SequenceError
        The new sequence breaks a flight rule no waiver covers.
    """
    run_dir = pathlib.Path(run_dir)
    state = read_plan_state(run_dir)
    hazard_path = _referenced(run_dir, state.get("hazard_map"), "hazard map")
    hz = state["horizons"]
    horizons_path = _referenced(run_dir, hz, "horizon map")
    with staged_output(out_dir, owned=REPLAN_FILES, overwrite=overwrite) as stage:
        progress(0.0, "hazard map")
        hm = load_hazard(hazard_path)
        codes = np.load(horizons_path, allow_pickle=False)
        if codes.shape[1:] != hm.grid.shape:
            raise RoverError(
                f"{horizons_path} is {codes.shape[1:]}, the hazard map {hm.grid.shape}: they "
                "are not of one run"
            )
        horizons = horizons_from_codes(
            codes,
            azimuths_deg=np.asarray(hz["azimuths_deg"], dtype=np.float64),
            res_m=float(hz["res_m"]),
            body_radius_m=float(hz["body_radius_m"]),
            lines_per_cell=int(hz["lines_per_cell"]),
        )
        progress(0.15, "telemetry")
        tel = read_telemetry(telemetry, hm.grid)
        seen = read_seen_hazards(hazards, hm.grid) if hazards is not None else ()
        rr = replan(
            state, hm, horizons, tel, seen, progress=lambda f, s="": progress(0.2 + 0.65 * f, s)
        )
        progress(0.85, "writing")
        outputs = write_plan(
            rr.result,
            hm,
            stage.path,
            hazard_path=hazard_path,
            final_dir=pathlib.Path(out_dir),
            horizons_path=horizons_path,
            previous=state,
            changes=list(rr.changes),
        )
        if rr.result.hazards:
            outputs["hazards"] = write_geojson(
                stage.path / "hazards.geojson",
                list(rr.result.hazards),
                hm.grid.crs,
                properties={"what": "hazards seen by the rover, kept out of the plan"},
            )
        summary = {
            "telemetry_utc": utc_at(tel.time, 0.0),
            "changes": list(rr.changes),
            **plan_summary(rr.result),
        }
        outputs["report"] = write_page(
            stage.path / "report.html",
            replan_report_html(rr, outputs, run_dir=str(run_dir), descriptions=_DESCRIPTIONS),
        )
        inputs = [
            ("previous plan state", run_dir / "plan_state.json"),
            ("hazard map", hazard_path),
            ("horizons", horizons_path),
            ("telemetry", pathlib.Path(telemetry)),
        ]
        if hazards is not None:
            inputs.append(("rover-seen hazards", pathlib.Path(hazards)))
        outputs["manifest"] = write_job_manifest(
            stage.path / "manifest.json",
            job="replan",
            inputs=inputs,
            outputs=outputs,
            parameters={
                "waivers": [{"rule": r, "reason": w} for r, w in rr.result.context.waivers],
                "stops_done": list(tel.stops_done),
                "commands_executed": tel.commands_executed,
            },
            summary=summary,
            descriptions=_DESCRIPTIONS,
        )
    progress(1.0, "done")
    return JobResult(pathlib.Path(out_dir), stage.final(outputs), summary)
