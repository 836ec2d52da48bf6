"""``frigoris sun``: Sun and Earth over the lunar day at a site, power, lit fraction on a DEM."""

from __future__ import annotations

import math
import pathlib

import click
from rich.table import Table

from ...specs import RoverSpec
from ..formats import utc_iso
from ..jobs.sun import sun_job
from .console import print_json, print_summary, progress_bar, stderr_console, stdout_console
from .options import (
    FiniteFloat,
    json_option,
    out_dir_option,
    overwrite_option,
    position_option,
    quiet_option,
    time_option,
)

TABLE_ROWS = 32


@click.command()
@position_option(
    "--site",
    default="latlon:60.5,-4.6",
    show_default=True,
    help="Site, latlon:LAT,LON in degrees (selenographic, east positive).",
)
@time_option(
    "--from",
    "start",
    default="2025-06-05T19:17Z",
    help="Start time, ISO 8601 with a time zone (Z = UTC).",
)
@click.option(
    "--days",
    type=FiniteFloat(0.0, lo_open=True),
    default=15.0,
    show_default=True,
    help="Days to cover.",
)
@click.option(
    "--step-h",
    type=FiniteFloat(0.0, lo_open=True),
    default=1.0,
    show_default=True,
    help="Hours between samples.",
)
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

    Example: frigoris sun --site latlon:60.5,-4.6 --from 2025-06-05T19:17Z --days 15 -o sun
    """
    if site.kind != "latlon":
        raise click.BadParameter(
            f"{site.text}: a site without a map is a place on the Moon; write latlon:LAT,LON",
            param_hint="--site",
        )
    with progress_bar("sun", enabled=not quiet and dem is not None) as progress:
        result, series = sun_job(
            site.a,
            site.b,
            start,
            days=days,
            step_h=step_h,
            dem_path=dem,
            rover=RoverSpec.load(rover),
            out_dir=out_dir,
            overwrite=overwrite,
            progress=progress,
        )
    s = result.summary
    if as_json:
        doc = dict(s)
        doc["samples"] = [
            {
                "utc": utc_iso(t.astype("datetime64[s]").item().replace(tzinfo=start.tzinfo)),
                "sun_az_deg": round(float(sa), 4),
                "sun_el_deg": round(float(se), 4),
                "earth_az_deg": round(float(ea), 4),
                "earth_el_deg": round(float(ee), 4),
                "power_w": round(float(w), 4),
            }
            for t, sa, se, ea, ee, w in zip(
                series.times,
                series.sun.azimuth_deg,
                series.sun.elevation_deg,
                series.earth.azimuth_deg,
                series.earth.elevation_deg,
                series.power_w,
                strict=True,
            )
        ]
        doc["outputs"] = {k: str(v) for k, v in result.outputs.items()}
        print_json(doc)
        return
    _print_table(site.a, site.b, step_h, series)
    print_summary("Daylight window", _rows(s), outputs=result.outputs)
    if not quiet and dem is None and out_dir is None:
        stderr_console.print("add -o DIR for a plot, --dem PATH for a lit-fraction map")


def _print_table(lat: float, lon: float, step_h: float, series) -> None:
    times = series.times
    stride = max(1, math.ceil(times.size / TABLE_ROWS))
    table = Table(
        title=f"Sun and Earth at {lat:g}, {lon:g} (every {stride * step_h:g} h)",
        title_justify="left",
    )
    for name in ("UTC", "Sun az", "Sun el", "Earth az", "Earth el", "Power W"):
        table.add_column(name, justify="right")
    for i in range(0, times.size, stride):
        table.add_row(
            str(times[i].astype("datetime64[m]")).replace("T", " "),
            f"{series.sun.azimuth_deg[i]:.1f}",
            f"{series.sun.elevation_deg[i]:.2f}",
            f"{series.earth.azimuth_deg[i]:.1f}",
            f"{series.earth.elevation_deg[i]:.2f}",
            f"{series.power_w[i]:.2f}",
        )
    stdout_console.print(table)


def _rows(s: dict) -> dict:
    rows = {}
    day = s["lunar_day"]
    if day is not None:
        rows["sunrise"] = day["sunrise_utc"] or "none within 30 days"
        rows["noon"] = day["noon_utc"]
        rows["sunset"] = day["sunset_utc"] or "none within 30 days"
        if day["daylight_days"] is not None:
            rows["daylight"] = f"{day['daylight_days']:.2f} days"
        rows["peak sun elevation"] = f"{day['peak_sun_elevation_deg']:.2f} deg"
        rows["earth elevation"] = (
            f"{day['earth_elevation_min_deg']:.2f} to {day['earth_elevation_max_deg']:.2f} deg"
        )
    else:
        rows["lunar day"] = s["lunar_day_note"]

    def spans(ws):
        return "; ".join(f"{w['start_utc']} to {w['end_utc']} ({w['days']:.2f} d)" for w in ws)

    rows["sun up in span"] = spans(s["sun_up_windows"]) or "never"
    rows["earth up in span"] = spans(s["earth_up_windows"]) or "never"
    p = s["panel"]
    rows["panel"] = f"{p['area_m2']} m2 x {p['efficiency']:.0%}, tilt {p['tilt_deg']} deg"
    rows["energy over span"] = f"{s['energy_wh']:.1f} Wh (peak {s['peak_power_w']:.2f} W)"
    lit = s["lit_fraction"]
    if lit is not None:
        c = lit["dem_centre"]
        rows["DEM lit fraction"] = (
            f"mean {lit['mean']:.3f}, min {lit['min']:.3f}, max {lit['max']:.3f} "
            f"(sun at DEM centre {c[0]:.4f}, {c[1]:.4f})"
        )
    return rows
