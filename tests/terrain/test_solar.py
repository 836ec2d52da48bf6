"""Solar panel power and leg energy, checked by hand from the Sun's position."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from frigoris.terrain.errors import EphemerisError, IlluminationError
from frigoris.terrain.sky import AU_M, SkyPosition, sun_position, utc_range
from frigoris.terrain.solar import (
    SOLAR_CONSTANT_W_M2,
    SolarPanel,
    irradiance_w_m2,
    leg_energy,
    panel_power_w,
    power_at,
)

UTC = dt.timezone.utc
TOUCHDOWN = dt.datetime(2025, 6, 5, 19, 17, tzinfo=UTC)
SITE = (60.5, -4.6)
PANEL = SolarPanel(area_m2=0.08, efficiency=0.28)


def _sun(az, el, dist=AU_M):
    return SkyPosition(TOUCHDOWN, az, el, dist)


def test_irradiance_scales_with_inverse_square():
    assert irradiance_w_m2(AU_M) == pytest.approx(SOLAR_CONSTANT_W_M2)
    assert irradiance_w_m2(2 * AU_M) == pytest.approx(SOLAR_CONSTANT_W_M2 / 4)
    sun = sun_position(*SITE, TOUCHDOWN)
    # early June: the Earth-Moon system is ~1.5 % beyond 1 AU
    assert irradiance_w_m2(sun.distance_m) == pytest.approx(1318.6, abs=1.0)


def test_horizontal_panel_by_hand():
    sun = sun_position(*SITE, TOUCHDOWN)
    watts = power_at(PANEL, *SITE, TOUCHDOWN)
    hand = (
        SOLAR_CONSTANT_W_M2
        * (AU_M / sun.distance_m) ** 2
        * 0.08
        * 0.28
        * math.sin(math.radians(sun.elevation_deg))
    )
    assert watts == pytest.approx(hand, rel=1e-12)
    assert watts == pytest.approx(6.07, abs=0.02)


def test_tracking_panel_and_a_panel_facing_the_sun_agree():
    tracking = SolarPanel(0.08, 0.28, mode="tracking")
    sun = _sun(108.0, 11.8)
    assert panel_power_w(tracking, sun) == pytest.approx(tracking.peak_w)
    facing = SolarPanel(0.08, 0.28, tilt_deg=90.0 - 11.8, azimuth_deg=108.0)
    assert panel_power_w(facing, sun) == pytest.approx(tracking.peak_w, rel=1e-12)
    away = SolarPanel(0.08, 0.28, tilt_deg=90.0, azimuth_deg=288.0)
    assert panel_power_w(away, sun) == 0.0
    side = SolarPanel(0.08, 0.28, tilt_deg=90.0, azimuth_deg=18.0)  # edge-on
    assert panel_power_w(side, sun) == pytest.approx(0.0, abs=1e-12)


def test_heading_turns_a_body_fixed_panel():
    panel = SolarPanel(0.1, 0.3, tilt_deg=40.0, azimuth_deg=0.0)
    turned = SolarPanel(0.1, 0.3, tilt_deg=40.0, azimuth_deg=90.0)
    sun = _sun(108.0, 20.0)
    assert panel_power_w(panel, sun, heading_deg=90.0) == pytest.approx(
        panel_power_w(turned, sun, heading_deg=0.0)
    )
    cos_i = math.cos(math.radians(40)) * math.sin(math.radians(20)) + math.sin(
        math.radians(40)
    ) * math.cos(math.radians(20)) * math.cos(math.radians(18))
    assert panel_power_w(turned, sun) == pytest.approx(turned.peak_w * cos_i)


def test_no_power_in_shadow_or_below_the_horizon():
    tracking = SolarPanel(0.08, 0.28, mode="tracking")
    assert panel_power_w(tracking, _sun(100.0, 10.0), lit=False) == 0.0
    assert panel_power_w(tracking, _sun(100.0, -0.1)) == 0.0
    # a panel tilted towards a Sun just below the horizon still gets nothing
    steep = SolarPanel(0.08, 0.28, tilt_deg=90.0, azimuth_deg=100.0)
    assert panel_power_w(steep, _sun(100.0, -0.5)) == 0.0
    series = SkyPosition(
        np.array(["2025-06-05T19:17"] * 3, "datetime64[us]"),
        np.array([100.0, 100.0, 100.0]),
        np.array([10.0, 10.0, -1.0]),
        np.full(3, AU_M),
    )
    watts = panel_power_w(tracking, series, lit=np.array([True, False, True]))
    np.testing.assert_allclose(watts, [tracking.peak_w, 0.0, 0.0])


def test_leg_energy_trapezoid_by_hand():
    tracking = SolarPanel(0.08, 0.28, mode="tracking")
    times = [TOUCHDOWN + dt.timedelta(minutes=10 * i) for i in range(7)]  # one hour
    lit = np.array([True, True, True, False, False, True, True])
    leg = leg_energy(tracking, times, *SITE, lit=lit)
    assert leg.duration_s == 3600.0
    w = leg.watts
    hand = sum(0.5 * (w[i] + w[i + 1]) * 600.0 for i in range(6)) / 3600.0
    assert leg.energy_wh == pytest.approx(hand)
    peak = tracking.peak_w * (AU_M / sun_position(*SITE, TOUCHDOWN).distance_m) ** 2
    # six 10-minute intervals: three wholly lit, two half (lit at one end), one dark
    assert leg.energy_wh == pytest.approx(peak * 40 / 60, rel=1e-4)
    assert leg.mean_w == pytest.approx(leg.energy_wh)  # one hour


def test_leg_energy_with_moving_rover():
    times = utc_range(TOUCHDOWN, days=1, step_h=1)
    lat = np.linspace(60.5, 60.6, times.size)
    lon = np.linspace(-4.6, -4.5, times.size)
    heading = np.full(times.size, 45.0)
    leg = leg_energy(PANEL, times, lat, lon, heading_deg=heading)
    still = leg_energy(PANEL, times, *SITE)
    assert leg.energy_wh == pytest.approx(still.energy_wh, rel=0.01)
    assert leg.energy_wh > 0
    # horizontal panel: energy equals the integral of peak * sin(el) * (1 AU / r)^2
    sun = sun_position(lat, lon, times)
    w = PANEL.peak_w * np.sin(np.radians(sun.elevation_deg)) * (AU_M / sun.distance_m) ** 2
    assert leg.energy_wh == pytest.approx(np.sum(0.5 * (w[1:] + w[:-1])) * 3600 / 3600)


def test_single_sample_leg():
    leg = leg_energy(PANEL, [TOUCHDOWN], *SITE)
    assert leg.energy_wh == 0.0
    assert leg.mean_w == pytest.approx(power_at(PANEL, *SITE, TOUCHDOWN))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"area_m2": 0.0, "efficiency": 0.3}, "area"),
        ({"area_m2": 0.1, "efficiency": 1.3}, "efficiency"),
        ({"area_m2": 0.1, "efficiency": 0.3, "tilt_deg": 95.0}, "tilt"),
        ({"area_m2": 0.1, "efficiency": 0.3, "azimuth_deg": float("inf")}, "azimuth"),
        ({"area_m2": 0.1, "efficiency": 0.3, "mode": "gimbal"}, "mode"),
    ],
)
def test_bad_panel_is_refused(kwargs, match):
    with pytest.raises(IlluminationError, match=match):
        SolarPanel(**kwargs)


def test_bad_leg_is_refused():
    times = [TOUCHDOWN, TOUCHDOWN + dt.timedelta(hours=1)]
    with pytest.raises(IlluminationError, match="increasing"):
        leg_energy(PANEL, times[::-1], *SITE)
    with pytest.raises(IlluminationError, match="lit"):
        leg_energy(PANEL, times, *SITE, lit=np.array([True, True, False]))
    with pytest.raises(IlluminationError, match="at least one"):
        leg_energy(PANEL, [], *SITE)
    with pytest.raises(EphemerisError, match="no time zone"):
        leg_energy(PANEL, [t.replace(tzinfo=None) for t in times], *SITE)
