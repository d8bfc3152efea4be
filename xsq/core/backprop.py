"""The training objective and its derivatives, by autograd and by hand.

* :func:`objective` is the pure scalar ``loss(predict(params, X), Y) + l2 * penalty``.
* :func:`autograd_grad` is ``autograd.grad(objective)``: every parameter's
  gradient in one call, as a dict shaped like ``params``.
* :func:`manual_grad` is hand-written backprop (plain numpy, no autograd):
  the forward pass keeps each layer's activation A and its slope act'(Z), and
  the backward pass walks the layers in reverse with
  ``dZ = dA * act'(Z)``, ``dW = A_prev.T @ dZ``, ``db = sum(dZ)``,
  ``dA_prev = dZ @ W.T``.
* :func:`jacobian` is the hand-written Jacobian of every output with respect to
  every parameter (what Levenberg-Marquardt needs); :func:`autograd_jacobian`
  is its independent reference.

Each public function checks its arguments, then calls its unchecked twin
(``_objective``, ``_manual_grad``, ...), which the training loop calls directly.
"""

from __future__ import annotations

from typing import Callable

import autograd.numpy as np
import numpy as onp
from autograd import grad
from autograd import jacobian as _ag_jacobian

from ..validation import Real
from . import losses
from .network import Passes, _forward, check_problem
from .params import Params, _unflatten, flatten, n_layers

Array = onp.ndarray


def check_objective(params, X, Y, activation: str, output: str, loss: str, l2: float):
    """Validate every argument of the objective; return params, X and Y as float64 arrays."""
    losses.get(loss)
    params, X, Y = check_problem(params, X, Y, activation, output)
    losses.check_targets(loss, Y)
    Real(0).check(l2, "l2")
    return params, X, Y


def _objective(params: Params, X, Y, activation: str, output: str, loss: str, l2: float = 0.0):
    """:func:`objective` without argument checks."""
    value = losses.LOSSES[loss].fn(_forward(params, X, activation, output), Y)
    if l2:
        value = value + l2 * losses.l2_penalty(params)
    return value


_autograd_grad = grad(_objective)


def _public(inner: Callable, doc: str) -> Callable:
    """The checked public twin of ``inner(params, X, Y, activation, output, loss, l2)``, with keyword settings."""

    def public(
        params: Params,
        X: Array,
        Y: Array,
        *,
        activation: str = "sigmoid",
        output: str = "softplus",
        loss: str = "mse",
        l2: float = 0.0,
    ):
        params, X, Y = check_objective(params, X, Y, activation, output, loss, l2)
        return inner(params, X, Y, activation, output, loss, l2)

    public.__name__ = public.__qualname__ = inner.__name__.lstrip("_")
    public.__doc__ = doc
    return public


objective = _public(
    _objective,
    """Scalar that training minimises: ``loss(predict(params, X), Y) + l2 * sum(W^2) / 2``.

    X is (N, n0), Y is (N, nk). Pure, and differentiable (any order, both
    modes) with respect to params, X and Y.
    """,
)
autograd_grad = _public(
    _autograd_grad, "``autograd.grad`` of :func:`objective` with respect to ``params``: a dict shaped like it."
)


def _sum_rows(M: Array) -> Array:
    """M.sum(axis=0) as a matrix-vector product (several times faster for tall, narrow M)."""
    return onp.ones(M.shape[0]) @ M


def _back_through(dZ: Array, W: Array) -> Array:
    """dZ @ W.T, as a broadcast product when the layer has one unit (much faster)."""
    if W.shape[1] == 1:
        return dZ * W.T
    return dZ @ W.T


def _backprop(params: Params, passes: Passes, dA: Array) -> Params:
    """Gradients of a scalar with respect to every parameter, given d scalar / d output (N, nk)."""
    k = n_layers(params)
    As, Ds = passes.As, passes.Ds
    grads = {}
    for i in range(k, 0, -1):
        dZ = dA * Ds[i]
        grads[f"W{i}"] = As[i - 1].T @ dZ
        grads[f"b{i}"] = _sum_rows(dZ)
        if i > 1:
            dA = _back_through(dZ, params[f"W{i}"])
    return {key: grads[key] for key in params}


def _manual_grad(params: Params, X, Y, activation: str, output: str, loss: str, l2: float = 0.0) -> Params:
    """:func:`manual_grad` without argument checks (the training loop's inner call)."""
    passes = _forward(params, X, activation, output, keep=True)
    grads = _backprop(params, passes, losses.LOSSES[loss].grad(passes.As[-1], Y))
    if l2:
        for key in grads:
            if key.startswith("W"):
                grads[key] = grads[key] + l2 * params[key]
    return grads


# the gradient a gradient optimizer uses, by name (the setting ``grad``)
GRADIENTS = {"autograd": _autograd_grad, "manual": _manual_grad}

manual_grad = _public(
    _manual_grad, "Hand-written backprop of :func:`objective` (no autograd): a dict shaped like ``params``."
)


# --- Jacobians ---------------------------------------------------------------------


def _jacobian(params: Params, X: Array, activation: str, output: str, passes: Passes | None = None) -> Array:
    """:func:`jacobian` without checks; reuses a forward pass (``passes``) when one is given."""
    As, Ds = (passes or _forward(params, X, activation, output, keep=True))[1:]
    k = n_layers(params)
    N, m = As[-1].shape
    widths = [A.shape[1] for A in As]
    ends = onp.cumsum([0] + [a * b + b for a, b in zip(widths[:-1], widths[1:])])
    J = onp.empty((N, m, ends[-1]))
    # dZ[n, j, u]: d output j of sample n / d pre-activation u of the current layer
    dZ = onp.eye(m)[None, :, :] * Ds[k][:, None, :]
    for i in range(k, 0, -1):
        A_prev = As[i - 1]
        a, b = A_prev.shape[1], dZ.shape[2]
        start = ends[i - 1]
        J[:, :, start : start + a * b] = (A_prev[:, None, :, None] * dZ[:, :, None, :]).reshape(N, m, a * b)
        J[:, :, start + a * b : ends[i]] = dZ
        if i > 1:
            dZ = (dZ @ params[f"W{i}"].T) * Ds[i - 1][:, None, :]
    return J.reshape(N * m, ends[-1])


def jacobian(params: Params, X: Array, *, activation: str = "sigmoid", output: str = "softplus") -> Array:
    """d outputs / d parameters, shape (N * nk, P), hand-written.

    Row ``n * nk + j`` is output j of sample n; columns follow :func:`xsq.flatten`
    (W1 in C order, then b1, W2, b2, ...). Used by Levenberg-Marquardt.
    """
    params, X = check_problem(params, X, None, activation, output)
    return _jacobian(params, X, activation, output)


def autograd_jacobian(params: Params, X: Array, *, activation: str = "sigmoid", output: str = "softplus") -> Array:
    """Reference for :func:`jacobian`, computed by ``autograd.jacobian`` of the flat map."""
    params, X = check_problem(params, X, None, activation, output)

    def outputs(vector):
        return np.reshape(_forward(_unflatten(vector, params), X, activation, output), (-1,))

    return _ag_jacobian(outputs)(flatten(params))
