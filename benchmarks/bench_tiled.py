"""Tiled hazard maps on Dask (issue #9): a 20000 x 20000 DEM within 2 GiB, and throughput.

- Peak memory: the tiled hazard map of a 20000 x 20000 float32 DEM (1.6 GB on disk, 400 Mpx),
  run in a subprocess whose peak RSS (``ru_maxrss``) is read at its end: target <= 2 GiB.
- Throughput (pixels/s) of the tiled path against its peer, the in-memory path (``read_dem`` +
  ``hazard_map`` + ``write_geotiff``), **on the same 4096 x 4096 DEM with the same Sun and
  lander**, so both do the same work per pixel (the radio link is traced over the same share of
  the map): end to end (DEM file in, COG out) and the layers alone; target in-memory / tiled
  <= 1.5. Each side runs in a fresh process (three runs each, medians) after one warm-up run of
  each side that fills numba's on-disk cache and the page cache.

The 20000^2 run is there for its memory; its throughput is printed for information only, with
the share of its pixels inside the link box (a lander in the middle reaches a small part of a
10 km map, so its work per pixel is lower than the peer's).

Both maps are of the same kind of terrain with a Sun (108 deg, 11.8 deg) and a lander at the
centre, on the local threaded scheduler of this 2-core machine. The terrain is a 2048 m
synthetic Mare Frigoris site at 0.5 m (the peer DEM); the large DEM repeats it mirrored
(seamless) with a 3 m undulation over 7 km on top, written block by block, so making it needs
no 1.6 GB array. Files live in a temporary folder (about 35 GB at the peak: the DEM, the tiled
intermediate and the COG) that is deleted at the end.

The throughput is printed twice: end to end, and the layers alone (no COG writing), since the
in-memory ``write_geotiff`` compresses on one thread while the tiled COG step uses every core.

Set ``FRIGORIS_BENCH_TILED_PX`` for another large size (e.g. 8192 for a quick look). The large
run is made once (about 15 minutes). Every PASS also needs a non-trivial map: craters found and
a keep-out share strictly between 0 and 1.
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

    from frigoris.terrain.hazard import HazardLimits, LanderSite, hazard_map, link_box
    from frigoris.terrain.io import read_dem, write_geotiff
    from frigoris.terrain.tiled import open_source, tiled_hazard

    _, grid = open_source(src)
    b = grid.bounds
    lander = LanderSite(0.5 * (b.left + b.right), 0.5 * (b.bottom + b.top))
    r0, r1, c0, c1 = link_box(
        grid.shape, grid.rowcol(lander.x, lander.y), HazardLimits(), grid.res_m
    )
    t0 = time.perf_counter()
    info: dict = {"link_box_share": (r1 - r0) * (c1 - c0) / (grid.shape[0] * grid.shape[1])}
    if mode == "memory":
        dem = read_dem(src)
        t1 = time.perf_counter()
        hm = hazard_map(dem, HazardLimits(), sun=SUN, lander=lander)
        info["compute_s"] = time.perf_counter() - t1
        write_geotiff(out, hm.layers(), dem)
        info["craters"] = len(hm.craters)
        info["keepout"] = float(hm.keepout[np.isfinite(dem.elevation)].mean())
    else:
        th = tiled_hazard(src, out, HazardLimits(), sun=SUN, lander=lander, tile_px=TILE_PX)
        info.update({k: round(v, 1) for k, v in th.stats.items() if k.endswith("_s")})
        info["compute_s"] = th.stats["survey_s"] + th.stats["los_s"] + th.stats["hazard_s"]
        info.update(
            tiles=th.n_tiles,
            craters=len(th.craters),
            keepout=th.summary()["keepout_fraction"],
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


def _real(run: dict) -> bool:
    """A non-trivial map: craters found, keep-out neither nothing nor everything."""
    return run["craters"] > 0 and 0.0 < run["keepout"] < 1.0


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
        # warm-ups of both sides: numba's on-disk cache and the page cache
        _run_child("tiled", peer, folder / "warm.tif")
        _run_child("memory", peer, folder / "warm.tif")
        memory, tiled = [], []
        for _ in range(3):  # interleaved, so both sides see the same machine load
            memory.append(_run_child("memory", peer, folder / "mem.tif"))
            tiled.append(_run_child("tiled", peer, folder / "small.tif"))
        large = _run_child("tiled", big, folder / "large.tif")

        def med(runs, key):
            return statistics.median(r[key] for r in runs)

        px = memory[0]["px"]
        mem_tp, til_tp = px / med(memory, "wall_s") / 1e6, px / med(tiled, "wall_s") / 1e6
        mem_c, til_c = px / med(memory, "compute_s") / 1e6, px / med(tiled, "compute_s") / 1e6
        real = all(_real(r) for r in (*memory, *tiled))
        print(
            f"   in-memory {PEER_PX}^2: {med(memory, 'wall_s'):.1f} s, peak RSS "
            f"{med(memory, 'rss_gib'):.2f} GiB; tiled {PEER_PX}^2: {med(tiled, 'wall_s'):.1f} s, "
            f"peak RSS {med(tiled, 'rss_gib'):.2f} GiB (medians of 3)",
            flush=True,
        )
        print(f"   tiled {BIG_PX}^2 details: {json.dumps(large)}", flush=True)
        rss_ok = large["rss_gib"] <= RSS_TARGET_GIB and _real(large)
        print(
            f"BENCH tiled {BIG_PX}^2 (sun + lander, tile {TILE_PX}, 2 threads): peak RSS "
            f"{large['rss_gib']:.2f} GiB (target <= {RSS_TARGET_GIB:g} GiB) {verdict(rss_ok)}; "
            f"info: {large['px'] / large['wall_s'] / 1e6:.2f} Mpx/s ({large['wall_s']:.0f} s) "
            f"with {large['link_box_share']:.1%} of the map in the link box",
            flush=True,
        )
        ratio = mem_tp / til_tp
        print(
            f"BENCH tiled_throughput {PEER_PX}^2, same DEM, Sun and lander on both sides "
            f"({memory[0]['link_box_share']:.0%} in the link box), end to end (read, layers, COG): "
            f"tiled {til_tp:.2f} Mpx/s vs in-memory {mem_tp:.2f} Mpx/s, ratio={ratio:.2f} "
            f"(target <= {RATIO_TARGET:g}) {verdict(ratio <= RATIO_TARGET and real)}",
            flush=True,
        )
        ratio_c = mem_c / til_c
        print(
            f"BENCH tiled_compute {PEER_PX}^2, same DEM: layers only (tiled: survey + link + "
            f"hazard incl. uncompressed tile writes; in-memory: hazard_map) {til_c:.2f} Mpx/s vs "
            f"in-memory {mem_c:.2f} Mpx/s, ratio={ratio_c:.2f} (target <= {RATIO_TARGET:g}) "
            f"{verdict(ratio_c <= RATIO_TARGET and real)}",
            flush=True,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(*sys.argv[2:5])
    else:
        main()
