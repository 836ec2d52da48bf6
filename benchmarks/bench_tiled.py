"""Tiled hazard maps on Dask (issue #9): a 20000 x 20000 DEM within 2 GiB, and throughput.

- Peak memory: the tiled hazard map of a 20000 x 20000 float32 DEM (1.6 GB on disk, 400 Mpx),
  run in a subprocess whose peak RSS (``ru_maxrss``) is read at its end: target <= 2 GiB.
- Throughput (pixels/s, end to end: DEM file in, COG out) of the tiled path on that DEM against
  its peer, the in-memory path (``read_dem`` + ``hazard_map`` + ``write_geotiff``) on a 4096 x
  4096 DEM that fits, measured in the same run: target in-memory / tiled <= 1.5.

Both runs map the same kind of terrain with a Sun (108 deg, 11.8 deg) and a lander at the
centre (line of sight within its 1 km link range), on the local threaded scheduler of this
2-core machine. The terrain is a 2048 m synthetic Mare Frigoris site at 0.5 m (the peer DEM);
the large DEM repeats it mirrored (seamless) with a 3 m undulation over 7 km on top, written
block by block, so making it needs no 1.6 GB array. Files live in a temporary folder (about
35 GB at the peak: the DEM, the tiled intermediate and the COG) that is deleted at the end.

A second line compares the layers alone (no COG writing), since the in-memory
``write_geotiff`` compresses on one thread while the tiled COG step uses every core.

Set ``FRIGORIS_BENCH_TILED_PX`` for another large size (e.g. 8192 for a quick look). The large
run is made once (about 15 minutes); the in-memory peer is the median of three runs.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks.common import verdict

BIG_PX = int(os.environ.get("FRIGORIS_BENCH_TILED_PX", "20000"))
PEER_PX = 4096
RES_M = 0.5
TILE_PX = 2048
SUN = (108.0, 11.8)
RSS_TARGET_GIB = 2.0
RATIO_TARGET = 1.5
REPO = pathlib.Path(__file__).resolve().parents[1]


def _peer_dem(folder: pathlib.Path) -> pathlib.Path:
    from frigoris.terrain.io import write_geotiff
    from frigoris.terrain.synth import synthesize

    site = synthesize(size_m=PEER_PX * RES_M, res_m=RES_M, seed=1)
    path = folder / "peer.tif"
    write_geotiff(path, site.dem.elevation, site.dem)
    return path


def _big_dem(folder: pathlib.Path, peer: pathlib.Path, n: int) -> pathlib.Path:
    """The peer terrain mirrored over n x n cells, written 2048 rows at a time."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    from frigoris.terrain.io import read_dem

    dem = read_dem(peer)
    z = dem.elevation
    m = z.shape[0]
    path = folder / "big.tif"
    half = n * RES_M / 2.0
    profile = dict(
        driver="GTiff",
        width=n,
        height=n,
        count=1,
        dtype="float32",
        crs=dem.crs,
        transform=Affine(RES_M, 0.0, -half, 0.0, -RES_M, half),
        nodata=np.nan,
        tiled=True,
        blockxsize=512,
        blockysize=512,
        BIGTIFF="YES",
    )
    period = np.arange(n) % (2 * m)
    mirror = np.where(period < m, period, 2 * m - 1 - period)
    x = (np.arange(n) + 0.5) * RES_M
    with rasterio.open(path, "w", **profile) as ds:
        for r in range(0, n, 2048):
            rows = np.arange(r, min(r + 2048, n))
            block = z[np.ix_(mirror[rows], mirror)]
            wave = (
                3.0
                * np.sin(2 * np.pi * x / 7000.0)[None, :]
                * np.cos(2 * np.pi * ((rows + 0.5) * RES_M / 9000.0))[:, None]
            )
            ds.write((block + wave).astype(np.float32), 1, window=Window(0, r, n, len(rows)))
    return path


def _child(mode: str, src: str, out: str) -> None:
    """Run one job in this (fresh) process and print its wall time and peak RSS as JSON."""
    import resource

    from frigoris.terrain.hazard import HazardLimits, LanderSite, hazard_map
    from frigoris.terrain.io import read_dem, write_geotiff
    from frigoris.terrain.tiled import open_source, tiled_hazard

    _, grid = open_source(src)
    b = grid.bounds
    lander = LanderSite(0.5 * (b.left + b.right), 0.5 * (b.bottom + b.top))
    t0 = time.perf_counter()
    info: dict = {}
    if mode == "memory":
        dem = read_dem(src)
        t1 = time.perf_counter()
        hm = hazard_map(dem, HazardLimits(), sun=SUN, lander=lander)
        info["compute_s"] = time.perf_counter() - t1
        write_geotiff(out, hm.layers(), dem)
        info["craters"] = len(hm.craters)
    else:
        th = tiled_hazard(src, out, HazardLimits(), sun=SUN, lander=lander, tile_px=TILE_PX)
        info.update({k: round(v, 1) for k, v in th.stats.items() if k.endswith("_s")})
        info["compute_s"] = th.stats["survey_s"] + th.stats["los_s"] + th.stats["hazard_s"]
        info.update(
            tiles=th.n_tiles,
            craters=len(th.craters),
            halo_px=th.halo_px,
            crater_halo_px=th.crater_halo_px,
            max_crater_px=th.max_crater_px,
            far_error_m=round(th.far_error_m, 2),
            far_angle_bound_deg=round(th.far_angle_bound_deg, 2),
            los_factor=th.los_factor,
        )
    wall = time.perf_counter() - t0
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(
        json.dumps(
            {"wall_s": wall, "rss_gib": rss_gib, "px": grid.shape[0] * grid.shape[1], **info}
        )
    )


def _run_child(mode: str, src: pathlib.Path, out: pathlib.Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_tiled", "--child", mode, str(src), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{proc.stderr[-3000:]}")
    out.unlink(missing_ok=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    folder = pathlib.Path(tempfile.mkdtemp(prefix="frigoris-bench-tiled-"))
    try:
        t0 = time.perf_counter()
        peer = _peer_dem(folder)
        big = _big_dem(folder, peer, BIG_PX)
        print(
            f"   made the DEMs in {time.perf_counter() - t0:.0f} s "
            f"({big.stat().st_size / 2**30:.2f} GiB for {BIG_PX}^2)",
            flush=True,
        )
        _run_child("tiled", peer, folder / "warm.tif")  # compile the kernels into numba's cache
        memory = [_run_child("memory", peer, folder / "mem.tif") for _ in range(3)]
        mem_wall = statistics.median(m["wall_s"] for m in memory)
        mem_tp = memory[0]["px"] / mem_wall / 1e6
        small = _run_child("tiled", peer, folder / "small.tif")
        large = _run_child("tiled", big, folder / "large.tif")
        tp = large["px"] / large["wall_s"] / 1e6
        ratio = mem_tp / tp
        rss_ok = large["rss_gib"] <= RSS_TARGET_GIB
        print(
            f"   in-memory {PEER_PX}^2: {mem_wall:.1f} s (median of 3), peak RSS "
            f"{statistics.median(m['rss_gib'] for m in memory):.2f} GiB; tiled {PEER_PX}^2: "
            f"{small['wall_s']:.1f} s, peak RSS {small['rss_gib']:.2f} GiB",
            flush=True,
        )
        print(f"   tiled {BIG_PX}^2 details: {json.dumps(large)}", flush=True)
        print(
            f"BENCH tiled {BIG_PX}^2 (sun + lander, tile {TILE_PX}, 2 threads): peak RSS "
            f"{large['rss_gib']:.2f} GiB (target <= {RSS_TARGET_GIB:g} GiB) {verdict(rss_ok)}; "
            f"throughput {tp:.2f} Mpx/s ({large['wall_s']:.0f} s) vs in-memory {mem_tp:.2f} "
            f"Mpx/s on {PEER_PX}^2, ratio={ratio:.2f} (target <= {RATIO_TARGET:g}) "
            f"{verdict(ratio <= RATIO_TARGET)}",
            flush=True,
        )
        # the layers alone, without the COG: the in-memory write compresses on one thread
        mem_c = memory[0]["px"] / statistics.median(m["compute_s"] for m in memory) / 1e6
        big_c = large["px"] / large["compute_s"] / 1e6
        print(
            f"BENCH tiled_compute {BIG_PX}^2: layers only (tiled: survey + LOS + hazard incl. "
            f"uncompressed tile writes; in-memory: hazard_map) {big_c:.2f} Mpx/s vs in-memory "
            f"{mem_c:.2f} Mpx/s on {PEER_PX}^2, ratio={mem_c / big_c:.2f} "
            f"(target <= {RATIO_TARGET:g}) {verdict(mem_c / big_c <= RATIO_TARGET)}",
            flush=True,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(*sys.argv[2:5])
    else:
        main()
