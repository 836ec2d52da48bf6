"""An output folder that only ever holds whole runs.

A job writes every file into a hidden staging folder beside ``out_dir`` (same file system) and
the files move into ``out_dir`` only when the whole job has succeeded. A job that fails, for a
bad input found late, a full disk or an interrupt, leaves ``out_dir`` exactly as it was: nothing
written, nothing of an earlier run destroyed. A folder that already holds files the job would
write is refused unless ``overwrite`` is given (as the rio commands do); with it, the job's own
files of the earlier run are replaced and those this run does not write are removed, so the
folder always shows one run. Files frigoris does not write are never touched.

Each file moves with an atomic rename; a process killed during those renames (milliseconds)
can leave a folder with files of both runs, never a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping

from ...errors import RoverError

__all__ = ["Stage", "check_output_folder", "staged_output"]


class Stage:
    """Where a job writes: :attr:`path` now, :attr:`out_dir` once the job succeeds."""

    def __init__(self, path: pathlib.Path, out_dir: pathlib.Path):
        self.path = path
        self.out_dir = out_dir

    def final(self, outputs: Mapping[str, pathlib.Path]) -> dict[str, pathlib.Path]:
        """The same outputs at their final place in ``out_dir``."""
        return {k: self.out_dir / p.relative_to(self.path) for k, p in outputs.items()}


def _conflicts(out_dir: pathlib.Path, owned: Iterable[str]) -> list[str]:
    if not out_dir.is_dir():
        return []
    return sorted(name for name in owned if (out_dir / name).exists())


def check_output_folder(out_dir: pathlib.Path, owned: Iterable[str], *, overwrite: bool) -> None:
    """Refuse a folder that is a file, or that holds this job's files without ``overwrite``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RoverError(f"output folder {out_dir} is a file; choose a folder with -o DIR")
    clash = _conflicts(out_dir, owned)
    if clash and not overwrite:
        more = f" and {len(clash) - 1} more" if len(clash) > 1 else ""
        raise RoverError(
            f"{out_dir} already holds {clash[0]}{more} from an earlier run; pass --overwrite "
            "to replace that run or choose another folder with -o"
        )


@contextlib.contextmanager
def staged_output(
    out_dir: str | os.PathLike, *, owned: Iterable[str], overwrite: bool = False
) -> Iterator[Stage]:
    """Stage a job's outputs and publish them into ``out_dir`` only if the block succeeds.

    Parameters
    ----------
    out_dir : path-like
        The folder that receives the outputs (created, with its parents, on success).
    owned : iterable of str
        Names of every file the job may write (relative to ``out_dir``).
    overwrite : bool
        Replace an earlier run's files; without it, a folder holding any of them is refused.

    Yields
    ------
    Stage
        Write into ``stage.path``; map the written paths with :meth:`Stage.final`.

    Raises
    ------
    RoverError
        ``out_dir`` is a file, or holds owned files and ``overwrite`` is false.
    """
    out = pathlib.Path(out_dir)
    owned = tuple(owned)
    check_output_folder(out, owned, overwrite=overwrite)
    # the staging folder lives beside the final one so every move is a rename
    parent = out.absolute().parent
    created = next((p for p in [*reversed(parent.parents), parent] if not p.exists()), None)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    try:
        yield Stage(tmp, out)
        _publish(tmp, out, owned)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def _publish(tmp: pathlib.Path, out: pathlib.Path, owned: tuple[str, ...]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    written = {p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file()}
    for rel in sorted(written):
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, dest)
    for name in owned:
        old = out / name
        if pathlib.Path(name) not in written and old.is_file():
            old.unlink()
