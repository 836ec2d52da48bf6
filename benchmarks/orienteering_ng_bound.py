"""An upper bound on a time-windowed orienteering instance by ng-route dynamic programming.

A state-space relaxation (Christofides, Mingozzi & Toth 1981; ng-routes after Baldacci,
Mingozzi & Roberti 2011, used for the orienteering problem with time windows by Righini &
Salani 2009): the best prize of a *walk* from the start to the end that keeps every rule of a
route except that a node may be visited again, and collect its prize again, once the walk has
passed through nodes whose neighbourhood does not contain it. Each node ``i`` has a
neighbourhood ``N(i)`` (itself and its ``ng - 1`` nearest nodes); the walk carries a memory
``M``, a subset of the current node's neighbourhood, of the nodes it may not enter: leaving
``i`` for ``j`` needs ``j`` not in ``M``, and the memory at ``j`` is ``(M & N(j)) | {j}``. An
elementary route never enters a node twice, so it keeps these rules and every route is such a
walk: the best walk's prize is an upper bound on the best route's.

Time is a grid of ``step`` time units, rounded so that the grid time of any route at each node
is at most its true time divided by ``step``: each duration (service of the node left plus the
travel), each window's opening and close and the budget are rounded down, in exact arithmetic
on the floats (``floor(x / step)``; a time ``t <= c`` has ``floor(t) <= floor(c)``). A route
that is feasible is then feasible on the grid: the grid only loosens the bound, by at most a
step per leg. Prizes are rounded up to multiples of ``2**-b`` (``b`` at most ``PRIZE_BITS``,
less where the sums would not fit 30 bits) and added in integers, so a walk's prize is never
rounded down either, and the bound is rounded up to a float.

The table ``best[t, i, M]`` (the best prize of a walk at node ``i`` whose service may start at
grid time ``t`` with memory ``M``) is filled layer by layer in ``t`` by the solver's own kernel
(:func:`frigoris.planners._orienteering_kernels.ng_fill`, which the solver runs in a small
version on instances with windows); here the grid is finer, the neighbourhoods larger and the
rounds unlimited. Every duration between two nodes other than the start and the end must be
at least one step (a walk could otherwise stay in one layer).

The neighbourhoods grow as in decremental state-space relaxation (Righini & Salani 2008): the
best walk is traced back, and where it enters a node ``v`` again, ``v`` joins the
neighbourhood of every node the walk passed in between (up to ``ng`` nodes), and the table is
filled again. Every round's bound is valid; the lowest is returned.

``python -m benchmarks.orienteering_ng_bound NAME [STEP] [NG]`` prints the bound of one
instance of ``benchmarks/data/orienteering``; ``--record`` merges it into ``proven.csv`` (the
bound column only ever goes down), and records the best route's prize as the optimum when it
meets the bound.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from fractions import Fraction

import numpy as np

from benchmarks.orienteering_instances import Problem, data_dir, load
from benchmarks.prove_orienteering import read_table, write_row
from frigoris.planners import _orienteering_kernels as _k

#: Prizes are rounded up to multiples of 2**-PRIZE_BITS.
PRIZE_BITS = 20
#: No arc.
NONE = -1


def _grid(x: float, step: float) -> int:
    """``floor(x / step)`` in exact arithmetic on the floats."""
    return math.floor(Fraction(x) / Fraction(step))


def _float_up(x: Fraction) -> float:
    """The smallest float at least ``x``."""
    f = float(x)
    return f if Fraction(f) >= x else float(np.nextafter(f, math.inf))


def ng_bound(
    p: Problem, step: float, ng: int, base: int = 4, rounds: int = 30, log: bool = False
) -> float:
    """Upper bound on the prize of every route of ``p`` (start and end prizes included)."""
    n0 = p.n
    travel = np.asarray(p.travel, dtype=float)
    prizes = np.asarray(p.prizes, dtype=float)
    service = np.zeros(n0) if p.service is None else np.asarray(p.service, dtype=float)
    windows = (
        np.column_stack([np.zeros(n0), np.full(n0, np.inf)])
        if p.windows is None
        else np.asarray(p.windows, dtype=float)
    )
    start, end = p.start, p.end
    base_prize = float(prizes[start]) + (float(prizes[end]) if end != start else 0.0)
    if start == end:  # a closed tour: the end is a copy of the start
        n = n0 + 1
        t = np.full((n, n), np.inf)
        t[:n0, :n0] = travel
        t[:n0, n0] = travel[:, start]
        travel = t
        prizes = np.append(prizes, 0.0)
        service = np.append(service, 0.0)
        windows = np.vstack([windows, windows[start]])
        end = n0
    else:
        n = n0
    prizes = prizes.copy()
    prizes[start] = prizes[end] = 0.0
    dur = np.full((n, n), NONE, dtype=np.int64)
    for i in range(n):
        svc = Fraction(float(service[i]))
        for j in np.flatnonzero(np.isfinite(travel[i])):
            dur[i, j] = math.floor((svc + Fraction(float(travel[i, j]))) / Fraction(step))
    np.fill_diagonal(dur, NONE)
    dur[:, start] = NONE
    dur[end, :] = NONE
    opens = np.array([_grid(max(float(o), 0.0), step) for o in windows[:, 0]], dtype=np.int64)
    budget_g = _grid(p.budget, step)
    closes = np.array(
        [min(_grid(c, step), budget_g) if math.isfinite(c) else budget_g for c in windows[:, 1]],
        dtype=np.int64,
    )
    inner = [j for j in range(n) if j not in (start, end)]
    if (dur[np.ix_(inner, inner)] == 0).any():
        raise ValueError(f"a duration rounds to 0 steps at step={step}; use a smaller step")
    # latest service start from which the end is still reachable on the grid (Bellman-Ford)
    lat = np.full(n, -(10**12), dtype=np.int64)
    lat[end] = closes[end]
    for _ in range(n):
        cand = np.max(np.where(dur >= 0, lat[None, :] - dur, -(10**12)), axis=1)
        new = np.maximum(lat, np.minimum(cand, closes))
        new[end] = closes[end]
        if np.array_equal(new, lat):
            break
        lat = new
    sym = np.where(dur >= 0, dur, 10**9) + np.where(dur.T >= 0, dur.T, 10**9)
    members = []
    for i in range(n):
        order = [int(j) for j in np.argsort(sym[i], kind="stable") if j != i][: base - 1]
        members.append([i, *order])
    # a walk makes at most budget_g moves: the smallest table whose integers hold its sums
    # (int16 only where the prizes are exact in it, int32 with prizes rounded up)
    top = (budget_g + 1) * float(prizes.max(initial=0.0))
    for dtype, exact in ((np.int16, True), (np.int32, False), (np.int64, False)):
        limit = 2.0 ** (8 * np.dtype(dtype).itemsize - 2)
        bits = PRIZE_BITS
        while bits > 0 and top * 2.0**bits >= limit:
            bits -= 1
        fits = dtype == np.int64 or top * 2.0**bits < limit
        if fits and (not exact or np.array_equal(prizes * 2.0**bits, np.floor(prizes * 2.0**bits))):
            break
    scale = float(2**bits)
    prize_int = np.ceil(prizes * scale).astype(dtype)
    neg = -int(2 ** (8 * np.dtype(dtype).itemsize - 2))
    order = np.array([start, *[i for i in range(n) if i != start]], dtype=np.int64)
    bound = math.inf
    if ng > 16:
        raise ValueError(f"ng={ng}: at most 16 (memories are 16-bit)")
    for r in range(rounds):
        k = max(len(m) for m in members)
        ng_nodes, ng_pos = _k.ng_tables(members, n, k)
        trans = _k.ng_translations(ng_nodes, ng_pos)
        best, table, _ = _k.ng_fill(
            dur,
            opens,
            closes,
            lat,
            prize_int,
            ng_pos,
            trans,
            order,
            start,
            end,
            budget_g,
            neg,
            2**62,
        )
        if best == neg:
            return base_prize
        bound = min(bound, _float_up(Fraction(base_prize) + Fraction(int(best)) / Fraction(scale)))
        walk = list(
            _k.ng_walk(table, dur, opens, closes, prize_int, ng_pos, trans, start, end, best)
        )[::-1]
        del table
        grown = 0
        last: dict[int, int] = {}
        for pos, v in enumerate(walk):
            if v in last:  # a cycle v ... v: remember v all along it
                for u in walk[last[v] + 1 : pos]:
                    if v not in members[u] and len(members[u]) < ng:
                        members[u].append(v)
                        grown += 1
            last[v] = pos
        repeats = len(walk) - len(set(walk))
        if log:
            print(
                f"  round {r}: bound {bound:.10g}, walk of {len(walk)} nodes with {repeats} "
                f"repeats, ng sets up to {k}, grown by {grown}",
                flush=True,
            )
        if repeats == 0 or grown == 0:
            break
    return bound


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("step", nargs="?", type=float, default=0.5)
    parser.add_argument("ng", nargs="?", type=int, default=8)
    parser.add_argument("--base", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    p = next(q for q in load() if q.name == args.name)
    t0 = time.perf_counter()
    bound = ng_bound(p, args.step, args.ng, base=args.base, rounds=args.rounds, log=True)
    print(
        f"{args.name}: ng-route bound {bound!r} (step {args.step:g}, ng {args.ng}, base "
        f"{args.base}) in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    if args.record:
        table = data_dir() / "proven.csv"
        row = read_table(table).get(p.name, {})
        if row.get("best") and float(row["best"]) > bound:
            raise RuntimeError(f"{p.name}: a recorded route ({row['best']}) beats the bound")
        old = float(row["bound"]) if row.get("bound") else math.inf
        if bound < old:
            row = dict(row, bound=repr(bound))
            write_row(table, row, ("bound",))
            print(f"{p.name}: bound {old!r} -> {bound!r} recorded in {table}")
        if not row.get("optimum") and row.get("best") and float(row["best"]) >= bound:
            # a route that passed check_route reaches the bound: it is optimal
            row = dict(row, optimum=row["best"], proof_s=f"{time.perf_counter() - t0:.0f}")
            write_row(table, row, ("optimum", "proof_s"))
            print(f"{p.name}: optimum {row['best']} proven (the best route meets the bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
