"""Lander and rover specs: built-ins, custom TOML files, bad values named."""

from __future__ import annotations

import dataclasses
import math
import re
from importlib import resources

import pytest

from frigoris.rover.errors import RoverError, SpecError
from frigoris.rover.specs import (
    RESILIENCE,
    TENACIOUS,
    LanderSpec,
    OpsSpec,
    RoverSpec,
    check_radio_rate,
    hazard_limits,
    lander_site,
)
from frigoris.terrain.link import SHANNON_EBN0_DB, receiver_sensitivity_dbm


def _builtin_text(name: str) -> str:
    return resources.files("frigoris.rover.data").joinpath(f"{name}.toml").read_text()


def _edit(text: str, key: str, value: str) -> str:
    """Replace ``key = ...`` in the first table of a TOML text."""
    new, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
    assert n == 1, key
    return new


def test_builtins_carry_the_published_mission_2_figures():
    assert RESILIENCE.name == "Resilience"
    assert RESILIENCE.legs == 4
    assert RESILIENCE.height_m == 2.3
    assert 2.5 <= RESILIENCE.width_m <= 2.6
    assert RESILIENCE.plume_radius_m == 20.0
    assert TENACIOUS.name == "Tenacious"
    assert (TENACIOUS.length_m, TENACIOUS.width_m, TENACIOUS.height_m) == (0.54, 0.315, 0.26)
    assert TENACIOUS.mass_kg == 5.0
    assert LanderSpec.load() == RESILIENCE
    assert RoverSpec.load("TENACIOUS") == TENACIOUS


@pytest.mark.parametrize("cls, name", [(LanderSpec, "resilience"), (RoverSpec, "tenacious")])
def test_every_builtin_field_names_its_source(cls, name):
    spec = cls.load(name)
    fields = {f.name for f in dataclasses.fields(cls)} - {"sources"}
    assert set(spec.sources) == fields
    for key, source in spec.sources.items():
        assert source.split(":")[0] in ("published", "assumed", "published practice"), key
    # the assumed ones are the ones DOMAIN.md says are not published
    assumed = spec.assumptions()
    if cls is LanderSpec:
        assert {"pad_circle_radius_m", "max_thrust_n", "body_radius_m", "checkout_h"} <= set(
            assumed
        )
        assert "height_m" not in assumed
    else:
        assert {"wheel_radius_m", "speed_m_s", "tx_power_dbm", "max_risk"} <= set(assumed)
        assert "length_m" not in assumed


def test_custom_lander_toml_is_a_file_not_a_code_change(tmp_path):
    text = _builtin_text("resilience")
    text = _edit(text, "name", '"Tripod"')
    text = _edit(text, "legs", "3")
    text = _edit(text, "pad_circle_radius_m", "1.6")
    text = _edit(text, "deploy_sides_deg", "[180.0]")
    path = tmp_path / "tripod.toml"
    path.write_text(text)
    spec = LanderSpec.load(path)
    assert spec.name == "Tripod"
    assert spec.legs == 3
    assert spec.pad_circle_radius_m == 1.6
    assert spec.deploy_sides_deg == (180.0,)
    assert spec.sources["legs"].startswith("published")  # sources come along from the file


def test_custom_rover_toml(tmp_path):
    path = tmp_path / "rover.toml"
    path.write_text(
        _edit(_edit(_builtin_text("tenacious"), "name", '"Slowpoke"'), "speed_m_s", "0.01")
    )
    spec = RoverSpec.load(str(path))
    assert (spec.name, spec.speed_m_s) == ("Slowpoke", 0.01)
    limits = hazard_limits(spec)
    assert limits.max_slope_deg == spec.max_slope_deg
    assert limits.rover_radius_m == pytest.approx(0.5 * (0.54**2 + 0.315**2) ** 0.5)


def test_builtin_sensitivities_follow_the_radio_rate():
    """Each receiver's sensitivity is what its source line derives from the operations rate."""
    rate = OpsSpec.load().rover_to_lander_bit_s
    # -174 dBm/Hz + 5 dB noise figure + 10 log10(rate) + 10.5 dB Eb/N0, rounded up to a dB
    need = receiver_sensitivity_dbm(rate, 5.0, 10.5)
    for spec in (TENACIOUS, RESILIENCE):
        assert spec.rx_sensitivity_dbm == math.ceil(need)
        assert f"{need:.1f} dBm" in spec.sources["rx_sensitivity_dbm"]


def test_a_receiver_beyond_the_thermal_limit_is_refused():
    ops = OpsSpec.load()  # 256 kbit/s: the floor is -174.0 + 54.1 - 1.6 = -121.5 dBm
    floor = receiver_sensitivity_dbm(ops.rover_to_lander_bit_s, 0.0, SHANNON_EBN0_DB)
    assert floor == pytest.approx(-121.48, abs=0.01)
    check_radio_rate(dataclasses.replace(TENACIOUS, rx_sensitivity_dbm=floor), RESILIENCE, ops)
    with pytest.raises(SpecError, match=r"\[rover\] rx_sensitivity_dbm = -121.6 is below"):
        check_radio_rate(dataclasses.replace(TENACIOUS, rx_sensitivity_dbm=-121.6), RESILIENCE, ops)
    with pytest.raises(SpecError, match=r"\[lander\] rx_sensitivity_dbm = -125 is below"):
        check_radio_rate(TENACIOUS, dataclasses.replace(RESILIENCE, rx_sensitivity_dbm=-125.0), ops)
    # the same receiver is fine at a hundredth of the rate
    slow = dataclasses.replace(ops, rover_to_lander_bit_s=2560.0)
    check_radio_rate(dataclasses.replace(TENACIOUS, rx_sensitivity_dbm=-125.0), RESILIENCE, slow)


def test_lander_site_keepout_covers_the_pads():
    site = lander_site(RESILIENCE, 3.0, -4.0)
    assert (site.x, site.y) == (3.0, -4.0)
    assert site.footprint_radius_m == pytest.approx(
        RESILIENCE.pad_circle_radius_m + RESILIENCE.pad_radius_m
    )
    assert site.antenna_height_m == RESILIENCE.antenna_height_m


@pytest.mark.parametrize(
    "table, key, value, message",
    [
        ("resilience", "pad_radius_m", "-0.1", "pad_radius_m"),
        ("resilience", "max_tilt_deploy_deg", "30.0", "max_tilt_deploy_deg"),
        ("resilience", "legs", "2", "at least 3 legs"),
        ("resilience", "deploy_sides_deg", "[]", "deploy_sides_deg"),
        ("resilience", "pad_radius_m", "1.5", "pad_radius_m"),
        ("resilience", "max_thrust_n", "500.0", "max_thrust_n"),
        ("resilience", "checkout_h", "-1.0", "checkout_h"),
        ("resilience", "body_radius_m", "2.0", "deploy_distance_m"),
        ("resilience", "plume_radius_m", '"far"', "plume_radius_m"),
        ("tenacious", "panel_efficiency", "0.9", "panel_efficiency"),
        ("tenacious", "max_slope_deg", "75.0", "max_slope_deg"),
        ("tenacious", "battery_reserve_fraction", "1.0", "battery_reserve_fraction"),
        ("tenacious", "speed_m_s", "0", "speed_m_s"),
    ],
)
def test_bad_values_raise_spec_error_naming_the_field(tmp_path, table, key, value, message):
    path = tmp_path / "bad.toml"
    path.write_text(_edit(_builtin_text(table), key, value))
    cls = LanderSpec if table == "resilience" else RoverSpec
    with pytest.raises(SpecError, match=message):
        cls.load(path)


def test_unknown_and_missing_fields_are_named(tmp_path):
    path = tmp_path / "extra.toml"
    path.write_text(_builtin_text("resilience").replace("legs = 4\n", "legs = 4\nwings = 2\n", 1))
    with pytest.raises(SpecError, match=r"unknown field\(s\) \['wings'\]"):
        LanderSpec.load(path)
    path.write_text(re.sub(r"(?m)^max_thrust_n = .*\n", "", _builtin_text("resilience"), count=1))
    with pytest.raises(SpecError, match=r"missing field\(s\) \['max_thrust_n'\]"):
        LanderSpec.load(path)


def test_file_problems_are_spec_errors(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        LanderSpec.load(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[lander\nname = 1")
    with pytest.raises(SpecError, match="not valid TOML"):
        LanderSpec.load(broken)
    rover_only = tmp_path / "rover_only.toml"
    rover_only.write_text(_builtin_text("tenacious"))
    with pytest.raises(SpecError, match=r"no \[lander\] table"):
        LanderSpec.load(rover_only)


def test_spec_error_is_a_value_error_and_a_rover_error():
    assert issubclass(SpecError, ValueError)
    assert issubclass(SpecError, RoverError)
