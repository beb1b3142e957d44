"""An exclusive lock on a run directory, so two runs never write into one folder at once.

The lock is the file RUN_DIR/.safefilter-run.lock, held with `fcntl.flock` (released by the
kernel when the holder dies, however it dies) and holding the holder's pid, host and start time,
so a refusal can name who holds it. A lock file left by a process that is gone on this host is
stale: the next run takes it over with a warning. A lock file from another host whose flock is
free is not trusted (network file systems may not share flocks): the run refuses and says which
file to delete if that run is really gone.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

from .errors import OutputError

__all__ = ["RunLock", "LOCK_NAME"]

LOCK_NAME = ".safefilter-run.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read_holder(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, started {holder.get('started', '?')}"


class RunLock:
    """`with RunLock(root):` holds RUN_DIR's lock for the block; released on every exit path."""

    def __init__(self, root: str | os.PathLike[str], *, warn: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self._fd: int | None = None
        self._warn = warn or (lambda line: print(f"safefilter: warning: {line}", file=sys.stderr))

    def _refuse(self, holder: dict[str, Any], why: str) -> OutputError:
        return OutputError(f"{self.root} is in use by another safefilter run ({_describe(holder)}){why}; "
                           "wait for it to finish or choose another --output")

    def acquire(self) -> "RunLock":
        """Take the lock or raise OutputError naming the holder; a stale lock is taken over."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            mine = False
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise self._refuse(_read_holder(fd), "") from None
                except OSError as exc:  # no flock on this file system: the pid check below still applies
                    if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP):
                        raise
                try:
                    same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    same_file = False
                if not same_file:  # the holder released (unlinked) it between our open and flock: retry
                    os.close(fd)
                    continue
                self._check_stale(_read_holder(fd))
                me = {"pid": os.getpid(), "host": socket.gethostname(),
                      "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                mine = True
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(me).encode(), 0)
                os.fsync(fd)
            except BaseException:
                if mine:  # a failed write (disk full): leave no lock file behind
                    try:
                        os.unlink(self.path)
                    except OSError:
                        pass
                os.close(fd)
                raise
            self._fd = fd
            return self

    def _check_stale(self, holder: dict[str, Any]) -> None:
        pid, host = holder.get("pid"), holder.get("host")
        if not holder or pid == os.getpid() and host == socket.gethostname():
            return
        hint = f"; if that run is gone, delete {self.path} and run again"
        if host != socket.gethostname():
            raise self._refuse(holder, " on another machine" + hint)
        if isinstance(pid, int) and _pid_alive(pid):
            raise self._refuse(holder, hint)
        self._warn(f"taking over the stale lock of {self.root} left by {_describe(holder)}, "
                   "which is no longer running")

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and drop the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                os.unlink(self.path)
        except OSError:
            pass  # gone already, or the folder became unwritable: the flock still ends with close
        finally:
            os.close(fd)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
