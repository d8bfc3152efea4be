"""Standard output that cannot be written is a failure of the command, never a silent success.

Python sets ``sys.stdout`` to None when a program starts with it closed
(``xsq predict 3 >&-``), and print then writes nowhere; a full device behind
it (``> /dev/full``) fails only when the buffer is flushed, often at exit.
The command line runs inside :func:`checked`: a closed stdout is refused
before anything is done, and a failed write or flush is raised as
:class:`OutputError`, which the command line tells in one line (exit 1). A
reader that went away (``| head``) is a BrokenPipeError, ended quietly as Unix
tools do. Text the stream's encoding cannot hold (a column named in Greek, on an ASCII terminal) is
written with backslash escapes, as Python writes it to stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any


class OutputError(OSError):
    """Standard output could not be written; the message says why."""


class _Checked:
    """A text stream whose failed writes and flushes (other than a broken pipe) raise :class:`OutputError`."""

    def __init__(self, stream: Any):
        self._stream = stream

    def _do(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, method)(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            _abandon(self._stream)
            raise OutputError(exc.errno, f"standard output could not be written ({exc.strerror or exc})") from None

    def write(self, text: str) -> Any:
        return self._do("write", text)

    def flush(self) -> None:
        self._do("flush")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _abandon(stream: Any) -> None:
    """Point ``stream``'s file descriptor at the null device, so that Python's own flush at exit neither fails
    again nor prints a traceback (the recipe of Python's ``signal`` documentation for a broken pipe)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's capture, say)
        pass


def closed() -> bool:
    """Whether the program was started with standard output closed."""
    return sys.stdout is None


@contextlib.contextmanager
def checked() -> Iterator[None]:
    """For the duration, ``sys.stdout`` raises :class:`OutputError` on a failed write or flush; at the end
    what is left in its buffer is flushed, so that a failure there is raised too. The stream's escaping of text
    its encoding cannot hold stays after it (a command line runs one command)."""
    original = sys.stdout
    if original is None:
        yield
        return
    if hasattr(original, "reconfigure"):  # a name its encoding lacks is written escaped, as stderr does, not a crash
        original.reconfigure(errors="backslashreplace")
    sys.stdout = _Checked(original)  # type: ignore[assignment]
    try:
        yield
        sys.stdout.flush()
    finally:
        sys.stdout = original
