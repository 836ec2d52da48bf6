"""``map.html``: the run as an interactive map that works from a ``file://`` URL, offline.

:func:`write_webmap` writes one self-contained HTML page: the vendored Leaflet and proj4js
(``web/``, with their licences), the page's own script and style, the rasters as PNG data URIs
and the vectors and timeline as JSON. Nothing is fetched from a network, and the page is one
file: it opens the same from the run folder, a copy or an e-mail attachment.

What it draws comes from the run's objects (a
:class:`~frigoris.rover.app.results.MissionResult`), so a run that stopped early shows what
exists:

- **terrain**: hillshade and elevation from the DEM;
- **hazard** layers, each present only when the run's
  :class:`~frigoris.terrain.hazard.HazardMap` has it (see :data:`HAZARD_LAYERS`): keep-out
  (all reasons, and one layer per reason when the map carries a ``keepout_reason`` bit band),
  risk, rock risk, slope, cost, cast shadow, no link to the lander, link margin;
- **touchdown**: the 1/2/3-sigma ellipses, the aim point, every Monte Carlo touchdown by
  scenario (coloured by outcome, whatever the scenarios and outcomes are called) and the
  descent impact points of runs that crashed;
- **deployment**: the lander, the sides (chosen, ok, blocked), the egress, the plume zone;
- **traverse**: the legs coloured by time, the stops with a popup (kind, value, reason,
  arrival, departure, battery), targets, and the rover on a time slider over ``timeline.csv``'s
  rows with battery, sun elevation, link and activity beside the map, and the day's drive
  window and the current command cycle highlighted.

Rasters are reduced to at most ``max_px`` pixels on a side by blocks: masks and hazards keep a
block's worst cell (a display pixel is keep-out when any DEM cell in it is), elevation its mean.
Map coordinates are the DEM's CRS in metres; the page turns the cursor's position into latitude
and longitude: in closed form for the local transverse Mercator of a reprojected site, with
proj4js from the PROJ string for any other CRS (no PROJ string: x/y only). The same run
gives the same bytes.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import functools
import html
import importlib.resources
import io
import json
import os
import pathlib
import re
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pyproj
from matplotlib import colormaps
from PIL import Image

from frigoris.planners.traverse import Operations
from frigoris.terrain import Dem, write_text
from frigoris.terrain.crs import crs_to_lunar, to_pyproj
from frigoris.terrain.hazard import REASONS, HazardMap
from frigoris.terrain.slope import hillshade
from frigoris.terrain.synth import RESILIENCE_TARGET

from ...errors import RoverError
from ...touchdown import MISSION2_IMPACT_OFFSET_M, SAFE_OUTCOMES
from ..formats import num, utc_iso
from ..provenance import frigoris_version
from ..results import MissionResult
from .gpkg import mission_layers
from .maps import decimate, display_factor, true_north_deg
from .style import OUTCOME_COLOURS, STOP_COLOURS

__all__ = [
    "HAZARD_LAYERS",
    "MAP_FILE",
    "HazardLayer",
    "find_map",
    "MapRasters",
    "hazard_rasters",
    "map_document",
    "map_rasters",
    "read_timeline",
    "reduce_blocks",
    "webmap_html",
    "write_webmap",
]

MAP_FILE = "map.html"
"""The page's name in a run folder."""

MAX_PX = 1024
"""Longest side of a raster overlay: 1 m pixels on the 1024 m demo site (2048 px at 0.5 m),
the DEM's own pixels on smaller sites; the demo's page stays near 3 MB."""

_WEB = "web"
_LEAFLET = ("leaflet/leaflet.js", "leaflet/leaflet.css")
_PROJ4 = "proj4/proj4.js"

# Reasons of the keep-out bit band, coloured apart (unknown reasons get the fallback colour).
_REASON_COLOURS = {
    "nodata": "#7f7f7f",
    "slope": "#d62728",
    "obstacle": "#ff7f0e",
    "risk": "#8c564b",
    "lander": "#ffffff",
    "link": "#9467bd",
}
_FALLBACK_COLOUR = "#17becf"


@dataclass(frozen=True)
class HazardLayer:
    """One hazard overlay: how to read it from a HazardMap and how to draw it.

    Attributes
    ----------
    key : str
        The HazardMap attribute (or method, for ``comm_ok``) holding the band.
    label : str
        What the layer list calls it.
    kind : str
        ``mask`` (one colour where true), ``inverse-mask`` (one colour where false), ``ramp``
        (a colour map) or ``bits`` (one mask layer per keep-out reason set).
    colour_or_cmap : str
        The mask colour, or the matplotlib colour map of a ramp.
    reduce : str
        How a block of DEM cells becomes one display pixel: ``max``, ``min`` or ``mean``.
    units : str
        Shown on the ramp's legend.
    visible : bool
        Switched on when the page opens.
    """

    key: str
    label: str
    kind: str
    colour_or_cmap: str
    reduce: str = "max"
    units: str = ""
    visible: bool = False


HAZARD_LAYERS: tuple[HazardLayer, ...] = (
    HazardLayer("keepout", "keep-out (every reason, risk over the threshold too)", "mask",
                "#d62728", visible=True),
    HazardLayer("keepout_reason", "keep-out: {reason}", "bits", ""),
    HazardLayer("risk", "risk", "ramp", "magma_r", units=""),
    HazardLayer("rock_risk", "unresolved-rock risk", "ramp", "YlOrBr", units="probability"),
    HazardLayer("slope_rover_deg", "slope over the rover footprint", "ramp", "viridis",
                units="deg"),
    HazardLayer("cost", "traverse cost (1 = flat, free ground)", "ramp", "cividis", units=""),
    HazardLayer("shadow", "cast shadow (at the hazard map's sun)", "mask", "#1f3a93"),
    HazardLayer("comm_ok", "no link to the lander", "inverse-mask", "#9467bd"),
    HazardLayer("link_margin_db", "link margin to the lander", "ramp", "RdYlGn", reduce="min",
                units="dB"),
)  # fmt: skip
"""Every hazard overlay the page knows, in list order. A layer whose band the run's HazardMap
does not have (``getattr`` gives None or nothing) is left out, so bands added to the map later
(``keepout_reason``, ``risk``, ``link_margin_db``) appear without a change here."""

_ACTIVITY_COLOURS = {
    "start": "#ffffff",
    "drive": "#2ca02c",
    "cycle": "#1f77b4",
    "window": "#c7c7c7",
    "charge": "#ffbf00",
    "dwell": "#e377c2",
    "navcam": "#17becf",
    "science": "#17becf",
    "downlink": "#1f77b4",
    "ground": "#ff7f0e",
    "uplink": "#ff7f0e",
    "sun": "#8c564b",
}


# --------------------------------------------------------------------------------------------
# rasters


def reduce_blocks(a: np.ndarray, f: int, how: str) -> np.ndarray:
    """Reduce ``a`` by ``f`` x ``f`` blocks ignoring NaN: :func:`.maps.decimate`, plus ``min``.

    Parameters
    ----------
    a : ndarray of shape (M, N)
        Float (NaN = no data) or bool.
    f : int
        Block size in cells; edge blocks are partial.
    how : {"max", "min", "mean", "any"}
        ``max`` for hazards, ``min`` for a margin (the block's worst cell), ``any`` for masks.

    Returns
    -------
    ndarray of shape (ceil(M / f), ceil(N / f))

    Examples
    --------
    >>> reduce_blocks(np.array([[1.0, 2.0, 5.0], [np.nan, 4.0, np.nan]]), 2, "min")
    array([[1., 5.]], dtype=float32)
    """
    if how == "min":
        return -decimate(-np.asarray(a, dtype=np.float32), f, "max")
    if how not in ("max", "mean", "any"):
        raise ValueError(f"reduce {how!r} is not one of max, min, mean, any")
    return decimate(a, f, how)


def _png(index: np.ndarray, rgba: np.ndarray) -> bytes:
    """An 8-bit palette PNG: ``index`` into ``rgba`` (K, 4) uint8 colours (K <= 256)."""
    img = Image.fromarray(
        np.ascontiguousarray(index, dtype=np.uint8)
    )  # "L"; a palette makes it "P"
    img.putpalette(rgba[:, :3].astype(np.uint8).ravel().tolist())
    buf = io.BytesIO()
    # zlib's default level: optimize=True makes the demo's PNGs 0.3 % smaller, 3x slower
    img.save(buf, format="PNG", transparency=bytes(rgba[:, 3].astype(np.uint8)))
    return buf.getvalue()


def _data_uri(data: bytes) -> str:
    mime = "image/jpeg" if data[:2] == b"\xff\xd8" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def grey_jpeg(values: np.ndarray) -> bytes:
    """A greyscale JPEG of ``values`` in [0, 1] (NaN drawn mid-grey)."""
    grey = np.round(np.clip(np.nan_to_num(values, nan=0.5), 0.0, 1.0) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="JPEG", quality=_JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def mask_png(mask: np.ndarray, colour: str) -> bytes:
    """A PNG of ``colour`` where ``mask`` is true, transparent elsewhere."""
    rgba = np.array([[0, 0, 0, 0], [*_hex_rgb(colour), 255]], dtype=np.uint8)
    return _png(np.asarray(mask, dtype=np.uint8), rgba)


_RAMP_LEVELS = 32
"""Colours of a ramp overlay: 32 steps read as a ramp; the demo's slope layer takes 590 KB at 32
and 710 KB at 64 (the ramp layers are noisy and compress little)."""

_JPEG_QUALITY = 80
"""The hillshade is a JPEG: 280 KB on the demo site against 630 KB as a 64-grey PNG, with no
visible loss at 1 m pixels (it has no transparent cells worth keeping: 1-pixel NaN edges)."""


def ramp_png(values: np.ndarray, cmap: str, vmin: float, vmax: float) -> bytes:
    """A PNG of ``values`` through colour map ``cmap`` over [vmin, vmax]; NaN transparent."""
    lut = (colormaps[cmap].resampled(_RAMP_LEVELS)(np.arange(_RAMP_LEVELS)) * 255).round()
    rgba = np.vstack([lut.astype(np.uint8), [0, 0, 0, 0]])
    span = vmax - vmin if vmax > vmin else 1.0
    with np.errstate(invalid="ignore"):
        k = np.floor((values - vmin) / span * _RAMP_LEVELS)
    idx = np.where(np.isfinite(values), np.clip(k, 0, _RAMP_LEVELS - 1), _RAMP_LEVELS)
    return _png(idx.astype(np.uint8), rgba)


def _ramp_stops(cmap: str, n: int = 6) -> list[str]:
    """CSS colours along ``cmap`` for the legend's gradient."""
    cols = colormaps[cmap](np.linspace(0.0, 1.0, n))
    return ["#" + "".join(f"{int(round(v * 255)):02x}" for v in c[:3]) for c in cols]


def _overlay_bounds(dem: Dem, f: int, shape_out: tuple[int, int]) -> list[float]:
    """[left, bottom, right, top] of a reduced raster (edge blocks padded past the DEM)."""
    b, res = dem.bounds, dem.res_m
    return [
        b.left,
        b.top - shape_out[0] * f * res,
        b.left + shape_out[1] * f * res,
        b.top,
    ]


def _raster_entry(
    layer_id: str,
    label: str,
    group: str,
    png: bytes,
    bounds: list[float],
    legend: dict[str, Any],
    *,
    visible: bool = False,
    opacity: float = 0.55,
) -> dict[str, Any]:
    return {
        "id": layer_id,
        "label": label,
        "group": group,
        "type": "raster",
        "src": _data_uri(png),
        "bounds": [round(v, 3) for v in bounds],
        "legend": legend,
        "visible": visible,
        "opacity": opacity,
        "image_bytes": len(png),
    }


def _ramp_range(values: np.ndarray) -> tuple[float, float] | None:
    """(vmin, vmax) of the finite values (1st and 99th percentiles), None when uniform."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(finite, [1.0, 99.0]))
    if hi <= lo:
        lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return None
    return lo, hi


def terrain_rasters(dem: Dem, f: int, sun: tuple[float, float] | None) -> list[dict[str, Any]]:
    """Hillshade (lit as the hazard map's sun, else from 108 deg, 30 deg up) and elevation."""
    az, el = sun if sun is not None and sun[1] > 5.0 else (108.0, 30.0)
    shade = reduce_blocks(hillshade(dem.elevation, dem.res_m, az, el), f, "mean")
    bounds = _overlay_bounds(dem, f, shade.shape)
    out = [
        _raster_entry(
            "hillshade",
            f"hillshade (light from azimuth {az:.0f} deg, {el:.0f} deg up)",
            "terrain",
            grey_jpeg(shade),
            bounds,
            {"type": "ramp", "colours": _ramp_stops("gray"), "min": 0.0, "max": 1.0, "units": ""},
            visible=True,
            opacity=1.0,
        )
    ]
    elev = reduce_blocks(dem.elevation, f, "mean")
    rng = _ramp_range(elev)
    if rng is not None:
        out.append(
            _raster_entry(
                "elevation",
                "elevation (m, Moon sphere)",
                "terrain",
                ramp_png(elev, "terrain", *rng),
                bounds,
                {
                    "type": "ramp",
                    "colours": _ramp_stops("terrain"),
                    "min": round(rng[0], 2),
                    "max": round(rng[1], 2),
                    "units": "m",
                },
                opacity=0.45,
            )
        )
    return out


def _band(hm: HazardMap, key: str) -> np.ndarray | None:
    """A band of ``hm`` by name, or None when the map does not have it."""
    v = getattr(hm, key, None)
    if callable(v):
        v = v()
    return None if v is None else np.asarray(v)


def hazard_rasters(hm: HazardMap, f: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The overlays of :data:`HAZARD_LAYERS` the map has, and notes on layers left out."""
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    dem = hm.grid
    for spec in HAZARD_LAYERS:
        band = _band(hm, spec.key)
        if band is None or band.shape != dem.shape:
            continue
        if spec.kind in ("mask", "inverse-mask"):
            mask = band.astype(bool) if spec.kind == "mask" else ~band.astype(bool)
            if spec.kind == "inverse-mask":
                mask &= np.isfinite(dem.elevation)
            small = reduce_blocks(mask, f, "any")
            share = float(mask.mean())
            out.append(
                _raster_entry(
                    spec.key,
                    spec.label,
                    "hazard",
                    mask_png(small, spec.colour_or_cmap),
                    _overlay_bounds(dem, f, small.shape),
                    {"type": "swatch", "colour": spec.colour_or_cmap, "share": round(share, 4)},
                    visible=spec.visible,
                    opacity=0.35,
                )
            )
        elif spec.kind == "bits":
            bits = band.astype(np.int64)
            for k, reason in enumerate(REASONS):
                mask = (bits & (1 << k)) > 0
                if not mask.any():
                    continue
                small = reduce_blocks(mask, f, "any")
                colour = _REASON_COLOURS.get(reason, _FALLBACK_COLOUR)
                out.append(
                    _raster_entry(
                        f"keepout_reason_{reason}",
                        spec.label.format(reason=reason.replace("_", " ")),
                        "hazard",
                        mask_png(small, colour),
                        _overlay_bounds(dem, f, small.shape),
                        {"type": "swatch", "colour": colour, "share": round(float(mask.mean()), 4)},
                        opacity=0.5,
                    )
                )
        else:
            vals = np.where(np.isfinite(band), band, np.nan).astype(np.float32)
            small = reduce_blocks(vals, f, spec.reduce)
            rng = _ramp_range(small)
            if rng is None:
                finite = vals[np.isfinite(vals)]
                if finite.size:
                    notes.append(f"{spec.label}: {float(finite[0]):.4g} everywhere (no layer)")
                continue
            if spec.key == "link_margin_db":  # diverging around 0 dB: red no link, green margin
                m = max(abs(rng[0]), abs(rng[1]))
                rng = (-m, m)
            out.append(
                _raster_entry(
                    spec.key,
                    spec.label,
                    "hazard",
                    ramp_png(small, spec.colour_or_cmap, *rng),
                    _overlay_bounds(dem, f, small.shape),
                    {
                        "type": "ramp",
                        "colours": _ramp_stops(spec.colour_or_cmap),
                        "min": float(f"{rng[0]:.4g}"),
                        "max": float(f"{rng[1]:.4g}"),
                        "units": spec.units,
                    },
                    opacity=0.6,
                )
            )
    return out, notes


# --------------------------------------------------------------------------------------------
# vectors and the timeline


def _is_impact(outcome: str) -> bool:
    """A touchdown that hit the ground in a descent failure (``crash``, ``crash-...``)."""
    return outcome == "crash" or outcome.startswith("crash")


def _outcome_colour(outcome: str, seen: dict[str, str]) -> str:
    if outcome in OUTCOME_COLOURS:
        return OUTCOME_COLOURS[outcome]
    extra = ("#1f77b4", "#9467bd", "#8c564b", "#17becf", "#bcbd22")
    return seen.setdefault(outcome, extra[len(seen) % len(extra)])


def _lean(feature: dict[str, Any]) -> dict[str, Any]:
    """A feature without ``lat_deg``/``lon_deg`` (the page computes them), points to the mm."""
    props = {k: v for k, v in feature["properties"].items() if k not in ("lat_deg", "lon_deg")}
    geom = feature["geometry"]
    if geom["type"] == "Point":
        geom = {"type": "Point", "coordinates": [round(float(c), 3) for c in geom["coordinates"]]}
    return {"type": "Feature", "geometry": geom, "properties": props}


def _circles(x: np.ndarray, y: np.ndarray, **columns: np.ndarray) -> list[dict[str, Any]]:
    """Point features at (x, y), one per row of ``columns`` (rounded, no NaN)."""
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [num(x[i]), num(y[i])]},
            "properties": {k: num(v[i]) for k, v in columns.items()},
        }
        for i in range(len(x))
    ]


def vector_layers(result: MissionResult) -> dict[str, Any]:
    """The run's vector layers (GeoJSON features in map metres) and their colours.

    The layers of :func:`~.gpkg.mission_layers` (what ``mission.gpkg`` holds), the touchdowns
    split by scenario, the crash impact points, and the published Mission 2 impact when the aim
    point is Resilience's target.
    """
    # craters and rocks as points with a diameter (the page draws the circles), not as the
    # GeoPackage's 32-vertex rings
    layers = {
        k: [_lean(f) for f in v]
        for k, v in mission_layers(dataclasses.replace(result, hazard=None)).items()
    }
    if result.hazard is not None:
        c, rk = result.hazard.craters, result.hazard.rocks
        layers["craters"] = _circles(
            c.x,
            c.y,
            diameter_m=c.diameter_m,
            depth_m=c.depth_m,
            depth_ratio=c.depth_m / np.maximum(c.diameter_m, 1e-9),
        )
        layers["rocks"] = _circles(rk.x, rk.y, diameter_m=rk.diameter_m, height_m=rk.height_m)
        layers = {k: v for k, v in layers.items() if v}
    touchdowns = layers.pop("touchdowns", [])
    by_scenario: dict[str, list] = {}
    for feat in touchdowns:
        by_scenario.setdefault(str(feat["properties"].get("scenario", "")), []).append(feat)
    impacts = [f for f in touchdowns if _is_impact(str(f["properties"].get("outcome", "")))]
    extra: dict[str, str] = {}
    outcomes = sorted(
        {str(f["properties"].get("outcome", "")) for f in touchdowns},
        key=lambda o: (o not in OUTCOME_COLOURS, list(OUTCOME_COLOURS).index(o)
                       if o in OUTCOME_COLOURS else 0, o),
    )  # fmt: skip
    reference = None
    if result.target_xy is not None and result.touchdowns:
        lat, lon = crs_to_lunar(result.dem.crs, *result.target_xy)
        if abs(lat - RESILIENCE_TARGET[0]) < 0.01 and abs(lon - RESILIENCE_TARGET[1]) < 0.01:
            ix = result.target_xy[0] + MISSION2_IMPACT_OFFSET_M[0]
            iy = result.target_xy[1] + MISSION2_IMPACT_OFFSET_M[1]
            if result.dem.contains(ix, iy):
                reference = {"x": round(ix, 3), "y": round(iy, 3)}
    return {
        "layers": layers,
        "touchdowns": by_scenario,
        "impacts": impacts,
        "reference_impact": reference,
        "outcome_colours": {o: _outcome_colour(o, extra) for o in outcomes},
        "safe_outcomes": list(SAFE_OUTCOMES),
        "stop_colours": STOP_COLOURS,
    }


_TIMELINE_NUMBERS = {
    "t_s": 1,
    "x_m": 3,
    "y_m": 3,
    "soc_wh": 3,
    "sun_elevation_deg": 3,
    "solar_w": 3,
    "hazard_cost": 3,
    "link_margin_db": 2,
}


def read_timeline(path: pathlib.Path) -> dict[str, Any]:
    """``timeline.csv`` as columns: numbers as floats (None when empty), text as codes.

    The page moves the rover between exactly these rows, so it reads the file the run wrote.
    """
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return {}
    cols: dict[str, Any] = {}
    for name, nd in _TIMELINE_NUMBERS.items():
        if name in rows[0]:
            cols[name] = [num(r[name], nd) if r[name] != "" else None for r in rows]
    for name in ("day", "leg", "stop"):
        cols[name] = [int(r[name]) for r in rows]
    cols["comm_ok"] = [None if r["comm_ok"] == "" else int(r["comm_ok"]) for r in rows]
    acts: list[str] = []
    codes = []
    for r in rows:
        if r["activity"] not in acts:
            acts.append(r["activity"])
        codes.append(acts.index(r["activity"]))
    cols["activity"] = codes
    cols["activities"] = acts
    cols["activity_colours"] = [_ACTIVITY_COLOURS.get(a, _FALLBACK_COLOUR) for a in acts]
    return cols


def plan_info(result: MissionResult) -> dict[str, Any] | None:
    """What the time panel needs besides the rows: start, length, battery, drive windows."""
    pr = result.plan
    if pr is None:
        return None
    p, rover = pr.plan, result.mission.rover
    # the plan's own drive windows (a plan without a cadence: the defaults of Operations)
    ops = pr.segment.operations if pr.segment is not None else Operations()
    return {
        "start_utc": utc_iso(pr.start_time),
        "start_ms": int(round(pr.start_time.timestamp() * 1000)),
        "duration_s": round(float(p.duration_s), 1),
        "battery_wh": rover.battery_wh,
        "reserve_wh": round(rover.battery_wh * rover.battery_reserve_fraction, 3),
        "window_start_h": ops.window_start_h,
        "window_length_h": ops.window_length_h,
        "rover": rover.name,
        "distance_m": round(float(p.distance_m), 1),
        "value": round(float(p.value), 2),
        "end_utc": utc_iso(pr.start_time + timedelta(seconds=float(p.duration_s))),
        "reason": p.reason,
    }


# --------------------------------------------------------------------------------------------
# coordinates


def _proj4(crs: Any) -> str | None:
    """The CRS as a PROJ string for proj4js, or None when PROJ cannot write one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "may lose information": a Moon CRS has no datum grids
        try:
            text = to_pyproj(crs).to_proj4()
        except pyproj.exceptions.CRSError:
            return None
    return text or None


def _tmerc_sphere(crs: Any) -> dict[str, float] | None:
    """Parameters of a transverse Mercator on a sphere (the page inverts it in closed form).

    Every reprojected site uses one (:func:`~frigoris.terrain.crs.local_metric_crs`); other
    CRSs go to proj4js. None for anything else.
    """
    pcrs = to_pyproj(crs)
    ell = pcrs.ellipsoid
    text = _proj4(crs) or ""
    if "+proj=tmerc" not in text or ell is None or ell.semi_minor_metre != ell.semi_major_metre:
        return None
    p = dict(t.lstrip("+").split("=", 1) for t in text.split() if "=" in t)
    if p.get("units", "m") != "m" or "to_meter" in p:
        return None
    return {
        "lat0_deg": float(p.get("lat_0", 0.0)),
        "lon0_deg": float(p.get("lon_0", 0.0)),
        "k0": float(p.get("k", p.get("k_0", 1.0))),
        "x0_m": float(p.get("x_0", 0.0)),
        "y0_m": float(p.get("y_0", 0.0)),
        "radius_m": float(ell.semi_major_metre),
    }


def crs_info(dem: Dem) -> dict[str, Any]:
    """The map CRS for the page: name, PROJ strings, and true north at the map centre."""
    pcrs = to_pyproj(dem.crs)
    geo = pcrs.geodetic_crs
    b = dem.bounds
    cx, cy = 0.5 * (b.left + b.right), 0.5 * (b.bottom + b.top)
    lat, lon = crs_to_lunar(dem.crs, cx, cy)
    north = true_north_deg(dem.crs, cx, cy)
    return {
        "name": pcrs.name,
        "proj4": _proj4(dem.crs),
        "tmerc_sphere": _tmerc_sphere(dem.crs),
        "geographic_proj4": _proj4(geo) if geo is not None else None,
        "res_m": dem.res_m,
        "bounds": [b.left, b.bottom, b.right, b.top],
        "true_north_deg": round(north, 3),
        "centre_lat_lon": [round(lat, 6), round(lon, 6)],
    }


# --------------------------------------------------------------------------------------------
# the page


@functools.lru_cache(maxsize=8)
def _asset(name: str) -> str:
    return importlib.resources.files(__package__).joinpath(_WEB, name).read_text("utf-8")


def _asset_bytes(name: str) -> bytes:
    return importlib.resources.files(__package__).joinpath(_WEB, name).read_bytes()


def _vendored_css() -> str:
    """Leaflet's CSS with its control icons inlined and no reference to its marker image.

    The page draws no default marker, whose image is not shipped: nothing is left to fetch.
    """
    css = _asset(_LEAFLET[1])
    for img in ("layers.png", "layers-2x.png"):
        uri = _data_uri(_asset_bytes(f"leaflet/images/{img}"))
        css = css.replace(f"url(images/{img})", f"url({uri})")
    return css.replace("url(images/marker-icon.png)", "none")


def _script(text: str) -> str:
    """JS for an inline ``<script>``: no source-map comment (nothing to fetch), no ``</``."""
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.M)
    return text.replace("</", "<\\/")


def _json_for_script(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


@dataclass(frozen=True, eq=False)
class MapRasters:
    """The page's raster overlays of one DEM and hazard map (see :func:`map_rasters`)."""

    dem: Dem
    hazard: HazardMap | None
    max_px: int
    rasters: list[dict[str, Any]]
    notes: list[str]


def map_rasters(dem: Dem, hm: HazardMap | None, *, max_px: int = MAX_PX) -> MapRasters:
    """The terrain and hazard overlays of the page, which need nothing of the plan.

    The mission job computes them while the plan runs (their block reductions and PNG
    encoding are array work that releases the GIL) and hands them to :func:`write_webmap`.
    """
    f = display_factor(dem.shape, max_px)
    rasters = terrain_rasters(dem, f, hm.sun if hm is not None else None)
    notes: list[str] = []
    if hm is not None:
        hz, notes = hazard_rasters(hm, f)
        rasters += hz
    return MapRasters(dem, hm, max_px, rasters, notes)


def map_document(
    result: MissionResult, *, max_px: int = MAX_PX, rasters: MapRasters | None = None
) -> dict[str, Any]:
    """Everything the page draws, as plain JSON values (no NaN).

    ``rasters`` are the :func:`map_rasters` of the result's DEM and hazard map when computed
    already (used only if they are of that DEM, hazard map and ``max_px``).
    """
    dem, hm = result.dem, result.hazard
    f = display_factor(dem.shape, max_px)
    if rasters is None or not (
        rasters.dem is dem and rasters.hazard is hm and rasters.max_px == max_px
    ):
        rasters = map_rasters(dem, hm, max_px=max_px)
    rasters, notes = list(rasters.rasters), list(rasters.notes)
    timeline_path = result.outputs.get("timeline")
    timeline = (
        read_timeline(timeline_path)
        if result.plan is not None and timeline_path is not None and timeline_path.exists()
        else {}
    )
    m = result.mission
    return {
        "title": m.name,
        "subtitle": f"{result.label} · seed {m.seed} · frigoris {frigoris_version()}",
        "lander": m.lander.name,
        "rover": m.rover.name,
        "touchdown_utc": utc_iso(m.touchdown_utc),
        "steps": [{"name": s.name, "status": s.status, "detail": s.detail} for s in result.steps],
        "stopped": result.stopped,
        "crs": crs_info(dem),
        "raster_factor": f,
        "raster_res_m": f * dem.res_m,
        "rasters": rasters,
        "raster_notes": notes,
        "hazard_sun_deg": list(hm.sun) if hm is not None and hm.sun is not None else None,
        "vectors": vector_layers(result),
        "plan": plan_info(result),
        "timeline": timeline,
    }


def webmap_html(
    result: MissionResult, *, max_px: int = MAX_PX, rasters: MapRasters | None = None
) -> str:
    """Return ``map.html`` as text (see the module docstring and :func:`map_document`)."""
    doc = map_document(result, max_px=max_px, rasters=rasters)
    title = html.escape(f"{doc['title']}: frigoris mission map")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        "<!-- Leaflet 1.9.4 (BSD-2-Clause) and proj4js 2.22.0 (MIT) are inlined below; their "
        "licences ship in frigoris/rover/app/products/web/. -->\n"
        f"<style>{_vendored_css()}</style>\n<style>{_asset('map.css')}</style>\n"
        "</head><body>\n"
        '<div id="app"><div id="map"></div><aside id="side"></aside>'
        '<div id="timebar"></div></div>\n'
        f'<script id="frigoris-data" type="application/json">{_json_for_script(doc)}</script>\n'
        f"<script>{_script(_asset(_LEAFLET[0]))}</script>\n"
        f"<script>{_script(_asset(_PROJ4))}</script>\n"
        f"<script>{_script(_asset('map.js'))}</script>\n"
        "</body></html>\n"
    )


def write_webmap(
    result: MissionResult,
    path: str | os.PathLike,
    *,
    max_px: int = MAX_PX,
    rasters: MapRasters | None = None,
) -> pathlib.Path:
    """Write ``map.html`` atomically and return its path.

    Parameters
    ----------
    result : MissionResult
        The run so far; ``outputs["traverse"]`` and ``outputs["timeline"]`` are read when the
        run has a plan.
    path : path-like
        Where to write (``RUN_DIR/map.html``).
    max_px : int
        Longest side of a raster overlay in pixels.
    rasters : MapRasters, optional
        The overlays from :func:`map_rasters`, when computed already.
    """
    return write_text(path, webmap_html(result, max_px=max_px, rasters=rasters))


def find_map(run_dir: str | os.PathLike) -> pathlib.Path:
    """The ``map.html`` of a run folder.

    Raises
    ------
    RoverError
        The folder does not exist or holds no map.
    """
    d = pathlib.Path(run_dir)
    if d.is_file() and d.name == MAP_FILE:
        return d.resolve()
    if not d.is_dir():
        raise RoverError(f"{d} is not a folder; give a run folder written by `frigoris mission`")
    p = d / MAP_FILE
    if not p.is_file():
        raise RoverError(
            f"{d} holds no {MAP_FILE}; give a run folder written by `frigoris mission` or "
            "`frigoris demo` (re-run it with --overwrite if it predates the map)"
        )
    return p.resolve()
