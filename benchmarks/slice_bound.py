"""An upper bound on a time-windowed orienteering instance by cutting its horizon into slices.

Any route, its stops sorted by service start, splits into the stops served in ``[0, t1)``,
``[t1, t2)``, ..., ``[t_k, budget]``. Within one slice the stops still form a route that
respects travel, service and windows; only its first stop (reached from the previous slice)
and its last one (leaving for the next) are freed: the first may be reached at no cost at the
slice's start, the last need reach nothing. So the prize of any route is at most the sum, over
slices, of the best prize of such a free route within the slice, and each of these smaller
problems is solved (or bounded) by :func:`solve_orienteering` itself: the bound of each run is
an upper bound, so the sum is one whatever the runs' status. The first slice starts at the
route's start at time 0, the last one ends at the route's end by the budget.

``python -m benchmarks.slice_bound NAME TIME_LIMIT_S [CUTS ...]`` prints the bound (default:
cuts at every 100 time units; each slice gets the work budgets of ``TIME_LIMIT_S``). Nodes
may count in several slices: that only weakens the bound.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks.orienteering_instances import Problem, load
from frigoris.planners import orienteering


def slice_problem(p: Problem, a: float, b: float, first: bool, last: bool):
    """The free-ended problem of the stops served in ``[a, b]``; returns the solver's args."""
    n = p.n
    windows = (
        p.windows if p.windows is not None else np.column_stack([np.zeros(n), np.full(n, np.inf)])
    )
    service = p.service if p.service is not None else np.zeros(n)
    opens = np.maximum(windows[:, 0] - a, 0.0)
    closes = np.minimum(windows[:, 1] - a, b - a)
    keep = [
        i for i in range(n) if i not in (p.start, p.end) and opens[i] <= b - a and closes[i] >= 0.0
    ]
    nodes = ([p.start] if first else []) + keep + ([p.end] if last else [])
    k = len(nodes)
    size = k + (0 if first else 1) + (0 if last else 1)
    travel = np.full((size, size), np.inf)
    idx = np.asarray(nodes)
    off = 0 if first else 1  # a free start is the dummy node 0
    travel[off : off + k, off : off + k] = p.travel[np.ix_(idx, idx)]
    if not first:
        travel[0, 1 : 1 + k] = 0.0
    end = size - 1
    if not last:
        travel[off : off + k, end] = 0.0
        travel[0, end] = 0.0  # the empty slice
    np.fill_diagonal(travel, 0.0)
    prizes = np.zeros(size)
    prizes[off : off + k] = p.prizes[idx]
    svc = np.zeros(size)
    svc[off : off + k] = service[idx]
    tw = np.column_stack([np.zeros(size), np.full(size, np.inf)])
    tw[off : off + k, 0] = opens[idx]
    tw[off : off + k, 1] = closes[idx]
    if first:
        prizes[0] = 0.0  # counted once, by the whole route
    if last:
        prizes[end] = 0.0
        budget = min(p.budget - a, float(windows[p.end, 1]) - a)
        tw[end] = (max(float(windows[p.end, 0]) - a, 0.0), np.inf)
    else:
        svc_max = float(svc.max()) if size else 0.0
        budget = (b - a) + svc_max
        tw[end] = (0.0, np.inf)
    start = 0
    return travel, prizes, budget, start, end, svc, tw


def slice_bound(p: Problem, cuts: list[float], time_limit_s: float = 60.0) -> float:
    edges = [0.0, *cuts, p.budget]
    total = float(p.prizes[p.start]) + (float(p.prizes[p.end]) if p.end != p.start else 0.0)
    for k in range(len(edges) - 1):
        a, b = edges[k], edges[k + 1]
        travel, prizes, budget, start, end, svc, tw = slice_problem(
            p, a, b, first=k == 0, last=k == len(edges) - 2
        )
        # the work budgets of time_limit_s, however long a crowded machine takes for them
        spec = orienteering._validate(travel, prizes, budget, start, end, svc, tw)
        route = orienteering._solve(spec, time_limit_s, 0, time.perf_counter() + 86400.0, tw)
        print(
            f"  slice [{a:g}, {b:g}]: {len(prizes)} nodes, prize {route.prize:g} "
            f"bound {route.bound:g} {route.status}",
            flush=True,
        )
        total += route.bound
    return total


def main(argv: list[str]) -> int:
    name, time_limit_s = argv[0], float(argv[1])
    p = next(q for q in load() if q.name == name)
    cuts = [float(v) for v in argv[2:]] or [float(t) for t in np.arange(100.0, p.budget, 100.0)]
    bound = slice_bound(p, cuts, time_limit_s)
    print(f"{name}: slice bound {bound:g} with cuts at {cuts}, time_limit_s={time_limit_s:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
