"""Every derivative autograd offers: both modes, second order on the objective, Hessian-vector products,
the Gauss-Newton matrix, and derivatives with respect to the inputs."""

import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

import xsq
from xsq.checks import hessian_check
from xsq.checks.gradient_check import random_problem
from xsq.cli.main import main
from xsq.core import losses

from .conftest import make_problem, max_rel, pairwise


@pytest.mark.parametrize("activation,output,loss", pairwise(xsq.ACTIVATIONS, xsq.ACTIVATIONS, losses.LOSSES))
def test_objective_second_order_in_both_modes(activation, output, loss):
    # every pair of hidden unit, output unit and loss meets (every hidden and output pair, each with one loss);
    # RuntimeWarnings are errors in this suite, so this is also a check that every mode is silent
    params, X, Y = make_problem((1, 4, 1), 5, 3)
    np.random.seed(0)
    f = lambda p: xsq.objective(p, X, Y, activation=activation, output=output, loss=loss)  # noqa: E731
    check_grads(f, modes=["fwd", "rev"], order=2)(params)


def test_hvp_and_gauss_newton_pass_and_catch_errors(monkeypatch):
    params, X, Y = random_problem((1, 16, 1), "sigmoid", 64, 0)
    rows = hessian_check.hvp_check(params, X, Y)
    assert all(r.passed for r in rows) and [r.name for r in rows] == ["W1", "b1", "W2", "b2"]
    assert hessian_check.gauss_newton_check(params, X).passed
    make_jvp = hessian_check.make_jvp

    def slightly_wrong(f):  # a forward mode that is off by 1e-7 relative
        return lambda x: lambda v: (None, make_jvp(f)(x)(v)[1] * (1 + 1e-7))

    monkeypatch.setattr(hessian_check, "make_jvp", slightly_wrong)
    assert not any(r.passed for r in hessian_check.hvp_check(params, X, Y))
    jacobian = hessian_check.jac.jacobian
    monkeypatch.setattr(hessian_check.jac, "jacobian", lambda *a: jacobian(*a) * np.r_[np.ones(48), -1.0])
    assert not hessian_check.gauss_newton_check(params, X).passed


def test_gradcheck_order_2_on_the_command_line(capsys):
    assert main(["gradcheck", "--order", "2", "--n", "16", "--activation", "tanh", "--loss", "huber"]) == 0
    out = capsys.readouterr().out
    assert "rel vs rev-over-rev" in out and "J^T J" in out and "1 of 1 combinations passed" in out


def test_the_model_is_differentiable_in_its_inputs(default_model):
    x = np.linspace(1, 100, 50)
    g = grad(lambda x: np.sum(default_model.predict(x)))(x)
    assert max_rel(g, default_model.derivative(x)[:, 0, 0]) <= 1e-13
    h = 1e-5
    fd = (default_model.predict(x + h) - default_model.predict(x - h))[:, 0] / (2 * h)
    assert np.allclose(g, fd, rtol=1e-6)
    second = grad(lambda x: np.sum(default_model.derivative(x)))(x)  # the slope of the slope: 2
    assert np.allclose(second[10:40], 2.0, rtol=1e-2)
