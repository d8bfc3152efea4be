"""How far float64 itself limits a staged fit of x^2: the network evaluated in float64 and in extended precision.

Run: python scripts/precision_floor.py [--seeds 0-2] [--stages 3]

For each seed it fits ``xsq.fit(x, x**2, stages=K)`` as ``xsq train --seed S --stages K``
does, then scores the model on the 2,001-point grid of [1, 100]:

* as xsq computes it (float64, stage outputs summed first to last);
* with every stage evaluated in ``numpy.longdouble`` (64-bit mantissa on
  x86-64) and summed there: the error the trained weights themselves leave,
  without float64's rounding of the evaluation;
* with the float64 stage outputs summed by ``math.fsum`` (correctly rounded):
  does the order of the sum lose the last stage's digits?

and prints, beside them, the floor of representing x^2 in float64 at all
(the RMS of x^2 rounded to float64, over the range).
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

import xsq
from xsq.core.net import forward as xsq_forward
from xsq.data.problem import Problem

LONG = np.longdouble


def forward(params: dict, X: np.ndarray, activation: str, output: str) -> np.ndarray:
    """The network at X in X's precision (a plain loop: xsq's own pass is written for float64)."""
    k = len(params) // 2
    A = X
    for i in range(1, k + 1):
        A = A @ params[f"W{i}"].astype(X.dtype) + params[f"b{i}"].astype(X.dtype)
        A = apply(activation if i < k else output, A)
    return A


def apply(name: str, z: np.ndarray) -> np.ndarray:
    one = z.dtype.type(1)
    if name == "sigmoid":
        return one / (one + np.exp(-z))
    if name == "softplus":
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    if name == "tanh":
        return np.tanh(z)
    if name == "identity":
        return z
    raise ValueError(name)


def stage_outputs(model, Xs: np.ndarray) -> list[np.ndarray]:
    """Each stage's scaled contribution at scaled inputs Xs: xsq's own float64 pass for float64 inputs,
    the plain loop above in extended precision otherwise."""
    base = model.base
    net = xsq_forward if Xs.dtype == np.float64 else forward
    outs = [net(base.params, Xs, base.activation, base.output)]
    for stage in model.stages:
        if stage.kind == "network":
            value = net(stage.params, Xs, stage.activation, stage.output)
        else:  # a tangent stage adds about 1e-10 of the output: float64 is ample for it
            value = np.asarray(stage.value(base, Xs.astype(float)), dtype=Xs.dtype)
        outs.append(stage.scale * value)
    return outs


def report(seed: int, stages: int) -> dict:
    problem = Problem()
    x, rng = problem.draw(1000, seed)
    model = xsq.fit(x, problem.values(x), seed=rng, stages=stages)
    grid = problem.grid()
    exact = grid.astype(LONG) ** 2  # x^2 of the float64 grid points, in extended precision
    span = float(exact.max() - exact.min())
    s = model.scaler

    def score(pred) -> float:
        return float(np.sqrt(np.mean((np.asarray(pred, dtype=LONG) - exact) ** 2))) / span

    f64 = model.predict(grid)[:, 0]
    Xl = (grid.astype(LONG)[:, None] - s.x_mean.astype(LONG)) / s.x_std.astype(LONG)
    long_sum = sum(stage_outputs(model, Xl))[:, 0] * LONG(s.y_scale[0]) + LONG(s.y_shift[0])
    parts = [p[:, 0] for p in stage_outputs(model, s.inputs(grid[:, None]))]
    fsum = np.array([math.fsum(v) for v in zip(*parts)]) * s.y_scale[0] + s.y_shift[0]
    diff_ulps = np.abs(fsum - f64) / np.spacing(np.abs(fsum))
    return {
        "seed": seed,
        "float64": score(f64),
        "longdouble": score(long_sum),
        "fsum": score(fsum),
        "sum_max_ulps": float(diff_ulps.max()),
        "sum_share_differing": float(np.mean(diff_ulps > 0)),
        "representation": score(exact.astype(float)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--stages", type=int, default=3)
    args = parser.parse_args(argv)
    low, _, high = args.seeds.partition("-")
    print(
        f"{'seed':>4} {'float64 (xsq)':>14} {'longdouble':>11} {'fsum':>11} {'sum: max ulps':>14} "
        f"{'differ':>7} {'x^2 in float64':>15}  (RMSE / range on the grid)"
    )
    for seed in range(int(low), int(high or low) + 1):
        r = report(seed, args.stages)
        print(
            f"{r['seed']:>4} {r['float64']:>14.3e} {r['longdouble']:>11.3e} {r['fsum']:>11.3e} "
            f"{r['sum_max_ulps']:>14.0f} {r['sum_share_differing']:>6.0%} {r['representation']:>15.3e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
