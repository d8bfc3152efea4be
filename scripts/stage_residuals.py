"""Why a third stage stops short of 1e-13: what is left after two stages, and what the third one made of it.

Run: python scripts/stage_residuals.py [--only EXPR ...] [--width UNITS] [--json out.json]

For the precision suite's targets whose 3-stage fit misses 1e-13 (``scripts/precision_suite.py``),
fitted as that script fits them, the residual of the 2-stage model (the first network plus its
tangent stage) on a 20,001-point grid of the domain is measured three ways, each as RMS over the
target's range:

* **unexplained by a polynomial** of degree 20, 60 and 150 (``numpy.polynomial.Chebyshev.fit``):
  a smooth residual that only a high degree explains oscillates many times across the domain;
* **roughness**: the RMS of its second difference over its own RMS (about 2.4 for rounding noise,
  far below 1 for a smooth curve on this grid);
* **evaluation noise**: how much the model's output moves, beyond its slope, when each input moves
  by one unit in the last place (the rounding in evaluating the network itself, a floor no stage
  can go below).

Then the third stage as :func:`xsq.fit` tries it: kept or dropped, and the error after it
(``--width`` tries it with another number of hidden units than ``STAGE_WIDTH``).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from benchlib import emit
from precision_suite import N, problem_of

import xsq
from xsq.data.metrics import rmse_over_range
from xsq.training import staged_fit
from xsq.training.outputs import choose_output

# (expression, low, high, seed): the precision suite's 3-stage cells above 1e-13
MISSES = [
    ("x**6 - 3*x**4 + 2*x**2 - x + 1", -1.5, 1.5, 0),
    ("sin(3*x)*cos(x)", 0.0, 3.0, 1),
    ("sin(x) + 0.5*cos(2*x)", 0.0, 6.0, 0),
    ("exp(-x)*sin(5*x)", 0.0, 4.0, 0),
    ("exp(-x)*sin(5*x)", 0.0, 4.0, 1),
]
DEGREES = (20, 60, 150)
GRID = 20001


def positive(text: str) -> int:
    """A whole number >= 1 (argparse's type)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return int(text)


def measure(expression: str, low: float, high: float, seed: int) -> dict:
    problem = problem_of(expression, low, high)
    x, rng = problem.draw(N, seed)
    y = problem.values(x)
    output = choose_output(y, also=problem.values(problem.grid()), X=x[:, None], projectable=True)[0]
    model = xsq.fit(x, y, seed=rng, output=output, stages=3)
    g = np.linspace(low, high, GRID)
    t = problem.values(g)
    span = float(t.max() - t.min())
    two = model.upto(2)
    R = t - two.predict(g)[:, 0]
    row: dict = {"target": expression, "seed": seed, "after_2": float(np.sqrt(np.mean(R**2)) / span)}
    for degree in DEGREES:
        left = R - np.polynomial.Chebyshev.fit(g, R, degree)(g)
        row[f"unexplained_deg_{degree}"] = float(np.sqrt(np.mean(left**2)) / span)
    row["roughness"] = float(np.sqrt(np.mean(np.diff(R, 2) ** 2)) / np.sqrt(np.mean(R**2)))
    nudged = np.nextafter(g, np.inf)
    moved = (two.predict(nudged) - two.predict(g))[:, 0] - two.derivative(g)[:, 0, 0] * (nudged - g)
    row["evaluation_noise"] = float(np.sqrt(np.mean(moved**2)) / span)
    third = [r for r in model.record.stages if r.stage == 3]
    row["third_kept"] = bool(third and third[0].kept)
    row["after_3"] = rmse_over_range(model.predict(problem.grid())[:, 0], problem.values(problem.grid()))
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="only the targets whose expression is one of these")
    parser.add_argument(
        "--width", type=positive, help=f"hidden units of the third stage (default {staged_fit.STAGE_WIDTH})"
    )
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    if unknown := set(args.only or ()) - {m[0] for m in MISSES}:
        parser.error(f"no such target here: {sorted(unknown)}; the targets are {sorted({m[0] for m in MISSES})}")
    if args.width:
        staged_fit.STAGE_WIDTH = args.width
    cols = ["after 2"] + [f"unexpl. deg {d}" for d in DEGREES] + ["roughness", "eval. noise", "3rd stage"]
    print(f"{'target':<32} {'seed':>4}" + "".join(f" {c:>14}" for c in cols), flush=True)
    rows = []
    for expression, low, high, seed in MISSES:
        if args.only and expression not in args.only:
            continue
        r = measure(expression, low, high, seed)
        rows.append(r)
        cells = [r["after_2"], *(r[f"unexplained_deg_{d}"] for d in DEGREES), r["roughness"], r["evaluation_noise"]]
        third = f"kept {r['after_3']:.2e}" if r["third_kept"] else "dropped"
        print(f"{expression:<32} {seed:>4}" + "".join(f" {c:>14.2e}" for c in cells) + f" {third:>14}", flush=True)
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
