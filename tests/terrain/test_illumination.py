"""Cast shadows, horizon maps and sunlight over time, against hand geometry and a ray march."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import binary_dilation, binary_erosion, gaussian_filter, map_coordinates

from frigoris import terrain
from frigoris.terrain.crs import MOON_RADIUS_M, local_metric_crs, lunar_to_crs
from frigoris.terrain.errors import GridError, IlluminationError
from frigoris.terrain.illumination import (
    HorizonMap,
    cast_shadow,
    dem_centre_lunar,
    horizon_map,
    incidence_cosine,
    lander_height_raster,
    self_shadow,
    sun_over_dem,
    sunlight_map,
)
from frigoris.terrain.sky import sun_position, utc_range

UTC = dt.timezone.utc
TOUCHDOWN = dt.datetime(2025, 6, 5, 19, 17, tzinfo=UTC)
CRS = local_metric_crs(60.5, -4.6)


def _dem(z, res_m=1.0, crs=CRS, origin=None):
    return terrain.Dem.from_array(np.asarray(z, np.float32), res_m=res_m, crs=crs, origin=origin)


def _rough(shape, seed, sigma=3.0, amp=30.0):
    rng = np.random.default_rng(seed)
    return (gaussian_filter(rng.normal(size=shape), sigma) * amp).astype(np.float32)


def ray_march(z, res, az_deg, el_deg, radius=MOON_RADIUS_M, extra=None, step_px=0.1):
    """Brute force: march a straight ray from every cell centre towards the Sun.

    The DEM (plus ``extra``) is read as a bilinear surface and sampled every ``step_px`` along
    the exact ray. Same physical model as the kernel (parallel rays, the sphere as the parabola
    ``Y = z - r^2 / 2R`` in the grid centre's tangent frame, sun elevation given at the centre),
    none of its machinery (no sweep lines, no running maximum, no hull).
    """
    z = np.asarray(z, np.float64)
    top = z + (0.0 if extra is None else np.asarray(extra, np.float64))
    m, n = z.shape
    rr, cc = np.mgrid[0:m, 0:n].astype(np.float64)
    x = (cc + 0.5 - n / 2) * res
    y = (m / 2 - rr - 0.5) * res
    ground = z - (x * x + y * y) / (2 * radius)
    a, e = math.radians(az_deg), math.radians(el_deg)
    dr, dc = np.round([-math.cos(a), math.sin(a)], 12)  # towards the sun in (row, col)
    shadow = np.zeros((m, n), bool)
    k = 1
    while True:
        d = k * step_px
        sr, sc = rr + d * dr, cc + d * dc
        inside = (sr >= 0) & (sr <= m - 1) & (sc >= 0) & (sc <= n - 1)
        if not inside.any():
            break
        h = map_coordinates(top, [np.clip(sr, 0, m - 1), np.clip(sc, 0, n - 1)], order=1)
        sx, sy = x + d * res * dc, y - d * res * dr
        ray = ground + d * res * math.tan(e)
        with np.errstate(invalid="ignore"):
            shadow |= inside & (h - (sx * sx + sy * sy) / (2 * radius) > ray)
        k += 1
    return shadow & np.isfinite(z)


# ---------------------------------------------------------------------------------------------
# hand geometry


@pytest.mark.parametrize("el", [5.0, 11.8, 30.0, 60.0])
@pytest.mark.parametrize("az", [0.0, 90.0, 180.0, 270.0])
def test_wall_shadow_length_is_h_over_tan_e(az, el):
    res, h = 0.5, 2.3
    z = np.zeros((160, 160), np.float32)
    # a wall across the grid, perpendicular to the sun, on the sun side
    if az == 0.0:
        z[20, :] = h
    elif az == 180.0:
        z[139, :] = h
    elif az == 90.0:
        z[:, 139] = h
    else:
        z[:, 20] = h
    shadow = cast_shadow(z, res, az, el)
    count = shadow.sum(axis=1 if az in (90.0, 270.0) else 0)
    expected = h / math.tan(math.radians(el))
    assert np.all(count == count[0])
    assert abs(count[0] * res - expected) <= res


@pytest.mark.parametrize("az", [30.0, 45.0, 108.0, 225.0, 333.0])
def test_block_shadow_tip_on_diagonals(az):
    res, h, el, half = 1.0, 20.0, 25.0, 3
    z = np.zeros((121, 121), np.float32)
    z[60 - half : 61 + half, 60 - half : 61 + half] = h  # 7 x 7 px block
    shadow = cast_shadow(z, res, az, el)
    shadow[60 - half : 61 + half, 60 - half : 61 + half] = False
    rows, cols = np.nonzero(shadow)
    a = math.radians(az)
    # distance of shadowed cells from the block centre, along the anti-sun direction
    along = -((cols - 60) * math.sin(a) - (rows - 60) * math.cos(a)) * res
    # the block top (read bilinearly: flat out to the outer cell centres) ends at
    # half * (|sin a| + |cos a|) along that direction; its shadow reaches h / tan(e) beyond
    corner = half * (abs(math.sin(a)) + abs(math.cos(a))) * res
    assert along.max() == pytest.approx(corner + h / math.tan(math.radians(el)), abs=1.5 * res)


def test_lander_shadow_at_touchdown_is_about_eleven_metres():
    res = 0.25
    dem = _dem(np.zeros((200, 200)), res)
    box = lander_height_raster(dem, 0.125, 0.125, 2.3, 2.5)
    assert box.sum() == pytest.approx(2.3 * 11 * 11)  # 2.5 m on 0.25 m cells centred on a cell
    el = sun_position(60.5, -4.6, TOUCHDOWN).elevation_deg
    shadow = cast_shadow(dem.elevation, res, 270.0, el, extra_height=box)  # sun due west
    r, c = dem.rowcol(0.125, 0.125)
    row = shadow[r]
    east_of_box = row[c + 6 :]
    length = east_of_box.sum() * res
    assert length == pytest.approx(2.3 / math.tan(math.radians(el)), abs=res)
    assert length == pytest.approx(11.0, abs=0.3)  # DOMAIN: "about 11 m for the lander"
    assert not shadow[:, : c - 6].any()  # nothing on the sun side
    assert np.all(box[r, c - 5 : c + 6] == 2.3)


def _bowl(res, a, depth, n=128):
    z = np.zeros((n, n), np.float32)
    rr, cc = np.mgrid[0:n, 0:n]
    x = (cc + 0.5 - n / 2) * res
    y = (n / 2 - rr - 0.5) * res
    r2 = x * x + y * y
    inside = r2 < a * a
    z[inside] = (depth * (r2[inside] / a**2 - 1.0)).astype(np.float32)
    return z, x, y, inside


def test_parabolic_crater_shadow_matches_hand_geometry():
    res, a, depth, el = 0.5, 25.0, 5.0, 10.0
    z, x, y, inside = _bowl(res, a, depth)
    shadow = cast_shadow(z, res, 90.0, el)  # sun in the east
    # Profile at constant y is the convex parabola D (x^2 - b^2) / a^2 with b = sqrt(a^2 - y^2);
    # the east rim (b, 0) hides floor points with x > a^2 tan(e) / D - b.
    b = np.sqrt(np.maximum(a * a - y * y, 0.0))
    tan_e = math.tan(math.radians(el))
    x_edge = a * a * tan_e / depth - b
    expected = inside & (x > x_edge)
    assert not shadow[~inside].any()  # the plain around is lit
    assert expected.sum() > 500
    # On the grid the rim is the first cell outside the bowl, up to one pixel beyond b: the ray
    # over it is at most res * tan(e) higher. Cells may differ only within that margin.
    clearance = z + (b - x) * tan_e  # height of the ray from P above the true rim
    wrong = shadow != expected
    assert np.all(np.abs(clearance[wrong]) <= res * tan_e + 1e-4)
    assert wrong.sum() <= 0.03 * expected.sum()
    # centre row: shadow from x = a^2 tan e / D - a to the rim
    centre = z.shape[0] // 2
    lit_x = x[centre][inside[centre] & ~shadow[centre]]
    assert lit_x.max() == pytest.approx(a * a * tan_e / depth - a, abs=res)


def test_crater_lit_fraction_over_a_day_matches_geometry():
    res, a, depth = 1.0, 25.0, 5.0
    z, x, y, inside = _bowl(res, a, depth, n=96)
    dem = _dem(z, res)
    times = utc_range(dt.datetime(2025, 6, 3, 12, tzinfo=UTC), days=16, step_h=2)
    light = sunlight_map(dem, times, n_azimuths=72)
    sun = light.sun
    # Centre of a paraboloid bowl: the rim stands D above it at distance a in every direction.
    centre = (z.shape[0] // 2, z.shape[1] // 2)
    crit = math.degrees(math.atan(depth / a))
    expected_centre = np.mean(sun.elevation_deg > crit)
    assert light.lit_fraction[centre] == pytest.approx(expected_centre, abs=1.5 / times.size)
    # Any floor point p: lit iff tan(e) >= D (a^2 - |p|^2) / (a^2 s), s the distance to the rim
    # towards the Sun; count over the day's sun positions.
    az = np.radians(sun.azimuth_deg)[:, None]
    el = np.radians(sun.elevation_deg)[:, None]
    px, py = x[inside][None, :], y[inside][None, :]
    ux, uy = np.sin(az), np.cos(az)
    proj = px * ux + py * uy
    s = -proj + np.sqrt(proj**2 + a * a - (px**2 + py**2))
    tan_h = depth * (a * a - (px**2 + py**2)) / (a * a * s)
    analytic = np.mean((el > 0) & (np.tan(el) >= tan_h), axis=0)
    diff = light.lit_fraction[inside] - analytic
    assert np.mean(np.abs(diff)) < 0.02
    assert np.percentile(np.abs(diff), 95) < 0.1  # 72 sectors, pixel rims
    # outside the crater the plain sees every sun above the horizon
    assert np.allclose(light.lit_fraction[~inside], np.mean(sun.elevation_deg > 0), atol=1e-6)


def _sphere_tip(h, s_tower, el0_deg, radius):
    """Arc distance of the shadow tip of a tower on a sphere, exact ray-circle geometry.

    Frame: tangent plane at the grid centre, x towards the Sun, sphere centre at (0, -R).
    """
    th = s_tower / radius
    top = np.array([(radius + h) * math.sin(th), (radius + h) * math.cos(th) - radius])
    d = -np.array([math.cos(math.radians(el0_deg)), math.sin(math.radians(el0_deg))])
    c = np.array([0.0, -radius])
    # |top + lam d - c|^2 = R^2
    w = top - c
    b = 2 * d @ w
    cc = w @ w - radius * radius
    lam = (-b - math.sqrt(b * b - 4 * cc)) / 2
    p = top + lam * d - c
    return radius * math.atan2(p[0], p[1])


def test_curvature_shortens_a_far_towers_shadow_as_predicted():
    res, h, el0 = 10.0, 100.0, 1.0
    n = 2048
    z = np.zeros((5, n), np.float32)
    col = 2000
    z[:, col] = h
    shadow = cast_shadow(z, res, 90.0, el0)  # sun due east, 1 deg above the centre's horizon
    x = (np.arange(n) + 0.5 - n / 2) * res
    shaded = x[shadow[2]]
    s_tower = x[col]
    tip = _sphere_tip(h, s_tower, el0, MOON_RADIUS_M)
    assert shaded.max() < s_tower
    assert shaded.min() == pytest.approx(tip, abs=res)
    # Flat-ground prediction with the Sun's elevation at the tip (the Sun is higher there than
    # at the centre by s / R): the real shadow is shorter by ~30 pixels.
    el_tip = math.radians(el0) + tip / MOON_RADIUS_M
    flat = s_tower - h / math.tan(el_tip)
    assert tip - flat > 20 * res
    assert shaded.min() - flat > 20 * res
    # and on a flat body the kernel gives the flat answer with the centre's elevation
    flat_body = cast_shadow(z, res, 90.0, el0, body_radius_m=1e15)
    flat_tip = s_tower - h / math.tan(math.radians(el0))
    assert x[flat_body[2]].min() == pytest.approx(flat_tip, abs=res)


def test_sphere_shadows_itself_beyond_the_terminator():
    # 1 deg sun at the centre: 30.3 km away from the Sun the Sun sets (R tan 1 deg).
    res = 200.0
    z = np.zeros((3, 400), np.float32)
    shadow = cast_shadow(z, res, 90.0, 1.0)
    x = (np.arange(400) + 0.5 - 200) * res
    terminator = -MOON_RADIUS_M * math.radians(1.0)
    assert not shadow[1][x > terminator + res].any()
    assert shadow[1][x < terminator - res].all()


# ---------------------------------------------------------------------------------------------
# against a brute-force ray march


def _edge_cells(mask):
    """Cells next to (8-neighbour) or on a shadow/light boundary of ``mask``."""
    return binary_dilation(mask, np.ones((3, 3))) & ~binary_erosion(
        mask, np.ones((3, 3)), border_value=1
    )


@pytest.mark.parametrize("az", [0.0, 90.0, 180.0, 270.0])
def test_sweep_equals_ray_march_exactly_along_grid_axes(az):
    # Sweep lines are then exact rays through cell centres and the bilinear surface is linear
    # between samples: nothing is discretised differently.
    z = _rough((72, 96), int(az) + 1, sigma=4.0, amp=20.0)
    z[30:34, 40:50] = np.nan
    extra = np.zeros_like(z)
    extra[10:12, 20:22] = 15.0
    got = cast_shadow(z, 2.0, az, 9.0, extra_height=extra)
    want = ray_march(z, 2.0, az, 9.0, extra=extra)
    assert 0.05 < want.mean() < 0.95
    ground = extra == 0  # under the obstacle the ray march starts inside it
    np.testing.assert_array_equal(got[ground], want[ground])


@pytest.mark.parametrize(
    ("az", "el", "seed"),
    [(17.0, 12.0, 2), (45.0, 8.0, 3), (108.0, 11.8, 4), (200.0, 25.0, 5), (263.0, 5.0, 6),
     (300.0, 15.0, 7)],
)  # fmt: skip
@pytest.mark.parametrize(("sigma", "amp"), [(3.0, 30.0), (6.0, 30.0)])
def test_sweep_matches_ray_march_within_a_pixel(az, el, seed, sigma, amp):
    # A cell takes its shadow from the sweep line passing within half a cell of its centre, not
    # from its own ray: on very rough terrain (slopes ~45 deg, 3-6 px wavelength) a few per cent
    # of cells differ, nearly all at shadow edges, without bias.
    z = _rough((72, 96), seed, sigma=sigma, amp=amp)
    got = cast_shadow(z, 1.0, az, el)
    want = ray_march(z, 1.0, az, el)
    assert 0.01 < want.mean() < 0.95
    wrong = got != want
    assert wrong.mean() < 0.05
    assert np.mean(wrong & ~_edge_cells(want)) < 0.015
    assert abs(got.mean() - want.mean()) < 0.015


def test_sweep_matches_ray_march_with_curvature_nodata_and_obstacles():
    z = _rough((80, 80), 11, sigma=4, amp=3)
    z[30:36, 10:20] = np.nan
    extra = np.zeros_like(z)
    extra[40:43, 60:63] = 8.0
    # a tiny 3 km body on a 10 m grid: curvature dominates
    got = cast_shadow(z, 10.0, 75.0, 4.0, body_radius_m=3000.0, extra_height=extra)
    want = ray_march(z, 10.0, 75.0, 4.0, radius=3000.0, extra=extra)
    assert 0.05 < want.mean() < 0.95
    assert np.mean(got != want) < 0.02
    assert abs(got.mean() - want.mean()) < 0.01
    assert not got[30:36, 10:20].any()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    az=st.floats(0.0, 360.0, exclude_max=True),
    el_low=st.floats(0.5, 40.0),
    rise=st.floats(0.1, 30.0),
    shift=st.integers(-500, 500),
)
def test_shadow_invariants(seed, az, el_low, rise, shift):
    # heights on a 1/1024 m grid, so that z + shift is exact in float32
    z = np.round(_rough((24, 31), seed, sigma=2.0, amp=10.0) * 1024) / 1024
    low = cast_shadow(z, 1.0, az, el_low)
    high = cast_shadow(z, 1.0, az, el_low + rise)
    assert not (high & ~low).any()  # a higher Sun never adds shadow
    np.testing.assert_array_equal(cast_shadow(z + np.float32(shift), 1.0, az, el_low), low)
    extra = np.zeros_like(z)
    extra[seed % 24, seed % 31] = 5.0
    with_box = cast_shadow(z, 1.0, az, el_low, extra_height=extra)
    assert not (low & ~with_box).any()  # an obstacle never removes shadow


# ---------------------------------------------------------------------------------------------
# horizon maps


def test_horizon_map_shadow_equals_cast_shadow_on_sector_centres():
    z = _rough((90, 110), 21)
    dem = _dem(z, 2.0)
    hm = horizon_map(dem, 36)
    assert hm.horizon_deg.shape == (36, 90, 110)
    assert hm.horizon_deg.dtype == np.float32
    for az in (0.0, 30.0, 110.0, 180.0, 250.0, 350.0):
        for el in (3.0, 12.0, 35.0):
            a = cast_shadow(z, 2.0, az, el)
            b = hm.shadow(az, el)
            assert np.sum(a != b) <= 2  # float32 storage rounding at the exact edge only


def test_horizon_map_shadow_equals_ray_march():
    z = _rough((72, 96), 26, sigma=4.0, amp=20.0)
    hm = horizon_map(z, 36, res_m=2.0)
    np.testing.assert_array_equal(hm.shadow(270.0, 9.0), ray_march(z, 2.0, 270.0, 9.0))
    got, want = hm.shadow(130.0, 9.0), ray_march(z, 2.0, 130.0, 9.0)
    assert 0.05 < want.mean() < 0.95
    assert np.mean(got != want) < 0.03


def test_horizon_map_between_sectors_close_to_cast_shadow():
    z = _rough((90, 110), 22, sigma=5)
    hm = horizon_map(z, 72, res_m=2.0)
    for az in (2.5, 47.0, 123.4, 268.0):
        a = cast_shadow(z, 2.0, az, 10.0)
        b = hm.shadow(az, 10.0)
        assert np.mean(a != b) < 0.05  # horizon interpolated across 5 deg sectors


def test_horizon_of_a_wall_by_hand():
    res, h = 1.0, 10.0
    z = np.zeros((41, 81), np.float32)
    z[:, 60] = h
    hm = horizon_map(z, 8, res_m=res)
    east = 2  # 90 deg
    for col in (10, 40, 55):
        d = (60 - col) * res
        want = math.degrees(math.atan((h - d * d / (2 * MOON_RADIUS_M)) / d))
        # 1e-3 deg: heights are taken along the centre's vertical, not each cell's (x / R)
        assert hm.horizon_deg[east, 20, col] == pytest.approx(want, abs=1e-3)
    # nothing at all to the north of row 0, and no wall to the west of the wall's west side
    assert np.all(hm.horizon_deg[0, 0] == -90.0)
    west = 6
    assert hm.horizon_deg[west, 20, 30] < 0.01


def test_limited_distance_horizons():
    z = _rough((64, 64), 23)
    full = horizon_map(z, 12, res_m=1.0)
    same = horizon_map(z, 12, max_distance_m=1000.0, res_m=1.0)
    np.testing.assert_allclose(same.horizon_deg, full.horizon_deg, atol=1e-5)
    near = horizon_map(z, 12, max_distance_m=5.0, res_m=1.0)
    assert np.all(near.horizon_deg <= full.horizon_deg + 1e-5)
    assert np.mean(near.horizon_deg < full.horizon_deg - 1e-3) > 0.1
    assert near.max_distance_m == 5.0
    # a wall 10 m away is beyond a 5 m reach
    w = np.zeros((21, 41), np.float32)
    w[:, 30] = 5.0
    assert horizon_map(w, 4, max_distance_m=5.0, res_m=1.0).horizon_deg[1, 10, 20] < 0.01
    assert horizon_map(w, 4, max_distance_m=10.5, res_m=1.0).horizon_deg[1, 10, 20] > 25.0


def test_shadow_stack_and_lit_fraction_agree():
    z = _rough((50, 60), 24)
    hm = horizon_map(z, 36, res_m=1.0)
    az = np.array([90.0, 120.0, 150.0, 180.0, 210.0, 240.0])
    el = np.array([-1.0, 5.0, 12.0, 20.0, 12.0, 5.0])
    stack = hm.shadow_stack(az, el)
    assert stack.shape == (6, 50, 60)
    assert stack[0].all()  # sun below the horizon
    frac = hm.lit_fraction(az, el)
    np.testing.assert_allclose(frac, 1.0 - stack.mean(axis=0), atol=1e-6)
    count, first, last = hm.lit_counts(az, el)
    lit = ~stack
    first_want = np.where(lit.any(0), lit.argmax(0), -1)
    last_want = np.where(lit.any(0), 5 - lit[::-1].argmax(0), -1)
    np.testing.assert_array_equal(first, first_want)
    np.testing.assert_array_equal(last, last_want)
    # lit_at on a few cells equals the masks
    rows = np.array([0, 10, 25, 49, 30, 7])
    cols = np.array([0, 59, 30, 12, 44, 3])
    np.testing.assert_array_equal(hm.lit_at(rows, cols, az, el), lit[np.arange(6), rows, cols])


def test_nodata_neither_casts_nor_receives():
    z = np.zeros((20, 60), np.float32)
    z[:, 50] = 20.0  # wall in the east
    z[:, 30:35] = np.nan  # a gap in the data inside its shadow
    z[5, 10:13] = np.nan
    shadow = cast_shadow(z, 1.0, 90.0, 30.0)
    assert not shadow[:, 30:35].any()
    assert shadow[10, 20:30].all() and shadow[10, 35:50].all()  # shadow continues past the gap
    tall_nan = np.zeros((20, 60), np.float32)
    tall_nan[:, 50] = np.nan
    assert not cast_shadow(tall_nan, 1.0, 90.0, 1.0).any()
    hm = horizon_map(z, 8, res_m=1.0)
    assert np.all(np.isnan(hm.horizon_deg[:, 5, 10:13]))
    frac = hm.lit_fraction([90.0, 100.0], [10.0, 40.0])
    assert np.isnan(frac[5, 11]) and np.isfinite(frac[5, 20])


def test_sun_below_horizon_darkens_everything():
    z = _rough((20, 20), 25)
    assert cast_shadow(z, 1.0, 90.0, 0.0).all()
    assert cast_shadow(z, 1.0, 90.0, -10.0).all()
    hm = horizon_map(z, 8, res_m=1.0)
    assert hm.shadow(90.0, -0.5).all()
    assert np.all(hm.lit_fraction([90.0], [-0.5]) == 0.0)


def test_self_shadow_and_incidence():
    res = 1.0
    rr, cc = np.mgrid[0:30, 0:30]
    west_facing = (cc * res * math.tan(math.radians(30.0))).astype(np.float32)  # rises eastward
    inner = (slice(1, -1), slice(1, -1))
    assert self_shadow(west_facing, res, 90.0, 20.0)[inner].all()  # sun in the east, low
    # the sweep finds it too: each cell's upslope neighbour hides the Sun (not on the east edge)
    assert cast_shadow(west_facing, res, 90.0, 20.0)[:, :-1].all()
    assert not cast_shadow(west_facing, res, 90.0, 40.0).any()
    assert not self_shadow(west_facing, res, 90.0, 40.0)[inner].any()
    assert not self_shadow(west_facing, res, 270.0, 5.0)[inner].any()
    cos_i = incidence_cosine(west_facing, res, 270.0, 0.0)
    assert cos_i[inner] == pytest.approx(math.sin(math.radians(30.0)), abs=1e-5)
    flat = incidence_cosine(np.zeros((8, 8), np.float32), res, 10.0, 25.0)
    assert flat[inner] == pytest.approx(math.sin(math.radians(25.0)), abs=1e-6)
    assert np.isnan(flat[0, 0])
    assert not self_shadow(np.zeros((8, 8), np.float32), res, 10.0, 25.0).any()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cast_shadow(np.zeros((3, 3, 3)), 1.0, 0, 10), GridError, "2-D"),
        (lambda: cast_shadow(np.zeros((3, 3)), 0.0, 0, 10), GridError, "res_m"),
        (lambda: cast_shadow(np.zeros((3, 3)), 1.0, 0, 95), IlluminationError, "elevation"),
        (lambda: cast_shadow(np.zeros((3, 3)), 1.0, np.nan, 5), IlluminationError, "azimuth"),
        (lambda: cast_shadow(np.zeros((3, 3)), 1.0, 0, 5, extra_height=np.zeros((2, 2))),
         GridError, "extra_height"),
        (lambda: cast_shadow(np.zeros((3, 3)), 1.0, 0, 5, extra_height=-np.ones((3, 3))),
         IlluminationError, "extra_height"),
        (lambda: cast_shadow(np.zeros((3, 3)), 1.0, 0, 5, body_radius_m=0), IlluminationError,
         "radius"),
        (lambda: horizon_map(np.zeros((3, 3))), GridError, "res_m"),
        (lambda: horizon_map(np.zeros((3, 3)), 2, res_m=1.0), IlluminationError, "n_azimuths"),
        (lambda: horizon_map(np.zeros((3, 3)), 8, -1.0, res_m=1.0), IlluminationError,
         "max_distance"),
    ],
)  # fmt: skip
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_lander_raster_validation():
    dem = _dem(np.zeros((10, 10)), 1.0)
    with pytest.raises(GridError, match="outside"):
        lander_height_raster(dem, 100.0, 0.0, 2.3, 2.5)
    with pytest.raises(IlluminationError, match="width"):
        lander_height_raster(dem, 0.0, 0.0, 2.3, 0.0)
    tiny = lander_height_raster(dem, 0.2, 0.3, 2.3, 0.1)  # smaller than a cell
    assert np.count_nonzero(tiny) == 1 and tiny[dem.rowcol(0.2, 0.3)] == pytest.approx(2.3)


# ---------------------------------------------------------------------------------------------
# the sun over a DEM through time


def test_sunlight_over_flat_dem_follows_the_sun_and_the_lander_shades():
    res = 0.5
    dem = _dem(np.zeros((64, 64)), res)
    times = utc_range(dt.datetime(2025, 6, 3, 12, tzinfo=UTC), days=17, step_h=4)
    box = lander_height_raster(dem, 0.25, 0.25, 2.3, 2.5)
    light = sunlight_map(dem, times, extra_height=box)
    up = light.sun.elevation_deg > 0
    far = (5, 60)  # north-east corner, never in the lander's shadow at this latitude
    assert light.lit_fraction[far] == pytest.approx(up.mean())
    assert light.first_lit[far] == times[np.argmax(up)]
    assert light.last_lit[far] == times[len(up) - 1 - np.argmax(up[::-1])]
    r, c = dem.rowcol(0.25, 0.25)
    west = (r, c - 8)  # 4 m west of the centre: in the morning shadow of the lander
    assert light.lit_fraction[west] < light.lit_fraction[far]
    assert light.first_lit[west] > light.first_lit[far]
    assert light.last_lit[west] == light.last_lit[far]
    assert np.isnat(light.first_lit[r, c - 1]) or light.first_lit[r, c - 1] > times[0]


def test_grid_azimuth_on_a_polar_stereographic_dem():
    lat, lon = 60.5, -4.6
    polar = terrain.crs.to_rasterio("IAU_2015:30130")
    x, y = lunar_to_crs(polar, lat, lon)
    dem = _dem(np.zeros((8, 8)), 10.0, crs=polar, origin=(x - 40.0, y + 40.0))
    clat, clon = dem_centre_lunar(dem)
    assert (clat, clon) == pytest.approx((lat, lon), abs=1e-4)
    grid = sun_over_dem(dem, TOUCHDOWN)
    true = sun_position(clat, clon, TOUCHDOWN)
    # polar stereographic on meridian 0: true north lies at grid azimuth -lon
    assert (grid.azimuth_deg - true.azimuth_deg) % 360 == pytest.approx(-lon % 360, abs=0.01)
    assert grid.elevation_deg == true.elevation_deg
    local = sun_over_dem(_dem(np.zeros((8, 8)), 10.0), TOUCHDOWN)
    assert local.azimuth_deg == pytest.approx(true.azimuth_deg, abs=1e-6)


def test_horizon_map_type_is_frozen():
    hm = horizon_map(np.zeros((4, 4), np.float32), 4, res_m=1.0)
    assert isinstance(hm, HorizonMap)
    with pytest.raises(AttributeError):
        hm.res_m = 2.0  # type: ignore[misc]
    with pytest.raises(GridError, match="shape"):
        sunlight_map(_dem(np.zeros((5, 5))), [TOUCHDOWN], horizons=hm)
