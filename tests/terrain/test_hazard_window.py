"""A window of the hazard model equals the same cells of the whole grid.

``hazard_window`` is the one implementation of the hazard model: the in-memory map calls it on
the whole grid, the tiled map on each tile's window (its core and a halo). Here the whole grid is
computed once and compared, cell by cell, with windows whose cores cut the grid in rows only, in
columns only and in both, with a lander and a hand-made link field whose grid starts elsewhere
than the window: layers, counts, resolved rocks and the cells they cover.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine

from frigoris.terrain import synth
from frigoris.terrain.craters import detect_craters
from frigoris.terrain.hazard import HazardLimits, LanderSite, hazard_window, site_model
from frigoris.terrain.link import LinkBudget, LinkField
from frigoris.terrain.roughness import block_moments

# a link budget whose free-space range is about 20 m: some cells of the grid are out of range
LIMITS = HazardLimits(link=LinkBudget(required_margin_db=44.0))


@pytest.fixture(scope="module")
def grid():
    s = synth.synthesize(size_m=160.0, res_m=0.5, seed=4, rock_abundance=0.08)
    z = np.array(s.dem.elevation, dtype=np.float32)
    z[150:153, 160:166] = np.nan  # a hole: nodata, and the fill of the rock search
    model, _ = site_model(LIMITS, 0.5, block_moments(z), float(np.nanmin(z)))
    # the link field: 2 x 2 cells per radio cell from grid (row 7, col 3), margins in a
    # pattern with some below 0 and some NaN
    rng = np.random.default_rng(0)
    margin = rng.uniform(-2.0, 6.0, (150, 155)).astype(np.float32)
    margin[60:65, 70:80] = np.nan
    link = LinkField(margin, np.ones_like(margin, np.uint8), 7, 3, (300, 310), 2)
    x0, y0 = s.dem.transform.c, s.dem.transform.f
    lander = LanderSite(x0 + 0.5 * 140 + 0.2, y0 - 0.5 * 150 - 0.4)  # in cell (150, 140)
    craters = detect_craters(z, 0.5, transform=s.dem.transform)
    whole = run(z, s.dem.transform, model, link, lander, (0, 320), (0, 320), craters=craters)
    return z, s.dem.transform, model, link, lander, whole, craters


def run(z, transform, model, link, lander, rows, cols, rock=0.08, craters=None):
    """hazard_window on the core rows[0]:rows[1], cols[0]:cols[1] with the model's halo."""
    h = model.halo_px
    r0, r1 = max(rows[0] - h, 0), min(rows[1] + h, z.shape[0])
    c0, c1 = max(cols[0] - h, 0), min(cols[1] + h, z.shape[1])
    core = (slice(rows[0] - r0, rows[1] - r0), slice(cols[0] - c0, cols[1] - c0))
    rr = rock if np.ndim(rock) == 0 else rock[r0:r1, c0:c1]
    return hazard_window(
        z[r0:r1, c0:c1],
        transform,
        (r0, c0),
        core,
        model,
        rock_abundance=rr,
        link=link,
        lander=lander,
        craters=craters,
    )


@pytest.mark.parametrize(
    ("rows", "cols"),
    [((120, 170), (130, 200)), ((0, 320), (140, 190)), ((110, 160), (0, 320))],
    ids=["rows-and-cols", "cols-only", "rows-only"],
)
def test_a_window_holds_the_same_numbers_as_the_whole_grid(grid, rows, cols):
    z, transform, model, link, lander, whole, craters = grid
    assert 0 < model.halo_px < 100  # the windows do cut the grid
    win = run(z, transform, model, link, lander, rows, cols, craters=craters)
    sl = (slice(*rows), slice(*cols))
    assert whole.layers["crater_mask"][sl].any()  # steep crater walls in the core
    names = ("slope_deg", "slope_rover_deg", "risk", "cost", "keepout_reason", "crater_mask")
    for name in names:
        np.testing.assert_array_equal(win.layers[name], whole.layers[name][sl], err_msg=name)
    reasons = whole.layers["keepout_reason"]
    # the lander's cells, cells without a link and cells too steep lie in the core, or the
    # comparison proves little
    for bit in (2, 16, 32):
        assert (win.layers["keepout_reason"] & bit).any(), bit
    assert (win.layers["keepout_reason"] == 0).any()
    # the counts: the core's cells by reason byte, and those within the link range of the
    # lander's cell (row 150, col 140)
    valid = np.isfinite(z[sl])
    want = np.bincount(reasons[sl][valid], minlength=256)
    assert np.array_equal(win.stats.reasons, want)
    rr, cc = np.indices(z.shape)
    near = 0.5 * np.hypot(rr - 150, cc - 140) <= LIMITS.link_range_m
    want_r = np.bincount(reasons[sl][valid & near[sl]], minlength=256)
    assert 0 < want_r.sum() < want.sum()  # the range cuts the core
    assert np.array_equal(win.stats.in_range, want_r)
    # the resolved rocks with their centres in the core, and the cells rocks cover there
    x0, y0 = transform.c, transform.f
    col = (np.asarray(whole.rocks.x) - x0) / 0.5
    row = (y0 - np.asarray(whole.rocks.y)) / 0.5
    inside = (row >= rows[0]) & (row < rows[1]) & (col >= cols[0]) & (col < cols[1])
    assert 0 < inside.sum() < len(whole.rocks.x)
    np.testing.assert_array_equal(np.sort(win.rocks.x), np.sort(np.asarray(whole.rocks.x)[inside]))
    np.testing.assert_array_equal(np.sort(win.rocks.y), np.sort(np.asarray(whole.rocks.y)[inside]))
    cells = whole.rock_cells.window(rows[0], rows[1], cols[0], cols[1])
    assert np.array_equal(np.sort(win.rock_cells.index), np.sort(cells.index))


def test_a_rock_layer_is_cut_with_its_window(grid):
    z, transform, model, link, lander, _, _ = grid
    rock = np.full(z.shape, 0.02)
    rock[:, 160:] = 0.15
    whole = run(z, transform, model, link, lander, (0, 320), (0, 320), rock=rock)
    win = run(z, transform, model, link, lander, (120, 170), (130, 200), rock=rock)
    sl = (slice(120, 170), slice(130, 200))
    np.testing.assert_array_equal(win.layers["rock_risk"], whole.layers["rock_risk"][sl])
    np.testing.assert_array_equal(win.layers["risk"], whole.layers["risk"][sl])
    assert win.stats.sums[3] == pytest.approx(np.nansum(whole.layers["rock_risk"][sl]), rel=1e-6)


def test_a_core_from_the_top_of_a_tall_grid_keeps_only_its_own_rocks(grid):
    # 320 rows x 200 columns: the core is rows 0:200 and every column, the window rows 0:283
    # (the halo below) and every column; the rocks at rows 245 and 261 are the window's, not
    # the core's
    z, transform, model, link, lander, _, _ = grid
    tall = np.ascontiguousarray(z[:, :200])
    whole = run(tall, transform, model, link, lander, (0, 320), (0, 200))
    win = run(tall, transform, model, link, lander, (0, 200), (0, 200))
    row = (transform.f - np.asarray(whole.rocks.y)) / 0.5
    assert (row >= 200).any() and (row < 200).any()
    np.testing.assert_array_equal(
        np.sort(win.rocks.y), np.sort(np.asarray(whole.rocks.y)[row < 200])
    )


def test_a_core_from_the_left_of_a_wide_grid_keeps_only_its_own_rocks(grid):
    # the tall grid transposed, 200 rows x 320 columns: the core is every row and columns 0:200
    z, transform, model, link, lander, _, _ = grid
    wide = np.ascontiguousarray(z[:, :200].T)
    whole = run(wide, transform, model, link, lander, (0, 200), (0, 320))
    win = run(wide, transform, model, link, lander, (0, 200), (0, 200))
    col = (np.asarray(whole.rocks.x) - transform.c) / 0.5
    assert (col >= 200).any() and (col < 200).any()
    want = np.sort(np.asarray(whole.rocks.x)[col < 200])
    np.testing.assert_array_equal(np.sort(win.rocks.x), want)


def test_a_rock_centred_on_the_edge_between_two_cores_belongs_to_the_second():
    # a 4 x 4 cell block 0.3 m high on a 5 degree plane of 0.125 m cells, cells 40..43 in both
    # axes: its centre is the corner between cells 41 and 42 (x 5.25 m, y 6.75 m, exact in
    # binary), on the edge between cores that end and begin at row or column 42
    res = 0.125
    z = (res * math.tan(math.radians(5.0)) * np.indices((96, 96))[1]).astype(np.float32)
    z[40:44, 40:44] += 0.3
    transform = Affine(res, 0.0, 0.0, 0.0, -res, 12.0)
    model, _ = site_model(LIMITS, res, block_moments(z), float(z.min()))
    every = (slice(None), slice(None))
    whole = hazard_window(z, transform, (0, 0), every, model, rock_abundance=0.0)
    assert list(whole.rocks.x) == [5.25] and list(whole.rocks.y) == [6.75]
    for cores in (
        [(slice(0, 42), slice(None)), (slice(42, 96), slice(None))],
        [(slice(None), slice(0, 42)), (slice(None), slice(42, 96))],
    ):
        found = [
            len(hazard_window(z, transform, (0, 0), core, model, rock_abundance=0.0).rocks.x)
            for core in cores
        ]
        assert found == [0, 1]


def test_without_a_lander_every_cell_is_in_range(grid):
    z, transform, model, _, _, _, _ = grid
    win = run(z, transform, model, None, None, (120, 170), (130, 200))
    assert win.stats.valid == np.isfinite(z[120:170, 130:200]).sum() == 50 * 70 - 18
    assert np.array_equal(win.stats.in_range, win.stats.reasons)
