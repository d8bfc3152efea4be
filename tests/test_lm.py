"""Levenberg-Marquardt's step on textbook least-squares problems, against SciPy, and its invariants."""

import numpy as np
import pytest

from xsq.training.lm import LeastSquares, lm_init, lm_step


def rosenbrock():
    """Rosenbrock's function as least squares: r = (10 (t2 - t1^2), 1 - t1), minimum 0 at (1, 1)."""

    def residuals(t):
        return np.array([10.0 * (t[1] - t[0] ** 2), 1.0 - t[0]]), None

    def jacobian(t, aux):
        return np.array([[-20.0 * t[0], 10.0], [-1.0, 0.0]])

    return LeastSquares(residuals, jacobian)


def exponential_fit():
    """y = a exp(b t) fitted to noisy data: a minimum with non-zero residuals."""
    t = np.linspace(0, 1, 30)
    y = 2.0 * np.exp(-1.3 * t) + 0.01 * np.random.default_rng(0).normal(size=t.size)

    def residuals(p):
        return p[0] * np.exp(p[1] * t) - y, None

    def jacobian(p, aux):
        e = np.exp(p[1] * t)
        return np.stack([e, p[0] * t * e], axis=1)

    return LeastSquares(residuals, jacobian), residuals


def solve(problem, theta, steps=500, geodesic=True):
    state = lm_init(problem, np.asarray(theta, dtype=float))
    costs = [state.cost]
    for _ in range(steps):
        state = lm_step(problem, state, geodesic)
        costs.append(state.cost)
        if state.converged:
            break
    return state, costs


@pytest.mark.parametrize("geodesic", [True, False])
def test_rosenbrock_reaches_its_minimum(geodesic):
    state, costs = solve(rosenbrock(), [-1.2, 1.0], geodesic=geodesic)
    assert np.allclose(state.theta, [1.0, 1.0], atol=1e-10) and state.cost < 1e-20
    assert all(b <= a for a, b in zip(costs, costs[1:]))  # every accepted step lowers the cost


def test_agrees_with_scipy_least_squares():
    import scipy.optimize as scipy_optimize  # a test extra: missing, the test fails rather than skips

    problem, residuals = exponential_fit()
    state, _ = solve(problem, [1.0, 0.0])
    ref = scipy_optimize.least_squares(
        lambda p: residuals(p)[0], [1.0, 0.0], method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15
    )
    assert np.allclose(state.theta, ref.x, rtol=1e-8)
    assert state.cost == pytest.approx(2 * ref.cost, rel=1e-10)  # scipy's cost is half the sum of squares


def test_a_rejected_trial_never_moves_theta():
    base = rosenbrock()
    calls = []

    def residuals(t):  # the first trial after the start is made to look terrible
        calls.append(t.copy())
        r, aux = base.residuals(t)
        return (r * 1e6 if len(calls) == 2 else r), aux

    problem = LeastSquares(residuals, base.jacobian)
    start = lm_init(problem, np.array([-1.2, 1.0]))
    state = lm_step(problem, start, geodesic=False)
    assert not np.array_equal(state.theta, calls[1])  # the bad trial was not taken
    assert state.cost < start.cost and np.array_equal(state.theta, calls[-1])


def test_the_converged_return_leaves_theta_unchanged():
    problem = rosenbrock()
    start = lm_init(problem, np.array([1.0, 1.0]))  # the exact minimum: no step can lower the cost
    state = lm_step(problem, start)
    assert state.converged
    assert np.array_equal(state.theta, start.theta) and np.array_equal(state.r, start.r)
    assert state.cost == start.cost == 0.0


def test_a_damped_matrix_that_lu_finds_singular_is_damped_more(monkeypatch):
    """Near float64's limit Cholesky can accept A + lam D where LU's pivots find it singular: lam grows (x10),
    as when Cholesky fails, and the step is taken, not a crash."""
    real, calls = np.linalg.solve, []

    def solve(M, g):
        calls.append(M.copy())
        if len(calls) == 1:
            raise np.linalg.LinAlgError("Singular matrix")
        return real(M, g)

    monkeypatch.setattr(np.linalg, "solve", solve)
    problem = rosenbrock()
    start = lm_init(problem, np.array([-1.2, 1.0]))
    state = lm_step(problem, start, geodesic=False)
    assert len(calls) >= 2 and state.cost < start.cost and not state.converged
    assert np.all(np.diag(calls[1]) > np.diag(calls[0]))  # the second trial was damped more than the first


@pytest.mark.parametrize("geodesic", [True, False])
def test_normal_equations_given_by_the_problem_take_the_same_steps(geodesic):
    base, _ = exponential_fit()
    calls = []

    def normal(theta, aux, r):
        calls.append(theta)
        J = base.jacobian(theta, aux)
        return J.T @ J, J.T @ r

    given = LeastSquares(base.residuals, base.jacobian, normal)
    state, costs = solve(base, [1.0, 0.0], steps=8, geodesic=geodesic)
    again, costs_again = solve(given, [1.0, 0.0], steps=8, geodesic=geodesic)
    assert np.array_equal(state.theta, again.theta) and costs == costs_again
    assert len(calls) == 8  # one system per step, from the problem
