"""Where a run came from: the frigoris version, software versions and file checksums."""

from __future__ import annotations

import hashlib
import os
import platform
from importlib import metadata
from typing import Any

import numpy as np
import rasterio

__all__ = ["frigoris_version", "sha256_file", "software_versions"]


def frigoris_version() -> str:
    """Installed version of the frigoris package."""
    try:
        return metadata.version("frigoris")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def software_versions() -> dict[str, Any]:
    """Versions of frigoris, Python, numpy, rasterio and GDAL (the manifest records them)."""
    return {
        "frigoris": frigoris_version(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "rasterio": rasterio.__version__,
        "gdal": rasterio.__gdal_version__,
    }
