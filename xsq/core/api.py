"""The checked public faces of the network math: each validates its arguments, then runs :mod:`xsq.core.net`.

Bad input raises :class:`~xsq.errors.InputError` naming the problem. Settings are keywords:
``activation`` (hidden units), ``output`` (the last layer), ``loss`` and ``l2``.
"""

from __future__ import annotations

import numpy as np
from autograd.tracer import getval
from numpy.typing import ArrayLike

from ..errors import InputError
from ..validation import Real
from . import activations, losses, net
from . import jacobian as jac
from .forward_mode import input_jacobian_unchecked
from .params import Params, as_real_array, check_params, layer_sizes


def check_inputs(X, n_inputs: int, name: str = "X"):
    """X as a float64 (N, n_inputs) array, N >= 1, finite; a 1-D X is N samples of one input.

    Traced (autograd) arrays are checked on their values and passed through unchanged, so
    predictions stay differentiable with respect to the inputs.
    """
    X = as_real_array(X, name)
    shape = np.shape(X)
    if len(shape) == 1 and n_inputs == 1:
        X = X[:, None]
        shape = np.shape(X)
    if len(shape) != 2 or shape[0] < 1 or shape[1] != n_inputs:
        one_d = " (or (N,) for one input)" if n_inputs == 1 else ""
        raise InputError(f"{name} must have shape (N, {n_inputs}){one_d} with N >= 1, got shape {shape}")
    if not np.all(np.isfinite(getval(X))):
        raise InputError(f"{name} contains NaN or inf; every value must be finite")
    return X


def check_problem(params, X, Y=None, activation: str = "sigmoid", output: str = "softplus"):
    """Validate a network and its data: (params, X) or (params, X, Y) as float64 arrays.

    Y must be (N, nk) with the same N as X (a 1-D Y is N samples of one output).
    """
    activations.get(activation)
    activations.get(output, "output")
    params = check_params(params)
    sizes = layer_sizes(params)
    X = check_inputs(X, sizes[0])
    if Y is None:
        return params, X
    Y = check_inputs(Y, sizes[-1], "Y")
    if np.shape(Y)[0] != np.shape(X)[0]:
        raise InputError(f"Y has {np.shape(Y)[0]} rows but X has {np.shape(X)[0]}; give one target row per input")
    return params, X, Y


def check_objective(params, X, Y, activation: str, output: str, loss: str, l2: float):
    """Validate every argument of the objective; return params, X and Y as float64 arrays."""
    losses.get(loss)
    if Y is None:
        raise InputError("Y is missing: the objective and its gradients compare predictions with targets Y (N, nk)")
    params, X, Y = check_problem(params, X, Y, activation, output)
    losses.check_targets(loss, Y)
    Real(0).check(l2, "l2")
    return params, X, Y


def predict(params: Params, X: ArrayLike, *, activation: str = "sigmoid", output: str = "softplus") -> np.ndarray:
    """Network outputs for inputs X: (N, n0) -> (N, nk). Pure, and differentiable in params and X."""
    params, X = check_problem(params, X, None, activation, output)
    return net.forward(params, X, activation, output)


def objective(
    params: Params, X, Y, *, activation: str = "sigmoid", output: str = "softplus", loss: str = "mse", l2: float = 0.0
) -> float:
    """What training minimises: ``loss(predict(params, X), Y) + l2 * sum(W^2) / 2``; X (N, n0), Y (N, nk).

    Pure, and differentiable (any order, both modes) with respect to params, X and Y.
    """
    params, X, Y = check_objective(params, X, Y, activation, output, loss, l2)
    return net.objective(params, X, Y, activation, output, loss, l2)


def autograd_grad(
    params: Params, X, Y, *, activation: str = "sigmoid", output: str = "softplus", loss: str = "mse", l2: float = 0.0
) -> Params:
    """``autograd.grad`` of :func:`objective` with respect to ``params``: a dict shaped like it."""
    params, X, Y = check_objective(params, X, Y, activation, output, loss, l2)
    return net.autograd_grad(params, X, Y, activation, output, loss, l2)


def manual_grad(
    params: Params, X, Y, *, activation: str = "sigmoid", output: str = "softplus", loss: str = "mse", l2: float = 0.0
) -> Params:
    """Hand-written backprop of :func:`objective` (no autograd): a dict shaped like ``params``."""
    params, X, Y = check_objective(params, X, Y, activation, output, loss, l2)
    return net.manual_grad(params, X, Y, activation, output, loss, l2)


def jacobian(params: Params, X, *, activation: str = "sigmoid", output: str = "softplus") -> np.ndarray:
    """d outputs / d parameters, shape (N * nk, P), hand-written (what Levenberg-Marquardt needs).

    Row ``n * nk + j`` is output j of sample n; columns follow :func:`xsq.flatten`.
    """
    params, X = check_problem(params, X, None, activation, output)
    return jac.jacobian(params, X, activation, output)


def autograd_jacobian(params: Params, X, *, activation: str = "sigmoid", output: str = "softplus") -> np.ndarray:
    """Reference for :func:`jacobian`, computed by ``autograd.jacobian`` of the flat map."""
    params, X = check_problem(params, X, None, activation, output)
    return jac.autograd_jacobian(params, X, activation, output)


def input_jacobian(params: Params, X, *, activation: str = "sigmoid", output: str = "softplus") -> np.ndarray:
    """d outputs / d inputs, shape (N, nk, n0), by a hand-written forward-mode pass (no autograd)."""
    params, X = check_problem(params, X, None, activation, output)
    return input_jacobian_unchecked(params, X, activation, output)
