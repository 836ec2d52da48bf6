"""PNG maps and charts for people, each written atomically (see :mod:`.maps`)."""

from __future__ import annotations

import math
import pathlib
import textwrap
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import shapely.geometry
from affine import Affine
from matplotlib.colors import ListedColormap, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, Patch, Polygon
from matplotlib.patheffects import withStroke
from matplotlib.ticker import MaxNLocator

from frigoris.terrain import Dem
from frigoris.terrain.crs import crs_to_lunar
from frigoris.terrain.hazard import REASONS, HazardMap
from frigoris.terrain.slope import hillshade
from frigoris.terrain.synth import RESILIENCE_TARGET

from ...touchdown import MISSION2_IMPACT_OFFSET_M, OUTCOMES
from .maps import (
    add_circles,
    add_north_arrow,
    add_scale_bar,
    base_map,
    clamp_view,
    decimate,
    display_factor,
    map_extent,
    place_labels,
    save,
)
from .style import OUTCOME_COLOURS, STOP_COLOURS

if TYPE_CHECKING:  # annotations only: `frigoris hazard` need not load the planners
    from frigoris.planners.routes import Route

    from ...deploy import Handoff
    from ...specs import LanderSpec
    from ...touchdown import Dispersion, SafetyMap, TouchdownResult

__all__ = [
    "context_figure",
    "ops_figure",
    "ops_metrics_figure",
    "deploy_figure",
    "hazard_figure",
    "plan_figure",
    "route_figure",
    "site_map",
    "sun_figure",
    "timeline_figure",
    "touchdown_figure",
]


def site_map(
    dem: Dem, path, *, title: str, craters=None, rocks=None, min_crater_m: float = 0.0
) -> pathlib.Path:
    """Hillshade map of a site with crater outlines and rocks."""
    fig, ax = base_map(dem, title=title)
    if craters is not None and len(craters):
        keep = craters.diameter_m >= min_crater_m
        add_circles(
            ax,
            craters.x[keep],
            craters.y[keep],
            craters.diameter_m[keep],
            color="#ffcc00",
            label=f"craters >= {min_crater_m:g} m (truth)",
        )
    if rocks is not None and len(rocks):
        ax.scatter(
            rocks.x,
            rocks.y,
            s=np.clip(rocks.diameter_m * 6, 4, 60),
            c="#ff3355",
            marker="^",
            lw=0,
            label="rocks (truth)",
        )
    if (craters is not None and len(craters)) or (rocks is not None and len(rocks)):
        ax.legend(loc="upper left", fontsize=8, framealpha=0.7)
    b = dem.bounds
    ax.set_xlim(b.left, b.right)
    ax.set_ylim(b.bottom, b.top)
    return save(fig, path)


HAZARD_REASON_STYLE = (
    # (reason, colour, legend text): drawn in this order of precedence, so a cell shows the
    # first reason it has; the link comes last (it depends on the radio, not on the ground)
    ("nodata", "#7f7f7f", "no elevation data"),
    ("obstacle", "#ff7f0e", "resolved obstacle (rock, rim, scarp) over the step limit"),
    ("slope", "#d62728", "slope over the rover's limit"),
    ("risk", "#8c564b", "risk over the planners' threshold"),
    ("lander", "#ffffff", "lander and its ring"),
    ("link", "#9467bd", "no radio link to the lander (margin below 0 dB)"),
)
"""Keep-out reasons on ``hazard.png``: the colours of the web map (``webmap._REASON_COLOURS``)."""


def _hazard_panel(ax, dem: Dem, shade: np.ndarray, title: str) -> None:
    """Grey hillshade (the same for every panel), title, axes in metres, scale bar, north."""
    ax.imshow(
        shade,
        cmap="gray",
        extent=map_extent(dem),
        vmin=0,
        vmax=1,
        interpolation="antialiased",
    )
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("easting (m)")
    ax.set_aspect("equal")
    b = dem.bounds
    ax.set_xlim(b.left, b.right)
    ax.set_ylim(b.bottom, b.top)
    add_scale_bar(ax, dem)
    add_north_arrow(ax, dem.crs)


def hazard_figure(hm, path, *, title: str) -> pathlib.Path:
    """Hazard map for people, three panels side by side with the words under them.

    Keep-out by reason (the share of the map each reason excludes, overlapping, in the legend),
    the risk from what the DEM cannot resolve (with the planners' threshold), and the radio
    link margin to the lander (0 dB: the edge of the link). Under them, what this DEM's pixel
    size resolves and what it gives only as a chance (:meth:`HazardMap.notes`).
    """
    dem = hm.grid
    k = display_factor(dem.shape)
    extent = map_extent(dem)
    margin = hm.link_margin_db
    panels = 3 if margin is not None else 2
    fig = plt.figure(figsize=(6.0 * panels, 9.0), constrained_layout=True)
    grid = fig.add_gridspec(3, panels, height_ratios=[1.0, 0.2, 0.09])
    axes = [fig.add_subplot(grid[0, i]) for i in range(panels)]
    under = [fig.add_subplot(grid[1, i]) for i in range(panels)]
    words = fig.add_subplot(grid[2, :])
    for a in (*under, words):
        a.axis("off")
    fig.suptitle(title, fontsize=13)
    share = hm.keepout_share
    shade = hillshade(decimate(dem.elevation, k), dem.res_m * k, 108.0, 30.0)
    shade = np.nan_to_num(shade, nan=0.5)  # computed once for the three panels

    # 1. keep-out by reason
    ax = axes[0]
    _hazard_panel(ax, dem, shade, f"keep-out by reason ({float(hm.keepout.mean()):.0%} of the map)")
    ax.set_ylabel("northing (m)")
    # each cell's colour code, the first reason it holds in HAZARD_REASON_STYLE (one table
    # lookup per cell; the block's highest code is the first reason in the block)
    lut = np.zeros(256, np.uint8)
    for n, (reason, _, _) in enumerate(reversed(HAZARD_REASON_STYLE)):
        lut[(np.arange(256) & (1 << REASONS.index(reason))) > 0] = n + 1  # later wins
    code = decimate(lut[hm.keepout_reason], k, "max").astype(np.float32)
    colours = [c for _, c, _ in reversed(HAZARD_REASON_STYLE)]
    ax.imshow(
        np.where(code > 0, code, np.nan),
        cmap=ListedColormap(colours),
        vmin=0.5,
        vmax=len(colours) + 0.5,
        alpha=0.6,
        extent=extent,
        interpolation="nearest",
    )
    handles = [
        Patch(color=c, alpha=0.6, label=f"{text}: {share[r]:.1%}")
        for r, c, text in HAZARD_REASON_STYLE
        if r in share and share[r] > 0.0
    ]
    if len(hm.rocks):
        ax.scatter(hm.rocks.x, hm.rocks.y, s=8, c="#ff7f0e", marker="^", lw=0)
        handles.append(
            plt.Line2D([], [], color="#ff7f0e", marker="^", lw=0, label="resolved rocks")
        )

    # 2. risk
    ax = axes[1]
    _hazard_panel(ax, dem, shade, "risk from what the DEM cannot resolve")
    risk = decimate(np.asarray(hm.risk, dtype=np.float32), k, "max")
    im = ax.imshow(
        np.where(risk > 0.005, risk, np.nan),
        cmap="YlOrRd",
        vmin=0.0,
        vmax=1.0,
        alpha=0.75,
        extent=extent,
        interpolation="nearest",
    )
    bar = fig.colorbar(
        im, cax=under[1].inset_axes([0.05, 0.75, 0.9, 0.2]), orientation="horizontal"
    )
    bar.set_label(
        "probability that the rover meets a hazard\nthe pixels cannot show "
        f"(keep-out above {hm.limits.max_risk:g}, the black line)"
    )
    bar.ax.axvline(hm.limits.max_risk, color="black", lw=1.5)

    # 3. link margin
    if margin is not None:
        ax = axes[2]
        _hazard_panel(ax, dem, shade, "radio link margin to the lander")
        m = decimate(np.asarray(margin, dtype=np.float32), k, "mean")
        im = ax.imshow(
            m,
            cmap="RdYlBu",
            norm=TwoSlopeNorm(vcenter=0.0, vmin=-30.0, vmax=30.0),
            alpha=0.7,
            extent=extent,
            interpolation="nearest",
        )
        bar = fig.colorbar(
            im, cax=under[2].inset_axes([0.05, 0.75, 0.9, 0.2]), orientation="horizontal"
        )
        bar.set_label(
            f"dB over the required {hm.limits.link.required_margin_db:g} dB margin\n"
            "below 0: no link"
        )
    for ax in axes:
        if hm.lander is not None:
            ax.plot(hm.lander.x, hm.lander.y, marker="*", ms=14, color="white", mec="black")
    if hm.lander is not None:
        handles.append(
            plt.Line2D([], [], color="white", mec="black", marker="*", ms=12, lw=0, label="lander")
        )
    under[0].legend(
        handles=handles,
        loc="upper center",
        fontsize=8,
        framealpha=0.9,
        title="keep-out reasons, share of the map (they overlap)",
        title_fontsize=8,
    )
    notes = " ".join(hm.notes())
    words.text(
        0.0,
        1.0,
        textwrap.fill(f"At {dem.res_m:g} m pixels: {notes}", 60 * panels),
        ha="left",
        va="top",
        fontsize=8,
        transform=words.transAxes,
    )
    return save(fig, path)


def plan_figure(hm, plan, path, *, title: str, unplanned=(), seen=(), closed=None) -> pathlib.Path:
    """The plan over the hazard map: legs coloured in order, stops numbered by kind.

    ``unplanned`` user targets ``(name, why, x, y)`` are drawn crossed out with their names;
    ``seen`` hazards (GeoJSON features in the map's CRS, a replan's) are outlined; ``closed``
    ``(mask, max_cycle_risk)`` marks the cells outside keep-out that no path may enter.
    """
    dem = hm.grid
    fig, ax = base_map(dem, title=title)
    k = display_factor(dem.shape)
    ax.imshow(
        np.where(decimate(hm.keepout, k, "any"), 1.0, np.nan),
        cmap=ListedColormap(["#d62728"]),
        alpha=0.3,
        extent=map_extent(dem),
        interpolation="nearest",
    )
    handles = [Patch(color="#d62728", alpha=0.3, label="keep-out")]
    if closed is not None and closed[0].any():
        ax.imshow(
            np.where(decimate(closed[0], k, "any"), 1.0, np.nan),
            cmap=ListedColormap(["#9467bd"]),
            alpha=0.45,
            extent=map_extent(dem),
            interpolation="nearest",
        )
        handles.append(
            Patch(
                color="#9467bd",
                alpha=0.45,
                label=f"closed: riskier in one step than a command cycle may be "
                f"({100 * closed[1]:g} %)",
            )
        )
    cmap = plt.get_cmap("viridis")
    for i, cells in enumerate(plan.legs):
        x, y = dem.xy(cells[:, 0], cells[:, 1])
        ax.plot(x, y, color=cmap(i / max(len(plan.legs), 1)), lw=2)
    if plan.legs:
        handles.append(
            plt.Line2D([], [], color=cmap(0.5), lw=2, label="drive (purple first, yellow last)")
        )
    s = plan.stops
    for kind, colour in STOP_COLOURS.items():
        sel = [i for i, kd in enumerate(s.kind) if kd == kind]
        if sel:
            ax.scatter(s.x[sel], s.y[sel], s=60, c=colour, edgecolors="black", zorder=5)
            handles.append(
                plt.Line2D([], [], color=colour, marker="o", mec="black", lw=0, label=kind)
            )
    if hm.lander is not None:
        ax.plot(hm.lander.x, hm.lander.y, marker="*", ms=16, color="white", mec="black")
        handles.append(
            plt.Line2D([], [], color="white", mec="black", marker="*", ms=12, lw=0, label="lander")
        )
    for f in seen:
        geom = shapely.geometry.shape(f["geometry"])
        if geom.geom_type == "Point":
            geom = geom.buffer(max(float((f.get("properties") or {}).get("size_m", 0.0)), 0.1) / 2)
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "Polygon":
                hx, hy = part.exterior.xy
                ax.fill(hx, hy, facecolor="none", edgecolor="black", lw=1.2, zorder=4)
    if len(seen):
        handles.append(
            Patch(facecolor="none", edgecolor="black", label="hazard the rover saw (kept out)")
        )
    ux = np.array([u[2] for u in unplanned], dtype=float)
    uy = np.array([u[3] for u in unplanned], dtype=float)
    if len(unplanned):
        ax.scatter(ux, uy, s=70, c="#17becf", marker="X", edgecolors="black", zorder=5)
        handles.append(
            plt.Line2D([], [], color="#17becf", mec="black", marker="X", lw=0,
                       label="user target not in the plan (why: plan.txt)")
        )  # fmt: skip
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.8)
    xs = [dem.xy(c[:, 0], c[:, 1])[0] for c in plan.legs] or [s.x]
    ys = [dem.xy(c[:, 0], c[:, 1])[1] for c in plan.legs] or [s.y]
    clamp_view(ax, dem, np.concatenate([*xs, ux]), np.concatenate([*ys, uy]))
    place_labels(ax, s.x[1:], s.y[1:], [str(i) for i in range(1, len(s))])
    place_labels(ax, ux, uy, [u[0] for u in unplanned])
    return save(fig, path)


BUDGET_COLOURS = {
    "drive": ("#2ca02c", "driving"),
    "stops": ("#e377c2", "at stops"),
    "data": ("#1f77b4", "sending images (data volume)"),
    "time": ("#ff7f0e", "ground work and uplink (time)"),
    "shift": ("#ffbb78", "outside the shifts (time)"),
    "link": ("#9467bd", "no relay (link)"),
    "battery": ("#d62728", "charging (battery)"),
    "sun": ("#8c564b", "Sun too low"),
}
"""Budget -> (colour, legend label) of the timeline's budget panel."""


def timeline_figure(plan, solar, start, path, *, rover=None, budget_of=None) -> pathlib.Path:
    """Battery (with capacity and reserve), sun and solar power, distance driven over the plan.

    With ``budget_of`` (timeline activity -> budget, a plan with a cadence) a fourth panel
    stacks, for each day of the plan, the hours spent per budget: which one binds.
    """
    tl = plan.timeline
    t_h = tl["t_s"] / 3600.0
    n = 4 if budget_of else 3
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.7 * n), sharex=n == 3, constrained_layout=True)
    axes[0].plot(t_h, tl["soc_wh"], color="#1f77b4", label="battery")
    if rover is not None:
        axes[0].axhline(rover.battery_wh, color="0.4", ls=":", lw=1, label="capacity")
        axes[0].axhline(rover.reserve_wh, color="#d62728", ls="--", lw=1, label="reserve")
        axes[0].set_ylim(0, rover.battery_wh * 1.08)
    axes[0].set_ylabel("battery (Wh)")
    axes[0].legend(fontsize=8, loc="lower left")
    n_stops = len(plan.stops) - 1
    axes[0].set_title(
        f"Timeline from {start:%Y-%m-%d %H:%M} UTC: {n_stops} stops, "
        f"{plan.distance_m:.0f} m driven in {plan.duration_s / 3600.0:.0f} h, lowest battery "
        f"{float(np.min(tl['soc_wh'])):.1f} Wh"
    )
    _, el, _ = solar.sun_at(tl["t_s"])
    axes[1].plot(t_h, el, color="#ff7f0e", label="sun elevation (deg)")
    axes[1].plot(t_h, tl["solar_w"], color="#2ca02c", lw=0.8, label="solar power (W)")
    axes[1].set_ylabel("deg / W")
    axes[1].legend(fontsize=8, loc="upper right")
    step = np.hypot(np.diff(tl["x"], prepend=tl["x"][:1]), np.diff(tl["y"], prepend=tl["y"][:1]))
    axes[2].plot(t_h, np.cumsum(np.where(tl["activity"] == "drive", step, 0.0)), color="#9467bd")
    axes[2].set_ylabel("distance driven (m)")
    axes[2].set_xlabel("hours after the plan starts")
    if budget_of:
        axes[1].sharex(axes[0])
        axes[2].sharex(axes[0])
        _budget_panel(axes[3], tl, budget_of)
    for ax in axes:
        ax.grid(alpha=0.3)
    return save(fig, path)


def _budget_panel(ax, tl, budget_of) -> None:
    """Hours per day of the plan spent per budget, stacked: the tallest non-driving bar binds."""
    t = np.asarray(tl["t_s"], dtype=np.float64)
    dt = np.diff(t, prepend=t[:1]) / 3600.0
    day = np.floor(np.maximum(t - dt * 3600.0, 0.0) / 86400.0).astype(int)
    n_days = int(day.max()) + 1 if day.size else 1
    bottom = np.zeros(n_days)
    x = np.arange(n_days) + 1
    for key, (colour, label) in BUDGET_COLOURS.items():
        hours = np.zeros(n_days)
        for a, d, k in zip(tl["activity"], dt, day, strict=True):
            if budget_of.get(str(a)) == key:
                hours[k] += d
        if hours.any():
            ax.bar(x, hours, bottom=bottom, color=colour, label=label, width=0.8)
            bottom += hours
    ax.set_xlabel("day of the plan")
    ax.set_ylabel("hours")
    ax.set_xticks(x)
    ax.set_ylim(0, 24 * 1.45)
    ax.set_title("Where each day goes: the budget that holds the rover parked longest binds")
    if bottom.any():
        ax.legend(fontsize=7, loc="upper left", ncol=3, framealpha=0.8)
    else:
        ax.text(0.5, 0.5, "no command cycle: the plan stays at the start", ha="center",
                va="center", transform=ax.transAxes, color="0.4")  # fmt: skip


SCENARIO_MARKERS = {"nominal": "o", "mission-2": "X", "mission-1": "D"}


DEPLOY_VIEW_MARGIN_M = 5.0


def _window(dem: Dem, bounds: tuple[float, float, float, float]):
    """Cut the grid block covering map ``bounds`` (clipped): a Dem and its (r0, r1, c0, c1)."""
    left, bottom, right, top = bounds
    t = dem.transform
    rows, cols = dem.shape
    c0 = max(0, int(math.floor((left - t.c) / t.a)))
    c1 = min(cols, int(math.ceil((right - t.c) / t.a)))
    r0 = max(0, int(math.floor((t.f - top) / -t.e)))
    r1 = min(rows, int(math.ceil((t.f - bottom) / -t.e)))
    sub = Dem(np.array(dem.elevation[r0:r1, c0:c1]), t @ Affine.translation(c0, r0), dem.crs)
    return sub, (r0, r1, c0, c1)


def touchdown_figure(
    dem: Dem,
    results: list[TouchdownResult],
    safety: SafetyMap,
    target: tuple[float, float],
    dispersion: Dispersion,
    path,
    *,
    title: str,
) -> pathlib.Path:
    """Outcome map, one panel per scenario: p_safe over hillshade, runs by outcome, ellipses.

    Scenarios share their landing points (same seed), so each gets its own panel.
    """
    xs = [r.x for res in results for r in res.runs] + [target[0]]
    ys = [r.y for res in results for r in res.runs] + [target[1]]
    impact = None
    lat, lon = crs_to_lunar(dem.crs, *target)
    if abs(lat - RESILIENCE_TARGET[0]) < 0.01 and abs(lon - RESILIENCE_TARGET[1]) < 0.01:
        ix, iy = target[0] + MISSION2_IMPACT_OFFSET_M[0], target[1] + MISSION2_IMPACT_OFFSET_M[1]
        if dem.contains(ix, iy):
            impact = (ix, iy)
            xs.append(ix)
            ys.append(iy)
    hx, hy = dispersion.half_extent_m(3.5)
    view = (
        min(min(xs), target[0] - hx) - 15.0,
        min(min(ys), target[1] - hy) - 15.0,
        max(max(xs), target[0] + hx) + 15.0,
        max(max(ys), target[1] + hy) + 15.0,
    )
    local, (r0, r1, c0, c1) = _window(dem, view)
    p_safe = safety.p_safe[r0:r1, c0:c1]
    extent = map_extent(local)
    shade = hillshade(local.elevation, local.res_m, 108.0, 30.0)
    n = max(len(results), 1)
    fig, axes = plt.subplots(1, n, figsize=(7.0 * n, 7.5), constrained_layout=True, squeeze=False)
    im = None
    for ax, res in zip(axes[0], results, strict=False):
        ax.imshow(np.nan_to_num(shade, nan=0.5), cmap="gray", extent=extent, vmin=0, vmax=1)
        im = ax.imshow(
            p_safe, cmap="RdYlGn", vmin=0, vmax=1, alpha=0.4, extent=extent, interpolation="nearest"
        )
        for outcome in OUTCOMES:
            pts = [(r.x, r.y) for r in res.runs if r.outcome == outcome]
            if pts:
                xy = np.asarray(pts)
                ax.scatter(
                    xy[:, 0],
                    xy[:, 1],
                    s=16,
                    marker=SCENARIO_MARKERS.get(res.scenario, "o"),
                    c=OUTCOME_COLOURS[outcome],
                    edgecolors="black",
                    linewidths=0.3,
                    label=f"{outcome} ({len(pts)})",
                )
        angle = 90.0 - dispersion.major_azimuth_deg
        for k, ls in ((1, ":"), (3, "--")):
            ax.add_patch(
                Ellipse(
                    target,
                    2 * k * dispersion.sigma_major_m,
                    2 * k * dispersion.sigma_minor_m,
                    angle=angle,
                    fill=False,
                    ec="white",
                    ls=ls,
                    lw=1.2,
                )
            )
        ax.plot([], [], "w--", label="1- and 3-sigma ellipses")
        ax.plot(*target, marker="+", ms=16, mew=2, color="white", ls="none", label="target")
        if impact is not None:
            ax.plot(
                *impact,
                marker="*",
                ms=15,
                color="#d62728",
                mec="white",
                ls="none",
                label="Mission 2 impact (LRO)",
            )
        s = res.summary()
        ax.set_title(
            f"{res.scenario}: p(lander stands) {s['p_success']:.2f}, "
            f"crash {s['crash']:.2f}, median {s['median_v_vertical_m_s']:.1f} m/s"
        )
        ax.set_xlabel("easting (m)")
        ax.set_ylabel("northing (m)")
        ax.set_aspect("equal")
        add_scale_bar(ax, local)
        add_north_arrow(ax, dem.crs)
        ax.legend(loc="upper left", fontsize=7, framealpha=0.75)
    if im is not None:
        fig.colorbar(im, ax=axes[0].tolist(), shrink=0.6, label="p(safe touchdown) over yaw")
    fig.suptitle(title)
    return save(fig, path)


def _view_dem(grid: Dem, x: float, y: float, half_m: float) -> Dem:
    """Cut a square of ``grid`` around (x, y): NaN where the grid has no data, all 0 off it."""
    t = grid.transform
    n = int(math.ceil(half_m / grid.res_m))
    r, c = grid.rowcol(x, y)
    r0, c0 = r - n, c - n
    size = 2 * n + 1
    z = np.full((size, size), np.nan, dtype=np.float32)
    rows, cols = grid.shape
    rs, re = max(r0, 0), min(r0 + size, rows)
    cs, ce = max(c0, 0), min(c0 + size, cols)
    if rs < re and cs < ce:
        z[rs - r0 : re - r0, cs - c0 : ce - c0] = grid.elevation[rs:re, cs:ce]
    if not np.isfinite(z).any():
        z[:] = 0.0  # entirely off the DEM: a blank panel
    return Dem(z, t @ Affine.translation(c0, r0), grid.crs)


def deploy_figure(
    grid: Dem, handoff: Handoff, lander: LanderSpec, hm: HazardMap | None, path, *, title: str
) -> pathlib.Path:
    """Map of the deployment: keep-out, shadow, sides, egress, plume radius, rover pose."""
    st = handoff.lander
    view = lander.plume_radius_m + DEPLOY_VIEW_MARGIN_M
    local = _view_dem(grid, st.x, st.y, view)
    if handoff.deployed:
        verdict = f"deployed on side {handoff.side_deg:g} deg"
    else:
        verdict = "NO HANDOFF: " + "; ".join(handoff.reasons[:2])
    verdict = "\n".join(textwrap.wrap(verdict, 95))
    title = "\n".join(textwrap.wrap(title, 95))
    fig, ax = base_map(local, title=f"{title}\n{verdict}")
    if hm is not None:
        # only the cells in view (with a cell to spare): not the whole map's, resampled away
        pad = 2.0 * hm.grid.res_m
        cut, (r0, r1, c0, c1) = _window(
            hm.grid, (st.x - view - pad, st.y - view - pad, st.x + view + pad, st.y + view + pad)
        )
        hextent = map_extent(cut)
        if hm.shadow is not None:
            ax.imshow(
                np.where(hm.shadow[r0:r1, c0:c1], 1.0, np.nan),
                cmap=ListedColormap(["#1f4e9c"]),
                alpha=0.35,
                extent=hextent,
                interpolation="nearest",
            )
            ax.plot([], [], "s", color="#1f4e9c", alpha=0.5, label="shadow")
        ax.imshow(
            np.where(hm.keepout[r0:r1, c0:c1], 1.0, np.nan),
            cmap=ListedColormap(["#d62728"]),
            alpha=0.35,
            extent=hextent,
            interpolation="nearest",
        )
        ax.plot([], [], "s", color="#d62728", alpha=0.5, label="keep-out")
    ax.add_patch(Circle((st.x, st.y), lander.plume_radius_m, fill=False, ec="white", ls="--"))
    ax.plot([], [], "w--", label=f"plume zone {lander.plume_radius_m:g} m")
    lost = st.outcome in ("crash", "tip-over")
    ax.add_patch(
        Circle((st.x, st.y), lander.body_radius_m, fc="#d62728" if lost else "#dddddd", ec="black")
    )
    if lost:
        ax.plot(
            st.x,
            st.y,
            marker="x",
            ms=14,
            mew=3,
            color="black",
            ls="none",
            label=f"lander ({st.outcome})",
        )
    yaw = math.radians(st.yaw_deg)
    for k in range(lander.legs):
        a = yaw + 2 * math.pi * (k + 0.5) / lander.legs
        px = st.x + lander.pad_circle_radius_m * math.sin(a)
        py = st.y + lander.pad_circle_radius_m * math.cos(a)
        ax.plot([st.x, px], [st.y, py], color="black", lw=1)
        ax.add_patch(Circle((px, py), max(lander.pad_radius_m, 0.1), color="black"))
    half = 0.5 * lander.deploy_footprint_m
    side_colours = {"chosen": "#2ca02c", "ok": "#ffbf00", "blocked": "#d62728"}
    shown: set[str] = set()
    for side in handoff.sides:
        a = math.radians(side.azimuth_deg)
        ux, uy = math.sin(a), math.cos(a)
        corners = [
            (side.set_down_x + p * ux - q * uy, side.set_down_y + p * uy + q * ux)
            for p, q in ((-half, -half), (half, -half), (half, half), (-half, half))
        ]
        chosen = handoff.deployed and side.side_deg == handoff.side_deg
        verdict_key = "chosen" if chosen else ("ok" if side.ok else "blocked")
        ax.add_patch(
            Polygon(corners, closed=True, fc=side_colours[verdict_key], ec="black", alpha=0.8)
        )
        shown.add(verdict_key)
        # the label outwards along the side's own azimuth, clear of the lander at any scale
        ax.annotate(
            f"{side.side_deg:g}°",
            (side.set_down_x, side.set_down_y),
            color="white",
            fontsize=8,
            xytext=(12 * ux, 12 * uy),
            textcoords="offset points",
            ha="left" if ux > 0.3 else ("right" if ux < -0.3 else "center"),
            va="bottom" if uy > 0.3 else ("top" if uy < -0.3 else "center"),
            path_effects=[withStroke(linewidth=2.5, foreground="black")],
        )
    for key, text in (
        ("chosen", "side chosen"),
        ("ok", "side possible"),
        ("blocked", "side blocked"),
    ):
        if key in shown:
            ax.plot([], [], "s", color=side_colours[key], mec="black", alpha=0.8, label=text)
    if handoff.egress is not None:
        w = np.asarray(handoff.egress.waypoints)
        ax.plot(
            w[:, 0], w[:, 1], color="#00e5ff", lw=2, label=f"egress {handoff.egress.length_m:.1f} m"
        )
    if handoff.pose is not None:
        p = handoff.pose
        h = math.radians(p.heading_deg)
        ax.arrow(
            p.x,
            p.y,
            1.5 * math.sin(h),
            1.5 * math.cos(h),
            width=0.15,
            color="#00e5ff",
            length_includes_head=True,
        )
        ax.plot(
            [],
            [],
            marker=r"$\rightarrow$",
            ms=10,
            color="#00e5ff",
            ls="none",
            label="rover set down, heading",
        )
    # a fixed square around the lander, even where the DEM ends (blank beyond it)
    ax.set_xlim(st.x - view, st.x + view)
    ax.set_ylim(st.y - view, st.y + view)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.75)
    plt.setp(ax.get_xticklabels(), rotation=30)
    return save(fig, path)


def context_figure(
    hm: HazardMap, target_xy: tuple[float, float], path: pathlib.Path, *, title: str
) -> pathlib.Path:
    """Regional map: hillshade, Horn slope, cast shadow and the aim point (coarse DEMs)."""
    dem = hm.grid
    fig, ax = base_map(dem, title=title)
    extent = map_extent(dem)
    im = ax.imshow(
        hm.slope_deg,
        cmap="magma_r",
        alpha=0.55,
        extent=extent,
        vmin=0,
        vmax=max(5.0, float(np.nanpercentile(hm.slope_deg, 99))),
        interpolation="nearest",
    )
    fig.colorbar(im, ax=ax, shrink=0.6, label="slope (deg, Horn)")
    if hm.shadow is not None:
        ax.imshow(
            np.where(hm.shadow, 1.0, np.nan),
            cmap=ListedColormap(["#1f3b73"]),
            alpha=0.6,
            extent=extent,
            interpolation="nearest",
        )
    ax.plot(*target_xy, marker="*", ms=18, color="white", mec="black", lw=0, label="aim point")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.75)
    return save(fig, path)


def route_figure(
    grid: Dem, keepout: np.ndarray, route: Route, path: pathlib.Path, *, title: str
) -> pathlib.Path:
    """Route over the hillshade: keep-out shaded, legs coloured in order, waypoints numbered."""
    fig, ax = base_map(grid, title=title)
    k = display_factor(grid.shape)
    ax.imshow(
        np.where(decimate(keepout, k, "any"), 1.0, np.nan),
        cmap=ListedColormap(["#d62728"]),
        alpha=0.3,
        extent=map_extent(grid),
        interpolation="nearest",
    )
    ax.plot([], [], "s", color="#d62728", alpha=0.5, label="keep-out")
    cmap = plt.get_cmap("viridis")
    for k, leg in enumerate(route.legs):
        x, y = grid.xy(leg.cells[:, 0], leg.cells[:, 1])
        ax.plot(x, y, color=cmap(k / max(len(route.legs), 1)), lw=2, label=f"leg {k + 1}")
    wx, wy = grid.xy(route.waypoint_cells[:, 0], route.waypoint_cells[:, 1])
    ax.scatter(wx, wy, s=60, c="white", edgecolors="black", zorder=5, label="waypoints")
    ax.legend(loc="best", fontsize=8, framealpha=0.75)
    xs, ys = grid.xy(route.cells[:, 0], route.cells[:, 1])
    clamp_view(ax, grid, xs, ys)
    place_labels(ax, wx, wy, [str(k + 1) for k in range(wx.size)], fontsize=9)
    return save(fig, path)


def sun_figure(path, times, sun_el, earth_el, watts, title: str) -> pathlib.Path:
    """Sun and Earth elevation above the horizon, and panel power, over time (two panels)."""
    fig = Figure(figsize=(10, 6.5), constrained_layout=True)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    t = times.astype("datetime64[s]").astype("O")
    top.plot(t, sun_el, color="tab:orange", label="Sun elevation")
    top.plot(t, earth_el, color="tab:blue", label="Earth elevation")
    top.axhline(0.0, color="0.3", lw=0.8, label="horizon")
    top.set_ylabel("elevation above the horizon (deg)")
    top.grid(alpha=0.3)
    top.legend(loc="upper right", fontsize=8)
    top.set_title(title)
    bottom.fill_between(t, watts, color="tab:green", alpha=0.35, step="mid", label="panel power")
    bottom.set_ylabel("panel power (W)")
    bottom.set_ylim(bottom=0.0)
    bottom.set_xlabel("UTC")
    bottom.grid(alpha=0.3)
    bottom.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    return save(fig, path, dpi=120)


def _zoom(dem: Dem, xs, ys, pad_m: float = 25.0) -> tuple[int, int, int, int]:
    """Rows r0:r1, cols c0:c1 of a square window around points (with a margin), on the grid."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    half = 0.5 * max(np.ptp(xs), np.ptp(ys), 20.0) + pad_m
    cx, cy = 0.5 * (xs.min() + xs.max()), 0.5 * (ys.min() + ys.max())
    r_a, c_a = dem.rowcol(cx - half, cy + half)
    r_b, c_b = dem.rowcol(cx + half, cy - half)
    m, n = dem.shape
    return max(r_a, 0), min(r_b + 1, m), max(c_a, 0), min(c_b + 1, n)


def ops_figure(world, records, path) -> pathlib.Path:
    """Left: the first plan on the orbital map. Right: the runs' true tracks on the terrain."""
    dem = world.grid
    p = world.first.plan
    xs = [world.start_xy[0], world.lander_xy[0], *p.stops.x]
    ys = [world.start_xy[1], world.lander_xy[1], *p.stops.y]
    for r in records:
        xs += [t[0] for t in r.track_xy]
        ys += [t[1] for t in r.track_xy]
    r0, r1, c0, c1 = _zoom(dem, xs, ys)
    sub = Dem(
        np.asarray(dem.elevation[r0:r1, c0:c1]), dem.transform @ Affine.translation(c0, r0), dem.crs
    )
    extent = map_extent(sub)
    shade = hillshade(sub.elevation, sub.res_m, 108.0, 30.0)
    fig, axes = plt.subplots(1, 2, figsize=(15, 7.6), constrained_layout=True)
    panels = (
        (
            axes[0],
            "The first plan, made on the orbital DTM (hillshade: true terrain)",
            world.orbital.keepout[r0:r1, c0:c1],
            ~world.orbital.linked[r0:r1, c0:c1],
            "keep-out on the orbital map",
            "no link predicted from orbit",
        ),
        (
            axes[1],
            f"What {len(records)} simulated runs drove on the true terrain",
            world.truth_hazard[r0:r1, c0:c1],
            ~world.truth.linked[r0:r1, c0:c1],
            "terrain the rover cannot drive (true)",
            "no link (true)",
        ),
    )
    for ax, title, bad, nolink, bad_label, link_label in panels:
        ax.imshow(np.nan_to_num(shade, nan=0.5), cmap="gray", extent=extent, vmin=0, vmax=1)
        ax.imshow(
            np.where(nolink, 1.0, np.nan),
            cmap=ListedColormap(["#1f3a93"]),
            alpha=0.25,
            extent=extent,
            interpolation="nearest",
        )
        ax.imshow(
            np.where(bad, 1.0, np.nan),
            cmap=ListedColormap(["#d62728"]),
            alpha=0.45,
            extent=extent,
            interpolation="nearest",
        )
        handles = [
            Patch(color="#d62728", alpha=0.45, label=bad_label),
            Patch(color="#1f3a93", alpha=0.25, label=link_label),
        ]
        for cells in p.legs:
            x, y = dem.xy(cells[:, 0], cells[:, 1])
            ax.plot(
                x,
                y,
                color="white" if ax is axes[0] else "#ffcc00",
                lw=2.2 if ax is axes[0] else 1.2,
                ls="-" if ax is axes[0] else "--",
                path_effects=[withStroke(linewidth=3.6, foreground="black")],
                zorder=5,  # over the runs' tracks
            )
        handles.append(
            plt.Line2D(
                [],
                [],
                color="white" if ax is axes[0] else "#ffcc00",
                ls="-" if ax is axes[0] else "--",
                lw=2.2 if ax is axes[0] else 1.2,
                path_effects=[withStroke(linewidth=3.6, foreground="black")],
                label="first plan",
            )
        )
        for kind, colour in STOP_COLOURS.items():
            sel = [i for i, kd in enumerate(p.stops.kind) if kd == kind and i > 0]
            if sel:
                ax.scatter(
                    p.stops.x[sel], p.stops.y[sel], s=70, c=colour, edgecolors="black", zorder=6
                )
                handles.append(
                    plt.Line2D(
                        [], [], color=colour, marker="o", mec="black", lw=0, label=f"planned {kind}"
                    )
                )
        lx, ly = world.lander_xy
        ax.plot(lx, ly, marker="*", ms=16, color="white", mec="black", zorder=7)
        handles.append(
            plt.Line2D([], [], color="white", mec="black", marker="*", ms=12, lw=0, label="lander")
        )
        ax.plot(*world.start_xy, marker="s", ms=9, color="white", mec="black", zorder=7)
        handles.append(
            plt.Line2D(
                [],
                [],
                color="white",
                mec="black",
                marker="s",
                lw=0,
                label="rover at the start (handoff)",
            )
        )
        ax.set_title(title)
        ax.set_xlabel("easting (m)")
        ax.set_ylabel("northing (m)")
        ax.set_aspect("equal")
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        add_scale_bar(ax, sub)
        add_north_arrow(ax, dem.crs)
        if ax is axes[1]:
            cmap = plt.get_cmap("cool")
            for j, r in enumerate(records):
                t = np.asarray(r.track_xy)
                if len(t) >= 2:
                    ax.plot(
                        t[:, 0],
                        t[:, 1],
                        color=cmap(j / max(len(records) - 1, 1)),
                        lw=1.1,
                        alpha=0.85,
                    )
            handles.append(
                plt.Line2D([], [], color=cmap(0.5), lw=1.2, label="true tracks, one colour per run")
            )
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.85)
    return save(fig, path)


def ops_metrics_figure(records, path) -> pathlib.Path:
    """Run by run: stops achieved against the first plan, distance, hazards met, time lost."""
    runs = np.array([r.run for r in records])
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    ax = axes[0, 0]
    ax.bar(runs, [r.stops_achieved for r in records], color="#2ca02c", label="stops achieved")
    ax.axhline(
        records[0].stops_first_planned,
        color="black",
        ls="--",
        lw=1,
        label="stops in the first plan",
    )
    ax.set_ylabel("stops")
    top = max([records[0].stops_first_planned, *(r.stops_achieved for r in records), 1])
    ax.set_ylim(0, top * 1.3)  # room for the legend above the bars
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    ax = axes[0, 1]
    ax.bar(runs, [r.distance_m for r in records], color="#9467bd", label="distance driven (true)")
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_ylabel("metres")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    strikes = np.array([r.rock_strikes for r in records])
    terrain = np.array([r.hazards_met for r in records]) - strikes
    ax.bar(runs, terrain, color="#d62728", label="terrain it cannot drive")
    ax.bar(runs, strikes, bottom=terrain, color="#ff7f0e", label="rock strikes (unresolved)")
    ax.set_ylabel("hazards met")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    ax.bar(runs, [r.time_lost_h for r in records], color="#7f7f7f", label="time lost (h)")
    ax.plot(
        runs,
        [r.sequences_refused for r in records],
        "o",
        color="#1f77b4",
        label="sequences the checker refused",
    )
    ax.set_ylabel("hours / count")
    ax.legend(fontsize=8)
    for a in axes.flat:
        a.set_xlabel("run")
        a.set_xticks(runs)
        a.grid(alpha=0.3, axis="y")
    for a in (axes[0, 0], axes[1, 0]):
        a.yaxis.set_major_locator(MaxNLocator(integer=True))
    for a in axes.flat:  # counts and hours are never negative; all zero reads as zero
        a.set_ylim(bottom=0.0, top=max(a.get_ylim()[1], 1.0))
    fig.suptitle("Closed-loop operations: each run from the same first plan, different execution")
    return save(fig, path)
