"""Ctrl-C, SIGTERM and SIGHUP on the command line: each ends the command with one line and the exit status
128 + its number (130, 143, 129). A signal the process was started ignoring (``nohup``) stays ignored.

Inside :func:`installed` a signal raises KeyboardInterrupt where it lands, and is noted: if the code it
lands in swallows it (a finalizer, say), the next :func:`checkpoint` raises it again. Inside :func:`held` a
signal is only noted, and raised at the next checkpoint (each epoch, say), so that it cannot fall between
steps that belong together (the last epoch and the model it makes, an import and the next); a second raises
at once. :func:`deferred` holds every signal back across a few steps that must not be split (renames).
Processes started inside :func:`unheeded_by_children` (a sweep's workers) ignore Ctrl-C: only xsq acts on it.
Library users who never enter :func:`installed` see Python's own behaviour.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_noted: list[int] = []  # signals not yet raised at a checkpoint
_last: list[int] = [signal.SIGINT]  # the last signal noted: the exit status names it
_holding = [False]


def handler(signum: int, frame) -> None:
    """Note the signal; raise KeyboardInterrupt here, unless held (and the first since the last checkpoint)."""
    _noted.append(signum)
    _last[0] = signum
    if not _holding[0] or len(_noted) > 1:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _routed(action: Callable[[int, Any], None]) -> Iterator[dict[int, Any]]:
    """Route the signals this process heeds to ``action`` for the duration (main thread only; elsewhere
    nothing changes), and yield their earlier handlers, which come back afterwards. Python-level handlers are
    swapped, not the signal mask: with BLAS threads running, the kernel may deliver a signal to any of them."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    heeded = [signum for signum in SIGNALS if signal.getsignal(signum) != signal.SIG_IGN]
    previous: dict[int, Any] = {signum: signal.signal(signum, action) for signum in heeded}
    try:
        yield previous
    finally:
        for signum, earlier in previous.items():
            signal.signal(signum, earlier)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Route the signals through :func:`handler` for the duration; nothing noted outlives it."""
    try:
        with _routed(handler):
            yield
    finally:
        _noted.clear()
        _last[0] = signal.SIGINT


@contextlib.contextmanager
def held() -> Iterator[None]:
    """For the duration, a signal waits for the next :func:`checkpoint`; a second does not."""
    before, _holding[0] = _holding[0], True
    try:
        yield
    finally:
        _holding[0] = before


def checkpoint() -> None:
    """Raise KeyboardInterrupt for a signal noted and not raised here yet (held, or swallowed)."""
    if _noted:
        _noted.clear()
        raise KeyboardInterrupt


def exit_status() -> int:
    """128 plus the number of the last signal noted (130 for Ctrl-C, and if none was)."""
    return 128 + _last[0]


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold every signal back for the duration: the first that arrives meanwhile is acted on after it."""
    received: list[int] = []
    previous: dict[int, Any] = {}
    try:
        with _routed(lambda signum, frame: received.append(signum)) as previous:
            yield
    finally:
        if received:
            action = previous[received[0]]
            if callable(action):
                action(received[0], None)  # Python's default SIGINT handler raises KeyboardInterrupt here
            elif action == signal.SIG_DFL:
                os.kill(os.getpid(), received[0])


@contextlib.contextmanager
def unheeded_by_children() -> Iterator[None]:
    """SIGINT ignored for the duration (main thread only): processes started meanwhile (a sweep's workers)
    keep it ignored through exec, so a Ctrl-C at the terminal, which reaches the whole process group, is
    acted on by xsq alone, which stops them (no worker dies printing a traceback). A Ctrl-C while this
    lasts (a tenth of a second or so per few workers started) is lost: Python's own multiprocessing unblocks
    SIGINT as it starts its resource tracker, so it cannot be held back instead."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
