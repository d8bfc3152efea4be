"""Writing files so that nothing half-written is ever seen: one atomic writer for every file xsq writes,
one place that renames anything into place, one way to write strict JSON, one check of a file a user
names, one check of a folder a command is to write into (not the current folder, nothing but its own
names), and one lock for a folder's single writer.

:func:`write_atomic` writes into a temporary file in the destination's folder,
flushes and fsyncs it, gives it the permissions the umask allows (as
``open`` and numpy's own writers do: 0644 under the usual umask 022, where a
bare temporary file would be 0600), moves it onto the destination with
:func:`move`, and fsyncs the folder so the rename itself survives a crash.
:func:`move` replaces only what is of the same kind (a file a file, a link a
link, an empty folder a folder): a device, FIFO, socket or folder where a
file is to go is refused and left as it was.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO

from .errors import InputError


def regular_file(path: str, what: str, max_bytes: int) -> int:
    """The size of the file a user named, after checking it is one: an :class:`InputError` says if it does not
    exist, cannot be read, is a directory, is not a regular file (a device, say) or is larger than ``max_bytes``."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{what} {path!r} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path!r}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {path!r} is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {path!r} is not a regular file")
    if st.st_size > max_bytes:
        raise InputError(f"{what} {path!r} is {st.st_size} bytes, more than the {max_bytes} bytes allowed")
    return st.st_size


TEMP_PREFIX, TEMP_SUFFIX = ".xsq-", ".tmp"  # write_atomic's temporary files (a crash may leave one behind)


def held_names(folder: str) -> set[str]:
    """The names in ``folder``, but for write_atomic's temporary files."""
    return {n for n in os.listdir(folder) if not (n.startswith(TEMP_PREFIX) and n.endswith(TEMP_SUFFIX))}


def not_files(folder: str, names) -> list[str]:
    """Those of ``names`` in ``folder`` that are not regular files (folders, links, devices), sorted."""
    return sorted(n for n in names if not stat.S_ISREG(os.lstat(os.path.join(folder, n)).st_mode))


def check_out_folder(out: str, owned: frozenset[str]) -> tuple[str, set[str]]:
    """``out`` as a real path, and the names it holds, after checking a command may write its results there:
    it is not the current folder or a folder that holds it, not a file, and holds only names in ``owned``
    (and write_atomic's temporary files). Anything else is an :class:`InputError`."""
    target, here = os.path.realpath(out or "."), os.path.realpath(".")
    if target == here or here.startswith(target.rstrip(os.sep) + os.sep):
        raise InputError(f"--out {out!r} is the current folder or holds it; give the results a folder of their own")
    if os.path.lexists(target) and not os.path.isdir(target):
        raise InputError(f"--out {out!r} exists and is not a folder")
    above = os.path.dirname(target)
    while not os.path.lexists(above):
        above = os.path.dirname(above)
    if not os.path.isdir(above):
        raise InputError(f"--out {out!r} cannot be made: {above!r} is not a folder")
    try:
        held = held_names(target) if os.path.isdir(target) else set()
    except OSError as exc:
        raise InputError(f"cannot read output folder {out!r}: {exc.strerror}") from None
    foreign = sorted(held - owned)
    if foreign:
        raise InputError(
            f"--out {out!r} holds files this command does not write ({', '.join(foreign[:3])}); choose another folder"
        )
    return target, held


def umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sync_folder(folder: str) -> None:
    """fsync a folder, so that renames into it are on disk (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def as_path(path: str | bytes | os.PathLike) -> str:
    """``path`` (text, bytes or any os.PathLike) as text; an empty path or something else is an InputError."""
    try:
        text = os.fsdecode(path)
    except TypeError:
        raise InputError(f"{path!r} is not a path") from None
    if not text:
        raise InputError("an empty path names no file")
    return text


KINDS = dict(zip("-dlcbps", ("a file", "a folder", "a symbolic link", "a device", "a device", "a FIFO", "a socket")))


def _kind(path: str) -> str | None:
    """What is at ``path`` ("a file", "a folder", "a FIFO", ...), not following a link; None if nothing."""
    try:
        return KINDS.get(stat.filemode(os.lstat(path).st_mode)[0], "not a regular file")
    except FileNotFoundError:
        return None


def _check_onto(path: str, kind: str) -> None:
    there = _kind(path)
    if there is not None and there != kind:
        raise InputError(f"{path!r} is {there}, not {kind}; it was left as it was")


def move(src: str, dst: str) -> None:
    """Rename ``src`` onto ``dst`` in one step: the one place xsq renames anything. ``dst`` may be absent, or
    of ``src``'s own kind (a file onto a file, a link onto a link, a folder onto an empty folder); anything
    else there is refused with an :class:`InputError` and left as it was."""
    _check_onto(dst, _kind(src) or "a file")
    os.replace(src, dst)


def write_atomic(path: str | bytes | os.PathLike, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write ``data`` (bytes, or a function that writes to a binary handle) to ``path`` atomically. An empty
    path, or one where something other than a file is (a folder, device, FIFO, socket), is an InputError."""
    path = as_path(path)
    if path.endswith(os.sep):
        raise InputError(f"{path!r} ends in {os.sep}: it names a folder, not a file")
    _check_onto(path, "a file")  # refused before anything is made
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):  # named here, not as the temporary file that could not be made
        raise FileNotFoundError(errno.ENOENT, f"no folder {folder!r} to write into", path)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        move(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    sync_folder(folder)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def json_bytes(value: Any, indent: int | None = 1) -> bytes:
    """``value`` as strict JSON (UTF-8): a float that is NaN or infinite, which JSON cannot hold, becomes null."""
    return (json.dumps(_finite_or_none(value), indent=indent, allow_nan=False) + "\n").encode()


def lock(fd: int, wait: bool = True) -> bool:
    """Take an exclusive lock on the open file or folder ``fd`` (waiting for it, or not); whether it was taken."""
    import fcntl  # POSIX only, and only here: everything else imports where there is no fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def try_lock(path: str) -> int:
    """A file descriptor holding an exclusive lock on the file ``path`` (created if need be); -1 if another
    process holds it. Pair it with :func:`unlock`, which removes the file again: after taking the lock this
    checks the name still leads to the file it locked (another process may have just removed it), and if
    not, tries again."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if not lock(fd, wait=False):
            os.close(fd)
            return -1
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def unlock(path: str, fd: int) -> None:
    """Remove the lock file ``path`` (while still holding it), then release it."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    os.close(fd)
