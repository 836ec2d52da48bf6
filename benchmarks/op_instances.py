"""Reader for the Tsiligirides orienteering instances in ``benchmarks/data/op``.

Benchmarks may read files; :mod:`planners` may not, so the file format lives here and the solver
only ever sees the arrays this module builds.

Instance format (whitespace separated, CRLF tolerated)::

    Tmax P          length budget, number of paths (always 1 here)
    x y 0           start point
    x y 0           end point
    x y score       one line per other point

Start and end are distinct nodes even when they share coordinates. Distances are Euclidean and
not rounded.
"""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass

import numpy as np


def op_dir() -> pathlib.Path:
    """Folder holding the orienteering benchmark (``benchmarks/data/op``, see its README)."""
    return pathlib.Path(__file__).resolve().parent / "data" / "op"


@dataclass(frozen=True)
class OpInstance:
    """One orienteering instance: node 0 is the start, node 1 the end."""

    name: str
    budget: float
    xy: np.ndarray  # (N, 2)
    prizes: np.ndarray  # (N,)
    best_known: float | None = None
    published: tuple[tuple[str, float], ...] = ()  # (source, score) pairs from the table

    @property
    def start(self) -> int:
        return 0

    @property
    def end(self) -> int:
        return 1

    def travel(self) -> np.ndarray:
        """Euclidean distance matrix, shape (N, N), not rounded."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        return np.sqrt((diff**2).sum(axis=-1))


def read_instance(
    path: pathlib.Path,
    best_known: float | None = None,
    published: tuple[tuple[str, float], ...] = (),
) -> OpInstance:
    """Parse one Tsiligirides instance file."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if len(rows) < 3:
        raise ValueError(f"{path}: expected a header, a start and an end line")
    budget = float(rows[0][0])
    if len(rows[0]) > 1 and int(float(rows[0][1])) != 1:
        raise ValueError(f"{path}: {rows[0][1]} paths; only single-path instances are supported")
    pts = np.array([[float(v) for v in r[:3]] for r in rows[1:]], dtype=float)
    if pts.shape[1] != 3:
        raise ValueError(f"{path}: every point line needs x y score")
    return OpInstance(
        name=path.stem,
        budget=budget,
        xy=pts[:, :2].copy(),
        prizes=pts[:, 2].copy(),
        best_known=best_known,
        published=published,
    )


def load_tsiligirides(root: pathlib.Path | None = None) -> list[OpInstance]:
    """Every instance listed in ``tsiligirides_best_known.csv``, with its published scores."""
    root = op_dir() if root is None else root
    table = root / "tsiligirides_best_known.csv"
    if not table.exists():
        raise FileNotFoundError(f"{table} not found: the repository is incomplete")
    out = []
    with table.open(newline="") as fh:
        for row in csv.DictReader(fh):
            path = root / row["instance_file"]
            published = tuple(
                (key.removeprefix("score_"), float(value))
                for key, value in row.items()
                if key.startswith("score_") and value not in ("", None)
            )
            out.append(read_instance(path, float(row["best_reported"]), published))
    return out
