"""check_route rule by rule: each rule broken alone, asserting exactly its message, and a twin
just inside the limit that passes; the checker's own input validation likewise.

Fast on purpose (hand-built routes, tiny solves): ``make mutate`` runs this file for every
mutant of :mod:`planners.route_check`.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import replace

import numpy as np
import pytest

from frigoris.planners import orienteering
from frigoris.planners.errors import InvalidProblemError
from frigoris.planners.orienteering import Route, check_route, solve_orienteering

INF = math.inf


# ---------------------------------------------------------------------------------------------
# check_route and input validation
# ---------------------------------------------------------------------------------------------


# One rule at a time. The base problem: nodes on a line at x = 0, 1, 3, 6 (travel |dx|),
# service 0.5 at node 1 and 0.25 at node 2, prizes 0, 2, 3, 1, start 0, end 3, budget 10.
# The route 0-1-2-3 arrives at 0, 1, 3.5 (1 + 0.5 + 2) and 6.75 (3.5 + 0.25 + 3): travel 6,
# prize 6. Every value is a dyadic number, so these sums are exact in floats too. Each case
# breaks exactly one rule (its twin stays just inside it) and checks that exactly that rule's
# message comes back.

LINE_X = np.array([0.0, 1.0, 3.0, 6.0])
LINE = dict(
    travel=np.abs(LINE_X[:, None] - LINE_X[None, :]),
    prizes=np.array([0.0, 2.0, 3.0, 1.0]),
    budget=10.0,
    start=0,
    end=3,
    service=np.array([0.0, 0.5, 0.25, 0.0]),
    time_windows=None,
)
ULP_DOWN = math.nextafter  # nextafter(x, -inf): the float just below x


def made(nodes=(0, 1, 2, 3), arrival=(0.0, 1.0, 3.5, 6.75), begin=None, **fields):
    """A route with the given (hand-computed) values; defaults: the base route, reported right."""
    values = dict(
        nodes=tuple(nodes),
        prize=6.0,
        travel=6.0,
        arrival=tuple(arrival),
        service_start=tuple(arrival if begin is None else begin),
        status="work_limit",
        bound=8.0,
    )
    values.update(fields)
    return Route(**values)


def problem(**changes):
    args = dict(LINE)
    args.update(changes)
    return args


def run_check(route, args):
    args = dict(args)
    return check_route(route, args.pop("travel"), args.pop("prizes"), args.pop("budget"), **args)


def rule_cases():
    """(rule, bad route, bad problem, good route, good problem, expected message)."""
    base = problem()
    window_3 = np.array([[0.0, INF], [0.0, INF], [0.0, 3.5], [0.0, INF]])
    late_3 = window_3.copy()
    late_3[2, 1] = ULP_DOWN(3.5, -INF)
    never = np.array([[0.0, INF], [0.0, INF], [INF, INF], [0.0, INF]])
    opens = np.array([[0.0, INF], [0.0, INF], [3.5, INF], [0.0, INF]])
    no_edge = LINE["travel"].copy()
    no_edge[1, 2] = INF
    out_of_range = made(nodes=(0, 1, 7, 3))
    return [
        (
            "too few nodes",
            made(nodes=(0,), arrival=(0.0,), prize=0.0, travel=0.0, bound=0.0),
            base,
            made(),
            base,
            "route has 1 node(s); it needs at least start and end",
        ),
        ("node index", out_of_range, base, made(), base, "node 7 is not a node index in [0, 4)"),
        (
            "start node",
            made(nodes=(1, 2, 3), arrival=(0.0, 2.5, 5.75), prize=6.0, travel=5.0),
            base,
            made(nodes=(0, 2, 3), arrival=(0.0, 3.0, 6.25), prize=4.0, travel=6.0),
            base,
            "route starts at node 1, not at start node 0",
        ),
        (
            "end node",
            made(nodes=(0, 1, 2), arrival=(0.0, 1.0, 3.5), prize=5.0, travel=3.0),
            base,
            made(),
            base,
            "route ends at node 2, not at end node 3",
        ),
        (
            "visited twice",
            made(nodes=(0, 1, 2, 1, 3), arrival=(0.0, 1.0, 3.5, 5.75, 11.25), travel=10.0),
            problem(budget=12.0),
            made(),
            base,
            "node 1 is visited more than once",
        ),
        (
            "missing edge",
            made(),
            problem(travel=no_edge),
            made(),
            base,
            "leg 1 -> 2 has no edge (travel is inf)",
        ),
        (
            "window close",
            made(),
            problem(time_windows=late_3),
            made(),
            problem(time_windows=window_3),
            f"arrival at node 2 at 3.5 is after its window closes at {ULP_DOWN(3.5, -INF)!r}",
        ),
        (
            "window never opens",
            made(),
            problem(time_windows=never),
            made(),
            problem(time_windows=opens),
            "the time window of node 2 never opens",
        ),
        (
            "budget",
            made(),
            problem(budget=ULP_DOWN(6.75, -INF)),
            made(),
            problem(budget=6.75),
            f"route ends at 6.75, over the budget of {ULP_DOWN(6.75, -INF)!r}",
        ),
        (
            "reported prize",
            made(prize=6.0 * (1 + 2e-9)),
            base,
            made(prize=6.0 * (1 + 0.5e-9)),
            base,
            f"route.prize is {6.0 * (1 + 2e-9)!r} but its nodes' prizes sum to 6.0",
        ),
        (
            "reported travel",
            made(travel=6.0 * (1 - 2e-9)),
            base,
            made(travel=6.0 * (1 - 0.5e-9)),
            base,
            f"route.travel is {6.0 * (1 - 2e-9)!r} but its legs sum to 6.0",
        ),
        (
            "arrival entries",
            made(arrival=(0.0, 1.0, 3.5), begin=(0.0, 1.0, 3.5, 6.75)),
            base,
            made(),
            base,
            "route.arrival has 3 entries for 4 nodes",
        ),
        (
            "arrival value",
            made(arrival=(0.0, 1.0, 3.5 * (1 + 2e-9), 6.75), begin=(0.0, 1.0, 3.5, 6.75)),
            base,
            made(arrival=(0.0, 1.0, 3.5 * (1 + 0.5e-9), 6.75), begin=(0.0, 1.0, 3.5, 6.75)),
            base,
            f"route.arrival[2] is {3.5 * (1 + 2e-9)!r} but recomputes to 3.5",
        ),
        (
            "service start entries",
            made(begin=(0.0, 1.0)),
            base,
            made(),
            base,
            "route.service_start has 2 entries for 4 nodes",
        ),
        (
            "service start value",
            made(begin=(0.0, 1.0, 3.5, 6.75 + 1e-6)),
            base,
            made(begin=(0.0, 1.0, 3.5, 6.75 + 1e-9)),
            base,
            f"route.service_start[3] is {6.75 + 1e-6!r} but recomputes to 6.75",
        ),
        (
            "status",
            made(status="great"),
            base,
            made(status="time_limit"),
            base,
            "route.status is 'great', not one of optimal, work_limit, time_limit",
        ),
        (
            "bound is a number",
            made(bound=math.nan),
            base,
            made(bound=INF),
            base,
            "route.bound is nan, not a number",
        ),
        (
            "bound below prize",
            made(bound=5.5),
            base,
            made(bound=6.0),
            base,
            "route.bound is 5.5, below the prize 6.0 of its nodes",
        ),
        (
            "optimal bound",
            made(status="optimal", bound=7.0),
            base,
            made(status="optimal", bound=6.0),
            base,
            "route.status is 'optimal' but its bound 7.0 is not its prize",
        ),
    ]


RULES = rule_cases()


@pytest.mark.parametrize(
    ("rule", "bad", "bad_args", "good", "good_args", "message"),
    RULES,
    ids=[case[0] for case in RULES],
)
def test_check_route_rule_fires_alone_and_its_twin_passes(
    rule, bad, bad_args, good, good_args, message
):
    assert run_check(bad, bad_args) == [message]
    assert run_check(good, good_args) == []


def test_check_route_accepts_the_closed_tour_back_to_start_and_waits_for_windows():
    # closed tour 0-1-2-0 with node 2 opening at 4: arrive 3.5, wait, leave at 4.25, back at 7.25
    windows = np.array([[0.0, INF], [0.0, INF], [4.0, 5.0], [0.0, INF]])
    route = made(
        nodes=(0, 1, 2, 0),
        arrival=(0.0, 1.0, 3.5, 7.25),
        begin=(0.0, 1.0, 4.0, 7.25),
        prize=5.0,
        travel=6.0,
    )
    assert run_check(route, problem(end=None, time_windows=windows)) == []
    assert run_check(route, problem(end=None, time_windows=windows, budget=7.0)) == [
        "route ends at 7.25, over the budget of 7.0"
    ]


def test_check_route_recomputes_instead_of_trusting_the_solver():
    # a solver route, then each reported field tampered with: exactly that field's rule fires
    travel = np.array([[0, 1, INF], [1, 0, 1], [1, 1, 0]], dtype=float)
    prizes = np.array([0.0, 2.0, 3.0])
    good = solve_orienteering(travel, prizes, 3.0)
    assert good.nodes == (0, 1, 2, 0) and good.status == "optimal"
    assert check_route(good, travel, prizes, 3.0) == []
    for field, value, message in (
        ("prize", 99.0, "route.prize is 99.0 but its nodes' prizes sum to 5.0"),
        ("travel", 0.5, "route.travel is 0.5 but its legs sum to 3.0"),
        ("arrival", (0.0, 0.5, 2.0, 3.0), "route.arrival[1] is 0.5 but recomputes to 1.0"),
        (
            "service_start",
            (0.0, 1.0, 2.5, 3.0),
            "route.service_start[2] is 2.5 but recomputes to 2.0",
        ),
        ("bound", 6.0, "route.status is 'optimal' but its bound 6.0 is not its prize"),
    ):
        tampered = replace(good, **{field: value})
        assert check_route(tampered, travel, prizes, 3.0) == [message]


def test_check_route_reads_reported_values_that_are_not_numbers_as_wrong():
    for field, value, message in (
        ("prize", "6", "route.prize is '6' but its nodes' prizes sum to 6.0"),
        ("prize", None, "route.prize is None but its nodes' prizes sum to 6.0"),
        ("prize", INF, "route.prize is inf but its nodes' prizes sum to 6.0"),
        ("travel", math.nan, "route.travel is nan but its legs sum to 6.0"),
        ("prize", True, "route.prize is True but its nodes' prizes sum to 6.0"),
        ("bound", "8", "route.bound is '8', not a number"),
        ("bound", True, "route.bound is True, not a number"),
    ):
        assert run_check(made(**{field: value}), problem()) == [message]
    assert run_check(made(prize=np.float64(6.0), bound=np.float64(8.0)), problem()) == []
    assert run_check(made(bound=7), problem()) == []  # an int bound is a number
    assert run_check(made(prize=np.int64(6), bound=np.int64(7)), problem()) == []


def test_check_route_compares_with_a_relative_tolerance_above_one_and_absolute_below():
    # prizes of 2e9 scale the 1e-9 tolerance up to 2 units; prizes near 0 use 1e-9 absolute
    big = problem(prizes=np.array([0.0, 1e9, 1e9, 0.0]))
    assert run_check(made(prize=2e9 + 2.0, bound=3e9), big) == []
    assert run_check(made(prize=2e9 + 4.0, bound=3e9), big) == [
        "route.prize is 2000000004.0 but its nodes' prizes sum to 2000000000.0"
    ]
    tiny = problem(prizes=np.zeros(4))
    assert run_check(made(prize=0.5e-9, bound=0.0), tiny) == []
    assert run_check(made(prize=2e-9, bound=0.0), tiny) == [
        "route.prize is 2e-09 but its nodes' prizes sum to 0.0"
    ]


def test_check_route_bound_below_prize_by_less_than_the_tolerance_passes():
    # a bound rounded to the nearest float of an exact prize may sit a hair below it
    assert run_check(made(bound=6.0 * (1 - 0.5e-9)), problem()) == []
    assert run_check(made(bound=6.0 * (1 - 2e-9)), problem()) == [
        f"route.bound is {6.0 * (1 - 2e-9)!r}, below the prize 6.0 of its nodes"
    ]


def test_check_route_counts_the_prize_of_a_node_once_and_of_start_and_end():
    # start and end prizes count; the closed tour's return to start does not count twice
    args = problem(end=None, prizes=np.array([4.0, 2.0, 3.0, 1.0]), budget=12.0)
    route = made(
        nodes=(0, 1, 2, 0), arrival=(0.0, 1.0, 3.5, 6.75), prize=9.0, travel=6.0, bound=10.0
    )
    assert run_check(route, args) == []
    assert run_check(replace(route, prize=13.0), args) == [
        "route.prize is 13.0 but its nodes' prizes sum to 9.0"
    ]


def test_check_route_stops_timing_at_a_missing_edge():
    # after a leg without an edge no time rule is checked, the prize still is
    no_edge = LINE["travel"].copy()
    no_edge[1, 2] = INF
    args = problem(travel=no_edge, budget=0.0)
    assert run_check(made(prize=7.0), args) == [
        "leg 1 -> 2 has no edge (travel is inf)",
        "route.prize is 7.0 but its nodes' prizes sum to 6.0",
    ]


def test_check_route_window_closing_at_minus_infinity_is_always_missed():
    windows = np.array([[0.0, INF], [-INF, -INF], [0.0, INF], [0.0, INF]])
    assert run_check(made(), problem(time_windows=windows)) == [
        "arrival at node 1 at 1.0 is after its window closes at -inf"
    ]
    windows[1] = (-INF, 1.0)  # the twin: open since ever, closing just on time
    assert run_check(made(), problem(time_windows=windows)) == []


def test_check_route_time_starts_at_zero_and_waits_at_the_start_too():
    # the start's window opens at 2: service begins there at 2 and everything shifts by 2
    windows = np.array([[2.0, INF], [0.0, INF], [0.0, INF], [0.0, INF]])
    shifted = made(arrival=(0.0, 3.0, 5.5, 8.75), begin=(2.0, 3.0, 5.5, 8.75))
    assert run_check(shifted, problem(time_windows=windows)) == []
    assert run_check(shifted, problem(time_windows=windows, budget=8.5)) == [
        "route ends at 8.75, over the budget of 8.5"
    ]


BASE_ROUTE = None  # filled below: the base route of the rule cases, reported right


INVALID_PROBLEMS = [
    (
        dict(travel=np.ones((2, 3))),
        "travel has shape (2, 3); pass a square (N, N) matrix with N >= 1",
        dict(travel=np.abs(LINE_X[:, None] - LINE_X[None, :]).tolist()),
    ),
    (
        dict(travel=np.ones(4)),
        "travel has shape (4,); pass a square (N, N) matrix with N >= 1",
        None,
    ),
    (
        dict(travel=np.ones((0, 0))),
        "travel has shape (0, 0); pass a square (N, N) matrix with N >= 1",
        None,
    ),
    (
        dict(travel=np.where(np.eye(4, dtype=bool), math.nan, LINE["travel"])),
        "travel contains NaN; use inf for a missing edge",
        dict(travel=np.where(np.eye(4, dtype=bool), INF, LINE["travel"])),
    ),
    (
        dict(travel=LINE["travel"] - np.eye(4)[[1, 0, 3, 2]] * 7.0),
        "travel has negative entries; travel times must be >= 0",
        dict(travel=LINE["travel"] - np.eye(4) * 7.0),  # the diagonal is ignored
    ),
    (
        dict(prizes=np.ones(5)),
        "prizes has shape (5,); pass one prize per node (4,)",
        dict(prizes=[0.0, 2.0, 3.0, 1.0]),
    ),
    (
        dict(prizes=np.array([0.0, 2.0, 3.0, -1.0])),
        "prizes must be finite and >= 0",
        dict(prizes=np.array([0.0, 2.0, 3.0, 1.0])),
    ),
    (dict(prizes=np.array([0.0, 2.0, 3.0, INF])), "prizes must be finite and >= 0", None),
    (dict(budget=-1.0), "budget=-1.0 must be finite and >= 0", dict(budget=10)),
    (dict(budget=INF), "budget=inf must be finite and >= 0", None),
    (dict(budget=math.nan), "budget=nan must be finite and >= 0", None),
    (dict(start=1.0), "start=1.0 must be an integer node index", dict(start=np.int64(0))),
    (dict(start=False), "start=False must be an integer node index", None),
    (dict(start=4), "start=4 is not a node index in [0, 4)", None),
    (dict(start=-1), "start=-1 is not a node index in [0, 4)", None),
    (dict(end=3.0), "end=3.0 must be an integer node index", dict(end=np.int32(3))),
    (dict(end=4), "end=4 is not a node index in [0, 4)", None),
    (
        dict(service=np.zeros(3)),
        "service has shape (3,); pass one service time per node (4,)",
        dict(service=[0.0, 0.5, 0.25, 0.0]),
    ),
    (
        dict(service=np.array([0.0, 0.5, -0.25, 0.0])),
        "service times must be finite and >= 0",
        dict(service=np.array([0.0, 0.5, 0.25, 7.0])),  # the end's service is not spent
    ),
    (
        dict(service=np.array([0.0, 0.5, INF, 0.0])),
        "service times must be finite and >= 0",
        None,
    ),
    (
        dict(time_windows=np.zeros((4, 3))),
        "time_windows has shape (4, 3); pass (N, 2) rows of (open, close), N=4",
        dict(time_windows=[[0.0, INF]] * 4),
    ),
    (
        dict(time_windows=np.array([[0.0, INF], [math.nan, INF], [0.0, INF], [0.0, INF]])),
        "time_windows contains NaN; use -inf/inf for no bound",
        dict(time_windows=np.array([[0.0, INF], [-INF, INF], [0.0, INF], [0.0, INF]])),
    ),
    (
        dict(time_windows=np.array([[0.0, INF], [1.5, 1.0], [0.0, INF], [0.0, INF]])),
        "time window of node 1 opens at 1.5 after it closes at 1.0",
        dict(time_windows=np.array([[0.0, INF], [1.0, 1.0], [0.0, INF], [0.0, INF]])),
    ),
]
"""(change to the base problem, exact message, a twin just inside the rule or None)."""


@pytest.mark.parametrize(("change", "message", "twin"), INVALID_PROBLEMS, ids=lambda v: None)
def test_check_route_refuses_an_invalid_problem_rule_by_rule(change, message, twin):
    with pytest.raises(InvalidProblemError) as info:
        run_check(made(), problem(**change))
    assert str(info.value) == message
    if twin is not None:
        assert run_check(made(), problem(**twin)) == []


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (dict(travel=np.ones((2, 3))), "square"),
        (dict(travel=np.array([[0, np.nan], [1, 0]])), "NaN"),
        (dict(travel=np.array([[0, -1.0], [1, 0]])), "negative"),
        (dict(prizes=np.ones(3)), "one prize per node"),
        (dict(prizes=np.array([0.0, -1.0])), "prizes must be"),
        (dict(budget=math.nan), "budget"),
        (dict(start=2), "start=2"),
        (dict(end=-1), "end=-1"),
        (dict(service=np.array([0.0, -1.0])), "service"),
        (dict(time_windows=np.array([[0, 1], [3, 2]])), "opens at 3.0 after it closes"),
        (dict(time_limit_s=0.0), "time_limit_s"),
        (dict(seed=1.5), "seed"),
        (dict(wall_cap_s=-1.0), "wall_cap_s"),
    ],
)
def test_invalid_inputs_raise(kwargs, words):
    args = dict(travel=np.array([[0, 1.0], [1, 0]]), prizes=np.zeros(2), budget=2.0)
    args.update(kwargs)
    with pytest.raises(InvalidProblemError, match=words):
        solve_orienteering(args.pop("travel"), args.pop("prizes"), args.pop("budget"), **args)


# ---------------------------------------------------------------------------------------------
# What `make mutate` found untested: each test pins one branch of check_route that the rule
# cases above did not reach (a changed branch survived every test before these).
# ---------------------------------------------------------------------------------------------


def test_check_route_takes_its_problem_options_by_keyword_only():
    # start, end, service and time_windows are keywords; the first four may be named too
    args = problem()
    assert (
        check_route(
            route=made(),
            travel=args["travel"],
            prizes=args["prizes"],
            budget=args["budget"],
            start=0,
            end=3,
            service=args["service"],
        )
        == []
    )
    with pytest.raises(TypeError):
        check_route(made(), args["travel"], args["prizes"], args["budget"], 0, 3)


def test_check_route_accepts_a_route_of_just_start_and_end():
    # two nodes is the shortest route: 0 -> 3 directly, arriving at 6, prize 0 + 1
    route = made(nodes=(0, 3), arrival=(0.0, 6.0), prize=1.0, travel=6.0)
    assert run_check(route, problem()) == []
    assert run_check(
        replace(route, nodes=(0,), arrival=(0.0,), service_start=(0.0,)), problem()
    ) == ["route has 1 node(s); it needs at least start and end"]


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ((0, 4, 3), "node 4 is not a node index in [0, 4)"),  # the first index past the end
        ((0, -1, 3), "node -1 is not a node index in [0, 4)"),  # not Python's last element
        ((0, 5, -2, 3), "node 5 is not a node index in [0, 4)"),  # the first one is named
    ],
)
def test_check_route_names_the_first_node_outside_the_problem(nodes, message):
    assert run_check(made(nodes=nodes), problem()) == [message]


def test_check_route_finds_a_repeat_inside_a_closed_tour():
    # closed tour 0-1-2-1-0 (start == end): the return to 0 is allowed, the second 1 is not.
    # Arrivals 0, 1, 3.5 (1 + 0.5 + 2), 5.75 (3.5 + 0.25 + 2), 7.25 (5.75 + 0.5 + 1); travel 6.
    route = made(nodes=(0, 1, 2, 1, 0), arrival=(0.0, 1.0, 3.5, 5.75, 7.25), prize=5.0)
    assert run_check(route, problem(end=None)) == ["node 1 is visited more than once"]
    twin = made(nodes=(0, 1, 2, 0), arrival=(0.0, 1.0, 3.5, 6.75), prize=5.0)
    assert run_check(twin, problem(end=None)) == []


def test_check_route_counts_the_last_node_of_an_unclosed_route_when_start_is_end():
    # start == end == 0 but the route ends at 1, a node it visited already: both rules fire.
    # Arrivals 0, 1, 3.5, 5.75; travel 1 + 2 + 2.
    route = made(nodes=(0, 1, 2, 1), arrival=(0.0, 1.0, 3.5, 5.75), prize=5.0, travel=5.0)
    assert run_check(route, problem(end=None)) == [
        "route ends at node 1, not at end node 0",
        "node 1 is visited more than once",
    ]


def test_check_route_returning_to_start_is_a_repeat_when_start_is_not_end():
    # start 0, end 3: coming back to 0 is a second visit, not the close of a tour.
    # Arrivals 0, 1, 3.5, 6.75 (3.5 + 0.25 + 3); travel 1 + 2 + 3.
    route = made(nodes=(0, 1, 2, 0), arrival=(0.0, 1.0, 3.5, 6.75), prize=5.0)
    assert run_check(route, problem()) == [
        "route ends at node 0, not at end node 3",
        "node 0 is visited more than once",
    ]


def test_check_route_empty_closed_tour_takes_no_time_whatever_the_diagonal():
    # (start, start): the leg from 0 to itself takes no time, the diagonal (7 here) is ignored
    travel = LINE["travel"] + 7.0 * np.eye(4)
    route = made(nodes=(0, 0), arrival=(0.0, 0.0), prize=0.0, travel=0.0, bound=0.0)
    assert run_check(route, problem(travel=travel, end=None)) == []
    assert run_check(route, problem(travel=travel, end=None, budget=0.0)) == []
    assert run_check(replace(route, travel=1.0), problem(end=None)) == [
        "route.travel is 1.0 but its legs sum to 0.0"
    ]


def test_check_route_names_only_the_first_missing_edge():
    # after the first leg without an edge the route is not walked on: 2 -> 3 is not named
    no_edges = LINE["travel"].copy()
    no_edges[1, 2] = no_edges[2, 3] = INF
    assert run_check(made(), problem(travel=no_edges)) == ["leg 1 -> 2 has no edge (travel is inf)"]


def test_check_route_checks_both_time_lists_and_names_the_first_wrong_entry_of_each():
    # both lists have the wrong length: both are named
    assert run_check(made(arrival=(0.0, 1.0, 3.5), begin=(0.0, 1.0)), problem()) == [
        "route.arrival has 3 entries for 4 nodes",
        "route.service_start has 2 entries for 4 nodes",
    ]
    # two wrong arrivals, one wrong service start: the first wrong entry of each list is named
    wrong = made(arrival=(0.0, 1.5, 4.0, 6.75), begin=(0.0, 1.0, 3.5, 7.0))
    assert run_check(wrong, problem()) == [
        "route.arrival[1] is 1.5 but recomputes to 1.0",
        "route.service_start[3] is 7.0 but recomputes to 6.75",
    ]


def test_check_route_tolerance_is_inclusive_at_its_exact_edge():
    # prize 999999999 reported as 1e9: off by 1 = 1e-9 x 1e9 exactly (integers, exact in
    # floats and in the checker's fractions), inside the tolerance; one more unit is outside
    args = problem(prizes=np.array([0.0, 0.0, 999999999.0, 0.0]))
    assert run_check(made(prize=1e9, bound=2e9), args) == []
    assert run_check(made(prize=1e9 + 1.0, bound=2e9), args) == [
        "route.prize is 1000000001.0 but its nodes' prizes sum to 999999999.0"
    ]


def test_check_route_absolute_tolerance_below_one_is_1e9_not_more():
    # near 0 the tolerance is 1e-9 absolute: 1.5e-9 is outside it, 0.75e-9 inside
    tiny = problem(prizes=np.zeros(4))
    assert run_check(made(prize=1.5e-9, bound=0.0), tiny) == [
        "route.prize is 1.5e-09 but its nodes' prizes sum to 0.0"
    ]
    assert run_check(made(prize=0.75e-9, bound=0.0), tiny) == []


def test_check_route_allows_zero_and_fractional_travel_refuses_small_negative(monkeypatch):
    # two nodes at the same place (travel 0) and a fractional travel are valid problems,
    # on legs the route does not use; -0.5 is refused like any negative travel
    travel = LINE["travel"].copy()
    travel[0, 2] = 0.0
    travel[3, 0] = 0.5
    assert run_check(made(), problem(travel=travel)) == []
    args = problem(travel=travel)
    route = solve_orienteering(
        travel, args["prizes"], args["budget"], start=0, end=3, service=args["service"]
    )
    assert run_check(route, args) == []
    travel[3, 0] = -0.5
    message = "travel has negative entries; travel times must be >= 0"
    with pytest.raises(InvalidProblemError) as info:
        run_check(made(), problem(travel=travel))
    assert str(info.value) == message
    monkeypatch.setattr(orienteering, "_solve", _no_search)  # refused before any search
    with pytest.raises(InvalidProblemError) as info:
        solve_orienteering(travel, args["prizes"], args["budget"], start=0, end=3)
    assert str(info.value) == message


def _no_search(*args, **kwargs):
    raise AssertionError("the solver searched a problem it should have refused")


@pytest.mark.parametrize(("change", "message", "twin"), INVALID_PROBLEMS, ids=lambda v: None)
def test_solver_refuses_an_invalid_problem_with_the_checkers_words(
    change, message, twin, monkeypatch
):
    # the solver validates on its own (planners/orienteering.py), before any search: the
    # same rule, the same message; its twin is solved and the route passes the checker
    args = problem(**change)
    with monkeypatch.context() as m:
        m.setattr(orienteering, "_solve", _no_search)
        with pytest.raises(InvalidProblemError) as info:
            solve_orienteering(args.pop("travel"), args.pop("prizes"), args.pop("budget"), **args)
    assert str(info.value) == message
    if twin is not None:
        args = problem(**twin)
        route = solve_orienteering(
            args["travel"],
            args["prizes"],
            args["budget"],
            start=args["start"],
            end=args["end"],
            service=args["service"],
            time_windows=args["time_windows"],
            time_limit_s=1.0,
        )
        assert run_check(route, args) == []


def test_solver_treats_a_window_open_since_ever_as_open_at_time_zero():
    # openings before 0 (here -inf and -5) are moot: the route starts at 0 without waiting
    windows = np.array([[-INF, INF], [-5.0, INF], [0.0, INF], [-INF, INF]])
    args = problem(time_windows=windows)
    route = solve_orienteering(
        args["travel"], args["prizes"], args["budget"], start=0, end=3,
        service=args["service"], time_windows=windows, time_limit_s=1.0,
    )  # fmt: skip
    assert route.nodes == (0, 1, 2, 3) and route.service_start == (0.0, 1.0, 3.5, 6.75)
    assert run_check(route, args) == []


@pytest.mark.parametrize(
    ("kwargs", "message", "twin"),
    [
        (
            dict(time_limit_s=0.0),
            "time_limit_s=0.0 must be a positive number",
            dict(time_limit_s=0.5),
        ),
        (dict(time_limit_s=INF), "time_limit_s=inf must be a positive number", None),
        (dict(time_limit_s="1"), "time_limit_s='1' must be a positive number", None),
        (dict(seed=1.5), "seed=1.5 must be an integer", dict(seed=np.int64(3))),
        (dict(seed=True), "seed=True must be an integer", None),
        (
            dict(wall_cap_s=0.0),
            "wall_cap_s=0.0 must be a positive number or None",
            dict(wall_cap_s=60),
        ),
        (dict(wall_cap_s=INF), "wall_cap_s=inf must be a positive number or None", None),
        (dict(wall_cap_s="9"), "wall_cap_s='9' must be a positive number or None", None),
    ],
)
def test_solver_refuses_bad_search_options_by_name(kwargs, message, twin):
    args = problem()
    call = dict(start=0, end=3, service=args["service"])
    with pytest.raises(InvalidProblemError) as info:
        solve_orienteering(args["travel"], args["prizes"], args["budget"], **call, **kwargs)
    assert str(info.value) == message
    if twin is not None:
        route = solve_orienteering(args["travel"], args["prizes"], args["budget"], **call, **twin)
        assert run_check(route, args) == []


def test_solver_refuses_an_inverted_window_at_the_start_before_searching():
    # no route could serve it, yet the problem is what is wrong, not the search's result
    windows = np.array([[1.5, 1.0], [0.0, INF], [0.0, INF], [0.0, INF]])
    args = problem(time_windows=windows)
    with pytest.raises(InvalidProblemError) as info:
        solve_orienteering(args.pop("travel"), args.pop("prizes"), args.pop("budget"), **args)
    assert str(info.value) == "time window of node 0 opens at 1.5 after it closes at 1.0"


def test_solver_defaults_are_the_documented_ones():
    # the docstring promises a 10 s budget, seed 0, a closed tour from node 0, no cap given
    params = inspect.signature(solve_orienteering).parameters
    assert {
        k: params[k].default for k in ("start", "end", "time_limit_s", "seed", "wall_cap_s")
    } == {
        "start": 0,
        "end": None,
        "time_limit_s": 10.0,
        "seed": 0,
        "wall_cap_s": None,
    }


@pytest.mark.parametrize("budget", [6.75, 6.5, 6.0])
def test_solver_windows_open_before_time_zero_change_nothing(budget):
    # the rover leaves at 0 whatever the windows say before: the same routes as without them
    args = problem(budget=budget)
    early = np.array([[-5.0, INF], [-INF, INF], [-0.5, INF], [-5.0, INF]])
    kw = dict(start=0, end=3, service=args["service"], time_limit_s=1.0)
    plain = solve_orienteering(args["travel"], args["prizes"], budget, **kw)
    windowed = solve_orienteering(args["travel"], args["prizes"], budget, time_windows=early, **kw)
    assert windowed == plain
    assert run_check(windowed, problem(budget=budget, time_windows=early)) == []


def test_solver_wall_cap_defaults_to_six_times_the_limit_plus_30_s(monkeypatch):
    # the docstring: None is 6 x time_limit_s + 30 s; _solve gets it as a perf_counter deadline
    seen = {}

    def record(spec, time_limit_s, seed, deadline, time_windows):
        seen["left_s"] = deadline - time.perf_counter()
        raise AssertionError("recorded")

    monkeypatch.setattr(orienteering, "_solve", record)
    args = problem()
    with pytest.raises(AssertionError, match="recorded"):
        solve_orienteering(args["travel"], args["prizes"], 10.0, start=0, end=3, time_limit_s=10.0)
    assert 80.0 < seen["left_s"] <= 90.0


def test_solver_names_the_first_inverted_window_and_takes_its_arrays_by_name():
    windows = np.array([[0.0, INF], [1.5, 1.0], [3.0, 2.0], [0.0, INF]])
    args = problem(time_windows=windows)
    with pytest.raises(InvalidProblemError) as info:
        solve_orienteering(
            travel=args["travel"], prizes=args["prizes"], budget=10.0, end=3, time_windows=windows
        )
    assert str(info.value) == "time window of node 1 opens at 1.5 after it closes at 1.0"
    with pytest.raises(TypeError):
        solve_orienteering(args["travel"], args["prizes"], 10.0, 0, 3)  # options by keyword
