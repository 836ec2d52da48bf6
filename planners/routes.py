"""Routes through waypoints: one least-cost leg per consecutive pair of waypoints.

The searches are :mod:`.paths` (one A* per leg, or one travel matrix between all waypoints);
each leg can be shortcut by straight segments that never enter keep-out and never cost more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import NoPathError
from .paths import Path, SlopeTerm, TravelMatrix, shortest_path, smooth_path, travel_matrix

__all__ = ["Route", "plan_route"]


def _quiet(fraction: float, stage: str = "") -> None:
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
        Whether the legs were shortcut with :func:`~frigoris.planners.smooth_path`.
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


def plan_route(
    cost: np.ndarray,
    cells: np.ndarray,
    *,
    res_m: float,
    slope: SlopeTerm | None = None,
    smooth: bool = True,
    matrix: bool = False,
    transform=None,
    progress: Callable[[float, str], None] | None = None,
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
        Shortcut each leg with :func:`~frigoris.planners.smooth_path` (waypoints stay
        vertices; never enters keep-out, never costs more).
    matrix : bool, default False
        Solve the N x N :func:`~frigoris.planners.travel_matrix` and take the legs from it.
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

    Examples
    --------
    Around a wall of keep-out in the middle column of a 5 x 5 grid of 1 m pixels:

    >>> cost = np.ones((5, 5))
    >>> cost[1:4, 2] = np.inf
    >>> route = plan_route(cost, np.array([[2, 0], [2, 4]]), res_m=1.0)
    >>> route.cells.tolist(), round(route.length_m, 3)
    ([[2, 0], [4, 2], [2, 4]], 5.657)
    """
    progress = progress or _quiet
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
