"""Write traverse-shaped orienteering instances from the mission chain itself.

``python -m benchmarks.gen_traverse_instances [SEED ...]`` runs the built-in HAKUTO-R mission
(``examples/hakuto_r_m2.toml``: 1 km synthetic site at 0.5 m, hazard map, deployment handoff,
candidate stops, ten days) with the site seed ``SEED`` and at most 50 candidates per kind (about
150 in all, as issue 18 describes), and records the exact problem that
:func:`frigoris.planners.plan_traverse` hands to :func:`solve_orienteering` (least-cost travel
times between candidates scaled by the drive duty, dwell times as service, a zero-cost dummy
end). It writes two instances per site into ``benchmarks/data/orienteering/traverse``:

- ``traverse_sSEED``: that problem unchanged (no windows, as the planner builds it today);
- ``traverse_sSEED_w``: the same with illumination and link windows, each from the chain's own
  models, each stop given the one window in which its work can be done:

  * illumination: the stop's cell must be sunlit (the chain's solar model: ephemeris Sun over
    the horizon map, cast shadows) for the whole dwell; imaging stops (boulder, crater rim,
    Moonhouse) also need the Sun behind the camera (within 90 deg of the azimuth from the
    stop towards the lander, the side the stand-off points are placed on). Of the lit
    intervals (sampled every 10 min of plan time) the longest is taken;
  * link (a generator assumption): the regolith scoop and the Moonhouse are ground-in-the-loop
    activities whose images go down through the lander's relay, assumed available for the
    first 8 of the 10 days.

  The solver's times are plan times (the planner divides drive and dwell times by the duty
  cycle), so a window ``[a, b]`` for the dwell becomes the arrival window ``[a, b - service]``.

Times are rounded up to whole seconds and written as integers, so the files are exact and
small; the rounding only defines the instance. The generator needs the whole chain (minutes
per site); the benchmark only reads the files.
"""

from __future__ import annotations

import math
import sys
import tempfile

import numpy as np

import frigoris.planners.traverse as traverse
import frigoris.rover.planning as planning
from benchmarks.orienteering_instances import data_dir
from frigoris.rover.cli import main as cli_main

SAMPLE_S = 600.0
LINK_CLOSE_S = 8 * 86400.0
IMAGING = ("boulder", "crater", "moonhouse")
LINKED = ("scoop", "moonhouse")


def capture(seed: int, out: str) -> dict:
    """Run the mission chain for site seed ``seed``; return the solver's problem and context."""
    got: dict = {}
    solve, plan = traverse.solve_orienteering, planning.plan_traverse

    def spy_solve(*args, **kwargs):
        got["args"], got["kwargs"] = args, kwargs
        return solve(*args, **kwargs)

    def spy_plan(**kwargs):
        got["plan"] = kwargs
        return plan(**kwargs)

    traverse.solve_orienteering, planning.plan_traverse = spy_solve, spy_plan
    try:
        cli_main(
            [
                "mission",
                "examples/hakuto_r_m2.toml",
                "-o",
                out,
                "--set",
                f"mission.seed={seed}",
                "--set",
                "touchdown.runs=5",
                "--set",
                "planner.stops.max_per_kind=50",
            ],
            standalone_mode=False,
        )
    finally:
        traverse.solve_orienteering, planning.plan_traverse = solve, plan
    return got


def lit_window(lit: np.ndarray, t: np.ndarray, need_s: float) -> tuple[float, float] | None:
    """Longest run of ``lit`` samples (earliest on ties) as ``[start, end]``, if >= need_s."""
    best = None
    k = 0
    while k < len(lit):
        if not lit[k]:
            k += 1
            continue
        j = k
        while j + 1 < len(lit) and lit[j + 1]:
            j += 1
        start = t[k]
        end = t[j]
        if end - start >= need_s and (best is None or end - start > best[1] - best[0]):
            best = (float(start), float(end))
        k = j + 1
    return best


def windows(got: dict) -> np.ndarray:
    """Illumination and link windows (arrival bounds) for the captured problem's nodes."""
    travel, prizes, budget = got["args"]
    service = got["kwargs"]["service"]
    plan = got["plan"]
    cand = plan["candidates"]
    cost = np.asarray(plan["cost"], dtype=float).copy()
    cost[np.asarray(plan["keepout"], bool)] = np.inf
    if plan.get("comm_ok") is not None:
        cost[~np.asarray(plan["comm_ok"], bool)] = np.inf
    usable = [i for i in range(len(cand)) if np.isfinite(cost[cand.cells[i, 0], cand.cells[i, 1]])]
    n = len(prizes)
    if len(usable) != n - 2:
        raise RuntimeError(f"{len(usable)} usable candidates for a problem of {n} nodes")
    solar = plan["solar_w"]
    t = np.arange(0.0, budget + 1.0, SAMPLE_S)
    sun_az = solar.sun_at(t)[0]
    r0, c0 = plan["start_cell"]
    out = np.column_stack([np.zeros(n), np.full(n, np.inf)])
    for k, i in enumerate(usable, start=1):
        row, col = (int(v) for v in cand.cells[i])
        lit = np.asarray(solar(t, np.full(t.shape, row), np.full(t.shape, col))) > 0
        kind = cand.kind[i]
        if kind in IMAGING:
            # azimuth from the stop towards the start (the deployment point, next to the
            # lander), in grid degrees clockwise from north
            sx, sy = plan["transform"] @ (c0 + 0.5, r0 + 0.5)
            dx, dy = sx - cand.x[i], sy - cand.y[i]
            towards = math.degrees(math.atan2(dx, dy)) % 360.0
            diff = np.abs((sun_az - towards + 180.0) % 360.0 - 180.0)
            lit &= diff < 90.0
        if kind in LINKED:
            lit &= t <= LINK_CLOSE_S
        w = lit_window(lit, t, float(service[k]))
        if w is None:
            out[k] = (budget, -1.0)  # marked: no window fits; dropped below
            continue
        out[k] = (w[0], w[1] - float(service[k]))
    return out


def write(path, travel, prizes, budget, start, end, service, tw) -> None:
    n = len(prizes)
    travel_s = np.where(np.isfinite(travel), np.ceil(travel), np.inf)
    np.fill_diagonal(travel_s, 0.0)
    lines = [f"{n} {budget:.0f} {start} {end}"]
    for i in range(n):
        lines.append(
            f"{float(prizes[i])!r} {math.ceil(service[i]):d} {tw[i, 0]:.0f} "
            f"{'inf' if math.isinf(tw[i, 1]) else f'{math.floor(tw[i, 1]):d}'}"
        )
    for i in range(n):
        lines.append(" ".join("inf" if math.isinf(v) else f"{int(v):d}" for v in travel_s[i]))
    path.write_text("\n".join(lines) + "\n")


def generate(seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        got = capture(seed, tmp)
        travel, prizes, budget = got["args"]
        kw = got["kwargs"]
        start, end, service = kw["start"], kw["end"], kw["service"]
        tw = windows(got)
    root = data_dir() / "traverse"
    root.mkdir(parents=True, exist_ok=True)
    n = len(prizes)
    plain = np.column_stack([np.zeros(n), np.full(n, np.inf)])
    write(root / f"traverse_s{seed}.txt", travel, prizes, budget, start, end, service, plain)
    # stops with no fitting window cannot be visited: drop them from the windowed variant
    keep = np.flatnonzero(tw[:, 1] >= tw[:, 0])
    idx = {int(v): k for k, v in enumerate(keep)}
    write(
        root / f"traverse_s{seed}_w.txt",
        travel[np.ix_(keep, keep)],
        prizes[keep],
        budget,
        idx[start],
        idx[end],
        service[keep],
        tw[keep],
    )
    print(
        f"traverse_s{seed}: {n} nodes; windowed: {len(keep)} nodes, "
        f"{int(np.isfinite(tw[keep, 1]).sum())} with a window",
        flush=True,
    )


if __name__ == "__main__":
    for s in sys.argv[1:] or ["0"]:
        generate(int(s))
