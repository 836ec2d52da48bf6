"""Telemetry and rover-seen hazards, read one way (``frigoris replan``, the ops simulation).

Telemetry is CSV (a header row, one row per report) or JSON (an object, a list of objects, or
``{"telemetry": [...]}``), with the fields

- ``time_utc``: ISO 8601 with a time zone (``2025-06-07T04:00Z``);
- ``position``: ``xy:X,Y`` (map metres) or ``latlon:LAT,LON`` (degrees), as every position in
  frigoris (:class:`~.inputs.Position`);
- ``heading_deg``: degrees clockwise from grid north;
- ``battery_wh``;
- ``stops_done``: numbers of the stops of the plan being updated that are made (a JSON list, or
  numbers separated by spaces or semicolons in CSV);
- ``commands_executed`` (optional): the id of the last command of its sequence executed.

Several reports are a time series: times must increase; the last one is the rover's state and
the stops done are those any report names. Hazards are GeoJSON: Points with a ``diameter_m``
property (or ``size_m``), or Polygons, in the map's CRS when the file names one (frigoris writes
it so) or in lunar longitude and latitude when it names none.
"""

from __future__ import annotations

import csv
import io
import json
import math
import pathlib
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pyproj
import shapely

from frigoris.terrain import Dem
from frigoris.terrain.crs import crs_to_lunar, lunar_to_crs, to_pyproj

from ...errors import RoverError, TelemetryError
from ...replan import SeenHazard, Telemetry
from .inputs import Position, _geojson_crs

__all__ = ["read_seen_hazards", "read_telemetry"]

_FIELDS = ("time_utc", "position", "heading_deg", "battery_wh", "stops_done", "commands_executed")


def _time(text: Any, where: str) -> datetime:
    raw = str(text).strip()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TelemetryError(
            f"{where}: time_utc {raw!r} is not an ISO 8601 time; write e.g. 2025-06-07T04:00Z"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise TelemetryError(f"{where}: time_utc {raw!r} has no time zone; add Z for UTC")
    return when.astimezone(timezone.utc)


def _number(v: Any, name: str, where: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise TelemetryError(f"{where}: {name} {v!r} is not a number") from None
    if not math.isfinite(x):
        raise TelemetryError(f"{where}: {name} {v!r} is not a finite number")
    return x


def _stops(v: Any, where: str) -> tuple[int, ...]:
    if v is None or v == "":
        return ()
    items = v if isinstance(v, list) else str(v).replace(";", " ").replace(",", " ").split()
    out = []
    for item in items:
        try:
            f = float(item)
        except (TypeError, ValueError):
            raise TelemetryError(
                f"{where}: stops_done {item!r} is not a stop number; give the numbers of the "
                "stops made (plan.txt, traverse.geojson)"
            ) from None
        if not f.is_integer():
            raise TelemetryError(f"{where}: stops_done {item!r} is not a whole stop number")
        out.append(int(f))
    return tuple(out)


def _records(path: pathlib.Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise TelemetryError(f"telemetry file {path} does not exist; give a CSV or JSON file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TelemetryError(f"telemetry file {path} is not text; give CSV or JSON") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise TelemetryError(f"{path} is not JSON ({err}); fix the file") from None
        if isinstance(doc, dict) and "telemetry" in doc:
            doc = doc["telemetry"]
        rows = doc if isinstance(doc, list) else [doc]
        if not all(isinstance(r, dict) for r in rows):
            raise TelemetryError(f"{path}: every telemetry report must be a JSON object")
        return rows
    rows = list(csv.DictReader(io.StringIO(text)))
    for i, r in enumerate(rows, start=1):
        if None in r:
            raise TelemetryError(
                f"{path} report {i} has more fields than the header: quote a position, whose "
                'comma would split it ("xy:X,Y")'
            )
    return [
        {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in r.items()} for r in rows
    ]


def read_telemetry(path: str | pathlib.Path, dem: Dem) -> Telemetry:
    """The rover's state from a telemetry file (see the module notes).

    Raises
    ------
    TelemetryError
        A missing file or field, a malformed value, times that do not increase.
    """
    path = pathlib.Path(path)
    rows = _records(path)
    if not rows:
        raise TelemetryError(f"{path} holds no telemetry report")
    times, done = [], []
    for i, r in enumerate(rows, start=1):
        where = f"{path} report {i}"
        missing = [f for f in _FIELDS[:4] if r.get(f) in (None, "")]
        if missing:
            raise TelemetryError(
                f"{where} has no {', '.join(missing)}; telemetry needs "
                "time_utc, position, heading_deg and battery_wh"
            )
        unknown = sorted(set(r) - set(_FIELDS))
        if unknown:
            raise TelemetryError(f"{where}: unknown field {unknown[0]!r}; use {list(_FIELDS)}")
        t = _time(r["time_utc"], where)
        if times and t <= times[-1]:
            raise TelemetryError(
                f"{where}: time {t:%Y-%m-%dT%H:%M:%SZ} is not after the report before "
                f"({times[-1]:%Y-%m-%dT%H:%M:%SZ}): time cannot go backwards"
            )
        times.append(t)
        done += _stops(r.get("stops_done"), where)
    last = rows[-1]
    where = f"{path} report {len(rows)}"
    try:
        pos = Position.parse(str(last["position"]), what=f"{where}: position")
    except RoverError as err:
        raise TelemetryError(str(err)) from None
    x, y = pos.xy(dem.crs)
    cmd = last.get("commands_executed")
    return Telemetry(
        time=times[-1],
        x_m=float(x),
        y_m=float(y),
        heading_deg=_number(last["heading_deg"], "heading_deg", where),
        battery_wh=_number(last["battery_wh"], "battery_wh", where),
        stops_done=tuple(sorted(set(done))),
        commands_executed=None if cmd in (None, "") else str(cmd),
        position_text=pos.text,
    )


def read_seen_hazards(path: str | pathlib.Path, dem: Dem) -> tuple[SeenHazard, ...]:
    """Rover-seen hazards from GeoJSON (see the module notes), in the map's coordinates.

    Raises
    ------
    TelemetryError
        Not GeoJSON, a geometry that is neither a Point nor a Polygon, a Point without a
        positive size, a hazard off the map.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise TelemetryError(f"hazards file {path} does not exist; give a GeoJSON file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        feats = doc["features"]
        if not isinstance(feats, list):
            raise TypeError("features is not a list")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise TelemetryError(f"{path} is not a GeoJSON FeatureCollection ({err})") from None
    transform = None
    if "crs" in doc:
        try:
            file_crs = _geojson_crs(path, doc["crs"])
        except RoverError as err:
            raise TelemetryError(str(err)) from None
        if to_pyproj(file_crs) != to_pyproj(dem.crs):

            def transform(x, y):
                lat, lon = crs_to_lunar(file_crs, x, y)
                return lunar_to_crs(dem.crs, lat, lon)

    else:

        def transform(x, y):
            return lunar_to_crs(dem.crs, y, x)

    out = []
    for i, f in enumerate(feats, start=1):
        props = (f or {}).get("properties") or {}
        name = str(props.get("name", f"hazard {i}"))
        where = f"{path}: hazard {i} ({name})"
        try:
            geom = shapely.geometry.shape((f or {}).get("geometry") or {})
        except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
            raise TelemetryError(f"{where} has no readable geometry") from None
        if geom.geom_type not in ("Point", "Polygon", "MultiPolygon") or geom.is_empty:
            raise TelemetryError(f"{where} is a {geom.geom_type}; give Points or Polygons")
        if transform is not None:
            try:
                geom = shapely.transform(
                    geom, lambda xy: np.column_stack(transform(xy[:, 0], xy[:, 1]))
                )
            except pyproj.exceptions.ProjError as err:
                raise TelemetryError(
                    f"{where}: its coordinates cannot be converted ({err})"
                ) from None
        if geom.geom_type == "Point":
            size = props.get("diameter_m", props.get("size_m"))
            if (
                isinstance(size, bool)
                or not isinstance(size, int | float)
                or not math.isfinite(size)
                or size <= 0
            ):
                raise TelemetryError(
                    f'{where} is a Point without a size; add "diameter_m": <metres> (> 0)'
                )
            size = float(size)
        else:
            x0, y0, x1, y1 = geom.bounds
            size = float(max(x1 - x0, y1 - y0))
        c = geom.representative_point()
        if not dem.contains(c.x, c.y):
            raise TelemetryError(f"{where} at ({c.x:.6g}, {c.y:.6g}) is off the map")
        out.append(SeenHazard(geom, size, name))
    return tuple(out)
