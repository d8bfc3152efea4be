"""What each ``xsq`` subcommand does once its arguments are parsed (:mod:`xsq.cli` parses them), and what
the commands share."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType

from ...errors import PlotError
from ...validation import shorten
from .. import interrupts

TEST_FRACTION = 0.2  # xsq train: the default of --test-fraction (with --data); --n's is data.problem.DRAWN
NETWORK = {"activation": "sigmoid", "output": "softplus", "loss": "mse"}  # the network options' defaults
MODEL = "runs/latest/model.npz"  # xsq predict: the model of the latest xsq train, unless --model
MAX_CELLS = 100_000  # xsq sweep: a larger grid needs --yes
TIMEOUT = 10.0  # xsq sweep: seconds to reach a Dask scheduler, unless --timeout
SWEEP_DESCRIPTION = (
    "Map where training learns, stalls or diverges: a grid of short runs of the question's problem (x^2 on the "
    "integers 1..100). The defaults (176 cells, under a minute on 2 cores) are chosen so that the map shows all "
    "three outcomes side by side, each in at least a tenth of the cells: the question's per-sample updates, SGD "
    "beside Adam, learning rates from the question's 1e-4 up to 10, and 'learned' meaning a fit within 5% of the "
    "range of x^2. With 1e-6 to 10, full batches too and a 1% threshold, 6 of 480 cells learned: nearly the whole "
    "map stalled."
)
SWEEP_HELP = {  # why each default is what it is (the help of its option)
    "lr": "learning rates: a list, or a:b:n for n values from a to b spaced evenly in log (default: 1e-4:10:11, "
    "two per decade from the question's rate, below which every cell stalls, to 10, where most diverge)",
    "batch": " (default: 1; all costs about three times as much per step)",
    "optimizer": " (default: sgd,adam: the question's optimizer, and one that adapts its steps)",
    "learned_below": " (default: 0.05, where the fit visibly follows x^2; in 1000 steps the learning cells reach "
    "0.01 to 0.05, so 0.01 would show almost none learning)",
}

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
