"""First run versus later runs: what compiling the kernels adds to ``frigoris demo`` (issue 16).

The numba kernels compile on first use and are cached on disk. ``frigoris demo`` runs twice as
separate processes sharing a fresh, empty cache folder (``NUMBA_CACHE_DIR``): the first run
compiles every kernel the demo needs, the second (the peer) loads them. Each run records every
compile through numba's event API (``numba:compile``): the kernel, its argument types and the
compiling thread's CPU seconds (which, unlike wall time, hardly depend on what else the machine
runs).

Lines: the first run's wall time against the second's; the compile CPU seconds by kernel (the
largest five); and the kernels compiled for more than one signature (a read-only and a writable
array, a literal and a variable integer, float32 and float64 all compile separately; each such
duplicate is paid again on every first run).

Targets (issue 16): the first ``make demo`` within 90 s on 2 cores, so the first run within 90 s
of wall time (the later run is the peer), and no kernel compiled twice.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from benchmarks.common import verdict

FIRST_RUN_S = 90.0

_RUN = r"""
import json, sys, time
from numba.core import event

records, stack = [], []


class Compiles(event.Listener):
    def on_start(self, ev):
        stack.append([time.thread_time(), 0.0])

    def on_end(self, ev):
        t0, inner = stack.pop()
        dt = time.thread_time() - t0
        if stack:
            stack[-1][1] += dt
        d = ev.data["dispatcher"]
        if d.py_func.__module__.startswith("frigoris."):
            records.append([f"{d.py_func.__module__}.{d.py_func.__qualname__}",
                            str(ev.data["args"]), dt, len(stack)])


event.register("numba:compile", Compiles())
from frigoris.rover.app.cli import main

t0 = time.perf_counter()
try:
    main(["demo", "--out", sys.argv[2], "--overwrite", "-q"], standalone_mode=False)
except SystemExit as exc:
    if exc.code:
        raise
wall = time.perf_counter() - t0
json.dump({"wall": wall, "records": records}, open(sys.argv[1], "w"))
"""


def _demo(cache: str, work: pathlib.Path, name: str) -> dict:
    """One ``frigoris demo`` process with the numba cache in ``cache``; wall and compiles."""
    out = work / f"{name}.json"
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _RUN, str(out), str(work / name)],
        check=True,
        capture_output=True,
        env=env,
    )
    doc = json.loads(out.read_text())
    doc["process"] = time.perf_counter() - t0
    return doc


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        cache = str(work / "numba-cache")
        first = _demo(cache, work, "first")
        later = _demo(cache, work, "later")
    ratio = first["process"] / later["process"]
    print(
        f"BENCH compile demo: first run {first['process']:.1f} s, later run {later['process']:.1f}"
        f" s (peer), ratio={ratio:.2f}; compiling adds {first['process'] - later['process']:.1f}"
        f" s (target first run <= {FIRST_RUN_S:.0f} s) "
        f"{verdict(first['process'] <= FIRST_RUN_S)}",
        flush=True,
    )
    # top-level compiles only: a kernel's callees compile inside it and count there
    own: dict[str, float] = collections.defaultdict(float)
    signatures: dict[str, set[str]] = collections.defaultdict(set)
    for name, args, cpu_s, depth in first["records"]:
        signatures[name].add(args)
        if depth == 0:
            own[name] += cpu_s
    total = sum(own.values())
    top = sorted(own.items(), key=lambda kv: -kv[1])[:5]
    print(
        f"BENCH compile kernels: {total:.1f} CPU s compiling {len(signatures)} kernels in the "
        f"first run, {sum(r[2] for r in later['records'] if r[3] == 0):.1f} s in the later run; "
        "largest: " + ", ".join(f"{n.rsplit('.', 1)[-1]} {s:.1f} s" for n, s in top),
        flush=True,
    )
    twice = {n: len(s) for n, s in signatures.items() if len(s) > 1}
    print(
        f"BENCH compile signatures: {len(twice)} kernels compiled for more than one signature"
        + (f" ({', '.join(f'{n} x{k}' for n, k in sorted(twice.items()))})" if twice else "")
        + f" (target 0) {verdict(not twice)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
