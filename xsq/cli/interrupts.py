"""Ctrl-C (and SIGTERM, SIGHUP) on the command line: never lost, whatever code it lands in.

Python turns SIGINT into a KeyboardInterrupt wherever the program happens to
be. If that is inside a finalizer (a weak-reference callback, say), Python
prints "Exception ignored" and carries on: the interrupt is lost. So the
command line runs inside :func:`installed`, whose :func:`handler` also notes
the signal, and calls :func:`checkpoint` at safe places (each epoch, each
sweep cell, before a run folder is published): a noted signal that nobody
has handled is raised again there. Code that handles a KeyboardInterrupt
calls :func:`handled`. :func:`deferred` holds signals back across steps that
must not be split. Library users who never enter :func:`installed` see
Python's own behaviour.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_pending: list[int] = []  # signals noted and not yet handled
_last: list[int] = []  # the last signal noted, handled or not


def handler(signum: int, frame) -> None:
    """Note the signal, and raise KeyboardInterrupt here and now."""
    _pending.append(signum)
    _last[:] = [signum]
    raise KeyboardInterrupt


def _heeded() -> list[int]:
    """The signals of SIGNALS this process heeds: one it was started ignoring (``nohup``, a background job's
    SIGINT) stays ignored."""
    return [signum for signum in SIGNALS if signal.getsignal(signum) != signal.SIG_IGN]


@contextlib.contextmanager
def _routed(action: Callable[[int, Any], None]) -> Iterator[dict[int, Any]]:
    """Route the heeded signals to ``action`` for the duration, and yield their earlier handlers, which come
    back afterwards. Only the main thread can set handlers: elsewhere nothing changes (and {} is yielded).

    The Python-level handlers are swapped, not the signal mask: with BLAS threads running, the kernel may
    deliver a signal to any of them.
    """
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    previous = {signum: signal.signal(signum, action) for signum in _heeded()}
    try:
        yield previous
    finally:
        for signum, earlier in previous.items():
            signal.signal(signum, earlier)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Route SIGINT, SIGTERM and SIGHUP through :func:`handler` for the duration (main thread only); the
    earlier handlers come back afterwards, and no noted signal outlives it. Signals ignored stay ignored."""
    try:
        with _routed(handler):
            yield
    finally:
        _pending.clear()
        _last.clear()


def _note(signum: int, frame) -> None:
    """Note the signal for the next :func:`checkpoint`; a second before that is raised at once."""
    if _pending:
        handler(signum, frame)
    _pending.append(signum)
    _last[:] = [signum]


@contextlib.contextmanager
def at_checkpoints() -> Iterator[None]:
    """For the duration (main thread only), a signal is noted and raised at the next :func:`checkpoint`, not
    where it lands: it cannot fall between steps that belong together (the last epoch and the model it
    makes, an import and the next). A second signal before that checkpoint is raised at once."""
    with _routed(_note):
        yield


def checkpoint() -> None:
    """Raise KeyboardInterrupt if a signal came and was not handled (it may have been swallowed)."""
    if _pending:
        raise KeyboardInterrupt


def handled() -> None:
    """A KeyboardInterrupt was caught and acted on: forget the signal behind it."""
    _pending.clear()


def exit_status() -> int:
    """128 plus the signal's number (130 for Ctrl-C), for the last signal noted; 130 if none was."""
    return 128 + (_last[-1] if _last else signal.SIGINT)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP (those heeded) back for the duration (main thread only): the first
    that arrives meanwhile is acted on after it, so that a few steps that belong together (renames,
    clean-up) are never split."""
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
