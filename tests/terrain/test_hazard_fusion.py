"""The hazard fusion kernel cell by cell, on small hand-built windows.

``_hazard_kernels.fuse`` turns a window's heights, rover slope, rock risk, tilt spread, shadow,
link margin and lander into keep-out reason bits, risk and cost. Every value here is worked by
hand from the documented model: risk = 1 - (1 - slope risk) (1 - rock risk), cost = 1 + w_s s /
s_max + w_k risk / risk_max (+ w_sh in shadow). The slope risk reads a Rice tail table; these
tests pass a table that is linear in both indices (0.02 per u step, 0.01 per w step), which
bilinear interpolation reproduces exactly, so the risk of a cell is a number worked by hand.

Runs in well under a second (the mutation target ``hazard_kernels`` runs it first, with the
kernels in Python).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from frigoris.terrain import _hazard_kernels as hk

NODATA, SLOPE, OBSTACLE, RISK, LANDER, LINK = (hk.NODATA, hk.SLOPE, hk.OBSTACLE, hk.RISK,
                                              hk.LANDER, hk.LINK)  # fmt: skip
STEP = 0.05
TABLE = (0.02 * np.arange(41)[:, None] + 0.01 * np.arange(41)[None, :]).astype(np.float32)
"""Q(u, w) = 0.02 u / STEP + 0.01 w / STEP for u, w below 40 steps (2.0)."""
MAX_SLOPE, MAX_RISK, W_SLOPE, W_RISK, W_SHADOW = 15.0, 0.375, 2.0, 3.0, 0.5
# (a risk limit a binary fraction holds exactly, so a risk on it is exactly on it)


def run(
    z,
    slope,
    *,
    rock=0.0,
    sigma=None,
    block=64,
    shadow=None,
    margin=None,
    link_rc0=(0, 0),
    link_f=1,
    lander=None,
    corner=(0.0, 0.0),
    rc0=(0, 0),
    res=1.0,
    limits=(MAX_SLOPE, MAX_RISK, W_SLOPE, W_RISK, W_SHADOW),
):
    """bits, risk, cost of ``fuse`` on a window; ``corner`` is the grid's top-left (x, y)."""
    z = np.asarray(z, np.float32)
    slope = np.asarray(slope, np.float32)
    uniform = np.ndim(rock) == 0
    rr = np.full((1, 1), rock, np.float32) if uniform else np.asarray(rock, np.float32)
    sig = np.zeros((1, 1), np.float32) if sigma is None else np.asarray(sigma, np.float32)
    sh = np.zeros((1, 1), bool) if shadow is None else np.asarray(shadow, bool)
    mg = np.zeros((1, 1), np.float32) if margin is None else np.asarray(margin, np.float32)
    lxyr = np.zeros(3) if lander is None else np.asarray(lander, np.float64)
    bits = np.full(z.shape, 255, np.uint8)
    risk = np.full(z.shape, -1.0, np.float32)
    cost = np.full(z.shape, -1.0, np.float32)
    # (with NUMBA_DISABLE_JIT the kernel runs in Python, where inf - inf warns)
    with np.errstate(invalid="ignore"):
        hk.fuse(
            z, slope, rr, uniform, sig, block, TABLE, STEP, sh, shadow is not None, mg,
            margin is not None, link_rc0[0], link_rc0[1], link_f, corner[0], corner[1], rc0[0],
            rc0[1], res, lxyr, lander is not None, np.asarray(limits, np.float64), bits, risk,
            cost,
        )  # fmt: skip
    return bits, risk, cost


def cost_of(s, r, shadowed=False):
    terms = 1.0 + W_SLOPE * s / MAX_SLOPE + W_RISK * r / MAX_RISK
    return terms + (W_SHADOW if shadowed else 0.0)


def slope_risk(s_deg, sigma):
    """The linear table's value at u = tan s / sigma, w = tan s_max / sigma."""
    u = math.tan(math.radians(s_deg)) / sigma
    w = math.tan(math.radians(MAX_SLOPE)) / sigma
    return 0.02 * u / STEP + 0.01 * w / STEP


def test_cost_and_risk_of_passable_cells_by_hand():
    # slopes 5, 15 (on the limit), 0 and 3 deg; rock risk 0.1, 0.375 (on the limit), 0, 0.25
    z = np.zeros((2, 4))
    slope = [[5.0, 15.0, 0.0, 3.0], [7.5, 1.0, 2.0, 14.0]]
    rock = [[0.1, 0.375, 0.0, 0.25], [0.0, 0.3, 0.05, 0.2]]
    bits, risk, cost = run(z, slope, rock=rock)
    assert (bits == 0).all()
    np.testing.assert_allclose(risk, rock, rtol=1e-6)
    # 1 + 2 x 5 / 15 + 3 x 0.1 / 0.375 = 2.46667; 1 + 2 + 3 = 6 on both limits
    assert cost[0, 0] == pytest.approx(1.0 + 2.0 / 3.0 + 0.8, rel=1e-6)
    assert cost[0, 1] == pytest.approx(6.0, rel=1e-6)
    assert cost[0, 2] == 1.0
    np.testing.assert_allclose(cost, cost_of(np.array(slope), np.array(rock)), rtol=1e-6)


def test_one_rock_risk_for_the_whole_window():
    bits, risk, cost = run(np.zeros((2, 3)), np.full((2, 3), 6.0), rock=0.3)
    assert (bits == 0).all() and np.allclose(risk, 0.3)
    np.testing.assert_allclose(cost, 1.0 + 2.0 * 6.0 / 15.0 + 3.0 * 0.3 / 0.375, rtol=1e-6)
    bits, risk, _ = run(np.zeros((2, 3)), np.zeros((2, 3)), rock=0.45)
    assert (bits == RISK).all()


def test_a_slope_past_the_limit_is_a_certainty_not_a_risk():
    # 15.5 deg: the slope bit; no slope risk is read (the tilt spread would give one), so the
    # risk is the rock risk alone
    z = np.zeros((1, 3))
    bits, risk, cost = run(z, [[15.5, 15.0, 30.0]], rock=0.05, sigma=[[0.5]])
    assert list(bits[0]) == [SLOPE, 0, SLOPE]
    assert risk[0, 0] == pytest.approx(0.05) and risk[0, 2] == pytest.approx(0.05)
    assert risk[0, 1] == pytest.approx(1 - (1 - slope_risk(15.0, 0.5)) * 0.95, rel=1e-5)
    assert cost[0, 0] == pytest.approx(cost_of(15.5, 0.05), rel=1e-6)
    assert cost[0, 2] == pytest.approx(cost_of(30.0, 0.05), rel=1e-6)


def test_slope_risk_and_rock_risk_combine_as_independent_chances():
    # tilt spread 0.5: u = tan 10 / 0.5 = 0.3527, w = tan 15 / 0.5 = 0.5359; the slope risk is
    # 0.02 x 7.053 + 0.01 x 10.718 = 0.2482; with a rock risk of 0.25: 1 - 0.7518 x 0.75 =
    # 0.4362, past the limit 0.375 though neither chance alone is
    ps = slope_risk(10.0, 0.5)
    assert ps == pytest.approx(0.24824, abs=1e-5)
    bits, risk, cost = run([[0.0, 0.0]], [[10.0, 10.0]], rock=[[0.25, 0.0]], sigma=[[0.5]])
    assert risk[0, 0] == pytest.approx(1 - (1 - ps) * 0.75, rel=1e-5)
    assert risk[0, 0] == pytest.approx(0.43618, abs=1e-4)
    assert risk[0, 1] == pytest.approx(ps, rel=1e-5)
    assert list(bits[0]) == [RISK, 0]
    assert cost[0, 0] == pytest.approx(cost_of(10.0, risk[0, 0]), rel=1e-6)


def test_the_tilt_spread_is_read_from_the_cells_block():
    # blocks of 2 cells; the window starts at grid (row 1, col 3): its cells (0, 0) and (0, 1)
    # lie in block columns 1 and 2, its row 1 in block row 1
    sigma = [[9.0, 9.0, 9.0], [9.0, 0.5, 0.25], [9.0, 0.0, 1.0]]
    z = np.zeros((2, 2))
    slope = np.full((2, 2), 10.0)
    _, risk, _ = run(z, slope, sigma=sigma, block=2, rc0=(1, 3))
    # grid rows 1, 2 -> block rows 0, 1; grid cols 3, 4 -> block cols 1, 2
    assert risk[0, 0] == pytest.approx(slope_risk(10.0, 9.0), rel=1e-5)
    assert risk[1, 0] == pytest.approx(slope_risk(10.0, 0.5), rel=1e-5)
    assert risk[1, 1] == pytest.approx(slope_risk(10.0, 0.25), rel=1e-5)
    _, risk, _ = run(z, slope, sigma=sigma, block=2, rc0=(3, 2))
    # grid rows 3, 4 -> block rows 1, 2; grid cols 2, 3 -> block col 1
    assert risk[0, 0] == pytest.approx(slope_risk(10.0, 0.5), rel=1e-5)
    assert risk[1, 0] == 0.0  # a spread of 0: no slope risk


def test_no_height_or_no_full_slope_window_is_nodata():
    nan = np.nan
    z = [[nan, 0.0, 0.0, np.inf]]
    slope = [[nan, nan, 4.0, 4.0]]
    bits, risk, cost = run(z, slope, rock=[[0.1, 0.1, nan, 0.1]])
    assert list(bits[0]) == [NODATA, NODATA, 0, NODATA]
    assert np.isnan(risk[0, 0]) and np.isnan(risk[0, 3])  # no height: no risk
    assert risk[0, 1] == pytest.approx(0.1) and risk[0, 2] == 0.0  # rock risk NaN: none
    # NaN terms leave the cost: 1, then 1 + 0.8 (risk 0.1 without a slope), then 1 + slope
    assert cost[0, 0] == 1.0
    assert cost[0, 1] == pytest.approx(1.8, rel=1e-6)
    assert cost[0, 2] == pytest.approx(cost_of(4.0, 0.0), rel=1e-6)
    assert cost[0, 3] == pytest.approx(cost_of(4.0, 0.0), rel=1e-6)


def test_shadow_adds_its_weight():
    bits, _, cost = run(np.zeros((2, 2)), np.zeros((2, 2)), shadow=[[True, False], [False, True]])
    assert (bits == 0).all()
    np.testing.assert_allclose(cost, [[1.5, 1.0], [1.0, 1.5]])
    _, _, cost = run(np.zeros((2, 2)), np.zeros((2, 2)))
    assert (cost == 1.0).all()


def test_the_lander_takes_cells_whose_centre_is_within_its_radius():
    # 1 m cells, the grid's corner at (10, 20); the window starts at grid (row 2, col 1), so its
    # cell (i, j) has its centre at x = 10 + (1 + j + 0.5), y = 20 - (2 + i + 0.5). The lander
    # at the centre of window cell (1, 1), (12.5, 16.5), radius 1: its cell and the four
    # neighbours, 1 m away (on the radius), not the diagonals (1.41 m)
    z = np.zeros((3, 4))
    bits, _, _ = run(z, np.zeros((3, 4)), lander=(12.5, 16.5, 1.0), corner=(10.0, 20.0), rc0=(2, 1))
    want = np.zeros((3, 4), np.uint8)
    for i, j in [(1, 1), (0, 1), (2, 1), (1, 0), (1, 2)]:
        want[i, j] = LANDER
    assert np.array_equal(bits, want)
    # radius 1.8 m: the diagonal neighbours too (1.41 m), not the cells two away (2 m, 2.24 m)
    kw = {"corner": (10.0, 20.0), "rc0": (2, 1)}
    bits, _, _ = run(z, np.zeros((3, 4)), lander=(12.5, 16.5, 1.8), **kw)
    assert (bits[:, :3] == LANDER).all() and (bits[:, 3] == 0).all()
    # at 0.5 m cells the same lander (radius 1 m) reaches two cells each way along the axes
    bits, _, _ = run(z, np.zeros((3, 4)), lander=(0.75, -0.75, 1.0), res=0.5)
    assert bits[1, 1] == LANDER and bits[1, 3] == LANDER and bits[0, 0] == LANDER
    assert bits[0, 3] == 0


def test_the_link_margin_is_read_from_its_coarser_grid():
    # link cells of 2 x 2 window cells, the link grid starting at window (row -1, col 1): window
    # cell (i, j) reads margin[(i + 1) // 2, (j - 1) // 2]; column 0 is outside it, and so is
    # window row 3 (margin row 2 of 2)
    margin = [[1.0, 0.0], [-0.5, np.nan]]
    z = np.zeros((4, 5))
    bits, _, cost = run(z, np.zeros((4, 5)), margin=margin, link_rc0=(-1, 1), link_f=2)
    ok = np.array(
        [
            [0, 1, 1, 1, 1],  # margin row 0: 1 dB, 0 dB (the limit: a link)
            [0, 0, 0, 0, 0],  # margin row 1: -0.5 dB, NaN
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],  # past the margin's last row
        ],
        bool,
    )
    assert np.array_equal(bits == 0, ok), bits
    assert np.array_equal(bits == LINK, ~ok)
    assert (cost == 1.0).all()  # the reasons make the cost inf later (widening), not here


def test_the_link_grid_can_start_inside_the_window():
    margin = [[2.0, 2.0], [2.0, 2.0]]
    bits, _, _ = run(np.zeros((3, 3)), np.zeros((3, 3)), margin=margin, link_rc0=(1, 0))
    assert list(bits[:, 0]) == [LINK, 0, 0]  # row 0 lies above the link grid
    assert list(bits[1]) == [0, 0, LINK]  # column 2 lies past it (factor 1, two columns)


def test_every_row_of_a_tall_window_is_fused():
    # more rows than threads, and rows unlike columns: every cell is written once
    z = np.zeros((7, 2))
    slope = np.arange(14, dtype=float).reshape(7, 2)
    bits, risk, cost = run(z, slope)
    assert (bits == 0).all() and (risk == 0).all()
    np.testing.assert_allclose(cost, 1.0 + 2.0 * slope / 15.0, rtol=1e-6)
