"""Hazard stack vs ``gdaldem slope`` on the same 8192 x 8192 file (issue 3 performance).

Target: the full stack for one sun position (slope, footprint fits, rocks, craters, rock risk,
shadow, line of sight to a lander, cost and keep-out) in at most 3x the wall time of
``gdaldem slope`` alone, with peak memory at most 8x the DEM array. Each side runs in its own
process. Memory is the growth of the stack process's peak RSS from the moment the interpreter,
the libraries and the compiled kernels are loaded (a warm-up on a small DEM) to the end: the DEM
read, every scratch array and every output layer count. The whole process's peak RSS, measured
from outside by GNU time, is printed beside it; it adds about 240 MB of interpreter and
libraries that do not grow with the DEM.
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
from frigoris.terrain.hazard import HazardLimits, LanderSite, hazard_map
small = read_dem(sys.argv[2])
hazard_map(small, HazardLimits(), sun=(108.0, 11.8), lander=LanderSite(0.0, 0.0))
del small
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
dem = read_dem(sys.argv[1])
stages, last = {}, [time.perf_counter(), None]
def progress(fraction, stage=""):
    now = time.perf_counter()
    if last[1] is not None:
        stages[last[1]] = now - last[0]
    last[:] = [now, stage]
t0 = time.perf_counter()
hm = hazard_map(
    dem, HazardLimits(), sun=(108.0, 11.8), lander=LanderSite(0.0, 0.0), progress=progress
)
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(dt, (peak - before) * 1024, dem.elevation.nbytes, len(hm.craters), len(hm.rocks))
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
        gd, st, mem, whole, stage_lines = [], [], [], [], []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            subprocess.run(
                [gdaldem, "slope", "-q", dem_path, os.path.join(tmp, "s.tif")], check=True
            )
            gd.append(time.perf_counter() - t0)
            proc = subprocess.run(
                [
                    "/usr/bin/time",
                    "-f",
                    "MAXRSS_KB %M",
                    sys.executable,
                    "-c",
                    _STACK,
                    dem_path,
                    small,
                ],
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
            craters, rocks = out[3], out[4]
    g, s, m = statistics.median(gd), statistics.median(st), statistics.median(mem)
    w = statistics.median(whole)
    print(
        f"BENCH hazard stack {N}^2: ours {s:.2f} s, gdaldem slope {g:.2f} s, ratio {s / g:.2f} "
        f"(target <= 3) {verdict(s / g <= 3)}; peak memory {m:.1f}x the DEM array (DEM read, "
        f"scratch and outputs; target <= 8) {verdict(m <= 8)}; {craters} craters, {rocks} rocks "
        f"(medians of {REPEATS}: runs {', '.join(f'{v:.2f}' for v in st)} s)",
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
