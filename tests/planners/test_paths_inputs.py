"""Input validation of the path planner, rule by rule: each bad input names itself and the fix in
one line, and its twin just inside the rule is accepted (on a 3 x 4 grid)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from frigoris.planners.paths import (
    PathInputError,
    SlopeTerm,
    cost_distance,
    shortest_path,
    travel_matrix,
)

ONES = np.ones((3, 4))


def refused(message, fn, *args, **kw):
    with pytest.raises(PathInputError) as err:
        fn(*args, **kw)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "cost, message",
    [
        (np.ones(4), "cost must be a non-empty 2-D array, got shape (4,)"),
        (np.ones((0, 4)), "cost must be a non-empty 2-D array, got shape (0, 4)"),
        (np.ones((3, 0)), "cost must be a non-empty 2-D array, got shape (3, 0)"),
        (np.ones((1, 2, 2)), "cost must be a non-empty 2-D array, got shape (1, 2, 2)"),
        (np.ones((3, 4), bool), "cost must be a real-valued array, got dtype bool"),
        (np.ones((3, 4), complex), "cost must be a real-valued array, got dtype complex128"),
    ],
)
def test_bad_cost_arrays(cost, message):
    refused(message, shortest_path, cost, (0, 0), (0, 0))


@pytest.mark.parametrize("cost", [np.ones((1, 1)), np.ones((3, 4), np.int32), ONES])
def test_cost_arrays_just_inside(cost):
    assert shortest_path(cost, (0, 0), (0, 0)).cost == 0.0


@pytest.mark.parametrize(
    "res, message",
    [
        ("abc", "res_m must be a positive number of metres, got 'abc'"),
        (None, "res_m must be a positive number of metres, got None"),
        (0.0, "res_m must be a positive finite number of metres, got 0.0"),
        (-1.0, "res_m must be a positive finite number of metres, got -1.0"),
        (math.inf, "res_m must be a positive finite number of metres, got inf"),
        (math.nan, "res_m must be a positive finite number of metres, got nan"),
    ],
)
def test_bad_resolution(res, message):
    refused(message, shortest_path, ONES, (0, 0), (0, 1), res_m=res)


@pytest.mark.parametrize("res", [1e-9, "0.5", 1e300])
def test_resolution_just_inside(res):
    assert shortest_path(ONES, (0, 0), (0, 1), res_m=res).cost == pytest.approx(float(res))


def test_nan_and_negative_costs_name_the_first_cell():
    cost = ONES.copy()
    cost[1, 2] = cost[2, 3] = np.nan
    refused(
        "cost has 2 NaN cell(s), first at (row 1, col 2); use inf for keep-out cells",
        shortest_path,
        cost,
        (0, 0),
        (0, 1),
    )
    cost = ONES.copy()
    cost[2, 1] = -0.5
    refused(
        "cost has 1 negative cell(s), first -0.5 at (row 2, col 1); costs must be >= 0 "
        "(inf for keep-out)",
        shortest_path,
        cost,
        (0, 0),
        (0, 1),
    )
    # twins: inf (keep-out) and 0 (free) are costs
    cost = ONES.copy()
    cost[1, :3] = np.inf
    cost[0, 1] = 0.0
    assert shortest_path(cost, (0, 0), (0, 2)).cost == pytest.approx(0.5 + 0.5)


def test_slope_term_rules():
    refused(
        "slope must be a SlopeTerm or None, got ndarray",
        shortest_path,
        ONES,
        (0, 0),
        (0, 1),
        slope=np.zeros((3, 4)),
    )
    refused(
        "slope.elevation_m has shape (3, 3) but cost has shape (3, 4); they must be on the "
        "same grid",
        shortest_path,
        ONES,
        (0, 0),
        (0, 1),
        slope=SlopeTerm(np.zeros((3, 3)), 1.0),
    )
    z = np.zeros((3, 4))
    z[2, 2] = np.nan
    refused(
        "slope.elevation_m is nan at passable cell (row 2, col 2); elevation must be finite "
        "wherever cost is finite",
        shortest_path,
        ONES,
        (0, 0),
        (0, 1),
        slope=SlopeTerm(z, 1.0),
    )
    z0 = np.zeros((3, 4))
    z0[0, 0] = np.nan  # the very first cell
    refused(
        "slope.elevation_m is nan at passable cell (row 0, col 0); elevation must be finite "
        "wherever cost is finite",
        shortest_path,
        ONES,
        (0, 1),
        (0, 2),
        slope=SlopeTerm(z0, 1.0),
    )
    # twin: NaN elevation under keep-out is fine; a climb of 1 m costs 2 at 2 per metre
    cost = ONES.copy()
    cost[2, 2] = np.inf
    z[0, 1] = 1.0
    p = shortest_path(cost, (0, 0), (0, 1), slope=SlopeTerm(z, 2.0))
    assert p.cost == pytest.approx(1.0 + 2.0)


@pytest.mark.parametrize(
    "elevation, message",
    [
        (np.zeros(3), "elevation_m must be a non-empty 2-D numeric array, got shape (3,), "),
        (np.zeros((0, 2)), "elevation_m must be a non-empty 2-D numeric array, got shape (0, 2)"),
        (np.full((2, 2), "a"), "elevation_m must be a non-empty 2-D numeric array, got shape"),
    ],
)
def test_bad_slope_elevation(elevation, message):
    with pytest.raises(PathInputError, match=re.escape(message)):
        SlopeTerm(elevation, 1.0)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"uphill_per_m": -1e-12}, "uphill_per_m must be a finite number >= 0, got -1e-12"),
        ({"uphill_per_m": math.inf}, "uphill_per_m must be a finite number >= 0, got inf"),
        ({"uphill_per_m": math.nan}, "uphill_per_m must be a finite number >= 0, got nan"),
        (
            {"uphill_per_m": 1.0, "downhill_per_m": -1.0},
            "downhill_per_m must be a finite number >= 0, got -1.0",
        ),
    ],
)
def test_bad_slope_weights(kw, message):
    refused(message, SlopeTerm, np.zeros((1, 1)), **kw)


def test_slope_term_just_inside():
    term = SlopeTerm(np.zeros((1, 1), np.int16), uphill_per_m=0.0, downhill_per_m=0.0)
    assert (term.uphill_per_m, term.downhill_per_m) == (0.0, 0.0)
    assert term.elevation_m.dtype == np.float64 and not term.elevation_m.flags.writeable


@pytest.mark.parametrize(
    "cell, message",
    [
        ((-1, 0), "start (row -1, col 0) is outside the 3 x 4 grid"),
        ((3, 0), "start (row 3, col 0) is outside the 3 x 4 grid"),
        ((0, -1), "start (row 0, col -1) is outside the 3 x 4 grid"),
        ((0, 4), "start (row 0, col 4) is outside the 3 x 4 grid"),
        ((0.0, 1), "start must be a (row, col) pair of integers, got (0.0, 1)"),
        ((0, 1, 2), "start must be a (row, col) pair of integers, got (0, 1, 2)"),
        ("ab", "start must be a (row, col) pair of integers, got 'ab'"),
    ],
)
def test_bad_start_cell(cell, message):
    refused(message, shortest_path, ONES, cell, (0, 0))


def test_bad_goal_is_named_as_the_goal():
    refused("goal (row 0, col 4) is outside the 3 x 4 grid", shortest_path, ONES, (0, 0), (0, 4))


@pytest.mark.parametrize("cell", [(0, 0), (2, 3), (np.int64(2), np.int32(0)), [0, 3]])
def test_cells_just_inside(cell):
    p = shortest_path(ONES, cell, cell)
    assert tuple(p.cells[0]) == tuple(int(v) for v in cell)


@pytest.mark.parametrize(
    "sources, message",
    [
        (np.zeros(3, int), "sources must be an array of (row, col) pairs, got shape (3,)"),
        (np.zeros((2, 3), int), "sources must be an array of (row, col) pairs, got shape (2, 3)"),
        (np.zeros((0, 2), int), "sources must be an array of (row, col) pairs, got shape (0, 2)"),
        (np.zeros((1, 2)), "sources must hold integer (row, col) cells, got dtype float64"),
        (
            [(0, 0), (-1, 0), (3, 0)],
            "sources[1] (row -1, col 0) is outside the 3 x 4 grid (2 cell(s) outside)",
        ),
        ([(3, 0)], "sources[0] (row 3, col 0) is outside the 3 x 4 grid (1 cell(s) outside)"),
        ([(0, -1)], "sources[0] (row 0, col -1) is outside the 3 x 4 grid (1 cell(s) outside)"),
        ([(0, 4)], "sources[0] (row 0, col 4) is outside the 3 x 4 grid (1 cell(s) outside)"),
    ],
)
def test_bad_source_cells(sources, message):
    refused(message, cost_distance, ONES, sources)


@pytest.mark.parametrize(
    "sources", [(1, 2), [(0, 0), (2, 3)], np.array([[0, 3], [2, 0]], np.int32)]
)
def test_source_cells_just_inside(sources):
    field = cost_distance(ONES, sources)
    for r, c in np.atleast_2d(sources):
        assert field.cost[r, c] == 0.0


def test_bad_points_are_named_as_points():
    refused(
        "points[1] (row 2, col 4) is outside the 3 x 4 grid (1 cell(s) outside)",
        travel_matrix,
        ONES,
        [(0, 0), (2, 4)],
    )


@pytest.mark.parametrize(
    "bound, message",
    [
        (-1e-9, "max_cost must be >= 0 or None, got -1e-09"),
        (math.nan, "max_cost must be >= 0 or None, got nan"),
    ],
)
def test_bad_max_cost(bound, message):
    refused(message, cost_distance, ONES, (0, 0), max_cost=bound)
    refused(message, travel_matrix, ONES, [(0, 0), (0, 1)], max_cost=bound)


@pytest.mark.parametrize("bound, reached", [(0.0, 1), (None, 12), (math.inf, 12), (1.0, 3)])
def test_max_cost_just_inside(bound, reached):
    field = cost_distance(ONES, (0, 0), max_cost=bound)
    assert int(np.isfinite(field.cost).sum()) == reached
