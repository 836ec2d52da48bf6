"""Rasters of the lunar surface: DEM I/O, lunar CRS, synthetic terrain, hazard layers, light.

Names load on first use (:mod:`lazy_loader`), so ``import frigoris.terrain`` does not compile
or import every kernel.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "craters": [
            "CraterMatch",
            "crater_features",
            "crater_mask",
            "detect_craters",
            "evaluation_population",
            "match_craters",
        ],
        "crs": [
            "MOON_GEOGRAPHIC",
            "MOON_RADIUS_M",
            "crs_to_lunar",
            "local_metric_crs",
            "lunar_to_crs",
        ],
        "dem": ["Dem"],
        "errors": [
            "DemNotFoundError",
            "EarthCrsError",
            "EmptyDemError",
            "EphemerisError",
            "GridError",
            "HazardInputError",
            "IlluminationError",
            "MissingCrsError",
            "NotLunarCrsError",
            "TerrainError",
            "UnreadableDemError",
            "WindowOutsideError",
        ],
        "hazard": ["HazardLimits", "HazardMap", "LanderSite", "hazard_map"],
        "illumination": [
            "HorizonMap",
            "SunlightMap",
            "cast_shadow",
            "horizon_map",
            "lander_height_raster",
            "sun_over_dem",
            "sunlight_map",
        ],
        "io": [
            "masks_path",
            "point_feature",
            "point_features",
            "read_dem",
            "read_layers",
            "read_tags",
            "write_geojson",
            "write_geotiff",
            "write_text",
        ],
        "sky": [
            "LunarDay",
            "SkyPosition",
            "TimeWindow",
            "daylight_windows",
            "earth_position",
            "earth_windows",
            "lunar_day",
            "sun_position",
        ],
        "slope": ["hillshade", "slope_deg"],
        "solar": ["SolarPanel", "leg_energy", "panel_power_w", "power_at"],
        "synth": ["SyntheticSite", "SynthParams", "synthesize"],
    },
)
