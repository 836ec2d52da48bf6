"""Least-cost paths: hand-checked grids, independent references (a heapq Dijkstra written here and
scikit-image's MCP_Geometric), edge cases and errors, travel matrices and smoothing."""

from __future__ import annotations

import dataclasses
import heapq
import logging
import math

import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skimage.graph import MCP_Geometric

from frigoris import planners
from frigoris.planners import paths
from frigoris.planners.errors import NoPathError, PlanningError
from frigoris.planners.paths import (
    PathInputError,
    SlopeTerm,
    cost_distance,
    shortest_path,
    smooth_path,
    travel_matrix,
)

SQ2 = math.sqrt(2.0)
INF = math.inf
PROPS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# Independent references


def ref_dijkstra(cost, sources, res=1.0, z=None, up=0.0, down=0.0):
    """Plain heapq Dijkstra over (row, col) tuples; shares no code with planners."""
    m, n = cost.shape
    dist = np.full((m, n), INF)
    heap = []
    for r, c in sources:
        dist[r, c] = 0.0
        heap.append((0.0, r, c))
    heapq.heapify(heap)
    while heap:
        d, r, c = heapq.heappop(heap)
        if d > dist[r, c]:
            continue
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if (dr, dc) == (0, 0) or not (0 <= rr < m and 0 <= cc < n):
                    continue
                if not np.isfinite(cost[rr, cc]):
                    continue
                w = res * math.hypot(dr, dc) * (cost[r, c] + cost[rr, cc]) / 2.0
                if z is not None:
                    dz = z[rr, cc] - z[r, c]
                    w += up * max(dz, 0.0) + down * max(-dz, 0.0)
                if d + w < dist[rr, cc]:
                    dist[rr, cc] = d + w
                    heapq.heappush(heap, (d + w, rr, cc))
    return dist


def ref_path_cost(cost, cells, res=1.0, z=None, up=0.0, down=0.0):
    """Sum of edge costs along an 8-connected cell path; asserts the cells are neighbours."""
    total = 0.0
    for (r0, c0), (r1, c1) in zip(cells[:-1], cells[1:], strict=True):
        assert max(abs(r1 - r0), abs(c1 - c0)) == 1, "consecutive cells must be 8-neighbours"
        total += res * math.hypot(r1 - r0, c1 - c0) * (cost[r0, c0] + cost[r1, c1]) / 2.0
        if z is not None:
            dz = z[r1, c1] - z[r0, c0]
            total += up * max(dz, 0.0) + down * max(-dz, 0.0)
    return total


def entered_cells(r0, c0, r1, c1):
    """Cells a centre-to-centre segment crosses with positive length (shapely geometry)."""
    seg = shapely.LineString([(c0 + 0.5, r0 + 0.5), (c1 + 0.5, r1 + 0.5)])
    out = []
    for r in range(min(r0, r1), max(r0, r1) + 1):
        for c in range(min(c0, c1), max(c0, c1) + 1):
            piece = seg.intersection(shapely.box(c, r, c + 1, r + 1)).length
            if piece > 1e-12:
                out.append((r, c, piece))
    return out


def ref_polyline_cost(cost, cells, res=1.0):
    """Line integral of the cell costs along the polyline through the cell centres."""
    total = 0.0
    for (r0, c0), (r1, c1) in zip(cells[:-1], cells[1:], strict=True):
        total += sum(res * piece * cost[r, c] for r, c, piece in entered_cells(r0, c0, r1, c1))
    return total


def mcp_cost(cost, start, goal, res=1.0):
    mcp = MCP_Geometric(cost, sampling=(res, res))
    cum, _ = mcp.find_costs([start], [goal])
    return cum[goal]


# ---------------------------------------------------------------------------------------------
# Strategies


@st.composite
def grids(draw, max_side=8, p_inf=0.25):
    m = draw(st.integers(1, max_side))
    n = draw(st.integers(1 if m > 1 else 2, max_side))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.5, 4.0, (m, n)).round(2)
    cost[rng.random((m, n)) < p_inf] = INF
    start = (draw(st.integers(0, m - 1)), draw(st.integers(0, n - 1)))
    goal = (draw(st.integers(0, m - 1)), draw(st.integers(0, n - 1)))
    return cost, start, goal, rng


def random_grid(seed, shape=(40, 50), p_inf=0.15):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1.0, 10.0, shape)
    cost[rng.random(shape) < p_inf] = INF
    return cost, rng


def passable_cells(cost, rng, k):
    flat = rng.choice(np.flatnonzero(np.isfinite(cost).ravel()), k, replace=False)
    return np.stack(np.divmod(flat, cost.shape[1]), axis=1)


# ---------------------------------------------------------------------------------------------
# shortest_path: hand-checked grids


def test_straight_row_cost_and_length():
    # 1 x 4 raster of cost 2 per metre at 0.5 m pixels: each step is 0.5 m * (2 + 2) / 2 = 1,
    # three steps: cost 3, length 1.5 m.
    path = shortest_path(np.full((1, 4), 2.0), (0, 0), (0, 3), res_m=0.5)
    assert path.cells.tolist() == [[0, 0], [0, 1], [0, 2], [0, 3]]
    assert path.cost == pytest.approx(3.0, rel=1e-12)
    assert path.length_m == pytest.approx(1.5, rel=1e-12)


def test_diagonal_steps_cost_sqrt2():
    # Uniform cost 1: (0,0) -> (2,2) is two diagonal moves of sqrt(2) * (1 + 1) / 2 each.
    path = shortest_path(np.ones((3, 3)), (0, 0), (2, 2))
    assert path.cells.tolist() == [[0, 0], [1, 1], [2, 2]]
    assert path.cost == pytest.approx(2 * SQ2, rel=1e-12)
    assert path.length_m == pytest.approx(2 * SQ2, rel=1e-12)


def test_wall_with_one_expensive_gap():
    # Column 2 is keep-out except the gap (4, 2) of cost 5; everything else costs 1. Any path
    # from (0, 0) to (0, 4) must visit (4, 2). Cheapest: reach (4, 1) with 1 diagonal + 3
    # orthogonal moves (3 + sqrt 2), enter and leave the gap orthogonally (1 * (1 + 5) / 2 = 3
    # each; diagonally it would be 3 sqrt 2), then (4, 3) -> (0, 4) is again 3 + sqrt 2.
    # Total 12 + 2 sqrt 2; length 8 + 2 sqrt 2.
    cost = np.ones((5, 5))
    cost[0:4, 2] = INF
    cost[4, 2] = 5.0
    path = shortest_path(cost, (0, 0), (0, 4))
    assert path.cost == pytest.approx(12 + 2 * SQ2, rel=1e-12)
    assert path.length_m == pytest.approx(8 + 2 * SQ2, rel=1e-12)
    cells = [tuple(c) for c in path.cells.tolist()]
    assert cells[0] == (0, 0) and cells[-1] == (0, 4)
    assert (3, 2) not in cells and (4, 1) in cells and (4, 2) in cells and (4, 3) in cells
    assert ref_path_cost(cost, cells) == pytest.approx(path.cost, rel=1e-12)


def test_diagonal_between_two_keepout_cells_is_allowed_like_mcp():
    # The two off-diagonal cells are keep-out; MCP_Geometric still allows the diagonal move
    # (the rover is a point, keep-out is dilated upstream): cost sqrt(2) * (1 + 1) / 2.
    cost = np.array([[1.0, INF], [INF, 1.0]])
    path = shortest_path(cost, (0, 0), (1, 1))
    assert path.cells.tolist() == [[0, 0], [1, 1]]
    assert path.cost == pytest.approx(SQ2, rel=1e-12)
    assert mcp_cost(cost, (0, 0), (1, 1)) == pytest.approx(path.cost, rel=1e-12)


def test_detour_when_cheaper_than_crossing_expensive_cells():
    # Row 1 costs 10 except (1, 0) which costs 1. From (0, 2) to (2, 2): straight down crosses
    # (1, 2): 2 * 1 * (1 + 10) / 2 = 11. Detour (0,2)->(0,1)->(1,0)->(2,1)->(2,2):
    # 1 + sqrt2 + sqrt2 + 1 = 2 + 2 sqrt 2 = 4.83 is cheaper.
    cost = np.ones((3, 3))
    cost[1, 1:] = 10.0
    path = shortest_path(cost, (0, 2), (2, 2))
    assert path.cells.tolist() == [[0, 2], [0, 1], [1, 0], [2, 1], [2, 2]]
    assert path.cost == pytest.approx(2 + 2 * SQ2, rel=1e-12)


def test_start_equals_goal_is_one_cell_at_zero_cost():
    t = Affine(2.0, 0, 100.0, 0, -2.0, 50.0)
    path = shortest_path(np.ones((4, 4)), (2, 3), (2, 3), transform=t)
    assert path.cells.tolist() == [[2, 3]]
    assert path.cost == 0.0 and path.length_m == 0.0
    assert path.line is None  # a LineString needs two points
    assert len(path) == 1


def test_line_in_map_coordinates_through_cell_centres():
    t = Affine(2.0, 0.0, 100.0, 0.0, -2.0, 50.0)
    path = shortest_path(np.ones((3, 4)), (0, 0), (0, 3), res_m=2.0, transform=t)
    # Centres of (0, 0) .. (0, 3): x = 100 + 2 * (col + 0.5), y = 50 - 2 * 0.5.
    assert list(path.line.coords) == [(101.0, 49.0), (103.0, 49.0), (105.0, 49.0), (107.0, 49.0)]
    assert path.line.length == pytest.approx(path.length_m)


def test_result_is_frozen_and_read_only_and_input_untouched():
    cost = np.ones((4, 4))
    before = cost.copy()
    path = shortest_path(cost, (0, 0), (3, 3))
    np.testing.assert_array_equal(cost, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        path.cost = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        path.cells[0, 0] = 5


def test_integer_and_float32_rasters_are_accepted():
    a = shortest_path(np.full((3, 5), 2, dtype=np.int32), (0, 0), (2, 4))
    b = shortest_path(np.full((3, 5), 2.0, dtype=np.float32), (0, 0), (2, 4))
    # 2 diagonals + 2 orthogonal moves at cost 2.
    assert a.cost == pytest.approx(2 * (2 * SQ2 + 2), rel=1e-12)
    assert b.cost == a.cost


# ---------------------------------------------------------------------------------------------
# shortest_path: no path, bad input


def test_all_keepout_raster_names_the_start():
    with pytest.raises(NoPathError, match=r"start \(row 0, col 0\) is in keep-out"):
        shortest_path(np.full((5, 5), INF), (0, 0), (4, 4))


def test_goal_in_keepout():
    cost = np.ones((5, 5))
    cost[4, 4] = INF
    with pytest.raises(NoPathError, match=r"goal \(row 4, col 4\) is in keep-out"):
        shortest_path(cost, (0, 0), (4, 4))


def test_start_in_keepout_is_reported_before_goal():
    cost = np.ones((5, 5))
    cost[0, 0] = cost[4, 4] = INF
    with pytest.raises(NoPathError, match="start"):
        shortest_path(cost, (0, 0), (4, 4))


def test_walled_off_goal_names_no_connection():
    cost = np.ones((6, 6))
    cost[3:6, 3] = INF
    cost[3, 3:6] = INF  # a closed box around (4..5, 4..5)
    with pytest.raises(NoPathError, match="walled off") as err:
        shortest_path(cost, (0, 0), (5, 5))
    assert isinstance(err.value, ValueError) and isinstance(err.value, PlanningError)
    # 36 cells - 5 walls - 4 boxed in = 27 reachable.
    assert "27 cells are reachable" in str(err.value)


@pytest.mark.parametrize(
    ("cost", "match"),
    [
        (np.array([[1.0, np.nan], [1.0, 1.0]]), r"1 NaN cell\(s\), first at \(row 0, col 1\)"),
        (
            np.array([[1.0, 1.0], [-2.5, 1.0]]),
            r"negative cell\(s\), first -2.5 at \(row 1, col 0\)",
        ),
        (np.array([[1.0, 1.0], [-np.inf, 1.0]]), "negative"),
        (np.ones(4), "2-D"),
        (np.ones((0, 3)), "2-D"),
        (np.array([["a", "b"]]), "real-valued"),
    ],
)
def test_bad_cost_raster(cost, match):
    with pytest.raises(PathInputError, match=match) as err:
        shortest_path(cost, (0, 0), (0, 1))
    assert isinstance(err.value, ValueError) and isinstance(err.value, PlanningError)


@pytest.mark.parametrize(
    ("start", "goal", "match"),
    [
        ((0, 5), (0, 0), r"start \(row 0, col 5\) is outside the 4 x 5 grid"),
        ((0, 0), (-1, 2), r"goal \(row -1, col 2\) is outside"),
        ((0.5, 1), (0, 0), "start must be a \\(row, col\\) pair of integers"),
        ((0, 1, 2), (0, 0), "pair"),
        ("ab", (0, 0), "pair"),
    ],
)
def test_bad_cells(start, goal, match):
    with pytest.raises(PathInputError, match=match):
        shortest_path(np.ones((4, 5)), start, goal)


@pytest.mark.parametrize("res", [0.0, -1.0, INF, math.nan, "x"])
def test_bad_resolution(res):
    with pytest.raises(PathInputError, match="res_m"):
        shortest_path(np.ones((3, 3)), (0, 0), (2, 2), res_m=res)


def test_numpy_integer_cells_are_accepted():
    path = shortest_path(np.ones((3, 3)), (np.int64(0), np.int32(0)), np.array([2, 2]))
    assert path.cost == pytest.approx(2 * SQ2)


# ---------------------------------------------------------------------------------------------
# shortest_path: properties against independent references


@PROPS
@given(grids())
def test_shortest_path_cost_equals_independent_dijkstra(case):
    cost, start, goal, _ = case
    if not np.isfinite(cost[start]):
        with pytest.raises(NoPathError, match="start"):
            shortest_path(cost, start, goal)
        return
    if not np.isfinite(cost[goal]):
        with pytest.raises(NoPathError, match="goal"):
            shortest_path(cost, start, goal)
        return
    ref = ref_dijkstra(cost, [start], res=0.7)[goal]
    if not np.isfinite(ref):
        with pytest.raises(NoPathError, match="walled off"):
            shortest_path(cost, start, goal, res_m=0.7)
        return
    path = shortest_path(cost, start, goal, res_m=0.7)
    cells = [tuple(c) for c in path.cells.tolist()]
    assert cells[0] == start and cells[-1] == goal
    assert all(np.isfinite(cost[c]) for c in cells), "path enters a keep-out cell"
    assert path.cost == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert ref_path_cost(cost, cells, res=0.7) == pytest.approx(path.cost, rel=1e-9, abs=1e-12)
    steps = np.abs(np.diff(path.cells, axis=0))
    assert path.length_m == pytest.approx(0.7 * np.hypot(steps[:, 0], steps[:, 1]).sum())


@PROPS
@given(grids(), st.floats(0.0, 5.0), st.floats(0.0, 2.0))
def test_shortest_path_with_slope_equals_independent_dijkstra(case, up, down):
    cost, start, goal, rng = case
    z = rng.uniform(0.0, 3.0, cost.shape)
    z[~np.isfinite(cost)] = np.nan  # nodata under keep-out is allowed
    term = SlopeTerm(z, uphill_per_m=up, downhill_per_m=down)
    ref = ref_dijkstra(cost, [start], z=z, up=up, down=down)[goal]
    if not (np.isfinite(cost[start]) and np.isfinite(cost[goal]) and np.isfinite(ref)):
        with pytest.raises(NoPathError):
            shortest_path(cost, start, goal, slope=term)
        return
    path = shortest_path(cost, start, goal, slope=term)
    cells = [tuple(c) for c in path.cells.tolist()]
    assert path.cost == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert ref_path_cost(cost, cells, z=z, up=up, down=down) == pytest.approx(
        path.cost, rel=1e-9, abs=1e-12
    )


@pytest.mark.parametrize("seed", range(6))
def test_shortest_path_matches_mcp_geometric(seed):
    cost, rng = random_grid(seed, shape=(60, 45), p_inf=0.2)
    (r0, c0), (r1, c1) = passable_cells(cost, rng, 2)
    ref = mcp_cost(cost, (r0, c0), (r1, c1), res=0.25)
    if not np.isfinite(ref):
        pytest.fail("seed gives an unreachable goal; pick another seed")
    path = shortest_path(cost, (r0, c0), (r1, c1), res_m=0.25)
    assert path.cost == pytest.approx(ref, rel=1e-9)


def test_zero_cost_cells_use_the_heap_queue_and_stay_optimal():
    # c_min = 0 rules out the bucket queue (its width would be 0).
    rng = np.random.default_rng(5)
    cost = rng.choice([0.0, 0.5, 3.0, INF], size=(30, 30), p=[0.3, 0.3, 0.3, 0.1])
    cost[0, 0] = cost[29, 29] = 0.5
    assert not paths._plan_queue(paths._prepare(cost, 1.0, None), astar=True).bucket
    path = shortest_path(cost, (0, 0), (29, 29))
    assert path.cost == pytest.approx(ref_dijkstra(cost, [(0, 0)])[29, 29], rel=1e-9)
    field = cost_distance(cost, [(0, 0)])
    np.testing.assert_allclose(field.cost, ref_dijkstra(cost, [(0, 0)]), rtol=1e-9)


def test_huge_cost_range_falls_back_to_heap_and_stays_optimal():
    cost, _ = random_grid(8, shape=(25, 25))
    cost[::3, ::4] = 1e-6
    cost[5, 5] = 1e6
    assert not paths._plan_queue(paths._prepare(cost, 1.0, None), astar=False).bucket
    path = shortest_path(cost, (0, 0), (24, 24))
    assert path.cost == pytest.approx(ref_dijkstra(cost, [(0, 0)])[24, 24], rel=1e-9)


def test_queue_growth_is_resumed_without_changing_the_answer(monkeypatch):
    cost, _ = random_grid(3, shape=(50, 50), p_inf=0.1)
    cost[0, 0] = cost[-1, -1] = 1.0
    expected = shortest_path(cost, (0, 0), (49, 49))
    field_expected = cost_distance(cost, [(0, 0)])
    monkeypatch.setattr(paths, "_initial_pool", lambda nrows, ncols: 16)
    again = shortest_path(cost, (0, 0), (49, 49))
    assert again.cost == expected.cost
    np.testing.assert_array_equal(again.cells, expected.cells)
    np.testing.assert_array_equal(cost_distance(cost, [(0, 0)]).cost, field_expected.cost)


# ---------------------------------------------------------------------------------------------
# SlopeTerm


def test_slope_term_makes_uphill_dearer_than_downhill():
    # A 1 x 5 ramp rising 1 m per cell; uphill 3 per metre climbed, downhill 0.5 per metre.
    # Up: 4 moves * (1 * (1 + 1) / 2 + 3 * 1) = 16; down: 4 * (1 + 0.5) = 6.
    z = np.arange(5.0)[np.newaxis, :]
    term = SlopeTerm(z, uphill_per_m=3.0, downhill_per_m=0.5)
    up = shortest_path(np.ones((1, 5)), (0, 0), (0, 4), slope=term)
    down = shortest_path(np.ones((1, 5)), (0, 4), (0, 0), slope=term)
    assert up.cost == pytest.approx(16.0) and down.cost == pytest.approx(6.0)


def test_slope_term_prefers_a_longer_flat_detour_over_a_hill():
    # Row 1 of a 3 x 5 grid holds a 2 m hill at (1, 2); with 10 per metre climbed the path from
    # (1, 0) to (1, 4) goes around it rather than over it.
    z = np.zeros((3, 5))
    z[1, 2] = 2.0
    z[0, 2] = z[2, 2] = 1.9
    term = SlopeTerm(z, uphill_per_m=10.0)
    path = shortest_path(np.ones((3, 5)), (1, 0), (1, 4), slope=term)
    assert [1, 2] not in path.cells.tolist()
    assert ref_path_cost(np.ones((3, 5)), path.cells.tolist(), z=z, up=10.0) == pytest.approx(
        path.cost
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"uphill_per_m": -1.0}, "uphill_per_m must be a finite number >= 0"),
        ({"uphill_per_m": 1.0, "downhill_per_m": math.nan}, "downhill_per_m"),
        ({"uphill_per_m": INF}, "uphill_per_m"),
    ],
)
def test_slope_term_rejects_bad_weights(kwargs, match):
    with pytest.raises(PathInputError, match=match):
        SlopeTerm(np.zeros((2, 2)), **kwargs)


def test_slope_term_shape_and_nodata_checks():
    with pytest.raises(PathInputError, match="same grid"):
        shortest_path(np.ones((3, 3)), (0, 0), (2, 2), slope=SlopeTerm(np.zeros((3, 4)), 1.0))
    z = np.zeros((3, 3))
    z[1, 1] = np.nan
    with pytest.raises(PathInputError, match=r"nan at passable cell \(row 1, col 1\)"):
        shortest_path(np.ones((3, 3)), (0, 0), (2, 2), slope=SlopeTerm(z, 1.0))
    cost = np.ones((3, 3))
    cost[1, 1] = INF  # NaN elevation under keep-out is fine
    path = shortest_path(cost, (0, 0), (2, 2), slope=SlopeTerm(z, 1.0))
    assert path.cost == pytest.approx(ref_dijkstra(cost, [(0, 0)])[2, 2])
    with pytest.raises(PathInputError, match="SlopeTerm"):
        shortest_path(np.ones((3, 3)), (0, 0), (2, 2), slope=np.zeros((3, 3)))


def test_slope_term_stores_a_read_only_copy():
    z = np.zeros((2, 2))
    term = SlopeTerm(z, 1)
    z[0, 0] = 5.0
    assert term.elevation_m[0, 0] == 0.0 and not term.elevation_m.flags.writeable
    assert isinstance(term.uphill_per_m, float)


# ---------------------------------------------------------------------------------------------
# cost_distance


def test_cost_distance_hand_checked_row():
    # Cost 1 at 2 m pixels: each step adds 2; max_cost 4 keeps 0, 2, 4 and drops the rest.
    field = cost_distance(np.ones((1, 5)), (0, 0), res_m=2.0, max_cost=4.0)
    assert field.cost.tolist() == [[0.0, 2.0, 4.0, INF, INF]]
    assert field.max_cost == 4.0
    assert field.sources.tolist() == [[0, 0]]


@pytest.mark.parametrize("seed", range(5))
def test_cost_distance_matches_mcp_find_costs(seed):
    cost, rng = random_grid(seed, shape=(35, 48))
    sources = passable_cells(cost, rng, 1 + seed % 3)
    mcp_cum, _ = MCP_Geometric(cost, sampling=(0.5, 0.5)).find_costs([tuple(s) for s in sources])
    field = cost_distance(cost, sources, res_m=0.5)
    reached = np.isfinite(field.cost)
    # MCP_Geometric leaves keep-out cells and unreachable pockets at inf as well.
    np.testing.assert_array_equal(reached, np.isfinite(mcp_cum))
    np.testing.assert_allclose(field.cost[reached], mcp_cum[reached], rtol=1e-9)


@PROPS
@given(grids(max_side=9), st.floats(0.0, 12.0))
def test_cost_distance_max_cost_bound(case, bound):
    cost, start, _, _ = case
    if not np.isfinite(cost[start]):
        with pytest.raises(NoPathError, match=r"sources\[0\]"):
            cost_distance(cost, [start], max_cost=bound)
        return
    ref = ref_dijkstra(cost, [start])
    field = cost_distance(cost, [start], max_cost=bound)
    inside = ref <= bound
    np.testing.assert_allclose(field.cost[inside], ref[inside], rtol=1e-9)
    assert np.isinf(field.cost[~inside]).all()


def test_bounded_search_work_grows_with_area_not_raster(caplog):
    # Uniform cost 1 on 1500 x 1500: the cost to a cell is its octile distance, so a bound of 10
    # settles exactly the cells with max(|dr|, |dc|) + (sqrt 2 - 1) min(|dr|, |dc|) <= 10.
    cost = np.ones((1500, 1500))
    with caplog.at_level(logging.DEBUG, logger="frigoris.planners.paths"):
        field = cost_distance(cost, (750, 750), max_cost=10.0)
    settled = int(caplog.records[-1].getMessage().split("settled ")[1].split()[0])
    d = np.abs(np.arange(-12, 13))
    dr, dc = np.meshgrid(d, d)
    octile = np.maximum(dr, dc) + (SQ2 - 1) * np.minimum(dr, dc)
    assert settled == int((octile <= 10 + 1e-9).sum()) == int(np.isfinite(field.cost).sum())


def test_cost_distance_path_to_traces_back_without_searching():
    cost, rng = random_grid(11, shape=(30, 30))
    sources = passable_cells(cost, rng, 2)
    field = cost_distance(cost, sources)
    target = tuple(passable_cells(cost, rng, 1)[0])
    if not np.isfinite(field.cost[target]):
        pytest.fail("seed gives an unreachable target; pick another seed")
    path = field.path_to(target)
    assert tuple(path.cells[-1]) == target
    assert path.cells[0].tolist() in sources.tolist()
    assert path.cost == field.cost[target]
    assert ref_path_cost(cost, path.cells.tolist()) == pytest.approx(path.cost, rel=1e-9)


def test_cost_distance_path_to_unreached_and_bad_cells():
    field = cost_distance(np.ones((1, 6)), (0, 0), max_cost=2.0)
    with pytest.raises(NoPathError, match="within max_cost 2"):
        field.path_to((0, 5))
    with pytest.raises(PathInputError, match="outside"):
        field.path_to((0, 6))


def test_cost_distance_source_errors():
    cost = np.ones((4, 4))
    cost[1, 1] = INF
    with pytest.raises(NoPathError, match=r"sources\[1\] \(row 1, col 1\) is in keep-out"):
        cost_distance(cost, [(0, 0), (1, 1)])
    with pytest.raises(PathInputError, match=r"sources\[0\] \(row 4, col 0\) is outside"):
        cost_distance(cost, [(4, 0)])
    with pytest.raises(PathInputError, match="integer"):
        cost_distance(cost, [(0.0, 1.0)])
    with pytest.raises(PathInputError, match="max_cost"):
        cost_distance(cost, [(0, 0)], max_cost=-1.0)


def test_cost_distance_with_slope_is_cost_from_the_sources():
    z = np.arange(6.0)[np.newaxis, :]
    field = cost_distance(np.ones((1, 6)), (0, 0), slope=SlopeTerm(z, uphill_per_m=2.0))
    # Each move: 1 for the terrain + 2 * 1 m climbed.
    assert field.cost[0].tolist() == pytest.approx([0, 3, 6, 9, 12, 15])


# ---------------------------------------------------------------------------------------------
# travel_matrix


@pytest.fixture(scope="module")
def stops_case():
    cost, rng = random_grid(21, shape=(45, 40), p_inf=0.15)
    pts = passable_cells(cost, rng, 6)
    pts = np.vstack([pts, pts[2:3]])  # a repeated stop
    return cost, pts


def test_travel_matrix_entries_equal_shortest_paths(stops_case):
    cost, pts = stops_case
    tm = travel_matrix(cost, pts, res_m=0.5, workers=2)
    n = len(pts)
    assert tm.cost.shape == tm.length_m.shape == (n, n)
    for i in range(n):
        for j in range(n):
            want = ref_dijkstra(cost, [tuple(pts[i])], res=0.5)[tuple(pts[j])]
            assert tm.cost[i, j] == pytest.approx(want, rel=1e-9, abs=0.0)
            if i != j and np.isfinite(want):
                sp = shortest_path(cost, pts[i], pts[j], res_m=0.5)
                assert tm.cost[i, j] == pytest.approx(sp.cost, rel=1e-9)
    np.testing.assert_array_equal(tm.cost, tm.cost.T)
    assert tm.cost[2, 6] == 0.0 and tm.cost[6, 2] == 0.0


def test_travel_matrix_legs_expand_to_paths_of_the_matrix_cost(stops_case):
    cost, pts = stops_case
    t = Affine(0.5, 0, 0, 0, -0.5, 0)
    tm = travel_matrix(cost, pts, res_m=0.5, transform=t)
    for i in range(len(pts)):
        for j in range(len(pts)):
            leg = tm.path(i, j)
            cells = leg.cells.tolist()
            assert cells[0] == pts[i].tolist() and cells[-1] == pts[j].tolist()
            assert all(np.isfinite(cost[r, c]) for r, c in cells)
            assert ref_path_cost(cost, cells, res=0.5) == pytest.approx(tm.cost[i, j], rel=1e-9)
            steps = np.abs(np.diff(leg.cells, axis=0))
            length = 0.5 * np.hypot(steps[:, 0], steps[:, 1]).sum()
            assert tm.length_m[i, j] == pytest.approx(length, rel=1e-12)
            if len(cells) > 1:
                assert leg.line.length == pytest.approx(leg.length_m)


def test_travel_matrix_route_joins_legs(stops_case):
    cost, pts = stops_case
    tm = travel_matrix(cost, pts)
    route = tm.route([0, 3, 1, 1, 4])
    assert route.cost == pytest.approx(tm.cost[0, 3] + tm.cost[3, 1] + tm.cost[1, 4])
    assert ref_path_cost(cost, route.cells.tolist()) == pytest.approx(route.cost, rel=1e-9)
    assert route.cells[0].tolist() == pts[0].tolist()
    assert route.cells[-1].tolist() == pts[4].tolist()
    with pytest.raises(PathInputError, match="at least one"):
        tm.route([])
    with pytest.raises(PathInputError, match="0..6"):
        tm.path(0, 7)


def test_travel_matrix_does_not_depend_on_worker_count(stops_case):
    cost, pts = stops_case
    one = travel_matrix(cost, pts, workers=1)
    two = travel_matrix(cost, pts, workers=3)
    np.testing.assert_array_equal(one.cost, two.cost)
    np.testing.assert_array_equal(one.length_m, two.length_m)
    for i, j in [(0, 5), (5, 0), (3, 4)]:
        np.testing.assert_array_equal(one.path(i, j).cells, two.path(i, j).cells)


def test_travel_matrix_is_asymmetric_with_slope_and_matches_shortest_path():
    cost, rng = random_grid(4, shape=(30, 30), p_inf=0.1)
    rows = np.arange(30.0)[:, np.newaxis]
    z = np.broadcast_to(0.5 * rows, (30, 30)).copy()  # rises 0.5 m per row
    pts = np.array([[1, 2], [28, 27], [15, 3], [2, 25]])
    cost[tuple(pts.T)] = 2.0
    term = SlopeTerm(z, uphill_per_m=4.0, downhill_per_m=0.25)
    tm = travel_matrix(cost, pts, slope=term)
    # Stop 1 is 13.5 m above stop 0: going up costs more than coming down.
    assert tm.cost[0, 1] > tm.cost[1, 0] + 13.5 * (4.0 - 0.25) - 1e-9
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            sp = shortest_path(cost, pts[i], pts[j], slope=term)
            assert tm.cost[i, j] == pytest.approx(sp.cost, rel=1e-9)
            leg = tm.path(i, j).cells.tolist()
            assert ref_path_cost(cost, leg, z=z, up=4.0, down=0.25) == pytest.approx(
                tm.cost[i, j], rel=1e-9
            )


def test_travel_matrix_unreachable_and_bounded_entries():
    cost = np.ones((8, 8))
    cost[:, 4] = INF  # two halves
    pts = [(0, 0), (7, 3), (0, 7)]
    tm = travel_matrix(cost, pts)
    assert np.isinf(tm.cost[0, 2]) and np.isinf(tm.cost[2, 1]) and np.isinf(tm.length_m[0, 2])
    assert tm.cost[0, 1] == pytest.approx(3 * SQ2 + 4)  # 3 diagonal + 4 straight moves
    with pytest.raises(NoPathError, match="stop 2 is not reachable from stop 0"):
        tm.path(0, 2)
    bounded = travel_matrix(cost, pts, max_cost=5.0)
    assert np.isinf(bounded.cost[0, 1]) and bounded.cost[1, 1] == 0.0
    with pytest.raises(NoPathError, match="unreachable|not reachable"):
        bounded.route([0, 1])


def test_travel_matrix_small_bound_reuses_work_arrays_correctly():
    # With a bound of 20 each search touches a few dozen of 3600 cells, so the work arrays are
    # reset cell by cell between searches; every entry must still match a fresh field.
    # The stops cluster in a 10 x 10 corner so that the searches overlap.
    cost, rng = random_grid(17, shape=(60, 60), p_inf=0.1)
    pts = passable_cells(cost[:10, :10], rng, 12)
    tm = travel_matrix(cost, pts, max_cost=20.0, workers=1)
    for i, p in enumerate(pts):
        ref = ref_dijkstra(cost, [tuple(p)])[tuple(pts.T)]
        want = np.where(ref <= 20.0, ref, INF)
        np.testing.assert_allclose(tm.cost[i], want, rtol=1e-9)
    assert (np.isfinite(tm.cost).sum() - len(pts)) >= 20  # many legs besides the diagonal


def test_travel_matrix_stop_errors():
    cost = np.ones((5, 5))
    cost[2, 2] = cost[3, 3] = INF
    with pytest.raises(NoPathError, match=r"2 stop\(s\) are in keep-out \(inf cost\): 1, 2"):
        travel_matrix(cost, [(0, 0), (2, 2), (3, 3)])
    with pytest.raises(PathInputError, match="workers"):
        travel_matrix(cost, [(0, 0)], workers=0)
    with pytest.raises(PathInputError, match=r"points\[1\]"):
        travel_matrix(cost, [(0, 0), (5, 0)])


@pytest.mark.parametrize("slope", [None, SlopeTerm(np.zeros((3, 3)), 1.0)])
def test_travel_matrix_single_stop(slope):
    tm = travel_matrix(np.ones((3, 3)), [(1, 1), (1, 1)], slope=slope)
    assert tm.cost.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert tm.length_m.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert tm.path(0, 1).cells.tolist() == [[1, 1]]
    assert tm.route([0, 1, 0]).cells.tolist() == [[1, 1]]


# ---------------------------------------------------------------------------------------------
# smooth_path


def test_smooth_path_on_open_ground_is_one_straight_segment():
    # Uniform cost 1: (0, 0) -> (4, 2) as a grid path is 2 diagonal + 2 straight moves
    # (2 sqrt 2 + 2 = 4.83); smoothed it is the straight segment of length sqrt(20) = 4.47.
    cost = np.ones((5, 5))
    grid_path = shortest_path(cost, (0, 0), (4, 2))
    smooth = smooth_path(grid_path, cost)
    assert smooth.cells.tolist() == [[0, 0], [4, 2]]
    assert smooth.cost == pytest.approx(math.sqrt(20))
    assert smooth.length_m == pytest.approx(math.sqrt(20))
    assert grid_path.cost == pytest.approx(2 * SQ2 + 2)


def test_segment_cost_is_the_mcp_edge_cost_for_single_moves():
    # Straight run through costs 1, 2, 3: half of the end cells plus the middle one: 0.5 + 2 + 1.5.
    c = np.array([1.0, 2.0, 3.0])
    z = np.zeros(1)
    assert paths._k.segment_cost(c, 1, 3, 1.0, z, 0.0, 0.0, False, 0, 0, 0, 2) == 4.0
    # A diagonal move through a corner: sqrt 2 * (1 + 4) / 2, the side cells are not entered.
    c = np.array([1.0, INF, INF, 4.0])
    got = paths._k.segment_cost(c, 2, 2, 1.0, z, 0.0, 0.0, False, 0, 0, 1, 1)
    assert got == pytest.approx(SQ2 * 2.5)


@PROPS
@given(grids(max_side=12, p_inf=0.2), st.sampled_from([0.0, 0.1]))
def test_smoothed_path_never_enters_keepout_and_never_costs_more(case, tol):
    cost, start, goal, _ = case
    try:
        grid_path = shortest_path(cost, start, goal, res_m=0.5)
    except NoPathError:
        return
    smooth = smooth_path(grid_path, cost, res_m=0.5, tolerance=tol)
    cells = [tuple(c) for c in smooth.cells.tolist()]
    assert cells[0] == start and cells[-1] == goal
    assert len(cells) <= len(grid_path)
    assert set(cells) <= {tuple(c) for c in grid_path.cells.tolist()}
    for (r0, c0), (r1, c1) in zip(cells[:-1], cells[1:], strict=True):
        for r, c, _ in entered_cells(r0, c0, r1, c1):
            assert np.isfinite(cost[r, c]), f"segment {(r0, c0)}->{(r1, c1)} enters {(r, c)}"
    assert smooth.cost == pytest.approx(ref_polyline_cost(cost, cells, res=0.5), rel=1e-9)
    assert smooth.cost <= grid_path.cost * (1 + tol) * (1 + 1e-9)
    assert smooth.length_m <= grid_path.length_m + 1e-9


def test_smooth_path_keeps_the_bend_around_an_obstacle():
    cost = np.ones((9, 9))
    cost[0:7, 4] = INF
    t = Affine(1, 0, 0, 0, -1, 9)
    grid_path = shortest_path(cost, (0, 0), (0, 8), transform=t)
    smooth = smooth_path(grid_path, cost)
    assert 2 < len(smooth) < len(grid_path)
    assert smooth.transform is t and smooth.line is not None
    for (r0, c0), (r1, c1) in zip(smooth.cells[:-1], smooth.cells[1:], strict=True):
        assert all(np.isfinite(cost[r, c]) for r, c, _ in entered_cells(r0, c0, r1, c1))


def test_smooth_path_with_slope_never_costs_more():
    cost, rng = random_grid(2, shape=(30, 30), p_inf=0.05)
    cost[0, 0] = cost[29, 29] = 1.0
    z = rng.uniform(0.0, 2.0, cost.shape)
    term = SlopeTerm(z, uphill_per_m=3.0)
    grid_path = shortest_path(cost, (0, 0), (29, 29), slope=term)
    smooth = smooth_path(grid_path, cost, slope=term)
    assert smooth.cost <= grid_path.cost * (1 + 1e-9)


def test_smooth_path_rejects_bad_input():
    cost = np.ones((4, 4))
    grid_path = shortest_path(cost, (0, 0), (3, 3))
    cost2 = cost.copy()
    cost2[1, 1] = INF
    with pytest.raises(PathInputError, match=r"enters keep-out between cells 0 \(row 0, col 0\)"):
        smooth_path(grid_path, cost2)
    with pytest.raises(PathInputError, match="tolerance"):
        smooth_path(grid_path, cost, tolerance=-0.1)
    with pytest.raises(PathInputError, match="outside"):
        smooth_path(grid_path, np.ones((2, 2)))


# ---------------------------------------------------------------------------------------------
# Package surface


def test_public_names_are_exported_from_the_package():
    for name in paths.__all__:
        assert getattr(planners, name) is getattr(paths, name)
