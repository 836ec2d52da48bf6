"""Map furniture shared by every figure: hillshade base, scale bar, north arrow, atomic save."""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import Circle, FancyArrow  # noqa: E402

from frigoris.terrain import Dem  # noqa: E402
from frigoris.terrain.slope import hillshade  # noqa: E402

__all__ = [
    "add_circles",
    "add_north_arrow",
    "add_scale_bar",
    "base_map",
    "map_extent",
    "save",
]


def map_extent(dem: Dem) -> tuple[float, float, float, float]:
    """Imshow extent (left, right, bottom, top) in map metres."""
    b = dem.bounds
    return (b.left, b.right, b.bottom, b.top)


def base_map(
    dem: Dem,
    *,
    title: str,
    figsize=(9.0, 8.0),
    sun_azimuth_deg: float = 108.0,
    sun_altitude_deg: float = 30.0,
) -> tuple[plt.Figure, Axes]:
    """A figure with the DEM's hillshade in grey and elevation tint; axes in map metres."""
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    shade = hillshade(dem.elevation, dem.res_m, sun_azimuth_deg, sun_altitude_deg)
    extent = map_extent(dem)
    ax.imshow(
        np.nan_to_num(shade, nan=0.5),
        cmap="gray",
        extent=extent,
        vmin=0,
        vmax=1,
        interpolation="antialiased",
    )
    elev = ax.imshow(
        dem.elevation, cmap="terrain", alpha=0.25, extent=extent, interpolation="antialiased"
    )
    fig.colorbar(elev, ax=ax, shrink=0.6, label="elevation (m, Moon sphere)")
    ax.set_title(title)
    ax.set_xlabel("easting (m)")
    ax.set_ylabel("northing (m)")
    ax.set_aspect("equal")
    add_scale_bar(ax, dem)
    add_north_arrow(ax)
    return fig, ax


def _nice_length(target: float) -> float:
    exp = 10 ** np.floor(np.log10(target))
    for m in (1, 2, 5, 10):
        if m * exp >= target:
            return float(m * exp)
    return float(10 * exp)


def add_scale_bar(ax: Axes, dem: Dem | None = None) -> None:
    """Mark ``ax`` for a scale bar, drawn at save time from the final axis limits.

    Zoomed maps then get a bar that fits their view.
    """
    ax._frigoris_scale_bar = True  # type: ignore[attr-defined]


def _draw_scale_bar(ax: Axes) -> None:
    """A black-and-white scale bar in the lower left, about a fifth of the view wide."""
    left, right = ax.get_xlim()
    bottom, top = ax.get_ylim()
    width = right - left
    length = _nice_length(width / 5.0)
    x0 = left + 0.05 * width
    y0 = bottom + 0.05 * (top - bottom)
    h = 0.012 * (top - bottom)
    ax.add_patch(plt.Rectangle((x0, y0), length, h, facecolor="black", edgecolor="white", lw=1))
    ax.add_patch(plt.Rectangle((x0, y0), length / 2, h, facecolor="white", edgecolor="black", lw=1))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(
        x0 + length / 2,
        y0 + 2 * h,
        label,
        ha="center",
        va="bottom",
        fontsize=9,
        color="white",
        bbox=dict(facecolor="black", alpha=0.5, lw=0, pad=1),
    )


def add_north_arrow(ax: Axes) -> None:
    """A north arrow in the upper right (the grid is north-up)."""
    ax.add_patch(
        FancyArrow(
            0.93,
            0.82,
            0,
            0.1,
            width=0.012,
            head_width=0.035,
            head_length=0.03,
            transform=ax.transAxes,
            color="white",
            ec="black",
        )
    )
    ax.text(
        0.93,
        0.78,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=12,
        fontweight="bold",
        color="white",
        bbox=dict(facecolor="black", alpha=0.5, lw=0),
    )


def add_circles(
    ax: Axes,
    x: Sequence[float],
    y: Sequence[float],
    diameter: Sequence[float],
    *,
    color: str,
    label: str,
    lw: float = 0.6,
) -> None:
    """Outline circles (craters) at map positions."""
    patches = [Circle((xi, yi), di / 2.0) for xi, yi, di in zip(x, y, diameter, strict=False)]
    ax.add_collection(PatchCollection(patches, facecolor="none", edgecolor=color, lw=lw))
    ax.plot([], [], "o", mfc="none", mec=color, label=label)


def save(fig: plt.Figure, path: str | os.PathLike, dpi: int = 130) -> pathlib.Path:
    """Save a figure as PNG through a temporary file, then close it."""
    dest = pathlib.Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".png", dir=dest.parent)
    os.close(fd)
    for ax in fig.axes:
        if getattr(ax, "_frigoris_scale_bar", False):
            _draw_scale_bar(ax)
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
