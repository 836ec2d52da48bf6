"""The mission: vehicle and mission models, and the application on top of them.

The models (specs, touchdown, deployment, energy, planning) sit in this package; the
application (:mod:`frigoris.rover.app`: mission files, jobs, products, the CLI) in its own.

Names load on first use (:mod:`lazy_loader`).
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["app"],
    submod_attrs={
        "deploy": ["Handoff", "crop", "deploy"],
        "errors": ["DeployError", "RoverError", "SpecError", "TouchdownError"],
        "planning": ["PlanResult", "plan_on_hazard"],
        "specs": [
            "RESILIENCE",
            "TENACIOUS",
            "LanderSpec",
            "RoverSpec",
            "hazard_limits",
            "lander_site",
        ],
        "touchdown": [
            "PLANNED_TOUCHDOWN_UTC",
            "Dispersion",
            "TouchdownResult",
            "simulate_touchdown",
            "touchdown_at",
            "touchdown_safety",
        ],
    },
)
