"""Powered descent of a lander: dynamics, inertial navigation, laser range finder, rejection gate.

Both HAKUTO-R landers were lost in their last minutes. This module simulates the descent so
that such losses *emerge* from the sensor, the navigation logic and the propellant, and asks
the questions a team flying the next lander has: how late may the range finder lock on and the
lander still land? Which rejection threshold survives the terrain under the approach?

One run (:func:`simulate_descent`, kernels in :mod:`rover._descent_kernels`):

1. **Start** late in the main braking, on the guidance's own profile: ``start_downrange_m``
   before the target, ``start_altitude_m`` above it, flying towards it at the speed of the
   horizontal braking profile. Before this point the range finder cannot see the ground (its
   design range is ~3 km), so what the descent did earlier is summed up by the navigation
   errors drawn at the start and by the propellant left (rocket equation, below).
2. **Dynamics**: planar motion over the spherical Moon along the ground track (radial and
   tangential, with centrifugal and Coriolis terms) and a flat cross-track channel; thrust
   from the guidance within throttle limits; mass flow ``T / (Isp g0)``; the main engine down
   to ``terminal_gate_m`` (estimated), the smaller terminal thrusters below; free fall once the
   propellant is gone.
3. **Navigation**: the estimate is propagated with the accelerometer (bias drawn per run,
   white noise) and the same gravity model. The vertical channel is a two-state Kalman filter
   (altitude, vertical speed) updated by the range finder: the range is predicted from the
   estimate and the *onboard* terrain model (``onboard_terrain``: ``"flat"``, a plane at the
   target's elevation, as Mission 1's software effectively had; or ``"map"``, the terrain
   profile itself). The horizontal positions are held at their start error by map-relative
   fixes (the landing ellipse of :class:`~rover.touchdown.Dispersion`;
   ``horizontal_fixes=False`` leaves them inertial, drifting with the accelerometer); the
   horizontal speeds are inertial.
4. **Range finder**: 10 Hz, beam along the lander's thrust axis (so it looks ahead while the
   lander brakes), range found by marching the beam over the terrain profile of the ground
   track: a rim or a scarp changes the range, a cliff occludes what lies behind it. A return
   is valid when its link margin is positive: lidar equation for a Lambertian surface,
   ``P rho cos(i) / R^2`` relative to the design point (~3 km, published), minus an
   integration loss that grows with the range rate, minus the laser's power loss, plus a
   random fluctuation; plus random dropouts. Range noise proportional to the range.
5. **Gate**: while pulling in (first valid ranges) every valid range is used; after
   ``n_lock`` agreeing ranges in a row the filter is locked and a range that disagrees with
   the predicted one by more than ``gate_m`` is rejected; ``n_fail`` rejections in a row
   declare the range finder failed, and it is ignored for the rest of the descent.
6. **Guidance** on the estimate: horizontal speed ``sqrt(2 a_h d)`` (constant deceleration to
   the target), descent rate limited so the lander reaches ``h_gate_m`` as the horizontal
   braking ends, then the vertical profile ``v(h) = sqrt(v_f^2 + 2 a_p h)`` to touchdown; at
   an estimated altitude of zero it keeps descending at ``v_f`` until it touches.
7. **Outcome**: ``soft`` (contact at or below the legs' design speed), ``hard`` (up to twice
   that), ``crash`` (faster), or ``timeout``; the touchdown point, contact speeds and the
   telemetry table (true and estimated altitude, speeds, propellant, sensor and gate status).

Where every number comes from
-----------------------------
Lander (``rover/data/resilience.toml``, :class:`~rover.specs.LanderSpec`): launch mass ~1000 kg,
dry mass ~340 kg, payload capacity 30 kg, hydrazine/NTO propellants are **published**; specific
impulse 310 s, the delta-v spent before the descent (650 m/s), main-engine thrust 2000 N,
terminal-thruster thrust 1200 N (thrust-to-weight 2 at dry mass plus payload), the 30 %
throttle floor are **assumed**; the main engine stopping near 1 km with the terminal descent on
smaller thrusters is the **published** (broadcast) Mission 1 sequence. Mass at the start: the
rocket equation over the pre-descent delta-v plus the braking from the 100 km circular orbit
(published) to the start speed, with 10 % gravity losses (**assumed**).

Guidance (:class:`DescentScenario`, same for every scenario): the vertical profile passes
through the **published** Mission 2 plan (~44 m/s at ~900 m) and ends at 1.5 m/s (**assumed**
design touchdown speed); horizontal braking at 1.0 m/s^2 from 40 km out at 6 km (**assumed**:
with it the lander passes ~83 m/s about 3 km up at the end of the main braking, as the
broadcast sequence had it); the main braking ends at 3 km (**published** sequence).

Navigation: 1-sigma altitude knowledge 1 km at the start (**assumed**: a designer who asks the
range finder for its first range at ~3 km provisions for an estimate that can be off by about a
third of that), 1 m/s vertical speed, the landing ellipse of
:class:`~rover.touchdown.Dispersion` for the horizontal position, held there by map-relative
fixes throughout (**assumed**, as the ellipse always was: a lander that navigates with position
fixes), 0.1 m/s horizontal speed; accelerometer bias 100 micro-g and velocity random walk 0.05
m/s/sqrt(h) (**assumed**: tactical-grade IMU). Kalman filter: 0.05 m/s^2 process noise (it must
cover the accelerometer bias the filter does not estimate: the altitude lag b / w^2 stays below
0.5 m), 20 m terrain allowance in the range noise (**assumed**); the range corrects the vertical
speed only once the horizontal speed is below 5 m/s (a design choice: at speed the range rate
also carries the horizontal speed times the terrain slope, which a flat onboard model would take
for a descent rate).

Range finder: valid ranges from ~3 km by design (**published**) at 0.2 reflectance, normal
incidence and the planned descent rate at 3 km (**assumed** design conditions); 1 dB
fluctuation, 1 % dropouts, 0.5 s pulse integration in 15 m range bins, 0.5 % range noise
(**assumed**). Surface reflectance at 1064 nm: 0.2 for the mare of Frigoris and 0.3 for Atlas
(**assumed**, from the range of LOLA normal albedo of maria and highlands). Gate 500 m, lock
after 10 agreeing ranges, failure after 10 rejections in a row (**assumed**: 500 m is five
times the relief of a mare approach and a sixth of the 3 km design range, so it passes
terrain a mare site has and rejects a grossly wrong range; the counts are one second at 10 Hz).

Scenarios (:func:`scenario`), parameter sets, never outcome targets:

``nominal``
    Mission 2's approach to Mare Frigoris (LOLA profile of the last 70 km of a southbound
    ground track, **assumed** polar orbit), healthy range finder.
``mission-2``
    The same approach with a degraded range finder: its power 13.4 dB below design
    (:data:`MISSION2_LRF_POWER_LOSS_DB`). ispace did not narrow down the cause (reflectance,
    incidence, laser power, speed, space environment) nor its size, so the size is
    **calibrated**, declared: the loss at which the median simulated first valid range comes at
    the published ~900 m. The first-valid altitude is therefore *not* a check; the descent
    rate at that moment, at ~192 m, the crash and where it happens are.
``mission-1``
    Healthy range finder over Atlas crater (target 47.5 N, 44.4 E, **published**): a
    southbound track crosses the north rim 19 km before the target (crater centre 46.7 N,
    diameter 87 km, **published**). The LOLA grid (7.6 km pixels) shows the rim's wall only as
    a ramp ~15 km wide, where the account describes a cliff that made the range jump; so the
    profile is LOLA's, with the wall drawn as a cliff at the rim from LOLA's crest down to
    LOLA's floor (1.8 km; the published cliff is ~3 km, which LOLA's pixels average down).
    Onboard terrain model: flat at the target (the software "had not been simulated over the
    terrain of the new landing site", **published**). Start 5 km up
    (:data:`MISSION1_START_ALTITUDE_M`, from the account: the range finder was ranging while
    the lander crossed the rim).

Published telemetry (``DOMAIN.md``) is used only as a check: Mission 2, first valid range
below ~900 m at ~66 m/s, ~42 m/s at ~192 m, crash, impact 282 m S and 236 m E of the target;
Mission 1, estimated altitude zero while ~5 km up, slow descent until the propellant ran out,
free fall, crash.

Determinism: a run depends only on its seed (its own ``numpy.random.default_rng(seed)``, every
random number drawn in a fixed order whether used or not); a batch of ``runs`` takes its run
seeds from ``numpy.random.SeedSequence(seed)`` and flies them on a pool of threads; distributed
batches split into seeded chunks as :func:`~rover.touchdown.simulate_touchdown_distributed`
does.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import pathlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import numpy as np

from frigoris.terrain.crs import MOON_RADIUS_M

from . import _descent_kernels as K
from .errors import TouchdownError
from .progress import ProgressCallback
from .specs import LUNAR_GRAVITY_M_S2, RESILIENCE, LanderSpec

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

DescentScenarioName = Literal["nominal", "mission-2", "mission-1"]
SCENARIO_NAMES: tuple[str, ...] = ("nominal", "mission-2", "mission-1")
OUTCOMES: tuple[str, ...] = K.OUTCOME_CODES
"""Descent outcomes: ``soft``, ``hard``, ``crash``, ``timeout``."""

ORBIT_ALTITUDE_M = 100_000.0
"""Circular orbit the descent starts from (published for both missions)."""
BRAKING_GRAVITY_LOSS = 0.10
"""Gravity losses of the main braking as a fraction of the speed shed (assumed)."""

MISSION1_START_ALTITUDE_M = 5_000.0
"""Mission 1's start, 40 km before the target (assumed, from the published account).

The account says the range finder was ranging while the lander crossed the rim. At the braking
tilt (~32 deg) the healthy range finder reaches ~3 km above Atlas; on the braking profile from
5 km the lander passes ~2.4 km above LOLA's crest, inside that reach (from 6 km, as the other
scenarios start, it would pass ~3.5 km above it, mostly out of reach).
"""

MISSION2_LRF_POWER_LOSS_DB = 13.4
"""Mission 2's range-finder degradation (dB below design): calibrated, declared.

The one scenario parameter taken from the published account: the loss at which the median
simulated first valid range comes at the published ~900 m (:func:`calibrate_acquisition`,
400 runs, seed 0; ``tests/rover/test_descent.py`` re-runs it). ispace did not narrow the
cause down, so its size has no other evidence. The checks that stay independent: the descent
rate at that moment, at ~192 m, the crash, the impact point.
"""

MISSION2_PLANNED_POINT = (900.0, 44.0)
"""Published Mission 2 plan: ~44 m/s descent rate at ~900 m (briefing of 2025-06-23)."""

PUBLISHED: dict[str, dict[str, float]] = {
    "mission-2": {
        "first_valid_altitude_m": 900.0,
        "first_valid_speed_m_s": 66.0,
        "probe_altitude_m": 192.0,
        "probe_speed_m_s": 42.0,
        "impact_east_m": 236.0,
        "impact_north_m": -282.0,
    },
    "mission-1": {"est_zero_altitude_m": 5000.0},
}
"""Published telemetry of the two losses (``DOMAIN.md``): checks of the model, never inputs."""

THREADS = os.cpu_count() or 1
"""Threads a batch of descents runs on (records do not depend on it)."""

PROBE_ALTITUDES_M: tuple[float, ...] = (192.0, 900.0)
"""Altitudes (above ground) at which every run records its descent rate."""


# --------------------------------------------------------------------------------------------
# terrain under the approach


@dataclass(frozen=True, eq=False)
class ApproachProfile:
    """Terrain along the ground track: height relative to the target, sampled every ``dx_m``.

    Attributes
    ----------
    name : str
    x0_m : float
        Along-track coordinate of the first sample (target at 0, the lander flies towards +x).
    dx_m : float
    z_m : ndarray of shape (N,)
        Height above the target's elevation (m).
    target_elevation_m : float
        The target's elevation above the 1,737,400 m sphere.
    source : str
    """

    name: str
    x0_m: float
    dx_m: float
    z_m: np.ndarray
    target_elevation_m: float
    source: str = ""

    @property
    def x_m(self) -> np.ndarray:
        """Along-track coordinate of every sample."""
        return self.x0_m + self.dx_m * np.arange(self.z_m.size)

    def at(self, x_m) -> np.ndarray:
        """Height at along-track ``x_m`` (linear, clamped at the ends)."""
        return np.interp(x_m, self.x_m, self.z_m)

    @classmethod
    def flat(cls, length_m: float = 80_000.0, dx_m: float = 50.0) -> ApproachProfile:
        """A plane at the target's elevation (the 1,737,400 m sphere)."""
        n = int(round(length_m / dx_m)) + 1
        return cls("flat", -(length_m - 10_000.0), dx_m, np.zeros(n), 0.0, "a plane")


PROFILE_FILE = "approach_profiles.json"


def load_profile(name: str) -> ApproachProfile:
    """A terrain profile shipped in ``rover/data/approach_profiles.json`` (or ``"flat"``)."""
    if name == "flat":
        return ApproachProfile.flat()
    doc = json.loads(resources.files("frigoris.rover.data").joinpath(PROFILE_FILE).read_text())
    if name not in doc["profiles"]:
        raise TouchdownError(
            f"unknown approach terrain {name!r}; choose one of {sorted(doc['profiles'])} or flat"
        )
    p = doc["profiles"][name]
    return ApproachProfile(
        name,
        float(p["x0_m"]),
        float(p["dx_m"]),
        np.asarray(p["z_m"], dtype=np.float64),
        float(p["target_elevation_m"]),
        p["source"],
    )


FRIGORIS_TARGET = (60.5, -4.6)
"""Mission 2 target (published)."""
ATLAS_TARGET = (47.5, 44.4)
"""Mission 1 target (published, about)."""
ATLAS_CENTRE = (46.7, 44.4)
"""Centre of Atlas crater (IAU gazetteer)."""
ATLAS_DIAMETER_M = 87_000.0
"""Diameter of Atlas crater (IAU gazetteer)."""
RIM_FLOOR_TOLERANCE_M = 100.0
"""Inside Atlas's rim, the floor starts where LOLA comes within this of the target's height."""
PROFILE_SPAN_M = (-70_000.0, 10_000.0)
PROFILE_DX_M = 50.0


def _track_samples(dem, target_latlon, s):
    """LOLA heights (relative to the target) at along-track ``s`` of a southbound track."""
    from scipy import ndimage

    from frigoris.terrain.crs import lunar_to_crs

    tx, ty = lunar_to_crs(dem.crs, *target_latlon)
    b = dem.bounds
    z = np.asarray(dem.elevation, dtype=np.float64)

    def sample(xs, ys):
        cols = (np.asarray(xs) - b.left) / dem.res_m - 0.5
        rows = (b.top - np.asarray(ys)) / dem.res_m - 0.5
        return ndimage.map_coordinates(z, [rows, cols], order=1, mode="nearest")

    z0 = float(sample([tx], [ty])[0])
    # southbound: uprange (s < 0) lies north (+y) of the target
    return sample(np.full(s.shape, tx), ty - s) - z0, z0


def build_approach_profiles(frigoris_dem_path, atlas_dem_path) -> dict[str, Any]:
    """Build the shipped approach profiles from the two LOLA LDEM_4 crops (examples/data).

    ``frigoris``: LOLA along a southbound track into 60.5 N, 4.6 W. ``atlas-lola``: LOLA along
    a southbound track into 47.5 N, 44.4 E (for comparison only). ``atlas-rim``: that track with
    the rim wall of Atlas drawn as a cliff: LOLA outside the rim (published centre and
    diameter), LOLA's floor height from the rim to where LOLA's floor starts.

    Returns
    -------
    dict
        The JSON document written to ``rover/data/approach_profiles.json``.
    """
    from frigoris.terrain import read_dem

    s = np.arange(PROFILE_SPAN_M[0], PROFILE_SPAN_M[1] + 0.5 * PROFILE_DX_M, PROFILE_DX_M)
    out: dict[str, Any] = {
        "what": "terrain along the approach ground track, height relative to the target (m)",
        "generated_by": "frigoris.rover.descent.build_approach_profiles",
        "profiles": {},
    }
    fr = read_dem(frigoris_dem_path, around=FRIGORIS_TARGET, size_m=180_000.0)
    zf, zf0 = _track_samples(fr, FRIGORIS_TARGET, s)
    at = read_dem(atlas_dem_path, around=ATLAS_TARGET, size_m=180_000.0)
    za, za0 = _track_samples(at, ATLAS_TARGET, s)
    # the rim: 19 km north of the target on a southbound track (centre and diameter published);
    # LOLA's 7.6 km pixels spread the wall over ~15 km. Keep LOLA outside the rim; inside,
    # the floor: LOLA's value where the floor starts (first sample south of the rim within
    # RIM_FLOOR_TOLERANCE_M of the target's height), so the wall becomes a cliff
    s_centre = math.radians(ATLAS_TARGET[0] - ATLAS_CENTRE[0]) * MOON_RADIUS_M
    s_rim = s_centre - 0.5 * ATLAS_DIAMETER_M
    inside = s >= s_rim
    floor_start = np.flatnonzero(inside & (np.abs(za) <= RIM_FLOOR_TOLERANCE_M))[0]
    rim = np.where(inside & (s < s[floor_start]), za[floor_start], za)
    cliff = float(np.interp(s_rim - PROFILE_DX_M, s, za) - za[floor_start])
    common = {"x0_m": float(s[0]), "dx_m": PROFILE_DX_M}
    out["profiles"]["frigoris"] = {
        **common,
        "target_elevation_m": round(zf0, 2),
        "source": "LOLA LDEM_4 (7.6 km px), southbound track into 60.5 N 4.6 W, bilinear",
        "z_m": [round(float(v), 2) for v in zf],
    }
    out["profiles"]["atlas-lola"] = {
        **common,
        "target_elevation_m": round(za0, 2),
        "source": "LOLA LDEM_4 (7.6 km px), southbound track into 47.5 N 44.4 E, bilinear",
        "z_m": [round(float(v), 2) for v in za],
    }
    out["profiles"]["atlas-rim"] = {
        **common,
        "target_elevation_m": round(za0, 2),
        "source": (
            "LOLA LDEM_4 on the same track, with the rim wall of Atlas (centre 46.7 N 44.4 E, "
            f"D 87 km) drawn as a cliff {s_rim / 1000:.2f} km from the target: {cliff:.0f} m "
            "from LOLA's crest to LOLA's floor"
        ),
        "rim_m": round(s_rim, 1),
        "cliff_m": round(cliff, 1),
        "z_m": [round(float(v), 2) for v in rim],
    }
    return out


def write_approach_profiles(frigoris_dem_path, atlas_dem_path, path) -> pathlib.Path:
    """Write :func:`build_approach_profiles` as JSON (atomically)."""
    from frigoris.terrain.io import write_text

    doc = build_approach_profiles(frigoris_dem_path, atlas_dem_path)
    return write_text(path, json.dumps(doc, indent=1) + "\n")


# --------------------------------------------------------------------------------------------
# scenarios


@dataclass(frozen=True)
class DescentScenario:
    """One descent scenario: terrain, range finder, navigation logic and guidance design.

    Every default is the design shared by all scenarios (see the module notes for sources);
    a scenario changes only what differs physically. Units in the names.
    """

    name: str
    terrain: str | ApproachProfile = "frigoris"
    reflectance: float = 0.2
    lrf_power_loss_db: float = 0.0
    gate_m: float = 500.0
    onboard_terrain: Literal["flat", "map"] = "flat"
    start_downrange_m: float = 40_000.0
    start_altitude_m: float = 6_000.0
    # guidance
    braking_decel_m_s2: float = 1.0
    braking_gate_m: float = 3_000.0
    planned_point: tuple[float, float] = MISSION2_PLANNED_POINT
    final_speed_m_s: float = 1.5
    velocity_tau_s: float = 2.0
    position_tau_s: float = 10.0
    vertical_within_m: float = 100.0
    # navigation
    sigma_altitude_m: float = 1_000.0
    sigma_vertical_speed_m_s: float = 1.0
    sigma_horizontal_speed_m_s: float = 0.1
    accel_bias_m_s2: float = 1.0e-3
    accel_noise_m_s15: float = 0.05 / 60.0
    filter_accel_m_s2: float = 0.05
    filter_terrain_m: float = 20.0
    filter_corrects_speed: bool = True
    filter_speed_below_m_s: float = 5.0
    horizontal_fixes: bool = True
    # range finder
    lrf_hz: float = 10.0
    lrf_design_range_m: float = 3_000.0
    lrf_design_reflectance: float = 0.2
    lrf_fluctuation_db: float = 1.0
    lrf_dropout: float = 0.01
    lrf_integration_s: float = 0.5
    lrf_range_bin_m: float = 15.0
    lrf_sigma_rel: float = 0.005
    lrf_sigma_abs_m: float = 0.5
    lrf_max_range_m: float = 10_000.0
    lock_count: int = 10
    fail_count: int = 10
    # integration
    dt_s: float = 0.1
    t_max_s: float = 1_800.0
    notes: str = field(default="", compare=False)

    def validate(self) -> None:
        """Raise TouchdownError naming the first impossible value."""
        positive = (
            "reflectance",
            "gate_m",
            "start_downrange_m",
            "start_altitude_m",
            "braking_decel_m_s2",
            "final_speed_m_s",
            "velocity_tau_s",
            "position_tau_s",
            "lrf_hz",
            "lrf_design_range_m",
            "lrf_design_reflectance",
            "lrf_integration_s",
            "lrf_range_bin_m",
            "lrf_max_range_m",
            "filter_accel_m_s2",
            "dt_s",
            "t_max_s",
        )
        for n in positive:
            v = getattr(self, n)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise TouchdownError(f"descent scenario {self.name}: {n} must be > 0, got {v!r}")
        for n in (
            "lrf_power_loss_db",
            "braking_gate_m",
            "sigma_altitude_m",
            "sigma_vertical_speed_m_s",
            "sigma_horizontal_speed_m_s",
            "accel_bias_m_s2",
            "accel_noise_m_s15",
            "filter_terrain_m",
            "lrf_fluctuation_db",
            "lrf_sigma_rel",
            "lrf_sigma_abs_m",
            "vertical_within_m",
        ):
            v = getattr(self, n)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise TouchdownError(f"descent scenario {self.name}: {n} must be >= 0, got {v!r}")
        if not 0 <= self.lrf_dropout < 1:
            raise TouchdownError(
                f"descent scenario {self.name}: lrf_dropout {self.lrf_dropout} must be in [0, 1)"
            )
        if not isinstance(self.terrain, str | ApproachProfile):
            raise TouchdownError(
                f"descent scenario {self.name}: terrain must be a profile name or an "
                f"ApproachProfile, got {type(self.terrain).__name__}"
            )
        if self.onboard_terrain not in ("flat", "map"):
            raise TouchdownError(
                f"descent scenario {self.name}: onboard_terrain {self.onboard_terrain!r} "
                "must be 'flat' or 'map'"
            )
        for n in ("lock_count", "fail_count"):
            v = getattr(self, n)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise TouchdownError(f"descent scenario {self.name}: {n} must be >= 1, got {v!r}")
        h, v = self.planned_point
        if not (h > 0 and v > self.final_speed_m_s):
            raise TouchdownError(
                f"descent scenario {self.name}: planned_point {self.planned_point} must be "
                "(altitude > 0, speed above final_speed_m_s)"
            )
        if self.dt_s * self.lrf_hz > 1.0:
            raise TouchdownError(
                f"descent scenario {self.name}: dt_s {self.dt_s} is longer than a range-finder "
                f"period (1 / {self.lrf_hz} Hz); use dt_s <= {1.0 / self.lrf_hz:g}"
            )

    @property
    def profile_decel_m_s2(self) -> float:
        """Deceleration of the vertical profile through the planned point."""
        h, v = self.planned_point
        return (v * v - self.final_speed_m_s**2) / (2.0 * h)

    def profile_speed(self, altitude_m) -> np.ndarray:
        """Planned descent rate (m/s) at an altitude: ``sqrt(v_f^2 + 2 a_p h)``."""
        h = np.maximum(np.asarray(altitude_m, dtype=np.float64), 0.0)
        return np.sqrt(self.final_speed_m_s**2 + 2.0 * self.profile_decel_m_s2 * h)

    def acquisition_range_m(self) -> float:
        """Slant range of valid returns at the design conditions but this site and power."""
        return self.lrf_design_range_m * 10.0 ** (
            (
                10.0 * math.log10(self.reflectance / self.lrf_design_reflectance)
                - self.lrf_power_loss_db
            )
            / 20.0
        )

    def with_acquisition_range(self, range_m: float) -> DescentScenario:
        """The same scenario with the laser power set so valid returns start at ``range_m``.

        At this site's reflectance, normal incidence and the design speed (a trade-curve knob).
        """
        if not range_m > 0:
            raise TouchdownError(f"acquisition range must be > 0 m, got {range_m!r}")
        loss = 20.0 * math.log10(self.lrf_design_range_m / range_m) + 10.0 * math.log10(
            self.reflectance / self.lrf_design_reflectance
        )
        return dataclasses.replace(self, lrf_power_loss_db=loss)


def scenario(name: str | DescentScenario) -> DescentScenario:
    """A named scenario (``nominal``, ``mission-2``, ``mission-1``) or a given one, validated."""
    if isinstance(name, DescentScenario):
        name.validate()
        return name
    key = str(name).lower().replace("_", "-")
    if key == "nominal":
        s = DescentScenario("nominal", notes="Mare Frigoris approach, healthy range finder")
    elif key == "mission-2":
        s = DescentScenario(
            "mission-2",
            lrf_power_loss_db=MISSION2_LRF_POWER_LOSS_DB,
            notes="Mare Frigoris approach, range finder 13.4 dB below design (degraded)",
        )
    elif key == "mission-1":
        s = DescentScenario(
            "mission-1",
            terrain="atlas-rim",
            reflectance=0.3,
            start_altitude_m=MISSION1_START_ALTITUDE_M,
            notes="Atlas approach over the rim cliff, healthy range finder, flat onboard model",
        )
    else:
        raise TouchdownError(
            f"unknown descent scenario {name!r}; choose one of {list(SCENARIO_NAMES)}"
        )
    s.validate()
    return s


# --------------------------------------------------------------------------------------------
# mass budget and parameter vector


def check_descent_lander(lander: LanderSpec) -> None:
    """Raise TouchdownError unless ``lander`` is a valid spec with every descent field."""
    if not isinstance(lander, LanderSpec):
        raise TouchdownError(f"lander must be a LanderSpec, got {type(lander).__name__}")
    lander.validate()
    missing = lander.descent_missing()
    if missing:
        raise TouchdownError(
            f"lander {lander.name} lacks the descent field(s) {missing}; add them to its spec "
            "file (see rover/data/resilience.toml)"
        )


def start_speed_m_s(sc: DescentScenario) -> float:
    """Horizontal speed at the start: the braking profile ``sqrt(2 a_h d)``."""
    return math.sqrt(2.0 * sc.braking_decel_m_s2 * sc.start_downrange_m)


def start_mass_kg(lander: LanderSpec, sc: DescentScenario) -> float:
    """Mass at the start: rocket equation over the pre-descent delta-v and the braking so far.

    The braking sheds the 100 km circular orbit speed down to the start speed, plus
    :data:`BRAKING_GRAVITY_LOSS` of it.
    """
    mu = LUNAR_GRAVITY_M_S2 * MOON_RADIUS_M**2
    v_orbit = math.sqrt(mu / (MOON_RADIUS_M + ORBIT_ALTITUDE_M))
    dv = lander.predescent_delta_v_m_s + (v_orbit - start_speed_m_s(sc)) * (
        1.0 + BRAKING_GRAVITY_LOSS
    )
    m = lander.launch_mass_kg * math.exp(-dv / (lander.isp_s * K.G0))
    dry = lander.dry_mass_kg + lander.payload_mass_kg
    if m <= dry:
        raise TouchdownError(
            f"lander {lander.name}: the propellant budget is spent before the descent starts "
            f"({m:.0f} kg <= {dry:g} kg dry + payload); check launch_mass_kg, isp_s and "
            "predescent_delta_v_m_s"
        )
    return m


def param_vector(
    sc: DescentScenario,
    lander: LanderSpec,
    profile: ApproachProfile,
    *,
    sigma_along_m: float = 50.0,
    sigma_cross_m: float = 30.0,
) -> np.ndarray:
    """The kernel's parameter vector (names in :data:`rover._descent_kernels.PARAM_NAMES`)."""
    r_ref = MOON_RADIUS_M + profile.target_elevation_m
    mu = LUNAR_GRAVITY_M_S2 * MOON_RADIUS_M**2
    values = {
        "dt_s": sc.dt_s,
        "t_max_s": sc.t_max_s,
        "mu_m3_s2": mu,
        "r_ref_m": r_ref,
        "start_downrange_m": sc.start_downrange_m,
        "start_altitude_m": sc.start_altitude_m,
        "mass0_kg": start_mass_kg(lander, sc),
        "dry_total_kg": lander.dry_mass_kg + lander.payload_mass_kg,
        "isp_s": lander.isp_s,
        "max_thrust_n": lander.max_thrust_n,
        "terminal_thrust_n": lander.terminal_thrust_n,
        "terminal_gate_m": lander.terminal_gate_m,
        "min_throttle": lander.min_throttle,
        "a_h_m_s2": sc.braking_decel_m_s2,
        "h_gate_m": sc.braking_gate_m,
        "a_p_m_s2": sc.profile_decel_m_s2,
        "v_f_m_s": sc.final_speed_m_s,
        "tau_v_s": sc.velocity_tau_s,
        "tau_x_s": sc.position_tau_s,
        "d_vertical_m": sc.vertical_within_m,
        "sigma_h0_m": sc.sigma_altitude_m,
        "sigma_vz0_m_s": sc.sigma_vertical_speed_m_s,
        "sigma_x0_m": sigma_along_m,
        "sigma_vx0_m_s": sc.sigma_horizontal_speed_m_s,
        "sigma_c0_m": sigma_cross_m,
        "sigma_vc0_m_s": sc.sigma_horizontal_speed_m_s,
        "accel_bias_m_s2": sc.accel_bias_m_s2,
        "accel_noise_m_s15": sc.accel_noise_m_s15,
        "kf_accel_m_s2": sc.filter_accel_m_s2,
        "kf_terrain_m": sc.filter_terrain_m,
        "lrf_hz": sc.lrf_hz,
        "lrf_design_range_m": sc.lrf_design_range_m,
        "lrf_design_reflectance": sc.lrf_design_reflectance,
        "lrf_design_speed_m_s": float(sc.profile_speed(sc.lrf_design_range_m)),
        "lrf_power_loss_db": sc.lrf_power_loss_db,
        "reflectance": sc.reflectance,
        "lrf_fluct_db": sc.lrf_fluctuation_db,
        "lrf_dropout": sc.lrf_dropout,
        "lrf_integration_s": sc.lrf_integration_s,
        "lrf_range_bin_m": sc.lrf_range_bin_m,
        "lrf_sigma_rel": sc.lrf_sigma_rel,
        "lrf_sigma_abs_m": sc.lrf_sigma_abs_m,
        "lrf_max_range_m": sc.lrf_max_range_m,
        "gate_m": sc.gate_m,
        "n_lock": float(sc.lock_count),
        "n_fail": float(sc.fail_count),
        "onboard_map": 1.0 if sc.onboard_terrain == "map" else 0.0,
        "kf_speed": 1.0 if sc.filter_corrects_speed else 0.0,
        "kf_speed_below_m_s": sc.filter_speed_below_m_s,
        "horizontal_fixes": 1.0 if sc.horizontal_fixes else 0.0,
        "soft_m_s": lander.max_vertical_speed_m_s,
        "hard_m_s": 2.0 * lander.max_vertical_speed_m_s,
    }
    return np.array([float(values[n]) for n in K.PARAM_NAMES], dtype=np.float64)


def track_to_east_north(along_m, cross_m, heading_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """East and north offsets of points along and across a ground track.

    ``along_m`` is past the target along a track flown towards azimuth ``heading_deg``
    (clockwise from north), ``cross_m`` to the right of it.
    """
    h = math.radians(heading_deg % 360.0)
    along = np.asarray(along_m, dtype=np.float64)
    cross = np.asarray(cross_m, dtype=np.float64)
    return (
        along * math.sin(h) + cross * math.cos(h),
        along * math.cos(h) - cross * math.sin(h),
    )


def run_seeds(seed: int, runs: int) -> np.ndarray:
    """Per-run seeds of a batch: ``runs`` words of ``SeedSequence(seed)``."""
    return (
        np.random.SeedSequence(int(seed))
        .generate_state(int(runs), dtype=np.uint32)
        .astype(np.int64)
    )


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, eq=False)
class Telemetry:
    """Descent telemetry at the range finder's rate, one column per quantity.

    Columns (:data:`rover._descent_kernels.TELEMETRY_NAMES`): ``t_s``; true ``altitude_m``
    (above the target's elevation) and ``agl_m`` (above the ground below); ``est_altitude_m``
    (the navigation's, above the target); ``ground_m``; ``v_down_m_s`` and ``est_v_down_m_s``
    (descent rate, positive down); ``v_along_m_s``; ``downrange_m`` and ``est_downrange_m``
    (distance still to fly to the target); ``cross_m``; ``mass_kg``; ``propellant_kg``;
    ``thrust_n``; ``tilt_deg`` (thrust axis from vertical, also the beam's off-nadir angle);
    ``range_m`` (measured, NaN without a valid return); ``range_status`` (0 none, 1 no valid
    return, 2 accepted, 3 rejected by the gate, 4 ignored: sensor declared failed);
    ``nav_mode`` (0 inertial, 1 pulling in, 2 locked, 3 range finder failed); ``phase``
    (0 main engine, 1 terminal thrusters, 2 propellant exhausted). The last row is contact.
    """

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["t_s"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def to_csv(self) -> str:
        """CSV text: a header row, then one row per sample (NaN written empty)."""
        names = list(self.columns)
        lines = [",".join(names)]
        cols = [self.columns[n] for n in names]
        integer = {"range_status", "nav_mode", "phase"}
        for i in range(len(self)):
            cells = []
            for n, c in zip(names, cols, strict=True):
                v = float(c[i])
                if not math.isfinite(v):
                    cells.append("")
                elif n in integer:
                    cells.append(str(int(v)))
                else:
                    cells.append(f"{v:.3f}")
            lines.append(",".join(cells))
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DescentRun:
    """How one descent ended, and the moments that explain it (NaN: never happened).

    Attributes
    ----------
    seed : int
    outcome : str
        ``soft``, ``hard``, ``crash`` or ``timeout``.
    t_contact_s, v_vertical_m_s, v_horizontal_m_s : float
        Time and speeds at contact (vertical positive down).
    along_m, cross_m : float
        Contact point along the ground track (past the target > 0) and to its right.
    propellant_kg : float
        Left at contact.
    first_valid_altitude_m, first_valid_speed_m_s, first_valid_nav_error_m, first_valid_range_m
        True height above ground, descent rate, estimated minus true altitude, and range at
        the first valid range-finder return.
    sensor_failed_t_s, sensor_failed_altitude_m : float
        When (and how high) the navigation declared the range finder failed.
    est_zero_t_s, est_zero_altitude_m : float
        When the estimated altitude first reached zero, and the true height then.
    propellant_out_t_s, propellant_out_altitude_m : float
    n_rejected : int
        Ranges rejected by the gate.
    lock_t_s : float
        When the filter locked on (gate active).
    probe_speeds_m_s : tuple of float
        Descent rate when passing each of :data:`PROBE_ALTITUDES_M` above ground.
    """

    seed: int
    outcome: str
    t_contact_s: float
    v_vertical_m_s: float
    v_horizontal_m_s: float
    along_m: float
    cross_m: float
    propellant_kg: float
    first_valid_altitude_m: float
    first_valid_speed_m_s: float
    first_valid_nav_error_m: float
    first_valid_range_m: float
    sensor_failed_t_s: float
    sensor_failed_altitude_m: float
    est_zero_altitude_m: float
    est_zero_t_s: float
    propellant_out_t_s: float
    propellant_out_altitude_m: float
    n_rejected: int
    lock_t_s: float
    probe_speeds_m_s: tuple[float, ...] = ()

    @classmethod
    def from_row(cls, seed: int, row: np.ndarray) -> DescentRun:
        """Build from one kernel summary row."""
        names = K.SUMMARY_NAMES
        vals = {n: float(row[i]) for i, n in enumerate(names)}
        vals["outcome"] = OUTCOMES[int(vals["outcome"])]
        vals["n_rejected"] = int(vals["n_rejected"])
        probes = tuple(float(v) for v in row[K.N_SUMMARY :])
        return cls(seed=int(seed), **vals, probe_speeds_m_s=probes)

    @property
    def soft(self) -> bool:
        """Contact at or below the legs' design speed."""
        return self.outcome == "soft"

    @property
    def sensor_failed(self) -> bool:
        """The navigation declared the range finder failed during the descent."""
        return math.isfinite(self.sensor_failed_t_s)

    @property
    def reason(self) -> str:
        """One line: what happened, in the order it happened."""
        parts = []
        if math.isfinite(self.first_valid_altitude_m):
            parts.append(
                f"first valid range {self.first_valid_altitude_m:.0f} m up at "
                f"{self.first_valid_speed_m_s:.0f} m/s (estimate "
                f"{self.first_valid_nav_error_m:+.0f} m off)"
            )
        else:
            parts.append("no valid range all the way down")
        if self.sensor_failed:
            parts.append(
                f"range finder declared failed {self.sensor_failed_altitude_m:.0f} m up "
                f"after {self.n_rejected} rejected ranges"
            )
        if math.isfinite(self.est_zero_altitude_m) and self.est_zero_altitude_m > 50.0:
            parts.append(f"estimated altitude zero {self.est_zero_altitude_m:.0f} m up")
        if math.isfinite(self.propellant_out_altitude_m):
            parts.append(f"propellant exhausted {self.propellant_out_altitude_m:.0f} m up")
        if self.outcome == "timeout":
            parts.append("still flying at the time limit")
        else:
            parts.append(
                f"{self.outcome} contact at {self.v_vertical_m_s:.1f} m/s "
                f"({self.v_horizontal_m_s:.1f} m/s sideways)"
            )
        return "; ".join(parts)


@dataclass(frozen=True, eq=False)
class DescentResult:
    """One simulated descent: its run summary, telemetry table and terrain profile."""

    scenario: DescentScenario
    lander: str
    run: DescentRun
    telemetry: Telemetry
    profile: ApproachProfile


@dataclass(frozen=True, eq=False)
class DescentBatch:
    """Many descents of one scenario.

    Attributes
    ----------
    scenario : DescentScenario
    lander : str
    seed : int
        Master seed.
    seeds : ndarray of int64, shape (R,)
        Per-run seeds.
    table : ndarray, shape (R, len(SUMMARY_NAMES) + len(PROBE_ALTITUDES_M))
        Kernel summary rows (column names: :meth:`column`).
    """

    scenario: DescentScenario
    lander: str
    seed: int
    seeds: np.ndarray
    table: np.ndarray

    def __len__(self) -> int:
        return int(self.seeds.size)

    def column(self, name: str) -> np.ndarray:
        """One summary column by name, or ``speed_at_<h>m`` for a probe altitude."""
        if name in K.SUMMARY_NAMES:
            return self.table[:, K.SUMMARY_NAMES.index(name)]
        for k, h in enumerate(PROBE_ALTITUDES_M):
            if name == f"speed_at_{h:g}m":
                return self.table[:, K.N_SUMMARY + k]
        raise KeyError(name)

    @property
    def outcomes(self) -> np.ndarray:
        """Outcome name per run."""
        return np.asarray(OUTCOMES, dtype=object)[self.table[:, 0].astype(int)]

    @property
    def counts(self) -> dict[str, int]:
        """Runs per descent outcome, every outcome listed."""
        codes = self.table[:, 0].astype(int)
        return {o: int(np.sum(codes == i)) for i, o in enumerate(OUTCOMES)}

    @property
    def fractions(self) -> dict[str, float]:
        """Share of runs per outcome."""
        n = max(len(self), 1)
        return {k: v / n for k, v in self.counts.items()}

    @property
    def p_soft(self) -> float:
        """Share of soft contacts."""
        return self.fractions["soft"]

    def run(self, i: int) -> DescentRun:
        """Run ``i`` as a :class:`DescentRun`."""
        return DescentRun.from_row(int(self.seeds[i]), self.table[i])

    def runs(self) -> tuple[DescentRun, ...]:
        """Every run."""
        return tuple(self.run(i) for i in range(len(self)))

    def summary(self) -> dict[str, Any]:
        """Plain numbers: outcome shares and medians of the moments that explain them."""

        def med(name, mask=None):
            v = self.column(name)
            v = v[mask] if mask is not None else v
            v = v[np.isfinite(v)]
            return round(float(np.median(v)), 1) if v.size else None

        crash = self.table[:, 0] == OUTCOMES.index("crash")
        s: dict[str, Any] = {"scenario": self.scenario.name, "runs": len(self)}
        s.update({k: round(v, 4) for k, v in self.fractions.items()})
        s["p_sensor_failed"] = round(
            float(np.mean(np.isfinite(self.column("sensor_failed_t_s")))), 4
        )
        s["median_first_valid_altitude_m"] = med("first_valid_altitude_m")
        s["median_contact_speed_m_s"] = med("v_vertical_m_s")
        s["median_crash_speed_m_s"] = med("v_vertical_m_s", crash)
        s["median_crash_first_valid_speed_m_s"] = med("first_valid_speed_m_s", crash)
        for h in PROBE_ALTITUDES_M:
            s[f"median_crash_speed_at_{h:g}m_m_s"] = med(f"speed_at_{h:g}m", crash)
        s["median_crash_est_zero_altitude_m"] = med("est_zero_altitude_m", crash)
        s["median_crash_propellant_out_altitude_m"] = med("propellant_out_altitude_m", crash)
        return s


# --------------------------------------------------------------------------------------------
# simulation


def _prepare(sc, lander, sigma_along_m, sigma_cross_m):
    sc = scenario(sc)
    check_descent_lander(lander)
    for name, v in (("sigma_along_m", sigma_along_m), ("sigma_cross_m", sigma_cross_m)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
            raise TouchdownError(f"{name} must be a number >= 0, got {v!r}")
    prof = sc.terrain if isinstance(sc.terrain, ApproachProfile) else load_profile(sc.terrain)
    p = param_vector(sc, lander, prof, sigma_along_m=sigma_along_m, sigma_cross_m=sigma_cross_m)
    onboard = prof.z_m if sc.onboard_terrain == "map" else np.zeros_like(prof.z_m)
    return sc, prof, p, (K.envelope(prof.z_m), onboard, K.envelope(onboard))


def simulate_descent(
    sc: DescentScenario | str = "nominal",
    lander: LanderSpec = RESILIENCE,
    *,
    seed: int = 0,
    sigma_along_m: float = 50.0,
    sigma_cross_m: float = 30.0,
) -> DescentResult:
    """One descent with its telemetry table.

    Parameters
    ----------
    sc : DescentScenario or str
        A scenario or its name (``nominal``, ``mission-2``, ``mission-1``).
    lander : LanderSpec
        Must give the descent fields (propellant budget, terminal thrusters).
    seed : int
        The run's seed (the same seed, the same descent).
    sigma_along_m, sigma_cross_m : float
        1-sigma horizontal position knowledge (held by position fixes), along and across the track
        (the landing ellipse of :class:`~rover.touchdown.Dispersion`).

    Returns
    -------
    DescentResult

    Raises
    ------
    TouchdownError
        Unknown scenario, impossible parameter, a lander spec without the descent fields.

    Examples
    --------
    >>> res = simulate_descent("mission-1", seed=3)  # doctest: +SKIP
    >>> res.run.outcome, res.run.reason  # doctest: +SKIP
    """
    sc, prof, p, terrain = _prepare(sc, lander, sigma_along_m, sigma_cross_m)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TouchdownError(f"seed must be a whole number >= 0, got {seed!r}")
    summary = np.empty(K.N_SUMMARY + len(PROBE_ALTITUDES_M))
    tel = np.empty((int(sc.t_max_s * sc.lrf_hz) + 2, K.N_TEL))
    env, onboard, onenv = terrain
    n = K.descend(
        p,
        prof.z_m,
        env,
        onboard,
        onenv,
        prof.x0_m,
        prof.dx_m,
        np.random.default_rng(int(seed)),
        np.asarray(PROBE_ALTITUDES_M, dtype=np.float64),
        summary,
        tel,
        True,
    )
    cols = {name: np.array(tel[:n, i]) for i, name in enumerate(K.TELEMETRY_NAMES)}
    run = DescentRun.from_row(int(seed), summary)
    log.info("descent %s seed %d: %s", sc.name, seed, run.reason)
    return DescentResult(sc, lander.name, run, Telemetry(cols), prof)


def _batch(sc, lander, seeds, sigma_along_m, sigma_cross_m):
    """Fly one descent per seed; contiguous slices of runs on a pool of threads.

    The kernel releases the GIL, so the threads run in parallel; each run draws from its own
    ``numpy.random.default_rng(seed)``, so the records do not depend on the thread count.
    """
    sc, prof, p, (env, onboard, onenv) = _prepare(sc, lander, sigma_along_m, sigma_cross_m)
    seeds = np.ascontiguousarray(seeds, dtype=np.int64)
    table = np.empty((seeds.size, K.N_SUMMARY + len(PROBE_ALTITUDES_M)))
    probes = np.asarray(PROBE_ALTITUDES_M, dtype=np.float64)
    tel = np.empty((0, K.N_TEL))

    def fly(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            K.descend(
                p,
                prof.z_m,
                env,
                onboard,
                onenv,
                prof.x0_m,
                prof.dx_m,
                np.random.default_rng(int(seeds[i])),
                probes,
                table[i],
                tel,
                False,
            )

    workers = max(1, min(THREADS, seeds.size))
    if workers == 1:
        fly(0, seeds.size)
    else:
        edges = np.linspace(0, seeds.size, 4 * workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            for f in [pool.submit(fly, a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]:
                f.result()
    return sc, table


def _check_runs(runs) -> None:
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise TouchdownError(f"runs must be a whole number >= 1, got {runs!r}")


def simulate_descents(
    sc: DescentScenario | str,
    lander: LanderSpec = RESILIENCE,
    *,
    runs: int = 1000,
    seed: int = 0,
    sigma_along_m: float = 50.0,
    sigma_cross_m: float = 30.0,
) -> DescentBatch:
    """Monte Carlo descents of one scenario on all cores (run seeds from :func:`run_seeds`).

    Parameters
    ----------
    sc, lander, sigma_along_m, sigma_cross_m
        As :func:`simulate_descent`.
    runs : int
    seed : int
        Master seed; run ``i`` is :func:`simulate_descent` with ``run_seeds(seed, runs)[i]``.

    Returns
    -------
    DescentBatch
    """
    _check_runs(runs)
    seeds = run_seeds(seed, runs)
    sc, table = _batch(sc, lander, seeds, sigma_along_m, sigma_cross_m)
    return DescentBatch(sc, lander.name, int(seed), seeds, table)


def chunk_seeds(seed: int, n_chunks: int) -> list[int]:
    """Seeds of the chunks of a distributed Monte Carlo (the ``i``-th SeedSequence child)."""
    children = np.random.SeedSequence(int(seed)).spawn(int(n_chunks))
    return [
        int(c.generate_state(2, dtype=np.uint32).astype(np.uint64) @ [1 << 32, 1]) for c in children
    ]


def simulate_descents_distributed(
    sc: DescentScenario | str,
    lander: LanderSpec = RESILIENCE,
    *,
    runs: int,
    seed: int = 0,
    chunk: int = 1000,
    scheduler=None,
    sigma_along_m: float = 50.0,
    sigma_cross_m: float = 30.0,
    progress: ProgressCallback | None = None,
) -> DescentBatch:
    """Monte Carlo descents in seeded chunks, on local threads or a Dask cluster.

    Chunk ``i`` is :func:`simulate_descents` with the seed of the ``i``-th child of
    ``SeedSequence(seed)`` (:func:`chunk_seeds`), so the records depend on ``seed`` and
    ``chunk`` only, as for :func:`~rover.touchdown.simulate_touchdown_distributed`.

    Returns
    -------
    DescentBatch
        Runs in chunk order; ``seed`` is the master seed.
    """
    import dask

    from frigoris.terrain.tiled import compute_tasks, dask_client

    _check_runs(runs)
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise TouchdownError(f"chunk must be a whole number >= 1, got {chunk!r}")
    sc, _, _, _ = _prepare(sc, lander, sigma_along_m, sigma_cross_m)  # fail here, not remotely
    sizes = [min(chunk, runs - a) for a in range(0, int(runs), int(chunk))]
    seeds = chunk_seeds(seed, len(sizes))
    report = progress or (lambda fraction, stage="": None)
    done = [0]

    def tick(i, _):
        done[0] += 1
        report(done[0] / len(sizes), f"{sc.name}: {done[0]}/{len(sizes)} chunks")

    with dask_client(scheduler) as client:
        tasks = [
            dask.delayed(simulate_descents, pure=False)(
                sc,
                lander,
                runs=n,
                seed=s,
                sigma_along_m=sigma_along_m,
                sigma_cross_m=sigma_cross_m,
            )
            for n, s in zip(sizes, seeds, strict=True)
        ]
        parts = compute_tasks(tasks, client if client is not None else scheduler, on_result=tick)
    return DescentBatch(
        sc,
        lander.name,
        int(seed),
        np.concatenate([b.seeds for b in parts]),
        np.concatenate([b.table for b in parts]),
    )


# --------------------------------------------------------------------------------------------
# trade curves


@dataclass(frozen=True)
class TradePoint:
    """One point of a trade curve: a knob value and what it gives."""

    value: float
    p_soft: float
    p_crash: float
    p_sensor_failed: float
    median_first_valid_altitude_m: float
    runs: int


@dataclass(frozen=True)
class TradeCurve:
    """P(soft landing) against one knob of one scenario (same seeds at every point)."""

    scenario: str
    knob: str
    unit: str
    points: tuple[TradePoint, ...]

    def table(self) -> str:
        """Markdown table of the curve."""
        lines = [
            f"| {self.knob} ({self.unit}) | P(soft) | P(crash) | P(sensor declared failed) "
            "| median first valid range altitude (m) |",
            "|---:|---:|---:|---:|---:|",
        ]
        for p in self.points:
            fv = (
                "-"
                if not math.isfinite(p.median_first_valid_altitude_m)
                else (f"{p.median_first_valid_altitude_m:.0f}")
            )
            lines.append(
                f"| {p.value:g} | {p.p_soft:.3f} | {p.p_crash:.3f} | {p.p_sensor_failed:.3f} "
                f"| {fv} |"
            )
        return "\n".join(lines)


def _trade_point(value, batch: DescentBatch) -> TradePoint:
    fv = batch.column("first_valid_altitude_m")
    fv = fv[np.isfinite(fv)]
    return TradePoint(
        float(value),
        batch.p_soft,
        batch.fractions["crash"],
        float(np.mean(np.isfinite(batch.column("sensor_failed_t_s")))),
        float(np.median(fv)) if fv.size else math.nan,
        len(batch),
    )


def acquisition_trade(
    base: DescentScenario | str = "nominal",
    ranges_m=(3000.0, 2000.0, 1500.0, 1200.0, 1000.0, 900.0, 800.0, 600.0, 400.0),
    lander: LanderSpec = RESILIENCE,
    *,
    runs: int = 500,
    seed: int = 0,
) -> TradeCurve:
    """P(soft) against the range finder's acquisition range (laser power set per point).

    Each point is ``base`` with :meth:`DescentScenario.with_acquisition_range`: valid returns
    from that slant range at the site's reflectance, normal incidence and the design speed.
    """
    sc = scenario(base)
    pts = []
    for r in ranges_m:
        b = simulate_descents(sc.with_acquisition_range(float(r)), lander, runs=runs, seed=seed)
        pts.append(_trade_point(r, b))
    return TradeCurve(sc.name, "acquisition range", "m", tuple(pts))


def gate_trade(
    base: DescentScenario | str = "mission-1",
    gates_m=(100.0, 250.0, 500.0, 1000.0, 1500.0, 2000.0, 3000.0, 5000.0),
    lander: LanderSpec = RESILIENCE,
    *,
    runs: int = 500,
    seed: int = 0,
) -> TradeCurve:
    """P(soft) against the rejection gate's threshold."""
    sc = scenario(base)
    pts = []
    for g in gates_m:
        b = simulate_descents(
            dataclasses.replace(sc, gate_m=float(g)), lander, runs=runs, seed=seed
        )
        pts.append(_trade_point(g, b))
    return TradeCurve(sc.name, "gate threshold", "m", tuple(pts))


def calibrate_acquisition(
    base: DescentScenario | str,
    first_valid_altitude_m: float,
    lander: LanderSpec = RESILIENCE,
    *,
    runs: int = 400,
    seed: int = 0,
    tol_m: float = 10.0,
) -> float:
    """Laser power loss (dB) at which the median first valid range comes at an altitude.

    Bisection over the loss; used once to express Mission 2's published symptom ("first
    valid range below ~900 m") as a range-finder degradation (see :func:`scenario`).
    """
    sc = scenario(base)
    lo, hi = 0.0, 30.0

    def median_fv(loss):
        b = simulate_descents(
            dataclasses.replace(sc, lrf_power_loss_db=loss), lander, runs=runs, seed=seed
        )
        v = b.column("first_valid_altitude_m")
        v = v[np.isfinite(v)]
        return float(np.median(v)) if v.size else 0.0

    for _ in range(40):
        mid = 0.5 * (lo + hi)
        fv = median_fv(mid)
        if abs(fv - first_valid_altitude_m) <= tol_m:
            return round(mid, 2)
        if fv > first_valid_altitude_m:
            lo = mid
        else:
            hi = mid
    return round(0.5 * (lo + hi), 2)


# --------------------------------------------------------------------------------------------
# the published accounts beside the model


def published_kind_mission2(batch: DescentBatch) -> np.ndarray:
    """Mission 2 runs that failed as published.

    The estimate was high at the first valid range and the lander crashed while still under
    power (not a hover on a low estimate that ran the tanks dry).
    """
    return (
        (batch.outcomes == "crash")
        & (batch.column("first_valid_nav_error_m") > 0.0)
        & ~np.isfinite(batch.column("propellant_out_t_s"))
    )


def published_table(mission2: DescentBatch, mission1: DescentBatch) -> str:
    """Markdown table: the published telemetry of both losses beside the model's medians."""

    def med(v, mask, fmt="{:.0f}"):
        v = v[mask]
        v = v[np.isfinite(v)]
        if not v.size:
            return "-"
        lo, mid, hi = np.percentile(v, [10, 50, 90])
        return f"{fmt.format(mid)} ({fmt.format(lo)}-{fmt.format(hi)})"

    m2, m1 = mission2, mission1
    pub = PUBLISHED["mission-2"]
    crash2 = m2.outcomes == "crash"
    kind = published_kind_mission2(m2)
    east, north = track_to_east_north(m2.column("along_m"), m2.column("cross_m"), 180.0)
    miss = np.hypot(east, north)
    observed = math.hypot(pub["impact_east_m"], pub["impact_north_m"])
    crash1 = m1.outcomes == "crash"
    rows = [
        (
            "Mission 2",
            "first valid range",
            "below ~900 m (designed: ~3 km)",
            f"{med(m2.column('first_valid_altitude_m'), np.ones(len(m2), bool))} m (all runs; "
            "calibrated here, not a check)",
        ),
        (
            "Mission 2",
            "descent rate then",
            "~66 m/s (planned ~44 m/s)",
            f"{med(m2.column('first_valid_speed_m_s'), kind)} m/s",
        ),
        (
            "Mission 2",
            "descent rate at ~192 m",
            "~42 m/s",
            f"{med(m2.column('speed_at_192m'), kind)} m/s",
        ),
        (
            "Mission 2",
            "outcome",
            "crash (hard landing)",
            f"crash in {crash2.mean():.0%} of runs; {kind.sum() / max(crash2.sum(), 1):.0%} of "
            "the crashes as published, the rest out of propellant while hovering on a low "
            f"estimate; contact {med(m2.column('v_vertical_m_s'), kind)} m/s",
        ),
        (
            "Mission 2",
            "impact point",
            f"282 m S, 236 m E ({observed:.0f} m from the target)",
            f"{med(miss, crash2)} m from the target; {np.mean(miss[crash2] >= observed):.0%} of "
            f"crashes {observed:.0f} m or farther",
        ),
        (
            "Mission 1",
            "range reading at the rim",
            "jumped by ~3 km crossing a cliff",
            "a cliff of "
            f"{_rim_cliff_m():.0f} m (LOLA crest to floor); ranges rejected by the 500 m gate",
        ),
        (
            "Mission 1",
            "range finder",
            "marked faulty, ignored from then on",
            f"declared failed in {np.mean(np.isfinite(m1.column('sensor_failed_t_s'))):.0%} of "
            f"runs, {med(m1.column('sensor_failed_altitude_m'), crash1)} m up",
        ),
        (
            "Mission 1",
            "estimated altitude zero",
            "while ~5 km up",
            f"{med(m1.column('est_zero_altitude_m'), crash1)} m up",
        ),
        (
            "Mission 1",
            "then",
            "slow descent until the propellant ran out",
            f"hover on the estimate for "
            f"{med(m1.column('propellant_out_t_s') - m1.column('est_zero_t_s'), crash1)} s, "
            f"propellant out {med(m1.column('propellant_out_altitude_m'), crash1)} m up",
        ),
        (
            "Mission 1",
            "end",
            "free fall, crash",
            f"crash in {crash1.mean():.0%} of runs at "
            f"{med(m1.column('v_vertical_m_s'), crash1)} m/s",
        ),
    ]
    lines = [
        f"| mission | | published | model: median (10th-90th percentile); {len(m2)} Mission 2 "
        f"and {len(m1)} Mission 1 descents, seed {m2.seed} |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def _rim_cliff_m() -> float:
    doc = json.loads(resources.files("frigoris.rover.data").joinpath(PROFILE_FILE).read_text())
    return float(doc["profiles"]["atlas-rim"]["cliff_m"])


__all__ = [
    "OUTCOMES",
    "PROBE_ALTITUDES_M",
    "PUBLISHED",
    "SCENARIO_NAMES",
    "ApproachProfile",
    "DescentBatch",
    "DescentResult",
    "DescentRun",
    "DescentScenario",
    "Telemetry",
    "TradeCurve",
    "TradePoint",
    "acquisition_trade",
    "build_approach_profiles",
    "calibrate_acquisition",
    "check_descent_lander",
    "chunk_seeds",
    "gate_trade",
    "load_profile",
    "published_kind_mission2",
    "published_table",
    "run_seeds",
    "scenario",
    "simulate_descent",
    "simulate_descents",
    "simulate_descents_distributed",
    "start_mass_kg",
    "track_to_east_north",
    "write_approach_profiles",
]
