"""Raster and vector I/O: the only module that opens files with rasterio.

``read_dem`` turns any raster GDAL reads into a :class:`~terrain.dem.Dem` on a square metric grid;
``write_geotiff`` writes named bands as a Cloud-Optimized GeoTIFF, atomically;
``write_geojson`` writes vector features with the Moon CRS attached.

For rasters larger than memory (:mod:`terrain.tiled`): :func:`open_source` describes a DEM file
without reading it, :func:`read_window` reads a window of it in metres,
:func:`create_tiled_geotiff` / :func:`write_window` / :func:`finish_cog` build a hazard GeoTIFF
window by window and turn it into a COG, and :func:`read_layers_decimated` reads a large one
through its overviews.

Band data types: a GeoTIFF holds one sample type for all its bands (GDAL's GTiff and COG
drivers). Layers with both float and integer bands (float32 layers beside uint8 masks) are
written as two COGs: the float bands in the named file, the integer bands as byte bands in its
companion ``NAME_masks.tif`` (:func:`masks_path`) beside it. The named file's tags record every
band's type in order (``frigoris_band_dtypes``) and the companion's name
(``frigoris_masks_file``); :func:`read_layers` reads both and gives every band back in its own
type and order.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pathlib
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import rasterio
import rasterio.errors
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import MaskFlags, Resampling
from rasterio.io import MemoryFile
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from .crs import (
    MOON_RADIUS_M,
    check_lunar,
    crs_to_lunar,
    is_metric_projected,
    local_metric_crs,
    lunar_to_crs,
    to_rasterio,
)
from .dem import SQUARE_RTOL, Dem
from .errors import (
    DemNotFoundError,
    EmptyDemError,
    GridError,
    MissingCrsError,
    TerrainError,
    UnreadableDemError,
    WindowOutsideError,
)

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

_SCALE_RTOL = 2e-3  # ground/map scale mismatch above which we resample (slope error < 0.2 %)
_KM_UNITS = {"km", "kilometer", "kilometers", "kilometre", "kilometres"}

MIN_DEM_PX = 8
"""A DEM narrower than this in either direction is refused: the hazard kernels' windows are up
to 5 pixels wide and the outermost ring of cells carries no slope."""

MAX_RELIEF_M = 30_000.0
"""Heights beyond this from the 1,737,400 m sphere are not lunar elevations (the Moon's relief
spans about -9.1 km to +10.8 km): a unit, scale or offset problem in the file."""

MEMORY_SHARE = 0.5
"""A DEM is read whole only if it needs at most this share of the memory free now (the hazard
map needs several times the DEM array); larger ones go in tiles."""


def _available_bytes(meminfo: PathLike = "/proc/meminfo") -> int:
    """Memory a new allocation can get now: the kernel's MemAvailable.

    Free pages alone (``SC_AVPHYS_PAGES``) leave out the page cache, which the kernel gives
    back on demand: after reading a few files, "free" falls to a few hundred MB on a machine
    with gigabytes available, and a DEM that fits was refused.
    """
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on Linux
        return 1 << 62


def _check_read_size(path: PathLike, rows: int, cols: int) -> None:
    """Refuse a read too small for the kernels or too large for memory, before allocating."""
    if rows < MIN_DEM_PX or cols < MIN_DEM_PX:
        raise GridError(
            f"DEM {str(path)!r} is {cols} x {rows} pixels (columns x rows); frigoris needs at "
            f"least {MIN_DEM_PX} x {MIN_DEM_PX}"
        )
    need = rows * cols * 8  # float64 while converting units
    free = _available_bytes()
    if need > MEMORY_SHARE * free:
        raise GridError(
            f"DEM {str(path)!r} is {cols} x {rows} pixels: {need / 2**30:.3g} GiB to read, more "
            f"than this machine can spare ({free / 2**30:.3g} GiB free); process it in tiles "
            "(frigoris hazard --tile 2048) or read a window of it"
        )


PathLike = str | os.PathLike
GDAL_CACHE_MB = 256
"""GDAL block cache for windowed I/O (GDAL's default, 5 % of RAM, would count against the
memory budget of tiled jobs)."""
BAND_DTYPES_TAG = "frigoris_band_dtypes"
"""Tag recording each band's own data type (and the bands' order) when their types differ."""
MASKS_FILE_TAG = "frigoris_masks_file"
"""Tag naming the companion file that holds a file's integer bands (:func:`masks_path`)."""


def masks_path(path: PathLike) -> pathlib.Path:
    """The companion of a GeoTIFF that holds its integer bands (``NAME_masks.tif``).

    Examples
    --------
    >>> masks_path("out/hazard.tif").as_posix()
    'out/hazard_masks.tif'
    """
    p = pathlib.Path(path)
    return p.with_name(f"{p.stem}_masks{p.suffix}")


def _split_by_kind(types: Mapping[str, np.dtype]) -> list[list[str]]:
    """Band names grouped by file: the float bands, then the integer and boolean ones.

    One group when every band is of one kind (a single file); empty groups are left out.
    """
    floats = [n for n, t in types.items() if t.kind == "f"]
    others = [n for n, t in types.items() if t.kind != "f"]
    return [g for g in (floats, others) if g]


def _files_of(
    path: PathLike, types: Mapping[str, np.dtype], tags: Mapping[str, Any], *, named: bool = True
) -> list[tuple[pathlib.Path, list[str], dict[str, Any]]]:
    """Which file holds which bands, with its tags: ``path`` alone, or it and its companion.

    Every band's type goes on ``path`` when the types differ; the companion gets its own bands'
    types. ``named``: ``path`` names its companion now (false where the name is known only when
    the file is moved into place, :func:`finish_cog`).
    """
    tags = dict(tags)
    if len(set(types.values())) > 1:
        tags[BAND_DTYPES_TAG] = {n: t.name for n, t in types.items()}
    groups = _split_by_kind(types)
    if len(groups) == 1:
        return [(pathlib.Path(path), groups[0], tags)]
    companion = masks_path(path)
    own = {n: types[n].name for n in groups[1]}
    return [
        (
            pathlib.Path(path),
            groups[0],
            {**tags, **({MASKS_FILE_TAG: companion.name} if named else {})},
        ),
        (companion, groups[1], {**tags, BAND_DTYPES_TAG: own}),
    ]


def _open(path: PathLike) -> rasterio.DatasetReader:
    p = pathlib.Path(path)
    if not p.exists():
        raise DemNotFoundError(f"DEM file {str(p)!r} does not exist; check the path")
    if p.is_dir():
        raise UnreadableDemError(f"{str(p)!r} is a folder, not a raster file; give the DEM file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with _gdal_threads():  # (read at open time: the reads decode on every core)
                return rasterio.open(p)
    except rasterio.errors.RasterioIOError as err:
        raise UnreadableDemError(
            f"GDAL cannot read {str(p)!r} as a raster ({str(err).splitlines()[0]}); "
            "give a GeoTIFF, PDS .LBL/.IMG or another GDAL raster"
        ) from err


def _to_metres(values: np.ndarray, scale: float, offset: float, units: str) -> np.ndarray:
    """Apply band scale/offset and units; heights relative to the Moon sphere, never radii.

    Works in float64 only when the numbers need it (a radius offset of ~1.7e6 m would lose
    decimetres in float32); otherwise in float32, in place, so a DEM is not copied repeatedly.
    """
    factor = scale * (1000.0 if units.strip().lower() in _KM_UNITS else 1.0)
    shift = offset * (1000.0 if units.strip().lower() in _KM_UNITS else 1.0)
    sample = values.ravel()[:: max(1, values.size // 100_000)].astype(np.float64) * factor + shift
    sample = sample[np.isfinite(sample)]
    radius = sample.size > 0 and float(np.median(sample)) > 0.5 * MOON_RADIUS_M
    if radius:
        # The product stores planetary radius (LOLA PDS labels put 1737400 m in OFFSET).
        log.info("values look like radii: subtracting %.0f m", MOON_RADIUS_M)
        shift -= MOON_RADIUS_M
    if abs(shift) > 1e5 or radius:
        z = values.astype(np.float64) * factor + shift
        return z.astype(np.float32)
    z = values.astype(np.float32, copy=False)
    if factor != 1.0:
        z *= np.float32(factor)
    if shift != 0.0:
        z += np.float32(shift)
    return z


def _ground_spacing(src_crs: CRS, transform: Affine, col: float, row: float, dst_crs: CRS):
    """Ground length (m) of one pixel step along columns and along rows at (col, row)."""
    from rasterio.warp import transform as warp_transform

    pts = [transform @ (col, row), transform @ (col + 1, row), transform @ (col, row + 1)]
    xs, ys = warp_transform(src_crs, dst_crs, [p[0] for p in pts], [p[1] for p in pts])
    dx = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
    dy = math.hypot(xs[2] - xs[0], ys[2] - ys[0])
    return dx, dy


def _is_square_metric(src_crs: CRS, transform: Affine, col: float, row: float) -> bool:
    """True when the grid can be used as it is: metric, north-up, square *on the ground*.

    Square map pixels are not enough: equirectangular with lat_ts=0 has square map pixels that
    are 2:1 on the ground at 60 N, and polar stereographic is 6.9 % off scale there. So we
    measure one pixel step along each axis on the ground (through a local TM at the point).
    """
    if transform.b != 0 or transform.d != 0 or transform.e >= 0 or transform.a <= 0:
        return False
    if not is_metric_projected(src_crs):
        return False
    if abs(abs(transform.a) - abs(transform.e)) > SQUARE_RTOL * abs(transform.a):
        return False
    lat, lon = crs_to_lunar(src_crs, *(transform @ (col, row)))
    dx, dy = _ground_spacing(src_crs, transform, col, row, local_metric_crs(lat, lon))
    return (
        abs(dx / transform.a - 1.0) <= _SCALE_RTOL and abs(dy / -transform.e - 1.0) <= _SCALE_RTOL
    )


def read_dem(
    path: PathLike,
    *,
    around: tuple[float, float] | None = None,
    size_m: float | None = None,
    crs: CRS | str | None = None,
    band: int = 1,
) -> Dem:
    """Read a lunar DEM into a square metric grid.

    Parameters
    ----------
    path : str or path-like
        Any raster GDAL reads (GeoTIFF, PDS3 ``.LBL``/``.IMG``, ISIS cubes, ...).
    around : (lat_deg, lon_deg), optional
        Cut a square of ``size_m`` metres centred on this selenographic position, reading only
        that window of the file.
    size_m : float, optional
        Side of the square cut with ``around``.
    crs : CRS or str, optional
        CRS to assume when the file has none (e.g. ``"IAU_2015:30100"``); overrides the file's.
    band : int
        Band holding elevation.

    Returns
    -------
    Dem
        Heights in metres relative to the 1,737,400 m sphere, NaN for nodata. Grids already in a
        projected metric CRS with square pixels are returned without resampling; geographic or
        anisotropic grids are reprojected (bilinear) to a local transverse Mercator on the Moon
        sphere centred on the area, at the finer of the two ground spacings.

    Raises
    ------
    DemNotFoundError, UnreadableDemError, MissingCrsError, EarthCrsError, NotLunarCrsError,
    EmptyDemError, WindowOutsideError

    Examples
    --------
    The real LOLA 5 m DEM near Shoemaker crater kept in the repository's examples, and a cut of
    at least 500 m around a position (read with a margin for the hazard windows):

    >>> import pathlib
    >>> import frigoris
    >>> tif = (pathlib.Path(frigoris.__file__).parent / "examples" / "data"
    ...        / "shoemaker_5mpp_south_pole.tif")
    >>> dem = read_dem(tif)
    >>> dem.res_m, dem.crs.is_projected
    (5.0, True)
    >>> cut = read_dem(tif, around=(-87.18, 62.8), size_m=500)
    >>> cut.res_m, cut.shape[0] * cut.res_m >= 500
    (5.0, True)
    """
    if (around is None) != (size_m is None):
        raise TerrainError("around= and size_m= go together: give both, or neither")
    if size_m is not None and not (size_m > 0 and math.isfinite(size_m)):
        raise TerrainError(f"size_m must be a positive number of metres, got {size_m!r}")
    if around is not None:
        lat, lon = around
        if not (-90.0 <= lat <= 90.0):
            raise TerrainError(f"latitude {lat} is outside [-90, 90]; give around=(lat, lon)")

    if crs is not None:
        try:
            crs = to_rasterio(crs)
        except (rasterio.errors.CRSError, pyproj.exceptions.CRSError):
            raise GridError(
                f"CRS {str(crs)!r} is not one GDAL/PROJ knows; give e.g. IAU_2015:30100 (Moon "
                "geographic) or IAU_2015:30130 (north polar stereographic)"
            ) from None
    with _open(path) as src:
        if band < 1 or band > src.count:
            raise UnreadableDemError(f"{path} has {src.count} band(s); band {band} does not exist")
        src_crs = crs if crs is not None else src.crs
        if src_crs is None:
            raise MissingCrsError(
                f"DEM {str(path)!r} has no CRS; pass --crs IAU_2015:30100 (or the right Moon CRS) "
                "or write one into the file"
            )
        check_lunar(src_crs)
        scale = float(src.scales[band - 1] or 1.0)
        offset = float(src.offsets[band - 1] or 0.0)
        units = (src.units[band - 1] or "") if src.units else ""
        transform = src.transform

        if around is not None:
            probe_col, probe_row = ~transform @ lunar_to_crs(src_crs, *around)
        else:
            probe_col, probe_row = src.width / 2.0, src.height / 2.0
        square = _is_square_metric(src_crs, transform, probe_col, probe_row)
        window = None
        if around is not None:
            window = _window_around(src, src_crs, around, size_m, margin_px=0 if square else 2)
        _check_read_size(
            path,
            src.height if window is None else int(window.height),
            src.width if window is None else int(window.width),
        )
        raw = src.read(band, window=window)
        nodata = src.nodatavals[band - 1]
        only_nodata = list(src.mask_flag_enums[band - 1]) == [MaskFlags.nodata]
        if only_nodata and raw.dtype.kind == "f" and nodata is not None and math.isnan(nodata):
            # GDAL's mask of a NaN nodata value is the NaN cells: no second decode of the file
            invalid = np.isnan(raw)
        else:
            invalid = ~src.read_masks(band, window=window).astype(bool)
        win_transform = (
            transform @ Affine.translation(window.col_off, window.row_off)
            if window is not None
            else transform
        )

    if raw.dtype.kind != "f" or np.dtype(raw.dtype).itemsize > 4 or abs(offset) > 1e5:
        raw = raw.astype(np.float64)
    raw[invalid] = np.nan
    del invalid
    elev = _to_metres(raw, scale, offset, units)
    del raw
    if not np.isfinite(elev).any():
        raise EmptyDemError(
            f"every cell of {str(path)!r} is nodata"
            + (" in the requested window" if window is not None else "")
            + "; check the file's nodata value or choose another area"
        )
    extreme = float(np.nanmax(np.abs(elev)))
    if extreme > MAX_RELIEF_M:
        raise UnreadableDemError(
            f"{str(path)!r} holds heights up to {extreme:.4g} m from the Moon sphere; lunar relief "
            f"spans about -9.1 to +10.8 km: check the file's units, scale and offset (or its "
            "nodata value)"
        )

    if square:
        return Dem(elev, win_transform, src_crs)
    return _reproject_local(elev, win_transform, src_crs, around, size_m)


def _window_around(src, src_crs, around, size_m, margin_px: int) -> Window:
    lat, lon = around
    half = size_m / 2.0
    dst = local_metric_crs(lat, lon)
    left, bottom, right, top = transform_bounds(
        dst, src_crs, -half, -half, half, half, densify_pts=21
    )
    win = from_bounds(left, bottom, right, top, transform=src.transform)
    win = win.round_offsets(op="floor").round_lengths(op="ceil")
    win = Window(
        win.col_off - margin_px,
        win.row_off - margin_px,
        win.width + 2 * margin_px,
        win.height + 2 * margin_px,
    )
    full = Window(0, 0, src.width, src.height)
    try:
        clipped = win.intersection(full)
    except rasterio.errors.WindowError:
        clipped = None
    if clipped is None or clipped.width < 1 or clipped.height < 1:
        db = src.bounds
        raise WindowOutsideError(
            f"the {size_m:g} m square around ({lat}, {lon}) lies outside the DEM "
            f"(bounds {db.left:.0f}, {db.bottom:.0f}, {db.right:.0f}, {db.top:.0f} in its CRS); "
            "choose a position inside the data"
        )
    if (clipped.width, clipped.height) != (win.width, win.height):
        log.warning(
            "window around (%s, %s) is partly outside the DEM; the rest is nodata", lat, lon
        )
    return Window(
        int(clipped.col_off), int(clipped.row_off), int(clipped.width), int(clipped.height)
    )


def _reproject_local(elev, transform, src_crs, around, size_m) -> Dem:
    rows, cols = elev.shape
    if around is not None:
        lat0, lon0 = around
    else:
        cx, cy = transform @ (cols / 2.0, rows / 2.0)
        lat0, lon0 = crs_to_lunar(src_crs, cx, cy)
    dst_crs = local_metric_crs(lat0, lon0)
    dx, dy = _ground_spacing(src_crs, transform, cols / 2.0, rows / 2.0, dst_crs)
    res = min(dx, dy)
    if around is not None:
        half = size_m / 2.0
        n = max(1, int(round(size_m / res)))
        res = size_m / n
        left, top = -half, half
        width = height = n
    else:
        h, w = rows, cols
        left_s, top_s = transform @ (0, 0)
        right_s, bottom_s = transform @ (w, h)
        left, bottom, right, top = transform_bounds(
            src_crs,
            dst_crs,
            min(left_s, right_s),
            min(bottom_s, top_s),
            max(left_s, right_s),
            max(bottom_s, top_s),
            densify_pts=41,
        )
        width = max(1, int(math.ceil((right - left) / res)))
        height = max(1, int(math.ceil((top - bottom) / res)))
    dst_transform = Affine(res, 0.0, left, 0.0, -res, top)
    out = np.full((height, width), np.nan, dtype=np.float32)
    reproject(
        source=elev.astype(np.float32),
        destination=out,
        src_transform=transform,
        src_crs=src_crs,
        src_nodata=np.nan,
        dst_transform=dst_transform,
        dst_crs=dst_crs,
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    if not np.isfinite(out).any():
        raise EmptyDemError("the DEM holds no data after reprojection to a local metric grid")
    log.info(
        "reprojected %dx%d grid to local TM at %.4f, %.4f (%.3f m/px)", rows, cols, lat0, lon0, res
    )
    return Dem(out, dst_transform, dst_crs)


def _layers_dict(layers, like: Dem) -> dict[str, np.ndarray]:
    if isinstance(layers, np.ndarray):
        layers = {"elevation": layers}
    if not isinstance(layers, Mapping) or not layers:
        raise TerrainError("layers must be an array or a non-empty mapping of name -> array")
    out = {}
    for name, arr in layers.items():
        a = np.asarray(arr)
        if a.shape != like.shape:
            raise TerrainError(f"layer {name!r} has shape {a.shape}, grid is {like.shape}")
        out[str(name)] = a
    return out


def _overview_levels(shape: tuple[int, int], blocksize: int) -> list[int]:
    levels, f = [], 2
    while max(shape) / f >= blocksize / 2 and f <= 1024:
        levels.append(f)
        f *= 2
    return levels


def _storage_dtype(dtypes: Sequence[np.dtype]) -> np.dtype:
    """The smallest GDAL type that holds every band's type exactly (bool counts as uint8)."""
    common = np.result_type(*dtypes)
    if common == np.bool_:
        return np.dtype("uint8")
    if common.kind == "f" and common.itemsize < 4:
        return np.dtype("float32")
    if common.kind in "iu" and common.itemsize > 4 or common.kind == "f" and common.itemsize > 8:
        raise TerrainError(f"no GeoTIFF band type holds {common}")
    return common


COG_CODEC = "ZSTD"
COG_LEVEL = 1
"""Compression of every GeoTIFF frigoris writes, chosen by measurement (``python -m benchmarks
cog``): ZSTD level 1 writes a hazard map's bands several times faster than DEFLATE at its
default level, and the files are within a few percent of its size. GDAL reads it since 2.3
(QGIS, gdalinfo)."""


def cog_predictor(is_float: bool, bands: int) -> str:
    """The TIFF predictor of a file: "3" (floating point) for one float band, else "2".

    Chosen by measurement (``python -m benchmarks cog``). A COG interleaves its bands pixel by
    pixel, and the floating-point predictor shuffles the bytes of a whole row of pixels, so on a
    stack of unlike bands (a hazard map's 14) it mixes their bytes: horizontal differencing
    gives files about a tenth smaller there, written in about two thirds of the time. On one
    band (a DEM) the floating-point predictor is the better one (a fifth smaller).
    """
    return "3" if is_float and bands == 1 else "2"


def _cog_options(is_float: bool, blocksize: int, levels: list[int], bands: int) -> dict[str, Any]:
    """COG driver options: the codec above, a predictor for the samples, every core."""
    return dict(
        driver="COG",
        compress=COG_CODEC,
        level=COG_LEVEL,
        predictor=cog_predictor(is_float, bands),
        blocksize=blocksize,
        overviews="FORCE_USE_EXISTING" if levels else "NONE",
        BIGTIFF="IF_SAFER",
        NUM_THREADS="ALL_CPUS",
    )


def _gdal_threads() -> rasterio.Env:
    """GDAL's environment for using every core (``GDAL_NUM_THREADS``): decoding and overviews.

    - Overviews: GDAL splits the work by overview block; each block's average is computed as on
      one thread, so the overviews are the same bytes, in about two thirds of the time on two
      cores (a hazard map's 14 bands at 4096^2: 2.1 s on one thread, 1.3 s on two).
    - Reading: a file opened under it decodes the compressed blocks of one read on every core
      (GDAL 3.6+), the same values in half the time (a ZSTD DEM of 4096^2: 0.2 s, 0.1 s).
    """
    return rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS")


def write_geotiff(
    path: PathLike,
    layers: Mapping[str, np.ndarray] | np.ndarray,
    like: Dem,
    *,
    tags: Mapping[str, Any] | None = None,
    dtype: str | Mapping[str, str] = "float32",
) -> pathlib.Path:
    """Write one or many named bands as a Cloud-Optimized GeoTIFF on ``like``'s grid.

    Parameters
    ----------
    path : path-like
        Destination. Written to a temporary file in the same folder and moved into place, so a
        failure never leaves a half-written file.
    layers : ndarray of shape (M, N) or mapping of name to ndarray of shape (M, N)
        Bands in order; the names become band descriptions (a bare array is named "elevation").
    like : Dem
        Supplies CRS and transform.
    tags : mapping, optional
        Dataset metadata tags (provenance).
    dtype : str or mapping of band name to str
        Data type of every band, or of each band (bands not named are float32). A GeoTIFF holds
        one sample type: float bands go to ``path`` and integer bands (uint8 masks) to its
        companion :func:`masks_path` as byte bands, each file in the smallest type that holds
        its bands exactly. Tags on ``path`` record every band's own type and order
        (``frigoris_band_dtypes``) and the companion's name (``frigoris_masks_file``) for
        :func:`read_layers`; the companion carries the same tags but that name. Float bands
        store NaN as nodata. Overviews average float bands and pick the nearest cell of the
        others.

    Returns
    -------
    pathlib.Path
        The written path (the companion, when there is one, is :func:`masks_path` of it; it is
        moved into place first).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from frigoris.terrain import Dem, local_metric_crs
    >>> grid = Dem.from_array(np.zeros((4, 4), np.float32), res_m=1.0,
    ...                       crs=local_metric_crs(60.5, -4.6))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.tif"
    >>> _ = write_geotiff(out, {"z": grid.elevation, "mask": np.eye(4, dtype=np.uint8)}, grid,
    ...                   dtype={"mask": "uint8"})
    >>> layers, _ = read_layers(out)
    >>> layers["mask"].dtype, layers["z"].dtype
    (dtype('uint8'), dtype('float32'))
    >>> sorted(p.name for p in out.parent.iterdir())
    ['x.tif', 'x_masks.tif']
    """
    bands = _layers_dict(layers, like)
    if isinstance(dtype, Mapping):
        unknown = sorted(set(dtype) - set(bands))
        if unknown:
            raise TerrainError(f"dtype names band(s) {unknown} that are not among the layers")
        types = {n: np.dtype(dtype.get(n, "float32")) for n in bands}
    else:
        types = {n: np.dtype(dtype) for n in bands}
    dest = pathlib.Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    files = _files_of(dest, types, tags or {})  # float layers here, integer bands beside
    tmps: list[str] = []
    try:
        for target, names, file_tags in files:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp.tif", dir=dest.parent
            )
            os.close(fd)
            tmps.append(tmp)
            group = {n: bands[n] for n in names}
            _write_cog(tmp, group, [types[n] for n in names], like, file_tags)
        for (target, _, _), tmp in reversed(list(zip(files, tmps, strict=True))):
            _publish(tmp, target)  # the companion first: the named file points to it
    except BaseException:
        for tmp in tmps:
            pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _write_cog(
    tmp: str, bands: Mapping[str, np.ndarray], types: Sequence[np.dtype], like: Dem, tags
) -> None:
    """One COG of bands of one kind, stored in the smallest type that holds them all.

    Overviews average float layers and pick the nearest cell of integer bands (masks and bit
    fields, whose averages mean nothing).
    """
    store = _storage_dtype(types)
    rows, cols = like.shape
    is_float = store.kind == "f"
    blocksize = 512 if max(rows, cols) > 512 else 256
    profile = dict(
        driver="GTiff",
        width=cols,
        height=rows,
        count=len(bands),
        dtype=store.name,
        crs=like.crs,
        transform=like.transform,
        nodata=np.nan if is_float else None,
    )
    # The staging copy in memory is tiled like the COG, band after band: the overviews are
    # averaged band by band (half the time of pixel interleave) and the COG driver reads whole
    # tiles (a third less time to copy than from strips); the COG still interleaves its bands
    # by pixel.
    staging = dict(tiled=True, blockxsize=blocksize, blockysize=blocksize, interleave="band")
    # a bounded block cache (gdal_env): under GDAL's default (5 % of RAM) averaging the
    # overviews of a 4096^2 hazard map spent 0.6 s more in the kernel, faulting in pages for new
    # cache blocks; the file is the same bytes
    with gdal_env(), MemoryFile() as mem:
        with mem.open(**profile, **staging) as ds:
            for i, ((name, arr), t) in enumerate(zip(bands.items(), types, strict=True), start=1):
                band = arr.astype(t, copy=False).astype(store, copy=False)
                # as a (1, M, N) view with its index list: a bare 2-d band is copied into a new
                # 3-d array by rasterio first (np.stack), 64 MB a band at 4096^2
                ds.write(band[np.newaxis], [i])
                ds.set_band_description(i, name)
            if tags:
                ds.update_tags(**{k: _tag_value(v) for k, v in tags.items()})
            levels = _overview_levels((rows, cols), blocksize)
            if levels:
                with _gdal_threads():
                    ds.build_overviews(levels, _overview_resampling(is_float))
        with mem.open() as ds:
            rasterio.shutil.copy(ds, tmp, **_cog_options(is_float, blocksize, levels, len(bands)))


def _overview_resampling(is_float: bool) -> Resampling:
    """Average for float layers; nearest for masks and bit fields (an average of bits is noise)."""
    return Resampling.average if is_float else Resampling.nearest


def _publish(tmp: str, dest: pathlib.Path) -> None:
    """Give the temporary file normal permissions (mkstemp makes it 0600) and move it in place."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, dest)


def _tag_value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, default=str)


def _band_dtypes(ds) -> dict[str, str]:
    text = ds.tags().get(BAND_DTYPES_TAG)
    try:
        return dict(json.loads(text)) if text else {}
    except (ValueError, TypeError):
        return {}


def _restore(a: np.ma.MaskedArray, dtype: str | None) -> np.ndarray:
    """A band as read (masked) in its own type: floats with NaN for nodata."""
    if dtype is None or np.dtype(dtype).kind == "f":
        return np.ma.filled(a.astype(np.float32 if dtype is None else dtype), np.nan)
    return np.ma.filled(a, 0).astype(dtype)


def read_layers(path: PathLike) -> tuple[dict[str, np.ndarray], Dem]:
    """Read every band of a GeoTIFF written by :func:`write_geotiff` (name -> array) and its grid.

    Bands come back in their own data type when the file records one (``frigoris_band_dtypes``),
    float32 with NaN for nodata otherwise, and with the bands of its companion
    (``frigoris_masks_file``, :func:`masks_path`) in the order they were written. The returned
    Dem carries the grid (transform, CRS) with the file's first band (not its companion's) as
    its elevation.
    """
    with _open(path) as src:
        if src.crs is None:
            raise MissingCrsError(f"{str(path)!r} has no CRS; it was not written by frigoris")
        types = _band_dtypes(src)
        arrays = _read_bands(src, types)
        transform, crs, shape = src.transform, src.crs, src.shape
        companion = src.tags().get(MASKS_FILE_TAG)
    first = next(iter(arrays.values()))
    grid = Dem(first.astype(np.float32, copy=False), transform, crs)
    if companion:
        with _open_companion(path, companion, transform, crs, shape) as src:
            arrays.update(_read_bands(src, types))
        arrays = {n: arrays[n] for n in types if n in arrays} | arrays  # the written order
    return arrays, grid


def _read_bands(src, types: Mapping[str, str]) -> dict[str, np.ndarray]:
    names = [d or f"band{i}" for i, d in enumerate(src.descriptions, start=1)]
    return {
        name: _restore(src.read(i, masked=True), types.get(name))
        for i, name in enumerate(names, start=1)
    }


def _open_companion(path: PathLike, name: str, transform, crs, shape) -> rasterio.DatasetReader:
    """The companion file named in ``path``'s tags, checked to lie on the same grid."""
    p = pathlib.Path(path)
    companion = p.with_name(name)
    if not companion.exists():
        raise UnreadableDemError(
            f"{str(p)!r} keeps its masks in {name!r}, which is not beside it; copy {name} "
            f"with {p.name}, or write the file again"
        )
    src = _open(companion)
    if src.shape != shape or src.transform != transform or src.crs != crs:
        src.close()
        raise UnreadableDemError(
            f"{str(companion)!r} is not on the grid of {p.name}: it belongs to another run; "
            "write the file again"
        )
    return src


def read_tags(path: PathLike) -> dict[str, str]:
    """Dataset metadata tags of a raster."""
    with _open(path) as src:
        return dict(src.tags())


def write_geojson(
    path: PathLike,
    features: Iterable[Mapping[str, Any]],
    crs: CRS,
    *,
    properties: Mapping[str, Any] | None = None,
) -> pathlib.Path:
    """Write GeoJSON features with coordinates in ``crs`` (a Moon CRS), atomically.

    RFC 7946 GeoJSON assumes Earth (WGS 84) longitudes and latitudes, which would misplace
    lunar data in QGIS. We write map coordinates in the DEM's CRS and name that CRS with the
    2008 GeoJSON ``crs`` member holding its WKT, which GDAL/QGIS read
    (``OGRSpatialReference::SetFromUserInput``). Each feature also carries ``lat_deg``/``lon_deg``
    properties when it has a point geometry, so the file stays useful without GIS.
    """
    dest = pathlib.Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": to_rasterio(crs).to_wkt()}},
        "features": [dict(f) for f in features],
    }
    if properties:
        collection["properties"] = dict(properties)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            # dumps, not dump: json.dump streams through the pure-Python encoder, several
            # times slower on a catalogue of thousands of craters; the text is the same
            fh.write(json.dumps(collection, default=_json_default, allow_nan=False))
        _publish(tmp, dest)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def write_text(path: str | os.PathLike, text: str) -> pathlib.Path:
    """Write a text file atomically (a temporary file beside it, then moved into place).

    A failure leaves no partial file and no temporary one behind.
    """
    dest = pathlib.Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        _publish(tmp, dest)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _json_default(o: Any):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


def point_features(crs: CRS, x, y, **columns: Any) -> list[dict[str, Any]]:
    """GeoJSON Point features at map coordinates (x, y), one per element, with lat/lon added.

    ``columns`` are per-feature property arrays (or scalars shared by all features).
    """
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    lat, lon = crs_to_lunar(crs, x, y) if x.size else (x, y)
    lat, lon = np.atleast_1d(lat), np.atleast_1d(lon)
    cols = {k: np.broadcast_to(np.asarray(v, dtype=object), x.shape) for k, v in columns.items()}
    features = []
    for i in range(x.size):
        props = {k: _plain(v[i]) for k, v in cols.items()}
        props.update(lat_deg=round(float(lat[i]), 7), lon_deg=round(float(lon[i]), 7))
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(x[i]), float(y[i])]},
                "properties": props,
            }
        )
    return features


def point_feature(crs: CRS, x: float, y: float, **props: Any) -> dict[str, Any]:
    """One GeoJSON Point feature at map (x, y) with lat/lon properties added."""
    return point_features(crs, [x], [y], **{k: [v] for k, v in props.items()})[0]


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def lunar_xy(crs: CRS, lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """Map coordinates in ``crs`` of a selenographic position (re-exported for callers)."""
    return lunar_to_crs(crs, lat_deg, lon_deg)


# --------------------------------------------------------------------------------------------
# windowed I/O for rasters larger than memory (terrain.tiled)


def gdal_env() -> rasterio.Env:
    """The GDAL environment of windowed I/O: a bounded block cache (``GDAL_CACHE_MB``)."""
    return rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB)


@dataclass(frozen=True)
class RasterSource:
    """How to turn a window of a DEM file into metres (small and picklable, for workers).

    ``factor`` is 1000 for a file in km; ``minus_m`` the sphere radius when the file stores
    radii (LOLA PDS products), else 0.
    """

    path: str
    band: int
    scale: float
    offset: float
    factor: float
    minus_m: float


def open_source(path: PathLike, *, band: int = 1) -> tuple[RasterSource, Dem]:
    """Check a DEM file for windowed use and describe it, reading no more than a sample.

    Returns
    -------
    source : RasterSource
        What :func:`read_window` needs.
    grid : Dem
        The grid (shape, transform, CRS) with a zero-stride NaN elevation: no data is read.

    Raises
    ------
    DemNotFoundError, UnreadableDemError, MissingCrsError, NotLunarCrsError, GridError
        As :func:`read_dem`; a grid that is not north-up, square and metric cannot be
        reprojected window by window (``gdalwarp`` it first).
    """
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
    return RasterSource(str(path), band, scale, offset, factor, minus), grid


def read_window(src: RasterSource, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Rows r0:r1, columns c0:c1 of a DEM file in metres, float32, NaN for nodata."""
    plain = (src.scale, src.offset, src.factor, src.minus_m) == (1.0, 0.0, 1.0, 0.0)
    with gdal_env(), rasterio.open(src.path) as ds:
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


def read_band_window(path: PathLike, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Rows r0:r1, columns c0:c1 of band 1 of a raster as it is stored, float32, NaN for nodata.

    For layers on the DEM's grid (rock abundance).
    """
    with gdal_env(), rasterio.open(path) as ds:
        data = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    return np.ma.filled(data.astype(np.float32), np.nan)


def create_tiled_geotiff(
    path: PathLike,
    names: Sequence[str],
    grid: Dem,
    *,
    tags: Mapping[str, Any] | None = None,
    dtypes: Mapping[str, str] | None = None,
) -> None:
    """Create an empty tiled GeoTIFF with named bands, to be filled by :func:`write_window`.

    Bands are stored as in :func:`write_geotiff`: float bands in ``path``, integer bands in its
    companion :func:`masks_path` (created when there are some; :func:`finish_cog` turns both
    into COGs, and the caller removes both). The files are sparse, so creating them costs no
    time nor disk.
    """
    types = {n: np.dtype((dtypes or {}).get(n, "float32")) for n in names}
    for target, group, file_tags in _files_of(path, types, tags or {}, named=False):
        store = _storage_dtype([types[n] for n in group])
        profile = dict(
            driver="GTiff",
            width=grid.shape[1],
            height=grid.shape[0],
            count=len(group),
            dtype=store.name,
            crs=grid.crs,
            transform=grid.transform,
            nodata=np.nan if store.kind == "f" else None,
            tiled=True,
            blockxsize=512,
            blockysize=512,
            interleave="band",
            BIGTIFF="YES",
            SPARSE_OK="TRUE",
        )
        with gdal_env(), rasterio.open(target, "w", **profile) as ds:
            for i, name in enumerate(group, start=1):
                ds.set_band_description(i, name)
            if file_tags:
                ds.update_tags(**{k: _tag_value(v) for k, v in file_tags.items()})


def _parts(path: PathLike) -> list[pathlib.Path]:
    """A file from :func:`create_tiled_geotiff` and its companion, if it has one."""
    companion = masks_path(path)
    return [pathlib.Path(path), *([companion] if companion.exists() else [])]


def write_window(path: PathLike, r0: int, c0: int, layers: Mapping[str, np.ndarray]) -> None:
    """Write named layers into rows r0.., columns c0.. of a file from :func:`create_tiled_geotiff`.

    Each band of the file (and of its companion) takes the layer of its name. Not safe to call
    for one file from two writers at once: the caller holds a lock.
    """
    h, w = next(iter(layers.values())).shape
    for part in _parts(path):
        with gdal_env(), rasterio.open(part, "r+") as ds:
            store = ds.dtypes[0]
            for i, name in enumerate(ds.descriptions, start=1):
                ds.write(np.asarray(layers[name]).astype(store), i, window=Window(c0, r0, w, h))


def finish_cog(tmp: PathLike, dest: PathLike) -> pathlib.Path:
    """Overviews on a tiled GeoTIFF (and its companion), then COG copies moved into place.

    The companion of ``tmp`` becomes :func:`masks_path` of ``dest`` (moved first), and
    ``dest`` names it. ``tmp`` and its companion are left for the caller to remove.
    """
    dest = pathlib.Path(dest)
    parts = _parts(tmp)
    if len(parts) > 1:
        with gdal_env(), rasterio.open(tmp, "r+") as ds:
            ds.update_tags(**{MASKS_FILE_TAG: masks_path(dest).name})
    for part, target in reversed(list(zip(parts, [dest, masks_path(dest)], strict=False))):
        _finish_one(part, target)
    return dest


def _finish_one(tmp: pathlib.Path, dest: pathlib.Path) -> None:
    with gdal_env():
        with rasterio.open(tmp) as ds:
            shape = (ds.height, ds.width)
            is_float = np.dtype(ds.dtypes[0]).kind == "f"
            count = ds.count
        levels = _overview_levels(shape, 512)
        if levels:
            with rasterio.open(tmp, "r+") as ds, _gdal_threads():
                ds.build_overviews(levels, _overview_resampling(is_float))
        fd, cog = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp.tif", dir=dest.parent)
        os.close(fd)
        try:
            with rasterio.open(tmp) as ds:
                rasterio.shutil.copy(ds, cog, **_cog_options(is_float, 512, levels, count))
            _publish(cog, dest)
        except BaseException:
            pathlib.Path(cog).unlink(missing_ok=True)
            raise


def read_layers_decimated(path: PathLike, max_px: int = 2048) -> tuple[dict[str, np.ndarray], Dem]:
    """Every band of a hazard GeoTIFF, read through its overviews to at most ``max_px`` a side.

    For pictures of maps too large to read whole. Float layers come back as block averages;
    the companion's masks and bit fields (:func:`masks_path`) as the nearest cell's value, in
    their own type, so a keep-out reason keeps its bits (a file without a companion gives its
    masks as averages in [0, 1]).
    """
    with gdal_env(), _open(path) as ds:
        f = max(1, math.ceil(max(ds.height, ds.width) / max_px))
        shape = (max(1, ds.height // f), max(1, ds.width // f))
        layers = _read_decimated(ds, shape, Resampling.average)
        first = next(iter(layers.values())).astype(np.float32, copy=False)
        t = ds.transform @ Affine.scale(ds.width / shape[1], ds.height / shape[0])
        crs = ds.crs
        types = _band_dtypes(ds)
        companion = ds.tags().get(MASKS_FILE_TAG)
        if companion:
            with _open_companion(path, companion, ds.transform, crs, ds.shape) as src:
                masks = _read_decimated(src, shape, Resampling.nearest)
            layers.update({n: a.astype(types.get(n, "uint8")) for n, a in masks.items()})
            layers = {n: layers[n] for n in types if n in layers} | layers
    return layers, Dem(first, t, crs)


def _read_decimated(ds, shape: tuple[int, int], resampling: Resampling) -> dict[str, np.ndarray]:
    names = [d or f"band{i}" for i, d in enumerate(ds.descriptions, start=1)]
    data = ds.read(out_shape=(ds.count, *shape), masked=True, resampling=resampling)
    if np.dtype(ds.dtypes[0]).kind != "f":
        return {n: np.ma.filled(data[i], 0) for i, n in enumerate(names)}
    return {n: np.ma.filled(data[i].astype(np.float32), np.nan) for i, n in enumerate(names)}


__all__ = [
    "BAND_DTYPES_TAG",
    "GDAL_CACHE_MB",
    "MASKS_FILE_TAG",
    "RasterSource",
    "create_tiled_geotiff",
    "finish_cog",
    "gdal_env",
    "lunar_xy",
    "masks_path",
    "open_source",
    "point_feature",
    "point_features",
    "read_band_window",
    "read_dem",
    "read_layers",
    "read_layers_decimated",
    "read_tags",
    "read_window",
    "write_geojson",
    "write_geotiff",
    "write_text",
    "write_window",
]
