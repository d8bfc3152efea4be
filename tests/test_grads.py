"""Hand-written gradients and Jacobian held against autograd and central differences."""

import itertools

import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import xsq
from xsq import losses
from xsq.backprop import loss_value, manual_grad_unchecked
from xsq.gradcheck import finite_difference_grad, gradcheck, near_kink, passed

from .conftest import SIZES, SMOOTH, make_problem

ACTS = list(xsq.ACTIVATIONS)
LOSSES = list(losses.LOSSES)


def max_rel(a, b):
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-300)
    return np.max(np.abs(a - b)) / scale


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("n", [1, 257])
@pytest.mark.parametrize("activation,output,loss", list(itertools.product(ACTS, ACTS, LOSSES)))
def test_manual_equals_autograd(sizes, n, activation, output, loss):
    params, X, Y = make_problem(sizes, n, seed=n + len(sizes))
    kw = dict(activation=activation, output=output, loss=loss, l2=0.01)
    g_man = xsq.manual_grad(params, X, Y, **kw)
    g_auto = xsq.autograd_grad(params, X, Y, **kw)
    assert list(g_man) == list(params)
    for key in params:
        assert g_man[key].shape == params[key].shape
        assert max_rel(g_man[key], g_auto[key]) <= 1e-10, key


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("activation,output,loss", list(itertools.product(ACTS, ACTS, LOSSES)))
def test_manual_equals_central_differences(sizes, activation, output, loss):
    # pick the first seed whose point is away from every kink (relu, mae); smooth cases take seed 0
    for seed in range(50):
        params, X, Y = make_problem(sizes, 16, seed)
        if not near_kink(params, X, Y, activation, output, loss):
            break
    rows = gradcheck(params, X, Y, activation=activation, output=output, loss=loss, l2=0.01)
    assert all(r.fd_decides for r in rows)
    assert passed(rows), rows
    for r in rows:
        assert r.autograd_rel_diff <= 1e-10 and r.fd_rel_diff <= 1e-6 or r.fd_abs_diff <= 1e-8


def param_strategy(sizes):
    shapes = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes[f"W{i}"], shapes[f"b{i}"] = (a, b), (b,)
    elements = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
    return st.fixed_dictionaries({k: arrays(np.float64, s, elements=elements) for k, s in shapes.items()})


@settings(max_examples=40, deadline=None)
@given(data=st.data(), sizes=st.sampled_from(SIZES), activation=st.sampled_from(SMOOTH),
       output=st.sampled_from(SMOOTH), loss=st.sampled_from(["mse", "huber", "relative_mse"]))
def test_hypothesis_parameters(data, sizes, activation, output, loss):
    params = data.draw(param_strategy(sizes))
    _, X, Y = make_problem(sizes, 9, seed=data.draw(st.integers(0, 10**6)))
    kw = dict(activation=activation, output=output, loss=loss)
    g_man = xsq.manual_grad(params, X, Y, **kw)
    g_auto = xsq.autograd_grad(params, X, Y, **kw)
    g_fd = finite_difference_grad(params, X, Y, activation, output, loss, 0.0)
    f = abs(float(xsq.objective(params, X, Y, **kw)))
    for key in params:
        assert max_rel(g_man[key], g_auto[key]) <= 1e-10
        top = max(np.max(np.abs(g_man[key])), np.max(np.abs(g_auto[key])))
        assert np.max(np.abs(g_man[key] - g_fd[key])) <= 1e-6 * top + 1e-8 * max(1.0, f)


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("output", ACTS)
def test_jacobian_matches_autograd(sizes, activation, output):
    params, X, _ = make_problem(sizes, 11, seed=3)
    J = xsq.jacobian(params, X, activation=activation, output=output)
    J_ref = xsq.autograd_jacobian(params, X, activation=activation, output=output)
    assert J.shape == (11 * sizes[-1], xsq.flatten(params).size)
    assert max_rel(J, J_ref) <= 1e-12


def test_jacobian_transpose_residual_is_the_mse_gradient(problem):
    params, X, Y = problem
    J = xsq.jacobian(params, X)
    r = (xsq.predict(params, X) - Y).ravel()
    g = xsq.unflatten(2.0 / r.size * J.T @ r, params)
    g_auto = xsq.autograd_grad(params, X, Y)
    for key in params:
        assert max_rel(g[key], g_auto[key]) <= 1e-12


def test_flatten_order_is_documented(problem):
    params, _, _ = problem
    assert xsq.param_keys(params) == ["W1", "b1", "W2", "b2"]
    v = xsq.flatten(params)
    assert np.array_equal(v[:16], params["W1"].ravel())
    back = xsq.unflatten(v, params)
    assert all(np.array_equal(back[k], params[k]) for k in params)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("output", ACTS)
def test_huge_pre_activations_stay_finite(activation, output):
    params = {"W1": np.array([[1e4, -1e4]]), "b1": np.zeros(2),
              "W2": np.array([[1e4], [-1e4]]), "b2": np.zeros(1)}
    X = np.array([[-1.0], [0.0], [1.0]])
    Y = np.ones((3, 1))
    assert np.all(np.isfinite(xsq.predict(params, X, activation=activation, output=output)))
    for g in (xsq.manual_grad, xsq.autograd_grad):
        for v in g(params, X, Y, activation=activation, output=output).values():
            assert np.all(np.isfinite(v))
    J = xsq.jacobian(params, X, activation=activation, output=output)
    assert np.all(np.isfinite(J))


def test_the_checker_catches_a_transposed_gradient(problem):
    params, X, Y = problem

    def transposed_w2(*args):
        g = manual_grad_unchecked(*args)
        g["W2"] = g["W2"].T
        return g

    rows = gradcheck(params, X, Y, manual=transposed_w2)
    assert not passed(rows)
    assert [r.name for r in rows if not r.passed] == ["W2"]


@pytest.mark.parametrize("factor", [1.0 + 1e-7, -1.0, 0.0])
def test_the_checker_catches_a_slightly_wrong_gradient(problem, factor):
    params, X, Y = problem

    def wrong_b1(*args):
        g = manual_grad_unchecked(*args)
        g["b1"] = g["b1"] * factor
        return g

    rows = gradcheck(params, X, Y, manual=wrong_b1)
    assert [r.name for r in rows if not r.passed] == ["b1"]


def test_the_checker_catches_a_missing_l2_term(problem):
    params, X, Y = problem

    def no_l2(p, X, Y, a, o, loss, l2):
        return manual_grad_unchecked(p, X, Y, a, o, loss, 0.0)

    assert not passed(gradcheck(params, X, Y, l2=0.1, manual=no_l2))
    assert passed(gradcheck(params, X, Y, l2=0.1))


def test_objective_is_pure_and_grad_is_one_call(problem):
    params, X, Y = problem
    before = {k: v.copy() for k, v in params.items()}
    a = xsq.objective(params, X, Y)
    assert xsq.objective(params, X, Y) == a
    g = grad(xsq.objective)(params, X, Y)
    assert set(g) == set(params)
    assert all(np.array_equal(params[k], before[k]) for k in params)
    assert loss_value(params, X, Y, "sigmoid", "softplus", "mse", 0.0) == a
