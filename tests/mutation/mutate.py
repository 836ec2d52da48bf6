"""Mutation testing of the safety net: ``make mutate`` (or ``python -m tests.mutation.mutate``).

Each target is one module and the functions in it that decide safety (the checkers, the
validators, the hazard limits, the deployment side checks). cosmic-ray mutates those functions
one change at a time and runs the target's own test files (``-x``, so a killed mutant stops at
its first failing test); a mutant no test notices *survives*.

Every target runs in its own copy of the working tree under ``build/mutate/<target>/frigoris``
(imported through ``PYTHONPATH``, ahead of the editable install), so the checkout is never
edited and targets can run side by side (``--jobs``). Sessions persist: an interrupted run goes
on where it stopped; ``--fresh`` starts over.

Mutations: cosmic-ray's operators, thinned where it generates many near-duplicates: a binary
operator becomes its counterpart only (``+`` and ``-``, ``*`` and ``/``, ``//`` to ``/``, ``%`` to
``//``, ``**`` to ``*``, bitwise to bitwise) and a comparison its boundary twin (``<`` and
``<=``, ``>`` and ``>=``, ``==`` and ``!=``, ``is``/``in`` and their negations); numbers, ``not``,
``and``/``or``, ``True``/``False``, unary operators, ``break``/``continue`` and empty loops stay
as cosmic-ray makes them.

Survivors that cannot be killed (equivalent mutants: the program means the same) are explained
in ``tests/mutation_survivors.md``; the report marks them and the score leaves them out:
``score = killed / (killed + survived - explained)``. The report goes to stdout and to
``build/mutate/report.md``.
"""

from __future__ import annotations

import argparse
import ast
import os
import pathlib
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "mutate"
SURVIVORS = REPO / "tests" / "mutation_survivors.md"


@dataclass(frozen=True)
class Target:
    """One module, the definitions in it to mutate, and the tests that must notice."""

    module: str
    scope: tuple[str, ...]
    tests: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 300.0
    owner: str = ""
    pytest_opts: tuple[str, ...] = ()
    """More pytest options, for the unmutated run and every mutant's."""
    rules: bool = False
    """True for checkers: also delete each violation they record, one at a time."""


TARGETS = {
    "traverse": Target(
        "planners/traverse.py",
        (
            "check_plan",
            "_check_shape",
            "_cells_text",
            "_check_legs",
            "_check_timeline_on_grid",
            "_pixel_m",
            "_centres",
            "_check_places",
            "_check_clock",
            "_check_follows_legs",
            "_step_m",
            "_in_one_window",
            "_check_drives",
            "_check_battery",
            "_check_dwell",
            "_check_stop_times",
            "_check_totals",
            "RoverModel.__post_init__",
        ),
        ("tests/planners/test_traverse_checker.py", "tests/planners/test_traverse.py"),
        timeout_s=120.0,
        rules=True,
    ),
    "sequence_check": Target(
        "planners/sequence_check.py",
        ("check_sequence", "_inverse", "_window_time", "blocking", "_Found.add", "_Found.result"),
        (
            "tests/planners/test_sequence_checker.py",
            "tests/planners/test_traverse_cadence.py",
        ),
        timeout_s=120.0,
        rules=True,
    ),
    "ops_specs": Target(
        "rover/specs.py",
        (
            "_in_range",
            "OpsSpec.validate",
            "OpsSpec.commanding_window_utc_h",
            "OpsSpec.link_bit_s",
            "OpsSpec.nav_bits",
            "OpsSpec.science_bits",
            "OpsSpec.uplink_s",
            "SimSpec.validate",
        ),
        ("tests/rover/test_ops_specs.py", "tests/rover/test_operations.py"),
        timeout_s=300.0,
    ),
    "deploy": Target(
        "rover/deploy.py",
        (
            "deploy",
            "_lander_ring_m",
            "_strip",
            "_first_cell_past",
            "_check_side",
            "_boulders_in",
            "_egress",
        ),
        ("tests/rover/test_deploy_checks.py",),
        timeout_s=300.0,
        rules=True,
    ),
    "paths": Target(
        "planners/paths.py",
        (
            "SlopeTerm.__post_init__",
            "_prepare",
            "_flat_cell",
            "_cell_array",
            "_check_max_cost",
        ),
        ("tests/planners/test_paths_inputs.py", "tests/planners/test_paths.py"),
        timeout_s=300.0,
    ),
    "orienteering": Target(
        "planners/route_check.py",
        ("check_route", "_agrees", "_Problem.read", "_index"),
        ("tests/planners/test_route_check.py",),
        timeout_s=120.0,
        rules=True,
    ),
    "orienteering_inputs": Target(
        "planners/orienteering.py",
        ("_validate", "_node_index", "solve_orienteering"),
        ("tests/planners/test_route_check.py", "tests/planners/test_orienteering.py"),
        timeout_s=300.0,
    ),
    "hazard": Target(
        "terrain/hazard.py",
        ("HazardLimits.validate", "hazard_window", "_in_range", "HazardStats.share"),
        (
            "tests/terrain/test_hazard_limits.py",
            "tests/terrain/test_hazard_window.py",
            "tests/terrain/test_hazard.py",
        ),
        timeout_s=600.0,
        owner="the terrain helper (being rewritten: current score only)",
    ),
    "hazard_kernels": Target(
        "terrain/_hazard_kernels.py",
        # ``fuse`` only splits the rows over threads; ``_fuse_rows`` is the fusion itself
        ("fuse", "_fuse_rows"),
        ("tests/terrain/test_hazard_fusion.py", "tests/terrain/test_hazard.py"),
        # Not needed for mutants to be seen (numba compiles the mutated source, its cache is
        # keyed on the file's time stamp), but compiling every mutant costs more than running
        # the few kernels the tests call in Python.
        env={"NUMBA_DISABLE_JIT": "1"},
        # in Python, the kernels' NaN arithmetic (``v - v == 0`` on inf, NaN sums) warns, which the
        # project's pytest settings make an error; compiled, they never warn
        pytest_opts=("-W", "ignore::RuntimeWarning"),
        timeout_s=900.0,
        owner="the terrain helper (being rewritten: current score only)",
    ),
}

_BINARY = {
    "Add": "Sub",
    "Sub": "Add",
    "Mul": "Div",
    "Div": "Mul",
    "FloorDiv": "Div",
    "Mod": "FloorDiv",
    "Pow": "Mul",
    "LShift": "RShift",
    "RShift": "LShift",
    "BitOr": "BitAnd",
    "BitAnd": "BitOr",
    "BitXor": "BitAnd",
}
_COMPARE = {
    "Eq": "NotEq",
    "NotEq": "Eq",
    "Lt": "LtE",
    "LtE": "Lt",
    "Gt": "GtE",
    "GtE": "Gt",
    "Is": "IsNot",
    "IsNot": "Is",
    "In": "NotIn",
    "NotIn": "In",
}


def kept_operator(name: str) -> bool:
    """True for the mutation operators this run uses (see the module docstring)."""
    op = name.split("/")[-1]
    m = re.fullmatch(r"ReplaceBinaryOperator_(\w+?)_(\w+)", op)
    if m:
        return _BINARY.get(m.group(1)) == m.group(2)
    m = re.fullmatch(r"ReplaceComparisonOperator_(\w+?)_(\w+)", op)
    if m:
        return _COMPARE.get(m.group(1)) == m.group(2)
    return True


def scope_lines(path: pathlib.Path, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """Line ranges of the named functions (``Class.method`` for methods) in a module."""
    tree = ast.parse(path.read_text())
    found: dict[str, tuple[int, int]] = {}

    def visit(node, prefix=""):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = prefix + child.name
                found[name] = (child.lineno, child.end_lineno)
                visit(child, name + ".")

    visit(tree)
    missing = [n for n in names if n not in found]
    if missing:
        raise SystemExit(f"{path}: no definition named {', '.join(missing)}; update TARGETS")
    return [found[n] for n in names]


def _copy_tree(dest: pathlib.Path) -> None:
    """The working tree's files (tracked and new, not ignored) into ``dest``."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        src = REPO / f.decode()
        if src.is_file():
            out = dest / f.decode()
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)


def _cr(*args, cwd, env) -> None:
    subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "cosmic-ray"), *args],
        cwd=cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_shard(
    name: str,
    target: Target,
    shard: int,
    shards: int,
    fresh: bool,
    recheck: bool,
    log,
    fork: bool = True,
):
    """Mutate one shard of a target in its own copy of the tree; return its session file.

    A shard holds the in-scope mutants whose job id modulo ``shards`` is ``shard``. With
    ``fork`` each mutant's pytest runs in a fork of a server that has the third-party libraries
    imported (``tests/mutation/forkrun.py``); without it, in a new Python process.
    """
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    root = BUILD / f"{name}-{shard + 1}of{shards}"
    tree = root / "frigoris"
    session = root / "session.sqlite"
    config = root / "config.toml"
    pristine = root / "module.orig"
    if fresh and root.exists():
        shutil.rmtree(root)
    new = not session.exists()
    if not new and pristine.read_text() != (REPO / target.module).read_text():
        raise SystemExit(
            f"{target.module} changed since the {name} session began: its mutants no longer "
            "apply; run with --fresh"
        )
    # a fresh copy every time: the newest tests, and no mutant left behind by an interrupted run
    if tree.exists():
        shutil.rmtree(tree)
    _copy_tree(tree)
    if new:
        pristine.write_text((REPO / target.module).read_text())
    elif recheck:
        _forget_survivors(session)
    env = {**os.environ, **target.env, "PYTHONPATH": str(root)}
    tests = " ".join(target.tests)
    pytest_args = " ".join(["-x", "-q", "-p", "no:cacheprovider", *target.pytest_opts, tests])
    sock = root / "fork.sock"
    if fork:
        runner = f"{sys.executable} {tree / 'tests' / 'mutation' / 'forkrun.py'} run {sock}"
    else:
        runner = f"{sys.executable} -m pytest"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        f"timeout = {target.timeout_s}\n"
        "excluded-modules = []\n"
        f'test-command = "{runner} {pytest_args}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    t0 = time.perf_counter()
    # warm caches (bytecode, numba) and prove the tests pass unmutated
    base = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *target.pytest_opts]
        + list(target.tests),
        cwd=tree,
        # bytecode of the unmutated tree, for every mutant's run (a mutant's own module is
        # newer than its bytecode, so Python compiles it afresh; cosmic-ray writes none)
        env={k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"},
        capture_output=True,
        text=True,
    )
    if base.returncode != 0:
        raise SystemExit(f"{name}: the tests fail unmutated:\n{base.stdout[-3000:]}")
    if new:
        _cr("init", str(config), str(session), cwd=tree, env=env)
        ranges = scope_lines(tree / target.module, target.scope)
        hints = annotations(tree / target.module)
        with use_db(str(session), WorkDB.Mode.open) as db:
            skip = []
            for item in db.pending_work_items:
                m = item.mutations[0]
                inside = any(a <= m.start_pos[0] <= b for a, b in ranges)
                inside &= not any(a <= tuple(m.start_pos) < b for a, b in hints)
                mine = int(item.job_id, 16) % shards == shard
                if not (inside and mine and kept_operator(m.operator_name)):
                    skip.append(item.job_id)
            db.set_multiple_results(
                skip, WorkResult(output="out of scope", worker_outcome=WorkerOutcome.SKIPPED)
            )
    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = db.num_work_items - db.num_results
    log(f"{name} {shard + 1}/{shards}: {pending} mutants to run ({target.module}; {tests})")
    server = None
    if fork and pending:
        server = _start_server(tree, sock, target.timeout_s, env)
    try:
        _cr("exec", str(config), str(session), cwd=tree, env=env)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    seconds = time.perf_counter() - t0
    log(f"{name} {shard + 1}/{shards}: done in {seconds / 60:.1f} min")
    return session, seconds


def _start_server(tree: pathlib.Path, sock: pathlib.Path, timeout_s: float, env: dict):
    """Start ``forkrun.py serve`` in ``tree``; return once it listens on ``sock``."""
    if sock.exists():
        sock.unlink()
    server = subprocess.Popen(
        [sys.executable, str(tree / "tests" / "mutation" / "forkrun.py"), "serve", str(sock),
         str(timeout_s)],
        cwd=tree,
        env=env,
    )  # fmt: skip
    t0 = time.perf_counter()
    while not sock.exists():
        if server.poll() is not None:
            raise SystemExit(f"the fork server for {tree} stopped (exit {server.returncode})")
        if time.perf_counter() - t0 > 300:
            server.terminate()
            raise SystemExit(f"the fork server for {tree} did not start in 300 s")
        time.sleep(0.2)
    return server


def annotations(path: pathlib.Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every type annotation: never evaluated here (postponed
    evaluation), so a mutant inside one is equivalent by construction."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        hints = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            hints.append(node.returns)
        elif isinstance(node, ast.arg | ast.AnnAssign):
            hints.append(node.annotation)
        for h in hints:
            if h is not None:
                spans.append(((h.lineno, h.col_offset), (h.end_lineno, h.end_col_offset)))
    return spans


def _forget_survivors(session: pathlib.Path) -> None:
    """Put the surviving mutants back in the queue (after new tests were written)."""
    con = sqlite3.connect(session)
    with con:
        con.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    con.close()


RULE_LISTS = ("out", "reasons", "problems", "violations")
"""Names of the lists a checker appends its violations to."""
RULE_RECORDERS = ("found",)
"""Names of the objects a checker ``add``s its violations to (the sequence checker's)."""


def rule_statements(path: pathlib.Path, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Line spans of every ``<list>.append(...)`` that records a violation, inside ``ranges``."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and isinstance(node.value.func.value, ast.Name)
            and (
                (node.value.func.attr == "append" and node.value.func.value.id in RULE_LISTS)
                or (node.value.func.attr == "add" and node.value.func.value.id in RULE_RECORDERS)
            )
            and any(a <= node.lineno <= b for a, b in ranges)
        ):
            spans.append((node.lineno, node.end_lineno))
    return sorted(spans)


def delete_rules(name: str, target: Target, log) -> dict:
    """Delete each recorded violation of the target's checkers in turn; run its tests."""
    root = BUILD / f"deletions-{name}"
    tree = root / "frigoris"
    if root.exists():
        shutil.rmtree(root)
    _copy_tree(tree)
    env = {**os.environ, **target.env, "PYTHONPATH": str(root)}
    module = tree / target.module
    source = module.read_text()
    lines = source.splitlines(keepends=True)
    spans = rule_statements(module, scope_lines(module, target.scope))
    log(f"{name}: deleting {len(spans)} rules one at a time")
    unnoticed = []
    t0 = time.perf_counter()
    try:
        for a, b in spans:
            indent = lines[a - 1][: len(lines[a - 1]) - len(lines[a - 1].lstrip())]
            cut = lines[: a - 1] + [indent + "pass\n"] + ["\n"] * (b - a) + lines[b:]
            module.write_text("".join(cut))
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
                + list(target.pytest_opts)
                + list(target.tests),
                cwd=tree,
                env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
                capture_output=True,
                timeout=target.timeout_s,
            )
            if run.returncode == 0:
                unnoticed.append((a, " ".join(ln.strip() for ln in lines[a - 1 : b])))
    finally:
        module.write_text(source)
    return {
        "name": name,
        "rules": len(spans),
        "unnoticed": unnoticed,
        "seconds": time.perf_counter() - t0,
    }


def _lines_of(diff: str) -> tuple[str, str]:
    body = [ln for ln in diff.splitlines() if not ln.startswith(("---", "+++"))]
    old = [ln[1:].strip() for ln in body if ln.startswith("-")]
    new = [ln[1:].strip() for ln in body if ln.startswith("+")]
    return " / ".join(old), " / ".join(new)


def explained() -> dict[tuple[str, str, str], str]:
    """(module, original line, mutated line) -> why, from the table in mutation_survivors.md."""
    out = {}
    if not SURVIVORS.exists():
        return out
    for line in SURVIVORS.read_text().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) == 5 and cells[0].endswith(".py"):
            module, _, old, new, why = cells
            out[(module, _unquote(old), _unquote(new))] = why
    return out


def _quote(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _unquote(cell: str) -> str:
    return cell.strip("`").replace("\\|", "|")


def _tally(name: str, target: Target, sessions: list, minutes: float) -> dict:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    why = explained()
    killed = incompetent = 0
    survivors, equivalent = [], []
    pending = 0
    for session in sessions:
        with use_db(str(session), WorkDB.Mode.open) as db:
            done = list(db.completed_work_items)
            pending += db.num_work_items - db.num_results
        for item, result in done:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            if result.worker_outcome != WorkerOutcome.NORMAL:
                incompetent += 1
                continue
            if result.test_outcome == TestOutcome.INCOMPETENT:
                incompetent += 1
            elif result.test_outcome == TestOutcome.KILLED:
                killed += 1
            else:
                m = item.mutations[0]
                old, new = _lines_of(result.diff or "")
                row = (target.module, m.definition_name or "", old, new, m.start_pos[0],
                       m.operator_name.split("/")[-1])  # fmt: skip
                if (target.module, old, new) in why:
                    equivalent.append(row)
                else:
                    survivors.append(row)
    total = killed + len(survivors) + len(equivalent)
    denominator = killed + len(survivors)
    return {
        "name": name,
        "target": target,
        "killed": killed,
        "survived": survivors,
        "equivalent": equivalent,
        "incompetent": incompetent,
        "total": total,
        "score": killed / denominator if denominator else 1.0,
        "minutes": minutes,
        "pending": pending,
    }


def report(results: list[dict], deletions: list[dict]) -> str:
    lines = ["# Mutation testing report", ""]
    lines.append(
        "| target | module | mutants | killed | survived | equivalent | score | shard-minutes |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        t = r["target"]
        lines.append(
            f"| {r['name']} | `{t.module}` | {r['total']} | {r['killed']} | "
            f"{len(r['survived'])} | {len(r['equivalent'])} | {100 * r['score']:.1f} % | "
            f"{r['minutes']:.1f} min |"
        )
    for r in results:
        if r["pending"]:
            lines.append(
                f"\n{r['name']}: {r['pending']} mutants not run yet (the run was cut short)."
            )
    for r in results:
        if r["target"].owner:
            lines.append(f"\n{r['name']}: owned by {r['target'].owner}.")
    for d in deletions:
        lines.append(
            f"\nRule deletions, {d['name']}: {d['rules'] - len(d['unnoticed'])} of {d['rules']} "
            f"noticed ({d['seconds'] / 60:.1f} min)."
        )
        lines += [f"- unnoticed: line {a}: `{text}`" for a, text in d["unnoticed"]]
    for r in results:
        if not r["survived"]:
            continue
        lines += ["", f"## Surviving mutants: {r['name']}", ""]
        lines.append("| module | function | original | mutant | line | operator |")
        lines.append("|---|---|---|---|---|---|")
        for module, fn, old, new, line, op in sorted(r["survived"], key=lambda s: s[4]):
            old, new = _quote(old), _quote(new)
            lines.append(f"| {module} | {fn} | {old} | {new} | {line} | {op} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"some of {', '.join(TARGETS)} (default all)")
    parser.add_argument("--jobs", type=int, default=2, help="shards run side by side")
    parser.add_argument("--fresh", action="store_true", help="forget earlier sessions")
    parser.add_argument(
        "--recheck", action="store_true", help="run the survivors of earlier sessions again"
    )
    parser.add_argument(
        "--shards", type=int, default=1, help="split each target over this many tree copies"
    )
    parser.add_argument(
        "--only",
        choices=("mutants", "deletions"),
        help="run cosmic-ray's mutants only, or only delete the checkers' rules one at a time",
    )
    parser.add_argument(
        "--no-fork",
        dest="fork",
        action="store_false",
        help="run each mutant's tests in a new Python process, not a fork of a warm server",
    )
    args = parser.parse_args(argv)
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    BUILD.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    results, deletions = [], []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        if args.only != "deletions":
            k = args.shards
            jobs = [(n, i) for n in names for i in range(k)]
            sessions = list(
                pool.map(
                    lambda j: run_shard(
                        j[0], TARGETS[j[0]], j[1], k, args.fresh, args.recheck, log, args.fork
                    ),
                    jobs,
                )
            )
            results = []
            for n in names:
                mine = [s for (m, _), s in zip(jobs, sessions, strict=True) if m == n]
                minutes = sum(sec for _, sec in mine) / 60
                results.append(_tally(n, TARGETS[n], [s for s, _ in mine], minutes))
        if args.only != "mutants":
            checkers = [n for n in names if TARGETS[n].rules]
            deletions = list(pool.map(lambda n: delete_rules(n, TARGETS[n], log), checkers))
    text = report(results, deletions)
    text += f"\nWall time {((time.perf_counter() - t0) / 60):.1f} min with {args.jobs} jobs.\n"
    (BUILD / "report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
