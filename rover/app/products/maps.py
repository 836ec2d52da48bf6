"""Map furniture shared by every figure: hillshade base, scale bar, north arrow, atomic save."""

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
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.layout_engine import PlaceHolderLayoutEngine  # noqa: E402
from matplotlib.patches import Circle, FancyArrow  # noqa: E402

from frigoris.terrain import Dem  # noqa: E402
from frigoris.terrain.crs import crs_to_lunar, lunar_to_crs  # noqa: E402
from frigoris.terrain.slope import hillshade  # noqa: E402

__all__ = [
    "MAX_DISPLAY_PX",
    "add_circles",
    "add_north_arrow",
    "add_scale_bar",
    "base_map",
    "clamp_view",
    "decimate",
    "display_factor",
    "map_extent",
    "place_labels",
    "save",
    "true_north_deg",
]


def map_extent(dem: Dem) -> tuple[float, float, float, float]:
    """Imshow extent (left, right, bottom, top) in map metres."""
    b = dem.bounds
    return (b.left, b.right, b.bottom, b.top)


MAX_DISPLAY_PX = 1600
"""Rasters are drawn from arrays decimated to at most this many pixels a side: a 9-inch map at
130 dpi is about 1170 pixels wide, so the eye sees the same picture, and matplotlib no longer
resamples 16 million cells for it."""


def display_factor(shape: tuple[int, int], max_px: int = MAX_DISPLAY_PX) -> int:
    """The block size that brings ``shape`` to at most ``max_px`` a side (1: draw as it is)."""
    return max(1, math.ceil(max(shape) / max_px))


def decimate(a: np.ndarray, factor: int, how: str = "mean") -> np.ndarray:
    """Block-reduce ``a`` by ``factor``; the last partial blocks are kept.

    ``mean`` ignores NaN; ``max`` (or ``any`` for a mask) keeps a hazard one cell wide visible.

    Examples
    --------
    >>> decimate(np.arange(16.0).reshape(4, 4), 2)
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> decimate(np.eye(4, dtype=bool), 3, "any")
    array([[ True, False],
           [False,  True]])
    """
    if factor == 1:
        return a
    rows, cols = a.shape
    pr, pc = -rows % factor, -cols % factor
    if how == "mean":
        b = np.asarray(a, dtype=np.float32)
        if pr or pc:
            b = np.pad(b, ((0, pr), (0, pc)), constant_values=np.nan)
        valid = b == b
        total = _block_reduce(np.where(valid, b, np.float32(0.0)), factor, np.add)
        count = _block_reduce(valid.astype(np.float32), factor, np.add)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / count  # all-NaN blocks: 0 / 0, NaN
    if a.dtype == bool:
        b = np.pad(a, ((0, pr), (0, pc)), constant_values=False) if pr or pc else a
        return _block_reduce(b, factor, np.logical_or)
    fill = np.nan if a.dtype.kind == "f" else np.iinfo(a.dtype).min  # never the block's max
    b = np.pad(a, ((0, pr), (0, pc)), constant_values=fill) if pr or pc else a
    return _block_reduce(b, factor, np.fmax)  # fmax skips NaN, as nanmax


def _block_reduce(b: np.ndarray, factor: int, op) -> np.ndarray:
    """Reduce ``factor`` x ``factor`` blocks of ``b`` (sides multiples of ``factor``) with ``op``.

    One whole-array ``op`` per offset in the block, along columns then along rows: a few passes
    over memory, where a reduction over a short inner axis of a 4-d view (``nanmean`` over
    axes 1 and 3) loops cell by cell and took seconds on a 4096^2 layer.
    """
    rows, cols = b.shape
    cb = b.reshape(rows, cols // factor, factor)
    acc = cb[:, :, 0].copy()
    for t in range(1, factor):
        op(acc, cb[:, :, t], out=acc)
    rb = acc.reshape(rows // factor, factor, cols // factor)
    out = rb[:, 0, :].copy()
    for t in range(1, factor):
        op(out, rb[:, t, :], out=out)
    return out


def base_map(
    dem: Dem,
    *,
    title: str,
    figsize=(9.0, 8.0),
    sun_azimuth_deg: float = 108.0,
    sun_altitude_deg: float = 30.0,
    elevation_bar: bool = True,
) -> tuple[plt.Figure, Axes]:
    """A figure with the DEM's hillshade in grey and elevation tint; axes in map metres.

    The DEM is drawn from blocks of :func:`display_factor` cells; the axes span exactly the
    data; a scale bar and a north arrow (true north, from the CRS) are added.
    """
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    k = display_factor(dem.shape)
    z = decimate(dem.elevation, k)
    shade = hillshade(z, dem.res_m * k, sun_azimuth_deg, sun_altitude_deg)
    extent = map_extent(dem)
    ax.imshow(
        np.nan_to_num(shade, nan=0.5),
        cmap="gray",
        extent=extent,
        vmin=0,
        vmax=1,
        interpolation="antialiased",
    )
    elev = ax.imshow(z, cmap="terrain", alpha=0.25, extent=extent, interpolation="antialiased")
    if elevation_bar:
        fig.colorbar(elev, ax=ax, shrink=0.6, label="elevation (m, Moon sphere)")
    ax.set_title(title)
    ax.set_xlabel("easting (m)")
    ax.set_ylabel("northing (m)")
    ax.set_aspect("equal")
    b = dem.bounds
    ax.set_xlim(b.left, b.right)
    ax.set_ylim(b.bottom, b.top)
    add_scale_bar(ax, dem)
    add_north_arrow(ax, dem.crs)
    return fig, ax


def true_north_deg(crs, x: float, y: float) -> float:
    """Direction of true north at map point (x, y), degrees clockwise from the grid's up.

    Examples
    --------
    On the local transverse Mercator of a site, north is up at its centre; on a south polar
    stereographic grid it points away from the pole:

    >>> from frigoris.terrain import local_metric_crs
    >>> round(true_north_deg(local_metric_crs(60.5, -4.6), 0.0, 0.0), 6)
    0.0
    >>> round(true_north_deg("+proj=stere +lat_0=-90 +R=1737400 +units=m", 1000.0, 0.0))
    90
    """
    lat, lon = crs_to_lunar(crs, x, y)
    step = min(1e-3, 89.999 - lat) if lat < 89.999 else -1e-3
    x2, y2 = lunar_to_crs(crs, lat + step, lon)
    ang = math.degrees(math.atan2(x2 - x, y2 - y))
    return ang if step > 0 else (ang + 180.0) % 360.0


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


def add_north_arrow(ax: Axes, crs=None) -> None:
    """Mark ``ax`` for a north arrow, drawn at save time for the final view.

    The arrow shows true north at the view's centre when ``crs`` is given (a polar or
    off-centre projection turns it), else the grid's up.
    """
    ax._frigoris_north = (crs,)  # type: ignore[attr-defined]


def _draw_north_arrow(ax: Axes, crs) -> None:
    """A north arrow in the upper right of the view."""
    angle = 0.0
    label = "N"
    if crs is not None:
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        angle = true_north_deg(crs, 0.5 * (x0 + x1), 0.5 * (y0 + y1))
        label = "N" if abs(((angle + 180.0) % 360.0) - 180.0) < 0.5 else f"N\n{angle:.0f}°"
    a = math.radians(angle)
    cx, cy, length = 0.92, 0.86, 0.09
    dx, dy = 0.5 * length * math.sin(a), 0.5 * length * math.cos(a)
    ax.add_patch(
        FancyArrow(
            cx - dx,
            cy - dy,
            2 * dx,
            2 * dy,
            width=0.012,
            head_width=0.035,
            head_length=0.03,
            length_includes_head=True,
            transform=ax.transAxes,
            color="white",
            ec="black",
        )
    )
    # the label sits behind the arrow's tail, whichever way it points
    ax.text(
        cx - dx - 0.04 * math.sin(a),
        cy - dy - 0.04 * math.cos(a),
        label,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        color="white",
        bbox=dict(facecolor="black", alpha=0.5, lw=0),
    )


def place_labels(
    ax: Axes,
    xs,
    ys,
    texts,
    *,
    fontsize: float = 8,
    colour: str = "white",
    box: str = "black",
) -> None:
    """Label points so that no two labels overlap.

    Each label takes the first of eight positions around its point that is free (in display
    space); a label with none free is left out. Call it after the axes' limits are final.
    """
    fig = ax.figure
    placed: list[tuple[float, float, float, float]] = []
    to_px = ax.transData.transform
    pt = fig.dpi / 72.0
    offsets = [(6, 6), (6, -6), (-6, 6), (-6, -6), (10, 0), (-10, 0), (0, 10), (0, -10)]
    for x, y, text in zip(xs, ys, texts, strict=True):
        w = (0.62 * fontsize * len(str(text)) + 4) * pt
        h = (1.25 * fontsize + 2) * pt
        px, py = to_px((float(x), float(y)))
        for dx, dy in offsets:
            ox, oy = px + dx * pt, py + dy * pt
            left = ox if dx >= 0 else ox - w
            bottom = oy if dy >= 0 else oy - h
            r = (left, bottom, left + w, bottom + h)
            if all(r[2] <= q[0] or r[0] >= q[2] or r[3] <= q[1] or r[1] >= q[3] for q in placed):
                placed.append(r)
                ax.annotate(
                    str(text),
                    (float(x), float(y)),
                    xytext=(dx, dy),
                    textcoords="offset points",
                    ha="left" if dx >= 0 else "right",
                    va="bottom" if dy >= 0 else "top",
                    fontsize=fontsize,
                    color=colour,
                    bbox=dict(facecolor=box, alpha=0.55, lw=0, pad=1),
                    zorder=6,
                )
                break


def clamp_view(ax: Axes, dem: Dem, xs, ys, *, pad_m: float = 30.0, share: float = 0.15) -> None:
    """Zoom the axes on points (with a margin), never beyond the data, keeping a square view."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    b = dem.bounds
    pad = max(pad_m, share * max(np.ptp(xs), np.ptp(ys)))
    cx, cy = 0.5 * (xs.min() + xs.max()), 0.5 * (ys.min() + ys.max())
    half = 0.5 * max(np.ptp(xs), np.ptp(ys)) + pad
    half = min(half, 0.5 * max(b.right - b.left, b.top - b.bottom))
    x0 = min(max(cx - half, b.left), max(b.right - 2 * half, b.left))
    y0 = min(max(cy - half, b.bottom), max(b.top - 2 * half, b.bottom))
    ax.set_xlim(x0, min(x0 + 2 * half, b.right))
    ax.set_ylim(y0, min(y0 + 2 * half, b.top))


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


def _lay_out(fig: plt.Figure, dpi: int) -> None:
    """Run the figure's constrained layout now, then fix it, so that saving draws only once.

    ``savefig`` with a layout engine draws the whole figure twice, the first time only to
    place the axes, and each image is resampled both times. The layout needs the sizes of the
    words, not the images: run it here, once at the saving dpi as savefig does, and save with
    the positions it found.
    """
    engine = fig.get_layout_engine()
    if engine is None or isinstance(engine, PlaceHolderLayoutEngine):
        return
    fig.set_dpi(dpi)  # the layout depends on the text sizes in pixels
    engine.execute(fig)
    fig.set_layout_engine(None)  # (savefig would lay it out again, drawing it all once more)


def save(fig: plt.Figure, path: str | os.PathLike, dpi: int = 130) -> pathlib.Path:
    """Save a figure as PNG through a temporary file, then close it."""
    dest = pathlib.Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".png", dir=dest.parent)
    os.close(fd)
    for ax in fig.axes:
        if getattr(ax, "_frigoris_scale_bar", False):
            _draw_scale_bar(ax)
        if hasattr(ax, "_frigoris_north"):
            _draw_north_arrow(ax, ax._frigoris_north[0])
    try:
        _lay_out(fig, dpi)
        # zlib level 1: the same pixels encoded in a third of the time of PIL's default level
        # 6; the files grow 6% (hazard.png) to 26% (touchdown.png), the demo's six by 11%
        fig.savefig(tmp, dpi=dpi, pil_kwargs={"compress_level": 1})
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return dest
