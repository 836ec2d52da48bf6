"""Whole commands as a user runs them: wall time, peak memory, computation versus files.

Each command runs as its own process (``python -m frigoris.rover.app.cli``-equivalent through
the installed ``frigoris`` script), warm kernel cache, several times; the median wall time and
the largest peak RSS (GNU time, outside the process) are printed. One more run under cProfile
splits the time into:

- files and figures: time inside the products (``rover/app/products``: GeoTIFF, GeoJSON,
  GeoPackage, PNG maps, report, manifest), counted once at the outermost product call;
- computation: the rest of the command after start-up (models and kernels);
- start-up: interpreter and imports (the command's module and what it imports), up to the
  command's first line of work.

cProfile sees the main thread only. The mission job computes the plan's horizon map and
``map.html``'s rasters on threads of their own, side by side with the steps before them: their
work is not in the split, and a wait for them counts as computation.

Cases: ``frigoris demo``; ``frigoris mission`` on the example files; ``frigoris hazard`` on
synthetic DEMs of 4096^2 and 8192^2 (0.5 m), with the lander in the middle and the Sun from the
ephemeris. DEMs larger than ``WHOLE_MAX_PX`` a side run tiled (``--tile 2048``), as a user with
this machine's memory would run them: 8192^2 in memory needs about four times the 3.4 GiB of
4096^2. (A tiled run computes in worker threads, which the profile does not see: its split
counts them as computation.) The hazard command's peer is GDAL doing comparable file work in
the same run: ``gdaldem slope`` of the DEM, then ``gdal_translate -of COG`` of a float32 stack
with as many bands as ``hazard.tif`` and of a byte stack with as many as ``hazard_masks.tif``
(the same codec, level and predictor as ours, all cores).

Targets (issue 21): the demo within 20 s; the hazard command on 4096^2 within 2x its own
computation time and within 2x the GDAL peer.

The 4096^2 case also prints a floor: ``hazard.tif`` (with ``hazard_masks.tif``) written again
from its layers in memory, alone in its process (median of the repeats). The files hold every
layer, so they can start only when the computation ends; ``(computation + write) / computation``
is the least the wall / computation ratio can be, with no start-up at all, and
``(import + computation + write) / computation`` with only the time a fresh interpreter takes to
import the libraries the command uses (``LIBRARIES``).
"""

from __future__ import annotations

import os
import pathlib
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import rasterio

from benchmarks.common import verdict
from frigoris.terrain.io import COG_CODEC, COG_LEVEL, cog_predictor, masks_path

REPEATS = int(os.environ.get("FRIGORIS_BENCH_REPEATS", "3"))
SIZES = [int(s) for s in os.environ.get("FRIGORIS_BENCH_E2E_SIZES", "4096,8192").split(",") if s]
DEMO_ONLY = os.environ.get("FRIGORIS_BENCH_E2E_DEMO_ONLY", "") == "1"
"""``FRIGORIS_BENCH_E2E_DEMO_ONLY=1``: the demo line and its target only (a few minutes)."""
WHOLE_MAX_PX = 4096
"""Larger DEMs run with ``--tile TILE_PX``."""
TILE_PX = 2048
REPO = pathlib.Path(__file__).resolve().parents[1]
FRIGORIS = shutil.which("frigoris") or str(pathlib.Path(sys.executable).parent / "frigoris")
PRODUCTS = f"{os.sep}rover{os.sep}app{os.sep}products{os.sep}"
TIME = "/usr/bin/time"

_PROFILE = r"""
import cProfile, sys
from frigoris.rover.app.cli import main
cProfile.run("main(sys.argv[2:], standalone_mode=False)", sys.argv[1])
"""


def _run(args: list[str], cwd: pathlib.Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of ``frigoris ARGS``."""
    cmd = [FRIGORIS, *args]
    if os.path.exists(TIME):
        cmd = [TIME, "-f", "%M", *cmd]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{res.stderr[-2000:]}")
    peak = float(res.stderr.strip().splitlines()[-1]) / 1024 if os.path.exists(TIME) else 0.0
    return wall, peak


def _shares(args: list[str], cwd: pathlib.Path) -> dict[str, float]:
    """Seconds in files and figures, in computation, and in start-up, from one profiled run."""
    prof = cwd / "profile.out"
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _PROFILE, str(prof), *args], cwd=cwd, check=True,
        capture_output=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    stats = pstats.Stats(str(prof)).stats
    cli = f"{os.sep}rover{os.sep}app{os.sep}cli{os.sep}"
    helpers = ("group.py", "console.py", "options.py", "__init__.py")
    files = 0.0
    command = 0.0
    for (filename, _, name), (_, _, _, cum, callers) in stats.items():
        if name == "<module>":
            continue  # imports are start-up, wherever they happen
        if PRODUCTS in filename:
            # count a product function only where a non-product caller enters it
            files += sum(c[3] for k, c in callers.items() if PRODUCTS not in k[0])
        if cli in filename and not filename.endswith(helpers):
            command = max(command, cum)  # the command's own function, after its imports
    return {"wall": wall, "files": files, "compute": max(command - files, 0.0),
            "startup": max(wall - command, 0.0)}  # fmt: skip


def _line(name: str, args: list[str], cwd: pathlib.Path, extra: str = "") -> dict[str, float]:
    _run(args, cwd)  # warm-up: kernel cache, file cache
    runs = [_run(args, cwd) for _ in range(REPEATS)]
    walls = [w for w, _ in runs]
    peak = max(p for _, p in runs)
    share = _shares(args, cwd)
    wall = statistics.median(walls)
    print(
        f"BENCH e2e {name}: wall {wall:.2f} s (median of {REPEATS}: "
        f"{', '.join(f'{w:.1f}' for w in walls)}), peak RSS {peak:.0f} MiB; profiled run: "
        f"computation {share['compute']:.1f} s, files and figures {share['files']:.1f} s, "
        f"start-up {share['startup']:.1f} s{extra}",
        flush=True,
    )
    # "wall" is the line's median; the profiled run's own wall goes with its split
    return {**share, "profiled_wall": share["wall"], "wall": wall, "median_wall": wall}


BYTE_OPTIONS = ["-ot", "Byte", "-a_nodata", "none", "-co", "RESAMPLING=NEAREST"]
"""The peer's byte stack: no nodata, nearest overviews (as ``hazard_masks.tif``)."""


def _gdal_peer(dem: pathlib.Path, bands: tuple[int, int], work: pathlib.Path) -> float:
    """Seconds for gdaldem slope plus COGs of as many float and byte bands as ours.

    ``bands`` is (float bands, byte bands): a float32 COG of the first (our codec, level and
    predictor, all cores), then a byte COG of the second (nearest overviews, as our masks).
    """
    slope = work / "slope.tif"
    vrt = work / "stack.vrt"
    cogs = [work / "stack_cog.tif", work / "stack_masks_cog.tif"]
    for p in (slope, vrt, *cogs):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(["gdaldem", "slope", str(dem), str(slope), "-q"], check=True)
    for count, cog, byte in zip(bands, cogs, (False, True), strict=True):
        if not count:
            continue
        subprocess.run(
            ["gdalbuildvrt", "-q", "-overwrite", "-separate", str(vrt), *([str(slope)] * count)],
            check=True,
        )  # fmt: skip
        subprocess.run(
            ["gdal_translate", "-q", "-of", "COG", "-co", f"COMPRESS={COG_CODEC}",
             "-co", f"LEVEL={COG_LEVEL}", "-co", f"PREDICTOR={cog_predictor(not byte, count)}",
             "-co", "NUM_THREADS=ALL_CPUS",
             *(BYTE_OPTIONS if byte else []), str(vrt), str(cog)],
            check=True,
        )  # fmt: skip
    return time.perf_counter() - t0


_WRITE = r"""
import pathlib, statistics, sys, tempfile, time
from frigoris.rover.app.products.hazard_files import load_hazard
hm = load_hazard(pathlib.Path(sys.argv[1]))
with tempfile.TemporaryDirectory(dir=pathlib.Path(sys.argv[1]).parent) as tmp:
    hm.write(pathlib.Path(tmp) / "warm.tif")
    times = []
    for i in range(int(sys.argv[2])):
        t0 = time.perf_counter()
        hm.write(pathlib.Path(tmp) / f"hazard{i}.tif")
        times.append(time.perf_counter() - t0)
print(statistics.median(times))
"""


def _write_alone(hazard_tif: pathlib.Path) -> float:
    """Median seconds to write ``hazard.tif`` again from its layers in memory, nothing else."""
    res = subprocess.run(
        [sys.executable, "-c", _WRITE, str(hazard_tif), str(REPEATS)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(res.stdout.strip().splitlines()[-1])


LIBRARIES = "numpy, scipy.ndimage, scipy.spatial, rasterio, numba, matplotlib.pyplot, pyproj, click"
"""What the hazard command cannot start without (its own modules left out)."""


def _libraries_import() -> float:
    """Median seconds for a fresh interpreter to import the libraries alone, and exit."""
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {LIBRARIES}"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _hazard_bands(path: pathlib.Path) -> tuple[int, int]:
    """Bands of ``hazard.tif`` and of its byte companion ``hazard_masks.tif``."""
    counts = []
    for p in (path, masks_path(path)):
        if p.exists():
            with rasterio.open(p) as src:
                counts.append(src.count)
        else:
            counts.append(0)
    return counts[0], counts[1]


def main() -> None:
    from frigoris.terrain import write_geotiff
    from frigoris.terrain.synth import synthesize

    with tempfile.TemporaryDirectory(prefix="frigoris-e2e-") as tmp:
        work = pathlib.Path(tmp)
        (work / "examples").symlink_to(REPO / "examples", target_is_directory=True)

        demo = _line("demo", ["demo", "--out", "demo-out", "--overwrite", "-q"], work)
        print(
            f"BENCH e2e demo target: {demo['median_wall']:.1f} s (target <= 20 s) "
            f"{verdict(demo['median_wall'] <= 20.0)}",
            flush=True,
        )
        if DEMO_ONLY:
            return
        for example in ("imbrium_synthetic.toml", "frigoris_lola_regional.toml"):
            _line(
                f"mission {example}",
                ["mission", f"examples/{example}", "-o", "m-" + example[:-5], "--overwrite",
                 "-q"],
                work,
            )  # fmt: skip

        for n in SIZES:
            site = synthesize(size_m=n * 0.5, res_m=0.5, seed=3)
            dem = work / f"dem{n}.tif"
            write_geotiff(dem, {"elevation": site.dem.elevation}, site.dem)
            del site
            args = ["hazard", str(dem), "-o", f"hz{n}", "--lander", "xy:0,0",
                    "--time", "2025-06-05T19:17Z", "--overwrite", "-q"]  # fmt: skip
            name = f"hazard {n}^2"
            if n > WHOLE_MAX_PX:
                args += ["--tile", str(TILE_PX)]
                name += f" (--tile {TILE_PX})"
            ours = _line(name, args, work)
            bands = _hazard_bands(work / f"hz{n}" / "hazard.tif")
            peer = statistics.median(_gdal_peer(dem, bands, work) for _ in range(REPEATS))
            # the split is the profiled run's: its wall over its computation, one run
            own = ours["profiled_wall"] / max(ours["compute"], 1e-9)
            vs_gdal = ours["wall"] / peer
            target = n == 4096
            print(
                f"BENCH e2e {name} ratios: wall / own computation {own:.2f}"
                + (f" (target <= 2) {verdict(own <= 2.0)}" if target else "")
                + f"; wall / GDAL peer ({peer:.2f} s: gdaldem slope + COGs of {bands[0]} float32 "
                f"and {bands[1]} byte bands) "
                f"{vs_gdal:.2f}" + (f" (target <= 2) {verdict(vs_gdal <= 2.0)}" if target else ""),
                flush=True,
            )
            if target:
                # The files hold every layer, so their writing starts when the computation ends:
                # wall >= computation + write, even with no start-up and the picture and the
                # catalogues drawn beside it for free.
                write = _write_alone(work / f"hz{n}" / "hazard.tif")
                libs = _libraries_import()
                compute = max(ours["compute"], 1e-9)
                print(
                    f"BENCH e2e {name} floor: writing hazard.tif and hazard_masks.tif alone takes "
                    f"{write:.2f} s (median of {REPEATS}, GDAL's COG driver on every core) against "
                    f"{compute:.2f} s of computation: wall / own computation >= "
                    f"{(compute + write) / compute:.2f} with no start-up at all, >= "
                    f"{(libs + compute + write) / compute:.2f} with the libraries' import alone "
                    f"({libs:.2f} s)",
                    flush=True,
                )
            dem.unlink()


if __name__ == "__main__":
    main()
