"""The hazard stack's faster paths give the numbers of the straightforward expressions.

Each fast path (a test done in a kernel instead of a whole-array temporary, row bands on
threads) is compared with the plain numpy expression it replaces, on cases that reach its edges.
"""

from __future__ import annotations

import numpy as np
import pytest

from frigoris.terrain import _hazard_kernels as hk


def counts(in_range, shape=(41, 57), seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=shape).astype(np.float32)
    z[rng.random(shape) < 0.05] = np.nan
    reasons = rng.integers(0, 64, size=shape).astype(np.uint8)
    risk = rng.random(shape).astype(np.float32)
    slope = (rng.random(shape) * 30).astype(np.float32)
    return hk.window_counts(
        z,
        reasons,
        risk,
        np.zeros((1, 1), np.float32),
        True,
        slope,
        np.zeros((1, 1), bool),
        False,
        in_range,
    )


@pytest.mark.parametrize(
    ("offsets", "res_m", "range_m"),
    [
        ((-20, -28), 0.5, 2.5),  # 3-4-5 cells: distances exactly on the range count as in it
        ((-20, -28), 0.5, 10.0),  # (20, 0) and (12, 16) exactly on it
        ((-20, -28), 0.5, 10.0 - 1e-12),  # just short of it: they drop out
        ((-3, 5), 0.1, 1.3),  # 0.1 m is not exact in binary: the edge as the products round
        ((-3, 5), 0.1, 4.7),
        ((7, -60), 5.0, 1e9),  # everything
        ((7, -60), 5.0, 1.0),  # nothing
    ],
)
def test_the_disc_in_the_kernel_counts_what_numpy_hypot_counts(offsets, res_m, range_m):
    rows = np.arange(41) + offsets[0]
    cols = np.arange(57) + offsets[1]
    array = res_m * np.hypot(rows[:, None], cols[None, :]) <= range_m
    want = counts(array)
    got = counts((offsets[0], offsets[1], res_m, range_m))
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g)
    assert 0 < want[1].sum() < want[0].sum() or range_m in (1e9, 1.0)
