"""Size-frequency laws of rocks and craters (cumulative counts per square metre).

All diameters in metres. Each law gives ``N(>D)`` per m^2 and samples diameters between two
bounds; the synthetic site draws from them and the hazard map's unresolved-rock risk and the
tests integrate them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import exp1

RockLaw = Literal["viper", "viper-high", "golombek"]
CraterLaw = Literal["trask", "viper"]


def golombek_q(k: float | np.ndarray) -> np.ndarray:
    """Golombek & Rapp (1997) decay constant q = 1.79 + 0.152 / k (k = total rock area fraction)."""
    return 1.79 + 0.152 / np.asarray(k, dtype=np.float64)


def golombek_area_fraction(d_m, k):
    """Cumulative fractional area covered by rocks larger than D: F(D) = k exp(-q D)."""
    return np.asarray(k) * np.exp(-golombek_q(k) * np.asarray(d_m))


def golombek_cumulative(d_m, k):
    """Rocks larger than D per m^2 under Golombek & Rapp with rock abundance k.

    From the number density n(D) = (4/pi) k q exp(-qD) / D^2 (per m^2 per m):
    N(>D) = (4/pi) k q [exp(-qD)/D - q E1(qD)], E1 the exponential integral.
    """
    d = np.asarray(d_m, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    rocky = k > 0  # no rocks at k = 0 (and no division by it)
    q = golombek_q(np.where(rocky, k, 1.0))
    out = (4.0 / np.pi) * k * q * (np.exp(-q * d) / d - q * exp1(q * d))
    return np.where(rocky, np.maximum(out, 0.0), 0.0)


def viper_rock_cumulative(d_m, high_blockiness: bool = False):
    """VIPER environment spec: N(>d) = 0.0003 d^-2.482 (high: 0.002 d^-2.6607) per m^2."""
    d = np.asarray(d_m, dtype=np.float64)
    if high_blockiness:
        return 0.002 * d**-2.6607
    return 0.0003 * d**-2.482


def trask_crater_cumulative(d_m):
    """Trask equilibrium for small craters on old mare: N(>D) = 10^-1.1 D^-2 per m^2."""
    return 10.0**-1.1 * np.asarray(d_m, dtype=np.float64) ** -2.0


def viper_crater_cumulative(d_m):
    """VIPER spec equilibrium craters: N(>d) = 29174 d^-1.92 per km^2 (d <= 80 m)."""
    return 29174.0e-6 * np.asarray(d_m, dtype=np.float64) ** -1.92


@dataclass(frozen=True)
class PowerLaw:
    """Cumulative power law N(>D) = a D^-b per m^2, truncated to [d_min, d_max]."""

    a: float
    b: float

    def cumulative(self, d_m):
        """N(>D) per m^2."""
        return self.a * np.asarray(d_m, dtype=np.float64) ** -self.b

    def expected(self, area_m2: float, d_min: float, d_max: float) -> float:
        """Expected count with d_min <= D < d_max over an area."""
        return float(area_m2 * (self.cumulative(d_min) - self.cumulative(d_max)))

    def sample(self, rng: np.random.Generator, n: int, d_min: float, d_max: float) -> np.ndarray:
        """Draw n diameters from the truncated law by inverting its CDF."""
        lo, hi = d_min**-self.b, d_max**-self.b
        u = rng.random(n)
        return (lo - u * (lo - hi)) ** (-1.0 / self.b)


def rock_power_law(law: RockLaw) -> PowerLaw:
    """The VIPER rock laws as PowerLaw objects."""
    if law == "viper":
        return PowerLaw(0.0003, 2.482)
    if law == "viper-high":
        return PowerLaw(0.002, 2.6607)
    raise ValueError(f"rock law {law!r} is not a power law")


def crater_power_law(law: CraterLaw, density: float = 1.0) -> PowerLaw:
    """Equilibrium crater laws scaled by ``density`` (1 = the published law)."""
    if law == "trask":
        return PowerLaw(density * 10.0**-1.1, 2.0)
    if law == "viper":
        return PowerLaw(density * 29174.0e-6, 1.92)
    raise ValueError(f"unknown crater law {law!r}; choose trask or viper")


def golombek_sample(
    rng: np.random.Generator, n: int, k: float, d_min: float, d_max: float
) -> np.ndarray:
    """Draw n diameters in [d_min, d_max) from the Golombek law with abundance k (tabulated CDF)."""
    grid = np.geomspace(d_min, d_max, 2048)
    cum = golombek_cumulative(grid, k)
    cdf = (cum[0] - cum) / (cum[0] - cum[-1])
    return np.interp(rng.random(n), cdf, grid)
