"""Train the same 1-16-1 network on one problem with xsq and its peers; score all alike.

Run: python scripts/bench.py [--rounds 2] [--seeds 20] [--target x**2 --low 1 --high 100] [--json out.json]
Peers come from the bench extras (pip install -e '.[bench,bench-jax]'); torch joins when installed.

Every method sees the same 1,000 inputs drawn uniformly from [low, high]
(seed 0, as ``xsq train`` draws them; xsq's fit continues that generator,
as there), scaled as xsq scales them, and the same network: sigmoid hidden
units and the output ``output="auto"`` picks (softplus for x^2). Each
is scored on the same 2,001-point grid: test RMSE divided by the target
range, and the max relative error.

* Methods run interleaved, ``--rounds`` times each; seconds are medians.
* SciPy's MINPACK LM (given xsq's analytic Jacobian) also runs at the wall
  time of xsq's default and of xsq's 3-stage fit ("equal time").
* optimistix's LM (JAX, jit-compiled, float64; ``jax_peers.py``) runs in a
  process of its own pinned to one core; compiling is reported apart.
* xsq's default is repeated for seeds 0 .. seeds-1 (data and initialisation
  from the seed): seeds 1-5 get a row each, all of them a median and a worst
  row; the 3-stage fit gets a row for each of seeds 0-5 and their worst.
* A Chebyshev least-squares fit (``numpy.polynomial.Chebyshev.fit``, degree
  40) of the same points, scored on the same grid: for a smooth target of one
  input, the physical limit.
* ``--versus COMMIT`` (default a223e2a): xsq's default fit as this tree
  makes it and as COMMIT made it (``git archive`` into a temporary folder),
  each in a fresh process, alternated ``--versus-rounds`` times: the median
  wall and CPU seconds of the fit (xsq's first import timed apart) and their
  ratio. ``--versus-only`` runs just that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from benchlib import emit

import xsq
from xsq.core import jacobian as jac
from xsq.core import net
from xsq.core.params import flatten, unflatten_unchecked
from xsq.data.expr import compile_expression
from xsq.data.metrics import max_rel_error, rmse_over_range
from xsq.data.problem import Problem
from xsq.training.outputs import choose_output, scaler_for

N, HIDDEN = 1000, 16
CHEB_DEGREE = 40
SHOWN_SEEDS = 6  # seeds 1-5 get a row each; more seeds show as a median and a worst row
HERE = Path(__file__).resolve().parent


class Bench:
    """The problem every method fits, its data for a seed, and how a prediction is scored."""

    def __init__(self, problem: Problem):
        self.problem, self.grid = problem, problem.grid()
        x, y = self.data(0)
        self.output = choose_output(
            y, also=self.problem.values(self.grid), where=problem.name, X=x[:, None], projectable=True
        )[0]

    def data(self, seed: int = 0):
        x, _ = self.problem.draw(N, seed)
        return x, self.problem.values(x)

    def scaled(self, x, y):
        """Inputs and targets as xsq scales them, and the scaler (to map predictions back)."""
        scaler = scaler_for(x[:, None], y[:, None], self.output)
        return scaler.inputs(x[:, None]), scaler.targets(y[:, None]), scaler

    def score(self, predict) -> dict:
        p, y = predict(self.grid), self.problem.values(self.grid)
        return {"test_rmse_over_range": rmse_over_range(p, y), "test_max_rel_error": max_rel_error(p, y)}


def xsq_method(bench: Bench, seed: int = 0, **kw):
    def run(x, y):
        _, rng = bench.problem.draw(N, seed)  # fit continues the generator, as xsq train does
        model = xsq.fit(x, y, seed=rng, output=bench.output, **kw)
        return lambda g: model.predict(g)[:, 0]

    return run


def sklearn_method(bench: Bench, solver: str, **kw):
    def run(x, y):
        from sklearn.neural_network import MLPRegressor

        X, Y, scaler = bench.scaled(x, y)
        reg = MLPRegressor(hidden_layer_sizes=(HIDDEN,), activation="logistic", solver=solver, random_state=0, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reg.fit(X, Y[:, 0])
        return lambda g: scaler.outputs(reg.predict(scaler.inputs(g[:, None]))[:, None])[:, 0]

    return run


def scipy_lm(bench: Bench, max_nfev: int):
    def run(x, y):
        from scipy.optimize import least_squares

        X, Y, scaler = bench.scaled(x, y)
        like = xsq.init_params((1, HIDDEN, 1), seed=0)

        def residuals(theta):
            return (net.forward(unflatten_unchecked(theta, like), X, "sigmoid", bench.output) - Y).ravel()

        def jacobian(theta):
            return jac.jacobian(unflatten_unchecked(theta, like), X, "sigmoid", bench.output)

        res = least_squares(
            residuals, flatten(like), jac=jacobian, method="lm", max_nfev=max_nfev, xtol=1e-15, ftol=1e-15, gtol=1e-15
        )
        params = unflatten_unchecked(res.x, like)
        return lambda g: scaler.outputs(net.forward(params, scaler.inputs(g[:, None]), "sigmoid", bench.output))[:, 0]

    return run


def torch_method(bench: Bench, kind: str, epochs: int, lr: float | None):
    def run(x, y):
        import torch

        torch.manual_seed(0)
        X, Y, scaler = bench.scaled(x, y)
        tX, tY = torch.tensor(X), torch.tensor(Y)
        last = torch.nn.Softplus() if bench.output == "softplus" else torch.nn.Identity()
        net = torch.nn.Sequential(
            torch.nn.Linear(1, HIDDEN), torch.nn.Sigmoid(), torch.nn.Linear(HIDDEN, 1), last
        ).double()

        def loss():
            return torch.mean((net(tX) - tY) ** 2)

        if kind == "adam":
            opt = torch.optim.Adam(net.parameters(), lr=lr)
            for _ in range(epochs):
                opt.zero_grad()
                loss().backward()
                opt.step()
        else:
            opt = torch.optim.LBFGS(
                net.parameters(),
                lr=1,
                max_iter=epochs,
                tolerance_grad=1e-15,
                tolerance_change=1e-18,
                history_size=50,
                line_search_fn="strong_wolfe",
            )

            def closure():
                opt.zero_grad()
                value = loss()
                value.backward()
                return value

            opt.step(closure)

        def predict(g):
            with torch.no_grad():
                return scaler.outputs(net(torch.tensor(scaler.inputs(g[:, None]))).numpy())[:, 0]

        return predict

    return run


def chebyshev(degree: int):
    def run(x, y):
        fitted = np.polynomial.Chebyshev.fit(x, y, degree)
        return lambda g: fitted(g)

    return run


# one default fit in a fresh process, from the xsq tree given as argv[1] (this tree or an older commit's)
ONE_FIT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import xsq
try:  # the layers' layout
    from xsq.data.expr import compile_expression
    from xsq.data.metrics import rmse_over_range
    from xsq.data.problem import Problem
except ImportError:  # an older commit's flat layout
    from xsq.expr import compile_expression
    from xsq.metrics import rmse_over_range
    from xsq.problem import Problem
p = Problem(compile_expression(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
x, rng = p.draw(1000, int(sys.argv[5]))
g = p.grid()
loading = time.perf_counter()
fit = xsq.fit  # xsq imports its modules when first asked: timed apart
loading = time.perf_counter() - loading
wall, cpu = time.perf_counter(), time.process_time()
model = fit(x, p.values(x), seed=rng)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
error = rmse_over_range(model.predict(g)[:, 0], p.values(g))
print(json.dumps(dict(seconds=wall, cpu=cpu, rmse=error, epochs=model.record.n_epochs, loading=loading)))
"""


def versus(commit: str, rounds: int, problem: Problem, seed: int = 0) -> list[dict]:
    """xsq's default fit by this tree and by ``commit``, alternated in fresh processes (see the module doc)."""
    here = str(HERE.parent)
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(["git", "-C", here, "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        runs: dict[str, list[dict]] = {commit: [], "this tree": []}
        for _ in range(rounds):
            for label, tree in ((commit, old), ("this tree", here)):
                print(f"  running xsq default ({label}) ...", file=sys.stderr, flush=True)
                argv = [tree, problem.name, str(problem.low), str(problem.high), str(seed)]
                out = subprocess.run([sys.executable, "-c", ONE_FIT, *argv], capture_output=True, text=True, check=True)
                runs[label].append(json.loads(out.stdout.splitlines()[-1]))
    rows = []
    for label, results in runs.items():
        rows.append(
            {
                "name": f"xsq lm (default), {label}, seed {seed}",
                "seconds": statistics.median(r["seconds"] for r in results),
                "cpu_seconds": statistics.median(r["cpu"] for r in results),
                "test_rmse_over_range": results[-1]["rmse"],
                "epochs": results[-1]["epochs"],
                "import_seconds": statistics.median(r["loading"] for r in results),
            }
        )
    rows.append(
        {
            "name": f"ratio this tree / {commit}",
            "seconds": rows[1]["seconds"] / rows[0]["seconds"],
            "cpu_seconds": rows[1]["cpu_seconds"] / rows[0]["cpu_seconds"],
            "test_rmse_over_range": rows[1]["test_rmse_over_range"] / rows[0]["test_rmse_over_range"],
        }
    )
    return rows


def print_versus(rows: list[dict]) -> None:
    print(f"{'default fit, side by side':<58} {'seconds':>8} {'CPU s':>8} {'RMSE/range':>11} {'import s':>9}")
    for r in rows:
        imports = f"{r['import_seconds']:>9.3g}" if "import_seconds" in r else ""
        error = r["test_rmse_over_range"]
        print(f"{r['name']:<58} {r['seconds']:>8.3g} {r['cpu_seconds']:>8.3g} {error:>11.3g} {imports}")


def available(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def timed(bench: Bench, method, x, y) -> tuple[float, dict]:
    t = time.perf_counter()
    predict = method(x, y)
    return time.perf_counter() - t, bench.score(predict)


def jax_rows(bench: Bench, steps: list[int]) -> list[dict]:
    """optimistix LM rows from ``jax_peers.py``, in a process pinned to one core (see its docstring)."""
    if bench.problem.name != "x**2" or not available("optimistix"):
        return []
    out = subprocess.run(
        [sys.executable, str(HERE / "jax_peers.py"), *map(str, steps)],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    return json.loads(out.stdout.splitlines()[-1])


def seed_rows(bench: Bench, label: str, seeds: range, shown: int, **kw) -> list[dict]:
    """One row per shown seed, then (over all seeds) a median row and a worst row."""
    rows = []
    for seed in seeds:
        x, y = bench.data(seed)
        t, s = timed(bench, xsq_method(bench, seed=seed, **kw), x, y)
        rows.append({"name": f"{label}, seed {seed}", "seconds": t, **s, "seed": seed})
    out = [r for r in rows if r["seed"] < shown]
    if len(rows) > 1:
        name = f"{label}, seeds {seeds[0]}-{seeds[-1]}"
        out.append(
            {
                "name": f"{name}: median",
                "seconds": statistics.median(r["seconds"] for r in rows),
                **{k: statistics.median(r[k] for r in rows) for k in ("test_rmse_over_range", "test_max_rel_error")},
            }
        )
        worst = max(rows, key=lambda r: r["test_rmse_over_range"])
        xw, _ = bench.data(worst["seed"])  # how much of the domain its random inputs cover
        out.append(
            dict(
                worst,
                name=f"{name}: worst (seed {worst['seed']})",
                inputs_from=float(xw.min()),
                inputs_to=float(xw.max()),
            )
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0 .. seeds-1 for the xsq default run")
    parser.add_argument("--target", default="x**2")
    parser.add_argument("--low", type=float, default=1.0)
    parser.add_argument("--high", type=float, default=100.0)
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--versus", default="a223e2a", help="the commit to time the default fit against")
    parser.add_argument("--versus-rounds", type=int, default=3)
    parser.add_argument("--versus-only", action="store_true", help="only the side-by-side timing against --versus")
    args = parser.parse_args(argv)
    bench = Bench(Problem(compile_expression(args.target), args.low, args.high))
    x, y = bench.data(0)
    against = versus(args.versus, args.versus_rounds, bench.problem)
    if args.versus_only:
        print_versus(against)
        emit(against, args.json)
        return 0

    methods = {
        "xsq lm (default)": xsq_method(bench),
        "xsq lm, 2 stages": xsq_method(bench, stages=2),
        "xsq lm, 3 stages": xsq_method(bench, stages=3),
    }
    if bench.output == "softplus":
        methods["xsq lm, relative_mse"] = xsq_method(bench, loss="relative_mse")
    methods[f"Chebyshev fit, degree {CHEB_DEGREE} (numpy)"] = chebyshev(CHEB_DEGREE)
    methods["xsq adam (10000 epochs)"] = xsq_method(bench, optimizer="adam", lr=0.01, epochs=10000, grad="manual")
    if available("sklearn"):
        methods["sklearn lbfgs"] = sklearn_method(bench, "lbfgs", max_iter=100000, max_fun=100000, tol=1e-15)
        methods["sklearn adam"] = sklearn_method(
            bench, "adam", max_iter=5000, tol=1e-15, n_iter_no_change=5000, learning_rate_init=0.01
        )
    if available("torch"):
        methods["torch Adam (10000 epochs)"] = torch_method(bench, "adam", 10000, 0.01)
        methods["torch LBFGS"] = torch_method(bench, "lbfgs", 3000, None)
    scipy_evals = (200, 1000, 3000)
    if available("scipy"):
        for nfev in scipy_evals:
            methods[f"scipy least_squares lm ({nfev} evals)"] = scipy_lm(bench, nfev)

    results = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, method in methods.items():
            print(f"  running {name} ...", file=sys.stderr, flush=True)
            results[name].append(timed(bench, method, x, y))
    rows = [{"name": n, "seconds": statistics.median(r[0] for r in runs), **runs[-1][1]} for n, runs in results.items()]
    by_name = {r["name"]: r for r in rows}
    if available("scipy"):  # SciPy's LM given the wall time xsq took
        per_eval = min(by_name[f"scipy least_squares lm ({n} evals)"]["seconds"] / n for n in scipy_evals)
        for label in ("xsq lm (default)", "xsq lm, 3 stages"):
            nfev = max(10, int(by_name[label]["seconds"] / per_eval))
            t, s = timed(bench, scipy_lm(bench, nfev), x, y)
            rows.append({"name": f"scipy least_squares lm, time of {label[4:]} ({nfev} evals)", "seconds": t, **s})
    print("  running optimistix ...", file=sys.stderr, flush=True)
    jax = jax_rows(bench, [100, 1000])
    if jax:
        per_step = jax[1]["seconds"] / 1000
        steps = int(by_name["xsq lm, 3 stages"]["seconds"] / per_step)
        jax += [dict(r, name=f"optimistix LM, time of lm, 3 stages ({steps} steps)") for r in jax_rows(bench, [steps])]
    rows += jax
    rows += seed_rows(bench, "xsq lm (default)", range(args.seeds), SHOWN_SEEDS)
    rows += seed_rows(bench, "xsq lm, 3 stages", range(6), 0, stages=3)

    best = rows[0]["test_rmse_over_range"]
    print(f"{bench.problem.name} on [{args.low:g}, {args.high:g}], output {bench.output}")
    print(f"{'method':<58} {'seconds':>8} {'RMSE/range':>11} {'max rel err':>12} {'RMSE / xsq':>11}")
    for r in rows:
        compile_ = f"  (+{r['compile_seconds']:.2f} s compiling)" if "compile_seconds" in r else ""
        print(
            f"{r['name']:<58} {r['seconds']:>8.2f} {r['test_rmse_over_range']:>11.2e} "
            f"{r['test_max_rel_error']:>12.2e} {r['test_rmse_over_range'] / best:>11.3g}{compile_}"
        )
    for r in rows:
        if "inputs_from" in r:
            print(
                f"({r['name']}: its inputs run from {r['inputs_from']:.3f} to {r['inputs_to']:.3f}; "
                "the grid beyond them is extrapolation)"
            )
    print()
    print_versus(against)
    emit(rows + against, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
