"""Sun and Earth in the sky of a point on the Moon, from the JPL DE421 ephemeris.

Everything ships inside installed packages; nothing is downloaded at run time:

- positions of the Sun, the Earth-Moon barycentre and the Moon come from DE421 as packaged by
  the ``de421`` distribution (read with ``jplephem``'s package reader);
- the Moon's orientation is DE421's own physical libration angles (the same series as NAIF's
  ``moon_pa_de421_1900-2050.bpc``), turned from the principal-axis (PA) frame into the Mean
  Earth/polar axis (ME) frame with the constant rotation of NAIF's ``moon_080317.tf``. ME is the
  frame of selenographic latitude/longitude used by LOLA and the IAU;
- UTC becomes TDB through skyfield's built-in leap-second and Delta T tables.

Sight lines start from the site on the 1,737,400 m sphere (so the Earth's ~0.26 deg topocentric
parallax is included). The Sun's direction includes the annual aberration of the Moon's orbital
motion (up to 0.006 deg); the Sun's light time moves it by less than 1e-5 deg and is ignored, and
for the Earth light time and aberration cancel to 2e-4 deg, so its geometric direction is used.
Azimuth is degrees clockwise from true (selenographic) north, elevation degrees above the
site's tangent plane (the horizon of the sphere, no terrain). The Moon has no air: no refraction.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .crs import MOON_RADIUS_M
from .errors import EphemerisError

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

AU_M = 149_597_870_700.0
"""The astronomical unit in metres (IAU 2012)."""

SPEED_OF_LIGHT_M_S = 299_792_458.0

# MOON_ME_DE421 relative to MOON_PA_DE421 (moon_080317.tf, TKFRAME_31007): angles in arcseconds
# about axes (3, 2, 1); PA -> ME is R1(-a3) R2(-a2) R3(-a1) with frame-rotation matrices.
_PA_TO_ME_ARCSEC = (67.92, 78.56, 0.30)

_SECONDS_PER_DAY = 86_400.0

When = dt.datetime | np.datetime64 | Sequence[dt.datetime] | np.ndarray
"""An aware datetime, a sequence of them, or numpy datetime64 values (taken as UTC)."""


@dataclass(frozen=True, eq=False)
class SkyPosition:
    """Where a body stands in the sky of a point on the Moon.

    Attributes
    ----------
    when : datetime or ndarray of datetime64[us]
        UTC time(s): an aware datetime for a single time, else an array (numpy has no time zones;
        its values are UTC).
    azimuth_deg : float or ndarray
        Degrees clockwise from north, in [0, 360).
    elevation_deg : float or ndarray
        Degrees above the local horizontal plane of the sphere (no terrain, no refraction).
    distance_m : float or ndarray
        Distance from the site to the body's centre in metres.
    """

    when: dt.datetime | np.ndarray
    azimuth_deg: float | np.ndarray
    elevation_deg: float | np.ndarray
    distance_m: float | np.ndarray

    @property
    def direction_enu(self) -> np.ndarray:
        """Unit vector(s) towards the body in the local (east, north, up) frame, shape (..., 3)."""
        az = np.radians(self.azimuth_deg)
        el = np.radians(self.elevation_deg)
        return np.stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], axis=-1)


@dataclass(frozen=True)
class TimeWindow:
    """A UTC interval, e.g. while the sun is above some elevation."""

    start: dt.datetime
    end: dt.datetime

    @property
    def duration_days(self) -> float:
        """Length of the window in days."""
        return (self.end - self.start).total_seconds() / _SECONDS_PER_DAY


@dataclass(frozen=True)
class LunarDay:
    """One lunar day (sunrise to sunset) at a site, with the Earth over the same days.

    ``sunrise``/``sunset`` are the times the centre of the Sun crosses ``horizon_deg`` on the
    ideal horizon of the sphere (terrain ignored), to about a second. They are None when the Sun
    does not cross within 30 days (polar day or night). ``noon`` is the time of highest Sun
    (to a minute).
    """

    lat_deg: float
    lon_deg: float
    horizon_deg: float
    sunrise: dt.datetime | None
    noon: dt.datetime
    sunset: dt.datetime | None
    peak_sun_elevation_deg: float
    earth_elevation_min_deg: float
    earth_elevation_max_deg: float

    @property
    def daylight_days(self) -> float | None:
        """Days from sunrise to sunset, or None when either is missing."""
        if self.sunrise is None or self.sunset is None:
            return None
        return (self.sunset - self.sunrise).total_seconds() / _SECONDS_PER_DAY


# --------------------------------------------------------------------------------------------
# time handling


def _check_aware(value: dt.datetime) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise EphemerisError(
            f"time {value.isoformat()} has no time zone; pass an aware datetime such as "
            f"{value.replace(tzinfo=dt.timezone.utc).isoformat()} (UTC)"
        )


def _posix_seconds(when: When) -> tuple[np.ndarray, bool]:
    """POSIX seconds (UTC) of ``when`` as float64, and whether ``when`` was a single time."""
    if isinstance(when, dt.datetime):
        _check_aware(when)
        return np.array([when.timestamp()]), True
    if isinstance(when, dt.date):
        raise EphemerisError(f"time {when!r} is a date; pass an aware datetime")
    if isinstance(when, np.datetime64):
        return np.array([when.astype("datetime64[us]").astype(np.int64) / 1e6]), True
    arr = np.asarray(when)
    if arr.size == 0 and arr.ndim == 1:
        return np.empty(0), False
    if arr.dtype.kind == "M":
        return (arr.astype("datetime64[us]").astype(np.int64) / 1e6).ravel(), False
    if arr.dtype == object and arr.ndim == 1:
        out = np.empty(arr.shape[0])
        for i, value in enumerate(arr):
            if not isinstance(value, dt.datetime):
                raise EphemerisError(f"time #{i} is {value!r}, not a datetime")
            _check_aware(value)
            out[i] = value.timestamp()
        return out, False
    raise EphemerisError(
        f"times must be an aware datetime, a list of them or datetime64 values, got {when!r:.80}"
    )


def _as_datetime64(posix_s: np.ndarray) -> np.ndarray:
    return np.round(posix_s * 1e6).astype(np.int64).astype("datetime64[us]")


def _as_datetime(posix_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(round(float(posix_s), 6), tz=dt.timezone.utc)


@functools.cache
def _timescale():
    from skyfield.api import load

    return load.timescale(builtin=True)


def _tdb_jd(posix_s: np.ndarray) -> np.ndarray:
    """TDB Julian dates of UTC POSIX seconds (skyfield's built-in leap seconds)."""
    days = np.floor(posix_s / _SECONDS_PER_DAY)
    ts = _timescale()
    t = ts.utc(1970, 1, 1 + days.astype(np.int64), 0, 0, posix_s - days * _SECONDS_PER_DAY)
    return np.atleast_1d(np.asarray(t.tdb, dtype=np.float64))


# --------------------------------------------------------------------------------------------
# ephemeris


@functools.cache
def _ephemeris():
    import de421
    from jplephem.ephem import Ephemeris

    return Ephemeris(de421)


def _frame_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """Frame-rotation matrices (SPICE/IAU convention) about axis 1, 2 or 3, shape (..., 3, 3)."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(c), np.zeros_like(c)
    if axis == 1:
        rows = [[one, zero, zero], [zero, c, s], [zero, -s, c]]
    elif axis == 2:
        rows = [[c, zero, -s], [zero, one, zero], [s, zero, c]]
    else:
        rows = [[c, s, zero], [-s, c, zero], [zero, zero, one]]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


@functools.cache
def _pa_to_me() -> np.ndarray:
    a1, a2, a3 = np.radians(np.array(_PA_TO_ME_ARCSEC) / 3600.0)
    return _frame_rotation(1, -a3) @ _frame_rotation(2, -a2) @ _frame_rotation(3, -a1)


def icrf_to_moon_me(jd_tdb: np.ndarray) -> np.ndarray:
    """Rotation matrices from ICRF to the lunar ME frame (DE421), shape (T, 3, 3)."""
    phi, theta, psi = _ephemeris().position("librations", np.asarray(jd_tdb, dtype=np.float64))
    pa = _frame_rotation(3, psi) @ _frame_rotation(1, theta) @ _frame_rotation(3, phi)
    return _pa_to_me() @ pa


def _check_range(jd_tdb: np.ndarray, posix_s: np.ndarray) -> None:
    eph = _ephemeris()
    bad = (jd_tdb < eph.jalpha + 1) | (jd_tdb > eph.jomega - 1)
    if np.any(bad):
        when = _as_datetime(posix_s[np.argmax(bad)])
        raise EphemerisError(
            f"time {when.isoformat()} is outside the DE421 ephemeris (1899-07-30 to 2200-02-01); "
            "pass a time inside it"
        )


def _bodies_me(jd_tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apparent Sun and geometric Earth relative to the Moon's centre, ME frame, metres (T, 3)."""
    eph = _ephemeris()
    geo_moon, geo_moon_v = eph.position_and_velocity("moon", jd_tdb)  # km, km/day
    emb, emb_v = eph.position_and_velocity("earthmoon", jd_tdb)
    moon = emb + geo_moon * eph.moon_share
    moon_v = emb_v + geo_moon_v * eph.moon_share
    sun = eph.position("sun", jd_tdb) - moon
    # Aberration: the Sun appears displaced towards the Moon's barycentric motion.
    beta = moon_v * 1000.0 / _SECONDS_PER_DAY / SPEED_OF_LIGHT_M_S
    dist = np.linalg.norm(sun, axis=0)
    u = sun / dist
    u = u + beta - np.sum(u * beta, axis=0) * u
    sun = u / np.linalg.norm(u, axis=0) * dist
    rot = icrf_to_moon_me(jd_tdb)
    sun_me = np.einsum("tij,jt->ti", rot, sun) * 1000.0
    earth_me = np.einsum("tij,jt->ti", rot, -geo_moon) * 1000.0
    return sun_me, earth_me


def _site_arrays(lat_deg, lon_deg, n_times: int) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    if np.any(~np.isfinite(lat)) or np.any(np.abs(lat) > 90.0):
        raise EphemerisError(f"latitude {lat_deg!r} is outside [-90, 90] degrees")
    if np.any(~np.isfinite(lon)):
        raise EphemerisError(f"longitude {lon_deg!r} is not a finite number of degrees")
    try:
        lat, lon = np.broadcast_arrays(lat.ravel(), lon.ravel(), np.empty(n_times))[:2]
    except ValueError as err:
        raise EphemerisError(
            f"{lat.size} latitudes / {lon.size} longitudes do not match {n_times} times; "
            "pass one site or one per time"
        ) from err
    return lat, lon


def _topocentric(vec_me: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray):
    """Azimuth, elevation (deg) and distance (m) of ME vectors seen from sites on the sphere."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    east = np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], axis=-1)
    north = np.cross(up, east)
    rel = vec_me - MOON_RADIUS_M * up
    e = np.sum(rel * east, axis=-1)
    n = np.sum(rel * north, axis=-1)
    u = np.sum(rel * up, axis=-1)
    az = np.degrees(np.arctan2(e, n)) % 360.0
    el = np.degrees(np.arctan2(u, np.hypot(e, n)))
    return az, el, np.linalg.norm(rel, axis=-1)


def _sky(lat_deg, lon_deg, when: When) -> tuple[SkyPosition, SkyPosition]:
    posix_s, scalar = _posix_seconds(when)
    lat, lon = _site_arrays(lat_deg, lon_deg, posix_s.shape[0])
    if posix_s.size == 0:
        empty = np.empty(0)
        pos = SkyPosition(_as_datetime64(posix_s), empty, empty, empty)
        return pos, pos
    jd = _tdb_jd(posix_s)
    _check_range(jd, posix_s)
    sun_me, earth_me = _bodies_me(jd)
    out = []
    for vec in (sun_me, earth_me):
        az, el, dist = _topocentric(vec, lat, lon)
        if scalar:
            out.append(
                SkyPosition(_as_datetime(posix_s[0]), float(az[0]), float(el[0]), float(dist[0]))
            )
        else:
            out.append(SkyPosition(_as_datetime64(posix_s), az, el, dist))
    return out[0], out[1]


def sun_position(
    lat_deg: float | np.ndarray, lon_deg: float | np.ndarray, when: When
) -> SkyPosition:
    """Azimuth and elevation of the Sun's centre seen from a point on the Moon.

    Parameters
    ----------
    lat_deg, lon_deg : float or ndarray
        Selenographic (ME frame) latitude and longitude in degrees, east positive. One site, or
        one per time.
    when : aware datetime, sequence of aware datetimes, or datetime64 array (UTC)
        Time(s). A naive datetime is refused: the Moon does not keep local time.

    Returns
    -------
    SkyPosition
        Floats for a single datetime, arrays of shape (T,) otherwise.

    Raises
    ------
    EphemerisError
        Naive datetime, time outside DE421, latitude outside [-90, 90].

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2025, 6, 5, 19, 17, tzinfo=dt.timezone.utc)
    >>> round(sun_position(60.5, -4.6, t).elevation_deg, 1)
    11.9
    """
    return _sky(lat_deg, lon_deg, when)[0]


def earth_position(
    lat_deg: float | np.ndarray, lon_deg: float | np.ndarray, when: When
) -> SkyPosition:
    """Azimuth and elevation of the Earth's centre seen from a point on the Moon.

    Parameters and errors as :func:`sun_position`. Seen from the surface, the Earth stands
    up to 0.26 deg lower than seen from the Moon's centre (topocentric parallax).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2025, 6, 5, 19, 17, tzinfo=dt.timezone.utc)
    >>> round(earth_position(60.5, -4.6, t).elevation_deg, 1)  # 31.6 from the Moon's centre
    31.4
    """
    return _sky(lat_deg, lon_deg, when)[1]


# --------------------------------------------------------------------------------------------
# timelines


def utc_range(start: dt.datetime, days: float, step_h: float = 1.0) -> np.ndarray:
    """Return UTC times from ``start`` every ``step_h`` hours for ``days`` (end included).

    Returns
    -------
    ndarray of datetime64[us]
        UTC times, shape (T,).
    """
    _check_aware(start)
    if not days > 0 or not np.isfinite(days):
        raise EphemerisError(f"days must be a positive number, got {days!r}")
    if not step_h > 0 or not np.isfinite(step_h):
        raise EphemerisError(f"step_h must be a positive number of hours, got {step_h!r}")
    n = int(np.floor(days * 24.0 / step_h + 1e-9)) + 1
    return _as_datetime64(start.timestamp() + np.arange(n) * step_h * 3600.0)


def _elevation_s(lat_deg: float, lon_deg: float, posix_s: np.ndarray, body: str = "sun"):
    jd = _tdb_jd(posix_s)
    _check_range(jd, posix_s)
    sun_me, earth_me = _bodies_me(jd)
    lat, lon = _site_arrays(lat_deg, lon_deg, posix_s.shape[0])
    return _topocentric(sun_me if body == "sun" else earth_me, lat, lon)[1]


def _sun_elevation_s(lat_deg: float, lon_deg: float, posix_s: np.ndarray) -> np.ndarray:
    return _elevation_s(lat_deg, lon_deg, posix_s, "sun")


def _crossings(lat_deg, lon_deg, t0: float, t1: float, level: float, step_s: float, body="sun"):
    """Rising and setting times (POSIX s) of a body through ``level`` in [t0, t1]."""
    t = np.arange(t0, t1 + step_s, step_s)
    f = _elevation_s(lat_deg, lon_deg, t, body) - level
    up = f > 0
    idx = np.flatnonzero(up[1:] != up[:-1])
    rising = up[idx + 1]
    lo, hi = t[idx], t[idx + 1]
    lo_up = up[idx]
    # Bisection on every bracket at once, to well under a second.
    for _ in range(int(np.ceil(np.log2(step_s / 0.25)))):
        if lo.size == 0:
            break
        mid = 0.5 * (lo + hi)
        mid_up = _elevation_s(lat_deg, lon_deg, mid, body) - level > 0
        same = mid_up == lo_up
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    crossing = 0.5 * (lo + hi)
    return crossing[rising], crossing[~rising]


def _windows(lat_deg, lon_deg, start, end, level, step_h, body) -> list[TimeWindow]:
    _check_aware(start)
    _check_aware(end)
    _site_arrays(lat_deg, lon_deg, 1)
    t0, t1 = start.timestamp(), end.timestamp()
    if not t1 > t0:
        raise EphemerisError(f"end {end.isoformat()} is not after start {start.isoformat()}")
    if not (step_h > 0 and np.isfinite(step_h)):
        raise EphemerisError(f"step_h must be a positive number of hours, got {step_h!r}")
    rises, sets = _crossings(lat_deg, lon_deg, t0, t1, level, step_h * 3600.0, body)
    up_at_start = _elevation_s(lat_deg, lon_deg, np.array([t0]), body)[0] > level
    edges = sorted([(r, True) for r in rises] + [(s, False) for s in sets])
    windows: list[TimeWindow] = []
    open_at = t0 if up_at_start else None
    for when, rising in edges:
        if when > t1:
            break
        if rising:
            open_at = when
        elif open_at is not None:
            windows.append(TimeWindow(_as_datetime(open_at), _as_datetime(when)))
            open_at = None
    if open_at is not None:
        windows.append(TimeWindow(_as_datetime(open_at), _as_datetime(t1)))
    return windows


def daylight_windows(
    lat_deg: float,
    lon_deg: float,
    start: dt.datetime,
    end: dt.datetime,
    *,
    min_elevation_deg: float = 0.0,
    step_h: float = 1.0,
) -> list[TimeWindow]:
    """Intervals between ``start`` and ``end`` when the Sun's centre is above an elevation.

    Crossings are found on a ``step_h`` grid and refined by bisection to under a second; windows
    are clipped to [start, end]. Terrain is not considered (see ``terrain.sunlight_map``).

    Returns
    -------
    list of TimeWindow
        In time order; empty when the Sun stays below ``min_elevation_deg``.
    """
    return _windows(lat_deg, lon_deg, start, end, min_elevation_deg, step_h, "sun")


def earth_windows(
    lat_deg: float,
    lon_deg: float,
    start: dt.datetime,
    end: dt.datetime,
    *,
    min_elevation_deg: float = 0.0,
    step_h: float = 1.0,
) -> list[TimeWindow]:
    """Intervals when the Earth's centre is above an elevation: direct-to-Earth comm windows.

    As :func:`daylight_windows`, for the Earth (topocentric, terrain not considered). On the
    near side the Earth never sets, only librates by some degrees; near the limb it does.
    """
    return _windows(lat_deg, lon_deg, start, end, min_elevation_deg, step_h, "earth")


def lunar_day(
    lat_deg: float,
    lon_deg: float,
    when: dt.datetime,
    *,
    horizon_deg: float = 0.0,
) -> LunarDay:
    """Sunrise, noon, sunset and peak Sun of the lunar day around ``when`` at a site.

    If the Sun is up at ``when``, the day containing it; otherwise the next one. The Earth's
    lowest and highest elevations are taken over the same daylight (hourly samples).

    Parameters
    ----------
    lat_deg, lon_deg : float
        Selenographic site, degrees, east positive.
    when : datetime
        Aware datetime.
    horizon_deg : float
        Elevation of the Sun's centre that counts as rise/set (0 = ideal horizon of the sphere).

    Raises
    ------
    EphemerisError
        Naive datetime, bad site, or the Sun does not rise within 30 days.

    Examples
    --------
    >>> import datetime as dt
    >>> day = lunar_day(60.5, -4.6, dt.datetime(2025, 6, 5, 19, 17, tzinfo=dt.timezone.utc))
    >>> round(day.daylight_days, 1)
    15.2
    """
    _check_aware(when)
    _site_arrays(lat_deg, lon_deg, 1)
    t = when.timestamp()
    span = 30.0 * _SECONDS_PER_DAY
    rises, sets = _crossings(lat_deg, lon_deg, t - span, t + span, horizon_deg, 3600.0)
    up_now = _sun_elevation_s(lat_deg, lon_deg, np.array([t]))[0] > horizon_deg
    if up_now:
        before = rises[rises <= t]
        sunrise = before[-1] if before.size else None
        after = sets[sets > t]
        sunset = after[0] if after.size else None
    else:
        after = rises[rises > t]
        if after.size == 0:
            raise EphemerisError(
                f"the Sun does not rise above {horizon_deg} deg at ({lat_deg}, {lon_deg}) within "
                f"30 days of {when.isoformat()}"
            )
        sunrise = after[0]
        later = sets[sets > sunrise]
        sunset = later[0] if later.size else None
    a = sunrise if sunrise is not None else t - span
    b = sunset if sunset is not None else t + span
    hours = np.arange(a, b, 3600.0)
    sun_el = _sun_elevation_s(lat_deg, lon_deg, hours)
    peak = hours[np.argmax(sun_el)]
    minutes = np.arange(max(a, peak - 3600.0), min(b, peak + 3600.0) + 1.0, 60.0)
    fine = _sun_elevation_s(lat_deg, lon_deg, minutes)
    noon = minutes[np.argmax(fine)]
    earth = earth_position(lat_deg, lon_deg, _as_datetime64(hours)).elevation_deg
    return LunarDay(
        lat_deg=float(lat_deg),
        lon_deg=float(lon_deg),
        horizon_deg=float(horizon_deg),
        sunrise=None if sunrise is None else _as_datetime(sunrise),
        noon=_as_datetime(noon),
        sunset=None if sunset is None else _as_datetime(sunset),
        peak_sun_elevation_deg=float(np.max(fine)),
        earth_elevation_min_deg=float(np.min(earth)),
        earth_elevation_max_deg=float(np.max(earth)),
    )
