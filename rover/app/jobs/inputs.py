"""Inputs every job reads the same way: positions, sites, the Sun, rock abundance, targets.

Positions follow one convention everywhere (command line, mission files, telemetry): map
metres in the DEM's CRS or selenographic degrees, always said explicitly, as
:class:`Position`.
"""

from __future__ import annotations

import json
import math
import pathlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pyproj

from frigoris.terrain import Dem, read_dem, read_layers
from frigoris.terrain.crs import check_lunar, crs_to_lunar, lunar_to_crs, to_pyproj
from frigoris.terrain.errors import TerrainError
from frigoris.terrain.illumination import sun_over_dem
from frigoris.terrain.synth import SynthParams, synthesize

from ...errors import RoverError
from ...progress import ProgressCallback, no_progress

__all__ = [
    "Position",
    "load_site",
    "read_rock_abundance",
    "read_targets",
    "resolve_sun",
]


@dataclass(frozen=True)
class Position:
    """A place on the Moon, given as map metres (``xy``) or selenographic degrees (``latlon``).

    Text form: ``xy:X,Y`` (metres in the map's CRS) or ``latlon:LAT,LON`` (degrees, east
    positive). A bare ``A,B`` is refused: whether 60,-4 means metres or degrees is exactly the
    kind of guess that puts a lander in the wrong place.

    Examples
    --------
    >>> Position.parse("xy:10,-20")
    Position(kind='xy', a=10.0, b=-20.0)
    >>> Position.parse("latlon:60.5,-4.6").text
    'latlon:60.5,-4.6'
    """

    kind: Literal["xy", "latlon"]
    a: float
    b: float

    @classmethod
    def parse(cls, text: str, what: str = "position") -> Position:
        """Read ``xy:X,Y`` or ``latlon:LAT,LON``; a one-line :class:`RoverError` otherwise."""
        raw = str(text).strip()
        kind, sep, rest = raw.partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in ("xy", "latlon"):
            raise RoverError(
                f"{what} {raw!r} does not say which coordinates it uses; write xy:X,Y (map "
                "metres) or latlon:LAT,LON (degrees, east positive)"
            )
        try:
            a, b = (float(v) for v in rest.split(","))
        except ValueError:
            raise RoverError(
                f"{what} {raw!r} is not two numbers; write {kind}:"
                + ("X,Y" if kind == "xy" else "LAT,LON")
                + (" e.g. xy:120,-40" if kind == "xy" else " e.g. latlon:60.5,-4.6")
            ) from None
        if not (math.isfinite(a) and math.isfinite(b)):
            raise RoverError(f"{what} {raw!r} has a value that is not a finite number")
        if kind == "latlon" and not -90.0 <= a <= 90.0:
            raise RoverError(f"{what} {raw!r}: latitude {a:g} is outside [-90, 90]")
        if kind == "latlon" and not -180.0 <= b <= 360.0:
            raise RoverError(f"{what} {raw!r}: longitude {b:g} is outside [-180, 360]")
        return cls(kind, a, b)  # type: ignore[arg-type]

    @property
    def text(self) -> str:
        """The text form, as :meth:`parse` reads it."""
        return f"{self.kind}:{self.a:g},{self.b:g}"

    def xy(self, crs) -> tuple[float, float]:
        """Map metres in ``crs``."""
        if self.kind == "xy":
            return self.a, self.b
        x, y = lunar_to_crs(crs, self.a, self.b)
        return float(x), float(y)

    def on(self, dem: Dem, what: str = "position") -> tuple[float, float]:
        """Map metres of this position, checked to lie on ``dem``."""
        x, y = self.xy(dem.crs)
        if not dem.contains(x, y):
            b = dem.bounds
            raise RoverError(
                f"{what} {self.text} is outside the DEM (x {b.left:.6g} to {b.right:.6g}, y "
                f"{b.bottom:.6g} to {b.top:.6g} m in its CRS); give a position on it"
            )
        return x, y


def load_site(
    dem_path: pathlib.Path | None, *, seed: int = 0, progress: ProgressCallback = no_progress
) -> tuple[Dem, Any, str]:
    """Load the DEM (read, or the default synthetic site), its rock abundance and a label."""
    if dem_path is None:
        site = synthesize(SynthParams(seed=seed), progress=progress)
        return site.dem, site.rock_abundance, f"synthetic Mare Frigoris site (seed {seed})"
    return read_dem(dem_path), 0.01, pathlib.Path(dem_path).name


def read_rock_abundance(value: float | pathlib.Path, dem: Dem) -> float | np.ndarray:
    """Golombek k for the DEM: a number in [0, 0.4], or a raster on exactly the DEM's grid."""
    if isinstance(value, pathlib.Path):
        layers, grid = read_layers(value)
        if grid.shape != dem.shape or grid.transform != dem.transform:
            raise RoverError(
                f"rock-abundance raster {value} is not on the DEM's grid as read; resample it "
                "onto the DEM or give a number (Golombek k) instead"
            )
        k = np.asarray(next(iter(layers.values())))
        finite = k[np.isfinite(k)]
        if finite.size and (finite.min() < 0.0 or finite.max() > 0.4):
            raise RoverError(
                f"rock-abundance raster {value} holds values outside [0, 0.4] "
                f"({finite.min():.3g} to {finite.max():.3g}); Golombek k is an area fraction"
            )
        return k
    k = float(value)
    if not (math.isfinite(k) and 0.0 <= k <= 0.4):
        raise RoverError(
            f"rock abundance {value!r} is outside [0, 0.4]; Golombek k is the fraction of the "
            "area covered by rocks (mare 0.005-0.02)"
        )
    return k


def resolve_sun(
    dem: Dem, *, sun_az_el: tuple[float, float] | None = None, when: datetime | None = None
) -> tuple[float, float] | None:
    """Sun direction over the DEM: given directly, or from the ephemeris at a UTC time.

    Returns ``(azimuth_deg from grid north, elevation_deg)``, or None without either.

    Examples
    --------
    >>> from frigoris.rover.touchdown import PLANNED_TOUCHDOWN_UTC
    >>> from frigoris.terrain import local_metric_crs
    >>> dem = Dem.from_array(np.zeros((8, 8)), res_m=1.0, crs=local_metric_crs(60.5, -4.6))
    >>> az, el = resolve_sun(dem, when=PLANNED_TOUCHDOWN_UTC)
    >>> round(az), round(el, 1)
    (108, 11.9)
    >>> resolve_sun(dem, sun_az_el=(90.0, 10.0))
    (90.0, 10.0)
    """
    if sun_az_el is not None:
        return sun_az_el
    if when is None:
        return None
    sun = sun_over_dem(dem, when)
    return float(sun.azimuth_deg), float(sun.elevation_deg)


def read_targets(path: pathlib.Path, dem: Dem) -> tuple:
    """User targets from a GeoJSON FeatureCollection of Points with ``priority`` and ``name``.

    Coordinates are taken in the DEM's CRS when the file names one (frigoris writes it so), or
    as longitude/latitude on the Moon when it names none (plain RFC 7946 files). Every target
    must be a Point on the map with a numeric priority >= 1.

    Returns
    -------
    (x, y, priority, names)
    """
    if not path.is_file():
        raise RoverError(f"targets file {path} does not exist; give a GeoJSON file of Points")
    try:
        doc = json.loads(path.read_text())
        feats = doc["features"]
        if not isinstance(feats, list):
            raise TypeError("features is not a list")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise RoverError(
            f"{path} is not a GeoJSON FeatureCollection ({err}); fix the file"
        ) from None
    xs, ys, prio, names = [], [], [], []
    for i, f in enumerate(feats, start=1):
        props = (f or {}).get("properties") or {}
        name = str(props.get("name", f"target {i}"))
        geom = (f or {}).get("geometry") or {}
        if geom.get("type") != "Point":
            raise RoverError(
                f"{path}: target {i} ({name}) is a {geom.get('type')}, not a Point; give each "
                "target as a Point"
            )
        try:
            x, y = (float(v) for v in geom["coordinates"][:2])
        except (KeyError, TypeError, ValueError):
            raise RoverError(f"{path}: target {i} ({name}) has no numeric coordinates") from None
        if "priority" not in props:
            raise RoverError(f"{path}: target {i} ({name}) has no priority; add priority >= 1")
        p = props["priority"]
        if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p) or p < 1:
            raise RoverError(
                f"{path}: target {i} ({name}) priority {p!r} is not a number >= 1; "
                'write e.g. "priority": 2'
            )
        xs.append(x)
        ys.append(y)
        prio.append(float(p))
        names.append(name)
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    if "crs" not in doc and x.size:
        if np.any(np.abs(y) > 90.0):
            raise RoverError(
                f"{path} names no CRS, so its coordinates are read as lon/lat degrees, but a "
                "latitude is beyond 90; write the file's CRS into it (frigoris' own GeoJSON does)"
            )
        x, y = lunar_to_crs(dem.crs, y, x)
        x, y = np.atleast_1d(x), np.atleast_1d(y)
    elif "crs" in doc and x.size:
        file_crs = _geojson_crs(path, doc["crs"])
        if to_pyproj(file_crs) != to_pyproj(dem.crs):
            lat, lon = crs_to_lunar(file_crs, x, y)
            x, y = lunar_to_crs(dem.crs, lat, lon)
            x, y = np.atleast_1d(x), np.atleast_1d(y)
    for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
        if not dem.contains(float(xi), float(yi)):
            raise RoverError(
                f"{path}: target {i + 1} ({names[i]}) at ({xi:.6g}, {yi:.6g}) is off the map; "
                "move it onto the site"
            )
    return x, y, np.asarray(prio), names


def _geojson_crs(path: pathlib.Path, crs_member: Any) -> str:
    """The Moon CRS a GeoJSON ``crs`` member names (frigoris writes its WKT)."""
    try:
        name = crs_member["properties"]["name"]
        check_lunar(name)
    except (KeyError, TypeError):
        raise RoverError(f"{path}: the crs member is not a named CRS; fix the file") from None
    except (TerrainError, pyproj.exceptions.CRSError) as err:
        raise RoverError(f"{path}: {str(err).splitlines()[0]}") from None
    return name
