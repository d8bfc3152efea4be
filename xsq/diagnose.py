"""Rerun the question's 1-1-1 network and measure why it returns rubbish.

The question trains ``softplus(W2 sigmoid(W1 x + b1) + b2)`` on one random
integer x in [1, 100] per step, target x^2, with a hand-written update and
learning rate 1e-4, and gets NaN. :func:`diagnose` rebuilds that setup here
(its naive formulas, its initialisation, its update rule including how the
biases are updated), runs it, and measures each suspected cause; every
finding in :func:`verdict` is computed from those measurements.
"""

from __future__ import annotations

import time

import autograd.numpy as anp
import numpy as onp
from autograd import grad

from .activations import sigmoid, sigmoid_deriv, softplus

LR = 1e-4
STEPS = 10_000
LOW, HIGH = 1, 100
LR_GRID = [10.0**k for k in range(-10, 1)]


# --- the question's configuration, as it computes it ---------------------------


def naive_sigmoid(z):
    """1 / (1 + exp(-z)) exactly as written (overflows for z < -709)."""
    return 1 / (1 + onp.exp(-z))


def naive_softplus(z):
    """log(1 + exp(z)) exactly as written (overflows for z > 709.78)."""
    return onp.log(1 + onp.exp(z))


def naive_sigmoid_grad(z):
    """What autograd's elementwise_grad makes of naive_sigmoid: exp(-z) / (1 + exp(-z))^2."""
    e = onp.exp(-z)
    return (1 / (1 + e) ** 2) * e


def naive_softplus_grad(z):
    """What autograd's elementwise_grad makes of naive_softplus: exp(z) * (1 / (1 + exp(z)))."""
    e = onp.exp(z)
    return e * (1 / (1 + e))


def question_init(rng: onp.random.Generator) -> dict:
    """Weights from a standard normal, biases set to 1, with the question's 2-D bias shapes."""
    return {"W1": rng.standard_normal((1, 1)), "b1": onp.ones((1, 1)),
            "W2": rng.standard_normal((1, 1)), "b2": onp.ones((1, 1))}


NAIVE = {"sigmoid_exp": lambda z: onp.exp(-z), "sigmoid": naive_sigmoid, "sigmoid_grad": naive_sigmoid_grad,
         "softplus_exp": onp.exp, "softplus": naive_softplus, "softplus_grad": naive_softplus_grad}
STABLE = {"sigmoid_exp": lambda z: onp.exp(-onp.abs(z)), "sigmoid": sigmoid.fun, "sigmoid_grad": sigmoid_deriv.fun,
          "softplus_exp": lambda z: onp.exp(-onp.abs(z)), "softplus": softplus.fun, "softplus_grad": sigmoid.fun}

# each op of one training step, in order: (name, function of the values so far)
STEP_OPS = [
    ("Z1 = X W1 + b1", lambda v: v["X"] @ v["W1"] + v["b1"]),
    ("exp(-Z1) in the sigmoid", lambda v: v["fns"]["sigmoid_exp"](v["Z1"])),
    ("A1 = sigmoid(Z1)", lambda v: v["fns"]["sigmoid"](v["Z1"])),
    ("Z2 = A1 W2 + b2", lambda v: v["A1"] @ v["W2"] + v["b2"]),
    ("exp(Z2) in the softplus", lambda v: v["fns"]["softplus_exp"](v["Z2"])),
    ("A2 = softplus(Z2)", lambda v: v["fns"]["softplus"](v["Z2"])),
    ("loss = (A2 - Y)^2 / 2", lambda v: 0.5 * onp.sum((v["A2"] - v["Y"]) ** 2)),
    ("softplus_grad(Z2)", lambda v: v["fns"]["softplus_grad"](v["Z2"])),
    ("dA2 = (A2 - Y) softplus_grad(Z2)", lambda v: (v["A2"] - v["Y"]) * v["softplus_grad(Z2)"]),
    ("sigmoid_grad(Z1)", lambda v: v["fns"]["sigmoid_grad"](v["Z1"])),
    ("dA1 = dA2 W2^T sigmoid_grad(Z1)", lambda v: (v["dA2"] @ v["W2"].T) * v["sigmoid_grad(Z1)"]),
    ("W1 update", lambda v: v["W1"] - v["lr"] * (v["X"].T @ v["dA1"])),
    ("b1 update", lambda v: v["b1"] - v["lr"] * v["dA1"]),
    ("W2 update", lambda v: v["W2"] - v["lr"] * (v["A1"].T @ v["dA2"])),
    ("b2 update", lambda v: v["b2"] - v["lr"] * v["dA2"]),
]
_SHORT = {"Z1 = X W1 + b1": "Z1", "A1 = sigmoid(Z1)": "A1", "Z2 = A1 W2 + b2": "Z2", "A2 = softplus(Z2)": "A2",
          "loss = (A2 - Y)^2 / 2": "loss", "dA2 = (A2 - Y) softplus_grad(Z2)": "dA2",
          "dA1 = dA2 W2^T sigmoid_grad(Z1)": "dA1"}


def question_step(params: dict, X, Y, lr: float, check: bool = False, fns=NAIVE):
    """One step of the question's rule: returns (new params, loss, first non-finite op or None).

    ``fns`` are the activation formulas: the question's (NAIVE) or xsq's stable ones (STABLE).
    """
    v = dict(params, X=X, Y=Y, lr=lr, fns=fns)
    bad = None
    for name, op in STEP_OPS:
        value = op(v)
        v[_SHORT.get(name, name)] = value
        if check and bad is None and not onp.all(onp.isfinite(value)):
            bad = name
    new = {"W1": v["W1 update"], "b1": v["b1 update"], "W2": v["W2 update"], "b2": v["b2 update"]}
    return new, float(v["loss"]), bad


def run_question(steps: int, seed: int, lr: float = LR, scale=None, check: bool = True, fns=NAIVE) -> dict:
    """The question's SGD: one random integer x in [1, 100] per step. ``scale`` = (x_mean, x_std, y_scale)."""
    rng = onp.random.default_rng(seed)
    params = question_init(rng)
    xs = rng.integers(LOW, HIGH + 1, size=steps).astype(float)
    losses_ = []
    with onp.errstate(all="ignore"):
        for step, x in enumerate(xs):
            X, Y = onp.array([[x]]), onp.array([[x * x]])
            if scale is not None:
                X, Y = (X - scale[0]) / scale[1], Y / scale[2]
            params, loss, bad = question_step(params, X, Y, lr, check, fns)
            losses_.append(loss)
            if bad is not None or not onp.isfinite(loss):
                return {"first_nonfinite_step": step, "first_nonfinite_op": bad or "loss", "losses": losses_,
                        "params": params}
    return {"first_nonfinite_step": None, "first_nonfinite_op": None, "losses": losses_, "params": params}


def _question_terms(params, X, Y) -> dict:
    v = dict(params, X=X, Y=Y, lr=0.0, fns=NAIVE)
    for name, op in STEP_OPS[:11]:
        v[_SHORT.get(name, name)] = op(v)
    return {"W1": v["X"].T @ v["dA1"], "b1": v["dA1"], "W2": v["A1"].T @ v["dA2"], "b2": v["dA2"]}


def question_loss(params: dict, X, Y):
    """The question's loss, sum((prediction - target)^2) / 2, with its formulas as written (differentiable)."""
    a1 = 1 / (1 + anp.exp(-(X @ params["W1"] + params["b1"])))
    return 0.5 * anp.sum((anp.log(1 + anp.exp(a1 @ params["W2"] + params["b2"])) - Y) ** 2)


def compare_update(params: dict, X, Y, lr: float = LR, terms=None) -> tuple[bool, float | None, list[str]]:
    """Does the question's increment equal lr * autograd's gradient of its loss?

    Compares the increments themselves (not old minus new parameters, which
    rounding destroys). Returns (match, max relative difference or None when
    shapes differ, descriptions of shape mismatches). ``terms`` replaces the
    question's rule (the tests use it to show a wrong rule is caught).
    """
    auto = grad(question_loss)(params, X, Y)
    rule = (terms or _question_terms)(params, X, Y)
    shapes = [f"{k}: rule gives shape {onp.shape(rule[k])}, the gradient has {onp.shape(auto[k])}"
              for k in params if onp.shape(rule[k]) != onp.shape(auto[k])]
    if shapes:
        return False, None, shapes
    diff = max(float(onp.max(onp.abs(lr * rule[k] - lr * auto[k]))) / max(float(onp.max(onp.abs(lr * auto[k]))),
                                                                          1e-300) for k in params)
    return diff <= 1e-12, diff, []


def question_rmse_over_range(params: dict) -> float:
    """RMSE / range on a 2001-point grid of [1, 100] of the question's network with stable activations."""
    x = onp.linspace(LOW, HIGH, 2001)[:, None]
    pred = STABLE["softplus"](STABLE["sigmoid"](x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"])
    y = x**2
    return float(onp.sqrt(onp.mean((pred - y) ** 2)) / (y.max() - y.min()))


def largest_finite(fn) -> float:
    """The largest finite value ``fn`` (as written) produces over z in [-1000, 1000]."""
    z = onp.linspace(-1000, 1000, 400_001)
    with onp.errstate(all="ignore"):
        values = fn(z)
    return float(onp.max(values[onp.isfinite(values)]))


def gradient_norm(params: dict, X, Y) -> float:
    """Norm of the gradient of mean (pred - y)^2 / 2 over all parameters."""
    g = grad(question_loss)(params, X, Y)
    g = {k: v / len(X) for k, v in g.items()}
    return float(onp.sqrt(sum(onp.sum(v**2) for v in g.values())))


def max_stable_lr(steps: int, seed: int, scale=None) -> float | None:
    """Largest learning rate on LR_GRID for which the question's SGD stays finite over ``steps`` steps."""
    stable = [lr for lr in LR_GRID if run_question(steps, seed, lr, scale, check=False)["first_nonfinite_step"] is None]
    return max(stable) if stable else None


def diagnose(steps: int = STEPS, seed: int = 0) -> dict:
    """Every measurement of the report, as a JSON-ready dict (see the README for the fields)."""
    from .report import evaluate, target, training_inputs
    from .train import fit, scaling

    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    out = {"steps": int(steps), "seed": int(seed), "lr": LR}
    run = run_question(steps, seed)
    out["first_nonfinite_step"] = run["first_nonfinite_step"]
    out["first_nonfinite_op"] = run["first_nonfinite_op"]
    finite = [loss for loss in run["losses"] if onp.isfinite(loss)]
    out["last_finite_loss"] = finite[-1] if finite else None

    rng = onp.random.default_rng(seed)
    params = question_init(rng)
    x1 = float(rng.integers(LOW, HIGH + 1))
    match, diff, _ = compare_update(params, onp.array([[x1]]), onp.array([[x1 * x1]]))
    out["update_matches_autograd_single"], out["update_rel_diff_single"] = match, diff
    xb = rng.integers(LOW, HIGH + 1, size=(8, 1)).astype(float)
    match, diff, shapes = compare_update(params, xb, xb**2)
    out["update_matches_autograd_batch"], out["update_rel_diff_batch"] = match, diff
    out["update_shape_mismatch_batch"] = shapes

    out["max_target"] = float(HIGH) ** 2
    out["output_range_sigmoid"] = largest_finite(naive_sigmoid)
    out["output_range_softplus"] = largest_finite(naive_softplus)

    grid = onp.arange(LOW, HIGH + 1, dtype=float)[:, None]
    x_mean, x_std, y_scale = scaling(grid, grid**2)
    scale = (x_mean, x_std, y_scale)
    out["grad_norm_raw"] = gradient_norm(params, grid, grid**2)
    out["grad_norm_scaled"] = gradient_norm(params, (grid - x_mean) / x_std, grid**2 / y_scale)
    out["max_stable_lr_raw"] = max_stable_lr(steps, seed)
    out["max_stable_lr_scaled"] = max_stable_lr(steps, seed, scale)

    def data():  # xsq train's inputs, and the generator its fit continues with
        return training_inputs(LOW, HIGH, 1000, seed)

    x, rng = data()
    out["best_rmse_over_range_h1"] = evaluate(fit(x, target(x), hidden=(1,), seed=rng), LOW, HIGH)[
        "test_rmse_over_range"]
    x, rng = data()
    start = time.perf_counter()
    fixed = fit(x, target(x), seed=rng)
    out["fixed_seconds"] = time.perf_counter() - start
    out["fixed_rmse_over_range"] = evaluate(fixed, LOW, HIGH)["test_rmse_over_range"]
    out["best_rmse_over_range_h16"] = out["fixed_rmse_over_range"]  # the default is the 1-16-1 network, LM, scaled

    # what each part of the fix is worth: the default with that part taken away
    stable = run_question(steps, seed, fns=STABLE)
    out["stable_first_nonfinite_step"] = stable["first_nonfinite_step"]
    out["stable_rmse_over_range"] = question_rmse_over_range(stable["params"]) if stable[
        "first_nonfinite_step"] is None else None
    x, rng = data()
    out["rmse_over_range_without_scaling"] = evaluate(fit(x, target(x), seed=rng, scale=False), LOW, HIGH)[
        "test_rmse_over_range"]
    sgd_lr = out["max_stable_lr_scaled"] / 10 if out["max_stable_lr_scaled"] else LR
    n_train = len(x) - int(round(len(x) * 0.15))  # fit's default validation split
    sgd_epochs = max(1, round(steps / n_train))  # about as many one-sample steps as the question's run
    x, rng = data()
    sgd = fit(x, target(x), seed=rng, optimizer="sgd", lr=sgd_lr, batch_size=1, grad="manual",
              epochs=sgd_epochs, patience=10**9)
    out["sgd_lr"] = sgd_lr
    out["sgd_steps"] = sgd_epochs * n_train
    out["rmse_over_range_sgd"] = evaluate(sgd, LOW, HIGH)["test_rmse_over_range"]
    out["verdict"] = [text for _, text in findings(out)]
    ranked = changes(out)
    out["what_to_change"] = [text for _, text in ranked]
    # JSON has no inf: a change that removes the NaN has no finite factor, and says so in its note
    out["change_effects"] = [factor if factor is not None and onp.isfinite(factor) else None for factor, _ in ranked]
    out["change_notes"] = ["only for batches" if factor is None else "removes the NaN" if factor == float("inf")
                           else f"x{factor:.3g}" for factor, _ in ranked]
    return out


def findings(m: dict) -> list[tuple[str, str]]:
    """Short findings, each computed from the measurements in ``m``."""
    out = []
    if m["first_nonfinite_step"] is not None:
        out.append(("nonfinite", f"The question's run first produces a non-finite value at step "
                    f"{m['first_nonfinite_step']} of {m['steps']}, in '{m['first_nonfinite_op']}'."))
    else:
        out.append(("nonfinite", f"The question's run stays finite for all {m['steps']} steps."))
    if m["stable_first_nonfinite_step"] is None and m["first_nonfinite_step"] is not None:
        out.append(("stable", "With xsq's stable sigmoid and softplus in place of the formulas as written, the same "
                    f"run stays finite, but still ends at RMSE/range {m['stable_rmse_over_range']:.3g}."))
    if m["output_range_softplus"] < m["max_target"]:
        out.append(("softplus", f"log(1 + exp(z)) as written overflows beyond z = 709.8, so the largest output it "
                    f"can give is {m['output_range_softplus']:.4g}, below the largest target "
                    f"{m['max_target']:.6g}: x^2 is out of reach for x > {m['output_range_softplus'] ** 0.5:.3g}."))
    if m["output_range_sigmoid"] < m["max_target"]:
        out.append(("sigmoid", f"A sigmoid output (the question's other choice) cannot exceed "
                    f"{m['output_range_sigmoid']:.4g}."))
    if m["update_matches_autograd_single"]:
        out.append(("single", f"For one sample the hand-written update equals lr times autograd's gradient "
                    f"(max relative difference {m['update_rel_diff_single']:.1e}): the backprop is right."))
    else:
        out.append(("single", "For one sample the hand-written update differs from lr times autograd's gradient "
                    f"(max relative difference {m['update_rel_diff_single']})."))
    if not m["update_matches_autograd_batch"]:
        why = "; ".join(m["update_shape_mismatch_batch"]) or f"max relative difference {m['update_rel_diff_batch']}"
        out.append(("batch", f"For a batch of 8 the update is not the gradient ({why}): the bias updates are not "
                    "summed over samples, so the rule only works one sample at a time."))
    ratio = m["grad_norm_raw"] / m["grad_norm_scaled"]
    out.append(("scale", f"At the initial parameters the gradient norm is {m['grad_norm_raw']:.3g} on raw data and "
                f"{m['grad_norm_scaled']:.3g} on scaled data ({ratio:.3g} times larger raw)."))
    raw, scaled = m["max_stable_lr_raw"], m["max_stable_lr_scaled"]
    text = (f"The largest learning rate (powers of 10) that stays finite for {m['steps']} steps is "
            f"{raw if raw is not None else 'none'} on raw data and {scaled if scaled is not None else 'none'} on "
            "scaled data")
    text += "; the question's 1e-4 is too large for raw data." if raw is None or raw < m["lr"] else "."
    out.append(("lr", text))
    h1, h16 = m["best_rmse_over_range_h1"], m["best_rmse_over_range_h16"]
    out.append(("capacity", f"Trained properly (scaled data, Levenberg-Marquardt), one hidden unit reaches RMSE/range "
                f"{h1:.2e} and sixteen reach {h16:.2e}: {h1 / h16:.2g} times better."))
    out.append(("fixed", f"xsq train's default reaches RMSE/range {m['fixed_rmse_over_range']:.2e} in "
                f"{m['fixed_seconds']:.2f} s."))
    return out


def changes(m: dict) -> list[tuple[float | None, str]]:
    """What to change, each with its measured factor of effect (error without it / with it), largest first.

    A factor of inf means the change removes the NaN; None, that it matters only for batches.
    """
    options = []
    if m["first_nonfinite_step"] is not None and m["stable_first_nonfinite_step"] is None:
        options.append((float("inf"), "compute sigmoid and softplus stably (softplus(z) = max(z, 0) + "
                        "log1p(exp(-|z|))): with that change alone the question's own run stays finite "
                        f"for all {m['steps']} steps"))
    fixed = m["fixed_rmse_over_range"]
    options.append((m["rmse_over_range_without_scaling"] / fixed,
                    "standardise inputs and divide targets by their scale: without it the default reaches "
                    f"{m['rmse_over_range_without_scaling']:.2e} instead of {fixed:.2e}"))
    options.append((m["best_rmse_over_range_h1"] / fixed,
                    f"use 16 hidden units, not 1: one unit cannot do better than {m['best_rmse_over_range_h1']:.2e}"))
    options.append((m["rmse_over_range_sgd"] / fixed,
                    f"train with Levenberg-Marquardt: SGD on one sample per step (lr {m['sgd_lr']:g}, "
                    f"{m['sgd_steps']} steps, scaled data) reaches {m['rmse_over_range_sgd']:.2e}"))
    options.sort(key=lambda o: -o[0])  # the batch note below has no factor: it goes last
    if not m["update_matches_autograd_batch"]:
        options.append((None, "before training on batches, sum the bias gradients over the samples (or take "
                        "autograd.grad of one loss function for every parameter)"))
    return options


def format_report(m: dict) -> str:
    """The human report: one finding per paragraph, then what to change in order of effect."""
    lines = [f"Diagnosis of the question's network (1-1-1, sigmoid then softplus, SGD lr {m['lr']:g}, "
             f"{m['steps']} steps, seed {m['seed']})", ""]
    for text in m["verdict"]:
        lines += [text, ""]
    lines.append("What to change, largest measured effect first (error without the change / with it):")
    for i, (note, text) in enumerate(zip(m["change_notes"], m["what_to_change"]), start=1):
        lines.append(f"{i}. {text} ({note})")
    return "\n".join(lines)
