"""Solar panel power on the Moon: watts at a time and place, energy over a drive leg.

``watts = S * (1 AU / r)^2 * area * efficiency * max(cos(incidence), 0) * lit``, with
``S = 1361 W/m^2`` (total solar irradiance at 1 AU, Kopp & Lean 2011), ``r`` the Sun's distance
from the ephemeris (the Sun-Moon distance changes irradiance by about +-3.4 % over a year), and
the incidence angle between the panel normal and the Sun. No atmosphere, no dust, no
temperature derating: ``efficiency`` is the whole chain from sunlight to usable watts. The Sun is
a point: it gives no power at or below 0 deg elevation, nor where ``lit`` says it is hidden.

Panel values for a given rover belong to its spec (e.g. ``rover.specs``), not here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from .errors import IlluminationError
from .sky import AU_M, SkyPosition, When, _as_datetime64, _posix_seconds, sun_position

SOLAR_CONSTANT_W_M2 = 1361.0
"""Total solar irradiance at 1 AU, W/m^2 (Kopp & Lean 2011)."""

PanelMode = Literal["fixed", "tracking"]
PANEL_MODES: tuple[str, ...] = get_args(PanelMode)


@dataclass(frozen=True)
class SolarPanel:
    """A flat solar panel on a rover or lander.

    Parameters
    ----------
    area_m2 : float
        Active cell area, m^2 (> 0).
    efficiency : float
        Sunlight to usable electrical power, in (0, 1].
    tilt_deg : float
        Angle of the panel normal from the vertical, degrees in [0, 90]; 0 = horizontal, facing
        up. Ignored when ``mode == "tracking"``.
    azimuth_deg : float
        Direction the tilted panel faces, degrees clockwise from the vehicle's forward direction
        (its heading); with heading 0 this is from north. Ignored for ``tilt_deg == 0``.
    mode : {"fixed", "tracking"}
        ``"fixed"``: the normal is fixed to the vehicle. ``"tracking"``: the panel always faces
        the Sun (an upper bound).

    Notes
    -----
    The vehicle is assumed level: its tilt on slopes is not applied to the panel.
    """

    area_m2: float
    efficiency: float
    tilt_deg: float = 0.0
    azimuth_deg: float = 0.0
    mode: PanelMode = "fixed"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.area_m2) and self.area_m2 > 0):
            raise IlluminationError(f"panel area_m2 must be > 0, got {self.area_m2!r}")
        if not (math.isfinite(self.efficiency) and 0 < self.efficiency <= 1):
            raise IlluminationError(f"panel efficiency must be in (0, 1], got {self.efficiency!r}")
        if not (math.isfinite(self.tilt_deg) and 0 <= self.tilt_deg <= 90):
            raise IlluminationError(f"panel tilt_deg must be in [0, 90], got {self.tilt_deg!r}")
        if not math.isfinite(self.azimuth_deg):
            raise IlluminationError(f"panel azimuth_deg must be finite, got {self.azimuth_deg!r}")
        if self.mode not in PANEL_MODES:
            raise IlluminationError(
                f"panel mode {self.mode!r} is not one of {', '.join(PANEL_MODES)}"
            )

    @property
    def peak_w(self) -> float:
        """Watts with the Sun square on the panel at 1 AU."""
        return SOLAR_CONSTANT_W_M2 * self.area_m2 * self.efficiency

    def normal_enu(self, heading_deg: float | np.ndarray = 0.0) -> np.ndarray:
        """Return the unit normal in the local (east, north, up) frame, shape (..., 3)."""
        az = np.radians(np.asarray(heading_deg, dtype=np.float64) + self.azimuth_deg)
        tilt = math.radians(self.tilt_deg)
        return np.stack(
            [np.sin(az) * math.sin(tilt), np.cos(az) * math.sin(tilt),
             np.full(np.shape(az), math.cos(tilt))],
            axis=-1,
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class LegEnergy:
    """Solar energy collected over a sequence of time samples (a drive leg).

    Attributes
    ----------
    times : ndarray of datetime64[us], shape (T,)
    watts : ndarray of shape (T,)
        Power at each sample.
    energy_wh : float
        Trapezoid integral of ``watts`` over time, watt-hours.
    duration_s : float
        Last minus first sample, seconds.
    """

    times: np.ndarray
    watts: np.ndarray
    energy_wh: float
    duration_s: float

    @property
    def mean_w(self) -> float:
        """Average power over the leg (the first sample's power for a single sample)."""
        if self.duration_s <= 0:
            return float(self.watts[0]) if self.watts.size else 0.0
        return self.energy_wh * 3600.0 / self.duration_s


def irradiance_w_m2(sun_distance_m: float | np.ndarray) -> float | np.ndarray:
    """Solar irradiance at a distance from the Sun, W/m^2."""
    return SOLAR_CONSTANT_W_M2 * (AU_M / np.asarray(sun_distance_m, dtype=np.float64)) ** 2


def panel_power_w(
    panel: SolarPanel,
    sun: SkyPosition,
    *,
    lit: bool | np.ndarray = True,
    heading_deg: float | np.ndarray = 0.0,
) -> float | np.ndarray:
    """Electrical power of ``panel`` for a Sun position (or a series of them).

    Parameters
    ----------
    panel : SolarPanel
    sun : SkyPosition
        From :func:`terrain.sun_position` (true azimuth; give ``heading_deg`` from true north).
    lit : bool or ndarray of bool
        False where terrain or the lander hides the Sun (e.g. from ``HorizonMap.lit_at``).
    heading_deg : float or ndarray
        Vehicle heading, degrees clockwise from north (only matters for a tilted fixed panel).

    Returns
    -------
    float or ndarray
        Watts, >= 0; same shape as the sun's fields.
    """
    el = np.asarray(sun.elevation_deg, dtype=np.float64)
    irr = irradiance_w_m2(sun.distance_m)
    if panel.mode == "tracking":
        cos_i = np.ones_like(el)
    else:
        cos_i = np.sum(sun.direction_enu * panel.normal_enu(heading_deg), axis=-1)
    watts = irr * panel.area_m2 * panel.efficiency * np.clip(cos_i, 0.0, None)
    watts = np.where((el > 0.0) & np.asarray(lit, dtype=bool), watts, 0.0)
    return float(watts) if np.ndim(watts) == 0 else watts


def power_at(
    panel: SolarPanel,
    lat_deg: float | np.ndarray,
    lon_deg: float | np.ndarray,
    when: When,
    *,
    lit: bool | np.ndarray = True,
    heading_deg: float | np.ndarray = 0.0,
) -> float | np.ndarray:
    """Watts from ``panel`` at a selenographic place and time (see :func:`panel_power_w`).

    Examples
    --------
    >>> import datetime as dt
    >>> panel = SolarPanel(area_m2=0.1, efficiency=0.25)
    >>> t = dt.datetime(2025, 6, 5, 19, 17, tzinfo=dt.timezone.utc)
    >>> round(power_at(panel, 60.5, -4.6, t), 1)  # horizontal panel, sun at 11.9 deg
    6.8
    """
    return panel_power_w(
        panel, sun_position(lat_deg, lon_deg, when), lit=lit, heading_deg=heading_deg
    )


def leg_energy(
    panel: SolarPanel,
    when: When,
    lat_deg: float | np.ndarray,
    lon_deg: float | np.ndarray,
    *,
    lit: bool | np.ndarray = True,
    heading_deg: float | np.ndarray = 0.0,
) -> LegEnergy:
    """Energy collected over a drive leg sampled in time, each sample with its own Sun and shade.

    Parameters
    ----------
    panel : SolarPanel
    when : sequence of aware datetimes or datetime64 array, shape (T,)
        Sample times in increasing order.
    lat_deg, lon_deg : float or ndarray of shape (T,)
        Rover position at each sample (or one place).
    lit : bool or ndarray of shape (T,)
        Whether the Sun is visible from the rover at each sample.
    heading_deg : float or ndarray of shape (T,)
        Rover heading at each sample.

    Returns
    -------
    LegEnergy
        Watts per sample and their trapezoid integral.

    Raises
    ------
    EphemerisError
        Bad times or places.
    IlluminationError
        Times not increasing, or ``lit``/``heading_deg`` not matching the samples.
    """
    posix_s, _ = _posix_seconds(when)
    if posix_s.size == 0:
        raise IlluminationError("a leg needs at least one time sample")
    if np.any(np.diff(posix_s) < 0):
        raise IlluminationError("leg times must be in increasing order")
    for name, value in (("lit", lit), ("heading_deg", heading_deg)):
        if np.ndim(value) and np.shape(value) != posix_s.shape:
            raise IlluminationError(
                f"{name} has shape {np.shape(value)}, expected one per time {posix_s.shape}"
            )
    times = _as_datetime64(posix_s)
    watts = np.atleast_1d(
        power_at(panel, lat_deg, lon_deg, times, lit=lit, heading_deg=heading_deg)
    ).astype(np.float64)
    joules = float(np.sum(0.5 * (watts[1:] + watts[:-1]) * np.diff(posix_s)))
    return LegEnergy(times, watts, joules / 3600.0, float(posix_s[-1] - posix_s[0]))
