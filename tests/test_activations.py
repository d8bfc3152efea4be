"""Activations against a high-precision reference (decimal), and stable in the tails."""

from decimal import Decimal, getcontext

import numpy as np
import pytest
from autograd import elementwise_grad, grad

import xsq
from xsq.activations import DERIVATIVES, VALUE_AND_DERIVATIVE

getcontext().prec = 60

Z = np.concatenate([-np.logspace(4, -8, 60), [0.0], np.logspace(-8, 4, 60)])


def ref_sigmoid(z):
    return float(1 / (1 + (-Decimal(z)).exp()))


def ref_softplus(z):
    e = Decimal(z).exp()
    if z < -40:  # log(1 + e) = e - e^2/2 + ...; 1 + e would round to 1 at this precision
        return float(e - e * e / 2)
    return float((1 + e).ln())


def ref_tanh(z):
    e = (2 * Decimal(z)).exp()
    return float((e - 1) / (e + 1))


def ref_sigmoid_deriv(z):
    e = (-Decimal(abs(z))).exp()
    return float(e / (1 + e) ** 2)


def ref_tanh_deriv(z):
    e = (-2 * Decimal(abs(z))).exp()
    return float(4 * e / (1 + e) ** 2)


REFERENCES = {
    "sigmoid": (ref_sigmoid, ref_sigmoid_deriv),
    "softplus": (ref_softplus, ref_sigmoid),
    "tanh": (ref_tanh, ref_tanh_deriv),
    "relu": (lambda z: max(z, 0.0), lambda z: float(z > 0)),
    "identity": (lambda z: z, lambda z: 1.0),
}


def close(got, want, rtol=4e-15):
    got, want = np.asarray(got), np.asarray(want)
    return np.all(np.abs(got - want) <= rtol * np.abs(want) + 1e-300)


@pytest.mark.parametrize("name", list(xsq.ACTIVATIONS))
def test_values_and_derivatives_match_high_precision(name):
    f, df = REFERENCES[name]
    want_f = [f(z) for z in Z]
    want_df = [df(z) for z in Z]
    assert close(xsq.ACTIVATIONS[name](Z), want_f)
    assert close(DERIVATIVES[name](Z), want_df)
    value, slope = VALUE_AND_DERIVATIVE[name](Z)
    assert close(value, want_f)
    assert close(slope, want_df)
    assert close(elementwise_grad(xsq.ACTIVATIONS[name])(Z), want_df)


def test_softplus_tails_are_exact():
    big = np.array([40.0, 1e3, 1e4])
    assert np.array_equal(xsq.softplus(big), big)
    small = np.array([-40.0, -300.0, -700.0])
    assert close(xsq.softplus(small), np.exp(small), rtol=1e-15)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # identity'' is constant
@pytest.mark.parametrize("name", list(xsq.ACTIVATIONS))
def test_finite_and_silent_at_1e4_under_autograd(name):
    # RuntimeWarnings are errors in this test suite (setup.cfg), so silence is checked too
    z = np.array([-1e4, -800.0, -1.0, 0.0, 1.0, 800.0, 1e4])
    f = xsq.ACTIVATIONS[name]
    assert np.all(np.isfinite(f(z)))
    assert np.all(np.isfinite(elementwise_grad(f)(z)))
    assert np.all(np.isfinite(elementwise_grad(elementwise_grad(f))(z)))
    for v in z:
        assert np.isfinite(grad(lambda s: f(s) * 2.0)(v))


def test_second_derivatives_match_finite_differences():
    z = np.linspace(-30, 30, 121)
    h = 1e-5
    for name in ["sigmoid", "tanh", "softplus"]:
        d2 = elementwise_grad(elementwise_grad(xsq.ACTIVATIONS[name]))(z)
        fd = (DERIVATIVES[name](z + h) - DERIVATIVES[name](z - h)) / (2 * h)
        assert np.allclose(d2, fd, rtol=1e-6, atol=1e-10)


def test_autograds_own_tanh_rule_overflows_where_ours_does_not():
    import autograd.numpy as anp

    z = np.array([356.0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        elementwise_grad(anp.tanh)(z)
    assert 0.0 < elementwise_grad(xsq.tanh)(z)[0] < 1e-300  # 4 exp(-712): tiny, finite, silent
    with np.errstate(over="raise"):
        elementwise_grad(anp.tanh)(np.array([355.0]))  # just below: cosh(z)**2 still fits in float64
