"""The command line's atomic writes: a result appears complete at its path, or not at all.

This is the CLI's own staging until the project's one helper, `tsforecast.atomic`, is on main;
`atomic_dir` and `atomic_path` keep that module's names and contract, so swapping means
importing them from there and deleting this file. Nothing else in the CLI stages files.

A folder is filled under a hidden temporary name beside its final place and renamed over it in
one step; a file goes through a hidden temporary file and `os.replace`. A failure deletes the
temporary and leaves what was at the target untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "atomic_path"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file path beside `path`; on success move it onto `path`, else delete it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; on success it replaces the folder `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes 0700; results are an ordinary folder
        yield stage
        old = None
        if target.exists():
            # a rename cannot replace a folder with files in it: move the old one aside first
            old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
            os.replace(target, old)
        os.replace(stage, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # gone already after a successful rename


def _umask() -> int:
    # the only way to read the umask is to set it; set it straight back
    mask = os.umask(0)
    os.umask(mask)
    return mask
