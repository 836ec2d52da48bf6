"""Least-cost traverse paths on a cost raster: A*, cost-distance fields and travel matrices.

Every function here takes a cost raster, an ``ndarray`` of shape (M, N) in cost units per metre
(``inf`` = keep-out), and cells as ``(row, col)`` integer pairs. Moves are 8-connected and priced
as scikit-image's :class:`skimage.graph.MCP_Geometric` prices them, so answers can be checked
against it::

    edge cost = step length * (cost[a] + cost[b]) / 2,   step length = res_m or res_m * sqrt(2)

which is also the line integral of the cost along the straight segment between the two cell
centres. Like ``MCP_Geometric``, a diagonal move may pass between two keep-out cells that share
only a corner with it: the rover is a point here, keep-out is dilated by the rover's footprint
upstream.

An optional :class:`SlopeTerm` adds an energy term for climbing (and braking) along the direction
of travel; it makes costs direction dependent, so ``travel_matrix`` becomes asymmetric.

The searches run in compiled kernels (:mod:`planners._path_kernels`); this module validates the
inputs first and turns the results into named, read-only values.
"""

from __future__ import annotations

import itertools
import logging
import math
import operator
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from . import _path_kernels as _k
from .errors import NoPathError, PlanningError

if TYPE_CHECKING:
    from affine import Affine

__all__ = [
    "CostDistance",
    "Path",
    "PathInputError",
    "SlopeTerm",
    "TravelMatrix",
    "cost_distance",
    "shortest_path",
    "smooth_path",
    "travel_matrix",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

# A* weights its octile heuristic by ALPHA = 1 - _EPSILON so the bucket queue stays exact (see
# _path_kernels); 0.02 loses little guidance and keeps buckets few. Above _MAX_BUCKETS (very wide
# cost ranges) epsilon grows, and past _MAX_BUCKETS even for Dijkstra a binary heap is used.
_EPSILON = 0.02
_MAX_BUCKETS = 1 << 16
# Bucket width is shrunk by this factor so rounding never puts a cell below its true bucket.
_WIDTH_MARGIN = 1.0 - 1e-6


class PathInputError(PlanningError, ValueError):
    """An input to a path function is malformed: cost raster, cell, resolution or option."""


# --------------------------------------------------------------------------------------------
# Value types


def _readonly(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class SlopeTerm:
    """Direction-dependent climb energy added to every move.

    A move from cell ``a`` to cell ``b`` costs, on top of the terrain term,
    ``uphill_per_m * max(dz, 0) + downhill_per_m * max(-dz, 0)`` with
    ``dz = elevation_m[b] - elevation_m[a]``. For a solar micro-rover, ``uphill_per_m`` is the
    cost of lifting the rover one metre (potential energy plus drive losses) in the units of the
    cost raster; ``downhill_per_m`` prices braking on descents (0 by default). Both must be
    non-negative: recuperation (a negative weight) would break the optimality guarantees.

    Parameters
    ----------
    elevation_m : ndarray of shape (M, N)
        Heights in metres, on the grid of the cost raster. NaN is allowed only in keep-out
        (``inf`` cost) cells. Stored as a read-only float64 copy.
    uphill_per_m : float
        Cost per metre climbed, >= 0.
    downhill_per_m : float, default 0.0
        Cost per metre descended, >= 0.

    Raises
    ------
    PathInputError
        The elevation is not 2-D or a weight is negative or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> term = SlopeTerm(np.zeros((3, 3)), uphill_per_m=5.0)
    >>> term.uphill_per_m, term.downhill_per_m
    (5.0, 0.0)
    """

    elevation_m: np.ndarray
    uphill_per_m: float
    downhill_per_m: float = 0.0

    def __post_init__(self) -> None:
        z = np.asarray(self.elevation_m)
        if z.ndim != 2 or min(z.shape) < 1 or not np.issubdtype(z.dtype, np.number):
            raise PathInputError(
                f"elevation_m must be a non-empty 2-D numeric array, got shape {z.shape}, "
                f"dtype {z.dtype}"
            )
        for name in ("uphill_per_m", "downhill_per_m"):
            w = float(getattr(self, name))
            if not (math.isfinite(w) and w >= 0.0):
                raise PathInputError(f"{name} must be a finite number >= 0, got {w}")
            object.__setattr__(self, name, w)
        object.__setattr__(self, "elevation_m", _readonly(np.array(z, dtype=np.float64)))


@dataclass(frozen=True, eq=False)
class Path:
    """A traverse path on the raster.

    Parameters
    ----------
    cells : ndarray of shape (K, 2)
        ``(row, col)`` of the path's vertices, start first. For paths from :func:`shortest_path`,
        :class:`CostDistance` and :class:`TravelMatrix` consecutive cells are 8-neighbours; for
        paths from :func:`smooth_path` they are joined by straight segments.
    cost : float
        Total cost: the sum of the edge costs (module docstring) along the path.
    length_m : float
        Length in metres of the polyline through the cell centres.
    line : shapely.LineString or None
        The polyline through the cell centres in map coordinates, if a transform was given and
        the path has at least two cells.
    transform : affine.Affine or None
        Pixel (col, row) corners to map (x, y) as in rasterio; the line joins the cell centres
        ``(col + 0.5, row + 0.5)`` mapped through it.
    """

    cells: np.ndarray
    cost: float
    length_m: float
    line: shapely.LineString | None = None
    transform: Affine | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.cells.shape[0])


def _make_path(
    rows: np.ndarray, cols: np.ndarray, cost: float, length_m: float, transform: Affine | None
) -> Path:
    cells = np.stack([rows, cols], axis=1).astype(np.int64, copy=False)
    line = None
    if transform is not None and cells.shape[0] >= 2:
        # Cell centres through the affine coefficients (x = a*col + b*row + c, y = d*col + ...).
        ta, tb, tc, td, te, tf = tuple(transform)[:6]
        xs = ta * (cols + 0.5) + tb * (rows + 0.5) + tc
        ys = td * (cols + 0.5) + te * (rows + 0.5) + tf
        line = shapely.LineString(np.stack([xs, ys], axis=1))
    return Path(_readonly(cells), float(cost), float(length_m), line, transform)


def _moves_length(n_moves: int, n_diag: int, res_m: float) -> float:
    return res_m * ((n_moves - n_diag) + _k.SQRT2 * n_diag)


# --------------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True, eq=False)
class _Grid:
    """A validated cost raster, flattened for the kernels."""

    c: np.ndarray  # flat float64, C-contiguous
    nrows: int
    ncols: int
    res_m: float
    cmin: float  # smallest finite cost (inf if none)
    cmax: float  # largest finite cost
    z: np.ndarray  # flat float64 elevation, or a 1-element dummy
    up_w: float
    down_w: float
    use_slope: bool
    max_dz: float  # largest |dz| between passable neighbours (0 without slope)

    @property
    def size(self) -> int:
        return self.nrows * self.ncols

    def rowcol(self, flat: int) -> tuple[int, int]:
        return divmod(int(flat), self.ncols)

    def passable(self, flat: int) -> bool:
        return bool(self.c[flat] < np.inf)


@dataclass(frozen=True, eq=False)
class _Padded:
    """The raster with one ring of keep-out around it, as the search kernels take it."""

    grid: _Grid
    c: np.ndarray  # flat float64, (nrows + 2) * (ncols + 2)
    z: np.ndarray  # flat float64 elevation (0 on the ring), or a 1-element dummy
    width: int  # ncols + 2

    @classmethod
    def of(cls, grid: _Grid) -> _Padded:
        shape = (grid.nrows + 2, grid.ncols + 2)
        c = np.full(shape, np.inf)
        c[1:-1, 1:-1] = grid.c.reshape(grid.nrows, grid.ncols)
        z = grid.z
        if grid.use_slope:
            z = np.zeros(shape)
            z[1:-1, 1:-1] = grid.z.reshape(grid.nrows, grid.ncols)
        return cls(grid, c.reshape(-1), z.reshape(-1), grid.ncols + 2)

    @property
    def size(self) -> int:
        return int(self.c.size)

    def pad(self, flat: np.ndarray | int) -> Any:
        """Convert flat raster indices to padded indices."""
        return flat + self.width + 1 + 2 * (flat // self.grid.ncols)

    def unpad(self, padded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Convert padded indices to (rows, cols)."""
        rows, cols = np.divmod(padded, self.width)
        return rows - 1, cols - 1

    def crop(self, a: np.ndarray) -> np.ndarray:
        """Copy a padded flat array out as an (nrows, ncols) array."""
        return a.reshape(self.grid.nrows + 2, self.width)[1:-1, 1:-1].copy()


def _prepare(cost: Any, res_m: Any, slope: SlopeTerm | None) -> _Grid:
    arr = np.asarray(cost)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise PathInputError(f"cost must be a non-empty 2-D array, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise PathInputError(f"cost must be a real-valued array, got dtype {arr.dtype}")
    try:
        res = float(res_m)
    except (TypeError, ValueError) as err:
        raise PathInputError(f"res_m must be a positive number of metres, got {res_m!r}") from err
    if not (math.isfinite(res) and res > 0.0):
        raise PathInputError(f"res_m must be a positive finite number of metres, got {res}")
    nrows, ncols = (int(n) for n in arr.shape)
    c = np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
    n_nan, first_nan, n_neg, first_neg, _, cmin, cmax = _k.scan_costs(c)
    if n_nan:
        r, col = divmod(int(first_nan), ncols)
        raise PathInputError(
            f"cost has {n_nan} NaN cell(s), first at (row {r}, col {col}); "
            "use inf for keep-out cells"
        )
    if n_neg:
        r, col = divmod(int(first_neg), ncols)
        raise PathInputError(
            f"cost has {n_neg} negative cell(s), first {c[first_neg]} at (row {r}, col {col}); "
            "costs must be >= 0 (inf for keep-out)"
        )
    z = np.zeros(1)
    up_w = down_w = max_dz = 0.0
    if slope is not None:
        if not isinstance(slope, SlopeTerm):
            raise PathInputError(f"slope must be a SlopeTerm or None, got {type(slope).__name__}")
        if slope.elevation_m.shape != arr.shape:
            raise PathInputError(
                f"slope.elevation_m has shape {slope.elevation_m.shape} but cost has shape "
                f"{arr.shape}; they must be on the same grid"
            )
        z = np.ascontiguousarray(slope.elevation_m).reshape(-1)
        max_dz, first_bad = _k.scan_elevation(c, z, nrows, ncols)
        if first_bad >= 0:
            r, col = divmod(int(first_bad), ncols)
            raise PathInputError(
                f"slope.elevation_m is {z[first_bad]} at passable cell (row {r}, col {col}); "
                "elevation must be finite wherever cost is finite"
            )
        up_w, down_w = slope.uphill_per_m, slope.downhill_per_m
    return _Grid(
        c,
        nrows,
        ncols,
        res,
        float(cmin),
        float(cmax),
        z,
        up_w,
        down_w,
        slope is not None,
        float(max_dz),
    )


def _flat_cell(nrows: int, ncols: int, cell: Any, name: str) -> int:
    try:
        r, col = (operator.index(x) for x in cell)
    except (TypeError, ValueError):
        msg = f"{name} must be a (row, col) pair of integers, got {cell!r}"
        raise PathInputError(msg) from None
    if not (0 <= r < nrows and 0 <= col < ncols):
        raise PathInputError(f"{name} (row {r}, col {col}) is outside the {nrows} x {ncols} grid")
    return r * ncols + col


def _cell_array(nrows: int, ncols: int, cells: Any, name: str) -> np.ndarray:
    """Validate an (K, 2) array of cells (or a single pair) and return flat indices."""
    arr = np.asarray(cells)
    if arr.ndim == 1 and arr.shape[0] == 2:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise PathInputError(f"{name} must be an array of (row, col) pairs, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise PathInputError(f"{name} must hold integer (row, col) cells, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = (arr[:, 0] < 0) | (arr[:, 0] >= nrows) | (arr[:, 1] < 0) | (arr[:, 1] >= ncols)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise PathInputError(
            f"{name}[{k}] (row {arr[k, 0]}, col {arr[k, 1]}) is outside the {nrows} x {ncols} "
            f"grid ({int(bad.sum())} cell(s) outside)"
        )
    return arr[:, 0] * ncols + arr[:, 1]


def _check_max_cost(max_cost: float | None) -> float:
    if max_cost is None:
        return math.inf
    m = float(max_cost)
    if math.isnan(m) or m < 0.0:
        raise PathInputError(f"max_cost must be >= 0 or None, got {max_cost}")
    return m


# --------------------------------------------------------------------------------------------
# Search driver


@dataclass(frozen=True)
class _QueuePlan:
    bucket: bool
    h_scale: float  # heuristic weight per cell of octile distance (0 for Dijkstra)
    inv_width: float  # 1 / bucket width
    n_buckets: int  # power of two


def _plan_queue(grid: _Grid, astar: bool) -> _QueuePlan:
    res, cmin, cmax = grid.res_m, grid.cmin, grid.cmax
    climb = max(grid.up_w, grid.down_w) * grid.max_dz
    heap_alpha = 1.0 if astar else 0.0
    if not (cmin > 0.0 and math.isfinite(cmax)):
        return _QueuePlan(False, heap_alpha * cmin * res if cmin > 0 else 0.0, 0.0, 0)
    unit = res * cmin * _WIDTH_MARGIN  # smallest edge cost, shrunk for rounding
    if astar:
        # Reduced costs lie in [eps * unit, max_reduced]; the bucket width is eps * unit.
        max_reduced = _k.SQRT2 * res * (cmax + cmin) + 2.0 * climb
        eps = max(_EPSILON, max_reduced / (unit * (_MAX_BUCKETS - 3)))
    else:
        max_reduced = _k.SQRT2 * res * cmax + climb
        eps = 1.0
    if eps > 1.0 or not math.isfinite(max_reduced):
        return _QueuePlan(False, heap_alpha * cmin * res, 0.0, 0)
    width = eps * unit
    n = int(max_reduced / width) + 3
    n_buckets = 1 << max(4, (n - 1).bit_length())
    if n_buckets > _MAX_BUCKETS:
        return _QueuePlan(False, heap_alpha * cmin * res, 0.0, 0)
    h_scale = (1.0 - eps) * cmin * res if astar else 0.0
    return _QueuePlan(True, h_scale, 1.0 / width, n_buckets)


def _initial_pool(nrows: int, ncols: int) -> int:
    """Queue entries to allocate up front: a generous bound on a search frontier."""
    return max(4096, 16 * (nrows + ncols))


class _Workspace:
    """Per-thread search arrays; reusable across runs through the touched list."""

    def __init__(self, padded: _Padded, plan: _QueuePlan, *, record: bool, targets: bool) -> None:
        self.padded = padded
        self.plan = plan
        self.record = record
        size = padded.size
        self.g = np.full(size, np.inf)
        self.par = np.full(size, _k.NO_PARENT, dtype=np.uint8)
        # np.empty/np.zeros pages are only backed by memory once written.
        self.touched = np.empty(size if record else 1, dtype=np.int64)
        self.tmark = np.zeros(size if targets else 1, dtype=np.uint8)
        cap = _initial_pool(padded.grid.nrows, padded.grid.ncols)
        self.head = np.full(max(plan.n_buckets, 1), -1, dtype=np.int64)
        self.q_a = np.empty(cap, dtype=np.int64)  # bucket: next slot; heap: unused
        self.q_key = np.empty(cap, dtype=np.float64)  # heap keys
        self.q_val = np.empty(cap, dtype=np.int64)

    def _grow(self, top: int, at_least: int = 0) -> None:
        cap = max(2 * self.q_val.size, at_least)
        for name in ("q_a", "q_key", "q_val"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=old.dtype)
            new[:top] = old[:top]
            setattr(self, name, new)

    def run(
        self,
        sources: np.ndarray,
        *,
        goal: int = -1,
        max_cost: float = math.inf,
        n_targets: int = -1,
    ) -> tuple[int, np.ndarray]:
        """Search from padded ``sources``; return the status code and the kernel state vector."""
        pd, grid, plan = self.padded, self.padded.grid, self.plan
        st = np.zeros(_k.ST_SIZE, dtype=np.int64)
        st[_k.ST_FREE] = -1
        st[_k.ST_FRESH] = 1
        st[_k.ST_TARGETS] = n_targets
        if self.q_val.size < sources.size + 16:
            self._grow(0, sources.size + 16)
        if plan.bucket:
            self.head.fill(-1)
        while True:
            if plan.bucket:
                status = _k.bucket_search(
                    pd.c,
                    pd.width,
                    grid.res_m,
                    pd.z,
                    grid.up_w,
                    grid.down_w,
                    grid.use_slope,
                    sources,
                    goal,
                    plan.h_scale,
                    plan.inv_width,
                    max_cost,
                    self.tmark,
                    self.g,
                    self.par,
                    self.touched,
                    self.record,
                    self.head,
                    self.q_a,
                    self.q_val,
                    st,
                )
                top = int(st[_k.ST_TOP])
            else:
                status = _k.heap_search(
                    pd.c,
                    pd.width,
                    grid.res_m,
                    pd.z,
                    grid.up_w,
                    grid.down_w,
                    grid.use_slope,
                    sources,
                    goal,
                    plan.h_scale,
                    max_cost,
                    self.tmark,
                    self.g,
                    self.par,
                    self.touched,
                    self.record,
                    self.q_key,
                    self.q_val,
                    st,
                )
                top = int(st[_k.ST_TOP])
            if status != _k.GROW:
                return int(status), st
            self._grow(top)

    def reset(self, st: np.ndarray) -> None:
        """Return the arrays to the untouched state after a run."""
        n = int(st[_k.ST_TOUCHED])
        if 16 * n > self.g.size:
            # A sequential fill beats scattered writes once the run reached a good part of the
            # raster.
            self.g.fill(np.inf)
            self.par.fill(_k.NO_PARENT)
        else:
            _k.reset_touched(self.g, self.par, self.touched, n)


# --------------------------------------------------------------------------------------------
# shortest_path


def shortest_path(
    cost: np.ndarray,
    start: Sequence[int],
    goal: Sequence[int],
    *,
    res_m: float = 1.0,
    slope: SlopeTerm | None = None,
    transform: Affine | None = None,
) -> Path:
    """Optimal 8-connected least-cost path from ``start`` to ``goal`` (A*).

    Parameters
    ----------
    cost : ndarray of shape (M, N)
        Cost per metre of each cell, >= 0; ``inf`` marks keep-out. Not modified.
    start, goal : (int, int)
        ``(row, col)`` cells.
    res_m : float, default 1.0
        Pixel size in metres (square pixels).
    slope : SlopeTerm, optional
        Direction-dependent climb term added to every move.
    transform : affine.Affine, optional
        Pixel-to-map transform; when given, ``Path.line`` is the path in map coordinates.

    Returns
    -------
    Path
        The cells from start to goal, the total cost and the length. The cost equals
        ``MCP_Geometric(cost, sampling=(res_m, res_m)).find_costs([start])`` at ``goal`` (up to
        rounding) when ``slope`` is None.

    Raises
    ------
    NoPathError
        The start or the goal is in keep-out, or no passable path joins them.
    PathInputError
        The cost raster has NaN or negative values, a cell is outside the grid or ``res_m`` is
        not a positive number.

    Notes
    -----
    A* whose heuristic is the octile distance times the smallest finite cost, scaled by 0.98 so
    that a bucket queue can replace a binary heap without losing optimality, plus (with
    ``slope``) the climb energy to the goal's elevation. Ties are broken deterministically.
    Memory is allocated per call: about 17 bytes per cell (a padded float64 copy of ``cost``,
    the g-scores and the parents).

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.ones((3, 3))
    >>> cost[1, :2] = np.inf
    >>> path = shortest_path(cost, (2, 0), (0, 0))
    >>> path.cells.tolist()
    [[2, 0], [2, 1], [1, 2], [0, 1], [0, 0]]
    >>> round(path.cost, 4)
    4.8284
    """
    grid = _prepare(cost, res_m, slope)
    s = _flat_cell(grid.nrows, grid.ncols, start, "start")
    t = _flat_cell(grid.nrows, grid.ncols, goal, "goal")
    if not grid.passable(s):
        raise NoPathError(
            f"start (row {grid.rowcol(s)[0]}, col {grid.rowcol(s)[1]}) is in keep-out "
            "(inf cost); move it to a passable cell"
        )
    if not grid.passable(t):
        raise NoPathError(
            f"goal (row {grid.rowcol(t)[0]}, col {grid.rowcol(t)[1]}) is in keep-out "
            "(inf cost); move it to a passable cell"
        )
    if s == t:
        rc = np.array([grid.rowcol(s)], dtype=np.int64)
        return _make_path(rc[:, 0], rc[:, 1], 0.0, 0.0, transform)
    plan = _plan_queue(grid, astar=True)
    pd = _Padded.of(grid)
    ws = _Workspace(pd, plan, record=False, targets=False)
    tp = int(pd.pad(t))
    status, st = ws.run(np.array([pd.pad(s)], dtype=np.int64), goal=tp)
    logger.debug(
        "A* %d x %d: settled %d cells (%s queue)",
        grid.nrows,
        grid.ncols,
        st[_k.ST_SETTLED],
        "bucket" if plan.bucket else "heap",
    )
    if status != _k.GOAL:
        raise NoPathError(
            f"no connection: goal (row {grid.rowcol(t)[0]}, col {grid.rowcol(t)[1]}) is walled "
            f"off from start (row {grid.rowcol(s)[0]}, col {grid.rowcol(s)[1]}) by keep-out; "
            f"only {st[_k.ST_SETTLED]} cells are reachable from the start"
        )
    cells, n_diag = _k.walk_back(ws.par, pd.width, tp)
    if cells.size == 0:  # pragma: no cover - would be a kernel bug
        raise PlanningError("internal error: corrupt predecessor tree in shortest_path")
    rows, cols = pd.unpad(cells)
    length = _moves_length(cells.size - 1, int(n_diag), grid.res_m)
    return _make_path(rows, cols, ws.g[tp], length, transform)


# --------------------------------------------------------------------------------------------
# cost_distance


@dataclass(frozen=True, eq=False)
class CostDistance:
    """Least accumulated cost from the nearest source to every cell, with the tree to trace back.

    Parameters
    ----------
    cost : ndarray of shape (M, N)
        Accumulated cost (read-only); 0 at the sources, ``inf`` where unreachable or beyond
        ``max_cost``.
    sources : ndarray of shape (K, 2)
        The source cells, ``(row, col)``.
    res_m : float
        Pixel size in metres.
    max_cost : float or None
        The bound the field was computed with.
    transform : affine.Affine or None
        Pixel-to-map transform passed on to the paths from :meth:`path_to`.
    """

    cost: np.ndarray
    sources: np.ndarray
    res_m: float
    max_cost: float | None = None
    transform: Affine | None = field(default=None, repr=False)
    _parent: np.ndarray | None = field(default=None, repr=False)

    def path_to(self, cell: Sequence[int]) -> Path:
        """Least-cost path from the nearest source to ``cell``, traced back without searching.

        Parameters
        ----------
        cell : (int, int)
            ``(row, col)`` of the destination.

        Returns
        -------
        Path
            Starts at a source, ends at ``cell``; ``cost`` equals ``self.cost[cell]``.

        Raises
        ------
        NoPathError
            ``cell`` was not reached (keep-out, walled off, or beyond ``max_cost``).
        PathInputError
            ``cell`` is outside the grid.
        """
        nrows, ncols = self.cost.shape
        flat = _flat_cell(nrows, ncols, cell, "cell")
        r, col = divmod(flat, ncols)
        total = float(self.cost[r, col])
        if not total < math.inf:
            bound = "" if self.max_cost is None else f" within max_cost {self.max_cost:g}"
            raise NoPathError(f"cell (row {r}, col {col}) is not reachable from the sources{bound}")
        assert self._parent is not None
        cells, n_diag = _k.walk_back(self._parent.reshape(-1), ncols, flat)
        rows, cols = np.divmod(cells, ncols)
        length = _moves_length(cells.size - 1, int(n_diag), self.res_m)
        return _make_path(rows, cols, total, length, self.transform)


def cost_distance(
    cost: np.ndarray,
    sources: Any,
    *,
    res_m: float = 1.0,
    max_cost: float | None = None,
    slope: SlopeTerm | None = None,
    transform: Affine | None = None,
) -> CostDistance:
    """Least accumulated cost from the nearest of ``sources`` to every cell (Dijkstra).

    Parameters
    ----------
    cost : ndarray of shape (M, N)
        Cost per metre of each cell, >= 0; ``inf`` marks keep-out.
    sources : array_like of shape (K, 2) or (2,)
        ``(row, col)`` source cells, all at accumulated cost 0.
    res_m : float, default 1.0
        Pixel size in metres.
    max_cost : float, optional
        Stop the search at this accumulated cost: cells beyond it are ``inf``. The search work
        then grows with the area reached, not with the raster (the output array is still
        allocated, a single fill).
    slope : SlopeTerm, optional
        Direction-dependent climb term; costs are then for travel *from* the sources.
    transform : affine.Affine, optional
        Pixel-to-map transform, passed on to :meth:`CostDistance.path_to`.

    Returns
    -------
    CostDistance
        The field and the predecessor tree. Without ``slope`` and ``max_cost`` the field equals
        ``MCP_Geometric(cost, sampling=(res_m, res_m)).find_costs(sources)[0]`` up to rounding;
        both leave keep-out and unreachable cells at ``inf``.

    Raises
    ------
    NoPathError
        A source is in keep-out.
    PathInputError
        Malformed cost raster, a source outside the grid, a negative ``max_cost``.

    Examples
    --------
    >>> import numpy as np
    >>> field = cost_distance(np.ones((1, 4)), [(0, 0)], res_m=2.0, max_cost=4.0)
    >>> field.cost.tolist()
    [[0.0, 2.0, 4.0, inf]]
    """
    grid = _prepare(cost, res_m, slope)
    flat = _cell_array(grid.nrows, grid.ncols, sources, "sources")
    bound = _check_max_cost(max_cost)
    blocked = ~(grid.c[flat] < np.inf)
    if blocked.any():
        k = int(np.flatnonzero(blocked)[0])
        r, col = grid.rowcol(flat[k])
        raise NoPathError(
            f"sources[{k}] (row {r}, col {col}) is in keep-out (inf cost); "
            f"{int(blocked.sum())} source(s) are, move them to passable cells"
        )
    plan = _plan_queue(grid, astar=False)
    pd = _Padded.of(grid)
    ws = _Workspace(pd, plan, record=True, targets=False)
    _, st = ws.run(pd.pad(flat), max_cost=bound)
    _k.drop_open(ws.g, ws.par, ws.touched, int(st[_k.ST_TOUCHED]))
    logger.debug(
        "cost_distance %d x %d from %d source(s): settled %d cells",
        grid.nrows,
        grid.ncols,
        flat.size,
        st[_k.ST_SETTLED],
    )
    return CostDistance(
        _readonly(pd.crop(ws.g)),
        _readonly(np.stack(np.divmod(flat, grid.ncols), axis=1)),
        grid.res_m,
        None if max_cost is None else bound,
        transform,
        _readonly(pd.crop(ws.par)),
    )


# --------------------------------------------------------------------------------------------
# travel_matrix


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Least-cost travel between every ordered pair of stops, with the legs kept for tracing.

    Parameters
    ----------
    cost : ndarray of shape (N, N)
        ``cost[i, j]`` is the least cost of travel from stop ``i`` to stop ``j``; 0 on the
        diagonal, ``inf`` if unreachable (or beyond ``max_cost``). Symmetric unless a
        :class:`SlopeTerm` was used.
    length_m : ndarray of shape (N, N)
        Length in metres of each least-cost leg (``inf`` if unreachable).
    points : ndarray of shape (N, 2)
        The stops, ``(row, col)``.
    res_m : float
        Pixel size in metres.
    transform : affine.Affine or None
        Pixel-to-map transform passed on to the paths.
    """

    cost: np.ndarray
    length_m: np.ndarray
    points: np.ndarray
    res_m: float
    transform: Affine | None = field(default=None, repr=False)
    # Legs as moves (0..7, see _path_kernels) between unique stop cells: leg (a, b) is
    # _moves[_leg_start[a, b]:][:_leg_n[a, b]], reversed and mirrored (7 - move) if _leg_rev.
    _moves: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint8), repr=False)
    _leg_start: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.int64), repr=False)
    _leg_n: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.int64), repr=False)
    _leg_rev: np.ndarray = field(default_factory=lambda: np.empty((0, 0), bool), repr=False)
    _unique: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False)

    def _leg_cells(self, i: int, j: int) -> np.ndarray:
        n = self.points.shape[0]
        if not (0 <= i < n and 0 <= j < n):
            raise PathInputError(f"stop indices must be in 0..{n - 1}, got ({i}, {j})")
        if not self.cost[i, j] < math.inf:
            raise NoPathError(f"stop {j} is not reachable from stop {i}")
        a, b = int(self._unique[i]), int(self._unique[j])
        cells = np.empty((1, 2), dtype=np.int64)
        cells[0] = self.points[i]
        if a == b:
            return cells
        start, count = int(self._leg_start[a, b]), int(self._leg_n[a, b])
        moves = self._moves[start : start + count]
        if self._leg_rev[a, b]:
            moves = 7 - moves[::-1]
        steps = np.stack([_k.DR[moves], _k.DC[moves]], axis=1)
        return np.concatenate([cells, cells + np.cumsum(steps, axis=0)])

    def path(self, i: int, j: int) -> Path:
        """Return the least-cost leg from stop ``i`` to stop ``j``, without searching again.

        Raises
        ------
        NoPathError
            Stop ``j`` is not reachable from stop ``i``.
        PathInputError
            An index is out of range.
        """
        cells = self._leg_cells(i, j)
        return _make_path(
            cells[:, 0], cells[:, 1], self.cost[i, j], self.length_m[i, j], self.transform
        )

    def route(self, stops: Sequence[int]) -> Path:
        """Return the path visiting ``stops`` in order, joined from the matrix's legs.

        Parameters
        ----------
        stops : sequence of int
            Stop indices, at least one; consecutive repeats are allowed.

        Returns
        -------
        Path
            Cost and length are the sums over the legs.

        Raises
        ------
        NoPathError
            A leg is unreachable.
        PathInputError
            No stops, or an index out of range.
        """
        order = [int(s) for s in stops]
        if not order:
            raise PathInputError("route needs at least one stop")
        parts = [self._leg_cells(order[0], order[0])]
        total = length = 0.0
        for i, j in itertools.pairwise(order):
            parts.append(self._leg_cells(i, j)[1:])
            total += float(self.cost[i, j])
            length += float(self.length_m[i, j])
        cells = np.concatenate(parts)
        return _make_path(cells[:, 0], cells[:, 1], total, length, self.transform)


def _travel_jobs(grid: _Grid, cells: np.ndarray, symmetric: bool) -> list[tuple[int, np.ndarray]]:
    """For each unique stop cell, the stops it must search to (the others, in run order)."""
    n = cells.size
    if n < 2:
        return []
    if not symmetric:
        return [(a, np.delete(np.arange(n), a)) for a in range(n)]
    # Costs are symmetric, so leg b -> a is leg a -> b reversed and each pair is searched once.
    # Running peripheral stops first leaves the later searches short, central ones.
    rows, cols = np.divmod(cells, grid.ncols)
    d2 = (rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2
    order = np.lexsort((np.arange(n), -d2))
    return [(int(order[p]), order[p + 1 :].copy()) for p in range(n - 1)]


def _travel_worker(
    pd: _Padded,
    plan: _QueuePlan,
    cells: np.ndarray,
    jobs: list[tuple[int, np.ndarray]],
    next_job: itertools.count,
    lock: threading.Lock,
    max_cost: float,
    results: dict[int, tuple[np.ndarray, ...]],
) -> None:
    ws = _Workspace(pd, plan, record=True, targets=True)
    while True:
        with lock:
            k = next(next_job)
        if k >= len(jobs):
            return
        a, needed = jobs[k]
        ends = cells[needed]
        ws.tmark[ends] = 1
        _, st = ws.run(cells[a : a + 1], max_cost=max_cost, n_targets=needed.size)
        ws.tmark[ends] = 0
        ok = (ws.par[ends] & _k.CLOSED) != 0
        moves, offsets, n_moves, n_diag = _k.extract_legs(ws.par, pd.width, ends[ok])
        results[a] = (needed[ok], ws.g[ends[ok]].copy(), moves, offsets, n_moves, n_diag)
        ws.reset(st)


def travel_matrix(
    cost: np.ndarray,
    points: Any,
    *,
    res_m: float = 1.0,
    max_cost: float | None = None,
    slope: SlopeTerm | None = None,
    transform: Affine | None = None,
    workers: int | None = None,
) -> TravelMatrix:
    """Least-cost travel cost, length and legs between every ordered pair of stops.

    One bounded Dijkstra search per stop (not one A* per pair): each stops as soon as every stop
    it needs is settled, or at ``max_cost``. Without ``slope`` the costs are symmetric, so leg
    ``j -> i`` is leg ``i -> j`` reversed and each pair is searched from one end only. With
    ``slope`` the search from stop ``i`` gives the costs *from* ``i``, row ``i`` of the matrix.

    Parameters
    ----------
    cost : ndarray of shape (M, N)
        Cost per metre of each cell, >= 0; ``inf`` marks keep-out.
    points : array_like of shape (K, 2)
        ``(row, col)`` of the stops; repeated cells are allowed.
    res_m : float, default 1.0
        Pixel size in metres.
    max_cost : float, optional
        Legs costing more are reported unreachable (``inf``) and bound each search.
    slope : SlopeTerm, optional
        Direction-dependent climb term; makes the matrix asymmetric.
    transform : affine.Affine, optional
        Pixel-to-map transform passed on to the paths.
    workers : int, optional
        Searches run in this many threads (default: the CPUs available). The result does not
        depend on it. Each thread holds about 18 bytes per raster cell.

    Returns
    -------
    TravelMatrix
        Costs, lengths and the legs; :meth:`TravelMatrix.path` expands a leg to a path.

    Raises
    ------
    NoPathError
        A stop is in keep-out.
    PathInputError
        Malformed inputs, a stop outside the grid, ``workers < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> tm = travel_matrix(np.ones((4, 4)), [(0, 0), (0, 3), (3, 3)])
    >>> tm.cost.round(3).tolist()
    [[0.0, 3.0, 4.243], [3.0, 0.0, 3.0], [4.243, 3.0, 0.0]]
    >>> tm.path(0, 2).cells.tolist()
    [[0, 0], [1, 1], [2, 2], [3, 3]]
    """
    grid = _prepare(cost, res_m, slope)
    flat = _cell_array(grid.nrows, grid.ncols, points, "points")
    bound = _check_max_cost(max_cost)
    if workers is None:
        n_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    else:
        n_workers = int(workers)
        if n_workers < 1:
            raise PathInputError(f"workers must be >= 1, got {workers}")
    blocked = ~(grid.c[flat] < np.inf)
    if blocked.any():
        idx = np.flatnonzero(blocked)
        shown = ", ".join(str(int(i)) for i in idx[:10]) + (", ..." if idx.size > 10 else "")
        raise NoPathError(
            f"{idx.size} stop(s) are in keep-out (inf cost): {shown}; drop them or move them to "
            "passable cells"
        )
    cells, inverse = np.unique(flat, return_inverse=True)
    inverse = inverse.reshape(-1)
    u = cells.size
    symmetric = slope is None
    jobs = _travel_jobs(grid, cells, symmetric)
    plan = _plan_queue(grid, astar=False)
    pd = _Padded.of(grid)
    results: dict[int, tuple[np.ndarray, ...]] = {}
    n_threads = max(1, min(n_workers, len(jobs)))
    if jobs:
        counter, lock = itertools.count(), threading.Lock()
        args = (pd, plan, pd.pad(cells), jobs, counter, lock, bound, results)
        if n_threads == 1:
            _travel_worker(*args)
        else:
            with ThreadPoolExecutor(n_threads) as pool:
                for fut in [pool.submit(_travel_worker, *args) for _ in range(n_threads)]:
                    fut.result()

    ucost = np.full((u, u), np.inf)
    ulen = np.full((u, u), np.inf)
    np.fill_diagonal(ucost, 0.0)
    np.fill_diagonal(ulen, 0.0)
    leg_start = np.zeros((u, u), dtype=np.int64)
    leg_n = np.full((u, u), -1, dtype=np.int64)
    np.fill_diagonal(leg_n, 0)
    leg_rev = np.zeros((u, u), dtype=bool)
    chunks, base = [], 0
    for a in sorted(results):
        ends, costs, moves, offsets, n_moves, n_diag = results[a]
        lengths = grid.res_m * ((n_moves - n_diag) + _k.SQRT2 * n_diag)
        ucost[a, ends] = costs
        ulen[a, ends] = lengths
        leg_start[a, ends] = base + offsets
        leg_n[a, ends] = n_moves
        if symmetric:
            ucost[ends, a] = costs
            ulen[ends, a] = lengths
            leg_start[ends, a] = base + offsets
            leg_n[ends, a] = n_moves
            leg_rev[ends, a] = True
        chunks.append(moves)
        base += moves.size
    all_moves = np.concatenate(chunks) if chunks else np.empty(0, np.uint8)
    logger.debug(
        "travel_matrix: %d stops (%d cells), %d searches, %d stored moves",
        flat.size,
        u,
        len(jobs),
        all_moves.size,
    )
    ix = np.ix_(inverse, inverse)
    pts = np.stack(np.divmod(flat, grid.ncols), axis=1)
    return TravelMatrix(
        _readonly(ucost[ix]),
        _readonly(ulen[ix]),
        _readonly(pts),
        grid.res_m,
        transform,
        _readonly(all_moves),
        _readonly(leg_start),
        _readonly(leg_n),
        _readonly(leg_rev),
        _readonly(inverse.astype(np.int64)),
    )


# --------------------------------------------------------------------------------------------
# smooth_path


def smooth_path(
    path: Path,
    cost: np.ndarray,
    *,
    res_m: float = 1.0,
    slope: SlopeTerm | None = None,
    tolerance: float = 0.0,
) -> Path:
    """Fewer waypoints for execution: replace runs of cells by straight segments.

    Greedy line-of-sight shortcutting: from each kept waypoint, the next one is the farthest
    path cell such that the straight segments to it (and to every cell before it) never enter a
    keep-out cell and cost at most ``1 + tolerance`` times the stretch of path they replace.
    A segment's cost is the line integral of the cell costs along it plus the climb term between
    the cells it enters, which for a single 8-neighbour move is exactly the edge cost of
    :func:`shortest_path`; so with ``tolerance=0`` the smoothed path never costs more than the
    input (up to a 1e-12 relative rounding slack) and never enters a cell the input could not.
    A cell that a segment only touches at a corner is not entered, as for diagonal moves.

    Parameters
    ----------
    path : Path
        Path to smooth, e.g. from :func:`shortest_path`. Its transform is kept.
    cost : ndarray of shape (M, N)
        The cost raster the path was planned on.
    res_m : float, default 1.0
        Pixel size in metres.
    slope : SlopeTerm, optional
        The climb term the path was planned with.
    tolerance : float, default 0.0
        Allowed relative cost increase per shortcut, >= 0.

    Returns
    -------
    Path
        Waypoints (a subset of the input cells, first and last kept) with the cost and length of
        the straight-segment polyline through them.

    Raises
    ------
    PathInputError
        A cell is outside the grid, the input path enters keep-out, or ``tolerance`` < 0.

    Examples
    --------
    >>> import numpy as np
    >>> grid_path = shortest_path(np.ones((5, 5)), (0, 0), (4, 2))
    >>> len(grid_path), len(smooth_path(grid_path, np.ones((5, 5))))
    (5, 2)
    """
    grid = _prepare(cost, res_m, slope)
    tol = float(tolerance)
    if not (math.isfinite(tol) and tol >= 0.0):
        raise PathInputError(f"tolerance must be a finite number >= 0, got {tolerance}")
    flat = _cell_array(grid.nrows, grid.ncols, path.cells, "path.cells")
    rows, cols = (np.ascontiguousarray(a) for a in np.divmod(flat, grid.ncols))
    args = (grid.c, grid.nrows, grid.ncols, grid.res_m, grid.z, grid.up_w, grid.down_w)
    args += (grid.use_slope,)

    def seg(a: int, b: int) -> float:
        return float(_k.segment_cost(*args, rows[a], cols[a], rows[b], cols[b]))

    for k in range(rows.size - 1):
        if not seg(k, k + 1) < math.inf:
            raise PathInputError(
                f"path enters keep-out between cells {k} (row {rows[k]}, col {cols[k]}) and "
                f"{k + 1} (row {rows[k + 1]}, col {cols[k + 1]})"
            )
    keep = _k.smooth_vertices(*args, rows, cols, tol) if rows.size > 2 else np.arange(rows.size)
    kr, kc = rows[keep], cols[keep]
    total = sum(seg(int(a), int(b)) for a, b in itertools.pairwise(keep))
    length = grid.res_m * float(np.hypot(np.diff(kr), np.diff(kc)).sum())
    return _make_path(kr, kc, total, length, path.transform)
