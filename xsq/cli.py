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


class UsageError(Exception):
    """A bad command-line argument: reported in one line, exit status 2."""


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


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be a whole number >= 0, got {value}")
    return value


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


# --- the parser ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xsq", description="A small neural network that learns f(x) = x^2.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    g = sub.add_parser("gradcheck", help="compare hand-written gradients with autograd and finite differences")
    g.add_argument("--sizes", type=parse_sizes, default=(1, 16, 1), help="layer sizes, e.g. 1,16,1")
    g.add_argument("--activation", choices=list(ACTIVATIONS), default="sigmoid")
    g.add_argument("--output", choices=list(ACTIVATIONS), default="softplus")
    g.add_argument("--loss", choices=list(losses.LOSSES), default="mse")
    g.add_argument("--n", type=positive_int, default=64, help="number of random samples")
    g.add_argument("--seed", type=seed_int, default=0)
    g.add_argument("--all", action="store_true", help="every activation x output x loss combination")
    g.add_argument("--json", action="store_true", help="print JSON instead of tables")
    g.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xsq`` console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, ValueError) as exc:
        print(f"xsq: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
