"""Candidate stops: places worth the rover's scarce hours of sunlight and link.

Proposed from the hazard layers (arrays in, named results out):

- ``scoop``: pristine regolith for the regolith scoop (NASA purchase): outside the
  plume-disturbed zone around the lander, flat, free of resolved and unresolved rocks;
- ``crater``: the rim and near ejecta of small fresh craters (excavated, diverse material);
- ``boulder``: a stand-off point from which to image a resolved rock;
- ``moonhouse``: a flat spot in view of the lander's camera to set down and photograph the
  Moonhouse art piece;
- ``target``: user targets with priorities.

Every candidate is in drivable, linked terrain (never keep-out), and candidates are spread out
by greedy non-maximum suppression on value (spacing within each kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .errors import PlanningError

StopKind = Literal["start", "scoop", "crater", "boulder", "moonhouse", "target"]

TARGET_REACH_M = 3.0
"""A user target's stop is the drivable, linked cell nearest to it within this distance (the
rover's cameras see a target from a few metres)."""


@dataclass(frozen=True)
class StopRules:
    """How candidates are found and valued (defaults: Tenacious at the Resilience site).

    Dwell times and values are planning assumptions, stated here in one place.
    """

    plume_radius_m: float = 20.0
    scoop_max_slope_deg: float = 5.0
    scoop_max_rock_risk: float = 0.01
    scoop_value: float = 10.0
    scoop_dwell_s: float = 1800.0
    crater_min_depth_ratio: float = 0.1
    crater_value: float = 6.0
    crater_dwell_s: float = 900.0
    boulder_min_diameter_m: float = 1.0
    boulder_standoff_m: float = 3.0
    boulder_value: float = 4.0
    boulder_dwell_s: float = 600.0
    moonhouse_range_m: tuple[float, float] = (6.0, 15.0)
    moonhouse_value: float = 12.0
    moonhouse_dwell_s: float = 1800.0
    target_value_per_priority: float = 5.0
    target_dwell_s: float = 900.0
    min_spacing_m: float = 8.0
    max_candidates: int = 150
    max_per_kind: int = 40
    scoop_repeat_factor: float = 0.1
    """Diminishing returns: the first photographed scoop is the NASA deliverable; each further
    scoop counts this share of the one before (a planning assumption)."""
    crater_repeat_factor: float = 0.5
    """Each further crater rim counts half the one before (diverse material, less new each time)."""
    boulder_repeat_factor: float = 0.5
    """Each further boulder counts half the one before."""
    moonhouse_repeat_factor: float = 0.0
    """There is one Moonhouse: placing it twice is worth nothing."""
    target_repeat_factor: float = 1.0
    """User targets are distinct places: each counts in full."""
    min_stop_value: float = 0.5
    """A stop worth less than this in the plan (after diminishing returns; a twentieth of the
    first scoop) is not worth the two turnarounds of a stop with a command cadence."""

    def repeat_factors(self) -> tuple[tuple[str, float], ...]:
        """``(kind, factor)`` for :attr:`planners.traverse.Operations.repeat_factor`."""
        kinds = ("scoop", "crater", "boulder", "moonhouse", "target")
        return tuple((k, float(getattr(self, f"{k}_repeat_factor"))) for k in kinds)


@dataclass(frozen=True)
class Candidates:
    """Candidate stops (arrays of length K) in map metres and grid cells."""

    x: np.ndarray
    y: np.ndarray
    cells: np.ndarray
    kind: tuple[str, ...]
    value: np.ndarray
    dwell_s: np.ndarray
    reason: tuple[str, ...]
    names: tuple[str, ...] = field(default=())
    unplaced: tuple[tuple[str, str, float, float], ...] = field(default=())
    """User targets that got no candidate: ``(name, why, x, y)`` each."""

    def __len__(self) -> int:
        return int(self.x.size)

    def subset(self, idx: Sequence[int]) -> Candidates:
        """The candidates at ``idx``, in that order."""
        idx = list(idx)
        return Candidates(
            self.x[idx],
            self.y[idx],
            self.cells[idx],
            tuple(self.kind[i] for i in idx),
            self.value[idx],
            self.dwell_s[idx],
            tuple(self.reason[i] for i in idx),
            tuple(self.names[i] for i in idx) if self.names else (),
            self.unplaced,
        )


def _cell_centres(transform, shape):
    rows, cols = np.indices(shape)
    x, y = transform @ (cols + 0.5, rows + 0.5)
    return np.asarray(x), np.asarray(y)


def candidate_stops(
    *,
    keepout: np.ndarray,
    slope_deg: np.ndarray,
    rock_risk: np.ndarray,
    transform,
    lander_xy: tuple[float, float],
    comm_ok: np.ndarray | None = None,
    lander_view: np.ndarray | None = None,
    craters: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    rocks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    targets: tuple[np.ndarray, np.ndarray, np.ndarray, Sequence[str]] | None = None,
    rules: StopRules | None = None,
    reach: tuple[float, float, float] | None = None,
) -> Candidates:
    """Propose spread-out candidate stops, each with a value, a dwell time and a reason.

    Parameters
    ----------
    keepout : ndarray of bool, shape (M, N)
        Cells the rover (as a point) must not enter.
    slope_deg, rock_risk : ndarray of shape (M, N)
        Footprint slope and unresolved-rock risk.
    transform : affine.Affine
        Grid transform (pixel corners to map metres).
    lander_xy : (x, y)
        Lander position in map metres.
    comm_ok : ndarray of bool, optional
        Cells in link with the lander; others are never proposed.
    lander_view : ndarray of bool, optional
        Cells the lander's camera sees (line of sight); needed for the Moonhouse spot.
    craters : (x, y, diameter_m, depth_m), optional
        Detected craters.
    rocks : (x, y, diameter_m), optional
        Detected resolved rocks.
    targets : (x, y, priority, name), optional
        User targets; priority >= 1 multiplies ``rules.target_value_per_priority``.
    rules : StopRules, optional
    reach : (x, y, radius_m), optional
        Only places within ``radius_m`` of (x, y) are proposed (how far the rover can get in
        the mission at its command cadence); user targets beyond it are reported unplaced.

    Returns
    -------
    Candidates
        Sorted by value (highest first), at most ``rules.max_candidates``.
    """
    rules = rules or StopRules()
    keepout = np.asarray(keepout, dtype=bool)
    shape = keepout.shape
    for name, arr in (("slope_deg", slope_deg), ("rock_risk", rock_risk)):
        if np.shape(arr) != shape:
            raise PlanningError(f"{name} has shape {np.shape(arr)}, keep-out {shape}")
    ok = ~keepout
    if comm_ok is not None:
        ok &= np.asarray(comm_ok, dtype=bool)
    res = abs(transform.a)
    cx, cy = _cell_centres(transform, shape)
    dist_lander = np.hypot(cx - lander_xy[0], cy - lander_xy[1])
    within = None
    if reach is not None:
        within = np.hypot(cx - reach[0], cy - reach[1]) <= reach[2]
        ok &= within
    props: list[tuple[float, int, int, str, float, str, str]] = []

    def add(r: int, c: int, kind: str, value: float, dwell: float, reason: str, name: str = ""):
        props.append((value, r, c, kind, dwell, reason, name))

    def nearest_ok(x: float, y: float, radius_m: float) -> tuple[int, int] | None:
        """The allowed cell nearest to (x, y) within radius_m, if any."""
        col, row = ~transform @ (x, y)
        r0, c0 = int(np.floor(row)), int(np.floor(col))
        k = int(np.ceil(radius_m / res))
        r_lo, r_hi = max(r0 - k, 0), min(r0 + k + 1, shape[0])
        c_lo, c_hi = max(c0 - k, 0), min(c0 + k + 1, shape[1])
        if r_lo >= r_hi or c_lo >= c_hi:
            return None
        win = ok[r_lo:r_hi, c_lo:c_hi]
        if not win.any():
            return None
        d = np.hypot(cx[r_lo:r_hi, c_lo:c_hi] - x, cy[r_lo:r_hi, c_lo:c_hi] - y)
        d = np.where(win & (d <= radius_m), d, np.inf)
        i = int(np.argmin(d))
        if not np.isfinite(d.flat[i]):
            return None
        return r_lo + i // win.shape[1], c_lo + i % win.shape[1]

    def _why_unreachable(x: float, y: float) -> str:
        col, row = ~transform @ (x, y)
        r, c = int(np.floor(row)), int(np.floor(col))
        if not (0 <= r < shape[0] and 0 <= c < shape[1]):
            return "off the map"
        where = f"no drivable cell within {TARGET_REACH_M:g} m"
        if within is not None and not within[r, c]:
            return (
                f"beyond the {reach[2]:.0f} m the rover can drive in the mission at its command "
                "cadence"
            )
        if keepout[r, c]:
            return f"in keep-out ({where})"
        if comm_ok is not None and not comm_ok[r, c]:
            return f"out of the lander's link ({where})"
        return where

    # Pristine regolith: far from the plume, flat, no rocks; value grows with flatness.
    scoop = (
        ok
        & (dist_lander >= rules.plume_radius_m)
        & (np.nan_to_num(slope_deg, nan=90.0) <= rules.scoop_max_slope_deg)
        & (np.nan_to_num(rock_risk, nan=1.0) <= rules.scoop_max_rock_risk)
    )
    if scoop.any():
        step = max(1, int(rules.min_spacing_m / res))
        rr, cc = np.nonzero(scoop[::step, ::step])
        rr, cc = rr * step, cc * step
        flat = 1.0 - slope_deg[rr, cc] / rules.scoop_max_slope_deg
        # Any pristine flat spot serves the scoop (one photographed scoop is the deliverable):
        # the nearest to the lander are proposed, the rover reaches them first.
        order = np.argsort(dist_lander[rr, cc], kind="stable")[: rules.max_per_kind]
        for i in order:
            add(
                int(rr[i]),
                int(cc[i]),
                "scoop",
                rules.scoop_value * (0.5 + 0.5 * float(flat[i])),
                rules.scoop_dwell_s,
                f"pristine regolith {dist_lander[rr[i], cc[i]]:.0f} m from the lander, "
                f"slope {slope_deg[rr[i], cc[i]]:.1f} deg, rock risk {rock_risk[rr[i], cc[i]]:.3f}",
            )

    if craters is not None:
        x, y, d, depth = (np.asarray(a, dtype=np.float64) for a in craters)
        ratio = np.divide(depth, d, out=np.zeros_like(d), where=d > 0)
        for i in np.nonzero(ratio >= rules.crater_min_depth_ratio)[0]:
            # Stop on the rim crest or just outside it, on the side nearest the lander.
            ang = np.arctan2(lander_xy[1] - y[i], lander_xy[0] - x[i])
            px, py = x[i] + 0.6 * d[i] * np.cos(ang), y[i] + 0.6 * d[i] * np.sin(ang)
            cell = nearest_ok(px, py, 0.3 * d[i] + 2 * res)
            if cell is not None:
                add(
                    *cell,
                    "crater",
                    rules.crater_value * min(ratio[i] / 0.2, 1.0),
                    rules.crater_dwell_s,
                    f"rim of a fresh crater {d[i]:.1f} m wide, depth/diameter {ratio[i]:.2f}",
                )

    if rocks is not None:
        x, y, d = (np.asarray(a, dtype=np.float64) for a in rocks)
        for i in np.nonzero(d >= rules.boulder_min_diameter_m)[0]:
            ang = np.arctan2(lander_xy[1] - y[i], lander_xy[0] - x[i])
            sx = x[i] + (0.5 * d[i] + rules.boulder_standoff_m) * np.cos(ang)
            sy = y[i] + (0.5 * d[i] + rules.boulder_standoff_m) * np.sin(ang)
            cell = nearest_ok(sx, sy, rules.boulder_standoff_m)
            if cell is not None:
                add(
                    *cell,
                    "boulder",
                    rules.boulder_value * min(d[i] / 2.0, 2.0),
                    rules.boulder_dwell_s,
                    f"image a {d[i]:.1f} m boulder from {rules.boulder_standoff_m:g} m",
                )

    if lander_view is not None:
        lo, hi = rules.moonhouse_range_m
        spot = ok & np.asarray(lander_view, bool) & (dist_lander >= lo) & (dist_lander <= hi)
        if spot.any():
            s = np.where(spot, np.nan_to_num(slope_deg, nan=90.0), np.inf)
            i = int(np.argmin(s))
            r, c = divmod(i, shape[1])
            add(
                r,
                c,
                "moonhouse",
                rules.moonhouse_value,
                rules.moonhouse_dwell_s,
                f"flat spot {dist_lander[r, c]:.0f} m from the lander, in its camera's view: "
                "set down and photograph the Moonhouse",
            )

    unplaced: list[tuple[str, str, float, float]] = []
    if targets is not None:
        x, y, prio, names = targets
        for xi, yi, pi, ni in zip(x, y, prio, names, strict=False):
            cell = nearest_ok(float(xi), float(yi), TARGET_REACH_M)
            if cell is None:
                unplaced.append((str(ni), _why_unreachable(float(xi), float(yi)), xi, yi))
                continue
            add(
                *cell,
                "target",
                rules.target_value_per_priority * float(pi),
                rules.target_dwell_s,
                f"user target {ni!r} (priority {pi:g})",
                str(ni),
            )

    def _stands_for(p, q) -> str:
        return f"within {rules.min_spacing_m:g} m of target {q[6]!r}, whose stop stands for it"

    # Greedy non-maximum suppression on value; user targets and the Moonhouse first on ties.
    props.sort(key=lambda p: (-p[0], p[3] not in ("target", "moonhouse"), p[1], p[2]))
    chosen: list[tuple] = []
    per_kind: dict[str, int] = {}
    for n, p in enumerate(props):
        if len(chosen) >= rules.max_candidates:
            unplaced += [
                (
                    q[6],
                    f"beyond the {rules.max_candidates} candidates kept (by value)",
                    cx[q[1], q[2]],
                    cy[q[1], q[2]],
                )
                for q in props[n:]
                if q[3] == "target"
            ]
            break
        if p[3] != "target" and per_kind.get(p[3], 0) >= rules.max_per_kind:
            continue
        x0, y0 = cx[p[1], p[2]], cy[p[1], p[2]]
        # Spacing applies within a kind: one place may serve two purposes (scoop on a rim).
        near = [
            q
            for q in chosen
            if q[3] == p[3]
            and np.hypot(x0 - cx[q[1], q[2]], y0 - cy[q[1], q[2]]) < rules.min_spacing_m
        ]
        if not near:
            chosen.append(p)
            per_kind[p[3]] = per_kind.get(p[3], 0) + 1
        elif p[3] == "target":
            unplaced.append((p[6], _stands_for(p, near[0]), x0, y0))
    if not chosen:
        e = np.zeros(0)
        return Candidates(e, e, np.zeros((0, 2), int), (), e, e, (), (), tuple(unplaced))
    rows = np.array([p[1] for p in chosen])
    cols = np.array([p[2] for p in chosen])
    return Candidates(
        x=cx[rows, cols],
        y=cy[rows, cols],
        cells=np.c_[rows, cols],
        kind=tuple(p[3] for p in chosen),
        value=np.array([p[0] for p in chosen]),
        dwell_s=np.array([p[4] for p in chosen]),
        reason=tuple(p[5] for p in chosen),
        names=tuple(p[6] for p in chosen),
        unplaced=tuple(unplaced),
    )
