"""The question's network as plain step code: its first non-finite operation, and its update rule."""

import numpy as np
import pytest
from autograd import elementwise_grad

from xsq.lab import formulas
from xsq.lab import question as q
from xsq.lab.diagnose import compare_update


def test_the_first_non_finite_operation_is_named_even_when_later_ones_overflow_too(monkeypatch):
    # W1 = -1000 makes exp(-Z1) overflow first; b2 = 1000 then makes exp(Z2), A2 and the loss overflow as well
    crafted = {"W1": np.array([[-1000.0]]), "b1": np.ones((1, 1)), "W2": np.ones((1, 1)), "b2": np.array([[1000.0]])}
    monkeypatch.setattr(q, "init", lambda rng: crafted)
    seen = []

    def watch(name, value):
        if not np.all(np.isfinite(value)):
            seen.append(name)
        return value

    with np.errstate(all="ignore"):
        q.step(crafted, np.array([[5.0]]), np.array([[25.0]]), watch=watch)
    assert seen[0] == "exp(-Z1) in the sigmoid" and len(seen) > 3
    run = q.run(10, 0)
    assert (run.first_nonfinite_step, run.first_nonfinite_op) == (0, "exp(-Z1) in the sigmoid")


def test_the_full_run_goes_non_finite_in_the_softplus():
    run = q.run(q.STEPS, 0)
    assert run.first_nonfinite_step == 2299 and run.first_nonfinite_op == "exp(Z2) in the softplus"
    assert all(np.isfinite(run.losses[:-1]))


def test_the_fixed_configuration_stays_finite():
    from xsq.training.scaling import Scaler

    grid = np.arange(1, 101, dtype=float)[:, None]
    run = q.run(3000, 0, lr=0.1, scale=Scaler.fit(grid, grid**2), fns=q.STABLE)
    assert run.first_nonfinite_step is None and np.all(np.isfinite(run.losses))


def test_the_rule_is_the_gradient_for_one_sample_and_a_wrong_rule_is_caught():
    params = q.init(np.random.default_rng(0))
    X, Y = np.array([[7.0]]), np.array([[49.0]])
    assert compare_update(params, X, Y)[0]

    def no_sigmoid_slope(p, X, Y):
        terms = q.step(p, X, Y)[2]
        slope = formulas.naive_sigmoid_grad(X @ p["W1"] + p["b1"])
        return dict(terms, W1=terms["W1"] / slope, b1=terms["b1"] / slope)

    match, diff, shapes = compare_update(params, X, Y, rule=no_sigmoid_slope)
    assert not match and diff > 1e-6 and not shapes
    match, diff, shapes = compare_update(params, np.full((8, 1), 3.0), np.full((8, 1), 9.0))
    assert not match and diff is None and any("b1: rule gives shape (8, 1)" in s for s in shapes)


@pytest.mark.parametrize(
    "fn,naive_grad",
    [(formulas.naive_sigmoid, formulas.naive_sigmoid_grad), (formulas.naive_softplus, formulas.naive_softplus_grad)],
)
def test_naive_slopes_are_what_autograd_makes_of_the_naive_formulas(fn, naive_grad):
    z = np.linspace(-700, 700, 2001)
    with np.errstate(all="ignore"):
        assert np.allclose(naive_grad(z), elementwise_grad(fn)(z), rtol=1e-12, atol=0)
