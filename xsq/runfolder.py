"""A run's output folder, written as a unit: complete and new, or not there at all.

Every file goes into a hidden temporary folder beside the destination
(``.NAME.partial-XXXX``); :meth:`RunFolder.publish` then swaps it in by rename.
Until then the destination is untouched, so an interrupted, failed or
concurrent run leaves either the complete new result or the old folder,
never a mix, and never stale files from an earlier run.

* Without ``out``, each run gets a new folder ``runs/<UTC time>-seed<k>``
  and ``runs/latest`` is a symbolic link to the newest complete run,
  replaced atomically.
* An explicit ``out`` that exists and is not empty is refused unless
  ``overwrite``; then the old folder is exchanged for the new one in one
  ``renameat2(RENAME_EXCHANGE)`` where Linux offers it (two renames
  elsewhere). A lock file beside it (``.NAME.lock``) lets only one run at a
  time write there; the other is refused at its start.

Folders and files follow the umask, as numpy's own writers do. Ctrl-C cannot
split a publish: it is held back for the publish's few renames.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import signal
import tempfile
import threading
import time
from typing import BinaryIO, Callable

from .errors import InputError
from .files import sync_folder, umask, write_atomic

ROOT = "runs"
LATEST = "latest"


def _exchange(a: str, b: str) -> bool:
    """Swap two paths atomically (Linux renameat2 with RENAME_EXCHANGE); False where that is not offered."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), b)


@contextlib.contextmanager
def _sigint_held():
    """Hold Ctrl-C back for the duration (main thread only): one that arrives meanwhile is acted on after it.

    The Python-level handler is swapped, not the signal mask: with BLAS threads running, the kernel may
    deliver SIGINT to any of them.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt here
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def try_lock(path: str) -> int:
    """A file descriptor holding an exclusive lock on ``path`` (created if need be); -1 if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return -1
    return fd


class RunFolder:
    """The folder one run writes; use as a context manager so an unpublished run leaves nothing behind."""

    def __init__(self, out: str | None = None, *, seed: int = 0, overwrite: bool = False, root: str = ROOT):
        self.explicit = out is not None
        self.overwrite = overwrite
        self.published: str | None = None
        self.notes: list[str] = []
        self._lock_fd = -1
        if self.explicit:
            self.target = os.path.realpath(out)
            self._check_target(out)
        else:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            self.target = os.path.join(os.path.abspath(root), f"{stamp}-seed{seed}")
        parent, name = os.path.split(self.target)
        try:
            os.makedirs(parent, exist_ok=True)
            if self.explicit:
                self._lock_fd = try_lock(os.path.join(parent, f".{name}.lock"))
                if self._lock_fd < 0:
                    raise InputError(f"another xsq run is writing to {out!r}; wait for it or choose another --out")
            self.tmp = tempfile.mkdtemp(prefix=f".{name}.partial-", dir=parent)
        except OSError as exc:
            self.close()
            raise InputError(f"cannot write to output folder {out or parent!r}: {exc.strerror or exc}") from None

    def _check_target(self, out: str) -> None:
        if os.path.lexists(self.target) and not os.path.isdir(self.target):
            raise InputError(f"--out {out!r} exists and is not a folder")
        if os.path.isdir(self.target) and os.listdir(self.target) and not self.overwrite:
            raise InputError(
                f"--out {out!r} already holds files (a previous run?); choose another folder, or add --overwrite "
                "to replace it"
            )

    def write(self, name: str, data: bytes | Callable[[BinaryIO], None]) -> None:
        """Write one file of the run (into the temporary folder, atomically)."""
        write_atomic(os.path.join(self.tmp, name), data)

    def temp_path(self, name: str) -> str:
        """Where to write a file of the run (in the temporary folder) with a writer of one's own."""
        return os.path.join(self.tmp, name)

    def publish(self) -> str:
        """Swap the complete folder into place; return its path."""
        os.chmod(self.tmp, 0o777 & ~umask())
        sync_folder(self.tmp)
        parent = os.path.dirname(self.target)
        with _sigint_held():
            if self.explicit:
                self._replace_target()
            else:
                self._publish_new()
            sync_folder(parent)
            self.published = self.target
        return self.target

    def _replace_target(self) -> None:
        if not os.path.isdir(self.target) or not os.listdir(self.target):
            os.replace(self.tmp, self.target)  # absent or empty: a plain rename
            return
        if not self.overwrite:
            raise InputError(f"{self.target!r} was filled by something else while this run trained; not replaced")
        if not _exchange(self.tmp, self.target):
            aside = self.tmp + ".old"
            os.rename(self.target, aside)
            os.rename(self.tmp, self.target)
            self.tmp = aside
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _publish_new(self) -> None:
        root = os.path.dirname(self.target)
        fd = os.open(os.path.join(root, ".xsq.lock"), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # brief: only while a name is picked and the link is replaced
            base, k = self.target, 1
            while os.path.lexists(self.target):
                k += 1
                self.target = f"{base}-{k}"
            os.rename(self.tmp, self.target)
            latest = os.path.join(root, LATEST)
            if os.path.isdir(latest) and not os.path.islink(latest):  # a real folder from an older xsq: keep it
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(os.path.getmtime(latest)))
                os.rename(latest, os.path.join(root, f"{stamp}-previous"))
                self.notes.append(f"moved the earlier {latest} to {os.path.join(root, stamp + '-previous')}")
            link = os.path.join(root, f".{LATEST}.{os.getpid()}")
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(os.path.basename(self.target), link)
            os.replace(link, latest)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Remove the temporary folder unless it was published, and release the lock."""
        tmp = getattr(self, "tmp", None)
        if self.published is None and tmp and os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc) -> None:
        with _sigint_held():
            self.close()
