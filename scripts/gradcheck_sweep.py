"""``xsq gradcheck --all`` over many seeds and network sizes, in parallel: does any check give a false alarm?

Run: python scripts/gradcheck_sweep.py [--seeds 0-100] [--sizes 1,16,1 1,8,8,1 3,5,2] [--jobs 2]

Every activation x output x loss combination is checked at every seed and
size, on random parameters and data (as ``xsq gradcheck`` makes them); the
script prints how many passed and lists any that did not, and exits 1 if any
did not.
"""

from __future__ import annotations

import argparse
import itertools
import sys

from joblib import Parallel, delayed

from xsq.checks.gradient_check import gradcheck, passed, random_problem
from xsq.core import activations, losses


def seeds(text: str) -> range:
    """'0-100' -> seeds 0 to 100; '23' -> just 23."""
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


def check_seed(sizes: tuple[int, ...], seed: int, n: int) -> list[tuple]:
    """Every combination at one size and seed; returns the ones that did not pass."""
    bad = []
    for activation, output, loss in itertools.product(activations.ACTIVATIONS, activations.ACTIVATIONS, losses.LOSSES):
        params, X, Y = random_problem(sizes, activation, n, seed)
        rows = gradcheck(params, X, Y, activation=activation, output=output, loss=loss)
        if not passed(rows):
            bad.append((sizes, seed, activation, output, loss, [r.name for r in rows if not r.passed]))
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seeds, default=seeds("0-100"))
    parser.add_argument("--sizes", nargs="+", default=["1,16,1", "1,8,8,1", "3,5,2"])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.sizes]
    tasks = [(s, seed) for s in sizes for seed in args.seeds]
    results = Parallel(n_jobs=args.jobs)(delayed(check_seed)(s, seed, args.n) for s, seed in tasks)
    bad = [b for r in results for b in r]
    total = len(tasks) * len(activations.ACTIVATIONS) ** 2 * len(losses.LOSSES)
    print(f"{total - len(bad)} of {total} checks passed ({len(tasks)} size and seed pairs x 100 combinations)")
    for b in bad:
        print("MISMATCH", *b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
