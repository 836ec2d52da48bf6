"""Graphs and schedules: least-cost paths, routes, stop selection, traverse timelines.

Takes numpy arrays and plain values; never opens a file, never imports :mod:`frigoris.rover`.
Names load on first use (:mod:`lazy_loader`).
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "errors": [
            "InfeasiblePlanError",
            "InvalidProblemError",
            "NoFeasibleRouteError",
            "NoPathError",
            "PlanningError",
        ],
        "orienteering": ["Route", "check_route", "solve_orienteering"],
        "paths": [
            "CostDistance",
            "Path",
            "PathInputError",
            "SlopeTerm",
            "TravelMatrix",
            "cost_distance",
            "shortest_path",
            "smooth_path",
            "travel_matrix",
        ],
        "routes": ["plan_route"],
        "stops": ["Candidates", "StopRules", "candidate_stops"],
        "traverse": ["Operations", "RoverModel", "TraversePlan", "check_plan", "plan_traverse"],
    },
)
