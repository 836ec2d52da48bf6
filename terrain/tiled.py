"""Hazard maps of DEMs larger than memory, tile by tile on Dask.

The layers of :func:`terrain.hazard.hazard_map`, on a laptop (threads) or on a
``dask.distributed`` cluster.

How it works
------------
The DEM is cut into square tiles of ``tile_px`` (a block grid). Every tile is one Dask task that
reads its own window *with a halo* from the file (windowed reads; the full DEM is never in
memory), computes the layers of its core and writes them into a tiled GeoTIFF; the file becomes
a Cloud-Optimized GeoTIFF at the end. Two passes:

1. **Survey** (halo ``crater_halo_px``): craters of the tile's core, a block-mean DEM coarser by
   ``far_factor`` (the far field of the shadows), the lowest elevation (rock detection fills
   nodata with it, as in memory) and the relief of each coarse block (for the far-field
   error bound).
2. **Hazard** (halo ``halo_px``, more towards the Sun for shadows): slope, footprint fits,
   roughness, step, rocks, rock risk, crater mask (painted from the whole catalogue), shadow,
   line of sight and range, then keep-out (dilated) and cost by
  :func:`terrain.hazard.fuse_hazards`, the same fusion as in memory.

What equals the in-memory map, and what does not
------------------------------------------------
- **Local layers** (Horn slope, footprint slope/roughness/step, rock risk, rocks and their mask,
  keep-out without the comm reason, cost without shadow) are functions of a neighbourhood no
  wider than the halo, so they equal the in-memory layers cell for cell (the same float
  operations on the same values). Catalogues keep a detection only when its centre lies in the
  tile's core: no duplicates by construction.
- **Craters** are detected up to ``max_crater_px`` (the cap, a pyramid band edge: 40, 80, 160,
  ... px): larger craters are not found tile-wise. Crater windows start on multiples of the
  pyramid's coarsest block, so every tile sees the same pyramid as the whole DEM would, and
  ``crater_halo_px`` covers the profile fit (1.84 x the cap) and the proposal blur. Craters
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
  Sun with a 32 px near field (tests).
- **Line of sight** matters only within the link range (beyond it the comm reason keeps the
  cell out anyway), so it is traced in memory on the box of radius ``link_range_m`` around the
  lander (:func:`terrain.hazard.link_box`, as the in-memory map does), at full resolution when
  the box has at most ``los_max_px`` pixels a side, else on a block-mean grid ``los_factor``
  times coarser, upsampled by nearest neighbour. At full resolution this *is* the in-memory
  computation; coarsening moves LOS edges by up to a coarse cell (measured in the tests).
  ``range_lander_m`` is exact everywhere.

Summary numbers add up tile counts; the median rover slope comes from a 0.01 deg histogram.
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
from numba import njit, prange
from scipy import ndimage

from . import _hazard_kernels as hk
from ._illumination_kernels import _cell, _map_xy, line_of, line_setup, receiver
from .crs import MOON_RADIUS_M
from .dem import Dem
from .errors import GridError, HazardInputError, TerrainError
from .hazard import (
    REASONS,
    DetectedCraters,
    DetectedRocks,
    HazardLimits,
    LanderSite,
    _check_limits,
    fuse_hazards,
    lander_range,
    lander_visibility,
    link_box,
    reason_counts,
)

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

Progress = Callable[[float, str], None]

TILE_ALIGN = 64
"""Tile sides are multiples of this (crater pyramids and coarse far-field blocks align on it)."""
DEFAULT_TILE_PX = 2048
DEFAULT_MAX_CRATER_PX = 80.0
DEFAULT_FAR_FACTOR = 8
DEFAULT_SHADOW_HALO_PX = 256
DEFAULT_LOS_MAX_PX = 4096
SLOPE_BIN_DEG = 0.01
GDAL_CACHE_MB = 256
"""GDAL block cache for tiled I/O (GDAL's default, 5 % of RAM, would count against the budget)."""


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
    from .craters import BAND_PX

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
    from . import craters as cr

    reach = 0.0
    for k in range(crater_levels(max_crater_px) + 1):
        # the proposal scales and fit window of craters._detect_level at level k
        d_lo, d_hi = cr.BAND_PX * 2**k, 2 * cr.BAND_PX * 2**k
        r_lo = cr.PROPOSAL_MARGIN[0] * d_lo / (4.0 * 2**k)
        r_hi = cr.PROPOSAL_MARGIN[1] * d_hi / (4.0 * 2**k)
        s_lo = cr.SIGMA_PER_RADIUS * r_lo
        s_hi = max(cr.SIGMA_PER_RADIUS * r_hi, 1.01 * s_lo)
        n = int(math.ceil(math.log2(s_hi / s_lo) * cr.SCALES_PER_OCTAVE)) + 1
        sig = s_lo * (s_hi / s_lo) ** (np.arange(n) / max(n - 1, 1))
        inc = np.sqrt(np.diff(np.concatenate([[0.0], sig**2])))
        blur = float(np.sum(np.maximum(1, np.ceil(3.0 * inc)))) + 3.0  # + Laplacian, peak, refine
        coarse_px = 2 ** (k + 1)
        window = cr.FIT_WINDOW * cr.FIT_RADIUS_RANGE[1]
        fit = window * 2.0 * sig[-1] / cr.SIGMA_PER_RADIUS * 2**k
        reach = max(reach, (blur + 1.0) * coarse_px, fit + 2 * 2**k)
    return int(math.ceil(reach))


def crater_halo_px(max_crater_px: float) -> int:
    """Survey halo: the crater reach plus half a cap (chains of duplicate suppression).

    Rounded up to the pyramid's coarsest block, so every window starts on a block edge.
    """
    align = 2 ** (crater_levels(max_crater_px) + 1)
    need = crater_reach_px(max_crater_px) + 0.5 * max_crater_px
    return int(math.ceil(need / align) * align)


def local_halo_px(limits: HazardLimits, res_m: float, *, rock_max_diameter_m: float = 8.0) -> int:
    """Halo of the local layers.

    Footprint fits, Horn, rocks (opening, peaks, growth and the claims of neighbouring rocks)
    and the keep-out dilation.
    """
    half = max(1, int(round(limits.footprint_m / res_m / 2.0)))
    size = max(3, int(np.ceil(rock_max_diameter_m / res_m)) + 2) | 1
    rocks = 4 * size + 4
    radius_px = int(np.ceil(limits.rover_radius_m / res_m))
    return max(half + 1, rocks) + radius_px + 1


# --------------------------------------------------------------------------------------------
# windowed I/O (the tiled counterpart of terrain.io; only these helpers open files here)


@dataclass(frozen=True)
class _Source:
    """How to turn a window of the DEM file into metres (picklable, for workers)."""

    path: str
    band: int
    scale: float
    offset: float
    factor: float  # 1000 for km
    minus_m: float  # the sphere radius when the file stores radii


def _env():
    import rasterio

    return rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB)


def _read(src: _Source, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Rows r0:r1, columns c0:c1 of the DEM in metres, float32, NaN for nodata."""
    import rasterio
    from rasterio.windows import Window

    plain = (src.scale, src.offset, src.factor, src.minus_m) == (1.0, 0.0, 1.0, 0.0)
    with _env(), rasterio.open(src.path) as ds:
        data = ds.read(
            src.band,
            window=Window(c0, r0, c1 - c0, r1 - r0),
            masked=True,
            out_dtype="float32" if plain and ds.dtypes[src.band - 1] == "float32" else "float64",
        )
    z = np.ma.filled(data, np.nan)
    if data.dtype == np.float32:  # metres already: the float64 round trip would change nothing
        return z
    z = (z * src.scale + src.offset) * src.factor - src.minus_m
    return z.astype(np.float32)


def _read_plain(path: str, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Read a window of band 1 of a raster on the DEM grid (rock abundance), float32."""
    import rasterio
    from rasterio.windows import Window

    with _env(), rasterio.open(path) as ds:
        data = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    return np.ma.filled(data.astype(np.float32), np.nan)


def open_source(path, *, band: int = 1) -> tuple[_Source, Dem]:
    """Check a DEM file for tiled use and describe it, reading no more than a sample.

    Returns
    -------
    source : _Source
        What workers need to read windows.
    grid : Dem
        The grid (shape, transform, CRS) with a zero-stride NaN elevation: no data is read.

    Raises
    ------
    DemNotFoundError, UnreadableDemError, MissingCrsError, NotLunarCrsError, GridError
        As :func:`terrain.read_dem`; a grid that is not north-up, square and metric cannot be
        reprojected tile-wise (``gdalwarp`` it first).
    """
    from rasterio.windows import Window

    from .crs import check_lunar
    from .errors import MissingCrsError, UnreadableDemError
    from .io import _KM_UNITS, _is_square_metric, _open

    with _open(path) as ds:
        if band < 1 or band > ds.count:
            raise UnreadableDemError(f"{path} has {ds.count} band(s); band {band} does not exist")
        if ds.crs is None:
            raise MissingCrsError(
                f"DEM {str(path)!r} has no CRS; write one into the file (gdal_edit.py -a_srs)"
            )
        check_lunar(ds.crs)
        if not _is_square_metric(ds.crs, ds.transform, ds.width / 2.0, ds.height / 2.0):
            raise GridError(
                f"{str(path)!r} is not on a north-up metric grid with square pixels; tiles cannot "
                "reproject it: gdalwarp it to a local metric projection first, or drop --tile"
            )
        units = (ds.units[band - 1] or "") if ds.units else ""
        scale = float(ds.scales[band - 1] or 1.0)
        offset = float(ds.offsets[band - 1] or 0.0)
        factor = 1000.0 if units.strip().lower() in _KM_UNITS else 1.0
        # radii or heights? nine small windows decide (read_dem takes the median of everything)
        vals = []
        for fr in (0.25, 0.5, 0.75):
            for fc in (0.25, 0.5, 0.75):
                r, c = int(fr * ds.height), int(fc * ds.width)
                win = Window(c, r, min(64, ds.width - c), min(64, ds.height - r))
                vals.append(np.ma.compressed(ds.read(band, window=win, masked=True)))
        vals = (np.concatenate(vals).astype(np.float64) * scale + offset) * factor
        minus = MOON_RADIUS_M if vals.size and np.median(vals) > 0.5 * MOON_RADIUS_M else 0.0
        grid = Dem(np.broadcast_to(np.float32(np.nan), (ds.height, ds.width)), ds.transform, ds.crs)
    return _Source(str(path), band, scale, offset, factor, minus), grid


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


def _create_output(path: pathlib.Path, names: Sequence[str], grid: Dem, tags) -> None:
    import rasterio

    from .io import _tag_value

    profile = dict(
        driver="GTiff",
        width=grid.shape[1],
        height=grid.shape[0],
        count=len(names),
        dtype="float32",
        crs=grid.crs,
        transform=grid.transform,
        nodata=np.nan,
        tiled=True,
        blockxsize=512,
        blockysize=512,
        interleave="band",
        BIGTIFF="YES",
        SPARSE_OK="TRUE",
    )
    with _env(), rasterio.open(path, "w", **profile) as ds:
        for i, name in enumerate(names, start=1):
            ds.set_band_description(i, name)
        if tags:
            ds.update_tags(**{k: _tag_value(v) for k, v in tags.items()})


def _write_core(out: _Output, r0: int, c0: int, layers: dict[str, np.ndarray]) -> None:
    import rasterio
    from rasterio.windows import Window

    h, w = next(iter(layers.values())).shape
    with _lock(out), _env(), rasterio.open(out.path, "r+") as ds:
        for i, name in enumerate(out.names, start=1):
            ds.write(np.asarray(layers[name], dtype=np.float32), i, window=Window(c0, r0, w, h))


def _finish_output(tmp: pathlib.Path, dest: pathlib.Path, shape: tuple[int, int]) -> None:
    """Overviews on the intermediate, then a COG copy (DEFLATE, as write_geotiff) into place."""
    import rasterio
    import rasterio.shutil
    from rasterio.enums import Resampling

    from .io import _overview_levels, _publish

    levels = _overview_levels(shape, 512)
    with _env():
        if levels:
            with rasterio.open(tmp, "r+") as ds:
                ds.build_overviews(levels, Resampling.average)
        fd, cog = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp.tif", dir=dest.parent)
        os.close(fd)
        try:
            with rasterio.open(tmp) as ds:
                rasterio.shutil.copy(
                    ds,
                    cog,
                    driver="COG",
                    compress="DEFLATE",
                    predictor="3",
                    blocksize=512,
                    overviews="FORCE_USE_EXISTING" if levels else "NONE",
                    BIGTIFF="IF_SAFER",
                    NUM_THREADS="ALL_CPUS",
                )
            _publish(cog, dest)
        except BaseException:
            pathlib.Path(cog).unlink(missing_ok=True)
            raise


def read_layers_decimated(path, max_px: int = 2048) -> tuple[dict[str, np.ndarray], Dem]:
    """Every band of a hazard GeoTIFF, read through its overviews to at most ``max_px`` a side.

    For pictures of maps too large to read whole; flags come back as averages in [0, 1].
    """
    import rasterio

    from .io import _open

    with _env(), _open(path) as ds:
        f = max(1, math.ceil(max(ds.height, ds.width) / max_px))
        shape = (max(1, ds.height // f), max(1, ds.width // f))
        names = [d or f"band{i}" for i, d in enumerate(ds.descriptions, start=1)]
        data = ds.read(
            out_shape=(ds.count, *shape), masked=True, resampling=rasterio.enums.Resampling.average
        )
        t = ds.transform @ Affine.scale(ds.width / shape[1], ds.height / shape[0])
        crs = ds.crs
    layers = {n: np.ma.filled(data[i].astype(np.float32), np.nan) for i, n in enumerate(names)}
    return layers, Dem(layers[names[0]], t, crs)


# --------------------------------------------------------------------------------------------
# shadows: exact near field in the window, block-mean far field beyond it


@njit(cache=True, inline="always")
def _coarse_sample(zc, f, rows_dominant, dom, u):
    """Bilinear height of the block-mean grid at fine position (dom, u); NaN when no data."""
    if rows_dominant:
        r, c = dom, u
    else:
        r, c = u, dom
    rc = (r + 0.5) / f - 0.5
    cc = (c + 0.5) / f - 0.5
    nr, nc = zc.shape
    i0 = int(np.floor(rc))
    j0 = int(np.floor(cc))
    wr = rc - i0
    wc = cc - j0
    total = 0.0
    weight = 0.0
    for a in range(2):
        i = min(max(i0 + a, 0), nr - 1)
        w_a = wr if a == 1 else 1.0 - wr
        for b in range(2):
            j = min(max(j0 + b, 0), nc - 1)
            w = w_a * (wc if b == 1 else 1.0 - wc)
            h = zc[i, j]
            if w > 0.0 and not np.isnan(h):
                total += w * h
                weight += w
    if weight < 0.5:
        return np.nan
    return total / weight


@njit(parallel=True, cache=True)
def _tile_shadow(
    zw,
    wr0,
    wc0,
    cr0,
    cr1,
    cc0,
    cc1,
    rows,
    cols,
    res,
    sin_az,
    cos_az,
    tan_el,
    inv_2r,
    subpixel,
    zc,
    f,
    out,
):
    """Cast shadow of the core [cr0, cr1) x [cc0, cc1) of a ``rows`` x ``cols`` grid.

    The sweep lines, receivers and samples are those of ``cast_shadow_sweep`` on the whole grid;
    samples whose cells lie in the window ``zw`` (origin wr0, wc0) are read from it, the others
    from the block-mean grid ``zc`` (one per ``f`` steps before the window).
    """
    rows_dominant, length, width, sign, m, u0, n_lines = line_setup(
        rows, cols, cos_az, -sin_az, subpixel
    )
    half_r = 0.5 * rows
    half_c = 0.5 * cols
    wh, ww = zw.shape
    if rows_dominant:
        dw0, dw1, jw0, jw1 = wr0, wr0 + wh, wc0, wc0 + ww
        dc0, dc1, jc0, jc1 = cr0, cr1, cc0, cc1
    else:
        dw0, dw1, jw0, jw1 = wc0, wc0 + ww, wr0, wr0 + wh
        dc0, dc1, jc0, jc1 = cc0, cc1, cr0, cr1
    if sign > 0:
        kw0, kc0, kc1 = dw0, dc0, dc1 - 1
    else:
        kw0, kc0, kc1 = length - dw1, length - dc1, length - 1 - dc0
    lo_li = n_lines
    hi_li = -1
    for k in (kc0, kc1):
        for j in (jc0 - 1, jc1):
            li = line_of(j, k, m, u0, subpixel)
            lo_li = min(lo_li, li)
            hi_li = max(hi_li, li)
    lo_li = max(lo_li - 1, 0)
    hi_li = min(hi_li + 1, n_lines - 1)
    for li in prange(lo_li, hi_li + 1):
        base = u0 + li / subpixel
        run = -np.inf
        for k in range(kw0 - 1, -1, -f):  # far field, towards the Sun from the window
            u = base + k * m
            if u <= -1.0 or u >= width:
                continue
            dom = k if sign > 0 else length - 1 - k
            h = _coarse_sample(zc, f, rows_dominant, dom, u)
            if not np.isnan(h):
                x, y = _map_xy(rows_dominant, dom, u, half_r, half_c, res)
                t = x * sin_az + y * cos_az
                v = h - t * t * inv_2r - t * tan_el
                if v > run:
                    run = v
        for k in range(max(kw0, 0), kc1 + 1):
            u = base + k * m
            if u <= -1.0 or u >= width:
                continue
            dom = k if sign > 0 else length - 1 - k
            if k >= kc0:
                near = receiver(li, k, m, u, u0, subpixel, width)
                if near >= jc0 and near < jc1:
                    r, c = _cell(rows_dominant, dom, near)
                    zz = zw[r - wr0, c - wc0]
                    if np.isnan(zz):
                        out[r - cr0, c - cc0] = False
                    else:
                        x, y = _map_xy(rows_dominant, dom, near, half_r, half_c, res)
                        t = x * sin_az + y * cos_az
                        v = zz - t * t * inv_2r - t * tan_el
                        out[r - cr0, c - cc0] = run > v
            # the sample: from the window when every cell it needs is there (as _sample)
            lo = int(np.floor(u))
            w = u - lo
            inside = dom >= dw0 and dom < dw1
            for j in range(lo, lo + 2):
                wj = 1.0 - w if j == lo else w
                if wj > 0.0 and j >= 0 and j < width and (j < jw0 or j >= jw1):
                    inside = False
            if inside:
                total = 0.0
                weight = 0.0
                for j in range(lo, lo + 2):
                    wj = 1.0 - w if j == lo else w
                    if wj <= 0.0 or j < 0 or j >= width:
                        continue
                    r, c = _cell(rows_dominant, dom, j)
                    hz = zw[r - wr0, c - wc0]
                    if np.isnan(hz):
                        continue
                    total += wj * hz
                    weight += wj
                h = total / weight if weight >= 0.5 else np.nan
            else:
                h = _coarse_sample(zc, f, rows_dominant, dom, u)
            if not np.isnan(h):
                x, y = _map_xy(rows_dominant, dom, u, half_r, half_c, res)
                t = x * sin_az + y * cos_az
                v = h - t * t * inv_2r - t * tan_el
                if v > run:
                    run = v


def tile_shadow(
    window: np.ndarray,
    window_origin: tuple[int, int],
    core: tuple[int, int, int, int],
    grid_shape: tuple[int, int],
    res_m: float,
    sun_azimuth_deg: float,
    sun_elevation_deg: float,
    coarse: np.ndarray,
    far_factor: int,
    *,
    lines_per_cell: int = 2,
    body_radius_m: float = MOON_RADIUS_M,
) -> np.ndarray:
    """Cast shadow over one tile's core, as :func:`terrain.illumination.cast_shadow` on the grid.

    Parameters
    ----------
    window : ndarray of shape (h, w)
        Heights of a window of the grid holding the core and a halo (NaN = nodata).
    window_origin : (row, col)
        Grid indices of ``window[0, 0]``.
    core : (row0, row1, col0, col1)
        Grid index ranges of the cells wanted (inside the window).
    grid_shape : (rows, cols)
        The whole grid: it fixes the sweep lines and the frame (the Sun's elevation is given at
        the grid centre, as for ``cast_shadow``).
    res_m, sun_azimuth_deg, sun_elevation_deg : float
        As for ``cast_shadow``.
    coarse : ndarray of shape (ceil(rows / f), ceil(cols / f))
        Block means of the grid over ``far_factor`` x ``far_factor`` blocks: the terrain
        beyond the window.
    far_factor : int
        Block size of ``coarse``.

    Returns
    -------
    ndarray of bool, shape (row1 - row0, col1 - col0)
        True where the Sun is hidden (everywhere when its elevation is <= 0); False on nodata.

    Raises
    ------
    GridError
        The core is not inside the window, or ``coarse`` does not match the grid.
    """
    z = np.ascontiguousarray(window, dtype=np.float32)
    r0, r1, c0, c1 = (int(v) for v in core)
    wr0, wc0 = (int(v) for v in window_origin)
    if z.ndim != 2 or not (
        wr0 <= r0 < r1 <= wr0 + z.shape[0] and wc0 <= c0 < c1 <= wc0 + z.shape[1]
    ):
        raise GridError(
            f"core {core} must lie inside the window at {window_origin} of shape {z.shape}"
        )
    f = int(far_factor)
    expect = (-(-int(grid_shape[0]) // f), -(-int(grid_shape[1]) // f)) if f >= 1 else None
    if expect is None or np.shape(coarse) != expect:
        raise GridError(
            f"coarse grid has shape {np.shape(coarse)}; blocks of {far_factor} over "
            f"{tuple(grid_shape)} need {expect}"
        )
    if sun_elevation_deg <= 0:
        return np.ones((r1 - r0, c1 - c0), dtype=bool)
    out = np.zeros((r1 - r0, c1 - c0), dtype=np.bool_)
    a = math.radians(sun_azimuth_deg % 360.0)
    _tile_shadow(
        z,
        int(window_origin[0]),
        int(window_origin[1]),
        int(r0),
        int(r1),
        int(c0),
        int(c1),
        int(grid_shape[0]),
        int(grid_shape[1]),
        float(res_m),
        math.sin(a),
        math.cos(a),
        math.tan(math.radians(sun_elevation_deg)),
        0.5 / body_radius_m,
        int(lines_per_cell),
        np.ascontiguousarray(coarse, dtype=np.float32),
        int(far_factor),
        out,
    )
    return out


def _block_stats(z: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NaN-aware mean, min and max over f x f blocks (partial blocks at the far edges)."""
    h, w = z.shape
    H, W = -(-h // f), -(-w // f)
    pad = np.full((H * f, W * f), np.nan, dtype=np.float32)
    pad[:h, :w] = z
    blocks = pad.reshape(H, f, W, f)
    valid = np.isfinite(blocks)
    n = valid.sum(axis=(1, 3))
    total = np.where(valid, blocks, 0.0).sum(axis=(1, 3), dtype=np.float64)
    lo = np.where(valid, blocks, np.inf).min(axis=(1, 3))
    hi = np.where(valid, blocks, -np.inf).max(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan).astype(np.float32)
    lo = np.where(n > 0, lo, np.nan).astype(np.float32)
    hi = np.where(n > 0, hi, np.nan).astype(np.float32)
    return mean, lo, hi


# --------------------------------------------------------------------------------------------
# line of sight from the lander


@dataclass(frozen=True)
class LosField:
    """Line of sight from the lander on a box around it (outside the box: not visible).

    ``visible`` is on a grid ``factor`` times coarser than the DEM whose cell (0, 0) starts at
    grid index (``row0``, ``col0``); ``shape`` is the box size in DEM cells.
    """

    visible: np.ndarray
    row0: int
    col0: int
    shape: tuple[int, int]
    factor: int

    def window(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Visibility on grid rows r0:r1, columns c0:c1 (bool)."""
        out = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        br0, bc0 = max(r0, self.row0), max(c0, self.col0)
        br1 = min(r1, self.row0 + self.shape[0])
        bc1 = min(c1, self.col0 + self.shape[1])
        if br1 <= br0 or bc1 <= bc0:
            return out
        ii = (np.arange(br0, br1) - self.row0) // self.factor
        jj = (np.arange(bc0, bc1) - self.col0) // self.factor
        out[br0 - r0 : br1 - r0, bc0 - c0 : bc1 - c0] = self.visible[np.ix_(ii, jj)] > 0
        return out


def lander_los(
    src: _Source,
    grid: Dem,
    limits: HazardLimits,
    lander: LanderSite,
    *,
    max_px: int = DEFAULT_LOS_MAX_PX,
) -> LosField:
    """Line of sight from the lander over the box of radius ``link_range_m`` around it.

    At full resolution when the box (plus the radio smoothing's reach) has at most ``max_px``
    cells a side, else on block means ``factor`` times coarser (read strip by strip), with the
    smoothing and the ray geometry scaled to match.

    Raises
    ------
    HazardInputError
        The lander stands off the grid or on a nodata cell.
    """
    if not grid.contains(lander.x, lander.y):
        raise HazardInputError(f"lander at ({lander.x:.1f}, {lander.y:.1f}) is outside the DEM")
    res = grid.res_m
    rows, cols = grid.shape
    r0, c0 = grid.rowcol(lander.x, lander.y)
    if not np.isfinite(_read(src, r0, r0 + 1, c0, c0 + 1)[0, 0]):
        raise HazardInputError(
            f"lander at ({lander.x:.1f}, {lander.y:.1f}) stands on a nodata cell; move it"
        )
    br0, br1, bc0, bc1 = link_box(grid.shape, (r0, c0), limits, res)
    f = max(1, math.ceil(max(br1 - br0, bc1 - bc0) / max_px))
    if f == 1:
        z = _read(src, br0, br1, bc0, bc1)
    else:
        strips = []
        step = f * max(1, 1024 // f)
        for a in range(br0, br1, step):
            strips.append(_block_stats(_read(src, a, min(a + step, br1), bc0, bc1), f)[0])
        z = np.concatenate(strips, axis=0)
    vis = lander_visibility(z, res * f, ((r0 - br0) // f, (c0 - bc0) // f), lander, limits)
    return LosField(vis, br0, bc0, (br1 - br0, bc1 - bc0), f)


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
class _Job:
    """Everything a tile task needs besides its tile and the shared arrays (small, picklable)."""

    source: _Source
    shape: tuple[int, int]
    transform: Affine
    limits: HazardLimits
    detect: bool
    max_crater_px: float
    crater_halo: int
    halo: int
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
    craters: np.ndarray  # (n, 4): x, y, diameter, depth


@dataclass(frozen=True)
class _Shared:
    """Whole-grid inputs of the hazard pass: the crater catalogue, far field, line of sight."""

    craters: np.ndarray
    zmin: float
    coarse: np.ndarray | None
    los: LosField | None


def _core_contains(tile: Tile, transform: Affine, x, y) -> np.ndarray:
    col, row = ~transform @ (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return (row >= tile.r0) & (row < tile.r1) & (col >= tile.c0) & (col < tile.c1)


def _set_threads(job: _Job) -> None:
    if job.numba_threads:
        import numba

        numba.set_num_threads(min(job.numba_threads, numba.config.NUMBA_NUM_THREADS))


def _survey_tile(job: _Job, tile: Tile) -> _Survey:
    """Pass 1: craters of the core, block means for the far field, lowest height."""
    _set_threads(job)
    wr0, wr1, wc0, wc1 = tile.window(job.crater_halo if job.detect else 0, job.shape)
    z = _read(job.source, wr0, wr1, wc0, wc1)
    core = z[tile.r0 - wr0 : tile.r1 - wr0, tile.c0 - wc0 : tile.c1 - wc0]
    valid = np.isfinite(core)
    mean, lo, hi = _block_stats(core, job.far_factor)
    zmin = float(np.min(core[valid])) if valid.any() else math.inf
    cat = np.zeros((0, 4))
    if job.detect and np.isfinite(z).any():
        from .craters import detect_craters

        t_win = job.transform @ Affine.translation(wc0, wr0)
        # just below the band edge: the same pyramid levels as the whole grid, without a
        # degenerate extra level at the edge itself
        cap = min(job.max_crater_px * (1.0 - 1e-9), min(job.shape) / 4.0)
        found = detect_craters(z, job.transform.a, max_diameter_px=cap, transform=t_win)
        keep = _core_contains(tile, job.transform, found.x, found.y)
        cat = np.column_stack([found.x, found.y, found.diameter_m, found.depth_m])[keep]
    return _Survey(tile, mean, lo, hi, zmin, int(valid.sum()), cat)


@dataclass(frozen=True)
class _TileResult:
    tile: Tile
    rocks: np.ndarray  # (n, 4): x, y, diameter, height
    counts: dict[str, int]
    slope_hist: np.ndarray
    risk_sum: float
    risk_n: int


def _hazard_tile(job: _Job, tile: Tile, shared: _Shared) -> _TileResult:
    """Pass 2: every layer of the core, written into the output; returns counts and rocks."""
    from .craters import crater_mask
    from .rocks import detect_rocks, unresolved_rock_risk

    _set_threads(job)
    limits, res, shape = job.limits, float(job.transform.a), job.shape
    read_halo = max(job.halo, job.shadow_halo if job.sun is not None else 0)
    wr0, wr1, wc0, wc1 = tile.window(read_halo, shape)
    zr = _read(job.source, wr0, wr1, wc0, wc1)
    lr0, lr1, lc0, lc1 = tile.window(job.halo, shape)
    z = zr[lr0 - wr0 : lr1 - wr0, lc0 - wc0 : lc1 - wc0]
    core = (slice(tile.r0 - lr0, tile.r1 - lr0), slice(tile.c0 - lc0, tile.c1 - lc0))
    t_local = job.transform @ Affine.translation(lc0, lr0)
    valid = np.isfinite(z)

    half = max(1, int(round(limits.footprint_m / res / 2.0)))
    slope, slope_rover, rough, step = hk.surface_layers(z, res, half)

    resolved_d = 2.0 * res
    if isinstance(job.rock_abundance, str):
        k: float | np.ndarray = _read_plain(job.rock_abundance, lr0, lr1, lc0, lc1)
    else:
        k = job.rock_abundance
    risk = unresolved_rock_risk(
        k,
        clearance_m=limits.clearance_m,
        resolved_diameter_m=resolved_d,
        footprint_area_m2=limits.footprint_m * 2.0 * limits.rover_radius_m * 0.5,
    )
    risk = np.broadcast_to(risk, z.shape).astype(np.float32)
    risk = np.where(valid, risk, np.nan).astype(np.float32)
    rocks_cat = np.zeros((0, 4))
    if job.detect and valid.any():
        # nodata filled with the lowest height of the whole DEM, as detect_rocks does in memory
        filled = np.where(valid, z, np.float32(shared.zmin)).astype(np.float32)
        rocks, rock_cells = detect_rocks(
            filled, res, min_height_m=limits.clearance_m, transform=t_local
        )
        keep = _core_contains(tile, job.transform, rocks.x, rocks.y)
        rocks_cat = np.column_stack([rocks.x, rocks.y, rocks.diameter_m, rocks.height_m])[keep]
        del filled
    else:
        rock_cells = np.zeros(z.shape, dtype=bool)

    ch, cw = tile.r1 - tile.r0, tile.c1 - tile.c0
    t_core = job.transform @ Affine.translation(tile.c0, tile.r0)
    cmask = np.zeros((ch, cw), dtype=bool)
    if job.detect and len(shared.craters):
        x, y, d = shared.craters[:, 0], shared.craters[:, 1], shared.craters[:, 2]
        col, row = ~job.transform @ (x, y)
        rad = 0.5 * d / res + 1.0
        near = (row + rad >= tile.r0) & (row - rad <= tile.r1)
        near &= (col + rad >= tile.c0) & (col - rad <= tile.c1)
        c = shared.craters[near]
        # as hazard_map: only craters whose walls are steeper than the rover may drive
        cmask = crater_mask(
            DetectedCraters(c[:, 0], c[:, 1], c[:, 2], c[:, 3]),
            (ch, cw),
            t_core,
            min_wall_slope_deg=limits.max_slope_deg,
        )

    shadow = None
    if job.sun is not None:
        az, el = float(job.sun[0]), float(job.sun[1])
        shadow = tile_shadow(
            zr,
            (wr0, wc0),
            (tile.r0, tile.r1, tile.c0, tile.c1),
            shape,
            res,
            az,
            el,
            shared.coarse,
            job.far_factor,
        )
    del zr

    los = None
    lander_rc = None
    if job.lander is not None:
        los = shared.los.window(lr0, lr1, lc0, lc1) & valid
        lander_rc = (job.lander_rc[0] - lr0, job.lander_rc[1] - lc0)
    if shadow is not None:
        shadow_win = np.zeros(z.shape, dtype=bool)
        shadow_win[core] = shadow
    cost, keepout, bits = fuse_hazards(
        z,
        slope_rover,
        rough,
        step,
        risk,
        rock_cells,
        limits,
        t_local,
        shadow=None if shadow is None else shadow_win,
        los=los,
        lander=job.lander,
        lander_rc=lander_rc,
    )
    del rock_cells
    c = reason_counts(bits[core], keepout[core])
    del bits
    counts = {f"reason_{k}": c[k] for k in (REASONS if job.lander is not None else REASONS[:6])}
    counts["valid"] = c["valid"]
    counts["keepout_valid"] = c["keepout_valid"]
    vcore = valid[core]
    if shadow is not None:
        counts["shadow_valid"] = int((shadow & vcore).sum())
    rng = None
    if los is not None:
        rng = lander_range(res, job.lander_rc, (tile.r0, tile.r1), (tile.c0, tile.c1))
        ok = los[core] & (rng <= limits.link_range_m)
        counts["comm_ok_valid"] = int((ok & vcore).sum())
    cost = cost[core]

    sr = slope_rover[core]
    fin = np.isfinite(sr)
    hist = np.bincount(
        np.minimum((sr[fin] / SLOPE_BIN_DEG).astype(np.int64), _N_BINS - 1), minlength=_N_BINS
    )
    rc = risk[core]
    rfin = np.isfinite(rc)
    layers = {
        "elevation": z[core],
        "slope_deg": slope[core],
        "slope_rover_deg": sr,
        "roughness_m": rough[core],
        "step_m": step[core],
        "crater_mask": cmask,
        "rock_risk": rc,
        "shadow": shadow,
        "los_lander": None if los is None else los[core],
        "range_lander_m": rng,
        "cost": cost,
        "keepout": keepout[core],
    }
    if job.output is not None:
        _write_core(job.output, tile.r0, tile.c0, {n: layers[n] for n in job.output.names})
    return _TileResult(
        tile, rocks_cat, counts, hist, float(rc[rfin].sum(dtype=np.float64)), int(rfin.sum())
    )


_N_BINS = int(round(90.0 / SLOPE_BIN_DEG)) + 1


def layer_names(*, sun: bool, lander: bool) -> tuple[str, ...]:
    """Band names of a hazard GeoTIFF, in the order of :meth:`HazardMap.layers`."""
    names = [
        "elevation",
        "slope_deg",
        "slope_rover_deg",
        "roughness_m",
        "step_m",
        "crater_mask",
        "rock_risk",
    ]
    if sun:
        names.append("shadow")
    if lander:
        names += ["los_lander", "range_lander_m"]
    return (*names, "cost", "keepout")


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
    craters, rocks : DetectedCraters, DetectedRocks
        Catalogues over the whole DEM (each detection once).
    sun : (azimuth, elevation) or None
    lander : LanderSite or None
    keepout_share : dict
        Share of valid cells each keep-out reason excludes (before dilation), as ``HazardMap``.
    warnings : tuple of str
    n_tiles, tile_px, halo_px, crater_halo_px, shadow_halo_px : int
    max_crater_px : float
        Largest crater diameter searched (pixels).
    far_error_m : float or None
        Bound on the height error of the shadows' far field (see the module notes).
    los_factor : int or None
        Coarsening of the line-of-sight grid (1: full resolution).
    stats : dict
        Cell counts and sums behind :meth:`summary`.
    """

    path: pathlib.Path
    grid: Dem
    limits: HazardLimits
    craters: DetectedCraters
    rocks: DetectedRocks
    sun: tuple[float, float] | None
    lander: LanderSite | None
    keepout_share: dict[str, float]
    warnings: tuple[str, ...]
    n_tiles: int
    tile_px: int
    halo_px: int
    crater_halo_px: int
    shadow_halo_px: int
    max_crater_px: float
    far_error_m: float | None
    los_factor: int | None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def far_angle_bound_deg(self) -> float | None:
        """Largest error of the far-field horizon, degrees (None without a Sun)."""
        if self.far_error_m is None:
            return None
        near_m = max(self.halo_px, self.shadow_halo_px) * self.grid.res_m
        return math.degrees(math.atan2(self.far_error_m, near_m))

    def summary(self) -> dict[str, Any]:
        """Return the numbers of :func:`rover.pipeline.hazard_summary`, from tile counts."""
        n = max(self.stats["valid"], 1)
        s: dict[str, Any] = {
            "size_px": list(self.grid.shape),
            "res_m": self.grid.res_m,
            "keepout_fraction": self.stats["keepout_valid"] / n,
            "median_slope_rover_deg": self.stats["median_slope_rover_deg"],
            "craters_detected": len(self.craters),
            "rocks_detected": len(self.rocks),
            "mean_rock_risk": self.stats["mean_rock_risk"],
        }
        for k, v in self.keepout_share.items():
            s[f"excluded_by_{k}"] = round(v, 4)
        if self.sun is not None:
            s["sun_az_el_deg"] = [round(self.sun[0], 2), round(self.sun[1], 2)]
            s["shadow_fraction"] = self.stats["shadow_valid"] / n
        if self.lander is not None:
            s["comm_ok_fraction"] = self.stats["comm_ok_valid"] / n
        s["tiles"] = self.n_tiles
        s["tile_px"] = self.tile_px
        s["max_crater_m"] = round(self.max_crater_px * self.grid.res_m, 3)
        for i, w in enumerate(self.warnings):
            s[f"warning_{i + 1}"] = w
        return s


def _median_from_hist(hist: np.ndarray) -> float:
    total = int(hist.sum())
    if total == 0:
        return math.nan
    cum = np.cumsum(hist)
    lo = int(np.searchsorted(cum, (total + 1) // 2))
    hi = int(np.searchsorted(cum, total // 2 + 1))
    return float(0.5 * (lo + hi) * SLOPE_BIN_DEG + 0.5 * SLOPE_BIN_DEG)


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
    los_max_px: int = DEFAULT_LOS_MAX_PX,
    scheduler=None,
    num_workers: int | None = None,
    numba_threads: int | None = None,
    tags: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> TiledHazard:
    """Hazard map of a DEM file too large for memory, tile by tile on Dask, into a COG.

    The layers are those of :func:`terrain.hazard.hazard_map` (see the module notes for what
    equals the in-memory map exactly and the bounds on the rest).

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
        Run crater and rock detection.
    tile_px : int
        Tile side, a multiple of 64. Memory per worker thread grows as its square.
    max_crater_px : float
        Largest crater diameter searched (20, 40, 80, 160, ... px); sets the survey halo.
    shadow_halo_px : int
        Near-field reach of the shadows (exact within it).
    far_factor : int
        Block size of the far-field DEM (a divisor of 64).
    los_max_px : int
        Largest side of the line-of-sight box at full resolution.
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
    _check_limits(limits)
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
    res = grid.res_m
    if lander is not None and not grid.contains(lander.x, lander.y):
        b = grid.bounds
        raise HazardInputError(
            f"lander at ({lander.x:.1f}, {lander.y:.1f}) is outside the DEM "
            f"(x {b.left:.0f}..{b.right:.0f}, y {b.bottom:.0f}..{b.top:.0f}); give a position on it"
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
            _create_output(tmp_path, names, grid, tags)
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
                local_halo_px(limits, res),
                max(int(shadow_halo_px), 0),
                int(far_factor),
                sun,
                lander,
                None if lander is None else grid.rowcol(lander.x, lander.y),
                k_spec,
                output,
                numba_threads,
            )
            result = _run(
                job,
                tiles,
                grid,
                client,
                scheduler,
                num_workers,
                los_max_px,
                warnings,
                report,
                int(tile_px),
            )
            report(0.9, "writing the COG")
            t0 = time.perf_counter()
            _finish_output(tmp_path, out_path, grid.shape)
            result.stats["cog_s"] = time.perf_counter() - t0
        finally:
            tmp_path.unlink(missing_ok=True)
    report(1.0, "done")
    return replace(result, path=out_path)


def _run(
    job: _Job,
    tiles,
    grid: Dem,
    client,
    scheduler,
    num_workers,
    los_max_px,
    warnings,
    report,
    tile_px,
) -> TiledHazard:
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
    coarse = far_error = None
    if job.sun is not None:
        coarse, relief = _assemble_coarse(survey, grid.shape, job.far_factor)
        rise = 0.5 * job.far_factor * grid.res_m * math.sqrt(2.0)
        far_error = relief + rise * max(math.tan(math.radians(job.sun[1])), 0.0)
    del survey
    t1 = time.perf_counter()

    los = None
    los_factor = None
    if job.lander is not None:
        report(0.3, "line of sight")
        los = lander_los(job.source, grid, job.limits, job.lander, max_px=los_max_px)
        los_factor = los.factor

    t2 = time.perf_counter()
    # pass 2: hazard layers
    done[0] = 0
    shared = share(_Shared(craters, zmin, coarse, los), client)
    results = compute_tasks(
        [dask.delayed(_hazard_tile, pure=False)(job, t, shared) for t in tiles],
        sched,
        num_workers=num_workers,
        on_result=tick(0.35, 0.55, "hazard"),
    )
    counts: dict[str, int] = {}
    hist = np.zeros(_N_BINS, dtype=np.int64)
    risk_sum, risk_n = 0.0, 0
    for r in results:
        for k, v in r.counts.items():
            counts[k] = counts.get(k, 0) + v
        hist += r.slope_hist
        risk_sum += r.risk_sum
        risk_n += r.risk_n
    rocks = np.concatenate([r.rocks for r in results]) if results else np.zeros((0, 4))
    nv = max(counts["valid"], 1)
    shares = {
        k[len("reason_") :]: counts[k] / nv
        for k in counts
        if k.startswith("reason_") and k != "reason_nodata"
    }
    if counts["keepout_valid"] >= counts["valid"]:
        worst = max(shares, key=shares.get)
        warnings.append(
            f"every cell is keep-out; the '{worst}' layer alone excludes {shares[worst]:.0%} of "
            "the DEM: relax that limit or check the DEM's units"
        )
    stats: dict[str, Any] = dict(counts)
    stats.update(survey_s=t1 - t0, los_s=t2 - t1, hazard_s=time.perf_counter() - t2)
    stats["median_slope_rover_deg"] = _median_from_hist(hist)
    stats["mean_rock_risk"] = risk_sum / risk_n if risk_n else math.nan
    return TiledHazard(
        path=pathlib.Path(job.output.path) if job.output else pathlib.Path(),
        grid=grid,
        limits=job.limits,
        craters=DetectedCraters(*(craters[:, i].copy() for i in range(4))),
        rocks=DetectedRocks(*(rocks[:, i].copy() for i in range(4))),
        sun=job.sun,
        lander=job.lander,
        keepout_share=shares,
        warnings=tuple(warnings),
        n_tiles=len(tiles),
        tile_px=tile_px,
        halo_px=job.halo,
        crater_halo_px=job.crater_halo,
        shadow_halo_px=job.shadow_halo,
        max_crater_px=job.max_crater_px,
        far_error_m=far_error,
        los_factor=los_factor,
        stats=stats,
    )


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
