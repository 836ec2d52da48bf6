"""Progress reporting: libraries take a plain callback; the CLI makes it a rich bar on stderr."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

ProgressCallback = Callable[[float, str], None]
"""``callback(fraction_done, stage)``: fraction in [0, 1], stage a short human label."""

stderr_console = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def progress_bar(title: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """Yield a callback that drives one progress bar on stderr; silent when disabled."""
    if not enabled:
        yield lambda fraction, stage="": None
        return
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
