"""Atomic writes: a file or a folder appears complete at its path, or not at all.

The one place of the project that writes results in place. Everything is first built under a
hidden temporary name in the target's own folder (so the final move is a rename on one file
system) and then moved over the target; any failure on the way deletes the temporary and leaves
what was at the target untouched. A crash leaves at most a dot-file or dot-folder, never a file
that looks like a result.

- `atomic_path(path)`: a temporary file path to write to (by any writer: pandas, plotly, ...).
- `write_atomic(path, data)`: the same for text or bytes already in memory.
- `atomic_dir(path)`: a temporary folder to fill, then swapped in place of the folder `path`.

Data is fsynced before the rename: without that, a power cut soon after can leave the renamed
file empty on file systems that delay allocation. Permissions follow the umask, as for a file
made with `open` (mkstemp and mkdtemp would make 0600 / 0700).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tsforecast.errors import InputError

__all__ = ["atomic_dir", "atomic_path", "check_writable", "write_atomic"]


def check_writable(path: str | os.PathLike[str], what: str, folder: bool = False) -> None:
    """Refuse, before any work, a path an atomic write could not put a file (or, with
    `folder`, a folder) at: under a file, a folder where a file goes (or the reverse), or in a
    folder this process may not write. Found after the work, each is an OSError that loses it.
    """
    target = Path(path)
    taken = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if taken is not None:
        msg = f"{what} {str(target)!r}: {str(taken)!r} is a file, not a folder."
        raise InputError(msg)
    if target.exists() and target.is_dir() != folder:
        kind, other = ("a file", "folder") if folder else ("a folder", "file")
        msg = f"{what} {str(target)!r} is {kind}; pass a {other} path, or move it away first."
        raise InputError(msg)
    nearest = next((p for p in target.parents if p.exists()), Path("."))
    if not os.access(nearest, os.W_OK | os.X_OK):
        msg = f"{what} {str(target)!r}: the folder {str(nearest)!r} is not writable."
        raise InputError(msg)
    # permission bits do not tell everything (root under /proc, a read-only mount, a full
    # disk): create and remove a file there, as the atomic write will
    try:
        fd, probe = tempfile.mkstemp(prefix=".tsforecast-probe.", dir=nearest)
    except OSError as error:
        msg = (
            f"{what} {str(target)!r}: cannot create a file in the folder {str(nearest)!r} "
            f"({error.strerror or error}); pass a path in a folder you can write to."
        )
        raise InputError(msg) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file path beside `path`; on success move it onto `path`, else delete it.

    The block writes the file at the yielded path (it exists, empty). When the block ends
    without an exception the file is fsynced and renamed onto `path` (replacing a file there);
    on an exception it is deleted and `path` keeps its old content.
    """
    target = Path(path)
    check_writable(target, "cannot write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        msg = f"cannot write {str(target)!r}: {error.strerror or error}."
        raise InputError(msg) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` atomically (see `atomic_path`)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; on success swap it in place of `path`.

    The block fills the yielded folder. When it ends without an exception, every file in it is
    fsynced and the folder takes the name `path`, replacing a folder there (the old one is
    deleted); on an exception the temporary folder is deleted and `path` is left as it was.
    On Linux (with a file system that supports it) the swap is one atomic exchange, so `path`
    always names a complete folder; elsewhere the old folder is renamed aside first, and for
    that instant `path` does not exist (it never names a partial folder).
    """
    target = Path(path)
    check_writable(target, "cannot write the folder", folder=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        os.chmod(stage, 0o777 & ~_umask())
        yield stage
        _fsync_tree(stage)
        _swap_in(stage, target)
    finally:
        # after a swap `stage` holds the old folder (or nothing): either way it goes
        shutil.rmtree(stage, ignore_errors=True)
    _fsync_dir(target.parent)


def _swap_in(stage: Path, target: Path) -> None:
    """Put the folder `stage` at `target`; afterwards `stage` holds the old folder, or is gone."""
    if not target.exists():
        os.replace(stage, target)
        return
    if _exchange(stage, target):
        return
    # a rename cannot replace a folder that has files in it: move the old one aside first
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old = aside / target.name
    os.replace(target, old)
    try:
        os.replace(stage, target)
    except BaseException:
        os.replace(old, target)  # put the old folder back before reporting the failure
        aside.rmdir()
        raise
    os.replace(aside, stage)


_AT_FDCWD = -100  # from <fcntl.h>: paths relative to the working folder
_RENAME_EXCHANGE = 2  # from <linux/fs.h>
# what renameat2 answers where the kernel or the file system cannot exchange two paths
_CANNOT_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 with RENAME_EXCHANGE); False if unavailable."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _CANNOT_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(b))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """glibc's renameat2 (Python's os has no wrapper for it); None off Linux or before 2.28."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_tree(folder: Path) -> None:
    """Flush every file below `folder`, then the folders themselves (their entries)."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            _fsync_file(Path(root, name))
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; best effort (Windows cannot open a folder)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    # the only way to read the umask is to set it; set it straight back
    mask = os.umask(0)
    os.umask(mask)
    return mask
