"""What makes any smooth target precise, each held against an independent reference: the fast passes
against the plain ones, the damped LM step against a least-squares solve."""

import numpy as np
import pytest

import xsq
from xsq.core import fastpath, net
from xsq.core import jacobian as jac
from xsq.core.params import flatten
from xsq.data.expr import compile_expression
from xsq.data.metrics import rmse_over_range
from xsq.data.problem import Problem
from xsq.training import lm_policy, settings
from xsq.training.lm import LeastSquares, lm_init, lm_step
from xsq.training.outputs import choose_output, log_slope_at_smallest


def network(n_in, hidden, seed, spread=1.0):
    rng = np.random.default_rng(seed)
    params = xsq.init_params((n_in, hidden, 1), seed=rng)
    params = {k: v + rng.normal(0.0, spread, v.shape) for k, v in params.items()}
    params["W1"][0, 0] = 60.0  # a saturated unit: its slope is ~1e-50 in places, not 0 and not noise
    X = rng.uniform(-2.0, 2.0, (50, n_in))
    return params, X


@pytest.mark.parametrize("activation", fastpath.HIDDEN)
@pytest.mark.parametrize("output", fastpath.OUTPUTS)
@pytest.mark.parametrize("n_in", [1, 3])
def test_fast_passes_equal_the_plain_ones(activation, output, n_in):
    params, X = network(n_in, 7, seed=n_in)
    fast = fastpath.OneHidden(X, 7, activation, output)
    theta = flatten(params)
    p = fast.forward(theta)
    plain = net.forward(params, X, activation, output)
    np.testing.assert_allclose(p.o[:, None], plain, rtol=1e-14, atol=1e-15)
    J, J_plain = fast.jacobian(theta, p), jac.jacobian(params, X, activation, output)
    assert J.shape == J_plain.shape
    np.testing.assert_allclose(J, J_plain, rtol=1e-12, atol=0)  # relative, element by element
    np.testing.assert_allclose(fastpath.predictor(X, activation, output)(params), plain, rtol=1e-14, atol=1e-15)


def test_predict_has_no_fast_path_for_two_hidden_layers():
    params = xsq.init_params((1, 4, 4, 1), seed=0)
    assert fastpath.predictor(np.zeros((3, 1)), "sigmoid", "identity")(params) is None


def test_lm_step_is_the_damped_least_squares_solution():
    """The step LM takes (geodesic off) minimises |J d + r|^2 + lam |sqrt(D) d|^2: numpy's lstsq of the
    stacked system [J; sqrt(lam D)] d = [-r; 0] is the reference."""
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(30, 5)), rng.normal(size=30)
    problem = LeastSquares(lambda t: (A @ t - b + 0.1 * t**2 @ np.ones(5), None), lambda t, aux: A + 0.2 * t)
    state = lm_init(problem, np.zeros(5), damping=0.5)
    new = lm_step(problem, state, geodesic=False)
    J = problem.jacobian(state.theta, None)
    lam, D = 0.5, np.diagonal(J.T @ J)
    d, *_ = np.linalg.lstsq(np.vstack([J, np.diag(np.sqrt(lam * D))]), np.concatenate([-state.r, np.zeros(5)]))
    np.testing.assert_allclose(new.theta - state.theta, d, rtol=1e-10)


# --- the output unit of targets that fall towards 0 ------------------------------------------------------
# Measured (scripts/precision_suite.py): with softplus, log(x + 1) + log(x^2 + 1) on [0, 2] stalls at
# RMSE/range 1e-5 to 1e-6, the error all at the zero edge, where softplus must produce log(target); the warm-up
# is not the cause (without it: 1e-4 to 7e-6). With identity it reaches 2e-10.


def draw(expression, low, high, seed=0, n=1000):
    problem = Problem(compile_expression(expression), low, high)
    x, _ = problem.draw(n, seed)
    return x, problem.values(x)


@pytest.mark.parametrize(
    "expression,low,high",
    [("log(x+1) + log(x**2+1)", 0, 2), ("x*exp(-x)", 0, 3), ("x**2", 0, 100), ("x**2", 0.001, 2)],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_targets_falling_to_zero_get_identity(expression, low, high, seed):
    x, y = draw(expression, low, high, seed)
    output, reason = choose_output(y, X=x)
    assert output == "identity" and "fall towards 0" in reason


@pytest.mark.parametrize("expression,low,high", [("x**2", 1, 100), ("exp(-x)", 0, 20), ("x**2", 10.5, 110)])
@pytest.mark.parametrize("seed", [0, 1])
def test_targets_clear_of_zero_spanning_orders_of_magnitude_keep_softplus(expression, low, high, seed):
    x, y = draw(expression, low, high, seed)
    assert choose_output(y, X=x) == ("softplus", "every target is > 0")


@pytest.mark.parametrize("expression,low,high", [("1/(1+25*x**2)", -1, 1), ("exp(-x**2)", -2, 2), ("2+sin(x)", 0, 6)])
def test_positive_targets_within_a_factor_of_100_get_identity(expression, low, high):
    x, y = draw(expression, low, high, 0)
    output, reason = choose_output(y, X=x, projectable=True)
    assert output == "identity" and "within a factor of" in reason and "(less than 100)" in reason
    assert choose_output(y, X=np.column_stack([x, x]), projectable=True)[0] == "softplus"  # one input only
    assert choose_output(y, X=x)[0] == "softplus"  # where no variable projection would run: softplus stays


def test_a_bayesian_fit_gets_identity_for_positive_targets():
    """Measured data fit better through identity (see choose_output); noise-free fits keep the rule above."""
    x, y = draw("x**2", 1, 100, 0)
    output, reason = choose_output(y, X=x, regularization="bayes")
    assert output == "identity" and reason.startswith("every target is > 0, but regularization is bayes")
    assert choose_output(y, X=x, regularization="l2") == ("softplus", "every target is > 0")
    assert choose_output(-y, X=x, regularization="bayes")[1].startswith("some targets are <= 0")  # the first reason


def test_log_slope_is_the_derivative_of_log_target():
    x = np.linspace(1.0, 3.0, 2001)[:, None]
    at, slope = log_slope_at_smallest(x, x**2)
    assert at == 1.0 and slope == pytest.approx(2.0 / 1.0 * 2.0, rel=1e-3)  # d log(x^2)/dx = 2/x, span 2


def test_fit_chooses_identity_for_a_target_falling_to_zero():
    x, y = draw("log(x+1) + log(x**2+1)", 0, 2)
    model = xsq.fit(x, y, epochs=3, restarts=0)
    assert model.output == "identity" and "fall towards 0" in model.record.settings["output_reason"]


# --- screening: the best two candidates get a second round before one is kept ----------------------------
# Measured (scripts/precision_suite.py, default settings): ranked after 40 steps, sin(3x) cos(x) on [0, 3] with
# seed 1 kept a candidate that stalled at RMSE/range 9.8e-7 (best epoch 602, then patience), and
# sin(x) + 0.5 cos(2x) on [0, 6] with seed 0 one that stalled at 5.1e-6. Ranked after 30 steps and a second
# round of 30 for the best two: 5.9e-9 and 3.4e-9. Nine restarts instead of four only moved the stall to
# other seeds; 5000 epochs instead of 1300 left it where it was.


def test_screening_gives_the_two_best_candidates_a_second_round():
    x, y = draw("sin(3*x)*cos(x)", 0, 3, n=200)
    model = xsq.fit(x, y, epochs=200, restarts=4)
    steps = lm_policy.screen_steps(settings.resolve(epochs=200, restarts=4))
    assert steps == 100 // (5 + 2)  # at most half the epochs: 5 candidates, then 2 finalists
    assert list(model.record.history.phase).count("screen") == 1 + steps * (5 + 2)


def test_the_candidate_kept_is_the_best_finalist_after_its_second_round():
    """The screening's choice, against the validation losses the record holds for each candidate's last step.
    With this data the second round reverses the finalists' order (6e-3 against 5e-6)."""
    x, y = draw("sin(3*x)*cos(x)", 0, 3, seed=8, n=200)
    model = xsq.fit(x, y, epochs=120, restarts=3)
    h, steps = model.record.history, lm_policy.screen_steps(settings.resolve(epochs=120, restarts=3))
    ends = [steps * k for k in range(1, 4 + 2 + 1)]  # the last screening epoch of each block of steps
    assert all(h.phase[e] == "screen" for e in ends) and h.phase[ends[-1] + 1] != "screen"
    first, second = [h.val_loss[e] for e in ends[:4]], [h.val_loss[e] for e in ends[4:]]
    assert sorted(first)[0] < sorted(first)[1] < sorted(first)[2]  # two clear finalists
    assert second[1] < second[0] / 100  # the runner-up of the first round wins the second
    after = h.val_loss[ends[-1] + 1]  # one step on from the candidate kept
    assert after < 10 * second[1] and after < second[0] / 10


# --- a wider second network for a first network that ends just short ----------------------------------
# Measured (scripts/precision_suite.py --hidden 16, and with its defaults): with 16 units the damped oscillation
# exp(-x) sin(5x) on [0, 4], seed 0, ends at RMSE/range 2.2e-9 inside the data; on the domain's grid, 2,600
# epochs take it only from 2.2e-9 to 1.6e-9 (xsq train --hidden 16 --epochs 2600). The default then grows a
# 24-unit network from its 16 units and keeps it, at 5.2e-10 inside the data.


def test_the_damped_oscillation_reaches_1e_9_by_a_wider_second_network():
    problem = Problem(compile_expression("exp(-x)*sin(5*x)"), 0.0, 4.0)
    x, rng = problem.draw(1000, 0)
    model = xsq.fit(x, problem.values(x), seed=rng)
    grid = np.linspace(x.min(), x.max(), 2001)
    assert rmse_over_range(model.predict(grid)[:, 0], problem.values(grid)) <= 1e-9
    first, second = model.record.widths
    assert first.val_rmse_over_range > 1e-9 and second.kept and model.sizes == (1, 24, 1)
