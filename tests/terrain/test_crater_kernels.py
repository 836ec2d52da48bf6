"""The crater fit's allocation-free kernels do the plain computations they replace, bit for bit.

The reference below is the radius scan's fit as it was before the scratch-space rewrite (issue
13's speed work), kept verbatim. Both run as plain Python (IEEE arithmetic in the written order,
the solvers included): equal bits there mean the same operations in the same order. The compiled
fit's bits also depend on how LLVM shapes the code under the fit's fast-math flags; that was
checked end to end (every fit, crater and hazard layer of four sites, bit for bit) when the
rewrite was made. Calling the compiled kernels from here would also cache them compiled on their
own, which changes how later compilations of the fit inline them.
"""

from __future__ import annotations

import numpy as np
import pytest

from frigoris.terrain import _crater_kernels as kern

EJECTA_REACH = kern.EJECTA_REACH


@pytest.fixture(autouse=True)
def plain_python_solvers(monkeypatch):
    """The kernels under test call the solvers as plain Python too (nothing gets compiled)."""
    monkeypatch.setattr(kern, "_solve_into", kern._solve_into.py_func)
    monkeypatch.setattr(kern, "_solve", kern._solve.py_func)


def profile_sse_reference(bn, br, bz, radius, min_rim, base, x):
    """The radius scan's fit as it was: fresh arrays for the system and the solution per call."""
    g01 = g02 = g11 = g12 = g22 = g13 = g23 = rz1 = rz2 = 0.0
    inv = 1.0 / radius
    tail = 1.0 / (EJECTA_REACH * EJECTA_REACH * EJECTA_REACH)
    for k in range(bn.size):
        n = bn[k]
        if n == 0.0:
            continue
        r = br[k]
        q = r * inv
        if q >= EJECTA_REACH:
            break
        rr = r * r
        if q < 1.0:
            f1 = q * q - 1.0
            f2 = 1.0
        else:
            f1 = 0.0
            f2 = (1.0 / (q * q * q) - tail) / (1.0 - tail)
        g01 += n * f1
        g02 += n * f2
        g11 += n * f1 * f1
        g12 += n * f1 * f2
        g22 += n * f2 * f2
        g13 += n * f1 * rr
        g23 += n * f2 * rr
        rz1 += n * f1 * bz[k]
        rz2 += n * f2 * bz[k]
    g = np.array(
        [
            [base[0], g01, g02, base[1]],
            [g01, g11, g12, g13],
            [g02, g12, g22, g23],
            [base[1], g13, g23, base[2]],
        ]
    )
    rhs = np.array([base[3], rz1, rz2, base[4]])
    sol = kern._solve(g, rhs.copy())  # the plain-Python solver (fixture above)
    x[:] = sol
    if np.isnan(sol[0]) or sol[1] <= 0.0 or sol[2] < min_rim * sol[1]:
        return np.inf
    return max(
        base[5] - (sol[0] * rhs[0] + sol[1] * rhs[1] + sol[2] * rhs[2] + sol[3] * rhs[3]), 0.0
    )


def radial_bins(rng, n_bins, bin_px, empty_share):
    """Bins as ``_fit_one`` leaves them: counts, mean radius per bin, mean height per bin."""
    bn = rng.integers(1, 40, n_bins).astype(float)
    bn[rng.random(n_bins) < empty_share] = 0.0
    br = (np.arange(n_bins) + rng.random(n_bins)) * bin_px
    bz = rng.normal(0.0, 0.3, n_bins) - 0.5 * (br < 0.4 * br[-1])  # a dip at the centre
    base = np.zeros(6)
    for k in np.flatnonzero(bn):
        rr = br[k] * br[k]
        base += bn[k] * np.array([1.0, rr, rr * rr, bz[k], rr * bz[k], bz[k] * bz[k]])
    return bn, br, bz, base


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("empty_share", [0.0, 0.3, 0.97])
def test_profile_sse_equals_the_allocating_reference(seed, empty_share):
    rng = np.random.default_rng(seed)
    n_bins = int(rng.integers(20, 80))
    bn, br, bz, base = radial_bins(rng, n_bins, 0.25 + 0.2 * rng.random(), empty_share)
    scratch = np.empty((4, 4)), np.empty(4)
    new = kern._profile_sse.py_func
    rejected = accepted = 0
    for radius in br[-1] * np.geomspace(0.05, 0.6, 25):
        for min_rim in (-0.3, 0.0, 0.5):
            x_ref, x_new = np.empty(4), np.empty(4)
            want = profile_sse_reference(bn, br, bz, radius, min_rim, base, x_ref)
            got = new(bn, br, bz, radius, min_rim, base, x_new, *scratch)
            assert np.array_equal(np.float64(got), np.float64(want), equal_nan=True)
            assert x_new.tobytes() == x_ref.tobytes()  # every bit, NaNs of singular fits too
            rejected += np.isinf(want)
            accepted += np.isfinite(want)
    if empty_share < 0.9:  # both outcomes are exercised, not only one
        assert rejected > 0 and accepted > 0


def test_profile_sse_of_a_singular_system_is_rejected_like_the_reference():
    bn = np.zeros(10)
    br = np.arange(10) * 0.5
    bz = np.zeros(10)
    base = np.zeros(6)
    x_new = np.zeros(4)
    scratch = np.empty((4, 4)), np.empty(4)
    assert kern._profile_sse.py_func(bn, br, bz, 2.0, -0.3, base, x_new, *scratch) == np.inf
    x_ref = np.zeros(4)
    assert profile_sse_reference(bn, br, bz, 2.0, -0.3, base, x_ref) == np.inf
    assert np.isnan(x_new).all() and np.isnan(x_ref).all()
