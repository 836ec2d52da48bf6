"""The :class:`Dem` value type: an elevation grid in metres on a metric lunar CRS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from rasterio.coords import BoundingBox
from rasterio.crs import CRS

from .crs import check_lunar, is_metric_projected, to_rasterio
from .errors import GridError

SQUARE_RTOL = 1e-3
"""Pixels whose sides differ by less than this share are square: a slope error below 0.1 %,
far under DEM noise. :func:`~frigoris.terrain.io.read_dem` resamples anything further off."""


@dataclass(frozen=True, eq=False)
class Dem:
    """An elevation model on a north-up metric grid with square pixels.

    Parameters
    ----------
    elevation : ndarray of shape (M, N)
        Heights in metres relative to the 1,737,400 m Moon sphere, float32, NaN where no data.
        Stored as a read-only view: the caller's array is not modified.
    transform : Affine
        Pixel (col, row) to map (x, y), pixel corners; north-up (no rotation).
    crs : rasterio.crs.CRS
        A projected Moon CRS in metres.

    Raises
    ------
    GridError
        The array is not 2-D, the grid is rotated, the pixels are not square or the CRS is not
        metric. Use :func:`terrain.read_dem`, which reprojects such grids.
    """

    elevation: np.ndarray
    transform: Affine
    crs: CRS

    def __post_init__(self) -> None:
        elev = np.asarray(self.elevation, dtype=np.float32)
        if elev.ndim != 2 or min(elev.shape) < 1:
            raise GridError(f"elevation must be a 2-D array, got shape {elev.shape}")
        view = elev.view()
        view.flags.writeable = False
        object.__setattr__(self, "elevation", view)
        t = Affine(*tuple(self.transform)[:6])
        if t.b != 0.0 or t.d != 0.0:
            raise GridError(f"grid is rotated (transform {tuple(t)[:6]}); reproject it first")
        if t.a <= 0 or t.e >= 0:
            raise GridError(f"grid must be north-up with positive pixel width, got {tuple(t)[:6]}")
        if abs(t.a + t.e) > SQUARE_RTOL * t.a:
            raise GridError(
                f"pixels are not square ({t.a} x {-t.e} m); read the DEM with read_dem, "
                "which resamples to a square metric grid"
            )
        object.__setattr__(self, "transform", t)
        crs = to_rasterio(self.crs)
        check_lunar(crs)
        if not is_metric_projected(crs):
            raise GridError(
                f"CRS {crs.to_string()[:60]!r} is not a projected metric CRS; read the DEM with "
                "read_dem, which reprojects it to a local metric projection"
            )
        object.__setattr__(self, "crs", crs)

    @property
    def res_m(self) -> float:
        """Pixel size in metres (square pixels)."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape (rows, cols)."""
        return (int(self.elevation.shape[0]), int(self.elevation.shape[1]))

    @property
    def bounds(self) -> BoundingBox:
        """Outer edges of the grid in map coordinates (left, bottom, right, top)."""
        rows, cols = self.shape
        left, top = self.transform @ (0, 0)
        right, bottom = self.transform @ (cols, rows)
        return BoundingBox(left, bottom, right, top)

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of cells holding data, shape (M, N)."""
        return np.isfinite(self.elevation)

    def xy(self, row, col):
        """Map coordinates of pixel centres; scalars or arrays of row and column indices."""
        row = np.asarray(row, dtype=np.float64)
        col = np.asarray(col, dtype=np.float64)
        x, y = self.transform @ (col + 0.5, row + 0.5)
        if np.ndim(x) == 0:
            return float(x), float(y)
        return x, y

    def rowcol(self, x, y):
        """Integer (row, col) of the pixels containing map coordinates (x, y)."""
        col, row = ~self.transform @ (np.asarray(x, dtype=np.float64), np.asarray(y, np.float64))
        row = np.floor(row).astype(np.int64)
        col = np.floor(col).astype(np.int64)
        if row.ndim == 0:
            return int(row), int(col)
        return row, col

    def contains(self, x: float, y: float) -> bool:
        """True when map point (x, y) lies on the grid."""
        r, c = self.rowcol(x, y)
        return 0 <= r < self.shape[0] and 0 <= c < self.shape[1]

    def with_elevation(self, elevation: np.ndarray) -> Dem:
        """A new Dem on the same grid with other heights."""
        if np.shape(elevation) != self.shape:
            raise GridError(f"elevation shape {np.shape(elevation)} != grid shape {self.shape}")
        return Dem(np.asarray(elevation, dtype=np.float32), self.transform, self.crs)

    @classmethod
    def from_array(
        cls,
        elevation: np.ndarray,
        *,
        res_m: float,
        crs: CRS,
        origin: tuple[float, float] | None = None,
    ) -> Dem:
        """Build a Dem from an array; ``origin`` is the top-left corner (default: centred on 0)."""
        rows, cols = np.shape(elevation)
        if origin is None:
            origin = (-cols * res_m / 2.0, rows * res_m / 2.0)
        transform = Affine(res_m, 0.0, origin[0], 0.0, -res_m, origin[1])
        return cls(elevation, transform, crs)
