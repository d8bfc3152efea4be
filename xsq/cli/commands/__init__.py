"""What each ``xsq`` subcommand does once its arguments are parsed (:mod:`xsq.cli` parses them), and what
the commands share."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Callable

from ...errors import PlotError
from ...validation import shorten
from .. import interrupts

N, TEST_FRACTION = 1000, 0.2  # xsq train: the defaults of --n (with a target) and --test-fraction (with --data)
NETWORK = {"activation": "sigmoid", "output": "softplus", "loss": "mse"}  # the network options' defaults
MAX_CELLS = 100_000  # xsq sweep: a larger grid needs --yes
TIMEOUT = 10.0  # xsq sweep: seconds to reach a Dask scheduler, unless --timeout

# matplotlib is an extra: without it, no plots. Commands import it only to draw (it is slower to import than
# the rest of xsq).
PLOTTING = importlib.util.find_spec("matplotlib") is not None


def drawing(module: str) -> ModuleType:
    """xsq's drawing module ``module`` ("plots" or "sweep_plot"), with matplotlib loaded first: a matplotlib
    that is broken or misconfigured (a bad ``MPLBACKEND``, say) raises :class:`PlotError`, so that the run is
    saved without its plots."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except Exception as exc:  # whatever stops matplotlib loading is the environment's, not the run's
        text = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, whatever the message spans
        raise PlotError(f"matplotlib could not be loaded ({shorten(text, 160)})") from None
    return importlib.import_module(f"xsq.cli.{module}")


def quoted(path: str) -> str:
    """A path as a message shows it, on one line: as it is when it is plain (printable, no spaces or quotes),
    else quoted as Python writes it (``'bad\\nname'``), so that no path can break or fake a line."""
    plain = path.isprintable() and not any(c.isspace() or c in "'\"\\" for c in path)
    return path if plain and path else repr(path)


def report_saved(prog: str, saved: str, report: Callable[[], None]) -> int | None:
    """Run ``report`` (printing about a result already saved; ``saved`` says where). A Ctrl-C, or a stdout
    that cannot be written, meanwhile is told with ``saved``, and its exit status returned; None if all printed.
    """
    try:
        interrupts.checkpoint()
        report()
        sys.stdout.flush()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted: {saved}", file=sys.stderr)
        return interrupts.exit_status()
    except MemoryError:
        print(f"{prog}: {saved}, but the report ran out of memory", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. a full disk behind stdout (a closed pipe is the command line's to handle)
        if isinstance(exc, BrokenPipeError):
            raise
        print(f"{prog}: {saved}, but the report could not be printed: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return None
