"""Exceptions raised by :mod:`rover`."""

from __future__ import annotations


class RoverError(Exception):
    """Root of every error raised by the rover package (specs, mission files, pipeline)."""


class SpecError(RoverError, ValueError):
    """A lander, rover or mission specification is invalid."""
