"""Surface gradient by Horn's method, slope and hillshade on a metric grid.

Horn (1981) is the 3x3 weighted difference that ``gdaldem slope`` uses by default; matching it
lets GDAL serve as the independent reference in tests. Cells whose 3x3 window touches nodata
(NaN) or the grid edge get NaN: a hole never reads as flat ground.
"""

from __future__ import annotations

import numpy as np


def horn_gradient(z: np.ndarray, res_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (dz/dx east, dz/dy north) by Horn's method, NaN on edges and next to nodata.

    Parameters
    ----------
    z : ndarray of shape (M, N)
        Heights in metres; rows run south (north-up grid).
    res_m : float
        Pixel size in metres.

    Returns
    -------
    dzdx, dzdy : ndarray of shape (M, N), float32
    """
    z = np.asarray(z, dtype=np.float64)
    dzdx = np.full(z.shape, np.nan, dtype=np.float32)
    dzdy = np.full(z.shape, np.nan, dtype=np.float32)
    if min(z.shape) < 3:
        return dzdx, dzdy
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dzdx[1:-1, 1:-1] = ((c + 2 * f + i) - (a + 2 * d + g)) / (8.0 * res_m)
    # Row index grows southwards, so north-minus-south is top-minus-bottom.
    dzdy[1:-1, 1:-1] = ((a + 2 * b + c) - (g + 2 * h + i)) / (8.0 * res_m)
    return dzdx, dzdy


def slope_deg(z: np.ndarray, res_m: float) -> np.ndarray:
    """Slope in degrees by Horn's method (as ``gdaldem slope``), NaN on edges and near nodata.

    Examples
    --------
    A plane rising 10 degrees to the east, on 0.5 m pixels:

    >>> x = np.arange(5) * 0.5
    >>> z = np.tile(x * np.tan(np.radians(10.0)), (5, 1))
    >>> round(float(slope_deg(z, 0.5)[2, 2]), 3)
    10.0
    """
    dzdx, dzdy = horn_gradient(z, res_m)
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy))).astype(np.float32)


def hillshade(
    z: np.ndarray, res_m: float, azimuth_deg: float = 315.0, altitude_deg: float = 45.0
) -> np.ndarray:
    """Lambertian shading in [0, 1] for a light from azimuth (clockwise from north) and altitude.

    Edges and nodata give NaN. Cast shadows are not included (see ``terrain.cast_shadow``).

    Examples
    --------
    Flat ground under a light 45 degrees up shades to sin(45 deg):

    >>> round(float(hillshade(np.zeros((3, 3)), 1.0)[1, 1]), 4)
    0.7071
    """
    dzdx, dzdy = horn_gradient(z, res_m)
    az, alt = np.radians(azimuth_deg), np.radians(altitude_deg)
    sun = np.array([np.sin(az) * np.cos(alt), np.cos(az) * np.cos(alt), np.sin(alt)])
    norm = np.sqrt(dzdx.astype(np.float64) ** 2 + dzdy.astype(np.float64) ** 2 + 1.0)
    shade = (-dzdx * sun[0] - dzdy * sun[1] + sun[2]) / norm
    return np.clip(shade, 0.0, 1.0).astype(np.float32)
