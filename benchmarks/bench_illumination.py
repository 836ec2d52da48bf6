"""Cast shadow and horizon-map speed (issue #7, and the hazard map's shadow kernel).

- ``cast_shadow`` for one sun direction on 4096 x 4096 against the 2 s budget.
- ``horizon_map`` for 2048 x 2048 with 36 sectors, against its peer: 36 direct cast-shadow sweeps
  of the same grid (a horizon map gives every sun elevation, not one: target at most 4x).
- 100 sun positions from the horizon map (lit fraction over a day), against its peer: 100 direct
  cast-shadow sweeps (target at most a quarter of their time).

Terrain: a seeded smooth random surface (Gaussian-filtered noise, ~1 m relief on 1 m pixels) with
shadows over about half the grid at the touchdown sun (108 deg, 11.8 deg).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from benchmarks.common import median_time, verdict
from frigoris.terrain.illumination import LINES_PER_CELL, cast_shadow, horizon_map

CAST_BUDGET_S = 2.0
HORIZON_VS_SWEEPS = 4.0
EVAL_VS_SWEEPS = 0.25


def _terrain(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (gaussian_filter(rng.normal(size=(n, n)), 8.0) * 200.0).astype(np.float32)


def _sun_day(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """A lunar day at 60.5 N seen as 100 (azimuth, elevation) pairs, east to west."""
    az = np.linspace(92.0, 268.0, n)
    el = 0.5 + 30.0 * np.sin(np.radians(az - 90.0) * (180.0 / 178.0))
    return az, el


def main() -> None:
    res = 1.0
    warm = _terrain(64)
    cast_shadow(warm, res, 108.0, 11.8)  # compile outside the timings
    horizon_map(warm, 4, res_m=res).lit_fraction([100.0], [10.0])

    _bench_cast(res)
    _bench_horizon(res)


def _bench_cast(res: float) -> None:
    z = _terrain(4096)
    t_cast = median_time(lambda: cast_shadow(z, res, 108.0, 11.8), repeats=5)
    frac = cast_shadow(z, res, 108.0, 11.8).mean()
    ratio = t_cast / CAST_BUDGET_S
    print(
        f"BENCH cast_shadow_4096: {t_cast:.3f} s for one sun direction on 4096 x 4096 "
        f"(lines_per_cell={LINES_PER_CELL}, {frac:.0%} in shadow) ratio={ratio:.2f} "
        f"(target <= 1, i.e. {CAST_BUDGET_S:.0f} s) {verdict(ratio <= 1.0)}",
        flush=True,
    )


def _bench_horizon(res: float) -> None:
    z2 = _terrain(2048)
    t_sweep = median_time(lambda: cast_shadow(z2, res, 108.0, 11.8), repeats=5)
    holder: dict[str, object] = {}

    def build() -> None:
        holder["hm"] = horizon_map(z2, 36, res_m=res)

    t_hm = median_time(build, repeats=2, warmup=0)
    ratio = t_hm / (36 * t_sweep)
    per_cell_ns = t_hm / (36 * z2.size) * 1e9
    print(
        f"BENCH horizon_map_2048x36: {t_hm:.2f} s ({per_cell_ns:.1f} ns per cell and sector); "
        f"peer 36 cast_shadow sweeps {36 * t_sweep:.2f} s ratio={ratio:.2f} "
        f"(target <= {HORIZON_VS_SWEEPS:g}) {verdict(ratio <= HORIZON_VS_SWEEPS)}",
        flush=True,
    )
    hm = holder["hm"]
    az, el = _sun_day(100)
    t_eval = median_time(lambda: hm.lit_fraction(az, el), repeats=5)
    t_stack = median_time(lambda: [hm.shadow(a, e) for a, e in zip(az, el, strict=True)], repeats=3)
    t_direct = 100 * t_sweep
    ratio = t_eval / t_direct
    print(
        f"BENCH horizon_eval_100: lit fraction over 100 sun positions {t_eval:.3f} s "
        f"(100 shadow masks {t_stack:.3f} s) from the 2048 x 2048 x 36 map; peer 100 "
        f"cast_shadow sweeps {t_direct:.2f} s ratio={ratio:.3f} "
        f"(target <= {EVAL_VS_SWEEPS:g}) {verdict(ratio <= EVAL_VS_SWEEPS)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
