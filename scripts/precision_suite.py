"""The precision suite: smooth targets of every class xsq aims at, fitted with 1 and 3 stages, seeds 0 and 1.

The classes: polynomials, trigonometric sums and products, targets reaching 0 at an edge, steep fronts,
Runge peaks, damped oscillations, and x^2 on domains that include 0.

Run: python scripts/precision_suite.py [--seeds 0 1] [--stages 1 3] [--only NAME ...] [--hidden H] [--held-back]
    [--json out.json]

``--held-back`` fits other targets of the same classes instead (``HELD_BACK``), to check that what was
chosen on the suite holds beyond it.

Each target is fitted as ``xsq train --target EXPR --low A --high B --seed S`` fits it
(1,000 inputs drawn uniformly from the domain, the fit continuing the
generator, the output unit chosen from the targets and the whole grid),
and scored on 2,001 evenly spaced points inside the data's range, from the lowest drawn input to the
highest: RMSE over the target range. A cell marked "(24)" or "(16)" is a fit whose first network ended just
short and that tried a wider one (:mod:`xsq.training.wider`): the width kept. ``--json`` also records each
fit's seconds, best epoch, kept width, its validation RMSE over the range of the training targets, and what
each network reached. (The domain's own grid, which ``xsq train`` reports, also holds the
slivers between each end of the domain and the nearest drawn input, where the network extrapolates.)
Beside it, a Chebyshev least-squares fit (``numpy.polynomial.Chebyshev.fit``,
degree ``CHEB_DEGREE``) of the same points, scored on the same points.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from benchlib import emit

import xsq
from xsq.data.expr import compile_expression
from xsq.data.metrics import rmse_over_range
from xsq.data.problem import GRID_POINTS, Problem
from xsq.training.outputs import choose_output

N = 1000
CHEB_DEGREE = 40

# (class, expression, low, high)
SUITE = [
    ("polynomial", "x**3 - 2*x + 1", -2.0, 2.0),
    ("polynomial", "x**6 - 3*x**4 + 2*x**2 - x + 1", -1.5, 1.5),
    ("trigonometric", "sin(3*x)*cos(x)", 0.0, 3.0),
    ("trigonometric", "sin(x) + 0.5*cos(2*x)", 0.0, 6.0),
    ("zero at an edge", "log(x+1) + log(x**2+1)", 0.0, 2.0),
    ("zero at an edge", "x*exp(-x)", 0.0, 3.0),
    ("steep front", "tanh(20*x)", -1.0, 1.0),
    ("Runge peak", "1/(1+25*x**2)", -1.0, 1.0),
    ("damped oscillation", "exp(-x)*sin(5*x)", 0.0, 4.0),
    ("x^2 with 0", "x**2", 0.0, 100.0),
    ("x^2 with 0", "x**2", -1.0, 1.0),
    ("x^2 (standard)", "x**2", 1.0, 100.0),
]

# Other targets of the same classes, held back from the choices made on SUITE (run with --held-back).
HELD_BACK = [
    ("polynomial", "x**5 - x**3 + 0.5*x", -1.2, 1.2),
    ("polynomial", "x**4 - 2*x**2", -2.0, 2.0),
    ("trigonometric", "cos(2*x)*sin(x)", 0.0, 4.0),
    ("trigonometric", "sin(2*x) + cos(3*x)", 0.0, 4.0),
    ("zero at an edge", "sqrt(x+0.01)", 0.0, 1.0),
    ("zero at an edge", "log(1+x)", 0.0, 3.0),
    ("zero at an edge", "x*log(1+x)", 0.0, 2.0),
    ("steep front", "tanh(5*(x-0.3))", -1.0, 1.0),
    ("Runge peak", "1/(1+50*x**2)", -1.0, 1.0),
    ("Runge peak", "exp(-x**2)", -2.0, 2.0),
    ("damped oscillation", "exp(-0.5*x)*cos(4*x)", 0.0, 5.0),
    ("damped oscillation", "exp(-0.3*x)*sin(3*x)", 0.0, 6.0),
    ("x^2 with 0", "x**2", 0.0, 10.0),
]


def problem_of(expression: str, low: float, high: float) -> Problem:
    return Problem(compile_expression(expression), low, high)


def inside(x: np.ndarray) -> np.ndarray:
    """``GRID_POINTS`` evenly spaced points from the lowest of the inputs x to the highest."""
    return np.linspace(x.min(), x.max(), GRID_POINTS)


def fit_and_score(problem: Problem, seed: int, stages: int, hidden: int | None = None) -> dict:
    """Of xsq's fit as ``xsq train`` makes it (with ``--hidden`` when ``hidden`` is given): its RMSE/range
    inside the data's range (``error``), ``seconds``, ``best_epoch``, the kept network's ``hidden`` width and
    validation RMSE over the training targets' range (``val_rmse_over_range``), and, when a wider network was
    tried, what each reached (``widths``, as ``record.widths`` holds them)."""
    x, rng = problem.draw(N, seed)
    y = problem.values(x)
    output = choose_output(y, also=problem.values(problem.grid()), X=x[:, None], projectable=True)[0]
    grid = inside(x)
    t = time.perf_counter()
    model = xsq.fit(x, y, seed=rng, output=output, stages=stages, hidden=hidden)
    seconds = time.perf_counter() - t
    val = model.record.val_rows
    train = np.setdiff1d(np.arange(N), val)
    return {
        "error": rmse_over_range(model.predict(grid)[:, 0], problem.values(grid)),
        "seconds": seconds,
        "best_epoch": model.record.best_epoch,
        "hidden": model.sizes[1],
        "val_rmse_over_range": rmse_over_range(model.predict(x[val])[:, 0], y[val], of=y[train]),
        "widths": [w.to_plain() for w in model.record.widths],
    }


def mark(cell: dict) -> str:
    """ " (24)" when a wider network was tried and kept, " (16)" when it was tried and the first kept, else ""."""
    return f" ({cell['hidden']})" if cell["widths"] else ""


def chebyshev(problem: Problem, seed: int) -> float:
    x, _ = problem.draw(N, seed)
    grid = inside(x)
    fitted = np.polynomial.Chebyshev.fit(x, problem.values(x), CHEB_DEGREE)
    return rmse_over_range(fitted(grid), problem.values(grid))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--only", nargs="+", help="only the targets whose expression is one of these")
    parser.add_argument("--hidden", type=int, help="hidden units (default: xsq's, which may train a wider network)")
    parser.add_argument("--held-back", action="store_true", help="fit the held-back targets instead of the suite")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    if args.hidden is not None and args.hidden < 1:
        parser.error(f"--hidden must be at least 1, got {args.hidden}")
    rows = []
    head = f"{'class':<20} {'target':<32} {'domain':<12}"
    cols = [f"{k} stage{'s' if k > 1 else ''} s{s}" for k in args.stages for s in args.seeds]
    print(head + "".join(f" {c:>14}" for c in cols) + f" {'Chebyshev ' + str(CHEB_DEGREE):>13}", flush=True)
    for kind, expression, low, high in HELD_BACK if args.held_back else SUITE:
        if args.only and expression not in args.only:
            continue
        problem = problem_of(expression, low, high)
        row = {"class": kind, "target": expression, "low": low, "high": high}
        cells = []
        for k in args.stages:
            for s in args.seeds:
                cell = fit_and_score(problem, s, k, args.hidden)
                row[f"stages_{k}_seed_{s}"] = cell["error"]
                row.update({f"stages_{k}_seed_{s}_{name}": v for name, v in cell.items() if name != "error"})
                cells.append(f"{cell['error']:.2e}{mark(cell)}")
        row["chebyshev"] = max(chebyshev(problem, s) for s in args.seeds)
        rows.append(row)
        domain = f"[{low:g}, {high:g}]"
        print(
            f"{kind:<20} {expression:<32} {domain:<12}"
            + "".join(f" {c:>14}" for c in cells)
            + f" {row['chebyshev']:>13.2e}",
            flush=True,
        )
    worst = [max(r[f"stages_{k}_seed_{s}"] for r in rows for s in args.seeds) for k in args.stages]
    print(f"{'worst':<66}" + "".join(f" {w:>14.2e}" + " " * 15 * (len(args.seeds) - 1) for w in worst))
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
