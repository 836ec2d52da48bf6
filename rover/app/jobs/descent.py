"""Job behind ``frigoris descent``: Monte Carlo descents of one scenario, and one replayed."""

from __future__ import annotations

import pathlib

from ...descent import DescentBatch, scenario, simulate_descent, simulate_descents_distributed
from ...errors import TouchdownError
from ...progress import ProgressCallback, no_progress
from ...specs import LanderSpec
from ..products.descent_files import DESCENT_FILES, write_descent
from ..results import JobResult
from .output_folder import staged_output

__all__ = ["descent_job"]


def descent_job(
    out_dir: pathlib.Path,
    *,
    scenario_name: str = "nominal",
    runs: int = 1000,
    seed: int = 0,
    chunk: int = 1000,
    scheduler=None,
    telemetry_run: int = 0,
    lander: LanderSpec | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> tuple[JobResult, DescentBatch]:
    """Descents of one scenario in seeded chunks (local threads or a Dask cluster).

    Writes every run (``descent_runs.csv``), run ``telemetry_run`` flown again with its
    telemetry (``descent_telemetry.csv``, ``descent_profile.png``), the contact points
    (``descent_impacts.png``) and a summary (``descent_summary.json``).
    """
    lander = lander or LanderSpec.load()
    sc = scenario(scenario_name)
    if not 0 <= telemetry_run < runs:
        raise TouchdownError(
            f"--telemetry-run {telemetry_run} is not one of the {runs} runs; give 0..{runs - 1}"
        )
    with staged_output(out_dir, owned=DESCENT_FILES, overwrite=overwrite) as stage:
        batch = simulate_descents_distributed(
            sc,
            lander,
            runs=runs,
            seed=seed,
            chunk=chunk,
            scheduler=scheduler,
            progress=lambda f, s="": progress(0.85 * f, s),
        )
        progress(0.85, "telemetry")
        replay = simulate_descent(sc, lander, seed=int(batch.seeds[telemetry_run]))
        progress(0.9, "writing")
        outputs = write_descent(stage.path, batch, replay, telemetry_run=telemetry_run)
    progress(1.0, "done")
    s = batch.summary()
    summary = {
        "scenario": sc.name,
        "runs": runs,
        "seed": seed,
        "soft": s["soft"],
        "hard": s["hard"],
        "crash": s["crash"],
        "range finder declared failed": s["p_sensor_failed"],
        "median first valid range altitude (m)": s["median_first_valid_altitude_m"],
        "median contact speed (m/s)": s["median_contact_speed_m_s"],
        f"run {telemetry_run}": replay.run.reason,
    }
    return JobResult(out_dir, stage.final(outputs), summary), batch
