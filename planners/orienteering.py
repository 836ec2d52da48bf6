"""Single-route prize collection: the orienteering problem, solved with OR-Tools.

One rover leaves ``start`` at time 0, visits some nodes and reaches ``end`` within a time
budget, collecting the prize of every node it visits. Optionally each node has a service time
(spent there before leaving) and a time window bounding the arrival (arriving early means
waiting). :func:`solve_orienteering` picks the stops and their order; :func:`check_route` is an
independent feasibility checker in exact arithmetic on the float data.

This is the only module of the project that imports :mod:`ortools`.

How it solves
-------------
1. Bounds. Earliest service start ``E[i]`` (from ``start``) and latest service start ``L[i]``
   (still reaching ``end`` in time) are propagated in floats, ignoring that a node may be used
   once. A node with ``E > L``, and an arc ``i -> j`` with ``E[i] + service[i] + travel[i, j]
   > L[j]``, is on no feasible route and is removed (with a relative margin of 1e-9, so float
   rounding can only keep too much, never remove too much).
2. Integers. Times are scaled by a power of two ``S`` (``budget * S`` about ``2**30``, so
   ``x * S`` is exact) into two models: a conservative one (durations rounded up, deadlines
   down: all its routes are feasible) and an optimistic one (the reverse: a relaxation). See
   :func:`_time_scale`.
3. Two engines side by side, on two threads:

   - a ruin-and-recreate local search, compiled (:mod:`planners._orienteering_kernels`), on the
     conservative model: drop a string of stops, the stops near a random node or random
     stops; re-insert free nodes by best ``prize**2 / shift`` with the exact "max shift" test
     for windows (Vansteenwegen et al. 2009), with random blinks (Christiaens & Vanden Berghe
     2020); 2-opt, or-opt and swaps of a stop for a free node of higher prize; a shrinking
     acceptance threshold. Every route it keeps is exactly feasible.
   - CP-SAT on the optimistic model, hinted with the best route so far: Boolean arcs under
     ``AddCircuit``, self-loops for skipped nodes, a fixed arc ``end -> start`` closing the
     path; a knapsack constraint on the scaled durations; with time windows, one
     service-start variable per node, its domain cut to the integer earliest and latest
     service start, linked through the arcs. ``linearization_level=2`` puts the circuit's cuts
     in the LP. A route it returns is checked in exact arithmetic; one that fails (it meets a
     bound only up to the rounding) is excluded by a no-good cut and CP-SAT runs again.
     Because the model is a relaxation, ``OPTIMAL`` plus a passed check proves optimality for
     the float data; its bound is the route's ``bound`` otherwise.

   - with time windows, an ng-route bound by dynamic programming (:func:`_ng_bound`, kernels
     in :mod:`planners._orienteering_kernels`; Baldacci, Mingozzi & Roberti 2011, Righini &
     Salani 2008/2009): the best prize of a walk on a time grid (the optimistic model's times
     rounded down to a power of two) that may enter a node again only after leaving its
     neighbourhood of 8 nearest nodes; the neighbourhoods grow where the best walk cycles.
     Every route is such a walk, so the bound holds; on large instances with windows it is
     far tighter than CP-SAT's (``tw150``: 186 against 357 in the same run). It takes a
     quarter of CP-SAT's thread in the last round.

   They run in two rounds (a fifth of each budget, then the rest) that meet at a barrier:
   the best route so far hints CP-SAT's second round and restarts the local search if CP-SAT
   found a better one. The search ends at the end of its budgets or at a proof: CP-SAT's
   ``OPTIMAL``, or a route whose prize reaches the bound (CP-SAT's or the DP's).
4. Check. The returned route is rebuilt in exact rational arithmetic from the float data and
   passed through :func:`check_route` (:mod:`planners.route_check`, which shares no code with
   this module).

Measured
--------
``python -m benchmarks bench_orienteering`` (``make bench``), ``time_limit_s=10``, seed 0, on
the 2-core reference machine while other jobs loaded it heavily (load average 12-18),
2026-12-05. "Before" is this module at commit 70c3219 (main before issue 18): its prize with
only its work limits ending it, recorded in ``benchmarks/data/orienteering/proven.csv``. The
proven values there come from long CP-SAT runs and, for the instances with windows, from the
ng-route DP bound run offline (``benchmarks/orienteering_ng_bound.py``), which met the best
route on four more instances (their optima) and lowered every other windowed bound.

- 49 Tsiligirides instances (21-33 nodes): all proven optimal within the run, before and
  now; at the best published score that any route can reach on 49/49 (three published scores
  exceed the proven optimum). Median time 1.8 s at load 18 (worst 13.8 s, over the 10 s).
- 31 generated 50-100-node instances with a proven optimum (12 orienteering, 19 with time
  windows and service times): at the optimum on 31/31, before 16/31; mean gap 0.00 %,
  before 1.56 %; optimality proven within the run on 24/31. On the 6 100-node ones with
  windows: 6/6 at the optimum, before 2/6; mean gap 0.00 %, before 3.41 %.
- 14 generated 50-100-node instances without a proven optimum: the best prize any run has
  found on all but one (a reference from this solver's own long runs, not an independent
  one); mean gap to the best bound ever proven 4.13 % (0.70 % on the 8 with windows).
- The traverse planner's instances (152 candidates; 134 with illumination and link
  windows) and ``tw150`` (150 nodes with windows): the windowed traverse instance 230.275
  against a best proven bound of 255.543 (gap 9.9 %, before 10.2 %); ``tw150`` 165 against
  178 (gap 7.3 %, issue 18's target at most 17 %; before 163, 8.4 % against the same bound;
  the bound proven within the run 186, before 850). The unwindowed traverse instance is
  proven optimal in the run.
- Every route passed the exact recheck (0/97 infeasible); two runs on ``tw150`` gave the
  same route.
- Time: over both threads, median 10 s and worst 24 CPU seconds per 50-100-node instance
  (orienteering median 18.7 s, with windows 3.7 s: most are proven early); on the loaded
  machine wall time median 27 s, worst 76 s, and the wall cap ended no search. Before, the
  1-5 s of work on a free machine left half of the budget unused.

Tried, measured on CP-SAT alone at equal deterministic work (2-3.5 units) on
optw100_c2, traverse_s0_w and tw150, and on the whole solver for the round plan:

- kept: clauses forbidding pairs of nodes no route can serve together (by their windows):
  bound 1 % lower on optw100_c2 and optw75_u2, 8 % on ``tw150``, routes unchanged.
- not kept: two CP-SAT workers (``interleave_search``) in the last round: a better bound on
  two of three instances, but the optimum of op100_m_g2 no longer proven and 15-35 % more
  CPU, which the local search on the same two cores needs.
- not kept: more cut rounds at the root (``max_cut_rounds_at_level_zero=10``): bounds up to
  1 % lower, but on ``tw150`` the root ate the whole budget (no route, no bound); 2-3.5 times
  the CPU.
- not kept: knapsack cuts over window intervals: no better bound (974 against 975 on
  optw100_c2, 246 against 244 on ``tw150``) at 2.5 times the CPU.

Which side of ``tw150``'s gap (issue 18), measured 2026-12-05: the bound's. The compiled search
alone, 10 s of work with seeds 0-3, reaches 165 on every seed within its first 2 s and never
more; seed 0 with 600 s of work (the proving runs) also stops at 165. The bound was the loose
side: CP-SAT's best after long runs was 226, the ng-route DP's (offline,
``benchmarks/orienteering_ng_bound.py``) 198 with fixed neighbourhoods of 8, 182 with
neighbourhoods grown to 10, 178 grown to 12 (step 0.5). No route-side change (a CP-SAT
large-neighbourhood search) was tried: no search has found a route above 165 to aim at, and
the optimum may well be 165. In the run:

- kept: the ng-route bound in the last round, a quarter of CP-SAT's thread (its bound on
  ``tw150`` 186 in 1.7e8 units of work, about 2 s; optw100_u1's optimum proven in 0.2 s).
- not tried in the time: a larger neighbourhood in the run (the table is 2**bits per node
  and layer, 128 MiB at most), the DP's walks as hints for CP-SAT.

Determinism
-----------
Same inputs and seed, same route. The local search draws from its own splitmix64 generator,
seeded by ``seed``, and stops at a count of its elementary steps; CP-SAT runs one worker with
``random_seed=seed`` and stops at a *deterministic* work limit (``max_deterministic_time``, a
machine-independent count of work), and the ng-route DP at a count of its states and
extensions. The budgets are fixed by ``time_limit_s`` (``_HEUR_PER_SECOND``,
``_CP_PER_SECOND`` and ``_NG_PER_SECOND`` per second), sized with
``benchmarks/calibrate_orienteering.py`` so that each thread ends a little within the limit on
two free cores of the reference machine; the rounds meet at a barrier, so the threads'
relative speed cannot change the result. ``time_limit_s`` is also a wall-clock cap, only as a
safety net: if the cap ends a search first (a slower or crowded machine), the route's
``status`` is ``"time_limit"``, a warning is logged, and the result may differ between runs.
The first call in a fresh install compiles the search kernels (numba, cached on disk) before
the time limit starts.

Semantics of feasibility
------------------------
Feasible means: in exact arithmetic on the given floats, every arrival is at most its
window's close and the end is reached by the budget. Reported times are the exact values
rounded to the nearest float, so they also satisfy every bound in float comparisons; a naive
left-to-right float sum of the legs may differ from them in the last bit.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from frigoris.planners import _orienteering_kernels as _k
from frigoris.planners.errors import (
    InfeasiblePlanError,
    InvalidProblemError,
    NoFeasibleRouteError,
    PlanningError,
)
from frigoris.planners.route_check import check_route

__all__ = ["Route", "check_route", "solve_orienteering"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

RouteStatus = Literal["optimal", "work_limit", "time_limit"]

#: Scaled budget is about 2**_SCALE_BITS: resolution budget / 1e9, sums far below int64.
_SCALE_BITS = 30
#: CP-SAT deterministic time granted per second of ``time_limit_s`` (see "Determinism").
_CP_PER_SECOND = 0.35
#: Work units of the compiled search granted per second of ``time_limit_s``.
_HEUR_PER_SECOND = 1.8e8
#: The compiled search runs in chunks of this many units, checking the wall clock in between.
_CHUNK = 5e6
#: Default wall-clock cap: ``_WALL_FACTOR * time_limit_s + _WALL_EXTRA_S``. Generous on
#: purpose: the work limits decide, and a crowded machine (the 2-core reference machine ran
#: them up to five times slower under its neighbours' load) must not change the result.
_WALL_FACTOR = 6.0
_WALL_EXTRA_S = 30.0
#: Rounds of the anytime search: (share of the local search's budget, share of CP-SAT's
#: budget, CP-SAT workers).
_PLAN = ((0.2, 0.2, 1), (0.8, 0.8, 1))
#: Search parameters: largest ruin, blink probability, insertion noise, initial acceptance
#: threshold (fraction of the prize), iterations without a new best before going back to it,
#: and the number of near nodes a neighbourhood ruin picks from.
_RUIN_MAX = 30
_BLINK = 0.05
_NOISE = 0.5
_THRESHOLD = 0.05
_RESET = 2000
_NEAR = 12
#: ng-route bound (instances with time windows): neighbourhood size, its starting size, the
#: largest DP table, the share of CP-SAT's thread it gets and its work units per CPU second.
_NG_BITS = 8
_NG_BASE = 4
_NG_TABLE_BYTES = 128 * 2**20
_NG_SHARE = 0.25
_NG_PER_SECOND = 1.0e8
#: Relative margin for float bound pruning: pruning may keep too much, never remove too much.
_PRUNE_MARGIN = 1e-9
#: At most this many no-good cuts of relaxed routes that failed the exact check.
_MAX_CUT_ROUNDS = 100
#: Stand-in for "no arc" in integer arrays; larger than any scaled sum, small enough not to
#: overflow int64 when a few are added. The compiled kernels use the same value.
_NO_ARC = _k.NO_ARC


@dataclass(frozen=True)
class Route:
    """A route from ``start`` to ``end`` returned by :func:`solve_orienteering`.

    Attributes
    ----------
    nodes : tuple of int
        Node indices in visiting order, from ``start`` to ``end`` (``(start, start)`` is the
        empty closed tour).
    prize : float
        Sum of the prizes of the distinct nodes on the route (start and end included).
    travel : float
        Sum of the travel times of the legs (no service, no waiting).
    arrival : tuple of float
        Arrival time at each node of ``nodes``; ``arrival[0] == 0``.
    service_start : tuple of float
        ``max(arrival, window open)`` at each node: when service begins after any wait. The
        route ends at ``service_start[-1]``, which is within the budget.
    status : {"optimal", "work_limit", "time_limit"}
        ``"optimal"``: proven that no feasible route collects more. ``"work_limit"``: the
        deterministic limits ended the search (reproducible). ``"time_limit"``: the
        wall-clock cap ended it (may differ between runs; a warning is logged).
    bound : float
        Upper bound on the prize of any feasible route (equals ``prize`` when optimal).

    ``gap`` (a property) is ``(bound - prize) / bound``: how far below the optimum the route
    may be.
    """

    nodes: tuple[int, ...]
    prize: float
    travel: float
    arrival: tuple[float, ...]
    service_start: tuple[float, ...]
    status: RouteStatus
    bound: float

    @property
    def finish(self) -> float:
        """Time at which the route ends: service start at ``end``."""
        return self.service_start[-1]

    @property
    def gap(self) -> float:
        """``(bound - prize) / bound``: how far the prize may be below the optimum (0 if proven).

        0 when the bound is 0.
        """
        return 0.0 if self.bound <= 0 else (self.bound - self.prize) / self.bound


@dataclass(frozen=True)
class _Spec:
    """Validated inputs, float64 arrays of the original size N."""

    travel: np.ndarray  # (N, N)
    prizes: np.ndarray  # (N,)
    budget: float
    start: int
    end: int
    service: np.ndarray  # (N,)
    open: np.ndarray  # (N,)
    close: np.ndarray  # (N,)

    @property
    def n(self) -> int:
        return len(self.prizes)


def _validate(
    travel: np.ndarray,
    prizes: np.ndarray,
    budget: float,
    start: int,
    end: int | None,
    service: np.ndarray | None,
    time_windows: np.ndarray | None,
) -> _Spec:
    travel = np.asarray(travel, dtype=float)
    if travel.ndim != 2 or travel.shape[0] != travel.shape[1] or travel.shape[0] == 0:
        raise InvalidProblemError(
            f"travel has shape {travel.shape}; pass a square (N, N) matrix with N >= 1"
        )
    n = travel.shape[0]
    if np.isnan(travel).any():
        raise InvalidProblemError("travel contains NaN; use inf for a missing edge")
    off = ~np.eye(n, dtype=bool)
    if (travel[off] < 0).any():
        raise InvalidProblemError("travel has negative entries; travel times must be >= 0")
    prizes = np.asarray(prizes, dtype=float)
    if prizes.shape != (n,):
        raise InvalidProblemError(
            f"prizes has shape {prizes.shape}; pass one prize per node ({n},)"
        )
    if not np.isfinite(prizes).all() or (prizes < 0).any():
        raise InvalidProblemError("prizes must be finite and >= 0")
    budget = float(budget)
    if not math.isfinite(budget) or budget < 0:
        raise InvalidProblemError(f"budget={budget} must be finite and >= 0")
    start = _node_index(start, n, "start")
    end = start if end is None else _node_index(end, n, "end")
    if service is None:
        service_arr = np.zeros(n)
    else:
        service_arr = np.asarray(service, dtype=float)
        if service_arr.shape != (n,):
            raise InvalidProblemError(
                f"service has shape {service_arr.shape}; pass one service time per node ({n},)"
            )
        if not np.isfinite(service_arr).all() or (service_arr < 0).any():
            raise InvalidProblemError("service times must be finite and >= 0")
    if time_windows is None:
        open_arr = np.zeros(n)
        close_arr = np.full(n, np.inf)
    else:
        tw = np.asarray(time_windows, dtype=float)
        if tw.shape != (n, 2):
            raise InvalidProblemError(
                f"time_windows has shape {tw.shape}; pass (N, 2) rows of (open, close), N={n}"
            )
        if np.isnan(tw).any():
            raise InvalidProblemError("time_windows contains NaN; use -inf/inf for no bound")
        open_arr = np.maximum(tw[:, 0], 0.0)  # the route starts at time 0: earlier is moot
        close_arr = tw[:, 1].copy()
        bad = np.flatnonzero(tw[:, 0] > close_arr)
        if bad.size:
            i = int(bad[0])
            raise InvalidProblemError(
                f"time window of node {i} opens at {tw[i, 0]} after it closes at {tw[i, 1]}"
            )
    return _Spec(
        travel=travel,
        prizes=prizes,
        budget=budget,
        start=start,
        end=end,
        service=service_arr,
        open=open_arr,
        close=close_arr,
    )


def _node_index(value: int, n: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidProblemError(f"{name}={value!r} must be an integer node index")
    if not 0 <= int(value) < n:
        raise InvalidProblemError(f"{name}={value} is not a node index in [0, {n})")
    return int(value)


# --------------------------------------------------------------------------------------------
# Exact schedule and the independent checker
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Schedule:
    arrival: list[Fraction]
    service_start: list[Fraction]
    travel: Fraction
    prize: Fraction
    violations: list[str]


def _leg(spec: _Spec, i: int, j: int) -> float:
    # A leg from a node to itself only occurs as the empty closed tour (start, start): stay.
    return 0.0 if i == j else float(spec.travel[i, j])


def _exact_schedule(spec: _Spec, nodes: tuple[int, ...]) -> _Schedule:
    """Compute times along ``nodes`` exactly (rationals of the float data) and violations."""
    out: list[str] = []
    arrival: list[Fraction] = []
    begin: list[Fraction] = []
    travel_sum = Fraction(0)
    t = Fraction(0)
    for k, node in enumerate(nodes):
        if k > 0:
            prev = nodes[k - 1]
            leg = _leg(spec, prev, node)
            if not math.isfinite(leg):
                out.append(f"leg {prev} -> {node} has no edge (travel is inf)")
                arrival.append(t)
                begin.append(t)
                continue
            travel_sum += Fraction(leg)
            t = begin[-1] + Fraction(float(spec.service[prev])) + Fraction(leg)
        arrival.append(t)
        close = float(spec.close[node])
        if t > close:  # Fraction against float compares exactly (and handles +-inf)
            out.append(
                f"arrival at node {node} at {float(t)!r} is after its window closes at {close!r}"
            )
        opening = float(spec.open[node])
        if math.isinf(opening):
            out.append(f"the time window of node {node} never opens")
        else:
            t = max(t, Fraction(opening))
        begin.append(t)
    if nodes and begin[-1] > Fraction(spec.budget):
        out.append(f"route ends at {float(begin[-1])!r}, over the budget of {spec.budget!r}")
    distinct = set(nodes)
    prize = sum((Fraction(float(spec.prizes[i])) for i in distinct), Fraction(0))
    return _Schedule(arrival, begin, travel_sum, prize, out)


# --------------------------------------------------------------------------------------------
# Internal graph, bounds and pruning
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Graph:
    """The problem on internal nodes: original nodes, plus a copy of start as end if closed.

    ``travel`` is inf for every arc no route can use: into ``s``, out of ``e``, self loops and
    arcs removed by the bounds. ``close[e]`` already includes the budget.
    """

    orig: np.ndarray  # (M,) original index of each internal node
    s: int
    e: int
    travel: np.ndarray  # (M, M)
    service: np.ndarray  # (M,)
    open: np.ndarray  # (M,)
    close: np.ndarray  # (M,)
    prizes: np.ndarray  # (M,), 0 for the end copy of a closed tour


def _internal_graph(spec: _Spec) -> _Graph:
    n = spec.n
    closed = spec.start == spec.end
    m = n + 1 if closed else n
    s = spec.start
    e = n if closed else spec.end
    travel = np.full((m, m), np.inf)
    travel[:n, :n] = spec.travel
    orig = np.arange(m)
    service = np.zeros(m)
    service[:n] = spec.service
    open_ = np.zeros(m)
    open_[:n] = spec.open
    close = np.full(m, np.inf)
    close[:n] = spec.close
    prizes = np.zeros(m)
    prizes[:n] = spec.prizes
    if closed:
        # The copy is "back at start": same incoming arcs, same window, no prize, and the empty
        # tour is the zero-length arc start -> copy.
        orig[e] = s
        travel[:n, e] = spec.travel[:, s]
        travel[s, e] = 0.0
        open_[e] = open_[s]
        close[e] = close[s]
    service[e] = 0.0  # the route ends on reaching end
    close[e] = min(close[e], spec.budget)
    np.fill_diagonal(travel, np.inf)
    travel[:, s] = np.inf
    travel[e, :] = np.inf
    return _Graph(orig, s, e, travel, service, open_, close, prizes)


def _earliest(g: _Graph) -> np.ndarray:
    """Earliest service start at each node on a walk from ``s`` (inf: unreachable).

    Floats, waiting for windows, ignoring that a node may be visited once: a lower bound. A
    label-correcting fixpoint (travel is non-negative, so at most M rounds).
    """
    m = len(g.orig)
    earliest = np.full(m, np.inf)
    if g.close[g.s] >= 0:
        earliest[g.s] = g.open[g.s]
    for _ in range(m):
        arrive = np.min((earliest + g.service)[:, None] + g.travel, axis=0)
        cand = np.where(arrive <= g.close, np.maximum(arrive, g.open), np.inf)
        new = np.minimum(earliest, cand)
        if np.array_equal(new, earliest):
            break
        earliest = new
    return earliest


def _latest(g: _Graph) -> np.ndarray:
    """Latest service start at each node from which ``e`` is reached in time (-inf: none).

    The mirror of :func:`_earliest` (an upper bound); ``close[e]`` is finite (it includes the
    budget).
    """
    m = len(g.orig)
    latest = np.full(m, -np.inf)
    if g.close[g.e] >= g.open[g.e]:
        latest[g.e] = g.close[g.e]
    for _ in range(m):
        reach = np.max(latest[None, :] - g.travel, axis=1) - g.service
        cand = np.minimum(reach, g.close)
        cand = np.where(cand >= g.open, cand, -np.inf)
        new = np.maximum(latest, cand)
        if np.array_equal(new, latest):
            break
        latest = new
    return latest


def _prune(g: _Graph, budget: float) -> tuple[_Graph, np.ndarray, np.ndarray]:
    """Drop nodes and arcs no feasible route can use; return the graph on kept nodes."""
    earliest, latest = _earliest(g), _latest(g)
    margin = _PRUNE_MARGIN * max(1.0, budget)
    usable = earliest <= latest + margin
    if not (usable[g.s] and usable[g.e]):
        return g, earliest, latest
    keep = np.flatnonzero(usable)
    index = {int(v): k for k, v in enumerate(keep)}
    travel = g.travel[np.ix_(keep, keep)].copy()
    e_k = earliest[keep] + g.service[keep]
    travel[e_k[:, None] + travel > latest[keep][None, :] + margin] = np.inf
    # Exact, without the margin: time starts at 0 and only grows, so no route uses a leg longer
    # than the whole budget. (Below the scaling's resolution such a leg would read as free in
    # the optimistic model, e.g. 1e-187 against a budget of 0.)
    travel[travel > budget] = np.inf
    pruned = _Graph(
        orig=g.orig[keep],
        s=index[g.s],
        e=index[g.e],
        travel=travel,
        service=g.service[keep],
        open=g.open[keep],
        close=g.close[keep],
        prizes=g.prizes[keep],
    )
    return pruned, earliest, latest


# --------------------------------------------------------------------------------------------
# Integer scaling
# --------------------------------------------------------------------------------------------


def _time_scale(budget: float) -> float:
    """Return the power of two ``S`` with ``budget * S`` about ``2**30``.

    Two integer models are built with this scale, and neither ever decides feasibility in a
    route's favour:

    - *conservative* (local search): durations (travel, service, window opening) rounded up,
      deadlines (window closing, budget) rounded down. Every integer-feasible route is
      feasible for the float data, exactly.
    - *optimistic* (CP-SAT): durations rounded down, deadlines rounded up. Every route
      feasible for the float data is integer-feasible, so this model's optimum and bound hold
      for the float problem; each route it returns is then checked exactly, and one that
      fails (it must meet a bound to within ``budget * 2**-29`` per leg) is cut off and the
      model solved again.

    Why: ``S`` is a power of two, so ``x * S`` is exact for every float used (no overflow:
    values kept are at most about the budget; a subnormal product can only round to 0, and
    :func:`_scaled` sends positive durations to at least 1 when rounding up). With
    ``c = ceil(x * S) >= x * S`` for durations and ``D = floor(y * S) <= y * S`` for deadlines,
    induction along a route gives ``T_j >= T_i + c_service_i + c_travel_ij >= S * (t_i +
    service_i + travel_ij)`` and ``T_j >= ceil(open_j * S) >= S * open_j``: the integer service
    start bounds the exact one from above, so ``T_j <= D`` implies the exact bound. The
    optimistic model is the mirror image (the exact times, scaled and rounded down, satisfy
    it).
    """
    if budget <= 0:
        return 2.0**_SCALE_BITS
    k = _SCALE_BITS - math.ceil(math.log2(budget))
    return 2.0 ** max(-900, min(900, k))


def _scaled(x: np.ndarray, scale: float, up: bool) -> np.ndarray:
    """``ceil(x * scale)`` (``up``) or ``floor(x * scale)``, as exact floats of integers."""
    y = np.asarray(x, dtype=float) * scale
    if not up:
        return np.floor(y)
    # a positive subnormal product may round to 0: its ceiling is still 1
    return np.where((np.asarray(x) > 0) & (y < 1), 1.0, np.ceil(y))


def _prize_scale(prizes: np.ndarray) -> tuple[float, bool]:
    """Return a power of two making the prizes integers (exact), else fine enough (rounded).

    Also returns whether the scaled prizes are exact integers. The scaled total stays below
    ``2**40``.
    """
    total = float(prizes.sum())
    if total <= 0:
        return 1.0, True
    kmax = max(-900, min(900, 40 - math.ceil(math.log2(total))))
    for k in range(min(0, kmax), kmax + 1):
        scaled = prizes * 2.0**k
        if np.array_equal(scaled, np.floor(scaled)):
            return 2.0**k, True
    return 2.0**kmax, False


@dataclass(frozen=True)
class _IntModel:
    """Scaled integer data on the kept nodes (see :func:`_time_scale`)."""

    g: _Graph
    arc: np.ndarray  # (M, M) int64 travel, _NO_ARC where no arc
    service: np.ndarray  # (M,) int64
    lo: np.ndarray  # (M,) int64 earliest service start (window open)
    hi: np.ndarray  # (M,) int64 latest service start (window close, budget for end)
    prize: np.ndarray  # (M,) int64 scaled prize, 0 for start and end (constants)
    prize_scale: float
    prize_exact: bool
    needs_times: bool  # False: no waiting and no binding deadline, a knapsack suffices

    @property
    def m(self) -> int:
        return len(self.g.orig)

    @property
    def capacity(self) -> int:
        """Bound on the sum of leg durations (service of the leg's tail included)."""
        return int(self.hi[self.g.e] - self.lo[self.g.s])


def _int_model(g: _Graph, budget: float, *, optimistic: bool) -> _IntModel:
    scale = _time_scale(budget)
    up = not optimistic  # rounding direction of durations; deadlines go the other way
    # A duration beyond the budget makes whatever uses it infeasible; clipped to 2 ** 31 scaled
    # units (deadlines are at most about 2 ** 30) it stays so in both models and cannot
    # overflow int64, however small the budget.
    cap = 2.0 ** (_SCALE_BITS + 1) / scale
    finite = np.isfinite(g.travel)
    arc = np.full(g.travel.shape, _NO_ARC, dtype=np.int64)
    arc[finite] = _scaled(np.minimum(g.travel[finite], cap), scale, up).astype(np.int64)
    service = _scaled(np.minimum(g.service, cap), scale, up).astype(np.int64)
    lo = _scaled(np.minimum(g.open, cap), scale, up).astype(np.int64)
    hi = _scaled(np.minimum(g.close, budget), scale, not up).astype(np.int64)
    optional = np.ones(len(g.orig), dtype=bool)
    optional[[g.s, g.e]] = False
    pscale, exact = _prize_scale(g.prizes[optional])
    prize = np.zeros(len(g.orig), dtype=np.int64)
    prize[optional] = np.rint(g.prizes[optional] * pscale).astype(np.int64)
    # without waiting (no window opens after the start's) and without a deadline tighter than
    # the end's, times are prefix sums and the knapsack constraint alone is exact
    needs_times = bool((lo[optional] > lo[g.s]).any() or (hi[optional] < hi[g.e]).any())
    return _IntModel(g, arc, service, lo, hi, prize, pscale, exact, needs_times)


# --------------------------------------------------------------------------------------------
# Local search for an incumbent (conservative model: its routes are exactly feasible)
# --------------------------------------------------------------------------------------------


def _int_schedule(im: _IntModel, route: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer arrival and service start along ``route``; None if it breaks the model."""
    r = np.asarray(route)
    arrival = np.empty(len(r), dtype=np.int64)
    begin = np.empty(len(r), dtype=np.int64)
    arrival[0] = im.lo[r[0]]
    begin[0] = im.lo[r[0]]
    for k in range(1, len(r)):
        c = im.arc[r[k - 1], r[k]]
        if c >= _NO_ARC:
            return None
        arrival[k] = begin[k - 1] + im.service[r[k - 1]] + c
        if arrival[k] > im.hi[r[k]]:
            return None
        begin[k] = max(arrival[k], im.lo[r[k]])
    return arrival, begin


def _earliest_route(im: _IntModel) -> list[int] | None:
    """Route reaching ``e`` as early as possible in the integer model, or None.

    ``[s, e]`` when that is feasible; otherwise the earliest-arrival path (label-correcting
    over integer times with waiting; costs are non-negative and updates strict, so the
    predecessor chain is a simple path).
    """
    g = im.g
    if _int_schedule(im, [g.s, g.e]) is not None:
        return [g.s, g.e]
    t = np.full(im.m, _NO_ARC, dtype=np.int64)
    t[g.s] = im.lo[g.s]
    pred = np.full(im.m, -1)
    cols = np.arange(im.m)
    for _ in range(im.m):
        arrive = np.minimum(t + im.service, _NO_ARC)[:, None] + im.arc
        best = np.argmin(arrive, axis=0)
        arr = arrive[best, cols]
        cand = np.where(arr <= im.hi, np.maximum(arr, im.lo), _NO_ARC)
        better = cand < t
        if not better.any():
            break
        t[better] = cand[better]
        pred[better] = best[better]
    if t[g.e] >= _NO_ARC:
        return None
    route = [g.e]
    while route[-1] != g.s and len(route) <= im.m:
        route.append(int(pred[route[-1]]))
    route.reverse()
    return route if _int_schedule(im, route) is not None else None


# --------------------------------------------------------------------------------------------
# Ruin-and-recreate search (compiled; conservative model: its routes are exactly feasible)
# --------------------------------------------------------------------------------------------


def _near(im: _IntModel, k: int = _NEAR) -> np.ndarray:
    """Each node followed by its ``k - 1`` nearest nodes (shorter leg either way), ties by id."""
    both = np.minimum(im.arc, im.arc.T).astype(float)
    np.fill_diagonal(both, -1.0)
    return np.ascontiguousarray(
        np.argsort(both, axis=1, kind="stable")[:, : min(k, im.m)], dtype=np.int64
    )


_COMPILED = threading.Event()


def _compiled() -> None:
    """Run the compiled search once on a three-node problem.

    So the kernels are compiled (or loaded from numba's cache) before a time limit starts.
    """
    if _COMPILED.is_set():
        return
    arc = np.array([[_NO_ARC, 1, 1], [_NO_ARC, _NO_ARC, 1], [_NO_ARC, _NO_ARC, _NO_ARC]])
    zeros = np.zeros(3, dtype=np.int64)
    route = np.array([0, 2, 0, 0], dtype=np.int64)
    _k.search(
        arc,
        zeros,
        zeros,
        np.full(3, 10, dtype=np.int64),
        np.array([0, 1, 0], dtype=np.int64),
        np.array([[0, 1, 2], [1, 0, 2], [2, 1, 0]], dtype=np.int64),
        route,
        2,
        route.copy(),
        2,
        np.zeros(2, dtype=np.int64),
        np.zeros(_k.N_PARAMS),
        1,
        0.0,
        1.0,
    )
    _COMPILED.set()


class _Search:
    """One resumable run of :func:`_orienteering_kernels.search` with its own random state."""

    def __init__(self, im: _IntModel, route: list[int], seed: int, total_work: float) -> None:
        self.im = im
        self.near = _near(im)
        self.cur = np.zeros(im.m + 1, dtype=np.int64)
        self.best = np.zeros(im.m + 1, dtype=np.int64)
        self.cur[: len(route)] = route
        self.best[: len(route)] = route
        self.cur_n = self.best_n = len(route)
        # splitmix64 state (the seed spread over 64 bits) and the stale-iteration count
        self.state = np.array([(seed * 0x2545F4914F6CDD1D + 1) % (1 << 62), 0], dtype=np.int64)
        self.total = float(total_work)
        self.done = 0.0
        self.params = np.zeros(_k.N_PARAMS)
        self.params[_k.P_MAX_RUIN] = max(2, min(_RUIN_MAX, im.m // 3))
        self.params[_k.P_BLINK] = _BLINK
        self.params[_k.P_NOISE] = _NOISE
        self.params[_k.P_THRESHOLD] = _THRESHOLD
        self.params[_k.P_RESET] = _RESET

    @property
    def route(self) -> list[int]:
        return self.best[: self.best_n].tolist()

    def restart_from(self, route: list[int]) -> None:
        """Continue from ``route`` (a better route found elsewhere)."""
        self.cur[: len(route)] = route
        self.best[: len(route)] = route
        self.cur_n = self.best_n = len(route)

    def run(self, work: float, deadline: float, stop: threading.Event | None = None) -> bool:
        """Search for ``work`` more units, in chunks; False if the wall clock cut it short."""
        im = self.im
        target = self.done + work
        while self.done < target:
            if stop is not None and stop.is_set():
                return True
            if time.perf_counter() > deadline:
                return False
            chunk = min(_CHUNK, target - self.done)
            self.cur_n, self.best_n, used, _ = _k.search(
                im.arc,
                im.service,
                im.lo,
                im.hi,
                im.prize,
                self.near,
                self.cur,
                self.cur_n,
                self.best,
                self.best_n,
                self.state,
                self.params,
                int(math.ceil(chunk)),
                float(self.done),
                self.total,
            )
            self.done += max(float(used), 1.0)
        return True


# --------------------------------------------------------------------------------------------
# CP-SAT
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Solved:
    code: int  # CP-SAT status code of the last solve
    route: list[int] | None  # exactly feasible route found (internal ids), if any
    bound: float  # upper bound on the scaled prize of the optional nodes
    work: float  # deterministic time used
    wall_cut: bool  # the wall clock, not the work limit, ended the last solve


class _Prover:
    """The circuit model of the relaxed (optimistic) integer problem, built once, solved in rounds.

    Boolean arcs under ``AddCircuit``, self-loops for skipped nodes and a fixed arc ``end ->
    start`` closing the path; a knapsack on the scaled durations; with time windows one
    service-start variable per node, its domain reduced to the integer earliest and latest
    service starts, linked through the arcs. ``linearization_level=2`` puts the circuit's cuts
    in the LP. A route CP-SAT returns is checked in exact arithmetic (``exact``); one that fails
    (it meets a bound only up to the rounding) is cut off for good and the model solved again.
    """

    def __init__(self, im: _IntModel, exact, seed: int, parameters: dict | None = None) -> None:
        self.im = im
        self.exact = exact
        self.seed = seed % (2**31)
        self.parameters = dict(parameters or {})
        self.solver: cp_model.CpSolver | None = None
        g = im.g
        model = cp_model.CpModel()
        self.visit: dict[int, cp_model.IntVar] = {}
        circuit: list[tuple[int, int, cp_model.LiteralT]] = []
        for i in range(im.m):
            if i not in (g.s, g.e):
                self.visit[i] = model.new_bool_var(f"visit_{i}")
                circuit.append((i, i, ~self.visit[i]))  # a self-loop skips the node
        self.arcs: dict[tuple[int, int], cp_model.IntVar] = {}
        for i, j in zip(*np.nonzero(im.arc < _NO_ARC), strict=True):
            a = (int(i), int(j))
            self.arcs[a] = model.new_bool_var(f"arc_{a[0]}_{a[1]}")
            circuit.append((a[0], a[1], self.arcs[a]))
        closing = model.new_bool_var("closing")  # end -> start turns the path into a circuit
        model.add(closing == 1)
        circuit.append((g.e, g.s, closing))
        model.add_circuit(circuit)
        duration = {a: int(im.arc[a] + im.service[a[0]]) for a in self.arcs}
        model.add(sum(duration[a] * lit for a, lit in self.arcs.items()) <= im.capacity)
        self.times: dict[int, cp_model.IntVar] = {}
        self.pairs = 0
        if im.needs_times:
            early, late = _int_bounds(im)
            for i in range(im.m):
                lo, hi = int(early[i]), int(late[i])
                self.times[i] = model.new_int_var(lo, lo if i == g.s else max(lo, hi), f"t_{i}")
            for (i, j), lit in self.arcs.items():
                model.add(self.times[j] >= self.times[i] + duration[i, j]).only_enforce_if(lit)
            # two nodes that no route can visit in either order: at most one of them
            for i, j in _incompatible_pairs(im, early, late):
                model.add_bool_or([~self.visit[i], ~self.visit[j]])
                self.pairs += 1
        model.maximize(sum(int(im.prize[i]) * v for i, v in self.visit.items()))
        self.model = model
        self.cuts = 0

    def stop(self) -> None:
        """Ask a running solve to stop (from another thread)."""
        solver = self.solver
        if solver is not None:
            solver.stop_search()

    def _hint(self, route: list[int]) -> None:
        model = self.model
        model.clear_hints()
        on = set(route)
        used = set(zip(route[:-1], route[1:], strict=True))
        for i, v in self.visit.items():
            model.add_hint(v, i in on)
        for a, lit in self.arcs.items():
            model.add_hint(lit, a in used)
        if self.times:
            sched = _int_schedule(self.im, route)
            if sched is not None:
                begin = dict(zip(route, sched[1].tolist(), strict=True))
                for i, t in self.times.items():
                    lo, hi = t.proto.domain[0], t.proto.domain[-1]
                    model.add_hint(t, min(max(begin.get(i, lo), lo), hi))

    def solve(
        self, hint: list[int] | None, work_limit: float, deadline: float, workers: int = 1
    ) -> _Solved:
        """Solve with ``work_limit`` deterministic time; cut and re-solve inexact routes.

        ``workers > 1`` runs CP-SAT's portfolio of that many workers in deterministic batches
        (``interleave_search``), on as many threads.
        """
        g = self.im.g
        if hint is not None:
            self._hint(hint)
        work = 0.0
        bound = math.inf
        while True:
            solver = cp_model.CpSolver()
            p = solver.parameters
            p.num_workers = workers  # with a deterministic limit: reproducible
            if workers > 1:  # the portfolio in batches that meet: reproducible too
                p.interleave_search = True
            p.random_seed = self.seed
            p.linearization_level = 2  # the circuit's cuts in the LP: decisive here
            # probing in presolve spends the whole budget on 150 nodes (no LP bound at all);
            # without it the bound comes back, and small instances are proved just as fast
            p.cp_model_probing_level = 0
            # this presolve step alone spent 0.5 of work on a complete graph of 100 nodes, three
            # times over, before any search; it finds nothing in these models
            p.find_big_linear_overlap = False
            for key, value in self.parameters.items():
                setattr(p, key, value)
            limit = work_limit - work
            p.max_deterministic_time = max(limit, 1e-3)
            p.max_time_in_seconds = max(deadline - time.perf_counter(), 1e-3)
            self.solver = solver
            code = solver.solve(self.model)
            self.solver = None
            if code == cp_model.MODEL_INVALID:  # a bug here, not a user error
                raise PlanningError(
                    f"internal error: CP-SAT rejected the model: {self.model.validate()}"
                )
            used = float(solver.deterministic_time)
            work += used
            wall_cut = code in (cp_model.FEASIBLE, cp_model.UNKNOWN) and used < limit
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                # (UNKNOWN carries no bound worth the name: the search may not have started)
                bound = min(bound, float(solver.best_objective_bound))
            if code == cp_model.INFEASIBLE:
                bound = -1.0  # no route left: every remaining one was cut off as inexact
            if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return _Solved(int(code), None, bound, work, wall_cut)
            succ = {i: j for (i, j), lit in self.arcs.items() if solver.boolean_value(lit)}
            route = [g.s]
            while route[-1] != g.e:
                route.append(succ[route[-1]])
            if self.exact(route):
                return _Solved(int(code), route, bound, work, wall_cut)
            # the relaxed route fails the exact check: cut it off for good and solve again
            self.model.add(
                sum(self.arcs[a] for a in zip(route[:-1], route[1:], strict=True)) <= len(route) - 2
            )
            self.cuts += 1
            if self.cuts >= _MAX_CUT_ROUNDS or work >= work_limit or wall_cut:
                return _Solved(cp_model.FEASIBLE, None, bound, work, wall_cut)


def _incompatible_pairs(
    im: _IntModel, early: np.ndarray, late: np.ndarray
) -> list[tuple[int, int]]:
    """Pairs of optional nodes that no route of ``im`` can visit both, in either order.

    ``i`` can come before ``j`` only if ``early[i]`` plus the shortest duration of a path from
    ``i`` to ``j`` (travel and service, through any nodes; waiting only adds) is at most
    ``late[j]``. Valid for every route of ``im``: as constraints they cut no route off, and
    they tighten the bound on instances with time windows (the LP alone links time and
    visits only through big-M rows).
    """
    m = im.m
    dur = np.where(im.arc < _NO_ARC, im.arc + im.service[:, None], _NO_ARC)
    np.fill_diagonal(dur, 0)
    for k in range(m):  # Floyd-Warshall; sums of two _NO_ARC stay far below int64's limit
        dur = np.minimum(dur, dur[:, k : k + 1] + dur[k : k + 1, :])
    before = early[:, None] + dur <= late[None, :]
    together = before | before.T
    optional = [i for i in range(m) if i not in (im.g.s, im.g.e)]
    return [(i, j) for a, i in enumerate(optional) for j in optional[a + 1 :] if not together[i, j]]


def _int_bounds(im: _IntModel) -> tuple[np.ndarray, np.ndarray]:
    """Integer earliest and latest service start at each node of ``im`` (label correcting).

    Waiting for windows, ignoring that a node is visited once: bounds valid for every route,
    used as the domains of the time variables.
    """
    g = im.g
    big = _NO_ARC
    early = np.full(im.m, big, dtype=np.int64)
    early[g.s] = im.lo[g.s]
    for _ in range(im.m):
        arrive = np.min(np.minimum(early + im.service, big)[:, None] + im.arc, axis=0)
        cand = np.where(arrive <= im.hi, np.maximum(arrive, im.lo), big)
        new = np.minimum(early, cand)
        if np.array_equal(new, early):
            break
        early = new
    late = np.full(im.m, -big, dtype=np.int64)
    late[g.e] = im.hi[g.e]
    for _ in range(im.m):
        reach = np.max(late[None, :] - im.arc, axis=1) - im.service
        cand = np.where(np.minimum(reach, im.hi) >= im.lo, np.minimum(reach, im.hi), -big)
        new = np.maximum(late, cand)
        if np.array_equal(new, late):
            break
        late = new
    # a node off every route keeps its window (its time variable is then unconstrained)
    off = (early >= big) | (late <= -big) | (early > late)
    early = np.where(off, im.lo, early)
    late = np.where(off, im.hi, late)
    return early, late


# --------------------------------------------------------------------------------------------
# ng-route bound (time windows)
# --------------------------------------------------------------------------------------------


def _ng_bound(im: _IntModel, work_limit: float) -> tuple[float, float]:
    """Upper bound on the scaled optional prize of ``im`` by ng-route DP, and the work done.

    The bound is inf if the DP could not run (grid too coarse) or ran out of work.

    See :func:`_orienteering_kernels.ng_fill`. Times go on a grid of ``2**shift`` scaled
    units, rounded down (durations, openings, closes): with ``floor(a) + floor(b) <=
    floor(a + b)`` and monotone ``max``, a route's grid service starts never exceed its integer
    ones divided by the step, so every route of ``im`` is a walk on the grid. The grid is the
    finest whose table fits ``_NG_TABLE_BYTES``; it must give every arc at least one step
    (except arcs out of the start), else no bound is computed. Neighbourhoods start as each
    node and its ``_NG_BASE - 1`` nearest, and grow as in decremental state-space relaxation
    (Righini & Salani 2008): where the best walk enters a node again, that node joins the
    neighbourhoods of the nodes in between (up to ``_NG_BITS``), and the table is filled
    again while the work budget lasts. Each round's bound is valid; the lowest is returned.
    Deterministic: the rounds stop at counts of work.
    """
    g, m = im.g, im.m
    horizon = int(im.hi[g.e])
    if m < 3:
        return 0.0, 0.0  # no optional node
    if horizon <= 0:
        return math.inf, 0.0
    top = int(im.prize.max())
    masks = 1 << _NG_BITS
    dtype = None
    for dt in (np.int32, np.int64):
        tmax = int(_NG_TABLE_BYTES // (m * masks * np.dtype(dt).itemsize)) - 1
        shift = max(0, horizon.bit_length() - max(tmax, 1).bit_length())
        while (horizon >> shift) > tmax:
            shift += 1
        limit = 2 ** (8 * np.dtype(dt).itemsize - 2)
        if ((horizon >> shift) + 2) * top < limit:
            dtype = dt
            break
    if dtype is None:
        return math.inf, 0.0
    arc = im.arc
    has = arc < _NO_ARC
    dur = np.where(has, (im.service[:, None] + np.where(has, arc, 0)) >> shift, -1)
    np.fill_diagonal(dur, -1)
    dur[:, g.s] = -1
    dur[g.e, :] = -1
    inner = np.ones(m, dtype=bool)
    inner[[g.s, g.e]] = False
    if (dur[np.ix_(inner, inner)] == 0).any():
        return math.inf, 0.0  # too coarse a grid for the memory allowed
    lo = im.lo >> shift
    hi = im.hi >> shift
    steps = horizon >> shift
    never = -(1 << 60)
    lat = np.full(m, never, dtype=np.int64)
    lat[g.e] = hi[g.e]
    for _ in range(m):  # latest grid service start from which e is reached (Bellman-Ford)
        cand = np.max(np.where(dur >= 0, lat[None, :] - dur, never), axis=1)
        new = np.maximum(lat, np.minimum(cand, hi))
        new[g.e] = hi[g.e]
        if np.array_equal(new, lat):
            break
        lat = new
    sym = np.where(dur >= 0, dur, 1 << 40) + np.where(dur.T >= 0, dur.T, 1 << 40)
    members = [
        [i, *[int(j) for j in np.argsort(sym[i], kind="stable") if j != i][: _NG_BASE - 1]]
        for i in range(m)
    ]
    prize = im.prize.astype(dtype)
    neg = -(2 ** (8 * np.dtype(dtype).itemsize - 2))
    order = np.array([g.s, *[i for i in range(m) if i != g.s]], dtype=np.int64)
    done = 0.0
    bound = math.inf
    rounds = 0
    while done < work_limit:
        rounds += 1
        ng, pos = _k.ng_tables(members, m, _NG_BITS)
        trans = _k.ng_translations(ng, pos)
        best, table, work = _k.ng_fill(
            dur,
            lo,
            hi,
            lat,
            prize,
            pos,
            trans,
            order,
            g.s,
            g.e,
            steps,
            neg,
            int(work_limit - done),
        )
        out_of_work = done + work > work_limit
        done += float(work)
        if out_of_work:  # this round did not finish: no bound from it
            break
        if best == neg:  # no walk reaches the end, so no route does
            return 0.0, done
        bound = min(bound, float(best))
        walk = list(_k.ng_walk(table, dur, lo, hi, prize, pos, trans, g.s, g.e, best))[::-1]
        del table
        grown = 0
        last: dict[int, int] = {}
        for at, v in enumerate(walk):
            if v in last:  # a cycle v ... v: v joins the neighbourhoods along it
                for u in walk[last[v] + 1 : at]:
                    if v not in members[u] and len(members[u]) < _NG_BITS:
                        members[u].append(v)
                        grown += 1
            last[v] = at
        if grown == 0:
            break
    logger.debug("orienteering: ng-route bound %g after %d rounds, work %g", bound, rounds, done)
    return bound, done


# --------------------------------------------------------------------------------------------
# The anytime search: rounds of CP-SAT and the ruin-and-recreate search side by side
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    route: list[int] | None  # best exactly feasible route (internal ids)
    bound: float  # scaled bound on the optional prize (relaxed model's scale)
    optimal: bool
    wall_cut: bool


def _anytime(
    safe: _IntModel,
    relaxed: _IntModel,
    exact,
    seed: int,
    time_limit_s: float,
    deadline: float,
    cp_parameters: dict | None = None,
) -> _Outcome:
    """Search in rounds: CP-SAT (bound, proof) and the compiled search (routes) in parallel.

    Round ``r`` gives CP-SAT the share ``_PLAN[r][1]`` of its deterministic budget, hinted
    with the best route so far, and the compiled search the share ``_PLAN[r][0]`` of its own.
    Both are
    deterministic and the rounds meet at a barrier, where the best route is kept (ties to
    CP-SAT's) and the search continues from it: the result depends on the seed and the
    budgets only. A proof ends the search: CP-SAT's ``OPTIMAL``, or a route whose prize
    reaches CP-SAT's bound.
    """
    start = _earliest_route(safe)
    total_heur = _HEUR_PER_SECOND * time_limit_s
    total_cp = _CP_PER_SECOND * time_limit_s
    has_optional = bool((safe.prize > 0).any())
    heur = _Search(safe, start, seed, total_heur) if start is not None and has_optional else None
    wall_cut = False
    if heur is not None:
        wall_cut |= not heur.run(1.0, deadline)  # polish the start route
    best = heur.route if heur is not None else start
    best_prize = _int_prize(relaxed, best) if best is not None else -1
    prover = _Prover(relaxed, exact, seed, cp_parameters)
    bound = float(relaxed.prize.sum())
    stop = threading.Event()
    # with time windows, the last round's share of CP-SAT's thread goes to the ng-route bound
    ng_round = len(_PLAN) - 1 if relaxed.needs_times and has_optional else -1
    with ThreadPoolExecutor(max_workers=1) as pool:
        for r, (heur_share, cp_share, workers) in enumerate(_PLAN):
            future = None
            if heur is not None and heur_share > 0:
                future = pool.submit(heur.run, heur_share * total_heur, deadline, stop)
            if r == ng_round:
                cp_share -= _NG_SHARE
                ng_bound, _ = _ng_bound(relaxed, _NG_SHARE * time_limit_s * _NG_PER_SECOND)
                bound = min(bound, ng_bound)
                if best is not None and best_prize >= bound:
                    stop.set()
                    if future is not None:
                        future.result()
                    return _Outcome(best, float(best_prize), True, wall_cut)
            solved = prover.solve(best, cp_share * total_cp, deadline, workers)
            if solved.code == cp_model.OPTIMAL and solved.route is not None:
                stop.set()
                if future is not None:
                    future.result()
                return _Outcome(solved.route, float(_int_prize(relaxed, solved.route)), True, False)
            if future is not None:
                wall_cut |= not future.result()
            wall_cut |= solved.wall_cut
            bound = min(bound, solved.bound)
            if solved.code == cp_model.INFEASIBLE:
                # every relaxed route better than none was inexact: the best found is optimal
                return _Outcome(best, float(best_prize), best is not None, wall_cut)
            # keep the best route: CP-SAT's on ties (it was hinted with the previous best)
            for cand in (solved.route, heur.route if heur is not None else None):
                if cand is None:
                    continue
                prize = _int_prize(relaxed, cand)
                if prize > best_prize:
                    best, best_prize = cand, prize
            if heur is not None and best is not None:
                if _int_prize(relaxed, heur.route) < best_prize:
                    heur.restart_from(best)
            if best is not None and best_prize >= bound:
                return _Outcome(best, float(best_prize), True, wall_cut)
            if wall_cut or time.perf_counter() > deadline:
                wall_cut = True
                break
    return _Outcome(best, bound, False, wall_cut)


# --------------------------------------------------------------------------------------------
# Public solver
# --------------------------------------------------------------------------------------------


def solve_orienteering(
    travel: np.ndarray,
    prizes: np.ndarray,
    budget: float,
    *,
    start: int = 0,
    end: int | None = None,
    service: np.ndarray | None = None,
    time_windows: np.ndarray | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    wall_cap_s: float | None = None,
) -> Route:
    """Choose stops and their order to collect the most prize within a time budget.

    The rover is at ``start`` at time 0. At each node it arrives, waits for the node's window
    to open if early, spends ``service[i]`` there, then travels on. It must reach ``end``
    (with its window open) by ``budget``. ``service[end]`` is not spent; on a closed tour
    (``end == start``) the start's service is spent before leaving and its window bounds both
    the departure and the return.

    Parameters
    ----------
    travel : ndarray of shape (N, N)
        Travel time from row node to column node, >= 0; ``inf`` = no edge. May be asymmetric.
        The diagonal is ignored.
    prizes : ndarray of shape (N,)
        Prize of each node, finite and >= 0; the prizes of start and end are always collected.
    budget : float
        Latest time at which the route may reach ``end``.
    start : int, optional
        Start node (default 0).
    end : int or None, optional
        End node; None (default) returns to ``start``.
    service : ndarray of shape (N,), optional
        Time spent at each visited node before leaving it (default 0).
    time_windows : ndarray of shape (N, 2), optional
        ``(open, close)`` per node: arrival must be at most ``close``; arriving before
        ``open`` means waiting until ``open``. Use ``inf`` for no deadline.
    time_limit_s : float, optional
        Time budget in seconds on two free cores (default 10). The search stops at work
        limits derived from it (deterministic counts of work, sized so that they take about
        this long on two free cores of the reference machine), or earlier with a proof of
        optimality; results are reproducible. A crowded or slower machine takes longer for
        the same work and returns the same route (module notes, "Determinism").
    seed : int, optional
        Random seed of both searches (default 0). Same inputs and seed, same route.
    wall_cap_s : float or None, optional
        Hard wall-clock cap in seconds, a safety net only; None (default) is ``6 *
        time_limit_s + 30``. When it ends the search first, the route's ``status`` is
        ``"time_limit"``, a warning is logged and the route may differ between runs.

    Returns
    -------
    Route
        Feasible in exact arithmetic on the float data, as checked by :func:`check_route`.

    Raises
    ------
    InvalidProblemError
        If an array has the wrong shape, NaN, negative travel or service, negative prizes, or
        a window that closes before it opens.
    NoFeasibleRouteError
        If no route from start to end meets the budget and windows (for instance when the
        direct leg is already too long and no detour is shorter), or none was found within
        the limits.

    Notes
    -----
    ``status == "optimal"`` is a proof: CP-SAT solved a relaxation of the float problem
    (durations rounded down) to optimality and its route passed the exact check, or a route
    that is exactly feasible reached the relaxation's bound. ``bound`` is always a valid upper
    bound, also when the search stops at its limits (``route.gap`` says how far). With
    prizes that are not multiples of a power of two (e.g. 0.1), prizes are rounded to
    about 2**-40 of their total and optimality holds up to that rounding.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    >>> travel = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)
    >>> route = solve_orienteering(travel, np.array([0.0, 2.0, 3.0, 9.0]), budget=4.0)
    >>> route.nodes, route.prize, route.status
    ((0, 1, 2, 0), 5.0, 'optimal')
    """
    _compiled()  # a fresh install compiles the search kernels here, outside the time limit
    t0 = time.perf_counter()
    spec = _validate(travel, prizes, budget, start, end, service, time_windows)
    if not (isinstance(time_limit_s, (int, float)) and 0 < time_limit_s < math.inf):
        raise InvalidProblemError(f"time_limit_s={time_limit_s!r} must be a positive number")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidProblemError(f"seed={seed!r} must be an integer")
    if wall_cap_s is None:
        wall_cap_s = _WALL_FACTOR * time_limit_s + _WALL_EXTRA_S
    if not (isinstance(wall_cap_s, (int, float)) and 0 < wall_cap_s < math.inf):
        raise InvalidProblemError(f"wall_cap_s={wall_cap_s!r} must be a positive number or None")
    return _solve(spec, float(time_limit_s), int(seed), t0 + wall_cap_s, time_windows)


def _solve(
    spec: _Spec,
    time_limit_s: float,
    seed: int,
    deadline: float,
    time_windows: np.ndarray | None,
    cp_parameters: dict | None = None,
) -> Route:
    """Solve a validated problem.

    Deterministic budgets from ``time_limit_s``, wall cap ``deadline`` (a
    ``time.perf_counter`` value); ``cp_parameters`` are extra CP-SAT parameters (the proving
    runs of the benchmark use them).
    """
    full = _internal_graph(spec)
    g, earliest, latest = _prune(full, spec.budget)
    if g is full:
        raise NoFeasibleRouteError(_no_route_message(spec, full, earliest))
    safe = _int_model(g, spec.budget, optimistic=False)
    relaxed = _int_model(g, spec.budget, optimistic=True)

    t1 = time.perf_counter()

    def exact(route: list[int]) -> bool:
        return not _exact_schedule(spec, _original(g, route)).violations

    out = _anytime(safe, relaxed, exact, int(seed), float(time_limit_s), deadline, cp_parameters)
    logger.debug(
        "orienteering: %d of %d nodes and %d arcs kept; prize %s, bound %g, %s, in %.2f s",
        safe.m,
        spec.n,
        int((safe.arc < _NO_ARC).sum()),
        "none" if out.route is None else f"{_int_prize(safe, out.route) / safe.prize_scale:g}",
        out.bound / relaxed.prize_scale,
        "optimal" if out.optimal else "not proven",
        time.perf_counter() - t1,
    )
    if out.route is None:
        if out.bound < 0 or not out.wall_cut:
            raise NoFeasibleRouteError(_no_route_message(spec, full, earliest))
        raise NoFeasibleRouteError(
            f"no route from start {spec.start} to end {spec.end} was found within "
            f"time_limit_s={time_limit_s}; raise it"
        )
    status: RouteStatus
    if out.optimal:
        status = "optimal"
    elif not out.wall_cut:
        status = "work_limit"
    else:
        status = "time_limit"
        logger.warning(
            "orienteering search stopped by its wall-clock cap before its deterministic work "
            "limits (time_limit_s=%s); this result may not be reproducible",
            time_limit_s,
        )
    bound_scaled = out.bound
    bound = _prize_bound(relaxed, bound_scaled, spec)
    route = _make_route(spec, _original(g, out.route), status, bound)
    problems = check_route(
        route,
        spec.travel,
        spec.prizes,
        spec.budget,
        start=spec.start,
        end=spec.end,
        service=spec.service,
        time_windows=time_windows,
    )
    if problems:  # the scaling argument says this cannot happen; refuse rather than mislead
        raise InfeasiblePlanError(
            "internal error, the solver's route fails its check: " + "; ".join(problems)
        )
    return route


def _original(g: _Graph, route: list[int]) -> tuple[int, ...]:
    return tuple(int(g.orig[i]) for i in route)


def _int_prize(im: _IntModel, route: list[int]) -> int:
    return int(im.prize[list(set(route))].sum())


def _prize_bound(im: _IntModel, bound_scaled: float, spec: _Spec) -> float:
    fixed = float(spec.prizes[spec.start])
    if spec.end != spec.start:
        fixed += float(spec.prizes[spec.end])
    slack = 0.0 if im.prize_exact else 0.5 * (im.m - 2)  # rounding of each scaled prize
    return fixed + (bound_scaled + slack) / im.prize_scale


def _make_route(spec: _Spec, nodes: tuple[int, ...], status: RouteStatus, bound: float) -> Route:
    sched = _exact_schedule(spec, nodes)
    prize = float(sched.prize)
    return Route(
        nodes=nodes,
        prize=prize,
        travel=float(sched.travel),
        arrival=tuple(float(t) for t in sched.arrival),
        service_start=tuple(float(t) for t in sched.service_start),
        status=status,
        bound=prize if status == "optimal" else max(prize, bound),
    )


def _no_route_message(spec: _Spec, g: _Graph, earliest: np.ndarray) -> str:
    where = f"from start {spec.start} to end {spec.end}"
    if not math.isfinite(earliest[g.s]):
        return f"no route {where}: the start's time window closes before time 0"
    unbounded = replace(g, close=np.where(np.arange(len(g.close)) == g.e, np.inf, g.close))
    reach = float(_earliest(unbounded)[g.e])
    if not math.isfinite(reach):
        return (
            f"no route {where}: end cannot be reached through any chain of finite edges "
            f"and open time windows"
        )
    if reach <= min(spec.budget, float(g.close[g.e])):
        return (
            f"no route {where} meets budget={spec.budget!r} and the time windows in exact "
            f"arithmetic (in floats end is reached at {reach!r}, by rounding only)"
        )
    return (
        f"no route {where} fits: the earliest possible arrival at end is {reach:.6g}, past "
        f"budget={spec.budget:.6g} or the end's window; raise the budget or relax the windows"
    )
