"""Progress reporting: libraries take a plain callback; the CLI draws it as a bar on stderr."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressCallback", "no_progress"]

ProgressCallback = Callable[[float, str], None]
"""``callback(fraction_done, stage)``: fraction in [0, 1], stage a short human label."""


def no_progress(fraction: float, stage: str = "") -> None:
    """The default progress callback: report nothing."""
    return None
