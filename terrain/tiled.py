"""Hazard maps of DEMs larger than memory, tile by tile on Dask: this module only schedules.

The layers of :func:`terrain.hazard.hazard_map`, on a laptop (threads) or on a
``dask.distributed`` cluster. Every number of a tile comes from the same functions as the
in-memory map: :func:`terrain.hazard.hazard_window` (the hazard model, on the tile's window),
:func:`terrain.hazard.site_model` (the whole-DEM inputs), :func:`terrain.hazard.trace_link`
(the link), :func:`terrain.illumination.tile_shadow` (shadows) and the file access of
:mod:`terrain.io` (windowed reads and writes, the COG).

How it works
------------
The DEM is cut into square tiles of ``tile_px`` (a block grid). Every tile is one Dask task that
reads its own window *with a halo* from the file (the full DEM is never in memory), computes the
layers of its core and writes them into a tiled GeoTIFF; the file becomes a Cloud-Optimized
GeoTIFF at the end. Two passes:

1. **Survey** (halo ``crater_halo_px``): craters of the tile's core, the block moments of its
   height differences (the DEM's roughness scaling, :mod:`terrain.roughness`: 64 px blocks on a
   fixed lattice, so the sum over tiles equals the whole grid's), a block-mean DEM coarser by
   ``far_factor`` (the far field of the shadows), the lowest elevation (rock detection fills
   nodata with it, as in memory) and the relief of each coarse block (for the far-field error
   bound). Between the passes the link field is traced once over the lander's link box, read
   strip by strip into its radio grid (:func:`terrain.link.radio_grid`, block by block the same
   cells as in memory).
2. **Hazard** (halo ``SiteModel.halo_px``, more towards the Sun for shadows):
   :func:`terrain.hazard.hazard_window` on the tile's window, the shadow of its core, and the
   link field's window.

What equals the in-memory map, and what does not
------------------------------------------------
- **Every layer but the shadow** equals the in-memory map cell for cell (the same functions on
  the same values: local layers read no further than the halo, the roughness scaling and the
  link field are whole-grid inputs computed the same way). Catalogues keep a detection only when
  its centre lies in the tile's core: no duplicates by construction.
- **Craters** are detected up to ``max_crater_px`` (the cap, a pyramid band edge: 40, 80, 160,
  ... px): larger craters are not found tile-wise, so the crater mask misses them (it is
  information only: crater walls are judged by their slope). Crater windows start on multiples
  of the pyramid's coarsest block, so every tile sees the same pyramid as the whole DEM would,
  and ``crater_halo_px`` covers the profile fit (1.84 x the cap) and the proposal blur. Craters
  smaller than cap / 1.5 are the in-memory detections: the same diameters, and centres within
  1e-3 m (``detect_craters`` subtracts the median height of what it is given, the tile's
  window here, so its float32 filters round differently). Between cap / 1.5 and the cap a
  larger in-memory crater (not searched in tiles) may have suppressed one as its duplicate.
- **Shadow** is exact for terrain inside the read window (the same sweep lines as
  :func:`terrain.illumination.cast_shadow` on the whole grid, restricted to the window). Beyond
  the window the ray samples a block-mean DEM ``far_factor`` (f) times coarser, once per f
  steps (the far field); a cell is shadowed when either field hides the Sun. A far sample's
  height lies within the relief (max - min) of the 3 x 3 coarse blocks around it of every
  DEM sample it stands for, and those lie at most f / 2 steps away along the ray, where the
  Sun's ray rises by at most (f / 2) res sqrt(2) tan(elevation). Their sum over the grid is
  ``far_error_m``: a cell can only be classified differently from the in-memory map when its
  Sun clears (or misses) the far horizon by less than that height, at a distance of at least
  the read halo (``max(halo_px, shadow_halo_px)``): an angle of at most
  ``far_angle_bound_deg``. A worst-case bound (one steep crater wall anywhere sets it);
  measured agreement with ``cast_shadow`` is >= 99 % of cells on very rough terrain at 0.7 deg
  Sun with a 32 px near field (tests). Shadow only adds cost, never keep-out.

Summary numbers add up tile counts (:class:`terrain.hazard.HazardStats`) and go through the same
summary as the in-memory map.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pathlib
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from affine import Affine
from scipy import ndimage

from .craters import (
    BAND_PX,
    FIT_RADIUS_RANGE,
    FIT_WINDOW,
    PROPOSAL_MARGIN,
    SCALES_PER_OCTAVE,
    SIGMA_PER_RADIUS,
    DetectedCraters,
    detect_craters,
)
from .dem import Dem
from .errors import HazardInputError, TerrainError
from .hazard import (
    CERTAIN,
    REASONS,
    HazardLimits,
    HazardStats,
    LanderSite,
    SiteModel,
    band_dtypes,
    hazard_summary,
    hazard_window,
    lander_link_box,
    lander_range,
    layer_names,
    rock_risk_layer,
    scale_notes,
    site_model,
    step_layer,
    trace_link,
)
from .illumination import block_stats, tile_shadow
from .io import (
    RasterSource,
    create_tiled_geotiff,
    finish_cog,
    masks_path,
    open_source,
    read_band_window,
    read_window,
    write_window,
)
from .link import LinkField, radio_grid
from .rocks import DetectedRocks
from .roughness import BLOCK_PX, RoughnessScaling, block_moments

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

Progress = Callable[[float, str], None]

TILE_ALIGN = 64
"""Tile sides are multiples of this (crater pyramids, roughness blocks and coarse far-field
blocks align on it)."""
DEFAULT_TILE_PX = 2048
DEFAULT_MAX_CRATER_PX = 80.0
DEFAULT_FAR_FACTOR = 8
DEFAULT_SHADOW_HALO_PX = 256
LINK_STRIP_ROWS = 1024
"""Rows of the link box read at a time (rounded to the radio factor)."""

assert TILE_ALIGN % BLOCK_PX == 0


# --------------------------------------------------------------------------------------------
# halos


def crater_levels(max_crater_px: float) -> int:
    """Index K of the coarsest crater pyramid level needed for craters up to ``max_crater_px``.

    Level k detects diameters of [10, 20) x 2^k px, so the cap must be a band edge 20 x 2^K.

    Raises
    ------
    TerrainError
        ``max_crater_px`` is not one of 20, 40, 80, 160, ... px.
    """
    k = round(math.log2(max_crater_px / (2 * BAND_PX))) if max_crater_px > 0 else -1
    if k < 0 or not math.isclose(2 * BAND_PX * 2**k, max_crater_px):
        raise TerrainError(
            f"max_crater_px={max_crater_px:g}: tiles detect craters up to a pyramid band edge; "
            "give 20, 40, 80, 160, 320 or 640 px"
        )
    return k


def crater_reach_px(max_crater_px: float) -> int:
    """Pixels around a crater centre whose heights can change its detection.

    For craters up to ``max_crater_px``: the profile-fit window and the proposals' blur,
    whichever reaches further.
    """
    reach = 0.0
    for k in range(crater_levels(max_crater_px) + 1):
        # the proposal scales and fit window of craters._detect_level at level k
        d_lo, d_hi = BAND_PX * 2**k, 2 * BAND_PX * 2**k
        r_lo = PROPOSAL_MARGIN[0] * d_lo / (4.0 * 2**k)
        r_hi = PROPOSAL_MARGIN[1] * d_hi / (4.0 * 2**k)
        s_lo = SIGMA_PER_RADIUS * r_lo
        s_hi = max(SIGMA_PER_RADIUS * r_hi, 1.01 * s_lo)
        n = int(math.ceil(math.log2(s_hi / s_lo) * SCALES_PER_OCTAVE)) + 1
        sig = s_lo * (s_hi / s_lo) ** (np.arange(n) / max(n - 1, 1))
        inc = np.sqrt(np.diff(np.concatenate([[0.0], sig**2])))
        blur = float(np.sum(np.maximum(1, np.ceil(3.0 * inc)))) + 3.0  # + Laplacian, peak, refine
        coarse_px = 2 ** (k + 1)
        window = FIT_WINDOW * FIT_RADIUS_RANGE[1]
        fit = window * 2.0 * sig[-1] / SIGMA_PER_RADIUS * 2**k
        reach = max(reach, (blur + 1.0) * coarse_px, fit + 2 * 2**k)
    return int(math.ceil(reach))


def crater_halo_px(max_crater_px: float) -> int:
    """Survey halo: the crater reach plus half a cap (chains of duplicate suppression).

    Rounded up to the pyramid's coarsest block, so every window starts on a block edge.
    """
    align = 2 ** (crater_levels(max_crater_px) + 1)
    need = crater_reach_px(max_crater_px) + 0.5 * max_crater_px
    return int(math.ceil(need / align) * align)


# --------------------------------------------------------------------------------------------
# tiles


@dataclass(frozen=True)
class Tile:
    """One tile: its index and the grid index ranges of its core."""

    index: int
    r0: int
    r1: int
    c0: int
    c1: int

    def window(self, halo: int, shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """Core plus ``halo`` on every side, clipped to the grid."""
        return (
            max(0, self.r0 - halo),
            min(shape[0], self.r1 + halo),
            max(0, self.c0 - halo),
            min(shape[1], self.c1 + halo),
        )


def tiles_of(shape: tuple[int, int], tile_px: int) -> list[Tile]:
    """Cut a grid into ``tile_px`` tiles (the block grid), row by row."""
    out = []
    for r in range(0, shape[0], tile_px):
        for c in range(0, shape[1], tile_px):
            out.append(Tile(len(out), r, min(r + tile_px, shape[0]), c, min(c + tile_px, shape[1])))
    return out


@dataclass(frozen=True)
class _Output:
    """The intermediate tiled GeoTIFF the tiles write into (picklable, for workers)."""

    path: str
    names: tuple[str, ...]
    lock_name: str
    distributed: bool


_LOCAL_LOCKS: dict[str, threading.Lock] = {}


def _lock(out: _Output):
    if out.distributed:
        from distributed import Lock

        return Lock(out.lock_name)
    return _LOCAL_LOCKS.setdefault(out.lock_name, threading.Lock())


@dataclass(frozen=True)
class _Job:
    """Everything a tile task needs besides its tile and the shared arrays (small, picklable)."""

    source: RasterSource
    shape: tuple[int, int]
    transform: Affine
    limits: HazardLimits
    detect: bool
    max_crater_px: float
    crater_halo: int
    shadow_halo: int
    far_factor: int
    sun: tuple[float, float] | None
    lander: LanderSite | None
    lander_rc: tuple[int, int] | None
    rock_abundance: float | str
    output: _Output | None
    numba_threads: int | None


@dataclass(frozen=True)
class _Survey:
    tile: Tile
    coarse: np.ndarray
    coarse_lo: np.ndarray
    coarse_hi: np.ndarray
    zmin: float
    n_valid: int
    moments: np.ndarray
    craters: np.ndarray  # (n, 4): x, y, diameter, depth


@dataclass(frozen=True)
class _Shared:
    """Whole-grid inputs of the hazard pass: the model, craters, far field, link field."""

    model: SiteModel
    craters: np.ndarray
    coarse: np.ndarray | None
    link: LinkField | None


def _core_contains(tile: Tile, transform: Affine, x, y) -> np.ndarray:
    col, row = ~transform @ (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return (row >= tile.r0) & (row < tile.r1) & (col >= tile.c0) & (col < tile.c1)


def _set_threads(job: _Job) -> None:
    if job.numba_threads:
        import numba

        numba.set_num_threads(min(job.numba_threads, numba.config.NUMBA_NUM_THREADS))


def _survey_tile(job: _Job, tile: Tile) -> _Survey:
    """Pass 1: craters of the core, roughness moments, far-field block means, lowest height."""
    _set_threads(job)
    wr0, wr1, wc0, wc1 = tile.window(job.crater_halo if job.detect else 0, job.shape)
    z = read_window(job.source, wr0, wr1, wc0, wc1)
    core = z[tile.r0 - wr0 : tile.r1 - wr0, tile.c0 - wc0 : tile.c1 - wc0]
    valid = np.isfinite(core)
    mean, lo, hi = block_stats(core, job.far_factor)
    zmin = float(np.min(core[valid])) if valid.any() else math.inf
    moments = block_moments(core)
    cat = np.zeros((0, 4))
    if job.detect and np.isfinite(z).any():
        t_win = job.transform @ Affine.translation(wc0, wr0)
        # just below the band edge: the same pyramid levels as the whole grid, without a
        # degenerate extra level at the edge itself
        cap = min(job.max_crater_px * (1.0 - 1e-9), min(job.shape) / 4.0)
        found = detect_craters(z, job.transform.a, max_diameter_px=cap, transform=t_win)
        keep = _core_contains(tile, job.transform, found.x, found.y)
        cat = np.column_stack([found.x, found.y, found.diameter_m, found.depth_m])[keep]
    return _Survey(tile, mean, lo, hi, zmin, int(valid.sum()), moments, cat)


@dataclass(frozen=True)
class _TileResult:
    tile: Tile
    rocks: np.ndarray  # (n, 4): x, y, diameter, height
    stats: HazardStats


def _hazard_tile(job: _Job, tile: Tile, shared: _Shared) -> _TileResult:
    """Pass 2: every layer of the core, written into the output; returns counts and rocks."""
    _set_threads(job)
    model = shared.model
    shape = job.shape
    halo = model.halo_px
    read_halo = max(halo, job.shadow_halo if job.sun is not None else 0)
    wr0, wr1, wc0, wc1 = tile.window(read_halo, shape)
    zr = read_window(job.source, wr0, wr1, wc0, wc1)
    lr0, lr1, lc0, lc1 = tile.window(halo, shape)
    z = np.ascontiguousarray(zr[lr0 - wr0 : lr1 - wr0, lc0 - wc0 : lc1 - wc0])
    core = (slice(tile.r0 - lr0, tile.r1 - lr0), slice(tile.c0 - lc0, tile.c1 - lc0))

    shadow = None
    if job.sun is not None:
        shadow = tile_shadow(
            zr,
            (wr0, wc0),
            (tile.r0, tile.r1, tile.c0, tile.c1),
            shape,
            job.transform.a,
            float(job.sun[0]),
            float(job.sun[1]),
            shared.coarse,
            job.far_factor,
        )
    del zr

    k: float | np.ndarray = (
        read_band_window(job.rock_abundance, lr0, lr1, lc0, lc1)
        if isinstance(job.rock_abundance, str)
        else job.rock_abundance
    )
    near = None
    if job.detect:
        c = shared.craters
        col, row = ~job.transform @ (c[:, 0], c[:, 1])
        rad = 0.5 * c[:, 2] / job.transform.a + 1.0
        sel = (row + rad >= tile.r0) & (row - rad <= tile.r1)
        sel &= (col + rad >= tile.c0) & (col - rad <= tile.c1)
        c = c[sel]
        near = DetectedCraters(c[:, 0], c[:, 1], c[:, 2], c[:, 3])
    out = hazard_window(
        z,
        job.transform,
        (lr0, lc0),
        core,
        model,
        rock_abundance=k,
        craters=near,
        shadow=shadow,
        link=shared.link,
        lander=job.lander,
    )
    layers = dict(out.layers)
    layers["elevation"] = z[core]
    layers["step_m"] = step_layer(out.rock_cells, z[core])
    reason = layers["keepout_reason"]
    layers["keepout"] = reason != 0
    if layers["rock_risk"] is None:
        layers["rock_risk"] = rock_risk_layer(z[core], k, model)
    if shared.link is not None:
        margin, vis = shared.link.window(tile.r0, tile.r1, tile.c0, tile.c1)
        layers["link_margin_db"] = margin
        layers["los_lander"] = vis
        layers["range_lander_m"] = lander_range(
            job.transform.a, job.lander_rc, (tile.r0, tile.r1), (tile.c0, tile.c1)
        )
    if job.output is not None:
        with _lock(job.output):
            write_window(
                job.output.path, tile.r0, tile.c0, {n: layers[n] for n in job.output.names}
            )
    r = out.rocks
    rocks = np.column_stack([r.x, r.y, r.diameter_m, r.height_m]).reshape(-1, 4)
    return _TileResult(tile, rocks, out.stats)


# --------------------------------------------------------------------------------------------
# schedulers


def _connect(scheduler) -> tuple[Any, bool]:
    """(client or None, whether we opened it) for None/'threads'/'sync', an address or a Client."""
    if scheduler is None or scheduler in ("threads", "sync", "synchronous"):
        return None, False
    if isinstance(scheduler, str):
        try:
            from distributed import Client
        except ImportError as err:  # pragma: no cover - a dependency
            raise TerrainError("a scheduler address needs dask.distributed") from err
        try:
            return Client(scheduler, timeout="10s"), True
        except OSError as err:
            raise TerrainError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({err}); start one with "
                "`dask scheduler` or omit --scheduler for local threads"
            ) from err
    return scheduler, False


def compute_tasks(
    tasks: Sequence[Any],
    scheduler=None,
    *,
    num_workers: int | None = None,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Compute Dask delayed tasks on local threads, synchronously, or on a distributed cluster.

    Parameters
    ----------
    tasks : sequence of dask.delayed.Delayed
    scheduler : None, "threads", "synchronous", address string or distributed.Client
        None and "threads": the local threaded scheduler. A ``tcp://`` address connects a
        client for this call (closed afterwards); a Client is used as it is.
    num_workers : int, optional
        Threads of the local scheduler (default: CPU count).
    on_result : callable(i, result), optional
        Called as each task finishes (in the calling thread for a cluster, in a worker thread
        locally): progress bars.

    Returns
    -------
    list
        Results in the order of ``tasks``.
    """
    import dask

    client, owned = _connect(scheduler)
    try:
        if client is None:
            from dask.callbacks import Callback

            index = {t.key: i for i, t in enumerate(tasks)}

            class _Tick(Callback):
                def _posttask(self, key, result, dsk, state, worker_id):
                    if on_result is not None and key in index:
                        on_result(index[key], result)

            sched = "synchronous" if scheduler in ("sync", "synchronous") else "threads"
            with _Tick():
                return list(dask.compute(*tasks, scheduler=sched, num_workers=num_workers))
        from distributed import as_completed

        futures = client.compute(list(tasks))
        position = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        for fut in as_completed(futures):
            i = position[fut.key]
            results[i] = fut.result()
            fut.release()
            if on_result is not None:
                on_result(i, results[i])
        return results
    finally:
        if owned:
            client.close()


@contextlib.contextmanager
def dask_client(scheduler=None) -> Iterator[Any]:
    """Yield the distributed Client for ``scheduler`` (None for local threads).

    A client opened from an address is closed on exit.

    Raises
    ------
    TerrainError
        The scheduler address cannot be reached.
    """
    client, owned = _connect(scheduler)
    try:
        yield client
    finally:
        if owned:
            client.close()


def share(obj, client=None):
    """Give every task that takes it one copy of ``obj``.

    Scattered to the workers of a cluster, or a single node of the local graph (large arrays
    are neither hashed nor copied).
    """
    import dask

    if client is not None:
        return client.scatter(obj, broadcast=True, hash=False)
    return dask.delayed(obj, name=f"shared-{uuid.uuid4().hex}", traverse=False)


# --------------------------------------------------------------------------------------------
# the result


# --------------------------------------------------------------------------------------------
# the result


@dataclass(frozen=True)
class TiledHazard:
    """What :func:`tiled_hazard` wrote and found.

    Attributes
    ----------
    path : pathlib.Path
        The hazard GeoTIFF (a COG with the bands of :meth:`HazardMap.layers`).
    grid : Dem
        The DEM's grid (shape, transform, CRS); its elevation is a zero-stride NaN array, no data.
    limits : HazardLimits
    scaling : RoughnessScaling
        The DEM's roughness scaling (from every tile's blocks).
    tilt_sigma_deg : float
        Spread of the rover's tilt around the measured slope.
    craters, rocks : DetectedCraters, DetectedRocks
        Catalogues over the whole DEM (each detection once).
    sun : (azimuth, elevation) or None
    lander : LanderSite or None
    stats : HazardStats
        Cell counts over the whole DEM (tiles added up).
    warnings : tuple of str
    n_tiles, tile_px, halo_px, crater_halo_px, shadow_halo_px : int
    max_crater_px : float
        Largest crater diameter searched (pixels).
    far_error_m : float or None
        Bound on the height error of the shadows' far field (see the module notes).
    los_factor : int or None
        DEM cells per radio cell of the link field.
    timings : dict
        Seconds per pass.
    """

    path: pathlib.Path
    grid: Dem
    limits: HazardLimits
    scaling: RoughnessScaling
    tilt_sigma_deg: float
    craters: DetectedCraters
    rocks: DetectedRocks
    sun: tuple[float, float] | None
    lander: LanderSite | None
    stats: HazardStats
    warnings: tuple[str, ...]
    n_tiles: int
    tile_px: int
    halo_px: int
    crater_halo_px: int
    shadow_halo_px: int
    max_crater_px: float
    far_error_m: float | None
    los_factor: int | None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def far_angle_bound_deg(self) -> float | None:
        """Largest error of the far-field horizon, degrees (None without a Sun)."""
        if self.far_error_m is None:
            return None
        near_m = max(self.halo_px, self.shadow_halo_px) * self.grid.res_m
        return math.degrees(math.atan2(self.far_error_m, near_m))

    @property
    def keepout_share(self) -> dict[str, float]:
        """Share of valid cells each reason excludes, as ``HazardMap.keepout_share``."""
        names = REASONS if self.lander is not None else REASONS[:4]
        return {k: self.stats.share(k) for k in names}

    def summary(self) -> dict[str, Any]:
        """The numbers of :meth:`HazardMap.summary`, from tile counts, and the tiling."""
        s = hazard_summary(
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
        s["tiles"] = self.n_tiles
        s["tile_px"] = self.tile_px
        s["max_crater_m"] = round(self.max_crater_px * self.grid.res_m, 3)
        return s

    def notes(self) -> tuple[str, ...]:
        """The sentences of :meth:`HazardMap.notes`."""
        return scale_notes(
            self.grid.res_m,
            self.limits,
            self.scaling,
            self.tilt_sigma_deg,
            lander=self.lander is not None,
        )


# --------------------------------------------------------------------------------------------
# the job


def tiled_hazard(
    dem_path,
    out_path,
    limits: HazardLimits | None = None,
    *,
    sun: tuple[float, float] | None = None,
    lander: LanderSite | None = None,
    rock_abundance: float | str | os.PathLike = 0.01,
    detect: bool = True,
    tile_px: int = DEFAULT_TILE_PX,
    max_crater_px: float = DEFAULT_MAX_CRATER_PX,
    shadow_halo_px: int = DEFAULT_SHADOW_HALO_PX,
    far_factor: int = DEFAULT_FAR_FACTOR,
    scheduler=None,
    num_workers: int | None = None,
    numba_threads: int | None = None,
    tags: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> TiledHazard:
    """Hazard map of a DEM file too large for memory, tile by tile on Dask, into a COG.

    The layers are those of :func:`terrain.hazard.hazard_map` (see the module notes for what
    equals the in-memory map exactly and the bound on the shadows).

    Parameters
    ----------
    dem_path : path-like
        A GeoTIFF (or any GDAL raster) on a north-up metric grid with square pixels, readable
        by every worker (a shared file system for a cluster).
    out_path : path-like
        The hazard GeoTIFF to write (its folder must be shared with the workers too).
    limits : HazardLimits, optional
    sun : (azimuth_deg, elevation_deg), optional
    lander : LanderSite, optional
    rock_abundance : float or path-like
        Golombek k, one value or a raster on the DEM's grid.
    detect : bool
        Run crater detection.
    tile_px : int
        Tile side, a multiple of 64. Memory per worker thread grows as its square.
    max_crater_px : float
        Largest crater diameter searched (20, 40, 80, 160, ... px); sets the survey halo.
    shadow_halo_px : int
        Near-field reach of the shadows (exact within it).
    far_factor : int
        Block size of the far-field DEM (a divisor of 64).
    scheduler : None, "threads", "synchronous", address or distributed.Client
        Where the tiles run (default local threads).
    num_workers : int, optional
        Local threads (default CPU count).
    numba_threads : int, optional
        Threads of the compiled kernels inside each task (default: all for local threads,
        1 on a cluster, whose workers are already parallel).
    tags : dict, optional
        Metadata tags for the GeoTIFF.
    progress : callable(fraction, stage), optional
        Called as tiles finish.

    Returns
    -------
    TiledHazard

    Raises
    ------
    HazardInputError
        Bad limits, lander off the DEM or on nodata, rock-abundance raster not on the grid,
        a DEM holding no data.
    TerrainError
        Bad tile size, crater cap or far factor; an unreachable scheduler.
    """
    limits = limits or HazardLimits()
    limits.validate()
    report = progress or (lambda fraction, stage="": None)
    if not (
        isinstance(tile_px, int | np.integer)
        and tile_px >= TILE_ALIGN
        and tile_px % TILE_ALIGN == 0
    ):
        raise TerrainError(f"tile size must be a multiple of {TILE_ALIGN} px, got {tile_px!r}")
    if not (
        isinstance(far_factor, int | np.integer)
        and far_factor >= 1
        and TILE_ALIGN % far_factor == 0
    ):
        raise TerrainError(f"far_factor must divide {TILE_ALIGN}, got {far_factor!r}")
    c_halo = crater_halo_px(max_crater_px)
    source, grid = open_source(dem_path)
    if lander is not None and not grid.contains(lander.x, lander.y):
        b = grid.bounds
        raise HazardInputError(
            f"lander at ({lander.x:.1f}, {lander.y:.1f}) is outside the DEM "
            f"(x {b.left:.0f}..{b.right:.0f}, y {b.bottom:.0f}..{b.top:.0f}); give a position on it"
        )
    lander_rc = None
    if lander is not None:
        lander_rc = grid.rowcol(lander.x, lander.y)
        r, c = lander_rc
        if not np.isfinite(read_window(source, r, r + 1, c, c + 1)[0, 0]):
            raise HazardInputError(
                f"lander at ({lander.x:.1f}, {lander.y:.1f}) stands on a nodata cell; move it"
            )
    k_spec: float | str
    if isinstance(rock_abundance, str | os.PathLike):
        _, k_grid = open_source(rock_abundance)
        if k_grid.shape != grid.shape or k_grid.transform != grid.transform:
            raise HazardInputError(
                f"rock-abundance raster {rock_abundance} is not on the DEM's grid "
                f"({k_grid.shape} vs {grid.shape}); resample it onto the DEM"
            )
        k_spec = str(rock_abundance)
    else:
        k_spec = float(rock_abundance)
    warnings: list[str] = []
    if sun is not None:
        sun = (float(sun[0]), float(sun[1]))
        if sun[1] <= 0:
            warnings.append(
                f"sun elevation {sun[1]:g} deg is at or below the horizon: every cell is in shadow"
            )
    out_path = pathlib.Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tiles = tiles_of(grid.shape, int(tile_px))
    with dask_client(scheduler) as client:
        names = layer_names(sun=sun is not None, lander=lander is not None)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{out_path.name}.", suffix=".tiles.tif", dir=out_path.parent
        )
        os.close(fd)
        tmp_path = pathlib.Path(tmp)
        try:
            types = band_dtypes()
            create_tiled_geotiff(
                tmp_path, names, grid, tags=tags, dtypes={n: types[n] for n in names}
            )
            output = _Output(
                str(tmp_path), names, f"frigoris-{uuid.uuid4().hex}", client is not None
            )
            if numba_threads is None:
                numba_threads = 1 if client is not None else None
            job = _Job(
                source,
                grid.shape,
                grid.transform,
                limits,
                detect,
                float(max_crater_px),
                c_halo,
                max(int(shadow_halo_px), 0),
                int(far_factor),
                sun,
                lander,
                lander_rc,
                k_spec,
                output,
                numba_threads,
            )
            result = _run(
                job, tiles, int(tile_px), grid, client, scheduler, num_workers, warnings, report
            )
            report(0.9, "writing the COG")
            t0 = time.perf_counter()
            finish_cog(tmp_path, out_path)
            result.timings["cog_s"] = time.perf_counter() - t0
        finally:
            tmp_path.unlink(missing_ok=True)
            masks_path(tmp_path).unlink(missing_ok=True)
    report(1.0, "done")
    return replace(result, path=out_path)


def _read_link(job: _Job, grid: Dem) -> LinkField:
    """The link field from the lander: its box read strip by strip into the radio grid."""
    box = lander_link_box(grid.shape, job.lander_rc, job.limits, grid.res_m)
    r0, r1, c0, c1, f = box
    step = f * max(1, LINK_STRIP_ROWS // f)
    strips = [
        radio_grid(read_window(job.source, a, min(a + step, r1), c0, c1), f)
        for a in range(r0, r1, step)
    ]
    zc = np.concatenate(strips, axis=0)
    return trace_link(zc, box, job.lander_rc, grid.res_m, job.limits, job.lander)


def _run(job: _Job, tiles, tile_px, grid: Dem, client, scheduler, num_workers, warnings, report):
    import dask

    n = len(tiles)
    sched = client if client is not None else scheduler
    done = [0]
    lock = threading.Lock()

    def tick(lo: float, span: float, what: str):
        def on_result(i, _):
            with lock:
                done[0] += 1
                report(lo + span * done[0] / n, f"{what} {done[0]}/{n} tiles")

        return on_result

    t0 = time.perf_counter()
    # pass 1: survey
    report(0.0, "survey")
    survey = compute_tasks(
        [dask.delayed(_survey_tile, pure=False)(job, t) for t in tiles],
        sched,
        num_workers=num_workers,
        on_result=tick(0.0, 0.3, "craters"),
    )
    n_valid = sum(s.n_valid for s in survey)
    if n_valid == 0:
        raise HazardInputError("the DEM holds no data; nothing to map")
    zmin = min(s.zmin for s in survey)
    craters = np.concatenate([s.craters for s in survey]) if survey else np.zeros((0, 4))
    craters = craters[np.argsort(-craters[:, 2], kind="stable")]
    model, scaling = site_model(job.limits, grid.res_m, _assemble_moments(survey, grid.shape), zmin)
    coarse = far_error = None
    if job.sun is not None:
        coarse, relief = _assemble_coarse(survey, grid.shape, job.far_factor)
        rise = 0.5 * job.far_factor * grid.res_m * math.sqrt(2.0)
        far_error = relief + rise * max(math.tan(math.radians(job.sun[1])), 0.0)
    del survey
    t1 = time.perf_counter()

    link = None
    if job.lander is not None:
        report(0.3, "link budget")
        link = _read_link(job, grid)

    t2 = time.perf_counter()
    # pass 2: hazard layers
    done[0] = 0
    shared = share(_Shared(model, craters, coarse, link), client)
    results = compute_tasks(
        [dask.delayed(_hazard_tile, pure=False)(job, t, shared) for t in tiles],
        sched,
        num_workers=num_workers,
        on_result=tick(0.35, 0.55, "hazard"),
    )
    stats = results[0].stats
    for r in results[1:]:
        stats = stats + r.stats
    rocks = np.concatenate([r.rocks for r in results]) if results else np.zeros((0, 4))
    if stats.keepout_share(certain=True) >= 1.0:
        worst = max(CERTAIN, key=stats.share)
        warnings.append(
            f"every cell is keep-out; the '{worst}' reason alone excludes "
            f"{stats.share(worst):.0%} of the DEM"
        )
    timings = {"survey_s": t1 - t0, "los_s": t2 - t1, "hazard_s": time.perf_counter() - t2}
    return TiledHazard(
        path=pathlib.Path(job.output.path) if job.output else pathlib.Path(),
        grid=grid,
        limits=job.limits,
        scaling=scaling,
        tilt_sigma_deg=model.tilt_sigma_deg,
        craters=DetectedCraters(*(craters[:, i].copy() for i in range(4))),
        rocks=DetectedRocks(*(rocks[:, i].copy() for i in range(4))),
        sun=job.sun,
        lander=job.lander,
        stats=stats,
        warnings=tuple(warnings),
        n_tiles=len(tiles),
        tile_px=tile_px,
        halo_px=model.halo_px,
        crater_halo_px=job.crater_halo,
        shadow_halo_px=job.shadow_halo,
        max_crater_px=job.max_crater_px,
        far_error_m=far_error,
        los_factor=None if link is None else link.factor,
        timings=timings,
    )


def _assemble_moments(survey: list[_Survey], shape: tuple[int, int]) -> np.ndarray:
    """The grid's roughness block moments, put together from the tiles' (raster order)."""
    nbr, nbc = -(-shape[0] // BLOCK_PX), -(-shape[1] // BLOCK_PX)
    k = survey[0].moments.shape[-1]
    out = np.zeros((nbr, nbc, k))
    for s in survey:
        i, j = s.tile.r0 // BLOCK_PX, s.tile.c0 // BLOCK_PX
        h, w = s.moments.shape[:2]
        out[i : i + h, j : j + w] = s.moments
    return out


def _assemble_coarse(survey: list[_Survey], shape: tuple[int, int], f: int):
    """Assemble the block-mean DEM from the tiles' pieces, and the far-field height bound.

    The bound is the largest relief (max - min) over any 3 x 3 blocks.
    """
    H, W = -(-shape[0] // f), -(-shape[1] // f)
    mean = np.full((H, W), np.nan, dtype=np.float32)
    lo = np.full((H, W), np.nan, dtype=np.float32)
    hi = np.full((H, W), np.nan, dtype=np.float32)
    for s in survey:
        i, j = s.tile.r0 // f, s.tile.c0 // f
        h, w = s.coarse.shape
        mean[i : i + h, j : j + w] = s.coarse
        lo[i : i + h, j : j + w] = s.coarse_lo
        hi[i : i + h, j : j + w] = s.coarse_hi
    hi2 = ndimage.maximum_filter(np.nan_to_num(hi, nan=-np.inf), size=3)
    lo2 = ndimage.minimum_filter(np.nan_to_num(lo, nan=np.inf), size=3)
    with np.errstate(invalid="ignore"):
        relief = hi2 - lo2
    finite = relief[np.isfinite(relief)]
    return mean, float(finite.max()) if finite.size else 0.0


__all__ = [
    "DEFAULT_FAR_FACTOR",
    "DEFAULT_MAX_CRATER_PX",
    "DEFAULT_SHADOW_HALO_PX",
    "DEFAULT_TILE_PX",
    "TILE_ALIGN",
    "Tile",
    "TiledHazard",
    "compute_tasks",
    "crater_halo_px",
    "crater_levels",
    "crater_reach_px",
    "dask_client",
    "open_source",
    "share",
    "tiled_hazard",
    "tiles_of",
]
