"""The radio link budget: ITU-R P.526 knife edges, Bullington by hand, limits, the sweep."""

from __future__ import annotations

import math

import numpy as np
import pytest

from frigoris.terrain import _link_kernels as lk
from frigoris.terrain.link import (
    SHANNON_EBN0_DB,
    LinkBudget,
    LinkField,
    bullington_loss_db,
    fresnel_v,
    knife_edge_loss_db,
    link_box,
    radio_grid,
    receiver_sensitivity_dbm,
)

BUDGET = LinkBudget()
LAM = 299_792_458.0 / 2.4e9
FLAT = 1e12  # a body radius that makes the ground flat


def _fspl(d):
    return 20 * math.log10(4 * math.pi * d / LAM)


def _sweep(z, res, r0, c0, radius=FLAT, h_tx=2.3, h_rx=0.25):
    return lk.link_sweep(
        np.ascontiguousarray(z, np.float32), res, r0, c0, h_tx, h_rx, radius, LAM,
        BUDGET.budget_db(),
    )  # fmt: skip


def test_knife_edge_loss_is_itu_p526():
    # J(v) = 6.9 + 20 log10(sqrt((v - 0.1)^2 + 1) + v - 0.1), by hand at a few points
    assert float(knife_edge_loss_db(0.0)) == pytest.approx(6.9 + 20 * math.log10(0.904988), 1e-5)
    assert float(knife_edge_loss_db(0.0)) == pytest.approx(6.03, abs=0.01)  # the 6 dB of grazing
    assert float(knife_edge_loss_db(1.0)) == pytest.approx(13.93, abs=0.01)
    assert float(knife_edge_loss_db(2.4)) == pytest.approx(20.54, abs=0.01)
    assert float(knife_edge_loss_db(-0.78)) == 0.0 and float(knife_edge_loss_db(-3.0)) == 0.0
    assert lk.knife_edge_db(1.0) == pytest.approx(float(knife_edge_loss_db(1.0)))


def test_budget_by_hand():
    # 20 dBm + 2 dBi + 2 dBi - 2 dB - 2 dB against -90 dBm, less a 10 dB margin: 100 dB of path
    assert BUDGET.budget_db() == pytest.approx(100.0)
    # free space uses it up at d = lambda / (4 pi) 10^(100 / 20)
    assert BUDGET.free_space_range_m() == pytest.approx(LAM / (4 * math.pi) * 1e5)
    assert float(BUDGET.free_space_margin_db(BUDGET.free_space_range_m())) == pytest.approx(0.0)
    weak = LinkBudget(rover_tx_power_dbm=10.0)  # the uplink is the weaker direction now
    assert weak.budget_db() == pytest.approx(90.0)
    with pytest.raises(ValueError, match="required_margin_db"):
        LinkBudget(required_margin_db=-1.0).validate()


def test_receiver_sensitivity_by_hand():
    # kT at 290 K: 1.380649e-23 J/K x 290 K = 4.0039e-21 W/Hz = -173.975 dBm/Hz (the "-174")
    assert receiver_sensitivity_dbm(1.0, 0.0, 0.0) == pytest.approx(-173.975, abs=5e-4)
    # 1 Mbit/s adds 60 dB, a 5 dB noise figure and 10.5 dB of Eb/N0 add theirs
    assert receiver_sensitivity_dbm(1e6, 5.0, 10.5) == pytest.approx(-98.475, abs=5e-4)
    # a hotter front end is noisier: 2900 K is 10 dB over 290 K
    assert receiver_sensitivity_dbm(1e6, 0.0, 0.0, noise_k=2900.0) == pytest.approx(
        receiver_sensitivity_dbm(1e6, 0.0, 0.0) + 10.0
    )
    assert SHANNON_EBN0_DB == pytest.approx(-1.5917, abs=1e-4)  # ln 2


def test_single_knife_edge_by_hand():
    """A 10 m knife edge 100 m from the lander, the rover 200 m out, on the curved Moon."""
    n = 260
    z = np.zeros((3, n), np.float32)
    z[:, 100] = 10.0
    radius = 1737400.0
    margin, vis = _sweep(z, 1.0, 1, 0, radius=radius)
    d1, dist = 100.0, 200.0
    zt = 0.0 + 2.3
    zr = 0.25 - dist**2 / (2 * radius)
    edge = 10.0 - d1**2 / (2 * radius)
    h = edge - (zt + (zr - zt) * d1 / dist)
    v = h * math.sqrt(2 * dist / (LAM * d1 * (dist - d1)))
    j = 6.9 + 20 * math.log10(math.sqrt((v - 0.1) ** 2 + 1) + v - 0.1)
    slant = math.hypot(dist, zr - zt)
    assert margin[1, 200] == pytest.approx(100.0 - _fspl(slant) - j, abs=1e-3)
    assert vis[1, 200] == 0 and vis[1, 90] == 1
    prof = z[1, :201].astype(float)
    ref = bullington_loss_db(np.arange(201.0), prof, 2.3, 0.25, LAM, body_radius_m=radius)
    assert ref == pytest.approx(j, abs=1e-6)


def test_two_knife_edges_by_hand():
    """Edges of 4 m at 60 m and 5 m at 140 m, the rover at 200 m: Bullington's equivalent edge
    lies where the steepest ray from the lander (over one edge) meets the steepest ray back
    from the rover (over the other)."""
    z = np.zeros((3, 240), np.float32)
    z[:, 60], z[:, 140] = 4.0, 5.0
    margin, _ = _sweep(z, 1.0, 1, 0)
    zt, zr, dist = 2.3, 0.25, 200.0
    s_tim = max((4.0 - zt) / 60, (5.0 - zt) / 140)
    s_rim = max((4.0 - zr) / (dist - 60), (5.0 - zr) / (dist - 140))
    s_tr = (zr - zt) / dist
    db = (zr - zt + s_rim * dist) / (s_tim + s_rim)
    h = (s_tim - s_tr) * db
    v = h * math.sqrt(2 * dist / (LAM * db * (dist - db)))
    j = 6.9 + 20 * math.log10(math.sqrt((v - 0.1) ** 2 + 1) + v - 0.1)
    assert 60 < db < 140  # between the two edges: neither alone
    slant = math.hypot(dist, zr - zt)
    assert margin[1, 200] == pytest.approx(100.0 - _fspl(slant) - j, abs=1e-3)


def test_clear_path_is_free_space_only():
    """Lander and rover on hills 30 m above a valley: the terrain stays far below the first
    Fresnel zone, so the margin is the free-space one."""
    x = np.arange(400.0)
    ground = 30.0 * (np.abs(x - 200.0) / 200.0) ** 0.5  # a valley between two hills
    z = np.tile(ground.astype(np.float32), (3, 1))
    margin, vis = _sweep(z, 1.0, 1, 0)
    slant = math.hypot(399.0, (ground[399] + 0.25) - (ground[0] + 2.3))
    assert margin[1, 399] == pytest.approx(100.0 - _fspl(slant), abs=1e-3)
    assert vis[1, 399] == 1


def test_deep_behind_a_tall_wall_there_is_no_link():
    z = np.zeros((3, 120), np.float32)
    z[:, 20:22] = 30.0
    margin, vis = _sweep(z, 1.0, 1, 0)
    assert margin[1, 60] < -10.0 and vis[1, 60] == 0
    assert margin[1, 10] > 30.0  # in front of the wall: free space at 10 m


def test_sweep_equals_the_reference_on_rough_profiles():
    """Along a ray the compiled sweep (convex hull, binary searches) gives the reference's loss
    for every obstructed receiver; on clear paths it searches the hull's vertices only, within
    a few dB of the full profile's largest v and never above it."""
    rng = np.random.default_rng(5)
    prof = np.cumsum(rng.normal(0, 0.25, 300)).astype(np.float32)
    z = np.tile(prof, (3, 1))
    margin, vis = _sweep(z, 2.0, 1, 0)
    obstructed, clear = 0, 0
    for k in range(2, 300):
        d = 2.0 * np.arange(k + 1)
        ref = bullington_loss_db(d, prof[: k + 1].astype(float), 2.3, 0.25, LAM, body_radius_m=FLAT)
        slant = math.hypot(d[-1], (prof[k] + 0.25) - (prof[0] + 2.3))
        ours = 100.0 - _fspl(slant) - float(margin[1, k])
        if vis[1, k]:
            clear += 1
            assert ref - 3.0 <= ours <= ref + 1e-3, k
        else:
            obstructed += 1
            assert ours == pytest.approx(ref, abs=1e-3), k
    assert obstructed > 50 and clear > 5


def test_fresnel_v_and_zone():
    # first Fresnel zone radius sqrt(lambda d1 d2 / d): 1.8 m at 100 m (DOMAIN), v = sqrt(2) h / r1
    r1 = math.sqrt(LAM * 50 * 50 / 100)
    assert r1 == pytest.approx(1.77, abs=0.01)
    assert float(fresnel_v(r1, 50, 50, LAM)) == pytest.approx(math.sqrt(2))


def test_radio_grid_and_field_windows():
    z = np.arange(36, dtype=np.float32).reshape(6, 6)
    z[0, 0] = np.nan
    zc = radio_grid(z, 4)
    assert zc.shape == (2, 2)
    assert zc[0, 0] == pytest.approx(np.nanmean(z[:4, :4]))
    assert zc[1, 1] == pytest.approx(np.mean(z[4:, 4:]))
    # strips of a multiple of the factor give the same cells
    assert np.array_equal(np.concatenate([radio_grid(z[:4], 4), radio_grid(z[4:], 4)]), zc)
    field = LinkField(np.array([[1.0, -1.0]], np.float32), np.array([[1, 0]], np.uint8), 4, 8,
                      (2, 4), 2)  # fmt: skip
    margin, vis = field.window(3, 7, 7, 14)
    assert np.isnan(margin[0]).all() and np.isnan(margin[:, 0]).all()  # outside the box
    np.testing.assert_array_equal(margin[1:3, 1:5], [[1, 1, -1, -1], [1, 1, -1, -1]])
    assert vis[1, 1] and not vis[1, 3]
    r0, r1, c0, c1 = link_box((1000, 1000), (500, 500), 0.5, 100.0, 4)
    assert r0 % 4 == 0 and c0 % 4 == 0 and r0 <= 300 and r1 >= 701
