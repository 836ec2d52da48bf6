"""Candidate stops: a user target never disappears without a reason."""

from __future__ import annotations

import numpy as np
from affine import Affine

from frigoris.planners.stops import TARGET_REACH_M, StopRules, candidate_stops

RES = 0.5
N = 80  # 40 m square, centred on (0, 0)
T = Affine(RES, 0.0, -N * RES / 2, 0.0, -RES, N * RES / 2)


def _stops(keepout, comm=None, targets=None, rules=None):
    return candidate_stops(
        keepout=keepout,
        slope_deg=np.zeros((N, N)),
        rock_risk=np.zeros((N, N)),
        transform=T,
        lander_xy=(0.0, 0.0),
        comm_ok=comm,
        targets=targets,
        rules=rules or StopRules(max_per_kind=0),
    )


def _targets(*pts):
    x = np.array([p[0] for p in pts], float)
    y = np.array([p[1] for p in pts], float)
    return x, y, np.full(len(pts), 2.0), [p[2] for p in pts]


def test_a_target_on_free_ground_becomes_a_candidate():
    c = _stops(np.zeros((N, N), bool), targets=_targets((10.0, 10.0, "a")))
    assert c.kind == ("target",) and c.names == ("a",) and c.unplaced == ()


def test_a_target_deep_in_keep_out_is_reported_with_its_reason():
    keepout = np.zeros((N, N), bool)
    keepout[:, 50:] = True  # x >= 5 m is keep-out, the target 6 m further in
    c = _stops(keepout, targets=_targets((5.0 + TARGET_REACH_M + 3.0, 0.0, "deep")))
    assert len(c) == 0
    assert [(n, w) for n, w, _, _ in c.unplaced] == [
        ("deep", f"in keep-out (no drivable cell within {TARGET_REACH_M:g} m)")
    ]


def test_a_target_at_the_edge_of_keep_out_moves_to_the_nearest_free_cell():
    keepout = np.zeros((N, N), bool)
    keepout[:, 50:] = True
    c = _stops(keepout, targets=_targets((5.0 + TARGET_REACH_M - 1.0, 0.0, "edge")))
    assert c.names == ("edge",) and c.unplaced == ()
    assert not keepout[tuple(c.cells[0])]


def test_a_target_out_of_link_is_reported():
    comm = np.ones((N, N), bool)
    comm[:20, :] = False  # the northern 10 m have no link
    c = _stops(np.zeros((N, N), bool), comm=comm, targets=_targets((0.0, 18.0, "north")))
    assert [(n, w[:24]) for n, w, _, _ in c.unplaced] == [("north", "out of the lander's link")]


def test_a_target_too_close_to_a_better_one_says_which_stands_for_it():
    targets = _targets((10.0, 10.0, "first"), (12.0, 10.0, "second"))
    targets = (targets[0], targets[1], np.array([3.0, 1.0]), targets[3])
    c = _stops(np.zeros((N, N), bool), targets=targets)
    assert c.names == ("first",)
    assert [(n, w) for n, w, _, _ in c.unplaced] == [
        ("second", "within 8 m of target 'first', whose stop stands for it")
    ]


def test_a_target_off_the_map_is_reported():
    c = _stops(np.zeros((N, N), bool), targets=_targets((500.0, 0.0, "far")))
    assert [(n, w) for n, w, _, _ in c.unplaced] == [("far", "off the map")]
