"""Time the gradient of the training objective: autograd vs hand-written backprop (vs torch and JAX).

Run: python scripts/bench_grads.py [--rounds 30] [--json out.json]

Each case builds one network and one data set; every function is warmed up,
then timed in interleaved rounds (a few calls per round, best of the round),
and the table reports the median over rounds and ratios to the manual path.
torch's backward on the same network (float64, CPU) joins when torch is installed, and
``jax.jit(jax.grad(...))`` (float64, compiled before timing; ``jax_peers.py``) when JAX is.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import numpy as np
from benchlib import best_time, emit

import xsq

CASES = [((1, 16, 1), 1_000), ((1, 64, 1), 100_000)]


def torch_grad_fn(params, X, Y):
    try:
        import torch
    except ImportError:
        return None
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    tX, tY = torch.tensor(X), torch.tensor(Y)

    def run():
        for v in tp.values():
            v.grad = None
        z = torch.sigmoid(tX @ tp["W1"] + tp["b1"])
        out = torch.nn.functional.softplus(z @ tp["W2"] + tp["b2"])
        loss = torch.mean((out - tY) ** 2)
        loss.backward()
        return {k: v.grad for k, v in tp.items()}

    return run


def bench_case(sizes, n, rounds):
    rng = np.random.default_rng(0)
    params = xsq.init_params(sizes, seed=rng)
    X = rng.uniform(-1.7, 1.7, size=(n, 1))
    Y = X**2 + 0.1
    fns = {
        "manual": lambda: xsq.manual_grad(params, X, Y),
        "autograd": lambda: xsq.autograd_grad(params, X, Y),
    }
    t = torch_grad_fn(params, X, Y)
    if t is not None:
        fns["torch"] = t
        g_t, g_m = t(), xsq.manual_grad(params, X, Y)
        assert all(np.allclose(g_t[k].numpy(), g_m[k], rtol=1e-9, atol=1e-13) for k in g_m), "torch disagrees"
    try:
        from jax_peers import jax_grad_fn
    except ImportError:
        jax_grad_fn = None
    if jax_grad_fn is not None:
        fns["jax jit"] = jax_grad_fn(params, X, Y)
        g_j, g_m = fns["jax jit"](), xsq.manual_grad(params, X, Y)
        assert all(np.allclose(np.asarray(g_j[k]), g_m[k], rtol=1e-9, atol=1e-13) for k in g_m), "jax disagrees"
    calls = 5 if n <= 10_000 else 1
    for fn in fns.values():  # warm up: caches, allocator, lazy imports
        for _ in range(3):
            fn()
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(best_time(fn, calls))
    med = {name: statistics.median(v) for name, v in times.items()}
    return [
        {
            "sizes": "-".join(map(str, sizes)),
            "n": n,
            "name": name,
            "median_seconds": med[name],
            "ratio_to_manual": med[name] / med["manual"],
        }
        for name in fns
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    rows = []
    for sizes, n in CASES:
        rows += bench_case(sizes, n, args.rounds)
    print(f"{'network':<8} {'N':>8} {'gradient':<9} {'median':>11} {'x manual':>9}")
    for r in rows:
        ms = r["median_seconds"] * 1e3
        print(f"{r['sizes']:<8} {r['n']:>8} {r['name']:<9} {ms:>8.3f} ms {r['ratio_to_manual']:>8.2f}x")
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
