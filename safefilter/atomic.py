"""Atomic file writes and one-line descriptions of the OSErrors a run can meet.

Every file a run writes besides its shards (manifest.json, cards, `_state/*.json`, the run marker)
goes through `atomic_write`: a hidden temporary name in the same folder, fsync, rename, fsync of
the folder. A crash at any point leaves either the old file or the new one, never half of one,
and at most a `.NAME.PID.tmp` that `--resume` removes.
"""
from __future__ import annotations

import errno
import os
import re
from pathlib import Path

__all__ = ["atomic_write", "fsync_dir", "fsync_file", "temporary_name", "describe_os_error"]


def temporary_name(path: Path) -> Path:
    """Where `atomic_write` (and the shard writers) put a file before renaming it into place."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def fsync_dir(folder: Path) -> None:
    """Make renames in `folder` durable; file systems that cannot fsync a folder are skipped."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):  # no read permission on the folder: cannot help it
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a closed file's data to disk before it is renamed into place (Parquet shards)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write `data` to `path` so that a reader or a crash never sees a partial file."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)
    return path


_TEMPORARY = re.compile(r"\.(.+)\.\d+\.tmp")
_ADVICE = {
    errno.ENOSPC: "free space",
    errno.EDQUOT: "free space (disk quota exceeded)",
    errno.EACCES: "make RUN_DIR writable",
    errno.EPERM: "make RUN_DIR writable",
    errno.EROFS: "choose an --output on a writable file system",
}


def describe_os_error(exc: OSError, root: Path, *, resumable: bool) -> str:
    """One line for an OSError met while a run writes into `root`: what failed, why, what to do."""
    where = Path(exc.filename) if exc.filename is not None else root
    final = _TEMPORARY.fullmatch(where.name)
    if final:  # name the file being written, not its temporary
        where = where.with_name(final.group(1))
    reason = exc.strerror or str(exc) or type(exc).__name__
    try:
        inside = Path(os.path.abspath(where)).is_relative_to(os.path.abspath(root))
    except (TypeError, ValueError):
        inside = False
    verb = "cannot write" if inside else "cannot use"
    advice = _ADVICE.get(exc.errno, "fix the cause").replace("RUN_DIR", str(root))
    again = "rerun the same command with --resume" if resumable else "run again"
    if exc.errno == errno.EROFS:
        return f"{verb} {where}: {reason}; {advice}"
    return f"{verb} {where}: {reason}; {advice} and {again}"
