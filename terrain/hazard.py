"""Hazard map: what a DEM shows for certain, what it can only give as a chance, and the link.

Every hazard is judged at the scale where the DEM resolves it, and only there as a certainty.

**Keep-out** (certain; bits of ``keepout_reason``, in the order of :data:`REASONS`):

- ``nodata``: no height under the rover (a hole, the grid edge), widened by the rover's radius;
- ``slope``: the slope the DEM measures exceeds the limit. Where the DEM resolves the rover's
  footprint (its wheelbase spans three pixels or more) it is the slope of a plane over the true
  metric footprint (a disc of the wheelbase, each cell weighted by its area inside it); on
  coarser DEMs Horn's slope over the DEM's finest baseline (two pixels): relief grows with
  baseline, so a slope already too steep there is too steep for the rover;
- ``obstacle``: a resolved rock (:func:`terrain.rocks.detect_rocks`: a compact bump at least
  two pixels across standing higher above the ground than the rover can pass: its step limit
  or its clearance, whichever is lower), widened by the rover's radius in metres;
- ``lander``: within the lander's footprint plus the rover's radius;
- ``link``: the radio link budget to the lander has no margin left (:mod:`terrain.link`).

**Risk** (``risk``): the chance that the rover, centred on the cell, meets what the DEM cannot
resolve, from two independent sources:

- a tilt beyond the slope limit: below the DEM's finest baseline the rover's tilt spreads
  around the measured slope by an amount that follows from the DEM's own roughness-vs-baseline
  scaling (:mod:`terrain.roughness`, Hurst exponent); the risk is the Rice tail of that spread;
- a rock too small to resolve but too tall to pass under the footprint, from the rock abundance
  (Golombek & Rapp, k per cell; :func:`terrain.rocks.unresolved_rock_risk`).

There is no binary limit on DEM texture or noise, and craters are not keep-out as such: their
walls are, where they are steeper than the limit (a degraded crater with 5 degree walls is
drivable, at a cost). ``cost`` is 1 on benign ground and grows with slope and risk (and shadow);
cells whose risk exceeds ``HazardLimits.max_risk`` carry the ``risk`` reason and are impassable
to the planners (cost inf) like keep-out, but are not certain: :attr:`HazardMap.keepout` holds
every reason, :meth:`HazardMap.certain_keepout` only the certain ones.

One implementation per window: :func:`hazard_window` computes every local layer of a window of
the DEM (with a halo) given the few things that need the whole DEM (its roughness scaling, the
link field, the crater catalogue, the shadow of the core); :func:`hazard_map` calls it once on
the whole grid and :mod:`terrain.tiled` once per tile, so the two agree cell for cell.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numba
import numpy as np
from affine import Affine

from . import _hazard_kernels as hk
from .craters import DetectedCraters, crater_mask, detect_craters
from .crs import MOON_RADIUS_M
from .dem import Dem
from .errors import HazardInputError
from .illumination import cast_shadow
from .io import write_geotiff
from .link import LinkBudget, LinkField, link_box, link_field, radio_factor, radio_grid
from .rocks import RESOLVED_PX, DetectedRocks, RockCells, detect_rocks, unresolved_rock_risk
from .roughness import (
    BLOCK_PX,
    RICE_STEP,
    RoughnessScaling,
    block_moments,
    block_variogram,
    footprint_weights,
    rice_tail_table,
    scaling_from_moments,
    tilt_sigma_unit,
)

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

REASONS = ("nodata", "slope", "obstacle", "risk", "lander", "link")
"""Keep-out reasons, in the bit order of ``keepout_reason`` (bit k is ``1 << k``)."""
CERTAIN = tuple(r for r in REASONS if r != "risk")
"""The reasons that are certainties (every one but ``risk``)."""
_CERTAIN_MASK = sum(1 << REASONS.index(r) for r in CERTAIN)
FOOTPRINT_RESOLVED_PX = 3.0
"""The DEM resolves the rover's footprint when its wheelbase spans this many pixels: a plane
needs three cells across to have a slope of its own."""
ROCK_SEARCH_M = 8.0
"""Largest rock searched for (m): the opening window of the rock detection."""


@dataclass(frozen=True)
class HazardLimits:
    """Rover limits, the link budget and the cost weights the hazard map applies (from specs).

    Parameters
    ----------
    max_slope_deg : float
        Steepest tilt the rover may drive at.
    max_step_m : float
        Highest step a wheel can climb.
    clearance_m : float
        Body clearance. Obstacles are what stands higher than the lower of the two.
    wheelbase_m : float
        Baseline of the rover's tilt, and the diameter of the footprint plane.
    footprint_area_m2 : float
        Ground the rover covers (length x width): where it meets unresolved rocks.
    rover_radius_m : float
        Radius of the circle holding the rover in any heading: resolved hazards are widened by
        it, so planners may treat the rover as a point.
    max_risk : float
        Risk above which a cell is impassable to the planners. Default 0.4: a rover that sees and
        steers around hazards as it drives (a navigation-camera DEM at every command, as Pragyan
        and Yutu-2 worked) needs free footprint-sized spots that join up; when each spot is
        blocked with a chance above 1 - 0.593 (site percolation on the square lattice), they no
        longer do. Below it the rover gets through, at a cost that grows with the risk.
    rover_antenna_height_m : float
        The rover's antenna above the ground.
    radio_cell_m : float
        Terrain is averaged over cells of this size for the link: bumps much smaller than the
        Fresnel zone (1.8 m at 100 m at 2.4 GHz) do not diffract.
    link : LinkBudget
        The radio budget between lander and rover.
    slope_weight, risk_weight, shadow_weight : float
        Cost = 1 + slope_weight x slope / max slope + risk_weight x risk / max risk
        (+ shadow_weight in cast shadow).
    """

    max_slope_deg: float = 15.0
    max_step_m: float = 0.06
    clearance_m: float = 0.08
    wheelbase_m: float = 0.42
    footprint_area_m2: float = 0.17
    rover_radius_m: float = 0.31
    max_risk: float = 0.4
    rover_antenna_height_m: float = 0.25
    radio_cell_m: float = 2.0
    link: LinkBudget = field(default_factory=LinkBudget)
    slope_weight: float = 2.0
    risk_weight: float = 2.0
    shadow_weight: float = 1.0

    @property
    def obstacle_height_m(self) -> float:
        """Height the rover cannot pass: its step limit or its clearance, whichever is lower."""
        return min(self.max_step_m, self.clearance_m)

    @property
    def link_range_m(self) -> float:
        """Free-space range of the link budget (m): no link beyond it whatever the terrain."""
        return self.link.free_space_range_m()

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the link as a nested dict), for tags and JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> HazardLimits:
        """Limits from :meth:`to_dict`'s values.

        Raises
        ------
        HazardInputError
            A value the limits do not know (a hazard map from another version).
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise HazardInputError(
                f"hazard limits {unknown} are not known to this version; recompute the map"
            )
        v = dict(values)
        if isinstance(v.get("link"), Mapping):
            v["link"] = LinkBudget(**v["link"])
        return cls(**v)

    def validate(self) -> None:
        """Raise HazardInputError naming the first impossible value."""
        for name in (
            "max_slope_deg",
            "max_step_m",
            "clearance_m",
            "wheelbase_m",
            "footprint_area_m2",
            "rover_radius_m",
            "max_risk",
            "radio_cell_m",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise HazardInputError(f"hazard limit {name} must be a positive number, got {v!r}")
        if not self.max_slope_deg < 90:
            raise HazardInputError(f"max_slope_deg must be below 90, got {self.max_slope_deg}")
        if not self.max_risk < 1:
            raise HazardInputError(f"max_risk is a probability below 1, got {self.max_risk}")
        for name in ("rover_antenna_height_m", "slope_weight", "risk_weight", "shadow_weight"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise HazardInputError(f"hazard limit {name} must be >= 0, got {v!r}")
        try:
            self.link.validate()
        except ValueError as err:
            raise HazardInputError(str(err)) from None


@dataclass(frozen=True)
class LanderSite:
    """Where the lander stands: map position, keep-out radius and antenna height."""

    x: float
    y: float
    footprint_radius_m: float = 1.6
    antenna_height_m: float = 2.3


# --------------------------------------------------------------------------------------------
# the counts behind the summary


@dataclass(frozen=True)
class HazardStats:
    """Cell counts of a hazard map (or a window of one), additive over windows.

    ``reasons[b]`` counts valid cells (with a height) whose reason byte is b; ``in_range[b]``
    the same within the link's free-space range of the lander (all cells without a lander);
    ``slope_hist`` the rover slopes in 0.01 deg bins; ``sums`` [valid, shadowed, sum of risk,
    sum of rock risk].
    """

    reasons: np.ndarray
    in_range: np.ndarray
    slope_hist: np.ndarray
    sums: np.ndarray

    def __add__(self, other: HazardStats) -> HazardStats:
        return HazardStats(
            self.reasons + other.reasons,
            self.in_range + other.in_range,
            self.slope_hist + other.slope_hist,
            self.sums + other.sums,
        )

    @property
    def valid(self) -> int:
        """Cells with a height."""
        return int(self.reasons.sum())

    def share(self, reason: str, *, in_range: bool = False) -> float:
        """Share of valid cells (in link range) that carry a reason."""
        h = self.in_range if in_range else self.reasons
        bit = 1 << REASONS.index(reason)
        n = max(int(h.sum()), 1)
        return float(h[(np.arange(256) & bit) != 0].sum() / n)

    def keepout_share(
        self, *, certain: bool = False, in_range: bool = False, terrain: bool = False
    ) -> float:
        """Share of valid cells (in link range) the planners must avoid.

        ``certain``: only the certain reasons; ``terrain``: only what the ground itself causes
        (every reason but the link and the lander).
        """
        h = self.in_range if in_range else self.reasons
        mask = _CERTAIN_MASK if certain else 255
        if terrain:
            mask &= ~((1 << REASONS.index("link")) | (1 << REASONS.index("lander")))
        n = max(int(h.sum()), 1)
        return float(h[(np.arange(256) & mask) != 0].sum() / n)

    def only_share(self, reason: str, *, in_range: bool = False) -> float:
        """Share of valid cells whose only reason is this one."""
        h = self.in_range if in_range else self.reasons
        n = max(int(h.sum()), 1)
        return float(h[1 << REASONS.index(reason)] / n)

    def median_slope_deg(self) -> float:
        """Median rover slope (deg), from the 0.01 deg histogram."""
        hist = self.slope_hist
        total = int(hist.sum())
        if total == 0:
            return math.nan
        cum = np.cumsum(hist)
        lo = int(np.searchsorted(cum, (total + 1) // 2))
        hi = int(np.searchsorted(cum, total // 2 + 1))
        return float(0.5 * (lo + hi) * 0.01 + 0.005)


def _stats(
    z,
    reasons,
    risk,
    rock_risk,
    slope,
    shadow,
    in_range: np.ndarray | bool | tuple[int, int, float, float] = True,
) -> HazardStats:
    rr = np.asarray(rock_risk, dtype=np.float32)
    uniform = rr.ndim == 0 or rr.size == 1
    rr = rr.reshape(1, 1) if uniform else rr
    rng = in_range  # a disc (see window_counts) or bools
    if not isinstance(in_range, tuple):
        rng = np.asarray(in_range, dtype=bool)
        rng = rng.reshape(1, 1) if rng.ndim == 0 else rng
    sh = np.zeros((1, 1), bool) if shadow is None else shadow
    h, hr, sh_hist, sums = hk.window_counts(
        z, reasons, risk, rr, uniform, slope, sh, shadow is not None, rng
    )
    return HazardStats(h, hr, sh_hist, sums)


# --------------------------------------------------------------------------------------------
# the per-window model


@dataclass(frozen=True)
class SiteModel:
    """What every window needs from the whole DEM (small, picklable).

    Built once by :func:`site_model`, shared by the in-memory map and every tile.
    ``sigma_blocks`` is the rover's tilt spread (tan units, one component) in each block of
    ``BLOCK_PX`` cells of the grid's lattice.
    """

    limits: HazardLimits
    res_m: float
    scaling: RoughnessScaling
    sigma_blocks: np.ndarray
    footprint: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None
    zfill: float

    @property
    def footprint_resolved(self) -> bool:
        """Whether the DEM resolves the rover's footprint (slope over the true footprint)."""
        return self.footprint is not None

    @property
    def tilt_sigma_deg(self) -> float:
        """The median tilt spread over the DEM's blocks (degrees)."""
        return float(np.degrees(np.arctan(np.median(self.sigma_blocks))))

    @property
    def halo_px(self) -> int:
        """Cells around a window's core that its local layers read."""
        reach = 1
        if self.footprint is not None:
            reach = int(max(np.abs(self.footprint[0]).max(), np.abs(self.footprint[1]).max()))
        size = max(3, int(np.ceil(ROCK_SEARCH_M / self.res_m)) + 2) | 1
        rocks = 4 * size + 4  # opening, peaks, growth and the claims of neighbouring rocks
        return max(reach + 1, rocks) + _widen_px(self.limits.rover_radius_m, self.res_m) + 1


def site_model(
    limits: HazardLimits, res_m: float, moments: np.ndarray, zfill: float
) -> tuple[SiteModel, RoughnessScaling]:
    """The whole-DEM inputs of :func:`hazard_window`, from the DEM's roughness block moments.

    The slope fit (the true footprint, or Horn's), the roughness scaling (Hurst exponent over
    the whole DEM) and each block's tilt spread (its own amplitude; blocks without data take
    the DEM's).
    """
    scaling = scaling_from_moments(moments, res_m)
    fit = None
    if limits.wheelbase_m >= FOOTPRINT_RESOLVED_PX * res_m:
        rows, cols, pts, wx, wy = footprint_weights(res_m, limits.wheelbase_m)
        fit = (rows, cols, wx, wy)
        unit = tilt_sigma_unit(scaling, limits.wheelbase_m, (pts, wx, wy))
    else:
        unit = tilt_sigma_unit(scaling, limits.wheelbase_m)
    v1 = block_variogram(moments)
    v1 = np.where(np.isfinite(v1), v1, scaling.v1_m2)
    sigma = (unit * np.sqrt(np.maximum(v1, 0.0))).astype(np.float64)
    return SiteModel(limits, float(res_m), scaling, sigma, fit, float(zfill)), scaling


def _widen_px(radius_m: float, res_m: float) -> int:
    return int(math.ceil(radius_m / res_m + 0.5))


def widening_offsets(radius_m: float, res_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of the cells a disc of ``radius_m`` around a cell centre touches (true metres)."""
    k = _widen_px(radius_m, res_m)
    d = np.arange(-k, k + 1)
    dr, dc = np.meshgrid(d, d, indexing="ij")
    gap_r = np.maximum(np.abs(dr) * res_m - 0.5 * res_m, 0.0)
    gap_c = np.maximum(np.abs(dc) * res_m - 0.5 * res_m, 0.0)
    inside = gap_r**2 + gap_c**2 < radius_m**2
    return dr[inside].astype(np.int64), dc[inside].astype(np.int64)


@dataclass(frozen=True)
class WindowResult:
    """What a window's core holds.

    Its layers, its rocks (centres in the core), the cells resolved rocks cover in it, and its
    counts.
    """

    layers: dict[str, np.ndarray | None]
    rocks: DetectedRocks
    rock_cells: RockCells
    stats: HazardStats


def hazard_window(
    z: np.ndarray,
    grid_transform: Affine,
    origin: tuple[int, int],
    core: tuple[slice, slice],
    model: SiteModel,
    *,
    rock_abundance: float | np.ndarray,
    craters: DetectedCraters | Callable[[], DetectedCraters] | None = None,
    shadow: np.ndarray | None = None,
    link: LinkField | None = None,
    lander: LanderSite | None = None,
    rocks: tuple[DetectedRocks, RockCells]
    | Callable[[], tuple[DetectedRocks, RockCells]]
    | None = None,
) -> WindowResult:
    """Every local layer of a window of the DEM: the one implementation of the hazard model.

    Parameters
    ----------
    z : ndarray of shape (h, w)
        Heights of the window (its core and a halo of ``model.halo_px``), NaN for nodata.
    grid_transform : Affine
        The whole grid's transform.
    origin : (row, col)
        Grid index of ``z[0, 0]``.
    core : (slice, slice)
        The core inside the window: the cells whose layers are returned.
    model : SiteModel
        The whole-DEM inputs (:func:`site_model`).
    rock_abundance : float or ndarray of shape (h, w)
        Golombek k (one value, or the window of a layer).
    craters : DetectedCraters or callable, optional
        Craters near the window (or a function that returns them when needed): the crater
        mask. None: no mask.
    shadow : ndarray of bool of the core's shape, optional
    link : LinkField, optional
        The link field of the whole grid.
    lander : LanderSite, optional
    rocks : (DetectedRocks, RockCells) or callable, optional
        The window's resolved rocks as :func:`window_rocks` finds them (or a function that
        returns them when needed, e.g. from a search run beside the rest). None: found here.

    Returns
    -------
    WindowResult
        Layers of the core (views into the window's arrays), the resolved rocks whose centres
        lie in the core, and the core's counts.
    """
    limits, res = model.limits, model.res_m
    transform = grid_transform @ Affine.translation(origin[1], origin[0])
    z = np.ascontiguousarray(z, dtype=np.float32)
    shape = z.shape

    # Resolved obstacles first: the opening's scratch is gone before the layers are allocated.
    if rocks is None:
        rocks = window_rocks(z, transform, limits, res, model.zfill)

    slope = hk.horn_slope_deg(z, res)
    if model.footprint is not None:
        dr, dc, wx, wy = model.footprint
        slope_rover = hk.footprint_slope_deg(z, dr, dc, wx, wy)
    else:
        slope_rover = slope  # the finest baseline the DEM has: Horn's, one array

    rock_risk = unresolved_rock_risk(
        rock_abundance,
        height_m=limits.obstacle_height_m,
        resolved_diameter_m=RESOLVED_PX * res,
        footprint_area_m2=limits.footprint_area_m2,
    )
    rock_uniform = np.ndim(rock_risk) == 0
    rr = rock_risk.reshape(1, 1) if rock_uniform else np.ascontiguousarray(rock_risk)

    shadow_win = np.zeros((1, 1), bool)
    if shadow is not None and shadow.shape == shape:  # the core is the whole window
        shadow_win = np.ascontiguousarray(shadow)
    elif shadow is not None:
        shadow_win = np.zeros(shape, bool)
        shadow_win[core] = shadow
    margin = np.zeros((1, 1), np.float32)
    link_r0 = link_c0 = 0
    link_f = 1
    if link is not None:
        margin = link.margin_db
        link_r0, link_c0 = link.row0 - origin[0], link.col0 - origin[1]
        link_f = link.factor
    lander_xyr = np.zeros(3)
    if lander is not None:
        lander_xyr[:] = (lander.x, lander.y, lander.footprint_radius_m + limits.rover_radius_m)
    weights = np.array(
        [
            limits.max_slope_deg,
            limits.max_risk,
            limits.slope_weight,
            limits.risk_weight,
            limits.shadow_weight,
        ]
    )
    bits = np.empty(shape, dtype=np.uint8)
    risk = np.empty(shape, dtype=np.float32)
    cost = np.empty(shape, dtype=np.float32)
    hk.fuse(
        z,
        slope_rover,
        rr,
        rock_uniform,
        model.sigma_blocks,
        BLOCK_PX,
        rice_tail_table(),
        RICE_STEP,
        shadow_win,
        shadow is not None,
        margin,
        link is not None,
        link_r0,
        link_c0,
        link_f,
        grid_transform.c,
        grid_transform.f,
        origin[0],
        origin[1],
        res,
        lander_xyr,
        lander is not None,
        weights,
        bits,
        risk,
        cost,
    )
    rocks, cells = rocks() if callable(rocks) else rocks
    bits.ravel()[cells.index] |= np.uint8(hk.OBSTACLE)  # every resolved rock is too tall
    dr, dc = widening_offsets(limits.rover_radius_m, res)
    reasons = np.empty(shape, dtype=np.uint8)
    hk.widen(bits, z, dr, dc, reasons, cost)
    del bits

    ch = core[0].indices(shape[0])
    cw = core[1].indices(shape[1])
    core_shape = (ch[1] - ch[0], cw[1] - cw[0])
    t_core = transform @ Affine.translation(cw[0], ch[0])
    rr_core = rr if rock_uniform else rr[core]
    in_range: np.ndarray | tuple[int, int, float, float] = np.ones((1, 1), bool)
    if link is not None and lander is not None:
        # the cells within res * hypot(row - lander row, col - lander col) <= the link range
        col, row = ~grid_transform @ (lander.x, lander.y)
        lr, lc = math.floor(row), math.floor(col)
        in_range = (ch[0] + origin[0] - lr, cw[0] + origin[1] - lc, res, limits.link_range_m)
    stats = _stats(z[core], reasons[core], risk[core], rr_core, slope_rover[core], shadow, in_range)
    # the crater mask last: the counts above need no craters, whose search may still run
    cmask = np.zeros(core_shape, dtype=bool)
    cat = craters() if callable(craters) else craters
    if cat is not None and len(cat):
        # only craters whose walls are steeper than the rover may drive are drawn
        cmask = crater_mask(cat, core_shape, t_core, min_wall_slope_deg=limits.max_slope_deg)
    if len(rocks) and (ch != (0, shape[0], 1) or cw != (0, shape[1], 1)):
        col, row = ~transform @ (np.asarray(rocks.x), np.asarray(rocks.y))
        keep = (row >= ch[0]) & (row < ch[1]) & (col >= cw[0]) & (col < cw[1])
        rocks = DetectedRocks(
            rocks.x[keep], rocks.y[keep], rocks.diameter_m[keep], rocks.height_m[keep]
        )
    core_cells = cells.window(ch[0], ch[1], cw[0], cw[1])
    layers = {
        "slope_deg": slope[core],
        "slope_rover_deg": slope_rover[core],
        "risk": risk[core],
        "rock_risk": None
        if rock_uniform
        else np.where(np.isfinite(z[core]), rr[core], np.float32(np.nan)).astype(np.float32),
        "cost": cost[core],
        "keepout_reason": reasons[core],
        "crater_mask": cmask,
        "shadow": shadow,
    }
    return WindowResult(layers, rocks, core_cells, stats)


def window_rocks(
    z: np.ndarray, transform: Affine, limits: HazardLimits, res_m: float, zfill: float
) -> tuple[DetectedRocks, RockCells]:
    """The resolved rocks of a window (float32 heights ``z``, NaN nodata; ``transform`` its own).

    Nodata is filled with the lowest height of the whole DEM (``zfill``), so a window sees the
    same ground as the grid; a rock never stands on nodata: its cells there are dropped.
    """
    found = functools.partial(
        detect_rocks,
        res_m=res_m,
        min_height_m=limits.obstacle_height_m,
        max_diameter_m=ROCK_SEARCH_M,
        transform=transform,
    )
    if not hk.has_nonfinite(z):  # no mask to build nor cells to drop
        return found(z, finite=True)
    valid = np.isfinite(z)
    filled = np.where(valid, z, np.float32(zfill)).astype(np.float32)
    rocks, cells = found(filled, finite=math.isfinite(zfill))
    on_data = valid.ravel()[cells.index]
    return rocks, RockCells(cells.index[on_data], cells.height_m[on_data], z.shape)


def step_layer(cells: RockCells, z: np.ndarray) -> np.ndarray:
    """Heights of resolved obstacles on their cells (float32), 0 elsewhere, NaN on nodata."""
    out = cells.dense()
    out[~np.isfinite(z)] = np.nan
    return out


def rock_risk_layer(z: np.ndarray, rock_abundance: float | np.ndarray, model: SiteModel):
    """The unresolved-rock risk of every cell of a window (float32, NaN without a height)."""
    limits = model.limits
    value = unresolved_rock_risk(
        rock_abundance,
        height_m=limits.obstacle_height_m,
        resolved_diameter_m=RESOLVED_PX * model.res_m,
        footprint_area_m2=limits.footprint_area_m2,
    )
    return np.where(np.isfinite(z), value, np.float32(np.nan)).astype(np.float32)


def _in_range(grid_transform, start, shape, lander: LanderSite, limits: HazardLimits):
    """Cells of a window (grid index ``start``, ``shape``) within the link's free-space range."""
    col, row = ~grid_transform @ (lander.x, lander.y)
    rows = np.arange(start[0], start[0] + shape[0]) - math.floor(row)
    cols = np.arange(start[1], start[1] + shape[1]) - math.floor(col)
    d = grid_transform.a * np.hypot(rows[:, None], cols[None, :])
    return d <= limits.link_range_m


# --------------------------------------------------------------------------------------------
# the map


@dataclass(frozen=True)
class HazardMap:
    """Every hazard layer on the DEM's grid (arrays of shape (M, N)).

    Float layers are float32 (NaN on nodata): ``slope_deg`` (Horn, as ``gdaldem slope``),
    ``slope_rover_deg`` (the slope the limits apply to: over the rover's footprint where the
    DEM resolves it, else Horn's), ``step_m`` (height of resolved obstacles, 0 elsewhere),
    ``risk`` (probability of meeting an unresolved hazard), ``rock_risk`` (its rock part),
    ``cost`` (inf where impassable). ``keepout_reason`` is uint8 (bits of :data:`REASONS`),
    ``crater_mask`` and ``shadow`` bool. ``link`` is the link field from the lander (None
    without one), read through ``link_margin_db``, ``los_lander`` and :meth:`comm_ok`.

    Layers that hold no information of their own are not stored: ``keepout``,
    ``range_lander_m``, ``link_margin_db`` and ``los_lander`` are computed when first read, and
    a uniform ``rock_risk`` on a DEM without holes is a read-only broadcast of one value.
    """

    grid: Dem
    limits: HazardLimits
    scaling: RoughnessScaling
    slope_deg: np.ndarray
    slope_rover_deg: np.ndarray
    rock_cells: RockCells
    risk: np.ndarray
    rock_risk: np.ndarray
    cost: np.ndarray
    keepout_reason: np.ndarray
    crater_mask: np.ndarray
    craters: DetectedCraters
    rocks: DetectedRocks
    stats: HazardStats
    shadow: np.ndarray | None = None
    link: LinkField | None = None
    sun: tuple[float, float] | None = None
    lander: LanderSite | None = None
    tilt_sigma_deg: float = 0.0
    warnings: tuple[str, ...] = ()

    @functools.cached_property
    def step_m(self) -> np.ndarray:
        """Height of resolved obstacles (m, float32) on their cells, 0 elsewhere, NaN on nodata."""
        return step_layer(self.rock_cells, self.grid.elevation)

    @functools.cached_property
    def keepout(self) -> np.ndarray:
        """Cells the planners must avoid (any reason, risk included), bool."""
        return self.keepout_reason != 0

    def certain_keepout(self) -> np.ndarray:
        """Cells the DEM shows for certain to be impassable (every reason but risk), bool."""
        return (self.keepout_reason & _CERTAIN_MASK) != 0

    @functools.cached_property
    def range_lander_m(self) -> np.ndarray | None:
        """Distance (m) from the lander's cell centre to every cell's, float32."""
        if self.lander is None:
            return None
        rc = self.grid.rowcol(self.lander.x, self.lander.y)
        return lander_range(self.grid.res_m, rc, (0, self.grid.shape[0]), (0, self.grid.shape[1]))

    @functools.cached_property
    def _link_window(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.link is None:
            return None
        return self.link.window(0, self.grid.shape[0], 0, self.grid.shape[1])

    @property
    def link_margin_db(self) -> np.ndarray | None:
        """Link margin to the lander (dB, float32; NaN where not traced: no link)."""
        w = self._link_window
        return None if w is None else w[0]

    @property
    def los_lander(self) -> np.ndarray | None:
        """Geometric line of sight from the lander's antenna to the rover's (bool)."""
        w = self._link_window
        return None if w is None else w[1]

    def comm_ok(self) -> np.ndarray | None:
        """Cells where the link to the lander keeps a margin of 0 dB or more (None without one)."""
        w = self._link_window
        if w is None:
            return None
        with np.errstate(invalid="ignore"):
            return w[0] >= 0.0

    @property
    def keepout_share(self) -> dict[str, float]:
        """Share of valid cells each reason excludes (shares overlap)."""
        names = REASONS if self.lander is not None else REASONS[:4]
        return {k: self.stats.share(k) for k in names}

    def layers(self) -> dict[str, np.ndarray]:
        """Named bands for ``write_geotiff``, in their own types (:meth:`band_dtypes`).

        The DEM's elevation comes first so the file is self-contained.
        """
        out: dict[str, Any] = {
            "elevation": self.grid.elevation,
            "slope_deg": self.slope_deg,
            "slope_rover_deg": self.slope_rover_deg,
            "step_m": self.step_m,
            "risk": self.risk,
            "rock_risk": self.rock_risk,
            "crater_mask": self.crater_mask,
        }
        if self.shadow is not None:
            out["shadow"] = self.shadow
        if self.link is not None:
            out["link_margin_db"] = self.link_margin_db
            out["los_lander"] = self.los_lander
            out["range_lander_m"] = self.range_lander_m
        out["cost"] = self.cost
        out["keepout"] = self.keepout
        out["keepout_reason"] = self.keepout_reason
        types = band_dtypes()
        return {k: np.asarray(v).astype(types[k], copy=False) for k, v in out.items()}

    def tags(self) -> dict[str, Any]:
        """The GeoTIFF tags that let :meth:`from_layers` rebuild the map."""
        return hazard_tags(self.limits, sun=self.sun, lander=self.lander, scaling=self.scaling)

    def write(self, path, *, tags: Mapping[str, Any] | None = None):
        """Write every layer as one Cloud-Optimized GeoTIFF (masks uint8, layers float32).

        ``tags`` (provenance) are added to :meth:`tags`. Returns the written path.
        """
        layers = self.layers()
        types = band_dtypes()
        return write_geotiff(
            path,
            layers,
            self.grid,
            tags={**self.tags(), **(tags or {})},
            dtype={k: types[k] for k in layers},
        )

    def summary(self) -> dict[str, Any]:
        """Numbers worth printing: shares by reason, slopes, risk, craters, rocks, light, link."""
        return hazard_summary(
            self.stats,
            res_m=self.grid.res_m,
            shape=self.grid.shape,
            limits=self.limits,
            scaling=self.scaling,
            tilt_sigma_deg=self.tilt_sigma_deg,
            n_craters=len(self.craters),
            n_rocks=len(self.rocks),
            sun=self.sun,
            lander=self.lander,
            warnings=self.warnings,
        )

    def notes(self) -> tuple[str, ...]:
        """What this DEM's pixel size resolves and what it can only give as a chance, in words."""
        return scale_notes(
            self.grid.res_m,
            self.limits,
            self.scaling,
            self.tilt_sigma_deg,
            lander=self.lander is not None,
        )

    @classmethod
    def from_layers(
        cls,
        layers: Mapping[str, np.ndarray],
        grid: Dem,
        tags: Mapping[str, str],
        *,
        craters: DetectedCraters | None = None,
        rocks: DetectedRocks | None = None,
    ) -> HazardMap:
        """Rebuild a map from the bands and tags of a hazard GeoTIFF (:meth:`layers`, :meth:`tags`).

        ``grid`` is the file's grid; its elevation band becomes the map's DEM. Also works on
        decimated reads (masks averaged: a cell is set when its average is above one half).

        Raises
        ------
        HazardInputError
            The file is not a hazard map of this version.
        """
        need = {"elevation", "slope_deg", "slope_rover_deg", "risk", "cost", "keepout_reason"}
        missing = sorted(need - set(layers))
        if tags.get("frigoris_product") != "hazard map" or missing:
            raise HazardInputError(
                f"not a hazard map of this version (missing {missing or 'its tags'}); run "
                "`frigoris hazard` on the DEM again"
            )
        limits = HazardLimits.from_dict(json.loads(tags["frigoris_limits"]))
        lander_tag = json.loads(tags.get("frigoris_lander", "null"))
        sun_tag = json.loads(tags.get("frigoris_sun_az_el", "null"))
        dem = Dem(layers["elevation"], grid.transform, grid.crs)

        def flag(name):
            return None if name not in layers else np.asarray(layers[name]) > 0.5

        def f32(name):
            return np.asarray(layers[name], dtype=np.float32)

        reason = np.asarray(layers["keepout_reason"])
        if reason.dtype.kind == "f":  # decimated: averaged bits are meaningless, keep-out is not
            ko = flag("keepout")
            reason = np.where(ko if ko is not None else np.isinf(f32("cost")), 1, 0)
        reason = reason.astype(np.uint8)
        link = None
        if "link_margin_db" in layers:
            vis = flag("los_lander")
            link = LinkField(
                f32("link_margin_db"),
                (vis if vis is not None else np.zeros(dem.shape, bool)).astype(np.uint8),
                0,
                0,
                dem.shape,
                1,
            )
        shadow = flag("shadow")
        rock_risk = f32("rock_risk") if "rock_risk" in layers else np.zeros(dem.shape, np.float32)
        z = np.ascontiguousarray(dem.elevation)
        lander = None if lander_tag is None else LanderSite(**lander_tag)
        in_range: np.ndarray | bool = True
        if lander is not None and link is not None:
            in_range = _in_range(grid.transform, (0, 0), dem.shape, lander, limits)
        stats = _stats(z, reason, f32("risk"), rock_risk, f32("slope_rover_deg"), shadow, in_range)
        model, scaling = site_model(limits, dem.res_m, block_moments(z), 0.0)
        return cls(
            grid=dem,
            limits=limits,
            scaling=scaling,
            slope_deg=f32("slope_deg"),
            slope_rover_deg=f32("slope_rover_deg"),
            rock_cells=RockCells.from_dense(
                f32("step_m") if "step_m" in layers else np.zeros(dem.shape, np.float32)
            ),
            risk=f32("risk"),
            rock_risk=rock_risk,
            cost=f32("cost"),
            keepout_reason=reason,
            crater_mask=flag("crater_mask")
            if "crater_mask" in layers
            else np.zeros(dem.shape, bool),
            craters=craters if craters is not None else DetectedCraters.empty(),
            rocks=rocks if rocks is not None else DetectedRocks.empty(),
            stats=stats,
            shadow=shadow,
            link=link,
            sun=None if sun_tag is None else (float(sun_tag[0]), float(sun_tag[1])),
            lander=lander,
            tilt_sigma_deg=model.tilt_sigma_deg,
        )


def band_dtypes() -> dict[str, str]:
    """The data type of every band a hazard GeoTIFF may hold (masks uint8, layers float32)."""
    floats = (
        "elevation",
        "slope_deg",
        "slope_rover_deg",
        "step_m",
        "risk",
        "rock_risk",
        "link_margin_db",
        "range_lander_m",
        "cost",
    )
    masks = ("crater_mask", "shadow", "los_lander", "keepout", "keepout_reason")
    return {**dict.fromkeys(floats, "float32"), **dict.fromkeys(masks, "uint8")}


def layer_names(*, sun: bool, lander: bool) -> tuple[str, ...]:
    """Band names of a hazard GeoTIFF, in the order of :meth:`HazardMap.layers`."""
    names = ["elevation", "slope_deg", "slope_rover_deg", "step_m", "risk", "rock_risk"]
    names.append("crater_mask")
    if sun:
        names.append("shadow")
    if lander:
        names += ["link_margin_db", "los_lander", "range_lander_m"]
    return (*names, "cost", "keepout", "keepout_reason")


def hazard_tags(
    limits: HazardLimits,
    *,
    sun: tuple[float, float] | None,
    lander: LanderSite | None,
    scaling: RoughnessScaling | None = None,
) -> dict[str, Any]:
    """Tags of a hazard GeoTIFF.

    Product, limits, Sun, lander, the DEM's roughness scaling and the keep-out reason bits.
    """
    return {
        "frigoris_product": "hazard map",
        "frigoris_limits": limits.to_dict(),
        "frigoris_sun_az_el": None if sun is None else [float(sun[0]), float(sun[1])],
        "frigoris_lander": None if lander is None else asdict(lander),
        "frigoris_scaling": None if scaling is None else asdict(scaling),
        "frigoris_keepout_reason_bits": {name: 1 << k for k, name in enumerate(REASONS)},
    }


def lander_range(
    res_m: float, lander_rc: tuple[int, int], rows: tuple[int, int], cols: tuple[int, int]
) -> np.ndarray:
    """Distance (m, float32) from the lander's cell centre to a window of cells.

    ``rows`` and ``cols`` are ``(start, stop)`` grid indices (the whole grid, or a window).
    """
    dr = np.arange(*rows, dtype=np.float64) - lander_rc[0]
    dc = np.arange(*cols, dtype=np.float64) - lander_rc[1]
    d = np.add.outer(dr**2, dc**2)  # one float64 scratch array, worked in place
    np.sqrt(d, out=d)
    d *= res_m
    return d.astype(np.float32)


def lander_link_box(
    shape: tuple[int, int], lander_rc: tuple[int, int], limits: HazardLimits, res_m: float
) -> tuple[int, int, int, int, int]:
    """Rows r0:r1, cols c0:c1 of the box the link is traced on, and its radio factor."""
    f = radio_factor(res_m, limits.radio_cell_m)
    return (*link_box(shape, lander_rc, res_m, limits.link_range_m, f), f)


def trace_link(
    zc: np.ndarray,
    box: tuple[int, int, int, int, int],
    lander_rc: tuple[int, int],
    res_m: float,
    limits: HazardLimits,
    lander: LanderSite,
) -> LinkField:
    """The link field from the lander over its box's radio grid ``zc`` (memory and tiles)."""
    r0, r1, c0, c1, f = box
    return link_field(
        zc,
        (r0, c0),
        (r1 - r0, c1 - c0),
        lander_rc,
        res_m,
        f,
        limits.link,
        lander_antenna_m=lander.antenna_height_m,
        rover_antenna_m=limits.rover_antenna_height_m,
        body_radius_m=MOON_RADIUS_M,
    )


# --------------------------------------------------------------------------------------------
# summary and notes (one builder for the in-memory map and the tiled one)


def hazard_summary(
    stats: HazardStats,
    *,
    res_m: float,
    shape: tuple[int, int],
    limits: HazardLimits,
    scaling: RoughnessScaling,
    tilt_sigma_deg: float,
    n_craters: int,
    n_rocks: int,
    sun: tuple[float, float] | None,
    lander: LanderSite | None,
    warnings: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The numbers of a hazard map's summary, from its counts."""
    n = max(stats.valid, 1)
    s: dict[str, Any] = {
        "size_px": [int(shape[0]), int(shape[1])],
        "res_m": float(res_m),
        "keepout_fraction": stats.keepout_share(),
        "keepout_certain_fraction": stats.keepout_share(certain=True),
        "keepout_terrain_fraction": stats.keepout_share(terrain=True),
        "median_slope_rover_deg": stats.median_slope_deg(),
        "mean_risk": float(stats.sums[2] / n),
        "mean_rock_risk": float(stats.sums[3] / n),
        "hurst": round(scaling.hurst, 3),
        "rms_slope_1px_deg": round(float(scaling.rms_slope_deg(res_m)), 2),
        "tilt_spread_deg": round(tilt_sigma_deg, 2),
        "craters_detected": int(n_craters),
        "rocks_detected": int(n_rocks),
    }
    names = REASONS if lander is not None else REASONS[:4]
    for k in names:
        s[f"excluded_by_{k}"] = round(stats.share(k), 4)
    for k in names:
        s[f"only_{k}"] = round(stats.only_share(k), 4)
    if sun is not None:
        s["sun_az_el_deg"] = [round(sun[0], 2), round(sun[1], 2)]
        s["shadow_fraction"] = float(stats.sums[1] / n)
    if lander is not None:
        s["link_range_m"] = round(limits.link_range_m, 1)
        s["comm_ok_fraction"] = 1.0 - stats.share("link")
        s["keepout_in_link_range_fraction"] = stats.keepout_share(in_range=True)
        for k in names:
            s[f"in_link_range_excluded_by_{k}"] = round(stats.share(k, in_range=True), 4)
    for i, w in enumerate(warnings):
        s[f"warning_{i + 1}"] = w
    return s


def scale_notes(
    res_m: float,
    limits: HazardLimits,
    scaling: RoughnessScaling,
    tilt_sigma_deg: float,
    *,
    lander: bool,
) -> tuple[str, ...]:
    """Sentences for planners: what this pixel size resolves and what it gives as a chance.

    With the numbers behind each statement.
    """
    h = limits.obstacle_height_m
    binding = "step limit" if limits.max_step_m <= limits.clearance_m else "body clearance"
    resolved_rock = RESOLVED_PX * res_m
    notes = []
    if limits.wheelbase_m >= FOOTPRINT_RESOLVED_PX * res_m:
        notes.append(
            f"Slope is resolved: at {res_m:g} m pixels the rover's {limits.wheelbase_m:g} m "
            f"wheelbase spans {limits.wheelbase_m / res_m:.1f} pixels, so its tilt is a plane "
            f"fitted over its footprint; slopes above {limits.max_slope_deg:g} deg are keep-out."
        )
    else:
        notes.append(
            f"Slope is partly statistical: at {res_m:g} m pixels the DEM measures slope over "
            f"{2 * res_m:g} m, the rover tilts over its {limits.wheelbase_m:g} m wheelbase. "
            f"Measured slopes above {limits.max_slope_deg:g} deg are keep-out; below that the "
            f"rover's tilt spreads by about {tilt_sigma_deg:.1f} deg (one sigma, from this DEM's "
            f"roughness growing with baseline as Hurst exponent {scaling.hurst:.2f}), and the "
            "chance that it passes the limit is part of the risk."
        )
    if resolved_rock <= 2.0 * h:
        notes.append(
            f"Obstacles are resolved: rocks of {resolved_rock:g} m and more (two pixels) are "
            f"found in the DEM, and every rock taller than {h:g} m (the {binding}) is that big."
        )
    else:
        notes.append(
            f"Rocks of {resolved_rock:g} m and more (two pixels) are found in the DEM and kept "
            f"out when taller than {h:g} m (the rover's {binding}); rocks between "
            f"{2 * h:g} m and {resolved_rock:g} m are too small for it and count as a risk from "
            "the rock abundance (Golombek and Rapp)."
        )
    notes.append(
        f"A {limits.max_step_m * 100:g} cm step is "
        + (
            "resolved."
            if 2 * res_m <= limits.max_step_m
            else f"never resolved at {res_m:g} m pixels: steps are judged only through rocks "
            "and slopes, never from DEM texture or noise."
        )
    )
    notes.append(
        "Craters are keep-out only where their walls are steeper than the slope limit; "
        "shallower ones are drivable at a cost."
    )
    notes.append(
        f"Cells whose risk exceeds {limits.max_risk:g} are impassable for the planners "
        "(reason 'risk'), but not certain."
    )
    decades = math.log10(2.0 * res_m / limits.wheelbase_m)
    if decades > 2.0:
        notes.append(
            f"This DEM's finest baseline ({2 * res_m:g} m) is {decades:.1f} decades above the "
            f"rover's wheelbase: the roughness scaling is extrapolated that far, so the slope "
            "risk says little about the ground the rover meets; plan drives on a finer DEM."
        )
    if lander:
        notes.append(
            f"The link is a radio budget at {limits.link.frequency_mhz:g} MHz with knife-edge "
            f"diffraction over {limits.radio_cell_m:g} m terrain cells: free space alone reaches "
            f"{limits.link_range_m:.0f} m; a cell without margin is keep-out ('link')."
        )
    return tuple(notes)


# --------------------------------------------------------------------------------------------
# the in-memory map


def hazard_map(
    dem: Dem,
    limits: HazardLimits | None = None,
    *,
    sun: tuple[float, float] | None = None,
    lander: LanderSite | None = None,
    rock_abundance: float | np.ndarray = 0.01,
    detect: bool = True,
    progress=None,
) -> HazardMap:
    """Compute every hazard layer of a DEM: keep-out with reasons, risk, cost and the link.

    Parameters
    ----------
    dem : Dem
        Metric DEM (see :func:`terrain.read_dem`).
    limits : HazardLimits, optional
        Rover limits, link budget and weights (default: Tenacious-like ``HazardLimits()``).
    sun : (azimuth_deg, elevation_deg), optional
        Sun direction, azimuth clockwise from grid north. None: no shadow layer.
    lander : LanderSite, optional
        Lander position (map metres): adds the link field and range, and its footprint keep-out.
    rock_abundance : float or ndarray of shape (M, N)
        Golombek k for the unresolved-rock risk (one value or a per-cell layer).
    detect : bool
        Run the crater detection (off for quick cost maps; resolved rocks are always found:
        they are the obstacles).
    progress : callable(fraction, stage), optional

    Returns
    -------
    HazardMap

    Raises
    ------
    HazardInputError
        Lander outside the DEM or on nodata, bad limits, rock-abundance layer of the wrong shape,
        a DEM without data.

    Examples
    --------
    A 10 degree plane at 0.5 m is drivable everywhere for a 15 degree rover, with no risk when
    there are no rocks:

    >>> import numpy as np
    >>> from frigoris.terrain import Dem, local_metric_crs
    >>> x = np.arange(60) * 0.5
    >>> z = np.tile(np.tan(np.radians(10.0)) * x, (60, 1)).astype(np.float32)
    >>> dem = Dem.from_array(z, res_m=0.5, crs=local_metric_crs(60.5, -4.6))
    >>> hm = hazard_map(dem, rock_abundance=0.0, detect=False)
    >>> inner = (slice(2, -2), slice(2, -2))
    >>> bool(hm.keepout[inner].any()), float(np.nanmax(hm.risk[inner]))
    (False, 0.0)
    """
    limits = limits or HazardLimits()
    limits.validate()
    report = progress or (lambda fraction, stage="": None)
    z = np.ascontiguousarray(dem.elevation)
    res = dem.res_m
    zmin = hk.lowest_finite(z)
    if not math.isfinite(zmin):
        raise HazardInputError("the DEM holds no data; nothing to map")
    warnings: list[str] = []
    if lander is not None and not dem.contains(lander.x, lander.y):
        b = dem.bounds
        raise HazardInputError(
            f"lander at ({lander.x:.1f}, {lander.y:.1f}) is outside the DEM "
            f"(x {b.left:.0f}..{b.right:.0f}, y {b.bottom:.0f}..{b.top:.0f}); give a position on it"
        )
    if np.ndim(rock_abundance) and np.shape(rock_abundance) != dem.shape:
        raise HazardInputError(
            f"rock-abundance layer has shape {np.shape(rock_abundance)}, DEM {dem.shape}"
        )
    lander_rc = None
    if lander is not None:
        lander_rc = dem.rowcol(lander.x, lander.y)
        if not np.isfinite(z[lander_rc]):
            raise HazardInputError(
                f"lander at ({lander.x:.1f}, {lander.y:.1f}) stands on a nodata cell; move it"
            )
    if sun is not None and sun[1] <= 0:
        warnings.append(
            f"sun elevation {sun[1]:g} deg is at or below the horizon: every cell is in shadow"
        )

    # Craters run beside the rest (their catalogue is needed only for the crater mask at the
    # end); numba's fallback "workqueue" layer aborts on concurrent parallel kernels.
    report(0.0, "craters, roughness")
    n_threads = numba.get_num_threads()

    def crater_search():
        numba.set_num_threads(n_threads)  # numba's thread count is per calling thread
        return detect_craters(z, res, transform=dem.transform)

    def rock_search():
        numba.set_num_threads(n_threads)
        z32 = np.ascontiguousarray(z, dtype=np.float32)
        return window_rocks(z32, dem.transform, limits, res, zmin)

    # The rock search (its region growing runs on one core) also runs beside the rest: the
    # slope, fusion and widening keep the other core busy meanwhile.
    with ThreadPoolExecutor(2) as pool:
        side_by_side = numba.threading_layer() != "workqueue"
        found = pool.submit(crater_search) if side_by_side and detect else None
        rocks_found = pool.submit(rock_search) if side_by_side else None
        model, scaling = site_model(limits, res, block_moments(z), zmin)
        shadow = None
        if sun is not None:
            report(0.3, "shadow")
            shadow = cast_shadow(z, res, float(sun[0]), float(sun[1]))
        link = None
        if lander is not None:
            report(0.45, "link budget")
            box = lander_link_box(dem.shape, lander_rc, limits, res)
            r0, r1, c0, c1, _ = box
            zc = radio_grid(z[r0:r1, c0:c1], box[4])
            link = trace_link(zc, box, lander_rc, res, limits, lander)
        report(0.6, "slope, obstacles, risk")

        def craters_now():
            if found is not None:
                return found.result()
            return crater_search() if detect else DetectedCraters.empty()

        out = hazard_window(
            z,
            dem.transform,
            (0, 0),
            (slice(None), slice(None)),
            model,
            rock_abundance=rock_abundance,
            craters=craters_now,
            shadow=shadow,
            link=link,
            lander=lander,
            rocks=None if rocks_found is None else rocks_found.result,
        )
        craters = craters_now()
    layers = out.layers
    stats = out.stats
    if stats.keepout_share(certain=True) >= 1.0:
        worst = max(CERTAIN, key=stats.share)
        warnings.append(
            f"every cell is keep-out; the '{worst}' reason alone excludes "
            f"{stats.share(worst):.0%} of the DEM"
        )
    rock_risk = layers["rock_risk"]
    if rock_risk is None and stats.valid == z.size:
        value = rock_risk_layer(z[:1, :1], rock_abundance, model)[0, 0]
        rock_risk = np.broadcast_to(value, dem.shape)  # one value: no copy
    elif rock_risk is None:
        rock_risk = rock_risk_layer(z, rock_abundance, model)
    report(1.0, "done")
    return HazardMap(
        grid=dem,
        limits=limits,
        scaling=scaling,
        slope_deg=layers["slope_deg"],
        slope_rover_deg=layers["slope_rover_deg"],
        rock_cells=out.rock_cells,
        risk=layers["risk"],
        rock_risk=rock_risk,
        cost=layers["cost"],
        keepout_reason=layers["keepout_reason"],
        crater_mask=layers["crater_mask"],
        craters=craters,
        rocks=out.rocks,
        stats=stats,
        shadow=shadow,
        link=link,
        sun=None if sun is None else (float(sun[0]), float(sun[1])),
        lander=lander,
        tilt_sigma_deg=model.tilt_sigma_deg,
        warnings=tuple(warnings),
    )


__all__ = [
    "CERTAIN",
    "REASONS",
    "DetectedCraters",
    "DetectedRocks",
    "HazardLimits",
    "HazardMap",
    "HazardStats",
    "LanderSite",
    "SiteModel",
    "WindowResult",
    "band_dtypes",
    "hazard_map",
    "hazard_summary",
    "hazard_tags",
    "hazard_window",
    "lander_link_box",
    "lander_range",
    "layer_names",
    "rock_risk_layer",
    "scale_notes",
    "site_model",
    "step_layer",
    "trace_link",
    "widening_offsets",
    "window_rocks",
]
