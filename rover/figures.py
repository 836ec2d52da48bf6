"""PNG maps for people: hillshade base, overlays, scale bar, north arrow. Written atomically."""

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

from terrain import Dem  # noqa: E402
from terrain.slope import hillshade  # noqa: E402


def map_extent(dem: Dem) -> tuple[float, float, float, float]:
    """imshow extent (left, right, bottom, top) in map metres."""
    b = dem.bounds
    return (b.left, b.right, b.bottom, b.top)


def base_map(dem: Dem, *, title: str, figsize=(9.0, 8.0), sun_azimuth_deg: float = 108.0,
             sun_altitude_deg: float = 30.0) -> tuple[plt.Figure, Axes]:
    """A figure with the DEM's hillshade in grey and elevation tint; axes in map metres."""
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    shade = hillshade(dem.elevation, dem.res_m, sun_azimuth_deg, sun_altitude_deg)
    extent = map_extent(dem)
    ax.imshow(np.nan_to_num(shade, nan=0.5), cmap="gray", extent=extent, vmin=0, vmax=1,
              interpolation="antialiased")
    elev = ax.imshow(dem.elevation, cmap="terrain", alpha=0.25, extent=extent,
                     interpolation="antialiased")
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


def add_scale_bar(ax: Axes, dem: Dem) -> None:
    """A black-and-white scale bar in the lower left, about a fifth of the map wide."""
    b = dem.bounds
    width = b.right - b.left
    length = _nice_length(width / 5.0)
    x0 = b.left + 0.05 * width
    y0 = b.bottom + 0.05 * (b.top - b.bottom)
    h = 0.012 * (b.top - b.bottom)
    ax.add_patch(plt.Rectangle((x0, y0), length, h, facecolor="black", edgecolor="white", lw=1))
    ax.add_patch(plt.Rectangle((x0, y0), length / 2, h, facecolor="white", edgecolor="black", lw=1))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + 2 * h, label, ha="center", va="bottom", fontsize=9,
            color="white", bbox=dict(facecolor="black", alpha=0.5, lw=0, pad=1))


def add_north_arrow(ax: Axes) -> None:
    """A north arrow in the upper right (the grid is north-up)."""
    ax.add_patch(FancyArrow(0.93, 0.82, 0, 0.1, width=0.012, head_width=0.035, head_length=0.03,
                            transform=ax.transAxes, color="white", ec="black"))
    ax.text(0.93, 0.78, "N", transform=ax.transAxes, ha="center", va="top", fontsize=12,
            fontweight="bold", color="white", bbox=dict(facecolor="black", alpha=0.5, lw=0))


def add_circles(ax: Axes, x: Sequence[float], y: Sequence[float], diameter: Sequence[float],
                *, color: str, label: str, lw: float = 0.6) -> None:
    """Outline circles (craters) at map positions."""
    patches = [Circle((xi, yi), di / 2.0) for xi, yi, di in zip(x, y, diameter)]
    ax.add_collection(PatchCollection(patches, facecolor="none", edgecolor=color, lw=lw))
    ax.plot([], [], "o", mfc="none", mec=color, label=label)


def save(fig: plt.Figure, path: str | os.PathLike, dpi: int = 130) -> pathlib.Path:
    """Save a figure as PNG through a temporary file, then close it."""
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


def site_map(dem: Dem, path, *, title: str, craters=None, rocks=None,
             min_crater_m: float = 0.0) -> pathlib.Path:
    """Hillshade map of a site with crater outlines and rocks."""
    fig, ax = base_map(dem, title=title)
    if craters is not None and len(craters):
        keep = craters.diameter_m >= min_crater_m
        add_circles(ax, craters.x[keep], craters.y[keep], craters.diameter_m[keep],
                    color="#ffcc00", label=f"craters >= {min_crater_m:g} m (truth)")
    if rocks is not None and len(rocks):
        ax.scatter(rocks.x, rocks.y, s=np.clip(rocks.diameter_m * 6, 4, 60), c="#ff3355",
                   marker="^", lw=0, label="rocks (truth)")
    if (craters is not None and len(craters)) or (rocks is not None and len(rocks)):
        ax.legend(loc="upper left", fontsize=8, framealpha=0.7)
    b = dem.bounds
    ax.set_xlim(b.left, b.right)
    ax.set_ylim(b.bottom, b.top)
    return save(fig, path)
