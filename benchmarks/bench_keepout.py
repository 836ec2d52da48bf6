"""Keep-out by reason on the default demo site and the real DEMs (issue 13's done-when checks).

Regenerates the README's keep-out table. For each site: the share of valid cells each reason
excludes (shares overlap), within the link's free-space range of the lander, the terrain-only
share (every reason but the link and the lander) and the certain share (every reason but risk).

- the default demo site (``synthesize()``, 1024 m at 0.5 m, its rock-abundance layer), lander
  in the middle: target keep-out within the link range <= 35 %;
- the real 5 m LOLA DEM near Shoemaker, lander on the flattest cell within 100 m of the
  centre: target a connected drivable area of at least 2 ha around it (and not a red sheet);
- the LOLA 4 px/deg grid of Mare Frigoris, no lander: target no warning that blames the units
  and certain keep-out below 10 %.

Nothing here is tuned to a target: the values are the specs' and the published ones.
"""

from __future__ import annotations

import pathlib

import numpy as np

from benchmarks.common import verdict

DATA = pathlib.Path(__file__).resolve().parents[1] / "examples" / "data"
REASONS = ("nodata", "slope", "obstacle", "risk", "lander", "link")


def _line(name: str, s: dict) -> str:
    by = ", ".join(
        f"{k} {100 * s[f'in_link_range_excluded_by_{k}']:.1f}"
        for k in REASONS
        if f"in_link_range_excluded_by_{k}" in s
    )
    if not by:
        by = ", ".join(
            f"{k} {100 * s[f'excluded_by_{k}']:.1f}" for k in REASONS if f"excluded_by_{k}" in s
        )
    within = s.get("keepout_in_link_range_fraction", s["keepout_fraction"])
    terrain, certain = s["keepout_terrain_fraction"], s["keepout_certain_fraction"]
    return (
        f"{name}: keep-out {100 * within:.1f} % ({by}); terrain alone {100 * terrain:.1f} %, "
        f"certain {100 * certain:.1f} %"
    )


def main() -> None:
    from scipy import ndimage

    from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
    from frigoris.terrain import _hazard_kernels as hk
    from frigoris.terrain import read_dem
    from frigoris.terrain.hazard import hazard_map
    from frigoris.terrain.synth import synthesize

    limits = hazard_limits(TENACIOUS, RESILIENCE)

    site = synthesize()
    hm = hazard_map(
        site.dem,
        limits,
        lander=lander_site(RESILIENCE, 0.0, 0.0),
        rock_abundance=site.rock_abundance,
    )
    s = hm.summary()
    ok = s["keepout_in_link_range_fraction"] <= 0.35
    print(f"BENCH keepout demo site {_line('', s)[2:]} (target <= 35 %) {verdict(ok)}", flush=True)

    dem = read_dem(DATA / "shoemaker_5mpp_south_pole.tif")
    slope = hk.horn_slope_deg(dem.elevation, dem.res_m)
    rows, cols = np.indices(dem.shape)
    r0, c0 = dem.shape[0] // 2, dem.shape[1] // 2
    near = np.hypot(rows - r0, cols - c0) * dem.res_m <= 100.0
    r, c = np.unravel_index(np.nanargmin(np.where(near, slope, np.inf)), slope.shape)
    hm = hazard_map(dem, limits, lander=lander_site(RESILIENCE, *dem.xy(r, c)))
    labels, _ = ndimage.label(~hm.keepout)
    around = labels[r - 2 : r + 3, c - 2 : c + 3]
    area = max(((labels == lab).sum() for lab in np.unique(around[around > 0])), default=0)
    area_ha = area * dem.res_m**2 / 1e4
    s = hm.summary()
    ok = area_ha >= 2.0 and s["keepout_fraction"] < 0.9
    print(
        f"BENCH keepout shoemaker 5 m {_line('', s)[2:]}; drivable area around the lander "
        f"{area_ha:.1f} ha (target >= 2 ha) {verdict(ok)}",
        flush=True,
    )

    dem = read_dem(DATA / "LDEM_4_MareFrigoris_50N65N_40W40E_eqc_clon0.tif")
    hm = hazard_map(dem, limits, detect=False)
    s = hm.summary()
    ok = not any("units" in w for w in hm.warnings) and s["keepout_certain_fraction"] < 0.1
    print(
        f"BENCH keepout lola 4 px/deg (no lander) {_line('', s)[2:]}; warnings "
        f"{list(hm.warnings) or 'none'} (target: none about units, certain < 10 %) {verdict(ok)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
