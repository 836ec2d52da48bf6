"""Hazard stack vs ``gdaldem slope`` on the same 8192 x 8192 file (issue 3 and 13 performance).

Target: the full stack for one sun position and a lander in the middle (slope, obstacles and
rocks, craters, unresolved risk, shadow, the radio link budget, cost and keep-out), with the
limits and the link budget the mission uses (Tenacious and Resilience: the link's free-space
range, 4.98 km, covers the whole 4 km DEM), in at most 3x
the wall time of ``gdaldem slope`` alone, with memory growth at most 8x the DEM array.

Both sides do the same kind of work: **read the DEM file and compute, writing nothing**.
``gdaldem slope -of MEM`` reads the GeoTIFF, computes the slope into an in-memory raster and
exits (its process start, a few milliseconds for a C program, is included); ours runs
``read_dem`` + ``hazard_map`` in a Python process whose interpreter, libraries and compiled
kernels are already loaded (a warm-up on a small DEM), timing the read and the compute. Both
are warmed up: ``gdaldem`` runs once on the same file before the timed runs (which also puts the
file in the page cache for both sides), ours once on a small file in the same process.

Memory is the growth of the stack process's peak RSS from the moment the warm-up is done to the
end: the DEM read, every scratch array and every output layer count. The whole process's peak
RSS, measured from outside by GNU time, is printed beside it; it adds a fixed amount of
interpreter and libraries that does not grow with the DEM.

A PASS needs a non-trivial map as well: detected craters and rocks, and a keep-out share that is
neither 0 nor 1.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.common import verdict

N = int(os.environ.get("FRIGORIS_BENCH_HAZARD_N", "8192"))
REPEATS = int(os.environ.get("FRIGORIS_BENCH_REPEATS", "3"))

_STACK = r"""
import resource, sys, time
import numpy as np
from frigoris.terrain import read_dem
from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
from frigoris.terrain.hazard import hazard_map
LIMITS = hazard_limits(TENACIOUS, RESILIENCE)  # the mission's: its link reaches 4.98 km
def run(path, progress=None):
    dem = read_dem(path)
    b = dem.bounds
    lander = lander_site(RESILIENCE, 0.5 * (b.left + b.right), 0.5 * (b.bottom + b.top))
    return dem, hazard_map(dem, LIMITS, sun=(108.0, 11.8), lander=lander, progress=progress)
run(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
stages, last = {}, [time.perf_counter(), "read"]
def progress(fraction, stage=""):
    now = time.perf_counter()
    stages[last[1]] = stages.get(last[1], 0.0) + now - last[0]
    last[:] = [now, stage]
t0 = time.perf_counter()
dem, hm = run(sys.argv[1], progress)
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
valid = np.isfinite(dem.elevation)
ko = float(hm.keepout[valid].mean())
print(dt, (peak - before) * 1024, dem.elevation.nbytes, len(hm.craters), len(hm.rocks), ko)
print(";".join(f"{k}={v:.2f}" for k, v in stages.items() if k != "done"))
"""


def _ensure_gdaldem() -> str:
    path = shutil.which("gdaldem")
    if path is None:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "gdal-bin"], check=True, capture_output=True
        )
        path = shutil.which("gdaldem")
    return path


def _gdaldem(gdaldem: str, dem_path: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([gdaldem, "slope", "-q", "-of", "MEM", dem_path, "slope"], check=True)
    return time.perf_counter() - t0


def main() -> None:
    from frigoris.terrain import write_geotiff
    from frigoris.terrain.synth import synthesize

    gdaldem = _ensure_gdaldem()
    with tempfile.TemporaryDirectory() as tmp:
        site = synthesize(size_m=N * 0.5, res_m=0.5, seed=3)
        dem_path = os.path.join(tmp, "dem.tif")
        write_geotiff(dem_path, site.dem.elevation, site.dem)
        del site
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        # A small file warms the numba caches (compilation is not timed) and each run's kernels.
        small = os.path.join(tmp, "small.tif")
        tiny = synthesize(size_m=128.0, res_m=0.5, seed=3)
        write_geotiff(small, tiny.dem.elevation, tiny.dem)
        subprocess.run(
            [sys.executable, "-c", _STACK, small, small], check=True, capture_output=True, env=env
        )
        _gdaldem(gdaldem, dem_path)  # warm-up: the file is in the page cache for both sides
        gd, st, mem, whole, stage_lines, keepout = [], [], [], [], [], []
        for _ in range(REPEATS):
            gd.append(_gdaldem(gdaldem, dem_path))
            proc = subprocess.run(
                ["/usr/bin/time", "-f", "MAXRSS_KB %M", sys.executable, "-c", _STACK]
                + [dem_path, small],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            lines = proc.stdout.splitlines()
            out = lines[0].split()
            peak_kb = float(proc.stderr.rsplit("MAXRSS_KB", 1)[1].split()[0])
            st.append(float(out[0]))
            mem.append(float(out[1]) / float(out[2]))
            whole.append(peak_kb * 1024 / float(out[2]))
            stage_lines.append(lines[1])
            craters, rocks, keepout = int(out[3]), int(out[4]), float(out[5])
    g, s, m = statistics.median(gd), statistics.median(st), statistics.median(mem)
    w = statistics.median(whole)
    real = craters > 0 and rocks > 0 and 0.0 < keepout < 1.0
    print(
        f"BENCH hazard stack {N}^2 (read + compute on both sides, no writes): ours {s:.2f} s, "
        f"gdaldem slope {g:.2f} s, ratio {s / g:.2f} (target <= 3) "
        f"{verdict(s / g <= 3 and real)}; memory growth {m:.1f}x the DEM array (DEM read, "
        f"scratch and outputs; target <= 8) {verdict(m <= 8 and real)}; {craters} craters, "
        f"{rocks} rocks, keep-out {keepout:.1%} (medians of {REPEATS}: ours "
        f"{', '.join(f'{v:.2f}' for v in st)} s; gdaldem {', '.join(f'{v:.2f}' for v in gd)} s)",
        flush=True,
    )
    print(
        f"BENCH hazard stack info: whole-process peak RSS {w:.1f}x the DEM array (GNU time, "
        f"with the interpreter and libraries); stages of the median run (s): "
        f"{stage_lines[st.index(s)] if s in st else stage_lines[0]}",
        flush=True,
    )


if __name__ == "__main__":
    main()
