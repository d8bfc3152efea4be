"""The ``xsq`` command line: parsing and dispatch only (each command's work is in :mod:`xsq.cli.commands`,
whose module is imported only when that command runs).

Exit status: 0 success; 1 a training run that failed (diverged, did not
learn), a file that could not be written, or an internal error; 2 bad input
(one line on stderr naming the problem, no traceback); 128 + the signal's
number when stopped by one (130 Ctrl-C, 143 SIGTERM). An
internal error (a bug in xsq) says so; ``XSQ_DEBUG=1`` shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib import metadata

from ..core import activations, losses
from ..data.problem import DRAWN, Problem
from ..errors import InputError, TrainingFailed
from ..lab import sweep
from ..training.settings import PER_OPTIMIZER, PER_REGULARIZATION, REGULARIZED, SETTINGS, defaults_text
from ..validation import Axis, Options, Real, Sizes, Whole
from . import interrupts, output
from .argparsing import Parser, UsageError, flag, typed
from .commands import MAX_CELLS, MODEL, NETWORK, SWEEP_DESCRIPTION, SWEEP_HELP, TEST_FRACTION, TIMEOUT

MEMORY_TIP = "use fewer samples or hidden units"


def _common() -> dict[str, Parser]:
    """Options shared by several commands, as argparse parents."""
    seed = Parser(add_help=False)
    seed.add_argument("--seed", type=typed(Whole(0)), default=0, help="every random choice comes from it")
    json_ = Parser(add_help=False)
    json_.add_argument("--json", action="store_true", help="print JSON instead of text")
    network = Parser(add_help=False)
    names = list(activations.ACTIVATIONS)
    network.add_argument(
        "--activation", choices=names, default=None, help=f"hidden units (default: {NETWORK['activation']})"
    )
    network.add_argument("--output", choices=names, default=None, help=f"output unit (default: {NETWORK['output']})")
    network.add_argument("--loss", choices=list(losses.LOSSES), default=None, help=f"loss (default: {NETWORK['loss']})")
    quiet = Parser(add_help=False)
    quiet.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return {"seed": seed, "json": json_, "network": network, "quiet": quiet}


def _training_options(parser: argparse.ArgumentParser) -> None:
    """One option per training setting of :data:`xsq.training.settings.SETTINGS` (all but seed and scale)."""
    for name, s in SETTINGS.items():
        if name in ("seed", "scale"):
            continue
        help_ = s.help
        if any(name in d for d in PER_OPTIMIZER.values()):
            bayes = PER_REGULARIZATION["bayes"].get(name)  # e.g. fewer restarts
            help_ += f" (default: {defaults_text(name)}{'' if bayes is None else f'; {bayes} with bayes'})"
        elif name == "regularization":  # xsq train --data picks bayes where it applies (commands/train.py)
            needs = "{optimizer}, {loss} and {stages} stage".format(**REGULARIZED)
            help_ += f" (default: bayes for --data with {needs}; none otherwise)"
        elif s.default is not None:
            help_ += f" (default: {','.join(map(str, s.default)) if isinstance(s.default, tuple) else s.default})"
        if s.optimizers != getattr(SETTINGS["optimizer"].constraint, "names", ()):
            help_ += f"; for {', '.join(s.optimizers)} only"
        choices = getattr(getattr(s.constraint, "inner", s.constraint), "names", None)
        parser.add_argument(
            flag(name),
            dest=name,
            default=None,
            help=help_,
            **({"choices": list(choices)} if choices else {"type": typed(s.constraint)}),
        )


def _version() -> str:
    """xsq's version, as installed (a checkout on the path that was never installed has none)."""
    try:
        return metadata.version("xsq")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The ``xsq`` parser: one subparser per command, sharing options through ``parents``."""
    parser = Parser(
        prog="xsq",
        description="Small neural networks that learn f(x) = x^2 (or your own target or data), with checked gradients.",
    )
    parser.add_argument("--version", action="version", version=f"xsq {_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    common = _common()

    t = sub.add_parser(
        "train",
        parents=[common["seed"], common["quiet"]],
        help="train a network on f(x) = x^2 (or --target EXPR, or --data FILE.csv) and report how well it learnt",
    )
    t.add_argument(
        "--target",
        default=None,
        help="the function of x to learn (default: x**2; write --target=-x**2 for one that starts with -); "
        "numbers, pi, e, "
        "+ - * / **, and sin cos tan exp log log1p sqrt abs tanh arctan sinh cosh",
    )
    t.add_argument(
        "--low", type=typed(Real()), default=None, help=f"lower end of the training domain (default: {Problem.low:g})"
    )
    t.add_argument(
        "--high", type=typed(Real()), default=None, help=f"upper end of the training domain (default: {Problem.high:g})"
    )
    t.add_argument(
        "--n", type=typed(Whole(2)), default=None, help=f"number of training inputs, uniform (default: {DRAWN})"
    )
    t.add_argument("--data", default=None, help="fit measured data from a CSV file instead (inputs, then outputs)")
    t.add_argument("--inputs", default=None, help="--data: the input columns, by name or 0-based index")
    t.add_argument("--outputs", default=None, help="--data: the output columns (default: the last)")
    t.add_argument(
        "--test-fraction",
        type=typed(Real(0, 1, low_open=True, high_open=True)),
        default=None,
        help=f"--data: share of the rows held out to report on (default: {TEST_FRACTION:g})",
    )
    _training_options(t)
    t.add_argument(
        "--out", default=None, help="output folder (default: a new runs/<UTC time>-seed<k>, linked from runs/latest)"
    )
    t.add_argument("--overwrite", action="store_true", help="replace --out if it already holds a run")
    t.add_argument(
        "--animate", action="store_true", help="also write training.gif: fit, slope and loss over the epochs"
    )

    p = sub.add_parser("predict", parents=[common["json"]], help="predict with a model written by xsq train")
    p.add_argument("--model", default=MODEL, help="a model file")
    p.add_argument("--derivative", action="store_true", help="also print the learned slope d prediction / dx")
    p.add_argument("--std", action="store_true", help="also print the error bar (a model trained with bayes)")
    p.add_argument("--data", default=None, help="read the input rows from a CSV file")
    p.add_argument(
        "--inputs",
        default=None,
        help="--data: the input columns, by name or 0-based index (default: those the model was trained on, by name)",
    )
    p.add_argument(
        "x",
        nargs="*",
        help="input rows: a number each, or comma-separated numbers for a model of several inputs "
        "(none: rows from stdin, one a line)",
    )

    g = sub.add_parser(
        "gradcheck",
        parents=[common["seed"], common["network"], common["json"]],
        help="compare hand-written gradients with autograd and finite differences",
    )
    g.add_argument("--sizes", type=typed(Sizes(2, 4096)), default=(1, 16, 1), help="layer sizes (default: 1,16,1)")
    g.add_argument("--n", type=typed(Whole(1, 100_000)), default=64, help="number of random samples")
    g.add_argument("--all", action="store_true", help="every activation x output x loss combination")
    g.add_argument(
        "--order",
        type=int,
        choices=(1, 2),
        default=1,
        help="1: gradients; 2: Hessian-vector products and the Gauss-Newton matrix",
    )

    w = sub.add_parser(
        "sweep",
        parents=[common["quiet"]],
        help="map where training learns, stalls or diverges",
        description=SWEEP_DESCRIPTION,
    )
    axis = "(comma-separated)"
    w.add_argument(
        "--lr",
        type=typed(Axis(Real(0, low_open=True), log_range=True)),
        default="1e-4:10:11",
        help=SWEEP_HELP["lr"],
    )
    w.add_argument(
        "--scaling", type=typed(Axis(Options(sweep.SCALINGS))), default="raw,scaled", help=f"raw, scaled {axis}"
    )
    w.add_argument("--hidden", type=typed(Axis(Whole(1, 4096))), default="1,16", help=f"hidden units {axis}")
    w.add_argument(
        "--batch",
        type=typed(Axis(Options(sweep.BATCHES))),
        default="1",
        help=f"1 (per-sample updates, as in the question) or all {axis}{SWEEP_HELP['batch']}",
    )
    w.add_argument(
        "--optimizer",
        type=typed(Axis(Options(sweep.OPTIMIZERS))),
        default="sgd,adam",
        help=f"sgd, momentum, adam {axis}{SWEEP_HELP['optimizer']}",
    )
    w.add_argument("--seeds", type=typed(Axis(Whole(0))), default="0", help=f"seeds {axis}")
    w.add_argument(
        "--formulas",
        type=typed(Axis(Options(tuple(sweep.FORMULAS)))),
        default="stable,question",
        help=f"stable (xsq's) or question (the question's, as written) {axis}",
    )
    w.add_argument("--steps", type=typed(Whole(1, 10**7)), default=1000, help="optimizer steps per cell")
    w.add_argument(
        "--learned-below",
        type=typed(Real(0, low_open=True)),
        default=5e-2,
        help="a cell learned if its final test RMSE/range is at most this" + SWEEP_HELP["learned_below"],
    )
    w.add_argument("--jobs", type=typed(Whole(1, 1024)), default=os.cpu_count() or 1, help="parallel processes (loky)")
    w.add_argument("--backend", choices=("loky", "dask"), default="loky", help="joblib backend")
    w.add_argument(
        "--scheduler", default=None, help="the Dask scheduler's address, e.g. tcp://host:8786 (--backend dask)"
    )
    w.add_argument(
        "--timeout",
        type=typed(Real(0, low_open=True)),
        default=None,
        help=f"seconds to reach the scheduler (--backend dask; default: {TIMEOUT:g})",
    )
    w.add_argument("--out", default=None, help="output folder (default: runs/sweep-<hash of the axes>, to resume)")
    w.add_argument("--overwrite", action="store_true", help="replace another sweep in --out")
    w.add_argument("--yes", action="store_true", help=f"run a grid of more than {MAX_CELLS} cells")

    d = sub.add_parser(
        "diagnose",
        parents=[common["seed"], common["json"], common["quiet"]],
        help="rerun the question's 1-1-1 network and measure why it fails",
    )
    d.add_argument("--steps", type=typed(Whole(1, 10**7)), default=10_000, help="SGD steps of the question's run")
    d.add_argument("--animate", action="store_true", help="write diagnose.gif: the run beside two fixes (with --out)")
    d.add_argument("--out", default=None, help="the folder --animate writes diagnose.gif into")
    d.add_argument("--overwrite", action="store_true", help="replace the diagnose.gif in --out")

    c = sub.add_parser(
        "check", parents=[common["seed"], common["network"], common["json"]], help="name the mistakes in YOUR backprop"
    )
    c.add_argument("file", help="your Python file (only its imports, definitions and assignments are run)")
    c.add_argument("--function", default=None, help="NAME(params, X, Y) returns your gradients by name")
    c.add_argument("--object", default=None, help="EXPR builds your network object (e.g. 'Net(1, 16, 1)')")
    c.add_argument("--forward", default="forward_prop", help="--object: its forward method, called with X")
    c.add_argument("--update", default="back_prop", help="--object: its update method, called with X, Y")
    c.add_argument("--lr-attribute", default="learning_rate", help="--object: its learning rate attribute")
    c.add_argument("--lr", type=typed(Real(0, low_open=True)), default=None, help="--object: the learning rate")
    c.add_argument("--objective", default=None, help="your model: LOSS(params, X, Y), a number")
    c.add_argument("--example", default=None, help="your model: EX() returns (params, X, Y)")
    c.add_argument(
        "--sizes", type=typed(Sizes(2, 4096)), default=None, help="layer sizes (default: 1,16,1, or the object's)"
    )
    c.add_argument("--batch", type=typed(Whole(2, 10_000)), default=8, help="samples in the second check")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the command, and map what went wrong to one line and an exit status."""
    with interrupts.installed():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    prog = "xsq"
    if output.closed():  # started with stdout closed (>&-): whatever the command printed would be lost
        print(f"{prog}: error: standard output is closed; nothing was done", file=sys.stderr)
        return 1
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}", f"xsq {args.command or ''}".strip())
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        prog = f"xsq {args.command}"
        with interrupts.held():  # the command's own imports (joblib, tqdm...) only when it runs
            command = importlib.import_module(f"{__package__}.commands.{args.command}")
        interrupts.checkpoint()
        with output.checked():  # output that cannot be written is a failure, told rather than lost at exit
            return command.run(args)
    except UsageError as exc:
        print(f"{exc.prog}: error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except TrainingFailed as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:  # the estimates refuse what cannot fit; this is what they could not foresee
        print(f"{prog}: error: out of memory (see ulimit -v); nothing was saved; {MEMORY_TIP}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted: nothing was saved", file=sys.stderr)
        return interrupts.exit_status()
    except BrokenPipeError:  # the reader went away (e.g. | head): nothing more to say
        sys.stderr.close()
        return 1
    except OSError as exc:
        print(f"{prog}: error: {exc.strerror or exc}{f': {exc.filename!r}' if exc.filename else ''}", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("XSQ_DEBUG"):
            raise
        print(
            f"{prog}: internal error: {type(exc).__name__}: {exc} (a bug in xsq, not a problem with your input; "
            "run with XSQ_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return 1
