"""Which codec frigoris writes its GeoTIFFs with: measured on a real hazard map's bands.

The bands are those ``frigoris hazard`` writes for the default synthetic site at 0.5 m (2048 x
2048, lander at the centre), written by ``terrain.write_geotiff`` once per codec (COG layout,
overviews, all cores; only the codec changes; the float layers and the byte masks' file, sizes
summed). The peer is GDAL's DEFLATE at its default level,
what ``write_geotiff`` used before. Medians of 3 runs after a warm-up.
"""

from __future__ import annotations

import pathlib
import statistics
import tempfile
import time
from unittest import mock

from benchmarks.common import verdict

CODECS = (("DEFLATE", 6), ("DEFLATE", 1), ("LZW", None), ("ZSTD", 9), ("ZSTD", 1))
REPEATS = 3


def _bands():
    from frigoris.rover.app.jobs.inputs import resolve_sun
    from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
    from frigoris.rover.touchdown import PLANNED_TOUCHDOWN_UTC
    from frigoris.terrain.hazard import band_dtypes, hazard_map
    from frigoris.terrain.synth import SynthParams, synthesize

    site = synthesize(SynthParams(size_m=1024.0, seed=0))
    hm = hazard_map(
        site.dem,
        hazard_limits(TENACIOUS),
        sun=resolve_sun(site.dem, when=PLANNED_TOUCHDOWN_UTC),
        lander=lander_site(RESILIENCE, 0.0, 0.0),
        rock_abundance=site.rock_abundance,
    )
    layers = hm.layers()
    types = band_dtypes()
    return layers, site.dem, {k: v for k, v in types.items() if k in layers}


def _time(
    codec, level, layers, dem, dtypes, folder: pathlib.Path, predictor: str | None = None
) -> tuple[float, float]:
    import frigoris.terrain.io as io

    out = folder / f"{codec}{level}{predictor}.tif"
    times = []
    pred = io.cog_predictor if predictor is None else (lambda is_float, bands: predictor)
    with (
        mock.patch.object(io, "COG_CODEC", codec),
        mock.patch.object(io, "COG_LEVEL", level),
        mock.patch.object(io, "cog_predictor", pred),
    ):
        for i in range(REPEATS + 1):
            t0 = time.perf_counter()
            io.write_geotiff(out, layers, dem, dtype=dtypes)
            if i:  # the first is the warm-up
                times.append(time.perf_counter() - t0)
    # the float layers and, beside them, the byte masks (io.masks_path)
    size = sum(f.stat().st_size for f in (out, io.masks_path(out)) if f.exists())
    return statistics.median(times), size / 2**20


def main() -> None:
    import frigoris.terrain.io as io

    layers, dem, dtypes = _bands()
    with tempfile.TemporaryDirectory(prefix="frigoris-cog-") as tmp:
        folder = pathlib.Path(tmp)
        peer_t, peer_mb = _time("DEFLATE", 6, layers, dem, dtypes, folder)
        for codec, level in CODECS[1:]:
            t, mb = _time(codec, level, layers, dem, dtypes, folder)
            chosen = (codec, level) == (io.COG_CODEC, io.COG_LEVEL)
            ok = t / peer_t <= 0.5 and mb / peer_mb <= 1.1
            tail = f" (chosen: target time <= 0.5, size <= 1.1) {verdict(ok)}" if chosen else ""
            print(
                f"BENCH cog {len(layers)} bands {dem.shape[0]}^2: {codec} level {level}: "
                f"{t:.2f} s, {mb:.0f} MiB; peer DEFLATE level 6 {peer_t:.2f} s, {peer_mb:.0f} MiB; "
                f"ratio={t / peer_t:.2f} size ratio {mb / peer_mb:.2f}{tail}",
                flush=True,
            )
        # the predictor of a stack of bands (interleaved by pixel): horizontal differencing
        # (chosen, io.cog_predictor) against the floating-point predictor, same codec
        codec, level = io.COG_CODEC, io.COG_LEVEL
        fp_t, fp_mb = _time(codec, level, layers, dem, dtypes, folder, predictor="3")
        t, mb = _time(codec, level, layers, dem, dtypes, folder)
        chosen = io.cog_predictor(True, len(layers))
        print(
            f"BENCH cog {len(layers)} bands {dem.shape[0]}^2: {codec} level {level} predictor "
            f"{chosen} (chosen): {t:.2f} s, {mb:.0f} MiB; peer predictor 3 (floating point) "
            f"{fp_t:.2f} s, {fp_mb:.0f} MiB; ratio={t / fp_t:.2f} size ratio {mb / fp_mb:.2f} "
            f"(target: both <= 1) {verdict(t <= fp_t and mb <= fp_mb)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
