"""Lander and rover specifications, loaded from TOML mission files.

The defaults for HAKUTO-R Mission 2 live in ``rover/data/resilience.toml`` and
``rover/data/tenacious.toml``: that is the one place where published and assumed values are
written, each with its source. Another lander or rover is another file, not a code change.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import sys
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from frigoris.terrain.hazard import HazardLimits, LanderSite
from frigoris.terrain.link import SHANNON_EBN0_DB, LinkBudget, receiver_sensitivity_dbm

from .errors import SpecError

BUILTIN = {"tenacious": "tenacious.toml", "resilience": "resilience.toml"}
BUILTIN_OPERATIONS = {"hakuto-r-m2": "operations.toml"}
"""Built-in operations specs (cadence, flight rules, ops simulation): name -> file."""

LUNAR_GRAVITY_M_S2 = 1.62
"""Surface gravity of the Moon (m/s^2)."""


def _load_table(
    source: str | pathlib.Path,
    table: str,
    *,
    builtin: dict[str, str] = BUILTIN,
    sources_table: str = "sources",
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read ``[table]`` and its sources table from a built-in name or a TOML path."""
    name = str(source)
    if name.lower() in builtin:
        text = resources.files("frigoris.rover.data").joinpath(builtin[name.lower()]).read_text()
        origin = f"built-in {name.lower()}"
    else:
        path = pathlib.Path(source)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise SpecError(
                f"spec file {name!r} {what}; give a TOML file or one of {sorted(builtin)}"
            )
        try:
            text, origin = path.read_text(encoding="utf-8"), str(path)
        except UnicodeDecodeError:
            raise SpecError(f"spec file {name!r} is not text; give a TOML file") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{origin} is not valid TOML ({err}); fix the file") from err
    if table not in doc:
        raise SpecError(f"{origin} has no [{table}] table; see rover/data/*.toml for the layout")
    return dict(doc[table]), dict(doc.get(sources_table, {}))


def _build(cls, values: dict[str, Any], sources: dict[str, str], origin: str):
    names = {f.name for f in dataclasses.fields(cls)} - {"sources"}
    unknown = sorted(set(values) - names)
    if unknown:
        raise SpecError(f"{origin}: unknown field(s) {unknown}; known fields: {sorted(names)}")
    missing = sorted(n for n in names if n not in values and _required(cls, n))
    if missing:
        raise SpecError(f"{origin}: missing field(s) {missing}")
    check_types(cls, values, origin)
    try:
        spec = cls(**values, sources=sources)
    except TypeError as err:
        raise SpecError(f"{origin}: {err}") from err
    spec.validate()
    return spec


_NUMBER_KINDS = {"float": "a number", "int": "a whole number"}


def check_types(cls, values: dict[str, Any], origin: str) -> None:
    """Raise SpecError naming the first value whose type does not match the field.

    Numbers must be finite (a spec of ``inf`` metres is a typo, not a limit); tuples of
    numbers are TOML arrays of finite numbers.
    """
    for f in dataclasses.fields(cls):
        if f.name not in values or f.name == "sources":
            continue
        v, kind = values[f.name], str(f.type)
        where = f"{origin}: {f.name} = {v!r}"
        if kind in _NUMBER_KINDS:
            ok = isinstance(v, int) if kind == "int" else isinstance(v, int | float)
            if isinstance(v, bool) or not ok or not math.isfinite(v):
                raise SpecError(f"{where} is not {_NUMBER_KINDS[kind]}; write {f.name} = <{kind}>")
        elif kind == "str":
            if not isinstance(v, str) or not v.strip():
                raise SpecError(f'{where} is not a name; write {f.name} = "..."')
        elif kind.startswith("tuple[float"):
            if not isinstance(v, list | tuple) or not all(
                isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                for x in v
            ):
                raise SpecError(f"{where} is not a list of numbers; write {f.name} = [90, 270]")


def _required(cls, name: str) -> bool:
    f = cls.__dataclass_fields__[name]
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _positive(spec, *names: str) -> None:
    for n in names:
        v = getattr(spec, n)
        if not (isinstance(v, int | float) and v > 0):
            raise SpecError(f"{type(spec).__name__} {spec.name}: {n} must be > 0, got {v!r}")


def _finite(spec, *names: str) -> None:
    for n in names:
        v = getattr(spec, n)
        if not (isinstance(v, int | float) and abs(v) < float("inf")):
            raise SpecError(f"{type(spec).__name__} {spec.name}: {n} must be a number, got {v!r}")


def _non_negative(spec, *names: str) -> None:
    for n in names:
        v = getattr(spec, n)
        if not (isinstance(v, int | float) and 0 <= v < float("inf")):
            raise SpecError(f"{type(spec).__name__} {spec.name}: {n} must be >= 0, got {v!r}")


@dataclass(frozen=True)
class RoverSpec:
    """A micro-rover: geometry, mobility limits, power and link (units in the names)."""

    name: str
    length_m: float
    width_m: float
    height_m: float
    mass_kg: float
    wheel_radius_m: float
    wheelbase_m: float
    clearance_m: float
    max_step_m: float
    max_slope_deg: float
    max_risk: float
    speed_m_s: float
    max_drive_per_command_m: float
    battery_wh: float
    battery_reserve_fraction: float
    drive_power_w: float
    idle_power_w: float
    panel_area_m2: float
    panel_efficiency: float
    panel_tilt_deg: float
    panel_azimuth_deg: float
    antenna_height_m: float
    radio_frequency_mhz: float
    tx_power_dbm: float
    antenna_gain_dbi: float
    rx_sensitivity_dbm: float
    radio_loss_db: float
    link_margin_db: float
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def validate(self) -> None:
        """Raise SpecError naming the first impossible value."""
        _positive(
            self,
            "length_m",
            "width_m",
            "height_m",
            "mass_kg",
            "wheel_radius_m",
            "wheelbase_m",
            "clearance_m",
            "max_step_m",
            "max_slope_deg",
            "max_risk",
            "speed_m_s",
            "max_drive_per_command_m",
            "battery_wh",
            "drive_power_w",
            "panel_area_m2",
            "panel_efficiency",
            "antenna_height_m",
            "radio_frequency_mhz",
        )
        _finite(self, "tx_power_dbm", "antenna_gain_dbi", "rx_sensitivity_dbm")
        _non_negative(self, "radio_loss_db", "link_margin_db")
        if not self.max_risk < 1:
            raise SpecError(
                f"rover {self.name}: max_risk is a probability below 1, got {self.max_risk}"
            )
        if not self.wheelbase_m <= self.length_m:
            raise SpecError(
                f"rover {self.name}: wheelbase_m {self.wheelbase_m} cannot exceed its length "
                f"{self.length_m} m"
            )
        if not 0 <= self.battery_reserve_fraction < 1:
            raise SpecError(
                f"battery_reserve_fraction must be in [0, 1), got {self.battery_reserve_fraction}"
            )
        if not self.max_slope_deg < 60:
            raise SpecError(f"max_slope_deg {self.max_slope_deg} is not a rover slope limit (< 60)")
        if self.panel_efficiency > 0.5:
            raise SpecError(
                f"panel_efficiency {self.panel_efficiency} above 0.5 is not a solar cell"
            )

    @classmethod
    def load(cls, source: str | pathlib.Path = "tenacious") -> RoverSpec:
        """Load from a built-in name (``"tenacious"``) or a TOML file with a ``[rover]`` table."""
        values, sources = _load_table(source, "rover")
        return _build(cls, values, sources, str(source))

    @property
    def footprint_m(self) -> float:
        """The rover's length (the side of its footprint along its heading)."""
        return self.length_m

    @property
    def footprint_area_m2(self) -> float:
        """Ground the rover covers: length x width."""
        return self.length_m * self.width_m

    @property
    def half_diagonal_m(self) -> float:
        """Radius of the circle that holds the rover in any heading (configuration space)."""
        return 0.5 * (self.length_m**2 + self.width_m**2) ** 0.5

    def assumptions(self) -> dict[str, str]:
        """Fields whose value is assumed, with the reason."""
        return {k: v for k, v in self.sources.items() if v.startswith("assumed")}


@dataclass(frozen=True)
class LanderSpec:
    """A legged lander: geometry, stability and deployment limits (units in the names)."""

    name: str
    height_m: float
    width_m: float
    legs: int
    pad_circle_radius_m: float
    pad_radius_m: float
    body_radius_m: float
    body_clearance_m: float
    deck_height_m: float
    antenna_height_m: float
    tx_power_dbm: float
    antenna_gain_dbi: float
    rx_sensitivity_dbm: float
    radio_loss_db: float
    touchdown_mass_kg: float
    max_thrust_n: float
    max_tilt_stable_deg: float
    max_tilt_deploy_deg: float
    max_vertical_speed_m_s: float
    max_horizontal_speed_m_s: float
    deploy_sides_deg: tuple[float, ...]
    deploy_distance_m: float
    deploy_footprint_m: float
    plume_radius_m: float
    checkout_h: float
    # propellant budget and terminal stage of the descent simulation (rover.descent); None in a
    # lander file that does not give them: the descent then refuses to run, naming the field
    launch_mass_kg: float | None = None
    dry_mass_kg: float | None = None
    payload_mass_kg: float | None = None
    isp_s: float | None = None
    predescent_delta_v_m_s: float | None = None
    min_throttle: float | None = None
    terminal_thrust_n: float | None = None
    terminal_gate_m: float | None = None
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    DESCENT_FIELDS = (
        "launch_mass_kg",
        "dry_mass_kg",
        "payload_mass_kg",
        "isp_s",
        "predescent_delta_v_m_s",
        "min_throttle",
        "terminal_thrust_n",
        "terminal_gate_m",
    )
    """Fields the descent simulation needs (optional for everything else)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "deploy_sides_deg", tuple(float(s) for s in self.deploy_sides_deg))

    def validate(self) -> None:
        """Raise SpecError naming the first impossible value."""
        _positive(
            self,
            "height_m",
            "width_m",
            "pad_circle_radius_m",
            "pad_radius_m",
            "body_clearance_m",
            "antenna_height_m",
            "touchdown_mass_kg",
            "max_tilt_stable_deg",
            "max_tilt_deploy_deg",
            "max_vertical_speed_m_s",
            "max_horizontal_speed_m_s",
            "deploy_distance_m",
            "deploy_footprint_m",
            "plume_radius_m",
            "body_radius_m",
            "max_thrust_n",
        )
        _finite(self, "tx_power_dbm", "antenna_gain_dbi", "rx_sensitivity_dbm")
        _non_negative(self, "radio_loss_db")
        if not (isinstance(self.checkout_h, int | float) and self.checkout_h >= 0):
            raise SpecError(
                f"lander {self.name}: checkout_h must be >= 0 hours, got {self.checkout_h!r}"
            )
        if not self.pad_radius_m < self.pad_circle_radius_m:
            raise SpecError(
                f"lander {self.name}: pad_radius_m {self.pad_radius_m} must be smaller "
                f"than pad_circle_radius_m {self.pad_circle_radius_m}"
            )
        if not self.deploy_distance_m > self.body_radius_m:
            raise SpecError(
                f"lander {self.name}: deploy_distance_m {self.deploy_distance_m} must "
                f"exceed body_radius_m {self.body_radius_m} (set-down outside the body)"
            )
        if self.max_thrust_n <= self.touchdown_mass_kg * LUNAR_GRAVITY_M_S2:
            raise SpecError(
                f"lander {self.name}: max_thrust_n {self.max_thrust_n} cannot hold "
                f"{self.touchdown_mass_kg} kg against lunar gravity (1.62 m/s^2)"
            )
        if self.legs < 3:
            raise SpecError(f"lander {self.name}: needs at least 3 legs, got {self.legs}")
        if not self.deploy_sides_deg:
            raise SpecError(
                f"lander {self.name}: deploy_sides_deg is empty; give at least one side"
            )
        if self.max_tilt_deploy_deg > self.max_tilt_stable_deg:
            raise SpecError("max_tilt_deploy_deg cannot exceed max_tilt_stable_deg")
        self._validate_descent()

    def _validate_descent(self) -> None:
        given = {n: getattr(self, n) for n in self.DESCENT_FIELDS if getattr(self, n) is not None}
        for n, v in given.items():
            if not (isinstance(v, int | float) and not isinstance(v, bool) and v >= 0):
                raise SpecError(f"lander {self.name}: {n} must be a number >= 0, got {v!r}")
        if "min_throttle" in given and not given["min_throttle"] < 1:
            raise SpecError(
                f"lander {self.name}: min_throttle {given['min_throttle']} must be below 1 "
                "(a fraction of the maximum thrust)"
            )
        masses = ("launch_mass_kg", "dry_mass_kg", "payload_mass_kg")
        if all(m in given for m in masses) and not (
            given["dry_mass_kg"] + given["payload_mass_kg"] < given["launch_mass_kg"]
        ):
            raise SpecError(
                f"lander {self.name}: dry_mass_kg + payload_mass_kg "
                f"({given['dry_mass_kg'] + given['payload_mass_kg']:g} kg) leave no propellant "
                f"in launch_mass_kg {given['launch_mass_kg']:g}"
            )

    def descent_missing(self) -> list[str]:
        """Descent fields this spec does not give (empty when the descent can run)."""
        return [n for n in self.DESCENT_FIELDS if getattr(self, n) is None]

    @classmethod
    def load(cls, source: str | pathlib.Path = "resilience") -> LanderSpec:
        """Load from a built-in name (``"resilience"``) or a TOML file with a ``[lander]`` table."""
        values, sources = _load_table(source, "lander")
        return _build(cls, values, sources, str(source))

    def assumptions(self) -> dict[str, str]:
        """Fields whose value is assumed, with the reason."""
        return {k: v for k, v in self.sources.items() if v.startswith("assumed")}


TENACIOUS = RoverSpec.load("tenacious")
RESILIENCE = LanderSpec.load("resilience")


def link_budget(rover: RoverSpec, lander: LanderSpec) -> LinkBudget:
    """The radio budget between a lander and its rover (the rover's band).

    Examples
    --------
    >>> round(link_budget(TENACIOUS, RESILIENCE).budget_db(), 1)
    114.0
    """
    return LinkBudget(
        frequency_mhz=rover.radio_frequency_mhz,
        lander_tx_power_dbm=lander.tx_power_dbm,
        lander_antenna_gain_dbi=lander.antenna_gain_dbi,
        lander_rx_sensitivity_dbm=lander.rx_sensitivity_dbm,
        lander_loss_db=lander.radio_loss_db,
        rover_tx_power_dbm=rover.tx_power_dbm,
        rover_antenna_gain_dbi=rover.antenna_gain_dbi,
        rover_rx_sensitivity_dbm=rover.rx_sensitivity_dbm,
        rover_loss_db=rover.radio_loss_db,
        required_margin_db=rover.link_margin_db,
    )


def check_radio_rate(rover: RoverSpec, lander: LanderSpec, ops: OpsSpec) -> None:
    """Refuse a receiver more sensitive than physics allows at the radio's data rate.

    No receiver decodes ``ops.rover_to_lander_bit_s`` below the thermal noise of a noise-free
    front end (kT at 290 K) with Shannon's limit of energy per bit (-1.59 dB): a sensitivity
    below that floor is a typing error or a rate from another radio.

    Raises
    ------
    SpecError
        Naming the spec, the value, the floor and the fix.

    Examples
    --------
    >>> check_radio_rate(TENACIOUS, RESILIENCE, OpsSpec.load())
    """
    rate = ops.rover_to_lander_bit_s
    floor = receiver_sensitivity_dbm(rate, 0.0, SHANNON_EBN0_DB)
    for table, spec in (("rover", rover), ("lander", lander)):
        if spec.rx_sensitivity_dbm < floor:
            raise SpecError(
                f"[{table}] rx_sensitivity_dbm = {spec.rx_sensitivity_dbm:g} is below the thermal "
                f"limit of {floor:.1f} dBm at [operations] rover_to_lander_bit_s = {rate:g} (a "
                "noise-free receiver at Shannon's limit); give at least that, or a lower rate"
            )


def hazard_limits(rover: RoverSpec, lander: LanderSpec | None = None) -> HazardLimits:
    """The hazard-map limits a rover spec implies (footprint, clearance, slope/step, link).

    ``lander`` supplies the lander's end of the link budget (default Resilience).

    Examples
    --------
    >>> limits = hazard_limits(TENACIOUS)
    >>> limits.max_slope_deg, limits.wheelbase_m
    (15.0, 0.42)
    """
    return HazardLimits(
        max_slope_deg=rover.max_slope_deg,
        max_step_m=rover.max_step_m,
        clearance_m=rover.clearance_m,
        wheelbase_m=rover.wheelbase_m,
        footprint_area_m2=rover.footprint_area_m2,
        rover_radius_m=rover.half_diagonal_m,
        max_risk=rover.max_risk,
        rover_antenna_height_m=rover.antenna_height_m,
        link=link_budget(rover, lander if lander is not None else RESILIENCE),
    )


def lander_site(lander: LanderSpec, x: float, y: float) -> LanderSite:
    """Where a lander stands, as the hazard map needs it (footprint keep-out, antenna height).

    Examples
    --------
    >>> site = lander_site(RESILIENCE, 10.0, -5.0)
    >>> site.x, site.y, site.antenna_height_m
    (10.0, -5.0, 2.3)
    """
    return LanderSite(
        x=float(x),
        y=float(y),
        footprint_radius_m=lander.pad_circle_radius_m + lander.pad_radius_m,
        antenna_height_m=lander.antenna_height_m,
    )


def _in_range(spec, name: str, lo: float, hi: float, *, lo_open: bool = False) -> None:
    v = getattr(spec, name)
    below = v <= lo if lo_open else v < lo
    if below or v > hi:
        span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise SpecError(f"{type(spec).__name__} {spec.name}: {name} = {v!r} is outside {span}")


@dataclass(frozen=True)
class OpsSpec:
    """How the ground commands the rover: the command cycle, its windows and the flight rules.

    A command cycle: the rover drives and takes ``nav_images_per_cycle`` navigation images; they
    reach Earth at the slower of the rover-to-lander and lander-to-Earth rates; the ground
    spends ``ground_processing_s`` on them; the next command is uplinked. The ground's work
    counts only inside the commanding window: the part of each Earth day when a shift is on
    console (``shifts_per_day`` x ``shift_h`` from ``first_shift_utc_h``) and the lander
    relays (``relay_h`` from ``relay_start_utc_h``).
    """

    name: str
    nav_images_per_cycle: int
    nav_image_px: float
    nav_bits_per_px: float
    science_image_px: float
    science_bits_per_px: float
    science_images_scoop: int
    science_images_crater: int
    science_images_boulder: int
    science_images_moonhouse: int
    science_images_target: int
    rover_to_lander_bit_s: float
    lander_to_earth_bit_s: float
    uplink_bits_per_cycle: float
    uplink_bit_s: float
    light_time_s: float
    ground_processing_s: float
    shifts_per_day: int
    shift_h: float
    first_shift_utc_h: float
    relay_start_utc_h: float
    relay_h: float
    min_sun_elevation_deg: float
    max_cycle_risk: float
    min_link_margin_db: float
    nav_camera_range_m: float
    nav_camera_fov_deg: float
    lander_camera_height_m: float
    lander_camera_fov_deg: float
    moonhouse_height_m: float
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def validate(self) -> None:
        """Raise SpecError naming the first impossible value."""
        _positive(
            self,
            "nav_image_px",
            "nav_bits_per_px",
            "science_image_px",
            "science_bits_per_px",
            "rover_to_lander_bit_s",
            "lander_to_earth_bit_s",
            "uplink_bits_per_cycle",
            "uplink_bit_s",
            "shift_h",
            "relay_h",
            "nav_camera_range_m",
            "lander_camera_height_m",
            "moonhouse_height_m",
        )
        for n in (
            "nav_images_per_cycle",
            "science_images_scoop",
            "science_images_crater",
            "science_images_boulder",
            "science_images_moonhouse",
            "science_images_target",
            "light_time_s",
            "ground_processing_s",
        ):
            _in_range(self, n, 0.0, 1e9)
        _in_range(self, "shifts_per_day", 1, 24)
        _in_range(self, "first_shift_utc_h", 0.0, 24.0)
        _in_range(self, "relay_start_utc_h", 0.0, 24.0)
        _in_range(self, "relay_h", 0.0, 24.0, lo_open=True)
        _in_range(self, "min_sun_elevation_deg", -10.0, 60.0)
        _in_range(self, "max_cycle_risk", 0.0, 1.0, lo_open=True)
        _in_range(self, "min_link_margin_db", -100.0, 100.0)
        _in_range(self, "nav_camera_fov_deg", 0.0, 360.0, lo_open=True)
        _in_range(self, "lander_camera_fov_deg", 0.0, 360.0, lo_open=True)
        if self.shifts_per_day * self.shift_h > 24.0:
            raise SpecError(
                f"OpsSpec {self.name}: {self.shifts_per_day} shifts of {self.shift_h:g} h do not "
                "fit in an Earth day; lower shifts_per_day or shift_h"
            )
        _ = self.commanding_window_utc_h  # raises when shifts and relay do not meet once a day

    @classmethod
    def load(cls, source: str | pathlib.Path = "hakuto-r-m2") -> OpsSpec:
        """Load a built-in name (``"hakuto-r-m2"``) or a TOML file with ``[operations]``."""
        values, sources = _load_table(source, "operations", builtin=BUILTIN_OPERATIONS)
        return _build(cls, values, sources, str(source))

    def assumptions(self) -> dict[str, str]:
        """Fields whose value is assumed, with the reason."""
        return {k: v for k, v in self.sources.items() if v.startswith("assumed")}

    @property
    def link_bit_s(self) -> float:
        """Data rate from the rover to the ground: the slower of its two hops."""
        return min(self.rover_to_lander_bit_s, self.lander_to_earth_bit_s)

    @property
    def nav_bits(self) -> float:
        """Bits of navigation images per command cycle."""
        return self.nav_images_per_cycle * self.nav_image_px * self.nav_bits_per_px

    def science_bits(self, kind: str) -> float:
        """Bits of the images taken at a stop of ``kind`` (0 for the start)."""
        n = getattr(self, f"science_images_{kind}", 0)
        return float(n) * self.science_image_px * self.science_bits_per_px

    @property
    def uplink_s(self) -> float:
        """Time to send one command file, light time included."""
        return self.uplink_bits_per_cycle / self.uplink_bit_s + self.light_time_s

    @property
    def commanding_window_utc_h(self) -> tuple[float, float]:
        """(start hour UTC, length h) of the daily commanding window.

        The part of each Earth day when a shift is on console and the lander relays.

        Raises
        ------
        SpecError
            The shifts and the relay window never meet, or meet in two pieces a day.
        """
        ground = (self.first_shift_utc_h % 24.0, self.shifts_per_day * self.shift_h)
        relay = (self.relay_start_utc_h % 24.0, self.relay_h)
        if relay[1] >= 24.0:
            return ground if ground[1] < 24.0 else (0.0, 24.0)
        if ground[1] >= 24.0:
            return relay
        d = (relay[0] - ground[0]) % 24.0
        pieces = []
        if d < ground[1]:
            pieces.append((d, min(d + relay[1], ground[1])))
        if d + relay[1] > 24.0:
            pieces.append((0.0, min(d + relay[1] - 24.0, ground[1])))
        pieces = [p for p in pieces if p[1] > p[0]]
        if not pieces:
            raise SpecError(
                f"OpsSpec {self.name}: the ground shifts ({ground[0]:g} h UTC, {ground[1]:g} h) "
                f"and the lander's relay window ({relay[0]:g} h UTC, {relay[1]:g} h) never "
                "overlap: no command could ever be sent; move first_shift_utc_h or "
                "relay_start_utc_h"
            )
        if len(pieces) > 1:
            raise SpecError(
                f"OpsSpec {self.name}: the ground shifts and the lander's relay window overlap "
                "twice a day; frigoris plans one commanding window a day: align them"
            )
        (a, b) = pieces[0]
        return ((ground[0] + a) % 24.0, b - a)


@dataclass(frozen=True)
class SimSpec:
    """What the closed-loop operations simulation degrades and perturbs (units in the names).

    The planner sees an orbital DTM: the site averaged to ``orbital_post_m`` posts, with a
    vertical error of ``orbital_sigma_m`` per post correlated over ``orbital_corr_posts``
    posts. Execution slips (``slip_mean`` +- ``slip_sd`` of the commanded distance, plus
    ``slip_per_deg`` per degree of slope) and turns off heading by ``heading_sd_deg`` per
    segment; the ground re-localises the rover once per Earth day to ``relocalise_sd_m``. The
    rover meets a hazard where, centred, its footprint truly exceeds ``hazard_slope_deg`` or
    ``hazard_step_m``: what it cannot drive, not the margins it plans with.
    """

    name: str
    orbital_post_m: float
    orbital_sigma_m: float
    orbital_corr_posts: float
    slip_mean: float
    slip_sd: float
    slip_per_deg: float
    heading_sd_deg: float
    relocalise_sd_m: float
    hazard_slope_deg: float
    hazard_step_m: float
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def validate(self) -> None:
        """Raise SpecError naming the first impossible value."""
        _positive(self, "orbital_post_m", "orbital_corr_posts", "hazard_step_m")
        _in_range(self, "hazard_slope_deg", 0.0, 90.0, lo_open=True)
        _in_range(self, "orbital_sigma_m", 0.0, 100.0)
        _in_range(self, "slip_mean", 0.0, 0.9)
        _in_range(self, "slip_sd", 0.0, 1.0)
        _in_range(self, "slip_per_deg", 0.0, 0.1)
        _in_range(self, "heading_sd_deg", 0.0, 45.0)
        _in_range(self, "relocalise_sd_m", 0.0, 100.0)

    @classmethod
    def load(cls, source: str | pathlib.Path = "hakuto-r-m2") -> SimSpec:
        """Load the ``[sim]`` table of an operations file (built-in name or TOML path)."""
        values, sources = _load_table(
            source, "sim", builtin=BUILTIN_OPERATIONS, sources_table="sim_sources"
        )
        values.setdefault("name", str(source))
        return _build(cls, values, sources, str(source))

    def assumptions(self) -> dict[str, str]:
        """Fields whose value is assumed, with the reason."""
        return {k: v for k, v in self.sources.items() if v.startswith("assumed")}


OPERATIONS = OpsSpec.load("hakuto-r-m2")
"""The built-in operations of HAKUTO-R Mission 2 (``rover/data/operations.toml``)."""
