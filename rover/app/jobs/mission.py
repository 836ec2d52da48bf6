"""The mission job: the whole chain of a mission file into one folder.

site -> touchdown Monte Carlo (every scenario) -> the followed touchdown -> hazard map at
deployment -> deployment handoff -> traverse plan -> GeoPackage of every vector layer ->
``report.html`` -> ``manifest.json`` (inputs and outputs with checksums, parameters, version).

A step that is impossible stops the chain with its reason, as a result: a lander that crashed
is not deployed, a rover never deployed gets no plan, and a DEM too coarse to resolve the
lander's legs (a regional LOLA grid) gives the site and its hazard layers, then stops. Each
step is one function below; :func:`run_mission` strings them together.

A lander placed by hand (``[lander] at``) replaces the Monte Carlo: the lander stands where the
mission file says, on any DEM, and the chain goes on from the hazard map to a checked plan. On a
DEM coarser than the pads (a 5 m LOLA grid) its tilt is the ground's slope over three pixels.
"""

from __future__ import annotations

import logging
import os
import pathlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from frigoris.terrain import Dem, read_dem
from frigoris.terrain.crs import local_metric_crs, lunar_to_crs
from frigoris.terrain.hazard import HazardMap, LanderSite, hazard_map
from frigoris.terrain.synth import RESILIENCE_TARGET, SyntheticSite, synthesize

from ...deploy import Handoff, deploy
from ...errors import RoverError, SpecError, TouchdownError
from ...planning import PlanHorizons, command_lattice, lattice_factor, plan_horizons, plan_on_hazard
from ...progress import ProgressCallback, no_progress
from ...specs import hazard_limits, lander_site
from ...touchdown import TouchdownRun, check_grid, placed_at, safety_bounds, touchdown_safety
from ..formats import utc_iso
from ..mission_file import Mission, builtin_mission, load_mission
from ..products import figures
from ..products.gpkg import write_mission_geopackage
from ..products.hazard_files import hazard_summary, write_hazard
from ..products.manifest import OUTPUT_DESCRIPTIONS, stamp_geojson, write_manifest
from ..products.plan_files import plan_summary, write_plan
from ..products.report import write_report
from ..products.site_files import write_dem, write_site
from ..products.touchdown_files import write_touchdown
from ..products.webmap import MAP_FILE, map_rasters, write_webmap
from ..results import JobResult, MissionResult, Step, provenance
from .inputs import read_rock_abundance, resolve_sun
from .landing import run_touchdowns
from .output_folder import staged_output

__all__ = ["MISSION_FILES", "check_mission", "demo_mission_job", "mission_job", "run_mission"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

MISSION_FILES = (*OUTPUT_DESCRIPTIONS, "manifest.json")
"""Every file a mission run may write."""


class _Cancelled(Exception):
    """Raised in a background computation's progress callback to stop it."""


class _Background:
    """A computation on its own thread, side by side with the chain (see :func:`_start_horizons`).

    ``fn`` gets a ``progress`` callback that raises :class:`_Cancelled` once :meth:`cancel`
    has been called, so a chain that stops early does not wait for work it no longer needs.
    """

    def __init__(self, fn, /, *args, **kwargs) -> None:
        self._stop = threading.Event()
        pool = ThreadPoolExecutor(1, thread_name_prefix="frigoris-chain")
        self._future: Future = pool.submit(fn, *args, progress=self._check, **kwargs)
        pool.shutdown(wait=False)

    def _check(self, fraction: float = 0.0, stage: str = "") -> None:
        if self._stop.is_set():
            raise _Cancelled

    def result(self):
        """Wait for the computation and return its result (or raise its exception)."""
        return self._future.result()

    def cancel(self) -> None:
        """Stop the computation at its next progress call and wait for its thread."""
        self._stop.set()
        try:
            self._future.result()
        except _Cancelled:
            pass


@dataclass
class _Chain:
    """What the chain has made so far (mutable while it runs; frozen into a MissionResult)."""

    mission: Mission
    out: pathlib.Path
    tags: dict[str, Any]
    progress: ProgressCallback
    dem: Dem | None = None
    rock_k: Any = 0.01
    label: str = ""
    site: SyntheticSite | None = None
    target_xy: tuple[float, float] | None = None
    targets_xy: tuple = ()
    lander_xy: tuple[float, float] | None = None
    outputs: dict[str, pathlib.Path] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    touchdowns: tuple = ()
    touchdown: TouchdownRun | None = None
    candidates: tuple[TouchdownRun, ...] = ()
    hazard: HazardMap | None = None
    handoff: Handoff | None = None
    plan: Any = None
    stopped: str | None = None
    horizons: _Background | None = None
    """The plan's horizon map, computed on a thread while the touchdown and hazard steps run."""
    map_rasters: _Background | None = None
    """The interactive map's rasters, computed on a thread while the plan runs."""

    def sub(self, lo: float, hi: float) -> ProgressCallback:
        """The progress callback of a step spanning ``lo``..``hi`` of the whole chain."""
        return lambda f, s="": self.progress(lo + (hi - lo) * f, s)

    def stop(self, why: str, *steps: Step) -> None:
        """End the chain with its reason; ``steps`` record the stopped and skipped steps."""
        self.steps += steps
        self.summary["chain_stopped"] = why
        self.stopped = why

    def result(self) -> MissionResult:
        return MissionResult(
            mission=self.mission,
            out_dir=self.out,
            outputs=self.outputs,
            summary=self.summary,
            steps=tuple(self.steps),
            dem=self.dem,
            label=self.label,
            site=self.site,
            touchdowns=self.touchdowns,
            touchdown=self.touchdown,
            target_xy=self.target_xy,
            hazard=self.hazard,
            handoff=self.handoff,
            plan=self.plan,
            stopped=self.stopped,
            targets_xy=self.targets_xy,
        )


def run_mission(
    mission: Mission,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> MissionResult:
    """Run the whole chain of a mission and write every output into ``out_dir``.

    Parameters
    ----------
    mission : Mission
        From :func:`~frigoris.rover.app.mission_file.load_mission` or
        :func:`~frigoris.rover.app.mission_file.builtin_mission`.
    out_dir : path-like
        Output folder. Nothing is written there unless the whole chain succeeds (see
        :mod:`.output_folder`); a folder that holds an earlier run is refused unless
        ``overwrite``, which replaces that run's files and leaves other files alone.
    overwrite : bool
        Replace an earlier run in ``out_dir``.
    progress : callable(fraction, stage), optional

    Returns
    -------
    MissionResult
        Outputs (key -> path, ``manifest`` last), the summary, the steps with their status and
        the objects behind the report. ``stopped`` says why the chain ended early, if it did.

    Raises
    ------
    RoverError, TerrainError
        Inputs that cannot work (a DEM that cannot be read, an aim point or a target off the
        DEM). An impossible step (crash, no deployment, a DEM too coarse for the lander) is not
        an error: the chain stops there and says why.

    Examples
    --------
    On a site too small for the touchdown dispersion the chain stops, as a result:

    >>> import tempfile
    >>> mission = load_mission(
    ...     "hakuto-r-m2",
    ...     overrides=[
    ...         "site.synthetic.size_m=128", "touchdown.runs=5", "touchdown.run=0", "mission.days=1"
    ...     ],
    ... )
    >>> result = run_mission(mission, pathlib.Path(tempfile.mkdtemp()) / "run")
    >>> [(s.name, s.status) for s in result.steps]  # doctest: +NORMALIZE_WHITESPACE
    [('site', 'done'), ('touchdown', 'stopped'), ('hazard', 'done'),
     ('deployment', 'stopped'), ('plan', 'skipped')]
    >>> result.stopped
    'lander off-dem: came down where the DEM has no data: the stance is unknown; ...'
    """
    with staged_output(out_dir, owned=MISSION_FILES, overwrite=overwrite) as stage:
        chain = _Chain(mission, stage.path, provenance(mission), progress)
        chain.summary["mission"] = mission.name
        try:
            _site_step(chain)
            if _touchdown_step(chain) and _hazard_and_deploy_step(chain):
                _plan_step(chain)
        except BaseException:
            if chain.map_rasters is not None:
                chain.map_rasters.cancel()
            raise
        finally:
            if chain.horizons is not None:  # the chain stopped (or failed) before the plan
                chain.horizons.cancel()
                chain.horizons = None
        _finish(chain)
    outputs = stage.final(chain.outputs)
    chain.out, chain.outputs = pathlib.Path(out_dir), outputs
    return chain.result()


# --------------------------------------------------------------------------------------------
# steps


def _site_step(chain: _Chain) -> None:
    """Load or synthesise the site; write ``dem.tif`` (and the site files) and the hillshade."""
    mission, progress = chain.mission, chain.sub(0.0, 0.12)
    s = mission.site
    if s.is_synthetic:
        params = s.synthetic
        site = synthesize(params, progress=lambda f, st="": progress(0.7 * f, st))
        chain.dem = site.dem
        _start_horizons(chain)  # beside the site files and the hillshade
        ns = "N" if s.lat_deg >= 0 else "S"
        ew = "E" if s.lon_deg >= 0 else "W"
        label = (
            f"synthetic site {abs(s.lat_deg):.2f}{ns} {abs(s.lon_deg):.2f}{ew} (seed {params.seed})"
        )
        chain.outputs.update(
            write_site(
                site,
                chain.out,
                tags={**chain.tags, "frigoris_mission_site": label},
                # the default title names Mare Frigoris: keep it there, say "synthetic" elsewhere
                title=None
                if (s.lat_deg, s.lon_deg) == RESILIENCE_TARGET
                else label[0].upper() + label[1:],
                progress=lambda f, st="": progress(0.7 + 0.3 * f, st),
            )
        )
        chain.dem, chain.rock_k, chain.site = site.dem, site.rock_abundance, site
        chain.summary.update(site.summary())
    else:
        dem = _read_site_dem(mission)
        chain.dem = dem
        _start_horizons(chain)  # beside the DEM's copy
        progress(0.5, "dem.tif")
        try:
            chain.rock_k = read_rock_abundance(s.rock_abundance, dem)
        except RoverError as err:
            raise SpecError(f"{mission.source}: [site] {err}") from None
        label = s.dem.name
        chain.outputs.update(
            write_dem(
                dem,
                chain.out,
                label=label,
                tags={
                    **chain.tags,
                    "frigoris_source": f"DEM {s.dem_as_written}",
                    "frigoris_mission_site": label,
                },
            )
        )
        chain.dem = dem
        chain.summary.update(
            size_px=list(dem.shape),
            res_m=round(dem.res_m, 4),
            center_lat_lon=[s.lat_deg, s.lon_deg],
            elevation_min_m=float(np.nanmin(dem.elevation)),
            elevation_max_m=float(np.nanmax(dem.elevation)),
            seed=mission.seed,
        )
        progress(1.0, "site written")
    chain.label = label
    dem = chain.dem
    chain.steps.append(
        Step("site", "done", f"{label}: {dem.shape[1]} x {dem.shape[0]} px at {dem.res_m:.3g} m")
    )
    chain.target_xy, chain.targets_xy = _aim_and_targets(mission, dem)
    chain.lander_xy = _placement_xy(mission, dem)


def _read_site_dem(mission: Mission) -> Dem:
    """The mission's DEM as the run reads it (the window around the aim point, if given)."""
    s = mission.site
    around = (s.lat_deg, s.lon_deg) if s.window_m is not None else None
    return read_dem(s.dem, around=around, size_m=s.window_m, crs=s.crs)


def _aim_and_targets(mission: Mission, dem: Dem) -> tuple[tuple[float, float], tuple]:
    """The aim point and the targets in map metres, each checked to lie on the DEM."""
    s = mission.site
    x, y = lunar_to_crs(dem.crs, s.lat_deg, s.lon_deg)
    if not dem.contains(x, y):
        raise SpecError(
            f"{mission.source}: [site] lat/lon ({s.lat_deg}, {s.lon_deg}) is off the DEM; "
            "give a point on it"
        )
    return (float(x), float(y)), _targets_xy(mission, dem)


def check_mission(mission: Mission) -> None:
    """Check what the run would refuse, without running it.

    The DEM (read as the run reads it), its rock abundance, the aim point and every target on
    the site.

    Raises
    ------
    SpecError, TerrainError
        The same error, word for word, the run would stop with.
    """
    s = mission.site
    if s.is_synthetic:
        p = s.synthetic
        dem = Dem.from_array(
            np.zeros((1, 1), dtype=np.float32),
            res_m=p.n_px * p.res_m,
            crs=local_metric_crs(*p.center),
        )
    else:
        dem = _read_site_dem(mission)
        try:
            read_rock_abundance(s.rock_abundance, dem)
        except RoverError as err:
            raise SpecError(f"{mission.source}: [site] {err}") from None
    _aim_and_targets(mission, dem)
    _placement_xy(mission, dem)


def _placement_xy(mission: Mission, dem: Dem) -> tuple[float, float] | None:
    """The hand-placed lander (``[lander] at``) in map metres, checked to lie on the DEM."""
    at = mission.lander_at
    if at is None:
        return None
    if at.x_m is not None:
        x, y = at.x_m, at.y_m
    else:
        x, y = (float(v) for v in lunar_to_crs(dem.crs, at.lat_deg, at.lon_deg))
    if not dem.contains(x, y):
        b = dem.bounds
        raise SpecError(
            f"{mission.source}: [lander] at ({at.text}) is off the DEM "
            f"(x {b.left:.0f}..{b.right:.0f}, y {b.bottom:.0f}..{b.top:.0f} m); "
            "place the lander on the site"
        )
    r, c = dem.rowcol(x, y)
    if not np.isfinite(dem.elevation[r, c]):
        raise SpecError(
            f"{mission.source}: [lander] at ({at.text}) lies on a nodata cell of the DEM; "
            "place the lander on valid data"
        )
    return float(x), float(y)


def _targets_xy(mission: Mission, dem: Dem) -> tuple:
    """The mission file's targets in map metres, each checked to lie on the DEM."""
    if not mission.targets:
        return ()
    lat = np.array([t.lat_deg for t in mission.targets])
    lon = np.array([t.lon_deg for t in mission.targets])
    x, y = lunar_to_crs(dem.crs, lat, lon)
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    for t, xi, yi in zip(mission.targets, x, y, strict=True):
        if not dem.contains(float(xi), float(yi)):
            b = dem.bounds
            raise SpecError(
                f"{mission.source}: target {t.name!r} ({t.lat_deg}, {t.lon_deg}) is off the DEM "
                f"(x {b.left:.0f}..{b.right:.0f}, y {b.bottom:.0f}..{b.top:.0f} m); "
                "move it onto the site"
            )
    prio = np.array([t.priority for t in mission.targets])
    return x, y, prio, [t.name for t in mission.targets]


def _touchdown_step(chain: _Chain) -> bool:
    """The touchdown Monte Carlo and the followed run; False when the chain cannot go on.

    A DEM too coarse for the lander's pads gives regional context only: the hazard layers at
    the touchdown sun, without a lander, then the chain stops.
    """
    mission, dem = chain.mission, chain.dem
    L, td = mission.lander, mission.touchdown
    if chain.lander_xy is not None:
        return _placed_step(chain)
    try:
        check_grid(dem, L)
    except TouchdownError as err:
        stop = (
            f"touchdown, deployment and the traverse plan are skipped: the DEM's "
            f"{dem.res_m:.4g} m pixels cannot resolve {L.name}'s {L.pad_circle_radius_m:g} m "
            f"pad circle (the touchdown model needs {L.pad_circle_radius_m / 2:g} m/px or "
            "finer). This mission gives regional context: the site and its hazard layers."
        )
        log.info("%s (%s)", stop, err)
        _write_hazard_map(
            chain,
            when=mission.touchdown_utc,
            lander=None,
            title=(
                f"Hazard layers at touchdown time ({utc_iso(mission.touchdown_utc)}), regional: "
                f"{dem.res_m:.0f} m/px"
            ),
            progress=chain.sub(0.15, 0.75),
        )
        chain.outputs["context_png"] = figures.context_figure(
            chain.hazard,
            chain.target_xy,
            chain.out / "context.png",
            title=f"{mission.name}\nslope at {dem.res_m / 1000:.2g} km baseline, shadow at "
            f"{utc_iso(mission.touchdown_utc)}",
        )
        chain.stop(
            stop,
            Step("touchdown", "stopped", stop),
            Step(
                "hazard",
                "done",
                "hazard layers at the touchdown sun, no lander; "
                "rover-scale limits are not resolved at this scale",
            ),
            Step("deployment", "skipped", "no touchdown"),
            Step("plan", "skipped", "no touchdown"),
        )
        return False

    progress = chain.sub(0.12, 0.25)
    results = run_touchdowns(
        dem,
        L,
        chain.target_xy,
        runs=td.runs,
        scenarios=td.scenarios,
        seed=mission.seed,
        dispersion=td.dispersion,
        time=mission.touchdown_utc,
        progress=lambda f, s="": progress(0.5 * f, s),
    )
    bounds = (
        None if td.safety_extent == "full" else safety_bounds(dem, chain.target_xy, td.dispersion)
    )
    safety = touchdown_safety(
        dem, L, bounds=bounds, progress=lambda f, s="": progress(0.5 + 0.4 * f, s)
    )
    written = write_touchdown(
        chain.out,
        dem,
        results,
        safety,
        chain.target_xy,
        td.dispersion,
        L,
        seed=mission.seed,
        label=chain.label,
        tags=chain.tags,
    )
    chain.outputs.update({f"touchdown_{k}": v for k, v in written.items()})
    for res in results:
        rs = res.summary()
        chain.summary[f"touchdown_{res.scenario}_p_success"] = round(rs["p_success"], 3)
        chain.summary[f"touchdown_{res.scenario}_crash"] = round(rs["crash"], 3)
    followed = next(res for res in results if res.scenario == td.follow)
    chain.candidates = td.candidates(followed)
    _, run, which = td.followed(followed)
    chain.touchdowns = tuple(results)
    _follow(chain, run, f"{td.follow} scenario {which}")
    return True


def _follow(chain: _Chain, run: TouchdownRun, which: str) -> None:
    """The touchdown the chain goes on from: its summary line and its step (replaced if any)."""
    chain.summary["touchdown_outcome"] = (
        f"{run.outcome} at ({run.x:.1f}, {run.y:.1f}) m: {run.reason}"
    )
    step = Step(
        "touchdown", "done" if run.safe else "stopped", f"{which}: {run.outcome}, {run.reason}"
    )
    if chain.steps and chain.steps[-1].name == "touchdown":
        chain.steps[-1] = step
    else:
        chain.steps.append(step)
    chain.touchdown = run


def _placed_step(chain: _Chain) -> bool:
    """The lander placed by hand: its stance (the ground's tilt on a coarse DEM); no Monte Carlo."""
    mission, (x, y) = chain.mission, chain.lander_xy
    at = mission.lander_at
    try:
        run = placed_at(chain.dem, mission.lander, x, y, at.yaw_deg)
    except TouchdownError as err:
        raise SpecError(f"{mission.source}: [lander] at ({at.text}): {err}") from None
    _follow(chain, run, f"placed by hand at {at.text}, no Monte Carlo")
    return True


def _start_horizons(chain: _Chain) -> None:
    """Start the plan's horizon map on a thread, beside the site files, touchdown and hazard.

    It depends on the DEM alone (the plan's grid is the hazard map's, which is the DEM, when
    :func:`command_lattice` keeps it), and its kernels release the GIL: it runs on the core the
    steps before the plan leave idle in their Python, figure and file work. It starts as soon as
    the DEM exists, when the chain will reach a lander (one placed by hand, or a DEM fine enough
    for the touchdown model). The plan step takes it over; a chain that stops before cancels it.
    Not started when the plan's grid is a finer lattice than the DEM (then the plan step
    computes it on that lattice).
    """
    mission = chain.mission
    if lattice_factor(chain.dem.res_m, mission.rover) != 1:
        return
    if mission.lander_at is None:
        try:
            check_grid(chain.dem, mission.lander)
        except TouchdownError:
            return  # regional context only: no lander, no plan
    chain.horizons = _Background(plan_horizons, chain.dem, quantize=mission.operations is not None)


def _write_hazard_map(
    chain: _Chain,
    *,
    when: datetime,
    lander: LanderSite | None,
    title: str,
    progress: ProgressCallback,
) -> None:
    """The hazard map at ``when`` (with the lander standing, if any), written with its map."""
    _keep_hazard_map(chain, _map_hazard(chain, when, lander, progress), title)


def _map_hazard(
    chain: _Chain, when: datetime, lander: LanderSite | None, progress: ProgressCallback
) -> HazardMap:
    mission = chain.mission
    return hazard_map(
        chain.dem,
        hazard_limits(mission.rover, mission.lander),
        sun=resolve_sun(chain.dem, when=when),
        lander=lander,
        rock_abundance=chain.rock_k,
        progress=progress,
    )


def _keep_hazard_map(chain: _Chain, hm: HazardMap, title: str) -> None:
    """Write the hazard map the chain goes on with, and its summary."""
    chain.outputs.update(write_hazard(hm, chain.out, title=title, tags=chain.tags))
    chain.summary.update(
        {f"hazard_{k}": v for k, v in hazard_summary(hm).items() if k not in ("size_px", "res_m")}
    )
    chain.hazard = hm


def _hazard_and_deploy_step(chain: _Chain) -> bool:
    """Hazard map at deployment around the followed lander, then lower the rover.

    With ``[touchdown] run = "first-deployable"`` the nominal runs are tried in order until the
    rover deploys from one (at most ``MAX_DEPLOY_TRIES``; each try maps the hazards around that
    lander); the chain follows that run. Returns False (and the chain stops) with no handoff.
    """
    mission = chain.mission
    tries = chain.candidates or (chain.touchdown,)
    span = 0.3 / len(tries)
    for k, run in enumerate(tries):
        when = mission.deploy_time if run.safe else mission.touchdown_utc
        lander = lander_site(mission.lander, run.x, run.y) if run.safe else None
        hm = _map_hazard(chain, when, lander, chain.sub(0.25 + k * span, 0.25 + (k + 1) * span))
        handoff = deploy(
            run,
            hm if run.safe else None,
            mission.lander,
            mission.rover,
            time=mission.touchdown_utc,
            crs=chain.dem.crs,
        )
        if handoff.deployed:
            break
    if len(tries) > 1:
        which = f"run {run.index}" + (
            ", the first at rest nominal that the rover leaves"
            if handoff.deployed
            else f": the rover leaves none of the first {len(tries)} runs at rest nominal"
        )
        _follow(chain, run, f"{mission.touchdown.follow} scenario {which}")
    chain.touchdown = run
    title = (
        f"Hazard map at deployment ({when:%Y-%m-%d %H:%M} UTC)"
        if run.safe
        else f"Hazard map at touchdown time ({when:%Y-%m-%d %H:%M} UTC), no lander standing"
    )
    _keep_hazard_map(chain, hm, title)
    chain.steps.append(Step("hazard", "done", title))
    return _keep_handoff(chain, handoff)


def _keep_handoff(chain: _Chain, handoff: Handoff) -> bool:
    """Write the handoff the chain goes on with; False (and the chain stops) when not deployed."""
    mission, run, hm = chain.mission, chain.touchdown, chain.hazard
    L, R = mission.lander, mission.rover
    chain.outputs["handoff"] = handoff.write(chain.out / "handoff.json")
    chain.outputs["deploy_png"] = figures.deploy_figure(
        hm.grid,
        handoff,
        L,
        hm if run.safe else None,
        chain.out / "deploy.png",
        title=f"Deployment of {R.name} from {L.name}",
    )
    chain.summary["deployed"] = handoff.deployed
    chain.handoff = handoff
    if not handoff.deployed:
        why = "; ".join(handoff.reasons) or "no deployment"
        chain.stop(
            why,
            Step("deployment", "stopped", why),
            Step("plan", "skipped", "the rover was never deployed"),
        )
        return False
    chain.summary["deploy_side_deg"] = handoff.side_deg
    chain.steps.append(Step("deployment", "done", f"side {handoff.side_deg:g} deg"))
    # the map's rasters need only the DEM and this hazard map: made while the plan runs
    chain.map_rasters = _Background(_map_rasters, chain.dem, hm)
    return True


def _map_rasters(dem: Dem, hm: HazardMap, *, progress: ProgressCallback) -> Any:
    """:func:`map_rasters` as a :class:`_Background` computation (nothing to cancel midway)."""
    return map_rasters(dem, hm)


def _plan_step(chain: _Chain) -> None:
    """The traverse plan from the handoff, checked, with its files."""
    mission, hm, handoff = chain.mission, chain.hazard, chain.handoff
    side_azimuth = next(
        (s.azimuth_deg for s in handoff.sides if s.side_deg == handoff.side_deg), None
    )
    start = handoff.start
    # a coarse DEM (5 m): a lattice fine enough for one move to fit in one drive command
    hm, k = command_lattice(hm, mission.rover)
    horizons: PlanHorizons | None = None
    if chain.horizons is not None:
        if k == 1 and hm.grid is chain.dem:
            horizons = chain.horizons.result()
        else:
            chain.horizons.cancel()
        chain.horizons = None
    result = plan_on_hazard(
        hm,
        rover=mission.rover,
        lander=mission.lander,
        start_time=handoff.start_time,
        start_cell=handoff.start_rowcol(hm.grid),
        start_soc_wh=handoff.start_battery_wh,
        mission_days=mission.days,
        targets=chain.targets_xy or None,
        seed=mission.seed,
        time_limit_s=mission.planner.time_limit_s,
        rules=mission.planner.stops,
        progress=chain.sub(0.55, 0.9),
        ops=mission.operations,
        waivers=tuple((w.rule, w.reason) for w in mission.waivers),
        camera_azimuth_deg=side_azimuth,
        start_heading_deg=start.heading_deg,
        start_xy=(start.x, start.y),
        horizons=horizons,
    )
    chain.outputs.update(write_plan(result, hm, chain.out, hazard_path=chain.outputs.get("hazard")))
    ps = plan_summary(result)
    chain.summary.update({f"plan_{k}": v for k, v in ps.items()})
    chain.steps.append(
        Step(
            "plan",
            "done",
            f"{ps['stops']} stops, {ps['distance_m']:.0f} m, value {ps['plan_value']:.1f}",
        )
    )
    chain.plan = result


def _finish(chain: _Chain) -> None:
    """GeoPackage, provenance in the GeoJSON files, interactive map, report, manifest."""
    progress = chain.progress
    prov = provenance(chain.mission)
    progress(0.9, "mission.gpkg")
    chain.outputs["geopackage"] = write_mission_geopackage(
        chain.result(), chain.out / "mission.gpkg"
    )
    for path in chain.outputs.values():
        if path.suffix == ".geojson":
            stamp_geojson(path, prov)
    progress(0.93, MAP_FILE)
    rasters = None
    if chain.map_rasters is not None:
        rasters, chain.map_rasters = chain.map_rasters.result(), None
    chain.outputs["webmap"] = write_webmap(chain.result(), chain.out / MAP_FILE, rasters=rasters)
    progress(0.95, "report.html")
    chain.outputs["report"] = write_report(chain.result(), chain.out / "report.html")
    chain.outputs["manifest"] = write_manifest(chain.result(), chain.out / "manifest.json")
    progress(1.0, "done" if chain.stopped is None else "stopped: " + chain.steps[-1].name)


# --------------------------------------------------------------------------------------------
# entry points of the CLI


def mission_job(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    overrides: list[str] | tuple[str, ...] = (),
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> MissionResult:
    """Load a mission file and run it (what ``frigoris mission`` calls)."""
    mission = load_mission(path, overrides=overrides)
    return run_mission(mission, out_dir, overwrite=overwrite, progress=progress)


def demo_mission_job(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    runs: int = 200,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> JobResult:
    """Run the demo as a mission: the built-in HAKUTO-R Mission 2 file, ``seed`` and ``runs``.

    Writes the site, touchdown, hazard, handoff and plan outputs, plus ``mission.gpkg``,
    ``report.html`` and ``manifest.json``.
    """
    base = builtin_mission()
    overrides = []  # only what differs from the file, so the report lists no idle overrides
    if int(seed) != base.seed:
        overrides.append(f"mission.seed={int(seed)}")
    if int(runs) != base.touchdown.runs:
        overrides.append(f"touchdown.runs={int(runs)}")
    mission = builtin_mission(overrides=tuple(overrides)) if overrides else base
    return run_mission(mission, out_dir, overwrite=overwrite, progress=progress).job_result()
