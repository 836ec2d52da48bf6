"""Sunlight on terrain: cast shadows, horizon maps, shadow stacks, lit fraction, local sunrise.

Conventions
-----------
- Grids are north-up with square pixels (a :class:`terrain.Dem` or its arrays). Sun azimuth is
  degrees clockwise from *grid* north (the -row direction); :func:`sun_over_dem` turns the
  ephemeris' true azimuth into grid azimuth for a DEM.
- The Moon is a sphere of radius ``body_radius_m`` without air: the ground drops by ``d^2 / 2R``
  at distance ``d``, and sun rays are parallel. ``sun_elevation_deg`` is the Sun's elevation at
  the **grid centre**; at a cell ``s`` metres from the centre towards the Sun it is higher by
  ``s / R`` radians (0.03 deg per km). The kernels get this from the geometry by working in the
  centre's tangent plane (the sphere as a paraboloid, exact to ~x^4 / 8R^3: 0.1 mm at 10 km), so
  a 20 km DEM at low Sun is shadowed as the real sphere would be.
- The Sun is a point (its centre); its 0.53 deg disc is not modelled, so shadow edges are sharp
  and sunrise is the rise of the Sun's centre.
- Each direction is swept along parallel lines (``lines_per_cell`` per cell width, default 2),
  reading the terrain on each line by linear interpolation across it (the DEM as a bilinear
  surface), as in the sweeps of Dozier & Frew (1990). A cell takes its shadow from the line
  passing within ``0.5 / lines_per_cell`` cells of its centre. Along the grid axes this equals a
  ray march from every cell centre; in other directions shadow edges are within about a pixel
  (tests: 1-4 % of cells differ on very rough synthetic terrain, nearly all at shadow edges).
- Nodata (NaN) cells neither cast shadow nor receive it: a shadow mask is True only where
  shadow is established, so NaN cells are False (mask them with ``np.isfinite(elevation)``; the
  hazard layer makes them keep-out anyway). Lit fractions are NaN there. Exception: with the Sun
  at or below 0 deg, every cell is dark and every mask is all True.
- ``extra_height`` (metres above the ground, e.g. the lander from :func:`lander_height_raster`)
  adds to what *casts* shadow; the ground under it is what receives shadow.
- Cast shadow and self-shadow: :func:`cast_shadow` says whether the Sun is hidden by terrain
  along its ray, which includes a slope's own upslope neighbour, so facets facing away from the
  Sun come out shadowed too (except on the grid's sun-side edge); :func:`self_shadow` is the
  facet test alone (the Sun below the plane of the cell's Horn slope).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _illumination_kernels as _k
from .crs import MOON_RADIUS_M, crs_to_lunar, lunar_to_crs
from .dem import Dem
from .errors import GridError, IlluminationError
from .sky import SkyPosition, When, _as_datetime64, _posix_seconds, sun_position
from .slope import horn_gradient

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

ProgressCallback = Callable[[float, str], None]

LINES_PER_CELL = 2
"""Default sweep lines per cell width (each cell at most a quarter cell beside its line)."""


# --------------------------------------------------------------------------------------------
# validation helpers


def _check_grid(elevation, res_m) -> np.ndarray:
    z = np.asarray(elevation)
    if z.ndim != 2 or min(z.shape) < 1:
        raise GridError(f"elevation must be a 2-D array, got shape {z.shape}")
    if not (isinstance(res_m, (int, float, np.floating, np.integer)) and res_m > 0) or not (
        math.isfinite(res_m)
    ):
        raise GridError(f"res_m must be a positive number of metres, got {res_m!r}")
    return np.ascontiguousarray(z, dtype=np.float32)


def _check_sun(azimuth_deg, elevation_deg) -> tuple[float, float]:
    try:
        az, el = float(azimuth_deg), float(elevation_deg)
    except (TypeError, ValueError) as err:
        raise IlluminationError(
            f"sun azimuth/elevation must be numbers, got {azimuth_deg!r}, {elevation_deg!r}"
        ) from err
    if not (math.isfinite(az) and math.isfinite(el)) or abs(el) > 90.0:
        raise IlluminationError(
            f"sun direction ({azimuth_deg!r}, {elevation_deg!r}) is not an azimuth in degrees "
            "and an elevation in [-90, 90]"
        )
    return az % 360.0, el


def _check_radius(body_radius_m) -> float:
    r = float(body_radius_m)
    if not (r > 0 and math.isfinite(r)):
        raise IlluminationError(f"body_radius_m must be a positive number, got {body_radius_m!r}")
    return r


def _check_lines(lines_per_cell) -> int:
    if not (isinstance(lines_per_cell, (int, np.integer)) and 1 <= lines_per_cell <= 16):
        raise IlluminationError(
            f"lines_per_cell must be an integer in [1, 16], got {lines_per_cell!r}"
        )
    return int(lines_per_cell)


def _check_extra(extra_height, shape) -> np.ndarray:
    if extra_height is None:
        return np.zeros(shape, dtype=np.float32)
    extra = np.asarray(extra_height, dtype=np.float32)
    if extra.shape != tuple(shape):
        raise GridError(f"extra_height shape {extra.shape} != elevation shape {tuple(shape)}")
    if not np.all(np.isfinite(extra)) or np.any(extra < 0):
        raise IlluminationError("extra_height must be finite and >= 0 metres everywhere")
    return np.ascontiguousarray(extra)


# --------------------------------------------------------------------------------------------
# one sun direction


def cast_shadow(
    elevation: np.ndarray,
    res_m: float,
    sun_azimuth_deg: float,
    sun_elevation_deg: float,
    *,
    body_radius_m: float = MOON_RADIUS_M,
    extra_height: np.ndarray | None = None,
    lines_per_cell: int = LINES_PER_CELL,
) -> np.ndarray:
    """Cells in cast shadow for one sun direction, by a horizon sweep on the lunar sphere.

    One pass along lines of cells parallel to the sun direction keeps a running maximum of
    ``Y - t tan(e)`` (``Y`` the height in the grid centre's tangent frame, ``t`` the distance
    towards the Sun): O(M N) in total. See the module notes for the conventions.

    Parameters
    ----------
    elevation : ndarray of shape (M, N)
        Heights in metres on a north-up grid; NaN = nodata.
    res_m : float
        Pixel size in metres.
    sun_azimuth_deg : float
        Degrees clockwise from grid north (the -row direction).
    sun_elevation_deg : float
        Degrees above the horizontal at the grid centre.
    body_radius_m : float
        Radius of the sphere (default the Moon, 1,737,400 m).
    extra_height : ndarray of shape (M, N), optional
        Heights above the ground that cast shadow too (e.g. a lander), metres, >= 0.
    lines_per_cell : int
        Sweep lines per cell width. Each cell takes its shadow from a line at most
        ``0.5 / lines_per_cell`` cells beside its own ray; the cost grows in proportion.

    Returns
    -------
    ndarray of shape (M, N), bool
        True where the Sun is hidden by terrain (or everything, when ``sun_elevation_deg <= 0``).
        False on NaN cells (unknown; see module notes). A slope facing away from the Sun is
        found too wherever its upslope neighbour hides the Sun; :func:`self_shadow` tests the
        facet alone.

    Raises
    ------
    GridError
        ``elevation`` is not 2-D, ``res_m`` is not positive, ``extra_height`` has another shape.
    IlluminationError
        Sun direction or radius not finite/valid.

    Examples
    --------
    >>> z = np.zeros((5, 20), np.float32); z[2, 15] = 9.5
    >>> cast_shadow(z, 1.0, 90.0, 45.0)[2].astype(int).tolist()  # sun in the east
    [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    """
    z = _check_grid(elevation, res_m)
    az, el = _check_sun(sun_azimuth_deg, sun_elevation_deg)
    radius = _check_radius(body_radius_m)
    # a 1 x 1 extra means none: the kernels then skip the extra heights
    if extra_height is None:
        extra = np.zeros((1, 1), dtype=np.float32)
    else:
        extra = _check_extra(extra_height, z.shape)
    subpixel = _check_lines(lines_per_cell)
    if el <= 0.0:
        return np.ones(z.shape, dtype=bool)
    out = np.zeros(z.shape, dtype=np.bool_)
    a = math.radians(az)
    _k.cast_shadow_sweep(
        z, extra, float(res_m), math.sin(a), math.cos(a), math.tan(math.radians(el)),
        0.5 / radius, subpixel, out,
    )  # fmt: skip
    return out


def incidence_cosine(
    elevation: np.ndarray, res_m: float, sun_azimuth_deg: float, sun_elevation_deg: float
) -> np.ndarray:
    """Cosine of the angle between each facet's normal and the Sun (Horn gradient).

    Returns
    -------
    ndarray of shape (M, N), float32
        In [-1, 1]; <= 0 where the facet faces away from the Sun. NaN on the grid edge and next
        to nodata (where Horn's 3x3 window is incomplete). Cast shadow is not included.
    """
    z = _check_grid(elevation, res_m)
    az, el = _check_sun(sun_azimuth_deg, sun_elevation_deg)
    dzdx, dzdy = horn_gradient(z, float(res_m))
    a, e = math.radians(az), math.radians(el)
    sx, sy, sz = math.sin(a) * math.cos(e), math.cos(a) * math.cos(e), math.sin(e)
    gx = dzdx.astype(np.float64)
    gy = dzdy.astype(np.float64)
    cos_i = (-gx * sx - gy * sy + sz) / np.sqrt(gx * gx + gy * gy + 1.0)
    return cos_i.astype(np.float32)


def self_shadow(
    elevation: np.ndarray, res_m: float, sun_azimuth_deg: float, sun_elevation_deg: float
) -> np.ndarray:
    """Cells whose own facet faces away from the Sun (Sun below the local slope's plane).

    Returns
    -------
    ndarray of shape (M, N), bool
        True where the incidence cosine is <= 0 (all True when the Sun is at or below 0 deg);
        False where the slope is unknown (grid edge, next to nodata).
    """
    _, el = _check_sun(sun_azimuth_deg, sun_elevation_deg)
    cos_i = incidence_cosine(elevation, res_m, sun_azimuth_deg, sun_elevation_deg)
    if el <= 0.0:
        return np.ones(cos_i.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(cos_i <= 0.0)


def lander_height_raster(
    dem: Dem, x: float, y: float, height_m: float, width_m: float
) -> np.ndarray:
    """Heights of a box standing on the DEM, above the ground (for ``extra_height``).

    Parameters
    ----------
    dem : Dem
        The grid.
    x, y : float
        Map coordinates of the box centre, in ``dem.crs``.
    height_m, width_m : float
        Box height and side (square footprint, aligned with the grid), metres. The caller
        supplies the lander's numbers (e.g. from the rover/lander spec).

    Returns
    -------
    ndarray of shape (M, N), float32
        ``height_m`` on cells whose centre lies in the footprint (at least the cell containing
        (x, y)), 0 elsewhere.
    """
    if not (height_m >= 0 and width_m > 0 and math.isfinite(height_m) and math.isfinite(width_m)):
        raise IlluminationError(
            f"lander height {height_m!r} m and width {width_m!r} m must be finite, width > 0"
        )
    if not dem.contains(x, y):
        raise GridError(f"lander position ({x:.1f}, {y:.1f}) lies outside the DEM {dem.bounds}")
    rows, cols = dem.shape
    cx, _ = dem.xy(0, np.arange(cols))
    _, cy = dem.xy(np.arange(rows), 0)
    inside_c = np.abs(np.asarray(cx) - x) <= 0.5 * width_m
    inside_r = np.abs(np.asarray(cy) - y) <= 0.5 * width_m
    out = np.zeros(dem.shape, dtype=np.float32)
    out[np.ix_(inside_r, inside_c)] = height_m
    r, c = dem.rowcol(x, y)
    out[r, c] = height_m
    return out


# --------------------------------------------------------------------------------------------
# horizon maps


@dataclass(frozen=True, eq=False)
class HorizonMap:
    """Horizon elevation seen from every cell in ``n`` azimuth directions.

    Attributes
    ----------
    azimuths_deg : ndarray of shape (n,)
        Sector centres, degrees clockwise from grid north: ``i * 360 / n``.
    horizon_deg : ndarray of shape (n, M, N), float32
        Elevation of the horizon in each direction, in the cell's own tangent frame, including
        the sphere's curvature and any ``extra_height``. -90 where the grid holds nothing in that
        direction (the grid edge on that side), NaN on nodata cells.
    res_m : float
        Pixel size of the grid.
    body_radius_m : float
        Sphere radius used.
    max_distance_m : float or None
        Search distance used (None = the whole grid).
    lines_per_cell : int
        Sweep lines per cell width used.
    """

    azimuths_deg: np.ndarray
    horizon_deg: np.ndarray
    res_m: float
    body_radius_m: float = MOON_RADIUS_M
    max_distance_m: float | None = None
    lines_per_cell: int = LINES_PER_CELL

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape (rows, cols)."""
        return (int(self.horizon_deg.shape[1]), int(self.horizon_deg.shape[2]))

    def _sectors(self, sun_azimuth_deg):
        n = self.azimuths_deg.shape[0]
        pos = (np.asarray(sun_azimuth_deg, dtype=np.float64) % 360.0) / (360.0 / n)
        i0 = np.floor(pos).astype(np.int64) % n
        f = pos - np.floor(pos)
        return i0, (i0 + 1) % n, f

    def shadow(self, sun_azimuth_deg: float, sun_elevation_deg: float) -> np.ndarray:
        """Cast shadow for one sun direction, from the stored horizons.

        The horizon is interpolated linearly between the two sectors around the sun azimuth; on
        a sector centre the result equals :func:`cast_shadow` with the same ``lines_per_cell``
        (same sweep lines, up to float32 rounding of the stored angles), elsewhere it
        differs only where the horizon changes quickly with azimuth.

        Returns
        -------
        ndarray of shape (M, N), bool
            Same conventions as :func:`cast_shadow`.
        """
        az, el = _check_sun(sun_azimuth_deg, sun_elevation_deg)
        if el <= 0.0:
            return np.ones(self.shape, dtype=bool)
        i0, i1, f = self._sectors(az)
        a = math.radians(az)
        out = np.empty(self.shape, dtype=np.bool_)
        _k.horizon_shadow(
            self.horizon_deg, int(i0), int(i1), float(f), self.res_m, math.sin(a), math.cos(a),
            el, math.degrees(1.0 / self.body_radius_m), out,
        )  # fmt: skip
        return out

    def shadow_stack(self, sun_azimuth_deg, sun_elevation_deg) -> np.ndarray:
        """Shadow masks for a series of sun directions, shape (T, M, N), bool (T*M*N bytes)."""
        az = np.atleast_1d(np.asarray(sun_azimuth_deg, dtype=np.float64))
        el = np.atleast_1d(np.asarray(sun_elevation_deg, dtype=np.float64))
        if az.shape != el.shape or az.ndim != 1:
            raise IlluminationError(f"{az.shape} azimuths and {el.shape} elevations do not pair")
        out = np.empty((az.shape[0], *self.shape), dtype=bool)
        for i in range(az.shape[0]):
            out[i] = self.shadow(az[i], el[i])
        return out

    def lit_counts(self, sun_azimuth_deg, sun_elevation_deg):
        """Per cell: samples lit, first and last lit sample index (-1 = never), int32 (M, N)."""
        az = np.atleast_1d(np.asarray(sun_azimuth_deg, dtype=np.float64))
        el = np.atleast_1d(np.asarray(sun_elevation_deg, dtype=np.float64))
        if az.shape != el.shape or az.ndim != 1:
            raise IlluminationError(f"{az.shape} azimuths and {el.shape} elevations do not pair")
        if not (np.all(np.isfinite(az)) and np.all(np.abs(el) <= 90.0)):
            raise IlluminationError("sun azimuths must be finite and elevations in [-90, 90]")
        i0, i1, f = self._sectors(az)
        a = np.radians(az % 360.0)
        count = np.zeros(self.shape, dtype=np.int32)
        first = np.full(self.shape, -1, dtype=np.int32)
        last = np.full(self.shape, -1, dtype=np.int32)
        _k.horizon_lit_stats(
            self.horizon_deg, i0, i1, f, np.sin(a), np.cos(a), el, self.res_m,
            math.degrees(1.0 / self.body_radius_m), count, first, last,
        )  # fmt: skip
        return count, first, last

    def lit_fraction(self, sun_azimuth_deg, sun_elevation_deg) -> np.ndarray:
        """Fraction of the given sun directions in which each cell is lit (point Sun).

        Sun directions at or below 0 deg count as dark. Without building the (T, M, N) stack.

        Returns
        -------
        ndarray of shape (M, N), float32
            In [0, 1]; NaN on nodata cells.
        """
        count, _, _ = self.lit_counts(sun_azimuth_deg, sun_elevation_deg)
        n = max(np.size(sun_azimuth_deg), 1)
        frac = (count / n).astype(np.float32)
        frac[np.isnan(self.horizon_deg[0])] = np.nan
        return frac

    def lit_at(self, rows, cols, sun_azimuth_deg, sun_elevation_deg) -> np.ndarray:
        """Whether given cells are lit, one sun direction per cell (e.g. along a drive leg).

        Parameters
        ----------
        rows, cols : array_like of int, shape (K,)
            Cells.
        sun_azimuth_deg, sun_elevation_deg : array_like, shape (K,) or scalars
            Sun direction at each sample (grid azimuth, elevation at the grid centre).

        Returns
        -------
        ndarray of shape (K,), bool
            False on nodata cells and when the Sun is at or below 0 deg.
        """
        r = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        c = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        m, n = self.shape
        if r.shape != c.shape or np.any((r < 0) | (r >= m) | (c < 0) | (c >= n)):
            raise GridError(f"cells must be pairs of indices inside the {m} x {n} grid")
        az, el = np.broadcast_arrays(
            np.asarray(sun_azimuth_deg, dtype=np.float64),
            np.asarray(sun_elevation_deg, dtype=np.float64),
            r,
        )[:2]
        i0, i1, f = self._sectors(az)
        h = (1.0 - f) * self.horizon_deg[i0, r, c] + f * self.horizon_deg[i1, r, c]
        x = (c + 0.5 - 0.5 * n) * self.res_m
        y = (0.5 * m - r - 0.5) * self.res_m
        a = np.radians(az)
        local_el = el + np.degrees((x * np.sin(a) + y * np.cos(a)) / self.body_radius_m)
        with np.errstate(invalid="ignore"):
            return (el > 0.0) & (h <= local_el)


def horizon_map(
    dem: Dem | np.ndarray,
    n_azimuths: int = 36,
    max_distance_m: float | None = None,
    *,
    res_m: float | None = None,
    extra_height: np.ndarray | None = None,
    body_radius_m: float = MOON_RADIUS_M,
    lines_per_cell: int = LINES_PER_CELL,
    progress: ProgressCallback | None = None,
) -> HorizonMap:
    """Horizon elevation per azimuth sector for every cell, so many sun positions are cheap.

    Each sector is one sweep along lines of cells (upper convex hull, O(M N) per sector; with
    ``max_distance_m`` a direct scan, O(M N K) for K cells of reach). See the module notes.

    Parameters
    ----------
    dem : Dem or ndarray of shape (M, N)
        Terrain; a bare array needs ``res_m``.
    n_azimuths : int
        Number of sectors (centres at ``i * 360 / n`` deg from grid north).
    max_distance_m : float, optional
        Ignore terrain farther than this along each direction (default: the whole grid).
    res_m : float, optional
        Pixel size for a bare array.
    extra_height : ndarray of shape (M, N), optional
        Heights above the ground that cast shadow (e.g. a lander).
    body_radius_m : float
        Sphere radius.
    lines_per_cell : int
        Sweep lines per cell width, as in :func:`cast_shadow` (the same value makes
        ``HorizonMap.shadow`` equal :func:`cast_shadow` on sector centres).
    progress : callable, optional
        ``progress(fraction_done, stage)`` after each sector.

    Returns
    -------
    HorizonMap
        Memory: 4 * n * M * N bytes (604 MB for 2048 x 2048 x 36).
    """
    if isinstance(dem, Dem):
        z, res = np.ascontiguousarray(dem.elevation, dtype=np.float32), dem.res_m
    else:
        if res_m is None:
            raise GridError("pass res_m with a bare elevation array (or pass a Dem)")
        z, res = _check_grid(dem, res_m), float(res_m)
    if not (isinstance(n_azimuths, (int, np.integer)) and n_azimuths >= 4):
        raise IlluminationError(f"n_azimuths must be an integer >= 4, got {n_azimuths!r}")
    if max_distance_m is not None and not (max_distance_m > 0 and math.isfinite(max_distance_m)):
        raise IlluminationError(
            f"max_distance_m must be a positive distance, got {max_distance_m!r}"
        )
    radius = _check_radius(body_radius_m)
    extra = _check_extra(extra_height, z.shape)
    subpixel = _check_lines(lines_per_cell)
    n = int(n_azimuths)
    azimuths = np.arange(n) * (360.0 / n)
    out = np.full((n, *z.shape), np.nan, dtype=np.float32)
    for i, az in enumerate(azimuths):
        a = math.radians(az)
        sin_a, cos_a = math.sin(a), math.cos(a)
        if max_distance_m is None:
            _k.horizon_sweep(
                z, extra, res, sin_a, cos_a, 0.5 / radius, 1.0 / radius, subpixel, out[i]
            )
        else:
            _k.horizon_sweep_limited(
                z, extra, res, sin_a, cos_a, 0.5 / radius, 1.0 / radius,
                float(max_distance_m), subpixel, out[i],
            )  # fmt: skip
        if progress is not None:
            progress((i + 1) / n, f"azimuth {az:.0f} deg")
    logger.debug("horizon map %s x %d sectors", z.shape, n)
    return HorizonMap(
        azimuths,
        out,
        res,
        radius,
        None if max_distance_m is None else float(max_distance_m),
        subpixel,
    )


# --------------------------------------------------------------------------------------------
# the sun over a DEM through time


def _grid_north_offset_deg(dem: Dem, lat_deg: float, lon_deg: float) -> float:
    """Azimuth of true north measured clockwise from grid north, at (lat, lon)."""
    step = 1e-3 if lat_deg < 89.0 else -1e-3
    x0, y0 = lunar_to_crs(dem.crs, lat_deg, lon_deg)
    x1, y1 = lunar_to_crs(dem.crs, lat_deg + step, lon_deg)
    dx, dy = (x1 - x0) * np.sign(step), (y1 - y0) * np.sign(step)
    return math.degrees(math.atan2(dx, dy))


def dem_centre_lunar(dem: Dem) -> tuple[float, float]:
    """Selenographic (lat_deg, lon_deg) of the grid centre of ``dem``."""
    left, bottom, right, top = dem.bounds
    return crs_to_lunar(dem.crs, 0.5 * (left + right), 0.5 * (bottom + top))


def sun_over_dem(dem: Dem, when: When) -> SkyPosition:
    """Return the Sun as seen from the centre of ``dem``, with azimuth from *grid* north.

    This is the sun direction that :func:`cast_shadow` and :class:`HorizonMap` expect
    (they account for the change of elevation across the grid themselves).

    Examples
    --------
    At the Resilience target at the planned touchdown the Sun stood about 12 degrees up in
    the east-south-east:

    >>> from datetime import datetime, timezone
    >>> from frigoris.terrain import Dem, local_metric_crs
    >>> dem = Dem.from_array(np.zeros((8, 8)), res_m=1.0, crs=local_metric_crs(60.5, -4.6))
    >>> sun = sun_over_dem(dem, datetime(2025, 6, 5, 19, 17, tzinfo=timezone.utc))
    >>> round(sun.azimuth_deg), round(sun.elevation_deg, 1)
    (108, 11.9)
    """
    lat, lon = dem_centre_lunar(dem)
    sun = sun_position(lat, lon, when)
    offset = _grid_north_offset_deg(dem, lat, lon)
    az = (np.asarray(sun.azimuth_deg) + offset) % 360.0
    if np.ndim(az) == 0:
        az = float(az)
    return SkyPosition(sun.when, az, sun.elevation_deg, sun.distance_m)


@dataclass(frozen=True, eq=False)
class SunlightMap:
    """Sunlight on every cell over a series of times.

    Attributes
    ----------
    times : ndarray of datetime64[us], shape (T,)
        The UTC samples.
    sun : SkyPosition
        Sun at the grid centre for each sample (grid azimuth).
    lit_fraction : ndarray of shape (M, N), float32
        Fraction of samples lit (point Sun, cast shadow only); NaN on nodata.
    first_lit, last_lit : ndarray of shape (M, N), datetime64[us]
        First and last lit sample: the local sunrise and sunset to within one sample step when
        the series spans the lunar day. NaT where never lit or nodata.
    """

    times: np.ndarray
    sun: SkyPosition
    lit_fraction: np.ndarray
    first_lit: np.ndarray
    last_lit: np.ndarray


def sunlight_map(
    dem: Dem,
    when: When,
    *,
    horizons: HorizonMap | None = None,
    n_azimuths: int = 36,
    extra_height: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
) -> SunlightMap:
    """Lit fraction and local sunrise/sunset per cell over a series of times.

    Parameters
    ----------
    dem : Dem
        Terrain (its centre fixes the site for the ephemeris).
    when : sequence of aware datetimes or datetime64 array
        Sample times (e.g. :func:`terrain.sky.utc_range`).
    horizons : HorizonMap, optional
        Precomputed for this DEM; else computed here with ``n_azimuths`` and ``extra_height``.
    progress : callable, optional
        ``progress(fraction_done, stage)``.

    Returns
    -------
    SunlightMap
    """
    posix_s, _ = _posix_seconds(when)
    times = _as_datetime64(posix_s)
    sun = sun_over_dem(dem, times)
    if horizons is None:

        def sub(fraction: float, stage: str) -> None:
            if progress is not None:
                progress(0.9 * fraction, stage)

        horizons = horizon_map(dem, n_azimuths, extra_height=extra_height, progress=sub)
    elif horizons.shape != dem.shape:
        raise GridError(f"horizon map shape {horizons.shape} != DEM shape {dem.shape}")
    az = np.atleast_1d(sun.azimuth_deg)
    el = np.atleast_1d(sun.elevation_deg)
    count, first, last = horizons.lit_counts(az, el)
    nodata = ~np.isfinite(dem.elevation)
    frac = (count / max(times.shape[0], 1)).astype(np.float32)
    frac[nodata] = np.nan
    nat = np.datetime64("NaT", "us")
    first_lit = np.where(first >= 0, times[np.maximum(first, 0)], nat)
    last_lit = np.where(last >= 0, times[np.maximum(last, 0)], nat)
    if progress is not None:
        progress(1.0, "lit fraction")
    return SunlightMap(times, sun, frac, first_lit, last_lit)


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
    _k.tile_shadow_sweep(
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


def block_stats(z: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
