"""Exceptions raised by :mod:`rover`."""

from __future__ import annotations


class RoverError(Exception):
    """Root of every error raised by the rover package (specs, mission files, pipeline)."""


class SpecError(RoverError, ValueError):
    """A lander, rover or mission specification is invalid."""


class TouchdownError(RoverError, ValueError):
    """A touchdown simulation cannot run: target off the DEM, lander too small for the grid, ..."""


class DeployError(RoverError, ValueError):
    """A deployment cannot be evaluated: inputs that do not belong together (not a no-go result)."""


class SequenceError(RoverError, ValueError):
    """A command sequence breaks a flight rule no waiver covers: never uplinked nor written."""


class TelemetryError(RoverError, ValueError):
    """Telemetry or rover-seen hazards that cannot be right (off the map, in keep-out, ...)."""
