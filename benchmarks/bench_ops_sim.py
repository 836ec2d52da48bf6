"""Twenty simulated ten-day missions on the 1 km site within 10 minutes on 2 cores (issue 15).

The timed part is ``frigoris ops-sim`` on the built-in HAKUTO-R mission (following the first
nominal touchdown from which the rover deploys, ``OVERRIDES``) as a user runs it, in
the process: the site, the touchdown, the hazard map and the handoff as the mission makes them,
the orbital DTM and its hazard map, the first plan on it, both horizon maps, then 20 runs on
Dask (local processes, chunks of 5) and every file. The peer, measured in the same run, is the
same 20 runs on one worker (the synchronous scheduler) on the same world, against the runs alone
on Dask processes: the ratio is what the second core buys.

PASS needs the target met, the same records on both schedulers (the runs depend on the seed
and the chunk only), and runs that drove.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
import time

from benchmarks.common import verdict

RUNS = int(os.environ.get("FRIGORIS_BENCH_OPS_RUNS", "20"))
OVERRIDES: tuple[str, ...] = ()
"""The built-in mission as it is: it follows the first nominal touchdown that deploys."""


def main() -> None:
    import frigoris.rover.ops_sim as ops_sim
    from frigoris.rover.app.jobs.ops_sim import ops_sim_job

    worlds = []
    real = ops_sim.build_world

    def keep(*a, **k):
        worlds.append(real(*a, **k))
        return worlds[-1]

    ops_sim.build_world = keep
    import frigoris.rover.app.jobs.ops_sim as job

    job.build_world = keep
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "ops"
        t0 = time.perf_counter()
        ops_sim_job(
            "hakuto-r-m2", out, runs=RUNS, chunk=5, scheduler="processes", overrides=OVERRIDES
        )
        t = time.perf_counter() - t0
        rows = json.loads((out / "ops_summary.json").read_text())["runs"]
    ops_sim.build_world = job.build_world = real
    t1 = time.perf_counter()
    ops_sim.simulate_runs(worlds[0], runs=RUNS, seed=0, chunk=5, scheduler="processes")
    par_runs = time.perf_counter() - t1
    t1 = time.perf_counter()
    seq = ops_sim.simulate_runs(worlds[0], runs=RUNS, seed=0, chunk=5, scheduler="synchronous")
    peer_runs = time.perf_counter() - t1
    same = [r.row() for r in seq] == [
        {k: v for k, v in r.items() if k not in ("achieved", "events")} for r in rows
    ]
    drove = sum(r["distance_m"] > 0 for r in rows)
    mean_d = sum(r["distance_m"] for r in rows) / len(rows)
    print(
        f"BENCH ops-sim {RUNS} ten-day runs, 1 km site: frigoris ops-sim in {t:.0f} s on "
        f"{os.cpu_count()} cores (target <= 600 s), of which the runs on Dask processes "
        f"{par_runs:.0f} s; peer: the same runs on one worker {peer_runs:.0f} s, ratio "
        f"{par_runs / peer_runs:.2f}; "
        f"same records on both: {same}; {drove}/{RUNS} runs drove (mean {mean_d:.0f} m) "
        f"{verdict(t <= 600 and same and drove == RUNS)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
