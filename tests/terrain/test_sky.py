"""Sun and Earth from DE421, checked against DOMAIN.md and an independent second method.

The second method shares nothing with ``terrain.sky`` but the site geometry: positions from
astropy's built-in analytic ephemeris (VSOP87 Earth + ELP2000 Moon, via ERFA), the Moon's
orientation from the IAU WGCCRE rotation model (Archinal et al. 2011, ME frame to ~150 m), and
UTC -> TAI by the hand-written offset TAI - UTC = 37 s (valid from 2017-01-01 on).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from frigoris.terrain.errors import EphemerisError, TerrainError
from frigoris.terrain.sky import (
    LunarDay,
    daylight_windows,
    earth_position,
    earth_windows,
    lunar_day,
    sun_position,
    utc_range,
)

UTC = dt.timezone.utc
TOUCHDOWN = dt.datetime(2025, 6, 5, 19, 17, tzinfo=UTC)
SITE = (60.5, -4.6)


# ---------------------------------------------------------------------------------------------
# independent method


def _iau_moon_rotation(jd_tdb: float) -> np.ndarray:
    """ICRF -> Moon ME (approximate) from the IAU 2009/2015 rotational elements."""
    d = jd_tdb - 2451545.0
    t = d / 36525.0
    e = np.radians(
        [
            125.045 - 0.0529921 * d, 250.089 - 0.1059842 * d, 260.008 + 13.0120009 * d,
            176.625 + 13.3407154 * d, 357.529 + 0.9856003 * d, 311.589 + 26.4057084 * d,
            134.963 + 13.0649930 * d, 276.617 + 0.3287146 * d, 34.226 + 1.7484877 * d,
            15.134 - 0.1589763 * d, 119.743 + 0.0036096 * d, 239.961 + 0.1643573 * d,
            25.053 + 12.9590088 * d,
        ]
    )  # fmt: skip
    s, c = np.sin(e), np.cos(e)
    ra = (269.9949 + 0.0031 * t - 3.8787 * s[0] - 0.1204 * s[1] + 0.0700 * s[2] - 0.0172 * s[3]
          + 0.0072 * s[5] - 0.0052 * s[9] + 0.0043 * s[12])  # fmt: skip
    dec = (66.5392 + 0.0130 * t + 1.5419 * c[0] + 0.0239 * c[1] - 0.0278 * c[2] + 0.0068 * c[3]
           - 0.0029 * c[5] + 0.0009 * c[6] + 0.0008 * c[9] - 0.0009 * c[12])  # fmt: skip
    w = (38.3213 + 13.17635815 * d - 1.4e-12 * d * d + 3.5610 * s[0] + 0.1208 * s[1]
         - 0.0642 * s[2] + 0.0158 * s[3] + 0.0252 * s[4] - 0.0066 * s[5] - 0.0047 * s[6]
         - 0.0046 * s[7] + 0.0028 * s[8] + 0.0052 * s[9] + 0.0040 * s[10] + 0.0019 * s[11]
         - 0.0044 * s[12])  # fmt: skip

    def r1(a):
        ca, sa = np.cos(a), np.sin(a)
        return np.array([[1, 0, 0], [0, ca, sa], [0, -sa, ca]])

    def r3(a):
        ca, sa = np.cos(a), np.sin(a)
        return np.array([[ca, sa, 0], [-sa, ca, 0], [0, 0, 1]])

    return r3(np.radians(w)) @ r1(np.radians(90 - dec)) @ r3(np.radians(90 + ra))


def _independent(lat_deg: float, lon_deg: float, when: dt.datetime):
    """(sun az, sun el), (earth az, earth el) by astropy builtin + IAU rotation model."""
    import astropy.units as u
    from astropy.coordinates import get_body_barycentric
    from astropy.time import Time

    tai = (when.astimezone(UTC) + dt.timedelta(seconds=37)).replace(tzinfo=None)
    t = Time(tai.isoformat(), scale="tai")
    moon = get_body_barycentric("moon", t, ephemeris="builtin").xyz.to_value(u.m)
    rot = _iau_moon_rotation(t.tdb.jd)
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.cross(up, east)
    out = []
    for body in ("sun", "earth"):
        pos = get_body_barycentric(body, t, ephemeris="builtin").xyz.to_value(u.m)
        v = rot @ (pos - moon) - 1_737_400.0 * up
        az = np.degrees(np.arctan2(v @ east, v @ north)) % 360
        el = np.degrees(np.arctan2(v @ up, np.hypot(v @ east, v @ north)))
        out.append((az, el))
    return out


def _angle_between(az1, el1, az2, el2) -> float:
    a1, e1, a2, e2 = np.radians([az1, el1, az2, el2])
    v1 = np.array([np.sin(a1) * np.cos(e1), np.cos(a1) * np.cos(e1), np.sin(e1)])
    v2 = np.array([np.sin(a2) * np.cos(e2), np.cos(a2) * np.cos(e2), np.sin(e2)])
    return float(np.degrees(np.arccos(np.clip(v1 @ v2, -1, 1))))


CASES = [
    (60.5, -4.6, TOUCHDOWN),
    (60.5, -4.6, dt.datetime(2025, 6, 12, 3, 0, tzinfo=UTC)),
    (60.5, -4.6, dt.datetime(2026, 2, 1, 0, 0, tzinfo=UTC)),
    (-45.0, 120.0, dt.datetime(2024, 9, 30, 12, 0, tzinfo=UTC)),  # far side, south
    (0.0, 90.0, dt.datetime(2020, 3, 20, 6, 0, tzinfo=UTC)),  # east limb
    (-89.5, 0.0, dt.datetime(2026, 7, 1, 0, 0, tzinfo=UTC)),  # near the south pole
    (23.5, -30.0, dt.datetime(2018, 1, 2, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=9)))),
]


@pytest.mark.parametrize(("lat", "lon", "when"), CASES)
def test_agrees_with_independent_method(lat, lon, when):
    (saz, sel), (eaz, eel) = _independent(lat, lon, when)
    sun = sun_position(lat, lon, when)
    earth = earth_position(lat, lon, when)
    # IAU model ~0.005 deg, ELP2000 Moon ~0.003 deg, aberration only in ours 0.006 deg.
    assert _angle_between(sun.azimuth_deg, sun.elevation_deg, saz, sel) < 0.015
    assert _angle_between(earth.azimuth_deg, earth.elevation_deg, eaz, eel) < 0.015
    assert abs(sun.elevation_deg - sel) < 0.015
    assert abs(earth.elevation_deg - eel) < 0.015


def test_reference_numbers_from_domain():
    sun = sun_position(*SITE, TOUCHDOWN)
    earth = earth_position(*SITE, TOUCHDOWN)
    assert sun.elevation_deg == pytest.approx(11.8, abs=0.5)
    assert sun.azimuth_deg == pytest.approx(108.0, abs=0.5)
    # DOMAIN's 31.6 deg is seen from the Moon's centre; from the surface the Earth's parallax
    # (R_moon / 384,400 km = 0.26 deg at the horizon) lowers it to 31.37.
    assert earth.elevation_deg == pytest.approx(31.6, abs=0.5)
    assert earth.elevation_deg == pytest.approx(31.37, abs=0.02)
    assert 169.0 <= earth.azimuth_deg <= 181.0
    assert sun.distance_m == pytest.approx(1.0159 * 1.495978707e11, rel=2e-3)
    # shadows 4.8 times an object's height
    assert 1.0 / np.tan(np.radians(sun.elevation_deg)) == pytest.approx(4.8, abs=0.05)


def test_lunar_day_at_site():
    day = lunar_day(*SITE, TOUCHDOWN)
    assert isinstance(day, LunarDay)
    assert day.daylight_days == pytest.approx(15.2, abs=0.1)
    # DOMAIN: sunrise ~ 06-03 20:00, sunset ~ 06-19 01:00 (+-0.5 deg ~ +-2 h at this latitude)
    assert abs(day.sunrise - dt.datetime(2025, 6, 3, 20, 0, tzinfo=UTC)) < dt.timedelta(hours=2)
    assert abs(day.sunset - dt.datetime(2025, 6, 19, 1, 0, tzinfo=UTC)) < dt.timedelta(hours=2)
    assert day.sunrise < TOUCHDOWN < day.noon < day.sunset
    assert 28.0 <= day.peak_sun_elevation_deg <= 31.5
    assert 22.0 <= day.earth_elevation_min_deg < day.earth_elevation_max_deg <= 36.0
    # at the crossings the sun really is on the horizon, and at noon it is due south
    assert abs(sun_position(*SITE, day.sunrise).elevation_deg) < 1e-3
    assert abs(sun_position(*SITE, day.sunset).elevation_deg) < 1e-3
    noon = sun_position(*SITE, day.noon)
    assert noon.elevation_deg == pytest.approx(day.peak_sun_elevation_deg, abs=1e-9)
    assert noon.azimuth_deg == pytest.approx(180.0, abs=1.0)


def test_lunar_day_from_night_gives_next_day():
    night = dt.datetime(2025, 6, 25, 0, 0, tzinfo=UTC)
    assert sun_position(*SITE, night).elevation_deg < 0
    day = lunar_day(*SITE, night)
    assert night < day.sunrise < day.sunset
    assert day.daylight_days == pytest.approx(15.2, abs=0.3)
    # 29.5-day synodic month between the two sunrises
    first = lunar_day(*SITE, TOUCHDOWN)
    assert (day.sunrise - first.sunrise).total_seconds() / 86400 == pytest.approx(29.5, abs=0.3)


def test_sun_above_ten_degrees_for_about_twelve_days():
    day = lunar_day(*SITE, TOUCHDOWN)
    windows = daylight_windows(*SITE, day.sunrise, day.sunset, min_elevation_deg=10.0)
    assert len(windows) == 1
    assert windows[0].duration_days == pytest.approx(11.8, abs=0.2)
    whole = daylight_windows(
        *SITE, day.sunrise - dt.timedelta(days=1), day.sunset + dt.timedelta(days=1)
    )
    assert len(whole) == 1
    assert whole[0].duration_days == pytest.approx(day.daylight_days, abs=1e-4)


def test_daylight_window_clipped_when_sun_up_at_start():
    windows = daylight_windows(*SITE, TOUCHDOWN, TOUCHDOWN + dt.timedelta(days=40))
    assert windows[0].start == TOUCHDOWN
    assert len(windows) == 2
    assert windows[1].end <= TOUCHDOWN + dt.timedelta(days=40)


def test_earth_always_up_roughly_south_over_the_day():
    times = utc_range(TOUCHDOWN, days=15, step_h=6)
    earth = earth_position(*SITE, times)
    assert np.all(earth.elevation_deg > 22.0)
    assert np.all((earth.azimuth_deg > 165.0) & (earth.azimuth_deg < 185.0))


def test_earth_windows_for_comms():
    end = TOUCHDOWN + dt.timedelta(days=15)
    always = earth_windows(*SITE, TOUCHDOWN, end)
    assert [(w.start, w.end) for w in always] == [(TOUCHDOWN, end)]
    # near the east limb the Earth librates across the horizon over a month
    start = dt.datetime(2025, 6, 1, tzinfo=UTC)
    limb = earth_windows(0.0, 93.0, start, start + dt.timedelta(days=60))
    assert len(limb) >= 2
    for w in limb:
        for edge in (w.start, w.end):
            if start < edge < start + dt.timedelta(days=60):
                assert abs(earth_position(0.0, 93.0, edge).elevation_deg) < 1e-3
    inside = limb[0].start + (limb[0].end - limb[0].start) / 2
    assert earth_position(0.0, 93.0, inside).elevation_deg > 0
    with pytest.raises(EphemerisError, match="not after"):
        earth_windows(*SITE, end, TOUCHDOWN)


def test_arrays_match_scalars_and_time_zones():
    times = [TOUCHDOWN + dt.timedelta(hours=h) for h in (0, 7, 50)]
    arr = sun_position(*SITE, times)
    as64 = sun_position(*SITE, np.array([t.replace(tzinfo=None) for t in times], "datetime64[s]"))
    jst = dt.timezone(dt.timedelta(hours=9))
    for i, t in enumerate(times):
        one = sun_position(*SITE, t.astimezone(jst))
        assert one.when == t
        assert arr.elevation_deg[i] == pytest.approx(one.elevation_deg, abs=1e-9)
        assert as64.azimuth_deg[i] == pytest.approx(one.azimuth_deg, abs=1e-9)
    assert arr.when.dtype == np.dtype("datetime64[us]")
    assert arr.direction_enu.shape == (3, 3)
    np.testing.assert_allclose(np.linalg.norm(arr.direction_enu, axis=-1), 1.0)


def test_one_site_per_time():
    times = [TOUCHDOWN, TOUCHDOWN]
    both = sun_position(np.array([60.5, -60.5]), np.array([-4.6, -4.6]), times)
    assert both.elevation_deg[0] == pytest.approx(sun_position(*SITE, TOUCHDOWN).elevation_deg)
    assert both.elevation_deg[1] == pytest.approx(
        sun_position(-60.5, -4.6, TOUCHDOWN).elevation_deg
    )
    with pytest.raises(EphemerisError, match="do not match"):
        sun_position(np.array([1.0, 2.0, 3.0]), 0.0, times)


@pytest.mark.parametrize(
    ("lat", "lon", "when", "match"),
    [
        (60.5, -4.6, dt.datetime(2025, 6, 5, 19, 17), "no time zone"),
        (95.0, -4.6, TOUCHDOWN, "latitude"),
        (60.5, float("nan"), TOUCHDOWN, "longitude"),
        (60.5, -4.6, dt.datetime(1850, 1, 1, tzinfo=UTC), "outside the DE421"),
        (60.5, -4.6, "2025-06-05", "aware datetime"),
        (60.5, -4.6, [TOUCHDOWN, dt.datetime(2025, 6, 5)], "no time zone"),
    ],
)
def test_bad_input_is_refused(lat, lon, when, match):
    with pytest.raises(EphemerisError, match=match) as info:
        sun_position(lat, lon, when)
    assert isinstance(info.value, TerrainError) and isinstance(info.value, ValueError)


def test_naive_time_refused_by_timelines():
    naive = dt.datetime(2025, 6, 5, 19, 17)
    with pytest.raises(EphemerisError, match="no time zone"):
        lunar_day(*SITE, naive)
    with pytest.raises(EphemerisError, match="no time zone"):
        utc_range(naive, 1)
    with pytest.raises(EphemerisError, match="days"):
        utc_range(TOUCHDOWN, 0)


def test_utc_range():
    times = utc_range(TOUCHDOWN, days=1, step_h=6)
    assert times.shape == (5,)
    assert times[0] == np.datetime64("2025-06-05T19:17:00")
    assert times[-1] == np.datetime64("2025-06-06T19:17:00")


def test_polar_night_has_no_sunrise_within_30_days_or_a_short_day():
    # 89.9 S: the Sun circles within ~1.6 deg of the horizon; terrain-free rise/set may
    # still happen, but a high horizon threshold never does.
    with pytest.raises(EphemerisError, match="does not rise"):
        lunar_day(-89.9, 0.0, TOUCHDOWN, horizon_deg=5.0)


def test_nothing_is_downloaded():
    code = textwrap.dedent(
        """
        import socket, datetime as dt
        def refuse(*a, **k):
            raise RuntimeError("network access attempted")
        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse
        from frigoris.terrain.sky import sun_position, earth_position, lunar_day
        t = dt.datetime(2025, 6, 5, 19, 17, tzinfo=dt.timezone.utc)
        print(round(sun_position(60.5, -4.6, t).elevation_deg, 2),
              round(earth_position(60.5, -4.6, t).elevation_deg, 2),
              round(lunar_day(60.5, -4.6, t).daylight_days, 1))
        """
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["11.86", "31.37", "15.2"]
