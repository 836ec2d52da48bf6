"""Lunar coordinate reference systems.

Everything downstream of :func:`terrain.read_dem` works on a metric grid with square pixels.
For data given in geographic or anisotropic grids we build a *local* transverse Mercator
projection on the IAU 2015 Moon sphere (R = 1,737,400 m) centred on the area of interest:
its scale error is below 1e-6 within a few kilometres of the centre, far below DEM noise.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pyproj
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion
from rasterio.crs import CRS

from .errors import EarthCrsError, NotLunarCrsError

MOON_RADIUS_M = 1_737_400.0
"""IAU 2015 mean radius of the Moon, the reference sphere of lunar elevations."""

MOON_GEOGRAPHIC = "IAU_2015:30100"
"""Moon (2015) sphere, geographic latitude/longitude, east positive."""

_EARTH_A_RANGE_M = (6_300_000.0, 6_400_000.0)


def to_pyproj(crs: CRS | pyproj.CRS | str) -> pyproj.CRS:
    """Return ``crs`` as a :class:`pyproj.CRS` (accepts rasterio CRS, WKT, codes, PROJ strings)."""
    if isinstance(crs, pyproj.CRS):
        return crs
    if isinstance(crs, CRS):
        return pyproj.CRS.from_wkt(crs.to_wkt())
    return pyproj.CRS.from_user_input(crs)


def to_rasterio(crs: CRS | pyproj.CRS | str) -> CRS:
    """Return ``crs`` as a :class:`rasterio.crs.CRS`."""
    if isinstance(crs, CRS):
        return crs
    if isinstance(crs, pyproj.CRS):
        return CRS.from_wkt(crs.to_wkt())
    return CRS.from_user_input(crs)


def body_radius_m(crs: CRS | pyproj.CRS | str) -> float | None:
    """Semi-major axis of the CRS's ellipsoid in metres, or None when it has none."""
    ellipsoid = to_pyproj(crs).ellipsoid
    return None if ellipsoid is None else float(ellipsoid.semi_major_metre)


def check_lunar(crs: CRS | pyproj.CRS | str) -> None:
    """Raise unless ``crs`` is defined on the Moon (a sphere or ellipsoid of ~1737 km).

    Raises
    ------
    EarthCrsError
        The CRS is on an Earth ellipsoid (e.g. EPSG:4326): a common mislabelling of lunar data.
    NotLunarCrsError
        Another body, or a CRS without an ellipsoid.
    """
    radius = body_radius_m(crs)
    name = to_pyproj(crs).name
    if radius is None:
        raise NotLunarCrsError(
            f"CRS {name!r} has no body ellipsoid, so it cannot be placed on the Moon; "
            f"pass crs={MOON_GEOGRAPHIC!r} or a projected Moon CRS"
        )
    if _EARTH_A_RANGE_M[0] <= radius <= _EARTH_A_RANGE_M[1]:
        raise EarthCrsError(
            f"CRS {name!r} is an Earth CRS (radius {radius:.0f} m); lunar DEMs need a Moon CRS "
            f"such as {MOON_GEOGRAPHIC}: fix the file's CRS or pass crs="
        )
    if abs(radius - MOON_RADIUS_M) > 0.01 * MOON_RADIUS_M:
        raise NotLunarCrsError(
            f"CRS {name!r} is for a body of radius {radius:.0f} m, not the Moon "
            f"({MOON_RADIUS_M:.0f} m); pass a Moon CRS such as {MOON_GEOGRAPHIC}"
        )


def local_metric_crs(lat_deg: float, lon_deg: float) -> CRS:
    """Transverse Mercator on the IAU 2015 Moon sphere centred on (lat, lon), metres.

    The base geographic CRS is IAU_2015:30100, so GDAL and QGIS report the body as the Moon.

    Examples
    --------
    >>> crs = local_metric_crs(60.5, -4.6)
    >>> crs.is_projected, lunar_to_crs(crs, 60.5, -4.6)
    (True, (0.0, 0.0))
    """
    if not (-90.0 <= lat_deg <= 90.0) or not math.isfinite(lon_deg):
        raise NotLunarCrsError(f"centre ({lat_deg}, {lon_deg}) is not a latitude/longitude pair")
    lon = ((lon_deg + 180.0) % 360.0) - 180.0
    conversion = TransverseMercatorConversion(
        latitude_natural_origin=lat_deg,
        longitude_natural_origin=lon,
        false_easting=0.0,
        false_northing=0.0,
        scale_factor_natural_origin=1.0,
    )
    crs = ProjectedCRS(
        conversion=conversion,
        geodetic_crs=pyproj.CRS.from_user_input(MOON_GEOGRAPHIC),
        name=f"Moon local TM {lat_deg:.4f}N {lon:.4f}E",
    )
    return to_rasterio(crs)


def _wkt(crs: CRS | pyproj.CRS | str) -> str:
    return crs if isinstance(crs, str) else crs.to_wkt()


@functools.lru_cache(maxsize=64)
def _transformer(crs_key: str, to_lunar: bool) -> pyproj.Transformer:
    """One transformer per CRS and direction, built once: building one costs milliseconds."""
    proj = to_pyproj(crs_key)
    geo = proj.geodetic_crs or pyproj.CRS.from_user_input(MOON_GEOGRAPHIC)
    src, dst = (proj, geo) if to_lunar else (geo, proj)
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def lunar_to_crs(crs: CRS | pyproj.CRS | str, lat_deg, lon_deg):
    """Project selenographic positions (degrees, east positive) into ``crs``.

    Scalars give a pair of floats, arrays a pair of arrays: transform many points in one
    call (the transformer for a CRS pair is built once and cached).

    Examples
    --------
    >>> from frigoris.terrain import local_metric_crs
    >>> x, y = lunar_to_crs(local_metric_crs(60.5, -4.6), 60.5, -4.6)
    >>> round(x, 6), round(y, 6)
    (0.0, 0.0)
    """
    x, y = _transformer(_wkt(crs), False).transform(lon_deg, lat_deg)
    if np.ndim(x) == 0:
        return float(x), float(y)
    return np.asarray(x), np.asarray(y)


def crs_to_lunar(crs: CRS | pyproj.CRS | str, x, y):
    """Return (lat_deg, lon_deg) of map coordinates (x, y) in ``crs``; scalars or arrays.

    Examples
    --------
    >>> from frigoris.terrain import local_metric_crs
    >>> lat, lon = crs_to_lunar(local_metric_crs(60.5, -4.6), 0.0, 0.0)
    >>> round(lat, 9), round(lon, 9)
    (60.5, -4.6)
    """
    lon, lat = _transformer(_wkt(crs), True).transform(x, y)
    if np.ndim(lat) == 0:
        return float(lat), float(lon)
    return np.asarray(lat), np.asarray(lon)


def is_metric_projected(crs: CRS | pyproj.CRS | str) -> bool:
    """True when ``crs`` is projected with both axes in metres."""
    p = to_pyproj(crs)
    if not p.is_projected:
        return False
    return all((a.unit_name or "").lower() in ("metre", "meter", "m") for a in p.axis_info[:2])


def crs_label(crs: CRS | pyproj.CRS | str) -> str:
    """A short human name of ``crs``: its own name, or its projection and body when unnamed.

    Examples
    --------
    >>> crs_label("+proj=stere +lat_0=-90 +R=1737400 +units=m +no_defs")
    'Polar Stereographic (variant A) on a sphere of radius 1737.4 km'
    """
    p = to_pyproj(crs)
    if p.name and p.name.lower() not in ("unknown", "unnamed", ""):
        return p.name
    method = p.coordinate_operation.method_name if p.coordinate_operation else "geographic"
    radius = body_radius_m(p)
    body = f" on a sphere of radius {radius / 1000:g} km" if radius else ""
    return f"{method}{body}"
