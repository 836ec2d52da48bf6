"""Monte Carlo touchdowns in chunks on Dask: the same records on any scheduler."""

from __future__ import annotations

import numpy as np
import pytest

from frigoris.rover.errors import TouchdownError
from frigoris.rover.specs import RESILIENCE
from frigoris.rover.touchdown import simulate_touchdown, simulate_touchdown_distributed


@pytest.fixture
def bumpy(make_dem):
    """A 60 m square at 0.25 m with metre-scale bumps: some runs tilt, some stand."""
    rng = np.random.default_rng(3)
    from scipy.ndimage import gaussian_filter

    z = -2430.0 + gaussian_filter(rng.normal(size=(240, 240)), 6.0) * 40.0
    return make_dem(z, res_m=0.25)


def _same_records(a, b) -> bool:
    numbers = [
        [
            (r.index, r.x, r.y, r.yaw_deg, r.v_vertical_m_s, r.tilt_deg, r.clearance_m)
            for r in res.runs
        ]
        for res in (a, b)
    ]
    return (
        len(a) == len(b)
        and [r.outcome for r in a.runs] == [r.outcome for r in b.runs]
        and np.array_equal(np.array(numbers[0]), np.array(numbers[1]), equal_nan=True)
    )


def test_chunks_are_the_seeded_children(bumpy):
    res = simulate_touchdown_distributed(
        bumpy, RESILIENCE, (0.0, 0.0), runs=250, seed=4, chunk=100, scheduler="synchronous"
    )
    assert len(res) == 250 and [r.index for r in res.runs] == list(range(250))
    assert res.seed == 4 and res.scenario == "nominal"
    # chunk 1 is simulate_touchdown with the seed of the SeedSequence's second child
    child = np.random.SeedSequence(4).spawn(3)[1]
    seed = int(child.generate_state(2, dtype=np.uint32).astype(np.uint64) @ [1 << 32, 1])
    one = simulate_touchdown(bumpy, RESILIENCE, (0.0, 0.0), runs=100, seed=seed)
    assert [(r.x, r.y, r.outcome) for r in res.runs[100:200]] == [
        (r.x, r.y, r.outcome) for r in one.runs
    ]
    assert len(set(res.counts.values()) - {0}) >= 2  # more than one outcome occurs


def test_threads_and_local_cluster_give_identical_records(bumpy):
    distributed = pytest.importorskip("distributed")
    kw = dict(runs=300, seed=11, chunk=64, descent="mission-2")
    ticks = []
    local = simulate_touchdown_distributed(
        bumpy, RESILIENCE, (2.0, -3.0), **kw, progress=lambda f, s="": ticks.append(f)
    )
    assert ticks[-1] == 1.0 and len(ticks) == 5
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        with distributed.Client(cluster) as client:
            remote = simulate_touchdown_distributed(
                bumpy, RESILIENCE, (2.0, -3.0), **kw, scheduler=client
            )
    assert _same_records(local, remote)
    assert local.counts == remote.counts and local.counts["crash"] > 0
    other = simulate_touchdown_distributed(bumpy, RESILIENCE, (2.0, -3.0), **{**kw, "chunk": 100})
    assert not _same_records(other, local)  # the chunk size is part of the seed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(runs=0), "runs"),
        (dict(runs=10, chunk=0), "chunk"),
        (dict(runs=10, target=(1e5, 0.0)), "outside the DEM"),
    ],
)
def test_bad_inputs_fail_before_any_task(bumpy, kwargs, match):
    target = kwargs.pop("target", (0.0, 0.0))
    with pytest.raises(TouchdownError, match=match):
        simulate_touchdown_distributed(bumpy, RESILIENCE, target, **kwargs)
