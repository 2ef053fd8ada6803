"""Atomic writes: a killed process never leaves a half-written file or directory.

Files are written to a temporary sibling, flushed to disk, then renamed over the target
(``os.replace`` is atomic on POSIX). Directories are built in a hidden temporary sibling and
swapped in with two renames; if a process dies between them, :func:`recover_directory` puts
the previous directory back.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def file_stamp(path: str | Path) -> list[int]:
    """``[size in bytes, modification time in ns]`` of a file: the cheap check of
    :func:`changed_files`."""
    st = Path(path).stat()
    return [st.st_size, st.st_mtime_ns]


def changed_files(
    folder: Path, hashes: dict[str, str], stamps: dict[str, list[int]] | None = None
) -> list[str]:
    """Files of ``folder`` that are missing or no longer what a manifest recorded.

    A file whose size and modification time are those recorded (``stamps``) is taken as
    unchanged; otherwise (or without stamps) its SHA-256 is compared with ``hashes``.

    Returns
    -------
    list of str
        ``"<name> (missing)"``, ``"<name> (changed)"`` entries; empty when all are intact.
    """
    out = []
    for name, digest in hashes.items():
        f = folder / name
        if not f.is_file():
            out.append(f"{name} (missing)")
            continue
        if stamps is not None and stamps.get(name) == file_stamp(f):
            continue
        if sha256_file(f) != digest:
            out.append(f"{name} (changed)")
    return out


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write(path: str | Path, writer: Callable[[Path], object]) -> None:
    """Call ``writer(tmp_path)`` then rename the result over ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # keep the suffix: some writers (GDAL) choose or check the format by extension
    tmp = target.with_name(f".{target.stem}.tmp-{uuid.uuid4().hex[:8]}{target.suffix}")
    try:
        writer(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def _siblings(target: Path, tag: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.{tag}-*"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: str | Path) -> int:
    """Remove temporary directories left in ``folder`` by processes that have died.

    Temporary directories are named ``.<target>.tmp-<pid>-<random>``; those of live processes
    (a concurrent writer, a Dask worker) are kept. Returns how many were removed.
    """
    removed = 0
    for p in Path(folder).glob(".*.tmp-*"):
        try:
            pid = int(p.name.rsplit(".tmp-", 1)[1].split("-")[0])
        except (IndexError, ValueError):
            continue
        if p.is_dir() and not _alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed += 1
    return removed


def _owner_alive(p: Path) -> bool:
    """Whether the process named in a ``.<target>.<tag>-<pid>-<random>`` sibling lives."""
    try:
        pid = int(p.name.rsplit("-", 2)[-2])
    except (IndexError, ValueError):
        return False
    return _alive(pid)


def _lock_path(target: Path) -> Path:
    """The lock file of a store directory: in the system's temporary folder, named by the
    directory's absolute path, so that the store itself holds no lock files."""
    import hashlib
    import tempfile

    key = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "twin-locks"
    folder.mkdir(exist_ok=True)
    return folder / f"{key}.lock"


@contextlib.contextmanager
def directory_lock(target: str | Path, shared: bool = False) -> Iterator[None]:
    """Hold the lock of a store directory: exclusive while it is swapped or recovered,
    shared while it is read, so that a reader never sees a directory half-swapped and a
    writer never undoes another's swap (POSIX ``flock`` on a lock file of the system's
    temporary folder: processes of one machine share it; a store on a network file system
    written from several machines is not covered)."""
    import fcntl

    try:
        fh = open(_lock_path(Path(target)), "a")
    except OSError:  # no place for locks: run unlocked rather than not at all
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def recover_directory(target: str | Path) -> bool:
    """Undo an interrupted directory swap; return True if something was recovered.

    If ``target`` is missing and a previous version was set aside by a process that has died,
    it is renamed back. Temporary and set-aside directories of dead processes are removed;
    those of live ones (a concurrent writer) are left to them.
    """
    t = Path(target)
    if not t.parent.is_dir():
        return False
    with directory_lock(t):
        recovered = False
        olds = [o for o in _siblings(t, "old") if not _owner_alive(o)]
        if not t.exists() and olds:
            os.rename(olds[-1], t)
            olds = olds[:-1]
            recovered = True
        stale = [p for p in _siblings(t, "tmp") if not _owner_alive(p)]
        for p in olds + stale:
            shutil.rmtree(p, ignore_errors=True)
    return recovered


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Build a directory atomically.

    Yields a temporary directory to fill; on normal exit it replaces ``target``. On error the
    temporary directory is removed and ``target`` is untouched.

    Examples
    --------
    >>> with atomic_directory(out) as tmp:  # doctest: +SKIP
    ...     (tmp / "twin.json").write_text("{}")
    """
    t = Path(target)
    t.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(t)
    tmp = t.with_name(f".{t.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        old = None
        with directory_lock(t):  # no reader between the two renames, no other swap
            if t.exists():
                old = t.with_name(f".{t.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
                os.rename(t, old)
            os.rename(tmp, t)
            _fsync_dir(t.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
