"""Crater detection: speed against ``gdaldem slope`` and accuracy against synthetic truth.

- ``detect_craters`` on synthetic Mare Frigoris sites of 2048 x 2048 (1 km at 0.5 m, seed 0)
  and 8192 x 8192 (4 km, seed 5), against its peer ``gdaldem slope`` on the same DEM (GeoTIFF in
  a temporary folder, wall time including its read and write; CPU times are printed too, as
  wall times on a shared machine swing with the load). The hazard map's budget is about 3x
  gdaldem slope for the whole stack; the target for crater detection is at most half of it.
- Recall and precision for the evaluation population (``evaluation_population``: truth craters
  >= 10 px on the grid, d/D >= 0.05, at most half their disc inside one larger crater; target
  >= 0.8 each), and recall over every truth crater >= 10 px (reported, no target).
"""

from __future__ import annotations

import pathlib
import resource
import shutil
import subprocess
import tempfile
import time

from benchmarks.common import median_time, verdict
from frigoris.terrain.craters import detect_craters, evaluation_population, match_craters
from frigoris.terrain.io import write_geotiff
from frigoris.terrain.synth import synthesize

SPEED_VS_GDALDEM = 1.5
ACCURACY_TARGET = 0.8


def main() -> None:
    warm = synthesize(size_m=64.0, res_m=0.5, seed=1).dem
    detect_craters(warm.elevation, warm.res_m)  # load compiled kernels outside the timings
    for size_m, seed, repeats in ((1024.0, 0, 3), (4096.0, 5, 2)):
        t0 = time.perf_counter()
        site = synthesize(size_m=size_m, res_m=0.5, seed=seed)
        print(
            f"   (synthesised {site.dem.shape[0]} px site in {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        _bench_site(site, repeats)


def _bench_site(site, repeats: int) -> None:
    dem, truth = site.dem, site.craters
    n = dem.shape[0]
    holder = {}

    def run() -> None:
        holder["found"] = detect_craters(dem.elevation, dem.res_m, transform=dem.transform)

    cpu0 = time.process_time()
    t_det = median_time(run, repeats=repeats, warmup=0)
    cpu_det = (time.process_time() - cpu0) / repeats
    found = holder["found"]
    peer = _gdaldem_slope_time(dem, repeats)
    if peer is None:
        print(f"BENCH craters_{n}: {t_det:.2f} s; gdaldem not found, no peer SKIP", flush=True)
    else:
        t_peer, cpu_peer = peer
        ratio = t_det / t_peer
        print(
            f"BENCH craters_{n}: detect_craters {t_det:.2f} s wall, {cpu_det:.2f} s CPU "
            f"({len(found)} craters, {t_det / dem.elevation.size * 1e9:.0f} ns per cell); peer "
            f"gdaldem slope {t_peer:.2f} s wall, {cpu_peer:.2f} s CPU ratio={ratio:.2f} "
            f"(target <= {SPEED_VS_GDALDEM:g}) {verdict(ratio <= SPEED_VS_GDALDEM)}",
            flush=True,
        )
    pop = evaluation_population(
        truth.x, truth.y, truth.diameter_m, truth.depth_m, shape=dem.shape, transform=dem.transform
    )
    every = evaluation_population(
        truth.x,
        truth.y,
        truth.diameter_m,
        truth.depth_m,
        shape=dem.shape,
        transform=dem.transform,
        min_depth_ratio=0.0,
        max_overlap=1.0,
    )
    m = match_craters(found, truth.x, truth.y, truth.diameter_m, population=pop)
    m_all = match_craters(found, truth.x, truth.y, truth.diameter_m, population=every)
    worst = min(m.recall, m.precision)
    print(
        f"BENCH craters_accuracy_{n}: population recall {m.recall:.3f} ({m.n_found}/{m.n_truth}) "
        f"precision {m.precision:.3f} ({m.n_true_detections}/{m.n_detected}); recall over all "
        f"{m_all.n_truth} craters >= 10 px {m_all.recall:.3f} ratio={worst:.3f} "
        f"(target >= {ACCURACY_TARGET:g}) {verdict(worst >= ACCURACY_TARGET)}",
        flush=True,
    )


def _gdaldem_slope_time(dem, repeats: int) -> tuple[float, float] | None:
    """Median wall time and mean CPU time (user + system) of ``gdaldem slope`` on the DEM."""
    exe = shutil.which("gdaldem")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = write_geotiff(pathlib.Path(tmp) / "dem.tif", dem.elevation, dem)
        dst = pathlib.Path(tmp) / "slope.tif"

        def run() -> None:
            subprocess.run([exe, "slope", "-q", str(src), str(dst)], check=True)

        run()  # warm the file cache
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = median_time(run, repeats=repeats, warmup=0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / repeats
        return wall, cpu


if __name__ == "__main__":
    main()
