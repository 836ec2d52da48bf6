"""Report pages of the operations jobs: a replan (what changed and why) and an ops simulation.

Same look as the mission report (:mod:`.report`); the pictures are the run's own PNGs, linked
by relative path. No timestamp: the same run gives the same bytes.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from frigoris.terrain import write_text

from ..formats import utc_human
from ..provenance import frigoris_version
from .manifest import OUTPUT_DESCRIPTIONS
from .report import _CSS, _e, _kv, _table, sequence_html

__all__ = ["ops_sim_report_html", "replan_report_html", "write_page"]


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _img(outputs: Mapping[str, pathlib.Path], key: str, alt: str) -> str:
    p = outputs.get(key)
    if p is None:
        return ""
    return f'<p><a href="{_e(p.name)}"><img src="{_e(p.name)}" alt="{_e(alt)}"></a></p>'


def _files(outputs: Mapping[str, pathlib.Path], descriptions: Mapping[str, str]) -> str:
    what = {**OUTPUT_DESCRIPTIONS, **descriptions}
    rows = "".join(
        f'<tr><td><a href="{_e(p.name)}">{_e(p.name)}</a></td>'
        f"<td>{_e(what.get(p.name, k))}</td></tr>"
        for k, p in sorted(outputs.items(), key=lambda kv: kv[1].name)
        if k not in ("report", "manifest")
    )
    return (
        '<h2>Files</h2><p><a href="manifest.json">manifest.json</a> lists every file with its '
        "SHA-256, the inputs and the parameters.</p>"
        f"<table><thead><tr><th>file</th><th>what</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def replan_report_html(
    rr, outputs: Mapping[str, pathlib.Path], *, run_dir: str, descriptions: Mapping[str, str]
) -> str:
    """The replan's page: the telemetry, what changed, the plan, its sequence and budgets."""
    pr = rr.result
    p = pr.plan
    t = rr.telemetry
    head = (
        f"<h1>Replan from telemetry, {_e(utc_human(t.time))}</h1>"
        f'<p class="meta">frigoris {_e(frigoris_version())} · previous run {_e(run_dir)} · '
        f"{_e(pr.context.rover.name)} / {_e(pr.context.lander.name)}</p>"
    )
    if pr.context.waivers:
        head += (
            '<p class="note"><b>Flight rules waived by the mission file:</b> '
            + "; ".join(f"{_e(r)} ({_e(w)})" for r, w in pr.context.waivers)
            + "</p>"
        )
    body = [
        head,
        "<h2>What changed against the previous plan</h2><ul>",
        *(f"<li>{_e(c)}</li>" for c in rr.changes),
        "</ul>",
        "<h2>The new plan</h2>",
        _kv(
            [
                ("starts at the telemetry pose", f"{t.x_m:.2f}, {t.y_m:.2f} m ({t.position_text})"),
                ("heading (deg)", round(t.heading_deg % 360.0, 1)),
                ("battery at the start (Wh)", round(t.battery_wh, 2)),
                ("stops", len(p.stops) - 1),
                ("distance (m)", round(p.distance_m, 1)),
                ("value", round(p.value, 2)),
                ("stops made before (kept out)", len(pr.done)),
                ("rover-seen hazards kept out", len(pr.hazards)),
            ]
        ),
        _img(outputs, "plan_png", "the new plan"),
        sequence_html(pr),
        "<h2>Timeline</h2>",
        _img(outputs, "timeline_png", "timeline of the new plan"),
        _files(outputs, descriptions),
    ]
    return _page("frigoris replan", "".join(body))


def ops_sim_report_html(
    summary: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    outputs: Mapping[str, pathlib.Path],
    *,
    notes: Sequence[str],
    descriptions: Mapping[str, str],
) -> str:
    """The ops simulation's page: what it models, per run and over runs, maps and charts."""
    cols = [
        ("run", "run"),
        ("seed", "seed"),
        ("stops achieved", "stops_achieved"),
        ("first planned", "stops_first_planned"),
        ("value achieved", "value_achieved"),
        ("distance (m)", "distance_m"),
        ("hazards met", "hazards_met"),
        ("time lost (h)", "time_lost_h"),
        ("lowest battery (Wh)", "lowest_battery_wh"),
        ("refused sequences", "sequences_refused"),
        ("replans", "replans"),
        ("end position error (m)", "end_position_error_m"),
    ]
    table = _table(
        [c[0] for c in cols],
        [[r.get(k) for _, k in cols] for r in runs],
        [True] * len(cols),
    )
    body = [
        f"<h1>Closed-loop operations simulation: {_e(summary.get('mission', ''))}</h1>",
        f'<p class="meta">frigoris {_e(frigoris_version())} · {summary.get("runs")} runs · seed '
        f"{summary.get('seed')} · chunk {summary.get('chunk')}</p>",
        "<h2>What is simulated</h2><ul>",
        *(f"<li>{_e(n)}</li>" for n in notes),
        "</ul>",
        "<h2>Over the runs</h2>",
        _kv([(k.replace("_", " "), v) for k, v in summary.items() if k not in ("mission",)]),
        _img(outputs, "ops_png", "first plan and the runs' tracks"),
        _img(outputs, "ops_metrics_png", "metrics over runs"),
        "<h2>Run by run</h2>",
        table,
        _files(outputs, descriptions),
    ]
    return _page("frigoris ops simulation", "".join(body))


def write_page(path: str | os.PathLike, html: str) -> pathlib.Path:
    """Write a page atomically."""
    return write_text(path, html)
