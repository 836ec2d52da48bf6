"""Solar energy for the rover over the mission, and the planner's view of a rover spec.

The Sun comes from the ephemeris, terrain shadow from a horizon map, power from the rover's panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from frigoris.planners.traverse import RoverModel
from frigoris.terrain import Dem
from frigoris.terrain.illumination import HorizonMap, dem_centre_lunar, sun_over_dem
from frigoris.terrain.sky import SkyPosition
from frigoris.terrain.solar import SolarPanel, panel_power_w

from .specs import RoverSpec

HORIZON_CODE_ORIGIN_DEG = -10.0
"""Horizon elevations are kept as 8-bit codes from this angle ..."""
HORIZON_CODE_STEP_DEG = 0.25
"""... in steps of this many degrees (codes 0-255: -10 to 53.75 deg; lower is never a shadow
for a Sun above -10 deg, higher always one for a Sun below 53.75 deg)."""

CYCLE_OVERHEAD_S = 600.0
"""Assumed ground turnaround between command cycles: review images, send the next move."""


def panel(rover: RoverSpec) -> SolarPanel:
    """The rover's solar panel as the terrain power model wants it."""
    return SolarPanel(
        area_m2=rover.panel_area_m2,
        efficiency=rover.panel_efficiency,
        tilt_deg=rover.panel_tilt_deg,
        azimuth_deg=rover.panel_azimuth_deg,
    )


def rover_model(rover: RoverSpec) -> RoverModel:
    """The planner's view of a rover spec."""
    return RoverModel(
        speed_m_s=rover.speed_m_s,
        drive_power_w=rover.drive_power_w,
        idle_power_w=rover.idle_power_w,
        battery_wh=rover.battery_wh,
        reserve_wh=rover.battery_reserve_fraction * rover.battery_wh,
        max_drive_per_cycle_m=rover.max_drive_per_command_m,
        cycle_overhead_s=CYCLE_OVERHEAD_S,
    )


@dataclass(frozen=True, eq=False)
class SolarModel:
    """``solar_w(t_s, rows, cols)``: watts into the battery at plan time t_s (s after ``start``).

    The Sun's grid azimuth, elevation and distance are sampled from the ephemeris every
    ``step_s`` and interpolated; shadow comes from the horizon map at each cell.
    """

    start: datetime
    step_s: float
    t_s: np.ndarray
    az_deg: np.ndarray
    el_deg: np.ndarray
    distance_m: np.ndarray
    horizons: HorizonMap
    panel: SolarPanel

    @classmethod
    def build(
        cls,
        dem: Dem,
        horizons: HorizonMap,
        rover: RoverSpec,
        start: datetime,
        duration_s: float,
        step_s: float = 1800.0,
    ) -> SolarModel:
        """Sample the Sun over [start, start + duration] and bind the horizon map and panel."""
        n = int(np.ceil(duration_s / step_s)) + 2
        t = np.arange(n) * step_s
        sun = sun_over_dem(dem, [start + timedelta(seconds=float(s)) for s in t])
        return cls(
            start,
            step_s,
            t,
            np.unwrap(np.asarray(sun.azimuth_deg), period=360.0),
            np.asarray(sun.elevation_deg),
            np.asarray(sun.distance_m),
            horizons,
            panel(rover),
        )

    def sun_at(self, t_s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid azimuth, elevation (deg) and distance (m) of the Sun at plan times."""
        t = np.asarray(t_s, dtype=np.float64)
        return (
            np.interp(t, self.t_s, self.az_deg) % 360.0,
            np.interp(t, self.t_s, self.el_deg),
            np.interp(t, self.t_s, self.distance_m),
        )

    def __call__(self, t_s, rows, cols) -> np.ndarray:
        """Watts into the battery at plan times ``t_s`` and cells (rows, cols)."""
        az, el, dist = self.sun_at(t_s)
        lit = self.horizons.lit_at(rows, cols, az, el)
        sun = SkyPosition(None, az, el, dist)
        return np.asarray(panel_power_w(self.panel, sun, lit=lit), dtype=np.float64)


def site_latlon(dem: Dem) -> tuple[float, float]:
    """Selenographic centre of the DEM."""
    return dem_centre_lunar(dem)


def horizon_codes(horizons: HorizonMap) -> np.ndarray:
    """The horizon map as 8-bit codes (see :data:`HORIZON_CODE_STEP_DEG`; nodata as 255)."""
    h = np.nan_to_num(horizons.horizon_deg, nan=90.0)
    q = np.rint((h - HORIZON_CODE_ORIGIN_DEG) / HORIZON_CODE_STEP_DEG)
    return np.clip(q, 0, 255).astype(np.uint8)


def horizons_from_codes(codes: np.ndarray, like: HorizonMap | None = None, **fields) -> HorizonMap:
    """A horizon map from 8-bit codes, with the other fields of ``like`` (or ``fields``)."""
    deg = HORIZON_CODE_ORIGIN_DEG + HORIZON_CODE_STEP_DEG * codes.astype(np.float32)
    base = (
        {}
        if like is None
        else {
            "azimuths_deg": like.azimuths_deg,
            "res_m": like.res_m,
            "body_radius_m": like.body_radius_m,
            "max_distance_m": like.max_distance_m,
            "lines_per_cell": like.lines_per_cell,
        }
    )
    base.update(fields)
    return HorizonMap(horizon_deg=deg, **base)


def quantized(horizons: HorizonMap) -> tuple[HorizonMap, np.ndarray]:
    """The horizon map rounded to its 8-bit codes, and the codes.

    A plan and every replan of it then see the same shadows (a replan reads the codes back).
    """
    codes = horizon_codes(horizons)
    return horizons_from_codes(codes, horizons), codes
