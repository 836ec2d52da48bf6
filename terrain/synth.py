"""Synthetic Mare Frigoris site: the built-in terrain when a user has no DEM.

No public rover-scale DEM of the Resilience site exists, so the default terrain is synthesised
to be statistically like an old mare (formulas and sources in ``shared/DOMAIN.md``), each
parameter from a published value:

1. fractal relief (fractional Brownian surface, Hurst exponent 0.85), rolling off above a 60 m
   corner wavelength so that the plain stays flat at long wavelengths (LOLA shows ~50 m of
   relief over 15 km around the target); its amplitude is fitted so that the whole site,
   craters included, has the published mare roughness: an RMS slope of about 4 deg at a 25 m
   baseline (Apollo bistatic radar). Measured on seeds 0-4 of the default site: 3.9-4.1 deg;
2. craters at equilibrium density (Trask, N(>D) = 10^-1.1 D^-2 per m^2). Their depth/diameter
   comes from the published small-crater measurements: fresh craters under 100 m have d/D
   0.11-0.13 (Stopar et al. 2017), and the population at the Chang'e-4 site averages about 0.06
   (Wu et al. 2021), most being degraded. A crater population in steady state has ages spread
   evenly up to its erasure; under topographic diffusion (Fassett and Thomson 2014) the depth of
   a bowl falls as 1 / (1 + t / tau), so d/D has the density (d/D)^-2 between the freshest value
   (0.13) and the value at which the crater is erased. That lower end is the one that gives the
   published mean 0.06: 0.0325 (:data:`DEPTH_RATIO_MIN`). Craters with d/D >= 0.11 are fresh
   (about 6 %): raised rims, r^-3 ejecta and block fields; the others have rims lowered in
   proportion;
3. rocks from the VIPER specification (or Golombek & Rapp) size-frequency law; rocks of
   ``rock_min_px`` pixels and more are drawn into the DEM as bumps of height 0.5 D, smaller ones
   are carried as a per-cell rock-abundance layer (Golombek k), enhanced near young craters.

Everything is deterministic from ``seed``; the ground-truth catalogues of craters and rocks are
returned so detection can be tested against truth.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage, optimize

from . import _synth_kernels as kern
from .crs import local_metric_crs
from .dem import Dem
from .errors import TerrainError
from .io import point_features
from .kernel_calls import split_range
from .size_frequency import (
    CraterLaw,
    RockLaw,
    crater_power_law,
    golombek_cumulative,
    golombek_q,
    golombek_sample,
    rock_power_law,
)

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

RESILIENCE_TARGET = (60.5, -4.6)
"""Planned touchdown point of HAKUTO-R Mission 2 (selenographic lat, lon; published)."""

FRESH_DEPTH_RATIO = (0.11, 0.13)
"""d/D of fresh craters smaller than 100 m (Stopar et al. 2017): published."""
MEAN_DEPTH_RATIO = 0.06
"""Mean d/D of the small craters at the Chang'e-4 site, most of them degraded (Wu et al. 2021):
published."""


def _steady_state_mean(lo: float, hi: float) -> float:
    """Mean of the density (d/D)^-2 on [lo, hi]: ln(hi / lo) / (1 / lo - 1 / hi)."""
    return float(np.log(hi / lo) / (1.0 / lo - 1.0 / hi))


DEPTH_RATIO_MIN = float(
    optimize.brentq(
        lambda lo: _steady_state_mean(lo, FRESH_DEPTH_RATIO[1]) - MEAN_DEPTH_RATIO,
        1e-4,
        MEAN_DEPTH_RATIO,
    )
)
"""d/D at which a crater is erased in the steady-state population: the lower end of the
(d/D)^-2 density that gives the published mean (0.0325)."""
TARGET_ELEVATION_M = -2430.0
"""Elevation of the Resilience target in LOLA LDEM_4 (shared/data/lola, 3x3 cells around it)."""
BLOCKY_CRATER_MIN_D = 10.0
"""Young craters at least this wide (m) excavate blocks onto their rims and ejecta."""


@dataclass(frozen=True)
class CraterCatalogue:
    """Ground-truth craters: centres in map metres, diameter, depth (rim crest to floor)."""

    x: np.ndarray
    y: np.ndarray
    diameter_m: np.ndarray
    depth_m: np.ndarray
    rim_height_m: np.ndarray
    fresh: np.ndarray

    def __len__(self) -> int:
        return int(self.x.size)

    def to_features(self, crs) -> list[dict[str, Any]]:
        """GeoJSON Point features (centre) with diameter, depth, rim height and state."""
        return point_features(
            crs,
            self.x,
            self.y,
            diameter_m=np.round(self.diameter_m, 3),
            depth_m=np.round(self.depth_m, 3),
            rim_height_m=np.round(self.rim_height_m, 3),
            state=np.where(self.fresh, "fresh", "degraded"),
        )


@dataclass(frozen=True)
class RockCatalogue:
    """Ground-truth rocks drawn into the DEM: centres in map metres, diameter, height."""

    x: np.ndarray
    y: np.ndarray
    diameter_m: np.ndarray
    height_m: np.ndarray

    def __len__(self) -> int:
        return int(self.x.size)

    def to_features(self, crs) -> list[dict[str, Any]]:
        """GeoJSON Point features with diameter and height."""
        return point_features(
            crs,
            self.x,
            self.y,
            diameter_m=np.round(self.diameter_m, 3),
            height_m=np.round(self.height_m, 3),
        )


@dataclass(frozen=True)
class SynthParams:
    """Parameters of a synthetic site (defaults: the Resilience target on an old mare)."""

    size_m: float = 1024.0
    res_m: float = 0.5
    center: tuple[float, float] = RESILIENCE_TARGET
    seed: int = 0
    base_elevation_m: float = TARGET_ELEVATION_M
    relief_rms_slope_deg: float = 3.5
    hurst: float = 0.85
    relief_corner_m: float = 500.0
    crater_law: CraterLaw = "trask"
    crater_density: float = 1.0
    crater_min_px: float = 4.0
    crater_max_m: float | None = None
    fresh_fraction: float | None = None
    rock_law: RockLaw = "viper"
    rock_abundance: float = 0.01
    rock_min_px: float = 2.0
    rock_max_m: float = 8.0

    def validate(self) -> None:
        """Raise TerrainError naming the first bad value."""
        if not (self.size_m > 0):
            raise TerrainError(f"size_m must be > 0, got {self.size_m}")
        if not (self.res_m > 0):
            raise TerrainError(f"res_m must be > 0, got {self.res_m}")
        checks = [
            (self.size_m / self.res_m >= 16, "size_m / res_m must give at least 16 pixels"),
            (
                self.size_m / self.res_m <= 40000,
                "size_m / res_m above 40000 pixels a side: use a coarser res_m",
            ),
            (-90 <= self.center[0] <= 90, f"centre latitude {self.center[0]} outside [-90, 90]"),
            (0 <= self.relief_rms_slope_deg < 45, "relief_rms_slope_deg must be in [0, 45)"),
            (0 < self.hurst < 1, f"hurst must be in (0, 1), got {self.hurst}"),
            (self.relief_corner_m > 0, f"relief_corner_m must be > 0, got {self.relief_corner_m}"),
            (self.crater_density >= 0, f"crater_density must be >= 0, got {self.crater_density}"),
            (self.crater_min_px >= 1, "crater_min_px must be >= 1"),
            (
                self.fresh_fraction is None or 0 <= self.fresh_fraction <= 1,
                "fresh_fraction must be in [0, 1] (or None: the steady-state population's own)",
            ),
            (
                0 < self.rock_abundance < 0.4,
                f"rock_abundance (k) must be in (0, 0.4), got {self.rock_abundance}",
            ),
            (self.rock_min_px >= 1, "rock_min_px must be >= 1"),
            (
                self.rock_max_m > self.rock_min_px * self.res_m,
                "rock_max_m must exceed the smallest drawn rock",
            ),
            (
                self.crater_law in ("trask", "viper"),
                f"crater_law {self.crater_law!r}: choose trask or viper",
            ),
            (
                self.rock_law in ("viper", "viper-high", "golombek"),
                f"rock_law {self.rock_law!r}: choose viper, viper-high or golombek",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise TerrainError(message)

    @property
    def n_px(self) -> int:
        """Pixels a side."""
        return int(round(self.size_m / self.res_m))

    @property
    def crater_d_min(self) -> float:
        """Smallest crater diameter drawn (m)."""
        return self.crater_min_px * self.res_m

    @property
    def crater_d_max(self) -> float:
        """Largest crater diameter drawn (m)."""
        return self.crater_max_m if self.crater_max_m is not None else self.size_m / 4.0

    @property
    def rock_d_min(self) -> float:
        """Smallest rock diameter drawn into the DEM (m)."""
        return self.rock_min_px * self.res_m


@dataclass(frozen=True)
class SyntheticSite:
    """A synthetic DEM with its ground truth.

    Attributes
    ----------
    dem : Dem
        Elevation with relief, craters and drawn rocks.
    craters, rocks : CraterCatalogue, RockCatalogue
        Ground truth of everything drawn.
    rock_abundance : ndarray of shape (M, N)
        Golombek k per cell: total fractional area covered by rocks, for the unresolved rocks
        (smaller than ``params.rock_d_min``) that the DEM cannot show.
    params : SynthParams
    """

    dem: Dem
    craters: CraterCatalogue
    rocks: RockCatalogue
    rock_abundance: np.ndarray
    params: SynthParams = field(default_factory=SynthParams)

    def summary(self) -> dict[str, Any]:
        """Plain-number summary for printing."""
        z = self.dem.elevation
        return {
            "size_px": list(self.dem.shape),
            "res_m": self.dem.res_m,
            "center_lat_lon": list(self.params.center),
            "elevation_min_m": float(np.nanmin(z)),
            "elevation_max_m": float(np.nanmax(z)),
            "craters": len(self.craters),
            "craters_fresh": int(self.craters.fresh.sum()),
            "largest_crater_m": float(self.craters.diameter_m.max()) if len(self.craters) else 0.0,
            "rocks_drawn": len(self.rocks),
            "largest_rock_m": float(self.rocks.diameter_m.max()) if len(self.rocks) else 0.0,
            "rock_abundance_mean": float(self.rock_abundance.mean()),
            "seed": self.params.seed,
        }


def fractal_surface(
    shape: tuple[int, int], hurst: float, rng: np.random.Generator, corner_px: float | None = None
) -> np.ndarray:
    """Zero-mean fractional Brownian surface by spectral synthesis.

    Amplitude ~ (|k|^2 + kc^2)^-((H+1)/2): fractal (|k|^-(H+1)) at wavelengths shorter than the
    corner ``corner_px``, flat beyond it, so relief does not keep growing with the extent.
    """
    rows, cols = shape
    ky = np.fft.fftfreq(rows)[:, None]
    kx = np.fft.rfftfreq(cols)[None, :]
    kc = 0.0 if corner_px is None else 1.0 / corner_px
    k2 = kx**2 + ky**2 + kc**2
    k2[0, 0] = np.inf
    amp = k2 ** (-(hurst + 1.0) / 2.0)
    noise = rng.standard_normal((rows, cols // 2 + 1)) + 1j * rng.standard_normal(
        (rows, cols // 2 + 1)
    )
    z = np.fft.irfft2(noise * amp, s=shape)
    return z - z.mean()


def rms_slope_deg(z: np.ndarray, res_m: float, baseline_m: float) -> float:
    """RMS bidirectional slope (degrees) at a baseline, from height differences along both axes."""
    lag = max(1, int(round(baseline_m / res_m)))
    dz = np.concatenate([(z[:, lag:] - z[:, :-lag]).ravel(), (z[lag:, :] - z[:-lag, :]).ravel()])
    return float(np.degrees(np.arctan(np.sqrt(np.nanmean(dz * dz)) / (lag * res_m))))


def depth_ratios(
    rng: np.random.Generator, n: int, fresh_fraction: float | None = None
) -> np.ndarray:
    """Draw n crater depth/diameter ratios from the steady-state population.

    The density is (d/D)^-2 on [``DEPTH_RATIO_MIN``, 0.13] (see the module notes); ratios of
    0.11 and more are fresh. With ``fresh_fraction`` the fresh and degraded parts of that density
    are drawn with the given weights instead of their own (about 0.06 and 0.94).
    """
    lo, hi = 1.0 / DEPTH_RATIO_MIN, 1.0 / FRESH_DEPTH_RATIO[1]
    edge = 1.0 / FRESH_DEPTH_RATIO[0]
    u = rng.random(n)
    if fresh_fraction is None:
        return 1.0 / (lo - u * (lo - hi))  # inverse CDF of the (d/D)^-2 density
    fresh = rng.random(n) < fresh_fraction
    return np.where(fresh, 1.0 / (edge - u * (edge - hi)), 1.0 / (lo - u * (lo - edge)))


def _gaussian_wrap(a: np.ndarray, sigma_px: float) -> np.ndarray:
    """``ndimage.gaussian_filter(a, sigma_px, mode="wrap")`` of a 2-D array, on every core.

    The filter is separable and scipy runs it axis by axis (rows first): each one-dimensional
    pass treats its lines independently, so the columns of the first pass and the rows of the
    second are split among threads (scipy's filters release the GIL), with the same weights
    and the same numbers bit for bit. A 400-tap kernel over 2048^2 is a second on one core.
    """
    first = np.empty_like(a, dtype=np.float64)
    out = np.empty_like(first)

    def down(lo: int, hi: int) -> None:
        ndimage.gaussian_filter1d(
            a[:, lo:hi], sigma_px, axis=0, mode="wrap", output=first[:, lo:hi]
        )

    def across(lo: int, hi: int) -> None:
        ndimage.gaussian_filter1d(first[lo:hi], sigma_px, axis=1, mode="wrap", output=out[lo:hi])

    split_range(down, a.shape[1], min_piece=64)
    split_range(across, a.shape[0], min_piece=64)
    return out


def _smooth_lognormal(shape, rng, corr_px: float, sigma: float) -> np.ndarray:
    """Log-normal field of mean 1 varying over ``corr_px``; uniform on a smaller site.

    A site narrower than two correlation lengths holds no variation at that scale: the filtered
    noise is then flat to rounding, and scaling it to unit deviation would blow rounding up into
    an overflow (NaN elevations on a 32 m site). The noise is drawn either way, so the random
    stream after it does not depend on the site size.
    """
    white = rng.standard_normal(shape)
    if 2.0 * corr_px > min(shape):
        return np.ones(shape)
    g = _gaussian_wrap(white, corr_px)
    g /= g.std() or 1.0
    return np.exp(sigma * g - 0.5 * sigma * sigma)


def synthesize(params: SynthParams | None = None, *, progress=None, **overrides) -> SyntheticSite:
    """Synthesise a statistically realistic old-mare site.

    Parameters
    ----------
    params : SynthParams, optional
        All parameters; keyword ``overrides`` replace single fields (``synthesize(seed=3)``).
        Main ones: ``size_m`` (extent, default 1024 m), ``res_m`` (0.5 m), ``rock_abundance``
        (Golombek k, 0.01), ``crater_density`` (multiple of the equilibrium law, 1.0), ``seed``.
    progress : callable(fraction, stage), optional
        Progress callback.

    Returns
    -------
    SyntheticSite
        The DEM (local transverse Mercator on the Moon sphere centred on ``center``), truth
        catalogues and the rock-abundance layer.

    Examples
    --------
    >>> site = synthesize(size_m=64, res_m=0.5, seed=1)
    >>> site.dem.shape
    (128, 128)
    """
    p = params or SynthParams()
    if overrides:
        unknown = set(overrides) - set(SynthParams.__dataclass_fields__)
        if unknown:
            raise TerrainError(f"unknown synthetic-site parameter(s) {sorted(unknown)}")
        p = SynthParams(**{**p.__dict__, **overrides})
    p.validate()
    report = progress or (lambda fraction, stage="": None)
    n = p.n_px
    res = p.res_m
    half = n * res / 2.0
    x0, y0 = -half + res / 2.0, half - res / 2.0  # centre of pixel (0, 0)
    area = (n * res) ** 2
    seeds = np.random.SeedSequence(p.seed).spawn(4)
    rng_relief, rng_craters, rng_blocks, rng_rocks = (np.random.default_rng(s) for s in seeds)

    report(0.0, "relief")
    z = fractal_surface((n, n), p.hurst, rng_relief, corner_px=p.relief_corner_m / res)
    current = rms_slope_deg(z, res, 10.0)
    if current > 0:
        z *= np.tan(np.radians(p.relief_rms_slope_deg)) / np.tan(np.radians(current))

    report(0.2, "craters")
    law = crater_power_law(p.crater_law, p.crater_density)
    d_min, d_max = p.crater_d_min, max(p.crater_d_max, p.crater_d_min * 1.0001)
    count = rng_craters.poisson(law.expected(area, d_min, d_max))
    diam = law.sample(rng_craters, count, d_min, d_max)
    cx = rng_craters.uniform(-half, half, count)
    cy = rng_craters.uniform(-half, half, count)
    ratio = depth_ratios(rng_craters, count, p.fresh_fraction)
    fresh = ratio >= FRESH_DEPTH_RATIO[0]
    depth = ratio * diam
    # Rim height of a fresh crater 0.036 D^1.01 (Pike), lowered with the crater's degradation.
    rim = 0.036 * diam**1.01 * (ratio / 0.196)
    kern.stamp_craters(z, x0, y0, res, cx, cy, diam / 2.0, depth, rim)
    craters = CraterCatalogue(cx, cy, diam, depth, rim, fresh)

    report(0.5, "rock abundance")
    modulation = _smooth_lognormal((n, n), rng_blocks, corr_px=max(2.0, 25.0 / res), sigma=0.5)
    young = fresh & (diam >= BLOCKY_CRATER_MIN_D)
    kern.stamp_block_fields(
        modulation,
        x0,
        y0,
        res,
        cx[young],
        cy[young],
        diam[young] / 2.0,
        np.full(int(young.sum()), 4.0),
    )
    modulation /= modulation.mean()
    rock_abundance = np.clip(p.rock_abundance * modulation, 1e-5, 0.35).astype(np.float32)

    report(0.7, "rocks")
    rocks = _draw_rocks(p, rng_rocks, modulation, rock_abundance, x0, y0, half)
    kern.stamp_rocks(z, x0, y0, res, rocks.x, rocks.y, rocks.diameter_m, rocks.height_m)

    z += p.base_elevation_m
    report(0.95, "grid")
    crs = local_metric_crs(*p.center)
    dem = Dem.from_array(z.astype(np.float32), res_m=res, crs=crs)
    report(1.0, "done")
    log.info("synthesised %dx%d site: %d craters, %d rocks", n, n, len(craters), len(rocks))
    return SyntheticSite(dem, craters, rocks, rock_abundance, p)


def _draw_rocks(p: SynthParams, rng, modulation, rock_abundance, x0, y0, half) -> RockCatalogue:
    """Place resolved rocks by thinning a Poisson process with the local abundance."""
    res = p.res_m
    area = (p.n_px * res) ** 2
    d_min, d_max = p.rock_d_min, p.rock_max_m
    n_rows = modulation.shape[0]
    if p.rock_law == "golombek":
        k_max = float(rock_abundance.max())
        lam = area * float(golombek_cumulative(d_min, k_max) - golombek_cumulative(d_max, k_max))
        count = rng.poisson(lam)
        diam = golombek_sample(rng, count, k_max, d_min, d_max)
        x = rng.uniform(-half, half, count)
        y = rng.uniform(-half, half, count)
        k_here = rock_abundance[_rows(y, y0, res, n_rows), _cols(x, x0, res, n_rows)]
        # Accept with n(D; k_here) / n(D; k_max); n increases with k at every D, so this is <= 1.
        ratio = (k_here * golombek_q(k_here) * np.exp(-golombek_q(k_here) * diam)) / (
            k_max * golombek_q(k_max) * np.exp(-golombek_q(k_max) * diam)
        )
        keep = rng.random(count) < ratio
    else:
        law = rock_power_law(p.rock_law)
        m_max = float(modulation.max())
        count = rng.poisson(law.expected(area, d_min, d_max) * m_max)
        diam = law.sample(rng, count, d_min, d_max)
        x = rng.uniform(-half, half, count)
        y = rng.uniform(-half, half, count)
        m_here = modulation[_rows(y, y0, res, n_rows), _cols(x, x0, res, n_rows)]
        keep = rng.random(count) < m_here / m_max
    x, y, diam = x[keep], y[keep], diam[keep]
    return RockCatalogue(x, y, diam, 0.5 * diam)


def _rows(y, y0, res, n):
    return np.clip(np.round((y0 - y) / res).astype(np.int64), 0, n - 1)


def _cols(x, x0, res, n):
    return np.clip(np.round((x - x0) / res).astype(np.int64), 0, n - 1)
