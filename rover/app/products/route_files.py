"""A route's files: ``route.geojson``, ``legs.csv``, ``travel_matrix.csv``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from frigoris.planners import TravelMatrix
from frigoris.planners.routes import Route
from frigoris.terrain import Dem, point_features

__all__ = ["ROUTE_FILES", "legs_csv", "matrix_csv", "route_features"]

ROUTE_FILES = ("route.geojson", "legs.csv", "travel_matrix.csv", "route.png")
"""Every file a route writes."""


def _line(grid: Dem, cells: np.ndarray) -> dict[str, Any]:
    """GeoJSON LineString through cell centres (a one-cell leg repeats its point)."""
    if cells.shape[0] == 1:
        cells = np.repeat(cells, 2, axis=0)
    x, y = grid.xy(cells[:, 0], cells[:, 1])
    return {"type": "LineString", "coordinates": np.stack([x, y], axis=1).tolist()}


def route_features(
    route: Route, grid: Dem, waypoints: Sequence[tuple[float, float]]
) -> list[dict[str, Any]]:
    """GeoJSON features: the route, one line per leg, one point per waypoint."""
    n = route.waypoint_cells.shape[0]
    feats = [
        {
            "type": "Feature",
            "geometry": _line(grid, route.cells),
            "properties": {
                "kind": "route",
                "cost": route.cost,
                "length_m": route.length_m,
                "n_waypoints": n,
                "smoothed": route.smoothed,
            },
        }
    ]
    for i, leg in enumerate(route.legs):
        feats.append(
            {
                "type": "Feature",
                "geometry": _line(grid, leg.cells),
                "properties": {
                    "kind": "leg",
                    "leg": i + 1,
                    "from": i + 1,
                    "to": i + 2,
                    "cost": leg.cost,
                    "length_m": leg.length_m,
                },
            }
        )
    wc = route.waypoint_cells
    x, y = grid.xy(wc[:, 0], wc[:, 1])
    given = np.asarray(waypoints, dtype=np.float64)
    feats += point_features(
        grid.crs,
        x,
        y,
        kind="waypoint",
        waypoint=np.arange(1, n + 1),
        given_x=given[:, 0],
        given_y=given[:, 1],
    )
    return feats


def legs_csv(route: Route) -> str:
    """``legs.csv``: leg, from, to, cost, length_m (waypoints numbered from 1)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["leg", "from", "to", "cost", "length_m"])
    for i, leg in enumerate(route.legs):
        w.writerow([i + 1, i + 1, i + 2, repr(leg.cost), repr(leg.length_m)])
    return buf.getvalue()


def matrix_csv(tm: TravelMatrix) -> str:
    """``travel_matrix.csv``: cost from the row's waypoint to the column's; ``inf`` = no way."""
    n = tm.cost.shape[0]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["from\\to", *range(1, n + 1)])
    for i in range(n):
        w.writerow([i + 1, *(repr(float(v)) for v in tm.cost[i])])
    return buf.getvalue()
