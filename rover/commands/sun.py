"""``frigoris sun``: Sun and Earth over the lunar day at a site, power, lit fraction on a DEM."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import pathlib
import tempfile

import click
import numpy as np
from rich.table import Table

from frigoris.terrain.errors import TerrainError
from frigoris.terrain.illumination import dem_centre_lunar, horizon_map, sunlight_map
from frigoris.terrain.sky import (
    daylight_windows,
    earth_position,
    earth_windows,
    lunar_day,
    sun_position,
    utc_range,
)
from frigoris.terrain.solar import SolarPanel, leg_energy, panel_power_w

from ..errors import RoverError
from ..progress import progress_bar, stderr_console
from .options import json_option, out_dir_option, overwrite_option, parse_pair, quiet_option
from .report import print_summary, stdout_console

try:
    from ..specs import TENACIOUS_PANEL
except ImportError:  # until rover.specs defines it: the same numbers, from the Tenacious spec
    from ..specs import TENACIOUS as _TENACIOUS

    TENACIOUS_PANEL = SolarPanel(
        area_m2=_TENACIOUS.panel_area_m2,
        efficiency=_TENACIOUS.panel_efficiency,
        tilt_deg=_TENACIOUS.panel_tilt_deg,
        azimuth_deg=_TENACIOUS.panel_azimuth_deg,
    )

MAX_SAMPLES = 20_000
TABLE_ROWS = 32


def _parse_time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time; write e.g. 2025-06-05T19:17Z", param_hint="--from"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise click.BadParameter(
            f"{text!r} has no time zone; add Z for UTC (e.g. {text}Z)", param_hint="--from"
        )
    return when.astimezone(dt.timezone.utc)


def _panel_for(rover: str) -> SolarPanel:
    if rover.lower() == "tenacious":
        return TENACIOUS_PANEL
    from ..specs import RoverSpec

    spec = RoverSpec.load(rover)
    return SolarPanel(
        area_m2=spec.panel_area_m2,
        efficiency=spec.panel_efficiency,
        tilt_deg=spec.panel_tilt_deg,
        azimuth_deg=spec.panel_azimuth_deg,
    )


def _iso(t) -> str | None:
    if t is None:
        return None
    if isinstance(t, np.datetime64):
        if np.isnat(t):
            return None
        t = t.astype("datetime64[s]").item().replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _atomic_png(fig, path: pathlib.Path) -> pathlib.Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _plot(path, times, sun_el, earth_el, watts, title: str) -> pathlib.Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.5), constrained_layout=True)
    ax = fig.add_subplot()
    t = times.astype("datetime64[s]").astype("O")
    ax.plot(t, sun_el, color="tab:orange", label="Sun elevation")
    ax.plot(t, earth_el, color="tab:blue", label="Earth elevation")
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_ylabel("elevation above the horizon (deg)")
    ax.set_xlabel("UTC")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.fill_between(t, watts, color="tab:green", alpha=0.2, step="mid", label="panel power")
    ax2.set_ylabel("panel power (W)")
    ax2.set_ylim(bottom=0.0)
    lines = ax.get_legend_handles_labels()
    extra = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + extra[0], lines[1] + extra[1], loc="upper right")
    ax.set_title(title)
    fig.autofmt_xdate()
    return _atomic_png(fig, path)


@click.command()
@click.option(
    "--site",
    default="60.5,-4.6",
    show_default=True,
    help="Site as LAT,LON in degrees (selenographic, east positive).",
)
@click.option(
    "--from",
    "start",
    default="2025-06-05T19:17Z",
    show_default=True,
    help="Start time, ISO 8601 with a time zone (Z = UTC).",
)
@click.option("--days", type=float, default=15.0, show_default=True, help="Days to cover.")
@click.option("--step-h", type=float, default=1.0, show_default=True, help="Hours between samples.")
@click.option(
    "--dem",
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="DEM for a lit-fraction map (sun taken at the DEM's centre; cast shadows, point Sun).",
)
@click.option(
    "--rover",
    default="tenacious",
    show_default=True,
    help="Rover spec for the solar panel: a built-in name or a TOML file.",
)
@out_dir_option()
@overwrite_option
@json_option
@quiet_option
def sun(site, start, days, step_h, dem, rover, out_dir, overwrite, as_json, quiet) -> None:
    """Sun and Earth elevation, daylight and Earth windows, panel power; lit fraction on a DEM.

    Prints a table at coarse steps (all samples with --json). With -o, writes sun.png and, with
    --dem, lit_fraction.tif (bands lit_fraction, first_lit_h, last_lit_h: hours after --from).
    """
    lat, lon = parse_pair(site, "--site")
    if not -90.0 <= lat <= 90.0 or not math.isfinite(lon):
        raise click.BadParameter(f"latitude {lat} is outside [-90, 90]", param_hint="--site")
    when = _parse_time(start)
    if not (days > 0 and math.isfinite(days)):
        raise click.BadParameter(
            f"must be a positive number of days, got {days}", param_hint="--days"
        )
    if not (step_h > 0 and math.isfinite(step_h)):
        raise click.BadParameter(
            f"must be a positive number of hours, got {step_h}", param_hint="--step-h"
        )
    if days * 24.0 / step_h > MAX_SAMPLES:
        raise click.BadParameter(
            f"{days} days every {step_h} h is over {MAX_SAMPLES} samples; use a larger --step-h",
            param_hint="--step-h",
        )
    try:
        _run(lat, lon, when, days, step_h, dem, rover, out_dir, overwrite, as_json, quiet)
    except (TerrainError, RoverError) as err:
        raise click.ClickException(str(err).splitlines()[0]) from err


def _run(lat, lon, when, days, step_h, dem_path, rover, out_dir, overwrite, as_json, quiet):
    panel = _panel_for(rover)
    times = utc_range(when, days, step_h)
    sun_pos = sun_position(lat, lon, times)
    earth = earth_position(lat, lon, times)
    watts = np.atleast_1d(panel_power_w(panel, sun_pos))
    energy = leg_energy(panel, times, lat, lon)
    end = when + dt.timedelta(days=days)
    windows = daylight_windows(lat, lon, when, end)
    comm = earth_windows(lat, lon, when, end)
    try:
        day = lunar_day(lat, lon, when)
    except TerrainError as err:
        day, day_note = None, str(err)
    else:
        day_note = None

    outputs: dict[str, pathlib.Path] = {}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = [out_dir / "sun.png"] + ([out_dir / "lit_fraction.tif"] if dem_path else [])
        for target in targets:
            if target.exists() and not overwrite:
                raise click.ClickException(f"{target} exists; pass --overwrite to replace it")

    lit_summary = None
    if dem_path is not None:
        from frigoris.terrain import read_dem, write_geotiff

        dem = read_dem(dem_path)
        with progress_bar("lit fraction", enabled=not quiet) as progress:
            hm = horizon_map(dem, 36, progress=lambda f, s: progress(0.9 * f, s))
            light = sunlight_map(dem, times, horizons=hm)
            progress(1.0, "done")
        valid = np.isfinite(light.lit_fraction)
        clat, clon = dem_centre_lunar(dem)
        lit_summary = {
            "dem": str(dem_path),
            "dem_centre": [round(clat, 6), round(clon, 6)],
            "mean": float(np.mean(light.lit_fraction[valid])) if valid.any() else None,
            "min": float(np.min(light.lit_fraction[valid])) if valid.any() else None,
            "max": float(np.max(light.lit_fraction[valid])) if valid.any() else None,
        }
        if out_dir is not None:
            t0 = times[0]

            def hours(a):
                h = (a - t0) / np.timedelta64(1, "s") / 3600.0
                return np.where(np.isnat(a), np.nan, h).astype(np.float32)

            outputs["lit_fraction"] = write_geotiff(
                out_dir / "lit_fraction.tif",
                {
                    "lit_fraction": light.lit_fraction,
                    "first_lit_h": hours(light.first_lit),
                    "last_lit_h": hours(light.last_lit),
                },
                dem,
                tags={
                    "frigoris_command": "sun",
                    "from_utc": _iso(when),
                    "days": days,
                    "step_h": step_h,
                    "sun_model": "DE421, point Sun at the DEM centre, cast shadows, 36 sectors",
                },
            )

    if out_dir is not None:
        outputs["plot"] = _plot(
            out_dir / "sun.png", times, sun_pos.elevation_deg, earth.elevation_deg, watts,
            f"Sun and Earth at {lat:.3f}, {lon:.3f} from {_iso(when)} ({panel.area_m2} m2 panel)",
        )  # fmt: skip

    summary = {
        "site": [lat, lon],
        "from_utc": _iso(when),
        "days": days,
        "step_h": step_h,
        "panel": {
            "area_m2": panel.area_m2,
            "efficiency": panel.efficiency,
            "tilt_deg": panel.tilt_deg,
            "azimuth_deg": panel.azimuth_deg,
            "mode": panel.mode,
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
        "sun_up_windows": [
            {"start_utc": _iso(w.start), "end_utc": _iso(w.end), "days": w.duration_days}
            for w in windows
        ],
        "earth_up_windows": [
            {"start_utc": _iso(w.start), "end_utc": _iso(w.end), "days": w.duration_days}
            for w in comm
        ],
        "energy_wh": energy.energy_wh,
        "peak_power_w": float(np.max(watts)),
        "lit_fraction": lit_summary,
    }
    if as_json:
        summary["samples"] = [
            {
                "utc": _iso(t),
                "sun_az_deg": round(float(sa), 4),
                "sun_el_deg": round(float(se), 4),
                "earth_az_deg": round(float(ea), 4),
                "earth_el_deg": round(float(ee), 4),
                "power_w": round(float(w), 4),
            }
            for t, sa, se, ea, ee, w in zip(
                times,
                sun_pos.azimuth_deg,
                sun_pos.elevation_deg,
                earth.azimuth_deg,
                earth.elevation_deg,
                watts,
                strict=True,
            )  # fmt: skip
        ]
        summary["outputs"] = {k: str(v) for k, v in outputs.items()}
        click.echo(json.dumps(summary, indent=2))
        return

    stride = max(1, math.ceil(times.size / TABLE_ROWS))
    table = Table(
        title=f"Sun and Earth at {lat:g}, {lon:g} (every {stride * step_h:g} h)",
        title_justify="left",
    )
    for name in ("UTC", "Sun az", "Sun el", "Earth az", "Earth el", "Power W"):
        table.add_column(name, justify="right")
    for i in range(0, times.size, stride):
        table.add_row(
            _iso(times[i])[:16].replace("T", " "),
            f"{sun_pos.azimuth_deg[i]:.1f}",
            f"{sun_pos.elevation_deg[i]:.2f}",
            f"{earth.azimuth_deg[i]:.1f}",
            f"{earth.elevation_deg[i]:.2f}",
            f"{watts[i]:.2f}",
        )
    stdout_console.print(table)
    rows = {}
    if day is not None:
        rows["sunrise"] = _iso(day.sunrise) or "none within 30 days"
        rows["noon"] = _iso(day.noon)
        rows["sunset"] = _iso(day.sunset) or "none within 30 days"
        if day.daylight_days is not None:
            rows["daylight"] = f"{day.daylight_days:.2f} days"
        rows["peak sun elevation"] = f"{day.peak_sun_elevation_deg:.2f} deg"
        rows["earth elevation"] = (
            f"{day.earth_elevation_min_deg:.2f} to {day.earth_elevation_max_deg:.2f} deg"
        )
    else:
        rows["lunar day"] = day_note
    rows["sun up in span"] = (
        "; ".join(f"{_iso(w.start)} to {_iso(w.end)} ({w.duration_days:.2f} d)" for w in windows)
        or "never"
    )
    rows["earth up in span"] = (
        "; ".join(f"{_iso(w.start)} to {_iso(w.end)} ({w.duration_days:.2f} d)" for w in comm)
        or "never"
    )
    rows["panel"] = f"{panel.area_m2} m2 x {panel.efficiency:.0%}, tilt {panel.tilt_deg} deg"
    rows["energy over span"] = f"{energy.energy_wh:.1f} Wh (peak {np.max(watts):.2f} W)"
    if lit_summary is not None:
        rows["DEM lit fraction"] = (
            f"mean {lit_summary['mean']:.3f}, min {lit_summary['min']:.3f}, "
            f"max {lit_summary['max']:.3f} (sun at DEM centre {clat:.4f}, {clon:.4f})"
        )
    print_summary("Daylight window", rows, outputs=outputs)
    if not quiet and dem_path is None and out_dir is None:
        stderr_console.print("add -o DIR for a plot, --dem PATH for a lit-fraction map")
