"""What stage 2 gains, order by order: the derivative stage of each order on the precision suite's targets.

Run: python scripts/stage_orders.py [--only EXPR ...] [--orders 1 2 3 4 5 6] [--json out.json]

For each target of ``scripts/precision_suite.py`` that gets an identity output (a first network of one
input and an identity output, whose stage 2 is a derivative stage), fitted as that script fits it with two
stages, seeds 0 and 1, on the domain's 2,001-point grid:

* **stage 1**: the first network's RMSE over the target's range, and how many times its residual changes
  sign on the grid;
* **order k**: the RMSE/range after a derivative stage of order k (:func:`xsq.training.staged_fit.fit_derivatives`
  on the same training rows, weights and scale as :func:`xsq.fit` uses). Order 1 spans what the tangent
  stage spans for an identity output (the first network's parameter Jacobian);
* **chosen**: the order :func:`xsq.fit` kept, chosen from ``staged_fit.ORDERS`` on the validation rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np
from benchlib import emit
from precision_suite import SUITE, N, problem_of

import xsq
from xsq.core import net
from xsq.data.metrics import rmse_over_range
from xsq.training import staged_fit
from xsq.training.outputs import choose_output
from xsq.training.stages import MAX_ORDER, DerivativeStage


def measure(expression: str, low: float, high: float, seed: int, orders: list[int]) -> dict | None:
    """The row of one target and seed, or None when its output is not identity."""
    problem = problem_of(expression, low, high)
    x, rng = problem.draw(N, seed)
    y = problem.values(x)
    grid, truth = problem.grid(), problem.values(problem.grid())
    output = choose_output(y, also=truth, X=x[:, None], projectable=True)[0]
    if output != "identity":
        return None
    model = xsq.fit(x, y, seed=rng, output=output, stages=2)
    first = model.upto(1)
    left = truth - first.predict(grid)[:, 0]
    row: dict = {"target": expression, "seed": seed, "stage_1": rmse_over_range(first.predict(grid)[:, 0], truth)}
    row["sign_changes"] = int(np.sum(np.sign(left[1:]) * np.sign(left[:-1]) < 0))
    Xs, Ys = model.scaler.inputs(x[:, None]), model.scaler.targets(y[:, None])
    train = np.setdiff1d(np.arange(len(x)), model.record.val_rows)
    w = staged_fit.weights(Ys)
    R = Ys - net.forward(first.params, Xs, model.activation, model.output)
    S = float(np.sqrt(np.mean((w[train] * R[train]) ** 2)))
    for order in orders:
        coef, _ = staged_fit.fit_derivatives(model.base, Xs[train], R[train] / S, w[train], order)
        staged = dataclasses.replace(first, stages=(DerivativeStage(coef, order, S),))
        row[f"order_{order}"] = rmse_over_range(staged.predict(grid)[:, 0], truth)
    kept = [s for s in model.stages if s.kind == "derivatives"]
    row["chosen"] = kept[0].order if kept else None
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="only the targets whose expression is one of these")
    parser.add_argument("--orders", type=int, nargs="+", default=list(range(1, MAX_ORDER + 1)))
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    if unknown := set(args.only or ()) - {s[1] for s in SUITE}:
        parser.error(f"no such target here: {sorted(unknown)}; the targets are {sorted({s[1] for s in SUITE})}")
    if bad := [k for k in args.orders if not 1 <= k <= MAX_ORDER]:
        parser.error(f"--orders: {bad[0]} is not between 1 and {MAX_ORDER}")
    cols = ["stage 1", "sign changes"] + [f"order {k}" for k in args.orders] + ["chosen"]
    print(f"{'target':<32} {'domain':<12} {'seed':>4}" + "".join(f" {c:>12}" for c in cols), flush=True)
    rows = []
    for _, expression, low, high in SUITE:
        if args.only and expression not in args.only:
            continue
        for seed in (0, 1):
            r = measure(expression, low, high, seed, args.orders)
            if r is None:
                continue
            rows.append(r)
            cells = [f"{r['stage_1']:.2e}", str(r["sign_changes"])]
            cells += [f"{r[f'order_{k}']:.2e}" for k in args.orders] + [str(r["chosen"] or "dropped")]
            domain = f"[{low:g}, {high:g}]"
            print(f"{expression:<32} {domain:<12} {seed:>4}" + "".join(f" {c:>12}" for c in cells), flush=True)
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
