"""Activations against a high-precision reference, and stable in every order and mode autograd offers."""

from decimal import Decimal, getcontext

import autograd.numpy as anp
import autograd.test_util
import numpy as np
import pytest
from autograd import elementwise_grad, make_jvp
from autograd.test_util import check_grads

import xsq
from xsq.core.activations import ACTIVATIONS, get

getcontext().prec = 60

Z = np.concatenate([-np.logspace(4, -8, 60), [0.0], np.logspace(-8, 4, 60)])
# |z| up to 1e4 with the points where naive formulas overflow: exp(2|z|) at 355, exp(|z|) at 709.8, exp(-|z|) at 745
Z_EDGES = [-1e4, -745.2, -709.8, -356.0, -40.0, -3.0, -0.7, 0.3, 2.0, 40.0, 356.0, 709.8, 745.2, 1e4]


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


REFERENCES = {  # written from the definitions, in 60-digit decimal arithmetic
    "sigmoid": (ref_sigmoid, ref_sigmoid_deriv),
    "softplus": (ref_softplus, ref_sigmoid),
    "tanh": (ref_tanh, ref_tanh_deriv),
    "relu": (lambda z: float(Decimal(z).max(Decimal(0))), lambda z: float(Decimal(z) > 0)),
    "identity": (lambda z: float(Decimal(z)), lambda z: 1.0),
}


def close(got, want, rtol=4e-15):
    got, want = np.asarray(got), np.asarray(want)
    return np.all(np.abs(got - want) <= rtol * np.abs(want) + 1e-300)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_values_and_derivatives_match_high_precision(name):
    f, df = REFERENCES[name]
    act = ACTIVATIONS[name]
    want_f, want_df = [f(z) for z in Z], [df(z) for z in Z]
    assert close(act.fn(Z), want_f)
    assert close(act.deriv(Z), want_df)
    value, slope = act.value_and_deriv(Z)
    assert close(value, want_f) and close(slope, want_df)
    assert close(elementwise_grad(act.fn)(Z), want_df)
    assert close(make_jvp(act.fn)(Z)(np.ones_like(Z))[1], want_df)


def test_softplus_tails_are_exact():
    big = np.array([40.0, 1e3, 1e4])
    assert np.array_equal(xsq.softplus(big), big)
    small = np.array([-40.0, -300.0, -700.0])
    assert close(xsq.softplus(small), np.exp(small), rtol=1e-15)


def nth(f, k):
    for _ in range(k):
        f = elementwise_grad(f)
    return f


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
def test_higher_derivatives_match_the_definitions(name):
    z = np.linspace(-30, 30, 121)
    t, s = np.tanh(z), 1 / (1 + np.exp(-z))
    sech2 = 1 - t**2
    want = {  # the second and third derivatives, differentiated by hand
        "tanh": (-2 * t * sech2, sech2 * (6 * t**2 - 2)),
        "sigmoid": (s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s**2)),
        "softplus": (s * (1 - s), s * (1 - s) * (1 - 2 * s)),
    }[name]
    f = ACTIVATIONS[name].fn
    for order, expected in zip((2, 3), want):
        assert np.allclose(nth(f, order)(z), expected, rtol=1e-9, atol=1e-15), order


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # identity'' and relu'' are constant
@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("z", Z_EDGES)
def test_third_order_in_both_modes_at_every_edge(name, z, monkeypatch):
    # RuntimeWarnings are errors in this suite (setup.cfg): every check here is also a check of silence.
    # The difference step grows with |z| so that rounding of f(z +- h) does not swamp it.
    monkeypatch.setattr(autograd.test_util, "EPS", 1e-6 * max(1.0, abs(z)))
    np.random.seed(0)
    check_grads(ACTIVATIONS[name].fn, modes=["fwd", "rev"], order=3)(np.array([z, 0.5 * z + 0.1]))
    for order in (1, 2, 3):
        assert np.all(np.isfinite(nth(ACTIVATIONS[name].fn, order)(np.array(Z_EDGES))))


def test_autograds_own_tanh_rule_overflows_where_ours_does_not():
    z = np.array([356.0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        elementwise_grad(anp.tanh)(z)
    assert 0.0 < elementwise_grad(xsq.tanh)(z)[0] < 1e-300  # 4 exp(-712): tiny, finite, silent
    with np.errstate(over="raise"):
        elementwise_grad(anp.tanh)(np.array([355.0]))  # just below: cosh(z)**2 still fits in float64


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_integers_are_converted_and_complex_refused(name):
    f = ACTIVATIONS[name].fn
    assert np.array_equal(f(np.array([1, -2, 800])), f(np.array([1.0, -2.0, 800.0])))
    if name != "identity":
        with pytest.raises(xsq.InputError, match="real numbers"):
            f(np.array([1 + 2j]))


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(xsq.InputError, match="unknown activation 'swish'; expected one of: sigmoid, tanh"):
        get("swish")
