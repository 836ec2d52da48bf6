"""Figures of the descent simulation, for a landing engineer (PNG, written atomically).

* :func:`descent_profile_figure`: one column per descent, three panels: altitude against time
  (true, estimated, ground, with the moments that decide the outcome), descent rate against
  altitude (the guidance profile, the lander's true rate and what the navigation believed, the
  leg limit, published telemetry), and range finder, thrust and propellant against time.
* :func:`trade_figure`: probability of a soft landing against the range finder's acquisition
  range and against the rejection gate's threshold.
* :func:`impact_figure`: where simulated Mission 2 crashes hit, beside the observed impact.

Kept apart from :mod:`rover.figures` so it can move with the application layer on its own.
"""

from __future__ import annotations

import math
import os
import pathlib
import tempfile
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Ellipse, FancyArrow  # noqa: E402

from . import _descent_kernels as K  # noqa: E402
from .descent import (  # noqa: E402
    PUBLISHED,
    DescentBatch,
    DescentResult,
    TradeCurve,
    scenario,
    track_to_east_north,
)

STATUS_STYLE = {
    K.RANGE_ACCEPTED: ("#2ca02c", "range accepted"),
    K.RANGE_REJECTED: ("#d62728", "range rejected by the gate"),
    K.RANGE_IGNORED: ("#7f7f7f", "range ignored (sensor declared failed)"),
}


def _save(fig, path: str | os.PathLike, dpi: int = 130) -> pathlib.Path:
    """Save through a temporary file in the same folder, then close the figure."""
    dest = pathlib.Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".png", dir=dest.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return dest


def _events(ax, res: DescentResult) -> None:
    """Mark the moments that decide the outcome on the altitude-time panel (true altitude, km)."""
    r = res.run
    tel = res.telemetry
    t_first = math.nan
    accepted = tel["range_status"] >= K.RANGE_ACCEPTED
    if accepted.any():
        t_first = float(tel["t_s"][int(np.argmax(accepted))])
    marks = (
        ("first valid range", t_first, "#1f77b4", "o"),
        ("range finder declared failed", r.sensor_failed_t_s, "#d62728", "X"),
        ("estimated altitude zero", r.est_zero_t_s, "#9467bd", "v"),
        ("propellant exhausted", r.propellant_out_t_s, "#8c564b", "s"),
    )
    for label, t, colour, marker in marks:
        if math.isfinite(t):
            h = np.interp(t, tel["t_s"], tel["altitude_m"]) / 1000.0
            ax.plot(t, h, marker=marker, ms=9, color=colour, mec="black", ls="none", label=label)


def descent_profile_figure(
    results: Sequence[DescentResult],
    path: str | os.PathLike,
    *,
    titles: Sequence[str] | None = None,
) -> pathlib.Path:
    """Descent profiles, one column per result (three panels each); returns the PNG path."""
    n = len(results)
    fig, axes = plt.subplots(3, n, figsize=(6.2 * n, 13.0), squeeze=False, constrained_layout=True)
    for j, res in enumerate(results):
        tel = res.telemetry
        run = res.run
        sc = res.scenario
        t = tel["t_s"]
        title = titles[j] if titles else f"{sc.name} (seed {run.seed})"
        # ---- altitude against time
        ax = axes[0, j]
        ax.plot(t, tel["altitude_m"] / 1000, color="black", lw=1.8, label="true altitude")
        ax.plot(
            t,
            tel["est_altitude_m"] / 1000,
            color="#ff7f0e",
            lw=1.4,
            ls="--",
            label="estimated altitude (navigation)",
        )
        ax.fill_between(
            t,
            tel["ground_m"] / 1000,
            min(tel["ground_m"].min(), 0.0) / 1000 - 0.3,
            color="#c7b299",
            label="ground under the lander",
        )
        _events(ax, res)
        ax.axhline(0.0, color="#9467bd", lw=0.6, ls=":")
        ax.set_ylabel("height above the target (km)")
        ax.set_xlabel("time from the start (s)")
        ax.set_title(
            f"{title}\n{run.outcome}: contact at {run.v_vertical_m_s:.1f} m/s", fontsize=10
        )
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
        # ---- descent rate against altitude (the profile view)
        ax = axes[1, j]
        agl = tel["agl_m"]
        ok = agl > 1.0
        h = np.geomspace(1.0, max(float(agl.max()), 10.0), 200)
        ax.plot(sc.profile_speed(h), h, color="#1f77b4", lw=1.2, ls=":", label="planned profile")
        ax.plot(tel["v_down_m_s"][ok], agl[ok], color="black", lw=1.8, label="true (above ground)")
        est = tel["est_altitude_m"] > 1.0
        ax.plot(
            tel["est_v_down_m_s"][est],
            tel["est_altitude_m"][est],
            color="#ff7f0e",
            lw=1.2,
            ls="--",
            label="believed (estimated altitude)",
        )
        ax.axvline(3.0, color="#2ca02c", lw=1.0, label="legs' design limit (3 m/s)")
        if math.isfinite(run.first_valid_altitude_m):
            ax.plot(
                run.first_valid_speed_m_s,
                run.first_valid_altitude_m,
                "o",
                ms=9,
                color="#1f77b4",
                mec="black",
                label="first valid range",
            )
        pub = PUBLISHED.get(sc.name, {})
        if "first_valid_speed_m_s" in pub:
            ax.plot(
                [pub["first_valid_speed_m_s"], pub["probe_speed_m_s"]],
                [pub["first_valid_altitude_m"], pub["probe_altitude_m"]],
                "*",
                ms=15,
                color="#d62728",
                mec="black",
                label="published Mission 2 telemetry",
            )
        ax.set_yscale("log")
        ax.set_ylim(1.0, max(float(agl.max()), 10.0) * 1.3)
        ax.set_xlim(left=0.0)
        ax.set_xlabel("descent rate (m/s)")
        ax.set_ylabel("height above ground (m)")
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3, which="both")
        # ---- range finder, thrust, propellant against time
        ax = axes[2, j]
        rng = tel["range_m"] / 1000
        status = tel["range_status"]
        for code, (colour, label) in STATUS_STYLE.items():
            m = status == code
            if m.any():
                ax.plot(t[m], rng[m], ".", ms=2.5, color=colour, label=label)
        ax.set_ylabel("measured range (km)")
        ax.set_xlabel("time from the start (s)")
        ax2 = ax.twinx()
        ax2.plot(t, tel["propellant_kg"], color="#8c564b", lw=1.4, label="propellant (kg)")
        ax2.plot(
            t, tel["thrust_n"] / 10.0, color="#17becf", lw=0.8, alpha=0.8, label="thrust (daN)"
        )
        ax2.set_ylabel("propellant (kg), thrust (daN)")
        ax2.set_ylim(bottom=0.0)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="best", markerscale=4)
        ax.grid(alpha=0.3)
    return _save(fig, path)


def trade_figure(
    acquisition: TradeCurve, gate: TradeCurve, path: str | os.PathLike, *, cliff_m: float | None
) -> pathlib.Path:
    """P(soft landing) against acquisition range and against gate threshold; the PNG path."""
    fig, axes = plt.subplots(1, 2, figsize=(13.0, 5.0), constrained_layout=True)
    for ax, curve in zip(axes, (acquisition, gate), strict=True):
        x = np.array([p.value for p in curve.points])
        ax.plot(x, [p.p_soft for p in curve.points], "o-", color="#2ca02c", label="P(soft)")
        ax.plot(x, [p.p_crash for p in curve.points], "s--", color="#d62728", label="P(crash)")
        ax.plot(
            x,
            [p.p_sensor_failed for p in curve.points],
            "^:",
            color="#7f7f7f",
            label="P(range finder declared failed)",
        )
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("share of runs")
        ax.grid(alpha=0.3)
        runs = curve.points[0].runs if curve.points else 0
        ax.set_title(f"{curve.scenario}: {runs} descents per point", fontsize=10)
    ax = axes[0]
    ax.set_xlabel("range finder's acquisition range (m, at design conditions)")
    ax.axvline(3000.0, color="#1f77b4", lw=1.0, ls="-.", label="design (~3 km, published)")
    m2 = scenario("mission-2").acquisition_range_m()
    ax.axvline(
        m2,
        color="#9467bd",
        lw=1.0,
        ls="-.",
        label=f"mission-2 scenario ({m2:.0f} m: first valid ~900 m up, as published)",
    )
    ax.legend(fontsize=8, loc="center right")
    ax = axes[1]
    ax.set_xscale("log")
    ax.set_xlabel("rejection gate threshold (m)")
    ax.axvline(500.0, color="#1f77b4", lw=1.0, ls="-.", label="model default (500 m)")
    if cliff_m is not None:
        ax.axvline(cliff_m, color="#8c564b", lw=1.0, ls="-.", label=f"rim cliff ({cliff_m:.0f} m)")
    ticks = [p.value for p in gate.points]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{v:g}" for v in ticks])
    ax.minorticks_off()
    ax.legend(fontsize=8, loc="center left")
    return _save(fig, path)


def impact_figure(
    batch: DescentBatch,
    path: str | os.PathLike,
    *,
    heading_deg: float = 180.0,
    sigma_along_m: float = 50.0,
    sigma_cross_m: float = 30.0,
) -> pathlib.Path:
    """Simulated crash points around the target beside the observed Mission 2 impact."""
    east, north = track_to_east_north(batch.column("along_m"), batch.column("cross_m"), heading_deg)
    out = batch.outcomes
    fig, ax = plt.subplots(figsize=(7.5, 8.6), constrained_layout=True)
    for outcome, colour in (("soft", "#2ca02c"), ("hard", "#ffbf00"), ("crash", "#d62728")):
        m = out == outcome
        if m.any():
            ax.scatter(
                east[m],
                north[m],
                s=9,
                c=colour,
                edgecolors="black",
                linewidths=0.2,
                label=f"simulated {outcome} ({int(m.sum())})",
            )
    h = math.radians(heading_deg)
    for k, ls in ((1, ":"), (3, "--")):
        ax.add_patch(
            Ellipse(
                (0.0, 0.0),
                2 * k * sigma_cross_m,
                2 * k * sigma_along_m,
                angle=-math.degrees(h),
                fill=False,
                ec="black",
                ls=ls,
                lw=1.0,
            )
        )
    ax.plot([], [], "k--", lw=1.0, label="1- and 3-sigma landing ellipse")
    pub = PUBLISHED["mission-2"]
    ax.plot(
        pub["impact_east_m"],
        pub["impact_north_m"],
        "*",
        ms=20,
        color="#d62728",
        mec="black",
        label="observed impact (LRO: 282 m S, 236 m E)",
    )
    ax.plot(0.0, 0.0, "+", ms=16, mew=2, color="black", ls="none", label="target")
    lim = max(400.0, float(np.nanmax(np.abs(np.r_[east, north]))) * 1.05)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("east of the target (m)")
    ax.set_ylabel("north of the target (m)")
    ax.add_patch(
        FancyArrow(
            -0.85 * lim,
            0.7 * lim,
            0.0,
            0.15 * lim,
            width=0.012 * lim,
            color="black",
            length_includes_head=True,
        )
    )
    ax.text(-0.85 * lim, 0.88 * lim, "N", ha="center", va="bottom", fontsize=11)
    ax.set_title(
        f"{batch.scenario.name}: where {len(batch)} simulated descents touched down\n"
        f"ground track flown towards {heading_deg % 360:.0f} deg",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)


__all__ = ["descent_profile_figure", "impact_figure", "trade_figure"]
