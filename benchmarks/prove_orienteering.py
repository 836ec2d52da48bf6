"""Prove the optima of the generated instances once, and record the solver of before issue 18.

``python -m benchmarks.prove_orienteering [--time-limit S] [--seed K] [NAME ...]`` runs
:func:`solve_orienteering` with a long time limit on each instance of
``benchmarks/data/orienteering`` (or the named ones) and merges what it learns into
``proven.csv``: the best prize ever found, the lowest bound ever proven, and the optimum when a
run proves it (status ``optimal``: CP-SAT closed the bound on a route that passed the exact
check). Runs with other seeds or longer limits only ever raise ``best`` and lower ``bound``.

``--legacy`` instead records ``legacy_prize`` and ``legacy_bound``: the prize and bound the
solver as it was before issue 18 (commit 70c3219, read with ``git show``) returns with
``time_limit_s=10`` and seed 0. That
solver stopped at deterministic work limits with the wall clock as a cap; its clock is slowed
here so that only the work limits end it, as on an idle machine (reproducible).

Every route is re-checked with :func:`check_route` before anything is recorded.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import pathlib
import subprocess
import sys
import tempfile
import time
import types

from benchmarks.orienteering_instances import Problem, data_dir, load
from frigoris.planners import orienteering
from frigoris.planners.orienteering import check_route

LEGACY_COMMIT = "70c3219"
FIELDS = [
    "instance",
    "family",
    "nodes",
    "optimum",
    "best",
    "bound",
    "proof_s",
    "legacy_prize",
    "legacy_bound",
]


def read_table(path: pathlib.Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {row["instance"]: row for row in csv.DictReader(fh)}


def write_row(path: pathlib.Path, row: dict[str, str], fields: tuple[str, ...]) -> None:
    """Merge ``fields`` of one row into the table (re-read first: runs may share the file)."""
    rows = read_table(path)
    merged = rows.get(row["instance"], {})
    merged.update({k: row.get(k, "") for k in ("instance", "family", "nodes", *fields)})
    rows[row["instance"]] = merged
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        out = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        out.writeheader()
        for name in sorted(rows):
            out.writerow({k: rows[name].get(k, "") for k in FIELDS})
    tmp.replace(path)


#: CP-SAT settings of the proving runs with ``--root-cuts``: more rounds of cuts at the root
#: (CP-SAT's default is one) give much better bounds on the instances without windows, whose
#: linear relaxation is the circuit's; on large windowed ones the root alone eats the budget.
ROOT_CUTS = {"max_cut_rounds_at_level_zero": 20, "root_lp_iterations": 50000}


def prove(
    p: Problem, row: dict[str, str], time_limit_s: float, seed: int, root_cuts: bool
) -> dict[str, str]:
    """One long run: the work budgets of ``time_limit_s`` with no wall-clock cap to speak of.

    A proof needs the work done, however long a crowded machine takes for it, so this calls
    the solver's internal entry point with a wall cap of a day.
    """
    t0 = time.perf_counter()
    spec = orienteering._validate(
        p.travel, p.prizes, p.budget, p.start, p.end, p.service, p.windows
    )
    route = orienteering._solve(
        spec, time_limit_s, seed, t0 + 86400.0, p.windows, ROOT_CUTS if root_cuts else None
    )
    seconds = time.perf_counter() - t0
    problems = check_route(route, p.travel, p.prizes, p.budget, **p.kwargs())
    if problems:
        raise RuntimeError(f"{p.name}: route fails its check: {problems}")
    best = max(float(row["best"]) if row.get("best") else -1.0, route.prize)
    bound = min(float(row["bound"]) if row.get("bound") else float("inf"), route.bound)
    out = dict(row, instance=p.name, family=p.family, nodes=str(p.n))
    out["best"] = repr(best)
    out["bound"] = repr(bound)
    if route.status == "optimal" and not row.get("optimum"):
        out["optimum"] = repr(route.prize)
        out["proof_s"] = f"{seconds:.0f}"
    if out.get("optimum") and float(out["optimum"]) < best:
        raise RuntimeError(f"{p.name}: a route beats the 'proven' optimum {out['optimum']}")
    print(
        f"{p.name}: prize {route.prize:g} bound {route.bound:g} {route.status} "
        f"{seconds:.0f} s -> best {best:g} bound {bound:g} optimum {out.get('optimum') or '-'}",
        flush=True,
    )
    return out


class _SlowClock:
    """Stands in for the ``time`` module: perf_counter runs 1000 times slower."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def perf_counter(self) -> float:
        return self.t0 + (time.perf_counter() - self.t0) / 1000.0


def legacy_solver() -> types.ModuleType:
    """The solver module of commit 70c3219, loaded from git under a private name."""
    root = pathlib.Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{LEGACY_COMMIT}:planners/orienteering.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "legacy_orienteering.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("legacy_orienteering", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    module.time = _SlowClock()
    return module


def legacy(p: Problem, row: dict[str, str], module: types.ModuleType) -> dict[str, str]:
    route = module.solve_orienteering(
        p.travel, p.prizes, p.budget, time_limit_s=10.0, seed=0, **p.kwargs()
    )
    problems = check_route(route, p.travel, p.prizes, p.budget, **p.kwargs())
    if problems:
        raise RuntimeError(f"{p.name}: legacy route fails its check: {problems}")
    print(f"{p.name}: legacy prize {route.prize:g} bound {route.bound:g} ({route.status})")
    return dict(
        row,
        instance=p.name,
        family=p.family,
        nodes=str(p.n),
        legacy_prize=repr(route.prize),
        legacy_bound=repr(route.bound),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--legacy", action="store_true")
    parser.add_argument("--root-cuts", action="store_true")
    args = parser.parse_args(argv)
    table = data_dir() / "proven.csv"
    module = legacy_solver() if args.legacy else None
    for p in load():
        if args.names and p.name not in args.names:
            continue
        row = read_table(table).get(p.name, {})
        if module is not None:
            write_row(table, legacy(p, row, module), ("legacy_prize", "legacy_bound"))
        elif not row.get("optimum"):
            write_row(
                table,
                prove(p, row, args.time_limit, args.seed, args.root_cuts),
                ("optimum", "best", "bound", "proof_s"),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
