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


_MEMO_MIN_BYTES = 32 << 20
"""Files at least this big have their digest remembered, per process, while their stat is the
same (a replan hashes its 200 MB of inputs three times otherwise: checked, named in the plan
state, listed in the manifest). Hashing one takes longer than the file clock's tick, so a file
rewritten after it was hashed has another modification time."""
_MEMO: dict[str, tuple[tuple[int, ...], str]] = {}


def _stat_key(path: str) -> tuple[int, ...]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (big files' digests are remembered while unchanged)."""
    real = os.path.realpath(path)
    key = _stat_key(real)
    big = key[2] >= _MEMO_MIN_BYTES
    if big and real in _MEMO and _MEMO[real][0] == key:
        return _MEMO[real][1]
    h = hashlib.sha256()
    with open(real, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if big and _stat_key(real) == key:  # unchanged while it was read
        if len(_MEMO) >= 64:
            _MEMO.clear()
        _MEMO[real] = (key, digest)
    return digest


def software_versions() -> dict[str, Any]:
    """Versions of frigoris, Python, numpy, rasterio and GDAL (the manifest records them)."""
    return {
        "frigoris": frigoris_version(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "rasterio": rasterio.__version__,
        "gdal": rasterio.__gdal_version__,
    }
