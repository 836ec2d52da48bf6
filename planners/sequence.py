"""Command sequences: a checked traverse plan as the commands a rover team would uplink.

:func:`build_sequence` turns a :class:`~frigoris.planners.traverse.TraversePlan` made with a
:class:`~frigoris.planners.traverse.Cadence` into a plain document (the ``sequence.json`` a run
writes), cycle by cycle. A cycle starts when its command arrives (the end of an uplink) and
holds what the rover does until the next one arrives:

- ``drive``: straight segments, each a heading (degrees clockwise from grid north) and a
  distance, through waypoints; ``path_xy`` lists every point the rover passes (the centre of
  every raster cell of the path), which the checker follows;
- ``scoop``, ``place_moonhouse``, ``observe``: the activity at a stop;
- ``image``: navigation images at the end of a cycle, science images after a stop's activity
  (bits the downlink must carry);
- ``downlink``: images sent to the ground through the lander;
- ``wait``: for the ground's work (``ground``), the uplink (``uplink``), the commanding window
  (``window``) or the Sun (``sun``); ``charge``: parked until the battery allows the next move.

Every command has its start and end time (plan seconds and UTC), the state expected at its end
(position, heading, battery) and the flight rules it meets. Cycle ``0`` is the ground planning
the first move. The document is checked by
:func:`frigoris.planners.sequence_check.check_sequence`, which shares no code with this module
or the planner.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from .errors import PlanningError
from .traverse import Cadence, TraversePlan

__all__ = ["SEQUENCE_VERSION", "STOP_ACTIVITY", "build_sequence"]

SEQUENCE_VERSION = 1
"""Version of the ``sequence.json`` layout."""

STOP_ACTIVITY = {"scoop": "scoop", "moonhouse": "place_moonhouse"}
"""Command of a stop's activity by stop kind (other kinds: ``observe``, imaging the place)."""

_RULES = {
    "drive": (
        "continuity",
        "speed",
        "cycle_distance",
        "keepout",
        "risk",
        "link",
        "battery",
        "window",
        "sun",
    ),
    "scoop": ("continuity", "keepout", "battery", "sun"),
    "place_moonhouse": ("continuity", "keepout", "battery", "sun"),
    "observe": ("continuity", "keepout", "battery", "sun"),
    "image": ("continuity", "data", "sun"),
    "downlink": ("continuity", "data", "link", "battery"),
    "wait": ("continuity", "keepout", "battery"),
    "charge": ("continuity", "keepout", "battery"),
}
"""Flight rules each command type is checked against (``clock`` applies to all)."""

_WAIT_REASONS = {"ground": "ground", "uplink": "uplink", "window": "window", "sun": "sun"}


def _heading_deg(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _utc(start: datetime | None, t_s: float) -> str | None:
    if start is None:
        return None
    when = start + timedelta(seconds=float(t_s))
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _segments(path: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Straight runs of the path: heading, distance and the point each ends at."""
    out: list[dict[str, Any]] = []
    for (x0, y0), (x1, y1) in zip(path[:-1], path[1:], strict=True):
        dx, dy = x1 - x0, y1 - y0
        d = math.hypot(dx, dy)
        h = _heading_deg(dx, dy)
        if out and abs(out[-1]["heading_deg"] - h) < 1e-9:
            out[-1]["distance_m"] += d
            out[-1]["to_xy"] = [x1, y1]
        else:
            out.append({"heading_deg": h, "distance_m": d, "to_xy": [x1, y1]})
    return out


def build_sequence(
    plan: TraversePlan,
    *,
    cadence: Cadence,
    start_heading_deg: float = 0.0,
    start_xy: tuple[float, float] | None = None,
    start_utc: datetime | None = None,
    images: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The plan's command sequence as a plain document (see the module notes).

    Parameters
    ----------
    plan : TraversePlan
        Made with ``Operations.cadence`` (its timeline has the turnaround phases).
    cadence : Cadence
        The cadence the plan was made with (bits of each image set).
    start_heading_deg : float
        The rover's heading at plan time 0 (degrees clockwise from grid north).
    start_xy : (x, y), optional
        The rover's pose as known (telemetry); default the start cell's centre.
    start_utc : datetime, optional
        Plan time 0 in UTC: every command then also has ``start_utc``/``end_utc``.
    images : dict, optional
        Number of images per set, for people: ``{"navcam": 4, "scoop": 6, ...}``.

    Returns
    -------
    dict
        ``frigoris_sequence``, ``start``, ``stops``, ``cycles`` (each with its commands) and
        ``commands`` counts; JSON-ready.

    Raises
    ------
    PlanningError
        The plan was not made with a cadence (no turnarounds in its timeline). An empty plan
        (the rover cannot move) gives a sequence without commands.
    """
    tl = plan.timeline
    act = np.asarray(tl["activity"])
    if len(act) > 1 and not np.isin(act, ("uplink",)).any():
        raise PlanningError(
            "the plan has no uplinks in its timeline: build sequences from plans made with a "
            "Cadence (Operations.cadence)"
        )
    images = images or {}
    t = np.asarray(tl["t_s"], dtype=np.float64)
    x = np.asarray(tl["x"], dtype=np.float64)
    y = np.asarray(tl["y"], dtype=np.float64)
    soc = np.asarray(tl["soc_wh"], dtype=np.float64)
    leg = np.asarray(tl["leg"])
    stop = np.asarray(tl["stop"])
    s = plan.stops
    names = s.names if s.names else ("",) * len(s)
    sx, sy = (float(x[0]), float(y[0])) if start_xy is None else map(float, start_xy)
    doc: dict[str, Any] = {
        "frigoris_sequence": SEQUENCE_VERSION,
        "start_utc": None
        if start_utc is None
        else start_utc.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "start": {
            "t_s": float(t[0]),
            "x_m": sx,
            "y_m": sy,
            "cell_x_m": float(x[0]),
            "cell_y_m": float(y[0]),
            "heading_deg": float(start_heading_deg) % 360.0,
            "battery_wh": float(soc[0]),
        },
        "stops": [
            {
                "stop": k,
                "kind": s.kind[k],
                "name": names[k],
                "x_m": float(s.x[k]),
                "y_m": float(s.y[k]),
                "value": float(s.value[k]),
                "reason": s.reason[k],
            }
            for k in range(len(s))
        ],
        "cycles": [],
    }
    cycles: list[dict[str, Any]] = [{"cycle": 0, "uplink_t_s": None, "commands": []}]
    heading = float(start_heading_deg) % 360.0
    queue = 0.0
    moved = False
    i = 1
    n = len(t)
    while i < n:
        a = act[i]
        j = i + 1
        if a == "drive":
            while j < n and act[j] == "drive" and leg[j] == leg[i]:
                j += 1
        elif a not in ("navcam", "science"):
            while j < n and act[j] == a and stop[j] == stop[i]:
                j += 1
        last = j - 1
        t0, t1 = float(t[i - 1]), float(t[last])
        cmd: dict[str, Any] = {"type": "", "t_start_s": t0, "t_end_s": t1}
        if a == "drive":
            path = [(float(x[m]), float(y[m])) for m in range(i - 1, j)]
            segs = _segments(path)
            heading = segs[-1]["heading_deg"]
            cmd.update(
                type="drive",
                leg=int(leg[i]),
                distance_m=float(sum(g["distance_m"] for g in segs)),
                heading_deg=segs[0]["heading_deg"],
                segments=segs,
                path_xy=[list(p) for p in path],
            )
            if stop[last] >= 0:
                cmd["to_stop"] = int(stop[last])
        elif a == "dwell":
            k = int(stop[i])
            cmd.update(
                type=STOP_ACTIVITY.get(s.kind[k], "observe"),
                stop=k,
                stop_kind=s.kind[k],
                stop_name=names[k],
            )
        elif a in ("navcam", "science"):
            k = int(stop[i])
            kind = s.kind[k] if a == "science" and k >= 0 else "navcam"
            bits = cadence.nav_bits if a == "navcam" else cadence.bits_at(kind)
            queue += bits
            cmd.update(
                type="image",
                purpose="navigation" if a == "navcam" else "science",
                images=int(images.get(kind, 0)),
                bits=float(bits),
            )
            if a == "science":
                cmd["stop"] = k
        elif a == "downlink":
            carried = min(queue, cadence.link_bit_s * (t1 - t0))
            queue -= carried
            cmd.update(type="downlink", bits=float(carried))
        elif a == "charge":
            cmd.update(type="charge", reason="battery")
        elif a in _WAIT_REASONS:
            cmd.update(type="wait", reason=_WAIT_REASONS[a])
        else:
            raise PlanningError(f"timeline activity {a!r} has no command; a plan from a Cadence?")
        if not moved and a != "drive":
            # until its first move the rover stays where it is known to be (in its start cell)
            ex, ey = sx, sy
        else:
            ex, ey = float(x[last]), float(y[last])
        moved = moved or a == "drive"
        cmd.update(
            x_m=ex,
            y_m=ey,
            heading_deg_end=heading,
            battery_wh=float(soc[last]),
            data_queued_bits=float(queue),
            rules=list(_RULES[cmd["type"]]),
        )
        if start_utc is not None:
            cmd["start_utc"] = _utc(start_utc, t0)
            cmd["end_utc"] = _utc(start_utc, t1)
        cyc = cycles[-1]
        cmd["id"] = f"{cyc['cycle']:03d}.{len(cyc['commands']) + 1:02d}"
        cmd["cycle"] = cyc["cycle"]
        cyc["commands"].append(cmd)
        if a == "uplink":
            cycles.append(
                {
                    "cycle": cyc["cycle"] + 1,
                    "uplink_t_s": t1,
                    "uplink_utc": _utc(start_utc, t1),
                    "commands": [],
                }
            )
        i = j
    if not cycles[-1]["commands"]:
        cycles.pop()
    doc["cycles"] = cycles
    counts: dict[str, int] = {}
    for cyc in cycles:
        for cmd in cyc["commands"]:
            counts[cmd["type"]] = counts.get(cmd["type"], 0) + 1
    doc["counts"] = counts
    return doc
