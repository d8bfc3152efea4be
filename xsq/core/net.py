"""The network, its loss and both of its gradients, on one screen: start reading xsq here.

A network with layer sizes (n0, n1, ..., nk) has params ``{"W1", "b1", ..., "Wk", "bk"}``,
``Wi`` of shape (n_{i-1}, n_i) and ``bi`` of shape (n_i,). X is (N, n0), Y is (N, nk).
Hidden layers use ``activation``, the last layer ``output`` (a name from ``ACTIVATIONS``,
or an :class:`~xsq.core.activations.Activation` of your own).

Each activation and the slope the backprop multiplies by (stable forms in ``activations.py``)::

    sigmoid   a = 1 / (1 + exp(-z))    a' = a (1 - a)
    tanh      a = tanh(z)              a' = 1 - a^2
    softplus  a = log(1 + exp(z))      a' = sigmoid(z)
    relu      a = max(z, 0)            a' = 1 where z > 0, else 0
    identity  a = z                    a' = 1

Nothing here checks its arguments or keeps state: params in, arrays out. The checked
public faces (``xsq.predict``, ``xsq.objective``, ...) are in ``api.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from autograd import grad

from .activations import ACTIVATIONS, Activation
from .losses import LOSSES, l2_penalty
from .params import Params

Act = str | Activation


def layer_activation(i: int, k: int, activation: Act, output: Act) -> Activation:
    """The activation of layer i of k: ``activation`` for hidden layers, ``output`` for the last."""
    a = activation if i < k else output
    return ACTIVATIONS[a] if isinstance(a, str) else a


def forward(params: Params, X, activation: Act = "sigmoid", output: Act = "softplus") -> np.ndarray:
    """The network's output (N, nk) for inputs X (N, n0). autograd differentiates it in any mode and order."""
    k = len(params) // 2
    A = X
    for i in range(1, k + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        A = layer_activation(i, k, activation, output).fn(Z)
    return A


def objective(
    params: Params, X, Y, activation: Act = "sigmoid", output: Act = "softplus", loss: str = "mse", l2: float = 0.0
) -> float:
    """What training minimises: the loss (a mean over every element) plus l2 * sum(W^2) / 2."""
    value = LOSSES[loss].fn(forward(params, X, activation, output), Y)
    if l2:
        value = value + l2 * l2_penalty(params)
    return value


# autograd's answer: the gradient of the objective with respect to every parameter, in one call.
autograd_grad = grad(objective)


# --- the same gradient by hand -------------------------------------------------------------


class Passes(NamedTuple):
    """What the forward pass keeps for backprop, per layer i: Z_i, A_i and D_i = act'(Z_i) (each (N, n_i)).

    Index i always means layer i: ``As[0]`` is X, and ``Zs[0]``, ``Ds[0]`` are None.
    """

    Zs: list
    As: list
    Ds: list


def forward_pass(params: Params, X: np.ndarray, activation: Act = "sigmoid", output: Act = "softplus") -> Passes:
    """:func:`forward`, keeping each layer's Z, its output A and its slope act'(Z) (by ``value_and_deriv``)."""
    k = len(params) // 2
    Zs: list = [None]
    As: list = [X]
    Ds: list = [None]
    for i in range(1, k + 1):
        Z = As[-1] @ params[f"W{i}"] + params[f"b{i}"]
        A, D = layer_activation(i, k, activation, output).value_and_deriv(Z)
        Zs.append(Z)
        As.append(A)
        Ds.append(D)
    return Passes(Zs, As, Ds)


def backprop(params: Params, passes: Passes, dA: np.ndarray) -> Params:
    """The gradient of a scalar with respect to every parameter, given its gradient dA (N, nk) at the output.

    The chain rule, layer by layer from the last: Z_i = A_{i-1} @ W_i + b_i and A_i = act(Z_i).
    """
    grads = {}
    for i in range(len(params) // 2, 0, -1):
        dZ = dA * passes.Ds[i]  # through the activation: times act'(Z_i)
        grads[f"W{i}"] = passes.As[i - 1].T @ dZ  # (n_{i-1}, N) @ (N, n_i): summed over the samples
        grads[f"b{i}"] = dZ.sum(axis=0)  # the bias is added to every sample: sum over them
        dA = dZ @ params[f"W{i}"].T  # on to the layer below
    return {key: grads[key] for key in params}


def manual_grad(
    params: Params, X, Y, activation: Act = "sigmoid", output: Act = "softplus", loss: str = "mse", l2: float = 0.0
) -> Params:
    """Hand-written backprop of :func:`objective`: equal to :data:`autograd_grad` (the tests hold it there)."""
    passes = forward_pass(params, X, activation, output)
    grads = backprop(params, passes, LOSSES[loss].grad(passes.As[-1], Y))  # d loss / d output
    if l2:
        grads = {key: g + l2 * params[key] if key[0] == "W" else g for key, g in grads.items()}
    return grads


# the gradient a gradient optimizer uses, by the setting ``grad``
GRADIENTS = {"autograd": autograd_grad, "manual": manual_grad}
