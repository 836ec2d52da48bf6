"""Generated orienteering benchmark instances with proven optima (``benchmarks/data/orienteering``).

Three families, 50-150 nodes, written once by :func:`generate` and kept as small text files so
that the benchmark never depends on a generator staying bit-for-bit the same:

- ``op``: orienteering without windows, in the Tsiligirides file format (start line, end line,
  then ``x y score``; Euclidean distances, not rounded), after Fischetti, Salazar & Toth (1998):
  uniform or clustered points, prizes of "generation" 1 (all equal), 2 (pseudo-random) or 3
  (growing with the distance from the depot), budget half an estimated tour through all points.
- ``optw``: orienteering with time windows and service times after Solomon (1987) and Righini &
  Salani (2009): a depot, customers uniform, clustered or mixed, service 10, one window per
  customer, Euclidean travel not rounded; a closed tour from the depot within its window.
- ``traverse``: the problem :func:`frigoris.planners.plan_traverse` builds for the solver on a
  synthetic site (candidate stops on the hazard cost raster, least-cost travel times scaled by
  the drive duty, dwell times as service, a zero-cost dummy end), optionally with illumination
  and link windows (see :mod:`benchmarks.gen_traverse_instances`).
- ``rover``: ``tw150``, the synthetic rover-like instance that ``bench_orienteering`` has used
  since the first solver (150 nodes, uphill costs extra, 5 % missing edges, windows on 70 % of
  the nodes, service times): the "150-node benchmark with windows" of issue 18, kept as the
  points, heights and missing edges it is made of (:func:`rover_instance`).

``proven.csv`` holds, per instance, the optimum proven by long CP-SAT runs
(:mod:`benchmarks.prove_orienteering`) or by an ng-route DP bound that meets the best route
(:mod:`benchmarks.orienteering_ng_bound`; ``proof_s`` is then the DP's time), the best bound
where no proof was reached (the lower of the two methods'), and the prize that the solver as it
was before issue 18 (commit 70c3219) returned with ``time_limit_s=10``.
"""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass

import numpy as np

from benchmarks.op_instances import read_instance


def data_dir() -> pathlib.Path:
    """Folder of the generated instances."""
    return pathlib.Path(__file__).resolve().parent / "data" / "orienteering"


@dataclass(frozen=True)
class Problem:
    """One instance as :func:`solve_orienteering` takes it."""

    name: str
    family: str  # "op", "optw" or "traverse"
    travel: np.ndarray
    prizes: np.ndarray
    budget: float
    start: int
    end: int
    service: np.ndarray | None = None
    windows: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.prizes)

    def kwargs(self) -> dict:
        """Keyword arguments of :func:`solve_orienteering` and :func:`check_route`."""
        return dict(start=self.start, end=self.end, service=self.service, time_windows=self.windows)


@dataclass(frozen=True)
class Known:
    """What is known about an instance's optimum (a row of ``proven.csv``)."""

    name: str
    optimum: float | None  # proven optimum, None if open
    best: float  # best prize found (the optimum when proven)
    bound: float  # best proven upper bound (the optimum when proven)
    legacy_prize: float | None  # solver at commit 70c3219, time_limit_s=10, seed 0
    legacy_bound: float | None = None  # the bound that solver reported with it


def euclid(xy: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix, not rounded."""
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


# --------------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------------


def _points(rng: np.random.Generator, n: int, layout: str, size: float) -> np.ndarray:
    if layout == "uniform":
        return rng.uniform(0, size, (n, 2))
    k = max(3, n // 12)
    centres = rng.uniform(0.15 * size, 0.85 * size, (k, 2))
    if layout == "clustered":
        pick = rng.integers(0, k, n)
        return np.clip(centres[pick] + rng.normal(0, 0.06 * size, (n, 2)), 0, size)
    # mixed: half clustered, half uniform
    half = n // 2
    pick = rng.integers(0, k, half)
    a = np.clip(centres[pick] + rng.normal(0, 0.06 * size, (half, 2)), 0, size)
    return np.vstack([a, rng.uniform(0, size, (n - half, 2))])


def _tour_length(xy: np.ndarray) -> float:
    """Nearest-neighbour tour improved by 2-opt: an estimate of the shortest tour."""
    d = euclid(xy)
    n = len(xy)
    tour = [0]
    free = set(range(1, n))
    while free:
        last = tour[-1]
        nxt = min(free, key=lambda j: (d[last, j], j))
        tour.append(nxt)
        free.remove(nxt)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = tour[i - 1], tour[i]
                c, e = tour[j], tour[(j + 1) % n]
                if d[a, c] + d[b, e] < d[a, b] + d[c, e] - 1e-12:
                    tour[i : j + 1] = tour[i : j + 1][::-1]
                    improved = True
    return float(sum(d[tour[k], tour[(k + 1) % n]] for k in range(n)))


def make_op(n: int, layout: str, generation: int, budget_fraction: float, seed: int) -> str:
    """Text of an OP instance (Tsiligirides format; depot first, as start and as end).

    ``n`` counts the distinct places (the end line repeats the depot).
    """
    rng = np.random.default_rng(seed)
    xy = np.round(_points(rng, n, layout, 100.0), 2)
    d0 = np.hypot(*(xy - xy[0]).T)
    if generation == 1:
        score = np.ones(n)
    elif generation == 2:
        score = 1 + (7141 * np.arange(n) + 73) % 100
    else:
        score = 1 + np.floor(99 * d0 / d0.max())
    budget = round(budget_fraction * _tour_length(xy), 1)
    lines = [f"{budget:g} 1", f"{xy[0, 0]:g} {xy[0, 1]:g} 0", f"{xy[0, 0]:g} {xy[0, 1]:g} 0"]
    lines += [f"{x:g} {y:g} {int(s)}" for (x, y), s in zip(xy[1:], score[1:], strict=True)]
    return "\n".join(lines) + "\n"


def make_optw(n: int, layout: str, horizon: float, width: tuple[float, float], seed: int) -> str:
    """Text of an OPTW instance: ``n budget`` then ``x y service open close prize`` per node.

    Node 0 is the depot (start and end, window ``[0, horizon]``); customers have service 10, a
    prize 1-50 and a window of width ``U(width)`` centred uniformly where the depot can be left
    and reached again in time (Solomon's construction).
    """
    rng = np.random.default_rng(seed)
    xy = np.round(_points(rng, n, layout, 70.0), 1)
    xy[0] = (35.0, 35.0)
    d0 = np.hypot(*(xy - xy[0]).T)
    service = np.full(n, 10.0)
    service[0] = 0.0
    lo_c = d0
    hi_c = horizon - d0 - service
    centre = rng.uniform(lo_c, np.maximum(lo_c, hi_c))
    half = 0.5 * rng.uniform(*width, n)
    opens = np.round(np.maximum(0.0, centre - half))
    closes = np.round(np.minimum(horizon, centre + half))
    opens[0], closes[0] = 0.0, horizon
    prize = rng.integers(1, 51, n)
    prize[0] = 0
    lines = [f"{n} {horizon:g}"]
    lines += [
        f"{x:g} {y:g} {s:g} {o:g} {c:g} {p}"
        for (x, y), s, o, c, p in zip(xy, service, opens, closes, prize, strict=True)
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------


def read_op(path: pathlib.Path) -> Problem:
    inst = read_instance(path)
    return Problem(path.stem, "op", inst.travel(), inst.prizes, inst.budget, 0, 1)


def read_optw(path: pathlib.Path) -> Problem:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    n, budget = int(rows[0][0]), float(rows[0][1])
    data = np.array([[float(v) for v in r] for r in rows[1 : n + 1]])
    if data.shape != (n, 6):
        raise ValueError(f"{path}: expected {n} rows of x y service open close prize")
    return Problem(
        path.stem,
        "optw",
        euclid(data[:, :2]),
        data[:, 5].copy(),
        budget,
        0,
        0,
        data[:, 2].copy(),
        data[:, 3:5].copy(),
    )


def read_traverse(path: pathlib.Path) -> Problem:
    """``n budget start end``, ``n`` rows ``prize service open close``, then the travel rows."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    head = rows[0]
    n, budget, start, end = int(head[0]), float(head[1]), int(head[2]), int(head[3])
    nodes = np.array([[float(v) for v in r] for r in rows[1 : n + 1]])
    travel = np.array([[float(v) for v in r] for r in rows[n + 1 : 2 * n + 1]])
    if nodes.shape != (n, 4) or travel.shape != (n, n):
        raise ValueError(f"{path}: expected {n} node rows and an {n} x {n} travel matrix")
    windows = nodes[:, 2:4].copy()
    has_windows = bool((windows[:, 0] > 0).any() or np.isfinite(windows[:, 1]).any())
    return Problem(
        path.stem,
        "traverse",
        travel,
        nodes[:, 0].copy(),
        budget,
        start,
        end,
        nodes[:, 1].copy(),
        windows if has_windows else None,
    )


def rover_instance(n: int = 150, seed: int = 2025, budget: float = 300.0) -> str:
    """Text of the synthetic rover-like instance (``tw150`` with the defaults).

    A 100 x 100 field, uphill costs extra (``travel[i, j] = |xy_i - xy_j| + 0.5 * max(0,
    h_j - h_i)``), 5 % missing edges; 70 % of the nodes have a window opening in ``[0, 0.7 *
    budget]`` lasting 15-60; service 1-5; prizes 1-10; start 0 and end 1 near the centre.
    Format: ``n budget start end``, ``n`` rows ``x y h service open close prize`` (floats
    written exactly), ``missing K`` and ``K`` rows ``i j``.
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    xy[0], xy[1] = (50, 50), (55, 50)
    height = rng.uniform(0, 10, n)
    missing = rng.random((n, n)) < 0.05
    np.fill_diagonal(missing, False)
    service = rng.uniform(1, 5, n)
    service[[0, 1]] = 0.0
    windows = np.column_stack([np.zeros(n), np.full(n, np.inf)])
    has = rng.random(n) < 0.7
    opens = rng.uniform(0, 0.7 * budget, n)
    widths = rng.uniform(15, 60, n)
    windows[has, 0] = opens[has]
    windows[has, 1] = opens[has] + widths[has]
    windows[[0, 1]] = (0.0, np.inf)
    prizes = rng.integers(1, 11, n).astype(float)
    prizes[[0, 1]] = 0.0
    lines = [f"{n} {budget!r} 0 1"]
    for i in range(n):
        values = (xy[i, 0], xy[i, 1], height[i], service[i], windows[i, 0], windows[i, 1])
        lines.append(" ".join(repr(float(v)) for v in values) + f" {prizes[i]:g}")
    pairs = np.argwhere(missing)
    lines.append(f"missing {len(pairs)}")
    lines += [f"{i} {j}" for i, j in pairs]
    return "\n".join(lines) + "\n"


def read_rover(path: pathlib.Path) -> Problem:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    n, budget, start, end = int(rows[0][0]), float(rows[0][1]), int(rows[0][2]), int(rows[0][3])
    data = np.array([[float(v) for v in r] for r in rows[1 : n + 1]])
    k = int(rows[n + 1][1])
    pairs = np.array([[int(v) for v in r] for r in rows[n + 2 : n + 2 + k]], dtype=int)
    xy, height = data[:, :2], data[:, 2]
    travel = euclid(xy) + 0.5 * np.maximum(0.0, height[None, :] - height[:, None])
    if k:
        travel[pairs[:, 0], pairs[:, 1]] = np.inf
    np.fill_diagonal(travel, 0.0)
    return Problem(
        path.stem,
        "rover",
        travel,
        data[:, 6].copy(),
        budget,
        start,
        end,
        data[:, 3].copy(),
        data[:, 4:6].copy(),
    )


_READERS = {"op": read_op, "optw": read_optw, "traverse": read_traverse, "rover": read_rover}


def load(family: str | None = None, root: pathlib.Path | None = None) -> list[Problem]:
    """Every instance of ``family`` (all families if None), sorted by family and name."""
    root = data_dir() if root is None else root
    out = []
    for fam, reader in _READERS.items():
        if family not in (None, fam):
            continue
        for path in sorted((root / fam).glob("*.txt")):
            out.append(reader(path))
    return out


def load_known(root: pathlib.Path | None = None) -> dict[str, Known]:
    """Rows of ``proven.csv`` by instance name."""
    root = data_dir() if root is None else root
    table = root / "proven.csv"
    out: dict[str, Known] = {}
    if not table.exists():
        return out

    def num(v: str) -> float | None:
        return None if v in ("", None) else float(v)

    with table.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = Known(
                row["instance"],
                num(row["optimum"]),
                float(row["best"]),
                float(row["bound"]),
                num(row["legacy_prize"]),
                num(row.get("legacy_bound", "")),
            )
    return out


# --------------------------------------------------------------------------------------------
# The instance list (what `generate` writes)
# --------------------------------------------------------------------------------------------

#: (name, n, layout, generation, budget fraction, seed)
OP_SPECS = [
    (f"op{n}_{lay[0]}_g{g}", n, lay, g, 0.5, 1000 * n + 10 * g + k)
    for n in (50, 75, 100)
    for k, (lay, g) in enumerate([("uniform", 1), ("clustered", 2), ("uniform", 3), ("mixed", 2)])
] + [
    # shorter budgets (about a third of the places reachable), added for more proven optima
    (f"op{n}_{lay[0]}_g{g}_b35", n, lay, g, 0.35, 2000 * n + 10 * g + k)
    for n in (50, 75, 100)
    for k, (lay, g) in enumerate([("uniform", 2), ("clustered", 3)])
]

#: (name, n, layout, horizon, window width range, seed)
OPTW_SPECS = [
    (f"optw{n}_{lay[0]}{kind}", n, lay, horizon, width, 5000 + 100 * n + 10 * k + kind)
    for n in (50, 75, 100)
    for k, lay in enumerate(("uniform", "clustered", "mixed"))
    for kind, horizon, width in ((1, 230.0, (10.0, 60.0)), (2, 400.0, (30.0, 120.0)))
] + [
    # tighter windows (Solomon's r101-like), added for more proven optima
    (f"optw{n}_{lay[0]}3", n, lay, 230.0, (5.0, 30.0), 7000 + 100 * n + 10 * k)
    for n in (50, 75, 100)
    for k, lay in enumerate(("uniform", "clustered", "mixed"))
]


def generate(root: pathlib.Path | None = None) -> list[pathlib.Path]:
    """Write the ``op``, ``optw`` and ``rover`` files (traverse ones have their own generator)."""
    root = data_dir() if root is None else root
    written = []
    path = root / "rover" / "tw150.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rover_instance())
    written.append(path)
    for name, n, layout, gen, frac, seed in OP_SPECS:
        path = root / "op" / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make_op(n, layout, gen, frac, seed))
        written.append(path)
    for name, n, layout, horizon, width, seed in OPTW_SPECS:
        path = root / "optw" / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make_optw(n, layout, horizon, width, seed))
        written.append(path)
    return written


def gap(prize: float, reference: float) -> float:
    """Relative gap of ``prize`` below ``reference`` (0 when at or above it)."""
    return 0.0 if reference <= 0 else max(0.0, (reference - prize) / reference)


if __name__ == "__main__":
    for p in generate():
        print(p)
