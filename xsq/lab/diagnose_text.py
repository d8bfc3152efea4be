"""The prose of ``xsq diagnose``: findings, what to change, and the report, each sentence computed from a measurement.

Every function here reads the dict :func:`xsq.lab.diagnose.diagnose` returns and
nothing else, so the text cannot claim what was not measured.
"""

from __future__ import annotations

from typing import TypedDict


class Diagnosis(TypedDict, total=False):
    """Every measurement of ``xsq diagnose``: :func:`xsq.lab.diagnose.diagnose` fills every key (the README lists
    them), and every function here reads them."""

    steps: int
    seed: int
    lr: float
    first_nonfinite_step: int | None
    first_nonfinite_op: str | None
    last_finite_loss: float | None
    update_matches_autograd_single: bool
    update_rel_diff_single: float | None
    update_matches_autograd_batch: bool
    update_rel_diff_batch: float | None
    update_shape_mismatch_batch: list[str]
    max_target: float
    output_range_sigmoid: float
    output_range_softplus: float
    grad_norm_raw: float
    grad_norm_scaled: float
    max_stable_lr_raw: float | None
    max_stable_lr_scaled: float | None
    lam_max_raw: float
    predicted_stable_lr_raw: float
    lam_max_scaled: float
    predicted_stable_lr_scaled: float
    best_rmse_over_range_h1: float
    fixed_rmse_over_range: float
    fixed_seconds: float
    best_rmse_over_range_h16: float
    stable_first_nonfinite_step: int | None
    stable_rmse_over_range: float | None
    rmse_over_range_without_scaling: float
    sgd_lr: float
    sgd_steps: int
    rmse_over_range_sgd: float
    verdict: list[str]
    what_to_change: list[str]
    change_effects: list[float | None]  # inf: removes the NaN; None: only for batches
    change_notes: list[str]


def findings(m: Diagnosis) -> list[tuple[str, str]]:
    """Short findings, each computed from the measurements in ``m``."""
    out = []
    if m["first_nonfinite_step"] is not None:
        out.append(
            (
                "nonfinite",
                f"The question's run first produces a non-finite value at step "
                f"{m['first_nonfinite_step']} of {m['steps']}, in '{m['first_nonfinite_op']}'.",
            )
        )
    else:
        out.append(("nonfinite", f"The question's run stays finite for all {m['steps']} steps."))
    if m["stable_first_nonfinite_step"] is None and m["first_nonfinite_step"] is not None:
        out.append(
            (
                "stable",
                "With xsq's stable sigmoid and softplus in place of the formulas as written, the same "
                f"run stays finite, but still ends at RMSE/range {m['stable_rmse_over_range']:.3g}.",
            )
        )
    if m["output_range_softplus"] < m["max_target"]:
        out.append(
            (
                "softplus",
                f"log(1 + exp(z)) as written overflows beyond z = 709.8, so the largest output it "
                f"can give is {m['output_range_softplus']:.4g}, below the largest target "
                f"{m['max_target']:.6g}: x^2 is out of reach for x > {m['output_range_softplus'] ** 0.5:.3g}.",
            )
        )
    if m["output_range_sigmoid"] < m["max_target"]:
        out.append(
            (
                "sigmoid",
                f"A sigmoid output (the question's other choice) cannot exceed {m['output_range_sigmoid']:.4g}.",
            )
        )
    if m["update_matches_autograd_single"]:
        out.append(
            (
                "single",
                f"For one sample the hand-written update equals lr times autograd's gradient "
                f"(max relative difference {m['update_rel_diff_single']:.1e}): the backprop is right.",
            )
        )
    else:
        out.append(
            (
                "single",
                "For one sample the hand-written update differs from lr times autograd's gradient "
                f"(max relative difference {m['update_rel_diff_single']}).",
            )
        )
    if not m["update_matches_autograd_batch"]:
        why = "; ".join(m["update_shape_mismatch_batch"]) or f"max relative difference {m['update_rel_diff_batch']}"
        out.append(
            (
                "batch",
                f"For a batch of 8 the update is not the gradient ({why}): the bias updates are not "
                "summed over samples, so the rule only works one sample at a time.",
            )
        )
    ratio = m["grad_norm_raw"] / m["grad_norm_scaled"]
    out.append(
        (
            "scale",
            f"At the initial parameters the gradient norm is {m['grad_norm_raw']:.3g} on raw data and "
            f"{m['grad_norm_scaled']:.3g} on scaled data ({ratio:.3g} times larger raw).",
        )
    )
    raw, scaled = m["max_stable_lr_raw"], m["max_stable_lr_scaled"]
    text = (
        f"The largest learning rate (powers of 10) that stays finite for {m['steps']} steps is "
        f"{raw if raw is not None else 'none'} on raw data and {scaled if scaled is not None else 'none'} on "
        "scaled data"
    )
    text += "; the question's 1e-4 is too large for raw data." if raw is None or raw < m["lr"] else "."
    out.append(("lr", text))
    pr, ps = m["predicted_stable_lr_raw"], m["predicted_stable_lr_scaled"]
    text = (
        f"The Hessian of the question's mean loss at its start has largest eigenvalue {m['lam_max_raw']:.3g} on "
        f"raw data and {m['lam_max_scaled']:.3g} on scaled data: gradient descent from there is stable below "
        f"lr 2/lambda_max = {pr:.3g} and {ps:.3g}"
    )
    if raw and scaled:
        text += f"; measured (powers of 10): {raw:g} and {scaled:g}, {raw / pr:.2g} and {scaled / ps:.2g} times that"
        if raw / pr < 0.01:
            text += (
                ". On raw data the run fails far below the prediction: as the output climbs towards targets of "
                f"{m['max_target']:.0f}, the curvature climbs with it, so the start says little about the rest"
            )
    out.append(("curvature", text + "."))
    h1, h16 = m["best_rmse_over_range_h1"], m["best_rmse_over_range_h16"]
    out.append(
        (
            "capacity",
            f"Trained properly (scaled data, Levenberg-Marquardt), one hidden unit reaches RMSE/range "
            f"{h1:.2e} and sixteen reach {h16:.2e}: {h1 / h16:.2g} times better.",
        )
    )
    out.append(
        (
            "fixed",
            f"xsq train's default reaches RMSE/range {m['fixed_rmse_over_range']:.2e} in {m['fixed_seconds']:.2f} s.",
        )
    )
    return out


def changes(m: Diagnosis) -> list[tuple[float | None, str]]:
    """What to change, each with its measured factor of effect (error without it / with it), largest first.

    A factor of inf means the change removes the NaN; None, that it matters only for batches.
    """
    options: list[tuple[float | None, str]] = []
    if m["first_nonfinite_step"] is not None and m["stable_first_nonfinite_step"] is None:
        options.append(
            (
                float("inf"),
                "compute sigmoid and softplus stably (softplus(z) = max(z, 0) + "
                "log1p(exp(-|z|))): with that change alone the question's own run stays finite "
                f"for all {m['steps']} steps",
            )
        )
    fixed = m["fixed_rmse_over_range"]
    options.append(
        (
            m["rmse_over_range_without_scaling"] / fixed,
            "standardise inputs and divide targets by their scale: without it the default reaches "
            f"{m['rmse_over_range_without_scaling']:.2e} instead of {fixed:.2e}",
        )
    )
    options.append(
        (
            m["best_rmse_over_range_h1"] / fixed,
            f"use 16 hidden units, not 1: one unit cannot do better than {m['best_rmse_over_range_h1']:.2e}",
        )
    )
    options.append(
        (
            m["rmse_over_range_sgd"] / fixed,
            f"train with Levenberg-Marquardt: SGD on one sample per step (lr {m['sgd_lr']:g}, "
            f"{m['sgd_steps']} steps, scaled data) reaches {m['rmse_over_range_sgd']:.2e}",
        )
    )
    options.sort(key=lambda o: -(o[0] or 0.0))  # the batch note below has no factor: it goes last
    if not m["update_matches_autograd_batch"]:
        options.append(
            (
                None,
                "before training on batches, sum the bias gradients over the samples (or take "
                "autograd.grad of one loss function for every parameter)",
            )
        )
    return options


def format_report(m: Diagnosis) -> str:
    """The human report: one finding per paragraph, then what to change in order of effect."""
    lines = [
        f"Diagnosis of the question's network (1-1-1, sigmoid then softplus, SGD lr {m['lr']:g}, "
        f"{m['steps']} steps, seed {m['seed']})",
        "",
    ]
    for text in m["verdict"]:
        lines += [text, ""]
    lines.append("What to change, largest measured effect first (error without the change / with it):")
    for i, (note, text) in enumerate(zip(m["change_notes"], m["what_to_change"]), start=1):
        lines.append(f"{i}. {text} ({note})")
    return "\n".join(lines)
