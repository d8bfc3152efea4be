"""Activation functions: one registry entry each, stable in value and in every derivative.

``ACTIVATIONS[name]`` is an :class:`Activation` with

* ``fn(z)``: the activation, elementwise, any shape; differentiable by
  ``autograd`` in reverse and forward mode, to any order;
* ``deriv(z)``: its slope ``fn'(z)``;
* ``value_and_deriv(z)``: both at once (sigmoid and softplus share one
  ``exp``), for the hand-written passes in :mod:`xsq.core.net` (plain numpy, no autograd);
* ``second(z)``: ``fn''(z)`` in plain numpy, for the hand-written
  second-order forward pass in :mod:`xsq.core.forward_mode`;
* ``nth(z, k)``: its k-th derivative (k = 0 is ``fn``), autograd-differentiable, for the
  activations that have every order in closed form (sigmoid and tanh; None for the others);
* ``produces`` (the values it can give, which the output unit's scaling and
  checks read), ``init`` (the initialisation that suits it) and ``kink``
  (a slope that jumps, which gradient checks step around).

Why primitives: autograd differentiates ``np.where`` through both branches
and its own rule for ``np.tanh`` is ``1 / cosh(z)**2``, which overflows with a
RuntimeWarning from |z| = 356 on. So sigmoid, tanh and softplus are
``autograd.extend.primitive`` functions whose vector-Jacobian product (reverse
mode) and Jacobian-vector product (forward mode) are stable closed forms.
Each derivative is a primitive too, with its own VJP and JVP, so every order
is as stable as the first:

* tanh^(k)(z) = sech(z)^2 Q_k(tanh z), with Q_1 = 1 and
  Q_{k+1}(t) = (1 - t^2) Q_k'(t) - 2 t Q_k(t); sech(z)^2 = 4e / (1 + e)^2 with
  e = exp(-2|z|) never overflows;
* sigmoid(z) = (1 + tanh(z / 2)) / 2, so sigmoid^(k)(z) = tanh^(k)(z / 2) / 2^(k+1);
* softplus' = sigmoid, relu' = a step whose derivative is 0.

No ``exp`` of a large positive number is ever taken: values and derivatives
of every order are finite and silent for |z| up to 1e4 and beyond.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Literal, NamedTuple

import numpy as np
from autograd.extend import defjvp, defvjp, primitive
from numpy.polynomial import polynomial as P

from ..errors import InputError


def _as_float(z) -> np.ndarray:
    """z as a float64 array (integers and booleans are converted; complex and ragged input are refused)."""
    try:
        z = np.asarray(z)
    except ValueError:  # a ragged list: no array at all
        raise InputError("activations take an array of real numbers, got a ragged sequence") from None
    if z.dtype.kind == "f":
        return z
    if z.dtype.kind in "biu":
        return z.astype(float)
    raise InputError(f"activations take real numbers, got an array of dtype {z.dtype}")


def _exp_neg_abs(z: np.ndarray) -> np.ndarray:
    """exp(-|z|): in (0, 1], never overflows."""
    e = np.abs(z)
    if not isinstance(e, np.ndarray):  # a scalar: nothing to update in place
        return np.exp(-e)
    np.negative(e, out=e)
    return np.exp(e, out=e)


def _defderiv(fun: Callable, slope: Callable) -> None:
    """Give a primitive ``fun(z, ...)`` the same stable slope in reverse and forward mode."""
    defvjp(fun, lambda ans, z, *args: lambda g: g * slope(z, *args))
    defjvp(fun, lambda g, ans, z, *args: g * slope(z, *args))


# --- tanh and its derivatives of every order -------------------------------------


@cache
def _q(k: int) -> np.ndarray:
    """Coefficients (lowest first) of Q_k, with tanh^(k)(z) = sech(z)^2 Q_k(tanh z)."""
    if k == 1:
        return np.array([1.0])
    q = _q(k - 1)
    return P.polysub(P.polymul([1.0, 0.0, -1.0], P.polyder(q)), P.polymul([0.0, 2.0], q))


def _sech2(z: np.ndarray) -> np.ndarray:
    """sech(z)^2 = 4e / (1 + e)^2 with e = exp(-2|z|)."""
    e = np.exp(-2.0 * np.abs(z))
    return 4.0 * e / (1.0 + e) ** 2


@primitive
def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent (numpy's value is already stable)."""
    return np.tanh(_as_float(z))


@primitive
def _tanh_nth(z: np.ndarray, k: int) -> np.ndarray:
    """The k-th derivative of tanh (k >= 1)."""
    z = _as_float(z)
    if k == 1:
        return _sech2(z)
    return _sech2(z) * P.polyval(np.tanh(z), _q(k))


def tanh_deriv(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = sech(z)^2."""
    return _tanh_nth(z, 1)


def tanh_and_deriv(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tanh(z), tanh'(z))."""
    return np.tanh(z), _sech2(z)


_defderiv(tanh, lambda z: _tanh_nth(z, 1))
_defderiv(_tanh_nth, lambda z, k: _tanh_nth(z, k + 1))


# --- sigmoid ---------------------------------------------------------------------


@primitive
def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-z)), evaluated without overflow."""
    z = _as_float(z)
    e = _exp_neg_abs(z)
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


@primitive
def _sigmoid_nth(z: np.ndarray, k: int) -> np.ndarray:
    """The k-th derivative of sigmoid (k >= 1): e / (1 + e)^2 with e = exp(-|z|) for k = 1."""
    z = _as_float(z)
    if k == 1:
        e = _exp_neg_abs(z)
        return e / (1.0 + e) ** 2
    return _tanh_nth.fun(0.5 * z, k) * 0.5 ** (k + 1)


def sigmoid_deriv(z: np.ndarray) -> np.ndarray:
    """sigmoid'(z) = sigmoid(z) sigmoid(-z)."""
    return _sigmoid_nth(z, 1)


def sigmoid_and_deriv(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sigmoid(z), sigmoid'(z)) sharing one exp.

    Written with in-place updates: at these array sizes allocation, not
    arithmetic, is much of the cost.
    """
    e = _exp_neg_abs(z)
    r = e + 1.0
    np.reciprocal(r, out=r)  # 1 / (1 + e)
    er = e * r  # sigmoid(z) where z < 0
    a = np.where(z >= 0, r, er)
    return a, np.multiply(er, r, out=er)  # e / (1 + e)^2 everywhere


_defderiv(sigmoid, lambda z: _sigmoid_nth(z, 1))
_defderiv(_sigmoid_nth, lambda z, k: _sigmoid_nth(z, k + 1))


# --- softplus --------------------------------------------------------------------


@primitive
def softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)).

    Equals z for large z and exp(z) for very negative z, to float64 precision.
    """
    z = _as_float(z)
    return np.maximum(z, 0.0) + np.log1p(_exp_neg_abs(z))


def softplus_and_deriv(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(softplus(z), sigmoid(z)) sharing one exp."""
    e = _exp_neg_abs(z)
    return np.maximum(z, 0.0) + np.log1p(e), np.where(z >= 0, 1.0, e) / (1.0 + e)


_defderiv(softplus, lambda z: sigmoid(z))


# --- relu and identity -----------------------------------------------------------


@primitive
def relu(z: np.ndarray) -> np.ndarray:
    """max(z, 0)."""
    return np.maximum(_as_float(z), 0.0)


@primitive
def relu_deriv(z: np.ndarray) -> np.ndarray:
    """1 where z > 0, else 0 (the subgradient 0 is taken at z = 0); its own derivative is 0."""
    return (_as_float(z) > 0).astype(float)


def relu_and_deriv(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(relu(z), relu'(z))."""
    return np.maximum(z, 0.0), (z > 0).astype(float)


_defderiv(relu, lambda z: relu_deriv(z))
defvjp(relu_deriv, None)
defjvp(relu_deriv, None)


def identity(z: np.ndarray) -> np.ndarray:
    """z itself (a linear output), as floats."""
    return z * 1.0


def identity_deriv(z: np.ndarray) -> np.ndarray:
    """1 everywhere."""
    return np.ones(np.shape(z))


# --- the registry ----------------------------------------------------------------


class Range(NamedTuple):
    """The values an activation produces: between ``low`` and ``high``, each end reached or not."""

    low: float
    high: float
    low_reached: bool
    high_reached: bool


class Activation(NamedTuple):
    """One activation: its function, its slope, both at once and its second derivative (see the module doc);
    then what the rest of xsq asks of it, so that a new activation is one entry here. Left out, those say: a
    smooth unit of any value, for which glorot's initialisation suits."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    deriv: Callable[[np.ndarray], np.ndarray]
    value_and_deriv: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    second: Callable[[np.ndarray], np.ndarray]
    produces: Range = Range(-np.inf, np.inf, False, False)
    init: Literal["glorot", "he"] = "glorot"  # what xsq.core.params.init_params's "auto" draws
    kink: bool = False  # its slope jumps at z = 0 (relu): a difference quotient there may straddle it
    nth: Callable[[np.ndarray, int], np.ndarray] | None = None  # (z, k) -> the k-th derivative (k = 0: fn)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            sigmoid,
            sigmoid_deriv,
            sigmoid_and_deriv,
            lambda z: _sigmoid_nth.fun(z, 2),
            produces=Range(0.0, 1.0, False, False),
            nth=lambda z, k: _sigmoid_nth(z, k) if k else sigmoid(z),
        ),
        Activation(
            "tanh",
            tanh,
            tanh_deriv,
            tanh_and_deriv,
            lambda z: _tanh_nth.fun(z, 2),
            produces=Range(-1.0, 1.0, False, False),
            nth=lambda z, k: _tanh_nth(z, k) if k else tanh(z),
        ),
        Activation(
            "softplus",
            softplus,
            sigmoid,
            softplus_and_deriv,
            lambda z: _sigmoid_nth.fun(z, 1),
            produces=Range(0.0, np.inf, False, False),
        ),
        Activation(
            "relu",
            relu,
            relu_deriv,
            relu_and_deriv,
            lambda z: np.zeros(np.shape(z)),
            produces=Range(0.0, np.inf, True, False),
            init="he",
            kink=True,
        ),
        Activation("identity", identity, identity_deriv, lambda z: (z, np.ones_like(z)), lambda z: z * 0.0),
    )
}


def get(name: str, what: str = "activation") -> Activation:
    """The activation called ``name``; an :class:`InputError` lists the known names."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown {what} {name!r}; expected one of: {', '.join(ACTIVATIONS)}") from None
