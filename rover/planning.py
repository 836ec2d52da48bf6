"""From a hazard map to a checked traverse plan: candidate stops, solar power, the planner.

:func:`plan_on_hazard` adapts the rover and lander specs and a
:class:`~frigoris.terrain.hazard.HazardMap` to :func:`frigoris.planners.plan_traverse`; the
plan's files are :mod:`frigoris.rover.app.products.plan_files`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
from affine import Affine
from scipy import ndimage

from frigoris.planners.stops import Candidates, StopRules, candidate_stops
from frigoris.planners.traverse import (
    Operations,
    RoverModel,
    TraversePlan,
    plan_traverse,
    too_risky_to_enter,
)
from frigoris.terrain import Dem
from frigoris.terrain.hazard import HazardMap
from frigoris.terrain.illumination import HorizonMap, horizon_map

from .energy import SolarModel, quantized, rover_model
from .errors import RoverError
from .operations import (
    OpsContext,
    PlanLayers,
    SegmentPlan,
    lander_camera_view,
    plan_segment,
    reach_m,
)
from .progress import ProgressCallback, no_progress
from .specs import OPERATIONS, LanderSpec, OpsSpec, RoverSpec

__all__ = [
    "HORIZON_SECTORS",
    "PlanHorizons",
    "PlanResult",
    "command_lattice",
    "default_start",
    "lattice_factor",
    "plan_horizons",
    "plan_on_hazard",
]


HORIZON_SECTORS = 16
"""Azimuth sectors of the horizon map used for shadows over the mission (22.5 deg each)."""


@dataclass(frozen=True)
class PlanResult:
    """A plan with what it was made from."""

    plan: TraversePlan
    candidates: Candidates
    solar: SolarModel
    start_time: datetime
    unplanned_targets: tuple[tuple[str, str, float, float], ...] = ()
    """User targets the plan does not visit, ``(name, why, x, y)`` each: none is silently
    dropped (``plan.txt``, the report and the plan map show them)."""
    rover: RoverModel | None = None
    """The rover as the planner saw it (speed, battery and reserve, drive windows)."""
    segment: SegmentPlan | None = None
    """With an operations spec: the command sequence, its check, the flight rules and the
    budgets (None for a plan without a cadence)."""
    context: OpsContext | None = None
    """What stays fixed over the mission's operations (specs, stop rules, end, waivers)."""
    horizons: HorizonMap | None = None
    """The horizon map behind ``solar`` (kept so a replan needs not recompute it)."""
    horizon_codes: np.ndarray | None = None
    """The horizon map's 8-bit codes (``horizons.npy`` of a run)."""
    start_heading_deg: float = 0.0
    start_xy: tuple[float, float] | None = None
    camera_azimuth_deg: float | None = None
    done: tuple[dict, ...] = ()
    """Stops made before this plan (a replan): kind, name, place, time."""
    hazards: tuple[dict, ...] = ()
    """Rover-seen hazards kept out of this plan (GeoJSON features in the map's CRS)."""


@dataclass(frozen=True, eq=False)
class PlanHorizons:
    """The horizon map a plan reads its shadows from, with its 8-bit codes.

    What :func:`plan_on_hazard` computes first; a caller that has the DEM early (the mission
    job) computes it with :func:`plan_horizons` side by side with the steps before the plan
    and hands it over.
    """

    horizons: HorizonMap
    """:data:`HORIZON_SECTORS` sectors over the plan's grid; with ``codes``, already rounded
    to them (what a replan reads back)."""
    codes: np.ndarray | None
    """The 8-bit codes (``horizons.npy``) of a plan with an operations spec, else None."""


def plan_horizons(
    dem: Dem, *, quantize: bool = True, progress: ProgressCallback | None = None
) -> PlanHorizons:
    """The horizon map of a plan on ``dem`` (the grid :func:`command_lattice` returns).

    ``quantize`` rounds it to its 8-bit codes, as a plan with an operations spec reads it.
    ``progress(fraction, stage)`` is called after each sector (an exception raised there stops
    the computation).
    """
    horizons = horizon_map(dem, HORIZON_SECTORS, progress=progress)
    if not quantize:
        return PlanHorizons(horizons, None)
    return PlanHorizons(*quantized(horizons))


def lattice_factor(res_m: float, rover: RoverSpec) -> int:
    """The ``k`` of :func:`command_lattice` for a grid of ``res_m`` pixels (1: the grid itself).

    >>> from frigoris import TENACIOUS
    >>> lattice_factor(0.5, TENACIOUS), lattice_factor(5.0, TENACIOUS)
    (1, 2)
    """
    return max(1, math.ceil(res_m * math.sqrt(2.0) / rover.max_drive_per_command_m - 1e-9))


def command_lattice(hm: HazardMap, rover: RoverSpec) -> tuple[HazardMap, int]:
    """The hazard map on a lattice fine enough for one move to fit in one drive command.

    The planner moves from cell centre to cell centre, diagonals included, and a move cannot be
    split. On a 5 m DEM a diagonal move is 7.07 m, longer than Tenacious's 5 m command: no plan
    could pass its own check. Each cell is then split into ``k x k`` cells that carry its values
    unchanged (nothing is interpolated: the map resolves no more than before, its moves are
    only shorter). Returns ``(map, k)``; ``k == 1`` returns the map itself.

    Examples
    --------
    >>> import numpy as np
    >>> from frigoris import RESILIENCE, TENACIOUS, Dem, hazard_limits, hazard_map, lander_site
    >>> from frigoris.terrain import local_metric_crs
    >>> dem = Dem.from_array(np.zeros((16, 16)), res_m=5.0, crs=local_metric_crs(-88.0, 45.0))
    >>> hm = hazard_map(dem, hazard_limits(TENACIOUS), lander=lander_site(RESILIENCE, 0.0, 0.0))
    >>> fine, k = command_lattice(hm, TENACIOUS)
    >>> k, fine.grid.res_m, fine.grid.shape
    (2, 2.5, (32, 32))
    """
    k = lattice_factor(hm.grid.res_m, rover)
    if k == 1:
        return hm, 1
    layers = {
        name: np.repeat(np.repeat(np.asarray(a), k, axis=0), k, axis=1)
        for name, a in hm.layers().items()
    }
    t = hm.grid.transform
    grid = Dem(layers["elevation"], t @ Affine.scale(1.0 / k), hm.grid.crs)
    tags = {n: v if isinstance(v, str) else json.dumps(v) for n, v in hm.tags().items()}
    fine = HazardMap.from_layers(layers, grid, tags, craters=hm.craters, rocks=hm.rocks)
    # the site's statistics are the DEM's, not those of a lattice of repeated values
    return replace(fine, scaling=hm.scaling, tilt_sigma_deg=hm.tilt_sigma_deg), k


def default_start(hm: HazardMap, lander: LanderSpec) -> tuple[int, int]:
    """The free, linked cell nearest to the lander's deployment distance (no handoff given)."""
    if hm.lander is None:
        raise RoverError("the hazard map has no lander; give a start position")
    ok = ~hm.keepout
    comm = hm.comm_ok()
    if comm is not None:
        ok &= comm
    if not ok.any():
        raise RoverError("no cell of the hazard map is drivable and in link: nowhere to start")
    rows, cols = np.nonzero(ok)
    x, y = hm.grid.xy(rows, cols)
    d = np.abs(np.hypot(x - hm.lander.x, y - hm.lander.y) - lander.deploy_distance_m)
    i = int(np.argmin(d))
    return int(rows[i]), int(cols[i])


def plan_on_hazard(
    hm: HazardMap,
    *,
    rover: RoverSpec,
    lander: LanderSpec,
    start_time: datetime,
    start_cell: tuple[int, int] | None = None,
    start_soc_wh: float | None = None,
    mission_days: float = 10.0,
    targets: tuple | None = None,
    seed: int = 0,
    time_limit_s: float = 10.0,
    rules: StopRules | None = None,
    progress: ProgressCallback = no_progress,
    ops: OpsSpec | None = OPERATIONS,
    waivers: tuple[tuple[str, str], ...] = (),
    camera_azimuth_deg: float | None = None,
    start_heading_deg: float = 0.0,
    start_xy: tuple[float, float] | None = None,
    horizons: PlanHorizons | None = None,
) -> PlanResult:
    """Propose stops on a hazard map and plan the checked traverse from the start.

    ``rules`` overrides the stop values and dwell times (default :class:`StopRules`); its
    plume radius is always the lander's. With ``ops`` (default: the built-in HAKUTO-R
    operations) the plan follows the ground's command cycle, the Moonhouse spot is in the
    lander camera's view (looking out over ``camera_azimuth_deg``, the deployment side, when
    given), and the result carries the checked command sequence (a sequence that breaks a
    flight rule not in ``waivers`` raises :class:`~.errors.SequenceError`); ``ops=None`` plans
    with fixed 10-minute turnarounds in 12-hour drive windows and no sequence.

    ``horizons`` is the :func:`plan_horizons` of ``hm.grid`` when the caller computed it
    already (quantized with ``ops``, not without); None computes it here.

    Examples
    --------
    Two days on a 96 m synthetic site, the lander in the middle (at the ground's command cadence
    one day does not reach the Moonhouse):

    >>> from datetime import timedelta
    >>> from frigoris import (
    ...     PLANNED_TOUCHDOWN_UTC, RESILIENCE, TENACIOUS, SynthParams, hazard_limits,
    ...     hazard_map, lander_site, synthesize,
    ... )
    >>> site = synthesize(SynthParams(size_m=96, seed=3))
    >>> hm = hazard_map(
    ...     site.dem, hazard_limits(TENACIOUS), lander=lander_site(RESILIENCE, 0.0, 0.0),
    ...     sun=(108.0, 12.0),
    ... )
    >>> result = plan_on_hazard(
    ...     hm, rover=TENACIOUS, lander=RESILIENCE, mission_days=2.0, time_limit_s=2.0,
    ...     start_time=PLANNED_TOUCHDOWN_UTC + timedelta(hours=24),
    ... )
    >>> result.plan.distance_m > 0 and result.plan.stops.kind[0] == "start"
    True
    """
    if hm.lander is None:
        raise RoverError("planning needs the lander's position (link and plume zone)")
    dem: Dem = hm.grid
    progress(0.0, "candidate stops")
    c = hm.craters
    r = hm.rocks
    rules = replace(rules or StopRules(), plume_radius_m=lander.plume_radius_m)
    layers = PlanLayers.from_hazard(hm, ops) if ops is not None else None
    view = hm.los_lander
    if ops is not None:
        view = lander_camera_view(
            dem,
            (hm.lander.x, hm.lander.y),
            ops,
            azimuth_deg=camera_azimuth_deg,
            range_m=rules.moonhouse_range_m,
        )
    start = start_cell if start_cell is not None else default_start(hm, lander)
    reach = None
    if ops is not None:
        sx, sy = dem.xy(*start)
        reach = (sx, sy, reach_m(ops, rover, mission_days * 86400.0))
    cand = candidate_stops(
        keepout=hm.keepout,
        slope_deg=hm.slope_rover_deg,
        rock_risk=hm.rock_risk,
        transform=dem.transform,
        lander_xy=(hm.lander.x, hm.lander.y),
        comm_ok=hm.comm_ok() if layers is None else layers.linked,
        lander_view=view,
        craters=(c.x, c.y, c.diameter_m, c.depth_m),
        rocks=(r.x, r.y, r.diameter_m),
        targets=targets,
        rules=rules,
        reach=reach,
    )
    progress(0.1, "horizon map")
    if horizons is None:
        # with ops, rounded to the codes replans read back: the same shadows
        horizons = plan_horizons(
            dem,
            quantize=ops is not None,
            progress=lambda f, s="": progress(0.1 + 0.4 * f, "horizon map"),
        )
    else:
        _check_horizons(horizons, dem, with_codes=ops is not None)
    horizons, codes = horizons.horizons, horizons.codes
    mission_s = mission_days * 86400.0
    solar = SolarModel.build(dem, horizons, rover, start_time, mission_s)
    if ops is not None:
        ctx = OpsContext(
            rover=rover,
            lander=lander,
            ops=ops,
            rules=rules,
            mission_end=start_time + timedelta(seconds=mission_s),
            seed=seed,
            time_limit_s=time_limit_s,
            waivers=tuple(waivers),
        )
        seg = plan_segment(
            layers,
            cand,
            solar,
            ctx,
            start_time=start_time,
            start_cell=start,
            start_soc_wh=start_soc_wh,
            start_heading_deg=start_heading_deg,
            start_xy=start_xy,
            progress=lambda f, s="": progress(0.5 + 0.5 * f, s),
        )
        return PlanResult(
            seg.plan,
            cand,
            solar,
            start_time,
            _unplanned_targets(
                hm,
                cand,
                seg.plan,
                start,
                blocked=~layers.linked
                | too_risky_to_enter(layers.risk, dem.res_m, rover.length_m, ops.max_cycle_risk),
            ),
            seg.rover,
            segment=seg,
            context=ctx,
            horizons=horizons,
            horizon_codes=codes,
            start_heading_deg=start_heading_deg,
            start_xy=start_xy,
            camera_azimuth_deg=camera_azimuth_deg,
        )
    ops = Operations(
        mission_s=mission_s, start_soc_wh=start_soc_wh, seed=seed, solver_time_limit_s=time_limit_s
    )
    model = rover_model(rover)
    plan = plan_traverse(
        cost=hm.cost,
        keepout=hm.keepout,
        transform=dem.transform,
        start_cell=start,
        candidates=cand,
        rover=model,
        solar_w=solar,
        ops=ops,
        comm_ok=hm.comm_ok(),
        progress=lambda f, s="": progress(0.5 + 0.5 * f, s),
    )
    return PlanResult(
        plan, cand, solar, start_time, _unplanned_targets(hm, cand, plan, start), model
    )


def _check_horizons(ph: PlanHorizons, dem: Dem, *, with_codes: bool) -> None:
    """Refuse a horizon map handed over for another grid or another rounding."""
    h = ph.horizons
    if h.shape != dem.shape or h.res_m != dem.res_m or h.azimuths_deg.size != HORIZON_SECTORS:
        raise RoverError(
            f"the horizon map given ({h.azimuths_deg.size} sectors over {h.shape} cells of "
            f"{h.res_m:g} m) is not the plan's ({HORIZON_SECTORS} over {dem.shape} of "
            f"{dem.res_m:g} m); pass horizons=None to compute it"
        )
    if (ph.codes is not None) != with_codes:
        how = "has no codes; a plan with operations" if with_codes else "has codes; a plan without"
        raise RoverError(
            f"the horizon map given {how} needs plan_horizons(quantize={with_codes}); "
            "or pass horizons=None to compute it"
        )


def _unplanned_targets(
    hm: HazardMap,
    cand: Candidates,
    plan: TraversePlan,
    start: tuple[int, int],
    *,
    blocked: np.ndarray | None = None,
) -> tuple[tuple[str, str, float, float], ...]:
    """Why each user target is not in the plan, and where it is.

    ``blocked`` marks cells the planner's paths may not enter besides keep-out (out of link,
    riskier in one step than a command cycle may be), so that "walled off" means what the
    planner saw.
    """
    visited = set(plan.stops.names or ())
    out = [(n, w, float(x), float(y)) for n, w, x, y in cand.unplaced]
    labels = None
    for i, (kind, name) in enumerate(zip(cand.kind, cand.names or ("",) * len(cand), strict=True)):
        if kind != "target" or name in visited:
            continue
        if any(d.startswith("target") and repr(name) in d for d in plan.dropped):
            why = "dropped once simulated: not affordable in time or energy"
        elif len(plan.stops) == 1 and plan.reason:
            why = f"the plan has no stop: {plan.reason}"
        else:
            if labels is None:  # 8-connected regions of drivable cells
                free = ~hm.keepout if blocked is None else ~(hm.keepout | blocked)
                free[start] = True  # the rover stands there; it never steps into it
                labels, _ = ndimage.label(free, structure=np.ones((3, 3), bool))
            r, c = cand.cells[i]
            if labels[r, c] != labels[start]:
                why = (
                    "walled off from the rover's start by keep-out"
                    if blocked is None
                    else "walled off from the rover's start by keep-out, lost link or cells "
                    "riskier in one step than a command cycle may be (max_cycle_risk)"
                )
            else:
                why = (
                    "not chosen: the stop selection found more value for the mission's time "
                    "and energy elsewhere"
                )
        out.append((name, why, float(cand.x[i]), float(cand.y[i])))
    return tuple(out)
