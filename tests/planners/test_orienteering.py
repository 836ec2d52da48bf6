"""Tests for planners.orienteering: exact optima (by hand or brute force) and feasibility."""

from __future__ import annotations

import itertools
import math
import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frigoris.planners import orienteering
from frigoris.planners.errors import NoFeasibleRouteError, PlanningError
from frigoris.planners.orienteering import Route, check_route, solve_orienteering

INF = math.inf


def euclid(xy: list[tuple[float, float]]) -> np.ndarray:
    p = np.asarray(xy, dtype=float)
    return np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=-1))


def brute_force(travel, prizes, budget, start=0, end=None, service=None, windows=None):
    """Best prize over every route (all subsets, all orders), in exact rationals.

    Written from the documented semantics, independently of the solver: start at time 0,
    service starts at max(arrival, open), arrival <= close, leave after service, reach end
    (service start there) by budget; the empty closed tour is (start, start) of length 0.
    Returns None if no route is feasible.
    """
    n = len(prizes)
    end = start if end is None else end
    service = [0.0] * n if service is None else list(service)
    windows = [(0.0, INF)] * n if windows is None else [tuple(w) for w in windows]
    budget_q = Fraction(budget)

    def begin_at(node, arrival):
        lo, hi = windows[node]
        if math.isfinite(hi) and arrival > Fraction(hi):
            return None
        return max(arrival, Fraction(lo)) if math.isfinite(lo) else arrival

    def leg(i, j):
        return 0.0 if i == j else travel[i][j]

    optional = [v for v in range(n) if v not in (start, end)]
    best = None

    def extend(path, begin):
        nonlocal best
        last = path[-1]
        out = begin + Fraction(service[last])
        d = leg(last, end)
        if math.isfinite(d):
            finish = begin_at(end, out + Fraction(d))
            if finish is not None and finish <= budget_q:
                prize = sum(prizes[v] for v in set(path) | {end})
                best = prize if best is None else max(best, prize)
        for v in optional:
            if v in path or not math.isfinite(travel[last][v]):
                continue
            b = begin_at(v, out + Fraction(travel[last][v]))
            if b is not None and b <= budget_q:  # times only grow
                extend([*path, v], b)

    b0 = begin_at(start, Fraction(0))
    if b0 is not None:
        extend([start], b0)
    return best


# ---------------------------------------------------------------------------------------------
# Hand-solved instances
# ---------------------------------------------------------------------------------------------


def test_unit_square_tour_hand_solved():
    # 0 at the origin, 1 at (1, 0), 2 at (0, 1): the tour 0-1-2-0 is 2 + sqrt(2) = 3.41 <= 4
    # and collects 2 + 3; node 3 at (5, 5) is 7.07 away, out of reach.
    travel = euclid([(0, 0), (1, 0), (0, 1), (5, 5)])
    prizes = np.array([0.0, 2.0, 3.0, 9.0])
    route = solve_orienteering(travel, prizes, 4.0)
    assert route.prize == 5.0
    assert route.nodes in {(0, 1, 2, 0), (0, 2, 1, 0)}
    assert route.travel == pytest.approx(2 + math.sqrt(2), rel=1e-12)
    assert route.status == "optimal"
    assert route.bound == 5.0
    assert check_route(route, travel, prizes, 4.0) == []


def test_open_path_prefers_detour_with_bigger_prize():
    # start 0 at x=0, end 1 at x=4 on a line; node 2 at (1.5, 0) is on the way (prize 1);
    # node 3 at (2, 1.5) is 2.5 from both ends (3-4-5 triangles), a detour of 1 (prize 5).
    # Budget 5: 0-3-1 is exactly 5; 0-2-3-1 is 1.5 + sqrt(2.5) + 2.5 = 5.58; so 0-3-1.
    travel = euclid([(0, 0), (4, 0), (1.5, 0), (2, 1.5)])
    prizes = np.array([0.0, 0.0, 1.0, 5.0])
    route = solve_orienteering(travel, prizes, 5.0, start=0, end=1)
    assert route.nodes == (0, 3, 1)
    assert route.prize == 5.0
    assert route.travel == 5.0
    # budget 6: 0-2-3-1 (5.58) fits, the other order 0-3-2-1 (2.5 + 1.58 + 2.5 = 6.58) not
    route = solve_orienteering(travel, prizes, 6.0, start=0, end=1)
    assert route.nodes == (0, 2, 3, 1)
    assert route.prize == 6.0
    assert route.travel == pytest.approx(4 + math.sqrt(2.5))


def test_start_and_end_prizes_are_collected_and_start_differs_from_end():
    travel = euclid([(0, 0), (3, 0), (1, 0)])
    prizes = np.array([10.0, 20.0, 1.0])
    route = solve_orienteering(travel, prizes, 3.0, start=0, end=1)
    assert route.nodes == (0, 2, 1)
    assert route.prize == 31.0
    assert route.arrival == (0.0, 1.0, 3.0)


# ---------------------------------------------------------------------------------------------
# Time windows, service, asymmetry, missing edges
# ---------------------------------------------------------------------------------------------


def test_time_window_requires_waiting():
    # 0 -> 1 takes 1 but node 1 opens at 5: the rover waits 4, serves 1, reaches 2 at 7.
    travel = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    prizes = np.array([0.0, 5.0, 0.0])
    service = np.array([0.0, 1.0, 0.0])
    windows = np.array([[0, INF], [5, 6], [0, INF]])
    route = solve_orienteering(
        travel, prizes, 8.0, start=0, end=2, service=service, time_windows=windows
    )
    assert route.nodes == (0, 1, 2)
    assert route.arrival == (0.0, 1.0, 7.0)
    assert route.service_start == (0.0, 5.0, 7.0)
    assert route.finish == 7.0
    # finishing at 7 needs a budget of 7: with 6.5 node 1 cannot be served
    route = solve_orienteering(
        travel, prizes, 6.5, start=0, end=2, service=service, time_windows=windows
    )
    assert route.nodes == (0, 2)


def test_window_closing_before_arrival_excludes_node():
    # node 1 (prize 9) closes at 0.5 but is 1 away; node 2 (prize 1) is open
    travel = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    prizes = np.array([0.0, 9.0, 1.0])
    windows = np.array([[0, INF], [0, 0.5], [0, INF]])
    route = solve_orienteering(travel, prizes, 10.0, time_windows=windows)
    assert 1 not in route.nodes
    assert route.nodes == (0, 2, 0)
    # the window binds the order: 2 then 1 arrives at 2 > 1.5, 1 then 2 arrives at 1
    windows = np.array([[0, INF], [0, 1.5], [0, INF]])
    route = solve_orienteering(travel, prizes, 10.0, time_windows=windows)
    assert route.nodes == (0, 1, 2, 0)


def test_service_time_is_counted():
    # tour 0-1-0 is 2 long; service 1.5 at node 1 makes it 3.5
    travel = np.array([[0, 1], [1, 0]], dtype=float)
    prizes = np.array([0.0, 4.0])
    service = np.array([0.0, 1.5])
    assert solve_orienteering(travel, prizes, 3.0, service=service).nodes == (0, 0)
    route = solve_orienteering(travel, prizes, 3.5, service=service)
    assert route.nodes == (0, 1, 0)
    assert route.finish == 3.5
    assert route.travel == 2.0


def test_service_at_start_of_closed_tour_is_spent_before_leaving():
    travel = np.array([[0, 1], [1, 0]], dtype=float)
    prizes = np.array([0.0, 4.0])
    service = np.array([1.0, 0.0])
    assert solve_orienteering(travel, prizes, 2.5, service=service).nodes == (0, 0)
    assert solve_orienteering(travel, prizes, 3.0, service=service).nodes == (0, 1, 0)


def test_asymmetric_travel_fixes_direction():
    # clockwise 0-1-2-0 costs 3, counter-clockwise 0-2-1-0 costs 30
    travel = np.array([[0, 1, 10], [10, 0, 1], [1, 10, 0]], dtype=float)
    prizes = np.array([0.0, 1.0, 1.0])
    route = solve_orienteering(travel, prizes, 3.0)
    assert route.nodes == (0, 1, 2, 0)
    assert route.travel == 3.0
    # with the matrix transposed, only the other direction fits
    route = solve_orienteering(travel.T.copy(), prizes, 3.0)
    assert route.nodes == (0, 2, 1, 0)


def test_inf_edges_are_never_used():
    # the only way into node 1 is a missing edge; node 2 is reachable
    travel = np.array([[0, INF, 1, 1], [1, 0, 1, 1], [1, INF, 0, 1], [1, INF, 1, 0]], dtype=float)
    prizes = np.array([0.0, 100.0, 1.0, 1.0])
    route = solve_orienteering(travel, prizes, 100.0)
    assert 1 not in route.nodes
    assert route.prize == 2.0
    assert all(math.isfinite(travel[a, b]) for a, b in itertools.pairwise(route.nodes))


def test_missing_direct_edge_routes_through_a_detour():
    travel = np.array([[0, INF, 1], [INF, 0, INF], [INF, 1, 0]], dtype=float)
    route = solve_orienteering(travel, np.zeros(3), 2.0, start=0, end=1)
    assert route.nodes == (0, 2, 1)


# ---------------------------------------------------------------------------------------------
# Budget edge cases
# ---------------------------------------------------------------------------------------------


def test_budget_too_small_for_any_stop_gives_direct_route():
    travel = euclid([(0, 0), (2, 0), (1, 1)])
    prizes = np.array([0.0, 0.0, 7.0])
    route = solve_orienteering(travel, prizes, 2.5, start=0, end=1)  # detour is 2.83
    assert route.nodes == (0, 1)
    assert route.prize == 0.0
    assert route.status == "optimal"


def test_closed_tour_with_zero_budget_stays_at_start():
    travel = euclid([(0, 0), (1, 0)])
    route = solve_orienteering(travel, np.array([3.0, 5.0]), 0.0)
    assert route.nodes == (0, 0)
    assert route.prize == 3.0
    assert route.travel == 0.0


@pytest.mark.parametrize(
    ("travel", "budget", "windows", "words"),
    [
        (
            np.array([[0, 3.0], [3.0, 0]]),
            2.0,
            None,
            "earliest possible arrival at end is 3, past budget=2",
        ),
        (np.array([[0, INF], [INF, 0]]), 2.0, None, "cannot be reached"),
        (np.array([[0, 1.0], [1.0, 0]]), 2.0, np.array([[-2, -1], [0, INF]]), "closes before"),
    ],
    ids=["direct-too-long", "no-edge", "start-window-closed"],
)
def test_no_feasible_route_raises_clear_error(travel, budget, windows, words):
    with pytest.raises(NoFeasibleRouteError, match=words) as info:
        solve_orienteering(travel, np.zeros(2), budget, start=0, end=1, time_windows=windows)
    assert isinstance(info.value, PlanningError)
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------------------------------------------------
# Float rounding: never in the route's favour, never needlessly against it
# ---------------------------------------------------------------------------------------------


def test_float_trap_sum_equal_to_budget_in_floats_but_over_it_exactly():
    # 0.1 + 0.7 == 0.7999999999999999 in floats, yet the exact sum of these two doubles is
    # 0.79999999999999996114 > 0.79999999999999993339 = budget: the detour through node 1 is
    # infeasible. A naive float check (or decimal rounding to 1e-6) would take it.
    budget = 0.1 + 0.7
    assert Fraction(0.1) + Fraction(0.7) > Fraction(budget)
    travel = np.array([[0, 0.1, 0.5], [INF, 0, 0.7], [INF, INF, 0]])
    prizes = np.array([0.0, 9.0, 0.0])
    route = solve_orienteering(travel, prizes, budget, start=0, end=2)
    assert route.nodes == (0, 2)
    trap = Route((0, 1, 2), 9.0, budget, (0.0, 0.1, budget), (0.0, 0.1, budget), "optimal", 9)
    assert any("over the budget" in v for v in check_route(trap, travel, prizes, budget, end=2))


def test_float_trap_as_only_route_raises_instead_of_rounding():
    travel = np.array([[0, 0.1, INF], [INF, 0, 0.7], [INF, INF, 0]])
    with pytest.raises(NoFeasibleRouteError, match="exact arithmetic"):
        solve_orienteering(travel, np.zeros(3), 0.1 + 0.7, start=0, end=2)


@pytest.mark.parametrize(
    ("legs", "budget"),
    [
        ((0.1,), 0.1),  # a single non-dyadic leg equal to the budget
        ((0.5, 0.25, 0.25), 1.0),  # dyadic legs summing exactly to the budget
        ((0.1, 0.2), 0.30000000000000004),  # exact sum 0.30000000000000001665 <= budget
    ],
)
def test_routes_exactly_within_budget_are_accepted(legs, budget):
    n = len(legs) + 1
    travel = np.full((n, n), INF)
    for k, d in enumerate(legs):
        travel[k, k + 1] = d
    prizes = np.ones(n)
    route = solve_orienteering(travel, prizes, budget, start=0, end=n - 1)
    assert route.nodes == tuple(range(n))
    assert route.finish <= budget


def test_window_deadline_trap_is_not_rounded_in_favour():
    # arrival at node 1 is exactly 0.1 + 0.2 (= 0.30000000000000001665) > close 0.3
    travel = np.array([[0, 0.1, INF, 1], [INF, 0, 0.2, INF], [INF, INF, 0, 0.2], [1, 1, 1, 0]])
    travel[1, 3] = 0.1
    prizes = np.array([0.0, 1.0, 5.0, 0.0])
    windows = np.array([[0, INF], [0, INF], [0, 0.3], [0, INF]])
    route = solve_orienteering(travel, prizes, 10.0, start=0, end=3, time_windows=windows)
    assert 2 not in route.nodes
    windows[2, 1] = 0.30000000000000004
    route = solve_orienteering(travel, prizes, 10.0, start=0, end=3, time_windows=windows)
    assert route.nodes == (0, 1, 2, 3)


# ---------------------------------------------------------------------------------------------
# Exact optimum against brute force
# ---------------------------------------------------------------------------------------------


def random_instance(seed: int, n: int, windows: bool):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n, 2))
    uphill = rng.uniform(0, 3, n)
    travel = euclid(xy) + np.maximum(0.0, uphill[None, :] - uphill[:, None])  # asymmetric
    travel[rng.random((n, n)) < 0.15] = INF
    prizes = rng.integers(0, 10, n).astype(float)
    service = rng.uniform(0, 2, n)
    tw = None
    if windows:
        lo = rng.uniform(0, 15, n)
        tw = np.column_stack([lo, lo + rng.uniform(2, 10, n)])
        tw[0] = (0, INF)
    return travel, prizes, service, tw


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("windows", [False, True], ids=["plain", "windows"])
def test_matches_brute_force_on_8_nodes(seed, windows):
    travel, prizes, service, tw = random_instance(seed, 8, windows)
    end = None if seed % 2 else 7
    budget = 25.0
    best = brute_force(travel, prizes, budget, 0, end, service, tw)
    route = solve_orienteering(
        travel, prizes, budget, end=end, service=service, time_windows=tw, seed=seed
    )
    assert route.prize == best
    assert route.status == "optimal"
    assert (
        check_route(route, travel, prizes, budget, end=end, service=service, time_windows=tw) == []
    )


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


def windowed_70(seed=7):
    rng = np.random.default_rng(seed)
    n = 70
    travel = euclid(rng.uniform(0, 100, (n, 2)))
    prizes = rng.integers(1, 10, n).astype(float)
    service = rng.uniform(1, 4, n)
    lo = rng.uniform(0, 150, n)
    tw = np.column_stack([lo, lo + rng.uniform(20, 60, n)])
    tw[0] = (0, INF)
    return travel, prizes, service, tw


def test_same_seed_gives_same_route_when_search_is_cut_by_work_limit():
    # The work limits of time_limit_s=0.25 (a quarter of a second on two free cores) end the
    # search. The wall cap is an hour, so no load on the machine can end it first: the test
    # does not depend on wall time at all (the default cap, 31.5 s, could in principle).
    travel, prizes, service, tw = windowed_70()
    kwargs = dict(service=service, time_windows=tw, time_limit_s=0.25, seed=3, wall_cap_s=3600.0)
    first = solve_orienteering(travel, prizes, 250.0, **kwargs)
    second = solve_orienteering(travel, prizes, 250.0, **kwargs)
    assert first.status == "work_limit"  # the search was cut: the determinism is not trivial
    assert first == second
    assert first.prize < first.bound
    assert first.gap == (first.bound - first.prize) / first.bound
    assert check_route(first, travel, prizes, 250.0, service=service, time_windows=tw) == []


@pytest.mark.parametrize("slowed", ["_Search", "_Prover"])
def test_same_route_when_one_engine_runs_much_slower(monkeypatch, slowed):
    # The two engines run side by side and meet at a barrier after each round: a thread that
    # lags (a crowded machine) must not change the result. Slow one engine down on purpose.
    travel, prizes, service, tw = windowed_70()
    kwargs = dict(service=service, time_windows=tw, time_limit_s=0.25, seed=3, wall_cap_s=3600.0)
    reference = solve_orienteering(travel, prizes, 250.0, **kwargs)
    cls = getattr(orienteering, slowed)
    method = "run" if slowed == "_Search" else "solve"
    original = getattr(cls, method)
    calls = []

    def lagging(self, *args, **kw):
        calls.append(1)
        time.sleep(0.3)
        return original(self, *args, **kw)

    monkeypatch.setattr(cls, method, lagging)
    lagged = solve_orienteering(travel, prizes, 250.0, **kwargs)
    assert len(calls) >= 2  # slowed in every round, not only once
    assert reference.status == "work_limit"
    assert lagged == reference


def test_wall_clock_cap_ends_an_oversized_search_with_a_feasible_route(caplog):
    # an hour of work and a wall cap of half a second: the wall clock ends it
    travel, prizes, service, tw = random_instance(11, 60, windows=True)
    tw[:, 1] += 40.0
    route = solve_orienteering(
        travel,
        prizes,
        60.0,
        service=service,
        time_windows=tw,
        time_limit_s=3600.0,
        wall_cap_s=0.5,
    )
    assert route.status == "time_limit"
    assert "wall-clock cap" in caplog.text
    assert check_route(route, travel, prizes, 60.0, service=service, time_windows=tw) == []
    assert route.prize <= route.bound


def test_compiled_search_is_a_function_of_its_seed_and_budget():
    travel, prizes, service, tw = random_instance(5, 40, windows=True)
    spec = orienteering._validate(travel, prizes, 40.0, 0, None, service, tw)
    g, _, _ = orienteering._prune(orienteering._internal_graph(spec), spec.budget)
    safe = orienteering._int_model(g, spec.budget, optimistic=False)
    start = orienteering._earliest_route(safe)

    def run(seed):
        search = orienteering._Search(safe, start, seed, 2e7)
        for _ in range(3):  # in several calls, as the rounds of the solver do
            search.run(2e7 / 3, math.inf)
        return search.route

    first = run(1)
    assert run(1) == first
    assert orienteering._int_schedule(safe, first) is not None  # feasible in the safe model
    assert first[0] == g.s and first[-1] == g.e and len(set(first)) == len(first)


# ---------------------------------------------------------------------------------------------
# Property: feasible and optimal on random small instances
# ---------------------------------------------------------------------------------------------

leg_values = st.one_of(
    st.floats(0, 10, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.7, 1.0, INF]),
)


@st.composite
def small_instances(draw):
    n = draw(st.integers(2, 7))
    travel = np.array(
        draw(st.lists(st.lists(leg_values, min_size=n, max_size=n), min_size=n, max_size=n))
    )
    prizes = np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), dtype=float)
    start = draw(st.integers(0, n - 1))
    end = draw(st.one_of(st.none(), st.integers(0, n - 1)))
    service = None
    if draw(st.booleans()):
        service = np.array(
            draw(st.lists(st.sampled_from([0.0, 0.1, 0.5, 1.0]), min_size=n, max_size=n))
        )
    windows = None
    if draw(st.booleans()):
        opens = draw(st.lists(st.floats(0, 10), min_size=n, max_size=n))
        widths = draw(st.lists(st.one_of(st.floats(0, 10), st.just(INF)), min_size=n, max_size=n))
        windows = np.column_stack([opens, np.add(opens, widths)])
    if draw(st.booleans()):
        budget = draw(st.floats(0, 25))
    else:  # a budget equal to the float sum of some walk: the boundary cases
        walk = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=n))
        total = 0.0
        for a, b in itertools.pairwise(walk):
            total += 0.0 if a == b else travel[a, b]
            total += 0.0 if service is None else service[a]
        budget = total if math.isfinite(total) else 5.0
    return travel, prizes, budget, start, end, service, windows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_property_feasible_and_optimal(instance):
    travel, prizes, budget, start, end, service, windows = instance
    best = brute_force(travel, prizes, budget, start, end, service, windows)
    kwargs = dict(start=start, end=end, service=service, time_windows=windows)
    if best is None:
        with pytest.raises(NoFeasibleRouteError):
            solve_orienteering(travel, prizes, budget, **kwargs)
        return
    route = solve_orienteering(travel, prizes, budget, **kwargs)
    assert check_route(route, travel, prizes, budget, **kwargs) == []
    assert route.prize == best
    assert route.status == "optimal"


def test_tiny_budget_with_huge_scaled_legs_does_not_overflow():
    """Found by hypothesis: a 1e-133 budget scales a 1e-39 leg past int64; it is infeasible."""
    travel = np.zeros((6, 6))
    travel[0, 5] = 1.32865387e-133
    travel[4, 5] = 7.78873496e-40
    budget = 1.3286538684264982e-133
    route = solve_orienteering(travel, np.zeros(6), budget, start=0)
    assert route.nodes[0] == 0 and route.travel <= budget
    assert 4 not in route.nodes or 5 not in route.nodes[route.nodes.index(4) :][:2]


def test_leg_below_scaling_resolution_beyond_a_zero_budget_is_not_free():
    """Found by hypothesis: with budget 0 a 2e-187 leg rounds to 0 in the optimistic model;
    the free detour 0 -> 2 -> 6 is the optimum and must be proven so."""
    travel = np.zeros((7, 7))
    travel[0, 3:6] = 1.0
    travel[0, 6] = 2.22257402e-187
    prizes = np.zeros(7)
    prizes[6] = 1.0
    route = solve_orienteering(travel, prizes, 0.0, start=0)
    assert route.prize == 1.0 and route.status == "optimal" and route.travel == 0.0
    assert check_route(route, travel, prizes, 0.0) == []


def test_incompatible_pairs_are_exactly_those_no_order_can_serve():
    # start 0 and end 3; nodes 1 and 2 one unit from everything, service 5, windows closing at
    # 1: serving one first reaches the other at 1 + 5 + 1 = 7 at the earliest. Closing at 7
    # (the twin) lets 1 then 2 through, so the pair is no longer excluded.
    travel = np.ones((4, 4))
    service = np.array([0.0, 5.0, 5.0, 0.0])

    def pairs(close):
        tw = np.array([[0.0, INF], [0.0, close], [0.0, close], [0.0, INF]])
        spec = orienteering._validate(travel, np.ones(4), 100.0, 0, 3, service, tw)
        g, _, _ = orienteering._prune(orienteering._internal_graph(spec), spec.budget)
        im = orienteering._int_model(g, spec.budget, optimistic=True)
        early, late = orienteering._int_bounds(im)
        return [
            (int(g.orig[i]), int(g.orig[j]))
            for i, j in orienteering._incompatible_pairs(im, early, late)
        ]

    assert pairs(1.0) == [(1, 2)]
    assert pairs(7.0) == []
    # the relaxed model rounds deadlines up to its resolution (2**-23 for a budget of 100):
    # one resolution step short of 7 excludes the pair again
    assert orienteering._time_scale(100.0) == 2.0**23
    assert pairs(7.0 - 2.0**-23) == [(1, 2)]


def ng_bound_of(travel, prizes, budget, start, end, service, windows):
    """The in-run ng-route bound of a problem (inf if it does not run), as a prize."""
    spec = orienteering._validate(travel, prizes, budget, start, end, service, windows)
    g, _, _ = orienteering._prune(orienteering._internal_graph(spec), spec.budget)
    relaxed = orienteering._int_model(g, spec.budget, optimistic=True)
    bound, _ = orienteering._ng_bound(relaxed, 1e9)
    return orienteering._prize_bound(relaxed, bound, spec) if math.isfinite(bound) else INF


@pytest.mark.parametrize("seed", range(8))
def test_ng_bound_is_never_below_the_brute_force_optimum(seed):
    travel, prizes, service, tw = random_instance(100 + seed, 8, True)
    end = None if seed % 2 else 7
    best = brute_force(travel, prizes, 25.0, 0, end, service, tw)
    bound = ng_bound_of(travel, prizes, 25.0, 0, end, service, tw)
    assert best is not None and bound >= best
    assert bound < INF  # the DP ran


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_property_ng_bound_is_an_upper_bound(instance):
    travel, prizes, budget, start, end, service, windows = instance
    best = brute_force(travel, prizes, budget, start, end, service, windows)
    if best is None or windows is None:
        return
    spec = orienteering._validate(
        travel, prizes, budget, start, start if end is None else end, service, windows
    )
    g, _, _ = orienteering._prune(orienteering._internal_graph(spec), spec.budget)
    relaxed = orienteering._int_model(g, spec.budget, optimistic=True)
    bound, _ = orienteering._ng_bound(relaxed, 1e9)
    if math.isfinite(bound):
        assert orienteering._prize_bound(relaxed, bound, spec) >= best
