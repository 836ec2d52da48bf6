"""Run every benchmark: ``python -m benchmarks [NAME ...]`` (``make bench``).

Each ``benchmarks/bench_*.py`` module has ``main() -> None`` that prints result lines of the form
``BENCH <name>: <measure> ... ratio=<x> (target <y>) PASS|FAIL`` against its named peer, measured
in the same run. Timings are medians of several runs: these machines are shared and noisy.
"""

from __future__ import annotations

import importlib
import pathlib
import sys
import time


def main(argv: list[str]) -> int:
    here = pathlib.Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    flags = [a for a in argv if a.startswith("--")]  # passed on to each benchmark's main()
    argv = [a for a in argv if not a.startswith("--")]
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    for name in wanted:
        if name not in names:
            print(f"unknown benchmark {name!r}; choose from {', '.join(names)}", file=sys.stderr)
            return 2
    for name in wanted:
        t0 = time.perf_counter()
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        if flags:
            module.main(flags)
        else:
            module.main()
        print(f"== {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
