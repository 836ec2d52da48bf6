"""The first run says that the kernels compile once (the probe of numba's on-disk cache)."""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = """
from frigoris.rover.app.cli import console
print(console.kernels_compiled())
with console.progress_bar("demo"):
    pass
"""


def test_first_run_with_an_empty_kernel_cache_says_so(tmp_path):
    """With an empty cache folder the probe answers False (None would mean it lost the kernel
    it reads, and the first run would compile in silence) and the progress line says so."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False"]
    assert "first run: frigoris compiles its numeric kernels once" in out.stderr
