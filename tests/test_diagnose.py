"""The diagnosis of the question's network: fields, consistency, and that its checks can fail."""

import json
import subprocess
import sys

import numpy as np
import pytest
from autograd import elementwise_grad

from xsq import diagnose as d

FIELDS = {
    "first_nonfinite_step": (int, type(None)), "first_nonfinite_op": (str, type(None)),
    "update_matches_autograd_single": bool, "update_rel_diff_single": float,
    "update_matches_autograd_batch": bool, "update_rel_diff_batch": (float, type(None)),
    "max_target": float, "output_range_sigmoid": float, "output_range_softplus": float,
    "grad_norm_raw": float, "grad_norm_scaled": float,
    "max_stable_lr_raw": (float, type(None)), "max_stable_lr_scaled": (float, type(None)),
    "best_rmse_over_range_h1": float, "best_rmse_over_range_h16": float,
    "fixed_rmse_over_range": float, "fixed_seconds": float, "verdict": list,
}


@pytest.fixture(scope="module")
def short():
    out = subprocess.run([sys.executable, "-m", "xsq", "diagnose", "--steps", "300", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_every_field_with_its_type(short):
    for key, kind in FIELDS.items():
        assert isinstance(short[key], kind), (key, short[key])
    assert all(isinstance(v, str) and v for v in short["verdict"])
    assert len(short["what_to_change"]) == len(short["change_effects"]) == len(short["change_notes"])


def test_fields_agree_with_each_other(short):
    step = short["first_nonfinite_step"]
    assert step is None or 0 <= step < short["steps"]
    assert (step is None) == (short["first_nonfinite_op"] is None)
    assert short["max_target"] == 100.0**2
    assert short["output_range_sigmoid"] <= 1.0
    assert 709 < short["output_range_softplus"] < 710  # log(1 + exp(z)) overflows past z = 709.78
    assert short["grad_norm_raw"] > short["grad_norm_scaled"] > 0
    assert short["best_rmse_over_range_h16"] < short["best_rmse_over_range_h1"]
    if short["max_stable_lr_raw"] is not None and short["max_stable_lr_scaled"] is not None:
        assert short["max_stable_lr_raw"] <= short["max_stable_lr_scaled"]
    assert short["update_matches_autograd_single"] == (short["update_rel_diff_single"] <= 1e-12)
    finite = [e for e in short["change_effects"] if e is not None]
    assert finite == sorted(finite, reverse=True)


def test_the_full_run_goes_non_finite_and_says_where():
    run = d.run_question(d.STEPS, 0)
    assert run["first_nonfinite_step"] is not None and run["first_nonfinite_op"]
    # the named op really is the first non-finite value of that step
    assert not np.isfinite(run["losses"][-1]) or run["first_nonfinite_op"] != "loss = (A2 - Y)^2 / 2"


def test_the_fixed_configuration_stays_finite():
    grid = np.arange(1, 101, dtype=float)[:, None]
    from xsq.train import scaling

    scale = scaling(grid, grid**2)
    run = d.run_question(d.STEPS, 0, lr=0.1, scale=scale, fns=d.STABLE)
    assert run["first_nonfinite_step"] is None
    assert np.all(np.isfinite(run["losses"]))


def test_a_wrong_update_rule_is_detected():
    rng = np.random.default_rng(0)
    params = d.question_init(rng)
    X, Y = np.array([[7.0]]), np.array([[49.0]])
    assert d.compare_update(params, X, Y)[0]

    def no_sigmoid_slope(p, X, Y):
        terms = d._question_terms(p, X, Y)
        z1 = X @ p["W1"] + p["b1"]
        slope = d.naive_sigmoid_grad(z1)
        return dict(terms, W1=terms["W1"] / slope, b1=terms["b1"] / slope)

    match, diff, shapes = d.compare_update(params, X, Y, terms=no_sigmoid_slope)
    assert not match and diff > 1e-6 and not shapes


def test_naive_derivatives_are_what_autograd_makes_of_the_naive_formulas():
    z = np.linspace(-700, 700, 2001)
    with np.errstate(all="ignore"):
        assert np.allclose(d.naive_sigmoid_grad(z), elementwise_grad(d.naive_sigmoid)(z), rtol=1e-12, atol=0)
        z = np.linspace(-700, 700, 2001)
        assert np.allclose(d.naive_softplus_grad(z), elementwise_grad(d.naive_softplus)(z), rtol=1e-12, atol=0)


@pytest.mark.parametrize("args,message", [
    (["--steps", "0"], "must be a whole number >= 1"),
    (["--steps", "-5"], "must be a whole number >= 1"),
    (["--seed", "1.5"], "seed must be a whole number"),
    (["--colour"], "unrecognized arguments: --colour"),
])
def test_bad_input(args, message):
    out = subprocess.run([sys.executable, "-m", "xsq", "diagnose", *args], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and message in out.stderr
