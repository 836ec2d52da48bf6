"""Colours shared by every product (PNG maps, QGIS styles, the web map).

A stop kind or a touchdown outcome looks the same everywhere.
"""

from __future__ import annotations

__all__ = ["OUTCOME_COLOURS", "STOP_COLOURS"]

STOP_COLOURS = {
    "start": "#ffffff",
    "scoop": "#2ca02c",
    "crater": "#ffcc00",
    "boulder": "#ff7f0e",
    "moonhouse": "#e377c2",
    "target": "#17becf",
}
"""Stop kind -> colour."""

OUTCOME_COLOURS = {
    "nominal": "#2ca02c",
    "degraded": "#ffbf00",
    "tip-over": "#ff7f0e",
    "crash": "#d62728",
    "off-dem": "#7f7f7f",
}
"""Touchdown outcome -> colour."""
