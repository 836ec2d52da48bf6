"""Printing results: a rich table on stdout, or JSON with --json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

stdout_console = Console(highlight=False)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.6g}"
    if isinstance(v, list | tuple):
        return " x ".join(_fmt(x) for x in v) if len(v) == 2 else ", ".join(_fmt(x) for x in v)
    return str(v)


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
        print(json.dumps(doc, indent=2, default=str))
        return
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), _fmt(value))
    for key, value in (outputs or {}).items():
        table.add_row(f"→ {key}", str(value))
    stdout_console.print(table)
