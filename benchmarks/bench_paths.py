"""Paths: A* against scikit-image's MCP_Geometric and pyastar2d; travel-matrix wall time.

``python -m benchmarks paths``. Rasters are seeded uniform costs in [1, 10) per metre with 10 %
keep-out (inf); corners and stops are passable. Timings are medians of 3 runs after one untimed
warm-up run on every side (ours compiles its numba kernels then; the peers load, allocate and
fill their caches the same way), so no side pays a first call the others do not.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pyastar2d
from skimage.graph import MCP_Geometric

from benchmarks.common import median_time, verdict
from frigoris.planners import SlopeTerm, shortest_path, travel_matrix

ASTAR_N = 4096
TRAVEL_N = 2048
N_STOPS = 100
REPEATS = 3


def random_cost(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1.0, 10.0, (n, n))
    cost[rng.random((n, n)) < 0.10] = np.inf
    cost[0, 0] = cost[-1, -1] = 1.0
    return cost


def path_cost(cost: np.ndarray, cells: np.ndarray) -> float:
    """Cost of an 8-connected cell path under the MCP_Geometric convention (1 m pixels)."""
    a, b = cells[:-1], cells[1:]
    step = np.hypot(*(b - a).T)
    return float((step * (cost[tuple(a.T)] + cost[tuple(b.T)]) / 2.0).sum())


def bench_astar() -> None:
    cost = random_cost(ASTAR_N, seed=0)
    start, goal = (0, 0), (ASTAR_N - 1, ASTAR_N - 1)
    out: dict[str, Any] = {}

    def ours() -> None:
        out["ours"] = shortest_path(cost, start, goal)

    def mcp() -> None:
        m = MCP_Geometric(cost)
        cum, _ = m.find_costs([start], [goal])
        out["mcp"] = (float(cum[goal]), m.traceback(goal))

    weights = cost.astype(np.float32)  # pyastar2d's input type, prepared outside the timing

    def pya() -> None:
        out["pya"] = pyastar2d.astar_path(weights, start, goal, allow_diagonal=True)

    t_ours = median_time(ours, repeats=REPEATS, warmup=1)
    t_mcp = median_time(mcp, repeats=REPEATS, warmup=1)
    t_pya = median_time(pya, repeats=REPEATS, warmup=1)
    ours_cost = out["ours"].cost
    mcp_cost = out["mcp"][0]
    rel = abs(ours_cost - mcp_cost) / mcp_cost
    pya_cost = path_cost(cost, np.asarray(out["pya"]))
    r_mcp, r_pya = t_mcp / t_ours, t_pya / t_ours
    print(
        f"BENCH paths astar {ASTAR_N}^2: ours {t_ours:.2f} s, MCP_Geometric {t_mcp:.2f} s "
        f"(ratio {r_mcp:.1f}x, target >=4x) {verdict(r_mcp >= 4.0)}; pyastar2d {t_pya:.2f} s "
        f"(ratio {r_pya:.2f}x, target >1x) {verdict(r_pya > 1.0)}; cost rel diff {rel:.1e} "
        f"(target 1e-6) {verdict(rel <= 1e-6)}",
        flush=True,
    )
    print(
        f"BENCH paths astar info: cost ours {ours_cost:.6f}, MCP_Geometric {mcp_cost:.6f}, "
        f"pyastar2d path under our convention {pya_cost:.6f} (+{pya_cost / ours_cost - 1:.1%}; "
        "it optimises its own cost model); "
        f"cells ours {len(out['ours'])}, pyastar2d {len(out['pya'])}",
        flush=True,
    )


def bench_travel_matrix() -> None:
    cost = random_cost(TRAVEL_N, seed=1)
    rng = np.random.default_rng(2)
    free = np.flatnonzero(np.isfinite(cost).ravel())
    stops = np.stack(np.divmod(rng.choice(free, N_STOPS, replace=False), TRAVEL_N), axis=1)
    out: dict[str, Any] = {}

    def ours() -> None:
        out["tm"] = travel_matrix(cost, stops)

    ours()  # warm-up: compiles the kernels, outside the timing
    cpu0 = time.process_time()
    t_ours = median_time(ours, repeats=REPEATS, warmup=0)
    cpu = (time.process_time() - cpu0) / REPEATS  # all threads; below 2x wall when contended
    tm = out["tm"]
    reachable = float(np.isfinite(tm.cost).mean())

    # Peer: one MCP_Geometric field per stop, timed on 3 stops and scaled to 100, after one
    # untimed field (its warm-up, as ours had).
    MCP_Geometric(cost).find_costs([tuple(stops[-1])], [tuple(s) for s in stops])
    t0 = time.perf_counter()
    for r, c in stops[:3]:
        MCP_Geometric(cost).find_costs([(r, c)], [tuple(s) for s in stops])
    t_mcp = (time.perf_counter() - t0) / 3 * N_STOPS

    # Check one entry against MCP_Geometric and one leg's cost.
    m = MCP_Geometric(cost)
    cum, _ = m.find_costs([tuple(stops[0])])
    want = cum[tuple(stops[7])]
    rel = abs(tm.cost[0, 7] - want) / want
    leg = tm.path(7, 0)
    leg_rel = abs(path_cost(cost, leg.cells) - leg.cost) / leg.cost
    print(
        f"BENCH paths travel_matrix {N_STOPS} stops {TRAVEL_N}^2: {t_ours:.1f} s (target <=10 s) "
        f"{verdict(t_ours <= 10.0)}; {N_STOPS} x MCP_Geometric fields ~{t_mcp:.0f} s (3 timed, "
        f"ratio {t_mcp / t_ours:.1f}x); entry vs MCP rel diff {rel:.1e}, leg cost rel diff "
        f"{leg_rel:.1e} {verdict(rel <= 1e-6 and leg_rel <= 1e-6)}; reachable {reachable:.0%}; "
        f"cpu {cpu:.1f} s per run over {os.cpu_count()} cores (load average "
        f"{os.getloadavg()[0]:.1f})",
        flush=True,
    )

    bound = float(np.median(tm.cost)) / 2
    t0 = time.perf_counter()
    bounded = travel_matrix(cost, stops, max_cost=bound)
    t_bounded = time.perf_counter() - t0
    print(
        f"BENCH paths travel_matrix info: max_cost {bound:.0f} (half the median leg; "
        f"{np.isfinite(bounded.cost).mean():.0%} of entries reachable) {t_bounded:.1f} s, one run",
        flush=True,
    )

    # Smooth rolling terrain, slopes up to about 4 degrees.
    y, x = np.mgrid[0:TRAVEL_N, 0:TRAVEL_N].astype(np.float64)
    z = 20.0 * np.sin(x / 300.0) * np.cos(y / 400.0) + 0.002 * x
    term = SlopeTerm(z, uphill_per_m=20.0, downhill_per_m=2.0)
    t0 = time.perf_counter()
    tm_slope = travel_matrix(cost, stops, slope=term)
    t_slope = time.perf_counter() - t0
    asym = float(np.nanmax(np.abs(tm_slope.cost - tm_slope.cost.T)))
    print(
        f"BENCH paths travel_matrix info: with SlopeTerm (asymmetric, {N_STOPS} searches, one "
        f"run) {t_slope:.1f} s; max |cost[i,j] - cost[j,i]| {asym:.1f}",
        flush=True,
    )


def main() -> None:
    bench_astar()
    bench_travel_matrix()


if __name__ == "__main__":
    main()
