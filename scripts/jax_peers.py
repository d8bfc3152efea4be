"""JAX peers for the benchmarks: optimistix Levenberg-Marquardt and a jit-compiled gradient, on xsq's exact problem.

``scripts/bench.py`` and ``scripts/bench_grads.py`` import this module only when JAX is installed
(``pip install -e '.[bench-jax]'``, which provides jax, jaxlib and optimistix), so xsq itself never
depends on JAX. Everything runs in float64 (``jax_enable_x64`` is switched on at import) on the network
xsq fits by default: ``softplus(sigmoid(X W1 + b1) W2 + b2)``, parameters as xsq's dict
``{"W1": (n0, n1), "b1": (n1,), "W2": (n1, n2), "b2": (n2,)}`` of numpy arrays.

* :func:`optimistix_lm` fits the network from given initial parameters on already scaled data and
  reports compile seconds and run seconds separately, the steps actually run, the fitted parameters and
  a numpy ``predict`` closure. ``solver="jaxopt"`` uses jaxopt's LM instead, when jaxopt is installed.
* :func:`jax_grad_fn` returns a warm, jit-compiled gradient of ``mean((net(X) - Y) ** 2)`` for timing.

A step is not the same unit everywhere. An optimistix LM step is one trial point (one residual and
Jacobian evaluation, one QR solve of the damped problem) whether its trust region accepts it or not, and
its first step only evaluates the starting point, so ``steps`` steps make at most ``steps - 1`` parameter
updates. A jaxopt step is one damped solve and one trial evaluation, accepted or not. An xsq step is one
accepted update, however many rejected trials it took.

Timing on a small shared machine: XLA's CPU thread pool spreads each solve over all cores, and on a
2-core virtual machine that made identical 1000-step runs take anywhere from 2.5 s to 17 s; pinned to one
core the same solve took 1.2-1.3 s every time (and with XLA's threading switched off, 2.7 s). So
``scripts/bench.py`` runs ``python scripts/jax_peers.py STEPS ...`` (rows as JSON) in a process of its
own pinned to one core. Run ``python scripts/jax_peers.py`` alone for a self-check.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from benchlib import best_time

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    import optimistix as optx  # after x64 is on, so nothing is built in float32
except ImportError as exc:
    if __name__ != "__main__":
        raise
    print(f"jax_peers.py needs JAX and optimistix: pip install -e '.[bench-jax]' ({exc})", file=sys.stderr)
    sys.exit(2)

Params = dict[str, Any]
SOLVERS = ("lm", "jaxopt")


def net(params: Params, X: jax.Array) -> jax.Array:
    """Forward pass of the 1-hidden-layer network: X (N, n0) -> (N, n2), sigmoid hidden, softplus output."""
    hidden = jax.nn.sigmoid(X @ params["W1"] + params["b1"])
    return jax.nn.softplus(hidden @ params["W2"] + params["b2"])


def _to_jax(params: Params) -> dict[str, jax.Array]:
    """xsq's numpy params dict -> the same dict of float64 device arrays (checks the keys)."""
    if set(params) != {"W1", "b1", "W2", "b2"}:
        raise ValueError(f"params must have keys W1, b1, W2, b2 (one hidden layer), got {sorted(params)}")
    return {k: jnp.asarray(np.asarray(v, dtype=np.float64)) for k, v in params.items()}


def _data(X: np.ndarray, Y: np.ndarray) -> tuple[jax.Array, jax.Array]:
    """X (N, n0) and Y (N, n2) as float64 device arrays, already transferred (so timing excludes the copy)."""
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"X must be (N, n_inputs) and Y (N, n_outputs), got {X.shape} and {Y.shape}")
    return jax.block_until_ready((jax.device_put(X), jax.device_put(Y)))


def _residuals(params: Params, args: tuple[jax.Array, jax.Array]) -> jax.Array:
    """Residuals net(X) - Y, shape (N, n2); optimistix minimises half their sum of squares."""
    X, Y = args
    return net(params, X) - Y


def _optimistix_solve(steps: int, rtol: float, atol: float) -> Callable:
    """A pure solve(params0, X, Y) -> (params, num_steps, num_accepted, result) running optimistix LM."""
    solver = optx.LevenbergMarquardt(rtol=rtol, atol=atol)

    def solve(params0, X, Y):
        sol = optx.least_squares(_residuals, solver, params0, args=(X, Y), max_steps=steps, throw=False)
        return sol.value, sol.stats["num_steps"], sol.state.num_accepted_steps, sol.result

    return solve


def _jaxopt_solve(steps: int, tol: float, like: Params) -> Callable:
    """A pure solve(params0, X, Y) running jaxopt's LM on the flat parameter vector (jaxopt needs 1-D params)."""
    import jaxopt  # optional: ImportError here means jaxopt is not installed
    from jax.flatten_util import ravel_pytree

    _, unravel = ravel_pytree(like)

    def flat_residuals(theta, X, Y):
        return (net(unravel(theta), X) - Y).ravel()

    lm = jaxopt.LevenbergMarquardt(flat_residuals, maxiter=steps, tol=tol, solver="cholesky", materialize_jac=True)

    def solve(params0, X, Y):
        theta, state = lm.run(ravel_pytree(params0)[0], X, Y)
        return unravel(theta), state.iter_num, jnp.asarray(-1), jnp.asarray(0)

    return solve


def optimistix_lm(
    X: np.ndarray,
    Y: np.ndarray,
    params: Params,
    steps: int,
    solver: str = "lm",
    *,
    rtol: float = 1e-15,
    atol: float = 1e-15,
    repeats: int = 1,
) -> dict[str, Any]:
    """Fit net to scaled data X (N, 1), Y (N, 1) from ``params`` by Levenberg-Marquardt for ``steps`` steps.

    ``solver="lm"`` is optimistix's LevenbergMarquardt (QR on the damped Jacobian, trust-region damping);
    ``"jaxopt"`` is jaxopt's LM (Cholesky on the normal equations with damping mu * I, Nielsen's update of
    mu). The tolerances are tiny so that every step runs and the rows compare equal work; ``steps_run``
    says how many did.

    Returns a dict: ``solver`` (a row label); ``compile_s`` (trace + lower + XLA compile, paid once);
    ``run_s`` (the compiled solve, best of ``repeats``; ``run_times`` lists them all); ``steps`` (the
    maximum asked for); ``steps_run`` (trial steps taken, accepted or not); ``accepted_updates``
    (parameter updates the trust region accepted; optimistix only, else None); ``result`` (optimistix's
    termination, e.g. "nonlinear_max_steps_reached"; "" for jaxopt); ``mse`` (mean squared residual on
    X, Y at the fit); ``params`` (fitted, in xsq's dict layout, numpy float64); ``predict`` (Xs (M, 1)
    numpy scaled inputs -> (M, 1) numpy scaled outputs).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; expected one of: {', '.join(SOLVERS)}")
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    p0 = jax.block_until_ready(_to_jax(params))
    Xj, Yj = _data(X, Y)
    if solver == "lm":
        solve = _optimistix_solve(steps, rtol, atol)
    else:
        solve = _jaxopt_solve(steps, max(rtol, atol), p0)

    t = time.perf_counter()
    compiled = jax.jit(solve).lower(p0, Xj, Yj).compile()
    compile_s = time.perf_counter() - t

    run_times = []
    for _ in range(max(1, int(repeats))):
        t = time.perf_counter()
        out = jax.block_until_ready(compiled(p0, Xj, Yj))
        run_times.append(time.perf_counter() - t)
    fitted, steps_run, accepted, result = out

    result_msg = ""
    if solver == "lm":
        named = [
            name
            for name in ("successful", "nonlinear_max_steps_reached", "nonlinear_divergence", "nonfinite")
            if bool(result == getattr(optx.RESULTS, name))
        ]
        result_msg = named[0] if named else optx.RESULTS[result]
    forward = jax.jit(net)
    fitted_np = {k: np.asarray(v) for k, v in fitted.items()}

    def predict(Xs: np.ndarray) -> np.ndarray:
        """Fitted network on scaled inputs Xs (M, 1) -> scaled outputs (M, 1), numpy float64."""
        return np.asarray(forward(fitted, jnp.asarray(np.asarray(Xs, dtype=np.float64))))

    mse = float(jnp.mean(_residuals(fitted, (Xj, Yj)) ** 2))
    return {
        "solver": {"lm": "optimistix LM", "jaxopt": "jaxopt LM"}[solver],
        "compile_s": compile_s,
        "run_s": min(run_times),
        "run_times": run_times,
        "steps": steps,
        "steps_run": int(steps_run),
        "accepted_updates": int(accepted) - 1 if solver == "lm" else None,  # optimistix's first step: y0
        "result": result_msg,
        "mse": mse,
        "params": fitted_np,
        "predict": predict,
    }


class GradFn:
    """A warm jit-compiled gradient: ``g()`` -> {"W1", "b1", "W2", "b2"} device arrays, computation finished.

    ``compile_s`` is the trace + lower + compile time paid in the constructor.
    """

    def __init__(self, params: Params, X: np.ndarray, Y: np.ndarray):
        self._args = (jax.block_until_ready(_to_jax(params)), *_data(X, Y))
        t = time.perf_counter()
        self._compiled = jax.jit(jax.grad(_mse)).lower(*self._args).compile()
        self.compile_s = time.perf_counter() - t
        jax.block_until_ready(self._compiled(*self._args))  # first call: runtime allocations, not compile

    def __call__(self) -> dict[str, jax.Array]:
        return jax.block_until_ready(self._compiled(*self._args))


def _mse(params: Params, X: jax.Array, Y: jax.Array) -> jax.Array:
    """The training objective mean((net(X) - Y) ** 2), a scalar."""
    return jnp.mean((net(params, X) - Y) ** 2)


def jax_grad_fn(params: Params, X: np.ndarray, Y: np.ndarray) -> GradFn:
    """Zero-argument callable: gradient of mean((net(X) - Y) ** 2) w.r.t. params via jax.jit(jax.grad), warm.

    X (N, n0), Y (N, n2) and params are fixed at construction (copied to the device once), so a call times
    only the compiled gradient; the result is a dict of arrays shaped like params (``np.asarray`` converts
    them). The compile time is on the returned object as ``compile_s``.
    """
    return GradFn(params, X, Y)


# ---------------------------------------------------------------- self-check


def _self_check() -> None:
    """Fit the benchmark problem for 100 and 1000 steps, check and time the jit gradient; print the numbers."""
    import xsq
    from xsq.data.metrics import rmse_over_range
    from xsq.data.problem import Problem
    from xsq.training.outputs import scaler_for

    problem = Problem()
    x, _ = problem.draw(1000, 0)
    scaler = scaler_for(x[:, None], problem.values(x)[:, None], "softplus")
    X, Y = scaler.inputs(x[:, None]), scaler.targets(problem.values(x)[:, None])
    params = xsq.init_params((1, 16, 1), seed=0)
    grid = problem.grid()
    print(f"jax {jax.__version__}, optimistix {optx.__version__}, {len(os.sched_getaffinity(0))} core(s) usable")
    print(f"{'solver':<14} {'steps':>5} {'ran':>5} {'compile s':>9} {'best s':>7} {'worst s':>7} {'RMSE/range':>11}")
    for steps in (100, 1000):
        r = optimistix_lm(X, Y, params, steps, repeats=3)
        pred = scaler.outputs(r["predict"](scaler.inputs(grid[:, None])))[:, 0]
        print(
            f"{r['solver']:<14} {steps:>5} {r['steps_run']:>5} {r['compile_s']:>9.2f} {r['run_s']:>7.3f} "
            f"{max(r['run_times']):>7.3f} {rmse_over_range(pred, problem.values(grid)):>11.3e}  {r['result']}"
        )
    print(f"\n{'network':<8} {'N':>7} {'compile s':>9} {'jax grad':>11} {'xsq manual':>11} {'max rel err':>11}")
    for sizes, m in (((1, 16, 1), 1_000), ((1, 64, 1), 100_000)):
        rng = np.random.default_rng(0)  # the data bench_grads.py uses
        p = xsq.init_params(sizes, seed=rng)
        Xg = rng.uniform(-1.7, 1.7, size=(m, 1))
        Yg = Xg**2 + 0.1
        g = jax_grad_fn(p, Xg, Yg)
        ref = xsq.manual_grad(p, Xg, Yg)
        got = {k: np.asarray(v) for k, v in g().items()}
        err = max(np.linalg.norm(got[k] - ref[k]) / np.linalg.norm(ref[k]) for k in ref)
        assert err < 1e-10, f"jit gradient disagrees with xsq's: relative error {err:.2e}"
        t_jax, t_np = best_time(g, 20), best_time(lambda p=p, Xg=Xg, Yg=Yg: xsq.manual_grad(p, Xg, Yg), 20)
        name = "-".join(map(str, sizes))
        print(f"{name:<8} {m:>7} {g.compile_s:>9.3f} {t_jax * 1e3:>8.3f} ms {t_np * 1e3:>8.3f} ms {err:>11.1e}")


def lm_rows(steps: list[int], seed: int = 0) -> list[dict]:
    """Benchmark rows: optimistix LM for each number of steps on xsq's default problem (scaled as xsq scales
    it, from xsq's initial parameters for ``seed``), scored on the problem's grid."""
    import xsq
    from xsq.data.metrics import max_rel_error, rmse_over_range
    from xsq.data.problem import Problem
    from xsq.training.outputs import scaler_for

    problem = Problem()
    x, _ = problem.draw(1000, seed)
    y = problem.values(x)
    scaler = scaler_for(x[:, None], y[:, None], "softplus")
    grid = problem.grid()
    rows = []
    for n in steps:
        r = optimistix_lm(
            scaler.inputs(x[:, None]), scaler.targets(y[:, None]), xsq.init_params((1, 16, 1), seed=seed), n
        )
        pred = scaler.outputs(r["predict"](scaler.inputs(grid[:, None])))[:, 0]
        truth = problem.values(grid)
        rows.append(
            {
                "name": f"optimistix LM ({n} steps)",
                "seconds": r["run_s"],
                "compile_seconds": r["compile_s"],
                "test_rmse_over_range": rmse_over_range(pred, truth),
                "test_max_rel_error": max_rel_error(pred, truth),
            }
        )
    return rows


if __name__ == "__main__":
    # python scripts/jax_peers.py            the self-check
    # python scripts/jax_peers.py 100 1000   benchmark rows as JSON (scripts/bench.py runs this on one core)
    if len(sys.argv) > 1:
        print(json.dumps(lm_rows([int(v) for v in sys.argv[1:]])))
    else:
        _self_check()
