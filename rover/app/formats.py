"""The one set of JSON and formatting helpers of the application layer.

Every product that writes JSON, CSV, HTML or a table goes through these, so the same value is
written the same way everywhere: numpy scalars become Python numbers, a non-finite float
becomes ``null`` (never ``NaN`` in a JSON file), times are UTC ISO 8601 to the second.
"""

from __future__ import annotations

import math
import pathlib
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

__all__ = ["fmt", "num", "plain", "utc_at", "utc_human", "utc_iso"]


def plain(v: Any) -> Any:
    """``v`` as plain JSON values: numpy to Python, paths to text, non-finite floats to None.

    Examples
    --------
    >>> plain({"a": np.float32(1.5), "b": [float("nan"), np.int64(2)]})
    {'a': 1.5, 'b': [None, 2]}
    """
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return [plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pathlib.PurePath):
        return str(v)
    if isinstance(v, datetime):
        return utc_iso(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def num(v: Any, nd: int = 3) -> float | None:
    """A number rounded to ``nd`` decimals for a file, or None when missing or not finite.

    Examples
    --------
    >>> num(2.34567), num(float("inf")), num(None)
    (2.346, None, None)
    """
    if v is None:
        return None
    v = float(v)
    return round(v, nd) if math.isfinite(v) else None


def utc_iso(t: datetime) -> str:
    """``2025-06-05T19:17:00Z``: an aware time in UTC to the second.

    Examples
    --------
    >>> utc_iso(datetime(2025, 6, 5, 19, 17, tzinfo=timezone.utc))
    '2025-06-05T19:17:00Z'
    """
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_human(t: datetime) -> str:
    """``2025-06-05 19:17 UTC``: a time for people, to the minute.

    Examples
    --------
    >>> utc_human(datetime(2025, 6, 5, 19, 17, 30, tzinfo=timezone.utc))
    '2025-06-05 19:17 UTC'
    """
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def utc_at(start: datetime, t_s: float) -> str:
    """:func:`utc_iso` of ``start`` plus ``t_s`` seconds."""
    return utc_iso(start + timedelta(seconds=float(t_s)))


def fmt(v: Any, nd: int = 4) -> str:
    """A value for people: ``nd`` significant digits, never scientific notation, "-" if missing.

    Examples
    --------
    >>> fmt(2232.4), fmt(0.012345), fmt(float("nan")), fmt(True), fmt([1.5, 2])
    ('2232', '0.01235', '-', 'yes', '1.5, 2')
    """
    if v is None:
        return "-"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return ", ".join(fmt(x, nd) for x in v)
    if isinstance(v, float | np.floating):
        x = float(v)
        if not math.isfinite(x):
            return "-"
        if x != 0.0 and abs(x) < 10 ** -(nd + 1):
            return f"{x:.{nd}g}"
        digits = max(nd - 1 - int(math.floor(math.log10(abs(x)))) if x != 0.0 else 0, 0)
        text = f"{x:.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(v)
