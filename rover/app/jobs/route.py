"""The job behind ``frigoris route``: the least-cost route through waypoints on a hazard map.

The searches are :func:`frigoris.planners.routes.plan_route`; this job reads the hazard map,
turns waypoints into cells, names the waypoint or leg that fails, and writes
``route.geojson``, ``legs.csv``, ``route.png`` (and ``travel_matrix.csv``).
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from frigoris.planners import SlopeTerm
from frigoris.planners.routes import plan_route
from frigoris.terrain import Dem, read_layers, write_geojson, write_text

from ...errors import RoverError
from ...progress import ProgressCallback, no_progress
from ..products import figures
from ..products.route_files import ROUTE_FILES, legs_csv, matrix_csv, route_features
from ..provenance import frigoris_version
from ..results import JobResult
from .inputs import Position
from .output_folder import check_output_folder, staged_output

__all__ = ["route_job"]


def read_route_grid(src: pathlib.Path) -> tuple[dict[str, np.ndarray], Dem]:
    """Bands of a hazard map that has a ``cost`` band, and its grid.

    Raises
    ------
    RoverError
        The raster has no ``cost`` band (a DEM, not a hazard map).
    """
    layers, grid = read_layers(src)
    if "cost" not in layers:
        raise RoverError(
            f"{src} has no 'cost' band; run `frigoris hazard {src} -o DIR` first and route on "
            "DIR/hazard.tif"
        )
    return layers, grid


def waypoint_cells(grid: Dem, cost: np.ndarray, waypoints: Sequence[Position]) -> np.ndarray:
    """``(row, col)`` of the waypoints, each checked to be on the grid and passable.

    Waypoints are numbered from 1 in messages, as they are given on the command line.

    Returns
    -------
    ndarray of shape (N, 2)

    Raises
    ------
    RoverError
        Fewer than two waypoints, a coordinate that is not a finite number, a waypoint off the
        grid or in keep-out (``inf`` cost).
    """
    if len(waypoints) < 2:
        raise RoverError(
            f"a route needs at least 2 waypoints (give --via xy:X,Y two or more times), "
            f"got {len(waypoints)}"
        )
    b = grid.bounds
    cells = np.empty((len(waypoints), 2), dtype=np.int64)
    for k, pos in enumerate(waypoints, start=1):
        x, y = pos.xy(grid.crs)
        where = f"waypoint {k} ({pos.text})"
        if not (math.isfinite(x) and math.isfinite(y)):
            raise RoverError(f"{where} is not a pair of finite numbers")
        if not grid.contains(x, y):
            raise RoverError(
                f"{where} is outside the map (x {b.left:g} to {b.right:g}, "
                f"y {b.bottom:g} to {b.top:g} m in the map's CRS); give a waypoint on it"
            )
        r, c = grid.rowcol(x, y)
        if not cost[r, c] < np.inf:
            raise RoverError(
                f"{where} is in keep-out (row {r}, col {c}); move it to a passable cell"
            )
        cells[k - 1] = (r, c)
    return cells


def route_job(
    src: pathlib.Path,
    out_dir: pathlib.Path,
    waypoints: Sequence[Position],
    *,
    smooth: bool = True,
    uphill_per_m: float = 0.0,
    downhill_per_m: float = 0.0,
    matrix: bool = False,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> JobResult:
    """Route through waypoints on a hazard map and write it.

    Everything is checked and computed before ``out_dir`` is touched; each file is written
    through a temporary file, and a folder this job created is removed again if writing fails.

    Parameters
    ----------
    src : pathlib.Path
        A ``hazard.tif`` from ``frigoris hazard`` (needs the ``cost`` band; ``elevation`` for the
        climb term and the map; ``keepout`` is shaded when present).
    out_dir : pathlib.Path
        Folder receiving ``route.geojson``, ``legs.csv``, ``route.png`` (and
        ``travel_matrix.csv``).
    waypoints : sequence of Position
        At least two, in visiting order.
    smooth : bool, default True
        Shortcut each leg with straight segments (:func:`planners.smooth_path`).
    uphill_per_m, downhill_per_m : float, default 0.0
        :class:`planners.SlopeTerm` weights: cost per metre climbed / descended, in the cost
        band's units (a metre on hazard-free ground costs 1). Either non-zero adds the term.
    matrix : bool, default False
        Also solve the travel matrix between the waypoints and write ``travel_matrix.csv``.
    progress : callable(fraction, stage)
        Progress callback.

    Returns
    -------
    JobResult
        The files written and a summary (cost, length, waypoints, vertices).

    Raises
    ------
    RoverError
        No ``cost`` band (or no ``elevation`` band for the climb term), fewer than two
        waypoints, a waypoint off the map or in keep-out.
    NoPathError
        A leg is walled off by keep-out.
    PlanningError
        A negative or non-finite weight.
    """
    check_output_folder(out_dir, ROUTE_FILES, overwrite=overwrite)
    progress(0.0, "reading")
    layers, grid = read_route_grid(src)
    cost = np.asarray(layers["cost"], dtype=np.float64)
    if "keepout" in layers:
        # keep-out is impassable whatever the cost band says (a hand-edited map, say)
        cost = np.where(np.asarray(layers["keepout"]) > 0.5, np.inf, cost)
    cells = waypoint_cells(grid, cost, waypoints)
    slope = None
    if uphill_per_m != 0.0 or downhill_per_m != 0.0:
        if "elevation" not in layers:
            raise RoverError(f"{src} has no 'elevation' band, which the climb term needs")
        slope = SlopeTerm(
            layers["elevation"].astype(np.float64),
            uphill_per_m=uphill_per_m,
            downhill_per_m=downhill_per_m,
        )
    route = plan_route(
        cost,
        cells,
        res_m=grid.res_m,
        slope=slope,
        smooth=smooth,
        matrix=matrix,
        transform=grid.transform,
        progress=lambda f, s="": progress(0.1 + 0.6 * f, s),
    )
    dem = grid.with_elevation(layers["elevation"]) if "elevation" in layers else grid
    keepout = layers["keepout"] > 0.5 if "keepout" in layers else ~(cost < np.inf)
    props = {
        "frigoris_product": "route",
        "frigoris_source": str(src),
        "frigoris_version": frigoris_version(),
        "cost": route.cost,
        "length_m": route.length_m,
        "n_waypoints": len(waypoints),
        "smoothed": smooth,
        "uphill_per_m": float(uphill_per_m),
        "downhill_per_m": float(downhill_per_m),
    }
    features = route_features(route, grid, [p.xy(grid.crs) for p in waypoints])
    texts = {"legs": ("legs.csv", legs_csv(route))}
    if route.matrix is not None:
        texts["travel_matrix"] = ("travel_matrix.csv", matrix_csv(route.matrix))

    progress(0.7, "writing")
    with staged_output(out_dir, owned=ROUTE_FILES, overwrite=overwrite) as stage:
        outputs = {
            "route": write_geojson(
                stage.path / "route.geojson", features, grid.crs, properties=props
            )
        }
        for key, (name, text) in texts.items():
            outputs[key] = write_text(stage.path / name, text)
        outputs["route_png"] = figures.route_figure(
            dem,
            keepout,
            route,
            stage.path / "route.png",
            title=f"Route on {src.name}: {len(waypoints)} waypoints, cost {route.cost:.4g}, "
            f"{route.length_m:.1f} m",
        )
    progress(1.0, "done")
    summary: dict[str, Any] = {
        "waypoints": len(waypoints),
        "legs": len(route.legs),
        "cost": route.cost,
        "length_m": route.length_m,
        "vertices": int(route.cells.shape[0]),
        "smoothed": smooth,
    }
    if slope is not None:
        summary["uphill_per_m"] = float(uphill_per_m)
        summary["downhill_per_m"] = float(downhill_per_m)
    return JobResult(out_dir, stage.final(outputs), summary)
