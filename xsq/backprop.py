"""The training objective and its gradient, three ways.

* :func:`objective` is the pure scalar ``loss(predict(params, X), Y) + l2 * penalty``.
* :func:`autograd_grad` is ``autograd.grad(objective)``: every parameter's
  gradient in one call, as a dict shaped like ``params``.
* :func:`manual_grad` is hand-written backprop (plain numpy, no autograd):
  the forward pass keeps each layer's activation A and its slope act'(Z), and
  the backward pass walks the layers in reverse with
  ``dZ = dA * act'(Z)``, ``dW = A_prev.T @ dZ``, ``db = sum(dZ)``,
  ``dA_prev = dZ @ W.T``.
* :func:`jacobian` is the hand-written Jacobian of every network output with
  respect to every parameter, which Levenberg-Marquardt needs; and
  :func:`autograd_jacobian` is its independent reference.
"""

from __future__ import annotations

import math

import autograd.numpy as np
import numpy as onp
from autograd import grad
from autograd import jacobian as _ag_jacobian

from . import losses
from .activations import VALUE_AND_DERIVATIVE, check_activation
from .network import Params, affine, check_data, check_params, forward, n_layers

Array = onp.ndarray


def check_problem(params: Params, X, Y, activation: str, output: str, loss: str, l2: float):
    """Validate every argument of the objective; return X and Y as float64 arrays."""
    check_activation(activation)
    check_activation(output, "output")
    losses.get(loss)
    sizes = check_params(params)
    X, Y = check_data(X, Y, sizes)
    if loss == "relative_mse":
        losses.check_positive_targets(Y)
    if not (onp.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return X, Y


def loss_value(params: Params, X: Array, Y: Array, activation: str, output: str, loss: str, l2: float):
    """The objective without argument checks (the training loop's inner call)."""
    value = losses.LOSSES[loss](forward(params, X, activation, output), Y)
    if l2:
        value = value + l2 * losses.l2_penalty(params)
    return value


def objective(
    params: Params,
    X: Array,
    Y: Array,
    *,
    activation: str = "sigmoid",
    output: str = "softplus",
    loss: str = "mse",
    l2: float = 0.0,
) -> float:
    """Scalar that training minimises: ``loss(predict(params, X), Y) + l2 * sum(W^2) / 2``.

    X is (N, n0), Y is (N, nk). Pure: the same arguments give the same number.
    """
    X, Y = check_problem(params, X, Y, activation, output, loss, l2)
    return loss_value(params, X, Y, activation, output, loss, l2)


loss_value_grad = grad(loss_value)


def autograd_grad(params: Params, X: Array, Y: Array, *, activation: str = "sigmoid",
                  output: str = "softplus", loss: str = "mse", l2: float = 0.0) -> Params:
    """``autograd.grad`` of :func:`objective` with respect to ``params``: a dict shaped like it."""
    X, Y = check_problem(params, X, Y, activation, output, loss, l2)
    return loss_value_grad(params, X, Y, activation, output, loss, l2)


def forward_pass(params: Params, X: Array, activation: str, output: str) -> tuple[list, list]:
    """Activations ``As[i]`` of every layer and their slopes ``Ds[i] = act'(Z_i)``.

    ``As[0] = X`` and ``Ds[0] = None``, so that ``As[i]`` and ``Ds[i]`` belong
    to layer i. Each slope comes from the same exp as its activation.
    """
    k = n_layers(params)
    As, Ds = [X], [None]
    for i in range(1, k + 1):
        Z = affine(As[-1], params[f"W{i}"], params[f"b{i}"])
        A, D = VALUE_AND_DERIVATIVE[activation if i < k else output](Z)
        As.append(A)
        Ds.append(D)
    return As, Ds


def _sum_rows(M: Array) -> Array:
    """M.sum(axis=0) as a matrix-vector product (several times faster for tall, narrow M)."""
    return onp.ones(M.shape[0]) @ M


def _back_through(dZ: Array, W: Array) -> Array:
    """dZ @ W.T, as a broadcast product when the layer has one unit (much faster)."""
    if W.shape[1] == 1:
        return dZ * W.T
    return dZ @ W.T


def backprop(params: Params, As: list, Ds: list, dA: Array) -> Params:
    """Gradients of a scalar with respect to every parameter, given d scalar / d output.

    ``As`` and ``Ds`` come from :func:`forward_pass`; ``dA`` has the shape of
    the network's output (N, nk).
    """
    k = n_layers(params)
    grads = {}
    for i in range(k, 0, -1):
        dZ = dA * Ds[i]
        grads[f"W{i}"] = As[i - 1].T @ dZ
        grads[f"b{i}"] = _sum_rows(dZ)
        if i > 1:
            dA = _back_through(dZ, params[f"W{i}"])
    return {key: grads[key] for key in params}


def manual_grad(params: Params, X: Array, Y: Array, *, activation: str = "sigmoid",
                output: str = "softplus", loss: str = "mse", l2: float = 0.0) -> Params:
    """Hand-written backprop of :func:`objective` (no autograd): a dict shaped like ``params``."""
    X, Y = check_problem(params, X, Y, activation, output, loss, l2)
    return manual_grad_unchecked(params, X, Y, activation, output, loss, l2)


def manual_grad_unchecked(params: Params, X: Array, Y: Array, activation: str, output: str,
                          loss: str, l2: float) -> Params:
    """:func:`manual_grad` without argument checks (the training loop's inner call)."""
    As, Ds = forward_pass(params, X, activation, output)
    grads = backprop(params, As, Ds, losses.GRADIENTS[loss](As[-1], Y))
    if l2:
        for key in grads:
            if key.startswith("W"):
                grads[key] = grads[key] + l2 * params[key]
    return grads


# --- flat parameter vectors and the Jacobian --------------------------------


def param_keys(params: Params) -> list[str]:
    """The documented flattening order: W1, b1, W2, b2, ..., Wk, bk."""
    return [f"{p}{i}" for i in range(1, n_layers(params) + 1) for p in "Wb"]


def flatten(params: Params) -> Array:
    """All parameters as one vector, in :func:`param_keys` order, each array in C order."""
    return onp.concatenate([onp.ravel(params[key]) for key in param_keys(params)])


def unflatten(vector: Array, like: Params) -> Params:
    """The inverse of :func:`flatten`: a params dict shaped like ``like``."""
    out, start = {}, 0
    for key in param_keys(like):
        shape = onp.shape(like[key])
        size = math.prod(shape)
        out[key] = vector[start:start + size].reshape(shape)
        start += size
    return out


def jacobian(params: Params, X: Array, *, activation: str = "sigmoid", output: str = "softplus") -> Array:
    """d outputs / d parameters, shape (N * nk, P), hand-written.

    Row ``n * nk + j`` is output j of sample n; columns follow :func:`flatten`
    (W1 in C order, then b1, W2, b2, ...). Used by Levenberg-Marquardt.
    """
    check_activation(activation)
    check_activation(output, "output")
    X = check_data(X, sizes=check_params(params))
    return jacobian_unchecked(params, X, activation, output)


def jacobian_unchecked(params: Params, X: Array, activation: str, output: str,
                       passes: tuple[list, list] | None = None) -> Array:
    """:func:`jacobian` without checks; reuses a :func:`forward_pass` when one is given."""
    As, Ds = passes or forward_pass(params, X, activation, output)
    k = n_layers(params)
    N, m = As[-1].shape
    sizes = [params["W1"].shape[0]] + [params[f"b{i}"].shape[0] for i in range(1, k + 1)]
    ends = onp.cumsum([0] + [a * b + b for a, b in zip(sizes[:-1], sizes[1:])])
    J = onp.empty((N, m, ends[-1]))
    # dZ[n, j, u]: d output j of sample n / d pre-activation u of the current layer
    dZ = onp.eye(m)[None, :, :] * Ds[k][:, None, :]
    for i in range(k, 0, -1):
        A_prev = As[i - 1]
        a, b = A_prev.shape[1], dZ.shape[2]
        start = ends[i - 1]
        J[:, :, start:start + a * b] = (A_prev[:, None, :, None] * dZ[:, :, None, :]).reshape(N, m, a * b)
        J[:, :, start + a * b:ends[i]] = dZ
        if i > 1:
            dZ = (dZ @ params[f"W{i}"].T) * Ds[i - 1][:, None, :]
    return J.reshape(N * m, ends[-1])


def autograd_jacobian(params: Params, X: Array, *, activation: str = "sigmoid",
                      output: str = "softplus") -> Array:
    """Reference for :func:`jacobian`, computed by ``autograd.jacobian`` of the flat map."""
    check_activation(activation)
    check_activation(output, "output")
    X = check_data(X, sizes=check_params(params))

    def outputs(vector):
        return np.reshape(forward(unflatten(vector, params), X, activation, output), (-1,))

    return _ag_jacobian(outputs)(flatten(params))
