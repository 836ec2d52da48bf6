"""A descent Monte Carlo's files: every run, one run's telemetry, a summary and two figures."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

from frigoris.terrain.io import write_text

from ... import _descent_kernels as K
from ...descent import PROBE_ALTITUDES_M, ApproachProfile, DescentBatch, DescentResult
from ...descent_plots import descent_profile_figure, impact_figure
from ..formats import num, plain

__all__ = ["DESCENT_FILES", "write_descent"]

DESCENT_FILES = (
    "descent_runs.csv",
    "descent_telemetry.csv",
    "descent_summary.json",
    "descent_profile.png",
    "descent_impacts.png",
)
"""Every file a descent Monte Carlo writes."""


def runs_csv(batch: DescentBatch) -> str:
    """One row per run: its seed, outcome and the moments that explain it (empty: never)."""
    probes = [f"speed_at_{h:g}m_m_s" for h in PROBE_ALTITUDES_M]
    names = ["run", "seed", *K.SUMMARY_NAMES, *probes]
    lines = [",".join(names)]
    outcomes = batch.outcomes
    for i in range(len(batch)):
        row = batch.table[i]
        cells = [str(i), str(int(batch.seeds[i])), str(outcomes[i])]
        for v in row[1:]:
            x = num(v, 3)
            cells.append("" if x is None else f"{x:g}")
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def _scenario_doc(result: DescentResult) -> dict[str, Any]:
    doc = dataclasses.asdict(result.scenario)
    if isinstance(result.scenario.terrain, ApproachProfile):
        doc["terrain"] = result.scenario.terrain.name
    doc["approach_terrain_source"] = result.profile.source
    return doc


def write_descent(
    out_dir: pathlib.Path,
    batch: DescentBatch,
    telemetry: DescentResult,
    *,
    telemetry_run: int,
) -> dict[str, pathlib.Path]:
    """Write :data:`DESCENT_FILES` into ``out_dir``; return them by key.

    ``telemetry`` is run ``telemetry_run`` of ``batch`` flown again with its telemetry.
    """
    outputs = {
        "runs": write_text(out_dir / "descent_runs.csv", runs_csv(batch)),
        "telemetry": write_text(out_dir / "descent_telemetry.csv", telemetry.telemetry.to_csv()),
    }
    doc = {
        "what": "Monte Carlo descents of one scenario (frigoris.rover.descent)",
        "scenario": _scenario_doc(telemetry),
        "lander": batch.lander,
        "seed": batch.seed,
        "summary": batch.summary(),
        "telemetry_run": {
            "run": telemetry_run,
            "seed": telemetry.run.seed,
            "outcome": telemetry.run.outcome,
            "reason": telemetry.run.reason,
        },
    }
    text = json.dumps(plain(doc), indent=2, allow_nan=False, default=str) + "\n"
    outputs["summary"] = write_text(out_dir / "descent_summary.json", text)
    outputs["profile"] = descent_profile_figure(
        [telemetry],
        out_dir / "descent_profile.png",
        titles=[
            f"{batch.scenario.name}, run {telemetry_run} of {len(batch)} (seed "
            f"{telemetry.run.seed})"
        ],
    )
    outputs["impacts"] = impact_figure(batch, out_dir / "descent_impacts.png")
    return outputs
