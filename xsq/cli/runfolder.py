"""A run's output folder, written as a unit: complete and new, or not there at all.

Every file goes into a hidden temporary folder beside the destination
(``.NAME.partial-XXXX``); :meth:`RunFolder.publish` then swaps it in by rename.
Until then the destination is untouched, so an interrupted, failed or
concurrent run leaves either the complete new result or the old folder,
never a mix, and never stale files from an earlier run.

* Without ``out``, each run gets a new folder ``runs/<UTC time>-seed<k>``
  and ``runs/latest`` is a symbolic link to the newest complete run,
  replaced atomically.
* An explicit ``out`` must be absent, empty (temporary files a crashed
  writer left count as nothing), or hold an earlier run: only the names a
  run writes (``replaceable``), every one of ``mark`` among them, each a
  regular file. Anything else is refused, and an earlier run is replaced
  only with ``overwrite``: the old folder is renamed aside, the new one
  renamed in, and the old one removed, so a reader sees the old run, then
  for an instant nothing, then the new run, never a mix. A lock file beside
  it (``.NAME.lock``) lets only one run at a time write there; the other is
  refused at its start.

Folders and files follow the umask, as numpy's own writers do. No signal
splits a publish: SIGINT, SIGTERM and SIGHUP are held back for its few
renames (:func:`xsq.cli.interrupts.deferred`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import BinaryIO

from ..errors import InputError
from ..files import (
    check_out_folder,
    held_names,
    lock,
    move,
    not_files,
    sync_folder,
    try_lock,
    umask,
    unlock,
    write_atomic,
)
from . import interrupts

ROOT = "runs"
LATEST = "latest"


def _free_name(path: str) -> str:
    """``path``, or ``path-2``, ``path-3``, ... : the first that does not exist yet."""
    base, k = path, 1
    while os.path.lexists(path):
        k += 1
        path = f"{base}-{k}"
    return path


class RunFolder:
    """The folder one run writes. Use it as a context manager: entering makes the temporary folder (and takes
    the lock on an explicit ``out``); leaving without :meth:`publish` removes everything it made."""

    def __init__(
        self,
        out: str | None = None,
        *,
        seed: int = 0,
        overwrite: bool = False,
        root: str = ROOT,
        replaceable: frozenset[str] = frozenset(),
        mark: frozenset[str] = frozenset(),
    ):
        self.explicit, self.overwrite, self.replaceable, self.mark = out is not None, overwrite, replaceable, mark
        self.published: str | None = None
        self.notes: list[str] = []
        self.tmp, self._lock_fd, self._made = "", -1, list[str]()  # tmp: the temporary folder, once made
        if out is not None:
            self._check_target(out)
        else:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            self.target = os.path.join(os.path.abspath(root), f"{stamp}-seed{seed}")
        parent, name = os.path.split(self.target)
        self._lock_path = os.path.join(parent, f".{name}.lock")

    def _check_target(self, out: str) -> None:
        self.target, held = check_out_folder(out, self.replaceable)
        missing = self._not_a_run(self.target) if held else None
        if missing:
            raise InputError(
                f"--out {out!r} holds some files but not an earlier run ({missing}); choose another folder"
            )
        if held and not self.overwrite:
            raise InputError(
                f"--out {out!r} already holds an earlier run; choose another folder, or add --overwrite to replace it"
            )

    def _not_a_run(self, folder: str) -> str | None:
        """What keeps ``folder`` from being an earlier run (which holds only replaceable names, every mark, each a
        regular file), or None if it is one."""
        held = held_names(folder)
        if not held <= self.replaceable:
            return f"{', '.join(sorted(held - self.replaceable))} too"
        if not self.mark <= held:
            return f"no {', '.join(sorted(self.mark - held))}"
        odd = not_files(folder, held)
        return f"{', '.join(odd)} {'is not a file' if len(odd) == 1 else 'are not files'}" if odd else None

    def _make_parents(self, folder: str) -> None:
        missing = []
        while folder and not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for path in reversed(missing):
            os.mkdir(path)
            self._made.append(path)

    def __enter__(self) -> RunFolder:
        parent, name = os.path.split(self.target)
        try:
            with interrupts.deferred():  # a Ctrl-C here arrives once everything made is known, so it can be removed
                self._make_parents(parent)
                if self.explicit:
                    self._lock_fd = try_lock(self._lock_path)
                    if self._lock_fd < 0:
                        raise InputError(
                            f"another xsq run is writing to {self.target!r}; wait for it, or choose another --out"
                        )
                self.tmp = tempfile.mkdtemp(prefix=f".{name}.partial-", dir=parent)
        except OSError as exc:
            self.close()
            raise InputError(f"cannot write to output folder {parent!r}: {exc.strerror or exc}") from None
        except BaseException:
            self.close()
            raise
        return self

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
        with interrupts.deferred():
            if self.explicit:
                self._replace_target()
            else:
                self._publish_new()
            sync_folder(parent)
            self.published = self.target
        return self.target

    def _replace_target(self) -> None:
        if not os.path.isdir(self.target) or not held_names(self.target):
            for leftover in os.listdir(self.target) if os.path.isdir(self.target) else ():
                os.unlink(os.path.join(self.target, leftover))  # a temporary file a crashed writer left
            move(self.tmp, self.target)  # absent or empty: a plain rename
            return
        if not self.overwrite or self._not_a_run(self.target):
            raise InputError(f"{self.target!r} was filled by something else while this run trained; not replaced")
        aside = self.tmp + ".old"
        move(self.target, aside)
        try:
            move(self.tmp, self.target)
        except BaseException:
            move(aside, self.target)  # the old run back where it was
            raise
        shutil.rmtree(aside, ignore_errors=True)

    def _publish_new(self) -> None:
        root = os.path.dirname(self.target)
        fd = os.open(root, os.O_RDONLY)  # a lock on the folder itself: no lock file left behind
        try:
            lock(fd)  # brief: only while a name is picked and the link is replaced
            self.target = _free_name(self.target)
            move(self.tmp, self.target)
            latest = os.path.join(root, LATEST)
            if os.path.lexists(latest) and not os.path.islink(latest):  # a real folder or file, not ours: keep it
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(os.path.getmtime(latest)))
                aside = _free_name(os.path.join(root, f"{stamp}-previous"))
                move(latest, aside)
                self.notes.append(f"moved the earlier {latest} to {aside}")
            link = os.path.join(root, f".{LATEST}.{os.getpid()}")
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(os.path.basename(self.target), link)
            move(link, latest)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Release the lock, and remove what was made unless the run was published (the temporary folder,
        new parent folders)."""
        if self._lock_fd >= 0:
            unlock(self._lock_path, self._lock_fd)
            self._lock_fd = -1
        if self.published is None:
            if self.tmp and os.path.isdir(self.tmp):
                shutil.rmtree(self.tmp, ignore_errors=True)
            for path in reversed(self._made):
                try:
                    os.rmdir(path)  # only if still empty
                except OSError:
                    break

    def __exit__(self, *exc) -> None:
        with interrupts.deferred():
            self.close()
