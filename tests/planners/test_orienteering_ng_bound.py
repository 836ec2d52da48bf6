"""Tests for benchmarks.orienteering_ng_bound: the offline bound stored for the large instances.

The bound decides the benchmark's gap on instances without a proven optimum, so it is checked
against independent references: a brute force over every route (exact rationals), on which
it must never fall below the optimum and must equal it when the relaxation is exact (integer
data on a grid of 1, neighbourhoods of every node), and the optima CP-SAT proved on the
generated instances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.orienteering_instances import Problem, load, load_known
from benchmarks.orienteering_ng_bound import ng_bound
from tests.planners.test_orienteering import brute_force

INF = math.inf


def random_problem(seed: int, n: int, integer: bool) -> Problem:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n, 2))
    travel = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    if integer:
        travel = np.ceil(travel)
    travel[rng.random((n, n)) < 0.1] = INF
    np.fill_diagonal(travel, 0.0)
    service = rng.integers(1, 3, n).astype(float)  # every duration at least one step of 1
    opens = rng.integers(0, 15, n).astype(float)
    closes = opens + rng.integers(3, 12, n)
    windows = np.column_stack([opens, closes])
    windows[rng.random(n) < 0.3] = (0.0, INF)
    windows[0] = (0.0, INF)
    windows[n - 1] = (0.0, INF)
    prizes = rng.integers(1, 10, n).astype(float)
    if not integer:
        prizes += rng.uniform(0, 1, n)
    return Problem(f"r{seed}", "test", travel, prizes, 25.0, 0, n - 1, service, windows)


@pytest.mark.parametrize("seed", range(12))
def test_exact_relaxation_equals_brute_force(seed):
    # integer durations and windows on a grid of 1, every node in every neighbourhood: the
    # relaxation is the problem itself, so the bound is the optimum (prizes are integers)
    p = random_problem(seed, 8, integer=True)
    best = brute_force(p.travel, p.prizes, p.budget, p.start, p.end, p.service, p.windows)
    assert best is not None
    assert ng_bound(p, 1.0, ng=8, base=8) == pytest.approx(float(best), abs=0.0)


@pytest.mark.parametrize("seed", range(12))
def test_never_below_brute_force(seed):
    # float data, coarse grid, small neighbourhoods: a relaxation, never below the optimum
    p = random_problem(100 + seed, 8, integer=False)
    best = brute_force(p.travel, p.prizes, p.budget, p.start, p.end, p.service, p.windows)
    assert best is not None
    for step, ng in ((1.0, 2), (0.5, 3), (0.25, 8)):
        assert ng_bound(p, step, ng=ng, base=2) >= float(best)


def test_closed_tour_hand_solved():
    # depot 0; 1 and 2 one unit away, 3 far: the tour 0-1-2-0 takes 1 + 1 + 1 = 3 <= 3
    travel = np.array([[0, 1, 1, 9], [1, 0, 1, 9], [1, 1, 0, 9], [9, 9, 9, 0]], dtype=float)
    p = Problem("hand", "test", travel, np.array([0.0, 2.0, 3.0, 7.0]), 3.0, 0, 0)
    assert ng_bound(p, 1.0, ng=4, base=4) == 5.0
    # a window at node 2 that closes before any route reaches it after node 1 (time 1) and
    # before a detour back: only one of the two fits
    p2 = Problem(
        "hand2",
        "test",
        travel,
        p.prizes,
        3.0,
        0,
        0,
        np.zeros(4),
        np.array([[0, INF], [0, INF], [0, 1.5], [0, INF]]),
    )
    assert ng_bound(p2, 1.0, ng=4, base=4) == 5.0  # 0-2-1-0: 2 reached at 1 <= 1.5
    p3 = Problem(
        "hand3",
        "test",
        travel,
        p.prizes,
        3.0,
        0,
        0,
        np.zeros(4),
        np.array([[0, INF], [0, 0.5], [0, 0.5], [0, INF]]),
    )
    assert ng_bound(p3, 1.0, ng=4, base=4) == 0.0  # neither reached by 0.5


def test_refuses_a_duration_below_one_step():
    # 1 and 2 are half a unit apart: on a grid of 1 a walk could stay in one layer
    travel = np.array([[0, 1, 1, 3], [1, 0, 0.5, 2], [1, 0.5, 0, 2], [3, 2, 2, 0]], dtype=float)
    p = Problem("zero", "test", travel, np.array([0.0, 1.0, 2.0, 0.0]), 5.0, 0, 3)
    with pytest.raises(ValueError, match="step=1.0"):
        ng_bound(p, 1.0, ng=4)
    assert ng_bound(p, 0.5, ng=4) == 3.0  # 0-1-2-3 takes 1 + 0.5 + 2 = 3.5 <= 5


def test_zero_steps_out_of_the_start():
    # the start's legs may round to 0 steps: 0-1 and 0-2 take 0.5 on a grid of 1
    travel = np.array([[0, 0.5, 0.5, 9], [9, 0, 1, 1], [9, 1, 0, 1], [9, 9, 9, 0]], dtype=float)
    p = Problem("start", "test", travel, np.array([0.0, 1.0, 2.0, 0.0]), 2.5, 0, 3)
    # 0-1-2-3 and 0-2-1-3 take 2.5: both nodes
    assert ng_bound(p, 1.0, ng=4) == 3.0
    p2 = Problem("start2", "test", travel, p.prizes, 2.4, 0, 3)
    # by 2.4 only one: the grid (0 + 1 + 1 = 2 <= 2) would allow both; the bound may say 3
    assert ng_bound(p2, 1.0, ng=4) >= 2.0
    assert ng_bound(p2, 0.5, ng=4) == 2.0


@pytest.mark.slow
def test_never_below_proven_optima():
    # the 50-node instances with windows whose optimum CP-SAT proved (an independent method)
    known = load_known()
    checked = 0
    for p in load("optw"):
        k = known.get(p.name)
        if p.n > 50 or k is None or k.optimum is None:
            continue
        assert ng_bound(p, 0.5, ng=8) >= k.optimum, p.name
        checked += 1
    assert checked >= 5
