"""Measure how much work each of the solver's engines does per CPU second.

``python -m benchmarks.calibrate_orienteering`` runs, on a sample of the generated instances,
the compiled ruin-and-recreate search alone, CP-SAT alone and (with time windows) the
ng-route DP bound alone, each for a fixed amount of its own deterministic work, and prints
the work done per CPU second of the process (CPU seconds, not wall seconds: on a shared
machine the wall clock mostly measures the neighbours). The solver's budgets per second of
``time_limit_s`` (``_HEUR_PER_SECOND``, ``_CP_PER_SECOND``, ``_NG_PER_SECOND`` in
:mod:`frigoris.planners.orienteering`) are set a little below the medians, so that each of the
two threads ends within the time limit on two free cores.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.orienteering_instances import load
from frigoris.planners import orienteering as o

SAMPLE = ("op50_m_g2", "op100_c_g2", "optw50_c2", "optw100_u1", "traverse_s0_w", "tw150")
HEUR_WORK = 2e8
CP_WORK = 1.0
NG_WORK = 2e8


def main() -> None:
    heur, cp, ng = [], [], []
    for p in load():
        if p.name not in SAMPLE:
            continue
        spec = o._validate(p.travel, p.prizes, p.budget, p.start, p.end, p.service, p.windows)
        g, _, _ = o._prune(o._internal_graph(spec), spec.budget)
        safe = o._int_model(g, spec.budget, optimistic=False)
        relaxed = o._int_model(g, spec.budget, optimistic=True)
        search = o._Search(safe, o._earliest_route(safe), 0, HEUR_WORK)
        search.run(1.0, time.perf_counter() + 1e6)  # compile and polish first
        c0 = time.process_time()
        search.run(HEUR_WORK, time.perf_counter() + 1e6)
        h = HEUR_WORK / (time.process_time() - c0)
        prover = o._Prover(relaxed, lambda r: True, 0)
        c0 = time.process_time()
        solved = prover.solve(search.route, CP_WORK, time.perf_counter() + 1e6)
        c = solved.work / (time.process_time() - c0)
        heur.append(h)
        cp.append(c)
        line = f"  {p.name:16s} search {h:.3g} units/CPU s, CP-SAT {c:.3g} work/CPU s"
        if relaxed.needs_times:
            c0 = time.process_time()
            _, work = o._ng_bound(relaxed, NG_WORK)
            seconds = time.process_time() - c0
            if work > 0:
                ng.append(work / seconds)
                line += f", ng-route DP {ng[-1]:.3g} units/CPU s"
        print(line, flush=True)
    print(
        f"CALIBRATION orienteering: search median {statistics.median(heur):.3g} units/CPU s "
        f"(solver uses {o._HEUR_PER_SECOND:.3g}/s), CP-SAT median {statistics.median(cp):.3g} "
        f"work/CPU s (solver uses {o._CP_PER_SECOND:.3g}/s), ng-route DP median "
        f"{statistics.median(ng) if ng else float('nan'):.3g} units/CPU s (solver uses "
        f"{o._NG_PER_SECOND:.3g}/s)"
    )


if __name__ == "__main__":
    main()
