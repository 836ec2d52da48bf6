"""Printing for the command line: results on stdout, progress and status on stderr."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ...progress import ProgressCallback, no_progress
from ..formats import fmt, plain

__all__ = ["print_json", "print_summary", "progress_bar", "stderr_console", "stdout_console"]

stdout_console = Console(highlight=False)
stderr_console = Console(stderr=True, highlight=False)


def kernels_compiled() -> bool | None:
    """Whether the numeric kernels are already compiled into numba's on-disk cache.

    Looks for the cache index of one kernel every command uses; None when numba's cache layout
    cannot be read (then nothing is said).
    """
    try:
        from frigoris.terrain import _hazard_kernels

        index = _hazard_kernels._fuse_rows._cache._cache_file._index_path
    except (ImportError, AttributeError):  # pragma: no cover - another numba's internals
        return None
    return os.path.exists(index)


@contextlib.contextmanager
def progress_bar(title: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """Yield a callback that drives one progress bar on stderr; silent when disabled.

    On the first run after installing, it says that the kernels compile once.
    """
    if not enabled:
        yield no_progress
        return
    if kernels_compiled() is False:
        stderr_console.print(
            "first run: frigoris compiles its numeric kernels once (about a minute on 2 "
            "cores) and caches them; later runs start at once"
        )
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=stderr_console,
        transient=not sys.stderr.isatty(),
    )
    with progress:
        task = progress.add_task(title, total=1.0, stage="")

        def update(fraction: float, stage: str = "") -> None:
            progress.update(task, completed=min(max(fraction, 0.0), 1.0), stage=stage)

        yield update
        progress.update(task, completed=1.0)


def print_json(doc: Mapping[str, Any]) -> None:
    """JSON on stdout: plain values, never NaN."""
    print(json.dumps(plain(dict(doc)), indent=2, allow_nan=False, default=str))


def print_summary(
    title: str,
    summary: Mapping[str, Any],
    *,
    as_json: bool = False,
    outputs: Mapping[str, Any] | None = None,
) -> None:
    """Print a two-column table (or JSON) of a job's summary and the files it wrote."""
    if as_json:
        doc = dict(summary)
        if outputs:
            doc["outputs"] = {k: str(v) for k, v in outputs.items()}
        print_json(doc)
        return
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), _cell(value))
    for key, value in (outputs or {}).items():
        table.add_row(f"→ {key}", str(value))
    stdout_console.print(table)


def _cell(v: Any) -> str:
    if isinstance(v, Mapping):
        return "; ".join(f"{k.replace('_', ' ')} {_cell(x)}" for k, x in v.items())
    return fmt(v)
