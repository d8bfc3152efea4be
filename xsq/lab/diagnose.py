"""Measure why the question's network returns rubbish: every field of ``xsq diagnose``.

:func:`diagnose` reruns the question's run (:mod:`xsq.lab.question`) and measures
each suspected cause: where the first non-finite value appears, how far the
output formulas reach, whether the hand-written update is the gradient, how
large raw gradients are, which learning rates stay finite, and what each
part of xsq's fix is worth (the default with that part taken away). The
prose that turns these numbers into a report is in :mod:`xsq.lab.diagnose_text`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypedDict

import numpy as np
from autograd import grad

from ..checks.backprop_check import check_at
from ..core.hessian import largest_eigenvalue, largest_stable_lr
from ..core.params import Params
from ..data.metrics import evaluate, rmse_over_range
from ..data.problem import DRAWN, Problem
from ..errors import TrainingStalled
from ..training.scaling import Scaler
from ..training.settings import VAL_FRACTION
from ..training.train import fit_whole
from ..validation import Whole
from . import question as q
from .diagnose_text import Diagnosis, changes, findings
from .formulas import QUESTION_SIGMOID, QUESTION_SOFTPLUS, naive_sigmoid, naive_softplus

LR_GRID = [10.0**k for k in range(-10, 1)]


def compare_update(params: Params, X, Y, lr: float = q.LR, rule=None) -> tuple[bool, float | None, list[str]]:
    """Is the question's update the gradient (up to a loss convention, such as its ½)? Asked of ``xsq check``.

    Checks the rule's gradient terms (not old minus new parameters, which rounding destroys) against xsq's
    gradient with the question's formulas. Returns (match, max relative difference or None when shapes
    differ, descriptions of shape mismatches). ``rule(params, X, Y)`` replaces the question's gradient terms
    (the tests use it to show a wrong rule is caught).
    """

    def terms(p, X, Y):  # xsq's flat biases back to the question's (1, n)
        p = {k: v.reshape(1, -1) if k.startswith("b") else v for k, v in p.items()}
        return rule(p, X, Y) if rule else q.step(p, X, Y, lr)[2]

    flat = {k: np.reshape(v, -1) if k.startswith("b") else v for k, v in params.items()}
    check = check_at(terms, flat, X, Y, activation=QUESTION_SIGMOID, output=QUESTION_SOFTPLUS, loss="mse")
    shapes = [
        f"{k}: rule gives shape {v.shape}, the gradient has {v.expected}; {v.message}"
        for k, v in check.params.items()
        if v.verdict in ("not_summed", "transposed", "shape")
    ]
    diffs = [v.rel_diff for v in check.params.values() if v.rel_diff is not None]
    diff = None if shapes or len(diffs) < len(check.params) else max(diffs)
    return check.overall != "wrong", diff, shapes


def stable_rmse_over_range(params: Params) -> float:
    """RMSE / range on the problem's grid of the question's network with xsq's stable activations."""
    problem = Problem()
    x = problem.grid()[:, None]
    pred = q.predict(params, x, q.STABLE)
    return rmse_over_range(pred[:, 0], problem.values(x[:, 0]))


def largest_finite(fn) -> float:
    """The largest finite value ``fn`` (as written) produces over z in [-1000, 1000]."""
    z = np.linspace(-1000, 1000, 400_001)
    with np.errstate(all="ignore"):
        values = fn(z)
    return float(np.max(values[np.isfinite(values)]))


def gradient_norm(params: Params, X, Y) -> float:
    """Norm of the gradient of mean (pred - y)^2 / 2 over all parameters."""
    g = grad(q.loss)(params, X, Y)
    return float(np.sqrt(sum(np.sum((v / len(X)) ** 2) for v in g.values())))


def predicted_stable_lr(params: Params, X, Y) -> tuple[float, float]:
    """lambda_max of the Hessian of the question's mean loss at ``params``, and 2 / lambda_max (xsq.core.hessian)."""
    keys = list(params)

    def loss(theta):
        return q.loss({k: theta[i : i + 1].reshape(np.shape(params[k])) for i, k in enumerate(keys)}, X, Y) / len(X)

    lam = largest_eigenvalue(loss, np.array([float(np.ravel(params[k])[0]) for k in keys])).value
    return lam, largest_stable_lr(lam)


def max_stable_lr(steps: int, seed: int, scale=None) -> float | None:
    """Largest learning rate on LR_GRID for which the question's SGD stays finite over ``steps`` steps."""
    stable = [lr for lr in LR_GRID if q.run(steps, seed, lr, scale, check=False).first_nonfinite_step is None]
    return max(stable) if stable else None


PARTS = 10  # the measurements diagnose reports progress on


class PartInfo(TypedDict):
    """What :func:`diagnose`'s ``progress`` hears as each measurement starts."""

    epoch: int  # measurements done so far
    total: int  # PARTS
    text: str  # the one starting
    elapsed: float  # seconds since the diagnosis began


def diagnose(steps: int = q.STEPS, seed: int = 0, progress: Callable[[PartInfo], None] | None = None) -> Diagnosis:
    """Every measurement of the report, as a JSON-ready dict (the README lists the fields).

    ``progress(info)``, if given, hears of each of its ``PARTS`` measurements as it starts
    (``epoch``: how many so far, ``total``, ``text``: what, ``elapsed``: seconds).
    """
    began, done = time.perf_counter(), [0]

    def part(text: str) -> None:
        if progress is not None:
            progress({"epoch": done[0], "total": PARTS, "text": text, "elapsed": time.perf_counter() - began})
        done[0] += 1

    steps, seed = Whole(1).check(steps, "steps"), Whole(0).check(seed, "seed")
    problem = Problem()
    out: Diagnosis = {"steps": steps, "seed": seed, "lr": q.LR}
    part("the question's run")
    run = q.run(steps, seed)
    out["first_nonfinite_step"], out["first_nonfinite_op"] = run.first_nonfinite_step, run.first_nonfinite_op
    finite = [v for v in run.losses if np.isfinite(v)]
    out["last_finite_loss"] = finite[-1] if finite else None

    part("its update rule against autograd")
    rng = np.random.default_rng(seed)
    params = q.init(rng)
    x1 = float(rng.integers(q.LOW, q.HIGH + 1))
    match, diff, _ = compare_update(params, np.array([[x1]]), np.array([[x1 * x1]]))
    out["update_matches_autograd_single"], out["update_rel_diff_single"] = match, diff
    xb = rng.integers(q.LOW, q.HIGH + 1, size=(8, 1)).astype(float)
    match, diff, shapes = compare_update(params, xb, xb**2)
    out["update_matches_autograd_batch"], out["update_rel_diff_batch"] = match, diff
    out["update_shape_mismatch_batch"] = shapes

    out["max_target"] = float(q.HIGH) ** 2
    out["output_range_sigmoid"] = largest_finite(naive_sigmoid)
    out["output_range_softplus"] = largest_finite(naive_softplus)

    grid = np.arange(q.LOW, q.HIGH + 1, dtype=float)[:, None]
    scaler = Scaler.fit(grid, grid**2)
    out["grad_norm_raw"] = gradient_norm(params, grid, grid**2)
    out["grad_norm_scaled"] = gradient_norm(params, scaler.inputs(grid), scaler.targets(grid**2))
    part("learning rates on raw data")
    out["max_stable_lr_raw"] = max_stable_lr(steps, seed)
    part("learning rates on scaled data")
    out["max_stable_lr_scaled"] = max_stable_lr(steps, seed, scaler)
    part("the curvature at the start")
    out["lam_max_raw"], out["predicted_stable_lr_raw"] = predicted_stable_lr(params, grid, grid**2)
    out["lam_max_scaled"], out["predicted_stable_lr_scaled"] = predicted_stable_lr(
        params, scaler.inputs(grid), scaler.targets(grid**2)
    )

    def error(**settings) -> tuple[float, float]:  # xsq train's inputs and default fit, with some settings changed
        x, rng = problem.draw(DRAWN, seed)
        try:
            model = fit_whole(x, problem.values(x), seed=rng, **settings)  # an interrupt stops the diagnosis
        except TrainingStalled as exc:  # a fit that did not learn is a measurement too: its error is what it kept
            model = exc.model
        assert model.record is not None  # fit returns models with their record
        return evaluate(model, problem)["test_rmse_over_range"], model.record.seconds

    part("xsq's fit with one hidden unit")
    out["best_rmse_over_range_h1"] = error(hidden=(1,))[0]
    part("xsq's default fit")
    out["fixed_rmse_over_range"], out["fixed_seconds"] = error()
    out["best_rmse_over_range_h16"] = out["fixed_rmse_over_range"]  # the default is the 1-16-1 network, LM, scaled

    # what each part of the fix is worth: the default with that part taken away
    part("the question's run with stable formulas")
    stable = q.run(steps, seed, fns=q.STABLE)
    out["stable_first_nonfinite_step"] = stable.first_nonfinite_step
    out["stable_rmse_over_range"] = (
        stable_rmse_over_range(stable.params) if stable.first_nonfinite_step is None else None
    )
    part("xsq's fit on raw data")
    out["rmse_over_range_without_scaling"] = error(scale=False)[0]
    out["sgd_lr"] = out["max_stable_lr_scaled"] / 10 if out["max_stable_lr_scaled"] else q.LR
    n_train = DRAWN - int(round(DRAWN * VAL_FRACTION))  # the rows fit trains on, after its validation split
    sgd_epochs = max(1, round(steps / n_train))  # about as many one-sample steps as the question's run
    out["sgd_steps"] = sgd_epochs * n_train
    part("per-sample SGD on scaled data")
    out["rmse_over_range_sgd"] = error(
        optimizer="sgd", lr=out["sgd_lr"], batch_size=1, grad="manual", epochs=sgd_epochs, patience=10**9
    )[0]
    out["verdict"] = [text for _, text in findings(out)]
    ranked = changes(out)
    out["what_to_change"] = [text for _, text in ranked]
    out["change_effects"] = [f for f, _ in ranked]  # inf: removes the NaN; None: only for batches
    out["change_notes"] = [
        "only for batches" if f is None else "removes the NaN" if f == float("inf") else f"x{f:.3g}" for f, _ in ranked
    ]
    return out
