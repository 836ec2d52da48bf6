"""Compiled kernels of the descent simulation (:mod:`rover.descent` validates and wraps them).

One call of :func:`descend` flies one lander from the start state to contact, or to the time
limit, with fixed-step integration (``dt``):

* truth: planar motion over a sphere along the ground track (altitude ``h`` above the target's
  elevation, along-track ``x`` with the target at 0, radial and tangential speeds with the
  centrifugal and Coriolis terms) plus a flat cross-track channel; thrust from the guidance,
  mass flow ``T / (Isp g0)``, nothing once the propellant is gone;
* navigation: the estimate is propagated with the accelerometer's specific force (bias per
  run, white noise per step) and the same gravity model; the vertical channel is a two-state
  Kalman filter (altitude, vertical speed) updated by the range finder; the horizontal
  positions are held at their start error by map-relative fixes (``horizontal_fixes``) or
  left inertial;
* range finder: at ``lrf_hz``, the beam leaves along the lander's thrust axis (body -Z, so it
  looks ahead while the lander brakes), the range is found by marching along the beam over the
  terrain profile of the ground track, the return is valid when the link margin (lidar
  equation, dB) plus a fluctuation is positive and no random dropout occurs;
* gate: a valid range whose disagreement with the range predicted from the estimate exceeds
  ``gate_m`` is rejected once the filter has locked (``n_lock`` agreeing returns in a row);
  ``n_fail`` rejections in a row declare the sensor failed for the rest of the descent;
* guidance (on the estimate): horizontal speed ``sqrt(2 a_h d)`` to null at the target, the
  descent rate limited to reach ``h_gate`` when the horizontal braking ends, then the vertical
  profile ``sqrt(v_f^2 + 2 a_p h)``; the main engine until ``terminal_gate_m``, the terminal
  thrusters below.

Random numbers come from a ``numpy.random.Generator`` passed in per run (numba compiles its
PCG64 stream and ziggurat normals; interpreted, the same kernel draws the same numbers),
always drawn in the same order whether used or not, so a run depends on its seed only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

G0 = 9.80665
"""Standard gravity for the specific impulse (m/s^2)."""

# ---- parameter vector layout (rover.descent builds it; names in PARAM_NAMES) ---------------
PARAM_NAMES = (
    "dt_s",
    "t_max_s",
    "mu_m3_s2",
    "r_ref_m",
    "start_downrange_m",
    "start_altitude_m",
    "mass0_kg",
    "dry_total_kg",
    "isp_s",
    "max_thrust_n",
    "terminal_thrust_n",
    "terminal_gate_m",
    "min_throttle",
    "a_h_m_s2",
    "h_gate_m",
    "a_p_m_s2",
    "v_f_m_s",
    "tau_v_s",
    "tau_x_s",
    "d_vertical_m",
    "sigma_h0_m",
    "sigma_vz0_m_s",
    "sigma_x0_m",
    "sigma_vx0_m_s",
    "sigma_c0_m",
    "sigma_vc0_m_s",
    "accel_bias_m_s2",
    "accel_noise_m_s15",
    "kf_accel_m_s2",
    "kf_terrain_m",
    "lrf_hz",
    "lrf_design_range_m",
    "lrf_design_reflectance",
    "lrf_design_speed_m_s",
    "lrf_power_loss_db",
    "reflectance",
    "lrf_fluct_db",
    "lrf_dropout",
    "lrf_integration_s",
    "lrf_range_bin_m",
    "lrf_sigma_rel",
    "lrf_sigma_abs_m",
    "lrf_max_range_m",
    "gate_m",
    "n_lock",
    "n_fail",
    "onboard_map",
    "kf_speed",
    "kf_speed_below_m_s",
    "horizontal_fixes",
    "soft_m_s",
    "hard_m_s",
)
P = {name: i for i, name in enumerate(PARAM_NAMES)}
(
    DT,
    TMAX,
    MU,
    RREF,
    D0,
    H0,
    M0,
    MDRY,
    ISP,
    TMAXN,
    TTERM,
    HTERM,
    MINTHR,
    AH,
    HGATE,
    AP,
    VF,
    TAUV,
    TAUX,
    DVERT,
    SH0,
    SVZ0,
    SX0,
    SVX0,
    SC0,
    SVC0,
    SBIAS,
    SNOISE,
    KFQ,
    KFTER,
    LRFHZ,
    RDES,
    RHODES,
    VDES,
    PLOSS,
    RHO,
    FLUCT,
    DROP,
    TINT,
    RBIN,
    SREL,
    SABS,
    RMAX,
    GATE,
    NLOCK,
    NFAIL,
    ONBOARD,
    KFSPEED,
    KFSPEEDV,
    HFIX,
    VSOFT,
    VHARD,
) = range(len(PARAM_NAMES))

# ---- outputs -------------------------------------------------------------------------------
OUTCOME_CODES = ("soft", "hard", "crash", "timeout")
SUMMARY_NAMES = (
    "outcome",
    "t_contact_s",
    "v_vertical_m_s",
    "v_horizontal_m_s",
    "along_m",
    "cross_m",
    "propellant_kg",
    "first_valid_altitude_m",
    "first_valid_speed_m_s",
    "first_valid_nav_error_m",
    "first_valid_range_m",
    "sensor_failed_t_s",
    "sensor_failed_altitude_m",
    "est_zero_altitude_m",
    "est_zero_t_s",
    "propellant_out_t_s",
    "propellant_out_altitude_m",
    "n_rejected",
    "lock_t_s",
)
S_OUTCOME = 0
S_T_CONTACT_S = 1
S_V_VERTICAL_M_S = 2
S_V_HORIZONTAL_M_S = 3
S_ALONG_M = 4
S_CROSS_M = 5
S_PROPELLANT_KG = 6
S_FIRST_VALID_ALTITUDE_M = 7
S_FIRST_VALID_SPEED_M_S = 8
S_FIRST_VALID_NAV_ERROR_M = 9
S_FIRST_VALID_RANGE_M = 10
S_SENSOR_FAILED_T_S = 11
S_SENSOR_FAILED_ALTITUDE_M = 12
S_EST_ZERO_ALTITUDE_M = 13
S_EST_ZERO_T_S = 14
S_PROPELLANT_OUT_T_S = 15
S_PROPELLANT_OUT_ALTITUDE_M = 16
S_N_REJECTED = 17
S_LOCK_T_S = 18
N_SUMMARY = len(SUMMARY_NAMES)
"""Per-run scalars; then one descent rate per probe altitude (NaN if never crossed)."""

TELEMETRY_NAMES = (
    "t_s",
    "altitude_m",
    "agl_m",
    "est_altitude_m",
    "ground_m",
    "v_down_m_s",
    "est_v_down_m_s",
    "v_along_m_s",
    "downrange_m",
    "est_downrange_m",
    "cross_m",
    "mass_kg",
    "propellant_kg",
    "thrust_n",
    "tilt_deg",
    "range_m",
    "range_status",
    "nav_mode",
    "phase",
)
T_T_S = 0
T_ALTITUDE_M = 1
T_AGL_M = 2
T_EST_ALTITUDE_M = 3
T_GROUND_M = 4
T_V_DOWN_M_S = 5
T_EST_V_DOWN_M_S = 6
T_V_ALONG_M_S = 7
T_DOWNRANGE_M = 8
T_EST_DOWNRANGE_M = 9
T_CROSS_M = 10
T_MASS_KG = 11
T_PROPELLANT_KG = 12
T_THRUST_N = 13
T_TILT_DEG = 14
T_RANGE_M = 15
T_RANGE_STATUS = 16
T_NAV_MODE = 17
T_PHASE = 18
N_TEL = len(TELEMETRY_NAMES)

RANGE_NONE, RANGE_INVALID, RANGE_ACCEPTED, RANGE_REJECTED, RANGE_IGNORED = 0, 1, 2, 3, 4
"""Range-finder status per sample: none taken, no valid return, accepted, gated out, ignored
(sensor declared failed)."""
NAV_INERTIAL, NAV_PULL_IN, NAV_LOCKED, NAV_FAILED = 0, 1, 2, 3
"""Navigation mode: inertial only (no valid range yet), pulling in (ranges accepted, not yet
agreeing), locked (gate active), range finder declared failed."""
PHASE_MAIN, PHASE_TERMINAL, PHASE_EMPTY = 0, 1, 2
"""Propulsion phase: main engine, terminal thrusters, propellant exhausted."""


# --------------------------------------------------------------------------------------------
# terrain profile


@njit(cache=True, nogil=True)
def ground(prof, x0, dx, x):
    """Terrain height (m, relative to the target) at along-track ``x``; clamped at the ends."""
    u = (x - x0) / dx
    n = prof.size
    if u <= 0.0:
        return prof[0]
    if u >= n - 1:
        return prof[n - 1]
    i = int(u)
    f = u - i
    return prof[i] * (1.0 - f) + prof[i + 1] * f


BLOCK = 16
"""Profile samples per block of the upper envelope the beam march skips over."""


def envelope(prof: np.ndarray) -> np.ndarray:
    """Highest sample of each block of :data:`BLOCK` samples (and of the sample after it)."""
    n = prof.size
    nb = (n - 1) // BLOCK + 1
    out = np.empty(nb)
    for b in range(nb):
        out[b] = prof[b * BLOCK : min((b + 1) * BLOCK + 1, n)].max()
    return out


@njit(cache=True, nogil=True)
def ray(prof, env, x0, dx, xl, hl, bx, bz, rmax, out):
    """March a beam from ``(xl, hl)`` along unit ``(bx, bz)`` to the terrain.

    Writes ``out[0]`` = slant range (NaN: no hit within ``rmax`` or beam not pointing down)
    and ``out[1]`` = terrain slope dz/dx at the hit. The profile is piecewise linear, so the
    hit is found exactly segment by segment (a cliff occludes what lies behind it); blocks of
    :data:`BLOCK` segments whose highest point lies below the beam are skipped whole.
    """
    out[0] = np.nan
    out[1] = 0.0
    if bz >= -1e-9:
        return
    n = prof.size
    if abs(bx) < 1e-9:
        g = ground(prof, x0, dx, xl)
        r = (hl - g) / -bz
        if 0.0 <= r <= rmax:
            out[0] = r
            u = (xl - x0) / dx
            i = min(max(int(u), 0), n - 2)
            out[1] = (prof[i + 1] - prof[i]) / dx
        return
    # beam height above terrain, f(x) = hl + (x - xl) * bz / bx - ground(x), along x
    s = 1.0 if bx > 0 else -1.0
    slope = bz / bx  # beam height change per metre of x
    xa = xl
    fa = hl - ground(prof, x0, dx, xl)
    if fa <= 0.0:
        out[0] = 0.0
        return
    u = (xl - x0) / dx
    node = math.floor(u) + 1 if s > 0 else math.ceil(u) - 1
    xmax = xl + s * rmax * abs(bx)
    nb = env.size
    while True:
        # skip whole blocks the beam passes above (beam lowest at the block's far end)
        k = node if s > 0 else node - 1  # segment index about to be entered
        if 0 <= k < n - 1:
            b = k // BLOCK
            far = (b + 1) * BLOCK if s > 0 else b * BLOCK
            xfar = x0 + far * dx
            if (s > 0 and xfar < xmax) or (s < 0 and xfar > xmax):
                if b < nb and hl + (xfar - xl) * slope > env[b]:
                    xa = xfar
                    fa = hl + (xfar - xl) * slope - ground(prof, x0, dx, xfar)
                    node = far + 1 if s > 0 else far - 1
                    continue
        xb = x0 + node * dx
        last = (s > 0 and xb >= xmax) or (s < 0 and xb <= xmax)
        if last:
            xb = xmax
        fb = hl + (xb - xl) * slope - ground(prof, x0, dx, xb)
        if fb <= 0.0:
            xh = xa + (xb - xa) * fa / (fa - fb)
            out[0] = (xh - xl) / bx
            k = min(max(int((xh - x0) / dx), 0), n - 2)
            out[1] = (prof[k + 1] - prof[k]) / dx
            return
        if last:
            return
        xa = xb
        fa = fb
        node += 1 if s > 0 else -1


# --------------------------------------------------------------------------------------------
# range finder link budget


@njit(cache=True, nogil=True)
def speed_loss_db(rdot, t_int, r_bin):
    """Integration loss of a pulse-accumulating receiver when the range walks out of its bin.

    Over ``t_int`` the range moves ``|rdot| t_int``; with more than one bin of motion only a
    fraction ``r_bin / (|rdot| t_int)`` of the pulses add in one bin, and incoherent
    integration loses SNR as the square root of the pulse count: 5 log10 of the ratio.
    """
    walk = abs(rdot) * t_int / r_bin
    return 5.0 * math.log10(walk) if walk > 1.0 else 0.0


@njit(cache=True, nogil=True)
def link_margin_db(p, slant_m, cos_i, rdot):
    """Link margin (dB) of one return before fluctuation; >= 0 is detectable.

    Lidar equation for an extended Lambertian surface filling the beam: received power
    ``P_t rho cos(i) A / (pi R^2)``, relative to the design point (``lrf_design_range_m`` at the
    design reflectance, normal incidence and the design speed).
    """
    return (
        link_base_db(p)
        - speed_loss_db(rdot, p[TINT], p[RBIN])
        + 10.0 * math.log10(cos_i)
        + 20.0 * math.log10(p[RDES] / slant_m)
    )


@njit(cache=True, nogil=True)
def link_base_db(p):
    """The range-independent part of :func:`link_margin_db` (power, reflectance, design speed)."""
    return (
        -p[PLOSS] + 10.0 * math.log10(p[RHO] / p[RHODES]) + speed_loss_db(p[VDES], p[TINT], p[RBIN])
    )


# --------------------------------------------------------------------------------------------
# one descent


@njit(cache=True, nogil=True)
def _profile_speed(p, h):
    return math.sqrt(p[VF] * p[VF] + 2.0 * p[AP] * max(h, 0.0))


@njit(cache=True, nogil=True)
def _deriv(p, h, vx, vz, tx, tz, m, out):
    """Accelerations (along, radial) over the sphere for thrust (tx, tz) N and mass m."""
    r = p[RREF] + h
    out[0] = tx / m - vx * vz / r
    out[1] = tz / m - p[MU] / (r * r) + vx * vx / r


@njit(cache=True, nogil=True)
def descend(p, prof, env, onboard, onenv, x0, dx, rng, probes, summary, tel, record):
    """Fly one descent; fill ``summary`` and (when ``record``) ``tel`` rows; return row count."""
    for k in range(summary.size):
        summary[k] = np.nan
    summary[S_N_REJECTED] = 0.0
    dt = p[DT]
    rref = p[RREF]
    mu = p[MU]
    ve = p[ISP] * G0

    # ---- start: on the guidance's own profile, at the nominal point
    x = -p[D0]
    h = p[H0]
    c = 0.0
    vx = math.sqrt(2.0 * p[AH] * p[D0])
    tgo = 2.0 * p[D0] / max(vx, 1.0)
    vz = -min(_profile_speed(p, h), max(h - p[HGATE], 0.0) / max(tgo, 1e-3))
    vc = 0.0
    m = p[M0]
    prop = m - p[MDRY]

    # ---- knowledge errors at the start, IMU biases (always drawn in this order)
    eh = rng.standard_normal() * p[SH0]
    evz = rng.standard_normal() * p[SVZ0]
    ex = rng.standard_normal() * p[SX0]
    evx = rng.standard_normal() * p[SVX0]
    ec = rng.standard_normal() * p[SC0]
    evc = rng.standard_normal() * p[SVC0]
    bz = rng.standard_normal() * p[SBIAS]
    bx = rng.standard_normal() * p[SBIAS]
    bc = rng.standard_normal() * p[SBIAS]
    he = h + eh
    vze = vz + evz
    xe = x + ex
    vxe = vx + evx
    ce = c + ec
    vce = vc + evc
    # Kalman covariance of (he, vze)
    p00 = p[SH0] * p[SH0]
    p01 = 0.0
    p11 = p[SVZ0] * p[SVZ0]
    q = p[KFQ] * p[KFQ]

    mode = NAV_INERTIAL
    n_in = 0
    n_rej = 0
    phase = PHASE_MAIN
    vertical = False
    ux = 0.0
    uc = 0.0
    uz = 1.0  # thrust axis (unit, along/up); the beam looks along -u
    thrust = 0.0
    lrf_every = max(int(round(1.0 / (p[LRFHZ] * dt))), 1)
    nprobe = probes.size
    probe_done = np.zeros(nprobe, dtype=np.bool_)
    est_zero_done = False
    rb = np.empty(2)
    rbe = np.empty(2)
    acc = np.empty(2)
    acc2 = np.empty(2)
    nsteps = int(p[TMAX] / dt) + 1
    row = 0
    outcome = 3
    g_prev = ground(prof, x0, dx, x)
    sn = p[SNOISE] / math.sqrt(dt)
    base_db = link_base_db(p)
    zmax = env.max()

    for step in range(nsteps):
        t = step * dt
        status = RANGE_NONE
        rng_m = np.nan
        # ---------------- range finder sample
        if step % lrf_every == 0:
            n1 = rng.standard_normal()  # fluctuation
            n2 = rng.standard_normal()  # range noise
            u1 = rng.random()  # dropout
            bxd = -ux
            bzd = -uz
            status = RANGE_INVALID
            if bzd < -1e-6:
                rdot = -(vx * bxd + vz * bzd)
                m0 = base_db - speed_loss_db(rdot, p[TINT], p[RBIN]) + p[FLUCT] * n1
                # farthest range this pulse could be detected at (normal incidence): no need to
                # march the beam beyond it (the margin there would be negative anyway)
                reach = min(p[RMAX], p[RDES] * 10.0 ** (m0 / 20.0))
                if (h - zmax) > reach * -bzd:
                    rb[0] = np.nan  # even the highest terrain lies beyond reach along the beam
                else:
                    ray(prof, env, x0, dx, x, h, bxd, bzd, reach, rb)
                slant = rb[0]
                if slant == slant and slant > 1.0:
                    sl = rb[1]
                    cos_i = (ux * -sl + uz) / math.sqrt(1.0 + sl * sl)
                    if cos_i > 1e-3:
                        margin = m0 + 10.0 * math.log10(cos_i) + 20.0 * math.log10(p[RDES] / slant)
                        if margin >= 0.0 and u1 >= p[DROP]:
                            sig = max(p[SABS], p[SREL] * slant)
                            rng_m = slant + sig * n2
            if rng_m == rng_m:
                if mode == NAV_FAILED:
                    status = RANGE_IGNORED
                else:
                    # predicted range from the estimate over the onboard terrain model
                    if p[ONBOARD] > 0.5:
                        ray(onboard, onenv, x0, dx, xe, he, bxd, bzd, 10.0 * p[RMAX], rbe)
                        rpred = rbe[0]
                    else:
                        rpred = he / -bzd if he > 0.0 else 0.0
                    if rpred != rpred:
                        rpred = he / -bzd
                    disagree = abs(rng_m - rpred)
                    if np.isnan(summary[S_FIRST_VALID_ALTITUDE_M]):
                        summary[S_FIRST_VALID_ALTITUDE_M] = h - ground(prof, x0, dx, x)
                        summary[S_FIRST_VALID_SPEED_M_S] = -vz
                        summary[S_FIRST_VALID_NAV_ERROR_M] = he - h
                        summary[S_FIRST_VALID_RANGE_M] = rng_m
                    accept = True
                    if mode == NAV_LOCKED:
                        if disagree > p[GATE]:
                            accept = False
                            n_rej += 1
                            summary[S_N_REJECTED] += 1.0
                            if n_rej >= p[NFAIL]:
                                mode = NAV_FAILED
                                summary[S_SENSOR_FAILED_T_S] = t
                                summary[S_SENSOR_FAILED_ALTITUDE_M] = h - ground(prof, x0, dx, x)
                        else:
                            n_rej = 0
                    else:
                        mode = NAV_PULL_IN
                        n_in = n_in + 1 if disagree <= p[GATE] else 0
                        if n_in >= p[NLOCK]:
                            mode = NAV_LOCKED
                            summary[S_LOCK_T_S] = t
                    if accept:
                        status = RANGE_ACCEPTED
                        nu = (rng_m - rpred) * -bzd
                        sig = max(p[SABS], p[SREL] * rng_m) * -bzd
                        r_meas = sig * sig + p[KFTER] * p[KFTER]
                        s_inn = p00 + r_meas
                        k0 = p00 / s_inn
                        # the range corrects the vertical speed only while the lander moves
                        # slowly across the ground: at speed, the range rate also carries the
                        # horizontal speed times the terrain slope, which a flat onboard model
                        # would take for a descent rate
                        speed_ok = p[KFSPEED] > 0.5 and abs(vxe) < p[KFSPEEDV]
                        k1 = p01 / s_inn if speed_ok else 0.0
                        he += k0 * nu
                        vze += k1 * nu
                        p11 -= k1 * p01
                        p01 -= k0 * p01
                        p00 -= k0 * p00
                    else:
                        status = RANGE_REJECTED

        # ---------------- guidance on the estimate
        d = -xe
        if not vertical and abs(d) < p[DVERT] and abs(vxe) < 2.0:
            vertical = True  # horizontal braking done: over the target, nearly at rest
        vxs = math.copysign(min(math.sqrt(2.0 * p[AH] * abs(d)), abs(d) / p[TAUX]), d)
        vcs = min(max(-ce / p[TAUX], -2.0), 2.0)
        vprof = _profile_speed(p, he)
        if vertical:
            vzs = -vprof
        else:
            tgo = 2.0 * abs(d) / max(abs(vxe), 1.0)
            vzs = -min(vprof, max(he - p[HGATE], 0.0) / max(tgo, 1e-3))
        re_ = rref + he
        az = (vzs - vze) / p[TAUV] + mu / (re_ * re_) - vxe * vxe / re_
        if vzs == -vprof and vze < 0.0 and he > 0.0:
            # feed-forward: following v(h) = sqrt(v_f^2 + 2 a_p h) down at the rate -vze
            # needs an upward deceleration of a_p * (-vze) / v(h); without it the loop lags
            az += p[AP] * -vze / vprof
        ax = (vxs - vxe) / p[TAUV] + vxe * vze / re_
        ac = (vcs - vce) / p[TAUV]
        if phase == PHASE_MAIN and he <= p[HTERM]:
            phase = PHASE_TERMINAL
        tmax_n = p[TMAXN] if phase == PHASE_MAIN else p[TTERM]
        thrust = 0.0
        if phase != PHASE_EMPTY:
            amax = tmax_n / m
            az = min(max(az, 0.0), amax)
            ahmax = math.sqrt(max(amax * amax - az * az, 0.0))
            ahn = math.sqrt(ax * ax + ac * ac)
            if ahn > ahmax:
                ax *= ahmax / ahn
                ac *= ahmax / ahn
            anorm = math.sqrt(ax * ax + az * az + ac * ac)
            thrust = m * anorm
            tmin = p[MINTHR] * tmax_n
            if thrust < 0.5 * tmin or az <= 0.0:
                # below half the throttle floor, or asked to fall faster than gravity: coast
                # (a floor thrust pointed sideways would push the lander off its track)
                thrust = 0.0
            else:
                thrust = max(thrust, tmin)
                ux = ax / anorm
                uz = az / anorm
                uc = ac / anorm
        if thrust > 0.0:
            mdot = thrust / ve
            if mdot * dt >= prop:
                thrust *= prop / (mdot * dt)
                summary[S_PROPELLANT_OUT_T_S] = t
                summary[S_PROPELLANT_OUT_ALTITUDE_M] = h - ground(prof, x0, dx, x)
                prop = 0.0
                phase = PHASE_EMPTY
            else:
                prop -= mdot * dt
            tx = thrust * ux
            tz = thrust * uz
            tc = thrust * uc
        else:
            tx = 0.0
            tz = 0.0
            tc = 0.0

        # ---------------- telemetry
        if record and step % lrf_every == 0 and row < tel.shape[0]:
            g = ground(prof, x0, dx, x)
            tel[row, T_T_S] = t
            tel[row, T_ALTITUDE_M] = h
            tel[row, T_AGL_M] = h - g
            tel[row, T_EST_ALTITUDE_M] = he
            tel[row, T_GROUND_M] = g
            tel[row, T_V_DOWN_M_S] = -vz
            tel[row, T_EST_V_DOWN_M_S] = -vze
            tel[row, T_V_ALONG_M_S] = vx
            tel[row, T_DOWNRANGE_M] = -x
            tel[row, T_EST_DOWNRANGE_M] = -xe
            tel[row, T_CROSS_M] = c
            tel[row, T_MASS_KG] = m
            tel[row, T_PROPELLANT_KG] = m - p[MDRY]
            tel[row, T_THRUST_N] = thrust
            tel[row, T_TILT_DEG] = math.degrees(math.atan2(abs(ux), uz))
            tel[row, T_RANGE_M] = rng_m
            tel[row, T_RANGE_STATUS] = status
            tel[row, T_NAV_MODE] = mode
            tel[row, T_PHASE] = phase
            row += 1

        # ---------------- truth: midpoint step at constant thrust and mass
        hp, vzp, vxp, vcp, xp = h, vz, vx, vc, x
        _deriv(p, h, vx, vz, tx, tz, m, acc)
        hm = h + 0.5 * dt * vz
        vxm = vx + 0.5 * dt * acc[0]
        vzm = vz + 0.5 * dt * acc[1]
        _deriv(p, hm, vxm, vzm, tx, tz, m, acc2)
        x += dt * vxm * rref / (rref + hm)
        h += dt * vzm
        vx += dt * acc2[0]
        vz += dt * acc2[1]
        c += dt * (vc + 0.5 * dt * tc / m)
        vc += dt * tc / m
        m_used = thrust * dt / ve
        # ---------------- navigation: same step on the accelerometer's specific force
        w0 = rng.standard_normal()
        w1 = rng.standard_normal()
        w2 = rng.standard_normal()
        fx = tx / m + bx + sn * w0
        fz = tz / m + bz + sn * w1
        fc = tc / m + bc + sn * w2
        re_ = rref + he
        ax_e = fx - vxe * vze / re_
        az_e = fz - mu / (re_ * re_) + vxe * vxe / re_
        hem = he + 0.5 * dt * vze
        vxem = vxe + 0.5 * dt * ax_e
        vzem = vze + 0.5 * dt * az_e
        rem = rref + hem
        xe += dt * vxem * rref / rem
        he += dt * vzem
        vxe += dt * (fx - vxem * vzem / rem)
        vze += dt * (fz - mu / (rem * rem) + vxem * vxem / rem)
        ce += dt * (vce + 0.5 * dt * fc)
        vce += dt * fc
        if p[HFIX] > 0.5:
            # map-relative position fixes hold the horizontal position knowledge at its start
            # error (the landing ellipse); the horizontal speeds stay inertial
            xe = x + ex
            ce = c + ec
        # covariance: constant-velocity model driven by white acceleration q
        p00 += dt * (2.0 * p01 + dt * p11) + q * dt * dt * dt / 3.0
        p01 += dt * p11 + q * dt * dt / 2.0
        p11 += q * dt
        m -= m_used

        # ---------------- events
        g = ground(prof, x0, dx, x)
        agl = h - g
        for k in range(nprobe):
            if not probe_done[k] and agl <= probes[k] and hp - g_prev > probes[k]:
                f = (hp - g_prev - probes[k]) / ((hp - g_prev) - agl)
                summary[N_SUMMARY + k] = -(vzp + f * (vz - vzp))
                probe_done[k] = True
        if not est_zero_done and he <= 0.0:
            est_zero_done = True
            summary[S_EST_ZERO_ALTITUDE_M] = agl
            summary[S_EST_ZERO_T_S] = t + dt
        if agl <= 0.0:
            f = (hp - g_prev) / ((hp - g_prev) - agl) if hp - g_prev > 0.0 else 1.0
            vzc = vzp + f * (vz - vzp)
            vxc = vxp + f * (vx - vxp)
            vcc = vcp + f * (vc - vcp)
            xc = xp + f * (x - xp)
            summary[S_T_CONTACT_S] = t + f * dt
            summary[S_V_VERTICAL_M_S] = -vzc
            summary[S_V_HORIZONTAL_M_S] = math.sqrt(vxc * vxc + vcc * vcc)
            summary[S_ALONG_M] = xc
            summary[S_CROSS_M] = c
            summary[S_PROPELLANT_KG] = prop
            if -vzc <= p[VSOFT]:
                outcome = 0
            elif -vzc <= p[VHARD]:
                outcome = 1
            else:
                outcome = 2
            if record and row < tel.shape[0]:
                tel[row, T_T_S] = t + f * dt
                tel[row, T_ALTITUDE_M] = h + (1.0 - f) * (hp - h)
                tel[row, T_AGL_M] = 0.0
                tel[row, T_EST_ALTITUDE_M] = he
                tel[row, T_GROUND_M] = g
                tel[row, T_V_DOWN_M_S] = -vzc
                tel[row, T_EST_V_DOWN_M_S] = -vze
                tel[row, T_V_ALONG_M_S] = vxc
                tel[row, T_DOWNRANGE_M] = -xc
                tel[row, T_EST_DOWNRANGE_M] = -xe
                tel[row, T_CROSS_M] = c
                tel[row, T_MASS_KG] = m
                tel[row, T_PROPELLANT_KG] = m - p[MDRY]
                tel[row, T_THRUST_N] = thrust
                tel[row, T_TILT_DEG] = math.degrees(math.atan2(abs(ux), uz))
                tel[row, T_RANGE_M] = np.nan
                tel[row, T_RANGE_STATUS] = RANGE_NONE
                tel[row, T_NAV_MODE] = mode
                tel[row, T_PHASE] = phase
                row += 1
            break
        g_prev = g
    summary[S_OUTCOME] = outcome
    return row
