"""Activation functions, their derivatives, and a name table.

Every function maps an array of pre-activations ``z`` (any shape) to an array
of the same shape. Each is an :func:`autograd.extend.primitive` whose
vector-Jacobian product is the hand-written derivative below it, so that

* values and derivatives stay finite, accurate and warning-free for
  ``|z|`` up to 1e4 and beyond (no ``exp`` of a large positive number is ever
  taken, and no ``np.where`` branch that overflows is ever differentiated);
* ``autograd.grad`` and the hand-written backprop in :mod:`xsq.backprop`
  use the very same derivative, so any disagreement between them is a bug in
  the chain rule, not in an activation.

The derivatives are primitives as well, with their own rules, so
second derivatives (``autograd.hessian``) work too.
"""

from __future__ import annotations

from typing import Callable

import numpy as onp
from autograd.extend import defvjp, primitive

Array = onp.ndarray


def _exp_neg_abs(z: Array) -> Array:
    """exp(-|z|): in (0, 1], never overflows."""
    e = onp.abs(z)
    if not isinstance(e, onp.ndarray):  # a scalar: nothing to update in place
        return onp.exp(-e)
    onp.negative(e, out=e)
    return onp.exp(e, out=e)


# --- sigmoid ---------------------------------------------------------------


@primitive
def sigmoid(z: Array) -> Array:
    """Logistic sigmoid 1 / (1 + exp(-z)), evaluated without overflow."""
    e = _exp_neg_abs(z)
    return onp.where(z >= 0, 1.0, e) / (1.0 + e)


@primitive
def sigmoid_deriv(z: Array) -> Array:
    """sigmoid'(z) = sigmoid(z) sigmoid(-z) = e / (1 + e)^2 with e = exp(-|z|)."""
    e = _exp_neg_abs(z)
    return e / (1.0 + e) ** 2


@primitive
def _sigmoid_deriv2(z: Array) -> Array:
    """sigmoid''(z) = sigmoid'(z) (1 - 2 sigmoid(z)) = sigmoid'(z) tanh(-z / 2)."""
    return sigmoid_deriv(z) * onp.tanh(-0.5 * z)


def sigmoid_and_deriv(z: Array) -> tuple[Array, Array]:
    """(sigmoid(z), sigmoid'(z)) sharing one exp: the hand-written forward pass uses this.

    Written with in-place updates: at these array sizes allocation, not
    arithmetic, is much of the cost.
    """
    e = _exp_neg_abs(z)
    r = e + 1.0
    onp.reciprocal(r, out=r)  # 1 / (1 + e)
    er = e * r  # sigmoid(z) where z < 0
    a = onp.where(z >= 0, r, er)
    return a, onp.multiply(er, r, out=er)  # e / (1 + e)^2 everywhere


defvjp(sigmoid, lambda ans, z: lambda g: g * sigmoid_deriv(z))
defvjp(sigmoid_deriv, lambda ans, z: lambda g: g * _sigmoid_deriv2(z))


# --- tanh ------------------------------------------------------------------


@primitive
def tanh(z: Array) -> Array:
    """Hyperbolic tangent (numpy's is already stable in value)."""
    return onp.tanh(z)


@primitive
def tanh_deriv(z: Array) -> Array:
    """tanh'(z) = 1 / cosh(z)^2 = 4 e / (1 + e)^2 with e = exp(-2|z|).

    autograd's own rule for ``np.tanh`` evaluates ``1 / cosh(z)**2``, which
    overflows (with a RuntimeWarning) for |z| > 710; this form cannot.
    """
    e = onp.exp(-2.0 * onp.abs(z))
    return 4.0 * e / (1.0 + e) ** 2


def tanh_and_deriv(z: Array) -> tuple[Array, Array]:
    """(tanh(z), tanh'(z))."""
    return onp.tanh(z), tanh_deriv(z)


defvjp(tanh, lambda ans, z: lambda g: g * tanh_deriv(z))
defvjp(tanh_deriv, lambda ans, z: lambda g: g * (-2.0) * tanh_deriv(z) * onp.tanh(z))


# --- softplus --------------------------------------------------------------


@primitive
def softplus(z: Array) -> Array:
    """softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)).

    Equals z for large z and exp(z) for very negative z, to float64 precision.
    """
    return onp.maximum(z, 0.0) + onp.log1p(_exp_neg_abs(z))


defvjp(softplus, lambda ans, z: lambda g: g * sigmoid(z))


def softplus_deriv(z: Array) -> Array:
    """softplus'(z) = sigmoid(z)."""
    return sigmoid(z)


def softplus_and_deriv(z: Array) -> tuple[Array, Array]:
    """(softplus(z), sigmoid(z)) sharing one exp."""
    e = _exp_neg_abs(z)
    return onp.maximum(z, 0.0) + onp.log1p(e), onp.where(z >= 0, 1.0, e) / (1.0 + e)


# --- relu and identity -----------------------------------------------------


@primitive
def relu(z: Array) -> Array:
    """max(z, 0)."""
    return onp.maximum(z, 0.0)


@primitive
def relu_deriv(z: Array) -> Array:
    """1 where z > 0, else 0 (the subgradient 0 is taken at z = 0)."""
    return (z > 0).astype(float)


defvjp(relu, lambda ans, z: lambda g: g * relu_deriv(z))
defvjp(relu_deriv, lambda ans, z: lambda g: onp.zeros_like(z))


def relu_and_deriv(z: Array) -> tuple[Array, Array]:
    """(relu(z), relu'(z))."""
    return onp.maximum(z, 0.0), (z > 0).astype(float)


def identity(z: Array) -> Array:
    """z itself (a linear output)."""
    return z


def identity_deriv(z: Array) -> Array:
    """1 everywhere."""
    return onp.ones_like(z)


def identity_and_deriv(z: Array) -> tuple[Array, Array]:
    """(z, 1)."""
    return z, onp.ones_like(z)


# --- name tables -----------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "relu": relu,
    "identity": identity,
}

DERIVATIVES: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid_deriv,
    "tanh": tanh_deriv,
    "softplus": softplus_deriv,
    "relu": relu_deriv,
    "identity": identity_deriv,
}


# the hand-written passes take value and derivative together (one exp instead of two)
VALUE_AND_DERIVATIVE: dict[str, Callable[[Array], tuple[Array, Array]]] = {
    "sigmoid": sigmoid_and_deriv,
    "tanh": tanh_and_deriv,
    "softplus": softplus_and_deriv,
    "relu": relu_and_deriv,
    "identity": identity_and_deriv,
}


def check_activation(name: str, what: str = "activation") -> str:
    """Return ``name`` if it is a known activation, else raise a ValueError naming the choices."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"unknown {what} {name!r}; expected one of: {', '.join(ACTIVATIONS)}"
        )
    return name
