"""Calling the compiled kernels: one compile per kernel, and threads without numba's parfors.

numba compiles a kernel once per tuple of argument types, and a read-only array is a different
type from a writable one of the same dtype and layout. The elevation of a :class:`Dem` is
read-only while arrays a step computes are writable, so a kernel fed both compiles twice.
Kernels therefore take their input arrays as read-only views (:func:`readonly`), whatever the
caller holds.

A ``parallel=True`` kernel costs several seconds more to compile than the same loop run
serially (the parfor passes and a second, gufunc copy of the loop body); on a first run that
was half of the compile time. Kernels whose outer loop has independent iterations are
therefore compiled serially over a range ``[lo, hi)`` of it, without the GIL, and
:func:`split_range` runs the range in pieces on threads: the same cores, the same numbers
(each iteration computes what it did), a fraction of the compile.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np


def readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (no copy)."""
    view = a.view()
    view.flags.writeable = False
    return view


def split_range(run: Callable[[int, int], object], n: int, *, min_piece: int = 1) -> None:
    """Call ``run(lo, hi)`` over pieces covering ``[0, n)``, one per thread, side by side.

    As many pieces as numba's thread count for the calling thread (``numba.set_num_threads``
    limits it as it limits a parallel kernel), each at least ``min_piece`` long. ``run`` must
    release the GIL (a ``nogil`` kernel) and its pieces must not write to the same cells.
    """
    pieces = max(1, min(numba.get_num_threads(), n // max(min_piece, 1)))
    if pieces == 1:
        run(0, n)
        return
    bounds = [n * k // pieces for k in range(pieces + 1)]
    with ThreadPoolExecutor(pieces) as pool:
        # list() re-raises the first exception of any piece
        list(pool.map(run, bounds[:-1], bounds[1:]))
