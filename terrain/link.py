"""The radio link between the lander and the rover: a link budget over the terrain profile.

A link is not a line of sight. At 2.4 GHz the first Fresnel zone is metres wide (1.8 m at
100 m, 5.6 m at 1 km), so a rover a few decimetres below a crater rim loses some decibels to
diffraction, not its link. The margin of a rover antenna above a cell is

    margin = budget - FSPL(d) - L_diffraction,   FSPL = 20 log10(4 pi d / lambda),

with ``budget`` the :class:`LinkBudget`'s constant (transmit power, antenna gains and system
losses against the receiver's sensitivity, less the margin the link must keep, the weaker of
the two directions) and the diffraction loss from the terrain profile between the two antennas
by the Bullington construction of ITU-R P.526 with its knife-edge loss J(v), on the curved
Moon (no atmosphere: the geometric radius). The rover has a link where the margin is at
least 0.

Why Bullington: it is ITU-R P.526's construction for paths over general terrain (one
equivalent knife edge where the steepest rays from the two antennas over the terrain meet; on a
clear path, the largest v of the profile). The Deygout construction (a principal edge and one
each side) counts rolling ground several times over: on the default synthetic site it averaged
20 dB of diffraction loss against Bullington's 12 dB over the same 200 profiles of 100-500 m.
The smooth-sphere term of the delta-Bullington variant matters only beyond the radio horizon,
about 3.8 km for these antenna heights on the Moon.

The terrain is first averaged over radio cells of ``HazardLimits.radio_cell_m`` (2 m by
default): bumps much smaller than the Fresnel zone do not diffract, while a purely geometric ray
at grazing angles would be cut by centimetres of regolith texture. Rays run from the lander to
every edge cell of a box that holds the budget's free-space range (:func:`link_box`): beyond
that range the margin is below zero whatever the terrain, so no cell outside the box has a link.

:func:`bullington_loss_db` is the same construction on one profile in plain numpy, for checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _link_kernels as _lk
from .crs import MOON_RADIUS_M

SPEED_OF_LIGHT_M_S = 299_792_458.0


@dataclass(frozen=True)
class LinkBudget:
    """The radio link between a lander and its rover (values from the specs).

    Every field is in the unit its name says. ``required_margin_db`` is what the link must keep
    above the receiver's sensitivity (fading, multipath off the lander and the ground, pointing).
    The defaults are a generic Wi-Fi-class budget (a receiver at a few Mbit/s, 100 dB of path);
    a mission's budget comes from its specs (``frigoris.rover.specs.link_budget``: for
    Tenacious and Resilience the sensitivity their 256 kbit/s needs, 114 dB of path).
    """

    frequency_mhz: float = 2400.0
    lander_tx_power_dbm: float = 20.0
    lander_antenna_gain_dbi: float = 2.0
    lander_rx_sensitivity_dbm: float = -90.0
    lander_loss_db: float = 2.0
    rover_tx_power_dbm: float = 20.0
    rover_antenna_gain_dbi: float = 2.0
    rover_rx_sensitivity_dbm: float = -90.0
    rover_loss_db: float = 2.0
    required_margin_db: float = 10.0

    @property
    def wavelength_m(self) -> float:
        """Wavelength (m)."""
        return SPEED_OF_LIGHT_M_S / (self.frequency_mhz * 1e6)

    def budget_db(self) -> float:
        """Path loss the link can afford (dB), the weaker direction, required margin kept.

        The path loss is the same both ways (reciprocity); each direction affords transmit
        power + both antenna gains - both sides' cable and connector losses - the receiver's
        sensitivity.
        """
        common = self.lander_antenna_gain_dbi + self.rover_antenna_gain_dbi
        common -= self.lander_loss_db + self.rover_loss_db
        down = self.lander_tx_power_dbm + common - self.rover_rx_sensitivity_dbm
        up = self.rover_tx_power_dbm + common - self.lander_rx_sensitivity_dbm
        return min(down, up) - self.required_margin_db

    def free_space_range_m(self) -> float:
        """Distance at which free space alone uses up the budget (m)."""
        return self.wavelength_m / (4.0 * math.pi) * 10.0 ** (self.budget_db() / 20.0)

    def free_space_margin_db(self, distance_m) -> np.ndarray:
        """Margin (dB) over free space at a distance (m): no terrain."""
        d = np.asarray(distance_m, dtype=np.float64)
        return self.budget_db() - 20.0 * np.log10(4.0 * np.pi * d / self.wavelength_m)

    def validate(self) -> None:
        """Raise ValueError naming the first impossible value."""
        if not (math.isfinite(self.frequency_mhz) and self.frequency_mhz > 0):
            raise ValueError(f"link frequency_mhz must be > 0, got {self.frequency_mhz!r}")
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v)):
                raise ValueError(f"link {name} must be a finite number, got {v!r}")
        for name in ("lander_loss_db", "rover_loss_db", "required_margin_db"):
            if getattr(self, name) < 0:
                raise ValueError(f"link {name} must be >= 0 dB, got {getattr(self, name)!r}")
        if self.budget_db() <= 0:
            raise ValueError(
                f"the link budget affords {self.budget_db():.1f} dB of path loss: no link at any "
                "distance; check the powers, gains and sensitivities"
            )


BOLTZMANN_J_K = 1.380649e-23
"""Boltzmann's constant (J/K, exact in the SI)."""

SHANNON_EBN0_DB = 10.0 * math.log10(math.log(2.0))
"""The lowest energy per bit over noise density any code decodes with: ln 2, -1.59 dB."""


def receiver_sensitivity_dbm(
    bit_rate_bit_s: float, noise_figure_db: float, required_ebn0_db: float, noise_k: float = 290.0
) -> float:
    """Weakest signal (dBm) a receiver decodes at a bit rate.

    S = 10 log10(k T / 1 mW) + F + 10 log10(R) + Eb/N0: the thermal noise density at the
    reference temperature (-174 dBm/Hz at 290 K), raised by the receiver's noise figure F, over
    the bandwidth of R bits a second, plus the energy per bit over noise density the
    modulation and coding need (uncoded BPSK or QPSK: 10.5 dB for a bit error rate of 1e-6; no
    code below :data:`SHANNON_EBN0_DB`).

    Examples
    --------
    >>> round(receiver_sensitivity_dbm(256_000, 5.0, 10.5), 1)
    -104.4
    """
    n0_dbm_hz = 10.0 * math.log10(BOLTZMANN_J_K * noise_k / 1e-3)
    return n0_dbm_hz + noise_figure_db + 10.0 * math.log10(bit_rate_bit_s) + required_ebn0_db


def knife_edge_loss_db(v) -> np.ndarray:
    """ITU-R P.526 knife-edge diffraction loss J(v) (dB); 0 for v <= -0.78.

    J(v) = 6.9 + 20 log10(sqrt((v - 0.1)^2 + 1) + v - 0.1).
    """
    v = np.asarray(v, dtype=np.float64)
    w = np.maximum(v, _lk.V_MIN)  # J is defined above -0.78 only
    j = 6.9 + 20.0 * np.log10(np.sqrt((w - 0.1) ** 2 + 1.0) + w - 0.1)
    return np.where(v > _lk.V_MIN, j, 0.0)


def fresnel_v(h_m, d1_m, d2_m, wavelength_m) -> np.ndarray:
    """Fresnel-Kirchhoff parameter of an edge h above the line, d1 and d2 from the two ends."""
    h, d1, d2 = (np.asarray(a, dtype=np.float64) for a in (h_m, d1_m, d2_m))
    return h * np.sqrt(2.0 * (d1 + d2) / (wavelength_m * d1 * d2))


def bullington_loss_db(
    distance_m,
    height_m,
    tx_height_m: float,
    rx_height_m: float,
    wavelength_m: float,
    body_radius_m: float = MOON_RADIUS_M,
) -> float:
    """Bullington diffraction loss (dB) over one terrain profile (ITU-R P.526).

    A plain reference of the compiled sweep: ``distance_m`` (increasing, from the transmitter
    at 0) and ``height_m`` describe the terrain; the first point is the ground under the
    transmitter, the last the ground under the receiver; antennas stand ``tx_height_m`` and
    ``rx_height_m`` above them; heights are lowered by d^2 / 2R (the transmitter's tangent
    frame). With line of sight the loss is J of the largest v over the profile; otherwise J of
    the v of the point where the steepest ray from the transmitter over the terrain meets the
    steepest ray from the receiver.

    Examples
    --------
    One knife edge 10 m high halfway along 200 m between two antennas 2 m up, at 2.4 GHz:

    >>> lam = 299_792_458.0 / 2.4e9
    >>> loss = bullington_loss_db([0, 100, 200], [0, 10, 0], 2.0, 2.0, lam, body_radius_m=1e12)
    >>> round(loss, 1)
    26.0
    """
    d = np.asarray(distance_m, dtype=np.float64)
    z = np.asarray(height_m, dtype=np.float64) - d**2 / (2.0 * body_radius_m)
    zt, zr, total = z[0] + tx_height_m, z[-1] + rx_height_m, d[-1]
    di, zi = d[1:-1], z[1:-1]
    if di.size == 0:
        return 0.0
    s_tim = np.max((zi - zt) / di)
    s_tr = (zr - zt) / total
    if s_tim < s_tr:
        h = zi - (zt + s_tr * di)
        return float(knife_edge_loss_db(np.max(fresnel_v(h, di, total - di, wavelength_m))))
    s_rim = np.max((zi - zr) / (total - di))
    db = (zr - zt + s_rim * total) / (s_tim + s_rim)
    h = zt + s_tim * db - (zt + s_tr * db)
    return float(knife_edge_loss_db(fresnel_v(h, db, total - db, wavelength_m)))


def radio_factor(res_m: float, radio_cell_m: float) -> int:
    """DEM cells per radio cell side: the block size that makes cells of about ``radio_cell_m``."""
    return max(1, int(round(radio_cell_m / res_m)))


def link_box(
    shape: tuple[int, int],
    lander_rc: tuple[int, int],
    res_m: float,
    range_m: float,
    factor: int,
) -> tuple[int, int, int, int]:
    """Rows r0:r1, cols c0:c1 of the box the link is traced on.

    The free-space range around the lander, clipped to the grid; its top-left corner lies on a
    multiple of ``factor`` so that every path (in memory, in tiles) cuts the same radio cells.
    """
    reach = math.ceil(range_m / res_m) + factor + 1
    r, c = lander_rc
    r0 = max(0, (r - reach) // factor * factor)
    c0 = max(0, (c - reach) // factor * factor)
    return r0, min(shape[0], r + reach + 1), c0, min(shape[1], c + reach + 1)


@dataclass(frozen=True)
class LinkField:
    """Link margin and line of sight from the lander over the link box, on the radio grid.

    ``margin_db`` (float32, NaN where the radio cell has no data) and ``visible`` (uint8: the
    geometric line of sight from the lander's antenna to the rover's) are on a grid ``factor``
    times coarser than the DEM whose cell (0, 0) starts at grid index (``row0``, ``col0``);
    ``shape`` is the box in DEM cells. Outside the box there is no link.
    """

    margin_db: np.ndarray
    visible: np.ndarray
    row0: int
    col0: int
    shape: tuple[int, int]
    factor: int

    def window(self, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
        """Margin (float32, NaN outside the box) and sight (bool) on grid rows r0:r1, cols c0:c1."""
        margin = np.full((r1 - r0, c1 - c0), np.nan, dtype=np.float32)
        vis = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        br0, bc0 = max(r0, self.row0), max(c0, self.col0)
        br1 = min(r1, self.row0 + self.shape[0])
        bc1 = min(c1, self.col0 + self.shape[1])
        if br1 <= br0 or bc1 <= bc0:
            return margin, vis
        ii = (np.arange(br0, br1) - self.row0) // self.factor
        jj = (np.arange(bc0, bc1) - self.col0) // self.factor
        # rows first, then columns: two gathers along one axis each, several times faster than
        # one gather through an open mesh (np.ix_) of a 4096^2 window
        margin[br0 - r0 : br1 - r0, bc0 - c0 : bc1 - c0] = self.margin_db[ii][:, jj]
        vis[br0 - r0 : br1 - r0, bc0 - c0 : bc1 - c0] = (self.visible[ii] > 0)[:, jj]
        return margin, vis


def radio_grid(z: np.ndarray, factor: int) -> np.ndarray:
    """Heights averaged over radio cells of ``factor`` x ``factor`` DEM cells (NaN-aware).

    Rows cut in strips of a multiple of ``factor`` give the same cells as the whole box.
    """
    return _lk.block_mean(np.ascontiguousarray(z, dtype=np.float32), int(factor))


def link_field(
    zc: np.ndarray,
    box_origin: tuple[int, int],
    box_shape: tuple[int, int],
    lander_rc: tuple[int, int],
    res_m: float,
    factor: int,
    budget: LinkBudget,
    *,
    lander_antenna_m: float,
    rover_antenna_m: float,
    body_radius_m: float = MOON_RADIUS_M,
) -> LinkField:
    """Trace the link budget from the lander over the radio grid of a box of the DEM.

    Parameters
    ----------
    zc : ndarray
        The box's radio grid (:func:`radio_grid` of the box from :func:`link_box`).
    box_origin, box_shape : (row, col)
        Grid index of the box's first cell and its size in DEM cells.
    lander_rc : (row, col)
        Grid index of the lander's cell.
    res_m : float
        DEM pixel size.
    factor : int
        Radio cell side in DEM cells (:func:`radio_factor`).
    budget : LinkBudget
    lander_antenna_m, rover_antenna_m : float
        Antenna heights above the ground.
    """
    lr = (lander_rc[0] - box_origin[0]) // factor
    lc = (lander_rc[1] - box_origin[1]) // factor
    margin, vis = _lk.link_sweep(
        zc,
        res_m * factor,
        int(lr),
        int(lc),
        float(lander_antenna_m),
        float(rover_antenna_m),
        float(body_radius_m),
        budget.wavelength_m,
        budget.budget_db(),
    )
    return LinkField(
        margin, vis, int(box_origin[0]), int(box_origin[1]), tuple(box_shape), int(factor)
    )


__all__ = [
    "LinkBudget",
    "LinkField",
    "bullington_loss_db",
    "fresnel_v",
    "knife_edge_loss_db",
    "link_box",
    "link_field",
    "radio_factor",
    "radio_grid",
]
