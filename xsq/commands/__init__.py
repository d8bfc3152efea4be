"""What each ``xsq`` subcommand does once its arguments are parsed (:mod:`xsq.cli` parses them), and what
the commands share."""

from __future__ import annotations

import importlib.util
import sys
from typing import Callable

from .. import interrupts

# matplotlib is an extra: without it, no plots. Commands import it only to draw (it is slower to import than
# the rest of xsq).
PLOTTING = importlib.util.find_spec("matplotlib") is not None


def report_saved(prog: str, saved: str, report: Callable[[], None]) -> int | None:
    """Run ``report`` (printing about a result already saved; ``saved`` says where). A Ctrl-C, or a stdout
    that cannot be written, meanwhile is told with ``saved``, and its exit status returned; None if all printed.
    """
    try:
        interrupts.checkpoint()
        report()
    except KeyboardInterrupt:
        interrupts.handled()
        print(f"{prog}: interrupted: {saved}", file=sys.stderr)
        return interrupts.exit_status()
    except OSError as exc:  # e.g. a full disk behind stdout (a closed pipe is the command line's to handle)
        if isinstance(exc, BrokenPipeError):
            raise
        print(f"{prog}: {saved}, but the report could not be printed: {exc}", file=sys.stderr)
        return 1
    return None
