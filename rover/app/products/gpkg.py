"""The mission's vector layers in one GeoPackage, styled for QGIS.

:func:`mission_layers` turns a :class:`~frigoris.rover.app.results.MissionResult` into named
layers of GeoJSON-like features in the site's map CRS (a Moon CRS); :func:`write_mission_geopackage`
writes them with :func:`terrain.vector.write_geopackage` and a QGIS style per layer (stored in
the GeoPackage's ``layer_styles`` table, which QGIS applies when a layer is loaded).

Layers (only those the run produced):

============================  ==========  ======================================================
layer                         geometry    what
============================  ==========  ======================================================
``stops``                     Point       the plan's stops in order (0 = start after egress)
``traverse_legs``             LineString  the drive between stops, with times and energy
``targets``                   Point       user targets from the mission file
``lander``                    Point       the followed touchdown: outcome, tilt, yaw
``deployment_sides``          LineString  lander centre to each side's set-down point, verdict
``egress``                    LineString  the way out of the plume zone
``plume_zone``                Polygon     plume-disturbed radius around the lander
``touchdown_ellipse``         Polygon     1, 2 and 3-sigma landing dispersion around the aim
``aim_point``                 Point       the touchdown target
``touchdowns``                Point       every Monte Carlo touchdown, by scenario and outcome
``craters``                   Polygon     craters detected in the DEM (rim circles)
``rocks``                     Polygon     resolved rocks detected in the DEM (outline circles)
============================  ==========  ======================================================
"""

from __future__ import annotations

import json
import pathlib
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from frigoris.terrain.crs import crs_to_lunar
from frigoris.terrain.vector import circle_ring, ellipse_ring, write_geopackage

from ..formats import num, utc_iso
from ..results import MissionResult, provenance
from .style import OUTCOME_COLOURS, STOP_COLOURS

LAYER_ORDER = (
    "stops",
    "traverse_legs",
    "targets",
    "lander",
    "deployment_sides",
    "egress",
    "plume_zone",
    "touchdown_ellipse",
    "aim_point",
    "touchdowns",
    "craters",
    "rocks",
)


def _feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(float(x), 3), round(float(y), 3)]}


def _latlon(crs, x: float, y: float) -> dict[str, float]:
    lat, lon = crs_to_lunar(crs, float(x), float(y))
    return {"lat_deg": round(float(lat), 7), "lon_deg": round(float(lon), 7)}


def _latlon_rows(crs, x, y) -> list[dict[str, float]]:
    """``lat_deg``/``lon_deg`` of many map points, transformed in one call."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return []
    lat, lon = crs_to_lunar(crs, x, y)
    lat, lon = np.atleast_1d(lat).round(7), np.atleast_1d(lon).round(7)
    return [{"lat_deg": float(a), "lon_deg": float(b)} for a, b in zip(lat, lon, strict=True)]


def mission_layers(result: MissionResult) -> dict[str, list[dict[str, Any]]]:
    """Every vector layer of a mission run, as GeoJSON-like features in the site's map CRS."""
    crs = result.dem.crs
    mission = result.mission
    layers: dict[str, list[dict[str, Any]]] = {name: [] for name in LAYER_ORDER}

    traverse = result.outputs.get("traverse")
    if traverse is not None and traverse.exists():
        for f in json.loads(traverse.read_text())["features"]:
            if f["geometry"]["type"] == "Point":
                layers["stops"].append(f)
            else:
                props = {k: v for k, v in f["properties"].items() if k != "kind"}
                layers["traverse_legs"].append(_feature(f["geometry"], **props))

    for t, x, y in zip(
        mission.targets, *(result.targets_xy[:2] if result.targets_xy else ([], [])), strict=True
    ):
        layers["targets"].append(
            _feature(
                _point(x, y), name=t.name, priority=t.priority, lat_deg=t.lat_deg, lon_deg=t.lon_deg
            )
        )

    run = result.touchdown
    if run is not None:
        layers["lander"].append(
            _feature(
                _point(run.x, run.y),
                name=mission.lander.name,
                outcome=run.outcome,
                reason=run.reason,
                scenario=mission.touchdown.follow,
                run=run.index,
                yaw_deg=num(run.yaw_deg, 2),
                tilt_deg=num(run.tilt_deg),
                clearance_m=num(run.clearance_m),
                v_vertical_m_s=num(run.v_vertical_m_s),
                touchdown_utc=utc_iso(mission.touchdown_utc),
                **_latlon(crs, run.x, run.y),
            )
        )
        if run.safe:
            layers["plume_zone"].append(
                _feature(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            circle_ring(run.x, run.y, mission.lander.plume_radius_m, 64)
                        ],
                    },
                    radius_m=mission.lander.plume_radius_m,
                    what="plume-disturbed soil: no sampling inside",
                )
            )

    h = result.handoff
    if h is not None:
        for side in h.sides:
            layers["deployment_sides"].append(
                _feature(
                    {
                        "type": "LineString",
                        "coordinates": [
                            [round(h.lander.x, 3), round(h.lander.y, 3)],
                            [round(side.set_down_x, 3), round(side.set_down_y, 3)],
                        ],
                    },
                    side_deg=side.side_deg,
                    azimuth_deg=num(side.azimuth_deg, 2),
                    ok=side.ok,
                    chosen=bool(h.deployed and h.side_deg == side.side_deg),
                    verdict=(
                        "chosen"
                        if h.deployed and h.side_deg == side.side_deg
                        else "ok"
                        if side.ok
                        else "blocked"
                    ),
                    reasons="; ".join(side.reasons),
                    max_slope_deg=num(side.max_slope_deg, 2),
                    max_step_m=num(side.max_step_m),
                    max_rock_risk=num(side.max_rock_risk, 4),
                    keepout_cells=side.keepout_cells,
                    shadow_fraction=num(side.shadow_fraction),
                    link_ok=side.link_ok,
                    egress_length_m=num(side.egress_length_m, 2),
                    score=num(side.score, 2),
                )
            )
        if h.egress is not None:
            layers["egress"].append(
                _feature(
                    {
                        "type": "LineString",
                        "coordinates": [[round(a, 3), round(b, 3)] for a, b in h.egress.waypoints],
                    },
                    length_m=num(h.egress.length_m, 2),
                    energy_wh=num(h.egress.energy_wh),
                    cost=num(h.egress.cost, 2),
                    end_distance_m=num(h.egress.end_distance_m, 2),
                    start_utc=utc_iso(h.time),
                    side_deg=h.side_deg,
                )
            )

    if result.touchdowns and result.target_xy is not None:
        d = result.touchdowns[0].dispersion
        tx, ty = result.target_xy
        for n in (1, 2, 3):
            layers["touchdown_ellipse"].append(
                _feature(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            ellipse_ring(
                                tx,
                                ty,
                                n * d.sigma_major_m,
                                n * d.sigma_minor_m,
                                d.major_azimuth_deg,
                            )
                        ],
                    },
                    n_sigma=n,
                    semi_major_m=n * d.sigma_major_m,
                    semi_minor_m=n * d.sigma_minor_m,
                    major_azimuth_deg=d.major_azimuth_deg,
                )
            )
        for res in result.touchdowns:
            layers["touchdowns"] += res.to_features(crs)
    if result.target_xy is not None:
        layers["aim_point"].append(
            _feature(
                _point(*result.target_xy),
                what="touchdown target (aim point)",
                **_latlon(crs, *result.target_xy),
            )
        )

    hm = result.hazard
    if hm is not None:
        c = hm.craters
        for i, latlon in enumerate(_latlon_rows(crs, c.x, c.y)):
            layers["craters"].append(
                _feature(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            circle_ring(c.x[i], c.y[i], 0.5 * float(c.diameter_m[i]), 32)
                        ],
                    },
                    diameter_m=num(c.diameter_m[i]),
                    depth_m=num(c.depth_m[i]),
                    depth_ratio=num(c.depth_m[i] / c.diameter_m[i])
                    if c.diameter_m[i] > 0
                    else None,
                    **latlon,
                )
            )
        rk = hm.rocks
        for i, latlon in enumerate(_latlon_rows(crs, rk.x, rk.y)):
            layers["rocks"].append(
                _feature(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            circle_ring(rk.x[i], rk.y[i], 0.5 * float(rk.diameter_m[i]), 16)
                        ],
                    },
                    diameter_m=num(rk.diameter_m[i]),
                    height_m=num(rk.height_m[i]),
                    **latlon,
                )
            )
    return {k: v for k, v in layers.items() if v}


def write_mission_geopackage(result: MissionResult, path: pathlib.Path) -> pathlib.Path:
    """Write ``mission.gpkg``: every layer of :func:`mission_layers`, styled for QGIS."""
    layers = mission_layers(result)
    return write_geopackage(
        path, layers, result.dem.crs, styles=QGIS_STYLES, metadata=provenance(result.mission)
    )


# --------------------------------------------------------------------------------------------
# QGIS styles (QML, the format QGIS writes for "Save as default"; <prop> form, QGIS >= 3.4)


def _rgba(colour: str, alpha: int = 255) -> str:
    c = colour.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha}"


def _props(**kv: Any) -> str:
    return "".join(f"<prop k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in kv.items())


def _marker(
    colour: str,
    shape: str = "circle",
    size: float = 3.0,
    outline: str = "#000000",
    alpha: int = 255,
) -> tuple[str, str]:
    return "marker", (
        '<layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
        + _props(
            color=_rgba(colour, alpha),
            name=shape,
            size=size,
            size_unit="MM",
            outline_color=_rgba(outline),
            outline_style="solid",
            outline_width=0.3,
            outline_width_unit="MM",
            angle=0,
            offset="0,0",
            offset_unit="MM",
            scale_method="diameter",
            joinstyle="bevel",
            horizontal_anchor_point=1,
            vertical_anchor_point=1,
        )
        + "</layer>"
    )


def _line(
    colour: str, width: float = 0.6, style: str = "solid", alpha: int = 255
) -> tuple[str, str]:
    return "line", (
        '<layer class="SimpleLine" enabled="1" locked="0" pass="0">'
        + _props(
            line_color=_rgba(colour, alpha),
            line_width=width,
            line_width_unit="MM",
            line_style=style,
            capstyle="round",
            joinstyle="round",
            offset=0,
            offset_unit="MM",
            use_custom_dash=0,
            customdash="5;2",
        )
        + "</layer>"
    )


def _fill(
    colour: str | None, outline: str, width: float = 0.4, style: str = "solid", alpha: int = 90
) -> tuple[str, str]:
    return "fill", (
        '<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
        + _props(
            color=_rgba(colour or "#000000", alpha if colour else 0),
            style="solid" if colour else "no",
            outline_color=_rgba(outline),
            outline_style=style,
            outline_width=width,
            outline_width_unit="MM",
            joinstyle="bevel",
            offset="0,0",
            offset_unit="MM",
        )
        + "</layer>"
    )


def _symbol(name: str, sym: tuple[str, str]) -> str:
    kind, layer = sym
    return (
        f'<symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f"{layer}</symbol>"
    )


def _single(sym: tuple[str, str]) -> str:
    return (
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{_symbol('0', sym)}</symbols></renderer-v2>"
    )


def _categorized(attr: str, cats: list[tuple[str, str, tuple[str, str]]]) -> str:
    rows = "".join(
        f'<category render="true" symbol="{i}" value={quoteattr(v)} label={quoteattr(lab)}/>'
        for i, (v, lab, _) in enumerate(cats)
    )
    syms = "".join(_symbol(str(i), s) for i, (_, _, s) in enumerate(cats))
    return (
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" '
        f'enableorderby="0" forceraster="0"><categories>{rows}</categories>'
        f"<symbols>{syms}</symbols></renderer-v2>"
    )


def _labels(field: str, colour: str = "#ffffff", size: int = 8) -> str:
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(field)} isExpression="0" fontSize="{size}" '
        f'fontSizeUnit="Point" textColor="{_rgba(colour)}" fontWeight="75" textOpacity="1">'
        '<text-buffer bufferDraw="1" bufferSize="0.7" bufferSizeUnits="MM" '
        'bufferColor="0,0,0,255" bufferOpacity="0.8"/></text-style>'
        '<placement placement="0" dist="1" distUnits="MM" priority="5"/>'
        '<rendering scaleVisibility="0" obstacle="0"/></settings></labeling>'
    )


def _qml(renderer: str, labels: str = "") -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.22.0" styleCategories="Symbology|Labeling" '
        f'labelsEnabled="{1 if labels else 0}">{renderer}{labels}</qgis>\n'
    )


def _styles() -> dict[str, str]:
    stops = [
        (k, k, _marker(c, "circle", 3.2 if k != "start" else 3.6)) for k, c in STOP_COLOURS.items()
    ]
    outcomes = [(k, k, _marker(c, "circle", 1.6, alpha=220)) for k, c in OUTCOME_COLOURS.items()]
    return {
        "stops": _qml(_categorized("kind", stops), _labels("stop")),
        "traverse_legs": _qml(_single(_line("#440154", 0.7))),
        "targets": _qml(_single(_marker("#17becf", "diamond", 3.5)), _labels("name", "#17becf")),
        "lander": _qml(_single(_marker("#ffffff", "star", 6.0)), _labels("outcome")),
        "deployment_sides": _qml(
            _categorized(
                "verdict",
                [
                    ("chosen", "chosen side", _line("#2ca02c", 1.2)),
                    ("ok", "possible side", _line("#1f77b4", 0.8)),
                    ("blocked", "blocked side", _line("#d62728", 0.8, "dash")),
                ],
            )
        ),
        "egress": _qml(_single(_line("#00e5ff", 0.9))),
        "plume_zone": _qml(_single(_fill(None, "#ffffff", 0.4, "dash"))),
        "touchdown_ellipse": _qml(
            _categorized(
                "n_sigma",
                [
                    ("1", "1 sigma", _fill(None, "#ffffff", 0.5, "solid")),
                    ("2", "2 sigma", _fill(None, "#ffffff", 0.4, "dash")),
                    ("3", "3 sigma", _fill(None, "#ffffff", 0.3, "dot")),
                ],
            )
        ),
        "aim_point": _qml(_single(_marker("#ffffff", "cross2", 5.0, outline="#ffffff"))),
        "touchdowns": _qml(_categorized("outcome", outcomes)),
        "craters": _qml(_single(_fill(None, "#ffcc00", 0.3))),
        "rocks": _qml(_single(_fill("#ff3355", "#ff3355", 0.2, alpha=160))),
    }


QGIS_STYLES: dict[str, str] = _styles()
"""QML per layer name, stored as each layer's default style in ``mission.gpkg``."""


__all__ = ["LAYER_ORDER", "QGIS_STYLES", "mission_layers", "write_mission_geopackage"]
