"""Exceptions raised by :mod:`terrain`: one root, each also a builtin it resembles."""

from __future__ import annotations


class TerrainError(Exception):
    """Root of every error raised by the terrain package."""


class DemNotFoundError(TerrainError, FileNotFoundError):
    """The DEM path does not exist."""


class UnreadableDemError(TerrainError, ValueError):
    """GDAL cannot open or decode the file as a raster."""


class MissingCrsError(TerrainError, ValueError):
    """The raster carries no coordinate reference system and none was given."""


class NotLunarCrsError(TerrainError, ValueError):
    """The CRS is not on the Moon (another body, or none that can be identified)."""


class EarthCrsError(NotLunarCrsError):
    """The CRS is an Earth CRS (WGS 84 and friends): a lunar DEM labelled wrongly."""


class EmptyDemError(TerrainError, ValueError):
    """Every cell of the DEM (or of the requested window) is nodata."""


class WindowOutsideError(TerrainError, ValueError):
    """The requested window does not overlap the data."""


class GridError(TerrainError, ValueError):
    """A grid is unusable for metric kernels (rotated, non-square, not metric, wrong shape)."""


class EphemerisError(TerrainError, ValueError):
    """A time or place the ephemeris cannot answer (naive datetime, date outside DE421, ...)."""


class IlluminationError(TerrainError, ValueError):
    """A sun direction, shadow input or solar panel parameter is invalid."""


class HazardInputError(TerrainError, ValueError):
    """Inputs to the hazard map are unusable (lander off the DEM, bad limits, wrong shapes)."""
