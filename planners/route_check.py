"""Independent feasibility checker of orienteering routes: :func:`check_route`.

It shares no code with the solver in :mod:`planners.orienteering`: it reads the raw problem
arrays and the raw route and recomputes, in exact rational arithmetic on the float data, every
arrival, wait, service start, the travel and the prize. Each rule it enforces has one message
of its own (the tests break each rule alone and assert that message).

Semantics (those of :func:`planners.solve_orienteering`): the rover is at ``start`` at time 0;
at each node it arrives, waits until the node's window opens, spends ``service[i]`` there (not
at the last node) and travels on; the arrival must be at most the window's close; the route
ends at the service start of its last node, which must be at most ``budget``; the prize is the
sum over the distinct nodes; a leg from a node to itself (only the empty closed tour
``(start, start)``) takes no time.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidProblemError

if TYPE_CHECKING:
    from .orienteering import Route

__all__ = ["check_route"]

#: Relative tolerance on the reported prize, travel and times (they are floats of exact values).
REPORT_TOLERANCE = Fraction(1, 10**9)
#: Status values a route may carry.
STATUSES = ("optimal", "work_limit", "time_limit")


def check_route(
    route: Route,
    travel: np.ndarray,
    prizes: np.ndarray,
    budget: float,
    *,
    start: int = 0,
    end: int | None = None,
    service: np.ndarray | None = None,
    time_windows: np.ndarray | None = None,
) -> list[str]:
    """List what makes ``route`` infeasible or misreported, in plain words.

    Times are recomputed in exact rational arithmetic from the float data, so a route that
    overruns its budget by one unit in the last place is reported. The route's reported
    ``prize``, ``travel``, ``arrival`` and ``service_start`` are compared with the recomputed
    values (relative tolerance 1e-9); its ``bound`` must not be below the prize its nodes
    collect, and equal it when ``status`` is ``"optimal"``.

    Parameters
    ----------
    route : Route
        The route to check (any object with the attributes of :class:`Route`).
    travel, prizes, budget, start, end, service, time_windows
        The problem, exactly as passed to :func:`solve_orienteering`.

    Returns
    -------
    list of str
        One sentence per violation; empty when the route is feasible and correctly reported.
        After a leg without an edge, times are undefined and no time rule is checked.

    Raises
    ------
    InvalidProblemError
        If the problem itself is invalid (bad shapes, NaN, negative travel, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from frigoris.planners import solve_orienteering
    >>> travel = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> route = solve_orienteering(travel, np.array([0.0, 5.0]), 2.0)
    >>> check_route(route, travel, np.array([0.0, 5.0]), 2.0)
    []
    >>> check_route(route, travel, np.array([0.0, 5.0]), 1.5)
    ['route ends at 2.0, over the budget of 1.5']
    """
    p = _Problem.read(travel, prizes, budget, start, end, service, time_windows)
    nodes = [int(v) for v in route.nodes]
    if len(nodes) < 2:
        return [f"route has {len(nodes)} node(s); it needs at least start and end"]
    outside = [v for v in nodes if not 0 <= v < p.n]
    if outside:
        return [f"node {outside[0]} is not a node index in [0, {p.n})"]

    out: list[str] = []
    if nodes[0] != p.start:
        out.append(f"route starts at node {nodes[0]}, not at start node {p.start}")
    if nodes[-1] != p.end:
        out.append(f"route ends at node {nodes[-1]}, not at end node {p.end}")
    # a closed tour comes back to its start once; every other node is visited at most once
    once = nodes[:-1] if (p.start == p.end and nodes[-1] == nodes[0]) else nodes
    counted: set[int] = set()
    for v in once:
        if v in counted:
            out.append(f"node {v} is visited more than once")
        counted.add(v)

    # exact times along the route
    arrivals: list[Fraction] = []
    starts: list[Fraction] = []
    travel_sum = Fraction(0)
    timed = True
    clock = Fraction(0)
    for k, v in enumerate(nodes):
        if k:
            u = nodes[k - 1]
            leg = 0.0 if u == v else p.travel[u][v]
            if not math.isfinite(leg):
                out.append(f"leg {u} -> {v} has no edge (travel is inf)")
                timed = False
                break
            travel_sum += Fraction(leg)
            clock = starts[-1] + Fraction(p.service[u]) + Fraction(leg)
        arrivals.append(clock)
        close = p.close[v]
        if close != math.inf and (close == -math.inf or clock > Fraction(close)):
            out.append(
                f"arrival at node {v} at {float(clock)!r} is after its window closes at {close!r}"
            )
        opening = p.open[v]
        if opening == math.inf:
            out.append(f"the time window of node {v} never opens")
        elif opening != -math.inf and Fraction(opening) > clock:
            clock = Fraction(opening)
        starts.append(clock)
    if timed and starts[-1] > Fraction(p.budget):
        out.append(f"route ends at {float(starts[-1])!r}, over the budget of {p.budget!r}")

    prize = sum((Fraction(p.prizes[v]) for v in set(nodes)), Fraction(0))
    if not _agrees(route.prize, prize):
        out.append(f"route.prize is {route.prize!r} but its nodes' prizes sum to {float(prize)!r}")
    if timed:
        if not _agrees(route.travel, travel_sum):
            out.append(
                f"route.travel is {route.travel!r} but its legs sum to {float(travel_sum)!r}"
            )
        for name, reported, exact in (
            ("arrival", route.arrival, arrivals),
            ("service_start", route.service_start, starts),
        ):
            if len(reported) != len(nodes):
                out.append(f"route.{name} has {len(reported)} entries for {len(nodes)} nodes")
                continue
            for k, (r, x) in enumerate(zip(reported, exact, strict=True)):
                if not _agrees(r, x):
                    out.append(f"route.{name}[{k}] is {r!r} but recomputes to {float(x)!r}")
                    break

    status = getattr(route, "status", None)
    if status not in STATUSES:
        out.append(f"route.status is {status!r}, not one of {', '.join(STATUSES)}")
    bound = route.bound
    number = isinstance(bound, (int, float, np.integer, np.floating)) and not isinstance(
        bound, bool
    )
    if not number or math.isnan(bound):
        out.append(f"route.bound is {bound!r}, not a number")
    elif bound != math.inf and Fraction(bound) < prize and not _agrees(bound, prize):
        out.append(f"route.bound is {bound!r}, below the prize {float(prize)!r} of its nodes")
    elif status == "optimal" and not _agrees(bound, prize):
        out.append(f"route.status is 'optimal' but its bound {bound!r} is not its prize")
    return out


def _agrees(reported: Any, exact: Fraction) -> bool:
    """``reported`` is within the relative tolerance of ``exact`` (False if not a finite number)."""
    if isinstance(reported, bool) or not isinstance(
        reported, (int, float, np.integer, np.floating)
    ):
        return False
    r = float(reported)
    if not math.isfinite(r):
        return False
    q = Fraction(r)
    return abs(q - exact) <= REPORT_TOLERANCE * max(Fraction(1), abs(q), abs(exact))


class _Problem:
    """The raw problem as plain Python floats, validated on its own terms."""

    def __init__(self, travel, prizes, budget, start, end, service, open_, close) -> None:
        self.travel: list[list[float]] = travel
        self.prizes: list[float] = prizes
        self.budget: float = budget
        self.start: int = start
        self.end: int = end
        self.service: list[float] = service
        self.open: list[float] = open_
        self.close: list[float] = close
        self.n = len(prizes)

    @classmethod
    def read(cls, travel, prizes, budget, start, end, service, time_windows) -> _Problem:
        t = np.asarray(travel, dtype=float)
        if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] == 0:
            raise InvalidProblemError(
                f"travel has shape {t.shape}; pass a square (N, N) matrix with N >= 1"
            )
        n = t.shape[0]
        if np.isnan(t).any():
            raise InvalidProblemError("travel contains NaN; use inf for a missing edge")
        if (t[~np.eye(n, dtype=bool)] < 0).any():
            raise InvalidProblemError("travel has negative entries; travel times must be >= 0")
        pr = np.asarray(prizes, dtype=float)
        if pr.shape != (n,):
            raise InvalidProblemError(
                f"prizes has shape {pr.shape}; pass one prize per node ({n},)"
            )
        if not all(math.isfinite(v) and v >= 0 for v in pr.tolist()):
            raise InvalidProblemError("prizes must be finite and >= 0")
        b = float(budget)
        if not (math.isfinite(b) and b >= 0):
            raise InvalidProblemError(f"budget={b} must be finite and >= 0")
        s = _index(start, n, "start")
        e = s if end is None else _index(end, n, "end")
        if service is None:
            sv = [0.0] * n
        else:
            sa = np.asarray(service, dtype=float)
            if sa.shape != (n,):
                raise InvalidProblemError(
                    f"service has shape {sa.shape}; pass one service time per node ({n},)"
                )
            sv = sa.tolist()
            if not all(math.isfinite(v) and v >= 0 for v in sv):
                raise InvalidProblemError("service times must be finite and >= 0")
        if time_windows is None:
            op, cl = [-math.inf] * n, [math.inf] * n
        else:
            w = np.asarray(time_windows, dtype=float)
            if w.shape != (n, 2):
                raise InvalidProblemError(
                    f"time_windows has shape {w.shape}; pass (N, 2) rows of (open, close), N={n}"
                )
            if np.isnan(w).any():
                raise InvalidProblemError("time_windows contains NaN; use -inf/inf for no bound")
            op, cl = w[:, 0].tolist(), w[:, 1].tolist()
            for i in range(n):
                if op[i] > cl[i]:
                    raise InvalidProblemError(
                        f"time window of node {i} opens at {op[i]} after it closes at {cl[i]}"
                    )
        return cls(t.tolist(), pr.tolist(), b, s, e, sv, op, cl)


def _index(value: Any, n: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidProblemError(f"{name}={value!r} must be an integer node index")
    if not 0 <= int(value) < n:
        raise InvalidProblemError(f"{name}={value} is not a node index in [0, {n})")
    return int(value)
