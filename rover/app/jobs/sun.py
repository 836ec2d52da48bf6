"""The job behind ``frigoris sun``.

Sun and Earth over the lunar day at a site, panel power, and the lit fraction of a DEM.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from frigoris.terrain import read_dem, write_geotiff
from frigoris.terrain.errors import TerrainError
from frigoris.terrain.illumination import dem_centre_lunar, horizon_map, sunlight_map
from frigoris.terrain.sky import (
    SkyPosition,
    daylight_windows,
    earth_position,
    earth_windows,
    lunar_day,
    sun_position,
    utc_range,
)
from frigoris.terrain.solar import leg_energy, panel_power_w

from ...energy import panel
from ...errors import RoverError
from ...progress import ProgressCallback, no_progress
from ...specs import RoverSpec
from ..formats import utc_iso
from ..products import figures
from ..results import JobResult
from .output_folder import staged_output

__all__ = ["MAX_SAMPLES", "SUN_FILES", "SunSeries", "sun_job"]

MAX_SAMPLES = 20_000
"""At most this many time samples (days x 24 / step_h)."""

SUN_FILES = ("sun.png", "lit_fraction.tif")
"""Every file the sun job writes (the second only with a DEM)."""


@dataclass(frozen=True)
class SunSeries:
    """Sun and Earth positions and panel power at every sample time."""

    times: np.ndarray
    sun: SkyPosition
    earth: SkyPosition
    power_w: np.ndarray


def _iso(t) -> str | None:
    if t is None:
        return None
    if isinstance(t, np.datetime64):
        if np.isnat(t):
            return None
        t = t.astype("datetime64[s]").item().replace(tzinfo=dt.timezone.utc)
    return utc_iso(t)


def _windows(windows) -> list[dict[str, Any]]:
    return [
        {"start_utc": _iso(w.start), "end_utc": _iso(w.end), "days": w.duration_days}
        for w in windows
    ]


def sun_job(
    lat_deg: float,
    lon_deg: float,
    start: dt.datetime,
    *,
    days: float = 15.0,
    step_h: float = 1.0,
    dem_path: pathlib.Path | None = None,
    rover: RoverSpec | None = None,
    out_dir: pathlib.Path | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> tuple[JobResult, SunSeries]:
    """Sun and Earth over ``days`` from ``start`` at a site, and the rover's panel power.

    With a DEM, also the fraction of the span each cell is lit.

    With ``out_dir`` it writes ``sun.png`` and, with a DEM, ``lit_fraction.tif`` (bands
    lit_fraction, first_lit_h, last_lit_h: hours after ``start``).
    """
    if not (-90.0 <= lat_deg <= 90.0 and math.isfinite(lon_deg)):
        raise RoverError(f"site latitude {lat_deg} is outside [-90, 90]; give latlon:LAT,LON")
    if not (math.isfinite(days) and days > 0):
        raise RoverError(f"--days {days} is not a positive number of days")
    if not (math.isfinite(step_h) and step_h > 0):
        raise RoverError(f"--step-h {step_h} is not a positive number of hours")
    if days * 24.0 / step_h > MAX_SAMPLES:
        raise RoverError(
            f"{days:g} days every {step_h:g} h is over {MAX_SAMPLES} samples; use a larger --step-h"
        )
    rover = rover or RoverSpec.load()
    pv = panel(rover)
    times = utc_range(start, days, step_h)
    sun = sun_position(lat_deg, lon_deg, times)
    earth = earth_position(lat_deg, lon_deg, times)
    watts = np.atleast_1d(panel_power_w(pv, sun))
    energy = leg_energy(pv, times, lat_deg, lon_deg)
    end = start + dt.timedelta(days=days)
    windows = daylight_windows(lat_deg, lon_deg, start, end)
    comm = earth_windows(lat_deg, lon_deg, start, end)
    try:
        day = lunar_day(lat_deg, lon_deg, start)
        day_note = None
    except TerrainError as err:
        day, day_note = None, str(err)

    lit = None
    outputs: dict[str, pathlib.Path] = {}
    stage_cm = (
        staged_output(out_dir, owned=SUN_FILES, overwrite=overwrite)
        if out_dir is not None
        else contextlib.nullcontext(None)
    )
    with stage_cm as stage:
        if dem_path is not None:
            dem = read_dem(dem_path)
            hm = horizon_map(dem, 36, progress=lambda f, s: progress(0.9 * f, s))
            light = sunlight_map(dem, times, horizons=hm)
            valid = np.isfinite(light.lit_fraction)
            clat, clon = dem_centre_lunar(dem)
            lit = {
                "dem": str(dem_path),
                "dem_centre": [round(clat, 6), round(clon, 6)],
                "mean": float(np.mean(light.lit_fraction[valid])) if valid.any() else None,
                "min": float(np.min(light.lit_fraction[valid])) if valid.any() else None,
                "max": float(np.max(light.lit_fraction[valid])) if valid.any() else None,
            }
            if stage is not None:
                t0 = times[0]

                def hours(a):
                    h = (a - t0) / np.timedelta64(1, "s") / 3600.0
                    return np.where(np.isnat(a), np.nan, h).astype(np.float32)

                outputs["lit_fraction"] = write_geotiff(
                    stage.path / "lit_fraction.tif",
                    {
                        "lit_fraction": light.lit_fraction,
                        "first_lit_h": hours(light.first_lit),
                        "last_lit_h": hours(light.last_lit),
                    },
                    dem,
                    tags={
                        "frigoris_command": "sun",
                        "from_utc": utc_iso(start),
                        "days": days,
                        "step_h": step_h,
                        "sun_model": "DE421, point Sun at the DEM centre, cast shadows, 36 sectors",
                    },
                )
        if stage is not None:
            outputs["plot"] = figures.sun_figure(
                stage.path / "sun.png",
                times,
                sun.elevation_deg,
                earth.elevation_deg,
                watts,
                f"Sun and Earth at {lat_deg:.3f}, {lon_deg:.3f} from {utc_iso(start)} "
                f"({pv.area_m2} m2 panel of {rover.name})",
            )
    if stage is not None:
        outputs = stage.final(outputs)
    progress(1.0, "done")

    summary = {
        "site": [lat_deg, lon_deg],
        "from_utc": utc_iso(start),
        "days": days,
        "step_h": step_h,
        "panel": {
            "area_m2": pv.area_m2,
            "efficiency": pv.efficiency,
            "tilt_deg": pv.tilt_deg,
            "azimuth_deg": pv.azimuth_deg,
            "mode": pv.mode,
        },
        "lunar_day": None
        if day is None
        else {
            "sunrise_utc": _iso(day.sunrise),
            "noon_utc": _iso(day.noon),
            "sunset_utc": _iso(day.sunset),
            "daylight_days": day.daylight_days,
            "peak_sun_elevation_deg": day.peak_sun_elevation_deg,
            "earth_elevation_min_deg": day.earth_elevation_min_deg,
            "earth_elevation_max_deg": day.earth_elevation_max_deg,
        },
        "lunar_day_note": day_note,
        "sun_up_windows": _windows(windows),
        "earth_up_windows": _windows(comm),
        "energy_wh": energy.energy_wh,
        "peak_power_w": float(np.max(watts)),
        "lit_fraction": lit,
    }
    return JobResult(out_dir, outputs, summary), SunSeries(times, sun, earth, watts)
