"""Exceptions raised by :mod:`planners`."""

from __future__ import annotations


class PlanningError(Exception):
    """Root of every error raised by the planners package."""


class NoPathError(PlanningError, ValueError):
    """No traversable path joins start and goal; the message names the reason."""


class InfeasiblePlanError(PlanningError, ValueError):
    """A plan violates a constraint it must satisfy."""


class InvalidProblemError(PlanningError, ValueError):
    """The arrays or values describing a planning problem are malformed (shape, NaN, sign)."""


class NoFeasibleRouteError(PlanningError, ValueError):
    """No route from start to end fits the budget and time windows (or none was found)."""
