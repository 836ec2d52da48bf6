"""What the jobs return: files written, the summary, the chain's steps, and provenance."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .provenance import frigoris_version

if TYPE_CHECKING:  # annotations only: a command loads the models it runs, not every job's
    from frigoris.terrain import Dem
    from frigoris.terrain.hazard import HazardMap
    from frigoris.terrain.synth import SyntheticSite

    from ..deploy import Handoff
    from ..planning import PlanResult
    from ..touchdown import TouchdownResult, TouchdownRun
    from .mission_file import Mission

__all__ = ["JobResult", "MissionResult", "Step", "provenance"]


@dataclass(frozen=True)
class JobResult:
    """What a job wrote and the numbers worth printing."""

    out_dir: pathlib.Path
    outputs: dict[str, pathlib.Path]
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One step of the chain: ``done``, ``stopped`` (the chain ends here, why) or ``skipped``."""

    name: str
    status: str
    detail: str


@dataclass(frozen=True, eq=False)
class MissionResult:
    """Everything a mission run produced: files, objects for the report, and where it stopped."""

    mission: Mission
    out_dir: pathlib.Path
    outputs: dict[str, pathlib.Path]
    summary: dict[str, Any]
    steps: tuple[Step, ...]
    dem: Dem
    label: str
    site: SyntheticSite | None = None
    touchdowns: tuple[TouchdownResult, ...] = ()
    touchdown: TouchdownRun | None = None
    target_xy: tuple[float, float] | None = None
    hazard: HazardMap | None = None
    handoff: Handoff | None = None
    plan: PlanResult | None = None
    stopped: str | None = None
    targets_xy: tuple = ()

    def job_result(self) -> JobResult:
        """Return the generic job result the CLI prints."""
        return JobResult(self.out_dir, self.outputs, self.summary)


def provenance(mission: Mission) -> dict[str, Any]:
    """Provenance written into GeoTIFF tags and GeoJSON properties (deterministic)."""
    m = mission.inputs[0] if mission.inputs else None
    return {
        "frigoris_version": frigoris_version(),
        "frigoris_mission": mission.name,
        "frigoris_mission_file": m.path if m else mission.source,
        "frigoris_mission_sha256": m.sha256 if m else "",
        "frigoris_seed": mission.seed,
    }
