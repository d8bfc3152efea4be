"""The standard problem refuses domains and targets float64 cannot represent, with one line and no warning."""

import numpy as np
import pytest

import xsq
from xsq.data.expr import compile_expression
from xsq.data.problem import Problem


def test_defaults():
    p = Problem()
    assert p.name == "x**2" and (p.low, p.high) == (1.0, 100.0)
    assert np.array_equal(p.values(np.array([3.0])), [9.0]) and np.array_equal(p.slopes(np.array([3.0])), [6.0])
    assert p.sample_points() == [1.0, 2.0, 10.0, 50.0, 50.5, 99.0, 100.0]
    assert p.extrapolation_ranges() == ((0.5, 1.0), (100.0, 150.0))
    assert Problem(low=-3, high=1).extrapolation_ranges() == ((-5.0, -3.0), (1.0, 3.0))
    x, rng = p.draw(5, 0)
    assert np.array_equal(x, np.random.default_rng(0).uniform(1, 100, 5)) and isinstance(rng, np.random.Generator)


@pytest.mark.parametrize(
    "low,high,message",
    [
        (5, 5, "low must be below high"),
        (1, 1 + 1e-12, "too narrow for float64"),
        (1e-200, 1e-100, "x\\*\\*2 underflows float64"),
        (1e200, 1e201, "x\\*\\*2 overflows float64"),
        (np.nan, 1, "low must be a finite number"),
        (1, np.inf, "high must be a finite number"),
    ],
)
def test_bad_domains(low, high, message):
    with pytest.raises(xsq.InputError, match=message):
        Problem(low=low, high=high)


def test_undefined_targets():
    with pytest.raises(xsq.InputError, match="log\\(x\\) is undefined \\(NaN\\) somewhere on \\[-2, -1\\]"):
        Problem(compile_expression("log(x)"), -2, -1)
    with pytest.raises(xsq.InputError, match="divides by zero"):
        Problem(compile_expression("1/x"), -1, 1)


def test_nothing_to_learn_and_too_wide():
    with pytest.raises(xsq.InputError, match=r"x - x \+ 2 is constant \(2\) on \[1, 100\]: there is nothing to learn"):
        Problem(compile_expression("x - x + 2"))
    with pytest.raises(xsq.InputError, match="too wide for float64"):
        Problem(low=-1e308, high=1e308)


def test_long_names_are_cut_for_labels():
    long = " + ".join(["x**2"] * 30)
    p = Problem(compile_expression(long))
    assert p.name == long and len(p.label) == 40 and p.label.endswith("...")
    assert Problem().label == "x**2"
