"""Rasters of the lunar surface: DEM I/O, lunar CRS, synthetic terrain, hazard layers, light."""

from .crs import MOON_GEOGRAPHIC, MOON_RADIUS_M, local_metric_crs
from .dem import Dem
from .errors import (
    DemNotFoundError,
    EarthCrsError,
    EmptyDemError,
    GridError,
    MissingCrsError,
    NotLunarCrsError,
    TerrainError,
    UnreadableDemError,
    WindowOutsideError,
)
from .hazard import HazardLimits, HazardMap, LanderSite, hazard_map
from .io import point_feature, point_features, read_dem, read_layers, read_tags, write_geojson, write_geotiff

__all__ = [
    "MOON_GEOGRAPHIC",
    "MOON_RADIUS_M",
    "Dem",
    "DemNotFoundError",
    "EarthCrsError",
    "EmptyDemError",
    "GridError",
    "MissingCrsError",
    "NotLunarCrsError",
    "TerrainError",
    "UnreadableDemError",
    "WindowOutsideError",
    "local_metric_crs",
    "point_feature",
    "point_features",
    "HazardLimits",
    "HazardMap",
    "LanderSite",
    "hazard_map",
    "read_dem",
    "read_layers",
    "read_tags",
    "write_geojson",
    "write_geotiff",
]
