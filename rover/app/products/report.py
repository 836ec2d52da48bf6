"""The mission report for people: one HTML page beside the PNG maps it shows.

:func:`write_report` writes ``report.html`` from a
:class:`~frigoris.rover.app.results.MissionResult`: the chain's steps and where it stopped,
the touchdown outcome, the deployment side and why, the hazard summary, the plan stop by
stop, the timeline, the assumed and published values behind it, and every file of the run.
Pictures are the run's own PNGs, linked by relative path, so the folder is the unit to share
(``manifest.json`` lists it). The page holds no timestamp: the same run gives the same bytes.
"""

from __future__ import annotations

import html
import os
import pathlib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np

from frigoris.terrain import write_text
from frigoris.terrain.crs import crs_label, crs_to_lunar

from ...touchdown import OUTCOMES
from ..formats import fmt, utc_human
from ..provenance import frigoris_version
from ..results import MissionResult
from .hazard_files import hazard_summary
from .manifest import OUTPUT_DESCRIPTIONS
from .plan_files import ops_lines

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc;
     margin-top: 2em; } table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: min(100%, 820px); border: 1px solid #ddd; margin: 0.5em 0; }
.done { color: #1a7f37; font-weight: 600; } .stopped { color: #b35900; font-weight: 600; }
.skipped { color: #777; } .note { background: #fff8e5; border-left: 4px solid #e0a800;
padding: 0.5em 1em; } .meta { color: #555; }
"""


def _e(v: Any) -> str:
    return html.escape(str(v))


def _fmt(v: Any, nd: int = 3) -> str:
    return fmt(v, nd)


def _table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[bool] = ()
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            cls = ' class="num"' if i < len(numeric) and numeric[i] else ""
            cells.append(f"<td{cls}>{_e(_fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>" for k, v in pairs)
    return f"<table><tbody>{rows}</tbody></table>"


def _img(result: MissionResult, key: str, alt: str) -> str:
    p = result.outputs.get(key)
    if p is None or not p.exists():
        return ""
    return f'<p><a href="{_e(p.name)}"><img src="{_e(p.name)}" alt="{_e(alt)}"></a></p>'


def _section_steps(result: MissionResult) -> str:
    rows = "".join(
        f'<tr><td>{_e(s.name)}</td><td class="{_e(s.status)}">{_e(s.status)}</td>'
        f"<td>{_e(s.detail)}</td></tr>"
        for s in result.steps
    )
    out = (
        "<h2>The chain</h2><table><thead><tr><th>step</th><th>status</th><th>detail</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    if result.stopped:
        out += f'<p class="note"><b>The chain stopped:</b> {_e(result.stopped)}</p>'
    return out


def _section_touchdown(result: MissionResult) -> str:
    if not result.touchdowns:
        return ""
    m = result.mission
    d = result.touchdowns[0].dispersion
    rows = []
    for res in result.touchdowns:
        s = res.summary()
        rows.append(
            [
                res.scenario,
                len(res),
                *(s[o] for o in OUTCOMES),
                s["p_success"],
                s["p_deployable"],
                s["median_v_vertical_m_s"],
                s["p95_v_vertical_m_s"],
            ]
        )
    out = [
        "<h2>Touchdown</h2>",
        f"<p>{len(result.touchdowns[0])} Monte Carlo touchdowns per descent scenario around "
        f"the aim point ({m.site.lat_deg}°, {m.site.lon_deg}°), landing dispersion 1σ "
        f"{d.sigma_major_m:g} m × {d.sigma_minor_m:g} m (major axis azimuth "
        f"{d.major_azimuth_deg:g}°) as the navigation's horizontal knowledge through the simulated "
        f"descent, touchdown at {utc_human(m.touchdown_utc)}. Every scenario starts from the same "
        "navigation errors (same seed): only the descent differs. "
        "<i>mission-2</i> is Mission 2's fault: a degraded laser range finder whose first "
        "valid range comes at ~900 m instead of ~3 km; <i>mission-1</i> is Mission 1's: a "
        "healthy range finder rejected by the navigation's gate after the approach crossed a "
        "cliff at a crater rim (rover.descent).</p>",
        _table(
            [
                "scenario",
                "runs",
                *OUTCOMES,
                "P(stands)",
                "P(deployable)",
                "median v (m/s)",
                "95 % v (m/s)",
            ],
            rows,
            [False] + [True] * (len(OUTCOMES) + 5),
        ),
    ]
    run = result.touchdown
    if run is not None:
        lat, lon = crs_to_lunar(result.dem.crs, run.x, run.y)
        out.append(
            f"<h3>The touchdown the chain follows: {_e(m.touchdown.follow)} run {run.index}</h3>"
        )
        out.append(
            _kv(
                [
                    ("outcome", run.outcome),
                    ("why", run.reason),
                    ("position (map m)", f"{run.x:.1f}, {run.y:.1f}"),
                    ("latitude, longitude", f"{float(lat):.6f}°, {float(lon):.6f}°"),
                    ("lander yaw (deg)", round(run.yaw_deg, 1)),
                    ("tilt (deg)", run.tilt_deg),
                    ("clearance under the body (m)", run.clearance_m),
                    ("vertical contact speed (m/s)", run.v_vertical_m_s),
                    ("horizontal contact speed (m/s)", run.v_horizontal_m_s),
                ]
            )
        )
    out.append(_img(result, "touchdown_map", "touchdown Monte Carlo map"))
    return "".join(out)


def _section_deploy(result: MissionResult) -> str:
    h = result.handoff
    if h is None:
        return ""
    L = result.mission.lander
    out = ["<h2>Deployment</h2>"]
    if h.deployed:
        out.append(
            f"<p><b>{_e(h.rover_name)} is lowered on side {h.side_deg:g}° </b>(azimuth "
            f"{next(s.azimuth_deg for s in h.sides if s.side_deg == h.side_deg):.0f}° from grid "
            f"north) at {utc_human(h.time)}, {L.checkout_h:g} h after touchdown. "
            "A side passes when its set-down strip is within the rover's slope and step "
            "limits, holds no boulder and no keep-out cell and has a way out of the "
            f"{L.plume_radius_m:g} m plume zone; among the sides that pass the lowest score "
            f"wins: egress cost (cost-weighted metres) + {L.plume_radius_m:g} m × the "
            "shadowed share of the set-down strip.</p>"
        )
    else:
        out.append(
            '<p class="note"><b>No deployment.</b> '
            + "<br>".join(_e(r) for r in h.reasons)
            + "</p>"
        )
    if h.sides:
        rows = [
            [
                s.side_deg,
                round(s.azimuth_deg, 1),
                "chosen"
                if h.deployed and s.side_deg == h.side_deg
                else ("passes" if s.ok else "blocked"),
                s.max_slope_deg,
                s.max_step_m,
                s.max_rock_risk,
                s.keepout_cells,
                s.shadow_fraction,
                s.link_ok,
                s.egress_length_m,
                s.score,
                "; ".join(s.reasons) or "–",
            ]
            for s in h.sides
        ]
        out.append(
            _table(
                [
                    "side (deg)",
                    "azimuth (deg)",
                    "verdict",
                    "max slope (deg)",
                    "max step (m)",
                    "max rock risk",
                    "keep-out cells",
                    "shadow share",
                    "link",
                    "egress (m)",
                    "score",
                    "reasons",
                ],
                rows,
                [True, True, False, True, True, True, True, True, False, True, True],
            )
        )
    if h.deployed and h.egress is not None:
        out.append(
            _kv(
                [
                    ("egress length (m)", h.egress.length_m),
                    ("egress energy (Wh)", h.egress.energy_wh),
                    ("traverse starts", utc_human(h.start_time)),
                    ("battery at the start (Wh)", h.start_battery_wh),
                    ("link to the lander at set-down", h.link_ok),
                ]
                + [("note", r) for r in h.reasons]
            )
        )
    out.append(_img(result, "deploy_png", "deployment map"))
    return "".join(out)


_HAZARD_LABELS = {
    "keepout_fraction": "keep-out share of the map",
    "median_slope_rover_deg": "median footprint slope (deg)",
    "craters_detected": "craters detected",
    "rocks_detected": "resolved rocks detected",
    "mean_rock_risk": "mean unresolved-rock risk",
    "sun_az_el_deg": "sun azimuth, elevation (deg)",
    "shadow_fraction": "share in cast shadow",
    "comm_ok_fraction": "share in link with the lander",
}


def _section_hazard(result: MissionResult) -> str:
    if result.hazard is None:
        return ""

    hs = hazard_summary(result.hazard)
    lim = result.hazard.limits
    pairs = [
        (_HAZARD_LABELS.get(k, k.replace("_", " ")), v)
        for k, v in hs.items()
        if not k.startswith("warning") and k not in ("size_px", "res_m")
    ]
    out = [
        "<h2>Hazard map</h2>",
        f"<p>{hs['size_px'][1]} × {hs['size_px'][0]} px at {hs['res_m']:.3g} m. Limits of "
        f"{_e(result.mission.rover.name)}: slope {lim.max_slope_deg:g}°, step "
        f"{lim.max_step_m:g} m, clearance {lim.clearance_m:g} m, risk threshold "
        f"{lim.max_risk:g}, link range in free space {lim.link_range_m:.0f} m. "
        "“excluded by” shares overlap: a cell can fail several limits.</p>",
        "<h3>What these pixels show</h3>",
        *(f"<p>{_e(n)}</p>" for n in result.hazard.notes()),
        _kv(pairs),
    ]
    for w in result.hazard.warnings:
        out.append(f'<p class="note">{_e(w)}</p>')
    out.append(_img(result, "hazard_png", "hazard map"))
    return "".join(out)


def _section_plan(result: MissionResult) -> str:
    if result.plan is None:
        return ""
    p, start = result.plan.plan, result.plan.start_time
    s = p.stops
    names = s.names if s.names else ("",) * len(s)
    rows = []
    for k in range(len(s)):
        arr = start + timedelta(seconds=float(p.arrival_s[k]))
        dep = start + timedelta(seconds=float(p.departure_s[k]))
        lat, lon = crs_to_lunar(result.dem.crs, float(s.x[k]), float(s.y[k]))
        rows.append(
            [
                k,
                arr.strftime("%m-%d %H:%M"),
                dep.strftime("%m-%d %H:%M"),
                s.kind[k],
                names[k] or "",
                round(float(s.value[k]), 2),
                round(float(p.soc_arrival_wh[k]), 1),
                f"{float(lat):.5f}, {float(lon):.5f}",
                s.reason[k],
            ]
        )
    out = [
        "<h2>Traverse plan</h2>",
        _kv(
            [
                ("stops", len(s) - 1),
                ("distance driven (m)", round(p.distance_m, 1)),
                ("value", round(p.value, 2)),
                ("starts", utc_human(start)),
                ("ends", utc_human(start + timedelta(seconds=float(p.duration_s)))),
                ("lowest battery (Wh)", round(float(np.min(p.timeline["soc_wh"])), 2)),
                (
                    "battery reserve (Wh)",
                    round(
                        result.mission.rover.battery_wh
                        * result.mission.rover.battery_reserve_fraction,
                        2,
                    ),
                ),
                ("checked", "every stop, leg and battery level passed the plan checker"),
            ]
            + ([("empty because", p.reason)] if p.reason else [])
        ),
        _img(result, "plan_png", "traverse plan map"),
        "<h3>Stop by stop</h3>",
        _table(
            [
                "#",
                "arrive (UTC)",
                "leave (UTC)",
                "kind",
                "name",
                "value",
                "battery on arrival (Wh)",
                "lat, lon (deg)",
                "why",
            ],
            rows,
            [True, False, False, False, False, True, True, False, False],
        ),
    ]
    if p.dropped:
        out.append(
            "<p>Chosen by the solver but not affordable in the simulation:</p><ul>"
            + "".join(f"<li>{_e(d)}</li>" for d in p.dropped)
            + "</ul>"
        )
    if result.plan.unplanned_targets:
        out.append("<h3>User targets not in the plan</h3>")
        out.append(
            _table(["target", "why"], [(n, w) for n, w, _, _ in result.plan.unplanned_targets])
        )
    out.append(_section_sequence(result.plan))
    out.append("<h2>Timeline</h2>")
    out.append(
        "<p>Battery, sun elevation and solar power, and distance driven, from the "
        "handoff to the end of the plan.</p>"
    )
    out.append(_img(result, "timeline_png", "timeline: battery, sun elevation, distance"))
    return "".join(out)


def sequence_html(pr, *, commands: int = 12) -> str:
    """The cadence, the budgets, the flight rules' verdict and waivers, the first commands."""
    seg = pr.segment
    if seg is None:
        return ""
    out = [
        "<h2>Command sequence and budgets</h2>",
        "<p>The plan follows the ground's command cycle: after each drive of at most "
        f"{pr.context.rover.max_drive_per_command_m:g} m, each arrival at a stop and each "
        "stop's activity, the rover's images go down through the lander, the ground plans the "
        "next move and uplinks it, all inside the daily commanding window (a shift on console "
        'and the lander relaying). Every command is in <a href="sequence.json">sequence.json'
        '</a> (<a href="sequence.csv">CSV</a>), checked against the flight rules by a checker '
        "independent of the planner; a sequence that breaks a rule no waiver covers is never "
        "written.</p><ul>",
    ]
    out += [f"<li>{_e(line)}</li>" for line in ops_lines(pr)]
    out.append("</ul>")
    rows = []
    for cyc in seg.sequence["cycles"]:
        for c in cyc["commands"]:
            if len(rows) >= commands:
                break
            what = c["type"] + (f" ({c['reason']})" if "reason" in c else "")
            if c["type"] == "drive":
                what += f" {c['distance_m']:.2f} m, first heading {c['heading_deg']:.0f} deg"
            rows.append(
                [
                    c["id"],
                    what,
                    c.get("start_utc", ""),
                    round(c["t_end_s"] - c["t_start_s"], 1),
                    round(c["battery_wh"], 2),
                    ", ".join(c["rules"]),
                ]
            )
    out.append(f"<h3>The first {len(rows)} commands</h3>")
    out.append(
        _table(
            ["id", "command", "start (UTC)", "duration (s)", "battery at end (Wh)", "flight rules"],
            rows,
            [False, False, False, True, True, False],
        )
    )
    return "".join(out)


def _section_sequence(pr) -> str:
    return sequence_html(pr)


def _section_site(result: MissionResult) -> str:
    m = result.mission
    src = (
        "synthetic site (no public rover-scale DEM exists)"
        if m.site.is_synthetic
        else f"DEM {m.site.dem_as_written}"
    )
    out = [
        "<h2>Site</h2>",
        _kv(
            [
                ("terrain", src),
                ("label", result.label),
                (
                    "grid",
                    f"{result.dem.shape[1]} × {result.dem.shape[0]} px at {result.dem.res_m:.4g} m",
                ),
                ("aim point", f"{m.site.lat_deg}°, {m.site.lon_deg}°"),
                ("CRS", crs_label(result.dem.crs)),
            ]
        ),
        _img(result, "hillshade", "site map"),
    ]
    return "".join(out)


def _section_specs(result: MissionResult) -> str:
    out = ["<h2>Vehicle values: published and assumed</h2>"]
    for spec in (result.mission.lander, result.mission.rover, result.mission.operations):
        rows = []
        for f in spec.__dataclass_fields__:
            if f in ("sources", "name"):
                continue
            v = getattr(spec, f)
            rows.append(
                [
                    f,
                    ", ".join(_fmt(x) for x in v) if isinstance(v, tuple) else v,
                    spec.sources.get(f, "–"),
                ]
            )
        out.append(f"<h3>{_e(spec.name)}</h3>")
        out.append(_table(["field", "value", "source"], rows, [False, True, False]))
    return "".join(out)


def _section_files(result: MissionResult) -> str:

    rows = "".join(
        f'<tr><td><a href="{_e(p.name)}">{_e(p.name)}</a></td>'
        f"<td>{_e(OUTPUT_DESCRIPTIONS.get(p.name, k))}</td></tr>"
        for k, p in sorted(result.outputs.items(), key=lambda kv: kv[1].name)
        if k not in ("report", "manifest")
    )
    return (
        "<h2>Files</h2><p>Open <code>mission.gpkg</code> and the GeoTIFFs in QGIS: they "
        'carry the Moon CRS. <a href="manifest.json">manifest.json</a> lists every file '
        "with its SHA-256, the inputs and every parameter.</p>"
        f"<table><thead><tr><th>file</th><th>what</th></tr></thead><tbody>{rows}"
        "</tbody></table>"
    )


def report_html(result: MissionResult) -> str:
    """Return the report as HTML text."""
    m = result.mission
    inp = m.inputs[0] if m.inputs else None
    head = (
        f'<h1>{_e(m.name)}</h1><p class="meta">frigoris {_e(frigoris_version())} · '
        f"mission file {_e(inp.path if inp else m.source)}"
        + (f" (sha256 {_e(inp.sha256[:12])}…)" if inp else "")
        + f" · seed {m.seed} · touchdown {utc_human(m.touchdown_utc)} · {m.days:g} days · "
        f"{_e(m.lander.name)} / {_e(m.rover.name)}"
        + (f" · overrides: {_e(', '.join(m.overrides))}" if m.overrides else "")
        + "</p>"
    )
    if m.waivers:
        head += (
            '<p class="note"><b>Flight rules waived by the mission file:</b> '
            + "; ".join(f"{_e(w.rule)} ({_e(w.reason)})" for w in m.waivers)
            + "</p>"
        )
    if "webmap" in result.outputs:
        head += (
            f'<p><b><a href="{_e(result.outputs["webmap"].name)}">Open the interactive map</a></b>'
            " (layers, stops, touchdowns and the rover on a time slider; works offline)</p>"
        )
    body = "".join(
        [
            head,
            _section_steps(result),
            _section_site(result),
            _section_touchdown(result),
            _section_deploy(result),
            _section_hazard(result),
            _section_plan(result),
            _section_specs(result),
            _section_files(result),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(m.name)}: frigoris mission report</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def write_report(result: MissionResult, path: str | os.PathLike) -> pathlib.Path:
    """Write ``report.html`` atomically and return its path."""
    return write_text(path, report_html(result))


__all__ = ["report_html", "sequence_html", "write_report"]
