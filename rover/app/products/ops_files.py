"""Operations files of a plan: ``sequence.json`` and its CSV view, ``plan_state.json``, horizons.

- ``sequence.json``: the checked command sequence, cycle by cycle (see
  :mod:`frigoris.planners.sequence`), with the flight rules' verdict and the waivers;
- ``sequence.csv``: one row per command, for people and spreadsheets;
- ``plan_state.json``: what a replan needs besides the hazard map: the specs, the stop rules,
  the mission's end, the candidate stops, the stops already made, the rover-seen hazards, the
  plan's stops and where the hazard map and the horizons are (with their SHA-256);
- ``horizons.npy``: the horizon map as 8-bit codes (:func:`frigoris.rover.energy.horizon_codes`),
  so a replan needs not recompute it and sees the same shadows.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import pathlib
from datetime import timezone
from typing import Any

import numpy as np

from frigoris.terrain import write_text
from frigoris.terrain.crs import crs_to_lunar

from ...errors import RoverError
from ...planning import PlanResult
from ..formats import num, plain, utc_at, utc_iso
from ..provenance import sha256_file

__all__ = [
    "OPS_FILES",
    "PLAN_STATE_VERSION",
    "exact_utc",
    "read_plan_state",
    "sequence_csv",
    "write_ops_files",
]

OPS_FILES = ("sequence.json", "sequence.csv", "plan_state.json", "horizons.npy")
"""Every operations file a plan may write."""

PLAN_STATE_VERSION = 1


def _detail(cmd: dict[str, Any]) -> str:
    t = cmd["type"]
    if t == "drive":
        segs = "; ".join(
            f"{g['heading_deg']:.0f} deg {g['distance_m']:.2f} m" for g in cmd["segments"]
        )
        to = f" to stop {cmd['to_stop']}" if "to_stop" in cmd else ""
        return f"{len(cmd['segments'])} segments{to}: {segs}"
    if t == "image":
        return f"{cmd['images']} {cmd['purpose']} images"
    if t in ("wait", "charge"):
        return cmd.get("reason", "")
    if t == "downlink":
        return f"{cmd['bits'] / 1e6:.3f} Mbit"
    name = f", {cmd['stop_name']}" if cmd.get("stop_name") else ""
    return f"stop {cmd.get('stop')} ({cmd.get('stop_kind')}{name})"


def sequence_csv(doc: dict[str, Any], crs) -> str:
    """The CSV view of a sequence document: one row per command."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "cycle",
            "id",
            "type",
            "detail",
            "start_utc",
            "end_utc",
            "t_start_s",
            "t_end_s",
            "duration_s",
            "heading_deg",
            "distance_m",
            "x_m",
            "y_m",
            "lat_deg",
            "lon_deg",
            "battery_wh",
            "bits",
            "rules",
        ]
    )
    cmds = [c for cyc in doc["cycles"] for c in cyc["commands"]]
    if cmds:
        lat, lon = crs_to_lunar(
            crs, np.array([c["x_m"] for c in cmds]), np.array([c["y_m"] for c in cmds])
        )
        lat, lon = np.atleast_1d(lat), np.atleast_1d(lon)
    for i, c in enumerate(cmds):
        w.writerow(
            [
                c["cycle"],
                c["id"],
                c["type"],
                _detail(c),
                c.get("start_utc", ""),
                c.get("end_utc", ""),
                round(c["t_start_s"], 1),
                round(c["t_end_s"], 1),
                round(c["t_end_s"] - c["t_start_s"], 1),
                round(c["heading_deg"], 1)
                if "heading_deg" in c
                else round(c["heading_deg_end"], 1),
                round(c["distance_m"], 3) if "distance_m" in c else "",
                round(c["x_m"], 3),
                round(c["y_m"], 3),
                round(float(lat[i]), 7),
                round(float(lon[i]), 7),
                round(c["battery_wh"], 3),
                round(c["bits"]) if "bits" in c else "",
                " ".join(c["rules"]),
            ]
        )
    return buf.getvalue()


def _spec_dict(spec) -> dict[str, Any]:
    return plain({f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)})


def _ref(path: pathlib.Path | None, out_dir: pathlib.Path, final_dir: pathlib.Path | None):
    """Where a referenced file is, relative to the folder the state will live in."""
    if path is None:
        return None
    path = pathlib.Path(path).resolve()
    here = out_dir.resolve()
    # a file written beside the state moves with it; another one stays where it is
    base = here if here in path.parents else (final_dir or out_dir).resolve()
    return {
        "path": os.path.relpath(path, base),
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
    }


def write_ops_files(
    result: PlanResult,
    out_dir: pathlib.Path,
    crs,
    *,
    hazard_path: pathlib.Path | None,
    final_dir: pathlib.Path | None = None,
    horizons_path: pathlib.Path | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, pathlib.Path]:
    """sequence.json, sequence.csv, plan_state.json and (first plans) horizons.npy.

    Parameters
    ----------
    result : PlanResult
        With a segment (a plan made with an operations spec).
    out_dir : path
        Where to write now (a staging folder).
    crs : CRS
        The map's CRS (latitude and longitude of every command in the CSV view).
    hazard_path : path or None
        The hazard map the plan was made on (None: made on a DEM; the run cannot be replanned).
    final_dir : path, optional
        Where the files will end up (references are relative to it); default ``out_dir``.
    horizons_path : path, optional
        An existing ``horizons.npy`` to reference (a replan); else it is written here.
    previous : dict, optional
        The plan state this plan replans (its stops are recorded as ``previous_stops``).
    """
    seg, ctx = result.segment, result.context
    if seg is None or ctx is None:
        raise RoverError("only plans made with an operations spec have a command sequence")
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, pathlib.Path] = {}
    doc = plain(seg.sequence)
    outputs["sequence"] = write_text(
        out_dir / "sequence.json", json.dumps(doc, allow_nan=False) + "\n"
    )
    outputs["sequence_csv"] = write_text(out_dir / "sequence.csv", sequence_csv(doc, crs))
    if horizons_path is None:
        horizons_path = out_dir / "horizons.npy"
        np.save(horizons_path, result.horizon_codes, allow_pickle=False)
        outputs["horizons"] = horizons_path
    c = result.candidates
    p = result.plan
    names = p.stops.names if p.stops.names else ("",) * len(p.stops)
    state = {
        "frigoris_plan_state": PLAN_STATE_VERSION,
        "plan_start_utc": exact_utc(result.start_time),
        "mission_end_utc": utc_iso(ctx.mission_end),
        "seed": ctx.seed,
        "time_limit_s": ctx.time_limit_s,
        "waivers": [{"rule": r, "reason": why} for r, why in ctx.waivers],
        "rover": _spec_dict(ctx.rover),
        "lander": _spec_dict(ctx.lander),
        "operations": _spec_dict(ctx.ops),
        "stop_rules": plain(dataclasses.asdict(ctx.rules)),
        "camera_azimuth_deg": result.camera_azimuth_deg,
        "hazard_map": _ref(hazard_path, out_dir, final_dir),
        "horizons": {
            **_ref(horizons_path, out_dir, final_dir),
            "azimuths_deg": plain(result.horizons.azimuths_deg),
            "res_m": result.horizons.res_m,
            "body_radius_m": result.horizons.body_radius_m,
            "lines_per_cell": result.horizons.lines_per_cell,
        },
        "start": {
            "x_m": float(p.stops.x[0]) if result.start_xy is None else float(result.start_xy[0]),
            "y_m": float(p.stops.y[0]) if result.start_xy is None else float(result.start_xy[1]),
            "heading_deg": result.start_heading_deg,
            "battery_wh": float(p.soc_arrival_wh[0]),
        },
        "candidates": {
            "x_m": plain(c.x),
            "y_m": plain(c.y),
            "kind": list(c.kind),
            "value": plain(c.value),
            "dwell_s": plain(c.dwell_s),
            "reason": list(c.reason),
            "names": list(c.names) if c.names else [""] * len(c),
        },
        "done": list(result.done),
        "hazards": list(result.hazards),
        "stops": [
            {
                "stop": k,
                "kind": p.stops.kind[k],
                "name": names[k],
                "x_m": float(p.stops.x[k]),
                "y_m": float(p.stops.y[k]),
                "value": float(p.stops.value[k]),
                "arrival_utc": utc_at(result.start_time, p.arrival_s[k]),
                "departure_utc": utc_at(result.start_time, p.departure_s[k]),
            }
            for k in range(len(p.stops))
        ],
        "distance_m": num(p.distance_m, 3),
        "value": num(p.value, 6),
        "end_utc": utc_at(result.start_time, p.duration_s),
        "previous_stops": [] if previous is None else previous.get("stops", []),
    }
    outputs["plan_state"] = write_text(
        out_dir / "plan_state.json", json.dumps(plain(state), indent=1, allow_nan=False) + "\n"
    )
    return outputs


def exact_utc(t) -> str:
    """An aware time in UTC to the microsecond (plan time 0: windows are reckoned from it)."""
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def read_plan_state(run_dir: pathlib.Path) -> dict[str, Any]:
    """The ``plan_state.json`` of a run folder, checked to be one frigoris wrote."""
    path = pathlib.Path(run_dir) / "plan_state.json"
    if not path.is_file():
        raise RoverError(
            f"{run_dir} holds no plan_state.json; give the folder of a `frigoris mission`, "
            "`frigoris plan` or `frigoris replan` run"
        )
    try:
        doc = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise RoverError(f"{path} is not JSON ({err}); the run folder is damaged") from None
    if not isinstance(doc, dict) or doc.get("frigoris_plan_state") != PLAN_STATE_VERSION:
        raise RoverError(f"{path} is not a frigoris plan state of version {PLAN_STATE_VERSION}")
    return doc
