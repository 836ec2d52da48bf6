"""Benchmark of planners.solve_orienteering, as a user calls it (``time_limit_s=10``, seed 0).

1. The 49 Tsiligirides instances (``benchmarks/data/op``, 21-33 nodes, start != end), against
   the best published scores: fraction at the best score, mean gap, worst time (target
   <= 10 s each), and zero infeasible routes, each route rechecked in exact arithmetic.
   Three published scores (1975-2000s heuristics) exceed what any route can collect with
   the exact Euclidean distances; where the solver *proves* its route optimal and a published
   score is higher, that score is reported as unattainable and the fraction is also given
   against the best published score that is attainable.
2. The generated instances of ``benchmarks/data/orienteering`` (see
   :mod:`benchmarks.orienteering_instances`) against their proven optima (``proven.csv``, from
   long runs of :mod:`benchmarks.prove_orienteering`) and against the solver before issue 18
   (its prize on each instance, ``legacy_prize``, recorded by the same script): fraction at
   the optimum, mean gap, proofs within the run, median and worst time; targets (issue 18):
   at the optimum on >= 95 % of the 50-100-node instances, mean gap <= 0.5 % on the
   100-node time-window instances.
3. ``tw150``, the 150-node rover-like instance with windows, and the traverse planner's own
   instances: the gap between the route's prize and the best bound ever proven for the
   instance, against the same gap for the solver before issue 18 (at most half), and for
   ``tw150`` against issue 18's own target (at most half the 34 % gap the issue was filed
   with); the bounds of ``proven.csv`` are CP-SAT's (long runs) or, lower where they are,
   ng-route dynamic programming's (:mod:`benchmarks.orienteering_ng_bound`). And the same
   route on a second run.

Gaps are relative to the reference: ``(reference - prize) / reference``.
"""

from __future__ import annotations

import itertools
import statistics
import time
from fractions import Fraction

import numpy as np

from benchmarks.common import verdict
from benchmarks.op_instances import load_tsiligirides, op_dir
from benchmarks.orienteering_instances import Problem, gap, load, load_known
from frigoris.planners.orienteering import Route, check_route, solve_orienteering

TIME_LIMIT_S = 10.0
FRACTION_TARGET = 0.95
GAP_TARGET = 0.005
#: The instance and the gap of issue 18's last target: "on the 150-node benchmark with windows
#: the route reaches 66 % of the CP-SAT bound" (34 % below it); the target is half that gap,
#: against the best bound anyone can prove.
ISSUE_INSTANCE = "tw150"
ISSUE_GAP = 0.34
#: Relative tolerance when comparing a prize with a recorded optimum (prizes of the traverse
#: instances are not dyadic; a proof holds up to the solver's prize rounding, about 2**-40).
SAME = 1e-9


def exact_length(travel: np.ndarray, nodes: tuple[int, ...]) -> Fraction:
    """Route length as the exact sum of the float legs (independent of the solver)."""
    return sum((Fraction(float(travel[a, b])) for a, b in itertools.pairwise(nodes)), Fraction(0))


def tsiligirides() -> None:
    root = op_dir()
    if not root.exists():
        print(f"BENCH orienteering: SKIPPED, {root} not found")
        return
    rows = []
    for inst in load_tsiligirides(root):
        travel = inst.travel()
        t0 = time.perf_counter()
        route = solve_orienteering(
            travel, inst.prizes, inst.budget, start=0, end=1, time_limit_s=TIME_LIMIT_S
        )
        seconds = time.perf_counter() - t0
        problems = check_route(route, travel, inst.prizes, inst.budget, start=0, end=1)
        feasible = not problems and exact_length(travel, route.nodes) <= Fraction(inst.budget)
        proven_short = route.status == "optimal" and inst.best_known > route.prize
        attainable = [s for _, s in inst.published if s <= route.bound] or [route.prize]
        best_attainable = inst.best_known if not proven_short else max(attainable)
        rows.append((inst, route, seconds, feasible, proven_short, best_attainable))
        flag = "" if route.prize >= inst.best_known else "  below best_reported"
        if proven_short:
            flag += f" (proven optimum {route.prize:g}; published {dict(inst.published)})"
        print(
            f"  {inst.name:36s} Tmax={inst.budget:<5g} prize={route.prize:<5g} "
            f"best={inst.best_known:<5g} {route.status:10s} {seconds:5.2f} s{flag}",
            flush=True,
        )

    n = len(rows)
    at_best = sum(r.prize >= i.best_known for i, r, *_ in rows)
    at_attainable = sum(r.prize >= b for i, r, _, _, _, b in rows)
    gaps = [(i.best_known - r.prize) / i.best_known for i, r, *_ in rows]
    gaps_att = [(b - r.prize) / b for i, r, _, _, _, b in rows]
    worst = max(s for _, _, s, *_ in rows)
    median = statistics.median(s for _, _, s, *_ in rows)
    infeasible = sum(not f for _, _, _, f, _, _ in rows)
    unattainable = [i.name.removeprefix("tsiligirides_") for i, _, _, _, p, _ in rows if p]
    optimal = sum(r.status == "optimal" for _, r, *_ in rows)
    frac = at_best / n
    frac_att = at_attainable / n
    print(
        f"BENCH orienteering: tsiligirides at best_reported score {at_best}/{n} = {frac:.1%}, "
        f"mean gap {statistics.mean(gaps):.2%} (report: best_reported is above the proven "
        f"optimum on {len(unattainable)}: {', '.join(unattainable) or 'none'}); at the best "
        f"attainable published score {at_attainable}/{n} = {frac_att:.1%}, mean gap "
        f"{statistics.mean(gaps_att):.2%}"
    )
    print(
        f"BENCH orienteering: tsiligirides proven optimal within the run {optimal}/{n} "
        f"ratio={optimal / n:.3f} (target: every instance) {verdict(optimal == n)}"
    )
    print(
        f"BENCH orienteering: tsiligirides worst time {worst:.2f} s (median {median:.2f} s) "
        f"ratio={worst / TIME_LIMIT_S:.3f} (target <= {TIME_LIMIT_S:g} s) "
        f"{verdict(worst <= TIME_LIMIT_S)}"
    )
    print(
        f"BENCH orienteering: tsiligirides infeasible routes {infeasible}/{n} "
        f"(target 0, exact-arithmetic recheck) {verdict(infeasible == 0)}"
    )


def run(p: Problem) -> tuple[Route, float, bool, float]:
    """Solve as a user would; the route, the seconds, whether it passed the recheck, CPU s.

    The CPU seconds are the process's (both threads); on a machine shared with other work
    the wall seconds mostly measure the neighbours, the CPU seconds do not.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    route = solve_orienteering(
        p.travel, p.prizes, p.budget, time_limit_s=TIME_LIMIT_S, seed=0, **p.kwargs()
    )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    feasible = not check_route(route, p.travel, p.prizes, p.budget, **p.kwargs())
    return route, seconds, feasible, cpu


def summary(label: str, rows: list[tuple], target_fraction: bool, target_gap: bool) -> None:
    """One line over instances with a proven optimum: at optimum, gaps, proofs, times."""
    proven = [r for r in rows if r[1].optimum is not None]
    if not proven:
        print(f"BENCH orienteering: {label}: no proven optimum recorded, SKIPPED")
        return
    n = len(proven)
    at = sum(r[2].prize >= r[1].optimum * (1 - SAME) for r in proven)
    legacy_at = sum(
        r[1].legacy_prize is not None and r[1].legacy_prize >= r[1].optimum * (1 - SAME)
        for r in proven
    )
    gaps = [gap(r[2].prize, r[1].optimum) for r in proven]
    legacy_gaps = [gap(r[1].legacy_prize or 0.0, r[1].optimum) for r in proven]
    in_run = sum(r[2].status == "optimal" for r in proven)
    capped = sum(r[2].status == "time_limit" for r in rows)
    times = [r[3] for r in rows]
    cpus = [r[4] for r in rows]
    open_ = [r for r in rows if r[1].optimum is None]
    rest = ""
    if open_:
        rest = (
            f"; {len(open_)} more without a proven optimum: mean gap to the best prize known "
            f"{statistics.mean(gap(r[2].prize, r[1].best) for r in open_):.2%}, to the best "
            f"bound proven {statistics.mean(gap(r[2].prize, r[1].bound) for r in open_):.2%}"
        )
    frac = at / n
    mean_gap = statistics.mean(gaps)
    checks = []
    if target_fraction:
        checks.append(
            f"ratio={frac / FRACTION_TARGET:.3f} (target >= {FRACTION_TARGET:.0%}) "
            f"{verdict(frac >= FRACTION_TARGET)}"
        )
    if target_gap:
        checks.append(
            f"gap ratio={mean_gap / GAP_TARGET:.3f} (target <= {GAP_TARGET:.1%}) "
            f"{verdict(mean_gap <= GAP_TARGET)}"
        )
    print(
        f"BENCH orienteering: {label}: at proven optimum {at}/{n} = {frac:.1%} "
        f"(before: {legacy_at}/{n}), mean gap {mean_gap:.2%} (before: "
        f"{statistics.mean(legacy_gaps):.2%}), proven within the run {in_run}/{n}{rest}; "
        f"wall time median {statistics.median(times):.1f} s worst {max(times):.1f} s, CPU "
        f"time (two threads) median {statistics.median(cpus):.1f} s worst {max(cpus):.1f} s, "
        f"stopped by the wall cap {capped}/{len(rows)}; " + "; ".join(checks or ["(report)"]),
        flush=True,
    )


def generated() -> None:
    known = load_known()
    problems = load()
    if not problems or not known:
        print("BENCH orienteering: generated instances or proven.csv missing, SKIPPED")
        return
    rows = []
    infeasible = 0
    for p in problems:
        k = known.get(p.name)
        if k is None:
            print(f"  {p.name}: not in proven.csv, skipped")
            continue
        route, seconds, feasible, cpu = run(p)
        infeasible += not feasible
        rows.append((p, k, route, seconds, cpu))
        ref = "optimum" if k.optimum is not None else "bound"
        print(
            f"  {p.name:16s} n={p.n:<4d} prize={route.prize:<10.6g} {ref}="
            f"{(k.optimum if k.optimum is not None else k.bound):<10.6g} "
            f"gap={gap(route.prize, k.optimum if k.optimum is not None else k.bound):6.2%} "
            f"before={k.legacy_prize if k.legacy_prize is not None else float('nan'):<10.6g} "
            f"{route.status:10s} bound={route.bound:<10.6g} {seconds:5.1f} s (CPU {cpu:5.1f} s)",
            flush=True,
        )
    small = [r for r in rows if r[0].family in ("op", "optw") and 50 <= r[0].n <= 101]
    summary("op 50-100 nodes", [r for r in small if r[0].family == "op"], False, False)
    summary("optw 50-100 nodes", [r for r in small if r[0].family == "optw"], False, False)
    summary("optw 100 nodes", [r for r in small if r[0].name.startswith("optw100")], False, True)
    summary("all 50-100-node instances", small, True, False)
    summary(
        "traverse planner's instances", [r for r in rows if r[0].family == "traverse"], False, False
    )
    for p, k, route, *_ in rows:
        if p.family not in ("rover", "traverse") or k.legacy_prize is None:
            continue
        now = gap(route.prize, k.bound)
        before = gap(k.legacy_prize, k.bound)
        if p.name == ISSUE_INSTANCE:
            # issue 18's target: half the gap it was filed with, against the best bound proven
            target = 0.5 * ISSUE_GAP
            print(
                f"BENCH orienteering: {p.name} ({p.n} nodes) prize {route.prize:.6g} against "
                f"the best bound ever proven {k.bound:.6g}: gap {now:.2%} ratio="
                f"{now / target:.3f} (target <= {target:.0%}, half the {ISSUE_GAP:.0%} of "
                f"issue 18) {verdict(now <= target)}",
                flush=True,
            )
        ok = now <= 0.5 * before or route.prize >= k.bound * (1 - SAME)
        print(
            f"BENCH orienteering: {p.name} ({p.n} nodes) prize {route.prize:.6g} against the "
            f"best bound ever proven {k.bound:.6g}: gap {now:.2%}, before {before:.2%} "
            f"(prize {k.legacy_prize:.6g}, same bound) ratio="
            f"{now / before if before else 0.0:.3f} (target <= 0.5) {verdict(ok)}",
            flush=True,
        )
        if k.legacy_bound is not None:
            # the gap each solver reports itself: its prize against the bound it proved in the run
            own_before = gap(k.legacy_prize, k.legacy_bound)
            ok = route.gap <= 0.5 * own_before or route.status == "optimal"
            print(
                f"BENCH orienteering: {p.name} ({p.n} nodes) the route's own gap (prize "
                f"{route.prize:.6g}, bound {route.bound:.6g} proven in the run) {route.gap:.2%}, "
                f"before {own_before:.2%} (prize {k.legacy_prize:.6g}, bound "
                f"{k.legacy_bound:.6g}) ratio={route.gap / own_before if own_before else 0.0:.3f}"
                f" (target <= 0.5) {verdict(ok)}",
                flush=True,
            )
    print(
        f"BENCH orienteering: generated instances infeasible routes {infeasible}/{len(rows)} "
        f"(target 0, exact-arithmetic recheck) {verdict(infeasible == 0)}"
    )


def determinism() -> None:
    p = next((q for q in load("rover") if q.name == "tw150"), None)
    if p is None:
        return
    first, s1, *_ = run(p)
    second, s2, *_ = run(p)
    capped = "time_limit" in (first.status, second.status)
    same = first == second
    print(
        f"BENCH orienteering: tw150 twice: same route {same} ({first.status}, {s1:.1f} s / "
        f"{second.status}, {s2:.1f} s) {verdict(same and not capped)}"
        + (" (a run was cut by the wall cap: not reproducible)" if capped else "")
    )


def main() -> None:
    tsiligirides()
    generated()
    determinism()


if __name__ == "__main__":
    main()
