"""Closed-loop operations: plans made on orbital data, executed on the real terrain.

How far can a plan made from orbit be trusted? :func:`build_world` makes what every run shares:

- the *truth*: the site at full resolution, its hazard map and its horizons (the terrain the
  rover actually drives on);
- the *orbital* map the ground starts from: the site averaged to the post spacing of an orbital
  DTM with its vertical error (:func:`orbital_dem`, :class:`~.specs.SimSpec`), the rock
  abundance as one number for the site; its hazard map is made on the DTM's own posts, where
  what they cannot resolve is risk, not keep-out, and each of the site's cells takes its post's
  layers (:func:`orbital_hazard_map`); its horizons; the first plan, its
  candidate stops and its checked command sequence are made on it, once the rover's first
  images have shown the terrain (and its radio the link) within ``nav_camera_range_m`` of the
  set-down point.

:func:`simulate_run` then plays one mission, cycle by cycle, command by command:

- drives follow the commanded segments with wheel slip (a share of each segment's distance,
  more on slopes) and a heading error per segment; the rover's own estimate follows the
  commands (odometry does not see slip), so localisation drifts; once per Earth day the ground
  re-localises it (to ``relocalise_sd_m``);
- the rover meets a hazard when it enters the true keep-out where the lander's link holds (the
  terrain, not the radio) or strikes a rock the DEM cannot show (a draw at the true ``risk`` per
  footprint length); it stops there and the rest of its cycle is lost;
- with each set of navigation images the cameras reveal the true terrain within
  ``nav_camera_range_m`` over ``nav_camera_fov_deg`` ahead; the ground's map takes it (and the
  link the rover reports), placed where the ground believes the rover is;
- the ground plans again (:func:`~.operations.plan_segment`, the same planner and the same
  independent sequence checker as the first plan) when the rover met a hazard, when the next
  drive would cross a revealed hazard or take more risk than a command cycle may on what the
  images show, and at the first images of each Earth day (with the whole candidate list); the
  per-cycle risk rule judges imaged terrain only (:func:`imaged_risk`); a sequence the checker
  refuses is not uplinked: the rover waits one turnaround and the ground backs it out to free,
  linked ground;
- a stop counts when its activity runs within ``TARGET_REACH_M`` of the planned place (the
  Moonhouse also in the lander camera's true view).

:func:`simulate_runs` runs them in seeded chunks on Dask, like the touchdown Monte Carlo: the
records depend on the seed and the chunk size only.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from affine import Affine
from scipy import ndimage

from frigoris.planners.stops import TARGET_REACH_M, Candidates
from frigoris.planners.traverse import DAY_S
from frigoris.terrain import Dem
from frigoris.terrain.hazard import HazardMap, hazard_map
from frigoris.terrain.illumination import HorizonMap
from frigoris.terrain.link import LinkField
from frigoris.terrain.rocks import RockCells

from .energy import SolarModel, horizons_from_codes
from .errors import RoverError, SequenceError
from .operations import OpsContext, PlanLayers, SegmentPlan, plan_segment
from .progress import ProgressCallback, no_progress
from .specs import SimSpec

__all__ = [
    "OpsWorld",
    "build_world",
    "RunRecord",
    "onto_site_grid",
    "orbital_dem",
    "orbital_hazard_map",
    "post_factor",
    "simulate_run",
    "simulate_runs",
    "imaged_risk",
    "summarise",
]

MAX_REFUSALS = 3
"""A run ends when this many sequences in a row are refused (the team cannot go on)."""


def orbital_dem(truth: Dem, sim: SimSpec, seed: int) -> Dem:
    """The site as an orbital DTM sees it: posts of ``orbital_post_m``, with their error.

    Each post is the mean of the site's cells in it (a whole number of cells,
    ``round(orbital_post_m / res_m)`` across, aligned with the site's grid from its top-left
    corner), plus a vertical error of ``orbital_sigma_m`` correlated over ``orbital_corr_posts``
    posts (white noise smoothed by a Gaussian of half that width, scaled back to the stated
    error). A post without any height is nodata. The DTM is on its own grid: judge it there
    (:func:`orbital_hazard_map`), not on the site's finer cells, where its error would read as
    slopes and steps no orbital DTM shows.
    """
    z = np.asarray(truth.elevation, dtype=np.float64)
    f = post_factor(truth, sim)
    m, n = z.shape
    mb, nb = -(-m // f), -(-n // f)
    pad = np.full((mb * f, nb * f), np.nan)
    pad[:m, :n] = z
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty post is nodata
        blocks = np.nanmean(pad.reshape(mb, f, nb, f), axis=(1, 3))
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x0B17]))
    noise = rng.standard_normal(blocks.shape)
    if sim.orbital_corr_posts > 1.0:
        noise = ndimage.gaussian_filter(noise, 0.5 * sim.orbital_corr_posts, mode="reflect")
    sd = float(noise.std())
    if sd > 0:
        noise *= sim.orbital_sigma_m / sd
    posts = (blocks + noise).astype(np.float32)
    return Dem(posts, truth.transform @ Affine.scale(f), truth.crs)


def post_factor(truth: Dem, sim: SimSpec) -> int:
    """Site cells per orbital post, across (the post spacing in whole cells, at least 1)."""
    return max(1, int(round(sim.orbital_post_m / truth.res_m)))


def onto_site_grid(posts: Dem, truth: Dem) -> Dem:
    """The orbital DTM's heights interpolated bilinearly to the site's cells (nodata kept).

    For what needs heights on the rover's grid (horizons, the lander camera's view), never
    for hazards: the hazards are judged on the posts.
    """
    f = int(round(posts.res_m / truth.res_m))
    m, n = truth.shape
    z = np.asarray(posts.elevation, dtype=np.float64)
    holes = ~np.isfinite(z)
    filled = np.where(holes, np.nanmean(z) if not holes.all() else 0.0, z)
    # cell centres in post coordinates (post i's centre is at cell i * f + (f - 1) / 2)
    rr = (np.arange(m) - 0.5 * (f - 1)) / f
    cc = (np.arange(n) - 0.5 * (f - 1)) / f
    grid_r, grid_c = np.meshgrid(rr, cc, indexing="ij")
    out = ndimage.map_coordinates(filled, [grid_r, grid_c], order=1, mode="nearest")
    out[~np.isfinite(truth.elevation)] = np.nan
    if holes.any():
        out[_up(holes, f, truth.shape)] = np.nan
    return truth.with_elevation(out.astype(np.float32))


def _up(a: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Each post's value on each of the site's cells in it (nearest post)."""
    return np.repeat(np.repeat(a, f, axis=0), f, axis=1)[: shape[0], : shape[1]]


def orbital_hazard_map(
    truth_hm: HazardMap, sim: SimSpec, seed: int, *, rock_abundance: float
) -> HazardMap:
    """The hazard map the ground makes from the orbital DTM, on the site's grid.

    The hazard model runs on the DTM at its own posts (:func:`orbital_dem`), with the truth's
    limits, Sun and lander and one rock abundance for the site: what the posts resolve (slopes
    over their finest baseline, rocks a few posts across, the link over their relief) is
    judged as such, what they cannot resolve (the rover's tilt below the posts' baseline,
    rocks smaller than a few posts) is risk, from the DTM's own roughness scaling and the rock
    abundance (:func:`terrain.hazard.hazard_map`). Each of the site's cells then takes the
    layers of the post it lies in (a rover centred there is judged as the post is); the
    heights are interpolated (:func:`onto_site_grid`). The map keeps the posts' roughness
    scaling and counts.
    """
    truth = truth_hm.grid
    posts = orbital_dem(truth, sim, seed)
    coarse = hazard_map(
        posts,
        truth_hm.limits,
        sun=truth_hm.sun,
        lander=truth_hm.lander,
        rock_abundance=float(rock_abundance),
    )
    f = int(round(posts.res_m / truth.res_m))
    shape = truth.shape

    def up(a):
        return None if a is None else np.ascontiguousarray(_up(np.asarray(a), f, shape))

    link = None
    if coarse.link is not None:
        link = LinkField(
            up(coarse.link_margin_db), up(coarse.los_lander).astype(np.uint8), 0, 0, shape, 1
        )
    return replace(
        coarse,
        grid=onto_site_grid(posts, truth),
        slope_deg=up(coarse.slope_deg),
        slope_rover_deg=up(coarse.slope_rover_deg),
        rock_cells=RockCells.from_dense(up(coarse.step_m)),
        risk=up(coarse.risk),
        rock_risk=up(np.broadcast_to(coarse.rock_risk, coarse.grid.shape)),
        cost=up(coarse.cost),
        keepout_reason=up(coarse.keepout_reason),
        crater_mask=up(coarse.crater_mask),
        shadow=up(coarse.shadow),
        link=link,
    )


@dataclass(frozen=True, eq=False)
class OpsWorld:
    """What every run shares: the truth, the orbital map, the first plan (see module notes).

    Horizons are kept as 8-bit codes (small to send to a worker) and rebuilt in each chunk.
    """

    grid: Dem
    truth: PlanLayers
    truth_hazard: np.ndarray
    """Where the rover, centred there, meets terrain it cannot drive: its footprint's slope or
    step (the hazard map's own footprint fits) beyond the physical limits of the
    :class:`SimSpec`, nodata, the lander."""
    truth_slope_deg: np.ndarray
    truth_view: np.ndarray
    truth_codes: np.ndarray
    orbital: PlanLayers
    orbital_codes: np.ndarray
    horizon_fields: dict[str, Any]
    candidates: Candidates
    first: SegmentPlan
    ctx: OpsContext
    sim: SimSpec
    start_time: datetime
    start_xy: tuple[float, float]
    start_heading_deg: float
    start_soc_wh: float
    lander_xy: tuple[float, float] = (0.0, 0.0)
    imaged: np.ndarray | None = None
    """Cells the rover's first images showed before the first plan (bool; None: none)."""

    def horizons(self, codes: np.ndarray) -> HorizonMap:
        """A horizon map from codes of this world's grid."""
        return horizons_from_codes(codes, **self.horizon_fields)


@dataclass(frozen=True)
class RunRecord:
    """One simulated mission."""

    run: int
    seed: int
    stops_first_planned: int
    stops_achieved: int
    value_first_planned: float
    value_achieved: float
    distance_m: float
    hazards_met: int
    rock_strikes: int
    time_lost_h: float
    lowest_battery_wh: float
    sequences_refused: int
    replans: int
    end_position_error_m: float
    achieved: tuple[str, ...]
    track_xy: tuple[tuple[float, float], ...]
    believed_xy: tuple[tuple[float, float], ...]
    events: tuple[str, ...]
    ended: str

    def row(self) -> dict[str, Any]:
        """The numbers of the run, for tables."""
        return {
            "run": self.run,
            "seed": self.seed,
            "stops_first_planned": self.stops_first_planned,
            "stops_achieved": self.stops_achieved,
            "value_first_planned": round(self.value_first_planned, 3),
            "value_achieved": round(self.value_achieved, 3),
            "distance_m": round(self.distance_m, 2),
            "hazards_met": self.hazards_met,
            "rock_strikes": self.rock_strikes,
            "time_lost_h": round(self.time_lost_h, 2),
            "lowest_battery_wh": round(self.lowest_battery_wh, 3),
            "sequences_refused": self.sequences_refused,
            "replans": self.replans,
            "end_position_error_m": round(self.end_position_error_m, 3),
            "ended": self.ended,
        }


# --------------------------------------------------------------------------------------------
# one run


@dataclass
class _Rover:
    true_xy: np.ndarray
    bel_xy: np.ndarray
    heading: float
    soc: float
    lowest: float
    distance: float = 0.0
    track: list = field(default_factory=list)
    believed: list = field(default_factory=list)


class _Run:
    """The state of one simulated mission while it runs."""

    def __init__(self, world: OpsWorld, run: int, seed: int, truth_h: HorizonMap, orb_h):
        self.w, self.run, self.seed = world, run, seed
        self.rng = np.random.default_rng(seed)
        self.truth_h, self.orb_h = truth_h, orb_h
        g = world.grid
        self.res = g.res_m
        self.ground_keep = world.orbital.keepout.copy()
        self.ground_cost = np.array(world.orbital.cost, dtype=np.float32, copy=True)
        self.ground_risk = np.array(world.orbital.risk, dtype=np.float32, copy=True)
        self.ground_margin = np.array(world.orbital.link_margin_db, dtype=np.float32, copy=True)
        self.revealed = (
            np.zeros(g.shape, dtype=bool) if world.imaged is None else world.imaged.copy()
        )
        self.physical = world.truth_hazard
        self.truth_solar = SolarModel.build(
            g,
            truth_h,
            world.ctx.rover,
            world.start_time,
            (world.ctx.mission_end - world.start_time).total_seconds() + DAY_S,
        )
        x, y = world.start_xy
        self.rv = _Rover(
            np.array([x, y], float),
            np.array([x, y], float),
            world.start_heading_deg,
            world.start_soc_wh,
            world.start_soc_wh,
        )
        self.rv.track.append((x, y))
        self.rv.believed.append((x, y))
        self.done: list[int] = []
        self.achieved: list[str] = []
        self.events: list[str] = []
        self.hazards = self.strikes = self.refused = self.replans = 0
        self.lost_s = 0.0
        self.disc = self._camera_offsets()

    # -- the world as it is ----------------------------------------------------------------

    def _cell(self, xy) -> tuple[int, int]:
        return self.w.grid.rowcol(float(xy[0]), float(xy[1]))

    def _on(self, rc) -> bool:
        return 0 <= rc[0] < self.w.grid.shape[0] and 0 <= rc[1] < self.w.grid.shape[1]

    def _camera_offsets(self):
        ops = self.w.ctx.ops
        k = int(math.ceil(ops.nav_camera_range_m / self.res))
        dr, dc = np.mgrid[-k : k + 1, -k : k + 1]
        d = self.res * np.hypot(dr, dc)
        sel = d <= ops.nav_camera_range_m
        az = np.degrees(np.arctan2(dc, -dr))  # grid azimuth of each offset (rows grow south)
        return dr[sel], dc[sel], az[sel]

    def _battery(self, t0: datetime, t1: datetime, draw_w: float) -> None:
        """Integrate the true battery at the true cell (half-hour steps)."""
        s0 = (t0 - self.w.start_time).total_seconds()
        s1 = (t1 - self.w.start_time).total_seconds()
        rc = self._cell(self.rv.true_xy)
        if not self._on(rc) or s1 <= s0:
            return
        cap = self.w.ctx.rover.battery_wh
        n = max(1, int(math.ceil((s1 - s0) / 1800.0)))
        edges = np.linspace(s0, s1, n + 1)
        mid = 0.5 * (edges[1:] + edges[:-1])
        p = self.truth_solar(mid, np.full(n, rc[0]), np.full(n, rc[1]))
        for pi, dt in zip(p, np.diff(edges), strict=True):
            self.rv.soc = min(cap, self.rv.soc + (float(pi) - draw_w) * dt / 3600.0)
            self.rv.lowest = min(self.rv.lowest, self.rv.soc)

    def _drive(self, cmd: dict[str, Any]) -> bool:
        """Execute a drive on the true terrain; False when the rover met a hazard."""
        sim, rover = self.w.sim, self.w.ctx.rover
        step = 0.5 * self.res
        for seg in cmd["segments"]:
            h0, d0 = float(seg["heading_deg"]), float(seg["distance_m"])
            rc = self._cell(self.rv.true_xy)
            slope = float(self.w.truth_slope_deg[rc]) if self._on(rc) else 0.0
            slip = self.rng.normal(sim.slip_mean, sim.slip_sd) + sim.slip_per_deg * slope
            slip = min(max(slip, 0.0), 0.9)
            h = math.radians(h0 + self.rng.normal(0.0, sim.heading_sd_deg))
            d = d0 * (1.0 - slip)
            u = np.array([math.sin(h), math.cos(h)])
            hb = math.radians(h0)
            ub = np.array([math.sin(hb), math.cos(hb)])
            moved = 0.0
            self.rv.heading = math.degrees(h) % 360.0
            while moved < d - 1e-9:
                s = min(step, d - moved)
                nxt = self.rv.true_xy + s * u
                rc = self._cell(nxt)
                stop = None
                if not self._on(rc) or self.physical[rc]:
                    why = "the map's edge" if not self._on(rc) else "terrain it cannot drive"
                    stop = f"hazard met at ({nxt[0]:.1f}, {nxt[1]:.1f}): {why}"
                else:
                    r = float(self.w.truth.risk[rc])
                    if np.isfinite(r) and self.rng.random() < 1.0 - (1.0 - r) ** (
                        s / rover.length_m
                    ):
                        self.strikes += 1
                        stop = f"rock strike at ({nxt[0]:.1f}, {nxt[1]:.1f})"
                        self.rv.true_xy = nxt
                        self.rv.distance += s
                        moved += s
                if stop is not None:
                    self.hazards += 1
                    self.events.append(stop)
                    # odometry counted the wheels' turns so far (slip unseen)
                    self.rv.bel_xy = self.rv.bel_xy + moved / (1.0 - slip) * ub
                    self.rv.track.append(tuple(self.rv.true_xy))
                    self.rv.believed.append(tuple(self.rv.bel_xy))
                    return False
                self.rv.true_xy = nxt
                self.rv.distance += s
                moved += s
            self.rv.track.append(tuple(self.rv.true_xy))
            self.rv.bel_xy = self.rv.bel_xy + d0 * ub
            self.rv.believed.append(tuple(self.rv.bel_xy))
        return True

    def _reveal(self) -> None:
        """The navigation images: the true terrain in view goes into the ground's map."""
        ops = self.w.ctx.ops
        r0, c0 = self._cell(self.rv.true_xy)
        dr, dc, az = self.disc
        off = np.abs((az - self.rv.heading + 180.0) % 360.0 - 180.0)
        sel = off <= 0.5 * ops.nav_camera_fov_deg
        rows, cols = r0 + dr[sel], c0 + dc[sel]
        shift = np.rint((self.rv.bel_xy - self.rv.true_xy) / self.res).astype(int)
        gr, gc = rows - shift[1], cols + shift[0]  # map y grows north, rows south
        m, n = self.w.grid.shape
        ok = (rows >= 0) & (rows < m) & (cols >= 0) & (cols < n)
        ok &= (gr >= 0) & (gr < m) & (gc >= 0) & (gc < n)
        rows, cols, gr, gc = rows[ok], cols[ok], gr[ok], gc[ok]
        self.ground_keep[gr, gc] = self.w.truth.keepout[rows, cols]
        self.ground_cost[gr, gc] = self.w.truth.cost[rows, cols]
        self.ground_risk[gr, gc] = self.w.truth.risk[rows, cols]
        # the rover reports its link where it stands; the ground trusts it over what it sees
        self.ground_margin[gr, gc] = self.w.truth.link_margin_db[rows, cols]
        self.revealed[gr, gc] = True

    # -- the ground ------------------------------------------------------------------------

    def _layers(self) -> PlanLayers:
        o = self.w.orbital
        return replace(
            o,
            cost=self.ground_cost,
            keepout=self.ground_keep,
            risk=imaged_risk(self.ground_risk, self.revealed),
            link_margin_db=self.ground_margin,
        )

    def _candidates(self, strategic: bool, seg: SegmentPlan | None) -> Candidates:
        c = self.w.candidates
        keep = []
        for i in range(len(c)):
            if i in self.done or self.ground_keep[tuple(c.cells[i])]:
                continue
            keep.append(i)
        if not strategic and seg is not None:
            planned = {(k, round(x, 3), round(y, 3)) for k, x, y in _stops_left(seg)}
            keep = [i for i in keep if (c.kind[i], round(c.x[i], 3), round(c.y[i], 3)) in planned]
        return c.subset(keep)

    def _done_kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.done:
            k = self.w.candidates.kind[i]
            out[k] = out.get(k, 0) + 1
        return out

    def _free_linked(self, layers: PlanLayers, rc: tuple[int, int]) -> tuple[int, int] | None:
        """The ground's nearest free, linked cell to ``rc`` (where a back-out goes)."""
        ok = ~layers.keepout & layers.linked
        if not ok.any():
            return None
        r0, c0 = rc
        for k in range(1, 200):
            a, b = max(r0 - k, 0), min(r0 + k + 1, ok.shape[0])
            cl, cr = max(c0 - k, 0), min(c0 + k + 1, ok.shape[1])
            win = ok[a:b, cl:cr]
            if win.any():
                rr, cc = np.nonzero(win)
                d = np.hypot(rr + a - r0, cc + cl - c0)
                i = int(np.argmin(d))
                return int(rr[i] + a), int(cc[i] + cl)
        return None

    def plan(self, t: datetime, strategic: bool, seg: SegmentPlan | None) -> SegmentPlan | None:
        """A new plan from the ground's view of the rover at ``t``; None when refused."""
        w = self.w
        layers = self._layers()
        rc = self._cell(self.rv.bel_xy)
        if not self._on(rc):
            rc = (
                min(max(rc[0], 0), w.grid.shape[0] - 1),
                min(max(rc[1], 0), w.grid.shape[1] - 1),
            )
        solar = SolarModel.build(
            w.grid, self.orb_h, w.ctx.rover, t, (w.ctx.mission_end - t).total_seconds()
        )
        self.replans += 1
        try:
            new = plan_segment(
                layers,
                self._candidates(strategic, seg),
                solar,
                w.ctx,
                start_time=t,
                start_cell=rc,
                start_soc_wh=min(self.rv.soc, w.ctx.rover.battery_wh),
                start_heading_deg=self.rv.heading,
                start_xy=(float(self.rv.bel_xy[0]), float(self.rv.bel_xy[1])),
                done_kinds=self._done_kinds(),
                refuse=False,
            )
        except (RoverError, SequenceError) as err:
            self.events.append(f"no plan at {t:%m-%d %H:%M}: {err}")
            self.refused += 1
            return None
        if new.refused:
            self.refused += 1
            broken = "; ".join(str(v) for v in new.violations if not v.waived)
            self.events.append(f"sequence refused at {t:%m-%d %H:%M}: {broken[:160]}")
            return None
        p = new.plan
        self.events.append(
            f"{'strategic' if strategic else 'tactical'} plan at {t:%m-%d %H:%M}: "
            f"{len(p.stops) - 1} stops ({', '.join(p.stops.kind[1:])}), {p.distance_m:.0f} m"
        )
        return new

    def back_out(self, t: datetime) -> datetime:
        """After a refusal: a turnaround, then a short drive to free, linked ground."""
        ops = self.w.ctx.ops
        turn = ops.nav_bits / ops.link_bit_s + ops.ground_processing_s + ops.uplink_s
        wall = turn * 24.0 / ops.commanding_window_utc_h[1]
        t1 = t + timedelta(seconds=wall)
        self._battery(t, t1, self.w.ctx.rover.idle_power_w)
        self.lost_s += wall
        rc = self._cell(self.rv.bel_xy)
        target = self._free_linked(self._layers(), rc) if self._on(rc) else None
        if target is None:
            return t1
        tx, ty = self.w.grid.xy(*target)
        dx, dy = tx - self.rv.bel_xy[0], ty - self.rv.bel_xy[1]
        d = math.hypot(dx, dy)
        if d > 0:
            cmd = {"segments": [{"heading_deg": math.degrees(math.atan2(dx, dy)), "distance_m": d}]}
            self._drive(cmd)
            self.events.append(f"backed out {d:.1f} m at {t1:%m-%d %H:%M}")
            t2 = t1 + timedelta(seconds=d / self.w.ctx.rover.speed_m_s)
            self._battery(t1, t2, self.w.ctx.rover.drive_power_w)
            t1 = t2
        return t1

    # -- the loop --------------------------------------------------------------------------

    def play(self) -> RunRecord:
        w = self.w
        seg: SegmentPlan | None = w.first
        seg_start = w.start_time
        cmds = _commands(seg)
        i = 0
        last_day = _earth_day(w.start_time)
        refusals = 0
        ended = "the mission's time ran out"
        now = w.start_time
        cycle_ok = True
        cycle_started = now
        while True:
            if i >= len(cmds):
                # the plan is over (or was refused): plan again while time is left
                if now >= w.ctx.mission_end:
                    break
                new = self.plan(now, True, None)
                if new is None:
                    refusals += 1
                    if refusals >= MAX_REFUSALS:
                        ended = f"{MAX_REFUSALS} sequences in a row refused"
                        break
                    now = self.back_out(now)
                    continue
                refusals = 0
                if len(new.plan.stops) <= 1:
                    ended = "no stop left that the rest of the mission can afford"
                    break
                seg, seg_start, cmds, i = new, now, _commands(new), 0
                continue
            cmd = cmds[i]
            t0 = seg_start + timedelta(seconds=float(cmd["t_start_s"]))
            t1 = seg_start + timedelta(seconds=float(cmd["t_end_s"]))
            if t1 > w.ctx.mission_end:
                break
            kind = cmd["type"]
            if kind == "image" and cmd.get("purpose") == "navigation":
                self._reveal()
                # the ground decides on these images: go on, or plan again
                day = _earth_day(t0)
                strategic = day > last_day
                blocked = _next_drive_blocked(
                    cmds,
                    i,
                    self.ground_keep,
                    w.grid,
                    risk=imaged_risk(self.ground_risk, self.revealed),
                    footprint_m=w.ctx.rover.length_m,
                    max_cycle_risk=w.ctx.ops.max_cycle_risk,
                )
                if strategic or blocked or not cycle_ok:
                    if strategic:
                        last_day = day
                        noise = self.rng.normal(0.0, w.sim.relocalise_sd_m, 2)
                        self.rv.bel_xy = self.rv.true_xy + noise
                        self.rv.believed.append(tuple(self.rv.bel_xy))
                    if not cycle_ok:
                        self.lost_s += (t0 - cycle_started).total_seconds()
                    new = self.plan(t0, strategic, seg)
                    if new is None:
                        refusals += 1
                        if refusals >= MAX_REFUSALS:
                            ended = f"{MAX_REFUSALS} sequences in a row refused"
                            now = t0
                            break
                        now = self.back_out(t0)
                        seg, seg_start, cmds, i = None, now, [], 0
                        cycle_ok = True
                        continue
                    refusals = 0
                    seg, seg_start, cmds, i = new, t0, _commands(new), 0
                    cycle_ok = True
                    continue
            if kind == "wait" and cmd.get("reason") == "uplink":
                cycle_started = t1
            if kind == "drive":
                if cycle_ok:
                    cycle_ok = self._drive(cmd)
                self._battery(t0, t1, w.ctx.rover.drive_power_w if cycle_ok else 0.0)
            else:
                if kind in ("scoop", "observe", "place_moonhouse") and cycle_ok:
                    self._activity(cmd, seg)
                self._battery(t0, t1, w.ctx.rover.idle_power_w)
            now = t1
            i += 1
        err = float(np.hypot(*(self.rv.bel_xy - self.rv.true_xy)))
        value = _value(w, self.done)
        return RunRecord(
            run=self.run,
            seed=self.seed,
            stops_first_planned=len(w.first.plan.stops) - 1,
            stops_achieved=len(self.done),
            value_first_planned=float(w.first.plan.value),
            value_achieved=value,
            distance_m=self.rv.distance,
            hazards_met=self.hazards,
            rock_strikes=self.strikes,
            time_lost_h=self.lost_s / 3600.0,
            lowest_battery_wh=self.rv.lowest,
            sequences_refused=self.refused,
            replans=self.replans,
            end_position_error_m=err,
            achieved=tuple(self.achieved),
            track_xy=tuple((round(x, 3), round(y, 3)) for x, y in self.rv.track),
            believed_xy=tuple(
                (round(float(x), 3), round(float(y), 3)) for x, y in self.rv.believed
            ),
            events=tuple(self.events),
            ended=ended,
        )

    def _activity(self, cmd: dict[str, Any], seg: SegmentPlan) -> None:
        """A stop's activity: it counts when the rover is truly there."""
        k = int(cmd["stop"])
        s = seg.plan.stops
        sx, sy = float(s.x[k]), float(s.y[k])
        if math.hypot(self.rv.true_xy[0] - sx, self.rv.true_xy[1] - sy) > TARGET_REACH_M:
            self.events.append(f"{s.kind[k]} missed: the rover is not at the planned place")
            return
        if s.kind[k] == "moonhouse":
            rc = self._cell(self.rv.true_xy)
            if not (self._on(rc) and self.w.truth_view[rc]):
                self.events.append("Moonhouse placed out of the lander camera's view")
                return
        c = self.w.candidates
        for i in range(len(c)):
            if c.kind[i] == s.kind[k] and math.hypot(c.x[i] - sx, c.y[i] - sy) < 1e-3:
                if i not in self.done:
                    self.done.append(i)
                    self.achieved.append(s.kind[k])
                return


def _commands(seg: SegmentPlan | None) -> list[dict[str, Any]]:
    if seg is None:
        return []
    return [c for cyc in seg.sequence["cycles"] for c in cyc["commands"]]


def _stops_left(seg: SegmentPlan):
    s = seg.plan.stops
    return [(s.kind[k], float(s.x[k]), float(s.y[k])) for k in range(1, len(s))]


def _earth_day(t: datetime) -> int:
    return int(t.timestamp() // DAY_S)


def imaged_risk(risk: np.ndarray, imaged: np.ndarray) -> np.ndarray:
    """The risk the flight rule judges: the ground's where images showed the terrain, else 0.

    The per-cycle risk rule is the approval of an uplinked drive on the images of the terrain it
    crosses (as rover teams approve each drive on navigation images); the orbital map's risk is
    not a figure that rule can judge, so beyond the images it only weighs on the route through
    the cost, and each cycle is judged again on the images before it is driven
    (:func:`_next_drive_blocked`).
    """
    return np.where(imaged, risk, np.float32(0.0)).astype(np.float32, copy=False)


def _next_drive_blocked(
    cmds,
    i,
    keepout,
    grid: Dem,
    *,
    risk: np.ndarray | None = None,
    footprint_m: float = 1.0,
    max_cycle_risk: float = 1.0,
) -> bool:
    """True when the next drive crosses what the ground now knows is keep-out, or is too risky.

    Too risky: on the risk the ground now knows (``risk``), more chance of meeting a hazard than
    a command cycle may take (each step a trial per footprint length at the risk of the cell it
    ends in, as the sequence checker counts).
    """
    m, n = keepout.shape
    for c in cmds[i + 1 :]:
        if c["type"] == "drive":
            keep, prev = 1.0, None
            for x, y in c["path_xy"]:
                r, cc = grid.rowcol(float(x), float(y))
                if not (0 <= r < m and 0 <= cc < n):
                    prev = (float(x), float(y))
                    continue
                if keepout[r, cc]:
                    return True
                if risk is not None and prev is not None:
                    step = math.hypot(float(x) - prev[0], float(y) - prev[1])
                    v = float(risk[r, cc])
                    v = 1.0 if not math.isfinite(v) else min(max(v, 0.0), 1.0)
                    keep *= (1.0 - v) ** (step / footprint_m)
                prev = (float(x), float(y))
            return 1.0 - keep > max_cycle_risk * (1.0 + 1e-6) + 1e-12
        if c["type"] == "wait" and c.get("reason") == "uplink":
            continue
    return False


def _value(world: OpsWorld, done: list[int]) -> float:
    """Value of the stops made, with the diminishing returns of their kinds."""
    c = world.candidates
    factor = dict(world.ctx.rules.repeat_factors())
    by_kind: dict[str, list[float]] = {}
    for i in done:
        by_kind.setdefault(c.kind[i], []).append(float(c.value[i]))
    total = 0.0
    for k, vals in by_kind.items():
        f = factor.get(k, 1.0)
        for rank, v in enumerate(sorted(vals, reverse=True)):
            total += v * f**rank
    return total


def simulate_run(world: OpsWorld, run: int, seed: int, horizons=None) -> RunRecord:
    """Play one mission (see the module notes); ``horizons`` = (truth, orbital) maps."""
    if horizons is None:
        horizons = (world.horizons(world.truth_codes), world.horizons(world.orbital_codes))
    return _Run(world, run, seed, *horizons).play()


_HORIZONS: dict[int, tuple] = {}
"""Per process: the horizon maps of the world it holds (rebuilt from codes once, not per
chunk; the world is kept with them so its id cannot be reused)."""


def _chunk(world: OpsWorld, first: int, seeds: list[int]) -> list[RunRecord]:
    held = _HORIZONS.get(id(world))
    if held is None or held[0] is not world:
        _HORIZONS.clear()
        held = (world, world.horizons(world.truth_codes), world.horizons(world.orbital_codes))
        _HORIZONS[id(world)] = held
    return [simulate_run(world, first + j, s, held[1:]) for j, s in enumerate(seeds)]


def run_seeds(seed: int, runs: int, chunk: int) -> list[list[int]]:
    """The seeds of each chunk: chunk ``i`` draws from the ``i``-th child of the seed."""
    sizes = [min(chunk, runs - a) for a in range(0, runs, chunk)]
    children = np.random.SeedSequence(int(seed)).spawn(len(sizes))
    return [
        [int(v) for v in c.generate_state(n, dtype=np.uint32)]
        for c, n in zip(children, sizes, strict=True)
    ]


def simulate_runs(
    world: OpsWorld,
    *,
    runs: int,
    seed: int = 0,
    chunk: int = 5,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
) -> list[RunRecord]:
    """``runs`` missions in seeded chunks on Dask (see the module notes).

    Parameters
    ----------
    world : OpsWorld
    runs, seed, chunk : int
        The records depend on these only (not on the scheduler or the workers).
    scheduler : {"processes", "threads", "synchronous"} or a dask.distributed address
        ``processes`` starts a local dask.distributed cluster of one-thread workers; with it,
        and with an address, the world is sent to each worker once (``scatter``).
    workers : int, optional
        Local workers (default: the CPUs available).
    """
    import dask

    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise RoverError(f"runs must be a whole number >= 1, got {runs!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise RoverError(f"chunk must be a whole number >= 1, got {chunk!r}")
    seeds = run_seeds(seed, runs, chunk)
    starts = [int(a) for a in np.cumsum([0] + [len(s) for s in seeds[:-1]])]
    if scheduler in ("threads", "synchronous", "sync"):
        from dask.callbacks import Callback

        tasks = [
            dask.delayed(_chunk, pure=False)(world, a, s)
            for a, s in zip(starts, seeds, strict=True)
        ]
        keys, done = {t.key for t in tasks}, [0]

        class _Tick(Callback):
            def _posttask(self, key, result, dsk, state, worker_id):
                if key in keys:
                    done[0] += 1
                    progress(done[0] / len(tasks), f"{done[0]}/{len(tasks)} chunks")

        with _Tick():
            parts = dask.compute(
                *tasks,
                scheduler="synchronous" if scheduler == "sync" else scheduler,
                num_workers=workers,
            )
        return [r for part in parts for r in part]
    # processes (a local cluster) or a cluster's address: the world goes to each worker once
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the cluster's start and stop are not the user's business
    if scheduler == "processes":
        n = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=":0",  # any free port: never the 8787 of another cluster
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as err:
            quiet.setLevel(level)
            raise RoverError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({err}); start one with "
                "`dask scheduler`, or use --scheduler processes"
            ) from err
    try:
        shared = client.scatter(world, broadcast=True, hash=False)
        futures = [
            client.submit(_chunk, shared, a, s, pure=False)
            for a, s in zip(starts, seeds, strict=True)
        ]
        where = {f.key: i for i, f in enumerate(futures)}
        parts: list[Any] = [None] * len(futures)
        for k, fut in enumerate(as_completed(futures), start=1):
            parts[where[fut.key]] = fut.result()
            progress(k / len(futures), f"{k}/{len(futures)} chunks")
        return [r for part in parts for r in part]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        quiet.setLevel(level)


def summarise(records: list[RunRecord]) -> dict[str, Any]:
    """Over the runs: means, spreads and extremes of what matters."""

    def stats(name):
        v = np.array([getattr(r, name) for r in records], dtype=np.float64)
        return {
            "mean": round(float(v.mean()), 3),
            "min": round(float(v.min()), 3),
            "max": round(float(v.max()), 3),
        }

    first = records[0].stops_first_planned if records else 0
    return {
        "runs": len(records),
        "stops_first_planned": first,
        "stops_achieved": stats("stops_achieved"),
        "value_first_planned": round(records[0].value_first_planned, 3) if records else 0.0,
        "value_achieved": stats("value_achieved"),
        "distance_m": stats("distance_m"),
        "hazards_met": stats("hazards_met"),
        "time_lost_h": stats("time_lost_h"),
        "lowest_battery_wh": stats("lowest_battery_wh"),
        "sequences_refused": stats("sequences_refused"),
        "replans": stats("replans"),
        "end_position_error_m": stats("end_position_error_m"),
        "runs_with_a_hazard_met": int(sum(r.hazards_met > 0 for r in records)),
    }


# --------------------------------------------------------------------------------------------
# the shared world


def _known_around(orb_hm, truth_hm, xy: tuple[float, float], radius_m: float):
    """The orbital hazard map with the true layers within ``radius_m`` of ``xy``, and where."""
    dem = orb_hm.grid
    r0, c0 = dem.rowcol(*xy)
    k = int(math.ceil(radius_m / dem.res_m))
    a, b = max(r0 - k, 0), min(r0 + k + 1, dem.shape[0])
    cl, cr = max(c0 - k, 0), min(c0 + k + 1, dem.shape[1])
    rows, cols = np.mgrid[a:b, cl:cr]
    x, y = dem.xy(rows, cols)
    near = np.hypot(x - xy[0], y - xy[1]) <= radius_m
    rows, cols = rows[near], cols[near]
    known = np.zeros(dem.shape, dtype=bool)
    known[rows, cols] = True
    changes = {}
    for name in ("keepout_reason", "cost", "rock_risk", "risk"):
        out = np.array(getattr(orb_hm, name), copy=True)
        out[rows, cols] = np.asarray(getattr(truth_hm, name))[rows, cols]
        changes[name] = out
    if orb_hm.link is not None and truth_hm.link is not None:
        # on the site's grid, cell by cell (the two link fields need not share a radio grid)
        shape = dem.shape
        margin, visible = orb_hm.link.window(0, shape[0], 0, shape[1])
        true_margin, true_visible = truth_hm.link.window(0, shape[0], 0, shape[1])
        margin[rows, cols] = true_margin[rows, cols]
        visible[rows, cols] = true_visible[rows, cols]
        changes["link"] = LinkField(margin, visible.astype(np.uint8), 0, 0, shape, 1)
    return replace(orb_hm, **changes), known


def build_world(
    truth_hm,
    *,
    rock_abundance: float,
    ctx: OpsContext,
    sim: SimSpec,
    start_time: datetime,
    start_cell: tuple[int, int],
    start_xy: tuple[float, float],
    start_heading_deg: float,
    start_soc_wh: float,
    camera_azimuth_deg: float | None,
    targets=None,
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> OpsWorld:
    """The truth and the orbital map of a site, and the first plan made on the orbital map.

    ``truth_hm`` is the site's hazard map at full resolution with the lander standing (the
    terrain as it is). The orbital map (:func:`orbital_hazard_map`) is judged on the orbital
    DTM's posts with the same Sun, lander and limits; its rock abundance is
    ``rock_abundance`` everywhere (one number from orbit).
    """
    from frigoris.terrain.illumination import horizon_map

    from .energy import quantized
    from .operations import lander_camera_view
    from .planning import HORIZON_SECTORS, plan_on_hazard

    dem = truth_hm.grid
    progress(0.0, "orbital DTM and its hazard map, at its posts")
    orb_hm = orbital_hazard_map(truth_hm, sim, seed, rock_abundance=rock_abundance)
    # the first plan is made once the rover's first images are down: the terrain (and the link
    # it reports) within its cameras' reach of the set-down point, all around, is known
    orb_hm, imaged = _known_around(orb_hm, truth_hm, start_xy, ctx.ops.nav_camera_range_m)
    progress(0.3, "first plan, on the orbital map")
    days = (ctx.mission_end - start_time).total_seconds() / DAY_S
    # the per-cycle risk rule judges imaged terrain only (see imaged_risk)
    first = plan_on_hazard(
        replace(orb_hm, risk=imaged_risk(orb_hm.risk, imaged)),
        rover=ctx.rover,
        lander=ctx.lander,
        start_time=start_time,
        start_cell=start_cell,
        start_soc_wh=start_soc_wh,
        mission_days=days,
        targets=targets,
        seed=ctx.seed,
        time_limit_s=ctx.time_limit_s,
        rules=ctx.rules,
        ops=ctx.ops,
        waivers=ctx.waivers,
        camera_azimuth_deg=camera_azimuth_deg,
        start_heading_deg=start_heading_deg,
        start_xy=start_xy,
        progress=lambda f, s="": progress(0.3 + 0.4 * f, s),
    )
    progress(0.7, "true horizons")
    truth_h, truth_codes = quantized(horizon_map(dem, HORIZON_SECTORS))
    del truth_h
    seg = first.segment
    cad = seg.operations.cadence
    light = replace(
        seg, operations=replace(seg.operations, cadence=replace(cad, sun_elevation_deg=None))
    )
    hz = first.horizons
    truth_layers = PlanLayers.from_hazard(truth_hm, ctx.ops)
    progress(1.0, "world ready")
    with np.errstate(invalid="ignore"):
        hazard = (
            ~np.isfinite(dem.elevation)
            | ~(truth_hm.slope_rover_deg <= sim.hazard_slope_deg)
            | ~(truth_hm.step_m <= sim.hazard_step_m)
        )
    lx, ly = truth_hm.lander.x, truth_hm.lander.y
    gx, gy = dem.xy(*np.indices(dem.shape))
    hazard |= np.hypot(gx - lx, gy - ly) <= truth_hm.lander.footprint_radius_m
    return OpsWorld(
        grid=dem,
        truth=truth_layers,
        truth_hazard=hazard,
        truth_slope_deg=np.asarray(truth_hm.slope_rover_deg, dtype=np.float32),
        truth_view=lander_camera_view(
            dem,
            (truth_hm.lander.x, truth_hm.lander.y),
            ctx.ops,
            azimuth_deg=camera_azimuth_deg,
            range_m=ctx.rules.moonhouse_range_m,
        ),
        truth_codes=truth_codes,
        orbital=PlanLayers.from_hazard(orb_hm, ctx.ops),
        orbital_codes=first.horizon_codes,
        horizon_fields={
            "azimuths_deg": hz.azimuths_deg,
            "res_m": hz.res_m,
            "body_radius_m": hz.body_radius_m,
            "max_distance_m": hz.max_distance_m,
            "lines_per_cell": hz.lines_per_cell,
        },
        candidates=first.candidates,
        first=light,
        ctx=first.context,
        sim=sim,
        start_time=start_time,
        start_xy=start_xy,
        start_heading_deg=start_heading_deg,
        start_soc_wh=float(first.plan.soc_arrival_wh[0]),
        lander_xy=(float(truth_hm.lander.x), float(truth_hm.lander.y)),
        imaged=imaged,
    )
