"""The job behind ``frigoris route``: the least-cost route through waypoints on a hazard map.

The searches are :mod:`planners.paths` (one A* per leg, or one travel matrix); this module reads
the hazard map, turns map X,Y into cells, names the waypoint or leg that fails, and writes
``route.geojson``, ``legs.csv``, ``route.png`` (and ``travel_matrix.csv``).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import pathlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from frigoris.planners import (
    NoPathError,
    Path,
    SlopeTerm,
    TravelMatrix,
    shortest_path,
    smooth_path,
    travel_matrix,
)
from frigoris.terrain import Dem, point_features, read_layers, write_geojson, write_text

from . import figures
from .errors import RoverError
from .mission import frigoris_version
from .pipeline import JobResult
from .progress import ProgressCallback

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


def _noop(fraction: float, stage: str = "") -> None:
    return None


@dataclass(frozen=True, eq=False)
class Route:
    """A route through waypoints, leg by leg, on a hazard map's grid.

    Parameters
    ----------
    cells : ndarray of shape (K, 2)
        ``(row, col)`` of every route vertex, first waypoint first; each waypoint is a vertex.
    legs : list of Path
        One path per leg, waypoint ``k`` to ``k + 1``.
    waypoint_cells : ndarray of shape (N, 2)
        ``(row, col)`` of the waypoints.
    cost : float
        Sum of the legs' costs (cost band units: a metre on hazard-free ground costs 1).
    length_m : float
        Sum of the legs' lengths.
    smoothed : bool
        Whether the legs were shortcut with :func:`planners.smooth_path`.
    matrix : TravelMatrix or None
        The travel matrix between the waypoints, when it was asked for.
    """

    cells: np.ndarray
    legs: list[Path]
    waypoint_cells: np.ndarray
    cost: float
    length_m: float
    smoothed: bool
    matrix: TravelMatrix | None = None


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


def waypoint_cells(
    grid: Dem, cost: np.ndarray, waypoints: Sequence[tuple[float, float]]
) -> np.ndarray:
    """``(row, col)`` of map X,Y waypoints, each checked to be on the grid and passable.

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
            f"a route needs at least 2 waypoints (give --via X,Y two or more times), "
            f"got {len(waypoints)}"
        )
    b = grid.bounds
    cells = np.empty((len(waypoints), 2), dtype=np.int64)
    for k, (x, y) in enumerate(waypoints, start=1):
        where = f"waypoint {k} ({x:g}, {y:g})"
        if not (math.isfinite(x) and math.isfinite(y)):
            raise RoverError(f"{where} is not a pair of finite numbers")
        if not grid.contains(x, y):
            raise RoverError(
                f"{where} is outside the map (x {b.left:g} to {b.right:g}, "
                f"y {b.bottom:g} to {b.top:g} m in the map's CRS); give X,Y on it"
            )
        r, c = grid.rowcol(x, y)
        if not cost[r, c] < np.inf:
            raise RoverError(
                f"{where} is in keep-out (row {r}, col {c}); move it to a passable cell"
            )
        cells[k - 1] = (r, c)
    return cells


def plan_route(
    cost: np.ndarray,
    cells: np.ndarray,
    *,
    res_m: float,
    slope: SlopeTerm | None = None,
    smooth: bool = True,
    matrix: bool = False,
    transform=None,
    progress: ProgressCallback = _noop,
) -> Route:
    """Least-cost route through ``cells`` in order: one leg per consecutive pair.

    Parameters
    ----------
    cost : ndarray of shape (M, N)
        Cost per metre, ``inf`` = keep-out.
    cells : ndarray of shape (N, 2)
        ``(row, col)`` of the waypoints, in visiting order.
    res_m : float
        Pixel size in metres.
    slope : SlopeTerm, optional
        Direction-dependent climb term.
    smooth : bool, default True
        Shortcut each leg with :func:`planners.smooth_path` (waypoints stay vertices; never
        enters keep-out, never costs more).
    matrix : bool, default False
        Solve the N x N :func:`planners.travel_matrix` and take the legs from it.
    transform : affine.Affine, optional
        Passed on to the paths.
    progress : callable(fraction, stage)
        Progress callback.

    Returns
    -------
    Route

    Raises
    ------
    NoPathError
        A leg is walled off by keep-out; the message names the leg and its waypoints.
    """
    n = cells.shape[0]
    tm = None
    if matrix:
        progress(0.0, "travel matrix")
        tm = travel_matrix(cost, cells, res_m=res_m, slope=slope, transform=transform)
    legs = []
    for i in range(n - 1):
        progress(i / (n - 1), f"leg {i + 1}")
        where = f"leg {i + 1} (waypoint {i + 1} -> {i + 2})"
        try:
            if tm is not None:
                leg = tm.path(i, i + 1)
            else:
                leg = shortest_path(
                    cost, cells[i], cells[i + 1], res_m=res_m, slope=slope, transform=transform
                )
        except NoPathError as err:
            raise NoPathError(f"{where}: {err}") from err
        if smooth:
            leg = smooth_path(leg, cost, res_m=res_m, slope=slope)
        legs.append(leg)
    route_cells = np.concatenate([legs[0].cells] + [leg.cells[1:] for leg in legs[1:]])
    return Route(
        cells=route_cells,
        legs=legs,
        waypoint_cells=cells,
        cost=float(sum(leg.cost for leg in legs)),
        length_m=float(sum(leg.length_m for leg in legs)),
        smoothed=smooth,
        matrix=tm,
    )


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


def route_figure(
    grid: Dem, keepout: np.ndarray, route: Route, path: pathlib.Path, *, title: str
) -> pathlib.Path:
    """Route over the hillshade: keep-out shaded, legs coloured in order, waypoints numbered."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    fig, ax = figures.base_map(grid, title=title)
    ax.imshow(
        np.where(keepout, 1.0, np.nan),
        cmap=ListedColormap(["#d62728"]),
        alpha=0.3,
        extent=figures.map_extent(grid),
        interpolation="nearest",
    )
    ax.plot([], [], "s", color="#d62728", alpha=0.5, label="keep-out")
    cmap = plt.get_cmap("viridis")
    for k, leg in enumerate(route.legs):
        x, y = grid.xy(leg.cells[:, 0], leg.cells[:, 1])
        ax.plot(x, y, color=cmap(k / max(len(route.legs), 1)), lw=2, label=f"leg {k + 1}")
    wx, wy = grid.xy(route.waypoint_cells[:, 0], route.waypoint_cells[:, 1])
    ax.scatter(wx, wy, s=60, c="white", edgecolors="black", zorder=5, label="waypoints")
    for k in range(wx.size):
        ax.annotate(
            str(k + 1),
            (wx[k], wy[k]),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
            color="white",
            bbox=dict(facecolor="black", alpha=0.5, lw=0, pad=1),
        )
    ax.legend(loc="best", fontsize=8, framealpha=0.75)
    xs, ys = grid.xy(route.cells[:, 0], route.cells[:, 1])
    b = grid.bounds
    pad = max(30.0, 0.15 * max(np.ptp(xs), np.ptp(ys)))
    ax.set_xlim(max(b.left, xs.min() - pad), min(b.right, xs.max() + pad))
    ax.set_ylim(max(b.bottom, ys.min() - pad), min(b.top, ys.max() + pad))
    return figures.save(fig, path)


def route_job(
    src: pathlib.Path,
    out_dir: pathlib.Path,
    waypoints: Sequence[tuple[float, float]],
    *,
    smooth: bool = True,
    uphill_per_m: float = 0.0,
    downhill_per_m: float = 0.0,
    matrix: bool = False,
    progress: ProgressCallback = _noop,
) -> JobResult:
    """Route through map X,Y waypoints on a hazard map and write it.

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
    waypoints : sequence of (x, y)
        At least two, in map metres in the raster's CRS, in visiting order.
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
    progress(0.0, "reading")
    layers, grid = read_route_grid(src)
    cost = np.asarray(layers["cost"], dtype=np.float64)
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
    features = route_features(route, grid, waypoints)
    texts = {"legs": ("legs.csv", legs_csv(route))}
    if route.matrix is not None:
        texts["travel_matrix"] = ("travel_matrix.csv", matrix_csv(route.matrix))

    progress(0.7, "writing")
    # the topmost folder this job creates, removed again if a write fails
    created = next((p for p in [*reversed(out_dir.parents), out_dir] if not p.exists()), None)
    try:
        outputs = {
            "route": write_geojson(out_dir / "route.geojson", features, grid.crs, properties=props)
        }
        for key, (name, text) in texts.items():
            outputs[key] = write_text(out_dir / name, text)
        outputs["route_png"] = route_figure(
            dem,
            keepout,
            route,
            out_dir / "route.png",
            title=f"Route on {src.name}: {len(waypoints)} waypoints, cost {route.cost:.4g}, "
            f"{route.length_m:.1f} m",
        )
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
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
    return JobResult(out_dir, outputs, summary)
