"""The ``xsq`` command line: ``gradcheck``, ``train``, ``predict`` and ``diagnose``.

Bad arguments print one line on stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

import numpy as onp

from . import losses
from .activations import ACTIVATIONS
from .train import TrainingDiverged


class UsageError(Exception):
    """A bad command-line argument: reported in one line, exit status 2."""


class _ShowDefaults(argparse.HelpFormatter):
    """Help that states each option's default, except where it is None or already said."""

    def _get_help_string(self, action):
        text = action.help or ""
        hidden = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if not hidden and "default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(f"{self.prog}: {message}")


def parse_sizes(text: str) -> tuple[int, ...]:
    """'1,16,1' -> (1, 16, 1); every entry a whole number >= 1."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"every size must be >= 1, got {text!r}")
    return sizes


def whole_number(minimum: int, name: str = "value"):
    """An argparse type: a whole number >= ``minimum``, with a one-line message otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number >= {minimum}, got {text!r}")
        return value

    return parse


def real_number(accept, requirement: str):
    """An argparse type: a float for which ``accept(value)`` holds, e.g. finite and > 0."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (onp.isfinite(value) and accept(value)):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
        return value

    return parse


positive_int = whole_number(1)
seed_int = whole_number(0, "seed")
positive_float = real_number(lambda v: v > 0, "a finite number > 0")
finite_float = real_number(lambda v: True, "a finite number")
val_fraction = real_number(lambda v: 0 <= v < 1, "a number in [0, 1)")


# --- gradcheck -----------------------------------------------------------------


def gradcheck_problem(sizes, activation: str, output: str, n: int, seed: int):
    """Random parameters (biases too, so no unit starts exactly at a kink) and positive targets."""
    from .network import init_params

    rng = onp.random.default_rng(seed)
    params = init_params(sizes, seed=rng, activation=activation)
    for key in params:
        if key.startswith("b"):
            params[key] = rng.normal(0.0, 0.5, size=params[key].shape)
    X = rng.uniform(-2.0, 2.0, size=(n, sizes[0]))
    Y = X[:, :1] ** 2 + 0.5 + onp.arange(sizes[-1])
    return params, X, Y


def cmd_gradcheck(args) -> int:
    from .gradcheck import format_table, gradcheck, passed, rows_as_dicts

    if args.all:
        combos = list(itertools.product(ACTIVATIONS, ACTIVATIONS, losses.LOSSES))
    else:
        combos = [(args.activation, args.output, args.loss)]
    results = []
    for activation, output, loss in combos:
        params, X, Y = gradcheck_problem(args.sizes, activation, output, args.n, args.seed)
        rows = gradcheck(params, X, Y, activation=activation, output=output, loss=loss)
        results.append({"activation": activation, "output": output, "loss": loss,
                        "sizes": list(args.sizes), "n": args.n, "seed": args.seed,
                        "passed": passed(rows), "params": rows_as_dicts(rows), "_rows": rows})
    ok = all(r["passed"] for r in results)
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "_rows"} for r in results], indent=1))
    else:
        for r in results:
            print(f"\nactivation={r['activation']} output={r['output']} loss={r['loss']} "
                  f"sizes={','.join(map(str, r['sizes']))} n={r['n']} seed={r['seed']}")
            print(format_table(r["_rows"]))
        n_bad = sum(not r["passed"] for r in results)
        print(f"\n{len(results) - n_bad} of {len(results)} combinations passed")
    return 0 if ok else 1


# --- train and predict ------------------------------------------------------------


class Progress:
    """Periodic progress lines on stderr: epoch, train and validation loss, elapsed seconds."""

    def __init__(self, every: float = 0.5):
        self.every, self.next = every, 0.0

    def __call__(self, info: dict) -> None:
        if info["elapsed"] >= self.next or info["epoch"] == 0:
            self.next = info["elapsed"] + self.every
            print(f"epoch {info['epoch']:>6}  train loss {info['train_loss']:.3e}  "
                  f"val loss {info['val_loss']:.3e}  {info['elapsed']:6.2f} s", file=sys.stderr, flush=True)


def _writable_folder(path: str) -> str:
    import os
    import tempfile

    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write to output directory {path!r}: {exc.strerror or exc}") from None
    return path


def cmd_train(args) -> int:
    from .report import evaluate, sample_table, target, training_inputs, write_run
    from .train import fit

    if not args.low < args.high:
        raise UsageError(f"--low must be below --high, got low={args.low} high={args.high}")
    if args.loss == "relative_mse" and args.low <= 0:
        raise UsageError(f"--loss relative_mse needs every target > 0, so --low must be > 0 (got {args.low})")
    folder = _writable_folder(args.out)
    x, rng = training_inputs(args.low, args.high, args.n, args.seed)
    model = fit(x, target(x), hidden=args.hidden, activation=args.activation, output=args.output, loss=args.loss,
                optimizer=args.optimizer, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                val_fraction=args.val_fraction, patience=args.patience, seed=rng, grad=args.grad,
                restarts=args.restarts, callback=None if args.quiet else Progress())
    model.seed = args.seed
    metrics = evaluate(model, args.low, args.high, x)
    metrics.update(train_seconds=model.train_seconds, epochs=model.n_epochs, best_epoch=model.best_epoch,
                   optimizer=args.optimizer, sizes=list(model.sizes), activation=args.activation,
                   output=args.output, loss=args.loss, seed=args.seed, n=args.n, low=args.low, high=args.high,
                   converged=model.converged, interrupted=model.interrupted)
    written = write_run(folder, model, metrics, args.low, args.high, x)
    print(sample_table(model, args.low, args.high))
    print(summary(metrics))
    print(f"wrote {', '.join(written)} to {folder}")
    if "fit.png" not in written:
        print("plots: pip install 'xsq[plot]' (matplotlib) to get fit.png, loss.png and error.png")
    if model.interrupted:
        print("interrupted: saved the best model so far", file=sys.stderr)
        return 130
    return 0


def summary(m: dict) -> str:
    """The metrics of a run as aligned text lines."""
    lo, hi = m["low"], m["high"]
    (b0, b1), (a0, a1) = m["extrapolation_below"], m["extrapolation_above"]
    rows = [
        ("train RMSE", f"{m['train_rmse']:.3e}"),
        ("validation RMSE", f"{m['val_rmse']:.3e}"),
        (f"test RMSE ({2001} points of [{lo:g}, {hi:g}])", f"{m['test_rmse']:.3e}"),
        ("test RMSE / target range", f"{m['test_rmse_over_range']:.3e}"),
        (f"max relative error on [{lo:g}, {hi:g}]", f"{m['test_max_rel_error']:.3e}"),
        ("wall time", f"{m['train_seconds']:.2f} s ({m['epochs']} epochs, best at {m['best_epoch']})"),
        (f"EXTRAPOLATION max rel. error on [{b0:g}, {b1:g})", f"{m['extrapolation_max_rel_error_below']:.3e}"),
        (f"EXTRAPOLATION max rel. error on ({a0:g}, {a1:g}]", f"{m['extrapolation_max_rel_error_above']:.3e}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def cmd_predict(args) -> int:
    from .model import load_model

    model = load_model(args.model)
    if model.sizes[0] != 1:
        raise UsageError(f"model {args.model!r} takes {model.sizes[0]} inputs; this command feeds it one number each")
    preds = model.predict(onp.array(args.x)[:, None])
    if args.json:
        print(json.dumps(preds[:, 0].tolist() if preds.shape[1] == 1 else preds.tolist()))
    else:
        for x, p in zip(args.x, preds):
            print(f"{x:.17g} " + " ".join(f"{v:.17g}" for v in p))
    return 0


def cmd_diagnose(args) -> int:
    from .diagnose import diagnose, format_report

    result = diagnose(steps=args.steps, seed=args.seed)
    print(json.dumps(result, indent=1) if args.json else format_report(result))
    return 0


# --- the parser ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xsq", description="A small neural network that learns f(x) = x^2.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    defaults = {"formatter_class": _ShowDefaults}

    g = sub.add_parser("gradcheck", **defaults,
                       help="compare hand-written gradients with autograd and finite differences")
    g.add_argument("--sizes", type=parse_sizes, default=(1, 16, 1), help="layer sizes (default: 1,16,1)")
    g.add_argument("--activation", choices=list(ACTIVATIONS), default="sigmoid", help="hidden units")
    g.add_argument("--output", choices=list(ACTIVATIONS), default="softplus", help="output unit")
    g.add_argument("--loss", choices=list(losses.LOSSES), default="mse", help="loss")
    g.add_argument("--n", type=positive_int, default=64, help="number of random samples")
    g.add_argument("--seed", type=seed_int, default=0, help="random parameters and data")
    g.add_argument("--all", action="store_true", help="every activation x output x loss combination")
    g.add_argument("--json", action="store_true", help="print JSON instead of tables")
    g.set_defaults(func=cmd_gradcheck)

    from .train import DEFAULTS, GRADS, OPTIMIZERS

    t = sub.add_parser("train", **defaults, help="train a network on f(x) = x^2 and report how well it learnt")
    t.add_argument("--low", type=finite_float, default=1.0, help="lower end of the training domain")
    t.add_argument("--high", type=finite_float, default=100.0, help="upper end of the training domain")
    t.add_argument("--n", type=whole_number(2), default=1000, help="number of training inputs (uniform)")
    t.add_argument("--hidden", type=parse_sizes, default=(16,),
                   help="hidden layer sizes, e.g. 16 or 16,16 (default: 16)")
    t.add_argument("--activation", choices=list(ACTIVATIONS), default="sigmoid", help="hidden units")
    t.add_argument("--output", choices=list(ACTIVATIONS), default="softplus", help="output unit")
    t.add_argument("--loss", choices=list(losses.LOSSES), default="mse", help="training loss")
    t.add_argument("--optimizer", choices=list(OPTIMIZERS), default="lm", help="lm is Levenberg-Marquardt")
    per_optimizer = ", ".join(f"{name} {d['epochs']}" for name, d in DEFAULTS.items())
    t.add_argument("--lr", type=positive_float, default=None,
                   help="learning rate of sgd, momentum and adam (default: " +
                   ", ".join(f"{name} {d['lr']}" for name, d in DEFAULTS.items() if d["lr"]) + ")")
    t.add_argument("--epochs", type=positive_int, default=None,
                   help=f"most epochs, for lm the steps (default: {per_optimizer})")
    t.add_argument("--batch-size", type=positive_int, default=None,
                   help="mini-batch size (default: the whole training set)")
    t.add_argument("--val-fraction", type=val_fraction, default=0.15, help="share held out for early stopping")
    t.add_argument("--patience", type=positive_int, default=None,
                   help="epochs without improvement before stopping (default: " +
                   ", ".join(f"{name} {d['patience']}" for name, d in DEFAULTS.items()) + ")")
    t.add_argument("--restarts", type=whole_number(0), default=None,
                   help="lm: other initialisations screened before the main run "
                   f"(default: {DEFAULTS['lm']['restarts']})")
    t.add_argument("--seed", type=seed_int, default=0, help="every random choice comes from it")
    t.add_argument("--grad", choices=list(GRADS), default="autograd", help="gradient of sgd, momentum, adam")
    t.add_argument("--out", default="runs/latest", help="output folder")
    t.add_argument("--quiet", action="store_true", help="no progress lines")
    t.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", **defaults, help="predict x^2 with a saved model")
    p.add_argument("--model", default="runs/latest/model.npz", help="a model written by xsq train")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("x", type=finite_float, nargs="+", help="inputs")
    p.set_defaults(func=cmd_predict)

    d = sub.add_parser("diagnose", **defaults, help="rerun the question's 1-1-1 network and measure why it fails")
    d.add_argument("--steps", type=positive_int, default=10_000, help="SGD steps of the question's run")
    d.add_argument("--seed", type=seed_int, default=0, help="the question's random draws and xsq's runs")
    d.add_argument("--json", action="store_true", help="print the measurements as JSON")
    d.set_defaults(func=cmd_diagnose)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xsq`` console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, ValueError) as exc:
        print(f"xsq: error: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"xsq: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # before the first epoch finished: there is nothing worth saving
        print("xsq: interrupted before any result: nothing saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
